// seam.hpp - what a service may call: the one way from a service (naming,
// broker, supervision; later system actors and transports) into the
// kernel. A service includes this header and no other of kernel/, and
// gets its Seam from the runtime that owns it.
//
// Each entry states:
//   threads  which threads may call it
//   locks    whether the caller may hold a lock of its own across it
//   blocks   whether it can wait
//
// The rule for user code. Hooks, init, terminate, health and
// user_data_free are user code, and user code may call any [any thread]
// function, so it must never run while a lock is held that such a call
// can need. Entries marked "calls user code" below may run it; a service
// calls them only with none of its locks held. Entries marked "lock ok"
// never run user code and never wait, so a service may call them under its
// own lock (they take only the kernel's leaf locks).
//
// A service whose work must not interleave across user code (a
// supervisor starting a child runs the child's init) serializes it by
// other means than a lock held across that code, and must keep waits
// from forming a cycle: supervision/supervisor.hpp's role, which a thread
// inside some service's work never waits for, is the pattern.
#pragma once

#include <cstddef>
#include <cstdint>

#include "airs/airs.h"
#include "kernel/context.hpp"
#include "kernel/mail.hpp"
#include "kernel/observer.hpp"
#include "kernel/processes.hpp"
#include "mail/message.hpp"
#include "process/process.hpp"
#include "sched/io_hooks.hpp"
#include "sched/timer.hpp"
#include "sched/wake_fd.hpp"

namespace airs {

struct Kernel;
struct Worker;

// Registers names for spawns that ask for one (SpawnArgs::name): the
// naming service, installed by the runtime.
class NameService {
 public:
  // Gives live process `p` (as `pid`) the name. threads: any. lock ok:
  // takes the service's leaf lock, calls no user code.
  virtual airs_status add_name(const char* name, uint64_t pid,
                               Process* p) noexcept = 0;

 protected:
  ~NameService() = default;
};

// Host-driven I/O (io/reactor.hpp) runs around each poll: before() reads
// what is ready (making processes runnable), after() re-arms the host's
// wake-up fd. [the polling thread]
class PollHook {
 public:
  virtual void before_poll() noexcept = 0;
  virtual void after_poll() noexcept = 0;
  // Sleeps until the host's fd is readable or `ms` pass (airs_wait on a
  // host-driven runtime, between polls that ran nothing).
  virtual void wait_ready(int ms) noexcept = 0;

 protected:
  ~PollHook() = default;
};

class Seam {
 public:
  explicit Seam(Kernel& k) noexcept : k_(k) {}
  Seam(const Seam&) = delete;
  Seam& operator=(const Seam&) = delete;

  // --- processes ----------------------------------------------------------

  // The record of a live pid, else nullptr. threads: any. lock ok.
  Process* live(uint64_t pid) const noexcept;
  // The record of `pid` while it is alive or ending (until its slot is
  // reused), else nullptr: for reading its flags. threads: any. lock ok.
  Process* record(uint64_t pid) const noexcept;

  // Starts a process (see SpawnArgs: a supervisor's child is linked to
  // it, marked supervised, and named before its init). Runs the new
  // process's init on this thread. threads: any. calls user code (init,
  // and user_data_free on failure). blocks: no (init should not).
  airs_status spawn(const SpawnArgs& a, uint64_t* out) noexcept;

  // Ends a process this thread holds (HoldScope) at once, on this thread,
  // with `reason` (consumed). false: not held here. threads: the holding
  // thread. calls user code (terminate, user_data_free, hooks).
  bool end_held(uint64_t pid, Reason* reason) noexcept;

  // Holds what this thread spawns until the returned scope (and every
  // scope outside it) ends: `HoldScope hold = seam.hold();`. threads: any.
  HoldScope hold() noexcept { return HoldScope(k_); }

  // Registers a service that must forget a process when it ends; returns
  // the member bit it marks its members with (0: none left). threads: the
  // runtime's creator, before any spawn.
  uint32_t add_exit_observer(ExitObserver o) noexcept;

  // Marks `p` a member (bit), then says whether it is still alive as
  // `pid`: when true, the exit observer will be told of its end; when
  // false, the caller must not keep it. Call under the lock the observer
  // takes (a Dekker pair with the end of the process). threads: any.
  // lock ok.
  bool join_if_alive(Process* p, uint32_t bit, uint64_t pid) noexcept;

