/*
 * test_node.c - node.h against a real nats-server: membership and failure
 * detection between OS processes.
 *
 * The test starts its own nats-server on a free loopback port, attaches
 * a runtime of its own as node "a" with a process that monitors the
 * nodes, and runs the other nodes as copies of this program
 * (`test_node child URL NAME`: attach, say "ready", then wait; detach and
 * exit when stdin closes). It checks:
 *   - every bad argument of the API, and an unreachable server;
 *   - UP for a peer that attaches, with its incarnation;
 *   - a name taken by a live node (EEXIST), a second node on a runtime;
 *   - DOWN (noconnection) within 1.5 s of a peer's kill -9, and the time;
 *   - a restarted peer: UP with a new incarnation;
 *   - a peer that detaches: DOWN (left) at once;
 *   - SIGSTOP: DOWN, and its name "taken but silent"; SIGCONT: UP again,
 *     same incarnation;
 *   - nats-server killed: DOWN (disconnected) after the grace; restarted
 *     on the same port: both nodes reconnect, UP again;
 *   - monitor on and off, of a dead pid, of pid 0.
 */
#define _GNU_SOURCE
#include <airs/airs.h>
#include <airs/node.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* ---- child nodes ------------------------------------------------------- */

typedef struct child {
  node_child n; /* prints "ready <incarnation>" */
  uint64_t incarnation;
} child;

static int child_main(const char* url, const char* name) {
  airs_config* cfg = NULL;
  airs_runtime* rt = NULL;
  airs_node* node = NULL;
  airs_node_opts o;
  airs_node_peer self;
  char c;
  airs_config_new(&cfg);
  airs_config_set(cfg, AIRS_CFG_WORKERS, 1);
  if (airs_runtime_new(cfg, &rt) != AIRS_OK) return 2;
  airs_config_free(cfg);
  airs_node_opts_init(&o);
  o.url = url;
  o.name = name;
  if (airs_node_attach(rt, &o, &node) != AIRS_OK) {
    fprintf(stderr, "child %s: %s\n", name, airs_node_last_error_message());
    return 3;
  }
  airs_node_self(node, &self);
  printf("ready %llu\n", (unsigned long long)self.incarnation);
  fflush(stdout);
  while (read(0, &c, 1) > 0) {
  }
  airs_node_detach(node);
  airs_runtime_free(rt);
  return 0;
}

static child child_start(const char* self_path, const char* url,
                         const char* name) {
  char* argv[] = {(char*)self_path, "child", (char*)url, (char*)name, NULL};
  child ch;
  ch.n = node_child_start(argv);
  CHECK(strncmp(ch.n.line, "ready ", 6) == 0);
  ch.incarnation = strtoull(ch.n.line + 6, NULL, 10);
  return ch;
}

/* ---- what the monitor process heard ----------------------------------- */

#define EVENTS_MAX 256
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct {
  uint64_t type;
  airs_node_event ev;
  double at;
} events[EVENTS_MAX];
static int n_events, cursor;

static airs_status on_event(void* state, airs_ctx* ctx, const airs_msg* m) {
  (void)state;
  (void)ctx;
  uint64_t type = airs_msg_type(m);
  if (type != AIRS_MSG_NODE_UP && type != AIRS_MSG_NODE_DOWN) return AIRS_OK;
  pthread_mutex_lock(&mu);
  if (n_events < EVENTS_MAX && airs_msg_size(m) == sizeof(airs_node_event)) {
    events[n_events].type = type;
    memcpy(&events[n_events].ev, airs_msg_data(m), sizeof(airs_node_event));
    events[n_events].at = now_ms();
    n_events++;
  }
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
  return AIRS_OK;
}

/* The next event after the cursor; it must be `type` for `name` (with
 * `reason` for a DOWN). Returns its index, or -1 after timeout_ms. */
static int expect(uint64_t type, const char* name, int reason, int timeout_ms) {
  struct timespec end;
  int i = -1;
  clock_gettime(CLOCK_REALTIME, &end);
  end.tv_sec += timeout_ms / 1000;
  end.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (end.tv_nsec >= 1000000000L) {
    end.tv_sec++;
    end.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&mu);
  while (cursor >= n_events)
    if (pthread_cond_timedwait(&cv, &mu, &end) != 0) break;
  if (cursor < n_events) i = cursor++;
  pthread_mutex_unlock(&mu);
  if (i < 0) {
    fprintf(stderr, "  no %s of %s within %d ms\n",
            type == AIRS_MSG_NODE_UP ? "UP" : "DOWN", name, timeout_ms);
    CHECK(0);
    return -1;
  }
  CHECK_EQ(events[i].type, type);
  CHECK(strcmp(events[i].ev.peer.name, name) == 0);
  if (type == AIRS_MSG_NODE_DOWN) CHECK_EQ(events[i].ev.reason, reason);
  return i;
}

