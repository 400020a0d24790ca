#include "process/process.hpp"

#include <cstdio>
#include <new>

#include "base/alloc.hpp"

namespace airs {

Process::Process() noexcept {
  pid.store(0, std::memory_order_relaxed);
  life.store(kFree, std::memory_order_relaxed);
  blocked_senders.store(0, std::memory_order_relaxed);
  mpsc_init(normal_tail, normal_head, true);
  mpsc_init(high_tail, high_head, false);
  enqueued.store(0, std::memory_order_relaxed);
  sent_by[0].store(0, std::memory_order_relaxed);
  sent_by[1].store(0, std::memory_order_relaxed);
  dropped.store(0, std::memory_order_relaxed);
  capacity = 0;
  block_timeout_ms = 0;
  exiting.store(1, std::memory_order_relaxed);
  policy = AIRS_MAILBOX_FAIL;
  timed.store(0, std::memory_order_relaxed);
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

int format_pid(uint64_t pid, char* buf, size_t cap) noexcept {
  return std::snprintf(buf, cap, "<%u.%u.%u>", pid_tag(pid), pid_slot(pid),
                       pid_generation(pid));
}

Msg* Process::take() noexcept {
  Node* gone = nullptr;
  Node* n = nullptr;
  // The high queue is nearly always the bare stub: then it is skipped
  // without a look at its tail (a high message being linked just now is
  // seen at the next take, or by mark_idle).
  if (high_head.head != word_of(&high_head.stub) ||
      high_head.stub.next.load(std::memory_order_acquire)) {
    n = mpsc_take(high_head, &gone);
    if (gone) msg_free_envelope(static_cast<Msg*>(gone));
  }
  if (!n) {
    n = mpsc_take(normal_head, &gone);
    if (gone) msg_free_envelope(static_cast<Msg*>(gone));
    if (!n) return nullptr;
  }
  dequeued.store(dequeued.load(std::memory_order_relaxed) + 1,
                 std::memory_order_relaxed);
  return static_cast<Msg*>(n);
}

void Process::release(Msg* m) noexcept {
  msg_release(m);
  uintptr_t held = word_of(m) | kHeld;
  if (normal_head.head != held && high_head.head != held)
    msg_free_envelope(m);  // else: freed when the mailbox lets go of it
}

void Process::detach(Msg* m) noexcept {
  mpsc_detach(normal_tail, normal_head, m);
  mpsc_detach(high_tail, high_head, m);
}

void Process::drop_held() noexcept {
  for (QueueHead* h : {&normal_head, &high_head})
    if (h->head & kHeld) {
      Msg* m = static_cast<Msg*>(node_of(h->head));
      detach(m);
      msg_free_envelope(m);
    }
}

bool Process::mark_idle() noexcept {
  // High-priority mail waiting (or a producer linking it): not idle.
  Node* high_last = mpsc_last(high_head);
  if (!high_last || high_last->next.load(std::memory_order_acquire))
    return false;
  Node* gone = nullptr;
  if (!mpsc_mark_idle(normal_tail, normal_head, &gone)) return false;
  if (gone) msg_free_envelope(static_cast<Msg*>(gone));
  // The role is given up. A high-priority push since we looked claims it
  // (Dekker: it pushes, then claims); if it came before our mark, we see
  // it in the tail (no dereference: the role may be someone else's now).
  if (node_of(high_tail.tail.load(std::memory_order_seq_cst)) != high_last &&
      claim())
    return false;
  return true;
}

ProcessExtra* Process::ensure_extra() noexcept {
  if (!extra) extra = make<ProcessExtra>();
  return extra;
}

void Process::free_extra() noexcept {
  destroy(extra);
  extra = nullptr;
}

ProcessExtra::~ProcessExtra() {
  for (Msg* m : links) msg_free(m);
  for (Msg* m : watchers) msg_free(m);
  for (const MonitorEntry& e : monitoring) msg_free(e.lost);
}

size_t ProcessExtra::find_link(uint64_t pid) const noexcept {
  if (!link_at_.empty()) {
    auto it = link_at_.find(pid);
    return it == link_at_.end() ? links.size() : it->second;
  }
  size_t i = 0;
  while (i < links.size() && links[i]->to != pid) i++;
  return i;
}

bool ProcessExtra::linked_to(uint64_t pid) const noexcept {
  return find_link(pid) != links.size();
}

Msg* ProcessExtra::link_record(uint64_t pid) const noexcept {
  size_t i = find_link(pid);
  return i == links.size() ? nullptr : links[i];
}

bool ProcessExtra::add_link(Msg* record) noexcept {
  try {
    links.push_back(record);
  } catch (const std::bad_alloc&) {
    return false;
  }
  try {
    if (!link_at_.empty()) {
      link_at_[record->to] = links.size() - 1;
    } else if (links.size() > kIndexFrom) {
      for (size_t i = 0; i < links.size(); i++) link_at_[links[i]->to] = i;
    }
  } catch (const std::bad_alloc&) {
    link_at_.clear();  // no index: links are found by a scan
  }
  return true;
}

Msg* ProcessExtra::take_link(uint64_t pid) noexcept {
  size_t i = find_link(pid);
  if (i == links.size()) return nullptr;
  Msg* record = links[i];
  if (!link_at_.empty()) link_at_.erase(pid);
  links[i] = links.back();
  links.pop_back();
  // An existing key: no allocation.
  if (!link_at_.empty() && i < links.size()) link_at_[links[i]->to] = i;
  return record;
}

bool ProcessExtra::add_watcher(Msg* record) noexcept {
  try {
    watchers.push_back(record);
  } catch (const std::bad_alloc&) {
    return false;
  }
  return true;
}

Msg* ProcessExtra::take_watcher(uint64_t ref) noexcept {
  for (size_t i = 0; i < watchers.size(); i++)
    if (watchers[i]->correlation == ref) {
      Msg* record = watchers[i];
      watchers[i] = watchers.back();
      watchers.pop_back();
      return record;
    }
  return nullptr;
}

bool ProcessExtra::add_monitor(MonitorEntry e) noexcept {
  try {
    monitoring.push_back(e);
  } catch (const std::bad_alloc&) {
    return false;
  }
  return true;
}

bool ProcessExtra::remove_monitor(uint64_t ref, uint64_t* pid) noexcept {
  for (size_t i = 0; i < monitoring.size(); i++)
    if (monitoring[i].ref == ref) {
      if (pid) *pid = monitoring[i].pid;
      msg_free(monitoring[i].lost);
      monitoring[i] = monitoring.back();
      monitoring.pop_back();
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
