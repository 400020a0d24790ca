// Unit tests of payload_defer.hpp: a worker thread holds payload
// references back and gives each payload's count back at once; other
// threads release at once; nothing is freed early, late past a flush, or
// twice.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "base/alloc.hpp"
#include "mail/message.hpp"
#include "mail/payload_defer.hpp"

using namespace airs;

namespace {

std::atomic<int> freed{0};

void count_free(void*) {
  freed++;
}

// A wrapped payload with `refs` references, counted in `freed` when freed.
Payload* payload_with(uint64_t refs) {
  static char byte;
  Payload* p = payload_new_wrap(&byte, 1, count_free);
  REQUIRE(p != nullptr);
  p->refs.fetch_add(refs - 1, std::memory_order_relaxed);
  return p;
}

// Runs `body` on a thread of its own (its table starts empty and off).
template <class Body>
void on_thread(Body body) {
  std::thread t(body);
  t.join();
}

}  // namespace

TEST_CASE("a thread that does not defer releases at once") {
  freed = 0;
  on_thread([] {
    Payload* p = payload_with(2);
    payload_release_deferred(p);
    CHECK(p->refs.load() == 1);
    payload_release_deferred(p);
    CHECK(freed == 1);
  });
}

TEST_CASE("a worker holds references back until it flushes") {
  freed = 0;
  on_thread([] {
    payload_defer_begin();
    Payload* p = payload_with(3);
    payload_release_deferred(p);
    payload_release_deferred(p);
    CHECK(p->refs.load() == 3);  // held, not given back yet
    payload_defer_flush();
    CHECK(p->refs.load() == 1);  // both with one subtraction
    CHECK(freed == 0);
    payload_release_deferred(p);
    CHECK(freed == 0);
    payload_defer_end();  // gives the last one back: freed now
    CHECK(freed == 1);
    payload_defer_flush();  // nothing held: nothing happens
    CHECK(freed == 1);
  });
}

TEST_CASE("a payload whose slot is wanted goes back; none is freed early") {
  freed = 0;
  const int kPayloads = 5000;  // far more than the table holds
  on_thread([&] {
    payload_defer_begin();
    std::vector<Payload*> ps;
    for (int i = 0; i < kPayloads; i++) ps.push_back(payload_with(4));
    for (int round = 0; round < 3; round++)
      for (Payload* p : ps) payload_release_deferred(p);
    CHECK(freed == 0);  // one reference each is still out
    for (Payload* p : ps) {
      uint64_t refs = p->refs.load();
      CHECK(refs >= 1);
      CHECK(refs <= 4);
    }
    for (Payload* p : ps) payload_release_deferred(p);
    payload_defer_end();
    CHECK(freed == kPayloads);  // each once, all by the end
  });
}

TEST_CASE("references given back on two threads free the payload once") {
  freed = 0;
  const int kEach = 10000;
  Payload* p = payload_with(2 * kEach);
  auto release_all = [&] {
    payload_defer_begin();
    for (int i = 0; i < kEach; i++) {
      payload_release_deferred(p);
      if (i % 64 == 63) payload_defer_flush();
    }
    payload_defer_end();
  };
  std::thread a(release_all), b(release_all);
  a.join();
  b.join();
  CHECK(freed == 1);
}

TEST_CASE("without memory for its table a worker releases at once") {
  freed = 0;
  on_thread([] {
    alloc_faults.store(1);
    payload_defer_begin();  // its allocation fails
    alloc_faults.store(0);
    Payload* p = payload_with(1);
    payload_release_deferred(p);
    CHECK(freed == 1);
    payload_defer_end();
  });
}

namespace {

// A "parent" payload whose free_fn releases its children on the same
// thread, as a free_fn that frees a message with a shared payload does:
// a flush runs it while it walks the table.
struct Parent {
  std::vector<Payload*> children;
};

void release_children(void* data) {
  freed++;
  for (Payload* c : static_cast<Parent*>(data)->children)
    payload_release_deferred(c);
}

// Holds back kParents parents of kChildren children each: more children
// than the table has slots, so some land in slots a flush has already
// passed, whatever the parents' slots are.
constexpr int kParents = 8, kChildren = 600;

void hold_parents(std::vector<Parent>& parents) {
  parents.resize(kParents);
  for (Parent& parent : parents) {
    for (int i = 0; i < kChildren; i++)
      parent.children.push_back(payload_with(1));
    Payload* p = payload_new_wrap(&parent, 1, release_children);
    REQUIRE(p != nullptr);
    payload_release_deferred(p);
  }
  // The parents are held, but for one whose slot a later parent took: it
  // went back at once, and its children are held instead. (The slots
  // depend on the addresses: no count is checked here.)
}

}  // namespace

TEST_CASE("a flush gives back what free_fns release during it") {
  freed = 0;
  on_thread([] {
    payload_defer_begin();
    std::vector<Parent> parents;
    hold_parents(parents);
    payload_defer_flush();
    CHECK(freed == kParents * (1 + kChildren));  // nothing held past it
    payload_defer_end();
  });
}

TEST_CASE("a worker's end gives back what free_fns release during it") {
  freed = 0;
  on_thread([] {
    payload_defer_begin();
    std::vector<Parent> parents;
    hold_parents(parents);
    payload_defer_end();  // the table is gone after: nothing may stay in it
    CHECK(freed == kParents * (1 + kChildren));
  });
}
