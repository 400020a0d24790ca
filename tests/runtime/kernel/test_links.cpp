// test_links.cpp - exit reasons, links, trap_exit and monitors through the
// C API, with Erlang/OTP semantics: what terminate, a linked trapping
// process and a monitor each see; propagation; kill; noproc; unlink and
// demonitor. The last cases race exits against links on worker threads.
#include <algorithm>
#include <memory>

#include "../rt_helpers.hpp"

using namespace rt_test;

namespace {

constexpr uint64_t kGo = 1;
constexpr uint64_t kDie = 2;
constexpr uint64_t kPing = 3;
constexpr uint64_t kUndo = 4;

// Many processes here trap exits and ignore the shutdown's exit message:
// free kills them after this.
const Keys kHost = {{AIRS_CFG_WORKERS, 0}, {AIRS_CFG_SHUTDOWN_TIMEOUT_MS, 20}};
const Keys kThreaded = {{AIRS_CFG_WORKERS, 4},
                        {AIRS_CFG_SHUTDOWN_TIMEOUT_MS, 20}};

// Links to the pid carried by a kGo message.
void link_on_go(Actor& a) {
  a.on_receive = [](Actor&, airs_ctx* ctx, const airs_msg* m) {
    if (airs_msg_type(m) == kGo) return airs_link(ctx, pid_of(m));
    return AIRS_OK;
  };
}

// Monitors the pid carried by a kGo message; keeps the ref.
struct Watcher : Actor {
  std::atomic<uint64_t> ref{0};
  std::atomic<airs_status> monitor_status{AIRS_EINTERNAL};
  Watcher() {
    on_receive = [this](Actor&, airs_ctx* ctx, const airs_msg* m) {
      if (airs_msg_type(m) == kGo) {
        uint64_t r = 0;
        monitor_status = airs_monitor(ctx, pid_of(m), &r);
        ref = r;
      }
      if (airs_msg_type(m) == kUndo) return airs_demonitor(ctx, ref);
      return AIRS_OK;
    };
  }
};

// Ends as told by a kDie message carrying an airs_exit_kind.
void die_on_kDie(Actor& a, int32_t code = 0, const char* text = nullptr) {
  a.on_receive = [=](Actor&, airs_ctx* ctx, const airs_msg* m) {
    if (airs_msg_type(m) == kDie)
      return airs_exit(ctx, value_of<airs_exit_kind>(m), code, text);
    return AIRS_OK;
  };
}

airs_status send_kind(airs_runtime* rt, airs_pid to, airs_exit_kind k) {
  return airs_send(rt, to, kDie, &k, sizeof k);
}

}  // namespace

TEST_CASE("exit reasons as seen by terminate, a trapping link and a monitor") {
  struct Case {
    const char* name;
    airs_exit_kind kind;
    int32_t code;
    std::string text;
  };
  const Case cases[] = {
      {"normal", AIRS_EXIT_NORMAL, 0, "normal"},
      {"shutdown", AIRS_EXIT_SHUTDOWN, 0, "shutdown"},
      {"killed", AIRS_EXIT_KILLED, 0, "killed"},
      {"error", AIRS_EXIT_ERROR, 17, "out of coffee"},
  };
  for (const Case& c : cases) {
    std::string name = c.name;
    CAPTURE(name);
    Actor target, linked;
    Watcher mon;
    Runtime rt(kHost);
    die_on_kDie(target, c.code, c.code ? c.text.c_str() : nullptr);
    link_on_go(linked);
    airs_pid t = spawn(rt, target);
    airs_spawn_opts trap = opts_of(rt, AIRS_SPAWN_TRAP_EXIT);
    airs_pid l = spawn(rt, linked, &trap);
    airs_pid m = spawn(rt, mon);
    REQUIRE(send_pid(rt, l, kGo, t) == AIRS_OK);
    REQUIRE(send_pid(rt, m, kGo, t) == AIRS_OK);
    poll_all(rt);
    REQUIRE(mon.monitor_status == AIRS_OK);

    // End the target the way each reason comes about.
    switch (c.kind) {
      case AIRS_EXIT_SHUTDOWN: REQUIRE(airs_stop(rt, t) == AIRS_OK); break;
      case AIRS_EXIT_KILLED: REQUIRE(airs_kill(rt, t) == AIRS_OK); break;
      default: REQUIRE(send_kind(rt, t, c.kind) == AIRS_OK); break;
    }
    poll_all(rt);

    CHECK_FALSE(airs_is_alive(rt, t));
    Reason r = target.reason();
    CHECK(r.kind == c.kind);
    CHECK(r.code == c.code);
    CHECK(r.text == c.text);

    CHECK(airs_is_alive(rt, l));  // it traps exits
    auto lm = linked.messages();
    REQUIRE(lm.size() == 2);
    CHECK(lm[1].type == AIRS_MSG_EXIT);
    CHECK(lm[1].sender == t);
    CHECK(lm[1].has_reason);
    CHECK(lm[1].reason.kind == c.kind);
    CHECK(lm[1].reason.code == c.code);
    CHECK(lm[1].reason.text == c.text);

    auto mm = mon.messages();
    REQUIRE(mm.size() == 2);
    CHECK(mm[1].type == AIRS_MSG_DOWN);
    CHECK(mm[1].sender == t);
    CHECK(mm[1].correlation == mon.ref);
    CHECK(mm[1].reason.kind == c.kind);
    CHECK(mm[1].reason.code == c.code);
    CHECK(mm[1].reason.text == c.text);
  }
}

