// node.hpp - one node: a runtime attached to NATS (node.h). What the
// files of node/ share.
//
// Threads. These touch a Node:
//   - the caller of the C API (attach, detach, self, monitor, peers);
//   - cnats's threads: the delivery thread of each subscription (heard()
//     for heartbeats, on_claim for name and tag claims; deliver() for
//     data on a host-driven runtime) and the connection event thread
//     (disconnected(), reconnected(), closed());
//   - the runtime's reactor (its thread, or a worker between turns),
//     reading and writing the connection's socket and calling deliver()
//     (loop.cpp), or cnats's reader thread on a host-driven runtime;
//   - any thread that sends to a remote pid: the runtime calls
//     transport_send() on it (airs/transport.h), inside the send;
//   - the node's own ticker thread (tick()): heartbeats out, silence in.
// Locks, in the order they may be taken:
//   notify_mu  (recursive) held while a batch of UP/DOWN messages is
//              decided and sent, so that each monitor gets a peer's UP
//              and DOWN in the order they happened; airs_send, under it,
//              may run the runtime's dead-letter hook, which may call
//              airs_node_monitor on this thread: hence recursive.
//   topics_mu  the topics this node subscribes to (topics.cpp); taken
//              under the runtime's broker lock (topic_interest), so
//              nothing under it calls the runtime.
//   pools_mu   this node's own pool members (pools.cpp); taken under the
//              runtime's pools lock (pool_member), so nothing under it
//              calls the runtime; an Outbound's mu is taken under it.
//   mu         the peer table, the routes, the monitors and the
//              connection state; never held across a call into cnats or
//              the runtime.
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "airs/node.h"
#include "airs/transport.h"

namespace airs::node {

using Clock = std::chrono::steady_clock;

struct Peer {
  uint64_t incarnation = 0;
  uint64_t replaced = 0;  // the incarnation this one replaced, if any
  uint32_t tag = 0;       // its runtime's pid tag
  Clock::time_point last_heard;
  bool up = false;
  // We declared it down while it may have heard nothing of it (silence,
  // our lost connection): when it is heard again, it gets a notice, so
  // that it breaks its ties to us too (see noticed()).
  bool declared_down = false;
};

// Where the pids of one runtime tag go: the data subject of the node that
// holds the tag. Made from a heartbeat, or from the first data frame of a
// node not heard yet (its reply subject), so that an answer never races
// the heartbeat that introduces its sender.
// The frames gathered for one node, published together (remote.cpp).
struct Outbound {
  explicit Outbound(std::string s) : subject(std::move(s)) {}
  const std::string subject;          // the node's data subject
  std::mutex mu;                      // a leaf: held across the publish
  std::vector<unsigned char> frames;  // whole frames, in send order
  bool queued = false;                // in airs_node::dirty (under mu)
  // Messages and signals published to the node so far, and in the batch
  // being filled: the indexes in each batch's head (remote.cpp).
  uint64_t sent_msgs = 0, sent_sigs = 0;
  uint32_t batch_msgs = 0, batch_sigs = 0;
  // Batches that could not be published, kept for drop_failed(): their
  // dead letters run the runtime's hook, user code that must not run
  // under mu (it may send to this node). `any_failed` lets the senders
  // skip the look when there are none.
  std::vector<std::vector<unsigned char>> failed;  // under mu
  std::atomic<bool> any_failed{false};
};

// What we expect next from a node's stream of batches (remote.cpp).
struct Stream {
  uint64_t next_msg = 0, next_sig = 0;
};

struct Route {
  std::shared_ptr<Outbound> out;
  bool up = true;  // false: the node is down (sends are NOCONNECTION)
};

// A global name this node holds (airs_node_register).
struct Global {
  airs_pid pid = 0;
  natsSubscription* sub = nullptr;  // answers whereis on its subject
};

// A message coming in fragments: its size, and its bytes so far.
struct Partial {
  size_t total;
  std::vector<unsigned char> bytes;
};

// What the node counts for the metrics (metrics.cpp): relaxed atomics,
// written where the work is done, read by the metrics source.
struct Counters {
  std::atomic<uint64_t> batches_out{0};     // published to other nodes
  std::atomic<uint64_t> batches_failed{0};  // a publish that failed
  std::atomic<uint64_t> messages_out{0};    // user messages in those
  std::atomic<uint64_t> batches_in{0};      // from other nodes, delivered
  std::atomic<uint64_t> messages_in{0};     // user messages in those
  std::atomic<uint64_t> ups{0};             // peers that came up
  std::atomic<uint64_t> downs[5] = {};      // by airs_node_down_reason
};

// An UP or DOWN to send to every monitor.
struct Change {
  airs_node_event event;
};

// cnats's connection as an fd watch of the runtime (loop.cpp). node is
// set once; data is under read_mu; the fields after mu are under mu.
struct Loop {
  airs_node* node = nullptr;
  std::mutex write_mu;  // one writer at a time; cnats's lock under it
  // One reader at a time (loop.cpp), also across the watches of a
  // reconnect; so the data subscription, a synchronous one that the reads
  // drain, delivers its batches in order. Taken before write_mu.
  std::mutex read_mu;
  natsSubscription* data = nullptr;
  std::mutex mu;  // under cnats's connection lock; never across a cnats call
  natsConnection* nc = nullptr;   // set at cnats's first attach
  uint64_t watch = 0;             // the connected socket's watch; 0: none
  bool want_write = false;        // cnats has bytes to write
  std::vector<uint64_t> retired;  // watches of sockets cnats let go
  uint64_t stray = 0;             // one retired with no memory to list it
  int watches = 0;                // made and not yet ended (loop_free waits)
  std::condition_variable all_ended;  // watches fell to 0
};

}  // namespace airs::node

