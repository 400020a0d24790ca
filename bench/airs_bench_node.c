/*
 * airs-bench-node - messages between two nodes over NATS, beside raw cnats
 * on the same server, in one run.
 *
 *   airs-bench-node remote_send [N]   one-way 16-byte messages (ops_per_s)
 *   airs-bench-node remote_call [N]   calls, 16 bytes each way (p50, p99)
 *   airs-bench-node raw_send [N]      cnats publish to a subscriber
 *   airs-bench-node raw_call [N]      cnats request/reply
 *   airs-bench-node remote_down [N]   kill -9 of a node whose N processes
 *                                     one process monitors: the time to
 *                                     the last DOWN (default 100,000)
 *   airs-bench-node all [N]           the five, in that order
 *
 * The other node is a child process (this program, `serve URL NAME`;
 * remote_down starts a second one, to kill). It uses
 * the server at $AIRS_NATS_URL, or starts its own nats-server on a free
 * loopback port. Each result is one JSON line, as airs-bench prints.
 */
#define _GNU_SOURCE
#include <airs/airs.h>
#include <airs/broker.h>
#include <airs/node.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <nats/nats.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

enum {
  MSG_COUNT = 1,
  MSG_HOWMANY = 2,
  MSG_CALL = 3,
  MSG_SEND = 4,
  MSG_SPAWN = 5, /* a request: u32 n idle processes more; reply: u32 all */
  MSG_PIDS = 6,  /* a request: u32 offset, u32 count; reply: the pids */
  MSG_WATCH = 7  /* to the watcher: pids to monitor */
};

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char* what) {
  fprintf(stderr, "airs-bench-node: %s (%s / %s)\n", what,
          airs_last_error_message(), airs_node_last_error_message());
  exit(1);
}

/* ---- the serving node (a child process) -----------------------------------
 */

static int32_t echo_served; /* MSG_COUNTs its echo got (the echo's thread) */
static int32_t raw_served;  /* messages its raw subscriber got (atomic) */

static airs_pid* idle; /* the processes MSG_SPAWN made (the echo's) */
static uint32_t nidle;

static airs_status idle_receive(void* state, airs_ctx* ctx,
                                const airs_msg* msg) {
  (void)state;
  (void)ctx;
  (void)msg;
  return AIRS_OK;
}

/* MSG_SPAWN and MSG_PIDS. */
static airs_status spawner(airs_ctx* ctx, const airs_msg* msg) {
  airs_msg* reply = NULL;
  airs_status st;
  uint32_t n, offset;
  if (airs_msg_type(msg) == MSG_SPAWN && airs_msg_size(msg) == 4) {
    airs_behaviour b;
    airs_pid* more;
    memset(&b, 0, sizeof b);
    b.version = AIRS_BEHAVIOUR_VERSION;
    b.size = sizeof b;
    b.receive = idle_receive;
    memcpy(&n, airs_msg_data(msg), 4);
    more = realloc(idle, (nidle + n) * sizeof *idle);
    if (!more) return AIRS_ENOMEM;
    idle = more;
    while (n-- > 0) {
      st =
          airs_spawn(airs_ctx_runtime(ctx), &b, NULL, NULL, NULL, &idle[nidle]);
      if (st != AIRS_OK) return st;
      nidle++;
    }
    st = airs_msg_new(MSG_SPAWN, &nidle, 4, &reply);
  } else if (airs_msg_size(msg) == 8) {
    memcpy(&offset, airs_msg_data(msg), 4);
    memcpy(&n, (const char*)airs_msg_data(msg) + 4, 4);
    if (offset > nidle || n > nidle - offset) return AIRS_EINVAL;
    st = airs_msg_new(MSG_PIDS, idle + offset, n * sizeof *idle, &reply);
  } else {
    return AIRS_EINVAL;
  }
  return st == AIRS_OK ? airs_reply(ctx, msg, reply) : st;
}

