/*
 * transport.h - the seam between a runtime and a transport: the code that
 * carries messages to processes of other runtimes (in other processes, on
 * other machines) and brings theirs in. libairs_node (node.h) is one,
 * over NATS; a host may write its own. Read airs.h's conventions (status,
 * ownership, thread tags) first.
 *
 * Pids across runtimes. The top 16 bits of a pid are its runtime's tag
 * (airs_pid_tag). Within one copy of the library the tags of live runtimes
 * differ; runtimes that exchange messages through a transport must have
 * tags that differ across all of them, which the transport arranges by
 * fixing each one's tag (AIRS_CFG_PID_TAG) when it is made. A pid may then
 * travel anywhere, inside message data too, and still name one process.
 *
 * Outbound. With a transport installed on a runtime, a send (airs_send,
 * airs_send_msg, airs_ctx_send, airs_ctx_send_msg, and requests) to a pid
 * whose tag is not the runtime's own goes to the transport's send
 * function, on the sending thread, inside the send call. The message's
 * sender (airs_msg_sender) is set as for a local send. Without a
 * transport, such a send fails with AIRS_ENOPROC, as before.
 *
 * Inbound. The transport hands each message that arrives to
 * airs_transport_deliver, with its remote sender: the receiver sees that
 * pid as airs_msg_sender, and a send to it goes back out through the
 * transport.
 *
 * Semantics are Erlang's: delivery is at most once; messages from one
 * sender to one receiver keep their order if the transport keeps the order
 * of the calls it gets from one thread and delivers them in that order
 * (libairs_node does). A message the transport cannot deliver (its node
 * is unreachable) is a dead letter (airs_transport_drop): counted, seen by
 * the dead-letter hook; the send that gave it is not failed, as an Erlang
 * send to a node that is down is not.
 *
 * Requests. A request to a remote pid (airs_request, airs_call) goes out
 * as a message of kind AIRS_TRANSPORT_REQUEST; its correlation id carries
 * the requester's runtime tag in its top 16 bits, as a pid does. The
 * callee's airs_reply (or airs_reply_to) sends the answer, of kind
 * AIRS_TRANSPORT_REPLY, to that runtime, whose transport hands it to
 * airs_transport_deliver_reply; the call or request there completes as a
 * local one does. airs_call watches a remote callee with a monitor (see
 * broker.h): its end, or the loss of its runtime, ends the call.
 *
 * Signals. Links, monitors and exit signals (airs_link, airs_monitor,
 * airs_send_exit, airs_kill) reach a remote pid as messages of kind
 * AIRS_TRANSPORT_SIGNAL, in order with the messages of the same sender:
 * the transport carries what airs_transport_signal_read gives and hands
 * it to airs_transport_deliver_signal on the other side, which answers as
 * a local process would (a link to a process that is gone gets its exit
 * signal back, through the transport).
 *
 * Losing a runtime. When the transport declares the runtime of a tag
 * unreachable (its node is silent, has left, or restarted), it calls
 * airs_transport_node_down: each link to one of its processes breaks
 * with an exit signal AIRS_EXIT_NOCONNECTION, each monitor of one gets
 * its DOWN with AIRS_EXIT_NOCONNECTION, and the monitors its processes
 * held here are forgotten. Each process hears this after everything the
 * transport delivered to it from that runtime before the call; a
 * transport delivers nothing more from that runtime until it is reached
 * again. A link or monitor whose request the transport drops because the
 * node is down (airs_transport_drop, NOCONNECTION) is answered at once
 * the same way. Exactly one DOWN per monitor: whichever of the real one
 * and the NOCONNECTION one reaches the process first, the other is
 * dropped.
 *
 * Topics. A transport with topic_interest and publish carries airs_publish
 * to the other runtimes that have subscribers to the topic (libairs_node:
 * one NATS subject per topic): a publish reaches the subscribers of every
 * runtime. Order is FIFO per publisher and subscriber among publishes (not
 * with the publisher's plain sends, which travel apart).
 *
 * Timers. airs_send_after may aim at a remote pid: when the timer fires,
 * its message goes to the transport (a TIMER dead letter if refused).
 *
 * Pools. A transport with pool_member carries pool membership across, as
 * Erlang's pg does: a process joins a pool on its own runtime, and the
 * other runtimes learn of it (airs_transport_pool_member) and count it in
 * airs_pool_pick and airs_pool_members until it leaves, ends, or its
 * runtime is lost (airs_transport_node_down). Between the join and the
 * news reaching another runtime, that runtime does not see the member yet
 * (pg's eventual consistency); a pick there may still name a member that
 * has just ended on its runtime (the send is a dead letter there).
 */
