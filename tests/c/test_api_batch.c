/*
 * test_api_batch.c - one crossing per turn: the receive_batch slot of
 * airs_behaviour (order, bounds, signals and exits in the middle of a
 * batch), airs_ctx_send_many (per-item statuses), and the behaviour
 * struct's versions (a version 1 struct, exactly its size, still works).
 */
#include <stdlib.h>

#include "check.h"
#include "helpers.h"

#define MAX_SEEN 4096

enum action {
  ACT_NONE = 0,
  ACT_EXIT,      /* airs_exit(NORMAL) at item stop_at, *handled = i + 1 */
  ACT_EXIT_ALL,  /* airs_exit(NORMAL) at item stop_at, *handled untouched */
  ACT_FAIL,      /* return AIRS_EFULL at item stop_at, *handled = i + 1 */
  ACT_KILL_SELF, /* airs_kill(self) at item stop_at, *handled = i + 1 */
  ACT_MISUSE,    /* return AIRS_OK with *handled = i + 1 (not ending) */
  ACT_TRAP       /* airs_trap_exit(true) at item stop_at, go on */
};

typedef struct batch_rec {
  airs_runtime* rt;
  int calls;     /* receive_batch calls */
  int max_count; /* the largest count seen */
  int min_count; /* the smallest count seen */
  int n;         /* items seen (and handled) */
  uint64_t types[MAX_SEEN];
  airs_pid senders[MAX_SEEN];
  uint64_t corrs[MAX_SEEN];
  int values[MAX_SEEN]; /* the int payload, or -1 */
  int mismatches;       /* items whose words differ from the accessors */
  int stop_at;          /* item index (over the whole run) to act at */
  int action;
  int reply; /* reply to each request with its value + 1000 */
  int terminates;
  airs_exit_kind term_kind;
  int32_t term_code;
  char term_text[200];
} batch_rec;

static void brec_init(batch_rec* r, airs_runtime* rt) {
  memset(r, 0, sizeof *r);
  r->rt = rt;
  r->stop_at = -1;
  r->min_count = 1 << 30;
}

static airs_status batch_receive(void* state, airs_ctx* ctx,
                                 const airs_batch_item* items, uint32_t count,
                                 uint32_t* handled) {
  batch_rec* r = (batch_rec*)state;
  uint32_t i;
  r->calls++;
  if ((int)count > r->max_count) r->max_count = (int)count;
  if ((int)count < r->min_count) r->min_count = (int)count;
  if (*handled != count) r->mismatches++;
  for (i = 0; i < count; i++) {
    const airs_batch_item* it = &items[i];
    int at = r->n;
    if (it->type != airs_msg_type(it->msg) ||
        it->sender != airs_msg_sender(it->msg) ||
        it->correlation != airs_msg_correlation(it->msg) ||
        it->data != airs_msg_data(it->msg) ||
        it->size != airs_msg_size(it->msg))
      r->mismatches++;
    if (at < MAX_SEEN) {
      r->types[at] = it->type;
      r->senders[at] = it->sender;
      r->corrs[at] = it->correlation;
      r->values[at] = -1;
      if (it->size == sizeof(int))
        memcpy(&r->values[at], it->data, sizeof(int));
    }
    r->n++;
    if (r->reply && it->correlation && it->size == sizeof(int)) {
      int answer = r->values[at] + 1000;
      airs_msg* m = NULL;
      if (airs_msg_new(7, &answer, sizeof answer, &m) == AIRS_OK &&
          airs_reply(ctx, it->msg, m) != AIRS_OK)
        airs_msg_free(m);
    }
    if (at != r->stop_at) continue;
    switch (r->action) {
      case ACT_EXIT:
        airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
        *handled = i + 1;
        return AIRS_OK;
      case ACT_EXIT_ALL:
        airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
        break; /* the rest of this batch is handled all the same */
      case ACT_FAIL: *handled = i + 1; return AIRS_EFULL;
      case ACT_KILL_SELF:
        airs_kill(r->rt, airs_self(ctx));
        *handled = i + 1;
        return AIRS_OK;
      case ACT_MISUSE: *handled = i + 1; return AIRS_OK;
      case ACT_TRAP: airs_trap_exit(ctx, true); break;
      default: break;
    }
  }
  return AIRS_OK;
}

static void batch_terminate(void* state, airs_ctx* ctx,
                            const airs_reason* reason) {
  batch_rec* r = (batch_rec*)state;
  (void)ctx;
  r->terminates++;
  r->term_kind = airs_reason_kind(reason);
  r->term_code = airs_reason_code(reason);
  snprintf(r->term_text, sizeof r->term_text, "%s", airs_reason_text(reason));
}

