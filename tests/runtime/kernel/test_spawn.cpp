// test_spawn.cpp - starting and ending processes through the C API: the
// order of the callbacks, exactly-once terminate and user_data_free, failed
// and refused spawns, stale pids, the process limit and pid freshness.
#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "../rt_helpers.hpp"

using namespace rt_test;

namespace {

constexpr uint64_t kPing = 1;
constexpr uint64_t kDie = 2;

// Trapping processes here ignore the shutdown's exit message: free kills
// them after this.
const Keys kHost = {{AIRS_CFG_WORKERS, 0}, {AIRS_CFG_SHUTDOWN_TIMEOUT_MS, 20}};

std::vector<std::string> strs(std::initializer_list<const char*> l) {
  return std::vector<std::string>(l.begin(), l.end());
}

// An actor that ends with `reason` when it gets kDie.
void die_on_kDie(Actor& a, airs_exit_kind kind, int32_t code = 0,
                 const char* text = nullptr) {
  a.on_receive = [=](Actor&, airs_ctx* ctx, const airs_msg* m) {
    if (airs_msg_type(m) == kDie) return airs_exit(ctx, kind, code, text);
    return AIRS_OK;
  };
}

}  // namespace

TEST_CASE("init, receive and terminate run in order, then user_data_free") {
  EventLog ev;
  Actor a;
  Runtime rt(kHost);
  a.name = "a";
  a.events = &ev;
  airs_pid pid = spawn(rt, a);
  // init runs synchronously inside the spawn call.
  CHECK(ev.get() == strs({"a:init"}));
  CHECK(a.inits == 1);
  CHECK(airs_is_alive(rt, pid));

  REQUIRE(send_str(rt, pid, kPing, "1") == AIRS_OK);
  REQUIRE(send_str(rt, pid, kPing, "2") == AIRS_OK);
  CHECK(ev.get() == strs({"a:init"}));  // nothing runs until polled
  poll_all(rt);
  CHECK(ev.get() == strs({"a:init", "a:recv:1", "a:recv:1"}));

  REQUIRE(airs_stop(rt, pid) == AIRS_OK);
  poll_all(rt);
  CHECK(ev.get() ==
        strs({"a:init", "a:recv:1", "a:recv:1", "a:term:1", "a:free"}));
  CHECK_FALSE(airs_is_alive(rt, pid));
  CHECK(a.terms == 1);
  CHECK(a.frees == 1);
  CHECK(a.reason().kind == AIRS_EXIT_SHUTDOWN);

  // Freeing the runtime does not end it a second time.
  rt.free();
  CHECK(a.terms == 1);
  CHECK(a.frees == 1);
  CHECK(a.inits == 1);
}

TEST_CASE("terminate and user_data_free run exactly once, whatever the end") {
  struct Case {
    const char* name;
    std::function<void(airs_runtime*, airs_pid, Actor&)> end;
    airs_exit_kind kind;
    int32_t code;
    std::string text;
  };
  const std::vector<Case> cases = {
      {"normal",
       [](airs_runtime* rt, airs_pid pid, Actor& a) {
         die_on_kDie(a, AIRS_EXIT_NORMAL);
         REQUIRE(airs_send(rt, pid, kDie, nullptr, 0) == AIRS_OK);
       },
       AIRS_EXIT_NORMAL, 0, "normal"},
      {"error via airs_exit",
       [](airs_runtime* rt, airs_pid pid, Actor& a) {
         die_on_kDie(a, AIRS_EXIT_ERROR, 42, "disk on fire");
         REQUIRE(airs_send(rt, pid, kDie, nullptr, 0) == AIRS_OK);
       },
       AIRS_EXIT_ERROR, 42, "disk on fire"},
      {"error via receive's status",
       [](airs_runtime* rt, airs_pid pid, Actor& a) {
         a.on_receive = [](Actor&, airs_ctx*, const airs_msg*) {
           return AIRS_ENOMEM;
         };
         REQUIRE(airs_send(rt, pid, kDie, nullptr, 0) == AIRS_OK);
       },
       AIRS_EXIT_ERROR, AIRS_ENOMEM, ""},
      {"killed",
       [](airs_runtime* rt, airs_pid pid, Actor&) {
         REQUIRE(airs_kill(rt, pid) == AIRS_OK);
       },
       AIRS_EXIT_KILLED, 0, "killed"},
      {"shutdown",
       [](airs_runtime* rt, airs_pid pid, Actor&) {
         REQUIRE(airs_stop(rt, pid) == AIRS_OK);
       },
       AIRS_EXIT_SHUTDOWN, 0, "shutdown"},
      {"exit signal with an error",
       [](airs_runtime* rt, airs_pid pid, Actor&) {
         REQUIRE(airs_send_exit(rt, pid, AIRS_EXIT_ERROR, 7, "bad") == AIRS_OK);
       },
       AIRS_EXIT_ERROR, 7, "bad"},
  };
  for (const Case& c : cases) {
    std::string name = c.name;
    CAPTURE(name);
    Actor a;
    Runtime rt(kHost);
    airs_pid pid = spawn(rt, a);
    c.end(rt, pid, a);
    poll_all(rt);
    // Signals sent after the end change nothing.
    CHECK(airs_stop(rt, pid) == AIRS_ENOPROC);
    CHECK(airs_kill(rt, pid) == AIRS_ENOPROC);
    poll_all(rt);
    CHECK_FALSE(airs_is_alive(rt, pid));
    CHECK(a.terms == 1);
    CHECK(a.frees == 1);
    Reason r = a.reason();
    CHECK(r.kind == c.kind);
    CHECK(r.code == c.code);
    if (!c.text.empty()) CHECK(r.text == c.text);
    CHECK(airs_kill(rt, pid) == AIRS_ENOPROC);
    CHECK(airs_stop(rt, pid) == AIRS_ENOPROC);
    rt.free();
    CHECK(a.terms == 1);
    CHECK(a.frees == 1);
  }
}

