// message.hpp - the message envelope, shared payloads and exit reasons.
//
// A message is one allocation: a 64-byte envelope that is also the node of
// the intrusive mailbox queue, followed by the copied payload bytes (or,
// up to 8 of them, inside the envelope: a counter or a pid costs one cache
// line). The public airs_msg is this struct.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "airs/airs.h"

// The public handles (airs_reason, airs_payload, airs_msg) are these core
// structs themselves.

// Why a process ended. Immutable and refcounted, so that one exit can be
// handed to every link and monitor without copying. The common reasons are
// static objects that are never freed.
struct airs_reason {
  std::atomic<uint32_t> refs;
  bool is_static;
  airs_exit_kind kind;
  int32_t code;
  const char* text;  // NUL-terminated; stored right after the struct
};

namespace airs {
using Reason = ::airs_reason;

Reason* reason_new(airs_exit_kind kind, int32_t code,
                   const char* text) noexcept;  // nullptr: no memory
Reason* reason_static(airs_exit_kind kind) noexcept;
// An AIRS_EXIT_ERROR reason with `code` and `text`; without memory for it,
// the static one (code and text lost). Never nullptr.
Reason* reason_error(int32_t code, const char* text) noexcept;
// An error reason for what the runtime could not do for want of memory
// (code AIRS_ENOMEM); static, so it never needs memory itself.
Reason* reason_no_memory() noexcept;
void reason_retain(Reason* r) noexcept;
void reason_release(Reason* r) noexcept;

}  // namespace airs

// One immutable buffer shared by many messages (pub-sub fan-out).
struct airs_payload {
  std::atomic<uint64_t> refs;
  void* data;
  std::size_t size;
  void (*free_fn)(void*);  // for wrapped buffers; nullptr when inline
};

namespace airs {
using Payload = ::airs_payload;

Payload* payload_new_copy(const void* data, std::size_t size) noexcept;
Payload* payload_new_wrap(void* ptr, std::size_t size,
                          void (*free_fn)(void*)) noexcept;
void payload_retain(Payload* p) noexcept;
// Gives `n` references back at once; the last one runs free_fn and frees
// `p`. [any thread]
void payload_release_n(Payload* p, uint64_t n) noexcept;
inline void payload_release(Payload* p) noexcept {
  payload_release_n(p, 1);
}

// The mailbox queue links envelopes through this first member.
struct Node {
  std::atomic<Node*> next;
};

// What a queued envelope means to its receiver. User messages are kNone;
// the rest are system signals, which bypass mailbox capacity.
enum class Signal : uint8_t {
  kNone = 0,   // a user message
  kExit,       // exit/2: reason in `reason`
  kLinkExit,   // a linked process ended: reason in `reason`
  kKill,       // untrappable kill
  kLink,       // sender links to the receiver
  kUnlink,     // sender removes its link; its unlink id in `correlation`
  kMonitor,    // sender monitors the receiver; ref in `correlation`
  kDemonitor,  // sender drops monitor `correlation`
  kDown,       // a monitored process ended; ref in `correlation`
  kHealth,     // a supervisor asks for health; round in `correlation`
  kWatch,      // a service's monitor of the receiver (Signals::watch)
  kWatchDown,  // a watched process ended: always an AIRS_MSG_DOWN
  kUnlinkAck,  // the receiver of a kUnlink dropped its end; id in
               // `correlation`
  // Distribution (transport.h): the node of runtime tag `correlation`
  // cannot be reached; the receiver breaks its ties to that node's pids.
  kNodeDown,
  kLinkLost,  // one of those links, broken: an exit signal from `sender`
  kDownLost,  // one of those monitors, over: always an AIRS_MSG_DOWN
  // A thread asks for the receiver's links and monitors: the query is the
  // owned payload (Signals::query_ties); answered in the receiver's turn.
  kTies,
};

// kSharedInBlock: a shared payload in an envelope of a MsgBlock (below).
enum class PayloadKind : uint8_t {
  kInline = 0,
  kOwned,
  kShared,
  kSharedInBlock
};

}  // namespace airs

struct airs_msg : airs::Node {
  uint64_t type;
  uint64_t sender;
  uint64_t correlation;
  uint64_t to;  // the pid it was sent to; a slot reused since drops it
  const void* data;
  union {
    void (*free_fn)(void*);  // kOwned
    airs::Payload* shared;   // kShared
    airs::Reason* reason;    // signals with a reason, and EXIT/DOWN messages
    unsigned char small[8];  // kInline, up to 8 bytes: in the envelope
  };
  uint32_t size;
  airs::PayloadKind kind;
  uint8_t priority;
  airs::Signal signal;
  uint8_t has_reason : 1;
  // For a transport (airs/transport.h): an airs_transport_kind.
  uint8_t remote_kind : 2;
  // Unused, and written with the rest when an envelope is made: a byte
  // whose bits are all stored needs no load first. A fan-out writes its
  // envelopes into lines it has not read (MsgBlock); the load of the
  // other bits missed on each, 48 % of Broker::fan_out's time in pubsub.
  uint8_t spare_bits : 5;
};

