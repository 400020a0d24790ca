// request.cpp - request/reply over ordinary messages.
#include "broker/request.hpp"

#include <algorithm>
#include <chrono>
#include <new>
#include <thread>

#include "base/error.hpp"

namespace airs {

Requests::Requests(Seam& seam) noexcept
    : seam_(seam),
      member_bit_(seam.add_exit_observer({&Requests::callee_ended, this})) {}

Requests::~Requests() {
  // Only pending actor requests can be left (a blocking call does not
  // return while its entry is here); their timers were freed with the
  // timer service.
  pending_.clear();
}

// Correlation ids carry this runtime's pid tag in their top 16 bits, as
// pids do: a reply made on another runtime finds its way back here by it
// (reply() below).
bool Requests::add(const Pending& p, uint64_t* id) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t correlation =
      static_cast<uint64_t>(seam_.own_tag()) << 48 | (next_ & kSeqMask);
  try {
    pending_.emplace(correlation, p);
  } catch (const std::bad_alloc&) {
    return false;
  }
  next_++;
  *id = correlation;
  return true;
}

bool Requests::take(uint64_t correlation, Pending* out) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pending_.find(correlation);
  if (it == pending_.end()) return false;
  *out = it->second;
  pending_.erase(it);
  return true;
}

airs_status Requests::send(const Pending& entry, uint64_t to, Msg* m, Ctx* from,
                           uint64_t* id) noexcept {
  if (!add(entry, id)) return fail(AIRS_ENOMEM, "out of memory");
  uint64_t correlation = m->correlation;
  m->correlation = *id;
  m->remote_kind = AIRS_TRANSPORT_REQUEST;  // (read by transports only)
  airs_status st = seam_.send(to, m, from);
  if (st != AIRS_OK) {
    // Not sent: the caller keeps `m` as it gave it, and nothing waits.
    m->correlation = correlation;
    m->remote_kind = AIRS_TRANSPORT_MESSAGE;
    Pending gone;
    take(*id, &gone);
  }
  return st;
}

airs_status Requests::request(Ctx* c, uint64_t to, Msg* m, uint32_t timeout_ms,
                              uint64_t* correlation) noexcept {
  if (seam_.shutting_down())
    return fail(AIRS_ESTATE, "the runtime is shutting down");
  Msg* timeout = msg_new_copy(AIRS_MSG_TIMEOUT, nullptr, 0);
  if (!timeout) return fail(AIRS_ENOMEM, "out of memory");
  uint64_t id = 0;
  airs_status st = send(Pending{c->pid, to, 0, nullptr}, to, m, c, &id);
  if (st != AIRS_OK) {
    msg_free(timeout);
    return st;
  }
  timeout->correlation = id;
  uint64_t timer =
      seam_.timer_add(c->pid, timeout_ms, timeout, {&Requests::expire, this});
  if (!timer) {
    // Sent, but no memory for the timer: rather than wait for ever, the
    // request times out at once (a reply that comes is a late one).
    Pending gone;
    if (take(id, &gone))
      seam_.signal(c->pid, timeout);  // frees it if c has ended
    else
      msg_free(timeout);
    *correlation = id;
    return AIRS_OK;
  }
  {
    // A reply may have come (and the entry gone) already: then the timer
    // is cancelled here, or fires and finds nothing.
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pending_.find(id);
    if (it != pending_.end()) it->second.timer = timer;
  }
  *correlation = id;
  return AIRS_OK;
}

bool Requests::expire(void* self, uint64_t requester, Msg* timeout) noexcept {
  auto* r = static_cast<Requests*>(self);
  uint64_t correlation = timeout->correlation;
  Pending p;
  {
    std::lock_guard<std::mutex> lock(r->mu_);
    auto it = r->pending_.find(correlation);
    if (it == r->pending_.end() || it->second.requester != requester)
      return false;  // a reply won
    p = it->second;
    r->pending_.erase(it);
  }
  if (r->seam_.wants_events())
    r->seam_.emit({.kind = AIRS_EVENT_REQUEST_TIMED_OUT,
                   .severity = AIRS_SEVERITY_WARNING,
                   .source = p.requester,
                   .pid = p.callee,
                   .value = static_cast<int64_t>(correlation)},
                  "request timed out");
  return true;
}

