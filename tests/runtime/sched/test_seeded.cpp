// test_seeded.cpp - the seeded deterministic mode (AIRS_CFG_SEED) and its
// trace hook: the config key and its checks, the same seed giving the same
// trace (and the same effects) twice, different seeds giving different
// orders, timers picked among turns, the manual clock it implies, budgets,
// ready timers that are cancelled or left at free, and seeded pool picks.
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "../../trace_text.hpp"
#include "../rt_helpers.hpp"

using namespace rt_test;
using trace_text::local_pid;

namespace {

constexpr uint64_t kHop = 1;

// ---- a workload with choices ----------------------------------------------
// Chatters pass hops to each other until a hop's ttl runs out; timers add
// more hops. Each receive appends "index:ttl " to the run's effects, so a
// run's effects show the order in which things happened.
struct Run;
struct Chatter {
  Run* run;
  uint32_t index;
};
struct Run {
  std::vector<Chatter> chatters;
  std::vector<airs_pid> pids;
  std::string effects;
  std::string trace;
};

airs_status chatter_receive(void* state, airs_ctx* ctx, const airs_msg* m) {
  Chatter* c = static_cast<Chatter*>(state);
  uint32_t ttl = value_of<uint32_t>(m);
  c->run->effects += std::to_string(c->index) + ":" + std::to_string(ttl) + " ";
  if (ttl == 0) return AIRS_OK;
  ttl--;
  size_t n = c->run->pids.size();
  airs_pid next = c->run->pids[(c->index * 7 + ttl) % n];
  return airs_ctx_send(ctx, next, kHop, &ttl, sizeof ttl);
}

const airs_behaviour kChatter = {AIRS_BEHAVIOUR_VERSION,
                                 sizeof(airs_behaviour),
                                 nullptr,
                                 chatter_receive,
                                 nullptr,
                                 nullptr,
                                 nullptr};

airs_runtime* seeded_runtime(int64_t seed) {
  airs_config* cfg = nullptr;
  REQUIRE(airs_config_new(&cfg) == AIRS_OK);
  REQUIRE(airs_config_set(cfg, AIRS_CFG_WORKERS, 0) == AIRS_OK);
  REQUIRE(airs_config_set(cfg, AIRS_CFG_SEED, seed) == AIRS_OK);
  airs_runtime* rt = nullptr;
  REQUIRE(airs_runtime_new(cfg, &rt) == AIRS_OK);
  airs_config_free(cfg);
  return rt;
}

void send_hop(airs_runtime* rt, airs_pid to, uint32_t ttl) {
  REQUIRE(airs_send(rt, to, kHop, &ttl, sizeof ttl) == AIRS_OK);
}

void hop_after(airs_runtime* rt, airs_pid to, uint32_t ttl, uint64_t ms) {
  airs_msg* m = nullptr;
  REQUIRE(airs_msg_new(kHop, &ttl, sizeof ttl, &m) == AIRS_OK);
  REQUIRE(airs_send_after(rt, to, ms, m, nullptr) == AIRS_OK);
}

// Spawns `n` chatters of `run` in `rt`, their pids in run->pids.
void spawn_chatters(airs_runtime* rt, Run* run, uint32_t n) {
  run->chatters.resize(n);  // before any spawn: their states stay put
  for (uint32_t i = 0; i < n; i++) {
    run->chatters[i] = Chatter{run, i};
    airs_pid pid = 0;
    REQUIRE(airs_spawn(rt, &kChatter, &run->chatters[i], nullptr, nullptr,
                       &pid) == AIRS_OK);
    run->pids.push_back(pid);
  }
}

// One run of the workload under `seed`; fills run->trace and ->effects.
void chatter_run(int64_t seed, Run* run, uint32_t budget = 1024) {
  airs_runtime* rt = seeded_runtime(seed);
  REQUIRE(airs_runtime_set_trace_hook(rt, trace_text::record, &run->trace) ==
          AIRS_OK);
  const uint32_t kChatters = 6;
  spawn_chatters(rt, run, kChatters);
  for (uint32_t i = 0; i < kChatters; i++) {
    send_hop(rt, run->pids[i], 4);
    send_hop(rt, run->pids[i], 2);
    hop_after(rt, run->pids[i], 3, i % 2 ? 5 : 10);
  }
  poll_all(rt);
  REQUIRE(airs_runtime_advance_time(rt, 5) == AIRS_OK);
  poll_all(rt);
  REQUIRE(airs_runtime_advance_time(rt, 5) == AIRS_OK);
  for (uint32_t ran = 1; ran;)
    REQUIRE(airs_runtime_poll(rt, budget, &ran) == AIRS_OK);
  airs_runtime_free(rt);
}

std::vector<std::string> kinds_of(const std::string& trace) {
  std::vector<std::string> kinds;
  size_t at = 0;
  while (at < trace.size()) {
    size_t sp = trace.find(' ', at);
    size_t sp2 = trace.find(' ', sp + 1);
    kinds.push_back(trace.substr(sp + 1, sp2 - sp - 1));
    at = trace.find('\n', at) + 1;
  }
  return kinds;
}

}  // namespace

