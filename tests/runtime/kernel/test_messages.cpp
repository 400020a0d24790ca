// test_messages.cpp - messages through the C API: ordering, priorities,
// payload kinds and their ownership, sender pids and correlation ids,
// mailbox capacity policies, system signals, counters and dead letters.
#include "../rt_helpers.hpp"

using namespace rt_test;

namespace {

constexpr uint64_t kData = 1;
constexpr uint64_t kGo = 2;
constexpr uint64_t kReply = 3;
constexpr uint64_t kDie = 4;

const Keys kHost = {{AIRS_CFG_WORKERS, 0}};

struct Seq {
  uint32_t tag;
  uint32_t seq;
};

airs_msg* owned_msg(uint64_t type, size_t size, void** ptr_out = nullptr) {
  void* p = ::operator new(size);
  std::memset(p, 0x5A, size);
  airs_msg* m = nullptr;
  REQUIRE(airs_msg_new_owned(type, p, size, counting_free, &m) == AIRS_OK);
  if (ptr_out) *ptr_out = p;
  return m;
}

}  // namespace

TEST_CASE("FIFO per sender->receiver pair, with many senders at once") {
  constexpr uint32_t kThreads = 3;
  constexpr uint32_t kActors = 3;
  constexpr uint32_t kPerSender = 5000;
  constexpr uint32_t kBatch = 50;
  constexpr uint32_t kTotal = (kThreads + kActors) * kPerSender;

  struct Check {
    std::atomic<uint32_t> count{0};
    std::atomic<uint32_t> out_of_order{0};
    std::atomic<uint32_t> wrong_sender{0};
    uint32_t next[kThreads + kActors] = {};  // touched by the receiver only
    airs_pid actor_pids[kActors] = {};
  } check;

  Actor receiver;
  receiver.on_receive = [&](Actor&, airs_ctx*, const airs_msg* m) {
    Seq s = value_of<Seq>(m);
    if (s.tag >= kThreads + kActors || check.next[s.tag] != s.seq)
      check.out_of_order++;
    else
      check.next[s.tag]++;
    airs_pid expect = s.tag < kThreads ? 0 : check.actor_pids[s.tag - kThreads];
    if (airs_msg_sender(m) != expect) check.wrong_sender++;
    check.count++;
    return AIRS_OK;
  };
  // Don't keep a log of 30000 messages: the checks above are the record.
  auto quiet = [](Actor& a) {
    std::lock_guard<std::mutex> lock(a.mu);
    a.log.clear();
  };

  // Actor senders send a batch per turn, then ask themselves for more, so
  // their sends interleave with everyone else's.
  struct Sender {
    Actor actor;
    uint32_t tag = 0;
    uint32_t sent = 0;
    airs_pid to = 0;
  };
  Sender senders[kActors];

  Runtime rt({{AIRS_CFG_WORKERS, 4}});
  airs_pid rpid = spawn(rt, receiver);
  for (uint32_t i = 0; i < kActors; i++) {
    Sender& s = senders[i];
    s.tag = kThreads + i;
    s.to = rpid;
    s.actor.on_receive = [&s, &quiet](Actor& a, airs_ctx* ctx,
                                      const airs_msg*) {
      quiet(a);
      for (uint32_t k = 0; k < kBatch && s.sent < kPerSender; k++) {
        Seq v{s.tag, s.sent};
        airs_status st = airs_ctx_send(ctx, s.to, kData, &v, sizeof v);
        if (st != AIRS_OK) return st;
        s.sent++;
      }
      if (s.sent < kPerSender)
        return airs_ctx_send(ctx, airs_self(ctx), kGo, nullptr, 0);
      return AIRS_OK;
    };
    check.actor_pids[i] = spawn(rt, s.actor);
  }
  // The pids are written before any message can carry them.
  for (uint32_t i = 0; i < kActors; i++)
    REQUIRE(airs_send(rt, check.actor_pids[i], kGo, nullptr, 0) == AIRS_OK);

  std::vector<std::thread> threads;
  std::atomic<int> send_errors{0};
  for (uint32_t t = 0; t < kThreads; t++)
    threads.emplace_back([&, t] {
      for (uint32_t i = 0; i < kPerSender; i++) {
        Seq v{t, i};
        if (airs_send(rt, rpid, kData, &v, sizeof v) != AIRS_OK) send_errors++;
      }
    });
  for (auto& th : threads) th.join();
  CHECK(send_errors == 0);
  REQUIRE(wait_until([&] { return check.count == kTotal; }, 4000));
  CHECK(check.out_of_order == 0);
  CHECK(check.wrong_sender == 0);
  CHECK(stat(rt, rpid, AIRS_PSTAT_MSGS_HANDLED) == kTotal);
  rt.free();
  for (uint32_t t = 0; t < kThreads + kActors; t++)
    CHECK(check.next[t] == kPerSender);
}

TEST_CASE("high priority messages are handled before waiting normal ones") {
  Actor a;
  Runtime rt(kHost);
  airs_pid pid = spawn(rt, a);
  for (uint64_t i = 1; i <= 4; i++)
    REQUIRE(airs_send(rt, pid, 100 + i, nullptr, 0) == AIRS_OK);
  for (uint64_t i = 1; i <= 3; i++) {
    airs_msg* m = nullptr;
    REQUIRE(airs_msg_new(200 + i, nullptr, 0, &m) == AIRS_OK);
    REQUIRE(airs_msg_set_priority(m, AIRS_PRIORITY_HIGH) == AIRS_OK);
    CHECK(airs_msg_priority(m) == AIRS_PRIORITY_HIGH);
    REQUIRE(airs_send_msg(rt, pid, m) == AIRS_OK);
  }
  poll_all(rt);
  CHECK(a.types() == std::vector<uint64_t>{201, 202, 203, 101, 102, 103, 104});
  auto msgs = a.messages();
  CHECK(msgs[0].priority == AIRS_PRIORITY_HIGH);
  CHECK(msgs[6].priority == AIRS_PRIORITY_NORMAL);

  airs_msg* m = nullptr;
  REQUIRE(airs_msg_new(1, nullptr, 0, &m) == AIRS_OK);
  CHECK(airs_msg_set_priority(m, static_cast<airs_priority>(7)) == AIRS_EINVAL);
  CHECK(airs_msg_priority(m) == AIRS_PRIORITY_NORMAL);
  airs_msg_free(m);
}

