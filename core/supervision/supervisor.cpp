// supervisor.cpp - a supervisor process: starting its tree, the process
// callbacks, and what it does when a child ends (restart policy,
// intensity, strategy).
#include "supervision/supervisor.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <utility>

#include "base/alloc.hpp"
#include "base/error.hpp"
#include "supervision/supervision.hpp"

namespace airs {

namespace {

// The user_data of a supervisor process: what its init starts from.
struct SupStart {
  Supervision* svc;
  airs_sup_spec* spec;  // one reference
  uint64_t parent;
  std::string* why;  // the failing child's message, for the caller
};

void free_sup_start(void* p) {
  auto* s = static_cast<SupStart*>(p);
  sup_spec_release(s->spec);
  destroy(s);
}

bool ends_quietly(const Reason* r) {
  return r->kind == AIRS_EXIT_NORMAL || r->kind == AIRS_EXIT_SHUTDOWN;
}

}  // namespace

// The supervisor's behaviour. Its state is the Supervisor object, owned by
// the runtime's table of supervisors until terminate.
struct SupProcess {
  static airs_status init(void* user_data, airs_ctx* c, void** state) {
    auto* s = static_cast<SupStart*>(user_data);
    Supervision& svc = *s->svc;
    std::shared_ptr<Supervisor> sup;
    try {
      sup = std::make_shared<Supervisor>(svc, s->spec, c->pid, s->parent);
    } catch (const std::bad_alloc&) {
      return fail(AIRS_ENOMEM, "out of memory");
    }
    if (!svc.add(c->pid, sup)) return fail(AIRS_ENOMEM, "out of memory");
    airs_status st;
    {
      Supervisor::Work work(*sup, Supervisor::Work::kTurn);
      st = sup->start_children();
    }
    if (st != AIRS_OK) {
      try {
        *s->why = last_error_message();  // for the caller of the start
      } catch (const std::bad_alloc&) {
      }
      svc.remove(c->pid);  // the last reference: freed here, unlocked
      return st;
    }
    *state = sup.get();
    return AIRS_OK;
  }

  static airs_status receive(void* state, airs_ctx* c, const airs_msg* m) {
    auto* sup = static_cast<Supervisor*>(state);
    Reason* exit = nullptr;
    {
      Supervisor::Work work(*sup, Supervisor::Work::kTurn);
      try {
        sup->handle(*c, m);
        sup->process_deferred();
      } catch (const std::bad_alloc&) {
        // A supervisor that cannot keep its books cannot supervise: it
        // stops (its children follow it through their links).
        return fail(AIRS_ENOMEM, "the supervisor ran out of memory");
      }
      exit = std::exchange(sup->exit_with_, nullptr);
    }
    if (exit) {
      reason_release(c->exit_request);
      c->exit_request = exit;
    }
    return AIRS_OK;
  }

