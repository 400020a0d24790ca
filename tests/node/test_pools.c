/*
 * test_pools.c - pools across nodes over a real nats-server, as Erlang's
 * pg groups: each node sees the members every node has.
 *
 * Node "a" is this process; "b" and "c" are copies of this program
 * (`test_pools child URL NAME`: three workers in pool "work", two joined
 * before attach and one after, and, on c, the same three in "only_c"; a
 * teller that answers MSG_COUNT with how many members of "work" its node
 * sees, and MSG_LEAVE / MSG_END by making one worker leave or end; it
 * prints "ready <teller pid> <worker pid> x3"). It checks:
 *   - a sees all 8 members of "work" (2 of its own) and c's 3 of "only_c";
 *     8 round-robin picks on a give 8 different pids, and a call to each
 *     is answered by the node that holds it;
 *   - a leave and an end on b reach a and c;
 *   - kill -9 of c: its members leave a's pools within 1.5 s; c started
 *     again (a new incarnation) brings its new members;
 *   - SIGSTOP of b: a forgets b's members once it declares b down; after
 *     SIGCONT both sides see each other's members again (a told b it had
 *     declared it down, and each sent the other its members).
 */
#define _GNU_SOURCE
#include <airs/airs.h>
#include <airs/node.h>
#include <pthread.h>
#include <stdint.h>

#include "harness.h"

