// Unit tests of mailbox.hpp (the intrusive MPSC queue with the consumer's
// role in its tail) and of the mailbox of a process record (two queues,
// priorities, the role across both, released and held envelopes).
#include <doctest/doctest.h>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "mail/mailbox.hpp"
#include "mail/message.hpp"
#include "process/process.hpp"

using namespace airs;

namespace {

struct TestNode : Node {
  uint32_t producer = 0;
  uint32_t seq = 0;
};

// A queue as a process holds it: born idle.
struct Queue {
  QueueTail tail;
  QueueHead head;
  Queue() { mpsc_init(tail, head, true); }
  bool push(Node* n) { return mpsc_push(tail, n); }
  bool claim() { return mpsc_claim(tail, head); }
  // take(), asserting what the queue let go of when `gone_expected`.
  TestNode* take(Node** gone = nullptr) {
    Node* g = nullptr;
    Node* n = mpsc_take(head, &g);
    if (gone) *gone = g;
    return static_cast<TestNode*>(n);
  }
  bool mark_idle(Node** gone = nullptr) {
    Node* g = nullptr;
    bool idle = mpsc_mark_idle(tail, head, &g);
    if (gone) *gone = g;
    return idle;
  }
  void detach(Node* n) { mpsc_detach(tail, head, n); }
  bool idle() const { return tail.tail.load() & kIdle; }
};

}  // namespace

TEST_CASE("a new queue is idle and empty; claim takes the role once") {
  Queue q;
  CHECK(q.idle());
  CHECK(q.claim());
  CHECK_FALSE(q.idle());
  CHECK_FALSE(q.claim());  // held
  CHECK(q.take() == nullptr);
  CHECK(q.mark_idle());
  CHECK(q.idle());
}

TEST_CASE("the push that finds the queue idle gets the role; later ones not") {
  Queue q;
  TestNode a, b;
  CHECK(q.push(&a));  // idle: the role is ours
  CHECK_FALSE(q.idle());
  CHECK_FALSE(q.push(&b));
  CHECK_FALSE(q.claim());
  CHECK(q.take() == &a);
  CHECK(q.take() == &b);
  CHECK(q.mark_idle());
  TestNode c;
  CHECK(q.push(&c));  // idle again: the role again
}

TEST_CASE("the last node is held until passed, and comes back as gone") {
  Queue q;
  TestNode a, b, c;
  REQUIRE(q.push(&a));
  Node* gone = &c;
  CHECK(q.take(&gone) == &a);  // the last: held
  CHECK(gone == nullptr);
  CHECK(q.head.head == (word_of(&a) | kHeld));
  CHECK(q.take(&gone) == nullptr);  // still the last
  CHECK(gone == nullptr);
  q.push(&b);
  CHECK(q.take(&gone) == &b);  // passes a
  CHECK(gone == &a);
  CHECK(q.mark_idle(&gone));  // lets go of b
  CHECK(gone == &b);
  CHECK(q.head.head == word_of(&q.head.stub));
}

TEST_CASE("mark_idle refuses while a node waits, and takes no node") {
  Queue q;
  TestNode a, b;
  REQUIRE(q.push(&a));
  CHECK_FALSE(q.mark_idle());  // a not taken
  CHECK(q.take() == &a);
  q.push(&b);
  Node* gone = &a;
  CHECK_FALSE(q.mark_idle(&gone));  // b was pushed after a was taken
  CHECK(gone == nullptr);
  CHECK(q.take(&gone) == &b);
  CHECK(gone == &a);
  CHECK(q.mark_idle(&gone));
  CHECK(gone == &b);
}