TEST_CASE("airs_wait returns only once terminate and user_data_free ran") {
  // A threaded runtime; terminate takes a while. Whoever sees the process
  // "not alive" and then waits for it must find its end complete.
  Actor a;
  Runtime rt({{AIRS_CFG_WORKERS, 2}});
  a.on_terminate = [](Actor&, airs_ctx*, const airs_reason*) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  };
  airs_pid pid = spawn(rt, a);
  REQUIRE(airs_kill(rt, pid) == AIRS_OK);
  REQUIRE(wait_until([&] { return !airs_is_alive(rt, pid); }));
  REQUIRE(airs_wait(rt, pid, 2000) == AIRS_OK);
  CHECK(a.terms == 1);
  CHECK(a.frees == 1);
  CHECK(a.reason().kind == AIRS_EXIT_KILLED);
}

TEST_CASE(
    "airs_wait sees its process end when a spawn takes the slot at once") {
  // The end frees the slot and wakes the waiter; a spawner spinning for
  // the slot can take it before the waiter looks, so the waiter finds the
  // slot alive under the old pid for a moment. The spawn must wake it
  // again once the new pid is in, or it sleeps until its timeout.
  Actor a, b;
  die_on_kDie(a, AIRS_EXIT_NORMAL);
  Runtime rt({{AIRS_CFG_WORKERS, 2}});
  for (int i = 0; i < 200; i++) {
    CAPTURE(i);
    airs_pid pid = spawn(rt, a);
    std::atomic<bool> waiting{false};
    airs_status st = AIRS_EINVAL;
    std::chrono::steady_clock::duration took{};
    std::thread waiter([&] {
      waiting = true;
      auto t0 = std::chrono::steady_clock::now();
      st = airs_wait(rt, pid, 5000);
      took = std::chrono::steady_clock::now() - t0;
    });
    while (!waiting) std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    REQUIRE(airs_send(rt, pid, kDie, nullptr, 0) == AIRS_OK);
    while (airs_is_alive(rt, pid)) std::this_thread::yield();
    airs_pid next = spawn(rt, b);  // most likely the same slot
    waiter.join();
    CHECK(st == AIRS_OK);
    CHECK(took < std::chrono::milliseconds(1000));
    REQUIRE(airs_kill(rt, next) == AIRS_OK);
    REQUIRE(airs_wait(rt, next, 5000) == AIRS_OK);
  }
}

TEST_CASE("a failed init fails the spawn with init's status") {
  DeadLetters dl;
  Actor a;
  Runtime rt(kHost);
  dl.install(rt);
  a.on_init = [&](Actor& self, airs_ctx* ctx) {
    // Mail sent to the new process during init dies with it.
    airs_send(airs_ctx_runtime(ctx), airs_self(ctx), kPing, "x", 1);
    (void)self;
    return AIRS_EEXIST;
  };
  airs_pid pid = 12345;
  CHECK(try_spawn(rt, a, &pid) == AIRS_EEXIST);
  CHECK(pid == 12345);  // out-parameter untouched
  CHECK(a.inits == 1);
  CHECK(a.terms == 0);  // terminate is not called for a failed init
  CHECK(a.frees == 1);  // user_data is released
  airs_pid would_be = a.self;
  CHECK(would_be != AIRS_NO_PID);
  CHECK_FALSE(airs_is_alive(rt, would_be));
  CHECK(airs_send(rt, would_be, kPing, nullptr, 0) == AIRS_ENOPROC);
  CHECK(airs_wait(rt, would_be, 100) == AIRS_OK);
  poll_all(rt);
  CHECK(a.received == 0);
  auto letters = dl.get();
  REQUIRE(letters.size() == 2);  // the mail of init, then the send above
  CHECK(letters[0].reason == AIRS_DEAD_LETTER_EXITED);
  CHECK(letters[0].to == would_be);
  CHECK(letters[1].reason == AIRS_DEAD_LETTER_NOPROC);
  CHECK(letters[1].to == would_be);
  rt.free();
  CHECK(a.terms == 0);
  CHECK(a.frees == 1);
}

