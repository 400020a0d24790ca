// Tests of named pools: join, leave, round-robin and random pick, the
// members list, members removed when they end, and picks racing with
// members that die (suite concurrency).
#include <airs/airs.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "../rt_helpers.hpp"

using namespace rt_test;

namespace {

const Keys kHost = {{AIRS_CFG_WORKERS, 0}, {AIRS_CFG_SHUTDOWN_TIMEOUT_MS, 20}};

airs_pid pick(airs_runtime* rt, const char* pool, airs_pick how) {
  airs_pid p = 0;
  airs_status st = airs_pool_pick(rt, pool, how, &p);
  INFO(airs_strerror(st) << ": " << airs_last_error_message());
  REQUIRE(st == AIRS_OK);
  REQUIRE(p != AIRS_NO_PID);
  return p;
}

std::vector<airs_pid> picks(airs_runtime* rt, const char* pool, int n,
                            airs_pick how = AIRS_PICK_ROUND_ROBIN) {
  std::vector<airs_pid> out;
  for (int i = 0; i < n; i++) out.push_back(pick(rt, pool, how));
  return out;
}

std::vector<airs_pid> members(airs_runtime* rt, const char* pool) {
  size_t n = 0;
  REQUIRE(airs_pool_members(rt, pool, nullptr, 0, &n) == AIRS_OK);
  std::vector<airs_pid> out(n + 4, 0);
  size_t again = 0;
  REQUIRE(airs_pool_members(rt, pool, out.data(), out.size(), &again) ==
          AIRS_OK);
  REQUIRE(again == n);
  out.resize(n);
  return out;
}

size_t member_count(airs_runtime* rt, const char* pool) {
  size_t n = 0;
  REQUIRE(airs_pool_members(rt, pool, nullptr, 0, &n) == AIRS_OK);
  return n;
}

// The pool is gone: no member, nothing to pick or leave.
void check_empty(airs_runtime* rt, const char* pool, airs_pid some) {
  CHECK(members(rt, pool).empty());
  airs_pid p = 777;
  CHECK(airs_pool_pick(rt, pool, AIRS_PICK_ROUND_ROBIN, &p) == AIRS_ENOTFOUND);
  CHECK(airs_pool_pick(rt, pool, AIRS_PICK_RANDOM, &p) == AIRS_ENOTFOUND);
  CHECK(p == 777);
  CHECK(airs_pool_leave(rt, pool, some) == AIRS_ENOTFOUND);
}

using Pids = std::vector<airs_pid>;

}  // namespace

TEST_CASE("round robin gives the members in join order, in turn") {
  Actor aa, bb, cc;  // outlive the runtime
  Runtime rt(kHost);
  airs_pid a = spawn(rt, aa), b = spawn(rt, bb), c = spawn(rt, cc);
  REQUIRE(airs_pool_join(rt, "w", a) == AIRS_OK);
  REQUIRE(airs_pool_join(rt, "w", b) == AIRS_OK);
  REQUIRE(airs_pool_join(rt, "w", c) == AIRS_OK);
  REQUIRE(airs_pool_join(rt, "w", a) == AIRS_OK);  // twice is once
  CHECK(members(rt, "w") == Pids{a, b, c});
  CHECK(picks(rt, "w", 7) == Pids{a, b, c, a, b, c, a});

  // b leaves: the turn goes on from where it was, without b.
  REQUIRE(airs_pool_leave(rt, "w", b) == AIRS_OK);
  CHECK(airs_pool_leave(rt, "w", b) == AIRS_ENOTFOUND);
  CHECK(members(rt, "w") == Pids{a, c});
  CHECK(picks(rt, "w", 3) == Pids{c, a, c});
  // b joins again, now after c: it is next.
  REQUIRE(airs_pool_join(rt, "w", b) == AIRS_OK);
  CHECK(members(rt, "w") == Pids{a, c, b});
  CHECK(picks(rt, "w", 6) == Pids{b, a, c, b, a, c});

  // Pools are independent; a process may be in several.
  REQUIRE(airs_pool_join(rt, "other", c) == AIRS_OK);
  REQUIRE(airs_pool_join(rt, "other", a) == AIRS_OK);
  CHECK(picks(rt, "other", 3) == Pids{c, a, c});
  CHECK(picks(rt, "w", 3) == Pids{b, a, c});

  // The pool exists while it has members.
  for (airs_pid p : {a, b, c}) REQUIRE(airs_pool_leave(rt, "w", p) == AIRS_OK);
  check_empty(rt, "w", a);
  CHECK(members(rt, "other") == Pids{c, a});
  REQUIRE(airs_pool_join(rt, "w", b) == AIRS_OK);  // a new pool
  CHECK(picks(rt, "w", 2) == Pids{b, b});
}

