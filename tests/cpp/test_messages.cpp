// test_messages.cpp - airs::message<T> (an owned envelope) and
// airs::payload<T> (a shared, refcounted T): who owns what, when it is
// freed, and that a shared T is never copied.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "messages.hpp"

using namespace cpp_test;
using namespace std::chrono_literals;

namespace {

airs::runtime host_driven() {
  return airs::runtime(airs::config().workers(0));
}

// A big value that is not trivially copyable: where each receiver saw it.
struct blob {
  static constexpr std::uint64_t airs_tag = 20;
  std::vector<int> numbers;
};
struct show_kept {
  static constexpr std::uint64_t airs_tag = 21;
  using reply_type = total;
};

struct logger : airs::actor<logger, add, note, counted, blob> {
  explicit logger(journal* j) : log(j) {}
  void on(const add& m) { log->add("add " + std::to_string(m.n)); }
  void on(const note& n) { log->add("note " + n.text); }
  void on(const counted&) { log->add("counted"); }
  void on(const blob& b) {
    log->add("blob at " + std::to_string(reinterpret_cast<std::uintptr_t>(&b)) +
             " size " + std::to_string(b.numbers.size()));
  }
  journal* log;
};

// Keeps the last shared blob and counted it got, without copying them.
struct keeper : airs::actor<keeper, blob, counted, show_kept> {
  void on(const blob& b) {
    kept_blob = shared_payload<blob>();
    seen_at = &b;
  }
  void on(const counted&) { kept_counted = shared_payload<counted>(); }
  total on(const show_kept&) {
    if (!kept_blob) return {-1};
    // The kept payload is the very object the handler saw.
    if (&kept_blob.get() != seen_at) return {-2};
    return {static_cast<std::int64_t>(kept_blob->numbers.size())};
  }
  airs::payload<blob> kept_blob;
  airs::payload<counted> kept_counted;
  const blob* seen_at = nullptr;
};

// Sends each add on, times ten and urgent, as a message<add>.
struct forwarder : airs::actor<forwarder, add> {
  explicit forwarder(logger::handle to) : to(to) {}
  void on(const add& m) {
    airs::message<add> out(add{m.n * 10});
    out.set_priority(AIRS_PRIORITY_HIGH);
    send(to, std::move(out));
    if (out) throw std::runtime_error("the send did not take the message");
  }
  logger::handle to;
};

}  // namespace

TEST_CASE("message<T>: a high priority message overtakes waiting ones") {
  journal j;
  auto rt = host_driven();
  auto l = rt.spawn<logger>(&j);
  rt.send(l, add{1});
  rt.send(l, add{2});
  airs::message<add> urgent(add{99});
  CHECK(urgent.priority() == AIRS_PRIORITY_NORMAL);
  urgent.set_priority(AIRS_PRIORITY_HIGH);
  CHECK(urgent.priority() == AIRS_PRIORITY_HIGH);
  CHECK(urgent.size() == sizeof(add));
  CHECK(airs::message<add>::tag() == add::airs_tag);
  rt.send(l, std::move(urgent));
  CHECK_FALSE(urgent);  // the send took it
  rt.run_until_idle();
  CHECK(j.get() == std::vector<std::string>{"add 99", "add 1", "add 2"});
  CHECK_THROWS_AS(urgent.set_priority(AIRS_PRIORITY_HIGH), airs::error);
  airs::message<add> bad(add{1});
  CHECK_THROWS_AS(bad.set_priority(static_cast<airs_priority>(7)), airs::error);
}

TEST_CASE("message<T>: a failed send leaves it with the caller") {
  journal j;
  auto rt = host_driven();
  auto l = rt.spawn<logger>(&j);
  auto gone = rt.spawn<logger>(&j);
  rt.kill(gone);
  rt.run_until_idle();

  airs::message<note> m(note{"kept"});
  try {
    rt.send(gone, std::move(m));
    FAIL("a send to an ended process must throw");
  } catch (const airs::error& e) {
    CHECK(e.status() == AIRS_ENOPROC);
  }
  CHECK(m);  // still ours: send it elsewhere
  CHECK(rt.try_send(gone, std::move(m)) == AIRS_ENOPROC);
  CHECK(m);
  rt.send(l, std::move(m));
  CHECK_FALSE(m);
  rt.run_until_idle();
  CHECK(j.get() == std::vector<std::string>{"note kept"});

  // An empty (sent) message is a clear error, never a crash.
  try {
    rt.send(l, std::move(m));
    FAIL("sending an empty message must throw");
  } catch (const airs::error& e) {
    CHECK(e.status() == AIRS_EINVAL);
  }
  CHECK(rt.try_send(l, std::move(m)) == AIRS_EINVAL);
}

