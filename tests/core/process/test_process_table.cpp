// Unit tests of process_table.hpp (slots, chunks, the free list) and of the
// pid encoding helpers of process.hpp.
#include <doctest/doctest.h>
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "../../pid_layout.h"
#include "process/pid_tag.hpp"
#include "process/process.hpp"
#include "process/process_table.hpp"

using namespace airs;

TEST_CASE("pid encoding: tag, generation and slot each in their own bits") {
  CHECK(make_pid(0, 0, 0) == 0);  // the "no process" pid
  CHECK(make_pid(1, 7, 3) == ((uint64_t{1} << 48) | (uint64_t{3} << 27) | 7));
  CHECK(pid_slot(make_pid(9, 7, 3)) == 7);
  CHECK(pid_generation(make_pid(9, 7, 3)) == 3);
  CHECK(pid_tag(make_pid(9, 7, 3)) == 9);
  uint64_t big = make_pid(kMaxTag, kMaxSlots - 1, kMaxGeneration);
  CHECK(big == UINT64_MAX);
  CHECK(pid_slot(big) == kMaxSlots - 1);
  CHECK(pid_generation(big) == kMaxGeneration);
  CHECK(pid_tag(big) == kMaxTag);
  CHECK(pid_slot(make_pid(2, 123456, 1)) == 123456);
  CHECK(pid_generation(make_pid(2, 123456, 1)) == 1);
  CHECK(make_pid(1, 1, 1) != make_pid(1, 1, 2));
  CHECK(make_pid(1, 1, 2) != make_pid(1, 2, 1));
  CHECK(make_pid(1, 1, 1) != make_pid(2, 1, 1));
}

TEST_CASE("the tests' pid layout (tests/pid_layout.h) is the core's") {
  static_assert(TEST_PID_SLOT_BITS == kSlotBits);
  static_assert(TEST_PID_GENERATION_BITS == kGenerationBits);
  uint64_t pid = make_pid(77, 12345, 678);
  CHECK(test_pid_slot(pid) == 12345);
  CHECK(test_pid_generation(pid) == 678);
  CHECK(test_pid_make(pid, 9, 10) == make_pid(77, 9, 10));
}

TEST_CASE("tables get distinct nonzero tags, and lookup ignores other tags") {
  ProcessTable a(10), b(10);
  CHECK(a.tag() != 0);
  CHECK(b.tag() != 0);
  CHECK(a.tag() != b.tag());
  uint32_t idx;
  REQUIRE(a.acquire(&idx));
  REQUIRE(b.acquire(&idx));
  CHECK(a.lookup(make_pid(a.tag(), 0, 1)) == a.slot(0));
  CHECK(a.lookup(make_pid(b.tag(), 0, 1)) == nullptr);
  CHECK(b.lookup(make_pid(a.tag(), 0, 1)) == nullptr);
  CHECK(a.lookup(make_pid(0, 0, 1)) == nullptr);
  // A freed table's tag comes back only after every other tag was used.
  uint32_t old = a.tag();
  {
    ProcessTable c(1);
    CHECK(c.tag() != old);
  }
}

TEST_CASE("when every pid tag is in use, no runtime starts, and says why") {
  std::vector<uint32_t> taken;
  for (uint32_t tag; (tag = pid_tag_acquire()) != 0;) taken.push_back(tag);
  CHECK(taken.size() >= kMaxTag - 8);  // all but those of live tables
  std::set<uint32_t> distinct(taken.begin(), taken.end());
  CHECK(distinct.size() == taken.size());
  airs_runtime* rt = nullptr;
  airs_config* cfg = nullptr;
  REQUIRE(airs_config_new(&cfg) == AIRS_OK);
  REQUIRE(airs_config_set(cfg, AIRS_CFG_WORKERS, 0) == AIRS_OK);
  CHECK(airs_runtime_new(cfg, &rt) == AIRS_ELIMIT);
  CHECK(rt == nullptr);
  CHECK(std::string(airs_last_error_message()).find("runtimes are alive") !=
        std::string::npos);
  // One tag back: one runtime can start, and its pids carry that tag.
  pid_tag_release(taken.back());
  REQUIRE(airs_runtime_new(cfg, &rt) == AIRS_OK);
  airs_runtime* second = nullptr;
  CHECK(airs_runtime_new(cfg, &second) == AIRS_ELIMIT);
  CHECK(second == nullptr);
  airs_runtime_free(rt);
  airs_config_free(cfg);
  taken.pop_back();
  for (uint32_t tag : taken) pid_tag_release(tag);
  ProcessTable t(1);
  CHECK(t.tag() != 0);
}