TEST_CASE("airs_exit inside init fails the spawn with AIRS_ESTATE") {
  Actor a;
  Runtime rt(kHost);
  a.on_init = [](Actor&, airs_ctx* ctx) {
    CHECK(airs_exit(ctx, AIRS_EXIT_NORMAL, 0, nullptr) == AIRS_OK);
    return AIRS_OK;
  };
  airs_pid pid = 0;
  CHECK(try_spawn(rt, a, &pid) == AIRS_ESTATE);
  CHECK(pid == 0);
  CHECK(a.terms == 0);
  CHECK(a.frees == 1);
  CHECK_FALSE(airs_is_alive(rt, a.self));
  poll_all(rt);
  rt.free();
  CHECK(a.frees == 1);
}

TEST_CASE("a refused spawn still releases user_data exactly once") {
  Runtime rt(kHost);
  airs_pid pid = 99;

  SUBCASE("NULL receive") {
    Actor a;
    airs_behaviour b = kActor;
    b.receive = nullptr;
    CHECK(airs_spawn(rt, &b, &a, actor_free, nullptr, &pid) == AIRS_EINVAL);
    CHECK(a.frees == 1);
    CHECK(a.inits == 0);
  }
  SUBCASE("bad behaviour version") {
    Actor a;
    airs_behaviour b = kActor;
    b.version = 0;
    CHECK(airs_spawn(rt, &b, &a, actor_free, nullptr, &pid) == AIRS_EINVAL);
    CHECK(a.frees == 1);
  }
  SUBCASE("NULL out") {
    Actor a;
    CHECK(airs_spawn(rt, &kActor, &a, actor_free, nullptr, nullptr) ==
          AIRS_EINVAL);
    CHECK(a.frees == 1);
    CHECK(a.inits == 0);
  }
  SUBCASE("AIRS_SPAWN_LINK without a calling process") {
    Actor a;
    airs_spawn_opts o = opts_of(rt, AIRS_SPAWN_LINK);
    CHECK(try_spawn(rt, a, &pid, &o) == AIRS_EINVAL);
    CHECK(a.frees == 1);
  }
  SUBCASE("bad mailbox policy") {
    Actor a;
    airs_spawn_opts o = opts_of(rt);
    o.mailbox_policy = 17;
    CHECK(try_spawn(rt, a, &pid, &o) == AIRS_EINVAL);
    CHECK(a.frees == 1);
  }
  SUBCASE("freed runtime") {
    Actor a;
    rt.free();
    CHECK(try_spawn(rt, a, &pid) == AIRS_ESTATE);
    CHECK(a.frees == 1);
    CHECK(a.inits == 0);
  }
  CHECK(pid == 99);
}

TEST_CASE("every spawn gets a fresh state from init") {
  // One user_data, several starts: each start's init makes its own state.
  struct Counter {
    int n = 0;
  };
  struct Shared {
    std::atomic<int> inits{0};
    std::atomic<int> frees{0};
    std::mutex mu;
    std::vector<std::pair<Counter*, int>> seen;  // (state, n) at each receive
    std::vector<int> final_counts;
  } shared;
  airs_behaviour b = {AIRS_BEHAVIOUR_VERSION,
                      sizeof(airs_behaviour),
                      [](void* ud, airs_ctx*, void** state) {
                        static_cast<Shared*>(ud)->inits++;
                        *state = new Counter();
                        return AIRS_OK;
                      },
                      [](void* state, airs_ctx* ctx, const airs_msg*) {
                        Counter* c = static_cast<Counter*>(state);
                        c->n++;
                        (void)ctx;
                        return AIRS_OK;
                      },
                      nullptr,
                      nullptr,
                      nullptr};
  // terminate records the final count; the shared user_data comes from a
  // global because terminate only gets the state.
  static Shared* g_shared = nullptr;
  g_shared = &shared;
  b.terminate = [](void* state, airs_ctx*, const airs_reason*) {
    Counter* c = static_cast<Counter*>(state);
    std::lock_guard<std::mutex> lock(g_shared->mu);
    g_shared->final_counts.push_back(c->n);
    delete c;
  };
  auto free_fn = [](void* ud) { static_cast<Shared*>(ud)->frees++; };

  Runtime rt(kHost);
  airs_pid p1 = 0, p2 = 0, p3 = 0;
  REQUIRE(airs_spawn(rt, &b, &shared, free_fn, nullptr, &p1) == AIRS_OK);
  REQUIRE(airs_spawn(rt, &b, &shared, free_fn, nullptr, &p2) == AIRS_OK);
  for (int i = 0; i < 3; i++)
    REQUIRE(airs_send(rt, p1, kPing, nullptr, 0) == AIRS_OK);
  REQUIRE(airs_send(rt, p2, kPing, nullptr, 0) == AIRS_OK);
  poll_all(rt);
  REQUIRE(airs_stop(rt, p1) == AIRS_OK);
  poll_all(rt);
  // A new start with the same user_data begins from zero again.
  REQUIRE(airs_spawn(rt, &b, &shared, free_fn, nullptr, &p3) == AIRS_OK);
  REQUIRE(airs_send(rt, p3, kPing, nullptr, 0) == AIRS_OK);
  poll_all(rt);
  REQUIRE(airs_stop(rt, p2) == AIRS_OK);
  REQUIRE(airs_stop(rt, p3) == AIRS_OK);
  poll_all(rt);
  CHECK(shared.inits == 3);
  CHECK(shared.frees == 3);  // user_data_free runs once per spawn
  std::lock_guard<std::mutex> lock(shared.mu);
  CHECK(shared.final_counts == std::vector<int>{3, 1, 1});
}

