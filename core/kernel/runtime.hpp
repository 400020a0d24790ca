// runtime.hpp - one runtime: the process table, the scheduler, the timer
// service and the registry, and the operations that tie them together.
//
// The operations live in files of their own:
//   runtime.cpp   creation, shutdown, host-driven polling, dead letters
//   spawn.cpp     starting processes and ending them
//   delivery.cpp  sending: capacity policies, scheduling, draining
//   turn.cpp      one scheduled turn of a process: messages and signals
//   links.cpp     links, monitors and exit signals
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "airs/airs.h"
#include "broker/broker.hpp"
#include "base/config.hpp"
#include "mail/message.hpp"
#include "naming/pools.hpp"
#include "process/process_table.hpp"
#include "naming/registry.hpp"
#include "broker/request.hpp"
#include "sched/scheduler.hpp"
#include "sched/timer.hpp"

namespace airs {

class Runtime;

}  // namespace airs

// What a callback knows about where it runs (the public airs_ctx). Lives on
// the stack of the turn; a thread-local pointer says which one is current.
struct airs_ctx {
  airs::Runtime* rt;
  airs::Process* proc;
  uint64_t pid;
  airs::Worker* worker;                  // nullptr when not on a worker of rt
  airs::Reason* exit_request = nullptr;  // set by airs_exit
  bool in_init = false;
  bool in_terminate = false;
  uint32_t sends = 0;  // messages sent during this turn (its cost)
};

namespace airs {
using Ctx = ::airs_ctx;

// The callback context current on this thread, or nullptr.
Ctx* current_ctx() noexcept;

// Makes `c` current for its lifetime (callbacks nest: a spawn inside a
// callback runs the child's init).
class CtxScope {
 public:
  explicit CtxScope(Ctx* c) noexcept;
  ~CtxScope();
  CtxScope(const CtxScope&) = delete;
  CtxScope& operator=(const CtxScope&) = delete;

 private:
  Ctx* saved_;
};

struct SpawnArgs {
  const airs_behaviour* behaviour;
  void* user_data;
  void (*user_data_free)(void*);
  Spec* owner;  // optional: owns user_data instead of user_data_free
  const airs_spawn_opts* opts;
  // For supervisors: link the new process to this pid (by a link signal,
  // so any thread may spawn), mark it supervised, and register `name`
  // before its init runs.
  uint64_t link_to = 0;
  const char* name = nullptr;
};

class Supervisor;

// While a HoldScope is alive on a thread, the processes that thread spawns
// in its runtime are held: started, but not run until the outermost scope
// ends. A supervisor starts its tree under one, so that if a start fails
// the children already started can be ended synchronously, in order.
class HoldScope {
 public:
  explicit HoldScope(Runtime& rt) noexcept;
  bool holds(const Runtime* rt) const noexcept { return &rt_ == rt; }
  HoldScope* outer() const noexcept { return outer_; }
  ~HoldScope();  // the outermost one lets every held process run
  HoldScope(const HoldScope&) = delete;
  HoldScope& operator=(const HoldScope&) = delete;

 private:
  friend class Runtime;
  Runtime& rt_;
  HoldScope* outer_;
  std::vector<Process*> held_;
};

// An installed event hook.
struct EventHook {
  airs_event_fn fn;
  void* user_data;
};

class Runtime {
 public:
  // nullptr when threads could not be started (the message says why).
  static Runtime* create(const Config& cfg, airs_status* status);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Stops every process and every thread (airs_runtime_free).
  void shutdown();

  const Config& config() const noexcept { return cfg_; }
  bool threaded() const noexcept { return sched_->threaded(); }
  bool shutting_down() const noexcept {
    return shutting_down_.load(std::memory_order_acquire);
  }

  // --- processes (spawn.cpp) ---
  airs_status spawn(const SpawnArgs& args, Ctx* parent, uint64_t* out);
  // Blocks (or polls, host-driven) until `pid` is gone or time runs out.
  airs_status wait(uint64_t pid, uint32_t timeout_ms);
  // The record of a live pid, else nullptr.
  Process* live(uint64_t pid) const noexcept;
  airs_status stat(uint64_t pid, airs_process_stat key, uint64_t* out) const;

  // --- sending (delivery.cpp) ---
  // A user message; consumes `m` on AIRS_OK. `from` is the sending
  // callback's context (or nullptr).
  airs_status send(uint64_t to, Msg* m, Ctx* from);
  // A system signal: bypasses capacity; consumes `m` whatever happens;
  // false if `to` is not alive.
  bool post(uint64_t to, Msg* m) noexcept;

