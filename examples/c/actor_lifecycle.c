/*
 * actor_lifecycle - how processes start, end, and learn about each other's
 * ends: init and terminate, links, trap_exit, monitors and exit reasons.
 *
 * A parent that traps exits starts three linked workers and monitors each:
 *   - "crasher" fails with an error code and text: the link turns the
 *     crash into an AIRS_MSG_EXIT message for the parent (it traps exits,
 *     so it survives), and the monitor reports an AIRS_MSG_DOWN;
 *   - "victim" is killed with airs_kill: killed cannot be trapped by the
 *     victim, but the parent is told like any other exit;
 *   - "finisher" ends normally: a normal exit does not take linked
 *     processes down (the parent gets an EXIT message only because it
 *     traps exits).
 * Then an untrapping "bystander" linked to a crashing "doomed" process
 * shows what a link does to a process that does not trap exits, and
 * freeing the runtime asks the parent to shut down.
 *
 * The runtime is host-driven (no worker threads): main runs the processes
 * with airs_runtime_poll, so the output is the same on every run.
 */
#include <airs/airs.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MSG_START = 1, MSG_WORK = 2, MSG_CRASH = 3, MSG_FINISH = 4 };

static const char* kind_name(airs_exit_kind kind) {
  switch (kind) {
    case AIRS_EXIT_NORMAL: return "normal";
    case AIRS_EXIT_SHUTDOWN: return "shutdown";
    case AIRS_EXIT_KILLED: return "killed";
    case AIRS_EXIT_ERROR: return "error";
    case AIRS_EXIT_NOPROC: return "noproc";
    case AIRS_EXIT_NOCONNECTION: return "noconnection";
  }
  return "?";
}

static void print_reason(const airs_reason* r) {
  printf("%s", kind_name(airs_reason_kind(r)));
  if (airs_reason_kind(r) == AIRS_EXIT_ERROR)
    printf(" (code %d, \"%s\")", airs_reason_code(r), airs_reason_text(r));
}

/* ---- workers ------------------------------------------------------------
 * A worker's user_data is its name (a static string); its state is a small
 * struct that init makes and terminate frees, as every start gets a fresh
 * one. */

typedef struct worker {
  const char* name;
  int jobs;
} worker;

static airs_status worker_init(void* user_data, airs_ctx* ctx, void** state) {
  worker* w = malloc(sizeof *w);
  if (!w) return AIRS_ENOMEM;
  w->name = user_data;
  w->jobs = 0;
  *state = w;
  printf("  [%s] init\n", w->name);
  /* A name lets main find the worker; it is released when the process
   * ends. If init fails, terminate is not called: free the state here. */
  airs_status st =
      airs_register(airs_ctx_runtime(ctx), w->name, airs_self(ctx));
  if (st != AIRS_OK) free(w);
  return st;
}

static airs_status worker_receive(void* state, airs_ctx* ctx,
                                  const airs_msg* msg) {
  worker* w = state;
  switch (airs_msg_type(msg)) {
    case MSG_WORK:
      w->jobs++;
      printf("  [%s] did job %d\n", w->name, w->jobs);
      return AIRS_OK;
    case MSG_CRASH:
      /* An error exit carries a code and a text to whoever is told. */
      printf("  [%s] crashing\n", w->name);
      return airs_exit(ctx, AIRS_EXIT_ERROR, 42, "disk full");
    case MSG_FINISH:
      printf("  [%s] done, exiting normally\n", w->name);
      return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
    default: return AIRS_OK;
  }
}

/* Runs exactly once however the process ends (even when killed), so it is
 * where the state is freed. */
static void worker_terminate(void* state, airs_ctx* ctx,
                             const airs_reason* reason) {
  worker* w = state;
  (void)ctx;
  printf("  [%s] terminate after %d job(s), reason: ", w->name, w->jobs);
  print_reason(reason);
  printf("\n");
  free(w);
}

static const airs_behaviour worker_behaviour = {AIRS_BEHAVIOUR_VERSION,
                                                sizeof(airs_behaviour),
                                                worker_init,
                                                worker_receive,
                                                worker_terminate,
                                                NULL,
                                                NULL};

