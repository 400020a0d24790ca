/*
 * test_api_messages.c - messages and shared payloads (who owns what),
 * sending all three payload kinds, priority, correlation ids, the sender
 * pid, FIFO order, mailbox policies and the dead-letter hook.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

#include "check.h"
#include "helpers.h"

static char big_src[1]; /* a valid pointer for oversized-size calls */

/* ---- messages ------------------------------------------------------------ */

static void test_msg_new(void) {
  static unsigned char large[100000];
  char src[8] = "abcdefg";
  airs_msg* sentinel = (airs_msg*)(void*)big_src;
  airs_msg *m = sentinel, *l = NULL;
  size_t i;
  int same = 1;

  /* Bad input leaves *out alone. */
  CHECK_ST(airs_msg_new(1, src, 3, NULL), AIRS_EINVAL);
  CHECK_ST(airs_msg_new(1, NULL, 3, &m), AIRS_EINVAL);
  CHECK_ST(airs_msg_new(AIRS_MSG_SYSTEM_BASE, src, 3, &m), AIRS_EINVAL);
  CHECK_ST(airs_msg_new(AIRS_MSG_EXIT, NULL, 0, &m), AIRS_EINVAL);
  CHECK_ST(airs_msg_new(AIRS_MSG_DOWN, NULL, 0, &m), AIRS_EINVAL);
  CHECK_ST(airs_msg_new(UINT64_MAX, NULL, 0, &m), AIRS_EINVAL);
#if SIZE_MAX > 0xFFFFFFFFu
  CHECK_ST(airs_msg_new(1, big_src, (size_t)AIRS_MSG_MAX_SIZE + 1, &m),
           AIRS_EINVAL);
  CHECK_ST(airs_msg_new(1, big_src, SIZE_MAX, &m), AIRS_EINVAL);
#endif
  CHECK(m == sentinel);

  /* A copy of the bytes, with every field readable. */
  CHECK_ST(airs_msg_new(AIRS_MSG_SYSTEM_BASE - 1, src, 7, &m), AIRS_OK);
  CHECK(m != NULL && m != sentinel);
  memcpy(src, "XXXXXXX", 7);
  CHECK_EQ(airs_msg_type(m), AIRS_MSG_SYSTEM_BASE - 1);
  CHECK_EQ(airs_msg_size(m), 7);
  CHECK(airs_msg_data(m) != NULL && airs_msg_data(m) != (const void*)src);
  CHECK(airs_msg_data(m) && memcmp(airs_msg_data(m), "abcdefg", 7) == 0);
  CHECK_EQ(airs_msg_sender(m), AIRS_NO_PID);
  CHECK_EQ(airs_msg_correlation(m), 0);
  CHECK_EQ(airs_msg_priority(m), AIRS_PRIORITY_NORMAL);
  CHECK(airs_msg_reason(m) == NULL);
  CHECK(airs_msg_payload(m) == NULL);
  /* airs_msg_read: the three at once; NULL outputs skipped; NULL msg. */
  {
    uint64_t type = 1;
    size_t size = 1;
    CHECK(airs_msg_read(m, &type, &size) == airs_msg_data(m));
    CHECK_EQ(type, AIRS_MSG_SYSTEM_BASE - 1);
    CHECK_EQ(size, 7);
    CHECK(airs_msg_read(m, NULL, NULL) == airs_msg_data(m));
    CHECK(airs_msg_read(NULL, &type, &size) == NULL);
    CHECK_EQ(type, 0);
    CHECK_EQ(size, 0);
  }

  /* Priority and correlation. */
  CHECK_ST(airs_msg_set_priority(m, AIRS_PRIORITY_HIGH), AIRS_OK);
  CHECK_EQ(airs_msg_priority(m), AIRS_PRIORITY_HIGH);
  CHECK_ST(airs_msg_set_priority(m, (airs_priority)2), AIRS_EINVAL);
  CHECK_ST(airs_msg_set_priority(m, (airs_priority)-1), AIRS_EINVAL);
  CHECK_EQ(airs_msg_priority(m), AIRS_PRIORITY_HIGH);
  CHECK_ST(airs_msg_set_priority(m, AIRS_PRIORITY_NORMAL), AIRS_OK);
  CHECK_EQ(airs_msg_priority(m), AIRS_PRIORITY_NORMAL);
  CHECK_ST(airs_msg_set_priority(NULL, AIRS_PRIORITY_HIGH), AIRS_EINVAL);
  CHECK_ST(airs_msg_set_correlation(m, UINT64_C(0xDEADBEEF12345678)), AIRS_OK);
  CHECK_EQ(airs_msg_correlation(m), UINT64_C(0xDEADBEEF12345678));
  CHECK_ST(airs_msg_set_correlation(NULL, 1), AIRS_EINVAL);
  airs_msg_free(m);
  airs_msg_free(NULL);

  /* Empty and large payloads. */
  m = NULL;
  CHECK_ST(airs_msg_new(0, NULL, 0, &m), AIRS_OK);
  CHECK_EQ(airs_msg_size(m), 0);
  CHECK_EQ(airs_msg_type(m), 0);
  airs_msg_free(m);
  for (i = 0; i < sizeof large; i++) large[i] = (unsigned char)(i * 7 + 3);
  CHECK_ST(airs_msg_new(2, large, sizeof large, &l), AIRS_OK);
  CHECK_EQ(airs_msg_size(l), sizeof large);
  for (i = 0; l && i < sizeof large; i++)
    if (((const unsigned char*)airs_msg_data(l))[i] != large[i]) same = 0;
  CHECK(same);
  airs_msg_free(l);

  /* A NULL message reads as empty. */
  CHECK_EQ(airs_msg_type(NULL), 0);
  CHECK_EQ(airs_msg_sender(NULL), 0);
  CHECK_EQ(airs_msg_correlation(NULL), 0);
  CHECK_EQ(airs_msg_priority(NULL), AIRS_PRIORITY_NORMAL);
  CHECK(airs_msg_data(NULL) == NULL);
  CHECK_EQ(airs_msg_size(NULL), 0);
  CHECK(airs_msg_reason(NULL) == NULL);
  CHECK(airs_msg_payload(NULL) == NULL);
}