TEST_CASE("an abnormal exit propagates along a chain of links") {
  Actor a, b, c;
  Watcher mon;
  Runtime rt(kHost);
  link_on_go(a);
  link_on_go(b);
  die_on_kDie(c, 5, "c failed");
  airs_pid pa = spawn(rt, a), pb = spawn(rt, b), pc = spawn(rt, c);
  airs_pid pm = spawn(rt, mon);
  REQUIRE(send_pid(rt, pa, kGo, pb) == AIRS_OK);  // a - b
  REQUIRE(send_pid(rt, pb, kGo, pc) == AIRS_OK);  // b - c
  REQUIRE(send_pid(rt, pm, kGo, pa) == AIRS_OK);
  poll_all(rt);

  SUBCASE("an error kills the whole chain with the same reason") {
    REQUIRE(send_kind(rt, pc, AIRS_EXIT_ERROR) == AIRS_OK);
    poll_all(rt);
    for (Actor* x : {&a, &b, &c}) {
      CHECK(x->terms == 1);
      CHECK(x->reason().kind == AIRS_EXIT_ERROR);
      CHECK(x->reason().code == 5);
      CHECK(x->reason().text == "c failed");
    }
    auto mm = mon.messages();
    REQUIRE(mm.size() == 2);
    CHECK(mm[1].type == AIRS_MSG_DOWN);
    CHECK(mm[1].sender == pa);
    CHECK(mm[1].reason.code == 5);
  }
  SUBCASE("shutdown is abnormal too") {
    REQUIRE(airs_stop(rt, pc) == AIRS_OK);
    poll_all(rt);
    for (Actor* x : {&a, &b, &c}) {
      CHECK(x->terms == 1);
      CHECK(x->reason().kind == AIRS_EXIT_SHUTDOWN);
    }
  }
  SUBCASE("a normal exit does not propagate") {
    REQUIRE(send_kind(rt, pc, AIRS_EXIT_NORMAL) == AIRS_OK);
    poll_all(rt);
    CHECK(c.terms == 1);
    CHECK(c.reason().kind == AIRS_EXIT_NORMAL);
    CHECK(airs_is_alive(rt, pb));
    CHECK(airs_is_alive(rt, pa));
    CHECK(b.terms == 0);
    CHECK(a.terms == 0);
    // The link b - c is gone with c; b - a still works.
    REQUIRE(airs_kill(rt, pb) == AIRS_OK);
    poll_all(rt);
    CHECK(a.reason().kind == AIRS_EXIT_KILLED);
    CHECK(mon.types() == std::vector<uint64_t>{kGo, AIRS_MSG_DOWN});
  }
}

TEST_CASE("trap_exit turns exit signals into messages, and back") {
  Actor a;
  Runtime rt(kHost);
  a.on_receive = [](Actor&, airs_ctx* ctx, const airs_msg* m) {
    if (airs_msg_type(m) == kGo) return airs_trap_exit(ctx, true);
    if (airs_msg_type(m) == kUndo) return airs_trap_exit(ctx, false);
    return AIRS_OK;
  };
  airs_pid pid = spawn(rt, a);
  REQUIRE(airs_send(rt, pid, kGo, nullptr, 0) == AIRS_OK);
  REQUIRE(airs_send_exit(rt, pid, AIRS_EXIT_ERROR, 9, "trapped") == AIRS_OK);
  REQUIRE(airs_stop(rt, pid) == AIRS_OK);
  poll_all(rt);
  CHECK(airs_is_alive(rt, pid));
  auto msgs = a.messages();
  REQUIRE(msgs.size() == 3);
  CHECK(msgs[1].type == AIRS_MSG_EXIT);
  CHECK(msgs[1].sender == AIRS_NO_PID);  // sent from outside
  CHECK(msgs[1].reason.kind == AIRS_EXIT_ERROR);
  CHECK(msgs[1].reason.code == 9);
  CHECK(msgs[1].reason.text == "trapped");
  CHECK(msgs[2].type == AIRS_MSG_EXIT);
  CHECK(msgs[2].reason.kind == AIRS_EXIT_SHUTDOWN);

  REQUIRE(airs_send(rt, pid, kUndo, nullptr, 0) == AIRS_OK);
  REQUIRE(airs_send_exit(rt, pid, AIRS_EXIT_ERROR, 10, "fatal") == AIRS_OK);
  poll_all(rt);
  CHECK_FALSE(airs_is_alive(rt, pid));
  CHECK(a.received == 4);
  CHECK(a.reason().code == 10);
  CHECK(airs_send_exit(rt, pid, static_cast<airs_exit_kind>(9), 0, nullptr) ==
        AIRS_EINVAL);
}

TEST_CASE("airs_kill cannot be trapped") {
  Actor a, b;
  Runtime rt(kHost);
  airs_spawn_opts trap = opts_of(rt, AIRS_SPAWN_TRAP_EXIT);
  airs_pid pa = spawn(rt, a, &trap);
  airs_pid pb = spawn(rt, b, &trap);
  REQUIRE(airs_kill(rt, pa) == AIRS_OK);
  // An exit signal with kind killed is the same as airs_kill.
  REQUIRE(airs_send_exit(rt, pb, AIRS_EXIT_KILLED, 0, nullptr) == AIRS_OK);
  poll_all(rt);
  for (Actor* x : {&a, &b}) {
    CHECK(x->received == 0);
    CHECK(x->terms == 1);
    CHECK(x->reason().kind == AIRS_EXIT_KILLED);
  }
}

TEST_CASE("a kill jumps ahead of every waiting message, high priority too") {
  Actor a;
  Runtime rt(kHost);
  airs_pid pid = spawn(rt, a);
  for (int i = 0; i < 3; i++) {
    airs_msg* m = nullptr;
    REQUIRE(airs_msg_new(kPing, nullptr, 0, &m) == AIRS_OK);
    REQUIRE(airs_msg_set_priority(m, AIRS_PRIORITY_HIGH) == AIRS_OK);
    REQUIRE(airs_send_msg(rt, pid, m) == AIRS_OK);
    REQUIRE(airs_send(rt, pid, kGo, nullptr, 0) == AIRS_OK);
  }
  REQUIRE(airs_kill(rt, pid) == AIRS_OK);
  poll_all(rt);
  CHECK(a.received == 0);
  CHECK(a.reason().kind == AIRS_EXIT_KILLED);
}

