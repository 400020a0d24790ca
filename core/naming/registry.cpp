#include "naming/registry.hpp"

#include "base/error.hpp"
#include "process/process.hpp"

namespace airs {

airs_status Registry::add(const std::string& name, uint64_t pid, Process* p) {
  std::lock_guard<std::mutex> lock(mu_);
  if (by_name_.count(name))
    return failf(AIRS_EEXIST, "airs_register: '%s' is already registered",
                 name.c_str());
  if (by_pid_.count(pid))
    return fail(AIRS_EEXIST, "airs_register: the process already has a name");
  // Dekker with release(): we set kHasName then read `exiting`; the exit
  // path sets `exiting` then reads kHasName. At least one sees the other.
  p->flags.fetch_or(kHasName, std::memory_order_seq_cst);
  if (p->exiting.load(std::memory_order_seq_cst) ||
      p->pid.load(std::memory_order_seq_cst) != pid)  // this order: live()
    return fail(AIRS_ENOPROC, "airs_register: the process is not alive");
  by_name_.emplace(name, pid);
  by_pid_.emplace(pid, name);
  return AIRS_OK;
}

airs_status Registry::remove(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_name_.find(name);
  if (it == by_name_.end())
    return failf(AIRS_ENOTFOUND, "airs_unregister: '%s' is not registered",
                 name.c_str());
  by_pid_.erase(it->second);
  by_name_.erase(it);
  return AIRS_OK;
}

airs_status Registry::find(const std::string& name, uint64_t* pid) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_name_.find(name);
  if (it == by_name_.end())
    return failf(AIRS_ENOTFOUND, "airs_whereis: '%s' is not registered",
                 name.c_str());
  *pid = it->second;
  return AIRS_OK;
}

void Registry::release(uint64_t pid, Process* p) {
  // The caller has set `exiting` (seq_cst): see add().
  if (!(p->flags.load(std::memory_order_seq_cst) & kHasName)) return;
  std::lock_guard<std::mutex> lock(mu_);
  p->flags.fetch_and(~kHasName, std::memory_order_relaxed);
  auto it = by_pid_.find(pid);
  if (it == by_pid_.end()) return;
  by_name_.erase(it->second);
  by_pid_.erase(it);
}

}  // namespace airs