  static void terminate(void* state, airs_ctx* c, const airs_reason*) {
    auto* sup = static_cast<Supervisor*>(state);
    std::shared_ptr<Supervisor> keep = sup->svc_.lookup(c->pid);
    std::vector<uint64_t> left;
    {
      Supervisor::Work work(*sup, Supervisor::Work::kTurn);
      sup->stop_held_children();
      sup->ended_ = true;
      // Killed, or its parent ended: what still runs is left to its links.
      try {
        for (const Child& ch : sup->children_)
          if (ch.pid) left.push_back(ch.pid);
      } catch (const std::bad_alloc&) {
      }
    }
    sup->svc_.leave_orphans(c->pid, std::move(left));
    sup->svc_.remove(c->pid);
  }
};

namespace {

const airs_behaviour kSupBehaviour = {AIRS_BEHAVIOUR_VERSION,
                                      sizeof(airs_behaviour),
                                      SupProcess::init,
                                      SupProcess::receive,
                                      SupProcess::terminate,
                                      nullptr,
                                      nullptr};

}  // namespace

airs_status Supervisor::start(Supervision& svc, airs_sup_spec* spec,
                              uint64_t parent, bool link_parent,
                              const char* name, uint64_t* out) {
  if (spec->flags.strategy == AIRS_SIMPLE_ONE_FOR_ONE &&
      spec->children.size() != 1)
    return fail(AIRS_EINVAL,
                "a simple_one_for_one spec needs its template (exactly one "
                "child spec)");
  spec->frozen.store(true, std::memory_order_release);
  auto* s = make<SupStart>();
  if (!s) return fail(AIRS_ENOMEM, "out of memory");
  std::string why;
  sup_spec_retain(spec);
  *s = SupStart{&svc, spec, parent, &why};
  airs_spawn_opts o{AIRS_SPAWN_OPTS_VERSION, sizeof o, AIRS_SPAWN_TRAP_EXIT, 0,
                    AIRS_MAILBOX_FAIL,       1000};
  SpawnArgs a{&kSupBehaviour, s, free_sup_start, nullptr, &o};
  a.link_to = link_parent ? parent : 0;
  a.name = name;
  HoldScope hold = svc.seam().hold();
  airs_status st = svc.seam().spawn(a, out);
  if (st != AIRS_OK && !why.empty()) fail(st, why.c_str());
  return st;
}

Supervisor::Supervisor(Supervision& svc, airs_sup_spec* spec, uint64_t self,
                       uint64_t parent)
    : svc_(svc),
      seam_(svc.seam()),
      spec_(spec),
      flags_(spec->flags),
      self_(self),
      parent_(parent) {
  sup_spec_retain(spec);
}

Supervisor::~Supervisor() {
  for (Deferred& d : deferred_) reason_release(d.reason);
  reason_release(job_.reason);
  reason_release(exit_with_);
  for (Child& ch : children_) seam_.timer_cancel(ch.kill_timer);
  for (uint64_t t : {job_.backoff_timer, health_timer_, health_timeout_timer_})
    seam_.timer_cancel(t);
  for (KeptEvent& k : kept_events_) reason_release(k.reason);
  // Nothing holds this supervisor now: user_data_free may run here.
  children_.clear();
  graveyard_.clear();
  sup_spec_release(spec_);
}

// --- starting ---------------------------------------------------------------

// [the role] Inside init: the tree starts on the spawning thread.
airs_status Supervisor::start_children() {
  if (!is_pool()) {
    for (const ChildRec& r : spec_->children) {
      Child* ch = nullptr;
      try {
        ch = &children_.emplace_back();
        ch->self = std::prev(children_.end());
        ch->rec = r.clone();
        by_id_[ch->rec.id] = ch;
      } catch (const std::bad_alloc&) {
        if (ch) {
          by_id_.erase(ch->rec.id);
          children_.pop_back();
        }
        stop_held_children();
        return fail(AIRS_ENOMEM, "out of memory");
      }
      airs_status st = start_one(*ch, false);
      if (st == AIRS_OK && ch->drop) drop(*ch);  // a temporary one ignored
      if (st != AIRS_OK) {
        char why[400];
        std::snprintf(why, sizeof why, "%s", last_error_message());
        stop_held_children();
        return failf(st, "child '%s' failed to start: %s", ch->rec.id.c_str(),
                     why);
      }
    }
  }
  if (flags_.health_interval_ms > 0)
    health_timer_ = self_timer(flags_.health_interval_ms, kMsgSupHealthTick, 0);
  return AIRS_OK;
}

// One start of a child. Under a hold: when this start is part of a bigger
// one (the tree of a supervisor being started), its processes run only
// once the whole tree has started.
airs_status Supervisor::start_one(Child& ch, bool restart) {
  uint64_t pid = 0;
  airs_status st;
  const char* name = ch.rec.name.empty() ? nullptr : ch.rec.name.c_str();
  outside([&] {  // the child's init is user code
    HoldScope hold = seam_.hold();
    if (ch.rec.sup) {
      st = Supervisor::start(svc_, ch.rec.sup, self_, true, name, &pid);
    } else {
      spec_retain(ch.rec.start);  // the new process's reference
      SpawnArgs a{&ch.rec.start->behaviour, ch.rec.start->user_data, nullptr,
                  ch.rec.start, ch.rec.has_opts ? &ch.rec.opts : nullptr};
      a.link_to = self_;
      a.name = name;
      st = seam_.spawn(a, &pid);
    }
  });
  if (st == AIRS_IGNORE) {
    // OTP's ignore: no process, not a failure. The spec stays, STOPPED;
    // a temporary one, or a pool's child, goes (the caller drops it, or
    // the job it is part of).
    ch.state = AIRS_CHILD_STOPPED;
    if (ch.rec.restart == AIRS_RESTART_TEMPORARY || is_pool()) ch.drop = true;
    return AIRS_OK;
  }
  if (st != AIRS_OK) {
    emit(AIRS_EVENT_CHILD_START_FAILED, &ch, 0, 0, st, nullptr,
         AIRS_SEVERITY_ERROR);
    return st;
  }
  try {
    by_pid_[pid] = &ch;
  } catch (const std::bad_alloc&) {
    // Started, but it could not be kept track of: it must not live on
    // unsupervised. Ended at once if held (not run yet), else killed.
    outside([&] {
      if (!seam_.end_held(pid, reason_static(AIRS_EXIT_KILLED)))
        seam_.exit_signal(pid, AIRS_EXIT_KILLED, 0, nullptr, self_);
    });
    emit(AIRS_EVENT_CHILD_START_FAILED, &ch, 0, 0, AIRS_ENOMEM, nullptr,
         AIRS_SEVERITY_ERROR);
    return fail(AIRS_ENOMEM, "out of memory");
  }
  ch.pid = pid;
  ch.state = AIRS_CHILD_RUNNING;
  ch.health_fails = 0;
  ch.health_round = 0;
  emit(AIRS_EVENT_CHILD_STARTED, &ch, pid, 0, 0, nullptr);
  if (restart && ch.last_pid) {
    seam_.count_restart();
    emit(AIRS_EVENT_CHILD_RESTARTED, &ch, pid, ch.last_pid, 0, nullptr);
  }
  return AIRS_OK;
}

// A start failed, or a supervisor being started is ended by its own
// failing parent: its children have not run yet (they are held), so they
// are ended here and now, in reverse start order. Children that are not
// held are left to their links.
void Supervisor::stop_held_children() noexcept {
  for (auto it = children_.rbegin(); it != children_.rend(); ++it) {
    Child& ch = *it;
    if (!ch.pid) continue;
    uint64_t pid = ch.pid;
    Reason* r = reason_static(ch.rec.shutdown == AIRS_SHUTDOWN_BRUTAL_KILL
                                  ? AIRS_EXIT_KILLED
                                  : AIRS_EXIT_SHUTDOWN);
    bool held = false;
    outside([&] { held = seam_.end_held(pid, r); });  // terminate: user code
    if (!held) continue;
    by_pid_.erase(pid);
    ch.pid = 0;
    ch.state = AIRS_CHILD_STOPPED;
    emit(AIRS_EVENT_CHILD_STOPPING, &ch, pid, 0, ch.rec.shutdown, nullptr);
    emit(AIRS_EVENT_CHILD_EXITED, &ch, pid, 0, 0, r);
  }
}

// --- messages
// -----------------------------------------------------------------

void Supervisor::handle(Ctx&, const Msg* m) {
  switch (m->type) {
    case AIRS_MSG_EXIT:
      exit_arrived(m->sender, m->reason, m->signal == Signal::kLinkExit);
      break;
    case AIRS_MSG_DOWN:
      down_arrived(m->sender, m->correlation, m->reason);
      break;
    case kMsgSupKill: killer_fired(m->correlation); break;
    case kMsgSupBackoff:
      if (job_.kind == Job::kRestart && job_.seq == m->correlation &&
          job_.backoff_timer) {
        job_.backoff_timer = 0;
        job_.backoff_done = true;
        after_stops();
      }
      break;
    case kMsgSupRetry:
      retry_pending_ = false;
      if (job_.kind != Job::kNone)
        deferred_.push_back(Deferred{Deferred::kRetry, 0, nullptr, false});
      else
        retry();
      break;
    case kMsgHealthReply: {
      int32_t h = AIRS_HEALTH_HEALTHY;
      if (m->size == sizeof h) std::memcpy(&h, m->data, sizeof h);
      health_answer(m->sender, m->correlation, h);
      break;
    }
    case kMsgSupHealthTick: health_tick(); break;
    case kMsgSupHealthTimeout: health_timeout(m->correlation); break;
    default: break;  // not for a supervisor: ignored, as OTP does
  }
}

// An exit signal turned message. From a link: a child ended (or the
// parent supervisor did). Sent with airs_send_exit/airs_stop by anyone: an
// order to shut down with that reason, unless it is `normal`.
void Supervisor::exit_arrived(uint64_t from, Reason* reason, bool from_link) {
  if (job_.kind != Job::kNone) {
    Child* ch = from_link ? by_pid(from) : nullptr;
    if (!ch || !(ch->job_stop || ch->in_job)) {
      // The job comes first; this waits its turn, as in OTP, where the
      // supervisor is busy until the stop is done.
      reason_retain(reason);
      deferred_.push_back(Deferred{Deferred::kExit, from, reason, from_link});
      return;
    }
  }
  if (!from_link) {
    if (reason->kind != AIRS_EXIT_NORMAL) begin_shutdown(reason);
    return;
  }
  if (Child* ch = by_pid(from)) {
    child_exited(*ch, reason);
    return;
  }
  // OTP's parent rule (gen_server): an exit signal from the parent stops
  // the supervisor with that reason, `normal` too.
  if (from == parent_ && from != 0) begin_shutdown(reason);
  // Another linked process ended: not ours to act on (OTP logs it).
}

// The watch a stop made (OTP's shutdown monitor): the child has ended,
// whether or not it is still linked. Its exit signal, if it comes too,
// finds no child by that pid and is ignored.
void Supervisor::down_arrived(uint64_t from, uint64_t ref, Reason* reason) {
  auto& waits = job_.orphan_refs;
  if (auto it = std::find(waits.begin(), waits.end(), ref); it != waits.end()) {
    waits.erase(it);
    if (waits.empty() && job_.kind == Job::kRestart) after_stops();
    return;
  }
  Child* ch = by_pid(from);
  if (!ch || !ref || ch->stop_ref != ref) return;  // a stale one
  exit_arrived(from, reason, true);
}

void Supervisor::process_deferred() {
  while (job_.kind == Job::kNone && !exit_with_ && !deferred_.empty()) {
    Deferred d = deferred_.front();
    deferred_.pop_front();
    // The popped entry's reference goes however this ends: a bad_alloc
    // out of exit_arrived (SupProcess::receive then stops the supervisor)
    // skipped a release after the switch and leaked the reason.
    struct Release {
      Reason* r;
      ~Release() { reason_release(r); }
    } release{d.reason};
    switch (d.what) {
      case Deferred::kExit: exit_arrived(d.from, d.reason, d.from_link); break;
      case Deferred::kRetry: retry(); break;
      case Deferred::kTerminate:
        // That process may be gone (and restarted) by now: then nothing.
        if (Child* ch = by_pid(d.from)) {
          begin_job(Job::kTerminate, {ch});
          advance();
        }
        break;
    }
  }
}

void Supervisor::child_exited(Child& ch, Reason* reason) {
  uint64_t pid = ch.pid;
  seam_.timer_cancel(ch.kill_timer);
  ch.kill_timer = 0;
  ch.stop_ref = 0;  // its DOWN, if it comes, finds no child by pid
  if (ch.rec.sup) ch.orphans = svc_.take_orphans(pid);
  by_pid_.erase(pid);
  ch.last_pid = pid;
  ch.pid = 0;
  ch.health_round = 0;
  bool asked = ch.job_stop || ch.in_job;
  emit(
      AIRS_EVENT_CHILD_EXITED, &ch, pid, 0, 0, reason,
      asked || ends_quietly(reason) ? AIRS_SEVERITY_INFO : AIRS_SEVERITY_ERROR);
  if (asked) {
    // Stopped by the job (or ended by itself before the job got to it):
    // the job decides what follows.
    bool temporary = ch.rec.restart == AIRS_RESTART_TEMPORARY;
    ch.state = job_.kind == Job::kRestart && !temporary ? AIRS_CHILD_RESTARTING
                                                        : AIRS_CHILD_STOPPED;
    if (temporary) ch.drop = true;
    if (ch.job_stop) {
      ch.job_stop = false;
      job_.waiting--;
      advance();
    }
    return;
  }
  ch.health_stop = false;
  apply_policy(ch, reason);
}

// The child ended by itself (or failed its health checks): restart it by
// its policy and the strategy, or give up.
void Supervisor::apply_policy(Child& ch, Reason* reason) {
  bool restart = false;
  switch (ch.rec.restart) {
    case AIRS_RESTART_PERMANENT: restart = true; break;
    case AIRS_RESTART_TRANSIENT: restart = !ends_quietly(reason); break;
    case AIRS_RESTART_TEMPORARY: restart = false; break;
  }
  if (seam_.shutting_down()) restart = false;
  if (!restart) {
    bool significant = ch.rec.significant;
    if (ch.rec.restart == AIRS_RESTART_TEMPORARY || is_pool())
      drop(ch);
    else
      ch.state = AIRS_CHILD_STOPPED;
    if (significant && flags_.auto_shutdown != AIRS_AUTO_SHUTDOWN_NEVER) {
      bool any_left = false;
      for (const Child& c : children_)
        if (c.rec.significant && c.state != AIRS_CHILD_STOPPED) any_left = true;
      if (flags_.auto_shutdown == AIRS_AUTO_SHUTDOWN_ANY_SIGNIFICANT ||
          !any_left)
        begin_shutdown(reason_static(AIRS_EXIT_SHUTDOWN));
    }
    return;
  }
  size_t n = add_restart();
  if (n > flags_.intensity) {
    seam_.count_intensity_reached();
    emit(AIRS_EVENT_INTENSITY_REACHED, &ch, ch.last_pid, 0,
         static_cast<int64_t>(n), nullptr, AIRS_SEVERITY_ERROR);
    ch.state = AIRS_CHILD_STOPPED;
    begin_shutdown(reason_static(AIRS_EXIT_SHUTDOWN));
    return;
  }
  begin_restart(ch);
}

// Records a restart now; returns how many fall within the period (OTP:
// those at or after now - period).
size_t Supervisor::add_restart() {
  uint64_t now = seam_.now_ms();
  restarts_.push_back(now);
  uint64_t oldest = now >= flags_.period_ms ? now - flags_.period_ms : 0;
  while (restarts_.front() < oldest) restarts_.pop_front();
  return restarts_.size();
}

void Supervisor::begin_restart(Child& ch) {
  emit(AIRS_EVENT_STRATEGY_APPLIED, &ch, ch.last_pid, 0, flags_.strategy,
       nullptr, AIRS_SEVERITY_WARNING);
  restart_group(ch);
}

// Restarts `anchor` with the children that go with it by the strategy:
// those of its group that run are stopped (reverse start order; a
// temporary one is dropped), then all of the group start again in start
// order, those stopped by terminate_child or ended for good too, as OTP's
// restart of a group starts every child of it.
void Supervisor::restart_group(Child& anchor) {
  auto first = group_begin(anchor);
  auto last = is_group() ? children_.end() : std::next(anchor.self);
  anchor.state = AIRS_CHILD_RESTARTING;
  Vector<Child*> group;  // in start order
  for (auto it = first; it != last; ++it) group.push_back(&*it);
  Vector<Child*> stops;
  for (auto it = group.rbegin(); it != group.rend(); ++it)
    if (*it != &anchor && (*it)->pid) stops.push_back(*it);
  begin_job(Job::kRestart, std::move(stops));
  for (Child* c : group) {
    if (c->rec.restart == AIRS_RESTART_TEMPORARY) continue;  // dropped
    if (c->state == AIRS_CHILD_STOPPED) c->state = AIRS_CHILD_RESTARTING;
    job_.starts.push_back(c);
  }
  advance();
}

// A start failed during a restart: OTP tries again, and every try counts
// toward the intensity, so a child that cannot start ends in escalation.
// In a group strategy the try is a restart of the failed child's group
// (the children of it that did start are stopped again); one_for_one
// tries every child that is waiting for it.
void Supervisor::retry() {
  Child* anchor = nullptr;
  Vector<Child*> starts;
  if (is_group()) {
    anchor = std::exchange(retry_anchor_, nullptr);
    if (!anchor || anchor->state != AIRS_CHILD_RESTARTING) return;
  } else {
    for (Child& c : children_)
      if (c.state == AIRS_CHILD_RESTARTING) starts.push_back(&c);
    if (starts.empty()) return;
  }
  size_t n = add_restart();
  if (n > flags_.intensity) {
    seam_.count_intensity_reached();
    emit(AIRS_EVENT_INTENSITY_REACHED, anchor ? anchor : starts[0], 0, 0,
         static_cast<int64_t>(n), nullptr, AIRS_SEVERITY_ERROR);
    for (Child& c : children_)
      if (c.state == AIRS_CHILD_RESTARTING) c.state = AIRS_CHILD_STOPPED;
    begin_shutdown(reason_static(AIRS_EXIT_SHUTDOWN));
    return;
  }
  if (anchor) {
    restart_group(*anchor);
    return;
  }
  begin_job(Job::kRestart, {});
  job_.starts = std::move(starts);
  advance();
}

// terminate_child on the child a group's retry is for: the retry is off,
// and the children of its group that were waiting for it stay stopped
// (OTP's try_again finds the child stopped and does nothing).
void Supervisor::cancel_group_retry(Child& anchor) {
  retry_anchor_ = nullptr;
  for (auto it = group_begin(anchor); it != children_.end(); ++it)
    if (it->state == AIRS_CHILD_RESTARTING) it->state = AIRS_CHILD_STOPPED;
}

void Supervisor::begin_shutdown(Reason* reason) {
  emit(AIRS_EVENT_SUPERVISOR_SHUTDOWN, nullptr, 0, 0, 0, reason,
       reason->kind == AIRS_EXIT_SHUTDOWN ? AIRS_SEVERITY_WARNING
                                          : AIRS_SEVERITY_ERROR);
  Vector<Child*> stops;
  for (auto it = children_.rbegin(); it != children_.rend(); ++it)
    stops.push_back(&*it);
  begin_job(Job::kShutdown, std::move(stops));
  reason_retain(reason);
  job_.reason = reason;
  job_.parallel = is_pool();
  advance();
}

void Supervisor::drop(Child& ch) {
  if (&ch == retry_anchor_) retry_anchor_ = nullptr;
  if (ch.pid) by_pid_.erase(ch.pid);
  if (!ch.rec.id.empty()) by_id_.erase(ch.rec.id);
  seam_.timer_cancel(ch.kill_timer);
  bury(std::move(ch.rec));  // its user_data_free is user code: later
  children_.erase(ch.self);
}

void Supervisor::killer_fired(uint64_t pid) {
  Child* ch = by_pid(pid);
  if (!ch || ch->state != AIRS_CHILD_STOPPING) return;
  ch->kill_timer = 0;
  emit(AIRS_EVENT_CHILD_KILLED, ch, pid, 0, ch->rec.shutdown_ms, nullptr,
       AIRS_SEVERITY_WARNING);
  outside([&] { seam_.exit_signal(pid, AIRS_EXIT_KILLED, 0, nullptr, self_); });
}

Child* Supervisor::by_pid(uint64_t pid) noexcept {
  auto it = by_pid_.find(pid);
  return it == by_pid_.end() ? nullptr : it->second;
}

Child* Supervisor::by_id(const char* id) noexcept {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

// --- events
// -------------------------------------------------------------------

// A message of `type` (correlation `corr`) to this supervisor in `ms`;
// the timer's id, or 0 if there was no memory for it.
uint64_t Supervisor::self_timer(uint64_t ms, uint64_t type,
                                uint64_t corr) noexcept {
  Msg* m = msg_new_copy(type, nullptr, 0);
  if (!m) return 0;
  m->correlation = corr;
  uint64_t id = seam_.timer_add(self_, ms, m);
  if (!id) msg_free(m);
  return id;
}

// --- the table of supervisors -----------------------------------------------

airs_status Supervision::start(airs_sup_spec* spec, uint64_t* out) noexcept {
  try {
    // Started from a callback: that process is the parent (OTP's
    // start_link), once it links to the supervisor.
    Ctx* c = seam_.current_ctx();
    return Supervisor::start(*this, spec, c ? c->pid : 0, false, nullptr, out);
  } catch (const std::bad_alloc&) {
    return fail(AIRS_ENOMEM, "out of memory");
  }
}

bool Supervision::add(uint64_t pid, std::shared_ptr<Supervisor> s) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  try {
    by_pid_[pid] = std::move(s);
  } catch (const std::bad_alloc&) {
    return false;
  }
  return true;
}

void Supervision::remove(uint64_t pid) noexcept {
  std::shared_ptr<Supervisor> last;  // destroyed outside the lock
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_pid_.find(pid);
  if (it == by_pid_.end()) return;
  last = std::move(it->second);
  by_pid_.erase(it);
}

void Supervision::leave_orphans(uint64_t sup,
                                std::vector<uint64_t> pids) noexcept {
  if (pids.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  try {
    orphans_[sup] = std::move(pids);
  } catch (const std::bad_alloc&) {
  }
}

std::vector<uint64_t> Supervision::take_orphans(uint64_t sup) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = orphans_.find(sup);
  if (it == orphans_.end()) return {};
  std::vector<uint64_t> out = std::move(it->second);
  orphans_.erase(it);
  return out;
}

std::shared_ptr<Supervisor> Supervision::lookup(uint64_t pid) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_pid_.find(pid);
  return it == by_pid_.end() ? nullptr : it->second;
}