static airs_behaviour batch_behaviour(void) {
  airs_behaviour b;
  memset(&b, 0, sizeof b);
  b.version = AIRS_BEHAVIOUR_VERSION;
  b.size = sizeof b;
  b.terminate = batch_terminate;
  b.receive_batch = batch_receive;
  return b;
}

/* ---- dead letters ------------------------------------------------------ */

typedef struct dead_log {
  int n;
  uint64_t types[256];
  int values[256];
  airs_dead_letter_reason reasons[256];
} dead_log;

static void on_dead(void* user_data, airs_pid to, const airs_msg* msg,
                    airs_dead_letter_reason reason) {
  dead_log* d = (dead_log*)user_data;
  (void)to;
  if (d->n < 256) {
    d->types[d->n] = airs_msg_type(msg);
    d->values[d->n] = -1;
    if (airs_msg_size(msg) == sizeof(int))
      memcpy(&d->values[d->n], airs_msg_data(msg), sizeof(int));
    d->reasons[d->n] = reason;
  }
  d->n++;
}

/* Sends ints from..to-1 with type 100 + i (from outside any process). */
static void send_ints(airs_runtime* rt, airs_pid to, int from, int end) {
  int i;
  for (i = from; i < end; i++)
    CHECK_ST(airs_send(rt, to, 100 + (uint64_t)i, &i, sizeof i), AIRS_OK);
}

static airs_runtime* host_runtime_budget(int64_t budget) {
  airs_config* cfg = NULL;
  airs_runtime* rt = NULL;
  if (airs_config_new(&cfg) != AIRS_OK) return NULL;
  if (airs_config_set(cfg, AIRS_CFG_WORKERS, 0) != AIRS_OK ||
      airs_config_set(cfg, AIRS_CFG_BUDGET, budget) != AIRS_OK ||
      airs_runtime_new(cfg, &rt) != AIRS_OK)
    rt = NULL;
  airs_config_free(cfg);
  return rt;
}

/* ---- order and bounds --------------------------------------------------- */

static void test_order(void) {
  airs_runtime* rt = make_host_runtime(1000);
  airs_behaviour b = batch_behaviour();
  batch_rec r;
  airs_pid pid;
  airs_msg* high = NULL;
  int i, v = 99;
  CHECK(rt != NULL);
  if (!rt) return;
  brec_init(&r, rt);
  CHECK_ST(airs_spawn(rt, &b, &r, NULL, NULL, &pid), AIRS_OK);
  send_ints(rt, pid, 0, 10);
  /* High priority, sent last, handled first. */
  CHECK_ST(airs_msg_new(5, &v, sizeof v, &high), AIRS_OK);
  CHECK_ST(airs_msg_set_priority(high, AIRS_PRIORITY_HIGH), AIRS_OK);
  CHECK_ST(airs_msg_set_correlation(high, 4242), AIRS_OK);
  CHECK_ST(airs_send_msg(rt, pid, high), AIRS_OK);
  CHECK(poll_all(rt) >= 1);
  CHECK_EQ(r.n, 11);
  CHECK_EQ(r.calls, 1); /* one turn, one call */
  CHECK_EQ(r.mismatches, 0);
  CHECK_EQ(r.types[0], 5);
  CHECK_EQ(r.values[0], 99);
  CHECK_EQ(r.corrs[0], 4242);
  for (i = 0; i < 10; i++) {
    CHECK_EQ(r.types[i + 1], 100 + i);
    CHECK_EQ(r.values[i + 1], i);
    CHECK_EQ(r.senders[i + 1], 0);
  }
  CHECK_ST(airs_stop(rt, pid), AIRS_OK);
  CHECK_ST(airs_wait(rt, pid, 5000), AIRS_OK);
  CHECK_EQ(r.terminates, 1);
  CHECK_EQ(r.term_kind, AIRS_EXIT_SHUTDOWN);
  airs_runtime_free(rt);
}

