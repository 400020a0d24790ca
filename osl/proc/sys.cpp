// sys.cpp - the system calls around a child that more than one file
// needs: reaping through a pidfd, killing a group and reaping it off the
// workers, and a write that cannot raise SIGPIPE in the host.
//
// None of them touches process-wide state: no signal disposition, no
// SIGCHLD handler, no waitpid(-1) that could take another's child.
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "proc.hpp"

namespace airs::osl::proc {

int pidfd_open_(pid_t pid) noexcept {
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0u));
}

int pidfd_signal_(int pidfd, int signo) noexcept {
  return static_cast<int>(
      syscall(SYS_pidfd_send_signal, pidfd, signo, nullptr, 0u));
}

void close_fd(int* fd) noexcept {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

// waitid(P_PIDFD) reaps exactly the child of the pidfd (Linux 5.4): no
// race with a pid that was reused, and no other child is touched.
int reap(int pidfd, pid_t pid, bool block, airs_proc_exit* out) noexcept {
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int rc;
  do {
    rc = waitid(P_PIDFD, static_cast<id_t>(pidfd), &si,
                WEXITED | (block ? 0 : WNOHANG));
  } while (rc < 0 && errno == EINTR);
  memset(out, 0, sizeof *out);
  out->os_pid = pid;
  out->code = -1;
  if (rc < 0) {
    out->flags = AIRS_PROC_EXIT_UNKNOWN;  // ECHILD: reaped by someone else
    return -1;
  }
  if (si.si_pid == 0) return 0;  // WNOHANG: still running
  switch (si.si_code) {
    case CLD_EXITED:
      out->flags = AIRS_PROC_EXIT_EXITED;
      out->code = si.si_status;
      break;
    case CLD_DUMPED:
      out->flags = AIRS_PROC_EXIT_SIGNALED | AIRS_PROC_EXIT_CORE;
      out->signo = si.si_status;
      break;
    default:  // CLD_KILLED
      out->flags = AIRS_PROC_EXIT_SIGNALED;
      out->signo = si.si_status;
      break;
  }
  return 1;
}

namespace {

struct Reaping {
  pid_t pid;
  int pidfd;
};

airs_msg* reap_job(void* arg) noexcept {
  auto* r = static_cast<Reaping*>(arg);
  airs_proc_exit ignored;
  reap(r->pidfd, r->pid, true, &ignored);
  close_fd(&r->pidfd);
  return nullptr;
}

void reaping_free(void* arg) noexcept {
  auto* r = static_cast<Reaping*>(arg);
  if (r->pidfd >= 0) {  // refused or cancelled: reap here after all
    airs_proc_exit ignored;
    reap(r->pidfd, r->pid, true, &ignored);
    close_fd(&r->pidfd);
  }
  free(r);
}

}  // namespace

// The group id is the child's pid (POSIX_SPAWN_SETPGROUP 0). While the
// child is unreaped its pid cannot be reused, so neither can the group's.
bool kill_and_reap(airs_runtime* rt, pid_t pid, int pidfd,
                   airs_proc_exit* out) noexcept {
  airs_proc_exit local;
  if (out == nullptr) out = &local;
  kill(-pid, SIGKILL);
  pidfd_signal_(pidfd, SIGKILL);  // also if it left its group
  if (reap(pidfd, pid, false, out) != 0) {
    close(pidfd);
    return true;
  }
  auto* r = static_cast<Reaping*>(malloc(sizeof(Reaping)));
  if (r != nullptr) {
    r->pid = pid;
    r->pidfd = pidfd;
    airs_job job;
    airs_job_init(&job);
    job.job_class = AIRS_JOB_SLOW;
    job.run = reap_job;
    job.arg = r;
    job.arg_free = reaping_free;  // reaps itself if the job is refused
    airs_job_submit(rt, &job, nullptr);
    return false;
  }
  reap(pidfd, pid, true, out);  // out of memory: wait here
  close(pidfd);
  return true;
}

// The usual way for a library (as curl and OpenSSL do): block SIGPIPE on
// this thread, write, and if the write raised a SIGPIPE that was not
// pending before, take it back with sigtimedwait before unblocking.
ssize_t write_quiet(int fd, const void* data, size_t size) noexcept {
  sigset_t pipe_set, old, pending;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  sigemptyset(&pending);
  sigpending(&pending);
  bool was_pending = sigismember(&pending, SIGPIPE) == 1;
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  ssize_t n;
  do {
    n = write(fd, data, size);
  } while (n < 0 && errno == EINTR);
  int err = errno;
  if (n < 0 && err == EPIPE && !was_pending) {
    struct timespec zero = {0, 0};
    while (sigtimedwait(&pipe_set, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = err;
  return n;
}

}  // namespace airs::osl::proc
