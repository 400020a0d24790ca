// observer.hpp - what the runtime tells the world: the dead-letter and
// event hooks, the counters of airs_runtime_stats, and the one builder of
// events.
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

class Observer {
 public:
  explicit Observer(bool events_enabled) : events_enabled_(events_enabled) {}
  Observer(const Observer&) = delete;
  Observer& operator=(const Observer&) = delete;

  // --- hooks [any thread] ---
  // A replaced hook stays allocated until the runtime ends: another
  // thread may still be calling it. false: no memory (nothing changed).
  bool set_dead_letter_hook(airs_dead_letter_fn fn, void* user_data) noexcept;
  bool set_event_hook(airs_event_fn fn, void* user_data) noexcept;

  // --- events ---
  // Whether an event would go anywhere: build one only then. Always false
  // with AIRS_CFG_EVENTS 0. [any thread]
  bool wants_events() const noexcept {
    return events_enabled_ && event_hook_.load(std::memory_order_acquire);
  }
  // The one event builder: formats the text, hands the event to the hook.
  // [any thread; no lock held (the hook is user code)]
  void emit(const Event& e, const char* format, ...) const noexcept
      __attribute__((format(printf, 3, 4)));

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
  // A message refused or dropped by p's full mailbox.
  void count_dropped(Process* p) noexcept;

  // Fills *out from these counters and the workers' totals.
  void stats(const WorkerCounts& w, airs_runtime_stats* out) const noexcept;

 private:
  struct DeadLetterHook {
    airs_dead_letter_fn fn;
    void* user_data;
  };
  struct EventHook {
    airs_event_fn fn;
    void* user_data;
  };
  static void bump(std::atomic<uint64_t>& c) noexcept {
    c.fetch_add(1, std::memory_order_relaxed);
  }

  const bool events_enabled_;
  std::atomic<DeadLetterHook*> dead_letter_hook_{nullptr};
  std::atomic<EventHook*> event_hook_{nullptr};
  std::mutex hooks_mu_;  // guards the lists below (set only)
  std::vector<std::unique_ptr<DeadLetterHook>> dead_letter_hooks_;
  std::vector<std::unique_ptr<EventHook>> event_hooks_;

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
  } rare_;
};

}  // namespace airs
