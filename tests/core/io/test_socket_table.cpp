// test_socket_table.cpp - the socket service's records and ids
// (core/io/socket_table.hpp): lookups of ids never made, a record used
// again under a new id, a slot retired when its use count is spent, and
// the end of the table.
#include <doctest/doctest.h>

#include <mutex>
#include <set>

#include "base/error.hpp"
#include "io/socket_table.hpp"

using airs::Socket;
using airs::SocketTable;

namespace {

// A record of the next use, as the service makes it (under its lock).
uint64_t use(Socket& rec) {
  std::lock_guard<std::mutex> lock(rec.mu);
  uint64_t id = SocketTable::next_id(rec);
  rec.reset(id, airs::SockKind::kStream, 1, airs::SockOpts{});
  return id;
}

void give_back(SocketTable& t, Socket& rec) {
  std::lock_guard<std::mutex> lock(rec.mu);
  rec.in_use = false;
  t.give_back(rec);
}

}  // namespace

TEST_CASE("ids never made find no record") {
  SocketTable t;
  CHECK(t.lookup(0) == nullptr);
  CHECK(t.lookup(12345) == nullptr);  // use count 0: never an id
  CHECK(t.lookup(uint64_t(1) << SocketTable::kSlotBits) == nullptr);
  CHECK(t.lookup(UINT64_MAX) == nullptr);
}

TEST_CASE("a record given back is used again under a new id") {
  SocketTable t;
  Socket* a = nullptr;
  REQUIRE(t.take(&a) == AIRS_OK);
  uint64_t first = use(*a);
  CHECK(first >= (uint64_t(1) << SocketTable::kSlotBits));
  CHECK(t.lookup(first) == a);
  give_back(t, *a);
  Socket* again = nullptr;
  REQUIRE(t.take(&again) == AIRS_OK);
  CHECK(again == a);  // the last given back comes first
  uint64_t second = use(*again);
  CHECK(second != first);
  // The old id still leads to the record: its lock and id say which
  // socket it is now.
  CHECK(t.lookup(first) == a);
  CHECK(a->id == second);
  std::set<uint64_t> ids{first, second};
  for (int i = 0; i < 1000; i++) {
    give_back(t, *a);
    REQUIRE(t.take(&again) == AIRS_OK);
    CHECK(ids.insert(use(*again)).second);
  }
}

TEST_CASE("a slot whose use count is spent is retired") {
  SocketTable t;
  Socket* a = nullptr;
  REQUIRE(t.take(&a) == AIRS_OK);
  a->uses = SocketTable::kMaxUses - 1;
  uint64_t last = use(*a);
  CHECK((last >> SocketTable::kSlotBits) == SocketTable::kMaxUses);
  give_back(t, *a);
  Socket* b = nullptr;
  REQUIRE(t.take(&b) == AIRS_OK);
  CHECK(b != a);  // a new slot, not the spent one
  CHECK(use(*b) != last);
}

TEST_CASE("the end of the table is a limit, not a crash") {
  SocketTable t(300);  // more than one chunk of 256
  Socket* recs[300];
  for (auto& r : recs) {
    REQUIRE(t.take(&r) == AIRS_OK);
    use(*r);
  }
  for (int i = 0; i < 300; i++) CHECK(t.lookup(recs[i]->id) == recs[i]);
  Socket* more = nullptr;
  CHECK(t.take(&more) == AIRS_ELIMIT);
  CHECK(more == nullptr);
  CHECK(std::string(airs::last_error_message()).find("300") !=
        std::string::npos);
  give_back(t, *recs[7]);
  REQUIRE(t.take(&more) == AIRS_OK);
  CHECK(more == recs[7]);
  int seen = 0;
  t.each([&](Socket&) { seen++; });
  CHECK(seen == 300);
}
