// supervisor.hpp - OTP's supervisor as a process of the runtime.
//
// The supervisor's state lives in this object, shared between the
// supervisor process (which handles its children's exits and its timers in
// its turns) and the threads that call its operations (start_child,
// which_children, ...). Everything that takes time, a stop that waits for
// a child to end, is a Job that the supervisor's turns carry forward, one
// exit or timer at a time, so no callback ever blocks.
//
// Who may touch the state. `mu_` guards every field; it is held only in
// short sections that run no user code. The work of the supervisor (its
// turn, or an operation called from some thread) is done by one party at
// a time, the holder of the role (Work, below), which lets go of `mu_`
// around every call that may run user code: a child's init (a start), a
// held child's terminate, and any signal (sending one may run the
// dead-letter hook). Events and dropped child specs (whose user_data_free
// is user code) are kept to the end of the work and handed out then,
// without `mu_`. So no user code runs under a lock, and read-only calls
// (which_children, count_children) need only `mu_`: two supervisors whose
// children's inits or event hooks ask each other never deadlock.
//
// Waiting for the role. The turn, and an operation whose thread holds no
// role, wait for it; a thread that holds a role (its user code runs
// inside some supervisor's work: a child's init, an event hook) never
// waits for another: it gets ESTATE, as does any call on the supervisor
// whose work it is inside. A waiter holds no role, and a role's holder
// waits for nothing, so waits never form a cycle.
//
//   supervisor.cpp       starting, the process callbacks, exits, strategies
//   supervisor_job.cpp   stopping children one by one, then what follows
//   supervisor_ops.cpp   the operations called from other threads
//   supervisor_work.cpp  the role, and what waits for its end
//   sup_health.cpp       health checks
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "airs/airs.h"
#include "base/containers.hpp"
#include "kernel/seam.hpp"
#include "supervision/sup_spec.hpp"

namespace airs {

// The supervisor's timers and retries come back to it as messages of
// these types (past the runtime's own kMsgHealthReply).
constexpr uint64_t kMsgSupKill = AIRS_MSG_SYSTEM_BASE + 0x101;     // corr: pid
constexpr uint64_t kMsgSupBackoff = AIRS_MSG_SYSTEM_BASE + 0x102;  // job seq
constexpr uint64_t kMsgSupRetry = AIRS_MSG_SYSTEM_BASE + 0x103;
constexpr uint64_t kMsgSupHealthTick = AIRS_MSG_SYSTEM_BASE + 0x104;
constexpr uint64_t kMsgSupHealthTimeout = AIRS_MSG_SYSTEM_BASE + 0x105;

struct Child {
  ChildRec rec;
  uint64_t pid = 0;       // while RUNNING or STOPPING
  uint64_t last_pid = 0;  // the pid before a restart
  airs_child_state state = AIRS_CHILD_STOPPED;
  uint64_t kill_timer = 0;   // pending kill after the shutdown timeout
  uint64_t stop_ref = 0;     // the watch (monitor) made when its stop began
  // A child supervisor that ended without stopping its children (killed):
  // those still running then, which its restart waits for.
  std::vector<uint64_t> orphans;
  bool job_stop = false;     // being stopped by the current job
  bool in_job = false;       // in the current job's stop list
  bool health_stop = false;  // being stopped for failing health checks
  bool drop = false;         // to be removed when the job ends
  uint32_t health_fails = 0;
  uint64_t health_round = 0;  // round of an unanswered check, 0 = none
  std::list<Child>::iterator self;
};

// A stop of some children, one after another in the given order (or all
// at once for a pool), and what to do once they have all ended.
struct Job {
  enum Kind : uint8_t { kNone, kRestart, kShutdown, kTerminate };
  Kind kind = kNone;
  Vector<Child*> stops;
  size_t next = 0;     // the next entry of `stops` to stop
  size_t waiting = 0;  // stops begun, exits not yet seen
  bool parallel = false;
  Vector<Child*> starts;         // kRestart: to start, in start order
  Vector<uint64_t> orphan_refs;  // kRestart: watches of orphans
  Reason* reason = nullptr;    // kShutdown: what the supervisor exits with
  uint64_t seq = 0;            // tells this job's timers from older ones
  uint64_t backoff_timer = 0;
  bool backoff_done = false;
};

class Supervision;

class Supervisor {
 public:
  // Spawns a supervisor from `spec` (frozen by this), registered as `name`
  // (may be nullptr), and starts its children. `parent` (or 0) is the
  // process it answers to, as OTP's parent: an exit signal from it, by
  // any link, stops the supervisor with its reason. A supervisor above
  // it is linked to it here (`link_parent`); a process that started a
  // tree from its callback is its parent, linked only if it links.
  // On failure nothing of the tree is left.
  static airs_status start(Supervision& svc, airs_sup_spec* spec,
                           uint64_t parent, bool link_parent, const char* name,
                           uint64_t* out);

