/*
 * test_remote.c - messages between nodes over a real nats-server: a send
 * to a pid of another node, with the same API as a local one.
 *
 * Node "a" is this process; the other nodes are copies of this program
 * (`test_remote child URL NAME TAG`: a runtime with pid tag TAG (0: any)
 * and an echo process, attached; it prints "ready <echo pid>" or
 * "failed <status> <text>", then waits; it detaches and exits when its
 * stdin closes). It checks:
 *   - 10,000 pings from a process of a to the echo of b and the 10,000
 *     answers to a's remote pid come back, in order (FIFO per pair);
 *   - pids travel in message data and still name their process;
 *   - three nodes: b's echo sends 10,000 messages to a third node's echo
 *     (a pid it got in data), which counts them all;
 *   - airs_call to a process of another node: its reply; a call to a
 *     node that is down fails at once (ENOPROC), not at its timeout; a
 *     call waiting when its callee's node is killed fails with EEXITED
 *     noconnection once the node is declared down;
 *   - large messages (256 KiB; 3 MiB, over the server's payload limit, in
 *     fragments) both ways, byte for byte; over 64 MiB fails with EINVAL
 *     and a message;
 *   - a pid whose tag no node holds: ENOPROC at once;
 *   - the node of a pid killed: once DOWN, a send is a counted dead
 *     letter (NOCONNECTION), not an error;
 *   - that node restarted (a new incarnation, a new tag): the old pid
 *     gets ENOPROC at once, the new one answers;
 *   - a node that detached: its pids get ENOPROC;
 *   - a runtime whose pid tag a live node holds cannot attach (EEXIST);
 *   - global names: each child registers its echo as "echo_<node>";
 *     whereis across nodes, one holder per name, the name gone with its
 *     process, its node's death or unregister; every bad argument.
 */
#define _GNU_SOURCE
#include <airs/airs.h>
#include <airs/node.h>
#include <airs/transport.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>

#include "harness.h"

enum {
  MSG_PING = 1,   /* data: a u32 sequence number, then any bytes */
  MSG_PONG = 2,   /* the same data, back to the sender */
  MSG_GO = 3,     /* to the pinger: {pid target, u32 count} */
  MSG_WHOAMI = 4, /* to the echo: data = a pid to tell who it is */
  MSG_ITS_ME = 5, /* from the echo: data = its own pid */
  MSG_BIG = 6,    /* to the pinger: {pid target, u32 size}: one big ping */
  MSG_ADD = 7,    /* a request to the echo: i32 n; the reply: MSG_SUM n+1 */
  MSG_SUM = 8,
  MSG_COUNT = 9,    /* to the echo: counted (16 bytes of data) */
  MSG_HOWMANY = 10, /* a request to the echo: the reply MSG_SUM = its count */
  MSG_RELAY = 11    /* to the echo: {pid, u32 n}: n MSG_COUNTs there */
};

/* ---- the child node: an echo process ------------------------------------ */

static int32_t echo_counted; /* MSG_COUNTs the echo got (its thread only) */

static airs_status echo_receive(void* state, airs_ctx* ctx,
                                const airs_msg* msg) {
  (void)state;
  if (airs_msg_type(msg) == MSG_PING)
    return airs_ctx_send(ctx, airs_msg_sender(msg), MSG_PONG,
                         airs_msg_data(msg), airs_msg_size(msg));
  if (airs_msg_type(msg) == MSG_ADD && airs_msg_size(msg) == 4) {
    int32_t n;
    airs_msg* reply = NULL;
    airs_status st;
    memcpy(&n, airs_msg_data(msg), sizeof n);
    n++;
    st = airs_msg_new(MSG_SUM, &n, sizeof n, &reply);
    if (st == AIRS_OK) st = airs_reply(ctx, msg, reply);
    return st;
  }
  if (airs_msg_type(msg) == MSG_COUNT) {
    echo_counted++;
    return AIRS_OK;
  }
  if (airs_msg_type(msg) == MSG_RELAY && airs_msg_size(msg) == 12) {
    airs_pid to;
    uint32_t n, i;
    unsigned char sixteen[16] = {0};
    memcpy(&to, airs_msg_data(msg), sizeof to);
    memcpy(&n, (const char*)airs_msg_data(msg) + sizeof to, sizeof n);
    for (i = 0; i < n; i++) {
      airs_status st = airs_ctx_send(ctx, to, MSG_COUNT, sixteen, 16);
      if (st != AIRS_OK) return st;
    }
    return AIRS_OK;
  }
  if (airs_msg_type(msg) == MSG_HOWMANY) {
    int32_t n = echo_counted;
    airs_msg* reply = NULL;
    airs_status st = airs_msg_new(MSG_SUM, &n, sizeof n, &reply);
    if (st == AIRS_OK) st = airs_reply(ctx, msg, reply);
    return st;
  }
  if (airs_msg_type(msg) == MSG_WHOAMI && airs_msg_size(msg) == 8) {
    airs_pid to, self = airs_self(ctx);
    memcpy(&to, airs_msg_data(msg), sizeof to);
    return airs_ctx_send(ctx, to, MSG_ITS_ME, &self, sizeof self);
  }
  return AIRS_OK;
}