  // --- links and exit signals (links.cpp) ---
  // `from`: the sender it carries; by default the calling process (or 0).
  static constexpr uint64_t kFromCaller = ~uint64_t{0};
  airs_status exit_signal(uint64_t to, airs_exit_kind kind, int32_t code,
                          const char* text, uint64_t from = kFromCaller);
  airs_status link(Ctx* c, uint64_t pid);
  airs_status unlink(Ctx* c, uint64_t pid);
  airs_status monitor(Ctx* c, uint64_t pid, uint64_t* ref);
  airs_status demonitor(Ctx* c, uint64_t ref);

  // --- one turn of a process (turn.cpp); called by the scheduler ---
  // Returns the turn's cost: messages handled plus messages sent.
  uint64_t run(Process* p, Worker* w) noexcept;

  // --- timers, polling and dead letters (runtime.cpp) ---
  airs_status send_after(uint64_t to, uint64_t delay_ms, Msg* m, uint64_t* id);
  airs_status cancel_timer(uint64_t id);
  TimerService& timers() noexcept { return *timers_; }
  airs_status poll(uint32_t budget, uint32_t* ran);
  void set_dead_letter_hook(airs_dead_letter_fn fn, void* user_data);
  // Hands `m` to the dead-letter hook (user messages only), then frees it.
  void dead_letter(Msg* m, airs_dead_letter_reason reason) noexcept;
  // A send to `to` failed with ENOPROC: the hook sees `m` (NOPROC) and it
  // is counted; the caller keeps `m`, and its error message is kept.
  void dead_letter_noproc(uint64_t to, Msg* m, Ctx* from) noexcept;

  Registry& registry() noexcept { return registry_; }
  Pools& pools() noexcept { return pools_; }
  Requests& requests() noexcept { return requests_; }
  Broker& broker() noexcept { return broker_; }

  // --- supervision (spawn.cpp, supervisor*.cpp) ---
  // Ends a process held by this thread's HoldScope at once, on this
  // thread (terminate runs with `reason`, consumed). false: not held here.
  bool end_held(uint64_t pid, Reason* reason) noexcept;
  // Asks `pid` for its health; the answer goes to `from` (kMsgHealthReply).
  bool probe_health(uint64_t pid, uint64_t from, uint64_t round) noexcept;
  void add_supervisor(uint64_t pid, std::shared_ptr<Supervisor> s);
  void remove_supervisor(uint64_t pid);
  std::shared_ptr<Supervisor> find_supervisor(uint64_t pid);
  void count_restart() noexcept {
    restarts_.fetch_add(1, std::memory_order_relaxed);
  }

  // --- events (runtime.cpp) ---
  void set_event_hook(airs_event_fn fn, void* user_data);
  // The hook, or nullptr: callers build an event only when there is one.
  // Always nullptr when AIRS_CFG_EVENTS is 0.
  EventHook* event_hook() const noexcept {
    return cfg_.events ? event_hook_.load(std::memory_order_acquire) : nullptr;
  }

  // --- monitoring (monitoring.cpp) ---
  void stats(airs_runtime_stats* out) const noexcept;
  // Process lifecycle events (AIRS_EVENT_PROCESS_*), if there is a hook.
  void process_event(airs_event_kind kind, uint64_t source, uint64_t pid,
                     const Reason* reason) noexcept;
  // A user message went into a mailbox (w: the sending thread's worker of
  // this runtime, or nullptr). Per worker: no shared write per message.
  void count_sent(Worker* w) noexcept {
    if (w)
      count_one(w->sent);
    else
      counters_.sent_elsewhere.fetch_add(1, std::memory_order_relaxed);
  }

  // The worker of this runtime running on this thread, else nullptr.
  Worker* local_worker() const noexcept {
    Worker* w = current_worker();
    return w && w->rt == this ? w : nullptr;
  }

  // The public handle of this runtime (set by the C API, opaque here).
  void* public_handle = nullptr;

 private:
  explicit Runtime(const Config& cfg);

