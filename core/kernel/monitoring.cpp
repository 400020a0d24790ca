// monitoring.cpp - the counters of airs_runtime_stats, the process
// lifecycle events and the dead letters of sends to a pid that is gone.
//
// The message counters cost no shared write per message: each worker
// counts what it sends and delivers in its own fields, and only sends from
// other threads (the host, the timer thread) share an atomic. Spawns,
// exits and drops are rare and count in shared atomics.
#include <cstdio>
#include <cstring>

#include "base/error.hpp"
#include "kernel/runtime.hpp"

namespace airs {

void Runtime::stats(airs_runtime_stats* out) const noexcept {
  // Failures, then exits, then spawns: each one counted was a spawn
  // before, so a snapshot taken while the runtime runs never reads fewer
  // spawns than exits.
  uint64_t failed = counters_.spawns_failed.load(std::memory_order_relaxed);
  WorkerCounts w;
  sched_->add_counters(&w);
  uint64_t exited =
      w.exited + counters_.exited_elsewhere.load(std::memory_order_relaxed);
  uint64_t spawned = spawn_seq_.load(std::memory_order_relaxed) - failed;
  if (spawned < exited) spawned = exited;  // a spawn failing right now
  out->processes_alive = spawned - exited;
  out->processes_spawned = spawned;
  out->processes_exited = exited;
  out->messages_sent =
      w.sent + counters_.sent_elsewhere.load(std::memory_order_relaxed);
  out->messages_delivered = w.delivered;
  out->messages_dropped = counters_.dropped.load(std::memory_order_relaxed);
  out->dead_letters = dead_letters_.load(std::memory_order_relaxed);
  out->restarts = restarts_.load(std::memory_order_relaxed);
}

void Runtime::process_event(airs_event_kind kind, uint64_t source, uint64_t pid,
                            const Reason* reason) noexcept {
  EventHook* h = event_hook();
  if (!h) return;
  char text[192];
  airs_severity sev = AIRS_SEVERITY_DEBUG;
  if (kind == AIRS_EVENT_PROCESS_SPAWNED) {
    std::snprintf(text, sizeof text, "process %llu spawned",
                  static_cast<unsigned long long>(pid));
  } else {
    airs_exit_kind k = reason ? reason->kind : AIRS_EXIT_NORMAL;
    if (k != AIRS_EXIT_NORMAL && k != AIRS_EXIT_SHUTDOWN)
      sev = AIRS_SEVERITY_WARNING;
    // The static reasons' text is their kind's name: not twice.
    const char* name = reason_static(k)->text;
    const char* why = reason && reason->text ? reason->text : "";
    if (std::strcmp(why, name) == 0) why = "";
    std::snprintf(text, sizeof text, "process %llu exited: %s%s%s",
                  static_cast<unsigned long long>(pid), name, *why ? ": " : "",
                  why);
  }
  airs_event e{AIRS_EVENT_VERSION,
               sizeof e,
               kind,
               sev,
               source,
               pid,
               0,
               0,
               "",
               reason,
               text};
  h->fn(h->user_data, &e);
}

void Runtime::dead_letter_noproc(uint64_t to, Msg* m, Ctx* from) noexcept {
  if (m->signal != Signal::kNone || is_system_type(m->type)) return;
  dead_letters_.fetch_add(1, std::memory_order_relaxed);
  Hook* h = dead_letter_hook_.load(std::memory_order_acquire);
  if (!h) return;
  // The hook sees what the receiver would have: the sender is the caller.
  m->sender = from ? from->pid : 0;
  m->to = to;
  // The send still fails with its own message, whatever the hook calls.
  char why[512];
  std::snprintf(why, sizeof why, "%s", last_error_message());
  h->fn(h->user_data, to, static_cast<airs_msg*>(m), AIRS_DEAD_LETTER_NOPROC);
  fail(AIRS_ENOPROC, why);
}

}  // namespace airs
