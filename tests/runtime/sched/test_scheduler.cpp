// test_scheduler.cpp - the scheduler seen from outside: correctness with
// 1, 2 and 4 workers, fairness under a flood, the per-turn budget, several
// runtimes in one process, and an idle runtime that uses no CPU.
#include <sys/resource.h>

#include <memory>

#include "../rt_helpers.hpp"

using namespace rt_test;

namespace {

constexpr uint64_t kDirect = 1;
constexpr uint64_t kForward = 2;
constexpr uint64_t kGo = 3;
constexpr uint64_t kPing = 4;
constexpr uint64_t kPong = 5;
constexpr uint64_t kToken = 6;

// ---- 1000 processes x 100 messages ---------------------------------------
// Each node gets kMsgs messages from the main thread and forwards each to
// the next node, so it also gets kMsgs from its predecessor. Both streams
// must arrive complete and in order; a node ends when it has both.
struct Mesh;
struct Node {
  Mesh* mesh;
  uint32_t index;
  uint32_t direct = 0;   // next expected from main
  uint32_t forward = 0;  // next expected from the predecessor
};
struct Mesh {
  uint32_t msgs;
  std::vector<airs_pid> pids;  // written before any message is sent
  std::atomic<uint32_t> errors{0};
  std::atomic<uint32_t> finished{0};
  std::atomic<uint32_t> terminated{0};
  std::atomic<uint32_t> freed{0};
};

airs_status node_receive(void* state, airs_ctx* ctx, const airs_msg* m) {
  Node* n = static_cast<Node*>(state);
  Mesh* mesh = n->mesh;
  uint32_t seq = value_of<uint32_t>(m);
  if (airs_msg_type(m) == kDirect) {
    if (seq != n->direct || airs_msg_sender(m) != 0) mesh->errors++;
    n->direct++;
    airs_pid next = mesh->pids[(n->index + 1) % mesh->pids.size()];
    airs_status st = airs_ctx_send(ctx, next, kForward, &seq, sizeof seq);
    if (st != AIRS_OK) return st;
  } else {
    airs_pid prev =
        mesh->pids[(n->index + mesh->pids.size() - 1) % mesh->pids.size()];
    if (seq != n->forward || airs_msg_sender(m) != prev) mesh->errors++;
    n->forward++;
  }
  if (n->direct == mesh->msgs && n->forward == mesh->msgs) {
    mesh->finished++;
    return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, nullptr);
  }
  return AIRS_OK;
}

void node_terminate(void* state, airs_ctx*, const airs_reason* r) {
  Node* n = static_cast<Node*>(state);
  if (airs_reason_kind(r) != AIRS_EXIT_NORMAL) n->mesh->errors++;
  n->mesh->terminated++;
}

void node_free(void* user_data) {
  static_cast<Node*>(user_data)->mesh->freed++;
}

const airs_behaviour kNode = {AIRS_BEHAVIOUR_VERSION,
                              sizeof(airs_behaviour),
                              nullptr,
                              node_receive,
                              node_terminate,
                              nullptr,
                              nullptr};

void run_mesh(airs_runtime* rt, uint32_t procs, uint32_t msgs) {
  Mesh mesh;
  mesh.msgs = msgs;
  std::vector<Node> nodes(procs);
  for (uint32_t i = 0; i < procs; i++) {
    nodes[i] = Node{&mesh, i};
    airs_pid pid = 0;
    REQUIRE(airs_spawn(rt, &kNode, &nodes[i], node_free, nullptr, &pid) ==
            AIRS_OK);
    mesh.pids.push_back(pid);
  }
  uint32_t send_errors = 0;
  for (uint32_t k = 0; k < msgs; k++)
    for (uint32_t i = 0; i < procs; i++)
      if (airs_send(rt, mesh.pids[i], kDirect, &k, sizeof k) != AIRS_OK)
        send_errors++;
  CHECK(send_errors == 0);
  for (airs_pid pid : mesh.pids) REQUIRE(airs_wait(rt, pid, 4000) == AIRS_OK);
  CHECK(mesh.errors == 0);
  CHECK(mesh.finished == procs);
  CHECK(mesh.terminated == procs);
  CHECK(mesh.freed == procs);
  uint32_t incomplete = 0;
  for (uint32_t i = 0; i < procs; i++)
    if (nodes[i].direct != msgs || nodes[i].forward != msgs) incomplete++;
  CHECK(incomplete == 0);
}

}  // namespace