TEST_CASE("link and monitor, then kill: EXIT and DOWN say killed, not noproc") {
  // Signals from one sender to one receiver keep their order, the kill
  // included: the link and the monitor reach the target before the kill
  // does, so both hear how it ended (OTP: monitor_SUITE, erl_link_SUITE).
  for (bool threaded : {false, true}) {
    CAPTURE(threaded);
    Runtime rt(threaded ? kThreaded : kHost);
    for (int round = 0; round < 50; round++) {
      CAPTURE(round);
      Actor target, killer;
      killer.on_receive = [](Actor&, airs_ctx* ctx, const airs_msg* m) {
        if (airs_msg_type(m) != kGo) return AIRS_OK;
        uint64_t ref = 0;
        airs_status st = airs_monitor(ctx, pid_of(m), &ref);
        if (st == AIRS_OK) st = airs_link(ctx, pid_of(m));
        if (st == AIRS_OK) st = airs_kill(airs_ctx_runtime(ctx), pid_of(m));
        return st;
      };
      airs_spawn_opts trap = opts_of(rt, AIRS_SPAWN_TRAP_EXIT);
      airs_pid t = spawn(rt, target);
      airs_pid k = spawn(rt, killer, &trap);
      REQUIRE(send_pid(rt, k, kGo, t) == AIRS_OK);
      if (threaded)
        REQUIRE(wait_until([&] { return killer.received == 3; }));
      else
        poll_all(rt);
      auto msgs = killer.messages();
      REQUIRE(msgs.size() == 3);
      for (size_t i = 1; i < 3; i++) {
        CAPTURE(i);
        CHECK((msgs[i].type == AIRS_MSG_EXIT || msgs[i].type == AIRS_MSG_DOWN));
        CHECK(msgs[i].sender == t);
        CHECK(msgs[i].reason.kind == AIRS_EXIT_KILLED);
      }
      REQUIRE(airs_kill(rt, k) == AIRS_OK);
      REQUIRE(airs_wait(rt, k, 2000) == AIRS_OK);
      REQUIRE(airs_wait(rt, t, 2000) == AIRS_OK);
    }
  }
}

TEST_CASE("a `killed` exit signal from a killed linked process is trappable") {
  Actor victim, trapper, plain;
  Runtime rt(kHost);
  link_on_go(trapper);
  link_on_go(plain);
  airs_pid v = spawn(rt, victim);
  airs_spawn_opts trap = opts_of(rt, AIRS_SPAWN_TRAP_EXIT);
  airs_pid t = spawn(rt, trapper, &trap);
  airs_pid p = spawn(rt, plain);
  REQUIRE(send_pid(rt, t, kGo, v) == AIRS_OK);
  REQUIRE(send_pid(rt, p, kGo, v) == AIRS_OK);
  poll_all(rt);
  REQUIRE(airs_kill(rt, v) == AIRS_OK);
  poll_all(rt);
  CHECK(victim.reason().kind == AIRS_EXIT_KILLED);
  // The trapping one lives and is told; the other dies with `killed`.
  CHECK(airs_is_alive(rt, t));
  auto msgs = trapper.messages();
  REQUIRE(msgs.size() == 2);
  CHECK(msgs[1].type == AIRS_MSG_EXIT);
  CHECK(msgs[1].sender == v);
  CHECK(msgs[1].reason.kind == AIRS_EXIT_KILLED);
  CHECK_FALSE(airs_is_alive(rt, p));
  CHECK(plain.reason().kind == AIRS_EXIT_KILLED);
}

TEST_CASE("an exit signal `normal`") {
  Actor plain, trapper, self_exit;
  Runtime rt(kHost);
  airs_pid p = spawn(rt, plain);
  airs_spawn_opts trap = opts_of(rt, AIRS_SPAWN_TRAP_EXIT);
  airs_pid t = spawn(rt, trapper, &trap);
  REQUIRE(airs_send_exit(rt, p, AIRS_EXIT_NORMAL, 0, nullptr) == AIRS_OK);
  REQUIRE(airs_send_exit(rt, t, AIRS_EXIT_NORMAL, 0, nullptr) == AIRS_OK);
  REQUIRE(airs_send(rt, p, kPing, nullptr, 0) == AIRS_OK);
  poll_all(rt);
  // ...is ignored by a process that does not trap exits,
  CHECK(airs_is_alive(rt, p));
  CHECK(plain.types() == std::vector<uint64_t>{kPing});
  // ...is a message for one that does,
  CHECK(airs_is_alive(rt, t));
  auto msgs = trapper.messages();
  REQUIRE(msgs.size() == 1);
  CHECK(msgs[0].type == AIRS_MSG_EXIT);
  CHECK(msgs[0].reason.kind == AIRS_EXIT_NORMAL);
  // ...and ends a process that sends it to itself (Erlang's exit(self(),
  // normal)).
  self_exit.on_receive = [](Actor&, airs_ctx* ctx, const airs_msg*) {
    return airs_send_exit(airs_ctx_runtime(ctx), airs_self(ctx),
                          AIRS_EXIT_NORMAL, 0, nullptr);
  };
  airs_pid s = spawn(rt, self_exit);
  REQUIRE(airs_send(rt, s, kPing, nullptr, 0) == AIRS_OK);
  poll_all(rt);
  CHECK_FALSE(airs_is_alive(rt, s));
  CHECK(self_exit.reason().kind == AIRS_EXIT_NORMAL);
}

