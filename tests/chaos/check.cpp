// check.cpp - what a settled run must show: the tree as the model has it
// (children, their order and states, which pids changed, registered
// names), stats that add up, and after free every start ended and every
// spec's user_data released.
#include <cinttypes>
#include <cstdio>
#include <vector>

#include "../trace_text.hpp"
#include "scenario.hpp"

namespace chaos {

namespace {

std::string pid_text(airs_pid pid) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%" PRIx64, trace_text::local_pid(pid));
  return buf;
}

}  // namespace

bool Scenario::check(const char* when) {
  std::string at = std::string(" (after ") + when + ")";
  bool root_alive = airs_is_alive(rt_, root_);
  if (root_alive != model_.sup[kRoot].alive)
    return fail(std::string("the root is ") + (root_alive ? "alive" : "gone") +
                ", the model says " + (root_alive ? "gone" : "alive") + at);
  if (root_alive && !check_sup(kRoot, root_, when)) return false;
  for (int s = kOfo; s < kSups; s++) {
    if (!model_.sup[s].alive) continue;
    if (!check_sup(s, sup_pid_[s], when)) return false;
  }
  return check_stats(when);
}

// One supervisor's children against the model's.
bool Scenario::check_sup(int s, airs_pid pid, const char* when) {
  static const char* const kNames[kSups] = {"root", "ofo", "ofa", "rfo",
                                            "pool"};
  std::string where = std::string(kNames[s]) + " (after " + when + "): ";
  MSup& m = model_.sup[s];
  airs_child_info rows[64];
  size_t n = 0;
  airs_status st = airs_supervisor_which_children(rt_, pid, rows, 64, &n);
  if (st != AIRS_OK)
    return fail(where + "which_children: " + airs_last_error_message());
  if (n != m.children.size())
    return fail(where + std::to_string(n) + " children, the model has " +
                std::to_string(m.children.size()));
  uint32_t running = 0;
  for (size_t i = 0; i < n; i++) {
    MChild& c = m.children[i];
    const airs_child_info& r = rows[i];
    std::string who = where + "child " + std::to_string(i) + " '" + c.id + "' ";
    if (c.id != r.id) return fail(who + "is '" + r.id + "'");
    int want = c.running ? AIRS_CHILD_RUNNING : AIRS_CHILD_STOPPED;
    if (r.state != want)
      return fail(who + "in state " + std::to_string(r.state) +
                  ", the model says " + std::to_string(want));
    if (!c.running) continue;
    running++;
    if (!r.pid || !airs_is_alive(rt_, r.pid))
      return fail(who + "runs as " + pid_text(r.pid) + ", not alive");
    // Started again since the last check: a new pid; else the same one.
    if (c.gen == c.seen_gen && r.pid != c.pid)
      return fail(who + "has a new pid " + pid_text(r.pid) + " (was " +
                  pid_text(c.pid) + ") but was not restarted");
    if (c.gen != c.seen_gen && r.pid == c.pid)
      return fail(who + "should have been restarted, still " + pid_text(r.pid));
    c.pid = r.pid;
    c.seen_gen = c.gen;
    if (c.sub >= 0) sup_pid_[c.sub] = r.pid;
    if (!c.name.empty()) {
      airs_pid named = 0;
      if (airs_whereis(rt_, c.name.c_str(), &named) != AIRS_OK ||
          named != r.pid)
        return fail(who + "is not registered as " + c.name);
    }
  }
  airs_child_counts counts;
  if (airs_supervisor_count_children(rt_, pid, &counts) != AIRS_OK)
    return fail(where + "count_children: " + airs_last_error_message());
  uint32_t specs = s == kPool ? 1 : static_cast<uint32_t>(n);
  if (counts.specs != specs || counts.active != running)
    return fail(where + "count_children says " + std::to_string(counts.specs) +
                " specs, " + std::to_string(counts.active) + " active; " +
                std::to_string(specs) + " and " + std::to_string(running) +
                " expected");
  return true;
}

bool Scenario::check_stats(const char* when) {
  std::string at = std::string(" (after ") + when + ")";
  airs_runtime_stats st;
  st.version = AIRS_RUNTIME_STATS_VERSION;
  st.size = sizeof st;
  if (airs_runtime_stats_get(rt_, &st) != AIRS_OK)
    return fail(std::string("stats: ") + airs_last_error_message());
  if (st.processes_alive != st.processes_spawned - st.processes_exited)
    return fail("stats: " + std::to_string(st.processes_alive) + " alive, " +
                std::to_string(st.processes_spawned) + " spawned, " +
                std::to_string(st.processes_exited) + " exited" + at);
  uint64_t live = model_.sup[kRoot].alive ? model_.live() : 0;
  if (!opt_.threads && st.processes_alive != live)
    return fail("stats: " + std::to_string(st.processes_alive) +
                " processes alive, the model has " + std::to_string(live) + at);
  if (!opt_.threads && (model_.exact_restarts ? st.restarts != model_.restarts
                                              : st.restarts > model_.restarts))
    return fail("stats: " + std::to_string(st.restarts) +
                " restarts, the model counts " +
                std::to_string(model_.restarts) + at);
  out_.restarts = st.restarts;
  out_.root_gone = !model_.sup[kRoot].alive;
  // Settled: every user message accepted was handed to receive, or lost
  // with the end of its receiver (a dead letter).
  if (st.messages_sent != st.messages_delivered + dead_exited_.load())
    return fail("stats: " + std::to_string(st.messages_sent) + " sent, " +
                std::to_string(st.messages_delivered) + " delivered, " +
                std::to_string(dead_exited_.load()) +
                " dead letters at an end" + at);
  return true;
}

bool Scenario::finish() {
  if (!rt_) return false;
  airs_runtime_free(rt_);
  rt_ = nullptr;
  if (cast_.inits != cast_.terms)
    return fail("after free: " + std::to_string(cast_.inits.load()) +
                " worker starts but " + std::to_string(cast_.terms.load()) +
                " terminates");
  if (cast_.specs_freed != specs_given_)
    return fail("after free: " + std::to_string(specs_given_) +
                " child specs given, user_data_free ran " +
                std::to_string(cast_.specs_freed.load()) + " times");
  if (cast_.args_freed != args_given_.load())
    return fail("after free: " + std::to_string(args_given_.load()) +
                " dynamic children, arg_free ran " +
                std::to_string(cast_.args_freed.load()) + " times");
  return true;
}

}  // namespace chaos
