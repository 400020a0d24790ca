/*
 * observer - a small supervision tree, seen from outside while it runs
 * (observe.h): the tree, the busiest processes, crash reports through a
 * log hook, and the metrics in Prometheus text format.
 *
 *   observer                  runs the tree for 2 s with the observer
 *                             page open (its address first); each second
 *                             prints the 3 processes that handled the
 *                             most messages in that second, and the tree
 *   observer --print-metrics  runs it for half a second, prints one
 *                             exposition of the metrics and exits
 *   observer --serve S [ADDR] runs it for S seconds with the observer
 *                             endpoint open on ADDR (127.0.0.1:0 by
 *                             default: any free port), and prints the
 *                             page's address first: open it in a browser
 *
 * The tree: "app" (one_for_one) with a worker "db" that answers every
 * "tick", a supervisor "jobs" with three workers, and "flaky", which
 * crashes every 200 ms and is restarted. A ticker (outside the tree) sends
 * each worker a message every millisecond. "db" is timed by name
 * (airs_timing_track): the metrics carry histograms of how long its
 * messages wait and how long its receive takes.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */

#include <airs/airs.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { MSG_TICK = 1, MSG_CRASH = 2 };

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* ---- the actors ---------------------------------------------------------- */

static airs_status worker_receive(void* state, airs_ctx* ctx,
                                  const airs_msg* msg) {
  (void)state;
  if (airs_msg_type(msg) == MSG_CRASH)
    return airs_exit(ctx, AIRS_EXIT_ERROR, 7, "crashed on purpose");
  return AIRS_OK;
}

static const airs_behaviour worker = {.version = AIRS_BEHAVIOUR_VERSION,
                                      .size = sizeof(airs_behaviour),
                                      .receive = worker_receive};

/* flaky asks for its own crash 200 ms after each start. */
static airs_status flaky_init(void* user_data, airs_ctx* ctx, void** state) {
  airs_msg* m = NULL;
  (void)user_data;
  *state = NULL;
  airs_set_label(ctx, "flaky worker");
  if (airs_msg_new(MSG_CRASH, NULL, 0, &m) != AIRS_OK) return AIRS_ENOMEM;
  if (airs_send_after(airs_ctx_runtime(ctx), airs_self(ctx), 200, m, NULL) !=
      AIRS_OK)
    airs_msg_free(m);
  return AIRS_OK;
}

static const airs_behaviour flaky = {.version = AIRS_BEHAVIOUR_VERSION,
                                     .size = sizeof(airs_behaviour),
                                     .init = flaky_init,
                                     .receive = worker_receive};

/* ---- the tree ------------------------------------------------------------ */

static airs_child_spec child(const char* id, const airs_behaviour* b) {
  airs_child_spec c;
  airs_child_spec_init(&c);
  c.id = id;
  c.behaviour = b;
  return c;
}

static airs_status start_tree(airs_runtime* rt, airs_pid* app) {
  airs_sup_flags f;
  airs_sup_spec *top = NULL, *jobs = NULL;
  airs_child_spec c;
  airs_status st;
  airs_sup_flags_init(&f);
  f.intensity = 100; /* flaky restarts 5 times a second */
  if ((st = airs_sup_spec_new(&f, &jobs)) != AIRS_OK) return st;
  if ((st = airs_sup_spec_new(&f, &top)) != AIRS_OK) {
    airs_sup_spec_free(jobs);
    return st;
  }
  c = child("job-1", &worker);
  airs_sup_spec_add_child(jobs, &c);
  c = child("job-2", &worker);
  airs_sup_spec_add_child(jobs, &c);
  c = child("job-3", &worker);
  airs_sup_spec_add_child(jobs, &c);
  c = child("db", &worker);
  c.name = "db";
  airs_sup_spec_add_child(top, &c);
  airs_child_spec_init(&c);
  c.id = "jobs";
  c.supervisor = jobs;
  c.type = AIRS_CHILD_SUPERVISOR;
  airs_sup_spec_add_child(top, &c);
  c = child("flaky", &flaky);
  airs_sup_spec_add_child(top, &c);
  st = airs_supervisor_start(rt, top, app);
  airs_sup_spec_free(jobs);
  airs_sup_spec_free(top);
  return st;
}

/* The ticker: every worker of the tree gets a tick, db three. */
typedef struct ticks {
  airs_runtime* rt;
  int n;
  airs_pid pids[16];
} ticks;

static int collect_worker(void* user_data, const airs_tree_node* node) {
  ticks* t = (ticks*)user_data;
  if (node->type == AIRS_CHILD_WORKER && node->pid && t->n < 16)
    t->pids[t->n++] = node->pid;
  return 0;
}

/* Ticks until told to stop, on a thread of its own (airs_send and the walk
 * are [any thread]). */
typedef struct ticker {
  airs_runtime* rt;
  airs_pid app;
  pthread_mutex_t mu;
  int stop; /* mu */
} ticker;

static int stopped(ticker* tk) {
  int stop;
  pthread_mutex_lock(&tk->mu);
  stop = tk->stop;
  pthread_mutex_unlock(&tk->mu);
  return stop;
}

