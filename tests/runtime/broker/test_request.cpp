// test_request.cpp - request/reply: from an actor (asynchronous, reply or
// timeout message) and from a plain thread (blocking), late replies, dead
// callees, and many callers at once.
#include <thread>

#include "../rt_helpers.hpp"

using namespace rt_test;

namespace {

enum : uint64_t { kAsk = 1, kAnswer = 2, kGo = 3, kReplyNow = 4 };

airs_msg* new_msg(uint64_t type, const std::string& data) {
  airs_msg* m = nullptr;
  REQUIRE(airs_msg_new(type, data.data(), data.size(), &m) == AIRS_OK);
  return m;
}

// An echo server: replies to every kAsk with its data, unless told to
// hold requests; then it keeps them and answers on kReplyNow.
struct Server {
  Actor actor;
  bool hold = false;
  std::vector<uint64_t> held;  // correlations; touched by the actor only

  explicit Server() {
    actor.name = "server";
    actor.on_receive = [this](Actor&, airs_ctx* ctx, const airs_msg* m) {
      if (airs_msg_type(m) == kAsk && !hold) {
        std::string d(static_cast<const char*>(airs_msg_data(m)),
                      airs_msg_size(m));
        return airs_reply(ctx, m, new_msg(kAnswer, "re:" + d));
      }
      if (airs_msg_type(m) == kAsk) held.push_back(airs_msg_correlation(m));
      if (airs_msg_type(m) == kReplyNow)
        for (uint64_t c : held) {
          // A late reply: a request is any message with the id.
          airs_msg* fake = new_msg(kAsk, "");
          airs_msg_set_correlation(fake, c);
          airs_status st = airs_reply(ctx, fake, new_msg(kAnswer, "late"));
          airs_msg_free(fake);
          if (st != AIRS_OK) return st;
        }
      return AIRS_OK;
    };
  }
};

// An actor that sends one request to `to` when told kGo.
struct Client {
  Actor actor;
  airs_pid to = 0;
  uint32_t timeout_ms = 100;
  std::atomic<uint64_t> correlation{0};
  std::atomic<int> status{-1};
  std::atomic<uint64_t> kept{0};  // the message's own id after a failure

  Client() {
    actor.name = "client";
    actor.on_receive = [this](Actor&, airs_ctx* ctx, const airs_msg* m) {
      if (airs_msg_type(m) != kGo) return AIRS_OK;
      uint64_t c = 0;
      airs_msg* q = new_msg(kAsk, "hi");
      airs_msg_set_correlation(q, 5);
      airs_status st = airs_request(ctx, to, q, timeout_ms, &c);
      if (st != AIRS_OK) {  // still ours on failure, as it was
        kept = airs_msg_correlation(q);
        airs_msg_free(q);
      }
      correlation = c;
      status = st;
      return AIRS_OK;
    };
  }
};

}  // namespace

TEST_CASE("an actor's request gets its reply with the correlation id") {
  Runtime rt({{AIRS_CFG_WORKERS, 0}, {AIRS_CFG_MANUAL_CLOCK, 1}});
  Server server;
  Client client;
  client.to = spawn(rt, server.actor);
  airs_pid cp = spawn(rt, client.actor);
  REQUIRE(airs_send(rt, cp, kGo, nullptr, 0) == AIRS_OK);
  poll_all(rt);
  REQUIRE(client.status == AIRS_OK);
  CHECK(client.correlation != 0);
  auto got = client.actor.messages();
  REQUIRE(got.size() == 2);
  CHECK(got[1].type == kAnswer);
  CHECK(got[1].data == "re:hi");
  CHECK(got[1].correlation == client.correlation);
  CHECK(got[1].sender == client.to);
  // The timeout was cancelled with the reply: nothing more arrives.
  REQUIRE(airs_runtime_advance_time(rt, 1000) == AIRS_OK);
  poll_all(rt);
  CHECK(client.actor.messages().size() == 2);
  int64_t next = 0;
  REQUIRE(airs_runtime_next_timer_ms(rt, &next) == AIRS_OK);
  CHECK(next == -1);
}