TEST_CASE("acquire hands out distinct slots up to max_processes") {
  ProcessTable t(10);
  CHECK(t.high_water() == 0);
  std::set<uint32_t> got;
  for (int i = 0; i < 10; i++) {
    uint32_t idx = 12345;
    REQUIRE(t.acquire(&idx));
    CHECK(idx < 10);
    got.insert(idx);
  }
  CHECK(got.size() == 10);
  CHECK(t.high_water() == 10);

  uint32_t idx = 777;
  CHECK_FALSE(t.acquire(&idx));  // the limit
  CHECK(idx == 777);             // untouched on failure
  CHECK_FALSE(t.acquire(&idx));
  CHECK(t.high_water() == 10);
}

TEST_CASE("released slots are handed out again (last released first)") {
  ProcessTable t(4);
  uint32_t a, b, c, d;
  REQUIRE(t.acquire(&a));
  REQUIRE(t.acquire(&b));
  REQUIRE(t.acquire(&c));
  REQUIRE(t.acquire(&d));
  uint32_t x;
  CHECK_FALSE(t.acquire(&x));

  t.release(b);
  REQUIRE(t.acquire(&x));
  CHECK(x == b);
  CHECK_FALSE(t.acquire(&x));

  t.release(a);
  t.release(d);
  uint32_t y, z;
  REQUIRE(t.acquire(&y));
  REQUIRE(t.acquire(&z));
  CHECK(y == d);
  CHECK(z == a);
  CHECK_FALSE(t.acquire(&x));
  CHECK(t.high_water() == 4);  // recycling does not grow the table
}

TEST_CASE("a table of one process") {
  ProcessTable t(1);
  uint32_t idx;
  REQUIRE(t.acquire(&idx));
  CHECK(idx == 0);
  CHECK_FALSE(t.acquire(&idx));
  for (int i = 0; i < 100; i++) {
    t.release(0);
    REQUIRE(t.acquire(&idx));
    CHECK(idx == 0);
  }
}

