#include "sched/scheduler.hpp"

#include <algorithm>
#include <ctime>
#include <new>

#include "base/alloc.hpp"
#include "base/spin.hpp"
#include "mail/payload_defer.hpp"
#include "process/process.hpp"

namespace airs {

namespace {

// initial-exec: two pointers read on every send; no __tls_get_addr call.
__attribute__((tls_model("initial-exec"))) thread_local Worker* tls_worker =
    nullptr;

// Turns a worker may take from its `next` slot in a row before it lets the
// ring run: two actors ping-ponging must not starve the rest.
constexpr uint32_t kMaxNextStreak = 64;
// Rounds of looking for work before a worker parks.
constexpr int kSpinRounds = 64;
// The least room in its ring with which a busy worker looks at I/O.
constexpr int kMinIoRoom = 32;

// The room left in `w`'s ring: the most I/O events a look may take (each
// makes at most one process runnable there).
inline int ring_room(const Worker* w) noexcept {
  return int(RunRing::kSize - w->ring.size());
}

// A spin round's wait: where the CPU has no pause hint, the thread yields
// instead of burning the core.
inline void cpu_relax() noexcept {
  if constexpr (kCpuHasPause)
    cpu_pause();
  else
    std::this_thread::yield();
}

}  // namespace

Worker* current_worker() noexcept {
  return tls_worker;
}

Scheduler::Scheduler(const Config& cfg, RunFn run, SettleFn settle,
                     void* run_ctx)
    : cfg_(cfg), run_(run), settle_(settle), run_ctx_(run_ctx) {
  for (uint32_t i = 0; i < cfg.workers; i++) {
    auto w = std::make_unique<Worker>();
    w->owner = this;
    w->id = i;
    w->rng = 0x9E3779B9u * (i + 1);
    workers_.push_back(std::move(w));
  }
  if (cfg.workers == 0) {
    host_ = std::make_unique<Worker>();
    host_->owner = this;
  }
  idle_.reserve(workers_.size());  // park() then never allocates
}

Worker* Scheduler::local_worker() const noexcept {
  Worker* w = tls_worker;
  return w && w->owner == this ? w : nullptr;
}

Scheduler::~Scheduler() {
  stop_and_join();
}

bool Scheduler::start() {
  for (auto& owned : workers_) {
    Worker* w = owned.get();
    w->started_ns = mono_ns();
    try {
      w->thread = std::thread(
          [this, w] { run_runtime_thread(cfg_, [&] { worker_main(w); }); });
    } catch (...) {
      stop_and_join();
      return false;
    }
  }
  return true;
}

void Scheduler::stop_and_join() {
  stopping_.store(true, std::memory_order_seq_cst);
  {
    std::lock_guard<std::mutex> lock(idle_mu_);
    for (Worker* w : idle_) {
      w->wake.store(1, std::memory_order_release);
      w->wake.notify_one();
    }
    idle_.clear();
    wake_io_waiter_locked();
    idle_count_.store(0, std::memory_order_seq_cst);
  }
  for (auto& w : workers_)
    if (w->thread.joinable()) w->thread.join();
}

void Scheduler::push_ring(Worker* w, Process* p) noexcept {
  if (!w->ring.push(p)) {
    shared_.enqueue(p);
  } else if (w->ring.size() < 2 && !w->next) {
    // The only thing this worker has to do next: another worker would just
    // steal it and move its cache lines across cores. Not a backlog.
    return;
  }
  // Dekker with park(): the push above is visible before we read the idle
  // count, or the parking worker's re-check sees the push.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (idle_count_.load(std::memory_order_relaxed) > 0) wake_one();
}

void Scheduler::submit(Process* p, Worker* w, bool as_next) noexcept {
  if (p->flags.load(std::memory_order_relaxed) & kOnPool) [[unlikely]] {
    if (offload_ && offload_(offload_ctx_, p)) return;
  }
  if (w && w->owner == this) {
    if (as_next) {
      Process* old = w->next;
      w->next = p;
      if (!old) return;
      p = old;
    }
    push_ring(w, p);
    return;
  }
  if (!inject_.push(p)) shared_.enqueue(p);
  if (!threaded()) {
    if (WakeFd* wake = host_wake_.load(std::memory_order_acquire))
      wake->signal();
    return;
  }
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (idle_count_.load(std::memory_order_relaxed) > 0) wake_one();
}

Process* Scheduler::find_local(Worker* w, bool* from_shared) noexcept {
  Process* p;
  *from_shared = false;
  if (++w->tick % kOutsideInterval == 0) {
    poll_io_when_busy(w);
    // Outside work first, whatever the local backlog: the bound airs.h
    // states. The overflow only once local work has repaid what the last
    // one cost (credit).
    if ((p = inject_.pop())) return p;
    if (w->credit == 0 && shared_.try_dequeue(p)) {
      *from_shared = true;
      return p;
    }
  }
  if (w->next && w->next_streak < kMaxNextStreak) {
    p = w->next;
    w->next = nullptr;
    w->next_streak++;
    return p;
  }
  w->next_streak = 0;
  if ((p = w->ring.pop())) return p;
  if (w->next) {
    p = w->next;
    w->next = nullptr;
    return p;
  }
  if (w->credit > 0) {
    // Repay local work by helping another worker's backlog first.
    if ((p = find_remote(w))) return p;
    w->credit = 0;
  }
  if ((p = inject_.pop())) return p;
  if (shared_.try_dequeue(p)) {
    *from_shared = true;
    return p;
  }
  return nullptr;
}

void Scheduler::run_one(Worker* w, Process* p, bool from_shared) noexcept {
  uint64_t cost = run_(run_ctx_, p, w);
  if (from_shared)
    w->credit += cost;
  else
    w->credit -= cost < w->credit ? cost : w->credit;
  // The process the turn before this one kept is settled (unless this
  // turn's linger did); the one this turn kept waits through the next.
  settle_lingered(w);
  w->lingered = w->lingering;
  w->lingering = nullptr;
}

bool Scheduler::linger(Process* p, Worker* w) noexcept {
  if (workers_.empty() || w->owner != this) return false;
  // The one the turn before kept is settled first: if this turn answered
  // it, it runs next (its role was never given back).
  settle_lingered(w);
  // Kept only for a turn that is sure to come at once: what runs next.
  if (!w->next) return false;
  w->lingering = p;
  return true;
}

// The process the turn before kept goes idle, or runs next if mail came.
// Also before a worker waits for work, or stops: nothing is kept then.
void Scheduler::settle_lingered(Worker* w) noexcept {
  Process* p = w->lingered;
  w->lingered = nullptr;
  if (p) settle_(run_ctx_, p, w);
}

Process* Scheduler::find_remote(Worker* w) noexcept {
  size_t n = workers_.size();
  if (n < 2) return nullptr;
  w->rng = w->rng * 1664525u + 1013904223u;
  size_t start = w->rng % n;
  for (size_t i = 0; i < n; i++) {
    Worker* victim = workers_[(start + i) % n].get();
    if (victim == w) continue;
    if (Process* p = victim->ring.steal_into(w->ring)) {
      count_one(w->steals);
      return p;
    }
  }
  return nullptr;
}

bool Scheduler::has_visible_work() noexcept {
  if (inject_.size() > 0 || shared_.size_approx() > 0) return true;
  for (auto& w : workers_)
    if (!w->ring.empty()) return true;
  return false;
}

// A busy worker's look at ready I/O while no worker waits in epoll: else
// the events of sockets whose processes are all on busy workers would wait
// until one of those workers runs out of work.
void Scheduler::poll_io_when_busy(Worker* w) noexcept {
  const IoHooks* io = io_.load(std::memory_order_acquire);
  if (!io || io_waiter_.load(std::memory_order_relaxed)) return;
  // A ring nearly full has work enough; its I/O waits for the next look.
  int room = ring_room(w);
  if (room >= kMinIoRoom) io->poll(io->ctx, room);
}

void Scheduler::set_io(const IoHooks* io) noexcept {
  if (io) {
    io_.store(io, std::memory_order_release);
    // Workers that parked on their futex before the reactor opened: one
    // of them comes back, finds nothing, and parks again as the waiter.
    wake_one();
    return;
  }
  std::lock_guard<std::mutex> lock(idle_mu_);
  io_.store(nullptr, std::memory_order_release);
  wake_io_waiter_locked();
}

// Wakes the I/O waiter if there is one that was not woken yet (and no
// longer counts it as parked): true if so. [idle_mu_ held]
bool Scheduler::wake_io_waiter_locked() noexcept {
  if (!io_waiter_.load(std::memory_order_relaxed) || io_woken_) return false;
  io_woken_ = true;
  idle_count_.fetch_sub(1, std::memory_order_seq_cst);
  io_wait_hooks_->wake(io_wait_hooks_->ctx);
  return true;
}

// A worker parked on its futex is woken first: the waiter in epoll stays
// there, where it sees I/O at once.
void Scheduler::wake_one() noexcept {
  Worker* w = nullptr;
  {
    std::lock_guard<std::mutex> lock(idle_mu_);
    if (idle_.empty()) {
      wake_io_waiter_locked();
      return;
    }
    w = idle_.back();
    idle_.pop_back();
    idle_count_.fetch_sub(1, std::memory_order_seq_cst);
  }
  w->wake.store(1, std::memory_order_release);
  w->wake.notify_one();
}

// Parks `w`: as the I/O waiter if the reactor is open and no worker is
// the waiter, else on its futex. Returns when woken, or at once when work
// is visible (or the scheduler stops).
void Scheduler::park(Worker* w) noexcept {
  w->wake.store(0, std::memory_order_relaxed);
  const IoHooks* io = nullptr;
  {
    std::lock_guard<std::mutex> lock(idle_mu_);
    if (stopping_.load(std::memory_order_acquire)) return;
    io = io_.load(std::memory_order_acquire);
    if (io && !io_waiter_.load(std::memory_order_relaxed)) {
      io_waiter_.store(w, std::memory_order_relaxed);
      io_woken_ = false;
      io_wait_hooks_ = io;
    } else {
      io = nullptr;
      idle_.push_back(w);
    }
    idle_count_.fetch_add(1, std::memory_order_seq_cst);
  }
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (has_visible_work()) {
    std::lock_guard<std::mutex> lock(idle_mu_);
    if (io) {
      leave_io_wait_locked();
      return;
    }
    auto it = std::find(idle_.begin(), idle_.end(), w);
    if (it != idle_.end()) {
      idle_.erase(it);
      idle_count_.fetch_sub(1, std::memory_order_seq_cst);
      return;
    }
    // Someone already popped us to wake us: fall through and take it.
  }
  if (io) {
    wait_for_io(io);
    return;
  }
  while (w->wake.load(std::memory_order_acquire) == 0) w->wake.wait(0);
}

// The waiter's wait. It stops counting as parked before it handles what
// it found, so that the work this makes wakes another worker, not itself;
// it keeps the role until then, since what it found is kept for it alone.
void Scheduler::wait_for_io(const IoHooks* io) noexcept {
  io->wait(io->ctx);
  {
    std::lock_guard<std::mutex> lock(idle_mu_);
    if (!io_woken_) {
      io_woken_ = true;
      idle_count_.fetch_sub(1, std::memory_order_seq_cst);
    }
  }
  io->dispatch(io->ctx);
  std::lock_guard<std::mutex> lock(idle_mu_);
  leave_io_wait_locked();
}

// The waiter gives the role back. [idle_mu_ held]
void Scheduler::leave_io_wait_locked() noexcept {
  if (!io_woken_) idle_count_.fetch_sub(1, std::memory_order_seq_cst);
  io_waiter_.store(nullptr, std::memory_order_relaxed);
}

// A stretch without work begins or ends: the metrics' busy time is the
// rest. Only these two read the clock, never a turn.
static void idle_begins(Worker* w) noexcept {
  w->idle_since_ns.store(mono_ns(), std::memory_order_relaxed);
}
static void idle_ends(Worker* w) noexcept {
  uint64_t since = w->idle_since_ns.load(std::memory_order_relaxed);
  w->idle_since_ns.store(0, std::memory_order_relaxed);
  count_add(w->idle_ns, mono_ns() - since);
}

Process* Scheduler::find_work(Worker* w, bool* from_shared) noexcept {
  Process* p = find_local(w, from_shared);
  return p ? p : find_remote(w);
}

// Spins, reading ready I/O between rounds, then parks, until there is
// work (returned) or I/O made some runnable, or the scheduler stops
// (nullptr for both: the caller looks again).
Process* Scheduler::wait_for_work(Worker* w, bool* from_shared) noexcept {
  for (int rounds = 1; !stopping_.load(std::memory_order_acquire);) {
    if (Process* p = find_work(w, from_shared)) return p;
    if (++rounds < kSpinRounds) {
      // Ready I/O is read here, so the actor it wakes runs on this worker
      // at once, even while another worker waits in epoll. A round in
      // which another worker was looking spins instead: else the rounds
      // pass in a few microseconds, and the worker parks (in epoll, to be
      // woken for each event) where it would have caught the next event
      // awake (echo p50 14 -> 30 us in half the runs).
      if (const IoHooks* io = io_.load(std::memory_order_acquire)) {
        int got = io->poll(io->ctx, ring_room(w));
        if (got > 0) return nullptr;
        if (got == 0) continue;
      }
      for (int i = 0; i < 32; i++) cpu_relax();
      continue;
    }
    rounds = 1;
    park(w);
  }
  return nullptr;
}

void Scheduler::worker_main(Worker* w) noexcept {
  tls_worker = w;
  payload_defer_begin();
  uint32_t turns = 0;  // since the held payload references went back
  bool from_shared = false;
  while (!stopping_.load(std::memory_order_acquire)) {
    Process* p = find_work(w, &from_shared);
    if (!p && w->lingered) {
      settle_lingered(w);
      p = find_work(w, &from_shared);
    }
    if (!p) {
      // Out of work: nothing is held while idle.
      turns = 0;
      payload_defer_flush();
      idle_begins(w);
      p = wait_for_work(w, &from_shared);
      idle_ends(w);
      if (!p) continue;
    }
    run_one(w, p, from_shared);
    if (++turns == kFlushTurns) {
      turns = 0;
      payload_defer_flush();
    }
  }
  settle_lingered(w);
  payload_defer_end();
  tls_worker = nullptr;
}

void Scheduler::add_counters(WorkerCounts* out) const noexcept {
  auto add = [&](const Worker* w) {
    out->sent += w->sent.load(std::memory_order_relaxed);
    out->delivered += w->delivered.load(std::memory_order_relaxed);
    out->exited += w->exited.load(std::memory_order_relaxed);
  };
  for (auto& w : workers_) add(w.get());
  if (host_) add(host_.get());
}

Scheduler::WorkerLoad Scheduler::worker_load(uint32_t i) const noexcept {
  WorkerLoad out;
  if (i >= workers_.size()) return out;
  const Worker* w = workers_[i].get();
  uint64_t now = mono_ns();
  uint64_t idle = w->idle_ns.load(std::memory_order_relaxed);
  uint64_t since = w->idle_since_ns.load(std::memory_order_relaxed);
  if (since && since < now) idle += now - since;
  uint64_t up = w->started_ns && w->started_ns < now ? now - w->started_ns : 0;
  out.busy_ns = up > idle ? up - idle : 0;
  out.steals = w->steals.load(std::memory_order_relaxed);
  return out;
}

uint64_t mono_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

uint32_t Scheduler::poll(uint32_t budget) noexcept {
  Worker* saved = tls_worker;
  tls_worker = host_.get();
  uint32_t ran = 0;
  while (ran < budget) {
    bool from_shared;
    Process* p = find_local(host_.get(), &from_shared);
    if (!p) break;
    run_one(host_.get(), p, from_shared);
    ran++;
  }
  tls_worker = saved;
  return ran;
}

bool Scheduler::host_has_work() noexcept {
  Worker* w = host_.get();
  return w->next || !w->ring.empty() || inject_.size() > 0 ||
         shared_.size_approx() > 0;
}

void Scheduler::take_runnable(std::vector<Process*>& out) noexcept {
  Worker* w = host_.get();
  // Room first, then the pop: a process is never out of every queue.
  auto room = [&out]() noexcept {
    if (out.size() < out.capacity()) return true;
    try {
      out.reserve(out.capacity() * 2 + 16);
    } catch (const std::bad_alloc&) {
      return false;
    }
    return true;
  };
  Process* p;
  if (w->next && room()) {
    out.push_back(w->next);
    w->next = nullptr;
  }
  while (!w->ring.empty() && room() && (p = w->ring.pop())) out.push_back(p);
  // The size checks spare the inject queue's lock and the overflow's scan
  // when they are empty, as they nearly always are.
  while (inject_.size() > 0 && room() && (p = inject_.pop())) out.push_back(p);
  while (shared_.size_approx() > 0 && room() && shared_.try_dequeue(p))
    out.push_back(p);
}

uint64_t Scheduler::run_host(Process* p) noexcept {
  Worker* saved = tls_worker;
  tls_worker = host_.get();
  uint64_t cost = run_(run_ctx_, p, host_.get());
  tls_worker = saved;
  return cost;
}

}  // namespace airs
