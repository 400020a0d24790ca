// kernel.hpp - the engine of one runtime, its parts owned together:
//
//   table       process slots (process/)
//   observer    hooks, counters, dead letters, events   observer.hpp
//   sched       workers and run queues (sched/)
//   timers      the timer service (sched/)
//   seeded      the seeded deterministic poll (sched/), with a seed
//   mail        every way into a mailbox                mail.hpp
//   remote      the transport for other runtimes' pids  remote.hpp
//   signals     links, monitors, exit signals           signals.hpp
//   processes   spawn, end, wait, exit observers        processes.hpp
//   turns       one scheduled turn of a process         turn.hpp
//
// Each part reaches the others through the kernel. Only the kernel's own
// parts and the runtime (runtime/) include this header: services use the
// seam (seam.hpp).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "base/config.hpp"
#include "kernel/mail.hpp"
#include "kernel/observer.hpp"
#include "kernel/processes.hpp"
#include "kernel/remote.hpp"
#include "kernel/seam.hpp"
#include "kernel/signals.hpp"
#include "kernel/turn.hpp"
#include "process/process_table.hpp"
#include "sched/scheduler.hpp"
#include "sched/seeded.hpp"
#include "sched/timer.hpp"

namespace airs {

struct Kernel {
  explicit Kernel(const Config& config);
  ~Kernel();  // stops the threads and frees what is left (see shutdown)
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  // Starts the worker and timer threads. [the creating thread]
  airs_status start() noexcept;
  // Host-driven mode: fires due timers, then runs up to `budget` turns on
  // the calling thread. ESTATE: the kernel has worker threads, or another
  // thread is polling. [not inside a callback]
  airs_status poll(uint32_t budget, uint32_t* ran) noexcept;
  // The work of one poll without its checks (shutdown polls this way):
  // due timers then turns, or seeded steps; returns the turns (steps) run.
  uint32_t poll_steps(uint32_t budget) noexcept;
  bool threaded() const noexcept { return sched.threaded(); }
  bool stopping() const noexcept {
    return shutting_down.load(std::memory_order_acquire);
  }

  const Config cfg;
  ProcessTable table;
  Observer observer;
  Turns turns;
  Scheduler sched;
  TimerService timers;
  std::unique_ptr<SeededPoll> seeded;  // with AIRS_CFG_SEED only
  Mail mail;
  Remote remote;
  Signals signals;
  Processes processes;
  NameService* names = nullptr;  // set by the runtime
  std::atomic<bool> shutting_down{false};
  std::atomic<bool> polling{false};
  std::atomic<PollHook*> poll_hook{nullptr};  // set once, by io/
  void* public_handle = nullptr;  // the C facade's handle (opaque here)
};

// Here rather than in spawn.cpp: every send starts with it, and inlining
// it should not hang on the link-time optimizer's budget.
inline Process* Processes::live(uint64_t pid) const noexcept {
  Process* p = k_.table.lookup(pid);
  // `exiting` before `pid`: see the end of spawn().
  if (!p || p->exiting.load(std::memory_order_acquire) ||
      p->pid.load(std::memory_order_acquire) != pid)
    return nullptr;
  return p;
}

inline void Observer::stamp_sent(bool timed, uint64_t to,
                                 const Msg* m) noexcept {
  if (timed) [[unlikely]]
    timing->sent(to, m, mono_ns());
}

inline void Observer::stamp_sent(const Process* p, uint64_t to,
                                 const Msg* m) noexcept {
  stamp_sent(p->timed.load(std::memory_order_relaxed) != 0, to, m);
}

}  // namespace airs
