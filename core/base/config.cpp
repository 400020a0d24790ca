#include "base/config.hpp"

#include <cstdint>
#include <thread>

#include "base/error.hpp"
#include "base/limits.hpp"

namespace {

struct KeyInfo {
  airs_config_key key;
  const char* name;
  int64_t min;
  int64_t max;
};

constexpr KeyInfo kKeys[] = {
    {AIRS_CFG_WORKERS, "AIRS_CFG_WORKERS", 0, 1024},
    {AIRS_CFG_MAILBOX_CAPACITY, "AIRS_CFG_MAILBOX_CAPACITY", 0, UINT32_MAX},
    {AIRS_CFG_MAILBOX_POLICY, "AIRS_CFG_MAILBOX_POLICY", AIRS_MAILBOX_FAIL,
     AIRS_MAILBOX_BLOCK},
    {AIRS_CFG_BLOCK_TIMEOUT_MS, "AIRS_CFG_BLOCK_TIMEOUT_MS", 1,
     airs::kMaxWaitMs},
    {AIRS_CFG_MAX_PROCESSES, "AIRS_CFG_MAX_PROCESSES", 1, 1 << 27},
    {AIRS_CFG_SHUTDOWN_TIMEOUT_MS, "AIRS_CFG_SHUTDOWN_TIMEOUT_MS", 0,
     airs::kMaxWaitMs},
    {AIRS_CFG_BUDGET, "AIRS_CFG_BUDGET", 1, 1000000},
    {AIRS_CFG_MANUAL_CLOCK, "AIRS_CFG_MANUAL_CLOCK", 0, 1},
    {AIRS_CFG_EVENTS, "AIRS_CFG_EVENTS", 0, 1},
    // Any 64-bit pattern is a seed; 0 is off.
    {AIRS_CFG_SEED, "AIRS_CFG_SEED", INT64_MIN, INT64_MAX},
    {AIRS_CFG_POOL_MIN_THREADS, "AIRS_CFG_POOL_MIN_THREADS", 0, 1024},
    {AIRS_CFG_POOL_MAX_THREADS, "AIRS_CFG_POOL_MAX_THREADS", 2, 1024},
    {AIRS_CFG_POOL_SLOW_MAX, "AIRS_CFG_POOL_SLOW_MAX", 1, 1023},
    {AIRS_CFG_POOL_KEEPALIVE_MS, "AIRS_CFG_POOL_KEEPALIVE_MS", 0,
     airs::kMaxWaitMs},
    {AIRS_CFG_PID_TAG, "AIRS_CFG_PID_TAG", 0, 65535},
    {AIRS_CFG_CRASH_REPORTS, "AIRS_CFG_CRASH_REPORTS", 0, 1},
};

const KeyInfo* find_key(int key) {
  for (const KeyInfo& k : kKeys)
    if (k.key == key) return &k;
  return nullptr;
}

}  // namespace

airs_config::airs_config() {
  unsigned n = std::thread::hardware_concurrency();
  workers = n ? n : 1;
}

