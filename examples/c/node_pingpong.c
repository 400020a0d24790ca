/*
 * node_pingpong - two nodes of a cluster over NATS, as two OS processes.
 *
 *   node_pingpong [nats://host:port]
 *
 * Without a URL it starts its own nats-server (Debian's nats-server) on a
 * free loopback port, and stops it at the end.
 *
 * This process is node "ping". It starts a copy of itself as node "pong"
 * (`node_pingpong --pong URL`), which runs a greeter process and
 * registers it in the cluster as "greeter". Ping finds it by that name,
 * calls it (request and reply across the nodes), and has a process of its
 * own send it three messages, which the greeter answers with plain sends
 * to their remote sender. Then pong leaves the cluster: its name is gone,
 * and a call to the greeter fails at once. On two machines the code is
 * the same.
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

enum { MSG_HELLO = 1, MSG_HI = 2, MSG_NOTE = 3, MSG_THANKS = 4, MSG_GO = 5 };

/* ---- the greeter, on node pong ------------------------------------------ */

static airs_status greeter_receive(void* state, airs_ctx* ctx,
                                   const airs_msg* msg) {
  char text[128];
  airs_msg* reply = NULL;
  airs_status st;
  (void)state;
  switch (airs_msg_type(msg)) {
    case MSG_HELLO: /* a request: answer it */
      snprintf(text, sizeof text, "hi %.*s, from pong", (int)airs_msg_size(msg),
               (const char*)airs_msg_data(msg));
      st = airs_msg_new(MSG_HI, text, strlen(text) + 1, &reply);
      if (st == AIRS_OK) st = airs_reply(ctx, msg, reply);
      return st;
    case MSG_NOTE: /* a message: thank its sender, wherever it is */
      printf("pong: note \"%s\" from %#llx\n", (const char*)airs_msg_data(msg),
             (unsigned long long)airs_msg_sender(msg));
      return airs_ctx_send(ctx, airs_msg_sender(msg), MSG_THANKS, NULL, 0);
    default: return AIRS_OK;
  }
}

/* ---- a process on node ping that writes to the greeter ------------------ */

static int thanks; /* counted by the writer; read after it ends */

static airs_status writer_receive(void* state, airs_ctx* ctx,
                                  const airs_msg* msg) {
  static const char* notes[] = {"one", "two", "three"};
  airs_pid greeter;
  int i;
  (void)state;
  if (airs_msg_type(msg) == MSG_GO) {
    memcpy(&greeter, airs_msg_data(msg), sizeof greeter);
    for (i = 0; i < 3; i++) {
      airs_status st =
          airs_ctx_send(ctx, greeter, MSG_NOTE, notes[i], strlen(notes[i]) + 1);
      if (st != AIRS_OK) return st;
    }
  } else if (airs_msg_type(msg) == MSG_THANKS) {
    printf("ping: thanks from %#llx\n",
           (unsigned long long)airs_msg_sender(msg));
    if (++thanks == 3) return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
  }
  return AIRS_OK;
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
                      airs_status (*receive)(void*, airs_ctx*,
                                             const airs_msg*)) {
  airs_behaviour b;
  airs_pid pid = AIRS_NO_PID;
  memset(&b, 0, sizeof b);
  b.version = AIRS_BEHAVIOUR_VERSION;
  b.size = sizeof b;
  b.receive = receive;
  airs_spawn(rt, &b, NULL, NULL, NULL, &pid);
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
  posix_spawn_file_actions_t quiet; /* its log to /dev/null */
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

/* ---- the walk-through ---------------------------------------------------- */

/* ping calls the greeter: prints the answer; returns the status. */
static airs_status call_greeter(airs_runtime* ping, airs_pid greeter) {
  airs_msg *m = NULL, *reply = NULL;
  airs_status st = airs_msg_new(MSG_HELLO, "ping", 4, &m);
  if (st == AIRS_OK) st = airs_call(ping, greeter, m, 2000, &reply);
  if (st == AIRS_OK) {
    printf("ping: call answered \"%s\"\n", (const char*)airs_msg_data(reply));
    airs_msg_free(reply);
  } else {
    printf("ping: call failed: %s (%s)\n", airs_strerror(st),
           airs_last_error_message());
    if (st != AIRS_ETIMEDOUT && st != AIRS_EEXITED) airs_msg_free(m);
  }
  return st;
}

/* Node pong: the greeter, known to the cluster as "greeter"; "ready" on
 * fd 3; leaves the cluster when its stdin closes. */
static int pong(const char* url) {
  airs_runtime* rt = runtime_new();
  airs_node* node = rt ? attach(rt, url, "pong") : NULL;
  airs_pid greeter;
  char c;
  if (!node) return 1;
  greeter = spawn(rt, greeter_receive);
  if (airs_node_register(node, "greeter", greeter) != AIRS_OK) {
    fprintf(stderr, "register: %s\n", airs_node_last_error_message());
    return 1;
  }
  printf("pong: greeter %#llx registered\n", (unsigned long long)greeter);
  fflush(stdout);
  if (write(3, "ready\n", 6) != 6) return 1;
  close(3);
  while (read(0, &c, 1) > 0) {
  }
  airs_node_detach(node);
  printf("pong: left the cluster\n");
  fflush(stdout);
  airs_runtime_free(rt);
  return 0;
}

/* Starts node pong (this program; it shares our stdout) and waits for its
 * "ready"; *in gets its stdin. 0: could not. */
static pid_t start_pong(const char* self, const char* url, int* in) {
  int ready[2], to[2];
  char line[8] = "";
  char* argv[] = {(char*)self, "--pong", (char*)url, NULL};
  posix_spawn_file_actions_t fa;
  pid_t pid;
  if (pipe2(ready, O_CLOEXEC) != 0 || pipe2(to, O_CLOEXEC) != 0) return 0;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, to[0], 0);
  posix_spawn_file_actions_adddup2(&fa, ready[1], 3);
  if (posix_spawn(&pid, self, &fa, NULL, argv, environ) != 0) return 0;
  posix_spawn_file_actions_destroy(&fa);
  close(ready[1]);
  close(to[0]);
  if (read(ready[0], line, 6) != 6 || strncmp(line, "ready\n", 6) != 0) {
    close(ready[0]);
    close(to[1]);
    waitpid(pid, NULL, 0);
    return 0;
  }
  close(ready[0]);
  *in = to[1];
  return pid;
}

