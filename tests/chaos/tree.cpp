// tree.cpp - the supervision tree of a run, drawn from the seed: the root's
// strategy, every supervisor's intensity and period, each child's restart
// policy and shutdown, and the model's picture of it as it starts.
#include <cstdio>

#include "scenario.hpp"

namespace chaos {

namespace {
const char* const kSupIds[kSups] = {"root", "ofo", "ofa", "rfo", "pool"};
const int kStrategies[kSups] = {-1, AIRS_ONE_FOR_ONE, AIRS_ONE_FOR_ALL,
                                AIRS_REST_FOR_ONE, AIRS_SIMPLE_ONE_FOR_ONE};
}  // namespace

int Scenario::random_restart() {
  uint32_t r = rng_.below(10);
  return r < 5   ? AIRS_RESTART_PERMANENT
         : r < 8 ? AIRS_RESTART_TRANSIENT
                 : AIRS_RESTART_TEMPORARY;
}

bool Scenario::leaf_spec(airs_child_spec* c, const char* id, const char* name,
                         int restart) {
  airs_child_spec_init(c);
  c->id = id;
  c->behaviour = &kWorker;
  c->user_data = &cast_;
  c->user_data_free = spec_freed;
  c->restart = restart;
  static const int kShutdowns[] = {
      AIRS_SHUTDOWN_BRUTAL_KILL, AIRS_SHUTDOWN_TIMEOUT, AIRS_SHUTDOWN_INFINITY,
      AIRS_SHUTDOWN_DEFAULT};
  c->shutdown = kShutdowns[rng_.below(4)];
  c->shutdown_ms = rng_.below(3) * 50;
  c->name = name;
  specs_given_++;  // a spec call takes user_data whatever it returns
  bool traps = rng_.chance(25);
  if (traps) c->opts = &trap_opts_;
  return traps;
}

airs_sup_spec* Scenario::mid_spec(int s, MSup* m) {
  airs_sup_flags f;
  airs_sup_flags_init(&f);
  m->strategy = f.strategy = kStrategies[s];
  m->intensity = f.intensity = rng_.below(4);
  m->period_ms = f.period_ms = 50 + rng_.below(1000);
  airs_sup_spec* spec = nullptr;
  if (airs_sup_spec_new(&f, &spec) != AIRS_OK) return nullptr;
  if (s == kPool) {
    airs_child_spec c;
    m->pool_restart = random_restart();
    m->pool_traps = leaf_spec(&c, "worker", nullptr, m->pool_restart);
    if (airs_sup_spec_add_child(spec, &c) != AIRS_OK) {
      airs_sup_spec_free(spec);
      return nullptr;
    }
    return spec;
  }
  static const char* const kIds[] = {"a", "b", "c", "d"};
  uint32_t n = 2 + rng_.below(3);
  for (uint32_t i = 0; i < n; i++) {
    MChild mc;
    mc.id = kIds[i];
    mc.restart = random_restart();
    if (rng_.chance(50)) mc.name = std::string(kSupIds[s]) + "." + mc.id;
    airs_child_spec c;
    mc.traps =
        leaf_spec(&c, mc.id.c_str(),
                  mc.name.empty() ? nullptr : mc.name.c_str(), mc.restart);
    if (airs_sup_spec_add_child(spec, &c) != AIRS_OK) {
      airs_sup_spec_free(spec);
      return nullptr;
    }
    m->children.push_back(mc);
  }
  return spec;
}

bool Scenario::build_tree() {
  airs_spawn_opts_init(rt_, &trap_opts_);
  trap_opts_.flags = AIRS_SPAWN_TRAP_EXIT;
  MSup initial[kSups];
  airs_sup_flags f;
  airs_sup_flags_init(&f);
  static const int kRootStrategies[] = {AIRS_ONE_FOR_ONE, AIRS_ONE_FOR_ONE,
                                        AIRS_ONE_FOR_ALL, AIRS_REST_FOR_ONE};
  initial[kRoot].strategy = f.strategy = kRootStrategies[rng_.below(4)];
  initial[kRoot].intensity = f.intensity = 1 + rng_.below(6);
  initial[kRoot].period_ms = f.period_ms = 100 + rng_.below(2000);
  airs_sup_spec* root = nullptr;
  if (airs_sup_spec_new(&f, &root) != AIRS_OK)
    return fail(std::string("airs_sup_spec_new: ") + airs_last_error_message());
  bool ok = true;
  for (int s = kOfo; s < kSups && ok; s++) {
    airs_sup_spec* mid = mid_spec(s, &initial[s]);
    if (!mid) {
      ok = fail(std::string("a middle spec: ") + airs_last_error_message());
      break;
    }
    MChild mc;
    mc.id = kSupIds[s];
    mc.name = kSupIds[s];  // threads.cpp finds the supervisors by name
    mc.restart = random_restart();
    mc.sub = s;
    airs_child_spec c;
    airs_child_spec_init(&c);
    c.id = mc.id.c_str();
    c.supervisor = mid;
    c.type = AIRS_CHILD_SUPERVISOR;
    c.restart = mc.restart;
    c.name = mc.name.c_str();
    if (airs_sup_spec_add_child(root, &c) != AIRS_OK)
      ok = fail(std::string("add_child: ") + airs_last_error_message());
    initial[kRoot].children.push_back(mc);
    airs_sup_spec_free(mid);  // the root's spec keeps its own reference
  }
  if (ok && airs_supervisor_start(rt_, root, &root_) != AIRS_OK)
    ok = fail(std::string("airs_supervisor_start: ") +
              airs_last_error_message());
  airs_sup_spec_free(root);
  if (!ok) return false;
  sup_pid_[kRoot] = root_;
  model_.init(initial);
  return true;
}

}  // namespace chaos
