/*
 * test_topics.c - topics across nodes over a real nats-server: a publish
 * reaches the subscribers of every node, in order per publisher.
 *
 * Node "a" is this process; node "b" is a copy of this program
 * (`test_topics child URL`: two processes subscribed to "prices", a
 * publisher for "news", and a teller that answers MSG_HOWMANY with what
 * the subscribers counted; it prints "ready <teller pid> <publisher
 * pid>"). It checks:
 *   - 10,000 publishes from a process of a reach a's own subscriber and
 *     both of b's, each in order, none twice;
 *   - 1,000 publishes from b's publisher reach a's subscriber in order,
 *     with b's publisher as their sender;
 *   - once b's subscribers leave the topic, a's publishes stop going there
 *     (a's subscriber still gets them);
 *   - a publish with no subscriber on a is no dead letter while the node
 *     is attached (other nodes may subscribe).
 */
#define _GNU_SOURCE
#include <airs/airs.h>
#include <airs/broker.h>
#include <airs/node.h>
#include <pthread.h>
#include <stdint.h>

#include "harness.h"

enum {
  MSG_PRICE = 1,   /* a u32 sequence number, per publisher, from 0 */
  MSG_NEWS = 2,    /* likewise */
  MSG_GO = 3,      /* to a publisher: u32 n publishes */
  MSG_HOWMANY = 4, /* a request to the teller; reply: struct counts */
  MSG_LEAVE = 5    /* to the teller: b's subscribers leave "prices" */
};

/* What one subscriber saw. */
typedef struct seen_count {
  pthread_mutex_t mu;
  uint32_t got, out_of_order, last;
  airs_pid sender;
} seen_count;

typedef struct counts {
  uint32_t got[2], out_of_order[2];
} counts;

static airs_status counter_init(void* user_data, airs_ctx* ctx, void** state) {
  (void)ctx;
  *state = user_data;
  return AIRS_OK;
}

static airs_status counter_receive(void* state, airs_ctx* ctx,
                                   const airs_msg* msg) {
  seen_count* c = (seen_count*)state;
  uint32_t seq;
  (void)ctx;
  if (airs_msg_size(msg) != sizeof seq) return AIRS_OK;
  memcpy(&seq, airs_msg_data(msg), sizeof seq);
  pthread_mutex_lock(&c->mu);
  if (c->got > 0 && seq != c->last + 1) c->out_of_order++;
  c->last = seq;
  c->got++;
  c->sender = airs_msg_sender(msg);
  pthread_mutex_unlock(&c->mu);
  return AIRS_OK;
}

/* A publisher: its topic and its next sequence number. */
typedef struct pub {
  const char* topic;
  uint32_t next;
} pub;

/* On MSG_GO n: n publishes to its topic (one turn). */
static airs_status publisher_receive(void* state, airs_ctx* ctx,
                                     const airs_msg* msg) {
  pub* me = (pub*)state;
  uint64_t type = strcmp(me->topic, "news") == 0 ? MSG_NEWS : MSG_PRICE;
  uint32_t n, i;
  if (airs_msg_type(msg) != MSG_GO) return AIRS_OK;
  memcpy(&n, airs_msg_data(msg), sizeof n);
  for (i = 0; i < n; i++) {
    airs_payload* p = NULL;
    uint32_t seq = me->next++;
    airs_status st = airs_payload_new(&seq, sizeof seq, &p);
    if (st != AIRS_OK) return st;
    st = airs_publish(airs_ctx_runtime(ctx), me->topic, type, p, NULL);
    airs_payload_release(p);
    if (st != AIRS_OK) return st;
  }
  return AIRS_OK;
}

/* ---- node b ---------------------------------------------------------------
 */

static seen_count subs[2] = {{PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0},
                             {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0}};
static airs_pid sub_pids[2];