TEST_CASE("1000 processes x 100 messages with 1, 2 and 4 workers") {
  for (int workers : {1, 2, 4}) {
    CAPTURE(workers);
    Runtime rt({{AIRS_CFG_WORKERS, workers}});
    run_mesh(rt, 1000, 100);
  }
}

TEST_CASE("budget 1 is still correct") {
  Runtime rt({{AIRS_CFG_WORKERS, 2}, {AIRS_CFG_BUDGET, 1}});
  run_mesh(rt, 300, 50);
}

TEST_CASE("a turn handles at most the budget") {
  for (int budget : {1, 5, 64}) {
    CAPTURE(budget);
    Actor a;
    Runtime rt({{AIRS_CFG_WORKERS, 0}, {AIRS_CFG_BUDGET, budget}});
    airs_pid pid = spawn(rt, a);
    const int n = 130;
    for (int i = 0; i < n; i++)
      REQUIRE(airs_send(rt, pid, kDirect, nullptr, 0) == AIRS_OK);
    int handled = 0, turns = 0;
    while (handled < n) {
      uint32_t ran = 0;
      REQUIRE(airs_runtime_poll(rt, 1, &ran) == AIRS_OK);
      REQUIRE(ran == 1);
      turns++;
      int now = static_cast<int>(stat(rt, pid, AIRS_PSTAT_MSGS_HANDLED));
      CHECK(now - handled == std::min(budget, n - handled));
      handled = now;
    }
    CHECK(turns == (n + budget - 1) / budget);
    uint32_t ran = 7;
    REQUIRE(airs_runtime_poll(rt, 1, &ran) == AIRS_OK);
    CHECK(ran <= 1);  // at most one empty turn left
    CHECK(a.received == n);
  }
}

TEST_CASE("airs_runtime_poll: only host-driven, never inside a callback") {
  Runtime threaded({{AIRS_CFG_WORKERS, 1}});
  uint32_t ran = 0;
  CHECK(airs_runtime_poll(threaded, 10, &ran) == AIRS_ESTATE);
  Actor a;
  Runtime host({{AIRS_CFG_WORKERS, 0}});
  CHECK(airs_runtime_poll(host, 0, &ran) == AIRS_EINVAL);
  CHECK(airs_runtime_poll(nullptr, 1, &ran) == AIRS_EINVAL);
  CHECK(airs_runtime_poll(host, 1, nullptr) == AIRS_OK);
  std::vector<airs_status> inside;
  a.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg*) {
    uint32_t r = 0;
    inside.push_back(airs_runtime_poll(airs_ctx_runtime(ctx), 1, &r));
    inside.push_back(airs_wait(airs_ctx_runtime(ctx), airs_self(ctx), 10));
    return AIRS_OK;
  };
  airs_pid pid = spawn(host, a);
  REQUIRE(airs_send(host, pid, kGo, nullptr, 0) == AIRS_OK);
  poll_all(host);
  CHECK(inside == std::vector<airs_status>{AIRS_ESTATE, AIRS_ESTATE});
}

