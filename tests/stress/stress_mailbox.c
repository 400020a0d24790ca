/*
 * stress_mailbox - 8 producer threads x 125,000 messages into one bounded
 * mailbox (capacity 1024, policy BLOCK). The receiver checks that every
 * message arrives exactly once and in order per producer. Meant to run
 * under ThreadSanitizer too (suite 'concurrency').
 */
#include <airs/airs.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define PRODUCERS 8
#define PER_PRODUCER 125000
#define CAPACITY 1024

typedef struct item {
  uint32_t producer;
  uint32_t seq;
} item;

typedef struct tally {
  uint32_t next[PRODUCERS]; /* next expected seq per producer */
  uint64_t received;
  uint64_t out_of_order;
  uint64_t bad;
} tally;

typedef struct producer_arg {
  airs_runtime* rt;
  airs_pid to;
  uint32_t id;
  uint64_t failures;
} producer_arg;

static airs_status receive(void* state, airs_ctx* ctx, const airs_msg* msg) {
  tally* t = state;
  item it;
  if (airs_msg_size(msg) != sizeof it) {
    t->bad++;
    return AIRS_OK;
  }
  memcpy(&it, airs_msg_data(msg), sizeof it);
  if (it.producer >= PRODUCERS) {
    t->bad++;
  } else if (it.seq != t->next[it.producer]) {
    t->out_of_order++; /* a duplicate, a loss or a reordering */
    t->next[it.producer] = it.seq + 1;
  } else {
    t->next[it.producer]++;
  }
  if (++t->received == (uint64_t)PRODUCERS * PER_PRODUCER)
    return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
  return AIRS_OK;
}

static void* produce(void* p) {
  producer_arg* a = p;
  for (uint32_t i = 0; i < PER_PRODUCER; i++) {
    item it = {a->id, i};
    airs_status st;
    /* BLOCK waits for room; a timeout (1 s here) would be a failure. */
    while ((st = airs_send(a->rt, a->to, 1, &it, sizeof it)) != AIRS_OK) {
      a->failures++;
      if (st != AIRS_ETIMEDOUT) return NULL;
    }
  }
  return NULL;
}

int main(void) {
  int passed = 0, failed = 0;
  airs_config* cfg;
  airs_runtime* rt;
  if (airs_config_new(&cfg) != AIRS_OK) return 1;
  airs_config_set(cfg, AIRS_CFG_WORKERS, 2);
  if (airs_runtime_new(cfg, &rt) != AIRS_OK) return 1;
  airs_config_free(cfg);

  static tally t;
  airs_behaviour b = {
      AIRS_BEHAVIOUR_VERSION, sizeof b, NULL, receive, NULL, NULL, NULL};
  airs_spawn_opts opts;
  airs_spawn_opts_init(rt, &opts);
  opts.mailbox_capacity = CAPACITY;
  opts.mailbox_policy = AIRS_MAILBOX_BLOCK;
  opts.block_timeout_ms = 1000;
  airs_pid receiver;
  if (airs_spawn(rt, &b, &t, NULL, &opts, &receiver) != AIRS_OK) return 1;

  pthread_t threads[PRODUCERS];
  producer_arg args[PRODUCERS];
  for (uint32_t i = 0; i < PRODUCERS; i++) {
    args[i] = (producer_arg){rt, receiver, i, 0};
    pthread_create(&threads[i], NULL, produce, &args[i]);
  }
  uint64_t failures = 0;
  for (int i = 0; i < PRODUCERS; i++) {
    pthread_join(threads[i], NULL);
    failures += args[i].failures;
  }
  airs_status st = airs_wait(rt, receiver, 60000);

#define CHECK(cond)                                               \
  do {                                                            \
    if (cond) {                                                   \
      passed++;                                                   \
    } else {                                                      \
      failed++;                                                   \
      fprintf(stderr, "FAILED: %s (line %d)\n", #cond, __LINE__); \
    }                                                             \
  } while (0)

  CHECK(st == AIRS_OK);
  CHECK(failures == 0);
  CHECK(t.received == (uint64_t)PRODUCERS * PER_PRODUCER);
  CHECK(t.out_of_order == 0);
  CHECK(t.bad == 0);
  for (int i = 0; i < PRODUCERS; i++) CHECK(t.next[i] == PER_PRODUCER);
  printf("received %llu messages, %llu out of order, %llu send retries\n",
         (unsigned long long)t.received, (unsigned long long)t.out_of_order,
         (unsigned long long)failures);
  airs_runtime_free(rt);
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
