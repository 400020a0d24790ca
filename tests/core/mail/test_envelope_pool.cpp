// Unit tests of envelope_pool.hpp: envelopes come back for reuse, move
// between threads, survive their thread, and fail cleanly without memory.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "base/alloc.hpp"
#include "mail/envelope_pool.hpp"
#include "mail/message.hpp"

using namespace airs;

namespace {

std::vector<void*> alloc_n(std::size_t n) {
  std::vector<void*> v;
  for (std::size_t i = 0; i < n; i++) {
    void* p = envelope_alloc();
    REQUIRE(p != nullptr);
    v.push_back(p);
  }
  return v;
}

void free_all(const std::vector<void*>& v) {
  for (void* p : v) envelope_free(p);
}

// Envelopes the pool holds for reuse, seen from this thread.
std::size_t held() {
  EnvelopePoolCounts n = envelope_pool_counts();
  return n.depot_free + n.cache_free;
}

}  // namespace

TEST_CASE("envelopes are distinct, aligned, writable, and reused") {
  std::vector<void*> v = alloc_n(10000);
  std::set<void*> seen(v.begin(), v.end());
  CHECK(seen.size() == v.size());
  for (void* p : v) {
    CHECK(reinterpret_cast<std::uintptr_t>(p) % kEnvelopeBytes == 0);
    std::memset(p, 0xab, kEnvelopeBytes);
  }
  free_all(v);
  // A second round of the same size makes no new chunk: it reuses.
  std::size_t chunks = envelope_pool_counts().chunks;
  free_all(alloc_n(10000));
  CHECK(envelope_pool_counts().chunks == chunks);
}

TEST_CASE("a backlog freed on another thread is reused by the allocating one") {
  constexpr std::size_t kN = 200000;  // 12.8 MB: several chunks
  std::vector<void*> v = alloc_n(kN);
  std::size_t chunks = envelope_pool_counts().chunks;
  std::thread consumer([&] { free_all(v); });
  consumer.join();
  // The consumer's cache went to the depot when it ended: all of it is
  // there for this thread, which takes it instead of new chunks.
  free_all(alloc_n(kN));
  CHECK(envelope_pool_counts().chunks == chunks);
}

TEST_CASE("a thread's cache goes to the depot when the thread ends") {
  std::size_t before = held();
  std::size_t cached = 0;
  std::thread t([&] {
    free_all(alloc_n(1000));
    cached = envelope_pool_counts().cache_free;
  });
  t.join();
  CHECK(cached >= kEnvelopeBatch);  // its list and spare; the rest went back
  // Nothing the thread held is lost: it is all in the depot now.
  CHECK(held() >= before);
  CHECK(envelope_pool_counts().depot_free >= cached);
}

namespace {
// Frees its envelope in a thread-local destructor that runs after the
// pool's own thread-exit hook (it was made before the hook).
struct LateFree {
  void* p = nullptr;
  ~LateFree() {
    if (p) envelope_free(p);
  }
};
}  // namespace

TEST_CASE("an envelope freed after its thread's cache was given back") {
  std::size_t before = held();
  std::thread t([] {
    static thread_local LateFree late;
    late.p = envelope_alloc();  // the first one: enrolls the exit hook
    REQUIRE(late.p != nullptr);
  });
  t.join();
  // Nothing lost: the thread's slab came back, and the late envelope too.
  EnvelopePoolCounts n = envelope_pool_counts();
  CHECK(n.depot_free + n.cache_free >= before);
  std::size_t chunks = n.chunks;
  // Everything made so far can be taken again without a new chunk.
  free_all(alloc_n(held()));
  CHECK(envelope_pool_counts().chunks == chunks);
}

TEST_CASE("no memory: envelope_alloc returns nullptr and the pool goes on") {
  alloc_faults.store(1);
  CHECK(envelope_alloc() == nullptr);
  CHECK(alloc_faults.load() == 0);
  void* p = envelope_alloc();
  CHECK(p != nullptr);
  envelope_free(p);
}

TEST_CASE("messages: plain envelopes from the pool, long copies on their own") {
  std::size_t before = held();
  char big[200] = {1, 2, 3};
  Msg* small = msg_new_copy(7, "12345678", 8);
  Msg* large = msg_new_copy(7, big, sizeof big);
  REQUIRE(small);
  REQUIRE(large);
  CHECK(std::memcmp(large->data, big, sizeof big) == 0);
  CHECK(held() + 1 == before);
  msg_free(large);  // not into the pool
  CHECK(held() + 1 == before);
  msg_free(small);
  CHECK(held() == before);
}