TEST_CASE("copied payloads are copied at send time") {
  Actor a;
  Runtime rt(kHost);
  airs_pid pid = spawn(rt, a);
  std::string buf = "original";
  REQUIRE(send_str(rt, pid, kData, buf) == AIRS_OK);
  buf.assign("changed!");
  std::string big(100000, 'x');
  big[99999] = 'y';
  REQUIRE(send_str(rt, pid, kData, big) == AIRS_OK);
  REQUIRE(airs_send(rt, pid, kData, nullptr, 0) == AIRS_OK);  // empty
  poll_all(rt);
  auto msgs = a.messages();
  REQUIRE(msgs.size() == 3);
  CHECK(msgs[0].data == "original");
  CHECK(msgs[1].data == big);
  CHECK(msgs[2].data.empty());

  // Bad messages are refused and out stays untouched.
  airs_msg* m = reinterpret_cast<airs_msg*>(0x1);
  CHECK(airs_msg_new(AIRS_MSG_EXIT, nullptr, 0, &m) == AIRS_EINVAL);
  CHECK(airs_msg_new(kData, nullptr, 5, &m) == AIRS_EINVAL);
  CHECK(m == reinterpret_cast<airs_msg*>(0x1));
  CHECK(airs_send(rt, pid, AIRS_MSG_DOWN, nullptr, 0) == AIRS_EINVAL);
  CHECK(airs_send(rt, pid, AIRS_MSG_SYSTEM_BASE + 77, "x", 1) == AIRS_EINVAL);
}

TEST_CASE("owned payloads travel without a copy and are freed once") {
  Actor a, dead;
  Runtime rt(kHost);
  std::vector<const void*> seen;
  a.on_receive = [&](Actor&, airs_ctx*, const airs_msg* m) {
    seen.push_back(airs_msg_data(m));
    return AIRS_OK;
  };
  airs_pid pid = spawn(rt, a);
  int before = g_owned_frees;

  void* ptr = nullptr;
  airs_msg* m = owned_msg(kData, 64, &ptr);
  REQUIRE(airs_send_msg(rt, pid, m) == AIRS_OK);
  CHECK(g_owned_frees == before);  // queued, not freed
  poll_all(rt);
  REQUIRE(seen.size() == 1);
  CHECK(seen[0] == ptr);  // zero copy
  CHECK(g_owned_frees == before + 1);

  // A failed send leaves the message, payload included, with the caller.
  airs_pid gone = spawn(rt, dead);
  REQUIRE(airs_kill(rt, gone) == AIRS_OK);
  poll_all(rt);
  m = owned_msg(kData, 16, &ptr);
  CHECK(airs_send_msg(rt, gone, m) == AIRS_ENOPROC);
  CHECK(g_owned_frees == before + 1);
  CHECK(airs_msg_data(m) == ptr);
  REQUIRE(airs_send_msg(rt, pid, m) == AIRS_OK);  // still ours: reuse it
  poll_all(rt);
  CHECK(g_owned_frees == before + 2);

  // free_fn NULL: the pointer is not owned and never freed by airs.
  static char not_owned[8] = "static";
  REQUIRE(airs_msg_new_owned(kData, not_owned, sizeof not_owned, nullptr, &m) ==
          AIRS_OK);
  REQUIRE(airs_send_msg(rt, pid, m) == AIRS_OK);
  poll_all(rt);
  CHECK(seen.back() == not_owned);

  // A message never sent is freed by airs_msg_free, once.
  m = owned_msg(kData, 8);
  airs_msg_free(m);
  CHECK(g_owned_frees == before + 3);
  CHECK(airs_msg_new_owned(kData, nullptr, 4, counting_free, &m) ==
        AIRS_EINVAL);
}

TEST_CASE("shared payloads: one buffer, many deliveries, freed at the end") {
  Actor r1, r2, r3;
  Runtime rt(kHost);
  int before = g_owned_frees;
  void* buf = ::operator new(32);
  std::memcpy(buf, "fan-out to every subscriber....", 32);
  airs_payload* pl = nullptr;
  REQUIRE(airs_payload_wrap(buf, 32, counting_free, &pl) == AIRS_OK);
  CHECK(airs_payload_data(pl) == buf);
  CHECK(airs_payload_size(pl) == 32);

  std::mutex mu;
  std::vector<std::pair<const void*, airs_payload*>> seen;
  airs_payload* kept = nullptr;
  auto record = [&](Actor&, airs_ctx*, const airs_msg* m) {
    std::lock_guard<std::mutex> lock(mu);
    seen.emplace_back(airs_msg_data(m), airs_msg_payload(m));
    return AIRS_OK;
  };
  r1.on_receive = record;
  r2.on_receive = record;
  r3.on_receive = [&](Actor& a, airs_ctx* c, const airs_msg* m) {
    // Keeping the payload past the message takes a reference.
    kept = airs_msg_payload(m);
    airs_payload_retain(kept);
    return record(a, c, m);
  };
  airs_pid pids[3] = {spawn(rt, r1), spawn(rt, r2), spawn(rt, r3)};
  for (airs_pid p : pids) {
    airs_msg* m = nullptr;
    REQUIRE(airs_msg_new_shared(kData, pl, &m) == AIRS_OK);
    CHECK(airs_msg_data(m) == buf);
    CHECK(airs_msg_size(m) == 32);
    REQUIRE(airs_send_msg(rt, p, m) == AIRS_OK);
  }
  airs_payload_release(pl);  // our reference; the messages hold theirs
  CHECK(g_owned_frees == before);
  poll_all(rt);
  REQUIRE(seen.size() == 3);
  for (auto& s : seen) {
    CHECK(s.first == buf);  // one buffer for every receiver
    CHECK(s.second == pl);
  }
  CHECK(g_owned_frees == before);  // r3 still holds a reference
  REQUIRE(kept == pl);
  CHECK(std::memcmp(airs_payload_data(kept), "fan-out", 7) == 0);
  airs_payload_release(kept);
  CHECK(g_owned_frees == before + 1);

  // A copied payload is freed with its last reference too (ASan checks).
  airs_payload* copy = nullptr;
  REQUIRE(airs_payload_new("abc", 3, &copy) == AIRS_OK);
  CHECK(std::memcmp(airs_payload_data(copy), "abc", 3) == 0);
  airs_msg* m = nullptr;
  REQUIRE(airs_msg_new_shared(kData, copy, &m) == AIRS_OK);
  airs_payload_release(copy);
  CHECK(airs_msg_payload(m) == copy);
  airs_msg_free(m);
  // Plain messages have no shared payload.
  REQUIRE(airs_msg_new(kData, "x", 1, &m) == AIRS_OK);
  CHECK(airs_msg_payload(m) == nullptr);
  CHECK(airs_msg_reason(m) == nullptr);
  airs_msg_free(m);
}

