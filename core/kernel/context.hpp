// context.hpp - the context of a callback (the public airs_ctx): which
// kernel, process and worker it runs on, and what the callback asked for
// (an exit). It lives on the stack of the turn, or of the spawn that runs
// init; a thread-local pointer says which one is current.
#pragma once

#include <cstdint>

#include "mail/message.hpp"

namespace airs {
struct Kernel;
struct Process;
struct Worker;
}  // namespace airs

struct airs_ctx {
  airs::Kernel* kernel;
  airs::Process* proc;
  uint64_t pid;
  airs::Worker* worker;                  // nullptr when not on a worker of it
  airs::Reason* exit_request = nullptr;  // set by airs_exit
  bool in_init = false;
  // Its end has begun: terminate, and the hooks its end runs. It makes no
  // new link, monitor or linked spawn, and airs_exit does nothing.
  bool ending = false;
  // It opened a lane in its worker's outbox (Mail::stage): its later sends
  // look there first.
  bool staging = false;
  uint32_t sends = 0;  // messages sent during this turn (its cost)
  // The type of the message whose receive ended the process (the last
  // handled of a batch), set only on the way out: the crash report names
  // it. 0: none (a kill, an exit signal).
  uint64_t last_type = 0;
  bool in_turn = false;  // a scheduled turn's context (Turns::turn)
  // Messages went to the transport during this turn: it flushes them when
  // the turn ends (Remote::flush), so that they can leave as one frame.
  bool remote_dirty = false;
  // A batched turn that ends its process: envelopes it took from the
  // mailbox and did not handle (the rest of a batch, the signal that
  // ended it), in mailbox order. Processes::end answers them as the mail
  // still queued (Mail::drain_dead), first.
  airs::Msg** unhandled = nullptr;
  uint32_t unhandled_count = 0;
};

namespace airs {
using Ctx = ::airs_ctx;

// Why a link, a monitor or a linked spawn of an ending process fails.
inline constexpr const char* kEndingText =
    "the calling process is ending (its terminate, or a hook its end runs)";

// The callback context current on this thread, or nullptr. [any thread]
Ctx* current_ctx() noexcept;

// The current context if it belongs to kernel `k`, else nullptr.
inline Ctx* current_ctx_in(const Kernel* k) noexcept {
  Ctx* c = current_ctx();
  return c && c->kernel == k ? c : nullptr;
}

// Makes `c` current for its lifetime (callbacks nest: a spawn inside a
// callback runs the child's init).
class CtxScope {
 public:
  explicit CtxScope(Ctx* c) noexcept;
  ~CtxScope();
  CtxScope(const CtxScope&) = delete;
  CtxScope& operator=(const CtxScope&) = delete;

 private:
  Ctx* saved_;
};

}  // namespace airs