TEST_CASE("slot records are fresh, stable and never-used chunks are absent") {
  ProcessTable t(3 * ProcessTable::kChunkSize);
  CHECK(ProcessTable::kChunkSize == 32768);
  // Nothing is allocated before the first acquire.
  CHECK(t.slot(0) == nullptr);
  CHECK(t.lookup(make_pid(t.tag(), 0, 1)) == nullptr);

  uint32_t idx;
  REQUIRE(t.acquire(&idx));
  CHECK(idx == 0);
  Process* p0 = t.slot(0);
  REQUIRE(p0 != nullptr);
  CHECK(reinterpret_cast<uintptr_t>(p0) % 64 == 0);
  CHECK(p0->pid.load() == 0);
  CHECK(p0->life.load() == kFree);
  CHECK(p0->generation == 0);
  CHECK(p0->exiting.load() == 1);  // a free slot is not alive
  CHECK((p0->normal_tail.tail.load() & kIdle) != 0);  // idle, empty

  // A slot of the same chunk not handed out yet exists and reads as an
  // empty slot (its record is made when it is first handed out).
  Process* p5 = t.slot(5);
  REQUIRE(p5 != nullptr);
  CHECK(p5 == p0 + 5);
  CHECK(p5->pid.load() == 0);
  CHECK(p5->life.load() == kFree);
  REQUIRE(t.acquire(&idx));
  REQUIRE(t.acquire(&idx));
  REQUIRE(t.acquire(&idx));
  REQUIRE(t.acquire(&idx));
  REQUIRE(t.acquire(&idx));
  CHECK(idx == 5);
  CHECK(p5->exiting.load() == 1);  // made now: a free slot is not alive
  CHECK((p5->normal_tail.tail.load() & kIdle) != 0);

  // Slots of chunks never used, and slots beyond the table, are absent.
  CHECK(t.slot(ProcessTable::kChunkSize) == nullptr);
  CHECK(t.slot(2 * ProcessTable::kChunkSize + 7) == nullptr);
  CHECK(t.slot(3 * ProcessTable::kChunkSize) == nullptr);
  CHECK(t.slot(UINT32_MAX) == nullptr);
  CHECK(t.lookup(make_pid(t.tag(), ProcessTable::kChunkSize, 1)) == nullptr);
  CHECK(t.lookup(make_pid(t.tag(), kMaxSlots - 1, 1)) == nullptr);

  // lookup: pid 0 is no process; otherwise the record of its slot.
  CHECK(t.lookup(0) == nullptr);
  CHECK(t.lookup(make_pid(t.tag(), 0, 1)) == p0);
  CHECK(t.lookup(make_pid(t.tag(), 5, 99)) == p5);
}

TEST_CASE("the table grows chunk by chunk past 32768 slots") {
  const uint32_t kMax = ProcessTable::kChunkSize + 100;
  ProcessTable t(kMax);
  uint32_t idx;
  REQUIRE(t.acquire(&idx));
  Process* first = t.slot(0);
  REQUIRE(first != nullptr);
  first->spawn_seq = 4242;  // a mark that must survive growth

  for (uint32_t i = 1; i < ProcessTable::kChunkSize; i++) {
    REQUIRE(t.acquire(&idx));
    REQUIRE(idx == i);
  }
  CHECK(t.slot(ProcessTable::kChunkSize) == nullptr);  // not yet
  REQUIRE(t.acquire(&idx));
  CHECK(idx == ProcessTable::kChunkSize);
  Process* second = t.slot(ProcessTable::kChunkSize);
  REQUIRE(second != nullptr);
  CHECK(second->pid.load() == 0);
  CHECK(second->life.load() == kFree);
  CHECK(t.slot(ProcessTable::kChunkSize + 99) == second + 99);
  CHECK(t.slot(2 * ProcessTable::kChunkSize) == nullptr);  // no 3rd chunk

  // Records never move.
  CHECK(t.slot(0) == first);
  CHECK(first->spawn_seq == 4242);
  CHECK(t.slot(ProcessTable::kChunkSize - 1) ==
        first + ProcessTable::kChunkSize - 1);

  for (uint32_t i = ProcessTable::kChunkSize + 1; i < kMax; i++)
    REQUIRE(t.acquire(&idx));
  CHECK_FALSE(t.acquire(&idx));
  CHECK(t.high_water() == kMax);
}

TEST_CASE("a slot whose generation is exhausted is retired") {
  ProcessTable t(2);
  uint32_t a, b;
  REQUIRE(t.acquire(&a));
  REQUIRE(t.acquire(&b));
  CHECK(t.at_limit());
  t.slot(a)->generation = kMaxGeneration;  // every pid of this slot is used
  t.release(a);
  uint32_t x;
  // Not handed out again; and it does not count against the limit, so a
  // fresh slot takes its place.
  CHECK_FALSE(t.at_limit());
  REQUIRE(t.acquire(&x));
  CHECK(x == 2);
  CHECK(t.at_limit());
  CHECK_FALSE(t.acquire(&x));

  t.release(b);  // an ordinary slot still recycles
  REQUIRE(t.acquire(&x));
  CHECK(x == b);
  t.slot(b)->generation = kMaxGeneration - 1;  // one generation left: kept
  t.release(b);
  REQUIRE(t.acquire(&x));
  CHECK(x == b);
  CHECK_FALSE(t.acquire(&x));
}

