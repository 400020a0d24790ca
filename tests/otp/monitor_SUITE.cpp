// monitor_SUITE.cpp - a hand port of OTP's erts/emulator/test/monitor_SUITE
// (issue 12), one doctest case per OTP case and named after it. Each
// Erlang process of a case is a test actor (Proc) that records what it
// receives; the code an Erlang process runs in sequence runs inside its
// actor as a job (Rt::run). Cases run host-driven (deterministic order)
// and on two workers (concurrent, as OTP runs them). Public C API only.
// CASES.md lists every OTP case: ported or why not.
#include <deque>
#include <map>
#include <set>

#include "otp_proc.hpp"

using namespace rt_test;
using namespace otp_test;

namespace {

// A process whose only behaviour is to end, normal, on its first message:
// many of them cost no Actor each.
airs_status quit_on_message(void*, airs_ctx* ctx, const airs_msg*) {
  return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, nullptr);
}
const airs_behaviour kQuitter = {AIRS_BEHAVIOUR_VERSION,
                                 sizeof(airs_behaviour),
                                 nullptr,
                                 quit_on_message,
                                 nullptr,
                                 nullptr,
                                 nullptr};

}  // namespace

// case_1: A monitors B and B sends A an exit signal, then ends; this once
// crashed the emulator (the monitor's owner dies by the hand of the
// monitored process). The test process traps exits and is linked to A.
// Port: t (trapping) spawns A linked; A spawns B, monitors it and tells
// it to go; B sends A the exit signal `foo` and ends normal. OTP waits
// for any message; the port checks it is A's EXIT with reason foo.
TEST_CASE("case_1" * doctest::timeout(30)) {
  for (bool host : {true, false}) {
    CAPTURE(host);
    Proc t, a, b;
    Rt rt(host);
    b.also = [](Proc&, airs_ctx* ctx, const airs_msg* m) {
      if (airs_msg_type(m) != kGo) return AIRS_OK;
      airs_status st = airs_send_exit(airs_ctx_runtime(ctx), pid_of(m),
                                      AIRS_EXIT_ERROR, kCode, "foo");
      if (st != AIRS_OK) return st;
      return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, nullptr);
    };
    a.also = [&](Proc&, airs_ctx* ctx, const airs_msg* m) {
      if (airs_msg_type(m) != kGo) return AIRS_OK;
      airs_pid pb = ctx_spawn(ctx, b);
      uint64_t ref = 0;
      if (!pb || airs_monitor(ctx, pb, &ref) != AIRS_OK) return AIRS_EINTERNAL;
      airs_pid me = airs_self(ctx);
      return airs_ctx_send(ctx, pb, kGo, &me, sizeof me);
    };
    airs_pid pt = spawn_trapping(rt, t);
    airs_pid pa = 0;
    rt.run(pt, [&](airs_ctx* ctx) {
      pa = ctx_spawn(ctx, a, AIRS_SPAWN_LINK);
      airs_ctx_send(ctx, pa, kGo, nullptr, 0);
    });
    REQUIRE(pa != 0);
    REQUIRE(rt.until([&] { return t.mail().size() >= 1 && b.terms == 1; }));
    auto mail = t.mail();
    REQUIRE(mail.size() == 1);
    CHECK(mail[0].type == AIRS_MSG_EXIT);
    CHECK(mail[0].sender == pa);
    CHECK(mail[0].reason.kind == AIRS_EXIT_ERROR);
    CHECK(mail[0].reason.text == "foo");
    CHECK(b.reason().kind == AIRS_EXIT_NORMAL);
  }
}

// case_1a: case_1 with spawn_monitor. The C API has no spawn_monitor; its
// point (B is watched before it can do anything) holds when A spawns B
// and monitors it in one callback, here A's init, before B is told to go.
TEST_CASE("case_1a" * doctest::timeout(30)) {
  for (bool host : {true, false}) {
    CAPTURE(host);
    Proc t, a, b;
    Rt rt(host);
    b.also = [](Proc&, airs_ctx* ctx, const airs_msg* m) {
      if (airs_msg_type(m) != kGo) return AIRS_OK;
      airs_status st = airs_send_exit(airs_ctx_runtime(ctx), pid_of(m),
                                      AIRS_EXIT_ERROR, kCode, "foo");
      if (st != AIRS_OK) return st;
      return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, nullptr);
    };
    a.on_init = [&](Actor&, airs_ctx* ctx) {
      airs_pid pb = ctx_spawn(ctx, b);
      uint64_t ref = 0;
      if (!pb || airs_monitor(ctx, pb, &ref) != AIRS_OK) return AIRS_EINTERNAL;
      airs_pid me = airs_self(ctx);
      return airs_ctx_send(ctx, pb, kGo, &me, sizeof me);
    };
    airs_pid pt = spawn_trapping(rt, t);
    airs_pid pa = 0;
    rt.run(pt, [&](airs_ctx* ctx) { pa = ctx_spawn(ctx, a, AIRS_SPAWN_LINK); });
    REQUIRE(pa != 0);
    REQUIRE(rt.until([&] { return t.mail().size() >= 1 && b.terms == 1; }));
    auto mail = t.mail();
    REQUIRE(mail.size() == 1);
    CHECK(mail[0].type == AIRS_MSG_EXIT);
    CHECK(mail[0].sender == pa);
    CHECK(mail[0].reason.kind == AIRS_EXIT_ERROR);
    CHECK(mail[0].reason.text == "foo");
    CHECK(b.reason().kind == AIRS_EXIT_NORMAL);
  }
}

