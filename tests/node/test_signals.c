/*
 * test_signals.c - links, monitors and exit signals between nodes over a
 * real nats-server, and what losing a node does to them.
 *
 * Node "a" is this process; the others are copies of this program
 * (`test_signals child URL NAME`: a runtime attached as NAME with a boss
 * process that spawns workers on request; it prints "ready <boss pid>",
 * then waits, and detaches and exits when its stdin closes). It checks:
 *   - a monitor and a link to a worker of b: the DOWN and the exit signal
 *     carry its real reason, once each;
 *   - a worker of b linked to a process of a that is killed gets the exit
 *     signal `killed`; airs_kill of a worker of b from a kills it even
 *     though it traps exits;
 *   - kill -9 of b: each of 1,000 monitors gets exactly one DOWN
 *     `noconnection`, and the link an exit signal `noconnection`, all
 *     within 1.5 s of the kill; nothing more comes after;
 *   - SIGSTOP of c: the same on a's side, and messages sent meanwhile are
 *     counted dead letters (NOCONNECTION); after SIGCONT, c's worker
 *     linked to a process of a hears `noconnection` too (a told c it had
 *     declared it down), c is UP again, and a call reaches it.
 */
#define _GNU_SOURCE
#include <airs/airs.h>
#include <airs/node.h>
#include <airs/transport.h>
#include <pthread.h>
#include <stdint.h>

#include "harness.h"

enum {
  MSG_CMD = 1,    /* to a worker: struct cmd */
  MSG_REPORT = 2, /* from a worker to its reporter: struct report */
  MSG_SPAWN = 3,  /* a request to the boss: u32 n workers more; reply: u32
                     workers in all */
  MSG_PIDS = 4,   /* a request to the boss: u32 offset, u32 count; reply:
                     the pids */
  MSG_PING = 5    /* to a worker: nothing (a message to count if lost) */
};

enum {
  OP_LINK = 1,
  OP_MONITOR,
  OP_TRAP,
  OP_EXIT,
  OP_REPORT_TO,
  OP_TELL_EXIT, /* sends pid `arg` the command OP_EXIT `arg2` (after what
                   this worker sent it before: FIFO per pair) */
  OP_KILL       /* airs_kill of pid `arg` (likewise after the rest) */
};

typedef struct cmd {
  uint32_t op;
  uint32_t pad;
  uint64_t arg; /* a pid, a flag or an exit code */
  uint64_t arg2;
} cmd;

typedef struct report {
  uint64_t type; /* AIRS_MSG_EXIT or AIRS_MSG_DOWN */
  uint64_t sender;
  int32_t kind; /* the reason's airs_exit_kind */
  int32_t code;
} report;

/* ---- what node a saw ------------------------------------------------------
 */

#define SEEN_SET 8192 /* > every ref and pid a test watches */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
  int down[6], exit_[6]; /* DOWN and EXIT messages by exit kind */
  int32_t last_code;
  int duplicates; /* a second DOWN for a ref, or EXIT from a pid */
  uint64_t keys[SEEN_SET];
  int reports[6]; /* MSG_REPORTs from other nodes' workers, by kind */
  uint64_t report_sender;
  int ups, downs; /* node monitor */
  int dead_noconnection;
  int commands; /* commands a's workers ran */
} seen;

/* Adds key to the set; false if it was there. [under mu] */
static int seen_once(uint64_t key) {
  size_t i = (size_t)(key * 0x9E3779B97F4A7C15ull >> 51) % SEEN_SET;
  while (seen.keys[i] != 0) {
    if (seen.keys[i] == key) return 0;
    i = (i + 1) % SEEN_SET;
  }
  seen.keys[i] = key;
  return 1;
}

/* ---- a worker: runs commands, and reports its EXITs and DOWNs ------------ */

typedef struct worker {
  airs_pid reporter; /* 0: record in `seen` (node a's workers) */
} worker;

static airs_status worker_init(void* user_data, airs_ctx* ctx, void** state) {
  (void)ctx;
  *state = user_data;
  return AIRS_OK;
}

