// test_actors.cpp - airs.hpp's actors: typed sends, copied and owned
// messages, handlers, replies, exceptions, exit reasons, links and
// monitors. Host-driven runtimes (workers 0) make most of it deterministic;
// the last cases run on worker threads.
#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <string>
#include <type_traits>

#include "messages.hpp"

using namespace cpp_test;
using namespace std::chrono_literals;

namespace {

airs::runtime host_driven() {
  return airs::runtime(airs::config().workers(0));
}

struct counter : airs::actor<counter, add, get_total, note, parcel, crash,
                             point, ignored_request, counted> {
  explicit counter(journal* j = nullptr) : log(j) {}
  void on(const add& m) { sum += m.n; }
  total on(const get_total&) { return {sum}; }
  void on(const note& n) {
    if (log) log->add("note " + n.text);
  }
  void on(parcel& p) {
    kept = std::move(p.content);
    if (log) log->add("parcel " + *kept);
  }
  void on(const crash&) { throw std::runtime_error("asked to crash"); }
  void on(point p) { sum += p.x * p.y; }
  // A handler of a request that returns void answers nothing now; it may
  // answer later with reply_to(correlation, ...). Here it never does.
  void on(const ignored_request&) { deferred = correlation(); }
  void on(const counted&) {}
  void on_stop(const airs::exit_reason& r) {
    if (log) log->add("stop " + r.describe());
  }
  journal* log;
  std::int64_t sum = 0;
  std::unique_ptr<std::string> kept;
  std::uint64_t deferred = 0;
};

// Monitors the pids it is sent and writes each DOWN to the journal.
struct watch {
  static constexpr std::uint64_t airs_tag = 20;
  airs::pid who;
};
struct watcher : airs::actor<watcher, watch> {
  explicit watcher(journal* j) : log(j) {}
  void on(const watch& w) { monitor(w.who); }
  void on_down(const airs::down_msg& d) {
    log->add("down " + d.reason.describe());
  }
  journal* log;
};

struct picky : airs::actor<picky, add> {
  explicit picky(bool fail_in_start) : fail(fail_in_start) {
    if (!fail) throw std::runtime_error("constructor refused");
  }
  void on_start() {
    if (fail) throw airs::error(AIRS_ELIMIT, "on_start refused");
  }
  void on(const add&) {}
  bool fail;
};

}  // namespace

TEST_CASE("typed pids: accepted types are checked at compile time") {
  using ab = airs::typed_pid<add, note>;
  using a = airs::typed_pid<add>;
  static_assert(ab::accepts<add> && ab::accepts<const note&>);
  static_assert(!ab::accepts<total>);
  static_assert(std::is_convertible<ab, a>::value, "wider to narrower");
  static_assert(!std::is_convertible<a, ab>::value, "never narrower to wider");
  static_assert(std::is_trivially_copyable<ab>::value, "travels in messages");
  static_assert(
      std::is_same<counter::handle,
                   airs::typed_pid<add, get_total, note, parcel, crash, point,
                                   ignored_request, counted>>::value);
  CHECK(!ab());
  CHECK(ab::unchecked(5).id() == 5);
  CHECK(a(ab::unchecked(7)).id() == 7);
}

TEST_CASE("copied, owned and trait-tagged messages reach their handlers") {
  journal j;
  auto rt = host_driven();
  auto c = rt.spawn<counter>(&j);
  for (int i = 1; i <= 10; i++) rt.send(c, add{i});
  rt.send(c, point{3, 4});
  rt.send(c, note{"hello"});
  rt.send(c, parcel{std::make_unique<std::string>("box")});
  total t = rt.call(c, get_total{}, 1s);
  CHECK(t.value == 55 + 12);
  CHECK(j.get() == std::vector<std::string>{"note hello", "parcel box"});
  rt.stop(c);
  rt.run_until_idle();
  CHECK(!rt.is_alive(c));
  CHECK(j.get().back() == "stop shutdown");
}

TEST_CASE("an owned message is destroyed exactly once, sent or not") {
  {
    auto rt = host_driven();
    auto c = rt.spawn<counter>();
    rt.send(c, counted{});
    CHECK(counted::alive == 1);  // in the mailbox
    rt.run_until_idle();
    CHECK(counted::alive == 0);  // handled and freed
    rt.send(c, counted{});
    CHECK(counted::alive == 1);
  }  // freed with the runtime, undelivered
  CHECK(counted::alive == 0);
  auto rt = host_driven();
  auto c = rt.spawn<counter>();
  rt.kill(c);
  rt.run_until_idle();
  try {
    rt.send(c, counted{});
    FAIL("a send to an ended process must throw");
  } catch (const airs::error& e) {
    CHECK(e.status() == AIRS_ENOPROC);
    CHECK(std::string(e.what()).find("AIRS_ENOPROC") != std::string::npos);
  }
  CHECK(counted::alive == 0);
  CHECK(rt.try_send(c, add{1}) == AIRS_ENOPROC);
}

