// broker.cpp - topics: subscribing, leaving (also by ending), and
// publishing. The locking and staging rules are in broker.hpp.
#include "broker/broker.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "base/error.hpp"
#include "process/process.hpp"
#include "kernel/runtime.hpp"

namespace airs {

Broker::Broker(Runtime& rt)
    : rt_(rt),
      nstages_(std::max<uint32_t>(rt.config().workers, 1)),
      stages_(new Stage[nstages_]) {}

Broker::~Broker() {
  // Every thread is gone. Nothing should be staged (a turn pushes what it
  // staged before it ends), but whatever is left is nobody's mail.
  for (size_t i = 0; i < nstages_; i++)
    for (Entry& e : stages_[i].entries) {
      if (e.block) msg_block_close(e.block, e.used);  // before its last frees
      for (Msg* m = e.count ? e.first : nullptr; m;) {
        Msg* next =
            m == e.last
                ? nullptr
                : static_cast<Msg*>(m->next.load(std::memory_order_relaxed));
        msg_free(m);
        m = next;
      }
    }
}

Broker::TopicRef Broker::find(const char* name, size_t len) const {
  std::string key(name, len);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_name_.find(key);
  return it == by_name_.end() ? nullptr : it->second;
}

// --- subscriptions ---------------------------------------------------------

airs_status Broker::subscribe(const std::string& name, uint64_t pid, Process* p,
                              uint64_t source) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!mark_member_if_alive(p, kSubscribed, pid))  // see forget()
      return fail(AIRS_ENOPROC, "airs_subscribe: the process is not alive");

    TopicRef t;
    auto it = by_name_.find(name);
    if (it != by_name_.end()) {
      t = it->second;
    } else {
      t = std::make_shared<Topic>(name);
      by_name_.emplace(name, t);
    }
    std::lock_guard<std::mutex> topic_lock(t->mu);
    if (t->at.count(pid)) return AIRS_OK;  // twice is once: no event
    std::vector<TopicRef>* mine = nullptr;
    try {
      // Everything that can fail first; below this nothing throws.
      mine = &by_pid_[pid];
      mine->reserve(mine->size() + 1);
      t->subs.reserve(t->subs.size() + 1);
      t->at.emplace(pid, t->subs.size());
    } catch (...) {
      if (mine && mine->empty()) by_pid_.erase(pid);
      if (t->subs.empty()) {
        t->retired = true;
        by_name_.erase(name);
      }
      throw;  // the C API turns it into ENOMEM
    }
    // The capacity is set before the pid is published (spawn), and fixed
    // for the life of the process.
    t->subs.push_back(
        Sub{pid, p, p->capacity.load(std::memory_order_relaxed) != 0});
    mine->push_back(t);
    t->version++;
  }
  event(AIRS_EVENT_SUBSCRIBED, source, pid, name, 0);
  return AIRS_OK;
}

airs_status Broker::unsubscribe(const std::string& name, uint64_t pid,
                                uint64_t source) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_name_.find(name);
    auto mine = by_pid_.find(pid);
    if (it == by_name_.end() || mine == by_pid_.end() ||
        !it->second->at.count(pid))
      return failf(AIRS_ENOTFOUND,
                   "airs_unsubscribe: pid %llu is not subscribed to '%s'",
                   static_cast<unsigned long long>(pid), name.c_str());
    TopicRef t = it->second;  // kept alive past its removal from the map
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
  event(AIRS_EVENT_UNSUBSCRIBED, source, pid, name, 0);
  return AIRS_OK;
}

void Broker::forget(uint64_t pid, Process* p) noexcept {
  // The caller has set `exiting` (seq_cst): see mark_member_if_alive().
  if (!(p->flags.load(std::memory_order_seq_cst) & kSubscribed)) return;
  std::vector<TopicRef> left;  // released after the locks
  {
    std::lock_guard<std::mutex> lock(mu_);
    p->flags.fetch_and(~uint32_t{kSubscribed}, std::memory_order_relaxed);
    auto mine = by_pid_.find(pid);
    if (mine == by_pid_.end()) return;
    left.swap(mine->second);
    by_pid_.erase(mine);
    for (const TopicRef& t : left) {
      std::lock_guard<std::mutex> topic_lock(t->mu);
      remove_locked(*t, pid);
    }
  }
  for (const TopicRef& t : left)
    event(AIRS_EVENT_UNSUBSCRIBED, 0, pid, t->name, 1);
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
  t.version++;
  if (t.subs.empty()) {
    // A topic exists while it has subscribers. A publisher that found it
    // before this sees `retired` and looks the name up again.
    t.retired = true;
    auto it = by_name_.find(t.name);
    if (it != by_name_.end() && it->second.get() == &t) by_name_.erase(it);
  }
}

