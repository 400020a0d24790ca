// rt_helpers.hpp - what the runtime tests share: a runtime made from config
// keys, a scriptable test actor that records what happens to it, a
// dead-letter recorder and small waiting helpers. Everything goes through
// the public C API only.
#pragma once

#include <airs/airs.h>
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "../pid_layout.h"

namespace rt_test {

using Keys = std::initializer_list<std::pair<airs_config_key, int64_t>>;

// A runtime with some config keys set; freed at scope end (a second free
// is harmless: the handle is a tombstone).
class Runtime {
 public:
  explicit Runtime(Keys keys) {
    airs_config* cfg = nullptr;
    REQUIRE(airs_config_new(&cfg) == AIRS_OK);
    for (const auto& kv : keys)
      REQUIRE(airs_config_set(cfg, kv.first, kv.second) == AIRS_OK);
    REQUIRE(airs_runtime_new(cfg, &rt_) == AIRS_OK);
    airs_config_free(cfg);
  }
  ~Runtime() { airs_runtime_free(rt_); }
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  airs_runtime* get() const { return rt_; }
  operator airs_runtime*() const { return rt_; }
  void free() { airs_runtime_free(rt_); }

 private:
  airs_runtime* rt_ = nullptr;
};

// Host-driven: polls until nothing is left to run. Returns the turns run.
inline uint64_t poll_all(airs_runtime* rt, int max_rounds = 1000000) {
  uint64_t total = 0;
  for (int i = 0; i < max_rounds; i++) {
    uint32_t ran = 0;
    REQUIRE(airs_runtime_poll(rt, 1024, &ran) == AIRS_OK);
    if (ran == 0) return total;
    total += ran;
  }
  FAIL("poll_all: the runtime never became idle");
  return total;
}

// Waits (sleeping 1 ms at a time) until pred() holds; false on timeout.
template <class Pred>
bool wait_until(Pred pred, int timeout_ms = 3000) {
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

struct Reason {
  airs_exit_kind kind = AIRS_EXIT_NORMAL;
  int32_t code = 0;
  std::string text;
};

inline Reason copy_reason(const airs_reason* r) {
  return Reason{airs_reason_kind(r), airs_reason_code(r), airs_reason_text(r)};
}

struct Received {
  uint64_t type = 0;
  airs_pid sender = 0;
  uint64_t correlation = 0;
  airs_priority priority = AIRS_PRIORITY_NORMAL;
  std::string data;
  bool has_reason = false;
  Reason reason;
};

inline Received copy_msg(const airs_msg* m) {
  Received r;
  r.type = airs_msg_type(m);
  r.sender = airs_msg_sender(m);
  r.correlation = airs_msg_correlation(m);
  r.priority = airs_msg_priority(m);
  if (airs_msg_size(m))
    r.data.assign(static_cast<const char*>(airs_msg_data(m)), airs_msg_size(m));
  if (const airs_reason* why = airs_msg_reason(m)) {
    r.has_reason = true;
    r.reason = copy_reason(why);
  }
  return r;
}

// A shared, ordered record of events ("a:init", "b:term", ...).
class EventLog {
 public:
  void add(std::string e) {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(std::move(e));
  }
  std::vector<std::string> get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> events_;
};

// A test actor: its user_data and state. Records every callback; the
// on_* hooks add behaviour. It outlives the runtime (user_data_free only
// counts), so the test can read it after the process is gone.
struct Actor {
  std::string name = "actor";
  EventLog* events = nullptr;
  std::function<airs_status(Actor&, airs_ctx*)> on_init;
  std::function<airs_status(Actor&, airs_ctx*, const airs_msg*)> on_receive;
  std::function<void(Actor&, airs_ctx*, const airs_reason*)> on_terminate;

  std::atomic<int> inits{0};
  std::atomic<int> terms{0};
  std::atomic<int> frees{0};
  std::atomic<int> received{0};
  std::atomic<airs_pid> self{0};

  std::vector<Received> messages() const {
    std::lock_guard<std::mutex> lock(mu);
    return log;
  }
  Reason reason() const {
    std::lock_guard<std::mutex> lock(mu);
    return end_reason;
  }
  std::vector<uint64_t> types() const {
    std::vector<uint64_t> t;
    for (const Received& r : messages()) t.push_back(r.type);
    return t;
  }

  mutable std::mutex mu;
  std::vector<Received> log;
  Reason end_reason;
};

inline airs_status actor_init(void* user_data, airs_ctx* ctx, void** state) {
  Actor* a = static_cast<Actor*>(user_data);
  a->inits++;
  a->self = airs_self(ctx);
  if (a->events) a->events->add(a->name + ":init");
  *state = a;
  return a->on_init ? a->on_init(*a, ctx) : AIRS_OK;
}

inline airs_status actor_receive(void* state, airs_ctx* ctx,
                                 const airs_msg* msg) {
  Actor* a = static_cast<Actor*>(state);
  Received r = copy_msg(msg);
  if (a->events) a->events->add(a->name + ":recv:" + std::to_string(r.type));
  {
    std::lock_guard<std::mutex> lock(a->mu);
    a->log.push_back(r);
  }
  airs_status st = a->on_receive ? a->on_receive(*a, ctx, msg) : AIRS_OK;
  a->received++;  // after on_receive: "received" means "handled"
  return st;
}

inline void actor_terminate(void* state, airs_ctx* ctx,
                            const airs_reason* reason) {
  Actor* a = static_cast<Actor*>(state);
  {
    std::lock_guard<std::mutex> lock(a->mu);
    a->end_reason = copy_reason(reason);
  }
  if (a->events)
    a->events->add(a->name + ":term:" +
                   std::to_string(static_cast<int>(airs_reason_kind(reason))));
  if (a->on_terminate) a->on_terminate(*a, ctx, reason);
  a->terms++;
}

inline void actor_free(void* user_data) {
  Actor* a = static_cast<Actor*>(user_data);
  if (a->events) a->events->add(a->name + ":free");
  a->frees++;
}

inline const airs_behaviour kActor = {AIRS_BEHAVIOUR_VERSION,
                                      sizeof(airs_behaviour),
                                      actor_init,
                                      actor_receive,
                                      actor_terminate,
                                      nullptr,
                                      nullptr};

inline airs_status try_spawn(airs_runtime* rt, Actor& a, airs_pid* out,
                             const airs_spawn_opts* opts = nullptr) {
  return airs_spawn(rt, &kActor, &a, actor_free, opts, out);
}

inline airs_pid spawn(airs_runtime* rt, Actor& a,
                      const airs_spawn_opts* opts = nullptr) {
  airs_pid pid = 0;
  airs_status st = try_spawn(rt, a, &pid, opts);
  std::string why =
      std::string(airs_strerror(st)) + " " + airs_last_error_message();
  INFO("spawn: " << why);
  REQUIRE(st == AIRS_OK);
  REQUIRE(pid != AIRS_NO_PID);
  return pid;
}

inline airs_pid ctx_spawn(airs_ctx* ctx, Actor& a, uint32_t flags = 0) {
  airs_spawn_opts opts;
  if (airs_spawn_opts_init(airs_ctx_runtime(ctx), &opts) != AIRS_OK) return 0;
  opts.flags = flags;
  airs_pid pid = 0;
  if (airs_ctx_spawn(ctx, &kActor, &a, actor_free, &opts, &pid) != AIRS_OK)
    return 0;
  return pid;
}

inline airs_spawn_opts opts_of(airs_runtime* rt, uint32_t flags = 0,
                               uint32_t capacity = 0,
                               airs_mailbox_policy policy = AIRS_MAILBOX_FAIL,
                               uint32_t block_timeout_ms = 1000) {
  airs_spawn_opts o;
  REQUIRE(airs_spawn_opts_init(rt, &o) == AIRS_OK);
  o.flags = flags;
  o.mailbox_capacity = capacity;
  o.mailbox_policy = policy;
  o.block_timeout_ms = block_timeout_ms;
  return o;
}

inline airs_status send_str(airs_runtime* rt, airs_pid to, uint64_t type,
                            const std::string& s) {
  return airs_send(rt, to, type, s.data(), s.size());
}

inline airs_status send_pid(airs_runtime* rt, airs_pid to, uint64_t type,
                            airs_pid pid) {
  return airs_send(rt, to, type, &pid, sizeof pid);
}

inline airs_pid pid_of(const airs_msg* m) {
  airs_pid p = 0;
  if (airs_msg_size(m) == sizeof p) std::memcpy(&p, airs_msg_data(m), sizeof p);
  return p;
}

template <class T>
inline T value_of(const airs_msg* m) {
  T v{};
  if (airs_msg_size(m) == sizeof v) std::memcpy(&v, airs_msg_data(m), sizeof v);
  return v;
}

inline uint64_t stat(airs_runtime* rt, airs_pid pid, airs_process_stat key) {
  uint64_t v = ~0ull;
  REQUIRE(airs_process_stat_get(rt, pid, key, &v) == AIRS_OK);
  return v;
}

// Records what reaches the dead-letter hook.
struct DeadLetters {
  struct Letter {
    airs_pid to;
    uint64_t type;
    std::string data;
    airs_dead_letter_reason reason;
  };
  mutable std::mutex mu;
  std::vector<Letter> letters;

  static void hook(void* user_data, airs_pid to, const airs_msg* msg,
                   airs_dead_letter_reason reason) {
    DeadLetters* d = static_cast<DeadLetters*>(user_data);
    Received r = copy_msg(msg);
    std::lock_guard<std::mutex> lock(d->mu);
    d->letters.push_back(Letter{to, r.type, r.data, reason});
  }
  void install(airs_runtime* rt) {
    REQUIRE(airs_set_dead_letter_hook(rt, &DeadLetters::hook, this) == AIRS_OK);
  }
  std::vector<Letter> get() const {
    std::lock_guard<std::mutex> lock(mu);
    return letters;
  }
  size_t size() const {
    std::lock_guard<std::mutex> lock(mu);
    return letters.size();
  }
};

// Counts frees of owned payloads (free_fn of airs_msg_new_owned and
// airs_payload_wrap).
inline std::atomic<int> g_owned_frees{0};
inline void counting_free(void* p) {
  g_owned_frees++;
  ::operator delete(p);
}

}  // namespace rt_test
