// test_supervisor.cpp - airs.hpp's supervisors: the fluent spec, restarts
// with fresh objects, nesting, dynamic children, and bad specs.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>

#include "messages.hpp"

using namespace cpp_test;
using namespace std::chrono_literals;

namespace {

std::atomic<int> constructed{0};

struct worker : airs::actor<worker, add, get_total, crash> {
  explicit worker(std::int64_t start) : sum(start) { ++constructed; }
  void on(const add& m) { sum += m.n; }
  total on(const get_total&) { return {sum}; }
  void on(const crash&) { exit(airs::exit_reason::failure(3, "crash")); }
  std::int64_t sum;
};

struct other : airs::actor<other, add> {
  void on(const add&) {}
};

using worker_pid = worker::handle;

// Waits until `fn` holds (supervisor work happens on the workers).
template <class Fn>
bool eventually(Fn fn) {
  for (int i = 0; i < 2000; i++) {
    if (fn()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return false;
}

}  // namespace

TEST_CASE("one_for_one: a crashed child restarts as a fresh object") {
  airs::runtime rt(airs::config().workers(2));
  constructed = 0;
  auto sup = rt.start_supervisor(
      airs::supervisor_spec(airs::strategy::one_for_one)
          .intensity(10, 1s)
          .child(airs::worker<worker>("a", std::int64_t{100}))
          .child(airs::worker<worker>("b", std::int64_t{200})
                     .restart(airs::restart::transient)
                     .registered_as("b")));
  CHECK(constructed == 2);
  auto a = sup.child<worker_pid>("a");
  REQUIRE(a);
  rt.send(*a, add{5});
  CHECK(rt.call(*a, get_total{}, 1s).value == 105);
  rt.send(*a, crash{});
  REQUIRE(eventually([&] {
    auto now = sup.child<worker_pid>("a");
    return now && *now != *a;
  }));
  auto a2 = *sup.child<worker_pid>("a");
  CHECK(rt.call(a2, get_total{}, 1s).value == 100);  // not 105: a new object
  CHECK(constructed == 3);
  // The registered name moved to the new pid of b after its restart.
  auto b = *rt.whereis<worker_pid>("b");
  rt.send(b, crash{});
  REQUIRE(eventually([&] {
    auto now = rt.whereis<worker_pid>("b");
    return now && *now != b;
  }));
  auto counts = sup.count_children();
  CHECK(counts.specs == 2);
  CHECK(counts.active == 2);
  sup.terminate_child("a");
  auto rows = sup.which_children();
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].id == "a");
  CHECK(rows[0].state == AIRS_CHILD_STOPPED);
  CHECK(sup.restart_child("a") != 0);
  sup.terminate_child("a");
  sup.delete_child("a");
  CHECK(sup.which_children().size() == 1);
  CHECK_THROWS_AS(sup.terminate_child("nope"), airs::error);
}

TEST_CASE("nested supervisors and start_child") {
  airs::runtime rt(airs::config().workers(2));
  auto inner = airs::supervisor_spec(airs::strategy::one_for_all)
                   .child(airs::worker<worker>("x", std::int64_t{1}))
                   .child(airs::worker<worker>("y", std::int64_t{2}));
  auto sup =
      rt.start_supervisor(airs::supervisor_spec(airs::strategy::rest_for_one)
                              .child(airs::worker<worker>("w", std::int64_t{0}))
                              .child(airs::supervisor_child("inner", inner)));
  auto rows = sup.which_children();
  REQUIRE(rows.size() == 2);
  CHECK(rows[1].type == AIRS_CHILD_SUPERVISOR);
  airs::supervisor_ref inner_ref(rt, rows[1].pid);
  CHECK(inner_ref.count_children().active == 2);
  airs::pid z = sup.start_child(airs::worker<worker>("z", std::int64_t{9}));
  CHECK(rt.call(worker_pid::unchecked(z), get_total{}, 1s).value == 9);
  try {
    sup.start_child(airs::worker<worker>("z", std::int64_t{9}));
    FAIL("a repeated id must throw");
  } catch (const airs::error& e) {
    CHECK(e.status() == AIRS_EEXIST);
  }
}