TEST_CASE("the sender pid: 0 from outside, the calling process inside") {
  Actor a, b;
  Runtime rt(kHost);
  airs_pid bpid = 0;
  airs_pid apid = 0;
  a.on_init = [&](Actor&, airs_ctx* ctx) {
    // init runs in the spawning call, but as the new process.
    return airs_send(airs_ctx_runtime(ctx), bpid, 10, nullptr, 0);
  };
  a.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg*) {
    airs_runtime* r = airs_ctx_runtime(ctx);
    CHECK(airs_ctx_send(ctx, bpid, 11, nullptr, 0) == AIRS_OK);
    CHECK(airs_send(r, bpid, 12, nullptr, 0) == AIRS_OK);
    airs_msg* m = nullptr;
    CHECK(airs_msg_new(13, nullptr, 0, &m) == AIRS_OK);
    CHECK(airs_send_msg(r, bpid, m) == AIRS_OK);
    return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, nullptr);
  };
  a.on_terminate = [&](Actor&, airs_ctx* ctx, const airs_reason*) {
    airs_ctx_send(ctx, bpid, 14, nullptr, 0);
  };
  bpid = spawn(rt, b);
  REQUIRE(airs_send(rt, bpid, 9, nullptr, 0) == AIRS_OK);
  apid = spawn(rt, a);
  REQUIRE(airs_send(rt, apid, kGo, nullptr, 0) == AIRS_OK);
  // A message made outside and sent from outside has no sender.
  poll_all(rt);
  auto msgs = b.messages();
  REQUIRE(msgs.size() == 6);
  CHECK(msgs[0].type == 9);
  CHECK(msgs[0].sender == AIRS_NO_PID);
  for (size_t i = 1; i < 6; i++) {
    CAPTURE(i);
    CHECK(msgs[i].type == 9 + i);
    CHECK(msgs[i].sender == apid);
  }
}

TEST_CASE("correlation ids travel with the message and its reply") {
  Actor server, client;
  Runtime rt(kHost);
  server.on_receive = [](Actor&, airs_ctx* ctx, const airs_msg* m) {
    airs_msg* reply = nullptr;
    CHECK(airs_msg_new(kReply, airs_msg_data(m), airs_msg_size(m), &reply) ==
          AIRS_OK);
    CHECK(airs_msg_set_correlation(reply, airs_msg_correlation(m)) == AIRS_OK);
    return airs_ctx_send_msg(ctx, airs_msg_sender(m), reply);
  };
  airs_pid spid = spawn(rt, server);
  client.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg* m) {
    if (airs_msg_type(m) != kGo) return AIRS_OK;
    for (uint64_t corr : {0xDEADBEEFull, 7ull, ~0ull}) {
      airs_msg* req = nullptr;
      CHECK(airs_msg_new(kData, &corr, sizeof corr, &req) == AIRS_OK);
      CHECK(airs_msg_set_correlation(req, corr) == AIRS_OK);
      CHECK(airs_ctx_send_msg(ctx, spid, req) == AIRS_OK);
    }
    return AIRS_OK;
  };
  airs_pid cpid = spawn(rt, client);
  REQUIRE(airs_send(rt, cpid, kGo, nullptr, 0) == AIRS_OK);
  poll_all(rt);
  auto msgs = client.messages();
  REQUIRE(msgs.size() == 4);
  CHECK(msgs[0].correlation == 0);  // none set
  uint64_t expect[] = {0xDEADBEEFull, 7ull, ~0ull};
  for (int i = 0; i < 3; i++) {
    CHECK(msgs[i + 1].type == kReply);
    CHECK(msgs[i + 1].sender == spid);
    CHECK(msgs[i + 1].correlation == expect[i]);
    uint64_t body = 0;
    std::memcpy(&body, msgs[i + 1].data.data(), sizeof body);
    CHECK(body == expect[i]);
  }
}

