// node.hpp - one node: a runtime attached to NATS (node.h). What the
// files of node/ share.
//
// Threads. Three kinds touch a Node:
//   - the caller of the C API (attach, detach, self, monitor, peers);
//   - cnats's threads: the delivery thread of each subscription (heard()
//     for heartbeats, answer_claim() for name claims) and the connection
//     event thread (disconnected(), reconnected(), closed());
//   - the node's own ticker thread (tick()): heartbeats out, silence in.
// Locks, in the order they may be taken:
//   notify_mu  (recursive) held while a batch of UP/DOWN messages is
//              decided and sent, so that each monitor gets a peer's UP
//              and DOWN in the order they happened; airs_send, under it,
//              may run the runtime's dead-letter hook, which may call
//              airs_node_monitor on this thread: hence recursive.
//   mu         the peer table, the monitors and the connection state;
//              never held across a call into cnats or the runtime.
#pragma once

#include <nats/nats.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "airs/node.h"

namespace airs::node {

using Clock = std::chrono::steady_clock;

struct Peer {
  uint64_t incarnation = 0;
  uint64_t replaced = 0;  // the incarnation this one replaced, if any
  Clock::time_point last_heard;
  bool up = false;
};

// An UP or DOWN to send to every monitor.
struct Change {
  airs_node_event event;
};

}  // namespace airs::node

struct airs_node {
  airs_runtime* rt = nullptr;
  std::string name, cluster;
  uint64_t incarnation = 0;
  std::chrono::milliseconds heartbeat, down_after, grace;

  std::string hb_subject;    // <cluster>.hb: everybody's heartbeats
  std::string self_subject;  // <cluster>.node.<name>: claims of the name

  natsOptions* opts = nullptr;
  natsConnection* nc = nullptr;
  natsSubscription* hb_sub = nullptr;
  natsSubscription* self_sub = nullptr;

  std::recursive_mutex notify_mu;
  std::mutex mu;
  std::condition_variable cv;  // the ticker's sleep; subs' and close's ends
  std::unordered_map<std::string, airs::node::Peer> peers;
  std::unordered_set<airs_pid> monitors;
  bool stopping = false;
  bool connected = true;
  airs::node::Clock::time_point lost_at;  // when the connection was lost
  bool grace_spent = false;  // peers declared down for this loss already
  int subs_open = 0;         // subscriptions whose handlers may still run
  bool conn_closed = false;  // the closed callback ran
  uint64_t seq = 0;          // heartbeats sent (under mu)

  std::thread ticker;
};

namespace airs::node {

// --- peers.cpp: the peer table and the monitors ----------------------------

// A heartbeat from `peer` (flags: kLeaving). [cnats delivery thread]
void heard(airs_node* n, const char* peer, uint64_t incarnation,
           uint32_t flags) noexcept;
// Sends a heartbeat, then declares down the peers silent too long.
// `stalled`: this thread slept through more than down_after (the process
// was stopped): give every peer down_after again instead. [ticker]
void tick(airs_node* n, bool stalled) noexcept;
// Starts (UPs for the peers up now) or stops `pid`'s monitoring.
airs_status monitor(airs_node* n, airs_pid pid, bool on) noexcept;
// The connection's loss and return. [cnats event thread]
void disconnected(airs_node* n) noexcept;
void reconnected(airs_node* n) noexcept;

// --- heartbeat.cpp: the frames on <cluster>.hb ------------------------------

constexpr uint32_t kLeaving = 1;
constexpr size_t kFrameHead = 24;
constexpr size_t kFrameMax = kFrameHead + AIRS_NODE_NAME_MAX;

// Writes the heartbeat of `n` with `flags` and sequence number `seq` to
// out; returns its size. Reads only what attach set (name, incarnation):
// any thread, no lock.
size_t heartbeat_frame(const airs_node* n, uint32_t flags, uint64_t seq,
                       unsigned char out[kFrameMax]) noexcept;
// Reads a frame; false if it is not one (ignored: anyone may publish).
bool heartbeat_parse(const void* data, size_t size,
                     char name[AIRS_NODE_NAME_MAX + 1], uint64_t* incarnation,
                     uint32_t* flags) noexcept;

// --- error.cpp ---------------------------------------------------------------

// Sets this thread's last error message (airs_node_last_error_message)
// and returns `status`.
airs_status failf(airs_status status, const char* format, ...) noexcept
    __attribute__((format(printf, 2, 3)));
void clear_error() noexcept;

// True for 1..AIRS_NODE_NAME_MAX characters of [A-Za-z0-9_-].
bool valid_name(const char* s) noexcept;

}  // namespace airs::node
