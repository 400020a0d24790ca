// erl_link_SUITE.cpp - a hand port of OTP's erts/emulator/test/
// erl_link_SUITE.erl (links, exit signals through links, trap_exit,
// monitors, unlink and demonitor racing an exit, simultaneous link and
// unlink) against the public C API. Each case is named after the OTP case
// it ports; CASES.md lists every OTP case, the ones that
// need distribution (not applicable) included.
//
// OTP drives "test processes" that run the funs they are sent (tp_call,
// tp_cast). Here a test process is an rt_test::Actor that runs the jobs
// it is sent (a std::function of its ctx): job_call() sends one and waits
// for it to have run, job_cast() only sends it. OTP looks at the link and
// monitor lists of a process through erts_debug; the C API has no such
// view, so the ports check what those lists mean instead: who hears of
// whose end, with which reason.
#include <memory>
#include <random>

#include "../runtime/sup_helpers.hpp"

using namespace rt_test;

namespace {

constexpr uint64_t kJob = 0x7101;   // payload: an owned Job
constexpr uint64_t kGo = 0x7102;    // payload: the other process's pid
constexpr uint64_t kPing = 0x7103;  // the handshake that ends a round of
constexpr uint64_t kPong = 0x7104;  // the otp_17127 cases
constexpr uint64_t kPling = 0x7105;
constexpr uint64_t kGoOn = 0x7106;  // "yield": the rest of the work later

// Many processes here trap exits; free kills those that ignore shutdown.
const Keys kHost = {{AIRS_CFG_WORKERS, 0}, {AIRS_CFG_SHUTDOWN_TIMEOUT_MS, 20}};
const Keys kThreaded = {{AIRS_CFG_WORKERS, 2},
                        {AIRS_CFG_SHUTDOWN_TIMEOUT_MS, 20}};

using Job = std::function<void(airs_ctx*)>;

void free_job(void* job) {
  delete static_cast<Job*>(job);
}

// A runtime, threaded or host-driven, and the two ways to let it work.
struct Env {
  explicit Env(bool threaded_)
      : rt(threaded_ ? kThreaded : kHost), threaded(threaded_) {}
  Runtime rt;
  bool threaded;

  // Host-driven: runs everything that can run. Threaded: nothing to do.
  void settle() {
    if (!threaded) poll_all(rt);
  }
  // Waits until pred() holds (host-driven: once everything has run).
  template <class Pred>
  bool until(Pred pred) {
    settle();
    return wait_until(pred, threaded ? 3000 : 0);
  }
  // Gives what must not happen a chance to happen: a threaded runtime
  // runs on meanwhile; a host-driven one runs until idle.
  void grace() {
    if (threaded)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    else
      poll_all(rt);
  }
};

// The job of a kJob message, run by the process that got it.
Job* job_of(const airs_msg* m) {
  return static_cast<Job*>(const_cast<void*>(airs_msg_data(m)));
}

// Makes `a` a test process: it runs each job it is sent, and calls
// `other` (if any) with every other message.
void run_jobs(Actor& a,
              std::function<airs_status(Actor&, airs_ctx*, const airs_msg*)>
                  other = nullptr) {
  a.on_receive = [other](Actor& self, airs_ctx* ctx, const airs_msg* m) {
    if (airs_msg_type(m) == kJob) {
      (*job_of(m))(ctx);
      return AIRS_OK;
    }
    return other ? other(self, ctx, m) : AIRS_OK;
  };
}

// OTP's tp_cast: `pid` runs `job` in one of its callbacks, some time.
airs_status job_cast(airs_runtime* rt, airs_pid pid, Job job) {
  auto* owned = new Job(std::move(job));
  airs_msg* m = nullptr;
  airs_status st = airs_msg_new_owned(kJob, owned, 1, free_job, &m);
  if (st != AIRS_OK) {
    delete owned;
    return st;
  }
  st = airs_send_msg(rt, pid, m);
  if (st != AIRS_OK) airs_msg_free(m);
  return st;
}

// OTP's tp_call: `pid` runs `job`; returns once it has (false: it did not
// in time, or `pid` is gone).
bool job_call(Env& env, airs_pid pid, Job job) {
  auto done = std::make_shared<std::atomic<bool>>(false);
  Job wrapped = [job = std::move(job), done](airs_ctx* ctx) {
    job(ctx);
    *done = true;
  };
  if (job_cast(env.rt, pid, std::move(wrapped)) != AIRS_OK) return false;
  return env.until([&] { return done->load(); });
}

// The messages of type `type` that `a` got from `from`.
std::vector<Received> from_of(const Actor& a, uint64_t type, airs_pid from) {
  std::vector<Received> out;
  for (const Received& r : a.messages())
    if (r.type == type && r.sender == from) out.push_back(r);
  return out;
}

bool is_error(const Reason& r, const char* text) {
  return r.kind == AIRS_EXIT_ERROR && r.text == text;
}

}  // namespace