// ---- the config key ---------------------------------------------------------

TEST_CASE("AIRS_CFG_SEED: default 0, takes any 64-bit pattern") {
  airs_config* cfg = nullptr;
  REQUIRE(airs_config_new(&cfg) == AIRS_OK);
  int64_t v = 7;
  CHECK(airs_config_get(cfg, AIRS_CFG_SEED, &v) == AIRS_OK);
  CHECK(v == 0);
  for (int64_t seed : {int64_t{1}, int64_t{-1}, INT64_MIN, INT64_MAX,
                       int64_t{0x123456789ABCDEF}, int64_t{0}}) {
    CAPTURE(seed);
    CHECK(airs_config_set(cfg, AIRS_CFG_SEED, seed) == AIRS_OK);
    CHECK(airs_config_get(cfg, AIRS_CFG_SEED, &v) == AIRS_OK);
    CHECK(v == seed);
  }
  CHECK(airs_config_set(nullptr, AIRS_CFG_SEED, 1) == AIRS_EINVAL);
  CHECK(airs_config_get(cfg, AIRS_CFG_SEED, nullptr) == AIRS_EINVAL);
  airs_config_free(cfg);
}

TEST_CASE("a seed needs host-driven mode: EINVAL with workers") {
  for (int64_t workers : {int64_t{-1}, int64_t{1}, int64_t{4}}) {
    CAPTURE(workers);  // -1: left at its default (the cores, at least 1)
    airs_config* cfg = nullptr;
    REQUIRE(airs_config_new(&cfg) == AIRS_OK);
    REQUIRE(airs_config_set(cfg, AIRS_CFG_SEED, 42) == AIRS_OK);
    if (workers >= 0)
      REQUIRE(airs_config_set(cfg, AIRS_CFG_WORKERS, workers) == AIRS_OK);
    airs_runtime* rt = nullptr;
    CHECK(airs_runtime_new(cfg, &rt) == AIRS_EINVAL);
    CHECK(rt == nullptr);  // untouched on failure
    std::string msg = airs_last_error_message();
    CHECK(msg.find("airs_runtime_new") != std::string::npos);
    CHECK(msg.find("AIRS_CFG_SEED") != std::string::npos);
    CHECK(msg.find("AIRS_CFG_WORKERS") != std::string::npos);
    airs_config_free(cfg);
  }
}

TEST_CASE("seed 0 is off: a host-driven runtime as before, no trace hook") {
  Runtime rt({{AIRS_CFG_WORKERS, 0}, {AIRS_CFG_SEED, 0}});
  std::string trace;
  CHECK(airs_runtime_set_trace_hook(rt, trace_text::record, &trace) ==
        AIRS_ESTATE);
  CHECK(std::string(airs_last_error_message()).find("no seed") !=
        std::string::npos);
  // The clock is the real one: advancing it is refused.
  CHECK(airs_runtime_advance_time(rt, 1) == AIRS_ESTATE);
}

TEST_CASE("airs_runtime_set_trace_hook: bad arguments") {
  std::string trace;
  CHECK(airs_runtime_set_trace_hook(nullptr, trace_text::record, &trace) ==
        AIRS_EINVAL);
  SUBCASE("a threaded runtime has no seed") {
    Runtime rt({{AIRS_CFG_WORKERS, 1}});
    CHECK(airs_runtime_set_trace_hook(rt, trace_text::record, &trace) ==
          AIRS_ESTATE);
  }
  SUBCASE("a freed runtime") {
    airs_runtime* rt = seeded_runtime(3);
    airs_runtime_free(rt);
    CHECK(airs_runtime_set_trace_hook(rt, trace_text::record, &trace) ==
          AIRS_ESTATE);
  }
  CHECK(trace.empty());
}

// ---- replay
// ------------------------------------------------------------------

