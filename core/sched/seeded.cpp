// seeded.cpp - the seeded poll: pick, run, trace, one step at a time.
#include "sched/seeded.hpp"

#include "process/process.hpp"

namespace airs {

SeededPoll::SeededPoll(uint64_t seed, Scheduler& sched,
                       TimerService& timers) noexcept
    : rng_(seed), sched_(sched), timers_(timers) {}

void SeededPoll::set_trace(airs_trace_fn fn, void* user_data) noexcept {
  std::lock_guard<std::mutex> lock(hook_mu_);
  hook_ = fn;
  hook_data_ = fn ? user_data : nullptr;
}

uint32_t SeededPoll::poll(uint32_t budget) noexcept {
  if (polling_) return 0;  // a trace hook polling (airs.h forbids it)
  polling_ = true;
  airs_trace_fn hook;
  void* hook_data;
  {
    std::lock_guard<std::mutex> lock(hook_mu_);
    hook = hook_;
    hook_data = hook_data_;
  }
  const Worker* host = sched_.host_worker();
  uint32_t steps = 0;
  while (steps < budget) {
    sched_.take_runnable(runnable_);
    size_t due = timers_.take_due();
    size_t choices = runnable_.size() + due;
    if (choices == 0) break;
    size_t pick = static_cast<size_t>(rng_.below(choices));
    airs_trace_step s{};
    s.version = AIRS_TRACE_STEP_VERSION;
    s.size = sizeof s;
    s.index = steps_;
    s.choices = static_cast<uint32_t>(choices);
    if (pick < runnable_.size()) {
      // Order in the list does not matter to the pick (any index is as
      // likely), so the chosen one leaves by a swap with the last.
      Process* p = runnable_[pick];
      runnable_[pick] = runnable_.back();
      runnable_.pop_back();
      s.kind = AIRS_TRACE_TURN;
      s.pid = p->pid.load(std::memory_order_acquire);
      uint64_t before = host->delivered.load(std::memory_order_relaxed);
      s.cost = sched_.run_host(p);
      s.received = host->delivered.load(std::memory_order_relaxed) - before;
    } else {
      // false: another thread cancelled it since take_due; pick again.
      if (!timers_.fire_ready(pick - runnable_.size(), &s.timer_id, &s.pid))
        continue;
      s.kind = AIRS_TRACE_TIMER;
    }
    steps_++;
    steps++;
    if (hook) hook(hook_data, &s);
  }
  polling_ = false;
  return steps;
}

}  // namespace airs
