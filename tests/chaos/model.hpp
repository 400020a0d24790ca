// model.hpp - what the supervision tree of a chaos run should look like:
// OTP's rules (supervisor.h) applied to the faults and operations the
// program injects, written from the header's words, not from the core.
//
// The tree: a root supervisor whose children are four middle supervisors
// (one_for_one, one_for_all, rest_for_one and a simple_one_for_one pool),
// whose children are workers. The program keeps every batch of faults
// exact: at most one fault per group supervisor, and faults in several
// subtrees only under a one_for_one root, so the outcome (which children
// restart, who gives up, how many restarts the stats count) does not
// depend on the order the runtime picks. The one exception, the root
// giving up while other subtrees still settle their own faults, clears
// `exact_restarts` for the rest of the run.
#pragma once

#include <airs/airs.h>

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace chaos {

// Supervisors by index: the root, then its four children.
enum Sup { kRoot = 0, kOfo = 1, kOfa = 2, kRfo = 3, kPool = 4, kSups = 5 };

struct MChild {
  std::string id;  // "" in the pool
  int restart = AIRS_RESTART_PERMANENT;
  bool running = true;
  uint64_t gen = 0;  // bumped by every start: the pid must then change
  // What the last check saw: the pid of generation seen_gen.
  uint64_t seen_gen = 0;
  airs_pid pid = 0;
  std::string name;  // a registered name, or ""
  bool traps = false;  // traps exits
  int sub = -1;      // a root's child: the Sup it is
};

struct MSup {
  int strategy = AIRS_ONE_FOR_ONE;
  uint32_t intensity = 1;
  uint32_t period_ms = 5000;
  int pool_restart = AIRS_RESTART_PERMANENT;  // the pool's template
  bool pool_traps = false;
  bool alive = true;
  std::deque<uint64_t> restarts;  // times of the restarts in the period
  std::vector<MChild> children;
};

class Model {
 public:
  // `initial` holds each supervisor as it starts (children running).
  void init(const MSup (&initial)[kSups]);

  // A child ended by itself: `quiet` when its reason is normal or
  // shutdown. Applies the policy, the strategy and the intensity.
  void child_exit(int sup, size_t index, bool quiet);
  // A middle supervisor was killed (its children die with it).
  void sup_killed(int sup);
  // The root was killed: its children die with it (links), none restarts.
  void root_killed() { stop_subtree(kRoot); }
  // Operations, as supervisor.h describes them; each returns the status
  // the call must return.
  airs_status terminate_child(int sup, const std::string& id);
  airs_status restart_child(int sup, const std::string& id);
  airs_status delete_child(int sup, const std::string& id);
  void start_child(int sup, const MChild& child);  // appended, running
  void pool_terminate(size_t index);               // dropped

  void advance(uint64_t ms) { now_ += ms; }
  int find(int sup, const std::string& id) const;  // -1: none
  // Processes the tree should have alive: supervisors and running workers.
  uint64_t live() const;

  MSup sup[kSups];
  uint64_t restarts = 0;       // airs_runtime_stats.restarts to expect
  bool exact_restarts = true;  // false: only restarts <= the count holds
  uint64_t next_gen = 1;

 private:
  void give_up(int s);
  void restart_group(int s, size_t anchor);
  void fresh(int s);  // a middle supervisor starts again from its spec
  void stop_subtree(int s);
  bool add_restart(int s);  // false: more than the intensity

  MSup initial_[kSups];
  uint64_t now_ = 0;
};

}  // namespace chaos
