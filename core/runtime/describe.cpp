// describe.cpp - a process described for its crash report and for tools.
#include "runtime/describe.hpp"

#include <cstring>

namespace airs {

void RuntimeDescriber::describe(uint64_t pid,
                                ProcessDescription* out) noexcept {
  names_.name_of(pid, out->name, sizeof out->name);
  bool labelled = names_.label_of(pid, out->label, sizeof out->label);
  // Only a supervisor's child is worth the walk over the supervisors.
  Process* p = seam_.record(pid);
  if (!p || !(p->flags.load(std::memory_order_relaxed) & kSupervised)) return;
  char id[sizeof out->label];
  out->supervisor = sups_.parent_of(pid, id, sizeof id);
  if (out->supervisor && !labelled) std::memcpy(out->label, id, sizeof id);
}

}  // namespace airs
