// Unit tests of run_queue.hpp: a worker's bounded ring with stealing.
#include <doctest/doctest.h>
#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "sched/run_queue.hpp"

using namespace airs;

namespace {

// The ring only stores pointers: tag values stand in for processes (never
// dereferenced). 0 stays nullptr, which the ring uses for "none".
Process* item(uintptr_t i) {
  return reinterpret_cast<Process*>(i + 1);
}
uintptr_t index_of(Process* p) {
  return reinterpret_cast<uintptr_t>(p) - 1;
}

}  // namespace

TEST_CASE("an empty ring pops nothing") {
  auto r = std::make_unique<RunRing>();
  CHECK(r->empty());
  CHECK(r->pop() == nullptr);
  CHECK(r->empty());
}

TEST_CASE("push/pop is FIFO, also across wrap-around") {
  auto r = std::make_unique<RunRing>();
  uintptr_t next_in = 0, next_out = 0;
  // 100 rounds of 3 in, 2 out, then drain: indices wrap many times.
  for (int round = 0; round < 100; round++) {
    for (int k = 0; k < 3; k++) CHECK(r->push(item(next_in++)));
    for (int k = 0; k < 2; k++) {
      Process* p = r->pop();
      REQUIRE(p != nullptr);
      CHECK(index_of(p) == next_out++);
    }
    CHECK_FALSE(r->empty());
  }
  while (Process* p = r->pop()) CHECK(index_of(p) == next_out++);
  CHECK(next_out == next_in);
  CHECK(r->empty());
  for (int round = 0; round < 10; round++) {
    for (uint32_t i = 0; i < RunRing::kSize; i++) REQUIRE(r->push(item(i)));
    for (uint32_t i = 0; i < RunRing::kSize; i++) {
      Process* p = r->pop();
      REQUIRE(p != nullptr);
      CHECK(index_of(p) == i);
    }
    CHECK(r->empty());
  }
}

TEST_CASE("the ring is full at 256") {
  auto r = std::make_unique<RunRing>();
  CHECK(RunRing::kSize == 256);
  for (uint32_t i = 0; i < RunRing::kSize; i++) CHECK(r->push(item(i)));
  CHECK_FALSE(r->push(item(999)));
  CHECK_FALSE(r->push(item(999)));
  CHECK_FALSE(r->empty());
  Process* p = r->pop();
  CHECK(index_of(p) == 0);
  CHECK(r->push(item(256)));  // room for exactly one again
  CHECK_FALSE(r->push(item(999)));
  for (uint32_t i = 1; i <= RunRing::kSize; i++) {
    p = r->pop();
    REQUIRE(p != nullptr);
    CHECK(index_of(p) == i);  // the rejected 999s never got in
  }
  CHECK(r->pop() == nullptr);
  CHECK(r->empty());
}

TEST_CASE("steal_into moves about half and returns one more") {
  auto victim = std::make_unique<RunRing>();
  auto thief = std::make_unique<RunRing>();
  for (uintptr_t i = 0; i < 10; i++) REQUIRE(victim->push(item(i)));

  Process* got = thief->pop();
  CHECK(got == nullptr);
  got = victim->steal_into(*thief);
  REQUIRE(got != nullptr);
  // Half (5) leaves the victim: 4 into the thief's ring, in order, and the
  // 5th to run at once.
  CHECK(index_of(got) == 4);
  for (uintptr_t i = 0; i < 4; i++) {
    Process* p = thief->pop();
    REQUIRE(p != nullptr);
    CHECK(index_of(p) == i);
  }
  CHECK(thief->pop() == nullptr);
  for (uintptr_t i = 5; i < 10; i++) {
    Process* p = victim->pop();
    REQUIRE(p != nullptr);
    CHECK(index_of(p) == i);
  }
  CHECK(victim->empty());
}

TEST_CASE("steal_into odd counts, one entry, and an empty victim") {
  auto victim = std::make_unique<RunRing>();
  auto thief = std::make_unique<RunRing>();
  CHECK(victim->steal_into(*thief) == nullptr);
  CHECK(thief->empty());

  REQUIRE(victim->push(item(0)));
  Process* got = victim->steal_into(*thief);
  CHECK(got == item(0));  // the only one is returned, nothing moves
  CHECK(thief->empty());
  CHECK(victim->empty());

  for (uintptr_t i = 0; i < 7; i++) REQUIRE(victim->push(item(i)));
  got = victim->steal_into(*thief);  // 7 - 7/2 = 4 taken: 3 moved + 1
  REQUIRE(got != nullptr);
  CHECK(index_of(got) == 3);
  int moved = 0;
  while (thief->pop()) moved++;
  CHECK(moved == 3);
  int left = 0;
  while (victim->pop()) left++;
  CHECK(left == 3);
}