static airs_status teller_receive(void* state, airs_ctx* ctx,
                                  const airs_msg* msg) {
  (void)state;
  if (airs_msg_type(msg) == MSG_HOWMANY) {
    counts c;
    airs_msg* reply = NULL;
    airs_status st;
    int i;
    for (i = 0; i < 2; i++) {
      pthread_mutex_lock(&subs[i].mu);
      c.got[i] = subs[i].got;
      c.out_of_order[i] = subs[i].out_of_order;
      pthread_mutex_unlock(&subs[i].mu);
    }
    st = airs_msg_new(MSG_HOWMANY, &c, sizeof c, &reply);
    return st == AIRS_OK ? airs_reply(ctx, msg, reply) : st;
  }
  if (airs_msg_type(msg) == MSG_LEAVE) {
    airs_runtime* rt = airs_ctx_runtime(ctx);
    airs_unsubscribe(rt, "prices", sub_pids[0]);
    airs_unsubscribe(rt, "prices", sub_pids[1]);
  }
  return AIRS_OK;
}

static int child_main(const char* url) {
  static pub news_pub = {"news", 0};
  airs_runtime* rt = child_runtime(2, 0);
  airs_node* node;
  airs_pid teller, publisher;
  if (!rt) return 2;
  sub_pids[0] = spawn_with(rt, counter_init, counter_receive, &subs[0]);
  sub_pids[1] = spawn_with(rt, counter_init, counter_receive, &subs[1]);
  airs_subscribe(rt, "prices", sub_pids[0]); /* before attach: replayed */
  teller = spawn_with(rt, counter_init, teller_receive, NULL);
  publisher = spawn_with(rt, counter_init, publisher_receive, &news_pub);
  if (!(node = child_attach(rt, url, "b"))) return 3;
  airs_subscribe(rt, "prices", sub_pids[1]); /* after: as any */
  printf("ready %llu %llu\n", (unsigned long long)teller,
         (unsigned long long)publisher);
  fflush(stdout);
  child_leave_at_eof(node, rt);
  return 0;
}

/* ---- node a ---------------------------------------------------------------
 */

static counts ask(airs_runtime* rt, airs_pid teller) {
  airs_msg *m = NULL, *reply = NULL;
  counts c;
  memset(&c, 0, sizeof c);
  CHECK_ST(airs_msg_new(MSG_HOWMANY, NULL, 0, &m), AIRS_OK);
  CHECK_ST(airs_call(rt, teller, m, 5000, &reply), AIRS_OK);
  if (reply && airs_msg_size(reply) == sizeof c)
    memcpy(&c, airs_msg_data(reply), sizeof c);
  airs_msg_free(reply);
  return c;
}

/* Asks until both of b's subscribers have n (or 10 s pass). */
static counts ask_until(airs_runtime* rt, airs_pid teller, uint32_t n) {
  double end = now_ms() + 10000;
  counts c;
  do {
    c = ask(rt, teller);
    if (c.got[0] >= n && c.got[1] >= n) break;
    sleep_ms(5);
  } while (now_ms() < end);
  return c;
}

static uint32_t got(seen_count* c) {
  uint32_t n;
  pthread_mutex_lock(&c->mu);
  n = c->got;
  pthread_mutex_unlock(&c->mu);
  return n;
}

static void go(airs_runtime* rt, airs_pid publisher, uint32_t n) {
  CHECK_ST(airs_send(rt, publisher, MSG_GO, &n, sizeof n), AIRS_OK);
}

static int dead_no_subscribers;

static void on_dead(void* user_data, airs_pid to, const airs_msg* msg,
                    airs_dead_letter_reason reason) {
  (void)user_data;
  (void)to;
  (void)msg;
  if (reason == AIRS_DEAD_LETTER_NO_SUBSCRIBERS)
    __atomic_fetch_add(&dead_no_subscribers, 1, __ATOMIC_RELAXED);
}