struct airs_node {
  airs_runtime* rt = nullptr;
  std::string name, cluster;
  uint64_t incarnation = 0;
  std::chrono::milliseconds heartbeat, down_after, grace;

  uint32_t tag = 0;          // the runtime's pid tag, claimed in the cluster
  std::string hb_subject;    // <cluster>.hb: everybody's heartbeats
  std::string self_subject;  // <cluster>.node.<name>: claims of the name
  std::string data_subject;  // <cluster>.node.<name>.data: messages to us
  std::string tag_subject;   // <cluster>.tag.<tag>: claims of the tag

  natsOptions* opts = nullptr;
  natsConnection* nc = nullptr;
  // The connection's socket in the runtime's reactor; nullptr: cnats's own
  // reader thread (a host-driven runtime: see loop.cpp).
  airs::node::Loop* loop = nullptr;
  natsSubscription* hb_sub = nullptr;
  natsSubscription* self_sub = nullptr;
  natsSubscription* data_sub = nullptr;
  natsSubscription* tag_sub = nullptr;
  bool transport_set = false;
  int64_t max_payload = 0;  // the server's, read at attach

  std::recursive_mutex notify_mu;
  std::mutex mu;
  std::condition_variable cv;  // the ticker's sleep; subs' and close's ends
  std::unordered_map<std::string, airs::node::Peer> peers;
  std::unordered_map<uint32_t, airs::node::Route> routes;  // by pid tag
  // Outbounds holding frames, for the next flush (dirty_mu, a leaf);
  // flush_mu lets one flush at a time walk `flushing`.
  std::mutex dirty_mu, flush_mu;
  std::vector<std::shared_ptr<airs::node::Outbound>> dirty, flushing;
  std::unordered_map<std::string, airs::node::Global> globals;  // by name
  // Messages coming in fragments, by source tag and fragment id (see
  // remote.cpp); under notify_mu.
  std::unordered_map<uint64_t, airs::node::Partial> partials;
  size_t partial_bytes = 0;  // their messages' sizes together (notify_mu)
  std::unordered_map<uint32_t, airs::node::Stream> streams;  // by tag
  std::atomic<uint64_t> next_fragment{1};  // our fragment ids
  std::mutex topics_mu;
  std::unordered_map<std::string, natsSubscription*> topics;  // by name
  std::mutex pools_mu;
  // Our own processes in each pool (pools.cpp), by pool name.
  std::unordered_map<std::string, std::unordered_set<airs_pid>> pools;
  airs_pid registrar = AIRS_NO_PID;  // watches the globally named processes
  std::unordered_set<airs_pid> monitors;
  bool stopping = false;
  bool connected = true;
  airs::node::Clock::time_point lost_at;  // when the connection was lost
  bool grace_spent = false;  // peers declared down for this loss already
  int subs_open = 0;         // subscriptions whose handlers may still run
  bool conn_closed = false;  // the closed callback ran
  uint64_t seq = 0;          // heartbeats sent (under mu)
  airs::node::Counters counters;
  bool metrics_added = false;  // our metrics source is the runtime's