TEST_CASE("capacity policy FAIL: AIRS_EFULL and the caller keeps the message") {
  Actor a, inner;
  Runtime rt(kHost);
  airs_spawn_opts o = opts_of(rt, 0, 2, AIRS_MAILBOX_FAIL);
  airs_pid pid = spawn(rt, a, &o);
  CHECK(stat(rt, pid, AIRS_PSTAT_MAILBOX_CAPACITY) == 2);
  REQUIRE(send_str(rt, pid, kData, "1") == AIRS_OK);
  REQUIRE(send_str(rt, pid, kData, "2") == AIRS_OK);
  int before = g_owned_frees;
  airs_msg* m = owned_msg(kData, 8);
  CHECK(airs_send_msg(rt, pid, m) == AIRS_EFULL);
  CHECK(g_owned_frees == before);
  CHECK(airs_send(rt, pid, kData, "3", 1) == AIRS_EFULL);
  CHECK(stat(rt, pid, AIRS_PSTAT_MAILBOX_DEPTH) == 2);
  CHECK(stat(rt, pid, AIRS_PSTAT_MSGS_ENQUEUED) == 2);
  CHECK(stat(rt, pid, AIRS_PSTAT_MSGS_DROPPED) == 2);
  CHECK(stat(rt, pid, AIRS_PSTAT_MSGS_HANDLED) == 0);
  poll_all(rt);
  CHECK(stat(rt, pid, AIRS_PSTAT_MAILBOX_DEPTH) == 0);
  CHECK(stat(rt, pid, AIRS_PSTAT_MSGS_HANDLED) == 2);
  // Room again: the message we kept can go now.
  REQUIRE(airs_send_msg(rt, pid, m) == AIRS_OK);
  poll_all(rt);
  CHECK(g_owned_frees == before + 1);
  CHECK(a.received == 3);

  // Inside a callback, the same: EFULL at once.
  std::vector<airs_status> got;
  inner.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg*) {
    for (int i = 0; i < 3; i++)
      got.push_back(airs_ctx_send(ctx, pid, kData, "x", 1));
    return AIRS_OK;
  };
  airs_pid ipid = spawn(rt, inner);
  REQUIRE(airs_send(rt, ipid, kGo, nullptr, 0) == AIRS_OK);
  poll_all(rt);
  CHECK(got == std::vector<airs_status>{AIRS_OK, AIRS_OK, AIRS_EFULL});
}

TEST_CASE("capacity policy DROP_NEWEST: OK, and the dead-letter hook") {
  DeadLetters dl;
  Actor a;
  Runtime rt(kHost);
  dl.install(rt);
  airs_spawn_opts o = opts_of(rt, 0, 1, AIRS_MAILBOX_DROP_NEWEST);
  airs_pid pid = spawn(rt, a, &o);
  REQUIRE(send_str(rt, pid, kData, "kept") == AIRS_OK);
  int before = g_owned_frees;
  airs_msg* m = owned_msg(kGo, 4);
  CHECK(airs_send_msg(rt, pid, m) == AIRS_OK);  // consumed: dropped
  CHECK(g_owned_frees == before + 1);           // freed after the hook
  CHECK(send_str(rt, pid, kData, "dropped") == AIRS_OK);
  auto letters = dl.get();
  REQUIRE(letters.size() == 2);
  CHECK(letters[0].reason == AIRS_DEAD_LETTER_MAILBOX_FULL);
  CHECK(letters[0].to == pid);
  CHECK(letters[0].type == kGo);
  CHECK(letters[1].data == "dropped");
  CHECK(stat(rt, pid, AIRS_PSTAT_MSGS_DROPPED) == 2);
  CHECK(stat(rt, pid, AIRS_PSTAT_MAILBOX_DEPTH) == 1);
  poll_all(rt);
  auto msgs = a.messages();
  REQUIRE(msgs.size() == 1);
  CHECK(msgs[0].data == "kept");

  // Without a hook, drops are still freed (ASan checks the leak).
  REQUIRE(airs_set_dead_letter_hook(rt, nullptr, nullptr) == AIRS_OK);
  REQUIRE(send_str(rt, pid, kData, "a") == AIRS_OK);
  m = owned_msg(kGo, 4);
  CHECK(airs_send_msg(rt, pid, m) == AIRS_OK);
  CHECK(g_owned_frees == before + 2);
  CHECK(dl.size() == 2);
}

