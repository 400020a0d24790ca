// process_SUITE.cpp - a hand port of the link, exit and monitor cases of
// OTP's erts/emulator/test/process_SUITE (issue 12), one doctest case per
// OTP case and named after it; the suite's other cases (process_info,
// GC, heap sizes, priorities, aliases, distribution...) are listed as not
// applicable in CASES.md. As in monitor_SUITE.cpp,
// each Erlang process of a case is a test actor (Proc) that records what
// it receives, and the code an Erlang process runs in sequence runs inside
// its actor as a job (Rt::run). Public C API only.
#include <deque>
#include <utility>

#include "otp_proc.hpp"

using namespace rt_test;
using namespace otp_test;

namespace {

// Checks that `r` is the EXIT message of `pid` with this reason (an error
// reason's text is `text`).
void check_exit(const Received& r, airs_pid pid, airs_exit_kind kind,
                const std::string& text = "") {
  CHECK(r.type == AIRS_MSG_EXIT);
  CHECK(r.sender == pid);
  CHECK(r.reason.kind == kind);
  if (kind == AIRS_EXIT_ERROR) {
    CHECK(r.reason.code == kCode);
    CHECK(r.reason.text.size() == text.size());
    CHECK(r.reason.text == text);
  }
}

// fun_spawn of the suite: spawn_link from the test process `t`.
airs_pid spawn_linked(Rt& rt, airs_pid t, Actor& a, uint32_t flags = 0) {
  airs_pid pid = 0;
  rt.run(t, [&](airs_ctx* ctx) {
    pid = ctx_spawn(ctx, a, AIRS_SPAWN_LINK | flags);
  });
  REQUIRE(pid != 0);
  return pid;
}

// The suite's kb_128(): a reason of 128 KiB.
constexpr size_t kKb128 = 128 * 1024;

}  // namespace

// t_exit_1: exit/1 with a large reason (128 KiB of nested terms and
// binaries); the trapping test process linked to it gets the EXIT with
// that reason, 10 times. Port: a 128 KiB error text, via airs_exit.
TEST_CASE("t_exit_1" * doctest::timeout(30)) {
  for (bool host : {true, false}) {
    CAPTURE(host);
    constexpr int kRounds = 10;
    Proc t;
    std::deque<Proc> ps(kRounds);
    Rt rt(host);
    airs_pid pt = spawn_trapping(rt, t);
    for (int i = 0; i < kRounds; i++) {
      std::string garbage = big_text(kKb128, static_cast<unsigned>(i));
      airs_pid p = spawn_linked(rt, pt, ps[i]);
      REQUIRE(send_text(rt, p, kExitError, garbage) == AIRS_OK);
      REQUIRE(rt.until([&] {
        return t.count(AIRS_MSG_EXIT) == static_cast<size_t>(i + 1);
      }));
      check_exit(t.last(AIRS_MSG_EXIT), p, AIRS_EXIT_ERROR, garbage);
    }
  }
}

// t_exit_2_other: exit/2 with a large reason sent to a linked process
// that does not trap exits: it dies with that reason, and the trapping
// test process gets the EXIT with it, 10 times.
TEST_CASE("t_exit_2_other" * doctest::timeout(30)) {
  for (bool host : {true, false}) {
    CAPTURE(host);
    constexpr int kRounds = 10;
    Proc t;
    std::deque<Proc> ps(kRounds);
    Rt rt(host);
    airs_pid pt = spawn_trapping(rt, t);
    for (int i = 0; i < kRounds; i++) {
      std::string garbage = big_text(kKb128, static_cast<unsigned>(i));
      airs_pid p = spawn_linked(rt, pt, ps[i]);
      rt.run(pt, [&](airs_ctx* ctx) {
        REQUIRE(airs_send_exit(airs_ctx_runtime(ctx), p, AIRS_EXIT_ERROR, kCode,
                               garbage.c_str()) == AIRS_OK);
      });
      REQUIRE(rt.until([&] {
        return t.count(AIRS_MSG_EXIT) == static_cast<size_t>(i + 1);
      }));
      check_exit(t.last(AIRS_MSG_EXIT), p, AIRS_EXIT_ERROR, garbage);
      CHECK(ps[i].reason().text == garbage);
    }
  }
}

