/*
 * node.h - a runtime as a node of a cluster, over NATS: membership and
 * failure detection. Read airs.h's conventions (status, ownership, thread
 * tags) first.
 *
 * This is libairs_node, a library of its own (meson option `node`, built
 * when cnats is found): libairs itself never links cnats, whose
 * process-global state would keep it from being unloaded. Link with
 * -lairs_node -lairs.
 *
 * A node is a runtime attached to a NATS server (Debian's nats-server,
 * 2.2 or newer) under a name unique in its cluster. Each attach is a new
 * incarnation, a 64-bit number never used before: a node that restarts
 * under the same name is another incarnation, and its peers learn that the
 * old one is gone.
 *
 * Nodes find each other by heartbeats: every node publishes one every
 * heartbeat_ms on a subject of its own (<cluster>.hb, never behind data)
 * and hears everybody's. A peer heard for the first time is up; a peer
 * silent for down_after_ms (about 1 s by default) is down; a peer that
 * detaches says so and is down at once. Processes that monitor the nodes
 * (airs_node_monitor, Erlang's net_kernel:monitor_nodes) get one
 * AIRS_MSG_NODE_UP and one AIRS_MSG_NODE_DOWN per change, in that order
 * for each peer. As in Erlang, a peer that comes back after being
 * declared down (a node that was stopped, or cut off, then resumed) is up
 * again: a new AIRS_MSG_NODE_UP, with the same incarnation.
 *
 * Threads. On a runtime with workers the NATS connection's socket is
 * driven by the runtime's reactor (airs_fd_watch_fn): it is read on the
 * reactor's thread, which delivers the messages from other nodes into the
 * mailboxes right there, also while every worker is in a long turn; the node
 * writes its batches, replies and heartbeats on the thread that makes
 * them, the reactor finishing what a full socket refuses (a sender waits
 * once 8 MiB are unwritten). cnats keeps a delivery thread for each of
 * the node's other subscriptions (heartbeats, so that they never wait
 * behind data; claims, global names, topics), its library's timer and
 * callback threads, and a thread while it reconnects.
 * A host-driven runtime (AIRS_CFG_WORKERS = 0) runs only inside
 * airs_runtime_poll, and a host blocked in attach, airs_node_whereis or a
 * first send to a node not heard yet would wait for a reply nobody reads:
 * there cnats reads the socket on a thread of its own, as it does by
 * itself.
 *
 * When the node loses its NATS connection it reconnects (every 100 ms,
 * for ever); peers not heard again within reconnect_grace_ms of the loss
 * are declared down (reason AIRS_NODE_DOWN_DISCONNECTED). A node that was
 * itself stopped (SIGSTOP, a debugger, a long swap-in) does not declare
 * its peers down for the silence it slept through: on resuming it gives
 * them down_after_ms again.
 *
 * Messages. An attached node is its runtime's transport (transport.h):
 * airs_send, airs_send_msg, airs_ctx_send and airs_ctx_send_msg reach a
 * pid of any node of the cluster with the same calls as a local pid, and
 * the receiver sees the sender's pid and answers it with a plain send.
 * airs_call and airs_request work too; the callee's airs_reply (or
 * airs_reply_to) goes back to the requester's node. A call to a node that
 * is down or gone fails at once with AIRS_ENOPROC, not at its timeout; a
 * call whose callee ends without replying, or whose callee's node is
 * declared down while it waits, fails at once with AIRS_EEXITED and the
 * reason (noconnection for a node lost), as gen_server:call exits.
 * Pids may travel inside message data. For that, the pid tag of each
 * node's runtime must be unique in the cluster: attach claims it, as it
 * claims the name. The semantics are Erlang's:
 *   - at most once; in order per sender and receiver pair;
 *   - a send to a pid whose node is down (not heard for down_after_ms, or
 *     this node cut off) returns AIRS_OK and the message is a dead letter
 *     (AIRS_DEAD_LETTER_NOCONNECTION), as an Erlang send to a node that is
 *     down is silently lost;
 *   - a pid whose tag no node holds (never known, or its node detached or
 *     came back as a new incarnation) gets AIRS_ENOPROC at once: a
 *     restarted node never takes messages meant for its old processes.
 *     The first send to a node not heard yet asks the cluster who holds
 *     the tag (one round trip to the server; 100 ms at most, for a holder
 *     that does not answer), as Erlang connects on the first send;
 *   - a message to a live node's process that has ended is a dead letter
 *     on that node;
 *   - a message lost in flight (in a nats-server that restarts, or while
 *     a node reconnects) is a NOCONNECTION dead letter on the receiving
 *     node, which sees the gap in the sender's numbering; since signals
 *     may be lost with it, the two nodes then break their ties as for a
 *     node declared down (noconnection), and their node monitors see the
 *     peer DOWN and UP again. Every message sent is received, or counted
 *     as a dead letter on one side (tests/node/test_restart.c);
 *   - a message bigger than a batch (64 KiB) travels in fragments of
 *     32 KiB, which other messages may come between, so a big message
 *     never holds up small ones (and the server's max_payload, 1 MiB for
 *     nats-server, is no limit); over 64 MiB fails with AIRS_EINVAL.
 *
 * Links, monitors and exit signals. airs_link, airs_unlink, airs_monitor,
 * airs_demonitor, airs_send_exit and airs_kill take a pid of any node, in
 * order with the messages of the same sender. As in Erlang:
 *   - a DOWN or exit signal carries the reason the process ended with;
 *     noproc if it (or its node's incarnation) is gone;
 *   - when a node is declared down (silent for down_after_ms, detached,
 *     restarted, or this node cut off past its grace), each monitor of
 *     one of its processes gets exactly one DOWN with
 *     AIRS_EXIT_NOCONNECTION, each link an exit signal
 *     AIRS_EXIT_NOCONNECTION, and its monitors of ours are forgotten; a
 *     link or monitor made while its node is down gets the same at once.
 *     Each process hears this after every signal already received from
 *     that node. 100,000 monitors of a node killed with SIGKILL all get
 *     their DOWN within about down_after_ms (airs-bench-node remote_down);
 *   - nothing more is delivered from a node declared down until it is
 *     heard again; what it sent meanwhile is lost (a NOCONNECTION dead
 *     letter here). A node that was only silent (stopped, cut off) and is
 *     heard again is told that it was declared down, and breaks its own
 *     ties to this node the same way, so both sides agree, as both ends of
 *     an Erlang connection see it drop. (When both sides declared each
 *     other down, a tie made within one round trip of their hearing each
 *     other again may be broken a second time.)
 *   - detaching breaks every tie to the other nodes (noconnection).
 *
 * Topics. airs_publish reaches the subscribers of every node (broker.h):
 * a node subscribes to a NATS subject per topic while it has local
 * subscribers, and a publish goes out on it once. Order is FIFO per
 * publisher and subscriber among publishes. A publish with no subscriber
 * on its own node is no dead letter while attached; a subscriber hears
 * other nodes' publishes once its node's first subscription to the topic
 * has reached the server (one round trip).
 * Timers (airs_send_after) may aim at a process of another node.
 *
 * Pools span the cluster as Erlang's pg groups do (airs_pool_*): a
 * process joins and leaves a pool on its own node, and every node counts
 * it in airs_pool_pick and airs_pool_members once the news arrives (it
 * travels in order with the member's messages, and leaves with them, at
 * the latest with the next heartbeat). A node that is declared
 * down, detaches or restarts takes its members out of every pool of the
 * others; when it is heard again, it sends them its members anew. A pick
 * may still name a member that has just ended on its node: the message
 * is then a dead letter there.
 *
 * Efficiency: one subject per node. The messages a process's turn sends
 * to one node leave together, as one NATS message of up to 64 KiB, when
 * the turn ends (or when the batch is full); a send from outside any
 * process, a request and a reply leave at once.
 */