TEST_CASE("detach makes the held node the consumer's; the stub takes over") {
  Queue q;
  TestNode a, b, c;
  REQUIRE(q.push(&a));
  CHECK(q.take() == &a);
  q.detach(&a);  // held and the tail: swapped out for the stub
  CHECK(q.head.head == word_of(&q.head.stub));
  CHECK(Queue().push(&a));  // a can go elsewhere now
  q.push(&b);
  q.push(&c);
  Node* gone = &a;
  CHECK(q.take(&gone) == &b);  // b has a successor: not held
  CHECK(gone == nullptr);
  q.detach(&b);  // not held: nothing to do
  CHECK(q.take() == &c);
  CHECK(q.mark_idle(&gone));
  CHECK(gone == &c);
}

TEST_CASE("single-threaded FIFO across idles, detaches and chains") {
  Queue q;
  std::vector<TestNode> nodes(40);
  for (uint32_t i = 0; i < nodes.size(); i++) nodes[i].seq = i;
  uint32_t next = 0;
  for (int round = 0; round < 4; round++) {
    uint32_t base = round * 10;
    // Five single pushes, then a chain of five.
    for (uint32_t i = 0; i < 5; i++) q.push(&nodes[base + i]);
    for (uint32_t i = 5; i < 9; i++)
      nodes[base + i].next.store(&nodes[base + i + 1]);
    mpsc_push_chain(q.tail, &nodes[base + 5], &nodes[base + 9]);
    while (TestNode* n = q.take()) {
      CHECK(n->seq == next++);
      if (n->seq % 3 == 0) q.detach(n);
    }
    CHECK(q.mark_idle());
  }
  CHECK(next == 40);
}

TEST_CASE("a pushed node's stale next link is reset") {
  Queue q;
  TestNode a, b, junk;
  a.next.store(&junk);  // left over from an earlier queue
  q.push(&a);
  CHECK(q.take() == &a);
  CHECK(q.take() == nullptr);
  b.next.store(&junk);
  q.push(&b);
  CHECK(q.take() == &b);
  CHECK(q.take() == nullptr);
}

namespace {

// Producers push; whoever gets the role grants it to the one consumer
// thread, which takes a batch, detaching some nodes, then marks the queue
// idle (or keeps the role when more came). The scheduler's protocol,
// without a scheduler.
struct RoleRun {
  static constexpr uint32_t kMaxProducers = 4;
  Queue q;
  std::atomic<int> grants{0};
  std::vector<std::unique_ptr<TestNode[]>> nodes;
  uint32_t producers, per;

  RoleRun(uint32_t p, uint32_t n) : producers(p), per(n) {
    for (uint32_t i = 0; i < p; i++) {
      nodes.emplace_back(new TestNode[n]);
      for (uint32_t j = 0; j < n; j++) {
        nodes[i][j].producer = i;
        nodes[i][j].seq = j;
      }
    }
  }

  // Returns the count of nodes taken; checks FIFO per producer and that
  // the role is never held twice.
  void run(uint32_t batch, uint32_t detach_every, uint32_t yield_every) {
    std::vector<std::thread> ts;
    for (uint32_t p = 0; p < producers; p++)
      ts.emplace_back([&, p] {
        for (uint32_t i = 0; i < per; i++) {
          if (q.push(&nodes[p][i])) grants.fetch_add(1);
          if (yield_every && i % yield_every == 0) std::this_thread::yield();
        }
      });
    uint32_t next[kMaxProducers] = {};
    uint64_t got = 0, bad = 0, rounds = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (got < uint64_t{producers} * per) {
      if (grants.load() == 0) {
        if (std::chrono::steady_clock::now() > deadline) break;
        std::this_thread::yield();
        continue;
      }
      CHECK(grants.fetch_sub(1) == 1);  // one holder of the role at a time
      rounds++;
      for (uint32_t b = 0; b < batch; b++) {
        TestNode* n = q.take();
        if (!n) break;
        got++;
        if (n->seq != next[n->producer]) bad++;
        next[n->producer] = n->seq + 1;
        if (detach_every && n->seq % detach_every == 0) q.detach(n);
      }
      if (!q.mark_idle()) grants.fetch_add(1);
    }
    for (auto& t : ts) t.join();
    CHECK(bad == 0);
    CHECK(got == uint64_t{producers} * per);
    CHECK(grants.load() == 0);
    CHECK(q.idle());
    MESSAGE("rounds of the role: " << rounds);
  }
};

}  // namespace