static int child_main(const char* url, const char* name, long tag) {
  airs_runtime* rt = child_runtime(1, tag);
  airs_node* node;
  airs_behaviour b;
  airs_pid echo = 0;
  airs_status st;
  char line[128];
  if (!rt) return 2;
  memset(&b, 0, sizeof b);
  b.version = AIRS_BEHAVIOUR_VERSION;
  b.size = sizeof b;
  b.receive = echo_receive;
  airs_spawn(rt, &b, NULL, NULL, NULL, &echo);
  if (!(node = child_attach(rt, url, name))) return 3;
  {
    char global[64];
    snprintf(global, sizeof global, "echo_%s", name);
    st = airs_node_register(node, global, echo);
    if (st != AIRS_OK) {
      printf("failed %d %s\n", (int)st, airs_node_last_error_message());
      fflush(stdout);
      airs_node_detach(node);
      airs_runtime_free(rt);
      return 4;
    }
  }
  printf("ready %llu\n", (unsigned long long)echo);
  fflush(stdout);
  /* Commands: "register NAME" registers the echo under NAME and prints
   * the status. */
  while (fgets(line, sizeof line, stdin) != NULL) {
    line[strcspn(line, "\n")] = '\0';
    if (strncmp(line, "register ", 9) == 0) {
      printf("%d\n", (int)airs_node_register(node, line + 9, echo));
      fflush(stdout);
    }
  }
  airs_node_detach(node);
  airs_runtime_free(rt);
  return 0;
}

typedef struct child {
  node_child n;  /* prints "ready <echo pid>" or "failed ..." */
  airs_pid echo; /* 0 if it did not attach */
} child;

static child child_start(const char* self_path, const char* url,
                         const char* name, unsigned tag) {
  char tag_text[16];
  char* argv[] = {(char*)self_path, "child",  (char*)url,
                  (char*)name,      tag_text, NULL};
  child ch;
  snprintf(tag_text, sizeof tag_text, "%u", tag);
  ch.n = node_child_start(argv);
  ch.echo = strncmp(ch.n.line, "ready ", 6) == 0
                ? strtoull(ch.n.line + 6, NULL, 10)
                : 0;
  return ch;
}

/* Waits (up to timeout_ms) until whereis `name` gives `want` (0: until
 * nobody holds it); returns what it gave last. */
static airs_status whereis_until(airs_node* node, const char* name,
                                 airs_pid want, int timeout_ms, airs_pid* got) {
  double end = now_ms() + timeout_ms;
  airs_status st;
  for (;;) {
    *got = 0;
    st = airs_node_whereis(node, name, 1000, got);
    if ((want == 0 && st == AIRS_ENOTFOUND) || (want != 0 && *got == want) ||
        now_ms() > end)
      return st;
    sleep_ms(10);
  }
}

static airs_status pinger_receive(void* state, airs_ctx* ctx,
                                  const airs_msg* msg);

/* Node a and node b register one name at the same moment, 20 times over:
 * never do both get it (one may, or neither), and whoever got it is the
 * one whereis finds. */
