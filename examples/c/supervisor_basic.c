/*
 * supervisor_basic - a one_for_one supervisor and the three restart
 * policies of OTP's supervisor.
 *
 * The supervisor has three children, one per restart policy:
 *   - "perm"  (permanent): restarted whenever it ends;
 *   - "trans" (transient): restarted only when it ends abnormally (not
 *     after a normal or shutdown exit);
 *   - "temp"  (temporary): never restarted; its spec is dropped when it
 *     ends.
 * Each child is told to crash (an error exit), then to exit normally. A
 * restarted child is a new process with a new pid: main reads the pids with
 * airs_supervisor_which_children, and an event hook logs each decision of
 * the supervisor. The summary at the end checks the outcome; the program
 * exits 1 if the supervisor did not do what OTP's would.
 *
 * Pids print as <slot.generation>: a slot is reused by later processes, the
 * generation tells them apart.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */

#include <airs/airs.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum { MSG_CRASH = 1, MSG_QUIT = 2 };

/* A worker has no state of its own: it just obeys the two commands. */
static airs_status worker_receive(void* state, airs_ctx* ctx,
                                  const airs_msg* msg) {
  (void)state;
  switch (airs_msg_type(msg)) {
    case MSG_CRASH:
      return airs_exit(ctx, AIRS_EXIT_ERROR, 1, "crash requested");
    case MSG_QUIT: return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
    default: return AIRS_OK;
  }
}

static const airs_behaviour worker = {.version = AIRS_BEHAVIOUR_VERSION,
                                      .size = sizeof(airs_behaviour),
                                      .receive = worker_receive};

/* The children, and what OTP's supervisor does with them here: how often
 * it restarts each, and the state each ends in (-1: spec dropped). */
static const struct {
  const char* id;
  airs_restart restart;
  const char* policy;
  int restarts, state;
} kids[3] = {
    {"perm", AIRS_RESTART_PERMANENT, "permanent", 2, AIRS_CHILD_RUNNING},
    {"trans", AIRS_RESTART_TRANSIENT, "transient", 1, AIRS_CHILD_STOPPED},
    {"temp", AIRS_RESTART_TEMPORARY, "temporary", 0, -1}};

static const char* pid_str(airs_pid pid, char buf[32]) {
  /* A pid is opaque to hosts (airs.h); for reading, this splits it as the
   * runtime lays it out today: tag 16 | generation 21 | slot 27 bits. */
  snprintf(buf, 32, "<%u.%u>", (unsigned)(pid & ((1u << 27) - 1)),
           (unsigned)((pid >> 27) & ((1u << 21) - 1)));
  return buf;
}

/* ---- the event log ------------------------------------------------------
 * The hook runs on the thread where the supervisor decides (a worker), so
 * it only writes each event as a line into a log; main prints the log once
 * the supervisor is done, which keeps the output in order. */

#define LOG_MAX 64

typedef struct logged {
  int32_t kind;
  airs_pid pid;
  char id[AIRS_CHILD_ID_MAX + 1];
  char line[160];
} logged;

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static logged events[LOG_MAX];
static int n_events, n_printed;

static void on_event(void* user_data, const airs_event* e) {
  static const char* const why[] = {"normal", "shutdown", "killed", "error",
                                    "noproc"};
  char a[32], b[32];
  (void)user_data;
  /* This demo shows the supervisor's decisions, not every spawn and exit. */
  if (e->kind == AIRS_EVENT_PROCESS_SPAWNED ||
      e->kind == AIRS_EVENT_PROCESS_EXITED)
    return;
  pthread_mutex_lock(&log_lock);
  if (n_events < LOG_MAX) {
    logged* l = &events[n_events++];
    l->kind = e->kind;
    l->pid = e->pid;
    snprintf(l->id, sizeof l->id, "%s", e->id);
    switch (e->kind) {
      case AIRS_EVENT_CHILD_STARTED:
        snprintf(l->line, sizeof l->line, "%s started as %s", e->id,
                 pid_str(e->pid, a));
        break;
      case AIRS_EVENT_CHILD_EXITED: {
        airs_exit_kind k = airs_reason_kind(e->reason);
        snprintf(l->line, sizeof l->line, "%s %s exited: %s%s%s", e->id,
                 pid_str(e->pid, a), why[k], k == AIRS_EXIT_ERROR ? ", " : "",
                 k == AIRS_EXIT_ERROR ? airs_reason_text(e->reason) : "");
        break;
      }
      case AIRS_EVENT_STRATEGY_APPLIED:
        snprintf(l->line, sizeof l->line, "one_for_one: restart %s only",
                 e->id);
        break;
      case AIRS_EVENT_CHILD_RESTARTED:
        snprintf(l->line, sizeof l->line, "%s restarted: %s -> %s", e->id,
                 pid_str(e->other, a), pid_str(e->pid, b));
        break;
      default: snprintf(l->line, sizeof l->line, "%s", e->text);
    }
  }
  pthread_mutex_unlock(&log_lock);
}

/* How many events of `kind` about pid `pid` (or, if 0, about child `id`)? */
static int count_events(int32_t kind, airs_pid pid, const char* id) {
  int n = 0;
  pthread_mutex_lock(&log_lock);
  for (int i = 0; i < n_events; i++)
    if (events[i].kind == kind &&
        (pid ? events[i].pid == pid : strcmp(events[i].id, id) == 0))
      n++;
  pthread_mutex_unlock(&log_lock);
  return n;
}

/* Prints the events logged since the last call. */
static void print_events(void) {
  pthread_mutex_lock(&log_lock);
  for (; n_printed < n_events; n_printed++)
    printf("    event: %s\n", events[n_printed].line);
  pthread_mutex_unlock(&log_lock);
}