TEST_CASE("monitoring a dead pid delivers DOWN noproc at once") {
  Actor dead;
  Watcher mon;
  Runtime rt(kHost);
  airs_pid d = spawn(rt, dead);
  REQUIRE(airs_kill(rt, d) == AIRS_OK);
  poll_all(rt);
  airs_pid m = spawn(rt, mon);
  REQUIRE(send_pid(rt, m, kGo, d) == AIRS_OK);
  poll_all(rt);
  CHECK(mon.monitor_status == AIRS_OK);
  auto msgs = mon.messages();
  REQUIRE(msgs.size() == 2);
  CHECK(msgs[1].type == AIRS_MSG_DOWN);
  CHECK(msgs[1].sender == d);
  CHECK(msgs[1].correlation == mon.ref);
  CHECK(msgs[1].reason.kind == AIRS_EXIT_NOPROC);

  // Bad monitors.
  std::vector<airs_status> got;
  Actor bad;
  bad.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg*) {
    uint64_t ref = 0;
    got.push_back(airs_monitor(ctx, airs_self(ctx), &ref));
    got.push_back(airs_monitor(ctx, d, nullptr));
    got.push_back(airs_monitor(ctx, AIRS_NO_PID, &ref));
    got.push_back(
        airs_monitor(ctx, test_pid_make(airs_self(ctx), 3000, 1), &ref));
    got.push_back(airs_demonitor(ctx, 424242));
    return AIRS_OK;
  };
  airs_pid b = spawn(rt, bad);
  REQUIRE(airs_send(rt, b, kPing, nullptr, 0) == AIRS_OK);
  poll_all(rt);
  // As in Erlang: a monitor of self is made (no DOWN ever comes), and a
  // demonitor of a ref that is no monitor is fine.
  CHECK(got == std::vector<airs_status>{AIRS_OK, AIRS_EINVAL, AIRS_ENOPROC,
                                        AIRS_ENOPROC, AIRS_OK});
  CHECK(bad.received == 1);  // no DOWN for refused monitors
}

TEST_CASE("linking to a dead pid gives an exit signal noproc") {
  Actor dead, trapper, plain;
  Runtime rt(kHost);
  std::atomic<airs_status> st_t{AIRS_EINTERNAL}, st_p{AIRS_EINTERNAL};
  trapper.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg* m) {
    if (airs_msg_type(m) == kGo) st_t = airs_link(ctx, pid_of(m));
    return AIRS_OK;
  };
  plain.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg* m) {
    if (airs_msg_type(m) == kGo) st_p = airs_link(ctx, pid_of(m));
    return AIRS_OK;
  };
  airs_pid d = spawn(rt, dead);
  REQUIRE(airs_kill(rt, d) == AIRS_OK);
  poll_all(rt);
  airs_spawn_opts trap = opts_of(rt, AIRS_SPAWN_TRAP_EXIT);
  airs_pid t = spawn(rt, trapper, &trap);
  airs_pid p = spawn(rt, plain);
  REQUIRE(send_pid(rt, t, kGo, d) == AIRS_OK);
  REQUIRE(send_pid(rt, p, kGo, d) == AIRS_OK);
  poll_all(rt);
  CHECK(st_t == AIRS_OK);
  CHECK(st_p == AIRS_OK);
  auto msgs = trapper.messages();
  REQUIRE(msgs.size() == 2);
  CHECK(msgs[1].type == AIRS_MSG_EXIT);
  CHECK(msgs[1].sender == d);
  CHECK(msgs[1].reason.kind == AIRS_EXIT_NOPROC);
  CHECK(airs_is_alive(rt, t));
  // Not trapping: noproc is abnormal, so the process ends.
  CHECK_FALSE(airs_is_alive(rt, p));
  CHECK(plain.reason().kind == AIRS_EXIT_NOPROC);

  // pid 0 and pids that never existed.
  std::vector<airs_status> got;
  Actor bad;
  bad.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg*) {
    got.push_back(airs_link(ctx, AIRS_NO_PID));
    got.push_back(airs_link(ctx, test_pid_make(airs_self(ctx), 2000, 5)));
    got.push_back(airs_link(ctx, airs_self(ctx)));
    return AIRS_OK;
  };
  airs_pid b = spawn(rt, bad);
  REQUIRE(airs_send(rt, b, kPing, nullptr, 0) == AIRS_OK);
  poll_all(rt);
  // Linking to self does nothing, as in Erlang.
  CHECK(got == std::vector<airs_status>{AIRS_ENOPROC, AIRS_ENOPROC, AIRS_OK});
  CHECK(airs_is_alive(rt, b));
}

TEST_CASE("after demonitor, no DOWN arrives") {
  Actor target;
  Watcher mon;
  Runtime rt(kHost);
  airs_pid t = spawn(rt, target);
  airs_pid m = spawn(rt, mon);
  REQUIRE(send_pid(rt, m, kGo, t) == AIRS_OK);
  poll_all(rt);

  SUBCASE("demonitor, then the target dies") {
    REQUIRE(airs_send(rt, m, kUndo, nullptr, 0) == AIRS_OK);
    poll_all(rt);
    REQUIRE(airs_kill(rt, t) == AIRS_OK);
    poll_all(rt);
  }
  SUBCASE("the target dies, then demonitor before the DOWN is handled") {
    // Order the turns: the target ends first, its DOWN queues behind kUndo.
    REQUIRE(airs_kill(rt, t) == AIRS_OK);
    REQUIRE(airs_send(rt, m, kUndo, nullptr, 0) == AIRS_OK);
    uint32_t ran = 0;
    REQUIRE(airs_runtime_poll(rt, 1, &ran) == AIRS_OK);
    REQUIRE(ran == 1);
    REQUIRE_FALSE(airs_is_alive(rt, t));
    poll_all(rt);
  }
  CHECK(mon.types() == std::vector<uint64_t>{kGo, kUndo});
  CHECK(airs_is_alive(rt, m));
  CHECK(mon.terms == 0);  // demonitor succeeded (else receive would fail)
}