namespace {

// y2/1 of case_2: demonitors the ref it is sent (a monitor its sender
// made, not its own), answers with the status, and ends normal.
void demonitor_foreign_ref(Proc& b) {
  b.also = [](Proc&, airs_ctx* ctx, const airs_msg* m) {
    if (airs_msg_type(m) != kRef) return AIRS_OK;
    airs_status st = airs_demonitor(ctx, value_of<uint64_t>(m));
    airs_status sent =
        airs_ctx_send(ctx, airs_msg_sender(m), kResult, &st, sizeof st);
    if (sent != AIRS_OK) return sent;
    return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, nullptr);
  };
}

// What case_2 and case_2a expect of t: B's answer (demonitor of a ref
// that is not B's is fine, and does nothing), then the DOWN of t's own
// monitor of B, normal.
void check_case_2(const Proc& t, uint64_t ref, airs_pid pb) {
  auto mail = t.mail();
  REQUIRE(mail.size() == 2);
  CHECK(mail[0].type == kResult);
  CHECK(mail[0].sender == pb);
  airs_status st = AIRS_EINTERNAL;
  REQUIRE(mail[0].data.size() == sizeof st);
  std::memcpy(&st, mail[0].data.data(), sizeof st);
  CHECK(st == AIRS_OK);
  check_down(mail[1], ref, pb, AIRS_EXIT_NORMAL);
}

}  // namespace

// case_2: A monitors B, and B calls demonitor with A's ref (a ref that is
// not B's); that once crashed the emulator. B answers (true in OTP, the
// status AIRS_OK here) and ends normal; A's monitor must be untouched:
// its DOWN, normal, comes after the answer.
TEST_CASE("case_2" * doctest::timeout(30)) {
  for (bool host : {true, false}) {
    CAPTURE(host);
    Proc t, b;
    Rt rt(host);
    demonitor_foreign_ref(b);
    airs_pid pt = spawn(rt, t), pb = spawn(rt, b);
    uint64_t ref = 0;
    rt.run(pt, [&](airs_ctx* ctx) {
      REQUIRE(airs_monitor(ctx, pb, &ref) == AIRS_OK);
      airs_ctx_send(ctx, pb, kRef, &ref, sizeof ref);
    });
    REQUIRE(rt.until([&] { return t.mail().size() >= 2; }));
    check_case_2(t, ref, pb);
  }
}

// case_2a: case_2 with spawn_monitor; here t spawns B and monitors it in
// one callback (the C API has no spawn_monitor), then sends the ref.
TEST_CASE("case_2a" * doctest::timeout(30)) {
  for (bool host : {true, false}) {
    CAPTURE(host);
    Proc t, b;
    Rt rt(host);
    demonitor_foreign_ref(b);
    airs_pid pt = spawn(rt, t), pb = 0;
    uint64_t ref = 0;
    rt.run(pt, [&](airs_ctx* ctx) {
      pb = ctx_spawn(ctx, b);
      REQUIRE(airs_monitor(ctx, pb, &ref) == AIRS_OK);
      airs_ctx_send(ctx, pb, kRef, &ref, sizeof ref);
    });
    REQUIRE(rt.until([&] { return t.mail().size() >= 2; }));
    check_case_2(t, ref, pb);
  }
}

// mon_e_1: monitor/2 fails on what cannot be monitored (a bad type, a
// list, a remote triple, an integer). In C the type is fixed and nodes do
// not exist; what can be wrong is the pid (0, or one that never existed)
// or the ref pointer. Each is a status, writes no ref, and sends nothing.
TEST_CASE("mon_e_1" * doctest::timeout(30)) {
  Proc t;
  Rt rt(true);
  airs_pid pt = spawn(rt, t);
  rt.run(pt, [&](airs_ctx* ctx) {
    uint64_t ref = 77;
    CHECK(airs_monitor(ctx, AIRS_NO_PID, &ref) == AIRS_ENOPROC);
    // The next generation of t's own slot: a pid that never existed.
    CHECK(airs_monitor(
              ctx,
              test_pid_make(pt, test_pid_slot(pt), test_pid_generation(pt) + 1),
              &ref) == AIRS_ENOPROC);
    // A slot far past any process made.
    CHECK(airs_monitor(ctx, test_pid_make(pt, 0x7fffff0, 1), &ref) ==
          AIRS_ENOPROC);
    CHECK(ref == 77);
    CHECK(airs_monitor(ctx, pt, nullptr) == AIRS_EINVAL);
  });
  rt.settle();
  CHECK(t.mail().empty());
}