TEST_CASE("a stale pid gives AIRS_ENOPROC, never undefined behaviour") {
  Actor a;
  Runtime rt(kHost);
  die_on_kDie(a, AIRS_EXIT_NORMAL);
  airs_pid pid = spawn(rt, a);
  REQUIRE(airs_send(rt, pid, kDie, nullptr, 0) == AIRS_OK);
  poll_all(rt);
  REQUIRE_FALSE(airs_is_alive(rt, pid));

  // The stale pid, pid 0, and pids that never existed.
  const airs_pid never_slot = test_pid_make(pid, 4000, 1);
  const airs_pid future_gen = test_pid_make(pid, test_pid_slot(pid), 77);
  for (airs_pid p : {pid, AIRS_NO_PID, never_slot, future_gen}) {
    CAPTURE(p);
    CHECK(airs_send(rt, p, kPing, "x", 1) == AIRS_ENOPROC);
    CHECK(airs_stop(rt, p) == AIRS_ENOPROC);
    CHECK(airs_kill(rt, p) == AIRS_ENOPROC);
    CHECK(airs_send_exit(rt, p, AIRS_EXIT_ERROR, 1, "x") == AIRS_ENOPROC);
    uint64_t v = 1234;
    CHECK(airs_process_stat_get(rt, p, AIRS_PSTAT_MAILBOX_DEPTH, &v) ==
          AIRS_ENOPROC);
    CHECK(v == 1234);
    CHECK(airs_register(rt, "stale", p) == AIRS_ENOPROC);
    CHECK_FALSE(airs_is_alive(rt, p));

    // A failed send leaves the message, and its owned payload, with us.
    int before = g_owned_frees;
    airs_msg* m = nullptr;
    REQUIRE(airs_msg_new_owned(kPing, ::operator new(8), 8, counting_free,
                               &m) == AIRS_OK);
    CHECK(airs_send_msg(rt, p, m) == AIRS_ENOPROC);
    uint64_t tid = 555;
    CHECK(airs_send_after(rt, p, 10, m, &tid) == AIRS_ENOPROC);
    CHECK(tid == 555);
    CHECK(g_owned_frees == before);
    airs_msg_free(m);
    CHECK(g_owned_frees == before + 1);
  }
  airs_pid out = 0;
  CHECK(airs_whereis(rt, "stale", &out) == AIRS_ENOTFOUND);
  poll_all(rt);
  CHECK(a.terms == 1);
  CHECK(a.received == 1);
}