static void test_bounds(void) {
  /* Budget 5: a turn hands over at most 5, in one call. */
  airs_runtime* rt = host_runtime_budget(5);
  airs_behaviour b = batch_behaviour();
  batch_rec r;
  airs_pid pid;
  uint32_t ran = 0;
  int i, ok = 1;
  CHECK(rt != NULL);
  if (!rt) return;
  brec_init(&r, rt);
  CHECK_ST(airs_spawn(rt, &b, &r, NULL, NULL, &pid), AIRS_OK);
  send_ints(rt, pid, 0, 12);
  CHECK_ST(airs_runtime_poll(rt, 1, &ran), AIRS_OK);
  CHECK_EQ(ran, 1);
  CHECK_EQ(r.n, 5);
  CHECK_EQ(r.calls, 1);
  CHECK(poll_all(rt) >= 2);
  CHECK_EQ(r.n, 12);
  CHECK_EQ(r.calls, 3); /* 5, 5, 2 */
  CHECK_EQ(r.max_count, 5);
  CHECK_EQ(r.min_count, 2);
  airs_runtime_free(rt);

  /* Budget 1000: calls of at most AIRS_BATCH_MAX, all in order. */
  rt = host_runtime_budget(1000);
  CHECK(rt != NULL);
  if (!rt) return;
  brec_init(&r, rt);
  CHECK_ST(airs_spawn(rt, &b, &r, NULL, NULL, &pid), AIRS_OK);
  send_ints(rt, pid, 0, 3 * AIRS_BATCH_MAX + 7);
  CHECK_ST(airs_runtime_poll(rt, 1, &ran), AIRS_OK);
  CHECK_EQ(r.n, 3 * AIRS_BATCH_MAX + 7);
  CHECK_EQ(r.calls, 4); /* one turn, four calls */
  CHECK_EQ(r.max_count, AIRS_BATCH_MAX);
  CHECK_EQ(r.min_count, 7);
  CHECK_EQ(r.mismatches, 0);
  for (i = 0; i < r.n; i++)
    if (r.values[i] != i) ok = 0;
  CHECK(ok);
  airs_runtime_free(rt);
}

/* ---- ending in the middle of a batch ------------------------------------ */

/* Ten messages; the actor acts at item `at`. Checks what was handled, the
 * exit reason, and that the rest went to the dead-letter hook in order. */
static void run_stop(int action, int at, int want_handled,
                     airs_exit_kind want_kind, int32_t want_code) {
  airs_runtime* rt = make_host_runtime(1000);
  airs_behaviour b = batch_behaviour();
  batch_rec r;
  dead_log d;
  airs_pid pid;
  int i;
  CHECK(rt != NULL);
  if (!rt) return;
  memset(&d, 0, sizeof d);
  CHECK_ST(airs_set_dead_letter_hook(rt, on_dead, &d), AIRS_OK);
  brec_init(&r, rt);
  r.action = action;
  r.stop_at = at;
  CHECK_ST(airs_spawn(rt, &b, &r, NULL, NULL, &pid), AIRS_OK);
  send_ints(rt, pid, 0, 10);
  CHECK(poll_all(rt) >= 1);
  CHECK(!airs_is_alive(rt, pid));
  CHECK_EQ(r.terminates, 1);
  CHECK_EQ(r.term_kind, want_kind);
  CHECK_EQ(r.term_code, want_code);
  /* Items seen by the callback: up to `at` (ACT_EXIT_ALL: all ten). */
  CHECK_EQ(r.n, action == ACT_EXIT_ALL ? 10 : at + 1);
  CHECK_EQ(d.n, 10 - want_handled);
  for (i = 0; i < d.n && i < 256; i++) {
    CHECK_EQ(d.values[i], want_handled + i);
    CHECK_EQ(d.reasons[i], AIRS_DEAD_LETTER_EXITED);
  }
  airs_runtime_free(rt);
}

static void test_stop_mid_batch(void) {
  run_stop(ACT_EXIT, 3, 4, AIRS_EXIT_NORMAL, 0);
  run_stop(ACT_EXIT, 9, 10, AIRS_EXIT_NORMAL, 0); /* the last: none left */
  run_stop(ACT_EXIT_ALL, 3, 10, AIRS_EXIT_NORMAL, 0);
  run_stop(ACT_FAIL, 2, 3, AIRS_EXIT_ERROR, AIRS_EFULL);
  run_stop(ACT_KILL_SELF, 5, 6, AIRS_EXIT_KILLED, 0);
  run_stop(ACT_MISUSE, 1, 2, AIRS_EXIT_ERROR, AIRS_EINVAL);
}

/* The misuse's reason says what happened. */
static void test_misuse_text(void) {
  airs_runtime* rt = make_host_runtime(1000);
  airs_behaviour b = batch_behaviour();
  batch_rec r;
  airs_pid pid;
  CHECK(rt != NULL);
  if (!rt) return;
  brec_init(&r, rt);
  r.action = ACT_MISUSE;
  r.stop_at = 0;
  CHECK_ST(airs_spawn(rt, &b, &r, NULL, NULL, &pid), AIRS_OK);
  send_ints(rt, pid, 0, 3);
  CHECK(poll_all(rt) >= 1);
  CHECK(strstr(r.term_text, "receive_batch") != NULL);
  CHECK(strstr(r.term_text, "1 of 3") != NULL);
  airs_runtime_free(rt);
}

