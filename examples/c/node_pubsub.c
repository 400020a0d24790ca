/*
 * node_pubsub - a topic across two processes, each a node of a cluster
 * over NATS.
 *
 *   node_pubsub [nats://host:port]
 *
 * Without a URL it starts its own nats-server (Debian's nats-server) on a
 * free loopback port, and stops it at the end.
 *
 * This process is node "desk": a ticker process publishes five prices to
 * the topic "prices" with airs_publish, as it would for local
 * subscribers. The program starts a copy of itself as node "screen" (a
 * second OS process), whose viewer process subscribes to "prices" with
 * airs_subscribe, prints each price with the pid of its publisher (on the
 * other node), and after the fifth publishes "seen" to the topic "acks",
 * which a process of desk subscribes to. Nothing in the actors knows that
 * the other side is another process: topics span the nodes.
 */
#define _GNU_SOURCE
#include <airs/airs.h>
#include <airs/broker.h>
#include <airs/node.h>
#include <arpa/inet.h>
#include <fcntl.h>
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

enum { MSG_PRICE = 1, MSG_SEEN = 2, MSG_GO = 3 };

static airs_status publish(airs_runtime* rt, const char* topic, uint64_t type,
                           const void* data, size_t size) {
  airs_payload* p = NULL;
  airs_status st = airs_payload_new(data, size, &p);
  if (st != AIRS_OK) return st;
  st = airs_publish(rt, topic, type, p, NULL);
  airs_payload_release(p);
  return st;
}

/* ---- node screen: the viewer -------------------------------------------- */

static airs_status viewer_receive(void* state, airs_ctx* ctx,
                                  const airs_msg* msg) {
  int* seen = (int*)state;
  airs_status st;
  if (airs_msg_type(msg) != MSG_PRICE) return AIRS_OK;
  printf("screen: %s (published by %#llx)\n", (const char*)airs_msg_data(msg),
         (unsigned long long)airs_msg_sender(msg));
  fflush(stdout);
  if (*seen + 1 < 5) {
    ++*seen;
    return AIRS_OK;
  }
  st = publish(airs_ctx_runtime(ctx), "acks", MSG_SEEN, "5 prices", 9);
  __atomic_store_n(seen, 5, __ATOMIC_RELEASE); /* main may detach now */
  return st;
}

/* ---- node desk: the ticker and the one who waits for the ack ------------ */

static airs_status ticker_receive(void* state, airs_ctx* ctx,
                                  const airs_msg* msg) {
  static const char* prices[] = {"ACME 101.25", "ACME 101.50", "ACME 100.75",
                                 "ACME 102.00", "ACME 102.25"};
  int i;
  (void)state;
  if (airs_msg_type(msg) != MSG_GO) return AIRS_OK;
  for (i = 0; i < 5; i++) {
    airs_status st = publish(airs_ctx_runtime(ctx), "prices", MSG_PRICE,
                             prices[i], strlen(prices[i]) + 1);
    if (st != AIRS_OK) return st;
  }
  return AIRS_OK;
}

static airs_status acks_receive(void* state, airs_ctx* ctx,
                                const airs_msg* msg) {
  (void)state;
  if (airs_msg_type(msg) != MSG_SEEN) return AIRS_OK;
  printf("desk: ack \"%s\" from %#llx\n", (const char*)airs_msg_data(msg),
         (unsigned long long)airs_msg_sender(msg));
  return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
}

/* ---- setting up -----------------------------------------------------------
 */

static airs_runtime* runtime_new(void) {
  airs_config* cfg = NULL;
  airs_runtime* rt = NULL;
  if (airs_config_new(&cfg) != AIRS_OK) return NULL;
  airs_config_set(cfg, AIRS_CFG_WORKERS, 1);
  if (airs_runtime_new(cfg, &rt) != AIRS_OK) rt = NULL;
  airs_config_free(cfg);
  return rt;
}

static airs_pid spawn(airs_runtime* rt,
                      airs_status (*receive)(void*, airs_ctx*, const airs_msg*),
                      void* state) {
  airs_behaviour b;
  airs_pid pid = AIRS_NO_PID;
  memset(&b, 0, sizeof b);
  b.version = AIRS_BEHAVIOUR_VERSION;
  b.size = sizeof b;
  b.receive = receive;
  airs_spawn(rt, &b, state, NULL, NULL, &pid);
  return pid;
}

static airs_node* attach(airs_runtime* rt, const char* url, const char* name) {
  airs_node_opts o;
  airs_node* node = NULL;
  airs_node_opts_init(&o);
  o.url = url;
  o.name = name;
  o.cluster = "example";
  if (airs_node_attach(rt, &o, &node) != AIRS_OK) {
    fprintf(stderr, "%s: %s\n", name, airs_node_last_error_message());
    return NULL;
  }
  return node;
}

/* Starts nats-server on a free loopback port; returns its pid (0: could
 * not) and writes its URL. */