  // spawn.cpp. call_terminate false: only for a spawn that failed (stats
  // count it so).
  void end(Process* p, Ctx& c, Reason* reason, bool call_terminate) noexcept;
  airs_status supervised_start(const SpawnArgs& a, Process* p, Ctx& c);
  void unlink_supervisor(Process* p, uint64_t sup) noexcept;
  void let_run(Process* p, Worker* w) noexcept;
  // delivery.cpp
  airs_status deliver(Process* p, uint64_t to, Msg* m, bool bypass_capacity,
                      bool may_block, Worker* w, bool as_next) noexcept;
  airs_status wait_for_room(Process* p, uint64_t to) noexcept;
  // A user message into `p` if it has room, never waiting nor calling a
  // hook (a publish, under its topic's lock). false: the mailbox is full,
  // counted as dropped; the caller keeps `m`.
  bool offer(Process* p, uint64_t to, Msg* m, Worker* w) noexcept;
  void schedule(Process* p, Worker* w, bool as_next) noexcept;
  void stage(Worker* w, Process* p, uint64_t to, Msg* m) noexcept;
  void flush_entry(Worker* w, uint32_t i) noexcept;
  // Pushes n user messages first..last (linked, `to` set, counted as sent)
  // into p's mailbox as one chain, and schedules p.
  void push_chain(Process* p, Msg* first, Msg* last, uint32_t n, Worker* w,
                  bool as_next) noexcept;
  // A message refused or dropped by p's full mailbox.
  void count_dropped(Process* p) noexcept {
    p->dropped.fetch_add(1, std::memory_order_relaxed);
    counters_.dropped.fetch_add(1, std::memory_order_relaxed);
  }

 public:
  // Pushes everything a callback on `w` staged (delivery.cpp).
  void flush_outbox(Worker* w) noexcept;

 private:
  void drain_dead(Process* p) noexcept;
  void settle_free(Process* p) noexcept;
  void drop_dead(Process* p, Msg* m) noexcept;
  // turn.cpp
  Reason* handle(Process* p, Ctx& c, Msg* m) noexcept;
  Reason* receive(Process* p, Ctx& c, Msg* m) noexcept;
  Reason* exit_signal_arrived(Process* p, Ctx& c, Msg* m) noexcept;
  void answer_health(Process* p, Ctx& c, Msg* m) noexcept;
  // runtime.cpp
  uint32_t count_live(bool roots_only) const noexcept;
  void wait_for_exits(uint64_t timeout_ms, bool roots_only) noexcept;
  void stop_processes(bool roots_only, std::vector<uint64_t>& told) noexcept;

  Config cfg_;
  ProcessTable table_;
  std::unique_ptr<Scheduler> sched_;
  std::unique_ptr<TimerService> timers_;
  Registry registry_;
  Pools pools_{*this};
  Requests requests_{*this};
  Broker broker_{*this};
  std::atomic<bool> shutting_down_{false};
  std::atomic<bool> polling_{false};
  std::atomic<uint64_t> spawn_seq_{0};
  std::atomic<uint64_t> next_ref_{1};
  std::atomic<uint64_t> dead_letters_{0};
  std::atomic<uint64_t> restarts_{0};
  // Counters of rare events (and of sends from threads that are not
  // workers), on their own line: the hot fields above are not disturbed.
  // Spawns are spawn_seq_ less the spawns that failed after taking it.
  struct alignas(64) Counters {
    std::atomic<uint64_t> spawns_failed{0};
    std::atomic<uint64_t> exited_elsewhere{0};
    std::atomic<uint64_t> dropped{0};
    std::atomic<uint64_t> sent_elsewhere{0};
  } counters_;

  struct Hook {
    airs_dead_letter_fn fn;
    void* user_data;
  };
  std::atomic<Hook*> dead_letter_hook_{nullptr};
  std::mutex hooks_mu_;
  std::vector<std::unique_ptr<Hook>> hooks_;  // kept until the end
  std::atomic<EventHook*> event_hook_{nullptr};
  std::vector<std::unique_ptr<EventHook>> event_hooks_;  // likewise

  std::mutex sups_mu_;
  std::unordered_map<uint64_t, std::shared_ptr<Supervisor>> sups_;

  // airs_wait callers sleep here until some process ends.
  std::atomic<uint32_t> exit_waiters_{0};
  std::mutex exit_mu_;
  std::condition_variable exit_cv_;

  // BLOCK-policy senders wait here for room in some mailbox.
  std::mutex block_mu_;
  std::condition_variable block_cv_;

  friend class Scheduler;
  friend class HoldScope;
  friend class Broker;  // fans out with offer(), schedule(), the outbox
};

}  // namespace airs
