/*
 * test_loop_lost.c - a node on the reactor (node.h, "Threads") detached
 * right after a publisher, not the reactor, found its socket lost.
 *
 * The reactor is kept busy in a watch of the test's own (a pipe whose
 * call sleeps) while nats-server is killed and this thread sends to a
 * peer: cnats finds the socket lost in this thread's write and lets it
 * go. The reactor's next call of the lost socket's watch is then that of
 * a retired watch, and it ends its own watch; the detach right after must
 * not free the node's loop under that call (ThreadSanitizer saw it read
 * the loop after its last lock, with nothing ordering the free after
 * it). Several rounds, each with its own nats-server.
 */
#define _GNU_SOURCE
#include <airs/airs.h>
#include <airs/node.h>
#include <pthread.h>
#include <stdint.h>

#include "harness.h"

enum { MSG_BLAST = 1, kRounds = 4, kStallMs = 300 };

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int stalling, stalled;

/* The test's own watch: holds up the reactor's thread for kStallMs. */
static void stall(void* arg, uint64_t id, uint32_t ready) {
  (void)arg, (void)id, (void)ready;
  pthread_mutex_lock(&mu);
  stalling = 1;
  pthread_mutex_unlock(&mu);
  sleep_ms(kStallMs);
  pthread_mutex_lock(&mu);
  stalled = 1;
  pthread_mutex_unlock(&mu);
}

static airs_status sink(void* state, airs_ctx* ctx, const airs_msg* msg) {
  (void)state, (void)ctx, (void)msg;
  return AIRS_OK;
}

static void round_of(int round) {
  static unsigned char big[60 * 1024];
  char url[64];
  int port = free_port(), pipefd[2], sends = 0;
  pid_t server;
  airs_runtime *rt_a, *rt_b;
  airs_node *a, *b;
  airs_pid b_sink;
  uint64_t watch = 0;
  double end;

  snprintf(url, sizeof url, "nats://127.0.0.1:%d", port);
  server = server_start(port);
  rt_a = runtime_new(1);
  rt_b = runtime_new(1);
  b_sink = spawn_with(rt_b, NULL, sink, NULL);
  a = attach_timed(rt_a, url, "a", 50, 2000, 5000);
  b = attach_timed(rt_b, url, "b", 50, 2000, 5000);
  if (a == NULL || b == NULL || b_sink == 0) exit(CHECK_DONE());
  CHECK_ST(airs_send(rt_a, b_sink, MSG_BLAST, "x", 1), AIRS_OK);

  /* The reactor held up, nats-server gone, this thread writing. */
  if (pipe(pipefd) != 0) exit(1);
  pthread_mutex_lock(&mu);
  stalling = stalled = 0;
  pthread_mutex_unlock(&mu);
  CHECK_ST(airs_fd_watch_fn(rt_a, pipefd[0], AIRS_FD_READ, stall, NULL, &watch),
           AIRS_OK);
  CHECK(write(pipefd[1], "s", 1) == 1);
  WAIT_FOR(stalling, 2000);
  reap(server, SIGKILL);
  end = now_ms() + kStallMs / 2;
  while (now_ms() < end) {
    CHECK_ST(airs_send(rt_a, b_sink, MSG_BLAST, big, sizeof big), AIRS_OK);
    sends++;
  }
  WAIT_FOR(stalled, 2000);
  sleep_ms(20); /* the reactor's call of the lost socket's watch */
  printf("round %d: %d sends of 60 KiB while the reactor was held up\n",
         round, sends);

  /* Detached at once: nothing of the loop is freed under that call. */
  airs_node_detach(a);
  airs_node_detach(b);
  CHECK_ST(airs_fd_unwatch(rt_a, watch), AIRS_OK);
  close(pipefd[0]);
  close(pipefd[1]);
  airs_runtime_free(rt_a);
  airs_runtime_free(rt_b);
}

int main(void) {
  int round;
  signal(SIGPIPE, SIG_IGN);
  for (round = 0; round < kRounds; round++) round_of(round);
  return CHECK_DONE();
}
