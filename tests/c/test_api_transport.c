/*
 * test_api_transport.c - the transport seam (<airs/transport.h>): fixed
 * pid tags, sends to another runtime's pids handed to the transport,
 * messages brought in with their remote sender, dead letters, and
 * replacing a transport while sends are inside it. Two runtimes of this
 * process stand for two nodes; the transports join them in memory.
 */
#define _POSIX_C_SOURCE 200809L
#include <airs/broker.h>
#include <airs/transport.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "helpers.h"

/* ---- a transport that joins two runtimes ------------------------------- */

typedef struct queued {
  airs_msg* msg;
  airs_pid to;
  struct queued* next;
} queued;

typedef struct loop {
  airs_runtime* self; /* the runtime it is installed on */
  airs_runtime* peer; /* where its messages go */
  airs_status answer; /* != OK: refuse every send with it */
  int drop;           /* 1: every message is a NOCONNECTION dead letter */
  int async;          /* 1: a thread of its own delivers, in order */
  int sent;
  int signals; /* of them, signals (links, monitors, exits) */
  int deliver_failures;
  airs_transport_kind last_kind;
  int kinds[4]; /* how many of each airs_transport_kind it was given */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  queued *head, *tail;
  int stopping;
  pthread_t thread;
} loop;

static void deliver_one(loop* l, airs_pid to, airs_msg* msg) {
  if (airs_transport_msg_kind(msg) == AIRS_TRANSPORT_SIGNAL) {
    airs_transport_signal sig;
    if (airs_transport_signal_read(msg, &sig) != AIRS_OK ||
        airs_transport_deliver_signal(l->peer, airs_msg_sender(msg), to,
                                      &sig) != AIRS_OK)
      __atomic_fetch_add(&l->deliver_failures, 1, __ATOMIC_RELEASE);
    __atomic_fetch_add(&l->signals, 1, __ATOMIC_RELEASE);
    airs_msg_free(msg);
    return;
  }
  if (airs_transport_msg_kind(msg) == AIRS_TRANSPORT_REPLY) {
    if (airs_transport_deliver_reply(l->peer, airs_msg_sender(msg),
                                     airs_msg_correlation(msg),
                                     airs_msg_type(msg), airs_msg_data(msg),
                                     airs_msg_size(msg)) != AIRS_OK)
      __atomic_fetch_add(&l->deliver_failures, 1, __ATOMIC_RELEASE);
    airs_msg_free(msg);
    return;
  }
  if (airs_transport_deliver(l->peer, airs_msg_sender(msg), to,
                             airs_msg_type(msg), airs_msg_data(msg),
                             airs_msg_size(msg), airs_msg_priority(msg),
                             airs_msg_correlation(msg)) != AIRS_OK)
    __atomic_fetch_add(&l->deliver_failures, 1, __ATOMIC_RELEASE);
  airs_msg_free(msg);
}

static airs_status loop_send(void* user_data, airs_pid to, airs_msg* msg) {
  loop* l = (loop*)user_data;
  /* Atomics: a runtime's call watcher may hand a signal (its demonitor)
   * to the transport on a worker while the test's thread sends. */
  __atomic_store_n(&l->last_kind, airs_transport_msg_kind(msg),
                   __ATOMIC_RELAXED);
  __atomic_fetch_add(&l->kinds[airs_transport_msg_kind(msg)], 1,
                     __ATOMIC_RELAXED);
  if (l->answer != AIRS_OK) return l->answer;
  if (l->drop)
    return airs_transport_drop(l->self, msg, AIRS_DEAD_LETTER_NOCONNECTION);
  if (!l->async) {
    __atomic_fetch_add(&l->sent, 1, __ATOMIC_RELAXED);
    deliver_one(l, to, msg);
    return AIRS_OK;
  }
  queued* q = (queued*)malloc(sizeof *q);
  if (!q) return AIRS_ENOMEM;
  q->msg = msg;
  q->to = to;
  q->next = NULL;
  pthread_mutex_lock(&l->mu);
  __atomic_fetch_add(&l->sent, 1, __ATOMIC_RELAXED);
  if (l->tail)
    l->tail->next = q;
  else
    l->head = q;
  l->tail = q;
  pthread_cond_signal(&l->cv);
  pthread_mutex_unlock(&l->mu);
  return AIRS_OK;
}

static void* loop_thread(void* arg) {
  loop* l = (loop*)arg;
  pthread_mutex_lock(&l->mu);
  for (;;) {
    while (!l->head && !l->stopping) pthread_cond_wait(&l->cv, &l->mu);
    if (!l->head) break;
    queued* q = l->head;
    l->head = q->next;
    if (!l->head) l->tail = NULL;
    pthread_mutex_unlock(&l->mu);
    deliver_one(l, q->to, q->msg);
    free(q);
    pthread_mutex_lock(&l->mu);
  }
  pthread_mutex_unlock(&l->mu);
  return NULL;
}

static void loop_init(loop* l, airs_runtime* self, airs_runtime* peer,
                      int async) {
  memset(l, 0, sizeof *l);
  l->self = self;
  l->peer = peer;
  l->async = async;
  pthread_mutex_init(&l->mu, NULL);
  pthread_cond_init(&l->cv, NULL);
  if (async) pthread_create(&l->thread, NULL, loop_thread, l);
}

static void loop_stop(loop* l) {
  if (l->async) {
    pthread_mutex_lock(&l->mu);
    l->stopping = 1;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
  }
  pthread_mutex_destroy(&l->mu);
  pthread_cond_destroy(&l->cv);
}

static airs_status install(airs_runtime* rt, loop* l) {
  airs_transport t;
  memset(&t, 0, sizeof t);
  t.version = AIRS_TRANSPORT_VERSION;
  t.size = sizeof t;
  t.send = loop_send;
  return airs_transport_set(rt, &t, l);
}

static airs_runtime* runtime_with_tag(int workers, int64_t tag) {
  airs_config* cfg = NULL;
  airs_runtime* rt = NULL;
  if (airs_config_new(&cfg) != AIRS_OK) return NULL;
  if (airs_config_set(cfg, AIRS_CFG_WORKERS, workers) != AIRS_OK ||
      airs_config_set(cfg, AIRS_CFG_PID_TAG, tag) != AIRS_OK ||
      airs_runtime_new(cfg, &rt) != AIRS_OK)
    rt = NULL;
  airs_config_free(cfg);
  return rt;
}

/* ---- actors -------------------------------------------------------------- */

enum { MSG_PING = 1, MSG_PONG = 2, MSG_GO = 3, MSG_SEQ = 4 };

/* Answers each PING with a PONG of the same bytes to its (remote) sender. */
typedef struct echo {
  airs_pid last_sender;
  uint64_t last_correlation;
  airs_priority last_priority;
  int pings;
} echo;

static airs_status echo_receive(void* state, airs_ctx* ctx,
                                const airs_msg* msg) {
  echo* e = (echo*)state;
  if (airs_msg_type(msg) != MSG_PING) return AIRS_OK;
  e->pings++;
  e->last_sender = airs_msg_sender(msg);
  e->last_correlation = airs_msg_correlation(msg);
  e->last_priority = airs_msg_priority(msg);
  if (airs_msg_sender(msg) == 0) return AIRS_OK;
  return airs_ctx_send(ctx, airs_msg_sender(msg), MSG_PONG, airs_msg_data(msg),
                       airs_msg_size(msg));
}

static airs_status state_init(void* user_data, airs_ctx* ctx, void** state) {
  (void)ctx;
  *state = user_data;
  return AIRS_OK;
}

/* On GO (data: a pid and a count), sends that many numbered SEQs there. */
static airs_status sender_receive(void* state, airs_ctx* ctx,
                                  const airs_msg* msg) {
  airs_pid to;
  uint32_t n, i;
  (void)state;
  if (airs_msg_type(msg) != MSG_GO) return AIRS_OK;
  memcpy(&to, airs_msg_data(msg), sizeof to);
  memcpy(&n, (const char*)airs_msg_data(msg) + sizeof to, sizeof n);
  for (i = 0; i < n; i++) {
    airs_status st = airs_ctx_send(ctx, to, MSG_SEQ, &i, sizeof i);
    if (st != AIRS_OK) return st;
  }
  return AIRS_OK;
}

/* Counts SEQs and how many came out of order. */
typedef struct seq_counter {
  pthread_mutex_t mu;
  uint32_t received;
  uint32_t out_of_order;
  airs_pid sender;
} seq_counter;

static airs_status counter_receive(void* state, airs_ctx* ctx,
                                   const airs_msg* msg) {
  seq_counter* c = (seq_counter*)state;
  uint32_t seq;
  (void)ctx;
  if (airs_msg_type(msg) != MSG_SEQ || airs_msg_size(msg) != sizeof seq)
    return AIRS_OK;
  memcpy(&seq, airs_msg_data(msg), sizeof seq);
  pthread_mutex_lock(&c->mu);
  if (seq != c->received) c->out_of_order++;
  c->received++;
  c->sender = airs_msg_sender(msg);
  pthread_mutex_unlock(&c->mu);
  return AIRS_OK;
}

/* ---- the dead-letter hook ------------------------------------------------ */

typedef struct dead {
  int count;
  airs_dead_letter_reason reason;
  airs_pid to;
  uint64_t type;
} dead;

static void on_dead(void* user_data, airs_pid to, const airs_msg* msg,
                    airs_dead_letter_reason reason) {
  dead* d = (dead*)user_data;
  d->count++;
  d->reason = reason;
  d->to = to;
  d->type = airs_msg_type(msg);
}

/* ---- tests ----------------------------------------------------------------
 */

static void test_pid_tags(void) {
  airs_config* cfg = NULL;
  airs_runtime *a, *b;
  uint32_t tag = 0;
  airs_pid pid = 0;
  recorder r;
  int64_t v = -1;

  CHECK_ST(airs_config_new(&cfg), AIRS_OK);
  CHECK_ST(airs_config_get(cfg, AIRS_CFG_PID_TAG, &v), AIRS_OK);
  CHECK_EQ(v, 0);
  CHECK_ST(airs_config_set(cfg, AIRS_CFG_PID_TAG, 65536), AIRS_EINVAL);
  CHECK_ST(airs_config_set(cfg, AIRS_CFG_PID_TAG, -1), AIRS_EINVAL);
  airs_config_free(cfg);

  a = runtime_with_tag(0, 4242);
  CHECK(a != NULL);
  if (!a) return;
  CHECK_ST(airs_runtime_pid_tag(a, &tag), AIRS_OK);
  CHECK_EQ(tag, 4242);
  CHECK_ST(airs_runtime_pid_tag(a, NULL), AIRS_EINVAL);
  CHECK_ST(airs_runtime_pid_tag(NULL, &tag), AIRS_EINVAL);
  memset(&r, 0, sizeof r);
  pid = spawn_rec(a, &r, NULL);
  CHECK_EQ(airs_pid_tag(pid), 4242);
  CHECK_EQ(airs_pid_tag(0), 0);

  /* The tag is this library copy's while a holds it. */
  CHECK_ST(airs_config_new(&cfg), AIRS_OK);
  CHECK_ST(airs_config_set(cfg, AIRS_CFG_WORKERS, 0), AIRS_OK);
  CHECK_ST(airs_config_set(cfg, AIRS_CFG_PID_TAG, 4242), AIRS_OK);
  b = NULL;
  CHECK_ST(airs_runtime_new(cfg, &b), AIRS_EEXIST);
  CHECK(b == NULL);
  CHECK(strstr(airs_last_error_message(), "4242") != NULL);
  airs_runtime_free(a);
  CHECK_ST(airs_runtime_new(cfg, &b), AIRS_OK);
  if (b) airs_runtime_free(b);
  airs_config_free(cfg);
}

