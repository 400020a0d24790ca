// scheduler.hpp - worker threads and run queues. The scheduler knows
// processes only as things to run: a turn is the kernel's (RunFn).
//
// A runnable process sits in exactly one place: a worker's `next` slot, its
// local ring, or the shared queue. A process whose turn emptied its
// mailbox may also be kept by its worker for one more turn (linger): not
// idle, so a push does not schedule it, and in no queue; the worker
// settles it after that turn. A process made runnable from inside a
// callback goes to the caller's `next` slot, so two actors talking to each
// other stay on one worker and never bounce a cache line between cores;
// other workers are woken only when a local ring has a backlog or work
// arrives from outside. Idle workers steal half of a busy ring, then park
// until woken: an idle runtime uses no CPU.
//
// Parking and I/O. Once the reactor is open (io/reactor.hpp), the first
// worker to park waits in epoll instead of on its futex: it is the I/O
// waiter, and at most one worker is at a time. The events it wakes for
// are handled on its own thread, so the processes they make runnable go
// to its own ring and run there with no hand-off between threads. It is
// woken for other work through the reactor's wake fd. While no worker
// waits in epoll (all are busy), each one looks at ready I/O without
// waiting every kOutsideInterval turns, and in its spin rounds.
#pragma once

#include <concurrentqueue/concurrentqueue.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "base/config.hpp"
#include "mail/message.hpp"
#include "sched/inject_queue.hpp"
#include "sched/io_hooks.hpp"
#include "sched/run_queue.hpp"
#include "sched/wake_fd.hpp"

namespace airs {

class Scheduler;
struct Process;
struct Worker;

// Runs one turn of `p` on worker `w`; returns its cost (messages handled
// plus messages sent), which fairness accounts for. [the worker's thread]
using RunFn = uint64_t (*)(void* ctx, Process* p, Worker* w) noexcept;

// Gives back the consumer role of a process whose turn on `w` left its
// mailbox empty (Scheduler::linger), or, if mail (or a kill) came since,
// submits it to w's `next` slot. [w's thread, p's role]
using SettleFn = void (*)(void* ctx, Process* p, Worker* w) noexcept;

struct Worker {
  const Scheduler* owner = nullptr;
  uint32_t id = 0;  // 0..workers-1 (the host-driven worker is 0)
  RunRing ring;
  Process* next = nullptr;   // owner only
  uint32_t next_streak = 0;  // turns in a row taken from `next`
  // Owner only. A process whose turn here left its mailbox empty keeps
  // its role until the end of the worker's next turn (Scheduler::linger):
  // `lingering` is the one the turn under way kept, `lingered` the one
  // the turn before it kept. Neither is in any queue.
  Process* lingering = nullptr;
  Process* lingered = nullptr;
  uint32_t tick = 0;
  uint32_t rng = 0;
  // Work owed to local processes: the cost of the last turns taken from
  // the shared queue. While it is owed, local (and stolen) work comes
  // first, so a long job from outside cannot starve a local backlog.
  uint64_t credit = 0;
  // Counters for airs_runtime_stats: written by this worker's thread only
  // (a relaxed load and store, no locked instruction), read by the stats
  // call. User messages this worker accepted into a mailbox / handed to
  // receive, and processes that ended here.
  std::atomic<uint64_t> sent{0};
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> exited{0};
  // For the metrics, also written by this worker's thread only: half
  // rings stolen from other workers; time spent without work (spinning
  // or parked), and when the current stretch of it began (0: busy). The
  // clock is read only when a worker runs out of work and when it finds
  // some again, never per turn.
  std::atomic<uint64_t> steals{0};
  std::atomic<uint64_t> idle_ns{0};
  std::atomic<uint64_t> idle_since_ns{0};
  uint64_t started_ns = 0;
  std::atomic<uint32_t> wake{0};  // futex word for parking
  std::thread thread;
};

// The totals of the workers' own counters.
struct WorkerCounts {
  uint64_t sent = 0;
  uint64_t delivered = 0;
  uint64_t exited = 0;
};

class Scheduler {
 public:
  // Every this many turns a worker takes a process made runnable from
  // outside (a plain thread's send, a timer), if one waits, and looks at
  // the shared overflow: work from outside waits behind at most the
  // outside work queued before it, never behind local work (airs.h).
  static constexpr uint32_t kOutsideInterval = 61;

  // `threads` workers; 0 = host-driven (one thread-less worker for poll).
  // `cfg` (its thread hook) must outlive the scheduler. `run` and
  // `settle` are the kernel's, called with `run_ctx`.
  Scheduler(const Config& cfg, RunFn run, SettleFn settle, void* run_ctx);
  ~Scheduler();

  bool start();  // false if a thread could not be started
  void stop_and_join();

  // Makes `p` runnable. From a worker of this runtime (w != nullptr), to
  // its `next` slot (as_next) or its ring; else to the inject queue, from
  // which every worker takes one every kOutsideInterval turns, whatever
  // its own backlog.
  void submit(Process* p, Worker* w, bool as_next) noexcept;

  // At the end of a turn of `p` on worker `w` that left p's mailbox empty:
  // true if `w` keeps p's consumer role until the end of its next turn,
  // instead of the caller giving it back (SettleFn) now. That is when w
  // has a process to run next: one p's turn made runnable, or the one p
  // answered (kept by the turn before, which this call settles first).
  // A reply that comes meanwhile finds p still scheduled, so a request
  // and its reply between two processes on one worker cost one locked
  // instruction a hop, not two (the push; not also the compare-exchange
  // that idles the mailbox). After that next turn, or when `w` runs out
  // of work, p is settled: idle, or run next if mail came. The price:
  // mail from other threads for p waits for the end of that next turn,
  // which is as long as the callback it runs (airs.h, Scheduling).
  // false on the host-driven worker (a poll ends with nothing kept), on
  // other runtimes' workers, and when nothing is to run next.
  // [w's thread, inside p's turn, once per turn]
  bool linger(Process* p, Worker* w) noexcept;

