// spawn.cpp - the spawn job: makes the child's pipes, starts it with
// posix_spawn and opens its pidfd, on a FAST pool thread so that no
// worker waits for an exec (or a PATH search, or a slow disk).
//
// posix_spawn, not fork: glibc runs it as clone(CLONE_VM | CLONE_VFORK),
// so a parent with gigabytes resident pays no page-table copy, and an
// exec failure comes back as its return value. The child gets every
// signal at its default and none blocked (the host's own dispositions
// and mask are its business, not the program's), a process group of its
// own (so that a terminate or a kill reaches everything it started), and
// only the fds 0, 1 and 2: every pipe end is made close-on-exec, so the
// parent's ends leak into no spawn racing on another thread, and every fd
// from 3 up is closed in the child before the exec.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "proc.hpp"
#include "reply.hpp"

extern char** environ;

namespace airs::osl::proc {

namespace {

// A pipe end below 3 would be overwritten by the dup2s of another end
// (a host that closed its stdin, say): move it up, close-on-exec kept.
bool lift(int* fd) noexcept {
  if (*fd >= 3) return true;
  int moved = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
  if (moved < 0) return false;
  close(*fd);
  *fd = moved;
  return true;
}

bool make_pipe(int ends[2]) noexcept {
  if (pipe2(ends, O_CLOEXEC) != 0) return false;
  if (lift(&ends[0]) && lift(&ends[1])) return true;
  close_fd(&ends[0]);
  close_fd(&ends[1]);
  return false;
}

// The child's ends, the parent's ends and the phase that failed.
struct Pipes {
  int in[2] = {-1, -1};
  int out[2] = {-1, -1};
  int err[2] = {-1, -1};

  void close_child_ends() noexcept {
    close_fd(&in[0]);
    close_fd(&out[1]);
    close_fd(&err[1]);
  }
  void close_all() noexcept {
    close_child_ends();
    close_fd(&in[1]);
    close_fd(&out[0]);
    close_fd(&err[0]);
  }
};

bool open_pipes(const Plan& plan, Pipes* p) noexcept {
  if ((plan.flags & AIRS_PROC_STDIN_PIPE) && !make_pipe(p->in)) return false;
  if (!(plan.flags & AIRS_PROC_STDOUT_DISCARD) && !make_pipe(p->out))
    return false;
  if (!(plan.flags & (AIRS_PROC_STDERR_MERGE | AIRS_PROC_STDERR_DISCARD)) &&
      !make_pipe(p->err))
    return false;
  return true;
}

// One of the child's standard fds: a pipe end, or /dev/null.
int wire_fd(posix_spawn_file_actions_t* fa, int end, int target,
            int null_mode) noexcept {
  if (end >= 0) return posix_spawn_file_actions_adddup2(fa, end, target);
  return posix_spawn_file_actions_addopen(fa, target, "/dev/null", null_mode,
                                          0);
}

int file_actions(const Plan& plan, const Pipes& p,
                 posix_spawn_file_actions_t* fa) noexcept {
  int rc = wire_fd(fa, p.in[0], 0, O_RDONLY);
  if (rc == 0) rc = wire_fd(fa, p.out[1], 1, O_WRONLY);
  int err_end = p.err[1];
  if (plan.flags & AIRS_PROC_STDERR_MERGE) err_end = p.out[1];
  if (rc == 0) rc = wire_fd(fa, err_end, 2, O_WRONLY);
  if (rc == 0 && plan.cwd != nullptr)
    rc = posix_spawn_file_actions_addchdir_np(fa, plan.cwd);
  // The host's own fds that lack close-on-exec (its business, or a
  // library's) must not reach the program either: close_range(3, ~0).
  if (rc == 0) rc = posix_spawn_file_actions_addclosefrom_np(fa, 3);
  return rc;
}

// Every signal, glibc's own two included. glibc's sigfillset leaves out
// the signals its threads use (SIGCANCEL 32, SIGSETXID 33), and its
// posix_spawn then sets those to SIG_IGN in the child, which an exec
// keeps: a program would start with signals 32 and 33 ignored. Their bits
// are set by hand (sigaddset refuses them) so that they go to SIG_DFL.
void fill_all(sigset_t* set) noexcept {
  sigfillset(set);
#ifdef __GLIBC__
  constexpr unsigned long bits = 8 * sizeof(unsigned long);
  for (int sig = 32; sig < SIGRTMIN; sig++)
    set->__val[(sig - 1) / bits] |= 1ul << ((sig - 1) % bits);
#endif
}

int attributes(posix_spawnattr_t* attr) noexcept {
  sigset_t none, all;
  sigemptyset(&none);
  fill_all(&all);
  int rc = posix_spawnattr_setsigmask(attr, &none);
  if (rc == 0) rc = posix_spawnattr_setsigdefault(attr, &all);
  if (rc == 0) rc = posix_spawnattr_setpgroup(attr, 0);
  if (rc == 0)
    rc = posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK |
                                            POSIX_SPAWN_SETSIGDEF |
                                            POSIX_SPAWN_SETPGROUP);
  return rc;
}

// posix_spawn's own return carries an exec failure (glibc reaps the
// failed child itself then); a '/' in the path means no PATH search.
int start(const Plan& plan, const Pipes& p, pid_t* pid) noexcept {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  int rc = posix_spawn_file_actions_init(&fa);
  if (rc != 0) return rc;
  rc = posix_spawnattr_init(&attr);
  if (rc != 0) {
    posix_spawn_file_actions_destroy(&fa);
    return rc;
  }
  rc = file_actions(plan, p, &fa);
  if (rc == 0) rc = attributes(&attr);
  if (rc == 0) {
    char* const* argv = plan.argv.data();
    char* const* envp = plan.inherit_env ? environ : plan.envp.data();
    if (strchr(plan.path, '/') != nullptr)
      rc = posix_spawn(pid, plan.path, &fa, &attr, argv, envp);
    else
      rc = posix_spawnp(pid, plan.path, &fa, &attr, argv, envp);
  }
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&fa);
  return rc;
}