int main(int argc, char** argv) {
  static seen_count prices = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0};
  static seen_count news = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0};
  airs_runtime* rt;
  airs_node* a = NULL;
  airs_pid mine, reader, publisher, b_teller = 0, b_publisher = 0;
  node_child b;
  counts c;
  char url[64];
  pid_t server;
  int port;
  double end;

  if (argc == 3 && strcmp(argv[1], "child") == 0) return child_main(argv[2]);
  signal(SIGPIPE, SIG_IGN);
  port = free_port();
  snprintf(url, sizeof url, "nats://127.0.0.1:%d", port);
  server = server_start(port);
  rt = runtime_new(2);
  CHECK_ST(airs_set_dead_letter_hook(rt, on_dead, NULL), AIRS_OK);
  mine = spawn_with(rt, counter_init, counter_receive, &prices);
  reader = spawn_with(rt, counter_init, counter_receive, &news);
  {
    static pub prices_pub = {"prices", 0};
    publisher = spawn_with(rt, counter_init, publisher_receive, &prices_pub);
  }
  CHECK_ST(airs_subscribe(rt, "news", reader), AIRS_OK);
  a = attach_node(rt, url, "a", NULL);
  if (a == NULL) return CHECK_DONE();

  {
    char* args[] = {argv[0], "child", url, NULL};
    b = node_child_start(args);
    CHECK(sscanf(b.line, "ready %llu %llu", (unsigned long long*)&b_teller,
                 (unsigned long long*)&b_publisher) == 2);
  }
  if (b_teller == 0) return CHECK_DONE();
  sleep_ms(200); /* b's subscriptions reach the server */

  /* A publish nobody on a subscribes to: not a dead letter (b does). */
  go(rt, publisher, 1);
  c = ask_until(rt, b_teller, 1);
  CHECK_EQ(c.got[0], 1);
  CHECK_EQ(c.got[1], 1);
  CHECK_EQ(__atomic_load_n(&dead_no_subscribers, __ATOMIC_RELAXED), 0);

  /* 10,000 more, with a subscriber on a too. */
  CHECK_ST(airs_subscribe(rt, "prices", mine), AIRS_OK);
  go(rt, publisher, 10000);
  c = ask_until(rt, b_teller, 10001);
  CHECK_EQ(c.got[0], 10001);
  CHECK_EQ(c.got[1], 10001);
  CHECK_EQ(c.out_of_order[0], 0);
  CHECK_EQ(c.out_of_order[1], 0);
  end = now_ms() + 5000;
  while (got(&prices) < 10000 && now_ms() < end) sleep_ms(2);
  CHECK_EQ(got(&prices), 10000);
  CHECK_EQ(prices.out_of_order, 0);

  /* From b's publisher to a's reader. */
  go(rt, b_publisher, 1000);
  end = now_ms() + 5000;
  while (got(&news) < 1000 && now_ms() < end) sleep_ms(2);
  CHECK_EQ(got(&news), 1000);
  CHECK_EQ(news.out_of_order, 0);
  CHECK_EQ(news.sender, b_publisher);

  /* b's subscribers leave: a's publishes stay on a. */
  CHECK_ST(airs_send(rt, b_teller, MSG_LEAVE, NULL, 0), AIRS_OK);
  sleep_ms(300);
  pthread_mutex_lock(&prices.mu);
  prices.got = 0;
  pthread_mutex_unlock(&prices.mu);
  go(rt, publisher, 100);
  end = now_ms() + 5000;
  while (got(&prices) < 100 && now_ms() < end) sleep_ms(2);
  CHECK_EQ(got(&prices), 100);
  sleep_ms(200);
  c = ask(rt, b_teller);
  CHECK_EQ(c.got[0], 10001);
  CHECK_EQ(c.got[1], 10001);

  node_child_end(&b, 0);
  airs_node_detach(a);
  /* Detached: a publish nobody here hears is a dead letter again. */
  CHECK_ST(airs_unsubscribe(rt, "prices", mine), AIRS_OK);
  go(rt, publisher, 1);
  end = now_ms() + 3000;
  while (__atomic_load_n(&dead_no_subscribers, __ATOMIC_RELAXED) == 0 &&
         now_ms() < end)
    sleep_ms(2);
  CHECK_EQ(__atomic_load_n(&dead_no_subscribers, __ATOMIC_RELAXED), 1);
  airs_runtime_free(rt);
  reap(server, SIGTERM);
  return CHECK_DONE();
}