static void expect_nothing(int wait_ms) {
  sleep_ms(wait_ms);
  pthread_mutex_lock(&mu);
  CHECK_EQ(n_events, cursor);
  pthread_mutex_unlock(&mu);
}

/* ---- the checks ------------------------------------------------------- */

static void bad_input(airs_runtime* rt, const char* url, int dead_port) {
  airs_node_opts o;
  airs_node* node = NULL;
  char dead_url[64], long_name[AIRS_NODE_NAME_MAX + 2];
  const char* bad_names[] = {"",    "a.b",      "a*",     "a>",
                             "a b", "\xc3\xa9", long_name};
  size_t i, count;
  memset(long_name, 'x', sizeof long_name - 1);
  long_name[sizeof long_name - 1] = '\0';

  NODE_ST(airs_node_opts_init(NULL), AIRS_EINVAL);
  NODE_ST(airs_node_opts_init(&o), AIRS_OK);
  NODE_ST(airs_node_attach(NULL, &o, &node), AIRS_EINVAL);
  CHECK(strstr(airs_node_last_error_message(), "NULL rt") != NULL);
  NODE_ST(airs_node_attach(rt, NULL, &node), AIRS_EINVAL);
  NODE_ST(airs_node_attach(rt, &o, NULL), AIRS_EINVAL);
  o.name = "x";
  NODE_ST(airs_node_attach(rt, &o, &node), AIRS_EINVAL); /* no url */
  CHECK(strstr(airs_node_last_error_message(), "no url") != NULL);
  o.url = url;
  for (i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
    o.name = bad_names[i];
    NODE_ST(airs_node_attach(rt, &o, &node), AIRS_EINVAL);
    CHECK(strstr(airs_node_last_error_message(), "name") != NULL);
  }
  o.name = "x";
  o.cluster = "a.b";
  NODE_ST(airs_node_attach(rt, &o, &node), AIRS_EINVAL);
  o.cluster = "airs";
  o.heartbeat_ms = 5;
  NODE_ST(airs_node_attach(rt, &o, &node), AIRS_EINVAL);
  o.heartbeat_ms = 100;
  o.down_after_ms = 150;
  NODE_ST(airs_node_attach(rt, &o, &node), AIRS_EINVAL);
  o.down_after_ms = 1000;
  o.connect_timeout_ms = 0;
  NODE_ST(airs_node_attach(rt, &o, &node), AIRS_EINVAL);
  o.connect_timeout_ms = 500;
  o.version = 99;
  NODE_ST(airs_node_attach(rt, &o, &node), AIRS_EINVAL);
  CHECK(strstr(airs_node_last_error_message(), "version") != NULL);
  o.version = AIRS_NODE_OPTS_VERSION;
  snprintf(dead_url, sizeof dead_url, "nats://127.0.0.1:%d", dead_port);
  o.url = dead_url;
  NODE_ST(airs_node_attach(rt, &o, &node), AIRS_EOS);
  CHECK(strstr(airs_node_last_error_message(), dead_url) != NULL);
  CHECK(node == NULL);

  NODE_ST(airs_node_self(NULL, NULL), AIRS_EINVAL);
  NODE_ST(airs_node_monitor(NULL, 1, 1), AIRS_EINVAL);
  NODE_ST(airs_node_peers(NULL, NULL, 0, &count), AIRS_EINVAL);
  airs_node_detach(NULL);
}