// demon_e_1: demonitor/1 of what is not a ref is badarg (no such value in
// C: a ref is a number), of a remote ref too (no nodes); of a ref made by
// the other end of a monitor it is true and does nothing. Port of that
// last part: P2 monitors P0 and sends it the ref; P0's demonitor of it is
// AIRS_OK, and P2's monitor still works: P0's end gives P2 its DOWN.
TEST_CASE("demon_e_1" * doctest::timeout(30)) {
  for (bool host : {true, false}) {
    CAPTURE(host);
    Proc p0, p2;
    Rt rt(host);
    demonitor_foreign_ref(p0);  // answers with the status, then ends normal
    airs_pid pp0 = spawn(rt, p0), pp2 = spawn(rt, p2);
    uint64_t ref = 0;
    rt.run(pp2, [&](airs_ctx* ctx) {
      REQUIRE(airs_monitor(ctx, pp0, &ref) == AIRS_OK);
      airs_ctx_send(ctx, pp0, kRef, &ref, sizeof ref);
    });
    REQUIRE(rt.until([&] { return p2.mail().size() >= 2; }));
    check_case_2(p2, ref, pp0);
  }
}

// demon_1: demonitor/1 of a fresh ref that was never a monitor is true.
// Here: refs no monitor ever had (0, one far ahead of any made, the
// largest) are AIRS_OK, and nothing arrives.
TEST_CASE("demon_1" * doctest::timeout(30)) {
  Proc t;
  Rt rt(true);
  airs_pid pt = spawn(rt, t);
  rt.run(pt, [&](airs_ctx* ctx) {
    CHECK(airs_demonitor(ctx, 0) == AIRS_OK);
    CHECK(airs_demonitor(ctx, 1ull << 40) == AIRS_OK);
    CHECK(airs_demonitor(ctx, ~0ull) == AIRS_OK);
  });
  rt.settle();
  CHECK(t.mail().empty());
  CHECK(airs_is_alive(rt, pt));
}

// mon_1: the DOWN of monitor/2, local. A process that ends soon: DOWN
// normal, or noproc if it was gone first (with spawn_monitor: normal);
// one sent exit(P, frop): DOWN frop; a monitor of a dead process: DOWN
// noproc at once; a monitor by registered name (jeeves): DOWN normal, then
// frop; a name no longer registered: DOWN noproc.
// Port: spawn_monitor is spawn + monitor in one callback. The C API
// monitors pids only: a name is looked up with airs_whereis and its pid
// monitored (the DOWN names the pid, not {Name, Node}); a name that is
// not registered fails the lookup (AIRS_ENOTFOUND) where OTP gives a DOWN
// noproc.
TEST_CASE("mon_1" * doctest::timeout(30)) {
  for (bool host : {true, false}) {
    CAPTURE(host);
    Proc t, p2, p2a, p3, p3a, p5, p6;
    Rt rt(host);
    airs_pid pt = spawn(rt, t);

    // Normal case: p2 is told to end before t monitors it.
    airs_pid pp2 = spawn(rt, p2);
    REQUIRE(airs_send(rt, pp2, kStop, nullptr, 0) == AIRS_OK);
    uint64_t r2 = 0;
    rt.run(pt, [&](airs_ctx* ctx) {
      REQUIRE(airs_monitor(ctx, pp2, &r2) == AIRS_OK);
    });
    REQUIRE(rt.until([&] { return t.mail().size() >= 1; }));
    {
      Received d = t.mail().at(0);
      CHECK(d.type == AIRS_MSG_DOWN);
      CHECK(d.correlation == r2);
      CHECK(d.sender == pp2);
      CHECK((d.reason.kind == AIRS_EXIT_NORMAL ||
             d.reason.kind == AIRS_EXIT_NOPROC));
    }
    // The same with spawn_monitor: watched from the start, so normal.
    airs_pid pp2a = 0;
    uint64_t r2a = 0;
    rt.run(pt, [&](airs_ctx* ctx) {
      pp2a = ctx_spawn(ctx, p2a);
      REQUIRE(airs_monitor(ctx, pp2a, &r2a) == AIRS_OK);
      airs_ctx_send(ctx, pp2a, kStop, nullptr, 0);
    });
    REQUIRE(rt.until([&] { return t.mail().size() >= 2; }));
    check_down(t.mail().at(1), r2a, pp2a, AIRS_EXIT_NORMAL);

    // DOWN with another reason: exit(P3, frop).
    airs_pid pp3 = spawn(rt, p3);
    uint64_t r3 = 0;
    rt.run(pt, [&](airs_ctx* ctx) {
      REQUIRE(airs_monitor(ctx, pp3, &r3) == AIRS_OK);
      REQUIRE(airs_send_exit(airs_ctx_runtime(ctx), pp3, AIRS_EXIT_ERROR, kCode,
                             "frop") == AIRS_OK);
    });
    REQUIRE(rt.until([&] { return t.mail().size() >= 3; }));
    check_down(t.mail().at(2), r3, pp3, AIRS_EXIT_ERROR, "frop");
    airs_pid pp3a = 0;
    uint64_t r3a = 0;
    rt.run(pt, [&](airs_ctx* ctx) {
      pp3a = ctx_spawn(ctx, p3a);
      REQUIRE(airs_monitor(ctx, pp3a, &r3a) == AIRS_OK);
      REQUIRE(airs_send_exit(airs_ctx_runtime(ctx), pp3a, AIRS_EXIT_ERROR,
                             kCode, "frop") == AIRS_OK);
    });
    REQUIRE(rt.until([&] { return t.mail().size() >= 4; }));
    check_down(t.mail().at(3), r3a, pp3a, AIRS_EXIT_ERROR, "frop");

    // A monitor of a dead process: DOWN noproc at once.
    uint64_t r4 = 0;
    rt.run(pt, [&](airs_ctx* ctx) {
      REQUIRE(airs_monitor(ctx, pp3, &r4) == AIRS_OK);
    });
    REQUIRE(rt.until([&] { return t.mail().size() >= 5; }));
    check_down(t.mail().at(4), r4, pp3, AIRS_EXIT_NOPROC);

    // By name: jeeves stops.
    airs_pid pp5 = spawn(rt, p5);
    REQUIRE(airs_register(rt, "jeeves", pp5) == AIRS_OK);
    uint64_t r5 = 0;
    rt.run(pt, [&](airs_ctx* ctx) {
      airs_pid named = 0;
      REQUIRE(airs_whereis(airs_ctx_runtime(ctx), "jeeves", &named) == AIRS_OK);
      REQUIRE(airs_monitor(ctx, named, &r5) == AIRS_OK);
    });
    REQUIRE(airs_send(rt, pp5, kStop, nullptr, 0) == AIRS_OK);
    REQUIRE(rt.until([&] { return t.mail().size() >= 6; }));
    check_down(t.mail().at(5), r5, pp5, AIRS_EXIT_NORMAL);

    // By name, another reason: jeeves exits frop.
    airs_pid pp6 = spawn(rt, p6);
    REQUIRE(
        rt.until([&] { return airs_register(rt, "jeeves", pp6) == AIRS_OK; }));
    uint64_t r6 = 0;
    rt.run(pt, [&](airs_ctx* ctx) {
      airs_pid named = 0;
      REQUIRE(airs_whereis(airs_ctx_runtime(ctx), "jeeves", &named) == AIRS_OK);
      REQUIRE(airs_monitor(ctx, named, &r6) == AIRS_OK);
    });
    REQUIRE(send_text(rt, pp6, kExitError, "frop") == AIRS_OK);
    REQUIRE(rt.until([&] { return t.mail().size() >= 7; }));
    check_down(t.mail().at(6), r6, pp6, AIRS_EXIT_ERROR, "frop");

    // By name, the process is gone: its name went with it.
    rt.run(pt, [&](airs_ctx* ctx) {
      airs_pid named = 0;
      CHECK(airs_whereis(airs_ctx_runtime(ctx), "jeeves", &named) ==
            AIRS_ENOTFOUND);
    });
    rt.settle();
    CHECK(t.mail().size() == 7);
  }
}

