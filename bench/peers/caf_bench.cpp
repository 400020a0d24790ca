// caf_bench - the workloads of airs-bench (spawn, pingpong, fanin, ring,
// pubsub, restart) written with CAF 0.17 (Debian libcaf-dev), for
// bench/compare. One JSON line per run, the same keys as airs-bench's, with
// "impl":"caf".
//
//   caf_bench spawn N | pingpong M | fanin P K | ring N M | pubsub S M |
//             restart N
//
// Build: g++ -std=c++17 -O2 caf_bench.cpp -lcaf_core -lpthread
//
// The scheduler gets 2 threads (scheduler.max-threads), as airs-bench's 2
// workers. Every counted message goes through an actor's mailbox. The main
// thread waits on a countdown (a mutex and a condition variable) that the
// last actor of a workload counts to zero, so it never spins.
//
// CAF 0.17 has no supervisor: `restart` is a parent actor that traps the
// exit of a linked child and spawns a new one (the line says
// "supervisor":"link+respawn"), which is less work than a real supervisor's
// restart-intensity bookkeeping; bench/compare marks it.
#include <caf/all.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

using namespace caf;

namespace {

using go_atom = atom_constant<atom("go")>;
using link_atom = atom_constant<atom("link")>;
using ready_atom = atom_constant<atom("ready")>;
using crash_atom = atom_constant<atom("crash")>;
using started_atom = atom_constant<atom("started")>;

constexpr int kThreads = 2;

double now_s() {
  auto t = std::chrono::steady_clock::now().time_since_epoch();
  return std::chrono::duration<double>(t).count();
}

// Resident memory in bytes, from /proc/self/statm.
long rss_bytes() {
  long pages = 0, resident = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
  std::fclose(f);
  return resident * 4096L;
}

// Counts down from n; wait() returns once it reached zero. Only the last
// tick takes the lock.
class countdown {
 public:
  explicit countdown(long n) : left_(n) {}
  void tick() {
    if (left_.fetch_sub(1) != 1) return;
    std::lock_guard<std::mutex> g(mu_);
    zero_ = true;
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock<std::mutex> g(mu_);
    cv_.wait(g, [this] { return zero_; });
  }

