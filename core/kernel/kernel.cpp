// kernel.cpp - putting the parts together, starting the threads, and the
// host-driven poll.
#include "kernel/kernel.hpp"

#include "base/error.hpp"

namespace airs {

namespace {

void fire_timer(void* kernel, uint64_t to, Msg* m) noexcept {
  static_cast<Kernel*>(kernel)->mail.timer_fired(to, m);
}

}  // namespace

Kernel::Kernel(const Config& config)
    : cfg(config),
      table(cfg.max_processes, cfg.pid_tag),
      observer(cfg.events, cfg.crash_reports),
      turns(*this),
      sched(cfg, &Turns::run, &Turns::settle, &turns),
      timers(cfg.clock_is_manual(), &fire_timer, this),
      seeded(cfg.seed ? std::make_unique<SeededPoll>(cfg.seed, sched, timers)
                      : nullptr),
      mail(*this),
      signals(*this),
      processes(*this) {}

Kernel::~Kernel() {
  timers.stop();
  sched.stop_and_join();
  timers.free_pending();
  // Every thread is gone: whatever is still queued anywhere is garbage.
  uint32_t n = table.high_water();
  for (uint32_t i = 0; i < n; i++) {
    Process* p = table.slot(i);
    while (Msg* m = p->take()) {
      p->detach(m);
      msg_free(m);
    }
    p->drop_held();
  }
}

airs_status Kernel::start() noexcept {
  if (table.tag() == 0 && cfg.pid_tag != 0)
    return failf(AIRS_EEXIST,
                 "pid tag %u (AIRS_CFG_PID_TAG) is held by a live runtime",
                 cfg.pid_tag);
  if (table.tag() == 0)
    return failf(AIRS_ELIMIT,
                 "%u runtimes are alive (the most pids can tell "
                 "apart)",
                 kMaxTag);
  if (!sched.start() || (cfg.workers > 0 && !timers.start_thread(cfg)))
    return fail(AIRS_EINTERNAL, "cannot start a thread");
  return AIRS_OK;
}

airs_status Kernel::poll(uint32_t budget, uint32_t* ran) noexcept {
  if (threaded())
    return fail(AIRS_ESTATE,
                "the runtime has worker threads (set AIRS_CFG_WORKERS to 0 "
                "for host-driven mode)");
  bool expected = false;
  if (!polling.compare_exchange_strong(expected, true))
    return fail(AIRS_ESTATE, "another thread is polling");
  uint32_t n = poll_steps(budget);
  polling.store(false, std::memory_order_release);
  if (ran) *ran = n;
  return AIRS_OK;
}

uint32_t Kernel::poll_steps(uint32_t budget) noexcept {
  PollHook* io = poll_hook.load(std::memory_order_acquire);
  if (io) io->before_poll();
  uint32_t n;
  if (seeded) {
    n = seeded->poll(budget);  // the only cost of the mode
  } else {
    timers.fire_due();
    n = sched.poll(budget);
  }
  if (io) io->after_poll();
  return n;
}

}  // namespace airs