static airs_status run_command(worker* w, airs_ctx* ctx, const cmd* c) {
  uint64_t ref;
  switch (c->op) {
    case OP_LINK: return airs_link(ctx, c->arg);
    case OP_MONITOR: return airs_monitor(ctx, c->arg, &ref);
    case OP_TRAP: return airs_trap_exit(ctx, c->arg != 0);
    case OP_EXIT:
      return airs_exit(ctx, AIRS_EXIT_ERROR, (int32_t)c->arg, "worker");
    case OP_REPORT_TO: w->reporter = c->arg; return AIRS_OK;
    case OP_TELL_EXIT: {
      cmd e;
      memset(&e, 0, sizeof e);
      e.op = OP_EXIT;
      e.arg = c->arg2;
      return airs_ctx_send(ctx, c->arg, MSG_CMD, &e, sizeof e);
    }
    case OP_KILL: return airs_kill(airs_ctx_runtime(ctx), c->arg);
  }
  return AIRS_EINVAL;
}

static void record(const report* r, uint64_t key) {
  int kind = r->kind >= 0 && r->kind < 6 ? r->kind : 3;
  pthread_mutex_lock(&mu);
  if (!seen_once(key)) seen.duplicates++;
  if (r->type == AIRS_MSG_DOWN)
    seen.down[kind]++;
  else
    seen.exit_[kind]++;
  seen.last_code = r->code;
  pthread_mutex_unlock(&mu);
}

static airs_status worker_receive(void* state, airs_ctx* ctx,
                                  const airs_msg* msg) {
  worker* w = (worker*)state;
  uint64_t type = airs_msg_type(msg);
  if (type == MSG_CMD && airs_msg_size(msg) == sizeof(cmd)) {
    cmd c;
    airs_status st;
    memcpy(&c, airs_msg_data(msg), sizeof c);
    st = run_command(w, ctx, &c);
    if (w->reporter == 0) {
      pthread_mutex_lock(&mu);
      seen.commands++;
      pthread_mutex_unlock(&mu);
    }
    return c.op == OP_EXIT ? st : AIRS_OK;
  }
  if (type == AIRS_MSG_EXIT || type == AIRS_MSG_DOWN) {
    report r;
    const airs_reason* why = airs_msg_reason(msg);
    memset(&r, 0, sizeof r);
    r.type = type;
    r.sender = airs_msg_sender(msg);
    r.kind = (int32_t)airs_reason_kind(why);
    r.code = airs_reason_code(why);
    if (w->reporter != 0)
      return airs_ctx_send(ctx, w->reporter, MSG_REPORT, &r, sizeof r);
    record(&r, type == AIRS_MSG_DOWN ? airs_msg_correlation(msg)
                                     : airs_msg_sender(msg) ^ 1);
  }
  return AIRS_OK;
}

static airs_behaviour worker_behaviour(void) {
  airs_behaviour b;
  memset(&b, 0, sizeof b);
  b.version = AIRS_BEHAVIOUR_VERSION;
  b.size = sizeof b;
  b.init = worker_init;
  b.receive = worker_receive;
  return b;
}

static airs_pid spawn_worker(airs_runtime* rt) {
  airs_behaviour b = worker_behaviour();
  airs_pid pid = 0;
  worker* w = calloc(1, sizeof *w);
  if (!w || airs_spawn(rt, &b, w, free, NULL, &pid) != AIRS_OK) return 0;
  return pid;
}

/* ---- the child node: a boss that spawns workers ------------------------- */

static airs_pid* workers;
static uint32_t nworkers;

static airs_status boss_receive(void* state, airs_ctx* ctx,
                                const airs_msg* msg) {
  airs_msg* reply = NULL;
  airs_status st;
  uint32_t n, offset;
  (void)state;
  if (airs_msg_type(msg) == MSG_SPAWN && airs_msg_size(msg) == 4) {
    airs_pid* more;
    memcpy(&n, airs_msg_data(msg), 4);
    more = realloc(workers, (nworkers + n) * sizeof *workers);
    if (!more) return AIRS_ENOMEM;
    workers = more;
    while (n-- > 0) {
      airs_pid pid = spawn_worker(airs_ctx_runtime(ctx));
      if (pid == 0) return AIRS_ENOMEM;
      workers[nworkers++] = pid;
    }
    st = airs_msg_new(MSG_SPAWN, &nworkers, 4, &reply);
    return st == AIRS_OK ? airs_reply(ctx, msg, reply) : st;
  }
  if (airs_msg_type(msg) == MSG_PIDS && airs_msg_size(msg) == 8) {
    memcpy(&offset, airs_msg_data(msg), 4);
    memcpy(&n, (const char*)airs_msg_data(msg) + 4, 4);
    if (offset > nworkers || n > nworkers - offset) return AIRS_EINVAL;
    st = airs_msg_new(MSG_PIDS, workers + offset, n * sizeof *workers, &reply);
    return st == AIRS_OK ? airs_reply(ctx, msg, reply) : st;
  }
  return AIRS_OK;
}