#ifndef AIRS_TRANSPORT_H
#define AIRS_TRANSPORT_H

#include "airs/airs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The runtime tag of a pid: its top 16 bits (0 for pid 0). [any thread] */
AIRS_API uint32_t airs_pid_tag(airs_pid pid);

/* The runtime's own pid tag, 1..65535, to *tag. EINVAL: NULL argument.
 * ESTATE: runtime freed. [any thread] */
AIRS_API airs_status airs_runtime_pid_tag(airs_runtime* rt, uint32_t* tag);

#define AIRS_TRANSPORT_VERSION 1

/* What a message handed to a transport is. */
typedef enum airs_transport_kind {
  AIRS_TRANSPORT_MESSAGE = 0, /* a message for `to` */
  AIRS_TRANSPORT_REQUEST = 1, /* a request for `to` (its correlation id
                                 names it): a transport that knows that
                                 `to`'s node is down refuses it with
                                 AIRS_ENOPROC, so that a call fails at once
                                 rather than at its timeout */
  AIRS_TRANSPORT_REPLY = 2,   /* the reply to request airs_msg_correlation()
                                 made on the runtime whose tag `to` carries
                                 (`to` is that tag in the top 16 bits, 0
                                 below): airs_transport_deliver_reply there */
  AIRS_TRANSPORT_SIGNAL = 3   /* a link, monitor or exit signal for `to`:
                                 airs_transport_signal_read says what to
                                 carry, airs_transport_deliver_signal
                                 delivers it there */
} airs_transport_kind;

/* The signals that cross runtimes, as a transport carries them (the
 * numbers are part of the wire: they never change). */
typedef enum airs_transport_signal_code {
  AIRS_TRANSPORT_SIG_EXIT = 1,       /* airs_send_exit (KILLED: airs_kill) */
  AIRS_TRANSPORT_SIG_LINK_EXIT = 2,  /* a linked process ended */
  AIRS_TRANSPORT_SIG_LINK = 3,       /* the sender links to `to` */
  AIRS_TRANSPORT_SIG_UNLINK = 4,     /* the sender unlinks; ref: its id */
  AIRS_TRANSPORT_SIG_UNLINK_ACK = 5, /* `to`'s unlink `ref` was seen */
  AIRS_TRANSPORT_SIG_MONITOR = 6,    /* the sender monitors `to`: ref */
  AIRS_TRANSPORT_SIG_DEMONITOR = 7,  /* the sender drops monitor ref */
  AIRS_TRANSPORT_SIG_DOWN = 8        /* the monitored sender ended: ref */
} airs_transport_signal_code;

/* A signal as a transport carries it: what to send across with the
 * message's sender and receiver.
 *
 * Fixed, never grows: transports built against it write it to their wire
 * as it is. It carries every field of the signals above; a signal that
 * needed more would come with a versioned struct and a new pair of
 * functions, beside these, so that such transports keep working. */
typedef struct airs_transport_signal {
  uint32_t code;      /* an airs_transport_signal_code */
  int32_t exit_kind;  /* the reason's airs_exit_kind (EXIT, LINK_EXIT, DOWN) */
  int32_t exit_code;  /* the reason's code */
  uint32_t text_size; /* bytes of text, without the NUL */
  const char* text;   /* the reason's text, NUL-terminated ("" if none);
                         borrowed from the message */
  uint64_t ref;       /* the monitor ref or unlink id, or 0 */
} airs_transport_signal;

/* Reads the signal that a message of kind AIRS_TRANSPORT_SIGNAL carries
 * into *out. EINVAL: NULL argument, or not such a message. [any thread,
 * while the transport owns msg] */
AIRS_API airs_status airs_transport_signal_read(const airs_msg* msg,
                                                airs_transport_signal* out);

/* The kind of a message a transport's send was given (MESSAGE for any
 * other message, and for NULL). [any thread] */
AIRS_API airs_transport_kind airs_transport_msg_kind(const airs_msg* msg);

