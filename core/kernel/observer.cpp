// observer.cpp - hooks, dead letters, the event builder, crash reports
// and the stats.
#include "kernel/observer.hpp"

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <new>

#include "base/error.hpp"
#include "process/process.hpp"

namespace airs {

namespace {

// Keeps every installed hook alive to the end, and publishes the newest
// (made of fn, user_data and what else its kind keeps).
template <class Hook, class Fn, class... More>
bool install(std::mutex& mu, std::vector<std::unique_ptr<Hook>>& kept,
             std::atomic<Hook*>& current, Fn fn, void* user_data,
             More... more) noexcept {
  std::lock_guard<std::mutex> lock(mu);
  Hook* h = nullptr;
  if (fn) {
    try {
      kept.reserve(kept.size() + 1);
    } catch (const std::bad_alloc&) {
      return false;
    }
    h = new (std::nothrow) Hook{fn, user_data, more...};
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

bool Observer::set_log_hook(airs_log_fn fn, void* user_data,
                            airs_severity min_severity) noexcept {
  return install(hooks_mu_, log_hooks_, log_hook_, fn, user_data, min_severity);
}

// A process's own spawn and exit are not log lines: its crash report is.
static bool is_report(airs_event_kind kind) noexcept {
  return kind != AIRS_EVENT_PROCESS_SPAWNED &&
         kind != AIRS_EVENT_PROCESS_EXITED;
}

void Observer::emit(const Event& e, const char* format, ...) const noexcept {
  if (!events_enabled_) return;
  EventHook* h = event_hook_.load(std::memory_order_acquire);
  bool to_log = is_report(e.kind) && wants_log(e.severity);
  if (!h && !to_log) return;
  char text[320];
  va_list args;
  va_start(args, format);
  std::vsnprintf(text, sizeof text, format, args);
  va_end(args);
  if (h) {
    airs_event out{AIRS_EVENT_VERSION, sizeof out, e.kind,  e.severity,
                   e.source,           e.pid,      e.other, e.value,
                   e.id ? e.id : "",   e.reason,   text};
    h->fn(h->user_data, &out);
  }
  if (to_log) log(e.severity, text, false);
}

void Observer::log(airs_severity severity, const char* line,
                   bool crash) const noexcept {
  LogHook* h = log_hook_.load(std::memory_order_acquire);
  if (h) {
    if (severity >= h->min) h->fn(h->user_data, severity, line);
    return;
  }
  // One write per line, so that lines of two workers never interleave.
  if (crash && crash_reports_) std::fprintf(stderr, "%s\n", line);
}

void Observer::process_ended(uint64_t pid, const Reason* r,
                             uint64_t last_type) noexcept {
  int kind = r->kind >= 0 && r->kind < kExitKinds ? r->kind : AIRS_EXIT_ERROR;
  bump(rare_.exits_by_kind[kind]);
  if (kind == AIRS_EXIT_NORMAL || kind == AIRS_EXIT_SHUTDOWN) return;
  LogHook* h = log_hook_.load(std::memory_order_acquire);
  if (h ? h->min > AIRS_SEVERITY_ERROR : !crash_reports_) return;
  ProcessDescription d;
  if (describer) describer->describe(pid, &d);
  char name[AIRS_NAME_MAX + 4] = "";
  if (d.name[0]) std::snprintf(name, sizeof name, " \"%s\"", d.name);
  char label[sizeof d.label + 4] = "";
  if (d.label[0]) std::snprintf(label, sizeof label, " [%s]", d.label);
  char code[24] = "";
  if (kind == AIRS_EXIT_ERROR) std::snprintf(code, sizeof code, " %d", r->code);
  const char* kind_name =
      reason_static(static_cast<airs_exit_kind>(kind))->text;
  const char* why =
      r->text && std::strcmp(r->text, kind_name) != 0 ? r->text : "";
  char last[40] = "none";
  if (last_type)
    std::snprintf(last, sizeof last, "%llu",
                  static_cast<unsigned long long>(last_type));
  char self[32], sup[48] = "";
  format_pid(pid, self, sizeof self);
  if (d.supervisor) {
    char text[32];
    format_pid(d.supervisor, text, sizeof text);
    std::snprintf(sup, sizeof sup, "; supervisor %s", text);
  }
  char line[768];
  std::snprintf(line, sizeof line,
                "airs: crash: process %s%s%s exited: %s%s%s%s (last message "
                "type %s%s)",
                self, name, label, kind_name, code, *why ? ": " : "", why, last,
                sup);
  log(AIRS_SEVERITY_ERROR, line, true);
}

void Observer::count_dead_letter(airs_dead_letter_reason reason) noexcept {
  bump(rare_.dead_letters);
  int i = reason >= 0 && reason < kDeadLetterReasons ? reason : 0;
  bump(rare_.dead_by_reason[i]);
}

void Observer::dead_letter(Msg* m, airs_dead_letter_reason reason) noexcept {
  if (m->signal == Signal::kNone && !is_system_type(m->type)) {
    count_dead_letter(reason);
    if (DeadLetterHook* h = dead_letter_hook_.load(std::memory_order_acquire))
      h->fn(h->user_data, m->to, m, reason);
  }
  msg_free(m);
}

void Observer::dead_letter_kept(uint64_t to, uint64_t sender, Msg* m) noexcept {
  if (m->signal != Signal::kNone || is_system_type(m->type)) return;
  count_dead_letter(AIRS_DEAD_LETTER_NOPROC);
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
