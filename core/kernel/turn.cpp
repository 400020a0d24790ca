// turn.cpp - one scheduled turn of a process.
#include "kernel/turn.hpp"

#include <cstdio>

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

void Turns::settle(void* self, Process* p, Worker* w) noexcept {
  static_cast<Turns*>(self)->k_.mail.idle_or_run(p, w, true);
}

// The end of every turn: what it staged goes to the mailboxes, and what it
// handed to the transport leaves.
void Turns::finish(Ctx& c, Worker* w) noexcept {
  if (w) k_.mail.flush(w);
  if (c.remote_dirty) k_.remote.flush();
}

// After the last message of a turn (either kind): the process ends with
// `r`, or it waits at the back of the line when it used its whole budget
// (more may be waiting, and the role is still ours), or it goes idle: at
// once, or after the worker's next turn if the worker keeps its role
// meanwhile (Scheduler::linger).
// Returns the turn's cost. Inlined: it is the tail of every turn, and a
// call cost pingpong 3 % more instructions.
[[gnu::always_inline]] inline uint64_t Turns::close(Process* p, Ctx& c,
                                                    Worker* w, Reason* r,
                                                    uint32_t handled) noexcept {
  // An ending process pushes what it staged before its end can be seen
  // (Processes::end); finish() pushes what the others staged.
  if (r) k_.processes.end(p, c, r, true);
  finish(c, w);
  if (!r) {
    if (handled == k_.cfg.budget)
      k_.sched.submit(p, w, false);
    else if (!w || !k_.sched.linger(p, w))
      k_.mail.idle_or_run(p, w);
  }
  return handled + c.sends;
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
  if (p->flags.load(std::memory_order_relaxed) & kBatchReceive)
    return batch_turn(p, c, w);
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
    if (r) return close(p, c, w, r, n);
  }
  return close(p, c, w, nullptr, n);
}

// `n` user messages handed to the process: counted by its worker, or
// apart for a turn on the pool (no worker).
void Turns::count_delivered(Ctx& c, uint64_t n) noexcept {
  if (c.worker)
    count_add(c.worker->delivered, n);
  else
    k_.observer.count_delivered_elsewhere(n);
}