static void racing_claims(child* b, airs_node* a, airs_pid pinger) {
  int round, a_won = 0, b_won = 0, neither = 0;
  for (round = 0; round < 20; round++) {
    char cmd[64], name[32], answer[32] = "";
    airs_status mine, theirs;
    airs_pid got = 0;
    snprintf(name, sizeof name, "race_%d", round);
    snprintf(cmd, sizeof cmd, "register %s\n", name);
    if (write(b->n.in, cmd, strlen(cmd)) != (ssize_t)strlen(cmd)) break;
    mine = airs_node_register(a, name, pinger);
    read_line(b->n.out, answer, sizeof answer);
    theirs = (airs_status)atoi(answer);
    CHECK(!(mine == AIRS_OK && theirs == AIRS_OK));
    CHECK(mine == AIRS_OK || mine == AIRS_EEXIST);
    CHECK(theirs == AIRS_OK || theirs == AIRS_EEXIST);
    if (mine == AIRS_OK) {
      a_won++;
      CHECK_ST(airs_node_whereis(a, name, 1000, &got), AIRS_OK);
      CHECK_EQ(got, pinger);
      NODE_ST(airs_node_unregister(a, name), AIRS_OK);
    } else if (theirs == AIRS_OK) {
      b_won++;
      CHECK_ST(airs_node_whereis(a, name, 1000, &got), AIRS_OK);
      CHECK_EQ(got, b->echo);
    } else {
      neither++;
    }
  }
  printf("20 racing registers: a %d, b %d, neither %d\n", a_won, b_won,
         neither);
}

static void globals(airs_runtime* rt, airs_node* a, airs_pid pinger,
                    airs_pid echo_b) {
  airs_pid got = 0, temp;
  airs_behaviour b;
  NODE_ST(airs_node_whereis(a, "echo_b", 1000, &got), AIRS_OK);
  CHECK_EQ(got, echo_b);
  /* Ours: found at once, here and (through NATS) anywhere. */
  NODE_ST(airs_node_register(a, "pinger", pinger), AIRS_OK);
  NODE_ST(airs_node_whereis(a, "pinger", 1000, &got), AIRS_OK);
  CHECK_EQ(got, pinger);
  NODE_ST(airs_node_register(a, "pinger", pinger), AIRS_EEXIST);
  /* b's name: taken, and the message says by whom. */
  NODE_ST(airs_node_register(a, "echo_b", pinger), AIRS_EEXIST);
  CHECK(strstr(airs_node_last_error_message(), "'b'") != NULL);
  /* Bad arguments. */
  NODE_ST(airs_node_register(NULL, "x", pinger), AIRS_EINVAL);
  NODE_ST(airs_node_register(a, NULL, pinger), AIRS_EINVAL);
  NODE_ST(airs_node_register(a, "x", 0), AIRS_EINVAL);
  NODE_ST(airs_node_register(a, "a.b", pinger), AIRS_EINVAL);
  NODE_ST(airs_node_register(a, "", pinger), AIRS_EINVAL);
  NODE_ST(airs_node_whereis(a, "x", 0, &got), AIRS_EINVAL);
  NODE_ST(airs_node_whereis(a, "x", 100, NULL), AIRS_EINVAL);
  NODE_ST(airs_node_whereis(a, "a*", 100, &got), AIRS_EINVAL);
  NODE_ST(airs_node_whereis(NULL, "x", 100, &got), AIRS_EINVAL);
  NODE_ST(airs_node_whereis(a, "nobody", 1000, &got), AIRS_ENOTFOUND);
  NODE_ST(airs_node_unregister(a, "nobody"), AIRS_ENOTFOUND);
  NODE_ST(airs_node_unregister(NULL, "x"), AIRS_EINVAL);
  NODE_ST(airs_node_unregister(a, "echo_b"), AIRS_ENOTFOUND); /* not ours */
  /* Unregistered: gone. */
  NODE_ST(airs_node_unregister(a, "pinger"), AIRS_OK);
  NODE_ST(airs_node_whereis(a, "pinger", 1000, &got), AIRS_ENOTFOUND);
  /* A process that ends takes its name with it. */
  memset(&b, 0, sizeof b);
  b.version = AIRS_BEHAVIOUR_VERSION;
  b.size = sizeof b;
  b.receive = pinger_receive;
  CHECK_ST(airs_spawn(rt, &b, NULL, NULL, NULL, &temp), AIRS_OK);
  NODE_ST(airs_node_register(a, "temp", temp), AIRS_OK);
  NODE_ST(airs_node_register(a, "temp2", temp), AIRS_OK);
  CHECK_ST(airs_kill(rt, temp), AIRS_OK);
  CHECK_EQ(whereis_until(a, "temp", 0, 2000, &got), AIRS_ENOTFOUND);
  CHECK_EQ(whereis_until(a, "temp2", 0, 2000, &got), AIRS_ENOTFOUND);
  NODE_ST(airs_node_register(a, "temp", temp), AIRS_ENOPROC);
}