static void test_set_and_bad_arguments(void) {
  airs_runtime* a = runtime_with_tag(0, 0);
  airs_runtime* b = runtime_with_tag(0, 0);
  airs_transport t;
  airs_msg* m = NULL;
  recorder r;
  airs_pid pb;
  loop l;
  dead d;

  CHECK(a && b);
  if (!a || !b) return;
  memset(&r, 0, sizeof r);
  pb = spawn_rec(b, &r, NULL);
  memset(&d, 0, sizeof d);
  CHECK_ST(airs_set_dead_letter_hook(a, on_dead, &d), AIRS_OK);

  /* No transport: another runtime's pid is not alive here. */
  CHECK_ST(airs_send(a, pb, MSG_PING, "x", 1), AIRS_ENOPROC);
  CHECK_EQ(d.count, 1);
  CHECK_EQ(d.reason, AIRS_DEAD_LETTER_NOPROC);

  memset(&t, 0, sizeof t);
  t.version = AIRS_TRANSPORT_VERSION;
  t.size = sizeof t;
  CHECK_ST(airs_transport_set(a, &t, NULL), AIRS_EINVAL); /* no send */
  t.send = loop_send;
  t.version = 99;
  CHECK_ST(airs_transport_set(a, &t, NULL), AIRS_EINVAL);
  t.version = AIRS_TRANSPORT_VERSION;
  t.size = 4;
  CHECK_ST(airs_transport_set(a, &t, NULL), AIRS_EINVAL);
  t.size = sizeof t;
  CHECK_ST(airs_transport_set(NULL, &t, NULL), AIRS_EINVAL);

  loop_init(&l, a, b, 0);
  CHECK_ST(install(a, &l), AIRS_OK);
  /* A pid of a's own tag never goes out, even when it is dead. */
  {
    recorder gone;
    airs_pid pg;
    memset(&gone, 0, sizeof gone);
    pg = spawn_rec(a, &gone, NULL);
    CHECK_ST(airs_kill(a, pg), AIRS_OK);
    poll_all(a);
    CHECK_ST(airs_send(a, pg, MSG_PING, "x", 1), AIRS_ENOPROC);
    CHECK_EQ(__atomic_load_n(&l.sent, __ATOMIC_RELAXED), 0);
    CHECK_EQ(d.count, 2);
    CHECK_EQ(d.to, pg);
  }

  /* What the transport answers is what the send returns. */
  l.answer = AIRS_EFULL;
  CHECK_ST(airs_msg_new(MSG_PING, "y", 1, &m), AIRS_OK);
  CHECK_ST(airs_send_msg(a, pb, m), AIRS_EFULL);
  l.answer = AIRS_ENOPROC; /* and with noproc, the dead-letter hook too */
  CHECK_ST(airs_send_msg(a, pb, m), AIRS_ENOPROC);
  CHECK_EQ(d.count, 3);
  CHECK_EQ(d.to, pb);
  CHECK_EQ(airs_msg_type(m), MSG_PING); /* still ours */
  airs_msg_free(m);
  l.answer = AIRS_OK;

  /* A node it cannot reach: the send succeeds, the message is a counted
   * dead letter (Erlang's send to a node that is down). */
  {
    airs_runtime_stats before, after;
    memset(&before, 0, sizeof before);
    before.version = 1;
    before.size = sizeof before;
    after = before;
    CHECK_ST(airs_runtime_stats_get(a, &before), AIRS_OK);
    l.drop = 1;
    CHECK_ST(airs_send(a, pb, MSG_PING, "z", 1), AIRS_OK);
    l.drop = 0;
    CHECK_ST(airs_runtime_stats_get(a, &after), AIRS_OK);
    CHECK_EQ(after.dead_letters - before.dead_letters, 1);
    CHECK_EQ(d.count, 4);
    CHECK_EQ(d.reason, AIRS_DEAD_LETTER_NOCONNECTION);
    CHECK_EQ(d.to, pb);
    CHECK_EQ(d.type, MSG_PING);
  }

  /* airs_transport_drop takes the message even when it fails. */
  CHECK_ST(airs_transport_drop(a, NULL, AIRS_DEAD_LETTER_NOCONNECTION),
           AIRS_EINVAL);
  CHECK_ST(airs_msg_new(MSG_PING, "w", 1, &m), AIRS_OK);
  CHECK_ST(airs_transport_drop(a, m, (airs_dead_letter_reason)99), AIRS_EINVAL);
  CHECK_ST(airs_msg_new(MSG_PING, "w", 1, &m), AIRS_OK);
  CHECK_ST(airs_transport_drop(NULL, m, AIRS_DEAD_LETTER_NOCONNECTION),
           AIRS_EINVAL);

  /* airs_transport_deliver's refusals. */
  CHECK_ST(airs_transport_deliver(NULL, 0, pb, MSG_PING, "v", 1,
                                  AIRS_PRIORITY_NORMAL, 0),
           AIRS_EINVAL);
  CHECK_ST(airs_transport_deliver(b, 0, pb, AIRS_MSG_EXIT, "v", 1,
                                  AIRS_PRIORITY_NORMAL, 0),
           AIRS_EINVAL);
  CHECK_ST(airs_transport_deliver(b, 0, pb, MSG_PING, NULL, 1,
                                  AIRS_PRIORITY_NORMAL, 0),
           AIRS_EINVAL);
  CHECK_ST(
      airs_transport_deliver(b, 0, pb, MSG_PING, "v", 1, (airs_priority)5, 0),
      AIRS_EINVAL);
  {
    dead db;
    memset(&db, 0, sizeof db);
    CHECK_ST(airs_set_dead_letter_hook(b, on_dead, &db), AIRS_OK);
    CHECK_ST(airs_transport_deliver(b, 0, pb + 1, MSG_PING, "v", 1,
                                    AIRS_PRIORITY_NORMAL, 0),
             AIRS_ENOPROC);
    CHECK_EQ(db.count, 1);
    CHECK_EQ(db.reason, AIRS_DEAD_LETTER_NOPROC);
    CHECK_ST(airs_set_dead_letter_hook(b, NULL, NULL), AIRS_OK);
  }
  /* Delivered: the remote sender, the priority and the correlation. */
  CHECK_ST(airs_transport_deliver(b, (airs_pid)77 << 48, pb, MSG_PING, "v", 1,
                                  AIRS_PRIORITY_HIGH, 1234),
           AIRS_OK);
  poll_all(b);
  CHECK_EQ(r.n, 1);
  CHECK_EQ(r.msgs[0].sender, (airs_pid)77 << 48);
  CHECK_EQ(r.msgs[0].priority, AIRS_PRIORITY_HIGH);
  CHECK_EQ(r.msgs[0].correlation, 1234);
  CHECK_EQ(r.msgs[0].bytes[0], 'v');

  /* Removed: back to noproc. */
  CHECK_ST(airs_transport_set(a, NULL, NULL), AIRS_OK);
  CHECK_ST(airs_send(a, pb, MSG_PING, "x", 1), AIRS_ENOPROC);
  CHECK_EQ(__atomic_load_n(&l.sent, __ATOMIC_RELAXED), 0);
  loop_stop(&l);
  airs_runtime_free(a);
  airs_runtime_free(b);
}

/* Sends a PING to the pid a GO names; records the PONGs that come back. */
typedef struct pinger {
  int pongs;
  airs_pid pong_sender;
  char text[16];
} pinger;

static airs_status pinger_receive(void* state, airs_ctx* ctx,
                                  const airs_msg* msg) {
  pinger* p = (pinger*)state;
  if (airs_msg_type(msg) == MSG_GO) {
    airs_pid to;
    memcpy(&to, airs_msg_data(msg), sizeof to);
    return airs_ctx_send(ctx, to, MSG_PING, "hello", 6);
  }
  if (airs_msg_type(msg) == MSG_PONG) {
    p->pongs++;
    p->pong_sender = airs_msg_sender(msg);
    snprintf(p->text, sizeof p->text, "%s", (const char*)airs_msg_data(msg));
  }
  return AIRS_OK;
}

/* A process of a pings one of b, which answers its remote sender. */
static void test_round_trip(void) {
  airs_runtime* a = runtime_with_tag(0, 0);
  airs_runtime* b = runtime_with_tag(0, 0);
  airs_msg* m = NULL;
  loop la, lb;
  echo e;
  pinger p;
  airs_pid pa, pb;

  CHECK(a && b);
  if (!a || !b) return;
  loop_init(&la, a, b, 0);
  loop_init(&lb, b, a, 0);
  CHECK_ST(install(a, &la), AIRS_OK);
  CHECK_ST(install(b, &lb), AIRS_OK);
  memset(&e, 0, sizeof e);
  memset(&p, 0, sizeof p);
  pb = spawn_with(b, state_init, echo_receive, &e);
  pa = spawn_with(a, state_init, pinger_receive, &p);
  CHECK(airs_pid_tag(pa) != airs_pid_tag(pb));

  CHECK_ST(airs_send(a, pa, MSG_GO, &pb, sizeof pb), AIRS_OK);
  poll_all(a); /* pa's PING goes out through a's transport into b */
  CHECK_EQ(__atomic_load_n(&la.sent, __ATOMIC_RELAXED), 1);
  poll_all(b); /* the echo answers pa: out through b's transport */
  CHECK_EQ(e.pings, 1);
  CHECK_EQ(e.last_sender, pa);
  CHECK_EQ(__atomic_load_n(&lb.sent, __ATOMIC_RELAXED), 1);
  poll_all(a);
  CHECK_EQ(p.pongs, 1);
  CHECK_EQ(p.pong_sender, pb);
  CHECK_STR(p.text, "hello");

  /* From outside any process: sender 0; correlation and priority kept. */
  CHECK_ST(airs_msg_new(MSG_PING, "x", 2, &m), AIRS_OK);
  CHECK_ST(airs_msg_set_correlation(m, 4321), AIRS_OK);
  CHECK_ST(airs_msg_set_priority(m, AIRS_PRIORITY_HIGH), AIRS_OK);
  CHECK_ST(airs_send_msg(a, pb, m), AIRS_OK);
  poll_all(b);
  CHECK_EQ(e.pings, 2);
  CHECK_EQ(e.last_sender, 0);
  CHECK_EQ(e.last_correlation, 4321);
  CHECK_EQ(e.last_priority, AIRS_PRIORITY_HIGH);
  CHECK(airs_is_alive(b, pb));

  /* A pid of b that has ended: b refuses it when it arrives (a dead
   * letter there); the send from a went out. */
  CHECK_ST(airs_kill(b, pb), AIRS_OK);
  poll_all(b);
  CHECK_ST(airs_send(a, pb, MSG_PING, "y", 2), AIRS_OK);
  CHECK_EQ(la.deliver_failures, 1);

  loop_stop(&la);
  loop_stop(&lb);
  airs_runtime_free(a);
  airs_runtime_free(b);
}

/* Worker threads on both sides and a transport thread in between:
 * 20,000 messages from one sender to one receiver keep their order. */