/* ---- signals between messages -------------------------------------------- */

/* m0 m1 (m1 turns trap_exit on) exit-signal m2: the signal comes after
 * m1, so it is trapped; the actor lives on and sees EXIT, then m2. */
static void test_trap_mid_batch(void) {
  airs_runtime* rt = make_host_runtime(1000);
  airs_behaviour b = batch_behaviour();
  batch_rec r;
  dead_log d;
  airs_pid pid;
  int two = 2;
  CHECK(rt != NULL);
  if (!rt) return;
  memset(&d, 0, sizeof d);
  CHECK_ST(airs_set_dead_letter_hook(rt, on_dead, &d), AIRS_OK);
  brec_init(&r, rt);
  r.action = ACT_TRAP;
  r.stop_at = 1;
  CHECK_ST(airs_spawn(rt, &b, &r, NULL, NULL, &pid), AIRS_OK);
  send_ints(rt, pid, 0, 2);
  CHECK_ST(airs_send_exit(rt, pid, AIRS_EXIT_ERROR, 77, "boom"), AIRS_OK);
  CHECK_ST(airs_send(rt, pid, 102, &two, sizeof two), AIRS_OK);
  CHECK(poll_all(rt) >= 1);
  CHECK(airs_is_alive(rt, pid));
  CHECK_EQ(r.n, 4);
  CHECK_EQ(r.types[0], 100);
  CHECK_EQ(r.types[1], 101);
  CHECK_EQ(r.types[2], AIRS_MSG_EXIT);
  CHECK_EQ(r.types[3], 102);
  CHECK_EQ(r.calls, 2); /* the signal ended the first batch */
  CHECK_EQ(r.mismatches, 0);
  CHECK_EQ(d.n, 0);
  airs_runtime_free(rt);
}

/* The same without trap_exit: the signal ends the actor after m1, and m2
 * (behind it) is a dead letter, as with receive. */
static void test_exit_signal_mid_batch(void) {
  airs_runtime* rt = make_host_runtime(1000);
  airs_behaviour b = batch_behaviour();
  batch_rec r;
  dead_log d;
  airs_pid pid;
  int two = 2;
  CHECK(rt != NULL);
  if (!rt) return;
  memset(&d, 0, sizeof d);
  CHECK_ST(airs_set_dead_letter_hook(rt, on_dead, &d), AIRS_OK);
  brec_init(&r, rt);
  CHECK_ST(airs_spawn(rt, &b, &r, NULL, NULL, &pid), AIRS_OK);
  send_ints(rt, pid, 0, 2);
  CHECK_ST(airs_send_exit(rt, pid, AIRS_EXIT_ERROR, 77, "boom"), AIRS_OK);
  CHECK_ST(airs_send(rt, pid, 102, &two, sizeof two), AIRS_OK);
  CHECK(poll_all(rt) >= 1);
  CHECK(!airs_is_alive(rt, pid));
  CHECK_EQ(r.n, 2);
  CHECK_EQ(r.terminates, 1);
  CHECK_EQ(r.term_kind, AIRS_EXIT_ERROR);
  CHECK_EQ(r.term_code, 77);
  CHECK_EQ(d.n, 1);
  CHECK_EQ(d.values[0], 2);
  airs_runtime_free(rt);
}

/* A kill waiting before the turn: nothing is handed over. */
static void test_kill_before_batch(void) {
  airs_runtime* rt = make_host_runtime(1000);
  airs_behaviour b = batch_behaviour();
  batch_rec r;
  dead_log d;
  airs_pid pid;
  CHECK(rt != NULL);
  if (!rt) return;
  memset(&d, 0, sizeof d);
  CHECK_ST(airs_set_dead_letter_hook(rt, on_dead, &d), AIRS_OK);
  brec_init(&r, rt);
  CHECK_ST(airs_spawn(rt, &b, &r, NULL, NULL, &pid), AIRS_OK);
  send_ints(rt, pid, 0, 5);
  CHECK_ST(airs_kill(rt, pid), AIRS_OK);
  CHECK(poll_all(rt) >= 1);
  CHECK(!airs_is_alive(rt, pid));
  CHECK_EQ(r.n, 0);
  CHECK_EQ(r.calls, 0);
  CHECK_EQ(r.term_kind, AIRS_EXIT_KILLED);
  CHECK_EQ(d.n, 5);
  airs_runtime_free(rt);
}

/* ---- airs_ctx_send_many -------------------------------------------------- */

typedef struct sender {
  airs_pid targets[2]; /* two live receivers */
  airs_pid dead;       /* a pid that has ended */
  airs_status ret;
  airs_status statuses[8];
  char message[256];
  airs_ctx* ctx; /* kept for the misuse check after the callback */
  int done;
} sender;