/* ---- node a: a pinger, and what it saw ---------------------------------- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct {
  uint32_t pongs, out_of_order;
  airs_pid pong_sender;
  size_t big_size; /* the last big PONG's size, and whether its bytes */
  int big_intact;  /* came back as they went */
  airs_pid its_me; /* the pid an echo said it has */
  uint64_t ups, downs;
} seen;

static void fill(unsigned char* p, size_t size) {
  size_t i;
  for (i = 0; i < size; i++) p[i] = (unsigned char)(i * 31 + 7);
}

static airs_status pinger_receive(void* state, airs_ctx* ctx,
                                  const airs_msg* msg) {
  uint64_t type = airs_msg_type(msg);
  (void)state;
  if (type == MSG_COUNT) { /* {pid, u32 n}: send n counted messages there */
    airs_pid to;
    uint32_t n, i;
    unsigned char sixteen[16] = {0};
    memcpy(&to, airs_msg_data(msg), sizeof to);
    memcpy(&n, (const char*)airs_msg_data(msg) + sizeof to, sizeof n);
    for (i = 0; i < n; i++) {
      airs_status st = airs_ctx_send(ctx, to, MSG_COUNT, sixteen, 16);
      if (st != AIRS_OK) return st;
    }
    return AIRS_OK;
  }
  if (type == MSG_GO || type == MSG_BIG) {
    airs_pid to;
    uint32_t n, i;
    memcpy(&to, airs_msg_data(msg), sizeof to);
    memcpy(&n, (const char*)airs_msg_data(msg) + sizeof to, sizeof n);
    if (type == MSG_GO) {
      for (i = 0; i < n; i++) {
        airs_status st = airs_ctx_send(ctx, to, MSG_PING, &i, sizeof i);
        if (st != AIRS_OK) return st;
      }
      return AIRS_OK;
    }
    {
      unsigned char* big = malloc(n);
      airs_status st;
      if (!big) return AIRS_ENOMEM;
      fill(big, n);
      st = airs_ctx_send(ctx, to, MSG_PING, big, n);
      free(big);
      return st;
    }
  }
  pthread_mutex_lock(&mu);
  if (type == MSG_PONG && airs_msg_size(msg) == sizeof(uint32_t)) {
    uint32_t seq;
    memcpy(&seq, airs_msg_data(msg), sizeof seq);
    if (seq != seen.pongs) seen.out_of_order++;
    seen.pongs++;
    seen.pong_sender = airs_msg_sender(msg);
  } else if (type == MSG_PONG) {
    size_t size = airs_msg_size(msg);
    unsigned char* want = malloc(size);
    seen.big_size = size;
    if (want) {
      fill(want, size);
      seen.big_intact = memcmp(want, airs_msg_data(msg), size) == 0;
      free(want);
    }
  } else if (type == MSG_ITS_ME && airs_msg_size(msg) == 8) {
    memcpy(&seen.its_me, airs_msg_data(msg), 8);
  } else if (type == AIRS_MSG_NODE_UP) {
    seen.ups++;
  } else if (type == AIRS_MSG_NODE_DOWN) {
    seen.downs++;
  }
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
  return AIRS_OK;
}

static struct {
  int count;
  airs_dead_letter_reason reason;
} dead;

static void on_dead(void* user_data, airs_pid to, const airs_msg* msg,
                    airs_dead_letter_reason reason) {
  (void)user_data;
  (void)to;
  (void)msg;
  pthread_mutex_lock(&mu);
  dead.count++;
  dead.reason = reason;
  pthread_mutex_unlock(&mu);
}

