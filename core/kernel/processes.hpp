// processes.hpp - the life of a process: spawn, end, and waiting for the
// end; hold scopes; and the exit observers that undo what a process
// joined (a name, a topic, a pool) when it ends.
//
//   spawn.cpp   a free slot, a new pid, init; hold scopes
//   end.cpp     terminate, exit observers, links and monitors, the slot
//               back; waiting for an end
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <vector>

#include "airs/airs.h"
#include "base/containers.hpp"
#include "kernel/context.hpp"
#include "mail/message.hpp"
#include "process/process.hpp"

namespace airs {

struct Kernel;

struct SpawnArgs {
  const airs_behaviour* behaviour;
  void* user_data;
  void (*user_data_free)(void*);
  Spec* owner;  // optional: owns user_data instead of user_data_free
  const airs_spawn_opts* opts;
  // For supervisors: link the new process to this pid (by a signal, so
  // any thread may spawn), mark it supervised (stopped by its supervisor
  // at shutdown, not by the runtime), and register `name` before its init
  // runs.
  uint64_t link_to = 0;
  const char* name = nullptr;
};

// While a HoldScope is alive on a thread, the processes that thread spawns
// in its kernel are held: started, but not run until the outermost scope
// ends. A supervisor starts its tree under one, so that if a start fails
// the children already started can be ended synchronously, in order.
class HoldScope {
 public:
  explicit HoldScope(Kernel& k) noexcept;
  ~HoldScope();  // the outermost one lets every held process run
  HoldScope(const HoldScope&) = delete;
  HoldScope& operator=(const HoldScope&) = delete;

  // The innermost scope of `k` on this thread, or nullptr.
  static HoldScope* of(const Kernel* k) noexcept;
  // Holds `p`; false: no memory (the caller lets it run instead).
  bool hold(Process* p) noexcept;
  // Takes the held process `pid` out of this thread's scopes of `k`.
  static Process* release(const Kernel* k, uint64_t pid) noexcept;

 private:
  Kernel& k_;
  HoldScope* outer_;
  Vector<Process*> held_;
};

// Told of every process that ends while it is a member (its bit set in
// the process's flags: mark_member_if_alive()), with the reason it ended
// with (borrowed for the call), on the ending process's thread, after its
// terminate, with no lock held. Must not block.
struct ExitObserver {
  void (*fn)(void* self, uint64_t pid, Process* p, Reason* reason) noexcept;
  void* self;
};

class Processes {
 public:
  explicit Processes(Kernel& k) : k_(k) {}
  Processes(const Processes&) = delete;
  Processes& operator=(const Processes&) = delete;

  // Starts a process and runs its init on this thread (`parent`: the
  // calling callback's context in this kernel, or nullptr). user_data is
  // released whatever happens. [any thread]
  airs_status spawn(const SpawnArgs& a, Ctx* parent, uint64_t* out) noexcept;

  // The record of a live pid, else nullptr. [any thread]
  Process* live(uint64_t pid) const noexcept;
  // Blocks (or polls, host-driven) until `pid` has ended, terminate and
  // everything else done, or time runs out (ETIMEDOUT). [not inside a
  // callback]
  airs_status wait(uint64_t pid, uint32_t timeout_ms) noexcept;
  // One counter of a live process (AIRS_PSTAT_*). [any thread]
  airs_status stat(uint64_t pid, int key, uint64_t* out) const noexcept;

  // Ends `p` (whose turn this is, or which this thread holds) with
  // `reason`, consuming one reference to it. `call_terminate` false: only
  // for a spawn that failed (stats count it so). [p's consumer]
  void end(Process* p, Ctx& c, Reason* reason, bool call_terminate) noexcept;
  // Ends a process held by this thread's HoldScope at once, on this
  // thread (terminate runs with `reason`, consumed). false: not held here.
  bool end_held(uint64_t pid, Reason* reason) noexcept;

  // Registers an exit observer; returns the member bit its members carry,
  // or 0 when every bit is taken. [the creating thread, before any spawn]
  uint32_t add_exit_observer(ExitObserver o) noexcept;
  // Tells the observers whose bit `p` carries that it has ended; `p` has
  // its `exiting` set (end() calls this after terminate). [p's end]
  void tell_exit_observers(uint64_t pid, Process* p, Reason* reason) noexcept;

 private:
  airs_status start(const SpawnArgs& a, Ctx* parent, Process* p, uint64_t pid,
                    bool linked) noexcept;
  airs_status run_init(const SpawnArgs& a, Process* p, Ctx& c) noexcept;
  void undo_start(const SpawnArgs& a, Ctx* parent, Process* p, Ctx& c,
                  bool linked, airs_status st) noexcept;
  void announce(Ctx* parent, uint64_t pid) noexcept;
  void push_staged(Ctx& c) noexcept;
  void count_end(Ctx& c, bool call_terminate) noexcept;
  void notify_waiters(uint64_t pid) noexcept;
  // A slot of awaited_ for `pid`, or -1 (counted in unslotted_).
  int await_begin(uint64_t pid) noexcept;
  void await_end(int slot) noexcept;

  Kernel& k_;
  static constexpr int kMaxObservers = 8;
  ExitObserver observers_[kMaxObservers] = {};
  int nobservers_ = 0;

  // airs_wait callers sleep here until the process they wait for ends.
  // Each names its pid in a slot of awaited_, so that an end wakes them
  // only if one waits for it: in the restart benchmark, main waiting
  // for the last of 100,000 restarts was woken (a futex wake, on the
  // ending worker's time) at every child's end. Waiters beyond the slots
  // are counted in unslotted_, and while there are any every end wakes
  // all. exit_waiters_: all of them, the ends' first and only look when 0.
  static constexpr int kWaitSlots = 8;
  std::atomic<uint32_t> exit_waiters_{0};
  std::atomic<uint64_t> awaited_[kWaitSlots] = {};  // 0: free
  std::atomic<uint32_t> unslotted_{0};
  std::mutex exit_mu_;
  std::condition_variable exit_cv_;
};

}  // namespace airs