static void test_msg_owned(void) {
  counter c = {0};
  airs_msg* sentinel = (airs_msg*)(void*)big_src;
  airs_msg* m = sentinel;
  int not_owned = 5;

  CHECK_ST(airs_msg_new_owned(1, &c, sizeof c, counter_free, NULL),
           AIRS_EINVAL);
  CHECK_ST(airs_msg_new_owned(1, NULL, 4, counter_free, &m), AIRS_EINVAL);
  CHECK_ST(
      airs_msg_new_owned(AIRS_MSG_SYSTEM_BASE, &c, sizeof c, counter_free, &m),
      AIRS_EINVAL);
#if SIZE_MAX > 0xFFFFFFFFu
  CHECK_ST(airs_msg_new_owned(1, &c, (size_t)AIRS_MSG_MAX_SIZE + 1,
                              counter_free, &m),
           AIRS_EINVAL);
#endif
  CHECK(m == sentinel);
  CHECK_EQ(c.n, 0); /* a failed call never frees the pointer */

  /* Zero copy: the message points at our buffer, and frees it once. */
  CHECK_ST(airs_msg_new_owned(3, &c, sizeof c, counter_free, &m), AIRS_OK);
  CHECK(airs_msg_data(m) == (const void*)&c);
  CHECK_EQ(airs_msg_size(m), sizeof c);
  CHECK_EQ(airs_msg_type(m), 3);
  CHECK(airs_msg_payload(m) == NULL);
  CHECK_EQ(c.n, 0);
  airs_msg_free(m);
  CHECK_EQ(c.n, 1);

  /* No free function: the pointer is not owned. */
  CHECK_ST(airs_msg_new_owned(3, &not_owned, sizeof not_owned, NULL, &m),
           AIRS_OK);
  CHECK(airs_msg_data(m) == (const void*)&not_owned);
  airs_msg_free(m);
  CHECK_EQ(not_owned, 5);
  CHECK_ST(airs_msg_new_owned(3, NULL, 0, NULL, &m), AIRS_OK);
  CHECK_EQ(airs_msg_size(m), 0);
  airs_msg_free(m);
}

static void test_payloads(void) {
  char src[6] = "hello";
  counter c = {0};
  airs_payload* psentinel = (airs_payload*)(void*)big_src;
  airs_payload *p = psentinel, *w = NULL;
  airs_msg* msentinel = (airs_msg*)(void*)big_src;
  airs_msg *m1 = msentinel, *m2 = NULL, *m3 = NULL;

  /* airs_payload_new copies. */
  CHECK_ST(airs_payload_new(src, 5, NULL), AIRS_EINVAL);
  CHECK_ST(airs_payload_new(NULL, 5, &p), AIRS_EINVAL);
#if SIZE_MAX > 0xFFFFFFFFu
  CHECK_ST(airs_payload_new(big_src, (size_t)AIRS_MSG_MAX_SIZE + 1, &p),
           AIRS_EINVAL);
#endif
  CHECK(p == psentinel);
  CHECK_ST(airs_payload_new(src, 5, &p), AIRS_OK);
  src[0] = 'X';
  CHECK_EQ(airs_payload_size(p), 5);
  CHECK(airs_payload_data(p) != (const void*)src);
  CHECK(memcmp(airs_payload_data(p), "hello", 5) == 0);
  airs_payload_retain(p);
  airs_payload_release(p);
  airs_payload_release(p);
  p = NULL;
  CHECK_ST(airs_payload_new(NULL, 0, &p), AIRS_OK);
  CHECK_EQ(airs_payload_size(p), 0);
  airs_payload_release(p);
  airs_payload_retain(NULL);
  airs_payload_release(NULL);
  CHECK(airs_payload_data(NULL) == NULL);
  CHECK_EQ(airs_payload_size(NULL), 0);

  /* airs_payload_wrap takes ownership; free_fn runs once, after the last
   * reference, whoever holds it. */
  CHECK_ST(airs_payload_wrap(&c, sizeof c, counter_free, NULL), AIRS_EINVAL);
  CHECK_ST(airs_payload_wrap(NULL, 4, counter_free, &w), AIRS_EINVAL);
#if SIZE_MAX > 0xFFFFFFFFu
  CHECK_ST(
      airs_payload_wrap(&c, (size_t)AIRS_MSG_MAX_SIZE + 1, counter_free, &w),
      AIRS_EINVAL);
#endif
  CHECK(w == NULL);
  CHECK_EQ(c.n, 0);
  CHECK_ST(airs_payload_wrap(&c, sizeof c, counter_free, &w), AIRS_OK);
  CHECK(airs_payload_data(w) == (const void*)&c);
  CHECK_EQ(airs_payload_size(w), sizeof c);
  airs_payload_retain(w);
  airs_payload_release(w);
  CHECK_EQ(c.n, 0);

  /* Shared messages hold their own references. */
  CHECK_ST(airs_msg_new_shared(1, w, NULL), AIRS_EINVAL);
  CHECK_ST(airs_msg_new_shared(1, NULL, &m1), AIRS_EINVAL);
  CHECK_ST(airs_msg_new_shared(AIRS_MSG_SYSTEM_BASE, w, &m1), AIRS_EINVAL);
  CHECK_ST(airs_msg_new_shared(AIRS_MSG_DOWN, w, &m1), AIRS_EINVAL);
  CHECK(m1 == msentinel);
  CHECK_ST(airs_msg_new_shared(11, w, &m1), AIRS_OK);
  CHECK_ST(airs_msg_new_shared(12, w, &m2), AIRS_OK);
  CHECK_ST(airs_msg_new_shared(13, w, &m3), AIRS_OK);
  CHECK(airs_msg_payload(m1) == w);
  CHECK(airs_msg_data(m2) == (const void*)&c);
  CHECK_EQ(airs_msg_size(m3), sizeof c);
  CHECK_EQ(airs_msg_type(m3), 13);
  airs_payload_release(w); /* ours */
  CHECK_EQ(c.n, 0);
  airs_msg_free(m1);
  airs_msg_free(m2);
  CHECK_EQ(c.n, 0);
  airs_msg_free(m3);
  CHECK_EQ(c.n, 1);
}

