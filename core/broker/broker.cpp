// broker.cpp - topics: subscribing, leaving (also by ending), and
// publishing. The locking rules are in broker.hpp.
#include "broker/broker.hpp"

#include <cstdio>
#include <cstring>
#include <new>

#include "base/error.hpp"

namespace airs {

Broker::Broker(Seam& seam, uint32_t workers)
    : seam_(seam),
      member_bit_(seam.add_exit_observer({&Broker::process_ended, this})),
      recent_(new Recent[workers ? workers : 1]) {}

Broker::TopicRef Broker::find(const char* name, size_t len) const noexcept {
  try {
    std::string key(name, len);
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_name_.find(key);
    return it == by_name_.end() ? nullptr : it->second;
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}

uint64_t Broker::caller_pid() const noexcept {
  Ctx* c = seam_.current_ctx();
  return c ? c->pid : 0;
}

// --- subscriptions ---------------------------------------------------------

airs_status Broker::subscribe(const char* topic, size_t len,
                              uint64_t pid) noexcept {
  Process* p = seam_.live(pid);
  if (!p) return fail(AIRS_ENOPROC, "the process is not alive");
  std::string name;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!seam_.join_if_alive(p, member_bit_, pid))  // see process_ended()
      return fail(AIRS_ENOPROC, "the process is not alive");
    TopicRef t;
    std::vector<TopicRef>* mine = nullptr;
    bool first = false;  // its first subscriber: the transport hears of it
    try {
      name.assign(topic, len);
      auto it = by_name_.find(name);
      if (it != by_name_.end()) {
        t = it->second;
      } else {
        t = std::make_shared<Topic>(name);
        by_name_.emplace(name, t);
        first = true;
      }
      std::lock_guard<std::mutex> topic_lock(t->mu);
      if (t->at.count(pid)) return AIRS_OK;  // twice is once: no event
      // Everything that can fail first; below this nothing allocates.
      mine = &by_pid_[pid];
      mine->reserve(mine->size() + 1);
      t->subs.reserve(t->subs.size() + 1);
      t->at.emplace(pid, t->subs.size());
      // The capacity is set before the pid is published (spawn), and
      // fixed for the life of the process.
      t->subs.push_back(
          Subscriber{pid, p, p->capacity.load(std::memory_order_relaxed) != 0});
      mine->push_back(t);
      changed(*t);
      if (first) seam_.remote_interest(topic, len, true);
    } catch (const std::bad_alloc&) {
      if (mine && mine->empty()) by_pid_.erase(pid);
      if (t && t->subs.empty()) {
        t->retired = true;
        auto it = by_name_.find(t->name);
        if (it != by_name_.end() && it->second == t) by_name_.erase(it);
      }
      return fail(AIRS_ENOMEM, "out of memory");
    }
  }
  event(AIRS_EVENT_SUBSCRIBED, caller_pid(), pid, name, 0);
  return AIRS_OK;
}

airs_status Broker::unsubscribe(const char* topic, size_t len,
                                uint64_t pid) noexcept {
  TopicRef t;  // kept alive past its removal from the map
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_name_.end();
    try {
      it = by_name_.find(std::string(topic, len));
    } catch (const std::bad_alloc&) {
      return fail(AIRS_ENOMEM, "out of memory");
    }
    auto mine = by_pid_.find(pid);
    if (it == by_name_.end() || mine == by_pid_.end() ||
        !it->second->at.count(pid))
      return failf(AIRS_ENOTFOUND, "pid %llu is not subscribed to '%.*s'",
                   static_cast<unsigned long long>(pid), static_cast<int>(len),
                   topic);
    t = it->second;
    std::vector<TopicRef>& topics = mine->second;
    for (size_t i = 0; i < topics.size(); i++) {
      if (topics[i] != t) continue;
      topics[i] = std::move(topics.back());
      topics.pop_back();
      break;
    }
    if (topics.empty()) by_pid_.erase(mine);
    std::lock_guard<std::mutex> topic_lock(t->mu);
    remove_locked(*t, pid);
  }
  event(AIRS_EVENT_UNSUBSCRIBED, caller_pid(), pid, t->name, 0);
  return AIRS_OK;
}

void Broker::process_ended(void* self, uint64_t pid, Process*,
                           Reason*) noexcept {
  auto* b = static_cast<Broker*>(self);
  std::vector<TopicRef> left;  // released after the locks
  {
    std::lock_guard<std::mutex> lock(b->mu_);
    auto mine = b->by_pid_.find(pid);
    if (mine == b->by_pid_.end()) return;
    left.swap(mine->second);
    b->by_pid_.erase(mine);
    for (const TopicRef& t : left) {
      std::lock_guard<std::mutex> topic_lock(t->mu);
      b->remove_locked(*t, pid);
    }
  }
  for (const TopicRef& t : left)
    b->event(AIRS_EVENT_UNSUBSCRIBED, 0, pid, t->name, 1);
}

