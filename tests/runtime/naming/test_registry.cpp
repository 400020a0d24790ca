// test_registry.cpp - unique process names through the C API: register,
// whereis, unregister; names released when a process ends however it
// ends; one name per process; races between registrations and exits.
#include <memory>

#include "../rt_helpers.hpp"

using namespace rt_test;

namespace {

constexpr uint64_t kDie = 1;
constexpr uint64_t kPing = 2;

const Keys kHost = {{AIRS_CFG_WORKERS, 0}};

airs_pid whereis(airs_runtime* rt, const char* name) {
  airs_pid pid = 0;
  airs_status st = airs_whereis(rt, name, &pid);
  return st == AIRS_OK ? pid : AIRS_NO_PID;
}

void die_on_kDie(Actor& a) {
  a.on_receive = [](Actor&, airs_ctx* ctx, const airs_msg* m) {
    if (airs_msg_type(m) == kDie)
      return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, nullptr);
    return AIRS_OK;
  };
}

}  // namespace

TEST_CASE("register, whereis and unregister") {
  Actor a, b;
  Runtime rt(kHost);
  airs_pid pa = spawn(rt, a), pb = spawn(rt, b);
  CHECK(airs_register(rt, "alpha", pa) == AIRS_OK);
  CHECK(whereis(rt, "alpha") == pa);
  airs_pid out = 42;
  CHECK(airs_whereis(rt, "beta", &out) == AIRS_ENOTFOUND);
  CHECK(out == 42);
  // A name finds its process for sending.
  REQUIRE(airs_send(rt, whereis(rt, "alpha"), kPing, nullptr, 0) == AIRS_OK);
  poll_all(rt);
  CHECK(a.received == 1);

  CHECK(airs_unregister(rt, "alpha") == AIRS_OK);
  CHECK(airs_whereis(rt, "alpha", &out) == AIRS_ENOTFOUND);
  CHECK(airs_unregister(rt, "alpha") == AIRS_ENOTFOUND);
  // Free again: anyone may take it; the first owner may take another.
  CHECK(airs_register(rt, "alpha", pb) == AIRS_OK);
  CHECK(airs_register(rt, "gamma", pa) == AIRS_OK);
  CHECK(whereis(rt, "alpha") == pb);
  CHECK(whereis(rt, "gamma") == pa);
  CHECK(airs_is_alive(rt, pa));  // unregistering does not end anything
}

TEST_CASE("bad names are refused") {
  Actor a;
  Runtime rt(kHost);
  airs_pid pa = spawn(rt, a);
  airs_pid out = 0;
  CHECK(airs_register(rt, nullptr, pa) == AIRS_EINVAL);
  CHECK(airs_register(rt, "", pa) == AIRS_EINVAL);
  std::string longest(AIRS_NAME_MAX, 'n');
  std::string too_long(AIRS_NAME_MAX + 1, 'n');
  CHECK(airs_register(rt, too_long.c_str(), pa) == AIRS_EINVAL);
  CHECK(airs_whereis(rt, nullptr, &out) == AIRS_EINVAL);
  CHECK(airs_whereis(rt, "x", nullptr) == AIRS_EINVAL);
  CHECK(airs_unregister(rt, "") == AIRS_EINVAL);
  CHECK(airs_register(nullptr, "x", pa) == AIRS_EINVAL);
  CHECK(airs_register(rt, longest.c_str(), pa) == AIRS_OK);
  CHECK(whereis(rt, longest.c_str()) == pa);
}

TEST_CASE("a name is taken once, and a process has at most one name") {
  Actor a, b;
  Runtime rt(kHost);
  airs_pid pa = spawn(rt, a), pb = spawn(rt, b);
  REQUIRE(airs_register(rt, "only", pa) == AIRS_OK);
  CHECK(airs_register(rt, "only", pb) == AIRS_EEXIST);
  CHECK(airs_register(rt, "only", pa) == AIRS_EEXIST);  // even for the owner
  CHECK(airs_register(rt, "second", pa) == AIRS_EEXIST);
  CHECK(whereis(rt, "second") == AIRS_NO_PID);
  CHECK(whereis(rt, "only") == pa);
  CHECK(airs_register(rt, "other", pb) == AIRS_OK);
}

