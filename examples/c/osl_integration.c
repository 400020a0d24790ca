/*
 * osl_integration - the system actors (osl.h) under their rest_for_one
 * supervisor, driven by requests: files, an OS process and a TCP
 * connection, then a crash of the file actor.
 *
 *   1. the file actor writes a file, then lists its directory;
 *   2. the process actor runs `wc -c`, which gets "hello, osl\n" on its
 *      stdin, then EOF, and prints the count on its stdout;
 *   3. the network actor opens a TCP listener on loopback and connects to
 *      it;
 *   4. the file actor is killed: rest_for_one restarts it and the actors
 *      started after it (process, network), in order, under their names.
 *
 * Every step and every supervisor event is printed. A process of the
 * example, `owner`, owns the child and the sockets and tells main what it
 * heard. It exits 1 if any step fails.
 *
 * Pids print as <slot.generation>.
 */
#define _DEFAULT_SOURCE /* mkdtemp */

#include <airs/airs.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WAIT_MS 5000

static const char* pid_str(airs_pid pid, char buf[32]) {
  /* A pid is opaque to hosts (airs.h); for reading, this splits it as the
   * runtime lays it out today: tag 16 | generation 21 | slot 27 bits. */
  snprintf(buf, 32, "<%u.%u>", (unsigned)(pid & ((1u << 27) - 1)),
           (unsigned)(pid >> 27 & ((1u << 21) - 1)));
  return buf;
}

/* ---- what the owner heard, for main -------------------------------- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static char output[256];  /* the child's stdout */
static int exited = -1;   /* its exit status, once it ended */
static int connected = 0; /* CONNECTED and ACCEPTED seen */
static int restarts = 0;  /* CHILD_RESTARTED events */

/* Waits until *flag reaches `want` (under mu). 0 on timeout. */
static int wait_for(const int* flag, int want) {
  struct timespec end;
  int ok;
  clock_gettime(CLOCK_REALTIME, &end);
  end.tv_sec += WAIT_MS / 1000;
  pthread_mutex_lock(&mu);
  while (*flag < want)
    if (pthread_cond_timedwait(&cv, &mu, &end) != 0) break;
  ok = *flag >= want;
  pthread_mutex_unlock(&mu);
  return ok;
}

static airs_status owner_receive(void* state, airs_ctx* ctx,
                                 const airs_msg* msg) {
  airs_proc_exit ex;
  (void)state;
  (void)ctx;
  pthread_mutex_lock(&mu);
  switch (airs_msg_type(msg)) {
    case AIRS_MSG_PROC_STDOUT: {
      size_t have = strlen(output), n = airs_msg_size(msg);
      if (n > sizeof output - 1 - have) n = sizeof output - 1 - have;
      memcpy(output + have, airs_msg_data(msg), n);
      output[have + n] = '\0';
      break;
    }
    case AIRS_MSG_PROC_EXIT:
      if (airs_proc_exit_get(msg, &ex) == AIRS_OK) exited = ex.code;
      break;
    case AIRS_MSG_SOCK_CONNECTED:
      printf("  owner: connected (socket %llu)\n",
             (unsigned long long)airs_msg_correlation(msg));
      connected++;
      break;
    case AIRS_MSG_SOCK_ACCEPTED:
      printf("  owner: the listener accepted a connection\n");
      connected++;
      break;
    default: break;
  }
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
  return AIRS_OK;
}

/* The OSL supervisor's events, as they come (a worker's thread). */
static void on_event(void* user_data, const airs_event* e) {
  char a[32], b[32];
  (void)user_data;
  pthread_mutex_lock(&mu);
  switch (e->kind) {
    case AIRS_EVENT_CHILD_EXITED:
      printf("  supervisor: %s %s ended (%s)\n", e->id, pid_str(e->pid, a),
             airs_reason_text(e->reason));
      break;
    case AIRS_EVENT_CHILD_RESTARTED:
      printf("  supervisor: %s restarted, %s -> %s\n", e->id,
             pid_str(e->other, a), pid_str(e->pid, b));
      restarts++;
      break;
    default: break;
  }
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
}

/* ---- the steps ------------------------------------------------------ */

