// model.cpp - the rules of supervisor.h, applied to the model.
#include "model.hpp"

namespace chaos {

void Model::init(const MSup (&initial)[kSups]) {
  for (int s = 0; s < kSups; s++) {
    initial_[s] = initial[s];
    sup[s] = initial[s];
    for (MChild& c : sup[s].children) c.gen = next_gen++;
  }
}

int Model::find(int s, const std::string& id) const {
  const std::vector<MChild>& cs = sup[s].children;
  for (size_t i = 0; i < cs.size(); i++)
    if (cs[i].id == id) return static_cast<int>(i);
  return -1;
}

uint64_t Model::live() const {
  uint64_t n = 0;
  for (int s = 0; s < kSups; s++) {
    if (!sup[s].alive) continue;
    n++;                       // the supervisor itself
    if (s == kRoot) continue;  // its children are the supervisors
    for (const MChild& c : sup[s].children) n += c.running;
  }
  return n;
}

// "More than `intensity` restarts within `period_ms`": the restarts at or
// after now - period count, this one included.
bool Model::add_restart(int s) {
  MSup& m = sup[s];
  m.restarts.push_back(now_);
  uint64_t oldest = now_ >= m.period_ms ? now_ - m.period_ms : 0;
  while (m.restarts.front() < oldest) m.restarts.pop_front();
  return m.restarts.size() <= m.intensity;
}

void Model::child_exit(int s, size_t index, bool quiet) {
  MSup& m = sup[s];
  MChild& c = m.children[index];
  c.running = false;
  if (s == kRoot) stop_subtree(c.sub);
  bool restart = c.restart == AIRS_RESTART_PERMANENT ||
                 (c.restart == AIRS_RESTART_TRANSIENT && !quiet);
  if (!restart) {
    // Temporary children and a pool's children are dropped; the others
    // keep their spec, stopped.
    if (c.restart == AIRS_RESTART_TEMPORARY || s == kPool)
      m.children.erase(m.children.begin() + static_cast<long>(index));
    return;
  }
  if (!add_restart(s)) {
    give_up(s);
    return;
  }
  restart_group(s, index);
}

void Model::sup_killed(int s) {
  stop_subtree(s);
  for (size_t k = 0; k < sup[kRoot].children.size(); k++)
    if (sup[kRoot].children[k].sub == s) {
      child_exit(kRoot, k, false);
      return;
    }
}

// The children of the group start again in start order: in one_for_one
// the anchor, in one_for_all all, in rest_for_one the anchor and the
// ones after it; those stopped by terminate_child too. A temporary one
// in the group is stopped and dropped. Each start counts in the stats.
void Model::restart_group(int s, size_t anchor) {
  MSup& m = sup[s];
  size_t first = anchor, last = anchor + 1;
  if (m.strategy == AIRS_ONE_FOR_ALL) first = 0;
  if (m.strategy == AIRS_ONE_FOR_ALL || m.strategy == AIRS_REST_FOR_ONE)
    last = m.children.size();
  std::vector<MChild> kept(m.children.begin(),
                           m.children.begin() + static_cast<long>(first));
  for (size_t i = first; i < last; i++) {
    MChild c = m.children[i];
    if (c.restart == AIRS_RESTART_TEMPORARY) {
      if (s == kRoot && c.running) stop_subtree(c.sub);
      continue;
    }
    if (s == kRoot) fresh(c.sub);
    c.running = true;
    c.gen = next_gen++;
    restarts++;
    kept.push_back(c);
  }
  for (size_t i = last; i < m.children.size(); i++)
    kept.push_back(m.children[i]);
  m.children = kept;
}

// Too many restarts: the supervisor stops its children and exits with
// `shutdown`, which its parent handles by the supervisor's own policy.
void Model::give_up(int s) {
  stop_subtree(s);
  if (s == kRoot) {
    // Other subtrees may still have been settling faults of their own:
    // how many of those restarts happened first is up to the order.
    exact_restarts = false;
    return;
  }
  for (size_t k = 0; k < sup[kRoot].children.size(); k++)
    if (sup[kRoot].children[k].sub == s) {
      child_exit(kRoot, k, true);
      return;
    }
}

void Model::stop_subtree(int s) {
  MSup& m = sup[s];
  if (!m.alive) return;
  m.alive = false;
  for (MChild& c : m.children) {
    c.running = false;
    if (s == kRoot) stop_subtree(c.sub);
  }
}

void Model::fresh(int s) {
  sup[s] = initial_[s];
  for (MChild& c : sup[s].children) c.gen = next_gen++;
}

airs_status Model::terminate_child(int s, const std::string& id) {
  int i = find(s, id);
  if (i < 0) return AIRS_ENOTFOUND;
  MChild& c = sup[s].children[static_cast<size_t>(i)];
  if (!c.running) return AIRS_OK;
  c.running = false;
  if (s == kRoot) stop_subtree(c.sub);
  if (c.restart == AIRS_RESTART_TEMPORARY)
    sup[s].children.erase(sup[s].children.begin() + i);
  return AIRS_OK;
}

airs_status Model::restart_child(int s, const std::string& id) {
  int i = find(s, id);
  if (i < 0) return AIRS_ENOTFOUND;
  MChild& c = sup[s].children[static_cast<size_t>(i)];
  if (c.running) return AIRS_ESTATE;
  c.running = true;
  c.gen = next_gen++;
  if (s == kRoot) fresh(c.sub);
  return AIRS_OK;
}

airs_status Model::delete_child(int s, const std::string& id) {
  int i = find(s, id);
  if (i < 0) return AIRS_ENOTFOUND;
  if (sup[s].children[static_cast<size_t>(i)].running) return AIRS_ESTATE;
  sup[s].children.erase(sup[s].children.begin() + i);
  return AIRS_OK;
}

void Model::start_child(int s, const MChild& child) {
  MChild c = child;
  c.running = true;
  c.gen = next_gen++;
  sup[s].children.push_back(c);
}

void Model::pool_terminate(size_t index) {
  sup[kPool].children.erase(sup[kPool].children.begin() +
                            static_cast<long>(index));
}

}  // namespace chaos
