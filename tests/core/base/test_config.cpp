// Unit tests of config.hpp: defaults, key ranges, get/set round trips.
#include <doctest/doctest.h>
#include <cstdint>
#include <string>
#include <thread>

#include "base/config.hpp"
#include "base/error.hpp"

using namespace airs;

namespace {

struct KeyRange {
  airs_config_key key;
  const char* name;
  int64_t min;
  int64_t max;
};

// The ranges documented in <airs/airs.h>.
const KeyRange kRanges[] = {
    {AIRS_CFG_WORKERS, "AIRS_CFG_WORKERS", 0, 1024},
    {AIRS_CFG_MAILBOX_CAPACITY, "AIRS_CFG_MAILBOX_CAPACITY", 0, UINT32_MAX},
    {AIRS_CFG_MAILBOX_POLICY, "AIRS_CFG_MAILBOX_POLICY", AIRS_MAILBOX_FAIL,
     AIRS_MAILBOX_BLOCK},
    {AIRS_CFG_BLOCK_TIMEOUT_MS, "AIRS_CFG_BLOCK_TIMEOUT_MS", 1, 3600000},
    {AIRS_CFG_MAX_PROCESSES, "AIRS_CFG_MAX_PROCESSES", 1, int64_t{1} << 27},
    {AIRS_CFG_SHUTDOWN_TIMEOUT_MS, "AIRS_CFG_SHUTDOWN_TIMEOUT_MS", 0, 3600000},
    {AIRS_CFG_BUDGET, "AIRS_CFG_BUDGET", 1, 1000000},
    {AIRS_CFG_MANUAL_CLOCK, "AIRS_CFG_MANUAL_CLOCK", 0, 1},
    {AIRS_CFG_EVENTS, "AIRS_CFG_EVENTS", 0, 1},
    {AIRS_CFG_POOL_MIN_THREADS, "AIRS_CFG_POOL_MIN_THREADS", 0, 1024},
    {AIRS_CFG_POOL_MAX_THREADS, "AIRS_CFG_POOL_MAX_THREADS", 2, 1024},
    {AIRS_CFG_POOL_SLOW_MAX, "AIRS_CFG_POOL_SLOW_MAX", 1, 1023},
    {AIRS_CFG_POOL_KEEPALIVE_MS, "AIRS_CFG_POOL_KEEPALIVE_MS", 0, 3600000},
    {AIRS_CFG_CRASH_REPORTS, "AIRS_CFG_CRASH_REPORTS", 0, 1},
};

int64_t get(const Config& c, airs_config_key key) {
  int64_t v = -12345;
  REQUIRE(c.get(key, &v) == AIRS_OK);
  return v;
}

std::string last_error() {
  return last_error_message();
}

}  // namespace

TEST_CASE("defaults") {
  Config c;
  unsigned cores = std::thread::hardware_concurrency();
  CHECK(c.workers == (cores ? cores : 1u));
  CHECK(c.workers >= 1);
  CHECK(c.mailbox_capacity == 0);
  CHECK(c.mailbox_policy == AIRS_MAILBOX_FAIL);
  CHECK(c.block_timeout_ms == 1000);
  CHECK(c.max_processes == (1u << 22));
  CHECK(c.shutdown_timeout_ms == 5000);
  CHECK(c.budget == 64);
  CHECK_FALSE(c.manual_clock);
  CHECK(c.events);
  CHECK(c.crash_reports);

  // The same through get().
  CHECK(get(c, AIRS_CFG_WORKERS) == c.workers);
  CHECK(get(c, AIRS_CFG_MAILBOX_CAPACITY) == 0);
  CHECK(get(c, AIRS_CFG_MAILBOX_POLICY) == AIRS_MAILBOX_FAIL);
  CHECK(get(c, AIRS_CFG_BLOCK_TIMEOUT_MS) == 1000);
  CHECK(get(c, AIRS_CFG_MAX_PROCESSES) == (1 << 22));
  CHECK(get(c, AIRS_CFG_SHUTDOWN_TIMEOUT_MS) == 5000);
  CHECK(get(c, AIRS_CFG_BUDGET) == 64);
  CHECK(get(c, AIRS_CFG_MANUAL_CLOCK) == 0);
  CHECK(get(c, AIRS_CFG_EVENTS) == 1);
  CHECK(get(c, AIRS_CFG_CRASH_REPORTS) == 1);
}

TEST_CASE("every key accepts its range and rejects what is outside") {
  for (const KeyRange& k : kRanges) {
    CAPTURE(k.name);
    Config c;
    // Both ends are accepted and read back unchanged.
    CHECK(c.set(k.key, k.min) == AIRS_OK);
    CHECK(get(c, k.key) == k.min);
    CHECK(c.set(k.key, k.max) == AIRS_OK);
    CHECK(get(c, k.key) == k.max);

    // One past either end is refused, with a message naming the key and
    // the range, and the value stays as it was.
    CHECK(c.set(k.key, k.min - 1) == AIRS_EINVAL);
    std::string msg = last_error();
    CHECK(msg.find(k.name) != std::string::npos);
    CHECK(msg.find(std::to_string(k.min) + ".." + std::to_string(k.max)) !=
          std::string::npos);
    CHECK(get(c, k.key) == k.max);

    CHECK(c.set(k.key, k.max + 1) == AIRS_EINVAL);
    CHECK(last_error().find(k.name) != std::string::npos);
    CHECK(get(c, k.key) == k.max);

    // Far outside, including values that would truncate to a valid uint32.
    CHECK(c.set(k.key, INT64_MIN) == AIRS_EINVAL);
    CHECK(c.set(k.key, INT64_MAX) == AIRS_EINVAL);
    CHECK(c.set(k.key, (int64_t{1} << 32) + k.min) == AIRS_EINVAL);
    CHECK(get(c, k.key) == k.max);
  }
}