static int fail(const char* what, airs_status st, const airs_osl_result* r) {
  fprintf(stderr, "osl_integration: %s: %s (%s)\n", what, airs_strerror(st),
          r && r->text[0] ? r->text : airs_last_error_message());
  return 1;
}

/* A blocking fs request; the reply's result in *r. The caller frees. */
static airs_msg* fs(airs_runtime* rt, uint64_t type, const char* path,
                    const char* data, airs_osl_result* r) {
  airs_fs_req req;
  airs_msg* reply = NULL;
  airs_fs_req_init(&req);
  req.type = type;
  req.path = path;
  req.data = data;
  req.data_size = data ? strlen(data) : 0;
  memset(r, 0, sizeof *r);
  if (airs_fs_call(rt, &req, WAIT_MS, &reply) != AIRS_OK) {
    r->status = AIRS_ETIMEDOUT;
    snprintf(r->text, sizeof r->text, "%s", airs_last_error_message());
    return NULL;
  }
  airs_osl_result_get(reply, r);
  return reply;
}

static int files(airs_runtime* rt, const char* dir, const char* path) {
  airs_osl_result r;
  airs_msg* reply = fs(rt, AIRS_MSG_FS_WRITE, path, "hello from airs\n", &r);
  size_t cursor = 0;
  const char* name;
  airs_msg_free(reply);
  if (r.status != AIRS_OK) return fail("write", r.status, &r);
  printf("  fs: wrote 16 bytes to %s\n", path);
  reply = fs(rt, AIRS_MSG_FS_LIST, dir, NULL, &r);
  if (r.status != AIRS_OK) {
    airs_msg_free(reply);
    return fail("list", r.status, &r);
  }
  printf("  fs: %s holds:", dir);
  while (airs_fs_reply_list_next(reply, &cursor, &name) == AIRS_OK)
    printf(" %s", name);
  printf("\n");
  airs_msg_free(reply);
  return 0;
}

static int process(airs_runtime* rt, airs_pid owner) {
  static const char* const argv[] = {"wc", "-c", NULL};
  airs_proc_spawn spawn;
  airs_proc_spawned child;
  airs_osl_result r;
  airs_msg *req = NULL, *reply = NULL;
  char buf[32];
  airs_status st;
  airs_proc_spawn_init(&spawn);
  spawn.path = "wc";
  spawn.argv = argv;
  spawn.flags = AIRS_PROC_STDIN_PIPE;
  spawn.owner = owner;
  st = airs_proc_spawn_call(rt, &spawn, WAIT_MS, &child, &r);
  if (st != AIRS_OK || r.status != AIRS_OK) return fail("spawn", st, &r);
  printf("  proc: started wc -c, os pid %lld, port %s\n",
         (long long)child.os_pid, pid_str(child.port, buf));
  /* Its stdin: some bytes, then EOF. */
  if (airs_proc_req_write("hello, osl\n", 11, &req) != AIRS_OK ||
      (st = airs_call(rt, child.port, req, WAIT_MS, &reply)) != AIRS_OK)
    return fail("write stdin", st, NULL);
  airs_msg_free(reply);
  if (airs_proc_req_close_stdin(&req) != AIRS_OK ||
      (st = airs_call(rt, child.port, req, WAIT_MS, &reply)) != AIRS_OK)
    return fail("close stdin", st, NULL);
  airs_msg_free(reply);
  printf("  proc: wrote 11 bytes to its stdin, then closed it (EOF)\n");
  if (!wait_for(&exited, 0)) return fail("wait for wc", AIRS_ETIMEDOUT, NULL);
  pthread_mutex_lock(&mu);
  printf("  proc: wc said \"%.*s\" and exited with status %d\n",
         (int)strcspn(output, "\n"), output, exited);
  st = atoi(output) == 11 && exited == 0 ? AIRS_OK : AIRS_EINTERNAL;
  pthread_mutex_unlock(&mu);
  return st == AIRS_OK ? 0 : fail("wc's output", st, NULL);
}

