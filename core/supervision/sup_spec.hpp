// sup_spec.hpp - supervisor specs: the flags and child specs a supervisor
// is started from, checked once when they are made. The public
// airs_sup_spec is SupSpec itself.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "airs/airs.h"
#include "process/process.hpp"

namespace airs {

using SupSpec = ::airs_sup_spec;  // defined below

// One child spec. Owns one reference to how it starts: a Spec (behaviour
// and user_data) or a nested supervisor spec.
struct ChildRec {
  std::string id;
  std::string name;  // registered on every start when not empty
  Spec* start = nullptr;
  SupSpec* sup = nullptr;
  airs_restart restart = AIRS_RESTART_PERMANENT;
  airs_shutdown shutdown = AIRS_SHUTDOWN_TIMEOUT;
  uint32_t shutdown_ms = 5000;
  airs_child_type type = AIRS_CHILD_WORKER;
  bool significant = false;
  bool has_opts = false;
  airs_spawn_opts opts{};

  ChildRec() = default;
  ChildRec(const ChildRec&) = delete;
  ChildRec& operator=(const ChildRec&) = delete;
  ChildRec(ChildRec&& o) noexcept;
  ChildRec& operator=(ChildRec&& o) noexcept;
  ~ChildRec();

  // Another reference to the same start (a dynamic child shares its
  // template's behaviour but not its user_data: see with_arg).
  ChildRec clone() const;
  // A copy whose start has user_data `arg`; nullptr start on no memory.
  ChildRec with_arg(void* arg, void (*arg_free)(void*)) const;
};

}  // namespace airs

struct airs_sup_spec {
  std::atomic<uint32_t> refs{1};
  airs_sup_flags flags;
  std::vector<airs::ChildRec> children;
  // Set when the spec is first used (a start, or added as a child of
  // another spec): from then on it never changes, so supervisors on any
  // thread read it without a lock.
  std::atomic<bool> frozen{false};
};

namespace airs {

void sup_spec_retain(airs_sup_spec* s) noexcept;
void sup_spec_release(airs_sup_spec* s) noexcept;

// Checks a public child spec against the supervisor flags `f` (see
// check_child_spec) and makes the record. Does not take user_data: the
// caller frees it on failure. `is_template`: the single spec of a
// simple_one_for_one pool (no id).
airs_status make_child_rec(const airs_child_spec* c, const airs_sup_flags& f,
                           bool is_template, ChildRec* out) noexcept;

// airs_sup_spec_add_child: checks `child` against `spec` and appends it.
// On failure user_data stays the caller's to free.
airs_status sup_spec_add_child(airs_sup_spec* spec,
                               const airs_child_spec* child) noexcept;

}  // namespace airs
