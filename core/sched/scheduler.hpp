// scheduler.hpp - worker threads and run queues.
//
// A runnable process sits in exactly one place: a worker's `next` slot, its
// local ring, or the shared queue. A process made runnable from inside a
// callback goes to the caller's `next` slot, so two actors talking to each
// other stay on one worker and never bounce a cache line between cores;
// other workers are woken only when a local ring has a backlog or work
// arrives from outside. Idle workers steal half of a busy ring, then park
// on a futex until woken: an idle runtime uses no CPU.
#pragma once

#include <concurrentqueue/concurrentqueue.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "mail/message.hpp"
#include "sched/run_queue.hpp"

namespace airs {

class Runtime;
struct Process;

// Messages a callback on this worker sent to one unbounded mailbox, not yet
// pushed: they go in with one exchange at the end of the turn (or when the
// batch is full), so senders on two cores do not fight over the receiver's
// cache line once per message.
struct OutboxEntry {
  Process* p;
  uint64_t to;
  Msg* first;
  Msg* last;
  uint32_t count;
};

struct Worker {
  static constexpr uint32_t kOutboxSlots = 8;
  static constexpr uint32_t kOutboxBatch = 64;
  Runtime* rt = nullptr;
  uint32_t id = 0;
  RunRing ring;
  Process* next = nullptr;   // owner only
  uint32_t next_streak = 0;  // turns in a row taken from `next`
  uint32_t tick = 0;
  uint32_t rng = 0;
  // Work owed to local processes: the cost of the last turns taken from
  // the shared queue. While it is owed, local (and stolen) work comes
  // first, so a long job from outside cannot starve a local backlog.
  uint64_t credit = 0;
  uint32_t outbox_used = 0;
  // Messages a publish on this worker staged in the broker and has not
  // pushed yet (broker.hpp); flush_outbox pushes them too.
  uint32_t fanout_pending = 0;
  // Counters for airs_runtime_stats: written by this worker's thread only
  // (a relaxed load and store, no locked instruction), read by the stats
  // call. User messages this worker accepted into a mailbox / handed to
  // receive, and processes that ended here. On the owner's line, with
  // outbox_used.
  std::atomic<uint64_t> sent{0};
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> exited{0};
  OutboxEntry outbox[kOutboxSlots];
  std::atomic<uint32_t> wake{0};  // futex word for parking
  std::thread thread;
};

// The sum of the workers' counters.
struct WorkerCounts {
  uint64_t sent = 0;
  uint64_t delivered = 0;
  uint64_t exited = 0;
};

class Scheduler {
 public:
  // `threads` workers; 0 = host-driven (one thread-less worker for poll).
  Scheduler(Runtime& rt, uint32_t threads);
  ~Scheduler();

  bool start();  // false if a thread could not be started
  void stop_and_join();

  // Makes `p` runnable. From a worker of this runtime (w != nullptr), to
  // its `next` slot (as_next) or its ring; else to the shared queue.
  void submit(Process* p, Worker* w, bool as_next) noexcept;

  // Host-driven mode: runs up to `budget` turns on the calling thread.
  uint32_t poll(uint32_t budget) noexcept;

  Worker* host_worker() noexcept { return host_; }
  // Adds the counters of every worker to *out (stats).
  void add_counters(WorkerCounts* out) const noexcept;
  bool threaded() const noexcept { return !workers_.empty(); }

 private:
  Process* find_local(Worker* w, bool* from_shared) noexcept;
  void run_one(Worker* w, Process* p, bool from_shared) noexcept;
  Process* find_remote(Worker* w) noexcept;
  bool has_visible_work() noexcept;
  void push_ring(Worker* w, Process* p) noexcept;
  void wake_one() noexcept;
  void park(Worker* w) noexcept;
  void worker_main(Worker* w) noexcept;

  Runtime& rt_;
  std::vector<Worker*> workers_;
  Worker* host_ = nullptr;
  moodycamel::ConcurrentQueue<Process*> shared_;
  std::atomic<bool> stopping_{false};
  alignas(64) std::atomic<int> idle_count_{0};
  std::mutex idle_mu_;
  std::vector<Worker*> idle_;
};

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