/* A call that gets no answer (MSG_COUNT), made on a thread of its own. */
typedef struct in_flight {
  airs_runtime* rt;
  airs_pid to;
  airs_status st;
  double took;
  char why[256];
} in_flight;

static void* call_in_flight(void* p) {
  in_flight* c = (in_flight*)p;
  unsigned char sixteen[16] = {0};
  airs_msg *m = NULL, *reply = NULL;
  double t0 = now_ms();
  c->st = airs_msg_new(MSG_COUNT, sixteen, sizeof sixteen, &m);
  if (c->st == AIRS_OK) c->st = airs_call(c->rt, c->to, m, 10000, &reply);
  c->took = now_ms() - t0;
  snprintf(c->why, sizeof c->why, "%s", airs_last_error_message());
  if (c->st == AIRS_OK) airs_msg_free(reply);
  return NULL;
}

/* airs_call of MSG_ADD n to `to`: the sum, or -1 with *st set. */
static int32_t call_add(airs_runtime* rt, airs_pid to, int32_t n,
                        uint32_t timeout_ms, airs_status* st) {
  airs_msg *m = NULL, *reply = NULL;
  int32_t sum = -1;
  *st = airs_msg_new(MSG_ADD, &n, sizeof n, &m);
  if (*st == AIRS_OK) *st = airs_call(rt, to, m, timeout_ms, &reply);
  if (*st == AIRS_OK) {
    if (airs_msg_type(reply) == MSG_SUM && airs_msg_size(reply) == 4)
      memcpy(&sum, airs_msg_data(reply), sizeof sum);
    airs_msg_free(reply);
  } else if (*st != AIRS_ETIMEDOUT && *st != AIRS_EEXITED) {
    airs_msg_free(m);
  }
  return sum;
}

/* Asks `echo` for its MSG_COUNT count (MSG_HOWMANY) until it reaches n,
 * timeout_ms pass or a call fails (*st says which call status came last);
 * returns the last count, -1 if none came. */
static int32_t count_until(airs_runtime* rt, airs_pid echo, int32_t n,
                           int timeout_ms, airs_status* st) {
  double end = now_ms() + timeout_ms;
  int32_t counted = -1;
  *st = AIRS_OK;
  do {
    airs_msg *m = NULL, *reply = NULL;
    if (airs_msg_new(MSG_HOWMANY, NULL, 0, &m) != AIRS_OK) break;
    *st = airs_call(rt, echo, m, 5000, &reply);
    if (*st != AIRS_OK) {
      if (*st != AIRS_ETIMEDOUT) airs_msg_free(m);
      break;
    }
    memcpy(&counted, airs_msg_data(reply), sizeof counted);
    airs_msg_free(reply);
    if (counted < n) sleep_ms(1);
  } while (counted < n && now_ms() < end);
  return counted;
}

static void go(airs_runtime* rt, airs_pid pinger, uint64_t type,
               airs_pid target, uint32_t n) {
  unsigned char data[sizeof(airs_pid) + sizeof(uint32_t)];
  memcpy(data, &target, sizeof target);
  memcpy(data + sizeof target, &n, sizeof n);
  CHECK_ST(airs_send(rt, pinger, type, data, sizeof data), AIRS_OK);
}

/* The value of the sample line that starts with `prefix` (a metric name
 * with its labels) in rt's metrics; -1 if there is none. */
static long long metric(airs_runtime* rt, const char* prefix) {
  static char text[64 * 1024];
  size_t len = 0, n = strlen(prefix);
  const char* line;
  if (airs_metrics_write(rt, text, sizeof text, &len) != AIRS_OK) return -2;
  for (line = text; line && *line; line = strchr(line, '\n'), line += !!line)
    if (strncmp(line, prefix, n) == 0 && line[n] == ' ')
      return strtoll(line + n + 1, NULL, 10);
  return -1;
}

/* promtool check metrics over rt's whole exposition, the node's lines
 * included: 0 when it has no complaint (or there is no promtool: meson
 * sets AIRS_PROMTOOL when Debian's prometheus is installed). */