// demon_2: demonitor/1. A monitor of oneself can be demonitored, twice,
// and nothing arrives; a process that ends soon gives DOWN normal (or
// noproc); a monitor removed before the process gets exit(P4, frop)
// gives no DOWN.
TEST_CASE("demon_2" * doctest::timeout(30)) {
  for (bool host : {true, false}) {
    CAPTURE(host);
    Proc t, p2, p4;
    Rt rt(host);
    airs_pid pt = spawn(rt, t);
    rt.run(pt, [&](airs_ctx* ctx) {
      uint64_t r1 = 0;
      REQUIRE(airs_monitor(ctx, pt, &r1) == AIRS_OK);
      CHECK(airs_demonitor(ctx, r1) == AIRS_OK);
      CHECK(airs_demonitor(ctx, r1) == AIRS_OK);  // an extra one
    });
    rt.sync(t);
    CHECK(of_type(t.mail(), AIRS_MSG_DOWN).empty());

    airs_pid pp2 = spawn(rt, p2);
    REQUIRE(airs_send(rt, pp2, kStop, nullptr, 0) == AIRS_OK);
    uint64_t r2 = 0;
    rt.run(pt, [&](airs_ctx* ctx) {
      REQUIRE(airs_monitor(ctx, pp2, &r2) == AIRS_OK);
    });
    REQUIRE(rt.until([&] { return t.count(AIRS_MSG_DOWN) >= 1; }));
    {
      Received d = of_type(t.mail(), AIRS_MSG_DOWN).at(0);
      CHECK(d.correlation == r2);
      CHECK(d.sender == pp2);
      CHECK((d.reason.kind == AIRS_EXIT_NORMAL ||
             d.reason.kind == AIRS_EXIT_NOPROC));
    }

    // Demonitor before the DOWN.
    airs_pid pp4 = spawn(rt, p4);
    rt.run(pt, [&](airs_ctx* ctx) {
      uint64_t r4 = 0;
      REQUIRE(airs_monitor(ctx, pp4, &r4) == AIRS_OK);
      CHECK(airs_demonitor(ctx, r4) == AIRS_OK);
      REQUIRE(airs_send_exit(airs_ctx_runtime(ctx), pp4, AIRS_EXIT_ERROR, kCode,
                             "frop") == AIRS_OK);
    });
    REQUIRE(airs_wait(rt, pp4, 3000) == AIRS_OK);
    CHECK(p4.reason().text == "frop");
    rt.settle();
    rt.sync(t);
    CHECK(t.count(AIRS_MSG_DOWN) == 1);
  }
}

