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
#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "airs/airs.h"
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