  // --- operations (supervisor_ops.cpp) ---
  airs_status start_child(ChildRec rec, uint64_t* out);
  airs_status start_dynamic_child(void* arg, void (*arg_free)(void*),
                                  uint64_t* out);
  airs_status terminate_child(const char* id, uint64_t pid);
  airs_status restart_child(const char* id, uint64_t* out);
  airs_status delete_child(const char* id);
  airs_status which_children(airs_child_info* out, size_t cap, size_t* count);
  airs_status count_children(airs_child_counts* out);
  const airs_sup_flags& flags() const noexcept { return flags_; }
  // Whether `pid` is a running child of this supervisor, its id copied to
  // `id` (cap bytes, cut to fit). Under mu_ only: never waits for the
  // role, so a crash report may ask from inside any work. [any thread]
  bool child_id_of(uint64_t pid, char* id, size_t cap) noexcept;
  uint64_t self_pid() const noexcept { return self_; }
  uint64_t parent() const noexcept { return parent_; }

  Supervisor(Supervision& svc, airs_sup_spec* spec, uint64_t self,
             uint64_t parent);
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

 private:
  friend struct SupProcess;  // the process callbacks (supervisor.cpp)
  class Work;                // the role (supervisor_work.cpp)

  // supervisor.cpp
  airs_status start_children();  // inside init
  void stop_held_children() noexcept;
  airs_status start_one(Child& ch, bool restart);
  void handle(Ctx& c, const Msg* m);
  void exit_arrived(uint64_t from, Reason* reason, bool from_link);
  void down_arrived(uint64_t from, uint64_t ref, Reason* reason);
  void child_exited(Child& ch, Reason* reason);
  void apply_policy(Child& ch, Reason* reason);
  void retry();
  size_t add_restart();
  void begin_restart(Child& ch);
  void restart_group(Child& anchor);
  void cancel_group_retry(Child& anchor);
  void begin_shutdown(Reason* reason);
  void drop(Child& ch);
  void killer_fired(uint64_t pid);
  void process_deferred();
  bool is_pool() const noexcept {
    return flags_.strategy == AIRS_SIMPLE_ONE_FOR_ONE;
  }
  // one_for_all or rest_for_one: a restart takes a group of children.
  bool is_group() const noexcept {
    return flags_.strategy == AIRS_ONE_FOR_ALL ||
           flags_.strategy == AIRS_REST_FOR_ONE;
  }
  // The first child of `anchor`'s group (all of them under one_for_all).
  std::list<Child>::iterator group_begin(Child& anchor) noexcept {
    return flags_.strategy == AIRS_ONE_FOR_ALL ? children_.begin()
                                               : anchor.self;
  }
  Child* by_pid(uint64_t pid) noexcept;
  Child* by_id(const char* id) noexcept;
  Child* restarting(uint64_t last_pid) noexcept;
  void emit(airs_event_kind kind, const Child* ch, uint64_t pid, uint64_t other,
            int64_t value, const Reason* r,
            airs_severity sev = AIRS_SEVERITY_INFO);
  uint64_t self_timer(uint64_t ms, uint64_t type, uint64_t corr) noexcept;

  // supervisor_job.cpp
  void begin_job(Job::Kind kind, Vector<Child*> stops);
  void advance();
  void begin_stop(Child& ch);
  void send_stop(Child& ch, airs_exit_kind kind, int32_t code,
                 const char* text);
  void after_stops();
  bool end_orphans();
  void start_group();
  void finish_job();

  // supervisor_ops.cpp
  // An operation's entry: the role (waiting for a job in progress when
  // `wait_idle` and the caller may wait), or why not.
  airs_status enter(Work& work, bool wait_idle);
  airs_status stopped_child(const char* id, Child** out);
  airs_status readable() const noexcept;
  template <class Read>
  airs_status read_settled(Read&& read);
  void list_children(airs_child_info* out, size_t cap,
                     size_t* count) const noexcept;

  // supervisor_work.cpp
  // Runs f() without `mu_` (the role stays held). [the role's holder]
  template <class F>
  void outside(F&& f);
  // Keeps `ch`'s record to be freed once the role is let go.
  void bury(ChildRec&& rec) noexcept;
  // Emits kept events, in order. [the role's holder, without mu_]
  struct KeptEvent;
  void emit_kept(std::deque<KeptEvent>& events) noexcept;