// ---- fairness ----------------------------------------------------------
// A flooded process against one that needs 10 round trips with an echo.
namespace {

struct Fairness {
  std::atomic<bool> gate{true};  // the flooded process holds its first turn
  std::atomic<uint64_t> flood_handled{0};
  std::atomic<uint64_t> handled_at_go{0};  // when the test sent kGo
  std::atomic<uint64_t> handled_when_done{~0ull};
  std::atomic<bool> done{false};
  // Threaded runs: the pinger pauses the flood when it is done, until the
  // test has sent the kill, so that the flood cannot end first on a busy
  // machine (the kill is to jump ahead of what is left of it).
  bool pause_when_done = false;
  std::atomic<bool> paused{false};
  airs_pid flooded = 0, echo = 0;
  int trips = 0;
};

// Yields while `flag` reads `value`, for 60 seconds at most (queueing the
// flood takes seconds under ThreadSanitizer on a busy machine).
void hold_while(const std::atomic<bool>& flag, bool value) {
  auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (flag == value && std::chrono::steady_clock::now() < limit)
    std::this_thread::yield();
}

airs_status flood_receive(void* state, airs_ctx*, const airs_msg*) {
  Fairness* f = static_cast<Fairness*>(state);
  // The first turn waits until the whole flood is queued (threaded runs).
  if (f->flood_handled.fetch_add(1) == 0) hold_while(f->gate, false);
  hold_while(f->paused, true);
  return AIRS_OK;
}

airs_status echo_receive(void*, airs_ctx* ctx, const airs_msg* m) {
  return airs_ctx_send(ctx, airs_msg_sender(m), kPong, nullptr, 0);
}

airs_status pinger_receive(void* state, airs_ctx* ctx, const airs_msg* m) {
  Fairness* f = static_cast<Fairness*>(state);
  if (airs_msg_type(m) == kPong && ++f->trips == 10) {
    f->handled_when_done = f->flood_handled.load();
    if (f->pause_when_done) f->paused = true;
    f->done = true;
    return AIRS_OK;
  }
  return airs_ctx_send(ctx, f->echo, kPing, nullptr, 0);
}

constexpr airs_behaviour kFlood = {AIRS_BEHAVIOUR_VERSION,
                                   sizeof(airs_behaviour),
                                   nullptr,
                                   flood_receive,
                                   nullptr,
                                   nullptr,
                                   nullptr};
constexpr airs_behaviour kEcho = {AIRS_BEHAVIOUR_VERSION,
                                  sizeof(airs_behaviour),
                                  nullptr,
                                  echo_receive,
                                  nullptr,
                                  nullptr,
                                  nullptr};
constexpr airs_behaviour kPinger = {AIRS_BEHAVIOUR_VERSION,
                                    sizeof(airs_behaviour),
                                    nullptr,
                                    pinger_receive,
                                    nullptr,
                                    nullptr,
                                    nullptr};

constexpr uint64_t kFloodSize = 1000000;

void run_fairness(int workers) {
  Fairness f;
  f.gate = workers == 0;  // host-driven: nothing runs until we poll
  f.pause_when_done = workers > 0;
  Runtime rt({{AIRS_CFG_WORKERS, workers}});
  airs_pid pinger = 0;
  REQUIRE(airs_spawn(rt, &kFlood, &f, nullptr, nullptr, &f.flooded) == AIRS_OK);
  REQUIRE(airs_spawn(rt, &kEcho, &f, nullptr, nullptr, &f.echo) == AIRS_OK);
  REQUIRE(airs_spawn(rt, &kPinger, &f, nullptr, nullptr, &pinger) == AIRS_OK);
  uint64_t refused = 0;
  for (uint64_t i = 0; i < kFloodSize; i++)
    if (airs_send(rt, f.flooded, kDirect, nullptr, 0) != AIRS_OK) refused++;
  REQUIRE(refused == 0);
  f.handled_at_go = f.flood_handled.load();
  REQUIRE(airs_send(rt, pinger, kGo, nullptr, 0) == AIRS_OK);
  f.gate = true;
  if (workers == 0) {
    for (int i = 0; i < 1000000 && !f.done; i++)
      REQUIRE(airs_runtime_poll(rt, 1, nullptr) == AIRS_OK);
  } else {
    REQUIRE(wait_until([&] { return f.done.load(); }, 30000));
  }
  REQUIRE(f.done);
  uint64_t during = f.handled_when_done - f.handled_at_go;
  MESSAGE("workers " << workers << ": the flooded process handled " << during
                     << " of " << kFloodSize << " (" << f.handled_at_go.load()
                     << " before) while 10 round trips were done");
  CHECK(f.handled_at_go <= 1);  // the gate held the flood at its first
  CHECK(during < kFloodSize / 10);
  // Kill jumps ahead of the flood; the rest is dropped.
  REQUIRE(airs_kill(rt, f.flooded) == AIRS_OK);
  f.paused = false;
  REQUIRE(airs_wait(rt, f.flooded, 4000) == AIRS_OK);
  CHECK(f.flood_handled < kFloodSize);
}

}  // namespace

TEST_CASE("fairness: a flood does not starve a short conversation") {
  // One worker: the flood and the conversation compete for it (with more
  // workers, another one simply takes the conversation).
  SUBCASE("host-driven") {
    run_fairness(0);
  }
  SUBCASE("one worker") {
    run_fairness(1);
  }
}