TEST_CASE(
    "no reply in time: a timeout message, and the late reply is "
    "dropped") {
  Runtime rt({{AIRS_CFG_WORKERS, 0}, {AIRS_CFG_MANUAL_CLOCK, 1}});
  DeadLetters dead;
  dead.install(rt);
  Server server;
  server.hold = true;
  Client client;
  client.timeout_ms = 50;
  airs_pid sp = spawn(rt, server.actor);
  client.to = sp;
  airs_pid cp = spawn(rt, client.actor);
  REQUIRE(airs_send(rt, cp, kGo, nullptr, 0) == AIRS_OK);
  poll_all(rt);
  REQUIRE(airs_runtime_advance_time(rt, 49) == AIRS_OK);
  poll_all(rt);
  CHECK(client.actor.messages().size() == 1);  // just kGo
  REQUIRE(airs_runtime_advance_time(rt, 1) == AIRS_OK);
  poll_all(rt);
  auto got = client.actor.messages();
  REQUIRE(got.size() == 2);
  CHECK(got[1].type == AIRS_MSG_TIMEOUT);
  CHECK(got[1].correlation == client.correlation);
  CHECK(got[1].sender == 0);

  REQUIRE(airs_send(rt, sp, kReplyNow, nullptr, 0) == AIRS_OK);
  poll_all(rt);
  CHECK(client.actor.messages().size() == 2);  // never delivered
  auto letters = dead.get();
  REQUIRE(letters.size() == 1);
  CHECK(letters[0].reason == AIRS_DEAD_LETTER_LATE_REPLY);
  CHECK(letters[0].type == kAnswer);
  CHECK(letters[0].data == "late");
}

TEST_CASE("a request to a dead pid fails at once; nothing is left pending") {
  Runtime rt({{AIRS_CFG_WORKERS, 0}, {AIRS_CFG_MANUAL_CLOCK, 1}});
  Server server;
  Client client;
  airs_pid sp = spawn(rt, server.actor);
  REQUIRE(airs_kill(rt, sp) == AIRS_OK);
  REQUIRE(airs_wait(rt, sp, 1000) == AIRS_OK);
  client.to = sp;
  airs_pid cp = spawn(rt, client.actor);
  REQUIRE(airs_send(rt, cp, kGo, nullptr, 0) == AIRS_OK);
  poll_all(rt);
  CHECK(client.status == AIRS_ENOPROC);
  CHECK(client.correlation == 0);
  CHECK(client.kept == 5);
  int64_t next = 0;
  REQUIRE(airs_runtime_next_timer_ms(rt, &next) == AIRS_OK);
  CHECK(next == -1);  // no timeout was armed

  airs_msg* m = new_msg(kAsk, "x");
  airs_msg_set_correlation(m, 9);
  airs_msg* reply = nullptr;
  CHECK(airs_call(rt, sp, m, 100, &reply) == AIRS_ENOPROC);
  CHECK(reply == nullptr);
  CHECK(airs_msg_correlation(m) == 9);
  airs_msg_free(m);  // a failed call leaves the message with the caller
}

