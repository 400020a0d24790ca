// test_timers.cpp - airs_send_after and airs_cancel_timer through the C
// API, driven by the manual clock (host-driven and threaded), plus a short
// real-clock check; dead letters of timers, ordering, next_timer_ms.
#include "../rt_helpers.hpp"

using namespace rt_test;

namespace {

constexpr uint64_t kTick = 1;
constexpr uint64_t kGo = 2;

const Keys kManualHost = {{AIRS_CFG_WORKERS, 0}, {AIRS_CFG_MANUAL_CLOCK, 1}};

airs_msg* msg(uint64_t type, const std::string& s = "") {
  airs_msg* m = nullptr;
  REQUIRE(airs_msg_new(type, s.data(), s.size(), &m) == AIRS_OK);
  return m;
}

airs_msg* owned_msg(uint64_t type) {
  airs_msg* m = nullptr;
  REQUIRE(airs_msg_new_owned(type, ::operator new(16), 16, counting_free, &m) ==
          AIRS_OK);
  return m;
}

int64_t next_ms(airs_runtime* rt) {
  int64_t ms = 12345;
  REQUIRE(airs_runtime_next_timer_ms(rt, &ms) == AIRS_OK);
  return ms;
}

}  // namespace

TEST_CASE("send_after delivers after the delay (manual clock, host-driven)") {
  Actor a;
  Runtime rt(kManualHost);
  airs_pid pid = spawn(rt, a);
  CHECK(next_ms(rt) == -1);
  uint64_t id = 0;
  REQUIRE(airs_send_after(rt, pid, 100, msg(kTick, "later"), &id) == AIRS_OK);
  CHECK(id != 0);
  CHECK(next_ms(rt) == 100);
  poll_all(rt);
  CHECK(a.received == 0);
  REQUIRE(airs_runtime_advance_time(rt, 99) == AIRS_OK);
  CHECK(next_ms(rt) == 1);
  poll_all(rt);
  CHECK(a.received == 0);
  REQUIRE(airs_runtime_advance_time(rt, 1) == AIRS_OK);
  CHECK(next_ms(rt) == 0);  // due now
  CHECK(a.received == 0);   // fires at the next poll
  poll_all(rt);
  auto msgs = a.messages();
  REQUIRE(msgs.size() == 1);
  CHECK(msgs[0].type == kTick);
  CHECK(msgs[0].data == "later");
  CHECK(msgs[0].sender == AIRS_NO_PID);  // set from outside
  CHECK(next_ms(rt) == -1);
  // A zero delay fires at the next poll.
  REQUIRE(airs_send_after(rt, pid, 0, msg(kTick), nullptr) == AIRS_OK);
  CHECK(next_ms(rt) == 0);
  poll_all(rt);
  CHECK(a.received == 2);
}

