// config.hpp - a runtime's settings (airs_config is this struct).
#pragma once

#include <cstdint>

#include "airs/airs.h"

// The public airs_config is this struct.
struct airs_config {
  uint32_t workers;
  uint32_t mailbox_capacity = 0;
  uint32_t mailbox_policy = AIRS_MAILBOX_FAIL;
  uint32_t block_timeout_ms = 1000;
  uint32_t max_processes = 1u << 22;
  uint32_t shutdown_timeout_ms = 5000;
  uint32_t budget = 64;
  bool manual_clock = false;
  bool events = true;  // false: event_hook() is always nullptr
  // Nonzero: the seeded deterministic mode (sched/seeded.hpp). Needs
  // workers == 0 (checked by Runtime::create) and makes the clock manual.
  uint64_t seed = 0;
  uint32_t pool_min_threads = 0;
  uint32_t pool_max_threads = 4;
  uint32_t pool_slow_max = 2;
  uint32_t pool_keepalive_ms = 10000;
  uint32_t pid_tag = 0;  // 0: any free one
  bool crash_reports = true;  // to stderr when no log hook is installed
  // Told of each thread the runtime starts and ends (see airs.h).
  airs_thread_fn thread_hook = nullptr;
  void* thread_hook_data = nullptr;

  // Sets one key (an airs_config_key, as a C caller passed it); fails
  // with EINVAL (and a message) on a bad key or value.
  airs_status set(int key, int64_t value) noexcept;
  airs_status get(int key, int64_t* value) const noexcept;
  // The keys that bound each other, checked when a runtime is made from
  // the config (set() checks each key alone). EINVAL with a message.
  airs_status check() const noexcept;

  airs_config();

  // Whether time moves only through airs_runtime_advance_time: asked for,
  // or implied by a seed (a real clock would make runs differ).
  bool clock_is_manual() const noexcept { return manual_clock || seed != 0; }
};

namespace airs {
using Config = ::airs_config;

// The body of one of the runtime's threads, between the thread hook's
// "started" and "ended" calls: the first and last things on that thread.
template <class Body>
void run_runtime_thread(const Config& cfg, Body&& body) {
  if (cfg.thread_hook) cfg.thread_hook(cfg.thread_hook_data, 1);
  body();
  if (cfg.thread_hook) cfg.thread_hook(cfg.thread_hook_data, 0);
}
}  // namespace airs