TEST_CASE("the process limit: AIRS_ELIMIT, and a freed slot gets a new pid") {
  std::vector<std::unique_ptr<Actor>> actors;
  Runtime rt({{AIRS_CFG_WORKERS, 0}, {AIRS_CFG_MAX_PROCESSES, 3}});
  std::vector<airs_pid> live;
  std::set<airs_pid> ever;
  for (int i = 0; i < 3; i++) {
    actors.push_back(std::make_unique<Actor>());
    live.push_back(spawn(rt, *actors.back()));
    ever.insert(live.back());
  }
  Actor refused;
  airs_pid pid = 0;
  CHECK(try_spawn(rt, refused, &pid) == AIRS_ELIMIT);
  CHECK(pid == 0);
  CHECK(refused.frees == 1);
  CHECK(refused.inits == 0);

  // Free one slot at a time, many times: every new pid is new.
  for (int round = 0; round < 50; round++) {
    CAPTURE(round);
    airs_pid victim = live[round % 3];
    REQUIRE(airs_kill(rt, victim) == AIRS_OK);
    poll_all(rt);
    REQUIRE_FALSE(airs_is_alive(rt, victim));
    actors.push_back(std::make_unique<Actor>());
    airs_pid fresh = spawn(rt, *actors.back());
    CHECK(fresh != victim);
    CHECK(ever.count(fresh) == 0);
    // The freed slot is reused, under a newer generation.
    CHECK(test_pid_slot(fresh) == test_pid_slot(victim));
    CHECK(test_pid_generation(fresh) > test_pid_generation(victim));
    ever.insert(fresh);
    live[round % 3] = fresh;
    // The old pid stays dead even though its slot is alive again.
    CHECK_FALSE(airs_is_alive(rt, victim));
    CHECK(airs_send(rt, victim, kPing, nullptr, 0) == AIRS_ENOPROC);
    Actor again;
    CHECK(try_spawn(rt, again, &pid) == AIRS_ELIMIT);
    CHECK(again.frees == 1);
  }
  CHECK(ever.size() == 53);
  rt.free();
  for (auto& a : actors) {
    CHECK(a->terms == 1);
    CHECK(a->frees == 1);
  }
}

TEST_CASE("airs_self names the process in every callback") {
  std::vector<airs_pid> seen;
  airs_ctx* saved = nullptr;
  Actor a;
  Runtime rt(kHost);
  a.on_init = [&](Actor&, airs_ctx* ctx) {
    seen.push_back(airs_self(ctx));
    return AIRS_OK;
  };
  a.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg*) {
    seen.push_back(airs_self(ctx));
    CHECK(airs_ctx_runtime(ctx) == rt.get());
    saved = ctx;
    return AIRS_OK;
  };
  a.on_terminate = [&](Actor&, airs_ctx* ctx, const airs_reason*) {
    seen.push_back(airs_self(ctx));
  };
  airs_pid pid = spawn(rt, a);
  REQUIRE(airs_send(rt, pid, kPing, nullptr, 0) == AIRS_OK);
  poll_all(rt);
  REQUIRE(airs_stop(rt, pid) == AIRS_OK);
  poll_all(rt);
  CHECK(seen == std::vector<airs_pid>{pid, pid, pid});
  // Outside its callback a ctx names no process.
  CHECK(airs_self(nullptr) == AIRS_NO_PID);
  CHECK(airs_self(saved) == AIRS_NO_PID);
  CHECK(airs_ctx_runtime(saved) == nullptr);
}

