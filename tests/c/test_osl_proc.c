/*
 * test_osl_proc.c - the OS process actor of <airs/proc.h>: output,
 * arguments, environment and cwd reach the child and come back; stdin and
 * its end of file; exit statuses and signals; wait, terminate and the
 * kill after the grace period; a child dies with its owner and with the
 * runtime; spawn errors; bad arguments; watching a process the runtime
 * did not start; the host's signal dispositions; 10,000 spawns leave no
 * zombie and no fd.
 *
 * Each child's output goes to a sink actor that ends when the exit
 * message comes; the main thread waits for the sink with airs_wait and
 * then reads what it kept.
 */
#define _GNU_SOURCE /* sigaction, kill, posix_spawn, environ */

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "helpers.h"

extern char** environ;

#define CALL_MS 10000

/* ---- the sink: keeps a child's output and its exit ------------------- */

typedef struct sink {
  char out[1 << 18];
  size_t out_n; /* read with __atomic: the main thread polls it */
  char err[1 << 16];
  size_t err_n;
  int exits;
  airs_proc_exit exit;
  airs_pid exit_sender;
  uint64_t exit_corr;
  int late;  /* output after the exit message */
  int keep;  /* stay alive after the exit */
  int count; /* EXIT messages, for the many-spawns sink */
} sink;

static void append(char* buf, size_t cap, size_t* n, const airs_msg* m) {
  size_t size = airs_msg_size(m);
  size_t at = __atomic_load_n(n, __ATOMIC_RELAXED);
  if (at + size > cap) size = cap - at;
  memcpy(buf + at, airs_msg_data(m), size);
  __atomic_store_n(n, at + size, __ATOMIC_RELEASE);
}

static airs_status sink_receive(void* state, airs_ctx* ctx, const airs_msg* m) {
  sink* s = (sink*)state;
  uint64_t type = airs_msg_type(m);
  if (type == AIRS_MSG_PROC_STDOUT || type == AIRS_MSG_PROC_STDERR) {
    if (s->exits) s->late++;
    if (type == AIRS_MSG_PROC_STDOUT)
      append(s->out, sizeof s->out, &s->out_n, m);
    else
      append(s->err, sizeof s->err, &s->err_n, m);
  } else if (type == AIRS_MSG_PROC_EXIT) {
    /* (atomic: test_watch looks at it while the sink may run) */
    __atomic_fetch_add(&s->exits, 1, __ATOMIC_RELEASE);
    airs_proc_exit_get(m, &s->exit);
    s->exit_sender = airs_msg_sender(m);
    s->exit_corr = airs_msg_correlation(m);
    if (!s->keep) return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
  } else if (type == 2) { /* the test is done with it */
    return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
  }
  return AIRS_OK;
}

static airs_pid spawn_sink(airs_runtime* rt, sink* s) {
  return spawn_with(rt, NULL, sink_receive, s);
}

static sink* new_sink(void) {
  return (sink*)calloc(1, sizeof(sink));
}

/* ---- helpers ---------------------------------------------------------- */

static airs_runtime* proc_runtime(void) {
  airs_runtime* rt = make_runtime(2, 0);
  if (rt != NULL && airs_proc_start(rt, NULL) != AIRS_OK) {
    airs_runtime_free(rt);
    return NULL;
  }
  return rt;
}

/* Spawns `argv` for `owner` from the main thread; the call's result in
 * *r, the child in *out. */
static airs_status spawn_for(airs_runtime* rt, const char* const* argv,
                             const char* const* envp, const char* cwd,
                             uint32_t flags, uint32_t grace_ms, airs_pid owner,
                             airs_proc_spawned* out, airs_osl_result* r) {
  airs_proc_spawn s;
  airs_proc_spawn_init(&s);
  s.path = argv[0];
  s.argv = argv;
  s.envp = envp;
  s.cwd = cwd;
  s.flags = flags;
  s.kill_grace_ms = grace_ms;
  s.owner = owner;
  memset(out, 0, sizeof *out);
  return airs_proc_spawn_call(rt, &s, CALL_MS, out, r);
}

/* A call to a port; the reply's result in *r; the reply is returned (the
 * caller frees it) or NULL (r->status = minus the call's status). */
static airs_msg* port_call(airs_runtime* rt, airs_pid port, airs_msg* req,
                           airs_osl_result* r) {
  airs_msg* reply = NULL;
  airs_status st;
  memset(r, 0, sizeof *r);
  r->status = -1;
  if (req == NULL) return NULL;
  st = airs_call(rt, port, req, CALL_MS, &reply);
  if (st != AIRS_OK) { /* consumed once sent: ETIMEDOUT, EEXITED */
    if (st != AIRS_ETIMEDOUT && st != AIRS_EEXITED) airs_msg_free(req);
    r->status = -(int)st;
    return NULL;
  }
  airs_osl_result_get(reply, r);
  return reply;
}

static int port_status(airs_runtime* rt, airs_pid port, airs_msg* req) {
  airs_osl_result r;
  airs_msg_free(port_call(rt, port, req, &r));
  return r.status;
}

/* Waits up to `ms` for pid to be gone entirely (reaped): kill(pid, 0)
 * fails with ESRCH. */
static int gone_within(pid_t pid, int ms) {
  double end = now_ms() + ms;
  while (now_ms() < end) {
    if (kill(pid, 0) != 0 && errno == ESRCH) return 1;
    usleep(2000);
  }
  return 0;
}