TEST_CASE("a call fails at once when its callee ends before it replies") {
  // gen_server:call monitors its callee: the caller learns of its end with
  // its reason at once, not when the timeout runs out.
  for (bool threaded : {false, true}) {
    for (bool killed : {false, true}) {
      CAPTURE(threaded);
      CAPTURE(killed);
      Runtime rt({{AIRS_CFG_WORKERS, threaded ? 2 : 0}});
      Actor callee;
      std::atomic<int> asked{0};
      callee.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg* m) {
        if (airs_msg_type(m) != kAsk) return AIRS_OK;
        asked++;
        if (killed) return AIRS_OK;  // holds it; killed from outside
        return airs_exit(ctx, AIRS_EXIT_ERROR, 7, "went away");
      };
      airs_pid pid = spawn(rt, callee);
      std::thread killer;
      if (killed)
        killer = std::thread([&] {
          while (asked == 0) std::this_thread::yield();
          airs_kill(rt, pid);
        });
      airs_msg* reply = nullptr;
      auto t0 = std::chrono::steady_clock::now();
      airs_status st = airs_call(rt, pid, new_msg(kAsk, "q"), 20000, &reply);
      auto waited = std::chrono::steady_clock::now() - t0;
      if (killer.joinable()) killer.join();
      CHECK(st == AIRS_EEXITED);
      CHECK(reply == nullptr);
      CHECK(waited < std::chrono::seconds(5));
      std::string why = airs_last_error_message();
      CHECK(why.find("ended before it replied") != std::string::npos);
      CHECK(why.find(killed ? "killed" : "went away") != std::string::npos);
      // The runtime carries on: the next call to a live process works.
      Server server;
      airs_pid sp = spawn(rt, server.actor);
      REQUIRE(airs_call(rt, sp, new_msg(kAsk, "ok"), 5000, &reply) == AIRS_OK);
      airs_msg_free(reply);
      rt.free();
    }
  }
}

TEST_CASE("a blocking call from a plain thread") {
  SUBCASE("2 workers") {
    Runtime rt({{AIRS_CFG_WORKERS, 2}});
    Server server;
    airs_pid sp = spawn(rt, server.actor);
    airs_msg* reply = nullptr;
    REQUIRE(airs_call(rt, sp, new_msg(kAsk, "one"), 2000, &reply) == AIRS_OK);
    CHECK(airs_msg_type(reply) == kAnswer);
    CHECK(std::string(static_cast<const char*>(airs_msg_data(reply)),
                      airs_msg_size(reply)) == "re:one");
    CHECK(airs_msg_sender(reply) == sp);
    airs_msg_free(reply);
  }
  SUBCASE("host-driven: the waiting thread polls") {
    Runtime rt({{AIRS_CFG_WORKERS, 0}});
    Server server;
    airs_pid sp = spawn(rt, server.actor);
    airs_msg* reply = nullptr;
    REQUIRE(airs_call(rt, sp, new_msg(kAsk, "two"), 2000, &reply) == AIRS_OK);
    CHECK(airs_msg_size(reply) == 6);
    airs_msg_free(reply);
  }
}

TEST_CASE("a blocking call times out; its late reply is a dead letter") {
  Runtime rt({{AIRS_CFG_WORKERS, 2}});
  DeadLetters dead;
  dead.install(rt);
  Server server;
  server.hold = true;
  airs_pid sp = spawn(rt, server.actor);
  airs_msg* reply = nullptr;
  auto t0 = std::chrono::steady_clock::now();
  CHECK(airs_call(rt, sp, new_msg(kAsk, "slow"), 50, &reply) == AIRS_ETIMEDOUT);
  auto waited = std::chrono::steady_clock::now() - t0;
  CHECK(waited >= std::chrono::milliseconds(50));
  CHECK(waited < std::chrono::milliseconds(2000));
  CHECK(reply == nullptr);
  CHECK(std::string(airs_last_error_message()).find("no reply") !=
        std::string::npos);
  REQUIRE(airs_send(rt, sp, kReplyNow, nullptr, 0) == AIRS_OK);
  REQUIRE(wait_until([&] { return dead.size() == 1; }));
  CHECK(dead.get()[0].reason == AIRS_DEAD_LETTER_LATE_REPLY);
}

TEST_CASE(
    "4 threads call one server 1000 times each: every reply is its "
    "own") {
  Runtime rt({{AIRS_CFG_WORKERS, 2}});
  Server server;
  airs_pid sp = spawn(rt, server.actor);
  std::atomic<int> good{0}, bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; i++) {
        std::string q = std::to_string(t) + "/" + std::to_string(i);
        airs_msg* reply = nullptr;
        if (airs_call(rt, sp, new_msg(kAsk, q), 5000, &reply) != AIRS_OK) {
          bad++;
          continue;
        }
        std::string a(static_cast<const char*>(airs_msg_data(reply)),
                      airs_msg_size(reply));
        (a == "re:" + q ? good : bad)++;
        airs_msg_free(reply);
      }
    });
  for (auto& t : threads) t.join();
  CHECK(good == 4000);
  CHECK(bad == 0);
}

