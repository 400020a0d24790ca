// signals.cpp - links, monitors and exit signals: made, received, spread
// at the end of a process, and answered for pids that are gone.
#include "kernel/signals.hpp"

#include "base/error.hpp"
#include "base/limits.hpp"
#include "kernel/kernel.hpp"

namespace airs {

namespace {

// A link or monitor record: the envelope that will tell `other` of this
// process's end (see ProcessExtra).
Msg* new_record(Signal kind, uint64_t other, uint64_t ref) noexcept {
  Msg* m = msg_new_signal(kind, 0, nullptr, ref);
  if (m) m->to = other;
  return m;
}

// Turns `m` (a record or a request) into the signal `kind` from `from`
// with `reason`, and sends it to `to`.
void send_as(Mail& mail, Msg* m, Signal kind, uint64_t from, uint64_t to,
             Reason* reason) noexcept {
  m->signal = kind;
  m->sender = from;
  if (m->has_reason) reason_release(m->reason);
  reason_retain(reason);
  m->reason = reason;
  m->has_reason = 1;
  mail.signal_or_drop(to, m);
}

// The signal that tells a monitor's maker of the end: a service's watch
// is delivered without a record to check (see watch()).
Signal down_of(const Msg* record) noexcept {
  return record->signal == Signal::kWatch ? Signal::kWatchDown : Signal::kDown;
}

}  // namespace

bool Signals::remote(uint64_t pid) const noexcept {
  return k_.table.foreign(pid);
}

// A pid of another runtime is taken on trust while a transport is
// installed: only its own runtime knows whether it lives.
bool Signals::may_exist(uint64_t pid) const noexcept {
  return remote(pid) ? k_.remote.installed() : ever_existed(pid);
}

void Signals::tie_remote(Process* p, uint64_t pid) noexcept {
  if (remote(pid)) p->flags.fetch_or(kRemoteTies, std::memory_order_seq_cst);
}

bool Signals::ever_existed(uint64_t pid) const noexcept {
  Process* p = k_.table.lookup(pid);
  return p && pid_generation(pid) != 0 &&
         pid_generation(pid) <=
             pid_generation(p->pid.load(std::memory_order_acquire));
}

// --- made by a process -----------------------------------------------------

airs_status Signals::link(Ctx* c, uint64_t pid) noexcept {
  if (c->ending) return fail(AIRS_ESTATE, kEndingText);
  if (pid == c->pid) return AIRS_OK;  // Erlang: link(self()) does nothing
  if (!may_exist(pid)) return fail(AIRS_ENOPROC, "no such process");
  ProcessExtra* x = c->proc->ensure_extra();
  if (!x) return fail(AIRS_ENOMEM, "out of memory");
  Msg* record = x->link_record(pid);
  if (record && record->correlation == 0) return AIRS_OK;  // linked already
  Msg* request = msg_new_signal(Signal::kLink, c->pid, nullptr, 0);
  if (!request) return fail(AIRS_ENOMEM, "out of memory");
  if (record) {
    // Our unlink is not answered yet: linked again, so that its answer
    // does not drop the record; the request goes after the unlink.
    record->correlation = 0;
  } else if (!(record = new_record(Signal::kLinkExit, pid, 0)) ||
             !x->add_link(record)) {
    msg_free(request);
    msg_free(record);
    return fail(AIRS_ENOMEM, "out of memory");
  }
  tie_remote(c->proc, pid);           // before the request leaves (node_down)
  if (!k_.mail.signal(pid, request))  // already gone: the exit signal a
    refuse(request, pid, reason_static(AIRS_EXIT_NOPROC));  // dead link gives
  return AIRS_OK;
}

// Erlang's link protocol (OTP 23.3, OTP-17127; "Link Protocol" in
// erl_dist_protocol): our record stays, marked with the id of this unlink
// (inactive), until the other end answers that it has seen the unlink.
// Meanwhile a link request from the other end is one it made before it saw
// our unlink, which will drop its end: ignored, or the two ends would
// disagree (one linked, one not) once the signals cross. An unlink from
// the other end leaves the record to our own unlink's answer. An exit
// signal through the link is ignored from now on.
airs_status Signals::unlink(Ctx* c, uint64_t pid) noexcept {
  ProcessExtra* x = c->proc->extra;
  Msg* record = x ? x->link_record(pid) : nullptr;
  if (!record || record->correlation != 0) return AIRS_OK;  // none, or going
  uint64_t id = next_ref_.fetch_add(1, std::memory_order_relaxed);
  Msg* m = msg_new_signal(Signal::kUnlink, c->pid, nullptr, id);
  if (!m) return fail(AIRS_ENOMEM, "out of memory");
  record->correlation = id;
  if (!k_.mail.signal_or_drop(pid, m))  // gone: nobody will answer
    msg_free(x->take_link(pid));
  return AIRS_OK;
}

airs_status Signals::monitor(Ctx* c, uint64_t pid, uint64_t* ref) noexcept {
  if (c->ending) return fail(AIRS_ESTATE, kEndingText);
  if (!may_exist(pid)) return fail(AIRS_ENOPROC, "no such process");
  ProcessExtra* x = c->proc->ensure_extra();
  if (!x) return fail(AIRS_ENOMEM, "out of memory");
  uint64_t r = next_ref_.fetch_add(1, std::memory_order_relaxed);
  if (pid == c->pid) {
    // Erlang: a monitor of oneself is made, and can be demonitored, but
    // its DOWN never comes (there is nobody left to get it).
    if (!x->add_monitor(MonitorEntry{r, pid}))
      return fail(AIRS_ENOMEM, "out of memory");
    *ref = r;
    return AIRS_OK;
  }
  // The request becomes the target's record of the monitor: its DOWN.
  Msg* request = msg_new_signal(Signal::kMonitor, c->pid, nullptr, r);
  // Another runtime's pid: the DOWN for losing that runtime, made now.
  Msg* lost = remote(pid)
                  ? msg_new_signal(Signal::kDownLost, pid,
                                   reason_static(AIRS_EXIT_NOCONNECTION), r)
                  : nullptr;
  if (!request || (remote(pid) && !lost) ||
      !x->add_monitor(MonitorEntry{r, pid, lost})) {
    msg_free(request);
    msg_free(lost);
    return fail(AIRS_ENOMEM, "out of memory");
  }
  tie_remote(c->proc, pid);  // before the request leaves (node_down)
  if (!k_.mail.signal(pid, request))
    refuse(request, pid, reason_static(AIRS_EXIT_NOPROC));
  *ref = r;
  return AIRS_OK;
}

airs_status Signals::demonitor(Ctx* c, uint64_t ref) noexcept {
  ProcessExtra* x = c->proc->extra;
  uint64_t target = 0;
  // Erlang: demonitor of a ref that is not (or no longer) a monitor is
  // fine, its DOWN may have come already.
  if (!x || !x->remove_monitor(ref, &target)) return AIRS_OK;
  if (target == c->pid) return AIRS_OK;  // a monitor of oneself
  // Best effort: without it, the target keeps a record whose DOWN will be
  // dropped here (no longer monitored).
  if (Msg* m = msg_new_signal(Signal::kDemonitor, c->pid, nullptr, ref))
    k_.mail.signal_or_drop(target, m);
  return AIRS_OK;
}

airs_status Signals::trap_exit(Ctx* c, bool on) noexcept {
  if (on)
    c->proc->flags.fetch_or(kTrapExit, std::memory_order_relaxed);
  else
    c->proc->flags.fetch_and(~kTrapExit, std::memory_order_relaxed);
  return AIRS_OK;
}

airs_status Signals::exit_self(Ctx* c, int kind, int32_t code,
                               const char* text) noexcept {
  if (airs_status st = check_exit_kind(kind); st != AIRS_OK) return st;
  if (c->ending) return AIRS_OK;  // already ending
  Reason* r = reason_new(static_cast<airs_exit_kind>(kind), code, text);
  if (!r) return fail(AIRS_ENOMEM, "out of memory");
  reason_release(c->exit_request);
  c->exit_request = r;
  return AIRS_OK;
}

// --- sent by anyone --------------------------------------------------------

airs_status Signals::exit_signal(uint64_t to, int kind, int32_t code,
                                 const char* text, uint64_t from) noexcept {
  if (airs_status st = check_exit_kind(kind); st != AIRS_OK) return st;
  // A kill crosses runtimes as an exit signal `killed`, which the other
  // side makes as untrappable as its own (exit_arrived), in the order of
  // the sender's messages.
  if (kind == AIRS_EXIT_KILLED && !remote(to)) return kill(to);
  if (!remote(to) && !k_.processes.live(to))
    return fail(AIRS_ENOPROC, "not alive");
  Ctx* c = current_ctx_in(&k_);
  uint64_t sender = from != kFromCaller ? from : c ? c->pid : 0;
  Reason* r = reason_new(static_cast<airs_exit_kind>(kind), code, text);
  if (!r) return fail(AIRS_ENOMEM, "out of memory");
  Msg* m = msg_new_signal(Signal::kExit, sender, r, 0);
  reason_release(r);
  if (!m) return fail(AIRS_ENOMEM, "out of memory");
  if (!k_.mail.signal_or_drop(to, m)) return fail(AIRS_ENOPROC, "not alive");
  return AIRS_OK;
}

// A kill is a mark on the process (the generation it is for), which the
// turn looks at before each message and at its start: it jumps ahead of
// everything queued, high priority too, and needs no memory. The kill
// signal only wakes the process; without memory for it, the mark wakes
// it (Mail::wake).
airs_status Signals::kill(uint64_t to) noexcept {
  Process* p = k_.processes.live(to);
  if (!p) return fail(AIRS_ENOPROC, "not alive");
  p->kill_gen.store(pid_generation(to), std::memory_order_seq_cst);
  Ctx* c = current_ctx_in(&k_);
  Msg* m = msg_new_signal(Signal::kKill, c ? c->pid : 0, nullptr, 0);
  if (m)
    k_.mail.signal_or_drop(to, m);  // gone meanwhile: the kill took effect
  else
    k_.mail.wake(p);
  return AIRS_OK;
}

airs_status Signals::watch(uint64_t watcher, uint64_t target,
                           uint64_t* ref) noexcept {
  uint64_t r = next_ref_.fetch_add(1, std::memory_order_relaxed);
  Msg* request = msg_new_signal(Signal::kWatch, watcher, nullptr, r);
  if (!request) return fail(AIRS_ENOMEM, "out of memory");
  *ref = r;
  // A target that is ending answers when its end is done (its name and
  // memberships gone): a restart waiting for it never races its end.
  if (!k_.mail.signal_until_ended(target, request))
    refuse(request, target, reason_static(AIRS_EXIT_NOPROC));
  return AIRS_OK;
}

bool Signals::probe_health(uint64_t pid, uint64_t from,
                           uint64_t round) noexcept {
  Msg* m = msg_new_signal(Signal::kHealth, from, nullptr, round);
  return m && k_.mail.signal_or_drop(pid, m);
}

// --- links made at spawn ---------------------------------------------------

bool Signals::link_child(Ctx* parent, Process* p, uint64_t pid) noexcept {
  ProcessExtra* mine = p->ensure_extra();
  ProcessExtra* theirs = parent->proc->ensure_extra();
  Msg* to_parent = new_record(Signal::kLinkExit, parent->pid, 0);
  Msg* to_child = new_record(Signal::kLinkExit, pid, 0);
  if (mine && theirs && to_parent && to_child && mine->add_link(to_parent)) {
    if (theirs->add_link(to_child)) return true;
    mine->take_link(parent->pid);
  }
  msg_free(to_parent);
  msg_free(to_child);
  return false;
}

void Signals::unlink_child(Ctx* parent, Process* p, uint64_t pid) noexcept {
  if (p->extra) msg_free(p->extra->take_link(parent->pid));
  if (parent->proc->extra) msg_free(parent->proc->extra->take_link(pid));
}

airs_status Signals::link_to(Process* p, uint64_t pid, uint64_t to) noexcept {
  ProcessExtra* x = p->ensure_extra();
  Msg* request = x ? msg_new_signal(Signal::kLink, pid, nullptr, 0) : nullptr;
  Msg* record = request ? new_record(Signal::kLinkExit, to, 0) : nullptr;
  if (!record || !x->add_link(record)) {
    msg_free(request);
    msg_free(record);
    return fail(AIRS_ENOMEM, "out of memory");
  }
  if (!k_.mail.signal(to, request)) {
    msg_free(request);
    msg_free(x->take_link(to));
    return fail(AIRS_ENOPROC, "the supervisor has ended");
  }
  return AIRS_OK;
}

void Signals::unlink_from(Process* p, uint64_t pid, uint64_t to) noexcept {
  Msg* record = p->extra ? p->extra->take_link(to) : nullptr;
  if (!record) return;
  msg_free(record);
  // Best effort: without it, `to` keeps a link to a pid that never ran,
  // whose exit signal it never gets.
  if (Msg* m = msg_new_signal(Signal::kUnlink, pid, nullptr, 0))
    k_.mail.signal_or_drop(to, m);
}

// --- received ---------------------------------------------------------------

Arrival Signals::arrived(Process* p, Ctx& c, Msg* m) noexcept {
  ProcessExtra* x = p->extra;
  switch (m->signal) {
    case Signal::kNone: break;  // not a signal: the turn's
    case Signal::kKill:
      msg_free(m);
      return Arrival{reason_static(AIRS_EXIT_KILLED), false};
    case Signal::kExit: return exit_arrived(p, c, m);
    case Signal::kLinkExit: {
      Msg* record = x ? x->take_link(m->sender) : nullptr;
      bool linked = record && record->correlation == 0;
      msg_free(record);
      if (!linked) {  // unlinked since, or being unlinked: not for us
        msg_free(m);
        return {};
      }
      return exit_arrived(p, c, m);
    }
    case Signal::kLink:
      // Linked already, or being unlinked by us (see unlink()): nothing.
      if ((x = p->ensure_extra()) && x->linked_to(m->sender)) break;
      // The request becomes our record of the link: the exit signal its
      // maker gets when we end.
      m->to = m->sender;
      if (x && x->add_link(m)) {
        tie_remote(p, m->to);
        return {};
      }
      // No memory to keep it: a link must not be half made (our maker
      // would never hear of our end), so both ends go, as out of memory.
      refuse(m, c.pid, reason_no_memory());
      return Arrival{reason_no_memory(), false};
    case Signal::kUnlink: {
      // Our end goes, unless we are unlinking too (then our own unlink's
      // answer drops it), and the sender may drop its own: the request is
      // the answer. Id 0: from a start that failed, nobody waits for one.
      Msg* record = x ? x->link_record(m->sender) : nullptr;
      if (record && record->correlation == 0) msg_free(x->take_link(m->sender));
      if (m->correlation == 0) break;
      uint64_t unlinker = m->sender;
      m->signal = Signal::kUnlinkAck;
      m->sender = c.pid;
      k_.mail.signal_or_drop(unlinker, m);
      return {};
    }
    case Signal::kUnlinkAck: {
      // Drop the record if it is still for that unlink (not linked again).
      Msg* record = x ? x->link_record(m->sender) : nullptr;
      if (record && record->correlation == m->correlation)
        msg_free(x->take_link(m->sender));
      break;
    }
    case Signal::kMonitor:
    case Signal::kWatch:
      m->to = m->sender;  // likewise: it becomes the watcher's DOWN
      if (!(x = p->ensure_extra()) || !x->add_watcher(m)) {
        refuse(m, c.pid, reason_no_memory());
        return {};
      }
      tie_remote(p, m->to);
      return {};
    case Signal::kDemonitor:
      if (x) msg_free(x->take_watcher(m->correlation));
      break;
    case Signal::kDown:
      if (x && x->remove_monitor(m->correlation)) {
        m->type = AIRS_MSG_DOWN;
        return Arrival{nullptr, true};
      }
      break;  // demonitored since: dropped
    case Signal::kWatchDown:  // a service's: it keeps no record to check
    case Signal::kDownLost:   // taken from our records by node_lost()
      m->type = AIRS_MSG_DOWN;
      return Arrival{nullptr, true};
    case Signal::kLinkLost: return exit_arrived(p, c, m);  // likewise
    case Signal::kNodeDown:
      node_lost(p, c, static_cast<uint32_t>(m->correlation));
      break;
    case Signal::kHealth: answer_health(p, c, m); break;
    case Signal::kTies: answer_ties(p, m); break;
  }
  msg_free(m);
  return {};
}

// An exit signal (exit/2 or from a link): a message if the process traps
// exits, else ignored if normal (and not from itself), else the end.
Arrival Signals::exit_arrived(Process* p, Ctx& c, Msg* m) noexcept {
  Reason* r = m->reason;
  // A kill from another runtime: as untrappable as a local one.
  bool kill = m->signal == Signal::kExit && r->kind == AIRS_EXIT_KILLED;
  if (kill) {
    msg_free(m);
    return Arrival{reason_static(AIRS_EXIT_KILLED), false};
  }
  if (p->flags.load(std::memory_order_relaxed) & kTrapExit) {
    m->type = AIRS_MSG_EXIT;
    return Arrival{nullptr, true};
  }
  if (r->kind == AIRS_EXIT_NORMAL && m->sender != c.pid) {
    msg_free(m);
    return {};
  }
  reason_retain(r);
  msg_free(m);
  return Arrival{r, false};
}

// A supervisor's health check: the answer goes back as a message (no
// health callback: healthy).
void Signals::answer_health(Process* p, Ctx& c, Msg* m) noexcept {
  int32_t h = AIRS_HEALTH_HEALTHY;
  if (p->health) h = p->health(p->state_ptr, &c);
  if (Msg* r = msg_new_copy(kMsgHealthReply, &h, sizeof h)) {
    r->sender = c.pid;
    r->correlation = m->correlation;
    k_.mail.signal_or_drop(m->sender, r);
  }
}

// --- spread at the end ----------------------------------------------------

void Signals::spread(Process* p, uint64_t pid, Reason* reason) noexcept {
  ProcessExtra* x = p->extra;
  if (!x) return;
  // A link being unlinked is told too: the other end ignores the exit
  // signal unless it linked again since, and drops the record it may keep
  // (if it is unlinking too, we will never answer).
  for (Msg* record : x->links) {
    record->correlation = 0;  // our unlink id is nobody else's business
    send_as(k_.mail, record, Signal::kLinkExit, pid, record->to, reason);
  }
  x->links.clear();
  for (Msg* record : x->watchers)
    send_as(k_.mail, record, down_of(record), pid, record->to, reason);
  x->watchers.clear();
  // Best effort: a target that is not told keeps a record whose DOWN goes
  // to a pid that has ended, and is dropped there.
  for (const MonitorEntry& e : x->monitoring) {
    if (e.pid == pid) continue;  // a monitor of itself
    if (Msg* m = msg_new_signal(Signal::kDemonitor, pid, nullptr, e.ref))
      k_.mail.signal_or_drop(e.pid, m);
  }
  p->free_extra();
}

// --- losing another runtime -------------------------------------------------

// Only processes that ever had a tie to another runtime are told: one
// signal each, which they handle in their own turn, after whatever came
// before it (node_lost), so nobody but the owner touches its sets.
airs_status Signals::node_down(uint32_t tag) noexcept {
  uint32_t untold = 0;
  uint32_t n = k_.table.high_water();
  for (uint32_t i = 0; i < n; i++) {
    Process* p = k_.table.slot(i);
    if (!p || !(p->flags.load(std::memory_order_seq_cst) & kRemoteTies))
      continue;
    uint64_t pid = p->pid.load(std::memory_order_acquire);
    if (!k_.processes.live(pid)) continue;
    Msg* m = msg_new_signal(Signal::kNodeDown, 0, nullptr, tag);
    if (!m) {
      untold++;
      continue;
    }
    k_.mail.signal_or_drop(pid, m);
  }
  if (untold)
    return failf(AIRS_ENOMEM, "out of memory: %u processes not told", untold);
  return AIRS_OK;
}

airs_status Signals::deliver_remote(uint64_t to, Msg* m) noexcept {
  // A pid that is not ours (a transport's mistake) is as gone as a dead
  // one: the answer goes back, never out to a third runtime.
  m->to = to;  // who answers, if it is gone
  if (remote(to) || !k_.mail.signal(to, m)) undeliverable(m);
  return AIRS_OK;
}

// The runtime of `tag` is lost: each link to one of its pids breaks (an
// exit signal `noconnection` from that pid, queued to ourselves: the
// record itself), each monitor of one ends (its DOWN, made in advance),
// and its monitors of us are forgotten. Whatever that runtime sent
// before came first; what it sent for the same link or monitor after
// finds no record and is dropped: exactly once.
void Signals::node_lost(Process* p, Ctx& c, uint32_t tag) noexcept {
  ProcessExtra* x = p->extra;
  if (!x) return;
  Reason* why = reason_static(AIRS_EXIT_NOCONNECTION);
  for (size_t i = 0; i < x->links.size();) {
    uint64_t other = x->links[i]->to;
    if (pid_tag(other) != tag) {
      i++;
      continue;
    }
    Msg* record = x->take_link(other);  // (the last one moves to i)
    if (record->correlation != 0) {     // being unlinked: just gone
      msg_free(record);
      continue;
    }
    send_as(k_.mail, record, Signal::kLinkLost, other, c.pid, why);
  }
  for (size_t i = 0; i < x->monitoring.size();) {
    MonitorEntry e = x->monitoring[i];
    if (!e.lost || pid_tag(e.pid) != tag) {
      i++;
      continue;
    }
    x->monitoring[i] = x->monitoring.back();
    x->monitoring.pop_back();
    k_.mail.signal_or_drop(c.pid, e.lost);
  }
  for (size_t i = 0; i < x->watchers.size();) {
    if (pid_tag(x->watchers[i]->to) != tag) {
      i++;
      continue;
    }
    msg_free(x->watchers[i]);
    x->watchers[i] = x->watchers.back();
    x->watchers.pop_back();
  }
}

// --- for a pid that is gone -------------------------------------------------

void Signals::refuse(Msg* request, uint64_t target, Reason* why) noexcept {
  uint64_t maker = request->sender;
  if (request->signal == Signal::kLink)
    send_as(k_.mail, request, Signal::kLinkExit, target, maker, why);
  else  // a monitor or a watch: its ref stays in correlation
    send_as(k_.mail, request, down_of(request), target, maker, why);
}

void Signals::undeliverable(Msg* m, Reason* ended_with) noexcept {
  if (m->signal == Signal::kLink || m->signal == Signal::kMonitor ||
      m->signal == Signal::kWatch) {
    refuse(m, m->to, ended_with ? ended_with : reason_static(AIRS_EXIT_NOPROC));
    return;
  }
  msg_free(m);
}

}  // namespace airs