// ---- several runtimes ----------------------------------------------------
namespace {

// A ring of processes passing a token around `hops` times.
struct Ring {
  std::vector<airs_pid> pids;
  std::atomic<uint64_t> hops_left;
  std::atomic<uint32_t> errors{0};
  std::atomic<bool> done{false};
  airs_runtime* rt = nullptr;
};
struct RingNode {
  Ring* ring;
  uint32_t index;
};

airs_status ring_receive(void* state, airs_ctx* ctx, const airs_msg* m) {
  RingNode* n = static_cast<RingNode*>(state);
  if (airs_ctx_runtime(ctx) != n->ring->rt) n->ring->errors++;
  if (airs_self(ctx) != n->ring->pids[n->index]) n->ring->errors++;
  (void)m;
  if (n->ring->hops_left.fetch_sub(1) == 1) {
    n->ring->done = true;
    return AIRS_OK;
  }
  airs_pid next = n->ring->pids[(n->index + 1) % n->ring->pids.size()];
  return airs_ctx_send(ctx, next, kToken, nullptr, 0);
}

constexpr airs_behaviour kRingNode = {AIRS_BEHAVIOUR_VERSION,
                                      sizeof(airs_behaviour),
                                      nullptr,
                                      ring_receive,
                                      nullptr,
                                      nullptr,
                                      nullptr};

}  // namespace

TEST_CASE("several runtimes in one process at once") {
  constexpr int kRuntimes = 4;  // three threaded, one host-driven
  constexpr uint32_t kNodes = 50;
  constexpr uint64_t kHops = 20000;
  std::vector<std::unique_ptr<Ring>> rings;
  std::vector<std::vector<RingNode>> nodes(kRuntimes);
  std::vector<std::unique_ptr<Runtime>> rts;
  for (int r = 0; r < kRuntimes; r++) {
    rts.push_back(std::make_unique<Runtime>(
        Keys{{AIRS_CFG_WORKERS, r == kRuntimes - 1 ? 0 : 2}}));
    rings.push_back(std::make_unique<Ring>());
    Ring& ring = *rings.back();
    ring.rt = *rts.back();
    ring.hops_left = kHops;
    nodes[r].resize(kNodes);
    for (uint32_t i = 0; i < kNodes; i++) {
      nodes[r][i] = RingNode{&ring, i};
      airs_pid pid = 0;
      REQUIRE(airs_spawn(ring.rt, &kRingNode, &nodes[r][i], nullptr, nullptr,
                         &pid) == AIRS_OK);
      ring.pids.push_back(pid);
    }
  }
  // The same slot and generation in different runtimes: different pids
  // (each carries its runtime's tag).
  CHECK(test_pid_slot(rings[0]->pids[0]) == test_pid_slot(rings[1]->pids[0]));
  CHECK(rings[0]->pids[0] != rings[1]->pids[0]);
  for (auto& ring : rings)
    REQUIRE(airs_send(ring->rt, ring->pids[0], kToken, nullptr, 0) == AIRS_OK);
  std::thread host([&] {
    Ring& ring = *rings.back();
    auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(4);
    while (!ring.done && std::chrono::steady_clock::now() < limit)
      airs_runtime_poll(ring.rt, 64, nullptr);
  });
  host.join();
  for (auto& ring : rings) {
    REQUIRE(wait_until([&] { return ring->done.load(); }, 4000));
    CHECK(ring->errors == 0);
    CHECK(ring->hops_left == 0);
  }
  // Killing a process in one runtime leaves its twin in another alone.
  REQUIRE(airs_kill(rings[0]->rt, rings[0]->pids[0]) == AIRS_OK);
  REQUIRE(airs_wait(rings[0]->rt, rings[0]->pids[0], 2000) == AIRS_OK);
  CHECK(airs_is_alive(rings[1]->rt, rings[1]->pids[0]));
  rts.clear();  // frees every runtime
}

TEST_CASE("a callback of one runtime sending into another") {
  // The sender is not a process of the target runtime: sender pid 0, and
  // the target is scheduled by its own runtime, not the caller's worker.
  Actor src, dst;
  Runtime a({{AIRS_CFG_WORKERS, 1}});
  Runtime b({{AIRS_CFG_WORKERS, 1}});
  airs_pid d = spawn(b, dst);
  std::atomic<airs_status> st{AIRS_EINTERNAL};
  src.on_receive = [&](Actor&, airs_ctx*, const airs_msg*) {
    st = airs_send(b, d, kGo, "x", 1);
    return AIRS_OK;
  };
  airs_pid s = spawn(a, src);
  REQUIRE(airs_send(a, s, kGo, nullptr, 0) == AIRS_OK);
  // dst may get the message before src's callback has stored the status.
  REQUIRE(wait_until(
      [&] { return dst.received == 1 && st.load() != AIRS_EINTERNAL; }));
  CHECK(st == AIRS_OK);
  CHECK(dst.messages()[0].sender == AIRS_NO_PID);
}