static int child_main(const char* url, const char* name) {
  airs_runtime* rt = child_runtime(2, 0);
  airs_node* node;
  airs_behaviour b;
  airs_pid boss = 0;
  if (!rt) return 2;
  memset(&b, 0, sizeof b);
  b.version = AIRS_BEHAVIOUR_VERSION;
  b.size = sizeof b;
  b.receive = boss_receive;
  airs_spawn(rt, &b, NULL, NULL, NULL, &boss);
  if (!(node = child_attach(rt, url, name))) return 3;
  printf("ready %llu\n", (unsigned long long)boss);
  fflush(stdout);
  child_leave_at_eof(node, rt);
  free(workers);
  return 0;
}

/* ---- node a ---------------------------------------------------------------
 */

static airs_status collector_receive(void* state, airs_ctx* ctx,
                                     const airs_msg* msg) {
  uint64_t type = airs_msg_type(msg);
  (void)state;
  (void)ctx;
  pthread_mutex_lock(&mu);
  if (type == MSG_REPORT && airs_msg_size(msg) == sizeof(report)) {
    report r;
    memcpy(&r, airs_msg_data(msg), sizeof r);
    if (r.kind >= 0 && r.kind < 6) seen.reports[r.kind]++;
    seen.report_sender = r.sender;
  } else if (type == AIRS_MSG_NODE_UP) {
    seen.ups++;
  } else if (type == AIRS_MSG_NODE_DOWN) {
    seen.downs++;
  }
  pthread_mutex_unlock(&mu);
  return AIRS_OK;
}

static void on_dead(void* user_data, airs_pid to, const airs_msg* msg,
                    airs_dead_letter_reason reason) {
  (void)user_data;
  (void)to;
  (void)msg;
  if (reason != AIRS_DEAD_LETTER_NOCONNECTION) return;
  pthread_mutex_lock(&mu);
  seen.dead_noconnection++;
  pthread_mutex_unlock(&mu);
}

static void command2(airs_runtime* rt, airs_pid to, uint32_t op, uint64_t arg,
                     uint64_t arg2) {
  cmd c;
  memset(&c, 0, sizeof c);
  c.op = op;
  c.arg = arg;
  c.arg2 = arg2;
  CHECK_ST(airs_send(rt, to, MSG_CMD, &c, sizeof c), AIRS_OK);
}

static void command(airs_runtime* rt, airs_pid to, uint32_t op, uint64_t arg) {
  command2(rt, to, op, arg, 0);
}

/* Makes `boss` spawn n workers and returns their pids (malloc'd). */
static airs_pid* spawn_there(airs_runtime* rt, airs_pid boss, uint32_t n) {
  airs_msg *m = NULL, *reply = NULL;
  uint32_t range[2] = {0, n}, total = 0;
  airs_pid* pids = calloc(n, sizeof *pids);
  CHECK_ST(airs_msg_new(MSG_SPAWN, &n, 4, &m), AIRS_OK);
  CHECK_ST(airs_call(rt, boss, m, 5000, &reply), AIRS_OK);
  if (reply && airs_msg_size(reply) == 4)
    memcpy(&total, airs_msg_data(reply), 4);
  range[0] = total - n; /* the ones just made */
  airs_msg_free(reply);
  reply = NULL;
  CHECK_ST(airs_msg_new(MSG_PIDS, range, sizeof range, &m), AIRS_OK);
  CHECK_ST(airs_call(rt, boss, m, 5000, &reply), AIRS_OK);
  if (reply && airs_msg_size(reply) == n * sizeof *pids)
    memcpy(pids, airs_msg_data(reply), n * sizeof *pids);
  airs_msg_free(reply);
  return pids;
}