/* 'Z', 'S', ... of /proc/pid/stat, or 0 if the process is gone. */
static char proc_state(pid_t pid, pid_t* ppid) {
  char path[64], buf[512];
  FILE* f;
  char* close_paren;
  char state = 0;
  int parent = 0;
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  f = fopen(path, "r");
  if (!f) return 0;
  if (fgets(buf, sizeof buf, f) && (close_paren = strrchr(buf, ')')) &&
      sscanf(close_paren + 1, " %c %d", &state, &parent) == 2) {
    if (ppid) *ppid = parent;
  }
  fclose(f);
  return state;
}

/* Children of this process that are zombies. */
static int zombies(void) {
  DIR* d = opendir("/proc");
  struct dirent* e;
  int n = 0;
  if (!d) return -1;
  while ((e = readdir(d)) != NULL) {
    pid_t pid = (pid_t)atoi(e->d_name), ppid = 0;
    if (pid <= 0) continue;
    if (proc_state(pid, &ppid) == 'Z' && ppid == getpid()) n++;
  }
  closedir(d);
  return n;
}

static int open_fds(void) {
  DIR* d = opendir("/proc/self/fd");
  struct dirent* e;
  int n = 0;
  if (!d) return -1;
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n - 1; /* the DIR's own fd */
}

/* Runs `argv` with a fresh sink, waits for its exit; the sink is the
 * caller's to free. */
static sink* run_to_end(airs_runtime* rt, const char* const* argv,
                        const char* const* envp, const char* cwd,
                        uint32_t flags, airs_proc_spawned* child) {
  sink* s = new_sink();
  airs_osl_result r;
  airs_pid owner = spawn_sink(rt, s);
  CHECK(owner != 0);
  CHECK_EQ(spawn_for(rt, argv, envp, cwd, flags, 1000, owner, child, &r),
           AIRS_OK);
  CHECK_EQ(r.status, AIRS_OK);
  if (r.status == AIRS_OK) {
    CHECK(child->os_pid > 0);
    CHECK(child->port != 0);
    CHECK_EQ(airs_wait(rt, owner, CALL_MS), AIRS_OK);
    CHECK_EQ(s->exits, 1);
    CHECK_EQ(s->late, 0); /* the exit came after all the output */
    CHECK_EQ(s->exit.os_pid, child->os_pid);
    CHECK_EQ(s->exit_sender, child->port);
    CHECK_EQ(s->exit_corr, child->port);
  } else {
    fprintf(stderr, "    spawn %s: %s\n", argv[0], r.text);
    airs_kill(rt, owner);
  }
  return s;
}

/* ---- output, arguments, environment, cwd ------------------------------- */

