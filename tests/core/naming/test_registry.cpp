// Unit tests of registry.hpp: unique names for live processes.
#include <doctest/doctest.h>
#include <cstdint>
#include <memory>
#include <string>

#include "base/error.hpp"
#include "kernel/kernel.hpp"
#include "naming/registry.hpp"
#include "process/process.hpp"

using namespace airs;

namespace {

// A registry on a host-driven kernel of its own, and records that look to
// it like live processes. reg.add(name, pid, p) names a record;
// release(pid, p) is what the end of a process does: `exiting`, then the
// exit observers.
struct Fixture {
  Config cfg = [] {
    Config c;
    c.workers = 0;
    c.max_processes = 64;
    return c;
  }();
  Kernel kernel{cfg};
  Seam seam{kernel};
  Registry registry{seam};

  airs_status add(const char* name, uint64_t pid, Process* p) {
    return registry.add_name(name, pid, p);
  }
  void release(uint64_t pid, Process* p) {
    p->exiting.store(1);
    kernel.processes.tell_exit_observers(pid, p,
                                         reason_static(AIRS_EXIT_NORMAL));
  }
  airs_status find(const char* name, uint64_t* out) {
    return registry.find(name, out);
  }
  airs_status find(const std::string& name, uint64_t* out) {
    return registry.find(name.c_str(), out);
  }
  airs_status add(const std::string& name, uint64_t pid, Process* p) {
    return registry.add_name(name.c_str(), pid, p);
  }
  airs_status remove(const char* name) { return registry.remove(name); }
};

// A process record as a live process of `pid` looks to the registry.
std::unique_ptr<Process> live_process(uint64_t pid) {
  auto p = std::make_unique<Process>();
  p->pid.store(pid);
  p->exiting.store(0);
  return p;
}

bool has_name_flag(const Process& p) {
  return (p.flags.load() & kFirstMemberBit) != 0;
}

std::string last_error() {
  return last_error_message();
}

}  // namespace

TEST_CASE("add, find, and a name taken twice") {
  Fixture reg;
  uint64_t pa = make_pid(1, 1, 1), pb = make_pid(1, 2, 1);
  auto a = live_process(pa);
  auto b = live_process(pb);

  uint64_t out = 12345;
  CHECK(reg.find("alpha", &out) == AIRS_ENOTFOUND);
  CHECK(out == 12345);  // untouched on failure
  CHECK(last_error().find("alpha") != std::string::npos);

  CHECK(reg.add("alpha", pa, a.get()) == AIRS_OK);
  CHECK(has_name_flag(*a));
  CHECK(reg.find("alpha", &out) == AIRS_OK);
  CHECK(out == pa);

  CHECK(reg.add("alpha", pb, b.get()) == AIRS_EEXIST);
  CHECK(last_error().find("already registered") != std::string::npos);
  CHECK(reg.find("alpha", &out) == AIRS_OK);
  CHECK(out == pa);  // still the first owner
  CHECK_FALSE(has_name_flag(*b));

  CHECK(reg.add("beta", pb, b.get()) == AIRS_OK);
  CHECK(reg.find("beta", &out) == AIRS_OK);
  CHECK(out == pb);
}

TEST_CASE("a process has at most one name") {
  Fixture reg;
  uint64_t pa = make_pid(1, 3, 7);
  auto a = live_process(pa);
  CHECK(reg.add("first", pa, a.get()) == AIRS_OK);
  CHECK(reg.add("second", pa, a.get()) == AIRS_EEXIST);
  CHECK(last_error().find("already has a name") != std::string::npos);
  uint64_t out = 0;
  CHECK(reg.find("second", &out) == AIRS_ENOTFOUND);
  CHECK(reg.find("first", &out) == AIRS_OK);
  CHECK(out == pa);
}

TEST_CASE("names are case-sensitive and may be empty or long") {
  Fixture reg;
  auto a = live_process(make_pid(1, 1, 1));
  auto b = live_process(make_pid(1, 2, 1));
  auto c = live_process(make_pid(1, 3, 1));
  CHECK(reg.add("Name", make_pid(1, 1, 1), a.get()) == AIRS_OK);
  CHECK(reg.add("name", make_pid(1, 2, 1), b.get()) == AIRS_OK);
  std::string long_name(1000, 'x');
  CHECK(reg.add(long_name, make_pid(1, 3, 1), c.get()) == AIRS_OK);
  uint64_t out = 0;
  CHECK(reg.find("Name", &out) == AIRS_OK);
  CHECK(out == make_pid(1, 1, 1));
  CHECK(reg.find("name", &out) == AIRS_OK);
  CHECK(out == make_pid(1, 2, 1));
  CHECK(reg.find(long_name, &out) == AIRS_OK);
  CHECK(out == make_pid(1, 3, 1));
}

