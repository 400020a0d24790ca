// describe.hpp - what a crash report says of a process besides its pid
// and reason (kernel/observer.hpp's Describer): its registered name and
// label from the registry, its supervisor and child id from supervision.
// The runtime installs one in its kernel.
#pragma once

#include "kernel/observer.hpp"
#include "naming/registry.hpp"
#include "supervision/supervision.hpp"

namespace airs {

class RuntimeDescriber final : public Describer {
 public:
  RuntimeDescriber(Registry& names, Supervision& sups, const Seam& seam)
      : names_(names), sups_(sups), seam_(seam) {}

  // Label: airs_set_label's, else the child id under a supervisor. Takes
  // the registry's and each supervisor's lock in turn (leaves), never
  // waits for a supervisor's role. [any thread]
  void describe(uint64_t pid, ProcessDescription* out) noexcept override;

 private:
  Registry& names_;
  Supervision& sups_;
  const Seam& seam_;
};

}  // namespace airs