TEST_CASE("a retired slot makes acquire move on to a fresh one") {
  ProcessTable t(3);
  uint32_t a;
  REQUIRE(t.acquire(&a));
  t.slot(a)->generation = kMaxGeneration;
  t.release(a);
  uint32_t x;
  for (int i = 0; i < 3; i++) {
    REQUIRE(t.acquire(&x));
    CHECK(x != a);
  }
  CHECK_FALSE(t.acquire(&x));
}

TEST_CASE("4 threads acquiring and releasing never share a slot" *
          doctest::timeout(30)) {
  constexpr uint32_t kMax = 64;
  constexpr int kThreads = 4;
  constexpr int kIters = 100000;
  ProcessTable t(kMax);
  std::unique_ptr<std::atomic<int>[]> owner(new std::atomic<int>[kMax]);
  for (uint32_t i = 0; i < kMax; i++) owner[i].store(-1);
  std::atomic<uint64_t> double_owned{0}, bad_index{0}, wrong_release{0},
      acquired{0}, refused{0};
  std::atomic<bool> go{false};

  std::vector<std::thread> threads;
  for (int th = 0; th < kThreads; th++)
    threads.emplace_back([&, th] {
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      std::vector<uint32_t> held;
      uint32_t rng = 0x9E3779B9u * (th + 1);
      for (int i = 0; i < kIters; i++) {
        rng = rng * 1664525u + 1013904223u;
        // Hold up to 24 slots: 4 x 24 > 64, so the limit is hit too.
        bool take = held.empty() || (held.size() < 24 && (rng >> 16) % 2);
        if (take) {
          uint32_t idx;
          if (!t.acquire(&idx)) {
            refused.fetch_add(1);
            continue;
          }
          acquired.fetch_add(1);
          if (idx >= kMax) {
            bad_index.fetch_add(1);
            continue;
          }
          int expected = -1;
          if (!owner[idx].compare_exchange_strong(expected, th))
            double_owned.fetch_add(1);
          // The record is ours: touch it as an owner would.
          Process* p = t.slot(idx);
          p->spawn_seq = static_cast<uint64_t>(th) << 32 | i;
          held.push_back(idx);
        } else {
          size_t k = (rng >> 8) % held.size();
          uint32_t idx = held[k];
          held[k] = held.back();
          held.pop_back();
          Process* p = t.slot(idx);
          if (p->spawn_seq >> 32 != static_cast<uint64_t>(th))
            wrong_release.fetch_add(1);  // someone wrote our record
          int expected = th;
          if (!owner[idx].compare_exchange_strong(expected, -1))
            double_owned.fetch_add(1);
          t.release(idx);
        }
      }
      for (uint32_t idx : held) {
        int expected = th;
        if (!owner[idx].compare_exchange_strong(expected, -1))
          double_owned.fetch_add(1);
        t.release(idx);
      }
    });
  go.store(true, std::memory_order_release);
  for (auto& th : threads) th.join();

  CHECK(double_owned.load() == 0);
  CHECK(bad_index.load() == 0);
  CHECK(wrong_release.load() == 0);
  CHECK(acquired.load() > 0);
  CHECK(t.high_water() <= kMax);
  MESSAGE("acquired " << acquired.load() << ", refused at the limit "
                      << refused.load());

  // Every slot is back: exactly kMax can be taken again, all distinct.
  std::set<uint32_t> all;
  uint32_t idx;
  for (uint32_t i = 0; i < kMax; i++) {
    REQUIRE(t.acquire(&idx));
    all.insert(idx);
  }
  CHECK(all.size() == kMax);
  CHECK_FALSE(t.acquire(&idx));
}
