// seeded.hpp - the seeded deterministic mode (AIRS_CFG_SEED; airs.h,
// "Deterministic mode"): a host-driven poll whose every step, one turn of
// a runnable process or the firing of one due timer, is picked by a PRNG
// seeded with the seed, so that a seed replays a run step for step.
//
// The run queues are not touched: a process becomes runnable into the
// host-driven worker's queues exactly as it does without a seed, so a
// send pays nothing for this mode. Before each step the poll moves what
// was queued into its own list, then picks from that list and from the
// timers due. The list outlives the poll: every poll of a seeded runtime
// comes here (Kernel::poll_steps: the host's, a waiting call's, free's),
// and a run does not depend on how its steps were cut into polls.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "airs/airs.h"
#include "base/prng.hpp"
#include "sched/scheduler.hpp"
#include "sched/timer.hpp"

namespace airs {

class SeededPoll {
 public:
  SeededPoll(uint64_t seed, Scheduler& sched, TimerService& timers) noexcept;
  SeededPoll(const SeededPoll&) = delete;
  SeededPoll& operator=(const SeededPoll&) = delete;

  // Runs up to `budget` steps; returns how many ran. 0 when called again
  // from inside its own trace hook. [one polling thread at a time]
  uint32_t poll(uint32_t budget) noexcept;

  // The trace hook (fn nullptr: none); the next poll uses it. [any thread]
  void set_trace(airs_trace_fn fn, void* user_data) noexcept;

 private:
  Prng rng_;
  Scheduler& sched_;
  TimerService& timers_;
  std::vector<Process*> runnable_;  // taken from the queues, not yet run
  uint64_t steps_ = 0;              // since the start: airs_trace_step.index
  bool polling_ = false;
  std::mutex hook_mu_;
  airs_trace_fn hook_ = nullptr;
  void* hook_data_ = nullptr;
};

}  // namespace airs
