// Unit tests of mailbox.hpp (the intrusive MPSC queue) and of the two
// priority queues of a process record (Process::push/pop/depth).
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
  uint32_t producer;
  uint32_t seq;
};

struct Queue {
  QueueTail tail;
  QueueHead head;
  Queue() { mpsc_init(tail, head); }
  void push(Node* n) { mpsc_push(tail, n); }
  TestNode* pop() { return static_cast<TestNode*>(mpsc_pop(tail, head)); }
  bool pushed_since_empty() const {
    return mpsc_pushed_since_empty(tail, head);
  }
};

}  // namespace

TEST_CASE("an empty queue pops nothing and reports no push") {
  Queue q;
  CHECK_FALSE(q.pushed_since_empty());
  CHECK(q.pop() == nullptr);
  CHECK(q.pop() == nullptr);
  CHECK_FALSE(q.pushed_since_empty());
}

TEST_CASE("single-threaded FIFO, across drains and refills") {
  Queue q;
  std::vector<TestNode> nodes(10);
  for (uint32_t i = 0; i < nodes.size(); i++) nodes[i].seq = i;

  for (int round = 0; round < 3; round++) {
    for (auto& n : nodes) q.push(&n);
    CHECK(q.pushed_since_empty());
    for (uint32_t i = 0; i < nodes.size(); i++) {
      TestNode* n = q.pop();
      REQUIRE(n != nullptr);
      CHECK(n == &nodes[i]);
      CHECK(n->seq == i);
    }
    CHECK(q.pop() == nullptr);
    CHECK_FALSE(q.pushed_since_empty());
  }
}

TEST_CASE("one node in, one node out, repeatedly") {
  Queue q;
  TestNode a, b;
  for (int i = 0; i < 5; i++) {
    q.push(&a);
    CHECK(q.pushed_since_empty());
    CHECK(q.pop() == &a);
    CHECK_FALSE(q.pushed_since_empty());
    CHECK(q.pop() == nullptr);
  }
  // Interleaved: push between pops keeps the order.
  q.push(&a);
  q.push(&b);
  CHECK(q.pop() == &a);
  q.push(&a);
  CHECK(q.pop() == &b);
  CHECK(q.pop() == &a);
  CHECK(q.pop() == nullptr);
}

TEST_CASE("a pushed node's stale next link is reset") {
  Queue q;
  TestNode a, b, junk;
  a.next.store(&junk);  // left over from an earlier queue
  q.push(&a);
  CHECK(q.pop() == &a);
  CHECK(q.pop() == nullptr);
  b.next.store(&junk);
  q.push(&b);
  CHECK(q.pop() == &b);
  CHECK(q.pop() == nullptr);
}

TEST_CASE(
    "4 producers x 100k nodes, one consumer: each once, FIFO per producer" *
    doctest::timeout(30)) {
  constexpr uint32_t kProducers = 4;
  constexpr uint32_t kPerProducer = 100000;
  Queue q;
  std::vector<std::unique_ptr<TestNode[]>> nodes;
  for (uint32_t p = 0; p < kProducers; p++) {
    nodes.emplace_back(new TestNode[kPerProducer]);
    for (uint32_t i = 0; i < kPerProducer; i++) {
      nodes[p][i].producer = p;
      nodes[p][i].seq = i;
    }
  }

  std::atomic<bool> go{false};
  std::vector<std::thread> producers;
  for (uint32_t p = 0; p < kProducers; p++)
    producers.emplace_back([&, p] {
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      for (uint32_t i = 0; i < kPerProducer; i++) q.push(&nodes[p][i]);
    });

  std::vector<uint8_t> seen(kProducers * kPerProducer, 0);
  uint32_t next_seq[kProducers] = {};
  uint64_t received = 0, duplicates = 0, out_of_order = 0, foreign = 0;
  go.store(true, std::memory_order_release);
  // A lost node must fail the test, not hang it.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (received < uint64_t{kProducers} * kPerProducer) {
    TestNode* n = q.pop();
    if (!n) {
      if (std::chrono::steady_clock::now() > deadline) break;
      std::this_thread::yield();
      continue;
    }
    received++;
    if (n->producer >= kProducers || n < &nodes[n->producer][0] ||
        n >= &nodes[n->producer][0] + kPerProducer) {
      foreign++;
      continue;
    }
    uint8_t& s = seen[n->producer * kPerProducer + n->seq];
    if (s) duplicates++;
    s = 1;
    if (n->seq != next_seq[n->producer]) out_of_order++;
    next_seq[n->producer] = n->seq + 1;
  }
  for (auto& t : producers) t.join();

  CHECK(received == uint64_t{kProducers} * kPerProducer);
  CHECK(foreign == 0);
  CHECK(duplicates == 0);
  CHECK(out_of_order == 0);
  uint64_t missing = 0;
  for (uint8_t s : seen) missing += s ? 0 : 1;
  CHECK(missing == 0);
  for (uint32_t p = 0; p < kProducers; p++) CHECK(next_seq[p] == kPerProducer);
  CHECK(q.pop() == nullptr);
  CHECK_FALSE(q.pushed_since_empty());
}

