// threads.cpp - the third mode: while the host polls and injects faults,
// two plain threads call supervisor operations (which wait for the
// supervisor and, in host-driven mode, poll when the host does not).
// Threads make the order unrepeatable, so the model is not used: the run
// must not hang, and once everything has settled the tree must hold
// together (a walk from the root agrees with count_children, every running
// child is alive, nothing is half restarted) and the stats must agree with
// the walk.
#include <thread>
#include <vector>

#include "scenario.hpp"

namespace chaos {

namespace {

constexpr int kOpsPerThread = 24;

airs_pid named(airs_runtime* rt, const char* name) {
  airs_pid pid = 0;
  return airs_whereis(rt, name, &pid) == AIRS_OK ? pid : 0;
}

// The running children of a supervisor found by name (none if it is gone).
std::vector<airs_child_info> children(airs_runtime* rt, airs_pid sup) {
  std::vector<airs_child_info> rows(64);
  size_t n = 0;
  if (!sup ||
      airs_supervisor_which_children(rt, sup, rows.data(), 64, &n) != AIRS_OK)
    return {};
  rows.resize(n < 64 ? n : 64);
  return rows;
}

}  // namespace

bool Scenario::run_threaded() {
  static const char* const kGroups[] = {"ofo", "ofa", "rfo"};
  static const char* const kIds[] = {"a", "b", "c"};
  auto operator_thread = [this](uint64_t k) {
    Rng rng(seed_ * 31 + k);
    for (int i = 0; i < kOpsPerThread; i++) {
      airs_pid pool = named(rt_, "pool");
      switch (rng.below(5)) {
        case 0:
          args_given_++;
          airs_supervisor_start_dynamic_child(rt_, pool, &cast_, arg_freed,
                                              nullptr);
          break;
        case 1: {
          auto rows = children(rt_, pool);
          if (!rows.empty())
            airs_supervisor_terminate_child_pid(
                rt_, pool, rows[rng.below(rows.size())].pid);
          break;
        }
        case 2:
          airs_supervisor_terminate_child(
              rt_, named(rt_, kGroups[rng.below(3)]), kIds[rng.below(3)]);
          break;
        case 3:
          airs_supervisor_restart_child(rt_, named(rt_, kGroups[rng.below(3)]),
                                        kIds[rng.below(3)], nullptr);
          break;
        case 4: {
          airs_child_counts counts;
          airs_supervisor_count_children(rt_, named(rt_, kGroups[rng.below(3)]),
                                         &counts);
          break;
        }
      }
    }
  };
  std::thread a(operator_thread, 1), b(operator_thread, 2);
  bool ok = true;
  for (int batch = 0; ok && batch < 6; batch++) {
    uint64_t ms = rng_.below(400);
    airs_runtime_advance_time(rt_, ms);
    // Faults on whatever runs now.
    static const char* const kSubs[] = {"ofo", "ofa", "rfo", "pool"};
    for (const char* sub : kSubs) {
      auto rows = children(rt_, named(rt_, sub));
      if (rows.empty() || !rng_.chance(50)) continue;
      airs_pid pid = rows[rng_.below(rows.size())].pid;
      if (!pid) continue;
      out_.faults++;
      switch (rng_.below(3)) {
        case 0: airs_kill(rt_, pid); break;
        case 1: airs_send(rt_, pid, kCrash, nullptr, 0); break;
        case 2: airs_send(rt_, pid, kExitNormal, nullptr, 0); break;
      }
    }
    ok = settle("threaded faults");
  }
  a.join();
  b.join();
  return ok && settle("the threads") && check_walk("the threads");
}

// Running processes of the subtree under `sup` (it included), checking on
// the way that each running child is alive and counted.
uint64_t Scenario::walk(airs_pid sup, bool* ok) {
  auto rows = children(rt_, sup);
  uint64_t n = 1;
  uint32_t running = 0;
  for (const airs_child_info& r : rows) {
    if (r.state != AIRS_CHILD_RUNNING && r.state != AIRS_CHILD_STOPPED) {
      *ok = fail("settled, yet child '" + std::string(r.id) + "' is in state " +
                 std::to_string(r.state));
      return n;
    }
    if (r.state != AIRS_CHILD_RUNNING) continue;
    running++;
    if (!airs_is_alive(rt_, r.pid)) {
      *ok = fail("child '" + std::string(r.id) + "' is running but not alive");
      return n;
    }
    n += r.type == AIRS_CHILD_SUPERVISOR ? walk(r.pid, ok) : 1;
  }
  airs_child_counts counts;
  if (airs_supervisor_count_children(rt_, sup, &counts) != AIRS_OK ||
      counts.active != running)
    *ok = fail("count_children does not agree with which_children");
  return n;
}

bool Scenario::check_walk(const char* when) {
  bool ok = true;
  uint64_t live = airs_is_alive(rt_, root_) ? walk(root_, &ok) : 0;
  if (!ok) return false;
  out_.root_gone = live == 0;
  airs_runtime_stats st;
  st.version = AIRS_RUNTIME_STATS_VERSION;
  st.size = sizeof st;
  if (airs_runtime_stats_get(rt_, &st) != AIRS_OK)
    return fail(std::string("stats: ") + airs_last_error_message());
  out_.restarts = st.restarts;
  if (st.processes_alive != live ||
      st.processes_alive != st.processes_spawned - st.processes_exited)
    return fail("stats after " + std::string(when) + ": " +
                std::to_string(st.processes_alive) + " alive (" +
                std::to_string(st.processes_spawned) + " spawned, " +
                std::to_string(st.processes_exited) +
                " exited), the tree has " + std::to_string(live));
  return true;
}

}  // namespace chaos
