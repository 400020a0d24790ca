// scenario.hpp - one seed of the chaos test: a seeded host-driven runtime
// with a three-level supervision tree, batches of traffic, faults and
// supervisor operations, the model's expectations checked after each,
// then the runtime freed and its counts checked.
//
//   tree.cpp      the specs of the tree, and the model's first picture
//   scenario.cpp  the run: batches, faults, operations, settling
//   check.cpp     the checks against the model, the stats and the counts
//   storm.cpp     the second mode: faults and operations in any mix
//   threads.cpp   the third mode: supervisor operations from plain threads
#pragma once

#include <airs/airs.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "cast.hpp"
#include "model.hpp"
#include "rng.hpp"

namespace chaos {

struct Options {
  bool threads = false;     // supervisor operations from plain threads too
  bool storm = false;       // faults and operations in any mix (storm.cpp)
  bool keep_trace = false;  // the trace as text (for --replay-check)
};

struct Outcome {
  std::string error;       // "" when the seed passed
  std::string trace;       // with keep_trace
  uint64_t steps = 0;      // trace steps
  uint64_t faults = 0;     // faults injected
  uint64_t restarts = 0;   // restarts the stats counted
  bool root_gone = false;  // the root gave up (or was stopped)
};

Outcome run_seed(uint64_t seed, const Options& opt);

class Scenario {
 public:
  Scenario(uint64_t seed, const Options& opt);
  Outcome run();

 private:
  // tree.cpp
  bool build_tree();
  airs_sup_spec* mid_spec(int s, MSup* m);
  // Fills a worker's spec; returns whether it traps exits (a worker that
  // traps ends with the reason of each exit signal it gets, as gen_server).
  bool leaf_spec(airs_child_spec* c, const char* id, const char* name,
                 int restart);
  int random_restart();
  // scenario.cpp
  void traffic();
  void send_traffic(const std::vector<airs_pid>& workers);
  bool faults();
  void fault_on(int s, size_t index);
  bool operations();
  bool operation(int s);
  bool settle(const char* after);
  bool expect(airs_status got, airs_status want, const char* what);
  // check.cpp
  bool check(const char* when);
  bool check_sup(int s, airs_pid pid, const char* when);
  bool check_stats(const char* when);
  bool finish();
  // storm.cpp
  bool run_storm();
  void traffic_walk();
  // threads.cpp
  bool run_threaded();
  bool check_walk(const char* when);
  uint64_t walk(airs_pid sup, bool* ok);

  bool fail(const std::string& what);
  static void trace_hook(void* self, const airs_trace_step* step);
  static void dead_letter(void* self, airs_pid to, const airs_msg* msg,
                          airs_dead_letter_reason why);

  const uint64_t seed_;
  const Options opt_;
  Rng rng_;
  Model model_;
  Cast cast_;
  airs_runtime* rt_ = nullptr;
  airs_pid root_ = 0;
  airs_pid sup_pid_[kSups] = {};  // as last seen
  airs_spawn_opts trap_opts_;     // the options of workers that trap exits
  uint64_t specs_given_ = 0;
  std::atomic<uint64_t> args_given_{0};  // threads.cpp adds from threads
  uint64_t next_id_ = 0;
  std::atomic<uint64_t> dead_exited_{0};  // user messages lost at an end
  Outcome out_;
};

}  // namespace chaos