TEST_CASE("concurrent producers with a consumer that sees the queue empty") {
  // Short bursts so the consumer repeatedly drains the queue to its stub
  // while producers are mid-push: the stub re-insertion path.
  constexpr uint32_t kProducers = 2;
  constexpr uint32_t kPerProducer = 20000;
  Queue q;
  std::vector<std::unique_ptr<TestNode[]>> nodes;
  for (uint32_t p = 0; p < kProducers; p++) {
    nodes.emplace_back(new TestNode[kPerProducer]);
    for (uint32_t i = 0; i < kPerProducer; i++) {
      nodes[p][i].producer = p;
      nodes[p][i].seq = i;
    }
  }
  std::vector<std::thread> producers;
  for (uint32_t p = 0; p < kProducers; p++)
    producers.emplace_back([&, p] {
      for (uint32_t i = 0; i < kPerProducer; i++) {
        q.push(&nodes[p][i]);
        if (i % 64 == 0) std::this_thread::yield();
      }
    });
  uint32_t next_seq[kProducers] = {};
  uint64_t received = 0, bad = 0, empty_pops = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (received < uint64_t{kProducers} * kPerProducer) {
    TestNode* n = q.pop();
    if (!n) {
      empty_pops++;
      if (std::chrono::steady_clock::now() > deadline) break;
      continue;
    }
    received++;
    if (n->seq != next_seq[n->producer]) bad++;
    next_seq[n->producer] = n->seq + 1;
  }
  for (auto& t : producers) t.join();
  CHECK(bad == 0);
  CHECK(received == uint64_t{kProducers} * kPerProducer);
  CHECK(q.pop() == nullptr);
  MESSAGE("empty pops while producing: " << empty_pops);
}

// --- the process record's two queues ----------------------------------------

namespace {

Msg* user_msg(uint64_t type, uint8_t priority = AIRS_PRIORITY_NORMAL) {
  Msg* m = msg_new_copy(type, nullptr, 0);
  REQUIRE(m != nullptr);
  m->priority = priority;
  return m;
}

void drain(Process& p) {
  while (Msg* m = p.pop()) msg_free(m);
}

}  // namespace

TEST_CASE("a new process record has empty mailboxes") {
  auto p = std::make_unique<Process>();
  CHECK(reinterpret_cast<uintptr_t>(p.get()) % 64 == 0);
  CHECK_FALSE(p->mail_arrived());
  CHECK(p->pop() == nullptr);
  CHECK(p->depth() == 0);
  CHECK(p->dequeued.load() == 0);
}

