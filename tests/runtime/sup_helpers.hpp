// sup_helpers.hpp - what the supervision tests share: a recorder for the
// event hook, a scriptable child behaviour that logs its starts and ends,
// and small builders for specs and supervisors. Public C API only; builds
// on rt_helpers.hpp (Runtime, poll_all, wait_until, Actor).
//
// Lifetimes: declare the EventRecorder and the Child objects before the
// Runtime, so that the runtime (whose shutdown still emits events and
// ends children) is freed first.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <initializer_list>

#include "rt_helpers.hpp"

namespace sup_test {

using rt_test::Keys;

// Message types the child understands (and the watcher below).
constexpr uint64_t kExitWith = 0x5e01;    // payload: an airs_exit_kind
constexpr uint64_t kTrapExits = 0x5e02;   // payload: a bool
constexpr uint64_t kWatch = 0x5e03;       // payload: the pid to monitor
constexpr uint64_t kUnlinkFrom = 0x5e04;  // payload: the pid to unlink from

inline const char* kind_name(airs_exit_kind k) {
  switch (k) {
    case AIRS_EXIT_NORMAL: return "normal";
    case AIRS_EXIT_SHUTDOWN: return "shutdown";
    case AIRS_EXIT_KILLED: return "killed";
    case AIRS_EXIT_ERROR: return "error";
    case AIRS_EXIT_NOPROC: return "noproc";
    case AIRS_EXIT_NOCONNECTION: return "noconnection";
  }
  return "?";
}

// ---- the event recorder ----------------------------------------------------

struct Event {
  int32_t kind = 0;
  airs_pid source = 0, pid = 0, other = 0;
  int64_t value = 0;
  std::string id;
  bool has_reason = false;
  airs_exit_kind reason = AIRS_EXIT_NORMAL;
};

// The compact name of an event in a log. Events about one child carry its
// id ("exited:b"); the others are about the supervisor ("intensity").
inline std::string render(const Event& e) {
  const char* name = "?";
  bool with_id = true;
  switch (e.kind) {
    case AIRS_EVENT_CHILD_STARTED: name = "started"; break;
    case AIRS_EVENT_CHILD_START_FAILED: name = "start_failed"; break;
    case AIRS_EVENT_CHILD_EXITED: name = "exited"; break;
    case AIRS_EVENT_CHILD_RESTARTED: name = "restarted"; break;
    case AIRS_EVENT_STRATEGY_APPLIED: name = "strategy"; break;
    case AIRS_EVENT_CHILD_STOPPING: name = "stopping"; break;
    case AIRS_EVENT_CHILD_KILLED: name = "killed"; break;
    case AIRS_EVENT_HEALTH_DEGRADED: name = "degraded"; break;
    case AIRS_EVENT_HEALTH_FAILED: name = "health_failed"; break;
    case AIRS_EVENT_INTENSITY_REACHED:
      name = "intensity", with_id = false;
      break;
    case AIRS_EVENT_SUPERVISOR_SHUTDOWN:
      name = "sup_shutdown", with_id = false;
      break;
    case AIRS_EVENT_BACKOFF: name = "backoff", with_id = false; break;
  }
  return with_id ? std::string(name) + ":" + e.id : std::string(name);
}

// Installs itself as the event hook and keeps a copy of every event.
class EventRecorder {
 public:
  void install(airs_runtime* rt) {
    rt_ = rt;
    REQUIRE(airs_set_event_hook(rt, &EventRecorder::hook, this) == AIRS_OK);
  }
  // Harmless after the runtime is freed (its handle is a tombstone).
  ~EventRecorder() {
    if (rt_) airs_set_event_hook(rt_, nullptr, nullptr);
  }

  static void hook(void* user_data, const airs_event* e) {
    // Supervision events only (process and broker events have own tests).
    if (e->kind > AIRS_EVENT_HEALTH_FAILED) return;
    auto* self = static_cast<EventRecorder*>(user_data);
    Event c;
    c.kind = e->kind;
    c.source = e->source;
    c.pid = e->pid;
    c.other = e->other;
    c.value = e->value;
    c.id = e->id ? e->id : "";
    c.has_reason = e->reason != nullptr;
    c.reason = airs_reason_kind(e->reason);
    {
      std::lock_guard<std::mutex> lock(self->mu_);
      self->events_.push_back(std::move(c));
    }
    self->cv_.notify_all();
  }