  // Host-driven mode: runs up to `budget` turns on the calling thread.
  uint32_t poll(uint32_t budget) noexcept;

  // For the seeded mode (seeded.hpp), which picks the next turn itself.
  // take_runnable appends every process queued for the host-driven worker
  // (its next slot, its ring, the inject queue, the overflow) to `out`,
  // in that order; when `out` cannot grow it stops, the rest stay queued.
  // run_host runs one turn of `p` on this thread as the host-driven worker
  // and returns its cost. [the polling thread]
  void take_runnable(std::vector<Process*>& out) noexcept;
  uint64_t run_host(Process* p) noexcept;

  Worker* host_worker() noexcept { return host_.get(); }
  // The worker of this scheduler running on this thread, else nullptr.
  Worker* local_worker() const noexcept;
  // Workers (1 when host-driven): their ids are 0..count-1.
  uint32_t worker_count() const noexcept {
    return workers_.empty() ? 1 : static_cast<uint32_t>(workers_.size());
  }
  // Adds the counters of every worker to *out (stats).
  void add_counters(WorkerCounts* out) const noexcept;
  // Worker `i`'s time with work since it started, and its steals (the
  // host-driven worker: the time of its polls is not kept, 0). [any
  // thread]
  struct WorkerLoad {
    uint64_t busy_ns = 0;
    uint64_t steals = 0;
  };
  WorkerLoad worker_load(uint32_t i) const noexcept;
  bool threaded() const noexcept { return !workers_.empty(); }

  // Host-driven mode: from now on work made runnable from outside the
  // poll signals `wake` (wake_fd.hpp). Set once, before the host reads
  // the fd; `wake` outlives the scheduler's use of it. [any thread]
  void set_host_wake(WakeFd* wake) noexcept {
    host_wake_.store(wake, std::memory_order_release);
  }
  // Where the turns of processes marked kOnPool go (the blocking pool,
  // io/): `fn` queues one and returns true, or false when it cannot (no
  // memory, no thread), and the process then runs on a worker after all.
  // Set once, before any spawn. [the creating thread]
  using OffloadFn = bool (*)(void* ctx, Process* p) noexcept;
  void set_offload(OffloadFn fn, void* ctx) noexcept {
    offload_ = fn;
    offload_ctx_ = ctx;
  }
  // Sets the hooks (the reactor opened), or takes them away (nullptr: the
  // reactor stops; a wait under way is woken). `io` outlives the workers.
  // [any thread]
  void set_io(const IoHooks* io) noexcept;
  // Whether the host-driven worker has a process queued. [the poller]
  bool host_has_work() noexcept;

 private:
  // Inlined: the worker loop's hot path, called from two places.
  [[gnu::always_inline]] inline Process* find_local(Worker* w,
                                                    bool* from_shared) noexcept;
  void run_one(Worker* w, Process* p, bool from_shared) noexcept;
  void settle_lingered(Worker* w) noexcept;
  Process* find_remote(Worker* w) noexcept;
  [[gnu::always_inline]] inline Process* find_work(Worker* w,
                                                   bool* from_shared) noexcept;
  Process* wait_for_work(Worker* w, bool* from_shared) noexcept;
  bool has_visible_work() noexcept;
  void push_ring(Worker* w, Process* p) noexcept;
  void wake_one() noexcept;
  bool wake_io_waiter_locked() noexcept;
  void park(Worker* w) noexcept;
  void wait_for_io(const IoHooks* io) noexcept;
  void leave_io_wait_locked() noexcept;
  [[gnu::always_inline]] inline void poll_io_when_busy(Worker* w) noexcept;
  void worker_main(Worker* w) noexcept;

  const Config& cfg_;
  const RunFn run_;
  const SettleFn settle_;
  void* const run_ctx_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<Worker> host_;
  // Work from outside the workers, in order (inject_queue.hpp); a ring's
  // overflow, and what inject_ has no memory for, goes to shared_.
  InjectQueue inject_;
  moodycamel::ConcurrentQueue<Process*> shared_;
  std::atomic<bool> stopping_{false};
  alignas(64) std::atomic<int> idle_count_{0};
  // Counts the parked workers, the I/O waiter included. Under idle_mu_:
  // idle_ (the workers parked on their futex), io_waiter_ (written only
  // under it, read without it by busy workers), io_woken_ (whether the
  // waiter was woken, and so no longer counted) and io_wait_hooks_ (the
  // hooks the waiter waits in).
  std::mutex idle_mu_;
  std::vector<Worker*> idle_;
  std::atomic<Worker*> io_waiter_{nullptr};
  bool io_woken_ = false;
  const IoHooks* io_wait_hooks_ = nullptr;
  std::atomic<const IoHooks*> io_{nullptr};
  std::atomic<WakeFd*> host_wake_{nullptr};
  OffloadFn offload_ = nullptr;
  void* offload_ctx_ = nullptr;
};

// The monotonic clock in ns (CLOCK_MONOTONIC, the vDSO's: no system call).
uint64_t mono_ns() noexcept;

// The worker running on this thread (nullptr on other threads).
Worker* current_worker() noexcept;

// +n on a counter only its owner thread writes.
inline void count_add(std::atomic<uint64_t>& c, uint64_t n) noexcept {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}
inline void count_one(std::atomic<uint64_t>& c) noexcept {
  count_add(c, 1);
}

}  // namespace airs