static void* tick(void* arg) {
  ticker* tk = (ticker*)arg;
  int k;
  while (!stopped(tk)) {
    ticks t;
    airs_pid db = 0;
    memset(&t, 0, sizeof t);
    airs_supervision_walk(tk->rt, tk->app, collect_worker, &t);
    for (k = 0; k < t.n; k++) airs_send(tk->rt, t.pids[k], MSG_TICK, NULL, 0);
    if (airs_whereis(tk->rt, "db", &db) == AIRS_OK)
      for (k = 0; k < 2; k++) airs_send(tk->rt, db, MSG_TICK, NULL, 0);
    sleep_ms(1);
  }
  return NULL;
}

/* ---- what it shows ------------------------------------------------------- */

static void log_line(void* user_data, airs_severity severity,
                     const char* line) {
  (void)user_data;
  (void)severity;
  /* Crash reports and the supervisors' reports (one line each). */
  fprintf(stderr, "log: %s\n", line);
}

static int print_node(void* user_data, const airs_tree_node* node) {
  airs_runtime* rt = (airs_runtime*)user_data;
  airs_process_info info;
  memset(&info, 0, sizeof info);
  info.version = AIRS_PROCESS_INFO_VERSION;
  info.size = sizeof info;
  if (!node->pid || airs_process_info_get(rt, node->pid, &info) != AIRS_OK) {
    printf("  %*s%s (not running)\n", (int)node->depth * 2, "", node->id);
    return 0;
  }
  printf("  %*s%s%s%s  handled %llu, mailbox %llu\n", (int)node->depth * 2, "",
         node->depth ? node->id : "app",
         node->type == AIRS_CHILD_SUPERVISOR ? " (supervisor)" : "",
         info.name[0] ? " [registered]" : "",
         (unsigned long long)info.messages_handled,
         (unsigned long long)info.mailbox_depth);
  return 0;
}

/* The 3 processes that handled the most in the last second (the window
 * is that second: the call returns at its end). */
static void print_top(airs_runtime* rt) {
  airs_top_entry top[3];
  size_t n = 0, i;
  if (airs_process_top(rt, AIRS_TOP_HANDLED, 1000, top, 3, &n) != AIRS_OK)
    return;
  printf("busiest in the last second:\n");
  for (i = 0; i < n; i++) {
    airs_process_info info;
    memset(&info, 0, sizeof info);
    info.version = AIRS_PROCESS_INFO_VERSION;
    info.size = sizeof info;
    airs_process_info_get(rt, top[i].pid, &info);
    printf("  %-12s %llu messages\n",
           info.name[0]    ? info.name
           : info.label[0] ? info.label
                           : "?",
           (unsigned long long)top[i].value);
  }
}

static int print_metrics(airs_runtime* rt) {
  static char text[64 * 1024];
  size_t len = 0;
  if (airs_metrics_write(rt, text, sizeof text, &len) != AIRS_OK) {
    fprintf(stderr, "observer: %s\n", airs_last_error_message());
    return 1;
  }
  fwrite(text, 1, len, stdout);
  return 0;
}

/* Opens the endpoint and says where. */
static int serve(airs_runtime* rt, const char* addr) {
  airs_pid pid = 0;
  airs_addr bound;
  char text[64];
  if (airs_observer_open(rt, addr, &pid, &bound) != AIRS_OK) {
    fprintf(stderr, "observer: %s\n", airs_last_error_message());
    return 1;
  }
  airs_addr_format(&bound, text, sizeof text);
  printf("observer: http://%s/\n", text);
  fflush(stdout);
  return 0;
}

int main(int argc, char** argv) {
  int metrics = argc == 2 && strcmp(argv[1], "--print-metrics") == 0;
  int seconds =
      argc >= 3 && strcmp(argv[1], "--serve") == 0 ? atoi(argv[2]) : 0;
  const char* addr = argc >= 4 ? argv[3] : "127.0.0.1:0";
  airs_runtime* rt = NULL;
  ticker tk;
  pthread_t thread;
  int second, rc = 0;
  if (argc > 1 && !metrics && seconds <= 0) {
    fprintf(stderr,
            "usage: observer [--print-metrics | --serve SECONDS [ADDR]]\n");
    return 2;
  }
  memset(&tk, 0, sizeof tk);
  if (airs_runtime_new(NULL, &rt) != AIRS_OK ||
      airs_set_log_hook(rt, log_line, NULL, AIRS_SEVERITY_WARNING) != AIRS_OK ||
      airs_timing_track(rt, "db") != AIRS_OK ||
      start_tree(rt, &tk.app) != AIRS_OK) {
    fprintf(stderr, "observer: %s\n", airs_last_error_message());
    return 1;
  }
  tk.rt = rt;
  pthread_mutex_init(&tk.mu, NULL);
  if (pthread_create(&thread, NULL, tick, &tk) != 0) return 1;
  if (metrics) {
    sleep_ms(500);
    rc = print_metrics(rt);
  } else if (seconds > 0) {
    rc = serve(rt, addr);
    if (rc == 0) sleep_ms(seconds * 1000);
  } else {
    rc = serve(rt, "127.0.0.1:0"); /* the page, while it runs */
    for (second = 1; second <= 2 && rc == 0; second++) {
      print_top(rt);
      printf("the tree after %d s:\n", second);
      airs_supervision_walk(rt, 0, print_node, rt);
    }
  }
  pthread_mutex_lock(&tk.mu);
  tk.stop = 1;
  pthread_mutex_unlock(&tk.mu);
  pthread_join(thread, NULL);
  pthread_mutex_destroy(&tk.mu);
  airs_runtime_free(rt);
  return rc;
}
