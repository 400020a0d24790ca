// mail.cpp - sends, signals and timers into mailboxes: capacity policies,
// staging in the outbox, the hand-off to the scheduler, and mail for a
// slot whose process has ended.
#include "kernel/mail.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include "base/error.hpp"
#include "kernel/kernel.hpp"

namespace airs {

Mail::Mail(Kernel& k)
    : k_(k),
      outboxes_(new Outbox[std::max<uint32_t>(k.cfg.workers, 1)]),
      noutboxes_(std::max<uint32_t>(k.cfg.workers, 1)) {}

Mail::~Mail() {
  // Every thread is gone. Nothing should be staged (a turn pushes what it
  // staged before it ends), but whatever is left is nobody's mail.
  auto free_lane = [](Lane& lane) {
    if (lane.block) msg_block_close(lane.block, lane.used);
    for (Msg* m = lane.count ? lane.first : nullptr; m;) {
      Msg* next = m == lane.last ? nullptr : next_of(m);
      msg_free(m);
      m = next;
    }
  };
  for (size_t i = 0; i < noutboxes_; i++) {
    Outbox& ob = outboxes_[i];
    for (uint32_t j = 0; j < ob.direct_used; j++) free_lane(ob.direct[j]);
    for (Lane& lane : ob.fanout) free_lane(lane);
  }
}

Outbox& Mail::outbox(Worker* w) noexcept {
  return outboxes_[w->id];
}

// Counts `n` messages into `p`'s mailbox (unbounded: bounded ones count
// in reserve()): in the sending worker's own counter when it has one.
void Mail::count_in(Process* p, Worker* w, uint32_t n) noexcept {
  if (w && w->id < 2 && p->capacity.load(std::memory_order_relaxed) == 0) {
    std::atomic<uint32_t>& c = p->sent_by[w->id];
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  } else {
    p->enqueued.fetch_add(n, std::memory_order_relaxed);
  }
}

void Mail::count_sent(Worker* w) noexcept {
  if (w)
    count_one(w->sent);
  else
    k_.observer.count_sent_elsewhere();
}

// A user message for `to`, which is not alive: the dead-letter hook sees
// it, the caller keeps it.
airs_status Mail::refuse_noproc(uint64_t to, uint64_t sender, Msg* m) noexcept {
  fail(AIRS_ENOPROC, "the receiver is not alive");
  k_.observer.dead_letter_kept(to, sender, m);
  return AIRS_ENOPROC;
}

// --- the ways in --------------------------------------------------------

airs_status Mail::send(uint64_t to, Msg* m, Ctx* from) noexcept {
  if (from && from->staging && m->priority == AIRS_PRIORITY_NORMAL) {
    Outbox& ob = outbox(from->worker);
    if (Lane* lane = find_lane(ob, to)) {
      restage(ob, from, *lane, m);
      return AIRS_OK;
    }
  }
  Process* p = k_.processes.live(to);
  uint64_t sender = from ? from->pid : 0;
  if (!p) {
    if (k_.table.foreign(to)) {
      // Another runtime's pid: the transport's, if there is one.
      airs_status st = k_.remote.send(to, sender, m);
      if (st == AIRS_OK) {
        remote_sent(from);
        return AIRS_OK;
      }
      if (st != AIRS_ENOPROC)
        return failf(st, "the transport refused the message for %#llx",
                     static_cast<unsigned long long>(to));
    }
    return refuse_noproc(to, sender, m);
  }
  m->sender = sender;
  Worker* w = from ? from->worker : k_.sched.local_worker();
  if (from) from->sends++;
  if (w) {
    Outbox& ob = outbox(w);
    make_way(ob, w, Next::kDirect);
    if (from && p->capacity == 0 && m->priority == AIRS_PRIORITY_NORMAL) {
      if (!is_system_type(m->type)) count_sent(w);
      stage(ob, w, p, to, m);
      from->staging = true;
      return AIRS_OK;
    }
  }
  Route r;
  r.admit = Admit::kUser;
  r.worker = w;
  r.run_next = from != nullptr;
  return deliver(p, to, m, r);
}

airs_status Mail::deliver_remote(uint64_t to, uint64_t from, Msg* m) noexcept {
  Process* p = k_.processes.live(to);
  if (!p) {
    airs_status st = refuse_noproc(to, from, m);
    msg_free(m);
    return st;
  }
  m->sender = from;
  // The transport's thread carries every node's mail: it never waits for
  // room, whatever the mailbox's policy.
  Route r;
  r.admit = Admit::kUserNoWait;
  r.worker = k_.sched.local_worker();
  airs_status st = deliver(p, to, m, r);
  if (st == AIRS_EFULL) {
    k_.observer.dead_letter(m, AIRS_DEAD_LETTER_MAILBOX_FULL);
    return failf(AIRS_EFULL, "the mailbox is full (%u messages)",
                 p->capacity.load());
  }
  return st;
}

bool Mail::signal(uint64_t to, Msg* m) noexcept {
  return signal_to(to, m, false);
}

bool Mail::signal_until_ended(uint64_t to, Msg* m) noexcept {
  return signal_to(to, m, true);
}

// A turn's messages to other runtimes leave together when it ends; any
// other sender's leave now.
void Mail::remote_sent(Ctx* from) noexcept {
  if (from && from->in_turn)
    from->remote_dirty = true;
  else
    k_.remote.flush();
}

bool Mail::signal_to(uint64_t to, Msg* m, bool ending_too) noexcept {
  Worker* w = k_.sched.local_worker();
  // A signal never overtakes the messages its sender staged before it.
  if (w) make_way(outbox(w), w, Next::kAny);
  if (k_.table.foreign(to)) {
    // Another runtime's pid: the transport carries it, after the messages
    // the sender gave it before (it keeps their order).
    if (k_.remote.send_signal(to, m) != AIRS_OK) return false;
    remote_sent(current_ctx_in(&k_));
    return true;
  }
  Process* p = ending_too ? k_.table.lookup(to) : k_.processes.live(to);
  // (If the slot is reused after this check, the new process finds `m` is
  // for an earlier pid and answers it as undeliverable: noproc.)
  if (!p || p->pid.load(std::memory_order_acquire) != to) return false;
  Route r;
  r.admit = Admit::kSignal;
  r.worker = w;
  deliver(p, to, m, r);
  return true;
}

bool Mail::post(uint64_t to, Msg* m) noexcept {
  Process* p = k_.processes.live(to);
  if (!p) return false;
  Route r;
  r.admit = Admit::kSignal;
  r.worker = k_.sched.local_worker();
  deliver(p, to, m, r);
  return true;
}

bool Mail::signal_or_drop(uint64_t to, Msg* m) noexcept {
  if (signal(to, m)) return true;
  msg_free(m);
  return false;
}

airs_status Mail::send_after(uint64_t to, uint64_t delay_ms, Msg* m,
                             uint64_t* id) noexcept {
  if (k_.stopping()) return fail(AIRS_ESTATE, "the runtime is shutting down");
  // Another runtime's pid is taken on trust while a transport is
  // installed; the transport decides when the timer fires.
  if (k_.table.foreign(to) ? !k_.remote.installed() : !k_.processes.live(to))
    return fail(AIRS_ENOPROC, "not alive");
  Ctx* c = current_ctx_in(&k_);
  m->sender = c ? c->pid : 0;
  uint64_t tid = k_.timers.add(to, delay_ms, m);
  if (!tid) return fail(AIRS_ENOMEM, "out of memory");
  if (id) *id = tid;
  return AIRS_OK;
}

void Mail::timer_fired(uint64_t to, Msg* m) noexcept {
  if (k_.table.foreign(to)) {
    // Another runtime's pid: through the transport, from whoever set it.
    if (k_.remote.send(to, m->sender, m) == AIRS_OK) {
      k_.remote.flush();
      return;
    }
    m->to = to;
    k_.observer.dead_letter(m, AIRS_DEAD_LETTER_TIMER);
    return;
  }
  Process* p = k_.processes.live(to);
  if (!p) {
    m->to = to;  // the hook's `to`
    k_.observer.dead_letter(m, AIRS_DEAD_LETTER_TIMER);
    return;
  }
  // A full mailbox never blocks the timer thread: the message drops.
  Route r;
  r.admit = Admit::kUserNoWait;
  r.worker = k_.sched.local_worker();
  if (deliver(p, to, m, r) != AIRS_OK)
    k_.observer.dead_letter(m, AIRS_DEAD_LETTER_MAILBOX_FULL);
}

// --- the outbox -----------------------------------------------------------

void Mail::make_way(Outbox& ob, Worker* w, Next next) noexcept {
  if (ob.fanout_pending) flush_fan_out(ob, w);
  if (next == Next::kAny && ob.direct_pending) flush(w);
}

// The first message of a turn to a target goes in at once (a request and
// its reply then cost no staging); later ones to the same target wait in
// the outbox and go in as one chain.
void Mail::stage(Outbox& ob, Worker* w, Process* p, uint64_t to,
                 Msg* m) noexcept {
  m->to = to;
  bool timed = p->timed.load(std::memory_order_relaxed);
  k_.observer.stamp_sent(timed, to, m);
  if (Lane* lane = find_lane(ob, to)) {  // `to` names p: its lane is p's
    append(ob, w, *lane, m);
    return;
  }
  if (ob.direct_used == Outbox::kDirectLanes) flush(w);
  ob.direct[ob.direct_used++] =
      Lane{p, to, nullptr, nullptr, 0, nullptr, 0, false, timed};
  // deliver()'s unbounded path, written out: this is every request and
  // reply, and the call through deliver() costs ~1.5 ns per hop.
  count_in(p, w, 1);
  if (p->push(m)) start(p, w, true);
}

// The direct lane for `to` in `ob` (this turn's earlier sends to it), or
// nullptr.
Lane* Mail::find_lane(Outbox& ob, uint64_t to) noexcept {
  for (uint32_t i = 0; i < ob.direct_used; i++)
    if (ob.direct[i].to == to) return &ob.direct[i];
  return nullptr;
}

// A callback's next message to a receiver it sent to earlier in its turn
// is staged without a look at the receiver's record: the lane shows that
// it was alive, and unbounded, when the lane opened, and the record's
// sender-side line, which every sender writes, is not read again. A
// receiver that ends meanwhile gets this mail as if its end came just
// after the send: its end (or the next process of its slot) answers it
// as undeliverable, as it does all mail a lane pushes late.
void Mail::restage(Outbox& ob, Ctx* from, Lane& lane, Msg* m) noexcept {
  Worker* w = from->worker;
  make_way(ob, w, Next::kDirect);
  m->sender = from->pid;
  from->sends++;
  if (!is_system_type(m->type)) count_sent(w);
  m->to = lane.to;
  k_.observer.stamp_sent(lane.timed, lane.to, m);
  append(ob, w, lane, m);
}

void Mail::append(Outbox& ob, Worker* w, Lane& lane, Msg* m) noexcept {
  ob.direct_pending++;
  if (lane_add(lane, m) >= Outbox::kBatch)
    push_lane(w, lane, ob.direct_pending, true);
}

void Mail::push_lane(Worker* w, Lane& lane, uint32_t& pending,
                     bool run_next) noexcept {
  uint32_t n = lane.count;
  if (n == 0) return;
  lane.count = 0;
  pending -= n;
  push_chain(lane.p, lane.first, lane.last, n, w, run_next);
}

void Mail::flush(Worker* w) noexcept {
  Outbox& ob = outbox(w);
  if (!ob.direct_pending && !ob.fanout_pending) {
    ob.direct_used = 0;  // the lanes of the turn's first messages
    return;
  }
  if (ob.fanout_pending) flush_fan_out(ob, w);
  while (ob.direct_used > 0) {
    Lane lane = ob.direct[0];
    ob.direct[0] = ob.direct[--ob.direct_used];
    push_lane(w, lane, ob.direct_pending, true);
  }
}

// --- into one mailbox ----------------------------------------------------

// Room for one more message in a bounded mailbox? Reserves it if so.
bool Mail::reserve(Process* p) noexcept {
  uint64_t in = p->enqueued.fetch_add(1, std::memory_order_seq_cst);
  uint64_t out = p->dequeued.load(std::memory_order_seq_cst);
  if (static_cast<int64_t>(in - out) < static_cast<int64_t>(p->capacity))
    return true;
  p->enqueued.fetch_sub(1, std::memory_order_relaxed);
  return false;
}

airs_status Mail::deliver(Process* p, uint64_t to, Msg* m,
                          const Route& r) noexcept {
  m->to = to;
  if (p->capacity == 0) {
    count_in(p, r.worker, 1);
  } else if (r.admit == Admit::kSignal) {
    p->enqueued.fetch_add(1, std::memory_order_relaxed);
  } else {
    while (!reserve(p)) {
      if (r.admit == Admit::kUser && p->policy == AIRS_MAILBOX_DROP_NEWEST) {
        k_.observer.count_dropped(p);
        k_.observer.dead_letter(m, AIRS_DEAD_LETTER_MAILBOX_FULL);
        return AIRS_OK;
      }
      // Only a plain thread waits: a callback would stall its worker.
      if (r.admit == Admit::kUser && p->policy == AIRS_MAILBOX_BLOCK &&
          !current_ctx()) {
        airs_status st = wait_for_room(p, to);
        if (st == AIRS_OK) continue;
        return st;
      }
      k_.observer.count_dropped(p);
      return failf(AIRS_EFULL, "the mailbox is full (%u messages)",
                   p->capacity.load());
    }
  }
  if (m->signal == Signal::kNone && !is_system_type(m->type)) {
    count_sent(r.worker);
    k_.observer.stamp_sent(p, to, m);
  }
  if (p->push(m)) start(p, r.worker, r.run_next);
  return AIRS_OK;
}

airs_status Mail::wait_for_room(Process* p, uint64_t to) noexcept {
  using clock = std::chrono::steady_clock;
  auto deadline = clock::now() + std::chrono::milliseconds(p->block_timeout_ms);
  p->blocked_senders.fetch_add(1, std::memory_order_seq_cst);
  airs_status st = AIRS_OK;
  {
    std::unique_lock<std::mutex> lock(block_mu_);
    for (;;) {
      if (p->pid.load(std::memory_order_acquire) != to ||
          p->exiting.load(std::memory_order_acquire)) {
        st = fail(AIRS_ENOPROC, "the receiver ended while we waited");
        break;
      }
      uint64_t in = p->enqueued.load(std::memory_order_seq_cst);
      uint64_t out = p->dequeued.load(std::memory_order_seq_cst);
      if (static_cast<int64_t>(in - out) < static_cast<int64_t>(p->capacity))
        break;
      auto now = clock::now();
      if (now >= deadline) {
        k_.observer.count_dropped(p);
        st = failf(AIRS_ETIMEDOUT, "the mailbox stayed full for %u ms",
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

void Mail::room_made(Process* p) noexcept {
  // Dekker with wait_for_room(): our dequeue, then their count.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (p->blocked_senders.load(std::memory_order_relaxed)) {
    std::lock_guard<std::mutex> lock(block_mu_);
    block_cv_.notify_all();
  }
}

void Mail::push_chain(Process* p, Msg* first, Msg* last, uint32_t n, Worker* w,
                      bool run_next) noexcept {
  count_in(p, w, n);
  if (p->push_chain(first, last)) start(p, w, run_next);
}

// --- scheduling ------------------------------------------------------------

// A push found `p`'s mailbox idle, so the caller holds its consumer role:
// the process runs, or, if its slot has no live process (it ended after
// the sender's pid check), the caller drops the mail itself.
void Mail::start(Process* p, Worker* w, bool run_next) noexcept {
  if (!p->exiting.load(std::memory_order_acquire)) {
    k_.sched.submit(p, w, run_next);
    return;
  }
  settle_free(p);
}

void Mail::idle_or_run(Process* p, Worker* w, bool run_next) noexcept {
  if (!p->mark_idle()) {
    k_.sched.submit(p, w, run_next);
    return;
  }
  // A kill marked without a message while we ran: seen here, or by the
  // killer's claim (Dekker: it marks, then claims; we let go, then look).
  if (killed(p) && p->claim()) start(p, w, run_next);
}

bool Mail::killed(const Process* p) noexcept {
  return p->kill_gen.load(std::memory_order_seq_cst) ==
         pid_generation(p->pid.load(std::memory_order_acquire));
}

void Mail::wake(Process* p) noexcept {
  if (p->claim()) start(p, k_.sched.local_worker(), false);
}

// [the role, no live process in the slot] Drains it until it is idle,
// then answers what it took. Only then: a dead-letter hook may spawn, and
// the spawn takes this very slot (its process just ended, so it is on top
// of the free list) and waits for its mailbox's role, which must not be
// held by the thread that runs the hook.
void Mail::settle_free(Process* p) noexcept {
  Msg* first = nullptr;
  Msg* last = nullptr;
  do {
    while (Msg* m = p->take()) {
      p->detach(m);
      m->next.store(nullptr, std::memory_order_relaxed);
      if (last)
        last->next.store(m, std::memory_order_relaxed);
      else
        first = m;
      last = m;
    }
    p->drop_held();
  } while (!p->mark_idle());
  while (Msg* m = first) {
    first = next_of(m);
    undeliverable(m);
  }
}

void Mail::drain_dead(Process* p, Reason* ended_with) noexcept {
  while (Msg* m = p->take()) {
    p->detach(m);
    undeliverable(m, ended_with);
  }
  p->drop_held();
}

void Mail::undeliverable(Msg* m, Reason* ended_with) noexcept {
  if (m->signal == Signal::kNone)
    k_.observer.dead_letter(m, AIRS_DEAD_LETTER_EXITED);
  else
    k_.signals.undeliverable(m, ended_with);
}

}  // namespace airs