TEST_CASE("request/reply misuse") {
  Runtime rt({{AIRS_CFG_WORKERS, 0}});
  Actor a;
  std::atomic<int> call_st{-1}, zero_timeout{-1}, no_corr{-1}, null_out{-1};
  a.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg* m) {
    airs_runtime* r = airs_ctx_runtime(ctx);
    airs_msg* q = new_msg(kAsk, "");
    airs_msg* reply = nullptr;
    call_st = airs_call(r, airs_self(ctx), q, 10, &reply);
    uint64_t c = 0;
    zero_timeout = airs_request(ctx, airs_self(ctx), q, 0, &c);
    null_out = airs_request(ctx, airs_self(ctx), q, 10, nullptr);
    airs_msg_free(q);
    airs_msg* ans = new_msg(kAnswer, "");
    no_corr = airs_reply(ctx, m, ans);  // m has no correlation id
    airs_msg_free(ans);
    return AIRS_OK;
  };
  airs_pid pid = spawn(rt, a);
  REQUIRE(airs_send(rt, pid, kGo, nullptr, 0) == AIRS_OK);
  poll_all(rt);
  CHECK(call_st == AIRS_ESTATE);
  CHECK(zero_timeout == AIRS_EINVAL);
  CHECK(null_out == AIRS_EINVAL);
  CHECK(no_corr == AIRS_EINVAL);
  airs_msg* reply = nullptr;
  CHECK(airs_call(nullptr, pid, nullptr, 10, &reply) == AIRS_EINVAL);
  CHECK(airs_call(rt, pid, nullptr, 10, &reply) == AIRS_EINVAL);
  airs_msg* m = new_msg(kAsk, "");
  CHECK(airs_call(rt, pid, m, 0, &reply) == AIRS_EINVAL);
  CHECK(airs_call(rt, pid, m, 10, nullptr) == AIRS_EINVAL);
  CHECK(airs_request(nullptr, pid, m, 10, nullptr) == AIRS_EINVAL);
  CHECK(airs_reply(nullptr, m, m) == AIRS_EINVAL);
  CHECK(std::string(airs_last_error_message()).size() > 0);
  airs_msg_free(m);
}

TEST_CASE("a blocking call to a mailbox that stays full: EFULL, msg kept") {
  // ETIMEDOUT from airs_call means "sent, no reply" (msg consumed); a
  // BLOCK mailbox that stays full must not look the same.
  std::atomic<bool> started{false}, release{false};
  Actor busy;  // outlives the runtime, which may still run it at the end
  Runtime rt({{AIRS_CFG_WORKERS, 2}});
  busy.on_receive = [&](Actor&, airs_ctx*, const airs_msg* m) {
    if (airs_msg_type(m) == kGo) {
      started = true;
      while (!release)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return AIRS_OK;
  };
  airs_spawn_opts o = opts_of(rt, 0, 1, AIRS_MAILBOX_BLOCK, 60);
  airs_pid pid = spawn(rt, busy, &o);
  REQUIRE(airs_send(rt, pid, kGo, nullptr, 0) == AIRS_OK);
  REQUIRE(wait_until([&] { return started.load(); }));
  REQUIRE(airs_send(rt, pid, kAsk, nullptr, 0) == AIRS_OK);  // fills it
  airs_msg* q = new_msg(kAsk, "q");
  airs_msg_set_correlation(q, 77);
  airs_msg* reply = nullptr;
  CHECK(airs_call(rt, pid, q, 5000, &reply) == AIRS_EFULL);
  CHECK(std::string(airs_last_error_message()).find("stayed full") !=
        std::string::npos);
  CHECK(reply == nullptr);
  CHECK(airs_msg_correlation(q) == 77);  // unchanged, still the caller's
  CHECK(airs_msg_size(q) == 1);
  airs_msg_free(q);
  release = true;
}