static typeof(seen) snapshot(void) {
  typeof(seen) s;
  pthread_mutex_lock(&mu);
  s = seen;
  pthread_mutex_unlock(&mu);
  return s;
}

typedef struct child {
  node_child n;
  airs_pid boss;
} child;

static child child_start(const char* self, const char* url, const char* name) {
  char* argv[] = {(char*)self, "child", (char*)url, (char*)name, NULL};
  child ch;
  ch.n = node_child_start(argv);
  ch.boss = strncmp(ch.n.line, "ready ", 6) == 0
                ? strtoull(ch.n.line + 6, NULL, 10)
                : 0;
  return ch;
}

/* Real reasons across, both ways; a kill across. */
static void real_reasons(airs_runtime* rt, airs_pid watcher, airs_pid collector,
                         child* b) {
  airs_pid* p = spawn_there(rt, b->boss, 3);
  airs_pid victim = spawn_worker(rt);
  command(rt, watcher, OP_MONITOR, p[0]);
  command(rt, watcher, OP_LINK, p[0]);
  command2(rt, watcher, OP_TELL_EXIT, p[0], 7);
  WAIT_FOR(seen.down[AIRS_EXIT_ERROR] == 1 && seen.exit_[AIRS_EXIT_ERROR] == 1,
           3000);
  CHECK_EQ(snapshot().last_code, 7);

  /* b's worker, trapping, linked to a's victim: killed here, `killed`
   * there (as a report back to the collector). */
  command(rt, p[1], OP_REPORT_TO, collector);
  command(rt, p[1], OP_TRAP, 1);
  command(rt, p[1], OP_LINK, victim);
  WAIT_FOR(seen.commands >= 3, 3000); /* (a's watcher: 2, victim: 0) */
  sleep_ms(100);                      /* the link reaches a */
  CHECK_ST(airs_kill(rt, victim), AIRS_OK);
  WAIT_FOR(seen.reports[AIRS_EXIT_KILLED] == 1, 3000);
  CHECK_EQ(snapshot().report_sender, victim);

  /* A kill from a: untrappable there too. */
  command(rt, watcher, OP_MONITOR, p[1]);
  command(rt, watcher, OP_KILL, p[1]);
  WAIT_FOR(seen.down[AIRS_EXIT_KILLED] == 1, 3000);

  /* A worker of b that has ended: noproc, at once. */
  command(rt, watcher, OP_MONITOR, p[0]);
  WAIT_FOR(seen.down[AIRS_EXIT_NOPROC] == 1, 3000);
  free(p);
}

