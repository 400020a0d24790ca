#include "naming/registry.hpp"

#include <algorithm>
#include <cstring>
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
  if (watch_) watch_->named(name, pid, p);
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
  if (watch_) watch_->unnamed(it->second);
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

void Registry::show_names_to_watch() const noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  if (!watch_) return;
  for (const auto& [name, pid] : by_name_)
    if (Process* p = seam_.live(pid)) watch_->named(name.c_str(), pid, p);
}

namespace {

bool copy_out(const std::unordered_map<uint64_t, std::string>& map,
              uint64_t pid, char* out, size_t cap) noexcept {
  auto it = map.find(pid);
  if (it == map.end()) {
    if (cap) out[0] = '\0';
    return false;
  }
  if (cap) {
    size_t n = std::min(it->second.size(), cap - 1);
    std::memcpy(out, it->second.data(), n);
    out[n] = '\0';
  }
  return true;
}

}  // namespace

bool Registry::name_of(uint64_t pid, char* out, size_t cap) const noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  return copy_out(by_pid_, pid, out, cap);
}

bool Registry::label_of(uint64_t pid, char* out, size_t cap) const noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  return copy_out(labels_, pid, out, cap);
}

airs_status Registry::set_label(const char* label, uint64_t pid,
                                Process* p) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  if (!label || !*label) {
    labels_.erase(pid);
    return AIRS_OK;
  }
  try {
    std::string text = label;
    if (!seam_.join_if_alive(p, member_bit_, pid))  // see process_ended()
      return fail(AIRS_ENOPROC, "the process is not alive");
    labels_[pid] = std::move(text);
  } catch (const std::bad_alloc&) {
    return fail(AIRS_ENOMEM, "out of memory");
  }
  return AIRS_OK;
}

void Registry::process_ended(void* self, uint64_t pid, Process*,
                             Reason*) noexcept {
  auto* r = static_cast<Registry*>(self);
  std::lock_guard<std::mutex> lock(r->mu_);
  r->labels_.erase(pid);
  auto it = r->by_pid_.find(pid);
  if (it == r->by_pid_.end()) return;
  if (r->watch_) r->watch_->unnamed(pid);
  r->by_name_.erase(it->second);
  r->by_pid_.erase(it);
}

}  // namespace airs