TEST_CASE("members beyond capacity: the count is still all of them") {
  Actor x[5];
  Runtime rt(kHost);
  Pids all;
  for (Actor& a : x) {
    all.push_back(spawn(rt, a));
    REQUIRE(airs_pool_join(rt, "p", all.back()) == AIRS_OK);
  }
  airs_pid out[3] = {0, 0, 0};
  size_t n = 0;
  REQUIRE(airs_pool_members(rt, "p", out, 3, &n) == AIRS_OK);
  CHECK(n == 5);
  CHECK(Pids(out, out + 3) == Pids(all.begin(), all.begin() + 3));
  // A pool nobody joined has no members, and that is not an error.
  REQUIRE(airs_pool_members(rt, "nobody", out, 3, &n) == AIRS_OK);
  CHECK(n == 0);
}

TEST_CASE("a random pick reaches every member, and only members") {
  Actor x[5];
  Runtime rt(kHost);
  Pids all;
  for (Actor& a : x) {
    all.push_back(spawn(rt, a));
    REQUIRE(airs_pool_join(rt, "r", all.back()) == AIRS_OK);
  }
  std::map<airs_pid, int> seen;
  for (airs_pid p : picks(rt, "r", 2000, AIRS_PICK_RANDOM)) seen[p]++;
  REQUIRE(seen.size() == 5);
  for (auto& kv : seen) {
    CAPTURE(kv.first);
    // 400 expected; far outside this would not be uniform.
    CHECK(kv.second > 250);
    CHECK(kv.second < 550);
  }
  // Two leave: never picked again.
  REQUIRE(airs_pool_leave(rt, "r", all[1]) == AIRS_OK);
  REQUIRE(airs_pool_leave(rt, "r", all[3]) == AIRS_OK);
  seen.clear();
  for (airs_pid p : picks(rt, "r", 600, AIRS_PICK_RANDOM)) seen[p]++;
  CHECK(seen.size() == 3);
  CHECK(seen.count(all[1]) == 0);
  CHECK(seen.count(all[3]) == 0);
}

TEST_CASE("many leaves: the order and the turn survive the clean-up") {
  // Leaving leaves a hole that is squeezed out later; nothing of that
  // shows: members stay in join order and the turn goes on.
  constexpr int kN = 90;
  std::vector<Actor> x(kN);
  Runtime rt(kHost);
  Pids all;
  for (Actor& a : x) {
    all.push_back(spawn(rt, a));
    REQUIRE(airs_pool_join(rt, "big", all.back()) == AIRS_OK);
  }
  CHECK(picks(rt, "big", 10) == Pids(all.begin(), all.begin() + 10));
  // Keep every third member; the next pick is then all[12].
  Pids kept;
  for (int i = 0; i < kN; i++) {
    if (i % 3 == 0)
      kept.push_back(all[i]);
    else
      REQUIRE(airs_pool_leave(rt, "big", all[i]) == AIRS_OK);
  }
  CHECK(members(rt, "big") == kept);
  Pids want;
  for (size_t i = 0; i < kept.size() * 2; i++)
    want.push_back(kept[(4 + i) % kept.size()]);
  CHECK(picks(rt, "big", static_cast<int>(want.size())) == want);
  std::unordered_set<airs_pid> keep(kept.begin(), kept.end());
  for (airs_pid p : picks(rt, "big", 300, AIRS_PICK_RANDOM))
    CHECK(keep.count(p) == 1);
}

TEST_CASE("a member that ends leaves every pool") {
  Actor aa, bb, cc;  // outlive the runtime
  Runtime rt(kHost);
  airs_pid a = spawn(rt, aa), b = spawn(rt, bb), c = spawn(rt, cc);
  for (const char* pool : {"p1", "p2"})
    for (airs_pid p : {a, b}) REQUIRE(airs_pool_join(rt, pool, p) == AIRS_OK);
  REQUIRE(airs_pool_join(rt, "solo", a) == AIRS_OK);
  REQUIRE(airs_pool_join(rt, "p1", c) == AIRS_OK);
  CHECK(pick(rt, "p1", AIRS_PICK_ROUND_ROBIN) == a);

  REQUIRE(airs_stop(rt, a) == AIRS_OK);
  poll_all(rt);
  CHECK(members(rt, "p1") == Pids{b, c});
  CHECK(members(rt, "p2") == Pids{b});
  check_empty(rt, "solo", a);
  CHECK(picks(rt, "p1", 4) == Pids{b, c, b, c});

  REQUIRE(airs_kill(rt, b) == AIRS_OK);
  poll_all(rt);
  CHECK(members(rt, "p1") == Pids{c});
  check_empty(rt, "p2", b);

  // A dead pid cannot join; neither can pid 0.
  CHECK(airs_pool_join(rt, "p1", a) == AIRS_ENOPROC);
  CHECK(airs_pool_join(rt, "p1", AIRS_NO_PID) == AIRS_ENOPROC);
  CHECK(members(rt, "p1") == Pids{c});
}