TEST_CASE("capacity policy BLOCK: the sender waits for room") {
  // The receiver holds its first message until `release`, so the mailbox
  // stays full while we look.
  std::atomic<bool> started{false}, release{false};
  Actor a;
  a.on_receive = [&](Actor&, airs_ctx*, const airs_msg* m) {
    if (airs_msg_type(m) == kGo) {
      started = true;
      auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(3);
      while (!release && std::chrono::steady_clock::now() < limit)
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return AIRS_OK;
  };
  Runtime rt({{AIRS_CFG_WORKERS, 2}});

  SUBCASE("released when the receiver drains") {
    airs_spawn_opts o = opts_of(rt, 0, 2, AIRS_MAILBOX_BLOCK, 3000);
    airs_pid pid = spawn(rt, a, &o);
    REQUIRE(airs_send(rt, pid, kGo, nullptr, 0) == AIRS_OK);
    REQUIRE(wait_until([&] { return started.load(); }));
    REQUIRE(send_str(rt, pid, kData, "1") == AIRS_OK);
    REQUIRE(send_str(rt, pid, kData, "2") == AIRS_OK);
    std::atomic<bool> done{false};
    airs_status st = AIRS_EINTERNAL;
    std::thread sender([&] {
      st = send_str(rt, pid, kData, "3");
      done = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK_FALSE(done.load());  // still blocked: the mailbox is full
    release = true;
    sender.join();
    CHECK(st == AIRS_OK);
    REQUIRE(wait_until([&] { return a.received == 4; }));
    auto msgs = a.messages();
    CHECK(msgs[1].data == "1");
    CHECK(msgs[2].data == "2");
    CHECK(msgs[3].data == "3");
    CHECK(stat(rt, pid, AIRS_PSTAT_MSGS_DROPPED) == 0);
  }
  SUBCASE("AIRS_ETIMEDOUT when it does not drain") {
    airs_spawn_opts o = opts_of(rt, 0, 1, AIRS_MAILBOX_BLOCK, 60);
    airs_pid pid = spawn(rt, a, &o);
    REQUIRE(airs_send(rt, pid, kGo, nullptr, 0) == AIRS_OK);
    REQUIRE(wait_until([&] { return started.load(); }));
    REQUIRE(send_str(rt, pid, kData, "1") == AIRS_OK);
    int before = g_owned_frees;
    airs_msg* m = owned_msg(kData, 8);
    auto t0 = std::chrono::steady_clock::now();
    CHECK(airs_send_msg(rt, pid, m) == AIRS_ETIMEDOUT);
    auto waited = std::chrono::steady_clock::now() - t0;
    CHECK(waited >= std::chrono::milliseconds(55));
    CHECK(waited < std::chrono::milliseconds(1500));
    CHECK(g_owned_frees == before);  // still ours
    airs_msg_free(m);
    CHECK(stat(rt, pid, AIRS_PSTAT_MSGS_DROPPED) == 1);
    release = true;
    REQUIRE(wait_until([&] { return a.received == 2; }));
  }
  release = true;
}

TEST_CASE("capacity policy BLOCK inside a callback acts like FAIL") {
  Actor target, sender;
  Runtime rt(kHost);
  airs_spawn_opts o = opts_of(rt, 0, 1, AIRS_MAILBOX_BLOCK, 2000);
  airs_pid tpid = spawn(rt, target, &o);
  std::vector<airs_status> got;
  sender.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg*) {
    got.push_back(airs_ctx_send(ctx, tpid, kData, nullptr, 0));
    got.push_back(airs_send(airs_ctx_runtime(ctx), tpid, kData, nullptr, 0));
    return AIRS_OK;
  };
  airs_pid spid = spawn(rt, sender);
  REQUIRE(airs_send(rt, spid, kGo, nullptr, 0) == AIRS_OK);
  auto t0 = std::chrono::steady_clock::now();
  poll_all(rt);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(500));
  CHECK(got == std::vector<airs_status>{AIRS_OK, AIRS_EFULL});
}

TEST_CASE("system signals bypass a full mailbox") {
  Actor stopped, killed, exited, watcher, target;
  Runtime rt(kHost);
  airs_spawn_opts o = opts_of(rt, 0, 1, AIRS_MAILBOX_FAIL);
  airs_pid s = spawn(rt, stopped, &o);
  airs_pid k = spawn(rt, killed, &o);
  airs_pid e = spawn(rt, exited, &o);
  for (airs_pid p : {s, k, e}) {
    REQUIRE(send_str(rt, p, kData, "queued") == AIRS_OK);
    REQUIRE(send_str(rt, p, kData, "over") == AIRS_EFULL);
  }
  CHECK(airs_stop(rt, s) == AIRS_OK);
  CHECK(airs_kill(rt, k) == AIRS_OK);
  CHECK(airs_send_exit(rt, e, AIRS_EXIT_ERROR, 3, "x") == AIRS_OK);
  CHECK(stat(rt, s, AIRS_PSTAT_MAILBOX_DEPTH) == 2);  // signals count
  poll_all(rt);
  // stop and exit queue behind the message; kill jumps ahead of it.
  CHECK(stopped.received == 1);
  CHECK(stopped.reason().kind == AIRS_EXIT_SHUTDOWN);
  CHECK(killed.received == 0);
  CHECK(killed.reason().kind == AIRS_EXIT_KILLED);
  CHECK(exited.received == 1);
  CHECK(exited.reason().kind == AIRS_EXIT_ERROR);

  // A monitor's down message gets into a full mailbox too.
  airs_pid t = spawn(rt, target);
  watcher.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg* m) {
    uint64_t ref = 0;
    if (airs_msg_type(m) == kGo) return airs_monitor(ctx, t, &ref);
    return AIRS_OK;
  };
  airs_pid w = spawn(rt, watcher, &o);
  REQUIRE(airs_send(rt, w, kGo, nullptr, 0) == AIRS_OK);
  poll_all(rt);
  REQUIRE(send_str(rt, w, kData, "fill") == AIRS_OK);
  REQUIRE(airs_send(rt, w, kData, nullptr, 0) == AIRS_EFULL);
  REQUIRE(airs_kill(rt, t) == AIRS_OK);
  poll_all(rt);
  CHECK(watcher.types() == std::vector<uint64_t>{kGo, kData, AIRS_MSG_DOWN});
}

TEST_CASE("per-process counters") {
  Actor a;
  a.on_receive = [](Actor&, airs_ctx* ctx, const airs_msg* m) {
    if (airs_msg_type(m) == kDie)
      return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, nullptr);
    return AIRS_OK;
  };
  Runtime rt(kHost);
  airs_pid pid = spawn(rt, a);
  CHECK(stat(rt, pid, AIRS_PSTAT_MAILBOX_CAPACITY) == 0);
  CHECK(stat(rt, pid, AIRS_PSTAT_MAILBOX_DEPTH) == 0);
  for (int i = 0; i < 5; i++)
    REQUIRE(airs_send(rt, pid, kData, nullptr, 0) == AIRS_OK);
  CHECK(stat(rt, pid, AIRS_PSTAT_MAILBOX_DEPTH) == 5);
  CHECK(stat(rt, pid, AIRS_PSTAT_MSGS_ENQUEUED) == 5);
  CHECK(stat(rt, pid, AIRS_PSTAT_MSGS_HANDLED) == 0);
  uint32_t ran = 0;
  REQUIRE(airs_runtime_poll(rt, 1, &ran) == AIRS_OK);
  CHECK(ran == 1);
  CHECK(stat(rt, pid, AIRS_PSTAT_MAILBOX_DEPTH) == 0);
  CHECK(stat(rt, pid, AIRS_PSTAT_MSGS_HANDLED) == 5);
  CHECK(stat(rt, pid, AIRS_PSTAT_MSGS_DROPPED) == 0);
  uint64_t v = 0;
  CHECK(airs_process_stat_get(rt, pid, static_cast<airs_process_stat>(99),
                              &v) == AIRS_EINVAL);
  CHECK(airs_process_stat_get(rt, pid, AIRS_PSTAT_MAILBOX_DEPTH, nullptr) ==
        AIRS_EINVAL);
  REQUIRE(airs_send(rt, pid, kDie, nullptr, 0) == AIRS_OK);
  poll_all(rt);
  CHECK(airs_process_stat_get(rt, pid, AIRS_PSTAT_MSGS_HANDLED, &v) ==
        AIRS_ENOPROC);
}