static airs_status sender_receive(void* state, airs_ctx* ctx,
                                  const airs_batch_item* items, uint32_t count,
                                  uint32_t* handled) {
  sender* s = (sender*)state;
  static const int v[6] = {10, 11, 12, 13, 14, 15};
  airs_send_item out[6];
  (void)items;
  (void)count;
  (void)handled;
  if (s->done++) return AIRS_OK;
  memset(out, 0, sizeof out);
  out[0].to = s->targets[0];
  out[0].type = 1;
  out[0].data = &v[0];
  out[0].size = sizeof(int);
  out[1] = out[0];
  out[1].to = s->dead; /* fails: ENOPROC */
  out[1].data = &v[1];
  out[2] = out[0];
  out[2].to = s->targets[1];
  out[2].data = &v[2];
  out[2].correlation = 555;
  out[3] = out[0];
  out[3].type = AIRS_MSG_EXIT; /* fails: a system type */
  out[3].data = &v[3];
  out[4] = out[0];
  out[4].data = &v[4];
  out[4].priority = AIRS_PRIORITY_HIGH;
  out[5] = out[0];
  out[5].data = &v[5];
  out[5].kind = 9; /* fails: no such kind */
  s->ret = airs_ctx_send_many(ctx, out, 6, s->statuses);
  snprintf(s->message, sizeof s->message, "%s", airs_last_error_message());
  s->ctx = ctx;
  return AIRS_OK;
}

static void test_send_many(void) {
  airs_runtime* rt = make_host_runtime(1000);
  airs_behaviour b = batch_behaviour();
  airs_behaviour sb = batch_behaviour();
  batch_rec a, c;
  sender s;
  dead_log d;
  airs_pid sp, gone;
  airs_send_item one;
  airs_status st[2] = {AIRS_OK, AIRS_OK};
  CHECK(rt != NULL);
  if (!rt) return;
  memset(&d, 0, sizeof d);
  CHECK_ST(airs_set_dead_letter_hook(rt, on_dead, &d), AIRS_OK);
  brec_init(&a, rt);
  brec_init(&c, rt);
  memset(&s, 0, sizeof s);
  sb.terminate = NULL;
  sb.receive_batch = sender_receive;
  CHECK_ST(airs_spawn(rt, &b, &a, NULL, NULL, &s.targets[0]), AIRS_OK);
  CHECK_ST(airs_spawn(rt, &b, &c, NULL, NULL, &s.targets[1]), AIRS_OK);
  CHECK_ST(airs_spawn(rt, &b, &c, NULL, NULL, &gone), AIRS_OK);
  CHECK_ST(airs_kill(rt, gone), AIRS_OK);
  CHECK_ST(airs_wait(rt, gone, 5000), AIRS_OK);
  s.dead = gone;
  brec_init(&c, rt); /* `gone` wrote its terminate here */
  CHECK_ST(airs_spawn(rt, &sb, &s, NULL, NULL, &sp), AIRS_OK);
  CHECK_ST(airs_send(rt, sp, 1, NULL, 0), AIRS_OK);
  CHECK(poll_all(rt) >= 1);
  /* The first failure is the call's status; each item has its own. */
  CHECK_EQ(s.ret, AIRS_ENOPROC);
  CHECK(strstr(s.message, "airs_ctx_send_many") != NULL);
  CHECK(strstr(s.message, "item 1 of 6") != NULL);
  CHECK_EQ(s.statuses[0], AIRS_OK);
  CHECK_EQ(s.statuses[1], AIRS_ENOPROC);
  CHECK_EQ(s.statuses[2], AIRS_OK);
  CHECK_EQ(s.statuses[3], AIRS_EINVAL);
  CHECK_EQ(s.statuses[4], AIRS_OK);
  CHECK_EQ(s.statuses[5], AIRS_EINVAL);
  /* The dead pid's message went to the hook, as with airs_ctx_send. */
  CHECK_EQ(d.n, 1);
  CHECK_EQ(d.reasons[0], AIRS_DEAD_LETTER_NOPROC);
  CHECK_EQ(d.values[0], 11);
  /* Receivers: the high one first, then the rest in order; the sender
   * and correlation are as set. */
  CHECK_EQ(a.n, 2);
  CHECK_EQ(a.values[0], 14);
  CHECK_EQ(a.values[1], 10);
  CHECK_EQ(a.senders[1], sp);
  CHECK_EQ(c.n, 1);
  CHECK_EQ(c.values[0], 12);
  CHECK_EQ(c.corrs[0], 555);
  CHECK_EQ(c.senders[0], sp);

  /* The call as a whole: each item gets its status, nothing is sent. */
  memset(&one, 0, sizeof one);
  one.to = s.targets[0];
  one.type = 1;
  CHECK_ST(airs_ctx_send_many(s.ctx, &one, 1, st), AIRS_ESTATE);
  CHECK_EQ(st[0], AIRS_ESTATE);
  CHECK_ST(airs_ctx_send_many(NULL, &one, 1, st), AIRS_EINVAL);
  CHECK_EQ(st[0], AIRS_EINVAL);
  CHECK(poll_all(rt) >= 0);
  CHECK_EQ(a.n, 2);
  airs_runtime_free(rt);
}