TEST_CASE("airs_ctx_spawn with AIRS_SPAWN_LINK links parent and child") {
  Actor child, parent;
  Runtime rt(kHost);
  die_on_kDie(child, AIRS_EXIT_ERROR, 5, "child failed");
  airs_pid child_pid = 0;

  SUBCASE("a trapping parent gets the child's exit as a message") {
    parent.on_init = [](Actor&, airs_ctx* ctx) {
      return airs_trap_exit(ctx, true);
    };
    parent.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg* m) {
      if (airs_msg_type(m) == kPing)
        child_pid = ctx_spawn(ctx, child, AIRS_SPAWN_LINK);
      return AIRS_OK;
    };
    airs_pid ppid = spawn(rt, parent);
    REQUIRE(airs_send(rt, ppid, kPing, nullptr, 0) == AIRS_OK);
    poll_all(rt);
    REQUIRE(child_pid != 0);
    CHECK(child.inits == 1);
    REQUIRE(airs_send(rt, child_pid, kDie, nullptr, 0) == AIRS_OK);
    poll_all(rt);
    CHECK(child.terms == 1);
    CHECK(airs_is_alive(rt, ppid));
    auto msgs = parent.messages();
    REQUIRE(msgs.size() == 2);
    CHECK(msgs[1].type == AIRS_MSG_EXIT);
    CHECK(msgs[1].sender == child_pid);
    CHECK(msgs[1].reason.kind == AIRS_EXIT_ERROR);
    CHECK(msgs[1].reason.code == 5);
    CHECK(msgs[1].reason.text == "child failed");
  }
  SUBCASE("a parent that does not trap dies with the child") {
    parent.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg* m) {
      if (airs_msg_type(m) == kPing)
        child_pid = ctx_spawn(ctx, child, AIRS_SPAWN_LINK);
      return AIRS_OK;
    };
    airs_pid ppid = spawn(rt, parent);
    REQUIRE(airs_send(rt, ppid, kPing, nullptr, 0) == AIRS_OK);
    poll_all(rt);
    REQUIRE(child_pid != 0);
    REQUIRE(airs_send(rt, child_pid, kDie, nullptr, 0) == AIRS_OK);
    poll_all(rt);
    CHECK_FALSE(airs_is_alive(rt, ppid));
    CHECK(parent.terms == 1);
    CHECK(parent.reason().kind == AIRS_EXIT_ERROR);
    CHECK(parent.reason().code == 5);
  }
  SUBCASE("the child dies when the parent crashes") {
    parent.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg* m) {
      if (airs_msg_type(m) == kPing)
        child_pid = ctx_spawn(ctx, child, AIRS_SPAWN_LINK);
      if (airs_msg_type(m) == kDie)
        return airs_exit(ctx, AIRS_EXIT_ERROR, 9, "parent failed");
      return AIRS_OK;
    };
    airs_pid ppid = spawn(rt, parent);
    REQUIRE(airs_send(rt, ppid, kPing, nullptr, 0) == AIRS_OK);
    poll_all(rt);
    REQUIRE(airs_send(rt, ppid, kDie, nullptr, 0) == AIRS_OK);
    poll_all(rt);
    CHECK_FALSE(airs_is_alive(rt, child_pid));
    CHECK(child.reason().kind == AIRS_EXIT_ERROR);
    CHECK(child.reason().code == 9);
    CHECK(child.reason().text == "parent failed");
  }
  SUBCASE("without the flag, a crash stays with the child") {
    parent.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg* m) {
      if (airs_msg_type(m) == kPing) child_pid = ctx_spawn(ctx, child, 0);
      return AIRS_OK;
    };
    airs_pid ppid = spawn(rt, parent);
    REQUIRE(airs_send(rt, ppid, kPing, nullptr, 0) == AIRS_OK);
    poll_all(rt);
    REQUIRE(airs_send(rt, child_pid, kDie, nullptr, 0) == AIRS_OK);
    poll_all(rt);
    CHECK(child.terms == 1);
    CHECK(airs_is_alive(rt, ppid));
    CHECK(parent.received == 1);
  }
  SUBCASE("a linked spawn inside init links, as in Erlang") {
    airs_status st = AIRS_EINTERNAL;
    parent.on_init = [&](Actor&, airs_ctx* ctx) {
      airs_spawn_opts o;
      airs_spawn_opts_init(airs_ctx_runtime(ctx), &o);
      o.flags = AIRS_SPAWN_LINK;
      st = airs_ctx_spawn(ctx, &kActor, &child, actor_free, &o, &child_pid);
      return AIRS_OK;
    };
    airs_pid ppid = spawn(rt, parent);
    CHECK(st == AIRS_OK);
    CHECK(child.inits == 1);
    REQUIRE(airs_kill(rt, ppid) == AIRS_OK);
    poll_all(rt);
    CHECK_FALSE(airs_is_alive(rt, child_pid));
    CHECK(child.reason().kind == AIRS_EXIT_KILLED);
  }
  SUBCASE("an init that links, then fails: the link hears the failure") {
    Actor other;
    airs_spawn_opts trap = opts_of(rt, AIRS_SPAWN_TRAP_EXIT);
    airs_pid opid = spawn(rt, other, &trap);
    uint64_t ref = 0;
    parent.on_init = [&](Actor&, airs_ctx* ctx) {
      airs_status st = airs_link(ctx, opid);
      if (st == AIRS_OK) st = airs_monitor(ctx, opid, &ref);
      if (st != AIRS_OK) return st;
      airs_spawn_opts o;
      airs_spawn_opts_init(airs_ctx_runtime(ctx), &o);
      o.flags = AIRS_SPAWN_LINK;
      st = airs_ctx_spawn(ctx, &kActor, &child, actor_free, &o, &child_pid);
      if (st != AIRS_OK) return st;
      return AIRS_ENOTFOUND;  // then fails
    };
    airs_pid ppid = 0;
    CHECK(try_spawn(rt, parent, &ppid) == AIRS_ENOTFOUND);
    poll_all(rt);
    auto msgs = other.messages();
    REQUIRE(msgs.size() == 1);
    CHECK(msgs[0].type == AIRS_MSG_EXIT);
    CHECK(msgs[0].reason.kind == AIRS_EXIT_ERROR);
    CHECK(msgs[0].reason.code == AIRS_ENOTFOUND);
    CHECK(airs_is_alive(rt, opid));  // trapped
    // The child spawned linked inside the failed init goes with it.
    CHECK_FALSE(airs_is_alive(rt, child_pid));
    CHECK(child.reason().kind == AIRS_EXIT_ERROR);
    REQUIRE(airs_kill(rt, opid) == AIRS_OK);
    poll_all(rt);
  }
  rt.free();
  CHECK(child.frees == 1);
  CHECK(parent.frees == 1);
  CHECK(child.terms == child.inits);
}