  // Registers `name` for live process `p` (the naming service). threads:
  // any. lock ok (the naming service's lock is a leaf).
  airs_status register_name(const char* name, uint64_t pid,
                            Process* p) noexcept;

  // --- mail ---------------------------------------------------------------

  // A user message (see Mail::send). threads: any. calls user code (the
  // dead-letter hook). blocks: a BLOCK mailbox, from a plain thread.
  airs_status send(uint64_t to, Msg* m, Ctx* from) noexcept;

  // The transport's, for `to` of another runtime (Remote::send, with
  // `sender`): OK takes `m`; ENOPROC when there is no transport or it
  // knows no such runtime. threads: any. calls user code (the transport).
  airs_status send_remote(uint64_t to, Msg* m, uint64_t sender) noexcept;
  // Topics across runtimes (Remote::interest, Remote::publish): the
  // transport hears of a topic's first and last local subscriber (called
  // under the broker's lock; the transport does not call back), and gets
  // each local publish (OK takes `m`; ENOPROC: none, m untouched).
  // threads: any. calls user code (the transport).
  void remote_interest(const char* topic, size_t len, bool on) noexcept;
  airs_status remote_publish(const char* topic, size_t len, Msg* m) noexcept;
  bool remote_carries_topics() const noexcept;
  // Pools across runtimes (Remote::pool_member): the transport hears that
  // local `pid` joined or left pool `name`; a join may fail (ENOMEM).
  // threads: any, under the pools' lock. calls user code (the transport,
  // which does not call back).
  airs_status remote_pool_member(const char* name, uint64_t pid,
                                 bool on) noexcept;
  // This runtime's pid tag (the top 16 bits of its pids). threads: any.
  uint32_t own_tag() const noexcept;
  // Whether `pid` is another runtime's (not 0, another tag). threads: any.
  // lock ok.
  bool foreign(uint64_t pid) const noexcept;

  // A system signal: consumes `m`; false: `to` is not alive. threads: any.
  // calls user code (the dead-letter hook: mail staged for processes that
  // ended). blocks: no.
  bool signal(uint64_t to, Msg* m) noexcept;

  // An I/O event for `to` (see Mail::post): past any capacity; false:
  // `to` is not alive and `m` is still the caller's. threads: any. lock
  // ok: never waits, never calls user code.
  bool post(uint64_t to, Msg* m) noexcept;

  // The fan-out of a publish (Mail::fan_out_ready, Mail::fan_out).
  // threads: w's, or any with w nullptr. lock ok: made for the caller's
  // list lock; never waits, never calls user code. flush() calls user
  // code (dead letters) and is called without the lock.
  bool fan_out_ready(Worker* w, uint64_t stamp) noexcept;
  size_t fan_out(Worker* w, const FanOut& list, uint64_t type, Payload* payload,
                 uint64_t sender, Msg** refused) noexcept;
  void flush(Worker* w) noexcept;

  // --- signals --------------------------------------------------------------

  // exit/2 (see Signals::exit_signal). threads: any. calls user code (the
  // dead-letter hook, as signal()). blocks: no.
  airs_status exit_signal(uint64_t to, airs_exit_kind kind, int32_t code,
                          const char* text, uint64_t from) noexcept;
  // Asks `pid` for its health (see Signals::probe_health). As signal().
  bool probe_health(uint64_t pid, uint64_t from, uint64_t round) noexcept;
  // A monitor of `target` for the service's process `watcher` (see
  // Signals::watch). As signal(); ENOMEM. Stays on this runtime: a target
  // of another one is answered noproc.
  airs_status watch(uint64_t watcher, uint64_t target, uint64_t* ref) noexcept;
  // A monitor made by a service's process in its own turn (c), as
  // airs_monitor: it crosses to a target of another runtime. threads: c's
  // turn. As signal(); ENOMEM.
  airs_status monitor(Ctx* c, uint64_t target, uint64_t* ref) noexcept;
  // Drops monitor `ref` of c's (airs_demonitor). threads: c's turn.
  void demonitor(Ctx* c, uint64_t ref) noexcept;

