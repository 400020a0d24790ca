// links.cpp - links, monitors and exit signals. Every change to another
// process's link or monitor set travels as a signal through its mailbox,
// so only a process ever touches its own sets, and no lock is needed.
#include "base/error.hpp"
#include "kernel/runtime.hpp"

namespace airs {

namespace {

// A pid that some process of this runtime had or has (a dead one is fine).
bool ever_existed(const ProcessTable& t, uint64_t pid) {
  Process* p = t.lookup(pid);
  return p && pid_generation(pid) != 0 &&
         pid_generation(pid) <=
             pid_generation(p->pid.load(std::memory_order_acquire));
}

}  // namespace

airs_status Runtime::exit_signal(uint64_t to, airs_exit_kind kind, int32_t code,
                                 const char* text, uint64_t from) {
  if (kind < AIRS_EXIT_NORMAL || kind > AIRS_EXIT_NOPROC)
    return failf(AIRS_EINVAL, "airs_send_exit: unknown exit kind %d", kind);
  if (!live(to)) return fail(AIRS_ENOPROC, "airs_send_exit: not alive");
  Ctx* c = current_ctx();
  uint64_t sender = from != kFromCaller  ? from
                    : c && c->rt == this ? c->pid
                                         : 0;
  Msg* m;
  bool marked = false;  // the kill is marked on the live process
  if (kind == AIRS_EXIT_KILLED) {
    m = msg_new_signal(Signal::kKill, sender, nullptr, 0);
    // Ahead of everything queued, high priority messages too (see run()).
    Process* p = m ? live(to) : nullptr;
    if (p) {
      p->kill_gen.store(pid_generation(to), std::memory_order_release);
      marked = true;
    }
  } else {
    Reason* r = reason_new(kind, code, text);
    if (!r) return fail(AIRS_ENOMEM, "airs_send_exit: out of memory");
    m = msg_new_signal(Signal::kExit, sender, r, 0);
    reason_release(r);
  }
  if (!m) return fail(AIRS_ENOMEM, "airs_send_exit: out of memory");
  // A marked kill can end the process (at its next message) before the
  // kill message is posted: it took effect, so it is no ENOPROC.
  if (!post(to, m) && !marked)
    return fail(AIRS_ENOPROC, "airs_send_exit: not alive");
  return AIRS_OK;
}

bool Runtime::probe_health(uint64_t pid, uint64_t from,
                           uint64_t round) noexcept {
  Msg* m = msg_new_signal(Signal::kHealth, from, nullptr, round);
  return m && post(pid, m);
}

airs_status Runtime::link(Ctx* c, uint64_t pid) {
  if (pid == c->pid) return fail(AIRS_EINVAL, "airs_link: cannot link to self");
  if (!ever_existed(table_, pid))
    return fail(AIRS_ENOPROC, "airs_link: no such process");
  ProcessExtra* x = c->proc->ensure_extra();
  if (!x) return fail(AIRS_ENOMEM, "airs_link: out of memory");
  if (x->linked_to(pid)) return AIRS_OK;
  Msg* m = msg_new_signal(Signal::kLink, c->pid, nullptr, 0);
  if (!m) return fail(AIRS_ENOMEM, "airs_link: out of memory");
  x->add_link(pid);
  if (!post(pid, m)) {
    // Already gone: the caller gets the exit signal a dead link gives.
    if (Msg* s = msg_new_signal(Signal::kLinkExit, pid,
                                reason_static(AIRS_EXIT_NOPROC), 0))
      post(c->pid, s);
  }
  return AIRS_OK;
}

airs_status Runtime::unlink(Ctx* c, uint64_t pid) {
  ProcessExtra* x = c->proc->extra;
  if (x && x->remove_link(pid))
    if (Msg* m = msg_new_signal(Signal::kUnlink, c->pid, nullptr, 0))
      post(pid, m);
  return AIRS_OK;
}

airs_status Runtime::monitor(Ctx* c, uint64_t pid, uint64_t* ref) {
  if (pid == c->pid)
    return fail(AIRS_EINVAL, "airs_monitor: cannot monitor self");
  if (!ever_existed(table_, pid))
    return fail(AIRS_ENOPROC, "airs_monitor: no such process");
  ProcessExtra* x = c->proc->ensure_extra();
  if (!x) return fail(AIRS_ENOMEM, "airs_monitor: out of memory");
  uint64_t r = next_ref_.fetch_add(1, std::memory_order_relaxed);
  Msg* m = msg_new_signal(Signal::kMonitor, c->pid, nullptr, r);
  if (!m) return fail(AIRS_ENOMEM, "airs_monitor: out of memory");
  x->monitoring.push_back(MonitorEntry{r, pid});
  if (!post(pid, m)) {
    if (Msg* s = msg_new_signal(Signal::kDown, pid,
                                reason_static(AIRS_EXIT_NOPROC), r))
      post(c->pid, s);
  }
  *ref = r;
  return AIRS_OK;
}

airs_status Runtime::demonitor(Ctx* c, uint64_t ref) {
  ProcessExtra* x = c->proc->extra;
  uint64_t target;
  if (x && ProcessExtra::remove_monitor(x->monitoring, ref, &target)) {
    if (Msg* m = msg_new_signal(Signal::kDemonitor, c->pid, nullptr, ref))
      post(target, m);
    return AIRS_OK;
  }
  return failf(AIRS_ENOTFOUND, "airs_demonitor: no active monitor %llu",
               static_cast<unsigned long long>(ref));
}

}  // namespace airs
