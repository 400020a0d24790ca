// turn.cpp - one scheduled turn of a process: up to `budget` envelopes,
// each either a user message for receive() or a system signal.
#include "base/error.hpp"
#include "kernel/runtime.hpp"

namespace airs {

namespace {

// initial-exec: read on every C API call made from a callback.
__attribute__((tls_model("initial-exec"))) thread_local Ctx* tls_ctx = nullptr;

}  // namespace

Ctx* current_ctx() noexcept {
  return tls_ctx;
}

CtxScope::CtxScope(Ctx* c) noexcept : saved_(tls_ctx) {
  tls_ctx = c;
}
CtxScope::~CtxScope() {
  tls_ctx = saved_;
}

uint64_t Runtime::run(Process* p, Worker* w) noexcept {
  Ctx c{this, p, p->pid.load(std::memory_order_acquire), w};
  CtxScope scope(&c);
  const uint32_t budget = cfg_.budget;
  uint32_t n = 0;
  while (n < budget) {
    Msg* m = p->pop();
    if (!m) break;
    n++;
    if (p->capacity) {
      // Dekker with wait_for_room(): our dequeue, then their count.
      std::atomic_thread_fence(std::memory_order_seq_cst);
      if (p->blocked_senders.load(std::memory_order_relaxed)) {
        std::lock_guard<std::mutex> lock(block_mu_);
        block_cv_.notify_all();
      }
    }
    if (m->to != c.pid) {  // sent to an earlier process of this slot
      drop_dead(p, m);
      continue;
    }
    // A pending kill jumps ahead of every waiting message.
    Reason* r =
        p->kill_gen.load(std::memory_order_acquire) == pid_generation(c.pid)
            ? (drop_dead(p, m), reason_static(AIRS_EXIT_KILLED))
            : handle(p, c, m);
    if (!r && c.exit_request) {
      r = c.exit_request;
      c.exit_request = nullptr;
    }
    if (r) {
      // What the process staged goes in before its exit signals: post()
      // flushes the outbox first.
      end(p, c, r, true);
      if (w) flush_outbox(w);
      return n + c.sends;
    }
  }
  if (w) flush_outbox(w);
  if (n == budget) {  // more may be waiting: back of the line, still ours
    sched_->submit(p, w, false);
    return n + c.sends;
  }
  p->state.store(kIdle, std::memory_order_seq_cst);
  if (p->mail_arrived()) {
    uint32_t s = kIdle;
    if (p->state.compare_exchange_strong(s, kScheduled))
      sched_->submit(p, w, false);
  }
  return n + c.sends;
}

// Handles one envelope; returns the reason to end with, or nullptr.
Reason* Runtime::handle(Process* p, Ctx& c, Msg* m) noexcept {
  ProcessExtra* x = p->extra;
  switch (m->signal) {
    case Signal::kNone:
      if (!is_system_type(m->type)) count_one(c.worker->delivered);
      return receive(p, c, m);
    case Signal::kKill: msg_free(m); return reason_static(AIRS_EXIT_KILLED);
    case Signal::kExit: return exit_signal_arrived(p, c, m);
    case Signal::kLinkExit:
      if (!x || !x->remove_link(m->sender)) {  // unlinked since: not for us
        msg_free(m);
        return nullptr;
      }
      return exit_signal_arrived(p, c, m);
    case Signal::kLink:
      if ((x = p->ensure_extra()) && !x->linked_to(m->sender))
        x->add_link(m->sender);
      break;
    case Signal::kUnlink:
      if (x) x->remove_link(m->sender);
      break;
    case Signal::kMonitor:
      if ((x = p->ensure_extra()))
        x->monitored_by.push_back(MonitorEntry{m->correlation, m->sender});
      break;
    case Signal::kDemonitor:
      if (x) ProcessExtra::remove_monitor(x->monitored_by, m->correlation);
      break;
    case Signal::kDown:
      if (x && ProcessExtra::remove_monitor(x->monitoring, m->correlation)) {
        m->type = AIRS_MSG_DOWN;
        return receive(p, c, m);
      }
      break;  // demonitored since: dropped
    case Signal::kHealth: answer_health(p, c, m); break;
  }
  msg_free(m);
  return nullptr;
}

// A supervisor's health check: the answer goes back as a message (no
// health callback: healthy).
void Runtime::answer_health(Process* p, Ctx& c, Msg* m) noexcept {
  int32_t h = AIRS_HEALTH_HEALTHY;
  if (p->health) h = p->health(p->state_ptr, &c);
  if (Msg* r = msg_new_copy(kMsgHealthReply, &h, sizeof h)) {
    r->sender = c.pid;
    r->correlation = m->correlation;
    post(m->sender, r);
  }
}

// An exit signal (exit/2 or from a link): a message if the process traps
// exits, else ignored if normal (and not from itself), else the end.
Reason* Runtime::exit_signal_arrived(Process* p, Ctx& c, Msg* m) noexcept {
  if (p->flags.load(std::memory_order_relaxed) & kTrapExit) {
    m->type = AIRS_MSG_EXIT;
    return receive(p, c, m);
  }
  Reason* r = m->reason;
  if (r->kind == AIRS_EXIT_NORMAL && m->sender != c.pid) {
    msg_free(m);
    return nullptr;
  }
  reason_retain(r);
  msg_free(m);
  return r;
}

// Calls receive() and frees the message.
Reason* Runtime::receive(Process* p, Ctx& c, Msg* m) noexcept {
  airs_status st = p->receive(p->state_ptr, &c, static_cast<airs_msg*>(m));
  msg_free(m);
  if (st == AIRS_OK || c.exit_request) return nullptr;
  Reason* r = reason_new(AIRS_EXIT_ERROR, st, last_error_message());
  return r ? r : reason_static(AIRS_EXIT_ERROR);
}

}  // namespace airs
