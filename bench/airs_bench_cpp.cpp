/*
 * airs-bench-cpp - the pingpong and ring workloads of ../shared/BENCH.md
 * written with airs.hpp (typed actors) instead of the C API, to measure
 * what the C++ layer costs. The workloads, their sizes, what is timed and
 * the JSON line are the same as airs-bench's (bench/airs_bench.c), with
 * "impl":"airs-cpp"; bench/compare_cpp runs the two side by side.
 *
 *   airs-bench-cpp [--workers N] pingpong [M] | ring [N [M]]
 *
 * AIRS_BUDGET=N in the environment sets AIRS_CFG_BUDGET, as for airs-bench.
 */
#include <airs/airs.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

int workers = 2;

double now_s() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

void report(const char* workload, const std::string& params, double ops,
            double secs) {
  std::printf(
      "{\"impl\":\"airs-cpp\",\"workload\":\"%s\",\"params\":{%s},"
      "\"ops\":%.0f,\"seconds\":%.6f,\"ops_per_s\":%.1f,\"ns_per_op\":%.2f,"
      "\"workers\":%d}\n",
      workload, params.c_str(), ops, secs, ops / secs, secs * 1e9 / ops,
      workers);
  std::fflush(stdout);
}

airs::runtime runtime_new() {
  airs::config cfg;
  cfg.workers(workers);
  if (const char* budget = std::getenv("AIRS_BUDGET"))
    cfg.budget(static_cast<std::uint32_t>(std::atol(budget)));
  return airs::runtime(cfg);
}

/* ---- pingpong M: two actors send a counter back and forth M round trips */

struct ball {
  static constexpr std::uint64_t airs_tag = 1;
  std::int64_t n;
};
using ball_pid = airs::typed_pid<ball>;

struct pong : airs::actor<pong, ball> {
  void on(const ball& b) { send(sender_as<ball_pid>(), b); }
};

struct ping : airs::actor<ping, ball> {
  ping(std::int64_t rounds, ball_pid pong) : rounds(rounds), pong(pong) {}
  void on(const ball& b) {
    std::int64_t n = b.n + 1;
    if (n >= rounds) return exit();
    send(pong, ball{n});
  }
  std::int64_t rounds;
  ball_pid pong;
};

void run_pingpong(long m) {
  airs::runtime rt = runtime_new();
  double t0 = now_s();
  auto pong_pid = rt.spawn<pong>();
  auto ping_pid = rt.spawn<ping>(std::int64_t{m}, ball_pid(pong_pid));
  rt.send(ping_pid, ball{-1});  // the first ball
  rt.wait(ping_pid, std::chrono::minutes(10));
  double secs = now_s() - t0;
  report("pingpong", "\"m\":" + std::to_string(m), 2.0 * double(m), secs);
}

/* ---- ring N M: N actors in a ring pass one token M hops */

struct token {
  static constexpr std::uint64_t airs_tag = 1;
  std::int64_t hops;
};
struct done {
  static constexpr std::uint64_t airs_tag = 2;
};

struct finish_line : airs::actor<finish_line, done> {
  void on(const done&) { exit(); }
};

// Learns its successor from a message during the setup (not timed), the
// actor way of airs-bench's ring_node.next.
struct next_is {
  static constexpr std::uint64_t airs_tag = 3;
  airs::typed_pid<token> next;
};

struct ring_node : airs::actor<ring_node, token, next_is> {
  explicit ring_node(finish_line::handle finish) : finish(finish) {}
  void on(const token& t) {
    if (t.hops == 0) return send(finish, done{});
    send(next, token{t.hops - 1});
  }
  void on(const next_is& m) { next = m.next; }
  airs::typed_pid<token> next;
  finish_line::handle finish;
};

void run_ring(long n, long m) {
  airs::runtime rt = runtime_new();
  std::vector<ring_node::handle> nodes;
  nodes.reserve(std::size_t(n));
  auto finish = rt.spawn<finish_line>();
  for (long i = 0; i < n; i++) nodes.push_back(rt.spawn<ring_node>(finish));
  // FIFO per sender and receiver: each node has its successor before the
  // token, which is sent after these from the same thread.
  for (long i = 0; i < n; i++)
    rt.send(nodes[std::size_t(i)], next_is{nodes[std::size_t((i + 1) % n)]});
  double t0 = now_s();
  rt.send(nodes[0], token{m});
  rt.wait(finish, std::chrono::minutes(10));
  double secs = now_s() - t0;
  report("ring", "\"n\":" + std::to_string(n) + ",\"m\":" + std::to_string(m),
         double(m), secs);
}

long count_arg(int argc, char** argv, int i, long fallback, long lo, long hi,
               const char* name) {
  if (i >= argc) return fallback;
  char* end = nullptr;
  long v = std::strtol(argv[i], &end, 10);
  if (*argv[i] == '\0' || *end != '\0' || v < lo || v > hi) {
    std::fprintf(stderr, "airs-bench-cpp: %s must be a number in %ld..%ld\n",
                 name, lo, hi);
    std::exit(2);
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  int i = 1;
  if (i + 1 < argc && std::strcmp(argv[i], "--workers") == 0) {
    workers = int(count_arg(argc, argv, i + 1, 2, 1, 1024, "--workers"));
    i += 2;
  }
  if (i >= argc) {
    std::fprintf(stderr,
                 "usage: airs-bench-cpp [--workers N] pingpong [M] | "
                 "ring [N [M]]\n");
    return 2;
  }
  const char* w = argv[i++];
  try {
    if (std::strcmp(w, "pingpong") == 0 && argc - i <= 1) {
      run_pingpong(count_arg(argc, argv, i, 1000000, 1, 1000000000, "M"));
    } else if (std::strcmp(w, "ring") == 0 && argc - i <= 2) {
      run_ring(count_arg(argc, argv, i, 1000, 1, 10000000, "N"),
               count_arg(argc, argv, i + 1, 1000000, 0, 1000000000, "M"));
    } else {
      std::fprintf(stderr,
                   "airs-bench-cpp: unknown workload or too many "
                   "arguments: '%s'\n",
                   w);
      return 2;
    }
  } catch (const airs::error& e) {
    std::fprintf(stderr, "airs-bench-cpp: %s\n", e.what());
    return 1;
  }
  return 0;
}