TEST_CASE("after unlink, no exit signal arrives") {
  Actor target, trapper, plain;
  Runtime rt(kHost);
  for (Actor* a : {&trapper, &plain})
    a->on_receive = [](Actor&, airs_ctx* ctx, const airs_msg* m) {
      if (airs_msg_type(m) == kGo) return airs_link(ctx, pid_of(m));
      if (airs_msg_type(m) == kUndo) return airs_unlink(ctx, pid_of(m));
      return AIRS_OK;
    };
  die_on_kDie(target, 3, "gone");
  airs_pid t = spawn(rt, target);
  airs_spawn_opts trap = opts_of(rt, AIRS_SPAWN_TRAP_EXIT);
  airs_pid tr = spawn(rt, trapper, &trap);
  airs_pid pl = spawn(rt, plain);
  for (airs_pid x : {tr, pl}) REQUIRE(send_pid(rt, x, kGo, t) == AIRS_OK);
  poll_all(rt);

  SUBCASE("unlink, then the target crashes") {
    for (airs_pid x : {tr, pl}) REQUIRE(send_pid(rt, x, kUndo, t) == AIRS_OK);
    poll_all(rt);
    REQUIRE(send_kind(rt, t, AIRS_EXIT_ERROR) == AIRS_OK);
    poll_all(rt);
  }
  SUBCASE("the target crashes, then unlink before the signal is handled") {
    REQUIRE(send_kind(rt, t, AIRS_EXIT_ERROR) == AIRS_OK);
    for (airs_pid x : {tr, pl}) REQUIRE(send_pid(rt, x, kUndo, t) == AIRS_OK);
    uint32_t ran = 0;
    REQUIRE(airs_runtime_poll(rt, 1, &ran) == AIRS_OK);
    REQUIRE_FALSE(airs_is_alive(rt, t));
    poll_all(rt);
  }
  CHECK(target.reason().kind == AIRS_EXIT_ERROR);
  CHECK(trapper.types() == std::vector<uint64_t>{kGo, kUndo});
  CHECK(airs_is_alive(rt, tr));
  CHECK(airs_is_alive(rt, pl));
  CHECK(plain.terms == 0);
}

TEST_CASE("linking twice is linking once; the link is both ways") {
  Actor a, b;
  Runtime rt(kHost);
  a.on_receive = [](Actor&, airs_ctx* ctx, const airs_msg* m) {
    if (airs_msg_type(m) == kGo) {
      CHECK(airs_link(ctx, pid_of(m)) == AIRS_OK);
      CHECK(airs_link(ctx, pid_of(m)) == AIRS_OK);
    }
    return AIRS_OK;
  };
  airs_spawn_opts trap = opts_of(rt, AIRS_SPAWN_TRAP_EXIT);
  airs_pid pa = spawn(rt, a, &trap);
  airs_pid pb = spawn(rt, b, &trap);
  REQUIRE(send_pid(rt, pa, kGo, pb) == AIRS_OK);
  poll_all(rt);
  // b did not link, but a's link makes b see a's end.
  REQUIRE(airs_send_exit(rt, pa, AIRS_EXIT_KILLED, 0, nullptr) == AIRS_OK);
  poll_all(rt);
  auto msgs = b.messages();
  REQUIRE(msgs.size() == 1);
  CHECK(msgs[0].type == AIRS_MSG_EXIT);
  CHECK(msgs[0].sender == pa);
  CHECK(msgs[0].reason.kind == AIRS_EXIT_KILLED);
}

TEST_CASE("link and monitor calls need their callback") {
  Runtime rt(kHost);
  CHECK(airs_link(nullptr, 1) == AIRS_EINVAL);
  CHECK(airs_unlink(nullptr, 1) == AIRS_EINVAL);
  CHECK(airs_trap_exit(nullptr, true) == AIRS_EINVAL);
  uint64_t ref = 0;
  CHECK(airs_monitor(nullptr, 1, &ref) == AIRS_EINVAL);
  CHECK(airs_demonitor(nullptr, 1) == AIRS_EINVAL);
  CHECK(airs_exit(nullptr, AIRS_EXIT_NORMAL, 0, nullptr) == AIRS_EINVAL);
  // A ctx kept past its callback is refused, not used.
  airs_ctx* saved = nullptr;
  Actor a;
  a.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg*) {
    saved = ctx;
    return AIRS_OK;
  };
  airs_pid pid = spawn(rt, a);
  REQUIRE(airs_send(rt, pid, kPing, nullptr, 0) == AIRS_OK);
  poll_all(rt);
  CHECK(airs_link(saved, pid) == AIRS_ESTATE);
  CHECK(airs_monitor(saved, pid, &ref) == AIRS_ESTATE);
  CHECK(airs_exit(saved, AIRS_EXIT_ERROR, 1, "x") == AIRS_ESTATE);
  CHECK(airs_ctx_send(saved, pid, kPing, nullptr, 0) == AIRS_ESTATE);
  poll_all(rt);
  CHECK(airs_is_alive(rt, pid));
  rt.free();
}

TEST_CASE("two monitors of one process: two DOWNs, each with its ref") {
  Actor target;
  Runtime rt(kHost);
  airs_pid t = spawn(rt, target);
  std::vector<uint64_t> refs;
  Actor mon;
  mon.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg* m) {
    if (airs_msg_type(m) == kGo)
      for (int i = 0; i < 3; i++) {
        uint64_t r = 0;
        CHECK(airs_monitor(ctx, t, &r) == AIRS_OK);
        refs.push_back(r);
      }
    if (airs_msg_type(m) == kUndo) return airs_demonitor(ctx, refs[1]);
    return AIRS_OK;
  };
  airs_pid m = spawn(rt, mon);
  REQUIRE(airs_send(rt, m, kGo, nullptr, 0) == AIRS_OK);
  REQUIRE(airs_send(rt, m, kUndo, nullptr, 0) == AIRS_OK);
  poll_all(rt);
  REQUIRE(refs.size() == 3);
  CHECK(refs[0] != refs[1]);
  CHECK(refs[1] != refs[2]);
  REQUIRE(airs_stop(rt, t) == AIRS_OK);
  poll_all(rt);
  std::vector<uint64_t> got;
  for (auto& r : mon.messages())
    if (r.type == AIRS_MSG_DOWN) {
      got.push_back(r.correlation);
      CHECK(r.reason.kind == AIRS_EXIT_SHUTDOWN);
    }
  std::sort(got.begin(), got.end());
  CHECK(got == std::vector<uint64_t>{refs[0], refs[2]});
}