// links: a test process TP1 (spawned without a link, so its end must not
// reach the spawner) spawn-links TP2; TP2 unlinks and links again, traps
// exits, and hears TP1's end {'EXIT', TP1, died} as a message; TP2 then
// spawn-links TP3 and ends with `died`, which kills TP3 (not trapping) with
// that reason. Last, link(self()) and unlink(self()) are accepted and make
// no link. Here the Erlang test process is a trapping test actor; OTP's
// look at the link lists becomes what each process hears (the spawner
// monitors TP1 so that it knows when an EXIT from TP1 would have come).
TEST_CASE("links" * doctest::timeout(30)) {
  for (bool threaded : {false, true}) {
    CAPTURE(threaded);
    // What the jobs write is declared before the runtime, which is freed
    // first (a job that a failed check left queued may still run).
    Actor tester, tp1, tp2, tp3;
    std::atomic<airs_pid> p1{0}, p2{0}, p3{0};
    std::atomic<airs_status> st{AIRS_EINTERNAL};
    std::atomic<airs_status> linked{AIRS_EINTERNAL}, unlinked{AIRS_EINTERNAL};
    Env env(threaded);
    for (Actor* a : {&tester, &tp1, &tp2, &tp3}) run_jobs(*a);
    airs_spawn_opts trap = opts_of(env.rt, AIRS_SPAWN_TRAP_EXIT);
    airs_pid me = spawn(env.rt, tester, &trap);
    REQUIRE(job_call(env, me, [&](airs_ctx* ctx) {
      p1 = ctx_spawn(ctx, tp1);
      uint64_t ref = 0;
      st = airs_monitor(ctx, p1, &ref);
    }));
    REQUIRE(p1 != 0);
    REQUIRE(st == AIRS_OK);
    REQUIRE(job_call(env, p1, [&](airs_ctx* ctx) {
      p2 = ctx_spawn(ctx, tp2, AIRS_SPAWN_LINK);
    }));
    REQUIRE(p2 != 0);
    REQUIRE(
        job_call(env, p2, [&](airs_ctx* ctx) { st = airs_unlink(ctx, p1); }));
    CHECK(st == AIRS_OK);
    REQUIRE(job_call(env, p2, [&](airs_ctx* ctx) { st = airs_link(ctx, p1); }));
    CHECK(st == AIRS_OK);
    REQUIRE(job_call(env, p2,
                     [&](airs_ctx* ctx) { st = airs_trap_exit(ctx, true); }));
    CHECK(st == AIRS_OK);

    REQUIRE(job_cast(env.rt, p1, [](airs_ctx* ctx) {
              airs_exit(ctx, AIRS_EXIT_ERROR, 0, "died");
            }) == AIRS_OK);
    REQUIRE(
        env.until([&] { return !from_of(tp2, AIRS_MSG_EXIT, p1).empty(); }));
    auto exits = from_of(tp2, AIRS_MSG_EXIT, p1);
    REQUIRE(exits.size() == 1);
    CHECK(is_error(exits[0].reason, "died"));
    CHECK(airs_is_alive(env.rt, p2));
    CHECK(is_error(tp1.reason(), "died"));

    // TP1 was spawned without a link: its spawner hears of its end by the
    // monitor only.
    REQUIRE(
        env.until([&] { return !from_of(tester, AIRS_MSG_DOWN, p1).empty(); }));
    env.grace();
    CHECK(from_of(tester, AIRS_MSG_EXIT, p1).empty());

    REQUIRE(job_call(env, p2, [&](airs_ctx* ctx) {
      p3 = ctx_spawn(ctx, tp3, AIRS_SPAWN_LINK);
    }));
    REQUIRE(p3 != 0);
    REQUIRE(job_cast(env.rt, p2, [](airs_ctx* ctx) {
              airs_exit(ctx, AIRS_EXIT_ERROR, 0, "died");
            }) == AIRS_OK);
    REQUIRE(airs_wait(env.rt, p3, 3000) == AIRS_OK);
    CHECK(is_error(tp3.reason(), "died"));
    CHECK(is_error(tp2.reason(), "died"));
    CHECK(tp3.terms == 1);

    // A link to oneself is accepted and is no link: the process can
    // still end with any reason, and nobody hears of it.
    REQUIRE(job_call(env, me, [&](airs_ctx* ctx) {
      linked = airs_link(ctx, airs_self(ctx));
      unlinked = airs_unlink(ctx, airs_self(ctx));
    }));
    CHECK(linked == AIRS_OK);
    CHECK(unlinked == AIRS_OK);
    REQUIRE(job_cast(env.rt, me, [](airs_ctx* ctx) {
              airs_link(ctx, airs_self(ctx));
              airs_exit(ctx, AIRS_EXIT_ERROR, 0, "bye");
            }) == AIRS_OK);
    REQUIRE(airs_wait(env.rt, me, 3000) == AIRS_OK);
    CHECK(is_error(tester.reason(), "bye"));
    CHECK(tester.terms == 1);
  }
}