  std::vector<Event> all() const {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }
  void clear() {
    std::lock_guard<std::mutex> lock(mu_);
    events_.clear();
  }
  // Events of one kind (and of one supervisor unless source is 0).
  std::vector<Event> of_kind(int32_t kind, airs_pid source = 0) const {
    std::vector<Event> out;
    for (const Event& e : all())
      if (e.kind == kind && (!source || e.source == source)) out.push_back(e);
    return out;
  }
  size_t count(int32_t kind, airs_pid source = 0) const {
    return of_kind(kind, source).size();
  }
  // The compact log of one supervisor (every one if source is 0),
  // optionally of some kinds only.
  std::vector<std::string> log(
      airs_pid source = 0, std::initializer_list<int32_t> kinds = {}) const {
    std::vector<std::string> out;
    for (const Event& e : all()) {
      if (source && e.source != source) continue;
      if (kinds.size() &&
          std::find(kinds.begin(), kinds.end(), e.kind) == kinds.end())
        continue;
      out.push_back(render(e));
    }
    return out;
  }

  // Waits until pred(events) holds (threaded runtimes); false on timeout.
  template <class Pred>
  bool wait_for(Pred pred, int timeout_ms = 3000) const {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                        [&] { return pred(events_); });
  }
  bool wait_count(int32_t kind, size_t n, airs_pid source = 0,
                  int timeout_ms = 3000) const {
    return wait_for(
        [&](const std::vector<Event>& ev) {
          size_t k = 0;
          for (const Event& e : ev)
            if (e.kind == kind && (!source || e.source == source)) k++;
          return k >= n;
        },
        timeout_ms);
  }
  // Waits for an event of this kind about the child `id`.
  bool wait_event(int32_t kind, const std::string& id, airs_pid source = 0,
                  int timeout_ms = 3000) const {
    return wait_for(
        [&](const std::vector<Event>& ev) {
          for (const Event& e : ev)
            if (e.kind == kind && e.id == id && (!source || e.source == source))
              return true;
          return false;
        },
        timeout_ms);
  }

 private:
  airs_runtime* rt_ = nullptr;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<Event> events_;
};

// ---- the scriptable child ---------------------------------------------------

// Starts and ends of children, in order: "init:a", "term:a:shutdown",
// "init_failed:c".
using ChildLog = rt_test::EventLog;

// The user_data of a child spec; owned by the test (the spec gets no
// user_data_free), shared by every start of that child.
struct Child {
  Child(std::string n, ChildLog* l) : name(std::move(n)), log(l) {}
  std::string name;
  ChildLog* log = nullptr;
  airs_status init_status = AIRS_OK;  // anything else fails init
  std::atomic<int> fail_inits{0};     // this many next inits fail (ENOMEM)
  // Traps exits and ignores a `shutdown` exit signal, so its supervisor
  // must kill it after its shutdown timeout. Other exit signals (a killed
  // supervisor) still end it.
  bool ignore_shutdown = false;
  // Unlinks from this pid in its terminate (a child that hides its end
  // from its supervisor).
  std::atomic<airs_pid> unlink_on_terminate{0};

  std::atomic<int> inits{0};
  std::atomic<int> terms{0};
  std::atomic<airs_pid> pid{0};  // of the latest start
};

inline airs_status child_init(void* user_data, airs_ctx* ctx, void** state) {
  Child* c = static_cast<Child*>(user_data);
  if (c->init_status != AIRS_OK || c->fail_inits > 0) {
    if (c->log) c->log->add("init_failed:" + c->name);
    if (c->init_status != AIRS_OK) return c->init_status;
    c->fail_inits--;
    return AIRS_ENOMEM;
  }
  if (c->ignore_shutdown) {
    airs_status st = airs_trap_exit(ctx, true);
    if (st != AIRS_OK) return st;
  }
  c->pid = airs_self(ctx);
  c->inits++;
  if (c->log) c->log->add("init:" + c->name);
  *state = c;
  return AIRS_OK;
}