TEST_CASE("an exception in a handler ends the process with an error reason") {
  journal j;
  auto rt = host_driven();
  auto w = rt.spawn<watcher>(&j);
  auto c = rt.spawn<counter>(&j);
  rt.send(w, watch{c.id()});
  rt.run_until_idle();
  rt.send(c, crash{});
  rt.run_until_idle();
  CHECK(!rt.is_alive(c));
  auto lines = j.get();
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "stop error -1: asked to crash");
  CHECK(lines[1] == "down error -1: asked to crash");
}

TEST_CASE("a malformed message under a C++ type's tag ends the actor") {
  journal j;
  auto rt = host_driven();
  auto w = rt.spawn<watcher>(&j);
  auto c1 = rt.spawn<counter>(&j);
  auto c2 = rt.spawn<counter>(&j);
  rt.send(w, watch{c1.id()});
  rt.send(w, watch{c2.id()});
  rt.run_until_idle();
  // A copied type with the wrong size.
  std::int32_t small = 1;
  REQUIRE(airs_send(rt.c_runtime(), c1.id(), add::airs_tag, &small,
                    sizeof small) == AIRS_OK);
  // Bytes where an owned box should be: the check word does not match.
  unsigned char junk[sizeof(std::uint64_t) + sizeof(note)] = {};
  REQUIRE(airs_send(rt.c_runtime(), c2.id(), note::airs_tag, junk,
                    sizeof junk) == AIRS_OK);
  rt.run_until_idle();
  CHECK(!rt.is_alive(c1));
  CHECK(!rt.is_alive(c2));
  int stops = 0;
  for (const std::string& line : j.get()) {
    if (line.rfind("stop", 0) != 0) continue;
    stops++;
    CHECK(line.find("error 1: malformed message") != std::string::npos);
  }
  CHECK(stops == 2);
}

TEST_CASE("a message of no listed type goes to on_unexpected") {
  struct listener : airs::actor<listener, add> {
    explicit listener(journal* j) : log(j) {}
    void on(const add&) {}
    void on_unexpected(const airs::envelope& e) {
      log->add("unexpected " + std::to_string(e.tag()) + " " +
               std::to_string(e.size()));
    }
    journal* log;
  };
  journal j;
  auto rt = host_driven();
  auto l = rt.spawn<listener>(&j);
  REQUIRE(airs_send(rt.c_runtime(), l.id(), 999, "abc", 3) == AIRS_OK);
  rt.run_until_idle();
  CHECK(rt.is_alive(l));
  CHECK(j.get() == std::vector<std::string>{"unexpected 999 3"});
  // The default on_unexpected ignores it.
  auto c = rt.spawn<counter>();
  REQUIRE(airs_send(rt.c_runtime(), c.id(), 999, nullptr, 0) == AIRS_OK);
  rt.run_until_idle();
  CHECK(rt.is_alive(c));
}

TEST_CASE("a failing constructor or on_start fails the spawn with its text") {
  auto rt = host_driven();
  try {
    rt.spawn<picky>(false);
    FAIL("spawn must throw");
  } catch (const airs::error& e) {
    CHECK(e.status() == AIRS_EINVAL);
    CHECK(std::string(e.what()).find("constructor refused") !=
          std::string::npos);
  }
  try {
    rt.spawn<picky>(true);
    FAIL("spawn must throw");
  } catch (const airs::error& e) {
    CHECK(e.status() == AIRS_ELIMIT);
    CHECK(std::string(e.what()).find("on_start refused") != std::string::npos);
  }
  CHECK(rt.stats().processes_alive == 0);
}

TEST_CASE("call: timeouts, ended callees and bad arguments are errors") {
  auto rt = host_driven();
  auto c = rt.spawn<counter>();
  try {
    rt.call(c, ignored_request{}, 20ms);
    FAIL("must time out");
  } catch (const airs::error& e) {
    CHECK(e.status() == AIRS_ETIMEDOUT);
  }
  try {
    rt.call(c, get_total{}, -1ms);
    FAIL("a negative timeout must throw");
  } catch (const airs::error& e) {
    CHECK(e.status() == AIRS_EINVAL);
  }
  rt.kill(c);
  rt.run_until_idle();
  try {
    rt.call(c, get_total{}, 1s);
    FAIL("a call to an ended process must throw");
  } catch (const airs::error& e) {
    CHECK(e.status() == AIRS_ENOPROC);
  }
}