#ifndef AIRS_NODE_H
#define AIRS_NODE_H

#include "airs/airs.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct airs_node airs_node;

/* Longest node or cluster name, in bytes, NUL excluded. A name is made
 * of ASCII letters, digits, '_' and '-' (it is a NATS subject token). */
#define AIRS_NODE_NAME_MAX 63

/* Messages to the processes that monitor the nodes, data = an
 * airs_node_event, sender 0. In the range of the system services (after
 * the system actors' in AIRS_MSG_OSL_BASE's range). */
#define AIRS_MSG_NODE_BASE (AIRS_MSG_OSL_BASE + 0x1000)
#define AIRS_MSG_NODE_UP (AIRS_MSG_NODE_BASE + 1)
#define AIRS_MSG_NODE_DOWN (AIRS_MSG_NODE_BASE + 2)

/* Why a peer is down. */
typedef enum airs_node_down_reason {
  AIRS_NODE_DOWN_NONE = 0,         /* (AIRS_MSG_NODE_UP) */
  AIRS_NODE_DOWN_NOCONNECTION = 1, /* silent for down_after_ms */
  AIRS_NODE_DOWN_LEFT = 2,         /* it detached */
  AIRS_NODE_DOWN_RESTARTED = 3,    /* a new incarnation of it appeared */
  AIRS_NODE_DOWN_DISCONNECTED = 4  /* this node lost NATS for longer
                                      than reconnect_grace_ms */
} airs_node_down_reason;

