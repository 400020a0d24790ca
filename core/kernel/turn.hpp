// turn.hpp - one scheduled turn of a process: up to the budget's worth of
// envelopes, each a user message for receive() or a system signal for
// Signals::arrived(), then the outbox pushed and the process idle again
// (or back in line if more is waiting).
#pragma once

#include <cstdint>

#include "airs/airs.h"

#include "kernel/context.hpp"
#include "mail/message.hpp"

namespace airs {

struct Kernel;
struct Process;
struct Worker;

class Turns {
 public:
  explicit Turns(Kernel& k) : k_(k) {}
  Turns(const Turns&) = delete;
  Turns& operator=(const Turns&) = delete;

  // The scheduler's RunFn: one turn of `p` on `w`; returns its cost
  // (messages handled plus messages sent). [w's thread, p's consumer]
  static uint64_t run(void* self, Process* p, Worker* w) noexcept;
  // The scheduler's SettleFn (Mail::idle_or_run, to run next). [w's
  // thread, p's role]
  static void settle(void* self, Process* p, Worker* w) noexcept;

 private:
  uint64_t turn(Process* p, Worker* w) noexcept;
  void finish(Ctx& c, Worker* w) noexcept;
  uint64_t close(Process* p, Ctx& c, Worker* w, Reason* r,
                 uint32_t handled) noexcept;
  Reason* handle(Process* p, Ctx& c, Msg* m) noexcept;
  void count_delivered(Ctx& c, uint64_t n) noexcept;
  Reason* receive(Process* p, Ctx& c, Msg* m) noexcept;
  Reason* receive_timed(Process* p, Ctx& c, Msg* m) noexcept;

  // The batched turn (airs_behaviour.receive_batch): messages are
  // gathered, then handed over in one call; see turn.cpp.
  struct Gathered;
  uint64_t batch_turn(Process* p, Ctx& c, Worker* w) noexcept;
  Reason* deliver(Process* p, Ctx& c, Gathered& g) noexcept;
  void gather(Gathered& g, Msg* m) noexcept;

  Kernel& k_;
};

}  // namespace airs