TEST_CASE("message<T>: try_send on a full mailbox keeps it for a retry") {
  journal j;
  auto rt = host_driven();
  airs::spawn_options o;
  o.mailbox_capacity = 1;
  o.mailbox_policy = AIRS_MAILBOX_FAIL;
  auto l = rt.spawn_opts<logger>(o, &j);
  rt.send(l, add{1});
  airs::message<add> m(add{2});
  CHECK(rt.try_send(l, std::move(m)) == AIRS_EFULL);
  CHECK(m);
  rt.run_until_idle();  // room again
  CHECK(rt.try_send(l, std::move(m)) == AIRS_OK);
  CHECK_FALSE(m);
  rt.run_until_idle();
  CHECK(j.get() == std::vector<std::string>{"add 1", "add 2"});
}

TEST_CASE("message<T>: the T in it is destroyed once, sent or not") {
  REQUIRE(counted::alive == 0);
  {
    journal j;
    auto rt = host_driven();
    auto l = rt.spawn<logger>(&j);
    {
      airs::message<counted> unsent{counted{}};
      CHECK(counted::alive == 1);
    }
    CHECK(counted::alive == 0);  // freed with the unsent message

    airs::message<counted> a{counted{}};
    airs::message<counted> b{counted{}};
    CHECK(counted::alive == 2);
    b = std::move(a);  // b's old T goes
    CHECK(counted::alive == 1);
    CHECK_FALSE(a);
    airs::message<counted> c(std::move(b));
    rt.send(l, std::move(c));
    CHECK(counted::alive == 1);  // in the mailbox
    rt.run_until_idle();
    CHECK(counted::alive == 0);  // handled, freed
    CHECK(j.get() == std::vector<std::string>{"counted"});

    // release(): the C message is the caller's to free.
    airs::message<counted> d{counted{}};
    airs_msg* raw = d.release();
    CHECK_FALSE(d);
    CHECK(counted::alive == 1);
    airs_msg_free(raw);
    CHECK(counted::alive == 0);
  }
  CHECK(counted::alive == 0);
}

TEST_CASE("message<T>: send_after and an actor's send take one") {
  journal j;
  auto rt = airs::runtime(airs::config().workers(0).manual_clock(true));
  auto l = rt.spawn<logger>(&j);
  airs::message<note> later(note{"later"});
  std::uint64_t timer = rt.send_after(l, std::move(later), 50ms);
  CHECK(timer != 0);
  CHECK_FALSE(later);
  rt.advance_time(50ms);
  rt.run_until_idle();
  CHECK(j.get() == std::vector<std::string>{"note later"});

  // A timer that cannot start leaves the message with the caller.
  airs::message<note> refused(note{"refused"});
  CHECK_THROWS_AS(rt.send_after(l, std::move(refused), -1ms), airs::error);
  CHECK(refused);
  auto gone = rt.spawn<logger>(&j);
  rt.kill(gone);
  rt.run_until_idle();
  try {
    rt.send_after(gone, std::move(refused), 1ms);
    FAIL("a timer for an ended process must throw");
  } catch (const airs::error& e) {
    CHECK(e.status() == AIRS_ENOPROC);
  }
  CHECK(refused);

  // From inside an actor: the fast path, the same rules.
  auto f = rt.spawn<forwarder>(l);
  rt.send(f, add{4});
  rt.run_until_idle();
  CHECK(rt.is_alive(f));
  CHECK(j.get().back() == "add 40");
}