/* ---- sending ------------------------------------------------------------- */

static void test_send_kinds(void) {
  static unsigned char big[65536];
  airs_runtime* rt = make_runtime(0, 0);
  recorder r, fan[3];
  airs_pid pid, fpid[3];
  counter owned = {0}, shared = {0};
  airs_msg* m = NULL;
  airs_payload* p = NULL;
  size_t i;
  int k;
  CHECK(rt != NULL);
  if (!rt) return;
  memset(&r, 0, sizeof r);
  pid = spawn_rec(rt, &r, NULL);
  for (i = 0; i < sizeof big; i++) big[i] = (unsigned char)(i ^ (i >> 8));

  /* Copied (small and large), owned and shared. */
  CHECK_ST(airs_send(rt, pid, 1, "hello", 5), AIRS_OK);
  CHECK_ST(airs_send(rt, pid, 2, big, sizeof big), AIRS_OK);
  CHECK_ST(airs_send(rt, pid, 3, NULL, 0), AIRS_OK);
  CHECK_ST(airs_msg_new_owned(4, &owned, sizeof owned, counter_free, &m),
           AIRS_OK);
  CHECK_ST(airs_send_msg(rt, pid, m), AIRS_OK);
  CHECK_ST(airs_payload_wrap(&shared, sizeof shared, counter_free, &p),
           AIRS_OK);
  CHECK_ST(airs_msg_new_shared(5, p, &m), AIRS_OK);
  CHECK_ST(airs_send_msg(rt, pid, m), AIRS_OK);
  CHECK_EQ(owned.n, 0); /* queued, not handled yet */
  CHECK_EQ(poll_all(rt), 1);
  CHECK_EQ(r.n, 5);
  CHECK_EQ(r.msgs[0].type, 1);
  CHECK_EQ(r.msgs[0].size, 5);
  CHECK(memcmp(r.msgs[0].bytes, "hello", 5) == 0);
  CHECK_EQ(r.msgs[1].size, sizeof big);
  CHECK(memcmp(r.msgs[1].bytes, big, 16) == 0);
  CHECK_EQ(r.msgs[2].size, 0);
  CHECK(r.msgs[3].data == (const void*)&owned); /* zero copy */
  CHECK_EQ(r.msgs[3].size, sizeof owned);
  CHECK(r.msgs[3].payload == NULL);
  CHECK_EQ(owned.n, 1); /* freed once, after receive */
  CHECK(r.msgs[4].payload == p);
  CHECK(r.msgs[4].data == (const void*)&shared);
  CHECK_EQ(shared.n, 0); /* we still hold a reference */

  /* Fan-out: one shared payload, three receivers, one free. */
  for (k = 0; k < 3; k++) {
    memset(&fan[k], 0, sizeof fan[k]);
    fpid[k] = spawn_rec(rt, &fan[k], NULL);
    CHECK_ST(airs_msg_new_shared(6, p, &m), AIRS_OK);
    CHECK_ST(airs_send_msg(rt, fpid[k], m), AIRS_OK);
  }
  airs_payload_release(p);
  CHECK_EQ(shared.n, 0);
  CHECK_EQ(poll_all(rt), 3);
  for (k = 0; k < 3; k++) {
    CHECK_EQ(fan[k].n, 1);
    CHECK(fan[k].msgs[0].data == (const void*)&shared);
    CHECK(fan[k].msgs[0].payload == p);
  }
  CHECK_EQ(shared.n, 1);
  airs_runtime_free(rt);
}

/* What a callback checks about sends from inside it. */
typedef struct inside {
  airs_pid peer;  /* a live process */
  airs_pid stale; /* an ended one */
  counter owned;
  int done;
} inside;

