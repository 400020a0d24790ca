// spawn.cpp - starting a process in a free slot: a new pid, its links, its
// name, its init; and hold scopes.
#include <algorithm>
#include <cstdio>
#include <new>
#include <thread>

#include "base/error.hpp"
#include "base/limits.hpp"
#include "kernel/kernel.hpp"

namespace airs {

namespace {

// initial-exec: read on every spawn (a pointer: small enough for the
// static TLS a dlopen'ed library may use).
__attribute__((tls_model("initial-exec"))) thread_local HoldScope* tls_hold =
    nullptr;

void release_user_data(const SpawnArgs& a) noexcept {
  if (a.owner)
    spec_release(a.owner);
  else if (a.user_data_free)
    a.user_data_free(a.user_data);
}

airs_status check_args(const SpawnArgs& a, Ctx* parent, bool seeded) noexcept {
  if (airs_status st = check_behaviour(a.behaviour); st != AIRS_OK) return st;
  const airs_spawn_opts* o = a.opts;
  if (!o) return AIRS_OK;
  if (airs_status st = check_spawn_opts(o, false); st != AIRS_OK) return st;
  if ((o->flags & AIRS_SPAWN_BLOCKING) && seeded)
    return fail(AIRS_EINVAL,
                "AIRS_SPAWN_BLOCKING runs turns on pool threads, which a "
                "seeded runtime cannot order");
  if (!(o->flags & AIRS_SPAWN_LINK)) return AIRS_OK;
  if (!parent)
    return fail(AIRS_EINVAL,
                "AIRS_SPAWN_LINK needs a calling process (spawn from inside "
                "a callback, with its ctx)");
  if (parent->ending) return fail(AIRS_ESTATE, kEndingText);
  return AIRS_OK;
}

}  // namespace

airs_status Processes::spawn(const SpawnArgs& a, Ctx* parent,
                             uint64_t* out) noexcept {
  airs_status st = check_args(a, parent, k_.cfg.seed != 0);
  if (st == AIRS_OK && k_.stopping())
    st = fail(AIRS_ESTATE, "the runtime is shutting down");
  uint32_t idx = 0;
  if (st == AIRS_OK && !k_.table.acquire(&idx)) {
    // No free slot: either every slot up to the limit is taken, or a new
    // chunk of slots could not be mapped.
    if (k_.table.at_limit())
      st = failf(AIRS_ELIMIT, "%u processes are alive (the limit)",
                 k_.cfg.max_processes);
    else
      st = fail(AIRS_ENOMEM, "out of memory for process slots");
  }
  if (st != AIRS_OK) {
    ErrorKeep keep;  // user_data_free may fail calls of its own
    release_user_data(a);
    return st;
  }

  Process* p = k_.table.slot(idx);
  // Take the mailbox's consumer role: an idle mailbox is an empty one. A
  // late sender may hold it, draining mail sent to the previous process.
  while (!p->claim()) std::this_thread::yield();

  const airs_behaviour* b = a.behaviour;
  const airs_spawn_opts* o = a.opts;
  const Config& cfg = k_.cfg;
  uint64_t pid = make_pid(k_.table.tag(), idx, ++p->generation);
  p->enqueued.store(0, std::memory_order_relaxed);
  p->sent_by[0].store(0, std::memory_order_relaxed);
  p->sent_by[1].store(0, std::memory_order_relaxed);
  p->dequeued.store(0, std::memory_order_relaxed);
  p->dropped.store(0, std::memory_order_relaxed);
  p->timed.store(0, std::memory_order_relaxed);
  // Atomic: a sender that checked the previous pid may still read them.
  p->capacity.store(o ? o->mailbox_capacity : cfg.mailbox_capacity,
                    std::memory_order_relaxed);
  p->policy.store(
      static_cast<uint8_t>(o ? o->mailbox_policy : cfg.mailbox_policy),
      std::memory_order_relaxed);
  p->block_timeout_ms.store(o ? o->block_timeout_ms : cfg.block_timeout_ms,
                            std::memory_order_relaxed);
  p->flags.store(
      (o && (o->flags & AIRS_SPAWN_TRAP_EXIT) ? uint32_t{kTrapExit} : 0u) |
          (o && (o->flags & AIRS_SPAWN_BLOCKING) ? uint32_t{kOnPool} : 0u) |
          (a.link_to ? uint32_t{kSupervised} : 0u) |
          (behaviour_batch(b) ? uint32_t{kBatchReceive} : 0u),
      std::memory_order_relaxed);
  p->extra = nullptr;
  if (auto batch = behaviour_batch(b))
    p->receive_batch = batch;
  else
    p->receive = b->receive;
  p->terminate = b->terminate;
  p->health = b->health;
  p->user_data = a.user_data;
  p->user_data_free = a.user_data_free;
  p->owner = a.owner;
  p->state_ptr = a.user_data;
  k_.observer.count_spawn(&p->spawn_seq);
  // The new pid first, then `exiting` cleared (release): a reader that
  // sees exiting == 0 of this start sees the new pid too, so the previous
  // pid of the slot never reads as alive again (readers load `exiting`
  // first; see live()).
  p->pid.store(pid, std::memory_order_release);
  p->exiting.store(0, std::memory_order_release);
  // kLive after the new pid: wait() reads `life` first, so whoever waits
  // for the slot's previous pid sees it free, or sees the new pid.
  p->life.store(kLive, std::memory_order_release);

  bool linked = o && (o->flags & AIRS_SPAWN_LINK);
  st = start(a, parent, p, pid, linked);
  if (st != AIRS_OK) return st;

  *out = pid;
  announce(parent, pid);
  HoldScope* h = HoldScope::of(&k_);
  if (!h || !h->hold(p))  // held: keeps the role, nobody runs it yet
    k_.mail.idle_or_run(p, k_.sched.local_worker());
  return AIRS_OK;
}

// The links, the name and the init of a new process. On failure the
// process has ended (without terminate) and the status is returned.
airs_status Processes::start(const SpawnArgs& a, Ctx* parent, Process* p,
                             uint64_t pid, bool linked) noexcept {
  Ctx c{&k_, p, pid, k_.sched.local_worker()};
  airs_status st = AIRS_OK;
  if (linked && !k_.signals.link_child(parent, p, pid)) {
    linked = false;
    st = fail(AIRS_ENOMEM, "out of memory");
  }
  if (st == AIRS_OK && a.link_to) {
    st = k_.signals.link_to(p, pid, a.link_to);
    if (st != AIRS_OK) {
      undo_start(a, parent, p, c, linked, st);
      return st;
    }
  }
  if (st == AIRS_OK && a.name) {
    st = k_.names ? k_.names->add_name(a.name, pid, p)
                  : fail(AIRS_EINVAL, "no naming service");
  }
  if (st == AIRS_OK) st = run_init(a, p, c);
  if (st != AIRS_OK) {
    undo_start(a, parent, p, c, linked, st);
    return st;
  }
  return AIRS_OK;
}

airs_status Processes::run_init(const SpawnArgs& a, Process* p,
                                Ctx& c) noexcept {
  const airs_behaviour* b = a.behaviour;
  if (!b->init) return AIRS_OK;
  c.in_init = true;
  airs_status st;
  {
    CtxScope scope(&c);
    st = b->init(a.user_data, &c, &p->state_ptr);
  }
  c.in_init = false;
  // Say why the spawn failed, also when init returned a status without a
  // message (the thread's message may be an older one's).
  if (c.exit_request) {
    if (st == AIRS_OK) st = AIRS_ESTATE;
    fail(st, "init asked to exit (a process cannot end in its init)");
  } else if (st == AIRS_IGNORE) {
    fail(st, "init asked not to start (ignore)");
  } else if (st != AIRS_OK) {
    failf(st, "init failed with status %d", static_cast<int>(st));
  }
  return st;
}

// A start failed: the spawn call reports it, so neither the parent nor
// the supervisor is sent an exit signal for it. Ends the process without
// its terminate (init did not succeed), keeping the failure's message.
void Processes::undo_start(const SpawnArgs& a, Ctx* parent, Process* p, Ctx& c,
                           bool linked, airs_status st) noexcept {
  ErrorKeep keep;  // user_data_free, run by end(), may fail calls
  if (linked) k_.signals.unlink_child(parent, p, c.pid);
  if (a.link_to) k_.signals.unlink_from(p, c.pid, a.link_to);
  // An init that asked to be ignored ends `normal`, as OTP's ignore.
  Reason* r = st == AIRS_IGNORE ? reason_static(AIRS_EXIT_NORMAL)
                                : reason_error(st, last_error_message());
  reason_release(c.exit_request);
  c.exit_request = nullptr;
  end(p, c, r, false);
}

void Processes::announce(Ctx* parent, uint64_t pid) noexcept {
  if (!k_.observer.wants_events()) return;
  Ctx* caller = parent ? parent : current_ctx_in(&k_);
  char self[32];
  format_pid(pid, self, sizeof self);
  k_.observer.emit({.kind = AIRS_EVENT_PROCESS_SPAWNED,
                    .severity = AIRS_SEVERITY_DEBUG,
                    .source = caller ? caller->pid : 0,
                    .pid = pid},
                   "process %s spawned", self);
}

// --- hold scopes -----------------------------------------------------------

HoldScope::HoldScope(Kernel& k) noexcept : k_(k), outer_(tls_hold) {
  tls_hold = this;
}

HoldScope::~HoldScope() {
  tls_hold = outer_;
  // A nested scope of the same kernel hands its processes outward: they
  // run when the whole tree has started.
  HoldScope* o = outer_;
  while (o && &o->k_ != &k_) o = o->outer_;
  if (o) {
    size_t i = 0;
    for (; i < held_.size(); i++)
      if (!o->hold(held_[i])) break;
    held_.erase(held_.begin(), held_.begin() + static_cast<std::ptrdiff_t>(i));
    if (held_.empty()) return;  // else: no memory outside: run them now
  }
  Worker* w = k_.sched.local_worker();
  for (Process* p : held_) k_.mail.idle_or_run(p, w);
}

HoldScope* HoldScope::of(const Kernel* k) noexcept {
  HoldScope* h = tls_hold;
  while (h && &h->k_ != k) h = h->outer_;
  return h;
}

bool HoldScope::hold(Process* p) noexcept {
  try {
    held_.push_back(p);
  } catch (const std::bad_alloc&) {
    return false;
  }
  return true;
}

Process* HoldScope::release(const Kernel* k, uint64_t pid) noexcept {
  for (HoldScope* h = tls_hold; h; h = h->outer_) {
    if (&h->k_ != k) continue;
    for (size_t i = 0; i < h->held_.size(); i++) {
      Process* p = h->held_[i];
      if (p->pid.load(std::memory_order_relaxed) != pid) continue;
      h->held_.erase(h->held_.begin() + static_cast<std::ptrdiff_t>(i));
      return p;
    }
  }
  return nullptr;
}

bool Processes::end_held(uint64_t pid, Reason* reason) noexcept {
  Process* p = HoldScope::release(&k_, pid);
  if (!p) {
    reason_release(reason);
    return false;
  }
  Ctx c{&k_, p, pid, k_.sched.local_worker()};
  end(p, c, reason, true);
  return true;
}

}  // namespace airs
