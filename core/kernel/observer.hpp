// observer.hpp - what the runtime tells the world: the dead-letter, event
// and log hooks, crash reports, the counters of airs_runtime_stats and the
// metrics, and the one builder of events.
//
// Counters cost no shared write per message: each worker counts what it
// sends, delivers and ends in its own fields (sched/scheduler.hpp); only
// sends from other threads and rare events share the atomics here, on a
// line of their own.
//
// Hooks are user code: every function here that calls one must be called
// with no lock held that an [any thread] call can need.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "airs/airs.h"
#include "mail/message.hpp"
#include "sched/scheduler.hpp"

namespace airs {

struct Process;

// One event, as the hook will see it (airs_event without its text).
struct Event {
  airs_event_kind kind;
  airs_severity severity = AIRS_SEVERITY_INFO;
  uint64_t source = 0;  // the deciding process
  uint64_t pid = 0;     // the process concerned
  uint64_t other = 0;
  int64_t value = 0;
  const char* id = "";
  const Reason* reason = nullptr;
};

// What a crash report says of a process besides its pid and reason:
// filled by the runtime, which knows names, labels and supervisors
// (Kernel::describer).
struct ProcessDescription {
  char name[AIRS_NAME_MAX + 1] = "";
  char label[64] = "";
  uint64_t supervisor = 0;
};

class Describer {
 public:
  // Fills *out for `pid`, which is ending or alive. threads: any. Takes
  // only the services' leaf locks; calls no user code.
  virtual void describe(uint64_t pid, ProcessDescription* out) noexcept = 0;

 protected:
  ~Describer() = default;
};

// Times the messages of the processes marked `timed` (Process::timed), for
// the per-process histograms (observe/timing.hpp). Each entry takes only
// the timer's own leaf lock and calls no user code. [any thread]
class MailTiming {
 public:
  // User message `m` is about to go into the mailbox of `to`, at `now_ns`
  // (mono_ns); it has not been pushed yet.
  virtual void sent(uint64_t to, const Msg* m, uint64_t now_ns) noexcept = 0;
  // Process `pid` took the user messages `msgs` out of its mailbox and
  // handled them in one call, from `begin_ns` to `end_ns`. [pid's turn]
  virtual void received(uint64_t pid, const Msg* const* msgs, uint32_t n,
                        uint64_t begin_ns, uint64_t end_ns) noexcept = 0;

 protected:
  ~MailTiming() = default;
};

class Observer {
 public:
  Observer(bool events_enabled, bool crash_reports)
      : events_enabled_(events_enabled), crash_reports_(crash_reports) {}
  Observer(const Observer&) = delete;
  Observer& operator=(const Observer&) = delete;

  // --- hooks [any thread] ---
  // A replaced hook stays allocated until the runtime ends: another
  // thread may still be calling it. false: no memory (nothing changed).
  bool set_dead_letter_hook(airs_dead_letter_fn fn, void* user_data) noexcept;
  bool set_event_hook(airs_event_fn fn, void* user_data) noexcept;
  bool set_log_hook(airs_log_fn fn, void* user_data,
                    airs_severity min_severity) noexcept;

  // --- events ---
  // Whether an event would go anywhere: build one only then. Always false
  // with AIRS_CFG_EVENTS 0. [any thread]
  bool wants_events() const noexcept {
    return events_enabled_ && event_hook_.load(std::memory_order_acquire);
  }
  // Whether an event of `severity` would go anywhere: the event hook, or
  // the log hook (supervisors' reports). [any thread]
  bool wants_events(airs_severity severity) const noexcept {
    return wants_events() || (events_enabled_ && wants_log(severity));
  }
  // Whether a log line of `severity` would reach the log hook.
  bool wants_log(airs_severity severity) const noexcept {
    LogHook* h = log_hook_.load(std::memory_order_acquire);
    return h && severity >= h->min;
  }
  // The one event builder: formats the text, hands the event to the hook.
  // [any thread; no lock held (the hook is user code)]
  void emit(const Event& e, const char* format, ...) const noexcept
      __attribute__((format(printf, 3, 4)));

  // --- crash reports [any thread; no lock held] ---
  // Process `pid` ends abnormally with `reason` after handling a message
  // of `last_type` (0: none): one line to the log hook, or to stderr when
  // there is none and crash reports are on. Counts the exit by reason
  // whatever it is (the metrics' exits by reason).
  void process_ended(uint64_t pid, const Reason* reason,
                     uint64_t last_type) noexcept;
  Describer* describer = nullptr;  // set by the runtime before any spawn
  MailTiming* timing = nullptr;    // likewise

