/*
 * supervisor_strategies - the three restart strategies side by side.
 *
 * Three supervisors, each with the children a, b and c (started in that
 * order), differ only in their strategy. In each, b crashes:
 *   - one_for_one:  only b is restarted;
 *   - one_for_all:  c and a are stopped (reverse start order), then a, b
 *                   and c start again, in order;
 *   - rest_for_one: the children started after b (c) are stopped, then b
 *                   and c start again.
 * For each, the program prints what the supervisor did (from an event
 * hook) and every child's pid before and after: a restarted child is a new
 * process with a new pid. It exits 1 if a strategy restarted other
 * children than OTP's would.
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

enum { MSG_CRASH = 1 };

static airs_status worker_receive(void* state, airs_ctx* ctx,
                                  const airs_msg* msg) {
  (void)state;
  if (airs_msg_type(msg) == MSG_CRASH)
    return airs_exit(ctx, AIRS_EXIT_ERROR, 1, "crash requested");
  return AIRS_OK;
}

static const airs_behaviour worker = {.version = AIRS_BEHAVIOUR_VERSION,
                                      .size = sizeof(airs_behaviour),
                                      .receive = worker_receive};

static const char* const ids[3] = {"a", "b", "c"};

static const struct {
  airs_strategy strategy;
  const char* name;
  const char* rule;
  const char* restarted; /* what OTP restarts when b crashes */
} strategies[3] = {
    {AIRS_ONE_FOR_ONE, "one_for_one", "only the child that ended restarts",
     "b"},
    {AIRS_ONE_FOR_ALL, "one_for_all", "all children restart", "abc"},
    {AIRS_REST_FOR_ONE, "rest_for_one",
     "the child that ended and those started after it restart", "bc"}};

static const char* pid_str(airs_pid pid, char buf[32]) {
  /* A pid is opaque to hosts (airs.h); for reading, this splits it as the
   * runtime lays it out today: tag 16 | generation 21 | slot 27 bits. */
  snprintf(buf, 32, "<%u.%u>", (unsigned)(pid & ((1u << 27) - 1)),
           (unsigned)((pid >> 27) & ((1u << 21) - 1)));
  return buf;
}

/* ---- the event log ------------------------------------------------------
 * The hook runs on the thread where a supervisor decides (a worker), so it
 * only notes each event; main prints them once the supervisor is done. */

#define LOG_MAX 128

typedef struct logged {
  airs_pid source, pid;
  int32_t kind;
  char id[AIRS_CHILD_ID_MAX + 1];
} logged;

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static logged events[LOG_MAX];
static int n_events;

static void on_event(void* user_data, const airs_event* e) {
  (void)user_data;
  /* The supervisors' decisions only, not every spawn and exit. */
  if (e->kind == AIRS_EVENT_PROCESS_SPAWNED ||
      e->kind == AIRS_EVENT_PROCESS_EXITED)
    return;
  pthread_mutex_lock(&log_lock);
  if (n_events < LOG_MAX) {
    logged* l = &events[n_events++];
    l->source = e->source;
    l->pid = e->pid;
    l->kind = e->kind;
    snprintf(l->id, sizeof l->id, "%s", e->id);
  }
  pthread_mutex_unlock(&log_lock);
}

static int log_size(void) {
  pthread_mutex_lock(&log_lock);
  int n = n_events;
  pthread_mutex_unlock(&log_lock);
  return n;
}

/* Has `pid` been logged as the new pid of a restart? */
static int restart_logged(airs_pid pid) {
  int found = 0;
  pthread_mutex_lock(&log_lock);
  for (int i = 0; i < n_events; i++)
    if (events[i].kind == AIRS_EVENT_CHILD_RESTARTED && events[i].pid == pid)
      found = 1;
  pthread_mutex_unlock(&log_lock);
  return found;
}

/* Prints, on one line, what supervisor `sup` did since log entry `from`:
 * which child ended by itself, which it stopped, which it started. */
