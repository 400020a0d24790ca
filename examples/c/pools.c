/*
 * pools - a named group of workers to spread work over.
 *
 * Three workers join the pool "resize"; main hands out JOBS jobs, each to
 * the member airs_pool_pick gives (round-robin: the members in turn), and
 * each worker counts what it got. Then one worker ends, and the pool
 * drops it by itself; another leaves with airs_pool_leave. Checks: the
 * jobs were spread evenly, the members were listed as they changed, and
 * picks never return a worker that is gone.
 *
 * Run: ./build/examples/pools
 */
#include <airs/airs.h>

#include <stdio.h>

#define WORKERS 3
#define JOBS 9
enum { MSG_JOB = 1 };

static int jobs_done[WORKERS]; /* per worker; read after runtime_free */

static airs_status worker_receive(void* state, airs_ctx* ctx,
                                  const airs_msg* msg) {
  (void)ctx;
  (void)msg;
  int* done = state; /* no init: the state is the spawn's user_data */
  (*done)++;
  return AIRS_OK;
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

/* How many members the pool has now. */
static size_t members(airs_runtime* rt) {
  size_t n = 0;
  airs_pool_members(rt, "resize", NULL, 0, &n);
  return n;
}

int main(void) {
  airs_runtime* rt;
  CHECK(airs_runtime_new(NULL, &rt));
  airs_behaviour b = {.version = AIRS_BEHAVIOUR_VERSION,
                      .size = sizeof b,
                      .receive = worker_receive};
  airs_pid w[WORKERS];
  for (int i = 0; i < WORKERS; i++) {
    CHECK(airs_spawn(rt, &b, &jobs_done[i], NULL, NULL, &w[i]));
    CHECK(airs_pool_join(rt, "resize", w[i]));
  }
  size_t full = members(rt);

  for (int j = 0; j < JOBS; j++) {
    airs_pid to;
    CHECK(airs_pool_pick(rt, "resize", AIRS_PICK_ROUND_ROBIN, &to));
    CHECK(airs_send(rt, to, MSG_JOB, &j, sizeof j));
  }

  /* A member that ends leaves every pool it was in. */
  CHECK(airs_stop(rt, w[0]));
  CHECK(airs_wait(rt, w[0], 5000));
  size_t after_stop = members(rt);
  CHECK(airs_pool_leave(rt, "resize", w[1]));
  size_t after_leave = members(rt);

  /* Only w[2] is left: every pick, random or not, gives it. */
  int picks_ok = 1;
  for (int j = 0; j < 10; j++) {
    airs_pid p;
    CHECK(airs_pool_pick(rt, "resize",
                         j % 2 ? AIRS_PICK_RANDOM : AIRS_PICK_ROUND_ROBIN, &p));
    if (p != w[2]) picks_ok = 0;
  }
  CHECK(airs_pool_leave(rt, "resize", w[2]));
  airs_pid none;
  airs_status empty = airs_pool_pick(rt, "resize", AIRS_PICK_RANDOM, &none);

  /* A stop comes after the jobs main sent before it: all are handled. */
  for (int i = 1; i < WORKERS; i++) {
    CHECK(airs_stop(rt, w[i]));
    CHECK(airs_wait(rt, w[i], 5000));
  }
  airs_runtime_free(rt);

  int spread_ok = 1;
  for (int i = 0; i < WORKERS; i++) {
    printf("worker %d: %d jobs\n", i, jobs_done[i]);
    if (jobs_done[i] != JOBS / WORKERS) spread_ok = 0;
  }
  printf(
      "members: %zu, after a stop %zu, after a leave %zu; "
      "an empty pool: %s\n",
      full, after_stop, after_leave, airs_strerror(empty));
  int ok = spread_ok && picks_ok && full == WORKERS && after_stop == 2 &&
           after_leave == 1 && empty == AIRS_ENOTFOUND;
  printf("%s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