TEST_CASE("per-process counters are exact with senders on every thread kind") {
  // Workers 0 and 1 count what they send in counters of their own, other
  // threads in a shared one: all add up once the sends are done.
  constexpr int kActors = 8, kThreads = 2, kEach = 3000;
  constexpr uint64_t kTotal = uint64_t{kActors + kThreads} * kEach + 1;
  std::atomic<bool> release{false};
  Actor sink;
  sink.on_receive = [&](Actor&, airs_ctx*, const airs_msg* m) {
    if (airs_msg_type(m) == kGo)
      while (!release) std::this_thread::yield();  // hold the rest back
    return AIRS_OK;
  };
  std::vector<Actor> senders(kActors);
  std::vector<airs_pid> sender_pids;
  Runtime rt({{AIRS_CFG_WORKERS, 2}});
  airs_pid sink_pid = spawn(rt, sink);
  REQUIRE(airs_send(rt, sink_pid, kGo, nullptr, 0) == AIRS_OK);
  REQUIRE(wait_until([&] { return sink.messages().size() == 1; }));
  for (Actor& a : senders) {
    a.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg*) {
      for (int i = 0; i < kEach; i++)
        REQUIRE(airs_ctx_send(ctx, sink_pid, kData, nullptr, 0) == AIRS_OK);
      return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, nullptr);
    };
    sender_pids.push_back(spawn(rt, a));
    REQUIRE(airs_send(rt, sender_pids.back(), kGo, nullptr, 0) == AIRS_OK);
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++)
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; i++)
        REQUIRE(airs_send(rt, sink_pid, kData, nullptr, 0) == AIRS_OK);
    });
  for (auto& t : threads) t.join();
  // A sender that has ended has its sends in the mailbox (the last turn's
  // staged ones too).
  for (airs_pid pid : sender_pids)
    REQUIRE(airs_wait(rt, pid, 10000) == AIRS_OK);
  // Every send is done; the sink still holds the first message.
  CHECK(stat(rt, sink_pid, AIRS_PSTAT_MSGS_ENQUEUED) == kTotal);
  CHECK(stat(rt, sink_pid, AIRS_PSTAT_MSGS_HANDLED) == 1);
  CHECK(stat(rt, sink_pid, AIRS_PSTAT_MAILBOX_DEPTH) == kTotal - 1);
  release = true;
  REQUIRE(wait_until(
      [&] { return stat(rt, sink_pid, AIRS_PSTAT_MSGS_HANDLED) == kTotal; }));
  CHECK(stat(rt, sink_pid, AIRS_PSTAT_MSGS_ENQUEUED) == kTotal);
  CHECK(stat(rt, sink_pid, AIRS_PSTAT_MAILBOX_DEPTH) == 0);
}

TEST_CASE("what a process sent is in the mailboxes once its end is seen") {
  // A turn stages sends to one target and pushes them as a chain; a
  // process that ends in that turn must push them before anyone can see
  // it gone (airs_is_alive, airs_wait), links and monitors or not.
  constexpr int kRounds = 300, kEach = 10;
  std::atomic<bool> release{false};
  Actor sink;
  sink.on_receive = [&](Actor&, airs_ctx*, const airs_msg* m) {
    if (airs_msg_type(m) == kGo)
      while (!release) std::this_thread::yield();  // takes nothing meanwhile
    return AIRS_OK;
  };
  // The sink holds one worker; the senders run on the other.
  Runtime rt({{AIRS_CFG_WORKERS, 2}});
  airs_pid sink_pid = spawn(rt, sink);
  REQUIRE(airs_send(rt, sink_pid, kGo, nullptr, 0) == AIRS_OK);
  REQUIRE(wait_until([&] { return sink.messages().size() == 1; }));
  uint64_t expect = 1;
  int late = 0;
  for (int round = 0; round < kRounds; round++) {
    Actor src;
    src.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg*) {
      for (int i = 0; i < kEach; i++)
        if (airs_ctx_send(ctx, sink_pid, kData, nullptr, 0) != AIRS_OK)
          return AIRS_EINVAL;
      return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, nullptr);
    };
    airs_pid pid = spawn(rt, src);
    REQUIRE(airs_send(rt, pid, kGo, nullptr, 0) == AIRS_OK);
    expect += kEach;
    if (round % 2) {
      while (airs_is_alive(rt, pid)) {
      }
    } else {
      REQUIRE(airs_wait(rt, pid, 10000) == AIRS_OK);
    }
    uint64_t got = stat(rt, sink_pid, AIRS_PSTAT_MSGS_ENQUEUED);
    if (got != expect) {
      late++;
      MESSAGE("round " << round << ": " << got << " of " << expect);
    }
    expect = stat(rt, sink_pid, AIRS_PSTAT_MSGS_ENQUEUED);
    // Its terminate may still run: `src` must outlive the end.
    REQUIRE(airs_wait(rt, pid, 10000) == AIRS_OK);
  }
  release = true;
  CHECK(late == 0);
}

// The user_data of a process goes before its end is seen: a monitor's
// DOWN, a supervisor's EXIT (which airs_supervisor_terminate_child waits
// for), airs_wait. The free below sleeps, and the watcher runs on the
// other worker and takes its DOWN the moment it is in its mailbox: a DOWN
// sent before the free would be seen before it ends.
std::atomic<int> g_slow_frees{0};
void slow_free(void*) {
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  g_slow_frees++;
}