typedef struct airs_transport {
  uint32_t version; /* AIRS_TRANSPORT_VERSION */
  uint32_t size;    /* sizeof(airs_transport) */
  /* A message for `to`, a pid of another runtime. Runs on the sending
   * thread (a worker, a host thread, a polling thread), inside the send:
   * it must not block for long and must not call airs_transport_set.
   * Return AIRS_OK to take the message: the transport then owns msg and
   * frees it (airs_msg_free, or airs_transport_drop), now or later, on
   * any thread. Any other status fails the send with that status and
   * leaves msg with the sender; AIRS_ENOPROC (no runtime the transport
   * knows has that tag, or the one that had it is gone) also gives the
   * message to the dead-letter hook as a send to an ended pid does. */
  airs_status (*send)(void* user_data, airs_pid to, airs_msg* msg);
  /* Optional (NULL: none). The messages handed to send may leave now: a
   * transport that gathers them into frames sends what it holds. Called
   * on the sending thread when the turn of the process that sent them
   * ends (so a turn's messages to one node can leave as one frame), and
   * right after a send from outside any process (or from an init). Same
   * rules as send. */
  void (*flush)(void* user_data);
  /* Topics across runtimes (broker.h). Both optional (NULL, or a size
   * that stops before them: topics stay local).
   * topic_interest: `topic` (len bytes, not NUL-terminated) got its first
   * local subscriber (on = 1) or lost its last (on = 0), so the transport
   * may bring in what other runtimes publish to it. Called under the
   * broker's lock, in order for each topic: it must not call the runtime
   * and must not block for long. An `on` may repeat (airs_transport_set
   * replays the topics that have subscribers): keep a set.
   * publish: airs_publish here published msg (its type, data and sender)
   * to `topic`, after its local subscribers got it; the transport carries
   * it to the other runtimes whose processes subscribe, which deliver it
   * with airs_transport_deliver_publish. Same rules as send: AIRS_OK
   * takes msg; any other status leaves it with the runtime (no error for
   * the publisher: it reached whom it could). */
  void (*topic_interest)(void* user_data, const char* topic, size_t len,
                         int on);
  airs_status (*publish)(void* user_data, const char* topic, size_t len,
                         airs_msg* msg);
  /* Pools across runtimes (see "Pools" above). Optional (NULL, or a size
   * that stops before it: pools stay local). Process `pid` of this
   * runtime joined pool `pool` (on = 1) or left it (on = 0: a leave, or
   * its end). Called under the pools' lock, in order for each pool and
   * pid: it must not call the runtime and must not block for long.
   * airs_transport_set replays every local member (on = 1), so an `on` may
   * repeat. A join: AIRS_OK, or AIRS_ENOMEM to fail it (the process stays
   * out of the pool). A leave cannot fail (its status is ignored). */
  airs_status (*pool_member)(void* user_data, const char* pool, airs_pid pid,
                             int on);
} airs_transport;

/* Installs a transport on `rt` (t != NULL; the struct is copied, up to
 * t->size bytes: fields past it are NULL) or removes it (t == NULL). When
 * this returns, no call is still inside the transport it replaced, so
 * that transport's user_data may be freed; a new one with topic_interest
 * has been told of every topic that has subscribers. EINVAL: NULL rt,
 * bad version, a size below the fields up to flush, NULL send. ESTATE:
 * runtime freed. [any thread, but not from inside a transport's call] */
AIRS_API airs_status airs_transport_set(airs_runtime* rt,
                                        const airs_transport* t,
                                        void* user_data);

/* Delivers a message that came from another runtime to the local process
 * `to`: a copy of `size` bytes of `data` under `type`, with sender `from`
 * (a remote pid; 0 for none), the given priority and correlation id. It
 * never waits: a bounded mailbox that is full refuses it at once, as
 * DROP_NEWEST does, whatever its policy (a transport's thread carries the
 * mail of every process, and a BLOCK wait there would hold up all of it).
 * ENOPROC: `to` is not alive. EFULL: its mailbox is full. Both are dead
 * letters (the hook sees the message: NOPROC, MAILBOX_FULL). EINVAL: NULL
 * rt, NULL data with size > 0, a type in the system range, a bad
 * priority. ENOMEM. ESTATE. [any thread] */
AIRS_API airs_status airs_transport_deliver(airs_runtime* rt, airs_pid from,
                                            airs_pid to, uint64_t type,
                                            const void* data, size_t size,
                                            airs_priority priority,
                                            uint64_t correlation);