size_t Broker::subscribers(const std::string& name, uint64_t* out,
                           size_t capacity) const {
  std::lock_guard<std::mutex> lock(mu_);  // enough to read: see broker.hpp
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return 0;
  const std::vector<Sub>& subs = it->second->subs;
  for (size_t i = 0; i < subs.size() && i < capacity; i++) out[i] = subs[i].pid;
  return subs.size();
}

// --- publishing ------------------------------------------------------------

airs_status Broker::publish(const char* name, size_t len, uint64_t type,
                            Payload* payload, Ctx* from, size_t* delivered) {
  Worker* w = from ? from->worker : nullptr;
  uint64_t sender = from ? from->pid : 0;
  Stage* s = w ? &stages_[w->id] : nullptr;
  // What this process sent before goes in before what it publishes now.
  if (w && w->outbox_used) rt_.flush_outbox(w);

  Msg* full = nullptr;  // envelopes a full mailbox refused
  size_t reached = 0;
  bool found = false;
  for (;;) {
    TopicRef t;
    if (s && s->topic && s->topic->name.size() == len &&
        std::memcmp(s->topic->name.data(), name, len) == 0)
      t = s->topic;  // no lookup while one topic is published to
    else
      t = find(name, len);
    if (!t) break;
    std::unique_lock<std::mutex> lock(t->mu);
    if (t->retired || t->subs.empty()) {
      lock.unlock();
      if (s && s->topic == t) {
        flush(w);  // outside the lock: a subscriber may have ended
        s->topic.reset();
      }
      continue;
    }
    found = true;
    if (s && (s->topic != t || s->version != t->version)) {
      if (w->fanout_pending) {
        // Laid out for another topic or an older list: push that first,
        // outside the lock (a subscriber staged for may have ended).
        lock.unlock();
        flush(w);
        continue;
      }
      if (!lay_out(*s, t)) s = nullptr;  // no memory: deliver directly
    }
    reached = s ? fan_out_staged(*t, *s, w, type, payload, sender, &full)
                : fan_out_direct(*t, w ? w : rt_.local_worker(), type, payload,
                                 sender, &full);
    break;
  }

  if (!found) {
    // Nobody listens: the message is a dead letter, as a send to no one.
    Msg* m = msg_new_shared(type, payload);
    if (!m) return fail(AIRS_ENOMEM, "airs_publish: out of memory");
    m->sender = sender;
    rt_.dead_letter(m, AIRS_DEAD_LETTER_NO_SUBSCRIBERS);
  }
  while (full) {
    Msg* m = full;
    full = static_cast<Msg*>(m->next.load(std::memory_order_relaxed));
    rt_.dead_letter(m, AIRS_DEAD_LETTER_MAILBOX_FULL);
  }
  if (from) from->sends += static_cast<uint32_t>(reached);
  if (delivered) *delivered = reached;
  return AIRS_OK;
}

bool Broker::lay_out(Stage& s, const TopicRef& t) noexcept {
  try {
    s.entries.resize(t->subs.size());
  } catch (...) {
    s.topic.reset();
    return false;
  }
  for (size_t i = 0; i < t->subs.size(); i++) {
    const Sub& sub = t->subs[i];
    // A bounded mailbox is offered each message at once (it may be full);
    // its entry stays empty.
    s.entries[i] =
        Entry{sub.p, sub.pid, nullptr, nullptr, 0, nullptr, 0, sub.bounded};
  }
  s.topic = t;
  s.version = t->version;
  return true;
}

size_t Broker::fan_out_staged(Topic& t, Stage& s, Worker* w, uint64_t type,
                              Payload* payload, uint64_t sender,
                              Msg** full) noexcept {
  size_t n = t.subs.size();
  // One reference per envelope, taken at once and before any envelope can
  // be consumed (the caller's own keeps the count above zero meanwhile).
  payload->refs.fetch_add(n, std::memory_order_relaxed);
  size_t reached = 0;
  Entry* entries = s.entries.data();
  for (size_t i = 0; i < n; i++) {
    Entry& e = entries[i];
    if (e.bounded) {
      if (offer(e.p, e.to, w, type, payload, sender, full)) reached++;
      continue;
    }
    Msg* m = envelope(w, e, type, payload, sender);
    if (!m) {  // no memory: give its reference back
      payload->refs.fetch_sub(1, std::memory_order_relaxed);
      continue;
    }
    // Safe under the topic lock: e's process is in the topic, so it has
    // not ended and a push cannot run into its end (no hook runs).
    stage(w, e, m);
    reached++;
  }
  return reached;
}