  // --- timers ---------------------------------------------------------------

  // Sends `m` to `to` in `delay_ms`; returns the timer id, 0 when there
  // is no memory (m stays the caller's). threads: any. lock ok.
  uint64_t timer_add(uint64_t to, uint64_t delay_ms, Msg* m,
                     TimerService::Filter filter = {}) noexcept;
  // Cancels a timer (0: none) and frees its message if it was pending.
  // threads: any. lock ok.
  void timer_cancel(uint64_t id) noexcept;
  // The timer service's clock, in ms. threads: any. lock ok.
  uint64_t now_ms() const noexcept;

  // --- turns off the workers -------------------------------------------------

  // Sends the turns of AIRS_SPAWN_BLOCKING processes to `fn` (see
  // Scheduler::set_offload). threads: the runtime's creator, before any
  // spawn.
  void set_turn_offload(bool (*fn)(void* ctx, Process* p) noexcept,
                        void* ctx) noexcept;
  // Runs one turn of `p`, handed over by the offload, on this thread (no
  // worker). threads: any but a worker's. calls user code.
  void run_turn(Process* p) noexcept;

  // --- host-driven I/O -------------------------------------------------------

  // Host-driven mode: `hook` runs around every poll from now on, and
  // `wake` is signalled by work from outside the poll and by new earliest
  // timers. Both outlive the kernel's threads. threads: any, once.
  void set_host_io(PollHook* hook, WakeFd* wake) noexcept;
  // Threaded mode: the workers look at I/O and park in it through `io`
  // from now on; nullptr ends that (Scheduler::set_io). `io` outlives the
  // workers. threads: any. lock ok.
  void set_io(const IoHooks* io) noexcept;
  // Whether the polling thread has work queued now. threads: the poller.
  bool host_has_work() noexcept;
  // ms until the next timer: 0 = due, -1 = none. threads: any. lock ok.
  int64_t next_timer_ms() noexcept;

  // --- the observer --------------------------------------------------------

  // Whether an event would go anywhere (build one only then). threads:
  // any. lock ok.
  bool wants_events() const noexcept;
  // The same for an event of `severity`, which a log hook may want too.
  // threads: any. lock ok.
  bool wants_events(airs_severity severity) const noexcept;
  // The one event builder (Observer::emit). threads: any. calls user code.
  template <class... Args>
  void emit(const Event& e, const char* format, Args... args) const noexcept {
    observer().emit(e, format, args...);
  }
  // A message nobody receives: counted, shown to the dead-letter hook,
  // freed. threads: any. calls user code.
  void dead_letter(Msg* m, airs_dead_letter_reason reason) noexcept;
  // One child restarted (airs_runtime_stats.restarts). threads: any. lock
  // ok.
  void count_restart() noexcept;
  // A supervisor reached its restart intensity. threads: any. lock ok.
  void count_intensity_reached() noexcept;

  // --- threads and the runtime's state -------------------------------------

  // The callback context of this kernel on this thread, or nullptr.
  // threads: any. lock ok.
  Ctx* current_ctx() const noexcept;
  // This kernel's worker running this thread, or nullptr. lock ok.
  Worker* local_worker() const noexcept;
  // Whether the kernel has worker threads (else the host polls). lock ok.
  bool threaded() const noexcept;
  // Whether time moves only when the host says (AIRS_CFG_MANUAL_CLOCK):
  // then nothing that waits for a timer may be waited for by a caller
  // that might be the one to move it. lock ok.
  bool manual_clock() const noexcept;
  // AIRS_CFG_SEED (0: none): what a service draws random numbers from,
  // so that a seeded run repeats. lock ok.
  uint64_t seed() const noexcept;
  // Host-driven mode: runs due timers and up to `budget` turns on this
  // thread (see Kernel::poll). threads: not inside a callback. calls user
  // code (every callback). A waiting operation polls this way.
  airs_status poll(uint32_t budget, uint32_t* ran) noexcept;
  // Whether the runtime is shutting down. threads: any. lock ok.
  bool shutting_down() const noexcept;

 private:
  const Observer& observer() const noexcept;
  Kernel& k_;
};

}  // namespace airs