// t_exit_2_other_normal: exit(Pid, normal) does not end another process
// that does not trap exits: no EXIT comes (OTP waits a second), the
// process is alive; then it is killed.
TEST_CASE("t_exit_2_other_normal" * doctest::timeout(30)) {
  for (bool host : {true, false}) {
    CAPTURE(host);
    Proc t, p;
    Rt rt(host);
    airs_pid pt = spawn_trapping(rt, t);
    airs_pid pp = spawn_linked(rt, pt, p);
    rt.run(pt, [&](airs_ctx* ctx) {
      REQUIRE(airs_send_exit(airs_ctx_runtime(ctx), pp, AIRS_EXIT_NORMAL, 0,
                             nullptr) == AIRS_OK);
    });
    rt.settle();
    rt.sync(p);  // p has handled the signal's place in its mailbox
    rt.sync(t);
    CHECK(t.count(AIRS_MSG_EXIT) == 0);
    CHECK(airs_is_alive(rt, pp));
    CHECK(p.terms == 0);
    REQUIRE(airs_kill(rt, pp) == AIRS_OK);
    REQUIRE(rt.until([&] { return t.count(AIRS_MSG_EXIT) == 1; }));
    check_exit(t.last(AIRS_MSG_EXIT), pp, AIRS_EXIT_KILLED);
  }
}

// self_exit: a process that traps exits sends itself an exit signal with
// a large reason and gets it as an EXIT message from itself, 200 times.
TEST_CASE("self_exit" * doctest::timeout(30)) {
  for (bool host : {true, false}) {
    CAPTURE(host);
    constexpr int kRounds = 200;
    Proc t;
    Rt rt(host);
    airs_pid pt = spawn_trapping(rt, t);
    for (int i = 0; i < kRounds; i++) {
      std::string garbage = big_text(8 * 1024, static_cast<unsigned>(i));
      rt.run(pt, [&](airs_ctx* ctx) {
        REQUIRE(airs_send_exit(airs_ctx_runtime(ctx), pt, AIRS_EXIT_ERROR,
                               kCode, garbage.c_str()) == AIRS_OK);
      });
      REQUIRE(rt.until([&] {
        return t.count(AIRS_MSG_EXIT) == static_cast<size_t>(i + 1);
      }));
      check_exit(t.last(AIRS_MSG_EXIT), pt, AIRS_EXIT_ERROR, garbage);
    }
    CHECK(airs_is_alive(rt, pt));
  }
}

// normal_suicide_exit: exit(self(), normal) in a process that does not
// trap exits ends it, with reason normal, as exit(normal) would (the one
// case where a normal exit signal ends its receiver); the linked trapping
// test process gets EXIT normal. (In OTP the fun also returns after the
// call; here the process would live on if the signal were ignored.)
TEST_CASE("normal_suicide_exit" * doctest::timeout(30)) {
  for (bool host : {true, false}) {
    CAPTURE(host);
    Proc t, p;
    Rt rt(host);
    airs_pid pt = spawn_trapping(rt, t);
    airs_pid pp = spawn_linked(rt, pt, p);
    rt.run(pp, [&](airs_ctx* ctx) {
      REQUIRE(airs_send_exit(airs_ctx_runtime(ctx), pp, AIRS_EXIT_NORMAL, 0,
                             nullptr) == AIRS_OK);
    });
    REQUIRE(rt.until([&] { return t.count(AIRS_MSG_EXIT) == 1; }));
    check_exit(t.last(AIRS_MSG_EXIT), pp, AIRS_EXIT_NORMAL);
    CHECK(p.reason().kind == AIRS_EXIT_NORMAL);
    CHECK_FALSE(airs_is_alive(rt, pp));
  }
}

// abnormal_suicide_exit: exit(self(), Garbage) in a process that does not
// trap exits ends it with Garbage, as exit(Garbage) would.
TEST_CASE("abnormal_suicide_exit" * doctest::timeout(30)) {
  for (bool host : {true, false}) {
    CAPTURE(host);
    Proc t, p;
    Rt rt(host);
    std::string garbage = big_text(8 * 1024, 3);
    airs_pid pt = spawn_trapping(rt, t);
    airs_pid pp = spawn_linked(rt, pt, p);
    rt.run(pp, [&](airs_ctx* ctx) {
      REQUIRE(airs_send_exit(airs_ctx_runtime(ctx), pp, AIRS_EXIT_ERROR, kCode,
                             garbage.c_str()) == AIRS_OK);
    });
    REQUIRE(rt.until([&] { return t.count(AIRS_MSG_EXIT) == 1; }));
    auto mail = t.mail();
    REQUIRE(mail.size() == 1);
    check_exit(mail[0], pp, AIRS_EXIT_ERROR, garbage);
  }
}

