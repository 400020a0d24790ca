// Unit tests of inject_queue.hpp: the FIFO of work from outside the
// workers (order kept across growth; many producers and consumers).
#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "sched/inject_queue.hpp"

using namespace airs;

namespace {

// Stand-ins: the queue only stores the pointers.
Process* fake(uintptr_t i) {
  return reinterpret_cast<Process*>(i << 4);
}
uintptr_t index_of(Process* p) {
  return reinterpret_cast<uintptr_t>(p) >> 4;
}

}  // namespace

TEST_CASE("first in, first out, across growth and wrap-around") {
  InjectQueue q;
  CHECK(q.pop() == nullptr);
  uintptr_t next_in = 1, next_out = 1;
  // Interleaved so that the ring wraps before it grows.
  for (int round = 0; round < 50; round++) {
    for (int i = 0; i < 37; i++) REQUIRE(q.push(fake(next_in++)));
    for (int i = 0; i < 20; i++) {
      Process* p = q.pop();
      REQUIRE(p != nullptr);
      CHECK(index_of(p) == next_out++);
    }
  }
  CHECK(q.size() == next_in - next_out);
  while (Process* p = q.pop()) CHECK(index_of(p) == next_out++);
  CHECK(next_out == next_in);
  CHECK(q.size() == 0);
}

TEST_CASE(
    "many producers and consumers: each entry once, in order per producer") {
  constexpr int kProducers = 3, kConsumers = 3, kEach = 20000;
  InjectQueue q;
  std::atomic<int> taken{0};
  std::vector<std::vector<uintptr_t>> seen(kConsumers);
  std::vector<std::thread> threads;
  for (int t = 0; t < kProducers; t++)
    threads.emplace_back([&, t] {
      for (uintptr_t i = 1; i <= kEach; i++)
        while (!q.push(fake(uintptr_t(t) << 20 | i))) std::this_thread::yield();
    });
  for (int c = 0; c < kConsumers; c++)
    threads.emplace_back([&, c] {
      while (taken.load() < kProducers * kEach) {
        if (Process* p = q.pop()) {
          seen[c].push_back(index_of(p));
          taken++;
        }
      }
    });
  for (auto& th : threads) th.join();
  // Within one consumer, each producer's entries come in the order pushed.
  std::vector<int> count(kProducers, 0);
  for (auto& v : seen) {
    std::vector<uintptr_t> last(kProducers, 0);
    for (uintptr_t e : v) {
      int t = int(e >> 20);
      uintptr_t i = e & ((1u << 20) - 1);
      CHECK(i > last[t]);
      last[t] = i;
      count[t]++;
    }
  }
  for (int t = 0; t < kProducers; t++) CHECK(count[t] == kEach);
}
