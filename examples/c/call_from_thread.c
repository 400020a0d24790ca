/*
 * call_from_thread - airs_call: request/reply from plain threads.
 *
 * An account actor keeps a balance. THREADS threads of the host, none of
 * them an actor, each make CALLS deposits with airs_call, which blocks
 * until the reply (the new balance) comes back. Then two calls that
 * cannot be answered: one to an actor that never replies (AIRS_ETIMEDOUT
 * after its timeout) and one to an actor that ends instead of replying
 * (AIRS_EEXITED at once, with its exit reason, as gen_server:call).
 * Checks: every deposit was answered, the balance is the sum, and both
 * failures were the expected ones.
 *
 * Run: ./build/examples/call_from_thread
 */
#include <airs/airs.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define THREADS 4
#define CALLS 100
enum { MSG_DEPOSIT = 1, MSG_BALANCE = 2 };

static airs_status account_receive(void* state, airs_ctx* ctx,
                                   const airs_msg* msg) {
  int64_t* balance = state;
  int64_t amount;
  memcpy(&amount, airs_msg_data(msg), sizeof amount);
  *balance += amount;
  airs_msg* reply;
  airs_status st = airs_msg_new(MSG_BALANCE, balance, sizeof *balance, &reply);
  if (st != AIRS_OK) return st;
  /* The reply goes to the caller, matched by the request's correlation. */
  st = airs_reply(ctx, msg, reply);
  if (st != AIRS_OK) airs_msg_free(reply);
  return st;
}

static airs_status silent_receive(void* state, airs_ctx* ctx,
                                  const airs_msg* msg) {
  (void)state, (void)ctx, (void)msg;
  return AIRS_OK; /* never replies */
}

static airs_status quitter_receive(void* state, airs_ctx* ctx,
                                   const airs_msg* msg) {
  (void)state, (void)msg;
  return airs_exit(ctx, AIRS_EXIT_ERROR, 42, "quit instead of replying");
}

/* One deposit of `amount` to `to`; the status of the call. */
static airs_status deposit(airs_runtime* rt, airs_pid to, int64_t amount,
                           uint32_t timeout_ms) {
  airs_msg *req, *reply;
  airs_status st = airs_msg_new(MSG_DEPOSIT, &amount, sizeof amount, &req);
  if (st != AIRS_OK) return st;
  st = airs_call(rt, to, req, timeout_ms, &reply);
  if (st == AIRS_OK) {
    if (airs_msg_type(reply) != MSG_BALANCE) st = AIRS_EINTERNAL;
    airs_msg_free(reply);
  } else if (st != AIRS_ETIMEDOUT && st != AIRS_EEXITED)
    airs_msg_free(req); /* not sent: still ours (the others took it) */
  return st;
}

typedef struct client {
  airs_runtime* rt;
  airs_pid account;
  int answered;
} client;

static void* client_thread(void* arg) {
  client* c = arg;
  for (int i = 1; i <= CALLS; i++)
    if (deposit(c->rt, c->account, i, 5000) == AIRS_OK) c->answered++;
  return NULL;
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
  int64_t balance = 0; /* the account's state: main reads it at the end */
  airs_behaviour account_b = {.version = AIRS_BEHAVIOUR_VERSION,
                              .size = sizeof account_b,
                              .receive = account_receive};
  airs_behaviour silent_b = account_b, quitter_b = account_b;
  silent_b.receive = silent_receive;
  quitter_b.receive = quitter_receive;
  airs_pid account, silent, quitter;
  CHECK(airs_spawn(rt, &account_b, &balance, NULL, NULL, &account));
  CHECK(airs_spawn(rt, &silent_b, NULL, NULL, NULL, &silent));
  CHECK(airs_spawn(rt, &quitter_b, NULL, NULL, NULL, &quitter));

  pthread_t threads[THREADS];
  client clients[THREADS];
  for (int t = 0; t < THREADS; t++) {
    clients[t] = (client){rt, account, 0};
    pthread_create(&threads[t], NULL, client_thread, &clients[t]);
  }
  int answered = 0;
  for (int t = 0; t < THREADS; t++) {
    pthread_join(threads[t], NULL);
    answered += clients[t].answered;
  }

  airs_status timed_out = deposit(rt, silent, 1, 100);
  airs_status exited = deposit(rt, quitter, 1, 5000);
  printf("to the quitter: %s (%s)\n", airs_strerror(exited),
         airs_last_error_message());
  airs_runtime_free(rt);

  int64_t want = (int64_t)THREADS * CALLS * (CALLS + 1) / 2;
  printf("%d of %d calls answered; balance %lld (want %lld)\n", answered,
         THREADS * CALLS, (long long)balance, (long long)want);
  printf("to the silent one: %s\n", airs_strerror(timed_out));
  int ok = answered == THREADS * CALLS && balance == want &&
           timed_out == AIRS_ETIMEDOUT && exited == AIRS_EEXITED;
  printf("%s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