/* Misuse of the call from inside a callback. */
typedef struct misuse {
  airs_status null_items, too_many, zero, st[2];
  int done;
} misuse;

static airs_status misuse_receive(void* state, airs_ctx* ctx,
                                  const airs_batch_item* items, uint32_t count,
                                  uint32_t* handled) {
  misuse* m = (misuse*)state;
  (void)items;
  (void)count;
  (void)handled;
  if (m->done++) return AIRS_OK;
  m->st[0] = m->st[1] = AIRS_OK;
  m->null_items = airs_ctx_send_many(ctx, NULL, 2, m->st);
  m->too_many = airs_ctx_send_many(ctx, NULL, AIRS_SEND_MANY_MAX + 1, NULL);
  m->zero = airs_ctx_send_many(ctx, NULL, 0, NULL);
  return AIRS_OK;
}

static void test_send_many_misuse(void) {
  airs_runtime* rt = make_host_runtime(1000);
  airs_behaviour b = batch_behaviour();
  misuse m;
  airs_pid pid;
  CHECK(rt != NULL);
  if (!rt) return;
  memset(&m, 0, sizeof m);
  b.terminate = NULL;
  b.receive_batch = misuse_receive;
  CHECK_ST(airs_spawn(rt, &b, &m, NULL, NULL, &pid), AIRS_OK);
  CHECK_ST(airs_send(rt, pid, 1, NULL, 0), AIRS_OK);
  CHECK(poll_all(rt) >= 1);
  CHECK_EQ(m.null_items, AIRS_EINVAL);
  CHECK_EQ(m.st[0], AIRS_EINVAL);
  CHECK_EQ(m.st[1], AIRS_EINVAL);
  CHECK_EQ(m.too_many, AIRS_EINVAL);
  CHECK_EQ(m.zero, AIRS_OK);
  airs_runtime_free(rt);
}

/* ---- replies ------------------------------------------------------------- */

/* airs_reply with an item's msg, and REPLY items of airs_ctx_send_many,
 * answer airs_call from a thread. */
typedef struct replier {
  int use_many;
} replier;

static airs_status replier_receive(void* state, airs_ctx* ctx,
                                   const airs_batch_item* items, uint32_t count,
                                   uint32_t* handled) {
  replier* rp = (replier*)state;
  airs_send_item out[AIRS_BATCH_MAX];
  int answers[AIRS_BATCH_MAX];
  uint32_t i;
  (void)handled;
  for (i = 0; i < count; i++) {
    int v = 0;
    if (items[i].size == sizeof v) memcpy(&v, items[i].data, sizeof v);
    answers[i] = v * 2;
    if (!rp->use_many) {
      airs_msg* m = NULL;
      if (airs_msg_new(3, &answers[i], sizeof(int), &m) != AIRS_OK)
        return AIRS_ENOMEM;
      if (airs_reply(ctx, items[i].msg, m) != AIRS_OK) airs_msg_free(m);
    }
    memset(&out[i], 0, sizeof out[i]);
    out[i].kind = AIRS_SEND_KIND_REPLY;
    out[i].correlation = items[i].correlation;
    out[i].type = 3;
    out[i].data = &answers[i];
    out[i].size = sizeof(int);
  }
  if (rp->use_many) return airs_ctx_send_many(ctx, out, count, NULL);
  return AIRS_OK;
}

static void test_replies(void) {
  int use_many;
  for (use_many = 0; use_many < 2; use_many++) {
    airs_runtime* rt = make_runtime(2, 0);
    airs_behaviour b = batch_behaviour();
    replier rp;
    airs_pid pid;
    int i;
    CHECK(rt != NULL);
    if (!rt) return;
    rp.use_many = use_many;
    b.terminate = NULL;
    b.receive_batch = replier_receive;
    CHECK_ST(airs_spawn(rt, &b, &rp, NULL, NULL, &pid), AIRS_OK);
    for (i = 1; i <= 20; i++) {
      airs_msg *q = NULL, *a = NULL;
      int got = 0;
      CHECK_ST(airs_msg_new(2, &i, sizeof i, &q), AIRS_OK);
      CHECK_ST(airs_call(rt, pid, q, 5000, &a), AIRS_OK);
      if (a && airs_msg_size(a) == sizeof got)
        memcpy(&got, airs_msg_data(a), sizeof got);
      CHECK_EQ(got, 2 * i);
      airs_msg_free(a);
    }
    airs_runtime_free(rt);
  }
}