size_t Broker::fan_out_direct(Topic& t, Worker* w, uint64_t type,
                              Payload* payload, uint64_t sender,
                              Msg** full) noexcept {
  size_t n = t.subs.size();
  payload->refs.fetch_add(n, std::memory_order_relaxed);  // as above
  size_t reached = 0;
  for (const Sub& sub : t.subs)
    if (offer(sub.p, sub.pid, w, type, payload, sender, full)) reached++;
  return reached;
}

// One envelope, adopting one of the references the caller took, offered
// to `p`'s mailbox at once. true: delivered. false: the mailbox was full
// (the envelope is put on *full, a dead letter once the topic lock is
// released), or there was no memory for it (its reference is given back;
// the caller's own keeps the payload alive).
bool Broker::offer(Process* p, uint64_t to, Worker* w, uint64_t type,
                   Payload* payload, uint64_t sender, Msg** full) noexcept {
  Msg* m = msg_new_shared_adopt(type, payload);
  if (!m) {
    payload->refs.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  m->sender = sender;
  if (rt_.offer(p, to, m, w)) return true;
  m->next.store(*full, std::memory_order_relaxed);
  *full = m;
  return false;
}

// The next envelope for `e`: from its block if it has one, or opens one
// once the chain is kBlockAfter long.
Msg* Broker::envelope(Worker* w, Entry& e, uint64_t type, Payload* payload,
                      uint64_t sender) noexcept {
  if (!e.block && e.count >= kBlockAfter) open_block(w, e);
  if (!e.block) {
    Msg* m = msg_new_shared_adopt(type, payload);
    if (m) {
      m->sender = sender;
      m->to = e.to;
    }
    return m;
  }
  // The slot after this one is written at the next publish, after one
  // envelope for every other subscriber: too many streams for the
  // hardware prefetcher, so ask for its line now (for writing).
  if (e.used + 1 < kMsgBlockSlots)
    __builtin_prefetch(reinterpret_cast<Msg*>(e.block) + 2 + e.used, 1);
  return msg_block_shared_adopt(e.block, e.used++, type, payload, sender, e.to);
}

// Chains `m` (made by envelope()) to `e`, and pushes the chain when it is
// long enough. A chain with a block pushes when the block is full, after
// closing it (a block is closed before its last envelope is pushed), and
// goes on in a new block: the stream of messages is not over yet.
void Broker::stage(Worker* w, Entry& e, Msg* m) noexcept {
  if (e.count == 0)
    e.first = m;
  else
    e.last->next.store(m, std::memory_order_relaxed);
  e.last = m;
  e.count++;
  w->fanout_pending++;
  if (e.block) {
    if (e.used < kMsgBlockSlots) return;
    close_block(w, e);
    push(w, e);
    open_block(w, e);
  } else if (e.count >= kBatch) {
    push(w, e);
  }
}

void Broker::open_block(Worker* w, Entry& e) noexcept {
  e.block = msg_block_new();  // none (no memory): plain envelopes
  e.used = 0;
  if (e.block) w->fanout_pending++;
}

void Broker::close_block(Worker* w, Entry& e) noexcept {
  msg_block_close(e.block, e.used);
  e.block = nullptr;
  w->fanout_pending--;
}

void Broker::push(Worker* w, Entry& e) noexcept {
  uint32_t n = e.count;
  e.count = 0;
  w->fanout_pending -= n;
  count_add(w->sent, n);  // the stats count of messages sent
  rt_.push_chain(e.p, e.first, e.last, n, w, false);
}

void Broker::flush(Worker* w) noexcept {
  Stage& s = stages_[w->id];
  for (Entry& e : s.entries) {
    if (!w->fanout_pending) return;
    if (e.block) close_block(w, e);
    if (e.count) push(w, e);
  }
}

// --- events ----------------------------------------------------------------

void Broker::event(airs_event_kind kind, uint64_t source, uint64_t pid,
                   const std::string& topic, int64_t value) const noexcept {
  EventHook* h = rt_.event_hook();
  if (!h) return;
  char text[AIRS_NAME_MAX + 96];
  std::snprintf(text, sizeof text, "process %llu %s '%s'%s",
                static_cast<unsigned long long>(pid),
                kind == AIRS_EVENT_SUBSCRIBED ? "subscribed to" : "left",
                topic.c_str(), value ? " (it ended)" : "");
  airs_event e{AIRS_EVENT_VERSION,
               sizeof e,
               kind,
               AIRS_SEVERITY_DEBUG,
               source,
               pid,
               0,
               value,
               "",
               nullptr,
               text};
  h->fn(h->user_data, &e);
}

}  // namespace airs