TEST_CASE("a name is released when its process ends") {
  Actor normal, killed, stopped, crashed, next;
  die_on_kDie(normal);
  crashed.on_receive = [](Actor&, airs_ctx*, const airs_msg*) {
    return AIRS_EINTERNAL;
  };

  SUBCASE("host-driven") {
    Runtime rt(kHost);
    airs_pid pn = spawn(rt, normal), pk = spawn(rt, killed);
    airs_pid ps = spawn(rt, stopped), pc = spawn(rt, crashed);
    REQUIRE(airs_register(rt, "normal", pn) == AIRS_OK);
    REQUIRE(airs_register(rt, "killed", pk) == AIRS_OK);
    REQUIRE(airs_register(rt, "stopped", ps) == AIRS_OK);
    REQUIRE(airs_register(rt, "crashed", pc) == AIRS_OK);
    REQUIRE(airs_send(rt, pn, kDie, nullptr, 0) == AIRS_OK);
    REQUIRE(airs_kill(rt, pk) == AIRS_OK);
    REQUIRE(airs_stop(rt, ps) == AIRS_OK);
    REQUIRE(airs_send(rt, pc, kPing, nullptr, 0) == AIRS_OK);
    poll_all(rt);
    for (const char* n : {"normal", "killed", "stopped", "crashed"}) {
      CAPTURE(std::string(n));
      CHECK(whereis(rt, n) == AIRS_NO_PID);
    }
    // The name is free for a new process (in the same slot, even).
    airs_pid pnew = spawn(rt, next);
    CHECK(airs_register(rt, "killed", pnew) == AIRS_OK);
    CHECK(whereis(rt, "killed") == pnew);
  }
  SUBCASE("threaded, seen right after airs_wait") {
    Runtime rt({{AIRS_CFG_WORKERS, 2}});
    airs_pid pn = spawn(rt, normal), pk = spawn(rt, killed);
    REQUIRE(airs_register(rt, "normal", pn) == AIRS_OK);
    REQUIRE(airs_register(rt, "killed", pk) == AIRS_OK);
    REQUIRE(airs_send(rt, pn, kDie, nullptr, 0) == AIRS_OK);
    REQUIRE(airs_kill(rt, pk) == AIRS_OK);
    REQUIRE(airs_wait(rt, pn, 2000) == AIRS_OK);
    REQUIRE(airs_wait(rt, pk, 2000) == AIRS_OK);
    CHECK(whereis(rt, "normal") == AIRS_NO_PID);
    CHECK(whereis(rt, "killed") == AIRS_NO_PID);
  }
}

TEST_CASE("a name taken in init is released when init fails") {
  Actor a, b;
  a.on_init = [](Actor&, airs_ctx* ctx) {
    airs_status st =
        airs_register(airs_ctx_runtime(ctx), "early", airs_self(ctx));
    if (st != AIRS_OK) return AIRS_EINTERNAL;
    return AIRS_ENOMEM;  // then fail
  };
  b.on_init = [](Actor&, airs_ctx* ctx) {
    return airs_register(airs_ctx_runtime(ctx), "early", airs_self(ctx));
  };
  Runtime rt(kHost);
  airs_pid pid = 0;
  CHECK(try_spawn(rt, a, &pid) == AIRS_ENOMEM);
  CHECK(whereis(rt, "early") == AIRS_NO_PID);
  airs_pid pb = spawn(rt, b);  // init that registers and succeeds
  CHECK(whereis(rt, "early") == pb);
}

TEST_CASE("names belong to their runtime") {
  Actor a, b;
  Runtime r1(kHost), r2(kHost);
  airs_pid pa = spawn(r1, a), pb = spawn(r2, b);
  CHECK(airs_register(r1, "same", pa) == AIRS_OK);
  CHECK(airs_register(r2, "same", pb) == AIRS_OK);
  CHECK(whereis(r1, "same") == pa);
  CHECK(whereis(r2, "same") == pb);
  r1.free();
  CHECK(whereis(r2, "same") == pb);
  airs_pid out = 0;
  CHECK(airs_whereis(r1, "same", &out) == AIRS_ESTATE);
}

// ---- races ---------------------------------------------------------------

