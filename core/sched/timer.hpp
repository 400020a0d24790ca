// timer.hpp - one timer service per runtime: a min-heap of deadlines with a
// map of pending timers for O(1) cancel. On a threaded runtime a thread of
// its own fires timers; in host-driven mode the poll does. The clock is the
// monotonic clock, or a manual one for deterministic tests.
//
// A timer carries a message for a pid. When it fires, its filter (if any)
// decides first whether the message still matters (a request's timeout
// that lost the race to its reply does not), then the fire function
// delivers it. Both run outside the lock, on the firing thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <queue>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/config.hpp"
#include "sched/wake_fd.hpp"

struct airs_msg;

namespace airs {

using Msg = ::airs_msg;

// Decides, when a timer fires, whether its message still matters: false
// drops it (the timer service frees it). [the firing thread]
struct TimerFilter {
  bool (*fn)(void* ctx, uint64_t to, Msg* msg) noexcept = nullptr;
  void* ctx = nullptr;
};

class TimerService {
 public:
  // Delivers a due timer's message (consumes it). [the firing thread]
  using FireFn = void (*)(void* ctx, uint64_t to, Msg* msg) noexcept;
  using Filter = TimerFilter;

  TimerService(bool manual_clock, FireFn fire, void* fire_ctx) noexcept;
  ~TimerService();

  // Threaded runtimes only; cfg (its thread hook) must outlive the thread.
  // false: the thread could not be started.
  bool start_thread(const Config& cfg) noexcept;
  void stop() noexcept;  // joins the thread
  // Frees the messages of every pending timer (after stop()); returns
  // how many there were.
  size_t free_pending() noexcept;

  uint64_t now_ms() const noexcept;
  // Schedules `msg` for `to` in `delay_ms`; returns the timer id (never 0),
  // or 0 when there is no memory (msg stays the caller's). [any thread]
  uint64_t add(uint64_t to, uint64_t delay_ms, Msg* msg,
               Filter filter = {}) noexcept;
  // The message of a pending timer (now the caller's), or nullptr.
  Msg* cancel(uint64_t id) noexcept;
  // Cancels timer `id` (0: none) and frees its message, if it is pending.
  void cancel_and_free(uint64_t id) noexcept;
  // Fires every due timer on the calling thread; returns how many fired.
  uint32_t fire_due() noexcept;

  // The seeded mode (seeded.hpp) fires due timers one at a time, in an
  // order it picks. take_due() moves every timer due now to the ready
  // list (in deadline order) and returns how many wait there; fire_ready(i)
  // takes the i-th of them off the list and fires it, writing its id and
  // target: false if it was cancelled meanwhile (then nothing fired). A
  // ready timer is still pending: cancel() finds it, next_due_ms() says 0,
  // and fire_due() fires it first. [the polling thread]
  size_t take_due() noexcept;
  bool fire_ready(size_t i, uint64_t* id, uint64_t* to) noexcept;
  // ms until the next deadline: 0 = due now, -1 = none pending.
  int64_t next_due_ms() noexcept;
  bool advance(uint64_t ms) noexcept;  // false if the clock is not manual
  // Host-driven mode: a timer added with a new earliest deadline signals
  // `wake`, so a host asleep on the fd polls and re-arms its wait.
  // [any thread, once]
  void set_host_wake(WakeFd* wake) noexcept {
    host_wake_.store(wake, std::memory_order_release);
  }
  // Deadline entries held: the pending timers plus cancelled ones not yet
  // dropped, at most twice the pending plus kCompactFloor. [any thread]
  size_t entries() const noexcept;
  static constexpr size_t kCompactFloor = 1024;

 private:
  struct Entry {
    uint64_t deadline;
    uint64_t id;
    bool operator>(const Entry& o) const {
      return deadline != o.deadline ? deadline > o.deadline : id > o.id;
    }
  };
  struct Pending {
    uint64_t to;
    Msg* msg;
    Filter filter;
  };

  uint64_t now_locked() const noexcept;
  void fire(Pending& p) noexcept;  // outside the lock
  void thread_main() noexcept;

  const bool manual_;
  const FireFn fire_;
  void* const fire_ctx_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  // The earliest deadline on top. A cancel leaves its entry (found by id
  // in `pending_`, it is skipped when it comes up) until cancelled entries
  // outnumber pending ones: then they are dropped at once (compact_locked).
  struct Heap
      : std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> {
    template <class Keep>
    void keep_only(Keep&& keep) noexcept;
  };
  void compact_locked() noexcept;
  Heap heap_;
  std::vector<Entry> ready_;  // due, taken off the heap (take_due)
  std::unordered_map<uint64_t, Pending> pending_;
  uint64_t next_id_ = 1;
  uint64_t manual_now_ = 0;
  bool stopping_ = false;
  std::thread thread_;
  std::atomic<WakeFd*> host_wake_{nullptr};
};

}  // namespace airs