static airs_status send_inside(recorder* r, airs_ctx* ctx,
                               const airs_msg* msg) {
  inside* in = (inside*)r->arg;
  airs_runtime* rt = airs_ctx_runtime(ctx);
  airs_msg* m = NULL;
  int i;
  (void)msg;
  if (in->done++) return AIRS_OK;
  CHECK_ST(airs_ctx_send(ctx, AIRS_NO_PID, 1, NULL, 0), AIRS_ENOPROC);
  CHECK_ST(airs_ctx_send(ctx, in->stale, 1, NULL, 0), AIRS_ENOPROC);
  CHECK_ST(airs_ctx_send(ctx, in->peer, AIRS_MSG_EXIT, NULL, 0), AIRS_EINVAL);
  CHECK_ST(airs_ctx_send(ctx, in->peer, 1, NULL, 3), AIRS_EINVAL);
#if SIZE_MAX > 0xFFFFFFFFu
  CHECK_ST(
      airs_ctx_send(ctx, in->peer, 1, big_src, (size_t)AIRS_MSG_MAX_SIZE + 1),
      AIRS_EINVAL);
#endif
  CHECK_ST(airs_ctx_send_msg(ctx, in->peer, NULL), AIRS_EINVAL);
  CHECK_ST(
      airs_msg_new_owned(1, &in->owned, sizeof in->owned, counter_free, &m),
      AIRS_OK);
  CHECK_ST(airs_ctx_send_msg(ctx, in->stale, m), AIRS_ENOPROC);
  CHECK_ST(airs_ctx_send_msg(ctx, AIRS_NO_PID, m), AIRS_ENOPROC);
  CHECK_EQ(in->owned.n, 0);
  /* The sender is this process, whichever call is used; FIFO holds. */
  CHECK_ST(airs_msg_set_correlation(m, 99), AIRS_OK);
  CHECK_ST(airs_ctx_send_msg(ctx, in->peer, m), AIRS_OK);
  CHECK_ST(airs_send(rt, in->peer, 2, "rt", 2), AIRS_OK);
  CHECK_ST(airs_msg_new(3, "msg", 3, &m), AIRS_OK);
  CHECK_ST(airs_send_msg(rt, in->peer, m), AIRS_OK);
  for (i = 0; i < 40; i++)
    CHECK_ST(airs_ctx_send(ctx, in->peer, 100 + (uint64_t)i, &i, sizeof i),
             AIRS_OK);
  return AIRS_OK;
}

static void test_send_failures_and_sender(void) {
  airs_runtime* rt = make_runtime(0, 0);
  recorder r, peer, gone;
  inside in;
  airs_pid pid, stale;
  counter c = {0};
  airs_msg* m = NULL;
  int i, in_order = 1;
  CHECK(rt != NULL);
  if (!rt) return;
  memset(&r, 0, sizeof r);
  memset(&peer, 0, sizeof peer);
  memset(&gone, 0, sizeof gone);
  memset(&in, 0, sizeof in);
  stale = spawn_rec(rt, &gone, NULL);
  CHECK_ST(airs_kill(rt, stale), AIRS_OK);
  CHECK_EQ(poll_all(rt), 1);
  pid = spawn_rec(rt, &peer, NULL);

  /* From the host. */
  CHECK_ST(airs_send(NULL, pid, 1, "x", 1), AIRS_EINVAL);
  CHECK_ST(airs_send(rt, AIRS_NO_PID, 1, "x", 1), AIRS_ENOPROC);
  CHECK_ST(airs_send(rt, stale, 1, "x", 1), AIRS_ENOPROC);
  CHECK_ST(airs_send(rt, pid, AIRS_MSG_SYSTEM_BASE, "x", 1), AIRS_EINVAL);
  CHECK_ST(airs_send(rt, pid, AIRS_MSG_DOWN, NULL, 0), AIRS_EINVAL);
  CHECK_ST(airs_send(rt, pid, 1, NULL, 1), AIRS_EINVAL);
#if SIZE_MAX > 0xFFFFFFFFu
  CHECK_ST(airs_send(rt, pid, 1, big_src, (size_t)AIRS_MSG_MAX_SIZE + 1),
           AIRS_EINVAL);
#endif
  CHECK_ST(airs_msg_new_owned(1, &c, sizeof c, counter_free, &m), AIRS_OK);
  CHECK_ST(airs_send_msg(NULL, pid, m), AIRS_EINVAL);
  CHECK_ST(airs_send_msg(rt, pid, NULL), AIRS_EINVAL);
  CHECK_ST(airs_send_msg(rt, AIRS_NO_PID, m), AIRS_ENOPROC);
  CHECK_ST(airs_send_msg(rt, stale, m), AIRS_ENOPROC);
  CHECK_EQ(c.n, 0); /* every failure left it to us */
  CHECK_EQ(poll_all(rt), 0);
  CHECK_EQ(peer.n, 0);
  CHECK_ST(airs_send_msg(rt, pid, m), AIRS_OK);
  CHECK_EQ(poll_all(rt), 1);
  CHECK_EQ(c.n, 1);
  CHECK_EQ(peer.n, 1);
  CHECK_EQ(peer.msgs[0].sender, AIRS_NO_PID); /* from the host */

  /* From a callback. */
  r.on_msg = send_inside;
  r.arg = &in;
  in.peer = pid;
  in.stale = stale;
  peer.n = 0;
  CHECK_ST(airs_send(rt, spawn_rec(rt, &r, NULL), 1, NULL, 0), AIRS_OK);
  CHECK_EQ(poll_all(rt), 2);
  CHECK_EQ(in.done, 1);
  CHECK_EQ(in.owned.n, 1);
  CHECK_EQ(peer.n, 43);
  CHECK_EQ(peer.msgs[0].sender, r.self);
  CHECK_EQ(peer.msgs[0].correlation, 99);
  CHECK(peer.msgs[0].data == (const void*)&in.owned);
  CHECK_EQ(peer.msgs[1].sender, r.self);
  CHECK_EQ(peer.msgs[1].type, 2);
  CHECK_EQ(peer.msgs[2].sender, r.self);
  CHECK_EQ(peer.msgs[2].type, 3);
  for (i = 0; i < 40; i++) {
    int seq = -1;
    memcpy(&seq, peer.msgs[3 + i].bytes, sizeof seq);
    if (peer.msgs[3 + i].type != 100 + (uint64_t)i || seq != i ||
        peer.msgs[3 + i].sender != r.self)
      in_order = 0;
  }
  CHECK(in_order);
  airs_runtime_free(rt);
}