TEST_CASE("four threads register one name at once: exactly one wins") {
  constexpr int kThreads = 4;
  constexpr int kRounds = 300;
  Actor actors[kThreads];
  Runtime rt({{AIRS_CFG_WORKERS, 2}});
  airs_pid pids[kThreads];
  for (int t = 0; t < kThreads; t++) pids[t] = spawn(rt, actors[t]);

  std::atomic<int> arrived{0};
  std::atomic<int> round_no{-1};
  std::vector<std::vector<airs_status>> results(
      kRounds, std::vector<airs_status>(kThreads, AIRS_EINTERNAL));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++)
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds; r++) {
        while (round_no.load() < r) std::this_thread::yield();
        std::string name = "contested-" + std::to_string(r);
        results[r][t] = airs_register(rt, name.c_str(), pids[t]);
        arrived++;
      }
    });
  int bad_rounds = 0, wrong_owner = 0;
  for (int r = 0; r < kRounds; r++) {
    round_no = r;  // all four start together
    while (arrived.load() < (r + 1) * kThreads) std::this_thread::yield();
    int wins = 0, exists = 0, winner = -1;
    for (int t = 0; t < kThreads; t++) {
      if (results[r][t] == AIRS_OK) {
        wins++;
        winner = t;
      }
      if (results[r][t] == AIRS_EEXIST) exists++;
    }
    if (wins != 1 || exists != kThreads - 1) bad_rounds++;
    std::string name = "contested-" + std::to_string(r);
    if (winner >= 0 && whereis(rt, name.c_str()) != pids[winner]) wrong_owner++;
    // Let the winner take part in the next round.
    if (winner >= 0) REQUIRE(airs_unregister(rt, name.c_str()) == AIRS_OK);
  }
  for (auto& th : threads) th.join();
  CHECK(bad_rounds == 0);
  CHECK(wrong_owner == 0);
}

TEST_CASE("a name never outlives its process, whatever the race") {
  // A thread registers the name while the process is being killed; once
  // the process has ended, the name must be gone either way.
  constexpr int kRounds = 300;
  Runtime rt({{AIRS_CFG_WORKERS, 2}});
  std::vector<std::unique_ptr<Actor>> actors;
  int outlived = 0, won = 0;
  for (int r = 0; r < kRounds; r++) {
    actors.push_back(std::make_unique<Actor>());
    airs_pid pid = spawn(rt, *actors.back());
    std::string name = "racer-" + std::to_string(r % 7);
    std::atomic<bool> go{false};
    airs_status st = AIRS_EINTERNAL;
    std::thread registrar([&] {
      while (!go) std::this_thread::yield();
      st = airs_register(rt, name.c_str(), pid);
    });
    go = true;
    if (r % 2) std::this_thread::yield();
    REQUIRE(airs_kill(rt, pid) == AIRS_OK);
    registrar.join();
    REQUIRE(airs_wait(rt, pid, 2000) == AIRS_OK);
    if (st == AIRS_OK) won++;
    if (st != AIRS_OK && st != AIRS_ENOPROC) {
      std::string status = airs_strerror(st);
      CAPTURE(status);
      FAIL("unexpected status");
    }
    if (whereis(rt, name.c_str()) != AIRS_NO_PID) outlived++;
  }
  CHECK(outlived == 0);
  MESSAGE("registrations that won the race: " << won << " of " << kRounds);
}

TEST_CASE("processes register and look each other up from callbacks") {
  // Workers name themselves in init and find a peer by name.
  constexpr int kN = 100;
  struct Peer : Actor {
    int index = 0;
    std::atomic<int> found{0};
  };
  std::vector<std::unique_ptr<Peer>> peers(kN);
  Runtime rt({{AIRS_CFG_WORKERS, 4}});
  std::vector<airs_pid> pids;
  for (int i = 0; i < kN; i++) {
    peers[i] = std::make_unique<Peer>();
    Peer* p = peers[i].get();
    p->index = i;
    p->on_init = [p](Actor&, airs_ctx* ctx) {
      std::string me = "peer-" + std::to_string(p->index);
      return airs_register(airs_ctx_runtime(ctx), me.c_str(), airs_self(ctx));
    };
    p->on_receive = [p](Actor&, airs_ctx* ctx, const airs_msg* m) {
      if (airs_msg_type(m) != kPing) {
        p->found++;
        return AIRS_OK;
      }
      std::string peer = "peer-" + std::to_string((p->index + 1) % kN);
      airs_pid to = 0;
      airs_status st = airs_whereis(airs_ctx_runtime(ctx), peer.c_str(), &to);
      if (st != AIRS_OK) return st;
      return airs_ctx_send(ctx, to, kDie, nullptr, 0);
    };
    pids.push_back(spawn(rt, *p));
  }
  for (airs_pid p : pids)
    REQUIRE(airs_send(rt, p, kPing, nullptr, 0) == AIRS_OK);
  REQUIRE(wait_until([&] {
    for (auto& p : peers)
      if (p->found != 1) return false;
    return true;
  }));
  for (auto& p : peers) CHECK(p->terms == 0);
}
