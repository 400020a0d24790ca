/*
 * airs-bench - the workloads of bench/compare (README.md, Performance) on
 * airssys-rt, written against the public C API only. Prints one JSON line
 * per run.
 *
 *   airs-bench [--workers N] WORKLOAD [ARGS...]
 *   spawn N | pingpong M | fanin P K | ring N M | pubsub S M |
 *   restart N | idle [SECONDS] |
 *   starve [ACTORS [TOKENS [SAMPLES [ring|random]]]] |
 *   echo [N] | echo_many [C [M]] | blocking [SLOW [READS]] |
 *   file_read [N] | spawn_process [N] | spawn_process_big [N] |
 *   observe [N] | pingpong_timed M
 *
 * echo, echo_many: TCP round trips of 64 bytes over 127.0.0.1 between
 * socket-owning processes (as bench/peers/epoll_echo.c and echo_bench.erl;
 * bench/compare_net runs all three). blocking: the p99 of 4 KiB file reads
 * through the blocking pool, alone and with SLOW stuck slow jobs.
 * pingpong_timed: pingpong with both processes timed by name
 * (airs_timing_track), to show what timing costs per message.
 * file_read: the latency of 4 KiB file reads through the fs actor
 * (fs.h), request to reply. spawn_process, spawn_process_big: /bin/true
 * through the OS process actor (proc.h), from request to exit message,
 * from a small and from a 4 GiB parent. observe: the time to list N
 * processes (observe.h), read each one's info, and rank a top 10. Their
 * arguments are checked (a
 * count of 0, or not a number, exits with 2); --workers 0 runs them
 * host-driven, main polling on airs_runtime_fd.
 *
 * AIRS_BUDGET=N in the environment sets AIRS_CFG_BUDGET (for experiments).
 * AIRS_STARVE_TIMEOUT_MS=N sets starve's sample timeout (default 2000).
 *
 * Every counted message goes through a real mailbox and the scheduler.
 * Completion is observed with airs_wait() on an actor that ends when the
 * workload is done, so the main thread never spins.
 */
#define _DEFAULT_SOURCE /* clock_gettime, usleep, mkdtemp */
#include <airs/airs.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
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
  /* restart crashes its children on purpose: no line each on stderr. */
  CHECK(airs_config_set(cfg, AIRS_CFG_CRASH_REPORTS, 0));
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
      AIRS_BEHAVIOUR_VERSION, sizeof b, NULL, receive, terminate, NULL, NULL};
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
  if (!pids) die("malloc of the pids", AIRS_ENOMEM);
  /* The harness's own pid array is touched before the first reading:
   * bytes_per_actor is what the runtime holds per actor, not this. (Not
   * with zeros: malloc and a memset of 0 become a calloc, which touches
   * nothing.) */
  memset(pids, 0xff, sizeof *pids * (size_t)n);
  airs_behaviour b = {AIRS_BEHAVIOUR_VERSION, sizeof b, NULL, stop_receive,
                      stop_terminate,         NULL,     NULL};
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

/* ---- observe N: N idle actors; the time to list them all
 * (airs_process_list, pages of 4096), the time to read each one's info,
 * and the time of a top 10 by mailbox (observe.h). The spawns are not
 * timed. ns_per_op is the listing's time per process. */

