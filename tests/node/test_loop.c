/*
 * test_loop.c - the NATS connection driven by the runtime's reactor
 * (node.h, "Threads"), over a real nats-server. Node "a" has one worker;
 * node "h" is host-driven; both are in this process. It checks:
 *   - a's connection is an fd watch of its runtime (its socket has the
 *     runtime's duplicate); h's is not (cnats reads it on its own thread,
 *     since nothing of h runs while its host waits);
 *   - with a's only worker stuck in a callback for three times
 *     down_after_ms, a still reads: the host's whereis is answered at once
 *     and a declares nobody down (its heartbeats in are read, its own go
 *     out);
 *   - messages both ways between a and h (h's host polls);
 *   - nats-server killed and restarted: a reconnects, and the watch of the
 *     lost socket is ended (no fd left open for it);
 *   - after detach, every fd the node had is closed.
 */
#define _GNU_SOURCE
#include <airs/airs.h>
#include <airs/node.h>
#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>

#include "harness.h"

enum { MSG_STALL = 1, MSG_PING = 2, MSG_PONG = 3 };
enum { kHeartbeatMs = 50, kDownAfterMs = 300 };

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int stalls, pongs, pings, downs;

/* On a: MSG_STALL blocks its worker; MSG_PING (from h) is answered with
 * MSG_PONG; a NODE_DOWN is counted. On h: MSG_PONG is counted. */
static airs_status receive(void* state, airs_ctx* ctx, const airs_msg* msg) {
  (void)state;
  switch (airs_msg_type(msg)) {
    case MSG_STALL:
      sleep_ms(3 * kDownAfterMs);
      pthread_mutex_lock(&mu);
      stalls++;
      pthread_mutex_unlock(&mu);
      break;
    case MSG_PING:
      pthread_mutex_lock(&mu);
      pings++;
      pthread_mutex_unlock(&mu);
      if (airs_msg_size(msg) == sizeof(airs_pid)) {
        airs_pid to;
        memcpy(&to, airs_msg_data(msg), sizeof to);
        airs_ctx_send(ctx, to, MSG_PONG, NULL, 0);
      }
      break;
    case MSG_PONG:
      pthread_mutex_lock(&mu);
      pongs++;
      pthread_mutex_unlock(&mu);
      break;
    case AIRS_MSG_NODE_DOWN:
      pthread_mutex_lock(&mu);
      downs++;
      pthread_mutex_unlock(&mu);
      break;
    default: break;
  }
  return AIRS_OK;
}

/* The socket inodes of this process that two or more fds refer to (a
 * socket and the runtime's duplicate of it), and the number of fds. */
static int shared_sockets(int* fds) {
  unsigned long inodes[1024];
  int counts[1024], n = 0, shared = 0, i;
  struct dirent* e;
  DIR* d = opendir("/proc/self/fd");
  *fds = 0;
  if (d == NULL) return -1;
  while ((e = readdir(d)) != NULL) {
    char path[300], link[64];
    unsigned long inode;
    ssize_t len;
    if (e->d_name[0] == '.') continue;
    (*fds)++;
    snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
    len = readlink(path, link, sizeof link - 1);
    if (len <= 0) continue;
    link[len] = '\0';
    if (sscanf(link, "socket:[%lu]", &inode) != 1) continue;
    for (i = 0; i < n && inodes[i] != inode; i++) {
    }
    if (i == n && n < 1024) {
      inodes[n] = inode;
      counts[n++] = 0;
    }
    if (i < n) counts[i]++;
  }
  closedir(d);
  (*fds)--; /* the directory's own fd */
  for (i = 0; i < n; i++)
    if (counts[i] >= 2) shared++;
  return shared;
}

