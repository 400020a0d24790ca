/*
 * airs-bench - the shared workloads of ../shared/BENCH.md on airssys-rt,
 * written against the public C API only. Prints one JSON line per run.
 *
 *   airs-bench [--workers N] WORKLOAD [ARGS...]
 *   spawn N | pingpong M | fanin P K | ring N M | pubsub S M |
 *   restart N | idle [SECONDS]
 *
 * AIRS_BUDGET=N in the environment sets AIRS_CFG_BUDGET (for experiments).
 *
 * Every counted message goes through a real mailbox and the scheduler.
 * Completion is observed with airs_wait() on an actor that ends when the
 * workload is done, so the main thread never spins.
 */
#define _DEFAULT_SOURCE /* clock_gettime, usleep */
#include <airs/airs.h>

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static int workers = 2;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static long rss_bytes(void) {
  long pages = 0, resident = 0;
  FILE* f = fopen("/proc/self/statm", "r");
  if (!f) return 0;
  if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
  fclose(f);
  return resident * sysconf(_SC_PAGESIZE);
}

static void report(const char* workload, const char* params, double ops,
                   double secs, const char* extra) {
  printf(
      "{\"impl\":\"airs\",\"workload\":\"%s\",\"params\":{%s},\"ops\":%.0f,"
      "\"seconds\":%.6f,\"ops_per_s\":%.1f,\"ns_per_op\":%.2f,"
      "\"workers\":%d%s}\n",
      workload, params, ops, secs, ops / secs, secs * 1e9 / ops, workers,
      extra ? extra : "");
  fflush(stdout);
}

static void die(const char* what, airs_status st) {
  fprintf(stderr, "airs-bench: %s: %s (%s)\n", what, airs_strerror(st),
          airs_last_error_message());
  exit(1);
}