TEST_CASE("Process::pop takes high priority first, each queue FIFO") {
  auto p = std::make_unique<Process>();
  p->push(user_msg(1));
  p->push(user_msg(2));
  p->push(user_msg(10, AIRS_PRIORITY_HIGH));
  p->push(user_msg(3));
  p->push(user_msg(11, AIRS_PRIORITY_HIGH));
  CHECK(p->mail_arrived());

  uint64_t expected[] = {10, 11, 1, 2, 3};
  for (uint64_t t : expected) {
    Msg* m = p->pop();
    REQUIRE(m != nullptr);
    CHECK(m->type == t);
    msg_free(m);
  }
  CHECK(p->pop() == nullptr);
  CHECK_FALSE(p->mail_arrived());
  CHECK(p->dequeued.load() == 5);
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

  Msg* m = p->pop();
  CHECK(m == kill);
  msg_free(m);
  m = p->pop();
  REQUIRE(m != nullptr);
  CHECK(m->type == 1);
  msg_free(m);
  m = p->pop();
  REQUIRE(m != nullptr);
  CHECK(m->type == 2);
  msg_free(m);
  m = p->pop();
  CHECK(m == exit);
  msg_free(m);
  CHECK(p->pop() == nullptr);
}

TEST_CASE("a high message pushed while normal ones wait goes first") {
  auto p = std::make_unique<Process>();
  p->push(user_msg(1));
  p->push(user_msg(2));
  Msg* m = p->pop();
  REQUIRE(m != nullptr);
  CHECK(m->type == 1);
  msg_free(m);
  p->push(user_msg(50, AIRS_PRIORITY_HIGH));
  m = p->pop();
  REQUIRE(m != nullptr);
  CHECK(m->type == 50);
  msg_free(m);
  m = p->pop();
  REQUIRE(m != nullptr);
  CHECK(m->type == 2);
  msg_free(m);
  drain(*p);
}

TEST_CASE("depth() is enqueued minus dequeued, never negative") {
  auto p = std::make_unique<Process>();
  // The sender side counts (delivery.cpp does this), pop() counts out.
  for (int i = 0; i < 3; i++) {
    p->enqueued.fetch_add(1);
    p->push(user_msg(i));
  }
  CHECK(p->depth() == 3);
  Msg* m = p->pop();
  REQUIRE(m != nullptr);
  msg_free(m);
  CHECK(p->depth() == 2);
  CHECK(p->dequeued.load() == 1);
  drain(*p);
  CHECK(p->depth() == 0);
  CHECK(p->dequeued.load() == 3);
  // A pop of an empty mailbox does not count.
  CHECK(p->pop() == nullptr);
  CHECK(p->dequeued.load() == 3);
  // More out than in (a racing reader): clamps to 0, never wraps.
  p->dequeued.store(5);
  CHECK(p->depth() == 0);
}

TEST_CASE("concurrent senders into one process record, priorities mixed" *
          doctest::timeout(30)) {
  constexpr uint32_t kSenders = 4;
  constexpr uint32_t kPerSender = 5000;
  auto p = std::make_unique<Process>();
  std::vector<std::thread> senders;
  for (uint32_t s = 0; s < kSenders; s++)
    senders.emplace_back([&, s] {
      for (uint32_t i = 0; i < kPerSender; i++) {
        Msg* m = msg_new_copy(uint64_t{s} << 32 | i, nullptr, 0);
        if (!m) continue;
        m->priority = i % 3 == 0 ? AIRS_PRIORITY_HIGH : AIRS_PRIORITY_NORMAL;
        m->sender = s;
        p->enqueued.fetch_add(1);
        p->push(m);
      }
    });
  // FIFO holds per sender within each priority.
  uint32_t next_high[kSenders], next_normal[kSenders];
  for (uint32_t s = 0; s < kSenders; s++) next_high[s] = next_normal[s] = 0;
  uint64_t received = 0, bad = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (received < uint64_t{kSenders} * kPerSender) {
    Msg* m = p->pop();
    if (!m) {
      if (std::chrono::steady_clock::now() > deadline) break;
      std::this_thread::yield();
      continue;
    }
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
    msg_free(m);
  }
  for (auto& t : senders) t.join();
  CHECK(bad == 0);
  CHECK(received == uint64_t{kSenders} * kPerSender);
  CHECK(p->depth() == 0);
  CHECK(p->dequeued.load() == uint64_t{kSenders} * kPerSender);
  CHECK_FALSE(p->mail_arrived());
  while (Msg* m = p->pop()) msg_free(m);  // only after a failure
}