// demonitor_flush: demonitor/2 with the option flush also takes a DOWN
// of that monitor out of the mailbox if it came already. Four monitors
// of P: M1 is removed with flush before P gets exit(P, bang); the DOWN of
// M2 is received; then M3 is removed with flush and M4 without, both
// DOWNs being in the mailbox by then; M4's DOWN still comes, M1's and
// M3's never. (The badarg cases of the option list have no C form.)
// Port: the C API's demonitor always flushes ("its down message will not
// be delivered after this returns"), so M4's DOWN does not come either:
// the documented difference. There is no selective receive to wait for
// M2's DOWN in particular (the DOWNs of one process's monitors come in no
// set order, in OTP too): the first DOWN to come plays M2, and t then
// removes the other two. Host-driven, their DOWNs are known to wait in
// t's mailbox at that point (its depth says so).
TEST_CASE("demonitor_flush" * doctest::timeout(30)) {
  for (bool host : {true, false}) {
    CAPTURE(host);
    Proc t, p;
    Rt rt(host);
    airs_pid pt = spawn(rt, t), pp = spawn(rt, p);
    uint64_t m[4] = {0, 0, 0, 0};
    std::atomic<uint64_t> depth_at_first{0};
    bool first = true;
    t.also = [&](Proc&, airs_ctx* ctx, const airs_msg* msg) {
      if (airs_msg_type(msg) != AIRS_MSG_DOWN || !first) return AIRS_OK;
      first = false;
      uint64_t depth = 0;
      airs_process_stat_get(airs_ctx_runtime(ctx), pt, AIRS_PSTAT_MAILBOX_DEPTH,
                            &depth);
      depth_at_first = depth;
      for (int i = 1; i < 4; i++) {
        if (m[i] == airs_msg_correlation(msg)) continue;
        if (airs_status st = airs_demonitor(ctx, m[i]); st != AIRS_OK)
          return st;
      }
      return AIRS_OK;
    };
    rt.run(pt, [&](airs_ctx* ctx) {
      for (uint64_t& ref : m) REQUIRE(airs_monitor(ctx, pp, &ref) == AIRS_OK);
      CHECK(airs_demonitor(ctx, m[0]) == AIRS_OK);
    });
    REQUIRE(airs_send_exit(rt, pp, AIRS_EXIT_ERROR, kCode, "bang") == AIRS_OK);
    REQUIRE(rt.until([&] { return t.count(AIRS_MSG_DOWN) >= 1; }));
    rt.settle();
    rt.sync(t);
    auto downs = of_type(t.mail(), AIRS_MSG_DOWN);
    REQUIRE(downs.size() == 1);
    CHECK(downs[0].correlation != m[0]);
    uint64_t ref = downs[0].correlation;
    CHECK((ref == m[1] || ref == m[2] || ref == m[3]));
    check_down(downs[0], ref, pp, AIRS_EXIT_ERROR, "bang");
    if (host) CHECK(depth_at_first >= 2);  // the other two DOWNs waited
    CHECK(airs_is_alive(rt, pt));
  }
}