TEST_CASE("the same seed gives the same trace and the same effects") {
  for (int64_t seed : {int64_t{1}, int64_t{2}, int64_t{-7}, INT64_MAX}) {
    CAPTURE(seed);
    Run a, b;
    chatter_run(seed, &a);
    chatter_run(seed, &b);
    CHECK(!a.trace.empty());
    CHECK(a.trace == b.trace);
    CHECK(a.effects == b.effects);
    // Every hop was handled: 6 x (5 + 3 + 4) receives.
    CHECK(kinds_of(a.trace).size() > 0);
    size_t receives = 0;
    for (char ch : a.effects) receives += ch == ' ';
    CHECK(receives == 6 * 12);
  }
}

TEST_CASE("the trace does not depend on the poll's budget") {
  // Steps are picked one at a time, so polling 1 step at a time or 1024
  // gives the same run.
  Run a, b;
  chatter_run(5, &a, 1);
  chatter_run(5, &b, 1024);
  CHECK(a.trace == b.trace);
  CHECK(a.effects == b.effects);
}

TEST_CASE("different seeds give different orders") {
  std::set<std::string> traces, effects;
  const int kSeeds = 32;
  for (int64_t seed = 1; seed <= kSeeds; seed++) {
    Run r;
    chatter_run(seed, &r);
    traces.insert(r.trace);
    effects.insert(r.effects);
  }
  // Hundreds of steps with several choices each: two seeds agreeing on all
  // of them would be a broken generator.
  CHECK(traces.size() == kSeeds);
  CHECK(effects.size() == kSeeds);
}

TEST_CASE("due timers are picked among turns, not all first") {
  // Four processes with mail and four due timers at the first poll: some
  // seed fires a timer first, some runs a turn first, and some fires a
  // timer after a turn.
  bool timer_first = false, turn_first = false, timer_after_turn = false;
  for (int64_t seed = 1; seed <= 64; seed++) {
    airs_runtime* rt = seeded_runtime(seed);
    std::string trace;
    REQUIRE(airs_runtime_set_trace_hook(rt, trace_text::record, &trace) ==
            AIRS_OK);
    Run run;  // chatters with a ttl of 0 only receive
    spawn_chatters(rt, &run, 4);
    for (airs_pid pid : run.pids) {
      send_hop(rt, pid, 0);
      hop_after(rt, pid, 0, 1);
    }
    REQUIRE(airs_runtime_advance_time(rt, 1) == AIRS_OK);
    poll_all(rt);
    std::vector<std::string> kinds = kinds_of(trace);
    REQUIRE(kinds.size() >= 8);
    if (kinds[0] == "timer") timer_first = true;
    if (kinds[0] == "turn") turn_first = true;
    for (size_t i = 1; i < kinds.size(); i++)
      if (kinds[i] == "timer" && kinds[i - 1] == "turn")
        timer_after_turn = true;
    airs_runtime_free(rt);
  }
  CHECK(timer_first);
  CHECK(turn_first);
  CHECK(timer_after_turn);
}

TEST_CASE("a trace names the pid of each turn and the id of each timer") {
  airs_runtime* rt = seeded_runtime(11);
  std::vector<airs_trace_step> steps;
  auto keep = [](void* ud, const airs_trace_step* s) {
    static_cast<std::vector<airs_trace_step>*>(ud)->push_back(*s);
  };
  REQUIRE(airs_runtime_set_trace_hook(rt, keep, &steps) == AIRS_OK);
  Run run;
  spawn_chatters(rt, &run, 1);
  airs_pid pid = run.pids[0];
  airs_msg* m = nullptr;
  uint32_t zero = 0;
  REQUIRE(airs_msg_new(kHop, &zero, sizeof zero, &m) == AIRS_OK);
  uint64_t timer = 0;
  REQUIRE(airs_send_after(rt, pid, 3, m, &timer) == AIRS_OK);
  send_hop(rt, pid, 0);
  send_hop(rt, pid, 0);
  poll_all(rt);
  REQUIRE(airs_runtime_advance_time(rt, 3) == AIRS_OK);
  poll_all(rt);
  REQUIRE(steps.size() == 3);  // a turn of 2, the timer, a turn of 1
  CHECK(steps[0].version == AIRS_TRACE_STEP_VERSION);
  CHECK(steps[0].size == sizeof(airs_trace_step));
  CHECK(steps[0].index == 0);
  CHECK(steps[0].kind == AIRS_TRACE_TURN);
  CHECK(steps[0].pid == pid);
  CHECK(steps[0].received == 2);
  CHECK(steps[0].cost == 2);
  CHECK(steps[0].choices == 1);
  CHECK(steps[0].timer_id == 0);
  CHECK(steps[1].index == 1);
  CHECK(steps[1].kind == AIRS_TRACE_TIMER);
  CHECK(steps[1].pid == pid);
  CHECK(steps[1].timer_id == timer);
  CHECK(steps[2].index == 2);
  CHECK(steps[2].kind == AIRS_TRACE_TURN);
  CHECK(steps[2].received == 1);
  // Removing the hook stops the calls.
  REQUIRE(airs_runtime_set_trace_hook(rt, nullptr, nullptr) == AIRS_OK);
  send_hop(rt, pid, 0);
  CHECK(poll_all(rt) == 1);
  CHECK(steps.size() == 3);
  CHECK(local_pid(pid) == (pid & 0xFFFFFFFFFFFFull));
  airs_runtime_free(rt);
}