// t_exit_2_catch: exit(self(), die) is a signal, not an exception: a
// catch around it does not stop it, the process dies with die (not
// normal). Port: the callback that sends the signal returns AIRS_OK as if
// all went well; the process still ends with die.
TEST_CASE("t_exit_2_catch" * doctest::timeout(30)) {
  for (bool host : {true, false}) {
    CAPTURE(host);
    Proc t, p;
    Rt rt(host);
    airs_pid pt = spawn_trapping(rt, t);
    p.also = [](Proc&, airs_ctx* ctx, const airs_msg* m) {
      if (airs_msg_type(m) == kGo)
        airs_send_exit(airs_ctx_runtime(ctx), airs_self(ctx), AIRS_EXIT_ERROR,
                       kCode, "die");
      return AIRS_OK;  // the catch
    };
    airs_pid pp = spawn_linked(rt, pt, p);
    REQUIRE(airs_send(rt, pp, kGo, nullptr, 0) == AIRS_OK);
    REQUIRE(rt.until([&] { return t.count(AIRS_MSG_EXIT) == 1; }));
    auto mail = t.mail();
    REQUIRE(mail.size() == 1);
    check_exit(mail[0], pp, AIRS_EXIT_ERROR, "die");
  }
}

// trap_exit_badarg: a linked process dies of a bad argument to a built-in
// (abs/1 of a 128 KiB term); the trapping test process gets the EXIT with
// {badarg, Stack}, the argument in it, 10 times. Port: the process makes
// a call of the C API with a bad argument and returns its status, as an
// actor does; its end is AIRS_EXIT_ERROR whose code is that status and
// whose text is the call's error message (the header's rule for a
// receive that fails), and the EXIT carries exactly that.
TEST_CASE("trap_exit_badarg" * doctest::timeout(30)) {
  for (bool host : {true, false}) {
    CAPTURE(host);
    constexpr int kRounds = 10;
    Proc t;
    std::deque<Proc> ps(kRounds);
    std::vector<std::string> messages(kRounds);
    Rt rt(host);
    airs_pid pt = spawn_trapping(rt, t);
    for (int i = 0; i < kRounds; i++) {
      std::string& why = messages[i];
      ps[i].also = [&why](Proc&, airs_ctx*, const airs_msg* m) {
        if (airs_msg_type(m) != kGo) return AIRS_OK;
        airs_msg* out = nullptr;  // a system type: not a user's to make
        airs_status st = airs_msg_new(AIRS_MSG_DOWN, nullptr, 0, &out);
        why = airs_last_error_message();
        return st;
      };
      airs_pid p = spawn_linked(rt, pt, ps[i]);
      REQUIRE(airs_send(rt, p, kGo, nullptr, 0) == AIRS_OK);
      REQUIRE(rt.until([&] {
        return t.count(AIRS_MSG_EXIT) == static_cast<size_t>(i + 1);
      }));
      Received e = t.last(AIRS_MSG_EXIT);
      CHECK(e.sender == p);
      CHECK(e.reason.kind == AIRS_EXIT_ERROR);
      CHECK(e.reason.code == AIRS_EINVAL);
      CHECK_FALSE(why.empty());
      CHECK(e.reason.text == why);
    }
  }
}