int main(int argc, char** argv) {
  airs_runtime* rt;
  airs_node* a = NULL;
  airs_behaviour cb;
  airs_pid collector, watcher;
  child b, c;
  char url[64];
  pid_t server;
  int port;

  if (argc == 4 && strcmp(argv[1], "child") == 0)
    return child_main(argv[2], argv[3]);
  signal(SIGPIPE, SIG_IGN);

  port = free_port();
  snprintf(url, sizeof url, "nats://127.0.0.1:%d", port);
  server = server_start(port);
  rt = runtime_new(2);
  CHECK_ST(airs_set_dead_letter_hook(rt, on_dead, NULL), AIRS_OK);
  memset(&cb, 0, sizeof cb);
  cb.version = AIRS_BEHAVIOUR_VERSION;
  cb.size = sizeof cb;
  cb.receive = collector_receive;
  CHECK_ST(airs_spawn(rt, &cb, NULL, NULL, NULL, &collector), AIRS_OK);
  watcher = spawn_worker(rt);
  command(rt, watcher, OP_TRAP, 1);
  a = attach_node(rt, url, "a", NULL);
  if (a == NULL) return CHECK_DONE();
  NODE_ST(airs_node_monitor(a, collector, 1), AIRS_OK);

  b = child_start(argv[0], url, "b");
  CHECK(b.boss != 0);
  WAIT_FOR(seen.ups == 1, 3000);
  real_reasons(rt, watcher, collector, &b);

  /* kill -9 of b: 1,000 monitors and a link, each told once. */
  {
    const uint32_t n = 1000;
    airs_pid* p = spawn_there(rt, b.boss, n);
    typeof(seen) before = snapshot(), after;
    double t0, took;
    uint32_t i;
    command(rt, watcher, OP_LINK, p[0]);
    for (i = 0; i < n; i++) command(rt, watcher, OP_MONITOR, p[i]);
    WAIT_FOR(seen.commands >= before.commands + (int)n + 1, 5000);
    t0 = now_ms();
    kill(b.n.pid, SIGKILL);
    WAIT_FOR(seen.down[AIRS_EXIT_NOCONNECTION] == (int)n &&
                 seen.exit_[AIRS_EXIT_NOCONNECTION] == 1,
             5000);
    took = now_ms() - t0;
    printf("kill -9: %u DOWN noconnection and 1 EXIT in %.0f ms\n", n, took);
    CHECK(took < 1500);
    sleep_ms(500); /* nothing more comes */
    after = snapshot();
    CHECK_EQ(after.down[AIRS_EXIT_NOCONNECTION], n);
    CHECK_EQ(after.exit_[AIRS_EXIT_NOCONNECTION], 1);
    CHECK_EQ(after.duplicates, 0);
    CHECK_EQ(after.downs, 1); /* the node monitor's DOWN */
    node_child_end(&b.n, 0);
    free(p);
  }

  /* SIGSTOP of c, then SIGCONT. */
  {
    typeof(seen) before, after;
    airs_pid keeper = spawn_worker(rt); /* traps; c's worker links to it */
    airs_pid* p;
    int i;
    c = child_start(argv[0], url, "c");
    CHECK(c.boss != 0);
    WAIT_FOR(seen.ups == 2, 3000);
    p = spawn_there(rt, c.boss, 10);
    command(rt, keeper, OP_TRAP, 1);
    command(rt, p[1], OP_REPORT_TO, collector);
    command(rt, p[1], OP_TRAP, 1);
    command(rt, p[1], OP_LINK, keeper);
    before = snapshot();
    command(rt, watcher, OP_LINK, p[0]);
    for (i = 0; i < 10; i++) command(rt, watcher, OP_MONITOR, p[i]);
    WAIT_FOR(seen.commands >= before.commands + 11, 3000);
    sleep_ms(200); /* the link from c's worker reaches a */
    kill(c.n.pid, SIGSTOP);
    WAIT_FOR(seen.down[AIRS_EXIT_NOCONNECTION] ==
                     before.down[AIRS_EXIT_NOCONNECTION] + 10 &&
                 seen.exit_[AIRS_EXIT_NOCONNECTION] ==
                     before.exit_[AIRS_EXIT_NOCONNECTION] + 2 &&
                 seen.downs == 2,
             5000); /* (the keeper's EXIT is the second) */
    for (i = 0; i < 5; i++)
      CHECK_ST(airs_send(rt, p[3], MSG_PING, NULL, 0), AIRS_OK);
    CHECK(snapshot().dead_noconnection >= 5);
    kill(c.n.pid, SIGCONT);
    /* a hears c again (UP); c hears from a that it was declared down, and
     * its worker's link to the keeper breaks there too. */
    WAIT_FOR(seen.ups == 3, 5000);
    WAIT_FOR(seen.reports[AIRS_EXIT_NOCONNECTION] == 1, 5000);
    CHECK_EQ(snapshot().report_sender, keeper);
    /* Links and monitors work again, and nothing came twice. */
    command(rt, watcher, OP_MONITOR, p[5]);
    command2(rt, watcher, OP_TELL_EXIT, p[5], 11);
    WAIT_FOR(seen.down[AIRS_EXIT_ERROR] == before.down[AIRS_EXIT_ERROR] + 1,
             5000);
    after = snapshot();
    CHECK_EQ(after.down[AIRS_EXIT_NOCONNECTION],
             before.down[AIRS_EXIT_NOCONNECTION] + 10);
    CHECK_EQ(after.duplicates, 0);
    node_child_end(&c.n, 0);
    free(p);
  }

  airs_node_detach(a);
  airs_runtime_free(rt);
  reap(server, SIGTERM);
  return CHECK_DONE();
}
