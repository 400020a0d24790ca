// turn.cpp - one scheduled turn of a process.
#include "kernel/turn.hpp"

#include "base/error.hpp"
#include "kernel/kernel.hpp"

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

uint64_t Turns::run(void* self, Process* p, Worker* w) noexcept {
  return static_cast<Turns*>(self)->turn(p, w);
}

// The end of every turn: what it staged goes to the mailboxes, and what it
// handed to the transport leaves.
void Turns::finish(Ctx& c, Worker* w) noexcept {
  if (w) k_.mail.flush(w);
  if (c.remote_dirty) k_.remote.flush();
}

uint64_t Turns::turn(Process* p, Worker* w) noexcept {
  Ctx c{&k_, p, p->pid.load(std::memory_order_acquire), w};
  c.in_turn = true;
  CtxScope scope(&c);
  const uint32_t budget = k_.cfg.budget;
  uint32_t n = 0;
  // A kill marked with no message to carry it (no memory) ends the turn's
  // process before anything else.
  if (p->kill_gen.load(std::memory_order_acquire) == pid_generation(c.pid)) {
    k_.processes.end(p, c, reason_static(AIRS_EXIT_KILLED), true);
    finish(c, w);
    return 1;
  }
  while (n < budget) {
    Msg* m = p->take();
    if (!m) break;
    n++;
    if (p->capacity) k_.mail.room_made(p);
    Reason* r = nullptr;
    if (m->to != c.pid) {  // sent to an earlier process of this slot
      p->detach(m);
      k_.mail.undeliverable(m);
    } else if (p->kill_gen.load(std::memory_order_acquire) ==
               pid_generation(c.pid)) {
      // A pending kill jumps ahead of every waiting message (a link or
      // monitor request among them is answered with `killed`).
      r = reason_static(AIRS_EXIT_KILLED);
      p->detach(m);
      k_.mail.undeliverable(m, r);
    } else {
      r = handle(p, c, m);
    }
    if (!r && c.exit_request) {
      r = c.exit_request;
      c.exit_request = nullptr;
    }
    if (r) {
      // What the process staged goes in before its exit signals: the mail
      // path pushes the outbox before any signal.
      k_.processes.end(p, c, r, true);
      finish(c, w);
      return n + c.sends;
    }
  }
  finish(c, w);
  if (n == budget) {  // more may be waiting: back of the line, still ours
    k_.sched.submit(p, w, false);
    return n + c.sends;
  }
  k_.mail.idle_or_run(p, w);
  return n + c.sends;
}

// Handles one envelope; returns the reason to end with, or nullptr. A
// user message is released back to the mailbox after receive; a signal is
// detached first, since signals keep or send on their envelopes.
Reason* Turns::handle(Process* p, Ctx& c, Msg* m) noexcept {
  if (m->signal == Signal::kNone) {
    if (!is_system_type(m->type)) {
      if (c.worker)
        count_one(c.worker->delivered);
      else
        k_.observer.count_delivered_elsewhere();  // a turn on the pool
    }
    Reason* r = receive(p, c, m);
    p->release(m);
    return r;
  }
  p->detach(m);
  Arrival a = k_.signals.arrived(p, c, m);
  if (!a.deliver) return a.end;
  Reason* r = receive(p, c, m);  // a trapped exit, or a down
  msg_free(m);
  return r;
}

// Calls receive(); the caller disposes of the message.
Reason* Turns::receive(Process* p, Ctx& c, Msg* m) noexcept {
  airs_status st = p->receive(p->state_ptr, &c, m);
  if (st == AIRS_OK || c.exit_request) return nullptr;
  Reason* r = reason_new(AIRS_EXIT_ERROR, st, last_error_message());
  return r ? r : reason_static(AIRS_EXIT_ERROR);
}

}  // namespace airs
