// port.cpp - the port: one actor per child (Erlang's port). It owns the
// child's pipes and pidfd, turns what the child writes into messages to
// its owner, answers WRITE, CLOSE_STDIN, SIGNAL, TERMINATE and WAIT, and
// sends the owner the child's exit once the output is all delivered.
//
// Its life, in phases:
//   init      monitors the owner, hands the spawn to a FAST job
//   spawned   the job's result: watch the fds, answer the SPAWN request
//   running   pipe and pidfd readiness (one-shot fd watches, re-armed
//             after each read), requests, timers
//   finish    reaped and both pipes at EOF (or the drain time over):
//             the exit message, the waiting replies, a normal end
//   terminate whatever the reason: a child still running is killed with
//             its group and reaped (kill_and_reap), fds are closed
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <new>
#include <vector>

#include "proc.hpp"
#include "reply.hpp"

namespace airs::osl::proc {

namespace {

// A WRITE or CLOSE_STDIN waiting for the pipe, in arrival order.
struct Pending {
  char* data = nullptr;
  size_t size = 0;
  size_t done = 0;
  uint64_t correlation = 0;
  bool close = false;  // a CLOSE_STDIN
};

// A TERMINATE or WAIT waiting for the exit.
struct Waiter {
  uint64_t correlation;
  uint64_t reply_type;
  uint64_t timer;  // WAIT's timeout, or 0
  uint64_t id;
};

struct Stream {
  int fd = -1;
  uint64_t watch = 0;
  uint64_t type = 0;  // AIRS_MSG_PROC_STDOUT / STDERR
};

struct Port {
  airs_runtime* rt = nullptr;
  airs_pid self = AIRS_NO_PID;
  airs_pid owner = AIRS_NO_PID;
  uint64_t owner_ref = 0;
  uint64_t spawn_corr = 0;
  uint64_t job = 0;
  uint32_t grace_ms = AIRS_PROC_KILL_GRACE_DEFAULT;

  pid_t pid = -1;
  int pidfd = -1;
  uint64_t pid_watch = 0;
  bool reaped = false;
  airs_proc_exit exit{};

  Stream in, out, err;
  bool stdin_pipe = false;  // AIRS_PROC_STDIN_PIPE was asked for
  std::deque<Pending> writes;
  size_t queued = 0;  // bytes of writes not yet in the pipe