// process_monitors: TP1 monitors TP2 (R1); TP2 calling demonitor with
// R1, a ref that is not its own, changes nothing; TP1's demonitor(R1)
// ends R1; a new monitor R2 gets {'DOWN', R2, process, TP2, bye} when TP2
// exits with `bye`, and a monitor R3 of the dead TP2 gets noproc. The same
// again with TP2 found by its registered name. Last, monitors of oneself
// (by pid and by name) are made and never fire, and can be demonitored.
// The C API monitors pids only, so "by name" is a whereis in the monitoring
// process. To see that TP2's stray demonitor changed nothing, TP1 keeps a
// second monitor (Rkeep) that TP2 also tries to end: it must still fire.
TEST_CASE("process_monitors" * doctest::timeout(30)) {
  for (bool threaded : {false, true}) {
    for (bool by_name : {false, true}) {
      CAPTURE(threaded);
      CAPTURE(by_name);
      Actor tp1, tp2;
      uint64_t r1 = 0, r_keep = 0, r2 = 0, r3 = 0;
      std::atomic<airs_status> st{AIRS_EINTERNAL}, st2{AIRS_EINTERNAL};
      airs_pid p2 = 0;
      // TP2 as the monitoring process names it.
      auto target = [&](airs_ctx* ctx) {
        airs_pid p = 0;
        if (!by_name) return p2;
        CHECK(airs_whereis(airs_ctx_runtime(ctx), "tp2", &p) == AIRS_OK);
        return p;
      };
      Env env(threaded);
      run_jobs(tp1);
      run_jobs(tp2);
      airs_pid p1 = spawn(env.rt, tp1);
      p2 = spawn(env.rt, tp2);
      if (by_name) REQUIRE(airs_register(env.rt, "tp2", p2) == AIRS_OK);
      REQUIRE(job_call(env, p1, [&](airs_ctx* ctx) {
        st = airs_monitor(ctx, target(ctx), &r1);
        st2 = airs_monitor(ctx, target(ctx), &r_keep);
      }));
      REQUIRE(st == AIRS_OK);
      REQUIRE(st2 == AIRS_OK);
      REQUIRE(job_call(env, p2, [&](airs_ctx* ctx) {
        st = airs_demonitor(ctx, r1);
        st2 = airs_demonitor(ctx, r_keep);
      }));
      CHECK(st == AIRS_OK);
      CHECK(st2 == AIRS_OK);
      REQUIRE(job_call(env, p1,
                       [&](airs_ctx* ctx) { st = airs_demonitor(ctx, r1); }));
      CHECK(st == AIRS_OK);

      REQUIRE(job_call(env, p1, [&](airs_ctx* ctx) {
        st = airs_monitor(ctx, target(ctx), &r2);
      }));
      REQUIRE(st == AIRS_OK);
      REQUIRE(job_cast(env.rt, p2, [](airs_ctx* ctx) {
                airs_exit(ctx, AIRS_EXIT_ERROR, 0, "bye");
              }) == AIRS_OK);
      REQUIRE(airs_wait(env.rt, p2, 3000) == AIRS_OK);
      REQUIRE(env.until(
          [&] { return from_of(tp1, AIRS_MSG_DOWN, p2).size() >= 2; }));

      // By name, the name is gone with TP2: as Erlang's monitor of a
      // name that is not registered, the DOWN says noproc.
      REQUIRE(job_call(env, p1, [&](airs_ctx* ctx) {
        airs_pid p = p2;
        if (by_name)
          CHECK(airs_whereis(airs_ctx_runtime(ctx), "tp2", &p) ==
                AIRS_ENOTFOUND);
        st = airs_monitor(ctx, p, &r3);
      }));
      REQUIRE(st == AIRS_OK);
      REQUIRE(env.until(
          [&] { return from_of(tp1, AIRS_MSG_DOWN, p2).size() >= 3; }));
      env.grace();
      auto downs = from_of(tp1, AIRS_MSG_DOWN, p2);
      REQUIRE(downs.size() == 3);
      // R1 was demonitored: no DOWN. The others, in the order they fire.
      std::vector<uint64_t> refs;
      for (const Received& d : downs) refs.push_back(d.correlation);
      std::sort(refs.begin(), refs.begin() + 2);
      CHECK(refs == std::vector<uint64_t>{std::min(r_keep, r2),
                                          std::max(r_keep, r2), r3});
      CHECK(is_error(downs[0].reason, "bye"));
      CHECK(is_error(downs[1].reason, "bye"));
      CHECK(downs[2].reason.kind == AIRS_EXIT_NOPROC);

      REQUIRE(job_cast(env.rt, p1, [](airs_ctx* ctx) {
                airs_exit(ctx, AIRS_EXIT_NORMAL, 0, nullptr);
              }) == AIRS_OK);
      REQUIRE(airs_wait(env.rt, p1, 3000) == AIRS_OK);
      CHECK(tp1.reason().kind == AIRS_EXIT_NORMAL);
    }
  }

  // Monitors of oneself, by pid and by (one's own registered) name.
  for (bool threaded : {false, true}) {
    CAPTURE(threaded);
    Actor me;
    uint64_t mon1 = 0, mon2 = 0;
    std::atomic<airs_status> st1{AIRS_EINTERNAL}, st2{AIRS_EINTERNAL};
    Env env(threaded);
    run_jobs(me);
    airs_pid pid = spawn(env.rt, me);
    REQUIRE(airs_register(env.rt, "process_monitors", pid) == AIRS_OK);
    REQUIRE(job_call(env, pid, [&](airs_ctx* ctx) {
      airs_pid self_by_name = 0;
      CHECK(airs_whereis(airs_ctx_runtime(ctx), "process_monitors",
                         &self_by_name) == AIRS_OK);
      st1 = airs_monitor(ctx, airs_self(ctx), &mon1);
      st2 = airs_monitor(ctx, self_by_name, &mon2);
    }));
    CHECK(st1 == AIRS_OK);
    CHECK(st2 == AIRS_OK);
    CHECK(mon1 != mon2);
    env.grace();
    REQUIRE(job_call(env, pid, [&](airs_ctx* ctx) {
      st1 = airs_demonitor(ctx, mon1);
      st2 = airs_demonitor(ctx, mon2);
    }));
    CHECK(st1 == AIRS_OK);
    CHECK(st2 == AIRS_OK);
    CHECK(from_of(me, AIRS_MSG_DOWN, pid).empty());
    CHECK(me.messages().size() == 2);  // the two jobs, nothing else
  }
}