TEST_CASE("4 producers x 100k, one consumer by the role: each once, FIFO" *
          doctest::timeout(60)) {
  RoleRun r(4, 100000);
  r.run(64, 0, 0);
}

TEST_CASE("producers and a consumer that idles the queue between each node" *
          doctest::timeout(60)) {
  // Batches of one with many detaches: the stub is the queue again and
  // again while producers swap it out of the tail and link it (the race a
  // mark_idle that cleared the stub's link used to lose).
  for (int round = 0; round < 5; round++) {
    RoleRun r(2, 50000);
    r.run(1, 2, 16);
  }
}

// --- the process record's mailbox
// ---------------------------------------------

namespace {

Msg* user_msg(uint64_t type, uint8_t priority = AIRS_PRIORITY_NORMAL) {
  Msg* m = msg_new_copy(type, nullptr, 0);
  REQUIRE(m != nullptr);
  m->priority = priority;
  return m;
}

// Takes everything, as a consumer that is done with each message.
void drain(Process& p) {
  while (Msg* m = p.take()) p.release(m);
  p.drop_held();
}

}  // namespace

TEST_CASE("a new process record has an idle, empty mailbox") {
  auto p = std::make_unique<Process>();
  CHECK(reinterpret_cast<uintptr_t>(p.get()) % 64 == 0);
  CHECK(p->claim());
  CHECK(p->take() == nullptr);
  CHECK(p->depth() == 0);
  CHECK(p->dequeued.load() == 0);
  CHECK(p->mark_idle());
}

TEST_CASE("take() gives high priority first, each queue FIFO") {
  auto p = std::make_unique<Process>();
  CHECK(p->push(user_msg(1)));  // the role
  CHECK_FALSE(p->push(user_msg(2)));
  CHECK_FALSE(p->push(user_msg(10, AIRS_PRIORITY_HIGH)));
  p->push(user_msg(3));
  p->push(user_msg(11, AIRS_PRIORITY_HIGH));
  for (uint64_t t : {10, 11, 1, 2, 3}) {
    Msg* m = p->take();
    REQUIRE(m != nullptr);
    CHECK(m->type == t);
    p->release(m);
  }
  CHECK(p->take() == nullptr);
  CHECK(p->mark_idle());
  CHECK(p->dequeued.load() == 5);
  p->claim();
  drain(*p);  // frees what the queues still hold
}

TEST_CASE("a high-priority push to an idle mailbox takes the role") {
  auto p = std::make_unique<Process>();
  CHECK(p->push(user_msg(7, AIRS_PRIORITY_HIGH)));
  CHECK_FALSE(p->claim());
  Msg* m = p->take();
  REQUIRE(m != nullptr);
  CHECK(m->type == 7);
  p->release(m);  // held in the high queue: freed later
  CHECK(p->mark_idle());
  CHECK(p->push(user_msg(8, AIRS_PRIORITY_HIGH)));  // idle again
  m = p->take();
  REQUIRE(m != nullptr);  // passes (and frees) 7
  CHECK(m->type == 8);
  p->release(m);
  CHECK(p->mark_idle());
  p->claim();
  drain(*p);
}

TEST_CASE("mark_idle keeps the role while high-priority mail waits") {
  auto p = std::make_unique<Process>();
  REQUIRE(p->claim());
  p->push(user_msg(1, AIRS_PRIORITY_HIGH));
  CHECK_FALSE(p->mark_idle());
  drain(*p);
  CHECK(p->mark_idle());
}

