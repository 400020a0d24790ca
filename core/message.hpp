// message.hpp - the message envelope, shared payloads and exit reasons.
//
// A message is one allocation: a 64-byte envelope that is also the node of
// the intrusive mailbox queue, followed by the copied payload bytes. The
// public airs_msg is this struct.
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
void payload_release(Payload* p) noexcept;

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
  kUnlink,     // sender removes its link
  kMonitor,    // sender monitors the receiver; ref in `correlation`
  kDemonitor,  // sender drops monitor `correlation`
  kDown,       // a monitored process ended; ref in `correlation`
  kHealth,     // a supervisor asks for health; round in `correlation`
};

enum class PayloadKind : uint8_t { kInline = 0, kOwned, kShared };

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
  };
  uint32_t size;
  airs::PayloadKind kind;
  uint8_t priority;
  airs::Signal signal;
  uint8_t has_reason;
};

namespace airs {
using Msg = ::airs_msg;

static_assert(sizeof(Msg) == 64, "the envelope is one cache line");

// Envelopes. All return nullptr when memory runs out.
Msg* msg_new_copy(uint64_t type, const void* data, std::size_t size) noexcept;
Msg* msg_new_owned(uint64_t type, void* ptr, std::size_t size,
                   void (*free_fn)(void*)) noexcept;
Msg* msg_new_shared(uint64_t type, Payload* payload) noexcept;  // new ref
// A signal envelope; takes a reference to `reason` if it is not null.
Msg* msg_new_signal(Signal signal, uint64_t sender, Reason* reason,
                    uint64_t correlation) noexcept;
void msg_free(Msg* m) noexcept;

inline bool is_system_type(uint64_t type) {
  return type >= AIRS_MSG_SYSTEM_BASE;
}

// The runtime's own message types past the public ones (AIRS_MSG_EXIT,
// AIRS_MSG_DOWN). The answer to a kHealth signal: an int32 airs_health,
// the round in `correlation`.
constexpr uint64_t kMsgHealthReply = AIRS_MSG_SYSTEM_BASE + 0x100;

}  // namespace airs
