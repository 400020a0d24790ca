// spawn.cpp - starting a process in a free slot, and ending it.
#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include "base/error.hpp"
#include "kernel/runtime.hpp"

namespace airs {

namespace {

thread_local HoldScope* tls_hold_ = nullptr;

// The innermost hold scope of `rt` on this thread, or nullptr.
HoldScope* hold_scope_of(const Runtime* rt) noexcept {
  HoldScope* h = tls_hold_;
  while (h && !h->holds(rt)) h = h->outer();
  return h;
}

void release_user_data(const SpawnArgs& a) noexcept {
  if (a.owner)
    spec_release(a.owner);
  else if (a.user_data_free)
    a.user_data_free(a.user_data);
}

airs_status check_args(const SpawnArgs& a, Ctx* parent) {
  const airs_behaviour* b = a.behaviour;
  if (!b) return fail(AIRS_EINVAL, "airs_spawn: behaviour is NULL");
  if (b->version < 1 || b->size < sizeof(airs_behaviour))
    return failf(AIRS_EINVAL,
                 "airs_spawn: behaviour version %u / size %u is not "
                 "supported (set AIRS_BEHAVIOUR_VERSION and sizeof)",
                 b->version, b->size);
  if (!b->receive) return fail(AIRS_EINVAL, "airs_spawn: receive is NULL");
  const airs_spawn_opts* o = a.opts;
  if (!o) return AIRS_OK;
  if (o->version < 1 || o->size < sizeof(airs_spawn_opts))
    return fail(AIRS_EINVAL,
                "airs_spawn: opts version/size not supported (use "
                "airs_spawn_opts_init)");
  if (o->flags & ~(AIRS_SPAWN_LINK | AIRS_SPAWN_TRAP_EXIT))
    return failf(AIRS_EINVAL, "airs_spawn: unknown flags 0x%x", o->flags);
  if ((o->flags & AIRS_SPAWN_LINK) && !parent)
    return fail(AIRS_EINVAL,
                "airs_spawn: AIRS_SPAWN_LINK needs a calling process "
                "(use airs_ctx_spawn)");
  if (o->mailbox_policy < AIRS_MAILBOX_FAIL ||
      o->mailbox_policy > AIRS_MAILBOX_BLOCK)
    return failf(AIRS_EINVAL, "airs_spawn: unknown mailbox policy %d",
                 o->mailbox_policy);
  if (o->block_timeout_ms < 1 || o->block_timeout_ms > 3600000)
    return fail(AIRS_EINVAL,
                "airs_spawn: block_timeout_ms must be in 1..3600000");
  return AIRS_OK;
}

}  // namespace

Process* Runtime::live(uint64_t pid) const noexcept {
  Process* p = table_.lookup(pid);
  // `exiting` before `pid`: see the end of spawn().
  if (!p || p->exiting.load(std::memory_order_acquire) ||
      p->pid.load(std::memory_order_acquire) != pid)
    return nullptr;
  return p;
}

airs_status Runtime::spawn(const SpawnArgs& a, Ctx* parent, uint64_t* out) {
  airs_status st = check_args(a, parent);
  if (st == AIRS_OK && shutting_down())
    st = fail(AIRS_ESTATE, "airs_spawn: the runtime is shutting down");
  if (st == AIRS_OK && parent && (parent->in_terminate || parent->in_init) &&
      a.opts && (a.opts->flags & AIRS_SPAWN_LINK))
    st = fail(AIRS_ESTATE,
              "airs_spawn: cannot link from inside init or terminate");
  uint32_t idx = 0;
  if (st == AIRS_OK && !table_.acquire(&idx)) {
    // No free slot: either every slot up to the limit is taken, or a new
    // chunk of slots could not be mapped.
    if (table_.high_water() >= cfg_.max_processes)
      st = failf(AIRS_ELIMIT, "airs_spawn: %u processes are alive (the limit)",
                 cfg_.max_processes);
    else
      st = fail(AIRS_ENOMEM, "airs_spawn: out of memory for process slots");
  }
  if (st != AIRS_OK) {
    release_user_data(a);
    return st;
  }

  Process* p = table_.slot(idx);
  // Become the slot's only consumer; a late sender may be draining it.
  for (;;) {
    uint32_t s = kFree;
    if (p->state.compare_exchange_weak(s, kScheduled,
                                       std::memory_order_acq_rel))
      break;
    std::this_thread::yield();
  }
  drain_dead(p);  // whatever was sent to the slot's previous process

  const airs_behaviour* b = a.behaviour;
  const airs_spawn_opts* o = a.opts;
  uint64_t pid = make_pid(idx, ++p->generation);
  p->enqueued.store(0, std::memory_order_relaxed);
  p->dequeued.store(0, std::memory_order_relaxed);
  p->dropped.store(0, std::memory_order_relaxed);
  // Atomic: a sender that checked the previous pid may still read them.
  p->capacity.store(o ? o->mailbox_capacity : cfg_.mailbox_capacity,
                    std::memory_order_relaxed);
  p->policy.store(
      static_cast<uint8_t>(o ? o->mailbox_policy : cfg_.mailbox_policy),
      std::memory_order_relaxed);
  p->block_timeout_ms.store(o ? o->block_timeout_ms : cfg_.block_timeout_ms,
                            std::memory_order_relaxed);
  p->flags.store(
      (o && (o->flags & AIRS_SPAWN_TRAP_EXIT) ? uint32_t{kTrapExit} : 0u) |
          (a.link_to ? uint32_t{kSupervised} : 0u),
      std::memory_order_relaxed);
  p->extra = nullptr;
  p->receive = b->receive;
  p->terminate = b->terminate;
  p->health = b->health;
  p->user_data = a.user_data;
  p->user_data_free = a.user_data_free;
  p->owner = a.owner;
  p->state_ptr = a.user_data;
  p->spawn_seq = spawn_seq_.fetch_add(1, std::memory_order_relaxed);
  // The new pid first, then `exiting` cleared (release): a reader that
  // sees exiting == 0 of this start sees the new pid too, so the previous
  // pid of the slot never reads as alive again (readers load `exiting`
  // first; see live()).
  p->pid.store(pid, std::memory_order_release);
  p->exiting.store(0, std::memory_order_release);

  bool linked = o && (o->flags & AIRS_SPAWN_LINK);
  if (linked) {
    ProcessExtra* mine = p->ensure_extra();
    ProcessExtra* theirs = parent->proc->ensure_extra();
    if (!mine || !theirs) {
      Ctx c{this, p, pid, parent->worker};
      end(p, c, reason_static(AIRS_EXIT_ERROR), false);
      return fail(AIRS_ENOMEM, "airs_spawn: out of memory");
    }
    mine->add_link(parent->pid);
    theirs->add_link(pid);
  }

  Worker* w = local_worker();
  Ctx c{this, p, pid, w};
  if (a.link_to || a.name) {
    st = supervised_start(a, p, c);
    if (st != AIRS_OK) {
      airs_status saved = st;
      std::string why = last_error_message();
      if (a.link_to) unlink_supervisor(p, a.link_to);
      end(p, c, reason_static(AIRS_EXIT_ERROR), false);
      fail(saved, why.c_str());
      return saved;
    }
  }
  if (b->init) {
    c.in_init = true;
    {
      CtxScope scope(&c);
      st = b->init(a.user_data, &c, &p->state_ptr);
    }
    c.in_init = false;
    if (st == AIRS_OK && c.exit_request)
      st = fail(AIRS_ESTATE, "airs_spawn: init called airs_exit");
    if (st != AIRS_OK) {
      // The spawn call reports the failure; the parent is not also sent
      // an exit signal for it.
      if (linked) {
        p->extra->remove_link(parent->pid);
        parent->proc->extra->remove_link(pid);
      }
      if (a.link_to) unlink_supervisor(p, a.link_to);
      Reason* r = reason_new(AIRS_EXIT_ERROR, st, last_error_message());
      airs_status saved = st;
      bool exited = c.exit_request != nullptr;
      end(p, c, r ? r : reason_static(AIRS_EXIT_ERROR), false);
      reason_release(c.exit_request);
      // Say why the spawn failed, also when init returned a status without
      // a message (and after user_data_free, which may fail calls itself).
      if (exited)
        fail(saved, "airs_spawn: init called airs_exit");
      else
        failf(saved, "airs_spawn: init failed with status %d",
              static_cast<int>(saved));
      return saved;
    }
  }

  *out = pid;
  if (event_hook()) {
    Ctx* caller = parent ? parent : current_ctx();
    process_event(AIRS_EVENT_PROCESS_SPAWNED,
                  caller && caller->rt == this ? caller->pid : 0, pid, nullptr);
  }
  if (HoldScope* h = hold_scope_of(this)) {
    h->held_.push_back(p);  // stays kScheduled: nobody runs it yet
    return AIRS_OK;
  }
  let_run(p, w);
  return AIRS_OK;
}

// The supervisor's part of a start: the link to the supervisor (made by a
// signal, so that any thread can start a child) and the registered name.
airs_status Runtime::supervised_start(const SpawnArgs& a, Process* p, Ctx& c) {
  if (a.link_to) {
    ProcessExtra* x = p->ensure_extra();
    Msg* m = x ? msg_new_signal(Signal::kLink, c.pid, nullptr, 0) : nullptr;
    if (!m) return fail(AIRS_ENOMEM, "airs_spawn: out of memory");
    if (!post(a.link_to, m))
      return fail(AIRS_ENOPROC, "the supervisor has ended");
    x->add_link(a.link_to);
  }
  if (a.name) return registry_.add(a.name, c.pid, p);
  return AIRS_OK;
}

// Undoes the link of a start that failed: the spawn call reports the
// failure, the supervisor gets no exit signal for it.
void Runtime::unlink_supervisor(Process* p, uint64_t sup) noexcept {
  if (p->extra && p->extra->remove_link(sup))
    if (Msg* m = msg_new_signal(Signal::kUnlink, p->pid.load(), nullptr, 0))
      post(sup, m);
}

// A new process is ready: idle, or scheduled if mail came meanwhile.
void Runtime::let_run(Process* p, Worker* w) noexcept {
  p->state.store(kIdle, std::memory_order_seq_cst);
  if (p->mail_arrived()) {
    uint32_t s = kIdle;
    if (p->state.compare_exchange_strong(s, kScheduled))
      sched_->submit(p, w, false);
  }
}

HoldScope::HoldScope(Runtime& rt) noexcept : rt_(rt), outer_(tls_hold_) {
  tls_hold_ = this;
}

HoldScope::~HoldScope() {
  tls_hold_ = outer_;
  // A nested scope of the same runtime hands its processes outward: they
  // run when the whole tree has started.
  HoldScope* o = outer_;
  while (o && &o->rt_ != &rt_) o = o->outer_;
  if (o) {
    o->held_.insert(o->held_.end(), held_.begin(), held_.end());
    return;
  }
  Worker* w = rt_.local_worker();
  for (Process* p : held_) rt_.let_run(p, w);
}

bool Runtime::end_held(uint64_t pid, Reason* reason) noexcept {
  for (HoldScope* h = tls_hold_; h; h = h->outer_) {
    if (&h->rt_ != this) continue;
    for (size_t i = 0; i < h->held_.size(); i++) {
      Process* p = h->held_[i];
      if (p->pid.load(std::memory_order_relaxed) != pid) continue;
      h->held_.erase(h->held_.begin() + static_cast<std::ptrdiff_t>(i));
      Ctx c{this, p, pid, local_worker()};
      end(p, c, reason, true);
      return true;
    }
  }
  reason_release(reason);
  return false;
}

// Ends process `p` (whose turn this is) with `reason`, consuming one
// reference to it: terminate, release the name, notify links and monitors,
// drop what is left in the mailbox, and give the slot back.
void Runtime::end(Process* p, Ctx& c, Reason* reason,
                  bool call_terminate) noexcept {
  uint64_t pid = c.pid;
  p->exiting.store(1, std::memory_order_seq_cst);
  if (call_terminate && p->terminate) {
    c.in_terminate = true;
    CtxScope scope(&c);
    p->terminate(p->state_ptr, &c, reason);
  }
  reason_release(c.exit_request);
  c.exit_request = nullptr;
  registry_.release(pid, p);
  pools_.release(pid, p);
  broker_.forget(pid, p);  // leaves its topics if kSubscribed is set
  // No terminate: the spawn failed, and counts neither as spawned (it
  // took a spawn_seq_) nor as exited.
  if (!call_terminate)
    counters_.spawns_failed.fetch_add(1, std::memory_order_relaxed);
  else if (c.worker)
    count_one(c.worker->exited);
  else
    counters_.exited_elsewhere.fetch_add(1, std::memory_order_relaxed);
  if (call_terminate && event_hook())
    process_event(AIRS_EVENT_PROCESS_EXITED, 0, pid, reason);

  if (ProcessExtra* x = p->extra) {
    for (uint64_t other : x->links)
      if (Msg* s = msg_new_signal(Signal::kLinkExit, pid, reason, 0))
        post(other, s);
    for (const MonitorEntry& m : x->monitored_by)
      if (Msg* s = msg_new_signal(Signal::kDown, pid, reason, m.ref))
        post(m.pid, s);
    for (const MonitorEntry& m : x->monitoring)
      if (Msg* s = msg_new_signal(Signal::kDemonitor, pid, nullptr, m.ref))
        post(m.pid, s);
    p->free_extra();
  }
  if (p->owner)
    spec_release(p->owner);
  else if (p->user_data_free)
    p->user_data_free(p->user_data);
  p->owner = nullptr;
  p->user_data_free = nullptr;
  p->state_ptr = nullptr;

  drain_dead(p);
  reason_release(reason);
  // The slot goes back before the state says kFree: whoever sees the end
  // complete (wait()) can spawn into it at once. A spawner that takes it
  // meanwhile waits for kFree.
  table_.release(pid_slot(pid));
  p->state.store(kFree, std::memory_order_seq_cst);
  settle_free(p);
  // Dekker with wait(): `state` is set above, then we read the count.
  if (exit_waiters_.load(std::memory_order_seq_cst) > 0) {
    std::lock_guard<std::mutex> lock(exit_mu_);
    exit_cv_.notify_all();
  }
}

airs_status Runtime::wait(uint64_t pid, uint32_t timeout_ms) {
  using clock = std::chrono::steady_clock;
  auto deadline = clock::now() + std::chrono::milliseconds(timeout_ms);
  // Ended: end() has finished (terminate, user_data_free, links, monitors,
  // name), so the slot is free or holds a newer process. live() turns
  // false earlier, as soon as the process starts to end.
  auto ended = [this, pid] {
    Process* p = table_.lookup(pid);
    if (!p || p->pid.load(std::memory_order_seq_cst) != pid) return true;
    uint32_t s = p->state.load(std::memory_order_seq_cst);
    return s == kFree || s == kDraining;
  };
  if (!sched_->threaded()) {
    while (!ended()) {
      if (clock::now() >= deadline)
        return fail(AIRS_ETIMEDOUT, "airs_wait: the process is still alive");
      uint32_t ran = 0;
      airs_status st = poll(1024, &ran);
      if (st != AIRS_OK) return st;
      if (ran == 0) std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    return AIRS_OK;
  }
  exit_waiters_.fetch_add(1, std::memory_order_seq_cst);
  airs_status st = AIRS_OK;
  {
    std::unique_lock<std::mutex> lock(exit_mu_);
    while (!ended()) {
      auto now = clock::now();
      if (now >= deadline) {
        st = fail(AIRS_ETIMEDOUT, "airs_wait: the process is still alive");
        break;
      }
      // A slot being taken by a new spawn reads as "not ended" for a
      // moment, with no notification to follow: re-check now and then.
      exit_cv_.wait_until(
          lock, std::min(deadline, now + std::chrono::milliseconds(5)));
    }
  }
  exit_waiters_.fetch_sub(1, std::memory_order_relaxed);
  return st;
}

airs_status Runtime::stat(uint64_t pid, airs_process_stat key,
                          uint64_t* out) const {
  Process* p = live(pid);
  if (!p) return fail(AIRS_ENOPROC, "airs_process_stat_get: not alive");
  switch (key) {
    case AIRS_PSTAT_MAILBOX_DEPTH: *out = p->depth(); return AIRS_OK;
    case AIRS_PSTAT_MAILBOX_CAPACITY: *out = p->capacity; return AIRS_OK;
    case AIRS_PSTAT_MSGS_ENQUEUED:
      *out = p->enqueued.load(std::memory_order_relaxed);
      return AIRS_OK;
    case AIRS_PSTAT_MSGS_HANDLED:
      *out = p->dequeued.load(std::memory_order_relaxed);
      return AIRS_OK;
    case AIRS_PSTAT_MSGS_DROPPED:
      *out = p->dropped.load(std::memory_order_relaxed);
      return AIRS_OK;
  }
  return failf(AIRS_EINVAL, "airs_process_stat_get: unknown key %d", key);
}

}  // namespace airs