TEST_CASE("simple_one_for_one: dynamic children of the template's class") {
  airs::runtime rt(airs::config().workers(2));
  auto pool = rt.start_supervisor(
      airs::supervisor_spec(airs::strategy::simple_one_for_one)
          .child(airs::worker<worker>("template", std::int64_t{0})
                     .restart(airs::restart::temporary)));
  auto d1 = pool.start_dynamic_child<worker>(std::int64_t{11});
  auto d2 = pool.start_dynamic_child<worker>(std::int64_t{22});
  CHECK(rt.call(d1, get_total{}, 1s).value == 11);
  CHECK(rt.call(d2, get_total{}, 1s).value == 22);
  CHECK(pool.count_children().active == 2);
  try {
    pool.start_dynamic_child<other>();
    FAIL("another class than the template's must throw");
  } catch (const airs::error& e) {
    CHECK(e.status() == AIRS_EINVAL);
  }
  pool.terminate_child(d1);
  CHECK(pool.count_children().active == 1);
}

TEST_CASE("bad specs throw when the supervisor starts") {
  airs::runtime rt(airs::config().workers(0));
  auto dup = airs::supervisor_spec()
                 .child(airs::worker<worker>("a", std::int64_t{0}))
                 .child(airs::worker<worker>("a", std::int64_t{0}));
  try {
    rt.start_supervisor(dup);
    FAIL("a repeated id must throw");
  } catch (const airs::error& e) {
    CHECK(e.status() == AIRS_EEXIST);
  }
  auto empty_id =
      airs::supervisor_spec().child(airs::worker<worker>("", std::int64_t{0}));
  CHECK_THROWS_AS(rt.start_supervisor(empty_id), airs::error);
  auto zero_period = airs::supervisor_spec().intensity(1, 0ms);
  CHECK_THROWS_AS(rt.start_supervisor(zero_period), airs::error);
  CHECK_THROWS_AS(airs::supervisor_spec().intensity(1, -1s), airs::error);
  CHECK(rt.stats().processes_alive == 0);
}

TEST_CASE("a child whose constructor throws fails the start with its text") {
  struct fragile : airs::actor<fragile, add> {
    fragile() { throw std::runtime_error("no resources"); }
    void on(const add&) {}
  };
  airs::runtime rt(airs::config().workers(0));
  auto spec = airs::supervisor_spec()
                  .child(airs::worker<worker>("ok", std::int64_t{0}))
                  .child(airs::worker<fragile>("bad"));
  try {
    rt.start_supervisor(spec);
    FAIL("must throw");
  } catch (const airs::error& e) {
    CHECK(e.status() == AIRS_EINVAL);
    CHECK(std::string(e.what()).find("no resources") != std::string::npos);
  }
  rt.run_until_idle();
  CHECK(rt.stats().processes_alive == 0);
}

TEST_CASE("health(): a child that reports FAILED is restarted") {
  struct sick : airs::actor<sick, add> {
    void on(const add&) {}
    airs_health health() { return AIRS_HEALTH_FAILED; }
  };
  airs::runtime rt(airs::config().workers(0).manual_clock(true));
  auto sup = rt.start_supervisor(airs::supervisor_spec()
                                     .intensity(10, 1s)
                                     .health_checks(10ms, 5ms, 1)
                                     .child(airs::worker<sick>("s")));
  auto first = sup.child<sick::handle>("s");
  REQUIRE(first);
  for (int i = 0; i < 5; i++) {
    rt.advance_time(10ms);
    rt.run_until_idle();
  }
  auto now = sup.child<sick::handle>("s");
  REQUIRE(now);
  CHECK(*now != *first);
  CHECK(rt.stats().restarts >= 1);
}