// ---- a process its worker keeps after its turn (Scheduler::linger) ------
// A turn that leaves its mailbox empty does not give the role back at
// once: the worker keeps it through its next turn, so that a reply then
// costs no second locked instruction. Mail from elsewhere meanwhile must
// still run, right after the worker's turn under way.

namespace {

// A's first turn makes B runnable: B runs next on A's worker, and A is
// kept through B's turn. B blocks until released, then keeps the worker
// busy, a message to itself a turn, until A has had its second message.
struct Scene {
  std::atomic<int> a_received{0};
  std::atomic<int> b_received{0};
  std::atomic<bool> b_blocking{false};
  std::atomic<bool> release{false};
  airs_pid b = 0;
};

airs_status scene_a(void* state, airs_ctx* ctx, const airs_msg*) {
  Scene* s = static_cast<Scene*>(state);
  if (s->a_received++ == 0) return airs_ctx_send(ctx, s->b, kGo, nullptr, 0);
  return AIRS_OK;
}

airs_status scene_b(void* state, airs_ctx* ctx, const airs_msg*) {
  Scene* s = static_cast<Scene*>(state);
  if (s->b_received++ == 0) {
    s->b_blocking = true;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!s->release && std::chrono::steady_clock::now() < deadline)
      std::this_thread::yield();
  }
  if (s->a_received < 2) return airs_ctx_send(ctx, airs_self(ctx), kGo, 0, 0);
  return AIRS_OK;
}

airs_pid spawn_fn(airs_runtime* rt,
                  airs_status (*receive)(void*, airs_ctx*, const airs_msg*),
                  void* state) {
  airs_behaviour b = {AIRS_BEHAVIOUR_VERSION,
                      sizeof b,
                      nullptr,
                      receive,
                      nullptr,
                      nullptr,
                      nullptr};
  airs_pid pid = 0;
  REQUIRE(airs_spawn(rt, &b, state, nullptr, nullptr, &pid) == AIRS_OK);
  return pid;
}

}  // namespace

TEST_CASE("mail for a process its worker kept runs after the turn under way") {
  Scene s;
  Runtime rt({{AIRS_CFG_WORKERS, 1}, {AIRS_CFG_BUDGET, 8}});
  airs_pid a = spawn_fn(rt, scene_a, &s);
  s.b = spawn_fn(rt, scene_b, &s);
  REQUIRE(airs_send(rt, a, kGo, nullptr, 0) == AIRS_OK);
  REQUIRE(wait_until([&] { return s.b_blocking.load(); }));
  CHECK(s.a_received == 1);
  // A is kept by the blocked worker: this push does not schedule it.
  REQUIRE(airs_send(rt, a, kGo, nullptr, 0) == AIRS_OK);
  s.release = true;
  CHECK(wait_until([&] { return s.a_received == 2; }));
  // A ran as soon as B's blocked turn ended, though B stayed runnable:
  // B took its first message and at most two more meanwhile. (Made
  // runnable from here instead, A would wait for the worker's next look
  // at outside work, up to 61 turns of B.)
  CHECK(s.b_received <= 3);
}

namespace {

// Pairs that play ping-pong stay on one worker, each turn ending with its
// mailbox empty and the role kept, while two plain threads send to all of
// them: their pushes find a role kept, idle or in a turn, and every
// message is handled once.
struct Player {
  std::atomic<uint64_t> received{0};
  airs_pid peer = 0;
  uint64_t answers_left = 0;  // the worker's only
};

airs_status player_receive(void* state, airs_ctx* ctx, const airs_msg* m) {
  Player* p = static_cast<Player*>(state);
  p->received++;
  if (airs_msg_type(m) != kPing || p->answers_left == 0) return AIRS_OK;
  p->answers_left--;
  return airs_ctx_send(ctx, p->peer, kPing, nullptr, 0);
}

}  // namespace