static airs_status echo_receive(void* state, airs_ctx* ctx,
                                const airs_msg* msg) {
  airs_msg* reply = NULL;
  airs_status st;
  int32_t n;
  (void)state;
  switch (airs_msg_type(msg)) {
    case MSG_SPAWN:
    case MSG_PIDS: return spawner(ctx, msg);
    case MSG_COUNT: echo_served++; return AIRS_OK;
    case MSG_CALL:
      st = airs_msg_new(MSG_CALL, airs_msg_data(msg), airs_msg_size(msg),
                        &reply);
      if (st == AIRS_OK) st = airs_reply(ctx, msg, reply);
      return st;
    case MSG_HOWMANY:
      n = echo_served;
      st = airs_msg_new(MSG_HOWMANY, &n, sizeof n, &reply);
      if (st == AIRS_OK) st = airs_reply(ctx, msg, reply);
      return st;
    default: return AIRS_OK;
  }
}

static void raw_count(natsConnection* nc, natsSubscription* sub, natsMsg* m,
                      void* closure) {
  (void)nc;
  (void)sub;
  (void)closure;
  __atomic_fetch_add(&raw_served, 1, __ATOMIC_RELAXED);
  natsMsg_Destroy(m);
}

static void raw_answer(natsConnection* nc, natsSubscription* sub, natsMsg* m,
                       void* closure) {
  (void)sub;
  if (closure) { /* howmany */
    int32_t n = __atomic_load_n(&raw_served, __ATOMIC_RELAXED);
    natsConnection_Publish(nc, natsMsg_GetReply(m), &n, sizeof n);
  } else {
    natsConnection_Publish(nc, natsMsg_GetReply(m), natsMsg_GetData(m),
                           natsMsg_GetDataLength(m));
  }
  natsMsg_Destroy(m);
}

static int serve(const char* url, const char* name) {
  airs_config* cfg = NULL;
  airs_runtime* rt = NULL;
  airs_node* node = NULL;
  airs_node_opts o;
  airs_behaviour b;
  airs_pid echo = 0;
  natsConnection* nc = NULL;
  natsSubscription *s1 = NULL, *s2 = NULL, *s3 = NULL;
  natsOptions* nopts = NULL;
  char c;
  airs_config_new(&cfg);
  airs_config_set(cfg, AIRS_CFG_WORKERS, 1);
  if (airs_runtime_new(cfg, &rt) != AIRS_OK) die("runtime");
  airs_config_free(cfg);
  memset(&b, 0, sizeof b);
  b.version = AIRS_BEHAVIOUR_VERSION;
  b.size = sizeof b;
  b.receive = echo_receive;
  airs_spawn(rt, &b, NULL, NULL, NULL, &echo);
  airs_node_opts_init(&o);
  o.url = url;
  o.name = name;
  o.cluster = "bench";
  if (airs_node_attach(rt, &o, &node) != AIRS_OK) die("attach");
  {
    char global[64];
    snprintf(global, sizeof global, "bench_%s", name);
    if (airs_node_register(node, global, echo) != AIRS_OK) die("register");
  }
  /* The raw peer: its replies leave at once, as the node's do. */
  natsOptions_Create(&nopts);
  natsOptions_SetURL(nopts, url);
  natsOptions_SetSendAsap(nopts, true);
  if (natsConnection_Connect(&nc, nopts) != NATS_OK ||
      natsConnection_Subscribe(&s1, nc, "bench.raw.count", raw_count, NULL) !=
          NATS_OK ||
      natsConnection_Subscribe(&s2, nc, "bench.raw.call", raw_answer, NULL) !=
          NATS_OK ||
      natsConnection_Subscribe(&s3, nc, "bench.raw.howmany", raw_answer,
                               &raw_served) != NATS_OK ||
      natsConnection_Flush(nc) != NATS_OK)
    die("raw subscriber");
  printf("ready\n");
  fflush(stdout);
  while (read(0, &c, 1) > 0) {
  }
  natsSubscription_Destroy(s1);
  natsSubscription_Destroy(s2);
  natsSubscription_Destroy(s3);
  natsConnection_Destroy(nc);
  natsOptions_Destroy(nopts);
  airs_node_detach(node);
  airs_runtime_free(rt);
  free(idle);
  return 0;
}