// Asks a counter for its total with request(); reports what came back.
struct start_asking {
  static constexpr std::uint64_t airs_tag = 21;
  counter::handle whom;
  bool ignored;
};
struct asker : airs::actor<asker, start_asking> {
  explicit asker(journal* j) : log(j) {}
  void on(const start_asking& s) {
    auto on_reply = [this](const total& t) {
      log->add("reply " + std::to_string(t.value));
    };
    auto on_error = [this](const airs::error& e) {
      log->add(std::string("error ") + airs_strerror(e.status()));
    };
    if (s.ignored)
      request(s.whom, ignored_request{}, 50ms, on_reply, on_error);
    else
      request(s.whom, get_total{}, 1s, on_reply, on_error);
  }
  journal* log;
};

TEST_CASE("request from an actor: the reply or the timeout, once") {
  journal j;
  auto rt = airs::runtime(airs::config().workers(0).manual_clock(true));
  auto c = rt.spawn<counter>();
  auto a = rt.spawn<asker>(&j);
  rt.send(c, add{41});
  rt.send(a, start_asking{c, false});
  rt.run_until_idle();
  CHECK(j.get() == std::vector<std::string>{"reply 41"});
  rt.send(a, start_asking{c, true});
  rt.run_until_idle();
  CHECK(j.get().size() == 1);
  rt.advance_time(60ms);
  rt.run_until_idle();
  CHECK(j.get() ==
        std::vector<std::string>{"reply 41", "error AIRS_ETIMEDOUT"});
}

// Traps exits, spawns linked children, and notes what comes to on_exit.
struct spawn_child {
  static constexpr std::uint64_t airs_tag = 22;
};
struct parent : airs::actor<parent, spawn_child> {
  explicit parent(journal* j) : log(j) {}
  void on_start() { trap_exit(true); }
  void on(const spawn_child&) {
    auto c = spawn_link<counter>();
    send(c, crash{});
  }
  void on_exit(const airs::exit_msg& m) {
    log->add("exit " + m.reason.describe());
    if (m.from == 0) exit(airs::exit_reason::shutdown());
  }
  journal* log;
};

TEST_CASE("links and trapped exits reach on_exit") {
  journal j;
  {
    auto rt = host_driven();
    auto p = rt.spawn<parent>(&j);
    rt.send(p, spawn_child{});
    rt.run_until_idle();
    CHECK(rt.is_alive(p));
    CHECK(j.get() == std::vector<std::string>{"exit error -1: asked to crash"});
  }
  CHECK(j.get().back() == "exit shutdown");
}

TEST_CASE("the default on_exit ends a trapping actor unless normal") {
  struct trapper : airs::actor<trapper, add> {
    void on_start() { trap_exit(true); }
    void on(const add&) {}
  };
  auto rt = host_driven();
  auto t = rt.spawn<trapper>();
  rt.send_exit(t.id(), airs::exit_reason::normal());
  rt.run_until_idle();
  CHECK(rt.is_alive(t));
  rt.send_exit(t.id(), airs::exit_reason::failure(5, "bye"));
  rt.run_until_idle();
  CHECK(!rt.is_alive(t));
}

// Forwards `add`s round a ring of actors on two workers.
struct hop {
  static constexpr std::uint64_t airs_tag = 23;
  std::int64_t left;
};
struct ring_node : airs::actor<ring_node, hop> {
  ring_node(airs::typed_pid<hop>* next, airs::typed_pid<total> done)
      : next_(next), done_(done) {}
  void on(const hop& h) {
    if (h.left == 0)
      send(done_, total{0});
    else
      send(*next_, hop{h.left - 1});
  }
  airs::typed_pid<hop>* next_;
  airs::typed_pid<total> done_;
};
struct finish_line : airs::actor<finish_line, total> {
  void on(const total&) { exit(); }
};

TEST_CASE("on worker threads: a ring of typed actors") {
  airs::runtime rt(airs::config().workers(2));
  auto done = rt.spawn<finish_line>();
  constexpr int n = 50;
  std::vector<airs::typed_pid<hop>> next(n);
  std::vector<airs::typed_pid<hop>> nodes;
  for (int i = 0; i < n; i++)
    nodes.push_back(rt.spawn<ring_node>(&next[i], done));
  // Each node reads its own slot only after the token reaches it.
  for (int i = 0; i < n; i++) next[i] = nodes[(i + 1) % n];
  rt.send(nodes[0], hop{10000});
  CHECK(rt.wait(done, 10s));
  CHECK(rt.stats().messages_delivered >= 10001);
}