// local_remove_monitor: 100 groups, each monitors 100 processes that end
// at once, then demonitors them all with the option info: true (removed
// in time: no DOWN may be in the mailbox) or false (its DOWN is there).
// Port: the C demonitor has no info option, and always flushes; what is
// checked is the race itself: each monitor either gave its DOWN (normal
// or noproc) before the demonitor or never gives it. 20 groups of 100 on
// two workers; each group tells half its processes to end as it spawns
// them (before it monitors them), and the test thread tells the other
// half while the group's demonitors run.
TEST_CASE("local_remove_monitor" * doctest::timeout(60)) {
  constexpr int kGroups = 20, kProcs = 100;
  struct Group : Proc {
    std::vector<uint64_t> refs;
    std::vector<airs_pid> children;
    std::set<uint64_t> removed;
    std::set<uint64_t> down_before, down_after;
    std::atomic<bool> monitoring{false};
    std::atomic<bool> all_removed{false};
    std::atomic<bool> bad_reason{false};
  };
  std::deque<Group> groups(kGroups);
  Rt rt(false);
  for (Group& g : groups) {
    g.also = [&g](Proc&, airs_ctx* ctx, const airs_msg* m) {
      switch (airs_msg_type(m)) {
        case kGo:
          for (int i = 0; i < kProcs; i++) {
            airs_pid child = 0;
            airs_status st = airs_ctx_spawn(ctx, &kQuitter, nullptr, nullptr,
                                            nullptr, &child);
            if (st != AIRS_OK) return st;
            if (i % 2 == 0) airs_ctx_send(ctx, child, kStop, nullptr, 0);
            uint64_t ref = 0;
            if ((st = airs_monitor(ctx, child, &ref)) != AIRS_OK) return st;
            g.refs.push_back(ref);
            g.children.push_back(child);
          }
          g.monitoring = true;
          return AIRS_OK;
        case kSync:
          if (g.all_removed) return AIRS_OK;
          for (uint64_t ref : g.refs) {
            if (g.down_before.count(ref)) continue;
            if (airs_status st = airs_demonitor(ctx, ref); st != AIRS_OK)
              return st;
            g.removed.insert(ref);
          }
          g.all_removed = true;
          return AIRS_OK;
        case AIRS_MSG_DOWN: {
          airs_exit_kind k = airs_reason_kind(airs_msg_reason(m));
          if (k != AIRS_EXIT_NORMAL && k != AIRS_EXIT_NOPROC)
            g.bad_reason = true;
          (g.all_removed ? g.down_after : g.down_before)
              .insert(airs_msg_correlation(m));
          return AIRS_OK;
        }
      }
      return AIRS_OK;
    };
    airs_pid pg = spawn(rt, g);
    REQUIRE(airs_send(rt, pg, kGo, nullptr, 0) == AIRS_OK);
  }
  for (Group& g : groups) {
    REQUIRE(rt.until([&] { return g.monitoring.load(); }));
    for (int i = 1; i < kProcs; i += 2) {
      REQUIRE(airs_send(rt, g.children[i], kStop, nullptr, 0) == AIRS_OK);
      if (i == kProcs / 2 + 1)  // the demonitors start among the ends
        REQUIRE(airs_send(rt, g.self, kSync, nullptr, 0) == AIRS_OK);
    }
  }
  for (Group& g : groups) {
    REQUIRE(rt.until([&] { return g.all_removed.load(); }));
    for (airs_pid child : g.children)
      REQUIRE(airs_wait(rt, child, 3000) == AIRS_OK);
  }
  rt.settle();  // what would come late has its chance to
  size_t removed = 0, down = 0;
  for (Group& g : groups) {
    rt.sync(g);
    CHECK(g.refs.size() == kProcs);
    CHECK(g.down_after.empty());
    CHECK_FALSE(g.bad_reason.load());
    CHECK(g.down_before.size() + g.removed.size() == kProcs);
    removed += g.removed.size();
    down += g.down_before.size();
  }
  MESSAGE("removed in time: " << removed << ", DOWN first: " << down);
}

// large_exit: a process ends with a large exit reason (a compound term
// with its own binary encoding); the DOWN carries it whole, 100 times.
// Port: a 4 KiB error text, different each time.
TEST_CASE("large_exit" * doctest::timeout(30)) {
  for (bool host : {true, false}) {
    CAPTURE(host);
    constexpr int kRounds = 100;
    std::deque<Proc> ps(kRounds);
    Proc t;
    Rt rt(host);
    airs_pid pt = spawn(rt, t);
    for (int i = 0; i < kRounds; i++) {
      std::string reason = big_text(4 * 1024, static_cast<unsigned>(i));
      airs_pid p = spawn(rt, ps[i]);
      uint64_t ref = 0;
      rt.run(pt, [&](airs_ctx* ctx) {
        REQUIRE(airs_monitor(ctx, p, &ref) == AIRS_OK);
      });
      REQUIRE(send_text(rt, p, kExitError, reason) == AIRS_OK);
      REQUIRE(rt.until([&] {
        return t.count(AIRS_MSG_DOWN) == static_cast<size_t>(i + 1);
      }));
      Received d = t.last(AIRS_MSG_DOWN);
      CHECK(d.correlation == ref);
      CHECK(d.sender == p);
      CHECK(d.reason.kind == AIRS_EXIT_ERROR);
      CHECK(d.reason.text.size() == reason.size());
      CHECK(d.reason.text == reason);
    }
  }
}

