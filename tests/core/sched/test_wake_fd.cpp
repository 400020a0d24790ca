// Unit tests of the wake-up fd (sched/wake_fd.hpp): a signal after (or
// while) the fd is cleared must leave it readable, or the waiter that
// polls it (a host's loop, the worker waiting in epoll) sleeps through
// the work the signal was for.
#include <doctest/doctest.h>
#include <poll.h>

#include <atomic>
#include <thread>

#include "sched/wake_fd.hpp"

using namespace airs;

namespace {

bool readable(const WakeFd& w) {
  pollfd p{w.fd(), POLLIN, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

}  // namespace

TEST_CASE("a signal makes the fd readable, a clear unreadable, once each") {
  WakeFd w;
  REQUIRE(w.open());
  CHECK_FALSE(readable(w));
  w.signal();
  w.signal();  // coalesced
  CHECK(readable(w));
  w.clear();
  CHECK_FALSE(readable(w));
  w.signal();
  CHECK(readable(w));
}

// A signal from another thread that lands while clear() drains must not
// be lost for good: afterwards, one more signal makes the fd readable.
// Clear and signal start together from a spin barrier, many times over;
// the window is a few instructions wide, so the rounds are many.
TEST_CASE("a signal racing a clear is never lost") {
  WakeFd w;
  REQUIRE(w.open());
  constexpr int kRounds = 200000;
  std::atomic<int> go{0};
  std::atomic<int> done{0};
  std::thread signaller([&] {
    for (int i = 1; i <= kRounds; i++) {
      while (go.load(std::memory_order_acquire) < i) {
      }
      w.signal();
      done.store(i, std::memory_order_release);
    }
  });
  int stuck = 0;
  for (int i = 1; i <= kRounds; i++) {
    w.signal();  // readable and signalled before the race
    go.store(i, std::memory_order_release);
    w.clear();
    while (done.load(std::memory_order_acquire) < i) {
    }
    // Whatever the order was, a signal now must leave the fd readable.
    w.signal();
    if (!readable(w)) stuck++;
    w.clear();
  }
  signaller.join();
  CHECK(stuck == 0);
}
