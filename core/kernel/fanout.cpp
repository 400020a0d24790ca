// fanout.cpp - one publish to a list of subscribers: one envelope per
// subscriber, all sharing one payload.
//
// Inside a callback on a worker, the envelopes are not pushed one by one:
// they are chained per subscriber in the worker's outbox (fan-out lanes,
// laid out after the list: lane i is subscriber i) and pushed with one
// exchange per chain, every kBatch messages, when the turn ends, or before
// the process sends anything else. After the first few to one subscriber
// they are cut from 4 KiB blocks (MsgBlock), so the subscriber streams
// through its mail side by side, and the memory goes back one block at a
// time. A bounded mailbox is offered each message at once, since it may
// be full. Elsewhere (a plain thread) every envelope is offered at once.
//
// Everything here runs under the lock of the list's owner (a topic's), so
// nothing here waits or calls a hook.
#include "base/error.hpp"
#include "kernel/kernel.hpp"

namespace airs {

bool Mail::fan_out_ready(Worker* w, uint64_t stamp) noexcept {
  if (!w) return true;
  Outbox& ob = outbox(w);
  // What the process sent before goes in before what it publishes now.
  return ob.direct_pending == 0 &&
         (ob.fanout_pending == 0 || ob.stamp == stamp);
}

size_t Mail::fan_out(Worker* w, const FanOut& list, uint64_t type,
                     Payload* payload, uint64_t sender,
                     Msg** refused) noexcept {
  // One reference per envelope, taken at once and before any envelope can
  // be consumed (the caller's own keeps the count above zero meanwhile).
  payload->refs.fetch_add(list.n, std::memory_order_relaxed);
  Outbox* ob = w ? &outbox(w) : nullptr;
  if (ob && ob->stamp != list.stamp && !lay_out(*ob, list))
    ob = nullptr;  // no memory for the lanes: offer each one at once
  Worker* counting = w ? w : k_.sched.local_worker();
  size_t reached = 0;
  for (size_t i = 0; i < list.n; i++) {
    const Subscriber& sub = list.subs[i];
    Lane* lane = ob ? &ob->fanout[i] : nullptr;
    if (!lane || lane->bounded) {
      Msg* m = msg_new_shared_adopt(type, payload);
      if (!m) {  // no memory: give its reference back
        payload->refs.fetch_sub(1, std::memory_order_relaxed);
        continue;
      }
      m->sender = sender;
      if (offer(sub.p, sub.pid, counting, m)) {
        reached++;
      } else {
        m->next.store(*refused, std::memory_order_relaxed);
        *refused = m;
      }
      continue;
    }
    Msg* m = fan_out_envelope(*ob, *lane, type, payload, sender);
    if (!m) {
      payload->refs.fetch_sub(1, std::memory_order_relaxed);
      continue;
    }
    // Safe under the list's lock: the subscriber is in the list, so it
    // has not ended, and a push cannot run into its end (no hook runs).
    fan_out_stage(*ob, w, *lane, m);
    reached++;
  }
  return reached;
}

bool Mail::lay_out(Outbox& ob, const FanOut& list) noexcept {
  try {
    ob.fanout.resize(list.n);
  } catch (...) {
    ob.stamp = 0;
    return false;
  }
  for (size_t i = 0; i < list.n; i++) {
    const Subscriber& sub = list.subs[i];
    ob.fanout[i] = Lane{sub.p,   sub.pid, nullptr,     nullptr, 0,
                        nullptr, 0,       sub.bounded, false};
  }
  ob.stamp = list.stamp;
  return true;
}

// Into `p`'s mailbox if it has room, at once. false: it is full (counted
// as dropped); `m` stays the caller's.
bool Mail::offer(Process* p, uint64_t to, Worker* w, Msg* m) noexcept {
  Route r;
  r.admit = Admit::kUserNoWait;
  r.worker = w;
  return deliver(p, to, m, r) == AIRS_OK;
}

// The next envelope for `lane`: from its block if it has one, or opens
// one once the chain is kBlockAfter long.
Msg* Mail::fan_out_envelope(Outbox& ob, Lane& lane, uint64_t type,
                            Payload* payload, uint64_t sender) noexcept {
  if (!lane.block && lane.count >= Outbox::kBlockAfter) open_block(ob, lane);
  if (!lane.block) {
    Msg* m = msg_new_shared_adopt(type, payload);
    if (m) {
      m->sender = sender;
      m->to = lane.to;
    }
    return m;
  }
  // The slot after this one is written at the next publish, after one
  // envelope for every other subscriber: too many streams for the
  // hardware prefetcher, so ask for its line now (for writing).
  if (lane.used + 1 < kMsgBlockSlots)
    __builtin_prefetch(reinterpret_cast<Msg*>(lane.block) + 2 + lane.used, 1);
  return msg_block_shared_adopt(lane.block, lane.used++, type, payload, sender,
                                lane.to);
}

// Chains `m` to `lane`, and pushes the chain when it is long enough. A
// chain with a block pushes when the block is full, after closing it (a
// block is closed before its last envelope is pushed), and goes on in a
// new block: the stream of messages is not over yet.
void Mail::fan_out_stage(Outbox& ob, Worker* w, Lane& lane, Msg* m) noexcept {
  k_.observer.stamp_sent(lane.p, lane.to, m);
  lane_add(lane, m);
  ob.fanout_pending++;
  count_one(w->sent);  // the stats count of messages sent
  if (lane.block) {
    if (lane.used < kMsgBlockSlots) return;
    close_block(ob, lane);
    push_lane(w, lane, ob.fanout_pending, false);
    open_block(ob, lane);
  } else if (lane.count >= Outbox::kBatch) {
    push_lane(w, lane, ob.fanout_pending, false);
  }
}

void Mail::open_block(Outbox& ob, Lane& lane) noexcept {
  lane.block = msg_block_new();  // none (no memory): plain envelopes
  lane.used = 0;
  if (lane.block) ob.fanout_pending++;
}

void Mail::close_block(Outbox& ob, Lane& lane) noexcept {
  msg_block_close(lane.block, lane.used);
  lane.block = nullptr;
  ob.fanout_pending--;
}

// A push may meet a subscriber that ended since its mail was staged: its
// slot's mail is answered at once, and a dead-letter hook may publish from
// in here. That publish flushes what is still staged and may lay the lanes
// out again for its own list: so lanes are taken by index, each one fresh,
// and the walk ends when nothing is pending.
void Mail::flush_fan_out(Outbox& ob, Worker* w) noexcept {
  for (size_t i = 0; i < ob.fanout.size() && ob.fanout_pending; i++) {
    if (ob.fanout[i].block) close_block(ob, ob.fanout[i]);
    push_lane(w, ob.fanout[i], ob.fanout_pending, false);
  }
}

}  // namespace airs
