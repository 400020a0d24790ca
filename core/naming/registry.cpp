#include "naming/registry.hpp"

#include <new>

#include "base/error.hpp"

namespace airs {

Registry::Registry(Seam& seam) noexcept
    : seam_(seam),
      member_bit_(seam.add_exit_observer({&Registry::process_ended, this})) {}

airs_status Registry::add(const char* name, uint64_t pid) noexcept {
  Process* p = seam_.live(pid);
  if (!p) return fail(AIRS_ENOPROC, "the process is not alive");
  return add_name(name, pid, p);
}

airs_status Registry::add_name(const char* name, uint64_t pid,
                               Process* p) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  std::string key;
  auto named = by_name_.end();
  try {
    key = name;
    if (by_name_.count(key))
      return failf(AIRS_EEXIST, "'%s' is already registered", name);
    if (by_pid_.count(pid))
      return fail(AIRS_EEXIST, "the process already has a name");
    if (!seam_.join_if_alive(p, member_bit_, pid))  // see process_ended()
      return fail(AIRS_ENOPROC, "the process is not alive");
    named = by_name_.emplace(key, pid).first;
    by_pid_.emplace(pid, std::move(key));
  } catch (const std::bad_alloc&) {
    if (named != by_name_.end()) by_name_.erase(named);
    return fail(AIRS_ENOMEM, "out of memory");
  }
  return AIRS_OK;
}

airs_status Registry::remove(const char* name) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_name_.end();
  try {
    it = by_name_.find(name);
  } catch (const std::bad_alloc&) {
    return fail(AIRS_ENOMEM, "out of memory");
  }
  if (it == by_name_.end())
    return failf(AIRS_ENOTFOUND, "'%s' is not registered", name);
  by_pid_.erase(it->second);
  by_name_.erase(it);
  return AIRS_OK;
}

airs_status Registry::find(const char* name, uint64_t* pid) const noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_name_.end();
  try {
    it = by_name_.find(name);
  } catch (const std::bad_alloc&) {
    return fail(AIRS_ENOMEM, "out of memory");
  }
  if (it == by_name_.end())
    return failf(AIRS_ENOTFOUND, "'%s' is not registered", name);
  *pid = it->second;
  return AIRS_OK;
}

void Registry::process_ended(void* self, uint64_t pid, Process*,
                             Reason*) noexcept {
  auto* r = static_cast<Registry*>(self);
  std::lock_guard<std::mutex> lock(r->mu_);
  auto it = r->by_pid_.find(pid);
  if (it == r->by_pid_.end()) return;
  r->by_name_.erase(it->second);
  r->by_pid_.erase(it);
}

}  // namespace airs
