// Unit tests of timer.hpp: the timer service, mostly on the manual clock.
#include <doctest/doctest.h>
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "mail/message.hpp"
#include "sched/timer.hpp"

using namespace airs;

namespace {

// Records every fired timer as (target, message type) and frees the message.
struct Fired {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<uint64_t, uint64_t>> log;

  // The service's FireFn, with this recorder as its context.
  static void fire(void* self, uint64_t to, Msg* m) noexcept {
    auto* f = static_cast<Fired*>(self);
    {
      std::lock_guard<std::mutex> lock(f->mu);
      f->log.emplace_back(to, m->type);
    }
    msg_free(m);
    f->cv.notify_all();
  }
  std::vector<uint64_t> types() {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<uint64_t> out;
    for (auto& e : log) out.push_back(e.second);
    return out;
  }
  size_t count() {
    std::lock_guard<std::mutex> lock(mu);
    return log.size();
  }
  // Waits (bounded) until `n` timers have fired.
  bool wait_for(size_t n, std::chrono::milliseconds limit) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, limit, [&] { return log.size() >= n; });
  }
};

Msg* tagged(uint64_t type) {
  Msg* m = msg_new_copy(type, nullptr, 0);
  REQUIRE(m != nullptr);
  return m;
}

using Types = std::vector<uint64_t>;

}  // namespace

// Prints a Types vector in failed assertions.
namespace doctest {
template <>
struct StringMaker<std::vector<uint64_t>> {
  static String convert(const std::vector<uint64_t>& v) {
    std::string out = "{";
    for (size_t i = 0; i < v.size(); i++)
      out += (i ? ", " : "") + std::to_string(v[i]);
    return (out + "}").c_str();
  }
};
}  // namespace doctest

// The config of a runtime with no thread hook (start_thread reads only it).
const airs_config kNoHook;

TEST_CASE("a manual clock starts at 0 and only advance() moves it") {
  Fired f;
  TimerService ts(true, &Fired::fire, &f);
  CHECK(ts.now_ms() == 0);
  CHECK(ts.advance(7));
  CHECK(ts.now_ms() == 7);
  CHECK(ts.advance(0));
  CHECK(ts.now_ms() == 7);
  CHECK(ts.advance(1000000));
  CHECK(ts.now_ms() == 1000007);
}

TEST_CASE("advance() is refused on the real clock") {
  Fired f;
  TimerService ts(false, &Fired::fire, &f);
  uint64_t before = ts.now_ms();
  CHECK_FALSE(ts.advance(1000000));
  CHECK(ts.now_ms() < before + 1000000);
  CHECK(ts.now_ms() >= before);  // monotonic
}

TEST_CASE("timer ids are never 0 and increase") {
  Fired f;
  TimerService ts(true, &Fired::fire, &f);
  uint64_t prev = 0;
  for (int i = 0; i < 5; i++) {
    uint64_t id = ts.add(1, 10, tagged(i));
    CHECK(id != 0);
    CHECK(id > prev);
    prev = id;
  }
  CHECK(ts.free_pending() == 5);
}

TEST_CASE("fire_due fires in deadline order, then in id order") {
  Fired f;
  TimerService ts(true, &Fired::fire, &f);
  ts.add(100, 30, tagged(1));
  ts.add(101, 10, tagged(2));
  ts.add(102, 20, tagged(3));
  ts.add(103, 10, tagged(4));  // same deadline as 2, added later
  ts.add(104, 20, tagged(5));

  CHECK(ts.fire_due() == 0);
  CHECK(f.count() == 0);
  ts.advance(9);
  CHECK(ts.fire_due() == 0);
  ts.advance(1);  // t = 10
  CHECK(ts.fire_due() == 2);
  CHECK(f.types() == Types{2, 4});
  CHECK(ts.fire_due() == 0);  // fired timers are gone
  ts.advance(25);             // t = 35: everything else at once
  CHECK(ts.fire_due() == 3);
  CHECK(f.types() == Types{2, 4, 3, 5, 1});
  // Each went to its own target.
  std::lock_guard<std::mutex> lock(f.mu);
  CHECK(f.log[0].first == 101);
  CHECK(f.log[1].first == 103);
  CHECK(f.log[2].first == 102);
  CHECK(f.log[3].first == 104);
  CHECK(f.log[4].first == 100);
}

TEST_CASE("a deadline is relative to the clock when the timer is added") {
  Fired f;
  TimerService ts(true, &Fired::fire, &f);
  ts.advance(1000);
  ts.add(1, 50, tagged(1));  // due at 1050
  ts.advance(49);
  CHECK(ts.fire_due() == 0);
  ts.add(1, 0, tagged(2));  // due now, at 1049
  CHECK(ts.fire_due() == 1);
  CHECK(f.types() == Types{2});
  ts.advance(1);
  CHECK(ts.fire_due() == 1);
  CHECK(f.types() == Types{2, 1});
}