static void test_order_across_threads(void) {
  airs_runtime* a = runtime_with_tag(2, 0);
  airs_runtime* b = runtime_with_tag(2, 0);
  loop la;
  seq_counter c;
  unsigned char go[sizeof(airs_pid) + sizeof(uint32_t)];
  uint32_t n = 20000;
  airs_pid ps, pc;
  int waited;

  CHECK(a && b);
  if (!a || !b) return;
  loop_init(&la, a, b, 1);
  CHECK_ST(install(a, &la), AIRS_OK);
  memset(&c, 0, sizeof c);
  pthread_mutex_init(&c.mu, NULL);
  pc = spawn_with(b, state_init, counter_receive, &c);
  ps = spawn_with(a, state_init, sender_receive, NULL);
  memcpy(go, &pc, sizeof pc);
  memcpy(go + sizeof pc, &n, sizeof n);
  CHECK_ST(airs_send(a, ps, MSG_GO, go, sizeof go), AIRS_OK);
  for (waited = 0; waited < 20000; waited++) {
    uint32_t got;
    struct timespec ts = {0, 1000000};
    pthread_mutex_lock(&c.mu);
    got = c.received;
    pthread_mutex_unlock(&c.mu);
    if (got == n) break;
    nanosleep(&ts, NULL);
  }
  pthread_mutex_lock(&c.mu);
  CHECK_EQ(c.received, n);
  CHECK_EQ(c.out_of_order, 0);
  CHECK_EQ(c.sender, ps);
  pthread_mutex_unlock(&c.mu);
  CHECK_EQ(la.deliver_failures, 0);
  CHECK_ST(airs_transport_set(a, NULL, NULL), AIRS_OK);
  loop_stop(&la);
  airs_runtime_free(a);
  airs_runtime_free(b);
  pthread_mutex_destroy(&c.mu);
}

/* ---- replacing a transport while threads send through it ------------------
 */

#define LIVE_MAGIC 0x11FE11FEu

typedef struct guarded {
  unsigned magic; /* LIVE_MAGIC until its owner frees it */
  unsigned long calls;
} guarded;

static int g_violations;
static int g_senders_done;

static airs_status guarded_send(void* user_data, airs_pid to, airs_msg* msg) {
  guarded* g = (guarded*)user_data;
  (void)to;
  /* A send still inside a transport that was replaced and freed would
   * read freed memory here (AddressSanitizer stops on it) or a cleared
   * magic. */
  volatile unsigned spin;
  if (__atomic_load_n(&g->magic, __ATOMIC_RELAXED) != LIVE_MAGIC)
    __atomic_fetch_add(&g_violations, 1, __ATOMIC_RELAXED);
  for (spin = 0; spin < 2000; spin++) {
  } /* stay inside a while, as a real transport's work would */
  if (__atomic_load_n(&g->magic, __ATOMIC_RELAXED) != LIVE_MAGIC)
    __atomic_fetch_add(&g_violations, 1, __ATOMIC_RELAXED);
  __atomic_fetch_add(&g->calls, 1, __ATOMIC_RELAXED);
  airs_msg_free(msg);
  return AIRS_OK;
}

typedef struct sender_arg {
  airs_runtime* rt;
  airs_pid to;
  int sends;
  int failures;
} sender_arg;

static void* send_loop(void* p) {
  sender_arg* s = (sender_arg*)p;
  int i;
  for (i = 0; i < s->sends; i++)
    if (airs_send(s->rt, s->to, MSG_PING, &i, sizeof i) != AIRS_OK)
      s->failures++;
  __atomic_fetch_add(&g_senders_done, 1, __ATOMIC_RELEASE);
  return NULL;
}

static void test_replace_while_sending(void) {
  airs_runtime* a = runtime_with_tag(0, 0);
  airs_runtime* b = runtime_with_tag(0, 0);
  airs_transport t;
  sender_arg args[2];
  pthread_t threads[2];
  guarded* current;
  recorder r;
  airs_pid pb;
  int i, replaced;

  CHECK(a && b);
  if (!a || !b) return;
  memset(&r, 0, sizeof r);
  pb = spawn_rec(b, &r, NULL);
  memset(&t, 0, sizeof t);
  t.version = AIRS_TRANSPORT_VERSION;
  t.size = sizeof t;
  t.send = guarded_send;
  current = (guarded*)calloc(1, sizeof *current);
  current->magic = LIVE_MAGIC;
  CHECK_ST(airs_transport_set(a, &t, current), AIRS_OK);
  for (i = 0; i < 2; i++) {
    args[i].rt = a;
    args[i].to = pb;
    args[i].sends = 20000;
    args[i].failures = 0;
    pthread_create(&threads[i], NULL, send_loop, &args[i]);
  }
  /* Replace it over and over while both threads send. */
  for (replaced = 0; __atomic_load_n(&g_senders_done, __ATOMIC_ACQUIRE) < 2;
       replaced++) {
    guarded* fresh = (guarded*)calloc(1, sizeof *fresh);
    guarded* old = current;
    fresh->magic = LIVE_MAGIC;
    if (airs_transport_set(a, &t, fresh) != AIRS_OK) g_violations++;
    current = fresh;
    /* No send is inside `old` any more: free it. */
    __atomic_store_n(&old->magic, 0u, __ATOMIC_RELAXED);
    free(old);
  }
  for (i = 0; i < 2; i++) pthread_join(threads[i], NULL);
  CHECK(replaced > 0);
  CHECK_EQ(g_violations, 0);
  CHECK_EQ(args[0].failures + args[1].failures, 0);
  CHECK_ST(airs_transport_set(a, NULL, NULL), AIRS_OK);
  free(current);
  airs_runtime_free(a);
  airs_runtime_free(b);
}

/* ---- requests across runtimes -------------------------------------------- */

enum {
  REQ_ADD = 10,
  REQ_SUM = 11,
  REQ_HOLD = 12,
  REQ_RELEASE = 13,
  REQ_DIE = 14,
  REQ_DIE_LATER = 15,
  REQ_ASK = 20
};

/* In b: answers REQ_ADD with n + 1 now; keeps a REQ_HOLD's correlation and
 * answers it with REQ_SUM 0 when REQ_RELEASE comes (airs_reply_to); ends
 * with error 7 on REQ_DIE, without replying, and REQ_DIE_LATER sends it
 * REQ_DIE in 100 ms. */
typedef struct replier {
  uint64_t held;
} replier;

static airs_status replier_receive(void* state, airs_ctx* ctx,
                                   const airs_msg* msg) {
  replier* r = (replier*)state;
  airs_msg* reply = NULL;
  int32_t n = 0;
  airs_status st;
  if (airs_msg_type(msg) == REQ_ADD) {
    memcpy(&n, airs_msg_data(msg), sizeof n);
    n++;
    st = airs_msg_new(REQ_SUM, &n, sizeof n, &reply);
    if (st == AIRS_OK) st = airs_reply(ctx, msg, reply);
    return st;
  }
  if (airs_msg_type(msg) == REQ_HOLD)
    __atomic_store_n(&r->held, airs_msg_correlation(msg), __ATOMIC_RELEASE);
  if (airs_msg_type(msg) == REQ_DIE)
    return airs_exit(ctx, AIRS_EXIT_ERROR, 7, "asked to");
  if (airs_msg_type(msg) == REQ_DIE_LATER) {
    uint64_t timer = 0;
    airs_msg* die = NULL;
    st = airs_msg_new(REQ_DIE, NULL, 0, &die);
    if (st == AIRS_OK)
      st = airs_send_after(airs_ctx_runtime(ctx), airs_self(ctx), 100, die,
                           &timer);
    if (st != AIRS_OK) airs_msg_free(die);
    return st;
  }
  if (airs_msg_type(msg) == REQ_RELEASE && r->held) {
    st = airs_msg_new(REQ_SUM, &n, sizeof n, &reply);
    if (st == AIRS_OK) st = airs_reply_to(ctx, r->held, reply);
    __atomic_store_n(&r->held, 0, __ATOMIC_RELEASE);
    return st;
  }
  return AIRS_OK;
}

/* In a: on REQ_ASK {pid, type, timeout} makes a request; records what
 * comes back. */
typedef struct asker {
  pthread_mutex_t mu;
  uint64_t correlation; /* of the last request made */
  airs_status request_status;
  int replies, timeouts;
  int32_t last_sum;
  uint64_t reply_correlation;
  airs_pid reply_sender;
} asker;

static airs_status asker_receive(void* state, airs_ctx* ctx,
                                 const airs_msg* msg) {
  asker* k = (asker*)state;
  uint64_t type = airs_msg_type(msg);
  pthread_mutex_lock(&k->mu);
  if (type == REQ_ASK) {
    struct {
      airs_pid to;
      uint64_t type;
      uint32_t timeout;
    } ask;
    int32_t n = 41;
    airs_msg* m = NULL;
    memcpy(&ask, airs_msg_data(msg), sizeof ask);
    k->request_status = airs_msg_new(ask.type, &n, sizeof n, &m);
    if (k->request_status == AIRS_OK)
      k->request_status =
          airs_request(ctx, ask.to, m, ask.timeout, &k->correlation);
    if (k->request_status != AIRS_OK) airs_msg_free(m);
  } else if (type == REQ_SUM) {
    k->replies++;
    memcpy(&k->last_sum, airs_msg_data(msg), sizeof k->last_sum);
    k->reply_correlation = airs_msg_correlation(msg);
    k->reply_sender = airs_msg_sender(msg);
  } else if (type == AIRS_MSG_TIMEOUT) {
    k->timeouts++;
  }
  pthread_mutex_unlock(&k->mu);
  return AIRS_OK;
}

static void ask(airs_runtime* rt, airs_pid asker_pid, airs_pid to,
                uint64_t type, uint32_t timeout) {
  struct {
    airs_pid to;
    uint64_t type;
    uint32_t timeout;
  } a;
  memset(&a, 0, sizeof a);
  a.to = to;
  a.type = type;
  a.timeout = timeout;
  CHECK_ST(airs_send(rt, asker_pid, REQ_ASK, &a, sizeof a), AIRS_OK);
}