/* The row of child `id` in *row; 0 if the supervisor has no such child. */
static int find_child(airs_runtime* rt, airs_pid sup, const char* id,
                      airs_child_info* row) {
  airs_child_info rows[8];
  size_t n = 0;
  if (airs_supervisor_which_children(rt, sup, rows, 8, &n) != AIRS_OK) return 0;
  for (size_t i = 0; i < n && i < 8; i++)
    if (strcmp(rows[i].id, id) == 0) {
      *row = rows[i];
      return 1;
    }
  return 0;
}

/* Sends `cmd` to child `id`, waits (at most 2 s) until the supervisor has
 * dealt with the end of that process, and prints what it did: a restart
 * shows as a new pid in airs_supervisor_which_children, no restart as a
 * stopped child or no child at all. -1 if it never happens. */
static int tell(airs_runtime* rt, airs_pid sup, const char* id, uint64_t cmd,
                const char* what) {
  char a[32];
  airs_child_info row;
  if (!find_child(rt, sup, id, &row)) {
    printf("%s is gone: nothing left to %s\n", id, what);
    return 0;
  }
  airs_pid old = row.pid;
  printf("%s %s: told to %s\n", id, pid_str(old, a), what);
  if (airs_send(rt, old, cmd, NULL, 0) != AIRS_OK) return -1;
  for (int ms = 0; ms < 2000; ms++) {
    int found = find_child(rt, sup, id, &row);
    int exited = count_events(AIRS_EVENT_CHILD_EXITED, old, "");
    const char* outcome = NULL;
    if (found && row.state == AIRS_CHILD_RUNNING && row.pid != old &&
        count_events(AIRS_EVENT_CHILD_RESTARTED, row.pid, ""))
      outcome = "restarted as a new process";
    else if (exited && !found)
      outcome = "not restarted, spec dropped";
    else if (exited && row.state == AIRS_CHILD_STOPPED)
      outcome = "not restarted, spec kept (stopped)";
    if (outcome) {
      print_events();
      printf("  => %s\n", outcome);
      return 0;
    }
    nanosleep(&(struct timespec){0, 1000000}, NULL); /* 1 ms */
  }
  fprintf(stderr, "the supervisor did not deal with the end of %s\n", id);
  return -1;
}

#define CHECK(call)                                                      \
  do {                                                                   \
    airs_status st_ = (call);                                            \
    if (st_ != AIRS_OK) {                                                \
      fprintf(stderr, "%s failed: %s (%s)\n", #call, airs_strerror(st_), \
              airs_last_error_message());                                \
      return 1;                                                          \
    }                                                                    \
  } while (0)

int main(void) {
  CHECK(AIRS_CHECK_ABI());
  airs_config* cfg;
  CHECK(airs_config_new(&cfg));
  CHECK(airs_config_set(cfg, AIRS_CFG_WORKERS, 2));
  airs_runtime* rt;
  airs_status st = airs_runtime_new(cfg, &rt);
  airs_config_free(cfg);
  CHECK(st);
  CHECK(airs_set_event_hook(rt, on_event, NULL));

  /* OTP's default intensity gives up after more than 1 restart in 5 s; this
   * demo restarts three times within milliseconds, so it allows more. */
  airs_sup_flags flags;
  CHECK(airs_sup_flags_init(&flags));
  flags.strategy = AIRS_ONE_FOR_ONE;
  flags.intensity = 10;
  flags.period_ms = 1000;
  airs_sup_spec* spec;
  CHECK(airs_sup_spec_new(&flags, &spec));
  for (int i = 0; i < 3; i++) {
    airs_child_spec child;
    CHECK(airs_child_spec_init(&child));
    child.id = kids[i].id;
    child.behaviour = &worker;
    child.restart = kids[i].restart;
    CHECK(airs_sup_spec_add_child(spec, &child));
  }
  /* The children start in order before this returns; the supervisor keeps
   * its own reference to the spec. */
  airs_pid sup;
  st = airs_supervisor_start(rt, spec, &sup);
  airs_sup_spec_free(spec);
  CHECK(st);
  char buf[32];
  printf("one_for_one supervisor %s started perm, trans and temp\n",
         pid_str(sup, buf));
  print_events();

  for (int i = 0; i < 3; i++) {
    if (tell(rt, sup, kids[i].id, MSG_CRASH, "crash") != 0) return 1;
    if (tell(rt, sup, kids[i].id, MSG_QUIT, "exit normally") != 0) return 1;
  }

  /* Count the restarts in the log; compare with what OTP's supervisor does. */
  printf("\nsummary:\n");
  int ok = 1;
  for (int i = 0; i < 3; i++) {
    int restarts = count_events(AIRS_EVENT_CHILD_RESTARTED, 0, kids[i].id);
    airs_child_info row;
    int state = find_child(rt, sup, kids[i].id, &row) ? row.state : -1;
    printf("  %-5s (%s): restarted %d time%s, %s\n", kids[i].id, kids[i].policy,
           restarts, restarts == 1 ? "" : "s",
           state == AIRS_CHILD_RUNNING   ? "running"
           : state == AIRS_CHILD_STOPPED ? "stopped, spec kept"
           : state < 0                   ? "spec dropped"
                                         : "in another state");
    if (restarts != kids[i].restarts || state != kids[i].state) ok = 0;
  }
  printf("%s\n", ok ? "as OTP: permanent always restarts, transient only "
                      "after an abnormal exit, temporary never"
                    : "UNEXPECTED: this is not what OTP's supervisor does");

  CHECK(airs_set_event_hook(rt, NULL, NULL));
  airs_runtime_free(rt); /* stops the supervisor, then its children */
  return ok ? 0 : 1;
}