/* ---- the server and the child ---------------------------------------------
 */

static pid_t start_server(char* url, size_t size) {
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  char port[16];
  char* argv[] = {"nats-server", "-a", "127.0.0.1", "-p", port, NULL};
  posix_spawn_file_actions_t quiet;
  pid_t pid;
  int fd = socket(AF_INET, SOCK_STREAM, 0), i;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, (struct sockaddr*)&a, sizeof a) != 0 ||
      getsockname(fd, (struct sockaddr*)&a, &len) != 0)
    die("no free port");
  close(fd);
  snprintf(port, sizeof port, "%d", ntohs(a.sin_port));
  snprintf(url, size, "nats://127.0.0.1:%s", port);
  posix_spawn_file_actions_init(&quiet);
  posix_spawn_file_actions_addopen(&quiet, 2, "/dev/null", O_WRONLY, 0);
  if (posix_spawnp(&pid, "nats-server", &quiet, NULL, argv, environ) != 0)
    die("cannot start nats-server");
  posix_spawn_file_actions_destroy(&quiet);
  for (i = 0; i < 500; i++) {
    struct timespec ts = {0, 10000000};
    int ok;
    fd = socket(AF_INET, SOCK_STREAM, 0);
    ok = connect(fd, (struct sockaddr*)&a, sizeof a) == 0;
    close(fd);
    if (ok) return pid;
    nanosleep(&ts, NULL);
  }
  die("nats-server did not listen");
  return 0;
}

static pid_t start_child(const char* self, const char* url, const char* name,
                         int* in) {
  int to[2], from[2];
  char line[16] = "";
  char* argv[] = {(char*)self, "serve", (char*)url, (char*)name, NULL};
  posix_spawn_file_actions_t fa;
  pid_t pid;
  if (pipe2(to, O_CLOEXEC) != 0 || pipe2(from, O_CLOEXEC) != 0) die("pipe");
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, to[0], 0);
  posix_spawn_file_actions_adddup2(&fa, from[1], 1);
  if (posix_spawn(&pid, self, &fa, NULL, argv, environ) != 0) die("spawn");
  posix_spawn_file_actions_destroy(&fa);
  close(to[0]);
  close(from[1]);
  if (read(from[0], line, sizeof line - 1) <= 0 || strncmp(line, "ready", 5))
    die("the serving node did not start");
  close(from[0]);
  *in = to[1];
  return pid;
}

/* ---- the workloads ---------------------------------------------------------
 */

static void report(const char* impl, const char* workload, long n, double secs,
                   double p50, double p99) {
  printf(
      "{\"impl\":\"%s\",\"workload\":\"%s\",\"params\":{\"n\":%ld},"
      "\"ops\":%ld,\"seconds\":%.6f,\"ops_per_s\":%.1f,\"ns_per_op\":%.2f",
      impl, workload, n, n, secs, n / secs, secs * 1e9 / n);
  if (p50 > 0) printf(",\"p50_ns\":%.0f,\"p99_ns\":%.0f", p50, p99);
  printf("}\n");
  fflush(stdout);
}

