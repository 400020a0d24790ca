// main.cpp - the chaos test's driver: runs seeds one after another, each
// a fresh seeded runtime (scenario.hpp), under a watchdog, and reports
// seeds per second.
//
//   chaos [--seeds N] [--first S]   N seeds from S (default: 10000 from 1;
//                                   CHAOS_SEEDS in the environment too)
//   chaos --seed N                  one seed, e.g. to replay a failure
//   chaos --replay-check            runs each seed twice and compares the
//                                   traces byte for byte
//   chaos --storm                   faults and supervisor operations in
//                                   any mix, checked without the model
//   chaos --threads                 supervisor operations from plain
//                                   threads too (not repeatable; for TSan)
//
// A failing seed prints "chaos: seed N failed: ..." and the run exits 1.
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "scenario.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

// The watchdog: a seed that runs longer than this has hung somewhere the
// step bound of a settle cannot see (inside a call that waits).
constexpr int kWatchdogSeconds = 60;

std::atomic<uint64_t> current_seed{0};
std::atomic<int64_t> seed_started{0};  // ms since the epoch of clock_type
std::atomic<bool> done{false};

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             clock_type::now().time_since_epoch())
      .count();
}

void watchdog() {
  while (!done.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    int64_t started = seed_started.load();
    if (started && now_ms() - started > kWatchdogSeconds * 1000) {
      std::fprintf(stderr,
                   "chaos: seed %" PRIu64
                   " failed: watchdog: no end after %d s (hang)\n",
                   current_seed.load(), kWatchdogSeconds);
      std::fflush(stderr);
      std::_Exit(1);
    }
  }
}

bool parse_u64(const char* s, uint64_t* out) {
  char* end = nullptr;
  *out = std::strtoull(s, &end, 10);
  return s[0] && end && !*end;
}

int usage() {
  std::fprintf(stderr,
               "usage: chaos [--seeds N] [--first S] [--seed N] "
               "[--replay-check] [--storm | --threads]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t first = 1, count = 10000;
  if (const char* env = std::getenv("CHAOS_SEEDS"))
    if (!parse_u64(env, &count)) return usage();
  bool replay = false;
  chaos::Options opt;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    bool more = i + 1 < argc;
    if (a == "--seeds" && more) {
      if (!parse_u64(argv[++i], &count)) return usage();
    } else if (a == "--first" && more) {
      if (!parse_u64(argv[++i], &first)) return usage();
    } else if (a == "--seed" && more) {
      if (!parse_u64(argv[++i], &first)) return usage();
      count = 1;
    } else if (a == "--replay-check") {
      replay = true;
    } else if (a == "--storm") {
      opt.storm = true;
    } else if (a == "--threads") {
      opt.threads = true;
    } else {
      return usage();
    }
  }
  if (replay && opt.threads) {
    std::fprintf(stderr, "chaos: --threads runs cannot be replayed\n");
    return 2;
  }
  opt.keep_trace = replay;

  std::thread dog(watchdog);
  auto start = clock_type::now();
  uint64_t failed = 0, steps = 0, faults = 0, restarts = 0, gone = 0;
  for (uint64_t seed = first; seed < first + count; seed++) {
    current_seed = seed;
    seed_started = now_ms();
    chaos::Outcome out = chaos::run_seed(seed, opt);
    steps += out.steps;
    faults += out.faults;
    restarts += out.restarts;
    gone += out.root_gone;
    if (out.error.empty() && replay) {
      chaos::Outcome again = chaos::run_seed(seed, opt);
      if (!again.error.empty())
        out.error = "second run: " + again.error;
      else if (again.trace != out.trace)
        out.error = "the second run's trace differs (" +
                    std::to_string(out.steps) + " vs " +
                    std::to_string(again.steps) + " steps)";
    }
    if (!out.error.empty()) {
      std::fprintf(stderr, "chaos: seed %" PRIu64 " failed: %s\n", seed,
                   out.error.c_str());
      if (++failed >= 10) break;
    }
  }
  seed_started = 0;
  done = true;
  dog.join();
  double secs =
      std::chrono::duration<double>(clock_type::now() - start).count();
  std::printf("chaos: %" PRIu64 " seeds from %" PRIu64
              "%s%s in %.1f s: %.0f seeds/s; %" PRIu64 " steps, %" PRIu64
              " faults, %" PRIu64 " restarts, %" PRIu64 " roots gone; %" PRIu64
              " failed\n",
              count, first, replay ? ", each twice" : "",
              opt.threads ? ", with threads"
              : opt.storm ? ", storms"
                          : "",
              secs, secs > 0 ? static_cast<double>(count) / secs : 0.0, steps,
              faults, restarts, gone, failed);
  return failed ? 1 : 0;
}