  // sup_health.cpp
  void health_tick();
  void health_answer(uint64_t pid, uint64_t round, int32_t health);
  void health_timeout(uint64_t round);
  void health_failed(Child& ch);

  Supervision& svc_;
  Seam& seam_;
  airs_sup_spec* spec_;  // one reference
  airs_sup_flags flags_;
  const uint64_t self_;
  const uint64_t parent_;  // the supervisor above, the starter, or 0

  // --- see the top of this file ---
  std::mutex mu_;
  std::condition_variable changed_;  // the role let go, a job ended
  bool busy_ = false;                // the role is held
  int waiters_ = 0;                  // threads waiting on changed_
  std::thread::id busy_owner_;
  std::unique_lock<std::mutex>* held_ = nullptr;  // the holder's lock
  bool ended_ = false;
  // An event kept until the end of the work (the hook is user code).
  struct KeptEvent {
    Event e;
    std::string id;
    Reason* reason;  // one reference, or nullptr
  };
  std::deque<KeptEvent> kept_events_;
  std::vector<ChildRec> graveyard_;  // freed at the end of the work

  std::list<Child> children_;  // in start order
  HashMap<uint64_t, Child*> by_pid_;
  std::unordered_map<std::string, Child*> by_id_;
  std::deque<uint64_t> restarts_;  // times (ms) of recent restarts
  Job job_;
  uint64_t job_seq_ = 0;
  Reason* exit_with_ = nullptr;  // set when the supervisor is to exit
  bool retry_pending_ = false;
  // The child whose start failed in a group restart: the retry restarts
  // its group again, as OTP's try_again_restart does (group strategies).
  Child* retry_anchor_ = nullptr;

  // What arrived while a job ran, handled in order once it is done.
  struct Deferred {
    enum What : uint8_t { kExit, kRetry, kTerminate } what;
    uint64_t from;  // kExit: the sender; kTerminate: the child's pid
    Reason* reason;
    bool from_link;
  };
  std::deque<Deferred> deferred_;

  uint64_t health_round_ = 0;
  uint64_t health_timer_ = 0;
  uint64_t health_timeout_timer_ = 0;
};

// The role: one party does the supervisor's work at a time, holding `mu_`
// except where it runs user code (outside()). Let go in its destructor,
// which then frees the buried records and emits the kept events.
class Supervisor::Work {
 public:
  enum Mode : uint8_t {
    kTurn,       // the supervisor's own turn (and init, terminate): waits
    kOperation,  // an operation: ESTATE when it must not wait (above)
  };
  // ok() says whether the role was taken; if not, the status is set.
  Work(Supervisor& s, Mode mode) noexcept;
  ~Work();
  Work(const Work&) = delete;
  Work& operator=(const Work&) = delete;

  bool ok() const noexcept { return taken_; }
  airs_status status() const noexcept { return status_; }
  // Lets the role go while `done()` is false, waiting for the supervisor
  // to move (polling a host-driven runtime), then takes it back; stops
  // early if the supervisor ends. Only for a caller that may wait.
  template <class Done>
  void wait_until(Done&& done);
  // Whether this thread may wait (outside callbacks, and holding no role
  // but this one).
  bool may_wait() const noexcept;
  // Whether this thread, holding no role, may wait for one.
  static bool thread_may_wait() noexcept;

 private:
  bool take(Mode mode) noexcept;
  void let_go() noexcept;

  Supervisor& s_;
  std::unique_lock<std::mutex> lk_;
  bool taken_ = false;
  airs_status status_ = AIRS_OK;
};

template <class Done>
void Supervisor::Work::wait_until(Done&& done) {
  while (!s_.ended_ && !done()) {
    let_go();
    if (s_.seam_.threaded()) {
      // A wake-up can be missed only by an exit that ends the supervisor
      // without its lock; the short wait covers it.
      s_.waiters_++;
      s_.changed_.wait_for(lk_, std::chrono::milliseconds(5));
      s_.waiters_--;
    } else {
      // Host-driven: the supervisor only moves if someone polls.
      lk_.unlock();
      uint32_t ran = 0;
      if (s_.seam_.poll(256, &ran) != AIRS_OK || ran == 0)
        std::this_thread::sleep_for(std::chrono::microseconds(100));
      lk_.lock();
    }
    take(kTurn);  // this thread holds no role: it may wait
  }
}

template <class F>
void Supervisor::outside(F&& f) {
  std::unique_lock<std::mutex>* lk = held_;
  lk->unlock();
  f();
  lk->lock();
}

}  // namespace airs