  // A user message for `p` (as `to`) is about to be pushed: stamped if
  // `p` is timed. Inline: every send passes here.
  void stamp_sent(const Process* p, uint64_t to, const Msg* m) noexcept;
  // The same with p's `timed` flag as the caller read it (an outbox lane
  // keeps the flag its receiver had when the lane opened).
  void stamp_sent(bool timed, uint64_t to, const Msg* m) noexcept;

  // --- dead letters [any thread; no lock held] ---
  // A message nobody will receive: counted, shown to the hook (user
  // messages only; the runtime's own are nobody's mail), then freed.
  void dead_letter(Msg* m, airs_dead_letter_reason reason) noexcept;
  // A send to `to` failed with ENOPROC: the hook sees `m` as its receiver
  // would have (from `sender`), and it is counted; the caller keeps `m`,
  // and this thread's error message is kept.
  void dead_letter_kept(uint64_t to, uint64_t sender, Msg* m) noexcept;

  // --- counters of rare events [any thread] ---
  void count_spawn(uint64_t* seq) noexcept {
    *seq = spawn_seq_.fetch_add(1, std::memory_order_relaxed);
  }
  void count_spawn_failed() noexcept { bump(rare_.spawns_failed); }
  void count_exit_elsewhere() noexcept { bump(rare_.exited_elsewhere); }
  void count_sent_elsewhere() noexcept { bump(rare_.sent_elsewhere); }
  void count_delivered_elsewhere(uint64_t n) noexcept {
    rare_.delivered_elsewhere.fetch_add(n, std::memory_order_relaxed);
  }
  void count_restart() noexcept { bump(rare_.restarts); }
  void count_intensity_reached() noexcept { bump(rare_.intensity_reached); }
  // A message refused or dropped by p's full mailbox.
  void count_dropped(Process* p) noexcept;

  // Fills *out from these counters and the workers' totals.
  void stats(const WorkerCounts& w, airs_runtime_stats* out) const noexcept;
  // Exits by airs_exit_kind (0..kExitKinds-1), dead letters by
  // airs_dead_letter_reason (0..kDeadLetterReasons-1), and how many times
  // a supervisor reached its restart intensity. [any thread]
  static constexpr int kExitKinds = 6;
  static constexpr int kDeadLetterReasons = 8;
  uint64_t exits_by_kind(int kind) const noexcept {
    return rare_.exits_by_kind[kind].load(std::memory_order_relaxed);
  }
  uint64_t dead_letters_by_reason(int reason) const noexcept {
    return rare_.dead_by_reason[reason].load(std::memory_order_relaxed);
  }
  uint64_t intensity_reached() const noexcept {
    return rare_.intensity_reached.load(std::memory_order_relaxed);
  }

 private:
  struct DeadLetterHook {
    airs_dead_letter_fn fn;
    void* user_data;
  };
  struct EventHook {
    airs_event_fn fn;
    void* user_data;
  };
  struct LogHook {
    airs_log_fn fn;
    void* user_data;
    airs_severity min;
  };
  // A line to the log hook if it wants `severity`; else, for a crash
  // report, to stderr when crash reports are on.
  void log(airs_severity severity, const char* line, bool crash) const noexcept;
  void count_dead_letter(airs_dead_letter_reason reason) noexcept;
  static void bump(std::atomic<uint64_t>& c) noexcept {
    c.fetch_add(1, std::memory_order_relaxed);
  }

  const bool events_enabled_;
  const bool crash_reports_;
  std::atomic<DeadLetterHook*> dead_letter_hook_{nullptr};
  std::atomic<EventHook*> event_hook_{nullptr};
  std::atomic<LogHook*> log_hook_{nullptr};
  std::mutex hooks_mu_;  // guards the lists below (set only)
  std::vector<std::unique_ptr<DeadLetterHook>> dead_letter_hooks_;
  std::vector<std::unique_ptr<EventHook>> event_hooks_;
  std::vector<std::unique_ptr<LogHook>> log_hooks_;

  std::atomic<uint64_t> spawn_seq_{0};
  // Spawns are spawn_seq_ less the spawns that failed after taking it.
  struct alignas(64) Rare {
    std::atomic<uint64_t> spawns_failed{0};
    std::atomic<uint64_t> exited_elsewhere{0};
    std::atomic<uint64_t> dropped{0};
    std::atomic<uint64_t> sent_elsewhere{0};
    std::atomic<uint64_t> delivered_elsewhere{0};
    std::atomic<uint64_t> dead_letters{0};
    std::atomic<uint64_t> restarts{0};
    std::atomic<uint64_t> intensity_reached{0};
    std::atomic<uint64_t> exits_by_kind[kExitKinds] = {};
    std::atomic<uint64_t> dead_by_reason[kDeadLetterReasons] = {};
  } rare_;
};

}  // namespace airs