// otp_5772_link: a trapping process spawn-links TP1, sends it an exit
// signal `bang` and at once unlinks it. TP1 dies of the signal. An EXIT
// from the link may already be in the queue when unlink returns (Erlang
// lets it be there), but none may come later. OTP gives TP1 a low
// priority to make the race; here TP1 runs on the other worker of a
// threaded runtime, many rounds; host-driven, TP1 runs only after the
// unlink. The C API promises more than Erlang: "no exit signal
// caused by the link arrives after [airs_unlink] returns", so no EXIT from
// TP1 may reach the process at all.
TEST_CASE("otp_5772_link" * doctest::timeout(30)) {
  for (bool threaded : {false, true}) {
    CAPTURE(threaded);
    const int rounds = threaded ? 200 : 5;
    std::vector<std::unique_ptr<Actor>> tps;
    for (int i = 0; i < rounds; i++) tps.push_back(std::make_unique<Actor>());
    Actor tester;
    std::vector<airs_pid> pids(rounds);
    std::atomic<airs_status> st{AIRS_EINTERNAL};
    Env env(threaded);
    run_jobs(tester);
    airs_spawn_opts trap = opts_of(env.rt, AIRS_SPAWN_TRAP_EXIT);
    airs_pid me = spawn(env.rt, tester, &trap);
    for (int i = 0; i < rounds; i++) {
      CAPTURE(i);
      st = AIRS_EINTERNAL;
      REQUIRE(job_call(env, me, [&, i](airs_ctx* ctx) {
        pids[i] = ctx_spawn(ctx, *tps[i], AIRS_SPAWN_LINK);
        st = airs_send_exit(airs_ctx_runtime(ctx), pids[i], AIRS_EXIT_ERROR, 0,
                            "bang");
        if (st == AIRS_OK) st = airs_unlink(ctx, pids[i]);
      }));
      REQUIRE(pids[i] != 0);
      REQUIRE(st == AIRS_OK);
      REQUIRE(airs_wait(env.rt, pids[i], 3000) == AIRS_OK);
    }
    env.grace();
    REQUIRE(job_call(env, me, [](airs_ctx*) {}));
    int exits = 0, not_bang = 0;
    for (const Received& r : tester.messages())
      if (r.type == AIRS_MSG_EXIT) exits++;
    for (auto& tp : tps)
      if (!is_error(tp->reason(), "bang")) not_bang++;
    CHECK(exits == 0);
    CHECK(not_bang == 0);
    CHECK(airs_is_alive(env.rt, me));
  }
}