TEST_CASE("joined in init, then init fails: not a member") {
  Actor bad;
  Runtime rt(kHost);
  bad.on_init = [](Actor&, airs_ctx* ctx) {
    CHECK(airs_pool_join(airs_ctx_runtime(ctx), "p", airs_self(ctx)) ==
          AIRS_OK);
    return AIRS_EEXIST;
  };
  airs_pid none = 0;
  CHECK(try_spawn(rt, bad, &none) == AIRS_EEXIST);
  check_empty(rt, "p", bad.self);
}

TEST_CASE("a slot reused by a new process is not a member") {
  // One slot only: the next process gets the same slot, another pid.
  Actor first, second;
  Runtime rt({{AIRS_CFG_WORKERS, 0}, {AIRS_CFG_MAX_PROCESSES, 1}});
  airs_pid a = spawn(rt, first);
  REQUIRE(airs_pool_join(rt, "p", a) == AIRS_OK);
  REQUIRE(airs_stop(rt, a) == AIRS_OK);
  poll_all(rt);
  airs_pid b = spawn(rt, second);
  CHECK(b != a);
  CHECK(test_pid_slot(b) == test_pid_slot(a));  // same slot
  check_empty(rt, "p", a);
  REQUIRE(airs_pool_join(rt, "q", b) == AIRS_OK);
  CHECK(members(rt, "q") == Pids{b});
  REQUIRE(airs_stop(rt, b) == AIRS_OK);
  poll_all(rt);
  check_empty(rt, "q", b);
}

TEST_CASE("picks race with members that die and members that join") {
  // Threaded. Pickers pick all the time while one thread stops the first
  // members one by one and another joins new ones. A pick never returns a
  // process whose end had completed before the pick began, nor a pid that
  // never joined.
  constexpr int kDying = 120;
  constexpr int kJoining = 40;
  constexpr int kPickers = 3;
  std::vector<Actor> dying(kDying), joining(kJoining);
  Runtime rt({{AIRS_CFG_WORKERS, 2}});
  Pids dying_pids, joining_pids;
  std::unordered_map<airs_pid, int> index;  // dying pid -> its order
  for (int i = 0; i < kDying; i++) {
    dying_pids.push_back(spawn(rt, dying[i]));
    index[dying_pids.back()] = i;
    REQUIRE(airs_pool_join(rt, "race", dying_pids.back()) == AIRS_OK);
  }
  for (Actor& a : joining) joining_pids.push_back(spawn(rt, a));
  std::unordered_set<airs_pid> joined_later(joining_pids.begin(),
                                            joining_pids.end());

  std::atomic<int> ended{0};  // dying[0, ended) have completely ended
  std::atomic<bool> done{false};
  std::atomic<int> stale{0}, strangers{0}, errors{0};
  std::atomic<uint64_t> picked{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kPickers; t++)
    threads.emplace_back([&, t] {
      airs_pick how = t % 2 ? AIRS_PICK_RANDOM : AIRS_PICK_ROUND_ROBIN;
      while (!done.load()) {
        int before = ended.load();
        airs_pid p = 0;
        airs_status st = airs_pool_pick(rt, "race", how, &p);
        if (st == AIRS_ENOTFOUND) continue;  // between the two groups
        if (st != AIRS_OK) {
          errors++;
          continue;
        }
        picked++;
        auto it = index.find(p);
        if (it == index.end()) {
          if (!joined_later.count(p)) strangers++;
        } else if (it->second < before) {
          stale++;
        }
      }
    });
  threads.emplace_back([&] {
    for (int i = 0; i < kDying; i++) {
      if (airs_stop(rt, dying_pids[i]) != AIRS_OK ||
          airs_wait(rt, dying_pids[i], 3000) != AIRS_OK)
        errors++;
      ended.store(i + 1);
      if (i % 4 == 0) std::this_thread::yield();
    }
  });
  threads.emplace_back([&] {
    for (airs_pid p : joining_pids) {
      if (airs_pool_join(rt, "race", p) != AIRS_OK) errors++;
      std::this_thread::yield();
    }
  });
  REQUIRE(wait_until([&] {
    return ended.load() == kDying && member_count(rt, "race") == kJoining;
  }));
  done = true;
  for (auto& t : threads) t.join();
  CHECK(errors == 0);
  CHECK(stale == 0);
  CHECK(strangers == 0);
  CHECK(picked > 0);

  // What is left is exactly the processes that joined later, in order.
  CHECK(members(rt, "race") == joining_pids);
  for (airs_pid p : picks(rt, "race", 2 * kJoining, AIRS_PICK_RANDOM))
    CHECK(joined_later.count(p) == 1);
  for (airs_pid p : joining_pids) REQUIRE(airs_stop(rt, p) == AIRS_OK);
  for (airs_pid p : joining_pids) REQUIRE(airs_wait(rt, p, 3000) == AIRS_OK);
  check_empty(rt, "race", joining_pids[0]);
}
