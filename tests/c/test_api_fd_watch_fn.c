/*
 * test_api_fd_watch_fn.c - fds watched with a function (<airs/io.h>:
 * airs_fd_watch_fn; airs_fd_rearm and airs_fd_unwatch on such a watch),
 * and airs_runtime_workers, through the public API only. What the header
 * promises is checked one by one: one call per arming, calls of one
 * watch never overlap, airs_fd_unwatch waits for a call under way (but
 * not from inside it), nothing is called after the runtime is freed, and
 * in host-driven mode fn runs inside airs_runtime_poll on the host's
 * thread. Every bad input has its status.
 */
#define _GNU_SOURCE /* pipe2, pthread, clock_gettime, nanosleep */
#include <airs/airs.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "helpers.h"

#define WAIT_MS 5000
#define QUIET_MS 50 /* long enough to see a call that should not come */
#define CHECK_OK(call) CHECK_EQ((call), AIRS_OK)

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* What a watch's function saw, and what it is to do. */
typedef struct watcher {
  airs_runtime* rt;
  atomic_int calls;
  atomic_int inside;   /* calls running now */
  atomic_int overlaps; /* a call that found another running */
  atomic_uint last_ready;
  atomic_ullong last_id;
  pthread_t thread; /* of the last call */
  int rearm_left;   /* rearm from inside this many times more */
  int unwatch_self; /* unwatch from inside, and record its status */
  atomic_int unwatch_status;
  long sleep_ms;       /* sleep inside each call */
  atomic_int finished; /* calls that returned */
} watcher;

static void watcher_init(watcher* w, airs_runtime* rt) {
  memset(w, 0, sizeof *w);
  w->rt = rt;
  atomic_store(&w->unwatch_status, -100);
}

static void on_ready(void* arg, uint64_t id, uint32_t ready) {
  watcher* w = arg;
  if (atomic_fetch_add(&w->inside, 1) != 0) atomic_fetch_add(&w->overlaps, 1);
  w->thread = pthread_self();
  atomic_store(&w->last_ready, ready);
  atomic_store(&w->last_id, id);
  atomic_fetch_add(&w->calls, 1);
  if (w->sleep_ms) sleep_ms(w->sleep_ms);
  if (w->unwatch_self)
    atomic_store(&w->unwatch_status, airs_fd_unwatch(w->rt, id));
  else if (w->rearm_left > 0) {
    w->rearm_left--;
    airs_fd_rearm(w->rt, id, AIRS_FD_READ);
  }
  atomic_fetch_sub(&w->inside, 1);
  atomic_fetch_add(&w->finished, 1);
}

/* Waits until w has had `n` calls; false after WAIT_MS. */
static int wait_calls(watcher* w, int n) {
  double end = now_ms() + WAIT_MS;
  while (atomic_load(&w->calls) < n)
    if (now_ms() > end)
      return 0;
    else
      sleep_ms(1);
  return 1;
}

/* One call per arming, even with data left unread; a rearm with data
 * there calls again at once; WRITE readiness; ids apart from sockets'. */
