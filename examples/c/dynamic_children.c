/*
 * dynamic_children - a simple_one_for_one supervisor: a pool of children
 * made on demand from one template, each with an argument of its own.
 *
 * One session per user (alice, bob, carol) is started with
 * airs_supervisor_start_dynamic_child; the argument is the user's record,
 * which init gets on every start. Then: alice crashes and is restarted
 * with the same argument; bob ends normally and, transient, is not;
 * carol is stopped by pid. Checks: the running children at each step,
 * and that each record was freed once, when its child was gone for good
 * (alice's after two starts).
 *
 * Run: ./build/examples/dynamic_children
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */

#include <airs/airs.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { MSG_CRASH = 1, MSG_DONE = 2 };

typedef struct user {
  char name[16];
  int starts; /* init counts them */
} user;

/* Runs once a child is gone for good, on the supervisor's thread: main
 * reads what it wrote after airs_runtime_free. */
static char freed[3][32];
static int users_freed;
static void user_free(void* arg) {
  user* u = arg;
  if (users_freed < 3)
    snprintf(freed[users_freed++], sizeof freed[0], "%s:%d", u->name,
             u->starts);
  free(u);
}

static airs_status session_init(void* arg, airs_ctx* ctx, void** state) {
  (void)ctx;
  ((user*)arg)->starts++;
  *state = arg; /* a fresh state would go here; the record is enough */
  return AIRS_OK;
}

static airs_status session_receive(void* state, airs_ctx* ctx,
                                   const airs_msg* msg) {
  (void)state;
  if (airs_msg_type(msg) == MSG_CRASH) return AIRS_EINTERNAL; /* restarted */
  if (airs_msg_type(msg) == MSG_DONE)
    return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL); /* transient: not */
  return AIRS_OK;
}

/* Running children once the supervisor has seen `gone` end (up to 2 s):
 * until then its row still holds that pid. */
static unsigned running(airs_runtime* rt, airs_pid sup, airs_pid gone,
                        unsigned want) {
  unsigned n = 0;
  for (int tries = 0; tries < 200; tries++) {
    airs_child_info rows[4];
    size_t count = 0;
    int seen_gone = 0;
    airs_supervisor_which_children(rt, sup, rows, 4, &count);
    n = 0;
    for (size_t i = 0; i < count && i < 4; i++) {
      if (rows[i].pid == gone) seen_gone = 1;
      if (rows[i].state == AIRS_CHILD_RUNNING) n++;
    }
    if (!seen_gone && n == want) break;
    struct timespec ten_ms = {0, 10000000L};
    nanosleep(&ten_ms, NULL);
  }
  return n;
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
  airs_runtime* rt;
  CHECK(airs_runtime_new(NULL, &rt));

  airs_sup_flags flags;
  airs_sup_flags_init(&flags);
  flags.strategy = AIRS_SIMPLE_ONE_FOR_ONE;
  flags.intensity = 5;
  airs_sup_spec* spec;
  CHECK(airs_sup_spec_new(&flags, &spec));
  airs_behaviour b = {.version = AIRS_BEHAVIOUR_VERSION,
                      .size = sizeof b,
                      .init = session_init,
                      .receive = session_receive};
  airs_child_spec tmpl; /* the template: no id, no user_data of its own */
  airs_child_spec_init(&tmpl);
  tmpl.behaviour = &b;
  tmpl.restart = AIRS_RESTART_TRANSIENT;
  CHECK(airs_sup_spec_add_child(spec, &tmpl));
  airs_pid sup;
  CHECK(airs_supervisor_start(rt, spec, &sup));
  airs_sup_spec_free(spec);

  const char* names[] = {"alice", "bob", "carol"};
  airs_pid pid[3];
  for (int i = 0; i < 3; i++) {
    user* u = calloc(1, sizeof *u);
    if (!u) return 1;
    snprintf(u->name, sizeof u->name, "%s", names[i]);
    CHECK(airs_supervisor_start_dynamic_child(rt, sup, u, user_free, &pid[i]));
  }
  unsigned started = running(rt, sup, 0, 3);

  CHECK(airs_send(rt, pid[0], MSG_CRASH, NULL, 0));
  CHECK(airs_wait(rt, pid[0], 5000));
  unsigned after_crash = running(rt, sup, pid[0], 3);
  CHECK(airs_send(rt, pid[1], MSG_DONE, NULL, 0));
  CHECK(airs_wait(rt, pid[1], 5000));
  unsigned after_done = running(rt, sup, pid[1], 2);
  CHECK(airs_supervisor_terminate_child_pid(rt, sup, pid[2]));
  unsigned after_stop = running(rt, sup, pid[2], 1);

  airs_runtime_free(rt); /* stops the supervisor: alice goes for good */

  printf(
      "running: %u, after alice's crash %u, after bob's end %u, after "
      "carol's stop %u\n",
      started, after_crash, after_done, after_stop);
  printf("records freed (name:starts): %s %s %s\n", freed[0], freed[1],
         freed[2]);
  int ok = started == 3 && after_crash == 3 && after_done == 2 &&
           after_stop == 1 && users_freed == 3 &&
           strcmp(freed[0], "bob:1") == 0 && strcmp(freed[1], "carol:1") == 0 &&
           strcmp(freed[2], "alice:2") == 0;
  printf("%s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