/* High priority first; FIFO within a priority; correlation ids. */
static void test_priority(void) {
  airs_runtime* rt = make_runtime(0, 0);
  recorder r;
  airs_pid pid;
  airs_msg* m = NULL;
  int i, fifo = 1;
  static const uint64_t want[] = {10, 11, 12, 1, 2, 3};
  CHECK(rt != NULL);
  if (!rt) return;
  memset(&r, 0, sizeof r);
  pid = spawn_rec(rt, &r, NULL);
  for (i = 1; i <= 3; i++) {
    CHECK_ST(airs_msg_new((uint64_t)i, NULL, 0, &m), AIRS_OK);
    CHECK_ST(airs_msg_set_correlation(m, 1000 + (uint64_t)i), AIRS_OK);
    CHECK_ST(airs_send_msg(rt, pid, m), AIRS_OK);
  }
  for (i = 10; i <= 12; i++) {
    CHECK_ST(airs_msg_new((uint64_t)i, NULL, 0, &m), AIRS_OK);
    CHECK_ST(airs_msg_set_priority(m, AIRS_PRIORITY_HIGH), AIRS_OK);
    CHECK_ST(airs_send_msg(rt, pid, m), AIRS_OK);
  }
  CHECK_EQ(poll_all(rt), 1);
  CHECK_EQ(r.n, 6);
  for (i = 0; i < 6; i++)
    if (r.msgs[i].type != want[i]) fifo = 0;
  CHECK(fifo);
  CHECK_EQ(r.msgs[0].priority, AIRS_PRIORITY_HIGH);
  CHECK_EQ(r.msgs[0].correlation, 0);
  CHECK_EQ(r.msgs[3].priority, AIRS_PRIORITY_NORMAL);
  CHECK_EQ(r.msgs[3].correlation, 1001);
  CHECK_EQ(r.msgs[5].correlation, 1003);
  /* FIFO from one sender. */
  r.n = 0;
  for (i = 0; i < 60; i++)
    CHECK_ST(airs_send(rt, pid, 500 + (uint64_t)i, NULL, 0), AIRS_OK);
  CHECK_EQ(poll_all(rt), 1);
  fifo = r.n == 60;
  for (i = 0; i < 60 && i < REC_MAX; i++)
    if (r.msgs[i].type != 500 + (uint64_t)i) fifo = 0;
  CHECK(fifo);
  airs_runtime_free(rt);
}

/* ---- mailbox policies and dead letters ---------------------------------- */

typedef struct dead_log {
  int n;
  airs_pid to[8];
  uint64_t type[8];
  unsigned char first[8];
  airs_dead_letter_reason reason[8];
} dead_log;

static void on_dead(void* user_data, airs_pid to, const airs_msg* msg,
                    airs_dead_letter_reason reason) {
  dead_log* d = (dead_log*)user_data;
  if (d->n < 8) {
    d->to[d->n] = to;
    d->type[d->n] = airs_msg_type(msg);
    d->first[d->n] =
        airs_msg_size(msg) ? *(const unsigned char*)airs_msg_data(msg) : 0;
    d->reason[d->n] = reason;
  }
  d->n++;
}

static void test_mailbox_fail(void) {
  airs_runtime* rt = make_runtime(0, 0);
  recorder r;
  airs_pid pid;
  airs_spawn_opts o;
  counter c = {0};
  airs_msg* m = NULL;
  uint64_t v = 0;
  CHECK(rt != NULL);
  if (!rt) return;
  memset(&r, 0, sizeof r);
  o = mailbox_opts(rt, 2, AIRS_MAILBOX_FAIL, 1000);
  pid = spawn_rec(rt, &r, &o);
  CHECK_ST(airs_send(rt, pid, 1, NULL, 0), AIRS_OK);
  CHECK_ST(airs_send(rt, pid, 2, NULL, 0), AIRS_OK);
  CHECK_ST(airs_send(rt, pid, 3, NULL, 0), AIRS_EFULL);
  CHECK_ST(airs_msg_new_owned(4, &c, sizeof c, counter_free, &m), AIRS_OK);
  CHECK_ST(airs_send_msg(rt, pid, m), AIRS_EFULL);
  CHECK_EQ(c.n, 0); /* still ours */
  CHECK_ST(airs_process_stat_get(rt, pid, AIRS_PSTAT_MSGS_DROPPED, &v),
           AIRS_OK);
  CHECK_EQ(v, 2);
  CHECK_EQ(poll_all(rt), 1);
  CHECK_EQ(r.n, 2);
  /* Room again. */
  CHECK_ST(airs_send_msg(rt, pid, m), AIRS_OK);
  CHECK_EQ(poll_all(rt), 1);
  CHECK_EQ(c.n, 1);
  CHECK_EQ(r.n, 3);
  airs_runtime_free(rt);
}

