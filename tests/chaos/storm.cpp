// storm.cpp - the second mode: faults and supervisor operations in any mix,
// on any level of the tree (workers, middle supervisors, the root), with
// partial polls between them, so that a kill lands in the middle of a
// group restart, an operation meets a supervisor that is shutting down,
// and so on. Too tangled for the model: the run must not hang, and once
// settled the tree must hold together and agree with the stats
// (check_walk). Still one thread, so a seed replays.
#include <vector>

#include "scenario.hpp"

namespace chaos {

namespace {

struct Node {
  airs_pid sup;  // the supervisor it is a child of
  airs_child_info info;
};

}  // namespace

// Every child of every supervisor reachable from the root, running or not.
static void collect(airs_runtime* rt, airs_pid sup, std::vector<Node>* out) {
  airs_child_info rows[64];
  size_t n = 0;
  if (airs_supervisor_which_children(rt, sup, rows, 64, &n) != AIRS_OK) return;
  for (size_t i = 0; i < n && i < 64; i++) {
    out->push_back(Node{sup, rows[i]});
    if (rows[i].type == AIRS_CHILD_SUPERVISOR && rows[i].pid)
      collect(rt, rows[i].pid, out);
  }
}

bool Scenario::run_storm() {
  for (int batch = 0; batch < 20; batch++) {
    uint64_t ms = rng_.below(4) == 0 ? 0 : rng_.below(400);
    airs_runtime_advance_time(rt_, ms);
    traffic_walk();
    uint32_t actions = 1 + rng_.below(10);
    for (uint32_t k = 0; k < actions; k++) {
      std::vector<Node> nodes;
      if (airs_is_alive(rt_, root_)) collect(rt_, root_, &nodes);
      if (nodes.empty()) break;
      const Node* pick =
          &nodes[rng_.below(static_cast<uint32_t>(nodes.size()))];
      // Supervisors are a few of the nodes but end the most: spare them
      // two times in three, or the root soon gives up.
      if (pick->info.type == AIRS_CHILD_SUPERVISOR && !rng_.chance(33))
        pick = &nodes[rng_.below(static_cast<uint32_t>(nodes.size()))];
      const Node& n = *pick;
      airs_pid pid = n.info.pid;
      bool is_sup = n.info.type == AIRS_CHILD_SUPERVISOR;
      uint32_t what = rng_.below(12);
      out_.faults++;
      if (what < 6 && !pid) what = 6 + rng_.below(4);  // a stopped child
      switch (what) {
        case 0:
        case 1: airs_kill(rt_, pid); break;
        case 2:
          if (is_sup)
            airs_send_exit(rt_, pid, AIRS_EXIT_ERROR, 1, "storm");
          else
            airs_send(rt_, pid, kCrash, nullptr, 0);
          break;
        case 3: airs_send(rt_, pid, kExitNormal, nullptr, 0); break;
        case 4: airs_send(rt_, pid, kExitShutdown, nullptr, 0); break;
        case 5: airs_stop(rt_, pid); break;
        case 6:
          if (n.info.id[0])
            airs_supervisor_terminate_child(rt_, n.sup, n.info.id);
          else
            airs_supervisor_terminate_child_pid(rt_, n.sup, pid);
          break;
        case 7:
          airs_supervisor_restart_child(rt_, n.sup, n.info.id, nullptr);
          break;
        case 8: airs_supervisor_delete_child(rt_, n.sup, n.info.id); break;
        case 9: {
          // The pool takes dynamic children; the others take a new spec.
          args_given_++;
          if (airs_supervisor_start_dynamic_child(rt_, n.sup, &cast_, arg_freed,
                                                  nullptr) == AIRS_EINVAL) {
            std::string id = "s" + std::to_string(next_id_++);
            airs_child_spec spec;
            leaf_spec(&spec, id.c_str(), nullptr, random_restart());
            airs_supervisor_start_child(rt_, n.sup, &spec, nullptr);
          }
          break;
        }
        default: {  // let part of what is pending run
          uint32_t ran = 0;
          airs_runtime_poll(rt_, 1 + rng_.below(30), &ran);
          out_.faults--;
          break;
        }
      }
    }
    if (!settle("a storm") || !check_walk("a storm")) return false;
  }
  return true;
}

// traffic() for a run without the model: workers found by a walk.
void Scenario::traffic_walk() {
  std::vector<Node> nodes;
  if (airs_is_alive(rt_, root_)) collect(rt_, root_, &nodes);
  std::vector<airs_pid> workers;
  for (const Node& n : nodes)
    if (n.info.pid && n.info.type == AIRS_CHILD_WORKER)
      workers.push_back(n.info.pid);
  send_traffic(workers);
}

}  // namespace chaos
