/*
 * timers - airs_send_after and airs_cancel_timer.
 *
 * main arms three one-shot timers for an actor (100, 200 and 300 ms) and
 * cancels the 200 ms one. The actor also ticks: on each MSG_TICK it arms
 * the next one itself, 10 ms later, TICKS times. The 300 ms timer ends
 * it. The demo checks that the two timers left arrived in order and not
 * early, that the cancelled one never came, that a second cancel of it
 * is AIRS_ENOTFOUND, and that every tick came.
 *
 * Run: ./build/examples/timers
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <airs/airs.h>

#include <stdint.h>
#include <stdio.h>
#include <time.h>

enum { MSG_EARLY = 1, MSG_CANCELLED = 2, MSG_LATE = 3, MSG_TICK = 4 };
#define TICKS 5
#define TICK_MS 10

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* What the actor saw. main reads it once airs_wait says the actor ended. */
static struct {
  double start, early_at, late_at;
  int order_ok, cancelled_came, ticks;
} seen;

/* Sends `type` to `to` after `ms`: a timer takes a message it owns. */
static airs_status send_after(airs_runtime* rt, airs_pid to, uint64_t type,
                              uint64_t ms, uint64_t* id) {
  airs_msg* m;
  airs_status st = airs_msg_new(type, NULL, 0, &m);
  if (st != AIRS_OK) return st;
  st = airs_send_after(rt, to, ms, m, id);
  if (st != AIRS_OK) airs_msg_free(m); /* not consumed on failure */
  return st;
}

static airs_status clock_receive(void* state, airs_ctx* ctx,
                                 const airs_msg* msg) {
  (void)state;
  double at = now_ms() - seen.start;
  switch (airs_msg_type(msg)) {
    case MSG_EARLY: seen.early_at = at; return AIRS_OK;
    case MSG_CANCELLED: seen.cancelled_came = 1; return AIRS_OK;
    case MSG_TICK:
      /* A periodic timer is a one-shot timer armed again on each tick. */
      if (++seen.ticks < TICKS)
        return send_after(airs_ctx_runtime(ctx), airs_self(ctx), MSG_TICK,
                          TICK_MS, NULL);
      return AIRS_OK;
    case MSG_LATE:
      seen.late_at = at;
      seen.order_ok = seen.early_at > 0; /* early came first */
      return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
    default: return AIRS_OK;
  }
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
  airs_behaviour b = {.version = AIRS_BEHAVIOUR_VERSION,
                      .size = sizeof b,
                      .receive = clock_receive};
  airs_pid clock;
  CHECK(airs_spawn(rt, &b, NULL, NULL, NULL, &clock));

  uint64_t cancelled;
  seen.start = now_ms();
  CHECK(send_after(rt, clock, MSG_LATE, 300, NULL));
  CHECK(send_after(rt, clock, MSG_EARLY, 100, NULL));
  CHECK(send_after(rt, clock, MSG_CANCELLED, 200, &cancelled));
  CHECK(send_after(rt, clock, MSG_TICK, TICK_MS, NULL));
  CHECK(airs_cancel_timer(rt, cancelled)); /* frees its message */
  airs_status again = airs_cancel_timer(rt, cancelled);

  CHECK(airs_wait(rt, clock, 5000));
  airs_runtime_free(rt);

  printf("early at %.1f ms, late at %.1f ms, %d ticks; cancelled: %s\n",
         seen.early_at, seen.late_at, seen.ticks,
         seen.cancelled_came ? "CAME" : "never came");
  /* The runtime's clock counts whole ms: allow 1 ms of rounding. */
  int ok = seen.order_ok && seen.early_at >= 99 && seen.late_at >= 299 &&
           !seen.cancelled_came && again == AIRS_ENOTFOUND &&
           seen.ticks == TICKS;
  printf("second cancel: %s\n%s\n", airs_strerror(again), ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