static int promtool_complaints(airs_runtime* rt) {
  static char text[64 * 1024];
  const char* promtool = getenv("AIRS_PROMTOOL");
  char command[512];
  size_t len = 0;
  FILE* p;
  int rc;
  if (!promtool) return 0;
  if (airs_metrics_write(rt, text, sizeof text, &len) != AIRS_OK) return -1;
  /* Its stdout and stderr say nothing when all is well. */
  snprintf(command, sizeof command, "%s check metrics 2>&1 | grep -q .",
           promtool);
  p = popen(command, "w");
  if (!p) return -1;
  fwrite(text, 1, len, p);
  rc = pclose(p);
  return WIFEXITED(rc) && WEXITSTATUS(rc) == 1 ? 0 : 1;
}

int main(int argc, char** argv) {
  airs_runtime* rt;
  airs_node* a = NULL;
  airs_behaviour b;
  airs_pid pinger, stale;
  child b1, b2, c1, clash;
  uint32_t my_tag = 0;
  char url[64];
  pid_t server;
  int port;
  double t0;

  if (argc == 5 && strcmp(argv[1], "child") == 0)
    return child_main(argv[2], argv[3], strtol(argv[4], NULL, 10));
  signal(SIGPIPE, SIG_IGN);

  port = free_port();
  snprintf(url, sizeof url, "nats://127.0.0.1:%d", port);
  server = server_start(port);
  rt = runtime_new(2);
  CHECK_ST(airs_runtime_pid_tag(rt, &my_tag), AIRS_OK);
  CHECK_ST(airs_set_dead_letter_hook(rt, on_dead, NULL), AIRS_OK);
  memset(&b, 0, sizeof b);
  b.version = AIRS_BEHAVIOUR_VERSION;
  b.size = sizeof b;
  b.receive = pinger_receive;
  CHECK_ST(airs_spawn(rt, &b, NULL, NULL, NULL, &pinger), AIRS_OK);
  a = attach_node(rt, url, "a", NULL);
  if (a == NULL) return CHECK_DONE();
  NODE_ST(airs_node_monitor(a, pinger, 1), AIRS_OK);

  /* b: 10,000 pings to its echo, 10,000 answers to our remote pid. */
  b1 = child_start(argv[0], url, "b", 0);
  CHECK(b1.echo != 0);
  CHECK(airs_pid_tag(b1.echo) != my_tag);
  WAIT_FOR(seen.ups == 1, 3000);
  t0 = now_ms();
  go(rt, pinger, MSG_GO, b1.echo, 10000);
  WAIT_FOR(seen.pongs == 10000, 20000);
  printf("10,000 round trips a -> b -> a: %.0f ms\n", now_ms() - t0);
  /* The node's part of the runtime's metrics (a metrics source). */
  CHECK_EQ(metric(rt, "airs_node_connected"), 1);
  CHECK_EQ(metric(rt, "airs_node_peers{state=\"up\"}"), 1);
  CHECK_EQ(metric(rt, "airs_node_peer_ups_total"), 1);
  CHECK_EQ(metric(rt, "airs_node_peer_downs_total{reason=\"left\"}"), 0);
  CHECK(metric(rt, "airs_node_messages_sent_total") >= 10000);
  CHECK(metric(rt, "airs_node_messages_received_total") >= 10000);
  CHECK(metric(rt, "airs_node_batches_sent_total") >= 1);
  CHECK(metric(rt, "airs_node_batches_received_total") >= 1);
  CHECK_EQ(metric(rt, "airs_node_batches_failed_total"), 0);
  CHECK_EQ(promtool_complaints(rt), 0);
  pthread_mutex_lock(&mu);
  CHECK_EQ(seen.out_of_order, 0);
  CHECK_EQ(seen.pong_sender, b1.echo);
  pthread_mutex_unlock(&mu);

  globals(rt, a, pinger, b1.echo);
  racing_claims(&b1, a, pinger);

  /* A pid in message data names its process on the other node. */
  CHECK_ST(airs_send(rt, b1.echo, MSG_WHOAMI, &pinger, sizeof pinger), AIRS_OK);
  WAIT_FOR(seen.its_me == b1.echo, 3000);

  /* One-way: 200,000 messages of 16 bytes from a process of a to b's
   * echo, in order, none lost (b counts them). */
  {
    const uint32_t n = 200000;
    airs_status st;
    int32_t counted;
    double t1;
    t0 = now_ms();
    go(rt, pinger, MSG_COUNT, b1.echo, n);
    counted = count_until(rt, b1.echo, (int32_t)n, 20000, &st);
    t1 = now_ms();
    CHECK_EQ(st, AIRS_OK);
    CHECK_EQ(counted, n);
    printf("200,000 one-way messages a -> b: %.0f ms, %.0f msgs/s\n", t1 - t0,
           n / ((t1 - t0) / 1000));
  }

  /* Three nodes: b's echo sends 10,000 messages straight to the echo of
   * a third node, e, which counts them all (a only starts and checks). */
  {
    child e1 = child_start(argv[0], url, "e", 0);
    unsigned char relay[sizeof(airs_pid) + sizeof(uint32_t)];
    uint32_t n = 10000;
    airs_status st;
    CHECK(e1.echo != 0);
    memcpy(relay, &e1.echo, sizeof e1.echo);
    memcpy(relay + sizeof e1.echo, &n, sizeof n);
    CHECK_ST(airs_send(rt, b1.echo, MSG_RELAY, relay, sizeof relay), AIRS_OK);
    CHECK_EQ(count_until(rt, e1.echo, (int32_t)n, 10000, &st), n);
    node_child_end(&e1.n, 0);
    /* e came (UP) and left (DOWN): then the counts are b's alone again,
     * as the checks below expect. */
    WAIT_FOR(seen.ups == 2 && seen.downs == 1, 5000);
    CHECK_EQ(metric(rt, "airs_node_peer_downs_total{reason=\"left\"}"), 1);
    CHECK_EQ(metric(rt, "airs_node_peer_ups_total"), 2);
    pthread_mutex_lock(&mu);
    seen.ups = 1;
    seen.downs = 0;
    pthread_mutex_unlock(&mu);
  }

  /* A call to a process of b. */
  {
    airs_status st;
    int i;
    t0 = now_ms();
    for (i = 0; i < 100; i++)
      if (call_add(rt, b1.echo, i, 2000, &st) != i + 1) break;
    CHECK_EQ(i, 100);
    printf("100 calls a -> b: %.2f ms each\n", (now_ms() - t0) / 100);
  }

  /* 256 KiB and 3 MiB (over nats-server's 1 MiB limit: in fragments)
   * there and back, byte for byte, with small messages between them; over
   * 64 MiB is refused. */
  go(rt, pinger, MSG_BIG, b1.echo, 256 * 1024);
  WAIT_FOR(seen.big_size == 256 * 1024, 5000);
  CHECK(seen.big_intact);
  pthread_mutex_lock(&mu);
  seen.big_intact = 0;
  seen.pongs = 0;
  pthread_mutex_unlock(&mu);
  go(rt, pinger, MSG_BIG, b1.echo, 3u << 20);
  go(rt, pinger, MSG_GO, b1.echo, 100);
  WAIT_FOR(seen.big_size == 3u << 20 && seen.pongs == 100, 10000);
  CHECK(seen.big_intact);
  CHECK_EQ(seen.out_of_order, 0);
  {
    size_t huge = (64u << 20) + 1;
    unsigned char* p = calloc(1, huge);
    CHECK_ST(airs_send(rt, b1.echo, MSG_PING, p, huge), AIRS_EINVAL);
    CHECK(strstr(airs_last_error_message(), "transport") != NULL);
    free(p);
  }

  /* A tag that no node holds: noproc at once. */
  {
    airs_pid nobody = (airs_pid)((airs_pid_tag(b1.echo) ^ 0x5a5a) & 0xFFFF)
                          << 48 |
                      (b1.echo & 0xFFFFFFFFFFFFull);
    CHECK_ST(airs_send(rt, nobody, MSG_PING, "x", 1), AIRS_ENOPROC);
  }

  /* A runtime with the tag of a live node cannot join. */
  clash = child_start(argv[0], url, "clash", airs_pid_tag(b1.echo));
  CHECK(clash.echo == 0);
  CHECK(strstr(clash.n.line, "pid tag") != NULL);
  CHECK(strstr(clash.n.line, "'b'") != NULL);
  node_child_end(&clash.n, 0);

  /* b killed while a call to it waits: the call ends when b is declared
   * down (the runtime's call watcher monitors the callee). Once b is DOWN,
   * a send to it is a dead letter. */
  {
    in_flight c = {rt, b1.echo, AIRS_OK, 0, ""};
    pthread_t t;
    pthread_create(&t, NULL, call_in_flight, &c);
    sleep_ms(200);
    kill(b1.n.pid, SIGKILL);
    pthread_join(t, NULL);
    printf("a call in flight to a node killed: %s after %.0f ms (%s)\n",
           airs_strerror(c.st), c.took, c.why);
    CHECK_EQ(c.st, AIRS_EEXITED);
    CHECK(strstr(c.why, "noconnection") != NULL);
    CHECK(c.took < 2000); /* about 200 ms + down_after, not 10 s */
  }
  WAIT_FOR(seen.downs == 1, 5000);
  pthread_mutex_lock(&mu);
  dead.count = 0;
  pthread_mutex_unlock(&mu);
  CHECK_ST(airs_send(rt, b1.echo, MSG_PING, "x", 1), AIRS_OK);
  pthread_mutex_lock(&mu);
  CHECK_EQ(dead.count, 1);
  CHECK_EQ(dead.reason, AIRS_DEAD_LETTER_NOCONNECTION);
  pthread_mutex_unlock(&mu);
  {
    airs_status st;
    t0 = now_ms();
    CHECK_EQ(call_add(rt, b1.echo, 1, 5000, &st), -1);
    CHECK_EQ(st, AIRS_ENOPROC);
    CHECK(now_ms() - t0 < 100); /* at once, not after 5 s */
  }
  node_child_end(&b1.n, 0);

  /* b restarted: a new incarnation with another tag; the old pid is
   * stale (noproc at once), the new echo answers. */
  stale = b1.echo;
  {
    unsigned tag = airs_pid_tag(stale) % 65535 + 1; /* another, 1..65535 */
    if (tag == my_tag) tag = tag % 65535 + 1;
    b2 = child_start(argv[0], url, "b", tag);
  }
  CHECK(b2.echo != 0);
  WAIT_FOR(seen.ups == 2, 3000);
  {
    /* b's old echo took its global name with its node; the new one has
     * it now. */
    airs_pid got = 0;
    NODE_ST(airs_node_whereis(a, "echo_b", 1000, &got), AIRS_OK);
    CHECK_EQ(got, b2.echo);
  }
  CHECK_ST(airs_send(rt, stale, MSG_PING, "x", 1), AIRS_ENOPROC);
  pthread_mutex_lock(&mu);
  seen.pongs = 0;
  pthread_mutex_unlock(&mu);
  go(rt, pinger, MSG_GO, b2.echo, 1);
  WAIT_FOR(seen.pongs == 1, 3000);
  {
    airs_status st;
    CHECK_EQ(call_add(rt, stale, 1, 5000, &st), -1);
    CHECK_EQ(st, AIRS_ENOPROC);
    CHECK_EQ(call_add(rt, b2.echo, 1, 5000, &st), 2);
  }

  /* c detaches: its pids are stale at once. But first, a call to it the
   * moment it has attached, before its heartbeat may have reached us: the
   * first send asks the cluster who holds its tag. */
  c1 = child_start(argv[0], url, "c", 0);
  CHECK(c1.echo != 0);
  {
    airs_status st;
    CHECK_EQ(call_add(rt, c1.echo, 41, 5000, &st), 42);
  }
  WAIT_FOR(seen.ups == 3, 3000);
  node_child_end(&c1.n, 0);
  WAIT_FOR(seen.downs == 2, 3000);
  CHECK_ST(airs_send(rt, c1.echo, MSG_PING, "x", 1), AIRS_ENOPROC);

  node_child_end(&b2.n, 0);
  airs_node_detach(a);
  /* Detached: no transport, other runtimes' pids are not alive here, and
   * the node's metrics are gone with it. */
  CHECK_ST(airs_send(rt, b2.echo, MSG_PING, "x", 1), AIRS_ENOPROC);
  CHECK_EQ(metric(rt, "airs_node_connected"), -1);
  CHECK(metric(rt, "airs_processes") >= 1);
  airs_runtime_free(rt);
  reap(server, SIGTERM);
  return CHECK_DONE();
}