#define CHECK(call)                      \
  do {                                   \
    airs_status st_ = (call);            \
    if (st_ != AIRS_OK) die(#call, st_); \
  } while (0)

static airs_runtime* runtime_new(void) {
  airs_config* cfg;
  airs_runtime* rt;
  CHECK(airs_config_new(&cfg));
  CHECK(airs_config_set(cfg, AIRS_CFG_WORKERS, workers));
  if (getenv("AIRS_BUDGET"))
    CHECK(airs_config_set(cfg, AIRS_CFG_BUDGET, atol(getenv("AIRS_BUDGET"))));
  CHECK(airs_runtime_new(cfg, &rt));
  airs_config_free(cfg);
  return rt;
}

static airs_pid spawn(airs_runtime* rt,
                      airs_status (*receive)(void*, airs_ctx*, const airs_msg*),
                      void (*terminate)(void*, airs_ctx*, const airs_reason*),
                      void* state) {
  airs_behaviour b = {
      AIRS_BEHAVIOUR_VERSION, sizeof b, NULL, receive, terminate, NULL};
  airs_pid pid;
  CHECK(airs_spawn(rt, &b, state, NULL, NULL, &pid));
  return pid;
}

static void wait_for(airs_runtime* rt, airs_pid pid) {
  CHECK(airs_wait(rt, pid, 600000));
}

/* An actor that ends on its first message: the workload's finish line. */
static airs_status finish_receive(void* s, airs_ctx* ctx, const airs_msg* m) {
  (void)s;
  (void)m;
  return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
}

static int64_t read_i64(const airs_msg* m) {
  int64_t v;
  memcpy(&v, airs_msg_data(m), sizeof v);
  return v;
}

/* ---- spawn N: N idle actors; then each gets one message and stops. */

typedef struct spawn_shared {
  atomic_long remaining;
  airs_pid finish;
} spawn_shared;

static airs_status stop_receive(void* s, airs_ctx* ctx, const airs_msg* m) {
  (void)s;
  (void)m;
  return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
}

static void stop_terminate(void* s, airs_ctx* ctx, const airs_reason* r) {
  (void)r;
  spawn_shared* sh = s;
  if (atomic_fetch_sub(&sh->remaining, 1) == 1)
    airs_ctx_send(ctx, sh->finish, 1, NULL, 0);
}

static void run_spawn(long n) {
  airs_runtime* rt = runtime_new();
  spawn_shared sh;
  atomic_init(&sh.remaining, n);
  sh.finish = spawn(rt, finish_receive, NULL, NULL);
  airs_pid* pids = malloc(sizeof *pids * (size_t)n);
  airs_behaviour b = {AIRS_BEHAVIOUR_VERSION, sizeof b,       NULL,
                      stop_receive,           stop_terminate, NULL};
  long before = rss_bytes();
  double t0 = now_s();
  for (long i = 0; i < n; i++)
    CHECK(airs_spawn(rt, &b, &sh, NULL, NULL, &pids[i]));
  double spawn_s = now_s() - t0;
  long after = rss_bytes();
  for (long i = 0; i < n; i++) CHECK(airs_send(rt, pids[i], 1, NULL, 0));
  wait_for(rt, sh.finish);
  double secs = now_s() - t0;
  char params[64], extra[128];
  snprintf(params, sizeof params, "\"n\":%ld", n);
  snprintf(extra, sizeof extra, ",\"spawn_ns\":%.1f,\"bytes_per_actor\":%.1f",
           spawn_s * 1e9 / (double)n, (double)(after - before) / (double)n);
  report("spawn", params, (double)n, secs, extra);
  free(pids);
  airs_runtime_free(rt);
}

/* ---- pingpong M: two actors send a counter back and forth M round trips */

typedef struct pinger {
  int64_t rounds;
  airs_pid pong;
} pinger;

static airs_status pong_receive(void* s, airs_ctx* ctx, const airs_msg* m) {
  (void)s;
  int64_t n = read_i64(m);
  return airs_ctx_send(ctx, airs_msg_sender(m), 1, &n, sizeof n);
}

static airs_status ping_receive(void* s, airs_ctx* ctx, const airs_msg* m) {
  pinger* p = s;
  int64_t n = read_i64(m) + 1;
  if (n >= p->rounds) return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
  return airs_ctx_send(ctx, p->pong, 1, &n, sizeof n);
}

static void run_pingpong(long m) {
  airs_runtime* rt = runtime_new();
  pinger p = {m, 0};
  double t0 = now_s();
  p.pong = spawn(rt, pong_receive, NULL, NULL);
  airs_pid ping = spawn(rt, ping_receive, NULL, &p);
  /* The first ball: sent to pong as if from ping. */
  int64_t zero = -1;
  airs_msg* msg;
  CHECK(airs_msg_new(1, &zero, sizeof zero, &msg));
  CHECK(airs_send_msg(rt, ping, msg));
  wait_for(rt, ping);
  double secs = now_s() - t0;
  char params[64];
  snprintf(params, sizeof params, "\"m\":%ld", m);
  report("pingpong", params, 2.0 * (double)m, secs, NULL);
  airs_runtime_free(rt);
}

/* ---- fanin P K: P senders x K messages into one receiver */

/* Each on a cache line of its own: the sink writes its count on every
 * message while the senders read theirs, and they live side by side on
 * run_fanin's stack. */
typedef struct sink {
  _Alignas(64) int64_t count;
  int64_t total;
} sink;

typedef struct sender {
  _Alignas(64) airs_pid to;
  int64_t k;
} sender;

static airs_status sink_receive(void* s, airs_ctx* ctx, const airs_msg* m) {
  (void)m;
  sink* k = s;
  if (++k->count == k->total) return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
  return AIRS_OK;
}

static airs_status sender_receive(void* s, airs_ctx* ctx, const airs_msg* m) {
  (void)m;
  sender* snd = s;
  for (int64_t j = 0; j < snd->k; j++) {
    airs_status st = airs_ctx_send(ctx, snd->to, 1, &j, sizeof j);
    if (st != AIRS_OK) return st;
  }
  return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
}

static void run_fanin(long p, long k) {
  airs_runtime* rt = runtime_new();
  sink sk = {0, (int64_t)p * k};
  sender snd;
  double t0 = now_s();
  snd.to = spawn(rt, sink_receive, NULL, &sk);
  snd.k = k;
  for (long i = 0; i < p; i++) {
    airs_pid s = spawn(rt, sender_receive, NULL, &snd);
    CHECK(airs_send(rt, s, 1, NULL, 0));
  }
  wait_for(rt, snd.to);
  double secs = now_s() - t0;
  char params[64];
  snprintf(params, sizeof params, "\"p\":%ld,\"k\":%ld", p, k);
  report("fanin", params, (double)p * (double)k, secs, NULL);
  airs_runtime_free(rt);
}

/* ---- ring N M: N actors in a ring pass one token M hops */

typedef struct ring_node {
  airs_pid next;
  airs_pid finish;
} ring_node;

static airs_status ring_receive(void* s, airs_ctx* ctx, const airs_msg* m) {
  ring_node* node = s;
  int64_t hops = read_i64(m);
  if (hops == 0) return airs_ctx_send(ctx, node->finish, 1, NULL, 0);
  hops--;
  return airs_ctx_send(ctx, node->next, 1, &hops, sizeof hops);
}

static void run_ring(long n, long m) {
  airs_runtime* rt = runtime_new();
  ring_node* nodes = calloc((size_t)n, sizeof *nodes);
  airs_pid* pids = malloc(sizeof *pids * (size_t)n);
  airs_pid finish = spawn(rt, finish_receive, NULL, NULL);
  for (long i = 0; i < n; i++) {
    nodes[i].finish = finish;
    pids[i] = spawn(rt, ring_receive, NULL, &nodes[i]);
  }
  /* Each node reads only its own `next`, written before the token moves. */
  for (long i = 0; i < n; i++) nodes[i].next = pids[(i + 1) % n];
  int64_t hops = m;
  double t0 = now_s();
  CHECK(airs_send(rt, pids[0], 1, &hops, sizeof hops));
  wait_for(rt, finish);
  double secs = now_s() - t0;
  char params[64];
  snprintf(params, sizeof params, "\"n\":%ld,\"m\":%ld", n, m);
  report("ring", params, (double)m, secs, NULL);
  airs_runtime_free(rt);
  free(pids);
  free(nodes);
}

/* ---- pubsub S M: S subscribers of one topic; one publisher actor
 * publishes M messages (a fresh shared payload each) from inside its
 * callback; timed until every subscriber has all M. */

typedef struct subscriber {
  int64_t count;
  int64_t total;
  airs_pid finish;
} subscriber;

typedef struct tally {
  int64_t left; /* subscribers not done yet */
} tally;

typedef struct publisher {
  int64_t m;
} publisher;

static airs_status subscriber_receive(void* s, airs_ctx* ctx,
                                      const airs_msg* m) {
  (void)m;
  subscriber* sub = s;
  if (++sub->count == sub->total)
    return airs_ctx_send(ctx, sub->finish, 1, NULL, 0);
  return AIRS_OK;
}

static airs_status tally_receive(void* s, airs_ctx* ctx, const airs_msg* m) {
  (void)m;
  tally* t = s;
  if (--t->left == 0) return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
  return AIRS_OK;
}

static airs_status publisher_receive(void* s, airs_ctx* ctx,
                                     const airs_msg* m) {
  (void)m;
  publisher* p = s;
  airs_runtime* rt = airs_ctx_runtime(ctx);
  for (int64_t j = 0; j < p->m; j++) {
    airs_payload* payload;
    airs_status st = airs_payload_new(&j, sizeof j, &payload);
    if (st != AIRS_OK) return st;
    st = airs_publish(rt, "bench", 1, payload, NULL);
    airs_payload_release(payload);
    if (st != AIRS_OK) return st;
  }
  return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
}

static void run_pubsub(long s, long m) {
  airs_runtime* rt = runtime_new();
  tally t = {s};
  airs_pid finish = spawn(rt, tally_receive, NULL, &t);
  subscriber* subs = calloc((size_t)s, sizeof *subs);
  for (long i = 0; i < s; i++) {
    subs[i].total = m;
    subs[i].finish = finish;
    CHECK(airs_subscribe(rt, "bench",
                         spawn(rt, subscriber_receive, NULL, &subs[i])));
  }
  publisher p = {m};
  airs_pid pub = spawn(rt, publisher_receive, NULL, &p);
  double t0 = now_s();
  CHECK(airs_send(rt, pub, 1, NULL, 0));
  wait_for(rt, finish);
  double secs = now_s() - t0;
  char params[64];
  snprintf(params, sizeof params, "\"s\":%ld,\"m\":%ld", s, m);
  report("pubsub", params, (double)s * (double)m, secs, NULL);
  airs_runtime_free(rt);
  free(subs);
}

/* ---- restart N: a one_for_one supervisor restarts a child that crashes on
 * request, N times; each cycle waits until the new child has started. */

typedef struct restart_driver {
  long cycles; /* crashes still to ask for */
  airs_pid finish;
} restart_driver;

enum { MSG_STARTED = 1, MSG_CRASH = 2 };

/* The child: tells the driver it started, crashes when asked. */
static airs_status crasher_init(void* driver, airs_ctx* ctx, void** state) {
  airs_pid self = airs_self(ctx);
  *state = driver;
  return airs_ctx_send(ctx, *(airs_pid*)driver, MSG_STARTED, &self,
                       sizeof self);
}

static airs_status crasher_receive(void* s, airs_ctx* ctx, const airs_msg* m) {
  (void)s;
  (void)ctx;
  (void)m;
  return AIRS_EINTERNAL; /* a crash: the supervisor restarts the child */
}

static airs_status driver_receive(void* s, airs_ctx* ctx, const airs_msg* m) {
  restart_driver* d = s;
  if (d->cycles-- == 0) return airs_ctx_send(ctx, d->finish, 1, NULL, 0);
  return airs_ctx_send(ctx, (airs_pid)read_i64(m), MSG_CRASH, NULL, 0);
}

static void run_restart(long n) {
  airs_runtime* rt = runtime_new();
  restart_driver d = {n, spawn(rt, finish_receive, NULL, NULL)};
  airs_pid driver = spawn(rt, driver_receive, NULL, &d);

  airs_sup_flags flags;
  CHECK(airs_sup_flags_init(&flags));
  flags.strategy = AIRS_ONE_FOR_ONE;
  flags.intensity = (uint32_t)n + 10; /* as the Erlang peer: never give up */
  flags.period_ms = 1000;
  airs_behaviour b = {AIRS_BEHAVIOUR_VERSION, sizeof b, crasher_init,
                      crasher_receive,        NULL,     NULL};
  airs_child_spec child;
  CHECK(airs_child_spec_init(&child));
  child.id = "worker";
  child.behaviour = &b;
  child.user_data = &driver;
  child.shutdown = AIRS_SHUTDOWN_BRUTAL_KILL;
  airs_sup_spec* spec;
  CHECK(airs_sup_spec_new(&flags, &spec));
  CHECK(airs_sup_spec_add_child(spec, &child));

  airs_pid sup;
  /* The first start is set-up, as for the peers: the clock starts after. */
  CHECK(airs_supervisor_start(rt, spec, &sup));
  double t0 = now_s();
  wait_for(rt, d.finish);
  double secs = now_s() - t0;
  char params[32];
  snprintf(params, sizeof params, "\"n\":%ld", n);
  report("restart", params, (double)n, secs, NULL);
  airs_sup_spec_free(spec);
  airs_runtime_free(rt);
}

/* ---- idle [SECONDS]: CPU used by a runtime with nothing to do */

static double cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

static void run_idle(double seconds) {
  airs_runtime* rt = runtime_new();
  usleep(100000); /* let the workers park */
  double c0 = cpu_s(), t0 = now_s();
  usleep((useconds_t)(seconds * 1e6));
  double secs = now_s() - t0, cpu = cpu_s() - c0;
  char params[64], extra[64];
  snprintf(params, sizeof params, "\"seconds\":%.1f", seconds);
  snprintf(extra, sizeof extra, ",\"cpu_percent\":%.3f", 100.0 * cpu / secs);
  report("idle", params, 1, secs, extra);
  airs_runtime_free(rt);
}

static long arg(int argc, char** argv, int i, long dflt) {
  return i < argc ? atol(argv[i]) : dflt;
}

int main(int argc, char** argv) {
  int i = 1;
  if (i + 1 < argc && strcmp(argv[i], "--workers") == 0) {
    workers = atoi(argv[i + 1]);
    i += 2;
  }
  if (i >= argc) {
    fprintf(stderr,
            "usage: airs-bench [--workers N] WORKLOAD [ARGS...]\n"
            "  spawn N | pingpong M | fanin P K | ring N M | pubsub S M |\n"
            "  restart N | idle [SECONDS]\n");
    return 2;
  }
  const char* w = argv[i++];
  if (strcmp(w, "spawn") == 0)
    run_spawn(arg(argc, argv, i, 1000000));
  else if (strcmp(w, "pingpong") == 0)
    run_pingpong(arg(argc, argv, i, 1000000));
  else if (strcmp(w, "fanin") == 0)
    run_fanin(arg(argc, argv, i, 100), arg(argc, argv, i + 1, 100000));
  else if (strcmp(w, "ring") == 0)
    run_ring(arg(argc, argv, i, 1000), arg(argc, argv, i + 1, 1000000));
  else if (strcmp(w, "pubsub") == 0)
    run_pubsub(arg(argc, argv, i, 100), arg(argc, argv, i + 1, 100000));
  else if (strcmp(w, "restart") == 0)
    run_restart(arg(argc, argv, i, 100000));
  else if (strcmp(w, "idle") == 0)
    run_idle(i < argc ? atof(argv[i]) : 2.0);
  else {
    fprintf(stderr, "airs-bench: unknown workload '%s'\n", w);
    return 2;
  }
  return 0;
}