// list_cleanup: the lists of process_info(monitors) and
// process_info(monitored_by) on both ends are emptied by a demonitor, by
// a DOWN, and when the monitoring process crashes; local and remote.
// The C API has no such introspection and no nodes; the port keeps what
// a process can see of the same steps, locally: a demonitored monitor
// never fires; a monitor made again through the name fires once, normal;
// a process monitored by a jeeves that crashes (frop) gets nothing and
// lives on, and can still be monitored and linked afterwards.
TEST_CASE("list_cleanup" * doctest::timeout(30)) {
  for (bool host : {true, false}) {
    CAPTURE(host);
    Proc master, p1, p2, p3;
    Rt rt(host);
    airs_pid pm = spawn(rt, master);
    REQUIRE(airs_register(rt, "master_bertie", pm) == AIRS_OK);

    airs_pid pp1 = spawn(rt, p1);
    REQUIRE(airs_register(rt, "jeeves", pp1) == AIRS_OK);
    uint64_t r1b = 0;
    rt.run(pm, [&](airs_ctx* ctx) {
      uint64_t r1a = 0;
      REQUIRE(airs_monitor(ctx, pp1, &r1a) == AIRS_OK);
      CHECK(airs_demonitor(ctx, r1a) == AIRS_OK);
      airs_pid named = 0;
      REQUIRE(airs_whereis(airs_ctx_runtime(ctx), "jeeves", &named) == AIRS_OK);
      REQUIRE(airs_monitor(ctx, named, &r1b) == AIRS_OK);
    });
    REQUIRE(airs_send(rt, pp1, kStop, nullptr, 0) == AIRS_OK);
    REQUIRE(rt.until([&] { return master.mail().size() >= 1; }));
    rt.settle();
    rt.sync(master);
    auto downs = of_type(master.mail(), AIRS_MSG_DOWN);
    REQUIRE(downs.size() == 1);
    check_down(downs[0], r1b, pp1, AIRS_EXIT_NORMAL);

    // The monitoring process crashes.
    airs_pid pp2 = spawn(rt, p2);
    rt.run(pp2, [&](airs_ctx* ctx) {
      airs_pid named = 0;
      REQUIRE(airs_whereis(airs_ctx_runtime(ctx), "master_bertie", &named) ==
              AIRS_OK);
      uint64_t r2 = 0;
      REQUIRE(airs_monitor(ctx, named, &r2) == AIRS_OK);
    });
    REQUIRE(send_text(rt, pp2, kExitError, "frop") == AIRS_OK);
    REQUIRE(airs_wait(rt, pp2, 3000) == AIRS_OK);
    rt.settle();
    rt.sync(master);
    CHECK(airs_is_alive(rt, pm));
    CHECK(of_type(master.mail(), AIRS_MSG_DOWN).size() == 1);
    CHECK(master.mail().size() == 1 + master.count(kSync));
    // The master works on: a new jeeves monitors it and it monitors back.
    airs_pid pp3 = spawn(rt, p3);
    uint64_t r3 = 0;
    rt.run(pp3, [&](airs_ctx* ctx) {
      uint64_t r = 0;
      REQUIRE(airs_monitor(ctx, pm, &r) == AIRS_OK);
    });
    rt.run(pm, [&](airs_ctx* ctx) {
      REQUIRE(airs_monitor(ctx, pp3, &r3) == AIRS_OK);
    });
    REQUIRE(send_text(rt, pp3, kExitError, "frop") == AIRS_OK);
    REQUIRE(rt.until([&] { return master.count(AIRS_MSG_DOWN) >= 2; }));
    check_down(of_type(master.mail(), AIRS_MSG_DOWN).at(1), r3, pp3,
               AIRS_EXIT_ERROR, "frop");
  }
}

// mixer: monitors made both ways between the test process and jeeves on
// the local node and on three others, in every order of the nodes; four
// rounds: (1) the jeeves monitor the test process and exit, (2) they
// monitor it and demonitor, (3) both ways, then they exit one by one and
// each DOWN comes, (4) both ways, then both sides demonitor; the lists of
// process_info must match at each step.
// Port: the local part (two jeeves on the local node, doubled: four),
// with what t sees instead of the lists: in rounds 1, 2 and 4 nothing
// reaches t; in round 3 one DOWN flaff per jeeves, in order.
TEST_CASE("mixer" * doctest::timeout(30)) {
  for (bool host : {true, false}) {
    CAPTURE(host);
    constexpr int kJeeves = 4;
    for (int round = 1; round <= 4; round++) {
      CAPTURE(round);
      Proc t;
      std::deque<Proc> js(kJeeves);
      Rt rt(host);
      airs_pid pt = spawn(rt, t);
      std::vector<airs_pid> pj;
      std::vector<uint64_t> their(kJeeves), ours(kJeeves);
      for (int i = 0; i < kJeeves; i++) {
        pj.push_back(spawn(rt, js[i]));
        rt.run(pj[i], [&](airs_ctx* ctx) {
          REQUIRE(airs_monitor(ctx, pt, &their[i]) == AIRS_OK);
        });
      }
      if (round >= 3)
        rt.run(pt, [&](airs_ctx* ctx) {
          for (int i = 0; i < kJeeves; i++)
            REQUIRE(airs_monitor(ctx, pj[i], &ours[i]) == AIRS_OK);
        });
      if (round == 2 || round == 4)
        for (int i = 0; i < kJeeves; i++)
          rt.run(pj[i], [&](airs_ctx* ctx) {
            CHECK(airs_demonitor(ctx, their[i]) == AIRS_OK);
          });
      if (round == 4)
        rt.run(pt, [&](airs_ctx* ctx) {
          for (uint64_t ref : ours) CHECK(airs_demonitor(ctx, ref) == AIRS_OK);
        });
      for (int i = 0; i < kJeeves; i++) {
        REQUIRE(send_text(rt, pj[i], kExitError, "flaff") == AIRS_OK);
        if (round == 3)
          REQUIRE(rt.until([&] {
            return t.count(AIRS_MSG_DOWN) == static_cast<size_t>(i + 1);
          }));
      }
      for (airs_pid p : pj) REQUIRE(airs_wait(rt, p, 3000) == AIRS_OK);
      rt.settle();
      rt.sync(t);
      auto downs = of_type(t.mail(), AIRS_MSG_DOWN);
      if (round == 3) {
        REQUIRE(downs.size() == kJeeves);
        for (int i = 0; i < kJeeves; i++)
          check_down(downs[i], ours[i], pj[i], AIRS_EXIT_ERROR, "flaff");
      } else {
        CHECK(downs.empty());
      }
      CHECK(t.mail().size() == downs.size() + 1);  // and the sync
    }
  }
}

