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

  // Sets one key; fails with EINVAL (and a message) on a bad key or value.
  airs_status set(airs_config_key key, int64_t value);
  airs_status get(airs_config_key key, int64_t* value) const;

  airs_config();
};

namespace airs {
using Config = ::airs_config;
}  // namespace airs