void Requests::reply(Ctx* c, uint64_t correlation, Msg* m) noexcept {
  m->correlation = correlation;
  m->sender = c->pid;
  uint32_t tag = pid_tag(correlation);
  if (tag != seam_.own_tag() && tag != 0) {
    // A request made on another runtime: the reply goes to that runtime's
    // table through the transport (to: the tag alone).
    m->remote_kind = AIRS_TRANSPORT_REPLY;
    uint64_t to = static_cast<uint64_t>(tag) << 48;
    if (seam_.send_remote(to, m, c->pid) != AIRS_OK) {
      m->to = to;
      seam_.dead_letter(m, AIRS_DEAD_LETTER_LATE_REPLY);
    }
    return;
  }
  Pending p;
  if (!take(correlation, &p)) {  // timed out, or never a request
    m->to = 0;
    seam_.dead_letter(m, AIRS_DEAD_LETTER_LATE_REPLY);
    return;
  }
  hand_over(p, m);
}

airs_status Requests::reply_from_remote(uint64_t from, uint64_t correlation,
                                        Msg* m) noexcept {
  m->correlation = correlation;
  m->sender = from;
  Pending p;
  if (!take(correlation, &p)) {
    m->to = 0;
    seam_.dead_letter(m, AIRS_DEAD_LETTER_LATE_REPLY);
    return fail(AIRS_ENOTFOUND, "no request is waiting for this reply");
  }
  hand_over(p, m);
  return AIRS_OK;
}

void Requests::hand_over(const Pending& p, Msg* m) noexcept {
  if (p.waiter) {
    std::lock_guard<std::mutex> lock(mu_);
    p.waiter->reply = m;
    p.waiter->cv.notify_all();
    return;
  }
  seam_.timer_cancel(p.timer);
  if (!seam_.live(p.requester)) {
    m->to = p.requester;
    seam_.dead_letter(m, AIRS_DEAD_LETTER_LATE_REPLY);
    return;
  }
  // Past the mailbox's capacity, as a signal: the requester asked for it,
  // and no timeout is left to tell it if the reply were refused.
  seam_.signal(p.requester, m);
}

void Requests::callee_ended(void* self, uint64_t pid, Process*,
                            Reason* reason) noexcept {
  auto* r = static_cast<Requests*>(self);
  std::lock_guard<std::mutex> lock(r->mu_);
  auto range = r->calls_.equal_range(pid);
  for (auto it = range.first; it != range.second; ++it) {
    Waiter* w = it->second;
    if (w->callee_ended) continue;
    reason_retain(reason);
    w->callee_ended = reason;
    w->cv.notify_all();
  }
}

airs_status Requests::watch_callee(uint64_t to, Waiter* w) noexcept {
  if (!member_bit_) return AIRS_OK;  // (every bit taken: only the timeout)
  Process* p = seam_.live(to);
  std::lock_guard<std::mutex> lock(mu_);
  // Under mu_, which callee_ended() takes: see Seam::join_if_alive.
  if (!p || !seam_.join_if_alive(p, member_bit_, to))
    return fail(AIRS_ENOPROC, "the callee is not alive");
  try {
    calls_.emplace(to, w);
  } catch (const std::bad_alloc&) {
    return fail(AIRS_ENOMEM, "out of memory");
  }
  return AIRS_OK;
}

airs_status Requests::watch_remote_callee(uint64_t to, Waiter* w) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  try {
    calls_.emplace(to, w);  // callee_ended() finds it from the watcher
  } catch (const std::bad_alloc&) {
    return fail(AIRS_ENOMEM, "out of memory");
  }
  return AIRS_OK;
}

