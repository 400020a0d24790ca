// timer.hpp - one timer service per runtime: a min-heap of deadlines with a
// map of pending timers for O(1) cancel. On a threaded runtime a thread of
// its own fires timers; in host-driven mode airs_runtime_poll() does. The
// clock is the monotonic clock, or a manual one for deterministic tests.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <queue>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/config.hpp"

struct airs_msg;

namespace airs {

using Msg = ::airs_msg;

class TimerService {
 public:
  // Called outside the lock for each due timer: (target pid, message).
  using FireFn = std::function<void(uint64_t to, Msg* msg)>;

  TimerService(bool manual_clock, FireFn fire);
  ~TimerService();

  // Threaded runtimes only; cfg (its thread hook) must outlive the thread.
  bool start_thread(const Config& cfg);
  void stop();  // joins the thread; pending messages are returned
  std::vector<Msg*> take_pending();

  uint64_t now_ms() const;
  // Schedules `msg` for `to` in `delay_ms`; returns the timer id (never 0).
  uint64_t add(uint64_t to, uint64_t delay_ms, Msg* msg);
  // The message of a pending timer (now the caller's), or nullptr.
  Msg* cancel(uint64_t id);
  // Fires every due timer on the calling thread; returns how many fired.
  uint32_t fire_due();
  // ms until the next deadline: 0 = due now, -1 = none pending.
  int64_t next_due_ms();
  bool advance(uint64_t ms);  // false if the clock is not manual

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
  };

  uint64_t now_locked() const;
  void thread_main();

  const bool manual_;
  FireFn fire_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap_;
  std::unordered_map<uint64_t, Pending> pending_;
  uint64_t next_id_ = 1;
  uint64_t manual_now_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace airs