TEST_CASE("an exit signal sent from a callback names its sender") {
  Actor sender, trapper;
  Runtime rt(kHost);
  airs_spawn_opts trap = opts_of(rt, AIRS_SPAWN_TRAP_EXIT);
  airs_pid t = spawn(rt, trapper, &trap);
  sender.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg*) {
    return airs_send_exit(airs_ctx_runtime(ctx), t, AIRS_EXIT_ERROR, 4, "why");
  };
  airs_pid s = spawn(rt, sender);
  REQUIRE(airs_send(rt, s, kGo, nullptr, 0) == AIRS_OK);
  poll_all(rt);
  auto msgs = trapper.messages();
  REQUIRE(msgs.size() == 1);
  CHECK(msgs[0].type == AIRS_MSG_EXIT);
  CHECK(msgs[0].sender == s);
  CHECK(msgs[0].reason.code == 4);
  CHECK(airs_is_alive(rt, s));  // sending it did not end the sender
}

TEST_CASE("a long error text reaches links and monitors intact") {
  std::string text(5000, 'x');
  text[0] = '<';
  text[4999] = '>';
  Actor target, linked;
  Watcher mon;
  Runtime rt(kHost);
  link_on_go(linked);
  target.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg*) {
    return airs_exit(ctx, AIRS_EXIT_ERROR, -7, text.c_str());
  };
  airs_pid t = spawn(rt, target);
  airs_spawn_opts trap = opts_of(rt, AIRS_SPAWN_TRAP_EXIT);
  airs_pid l = spawn(rt, linked, &trap);
  airs_pid m = spawn(rt, mon);
  REQUIRE(send_pid(rt, l, kGo, t) == AIRS_OK);
  REQUIRE(send_pid(rt, m, kGo, t) == AIRS_OK);
  poll_all(rt);
  REQUIRE(airs_send(rt, t, kPing, nullptr, 0) == AIRS_OK);
  poll_all(rt);
  CHECK(target.reason().text == text);
  CHECK(target.reason().code == -7);
  auto lm = linked.messages();
  REQUIRE(lm.size() == 2);
  CHECK(lm[1].reason.text == text);
  auto mm = mon.messages();
  REQUIRE(mm.size() == 2);
  CHECK(mm[1].reason.text == text);
  CHECK(mm[1].reason.code == -7);
}

TEST_CASE("an exit signal queues behind the mail its sender sent before") {
  for (int workers : {0, 2}) {
    CAPTURE(workers);
    Actor trapper, sender;
    Runtime rt(
        {{AIRS_CFG_WORKERS, workers}, {AIRS_CFG_SHUTDOWN_TIMEOUT_MS, 20}});
    airs_spawn_opts trap = opts_of(rt, AIRS_SPAWN_TRAP_EXIT);
    airs_pid t = spawn(rt, trapper, &trap);
    sender.on_receive = [t](Actor&, airs_ctx* ctx, const airs_msg*) {
      for (int i = 0; i < 100; i++)
        CHECK(airs_ctx_send(ctx, t, kPing, nullptr, 0) == AIRS_OK);
      CHECK(airs_send_exit(airs_ctx_runtime(ctx), t, AIRS_EXIT_ERROR, 1,
                           "after") == AIRS_OK);
      CHECK(airs_stop(airs_ctx_runtime(ctx), t) == AIRS_OK);
      return AIRS_OK;
    };
    airs_pid s = spawn(rt, sender);
    // From outside too: five messages, then the signal.
    for (int i = 0; i < 5; i++)
      REQUIRE(airs_send(rt, t, kPing, nullptr, 0) == AIRS_OK);
    REQUIRE(airs_send_exit(rt, t, AIRS_EXIT_ERROR, 2, "outside") == AIRS_OK);
    REQUIRE(airs_send(rt, s, kGo, nullptr, 0) == AIRS_OK);
    if (workers == 0) poll_all(rt);
    REQUIRE(wait_until([&] { return trapper.received == 108; }));
    std::vector<uint64_t> from_outside, from_sender;
    for (auto& m : trapper.messages())
      (m.sender == s ? from_sender : from_outside).push_back(m.type);
    std::vector<uint64_t> expect_outside(5, kPing);
    expect_outside.push_back(AIRS_MSG_EXIT);
    std::vector<uint64_t> expect_sender(100, kPing);
    expect_sender.push_back(AIRS_MSG_EXIT);
    expect_sender.push_back(AIRS_MSG_EXIT);
    CHECK(from_outside == expect_outside);
    CHECK(from_sender == expect_sender);
  }
}

// ---- on worker threads ----------------------------------------------------