/* Delivers a reply that came from another runtime (kind
 * AIRS_TRANSPORT_REPLY) to the request `correlation` made here, with
 * sender `from` (the callee): the requester's reply callback gets it, or
 * the airs_call waiting for it returns it. ENOTFOUND: no such request is
 * waiting (it timed out, or never was): the reply is a LATE_REPLY dead
 * letter. EINVAL: NULL rt, NULL data with size > 0, a type in the system
 * range. ENOMEM. ESTATE. [any thread] */
AIRS_API airs_status airs_transport_deliver_reply(
    airs_runtime* rt, airs_pid from, uint64_t correlation, uint64_t type,
    const void* data, size_t size);

/* Delivers a signal that came from another runtime (kind
 * AIRS_TRANSPORT_SIGNAL, read there with airs_transport_signal_read) to
 * the local process `to`, from `from` (a remote pid). A link or monitor
 * for a process that is gone is answered as a local one is (its exit
 * signal or DOWN goes back to `from`); any other signal for it vanishes.
 * EINVAL: NULL rt or sig, an unknown code, an exit kind out of range,
 * `from` a pid of this runtime, or 0 for anything but an EXIT (which may
 * come from outside any process). ENOMEM. ESTATE. [any thread] */
AIRS_API airs_status
airs_transport_deliver_signal(airs_runtime* rt, airs_pid from, airs_pid to,
                              const airs_transport_signal* sig);

/* Delivers a publish that came from another runtime (see the transport's
 * publish) to the local subscribers of `topic` (len bytes): a copy of
 * `size` bytes of `data` under `type`, with sender `from` (a remote pid,
 * or 0), as airs_publish does, but never on to other runtimes. *delivered
 * (may be NULL) gets how many subscribers it reached; none: a
 * NO_SUBSCRIBERS dead letter. EINVAL: NULL rt or topic, a bad topic name,
 * NULL data with size > 0, a system type. ENOMEM. ESTATE. [any thread] */
AIRS_API airs_status airs_transport_deliver_publish(
    airs_runtime* rt, airs_pid from, const char* topic, size_t len,
    uint64_t type, const void* data, size_t size, size_t* delivered);

/* Process `pid` of another runtime joined (on = 1) or left (on = 0) pool
 * `pool` there (see the transport's pool_member): airs_pool_pick and
 * airs_pool_members here count it from now on, until it leaves or its
 * runtime is lost (airs_transport_node_down forgets every member it had).
 * Joining twice is joining once; a leave for a pid that is not a member
 * does nothing. EINVAL: NULL rt, a bad pool name, pid 0 or a pid of this
 * runtime, `on` not 0 or 1. ENOMEM. ESTATE. [any thread; not inside the
 * transport's pool_member] */
AIRS_API airs_status airs_transport_pool_member(airs_runtime* rt,
                                                const char* pool, airs_pid pid,
                                                int on);

/* The runtime with pid tag `tag` cannot be reached any more (see "Losing
 * a runtime" above): every local process with a link to one of its
 * processes gets an exit signal AIRS_EXIT_NOCONNECTION, every monitor of
 * one of its processes a DOWN AIRS_EXIT_NOCONNECTION, the monitors
 * its processes held here are dropped, and its processes leave every pool
 * here. Returns once each such process
 * has the news in its mailbox. EINVAL: NULL rt, tag 0 or this runtime's
 * own. ENOMEM: some processes could not be told (retry). ESTATE.
 * [any thread; not inside a transport's send] */
AIRS_API airs_status airs_transport_node_down(airs_runtime* rt, uint32_t tag);

/* A message the transport took and cannot deliver: counts it in
 * airs_runtime_stats.dead_letters, gives it to the dead-letter hook with
 * `reason` (AIRS_DEAD_LETTER_NOCONNECTION for an unreachable node), then
 * frees it. A signal is not a dead letter: a link or monitor request is
 * answered as for a node that is down (NOCONNECTION) or a pid that is
 * gone (any other reason), any other signal is freed. Takes msg whatever the
 * status. EINVAL: NULL rt or msg. ESTATE: runtime freed (msg freed all the
 * same). [any thread] */
AIRS_API airs_status airs_transport_drop(airs_runtime* rt, airs_msg* msg,
                                         airs_dead_letter_reason reason);

#ifdef __cplusplus
}
#endif

#endif /* AIRS_TRANSPORT_H */