/* Waits (10 s at most) until `cond` holds under k->mu. */
#define ASKER_WAIT(k, cond)                             \
  do {                                                  \
    int tries_;                                         \
    for (tries_ = 0; tries_ < 10000; tries_++) {        \
      int ok_;                                          \
      struct timespec ts_ = {0, 1000000};               \
      pthread_mutex_lock(&(k)->mu);                     \
      ok_ = (cond);                                     \
      pthread_mutex_unlock(&(k)->mu);                   \
      if (ok_) break;                                   \
      nanosleep(&ts_, NULL);                            \
    }                                                   \
    pthread_mutex_lock(&(k)->mu);                       \
    check_report_(!!(cond), __FILE__, __LINE__, #cond); \
    pthread_mutex_unlock(&(k)->mu);                     \
  } while (0)

static void test_requests_across(void) {
  airs_runtime* a = runtime_with_tag(1, 0);
  airs_runtime* b = runtime_with_tag(1, 0);
  airs_msg *m = NULL, *reply = NULL;
  uint32_t tag_a = 0;
  loop la, lb;
  replier r;
  asker k;
  airs_pid pb, pk;
  int32_t n = 41;
  dead d;

  CHECK(a && b);
  if (!a || !b) return;
  CHECK_ST(airs_runtime_pid_tag(a, &tag_a), AIRS_OK);
  loop_init(&la, a, b, 0);
  loop_init(&lb, b, a, 0);
  CHECK_ST(install(a, &la), AIRS_OK);
  CHECK_ST(install(b, &lb), AIRS_OK);
  memset(&r, 0, sizeof r);
  memset(&k, 0, sizeof k);
  pthread_mutex_init(&k.mu, NULL);
  memset(&d, 0, sizeof d);
  CHECK_ST(airs_set_dead_letter_hook(a, on_dead, &d), AIRS_OK);
  pb = spawn_with(b, state_init, replier_receive, &r);
  pk = spawn_with(a, state_init, asker_receive, &k);
  CHECK_EQ(airs_transport_msg_kind(NULL), AIRS_TRANSPORT_MESSAGE);

  /* airs_call from a thread of a to a process of b. */
  CHECK_ST(airs_msg_new(REQ_ADD, &n, sizeof n, &m), AIRS_OK);
  CHECK_ST(airs_call(a, pb, m, 5000, &reply), AIRS_OK);
  /* (a's call watcher monitors the callee during the call: signals too) */
  CHECK_EQ(__atomic_load_n(&la.kinds[AIRS_TRANSPORT_REQUEST], __ATOMIC_RELAXED),
           1);
  CHECK_EQ(__atomic_load_n(&lb.kinds[AIRS_TRANSPORT_REPLY], __ATOMIC_RELAXED),
           1);
  CHECK_EQ(__atomic_load_n(&lb.kinds[AIRS_TRANSPORT_REQUEST], __ATOMIC_RELAXED),
           0);
  CHECK_EQ(airs_msg_type(reply), REQ_SUM);
  CHECK_EQ(airs_msg_sender(reply), pb);
  CHECK_EQ(*(const int32_t*)airs_msg_data(reply), 42);
  airs_msg_free(reply);
  reply = NULL;

  /* A callee that never answers: the call times out. */
  CHECK_ST(airs_msg_new(REQ_HOLD, &n, sizeof n, &m), AIRS_OK);
  CHECK_ST(airs_call(a, pb, m, 100, &reply), AIRS_ETIMEDOUT);
  /* Its answer, made later, is a late reply in a (a dead letter). */
  CHECK_ST(airs_send(a, pb, REQ_RELEASE, NULL, 0), AIRS_OK);
  {
    int tries;
    for (tries = 0; tries < 5000 && __atomic_load_n(&lb.deliver_failures,
                                                    __ATOMIC_ACQUIRE) == 0;
         tries++) {
      struct timespec ts = {0, 1000000};
      nanosleep(&ts, NULL);
    }
  }
  CHECK_EQ(lb.deliver_failures, 1); /* ENOTFOUND in a */
  CHECK_EQ(d.reason, AIRS_DEAD_LETTER_LATE_REPLY);

  /* airs_request from a process of a: the reply, with its correlation id,
   * which carries a's tag. */
  ask(a, pk, pb, REQ_ADD, 5000);
  ASKER_WAIT(&k, k.replies == 1);
  pthread_mutex_lock(&k.mu);
  CHECK_EQ(k.request_status, AIRS_OK);
  CHECK_EQ(k.last_sum, 42);
  CHECK_EQ(k.reply_correlation, k.correlation);
  CHECK_EQ(k.reply_sender, pb);
  CHECK_EQ(airs_pid_tag(k.correlation), tag_a);
  pthread_mutex_unlock(&k.mu);

  /* Answered later, with airs_reply_to. */
  ask(a, pk, pb, REQ_HOLD, 5000);
  ASKER_WAIT(&k, __atomic_load_n(&r.held, __ATOMIC_ACQUIRE) != 0 ||
                     k.request_status != AIRS_OK);
  CHECK_ST(airs_send(a, pb, REQ_RELEASE, NULL, 0), AIRS_OK);
  ASKER_WAIT(&k, k.replies == 2);
  pthread_mutex_lock(&k.mu);
  CHECK_EQ(k.last_sum, 0);
  CHECK_EQ(k.reply_correlation, k.correlation);
  pthread_mutex_unlock(&k.mu);

  /* No answer: the request times out in a, once. */
  ask(a, pk, pb, REQ_HOLD, 50);
  ASKER_WAIT(&k, k.timeouts == 1);

  /* A request the transport refuses (a node that is down) fails at once;
   * the caller keeps its message. */
  la.answer = AIRS_ENOPROC;
  CHECK_ST(airs_msg_new(REQ_ADD, &n, sizeof n, &m), AIRS_OK);
  CHECK_ST(airs_call(a, pb, m, 5000, &reply), AIRS_ENOPROC);
  CHECK_EQ(airs_msg_correlation(m), 0); /* as it was given */
  CHECK_EQ(airs_transport_msg_kind(m), AIRS_TRANSPORT_MESSAGE);
  airs_msg_free(m);
  la.answer = AIRS_OK;

  /* airs_transport_deliver_reply's refusals. */
  CHECK_ST(airs_transport_deliver_reply(NULL, pb, 1, REQ_SUM, NULL, 0),
           AIRS_EINVAL);
  CHECK_ST(airs_transport_deliver_reply(a, pb, 1, AIRS_MSG_TIMEOUT, NULL, 0),
           AIRS_EINVAL);
  CHECK_ST(airs_transport_deliver_reply(a, pb, 1, REQ_SUM, NULL, 4),
           AIRS_EINVAL);
  d.count = 0;
  CHECK_ST(airs_transport_deliver_reply(a, pb, 12345, REQ_SUM, &n, sizeof n),
           AIRS_ENOTFOUND);
  CHECK_EQ(d.count, 1);
  CHECK_EQ(d.reason, AIRS_DEAD_LETTER_LATE_REPLY);

  CHECK_ST(airs_transport_set(a, NULL, NULL), AIRS_OK);
  CHECK_ST(airs_transport_set(b, NULL, NULL), AIRS_OK);
  loop_stop(&la);
  loop_stop(&lb);
  airs_runtime_free(a);
  airs_runtime_free(b);
  pthread_mutex_destroy(&k.mu);
}

/* A blocking call watches a callee of another runtime as it watches a
 * local one (through the runtime's call watcher, which monitors it):
 * the callee's end, or the loss of its runtime, ends the call at once
 * with EEXITED and the reason, not at its timeout. */
typedef struct later {
  airs_runtime* rt;
  uint32_t tag;
} later;

static void* node_down_later(void* p) {
  later* l = (later*)p;
  struct timespec ts = {0, 100 * 1000000L};
  nanosleep(&ts, NULL);
  airs_transport_node_down(l->rt, l->tag);
  return NULL;
}

static void test_call_watches_remote_callee(void) {
  airs_runtime* a = runtime_with_tag(1, 0);
  airs_runtime* b = runtime_with_tag(1, 0);
  airs_msg *m = NULL, *reply = NULL;
  uint32_t tag_b = 0;
  loop la, lb;
  replier r;
  airs_pid pb;
  int32_t n = 1;
  int i;

  CHECK(a && b);
  if (!a || !b) return;
  CHECK_ST(airs_runtime_pid_tag(b, &tag_b), AIRS_OK);
  loop_init(&la, a, b, 0);
  loop_init(&lb, b, a, 0);
  CHECK_ST(install(a, &la), AIRS_OK);
  CHECK_ST(install(b, &lb), AIRS_OK);
  memset(&r, 0, sizeof r);

  /* Calls that are answered leave no monitor behind: the callee's end
   * later is nobody's business. */
  pb = spawn_with(b, state_init, replier_receive, &r);
  for (i = 0; i < 3; i++) {
    CHECK_ST(airs_msg_new(REQ_ADD, &n, sizeof n, &m), AIRS_OK);
    CHECK_ST(airs_call(a, pb, m, 5000, &reply), AIRS_OK);
    airs_msg_free(reply);
    reply = NULL;
  }

  /* The callee ends without replying: EEXITED with its reason. (It ends a
   * little later: a callee that ends before the watcher's monitor reaches
   * it answers that monitor with noproc instead.) */
  CHECK_ST(airs_msg_new(REQ_DIE_LATER, &n, sizeof n, &m), AIRS_OK);
  {
    struct timespec s0, s1;
    clock_gettime(CLOCK_MONOTONIC, &s0);
    CHECK_ST(airs_call(a, pb, m, 10000, &reply), AIRS_EEXITED);
    clock_gettime(CLOCK_MONOTONIC, &s1);
    CHECK(s1.tv_sec - s0.tv_sec < 5); /* not the 10 s timeout */
    CHECK(strstr(airs_last_error_message(), "code 7") != NULL);
  }
  /* A callee already gone: noproc, at once. */
  CHECK_ST(airs_msg_new(REQ_ADD, &n, sizeof n, &m), AIRS_OK);
  CHECK_ST(airs_call(a, pb, m, 10000, &reply), AIRS_EEXITED);
  CHECK(strstr(airs_last_error_message(), "noproc") != NULL);

  /* Its runtime is lost while the call waits: noconnection. */
  pb = spawn_with(b, state_init, replier_receive, &r);
  {
    pthread_t t;
    later l = {a, tag_b};
    struct timespec s0, s1;
    pthread_create(&t, NULL, node_down_later, &l);
    CHECK_ST(airs_msg_new(REQ_HOLD, &n, sizeof n, &m), AIRS_OK);
    clock_gettime(CLOCK_MONOTONIC, &s0);
    CHECK_ST(airs_call(a, pb, m, 10000, &reply), AIRS_EEXITED);
    clock_gettime(CLOCK_MONOTONIC, &s1);
    CHECK(s1.tv_sec - s0.tv_sec < 5);
    CHECK(strstr(airs_last_error_message(), "noconnection") != NULL);
    pthread_join(t, NULL);
  }

  CHECK_ST(airs_transport_set(a, NULL, NULL), AIRS_OK);
  CHECK_ST(airs_transport_set(b, NULL, NULL), AIRS_OK);
  loop_stop(&la);
  loop_stop(&lb);
  airs_runtime_free(a);
  airs_runtime_free(b);
}

/* ---- flush: a turn's messages leave together ------------------------------
 */

/* Holds what it is given until its flush; counts flushes and what each
 * one found. Host-driven runtimes: one thread. */
typedef struct holder {
  airs_runtime* peer;
  airs_msg* held[64];
  airs_pid to[64];
  int n, flushes, last_flush_size;
} holder;

static airs_status holder_send(void* user_data, airs_pid to, airs_msg* msg) {
  holder* h = (holder*)user_data;
  if (h->n == 64) return AIRS_EFULL;
  h->held[h->n] = msg;
  h->to[h->n] = to;
  h->n++;
  return AIRS_OK;
}

static void holder_flush(void* user_data) {
  holder* h = (holder*)user_data;
  int i;
  h->flushes++;
  h->last_flush_size = h->n;
  for (i = 0; i < h->n; i++) {
    airs_transport_deliver(h->peer, airs_msg_sender(h->held[i]), h->to[i],
                           airs_msg_type(h->held[i]), airs_msg_data(h->held[i]),
                           airs_msg_size(h->held[i]), AIRS_PRIORITY_NORMAL, 0);
    airs_msg_free(h->held[i]);
  }
  h->n = 0;
}

static void test_flush(void) {
  airs_runtime* a = runtime_with_tag(0, 0);
  airs_runtime* b = runtime_with_tag(0, 0);
  airs_transport t;
  holder h;
  seq_counter c;
  airs_pid ps, pc;
  unsigned char go[sizeof(airs_pid) + sizeof(uint32_t)];
  uint32_t n = 5;

  CHECK(a && b);
  if (!a || !b) return;
  memset(&h, 0, sizeof h);
  h.peer = b;
  memset(&t, 0, sizeof t);
  t.version = AIRS_TRANSPORT_VERSION;
  t.size = sizeof t;
  t.send = holder_send;
  t.flush = holder_flush;
  CHECK_ST(airs_transport_set(a, &t, &h), AIRS_OK);
  memset(&c, 0, sizeof c);
  pthread_mutex_init(&c.mu, NULL);
  pc = spawn_with(b, state_init, counter_receive, &c);
  ps = spawn_with(a, state_init, sender_receive, NULL);

  /* From outside any process: flushed right after the send. */
  CHECK_ST(airs_send(a, pc, MSG_PING, "x", 1), AIRS_OK);
  CHECK_EQ(h.flushes, 1);
  CHECK_EQ(h.last_flush_size, 1);

  /* Five sends in one turn: one flush, when the turn ends, with all five. */
  memcpy(go, &pc, sizeof pc);
  memcpy(go + sizeof pc, &n, sizeof n);
  CHECK_ST(airs_send(a, ps, MSG_GO, go, sizeof go), AIRS_OK);
  CHECK_EQ(h.flushes, 1); /* a local send: nothing to flush */
  poll_all(a);
  CHECK_EQ(h.flushes, 2);
  CHECK_EQ(h.last_flush_size, 5);
  poll_all(b);
  CHECK_EQ(c.received, 5);
  CHECK_EQ(c.out_of_order, 0);

  CHECK_ST(airs_transport_set(a, NULL, NULL), AIRS_OK);
  airs_runtime_free(a);
  airs_runtime_free(b);
  pthread_mutex_destroy(&c.mu);
}

/* ---- links, monitors and exit signals across runtimes ------------------- */

enum { MSG_CMD = 9 };
enum { OP_LINK = 1, OP_UNLINK, OP_MONITOR, OP_DEMONITOR, OP_TRAP, OP_EXIT };

/* A command for a recorder: an op and its argument (a pid or a ref). */
typedef struct cmd {
  uint32_t op;
  uint64_t arg;
} cmd;

typedef struct driven {
  recorder r;
  airs_status last_status;
  uint64_t last_ref;
} driven;

/* A recorder whose CMD messages make it link, monitor, trap or exit. */
static airs_status drive(recorder* r, airs_ctx* ctx, const airs_msg* msg) {
  driven* d = (driven*)r;
  cmd c;
  if (airs_msg_type(msg) != MSG_CMD || airs_msg_size(msg) != sizeof c)
    return AIRS_OK;
  memcpy(&c, airs_msg_data(msg), sizeof c);
  switch (c.op) {
    case OP_LINK: d->last_status = airs_link(ctx, c.arg); break;
    case OP_UNLINK: d->last_status = airs_unlink(ctx, c.arg); break;
    case OP_MONITOR:
      d->last_status = airs_monitor(ctx, c.arg, &d->last_ref);
      break;
    case OP_DEMONITOR: d->last_status = airs_demonitor(ctx, c.arg); break;
    case OP_TRAP: d->last_status = airs_trap_exit(ctx, c.arg != 0); break;
    case OP_EXIT:
      return airs_exit(ctx, AIRS_EXIT_ERROR, (int32_t)c.arg, "boom");
  }
  return AIRS_OK;
}

static airs_pid spawn_driven(airs_runtime* rt, driven* d) {
  memset(d, 0, sizeof *d);
  d->r.on_msg = drive;
  return spawn_rec(rt, &d->r, NULL);
}

static void command(airs_runtime* rt, airs_pid pid, uint32_t op, uint64_t arg) {
  cmd c;
  memset(&c, 0, sizeof c);
  c.op = op;
  c.arg = arg;
  CHECK_ST(airs_send(rt, pid, MSG_CMD, &c, sizeof c), AIRS_OK);
}

/* Polls both host-driven runtimes until neither has anything to run. */
static void settle(airs_runtime* a, airs_runtime* b) {
  int i;
  for (i = 0; i < 100; i++)
    if (poll_all(a) + poll_all(b) == 0) return;
}

/* The messages of type `type` that `r` got. */
static int count_of(const recorder* r, uint64_t type) {
  int i, n = 0;
  for (i = 0; i < r->n && i < REC_MAX; i++)
    if (r->msgs[i].type == type) n++;
  return n;
}

static const rec_msg* last_of(const recorder* r, uint64_t type) {
  int i;
  for (i = (r->n < REC_MAX ? r->n : REC_MAX) - 1; i >= 0; i--)
    if (r->msgs[i].type == type) return &r->msgs[i];
  return NULL;
}

/* Two host-driven runtimes joined in memory. */
typedef struct pair {
  airs_runtime *a, *b;
  loop la, lb;
} pair;

/* A host-driven runtime whose free does not wait for processes that trap
 * exits (the tests' recorders do) to stop: they are killed at once. */
static airs_runtime* quick_runtime(void) {
  airs_config* cfg = NULL;
  airs_runtime* rt = NULL;
  if (airs_config_new(&cfg) != AIRS_OK) return NULL;
  if (airs_config_set(cfg, AIRS_CFG_WORKERS, 0) != AIRS_OK ||
      airs_config_set(cfg, AIRS_CFG_SHUTDOWN_TIMEOUT_MS, 0) != AIRS_OK ||
      airs_runtime_new(cfg, &rt) != AIRS_OK)
    rt = NULL;
  airs_config_free(cfg);
  return rt;
}

static int pair_open(pair* p) {
  p->a = quick_runtime();
  p->b = quick_runtime();
  CHECK(p->a && p->b);
  if (!p->a || !p->b) return 0;
  loop_init(&p->la, p->a, p->b, 0);
  loop_init(&p->lb, p->b, p->a, 0);
  CHECK_ST(install(p->a, &p->la), AIRS_OK);
  CHECK_ST(install(p->b, &p->lb), AIRS_OK);
  return 1;
}

static void pair_close(pair* p) {
  /* Neither may reach the other while they end. */
  CHECK_ST(airs_transport_set(p->a, NULL, NULL), AIRS_OK);
  CHECK_ST(airs_transport_set(p->b, NULL, NULL), AIRS_OK);
  airs_runtime_free(p->a);
  airs_runtime_free(p->b);
  loop_stop(&p->la);
  loop_stop(&p->lb);
}

/* A monitor and a link to a process of the other runtime: its DOWN and
 * its exit signal carry the real reason, once. */
static void test_monitor_and_link_across(void) {
  pair p;
  driven w, t, t2;
  airs_pid pw, pt, pt2;
  uint64_t ref;
  const rec_msg* m;

  if (!pair_open(&p)) return;
  pw = spawn_driven(p.a, &w);
  pt = spawn_driven(p.b, &t);
  command(p.a, pw, OP_TRAP, 1);
  command(p.a, pw, OP_MONITOR, pt);
  settle(p.a, p.b);
  CHECK_ST(w.last_status, AIRS_OK);
  ref = w.last_ref;
  CHECK(ref != 0);
  command(p.a, pw, OP_LINK, pt);
  settle(p.a, p.b);
  CHECK_ST(w.last_status, AIRS_OK);
  CHECK(p.la.signals >= 2); /* the monitor and the link went through a */

  command(p.b, pt, OP_EXIT, 7); /* ends with error 7 "boom" */
  settle(p.a, p.b);
  CHECK(!airs_is_alive(p.b, pt));
  CHECK_EQ(count_of(&w.r, AIRS_MSG_DOWN), 1);
  CHECK_EQ(count_of(&w.r, AIRS_MSG_EXIT), 1);
  m = last_of(&w.r, AIRS_MSG_DOWN);
  CHECK(m && m->sender == pt && m->correlation == ref &&
        m->reason_kind == AIRS_EXIT_ERROR && m->reason_code == 7);
  CHECK(m && strcmp(m->reason_text, "boom") == 0);
  m = last_of(&w.r, AIRS_MSG_EXIT);
  CHECK(m && m->sender == pt && m->reason_kind == AIRS_EXIT_ERROR &&
        m->reason_code == 7);

  /* A pid of b that is gone: DOWN and exit signal noproc, at once. */
  command(p.a, pw, OP_MONITOR, pt);
  command(p.a, pw, OP_LINK, pt);
  settle(p.a, p.b);
  CHECK_EQ(count_of(&w.r, AIRS_MSG_DOWN), 2);
  CHECK_EQ(count_of(&w.r, AIRS_MSG_EXIT), 2);
  m = last_of(&w.r, AIRS_MSG_DOWN);
  CHECK(m && m->sender == pt && m->reason_kind == AIRS_EXIT_NOPROC);
  m = last_of(&w.r, AIRS_MSG_EXIT);
  CHECK(m && m->sender == pt && m->reason_kind == AIRS_EXIT_NOPROC);

  /* Unlinked and demonitored: nothing when it ends. */
  pt2 = spawn_driven(p.b, &t2);
  command(p.a, pw, OP_MONITOR, pt2);
  command(p.a, pw, OP_LINK, pt2);
  settle(p.a, p.b);
  command(p.a, pw, OP_DEMONITOR, w.last_ref);
  command(p.a, pw, OP_UNLINK, pt2);
  settle(p.a, p.b);
  command(p.b, pt2, OP_EXIT, 8);
  settle(p.a, p.b);
  CHECK(!airs_is_alive(p.b, pt2));
  CHECK_EQ(count_of(&w.r, AIRS_MSG_DOWN), 2);
  CHECK_EQ(count_of(&w.r, AIRS_MSG_EXIT), 2);

  /* The other way: b's process linked to ours ends when ours does. */
  pt2 = spawn_driven(p.b, &t2);
  command(p.b, pt2, OP_LINK, pw);
  settle(p.a, p.b);
  command(p.a, pw, OP_EXIT, 9);
  settle(p.a, p.b);
  CHECK(!airs_is_alive(p.a, pw));
  CHECK(!airs_is_alive(p.b, pt2));
  CHECK_EQ(t2.r.term_kind, AIRS_EXIT_ERROR);
  CHECK_EQ(t2.r.term_code, 9);
  CHECK_EQ(p.la.deliver_failures + p.lb.deliver_failures, 0);
  pair_close(&p);
}

/* airs_send_exit and airs_kill reach a process of the other runtime; a
 * kill cannot be trapped there either. */
static void test_exit_signals_across(void) {
  pair p;
  driven t, t2;
  airs_pid pt, pt2;

  if (!pair_open(&p)) return;
  pt = spawn_driven(p.b, &t);
  pt2 = spawn_driven(p.b, &t2);
  command(p.b, pt, OP_TRAP, 1);
  command(p.b, pt2, OP_TRAP, 1);
  settle(p.a, p.b);
  CHECK_ST(airs_send_exit(p.a, pt, AIRS_EXIT_ERROR, 5, "five"), AIRS_OK);
  settle(p.a, p.b);
  CHECK(airs_is_alive(p.b, pt)); /* trapped: a message */
  CHECK_EQ(count_of(&t.r, AIRS_MSG_EXIT), 1);
  CHECK(last_of(&t.r, AIRS_MSG_EXIT) &&
        last_of(&t.r, AIRS_MSG_EXIT)->reason_code == 5);
  CHECK_ST(airs_kill(p.a, pt), AIRS_OK);
  settle(p.a, p.b);
  CHECK(!airs_is_alive(p.b, pt));
  CHECK_EQ(t.r.term_kind, AIRS_EXIT_KILLED);
  CHECK_ST(airs_stop(p.a, pt2), AIRS_OK); /* trapped: a message */
  settle(p.a, p.b);
  CHECK(airs_is_alive(p.b, pt2));
  CHECK_EQ(count_of(&t2.r, AIRS_MSG_EXIT), 1);
  /* To a pid that is gone there: nothing comes back, nothing fails. */
  CHECK_ST(airs_send_exit(p.a, pt, AIRS_EXIT_ERROR, 1, NULL), AIRS_OK);
  settle(p.a, p.b);
  CHECK_EQ(p.la.deliver_failures, 0);
  pair_close(&p);
}

/* Losing the other runtime: each link breaks and each monitor gets its
 * DOWN with noconnection, once; what that runtime sends later for them
 * finds nothing; its monitors of our processes are forgotten. */
static void test_node_down(void) {
  pair p;
  driven w, w2, t, t2;
  airs_pid pw, pw2, pt, pt2;
  uint32_t tag_a, tag_b;
  const rec_msg* m;
  int signals_before;

  if (!pair_open(&p)) return;
  CHECK_ST(airs_runtime_pid_tag(p.a, &tag_a), AIRS_OK);
  CHECK_ST(airs_runtime_pid_tag(p.b, &tag_b), AIRS_OK);
  pw = spawn_driven(p.a, &w);
  pw2 = spawn_driven(p.a, &w2); /* not trapping: ends with noconnection */
  pt = spawn_driven(p.b, &t);
  pt2 = spawn_driven(p.b, &t2);
  command(p.a, pw, OP_TRAP, 1);
  command(p.a, pw, OP_MONITOR, pt);
  command(p.a, pw, OP_LINK, pt);
  command(p.a, pw, OP_MONITOR, pt2);
  command(p.a, pw2, OP_LINK, pt2);
  command(p.b, pt, OP_MONITOR, pw); /* b watches a's process */
  settle(p.a, p.b);

  CHECK_ST(airs_transport_node_down(p.a, tag_b), AIRS_OK);
  settle(p.a, p.b);
  CHECK_EQ(count_of(&w.r, AIRS_MSG_DOWN), 2);
  CHECK_EQ(count_of(&w.r, AIRS_MSG_EXIT), 1);
  m = last_of(&w.r, AIRS_MSG_EXIT);
  CHECK(m && m->sender == pt && m->reason_kind == AIRS_EXIT_NOCONNECTION);
  CHECK(m && strcmp(m->reason_text, "noconnection") == 0);
  m = last_of(&w.r, AIRS_MSG_DOWN);
  CHECK(m && (m->sender == pt || m->sender == pt2) &&
        m->reason_kind == AIRS_EXIT_NOCONNECTION);
  CHECK(!airs_is_alive(p.a, pw2));
  CHECK_EQ(w2.r.term_kind, AIRS_EXIT_NOCONNECTION);
  /* Twice is nothing more. */
  CHECK_ST(airs_transport_node_down(p.a, tag_b), AIRS_OK);
  settle(p.a, p.b);
  CHECK_EQ(count_of(&w.r, AIRS_MSG_DOWN), 2);
  CHECK_EQ(count_of(&w.r, AIRS_MSG_EXIT), 1);

  /* The real ends come later: dropped, exactly one DOWN per monitor. */
  command(p.b, pt, OP_EXIT, 3);
  command(p.b, pt2, OP_EXIT, 3);
  settle(p.a, p.b);
  CHECK_EQ(count_of(&w.r, AIRS_MSG_DOWN), 2);
  CHECK_EQ(count_of(&w.r, AIRS_MSG_EXIT), 1);

  /* b's monitor of pw, made after the loss, is as any: then b loses a,
   * and it gets its DOWN noconnection there. a losing b once more makes
   * pw forget b's monitors of it: pw's end sends no DOWN across. */
  pt = spawn_driven(p.b, &t);
  command(p.b, pt, OP_MONITOR, pw);
  settle(p.a, p.b);
  CHECK_ST(airs_transport_node_down(p.b, tag_a), AIRS_OK);
  settle(p.a, p.b);
  CHECK_EQ(count_of(&t.r, AIRS_MSG_DOWN), 1);
  m = last_of(&t.r, AIRS_MSG_DOWN);
  CHECK(m && m->sender == pw && m->reason_kind == AIRS_EXIT_NOCONNECTION);
  CHECK_ST(airs_transport_node_down(p.a, tag_b), AIRS_OK);
  settle(p.a, p.b);
  signals_before = p.la.signals;
  command(p.a, pw, OP_EXIT, 4);
  settle(p.a, p.b);
  CHECK(!airs_is_alive(p.a, pw));
  CHECK_EQ(p.la.signals, signals_before); /* no DOWN went out */
  CHECK_EQ(count_of(&t.r, AIRS_MSG_DOWN), 1);
  pair_close(&p);
}

/* A transport that drops a link or monitor request (the node is down)
 * answers it with noconnection; one that refuses it with ENOPROC, with
 * noproc; with no transport, a pid of another runtime is ENOPROC. */
static void test_unreachable_links(void) {
  pair p;
  driven w, t;
  airs_pid pw, pt;

  if (!pair_open(&p)) return;
  pw = spawn_driven(p.a, &w);
  pt = spawn_driven(p.b, &t);
  command(p.a, pw, OP_TRAP, 1);
  settle(p.a, p.b);
  p.la.drop = 1;
  command(p.a, pw, OP_MONITOR, pt);
  command(p.a, pw, OP_LINK, pt);
  settle(p.a, p.b);
  CHECK_EQ(count_of(&w.r, AIRS_MSG_DOWN), 1);
  CHECK_EQ(count_of(&w.r, AIRS_MSG_EXIT), 1);
  CHECK(last_of(&w.r, AIRS_MSG_DOWN) &&
        last_of(&w.r, AIRS_MSG_DOWN)->reason_kind == AIRS_EXIT_NOCONNECTION);
  CHECK(last_of(&w.r, AIRS_MSG_EXIT) &&
        last_of(&w.r, AIRS_MSG_EXIT)->reason_kind == AIRS_EXIT_NOCONNECTION);
  p.la.drop = 0;
  p.la.answer = AIRS_ENOPROC;
  command(p.a, pw, OP_MONITOR, pt);
  command(p.a, pw, OP_LINK, pt);
  settle(p.a, p.b);
  CHECK_EQ(count_of(&w.r, AIRS_MSG_DOWN), 2);
  CHECK_EQ(count_of(&w.r, AIRS_MSG_EXIT), 2);
  CHECK(last_of(&w.r, AIRS_MSG_DOWN) &&
        last_of(&w.r, AIRS_MSG_DOWN)->reason_kind == AIRS_EXIT_NOPROC);
  CHECK(last_of(&w.r, AIRS_MSG_EXIT) &&
        last_of(&w.r, AIRS_MSG_EXIT)->reason_kind == AIRS_EXIT_NOPROC);
  p.la.answer = AIRS_OK;
  CHECK_ST(airs_transport_set(p.a, NULL, NULL), AIRS_OK);
  command(p.a, pw, OP_MONITOR, pt);
  settle(p.a, p.b);
  CHECK_EQ(w.last_status, AIRS_ENOPROC);
  command(p.a, pw, OP_LINK, pt);
  settle(p.a, p.b);
  CHECK_EQ(w.last_status, AIRS_ENOPROC);
  CHECK_ST(airs_send_exit(p.a, pt, AIRS_EXIT_ERROR, 1, NULL), AIRS_ENOPROC);
  pair_close(&p);
}

/* A full bounded mailbox never makes the transport's thread wait, whatever
 * its policy: the message is a MAILBOX_FULL dead letter at once. */
static void test_deliver_never_waits(void) {
  airs_runtime* a = runtime_with_tag(0, 0);
  airs_spawn_opts o;
  recorder r;
  dead d;
  airs_pid pid, from;
  uint32_t tag_b = 0;
  double t0;
  memset(&r, 0, sizeof r);
  memset(&d, 0, sizeof d);
  CHECK(a != NULL);
  if (!a) return;
  o = mailbox_opts(a, 1, AIRS_MAILBOX_BLOCK, 5000);
  pid = spawn_rec(a, &r, &o);
  CHECK(pid != 0);
  CHECK_ST(airs_set_dead_letter_hook(a, on_dead, &d), AIRS_OK);
  CHECK_ST(airs_runtime_pid_tag(a, &tag_b), AIRS_OK);
  from = (uint64_t)(tag_b % 65535 + 1) << 48 | 9;
  CHECK_ST(airs_transport_deliver(a, from, pid, MSG_PING, "x", 1,
                                  AIRS_PRIORITY_NORMAL, 0),
           AIRS_OK);
  t0 = now_ms();
  CHECK_ST(airs_transport_deliver(a, from, pid, MSG_PING, "y", 1,
                                  AIRS_PRIORITY_NORMAL, 0),
           AIRS_EFULL);
  CHECK(now_ms() - t0 < 1000); /* not the 5 s the policy allows */
  CHECK_EQ(d.count, 1);
  CHECK_EQ(d.reason, AIRS_DEAD_LETTER_MAILBOX_FULL);
  /* A dead receiver: ENOPROC, a dead letter too. */
  CHECK_ST(airs_kill(a, pid), AIRS_OK);
  poll_all(a); /* ("x", never taken: an EXITED dead letter) */
  d.count = 0;
  CHECK_ST(airs_transport_deliver(a, from, pid, MSG_PING, "z", 1,
                                  AIRS_PRIORITY_NORMAL, 0),
           AIRS_ENOPROC);
  CHECK_EQ(d.count, 1);
  CHECK_EQ(d.reason, AIRS_DEAD_LETTER_NOPROC);
  airs_runtime_free(a);
}

/* ---- topics across runtimes ------------------------------------------- */

typedef struct topic_loop {
  loop l;               /* first: the transport's user_data */
  char interest[8][32]; /* topics with local subscribers, as told */
  int on[8];
  int interest_calls;
  int published;
} topic_loop;

static void tl_interest(void* user_data, const char* topic, size_t len,
                        int on) {
  topic_loop* t = (topic_loop*)user_data;
  int i, free_at = -1;
  t->interest_calls++;
  for (i = 0; i < 8; i++) {
    if (t->on[i] && strlen(t->interest[i]) == len &&
        memcmp(t->interest[i], topic, len) == 0) {
      t->on[i] = on;
      return;
    }
    if (!t->on[i] && free_at < 0) free_at = i;
  }
  if (on && free_at >= 0 && len < 32) {
    memcpy(t->interest[free_at], topic, len);
    t->interest[free_at][len] = '\0';
    t->on[free_at] = 1;
  }
}

static int tl_has(const topic_loop* t, const char* topic) {
  int i;
  for (i = 0; i < 8; i++)
    if (t->on[i] && strcmp(t->interest[i], topic) == 0) return 1;
  return 0;
}

/* Publishes into the peer at once (it delivers to its subscribers). */
static airs_status tl_publish(void* user_data, const char* topic, size_t len,
                              airs_msg* msg) {
  topic_loop* t = (topic_loop*)user_data;
  t->published++;
  airs_transport_deliver_publish(t->l.peer, airs_msg_sender(msg), topic, len,
                                 airs_msg_type(msg), airs_msg_data(msg),
                                 airs_msg_size(msg), NULL);
  airs_msg_free(msg);
  return AIRS_OK;
}

static airs_status install_topics(airs_runtime* rt, topic_loop* t) {
  airs_transport tr;
  memset(&tr, 0, sizeof tr);
  tr.version = AIRS_TRANSPORT_VERSION;
  tr.size = sizeof tr;
  tr.send = loop_send;
  tr.topic_interest = tl_interest;
  tr.publish = tl_publish;
  return airs_transport_set(rt, &tr, t);
}

static airs_status publish_bytes(airs_runtime* rt, const char* topic,
                                 const char* text, size_t* delivered) {
  airs_payload* p = NULL;
  airs_status st = airs_payload_new(text, strlen(text) + 1, &p);
  if (st != AIRS_OK) return st;
  st = airs_publish(rt, topic, MSG_PING, p, delivered);
  airs_payload_release(p);
  return st;
}

/* A publish reaches the subscribers of both runtimes; the transport hears
 * of each topic's first and last local subscriber (and, when installed,
 * of those that have some already). */
static void test_topics_across(void) {
  airs_runtime* a = runtime_with_tag(0, 0);
  airs_runtime* b = runtime_with_tag(0, 0);
  topic_loop ta, tb;
  recorder ra, rb, rb2;
  dead da;
  airs_pid pa, pb, pb2;
  size_t n = 99;
  CHECK(a && b);
  if (!a || !b) return;
  memset(&ta, 0, sizeof ta);
  memset(&tb, 0, sizeof tb);
  memset(&ra, 0, sizeof ra);
  memset(&rb, 0, sizeof rb);
  memset(&rb2, 0, sizeof rb2);
  memset(&da, 0, sizeof da);
  loop_init(&ta.l, a, b, 0);
  loop_init(&tb.l, b, a, 0);
  pa = spawn_rec(a, &ra, NULL);
  pb = spawn_rec(b, &rb, NULL);
  pb2 = spawn_rec(b, &rb2, NULL);
  CHECK_ST(airs_subscribe(b, "prices", pb), AIRS_OK); /* before: replayed */
  CHECK_ST(install_topics(a, &ta), AIRS_OK);
  CHECK_ST(install_topics(b, &tb), AIRS_OK);
  CHECK(tl_has(&tb, "prices"));
  CHECK(!tl_has(&ta, "prices"));
  CHECK_ST(airs_set_dead_letter_hook(a, on_dead, &da), AIRS_OK);

  /* Nobody subscribes on a: the publish goes across, no dead letter. */
  CHECK_ST(publish_bytes(a, "prices", "one", &n), AIRS_OK);
  CHECK_EQ(n, 0);
  CHECK_EQ(da.count, 0);
  CHECK_EQ(ta.published, 1);
  poll_all(b);
  CHECK_EQ(rb.n, 1);
  CHECK(rb.n == 1 && strcmp((const char*)rb.msgs[0].bytes, "one") == 0);
  CHECK_EQ(rb.msgs[0].sender, 0);

  /* Subscribers on both sides. */
  CHECK_ST(airs_subscribe(a, "prices", pa), AIRS_OK);
  CHECK(tl_has(&ta, "prices"));
  CHECK_ST(airs_subscribe(b, "prices", pb2), AIRS_OK);
  CHECK_ST(publish_bytes(a, "prices", "two", &n), AIRS_OK);
  CHECK_EQ(n, 1); /* (the local ones) */
  poll_all(a);
  poll_all(b);
  CHECK_EQ(ra.n, 1);
  CHECK_EQ(rb.n, 2);
  CHECK_EQ(rb2.n, 1);

  /* The last local subscriber leaves (or ends): interest off. */
  CHECK_ST(airs_unsubscribe(a, "prices", pa), AIRS_OK);
  CHECK(!tl_has(&ta, "prices"));
  CHECK_ST(airs_kill(b, pb), AIRS_OK);
  poll_all(b);
  CHECK(tl_has(&tb, "prices"));
  CHECK_ST(airs_kill(b, pb2), AIRS_OK);
  poll_all(b);
  CHECK(!tl_has(&tb, "prices"));

  /* Brought in for a topic nobody subscribes to here: a dead letter. */
  {
    dead db;
    memset(&db, 0, sizeof db);
    CHECK_ST(airs_set_dead_letter_hook(b, on_dead, &db), AIRS_OK);
    CHECK_ST(
        airs_transport_deliver_publish(b, 0, "prices", 6, MSG_PING, "x", 1, &n),
        AIRS_OK);
    CHECK_EQ(n, 0);
    CHECK_EQ(db.count, 1);
    CHECK_EQ(db.reason, AIRS_DEAD_LETTER_NO_SUBSCRIBERS);
  }
  /* Bad input. */
  CHECK_ST(airs_transport_deliver_publish(NULL, 0, "t", 1, 1, "x", 1, NULL),
           AIRS_EINVAL);
  CHECK_ST(airs_transport_deliver_publish(b, 0, NULL, 1, 1, "x", 1, NULL),
           AIRS_EINVAL);
  CHECK_ST(airs_transport_deliver_publish(b, 0, "t", 0, 1, "x", 1, NULL),
           AIRS_EINVAL);
  CHECK_ST(airs_transport_deliver_publish(b, 0, "a\0b", 3, 1, "x", 1, NULL),
           AIRS_EINVAL);
  CHECK_ST(airs_transport_deliver_publish(b, 0, "t", 1, AIRS_MSG_SYSTEM_BASE,
                                          "x", 1, NULL),
           AIRS_EINVAL);
  CHECK_ST(airs_transport_deliver_publish(b, 0, "t", 1, 1, NULL, 1, NULL),
           AIRS_EINVAL);

  /* A transport whose struct ends at flush keeps topics local: a publish
   * nobody here hears is a dead letter again. */
  {
    airs_transport old;
    memset(&old, 0, sizeof old);
    old.version = AIRS_TRANSPORT_VERSION;
    old.size = (uint32_t)(offsetof(airs_transport, flush) + sizeof old.flush);
    old.send = loop_send;
    old.topic_interest = tl_interest; /* past its size: not seen */
    old.publish = tl_publish;
    CHECK_ST(airs_transport_set(a, &old, &ta), AIRS_OK);
    da.count = 0;
    CHECK_ST(publish_bytes(a, "prices", "three", &n), AIRS_OK);
    CHECK_EQ(da.count, 1);
    CHECK_EQ(da.reason, AIRS_DEAD_LETTER_NO_SUBSCRIBERS);
    CHECK_EQ(ta.published, 2);
    old.size = (uint32_t)offsetof(airs_transport, flush);
    CHECK_ST(airs_transport_set(a, &old, &ta), AIRS_EINVAL);
  }
  CHECK_ST(airs_transport_set(a, NULL, NULL), AIRS_OK);
  CHECK_ST(airs_transport_set(b, NULL, NULL), AIRS_OK);
  airs_runtime_free(a);
  airs_runtime_free(b);
  loop_stop(&ta.l);
  loop_stop(&tb.l);
}

/* ---- pools across runtimes --------------------------------------------- */

/* A transport that records what pool_member tells it; the test hands the
 * news to the other runtime itself (the hook runs under the pools' lock,
 * where it must not call a runtime). */
typedef struct pool_loop {
  loop l; /* first: the transport's user_data */
  struct {
    char pool[32];
    airs_pid pid;
    int on;
  } news[32];
  int count;
  int refuse; /* 1: a join is refused (ENOMEM) */
} pool_loop;

static airs_status pl_member(void* user_data, const char* pool, airs_pid pid,
                             int on) {
  pool_loop* t = (pool_loop*)user_data;
  if (on && t->refuse) return AIRS_ENOMEM;
  if (t->count < 32 && strlen(pool) < 32) {
    strcpy(t->news[t->count].pool, pool);
    t->news[t->count].pid = pid;
    t->news[t->count].on = on;
    t->count++;
  }
  return AIRS_OK;
}

static airs_status install_pools(airs_runtime* rt, pool_loop* t) {
  airs_transport tr;
  memset(&tr, 0, sizeof tr);
  tr.version = AIRS_TRANSPORT_VERSION;
  tr.size = sizeof tr;
  tr.send = loop_send;
  tr.pool_member = pl_member;
  return airs_transport_set(rt, &tr, t);
}

/* Hands the news recorded so far to the other runtime. */
static void pl_forward(pool_loop* t) {
  int i;
  for (i = 0; i < t->count; i++)
    CHECK_ST(airs_transport_pool_member(t->l.peer, t->news[i].pool,
                                        t->news[i].pid, t->news[i].on),
             AIRS_OK);
  t->count = 0;
}

static size_t pool_size(airs_runtime* rt, const char* pool) {
  size_t n = 99;
  CHECK_ST(airs_pool_members(rt, pool, NULL, 0, &n), AIRS_OK);
  return n;
}

static int has_member(airs_runtime* rt, const char* pool, airs_pid pid) {
  airs_pid pids[16];
  size_t n = 0, i;
  CHECK_ST(airs_pool_members(rt, pool, pids, 16, &n), AIRS_OK);
  for (i = 0; i < n && i < 16; i++)
    if (pids[i] == pid) return 1;
  return 0;
}

/* A pool spans both runtimes, as Erlang's pg groups span nodes: joins,
 * leaves and ends are told to the transport (and replayed when it is
 * installed), another runtime's members count in pick and members until
 * they leave or their runtime is lost, and joining or leaving happens on
 * the member's own runtime only. */
static void test_pools_across(void) {
  airs_runtime* a = runtime_with_tag(0, 0);
  airs_runtime* b = runtime_with_tag(0, 0);
  pool_loop ta, tb;
  recorder ra1, ra2, ra3, rb1;
  airs_pid pa1, pa2, pa3, pb1, seen[3] = {0, 0, 0};
  uint32_t tag_a = 0;
  int i, j, distinct = 0;
  CHECK(a && b);
  if (!a || !b) return;
  memset(&ta, 0, sizeof ta);
  memset(&tb, 0, sizeof tb);
  memset(&ra1, 0, sizeof ra1);
  memset(&ra2, 0, sizeof ra2);
  memset(&ra3, 0, sizeof ra3);
  memset(&rb1, 0, sizeof rb1);
  loop_init(&ta.l, a, b, 0);
  loop_init(&tb.l, b, a, 0);
  CHECK_ST(airs_runtime_pid_tag(a, &tag_a), AIRS_OK);
  pa1 = spawn_rec(a, &ra1, NULL);
  pa2 = spawn_rec(a, &ra2, NULL);
  pa3 = spawn_rec(a, &ra3, NULL);
  pb1 = spawn_rec(b, &rb1, NULL);

  /* A member before the transport: replayed when it is installed. */
  CHECK_ST(airs_pool_join(a, "work", pa1), AIRS_OK);
  CHECK_ST(install_pools(a, &ta), AIRS_OK);
  CHECK_ST(install_pools(b, &tb), AIRS_OK);
  CHECK_EQ(ta.count, 1);
  CHECK(ta.count == 1 && ta.news[0].pid == pa1 && ta.news[0].on == 1 &&
        strcmp(ta.news[0].pool, "work") == 0);
  CHECK_ST(airs_pool_join(a, "work", pa2), AIRS_OK);
  CHECK_ST(airs_pool_join(a, "work", pa2), AIRS_OK); /* twice is once */
  CHECK_EQ(ta.count, 2);
  pl_forward(&ta);
  CHECK_ST(airs_pool_join(b, "work", pb1), AIRS_OK);
  pl_forward(&tb);

  /* Both sides see all three; a round robin on b goes round them all,
   * and a send to a member picked there reaches it on a. */
  CHECK_EQ(pool_size(a, "work"), 3);
  CHECK_EQ(pool_size(b, "work"), 3);
  CHECK(has_member(b, "work", pa1) && has_member(b, "work", pa2) &&
        has_member(a, "work", pb1));
  for (i = 0; i < 3; i++) {
    airs_pid p = 0;
    int again = 0;
    CHECK_ST(airs_pool_pick(b, "work", AIRS_PICK_ROUND_ROBIN, &p), AIRS_OK);
    for (j = 0; j < distinct; j++) again |= seen[j] == p;
    if (!again && distinct < 3) seen[distinct++] = p;
    if (p != pb1) CHECK_ST(airs_send(b, p, MSG_PING, "w", 1), AIRS_OK);
  }
  CHECK_EQ(distinct, 3);
  poll_all(a);
  CHECK_EQ(ra1.n + ra2.n, 2);

  /* Joining and leaving happen on the member's own runtime. */
  CHECK_ST(airs_pool_join(b, "work", pa3), AIRS_EINVAL);
  CHECK_ST(airs_pool_leave(b, "work", pa1), AIRS_EINVAL);
  CHECK_EQ(pool_size(b, "work"), 3);

  /* A leave and an end are told; the other side forgets them. */
  CHECK_ST(airs_pool_leave(a, "work", pa2), AIRS_OK);
  CHECK_ST(airs_kill(a, pa1), AIRS_OK);
  poll_all(a);
  CHECK_EQ(ta.count, 2);
  CHECK(ta.count == 2 && ta.news[0].pid == pa2 && ta.news[0].on == 0 &&
        ta.news[1].pid == pa1 && ta.news[1].on == 0);
  pl_forward(&ta);
  CHECK_EQ(pool_size(b, "work"), 1);
  /* (A leave for a member that is not one does nothing.) */
  CHECK_ST(airs_transport_pool_member(b, "work", pa2, 0), AIRS_OK);
  CHECK_ST(airs_transport_pool_member(b, "nowhere", pa2, 0), AIRS_OK);

  /* A runtime that is lost takes its members out of every pool here. */
  CHECK_ST(airs_pool_join(a, "work", pa3), AIRS_OK);
  CHECK_ST(airs_pool_join(a, "other", pa3), AIRS_OK);
  pl_forward(&ta);
  CHECK_EQ(pool_size(b, "work"), 2);
  CHECK_EQ(pool_size(b, "other"), 1);
  CHECK_ST(airs_transport_node_down(b, tag_a), AIRS_OK);
  CHECK_EQ(pool_size(b, "work"), 1);
  CHECK_EQ(pool_size(b, "other"), 0);
  {
    airs_pid p = 0;
    CHECK_ST(airs_pool_pick(b, "other", AIRS_PICK_RANDOM, &p), AIRS_ENOTFOUND);
    CHECK_ST(airs_pool_pick(b, "work", AIRS_PICK_RANDOM, &p), AIRS_OK);
    CHECK_EQ(p, pb1);
  }

  /* A transport that cannot take a join fails it: nothing changes. */
  ta.refuse = 1;
  ta.count = 0;
  CHECK_ST(airs_pool_join(a, "third", pa3), AIRS_ENOMEM);
  CHECK_EQ(pool_size(a, "third"), 0);
  CHECK_ST(airs_pool_leave(a, "work", pa3), AIRS_OK); /* a leave still goes */
  CHECK_EQ(ta.count, 1);
  ta.refuse = 0;

  /* Bad input. */
  CHECK_ST(airs_transport_pool_member(NULL, "work", pa3, 1), AIRS_EINVAL);
  CHECK_ST(airs_transport_pool_member(b, NULL, pa3, 1), AIRS_EINVAL);
  CHECK_ST(airs_transport_pool_member(b, "", pa3, 1), AIRS_EINVAL);
  CHECK_ST(airs_transport_pool_member(b, "work", 0, 1), AIRS_EINVAL);
  CHECK_ST(airs_transport_pool_member(b, "work", pb1, 1), AIRS_EINVAL);
  CHECK_ST(airs_transport_pool_member(b, "work", pa3, 2), AIRS_EINVAL);
  CHECK_ST(airs_transport_pool_member(b, "work", pa3, -1), AIRS_EINVAL);
  {
    char longname[AIRS_NAME_MAX + 2];
    memset(longname, 'p', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    CHECK_ST(airs_transport_pool_member(b, longname, pa3, 1), AIRS_EINVAL);
  }

  /* A transport whose struct ends before pool_member keeps pools local. */
  {
    airs_transport old;
    memset(&old, 0, sizeof old);
    old.version = AIRS_TRANSPORT_VERSION;
    old.size = (uint32_t)offsetof(airs_transport, pool_member);
    old.send = loop_send;
    old.pool_member = pl_member; /* past its size: not seen */
    CHECK_ST(airs_transport_set(a, &old, &ta), AIRS_OK);
    ta.count = 0;
    CHECK_ST(airs_pool_join(a, "fourth", pa3), AIRS_OK);
    CHECK_EQ(ta.count, 0);
  }
  CHECK_ST(airs_transport_set(a, NULL, NULL), AIRS_OK);
  CHECK_ST(airs_transport_set(b, NULL, NULL), AIRS_OK);
  airs_runtime_free(a);
  airs_runtime_free(b);
  loop_stop(&ta.l);
  loop_stop(&tb.l);
}

static void sleep_ms(int ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (long)(ms % 1000) * 1000000L;
  nanosleep(&ts, NULL);
}

/* A timer aimed at a process of the other runtime: when it fires, its
 * message goes through the transport, from whoever set it. */
static void test_timer_across(void) {
  pair p;
  recorder r;
  dead d;
  airs_pid pb;
  airs_msg* m = NULL;
  uint64_t id = 0;
  double end;
  if (!pair_open(&p)) return;
  memset(&r, 0, sizeof r);
  memset(&d, 0, sizeof d);
  pb = spawn_rec(p.b, &r, NULL);
  CHECK_ST(airs_msg_new(MSG_PING, "late", 5, &m), AIRS_OK);
  CHECK_ST(airs_send_after(p.a, pb, 30, m, &id), AIRS_OK);
  CHECK(id != 0);
  end = now_ms() + 3000;
  while (r.n == 0 && now_ms() < end) {
    poll_all(p.a); /* the timer fires in a's poll */
    poll_all(p.b);
    sleep_ms(1);
  }
  CHECK_EQ(r.n, 1);
  CHECK(r.n == 1 && strcmp((const char*)r.msgs[0].bytes, "late") == 0);
  CHECK_EQ(r.msgs[0].sender, 0);
  /* Cancelled before it fires: nothing goes. */
  CHECK_ST(airs_msg_new(MSG_PING, "never", 6, &m), AIRS_OK);
  CHECK_ST(airs_send_after(p.a, pb, 10000, m, &id), AIRS_OK);
  CHECK_ST(airs_cancel_timer(p.a, id), AIRS_OK);
  /* The transport refuses when it fires (its node is gone): a TIMER dead
   * letter, as for a local pid that has ended. */
  CHECK_ST(airs_set_dead_letter_hook(p.a, on_dead, &d), AIRS_OK);
  p.la.answer = AIRS_ENOPROC;
  CHECK_ST(airs_msg_new(MSG_PING, "lost", 5, &m), AIRS_OK);
  CHECK_ST(airs_send_after(p.a, pb, 1, m, NULL), AIRS_OK);
  end = now_ms() + 3000;
  while (d.count == 0 && now_ms() < end) {
    poll_all(p.a);
    sleep_ms(1);
  }
  CHECK_EQ(d.count, 1);
  CHECK_EQ(d.reason, AIRS_DEAD_LETTER_TIMER);
  p.la.answer = AIRS_OK;
  /* No transport: another runtime's pid is not alive here. */
  CHECK_ST(airs_transport_set(p.a, NULL, NULL), AIRS_OK);
  CHECK_ST(airs_msg_new(MSG_PING, "x", 2, &m), AIRS_OK);
  CHECK_ST(airs_send_after(p.a, pb, 1, m, NULL), AIRS_ENOPROC);
  airs_msg_free(m);
  pair_close(&p);
}

/* Bad input to the signal functions: a status and a message. */
static void test_signal_bad_arguments(void) {
  pair p;
  airs_transport_signal sig;
  airs_msg* m = NULL;
  uint32_t tag_a, tag_b;
  driven t;
  airs_pid pt;

  if (!pair_open(&p)) return;
  CHECK_ST(airs_runtime_pid_tag(p.a, &tag_a), AIRS_OK);
  CHECK_ST(airs_runtime_pid_tag(p.b, &tag_b), AIRS_OK);
  pt = spawn_driven(p.a, &t);
  memset(&sig, 0, sizeof sig);
  sig.code = AIRS_TRANSPORT_SIG_EXIT;
  sig.exit_kind = AIRS_EXIT_ERROR;
  sig.text = "x";
  CHECK_ST(airs_transport_deliver_signal(NULL, 0, pt, &sig), AIRS_EINVAL);
  CHECK_ST(
      airs_transport_deliver_signal(p.a, (uint64_t)tag_b << 48 | 5, pt, NULL),
      AIRS_EINVAL);
  sig.code = AIRS_TRANSPORT_SIG_LINK; /* only an EXIT may come from 0 */
  CHECK_ST(airs_transport_deliver_signal(p.a, 0, pt, &sig), AIRS_EINVAL);
  sig.code = AIRS_TRANSPORT_SIG_EXIT;
  CHECK(strstr(airs_last_error_message(), "another runtime") != NULL);
  CHECK_ST(airs_transport_deliver_signal(p.a, pt, pt, &sig), AIRS_EINVAL);
  sig.code = 99;
  CHECK_ST(
      airs_transport_deliver_signal(p.a, (uint64_t)tag_b << 48 | 5, pt, &sig),
      AIRS_EINVAL);
  CHECK(strstr(airs_last_error_message(), "99") != NULL);
  sig.code = AIRS_TRANSPORT_SIG_EXIT;
  sig.exit_kind = 42;
  CHECK_ST(
      airs_transport_deliver_signal(p.a, (uint64_t)tag_b << 48 | 5, pt, &sig),
      AIRS_EINVAL);
  CHECK(airs_is_alive(p.a, pt));
  /* A signal for a pid that is not the runtime's: nothing happens. */
  sig.exit_kind = AIRS_EXIT_ERROR;
  CHECK_ST(airs_transport_deliver_signal(p.a, (uint64_t)tag_b << 48 | 5,
                                         (uint64_t)tag_b << 48 | 6, &sig),
           AIRS_OK);
  CHECK_ST(airs_transport_node_down(NULL, tag_b), AIRS_EINVAL);
  CHECK_ST(airs_transport_node_down(p.a, 0), AIRS_EINVAL);
  CHECK_ST(airs_transport_node_down(p.a, tag_a), AIRS_EINVAL);
  CHECK_ST(airs_transport_node_down(p.a, 70000), AIRS_EINVAL);
  CHECK_ST(airs_transport_node_down(p.a, tag_b), AIRS_OK);
  CHECK_ST(airs_transport_signal_read(NULL, &sig), AIRS_EINVAL);
  CHECK_ST(airs_msg_new(1, "x", 1, &m), AIRS_OK);
  CHECK_ST(airs_transport_signal_read(m, NULL), AIRS_EINVAL);
  CHECK_ST(airs_transport_signal_read(m, &sig), AIRS_EINVAL);
  CHECK_EQ(airs_transport_msg_kind(m), AIRS_TRANSPORT_MESSAGE);
  airs_msg_free(m);
  settle(p.a, p.b);
  CHECK(airs_is_alive(p.a, pt));
  pair_close(&p);
}

int main(void) {
  test_pid_tags();
  test_set_and_bad_arguments();
  test_round_trip();
  test_order_across_threads();
  test_requests_across();
  test_call_watches_remote_callee();
  test_flush();
  test_replace_while_sending();
  test_monitor_and_link_across();
  test_exit_signals_across();
  test_node_down();
  test_unreachable_links();
  test_signal_bad_arguments();
  test_deliver_never_waits();
  test_topics_across();
  test_timer_across();
  test_pools_across();
  return CHECK_DONE();
}
