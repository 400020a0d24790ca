// test_out_of_memory.cpp - running out of memory, at every allocation in
// turn. Each scenario below drives a host-driven runtime through the C API
// (made and freed inside the scenario); it is run once per allocation it
// makes, with that allocation failing (core/base/alloc.hpp's countdown,
// and the operator new below for the std containers of the core). Every
// run must end with every call answering AIRS_OK or AIRS_ENOMEM (or the
// one status its step allows), every user_data and payload freed exactly
// once, and nothing else: no crash, no hang, and (under AddressSanitizer)
// no leak and no use after free.
//
// While a scenario runs, nothing but the runtime may allocate: the
// scenarios and their callbacks keep what they see in fixed arrays, and
// the checks run after the countdown is off.
//
// Between them the scenarios call every exported function of airs.h,
// supervisor.h, broker.h, io.h, net.h, osl.h, fs.h, proc.h and transport.h
// that can allocate (node.h is libairs_node's, tested against a NATS
// server in tests/node). OOM_TRACE=1 prints each run and each failed call;
// under AddressSanitizer, OOM_LEAKS=1 checks for leaks after each run.
#include <doctest/doctest.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "airs/airs.h"
#include "airs/fs.h"
#include "airs/io.h"
#include "airs/net.h"
#include "airs/osl.h"
#include "airs/transport.h"
#include "base/alloc.hpp"

// ---- allocations of the std containers fail with the same countdown --------

namespace {

void* counted_new(std::size_t n) {
  if (airs::alloc_fault()) throw std::bad_alloc();
  void* p = std::malloc(n ? n : 1);
  if (!p) throw std::bad_alloc();
  return p;
}

void* counted_new_aligned(std::size_t n, std::align_val_t a) {
  if (airs::alloc_fault()) throw std::bad_alloc();
  std::size_t align = static_cast<std::size_t>(a);
  void* p = std::aligned_alloc(align, (n + align - 1) / align * align);
  if (!p) throw std::bad_alloc();
  return p;
}

}  // namespace