TEST_CASE("the trace hook may not poll") {
  airs_runtime* rt = seeded_runtime(4);
  struct Seen {
    airs_runtime* rt;
    int calls = 0;
    airs_status nested = AIRS_OK;
  } seen{rt};
  auto hook = [](void* ud, const airs_trace_step*) {
    Seen* s = static_cast<Seen*>(ud);
    s->calls++;
    uint32_t ran = 9;
    s->nested = airs_runtime_poll(s->rt, 10, &ran);
  };
  REQUIRE(airs_runtime_set_trace_hook(rt, hook, &seen) == AIRS_OK);
  Run run;
  spawn_chatters(rt, &run, 1);
  airs_pid pid = run.pids[0];
  send_hop(rt, pid, 0);
  poll_all(rt);
  CHECK(seen.calls == 1);
  CHECK(seen.nested == AIRS_ESTATE);
  airs_runtime_free(rt);
}

// ---- the clock, budgets and ready timers ------------------------------------

TEST_CASE("a seed makes the clock manual") {
  airs_runtime* rt = seeded_runtime(8);
  int64_t v = -1;
  Run run;
  spawn_chatters(rt, &run, 1);
  airs_pid pid = run.pids[0];
  hop_after(rt, pid, 0, 10);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(poll_all(rt) == 0);  // real time passed; the runtime's did not
  CHECK(airs_runtime_next_timer_ms(rt, &v) == AIRS_OK);
  CHECK(v == 10);
  REQUIRE(airs_runtime_advance_time(rt, 10) == AIRS_OK);
  CHECK(airs_runtime_next_timer_ms(rt, &v) == AIRS_OK);
  CHECK(v == 0);
  CHECK(poll_all(rt) == 2);  // the timer, then the turn it caused
  CHECK(run.effects == "0:0 ");
  CHECK(airs_runtime_next_timer_ms(rt, &v) == AIRS_OK);
  CHECK(v == -1);
  airs_runtime_free(rt);
}

TEST_CASE("each step counts toward the budget; timers are steps") {
  airs_runtime* rt = seeded_runtime(9);
  Run run;
  spawn_chatters(rt, &run, 1);
  airs_pid pid = run.pids[0];
  for (int i = 0; i < 3; i++) hop_after(rt, pid, 0, 1);
  REQUIRE(airs_runtime_advance_time(rt, 1) == AIRS_OK);
  uint32_t ran = 0;
  CHECK(airs_runtime_poll(rt, 0, &ran) == AIRS_EINVAL);
  uint64_t total = 0;
  for (int i = 0; i < 10; i++) {
    REQUIRE(airs_runtime_poll(rt, 1, &ran) == AIRS_OK);
    CHECK(ran <= 1);
    total += ran;
    if (!ran) break;
  }
  // Three timers and at least one turn (more if a timer came between).
  CHECK(total >= 4);
  CHECK(total <= 6);
  CHECK(run.effects == "0:0 0:0 0:0 ");
  REQUIRE(airs_runtime_poll(rt, 1, &ran) == AIRS_OK);
  CHECK(ran == 0);
  airs_runtime_free(rt);
}