TEST_CASE("a kill signal overtakes queued normal messages") {
  auto p = std::make_unique<Process>();
  p->push(user_msg(1));
  p->push(user_msg(2));
  Msg* kill = msg_new_signal(Signal::kKill, 9, nullptr, 0);
  REQUIRE(kill != nullptr);
  p->push(kill);
  Msg* exit =
      msg_new_signal(Signal::kExit, 9, reason_static(AIRS_EXIT_SHUTDOWN), 0);
  REQUIRE(exit != nullptr);
  p->push(exit);  // an ordinary exit signal keeps its place
  Msg* m = p->take();
  CHECK(m == kill);
  p->detach(m);
  msg_free(m);
  for (uint64_t t : {1, 2}) {
    m = p->take();
    REQUIRE(m != nullptr);
    CHECK(m->type == t);
    p->release(m);
  }
  m = p->take();
  CHECK(m == exit);
  p->detach(m);  // a signal is kept or sent on: detached
  msg_free(m);
  CHECK(p->take() == nullptr);
  drain(*p);
}

TEST_CASE("depth() is enqueued minus dequeued, never negative") {
  auto p = std::make_unique<Process>();
  // The mail path counts in (kernel/mail.cpp), take() counts out.
  for (int i = 0; i < 3; i++) {
    p->enqueued.fetch_add(1);
    p->push(user_msg(i));
  }
  CHECK(p->depth() == 3);
  Msg* m = p->take();
  REQUIRE(m != nullptr);
  p->release(m);
  CHECK(p->depth() == 2);
  CHECK(p->dequeued.load() == 1);
  drain(*p);
  CHECK(p->depth() == 0);
  CHECK(p->dequeued.load() == 3);
  CHECK(p->take() == nullptr);  // an empty take does not count
  CHECK(p->dequeued.load() == 3);
  p->dequeued.store(5);  // more out than in (a racing reader): clamps to 0
  CHECK(p->depth() == 0);
}

TEST_CASE("concurrent senders into one process by the role, priorities mixed" *
          doctest::timeout(60)) {
  constexpr uint32_t kSenders = 4;
  constexpr uint32_t kPerSender = 20000;
  auto p = std::make_unique<Process>();
  std::atomic<int> grants{0};
  std::vector<std::thread> senders;
  for (uint32_t s = 0; s < kSenders; s++)
    senders.emplace_back([&, s] {
      for (uint32_t i = 0; i < kPerSender; i++) {
        Msg* m = msg_new_copy(uint64_t{s} << 32 | i, nullptr, 0);
        REQUIRE(m != nullptr);
        m->priority = i % 3 == 0 ? AIRS_PRIORITY_HIGH : AIRS_PRIORITY_NORMAL;
        m->sender = s;
        if (p->push(m)) grants.fetch_add(1);
      }
    });
  // FIFO holds per sender within each priority; one holder of the role.
  uint32_t next_high[kSenders] = {}, next_normal[kSenders] = {};
  uint64_t received = 0, bad = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (received < uint64_t{kSenders} * kPerSender) {
    if (grants.load() == 0) {
      if (std::chrono::steady_clock::now() > deadline) break;
      std::this_thread::yield();
      continue;
    }
    CHECK(grants.fetch_sub(1) == 1);
    for (int b = 0; b < 16; b++) {
      Msg* m = p->take();
      if (!m) break;
      received++;
      uint32_t s = static_cast<uint32_t>(m->type >> 32);
      uint32_t i = static_cast<uint32_t>(m->type);
      if (s >= kSenders || m->sender != s) {
        bad++;
      } else if (m->priority == AIRS_PRIORITY_HIGH) {
        if (i < next_high[s] || i % 3 != 0) bad++;
        next_high[s] = i + 1;
      } else {
        if (i < next_normal[s] || i % 3 == 0) bad++;
        next_normal[s] = i + 1;
      }
      p->release(m);
    }
    if (!p->mark_idle()) grants.fetch_add(1);
  }
  for (auto& t : senders) t.join();
  CHECK(bad == 0);
  CHECK(received == uint64_t{kSenders} * kPerSender);
  CHECK(grants.load() == 0);
  CHECK(p->dequeued.load() == uint64_t{kSenders} * kPerSender);
  p->claim();
  drain(*p);
}