/* ---- the parent ---------------------------------------------------------
 * Traps exits, so the exits of linked workers arrive as messages instead
 * of taking it down. It also monitors each worker: a monitor is one-way
 * and reports the same reason as an AIRS_MSG_DOWN. */

#define WORKERS 3

typedef struct parent {
  const char* names[WORKERS];
  airs_pid pids[WORKERS];
  uint64_t refs[WORKERS];
} parent;

static const char* name_of(const parent* p, airs_pid pid) {
  for (int i = 0; i < WORKERS; i++)
    if (p->pids[i] == pid) return p->names[i];
  return "?";
}

static airs_status parent_init(void* user_data, airs_ctx* ctx, void** state) {
  (void)user_data;
  airs_status st = airs_trap_exit(ctx, true);
  if (st != AIRS_OK) return st;
  parent* p = calloc(1, sizeof *p);
  if (!p) return AIRS_ENOMEM;
  p->names[0] = "crasher";
  p->names[1] = "victim";
  p->names[2] = "finisher";
  *state = p;
  printf("  [parent] init: trapping exits\n");
  return AIRS_OK;
}

static airs_status parent_receive(void* state, airs_ctx* ctx,
                                  const airs_msg* msg) {
  parent* p = state;
  switch (airs_msg_type(msg)) {
    case MSG_START: {
      /* AIRS_SPAWN_LINK links each child to us before it can run. */
      airs_spawn_opts opts;
      airs_status st = airs_spawn_opts_init(airs_ctx_runtime(ctx), &opts);
      if (st != AIRS_OK) return st;
      opts.flags = AIRS_SPAWN_LINK;
      for (int i = 0; i < WORKERS; i++) {
        st = airs_ctx_spawn(ctx, &worker_behaviour, (void*)p->names[i], NULL,
                            &opts, &p->pids[i]);
        if (st != AIRS_OK) return st;
        st = airs_monitor(ctx, p->pids[i], &p->refs[i]);
        if (st != AIRS_OK) return st;
      }
      printf("  [parent] started and monitors %d linked workers\n", WORKERS);
      return AIRS_OK;
    }
    case AIRS_MSG_EXIT:
      if (airs_msg_sender(msg) == AIRS_NO_PID) {
        /* Not from a link: airs_runtime_free asks every process to shut
         * down, and a trapping process gets that as a message too. */
        printf("  [parent] asked to shut down, exiting\n");
        return airs_exit(ctx, AIRS_EXIT_SHUTDOWN, 0, NULL);
      }
      /* A linked process ended; the sender is the process that did. */
      printf("  [parent] EXIT from %s: ", name_of(p, airs_msg_sender(msg)));
      print_reason(airs_msg_reason(msg));
      printf("\n");
      return AIRS_OK;
    case AIRS_MSG_DOWN:
      /* A monitor fired; the correlation id is the ref monitor gave us. */
      for (int i = 0; i < WORKERS; i++)
        if (p->refs[i] == airs_msg_correlation(msg)) {
          printf("  [parent] DOWN for %s: ", p->names[i]);
          print_reason(airs_msg_reason(msg));
          printf("\n");
        }
      return AIRS_OK;
    default: return AIRS_OK;
  }
}

static void parent_terminate(void* state, airs_ctx* ctx,
                             const airs_reason* reason) {
  (void)ctx;
  printf("  [parent] terminate, reason: ");
  print_reason(reason);
  printf("\n");
  free(state);
}

static const airs_behaviour parent_behaviour = {AIRS_BEHAVIOUR_VERSION,
                                                sizeof(airs_behaviour),
                                                parent_init,
                                                parent_receive,
                                                parent_terminate,
                                                NULL,
                                                NULL};

/* ---- a process that does not trap exits ---------------------------------
 * The bystander links to the pid it is sent; when that process crashes,
 * the exit signal ends the bystander too, with the same reason. */

static airs_status bystander_receive(void* state, airs_ctx* ctx,
                                     const airs_msg* msg) {
  (void)state;
  if (airs_msg_type(msg) != MSG_START) return AIRS_OK;
  airs_pid other;
  memcpy(&other, airs_msg_data(msg), sizeof other);
  printf("  [bystander] linking to doomed (not trapping exits)\n");
  return airs_link(ctx, other);
}