// trap_exit_badarg_in_bif: spawn_link of a built-in with a bad argument
// (erlang:node(1)): the new process fails at once, and the trapping
// parent gets EXIT {badarg, _}, 10 times. Port: the linked child's first
// turn (started by a message it sends itself in init, nobody else) fails
// on a bad argument; the EXIT carries that status. (A child whose init
// fails is no counterpart: its spawn fails and reports the status, and
// no process is left to send an EXIT.)
TEST_CASE("trap_exit_badarg_in_bif" * doctest::timeout(30)) {
  for (bool host : {true, false}) {
    CAPTURE(host);
    constexpr int kRounds = 10;
    Proc t;
    std::deque<Proc> first_turn(kRounds);
    Rt rt(host);
    airs_pid pt = spawn_trapping(rt, t);
    for (int i = 0; i < kRounds; i++) {
      Proc& a = first_turn[i];
      a.on_init = [](Actor&, airs_ctx* ctx) {
        return airs_ctx_send(ctx, airs_self(ctx), kGo, nullptr, 0);
      };
      a.also = [](Proc&, airs_ctx*, const airs_msg* m) {
        if (airs_msg_type(m) != kGo) return AIRS_OK;
        return airs_msg_new(AIRS_MSG_DOWN, nullptr, 0, nullptr);
      };
      airs_pid pa = spawn_linked(rt, pt, a);
      REQUIRE(rt.until([&] {
        return t.count(AIRS_MSG_EXIT) == static_cast<size_t>(i + 1);
      }));
      Received e = t.last(AIRS_MSG_EXIT);
      CHECK(e.sender == pa);
      CHECK(e.reason.kind == AIRS_EXIT_ERROR);
      CHECK(e.reason.code == AIRS_EINVAL);
    }
  }
}

// exit_and_timeout: an exit signal reaches a process that is not running
// and waits in a receive with a timeout; its timeout comes after: this
// once crashed the emulator. Low waits (2.5 s), High (1 s later) sends it
// exit {you, are, dead} and ends normal; the trapping test process linked
// to both gets EXIT Low {you,are,dead} (and EXIT High normal). Port, with
// a manual clock: Low has a timer pending to itself, High's own timer
// makes it send the signal and end; then Low's timer fires for a process
// that is gone (a dead letter), and nothing else happens.
TEST_CASE("exit_and_timeout" * doctest::timeout(30)) {
  for (bool host : {true, false}) {
    CAPTURE(host);
    constexpr uint64_t kTimeout = 0x6e01;
    DeadLetters dead;
    Proc t, low, high;
    Runtime rt_keys({{AIRS_CFG_WORKERS, host ? 0 : 2},
                     {AIRS_CFG_MANUAL_CLOCK, 1},
                     {AIRS_CFG_SHUTDOWN_TIMEOUT_MS, 50}});
    airs_runtime* rt = rt_keys;
    dead.install(rt);
    auto drive = [&](auto pred) {
      if (host) {
        poll_all(rt);
        return pred();
      }
      return wait_until(pred);
    };
    airs_spawn_opts trap = opts_of(rt, AIRS_SPAWN_TRAP_EXIT);
    airs_pid pt = spawn(rt, t, &trap), pl = 0, ph = 0;
    airs_pid* pl_ptr = &pl;
    high.also = [pl_ptr](Proc&, airs_ctx* ctx, const airs_msg* m) {
      if (airs_msg_type(m) != kTimeout) return AIRS_OK;
      airs_status st = airs_send_exit(airs_ctx_runtime(ctx), *pl_ptr,
                                      AIRS_EXIT_ERROR, kCode, "you_are_dead");
      if (st != AIRS_OK) return st;
      return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, nullptr);
    };
    std::atomic<bool> spawned{false};
    Job job{[&](airs_ctx* ctx) {
      pl = ctx_spawn(ctx, low, AIRS_SPAWN_LINK);
      ph = ctx_spawn(ctx, high, AIRS_SPAWN_LINK);
      airs_msg* a = nullptr;
      airs_msg* b = nullptr;
      REQUIRE(airs_msg_new(kTimeout, nullptr, 0, &a) == AIRS_OK);
      REQUIRE(airs_msg_new(kTimeout, nullptr, 0, &b) == AIRS_OK);
      REQUIRE(airs_send_after(airs_ctx_runtime(ctx), pl, 2500, a, nullptr) ==
              AIRS_OK);
      REQUIRE(airs_send_after(airs_ctx_runtime(ctx), ph, 1000, b, nullptr) ==
              AIRS_OK);
      spawned = true;
    }};
    Job* jp = &job;
    REQUIRE(airs_send(rt, pt, kRun, &jp, sizeof jp) == AIRS_OK);
    REQUIRE(drive([&] { return job.done.load(); }));
    REQUIRE(airs_runtime_advance_time(rt, 1000) == AIRS_OK);
    REQUIRE(drive([&] { return t.count(AIRS_MSG_EXIT) == 2; }));
    auto exits = of_type(t.mail(), AIRS_MSG_EXIT);
    REQUIRE(exits.size() == 2);
    if (exits[0].sender != pl) std::swap(exits[0], exits[1]);
    check_exit(exits[0], pl, AIRS_EXIT_ERROR, "you_are_dead");
    check_exit(exits[1], ph, AIRS_EXIT_NORMAL);
    CHECK(low.count(kTimeout) == 0);
    REQUIRE(airs_runtime_advance_time(rt, 1500) == AIRS_OK);
    REQUIRE(drive([&] {
      for (const auto& letter : dead.get())
        if (letter.reason == AIRS_DEAD_LETTER_TIMER && letter.to == pl)
          return true;
      return false;
    }));
    if (host) poll_all(rt);
    CHECK(t.count(AIRS_MSG_EXIT) == 2);
    CHECK(airs_is_alive(rt, pt));
  }
}

