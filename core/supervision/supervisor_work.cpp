// supervisor_work.cpp - the role (see supervisor.hpp): taking it, letting
// it go, waiting without it; and what is handed out once it is let go,
// the kept events and the buried child records.
#include <cstdio>
#include <new>
#include <utility>

#include "base/error.hpp"
#include "supervision/supervisor.hpp"

namespace airs {

namespace {

// Roles of any supervisor this thread holds: a thread that holds one runs
// inside some supervisor's work, and must not wait for another's.
__attribute__((tls_model("initial-exec"))) thread_local int tls_roles = 0;

}  // namespace

bool Supervisor::Work::may_wait() const noexcept {
  // No role of any supervisor but this one, and no callback on the stack.
  return tls_roles == (taken_ ? 1 : 0) && !current_ctx();
}

bool Supervisor::Work::thread_may_wait() noexcept {
  return tls_roles == 0 && !current_ctx();
}

Supervisor::Work::Work(Supervisor& s, Mode mode) noexcept : s_(s), lk_(s.mu_) {
  taken_ = take(mode);
}

bool Supervisor::Work::take(Mode mode) noexcept {
  while (s_.busy_) {
    if (s_.busy_owner_ == std::this_thread::get_id()) {
      status_ = fail(AIRS_ESTATE,
                     "called from inside the supervisor's own work (a "
                     "child's start or stop)");
      return false;
    }
    if (mode == kOperation && tls_roles > 0) {
      status_ = fail(AIRS_ESTATE,
                     "the supervisor is busy, and this thread is inside "
                     "another supervisor's work (it does not wait: try "
                     "again later)");
      return false;
    }
    s_.waiters_++;
    s_.changed_.wait(lk_);
    s_.waiters_--;
  }
  s_.busy_ = true;
  s_.busy_owner_ = std::this_thread::get_id();
  s_.held_ = &lk_;
  tls_roles++;
  return true;
}

void Supervisor::Work::let_go() noexcept {
  s_.busy_ = false;
  s_.busy_owner_ = std::thread::id();
  s_.held_ = nullptr;
  tls_roles--;
  if (s_.waiters_) s_.changed_.notify_all();
}

Supervisor::Work::~Work() {
  if (!taken_) return;
  if (s_.graveyard_.empty() && s_.kept_events_.empty()) {
    let_go();
    return;
  }
  // What was kept is handed out by the role's holder, in order, without
  // the lock (user_data_free and the event hook are user code), before
  // the role is let go: whoever waited for the role sees it done. Only the
  // role's holder touches the two lists, so they are used in place. The
  // operation's own error message is kept for its caller.
  ErrorKeep keep;
  lk_.unlock();
  s_.graveyard_.clear();
  s_.emit_kept(s_.kept_events_);
  s_.kept_events_.clear();
  lk_.lock();
  let_go();
}

void Supervisor::bury(ChildRec&& rec) noexcept {
  try {
    graveyard_.push_back(std::move(rec));
  } catch (const std::bad_alloc&) {
    // No memory to keep it: its user_data_free runs now, under the lock
    // (the one place user code can: only when memory has run out).
    ChildRec gone = std::move(rec);
  }
}

void Supervisor::emit(airs_event_kind kind, const Child* ch, uint64_t pid,
                      uint64_t other, int64_t value, const Reason* r,
                      airs_severity sev) {
  if (!seam_.wants_events(sev)) return;
  try {
    kept_events_.push_back(KeptEvent{Event{.kind = kind,
                                           .severity = sev,
                                           .source = self_,
                                           .pid = pid,
                                           .other = other,
                                           .value = value},
                                     ch ? ch->rec.id : std::string(),
                                     const_cast<Reason*>(r)});
  } catch (const std::bad_alloc&) {
    return;  // events are best effort: no memory, no event
  }
  reason_retain(const_cast<Reason*>(r));
}

void Supervisor::emit_kept(std::deque<KeptEvent>& events) noexcept {
  static const char* const kWhat[] = {"",
                                      "child started",
                                      "child failed to start",
                                      "child exited",
                                      "child restarted",
                                      "strategy applied",
                                      "restart intensity reached",
                                      "supervisor shutting down",
                                      "stopping child",
                                      "child killed after its shutdown timeout",
                                      "backing off before restart",
                                      "child health degraded",
                                      "child health check failed"};
  char self[32];
  format_pid(self_, self, sizeof self);
  for (KeptEvent& k : events) {
    k.e.id = k.id.c_str();
    k.e.reason = k.reason;
    const char* id = k.e.id;
    const char* why = k.reason && k.reason->text ? k.reason->text : "";
    seam_.emit(k.e, "supervisor %s: %s%s%s%s%s%s", self, kWhat[k.e.kind],
               *id ? " '" : "", id, *id ? "'" : "", *why ? ": " : "", why);
    reason_release(k.reason);
  }
}

}  // namespace airs