TEST_CASE("send_after on a threaded runtime with a manual clock") {
  Actor a;
  Runtime rt({{AIRS_CFG_WORKERS, 2}, {AIRS_CFG_MANUAL_CLOCK, 1}});
  airs_pid pid = spawn(rt, a);
  REQUIRE(airs_send_after(rt, pid, 50, msg(kTick, "a"), nullptr) == AIRS_OK);
  REQUIRE(airs_send_after(rt, pid, 80, msg(kTick, "b"), nullptr) == AIRS_OK);
  // Real time passing does not move a manual clock.
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  CHECK(a.received == 0);
  REQUIRE(airs_runtime_advance_time(rt, 50) == AIRS_OK);
  REQUIRE(wait_until([&] { return a.received == 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(a.received == 1);
  CHECK(next_ms(rt) == 30);
  REQUIRE(airs_runtime_advance_time(rt, 30) == AIRS_OK);
  REQUIRE(wait_until([&] { return a.received == 2; }));
  auto msgs = a.messages();
  CHECK(msgs[0].data == "a");
  CHECK(msgs[1].data == "b");
}

TEST_CASE("send_after with the real clock") {
  Actor a;
  SUBCASE("host-driven") {
    Runtime rt({{AIRS_CFG_WORKERS, 0}});
    airs_pid pid = spawn(rt, a);
    auto t0 = std::chrono::steady_clock::now();
    REQUIRE(airs_send_after(rt, pid, 30, msg(kTick), nullptr) == AIRS_OK);
    int64_t ms = next_ms(rt);
    CHECK(ms > 0);
    CHECK(ms <= 30);
    // A host loop: poll, then sleep until the next timer is due.
    int polls = 0;
    while (a.received == 0 &&
           std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2)) {
      REQUIRE(airs_runtime_poll(rt, 16, nullptr) == AIRS_OK);
      polls++;
      int64_t due = next_ms(rt);
      if (due > 0) std::this_thread::sleep_for(std::chrono::milliseconds(due));
    }
    CHECK(polls < 100);  // it slept rather than spun
    CHECK(a.received == 1);
    CHECK(std::chrono::steady_clock::now() - t0 >=
          std::chrono::milliseconds(29));
  }
  SUBCASE("threaded") {
    Runtime rt({{AIRS_CFG_WORKERS, 2}});
    airs_pid pid = spawn(rt, a);
    auto t0 = std::chrono::steady_clock::now();
    REQUIRE(airs_send_after(rt, pid, 30, msg(kTick), nullptr) == AIRS_OK);
    REQUIRE(wait_until([&] { return a.received == 1; }, 2000));
    CHECK(std::chrono::steady_clock::now() - t0 >=
          std::chrono::milliseconds(29));
    CHECK(airs_runtime_advance_time(rt, 10) == AIRS_ESTATE);  // not manual
  }
}

TEST_CASE("a cancelled timer never fires and its message is freed") {
  Actor a;
  Runtime rt(kManualHost);
  airs_pid pid = spawn(rt, a);
  int before = g_owned_frees;
  uint64_t id = 0, keep = 0;
  REQUIRE(airs_send_after(rt, pid, 10, owned_msg(kTick), &id) == AIRS_OK);
  REQUIRE(airs_send_after(rt, pid, 50, msg(kGo), &keep) == AIRS_OK);
  CHECK(id != keep);
  CHECK(next_ms(rt) == 10);
  CHECK(airs_cancel_timer(rt, id) == AIRS_OK);
  CHECK(g_owned_frees == before + 1);
  CHECK(next_ms(rt) == 50);  // a cancelled timer is no longer next
  CHECK(airs_cancel_timer(rt, id) == AIRS_ENOTFOUND);
  REQUIRE(airs_runtime_advance_time(rt, 100) == AIRS_OK);
  poll_all(rt);
  CHECK(a.types() == std::vector<uint64_t>{kGo});
  CHECK(g_owned_frees == before + 1);
  CHECK(airs_cancel_timer(rt, 0) == AIRS_ENOTFOUND);
  CHECK(airs_cancel_timer(rt, 987654) == AIRS_ENOTFOUND);
}

TEST_CASE("cancelling a timer that fired gives AIRS_ENOTFOUND") {
  Actor a;
  Runtime rt(kManualHost);
  airs_pid pid = spawn(rt, a);
  uint64_t id = 0;
  REQUIRE(airs_send_after(rt, pid, 5, msg(kTick), &id) == AIRS_OK);
  REQUIRE(airs_runtime_advance_time(rt, 5) == AIRS_OK);
  poll_all(rt);
  REQUIRE(a.received == 1);
  CHECK(airs_cancel_timer(rt, id) == AIRS_ENOTFOUND);
}

TEST_CASE("a timer for a process that died goes to the dead-letter hook") {
  DeadLetters dl;
  Actor a;
  Runtime rt(kManualHost);
  dl.install(rt);
  airs_pid pid = spawn(rt, a);
  int before = g_owned_frees;
  REQUIRE(airs_send_after(rt, pid, 20, owned_msg(kTick), nullptr) == AIRS_OK);
  REQUIRE(airs_kill(rt, pid) == AIRS_OK);
  poll_all(rt);
  REQUIRE_FALSE(airs_is_alive(rt, pid));
  CHECK(dl.size() == 0);
  REQUIRE(airs_runtime_advance_time(rt, 20) == AIRS_OK);
  poll_all(rt);
  auto letters = dl.get();
  REQUIRE(letters.size() == 1);
  CHECK(letters[0].reason == AIRS_DEAD_LETTER_TIMER);
  CHECK(letters[0].to == pid);
  CHECK(letters[0].type == kTick);
  CHECK(g_owned_frees == before + 1);
  CHECK(a.received == 0);
}

TEST_CASE("a timer for a full mailbox is dropped as a dead letter") {
  DeadLetters dl;
  Actor a;
  Runtime rt(kManualHost);
  dl.install(rt);
  airs_spawn_opts o = opts_of(rt, 0, 1, AIRS_MAILBOX_FAIL);
  airs_pid pid = spawn(rt, a, &o);
  REQUIRE(airs_send(rt, pid, kGo, nullptr, 0) == AIRS_OK);  // now full
  REQUIRE(airs_send_after(rt, pid, 1, msg(kTick), nullptr) == AIRS_OK);
  REQUIRE(airs_runtime_advance_time(rt, 1) == AIRS_OK);
  poll_all(rt);
  auto letters = dl.get();
  REQUIRE(letters.size() == 1);
  CHECK(letters[0].reason == AIRS_DEAD_LETTER_MAILBOX_FULL);
  CHECK(letters[0].to == pid);
  CHECK(a.types() == std::vector<uint64_t>{kGo});
}

TEST_CASE("several timers fire in deadline order") {
  Actor a;
  Runtime rt(kManualHost);
  airs_pid pid = spawn(rt, a);
  // (delay, label); equal deadlines fire in the order they were set.
  const std::vector<std::pair<uint64_t, std::string>> timers = {
      {30, "c"}, {10, "a1"}, {20, "b"}, {10, "a2"}, {40, "d"}, {20, "b2"}};
  for (auto& t : timers)
    REQUIRE(airs_send_after(rt, pid, t.first, msg(kTick, t.second), nullptr) ==
            AIRS_OK);
  CHECK(next_ms(rt) == 10);
  REQUIRE(airs_runtime_advance_time(rt, 25) == AIRS_OK);
  poll_all(rt);
  auto data = [&] {
    std::vector<std::string> d;
    for (auto& m : a.messages()) d.push_back(m.data);
    return d;
  };
  CHECK(data() == std::vector<std::string>{"a1", "a2", "b", "b2"});
  CHECK(next_ms(rt) == 5);
  // One big step fires the rest, still in order.
  REQUIRE(airs_runtime_advance_time(rt, 1000) == AIRS_OK);
  poll_all(rt);
  CHECK(data() == std::vector<std::string>{"a1", "a2", "b", "b2", "c", "d"});
  CHECK(next_ms(rt) == -1);
}

TEST_CASE("timer messages keep sender, priority and correlation") {
  Actor a, b;
  Runtime rt(kManualHost);
  airs_pid bpid = spawn(rt, b);
  std::atomic<uint64_t> id{0};
  a.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg*) {
    airs_msg* m = msg(kTick, "self-timed");
    CHECK(airs_msg_set_correlation(m, 99) == AIRS_OK);
    CHECK(airs_msg_set_priority(m, AIRS_PRIORITY_HIGH) == AIRS_OK);
    uint64_t t = 0;
    airs_status st = airs_send_after(airs_ctx_runtime(ctx), bpid, 5, m, &t);
    id = t;
    return st;
  };
  airs_pid apid = spawn(rt, a);
  REQUIRE(airs_send(rt, apid, kGo, nullptr, 0) == AIRS_OK);
  poll_all(rt);
  REQUIRE(id != 0);
  REQUIRE(airs_send(rt, bpid, kGo, nullptr, 0) == AIRS_OK);
  REQUIRE(airs_runtime_advance_time(rt, 5) == AIRS_OK);
  poll_all(rt);
  auto msgs = b.messages();
  REQUIRE(msgs.size() == 2);
  // The timer fired before b's turn, and high priority went first.
  CHECK(msgs[0].type == kTick);
  CHECK(msgs[0].sender == apid);
  CHECK(msgs[0].correlation == 99);
  CHECK(msgs[0].priority == AIRS_PRIORITY_HIGH);
  CHECK(msgs[1].type == kGo);
}

TEST_CASE("send_after refuses bad arguments and leaves the message") {
  Actor a;
  Runtime rt(kManualHost);
  airs_pid pid = spawn(rt, a);
  int before = g_owned_frees;
  airs_msg* m = owned_msg(kTick);
  uint64_t id = 77;
  CHECK(airs_send_after(rt, pid, (1ull << 40) + 1, m, &id) == AIRS_EINVAL);
  CHECK(airs_send_after(rt, pid, 10, nullptr, &id) == AIRS_EINVAL);
  CHECK(airs_send_after(nullptr, pid, 10, m, &id) == AIRS_EINVAL);
  CHECK(id == 77);
  CHECK(g_owned_frees == before);
  CHECK(next_ms(rt) == -1);
  // The largest delay is fine.
  REQUIRE(airs_send_after(rt, pid, 1ull << 40, m, &id) == AIRS_OK);
  CHECK(next_ms(rt) == static_cast<int64_t>(1ull << 40));
  int64_t ms = 0;
  CHECK(airs_runtime_next_timer_ms(rt, nullptr) == AIRS_EINVAL);
  CHECK(airs_runtime_next_timer_ms(nullptr, &ms) == AIRS_EINVAL);
  // Pending timers are freed with the runtime.
  rt.free();
  CHECK(g_owned_frees == before + 1);
  CHECK(airs_runtime_next_timer_ms(rt, &ms) == AIRS_ESTATE);
}

TEST_CASE("send_after while the runtime shuts down: AIRS_ESTATE") {
  std::atomic<airs_status> st{AIRS_EINTERNAL};
  int before = g_owned_frees;
  Actor a;
  a.on_terminate = [&](Actor&, airs_ctx* ctx, const airs_reason*) {
    airs_msg* m = owned_msg(kTick);
    st = airs_send_after(airs_ctx_runtime(ctx), airs_self(ctx), 1, m, nullptr);
    if (st != AIRS_OK) airs_msg_free(m);
  };
  Runtime rt(kManualHost);
  spawn(rt, a);
  rt.free();
  CHECK(st == AIRS_ESTATE);
  CHECK(g_owned_frees == before + 1);
}

TEST_CASE("a timer whose target's slot was reused goes to the dead letters") {
  DeadLetters dl;
  Actor first, second;
  Runtime rt({{AIRS_CFG_WORKERS, 0},
              {AIRS_CFG_MANUAL_CLOCK, 1},
              {AIRS_CFG_MAX_PROCESSES, 1}});
  dl.install(rt);
  airs_pid p1 = spawn(rt, first);
  REQUIRE(airs_send_after(rt, p1, 10, msg(kTick), nullptr) == AIRS_OK);
  REQUIRE(airs_kill(rt, p1) == AIRS_OK);
  poll_all(rt);
  airs_pid p2 = spawn(rt, second);  // the only slot: p1's
  REQUIRE(test_pid_slot(p2) == test_pid_slot(p1));
  REQUIRE(airs_runtime_advance_time(rt, 10) == AIRS_OK);
  poll_all(rt);
  CHECK(second.received == 0);
  auto letters = dl.get();
  REQUIRE(letters.size() == 1);
  CHECK(letters[0].to == p1);
  CHECK(letters[0].reason == AIRS_DEAD_LETTER_TIMER);
}

TEST_CASE("cancel racing with fire: each timer fires or is cancelled, once") {
  // Real clock, threaded: timers due right now are cancelled while the
  // timer thread fires them.
  constexpr uint32_t kTimers = 2000;
  std::mutex mu;
  std::vector<int> fired(kTimers, 0);
  Actor a;
  a.on_receive = [&](Actor& self, airs_ctx*, const airs_msg* m) {
    {
      std::lock_guard<std::mutex> lock(self.mu);
      self.log.clear();
    }
    std::lock_guard<std::mutex> lock(mu);
    fired[value_of<uint32_t>(m)]++;
    return AIRS_OK;
  };
  Runtime rt({{AIRS_CFG_WORKERS, 2}});
  airs_pid pid = spawn(rt, a);
  std::vector<uint64_t> ids(kTimers);
  for (uint32_t i = 0; i < kTimers; i++) {
    airs_msg* m = nullptr;
    REQUIRE(airs_msg_new(kTick, &i, sizeof i, &m) == AIRS_OK);
    REQUIRE(airs_send_after(rt, pid, i % 3, m, &ids[i]) == AIRS_OK);
  }
  std::vector<airs_status> cancel(kTimers);
  for (uint32_t i = 0; i < kTimers; i++)
    cancel[i] = airs_cancel_timer(rt, ids[i]);
  REQUIRE(wait_until([&] {
    int64_t ms = 0;
    airs_runtime_next_timer_ms(rt, &ms);
    return ms == -1 && stat(rt, pid, AIRS_PSTAT_MAILBOX_DEPTH) == 0;
  }));
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  int wrong = 0, cancelled = 0;
  std::lock_guard<std::mutex> lock(mu);
  for (uint32_t i = 0; i < kTimers; i++) {
    if (cancel[i] == AIRS_OK) cancelled++;
    bool ok = (cancel[i] == AIRS_OK && fired[i] == 0) ||
              (cancel[i] == AIRS_ENOTFOUND && fired[i] == 1);
    if (!ok) wrong++;
  }
  CHECK(wrong == 0);
  MESSAGE("cancelled " << cancelled << " of " << kTimers << " timers");
}