  std::thread ticker;
};

namespace airs::node {

// The data subject of node `name` of n's cluster: <cluster>.node.<name>.data
// (remote.cpp). May throw bad_alloc.
inline std::string data_subject_of(const airs_node* n,
                                   const std::string& name) {
  return n->cluster + ".node." + name + ".data";
}

// --- peers.cpp: the peer table and the monitors ----------------------------

// A heartbeat from `peer`, whose runtime has pid tag `tag` (flags:
// kLeaving). [cnats delivery thread]
void heard(airs_node* n, const char* peer, uint64_t incarnation, uint32_t tag,
           uint32_t flags) noexcept;
// A node not heard yet sent us data: route `tag` to its data subject
// until its heartbeat says more. [where deliver() runs, or a thread whose
// question to the cluster named the node: resolve, whereis]
void learn_route(airs_node* n, uint32_t tag, const char* data_subject) noexcept;
// Sends a heartbeat, then declares down the peers silent too long.
// `stalled`: this thread slept through more than down_after (the process
// was stopped): give every peer down_after again instead. [ticker]
void tick(airs_node* n, bool stalled) noexcept;
// A notice from the node of pid tag `tag`: it declared us down, so its
// processes' ties to ours are broken; ours to its go too (the runtime's
// airs_transport_node_down), and the node monitors see it DOWN and UP
// again, as both ends of an Erlang connection see it drop. Ignored if we
// declared it down ourselves meanwhile. [where deliver() runs, under
// notify_mu]
void noticed(airs_node* n, uint32_t tag) noexcept;
// Batches from the node of pid tag `tag` were lost in flight: our ties to
// it break as if it had been declared down (airs_transport_node_down), its
// node monitors see it DOWN and UP, and it is told (a notice) so that it
// breaks its ties to us too. [under notify_mu, not mu]
void broke(airs_node* n, uint32_t tag) noexcept;
// Whether batches from the node of pid tag `tag` are delivered: not if
// we declared it down. A tag with no route yet gets one to `reply` (its
// data subject), if given. [under notify_mu, not mu]
bool source_up(airs_node* n, uint32_t tag, const char* reply) noexcept;
// Starts (UPs for the peers up now) or stops `pid`'s monitoring.
airs_status monitor(airs_node* n, airs_pid pid, bool on) noexcept;
// The connection's loss and return. [cnats event thread]
void disconnected(airs_node* n) noexcept;
void reconnected(airs_node* n) noexcept;

// --- metrics.cpp: the node's part of the runtime's metrics -----------------

// The metrics source (airs_metrics_fn) attach adds and detach removes:
// peers up, connection, batches and messages each way, peers up and down
// by reason. [the thread of airs_metrics_write; takes mu]
size_t write_metrics(void* node, char* buf, size_t capacity) noexcept;

// --- remote.cpp: messages between nodes -------------------------------------

// The transport the runtime calls for a send to a pid of another runtime
// (airs_transport.send): routes by the pid's tag, frames the message and
// publishes it on the data subject of the node that holds the tag.
// [any sending thread; takes mu briefly]
airs_status transport_send(void* node, airs_pid to, airs_msg* msg) noexcept;
// The transport's flush: publishes every outbound holding frames. [any
// thread; also the ticker, and detach]
void transport_flush(void* node) noexcept;
// A batch of frames from NATS: delivered into the runtime with their
// remote senders; `reply` (the sender node's data subject) makes a route
// for a tag not heard of yet. [the reactor's call of the connection
// (loop.cpp), or cnats's delivery thread of the data subscription; one at
// a time; takes notify_mu]
void deliver(airs_node* n, const void* data, size_t size,
             const char* reply) noexcept;
// Sends the node of `out` a notice that we declared it down (noticed()),
// ahead of anything sent to it later. [any thread holding no node lock but
// notify_mu]
void send_notice(airs_node* n, Outbound* out) noexcept;
// The frame kinds after the airs_transport_kind values: a notice, and a
// fragment of a message bigger than a batch (remote.cpp).
constexpr uint8_t kNotice = 4;
constexpr uint8_t kFragment = 5;
// Appends a pool frame (pools.cpp: `pid` joined or left `pool`) to out's
// batch, which the next flush publishes (never a publish here: this runs
// under the runtime's pools lock, and a failed publish runs the
// dead-letter hook). [takes out->mu; may throw bad_alloc]
void send_pool_frame(airs_node* n, const std::shared_ptr<Outbound>& out,
                     const char* pool, airs_pid pid, bool on);
// Publishes what out holds now. [takes out->mu; then drop_failed]
void publish_now(airs_node* n, Outbound* out) noexcept;
// Drops the batches of `out` that could not be published (each message a
// NOCONNECTION dead letter, each link or monitor request answered).
// [holding no node lock but notify_mu]
void drop_failed(airs_node* n, Outbound* out) noexcept;
constexpr uint8_t kPool = 6;
// Drops the messages node `source` had begun to send in fragments: each a
// NOCONNECTION dead letter. [under notify_mu: where its loss is decided]
void forget_partials(airs_node* n, uint32_t source) noexcept;

// A publish's batch (one frame, for no receiver) in *batch; false if it
// is over the server's payload limit. May throw bad_alloc. [any thread]
bool publish_frame(airs_node* n, const airs_msg* msg,
                   std::vector<unsigned char>* batch);
// A publish from another node on `topic`'s subject: to our subscribers,
// unless it is our own or its node is declared down. [cnats delivery
// thread of the topic's subscription; takes notify_mu]
void deliver_publish(airs_node* n, const std::string& topic, const void* data,
                     size_t size) noexcept;

// --- topics.cpp: topics across the cluster --------------------------------

// The transport's topic_interest: subscribes to the topic's subject while
// it has local subscribers. [under the runtime's broker lock]
void topic_interest(void* node, const char* topic, size_t len, int on) noexcept;
// The transport's publish: the publish on the topic's subject. [any thread]
airs_status transport_publish(void* node, const char* topic, size_t len,
                              airs_msg* msg) noexcept;
// Unsubscribes every topic; then, once the connection is closed, frees
// them. [detach, after the transport is removed]
void topics_unsubscribe(airs_node* n) noexcept;
void topics_destroy(airs_node* n) noexcept;

// --- pools.cpp: pools across the cluster -----------------------------------

// The transport's pool_member: keeps our own members, and tells every
// node that is up. [under the runtime's pools lock]
airs_status pool_member(void* node, const char* pool, airs_pid pid,
                        int on) noexcept;
// Sends every member of ours to the node of pid tag `tag` (after it forgot
// them, or when it is new), if its route is up. [holding no node lock but
// notify_mu]
void pools_snapshot(airs_node* n, uint32_t tag) noexcept;

// --- global.cpp: names across the cluster ---------------------------------

// Starts the registrar, the hidden process that watches the processes
// with global names (it forgets their names when they end). [attach]
airs_status globals_start(airs_node* n) noexcept;
// Stops the registrar and waits for its end. [detach, first]
void globals_stop(airs_node* n) noexcept;
// Unsubscribes every global name; then, once the connection is closed,
// frees them. [detach]
void globals_unsubscribe(airs_node* n) noexcept;
void globals_destroy(airs_node* n) noexcept;

// --- loop.cpp: the connection's socket in the runtime's reactor ----------

// Whether the runtime has workers: only then is the connection driven by
// its reactor. A host-driven runtime runs only inside airs_runtime_poll,
// and a host blocked in attach, whereis or a send that asks the cluster
// for a route would wait for a reply nobody reads: there cnats keeps its
// reader thread. [any thread]
bool use_reactor(airs_runtime* rt) noexcept;
// Publishes `data` on `subject` (with a reply subject, or NULL) and, on a
// reactor-driven connection, writes it out on this thread unless the
// socket is full. Every publish of the node's own goes through here.
// [any thread holding no cnats lock]
natsStatus publish(airs_node* n, const char* subject, const char* reply,
                   const void* data, size_t size) noexcept;
// Subscribes to our data subject: on a reactor-driven connection a
// synchronous subscription whose batches the reactor's calls deliver right
// after reading them (no hand-off to a delivery thread: 2 thread switches
// less per round trip), else cnats's delivery thread calls `handler`.
// [attach]
airs_status subscribe_data(airs_node* n, natsMsgHandler handler) noexcept;
// Makes n->loop and hands it to n->opts as cnats's event loop. [attach,
// before connecting]
natsStatus loop_set(airs_node* n) noexcept;
// Ends what cnats left watched (nothing once it detached) and frees
// n->loop; no watch's call runs once this returns. [teardown, after the
// connection is destroyed]
void loop_free(airs_node* n) noexcept;

// --- attach.cpp
// ----------------------------------------------------------------

// Subscribes `handler` (closure: the node) to `subject`, counted in
// subs_open until cnats says the subscription is done. [attach, or any
// thread holding no lock of the node]
airs_status subscribe(airs_node* n, natsSubscription** sub,
                      const std::string& subject,
                      natsMsgHandler handler) noexcept;

// --- frames: little-endian integers, so that nodes of any byte order ------
// --- share a cluster ------------------------------------------------------

inline void put_le(unsigned char* p, uint64_t v, int bytes) noexcept {
  for (int i = 0; i < bytes; i++)
    p[i] = static_cast<unsigned char>(v >> (8 * i));
}

inline uint64_t get_le(const unsigned char* p, int bytes) noexcept {
  uint64_t v = 0;
  for (int i = 0; i < bytes; i++) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

// --- heartbeat.cpp: the frames on <cluster>.hb ------------------------------

constexpr uint32_t kLeaving = 1;
constexpr size_t kFrameHead = 28;
constexpr size_t kFrameMax = kFrameHead + AIRS_NODE_NAME_MAX;

// Writes the heartbeat of `n` with `flags` and sequence number `seq` to
// out; returns its size. Reads only what attach set (name, incarnation):
// any thread, no lock.
size_t heartbeat_frame(const airs_node* n, uint32_t flags, uint64_t seq,
                       unsigned char out[kFrameMax]) noexcept;
// Reads a frame; false if it is not one (ignored: anyone may publish).
bool heartbeat_parse(const void* data, size_t size,
                     char name[AIRS_NODE_NAME_MAX + 1], uint64_t* incarnation,
                     uint32_t* tag, uint32_t* flags) noexcept;

// --- error.cpp ---------------------------------------------------------------

// Sets this thread's last error message (airs_node_last_error_message)
// and returns `status`.
airs_status failf(airs_status status, const char* format, ...) noexcept
    __attribute__((format(printf, 2, 3)));
void clear_error() noexcept;

// True for 1..AIRS_NODE_NAME_MAX characters of [A-Za-z0-9_-].
bool valid_name(const char* s) noexcept;

}  // namespace airs::node