constexpr uint64_t kSpin = 5;

// Whether `pid` has ended its turn with nothing left to take (its role
// given back: a process made runnable by what it sent is queued by then).
bool turn_over(airs_runtime* rt, airs_pid pid) {
  airs_process_info info{};
  info.version = AIRS_PROCESS_INFO_VERSION;
  info.size = sizeof info;
  return airs_process_info_get(rt, pid, &info) == AIRS_OK &&
         info.state == AIRS_PSTATE_WAITING;
}

// Whether `watcher` is among the processes that monitor `pid`, as `pid`
// itself answers.
bool monitored_by(airs_runtime* rt, airs_pid pid, airs_pid watcher) {
  airs_pid by[4] = {0};
  airs_process_ties ties{};
  ties.monitored_by = by;
  ties.monitored_by_capacity = 4;
  return airs_process_ties_get(rt, pid, &ties, 1000) == AIRS_OK &&
         ties.monitored_by_count == 1 && by[0] == watcher;
}

TEST_CASE("a process's user_data is released before its end is seen") {
  Actor target;
  target.on_receive = [](Actor&, airs_ctx* ctx, const airs_msg*) {
    return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, nullptr);
  };
  std::atomic<airs_pid> target_pid{0};
  std::atomic<int> frees_at_down{-1};
  std::atomic<bool> spinning{false};
  Actor watcher;
  watcher.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg* m) {
    uint64_t ref = 0;
    if (airs_msg_type(m) == kGo) return airs_monitor(ctx, target_pid, &ref);
    if (airs_msg_type(m) == kSpin) {
      // Holds this worker until the DOWN is in the mailbox; the turn
      // takes it next.
      airs_process_info info{};
      info.version = AIRS_PROCESS_INFO_VERSION;
      info.size = sizeof info;
      auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      spinning = true;
      while (std::chrono::steady_clock::now() < limit &&
             airs_process_info_get(airs_ctx_runtime(ctx), airs_self(ctx),
                                   &info) == AIRS_OK &&
             info.mailbox_depth == 0) {
      }
      spinning = false;
    }
    if (airs_msg_type(m) == AIRS_MSG_DOWN) frees_at_down = g_slow_frees.load();
    return AIRS_OK;
  };
  // Made after the actors, so that it is freed before them: a failed
  // REQUIRE leaves no turn running on an actor that has gone.
  Runtime rt({{AIRS_CFG_WORKERS, 2}});
  airs_pid watcher_pid = spawn(rt, watcher);
  int late = 0;
  for (int round = 0; round < 10; round++) {
    INFO("round " << round);
    airs_pid pid = 0;
    REQUIRE(airs_spawn(rt, &kActor, &target, slow_free, nullptr, &pid) ==
            AIRS_OK);
    target_pid = pid;
    frees_at_down = -1;
    int before = watcher.received.load();
    REQUIRE(airs_send(rt, watcher_pid, kGo, nullptr, 0) == AIRS_OK);
    // The monitor is in place, and neither process is in a turn, before
    // the watcher spins. Else kSpin could be taken in kGo's turn, with
    // the target (made runnable by the monitor signal) waiting on that
    // worker's queue until the spin ends, while the other worker sleeps.
    REQUIRE(wait_until([&] {
      return watcher.received.load() > before && turn_over(rt, watcher_pid);
    }));
    REQUIRE(wait_until([&] { return monitored_by(rt, pid, watcher_pid); }));
    REQUIRE(wait_until([&] { return turn_over(rt, pid); }));
    REQUIRE(airs_send(rt, watcher_pid, kSpin, nullptr, 0) == AIRS_OK);
    REQUIRE(wait_until([&] { return spinning.load(); }));
    REQUIRE(airs_send(rt, pid, kDie, nullptr, 0) == AIRS_OK);
    REQUIRE(wait_until([&] { return frees_at_down.load() >= 0; }));
    if (frees_at_down != round + 1) late++;
    REQUIRE(airs_wait(rt, pid, 10000) == AIRS_OK);
    CHECK(g_slow_frees == round + 1);
  }
  CHECK(late == 0);
}

TEST_CASE("mail still queued when a process ends becomes dead letters") {
  DeadLetters dl;
  Actor a;
  a.on_receive = [](Actor&, airs_ctx* ctx, const airs_msg* m) {
    if (airs_msg_type(m) == kDie)
      return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, nullptr);
    return AIRS_OK;
  };
  Runtime rt(kHost);
  dl.install(rt);
  airs_pid pid = spawn(rt, a);
  REQUIRE(airs_send(rt, pid, kDie, nullptr, 0) == AIRS_OK);
  REQUIRE(send_str(rt, pid, kData, "late-1") == AIRS_OK);
  int before = g_owned_frees;
  airs_msg* m = owned_msg(kGo, 4);
  REQUIRE(airs_send_msg(rt, pid, m) == AIRS_OK);
  REQUIRE(send_str(rt, pid, kData, "late-3") == AIRS_OK);
  poll_all(rt);
  CHECK(a.received == 1);
  auto letters = dl.get();
  REQUIRE(letters.size() == 3);
  for (auto& l : letters) {
    CHECK(l.reason == AIRS_DEAD_LETTER_EXITED);
    CHECK(l.to == pid);
  }
  CHECK(letters[0].data == "late-1");
  CHECK(letters[1].type == kGo);
  CHECK(letters[2].data == "late-3");
  CHECK(g_owned_frees == before + 1);
  // After the end, sends fail instead (the hook sees them as NOPROC).
  CHECK(send_str(rt, pid, kData, "after") == AIRS_ENOPROC);
  REQUIRE(dl.size() == 4);
  CHECK(dl.get()[3].reason == AIRS_DEAD_LETTER_NOPROC);
  CHECK(dl.get()[3].data == "after");
}