int main(int argc, char** argv) {
  char url[64];
  pid_t server = 0, pong_pid;
  airs_runtime* ping_rt;
  airs_node* ping;
  airs_pid found = 0, greeter, writer;
  int ok = 1, pong_in = -1;

  setvbuf(stdout, NULL, _IOLBF, 0); /* both processes' lines, in order */
  if (argc == 3 && strcmp(argv[1], "--pong") == 0) return pong(argv[2]);
  if (argc > 1) {
    snprintf(url, sizeof url, "%s", argv[1]);
  } else if ((server = start_server(url, sizeof url)) == 0) {
    return 1;
  }
  printf("NATS at %s\n", url);
  fflush(stdout);
  ping_rt = runtime_new();
  ping = ping_rt ? attach(ping_rt, url, "ping") : NULL;
  if (!ping) return 1;
  if ((pong_pid = start_pong(argv[0], url, &pong_in)) == 0) return 1;

  /* ping: find the greeter, call it, write to it. */
  ok &= airs_node_whereis(ping, "greeter", 1000, &found) == AIRS_OK;
  printf("ping: whereis greeter -> %#llx\n", (unsigned long long)found);
  greeter = found;
  ok &= call_greeter(ping_rt, greeter) == AIRS_OK;
  writer = spawn(ping_rt, writer_receive);
  airs_send(ping_rt, writer, MSG_GO, &found, sizeof found);
  ok &= airs_wait(ping_rt, writer, 5000) == AIRS_OK && thanks == 3;

  /* pong leaves: ping hears it at once; the name goes with it, and a call
   * fails at once. */
  close(pong_in);
  waitpid(pong_pid, NULL, 0);
  for (int i = 0; i < 200; i++) {
    size_t peers = 1;
    struct timespec ts = {0, 10000000};
    if (airs_node_peers(ping, NULL, 0, &peers) == AIRS_OK && peers == 0) break;
    nanosleep(&ts, NULL);
  }
  ok &= airs_node_whereis(ping, "greeter", 1000, &found) == AIRS_ENOTFOUND;
  printf("ping: whereis greeter -> %s\n", airs_node_last_error_message());
  ok &= call_greeter(ping_rt, greeter) == AIRS_ENOPROC;

  airs_node_detach(ping);
  airs_runtime_free(ping_rt);
  if (server) {
    kill(server, SIGTERM);
    waitpid(server, NULL, 0);
  }
  printf(ok ? "done\n" : "FAILED\n");
  return ok ? 0 : 1;
}