TEST_CASE("receive returning an error ends the process with that code") {
  Actor a, watcher;
  Runtime rt(kHost);
  a.on_receive = [](Actor&, airs_ctx* ctx, const airs_msg*) {
    // A failing call sets the thread's message; its status ends us.
    return airs_unregister(airs_ctx_runtime(ctx), "no-such-name");
  };
  airs_pid pid = spawn(rt, a);
  watcher.on_init = [&](Actor&, airs_ctx* ctx) {
    return airs_trap_exit(ctx, true);
  };
  watcher.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg* m) {
    if (airs_msg_type(m) == kPing) return airs_link(ctx, pid);
    return AIRS_OK;
  };
  airs_pid w = spawn(rt, watcher);
  REQUIRE(airs_send(rt, w, kPing, nullptr, 0) == AIRS_OK);
  poll_all(rt);
  REQUIRE(airs_send(rt, pid, kPing, nullptr, 0) == AIRS_OK);
  poll_all(rt);
  CHECK_FALSE(airs_is_alive(rt, pid));
  Reason r = a.reason();
  CHECK(r.kind == AIRS_EXIT_ERROR);
  CHECK(r.code == AIRS_ENOTFOUND);
  CHECK(r.text.find("no-such-name") != std::string::npos);
  // The linked process sees the same reason.
  auto msgs = watcher.messages();
  REQUIRE(msgs.size() == 2);
  CHECK(msgs[1].type == AIRS_MSG_EXIT);
  CHECK(msgs[1].reason.kind == AIRS_EXIT_ERROR);
  CHECK(msgs[1].reason.code == AIRS_ENOTFOUND);
  CHECK(msgs[1].reason.text == r.text);
}

TEST_CASE("a linked child whose init fails leaves no link behind") {
  Actor parent, child, exiting_child;
  child.on_init = [](Actor&, airs_ctx*) { return AIRS_ENOMEM; };
  exiting_child.on_init = [](Actor&, airs_ctx* ctx) {
    return airs_exit(ctx, AIRS_EXIT_ERROR, 1, "no");
  };
  std::vector<airs_status> got;
  parent.on_init = [](Actor&, airs_ctx* ctx) {
    return airs_trap_exit(ctx, true);
  };
  parent.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg* m) {
    if (airs_msg_type(m) != kPing) return AIRS_OK;
    airs_spawn_opts o;
    airs_spawn_opts_init(airs_ctx_runtime(ctx), &o);
    o.flags = AIRS_SPAWN_LINK;
    airs_pid pid = 0;
    got.push_back(airs_ctx_spawn(ctx, &kActor, &child, actor_free, &o, &pid));
    got.push_back(
        airs_ctx_spawn(ctx, &kActor, &exiting_child, actor_free, &o, &pid));
    return AIRS_OK;
  };
  Runtime rt(kHost);
  airs_pid p = spawn(rt, parent);
  REQUIRE(airs_send(rt, p, kPing, nullptr, 0) == AIRS_OK);
  poll_all(rt);
  CHECK(got == std::vector<airs_status>{AIRS_ENOMEM, AIRS_ESTATE});
  // The spawn call reported the failure; no exit signal on top of it.
  CHECK(parent.types() == std::vector<uint64_t>{kPing});
  CHECK(airs_is_alive(rt, p));
  CHECK(child.frees == 1);
  CHECK(exiting_child.frees == 1);
  CHECK(child.terms == 0);
}

TEST_CASE("during terminate the process is no longer alive") {
  Actor a, other;
  std::vector<airs_status> got;
  bool alive_in_terminate = true;
  Runtime rt(kHost);
  airs_pid o = spawn(rt, other);
  a.on_terminate = [&](Actor&, airs_ctx* ctx, const airs_reason*) {
    airs_runtime* r = airs_ctx_runtime(ctx);
    alive_in_terminate = airs_is_alive(r, airs_self(ctx));
    got.push_back(airs_send(r, airs_self(ctx), kPing, nullptr, 0));
    got.push_back(airs_register(r, "late", airs_self(ctx)));
    // Sending to others still works.
    got.push_back(airs_ctx_send(ctx, o, kPing, nullptr, 0));
    // airs_exit in terminate changes nothing.
    got.push_back(airs_exit(ctx, AIRS_EXIT_ERROR, 5, "ignored"));
  };
  airs_pid pid = spawn(rt, a);
  REQUIRE(airs_stop(rt, pid) == AIRS_OK);
  poll_all(rt);
  CHECK_FALSE(alive_in_terminate);
  CHECK(got ==
        std::vector<airs_status>{AIRS_ENOPROC, AIRS_ENOPROC, AIRS_OK, AIRS_OK});
  CHECK(a.reason().kind == AIRS_EXIT_SHUTDOWN);
  CHECK(other.messages().size() == 1);
  CHECK(other.messages()[0].sender == pid);
  CHECK(a.terms == 1);
}