TEST_CASE("steal_into a full ring takes just one") {
  auto victim = std::make_unique<RunRing>();
  auto thief = std::make_unique<RunRing>();
  for (uintptr_t i = 0; i < RunRing::kSize; i++) {
    REQUIRE(thief->push(item(1000 + i)));
    REQUIRE(victim->push(item(i)));
  }
  Process* got = victim->steal_into(*thief);
  CHECK(got == item(0));
  // The thief's ring is untouched and the victim lost exactly one.
  for (uintptr_t i = 0; i < RunRing::kSize; i++) {
    Process* p = thief->pop();
    REQUIRE(p != nullptr);
    CHECK(index_of(p) == 1000 + i);
  }
  CHECK(thief->pop() == nullptr);
  int left = 0;
  while (victim->pop()) left++;
  CHECK(left == static_cast<int>(RunRing::kSize) - 1);
}

TEST_CASE("steal_into a nearly full ring fills it exactly") {
  auto victim = std::make_unique<RunRing>();
  auto thief = std::make_unique<RunRing>();
  for (uintptr_t i = 0; i < RunRing::kSize - 2; i++)
    REQUIRE(thief->push(item(1000 + i)));
  for (uintptr_t i = 0; i < 100; i++) REQUIRE(victim->push(item(i)));
  Process* got = victim->steal_into(*thief);  // room 2: 2 moved + 1
  REQUIRE(got != nullptr);
  CHECK(index_of(got) == 2);
  CHECK_FALSE(thief->push(item(5000)));  // now full
  uint32_t in_thief = 0;
  while (Process* p = thief->pop()) {
    if (in_thief < RunRing::kSize - 2)
      CHECK(index_of(p) == 1000 + in_thief);
    else
      CHECK(index_of(p) == in_thief - (RunRing::kSize - 2));
    in_thief++;
  }
  CHECK(in_thief == RunRing::kSize);
  uint32_t left = 0;
  while (Process* p = victim->pop()) CHECK(index_of(p) == 3 + left++);
  CHECK(left == 97);
}

TEST_CASE("one owner pushing and popping, two thieves: every item once" *
          doctest::timeout(30)) {
  constexpr uintptr_t kItems = 200000;
  auto owner = std::make_unique<RunRing>();
  std::unique_ptr<RunRing> thief_rings[2] = {std::make_unique<RunRing>(),
                                             std::make_unique<RunRing>()};
  std::unique_ptr<std::atomic<uint8_t>[]> seen(
      new std::atomic<uint8_t>[kItems]);
  for (uintptr_t i = 0; i < kItems; i++) seen[i].store(0);
  std::atomic<uint64_t> bad{0}, total{0};
  std::atomic<bool> done{false};
  std::atomic<uint64_t> stolen[2] = {0, 0};

  auto record = [&](Process* p) {
    uintptr_t i = index_of(p);
    if (p == nullptr || i >= kItems || seen[i].fetch_add(1) != 0)
      bad.fetch_add(1);
    total.fetch_add(1);
  };

  std::vector<std::thread> thieves;
  for (int t = 0; t < 2; t++)
    thieves.emplace_back([&, t] {
      RunRing& mine = *thief_rings[t];
      for (;;) {
        bool finished = done.load(std::memory_order_acquire);
        Process* p = owner->steal_into(mine);
        if (p) {
          stolen[t].fetch_add(1);
          record(p);
        }
        while (Process* q = mine.pop()) {
          stolen[t].fetch_add(1);
          record(q);
        }
        if (!p) {
          if (finished) break;
          std::this_thread::yield();
        }
      }
    });

  uintptr_t next = 0;
  uint64_t owned = 0;
  while (next < kItems) {
    if (owner->push(item(next))) {
      next++;
      if (next % 3 == 0) {  // the owner pops a share itself
        if (Process* p = owner->pop()) {
          owned++;
          record(p);
        }
      }
    } else if (Process* p = owner->pop()) {  // full: make room
      owned++;
      record(p);
    }
  }
  while (Process* p = owner->pop()) {
    owned++;
    record(p);
  }
  done.store(true, std::memory_order_release);
  for (auto& t : thieves) t.join();

  CHECK(bad.load() == 0);
  CHECK(total.load() == kItems);
  uint64_t missing = 0;
  for (uintptr_t i = 0; i < kItems; i++) missing += seen[i].load() == 1 ? 0 : 1;
  CHECK(missing == 0);
  CHECK(owner->empty());
  CHECK(thief_rings[0]->empty());
  CHECK(thief_rings[1]->empty());
  MESSAGE("owner ran " << owned << ", thieves " << stolen[0].load() << " + "
                       << stolen[1].load());
}