int main(int argc, char** argv) {
  airs_runtime *rt, *rt2;
  airs_node *a = NULL, *dup = NULL;
  airs_node_opts o;
  airs_node_peer peers[4], self;
  airs_behaviour b = {
      AIRS_BEHAVIOUR_VERSION, sizeof b, NULL, on_event, NULL, NULL, NULL};
  airs_pid mon, dead;
  child b1, b2, c1;
  char url[64];
  size_t count;
  int port, i;
  pid_t server;
  double t0;

  if (argc == 4 && strcmp(argv[1], "child") == 0)
    return child_main(argv[2], argv[3]);
  signal(SIGPIPE, SIG_IGN); /* a child gone while we close its stdin */

  port = free_port();
  snprintf(url, sizeof url, "nats://127.0.0.1:%d", port);
  rt = runtime_new(2);
  bad_input(rt, url, free_port());
  server = server_start(port);

  /* Node "a", in this process, with a monitor. */
  NODE_ST(airs_node_opts_init(&o), AIRS_OK);
  o.url = url;
  o.name = "a";
  o.reconnect_grace_ms = 500;
  NODE_ST(airs_node_attach(rt, &o, &a), AIRS_OK);
  if (a == NULL) return CHECK_DONE();
  NODE_ST(airs_node_self(a, &self), AIRS_OK);
  CHECK(strcmp(self.name, "a") == 0 && self.incarnation != 0);
  CHECK_ST(airs_spawn(rt, &b, NULL, NULL, NULL, &mon), AIRS_OK);
  NODE_ST(airs_node_monitor(a, mon, 1), AIRS_OK);
  NODE_ST(airs_node_monitor(a, mon, 1), AIRS_OK); /* twice is once */
  NODE_ST(airs_node_monitor(a, 0, 1), AIRS_EINVAL);
  CHECK_ST(airs_spawn(rt, &b, NULL, NULL, NULL, &dead), AIRS_OK);
  airs_kill(rt, dead);
  airs_wait(rt, dead, 5000);
  NODE_ST(airs_node_monitor(a, dead, 1), AIRS_ENOPROC);
  NODE_ST(airs_node_attach(rt, &o, &dup), AIRS_ESTATE); /* one per rt */

  /* A peer attaches: UP, with its incarnation. */
  b1 = child_start(argv[0], url, "b");
  i = expect(AIRS_MSG_NODE_UP, "b", 0, 3000);
  if (i >= 0) CHECK_EQ(events[i].ev.peer.incarnation, b1.incarnation);
  NODE_ST(airs_node_peers(a, peers, 4, &count), AIRS_OK);
  CHECK_EQ(count, 1);
  CHECK(strcmp(peers[0].name, "b") == 0);
  NODE_ST(airs_node_peers(a, NULL, 0, &count), AIRS_OK);
  CHECK_EQ(count, 1);

  /* Its name is taken while it lives. */
  rt2 = runtime_new(1);
  o.name = "b";
  NODE_ST(airs_node_attach(rt2, &o, &dup), AIRS_EEXIST);
  CHECK(strstr(airs_node_last_error_message(), "is up") != NULL);

  /* kill -9: DOWN (noconnection) within 1.5 s. */
  t0 = now_ms();
  kill(b1.n.pid, SIGKILL);
  i = expect(AIRS_MSG_NODE_DOWN, "b", AIRS_NODE_DOWN_NOCONNECTION, 5000);
  if (i >= 0) {
    printf("kill -9 to DOWN: %.0f ms\n", events[i].at - t0);
    CHECK(events[i].at - t0 <= 1500);
    CHECK_EQ(events[i].ev.peer.incarnation, b1.incarnation);
  }
  node_child_end(&b1.n, 0);

  /* Restarted: UP, a new incarnation. */
  b2 = child_start(argv[0], url, "b");
  CHECK(b2.incarnation != b1.incarnation);
  i = expect(AIRS_MSG_NODE_UP, "b", 0, 3000);
  if (i >= 0) CHECK_EQ(events[i].ev.peer.incarnation, b2.incarnation);

  /* A peer that detaches is down at once. */
  c1 = child_start(argv[0], url, "c");
  expect(AIRS_MSG_NODE_UP, "c", 0, 3000);
  t0 = now_ms();
  node_child_end(&c1.n, 0); /* closes its stdin: it detaches */
  i = expect(AIRS_MSG_NODE_DOWN, "c", AIRS_NODE_DOWN_LEFT, 3000);
  if (i >= 0) CHECK(events[i].at - t0 < 500);

  /* SIGSTOP: DOWN; its name cannot be claimed (it does not answer);
   * SIGCONT: UP again, the same incarnation. */
  kill(b2.n.pid, SIGSTOP);
  expect(AIRS_MSG_NODE_DOWN, "b", AIRS_NODE_DOWN_NOCONNECTION, 5000);
  NODE_ST(airs_node_attach(rt2, &o, &dup), AIRS_EEXIST);
  CHECK(strstr(airs_node_last_error_message(), "does not answer") != NULL);
  kill(b2.n.pid, SIGCONT);
  i = expect(AIRS_MSG_NODE_UP, "b", 0, 3000);
  if (i >= 0) CHECK_EQ(events[i].ev.peer.incarnation, b2.incarnation);
  expect_nothing(300); /* no DOWN from b's own stall */

  /* nats-server dies: DOWN (disconnected) after the grace; it comes back
   * on the same port: both reconnect, b is UP again. */
  reap(server, SIGKILL);
  t0 = now_ms();
  i = expect(AIRS_MSG_NODE_DOWN, "b", AIRS_NODE_DOWN_DISCONNECTED, 5000);
  if (i >= 0) CHECK(events[i].at - t0 >= 400);
  server = server_start(port);
  expect(AIRS_MSG_NODE_UP, "b", 0, 10000);

  /* Monitoring off; then nothing comes. */
  NODE_ST(airs_node_monitor(a, mon, 0), AIRS_OK);
  NODE_ST(airs_node_monitor(a, mon, 0), AIRS_ENOTFOUND);
  node_child_end(&b2.n, SIGKILL);
  expect_nothing(1500);

  airs_node_detach(a);
  airs_runtime_free(rt);
  airs_runtime_free(rt2);
  reap(server, SIGTERM);
  return CHECK_DONE();
}
