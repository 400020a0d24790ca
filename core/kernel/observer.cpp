// observer.cpp - hooks, dead letters, the event builder and the stats.
#include "kernel/observer.hpp"

#include <cstdarg>
#include <cstdio>
#include <new>

#include "base/error.hpp"
#include "process/process.hpp"

namespace airs {

namespace {

// Keeps every installed hook alive to the end, and publishes the newest.
template <class Hook, class Fn>
bool install(std::mutex& mu, std::vector<std::unique_ptr<Hook>>& kept,
             std::atomic<Hook*>& current, Fn fn, void* user_data) noexcept {
  std::lock_guard<std::mutex> lock(mu);
  Hook* h = nullptr;
  if (fn) {
    try {
      kept.reserve(kept.size() + 1);
    } catch (const std::bad_alloc&) {
      return false;
    }
    h = new (std::nothrow) Hook{fn, user_data};
    if (!h) return false;
    kept.emplace_back(h);  // room reserved above: cannot fail
  }
  current.store(h, std::memory_order_release);
  return true;
}

}  // namespace

bool Observer::set_dead_letter_hook(airs_dead_letter_fn fn,
                                    void* user_data) noexcept {
  return install(hooks_mu_, dead_letter_hooks_, dead_letter_hook_, fn,
                 user_data);
}

bool Observer::set_event_hook(airs_event_fn fn, void* user_data) noexcept {
  return install(hooks_mu_, event_hooks_, event_hook_, fn, user_data);
}

void Observer::emit(const Event& e, const char* format, ...) const noexcept {
  if (!events_enabled_) return;
  EventHook* h = event_hook_.load(std::memory_order_acquire);
  if (!h) return;
  char text[320];
  va_list args;
  va_start(args, format);
  std::vsnprintf(text, sizeof text, format, args);
  va_end(args);
  airs_event out{AIRS_EVENT_VERSION, sizeof out, e.kind,  e.severity,
                 e.source,           e.pid,      e.other, e.value,
                 e.id ? e.id : "",   e.reason,   text};
  h->fn(h->user_data, &out);
}

void Observer::dead_letter(Msg* m, airs_dead_letter_reason reason) noexcept {
  if (m->signal == Signal::kNone && !is_system_type(m->type)) {
    bump(rare_.dead_letters);
    if (DeadLetterHook* h = dead_letter_hook_.load(std::memory_order_acquire))
      h->fn(h->user_data, m->to, m, reason);
  }
  msg_free(m);
}

void Observer::dead_letter_kept(uint64_t to, uint64_t sender, Msg* m) noexcept {
  if (m->signal != Signal::kNone || is_system_type(m->type)) return;
  bump(rare_.dead_letters);
  DeadLetterHook* h = dead_letter_hook_.load(std::memory_order_acquire);
  if (!h) return;
  m->sender = sender;
  m->to = to;
  ErrorKeep keep;  // the send still fails with its own message
  h->fn(h->user_data, to, m, AIRS_DEAD_LETTER_NOPROC);
}

void Observer::count_dropped(Process* p) noexcept {
  p->dropped.fetch_add(1, std::memory_order_relaxed);
  bump(rare_.dropped);
}

void Observer::stats(const WorkerCounts& w,
                     airs_runtime_stats* out) const noexcept {
  // Failures, then exits, then spawns: each one counted was a spawn
  // before, so a snapshot taken while the runtime runs never reads fewer
  // spawns than exits.
  uint64_t failed = rare_.spawns_failed.load(std::memory_order_relaxed);
  uint64_t exited =
      w.exited + rare_.exited_elsewhere.load(std::memory_order_relaxed);
  uint64_t spawned = spawn_seq_.load(std::memory_order_relaxed) - failed;
  if (spawned < exited) spawned = exited;  // a spawn failing right now
  out->processes_alive = spawned - exited;
  out->processes_spawned = spawned;
  out->processes_exited = exited;
  out->messages_sent =
      w.sent + rare_.sent_elsewhere.load(std::memory_order_relaxed);
  out->messages_delivered =
      w.delivered + rare_.delivered_elsewhere.load(std::memory_order_relaxed);
  out->messages_dropped = rare_.dropped.load(std::memory_order_relaxed);
  out->dead_letters = rare_.dead_letters.load(std::memory_order_relaxed);
  out->restarts = rare_.restarts.load(std::memory_order_relaxed);
}

}  // namespace airs