static void run_observe(long n) {
  airs_runtime* rt = runtime_new();
  spawn_shared sh;
  atomic_init(&sh.remaining, n);
  sh.finish = spawn(rt, finish_receive, NULL, NULL);
  airs_behaviour b = {AIRS_BEHAVIOUR_VERSION, sizeof b, NULL, stop_receive,
                      stop_terminate,         NULL,     NULL};
  /* Room for a whole last page past the n actors and the finish line. */
  size_t room = (size_t)n + 1 + 4096;
  airs_pid* pids = malloc(sizeof *pids * room);
  if (!pids) die("malloc of the pids", AIRS_ENOMEM);
  for (long i = 0; i < n; i++)
    CHECK(airs_spawn(rt, &b, &sh, NULL, NULL, &pids[i]));
  /* The listing, best of 5 (the first touches every record). */
  double list_s = 1e9;
  size_t listed = 0;
  for (int rep = 0; rep < 5; rep++) {
    uint64_t cursor = 0, next = 0;
    size_t total = 0, count = 0;
    double t0 = now_s();
    do {
      CHECK(airs_process_list(rt, cursor, pids + total, 4096, &count, &next));
      total += count;
      cursor = next;
    } while (next != 0 && total + 4096 <= room);
    double t = now_s() - t0;
    if (t < list_s) list_s = t;
    listed = total;
  }
  double t0 = now_s();
  for (size_t i = 0; i < listed; i++) {
    airs_process_info info;
    memset(&info, 0, sizeof info);
    info.version = AIRS_PROCESS_INFO_VERSION;
    info.size = sizeof info;
    CHECK(airs_process_info_get(rt, pids[i], &info));
  }
  double info_s = now_s() - t0;
  airs_top_entry top[10];
  size_t found = 0;
  t0 = now_s();
  CHECK(airs_process_top(rt, AIRS_TOP_MAILBOX, 0, top, 10, &found));
  double top_s = now_s() - t0;
  for (size_t i = 0; i < listed; i++)
    if (pids[i] != sh.finish) airs_send(rt, pids[i], 1, NULL, 0);
  wait_for(rt, sh.finish);
  char params[64], extra[160];
  snprintf(params, sizeof params, "\"n\":%ld", n);
  snprintf(extra, sizeof extra,
           ",\"listed\":%zu,\"list_ms\":%.3f,\"info_ns\":%.1f,"
           "\"top_ms\":%.3f",
           listed, list_s * 1e3, info_s * 1e9 / (double)listed, top_s * 1e3);
  report("observe", params, (double)listed, list_s, extra);
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

/* `timed`: both are timed by name (airs_timing_track), which the
 * "pingpong_timed" workload sets to show what that costs per message. */
static void run_pingpong(long m, int timed) {
  airs_runtime* rt = runtime_new();
  pinger p = {m, 0};
  if (timed) CHECK(airs_timing_track(rt, "bench.*"));
  double t0 = now_s();
  p.pong = spawn(rt, pong_receive, NULL, NULL);
  airs_pid ping = spawn(rt, ping_receive, NULL, &p);
  if (timed) {
    CHECK(airs_register(rt, "bench.pong", p.pong));
    CHECK(airs_register(rt, "bench.ping", ping));
  }
  /* The first ball: sent to pong as if from ping. */
  int64_t zero = -1;
  airs_msg* msg;
  CHECK(airs_msg_new(1, &zero, sizeof zero, &msg));
  CHECK(airs_send_msg(rt, ping, msg));
  wait_for(rt, ping);
  double secs = now_s() - t0;
  char params[64];
  snprintf(params, sizeof params, "\"m\":%ld", m);
  char extra[160] = "";
  if (timed) {
    airs_timing t;
    memset(&t, 0, sizeof t);
    t.version = AIRS_TIMING_VERSION;
    t.size = sizeof t;
    CHECK(airs_timing_get(rt, "bench.pong", &t));
    snprintf(extra, sizeof extra,
             ",\"pong_waits\":%" PRIu64
             ",\"pong_wait_mean_ns\":%.1f,"
             "\"pong_run_mean_ns\":%.1f",
             t.wait.count,
             t.wait.count ? (double)t.wait.sum_ns / (double)t.wait.count : 0.0,
             t.run.count ? (double)t.run.sum_ns / (double)t.run.count : 0.0);
  }
  report(timed ? "pingpong_timed" : "pingpong", params, 2.0 * (double)m, secs,
         timed ? extra : NULL);
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
  airs_behaviour b = {AIRS_BEHAVIOUR_VERSION,
                      sizeof b,
                      crasher_init,
                      crasher_receive,
                      NULL,
                      NULL,
                      NULL};
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

/* ---- starve [ACTORS [TOKENS [SAMPLES [ring|random]]]]: how long work from
 * outside the workers waits while the workers are busy (issue 20, item 8).
 *
 * Background load: ACTORS actors forward TOKENS tokens for the whole run,
 * each actor every token it gets, at once, to the next actor (ring, the
 * default) or to a pseudo-random other one (random). No spin, no sleep:
 * the workers never run dry. The tokens start spread evenly; in a ring
 * they bunch up (an actor handles all the tokens in its mailbox in one
 * turn and passes them on together), with random they stay apart and
 * about TOKENS actors are runnable, more than a worker's local ring
 * holds. "busy_actors" counts the actors holding a token at the end.
 * Both shapes starve work from outside differently, so a fix is checked
 * against both. While the load runs, main takes SAMPLES samples of each of
 * three latencies, one at a time, interleaved, with a pause of a few ms
 * between them:
 *   send:  main's airs_send to a probe actor until its receive runs (the
 *          probe stamps the time; main's own wake-up is not counted);
 *   timer: main arms a 10 ms airs_send_after to the probe; lateness is
 *          when its receive runs, minus the arming time, minus 10 ms;
 *   kill:  airs_supervisor_terminate_child of a child that traps exits and
 *          ignores shutdown, with a 100 ms shutdown timeout, so the
 *          supervisor must kill it; lateness is the call's time beyond
 *          100 ms. restart_child then puts the child back.
 * Keys: send_us_*, timer_late_us_*, kill_late_us_* (p50, p99, max, in
 * microseconds; nearest rank), *_samples and *_timeouts of each, and
 * "timeouts" in all. A sample that takes longer than "timeout_ms"
 * (beyond its nominal 10 / 100 ms) counts as that timeout. Sampling stops
 * after STARVE_RUN_S seconds even if SAMPLES are not all taken, and a kill
 * sample is skipped while the last one is still stuck ("*_samples" says
 * how many were taken). ops = tokens forwarded while sampling, so
 * ops_per_s is the load's throughput. */

enum {
  STARVE_TIMEOUT_MS = 2000, /* per sample, beyond its nominal 10/100 ms */
  STARVE_TIMER_MS = 10,
  STARVE_SHUTDOWN_MS = 100,
  STARVE_RUN_S = 30, /* longest sampling phase */
  STARVE_WARMUP_MS = 500,
  MSG_PROBE = 1
};

typedef struct starve_load {
  const airs_pid* pids;
  long n;
  int random;      /* 1: to a pseudo-random other actor; 0: to the next one */
  atomic_int stop; /* set at the end: tokens are dropped, the load drains */
} starve_load;

/* One per actor, each on its own cache line: `hops` is written by the
 * worker running the actor and summed by main. */
typedef struct starve_node {
  _Alignas(64) starve_load* load;
  long index;
  uint64_t rng;
  atomic_llong hops;
} starve_node;

static airs_status token_receive(void* s, airs_ctx* ctx, const airs_msg* m) {
  (void)m;
  starve_node* node = s;
  starve_load* load = node->load;
  if (atomic_load_explicit(&load->stop, memory_order_relaxed)) return AIRS_OK;
  long to = node->index + 1;
  if (load->random) {
    /* xorshift64: the actor's own generator, no shared state. */
    uint64_t x = node->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    node->rng = x;
    to += (long)(x % (uint64_t)(load->n - 1));
  }
  to %= load->n;
  /* A single writer: a relaxed load + store, no locked instruction. */
  atomic_store_explicit(
      &node->hops, atomic_load_explicit(&node->hops, memory_order_relaxed) + 1,
      memory_order_relaxed);
  /* A failed send (the target already stopped by airs_runtime_free) only
   * loses a token: not a reason to end this actor. */
  airs_ctx_send(ctx, load->pids[to], 1, NULL, 0);
  return AIRS_OK;
}

/* Where a sample's end is reported to main: by the probe actor (send,
 * timer) or by the kill thread. Only the newest sequence number is kept,
 * so a late answer to a timed-out sample cannot pass for the current one. */
typedef struct starve_box {
  pthread_mutex_t mu;
  pthread_cond_t cv; /* on CLOCK_MONOTONIC */
  int64_t seq;
  double value; /* the probe's receive time, or the kill's duration */
  /* The kill thread's side. */
  int64_t kill_req; /* the sample it is asked for (0: none) */
  int kill_busy;
  int quit;
} starve_box;

static void box_post(starve_box* b, int64_t seq, double value) {
  pthread_mutex_lock(&b->mu);
  if (seq > b->seq) {
    b->seq = seq;
    b->value = value;
  }
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
}

static struct timespec deadline_after(double seconds) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  double t = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9 + seconds;
  ts.tv_sec = (time_t)t;
  ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
  return ts;
}

/* Waits up to `seconds` for sample `seq`; 1 with its value, 0 on timeout. */
static int box_wait(starve_box* b, int64_t seq, double seconds, double* value) {
  struct timespec until = deadline_after(seconds);
  int got = 0;
  pthread_mutex_lock(&b->mu);
  while (b->seq < seq && pthread_cond_timedwait(&b->cv, &b->mu, &until) == 0) {
  }
  if (b->seq == seq) {
    *value = b->value;
    got = 1;
  }
  pthread_mutex_unlock(&b->mu);
  return got;
}

static airs_status probe_receive(void* s, airs_ctx* ctx, const airs_msg* m) {
  (void)ctx;
  double t = now_s();
  if (airs_msg_type(m) == MSG_PROBE) box_post(s, read_i64(m), t);
  return AIRS_OK;
}

/* The child under test: traps exits and ignores every message, the
 * shutdown exit signal included, so only the supervisor's kill ends it. */
static airs_status stubborn_init(void* u, airs_ctx* ctx, void** state) {
  *state = u;
  return airs_trap_exit(ctx, true);
}

static airs_status stubborn_receive(void* s, airs_ctx* ctx, const airs_msg* m) {
  (void)s;
  (void)ctx;
  (void)m;
  return AIRS_OK;
}

typedef struct starve_killer {
  airs_runtime* rt;
  airs_pid sup;
  starve_box* box;
} starve_killer;

/* terminate_child has no timeout, and under the unfixed scheduler it has
 * taken 84 s: it runs on this thread so that main can give up waiting. */
static void* killer_main(void* arg) {
  starve_killer* k = arg;
  starve_box* b = k->box;
  pthread_mutex_lock(&b->mu);
  for (;;) {
    while (!b->kill_req && !b->quit) pthread_cond_wait(&b->cv, &b->mu);
    if (b->quit) break;
    int64_t seq = b->kill_req;
    b->kill_req = 0;
    b->kill_busy = 1;
    pthread_mutex_unlock(&b->mu);
    double t0 = now_s();
    CHECK(airs_supervisor_terminate_child(k->rt, k->sup, "stubborn"));
    box_post(b, seq, now_s() - t0);
    CHECK(airs_supervisor_restart_child(k->rt, k->sup, "stubborn", NULL));
    pthread_mutex_lock(&b->mu);
    b->kill_busy = 0;
    pthread_cond_broadcast(&b->cv);
  }
  pthread_mutex_unlock(&b->mu);
  return NULL;
}

/* Waits up to `seconds` for the kill thread to be idle (no request taken
 * or waiting); 1 if it is. */
static int killer_idle(starve_box* b, double seconds) {
  struct timespec until = deadline_after(seconds);
  pthread_mutex_lock(&b->mu);
  while ((b->kill_busy || b->kill_req) &&
         pthread_cond_timedwait(&b->cv, &b->mu, &until) == 0) {
  }
  int idle = !b->kill_busy && !b->kill_req;
  pthread_mutex_unlock(&b->mu);
  return idle;
}

typedef struct starve_samples {
  double* us;
  long n;
  long timeouts;
} starve_samples;

static void sample_add(starve_samples* s, double us, int timed_out) {
  s->us[s->n++] = us;
  s->timeouts += timed_out;
}

static int cmp_double(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

/* Nearest rank: the smallest sample with at least p of them at or below. */
static double percentile(const starve_samples* s, double p) {
  if (s->n == 0) return 0;
  long rank = (long)(p * (double)s->n);
  if ((double)rank < p * (double)s->n) rank++;
  return s->us[rank < 1 ? 0 : rank - 1];
}

static int format_samples(char* out, size_t size, const char* key,
                          starve_samples* s) {
  qsort(s->us, (size_t)s->n, sizeof *s->us, cmp_double);
  return snprintf(out, size,
                  ",\"%s_us_p50\":%.1f,\"%s_us_p99\":%.1f,\"%s_us_max\":%.1f,"
                  "\"%s_samples\":%ld,\"%s_timeouts\":%ld",
                  key, percentile(s, 0.5), key, percentile(s, 0.99), key,
                  s->n ? s->us[s->n - 1] : 0.0, key, s->n, key, s->timeouts);
}

/* A pause of 3-6 ms between samples: each one measures a latency, not a
 * queue of samples, and the jitter keeps them from falling in step with
 * anything periodic in the runtime. */
static void starve_pause(void) {
  usleep((useconds_t)(3000 + rand() % 3000));
}

static void run_starve(long actors, long tokens, long samples,
                       const char* pattern) {
  int random = strcmp(pattern, "random") == 0;
  if (actors < 2 || tokens < 1 || samples < 1 ||
      (!random && strcmp(pattern, "ring") != 0)) {
    fprintf(stderr,
            "airs-bench: starve needs ACTORS >= 2, TOKENS >= 1, "
            "SAMPLES >= 1, PATTERN ring or random\n");
    exit(2);
  }
  airs_runtime* rt = runtime_new();
  starve_box box;
  memset(&box, 0, sizeof box);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&box.cv, &ca);
  pthread_condattr_destroy(&ca);
  pthread_mutex_init(&box.mu, NULL);

  /* The load. */
  starve_load load;
  airs_pid* pids = malloc(sizeof *pids * (size_t)actors);
  starve_node* nodes =
      aligned_alloc(64, sizeof *nodes * (size_t)actors); /* 64 | sizeof */
  load.pids = pids;
  load.n = actors;
  load.random = random;
  atomic_init(&load.stop, 0);
  for (long i = 0; i < actors; i++) {
    nodes[i].load = &load;
    nodes[i].index = i;
    nodes[i].rng = 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1);
    atomic_init(&nodes[i].hops, 0);
    pids[i] = spawn(rt, token_receive, NULL, &nodes[i]);
  }

  /* The probes. */
  airs_pid probe = spawn(rt, probe_receive, NULL, &box);
  airs_sup_flags flags;
  CHECK(airs_sup_flags_init(&flags));
  flags.strategy = AIRS_ONE_FOR_ONE;
  airs_behaviour sb = {AIRS_BEHAVIOUR_VERSION,
                       sizeof sb,
                       stubborn_init,
                       stubborn_receive,
                       NULL,
                       NULL,
                       NULL};
  airs_child_spec child;
  CHECK(airs_child_spec_init(&child));
  child.id = "stubborn";
  child.behaviour = &sb;
  child.shutdown = AIRS_SHUTDOWN_TIMEOUT;
  child.shutdown_ms = STARVE_SHUTDOWN_MS;
  airs_sup_spec* spec;
  CHECK(airs_sup_spec_new(&flags, &spec));
  CHECK(airs_sup_spec_add_child(spec, &child));
  starve_killer killer = {rt, 0, &box};
  CHECK(airs_supervisor_start(rt, spec, &killer.sup));
  pthread_t killer_thread;
  if (pthread_create(&killer_thread, NULL, killer_main, &killer) != 0) {
    fprintf(stderr, "airs-bench: pthread_create failed\n");
    exit(1);
  }

  /* Tokens spread evenly over the actors, then time to reach a steady
   * state before the first sample. */
  for (long k = 0; k < tokens; k++)
    CHECK(airs_send(rt, pids[k * actors / tokens], 1, NULL, 0));
  usleep(STARVE_WARMUP_MS * 1000);

  starve_samples send = {calloc((size_t)samples, sizeof(double)), 0, 0};
  starve_samples timer = {calloc((size_t)samples, sizeof(double)), 0, 0};
  starve_samples kill = {calloc((size_t)samples, sizeof(double)), 0, 0};
  /* Longer than the default to see how long the unfixed runtime really
   * starves a sample (the run is then longer too). */
  long timeout_ms = STARVE_TIMEOUT_MS;
  if (getenv("AIRS_STARVE_TIMEOUT_MS"))
    timeout_ms = atol(getenv("AIRS_STARVE_TIMEOUT_MS"));
  if (timeout_ms < 1) timeout_ms = STARVE_TIMEOUT_MS;
  const double timeout = (double)timeout_ms * 1e-3;
  int64_t seq = 0;
  long long hops0 = 0;
  for (long i = 0; i < actors; i++)
    hops0 += atomic_load_explicit(&nodes[i].hops, memory_order_relaxed);
  double t0 = now_s();
  /* The run's end is checked before each sample, so that it is passed by
   * at most one sample's timeout. */
#define STARVE_TIME_UP() (now_s() - t0 >= STARVE_RUN_S)
  for (long i = 0; i < samples && !STARVE_TIME_UP(); i++) {
    double at, v;
    /* send */
    seq++;
    at = now_s();
    CHECK(airs_send(rt, probe, MSG_PROBE, &seq, sizeof seq));
    if (box_wait(&box, seq, timeout, &v))
      sample_add(&send, (v - at) * 1e6, 0);
    else
      sample_add(&send, timeout * 1e6, 1);
    starve_pause();
    if (STARVE_TIME_UP()) break;

    /* timer */
    seq++;
    airs_msg* msg;
    CHECK(airs_msg_new(MSG_PROBE, &seq, sizeof seq, &msg));
    at = now_s();
    CHECK(airs_send_after(rt, probe, STARVE_TIMER_MS, msg, NULL));
    if (box_wait(&box, seq, STARVE_TIMER_MS * 1e-3 + timeout, &v))
      sample_add(&timer, (v - at - STARVE_TIMER_MS * 1e-3) * 1e6, 0);
    else
      sample_add(&timer, timeout * 1e6, 1);
    starve_pause();
    if (STARVE_TIME_UP()) break;

    /* kill: a sample only when the previous one has finished its restart;
     * one that never does leaves the rest untaken (see kill_samples). */
    if (killer_idle(&box, timeout)) {
      seq++;
      pthread_mutex_lock(&box.mu);
      box.kill_req = seq;
      pthread_cond_broadcast(&box.cv);
      pthread_mutex_unlock(&box.mu);
      if (box_wait(&box, seq, STARVE_SHUTDOWN_MS * 1e-3 + timeout, &v))
        sample_add(&kill, (v - STARVE_SHUTDOWN_MS * 1e-3) * 1e6, 0);
      else
        sample_add(&kill, timeout * 1e6, 1);
      starve_pause();
    }
  }
#undef STARVE_TIME_UP
  double secs = now_s() - t0;
  long long hops = -hops0;
  for (long i = 0; i < actors; i++)
    hops += atomic_load_explicit(&nodes[i].hops, memory_order_relaxed);
  /* Actors holding a token now (a snapshot, read one by one): about the
   * processes runnable. In a ring the tokens bunch up (an actor with two
   * handles both in one turn and passes both on), so this shows how many
   * there really are. */
  long busy = 0;
  for (long i = 0; i < actors; i++) {
    uint64_t depth = 0;
    if (airs_process_stat_get(rt, pids[i], AIRS_PSTAT_MAILBOX_DEPTH, &depth) ==
            AIRS_OK &&
        depth > 0)
      busy++;
  }

  /* Drain the load, so that a terminate_child still stuck in the kill
   * thread can finish, then stop that thread. */
  atomic_store(&load.stop, 1);
  pthread_mutex_lock(&box.mu);
  box.quit = 1;
  pthread_cond_broadcast(&box.cv);
  pthread_mutex_unlock(&box.mu);
  pthread_join(killer_thread, NULL);

  char params[128], extra[768];
  snprintf(params, sizeof params,
           "\"actors\":%ld,\"tokens\":%ld,\"samples\":%ld,\"pattern\":\"%s\"",
           actors, tokens, samples, pattern);
  int len = 0;
  len += format_samples(extra + len, sizeof extra - (size_t)len, "send", &send);
  len += format_samples(extra + len, sizeof extra - (size_t)len, "timer_late",
                        &timer);
  len += format_samples(extra + len, sizeof extra - (size_t)len, "kill_late",
                        &kill);
  snprintf(extra + len, sizeof extra - (size_t)len,
           ",\"timeouts\":%ld,\"timeout_ms\":%ld,\"busy_actors\":%ld",
           send.timeouts + timer.timeouts + kill.timeouts, timeout_ms, busy);
  report("starve", params, (double)hops, secs, extra);

  airs_sup_spec_free(spec);
  airs_runtime_free(rt);
  pthread_cond_destroy(&box.cv);
  pthread_mutex_destroy(&box.mu);
  free(send.us);
  free(timer.us);
  free(kill.us);
  free(nodes);
  free(pids);
}