/* A peer: its name and incarnation. */
typedef struct airs_node_peer {
  char name[AIRS_NODE_NAME_MAX + 1]; /* NUL-terminated */
  uint64_t incarnation;
} airs_node_peer;

/* The data of AIRS_MSG_NODE_UP and AIRS_MSG_NODE_DOWN. */
typedef struct airs_node_event {
  airs_node_peer peer;
  int32_t reason; /* an airs_node_down_reason; NONE for UP */
  uint32_t reserved;
} airs_node_event;

#define AIRS_NODE_OPTS_VERSION 1

typedef struct airs_node_opts {
  uint32_t version; /* AIRS_NODE_OPTS_VERSION */
  uint32_t size;    /* sizeof(airs_node_opts) */
  /* The NATS server, e.g. "nats://127.0.0.1:4222". Required. */
  const char* url;
  /* This node's name, unique in the cluster. Required. */
  const char* name;
  /* The cluster: the first token of every subject, so that clusters
   * share a server without hearing each other. Default "airs". */
  const char* cluster;
  /* How often a heartbeat goes out; default 100, 10..10000. */
  uint32_t heartbeat_ms;
  /* Silence after which a peer is down; default 1000, at least twice
   * heartbeat_ms, at most 600000. */
  uint32_t down_after_ms;
  /* How long a lost NATS connection may take to come back before every
   * peer is declared down; default 2000, at most 600000. */
  uint32_t reconnect_grace_ms;
  /* How long attach waits for the server; default 2000, 1..600000. */
  uint32_t connect_timeout_ms;
} airs_node_opts;

/* Fills *opts with the defaults (no url, no name). EINVAL: NULL.
 * [any thread] */
AIRS_API airs_status airs_node_opts_init(airs_node_opts* opts);

/* Attaches `rt` to the NATS server at opts->url as node opts->name: it
 * connects (waiting up to connect_timeout_ms), checks that no live node of
 * the cluster has the name, then starts heartbeats. *out gets the node,
 * which the caller frees with airs_node_detach before airs_runtime_free.
 * One node per runtime. The node installs itself as the runtime's
 * transport (transport.h) and starts one hidden process in it, the
 * registrar of global names (it runs as any process does: in host-driven
 * mode, when the host polls).
 *
 * EINVAL: NULL argument, bad version or size, no url, a name or cluster
 * empty, too long or with a character outside [A-Za-z0-9_-], a number
 * out of range. EEXIST: a live node of the cluster has the name (or one
 * that does not answer: a stopped one; try again once it is down), or
 * holds the runtime's pid tag (make the runtime with AIRS_CFG_PID_TAG set
 * to another).
 * ESTATE: the runtime has a node already. EOS: the server
 * cannot be reached (the text says why). ENOMEM.
 * airs_node_last_error_message() says more. [not inside a callback] */