// otp_5772_monitor: the same race with a monitor: monitor TP1, send it an
// exit signal `bang`, demonitor at once; no DOWN may come after the
// demonitor (one queued before it is allowed by Erlang; the C API says "its
// down message will not be delivered after this returns": none at all).
TEST_CASE("otp_5772_monitor" * doctest::timeout(30)) {
  for (bool threaded : {false, true}) {
    CAPTURE(threaded);
    const int rounds = threaded ? 200 : 5;
    std::vector<std::unique_ptr<Actor>> tps;
    for (int i = 0; i < rounds; i++) tps.push_back(std::make_unique<Actor>());
    Actor tester;
    std::vector<airs_pid> pids(rounds);
    std::atomic<airs_status> st{AIRS_EINTERNAL};
    Env env(threaded);
    run_jobs(tester);
    airs_pid me = spawn(env.rt, tester);
    for (int i = 0; i < rounds; i++) {
      CAPTURE(i);
      pids[i] = spawn(env.rt, *tps[i]);
      st = AIRS_EINTERNAL;
      REQUIRE(job_call(env, me, [&, i](airs_ctx* ctx) {
        uint64_t ref = 0;
        st = airs_monitor(ctx, pids[i], &ref);
        if (st == AIRS_OK)
          st = airs_send_exit(airs_ctx_runtime(ctx), pids[i], AIRS_EXIT_ERROR,
                              0, "bang");
        if (st == AIRS_OK) st = airs_demonitor(ctx, ref);
      }));
      REQUIRE(st == AIRS_OK);
      REQUIRE(airs_wait(env.rt, pids[i], 3000) == AIRS_OK);
    }
    env.grace();
    REQUIRE(job_call(env, me, [](airs_ctx*) {}));
    int downs = 0, not_bang = 0;
    for (const Received& r : tester.messages())
      if (r.type == AIRS_MSG_DOWN) downs++;
    for (auto& tp : tps)
      if (!is_error(tp->reason(), "bang")) not_bang++;
    CHECK(downs == 0);
    CHECK(not_bang == 0);
  }
}