TEST_CASE("airs_exit checks its arguments") {
  Actor a;
  std::vector<airs_status> got;
  a.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg*) {
    got.push_back(airs_exit(ctx, static_cast<airs_exit_kind>(-1), 0, nullptr));
    got.push_back(airs_exit(ctx, static_cast<airs_exit_kind>(6), 0, nullptr));
    return AIRS_OK;
  };
  Runtime rt(kHost);
  airs_pid pid = spawn(rt, a);
  REQUIRE(airs_send(rt, pid, kPing, nullptr, 0) == AIRS_OK);
  poll_all(rt);
  CHECK(got == std::vector<airs_status>{AIRS_EINVAL, AIRS_EINVAL});
  CHECK(airs_is_alive(rt, pid));  // bad calls did not end it
}

TEST_CASE("airs_wait: polls in host-driven mode, and times out") {
  Actor ends, stays;
  die_on_kDie(ends, AIRS_EXIT_NORMAL);
  for (int workers : {0, 2}) {
    CAPTURE(workers);
    Runtime rt({{AIRS_CFG_WORKERS, workers}});
    airs_pid e = spawn(rt, ends);
    airs_pid s = spawn(rt, stays);
    for (int i = 0; i < 3; i++)
      REQUIRE(airs_send(rt, e, kPing, nullptr, 0) == AIRS_OK);
    REQUIRE(airs_send(rt, e, kDie, nullptr, 0) == AIRS_OK);
    // No explicit poll: a host-driven wait runs the processes itself.
    CHECK(airs_wait(rt, e, 2000) == AIRS_OK);
    CHECK_FALSE(airs_is_alive(rt, e));
    auto t0 = std::chrono::steady_clock::now();
    CHECK(airs_wait(rt, s, 30) == AIRS_ETIMEDOUT);
    CHECK(std::chrono::steady_clock::now() - t0 >=
          std::chrono::milliseconds(29));
    CHECK(airs_is_alive(rt, s));
    CHECK(airs_wait(rt, AIRS_NO_PID, 10) == AIRS_OK);
    CHECK(airs_wait(nullptr, s, 10) == AIRS_EINVAL);
  }
  CHECK(ends.received == 8);
}

namespace {

// A process with no terminate whose user_data_free spawns a linked child,
// as a host's cleanup might: the spawn runs while the process ends.
struct SpawnsOnFree {
  airs_runtime* rt = nullptr;
  Actor child;
  std::atomic<airs_status> status{AIRS_EINTERNAL};
  std::atomic<airs_pid> pid{0};
};

airs_status plain_init(void*, airs_ctx*, void** state) {
  *state = nullptr;
  return AIRS_OK;
}
airs_status exit_on_message(void*, airs_ctx* ctx, const airs_msg*) {
  return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, nullptr);
}
const airs_behaviour kNoTerminate = {AIRS_BEHAVIOUR_VERSION,
                                     sizeof(airs_behaviour),
                                     plain_init,
                                     exit_on_message,
                                     nullptr,
                                     nullptr,
                                     nullptr};

void spawn_linked_on_free(void* user_data) {
  auto* s = static_cast<SpawnsOnFree*>(user_data);
  airs_spawn_opts opts = opts_of(s->rt, AIRS_SPAWN_LINK);
  airs_pid pid = 0;
  s->status = airs_spawn(s->rt, &kActor, &s->child, actor_free, &opts, &pid);
  s->pid = pid;
}

}  // namespace

// Issue 20, item 3: the spawn linked its child to the process whose end
// was running it, after that end had told its links: the link record
// leaked and the child never heard of the end. A process that is ending
// makes no new links, whether its terminate or a hook its end runs asks.
TEST_CASE("a linked spawn from user_data_free of an ending process fails") {
  for (int workers : {0, 2}) {
    CAPTURE(workers);
    Runtime rt({{AIRS_CFG_WORKERS, workers}});
    SpawnsOnFree s;
    s.rt = rt;
    airs_pid pid = 0;
    REQUIRE(airs_spawn(rt, &kNoTerminate, &s, spawn_linked_on_free, nullptr,
                       &pid) == AIRS_OK);
    REQUIRE(send_str(rt, pid, 1, "end") == AIRS_OK);
    REQUIRE(airs_wait(rt, pid, 5000) == AIRS_OK);
    CHECK(s.status.load() == AIRS_ESTATE);
    CHECK(s.pid.load() == AIRS_NO_PID);
    CHECK(s.child.inits.load() == 0);
    CHECK(s.child.frees.load() == 1);  // the spawn released its user_data
  }
}