static int network(airs_runtime* rt, airs_pid owner) {
  airs_net_req req;
  airs_net_reply out;
  airs_osl_result r;
  airs_msg* reply = NULL;
  airs_status st;
  char addr[64];
  airs_net_req_init(&req, AIRS_MSG_NET_LISTEN);
  req.owner = owner;
  airs_addr_parse("127.0.0.1:0", &req.addr);
  req.has_opts = 1;
  req.opts.active = 1;
  if ((st = airs_net_call(rt, &req, WAIT_MS, &reply)) != AIRS_OK)
    return fail("listen", st, NULL);
  airs_osl_result_get(reply, &r);
  airs_net_reply_get(reply, &out);
  airs_msg_free(reply);
  if (r.status != AIRS_OK) return fail("listen", r.status, &r);
  airs_addr_format(&out.local, addr, sizeof addr);
  printf("  net: listening on %s\n", addr);
  airs_net_req_init(&req, AIRS_MSG_NET_CONNECT);
  req.owner = owner;
  req.addr = out.local;
  req.timeout_ms = 2000;
  printf("  net: connecting to %s\n", addr);
  if ((st = airs_net_call(rt, &req, WAIT_MS, &reply)) != AIRS_OK)
    return fail("connect", st, NULL);
  airs_osl_result_get(reply, &r);
  airs_msg_free(reply);
  if (r.status != AIRS_OK) return fail("connect", r.status, &r);
  return wait_for(&connected, 2) ? 0 : fail("connect", AIRS_ETIMEDOUT, NULL);
}

static int crash_fs(airs_runtime* rt, const char* path) {
  airs_pid fs_pid = 0;
  airs_osl_result r;
  airs_msg* reply;
  const void* data = NULL;
  size_t size = 0;
  char buf[32];
  airs_whereis(rt, AIRS_OSL_FS_NAME, &fs_pid);
  printf("  killing %s %s\n", AIRS_OSL_FS_NAME, pid_str(fs_pid, buf));
  airs_kill(rt, fs_pid);
  if (!wait_for(&restarts, 3)) return fail("restarts", AIRS_ETIMEDOUT, NULL);
  reply = fs(rt, AIRS_MSG_FS_READ, path, NULL, &r);
  if (r.status != AIRS_OK) {
    airs_msg_free(reply);
    return fail("read after the restart", r.status, &r);
  }
  airs_whereis(rt, AIRS_OSL_FS_NAME, &fs_pid);
  if (airs_fs_reply_data(reply, &data, &size) != AIRS_OK || size != 16) {
    airs_msg_free(reply);
    return fail("read after the restart", AIRS_EINTERNAL, NULL);
  }
  printf("  fs: the new %s %s reads the file back: \"%.15s\"\n",
         AIRS_OSL_FS_NAME, pid_str(fs_pid, buf), (const char*)data);
  airs_msg_free(reply);
  airs_msg_free(fs(rt, AIRS_MSG_FS_DELETE, path, NULL, &r));
  return 0;
}

int main(void) {
  static const airs_behaviour owner_b = {.version = AIRS_BEHAVIOUR_VERSION,
                                         .size = sizeof(airs_behaviour),
                                         .receive = owner_receive};
  airs_runtime* rt = NULL;
  airs_pid sup = 0, owner = 0;
  char dir[] = "/tmp/airs-osl-XXXXXX", path[64], buf[32];
  int bad = 0;
  if (!mkdtemp(dir)) return fail("mkdtemp", AIRS_EINTERNAL, NULL);
  snprintf(path, sizeof path, "%s/hello.txt", dir);
  if (airs_runtime_new(NULL, &rt) != AIRS_OK)
    return fail("airs_runtime_new", AIRS_EINTERNAL, NULL);
  airs_set_event_hook(rt, on_event, NULL);
  if (airs_osl_start(rt, NULL, &sup) != AIRS_OK ||
      airs_spawn(rt, &owner_b, NULL, NULL, NULL, &owner) != AIRS_OK)
    return fail("start", AIRS_EINTERNAL, NULL);
  printf("OSL supervisor %s (rest_for_one: fs, proc, net)\n",
         pid_str(sup, buf));

  printf("1. files\n");
  bad |= files(rt, dir, path);
  printf("2. an OS process\n");
  bad |= process(rt, owner);
  printf("3. a TCP connection\n");
  bad |= network(rt, owner);
  printf("4. the file actor crashes\n");
  bad |= crash_fs(rt, path);

  printf("freeing the runtime: the supervisor stops its children\n");
  airs_runtime_free(rt);
  remove(dir);
  printf(bad ? "FAILED\n" : "done\n");
  return bad;
}