// otp_7946: a process on a node that has gone away is monitored (its DOWN
// comes); then a new process links to it, and must die of that link with
// reason noconnection, as its monitor shows. There are no nodes here; the
// local counterpart is a link to a pid that has ended: the linker (not
// trapping) dies with reason noproc, which the test's monitor of the linker
// shows. The linker links on a message sent after the monitor is made, so
// the noproc of its DOWN cannot be the monitor's own.
TEST_CASE("otp_7946" * doctest::timeout(30)) {
  for (bool threaded : {false, true}) {
    CAPTURE(threaded);
    Actor tester, proc, linker;
    uint64_t mon = 0, lmon = 0;
    std::atomic<airs_status> st{AIRS_EINTERNAL}, link_st{AIRS_EINTERNAL};
    std::atomic<airs_pid> l{0};
    Env env(threaded);
    run_jobs(tester);
    run_jobs(linker);
    airs_pid me = spawn(env.rt, tester);
    airs_pid p = spawn(env.rt, proc);
    REQUIRE(job_call(env, me,
                     [&](airs_ctx* ctx) { st = airs_monitor(ctx, p, &mon); }));
    REQUIRE(st == AIRS_OK);
    REQUIRE(airs_kill(env.rt, p) == AIRS_OK);
    REQUIRE(
        env.until([&] { return !from_of(tester, AIRS_MSG_DOWN, p).empty(); }));

    REQUIRE(job_call(env, me, [&](airs_ctx* ctx) {
      l = ctx_spawn(ctx, linker);
      st = airs_monitor(ctx, l, &lmon);
    }));
    REQUIRE(l != 0);
    REQUIRE(st == AIRS_OK);
    REQUIRE(job_cast(env.rt, l, [&, p](airs_ctx* ctx) {
              link_st = airs_link(ctx, p);
            }) == AIRS_OK);
    REQUIRE(
        env.until([&] { return !from_of(tester, AIRS_MSG_DOWN, l).empty(); }));
    CHECK(link_st == AIRS_OK);
    auto downs = from_of(tester, AIRS_MSG_DOWN, l);
    REQUIRE(downs.size() == 1);
    CHECK(downs[0].correlation == lmon);
    CHECK(downs[0].reason.kind == AIRS_EXIT_NOPROC);
    CHECK(linker.reason().kind == AIRS_EXIT_NOPROC);
  }
}