// exit_twice: two exit signals, first then second, sent one after the
// other to a busy process that does not trap exits: it dies with the
// first; the second finds it ending and does nothing.
TEST_CASE("exit_twice" * doctest::timeout(30)) {
  for (bool host : {true, false}) {
    CAPTURE(host);
    for (int round = 0; round < 20; round++) {
      CAPTURE(round);
      Proc t, low, high;
      Rt rt(host);
      airs_pid pt = spawn_trapping(rt, t);
      airs_pid pl = spawn_linked(rt, pt, low);
      high.also = [pl](Proc&, airs_ctx* ctx, const airs_msg* m) {
        if (airs_msg_type(m) != kGo) return AIRS_OK;
        airs_runtime* r = airs_ctx_runtime(ctx);
        airs_send_exit(r, pl, AIRS_EXIT_ERROR, kCode, "first");
        airs_send_exit(r, pl, AIRS_EXIT_ERROR, kCode, "second");
        return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, nullptr);
      };
      airs_pid ph = spawn_linked(rt, pt, high);
      // Low is busy: its mailbox is never empty while the signals come.
      for (int i = 0; i < 20; i++)
        REQUIRE(airs_send(rt, pl, kSync, nullptr, 0) == AIRS_OK);
      REQUIRE(airs_send(rt, ph, kGo, nullptr, 0) == AIRS_OK);
      REQUIRE(rt.until([&] { return t.count(AIRS_MSG_EXIT) == 2; }));
      rt.settle();
      auto exits = of_type(t.mail(), AIRS_MSG_EXIT);
      REQUIRE(exits.size() == 2);
      for (const Received& e : exits) {
        if (e.sender == pl)
          check_exit(e, pl, AIRS_EXIT_ERROR, "first");
        else
          check_exit(e, ph, AIRS_EXIT_NORMAL);
      }
      CHECK(low.reason().text == "first");
    }
  }
}

// bad_register: register/2 with a bad name (not an atom, undefined) or a
// bad process (a dead one, a ref, a list, a tuple, a binary) is badarg,
// and so is a send to a name not registered. Port: what the C types leave
// possible: a NULL, empty or too long name is AIRS_EINVAL; a process that
// ended (its DOWN seen) is AIRS_ENOPROC, as is pid 0; the name stays free
// (airs_whereis: AIRS_ENOTFOUND, so nothing can be sent to it).
TEST_CASE("bad_register" * doctest::timeout(30)) {
  Proc t, dead;
  Rt rt(true);
  const char* name = "a_long_and_unused_name";
  airs_pid pt = spawn(rt, t);
  CHECK(airs_register(rt, nullptr, pt) == AIRS_EINVAL);
  CHECK(airs_register(rt, "", pt) == AIRS_EINVAL);
  CHECK(airs_register(rt, std::string(AIRS_NAME_MAX + 1, 'x').c_str(), pt) ==
        AIRS_EINVAL);
  airs_pid pd = 0;
  uint64_t ref = 0;
  rt.run(pt, [&](airs_ctx* ctx) {
    pd = ctx_spawn(ctx, dead);
    REQUIRE(airs_monitor(ctx, pd, &ref) == AIRS_OK);
    airs_ctx_send(ctx, pd, kStop, nullptr, 0);
  });
  REQUIRE(rt.until([&] { return t.count(AIRS_MSG_DOWN) == 1; }));
  CHECK(airs_register(rt, name, pd) == AIRS_ENOPROC);
  CHECK(airs_register(rt, name, AIRS_NO_PID) == AIRS_ENOPROC);
  airs_pid found = 0;
  CHECK(airs_whereis(rt, name, &found) == AIRS_ENOTFOUND);
  CHECK(found == 0);
}