/* ---- shared by the network and blocking workloads */

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void fail(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("airs-bench: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

/* Sorts n > 0 samples (ns) and gives their p50 and p99 (nearest rank, as
 * the peers), with run_starve's helpers. */
static void latency_pcts(double* ns, long n, double* p50, double* p99) {
  starve_samples s = {ns, n, 0};
  qsort(ns, (size_t)n, sizeof *ns, cmp_double);
  *p50 = percentile(&s, 0.5);
  *p99 = percentile(&s, 0.99);
}

static double* samples_new(long n) {
  double* s = calloc((size_t)n, sizeof *s);
  if (!s) fail("out of memory for %ld samples", n);
  return s;
}

/* Waits until `pid` has ended. With workers, airs_wait; host-driven
 * (--workers 0), main is the host: it runs the runtime whenever its
 * wake-up fd says there is work (socket I/O, a job's completion), as a
 * host's event loop would, rather than airs_wait's polling with naps. */
static void drive_until_gone(airs_runtime* rt, airs_pid pid) {
  if (workers > 0) {
    wait_for(rt, pid);
    return;
  }
  int fd;
  CHECK(airs_runtime_fd(rt, &fd));
  double until = now_s() + 600;
  while (airs_is_alive(rt, pid)) {
    uint32_t ran = 0;
    CHECK(airs_runtime_poll(rt, 1024, &ran));
    if (ran > 0) continue;
    if (now_s() > until) fail("timed out waiting for the workload to end");
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 1000) < 0 && errno != EINTR)
      fail("poll: %s", strerror(errno));
  }
}