/* ---- many senders on two workers ------------------------------------------
 */

#define FAN_SENDERS 4
#define FAN_EACH 3000

typedef struct fan_sink {
  int next[FAN_SENDERS]; /* next value expected from each sender */
  int out_of_order;
  int total;
  int calls;
} fan_sink;

static airs_status sink_receive(void* state, airs_ctx* ctx,
                                const airs_batch_item* items, uint32_t count,
                                uint32_t* handled) {
  fan_sink* s = (fan_sink*)state;
  uint32_t i;
  (void)ctx;
  (void)handled;
  s->calls++;
  for (i = 0; i < count; i++) {
    int v[2];
    if (items[i].size != sizeof v) continue;
    memcpy(v, items[i].data, sizeof v);
    if (v[0] < 0 || v[0] >= FAN_SENDERS || s->next[v[0]] != v[1])
      s->out_of_order++;
    else
      s->next[v[0]]++;
    s->total++;
  }
  return AIRS_OK;
}

typedef struct fan_src {
  int id;
  airs_pid sink;
  airs_status st;
} fan_src;

static airs_status src_receive(void* state, airs_ctx* ctx,
                               const airs_batch_item* items, uint32_t count,
                               uint32_t* handled) {
  fan_src* f = (fan_src*)state;
  static airs_send_item out[FAN_SENDERS][100];
  static int vals[FAN_SENDERS][100][2];
  int sent = 0;
  (void)items;
  (void)count;
  (void)handled;
  while (sent < FAN_EACH) {
    int k;
    for (k = 0; k < 100; k++) {
      vals[f->id][k][0] = f->id;
      vals[f->id][k][1] = sent + k;
      memset(&out[f->id][k], 0, sizeof out[f->id][k]);
      out[f->id][k].to = f->sink;
      out[f->id][k].type = 9;
      out[f->id][k].data = vals[f->id][k];
      out[f->id][k].size = sizeof vals[f->id][k];
    }
    if ((f->st = airs_ctx_send_many(ctx, out[f->id], 100, NULL)) != AIRS_OK)
      break;
    sent += 100;
  }
  return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
}

static void test_fan_in_threads(void) {
  airs_runtime* rt = make_runtime(2, 0);
  airs_behaviour sb = batch_behaviour();
  airs_behaviour fb = batch_behaviour();
  fan_sink s;
  fan_src f[FAN_SENDERS];
  airs_pid sink, src[FAN_SENDERS];
  double deadline;
  int i;
  CHECK(rt != NULL);
  if (!rt) return;
  memset(&s, 0, sizeof s);
  sb.terminate = NULL;
  sb.receive_batch = sink_receive;
  fb.terminate = NULL;
  fb.receive_batch = src_receive;
  CHECK_ST(airs_spawn(rt, &sb, &s, NULL, NULL, &sink), AIRS_OK);
  for (i = 0; i < FAN_SENDERS; i++) {
    f[i].id = i;
    f[i].sink = sink;
    f[i].st = AIRS_OK;
    CHECK_ST(airs_spawn(rt, &fb, &f[i], NULL, NULL, &src[i]), AIRS_OK);
  }
  for (i = 0; i < FAN_SENDERS; i++)
    CHECK_ST(airs_send(rt, src[i], 1, NULL, 0), AIRS_OK);
  for (i = 0; i < FAN_SENDERS; i++)
    CHECK_ST(airs_wait(rt, src[i], 10000), AIRS_OK);
  deadline = now_ms() + 10000;
  while (now_ms() < deadline) {
    uint64_t depth = 1;
    if (airs_process_stat_get(rt, sink, AIRS_PSTAT_MAILBOX_DEPTH, &depth) !=
            AIRS_OK ||
        depth == 0)
      break;
  }
  CHECK_ST(airs_stop(rt, sink), AIRS_OK);
  CHECK_ST(airs_wait(rt, sink, 10000), AIRS_OK);
  for (i = 0; i < FAN_SENDERS; i++) CHECK_EQ(f[i].st, AIRS_OK);
  CHECK_EQ(s.total, FAN_SENDERS * FAN_EACH);
  CHECK_EQ(s.out_of_order, 0);
  CHECK(s.calls < s.total); /* batches of more than one */
  airs_runtime_free(rt);
}