// spawn_huge_arglist: a process spawned with a huge argument list (255
// arguments, megabytes) exits with that list as its reason; the reason
// arrives whole in each way of watching it: spawn_request and spawn_opt
// with monitor, spawn_monitor, spawn_link (trapping), spawn + monitor.
// Port: the huge argument is the process's user_data (a 1 MiB text) and
// its reason the same text; the ways: spawn and monitor in one callback
// (spawn_monitor, spawn_opt monitor, spawn_request monitor alike here),
// linked spawn with trap_exit, a monitor made afterwards.
TEST_CASE("spawn_huge_arglist" * doctest::timeout(30)) {
  for (bool host : {true, false}) {
    CAPTURE(host);
    const std::string args = big_text(1024 * 1024, 11);
    auto exit_with_args = [&args](Proc&, airs_ctx* ctx, const airs_msg* m) {
      if (airs_msg_type(m) != kGo) return AIRS_OK;
      return airs_exit(ctx, AIRS_EXIT_ERROR, kCode, args.c_str());
    };
    Proc t, by_monitor, by_link, by_late_monitor;
    for (Proc* p : {&by_monitor, &by_link, &by_late_monitor})
      p->also = exit_with_args;
    Rt rt(host);
    airs_pid pt = spawn_trapping(rt, t);

    airs_pid p1 = 0;
    uint64_t r1 = 0;
    rt.run(pt, [&](airs_ctx* ctx) {
      p1 = ctx_spawn(ctx, by_monitor);
      REQUIRE(airs_monitor(ctx, p1, &r1) == AIRS_OK);
      airs_ctx_send(ctx, p1, kGo, nullptr, 0);
    });
    REQUIRE(rt.until([&] { return t.count(AIRS_MSG_DOWN) == 1; }));
    check_down(t.last(AIRS_MSG_DOWN), r1, p1, AIRS_EXIT_ERROR, args);

    airs_pid p2 = spawn_linked(rt, pt, by_link);
    REQUIRE(airs_send(rt, p2, kGo, nullptr, 0) == AIRS_OK);
    REQUIRE(rt.until([&] { return t.count(AIRS_MSG_EXIT) == 1; }));
    check_exit(t.last(AIRS_MSG_EXIT), p2, AIRS_EXIT_ERROR, args);

    airs_pid p3 = spawn(rt, by_late_monitor);
    uint64_t r3 = 0;
    rt.run(pt, [&](airs_ctx* ctx) {
      REQUIRE(airs_monitor(ctx, p3, &r3) == AIRS_OK);
    });
    REQUIRE(airs_send(rt, p3, kGo, nullptr, 0) == AIRS_OK);
    REQUIRE(rt.until([&] { return t.count(AIRS_MSG_DOWN) == 2; }));
    check_down(t.last(AIRS_MSG_DOWN), r3, p3, AIRS_EXIT_ERROR, args);
  }
}

// spawn_request_monitor_child_exit: spawn_request with the monitor option
// of a process that fails at once (an undefined function): the reply
// comes, then the DOWN with the real reason ({undef, _}), not noproc.
// Port: the C API has no spawn-time monitor; spawn then monitor in one
// callback is the same only where the child cannot run in between:
// host-driven (one thread). The child fails in its first turn, started by
// a message it sent itself in init.
TEST_CASE("spawn_request_monitor_child_exit" * doctest::timeout(30)) {
  Proc t, child;
  Rt rt(true);
  child.on_init = [](Actor&, airs_ctx* ctx) {
    return airs_ctx_send(ctx, airs_self(ctx), kGo, nullptr, 0);
  };
  child.also = [](Proc&, airs_ctx* ctx, const airs_msg* m) {
    if (airs_msg_type(m) != kGo) return AIRS_OK;
    return airs_exit(ctx, AIRS_EXIT_ERROR, kCode, "undef");
  };
  airs_pid pt = spawn(rt, t), pc = 0;
  uint64_t ref = 0;
  rt.run(pt, [&](airs_ctx* ctx) {
    pc = ctx_spawn(ctx, child);
    REQUIRE(airs_monitor(ctx, pc, &ref) == AIRS_OK);
  });
  REQUIRE(rt.until([&] { return t.count(AIRS_MSG_DOWN) == 1; }));
  check_down(t.last(AIRS_MSG_DOWN), ref, pc, AIRS_EXIT_ERROR, "undef");
}