  std::vector<Waiter> waiters;
  uint64_t next_waiter = 1;
  uint64_t grace_timer = 0;
  uint64_t drain_timer = 0;
  bool exit_sent = false;
};

// ---- replies made later (airs_reply_to), each with a result head

void reply_later(airs_ctx* ctx, uint64_t corr, uint64_t type,
                 const airs_osl_result* r, const void* data,
                 size_t size) noexcept {
  if (corr == 0) return;  // a plain send: nobody waits for an answer
  airs_msg* m = reply_msg(type, r, data, size);
  if (m != nullptr && airs_reply_to(ctx, corr, m) != AIRS_OK) airs_msg_free(m);
}

void reply_exit(airs_ctx* ctx, const Waiter& w, const airs_proc_exit& e) {
  reply_later(ctx, w.correlation, w.reply_type, nullptr, &e, sizeof e);
}

void cancel(Port* p, uint64_t* timer) noexcept {
  if (*timer != 0) airs_cancel_timer(p->rt, *timer);
  *timer = 0;
}

airs_status timer(Port* p, uint64_t type, uint64_t delay_ms, uint64_t value,
                  uint64_t* id) noexcept {
  airs_msg* m = nullptr;
  airs_status st = airs_msg_new(type, &value, sizeof value, &m);
  if (st != AIRS_OK) return st;
  st = airs_send_after(p->rt, p->self, delay_ms, m, id);
  if (st != AIRS_OK) airs_msg_free(m);
  return st;
}

void unwatch(Port* p, Stream* s) noexcept {
  if (s->watch != 0) airs_fd_unwatch(p->rt, s->watch);
  s->watch = 0;
  close_fd(&s->fd);
}

// ---- stdin: the queue of writes

// Every queued write (and close) that can no longer happen gets `r`.
void fail_writes(Port* p, airs_ctx* ctx, const airs_osl_result& r) noexcept {
  for (Pending& w : p->writes) {
    reply_later(
        ctx, w.correlation,
        w.close ? AIRS_MSG_PROC_CLOSE_STDIN_REPLY : AIRS_MSG_PROC_WRITE_REPLY,
        w.close ? nullptr : &r, nullptr, 0);
    free(w.data);
  }
  p->writes.clear();
  p->queued = 0;
}

// Writes from the head of the queue until the pipe is full (then waits
// for it to be writable) or the queue is empty.
void pump(Port* p, airs_ctx* ctx) noexcept {
  while (!p->writes.empty()) {
    Pending& w = p->writes.front();
    if (w.close) {
      unwatch(p, &p->in);
      reply_later(ctx, w.correlation, AIRS_MSG_PROC_CLOSE_STDIN_REPLY, nullptr,
                  nullptr, 0);
      p->writes.pop_front();
      continue;
    }
    if (p->in.fd < 0) {  // queued behind a CLOSE_STDIN
      airs_osl_result r;
      result_set(&r, AIRS_ESTATE, 0, "stdin is closed");
      reply_later(ctx, w.correlation, AIRS_MSG_PROC_WRITE_REPLY, &r, nullptr,
                  0);
      free(w.data);
      p->queued -= w.size - w.done;
      p->writes.pop_front();
      continue;
    }
    while (w.done < w.size) {
      ssize_t n = write_quiet(p->in.fd, w.data + w.done, w.size - w.done);
      if (n < 0 && errno == EAGAIN) {
        if (p->in.watch == 0) {
          if (airs_fd_watch(p->rt, p->in.fd, AIRS_FD_WRITE, p->self,
                            &p->in.watch) != AIRS_OK)
            p->in.watch = 0;
        } else {
          airs_fd_rearm(p->rt, p->in.watch, AIRS_FD_WRITE);
        }
        if (p->in.watch != 0) return;
        errno = EIO;
        n = -1;
      }
      if (n < 0) {
        airs_osl_result r;
        result_set(&r, AIRS_EOS, errno, "write to the child's stdin");
        unwatch(p, &p->in);
        fail_writes(p, ctx, r);
        return;
      }
      w.done += static_cast<size_t>(n);
      p->queued -= static_cast<size_t>(n);
    }
    reply_later(ctx, w.correlation, AIRS_MSG_PROC_WRITE_REPLY, nullptr, nullptr,
                0);
    free(w.data);
    p->writes.pop_front();
  }
}

void on_write(Port* p, airs_ctx* ctx, const airs_msg* m, bool close) noexcept {
  uint64_t type =
      close ? AIRS_MSG_PROC_CLOSE_STDIN_REPLY : AIRS_MSG_PROC_WRITE_REPLY;
  if (p->in.fd < 0) {
    if (close && p->stdin_pipe)  // closed already: closing twice is fine
      reply_ok(ctx, m, type);
    else
      reply_error(ctx, m, type, AIRS_ESTATE, 0, "stdin is %s",
                  p->stdin_pipe ? "closed" : "not a pipe");
    return;
  }
  size_t size = close ? 0 : airs_msg_size(m);
  if (!close && p->queued + size > AIRS_PROC_WRITE_QUEUE_MAX) {
    reply_error(ctx, m, type, AIRS_EAGAIN, 0,
                "%zu bytes already wait for the child to read them", p->queued);
    return;
  }
  Pending w;
  w.close = close;
  w.size = size;
  w.correlation = airs_msg_correlation(m);
  if (size > 0) {
    w.data = static_cast<char*>(malloc(size));
    if (w.data == nullptr) {
      reply_error(ctx, m, type, AIRS_ENOMEM, 0, "no memory for the write");
      return;
    }
    memcpy(w.data, airs_msg_data(m), size);
  }
  // The receive is noexcept: a bad_alloc must not leave it.
  try {
    p->writes.push_back(w);
  } catch (const std::bad_alloc&) {
    free(w.data);
    reply_error(ctx, m, type, AIRS_ENOMEM, 0, "no memory for the write");
    return;
  }
  p->queued += size;
  if (p->writes.size() == 1) pump(p, ctx);
}

// ---- stdout and stderr

// Up to this many reads per readiness, then the watch is re-armed: a
// chatty child cannot keep its port (and its worker) to itself.
constexpr int kReadsPerTurn = 4;
constexpr size_t kReadSize = 64 * 1024;

void maybe_finish(Port* p, airs_ctx* ctx) noexcept;

// Each read becomes one message to the owner, which owns the buffer (no
// copy; a short read gives back the rest of it). Without an owner the
// output is read and dropped, so that the child never blocks on a pipe.
// (No thread_local buffer: a large static TLS block keeps the library
// from being dlopen()ed.)
void on_readable(Port* p, airs_ctx* ctx, Stream* s) noexcept {
  for (int i = 0; i < kReadsPerTurn; i++) {
    auto* buf = static_cast<char*>(malloc(kReadSize));
    if (buf == nullptr) break;  // try again at the next readiness
    ssize_t n = read(s->fd, buf, kReadSize);
    if (n > 0) {
      if (static_cast<size_t>(n) < kReadSize / 2) {
        void* fit = realloc(buf, static_cast<size_t>(n));
        if (fit != nullptr) buf = static_cast<char*>(fit);
      }
      airs_msg* m = nullptr;
      if (p->owner != AIRS_NO_PID &&
          airs_msg_new_owned(s->type, buf, static_cast<size_t>(n), free, &m) ==
              AIRS_OK) {
        airs_msg_set_correlation(m, p->self);
        if (airs_ctx_send_msg(ctx, p->owner, m) != AIRS_OK) airs_msg_free(m);
      } else {
        free(buf);
      }
      continue;
    }
    free(buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    unwatch(p, s);  // end of file (or a read error, which ends it too)
    maybe_finish(p, ctx);
    return;
  }
  if (airs_fd_rearm(p->rt, s->watch, AIRS_FD_READ) != AIRS_OK) {
    unwatch(p, s);
    maybe_finish(p, ctx);
  }
}

// ---- the exit

// The exit message to the owner, then every TERMINATE and WAIT waiting.
void tell_exit(Port* p, airs_ctx* ctx) noexcept {
  if (p->exit_sent) return;
  p->exit_sent = true;
  if (p->owner != AIRS_NO_PID) {
    airs_msg* m = nullptr;
    if (airs_msg_new(AIRS_MSG_PROC_EXIT, &p->exit, sizeof p->exit, &m) ==
        AIRS_OK) {
      airs_msg_set_correlation(m, p->self);
      if (airs_ctx_send_msg(ctx, p->owner, m) != AIRS_OK) airs_msg_free(m);
    }
  }
  for (Waiter& w : p->waiters) {
    cancel(p, &w.timer);
    reply_exit(ctx, w, p->exit);
  }
  p->waiters.clear();
}

// Done when the child is reaped and both pipes are at EOF; if a pipe
// stays open past the exit (a grandchild holds it), the drain timer ends
// the wait.
void maybe_finish(Port* p, airs_ctx* ctx) noexcept {
  if (!p->reaped) return;
  if (p->out.fd >= 0 || p->err.fd >= 0) {
    if (p->drain_timer == 0 &&
        timer(p, kMsgDrainOver, kDrainMs, 0, &p->drain_timer) != AIRS_OK) {
      unwatch(p, &p->out);  // no timer: do not wait at all
      unwatch(p, &p->err);
    } else {
      return;
    }
  }
  cancel(p, &p->drain_timer);
  cancel(p, &p->grace_timer);
  airs_osl_result r;
  result_set(&r, AIRS_EOS, EPIPE, "the child has ended");
  fail_writes(p, ctx, r);
  unwatch(p, &p->in);
  tell_exit(p, ctx);
  airs_exit(ctx, AIRS_EXIT_NORMAL, 0, nullptr);
}

void on_pidfd(Port* p, airs_ctx* ctx) noexcept {
  int rc = reap(p->pidfd, p->pid, false, &p->exit);
  if (rc == 0) {  // not yet (a spurious wake-up): watch again
    if (airs_fd_rearm(p->rt, p->pid_watch, AIRS_FD_READ) == AIRS_OK) return;
    rc = reap(p->pidfd, p->pid, true, &p->exit);
  }
  p->reaped = true;
  if (p->pid_watch != 0) airs_fd_unwatch(p->rt, p->pid_watch);
  p->pid_watch = 0;
  close_fd(&p->pidfd);
  maybe_finish(p, ctx);
}

void on_ready(Port* p, airs_ctx* ctx, const airs_msg* m) noexcept {
  uint64_t id = airs_msg_correlation(m);
  if (id == 0) return;
  if (id == p->out.watch) {
    on_readable(p, ctx, &p->out);
  } else if (id == p->err.watch) {
    on_readable(p, ctx, &p->err);
  } else if (id == p->in.watch) {
    pump(p, ctx);
  } else if (id == p->pid_watch) {
    on_pidfd(p, ctx);
  }
}

// ---- requests

// A signal to the child's group and, through its pidfd, to the child
// itself: a child that left its group (setsid, setpgid) still gets it.
void signal_all(Port* p, int signo) noexcept {
  kill(-p->pid, signo);
  pidfd_signal_(p->pidfd, signo);
}

bool started(Port* p, airs_ctx* ctx, const airs_msg* m, uint64_t type) {
  if (p->pid > 0) return true;
  reply_error(ctx, m, type, AIRS_ESTATE, 0, "the child has not started yet");
  return false;
}

void on_signal(Port* p, airs_ctx* ctx, const airs_msg* m) noexcept {
  const uint64_t type = AIRS_MSG_PROC_SIGNAL_REPLY;
  airs_proc_signal_req req;
  if (airs_msg_size(m) < sizeof req) {
    reply_error(ctx, m, type, AIRS_EINVAL, 0, "no signal in the request");
    return;
  }
  memcpy(&req, airs_msg_data(m), sizeof req);
  if (req.signo < 1 || req.signo > 64 ||
      (req.flags & ~AIRS_PROC_SIGNAL_GROUP) != 0) {
    reply_error(ctx, m, type, AIRS_EINVAL, 0, "bad signal %d or flags %#x",
                req.signo, req.flags);
    return;
  }
  if (p->reaped) {
    reply_error(ctx, m, type, AIRS_ESTATE, 0, "the child has been reaped");
    return;
  }
  // The pidfd names this child and no other, even if it has just ended;
  // the group's id stays ours while the child is unreaped.
  int rc = (req.flags & AIRS_PROC_SIGNAL_GROUP)
               ? kill(-p->pid, req.signo)
               : pidfd_signal_(p->pidfd, req.signo);
  if (rc != 0) {
    reply_error(ctx, m, type, AIRS_EOS, errno, "signal %d", req.signo);
    return;
  }
  reply_ok(ctx, m, type);
}

bool add_waiter(Port* p, airs_ctx* ctx, const airs_msg* m, uint64_t type,
                uint32_t timeout_ms) noexcept {
  Waiter w{airs_msg_correlation(m), type, 0, p->next_waiter++};
  if (timeout_ms > 0 &&
      timer(p, kMsgWaitOver, timeout_ms, w.id, &w.timer) != AIRS_OK) {
    reply_error(ctx, m, type, AIRS_ENOMEM, 0, "no timer for the wait");
    return false;
  }
  // The receive is noexcept: a bad_alloc must not leave it.
  try {
    p->waiters.push_back(w);
  } catch (const std::bad_alloc&) {
    if (w.timer != 0) airs_cancel_timer(p->rt, w.timer);
    reply_error(ctx, m, type, AIRS_ENOMEM, 0, "no memory for the wait");
    return false;
  }
  return true;
}

void on_wait(Port* p, airs_ctx* ctx, const airs_msg* m) noexcept {
  const uint64_t type = AIRS_MSG_PROC_WAIT_REPLY;
  uint32_t timeout_ms = 0;
  if (airs_msg_size(m) >= sizeof timeout_ms)
    memcpy(&timeout_ms, airs_msg_data(m), sizeof timeout_ms);
  if (timeout_ms == 0 || timeout_ms > 0x7fffffffu) {
    reply_error(ctx, m, type, AIRS_EINVAL, 0, "bad timeout");
    return;
  }
  if (p->exit_sent) {
    reply_ok(ctx, m, type, &p->exit, sizeof p->exit);
    return;
  }
  add_waiter(p, ctx, m, type, timeout_ms);
}

void on_wait_over(Port* p, airs_ctx* ctx, const airs_msg* m) noexcept {
  uint64_t id = 0;
  if (airs_msg_size(m) >= sizeof id) memcpy(&id, airs_msg_data(m), sizeof id);
  for (size_t i = 0; i < p->waiters.size(); i++) {
    if (p->waiters[i].id != id || p->waiters[i].timer == 0) continue;
    airs_osl_result r;
    result_set(&r, AIRS_ETIMEDOUT, 0, "the child still runs");
    airs_proc_exit none{};
    reply_later(ctx, p->waiters[i].correlation, p->waiters[i].reply_type, &r,
                &none, sizeof none);
    p->waiters.erase(p->waiters.begin() + static_cast<ptrdiff_t>(i));
    return;
  }
}

// SIGTERM to the group now, SIGKILL when the grace period is over.
void on_terminate(Port* p, airs_ctx* ctx, const airs_msg* m) noexcept {
  const uint64_t type = AIRS_MSG_PROC_TERMINATE_REPLY;
  if (p->exit_sent) {
    reply_ok(ctx, m, type, &p->exit, sizeof p->exit);
    return;
  }
  if (!add_waiter(p, ctx, m, type, 0) || p->reaped) return;
  if (p->grace_ms == 0) {
    signal_all(p, SIGKILL);
    return;
  }
  signal_all(p, SIGTERM);
  if (p->grace_timer == 0 &&
      timer(p, kMsgGraceOver, p->grace_ms, 0, &p->grace_timer) != AIRS_OK)
    signal_all(p, SIGKILL);
}

void on_grace_over(Port* p) noexcept {  // SIGTERM was not enough
  p->grace_timer = 0;
  if (!p->reaped) signal_all(p, SIGKILL);
}

// ---- the spawn's result

airs_status watch_stream(Port* p, Stream* s, int fd, uint64_t type) noexcept {
  s->fd = fd;
  s->type = type;
  if (fd < 0) return AIRS_OK;
  return airs_fd_watch(p->rt, fd, AIRS_FD_READ, p->self, &s->watch);
}

// Takes the child from the job's result and answers the SPAWN request.
void on_spawned(Port* p, airs_ctx* ctx, const airs_msg* m) noexcept {
  const uint64_t type = AIRS_MSG_PROC_SPAWN_REPLY;
  if (airs_msg_correlation(m) != p->job || p->pid > 0) return;
  airs_osl_result r;
  if (airs_msg_type(m) != kMsgSpawned || airs_msg_size(m) < sizeof(Spawned)) {
    result_set(&r, AIRS_ENOMEM, 0, "no memory to spawn");
    reply_later(ctx, p->spawn_corr, type, &r, nullptr, 0);
    airs_exit(ctx, AIRS_EXIT_NORMAL, 0, nullptr);
    return;
  }
  // The message's buffer is the job's Spawned; marking it taken keeps
  // its free function from killing the child we now own.
  auto* s = static_cast<Spawned*>(const_cast<void*>(airs_msg_data(m)));
  if (s->result.status != AIRS_OK) {
    reply_later(ctx, p->spawn_corr, type, &s->result, nullptr, 0);
    airs_exit(ctx, AIRS_EXIT_NORMAL, 0, nullptr);
    return;
  }
  s->taken = true;
  p->pid = s->pid;
  p->pidfd = s->pidfd;
  p->in.fd = s->in_fd;
  p->exit.os_pid = s->pid;
  airs_status st = watch_stream(p, &p->out, s->out_fd, AIRS_MSG_PROC_STDOUT);
  if (st == AIRS_OK)
    st = watch_stream(p, &p->err, s->err_fd, AIRS_MSG_PROC_STDERR);
  else
    close(s->err_fd);
  if (st == AIRS_OK)
    st = airs_fd_watch(p->rt, p->pidfd, AIRS_FD_READ, p->self, &p->pid_watch);
  if (st != AIRS_OK) {  // terminate kills and reaps the child
    result_set(&r, st, 0, "cannot watch the child's fds: %s",
               airs_last_error_message());
    reply_later(ctx, p->spawn_corr, type, &r, nullptr, 0);
    p->exit_sent = true;  // nobody was told of this child
    airs_exit(ctx, AIRS_EXIT_NORMAL, 0, nullptr);
    return;
  }
  airs_proc_spawned out{s->pid, p->self};
  reply_later(ctx, p->spawn_corr, type, nullptr, &out, sizeof out);
}

// ---- the behaviour

airs_status port_init(void* user_data, airs_ctx* ctx, void** state) {
  auto* a = static_cast<PortArgs*>(user_data);
  // Not new (std::nothrow): that only covers the allocation of the Port,
  // and std::deque's constructor allocates too (its map), so a bad_alloc
  // could still leave this callback.
  Port* p = nullptr;
  try {
    p = new Port;
  } catch (const std::bad_alloc&) {
    return AIRS_ENOMEM;
  }
  p->rt = airs_ctx_runtime(ctx);
  p->self = airs_self(ctx);
  p->owner = a->owner;
  p->spawn_corr = a->correlation;
  p->grace_ms = a->plan->kill_grace_ms;
  p->stdin_pipe = (a->plan->flags & AIRS_PROC_STDIN_PIPE) != 0;
  airs_status st = AIRS_OK;
  if (p->owner != AIRS_NO_PID) st = airs_monitor(ctx, p->owner, &p->owner_ref);
  if (st == AIRS_OK) {
    airs_job job;
    airs_job_init(&job);
    job.job_class = AIRS_JOB_FAST;
    job.run = spawn_job;
    job.arg = a->plan;
    job.arg_free = plan_free;
    job.reply_to = p->self;
    a->plan = nullptr;  // the job frees it, whatever happens
    st = airs_job_submit(p->rt, &job, &p->job);
  }
  if (st != AIRS_OK) {
    delete p;
    return st;
  }
  *state = p;
  return AIRS_OK;
}

airs_status port_receive(void* state, airs_ctx* ctx, const airs_msg* m) {
  auto* p = static_cast<Port*>(state);
  switch (airs_msg_type(m)) {
    case AIRS_MSG_FD_READY: on_ready(p, ctx, m); break;
    case kMsgSpawned:
    case AIRS_MSG_JOB_DONE: on_spawned(p, ctx, m); break;
    case AIRS_MSG_DOWN:
      if (airs_msg_correlation(m) == p->owner_ref)  // the owner ended
        airs_exit(ctx, AIRS_EXIT_SHUTDOWN, 0, "the port's owner ended");
      break;
    case AIRS_MSG_PROC_WRITE:
      if (started(p, ctx, m, AIRS_MSG_PROC_WRITE_REPLY))
        on_write(p, ctx, m, false);
      break;
    case AIRS_MSG_PROC_CLOSE_STDIN:
      if (started(p, ctx, m, AIRS_MSG_PROC_CLOSE_STDIN_REPLY))
        on_write(p, ctx, m, true);
      break;
    case AIRS_MSG_PROC_SIGNAL:
      if (started(p, ctx, m, AIRS_MSG_PROC_SIGNAL_REPLY)) on_signal(p, ctx, m);
      break;
    case AIRS_MSG_PROC_TERMINATE:
      if (started(p, ctx, m, AIRS_MSG_PROC_TERMINATE_REPLY))
        on_terminate(p, ctx, m);
      break;
    case AIRS_MSG_PROC_WAIT:
      if (started(p, ctx, m, AIRS_MSG_PROC_WAIT_REPLY)) on_wait(p, ctx, m);
      break;
    case kMsgWaitOver: on_wait_over(p, ctx, m); break;
    case kMsgGraceOver: on_grace_over(p); break;
    case kMsgDrainOver:
      p->drain_timer = 0;
      unwatch(p, &p->out);
      unwatch(p, &p->err);
      maybe_finish(p, ctx);
      break;
    default: break;  // not ours: ignored, as a gen_server's stray message
  }
  return AIRS_OK;
}

// Whatever ended the port: a child still running dies with its group and
// is reaped; the owner and the waiting requesters hear of it.
void port_terminate(void* state, airs_ctx* ctx, const airs_reason*) {
  auto* p = static_cast<Port*>(state);
  cancel(p, &p->drain_timer);
  cancel(p, &p->grace_timer);
  if (p->pid > 0 && !p->reaped) {
    if (p->pid_watch != 0) airs_fd_unwatch(p->rt, p->pid_watch);
    p->pid_watch = 0;
    bool known = kill_and_reap(p->rt, p->pid, p->pidfd, &p->exit);
    p->pidfd = -1;
    p->reaped = true;
    if (!known) {
      memset(&p->exit, 0, sizeof p->exit);
      p->exit.os_pid = p->pid;
      p->exit.code = -1;
      p->exit.signo = SIGKILL;
      p->exit.flags = AIRS_PROC_EXIT_SIGNALED;
    }
    p->exit.flags |= AIRS_PROC_EXIT_BY_PORT;
  }
  unwatch(p, &p->out);
  unwatch(p, &p->err);
  airs_osl_result r;
  result_set(&r, AIRS_EOS, EPIPE, "the port has ended");
  fail_writes(p, ctx, r);
  unwatch(p, &p->in);
  close_fd(&p->pidfd);
  if (p->pid > 0) tell_exit(p, ctx);
  for (Waiter& w : p->waiters) cancel(p, &w.timer);
  delete p;
}

void args_free(void* user_data) noexcept {
  auto* a = static_cast<PortArgs*>(user_data);
  plan_free(a->plan);
  delete a;
}

}  // namespace

// The port is not linked to the server: a restart of the process actor
// leaves running children alone.
airs_status port_start(airs_ctx* ctx, PortArgs* args, airs_pid* out) noexcept {
  static const airs_behaviour behaviour = {AIRS_BEHAVIOUR_VERSION,
                                           sizeof(airs_behaviour),
                                           port_init,
                                           port_receive,
                                           port_terminate,
                                           nullptr,
                                           nullptr};
  return airs_ctx_spawn(ctx, &behaviour, args, args_free, nullptr, out);
}

}  // namespace airs::osl::proc