static void test_one_shot(void) {
  airs_runtime* rt = make_runtime(2, 0);
  watcher w, ww;
  int fds[2];
  uint64_t id = 0, wid = 0;
  watcher_init(&w, rt);
  watcher_init(&ww, rt);
  CHECK(pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
  CHECK_OK(airs_fd_watch_fn(rt, fds[0], AIRS_FD_READ, on_ready, &w, &id));
  CHECK(id != 0);
  sleep_ms(QUIET_MS);
  CHECK_EQ(atomic_load(&w.calls), 0); /* an empty pipe */
  CHECK(write(fds[1], "x", 1) == 1);
  CHECK(wait_calls(&w, 1));
  CHECK_EQ(atomic_load(&w.last_id), id);
  CHECK_EQ(atomic_load(&w.last_ready), AIRS_FD_READ);
  CHECK(write(fds[1], "y", 1) == 1); /* more data, not armed: no call */
  sleep_ms(QUIET_MS);
  CHECK_EQ(atomic_load(&w.calls), 1);
  CHECK_OK(airs_fd_rearm(rt, id, AIRS_FD_READ));
  CHECK(wait_calls(&w, 2));
  /* The write end is writable at once. */
  CHECK_OK(airs_fd_watch_fn(rt, fds[1], AIRS_FD_WRITE, on_ready, &ww, &wid));
  CHECK(wait_calls(&ww, 1));
  CHECK_EQ(atomic_load(&ww.last_ready), AIRS_FD_WRITE);
  CHECK(wid != id);
  /* Watches are not sockets, and are not counted as sockets. */
  CHECK_EQ(airs_socket_close(rt, id), AIRS_ENOTFOUND);
  CHECK_EQ(airs_socket_count(rt), 0);
  CHECK_OK(airs_fd_unwatch(rt, id));
  CHECK_OK(airs_fd_unwatch(rt, wid));
  CHECK_EQ(airs_fd_rearm(rt, id, AIRS_FD_READ), AIRS_ENOTFOUND);
  CHECK_EQ(airs_fd_unwatch(rt, id), AIRS_ENOTFOUND);
  CHECK_EQ(atomic_load(&w.overlaps), 0);
  airs_runtime_free(rt);
  close(fds[0]);
  close(fds[1]);
}

/* fn rearms itself from inside 2,000 times while data stays in the pipe:
 * each rearm is ready at once, often seen by another thread (the
 * reactor's, or a worker's poll) while fn still runs; calls never
 * overlap, and none is lost. */
static void test_no_overlap(void) {
  airs_runtime* rt = make_runtime(2, 0);
  watcher w;
  int fds[2];
  uint64_t id = 0;
  watcher_init(&w, rt);
  w.rearm_left = 2000;
  CHECK(pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
  CHECK(write(fds[1], "x", 1) == 1);
  CHECK_OK(airs_fd_watch_fn(rt, fds[0], AIRS_FD_READ, on_ready, &w, &id));
  CHECK(wait_calls(&w, 2001));
  sleep_ms(QUIET_MS);
  CHECK_EQ(atomic_load(&w.calls), 2001);
  CHECK_EQ(atomic_load(&w.overlaps), 0);
  CHECK_OK(airs_fd_unwatch(rt, id));
  airs_runtime_free(rt);
  close(fds[0]);
  close(fds[1]);
}

/* airs_fd_unwatch on another thread waits for a call under way: when it
 * returns, fn has returned, and it is not called again (rearmed or not). */
static void test_unwatch_waits(void) {
  airs_runtime* rt = make_runtime(2, 0);
  watcher w;
  int fds[2];
  uint64_t id = 0;
  watcher_init(&w, rt);
  w.sleep_ms = 100;
  w.rearm_left = 1000;
  CHECK(pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
  CHECK_OK(airs_fd_watch_fn(rt, fds[0], AIRS_FD_READ, on_ready, &w, &id));
  CHECK(write(fds[1], "x", 1) == 1);
  CHECK(wait_calls(&w, 1)); /* inside its 100 ms sleep now */
  CHECK_OK(airs_fd_unwatch(rt, id));
  /* It waited: the call has returned (without the wait it would still be
   * asleep, unless this thread was held up for as long). */
  CHECK_EQ(atomic_load(&w.inside), 0);
  CHECK_EQ(atomic_load(&w.finished), atomic_load(&w.calls));
  {
    int calls = atomic_load(&w.calls);
    sleep_ms(2 * w.sleep_ms);
    CHECK_EQ(atomic_load(&w.calls), calls); /* its own rearm called nothing */
  }
  airs_runtime_free(rt);
  close(fds[0]);
  close(fds[1]);
}

/* airs_fd_unwatch from inside fn does not wait for itself; fn is not
 * called again; the runtime's duplicate of the fd is closed. */
static void test_unwatch_inside(void) {
  int before;
  airs_runtime* rt = make_runtime(2, 0);
  watcher w;
  int fds[2];
  uint64_t id = 0;
  double end;
  watcher_init(&w, rt);
  w.unwatch_self = 1;
  CHECK(pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
  CHECK_OK(airs_fd_watch_fn(rt, fds[0], AIRS_FD_READ, on_ready, &w, &id));
  before = count_fds();
  CHECK(write(fds[1], "x", 1) == 1);
  CHECK(wait_calls(&w, 1));
  end = now_ms() + WAIT_MS;
  while (atomic_load(&w.finished) < 1 && now_ms() < end) sleep_ms(1);
  CHECK_EQ(atomic_load(&w.unwatch_status), AIRS_OK);
  CHECK_EQ(count_fds(), before - 1);
  CHECK_EQ(airs_fd_rearm(rt, id, AIRS_FD_READ), AIRS_ENOTFOUND);
  sleep_ms(QUIET_MS);
  CHECK_EQ(atomic_load(&w.calls), 1);
  airs_runtime_free(rt);
  close(fds[0]);
  close(fds[1]);
}

/* Freed with function watches open, one of them in a call: the free
 * waits for it, closes every duplicate, and nothing is called after. */
static void test_free_with_watches(void) {
  int before = count_fds();
  airs_runtime* rt = make_runtime(2, 0);
  watcher a, b;
  int fds[2];
  uint64_t ia = 0, ib = 0;
  watcher_init(&a, rt);
  watcher_init(&b, rt);
  a.sleep_ms = 50;
  CHECK(pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
  CHECK_OK(airs_fd_watch_fn(rt, fds[0], AIRS_FD_READ, on_ready, &a, &ia));
  CHECK_OK(airs_fd_watch_fn(rt, fds[1], AIRS_FD_WRITE, on_ready, &b, &ib));
  CHECK(wait_calls(&b, 1));
  CHECK(write(fds[1], "x", 1) == 1);
  CHECK(wait_calls(&a, 1)); /* a is in its 50 ms sleep */
  airs_runtime_free(rt);
  CHECK_EQ(atomic_load(&a.inside), 0);
  CHECK_EQ(atomic_load(&a.finished), 1);
  close(fds[0]);
  close(fds[1]);
  CHECK_EQ(count_fds(), before);
}

/* Host-driven: fn runs inside airs_runtime_poll, on the host's thread,
 * and the wake-up fd says when. */
static void test_host_driven(void) {
  airs_runtime* rt = make_host_runtime(1000);
  watcher w;
  int fds[2], wake = -1;
  uint64_t id = 0;
  uint32_t workers = 99;
  struct pollfd pfd;
  watcher_init(&w, rt);
  CHECK_OK(airs_runtime_workers(rt, &workers));
  CHECK_EQ(workers, 0);
  CHECK(pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
  CHECK_OK(airs_runtime_fd(rt, &wake));
  CHECK_OK(airs_fd_watch_fn(rt, fds[0], AIRS_FD_READ, on_ready, &w, &id));
  poll_all(rt);
  CHECK(write(fds[1], "z", 1) == 1);
  pfd.fd = wake;
  pfd.events = POLLIN;
  pfd.revents = 0;
  CHECK_EQ(poll(&pfd, 1, WAIT_MS), 1);
  sleep_ms(QUIET_MS);
  CHECK_EQ(atomic_load(&w.calls), 0); /* nothing runs between polls */
  poll_all(rt);
  CHECK_EQ(atomic_load(&w.calls), 1);
  CHECK(pthread_equal(w.thread, pthread_self()));
  airs_runtime_free(rt);
  close(fds[0]);
  close(fds[1]);
}

static void never_called(void* arg, uint64_t id, uint32_t ready) {
  (void)arg;
  (void)id;
  (void)ready;
  abort();
}

/* Every bad input; airs_runtime_workers. */
static void test_bad_input(void) {
  airs_runtime* rt = make_runtime(2, 0);
  int fds[2], file;
  uint64_t id = 99;
  uint32_t workers = 0;
  char path[] = "/tmp/airs-fd-watch-fn-XXXXXX";
  CHECK(pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
  CHECK_OK(airs_runtime_workers(rt, &workers));
  CHECK_EQ(workers, 2);
  CHECK_ST(airs_runtime_workers(rt, NULL), AIRS_EINVAL);
  CHECK_ST(airs_runtime_workers(NULL, &workers), AIRS_EINVAL);
  CHECK_ST(
      airs_fd_watch_fn(NULL, fds[0], AIRS_FD_READ, never_called, NULL, &id),
      AIRS_EINVAL);
  CHECK_ST(airs_fd_watch_fn(rt, fds[0], AIRS_FD_READ, never_called, NULL, NULL),
           AIRS_EINVAL);
  CHECK_ST(airs_fd_watch_fn(rt, fds[0], AIRS_FD_READ, NULL, NULL, &id),
           AIRS_EINVAL);
  CHECK(strstr(airs_last_error_message(), "fn is NULL") != NULL);
  CHECK_EQ(id, 0); /* cleared on failure */
  CHECK_ST(airs_fd_watch_fn(rt, -1, AIRS_FD_READ, never_called, NULL, &id),
           AIRS_EINVAL);
  CHECK_ST(airs_fd_watch_fn(rt, 100000, AIRS_FD_READ, never_called, NULL, &id),
           AIRS_EINVAL);
  CHECK_ST(airs_fd_watch_fn(rt, fds[0], 0, never_called, NULL, &id),
           AIRS_EINVAL);
  CHECK_ST(airs_fd_watch_fn(rt, fds[0], 0x4, never_called, NULL, &id),
           AIRS_EINVAL);
  file = mkstemp(path);
  CHECK(file >= 0);
  unlink(path);
  CHECK_ST(airs_fd_watch_fn(rt, file, AIRS_FD_READ, never_called, NULL, &id),
           AIRS_EINVAL);
  CHECK(strstr(airs_last_error_message(), "epoll cannot watch") != NULL);
  close(file);
  CHECK_OK(airs_fd_watch_fn(rt, fds[0], AIRS_FD_READ, never_called, NULL, &id));
  CHECK_ST(airs_fd_rearm(rt, id, 0), AIRS_EINVAL);
  CHECK_OK(airs_fd_unwatch(rt, id));
  airs_runtime_free(rt);
  /* A freed runtime. */
  CHECK_ST(airs_fd_watch_fn(rt, fds[0], AIRS_FD_READ, never_called, NULL, &id),
           AIRS_ESTATE);
  CHECK_ST(airs_runtime_workers(rt, &workers), AIRS_ESTATE);
  close(fds[0]);
  close(fds[1]);
}

int main(void) {
  test_one_shot();
  test_no_overlap();
  test_unwatch_waits();
  test_unwatch_inside();
  test_free_with_watches();
  test_host_driven();
  test_bad_input();
  return CHECK_DONE();
}