/* ---- echo [N] and echo_many [C [M]]: TCP echo over 127.0.0.1, with the
 * semantics of bench/peers/epoll_echo.c and bench/peers/echo_bench.erl.
 *
 * The server: an acceptor process owns the listener and gives each
 * accepted socket to a new echo process (airs_socket_give), which sets it
 * active and sends back every AIRS_MSG_SOCK_DATA as it comes. Each client
 * connection is a process that owns its connecting socket and keeps one
 * 64-byte message in flight: it sends it, waits until all 64 bytes came
 * back (in as many pieces as TCP delivers; checked against what was sent)
 * and records the round trip's time (CLOCK_MONOTONIC, from just before
 * airs_socket_send to the receive that completes it). Both ends run
 * {active, 100}, re-armed on AIRS_MSG_SOCK_PASSIVE, as the Erlang peer.
 *
 * Every client first runs its warm-up round trips (echo: 1000 on its one
 * connection; echo_many: one per connection) and tells a gate process;
 * once all are warm the gate starts the clock and tells every client to
 * go. The clients then claim round trips from a shared counter, so a
 * connection whose reply is back starts the next one while any are left
 * (ops = N or M in all). The clock stops at the end of the last round
 * trip; the client that completed it tells a finish process, which main
 * waits for with airs_wait, and ends (so echo's one client ends when
 * done; the others idle until the runtime is freed). ns_per_op = elapsed
 * / ops (for echo, the mean round trip); p50_ns, p99_ns of the timed
 * round trips. */

enum {
  NET_MSG_SIZE = 64,
  NET_ACTIVE = 100, /* {active, 100}, re-armed on AIRS_MSG_SOCK_PASSIVE */
  NET_ECHO_WARMUP = 1000,
  NET_CONNECT_TIMEOUT_MS = 10000,
  MSG_NET_OWN = 1,  /* to an echo process: data = the socket it now owns */
  MSG_NET_WARM = 2, /* client -> gate: warm-up done */
  MSG_NET_GO = 3,   /* gate -> client: run the timed round trips */
  MSG_NET_END = 4   /* -> finish: the run is over, or failed (see why) */
};

typedef struct net_shared {
  unsigned char msg[NET_MSG_SIZE];
  long conns;
  long warmup; /* untimed round trips per connection */
  long total;  /* timed round trips in all */
  const airs_pid* clients;
  airs_pid gate, finish;
  long warm;                       /* the gate's count of warm clients */
  _Alignas(64) atomic_long claims; /* timed round trips started */
  _Alignas(64) atomic_long done;   /* timed round trips completed */
  double* lat;                     /* lat[k - 1]: round trip k's time, ns */
  _Atomic uint64_t t0, t_end;
  atomic_int failed; /* 1: why is being written; 2: it is */
  char why[256];
} net_shared;

/* One per client, each on a cache line of its own. */
typedef struct net_client {
  _Alignas(64) net_shared* sh;
  airs_socket sock;
  long warm_left; /* warm-up round trips still to run */
  long claim;     /* the timed round trip in flight (1..total), 0: none */
  uint64_t sent_ns;
  size_t in_len;
  unsigned char in[NET_MSG_SIZE];
} net_client;

/* Records the first failure and wakes main through the finish process;
 * the calling process then ends. */
static airs_status net_fail(net_shared* sh, airs_ctx* ctx, const char* fmt,
                            ...) {
  int idle = 0;
  if (atomic_compare_exchange_strong(&sh->failed, &idle, 1)) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sh->why, sizeof sh->why, fmt, ap);
    va_end(ap);
    atomic_store(&sh->failed, 2);
    airs_ctx_send(ctx, sh->finish, MSG_NET_END, NULL, 0);
  }
  return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
}

/* A call's status as a failure of the run (and the caller's end). */
static airs_status net_check(net_shared* sh, airs_ctx* ctx, airs_status st,
                             const char* what) {
  if (st == AIRS_OK) return AIRS_OK;
  return net_fail(sh, ctx, "%s: %s (%s)", what, airs_strerror(st),
                  airs_last_error_message());
}

/* EOF or an error on a socket while the run was still going on. */
static airs_status net_sock_trouble(net_shared* sh, airs_ctx* ctx,
                                    const airs_msg* m, const char* who) {
  airs_sock_error e;
  memset(&e, 0, sizeof e);
  if (airs_msg_type(m) == AIRS_MSG_SOCK_EOF)
    snprintf(e.text, sizeof e.text, "the peer closed the connection");
  else if (airs_msg_size(m) >= sizeof e)
    memcpy(&e, airs_msg_data(m), sizeof e);
  e.op[sizeof e.op - 1] = '\0';
  e.text[sizeof e.text - 1] = '\0';
  return net_fail(sh, ctx, "%s socket %llu: %s%s%s", who,
                  (unsigned long long)airs_msg_correlation(m), e.op,
                  e.op[0] ? ": " : "", e.text);
}

static int net_over(net_shared* sh) {
  return atomic_load(&sh->done) >= sh->total || atomic_load(&sh->failed);
}

/* A server-side connection: echoes what comes in. Its socket comes with
 * MSG_NET_OWN once the acceptor has given it away; it ends at EOF. */
static airs_status echo_receive(void* s, airs_ctx* ctx, const airs_msg* m) {
  net_shared* sh = s;
  airs_runtime* rt = airs_ctx_runtime(ctx);
  airs_socket sock = airs_msg_correlation(m);
  switch (airs_msg_type(m)) {
    case AIRS_MSG_SOCK_DATA:
      return net_check(
          sh, ctx,
          airs_socket_send(rt, sock, airs_msg_data(m), airs_msg_size(m), 0),
          "echo: airs_socket_send");
    case AIRS_MSG_SOCK_PASSIVE:
      return net_check(sh, ctx, airs_socket_set_active(rt, sock, NET_ACTIVE),
                       "echo: airs_socket_set_active");
    case MSG_NET_OWN:
      memcpy(&sock, airs_msg_data(m), sizeof sock);
      return net_check(sh, ctx, airs_socket_set_active(rt, sock, NET_ACTIVE),
                       "echo: airs_socket_set_active");
    case AIRS_MSG_SOCK_EOF:
    case AIRS_MSG_SOCK_ERROR:
      if (net_over(sh)) return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
      return net_sock_trouble(sh, ctx, m, "echo");
    default: return AIRS_OK;
  }
}

/* The acceptor: one echo process per accepted connection. */
static airs_status acceptor_receive(void* s, airs_ctx* ctx, const airs_msg* m) {
  net_shared* sh = s;
  switch (airs_msg_type(m)) {
    case AIRS_MSG_SOCK_ACCEPTED: {
      airs_sock_accepted acc;
      memcpy(&acc, airs_msg_data(m), sizeof acc);
      airs_behaviour b = {AIRS_BEHAVIOUR_VERSION,
                          sizeof b,
                          NULL,
                          echo_receive,
                          NULL,
                          NULL,
                          NULL};
      airs_pid pid;
      airs_status st = airs_ctx_spawn(ctx, &b, sh, NULL, NULL, &pid);
      if (st == AIRS_OK)
        st = airs_socket_give(airs_ctx_runtime(ctx), acc.socket, pid);
      if (st == AIRS_OK)
        st = airs_ctx_send(ctx, pid, MSG_NET_OWN, &acc.socket,
                           sizeof acc.socket);
      return net_check(sh, ctx, st, "acceptor");
    }
    case AIRS_MSG_SOCK_ACCEPT_ERROR:
    case AIRS_MSG_SOCK_ERROR:
      if (net_over(sh)) return AIRS_OK;
      return net_sock_trouble(sh, ctx, m, "listener");
    default: return AIRS_OK;
  }
}

/* Counts the warm clients; once all are, starts the clock and the timed
 * round trips, and ends. */
static airs_status gate_receive(void* s, airs_ctx* ctx, const airs_msg* m) {
  (void)m;
  net_shared* sh = s;
  if (++sh->warm < sh->conns) return AIRS_OK;
  atomic_store(&sh->t0, now_ns());
  for (long i = 0; i < sh->conns; i++) {
    airs_status st = airs_ctx_send(ctx, sh->clients[i], MSG_NET_GO, NULL, 0);
    if (st != AIRS_OK) return net_check(sh, ctx, st, "gate: send");
  }
  return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
}

