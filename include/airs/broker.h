/*
 * broker.h - topics (pub-sub) and request/reply. Pools, runtime statistics
 * and the dead-letter and event hooks are in airs.h. Included by <airs/airs.h>;
 * read its conventions (status, ownership, thread tags) first.
 */
#ifndef AIRS_BROKER_H
#define AIRS_BROKER_H

#include "airs/airs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Topics. A topic is a name (1..AIRS_NAME_MAX bytes) with a set of
 * subscriber pids; it exists while it has subscribers. A subscriber that
 * ends is removed automatically.
 * ---------------------------------------------------------------------- */

/* Subscribes `pid` to `topic` (copied). Subscribing twice is the same as
 * once. ENOPROC: pid not alive. EINVAL: NULL rt/topic, empty or too long
 * name. [any thread] */
AIRS_API airs_status airs_subscribe(airs_runtime* rt, const char* topic,
                                    airs_pid pid);

/* Removes the subscription. ENOTFOUND: pid is not subscribed to topic.
 * [any thread] */
AIRS_API airs_status airs_unsubscribe(airs_runtime* rt, const char* topic,
                                      airs_pid pid);

/* Delivers one message of type `type` carrying `payload` (shared: each
 * subscriber's message holds a reference, no copy) to every subscriber of
 * `topic`. The caller keeps its own reference. Order is FIFO per
 * publisher and subscriber. The sender of each message is the calling
 * process inside a callback, else 0. *delivered (may be NULL) gets the
 * number of subscribers reached. A topic with no subscribers: the message
 * goes to the dead-letter hook (AIRS_DEAD_LETTER_NO_SUBSCRIBERS) and the
 * call returns AIRS_OK with *delivered = 0. A subscriber whose mailbox is
 * full is skipped (its policy: FAIL and BLOCK count as dropped, the
 * message goes to the dead-letter hook as MAILBOX_FULL; a publish never
 * blocks). EINVAL: NULL or bad argument, system type. [any thread] */
AIRS_API airs_status airs_publish(airs_runtime* rt, const char* topic,
                                  uint64_t type, airs_payload* payload,
                                  size_t* delivered);

/* Writes up to `capacity` subscriber pids to out, in no particular order
 * (it changes as subscribers come and go), and their number to *count.
 * EINVAL: NULL count, NULL out with capacity > 0. A topic nobody
 * subscribes to has 0. [any thread] */
AIRS_API airs_status airs_topic_subscribers(airs_runtime* rt, const char* topic,
                                            airs_pid* out, size_t capacity,
                                            size_t* count);

/* ------------------------------------------------------------------------
 * Request/reply. A request is a message with a fresh correlation id,
 * registered before it is sent. Exactly one of these happens: the reply
 * reaches the requester, or the timeout does. A reply that comes after
 * the timeout is dropped (dead-letter hook, AIRS_DEAD_LETTER_LATE_REPLY),
 * never delivered.
 * ---------------------------------------------------------------------- */

/* A request timed out: sender 0, correlation = the request's id. */
#define AIRS_MSG_TIMEOUT (AIRS_MSG_SYSTEM_BASE + 3)

/* From inside an actor: sends `msg` (consumed on AIRS_OK; on failure the
 * caller keeps it unchanged) to `to` as a request and returns at once with its
 * id in *correlation. Later the caller receives either the reply (a message
 * whose correlation is that id) or, after `timeout_ms` (1..2^31-1), an
 * AIRS_MSG_TIMEOUT message with that id. ENOPROC: `to` is not alive (nothing is
 * registered). EFULL etc. as airs_send_msg. EINVAL: NULL argument, timeout 0.
 * [inside a callback] */
AIRS_API airs_status airs_request(airs_ctx* ctx, airs_pid to, airs_msg* msg,
                                  uint32_t timeout_ms, uint64_t* correlation);

/* From a thread that is not an actor: sends `msg` as a request and blocks
 * until the reply arrives (*reply gets it; the caller frees it with
 * airs_msg_free) or `timeout_ms` passes (ETIMEDOUT; a later reply is
 * dropped). `msg` is consumed once it is sent: on AIRS_OK, ETIMEDOUT and
 * EEXITED. On every other status it was not sent and the caller keeps it
 * unchanged. In host-driven mode the waiting thread polls the runtime.
 * As gen_server:call, the call watches its callee: EEXITED, at once, when
 * the callee ends before it replies (the message gives its exit reason).
 * A callee on another node (transport.h) is watched by a monitor that a
 * hidden process of the runtime, the call watcher (spawned when first
 * needed), holds once the call has waited 10 ms (most calls are answered
 * sooner, and a monitor and demonitor each would double their traffic):
 * EEXITED also when its node is lost (reason noconnection); a callee that
 * ended within those 10 ms without replying is reported as noproc.
 * ENOPROC: `to` is not alive now. EFULL: the callee's mailbox is full (with
 * policy BLOCK: it stayed full for its block timeout). EINVAL: NULL argument,
 * timeout 0. ESTATE: inside a callback. [not inside a callback] */
AIRS_API airs_status airs_call(airs_runtime* rt, airs_pid to, airs_msg* msg,
                               uint32_t timeout_ms, airs_msg** reply);

/* Answers `request` (a message the caller received, with a correlation
 * id) with `reply` (consumed on AIRS_OK): sent to the request's sender
 * with the request's correlation id. If the requester no longer waits
 * (timed out, or ended) the reply is dropped and the call still returns
 * AIRS_OK: a late reply is not an error for the replier. The reply goes
 * past the requester's mailbox capacity. EINVAL: NULL argument, a request
 * with no correlation id. [inside a callback] */
AIRS_API airs_status airs_reply(airs_ctx* ctx, const airs_msg* request,
                                airs_msg* reply);

/* Answers a request later, from another callback (gen_server:reply): as
 * airs_reply, for a request whose correlation id (airs_msg_correlation of
 * the request) the caller kept, say while a job did the work. The reply
 * goes to whoever made that request, whichever process calls this.
 * EINVAL: NULL reply, correlation 0. [inside a callback] */
AIRS_API airs_status airs_reply_to(airs_ctx* ctx, uint64_t correlation,
                                   airs_msg* reply);

#ifdef __cplusplus
}
#endif

#endif /* AIRS_BROKER_H */