void Requests::unwatch_callee(uint64_t to, Waiter* w) noexcept {
  auto range = calls_.equal_range(to);
  for (auto it = range.first; it != range.second; ++it) {
    if (it->second != w) continue;
    calls_.erase(it);
    break;
  }
  reason_release(w->callee_ended);
  w->callee_ended = nullptr;
}

airs_status Requests::call(uint64_t to, Msg* m, uint32_t timeout_ms,
                           Msg** reply) noexcept {
  Waiter w;
  bool remote = seam_.foreign(to);
  airs_status st = remote ? watch_remote_callee(to, &w) : watch_callee(to, &w);
  if (st != AIRS_OK) return st;
  st = wait_reply(to, m, timeout_ms, &w, remote);
  if (w.remote_watched) remote_watch(to, false);
  std::lock_guard<std::mutex> lock(mu_);
  if (st == AIRS_OK) *reply = w.reply;
  unwatch_callee(to, &w);
  return st;
}

// Sends the call and waits for its reply, its callee's end or its deadline.
// A callee of another runtime is watched only once the call has waited
// kRemoteWatchAfter (remote_watch): most calls are answered sooner, and a
// monitor and a demonitor for each would double the traffic between the
// two runtimes and add a third to a call's latency (measured: p50 209 ->
// 274-313 us on airs-bench-node remote_call). The cost: a callee that
// ends within that time without replying is reported as noproc (the
// monitor finds it gone), not with its own reason.
airs_status Requests::wait_reply(uint64_t to, Msg* m, uint32_t timeout_ms,
                                 Waiter* wp, bool remote) noexcept {
  using clock = std::chrono::steady_clock;
  Waiter& w = *wp;
  uint64_t id = 0;
  airs_status st = send(Pending{0, to, 0, &w}, to, m, nullptr, &id);
  if (st != AIRS_OK) {
    // ETIMEDOUT is kept for "sent, no reply in time" (msg consumed): a
    // BLOCK mailbox that stayed full is EFULL here (msg kept).
    if (st == AIRS_ETIMEDOUT)
      return fail(AIRS_EFULL,
                  "the callee's mailbox stayed full (policy BLOCK, its block "
                  "timeout passed)");
    return st;
  }
  auto deadline = clock::now() + std::chrono::milliseconds(timeout_ms);
  auto watch_at = remote ? clock::now() + kRemoteWatchAfter : deadline;
  std::unique_lock<std::mutex> lock(mu_);
  while (!w.reply) {
    if (remote && !w.remote_watched && clock::now() >= watch_at) {
      lock.unlock();
      w.remote_watched = remote_watch(to, true);
      remote = false;  // asked once
      lock.lock();
      continue;
    }
    if (w.callee_ended) {
      // Its end and a reply race like a timeout and a reply: whoever
      // takes the entry. A reply that took it is being handed over.
      if (pending_.erase(id)) {
        const Reason* r = w.callee_ended;
        lock.unlock();
        return failf(AIRS_EEXITED,
                     "the callee ended before it replied (reason %s, code "
                     "%d%s%s)",
                     reason_static(r->kind)->text, r->code,
                     r->text && *r->text ? ": " : "", r->text ? r->text : "");
      }
      w.cv.wait(lock, [&] { return w.reply != nullptr; });
      break;
    }
    if (clock::now() >= deadline) {
      // The entry goes under the same lock a reply takes it with: after
      // this, a reply finds nothing and is a late one.
      if (pending_.erase(id)) {
        lock.unlock();
        return fail(AIRS_ETIMEDOUT, "no reply in time");
      }
      // A reply took the entry and is being handed over.
      w.cv.wait(lock, [&] { return w.reply != nullptr; });
      break;
    }
    if (seam_.threaded()) {
      w.cv.wait_until(lock, remote ? std::min(watch_at, deadline) : deadline);
    } else {
      // Host-driven: the callee runs only if this thread polls.
      lock.unlock();
      uint32_t ran = 0;
      if (seam_.poll(256, &ran) != AIRS_OK || ran == 0)
        std::this_thread::sleep_for(std::chrono::microseconds(100));
      lock.lock();
    }
  }
  return AIRS_OK;
}

}  // namespace airs
