// observe.hpp - the readers behind airs/observe.h, over one runtime. Each
// entry is [any thread] unless it says otherwise, takes only leaf locks
// (the registry's, the supervision table's, each supervisor's own) and
// calls no user code except the walk's callback.
//
//   processes.cpp  the list, one process's info, the top over a window
//   tree.cpp       the supervision trees, depth first
//   metrics.cpp    the Prometheus text exposition
#pragma once

#include <cstddef>
#include <cstdint>

#include "airs/airs.h"
#include "runtime/runtime.hpp"

namespace airs {

// Live pids from slot `cursor` on; *next: the slot to go on from, 0 at the
// end. EINVAL for bad arguments is the C facade's.
void process_list(Runtime& rt, uint64_t cursor, airs_pid* out, size_t cap,
                  size_t* count, uint64_t* next) noexcept;

// Fills the version-1 fields of *out. ENOPROC: not alive or ending.
airs_status process_info(Runtime& rt, uint64_t pid,
                         airs_process_info* out) noexcept;

// The top `cap` by `key` over `window_ms` (0: now), polling a host-driven
// runtime during the window. ESTATE: a window inside a callback. ENOMEM.
airs_status process_top(Runtime& rt, airs_top_key key, uint32_t window_ms,
                        airs_top_entry* out, size_t cap,
                        size_t* count) noexcept;

// The trees under `root` (0: every root). ENOPROC, EINVAL (not a
// supervisor), ENOMEM. [any thread, not inside a supervisor's callback]
airs_status supervision_walk(Runtime& rt, uint64_t root, airs_tree_fn fn,
                             void* user_data) noexcept;

// The exposition, NUL-terminated, into buf if it fits; *len its length.
// EFULL: it does not fit (nothing written). ENOMEM.
airs_status metrics_write(Runtime& rt, char* buf, size_t cap,
                          size_t* len) noexcept;

}  // namespace airs