TEST_CASE("linked pairs across workers die together") {
  constexpr int kPairs = 200;
  std::vector<std::unique_ptr<Actor>> parents(kPairs), children(kPairs);
  std::vector<std::atomic<airs_pid>> child_pids(kPairs);
  Runtime rt(kThreaded);
  std::vector<airs_pid> ppids;
  for (int i = 0; i < kPairs; i++) {
    parents[i] = std::make_unique<Actor>();
    children[i] = std::make_unique<Actor>();
    Actor* child = children[i].get();
    auto* slot = &child_pids[i];
    parents[i]->on_receive = [child, slot](Actor&, airs_ctx* ctx,
                                           const airs_msg*) {
      *slot = ctx_spawn(ctx, *child, AIRS_SPAWN_LINK);
      return *slot ? AIRS_OK : AIRS_EINTERNAL;
    };
    ppids.push_back(spawn(rt, *parents[i]));
    REQUIRE(airs_send(rt, ppids.back(), kGo, nullptr, 0) == AIRS_OK);
  }
  REQUIRE(wait_until([&] {
    for (auto& c : child_pids)
      if (!c) return false;
    return true;
  }));
  // Kill the children of even pairs, crash the parents of odd ones.
  for (int i = 0; i < kPairs; i++) {
    if (i % 2 == 0)
      REQUIRE(airs_kill(rt, child_pids[i]) == AIRS_OK);
    else
      REQUIRE(airs_send_exit(rt, ppids[i], AIRS_EXIT_ERROR, i, "odd") ==
              AIRS_OK);
  }
  for (int i = 0; i < kPairs; i++) {
    REQUIRE(airs_wait(rt, ppids[i], 3000) == AIRS_OK);
    REQUIRE(airs_wait(rt, child_pids[i], 3000) == AIRS_OK);
  }
  int wrong = 0;
  for (int i = 0; i < kPairs; i++) {
    Reason pr = parents[i]->reason(), cr = children[i]->reason();
    if (parents[i]->terms != 1 || children[i]->terms != 1) wrong++;
    if (i % 2 == 0 &&
        (cr.kind != AIRS_EXIT_KILLED || pr.kind != AIRS_EXIT_KILLED))
      wrong++;
    if (i % 2 == 1 && (pr.kind != AIRS_EXIT_ERROR || pr.code != i ||
                       cr.kind != AIRS_EXIT_ERROR || cr.code != i))
      wrong++;
  }
  CHECK(wrong == 0);
}

TEST_CASE("a hub crash reaches every linked process and every monitor") {
  constexpr int kN = 300;
  Actor hub;
  die_on_kDie(hub, 77, "hub down");
  std::vector<std::unique_ptr<Actor>> linked(kN);
  std::vector<std::unique_ptr<Watcher>> watchers(kN);
  Runtime rt(kThreaded);
  airs_pid h = spawn(rt, hub);
  std::vector<airs_pid> lp, wp;
  for (int i = 0; i < kN; i++) {
    linked[i] = std::make_unique<Actor>();
    link_on_go(*linked[i]);
    lp.push_back(spawn(rt, *linked[i]));
    watchers[i] = std::make_unique<Watcher>();
    wp.push_back(spawn(rt, *watchers[i]));
    REQUIRE(send_pid(rt, lp.back(), kGo, h) == AIRS_OK);
    REQUIRE(send_pid(rt, wp.back(), kGo, h) == AIRS_OK);
  }
  REQUIRE(wait_until([&] {
    for (int i = 0; i < kN; i++)
      if (linked[i]->received == 0 || watchers[i]->received == 0) return false;
    return true;
  }));
  REQUIRE(send_kind(rt, h, AIRS_EXIT_ERROR) == AIRS_OK);
  for (airs_pid p : lp) REQUIRE(airs_wait(rt, p, 3000) == AIRS_OK);
  REQUIRE(wait_until([&] {
    for (auto& w : watchers)
      if (w->received < 2) return false;
    return true;
  }));
  int wrong = 0;
  for (int i = 0; i < kN; i++) {
    Reason r = linked[i]->reason();
    if (r.kind != AIRS_EXIT_ERROR || r.code != 77 || r.text != "hub down")
      wrong++;
    auto mm = watchers[i]->messages();
    if (mm.size() != 2 || mm[1].type != AIRS_MSG_DOWN || mm[1].sender != h ||
        mm[1].correlation != watchers[i]->ref || mm[1].reason.code != 77)
      wrong++;
  }
  CHECK(wrong == 0);
  // Exactly one DOWN each, even after everything settles.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (auto& w : watchers) CHECK(w->received == 2);
}

TEST_CASE("unlink and demonitor racing with the other side's exit") {
  // Each watcher links to (or monitors) its target, then undoes it on its
  // next turn, while the main thread kills the targets. Whatever the
  // interleaving, nothing may arrive after the undo returned.
  constexpr int kN = 200;
  struct Side : Actor {
    airs_pid target = 0;
    bool use_monitor = false;
    uint64_t ref = 0;
    std::atomic<bool> undone{false};
    std::atomic<int> late{0};
    std::atomic<int> early{0};
  };
  std::vector<std::unique_ptr<Side>> sides(kN);
  std::vector<std::unique_ptr<Actor>> targets(kN);
  Runtime rt(kThreaded);
  std::vector<airs_pid> sp, tp;
  for (int i = 0; i < kN; i++) {
    targets[i] = std::make_unique<Actor>();
    tp.push_back(spawn(rt, *targets[i]));
    sides[i] = std::make_unique<Side>();
    Side* s = sides[i].get();
    s->target = tp.back();
    s->use_monitor = i % 2;
    s->on_receive = [s](Actor&, airs_ctx* ctx, const airs_msg* m) {
      uint64_t t = airs_msg_type(m);
      if (t == kGo) {
        airs_status st = s->use_monitor ? airs_monitor(ctx, s->target, &s->ref)
                                        : airs_link(ctx, s->target);
        if (st != AIRS_OK) return st;
        return airs_ctx_send(ctx, airs_self(ctx), kUndo, nullptr, 0);
      }
      if (t == kUndo) {
        if (s->use_monitor) {
          // ENOTFOUND is fine: the DOWN was handled already.
          airs_status st = airs_demonitor(ctx, s->ref);
          if (st != AIRS_OK && st != AIRS_ENOTFOUND) return st;
        } else {
          airs_status st = airs_unlink(ctx, s->target);
          if (st != AIRS_OK) return st;
        }
        s->undone = true;
        return AIRS_OK;
      }
      if (t == AIRS_MSG_EXIT || t == AIRS_MSG_DOWN) {
        if (s->undone)
          s->late++;
        else
          s->early++;
      }
      return AIRS_OK;
    };
    airs_spawn_opts trap = opts_of(rt, AIRS_SPAWN_TRAP_EXIT);
    sp.push_back(spawn(rt, *s, &trap));
  }
  for (int i = 0; i < kN; i++) {
    REQUIRE(airs_send(rt, sp[i], kGo, nullptr, 0) == AIRS_OK);
    if (i % 3 == 0) std::this_thread::yield();
    REQUIRE(airs_send_exit(rt, tp[i], AIRS_EXIT_ERROR, 1, "race") == AIRS_OK);
  }
  for (airs_pid t : tp) REQUIRE(airs_wait(rt, t, 3000) == AIRS_OK);
  REQUIRE(wait_until([&] {
    for (auto& s : sides)
      if (!s->undone) return false;
    return true;
  }));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  int late = 0, early = 0, more_than_one = 0;
  for (int i = 0; i < kN; i++) {
    late += sides[i]->late;
    early += sides[i]->early;
    if (sides[i]->late + sides[i]->early > 1) more_than_one++;
    CHECK(airs_is_alive(rt, sp[i]));
  }
  CHECK(late == 0);
  CHECK(more_than_one == 0);
  MESSAGE("signals that arrived before the undo: " << early << " of " << kN);
}