AIRS_API airs_status airs_node_attach(airs_runtime* rt,
                                      const airs_node_opts* opts,
                                      airs_node** out);

/* Leaves the cluster (peers get AIRS_MSG_NODE_DOWN with reason LEFT at
 * once), stops the heartbeats, closes the connection and frees the node.
 * NULL: nothing. Call it before airs_runtime_free of its runtime.
 * [not inside a callback; not from a callback of this node] */
AIRS_API void airs_node_detach(airs_node* node);

/* This node's name and incarnation. EINVAL: NULL. [any thread] */
AIRS_API airs_status airs_node_self(const airs_node* node, airs_node_peer* out);

/* on != 0: `pid` (a process of the node's runtime) gets
 * AIRS_MSG_NODE_UP and AIRS_MSG_NODE_DOWN from now on, starting with an
 * AIRS_MSG_NODE_UP for each peer up now; on = 0: no more. A process that
 * ends is forgotten. Monitoring twice is once. EINVAL: NULL node, pid 0.
 * ENOPROC: not a live process of the runtime. ENOTFOUND (on = 0): not
 * monitoring. [any thread] */
AIRS_API airs_status airs_node_monitor(airs_node* node, airs_pid pid, int on);

/* The peers up now: at most `cap` into out[], their number in *count
 * (which may be more than cap). EINVAL: NULL node or count, NULL out with
 * cap > 0. [any thread] */
AIRS_API airs_status airs_node_peers(airs_node* node, airs_node_peer* out,
                                     size_t cap, size_t* count);

/* ------------------------------------------------------------------------
 * Global names: one name, one process, in the whole cluster (Erlang's
 * global:register_name and global:whereis_name). A name is 1 to
 * AIRS_NODE_NAME_MAX characters of [A-Za-z0-9_-]. It is free again when
 * its process ends, when it is unregistered, or when its node detaches or
 * loses its connection (nobody answers for it any more).
 * ---------------------------------------------------------------------- */

/* Registers `pid`, a live process of the node's runtime, under `name` in
 * the cluster. It asks the cluster first and, once it holds the name,
 * asks again for a claimant that raced it (for about 50 ms), so that a
 * name never has two holders: two nodes registering one name at the same
 * moment may both get EEXIST. EEXIST: a process of some node has the name
 * (the message names the node), or one raced it. ENOPROC: not a live
 * process of this runtime. EINVAL: NULL node, a bad name, pid 0. EOS: the
 * server could not be asked. ENOMEM. [not inside a callback: it waits for
 * the cluster's answers] */
AIRS_API airs_status airs_node_register(airs_node* node, const char* name,
                                        airs_pid pid);

/* Gives up a name this node holds. ENOTFOUND: this node does not hold
 * it. EINVAL: NULL node or name. [any thread] */
AIRS_API airs_status airs_node_unregister(airs_node* node, const char* name);

/* The process registered under `name` anywhere in the cluster, to *out.
 * ENOTFOUND: nobody holds it. ETIMEDOUT: its holder did not answer within
 * timeout_ms (a stopped node). EINVAL: NULL argument, a bad name,
 * timeout 0. EOS. [not inside a callback: it waits for the answer; a
 * name this node holds is answered at once] */
AIRS_API airs_status airs_node_whereis(airs_node* node, const char* name,
                                       uint32_t timeout_ms, airs_pid* out);

/* Why the last failed airs_node_* call of this thread failed, or "".
 * Valid until the thread's next airs_node_* call. [any thread] */
AIRS_API const char* airs_node_last_error_message(void);

#ifdef __cplusplus
}
#endif

#endif /* AIRS_NODE_H */