namespace airs {
using Msg = ::airs_msg;

static_assert(sizeof(Msg) == 64, "the envelope is one cache line");

// The envelope after `m` in a chain its owner linked (relaxed: the owner's
// own links, or ones published to it by the queue).
inline Msg* next_of(const Msg* m) noexcept {
  return static_cast<Msg*>(m->next.load(std::memory_order_relaxed));
}

// Envelopes. All return nullptr when memory runs out.
Msg* msg_new_copy(uint64_t type, const void* data, std::size_t size) noexcept;
Msg* msg_new_owned(uint64_t type, void* ptr, std::size_t size,
                   void (*free_fn)(void*)) noexcept;
Msg* msg_new_shared(uint64_t type, Payload* payload) noexcept;  // new ref
// As msg_new_shared, but takes over a reference the caller already holds
// (a publish takes one reference per subscriber with a single add).
Msg* msg_new_shared_adopt(uint64_t type, Payload* payload) noexcept;

// Envelopes carved from one aligned block, for a fan-out that sends many
// messages to one receiver in a row: they sit side by side, so the
// receiver streams through them instead of taking a cache miss per
// envelope, and the block goes back to the allocator once, with its last
// envelope (msg_free finds the block by masking the envelope's address).
//
// Every envelope of a block goes to one mailbox, so they are freed one at
// a time by whoever holds that mailbox's consumer role: `freed` needs no
// atomic. The owner fills the slots in order and closes the block (says
// how many it used) before it pushes the envelope in the last used slot,
// and touches it no more; the receiver that frees that many frees the
// block.
struct alignas(64) MsgBlock {
  std::atomic<uint32_t> used;  // 0 while open
  uint32_t freed;              // the receiver's
};
constexpr std::size_t kMsgBlockBytes = 4096;
constexpr uint32_t kMsgBlockSlots = kMsgBlockBytes / sizeof(Msg) - 1;

MsgBlock* msg_block_new() noexcept;  // nullptr: no memory
// Slot `i` (< kMsgBlockSlots) of `b`, as msg_new_shared_adopt with its
// sender and receiver set. Inline: a fan-out writes one per subscriber
// and message, each field once.
inline Msg* msg_block_shared_adopt(MsgBlock* b, uint32_t i, uint64_t type,
                                   Payload* payload, uint64_t sender,
                                   uint64_t to) noexcept {
  Msg* m = reinterpret_cast<Msg*>(b) + 1 + i;
  m->next.store(nullptr, std::memory_order_relaxed);
  m->type = type;
  m->sender = sender;
  m->correlation = 0;
  m->to = to;
  m->data = payload->data;
  m->shared = payload;
  m->size = static_cast<uint32_t>(payload->size);
  m->kind = PayloadKind::kSharedInBlock;
  m->priority = AIRS_PRIORITY_NORMAL;
  m->signal = Signal::kNone;
  m->has_reason = 0;
  m->remote_kind = 0;
  m->spare_bits = 0;
  return m;
}
// The owner is done with `b` after using `used` slots (0: frees it); it
// has not pushed the envelope in slot used - 1 yet.
void msg_block_close(MsgBlock* b, uint32_t used) noexcept;

// A signal envelope; takes a reference to `reason` if it is not null.
Msg* msg_new_signal(Signal signal, uint64_t sender, Reason* reason,
                    uint64_t correlation) noexcept;
void msg_free(Msg* m) noexcept;  // msg_release, then msg_free_envelope
// Drops what the envelope holds (its reason, owned pointer or shared
// payload); the envelope stays valid, holding nothing.
void msg_release(Msg* m) noexcept;
// Frees the envelope's memory (after msg_release).
void msg_free_envelope(Msg* m) noexcept;

inline bool is_system_type(uint64_t type) {
  return type >= AIRS_MSG_SYSTEM_BASE;
}

// The runtime's own message types past the public ones (AIRS_MSG_EXIT,
// AIRS_MSG_DOWN). The answer to a kHealth signal: an int32 airs_health,
// the round in `correlation`.
constexpr uint64_t kMsgHealthReply = AIRS_MSG_SYSTEM_BASE + 0x100;

}  // namespace airs
