/*
 * test_api_fd_watch.c - fds a process watches (<airs/io.h>: airs_fd_watch,
 * airs_fd_rearm, airs_fd_unwatch), through the public API only. A probe
 * process owns the watches; this thread writes to pipes and waits for the
 * probe's AIRS_MSG_FD_READY messages. Every bad input has its status.
 */
#define _GNU_SOURCE /* pipe2, pthread, clock_gettime, poll */
#include <airs/airs.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include "check.h"
#include "helpers.h"
#include "net_probe.h"

#define WAIT_MS 5000
#define QUIET_MS 50 /* long enough to see a message that should not come */
#define CHECK_OK(call) CHECK_EQ((call), AIRS_OK)

/* The AIRS_FD_* bits of a ready message. */
static uint32_t ready_bits(const probe_msg* m) {
  uint32_t bits = 0;
  if (m->size == sizeof bits) memcpy(&bits, m->data, sizeof bits);
  return bits;
}

/* A one-shot watch: one message per arming, even while data stays unread;
 * re-arming with data still there reports again at once (the level is
 * checked at each arming). */
static void test_one_shot(void) {
  airs_runtime* rt = make_runtime(2, 0);
  probe* p = probe_new();
  airs_pid owner = probe_spawn(rt, p);
  int fds[2];
  uint64_t id = 0;
  probe_msg m;
  CHECK(pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
  CHECK_OK(airs_fd_watch(rt, fds[0], AIRS_FD_READ, owner, &id));
  CHECK(id != 0);
  CHECK(!probe_wait(p, AIRS_MSG_FD_READY, QUIET_MS, NULL)); /* empty pipe */
  CHECK(write(fds[1], "x", 1) == 1);
  CHECK(probe_wait(p, AIRS_MSG_FD_READY, WAIT_MS, &m));
  CHECK_EQ(m.socket, id); /* correlation = the watch */
  CHECK_EQ(ready_bits(&m), AIRS_FD_READ);
  CHECK(write(fds[1], "y", 1) == 1); /* more data, no arming: silence */
  CHECK(!probe_wait(p, AIRS_MSG_FD_READY, QUIET_MS, NULL));
  CHECK_OK(airs_fd_rearm(rt, id, AIRS_FD_READ));
  CHECK(probe_wait(p, AIRS_MSG_FD_READY, WAIT_MS, &m));
  CHECK_EQ(probe_count(p, AIRS_MSG_FD_READY), 2);
  /* Sockets and watches are told apart: neither kind's calls take the
   * other's id, and watches are not counted as sockets. */
  CHECK_EQ(airs_socket_close(rt, id), AIRS_ENOTFOUND);
  CHECK_EQ(airs_socket_count(rt), 0);
  CHECK_OK(airs_fd_unwatch(rt, id));
  CHECK_EQ(airs_fd_rearm(rt, id, AIRS_FD_READ), AIRS_ENOTFOUND);
  CHECK_EQ(airs_fd_unwatch(rt, id), AIRS_ENOTFOUND);
  close(fds[0]);
  close(fds[1]);
  airs_runtime_free(rt);
  probe_free(p);
}

/* Write readiness, a hang-up reported as READ, and the caller's own fd
 * closed while the runtime's duplicate goes on being watched. */
static void test_write_hangup_and_dup(void) {
  airs_runtime* rt = make_runtime(2, 0);
  probe* p = probe_new();
  airs_pid owner = probe_spawn(rt, p);
  int fds[2];
  uint64_t rid = 0, wid = 0;
  probe_msg m;
  CHECK(pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
  CHECK_OK(airs_fd_watch(rt, fds[1], AIRS_FD_WRITE, owner, &wid));
  CHECK(probe_wait(p, AIRS_MSG_FD_READY, WAIT_MS, &m));
  CHECK_EQ(m.socket, wid);
  CHECK_EQ(ready_bits(&m), AIRS_FD_WRITE);
  CHECK_OK(airs_fd_unwatch(rt, wid));
  /* Both directions asked, only the ready one reported. */
  CHECK_OK(
      airs_fd_watch(rt, fds[0], AIRS_FD_READ | AIRS_FD_WRITE, owner, &rid));
  CHECK(!probe_wait(p, AIRS_MSG_FD_READY, QUIET_MS, NULL));
  CHECK_OK(airs_fd_unwatch(rt, rid));
  CHECK_OK(airs_fd_watch(rt, fds[0], AIRS_FD_READ, owner, &rid));
  close(fds[0]); /* ours: the watch keeps its duplicate */
  close(fds[1]); /* the writer hangs up */
  CHECK(probe_wait(p, AIRS_MSG_FD_READY, WAIT_MS, &m));
  CHECK_EQ(m.socket, rid);
  CHECK_EQ(ready_bits(&m), AIRS_FD_READ);
  /* A hang-up is not reported again until re-armed (level-triggered
   * epoll would report it at every wait). */
  CHECK(!probe_wait(p, AIRS_MSG_FD_READY, QUIET_MS, NULL));
  CHECK_OK(airs_fd_rearm(rt, rid, AIRS_FD_READ));
  CHECK(probe_wait(p, AIRS_MSG_FD_READY, WAIT_MS, &m));
  CHECK_OK(airs_fd_unwatch(rt, rid));
  airs_runtime_free(rt);
  probe_free(p);
}

/* The watch and its duplicate end with the owner, and with the runtime. */
static void test_owner_end_and_free(void) {
  int before = count_fds();
  airs_runtime* rt = make_runtime(2, 0);
  probe* p = probe_new();
  airs_pid owner = probe_spawn(rt, p);
  int fds[2];
  uint64_t id = 0, id2 = 0;
  int with_runtime;
  CHECK(pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
  CHECK_OK(airs_fd_watch(rt, fds[0], AIRS_FD_READ, owner, &id));
  with_runtime = count_fds(); /* the pipe, the epoll set, the duplicate */
  CHECK_OK(airs_kill(rt, owner));
  CHECK_OK(airs_wait(rt, owner, WAIT_MS));
  CHECK_EQ(airs_fd_rearm(rt, id, AIRS_FD_READ), AIRS_ENOTFOUND);
  CHECK_EQ(count_fds(), with_runtime - 1); /* the duplicate is closed */
  /* A watch for an owner that is gone is refused. */
  CHECK_EQ(airs_fd_watch(rt, fds[0], AIRS_FD_READ, owner, &id2), AIRS_ENOPROC);
  CHECK_EQ(id2, 0);
  CHECK_EQ(count_fds(), with_runtime - 1);
  /* Freed with watches open: nothing of the runtime's stays open. */
  owner = probe_spawn(rt, p);
  CHECK_OK(airs_fd_watch(rt, fds[0], AIRS_FD_READ, owner, &id));
  CHECK_OK(airs_fd_watch(rt, fds[1], AIRS_FD_WRITE, owner, &id2));
  airs_runtime_free(rt);
  close(fds[0]);
  close(fds[1]);
  CHECK_EQ(count_fds(), before);
  probe_free(p);
}

/* Every bad input, and out of fds. */
static void test_bad_input(void) {
  airs_runtime* rt = make_runtime(2, 0);
  probe* p = probe_new();
  airs_pid owner = probe_spawn(rt, p);
  int fds[2], file, spare[4096], n = 0;
  uint64_t id = 99;
  struct rlimit old, low;
  char path[] = "/tmp/airs-fd-watch-XXXXXX";
  CHECK(pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
  CHECK_EQ(airs_fd_watch(NULL, fds[0], AIRS_FD_READ, owner, &id), AIRS_EINVAL);
  CHECK_EQ(airs_fd_watch(rt, fds[0], AIRS_FD_READ, owner, NULL), AIRS_EINVAL);
  CHECK_EQ(airs_fd_watch(rt, -1, AIRS_FD_READ, owner, &id), AIRS_EINVAL);
  CHECK_EQ(id, 0); /* cleared on failure */
  CHECK_EQ(airs_fd_watch(rt, 100000, AIRS_FD_READ, owner, &id), AIRS_EINVAL);
  CHECK(strstr(airs_last_error_message(), "Bad file descriptor") != NULL);
  CHECK_EQ(airs_fd_watch(rt, fds[0], 0, owner, &id), AIRS_EINVAL);
  CHECK_EQ(airs_fd_watch(rt, fds[0], 0x4, owner, &id), AIRS_EINVAL);
  CHECK_EQ(airs_fd_watch(rt, fds[0], AIRS_FD_READ, AIRS_NO_PID, &id),
           AIRS_ENOPROC);
  /* epoll cannot watch a regular file. */
  file = mkstemp(path);
  CHECK(file >= 0);
  unlink(path);
  CHECK_EQ(airs_fd_watch(rt, file, AIRS_FD_READ, owner, &id), AIRS_EINVAL);
  CHECK(strstr(airs_last_error_message(), "epoll cannot watch") != NULL);
  close(file);
  CHECK_EQ(airs_fd_rearm(NULL, 1, AIRS_FD_READ), AIRS_EINVAL);
  CHECK_EQ(airs_fd_rearm(rt, 0, AIRS_FD_READ), AIRS_ENOTFOUND);
  CHECK_EQ(airs_fd_unwatch(NULL, 1), AIRS_EINVAL);
  CHECK_EQ(airs_fd_unwatch(rt, 0), AIRS_ENOTFOUND);
  CHECK_EQ(airs_fd_unwatch(rt, 12345), AIRS_ENOTFOUND);
  CHECK_OK(airs_fd_watch(rt, fds[0], AIRS_FD_READ, owner, &id));
  CHECK_EQ(airs_fd_rearm(rt, id, 0), AIRS_EINVAL);
  CHECK_EQ(airs_fd_rearm(rt, id, 0x8), AIRS_EINVAL);
  CHECK_OK(airs_fd_unwatch(rt, id));
  /* Out of fds: ELIMIT, nothing half made. */
  CHECK(getrlimit(RLIMIT_NOFILE, &old) == 0);
  low = old;
  low.rlim_cur = (rlim_t)count_fds() + 16;
  CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
  while (n < 4096 && (spare[n] = dup(fds[0])) >= 0) n++;
  CHECK_EQ(airs_fd_watch(rt, fds[0], AIRS_FD_READ, owner, &id), AIRS_ELIMIT);
  while (n > 0) close(spare[--n]);
  CHECK(setrlimit(RLIMIT_NOFILE, &old) == 0);
  CHECK_OK(airs_fd_watch(rt, fds[0], AIRS_FD_READ, owner, &id));
  airs_runtime_free(rt);
  /* A freed runtime. */
  CHECK_EQ(airs_fd_watch(rt, fds[0], AIRS_FD_READ, owner, &id), AIRS_ESTATE);
  CHECK_EQ(airs_fd_rearm(rt, id, AIRS_FD_READ), AIRS_ESTATE);
  CHECK_EQ(airs_fd_unwatch(rt, id), AIRS_ESTATE);
  close(fds[0]);
  close(fds[1]);
  probe_free(p);
}

/* Host-driven: a watched fd that becomes ready makes the host's wake-up
 * fd readable, and the next poll delivers the message. */
static void test_host_driven(void) {
  airs_runtime* rt = make_host_runtime(1000);
  probe* p = probe_new();
  airs_pid owner = probe_spawn(rt, p);
  int fds[2], wake = -1;
  uint64_t id = 0;
  struct pollfd pfd;
  probe_msg m;
  CHECK(pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
  CHECK_OK(airs_runtime_fd(rt, &wake));
  CHECK_OK(airs_fd_watch(rt, fds[0], AIRS_FD_READ, owner, &id));
  poll_all(rt);
  pfd.fd = wake;
  pfd.events = POLLIN;
  pfd.revents = 0;
  CHECK_EQ(poll(&pfd, 1, 0), 0); /* nothing due */
  CHECK(write(fds[1], "z", 1) == 1);
  CHECK_EQ(poll(&pfd, 1, WAIT_MS), 1);
  poll_all(rt);
  CHECK_EQ(probe_count(p, AIRS_MSG_FD_READY), 1);
  p->host = rt;
  CHECK(probe_wait(p, AIRS_MSG_FD_READY, WAIT_MS, &m));
  CHECK_EQ(m.socket, id);
  airs_runtime_free(rt);
  close(fds[0]);
  close(fds[1]);
  probe_free(p);
}

int main(void) {
  test_one_shot();
  test_write_hangup_and_dup();
  test_owner_end_and_free();
  test_bad_input();
  test_host_driven();
  return CHECK_DONE();
}