/* ---- versions of the behaviour struct --------------------------------------
 */

static airs_status v1_receive(void* state, airs_ctx* ctx, const airs_msg* m) {
  int* n = (int*)state;
  (void)ctx;
  (void)m;
  (*n)++;
  return AIRS_OK;
}

static void test_versions(void) {
  airs_runtime* rt = make_host_runtime(1000);
  airs_behaviour full, b;
  airs_behaviour* v1;
  airs_sup_flags flags;
  airs_sup_spec* spec = NULL;
  airs_child_spec child;
  airs_pid pid, sup;
  batch_rec r;
  int n = 0;
  CHECK(rt != NULL);
  if (!rt) return;
  CHECK(AIRS_BEHAVIOUR_SIZE_V1 < sizeof(airs_behaviour));
  /* A version 1 struct of exactly its size (from a program built against
   * the older header): malloc'ed to that size, so that a read past it is
   * an error under AddressSanitizer. */
  memset(&b, 0, sizeof b);
  b.version = 1;
  b.size = (uint32_t)AIRS_BEHAVIOUR_SIZE_V1;
  b.receive = v1_receive;
  v1 = (airs_behaviour*)malloc(AIRS_BEHAVIOUR_SIZE_V1);
  CHECK(v1 != NULL);
  if (!v1) return;
  memcpy(v1, &b, AIRS_BEHAVIOUR_SIZE_V1);
  CHECK_ST(airs_spawn(rt, v1, &n, NULL, NULL, &pid), AIRS_OK);
  CHECK_ST(airs_send(rt, pid, 1, NULL, 0), AIRS_OK);
  CHECK_ST(airs_send(rt, pid, 1, NULL, 0), AIRS_OK);
  CHECK(poll_all(rt) >= 1);
  CHECK_EQ(n, 2);
  /* ...also as a supervisor's child (the spec copies the struct). */
  CHECK_ST(airs_sup_flags_init(&flags), AIRS_OK);
  CHECK_ST(airs_sup_spec_new(&flags, &spec), AIRS_OK);
  CHECK_ST(airs_child_spec_init(&child), AIRS_OK);
  child.id = "v1";
  child.behaviour = v1;
  child.user_data = &n;
  CHECK_ST(airs_sup_spec_add_child(spec, &child), AIRS_OK);
  free(v1);
  CHECK_ST(airs_supervisor_start(rt, spec, &sup), AIRS_OK);
  airs_sup_spec_free(spec);
  CHECK(poll_all(rt) >= 0);

  /* Version 1 with a batch slot set past its size: not read. */
  full = batch_behaviour();
  full.version = 1;
  full.receive = v1_receive;
  full.terminate = NULL; /* its state is &n */
  brec_init(&r, rt);
  n = 0;
  CHECK_ST(airs_spawn(rt, &full, &n, NULL, NULL, &pid), AIRS_OK);
  CHECK_ST(airs_send(rt, pid, 1, NULL, 0), AIRS_OK);
  CHECK(poll_all(rt) >= 1);
  CHECK_EQ(n, 1);

  /* Refused: version 2 with a version 1 size; neither receive slot;
   * version 1 without receive (its batch slot does not count). */
  b = batch_behaviour();
  b.size = (uint32_t)AIRS_BEHAVIOUR_SIZE_V1;
  CHECK_ST(airs_spawn(rt, &b, &r, NULL, NULL, &pid), AIRS_EINVAL);
  b = batch_behaviour();
  b.receive_batch = NULL;
  CHECK_ST(airs_spawn(rt, &b, &r, NULL, NULL, &pid), AIRS_EINVAL);
  b = batch_behaviour();
  b.version = 1;
  CHECK_ST(airs_spawn(rt, &b, &r, NULL, NULL, &pid), AIRS_EINVAL);
  /* Both set: the batch slot wins. */
  b = batch_behaviour();
  b.receive = v1_receive;
  brec_init(&r, rt);
  CHECK_ST(airs_spawn(rt, &b, &r, NULL, NULL, &pid), AIRS_OK);
  send_ints(rt, pid, 0, 2);
  CHECK(poll_all(rt) >= 1);
  CHECK_EQ(r.n, 2);
  airs_runtime_free(rt);
}

int main(void) {
  test_order();
  test_bounds();
  test_stop_mid_batch();
  test_misuse_text();
  test_trap_mid_batch();
  test_exit_signal_mid_batch();
  test_kill_before_batch();
  test_send_many();
  test_send_many_misuse();
  test_replies();
  test_fan_in_threads();
  test_versions();
  return CHECK_DONE();
}