TEST_CASE("a process that is ending cannot take a name") {
  Fixture reg;
  uint64_t pa = make_pid(1, 4, 2);
  auto a = live_process(pa);
  a->exiting.store(1);
  CHECK(reg.add("late", pa, a.get()) == AIRS_ENOPROC);
  CHECK(last_error().find("not alive") != std::string::npos);
  uint64_t out = 0;
  CHECK(reg.find("late", &out) == AIRS_ENOTFOUND);
  // The name stays free for someone else.
  uint64_t pb = make_pid(1, 5, 1);
  auto b = live_process(pb);
  CHECK(reg.add("late", pb, b.get()) == AIRS_OK);
}

TEST_CASE("a stale pid (slot reused under a new generation) is refused") {
  Fixture reg;
  auto p = live_process(make_pid(1, 6, 2));  // the slot now holds generation 2
  CHECK(reg.add("old", make_pid(1, 6, 1), p.get()) == AIRS_ENOPROC);
  uint64_t out = 0;
  CHECK(reg.find("old", &out) == AIRS_ENOTFOUND);
  // Nothing was recorded for the stale pid: the live one may register.
  CHECK(reg.add("old", make_pid(1, 6, 2), p.get()) == AIRS_OK);
  CHECK(reg.find("old", &out) == AIRS_OK);
  CHECK(out == make_pid(1, 6, 2));
}

TEST_CASE("release() frees the name of an ending process") {
  Fixture reg;
  uint64_t pa = make_pid(1, 7, 1);
  auto a = live_process(pa);
  REQUIRE(reg.add("worker", pa, a.get()) == AIRS_OK);

  a->exiting.store(1);  // the exit path sets this first
  reg.release(pa, a.get());
  uint64_t out = 0;
  CHECK(reg.find("worker", &out) == AIRS_ENOTFOUND);
  CHECK(reg.remove("worker") == AIRS_ENOTFOUND);

  // The name moves on to a new process (e.g. a restarted child); a spawn
  // starts the record with no member bits.
  uint64_t pa2 = make_pid(1, 7, 2);
  a->pid.store(pa2);
  a->flags.store(0);
  a->exiting.store(0);
  CHECK(reg.add("worker", pa2, a.get()) == AIRS_OK);
  CHECK(reg.find("worker", &out) == AIRS_OK);
  CHECK(out == pa2);
}

TEST_CASE("release() of a process without a name changes nothing") {
  Fixture reg;
  uint64_t pa = make_pid(1, 8, 1), pb = make_pid(1, 9, 1);
  auto a = live_process(pa);
  auto b = live_process(pb);
  REQUIRE(reg.add("kept", pa, a.get()) == AIRS_OK);
  b->exiting.store(1);
  reg.release(pb, b.get());
  uint64_t out = 0;
  CHECK(reg.find("kept", &out) == AIRS_OK);
  CHECK(out == pa);
  reg.release(pb, b.get());  // twice is fine too
  CHECK(reg.find("kept", &out) == AIRS_OK);
}

TEST_CASE("remove() frees the name and the process may take another") {
  Fixture reg;
  uint64_t pa = make_pid(1, 10, 1), pb = make_pid(1, 11, 1);
  auto a = live_process(pa);
  auto b = live_process(pb);
  REQUIRE(reg.add("svc", pa, a.get()) == AIRS_OK);
  CHECK(reg.remove("svc") == AIRS_OK);
  uint64_t out = 0;
  CHECK(reg.find("svc", &out) == AIRS_ENOTFOUND);
  CHECK(reg.remove("svc") == AIRS_ENOTFOUND);
  CHECK(last_error().find("svc") != std::string::npos);

  CHECK(reg.add("svc2", pa, a.get()) == AIRS_OK);  // a new name for a
  CHECK(reg.add("svc", pb, b.get()) == AIRS_OK);   // the old one for b
  CHECK(reg.find("svc", &out) == AIRS_OK);
  CHECK(out == pb);
  CHECK(reg.find("svc2", &out) == AIRS_OK);
  CHECK(out == pa);

  // Ending a releases svc2 but not b's svc.
  a->exiting.store(1);
  reg.release(pa, a.get());
  CHECK(reg.find("svc2", &out) == AIRS_ENOTFOUND);
  CHECK(reg.find("svc", &out) == AIRS_OK);
  CHECK(out == pb);
}

TEST_CASE("two registries are independent") {
  Fixture r1, r2;
  uint64_t pa = make_pid(1, 12, 1);
  auto a = live_process(pa);
  CHECK(r1.add("x", pa, a.get()) == AIRS_OK);
  uint64_t out = 0;
  CHECK(r2.find("x", &out) == AIRS_ENOTFOUND);
}
