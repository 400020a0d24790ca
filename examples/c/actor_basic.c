/*
 * actor_basic - a counter actor.
 *
 * The main thread spawns a counter, sends it ten "add" messages and one
 * "report" message that carries the pid of a printer actor; the counter
 * answers with its total, the printer prints it and ends, and main, which
 * waits for the printer to end, frees the runtime.
 */
#include <airs/airs.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MSG_ADD = 1, MSG_REPORT = 2, MSG_TOTAL = 3 };

typedef struct counter {
  int64_t total;
} counter;

static airs_status counter_init(void* user_data, airs_ctx* ctx, void** state) {
  (void)user_data;
  (void)ctx;
  counter* c = calloc(1, sizeof *c);
  if (!c) return AIRS_ENOMEM;
  *state = c;
  return AIRS_OK;
}

static airs_status counter_receive(void* state, airs_ctx* ctx,
                                   const airs_msg* msg) {
  counter* c = state;
  switch (airs_msg_type(msg)) {
    case MSG_ADD: {
      int64_t n;
      memcpy(&n, airs_msg_data(msg), sizeof n);
      c->total += n;
      return AIRS_OK;
    }
    case MSG_REPORT: {
      airs_pid to;
      memcpy(&to, airs_msg_data(msg), sizeof to);
      return airs_ctx_send(ctx, to, MSG_TOTAL, &c->total, sizeof c->total);
    }
    default: return AIRS_OK;
  }
}

static void counter_terminate(void* state, airs_ctx* ctx,
                              const airs_reason* reason) {
  (void)ctx;
  (void)reason;
  free(state);
}

/* Prints the total it is sent, then ends: main waits for that. */
static airs_status printer_receive(void* state, airs_ctx* ctx,
                                   const airs_msg* msg) {
  (void)state;
  int64_t total;
  memcpy(&total, airs_msg_data(msg), sizeof total);
  printf("counter total: %lld\n", (long long)total);
  return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
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
  printf("airs %s\n", airs_version_string());

  airs_runtime* rt;
  CHECK(airs_runtime_new(NULL, &rt));

  airs_behaviour counter_b = {AIRS_BEHAVIOUR_VERSION,
                              sizeof counter_b,
                              counter_init,
                              counter_receive,
                              counter_terminate,
                              NULL,
                              NULL};
  airs_behaviour printer_b = {AIRS_BEHAVIOUR_VERSION,
                              sizeof printer_b,
                              NULL,
                              printer_receive,
                              NULL,
                              NULL,
                              NULL};

  airs_pid counter_pid, printer_pid;
  CHECK(airs_spawn(rt, &counter_b, NULL, NULL, NULL, &counter_pid));
  CHECK(airs_spawn(rt, &printer_b, NULL, NULL, NULL, &printer_pid));

  for (int64_t i = 1; i <= 10; i++)
    CHECK(airs_send(rt, counter_pid, MSG_ADD, &i, sizeof i));
  CHECK(
      airs_send(rt, counter_pid, MSG_REPORT, &printer_pid, sizeof printer_pid));

  CHECK(airs_wait(rt, printer_pid, 5000));
  airs_runtime_free(rt);
  printf("runtime stopped\n");
  return 0;
}
