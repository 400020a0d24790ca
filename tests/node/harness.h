/*
 * harness.h - what the node tests share: a nats-server of their own on a
 * free loopback port, clocks, and the NODE_ST check.
 */
#ifndef AIRS_TESTS_NODE_HARNESS_H
#define AIRS_TESTS_NODE_HARNESS_H

#include <airs/airs.h>
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

#include "../c/check.h"
#include "../c/helpers.h"

/* A node call returns `want`; a failure also sets the node library's
 * last error message (node.h keeps its own). */
#define NODE_ST(call, want)                                                   \
  do {                                                                        \
    airs_status node_want_ = (want), node_got_ = (call);                      \
    if (!check_report_(node_got_ == node_want_, __FILE__, __LINE__, #call))   \
      fprintf(stderr, "    got %s, want %s (%s)\n", airs_strerror(node_got_), \
              airs_strerror(node_want_), airs_node_last_error_message());     \
    if (node_want_ != AIRS_OK)                                                \
      check_report_(airs_node_last_error_message()[0] != '\0', __FILE__,      \
                    __LINE__, "the failure set a message");                   \
  } while (0)

extern char** environ;

static inline void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Waits until `cond` holds, at most timeout_ms, checking it under the
 * test's own mutex `mu` (which the file defines: its processes write what
 * `cond` reads under it), then checks it. */
#define WAIT_FOR(cond, timeout_ms)                      \
  do {                                                  \
    double end_ = now_ms() + (timeout_ms);              \
    pthread_mutex_lock(&mu);                            \
    while (!(cond) && now_ms() < end_) {                \
      pthread_mutex_unlock(&mu);                        \
      sleep_ms(2);                                      \
      pthread_mutex_lock(&mu);                          \
    }                                                   \
    check_report_(!!(cond), __FILE__, __LINE__, #cond); \
    pthread_mutex_unlock(&mu);                          \
  } while (0)

/* ---- nats-server ----------------------------------------------------- */

static inline int free_port(void) {
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, (struct sockaddr*)&a, sizeof a) != 0 ||
      getsockname(fd, (struct sockaddr*)&a, &len) != 0) {
    perror("free_port");
    exit(1);
  }
  close(fd);
  return ntohs(a.sin_port);
}

static inline int can_connect(int port) {
  struct sockaddr_in a;
  int fd = socket(AF_INET, SOCK_STREAM, 0), ok;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ok = connect(fd, (struct sockaddr*)&a, sizeof a) == 0;
  close(fd);
  return ok;
}

/* Starts nats-server on 127.0.0.1:port and waits until it takes
 * connections (10 s at most). */
static inline pid_t server_start(int port) {
  char port_text[16];
  char* argv[] = {"nats-server", "-a", "127.0.0.1", "-p", port_text, NULL};
  pid_t pid;
  double end = now_ms() + 10000;
  snprintf(port_text, sizeof port_text, "%d", port);
  if (posix_spawnp(&pid, "nats-server", NULL, NULL, argv, environ) != 0) {
    fprintf(stderr,
            "cannot start nats-server (apt-get install "
            "nats-server)\n");
    exit(1);
  }
  while (!can_connect(port)) {
    if (now_ms() > end) {
      fprintf(stderr, "nats-server did not listen on port %d\n", port);
      kill(pid, SIGKILL);
      exit(1);
    }
    sleep_ms(10);
  }
  return pid;
}

static inline void reap(pid_t pid, int sig) {
  kill(pid, sig);
  waitpid(pid, NULL, 0);
}

static inline airs_runtime* runtime_new(int workers) {
  airs_config* cfg = NULL;
  airs_runtime* rt = NULL;
  CHECK_ST(airs_config_new(&cfg), AIRS_OK);
  CHECK_ST(airs_config_set(cfg, AIRS_CFG_WORKERS, workers), AIRS_OK);
  CHECK_ST(airs_runtime_new(cfg, &rt), AIRS_OK);
  airs_config_free(cfg);
  return rt;
}

/* Attaches rt to url as node `name`, with the timings of *timings (NULL:
 * node.h's defaults); NULL, with the check failed, if it cannot. */