inline airs_status child_receive(void* state, airs_ctx* ctx,
                                 const airs_msg* m) {
  Child* c = static_cast<Child*>(state);
  switch (airs_msg_type(m)) {
    case kExitWith: {
      auto k = rt_test::value_of<airs_exit_kind>(m);
      bool err = k == AIRS_EXIT_ERROR;
      return airs_exit(ctx, k, err ? 1 : 0, err ? "crash" : nullptr);
    }
    case kTrapExits: return airs_trap_exit(ctx, rt_test::value_of<bool>(m));
    case kUnlinkFrom: return airs_unlink(ctx, rt_test::pid_of(m));
    case AIRS_MSG_EXIT: {
      airs_exit_kind k = airs_reason_kind(airs_msg_reason(m));
      if (c->ignore_shutdown && k == AIRS_EXIT_SHUTDOWN) return AIRS_OK;
      if (k == AIRS_EXIT_NORMAL) return AIRS_OK;
      return airs_exit(ctx, k, 0, nullptr);
    }
  }
  return AIRS_OK;
}

inline void child_terminate(void* state, airs_ctx* ctx, const airs_reason* r) {
  Child* c = static_cast<Child*>(state);
  if (airs_pid p = c->unlink_on_terminate) airs_unlink(ctx, p);
  if (c->log)
    c->log->add("term:" + c->name + ":" + kind_name(airs_reason_kind(r)));
  c->terms++;
}

inline const airs_behaviour kChild = {AIRS_BEHAVIOUR_VERSION,
                                      sizeof(airs_behaviour),
                                      child_init,
                                      child_receive,
                                      child_terminate,
                                      nullptr,
                                      nullptr};

// Makes child `pid` end with reason `k`: by itself (airs_exit) for normal,
// shutdown and error, by airs_kill for killed.
inline void make_exit(airs_runtime* rt, airs_pid pid, airs_exit_kind k) {
  if (k == AIRS_EXIT_KILLED)
    REQUIRE(airs_kill(rt, pid) == AIRS_OK);
  else
    REQUIRE(airs_send(rt, pid, kExitWith, &k, sizeof k) == AIRS_OK);
}

// ---- specs and supervisors ------------------------------------------------

inline airs_sup_flags sup_flags(airs_strategy strategy, uint32_t intensity = 10,
                                uint32_t period_ms = 5000) {
  airs_sup_flags f;
  REQUIRE(airs_sup_flags_init(&f) == AIRS_OK);
  f.strategy = strategy;
  f.intensity = intensity;
  f.period_ms = period_ms;
  return f;
}

// A worker child running `behaviour` with `user_data` (the test's: no
// user_data_free). `id` is copied when the spec is added.
inline airs_child_spec worker_of(const char* id,
                                 const airs_behaviour* behaviour,
                                 void* user_data, airs_restart restart,
                                 airs_shutdown shutdown, uint32_t shutdown_ms) {
  airs_child_spec s;
  REQUIRE(airs_child_spec_init(&s) == AIRS_OK);
  s.id = id;
  s.behaviour = behaviour;
  s.user_data = user_data;
  s.restart = restart;
  s.shutdown = shutdown;
  s.shutdown_ms = shutdown_ms;
  return s;
}

// A worker child running kChild with `c` as its user_data.
inline airs_child_spec worker(const char* id, Child& c,
                              airs_restart restart = AIRS_RESTART_PERMANENT,
                              airs_shutdown shutdown = AIRS_SHUTDOWN_TIMEOUT,
                              uint32_t shutdown_ms = 1000) {
  return worker_of(id, &kChild, &c, restart, shutdown, shutdown_ms);
}

// A child supervisor made from `spec` (shutdown infinity, as OTP advises).
inline airs_child_spec sup_child(
    const char* id, const airs_sup_spec* spec,
    airs_restart restart = AIRS_RESTART_PERMANENT) {
  airs_child_spec s;
  REQUIRE(airs_child_spec_init(&s) == AIRS_OK);
  s.id = id;
  s.supervisor = spec;
  s.restart = restart;
  s.shutdown = AIRS_SHUTDOWN_INFINITY;
  s.type = AIRS_CHILD_SUPERVISOR;
  return s;
}

// Owns one reference to a supervisor spec.
class SupSpec {
 public:
  explicit SupSpec(const airs_sup_flags& flags) {
    REQUIRE(airs_sup_spec_new(&flags, &spec_) == AIRS_OK);
  }
  ~SupSpec() { airs_sup_spec_free(spec_); }
  SupSpec(const SupSpec&) = delete;
  SupSpec& operator=(const SupSpec&) = delete;