static void test_mailbox_drop_newest(void) {
  airs_runtime* rt = make_runtime(0, 0);
  airs_runtime* dflt = make_runtime_ex(0, 0, 1, AIRS_MAILBOX_DROP_NEWEST, 5000);
  recorder r, rd;
  airs_pid pid, dpid;
  airs_spawn_opts o;
  counter c = {0};
  airs_msg* m = NULL;
  dead_log d, dd;
  uint64_t v = 0;
  CHECK(rt != NULL && dflt != NULL);
  if (!rt || !dflt) return;
  memset(&r, 0, sizeof r);
  memset(&d, 0, sizeof d);
  CHECK_ST(airs_set_dead_letter_hook(NULL, on_dead, &d), AIRS_EINVAL);
  CHECK_ST(airs_set_dead_letter_hook(rt, on_dead, &d), AIRS_OK);
  o = mailbox_opts(rt, 1, AIRS_MAILBOX_DROP_NEWEST, 1000);
  pid = spawn_rec(rt, &r, &o);
  CHECK_ST(airs_send(rt, pid, 1, "a", 1), AIRS_OK);
  CHECK_ST(airs_send(rt, pid, 2, "b", 1), AIRS_OK); /* dropped */
  CHECK_EQ(d.n, 1);
  CHECK_EQ(d.to[0], pid);
  CHECK_EQ(d.type[0], 2);
  CHECK_EQ(d.first[0], 'b');
  CHECK_EQ(d.reason[0], AIRS_DEAD_LETTER_MAILBOX_FULL);
  /* A dropped message is consumed: the runtime frees it, once. */
  CHECK_ST(airs_msg_new_owned(3, &c, sizeof c, counter_free, &m), AIRS_OK);
  CHECK_ST(airs_send_msg(rt, pid, m), AIRS_OK);
  CHECK_EQ(c.n, 1);
  CHECK_EQ(d.n, 2);
  CHECK_EQ(d.type[1], 3);
  CHECK_ST(airs_process_stat_get(rt, pid, AIRS_PSTAT_MSGS_DROPPED, &v),
           AIRS_OK);
  CHECK_EQ(v, 2);
  CHECK_EQ(poll_all(rt), 1);
  CHECK_EQ(r.n, 1);
  CHECK_EQ(r.msgs[0].type, 1);
  /* Without a hook, drops are silent. */
  CHECK_ST(airs_set_dead_letter_hook(rt, NULL, NULL), AIRS_OK);
  CHECK_ST(airs_send(rt, pid, 4, NULL, 0), AIRS_OK);
  CHECK_ST(airs_send(rt, pid, 5, NULL, 0), AIRS_OK);
  CHECK_EQ(d.n, 2);
  CHECK_EQ(poll_all(rt), 1);
  CHECK_EQ(r.n, 2);
  CHECK_EQ(r.msgs[1].type, 4);
  airs_runtime_free(rt);

  /* The runtime's default capacity and policy apply with NULL opts. */
  memset(&rd, 0, sizeof rd);
  memset(&dd, 0, sizeof dd);
  CHECK_ST(airs_set_dead_letter_hook(dflt, on_dead, &dd), AIRS_OK);
  dpid = spawn_rec(dflt, &rd, NULL);
  CHECK_ST(airs_process_stat_get(dflt, dpid, AIRS_PSTAT_MAILBOX_CAPACITY, &v),
           AIRS_OK);
  CHECK_EQ(v, 1);
  CHECK_ST(airs_send(dflt, dpid, 1, NULL, 0), AIRS_OK);
  CHECK_ST(airs_send(dflt, dpid, 2, NULL, 0), AIRS_OK);
  CHECK_EQ(dd.n, 1);
  CHECK_EQ(dd.reason[0], AIRS_DEAD_LETTER_MAILBOX_FULL);
  airs_runtime_free(dflt);
}

/* Sends to full BLOCK mailboxes from inside a callback: no waiting. */
typedef struct block_inside {
  airs_pid other;
  counter owned;
  double elapsed_ms;
} block_inside;

static airs_status block_msg(recorder* r, airs_ctx* ctx, const airs_msg* msg) {
  block_inside* b = (block_inside*)r->arg;
  airs_runtime* rt = airs_ctx_runtime(ctx);
  airs_pid self = airs_self(ctx);
  airs_msg* m = NULL;
  double t0 = now_ms();
  if (airs_msg_type(msg) != 1) return AIRS_OK;
  /* To itself: the trigger was taken out, so there is room for one. */
  CHECK_ST(airs_ctx_send(ctx, self, 2, NULL, 0), AIRS_OK);
  CHECK_ST(airs_ctx_send(ctx, self, 2, NULL, 0), AIRS_EFULL);
  CHECK_ST(airs_send(rt, self, 2, NULL, 0), AIRS_EFULL);
  /* To another process. */
  CHECK_ST(airs_ctx_send(ctx, b->other, 2, NULL, 0), AIRS_OK);
  CHECK_ST(airs_ctx_send(ctx, b->other, 2, NULL, 0), AIRS_EFULL);
  CHECK_ST(airs_msg_new_owned(2, &b->owned, sizeof b->owned, counter_free, &m),
           AIRS_OK);
  CHECK_ST(airs_send_msg(rt, b->other, m), AIRS_EFULL);
  CHECK_ST(airs_ctx_send_msg(ctx, b->other, m), AIRS_EFULL);
  CHECK_EQ(b->owned.n, 0);
  airs_msg_free(m);
  b->elapsed_ms = now_ms() - t0;
  return AIRS_OK;
}