TEST_CASE("messages queued for a killed process are dead letters too") {
  // Threaded: a flood is killed mid-way; every message is either handled
  // or a dead letter, never lost or doubled.
  DeadLetters dl;
  std::atomic<uint64_t> handled{0};
  Actor a;
  a.on_receive = [&](Actor& self, airs_ctx*, const airs_msg*) {
    handled++;
    std::lock_guard<std::mutex> lock(self.mu);
    self.log.clear();
    return AIRS_OK;
  };
  Runtime rt({{AIRS_CFG_WORKERS, 2}});
  dl.install(rt);
  airs_pid pid = spawn(rt, a);
  constexpr uint64_t kN = 20000;
  uint64_t sent = 0;
  for (uint64_t i = 0; i < kN; i++)
    if (airs_send(rt, pid, kData, &i, sizeof i) == AIRS_OK) sent++;
  REQUIRE(airs_kill(rt, pid) == AIRS_OK);
  REQUIRE(airs_wait(rt, pid, 3000) == AIRS_OK);
  CHECK(sent == kN);
  CHECK(handled + dl.size() == kN);
  size_t other = 0;
  for (auto& l : dl.get())
    if (l.reason != AIRS_DEAD_LETTER_EXITED || l.to != pid) other++;
  CHECK(other == 0);
}

TEST_CASE("mail for an old pid never reaches the next process in its slot") {
  // One slot, reused over and over, while a thread keeps sending to
  // whichever pid it last saw and another keeps asking about dead pids.
  constexpr int kRounds = 1500;
  std::atomic<uint32_t> misdelivered{0};
  std::atomic<uint64_t> delivered{0};
  Actor a;
  a.on_receive = [&](Actor& self, airs_ctx* ctx, const airs_msg* m) {
    if (pid_of(m) != airs_self(ctx)) misdelivered++;
    delivered++;
    std::lock_guard<std::mutex> lock(self.mu);
    self.log.clear();
    return AIRS_OK;
  };
  Runtime rt({{AIRS_CFG_WORKERS, 2}, {AIRS_CFG_MAX_PROCESSES, 1}});
  std::atomic<airs_pid> current{0};
  std::atomic<bool> stop{false};
  std::mutex dead_mu;
  std::vector<airs_pid> dead;
  std::atomic<uint32_t> stale_alive{0}, stale_sent{0};
  std::atomic<uint64_t> sends_ok{0};
  int bad_kills = 0, bad_waits = 0;

  std::thread sender([&] {
    uint64_t depth = 0;
    while (!stop) {
      airs_pid to = current;
      if (to && send_pid(rt, to, kData, to) == AIRS_OK) sends_ok++;
      // Keep the mailbox short: each end drains what is left in it.
      if (to &&
          airs_process_stat_get(rt, to, AIRS_PSTAT_MAILBOX_DEPTH, &depth) ==
              AIRS_OK &&
          depth > 200)
        std::this_thread::yield();
    }
  });
  std::thread checker([&] {
    uint32_t i = 0;
    while (!stop) {
      airs_pid p = 0;
      {
        std::lock_guard<std::mutex> lock(dead_mu);
        if (!dead.empty()) p = dead[i++ % dead.size()];
      }
      if (!p) continue;
      if (airs_is_alive(rt, p)) stale_alive++;
      if (send_pid(rt, p, kData, p) != AIRS_ENOPROC) stale_sent++;
    }
  });
  int bad_spawns = 0;
  for (int r = 0; r < kRounds; r++) {
    airs_pid pid = 0;
    if (try_spawn(rt, a, &pid) != AIRS_OK) {
      bad_spawns++;
      break;  // the threads must be joined: no REQUIRE here
    }
    current = pid;
    if (r % 4 == 0) std::this_thread::yield();
    if (airs_kill(rt, pid) != AIRS_OK) bad_kills++;
    if (airs_wait(rt, pid, 2000) != AIRS_OK) bad_waits++;
    std::lock_guard<std::mutex> lock(dead_mu);
    dead.push_back(pid);
  }
  stop = true;
  sender.join();
  checker.join();
  CHECK(bad_spawns == 0);
  CHECK(bad_kills == 0);  // see also test_links: a kill of a busy process
  CHECK(bad_waits == 0);
  CHECK(misdelivered.load() == 0);
  CHECK(stale_alive.load() == 0);
  CHECK(stale_sent.load() == 0);
  CHECK(a.inits == kRounds);
  CHECK(a.frees == kRounds);
  MESSAGE("sends accepted: " << sends_ok.load()
                             << ", handled: " << delivered.load());
}

TEST_CASE("the configured default mailbox applies to spawns without opts") {
  DeadLetters dl;
  Actor a;
  Runtime rt({{AIRS_CFG_WORKERS, 0},
              {AIRS_CFG_MAILBOX_CAPACITY, 2},
              {AIRS_CFG_MAILBOX_POLICY, AIRS_MAILBOX_DROP_NEWEST}});
  dl.install(rt);
  airs_spawn_opts o;
  REQUIRE(airs_spawn_opts_init(rt, &o) == AIRS_OK);
  CHECK(o.mailbox_capacity == 2);
  CHECK(o.mailbox_policy == AIRS_MAILBOX_DROP_NEWEST);
  CHECK(o.block_timeout_ms == 1000);
  CHECK(o.flags == 0);
  airs_pid pid = spawn(rt, a);  // opts NULL
  CHECK(stat(rt, pid, AIRS_PSTAT_MAILBOX_CAPACITY) == 2);
  for (int i = 0; i < 3; i++)
    CHECK(airs_send(rt, pid, kData, &i, sizeof i) == AIRS_OK);
  CHECK(dl.size() == 1);
  poll_all(rt);
  CHECK(a.received == 2);
}