TEST_CASE("airs_kill of a busy process succeeds and kills it") {
  // A kill jumps ahead of the mail a process is working through; the call
  // that did it must not report AIRS_ENOPROC.
  constexpr int kRounds = 300;
  Actor busy;
  busy.on_receive = [](Actor& self, airs_ctx*, const airs_msg*) {
    std::lock_guard<std::mutex> lock(self.mu);
    self.log.clear();
    return AIRS_OK;
  };
  Runtime rt({{AIRS_CFG_WORKERS, 2}});
  std::atomic<airs_pid> target{0};
  std::atomic<bool> stop{false};
  std::thread flooder([&] {
    uint64_t depth = 0;
    while (!stop) {
      airs_pid t = target;
      if (!t) continue;
      airs_send(rt, t, kPing, nullptr, 0);
      // Busy, but with a short mailbox: each end drains what is left.
      if (airs_process_stat_get(rt, t, AIRS_PSTAT_MAILBOX_DEPTH, &depth) ==
              AIRS_OK &&
          depth > 200)
        std::this_thread::yield();
    }
  });
  int not_ok = 0, not_killed = 0;
  for (int r = 0; r < kRounds; r++) {
    airs_pid pid = 0;
    if (try_spawn(rt, busy, &pid) != AIRS_OK) break;  // caught below
    target = pid;
    // Kill it while it works through the flood.
    uint64_t handled = 0;
    auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (airs_process_stat_get(rt, pid, AIRS_PSTAT_MSGS_HANDLED, &handled) ==
               AIRS_OK &&
           handled < 10 && std::chrono::steady_clock::now() < limit)
      std::this_thread::yield();
    if (airs_kill(rt, pid) != AIRS_OK) not_ok++;
    if (airs_wait(rt, pid, 2000) != AIRS_OK) break;  // caught below
    if (busy.reason().kind != AIRS_EXIT_KILLED) not_killed++;
  }
  stop = true;
  flooder.join();
  CHECK(not_ok == 0);
  CHECK(not_killed == 0);
  CHECK(busy.terms.load() == kRounds);
}

TEST_CASE("what a process sent before it ended arrives before its EXIT/DOWN") {
  // Erlang's pair ordering includes the exit and down signals: a watcher
  // sees all the mail of a process before it learns of its end.
  constexpr int kRounds = 100;
  constexpr int kMsgs = 200;
  struct Watch : Actor {
    std::atomic<int> data{0};
    std::atomic<int> data_after_end{0};
    std::atomic<int> ends{0};
    std::atomic<bool> ready{false};
  };
  std::vector<std::unique_ptr<Watch>> watchers;
  std::vector<std::unique_ptr<Actor>> talkers;
  Runtime rt(kThreaded);
  for (int r = 0; r < kRounds; r++) {
    watchers.push_back(std::make_unique<Watch>());
    talkers.push_back(std::make_unique<Actor>());
    Watch* w = watchers.back().get();
    Actor* talker = talkers.back().get();
    w->on_receive = [w](Actor& self, airs_ctx* ctx, const airs_msg* m) {
      uint64_t t = airs_msg_type(m);
      if (t == kGo) {
        uint64_t ref = 0;
        airs_pid p = pid_of(m);
        CHECK(airs_link(ctx, p) == AIRS_OK);
        CHECK(airs_monitor(ctx, p, &ref) == AIRS_OK);
        w->ready = true;
      } else if (t == AIRS_MSG_EXIT || t == AIRS_MSG_DOWN) {
        w->ends++;
      } else if (t == kPing) {
        if (w->ends > 0) w->data_after_end++;
        w->data++;
      }
      std::lock_guard<std::mutex> lock(self.mu);
      self.log.clear();
      return AIRS_OK;
    };
    // Many sends in one turn: some are staged and go in at the turn's end.
    talker->on_receive = [](Actor&, airs_ctx* ctx, const airs_msg* m) {
      airs_pid to = pid_of(m);
      for (int i = 0; i < kMsgs; i++)
        CHECK(airs_ctx_send(ctx, to, kPing, nullptr, 0) == AIRS_OK);
      return airs_exit(ctx, AIRS_EXIT_ERROR, 1, "done talking");
    };
    airs_spawn_opts trap = opts_of(rt, AIRS_SPAWN_TRAP_EXIT);
    airs_pid wp = spawn(rt, *w, &trap);
    airs_pid tp = spawn(rt, *talker);
    REQUIRE(send_pid(rt, wp, kGo, tp) == AIRS_OK);
    REQUIRE(wait_until([&] { return w->ready.load(); }));
    REQUIRE(send_pid(rt, tp, kPing, wp) == AIRS_OK);
  }
  REQUIRE(wait_until([&] {
    for (auto& w : watchers)
      if (w->ends < 2) return false;
    return true;
  }));
  int late = 0, missing = 0;
  for (auto& w : watchers) {
    late += w->data_after_end;
    if (w->data != kMsgs) missing++;
  }
  CHECK(late == 0);
  CHECK(missing == 0);
}