uint64_t Supervision::parent_of(uint64_t pid, char* id, size_t cap) noexcept {
  std::vector<std::shared_ptr<Supervisor>> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    try {
      all.reserve(by_pid_.size());
      for (auto& kv : by_pid_) all.push_back(kv.second);
    } catch (const std::bad_alloc&) {
      return 0;
    }
  }
  for (auto& s : all)
    if (s->child_id_of(pid, id, cap)) return s->self_pid();
  return 0;
}

bool Supervision::list(
    std::vector<std::pair<uint64_t, uint64_t>>* out) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  try {
    out->clear();
    out->reserve(by_pid_.size());
    for (auto& kv : by_pid_) out->emplace_back(kv.first, kv.second->parent());
  } catch (const std::bad_alloc&) {
    return false;
  }
  std::sort(out->begin(), out->end());
  return true;
}

bool Supervisor::child_id_of(uint64_t pid, char* id, size_t cap) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  for (const Child& ch : children_) {
    if (ch.pid != pid) continue;
    if (cap) {
      size_t n = std::min(ch.rec.id.size(), cap - 1);
      std::memcpy(id, ch.rec.id.data(), n);
      id[n] = '\0';
    }
    return true;
  }
  return false;
}

airs_status Supervision::find(uint64_t pid,
                              std::shared_ptr<Supervisor>* out) noexcept {
  *out = lookup(pid);
  if (*out) return AIRS_OK;
  if (seam_.live(pid))
    return failf(AIRS_EINVAL, "process %llu is not a supervisor",
                 static_cast<unsigned long long>(pid));
  return failf(AIRS_ENOPROC, "supervisor %llu is not alive",
               static_cast<unsigned long long>(pid));
}

}  // namespace airs