// Handles one envelope; returns the reason to end with, or nullptr. A
// user message is released back to the mailbox after receive; a signal is
// detached first, since signals keep or send on their envelopes.
Reason* Turns::handle(Process* p, Ctx& c, Msg* m) noexcept {
  if (m->signal == Signal::kNone) {
    const bool user = !is_system_type(m->type);
    if (user) count_delivered(c, 1);
    Reason* r = user && p->timed.load(std::memory_order_relaxed)
                    ? receive_timed(p, c, m)
                    : receive(p, c, m);
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

// receive() for a timed process (observe/timing.hpp): the message's wait
// and the call's time go to its histograms.
Reason* Turns::receive_timed(Process* p, Ctx& c, Msg* m) noexcept {
  uint64_t begin = mono_ns();
  Reason* r = receive(p, c, m);
  const Msg* handled = m;
  k_.observer.timing->received(c.pid, &handled, 1, begin, mono_ns());
  return r;
}

// Calls receive(); the caller disposes of the message.
Reason* Turns::receive(Process* p, Ctx& c, Msg* m) noexcept {
  airs_status st = p->receive(p->state_ptr, &c, m);
  if (st == AIRS_OK && !c.exit_request) return nullptr;
  c.last_type = m->type;  // for the crash report, on the way out only
  if (c.exit_request) return nullptr;
  return reason_error(st, last_error_message());
}

// A batched turn gathers messages as the one-message turn would hand them
// to receive, and hands over up to AIRS_BATCH_MAX at a time. Each envelope
// is detached as it is taken: a batch holds several at once, and the
// mailbox only keeps the last one taken linked (a later take would free
// it). A signal that is not a message ends the batch: the gathered ones
// go first, so it acts exactly where it would have between two calls of
// receive.
struct Turns::Gathered {
  airs_batch_item items[AIRS_BATCH_MAX];
  // One more: the signal that was taken when the batch before it ended
  // the process (unhandled too).
  Msg* msgs[AIRS_BATCH_MAX + 1];
  uint32_t count = 0;
};

void Turns::gather(Gathered& g, Msg* m) noexcept {
  g.items[g.count] = {m->type, m->sender, m->correlation, m, m->data, m->size};
  g.msgs[g.count++] = m;
}

uint64_t Turns::batch_turn(Process* p, Ctx& c, Worker* w) noexcept {
  Gathered g;
  const uint32_t budget = k_.cfg.budget;
  // A bounded mailbox gets batches of one: its messages stay in it, and
  // count against its capacity, until they are handled, as with receive.
  const uint32_t most = p->capacity ? 1 : AIRS_BATCH_MAX;
  uint32_t n = 0;
  Reason* r = nullptr;
  while (!r && n < budget) {
    Msg* m = p->take();
    if (!m) break;
    n++;
    if (p->capacity) k_.mail.room_made(p);
    p->detach(m);
    if (m->to != c.pid) {  // sent to an earlier process of this slot
      k_.mail.undeliverable(m);
      continue;
    }
    if (p->kill_gen.load(std::memory_order_acquire) == pid_generation(c.pid)) {
      // The kill jumps ahead of what is gathered too: none of it has been
      // handed over yet.
      r = reason_static(AIRS_EXIT_KILLED);
      for (uint32_t i = 0; i < g.count; i++)
        k_.mail.undeliverable(g.msgs[i], r);
      g.count = 0;
      k_.mail.undeliverable(m, r);
      break;
    }
    if (m->signal != Signal::kNone) {
      if (g.count && (r = deliver(p, c, g))) {
        c.unhandled[c.unhandled_count++] = m;  // still queued, as it were
        break;
      }
      Arrival a = k_.signals.arrived(p, c, m);
      if (!a.deliver) {
        r = a.end;
        if (!r && c.exit_request) {
          r = c.exit_request;
          c.exit_request = nullptr;
        }
        continue;
      }
    }
    gather(g, m);  // a message, a trapped exit or a down
    if (g.count == most) r = deliver(p, c, g);
  }
  if (!r && g.count) r = deliver(p, c, g);
  return close(p, c, w, r, n);
}

// Hands the gathered messages over in one call and frees those handled;
// returns the reason to end with, or nullptr. When the process ends, the
// ones it did not handle go to c.unhandled (for Processes::end).
Reason* Turns::deliver(Process* p, Ctx& c, Gathered& g) noexcept {
  const uint32_t count = g.count;
  uint64_t user = 0;
  for (uint32_t i = 0; i < count; i++) user += !is_system_type(g.items[i].type);
  count_delivered(c, user);
  uint32_t handled = count;
  const bool timed = p->timed.load(std::memory_order_relaxed);
  uint64_t begin = timed ? mono_ns() : 0;
  airs_status st = p->receive_batch(p->state_ptr, &c, g.items, count, &handled);
  if (timed)  // one call: one sample of its time, a wait per message
    k_.observer.timing->received(c.pid, g.msgs, count, begin, mono_ns());
  Reason* r = nullptr;
  if (st != AIRS_OK || c.exit_request)  // for the crash report
    c.last_type =
        g.items[handled > 0 && handled <= count ? handled - 1 : count - 1].type;
  if (c.exit_request) {
    r = c.exit_request;
    c.exit_request = nullptr;
  } else if (p->kill_gen.load(std::memory_order_acquire) ==
             pid_generation(c.pid)) {
    r = reason_static(AIRS_EXIT_KILLED);  // killed meanwhile, maybe by itself
  } else if (st != AIRS_OK) {
    r = reason_error(st, last_error_message());
  } else if (handled < count) {
    char text[160];
    std::snprintf(text, sizeof text,
                  "receive_batch returned AIRS_OK with %u of %u messages "
                  "handled, without ending the process",
                  handled, count);
    r = reason_error(AIRS_EINVAL, text);
  }
  if (!r || handled > count) handled = count;
  for (uint32_t i = 0; i < handled; i++) msg_free(g.msgs[i]);
  g.count = 0;
  if (r) {
    uint32_t left = count - handled;
    for (uint32_t i = 0; i < left; i++) g.msgs[i] = g.msgs[handled + i];
    c.unhandled = g.msgs;
    c.unhandled_count = left;
  }
  return r;
}

}  // namespace airs
