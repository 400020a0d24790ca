// outbox.hpp - mail a worker's callbacks have sent and not yet pushed.
//
// Sends to an unbounded mailbox from a callback, and the envelopes of a
// publish, wait in the worker's outbox as one chain per receiver (a lane)
// and go in with one exchange each: every kBatch messages, at the end of
// the turn, or before anything else leaves the worker. So senders on two
// cores do not fight over a receiver's cache line once per message.
//
// A lane is either direct (sends: up to kDirectLanes receivers, found by
// a scan) or a fan-out lane (a publish: one per subscriber of the list the
// outbox is laid out for, found by index). Only one kind holds mail at a
// time: Mail::make_way() pushes the other kind first, which is what keeps
// each sender's mail in order per receiver.
//
// Touched only by the worker's own thread. [one worker]
#pragma once

#include <cstdint>
#include <vector>

#include "mail/message.hpp"

namespace airs {

struct Process;

struct Lane {
  Process* p;
  uint64_t to;  // the pid the mail is for
  Msg* first;   // staged, not pushed: first..last linked through next
  Msg* last;
  uint32_t count;
  MsgBlock* block;  // fan-out: the open block of envelopes, or nullptr
  uint32_t used;    // slots of `block` used
  bool bounded;     // fan-out: a bounded mailbox, offered each message
  // Direct: the receiver's messages were timed when the lane opened (its
  // later messages are stamped by that, not by a new look at the receiver).
  bool timed;
};

// Chains `m` at the end of `lane`'s staged mail; returns the lane's count
// of it. [the outbox's worker]
inline uint32_t lane_add(Lane& lane, Msg* m) noexcept {
  if (lane.count == 0)
    lane.first = m;
  else
    lane.last->next.store(m, std::memory_order_relaxed);
  lane.last = m;
  return ++lane.count;
}

struct alignas(64) Outbox {
  static constexpr uint32_t kDirectLanes = 8;
  // A lane pushes at this length: its receiver starts on its mail while
  // the sender is still at work.
  static constexpr uint32_t kBatch = 64;
  // Messages in one fan-out lane before a block is worth its 4 KiB (a
  // publish now and then costs one envelope per subscriber, no more).
  static constexpr uint32_t kBlockAfter = 8;

  uint32_t direct_pending = 0;  // envelopes in direct lanes
  uint32_t fanout_pending = 0;  // envelopes and open blocks in fan-out lanes
  uint32_t direct_used = 0;
  Lane direct[kDirectLanes];
  uint64_t stamp = 0;  // the subscriber list `fanout` is laid out for
  std::vector<Lane> fanout;
};

}  // namespace airs
