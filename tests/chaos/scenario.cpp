// scenario.cpp - one seed's run: a seeded runtime and its tree, then
// batches of traffic and faults and of supervisor operations, each settled
// (polled until nothing is runnable or due) and checked against the model.
#include "scenario.hpp"

#include <cstdio>
#include <thread>

#include "../trace_text.hpp"

namespace chaos {

namespace {
constexpr int kBatches = 20;
// A settle that takes more steps than this is a hang: a run makes a few
// thousand.
constexpr uint64_t kMaxSettleSteps = 200000;
}  // namespace

Outcome run_seed(uint64_t seed, const Options& opt) {
  Scenario s(seed, opt);
  return s.run();
}

Scenario::Scenario(uint64_t seed, const Options& opt)
    : seed_(seed), opt_(opt), rng_(seed) {}

bool Scenario::fail(const std::string& what) {
  if (out_.error.empty()) out_.error = what;
  return false;
}

void Scenario::trace_hook(void* self, const airs_trace_step* step) {
  Scenario* s = static_cast<Scenario*>(self);
  s->out_.steps++;
  if (s->opt_.keep_trace) trace_text::append_step(s->out_.trace, step);
}

void Scenario::dead_letter(void* self, airs_pid, const airs_msg* msg,
                           airs_dead_letter_reason why) {
  if (why == AIRS_DEAD_LETTER_EXITED && airs_msg_type(msg) < 0x100)
    static_cast<Scenario*>(self)->dead_exited_++;
}

Outcome Scenario::run() {
  airs_config* cfg = nullptr;
  if (airs_config_new(&cfg) != AIRS_OK) {
    fail("airs_config_new");
    return out_;
  }
  airs_config_set(cfg, AIRS_CFG_WORKERS, 0);
  airs_config_set(cfg, AIRS_CFG_CRASH_REPORTS, 0);  // crashes are the point
  // The seed as is: the runtime's picks and the program's own draws (rng.hpp
  // mixes it first) are two streams of one seed.
  airs_config_set(cfg, AIRS_CFG_SEED, static_cast<int64_t>(seed_ ? seed_ : 1));
  airs_status st = airs_runtime_new(cfg, &rt_);
  airs_config_free(cfg);
  if (st != AIRS_OK) {
    fail(std::string("airs_runtime_new: ") + airs_last_error_message());
    return out_;
  }
  cast_.rt = rt_;
  airs_runtime_set_trace_hook(rt_, trace_hook, this);
  airs_set_dead_letter_hook(rt_, dead_letter, this);
  bool ok = build_tree() && settle("start") && check("start");
  if (ok && opt_.threads) {
    ok = run_threaded();
  } else if (ok && opt_.storm) {
    ok = run_storm();
  } else {
    for (int b = 0; ok && b < kBatches; b++) {
      uint64_t ms = rng_.below(4) == 0 ? 0 : rng_.below(400);
      airs_runtime_advance_time(rt_, ms);
      model_.advance(ms);
      traffic();
      ok = faults() && settle("faults") && check("faults") && operations();
    }
  }
  finish();  // frees the runtime, whatever happened before
  return out_;
}

// Work for running workers: direct sends, publishes on the topics, and
// timers whose messages may find their worker gone.
void Scenario::traffic() {
  std::vector<airs_pid> workers;
  for (int s = kOfo; s < kSups; s++)
    if (model_.sup[s].alive)
      for (const MChild& c : model_.sup[s].children)
        if (c.running) workers.push_back(c.pid);
  send_traffic(workers);
}

void Scenario::send_traffic(const std::vector<airs_pid>& workers) {
  if (workers.empty()) return;
  uint32_t n = rng_.below(12);
  for (uint32_t i = 0; i < n; i++) {
    uint32_t ttl = rng_.below(4);
    airs_pid to = workers[rng_.below(static_cast<uint32_t>(workers.size()))];
    switch (rng_.below(3)) {
      case 0: airs_send(rt_, to, kWork, &ttl, sizeof ttl); break;
      case 1: {
        airs_payload* p = nullptr;
        if (airs_payload_new(&ttl, sizeof ttl, &p) != AIRS_OK) break;
        airs_publish(rt_, kTopicNames[rng_.below(kTopics)], kWork, p, nullptr);
        airs_payload_release(p);
        break;
      }
      case 2: {
        airs_msg* m = nullptr;
        if (airs_msg_new(kWork, &ttl, sizeof ttl, &m) != AIRS_OK) break;
        if (airs_send_after(rt_, to, rng_.below(300), m, nullptr) != AIRS_OK)
          airs_msg_free(m);
        break;
      }
    }
  }
}

// One fault on child `index` of supervisor `s`, told to the model.
void Scenario::fault_on(int s, size_t index) {
  out_.faults++;
  MChild& c = model_.sup[s].children[index];
  airs_pid pid = c.pid;
  switch (rng_.below(7)) {
    case 0:
      airs_kill(rt_, pid);
      model_.child_exit(s, index, false);
      break;
    case 1:
      airs_send(rt_, pid, kCrash, nullptr, 0);
      model_.child_exit(s, index, false);
      break;
    case 2:
      airs_send(rt_, pid, kExitNormal, nullptr, 0);
      model_.child_exit(s, index, true);
      break;
    case 3:
      airs_send(rt_, pid, kExitError, nullptr, 0);
      model_.child_exit(s, index, false);
      break;
    case 4:
      airs_send(rt_, pid, kExitShutdown, nullptr, 0);
      model_.child_exit(s, index, true);
      break;
    case 5:
      airs_send_exit(rt_, pid, AIRS_EXIT_ERROR, 3, "from the host");
      model_.child_exit(s, index, false);
      break;
    case 6:
      // exit/2 with `normal`: nothing to a process that does not trap;
      // one that traps gets a message, and ends normally (cast.hpp).
      airs_send_exit(rt_, pid, AIRS_EXIT_NORMAL, 0, nullptr);
      if (c.traps) model_.child_exit(s, index, true);
      break;
  }
}

// A batch of faults the model can predict whatever order the runtime
// picks: in each subtree it touches, one fault on a group supervisor's
// child (or a kill of the supervisor itself), up to three on the pool's;
// several subtrees only under a one_for_one root.
bool Scenario::faults() {
  if (!model_.sup[kRoot].alive) return true;
  if (rng_.chance(1)) {  // now and then the whole tree
    out_.faults++;
    airs_kill(rt_, root_);
    model_.root_killed();
    return true;
  }
  std::vector<int> alive;
  for (int s = kOfo; s < kSups; s++)
    if (model_.sup[s].alive) alive.push_back(s);
  if (alive.empty()) return true;
  std::vector<int> chosen;
  if (model_.sup[kRoot].strategy == AIRS_ONE_FOR_ONE) {
    for (int s : alive)
      if (rng_.chance(50)) chosen.push_back(s);
  } else {
    chosen.push_back(alive[rng_.below(static_cast<uint32_t>(alive.size()))]);
  }
  for (int s : chosen) {
    if (!model_.sup[s].alive) continue;  // gone with an earlier fault
    if (rng_.chance(6)) {
      out_.faults++;
      airs_kill(rt_, sup_pid_[s]);
      model_.sup_killed(s);
      continue;
    }
    // Faults go to the children running now, named by the pids they have
    // now: a child the model restarts in this batch gets no second one.
    std::vector<airs_pid> targets;
    for (const MChild& c : model_.sup[s].children)
      if (c.running) targets.push_back(c.pid);
    uint32_t n = s == kPool ? 1 + rng_.below(3) : 1;
    for (uint32_t k = 0; k < n && !targets.empty(); k++) {
      size_t t = rng_.below(static_cast<uint32_t>(targets.size()));
      airs_pid pid = targets[t];
      targets.erase(targets.begin() + static_cast<long>(t));
      if (!model_.sup[s].alive) break;
      for (size_t i = 0; i < model_.sup[s].children.size(); i++)
        if (model_.sup[s].children[i].pid == pid &&
            model_.sup[s].children[i].running) {
          fault_on(s, i);
          break;
        }
    }
  }
  return true;
}

bool Scenario::expect(airs_status got, airs_status want, const char* what) {
  if (got == want) return true;
  char buf[256];
  std::snprintf(buf, sizeof buf, "%s returned %s, the model says %s (%s)", what,
                airs_strerror(got), airs_strerror(want),
                airs_last_error_message());
  return fail(buf);
}

// Up to two supervisor operations from the host, each settled and checked.
bool Scenario::operations() {
  uint32_t n = rng_.below(4);
  for (uint32_t i = 0; i < n; i++) {
    if (!model_.sup[kRoot].alive) return true;
    int s = static_cast<int>(rng_.below(kSups));
    if (!model_.sup[s].alive) continue;
    if (!operation(s) || !settle("an operation") || !check("an operation"))
      return false;
  }
  return true;
}

bool Scenario::operation(int s) {
  MSup& m = model_.sup[s];
  airs_pid sup = sup_pid_[s];
  if (s == kPool) {
    if (m.children.empty() || rng_.chance(50)) {
      airs_pid pid = 0;
      args_given_++;
      airs_status st = airs_supervisor_start_dynamic_child(rt_, sup, &cast_,
                                                           arg_freed, &pid);
      if (!expect(st, AIRS_OK, "start_dynamic_child")) return false;
      MChild c;
      c.restart = m.pool_restart;
      c.traps = m.pool_traps;
      model_.start_child(kPool, c);
      return true;
    }
    size_t i = rng_.below(static_cast<uint32_t>(m.children.size()));
    airs_status st =
        airs_supervisor_terminate_child_pid(rt_, sup, m.children[i].pid);
    model_.pool_terminate(i);
    return expect(st, AIRS_OK, "terminate_child_pid");
  }
  // A child id the supervisor has, or one it lacks.
  std::string id = "zz";
  if (!m.children.empty() && rng_.chance(90))
    id = m.children[rng_.below(static_cast<uint32_t>(m.children.size()))].id;
  switch (rng_.below(s == kRoot ? 3 : 4)) {
    case 0:
      return expect(airs_supervisor_terminate_child(rt_, sup, id.c_str()),
                    model_.terminate_child(s, id), "terminate_child");
    case 1: {
      airs_pid pid = 0;
      return expect(airs_supervisor_restart_child(rt_, sup, id.c_str(), &pid),
                    model_.restart_child(s, id), "restart_child");
    }
    case 2:
      return expect(airs_supervisor_delete_child(rt_, sup, id.c_str()),
                    model_.delete_child(s, id), "delete_child");
    default: {
      MChild c;
      c.id = "n" + std::to_string(next_id_++);
      c.restart = random_restart();
      airs_child_spec spec;
      c.traps = leaf_spec(&spec, c.id.c_str(), nullptr, c.restart);
      airs_status st = airs_supervisor_start_child(rt_, sup, &spec, nullptr);
      model_.start_child(s, c);
      return expect(st, AIRS_OK, "start_child");
    }
  }
}

// Polls until nothing is runnable or due. Another thread may hold the
// poll (threads.cpp): then it runs the steps, and this waits.
bool Scenario::settle(const char* after) {
  uint64_t steps = 0;
  for (;;) {
    uint32_t ran = 0;
    airs_status st = airs_runtime_poll(rt_, 256, &ran);
    if (st == AIRS_ESTATE && opt_.threads) {
      std::this_thread::yield();
      ran = 1;
    } else if (st != AIRS_OK) {
      return fail(std::string("airs_runtime_poll: ") +
                  airs_last_error_message());
    }
    if (ran == 0) return true;
    steps += ran;
    if (steps > kMaxSettleSteps)
      return fail(std::string("hang: still busy ") + std::to_string(steps) +
                  " steps after " + after);
  }
}

}  // namespace chaos