void* operator new(std::size_t n) {
  return counted_new(n);
}
void* operator new[](std::size_t n) {
  return counted_new(n);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted_new(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted_new(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new(std::size_t n, std::align_val_t a) {
  return counted_new_aligned(n, a);
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return counted_new_aligned(n, a);
}
void* operator new(std::size_t n, std::align_val_t a,
                   const std::nothrow_t&) noexcept {
  try {
    return counted_new_aligned(n, a);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, std::align_val_t a,
                     const std::nothrow_t&) noexcept {
  try {
    return counted_new_aligned(n, a);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  std::free(p);
}
// The nothrow deletes run when a constructor throws inside a new
// (std::nothrow): they must match this malloc too.
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t,
                     const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::align_val_t,
                       const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}

// ---- what a run saw
// ------------------------------------------------------------

namespace {

// Statuses a run saw that it should not have, kept without allocating.
struct Seen {
  static constexpr int kMax = 16;
  int bad = 0;
  int lines[kMax];
  airs_status statuses[kMax];
  char messages[kMax][160];

  // Records `st` at `line` unless it is OK, ENOMEM or `allowed`; returns
  // whether the call succeeded.
  bool check(airs_status st, int line, airs_status allowed = AIRS_OK) {
    if (st == AIRS_OK) return true;
    if (std::getenv("OOM_TRACE"))
      std::fprintf(stderr, "  line %d: %s\n", line, airs_strerror(st));
    if (st == AIRS_ENOMEM || st == allowed) return false;
    if (bad < kMax) {
      lines[bad] = line;
      statuses[bad] = st;
      std::snprintf(messages[bad], sizeof messages[bad], "%s",
                    airs_last_error_message());
    }
    bad++;
    return false;
  }
};

Seen* g_seen = nullptr;  // the current run's

#define SEEN(st) g_seen->check((st), __LINE__)
#define SEEN_OR(st, allowed) g_seen->check((st), __LINE__, (allowed))

// What was handed to the runtime with a free function, and freed by it:
// equal at the end of every run.
struct Frees {
  int user_data_made = 0, user_data_freed = 0;
  int owned_made = 0, owned_freed = 0;
  int payloads_made = 0, payloads_freed = 0;
} g;

void free_user_data(void*) {
  g.user_data_freed++;
}
void free_owned(void*) {
  g.owned_freed++;
}
void free_payload(void*) {
  g.payloads_freed++;
}
char g_bytes[64] = "the bytes of an owned or shared payload";

// Runs `scenario` once with each of its allocations failing in turn, then
// once with none failing; checks each run. Returns the number of runs.
template <class Scenario>
int every_allocation(Scenario scenario) {
  int runs = 0;
  for (int64_t k = 1;; k++) {
    Seen seen;
    g_seen = &seen;
    g = Frees{};
    if (std::getenv("OOM_TRACE"))
      std::fprintf(stderr, "run %lld\n", static_cast<long long>(k));
    airs::alloc_faults.store(k);
    scenario();
    bool failed_one = airs::alloc_faults.load() <= 0;
    airs::alloc_faults.store(0);
#if defined(__SANITIZE_ADDRESS__)
    // OOM_LEAKS=1: a leak check after each run, to find the run that
    // leaked (LeakSanitizer's report at exit does not say).
    if (std::getenv("OOM_LEAKS") && __lsan_do_recoverable_leak_check())
      std::fprintf(stderr, "the run failing allocation #%lld leaked\n",
                   static_cast<long long>(k));
#endif
    g_seen = nullptr;
    runs++;
    INFO("the allocation that failed: #" << k);
    for (int i = 0; i < seen.bad && i < Seen::kMax; i++) {
      INFO("line " << seen.lines[i] << ": "
                   << std::string(airs_strerror(seen.statuses[i])) << " "
                   << std::string(seen.messages[i]));
      CHECK(false);
    }
    CHECK(g.user_data_made == g.user_data_freed);
    CHECK(g.owned_made == g.owned_freed);
    CHECK(g.payloads_made == g.payloads_freed);
    if (!failed_one) return runs;
    if (k > 200000) {
      FAIL("more than 200000 allocations in one run");
      return runs;
    }
  }
}

airs_runtime* host_runtime() {
  airs_config* cfg = nullptr;
  if (!SEEN(airs_config_new(&cfg))) return nullptr;
  airs_runtime* rt = nullptr;
  if (SEEN(airs_config_set(cfg, AIRS_CFG_WORKERS, 0)) &&
      SEEN(airs_config_set(cfg, AIRS_CFG_MANUAL_CLOCK, 1)) &&
      SEEN(airs_config_set(cfg, AIRS_CFG_SHUTDOWN_TIMEOUT_MS, 100)))
    SEEN(airs_runtime_new(cfg, &rt));
  airs_config_free(cfg);
  return rt;
}

void poll_all(airs_runtime* rt) {
  for (int i = 0; i < 10000; i++) {
    uint32_t ran = 0;
    if (!SEEN(airs_runtime_poll(rt, 64, &ran)) || ran == 0) return;
  }
}

airs_status spawn_counted(airs_runtime* rt, airs_ctx* ctx,
                          const airs_behaviour* b, const airs_spawn_opts* o,
                          airs_pid* out) {
  g.user_data_made++;
  return ctx ? airs_ctx_spawn(ctx, b, &g, free_user_data, o, out)
             : airs_spawn(rt, b, &g, free_user_data, o, out);
}

// Sends `type` to `to` with an owned payload (freed by the runtime).
void send_owned(airs_runtime* rt, airs_ctx* ctx, airs_pid to, uint64_t type) {
  airs_msg* m = nullptr;
  if (!SEEN(airs_msg_new_owned(type, g_bytes, 8, free_owned, &m))) return;
  g.owned_made++;
  airs_status st =
      ctx ? airs_ctx_send_msg(ctx, to, m) : airs_send_msg(rt, to, m);
  if (!SEEN_OR(st, AIRS_ENOPROC)) airs_msg_free(m);
}

// A shared payload of `type` wrapped around g_bytes (freed by its free
// function when its last reference goes), or nullptr.
airs_payload* new_payload() {
  airs_payload* p = nullptr;
  if (!SEEN(airs_payload_wrap(g_bytes, 16, free_payload, &p))) return nullptr;
  g.payloads_made++;
  return p;
}

// ---- 1. processes, messages, links, monitors, exits ---------------------

constexpr uint64_t kHello = 1;
constexpr uint64_t kWork = 2;  // payload: the peer's pid
constexpr uint64_t kCrash = 3;

airs_status actor_receive(void*, airs_ctx* ctx, const airs_msg* m);

const airs_behaviour kActor = {AIRS_BEHAVIOUR_VERSION,
                               sizeof(airs_behaviour),
                               nullptr,
                               actor_receive,
                               nullptr,
                               nullptr,
                               nullptr};

airs_status actor_receive(void*, airs_ctx* ctx, const airs_msg* m) {
  switch (airs_msg_type(m)) {
    case kCrash: return airs_exit(ctx, AIRS_EXIT_ERROR, 7, "crash");
    case kWork: {
      airs_pid peer = 0;
      std::memcpy(&peer, airs_msg_data(m), sizeof peer);
      SEEN(airs_trap_exit(ctx, true));
      SEEN(airs_link(ctx, peer));
      uint64_t ref = 0, ref2 = 0;
      SEEN(airs_monitor(ctx, peer, &ref));
      if (SEEN(airs_monitor(ctx, peer, &ref2))) SEEN(airs_demonitor(ctx, ref2));
      SEEN(airs_ctx_send(ctx, peer, kHello, "hi", 2));
      SEEN(airs_ctx_send(ctx, peer, kHello, "more than eight bytes", 21));
      send_owned(nullptr, ctx, peer, kHello);
      if (airs_payload* p = new_payload()) {
        airs_msg* msg = nullptr;
        if (SEEN(airs_msg_new_shared(kHello, p, &msg)) &&
            !SEEN(airs_ctx_send_msg(ctx, peer, msg)))
          airs_msg_free(msg);
        airs_payload_release(p);
      }
      // A child linked to this process that crashes at once, one that
      // is killed, and one that ends normally.
      airs_spawn_opts o;
      if (SEEN(airs_spawn_opts_init(airs_ctx_runtime(ctx), &o))) {
        o.flags = AIRS_SPAWN_LINK;
        airs_pid child = 0;
        if (SEEN(spawn_counted(nullptr, ctx, &kActor, &o, &child)))
          SEEN(airs_ctx_send(ctx, child, kCrash, nullptr, 0));
        if (SEEN(spawn_counted(nullptr, ctx, &kActor, &o, &child)))
          SEEN(airs_kill(airs_ctx_runtime(ctx), child));
        if (SEEN(spawn_counted(nullptr, ctx, &kActor, nullptr, &child)))
          SEEN(airs_stop(airs_ctx_runtime(ctx), child));
      }
      SEEN(airs_unlink(ctx, peer));
      return AIRS_OK;
    }
  }
  return AIRS_OK;
}

void scenario_processes() {
  airs_runtime* rt = host_runtime();
  if (!rt) return;
  airs_pid pa = 0, pb = 0;
  bool has_a = SEEN(spawn_counted(rt, nullptr, &kActor, nullptr, &pa));
  bool has_b = SEEN(spawn_counted(rt, nullptr, &kActor, nullptr, &pb));
  if (has_a && has_b) {
    SEEN(airs_send(rt, pa, kWork, &pb, sizeof pb));
    send_owned(rt, nullptr, pb, kHello);
    airs_msg* later = nullptr;
    uint64_t timer = 0;
    if (SEEN(airs_msg_new(kHello, "t", 1, &later)) &&
        !SEEN(airs_send_after(rt, pb, 5, later, &timer)))
      airs_msg_free(later);
  }
  poll_all(rt);
  SEEN(airs_runtime_advance_time(rt, 10));
  poll_all(rt);
  if (has_b) SEEN_OR(airs_send(rt, pb, kCrash, nullptr, 0), AIRS_ENOPROC);
  poll_all(rt);
  airs_runtime_free(rt);  // ends a (and anything left)
}

}  // namespace

TEST_CASE("out of memory at each allocation: processes, links, monitors") {
  int runs = every_allocation(scenario_processes);
  MESSAGE("runs: " << runs);
  CHECK(runs > 20);
}

// ---- 2. names, pools, topics, request/reply ------------------------------

namespace {

constexpr uint64_t kAsk = 10;
constexpr uint64_t kAnswer = 11;
constexpr uint64_t kPublish = 12;  // publish to "news" from inside

airs_status service_receive(void*, airs_ctx* ctx, const airs_msg* m) {
  airs_runtime* rt = airs_ctx_runtime(ctx);
  switch (airs_msg_type(m)) {
    case kAsk: {  // answer a request
      airs_msg* reply = nullptr;
      if (SEEN(airs_msg_new(kAnswer, "yes", 3, &reply)) &&
          !SEEN_OR(airs_reply(ctx, m, reply), AIRS_EINVAL))
        airs_msg_free(reply);
      return AIRS_OK;
    }
    case kPublish:
      for (int i = 0; i < 3; i++)
        if (airs_payload* p = new_payload()) {
          size_t n = 0;
          SEEN(airs_publish(rt, "news", kHello, p, &n));
          airs_payload_release(p);
        }
      return AIRS_OK;
    case kWork: {  // ask the service whose pid came with the message
      airs_pid svc = 0;
      std::memcpy(&svc, airs_msg_data(m), sizeof svc);
      airs_msg* q = nullptr;
      uint64_t corr = 0;
      if (SEEN(airs_msg_new(kAsk, "?", 1, &q)) &&
          !SEEN(airs_request(ctx, svc, q, 50, &corr)))
        airs_msg_free(q);
      return AIRS_OK;
    }
  }
  return AIRS_OK;
}

const airs_behaviour kService = {AIRS_BEHAVIOUR_VERSION,
                                 sizeof(airs_behaviour),
                                 nullptr,
                                 service_receive,
                                 nullptr,
                                 nullptr,
                                 nullptr};

void scenario_services() {
  airs_runtime* rt = host_runtime();
  if (!rt) return;
  airs_pid svc = 0, asker = 0, subs[3] = {0, 0, 0};
  bool has_svc = SEEN(spawn_counted(rt, nullptr, &kService, nullptr, &svc));
  bool has_asker = SEEN(spawn_counted(rt, nullptr, &kService, nullptr, &asker));
  for (airs_pid& s : subs)
    if (SEEN(spawn_counted(rt, nullptr, &kService, nullptr, &s))) {
      SEEN(airs_subscribe(rt, "news", s));
      SEEN(airs_pool_join(rt, "workers", s));
    }
  if (has_svc) {
    SEEN(airs_register(rt, "svc", svc));
    airs_pid found = 0;
    SEEN_OR(airs_whereis(rt, "svc", &found), AIRS_ENOTFOUND);
  }
  airs_pid picked = 0;
  SEEN_OR(airs_pool_pick(rt, "workers", AIRS_PICK_ROUND_ROBIN, &picked),
          AIRS_ENOTFOUND);
  if (airs_payload* p = new_payload()) {  // from outside
    size_t n = 0;
    SEEN(airs_publish(rt, "news", kHello, p, &n));
    airs_payload_release(p);
  }
  if (has_asker && has_svc) {
    SEEN(airs_send(rt, asker, kWork, &svc, sizeof svc));
    SEEN(airs_send(rt, subs[0] ? subs[0] : asker, kPublish, nullptr, 0));
  }
  poll_all(rt);
  SEEN(airs_runtime_advance_time(rt, 100));  // request timeouts fire
  poll_all(rt);
  if (subs[1]) {
    SEEN_OR(airs_unsubscribe(rt, "news", subs[1]), AIRS_ENOTFOUND);
    SEEN_OR(airs_pool_leave(rt, "workers", subs[1]), AIRS_ENOTFOUND);
    SEEN(airs_kill(rt, subs[1]));  // leaves what it joined as it ends
  }
  if (has_svc) SEEN_OR(airs_unregister(rt, "svc"), AIRS_ENOTFOUND);
  poll_all(rt);
  airs_runtime_free(rt);
}

// ---- 3. supervision ------------------------------------------------------

airs_status child_receive(void*, airs_ctx* ctx, const airs_msg* m) {
  if (airs_msg_type(m) == kCrash)
    return airs_exit(ctx, AIRS_EXIT_ERROR, 1, "crash");
  return AIRS_OK;
}

const airs_behaviour kChild = {AIRS_BEHAVIOUR_VERSION,
                               sizeof(airs_behaviour),
                               nullptr,
                               child_receive,
                               nullptr,
                               nullptr,
                               nullptr};

// A child spec for kChild whose user_data is counted.
bool add_child(airs_sup_spec* spec, const char* id, airs_restart restart) {
  airs_child_spec c;
  if (!SEEN(airs_child_spec_init(&c))) return false;
  c.id = id;
  c.behaviour = &kChild;
  c.user_data = &g;
  c.user_data_free = free_user_data;
  c.restart = restart;
  c.shutdown_ms = 50;
  g.user_data_made++;
  return SEEN(airs_sup_spec_add_child(spec, &c));
}

airs_pid running_child(airs_runtime* rt, airs_pid sup, const char* id) {
  airs_child_info rows[4];
  size_t n = 0;
  if (airs_supervisor_which_children(rt, sup, rows, 4, &n) != AIRS_OK) return 0;
  for (size_t i = 0; i < n && i < 4; i++)
    if (std::strcmp(rows[i].id, id) == 0 && rows[i].state == AIRS_CHILD_RUNNING)
      return rows[i].pid;
  return 0;
}

void scenario_supervision() {
  airs_runtime* rt = host_runtime();
  if (!rt) return;
  airs_sup_flags f;
  SEEN(airs_sup_flags_init(&f));
  f.strategy = AIRS_REST_FOR_ONE;
  f.intensity = 100;
  airs_sup_spec* inner = nullptr;
  airs_sup_spec* outer = nullptr;
  if (SEEN(airs_sup_spec_new(nullptr, &inner)))
    add_child(inner, "i1", AIRS_RESTART_PERMANENT);
  if (SEEN(airs_sup_spec_new(&f, &outer))) {
    add_child(outer, "a", AIRS_RESTART_PERMANENT);
    if (inner) {
      airs_child_spec c;
      SEEN(airs_child_spec_init(&c));
      c.id = "inner";
      c.supervisor = inner;
      c.type = AIRS_CHILD_SUPERVISOR;
      c.shutdown = AIRS_SHUTDOWN_INFINITY;
      SEEN(airs_sup_spec_add_child(outer, &c));
    }
    add_child(outer, "b", AIRS_RESTART_TRANSIENT);
  }
  airs_pid sup = 0;
  bool up = outer && SEEN(airs_supervisor_start(rt, outer, &sup));
  airs_sup_spec_free(inner);
  airs_sup_spec_free(outer);
  if (up) {
    // A crash: a and everything after it restart.
    if (airs_pid a = running_child(rt, sup, "a"))
      SEEN_OR(airs_send(rt, a, kCrash, nullptr, 0), AIRS_ENOPROC);
    poll_all(rt);
    // Operations from the host.
    airs_child_spec c;
    SEEN(airs_child_spec_init(&c));
    c.id = "c";
    c.behaviour = &kChild;
    c.user_data = &g;
    c.user_data_free = free_user_data;
    g.user_data_made++;
    airs_pid cp = 0;
    airs_status st = airs_supervisor_start_child(rt, sup, &c, &cp);
    SEEN_OR(st, AIRS_ENOPROC);  // the supervisor may have given up
    // What these find depends on where memory ran out before them: a
    // child that was never added (ENOTFOUND), one that could not be
    // stopped (ESTATE), a supervisor that gave up (ENOPROC).
    for (airs_status st : {airs_supervisor_terminate_child(rt, sup, "b"),
                           airs_supervisor_restart_child(rt, sup, "b", nullptr),
                           airs_supervisor_terminate_child(rt, sup, "c"),
                           airs_supervisor_delete_child(rt, sup, "c")})
      if (st != AIRS_ENOTFOUND && st != AIRS_ESTATE) SEEN_OR(st, AIRS_ENOPROC);
    airs_child_counts counts;
    SEEN_OR(airs_supervisor_count_children(rt, sup, &counts), AIRS_ENOPROC);
    poll_all(rt);
  }
  // A pool of dynamic children.
  airs_sup_flags pf;
  SEEN(airs_sup_flags_init(&pf));
  pf.strategy = AIRS_SIMPLE_ONE_FOR_ONE;
  pf.intensity = 100;
  airs_sup_spec* pool = nullptr;
  airs_pid psup = 0;
  if (SEEN(airs_sup_spec_new(&pf, &pool))) {
    airs_child_spec t;
    SEEN(airs_child_spec_init(&t));
    t.behaviour = &kChild;
    if (SEEN(airs_sup_spec_add_child(pool, &t)) &&
        SEEN(airs_supervisor_start(rt, pool, &psup)))
      for (int i = 0; i < 3; i++) {
        g.user_data_made++;
        airs_pid d = 0;
        if (SEEN_OR(airs_supervisor_start_dynamic_child(rt, psup, &g,
                                                        free_user_data, &d),
                    AIRS_ENOPROC) &&
            i == 1)
          SEEN_OR(airs_send(rt, d, kCrash, nullptr, 0), AIRS_ENOPROC);
        else if (d && i == 2)
          for (airs_status st :
               {airs_supervisor_terminate_child_pid(rt, psup, d)})
            if (st != AIRS_ENOTFOUND) SEEN_OR(st, AIRS_ENOPROC);
      }
    airs_sup_spec_free(pool);
  }
  poll_all(rt);
  airs_runtime_free(rt);  // stops both trees
}

}  // namespace

TEST_CASE("out of memory at each allocation: names, pools, topics, requests") {
  int runs = every_allocation(scenario_services);
  MESSAGE("runs: " << runs);
  CHECK(runs > 20);
}

TEST_CASE("out of memory at each allocation: supervision trees") {
  int runs = every_allocation(scenario_supervision);
  MESSAGE("runs: " << runs);
  CHECK(runs > 20);
}

// ---- 4. configuration, messages, timers, hooks, stats, host calls --------

namespace {

constexpr uint64_t kEcho = 20;  // answered with airs_reply_to

// The hooks only count: nothing may allocate in them (see the top).
int g_dead_letters = 0, g_events = 0, g_trace_steps = 0;
std::atomic<int> g_thread_hooks{0};  // pool threads run it

void on_dead_letter(void*, airs_pid, const airs_msg* m,
                    airs_dead_letter_reason) {
  if (m) g_dead_letters++;
}
void on_event(void*, const airs_event*) {
  g_events++;
}
void on_trace(void*, const airs_trace_step*) {
  g_trace_steps++;
}
void on_thread(void*, int) {
  g_thread_hooks++;
}

airs_status echo_receive(void*, airs_ctx* ctx, const airs_msg* m) {
  if (airs_msg_type(m) == kEcho) {
    uint64_t type = 0;
    size_t size = 0;
    const void* data = airs_msg_read(m, &type, &size);
    airs_msg* r = nullptr;
    if (SEEN(airs_msg_new(kAnswer, data, size, &r)) &&
        !SEEN(airs_reply_to(ctx, airs_msg_correlation(m), r)))
      airs_msg_free(r);
  } else if (airs_msg_type(m) == kCrash) {
    return airs_exit(ctx, AIRS_EXIT_ERROR, 2, "crash");
  }
  return AIRS_OK;
}

const airs_behaviour kEchoActor = {AIRS_BEHAVIOUR_VERSION,
                                   sizeof(airs_behaviour),
                                   nullptr,
                                   echo_receive,
                                   nullptr,
                                   nullptr,
                                   nullptr};

// A runtime made from a config with every key set, read back, and a thread
// hook (a host-driven runtime starts no thread: the hook stays unused).
airs_runtime* configured_runtime(int64_t seed) {
  airs_config* cfg = nullptr;
  if (!SEEN(airs_config_new(&cfg))) return nullptr;
  static const struct {
    airs_config_key key;
    int64_t value;
  } kSettings[] = {{AIRS_CFG_WORKERS, 0},
                   {AIRS_CFG_MAILBOX_CAPACITY, 4},
                   {AIRS_CFG_MAILBOX_POLICY, AIRS_MAILBOX_DROP_NEWEST},
                   {AIRS_CFG_BLOCK_TIMEOUT_MS, 10},
                   {AIRS_CFG_MAX_PROCESSES, 64},
                   {AIRS_CFG_SHUTDOWN_TIMEOUT_MS, 100},
                   {AIRS_CFG_BUDGET, 8},
                   {AIRS_CFG_MANUAL_CLOCK, 1},
                   {AIRS_CFG_EVENTS, 1},
                   {AIRS_CFG_POOL_MIN_THREADS, 0},
                   {AIRS_CFG_POOL_MAX_THREADS, 2},
                   {AIRS_CFG_POOL_SLOW_MAX, 1},
                   {AIRS_CFG_POOL_KEEPALIVE_MS, 100}};
  bool ok = true;
  for (const auto& s : kSettings)
    ok = ok && SEEN(airs_config_set(cfg, s.key, s.value));
  if (ok && seed) ok = SEEN(airs_config_set(cfg, AIRS_CFG_SEED, seed));
  int64_t v = 0;
  ok = ok && SEEN(airs_config_get(cfg, AIRS_CFG_BUDGET, &v)) &&
       SEEN(airs_config_set_thread_hook(cfg, on_thread, nullptr));
  airs_runtime* rt = nullptr;
  if (ok) SEEN(airs_runtime_new(cfg, &rt));
  airs_config_free(cfg);
  return rt;
}

void scenario_messages() {
  airs_runtime* rt = configured_runtime(0);
  if (!rt) return;
  SEEN(airs_set_dead_letter_hook(rt, on_dead_letter, nullptr));
  SEEN(airs_set_event_hook(rt, on_event, nullptr));
  airs_pid e = 0, gone = 0;
  bool has_e = SEEN(spawn_counted(rt, nullptr, &kEchoActor, nullptr, &e));
  if (SEEN(spawn_counted(rt, nullptr, &kEchoActor, nullptr, &gone))) {
    SEEN(airs_kill(rt, gone));
    poll_all(rt);
    // To a pid that ended: ENOPROC, and a dead letter.
    SEEN_OR(airs_send(rt, gone, kHello, "x", 1), AIRS_ENOPROC);
  }
  if (has_e) {
    airs_msg* m = nullptr;
    if (SEEN(airs_msg_new(kHello, "a message with priority", 23, &m))) {
      SEEN(airs_msg_set_priority(m, AIRS_PRIORITY_HIGH));
      SEEN(airs_msg_set_correlation(m, 42));
      if (!SEEN(airs_send_msg(rt, e, m))) airs_msg_free(m);
    }
    airs_payload* p = nullptr;
    if (SEEN(airs_payload_new(g_bytes, sizeof g_bytes, &p))) {
      airs_msg* s = nullptr;
      if (SEEN(airs_msg_new_shared(kHello, p, &s)) &&
          !SEEN(airs_send_msg(rt, e, s)))
        airs_msg_free(s);
      airs_payload_release(p);
    }
    // Past the mailbox's capacity of 4: DROP_NEWEST drops the rest (a
    // dead letter each), and the send still succeeds.
    for (int i = 0; i < 4; i++) SEEN(airs_send(rt, e, kHello, "f", 1));
    uint64_t depth = 0;
    SEEN(airs_process_stat_get(rt, e, AIRS_PSTAT_MAILBOX_DEPTH, &depth));
    poll_all(rt);
    // Timers: one fires, one is cancelled, one aims at a pid that is gone
    // by then (a dead letter when it fires).
    uint64_t t1 = 0, t2 = 0;
    airs_msg* a = nullptr;
    if (SEEN(airs_msg_new(kHello, "t1", 2, &a)) &&
        !SEEN(airs_send_after(rt, e, 5, a, &t1)))
      airs_msg_free(a);
    if (SEEN(airs_msg_new(kHello, "t2", 2, &a)) &&
        !SEEN(airs_send_after(rt, e, 50, a, &t2)))
      airs_msg_free(a);
    int64_t next = 0;
    SEEN(airs_runtime_next_timer_ms(rt, &next));
    if (t2) SEEN(airs_cancel_timer(rt, t2));
    // A call from the host: the reply, or ETIMEDOUT when memory ran out
    // for the reply (the clock of a call is the real one).
    airs_msg* q = nullptr;
    if (SEEN(airs_msg_new(kEcho, "ping", 4, &q))) {
      airs_msg* reply = nullptr;
      airs_status st = airs_call(rt, e, q, 20, &reply);
      if (st == AIRS_OK)
        airs_msg_free(reply);
      else if (st != AIRS_ETIMEDOUT && !SEEN(st))
        airs_msg_free(q);
    }
    airs_pid victim = 0;
    if (SEEN(spawn_counted(rt, nullptr, &kEchoActor, nullptr, &victim))) {
      if (SEEN(airs_msg_new(kHello, "t3", 2, &a)) &&
          !SEEN(airs_send_after(rt, victim, 5, a, nullptr)))
        airs_msg_free(a);
      SEEN(airs_send_exit(rt, victim, AIRS_EXIT_ERROR, 9, "told to end"));
      SEEN_OR(airs_wait(rt, victim, 20), AIRS_ETIMEDOUT);
    }
    SEEN(airs_runtime_advance_time(rt, 10));
    poll_all(rt);
  }
  airs_runtime_stats stats;
  std::memset(&stats, 0, sizeof stats);
  stats.version = AIRS_RUNTIME_STATS_VERSION;
  stats.size = sizeof stats;
  SEEN(airs_runtime_stats_get(rt, &stats));
  airs_runtime_free(rt);

  // A seeded runtime with a trace hook.
  rt = configured_runtime(42);
  if (!rt) return;
  SEEN(airs_runtime_set_trace_hook(rt, on_trace, nullptr));
  airs_pid t = 0;
  if (SEEN(spawn_counted(rt, nullptr, &kEchoActor, nullptr, &t))) {
    SEEN(airs_send(rt, t, kHello, "seeded", 6));
    SEEN(airs_send(rt, t, kCrash, nullptr, 0));
  }
  poll_all(rt);
  airs_runtime_free(rt);
}

}  // namespace

TEST_CASE("out of memory at each allocation: messages, timers, hooks, calls") {
  int runs = every_allocation(scenario_messages);
  MESSAGE("runs: " << runs);
  CHECK(runs > 20);
}

// ---- 5. fd watches, the host's wake-up fd, blocking-pool jobs ------------

namespace {

int g_fd_ready = 0, g_jobs_done = 0;

// Reads what is in the pipe and re-arms the watch (once); counts job
// completions.
airs_status watcher_receive(void*, airs_ctx* ctx, const airs_msg* m) {
  switch (airs_msg_type(m)) {
    case AIRS_MSG_FD_READY: {
      int fd = -1;
      std::memcpy(&fd, g_bytes + 48, sizeof fd);  // the host's read end
      char buf[16];
      while (read(fd, buf, sizeof buf) > 0) {
      }
      if (g_fd_ready++ == 0)
        SEEN_OR(airs_fd_rearm(airs_ctx_runtime(ctx), airs_msg_correlation(m),
                              AIRS_FD_READ),
                AIRS_ENOTFOUND);
      break;
    }
    case kHello:  // a job's own completion
    case AIRS_MSG_JOB_DONE:
    case AIRS_MSG_JOB_CANCELLED: g_jobs_done++; break;
  }
  return AIRS_OK;
}

const airs_behaviour kWatcher = {AIRS_BEHAVIOUR_VERSION,
                                 sizeof(airs_behaviour),
                                 nullptr,
                                 watcher_receive,
                                 nullptr,
                                 nullptr,
                                 nullptr};

// A job: its completion is a message it makes (or none when memory ran
// out for it: an empty AIRS_MSG_JOB_DONE).
airs_msg* job_run(void*) {
  airs_msg* m = nullptr;
  if (airs_msg_new(kHello, "done", 4, &m) != AIRS_OK) return nullptr;
  return m;
}

// Polls until every job submitted has ended (its completion delivered, or
// lost for want of memory) or a second has passed.
void wait_jobs(airs_runtime* rt) {
  for (int i = 0; i < 1000; i++) {
    poll_all(rt);
    airs_job_stats s;
    std::memset(&s, 0, sizeof s);
    s.version = AIRS_JOB_STATS_VERSION;
    s.size = sizeof s;
    if (!SEEN(airs_job_stats_get(rt, &s))) return;
    if (s.queued[0] + s.queued[1] + s.running[0] + s.running[1] == 0) break;
    usleep(1000);
  }
  poll_all(rt);
}

void fd_ready_fn(void*, uint64_t, uint32_t) {}

void scenario_io() {
  airs_runtime* rt = configured_runtime(0);
  if (!rt) return;
  int wake = -1;
  SEEN(airs_runtime_fd(rt, &wake));
  int fds[2];
  if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
    airs_runtime_free(rt);
    return;
  }
  std::memcpy(g_bytes + 48, &fds[0], sizeof fds[0]);
  airs_pid w = 0;
  if (SEEN(spawn_counted(rt, nullptr, &kWatcher, nullptr, &w))) {
    uint64_t id = 0, id2 = 0;
    if (SEEN(airs_fd_watch(rt, fds[0], AIRS_FD_READ, w, &id))) {
      (void)!write(fds[1], "1", 1);
      poll_all(rt);
      (void)!write(fds[1], "2", 1);
      poll_all(rt);
      SEEN(airs_fd_unwatch(rt, id));
    }
    // A second watch, left for the owner's end to close.
    SEEN(airs_fd_watch(rt, fds[1], AIRS_FD_WRITE, w, &id2));
    // A watch with a function, called in the poll; a second one left for
    // the runtime's free to close.
    uint64_t fid = 0, fid2 = 0;
    if (SEEN(airs_fd_watch_fn(rt, fds[1], AIRS_FD_WRITE, fd_ready_fn, nullptr,
                              &fid))) {
      poll_all(rt);
      SEEN(airs_fd_rearm(rt, fid, AIRS_FD_WRITE));
      poll_all(rt);
      SEEN(airs_fd_unwatch(rt, fid));
    }
    SEEN(airs_fd_watch_fn(rt, fds[0], AIRS_FD_READ, fd_ready_fn, nullptr,
                          &fid2));
    // Jobs: one that runs, one cancelled (if the pool has not started it).
    uint64_t jobs[2] = {0, 0};
    for (uint64_t& j : jobs) {
      airs_job job;
      SEEN(airs_job_init(&job));
      job.job_class = &j == &jobs[0] ? AIRS_JOB_FAST : AIRS_JOB_SLOW;
      job.run = job_run;
      job.arg = &g;
      job.arg_free = free_user_data;
      job.reply_to = w;
      g.user_data_made++;
      SEEN(airs_job_submit(rt, &job, &j));
    }
    if (jobs[1]) SEEN_OR(airs_job_cancel(rt, jobs[1]), AIRS_ENOTFOUND);
    // A process whose turns run on the pool (each turn a SLOW job).
    airs_spawn_opts so;
    airs_pid b = 0;
    if (SEEN(airs_spawn_opts_init(rt, &so))) {
      so.flags = AIRS_SPAWN_BLOCKING;
      if (SEEN(spawn_counted(rt, nullptr, &kWatcher, &so, &b)))
        SEEN(airs_send(rt, b, kHello, "turn", 4));
    }
    wait_jobs(rt);
    poll_all(rt);
    SEEN(airs_kill(rt, w));
    poll_all(rt);
  }
  // The fs and proc actors started on their own (no supervisor).
  airs_pid fs = 0, proc = 0;
  SEEN(airs_fs_start(rt, &fs));
  SEEN(airs_proc_start(rt, &proc));
  poll_all(rt);
  airs_runtime_free(rt);
  close(fds[0]);
  close(fds[1]);
}

}  // namespace

TEST_CASE("out of memory at each allocation: fd watches, wake-up fd, jobs") {
  int runs = every_allocation(scenario_io);
  MESSAGE("runs: " << runs);
  CHECK(runs > 10);
}

// ---- 6. sockets on loopback ------------------------------------------------

namespace {

struct NetSeen {
  airs_pid peer;  // gets the accepted connection
  int data, datagrams, eof, sent, errors;
} g_net;

airs_status net_receive(void*, airs_ctx* ctx, const airs_msg* m) {
  airs_runtime* rt = airs_ctx_runtime(ctx);
  airs_socket sock = airs_msg_correlation(m);
  switch (airs_msg_type(m)) {
    case AIRS_MSG_SOCK_ACCEPTED: {  // hand it to the peer, which answers
      airs_sock_accepted a;
      std::memcpy(&a, airs_msg_data(m), sizeof a);
      if (SEEN_OR(airs_socket_give(rt, a.socket, g_net.peer), AIRS_ENOPROC))
        SEEN(airs_socket_set_active(rt, a.socket, AIRS_ACTIVE_ALWAYS));
      else
        SEEN_OR(airs_socket_close(rt, a.socket), AIRS_ENOTFOUND);
      break;
    }
    case AIRS_MSG_SOCK_CONNECTED:
      SEEN(airs_socket_set_active(rt, sock, 1));
      // ESTATE: the server side, out of memory, closed its end with the
      // early bytes unread, which resets the connection.
      SEEN_OR(airs_socket_send(rt, sock, "ping", 4, 1), AIRS_ESTATE);
      break;
    case AIRS_MSG_SOCK_DATA:
      // The server side answers and half-closes; the client closes.
      if (g_net.data++ == 0) {
        SEEN_OR(airs_socket_send(rt, sock, "pong", 4, 2), AIRS_ENOTFOUND);
        SEEN_OR(airs_socket_shutdown(rt, sock), AIRS_ENOTFOUND);
      } else {
        SEEN_OR(airs_socket_close(rt, sock), AIRS_ENOTFOUND);
      }
      break;
    case AIRS_MSG_SOCK_DATAGRAM: {
      airs_datagram d;
      const void* bytes = nullptr;
      SEEN(airs_datagram_read(m, &d, &bytes));
      g_net.datagrams++;
      break;
    }
    case AIRS_MSG_SOCK_PASSIVE:
      SEEN_OR(airs_socket_set_active(rt, sock, 1), AIRS_ENOTFOUND);
      break;
    case AIRS_MSG_SOCK_EOF: g_net.eof++; break;
    case AIRS_MSG_SOCK_SENT: g_net.sent++; break;
    case AIRS_MSG_SOCK_ERROR:
    case AIRS_MSG_SOCK_ACCEPT_ERROR: g_net.errors++; break;
  }
  return AIRS_OK;
}

const airs_behaviour kNet = {AIRS_BEHAVIOUR_VERSION,
                             sizeof(airs_behaviour),
                             nullptr,
                             net_receive,
                             nullptr,
                             nullptr,
                             nullptr};

// Polls until the runtime has nothing to do for 5 ms: loopback I/O is
// ready at once, so this is when every step that can happen has.
void settle(airs_runtime* rt, int wake) {
  for (int i = 0; i < 200; i++) {
    poll_all(rt);
    if (wake < 0) {
      usleep(1000);
      if (i >= 10) return;
      continue;
    }
    struct pollfd p = {wake, POLLIN, 0};
    if (poll(&p, 1, 5) <= 0) return;
  }
}

void scenario_sockets() {
  g_net = NetSeen{};
  airs_runtime* rt = configured_runtime(0);
  if (!rt) return;
  int wake = -1;
  SEEN(airs_runtime_fd(rt, &wake));
  airs_pid owner = 0;
  if (SEEN(spawn_counted(rt, nullptr, &kNet, nullptr, &owner)) &&
      SEEN(spawn_counted(rt, nullptr, &kNet, nullptr, &g_net.peer))) {
    airs_addr any, local;
    SEEN(airs_addr_parse("127.0.0.1:0", &any));
    airs_socket_opts o;
    SEEN(airs_socket_opts_init(&o));
    o.active = 1;
    airs_socket lsock = 0, csock = 0, usock = 0;
    if (SEEN(airs_tcp_listen(rt, owner, &any, &o, &lsock)) &&
        SEEN(airs_socket_addr(rt, lsock, &local, nullptr))) {
      char text[64];
      SEEN(airs_addr_format(&local, text, sizeof text));
      // A send while connecting waits in the socket's buffer.
      if (SEEN(airs_tcp_connect(rt, owner, &local, 1000, nullptr, &csock)))
        SEEN(airs_socket_send(rt, csock, "early", 5, 3));
    }
    if (SEEN(airs_udp_open(rt, owner, &any, &o, &usock)) &&
        SEEN(airs_socket_addr(rt, usock, &local, nullptr))) {
      SEEN(airs_udp_send(rt, usock, &local, "datagram", 8));
      SEEN(airs_udp_send(rt, usock, &local, "datagram", 8));
    }
    settle(rt, wake);
    (void)airs_socket_count(rt);
    if (lsock) SEEN(airs_socket_close(rt, lsock));
    settle(rt, wake);
  }
  airs_runtime_free(rt);  // closes what is still open
}

}  // namespace

TEST_CASE("out of memory at each allocation: sockets on loopback") {
  int runs = every_allocation(scenario_sockets);
  MESSAGE("runs: " << runs);
  CHECK(runs > 10);
}

// ---- 7. the transport seam --------------------------------------------------

namespace {

// A transport to a runtime that does not exist: it keeps the first message
// it is given (dropped later with airs_transport_drop), frees the others,
// and remembers the correlation of the last request.
struct FakeLink {
  airs_msg* kept;
  uint64_t request;
  int messages, signals, publishes, members;
} g_link;

airs_status link_send(void*, airs_pid, airs_msg* msg) {
  switch (airs_transport_msg_kind(msg)) {
    case AIRS_TRANSPORT_SIGNAL: {
      airs_transport_signal sig;
      SEEN(airs_transport_signal_read(msg, &sig));
      g_link.signals++;
      break;
    }
    case AIRS_TRANSPORT_REQUEST:
      g_link.request = airs_msg_correlation(msg);
      break;
    default: g_link.messages++; break;
  }
  if (!g_link.kept)
    g_link.kept = msg;
  else
    airs_msg_free(msg);
  return AIRS_OK;
}
void link_flush(void*) {}
void link_interest(void*, const char*, size_t, int) {}
airs_status link_publish(void*, const char*, size_t, airs_msg* msg) {
  g_link.publishes++;
  airs_msg_free(msg);
  return AIRS_OK;
}
airs_status link_pool_member(void*, const char*, airs_pid, int) {
  g_link.members++;
  return AIRS_OK;
}

constexpr uint64_t kRemoteWork = 30;  // ask, link to and monitor the remote

airs_pid remote_pid() {
  return (static_cast<airs_pid>(2) << 48) | 5;  // tag 2: the other side
}

airs_status local_receive(void*, airs_ctx* ctx, const airs_msg* m) {
  // It traps exits: the runtime's shutdown, too, comes as a message,
  // which it obeys (else each run waits the shutdown timeout).
  if (airs_msg_type(m) == AIRS_MSG_EXIT) {
    const airs_reason* r = airs_msg_reason(m);
    if (r && airs_reason_kind(r) == AIRS_EXIT_SHUTDOWN)
      return airs_exit(ctx, AIRS_EXIT_SHUTDOWN, 0, nullptr);
  }
  if (airs_msg_type(m) != kRemoteWork) return AIRS_OK;
  airs_pid r = remote_pid();
  SEEN(airs_trap_exit(ctx, true));
  SEEN(airs_ctx_send(ctx, r, kHello, "to the other side", 17));
  SEEN(airs_link(ctx, r));
  uint64_t ref = 0;
  SEEN(airs_monitor(ctx, r, &ref));
  airs_msg* q = nullptr;
  uint64_t corr = 0;
  if (SEEN(airs_msg_new(kAsk, "?", 1, &q)) &&
      !SEEN(airs_request(ctx, r, q, 50, &corr)))
    airs_msg_free(q);
  SEEN(airs_pool_join(airs_ctx_runtime(ctx), "workers", airs_self(ctx)));
  return AIRS_OK;
}

const airs_behaviour kLocal = {AIRS_BEHAVIOUR_VERSION,
                               sizeof(airs_behaviour),
                               nullptr,
                               local_receive,
                               nullptr,
                               nullptr,
                               nullptr};

void scenario_transport() {
  g_link = FakeLink{};
  airs_config* cfg = nullptr;
  if (!SEEN(airs_config_new(&cfg))) return;
  airs_runtime* rt = nullptr;
  if (SEEN(airs_config_set(cfg, AIRS_CFG_WORKERS, 0)) &&
      SEEN(airs_config_set(cfg, AIRS_CFG_MANUAL_CLOCK, 1)) &&
      SEEN(airs_config_set(cfg, AIRS_CFG_SHUTDOWN_TIMEOUT_MS, 100)) &&
      SEEN(airs_config_set(cfg, AIRS_CFG_PID_TAG, 1)))
    SEEN(airs_runtime_new(cfg, &rt));
  airs_config_free(cfg);
  if (!rt) return;
  uint32_t tag = 0;
  SEEN(airs_runtime_pid_tag(rt, &tag));
  airs_transport t;
  std::memset(&t, 0, sizeof t);
  t.version = AIRS_TRANSPORT_VERSION;
  t.size = sizeof t;
  t.send = link_send;
  t.flush = link_flush;
  t.topic_interest = link_interest;
  t.publish = link_publish;
  t.pool_member = link_pool_member;
  airs_pid local = 0;
  bool has_local = SEEN(spawn_counted(rt, nullptr, &kLocal, nullptr, &local));
  if (has_local) SEEN(airs_subscribe(rt, "news", local));
  airs_pid subs[2];
  size_t nsubs = 0;
  SEEN(airs_topic_subscribers(rt, "news", subs, 2, &nsubs));
  if (SEEN(airs_transport_set(rt, &t, nullptr)) && has_local) {
    airs_pid r = remote_pid();
    SEEN(airs_send(rt, local, kRemoteWork, nullptr, 0));
    poll_all(rt);
    if (airs_payload* p = new_payload()) {
      size_t n = 0;
      SEEN(airs_publish(rt, "news", kHello, p, &n));
      airs_payload_release(p);
    }
    // What the other side sends back.
    size_t n = 0;
    SEEN(airs_transport_deliver(rt, r, local, kHello, "from there", 10,
                                AIRS_PRIORITY_NORMAL, 0));
    if (g_link.request)
      SEEN_OR(airs_transport_deliver_reply(rt, r, g_link.request, kAnswer,
                                           "yes", 3),
              AIRS_ENOTFOUND);
    SEEN_OR(
        airs_transport_deliver_publish(rt, r, "news", 4, kHello, "n", 1, &n),
        AIRS_ENOTFOUND);
    airs_transport_signal sig;
    std::memset(&sig, 0, sizeof sig);
    sig.code = AIRS_TRANSPORT_SIG_LINK;
    sig.text = "";
    SEEN(airs_transport_deliver_signal(rt, r, local, &sig));
    sig.code = AIRS_TRANSPORT_SIG_MONITOR;
    sig.ref = 77;
    SEEN(airs_transport_deliver_signal(rt, r, local, &sig));
    SEEN(airs_transport_pool_member(rt, "workers", r, 1));
    airs_pid members[4];
    SEEN(airs_pool_members(rt, "workers", members, 4, &n));
    poll_all(rt);
    // The other side is lost: links and monitors to it fire.
    SEEN(airs_transport_node_down(rt, 2));
    poll_all(rt);
    if (g_link.kept) {
      SEEN(airs_transport_drop(rt, g_link.kept, AIRS_DEAD_LETTER_NOCONNECTION));
      g_link.kept = nullptr;
    }
  }
  SEEN(airs_transport_set(rt, nullptr, nullptr));
  if (g_link.kept) airs_msg_free(g_link.kept);
  airs_runtime_free(rt);
}

}  // namespace

TEST_CASE("out of memory at each allocation: the transport seam") {
  int runs = every_allocation(scenario_transport);
  MESSAGE("runs: " << runs);
  CHECK(runs > 10);
}

// ---- 8. the system actors (OSL): files through the fs actor
// ------------------

namespace {

char g_dir[64];  // a fresh directory for the files, made before the runs

// One step of the fs scenario: a request, the names it works on (in
// g_dir) and what it writes.
struct FsStep {
  uint64_t type;
  const char* name;
  const char* name2;
  const char* data;
  uint32_t flags;
};

// A call to the fs actor (or the file actor `file`) from the host: the
// reply's status (a reply may say ENOMEM: the actor ran out), or the
// call's own; the reply is freed. An OPEN goes on with the file's own
// requests and closes it.
airs_status fs_call(airs_runtime* rt, const FsStep& step, airs_pid file) {
  char path[96], path2[96];
  std::snprintf(path, sizeof path, "%s%s%s", g_dir, step.name ? "/" : "",
                step.name ? step.name : "");
  std::snprintf(path2, sizeof path2, "%s/%s", g_dir,
                step.name2 ? step.name2 : "");
  airs_fs_req req;
  SEEN(airs_fs_req_init(&req));
  req.type = step.type;
  req.path = path;
  req.path2 = path2;
  req.data = step.data;
  req.data_size = step.data ? std::strlen(step.data) : 0;
  req.length = step.type == AIRS_MSG_FILE_READ ? 64 : 0;
  req.flags = step.flags;
  req.file = file;
  airs_msg* reply = nullptr;
  airs_status st = airs_fs_call(rt, &req, 200, &reply);
  if (st != AIRS_OK) return st;
  airs_osl_result res;
  st = airs_osl_result_get(reply, &res);
  if (st == AIRS_OK) st = static_cast<airs_status>(res.status);
  if (st == AIRS_OK) {
    airs_fs_info info;
    const void* bytes = nullptr;
    size_t size = 0;
    if (step.type == AIRS_MSG_FS_READ || step.type == AIRS_MSG_FILE_READ) {
      st = airs_fs_reply_data(reply, &bytes, &size);
    } else if (step.type == AIRS_MSG_FS_LIST) {
      size_t cursor = 0;
      const char* name = nullptr;
      while (airs_fs_reply_list_next(reply, &cursor, &name) == AIRS_OK) {
      }
    } else if (step.type == AIRS_MSG_FS_STAT) {
      airs_fs_stat s;
      std::memset(&s, 0, sizeof s);
      s.version = AIRS_FS_STAT_VERSION;
      s.size = sizeof s;
      st = airs_fs_reply_stat(reply, &s);
    } else if (step.type == AIRS_MSG_FS_OPEN) {
      airs_pid f = 0;
      if ((st = airs_fs_reply_file(reply, &f)) == AIRS_OK) {
        static const FsStep kFileSteps[] = {
            {AIRS_MSG_FILE_WRITE, nullptr, nullptr, "more", 0},
            {AIRS_MSG_FILE_READ, nullptr, nullptr, nullptr, AIRS_FS_AT},
            {AIRS_MSG_FILE_SYNC, nullptr, nullptr, nullptr, 0},
            {AIRS_MSG_FILE_CLOSE, nullptr, nullptr, nullptr, 0}};
        for (const FsStep& fs : kFileSteps)
          if ((st = fs_call(rt, fs, f)) != AIRS_OK) break;
      }
    }
    if (st == AIRS_OK) st = airs_fs_reply_info(reply, &info);
  }
  airs_msg_free(reply);
  return st;
}

// Asks the fs and net actors from inside a process (airs_fs_request,
// airs_net_request); their replies come back as messages, which it drops.
airs_status osl_client_receive(void*, airs_ctx* ctx, const airs_msg* m) {
  if (airs_msg_type(m) != kWork) return AIRS_OK;
  airs_fs_req req;
  SEEN(airs_fs_req_init(&req));
  req.type = AIRS_MSG_FS_STAT;
  req.path = g_dir;
  uint64_t corr = 0;
  SEEN_OR(airs_fs_request(ctx, &req, 200, &corr), AIRS_ENOTFOUND);
  airs_net_req nreq;
  SEEN(airs_net_req_init(&nreq, AIRS_MSG_NET_RESOLVE));
  std::snprintf(nreq.host, sizeof nreq.host, "127.0.0.1");
  SEEN_OR(airs_net_request(ctx, &nreq, 200, &corr), AIRS_ENOTFOUND);
  airs_proc_spawn sp;
  SEEN(airs_proc_spawn_init(&sp));
  sp.path = "/bin/true";
  sp.kill_grace_ms = 0;
  SEEN_OR(airs_proc_spawn_request(ctx, &sp, 200, &corr), AIRS_ENOTFOUND);
  return AIRS_OK;
}

const airs_behaviour kOslClient = {AIRS_BEHAVIOUR_VERSION,
                                   sizeof(airs_behaviour),
                                   nullptr,
                                   osl_client_receive,
                                   nullptr,
                                   nullptr,
                                   nullptr};

void remove_files() {
  char path[96];
  for (const char* name : {"f", "g"}) {
    std::snprintf(path, sizeof path, "%s/%s", g_dir, name);
    unlink(path);
  }
  std::snprintf(path, sizeof path, "%s/d", g_dir);
  rmdir(path);
}

void scenario_osl() {
  airs_runtime* rt = host_runtime();
  if (!rt) return;
  airs_osl_opts o;
  SEEN(airs_osl_opts_init(&o));
  o.intensity = 100;  // a child that ran out of memory may restart
  airs_pid sup = 0;
  if (SEEN(airs_osl_start(rt, &o, &sup))) {
    // Each step may find what an earlier one failed to do: no file
    // (AIRS_EOS), or an actor that has not come back yet (ENOTFOUND,
    // ETIMEDOUT, EEXITED).
    static const FsStep kSteps[] = {
        {AIRS_MSG_FS_WRITE, "f", nullptr, "bytes", 0},
        {AIRS_MSG_FS_APPEND, "f", nullptr, " and more", 0},
        {AIRS_MSG_FS_READ, "f", nullptr, nullptr, 0},
        {AIRS_MSG_FS_STAT, "f", nullptr, nullptr, 0},
        {AIRS_MSG_FS_RENAME, "f", "g", nullptr, 0},
        {AIRS_MSG_FS_MKDIR, "d", nullptr, nullptr, 0},
        {AIRS_MSG_FS_LIST, nullptr, nullptr, nullptr, 0},
        {AIRS_MSG_FS_OPEN, "g", nullptr, nullptr,
         AIRS_FS_OPEN_READ | AIRS_FS_OPEN_WRITE},
        {AIRS_MSG_FS_RMDIR, "d", nullptr, nullptr, 0},
        {AIRS_MSG_FS_DELETE, "g", nullptr, nullptr, 0}};
    for (const FsStep& step : kSteps) {
      airs_status st = fs_call(rt, step, 0);
      if (st != AIRS_EOS && st != AIRS_ENOTFOUND && st != AIRS_ETIMEDOUT &&
          st != AIRS_EEXITED)
        SEEN(st);
    }
    // A request built on its own (as a binding would, to send it itself).
    airs_fs_req req;
    SEEN(airs_fs_req_init(&req));
    req.type = AIRS_MSG_FS_WRITE;
    req.path = g_dir;
    req.data = g_bytes;
    req.data_size = 16;
    airs_msg* m = nullptr;
    if (SEEN(airs_fs_req_new(&req, &m))) airs_msg_free(m);
    airs_pid client = 0;
    if (SEEN(spawn_counted(rt, nullptr, &kOslClient, nullptr, &client)) &&
        SEEN(airs_send(rt, client, kWork, nullptr, 0)))
      wait_jobs(rt);
    poll_all(rt);
  }
  airs_runtime_free(rt);
  remove_files();
}

}  // namespace

TEST_CASE("out of memory at each allocation: the fs actor of the OSL") {
  std::snprintf(g_dir, sizeof g_dir, "/tmp/airs-oom-XXXXXX");
  REQUIRE(mkdtemp(g_dir) != nullptr);
  int runs = every_allocation(scenario_osl);
  rmdir(g_dir);
  MESSAGE("runs: " << runs);
  CHECK(runs > 10);
}

// ---- 9. the system actors (OSL): OS processes and the network actor ---------

namespace {

// The status of a call to a system actor whose reply is read with
// `read` (the reply is freed), or the call's own. A step may find what an
// earlier one failed to do (see scenario 8): those statuses are let pass.
template <class Read>
void osl_call(airs_runtime* rt, airs_pid to, airs_msg* req, Read read) {
  airs_msg* reply = nullptr;
  airs_status st = airs_call(rt, to, req, 200, &reply);
  if (st == AIRS_OK) {
    airs_osl_result res;
    st = airs_osl_result_get(reply, &res);
    if (st == AIRS_OK) st = static_cast<airs_status>(res.status);
    if (st == AIRS_OK) st = read(reply);
    airs_msg_free(reply);
  } else if (st != AIRS_ETIMEDOUT && st != AIRS_EEXITED) {
    airs_msg_free(req);  // not sent: still ours
  }
  if (st != AIRS_EOS && st != AIRS_ENOTFOUND && st != AIRS_ETIMEDOUT &&
      st != AIRS_EEXITED && st != AIRS_ENOPROC)
    SEEN(st);
}

void scenario_osl_proc_net() {
  airs_runtime* rt = host_runtime();
  if (!rt) return;
  airs_osl_opts o;
  SEEN(airs_osl_opts_init(&o));
  o.intensity = 100;
  airs_pid sup = 0, owner = 0, proc = 0, net = 0;
  if (SEEN(airs_osl_start(rt, &o, &sup)) &&
      SEEN(spawn_counted(rt, nullptr, &kWatcher, nullptr, &owner))) {
    SEEN_OR(airs_whereis(rt, AIRS_OSL_PROC_NAME, &proc), AIRS_ENOTFOUND);
    SEEN_OR(airs_whereis(rt, AIRS_OSL_NET_NAME, &net), AIRS_ENOTFOUND);
    // A cat owned by `owner` (which gets its output): written to through
    // its port, its stdin closed, then waited for.
    airs_proc_spawn sp;
    SEEN(airs_proc_spawn_init(&sp));
    sp.path = "/bin/cat";
    sp.flags = AIRS_PROC_STDIN_PIPE;
    sp.owner = owner;
    airs_proc_spawned child = {0, 0};
    airs_osl_result res;
    airs_status st = airs_proc_spawn_call(rt, &sp, 200, &child, &res);
    if (st != AIRS_ENOTFOUND && st != AIRS_ETIMEDOUT && st != AIRS_EEXITED &&
        SEEN(st) && res.status != AIRS_ENOMEM)
      SEEN(static_cast<airs_status>(res.status));
    airs_msg* m = nullptr;
    auto ok = [](const airs_msg*) { return AIRS_OK; };
    if (child.port && SEEN(airs_proc_req_write("cat me\n", 7, &m)))
      osl_call(rt, child.port, m, ok);
    if (child.port && SEEN(airs_proc_req_close_stdin(&m)))
      osl_call(rt, child.port, m, ok);
    if (child.port && SEEN(airs_proc_req_wait(150, &m)))
      osl_call(rt, child.port, m, [](const airs_msg* r) {
        airs_proc_exit e;
        return airs_proc_exit_get(r, &e);
      });
    // The other requests a port takes, and a SPAWN, built and freed.
    if (SEEN(airs_proc_req_spawn(&sp, &m))) airs_msg_free(m);
    if (SEEN(airs_proc_req_signal(15, AIRS_PROC_SIGNAL_CHILD, &m)))
      airs_msg_free(m);
    if (SEEN(airs_proc_req_terminate(&m))) airs_msg_free(m);
    // A watch of this test's own process for `owner` (it outlives the
    // run: the watcher ends with its owner).
    if (proc && SEEN(airs_proc_req_watch(getpid(), owner, &m)))
      osl_call(rt, proc, m, ok);
    // The network actor: a resolve (numeric: no DNS) and a listener
    // owned by `owner`.
    airs_net_req req;
    for (uint64_t type : {AIRS_MSG_NET_RESOLVE, AIRS_MSG_NET_LISTEN}) {
      SEEN(airs_net_req_init(&req, type));
      req.owner = owner;
      SEEN(airs_addr_parse("127.0.0.1:0", &req.addr));
      std::snprintf(req.host, sizeof req.host, "127.0.0.1");
      airs_msg* reply = nullptr;
      st = airs_net_call(rt, &req, 200, &reply);
      if (st == AIRS_OK) {
        airs_net_reply r;
        st = airs_net_reply_get(reply, &r);
        if (st == AIRS_OK && airs_osl_result_get(reply, &res) == AIRS_OK)
          st = static_cast<airs_status>(res.status);
        airs_msg_free(reply);
      }
      if (st != AIRS_ENOTFOUND && st != AIRS_ETIMEDOUT && st != AIRS_EEXITED)
        SEEN(st);
    }
    poll_all(rt);
  }
  airs_runtime_free(rt);
}

}  // namespace

TEST_CASE("out of memory at each allocation: the proc and net actors") {
  int runs = every_allocation(scenario_osl_proc_net);
  MESSAGE("runs: " << runs);
  CHECK(runs > 10);
}