static void test_output(void) {
  airs_runtime* rt = proc_runtime();
  airs_proc_spawned c;
  sink* s;
  CHECK(rt != NULL);
  if (!rt) return;
  {
    const char* argv[] = {"/bin/echo", "hello", "world", NULL};
    s = run_to_end(rt, argv, NULL, NULL, 0, &c);
    CHECK_EQ(s->out_n, 12);
    CHECK(memcmp(s->out, "hello world\n", 12) == 0);
    CHECK_EQ(s->exit.flags, AIRS_PROC_EXIT_EXITED);
    CHECK_EQ(s->exit.code, 0);
    free(s);
  }
  { /* a name is looked up in PATH */
    const char* argv[] = {"echo", "found", NULL};
    s = run_to_end(rt, argv, NULL, NULL, 0, &c);
    CHECK_EQ(s->out_n, 6);
    CHECK(memcmp(s->out, "found\n", 6) == 0);
    free(s);
  }
  { /* argv, envp and cwd */
    const char* argv[] = {"/bin/sh", "-c",    "echo $X $1; pwd",
                          "sh",      "arg 1", NULL};
    const char* envp[] = {"X=forty two", "PATH=/usr/bin:/bin", NULL};
    s = run_to_end(rt, argv, envp, "/tmp", 0, &c);
    s->out[s->out_n < sizeof s->out ? s->out_n : 0] = '\0';
    CHECK_STR(s->out, "forty two arg 1\n/tmp\n");
    free(s);
  }
  { /* stderr apart, merged, discarded; stdout discarded */
    const char* argv[] = {"/bin/sh", "-c", "echo out; echo err >&2", NULL};
    s = run_to_end(rt, argv, NULL, NULL, 0, &c);
    CHECK_EQ(s->out_n, 4);
    CHECK(memcmp(s->out, "out\n", 4) == 0);
    CHECK_EQ(s->err_n, 4);
    CHECK(memcmp(s->err, "err\n", 4) == 0);
    free(s);
    s = run_to_end(rt, argv, NULL, NULL, AIRS_PROC_STDERR_MERGE, &c);
    CHECK_EQ(s->out_n, 8);
    CHECK(memcmp(s->out, "out\nerr\n", 8) == 0);
    CHECK_EQ(s->err_n, 0);
    free(s);
    s = run_to_end(rt, argv, NULL, NULL, AIRS_PROC_STDERR_DISCARD, &c);
    CHECK_EQ(s->out_n, 4);
    CHECK_EQ(s->err_n, 0);
    free(s);
    s = run_to_end(rt, argv, NULL, NULL, AIRS_PROC_STDOUT_DISCARD, &c);
    CHECK_EQ(s->out_n, 0);
    CHECK_EQ(s->err_n, 4);
    free(s);
  }
  { /* no fd of the host but 0, 1 and 2 reaches the child */
    const char* argv[] = {"/bin/sh", "-c", "ls /proc/self/fd | wc -l", NULL};
    s = run_to_end(rt, argv, NULL, NULL, 0, &c);
    s->out[s->out_n < sizeof s->out ? s->out_n : 0] = '\0';
    CHECK_EQ(atoi(s->out), 4); /* 0, 1, 2 and ls's own directory */
    free(s);
  }
  { /* every signal at its default and none blocked in the child */
    const char* argv[] = {"/bin/sh", "-c",
                          "grep -E '^Sig(Blk|Ign)' /proc/self/status", NULL};
    s = run_to_end(rt, argv, NULL, NULL, 0, &c);
    s->out[s->out_n < sizeof s->out ? s->out_n : 0] = '\0';
    CHECK_STR(s->out, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
    free(s);
  }
  airs_runtime_free(rt);
}

/* ---- stdin ------------------------------------------------------------- */

static void test_stdin(void) {
  airs_runtime* rt = proc_runtime();
  airs_proc_spawned c;
  airs_osl_result r;
  airs_msg* m = NULL;
  sink* s;
  airs_pid owner;
  static char big[200000];
  size_t i;
  CHECK(rt != NULL);
  if (!rt) return;
  for (i = 0; i < sizeof big; i++) big[i] = (char)('a' + i % 26);
  { /* cat: what goes in comes out, EOF ends it (the sleep keeps the port
       for the requests after the close) */
    const char* argv[] = {"/bin/sh", "-c", "cat; sleep 1", NULL};
    s = new_sink();
    owner = spawn_sink(rt, s);
    CHECK_EQ(spawn_for(rt, argv, NULL, NULL, AIRS_PROC_STDIN_PIPE, 1000, owner,
                       &c, &r),
             AIRS_OK);
    CHECK_EQ(r.status, AIRS_OK);
    airs_proc_req_write("hello ", 6, &m);
    CHECK_EQ(port_status(rt, c.port, m), AIRS_OK);
    airs_proc_req_write("cat\n", 4, &m);
    CHECK_EQ(port_status(rt, c.port, m), AIRS_OK);
    airs_proc_req_write(NULL, 0, &m); /* an empty write is fine */
    CHECK_EQ(port_status(rt, c.port, m), AIRS_OK);
    airs_proc_req_close_stdin(&m);
    CHECK_EQ(port_status(rt, c.port, m), AIRS_OK);
    airs_proc_req_close_stdin(&m); /* twice is fine */
    CHECK_EQ(port_status(rt, c.port, m), AIRS_OK);
    airs_proc_req_write("x", 1, &m); /* after the close */
    CHECK_EQ(port_status(rt, c.port, m), AIRS_ESTATE);
    CHECK_EQ(airs_wait(rt, owner, CALL_MS), AIRS_OK);
    CHECK_EQ(s->out_n, 10);
    CHECK(memcmp(s->out, "hello cat\n", 10) == 0);
    CHECK_EQ(s->exit.code, 0);
    free(s);
  }
  { /* 200,000 bytes through cat: more than a pipe holds, so the writes
       wait for the child to read */
    const char* argv[] = {"/bin/cat", NULL};
    s = new_sink();
    owner = spawn_sink(rt, s);
    CHECK_EQ(spawn_for(rt, argv, NULL, NULL, AIRS_PROC_STDIN_PIPE, 1000, owner,
                       &c, &r),
             AIRS_OK);
    airs_proc_req_write(big, sizeof big, &m);
    CHECK_EQ(port_status(rt, c.port, m), AIRS_OK);
    airs_proc_req_close_stdin(&m);
    CHECK_EQ(port_status(rt, c.port, m), AIRS_OK);
    CHECK_EQ(airs_wait(rt, owner, CALL_MS), AIRS_OK);
    CHECK_EQ(s->out_n, sizeof big);
    CHECK(memcmp(s->out, big, sizeof big) == 0);
    free(s);
  }
  { /* wc -c counts what was written before the EOF */
    const char* argv[] = {"/usr/bin/wc", "-c", NULL};
    s = new_sink();
    owner = spawn_sink(rt, s);
    CHECK_EQ(spawn_for(rt, argv, NULL, NULL, AIRS_PROC_STDIN_PIPE, 1000, owner,
                       &c, &r),
             AIRS_OK);
    airs_proc_req_write(big, 123456, &m);
    CHECK_EQ(port_status(rt, c.port, m), AIRS_OK);
    airs_proc_req_close_stdin(&m);
    CHECK_EQ(port_status(rt, c.port, m), AIRS_OK);
    CHECK_EQ(airs_wait(rt, owner, CALL_MS), AIRS_OK);
    s->out[s->out_n < sizeof s->out ? s->out_n : 0] = '\0';
    CHECK_EQ(atoi(s->out), 123456);
    free(s);
  }
  { /* no stdin pipe: writes are refused; a child that closed its stdin
       gives EPIPE, and the host gets no SIGPIPE */
    const char* argv[] = {"/bin/sh", "-c", "exec 0<&-; echo closed; sleep 5",
                          NULL};
    const char* nopipe[] = {"/bin/sleep", "5", NULL};
    airs_proc_spawned c2;
    s = new_sink();
    owner = spawn_sink(rt, s);
    CHECK_EQ(spawn_for(rt, nopipe, NULL, NULL, 0, 1000, owner, &c2, &r),
             AIRS_OK);
    airs_proc_req_write("x", 1, &m);
    CHECK_EQ(port_status(rt, c2.port, m), AIRS_ESTATE);
    airs_proc_req_close_stdin(&m);
    CHECK_EQ(port_status(rt, c2.port, m), AIRS_ESTATE);
    CHECK_EQ(spawn_for(rt, argv, NULL, NULL, AIRS_PROC_STDIN_PIPE, 1000,
                       AIRS_NO_PID, &c, &r),
             AIRS_OK);
    {
      double end = now_ms() + 5000;
      int st = AIRS_OK;
      while (st == AIRS_OK && now_ms() < end) { /* until the close is seen */
        airs_proc_req_write("x", 1, &m);
        st = port_status(rt, c.port, m);
        usleep(5000);
      }
      CHECK_EQ(st, AIRS_EOS);
    }
    airs_proc_req_terminate(&m);
    CHECK_EQ(port_status(rt, c.port, m), AIRS_OK);
    airs_kill(rt, owner);
    airs_wait(rt, owner, CALL_MS);
    CHECK(gone_within((pid_t)c2.os_pid, 5000));
    free(s);
  }
  airs_runtime_free(rt);
}

/* ---- exits, wait, terminate ------------------------------------------- */

static void test_exits(void) {
  airs_runtime* rt = proc_runtime();
  airs_proc_spawned c;
  airs_osl_result r;
  airs_proc_exit e;
  airs_msg* m = NULL;
  airs_msg* reply;
  sink* s;
  airs_pid owner;
  double t0;
  CHECK(rt != NULL);
  if (!rt) return;
  {
    const char* argv[] = {"/bin/sh", "-c", "exit 3", NULL};
    s = run_to_end(rt, argv, NULL, NULL, 0, &c);
    CHECK_EQ(s->exit.flags, AIRS_PROC_EXIT_EXITED);
    CHECK_EQ(s->exit.code, 3);
    CHECK_EQ(s->exit.signo, 0);
    free(s);
  }
  {
    const char* argv[] = {"/bin/sh", "-c", "kill -9 $$", NULL};
    s = run_to_end(rt, argv, NULL, NULL, 0, &c);
    CHECK_EQ(s->exit.flags, AIRS_PROC_EXIT_SIGNALED);
    CHECK_EQ(s->exit.code, -1);
    CHECK_EQ(s->exit.signo, SIGKILL);
    free(s);
  }
  { /* a grandchild keeps stdout open after the child's exit: the exit
       message comes after the drain time (200 ms), not when the pipe ends */
    const char* argv[] = {"/bin/sh", "-c", "sleep 3 & echo started", NULL};
    t0 = now_ms();
    s = run_to_end(rt, argv, NULL, NULL, 0, &c);
    CHECK(now_ms() - t0 < 2000);
    CHECK_EQ(s->out_n, 8);
    CHECK_EQ(s->exit.code, 0);
    free(s);
  }
  { /* a wait that times out leaves the child running; TERMINATE ends it
       with SIGTERM; a WAIT after the end answers at once */
    const char* argv[] = {"/bin/sleep", "10", NULL};
    s = new_sink();
    s->keep = 1;
    owner = spawn_sink(rt, s);
    CHECK_EQ(spawn_for(rt, argv, NULL, NULL, 0, 5000, owner, &c, &r), AIRS_OK);
    t0 = now_ms();
    airs_proc_req_wait(100, &m);
    reply = port_call(rt, c.port, m, &r);
    CHECK_EQ(r.status, AIRS_ETIMEDOUT);
    CHECK(now_ms() - t0 >= 90);
    CHECK_EQ(airs_proc_exit_get(reply, &e), AIRS_EINVAL);
    airs_msg_free(reply);
    CHECK_EQ(kill((pid_t)c.os_pid, 0), 0); /* still running */
    airs_proc_req_terminate(&m);
    reply = port_call(rt, c.port, m, &r);
    CHECK_EQ(r.status, AIRS_OK);
    CHECK_EQ(airs_proc_exit_get(reply, &e), AIRS_OK);
    CHECK_EQ(e.flags, AIRS_PROC_EXIT_SIGNALED);
    CHECK_EQ(e.signo, SIGTERM);
    CHECK_EQ(e.os_pid, c.os_pid);
    CHECK(now_ms() - t0 < 3000);
    airs_msg_free(reply);
    CHECK(gone_within((pid_t)c.os_pid, 2000));
    /* after the EXIT the port sent before it replied */
    CHECK_EQ(airs_send(rt, owner, 2, NULL, 0), AIRS_OK);
    airs_wait(rt, owner, CALL_MS);
    CHECK_EQ(s->exits, 1);
    free(s);
  }
  { /* a child that ignores SIGTERM gets SIGKILL after the grace period */
    const char* argv[] = {"/bin/sh", "-c", "trap '' TERM; echo ready; sleep 30",
                          NULL};
    s = new_sink();
    owner = spawn_sink(rt, s);
    CHECK_EQ(spawn_for(rt, argv, NULL, NULL, 0, 300, owner, &c, &r), AIRS_OK);
    t0 = now_ms();
    while (__atomic_load_n(&s->out_n, __ATOMIC_ACQUIRE) == 0 &&
           now_ms() - t0 < 5000)
      usleep(1000);
    t0 = now_ms();
    airs_proc_req_terminate(&m);
    reply = port_call(rt, c.port, m, &r);
    CHECK_EQ(r.status, AIRS_OK);
    CHECK_EQ(airs_proc_exit_get(reply, &e), AIRS_OK);
    CHECK_EQ(e.signo, SIGKILL);
    CHECK(now_ms() - t0 >= 280);
    CHECK(now_ms() - t0 < 3000);
    airs_msg_free(reply);
    CHECK_EQ(airs_wait(rt, owner, CALL_MS), AIRS_OK);
    free(s);
  }
  { /* SIGNAL: to the child, with a bad number, after the end */
    const char* argv[] = {"/bin/sleep", "10", NULL};
    s = new_sink();
    s->keep = 1;
    owner = spawn_sink(rt, s);
    CHECK_EQ(spawn_for(rt, argv, NULL, NULL, 0, 5000, owner, &c, &r), AIRS_OK);
    CHECK_EQ(airs_msg_new(AIRS_MSG_PROC_SIGNAL, "x", 1, &m), AIRS_OK);
    CHECK_EQ(port_status(rt, c.port, m), AIRS_EINVAL);
    airs_proc_req_signal(SIGINT, AIRS_PROC_SIGNAL_CHILD, &m);
    CHECK_EQ(port_status(rt, c.port, m), AIRS_OK);
    /* The port ends with its child (proc.h), so a WAIT sent now may find
     * it gone (it did, under load): the exit is read from the message
     * the owner got. The port put it in the owner's mailbox before it
     * ended, so it is ahead of the "done" sent after. */
    CHECK_EQ(airs_wait(rt, c.port, CALL_MS), AIRS_OK);
    CHECK_EQ(airs_send(rt, owner, 2, NULL, 0), AIRS_OK);
    CHECK_EQ(airs_wait(rt, owner, CALL_MS), AIRS_OK);
    CHECK_EQ(s->exits, 1);
    CHECK_EQ(s->exit.flags, AIRS_PROC_EXIT_SIGNALED);
    CHECK_EQ(s->exit.signo, SIGINT);
    airs_proc_req_signal(SIGINT, AIRS_PROC_SIGNAL_GROUP, &m);
    CHECK_EQ(airs_call(rt, c.port, m, 100, &reply), AIRS_ENOPROC);
    airs_msg_free(m);
    free(s);
  }
  airs_runtime_free(rt);
}

/* ---- a child dies with its owner and with the runtime ------------------ */

static void test_owner_and_free(void) {
  airs_runtime* rt = proc_runtime();
  airs_proc_spawned c, c2;
  airs_osl_result r;
  sink* s;
  airs_pid owner;
  pid_t grandchild = 0;
  double t0;
  CHECK(rt != NULL);
  if (!rt) return;
  { /* the owner ends: the child's whole group is killed and reaped */
    const char* argv[] = {"/bin/sh", "-c", "sleep 30 & echo $!; wait", NULL};
    s = new_sink();
    owner = spawn_sink(rt, s);
    CHECK_EQ(spawn_for(rt, argv, NULL, NULL, 0, 5000, owner, &c, &r), AIRS_OK);
    t0 = now_ms();
    while (__atomic_load_n(&s->out_n, __ATOMIC_ACQUIRE) == 0 &&
           now_ms() - t0 < 5000)
      usleep(1000);
    grandchild = (pid_t)atoi(s->out);
    CHECK(grandchild > 0);
    CHECK_EQ(kill((pid_t)c.os_pid, 0), 0);
    CHECK_EQ(airs_kill(rt, owner), AIRS_OK);
    CHECK_EQ(airs_wait(rt, c.port, CALL_MS), AIRS_OK);
    CHECK(gone_within((pid_t)c.os_pid, 5000));
    /* the grandchild got the SIGKILL too (it may linger as a zombie of
       whoever reaps orphans here) */
    t0 = now_ms();
    while (grandchild > 0 && proc_state(grandchild, NULL) != 0 &&
           proc_state(grandchild, NULL) != 'Z' && now_ms() - t0 < 5000)
      usleep(2000);
    CHECK(grandchild > 0 && (proc_state(grandchild, NULL) == 0 ||
                             proc_state(grandchild, NULL) == 'Z'));
    free(s);
  }
  { /* the runtime is freed: every child is killed and reaped */
    const char* argv[] = {"/bin/sleep", "30", NULL};
    s = new_sink();
    owner = spawn_sink(rt, s);
    CHECK_EQ(spawn_for(rt, argv, NULL, NULL, 0, 5000, owner, &c, &r), AIRS_OK);
    CHECK_EQ(spawn_for(rt, argv, NULL, NULL, 0, 5000, AIRS_NO_PID, &c2, &r),
             AIRS_OK);
    airs_runtime_free(rt);
    CHECK(gone_within((pid_t)c.os_pid, 5000));
    CHECK(gone_within((pid_t)c2.os_pid, 5000));
    CHECK_EQ(zombies(), 0);
    free(s);
  }
}

/* ---- spawn errors and bad arguments ------------------------------------ */

static void test_errors(void) {
  airs_runtime* rt = proc_runtime();
  airs_proc_spawned c;
  airs_osl_result r;
  airs_proc_spawn s;
  airs_proc_exit e;
  airs_child_spec spec;
  airs_msg* m = (airs_msg*)0x1;
  airs_msg* reply = NULL;
  airs_pid server = 0;
  const char* argv[] = {"/no/such/program", NULL};
  const char* argv2[] = {"no-such-program-here", NULL};
  const char* argv3[] = {"/bin/true", NULL};
  CHECK(rt != NULL);
  if (!rt) return;
  CHECK_EQ(spawn_for(rt, argv, NULL, NULL, 0, 0, AIRS_NO_PID, &c, &r), AIRS_OK);
  CHECK_EQ(r.status, AIRS_EOS);
  CHECK_EQ(r.err, ENOENT);
  CHECK(strstr(r.text, "No such file or directory") != NULL);
  CHECK(strstr(r.text, "/no/such/program") != NULL);
  CHECK_EQ(spawn_for(rt, argv2, NULL, NULL, 0, 0, AIRS_NO_PID, &c, &r),
           AIRS_OK);
  CHECK_EQ(r.status, AIRS_EOS);
  CHECK_EQ(r.err, ENOENT);
  CHECK_EQ(
      spawn_for(rt, argv3, NULL, "/no/such/dir", 0, 0, AIRS_NO_PID, &c, &r),
      AIRS_OK);
  CHECK_EQ(r.status, AIRS_EOS);
  CHECK_EQ(r.err, ENOENT);
  CHECK_EQ(zombies(), 0);

  /* the builders and readers */
  CHECK_EQ(airs_proc_spawn_init(NULL), AIRS_EINVAL);
  airs_proc_spawn_init(&s);
  CHECK_EQ(s.kill_grace_ms, AIRS_PROC_KILL_GRACE_DEFAULT);
  CHECK_EQ(airs_proc_req_spawn(&s, &m), AIRS_EINVAL); /* no path */
  s.path = "";
  CHECK_EQ(airs_proc_req_spawn(&s, &m), AIRS_EINVAL);
  s.path = "/bin/true";
  CHECK_EQ(airs_proc_req_spawn(NULL, &m), AIRS_EINVAL);
  CHECK(strstr(airs_last_error_message(), "spawn or out is NULL") != NULL);
  CHECK_EQ(airs_proc_req_spawn(&s, NULL), AIRS_EINVAL);
  s.version = 99;
  CHECK_EQ(airs_proc_req_spawn(&s, &m), AIRS_EINVAL);
  s.version = AIRS_PROC_SPAWN_VERSION;
  s.size = 8;
  CHECK_EQ(airs_proc_req_spawn(&s, &m), AIRS_EINVAL);
  s.size = sizeof s;
  s.flags = AIRS_PROC_STDERR_MERGE | AIRS_PROC_STDERR_DISCARD;
  CHECK_EQ(airs_proc_req_spawn(&s, &m), AIRS_EINVAL);
  s.flags = 0x100;
  CHECK_EQ(airs_proc_req_spawn(&s, &m), AIRS_EINVAL);
  s.flags = 0;
  s.kill_grace_ms = 3600001;
  CHECK_EQ(airs_proc_req_spawn(&s, &m), AIRS_EINVAL);
  s.kill_grace_ms = 0;
  CHECK(m == (airs_msg*)0x1); /* untouched by every failure */
  CHECK_EQ(airs_proc_req_write(NULL, 1, &m), AIRS_EINVAL);
  CHECK_EQ(airs_proc_req_write("x", 1, NULL), AIRS_EINVAL);
  CHECK_EQ(airs_proc_req_write("x", AIRS_PROC_WRITE_QUEUE_MAX + 1, &m),
           AIRS_EINVAL);
  CHECK_EQ(airs_proc_req_close_stdin(NULL), AIRS_EINVAL);
  CHECK_EQ(airs_proc_req_terminate(NULL), AIRS_EINVAL);
  CHECK_EQ(airs_proc_req_signal(0, 0, &m), AIRS_EINVAL);
  CHECK(strstr(airs_last_error_message(), "signal 0") != NULL);
  CHECK_EQ(airs_proc_req_signal(65, 0, &m), AIRS_EINVAL);
  CHECK_EQ(airs_proc_req_signal(SIGTERM, 2, &m), AIRS_EINVAL);
  CHECK_EQ(airs_proc_req_signal(SIGTERM, 0, NULL), AIRS_EINVAL);
  CHECK_EQ(airs_proc_req_wait(0, &m), AIRS_EINVAL);
  CHECK_EQ(airs_proc_req_wait(0x80000000u, &m), AIRS_EINVAL);
  CHECK(strstr(airs_last_error_message(), "timeout_ms") != NULL);
  CHECK_EQ(airs_proc_req_wait(1, NULL), AIRS_EINVAL);
  CHECK_EQ(airs_proc_req_watch(0, 0, &m), AIRS_EINVAL);
  CHECK_EQ(airs_proc_req_watch(-5, 0, &m), AIRS_EINVAL);
  CHECK_EQ(airs_proc_req_watch(1, 0, NULL), AIRS_EINVAL);
  CHECK(m == (airs_msg*)0x1);
  CHECK_EQ(airs_proc_spawned_get(NULL, &c), AIRS_EINVAL);
  CHECK_EQ(airs_proc_exit_get(NULL, &e), AIRS_EINVAL);
  CHECK_EQ(airs_msg_new(AIRS_MSG_PROC_EXIT, "x", 1, &m), AIRS_OK);
  CHECK_EQ(airs_proc_exit_get(m, &e), AIRS_EINVAL); /* too short */
  CHECK_EQ(airs_proc_exit_get(m, NULL), AIRS_EINVAL);
  CHECK_EQ(airs_proc_spawned_get(m, &c), AIRS_EINVAL); /* wrong type */
  airs_msg_free(m);
  CHECK_EQ(airs_proc_child_spec(NULL), AIRS_EINVAL);
  CHECK_EQ(airs_proc_child_spec(&spec), AIRS_OK);
  CHECK_STR(spec.id, "proc");
  CHECK_STR(spec.name, AIRS_OSL_PROC_NAME);
  CHECK_EQ(spec.restart, AIRS_RESTART_PERMANENT);
  CHECK_EQ(airs_proc_start(NULL, NULL), AIRS_EINVAL);
  CHECK_EQ(airs_proc_start(rt, NULL), AIRS_EEXIST); /* the name is taken */
  CHECK_EQ(airs_proc_spawn_request(NULL, &s, 100, (uint64_t*)&server),
           AIRS_EINVAL);
  CHECK_EQ(airs_proc_spawn_call(NULL, &s, 100, &c, &r), AIRS_EINVAL);
  CHECK_EQ(airs_proc_spawn_call(rt, NULL, 100, &c, &r), AIRS_EINVAL);
  CHECK_EQ(airs_proc_spawn_call(rt, &s, 0, &c, &r), AIRS_EINVAL);
  CHECK_EQ(airs_proc_spawn_call(rt, &s, 100, NULL, &r), AIRS_EINVAL);
  CHECK_EQ(airs_proc_spawn_call(rt, &s, 100, &c, NULL), AIRS_EINVAL);

  /* garbage sent straight to the process actor: EINVAL replies */
  CHECK_EQ(airs_whereis(rt, AIRS_OSL_PROC_NAME, &server), AIRS_OK);
  CHECK_EQ(airs_msg_new(AIRS_MSG_PROC_SPAWN, "garbage!", 8, &m), AIRS_OK);
  CHECK_EQ(airs_call(rt, server, m, CALL_MS, &reply), AIRS_OK);
  airs_osl_result_get(reply, &r);
  CHECK_EQ(r.status, AIRS_EINVAL);
  CHECK_EQ(airs_msg_type(reply), AIRS_MSG_PROC_SPAWN_REPLY);
  airs_msg_free(reply);
  CHECK_EQ(airs_msg_new(AIRS_MSG_PROC_WATCH, "x", 1, &m), AIRS_OK);
  CHECK_EQ(airs_call(rt, server, m, CALL_MS, &reply), AIRS_OK);
  airs_osl_result_get(reply, &r);
  CHECK_EQ(r.status, AIRS_EINVAL);
  airs_msg_free(reply);
  /* a watch from a thread with no owner */
  CHECK_EQ(airs_proc_req_watch(getpid(), 0, &m), AIRS_OK);
  CHECK_EQ(airs_call(rt, server, m, CALL_MS, &reply), AIRS_OK);
  airs_osl_result_get(reply, &r);
  CHECK_EQ(r.status, AIRS_EINVAL);
  airs_msg_free(reply);
  airs_runtime_free(rt);

  /* no process actor */
  rt = make_runtime(1, 0);
  CHECK_EQ(airs_proc_spawn_call(rt, &s, 100, &c, &r), AIRS_ENOTFOUND);
  airs_runtime_free(rt);
}

/* ---- watching a process the runtime did not start ----------------------- */

static void test_watch(void) {
  airs_runtime* rt = proc_runtime();
  airs_osl_result r;
  airs_proc_watched w;
  airs_msg* m = NULL;
  airs_msg* reply = NULL;
  airs_pid server = 0, owner;
  sink* s;
  pid_t pid = 0;
  char* argv[] = {(char*)"/bin/sleep", (char*)"30", NULL};
  CHECK(rt != NULL);
  if (!rt) return;
  CHECK_EQ(airs_whereis(rt, AIRS_OSL_PROC_NAME, &server), AIRS_OK);
  CHECK_EQ(posix_spawn(&pid, argv[0], NULL, NULL, argv, environ), 0);
  s = new_sink();
  owner = spawn_sink(rt, s);
  CHECK_EQ(airs_proc_req_watch(pid, owner, &m), AIRS_OK);
  CHECK_EQ(airs_call(rt, server, m, CALL_MS, &reply), AIRS_OK);
  airs_osl_result_get(reply, &r);
  CHECK_EQ(r.status, AIRS_OK);
  CHECK_EQ(airs_msg_size(reply), sizeof r + sizeof w);
  memcpy(&w, (const char*)airs_msg_data(reply) + sizeof r, sizeof w);
  CHECK(w.watcher != 0);
  airs_msg_free(reply);
  usleep(20000);
  CHECK_EQ(__atomic_load_n(&s->exits, __ATOMIC_ACQUIRE), 0);
  CHECK_EQ(kill(pid, SIGKILL), 0);
  CHECK_EQ(airs_wait(rt, owner, CALL_MS), AIRS_OK);
  CHECK_EQ(s->exits, 1);
  CHECK_EQ(s->exit.os_pid, pid);
  CHECK_EQ(s->exit.flags, AIRS_PROC_EXIT_UNKNOWN);
  CHECK_EQ(s->exit_sender, w.watcher);
  CHECK_EQ(waitpid(pid, NULL, 0), pid); /* still ours to reap */
  CHECK_EQ(airs_wait(rt, w.watcher, CALL_MS), AIRS_OK);
  free(s);
  /* a process that is not there */
  s = new_sink();
  owner = spawn_sink(rt, s);
  CHECK_EQ(airs_proc_req_watch(pid, owner, &m), AIRS_OK);
  CHECK_EQ(airs_call(rt, server, m, CALL_MS, &reply), AIRS_OK);
  airs_osl_result_get(reply, &r);
  CHECK_EQ(r.status, AIRS_EOS);
  CHECK_EQ(r.err, ESRCH);
  airs_msg_free(reply);
  /* the watcher ends with its owner */
  CHECK_EQ(airs_proc_req_watch(getpid(), owner, &m), AIRS_OK);
  CHECK_EQ(airs_call(rt, server, m, CALL_MS, &reply), AIRS_OK);
  memcpy(&w, (const char*)airs_msg_data(reply) + sizeof r, sizeof w);
  airs_msg_free(reply);
  CHECK_EQ(airs_kill(rt, owner), AIRS_OK);
  CHECK_EQ(airs_wait(rt, w.watcher, CALL_MS), AIRS_OK);
  free(s);
  airs_runtime_free(rt);
}

/* ---- under a supervisor: the child spec; ports outlive a restart ------- */

static void test_supervised(void) {
  airs_runtime* rt = make_runtime(2, 0);
  airs_sup_spec* spec = NULL;
  airs_child_spec child;
  airs_pid sup = 0, server = 0, server2 = 0;
  airs_proc_spawned c;
  airs_osl_result r;
  airs_proc_exit e;
  airs_msg* m = NULL;
  airs_msg* reply;
  double t0;
  const char* argv[] = {"/bin/sleep", "10", NULL};
  CHECK(rt != NULL);
  if (!rt) return;
  CHECK_EQ(airs_sup_spec_new(NULL, &spec), AIRS_OK);
  CHECK_EQ(airs_proc_child_spec(&child), AIRS_OK);
  CHECK_EQ(airs_sup_spec_add_child(spec, &child), AIRS_OK);
  CHECK_EQ(airs_supervisor_start(rt, spec, &sup), AIRS_OK);
  airs_sup_spec_free(spec);
  CHECK_EQ(airs_whereis(rt, AIRS_OSL_PROC_NAME, &server), AIRS_OK);
  CHECK_EQ(spawn_for(rt, argv, NULL, NULL, 0, 5000, AIRS_NO_PID, &c, &r),
           AIRS_OK);
  CHECK_EQ(r.status, AIRS_OK);
  /* the process actor crashes and is restarted: the port goes on */
  CHECK_EQ(airs_kill(rt, server), AIRS_OK);
  t0 = now_ms();
  while ((airs_whereis(rt, AIRS_OSL_PROC_NAME, &server2) != AIRS_OK ||
          server2 == server) &&
         now_ms() - t0 < 5000)
    usleep(1000);
  CHECK(server2 != server && server2 != 0);
  CHECK(airs_is_alive(rt, c.port));
  airs_proc_req_terminate(&m);
  reply = port_call(rt, c.port, m, &r);
  CHECK_EQ(r.status, AIRS_OK);
  CHECK_EQ(airs_proc_exit_get(reply, &e), AIRS_OK);
  CHECK_EQ(e.signo, SIGTERM);
  airs_msg_free(reply);
  CHECK_EQ(airs_wait(rt, c.port, CALL_MS), AIRS_OK);
  CHECK(gone_within((pid_t)c.os_pid, 2000));
  airs_runtime_free(rt);
}

/* ---- many spawns: no zombie, no fd left -------------------------------- */

#define MANY 10000
#define IN_FLIGHT 4

typedef struct spawner {
  int started;
  int ended;
  int failed;
} spawner;

static airs_status spawn_next(spawner* sp, airs_ctx* ctx) {
  static const char* const argv[] = {"/bin/true", NULL};
  airs_proc_spawn s;
  uint64_t corr = 0;
  airs_proc_spawn_init(&s);
  s.path = argv[0];
  s.argv = argv;
  sp->started++;
  return airs_proc_spawn_request(ctx, &s, CALL_MS, &corr);
}

static airs_status spawner_receive(void* state, airs_ctx* ctx,
                                   const airs_msg* m) {
  spawner* sp = (spawner*)state;
  uint64_t type = airs_msg_type(m);
  int i;
  if (type == 1) {
    for (i = 0; i < IN_FLIGHT; i++) spawn_next(sp, ctx);
  } else if (type == AIRS_MSG_PROC_SPAWN_REPLY) {
    airs_osl_result r;
    airs_osl_result_get(m, &r);
    if (r.status != AIRS_OK) {
      sp->failed++;
      sp->ended++;
      if (sp->started < MANY) return spawn_next(sp, ctx);
    }
  } else if (type == AIRS_MSG_PROC_EXIT) {
    sp->ended++;
    if (sp->started < MANY) return spawn_next(sp, ctx);
  } else if (type == AIRS_MSG_TIMEOUT) {
    sp->failed++;
  }
  if (sp->ended == MANY) return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
  return AIRS_OK;
}

static void test_many(void) {
  int fds_before = open_fds();
  airs_runtime* rt = proc_runtime();
  spawner sp;
  airs_behaviour b;
  airs_pid pid = 0;
  double t0 = now_ms();
  CHECK(rt != NULL);
  if (!rt) return;
  memset(&sp, 0, sizeof sp);
  memset(&b, 0, sizeof b);
  b.version = AIRS_BEHAVIOUR_VERSION;
  b.size = sizeof b;
  b.receive = spawner_receive;
  CHECK_EQ(airs_spawn(rt, &b, &sp, NULL, NULL, &pid), AIRS_OK);
  CHECK_EQ(airs_send(rt, pid, 1, NULL, 0), AIRS_OK);
  CHECK_EQ(airs_wait(rt, pid, 300000), AIRS_OK);
  CHECK_EQ(sp.ended, MANY);
  CHECK_EQ(sp.failed, 0);
  printf("%d spawns of /bin/true, %d at a time: %.0f ms\n", MANY, IN_FLIGHT,
         now_ms() - t0);
  airs_runtime_free(rt);
  CHECK_EQ(zombies(), 0);
  CHECK_EQ(open_fds(), fds_before);
}

/* ---- the host's signal dispositions ------------------------------------ */

typedef struct dispositions {
  int rc[65];
  struct sigaction sa[65];
} dispositions;

static void read_dispositions(dispositions* d) {
  int sig;
  memset(d, 0, sizeof *d);
  for (sig = 1; sig <= 64; sig++)
    d->rc[sig] = sigaction(sig, NULL, &d->sa[sig]);
}

static int same_dispositions(const dispositions* a, const dispositions* b) {
  int sig, same = 1;
  for (sig = 1; sig <= 64; sig++) {
    if (a->rc[sig] != b->rc[sig]) same = 0;
    if (a->rc[sig] != 0) continue;
    if (a->sa[sig].sa_handler != b->sa[sig].sa_handler ||
        a->sa[sig].sa_flags != b->sa[sig].sa_flags) {
      fprintf(stderr, "    signal %d changed\n", sig);
      same = 0;
    }
  }
  return same;
}

int main(void) {
  dispositions before, after;
  read_dispositions(&before);
  test_output();
  test_stdin();
  test_exits();
  test_owner_and_free();
  test_errors();
  test_watch();
  test_supervised();
  test_many();
  read_dispositions(&after);
  CHECK(same_dispositions(&before, &after));
  CHECK(after.sa[SIGCHLD].sa_handler == SIG_DFL);
  CHECK(after.sa[SIGPIPE].sa_handler == SIG_DFL);
  return CHECK_DONE();
}