airs_status airs_config::set(int key, int64_t value) noexcept {
  const KeyInfo* k = find_key(key);
  if (!k) return airs::failf(AIRS_EINVAL, "unknown key %d", key);
  if (value < k->min || value > k->max)
    return airs::failf(AIRS_EINVAL, "%s must be in %lld..%lld", k->name,
                       static_cast<long long>(k->min),
                       static_cast<long long>(k->max));
  uint32_t v = static_cast<uint32_t>(value);
  switch (key) {
    case AIRS_CFG_WORKERS: workers = v; break;
    case AIRS_CFG_MAILBOX_CAPACITY: mailbox_capacity = v; break;
    case AIRS_CFG_MAILBOX_POLICY: mailbox_policy = v; break;
    case AIRS_CFG_BLOCK_TIMEOUT_MS: block_timeout_ms = v; break;
    case AIRS_CFG_MAX_PROCESSES: max_processes = v; break;
    case AIRS_CFG_SHUTDOWN_TIMEOUT_MS: shutdown_timeout_ms = v; break;
    case AIRS_CFG_BUDGET: budget = v; break;
    case AIRS_CFG_MANUAL_CLOCK: manual_clock = v != 0; break;
    case AIRS_CFG_EVENTS: events = v != 0; break;
    case AIRS_CFG_SEED: seed = static_cast<uint64_t>(value); break;
    case AIRS_CFG_POOL_MIN_THREADS: pool_min_threads = v; break;
    case AIRS_CFG_POOL_MAX_THREADS: pool_max_threads = v; break;
    case AIRS_CFG_POOL_SLOW_MAX: pool_slow_max = v; break;
    case AIRS_CFG_POOL_KEEPALIVE_MS: pool_keepalive_ms = v; break;
    case AIRS_CFG_PID_TAG: pid_tag = v; break;
    case AIRS_CFG_CRASH_REPORTS: crash_reports = v != 0; break;
  }
  return AIRS_OK;
}

airs_status airs_config::check() const noexcept {
  if (seed != 0 && workers != 0)
    return airs::fail(AIRS_EINVAL,
                      "AIRS_CFG_SEED needs host-driven mode (set "
                      "AIRS_CFG_WORKERS to 0)");
  if (pool_min_threads > pool_max_threads)
    return airs::failf(AIRS_EINVAL,
                       "AIRS_CFG_POOL_MIN_THREADS (%u) is above "
                       "AIRS_CFG_POOL_MAX_THREADS (%u)",
                       pool_min_threads, pool_max_threads);
  if (pool_slow_max >= pool_max_threads)
    return airs::failf(
        AIRS_EINVAL,
        "AIRS_CFG_POOL_SLOW_MAX (%u) must be below "
        "AIRS_CFG_POOL_MAX_THREADS (%u): fast jobs need a thread",
        pool_slow_max, pool_max_threads);
  return AIRS_OK;
}

airs_status airs_config::get(int key, int64_t* value) const noexcept {
  switch (key) {
    case AIRS_CFG_WORKERS: *value = workers; return AIRS_OK;
    case AIRS_CFG_MAILBOX_CAPACITY: *value = mailbox_capacity; return AIRS_OK;
    case AIRS_CFG_MAILBOX_POLICY: *value = mailbox_policy; return AIRS_OK;
    case AIRS_CFG_BLOCK_TIMEOUT_MS: *value = block_timeout_ms; return AIRS_OK;
    case AIRS_CFG_MAX_PROCESSES: *value = max_processes; return AIRS_OK;
    case AIRS_CFG_SHUTDOWN_TIMEOUT_MS:
      *value = shutdown_timeout_ms;
      return AIRS_OK;
    case AIRS_CFG_BUDGET: *value = budget; return AIRS_OK;
    case AIRS_CFG_MANUAL_CLOCK: *value = manual_clock; return AIRS_OK;
    case AIRS_CFG_EVENTS: *value = events; return AIRS_OK;
    case AIRS_CFG_SEED: *value = static_cast<int64_t>(seed); return AIRS_OK;
    case AIRS_CFG_POOL_MIN_THREADS: *value = pool_min_threads; return AIRS_OK;
    case AIRS_CFG_POOL_MAX_THREADS: *value = pool_max_threads; return AIRS_OK;
    case AIRS_CFG_POOL_SLOW_MAX: *value = pool_slow_max; return AIRS_OK;
    case AIRS_CFG_POOL_KEEPALIVE_MS: *value = pool_keepalive_ms; return AIRS_OK;
    case AIRS_CFG_PID_TAG: *value = pid_tag; return AIRS_OK;
    case AIRS_CFG_CRASH_REPORTS: *value = crash_reports; return AIRS_OK;
  }
  return airs::failf(AIRS_EINVAL, "unknown key %d", key);
}