static void bystander_terminate(void* state, airs_ctx* ctx,
                                const airs_reason* reason) {
  (void)state;
  (void)ctx;
  printf("  [bystander] terminate, reason: ");
  print_reason(reason);
  printf("\n");
}

static const airs_behaviour bystander_behaviour = {AIRS_BEHAVIOUR_VERSION,
                                                   sizeof(airs_behaviour),
                                                   NULL,
                                                   bystander_receive,
                                                   bystander_terminate,
                                                   NULL,
                                                   NULL};

#define CHECK(call)                                                      \
  do {                                                                   \
    airs_status st_ = (call);                                            \
    if (st_ != AIRS_OK) {                                                \
      fprintf(stderr, "%s failed: %s (%s)\n", #call, airs_strerror(st_), \
              airs_last_error_message());                                \
      return 1;                                                          \
    }                                                                    \
  } while (0)

/* Host-driven mode: run processes until none has anything left to do. */
static airs_status run_until_idle(airs_runtime* rt) {
  uint32_t ran;
  do {
    airs_status st = airs_runtime_poll(rt, 64, &ran);
    if (st != AIRS_OK) return st;
  } while (ran > 0);
  return AIRS_OK;
}

int main(void) {
  CHECK(AIRS_CHECK_ABI());

  airs_config* cfg;
  CHECK(airs_config_new(&cfg));
  CHECK(airs_config_set(cfg, AIRS_CFG_WORKERS, 0)); /* host-driven */
  airs_runtime* rt;
  airs_status st = airs_runtime_new(cfg, &rt);
  airs_config_free(cfg);
  CHECK(st);

  printf("1. a trapping parent links to and monitors three workers\n");
  airs_pid parent_pid;
  CHECK(airs_spawn(rt, &parent_behaviour, NULL, NULL, NULL, &parent_pid));
  CHECK(airs_send(rt, parent_pid, MSG_START, NULL, 0));
  CHECK(run_until_idle(rt));

  /* The workers registered their names in init. */
  airs_pid crasher, victim, finisher;
  CHECK(airs_whereis(rt, "crasher", &crasher));
  CHECK(airs_whereis(rt, "victim", &victim));
  CHECK(airs_whereis(rt, "finisher", &finisher));
  CHECK(airs_send(rt, crasher, MSG_WORK, NULL, 0));
  CHECK(airs_send(rt, victim, MSG_WORK, NULL, 0));
  CHECK(airs_send(rt, victim, MSG_WORK, NULL, 0));
  CHECK(airs_send(rt, finisher, MSG_WORK, NULL, 0));
  CHECK(run_until_idle(rt));

  printf("2. crasher fails with an error\n");
  CHECK(airs_send(rt, crasher, MSG_CRASH, NULL, 0));
  CHECK(run_until_idle(rt));

  printf("3. victim is killed (untrappable for the victim itself)\n");
  CHECK(airs_kill(rt, victim));
  CHECK(run_until_idle(rt));

  printf("4. finisher exits normally: the parent lives on\n");
  CHECK(airs_send(rt, finisher, MSG_FINISH, NULL, 0));
  CHECK(run_until_idle(rt));
  printf("   parent alive: %s\n", airs_is_alive(rt, parent_pid) ? "yes" : "no");

  printf("5. a link takes down a process that does not trap exits\n");
  airs_pid doomed, bystander;
  CHECK(airs_spawn(rt, &worker_behaviour, "doomed", NULL, NULL, &doomed));
  CHECK(airs_spawn(rt, &bystander_behaviour, NULL, NULL, NULL, &bystander));
  CHECK(airs_send(rt, bystander, MSG_START, &doomed, sizeof doomed));
  CHECK(run_until_idle(rt));
  CHECK(airs_send(rt, doomed, MSG_CRASH, NULL, 0));
  CHECK(run_until_idle(rt));
  printf("   bystander alive: %s\n",
         airs_is_alive(rt, bystander) ? "yes" : "no");

  /* Whatever is still alive gets a shutdown exit signal here. */
  printf("6. freeing the runtime stops the processes still alive\n");
  airs_runtime_free(rt);
  printf("runtime stopped\n");
  return 0;
}