TEST_CASE("a due timer not yet picked can be cancelled, or left at free") {
  airs_runtime* rt = seeded_runtime(10);
  std::string trace;
  REQUIRE(airs_runtime_set_trace_hook(rt, trace_text::record, &trace) ==
          AIRS_OK);
  Run run;
  spawn_chatters(rt, &run, 1);
  airs_pid pid = run.pids[0];
  uint64_t ids[4] = {};
  for (uint64_t& id : ids) {
    airs_msg* m = nullptr;
    uint32_t zero = 0;
    REQUIRE(airs_msg_new(kHop, &zero, sizeof zero, &m) == AIRS_OK);
    REQUIRE(airs_send_after(rt, pid, 2, m, &id) == AIRS_OK);
  }
  REQUIRE(airs_runtime_advance_time(rt, 2) == AIRS_OK);
  uint32_t ran = 0;
  REQUIRE(airs_runtime_poll(rt, 1, &ran) == AIRS_OK);  // one step: a timer
  REQUIRE(ran == 1);
  // The other three are due and wait to be picked: still pending.
  int cancelled = 0;
  for (uint64_t id : ids)
    if (trace.find(" t" + std::to_string(id) + " ") == std::string::npos) {
      if (cancelled++ == 0)
        CHECK(airs_cancel_timer(rt, id) == AIRS_OK);  // the message freed
    }
  CHECK(cancelled == 3);
  int64_t ms = -1;
  CHECK(airs_runtime_next_timer_ms(rt, &ms) == AIRS_OK);
  CHECK(ms == 0);
  // One more step; then free with a due timer still waiting (ASan checks
  // that its message is freed) and maybe a turn queued.
  REQUIRE(airs_runtime_poll(rt, 1, &ran) == AIRS_OK);
  CHECK(ran == 1);
  airs_runtime_free(rt);
  size_t fired = 0;
  for (size_t at = trace.find(" timer "); at != std::string::npos;
       at = trace.find(" timer ", at + 1))
    fired++;
  CHECK(fired <= 3);  // the cancelled one never fires, even at free
}

TEST_CASE("messages of one sender keep their order, whatever the seed") {
  struct Order {
    uint32_t next = 0;
    bool ok = true;
  };
  auto receive = [](void* state, airs_ctx*, const airs_msg* m) {
    Order* o = static_cast<Order*>(state);
    if (value_of<uint32_t>(m) != o->next++) o->ok = false;
    return AIRS_OK;
  };
  const airs_behaviour b = {AIRS_BEHAVIOUR_VERSION,
                            sizeof b,
                            nullptr,
                            receive,
                            nullptr,
                            nullptr,
                            nullptr};
  for (int64_t seed = 1; seed <= 16; seed++) {
    airs_runtime* rt = seeded_runtime(seed);
    Order orders[3];
    airs_pid pids[3];
    for (int i = 0; i < 3; i++)
      REQUIRE(airs_spawn(rt, &b, &orders[i], nullptr, nullptr, &pids[i]) ==
              AIRS_OK);
    for (uint32_t k = 0; k < 200; k++) {
      for (int i = 0; i < 3; i++)
        REQUIRE(airs_send(rt, pids[i], 1, &k, sizeof k) == AIRS_OK);
      if (k % 50 == 0) {
        uint32_t ran;
        REQUIRE(airs_runtime_poll(rt, 2, &ran) == AIRS_OK);
      }
    }
    poll_all(rt);
    for (Order& o : orders) {
      CHECK(o.ok);
      CHECK(o.next == 200);
    }
    airs_runtime_free(rt);
  }
}

TEST_CASE("free runs what is queued through the seeded poll") {
  // Free's own polls pick their steps too: the trace goes on during free,
  // and is the same for the same seed.
  std::string traces[2];
  for (std::string& trace : traces) {
    airs_runtime* rt = seeded_runtime(12);
    REQUIRE(airs_runtime_set_trace_hook(rt, trace_text::record, &trace) ==
            AIRS_OK);
    Run run;
    spawn_chatters(rt, &run, 3);
    for (airs_pid pid : run.pids) send_hop(rt, pid, 3);
    airs_runtime_free(rt);  // nothing polled before
    CHECK(!trace.empty());
  }
  CHECK(traces[0] == traces[1]);
}

TEST_CASE("random pool picks come from the seed") {
  auto picks = [](int64_t seed) {
    airs_runtime* rt = seeded_runtime(seed);
    Run run;
    spawn_chatters(rt, &run, 8);
    for (airs_pid pid : run.pids)
      REQUIRE(airs_pool_join(rt, "p", pid) == AIRS_OK);
    std::string out;
    for (int i = 0; i < 32; i++) {
      airs_pid pid = 0;
      REQUIRE(airs_pool_pick(rt, "p", AIRS_PICK_RANDOM, &pid) == AIRS_OK);
      out += std::to_string(local_pid(pid)) + " ";
    }
    airs_runtime_free(rt);
    return out;
  };
  CHECK(picks(3) == picks(3));
  CHECK(picks(3) != picks(4));
}