static airs_status client_send(net_client* c, airs_ctx* ctx) {
  c->in_len = 0;
  c->sent_ns = now_ns();
  return net_check(c->sh, ctx,
                   airs_socket_send(airs_ctx_runtime(ctx), c->sock, c->sh->msg,
                                    NET_MSG_SIZE, 0),
                   "client: airs_socket_send");
}

/* Claims the next timed round trip and starts it, if any are left. */
static airs_status client_next(net_client* c, airs_ctx* ctx) {
  long k = atomic_fetch_add(&c->sh->claims, 1) + 1;
  if (k > c->sh->total) return AIRS_OK; /* idle until the runtime is freed */
  c->claim = k;
  return client_send(c, ctx);
}

/* The whole reply is in. */
static airs_status client_done(net_client* c, airs_ctx* ctx) {
  uint64_t t = now_ns();
  net_shared* sh = c->sh;
  if (memcmp(c->in, sh->msg, NET_MSG_SIZE) != 0)
    return net_fail(sh, ctx, "client: the echo differs from the message");
  if (c->claim == 0) { /* a warm-up round trip */
    if (--c->warm_left > 0) return client_send(c, ctx);
    return net_check(sh, ctx,
                     airs_ctx_send(ctx, sh->gate, MSG_NET_WARM, NULL, 0),
                     "client: send to the gate");
  }
  sh->lat[c->claim - 1] = (double)(t - c->sent_ns);
  c->claim = 0;
  if (atomic_fetch_add(&sh->done, 1) + 1 == sh->total) {
    /* The last one: the clock stops, main hears it from finish. */
    atomic_store(&sh->t_end, t);
    airs_ctx_send(ctx, sh->finish, MSG_NET_END, NULL, 0);
    return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
  }
  return client_next(c, ctx);
}

static airs_status client_receive(void* s, airs_ctx* ctx, const airs_msg* m) {
  net_client* c = s;
  net_shared* sh = c->sh;
  airs_runtime* rt = airs_ctx_runtime(ctx);
  switch (airs_msg_type(m)) {
    case AIRS_MSG_SOCK_DATA: {
      size_t n = airs_msg_size(m);
      if (c->in_len + n > NET_MSG_SIZE)
        return net_fail(sh, ctx, "client: more came back than was sent");
      memcpy(c->in + c->in_len, airs_msg_data(m), n);
      c->in_len += n;
      if (c->in_len == NET_MSG_SIZE) return client_done(c, ctx);
      return AIRS_OK;
    }
    case AIRS_MSG_SOCK_PASSIVE:
      return net_check(sh, ctx, airs_socket_set_active(rt, c->sock, NET_ACTIVE),
                       "client: airs_socket_set_active");
    case AIRS_MSG_SOCK_CONNECTED: {
      /* The socket's id from the message, not from main's connect call:
       * this may run before that call has returned. */
      c->sock = airs_msg_correlation(m);
      airs_status st = airs_socket_set_active(rt, c->sock, NET_ACTIVE);
      if (st != AIRS_OK)
        return net_check(sh, ctx, st, "client: airs_socket_set_active");
      return client_send(c, ctx); /* the first warm-up round trip */
    }
    case MSG_NET_GO: return client_next(c, ctx);
    case AIRS_MSG_SOCK_EOF:
    case AIRS_MSG_SOCK_ERROR:
      if (net_over(sh)) return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
      return net_sock_trouble(sh, ctx, m, "client");
    default: return AIRS_OK;
  }
}

/* Two descriptors per connection plus a few: raise the soft limit to the
 * hard one if that is not enough. */
static void raise_nofile(long conns) {
  struct rlimit rl;
  rlim_t need = (rlim_t)conns * 2 + 64;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    fail("getrlimit: %s", strerror(errno));
  if (rl.rlim_cur >= need) return;
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need)
    fail("%ld connections need %lu descriptors, the hard limit is %lu", conns,
         (unsigned long)need, (unsigned long)rl.rlim_max);
  rl.rlim_cur = rl.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
    fail("setrlimit: %s", strerror(errno));
}

static void run_net(const char* workload, long conns, long warmup, long total) {
  raise_nofile(conns);
  airs_runtime* rt = runtime_new();
  net_shared* sh = aligned_alloc(64, sizeof *sh); /* 64 | sizeof */
  net_client* cs = aligned_alloc(64, sizeof *cs * (size_t)conns);
  airs_pid* pids = malloc(sizeof *pids * (size_t)conns);
  if (!sh || !cs || !pids) fail("out of memory for %ld connections", conns);
  memset(sh, 0, sizeof *sh);
  memset(cs, 0, sizeof *cs * (size_t)conns);
  for (size_t i = 0; i < NET_MSG_SIZE; i++)
    sh->msg[i] = (unsigned char)('a' + i % 26);
  sh->conns = conns;
  sh->warmup = warmup;
  sh->total = total;
  sh->clients = pids;
  sh->lat = samples_new(total);
  atomic_init(&sh->claims, 0);
  atomic_init(&sh->done, 0);
  atomic_init(&sh->t0, 0);
  atomic_init(&sh->t_end, 0);
  atomic_init(&sh->failed, 0);
  sh->finish = spawn(rt, finish_receive, NULL, NULL);
  sh->gate = spawn(rt, gate_receive, NULL, sh);

  /* The server. */
  airs_pid acceptor = spawn(rt, acceptor_receive, NULL, sh);
  airs_addr any, addr;
  airs_socket_opts lo;
  airs_socket listener;
  CHECK(airs_addr_parse("127.0.0.1:0", &any));
  CHECK(airs_socket_opts_init(&lo));
  lo.active = AIRS_ACTIVE_ALWAYS;
  lo.backlog = conns < 1024 ? 1024 : conns > 65535 ? 65535 : (uint32_t)conns;
  CHECK(airs_tcp_listen(rt, acceptor, &any, &lo, &listener));
  CHECK(airs_socket_addr(rt, listener, &addr, NULL));

  /* The clients: all spawned (pids complete for the gate), then each
   * connects; its first warm-up round trip starts once it is connected. */
  for (long i = 0; i < conns; i++) {
    cs[i].sh = sh;
    cs[i].warm_left = warmup;
    pids[i] = spawn(rt, client_receive, NULL, &cs[i]);
  }
  airs_socket_opts co;
  CHECK(airs_socket_opts_init(&co));
  for (long i = 0; i < conns; i++) {
    airs_socket sock;
    CHECK(airs_tcp_connect(rt, pids[i], &addr, NET_CONNECT_TIMEOUT_MS, &co,
                           &sock));
  }

  drive_until_gone(rt, sh->finish);
  if (atomic_load(&sh->failed)) {
    while (atomic_load(&sh->failed) != 2) usleep(1000);
    fail("%s: %s", workload, sh->why);
  }
  long done = atomic_load(&sh->done);
  if (done != total)
    fail("%s: %ld of %ld round trips done", workload, done, total);
  uint64_t ns = atomic_load(&sh->t_end) - atomic_load(&sh->t0);
  if (ns == 0) ns = 1;
  double p50, p99;
  latency_pcts(sh->lat, total, &p50, &p99);
  char params[64], extra[96];
  if (strcmp(workload, "echo") == 0)
    snprintf(params, sizeof params, "\"n\":%ld", total);
  else
    snprintf(params, sizeof params, "\"conns\":%ld,\"msgs\":%ld", conns, total);
  snprintf(extra, sizeof extra, ",\"p50_ns\":%.0f,\"p99_ns\":%.0f", p50, p99);
  report(workload, params, (double)total, (double)ns * 1e-9, extra);

  airs_runtime_free(rt);
  free(sh->lat);
  free(pids);
  free(cs);
  free(sh);
}

/* ---- blocking [SLOW [READS]]: the latency of quick file reads through
 * the blocking pool while slow jobs are stuck in it.
 *
 * A reader process reads a 4 KiB temp file (cached: written just before)
 * with pread, one AIRS_JOB_FAST job at a time: it submits a job, gets its
 * completion (AIRS_MSG_JOB_DONE) as a message, submits the next. A read's
 * latency is from just before airs_job_submit to the receive of its
 * completion. Two phases of READS timed reads each (after 100 untimed
 * ones): first with the pool otherwise idle (the base), then with SLOW
 * AIRS_JOB_SLOW jobs submitted, each opening a FIFO for reading, which
 * blocks until a writer appears; the phase starts once as many of them as
 * the pool lets run (AIRS_CFG_POOL_SLOW_MAX) are running, the rest queued.
 * At the end main opens the FIFO read-write, which releases the stuck
 * jobs and lets the queued ones through, waits for all of them, and
 * removes the temp dir. ops = READS of the loaded phase (ops_per_s: its
 * reads per second); p50_ns, p99_ns of the loaded phase, base_p50_ns,
 * base_p99_ns of the base, added_p99_ns = loaded p99 - base p99;
 * slow_stuck = slow jobs running (stuck) at the end of the loaded phase,
 * none of them having finished. */