TEST_CASE("a 0 ms timer is due at once") {
  Fired f;
  TimerService ts(true, &Fired::fire, &f);
  ts.add(9, 0, tagged(77));
  CHECK(ts.next_due_ms() == 0);
  CHECK(ts.fire_due() == 1);
  CHECK(f.types() == Types{77});
  CHECK(ts.next_due_ms() == -1);
}

TEST_CASE("next_due_ms: -1 with nothing pending, 0 when due, else the rest") {
  Fired f;
  TimerService ts(true, &Fired::fire, &f);
  CHECK(ts.next_due_ms() == -1);
  ts.add(1, 15, tagged(1));
  CHECK(ts.next_due_ms() == 15);
  ts.advance(5);
  CHECK(ts.next_due_ms() == 10);
  ts.add(1, 3, tagged(2));  // an earlier one
  CHECK(ts.next_due_ms() == 3);
  ts.advance(3);
  CHECK(ts.next_due_ms() == 0);
  ts.advance(100);
  CHECK(ts.next_due_ms() == 0);  // overdue is still 0, never negative
  CHECK(ts.fire_due() == 2);
  CHECK(ts.next_due_ms() == -1);
}

TEST_CASE("cancel hands the message back and the timer never fires") {
  Fired f;
  TimerService ts(true, &Fired::fire, &f);
  uint64_t a = ts.add(1, 10, tagged(1));
  uint64_t b = ts.add(2, 10, tagged(2));
  uint64_t c = ts.add(3, 20, tagged(3));

  Msg* m = ts.cancel(b);
  REQUIRE(m != nullptr);
  CHECK(m->type == 2);
  msg_free(m);
  CHECK(ts.cancel(b) == nullptr);       // not twice
  CHECK(ts.cancel(999999) == nullptr);  // never existed
  CHECK(ts.cancel(0) == nullptr);

  ts.advance(10);
  CHECK(ts.fire_due() == 1);
  CHECK(f.types() == Types{1});
  CHECK(ts.cancel(a) == nullptr);  // already fired

  // Cancelling the only pending timer leaves nothing due.
  m = ts.cancel(c);
  REQUIRE(m != nullptr);
  msg_free(m);
  CHECK(ts.next_due_ms() == -1);
  ts.advance(1000);
  CHECK(ts.fire_due() == 0);
  CHECK(f.types() == Types{1});
  CHECK(ts.free_pending() == 0);
}

TEST_CASE("a cancelled earliest timer does not hide the next one") {
  Fired f;
  TimerService ts(true, &Fired::fire, &f);
  uint64_t early = ts.add(1, 5, tagged(1));
  ts.add(1, 12, tagged(2));
  msg_free(ts.cancel(early));
  CHECK(ts.next_due_ms() == 12);
  ts.advance(5);
  CHECK(ts.fire_due() == 0);
  ts.advance(7);
  CHECK(ts.fire_due() == 1);
  CHECK(f.types() == Types{2});
}

// Issue 20, item 9: a cancelled timer kept its place in the deadline heap
// until its deadline, so arming and cancelling long timers in a loop (a
// request answered at once, its 10-minute timeout cancelled) grew memory
// without bound. What is held follows what is pending.
TEST_CASE("cancelled timers do not hold memory until their deadline") {
  Fired f;
  TimerService ts(true, &Fired::fire, &f);
  uint64_t kept = ts.add(7, 600000, tagged(7));
  size_t most = 0;
  for (int i = 0; i < 200000; i++) {
    uint64_t id = ts.add(1, 600000, tagged(1));
    REQUIRE(id != 0);
    msg_free(ts.cancel(id));
    most = std::max(most, ts.entries());
  }
  CHECK(most <= 2 * 1 + TimerService::kCompactFloor + 1);
  // Compaction kept the live timer, in order.
  CHECK(ts.next_due_ms() == 600000);
  ts.advance(600000);
  CHECK(ts.fire_due() == 1);
  CHECK(f.types() == Types{7});
  CHECK(ts.cancel(kept) == nullptr);
}