  SupSpec& add(const airs_child_spec& child) {
    airs_status st = airs_sup_spec_add_child(spec_, &child);
    INFO("add_child " << child.id << ": " << airs_last_error_message());
    REQUIRE(st == AIRS_OK);
    return *this;
  }
  const airs_sup_spec* get() const { return spec_; }

 private:
  airs_sup_spec* spec_ = nullptr;
};

inline airs_pid start_sup(airs_runtime* rt, const SupSpec& spec) {
  airs_pid pid = 0;
  airs_status st = airs_supervisor_start(rt, spec.get(), &pid);
  INFO("airs_supervisor_start: " << airs_strerror(st) << " "
                                 << airs_last_error_message());
  REQUIRE(st == AIRS_OK);
  REQUIRE(pid != AIRS_NO_PID);
  return pid;
}

// A child started from `spec` in a running supervisor: its pid.
inline airs_pid start_child(airs_runtime* rt, airs_pid sup,
                            const airs_child_spec& spec) {
  airs_pid pid = 0;
  airs_status st = airs_supervisor_start_child(rt, sup, &spec, &pid);
  INFO("start_child " << spec.id << ": " << airs_strerror(st) << " "
                      << airs_last_error_message());
  REQUIRE(st == AIRS_OK);
  return pid;
}

// A child of a simple_one_for_one supervisor started with `arg`: its pid.
inline airs_pid start_dynamic(airs_runtime* rt, airs_pid sup, void* arg,
                              void (*arg_free)(void*) = nullptr) {
  airs_pid pid = 0;
  airs_status st =
      airs_supervisor_start_dynamic_child(rt, sup, arg, arg_free, &pid);
  INFO("start_dynamic_child: " << airs_strerror(st) << " "
                               << airs_last_error_message());
  REQUIRE(st == AIRS_OK);
  return pid;
}

inline std::vector<airs_child_info> which_children(airs_runtime* rt,
                                                   airs_pid sup) {
  size_t n = 0;
  REQUIRE(airs_supervisor_which_children(rt, sup, nullptr, 0, &n) == AIRS_OK);
  std::vector<airs_child_info> rows(n + 4);  // room if one appears meanwhile
  REQUIRE(airs_supervisor_which_children(rt, sup, rows.data(), rows.size(),
                                         &n) == AIRS_OK);
  rows.resize(std::min(n, rows.size()));
  return rows;
}

// The row of child `id`, or nullptr.
inline const airs_child_info* find_child(
    const std::vector<airs_child_info>& rows, const std::string& id) {
  for (const airs_child_info& r : rows)
    if (id == r.id) return &r;
  return nullptr;
}

// The pid of a running child; fails the test if there is none.
inline airs_pid child_pid(airs_runtime* rt, airs_pid sup,
                          const std::string& id) {
  auto rows = which_children(rt, sup);
  const airs_child_info* r = find_child(rows, id);
  INFO("child " << id);
  REQUIRE(r != nullptr);
  REQUIRE(r->state == AIRS_CHILD_RUNNING);
  return r->pid;
}

// The ids of a supervisor's children, in start order.
inline std::vector<std::string> child_ids(airs_runtime* rt, airs_pid sup) {
  std::vector<std::string> ids;
  for (const airs_child_info& r : which_children(rt, sup)) ids.push_back(r.id);
  return ids;
}

// A process that monitors the pids sent to it with kWatch; its DOWN
// messages are in messages().
struct Watcher : rt_test::Actor {
  Watcher() {
    on_receive = [](Actor&, airs_ctx* ctx, const airs_msg* m) {
      uint64_t ref = 0;
      if (airs_msg_type(m) == kWatch)
        return airs_monitor(ctx, rt_test::pid_of(m), &ref);
      return AIRS_OK;
    };
  }
  // The reasons of the DOWN messages about `pid`.
  std::vector<airs_exit_kind> downs(airs_pid pid) const {
    std::vector<airs_exit_kind> out;
    for (const rt_test::Received& r : messages())
      if (r.type == AIRS_MSG_DOWN && r.sender == pid)
        out.push_back(r.reason.kind);
    return out;
  }
};

}  // namespace sup_test