static int by_value(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

/* Sends N MSG_COUNTs from its one handler (one turn). */
static airs_status sender_receive(void* state, airs_ctx* ctx,
                                  const airs_msg* msg) {
  static const unsigned char sixteen[16];
  airs_pid to;
  long i, n;
  (void)state;
  if (airs_msg_type(msg) != MSG_SEND) return AIRS_OK;
  memcpy(&to, airs_msg_data(msg), sizeof to);
  memcpy(&n, (const char*)airs_msg_data(msg) + sizeof to, sizeof n);
  for (i = 0; i < n; i++) {
    airs_status st = airs_ctx_send(ctx, to, MSG_COUNT, sixteen, 16);
    if (st != AIRS_OK) return st;
  }
  return AIRS_OK;
}

static int32_t airs_howmany(airs_runtime* rt, airs_pid echo) {
  airs_msg *m = NULL, *reply = NULL;
  int32_t n = -1;
  if (airs_msg_new(MSG_HOWMANY, NULL, 0, &m) != AIRS_OK ||
      airs_call(rt, echo, m, 10000, &reply) != AIRS_OK)
    die("howmany");
  memcpy(&n, airs_msg_data(reply), sizeof n);
  airs_msg_free(reply);
  return n;
}

static void remote_send(airs_runtime* rt, airs_pid echo, long n) {
  airs_behaviour b;
  airs_pid sender = 0;
  unsigned char go[sizeof(airs_pid) + sizeof(long)];
  int32_t base = airs_howmany(rt, echo);
  double t0;
  memset(&b, 0, sizeof b);
  b.version = AIRS_BEHAVIOUR_VERSION;
  b.size = sizeof b;
  b.receive = sender_receive;
  if (airs_spawn(rt, &b, NULL, NULL, NULL, &sender) != AIRS_OK) die("spawn");
  memcpy(go, &echo, sizeof echo);
  memcpy(go + sizeof echo, &n, sizeof n);
  t0 = now();
  airs_send(rt, sender, MSG_SEND, go, sizeof go);
  while (airs_howmany(rt, echo) - base < n) {
    struct timespec ts = {0, 200000};
    nanosleep(&ts, NULL);
  }
  report("airs", "remote_send", n, now() - t0, 0, 0);
  airs_kill(rt, sender);
}

static void remote_call(airs_runtime* rt, airs_pid echo, long n) {
  static const unsigned char sixteen[16];
  double* lat = malloc(sizeof(double) * (size_t)n);
  double t0 = now();
  long i;
  for (i = 0; i < n; i++) {
    airs_msg *m = NULL, *reply = NULL;
    double t = now();
    if (airs_msg_new(MSG_CALL, sixteen, 16, &m) != AIRS_OK ||
        airs_call(rt, echo, m, 10000, &reply) != AIRS_OK)
      die("call");
    lat[i] = (now() - t) * 1e9;
    airs_msg_free(reply);
  }
  double secs = now() - t0;
  qsort(lat, (size_t)n, sizeof *lat, by_value);
  report("airs", "remote_call", n, secs, lat[n / 2], lat[n * 99 / 100]);
  free(lat);
}

static int32_t raw_howmany(natsConnection* nc) {
  natsMsg* reply = NULL;
  int32_t n = -1;
  if (natsConnection_Request(&reply, nc, "bench.raw.howmany", "", 0, 10000) !=
      NATS_OK)
    die("raw howmany");
  memcpy(&n, natsMsg_GetData(reply), sizeof n);
  natsMsg_Destroy(reply);
  return n;
}

static void raw_send(natsConnection* nc, long n) {
  static const unsigned char sixteen[16];
  int32_t base = raw_howmany(nc);
  double t0 = now();
  long i;
  for (i = 0; i < n; i++)
    if (natsConnection_Publish(nc, "bench.raw.count", sixteen, 16) != NATS_OK)
      die("publish");
  natsConnection_Flush(nc);
  while (raw_howmany(nc) - base < n) {
    struct timespec ts = {0, 200000};
    nanosleep(&ts, NULL);
  }
  report("cnats", "raw_send", n, now() - t0, 0, 0);
}

static void raw_call(natsConnection* nc, long n) {
  static const unsigned char sixteen[16];
  double* lat = malloc(sizeof(double) * (size_t)n);
  double t0 = now();
  long i;
  for (i = 0; i < n; i++) {
    natsMsg* reply = NULL;
    double t = now();
    if (natsConnection_Request(&reply, nc, "bench.raw.call", sixteen, 16,
                               10000) != NATS_OK)
      die("request");
    lat[i] = (now() - t) * 1e9;
    natsMsg_Destroy(reply);
  }
  double secs = now() - t0;
  qsort(lat, (size_t)n, sizeof *lat, by_value);
  report("cnats", "raw_call", n, secs, lat[n / 2], lat[n * 99 / 100]);
  free(lat);
}

/* remote_down: one process monitors every process of a node, which is
 * then killed with SIGKILL; each DOWN is counted as it comes. */
static struct {
  long downs, noconnection;
  double last; /* now() at the last DOWN */
} watched;

static airs_status watcher_receive(void* state, airs_ctx* ctx,
                                   const airs_msg* msg) {
  (void)state;
  if (airs_msg_type(msg) == MSG_WATCH) {
    const airs_pid* pids = (const airs_pid*)airs_msg_data(msg);
    size_t i, n = airs_msg_size(msg) / sizeof *pids;
    for (i = 0; i < n; i++) {
      uint64_t ref;
      airs_status st = airs_monitor(ctx, pids[i], &ref);
      if (st != AIRS_OK) return st;
    }
  } else if (airs_msg_type(msg) == AIRS_MSG_DOWN) {
    double t = now();
    watched.last = t; /* published by the release below */
    if (airs_reason_kind(airs_msg_reason(msg)) == AIRS_EXIT_NOCONNECTION)
      __atomic_fetch_add(&watched.noconnection, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&watched.downs, 1, __ATOMIC_RELEASE);
  }
  return AIRS_OK;
}

static airs_msg* call_or_die(airs_runtime* rt, airs_pid to, uint64_t type,
                             const void* data, size_t size) {
  airs_msg *m = NULL, *reply = NULL;
  if (airs_msg_new(type, data, size, &m) != AIRS_OK ||
      airs_call(rt, to, m, 30000, &reply) != AIRS_OK)
    die("call");
  return reply;
}

static void remote_down(const char* self, const char* url, airs_runtime* rt,
                        airs_node* node, long n) {
  enum { kChunk = 10000 };
  airs_behaviour b;
  airs_pid boss = 0, watcher = 0;
  uint32_t count = (uint32_t)n, total, offset;
  int in;
  pid_t victim = start_child(self, url, "victim", &in);
  double t0, end;
  long downs;
  if (airs_node_whereis(node, "bench_victim", 5000, &boss) != AIRS_OK)
    die("whereis victim");
  airs_msg_free(call_or_die(rt, boss, MSG_SPAWN, &count, sizeof count));
  memset(&b, 0, sizeof b);
  b.version = AIRS_BEHAVIOUR_VERSION;
  b.size = sizeof b;
  b.receive = watcher_receive;
  if (airs_spawn(rt, &b, NULL, NULL, NULL, &watcher) != AIRS_OK) die("spawn");
  for (offset = 0; offset < count; offset += kChunk) {
    uint32_t range[2] = {
        offset, count - offset < kChunk ? count - offset : (uint32_t)kChunk};
    airs_msg* pids = call_or_die(rt, boss, MSG_PIDS, range, sizeof range);
    if (airs_send(rt, watcher, MSG_WATCH, airs_msg_data(pids),
                  airs_msg_size(pids)) != AIRS_OK)
      die("watch");
    airs_msg_free(pids);
  }
  /* Every monitor request has left before this call's request, on the
   * same connection: when it answers, they have all reached the victim. */
  {
    uint32_t none = 0;
    airs_msg* reply = call_or_die(rt, boss, MSG_SPAWN, &none, sizeof none);
    memcpy(&total, airs_msg_data(reply), 4);
    airs_msg_free(reply);
    if (total != count) die("the victim has not every process");
  }
  {
    struct timespec settle = {0, 200000000};
    nanosleep(&settle, NULL);
  }
  t0 = now();
  kill(victim, SIGKILL);
  end = t0 + 10;
  while ((downs = __atomic_load_n(&watched.downs, __ATOMIC_ACQUIRE)) < n &&
         now() < end) {
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  {
    struct timespec extra = {0, 500000000}; /* any duplicate comes now */
    nanosleep(&extra, NULL);
  }
  downs = __atomic_load_n(&watched.downs, __ATOMIC_ACQUIRE);
  printf(
      "{\"impl\":\"airs\",\"workload\":\"remote_down\","
      "\"params\":{\"n\":%ld},\"ops\":%ld,\"seconds\":%.6f,"
      "\"downs\":%ld,\"noconnection\":%ld,\"exactly_once\":%s}\n",
      n, n, watched.last - t0, downs, watched.noconnection,
      downs == n && watched.noconnection == n ? "true" : "false");
  fflush(stdout);
  close(in);
  waitpid(victim, NULL, 0);
  airs_kill(rt, watcher);
}

int main(int argc, char** argv) {
  const char* workload = argc > 1 ? argv[1] : "all";
  long n = argc > 2 ? atol(argv[2]) : 0;
  const char* env = getenv("AIRS_NATS_URL");
  char url[128];
  pid_t server = 0, child;
  int child_in;
  airs_config* cfg = NULL;
  airs_runtime* rt = NULL;
  airs_node* node = NULL;
  airs_node_opts o;
  airs_pid echo = 0;
  natsConnection* nc = NULL;
  int all;

  if (argc == 4 && strcmp(argv[1], "serve") == 0)
    return serve(argv[2], argv[3]);
  all = strcmp(workload, "all") == 0;
  if (!all && strcmp(workload, "remote_send") &&
      strcmp(workload, "remote_call") && strcmp(workload, "raw_send") &&
      strcmp(workload, "raw_call") && strcmp(workload, "remote_down")) {
    fprintf(stderr,
            "usage: airs-bench-node remote_send|remote_call|raw_send|"
            "raw_call|remote_down|all [N]\n");
    return 2;
  }
  if (n < 0 || (argc > 2 && n == 0)) {
    fprintf(stderr, "airs-bench-node: N must be a positive number\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  if (env && *env)
    snprintf(url, sizeof url, "%s", env);
  else
    server = start_server(url, sizeof url);
  child = start_child(argv[0], url, "echo", &child_in);

  airs_config_new(&cfg);
  airs_config_set(cfg, AIRS_CFG_WORKERS, 2);
  if (airs_runtime_new(cfg, &rt) != AIRS_OK) die("runtime");
  airs_config_free(cfg);
  airs_node_opts_init(&o);
  o.url = url;
  o.name = "drive";
  o.cluster = "bench";
  if (airs_node_attach(rt, &o, &node) != AIRS_OK) die("attach");
  if (airs_node_whereis(node, "bench_echo", 5000, &echo) != AIRS_OK)
    die("whereis");
  if (natsConnection_ConnectTo(&nc, url) != NATS_OK) die("raw connect");

  if (all || !strcmp(workload, "remote_send"))
    remote_send(rt, echo, n ? n : 1000000);
  if (all || !strcmp(workload, "remote_call"))
    remote_call(rt, echo, n ? n : 20000);
  if (all || !strcmp(workload, "raw_send")) raw_send(nc, n ? n : 1000000);
  if (all || !strcmp(workload, "raw_call")) raw_call(nc, n ? n : 20000);
  if (all || !strcmp(workload, "remote_down"))
    remote_down(argv[0], url, rt, node, n ? n : 100000);

  natsConnection_Destroy(nc);
  airs_node_detach(node);
  airs_runtime_free(rt);
  close(child_in);
  waitpid(child, NULL, 0);
  if (server) {
    kill(server, SIGTERM);
    waitpid(server, NULL, 0);
  }
  return 0;
}