namespace {

// The two processes of an otp_17127 round. Each gets kGo with the other's
// pid, waits at a barrier so that both start together (on two workers),
// does its part (`part`, which may ask to go on later, Erlang's yield), and
// then the two shake hands: B sends ping, A answers pong, B sends pling.
// Pair ordering makes every link signal of the round arrive before the
// handshake ends. Neither traps exits.
struct Side : Actor {
  // Runs a step of the part; returns true when the part is over.
  std::function<bool(Side&, airs_ctx*)> part;
  bool is_b = false;
  std::atomic<int>* at_barrier = nullptr;
  airs_pid other = 0;
  bool part_done = false;
  bool ping_waits = false;  // A: B's ping came before A's part was over
  std::atomic<bool> done{false};
};

void barrier(std::atomic<int>& at) {
  // Both processes may be on one worker: then the second cannot come
  // while the first waits, so the wait is short.
  at++;
  auto give_up =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(2);
  while (at.load() < 2 && std::chrono::steady_clock::now() < give_up) {
  }
}

airs_status answer_ping(Side& a, airs_ctx* ctx) {
  return airs_ctx_send(ctx, a.other, kPong, nullptr, 0);
}

airs_status side_step(Side& s, airs_ctx* ctx) {
  if (!s.part(s, ctx))
    return airs_ctx_send(ctx, airs_self(ctx), kGoOn, nullptr, 0);
  s.part_done = true;
  if (s.is_b) return airs_ctx_send(ctx, s.other, kPing, nullptr, 0);
  return s.ping_waits ? answer_ping(s, ctx) : AIRS_OK;
}

void make_side(Side& s, bool is_b, std::atomic<int>* at_barrier) {
  s.is_b = is_b;
  s.at_barrier = at_barrier;
  run_jobs(s, [](Actor& a, airs_ctx* ctx, const airs_msg* m) {
    Side& s = static_cast<Side&>(a);
    switch (airs_msg_type(m)) {
      case kGo:
        s.other = pid_of(m);
        barrier(*s.at_barrier);
        return side_step(s, ctx);
      case kGoOn: return side_step(s, ctx);
      case kPing:
        // OTP's A takes ping only once its part is over (a selective
        // receive): B's ping may come before A's go when B went first.
        if (s.part_done) return answer_ping(s, ctx);
        s.ping_waits = true;
        return AIRS_OK;
      case kPong:
        s.done = true;
        return airs_ctx_send(ctx, s.other, kPling, nullptr, 0);
      case kPling: s.done = true; return AIRS_OK;
    }
    return AIRS_OK;
  });
}

// Runs one round: A and B do their parts at once, then shake hands. Then
// OTP checks that both are alive and agree on whether they are linked.
// With no view of the link lists, agreement is checked by its meaning:
// after one side (`prober`) calls link again, both must be linked, whatever
// they agreed on; so when the other side then ends with an error, the
// prober must die of it too. A side that believed in a link the other had
// dropped would take the new link for done and miss the other's end.
void run_17127_round(Env& env, Side& a, Side& b, bool a_first,
                     bool probe_from_b) {
  airs_pid pa = spawn(env.rt, a), pb = spawn(env.rt, b);
  for (airs_pid p :
       a_first ? std::vector<airs_pid>{pa, pb} : std::vector<airs_pid>{pb, pa})
    REQUIRE(send_pid(env.rt, p, kGo, p == pa ? pb : pa) == AIRS_OK);
  REQUIRE(env.until([&] { return a.done && b.done; }));
  CHECK(airs_is_alive(env.rt, pa));
  CHECK(airs_is_alive(env.rt, pb));

  airs_pid prober = probe_from_b ? pb : pa, ender = probe_from_b ? pa : pb;
  Side& probing = probe_from_b ? b : a;
  auto st = std::make_shared<std::atomic<airs_status>>(AIRS_EINTERNAL);
  REQUIRE(job_call(env, prober, [st, ender](airs_ctx* ctx) {
    *st = airs_link(ctx, ender);
  }));
  REQUIRE(*st == AIRS_OK);
  REQUIRE(job_cast(env.rt, ender, [](airs_ctx* ctx) {
            airs_exit(ctx, AIRS_EXIT_ERROR, 0, "probe");
          }) == AIRS_OK);
  REQUIRE(airs_wait(env.rt, ender, 3000) == AIRS_OK);
  env.settle();
  CHECK(airs_wait(env.rt, prober, 1000) == AIRS_OK);
  CHECK(is_error(probing.reason(), "probe"));
}

}  // namespace

