#include "process/process.hpp"

#include "base/alloc.hpp"

namespace airs {

Process::Process() noexcept {
  pid.store(0, std::memory_order_relaxed);
  state.store(kFree, std::memory_order_relaxed);
  blocked_senders.store(0, std::memory_order_relaxed);
  mpsc_init(normal_tail, normal_head);
  mpsc_init(high_tail, high_head);
  enqueued.store(0, std::memory_order_relaxed);
  dropped.store(0, std::memory_order_relaxed);
  capacity = 0;
  block_timeout_ms = 0;
  exiting.store(1, std::memory_order_relaxed);
  policy = AIRS_MAILBOX_FAIL;
  dequeued.store(0, std::memory_order_relaxed);
  state_ptr = nullptr;
  extra = nullptr;
  flags.store(0, std::memory_order_relaxed);
  kill_gen.store(0, std::memory_order_relaxed);
  receive = nullptr;
  terminate = nullptr;
  health = nullptr;
  user_data = nullptr;
  user_data_free = nullptr;
  owner = nullptr;
  spawn_seq = 0;
  generation = 0;
  next_free.store(0, std::memory_order_relaxed);
}

ProcessExtra* Process::ensure_extra() noexcept {
  if (!extra) extra = make<ProcessExtra>();
  return extra;
}

void Process::free_extra() noexcept {
  destroy(extra);
  extra = nullptr;
}

bool ProcessExtra::linked_to(uint64_t pid) const noexcept {
  if (!link_at_.empty()) return link_at_.count(pid) != 0;
  for (uint64_t l : links)
    if (l == pid) return true;
  return false;
}

void ProcessExtra::add_link(uint64_t pid) {
  links.push_back(pid);
  if (!link_at_.empty()) {
    link_at_[pid] = links.size() - 1;
  } else if (links.size() > kIndexFrom) {
    for (size_t i = 0; i < links.size(); i++) link_at_[links[i]] = i;
  }
}

bool ProcessExtra::remove_link(uint64_t pid) noexcept {
  size_t i = 0;
  if (!link_at_.empty()) {
    auto it = link_at_.find(pid);
    if (it == link_at_.end()) return false;
    i = it->second;
    link_at_.erase(it);
  } else {
    while (i < links.size() && links[i] != pid) i++;
    if (i == links.size()) return false;
  }
  links[i] = links.back();
  links.pop_back();
  if (!link_at_.empty() && i < links.size()) link_at_[links[i]] = i;
  return true;
}

bool ProcessExtra::remove_monitor(std::vector<MonitorEntry>& v, uint64_t ref,
                                  uint64_t* pid) noexcept {
  for (size_t i = 0; i < v.size(); i++)
    if (v[i].ref == ref) {
      if (pid) *pid = v[i].pid;
      v[i] = v.back();
      v.pop_back();
      return true;
    }
  return false;
}

void spec_retain(Spec* s) noexcept {
  s->refs.fetch_add(1, std::memory_order_relaxed);
}

void spec_release(Spec* s) noexcept {
  if (!s || s->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  if (s->user_data_free) s->user_data_free(s->user_data);
  destroy(s);
}

}  // namespace airs