static void test_mailbox_block(void) {
  airs_runtime* rt = make_runtime(0, 0);
  airs_runtime* threaded = make_runtime(2, 0);
  recorder r, other, sink;
  airs_pid pid, opid, spid;
  airs_spawn_opts o;
  block_inside b;
  counter c = {0};
  airs_msg* m = NULL;
  double t0, dt;
  int i, ok = 0;
  CHECK(rt != NULL && threaded != NULL);
  if (!rt || !threaded) return;

  /* From the host, nothing drains: ETIMEDOUT after the block timeout, and
   * the message is still ours. */
  memset(&r, 0, sizeof r);
  o = mailbox_opts(rt, 1, AIRS_MAILBOX_BLOCK, 20);
  pid = spawn_rec(rt, &r, &o);
  CHECK_ST(airs_send(rt, pid, 1, NULL, 0), AIRS_OK);
  CHECK_ST(airs_msg_new_owned(2, &c, sizeof c, counter_free, &m), AIRS_OK);
  t0 = now_ms();
  CHECK_ST(airs_send_msg(rt, pid, m), AIRS_ETIMEDOUT);
  dt = now_ms() - t0;
  CHECK(dt >= 15.0);
  CHECK(dt < 1000.0);
  CHECK_EQ(c.n, 0);
  airs_msg_free(m);
  CHECK_EQ(c.n, 1);
  t0 = now_ms();
  CHECK_ST(airs_send(rt, pid, 3, NULL, 0), AIRS_ETIMEDOUT);
  CHECK(now_ms() - t0 >= 15.0);
  CHECK_EQ(poll_all(rt), 1);
  CHECK_EQ(r.n, 1);

  /* Inside a callback it never waits, even with a long block timeout. */
  memset(&r, 0, sizeof r);
  memset(&other, 0, sizeof other);
  memset(&b, 0, sizeof b);
  o = mailbox_opts(rt, 1, AIRS_MAILBOX_BLOCK, 3000);
  opid = spawn_rec(rt, &other, &o);
  b.other = opid;
  r.on_msg = block_msg;
  r.arg = &b;
  pid = spawn_rec(rt, &r, &o);
  CHECK_ST(airs_send(rt, pid, 1, NULL, 0), AIRS_OK);
  t0 = now_ms();
  CHECK_EQ(poll_all(rt), 2); /* its own turn (both messages), the other's */
  CHECK(now_ms() - t0 < 1000.0);
  CHECK(b.elapsed_ms < 500.0);
  CHECK_EQ(b.owned.n, 1);
  CHECK_EQ(r.n, 2);
  CHECK_EQ(other.n, 1);
  airs_runtime_free(rt);

  /* A receiver that drains makes room: a blocked sender gets through. */
  memset(&sink, 0, sizeof sink);
  o = mailbox_opts(threaded, 1, AIRS_MAILBOX_BLOCK, 2000);
  spid = spawn_rec(threaded, &sink, &o);
  for (i = 0; i < 20; i++)
    if (airs_send(threaded, spid, 1, NULL, 0) == AIRS_OK) ok++;
  CHECK_EQ(ok, 20);
  CHECK_ST(airs_stop(threaded, spid), AIRS_OK);
  CHECK_ST(airs_wait(threaded, spid, 2000), AIRS_OK);
  CHECK_EQ(sink.n, 20);
  airs_runtime_free(threaded);
}

/* Messages still queued when their receiver ends are dead letters. */
static void test_dead_letters_exited(void) {
  airs_runtime* rt = make_runtime(0, 0);
  recorder r;
  airs_pid pid;
  dead_log d;
  counter c = {0};
  airs_msg* m = NULL;
  CHECK(rt != NULL);
  if (!rt) return;
  memset(&r, 0, sizeof r);
  memset(&d, 0, sizeof d);
  CHECK_ST(airs_set_dead_letter_hook(rt, on_dead, &d), AIRS_OK);
  r.on_msg = rec_exit_normal;
  pid = spawn_rec(rt, &r, NULL);
  CHECK_ST(airs_send(rt, pid, 1, NULL, 0), AIRS_OK);
  CHECK_ST(airs_send(rt, pid, 2, "x", 1), AIRS_OK);
  CHECK_ST(airs_msg_new_owned(3, &c, sizeof c, counter_free, &m), AIRS_OK);
  CHECK_ST(airs_send_msg(rt, pid, m), AIRS_OK);
  CHECK_EQ(poll_all(rt), 1);
  CHECK_EQ(r.n, 1);
  CHECK_EQ(d.n, 2);
  CHECK_EQ(d.to[0], pid);
  CHECK_EQ(d.type[0], 2);
  CHECK_EQ(d.first[0], 'x');
  CHECK_EQ(d.reason[0], AIRS_DEAD_LETTER_EXITED);
  CHECK_EQ(d.type[1], 3);
  CHECK_EQ(d.reason[1], AIRS_DEAD_LETTER_EXITED);
  CHECK_EQ(c.n, 1);
  /* A send after the end is refused; the hook sees it as NOPROC. */
  CHECK_ST(airs_send(rt, pid, 4, NULL, 0), AIRS_ENOPROC);
  CHECK_EQ(d.n, 3);
  CHECK_EQ(d.type[2], 4);
  CHECK_EQ(d.reason[2], AIRS_DEAD_LETTER_NOPROC);
  airs_runtime_free(rt);
}