void set_nonblocking(int fd) noexcept {
  if (fd < 0) return;
  int fl = fcntl(fd, F_GETFL);
  if (fl >= 0) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

void spawned_free(void* p) noexcept {
  auto* s = static_cast<Spawned*>(p);
  if (!s->taken) {  // the port ended before it took the child
    close_fd(&s->in_fd);
    close_fd(&s->out_fd);
    close_fd(&s->err_fd);
    if (s->pid > 0 && s->pidfd >= 0) {
      kill(-s->pid, SIGKILL);
      pidfd_signal_(s->pidfd, SIGKILL);
      airs_proc_exit ignored;
      reap(s->pidfd, s->pid, true, &ignored);  // SIGKILLed: at once
    }
    close_fd(&s->pidfd);
  }
  free(s);
}

// The phases, in order; the first that fails writes the result.
void run(const Plan& plan, Spawned* s) noexcept {
  Pipes p;
  if (!open_pipes(plan, &p)) {
    result_set(&s->result, AIRS_EOS, errno, "pipe");
    p.close_all();
    return;
  }
  pid_t pid = -1;
  int rc = start(plan, p, &pid);
  p.close_child_ends();
  if (rc != 0) {
    result_set(&s->result, AIRS_EOS, rc, "spawn %.100s", plan.path);
    p.close_all();
    return;
  }
  int pidfd = pidfd_open_(pid);
  if (pidfd < 0) {
    int err = errno;
    kill(-pid, SIGKILL);
    waitpid(pid, nullptr, 0);  // our own child, not yet watched by anyone
    result_set(&s->result, AIRS_EOS, err, "pidfd_open");
    p.close_all();
    return;
  }
  set_nonblocking(p.in[1]);
  set_nonblocking(p.out[0]);
  set_nonblocking(p.err[0]);
  s->pid = pid;
  s->pidfd = pidfd;
  s->in_fd = p.in[1];
  s->out_fd = p.out[0];
  s->err_fd = p.err[0];
}

}  // namespace

void plan_free(void* plan) noexcept {
  delete static_cast<Plan*>(plan);
}

airs_msg* spawn_job(void* arg) noexcept {
  const Plan& plan = *static_cast<Plan*>(arg);
  auto* s = static_cast<Spawned*>(calloc(1, sizeof(Spawned)));
  if (s == nullptr) return nullptr;
  s->pid = -1;
  s->pidfd = s->in_fd = s->out_fd = s->err_fd = -1;
  run(plan, s);
  airs_msg* m = nullptr;
  if (airs_msg_new_owned(kMsgSpawned, s, sizeof *s, spawned_free, &m) !=
      AIRS_OK) {
    spawned_free(s);
    return nullptr;
  }
  return m;
}

}  // namespace airs::osl::proc