static pid_t start_server(char* url, size_t size) {
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  char port[16];
  char* argv[] = {"nats-server", "-a", "127.0.0.1", "-p", port, NULL};
  posix_spawn_file_actions_t quiet; /* its log to /dev/null */
  pid_t pid;
  int fd = socket(AF_INET, SOCK_STREAM, 0), i;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, (struct sockaddr*)&a, sizeof a) != 0 ||
      getsockname(fd, (struct sockaddr*)&a, &len) != 0)
    return 0;
  close(fd);
  snprintf(port, sizeof port, "%d", ntohs(a.sin_port));
  snprintf(url, size, "nats://127.0.0.1:%s", port);
  posix_spawn_file_actions_init(&quiet);
  posix_spawn_file_actions_addopen(&quiet, 2, "/dev/null", O_WRONLY, 0);
  i = posix_spawnp(&pid, "nats-server", &quiet, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&quiet);
  if (i != 0) {
    fprintf(stderr, "cannot start nats-server (apt-get install nats-server)\n");
    return 0;
  }
  for (i = 0; i < 500; i++) { /* until it takes connections, 5 s at most */
    struct timespec ts = {0, 10000000};
    int ok;
    fd = socket(AF_INET, SOCK_STREAM, 0);
    ok = connect(fd, (struct sockaddr*)&a, sizeof a) == 0;
    close(fd);
    if (ok) return pid;
    nanosleep(&ts, NULL);
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  return 0;
}

/* The screen node: subscribes, says "ready" on fd 3, and runs until its
 * viewer has seen five prices and acknowledged them. */
static int screen(const char* url) {
  static int seen;
  struct timespec settle = {0, 200000000};
  airs_runtime* rt = runtime_new();
  airs_node* node = rt ? attach(rt, url, "screen") : NULL;
  airs_pid viewer;
  if (!node) return 1;
  viewer = spawn(rt, viewer_receive, &seen);
  airs_subscribe(rt, "prices", viewer);
  nanosleep(&settle, NULL); /* the subscription reaches the server */
  if (write(3, "ready\n", 6) != 6) return 1;
  close(3);
  while (__atomic_load_n(&seen, __ATOMIC_ACQUIRE) < 5) {
    struct timespec ts = {0, 10000000};
    nanosleep(&ts, NULL);
  }
  airs_node_detach(node); /* (after the ack has left: detach flushes) */
  airs_runtime_free(rt);
  return 0;
}

/* Starts the screen node (this program; it shares our stdout) and waits
 * for its "ready". */
static pid_t start_screen(const char* self, const char* url) {
  int ready[2];
  char line[8] = "";
  char* argv[] = {(char*)self, "--screen", (char*)url, NULL};
  posix_spawn_file_actions_t fa;
  pid_t pid;
  if (pipe2(ready, O_CLOEXEC) != 0) return 0;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, ready[1], 3);
  if (posix_spawn(&pid, self, &fa, NULL, argv, environ) != 0) return 0;
  posix_spawn_file_actions_destroy(&fa);
  close(ready[1]);
  if (read(ready[0], line, 6) != 6 || strncmp(line, "ready\n", 6) != 0) {
    close(ready[0]);
    waitpid(pid, NULL, 0);
    return 0;
  }
  close(ready[0]);
  return pid;
}

int main(int argc, char** argv) {
  char url[64];
  pid_t server = 0, screen_pid;
  airs_runtime* rt;
  airs_node* desk;
  airs_pid ticker, acks;
  int status = 1;
  struct timespec settle = {0, 200000000};

  setvbuf(stdout, NULL, _IOLBF, 0); /* both processes' lines, in order */
  if (argc == 3 && strcmp(argv[1], "--screen") == 0) return screen(argv[2]);
  if (argc > 1) {
    snprintf(url, sizeof url, "%s", argv[1]);
  } else if ((server = start_server(url, sizeof url)) == 0) {
    return 1;
  }
  printf("NATS at %s\n", url);
  fflush(stdout);
  rt = runtime_new();
  desk = rt ? attach(rt, url, "desk") : NULL;
  if (!desk) return 1;
  acks = spawn(rt, acks_receive, NULL);
  airs_subscribe(rt, "acks", acks);
  screen_pid = start_screen(argv[0], url);
  if (screen_pid == 0) return 1;
  nanosleep(&settle, NULL); /* our subscription to "acks" reaches NATS */

  ticker = spawn(rt, ticker_receive, NULL);
  airs_send(rt, ticker, MSG_GO, NULL, 0);
  if (airs_wait(rt, acks, 10000) == AIRS_OK) status = 0;
  waitpid(screen_pid, NULL, 0);
  airs_node_detach(desk);
  airs_runtime_free(rt);
  if (server) {
    kill(server, SIGTERM);
    waitpid(server, NULL, 0);
  }
  printf(status == 0 ? "done\n" : "FAILED: no ack within 10 s\n");
  return status;
}