TEST_CASE("set then get round-trips a middle value of every key") {
  Config c;
  for (const KeyRange& k : kRanges) {
    CAPTURE(k.name);
    int64_t mid = k.min + (k.max - k.min) / 2;
    REQUIRE(c.set(k.key, mid) == AIRS_OK);
    CHECK(get(c, k.key) == mid);
  }
  // The fields took the values.
  CHECK(c.workers == 512);
  CHECK(c.mailbox_capacity == UINT32_MAX / 2);
  CHECK(c.mailbox_policy == AIRS_MAILBOX_DROP_NEWEST);
  CHECK(c.block_timeout_ms == 1800000);
  CHECK(c.max_processes == (1u << 26));
  CHECK(c.shutdown_timeout_ms == 1800000);
  CHECK(c.budget == 500000);
  CHECK_FALSE(c.manual_clock);
  CHECK_FALSE(c.events);  // the middle of 0..1 is 0
  // Setting one key leaves the others alone.
  REQUIRE(c.set(AIRS_CFG_MANUAL_CLOCK, 1) == AIRS_OK);
  CHECK(c.manual_clock);
  CHECK(c.budget == 500000);
  CHECK(c.workers == 512);
}

TEST_CASE("the largest mailbox capacity is not truncated") {
  Config c;
  REQUIRE(c.set(AIRS_CFG_MAILBOX_CAPACITY, UINT32_MAX) == AIRS_OK);
  CHECK(c.mailbox_capacity == UINT32_MAX);
  CHECK(get(c, AIRS_CFG_MAILBOX_CAPACITY) == int64_t{UINT32_MAX});
}

TEST_CASE("AIRS_CFG_EVENTS switches events off and on again") {
  Config c;
  REQUIRE(c.set(AIRS_CFG_EVENTS, 0) == AIRS_OK);
  CHECK_FALSE(c.events);
  CHECK(get(c, AIRS_CFG_EVENTS) == 0);
  CHECK(c.budget == 64);  // nothing else moved
  CHECK_FALSE(c.manual_clock);
  REQUIRE(c.set(AIRS_CFG_EVENTS, 1) == AIRS_OK);
  CHECK(c.events);
  CHECK(get(c, AIRS_CFG_EVENTS) == 1);
  // Not a flag of any value: 2 is refused and changes nothing.
  CHECK(c.set(AIRS_CFG_EVENTS, 2) == AIRS_EINVAL);
  CHECK(last_error().find("AIRS_CFG_EVENTS") != std::string::npos);
  CHECK(c.events);
}

TEST_CASE("workers 0 selects host-driven mode") {
  Config c;
  REQUIRE(c.set(AIRS_CFG_WORKERS, 0) == AIRS_OK);
  CHECK(c.workers == 0);
}

TEST_CASE("unknown keys are refused by set and get") {
  Config c;
  Config before;
  for (int key : {0, 17, 100, -1}) {
    CAPTURE(key);
    auto k = static_cast<airs_config_key>(key);
    CHECK(c.set(k, 1) == AIRS_EINVAL);
    std::string msg = last_error();
    CHECK(msg.find("unknown key") != std::string::npos);
    CHECK(msg.find(std::to_string(key)) != std::string::npos);
    int64_t v = 777;
    CHECK(c.get(k, &v) == AIRS_EINVAL);
    CHECK(v == 777);  // untouched
    CHECK(last_error().find("unknown key") != std::string::npos);
  }
  // Nothing changed.
  CHECK(c.workers == before.workers);
  CHECK(c.budget == before.budget);
  CHECK(c.max_processes == before.max_processes);
}

TEST_CASE("the last error message is per thread") {
  Config c;
  REQUIRE(c.set(AIRS_CFG_BUDGET, 0) == AIRS_EINVAL);
  std::string here = last_error();
  CHECK(here.find("AIRS_CFG_BUDGET") != std::string::npos);
  std::string there = "unset";
  std::thread t([&] {
    there = last_error();
    Config c2;
    (void)c2.set(AIRS_CFG_WORKERS, -1);
  });
  t.join();
  CHECK(there.empty());         // a new thread starts with no message
  CHECK(last_error() == here);  // and the other thread's did not leak here
}

TEST_CASE("fail and failf record the message and return the status") {
  CHECK(fail(AIRS_ESTATE, "plain text") == AIRS_ESTATE);
  CHECK(last_error() == "plain text");
  CHECK(failf(AIRS_ELIMIT, "%s %d", "n =", 42) == AIRS_ELIMIT);
  CHECK(last_error() == "n = 42");
  CHECK(fail(AIRS_EINVAL, nullptr) == AIRS_EINVAL);
  CHECK(last_error().empty());
  // Long messages are cut, never overflow.
  std::string big(2000, 'y');
  CHECK(fail(AIRS_EINVAL, big.c_str()) == AIRS_EINVAL);
  CHECK(last_error().size() < big.size());
  CHECK(last_error().size() > 100);
}