 private:
  std::atomic<long> left_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool zero_ = false;
};

void report(const char* workload, const std::string& params, double ops,
            double secs, const std::string& extra = "") {
  std::printf(
      "{\"impl\":\"caf\",\"workload\":\"%s\",\"params\":{%s},\"ops\":%.0f,"
      "\"seconds\":%.6f,\"ops_per_s\":%.1f,\"ns_per_op\":%.2f,"
      "\"workers\":%d%s}\n",
      workload, params.c_str(), ops, secs, ops / secs, secs * 1e9 / ops,
      kThreads, extra.c_str());
  std::fflush(stdout);
}

// Ends every actor in `all` and waits until they are gone (not timed).
void stop_all(actor_system& sys, const std::vector<actor>& all) {
  for (auto& a : all) anon_send_exit(a, exit_reason::user_shutdown);
  sys.await_all_actors_done();
}

// ---- spawn N: N idle actors; then each gets one message and stops.

void run_spawn(actor_system& sys, long n) {
  countdown gone(n);
  std::vector<actor> all;
  all.reserve(static_cast<size_t>(n));
  long before = rss_bytes();
  double t0 = now_s();
  for (long i = 0; i < n; i++) {
    all.push_back(sys.spawn([&gone](event_based_actor* self) -> behavior {
      return {[self, &gone](go_atom) {
        gone.tick();  // as the Erlang peer: counted as it ends
        self->quit();
      }};
    }));
  }
  double spawned = now_s() - t0;
  long after = rss_bytes();
  for (auto& a : all) anon_send(a, go_atom::value);
  gone.wait();
  double secs = now_s() - t0;
  char extra[128];
  std::snprintf(extra, sizeof extra,
                ",\"spawn_ns\":%.1f,\"bytes_per_actor\":%.1f",
                spawned * 1e9 / static_cast<double>(n),
                static_cast<double>(after - before) / static_cast<double>(n));
  report("spawn", "\"n\":" + std::to_string(n), static_cast<double>(n), secs,
         extra);
  all.clear();
  sys.await_all_actors_done();
}

// ---- pingpong M: a counter goes back and forth M round trips.

void run_pingpong(actor_system& sys, long m) {
  countdown done(1);
  double t0 = now_s();
  auto pong = sys.spawn([](event_based_actor* self) -> behavior {
    return {[self](int64_t k) {
      self->send(actor_cast<actor>(self->current_sender()), k);
    }};
  });
  auto ping = sys.spawn([&done, pong, m](event_based_actor* self) -> behavior {
    return {[self, &done, pong, m](int64_t k) {
      if (k + 1 >= m) {
        done.tick();
        self->quit();
      } else {
        self->send(pong, k + 1);
      }
    }};
  });
  // The first ball, as if pong had sent it (as airs-bench does).
  anon_send(ping, int64_t{-1});
  done.wait();
  double secs = now_s() - t0;
  report("pingpong", "\"m\":" + std::to_string(m), 2.0 * m, secs);
  stop_all(sys, {pong});
}

// ---- fanin P K: P senders each send K messages to one receiver.

void run_fanin(actor_system& sys, long p, long k) {
  countdown done(1);
  const int64_t total = static_cast<int64_t>(p) * k;
  double t0 = now_s();
  auto sink = sys.spawn([&done, total](event_based_actor* self) -> behavior {
    auto count = std::make_shared<int64_t>(0);
    return {[self, &done, total, count](int64_t) {
      if (++*count == total) {
        done.tick();
        self->quit();
      }
    }};
  });
  for (long i = 0; i < p; i++) {
    auto s = sys.spawn([sink, k](event_based_actor* self) -> behavior {
      return {[self, sink, k](go_atom) {
        for (int64_t j = 0; j < k; j++) self->send(sink, j);
        self->quit();
      }};
    });
    anon_send(s, go_atom::value);
  }
  done.wait();
  double secs = now_s() - t0;
  report("fanin", "\"p\":" + std::to_string(p) + ",\"k\":" + std::to_string(k),
         static_cast<double>(total), secs);
  sys.await_all_actors_done();
}

// ---- ring N M: N actors in a ring pass one token M hops.

struct ring_state {
  actor next;
};

behavior ring_node(stateful_actor<ring_state>* self, countdown* done) {
  return {
      [self](link_atom, actor next) { self->state.next = std::move(next); },
      [](ready_atom) { return ready_atom::value; },
      [self, done](int64_t hops) {
        if (hops == 0)
          done->tick();
        else
          self->send(self->state.next, hops - 1);
      },
  };
}

void run_ring(actor_system& sys, long n, long m) {
  countdown done(1);
  std::vector<actor> nodes;
  nodes.reserve(static_cast<size_t>(n));
  for (long i = 0; i < n; i++) nodes.push_back(sys.spawn(ring_node, &done));
  for (long i = 0; i < n; i++)
    anon_send(nodes[i], link_atom::value, nodes[(i + 1) % n]);
  {  // Every node has its next before the clock starts.
    scoped_actor self{sys};
    for (auto& a : nodes)
      self->request(a, infinite, ready_atom::value)
          .receive([](ready_atom) {}, [](error&) { std::abort(); });
  }
  double t0 = now_s();
  anon_send(nodes[0], static_cast<int64_t>(m));
  done.wait();
  double secs = now_s() - t0;
  report("ring", "\"n\":" + std::to_string(n) + ",\"m\":" + std::to_string(m),
         static_cast<double>(m), secs);
  stop_all(sys, nodes);
}

// ---- pubsub S M: S subscribers of one group; one publisher actor sends M
// messages to the group; until every subscriber has all M.

void run_pubsub(actor_system& sys, long s, long m) {
  countdown done(s);
  auto topic = sys.groups().anonymous();
  std::vector<actor> subs;
  subs.reserve(static_cast<size_t>(s));
  for (long i = 0; i < s; i++) {
    subs.push_back(
        sys.spawn([&done, topic, m](event_based_actor* self) -> behavior {
          self->join(topic);
          auto count = std::make_shared<int64_t>(0);
          return {
              [](ready_atom) { return ready_atom::value; },
              [self, &done, m, count](int64_t) {
                if (++*count == m) {
                  done.tick();
                  self->quit();
                }
              },
          };
        }));
  }
  {  // Every subscriber has joined before the clock starts.
    scoped_actor self{sys};
    for (auto& a : subs)
      self->request(a, infinite, ready_atom::value)
          .receive([](ready_atom) {}, [](error&) { std::abort(); });
  }
  auto pub = sys.spawn([topic, m](event_based_actor* self) -> behavior {
    return {[self, topic, m](go_atom) {
      for (int64_t j = 0; j < m; j++) self->send(topic, j);
      self->quit();
    }};
  });
  double t0 = now_s();
  anon_send(pub, go_atom::value);
  done.wait();
  double secs = now_s() - t0;
  report("pubsub", "\"s\":" + std::to_string(s) + ",\"m\":" + std::to_string(m),
         static_cast<double>(s) * static_cast<double>(m), secs);
  sys.await_all_actors_done();
}

// ---- restart N: a parent restarts a linked child that crashes on request,
// N times; each cycle waits until the new child has started.

struct parent_state {
  long left;
  actor child;
};

behavior crasher(event_based_actor* self, actor parent) {
  self->send(parent, started_atom::value);
  return {[self](crash_atom) { self->quit(exit_reason::user_shutdown); }};
}

behavior restarter(stateful_actor<parent_state>* self, long n,
                   countdown* done) {
  self->state.left = n;
  self->set_exit_handler([self](exit_msg& msg) {
    if (msg.source != self->state.child.address()) {
      self->quit(msg.reason);  // told to stop (the child goes with it)
      return;
    }
    // one_for_one: the crashed child is replaced by a new one.
    self->state.child =
        self->spawn<linked>(crasher, actor_cast<actor>(self->ctrl()));
  });
  self->state.child =
      self->spawn<linked>(crasher, actor_cast<actor>(self->ctrl()));
  return {
      [self, done](started_atom) {
        if (self->state.left-- == 0) {
          done->tick();
          return;
        }
        self->send(self->state.child, crash_atom::value);
      },
  };
}

void run_restart(actor_system& sys, long n) {
  countdown done(1);
  double t0 = now_s();
  auto parent = sys.spawn(restarter, n, &done);
  done.wait();
  double secs = now_s() - t0;
  report("restart", "\"n\":" + std::to_string(n), static_cast<double>(n), secs,
         ",\"supervisor\":\"link+respawn\"");
  stop_all(sys, {parent});
}

// ---- arguments

[[noreturn]] void usage(const char* why) {
  if (why) std::fprintf(stderr, "caf_bench: %s\n", why);
  std::fprintf(stderr,
               "usage: caf_bench spawn N | pingpong M | fanin P K | ring N M "
               "| pubsub S M | restart N\n");
  std::exit(2);
}

long count(const char* s) {
  char* end;
  errno = 0;
  long v = std::strtol(s, &end, 10);
  if (errno || end == s || *end || v < 1 || v > 1000000000) usage(s);
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) usage(nullptr);
  std::string w = argv[1];
  const int want = (w == "fanin" || w == "ring" || w == "pubsub") ? 2 : 1;
  if (argc != 2 + want) usage("wrong number of arguments");
  long a = count(argv[2]);
  long b = want == 2 ? count(argv[3]) : 0;
  actor_system_config cfg;
  cfg.set("scheduler.max-threads", static_cast<size_t>(kThreads));
  actor_system sys{cfg};
  if (w == "spawn")
    run_spawn(sys, a);
  else if (w == "pingpong")
    run_pingpong(sys, a);
  else if (w == "fanin")
    run_fanin(sys, a, b);
  else if (w == "ring")
    run_ring(sys, a, b);
  else if (w == "pubsub")
    run_pubsub(sys, a, b);
  else if (w == "restart")
    run_restart(sys, a);
  else
    usage("unknown workload");
  return 0;
}