/* A dead_log written by a worker's hook while main reads its count. */
typedef struct locked_dead_log {
  pthread_mutex_t mu;
  dead_log d;
} locked_dead_log;

static void on_dead_locked(void* user_data, airs_pid to, const airs_msg* msg,
                           airs_dead_letter_reason reason) {
  locked_dead_log* l = (locked_dead_log*)user_data;
  pthread_mutex_lock(&l->mu);
  on_dead(&l->d, to, msg, reason);
  pthread_mutex_unlock(&l->mu);
}

static int dead_count(locked_dead_log* l) {
  pthread_mutex_lock(&l->mu);
  int n = l->d.n;
  pthread_mutex_unlock(&l->mu);
  return n;
}

/* A callback's later sends to a receiver it has already sent to in the
 * same callback are staged without a new look at the receiver (airs.h,
 * airs_ctx_send): a receiver that ended in between gets them as dead
 * letters of reason EXITED, after the mail it had, and the sends return
 * AIRS_OK. R holds one worker in a callback until S, on the other, has
 * sent it one message; then R ends, and S sends four more once it sees
 * R gone. */
typedef struct ended_receiver {
  atomic_int holding; /* R is in its long callback */
  atomic_int release; /* R may return, and end */
  airs_pid r;
  airs_status st[5];
  int saw_end; /* S saw R not alive before its last four sends */
  locked_dead_log dead;
} ended_receiver;

static airs_status hold_then_end(void* s, airs_ctx* ctx, const airs_msg* m) {
  ended_receiver* e = (ended_receiver*)s;
  (void)m;
  double t0 = now_ms();
  atomic_store(&e->holding, 1);
  while (!atomic_load(&e->release) && now_ms() - t0 < 5000.0) sched_yield();
  return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
}

static airs_status send_across_end(void* s, airs_ctx* ctx, const airs_msg* m) {
  ended_receiver* e = (ended_receiver*)s;
  airs_runtime* rt = airs_ctx_runtime(ctx);
  (void)m;
  e->st[0] = airs_ctx_send(ctx, e->r, 10, NULL, 0);
  atomic_store(&e->release, 1);
  double t0 = now_ms();
  while (airs_is_alive(rt, e->r) && now_ms() - t0 < 5000.0) sched_yield();
  e->saw_end = !airs_is_alive(rt, e->r);
  for (int i = 1; i < 5; i++)
    e->st[i] = airs_ctx_send(ctx, e->r, 10 + (uint64_t)i, NULL, 0);
  return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
}

static void test_sends_across_receiver_end(void) {
  airs_runtime* rt = make_runtime(2, 0);
  ended_receiver e;
  airs_pid s = 0;
  memset(&e, 0, sizeof e);
  pthread_mutex_init(&e.dead.mu, NULL);
  CHECK(rt != NULL);
  if (!rt) return;
  CHECK_ST(airs_set_dead_letter_hook(rt, on_dead_locked, &e.dead), AIRS_OK);
  airs_behaviour rb = {
      AIRS_BEHAVIOUR_VERSION, sizeof rb, NULL, hold_then_end, NULL, NULL, NULL};
  airs_behaviour sb = {AIRS_BEHAVIOUR_VERSION,
                       sizeof sb,
                       NULL,
                       send_across_end,
                       NULL,
                       NULL,
                       NULL};
  CHECK_ST(airs_spawn(rt, &rb, &e, NULL, NULL, &e.r), AIRS_OK);
  CHECK_ST(airs_spawn(rt, &sb, &e, NULL, NULL, &s), AIRS_OK);
  CHECK_ST(airs_send(rt, e.r, 1, NULL, 0), AIRS_OK);
  double t0 = now_ms();
  while (!atomic_load(&e.holding) && now_ms() - t0 < 5000.0) sched_yield();
  CHECK(atomic_load(&e.holding));
  CHECK_ST(airs_send(rt, s, 1, NULL, 0), AIRS_OK); /* runs on the other */
  CHECK_ST(airs_wait(rt, s, 5000), AIRS_OK);
  t0 = now_ms();
  while (dead_count(&e.dead) < 5 && now_ms() - t0 < 5000.0) sched_yield();
  CHECK(e.saw_end);
  for (int i = 0; i < 5; i++) CHECK_EQ(e.st[i], AIRS_OK);
  CHECK_EQ(dead_count(&e.dead), 5);
  for (int i = 0; i < 5 && i < dead_count(&e.dead); i++) {
    CHECK_EQ(e.dead.d.to[i], e.r);
    CHECK_EQ(e.dead.d.type[i], 10 + (uint64_t)i);
    CHECK_EQ(e.dead.d.reason[i], AIRS_DEAD_LETTER_EXITED);
  }
  airs_runtime_free(rt);
  pthread_mutex_destroy(&e.dead.mu);
}

int main(void) {
  test_msg_new();
  test_msg_owned();
  test_payloads();
  test_send_kinds();
  test_send_failures_and_sender();
  test_priority();
  test_mailbox_fail();
  test_mailbox_drop_newest();
  test_mailbox_block();
  test_dead_letters_exited();
  test_sends_across_receiver_end();
  return CHECK_DONE();
}