enum {
  BLOCK_FILE_SIZE = 4096,
  BLOCK_WARMUP = 100,
  BLOCK_STUCK_WAIT_S = 10,
  MSG_BLOCK_START = 1,
  MSG_BLOCK_FAILED = 2 /* a job's completion: data = errno */
};

typedef struct block_files {
  char dir[256], data[300], fifo[300];
  int fd; /* the data file, for pread */
} block_files;

/* Removed at exit, also after a failure: a failure leaves jobs stuck,
 * and then the process ends without freeing the runtime. */
static block_files block_tmp = {.fd = -1};

static void block_cleanup(void) {
  if (block_tmp.fd >= 0) close(block_tmp.fd);
  block_tmp.fd = -1;
  if (block_tmp.fifo[0]) unlink(block_tmp.fifo);
  if (block_tmp.data[0]) unlink(block_tmp.data);
  if (block_tmp.dir[0]) rmdir(block_tmp.dir);
  block_tmp.fifo[0] = block_tmp.data[0] = block_tmp.dir[0] = '\0';
}

static airs_msg* block_failed(int err) {
  int32_t e = err;
  airs_msg* m = NULL;
  airs_msg_new(MSG_BLOCK_FAILED, &e, sizeof e, &m);
  return m; /* NULL (no memory) still completes the job, as JOB_DONE */
}

/* FAST: one 4 KiB read of the cached file. */
static airs_msg* block_read_job(void* arg) {
  const block_files* f = arg;
  unsigned char buf[BLOCK_FILE_SIZE];
  ssize_t n = pread(f->fd, buf, sizeof buf, 0);
  if (n != (ssize_t)sizeof buf) return block_failed(n < 0 ? errno : EIO);
  return NULL;
}