TEST_CASE("payload<T>: copies share one T; the last reference frees it") {
  REQUIRE(counted::alive == 0);
  {
    airs::payload<counted> p{counted{}};
    CHECK(counted::alive == 1);
    airs::payload<counted> q = p;  // a reference, not a copy of the T
    CHECK(counted::alive == 1);
    CHECK(&p.get() == &q.get());
    airs::payload<counted> r = std::move(p);
    CHECK_FALSE(p);
    CHECK(&r.get() == &q.get());
    q = airs::payload<counted>();
    CHECK(counted::alive == 1);
  }
  CHECK(counted::alive == 0);

  airs::payload<add> small(add{5});
  CHECK(small->n == 5);
  CHECK((*small).n == 5);
  CHECK(airs_payload_size(small.c_payload()) == sizeof(add));
}

TEST_CASE("payload<T>: sent to many processes with no copy of T") {
  journal j;
  auto rt = host_driven();
  std::vector<logger::handle> to;
  for (int i = 0; i < 3; i++) to.push_back(rt.spawn<logger>(&j));
  airs::payload<blob> big(blob{std::vector<int>(1000, 7)});
  const std::string at =
      "blob at " + std::to_string(reinterpret_cast<std::uintptr_t>(&*big)) +
      " size 1000";
  rt.send(to[0], big);  // a payload is sent by reference: big stays ours
  airs::message<blob> m(big);
  m.set_priority(AIRS_PRIORITY_HIGH);
  rt.send(to[1], std::move(m));
  airs::topic<blob> blobs("blobs");
  blobs.subscribe(rt, to[2]);
  CHECK(blobs.publish(rt, big) == 1);
  rt.run_until_idle();
  CHECK(j.get() == std::vector<std::string>{at, at, at});
  CHECK(big->numbers.size() == 1000);

  // An empty payload is refused with EINVAL wherever it goes.
  airs::payload<blob> none;
  CHECK_THROWS_AS(rt.send(to[0], none), airs::error);
  CHECK(rt.try_send(to[0], none) == AIRS_EINVAL);
  CHECK_THROWS_AS(blobs.publish(rt, none), airs::error);
  CHECK_THROWS_AS(airs::message<blob>{none}, airs::error);
}

TEST_CASE("shared_payload: a handler keeps what it got, no copy") {
  REQUIRE(counted::alive == 0);
  auto rt = host_driven();
  auto k = rt.spawn<keeper>();
  airs::topic<blob> blobs("blobs");
  airs::topic<counted> counts("counts");
  blobs.subscribe(rt, k);
  counts.subscribe(rt, k);
  CHECK(blobs.publish(rt, blob{std::vector<int>(42, 1)}) == 1);
  CHECK(counts.publish(rt, counted{}) == 1);
  rt.run_until_idle();
  CHECK(rt.call(k, show_kept{}, 1s).value == 42);  // same object, kept
  CHECK(counted::alive == 1);  // the handled message is gone, its T kept

  // A plain send is the receiver's own message: nothing shared to keep.
  rt.send(k, blob{std::vector<int>(3, 1)});
  rt.run_until_idle();
  CHECK(rt.call(k, show_kept{}, 1s).value == -1);

  rt.stop(k);
  rt.run_until_idle();
  CHECK(counted::alive == 0);  // released with the actor
}

TEST_CASE("adopt_if_fits: a C payload that is not a T is refused") {
  airs_payload* raw = nullptr;
  const char bytes[3] = {1, 2, 3};
  REQUIRE(airs_payload_new(bytes, sizeof bytes, &raw) == AIRS_OK);
  CHECK_FALSE(airs::payload<add>::adopt_if_fits(raw));   // wrong size
  CHECK_FALSE(airs::payload<blob>::adopt_if_fits(raw));  // no box
  CHECK_FALSE(airs::payload<add>::adopt_if_fits(nullptr));
  add a{77};
  airs_payload* fits = nullptr;
  REQUIRE(airs_payload_new(&a, sizeof a, &fits) == AIRS_OK);
  {
    auto p = airs::payload<add>::adopt_if_fits(fits);
    REQUIRE(p);
    CHECK(p->n == 77);
  }
  airs_payload_release(fits);  // ours still; adopt took its own reference
  airs_payload_release(raw);
}