// spawn_request_link_child_exit: spawn_request with the link option of a
// process that fails at once: the trapping parent gets EXIT with the real
// reason. Port: a linked spawn (the link is made before the child can
// run, as the header says) of a child that fails in its first turn.
TEST_CASE("spawn_request_link_child_exit" * doctest::timeout(30)) {
  for (bool host : {true, false}) {
    CAPTURE(host);
    constexpr int kRounds = 50;
    Proc t;
    std::deque<Proc> children(kRounds);
    Rt rt(host);
    airs_pid pt = spawn_trapping(rt, t);
    for (int i = 0; i < kRounds; i++) {
      Proc& child = children[i];
      child.on_init = [](Actor&, airs_ctx* ctx) {
        return airs_ctx_send(ctx, airs_self(ctx), kGo, nullptr, 0);
      };
      child.also = [](Proc&, airs_ctx* ctx, const airs_msg* m) {
        if (airs_msg_type(m) != kGo) return AIRS_OK;
        return airs_exit(ctx, AIRS_EXIT_ERROR, kCode, "undef");
      };
      airs_pid pc = spawn_linked(rt, pt, child);
      REQUIRE(rt.until([&] {
        return t.count(AIRS_MSG_EXIT) == static_cast<size_t>(i + 1);
      }));
      check_exit(t.last(AIRS_MSG_EXIT), pc, AIRS_EXIT_ERROR, "undef");
    }
  }
}

// spawn_request_link_parent_exit: 1000 parents each spawn_request a
// linked child and exit kaboom soon after (waiting 0-9 ms); each child
// has a linked, trapping helper that reports the child's exit reason:
// every report must be kaboom (the link was in place before the parent's
// exit, whatever the timing). Port: 300 parents on two workers; each
// spawns its child linked, then sends itself 0-9 messages before it ends
// with kaboom; the child's init spawns the helper, linked and trapping.
TEST_CASE("spawn_request_link_parent_exit" * doctest::timeout(60)) {
  constexpr int kParents = 300;
  struct Reports {
    std::mutex mu;
    std::vector<Reason> reasons;
  } reports;
  std::deque<Proc> parents(kParents), children(kParents), helpers(kParents);
  Rt rt(false);
  for (int i = 0; i < kParents; i++) {
    Proc& parent = parents[i];
    Proc& child = children[i];
    Proc& helper = helpers[i];
    helper.also = [&reports, &child](Proc&, airs_ctx*, const airs_msg* m) {
      if (airs_msg_type(m) == AIRS_MSG_EXIT &&
          airs_msg_sender(m) == child.self) {
        std::lock_guard<std::mutex> lock(reports.mu);
        reports.reasons.push_back(copy_reason(airs_msg_reason(m)));
      }
      return AIRS_OK;
    };
    child.on_init = [&helper](Actor&, airs_ctx* ctx) {
      return ctx_spawn(ctx, helper, AIRS_SPAWN_LINK | AIRS_SPAWN_TRAP_EXIT)
                 ? AIRS_OK
                 : AIRS_EINTERNAL;
    };
    const int wait = i % 10;
    parent.also = [&child, wait](Proc&, airs_ctx* ctx, const airs_msg* m) {
      uint64_t left = value_of<uint64_t>(m);
      if (airs_msg_type(m) == kGo) {
        if (!ctx_spawn(ctx, child, AIRS_SPAWN_LINK)) return AIRS_EINTERNAL;
        left = static_cast<uint64_t>(wait);
      } else if (airs_msg_type(m) != kSync) {
        return AIRS_OK;
      }
      if (left == 0) return airs_exit(ctx, AIRS_EXIT_ERROR, kCode, "kaboom");
      left--;
      return airs_ctx_send(ctx, airs_self(ctx), kSync, &left, sizeof left);
    };
  }
  for (Proc& parent : parents) {
    airs_pid pp = spawn(rt, parent);
    REQUIRE(airs_send(rt, pp, kGo, nullptr, 0) == AIRS_OK);
  }
  REQUIRE(rt.until([&] {
    std::lock_guard<std::mutex> lock(reports.mu);
    return reports.reasons.size() == kParents;
  }));
  std::lock_guard<std::mutex> lock(reports.mu);
  for (const Reason& r : reports.reasons) {
    CHECK(r.kind == AIRS_EXIT_ERROR);
    CHECK(r.text == "kaboom");
  }
}
