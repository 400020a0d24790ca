// delivery.cpp - putting envelopes into mailboxes: capacity policies, the
// hand-off to the scheduler, and what happens to mail for a dead slot.
#include <chrono>
#include <thread>

#include "base/error.hpp"
#include "kernel/runtime.hpp"

namespace airs {

namespace {

// Room for one more message in a bounded mailbox? Reserves it if so.
bool reserve(Process* p) noexcept {
  uint64_t in = p->enqueued.fetch_add(1, std::memory_order_seq_cst);
  uint64_t out = p->dequeued.load(std::memory_order_seq_cst);
  if (static_cast<int64_t>(in - out) < static_cast<int64_t>(p->capacity))
    return true;
  p->enqueued.fetch_sub(1, std::memory_order_relaxed);
  return false;
}

}  // namespace

airs_status Runtime::send(uint64_t to, Msg* m, Ctx* from) {
  Process* p = live(to);
  if (!p) return fail(AIRS_ENOPROC, "send: the receiver is not alive");
  m->sender = 0;
  if (from) {
    m->sender = from->pid;
    from->sends++;
  }
  Worker* w = from ? from->worker : local_worker();
  // What the sender published before goes in before this message.
  if (w && w->fanout_pending) broker_.flush(w);
  if (from && w && p->capacity == 0 && m->priority == AIRS_PRIORITY_NORMAL) {
    if (!is_system_type(m->type)) count_sent(w);
    stage(w, p, to, m);
    return AIRS_OK;
  }
  return deliver(p, to, m, false, from == nullptr, w, from != nullptr);
}

// The first message of a turn to a target goes in at once (a request and
// its reply then cost no staging); later ones to the same target wait in
// the worker's outbox and go in as one chain.
void Runtime::stage(Worker* w, Process* p, uint64_t to, Msg* m) noexcept {
  m->to = to;
  for (uint32_t i = 0; i < w->outbox_used; i++) {
    OutboxEntry& e = w->outbox[i];
    if (e.p != p || e.to != to) continue;
    if (e.count == 0)
      e.first = m;
    else
      e.last->next.store(m, std::memory_order_relaxed);
    e.last = m;
    if (++e.count >= Worker::kOutboxBatch) flush_entry(w, i);
    return;
  }
  if (w->outbox_used == Worker::kOutboxSlots) flush_outbox(w);
  w->outbox[w->outbox_used++] = OutboxEntry{p, to, nullptr, nullptr, 0};
  // deliver()'s unbounded path, written out: this is every request and
  // reply, and the call through deliver() costs ~1.5 ns per hop.
  p->enqueued.fetch_add(1, std::memory_order_relaxed);
  p->push(m);
  schedule(p, w, true);
}

void Runtime::flush_entry(Worker* w, uint32_t i) noexcept {
  OutboxEntry e = w->outbox[i];
  w->outbox[i] = w->outbox[--w->outbox_used];
  if (e.count == 0) return;
  push_chain(e.p, e.first, e.last, e.count, w, true);
}

void Runtime::push_chain(Process* p, Msg* first, Msg* last, uint32_t n,
                         Worker* w, bool as_next) noexcept {
  p->enqueued.fetch_add(n, std::memory_order_relaxed);
  mpsc_push_chain(p->normal_tail, first, last);
  schedule(p, w, as_next);
}

void Runtime::flush_outbox(Worker* w) noexcept {
  if (w->fanout_pending) broker_.flush(w);
  while (w->outbox_used > 0) flush_entry(w, 0);
}

bool Runtime::post(uint64_t to, Msg* m) noexcept {
  Worker* w = local_worker();
  // A signal never overtakes the messages its sender staged before it.
  if (w && (w->outbox_used || w->fanout_pending)) flush_outbox(w);
  Process* p = live(to);
  if (!p) {
    msg_free(m);
    return false;
  }
  deliver(p, to, m, true, false, w, false);
  return true;
}

airs_status Runtime::deliver(Process* p, uint64_t to, Msg* m,
                             bool bypass_capacity, bool may_block, Worker* w,
                             bool as_next) noexcept {
  m->to = to;
  if (bypass_capacity || p->capacity == 0) {
    p->enqueued.fetch_add(1, std::memory_order_relaxed);
  } else {
    while (!reserve(p)) {
      switch (p->policy) {
        case AIRS_MAILBOX_DROP_NEWEST:
          count_dropped(p);
          dead_letter(m, AIRS_DEAD_LETTER_MAILBOX_FULL);
          return AIRS_OK;
        case AIRS_MAILBOX_BLOCK:
          if (may_block && !current_ctx()) {
            airs_status st = wait_for_room(p, to);
            if (st == AIRS_OK) continue;
            return st;
          }
          [[fallthrough]];
        default:
          count_dropped(p);
          return failf(AIRS_EFULL, "send: the mailbox is full (%u messages)",
                       p->capacity.load());
      }
    }
  }
  if (m->signal == Signal::kNone && !is_system_type(m->type)) count_sent(w);
  p->push(m);
  schedule(p, w, as_next);
  return AIRS_OK;
}

bool Runtime::offer(Process* p, uint64_t to, Msg* m, Worker* w) noexcept {
  m->to = to;
  if (p->capacity == 0) {
    p->enqueued.fetch_add(1, std::memory_order_relaxed);
  } else if (!reserve(p)) {
    count_dropped(p);
    return false;
  }
  count_sent(w);
  p->push(m);
  schedule(p, w, false);
  return true;
}

airs_status Runtime::wait_for_room(Process* p, uint64_t to) noexcept {
  using clock = std::chrono::steady_clock;
  auto deadline = clock::now() + std::chrono::milliseconds(p->block_timeout_ms);
  p->blocked_senders.fetch_add(1, std::memory_order_seq_cst);
  airs_status st = AIRS_OK;
  {
    std::unique_lock<std::mutex> lock(block_mu_);
    for (;;) {
      if (p->pid.load(std::memory_order_acquire) != to ||
          p->exiting.load(std::memory_order_acquire)) {
        st = fail(AIRS_ENOPROC, "send: the receiver ended while we waited");
        break;
      }
      uint64_t in = p->enqueued.load(std::memory_order_seq_cst);
      uint64_t out = p->dequeued.load(std::memory_order_seq_cst);
      if (static_cast<int64_t>(in - out) < static_cast<int64_t>(p->capacity))
        break;
      auto now = clock::now();
      if (now >= deadline) {
        count_dropped(p);
        st = failf(AIRS_ETIMEDOUT, "send: the mailbox stayed full for %u ms",
                   p->block_timeout_ms.load());
        break;
      }
      // The consumer notifies when it takes a message; the short timeout
      // only bounds the cost of a wake-up lost to a race.
      auto slice = std::min<clock::duration>(deadline - now,
                                             std::chrono::milliseconds(1));
      block_cv_.wait_for(lock, slice);
    }
  }
  p->blocked_senders.fetch_sub(1, std::memory_order_relaxed);
  return st;
}

// Makes sure someone consumes what was just pushed to `p`.
void Runtime::schedule(Process* p, Worker* w, bool as_next) noexcept {
  uint32_t s = p->state.load(std::memory_order_seq_cst);
  for (;;) {
    if (s == kIdle) {
      if (p->state.compare_exchange_weak(s, kScheduled,
                                         std::memory_order_seq_cst)) {
        sched_->submit(p, w, as_next);
        return;
      }
    } else if (s == kFree) {
      // The process ended after our pid check: drop the mail ourselves.
      settle_free(p);
      return;
    } else {
      return;  // scheduled, running or draining: the owner will see it
    }
  }
}

// [state kFree] Drains a free slot for as long as mail keeps arriving,
// taking the consumer role with kDraining each time.
void Runtime::settle_free(Process* p) noexcept {
  while (p->mail_arrived()) {
    uint32_t s = kFree;
    if (!p->state.compare_exchange_strong(s, kDraining,
                                          std::memory_order_seq_cst))
      return;  // someone else consumes now and will re-check
    drain_dead(p);
    p->state.store(kFree, std::memory_order_seq_cst);
  }
}

// [consumer] Drops everything queued, as mail to a process that is gone.
void Runtime::drain_dead(Process* p) noexcept {
  while (Msg* m = p->pop()) drop_dead(p, m);
}

// Mail for a process that is gone: links and monitors are answered with
// noproc, user messages become dead letters, other signals vanish.
void Runtime::drop_dead(Process*, Msg* m) noexcept {
  switch (m->signal) {
    case Signal::kNone: dead_letter(m, AIRS_DEAD_LETTER_EXITED); return;
    case Signal::kLink:
      if (Msg* s = msg_new_signal(Signal::kLinkExit, m->to,
                                  reason_static(AIRS_EXIT_NOPROC), 0))
        post(m->sender, s);
      break;
    case Signal::kMonitor:
      if (Msg* s =
              msg_new_signal(Signal::kDown, m->to,
                             reason_static(AIRS_EXIT_NOPROC), m->correlation))
        post(m->sender, s);
      break;
    default: break;
  }
  msg_free(m);
}

}  // namespace airs
