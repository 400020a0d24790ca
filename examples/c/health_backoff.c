/*
 * health_backoff - a supervisor's health checks and restart backoff.
 *
 * One child, "flaky", under a one_for_one supervisor that asks its
 * health every 50 ms (2 failed answers in a row: restart it) and waits
 * before each restart: 100 ms for the first in the period, then twice as
 * long each time, at most 400 ms. The demo makes flaky sick once (its
 * health callback then says FAILED), then crashes it three times, and
 * reads the supervisor's events from the event hook. Checks: the health
 * failures led to a restart, the backoffs were 100, 200, 400 and 400 ms,
 * and no restart came sooner than its backoff.
 *
 * Run: ./build/examples/health_backoff
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, nanosleep */

#include <airs/airs.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { MSG_SICK = 1, MSG_CRASH = 2 };

/* flaky's state: 1 once it is sick. */
static airs_status flaky_init(void* user_data, airs_ctx* ctx, void** state) {
  (void)user_data, (void)ctx;
  *state = calloc(1, sizeof(int)); /* every start is healthy again */
  return *state ? AIRS_OK : AIRS_ENOMEM;
}

static airs_status flaky_receive(void* state, airs_ctx* ctx,
                                 const airs_msg* msg) {
  (void)ctx;
  if (airs_msg_type(msg) == MSG_SICK) *(int*)state = 1;
  return airs_msg_type(msg) == MSG_CRASH ? AIRS_EINTERNAL : AIRS_OK;
}

static void flaky_terminate(void* state, airs_ctx* ctx, const airs_reason* r) {
  (void)ctx, (void)r;
  free(state);
}

/* Asked by the supervisor every interval; answered on flaky's own turn. */
static airs_health flaky_health(void* state, airs_ctx* ctx) {
  (void)ctx;
  return *(int*)state ? AIRS_HEALTH_FAILED : AIRS_HEALTH_HEALTHY;
}

/* The event hook runs on the supervisor's worker: guard what main reads. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int health_failed, backoffs;
static long backoff_ms[8];

static void on_event(void* user_data, const airs_event* e) {
  (void)user_data;
  pthread_mutex_lock(&mu);
  if (e->kind == AIRS_EVENT_HEALTH_FAILED) {
    health_failed++;
    printf("  health check FAILED (%lld in a row)\n", (long long)e->value);
  } else if (e->kind == AIRS_EVENT_BACKOFF && backoffs < 8) {
    backoff_ms[backoffs++] = (long)e->value;
    printf("  backoff: %lld ms before the restart\n", (long long)e->value);
  }
  pthread_mutex_unlock(&mu);
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Sends `type` to flaky, then waits (up to 5 s) until its name moves to
 * a new pid: the restart. Returns how long that took, in ms, or -1. */
static double restart_after(airs_runtime* rt, int type) {
  airs_pid old, now;
  double start = now_ms();
  if (airs_whereis(rt, "flaky", &old) != AIRS_OK ||
      airs_send(rt, old, (uint64_t)type, NULL, 0) != AIRS_OK)
    return -1;
  while (now_ms() - start < 5000) {
    if (airs_whereis(rt, "flaky", &now) == AIRS_OK && now != old)
      return now_ms() - start;
    struct timespec five_ms = {0, 5000000L};
    nanosleep(&five_ms, NULL);
  }
  return -1;
}

int main(void) {
  airs_runtime* rt;
  if (airs_runtime_new(NULL, &rt) != AIRS_OK) return 1;
  airs_set_event_hook(rt, on_event, NULL);

  airs_sup_flags flags;
  airs_sup_flags_init(&flags);
  flags.intensity = 10; /* 10 restarts in 10 s before it gives up */
  flags.period_ms = 10000;
  flags.backoff_base_ms = 100, flags.backoff_max_ms = 400;
  flags.health_interval_ms = 50, flags.health_timeout_ms = 200;
  flags.health_threshold = 2; /* FAILED twice in a row: restart */
  airs_sup_spec* spec;
  airs_behaviour b = {.version = AIRS_BEHAVIOUR_VERSION,
                      .size = sizeof b,
                      .init = flaky_init,
                      .receive = flaky_receive,
                      .terminate = flaky_terminate,
                      .health = flaky_health};
  airs_child_spec child;
  airs_child_spec_init(&child);
  child.id = child.name = "flaky";
  child.behaviour = &b;
  airs_pid sup;
  if (airs_sup_spec_new(&flags, &spec) != AIRS_OK ||
      airs_sup_spec_add_child(spec, &child) != AIRS_OK ||
      airs_supervisor_start(rt, spec, &sup) != AIRS_OK) {
    fprintf(stderr, "start: %s\n", airs_last_error_message());
    return 1;
  }
  airs_sup_spec_free(spec);

  const long want[4] = {100, 200, 400, 400};
  double took[4];
  printf("flaky turns sick\n");
  took[0] = restart_after(rt, MSG_SICK);
  for (int i = 1; i < 4; i++) {
    printf("flaky crashes\n");
    took[i] = restart_after(rt, MSG_CRASH);
  }
  airs_runtime_free(rt);

  int ok = health_failed >= 2 && backoffs == 4;
  for (int i = 0; i < 4; i++) {
    printf("restart %d: backoff %ld ms, back after %.0f ms\n", i + 1,
           i < backoffs ? backoff_ms[i] : -1, took[i]);
    if (i >= backoffs || backoff_ms[i] != want[i] || took[i] < want[i] - 1)
      ok = 0;
  }
  printf("health checks failed %d times\n%s\n", health_failed,
         ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