static void print_decisions(airs_pid sup, int from) {
  const char* sep = "";
  printf("  supervisor: ");
  pthread_mutex_lock(&log_lock);
  for (int i = from; i < n_events; i++) {
    const logged* l = &events[i];
    if (l->source != sup) continue;
    switch (l->kind) {
      case AIRS_EVENT_CHILD_EXITED:
        /* The end of a child it stopped says nothing new. */
        if (i > from && events[i - 1].kind == AIRS_EVENT_CHILD_STOPPING &&
            events[i - 1].pid == l->pid)
          continue;
        printf("%s%s exited", sep, l->id);
        break;
      case AIRS_EVENT_CHILD_STOPPING: printf("%sstop %s", sep, l->id); break;
      case AIRS_EVENT_CHILD_STARTED: printf("%sstart %s", sep, l->id); break;
      default: continue; /* the rest shows in the pids below */
    }
    sep = ", ";
  }
  pthread_mutex_unlock(&log_lock);
  printf("\n");
}

/* The pids of a, b and c (0 for a child that is not running). */
static int read_pids(airs_runtime* rt, airs_pid sup, airs_pid pids[3]) {
  airs_child_info rows[3];
  size_t n = 0;
  if (airs_supervisor_which_children(rt, sup, rows, 3, &n) != AIRS_OK || n != 3)
    return -1;
  for (int i = 0; i < 3; i++)
    pids[i] = rows[i].state == AIRS_CHILD_RUNNING ? rows[i].pid : 0;
  return 0;
}

/* Crashes b of `sup` and waits (at most 2 s) until all three children run
 * again, b as a new process, and every restart has been logged. Prints the
 * result; 1 if it is what OTP does, 0 if not, -1 on an error. */
static int crash_b(airs_runtime* rt, airs_pid sup, int s) {
  airs_pid before[3], after[3];
  char x[32], y[32];
  int from = log_size();
  if (read_pids(rt, sup, before) != 0) return -1;
  if (airs_send(rt, before[1], MSG_CRASH, NULL, 0) != AIRS_OK) return -1;
  for (int ms = 0;; ms++) {
    if (ms == 2000) return -1;
    if (read_pids(rt, sup, after) != 0) return -1;
    int done = after[1] != before[1];
    for (int i = 0; i < 3; i++)
      if (after[i] == 0 || (after[i] != before[i] && !restart_logged(after[i])))
        done = 0;
    if (done) break;
    nanosleep(&(struct timespec){0, 1000000}, NULL); /* 1 ms */
  }
  print_decisions(sup, from);
  int as_otp = 1;
  for (int i = 0; i < 3; i++) {
    int restarted = after[i] != before[i];
    if (restarted)
      printf("  %s: %s -> %s (restarted)\n", ids[i], pid_str(before[i], x),
             pid_str(after[i], y));
    else
      printf("  %s: %s (kept)\n", ids[i], pid_str(before[i], x));
    if (restarted != (strchr(strategies[s].restarted, ids[i][0]) != NULL))
      as_otp = 0;
  }
  return as_otp;
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

  /* Three supervisors, the same children, different strategies. One crash
   * each stays within OTP's default intensity (1 restart in 5 s): a group
   * restart counts once. */
  airs_pid sups[3];
  for (int s = 0; s < 3; s++) {
    airs_sup_flags flags;
    CHECK(airs_sup_flags_init(&flags));
    flags.strategy = strategies[s].strategy;
    airs_sup_spec* spec;
    CHECK(airs_sup_spec_new(&flags, &spec));
    for (int i = 0; i < 3; i++) {
      airs_child_spec child;
      CHECK(airs_child_spec_init(&child));
      child.id = ids[i];
      child.behaviour = &worker;
      CHECK(airs_sup_spec_add_child(spec, &child));
    }
    st = airs_supervisor_start(rt, spec, &sups[s]);
    airs_sup_spec_free(spec); /* the supervisor keeps its own reference */
    CHECK(st);
  }

  int ok = 1;
  for (int s = 0; s < 3; s++) {
    printf("%s (%s): b crashes\n", strategies[s].name, strategies[s].rule);
    int r = crash_b(rt, sups[s], s);
    if (r < 0) {
      fprintf(stderr, "%s: the children did not all run again\n",
              strategies[s].name);
      return 1;
    }
    if (r == 0) ok = 0;
  }
  printf("%s\n", ok ? "each strategy restarted the children OTP's does"
                    : "UNEXPECTED: a strategy restarted other children");

  CHECK(airs_set_event_hook(rt, NULL, NULL));
  airs_runtime_free(rt); /* stops the supervisors, then their children */
  return ok ? 0 : 1;
}
