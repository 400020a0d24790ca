// shutdown.cpp - stopping every process of a runtime (airs_runtime_free):
// supervision trees top-down (a supervisor stops its own children, in
// reverse start order), then whatever is left, then a kill for what did
// not end within the shutdown timeout; then the threads.
#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

#include "runtime/runtime.hpp"

namespace airs {

uint32_t Runtime::count_live(bool roots_only) const noexcept {
  const ProcessTable& table = kernel_.table;
  uint32_t live_count = 0;
  uint32_t n = table.high_water();
  for (uint32_t i = 0; i < n; i++) {
    Process* p = table.slot(i);
    if (p->life.load(std::memory_order_acquire) != kLive) continue;
    if (roots_only && (p->flags.load(std::memory_order_relaxed) & kSupervised))
      continue;
    live_count++;
  }
  return live_count;
}

void Runtime::wait_for_exits(uint64_t timeout_ms, bool roots_only) noexcept {
  using clock = std::chrono::steady_clock;
  auto deadline = clock::now() + std::chrono::milliseconds(timeout_ms);
  auto pause = std::chrono::microseconds(50);
  while (count_live(roots_only) > 0 && clock::now() < deadline) {
    if (!kernel_.threaded() && kernel_.poll_steps(1024) > 0) continue;
    std::this_thread::sleep_for(pause);
    pause = std::min<std::chrono::microseconds>(pause * 2,
                                                std::chrono::milliseconds(5));
  }
}

// Sends shutdown to the live processes (only those no supervisor stops, if
// `roots_only`), newest first: a process started later usually depends on
// earlier ones. Skips the pids in `told` (sorted), and adds the ones it
// signals: a process is told once, so a trapping one sees one
// AIRS_MSG_EXIT and not a second one that races the kill.
void Runtime::stop_processes(bool roots_only,
                             std::vector<uint64_t>& told) noexcept {
  const ProcessTable& table = kernel_.table;
  std::vector<std::pair<uint64_t, uint64_t>> alive;  // (spawn_seq, pid)
  uint32_t n = table.high_water();
  try {
    for (uint32_t i = 0; i < n; i++) {
      Process* p = table.slot(i);
      uint64_t pid = p->pid.load(std::memory_order_acquire);
      if (!kernel_.processes.live(pid)) continue;
      if (roots_only &&
          (p->flags.load(std::memory_order_relaxed) & kSupervised))
        continue;
      if (std::binary_search(told.begin(), told.end(), pid)) continue;
      alive.emplace_back(p->spawn_seq, pid);
    }
    told.reserve(told.size() + alive.size());
  } catch (const std::bad_alloc&) {
    // No memory to order them: the kill at the timeout stops them all.
    return;
  }
  std::sort(alive.rbegin(), alive.rend());
  for (auto& a : alive) {
    kernel_.signals.exit_signal(a.second, AIRS_EXIT_SHUTDOWN, 0, nullptr);
    told.push_back(a.second);
  }
  std::sort(told.begin(), told.end());
}

void Runtime::kill_live() noexcept {
  const ProcessTable& table = kernel_.table;
  uint32_t n = table.high_water();
  for (uint32_t i = 0; i < n; i++) {
    uint64_t pid = table.slot(i)->pid.load(std::memory_order_acquire);
    if (kernel_.processes.live(pid))
      kernel_.signals.exit_signal(pid, AIRS_EXIT_KILLED, 0, nullptr);
  }
}

void Runtime::shutdown() noexcept {
  kernel_.shutting_down.store(true, std::memory_order_seq_cst);
  using clock = std::chrono::steady_clock;
  const uint64_t timeout_ms = kernel_.cfg.shutdown_timeout_ms;
  auto start = clock::now();
  // Supervision trees top-down: a supervisor stops its own children, in
  // reverse start order. Then, in the time left, whatever is left (a child
  // that outlived its supervisor by trapping exits).
  std::vector<uint64_t> told;
  stop_processes(true, told);
  wait_for_exits(timeout_ms, true);
  auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(
                   clock::now() - start)
                   .count();
  if (static_cast<uint64_t>(spent) < timeout_ms) {
    stop_processes(false, told);
    wait_for_exits(timeout_ms - spent, false);
  }

  // A kill takes effect at the process's next turn; only a callback that
  // never returns can hold this up. Sweeps again while anything is live:
  // a spawn that passed its shutting-down check before the flag was set
  // may make a process live after a sweep.
  while (count_live(false) > 0) {
    kill_live();
    wait_for_exits(kKillSweepMs, false);
  }
  // The blocking pool after the processes: their last jobs may still be
  // queued or running; what runs gets the time left.
  jobs_.stop(start + std::chrono::milliseconds(timeout_ms));
  // Every owner has ended, so every socket has closed; stop() closes any
  // left and refuses new ones; then the reactor takes its hooks from the
  // workers, and its thread for function watches ends.
  sockets_.stop();
  reactor_.stop();
  kernel_.timers.stop();
  kernel_.sched.stop_and_join();
}

}  // namespace airs