// otp_17127_local_link_with_simultaneous_link_unlink: A calls link(B)
// while B calls link(A) then unlink(A), at the same time. Whatever the
// order the signals meet in, A and B must end up agreeing on the link
// (both linked or both not), and both alive. Host-driven, each order of
// the two parts is forced in turn; threaded, the two parts race on two
// workers.
TEST_CASE("otp_17127_local_link_with_simultaneous_link_unlink" *
          doctest::timeout(30)) {
  for (bool threaded : {false, true}) {
    const int rounds = threaded ? 200 : 4;
    for (int i = 0; i < rounds; i++) {
      CAPTURE(threaded);
      CAPTURE(i);
      std::atomic<int> at_barrier{0};
      Side a, b;
      make_side(a, false, &at_barrier);
      make_side(b, true, &at_barrier);
      a.part = [](Side& s, airs_ctx* ctx) {
        CHECK(airs_link(ctx, s.other) == AIRS_OK);
        return true;
      };
      b.part = [](Side& s, airs_ctx* ctx) {
        CHECK(airs_link(ctx, s.other) == AIRS_OK);
        CHECK(airs_unlink(ctx, s.other) == AIRS_OK);
        return true;
      };
      Env env(threaded);
      run_17127_round(env, a, b, i % 2 == 0, (i / 2) % 2 == 0);
    }
  }
}

// otp_17127_local_random: A and B each make 1 to 500 random steps on the
// other: link, unlink, or yield (here: the rest of the steps in a later
// turn, so that the other side's signals come in between). Then, as above,
// they must agree on the link. 100 rounds as in OTP, threaded. Host-driven,
// the yields interleave the two sides, the same way each run: 40 rounds
// of up to 500 steps, and 400 of up to 8, where the crossing that decides
// the end is more often in the last few steps.
TEST_CASE("otp_17127_local_random" * doctest::timeout(60)) {
  struct Mode {
    bool threaded;
    int rounds;
    int most_steps;
  };
  for (Mode mode :
       {Mode{true, 100, 500}, Mode{false, 40, 500}, Mode{false, 400, 8}}) {
    const bool threaded = mode.threaded;
    for (int i = 0; i < mode.rounds; i++) {
      CAPTURE(threaded);
      CAPTURE(mode.most_steps);
      CAPTURE(i);
      std::atomic<int> at_barrier{0};
      Side a, b;
      make_side(a, false, &at_barrier);
      make_side(b, true, &at_barrier);
      for (Side* s : {&a, &b}) {
        auto rng = std::make_shared<std::mt19937>(1000 * i + (s == &b));
        auto left = std::make_shared<int>(
            std::uniform_int_distribution<int>(1, mode.most_steps)(*rng));
        s->part = [rng, left](Side& self, airs_ctx* ctx) {
          while (*left > 0) {
            --*left;
            switch (std::uniform_int_distribution<int>(1, 3)(*rng)) {
              case 1: CHECK(airs_link(ctx, self.other) == AIRS_OK); break;
              case 2: CHECK(airs_unlink(ctx, self.other) == AIRS_OK); break;
              case 3: return false;  // yield
            }
          }
          return true;
        };
      }
      Env env(threaded);
      run_17127_round(env, a, b, i % 2 == 0, (i / 2) % 2 == 0);
    }
  }
}