static inline airs_node* attach_node(airs_runtime* rt, const char* url,
                                     const char* name,
                                     const airs_node_opts* timings) {
  airs_node_opts o;
  airs_node* node = NULL;
  NODE_ST(airs_node_opts_init(&o), AIRS_OK);
  if (timings != NULL) {
    o.heartbeat_ms = timings->heartbeat_ms;
    o.down_after_ms = timings->down_after_ms;
    o.reconnect_grace_ms = timings->reconnect_grace_ms;
  }
  o.url = url;
  o.name = name;
  NODE_ST(airs_node_attach(rt, &o, &node), AIRS_OK);
  return node;
}

/* attach_node with these timings. */
static inline airs_node* attach_timed(airs_runtime* rt, const char* url,
                                      const char* name, uint32_t heartbeat_ms,
                                      uint32_t down_after_ms,
                                      uint32_t grace_ms) {
  airs_node_opts t;
  memset(&t, 0, sizeof t);
  t.heartbeat_ms = heartbeat_ms;
  t.down_after_ms = down_after_ms;
  t.reconnect_grace_ms = grace_ms;
  return attach_node(rt, url, name, &t);
}

/* ---- other nodes: copies of the test program ---------------------------- */

/* A child process: its stdin (closing it makes it detach and exit) and
 * its stdout, and the first line it printed. */
typedef struct node_child {
  pid_t pid;
  int in, out;
  char line[512];
} node_child;

/* Reads one line from fd: up to '\n' or size - 1 bytes, NUL-terminated. */
static inline void read_line(int fd, char* buf, size_t size) {
  size_t got = 0;
  memset(buf, 0, size);
  while (got < size - 1) {
    ssize_t n = read(fd, buf + got, size - 1 - got);
    if (n <= 0) break;
    got += (size_t)n;
    if (memchr(buf, '\n', got)) break;
  }
}

/* Starts argv (argv[0]: the program) with its stdin and stdout on pipes
 * and reads its first line. Ends the test if it cannot. */
static inline node_child node_child_start(char* const argv[]) {
  node_child ch;
  int in[2], out[2];
  posix_spawn_file_actions_t fa;
  memset(&ch, 0, sizeof ch);
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) exit(1);
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  if (posix_spawn(&ch.pid, argv[0], &fa, NULL, argv, environ) != 0) exit(1);
  posix_spawn_file_actions_destroy(&fa);
  close(in[0]);
  close(out[1]);
  ch.in = in[1];
  ch.out = out[0];
  read_line(ch.out, ch.line, sizeof ch.line);
  return ch;
}

/* Closes its pipes, sends it `sig` (0: none) and reaps it. */
static inline void node_child_end(node_child* ch, int sig) {
  close(ch->in);
  close(ch->out);
  if (sig) kill(ch->pid, sig);
  waitpid(ch->pid, NULL, 0);
}

/* ---- a child node's parts ------------------------------------------------ */

/* A runtime of `workers` workers with pid tag `tag` (0: any), or NULL
 * after printing "failed ..." for the parent to read. */
static inline airs_runtime* child_runtime(int workers, long tag) {
  airs_config* cfg = NULL;
  airs_runtime* rt = NULL;
  if (airs_config_new(&cfg) != AIRS_OK ||
      airs_config_set(cfg, AIRS_CFG_WORKERS, workers) != AIRS_OK ||
      airs_config_set(cfg, AIRS_CFG_PID_TAG, tag) != AIRS_OK ||
      airs_runtime_new(cfg, &rt) != AIRS_OK) {
    printf("failed runtime %s\n", airs_last_error_message());
    fflush(stdout);
    rt = NULL;
  }
  airs_config_free(cfg);
  return rt;
}

/* Attaches `rt` as node `name`, or returns NULL after printing "failed
 * <status> <text>" and freeing rt. */
static inline airs_node* child_attach(airs_runtime* rt, const char* url,
                                      const char* name) {
  airs_node_opts o;
  airs_node* node = NULL;
  airs_status st;
  airs_node_opts_init(&o);
  o.url = url;
  o.name = name;
  st = airs_node_attach(rt, &o, &node);
  if (st != AIRS_OK) {
    printf("failed %d %s\n", (int)st, airs_node_last_error_message());
    fflush(stdout);
    airs_runtime_free(rt);
    return NULL;
  }
  return node;
}

/* Waits until stdin closes (the parent is done with this node), then
 * detaches and frees. */
static inline void child_leave_at_eof(airs_node* node, airs_runtime* rt) {
  char line[64];
  while (fgets(line, sizeof line, stdin) != NULL) {
  }
  airs_node_detach(node);
  airs_runtime_free(rt);
}

#endif /* AIRS_TESTS_NODE_HARNESS_H */
