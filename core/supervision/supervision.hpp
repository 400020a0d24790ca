// supervision.hpp - the supervisors of one runtime, by pid: the service
// the C API starts and reaches them through.
//
// Locks: mu_ guards the table only (a leaf); a Supervisor found here is
// kept alive by the shared_ptr the caller holds. [any thread]
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "airs/airs.h"
#include "kernel/seam.hpp"
#include "supervision/sup_spec.hpp"

namespace airs {

class Supervisor;

class Supervision {
 public:
  explicit Supervision(Seam& seam) noexcept : seam_(seam) {}
  Supervision(const Supervision&) = delete;
  Supervision& operator=(const Supervision&) = delete;

  // Starts a supervision tree from `spec` on this thread (see
  // airs_supervisor_start). [any thread]
  airs_status start(airs_sup_spec* spec, uint64_t* out) noexcept;
  // The supervisor `pid` names: EINVAL if `pid` is alive but not a
  // supervisor, ENOPROC if it is not alive.
  airs_status find(uint64_t pid, std::shared_ptr<Supervisor>* out) noexcept;

  Seam& seam() noexcept { return seam_; }
  // The table, for the supervisor processes themselves (their init adds,
  // their terminate removes). false: no memory.
  bool add(uint64_t pid, std::shared_ptr<Supervisor> s) noexcept;
  void remove(uint64_t pid) noexcept;
  std::shared_ptr<Supervisor> lookup(uint64_t pid) noexcept;

  // For tools (airs/observe.h). The supervisor whose running child `pid`
  // is, or 0, and the child's id (cap bytes): each supervisor is read
  // under its own lock only, so this never waits. [any thread]
  uint64_t parent_of(uint64_t pid, char* id, size_t cap) noexcept;
  // Every supervisor's pid and its parent's (the supervisor above it, the
  // process that started it, or 0), in pid order. false: no memory.
  bool list(std::vector<std::pair<uint64_t, uint64_t>>* out) noexcept;

  // The children a supervisor left running when it ended without stopping
  // them (it was killed): they end through their links a moment later,
  // still holding their names. Its parent's restart of it waits for them
  // (take_orphans), so a restart never races the end of what it replaces.
  // Best effort: without memory they are not kept.
  void leave_orphans(uint64_t sup, std::vector<uint64_t> pids) noexcept;
  std::vector<uint64_t> take_orphans(uint64_t sup) noexcept;

 private:
  Seam& seam_;
  std::mutex mu_;
  std::unordered_map<uint64_t, std::shared_ptr<Supervisor>> by_pid_;
  std::unordered_map<uint64_t, std::vector<uint64_t>> orphans_;  // by sup
};

}  // namespace airs