// named_down: the DOWN of a monitor made by name comes only once the name
// is free: on the DOWN, the test process registers the name for itself.
// (OTP holds the dying process back with busy high-priority processes;
// there are no priorities here, so the race is run 200 times instead.)
// Port: the name is resolved with airs_whereis and its pid monitored; on
// the DOWN (bang), airs_register of the name for t must succeed.
TEST_CASE("named_down" * doctest::timeout(60)) {
  for (bool host : {true, false}) {
    CAPTURE(host);
    constexpr int kRounds = 200;
    const char* name = "monitor_SUITE-named_down";
    Proc t;
    std::deque<Proc> named(kRounds);
    std::vector<airs_status> registered;  // t's registration on each DOWN
    Rt rt(host);
    t.also = [&](Proc&, airs_ctx* ctx, const airs_msg* m) {
      if (airs_msg_type(m) != AIRS_MSG_DOWN) return AIRS_OK;
      airs_runtime* r = airs_ctx_runtime(ctx);
      airs_status st = airs_register(r, name, airs_self(ctx));
      if (st == AIRS_OK) st = airs_unregister(r, name);
      registered.push_back(st);
      return AIRS_OK;
    };
    airs_pid pt = spawn(rt, t);
    for (int i = 0; i < kRounds; i++) {
      airs_pid p = spawn(rt, named[i]);
      REQUIRE(airs_register(rt, name, p) == AIRS_OK);
      rt.run(pt, [&](airs_ctx* ctx) {
        airs_pid found = 0;
        REQUIRE(airs_whereis(airs_ctx_runtime(ctx), name, &found) == AIRS_OK);
        uint64_t ref = 0;
        REQUIRE(airs_monitor(ctx, found, &ref) == AIRS_OK);
      });
      REQUIRE(airs_send_exit(rt, p, AIRS_EXIT_ERROR, kCode, "bang") == AIRS_OK);
      REQUIRE(rt.until([&] {
        return t.count(AIRS_MSG_DOWN) == static_cast<size_t>(i + 1);
      }));
      // t is done with this DOWN (and the name) before the next round.
      rt.sync(t);
      Received d = t.last(AIRS_MSG_DOWN);
      CHECK(d.reason.kind == AIRS_EXIT_ERROR);
      CHECK(d.reason.text == "bang");
    }
    REQUIRE(registered.size() == kRounds);
    for (airs_status st : registered) CHECK(st == AIRS_OK);
  }
}

// otp_5827: monitor/2 of a pid of this node with another creation (an
// incarnation that is not this one) once hung; it must give DOWN noproc
// at once. The C counterpart is another generation of a slot: an earlier
// one (a process that ended) gives DOWN noproc at once; a later one (that
// never existed) fails at once with AIRS_ENOPROC, as the header says.
TEST_CASE("otp_5827" * doctest::timeout(30)) {
  Proc t;
  std::deque<Proc> tries(200);
  Rt rt(true);
  airs_pid pt = spawn(rt, t);
  // Find a slot used twice: an ended process and a live one in its slot.
  airs_pid old_pid = 0, new_pid = 0;
  std::map<uint32_t, airs_pid> ended_in_slot;
  for (Proc& p : tries) {
    airs_pid pid = spawn(rt, p);
    auto it = ended_in_slot.find(static_cast<uint32_t>(pid));
    if (it != ended_in_slot.end()) {
      old_pid = it->second, new_pid = pid;
      break;
    }
    REQUIRE(airs_send(rt, pid, kStop, nullptr, 0) == AIRS_OK);
    REQUIRE(airs_wait(rt, pid, 3000) == AIRS_OK);
    ended_in_slot[static_cast<uint32_t>(pid)] = pid;
  }
  REQUIRE(new_pid != 0);
  REQUIRE(old_pid != new_pid);
  uint64_t ref = 0;
  rt.run(pt, [&](airs_ctx* ctx) {
    REQUIRE(airs_monitor(ctx, old_pid, &ref) == AIRS_OK);
    uint64_t unused = 0;
    CHECK(airs_monitor(ctx,
                       test_pid_make(new_pid, test_pid_slot(new_pid),
                                     test_pid_generation(new_pid) + 1),
                       &unused) == AIRS_ENOPROC);
  });
  rt.settle();
  auto mail = t.mail();
  REQUIRE(mail.size() == 1);
  check_down(mail[0], ref, old_pid, AIRS_EXIT_NOPROC);
}