void Broker::remove_locked(Topic& t, uint64_t pid) noexcept {
  auto at = t.at.find(pid);
  if (at == t.at.end()) return;
  size_t i = at->second;
  t.at.erase(at);
  if (i + 1 != t.subs.size()) {
    t.subs[i] = t.subs.back();
    t.at[t.subs[i].pid] = i;  // an existing key: no allocation
  }
  t.subs.pop_back();
  changed(t);
  if (t.subs.empty()) {
    // A topic exists while it has subscribers. A publisher that found it
    // before this sees `retired` and looks the name up again.
    t.retired = true;
    auto it = by_name_.find(t.name);
    if (it != by_name_.end() && it->second.get() == &t) by_name_.erase(it);
    seam_.remote_interest(t.name.data(), t.name.size(), false);
  }
}

void Broker::replay_interest() noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [name, t] : by_name_)
    seam_.remote_interest(name.data(), name.size(), true);
}

airs_status Broker::subscribers(const char* topic, size_t len, uint64_t* out,
                                size_t capacity, size_t* count) const noexcept {
  std::lock_guard<std::mutex> lock(mu_);  // enough to read: see broker.hpp
  auto it = by_name_.end();
  try {
    it = by_name_.find(std::string(topic, len));
  } catch (const std::bad_alloc&) {
    return fail(AIRS_ENOMEM, "out of memory");
  }
  *count = 0;
  if (it == by_name_.end()) return AIRS_OK;
  const std::vector<Subscriber>& subs = it->second->subs;
  for (size_t i = 0; i < subs.size() && i < capacity; i++) out[i] = subs[i].pid;
  *count = subs.size();
  return AIRS_OK;
}

// --- publishing ------------------------------------------------------------

airs_status Broker::publish(const char* topic, size_t len, uint64_t type,
                            Payload* payload, size_t* delivered) noexcept {
  Ctx* from = seam_.current_ctx();
  uint64_t sender = from ? from->pid : 0;
  bool carried = seam_.remote_carries_topics();  // other runtimes' turn next
  airs_status st =
      fan_out(topic, len, type, payload, sender, from, delivered, carried);
  if (st != AIRS_OK || !carried) return st;
  // Then to the other runtimes, whose subscribers the transport knows.
  Msg* m = msg_new_shared(type, payload);
  if (!m) return AIRS_OK;  // the local subscribers have it; best effort
  m->sender = sender;
  if (seam_.remote_publish(topic, len, m) != AIRS_OK) msg_free(m);
  return AIRS_OK;
}

airs_status Broker::deliver_remote(const char* topic, size_t len, uint64_t type,
                                   Payload* payload, uint64_t sender,
                                   size_t* delivered) noexcept {
  return fan_out(topic, len, type, payload, sender, seam_.current_ctx(),
                 delivered, false);
}

// The local subscribers' part of a publish. `carried`: the transport takes
// it further (never for a publish from another runtime), so no local
// subscriber is no dead letter.
airs_status Broker::fan_out(const char* topic, size_t len, uint64_t type,
                            Payload* payload, uint64_t sender, Ctx* from,
                            size_t* delivered, bool carried) noexcept {
  Worker* w = from ? from->worker : nullptr;
  TopicRef* recent = w ? &recent_[w->id].topic : nullptr;

  Msg* refused = nullptr;  // envelopes a full mailbox refused
  size_t reached = 0;
  bool found = false;
  for (;;) {
    TopicRef t;
    if (recent && *recent && (*recent)->name.size() == len &&
        std::memcmp((*recent)->name.data(), topic, len) == 0)
      t = *recent;  // no lookup while one topic is published to
    else
      t = find(topic, len);
    if (!t) break;
    std::unique_lock<std::mutex> lock(t->mu);
    if (t->retired || t->subs.empty()) {
      lock.unlock();
      if (recent && *recent == t) recent->reset();
      continue;
    }
    if (!seam_.fan_out_ready(w, t->stamp)) {
      // Mail staged for another list goes first, pushed outside the lock
      // (pushing may meet a subscriber that ended: a dead-letter hook).
      lock.unlock();
      seam_.flush(w);
      continue;
    }
    found = true;
    if (recent && *recent != t) *recent = t;
    FanOut list{t->stamp, t->subs.data(), t->subs.size()};
    reached = seam_.fan_out(w, list, type, payload, sender, &refused);
    break;
  }

  if (!found && !carried) {
    // Nobody listens: the message is a dead letter, as a send to no one.
    Msg* m = msg_new_shared(type, payload);
    if (!m) return fail(AIRS_ENOMEM, "out of memory");
    m->sender = sender;
    seam_.dead_letter(m, AIRS_DEAD_LETTER_NO_SUBSCRIBERS);
  }
  while (refused) {
    Msg* m = refused;
    refused = next_of(m);
    seam_.dead_letter(m, AIRS_DEAD_LETTER_MAILBOX_FULL);
  }
  if (from) from->sends += static_cast<uint32_t>(reached);
  if (delivered) *delivered = reached;
  return AIRS_OK;
}

// --- events ----------------------------------------------------------------

void Broker::event(airs_event_kind kind, uint64_t source, uint64_t pid,
                   const std::string& topic, int64_t value) const noexcept {
  if (!seam_.wants_events()) return;
  seam_.emit({.kind = kind,
              .severity = AIRS_SEVERITY_DEBUG,
              .source = source,
              .pid = pid,
              .value = value},
             "process %llu %s '%s'%s", static_cast<unsigned long long>(pid),
             kind == AIRS_EVENT_SUBSCRIBED ? "subscribed to" : "left",
             topic.c_str(), value ? " (it ended)" : "");
}

}  // namespace airs