enum {
  MSG_WHO = 1,   /* a request to a worker; reply: its node's name */
  MSG_COUNT = 2, /* a request to a teller; reply: u32 members of "work" */
  MSG_LEAVE = 3, /* to a teller: one worker leaves "work" */
  MSG_END = 4    /* to a teller: one worker ends */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER; /* for WAIT_FOR */
static const char* node_name;

static airs_status worker_receive(void* state, airs_ctx* ctx,
                                  const airs_msg* msg) {
  (void)state;
  if (airs_msg_type(msg) == MSG_WHO) {
    airs_msg* reply = NULL;
    airs_status st = airs_msg_new(MSG_WHO, node_name, 1, &reply);
    return st == AIRS_OK ? airs_reply(ctx, msg, reply) : st;
  }
  return AIRS_OK;
}

static size_t members(airs_runtime* rt, const char* pool) {
  size_t n = 0;
  if (airs_pool_members(rt, pool, NULL, 0, &n) != AIRS_OK) return 9999;
  return n;
}

/* ---- nodes b and c --------------------------------------------------------
 */

static airs_pid workers[3];
static int next_gone; /* the workers that left or ended so far */

static airs_status teller_receive(void* state, airs_ctx* ctx,
                                  const airs_msg* msg) {
  airs_runtime* rt = airs_ctx_runtime(ctx);
  (void)state;
  switch (airs_msg_type(msg)) {
    case MSG_COUNT: {
      uint32_t n = (uint32_t)members(rt, "work");
      airs_msg* reply = NULL;
      airs_status st = airs_msg_new(MSG_COUNT, &n, sizeof n, &reply);
      return st == AIRS_OK ? airs_reply(ctx, msg, reply) : st;
    }
    case MSG_LEAVE:
      if (next_gone < 3) airs_pool_leave(rt, "work", workers[next_gone++]);
      return AIRS_OK;
    case MSG_END:
      if (next_gone < 3) airs_kill(rt, workers[next_gone++]);
      return AIRS_OK;
    default: return AIRS_OK;
  }
}

static int child_main(const char* url, const char* name) {
  airs_runtime* rt = child_runtime(2, 0);
  airs_node* node;
  airs_pid teller;
  int i;
  node_name = name;
  if (!rt) return 2;
  for (i = 0; i < 3; i++)
    workers[i] = spawn_with(rt, NULL, worker_receive, NULL);
  teller = spawn_with(rt, NULL, teller_receive, NULL);
  /* Two join before attach (replayed to the transport), one after. */
  airs_pool_join(rt, "work", workers[0]);
  airs_pool_join(rt, "work", workers[1]);
  if (!(node = child_attach(rt, url, name))) return 3;
  airs_pool_join(rt, "work", workers[2]);
  if (strcmp(name, "c") == 0)
    for (i = 0; i < 3; i++) airs_pool_join(rt, "only_c", workers[i]);
  printf("ready %llu %llu %llu %llu\n", (unsigned long long)teller,
         (unsigned long long)workers[0], (unsigned long long)workers[1],
         (unsigned long long)workers[2]);
  fflush(stdout);
  child_leave_at_eof(node, rt);
  return 0;
}

/* ---- node a ---------------------------------------------------------------
 */

typedef struct child {
  node_child n;
  airs_pid teller;
  airs_pid workers[3];
} child;

static child child_start(const char* prog, const char* url, const char* name) {
  child c;
  char* args[] = {(char*)prog, "child", (char*)url, (char*)name, NULL};
  unsigned long long t = 0, w[3] = {0, 0, 0};
  int i;
  memset(&c, 0, sizeof c);
  c.n = node_child_start(args);
  if (sscanf(c.n.line, "ready %llu %llu %llu %llu", &t, &w[0], &w[1], &w[2]) ==
      4) {
    c.teller = (airs_pid)t;
    for (i = 0; i < 3; i++) c.workers[i] = (airs_pid)w[i];
  } else {
    fprintf(stderr, "child %s: %s\n", name, c.n.line);
  }
  return c;
}

/* The name of the node that answers a call to `pid` ('?' if none). */
static char who(airs_runtime* rt, airs_pid pid) {
  airs_msg *m = NULL, *reply = NULL;
  char name = '?';
  if (airs_msg_new(MSG_WHO, NULL, 0, &m) != AIRS_OK) return name;
  if (airs_call(rt, pid, m, 3000, &reply) == AIRS_OK &&
      airs_msg_size(reply) == 1)
    name = *(const char*)airs_msg_data(reply);
  airs_msg_free(reply);
  return name;
}

/* How many members of "work" the node of `teller` sees (9999 if none
 * answers). */
static uint32_t count_there(airs_runtime* rt, airs_pid teller) {
  airs_msg *m = NULL, *reply = NULL;
  uint32_t n = 9999;
  if (airs_msg_new(MSG_COUNT, NULL, 0, &m) != AIRS_OK) return n;
  if (airs_call(rt, teller, m, 3000, &reply) == AIRS_OK &&
      airs_msg_size(reply) == sizeof n)
    memcpy(&n, airs_msg_data(reply), sizeof n);
  airs_msg_free(reply);
  return n;
}

/* Asks the node of `teller` until it sees `want` members of "work" (its
 * news comes in its own time), at most 5 s; then checks. */
static void expect_there(airs_runtime* rt, airs_pid teller, uint32_t want) {
  double end = now_ms() + 5000;
  uint32_t n;
  while ((n = count_there(rt, teller)) != want && now_ms() < end) sleep_ms(5);
  CHECK_EQ(n, want);
}

static int has(airs_runtime* rt, const char* pool, airs_pid pid) {
  airs_pid pids[32];
  size_t n = 0, i;
  if (airs_pool_members(rt, pool, pids, 32, &n) != AIRS_OK) return 0;
  for (i = 0; i < n && i < 32; i++)
    if (pids[i] == pid) return 1;
  return 0;
}

int main(int argc, char** argv) {
  airs_runtime* rt;
  airs_node* a = NULL;
  airs_pid mine[2];
  child b, c;
  char url[64];
  pid_t server;
  int port, i;

  if (argc == 4 && strcmp(argv[1], "child") == 0)
    return child_main(argv[2], argv[3]);
  signal(SIGPIPE, SIG_IGN);
  node_name = "a";
  port = free_port();
  snprintf(url, sizeof url, "nats://127.0.0.1:%d", port);
  server = server_start(port);
  rt = runtime_new(2);
  for (i = 0; i < 2; i++) {
    mine[i] = spawn_with(rt, NULL, worker_receive, NULL);
    CHECK_ST(airs_pool_join(rt, "work", mine[i]), AIRS_OK);
  }
  a = attach_node(rt, url, "a", NULL);
  if (a == NULL) return CHECK_DONE();
  b = child_start(argv[0], url, "b");
  c = child_start(argv[0], url, "c");
  CHECK(b.teller != 0 && c.teller != 0);
  if (b.teller == 0 || c.teller == 0) return CHECK_DONE();

  /* Everybody's members, everywhere. */
  WAIT_FOR(members(rt, "work") == 8 && members(rt, "only_c") == 3, 5000);
  CHECK(has(rt, "work", b.workers[0]) && has(rt, "work", c.workers[2]) &&
        has(rt, "only_c", c.workers[1]));
  expect_there(rt, b.teller, 8);
  expect_there(rt, c.teller, 8);
  {
    airs_pid seen[8];
    int distinct = 0, j, at[3] = {0, 0, 0};
    for (i = 0; i < 8; i++) {
      airs_pid p = 0;
      int again = 0;
      char name;
      CHECK_ST(airs_pool_pick(rt, "work", AIRS_PICK_ROUND_ROBIN, &p), AIRS_OK);
      for (j = 0; j < distinct; j++) again |= seen[j] == p;
      if (!again) seen[distinct++] = p;
      name = who(rt, p);
      if (name >= 'a' && name <= 'c') at[name - 'a']++;
    }
    CHECK_EQ(distinct, 8);
    CHECK_EQ(at[0], 2);
    CHECK_EQ(at[1], 3);
    CHECK_EQ(at[2], 3);
  }

  /* A leave and an end on b reach a and c. */
  CHECK_ST(airs_send(rt, b.teller, MSG_LEAVE, NULL, 0), AIRS_OK);
  CHECK_ST(airs_send(rt, b.teller, MSG_END, NULL, 0), AIRS_OK);
  WAIT_FOR(members(rt, "work") == 6, 3000);
  CHECK(!has(rt, "work", b.workers[0]) && !has(rt, "work", b.workers[1]) &&
        has(rt, "work", b.workers[2]));
  expect_there(rt, c.teller, 6);

  /* kill -9 of c: its members leave; c again: its new ones come. */
  {
    double t0 = now_ms(), took;
    kill(c.n.pid, SIGKILL);
    WAIT_FOR(members(rt, "work") == 3 && members(rt, "only_c") == 0, 5000);
    took = now_ms() - t0;
    printf("kill -9: c's members gone from a's pools in %.0f ms\n", took);
    CHECK(took < 1500);
    node_child_end(&c.n, 0);
    c = child_start(argv[0], url, "c");
    CHECK(c.teller != 0);
    WAIT_FOR(members(rt, "work") == 6 && members(rt, "only_c") == 3, 5000);
    CHECK(has(rt, "work", c.workers[0]));
    CHECK_EQ(who(rt, c.workers[1]), 'c');
  }

  /* SIGSTOP of b: a forgets its member; after SIGCONT, each side has the
   * other's members again. */
  {
    double t0 = now_ms();
    kill(b.n.pid, SIGSTOP);
    WAIT_FOR(members(rt, "work") == 5, 5000);
    printf("SIGSTOP: b's member gone from a's pool in %.0f ms\n",
           now_ms() - t0);
  }
  CHECK(!has(rt, "work", b.workers[2]));
  kill(b.n.pid, SIGCONT);
  WAIT_FOR(members(rt, "work") == 6, 5000);
  CHECK(has(rt, "work", b.workers[2]));
  expect_there(rt, b.teller, 6);
  CHECK_EQ(who(rt, b.workers[2]), 'b');

  /* Detached: only a's own members are left. */
  node_child_end(&b.n, 0);
  node_child_end(&c.n, 0);
  airs_node_detach(a);
  CHECK_EQ(members(rt, "work"), 2);
  CHECK_EQ(members(rt, "only_c"), 0);
  airs_runtime_free(rt);
  reap(server, SIGTERM);
  return CHECK_DONE();
}
