// test_services.cpp - airs.hpp over the services: topics, timers with
// std::chrono, the registry, and the event hook.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "messages.hpp"

using namespace cpp_test;
using namespace std::chrono_literals;

namespace {

airs::runtime manual_host() {
  return airs::runtime(airs::config().workers(0).manual_clock(true));
}

// Writes what it gets to the journal, prefixed by its name.
struct recorder : airs::actor<recorder, add, note, point> {
  recorder(journal* j, std::string name) : log(j), name(std::move(name)) {}
  void on(const add& m) { log->add(name + " add " + std::to_string(m.n)); }
  void on(const note& n) { log->add(name + " note " + n.text); }
  void on(const point& p) {
    log->add(name + " point " + std::to_string(p.x) + "," +
             std::to_string(p.y));
  }
  journal* log;
  std::string name;
};

// Takes `note&` (to move from it): cannot take a published note.
struct note_taker : airs::actor<note_taker, note> {
  void on(note& n) { kept = std::move(n.text); }
  std::string kept;
};

}  // namespace

TEST_CASE("topics: every subscriber gets each publication") {
  journal j;
  auto rt = manual_host();
  auto a = rt.spawn<recorder>(&j, std::string("a"));
  auto b = rt.spawn<recorder>(&j, std::string("b"));
  airs::topic<add> numbers("numbers");
  airs::topic<note> notes("notes");
  numbers.subscribe(rt, a);
  numbers.subscribe(rt, b);
  notes.subscribe(rt, b);
  CHECK(numbers.publish(rt, add{7}) == 2);
  CHECK(notes.publish(rt, note{"shared"}) == 1);
  rt.run_until_idle();
  auto lines = j.get();
  std::sort(lines.begin(), lines.end());
  CHECK(lines ==
        std::vector<std::string>{"a add 7", "b add 7", "b note shared"});
  CHECK(numbers.unsubscribe(rt, a));
  CHECK_FALSE(numbers.unsubscribe(rt, a));
  CHECK(numbers.publish(rt, add{8}) == 1);
  CHECK(airs::topic<add>("nobody").publish(rt, add{1}) == 0);
  CHECK_THROWS_AS(airs::topic<add>("").subscribe(rt, a), airs::error);
}

TEST_CASE("a published message and a handler that takes T&: error exit") {
  auto rt = manual_host();
  auto t = rt.spawn<note_taker>();
  airs::topic<note> notes("notes");
  notes.subscribe(rt, t);
  // Sent directly, the note is this process's own: it may move from it.
  rt.send(t, note{"mine"});
  rt.run_until_idle();
  CHECK(rt.is_alive(t));
  // Published, it is shared: the handler cannot have it as note&.
  CHECK(notes.publish(rt, note{"shared"}) == 1);
  rt.run_until_idle();
  CHECK_FALSE(rt.is_alive(t));
}

TEST_CASE("timers: send_after with std::chrono, and cancel") {
  journal j;
  auto rt = manual_host();
  auto r = rt.spawn<recorder>(&j, std::string("r"));
  rt.send_after(r, add{1}, 100ms);
  std::uint64_t second = rt.send_after(r, note{"later"}, 1s);
  rt.send_after(r, point{1, 2}, 1500us);  // rounded up to 2 ms
  rt.run_until_idle();
  CHECK(j.get().empty());
  rt.advance_time(2ms);
  rt.run_until_idle();
  CHECK(j.get() == std::vector<std::string>{"r point 1,2"});
  rt.advance_time(98ms);
  rt.run_until_idle();
  CHECK(j.get().size() == 2);
  CHECK(rt.cancel_timer(second));
  CHECK_FALSE(rt.cancel_timer(second));
  rt.advance_time(2s);
  rt.run_until_idle();
  CHECK(j.get() == std::vector<std::string>{"r point 1,2", "r add 1"});
  rt.kill(r);
  rt.run_until_idle();
  try {
    rt.send_after(r, note{"gone"}, 1ms);
    FAIL("a timer for an ended process must throw");
  } catch (const airs::error& e) {
    CHECK(e.status() == AIRS_ENOPROC);
  }
}

TEST_CASE("the registry: names, typed lookups, errors") {
  auto rt = manual_host();
  journal j;
  auto r = rt.spawn<recorder>(&j, std::string("r"));
  rt.register_name("rec", r);
  auto found = rt.whereis<airs::typed_pid<add>>("rec");
  REQUIRE(found);
  CHECK(found->id() == r.id());
  rt.send(*found, add{3});
  rt.run_until_idle();
  CHECK(j.get() == std::vector<std::string>{"r add 3"});
  CHECK_FALSE(rt.whereis("nobody"));
  try {
    rt.register_name("rec", rt.spawn<recorder>(&j, std::string("s")));
    FAIL("a taken name must throw");
  } catch (const airs::error& e) {
    CHECK(e.status() == AIRS_EEXIST);
  }
  CHECK_THROWS_AS(rt.register_name("", r), airs::error);
  CHECK_THROWS_AS(rt.register_name(std::string(AIRS_NAME_MAX + 1, 'x'), r),
                  airs::error);
  CHECK(rt.unregister_name("rec"));
  CHECK_FALSE(rt.unregister_name("rec"));
  rt.register_name("rec", r);
  rt.stop(r);
  rt.run_until_idle();
  CHECK_FALSE(rt.whereis("rec"));  // released when the process ended
}

TEST_CASE("the event hook sees spawns and exits") {
  journal j;
  airs::runtime rt(airs::config().workers(0));
  rt.set_event_hook([&j](const airs_event& e) {
    if (e.kind == AIRS_EVENT_PROCESS_EXITED)
      j.add(std::string("exited ") + (e.reason ? "with reason" : ""));
  });
  auto r = rt.spawn<recorder>(&j, std::string("r"));
  rt.stop(r);
  rt.run_until_idle();
  rt.set_event_hook(nullptr);
  CHECK(j.get() == std::vector<std::string>{"exited with reason"});
}

TEST_CASE("pools: join, pick in turn, leave") {
  journal j;
  auto rt = manual_host();
  auto a = rt.spawn<recorder>(&j, std::string("a"));
  auto b = rt.spawn<recorder>(&j, std::string("b"));
  using add_pid = airs::typed_pid<add>;
  CHECK_FALSE(rt.pool_pick<add_pid>("workers"));
  rt.pool_join("workers", a.id());
  rt.pool_join("workers", b.id());
  for (int i = 0; i < 4; i++)
    rt.send(*rt.pool_pick<add_pid>("workers"), add{i});
  rt.run_until_idle();
  auto lines = j.get();
  std::sort(lines.begin(), lines.end());
  CHECK(lines ==
        std::vector<std::string>{"a add 0", "a add 2", "b add 1", "b add 3"});
  CHECK(rt.pool_leave("workers", a.id()));
  CHECK_FALSE(rt.pool_leave("workers", a.id()));
  CHECK(rt.pool_pick<add_pid>("workers")->id() == b.id());
  CHECK_THROWS_AS(rt.pool_join("", a.id()), airs::error);
}