/* Polls h until `cond` holds (at most timeout_ms), then checks it. */
#define POLL_UNTIL(h, cond, timeout_ms)                 \
  do {                                                  \
    double end_ = now_ms() + (timeout_ms);              \
    for (;;) {                                          \
      airs_runtime_poll((h), 64, NULL);                 \
      pthread_mutex_lock(&mu);                          \
      int ok_ = !!(cond);                               \
      pthread_mutex_unlock(&mu);                        \
      if (ok_ || now_ms() > end_) break;                \
      sleep_ms(1);                                      \
    }                                                   \
    pthread_mutex_lock(&mu);                            \
    check_report_(!!(cond), __FILE__, __LINE__, #cond); \
    pthread_mutex_unlock(&mu);                          \
  } while (0)

int main(void) {
  airs_runtime *rt_a, *rt_h;
  airs_node *a, *h;
  airs_pid pa, ph, found = 0;
  char url[64];
  pid_t server;
  int port, fds_before, fds_attached, fds, i;
  double t0;

  signal(SIGPIPE, SIG_IGN);
  port = free_port();
  snprintf(url, sizeof url, "nats://127.0.0.1:%d", port);
  server = server_start(port);
  rt_a = runtime_new(1);
  rt_h = runtime_new(0);
  pa = spawn_with(rt_a, NULL, receive, NULL);
  ph = spawn_with(rt_h, NULL, receive, NULL);
  CHECK(pa != 0 && ph != 0);
  CHECK_EQ(shared_sockets(&fds_before), 0);

  /* a's socket is watched by its runtime; h's is not. */
  a = attach_timed(rt_a, url, "a", kHeartbeatMs, kDownAfterMs, 5000);
  if (a == NULL) return CHECK_DONE();
  CHECK_EQ(shared_sockets(&fds), 1);
  h = attach_timed(rt_h, url, "h", kHeartbeatMs, kDownAfterMs, 5000);
  if (h == NULL) return CHECK_DONE();
  CHECK_EQ(shared_sockets(&fds_attached), 1);
  NODE_ST(airs_node_monitor(a, pa, 1), AIRS_OK);
  NODE_ST(airs_node_register(a, "pa", pa), AIRS_OK);

  /* Messages both ways (each ping names h's process, which a answers);
   * h runs only when its host polls. */
  for (i = 0; i < 100; i++)
    CHECK_ST(airs_send(rt_h, pa, MSG_PING, &ph, sizeof ph), AIRS_OK);
  POLL_UNTIL(rt_h, pongs == 100 && pings == 100, 5000);

  /* a's only worker stuck for three times down_after_ms: the host's
   * whereis is still answered at once, and nobody is declared down. */
  sleep_ms(3 * kHeartbeatMs); /* both hear each other */
  CHECK_ST(airs_send(rt_a, pa, MSG_STALL, NULL, 0), AIRS_OK);
  sleep_ms(kHeartbeatMs);
  t0 = now_ms();
  NODE_ST(airs_node_whereis(h, "pa", 2000, &found), AIRS_OK);
  NODE_ST(airs_node_whereis(a, "pa", 2000, &found), AIRS_OK);
  CHECK_EQ(found, pa);
  CHECK(now_ms() - t0 < 1000); /* answered, not timed out at 2000 ms */
  for (i = 0; i < 2 * kDownAfterMs / 10; i++) {
    /* h keeps polling meanwhile: its heartbeats go out and come in. */
    airs_runtime_poll(rt_h, 64, NULL);
    sleep_ms(10);
  }
  WAIT_FOR(stalls == 1, 5000);
  sleep_ms(2 * kHeartbeatMs);
  pthread_mutex_lock(&mu);
  CHECK_EQ(downs, 0);
  pthread_mutex_unlock(&mu);
  {
    airs_node_peer peers[4];
    size_t n = 0;
    NODE_ST(airs_node_peers(a, peers, 4, &n), AIRS_OK);
    CHECK_EQ(n, 1);
  }

  /* nats-server killed and started again: a reconnects, the lost
   * socket's watch is ended, and no fd is left open for it. */
  reap(server, SIGKILL);
  server = server_start(port);
  t0 = now_ms();
  do {
    found = 0;
    airs_runtime_poll(rt_h, 64, NULL);
    if (airs_node_whereis(a, "pa", 200, &found) == AIRS_OK &&
        shared_sockets(&fds) == 1 && fds == fds_attached)
      break;
    sleep_ms(20);
  } while (now_ms() - t0 < 10000);
  CHECK_EQ(found, pa);
  CHECK_EQ(shared_sockets(&fds), 1);
  CHECK_EQ(fds, fds_attached);
  printf("reconnected in %.0f ms\n", now_ms() - t0);

  /* After detach every socket of the nodes is closed (the duplicate
   * too); once the runtimes are freed (a's reactor), every fd. */
  airs_node_detach(a);
  airs_node_detach(h);
  CHECK_EQ(shared_sockets(&fds), 0);
  CHECK_EQ(fds, fds_attached - 3); /* a's two sockets and h's one */
  airs_runtime_free(rt_a);
  airs_runtime_free(rt_h);
  shared_sockets(&fds);
  CHECK_EQ(fds, fds_before);
  reap(server, SIGTERM);
  return CHECK_DONE();
}