/* SLOW: opens the FIFO for reading: stuck until a writer appears. */
static airs_msg* block_fifo_job(void* arg) {
  const block_files* f = arg;
  int fd = open(f->fifo, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return block_failed(errno);
  close(fd);
  return NULL;
}

typedef struct block_reader {
  block_files* files;
  long warm_left;
  long reads, n;
  double* ns; /* n of reads */
  uint64_t submitted, t0, t_end;
  int err; /* a failed read's errno, or -1 for a failed submit */
} block_reader;

static airs_status reader_submit(block_reader* r, airs_ctx* ctx) {
  airs_job job;
  airs_job_init(&job);
  job.job_class = AIRS_JOB_FAST;
  job.run = block_read_job;
  job.arg = r->files;
  job.reply_to = airs_self(ctx);
  r->submitted = now_ns();
  airs_status st = airs_job_submit(airs_ctx_runtime(ctx), &job, NULL);
  if (st == AIRS_OK) return AIRS_OK;
  r->err = -1;
  return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
}

static airs_status reader_receive(void* s, airs_ctx* ctx, const airs_msg* m) {
  block_reader* r = s;
  uint64_t t = now_ns();
  switch (airs_msg_type(m)) {
    case MSG_BLOCK_START: return reader_submit(r, ctx);
    case MSG_BLOCK_FAILED:
      memcpy(&r->err, airs_msg_data(m), sizeof r->err);
      return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
    case AIRS_MSG_JOB_DONE: break;
    default: return AIRS_OK;
  }
  if (r->warm_left > 0) {
    if (--r->warm_left == 0) r->t0 = now_ns();
    return reader_submit(r, ctx);
  }
  r->ns[r->n++] = (double)(t - r->submitted);
  if (r->n < r->reads) return reader_submit(r, ctx);
  r->t_end = t;
  return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
}

/* One phase: reads, latencies in r->ns, elapsed seconds returned. */
static double block_phase(airs_runtime* rt, block_reader* r) {
  airs_pid pid = spawn(rt, reader_receive, NULL, r);
  CHECK(airs_send(rt, pid, MSG_BLOCK_START, NULL, 0));
  drive_until_gone(rt, pid);
  if (r->err == -1) fail("blocking: airs_job_submit failed");
  if (r->err) fail("blocking: reading the temp file: %s", strerror(r->err));
  if (r->n != r->reads) fail("blocking: %ld of %ld reads done", r->n, r->reads);
  uint64_t ns = r->t_end - r->t0;
  return (double)(ns ? ns : 1) * 1e-9;
}

/* Counts the slow jobs' completions and ends with the last. */
typedef struct block_sink {
  long left;
  int err;
} block_sink;

static airs_status sink_slow_receive(void* s, airs_ctx* ctx,
                                     const airs_msg* m) {
  block_sink* k = s;
  uint64_t type = airs_msg_type(m);
  if (type == MSG_BLOCK_FAILED)
    memcpy(&k->err, airs_msg_data(m), sizeof k->err);
  else if (type != AIRS_MSG_JOB_DONE)
    return AIRS_OK;
  if (--k->left == 0) return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
  return AIRS_OK;
}

static airs_job_stats pool_stats(airs_runtime* rt) {
  airs_job_stats js;
  memset(&js, 0, sizeof js);
  js.version = AIRS_JOB_STATS_VERSION;
  js.size = sizeof js;
  CHECK(airs_job_stats_get(rt, &js));
  return js;
}

static void block_files_make(void) {
  const char* tmp = getenv("TMPDIR");
  if (!tmp || !*tmp) tmp = "/tmp";
  snprintf(block_tmp.dir, sizeof block_tmp.dir, "%s/airs-bench-XXXXXX", tmp);
  if (!mkdtemp(block_tmp.dir)) {
    int e = errno;
    block_tmp.dir[0] = '\0';
    fail("mkdtemp in %s: %s", tmp, strerror(e));
  }
  atexit(block_cleanup);
  snprintf(block_tmp.data, sizeof block_tmp.data, "%s/data", block_tmp.dir);
  snprintf(block_tmp.fifo, sizeof block_tmp.fifo, "%s/fifo", block_tmp.dir);
  unsigned char buf[BLOCK_FILE_SIZE];
  for (size_t i = 0; i < sizeof buf; i++) buf[i] = (unsigned char)i;
  int fd = open(block_tmp.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 || write(fd, buf, sizeof buf) != (ssize_t)sizeof buf ||
      close(fd) != 0)
    fail("writing %s: %s", block_tmp.data, strerror(errno));
  block_tmp.fd = open(block_tmp.data, O_RDONLY | O_CLOEXEC);
  if (block_tmp.fd < 0 || pread(block_tmp.fd, buf, sizeof buf, 0) != sizeof buf)
    fail("reading %s: %s", block_tmp.data, strerror(errno));
  if (mkfifo(block_tmp.fifo, 0600) != 0)
    fail("mkfifo %s: %s", block_tmp.fifo, strerror(errno));
}

static void run_blocking(long slow, long reads) {
  block_files_make();
  airs_runtime* rt = runtime_new();
  int64_t slow_max = 0;
  {
    airs_config* cfg; /* the runtime's pool has the defaults */
    CHECK(airs_config_new(&cfg));
    CHECK(airs_config_get(cfg, AIRS_CFG_POOL_SLOW_MAX, &slow_max));
    airs_config_free(cfg);
  }

  /* The base. */
  block_reader base = {
      &block_tmp, BLOCK_WARMUP, reads, 0, samples_new(reads), 0, 0, 0, 0};
  block_phase(rt, &base);

  /* The slow jobs, and the wait until those the pool lets run are stuck. */
  block_sink sink = {slow, 0};
  airs_pid sink_pid = spawn(rt, sink_slow_receive, NULL, &sink);
  for (long i = 0; i < slow; i++) {
    airs_job job;
    CHECK(airs_job_init(&job));
    job.job_class = AIRS_JOB_SLOW;
    job.run = block_fifo_job;
    job.arg = &block_tmp;
    job.reply_to = sink_pid;
    CHECK(airs_job_submit(rt, &job, NULL));
  }
  long expect = slow < slow_max ? slow : (long)slow_max;
  double until = now_s() + BLOCK_STUCK_WAIT_S;
  while ((long)pool_stats(rt).running[AIRS_JOB_SLOW] < expect) {
    if (now_s() > until)
      fail("blocking: %ld slow jobs are not running after %d s", expect,
           BLOCK_STUCK_WAIT_S);
    usleep(1000);
  }
  usleep(10000); /* into their open() */

  /* The loaded phase. */
  block_reader loaded = {
      &block_tmp, BLOCK_WARMUP, reads, 0, samples_new(reads), 0, 0, 0, 0};
  double secs = block_phase(rt, &loaded);
  airs_job_stats js = pool_stats(rt);
  if (js.done[AIRS_JOB_SLOW] != 0)
    fail("blocking: %llu slow jobs finished while they should be stuck",
         (unsigned long long)js.done[AIRS_JOB_SLOW]);
  long stuck = (long)js.running[AIRS_JOB_SLOW];

  /* Release them all: with a reader-writer open the FIFO has a writer, so
   * the stuck open()s return and the queued ones do not block. */
  int wfd = open(block_tmp.fifo, O_RDWR | O_CLOEXEC);
  if (wfd < 0) fail("opening %s: %s", block_tmp.fifo, strerror(errno));
  drive_until_gone(rt, sink_pid);
  close(wfd);
  if (sink.err) fail("blocking: a slow job failed: %s", strerror(sink.err));

  double b50, b99, p50, p99;
  latency_pcts(base.ns, reads, &b50, &b99);
  latency_pcts(loaded.ns, reads, &p50, &p99);
  char params[64], extra[256];
  snprintf(params, sizeof params, "\"slow\":%ld,\"reads\":%ld", slow, reads);
  snprintf(extra, sizeof extra,
           ",\"p50_ns\":%.0f,\"p99_ns\":%.0f,\"base_p50_ns\":%.0f,"
           "\"base_p99_ns\":%.0f,\"added_p99_ns\":%.0f,\"slow_stuck\":%ld",
           p50, p99, b50, b99, p99 - b99, stuck);
  report("blocking", params, (double)reads, secs, extra);

  airs_runtime_free(rt);
  free(base.ns);
  free(loaded.ns);
  block_cleanup();
}

/* ---- file_read [N]: a 4 KiB cached file read through the fs actor
 * (fs.h), request to reply.
 *
 * A client process sends AIRS_MSG_FS_READ requests for the whole 4 KiB
 * temp file (cached: written just before) to the registered fs actor with
 * airs_fs_request, one at a time: the fs actor checks the request, runs
 * the read as an AIRS_JOB_FAST job on the blocking pool (open, fstat,
 * pread, close; the job builds the reply), and passes the completion on
 * with airs_reply_to. A read's latency is from just before airs_fs_request
 * to the receive of its reply, whose 4096 bytes are checked. 1000 untimed
 * reads first. ops = N; p50_ns, p99_ns of the timed reads;
 * pool_wait_mean_ns = the mean time a job waited in the pool's queue (a
 * pool thread waking up to take it). */

enum { FREAD_WARMUP = 1000, MSG_FREAD_START = 1 };

typedef struct fread_client {
  const char* path;
  long warm_left;
  long reads, n;
  double* ns; /* n of reads */
  uint64_t sent, t0, t_end, corr;
  char why[256]; /* a failure, "" if none */
} fread_client;

static airs_status fread_send(fread_client* c, airs_ctx* ctx) {
  airs_fs_req req;
  airs_fs_req_init(&req);
  req.type = AIRS_MSG_FS_READ;
  req.path = c->path;
  c->sent = now_ns();
  airs_status st = airs_fs_request(ctx, &req, 10000, &c->corr);
  if (st == AIRS_OK) return AIRS_OK;
  snprintf(c->why, sizeof c->why, "airs_fs_request: %s",
           airs_last_error_message());
  return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
}

static airs_status fread_receive(void* s, airs_ctx* ctx, const airs_msg* m) {
  fread_client* c = s;
  uint64_t t = now_ns();
  if (airs_msg_type(m) == MSG_FREAD_START) return fread_send(c, ctx);
  if (airs_msg_correlation(m) != c->corr) return AIRS_OK;
  const void* data;
  size_t size;
  if (airs_fs_reply_data(m, &data, &size) != AIRS_OK ||
      size != BLOCK_FILE_SIZE) {
    snprintf(c->why, sizeof c->why, "a read gave %zu bytes: %s", size,
             airs_last_error_message());
    return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
  }
  if (c->warm_left > 0) {
    if (--c->warm_left == 0) c->t0 = now_ns();
    return fread_send(c, ctx);
  }
  c->ns[c->n++] = (double)(t - c->sent);
  if (c->n < c->reads) return fread_send(c, ctx);
  c->t_end = t;
  return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
}

static void run_file_read(long reads) {
  block_files_make();
  airs_runtime* rt = runtime_new();
  airs_pid fs;
  CHECK(airs_fs_start(rt, &fs));
  fread_client c = {block_tmp.data,
                    FREAD_WARMUP,
                    reads,
                    0,
                    samples_new(reads),
                    0,
                    0,
                    0,
                    0,
                    ""};
  airs_pid pid = spawn(rt, fread_receive, NULL, &c);
  CHECK(airs_send(rt, pid, MSG_FREAD_START, NULL, 0));
  drive_until_gone(rt, pid);
  if (c.why[0]) fail("file_read: %s", c.why);
  if (c.n != reads) fail("file_read: %ld of %ld reads done", c.n, reads);
  airs_job_stats js = pool_stats(rt);
  uint64_t started = js.done[AIRS_JOB_FAST] + js.running[AIRS_JOB_FAST];
  double wait_ns =
      started ? (double)js.wait_us_total[AIRS_JOB_FAST] * 1e3 / (double)started
              : 0;
  uint64_t ns = c.t_end - c.t0;
  double p50, p99;
  latency_pcts(c.ns, reads, &p50, &p99);
  char params[64], extra[160];
  snprintf(params, sizeof params, "\"n\":%ld,\"bytes\":%d", reads,
           BLOCK_FILE_SIZE);
  snprintf(extra, sizeof extra,
           ",\"p50_ns\":%.0f,\"p99_ns\":%.0f,\"pool_wait_mean_ns\":%.0f,"
           "\"pool_threads_peak\":%llu",
           p50, p99, wait_ns, (unsigned long long)js.threads_peak);
  report("file_read", params, (double)reads, (double)(ns ? ns : 1) * 1e-9,
         extra);
  airs_runtime_free(rt);
  free(c.ns);
  block_cleanup();
}

/* ---- spawn_process [N] and spawn_process_big [N]: OS processes through
 * the process actor (proc.h).
 *
 * One owner process spawns /bin/true N times, one after the other, with
 * airs_proc_spawn_request to the process actor (airs.proc); a spawn's
 * latency is from just before the request to the receive of the child's
 * AIRS_MSG_PROC_EXIT (spawn job, posix_spawn, exec, exit, reaping and the
 * port's messages). spawn_process_big first mallocs 4 GiB and touches
 * every page, so that the parent is large: a fork would copy its page
 * tables, posix_spawn's vfork-style clone does not. ops = N; p50_ns,
 * p99_ns; base_p50_ns, base_p99_ns: the same N spawns done bare, by main
 * with posix_spawn and waitpid, on this machine just before (the floor:
 * the cost of exec and exit themselves); resident_mb: the parent's RSS. */

enum { MSG_PROC_GO = 1 };

typedef struct proc_shared {
  long n;
  long done;
  uint64_t t0;
  double* lat;
  const char* why;
} proc_shared;

static airs_status proc_next(proc_shared* sh, airs_ctx* ctx) {
  static const char* const argv[] = {"/bin/true", NULL};
  airs_proc_spawn s;
  uint64_t corr;
  airs_proc_spawn_init(&s);
  s.path = argv[0];
  s.argv = argv;
  sh->t0 = now_ns();
  return airs_proc_spawn_request(ctx, &s, 10000, &corr);
}

static airs_status proc_owner_receive(void* st, airs_ctx* ctx,
                                      const airs_msg* m) {
  proc_shared* sh = st;
  uint64_t type = airs_msg_type(m);
  if (type == MSG_PROC_GO) return proc_next(sh, ctx);
  if (type == AIRS_MSG_PROC_SPAWN_REPLY || type == AIRS_MSG_TIMEOUT) {
    airs_osl_result r;
    airs_osl_result_get(m, &r);
    if (r.status == AIRS_OK) return AIRS_OK;
    sh->why = "a spawn failed";
    return airs_exit(ctx, AIRS_EXIT_ERROR, r.status, r.text);
  }
  if (type != AIRS_MSG_PROC_EXIT) return AIRS_OK;
  sh->lat[sh->done++] = (double)(now_ns() - sh->t0);
  if (sh->done == sh->n) return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
  return proc_next(sh, ctx);
}

static void run_spawn_process(const char* workload, long n, int big) {
  size_t big_size = (size_t)4 << 30;
  char* mem = NULL;
  if (big) {
    mem = malloc(big_size);
    if (!mem) fail("%s: malloc of 4 GiB failed", workload);
    for (size_t i = 0; i < big_size; i += 4096) mem[i] = (char)i;
  }
  /* the floor: bare posix_spawn + waitpid from main */
  extern char** environ;
  char* bare_argv[] = {(char*)"/bin/true", NULL};
  double* base = samples_new(n);
  for (long i = 0; i < n; i++) {
    pid_t pid;
    uint64_t t0 = now_ns();
    int rc = posix_spawn(&pid, bare_argv[0], NULL, NULL, bare_argv, environ);
    if (rc != 0) fail("%s: posix_spawn: %s", workload, strerror(rc));
    waitpid(pid, NULL, 0);
    base[i] = (double)(now_ns() - t0);
  }

  airs_runtime* rt = runtime_new();
  CHECK(airs_proc_start(rt, NULL));
  proc_shared sh = {n, 0, 0, samples_new(n), NULL};
  airs_pid owner = spawn(rt, proc_owner_receive, NULL, &sh);
  double t0 = now_s();
  CHECK(airs_send(rt, owner, MSG_PROC_GO, NULL, 0));
  drive_until_gone(rt, owner);
  double secs = now_s() - t0;
  if (sh.done != n)
    fail("%s: %ld of %ld spawns done (%s)", workload, sh.done, n,
         sh.why ? sh.why : "?");
  double p50, p99, b50, b99;
  latency_pcts(sh.lat, n, &p50, &p99);
  latency_pcts(base, n, &b50, &b99);
  char params[32], extra[160];
  snprintf(params, sizeof params, "\"n\":%ld", n);
  snprintf(extra, sizeof extra,
           ",\"p50_ns\":%.0f,\"p99_ns\":%.0f,\"base_p50_ns\":%.0f,"
           "\"base_p99_ns\":%.0f,\"resident_mb\":%ld",
           p50, p99, b50, b99, rss_bytes() >> 20);
  report(workload, params, (double)n, secs, extra);
  airs_runtime_free(rt);
  free(sh.lat);
  free(base);
  free(mem);
}

static void print_usage(void) {
  fprintf(stderr,
          "usage: airs-bench [--workers N] WORKLOAD [ARGS...]\n"
          "  spawn N | pingpong M | fanin P K | ring N M | pubsub S M |\n"
          "  restart N | idle [SECONDS] |\n"
          "  starve [ACTORS [TOKENS [SAMPLES [ring|random]]]] |\n"
          "  echo [N] | echo_many [C [M]] | blocking [SLOW [READS]] |\n"
          "  file_read [N] | spawn_process [N] | spawn_process_big [N] |\n"
          "  observe [N] | pingpong_timed M\n");
}

/* A bad argument: says which, then the usage; exit status 2. */
static void usage_error(const char* format, const char* a, const char* b) {
  fprintf(stderr, "airs-bench: ");
  fprintf(stderr, format, a, b);
  fprintf(stderr, "\n");
  print_usage();
  exit(2);
}

/* argv[i] as an integer in min..max, or dflt when absent; anything else
 * is a usage error. */
static long count_arg(int argc, char** argv, int i, long dflt, long min,
                      long max, const char* name) {
  if (i >= argc) return dflt;
  char* end;
  errno = 0;
  long v = strtol(argv[i], &end, 10);
  if (errno != 0 || end == argv[i] || *end != '\0' || v < min || v > max) {
    char range[64];
    snprintf(range, sizeof range, "%s must be an integer in %ld..%ld", name,
             min, max);
    usage_error("%s, not '%s'", range, argv[i]);
  }
  return v;
}

/* At most n arguments after the workload's name (at argv[i - 1]). */
static void max_args(int argc, char** argv, int i, int n) {
  if (argc - i > n) {
    char most[32];
    snprintf(most, sizeof most, "%d argument%s", n, n == 1 ? "" : "s");
    usage_error("%s takes at most %s", argv[i - 1], most);
  }
}

enum { MAX_COUNT = 1000000000, MAX_CONNS = 1000000 };

/* argv[i] as seconds in (0, 3600], or dflt when absent. */
static double seconds_arg(int argc, char** argv, int i, double dflt) {
  if (i >= argc) return dflt;
  char* end;
  errno = 0;
  double v = strtod(argv[i], &end);
  if (errno != 0 || end == argv[i] || *end != '\0' || !(v > 0 && v <= 3600))
    usage_error("SECONDS must be a number in (0, 3600], not '%s'%s", argv[i],
                "");
  return v;
}

int main(int argc, char** argv) {
  int i = 1;
  if (i + 1 < argc && strcmp(argv[i], "--workers") == 0) {
    workers = (int)count_arg(argc, argv, i + 1, 2, 0, 1024, "--workers");
    i += 2;
  }
  if (i >= argc) {
    print_usage();
    return 2;
  }
  const char* w = argv[i++];
  if (strcmp(w, "spawn") == 0) {
    max_args(argc, argv, i, 1);
    run_spawn(count_arg(argc, argv, i, 1000000, 1, MAX_COUNT, "N"));
  } else if (strcmp(w, "observe") == 0) {
    max_args(argc, argv, i, 1);
    run_observe(count_arg(argc, argv, i, 100000, 1, MAX_COUNT, "N"));
  } else if (strcmp(w, "pingpong") == 0) {
    max_args(argc, argv, i, 1);
    run_pingpong(count_arg(argc, argv, i, 1000000, 1, MAX_COUNT, "M"), 0);
  } else if (strcmp(w, "pingpong_timed") == 0) {
    max_args(argc, argv, i, 1);
    run_pingpong(count_arg(argc, argv, i, 1000000, 1, MAX_COUNT, "M"), 1);
  } else if (strcmp(w, "fanin") == 0) {
    max_args(argc, argv, i, 2);
    long p = count_arg(argc, argv, i, 100, 1, MAX_CONNS, "P");
    run_fanin(p, count_arg(argc, argv, i + 1, 100000, 1, MAX_COUNT, "K"));
  } else if (strcmp(w, "ring") == 0) {
    max_args(argc, argv, i, 2);
    long n = count_arg(argc, argv, i, 1000, 1, MAX_CONNS, "N");
    run_ring(n, count_arg(argc, argv, i + 1, 1000000, 1, MAX_COUNT, "M"));
  } else if (strcmp(w, "pubsub") == 0) {
    max_args(argc, argv, i, 2);
    long s = count_arg(argc, argv, i, 100, 1, MAX_CONNS, "S");
    run_pubsub(s, count_arg(argc, argv, i + 1, 100000, 1, MAX_COUNT, "M"));
  } else if (strcmp(w, "restart") == 0) {
    max_args(argc, argv, i, 1);
    run_restart(count_arg(argc, argv, i, 100000, 1, MAX_COUNT, "N"));
  } else if (strcmp(w, "idle") == 0) {
    max_args(argc, argv, i, 1);
    run_idle(seconds_arg(argc, argv, i, 2.0));
  } else if (strcmp(w, "starve") == 0) {
    max_args(argc, argv, i, 4);
    long actors = count_arg(argc, argv, i, 10000, 1, MAX_CONNS, "ACTORS");
    long tokens = count_arg(argc, argv, i + 1, 1000, 1, MAX_CONNS, "TOKENS");
    long samples = count_arg(argc, argv, i + 2, 200, 1, MAX_COUNT, "SAMPLES");
    const char* mode = i + 3 < argc ? argv[i + 3] : "ring";
    if (strcmp(mode, "ring") != 0 && strcmp(mode, "random") != 0)
      usage_error("starve's mode is ring or random, not '%s'%s", mode, "");
    run_starve(actors, tokens, samples, mode);
  } else if (strcmp(w, "echo") == 0) {
    max_args(argc, argv, i, 1);
    run_net("echo", 1, NET_ECHO_WARMUP,
            count_arg(argc, argv, i, 100000, 1, MAX_COUNT, "N"));
  } else if (strcmp(w, "echo_many") == 0) {
    max_args(argc, argv, i, 2);
    long conns = count_arg(argc, argv, i, 1000, 1, MAX_CONNS, "C");
    long msgs = count_arg(argc, argv, i + 1, 1000000, 1, MAX_COUNT, "M");
    run_net("echo_many", conns, 1, msgs);
  } else if (strcmp(w, "spawn_process") == 0 ||
             strcmp(w, "spawn_process_big") == 0) {
    max_args(argc, argv, i, 1);
    run_spawn_process(w, count_arg(argc, argv, i, 2000, 1, MAX_COUNT, "N"),
                      strcmp(w, "spawn_process_big") == 0);
  } else if (strcmp(w, "blocking") == 0) {
    max_args(argc, argv, i, 2);
    long slow = count_arg(argc, argv, i, 1000, 1, MAX_CONNS, "SLOW");
    long reads = count_arg(argc, argv, i + 1, 20000, 1, MAX_COUNT, "READS");
    run_blocking(slow, reads);
  } else if (strcmp(w, "file_read") == 0) {
    max_args(argc, argv, i, 1);
    run_file_read(count_arg(argc, argv, i, 100000, 1, MAX_COUNT, "N"));
  } else {
    usage_error("unknown workload '%s'%s", w, "");
  }
  return 0;
}