TEST_CASE("bad arguments throw airs::error, never crash") {
  CHECK_THROWS_AS(airs::config().workers(-1), airs::error);
  try {
    airs::config().set(static_cast<airs_config_key>(999), 1);
    FAIL("unknown key must throw");
  } catch (const airs::error& e) {
    CHECK(e.status() == AIRS_EINVAL);
  }
  auto rt = host_driven();
  auto c = rt.spawn<counter>();
  CHECK_THROWS_AS(rt.send_after(c, add{1}, -5ms), airs::error);
  CHECK_FALSE(rt.wait(c, 0ms));
  CHECK_THROWS_AS(rt.wait(c, std::chrono::hours(24 * 30)), airs::error);
  airs::typed_pid<add> nobody;
  CHECK_THROWS_AS(rt.send(nobody, add{1}), airs::error);
}

// Answers get_total later, from another handler (gen_server:reply).
struct release {
  static constexpr std::uint64_t airs_tag = 24;
};
struct deferrer : airs::actor<deferrer, get_total, release> {
  void on(const get_total&) { waiting = correlation(); }
  void on(const release&) { reply_to(waiting, total{99}); }
  std::uint64_t waiting = 0;
};
struct ask_deferrer {
  static constexpr std::uint64_t airs_tag = 25;
  deferrer::handle whom;
};
struct patient : airs::actor<patient, ask_deferrer> {
  explicit patient(journal* j) : log(j) {}
  void on(const ask_deferrer& a) {
    request(
        a.whom, get_total{}, 1s,
        [this](const total& t) {
          log->add("reply " + std::to_string(t.value));
        },
        [this](const airs::error& e) { log->add(e.what()); });
  }
  journal* log;
};

TEST_CASE("a request answered later with reply_to") {
  journal j;
  auto rt = host_driven();
  auto d = rt.spawn<deferrer>();
  auto p = rt.spawn<patient>(&j);
  rt.send(p, ask_deferrer{d});
  rt.run_until_idle();
  CHECK(j.get().empty());
  rt.send(d, release{});
  rt.run_until_idle();
  CHECK(j.get() == std::vector<std::string>{"reply 99"});
  // A correlation of 0 names no request: the reply is refused.
  struct bad_reply : airs::actor<bad_reply, release> {
    void on(const release&) { reply_to(0, total{1}); }
  };
  journal k;
  auto w = rt.spawn<watcher>(&k);
  auto b = rt.spawn<bad_reply>();
  rt.send(w, watch{b.id()});
  rt.run_until_idle();
  rt.send(b, release{});
  rt.run_until_idle();
  CHECK_FALSE(rt.is_alive(b));
  REQUIRE(k.get().size() == 1);
  CHECK(k.get()[0].find("down error 1: airs_reply_to: AIRS_EINVAL") == 0);
}

TEST_CASE("ask: a future of the reply, or of the error") {
  airs::runtime rt(airs::config().workers(2));
  auto c = rt.spawn<counter>();
  rt.send(c, add{12});
  std::future<total> reply = rt.ask(c, get_total{}, 1s);
  CHECK(reply.get().value == 12);
  std::future<total> late = rt.ask(c, ignored_request{}, 20ms);
  try {
    late.get();
    FAIL("must time out");
  } catch (const airs::error& e) {
    CHECK(e.status() == AIRS_ETIMEDOUT);
  }
  std::future<total> pending = rt.ask(c, ignored_request{}, 10s);
  rt.kill(c);  // the request then times out...
  rt.close();  // ...unless the runtime stops the asking process first
  try {
    pending.get();
    FAIL("must not have a value");
  } catch (const airs::error& e) {
    CHECK(e.status() == AIRS_EEXITED);
  }
  airs::runtime rt2(airs::config().workers(0));
  auto gone = rt2.spawn<counter>();
  rt2.kill(gone);
  rt2.run_until_idle();
  try {
    rt2.ask(gone, get_total{}, 1s);
    FAIL("an ask of an ended process must throw");
  } catch (const airs::error& e) {
    CHECK(e.status() == AIRS_ENOPROC);
  }
  // Host-driven: the host polls until the future is ready.
  auto here = rt2.spawn<counter>();
  rt2.send(here, add{3});
  std::future<total> polled = rt2.ask(here, get_total{}, 1s);
  while (polled.wait_for(0s) != std::future_status::ready) rt2.poll();
  CHECK(polled.get().value == 3);
}