TEST_CASE("ping-pong pairs and outside senders: nothing lost, nothing twice") {
  constexpr int kPairs = 16;
  constexpr uint64_t kRounds = 2000;
  constexpr uint64_t kOutside = 300;             // from each of two threads
  std::vector<std::unique_ptr<Player>> players;  // outlive the runtime
  for (int i = 0; i < 2 * kPairs; i++) {
    players.push_back(std::make_unique<Player>());
    players.back()->answers_left = kRounds;
  }
  Runtime rt({{AIRS_CFG_WORKERS, 2}});
  std::vector<airs_pid> pids;
  for (auto& p : players) pids.push_back(spawn_fn(rt, player_receive, p.get()));
  for (int i = 0; i < kPairs; i++) {
    players[2 * i]->peer = pids[2 * i + 1];
    players[2 * i + 1]->peer = pids[2 * i];
  }
  std::vector<std::thread> senders;
  std::atomic<int> errors{0};
  for (int t = 0; t < 2; t++)
    senders.emplace_back([&] {
      for (uint64_t i = 0; i < kOutside; i++)
        for (airs_pid pid : pids)
          if (airs_send(rt, pid, kDirect, nullptr, 0) != AIRS_OK) errors++;
    });
  for (int i = 0; i < kPairs; i++)
    REQUIRE(airs_send(rt, pids[2 * i], kPing, nullptr, 0) == AIRS_OK);
  for (auto& t : senders) t.join();
  CHECK(errors == 0);
  // The first of a pair takes the ball from here and kRounds answers, the
  // second kRounds balls; both take every outside message.
  auto expected = [&](int i) {
    return 2 * kOutside + kRounds + (i % 2 == 0 ? 1 : 0);
  };
  auto all_in = [&] {
    for (int i = 0; i < 2 * kPairs; i++)
      if (players[i]->received < expected(i)) return false;
    return true;
  };
  CHECK(wait_until(all_in, 20000));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (int i = 0; i < 2 * kPairs; i++)
    CHECK(players[i]->received == expected(i));
}

TEST_CASE("an idle runtime uses no CPU") {
  Actor idle[4];
  Runtime rt({{AIRS_CFG_WORKERS, 2}});
  // Some work first, so the workers have been awake, then nothing: idle
  // processes and a timer far in the future.
  std::vector<airs_pid> pids;
  for (Actor& a : idle) pids.push_back(spawn(rt, a));
  for (int i = 0; i < 1000; i++)
    REQUIRE(airs_send(rt, pids[i % 4], kDirect, nullptr, 0) == AIRS_OK);
  REQUIRE(wait_until([&] {
    int n = 0;
    for (Actor& a : idle) n += a.received;
    return n == 1000;
  }));
  airs_msg* m = nullptr;
  REQUIRE(airs_msg_new(kGo, nullptr, 0, &m) == AIRS_OK);
  REQUIRE(airs_send_after(rt, pids[0], 60000, m, nullptr) == AIRS_OK);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));

  auto cpu_ms = [] {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000.0 +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000.0;
  };
  double before = cpu_ms();
  auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  double wall = std::chrono::duration<double, std::milli>(
                    std::chrono::steady_clock::now() - t0)
                    .count();
  double used = cpu_ms() - before;
  double percent = 100.0 * used / wall;
  MESSAGE("idle runtime, 2 workers: " << used << " ms CPU in " << wall
                                      << " ms (" << percent
                                      << "% of one core)");
  CHECK(percent < 5.0);
}

TEST_CASE("one polling thread at a time") {
  std::atomic<bool> inside{false}, release{false};
  Actor slow;
  slow.on_receive = [&](Actor&, airs_ctx*, const airs_msg*) {
    inside = true;
    auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!release && std::chrono::steady_clock::now() < limit)
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    return AIRS_OK;
  };
  Runtime rt({{AIRS_CFG_WORKERS, 0}});
  airs_pid pid = spawn(rt, slow);
  REQUIRE(airs_send(rt, pid, kGo, nullptr, 0) == AIRS_OK);
  std::thread poller([&] { poll_all(rt); });
  REQUIRE(wait_until([&] { return inside.load(); }));
  uint32_t ran = 0;
  CHECK(airs_runtime_poll(rt, 1, &ran) == AIRS_ESTATE);
  CHECK(airs_wait(rt, pid, 10) == AIRS_ESTATE);
  release = true;
  poller.join();
  CHECK(airs_runtime_poll(rt, 1, &ran) == AIRS_OK);
}
