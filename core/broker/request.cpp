// request.cpp - request/reply over ordinary messages.
#include "broker/request.hpp"

#include <chrono>
#include <thread>

#include "base/error.hpp"
#include "kernel/runtime.hpp"

namespace airs {

Requests::~Requests() {
  // Only pending actor requests can be left (a blocking call does not
  // return while its entry is here); their timers were freed with the
  // timer service.
  pending_.clear();
}

uint64_t Requests::add(const Pending& p) {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t id = next_++;
  pending_.emplace(id, p);
  return id;
}

bool Requests::take(uint64_t correlation, Pending* out) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pending_.find(correlation);
  if (it == pending_.end()) return false;
  *out = it->second;
  pending_.erase(it);
  return true;
}

airs_status Requests::send(const Pending& entry, uint64_t to, Msg* m, Ctx* from,
                           uint64_t* id) {
  *id = add(entry);
  uint64_t correlation = m->correlation;
  m->correlation = *id;
  airs_status st = rt_.send(to, m, from);
  if (st != AIRS_OK) {
    // Not sent: the caller keeps `m` as it gave it, and nothing waits.
    m->correlation = correlation;
    Pending gone;
    take(*id, &gone);
  }
  return st;
}

airs_status Requests::request(Ctx* c, uint64_t to, Msg* m, uint32_t timeout_ms,
                              uint64_t* correlation) {
  Msg* timeout = msg_new_copy(AIRS_MSG_TIMEOUT, nullptr, 0);
  if (!timeout) return fail(AIRS_ENOMEM, "airs_request: out of memory");
  uint64_t id = 0;
  airs_status st = send(Pending{c->pid, to, 0, nullptr}, to, m, c, &id);
  if (st != AIRS_OK) {
    msg_free(timeout);
    return st;
  }
  timeout->correlation = id;
  uint64_t timer = rt_.timers().add(c->pid, timeout_ms, timeout);
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

bool Requests::expire(uint64_t correlation, uint64_t requester) noexcept {
  Pending p;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pending_.find(correlation);
    if (it == pending_.end() || it->second.requester != requester) return false;
    p = it->second;
    pending_.erase(it);
  }
  if (EventHook* h = rt_.event_hook()) {
    airs_event e{AIRS_EVENT_VERSION,
                 sizeof e,
                 AIRS_EVENT_REQUEST_TIMED_OUT,
                 AIRS_SEVERITY_WARNING,
                 p.requester,
                 p.callee,
                 0,
                 static_cast<int64_t>(correlation),
                 "",
                 nullptr,
                 "request timed out"};
    h->fn(h->user_data, &e);
  }
  return true;
}

void Requests::reply(Ctx* c, uint64_t correlation, Msg* m) noexcept {
  m->correlation = correlation;
  m->sender = c->pid;
  Pending p;
  if (!take(correlation, &p)) {  // timed out, or never a request
    m->to = 0;
    rt_.dead_letter(m, AIRS_DEAD_LETTER_LATE_REPLY);
    return;
  }
  if (p.waiter) {
    std::lock_guard<std::mutex> lock(mu_);
    p.waiter->reply = m;
    p.waiter->cv.notify_all();
    return;
  }
  if (p.timer)
    if (Msg* t = rt_.timers().cancel(p.timer)) msg_free(t);
  if (!rt_.live(p.requester)) {
    m->to = p.requester;
    rt_.dead_letter(m, AIRS_DEAD_LETTER_LATE_REPLY);
    return;
  }
  // Past the mailbox's capacity, as a signal: the requester asked for it,
  // and no timeout is left to tell it if the reply were refused.
  rt_.post(p.requester, m);
}

airs_status Requests::call(uint64_t to, Msg* m, uint32_t timeout_ms,
                           Msg** reply) {
  using clock = std::chrono::steady_clock;
  Waiter w;
  uint64_t id = 0;
  airs_status st = send(Pending{0, to, 0, &w}, to, m, nullptr, &id);
  if (st != AIRS_OK) {
    // ETIMEDOUT is kept for "sent, no reply in time" (msg consumed): a
    // BLOCK mailbox that stayed full is EFULL here (msg kept).
    if (st == AIRS_ETIMEDOUT)
      return fail(AIRS_EFULL,
                  "airs_call: the callee's mailbox stayed full (policy BLOCK, "
                  "its block timeout passed)");
    return st;
  }
  auto deadline = clock::now() + std::chrono::milliseconds(timeout_ms);
  std::unique_lock<std::mutex> lock(mu_);
  while (!w.reply) {
    if (clock::now() >= deadline) {
      // The entry goes under the same lock a reply takes it with: after
      // this, a reply finds nothing and is a late one.
      if (pending_.erase(id)) {
        lock.unlock();
        return fail(AIRS_ETIMEDOUT, "airs_call: no reply in time");
      }
      // A reply took the entry and is being handed over.
      w.cv.wait(lock, [&] { return w.reply != nullptr; });
      break;
    }
    if (rt_.threaded()) {
      w.cv.wait_until(lock, deadline);
    } else {
      // Host-driven: the callee runs only if this thread polls.
      lock.unlock();
      uint32_t ran = 0;
      if (rt_.poll(256, &ran) != AIRS_OK || ran == 0)
        std::this_thread::sleep_for(std::chrono::microseconds(100));
      lock.lock();
    }
  }
  *reply = w.reply;
  return AIRS_OK;
}

}  // namespace airs
