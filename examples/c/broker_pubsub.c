/*
 * broker_pubsub - a publisher, three subscribers, one request/reply.
 *
 * Three subscribers (alice, bob, carol) subscribe to the topic "prices".
 * The publisher publishes five price ticks: each tick is one shared
 * payload that all three receive (no copy per subscriber). Then it asks
 * alice for the average she saw, with airs_request; alice answers with
 * airs_reply. Messages from one sender arrive in the order they were sent,
 * so alice has seen every tick before the question. The publisher prints
 * the answer and ends; main waits for that, stops the subscribers one by
 * one (each prints what it got) and frees the runtime.
 */
#include <airs/airs.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum { MSG_START = 1, MSG_TICK = 2, MSG_AVERAGE = 3, MSG_ANSWER = 4 };

#define TICKS 5

typedef struct tick {
  int32_t seq;
  double price;
} tick;

/* ---- subscribers ---------------------------------------------------- */

typedef struct subscriber {
  const char* name;
  int ticks;
  double sum;
} subscriber;

static airs_status subscriber_receive(void* state, airs_ctx* ctx,
                                      const airs_msg* msg) {
  subscriber* s = state;
  switch (airs_msg_type(msg)) {
    case MSG_TICK: {
      tick t;
      memcpy(&t, airs_msg_data(msg), sizeof t);
      s->ticks++;
      s->sum += t.price;
      return AIRS_OK;
    }
    case MSG_AVERAGE: { /* a request: answer its sender */
      double avg = s->ticks ? s->sum / s->ticks : 0.0;
      airs_msg* reply;
      airs_status st = airs_msg_new(MSG_ANSWER, &avg, sizeof avg, &reply);
      if (st != AIRS_OK) return st;
      st = airs_reply(ctx, msg, reply);
      if (st != AIRS_OK) airs_msg_free(reply);
      return st;
    }
    default: return AIRS_OK;
  }
}

static void subscriber_terminate(void* state, airs_ctx* ctx,
                                 const airs_reason* reason) {
  (void)ctx;
  (void)reason;
  subscriber* s = state;
  printf("%s got %d ticks, sum %.2f\n", s->name, s->ticks, s->sum);
}

/* ---- the publisher -------------------------------------------------- */

typedef struct publisher {
  airs_pid ask;         /* whom to ask for the average */
  uint64_t correlation; /* of the pending request */
} publisher;

static airs_status publish_ticks(publisher* p, airs_ctx* ctx) {
  airs_runtime* rt = airs_ctx_runtime(ctx);
  for (int32_t i = 0; i < TICKS; i++) {
    tick t = {i, 100.0 + 0.25 * i};
    airs_payload* payload;
    size_t reached = 0;
    airs_status st = airs_payload_new(&t, sizeof t, &payload);
    if (st != AIRS_OK) return st;
    st = airs_publish(rt, "prices", MSG_TICK, payload, &reached);
    airs_payload_release(payload); /* each message holds its own ref */
    if (st != AIRS_OK) return st;
    printf("tick %d (%.2f) published to %zu subscribers\n", t.seq, t.price,
           reached);
  }
  /* Ask alice; the answer (or a timeout) comes back as a message. */
  airs_msg* question;
  airs_status st = airs_msg_new(MSG_AVERAGE, NULL, 0, &question);
  if (st != AIRS_OK) return st;
  st = airs_request(ctx, p->ask, question, 1000, &p->correlation);
  if (st != AIRS_OK) airs_msg_free(question);
  return st;
}

static airs_status publisher_receive(void* state, airs_ctx* ctx,
                                     const airs_msg* msg) {
  publisher* p = state;
  uint64_t type = airs_msg_type(msg);
  if (type == MSG_START) return publish_ticks(p, ctx);
  if (airs_msg_correlation(msg) != p->correlation) return AIRS_OK;
  if (type == AIRS_MSG_TIMEOUT) {
    printf("no answer in time\n");
    return airs_exit(ctx, AIRS_EXIT_ERROR, 1, "no answer");
  }
  double avg;
  memcpy(&avg, airs_msg_data(msg), sizeof avg);
  printf("alice says the average price is %.3f\n", avg);
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
  airs_runtime* rt;
  CHECK(airs_runtime_new(NULL, &rt));

  airs_behaviour sub_b = {
      AIRS_BEHAVIOUR_VERSION, sizeof sub_b, NULL, subscriber_receive,
      subscriber_terminate,   NULL,         NULL};
  airs_behaviour pub_b = {AIRS_BEHAVIOUR_VERSION,
                          sizeof pub_b,
                          NULL,
                          publisher_receive,
                          NULL,
                          NULL,
                          NULL};

  subscriber subs[3] = {{"alice", 0, 0.0}, {"bob", 0, 0.0}, {"carol", 0, 0.0}};
  airs_pid sub_pids[3];
  for (int i = 0; i < 3; i++) {
    CHECK(airs_spawn(rt, &sub_b, &subs[i], NULL, NULL, &sub_pids[i]));
    CHECK(airs_subscribe(rt, "prices", sub_pids[i]));
  }
  size_t count = 0;
  CHECK(airs_topic_subscribers(rt, "prices", NULL, 0, &count));
  printf("'prices' has %zu subscribers\n", count);

  publisher pub = {sub_pids[0], 0};
  airs_pid pub_pid;
  CHECK(airs_spawn(rt, &pub_b, &pub, NULL, NULL, &pub_pid));
  CHECK(airs_send(rt, pub_pid, MSG_START, NULL, 0));
  CHECK(airs_wait(rt, pub_pid, 5000));

  /* One by one, so that they print in order. */
  for (int i = 0; i < 3; i++) {
    CHECK(airs_stop(rt, sub_pids[i]));
    CHECK(airs_wait(rt, sub_pids[i], 5000));
  }
  CHECK(airs_topic_subscribers(rt, "prices", NULL, 0, &count));
  printf("'prices' has %zu subscribers\n", count);
  airs_runtime_free(rt);
  return 0;
}