TEST_CASE("free_pending frees what is left and empties the service") {
  Fired f;
  TimerService ts(true, &Fired::fire, &f);
  ts.add(1, 10, tagged(1));
  uint64_t b = ts.add(1, 20, tagged(2));
  ts.add(1, 30, tagged(3));
  ts.add(1, 40, tagged(4));
  msg_free(ts.cancel(b));
  ts.advance(10);
  CHECK(ts.fire_due() == 1);

  CHECK(ts.free_pending() == 2);  // 3 and 4

  CHECK(ts.next_due_ms() == -1);
  ts.advance(1000);
  CHECK(ts.fire_due() == 0);
  CHECK(f.types() == Types{1});
  CHECK(ts.free_pending() == 0);
  // The service stays usable.
  ts.add(1, 1, tagged(5));
  ts.advance(1);
  CHECK(ts.fire_due() == 1);
  CHECK(f.types() == Types{1, 5});
}

TEST_CASE("stop() without a thread is harmless and repeatable") {
  Fired f;
  TimerService ts(true, &Fired::fire, &f);
  ts.stop();
  ts.stop();
  ts.add(1, 0, tagged(1));
  CHECK(ts.fire_due() == 1);  // fire_due still works on the caller's thread
}

TEST_CASE("the timer thread fires a 5 ms timer on the real clock" *
          doctest::timeout(10)) {
  Fired f;
  TimerService ts(false, &Fired::fire, &f);
  REQUIRE(ts.start_thread(kNoHook));
  auto t0 = std::chrono::steady_clock::now();
  uint64_t id = ts.add(42, 5, tagged(7));
  CHECK(id != 0);
  REQUIRE(f.wait_for(1, std::chrono::milliseconds(2000)));
  auto elapsed = std::chrono::steady_clock::now() - t0;
  // Whole-ms clock: a deadline of now+5 may come up to 1 ms early.
  CHECK(elapsed >= std::chrono::milliseconds(4));
  CHECK(f.types() == Types{7});
  {
    std::lock_guard<std::mutex> lock(f.mu);
    CHECK(f.log[0].first == 42);
  }
  CHECK(ts.next_due_ms() == -1);
  CHECK(ts.cancel(id) == nullptr);
  ts.stop();
  CHECK(ts.free_pending() == 0);
}

TEST_CASE("the timer thread: an earlier timer added later wakes it" *
          doctest::timeout(10)) {
  Fired f;
  TimerService ts(false, &Fired::fire, &f);
  REQUIRE(ts.start_thread(kNoHook));
  ts.add(1, 60000, tagged(1));  // the thread now sleeps for a minute...
  ts.add(1, 2, tagged(2));      // ...unless this one wakes it
  uint64_t c = ts.add(1, 1, tagged(3));
  msg_free(ts.cancel(c));  // cancelled before it is due (most likely)
  REQUIRE(f.wait_for(1, std::chrono::milliseconds(2000)));
  Types got = f.types();
  CHECK(got.front() != 1);
  CHECK(std::find(got.begin(), got.end(), 1) == got.end());
  ts.stop();
  CHECK(ts.free_pending() == 1);
}

TEST_CASE("the timer thread on a manual clock fires on advance()" *
          doctest::timeout(10)) {
  Fired f;
  TimerService ts(true, &Fired::fire, &f);
  REQUIRE(ts.start_thread(kNoHook));
  ts.add(5, 10, tagged(1));
  ts.add(5, 20, tagged(2));
  CHECK_FALSE(f.wait_for(1, std::chrono::milliseconds(3)));  // time stands
  ts.advance(10);
  REQUIRE(f.wait_for(1, std::chrono::milliseconds(2000)));
  CHECK(f.types() == Types{1});
  ts.advance(10);
  REQUIRE(f.wait_for(2, std::chrono::milliseconds(2000)));
  CHECK(f.types() == Types{1, 2});
  ts.stop();
  CHECK(ts.free_pending() == 0);
}

TEST_CASE("the destructor joins a running timer thread") {
  Fired f;
  {
    TimerService ts(false, &Fired::fire, &f);
    REQUIRE(ts.start_thread(kNoHook));
    ts.free_pending();
  }  // must not hang or crash
  CHECK(f.count() == 0);
}

namespace {

// A filter that lets through only even message types.
struct EvenOnly {
  int asked = 0;
  static bool pass(void* self, uint64_t, Msg* m) noexcept {
    static_cast<EvenOnly*>(self)->asked++;
    return m->type % 2 == 0;
  }
};

}  // namespace

TEST_CASE("a timer's filter decides at fire time; a dropped message is freed") {
  Fired f;
  EvenOnly even;
  TimerService ts(true, &Fired::fire, &f);
  for (uint64_t t = 1; t <= 4; t++)
    CHECK(ts.add(9, 5, tagged(t), {&EvenOnly::pass, &even}) != 0);
  ts.add(9, 5, tagged(5));  // no filter: always fires
  ts.advance(5);
  CHECK(ts.fire_due() == 5);  // due: all five (two of them dropped)
  CHECK(even.asked == 4);
  CHECK(f.types() == Types{2, 4, 5});
}
