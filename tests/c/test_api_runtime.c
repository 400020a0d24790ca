/*
 * test_api_runtime.c - status names, error messages, versions and the ABI
 * guard, configs, runtimes (host-driven polling, budgets, shutdown), the
 * calls a callback must not make, and the tombstone of a freed runtime.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdint.h>

#include "check.h"
#include "helpers.h"

/* ---- status names and error messages ----------------------------------- */

static void test_strerror(void) {
  static const struct {
    airs_status status;
    int value;
    const char* name;
  } codes[] = {
      {AIRS_OK, 0, "AIRS_OK"},
      {AIRS_EINVAL, 1, "AIRS_EINVAL"},
      {AIRS_ENOMEM, 2, "AIRS_ENOMEM"},
      {AIRS_ENOPROC, 3, "AIRS_ENOPROC"},
      {AIRS_EFULL, 4, "AIRS_EFULL"},
      {AIRS_ETIMEDOUT, 5, "AIRS_ETIMEDOUT"},
      {AIRS_EEXIST, 6, "AIRS_EEXIST"},
      {AIRS_ENOTFOUND, 7, "AIRS_ENOTFOUND"},
      {AIRS_ESTATE, 8, "AIRS_ESTATE"},
      {AIRS_ELIMIT, 9, "AIRS_ELIMIT"},
      {AIRS_EVERSION, 10, "AIRS_EVERSION"},
      {AIRS_EINTERNAL, 11, "AIRS_EINTERNAL"},
      {AIRS_EEXITED, 12, "AIRS_EEXITED"},
      {AIRS_IGNORE, 13, "AIRS_IGNORE"},
      {AIRS_EAGAIN, 14, "AIRS_EAGAIN"},
      {AIRS_EOS, 15, "AIRS_EOS"},
  };
  size_t n = sizeof codes / sizeof codes[0], i, j;
  int distinct = 1;
  for (i = 0; i < n; i++) {
    CHECK_EQ(codes[i].status, codes[i].value); /* explicit, stable values */
    CHECK_STR(airs_strerror(codes[i].status), codes[i].name);
    for (j = 0; j < i; j++)
      if (!strcmp(airs_strerror(codes[i].status),
                  airs_strerror(codes[j].status)))
        distinct = 0;
  }
  CHECK(distinct);
  /* Not a code: the documented fallback, never NULL. */
  CHECK_STR(airs_strerror((airs_status)16), "AIRS_UNKNOWN");
  CHECK_STR(airs_strerror((airs_status)99), "AIRS_UNKNOWN");
  CHECK_STR(airs_strerror((airs_status)-1), "AIRS_UNKNOWN");
}

typedef struct thread_msg {
  int empty_at_start;
  airs_status st;
  char message[512];
} thread_msg;

static void* fail_on_thread(void* p) {
  thread_msg* t = (thread_msg*)p;
  const char* m = airs_last_error_message();
  t->empty_at_start = m != NULL && m[0] == '\0';
  t->st = airs_config_new(NULL);
  snprintf(t->message, sizeof t->message, "%s", airs_last_error_message());
  return NULL;
}

static void test_last_error_message(void) {
  thread_msg t;
  char mine[512];
  pthread_t th;
  CHECK(airs_last_error_message() != NULL);
  CHECK_ST(airs_config_get(NULL, AIRS_CFG_WORKERS, NULL), AIRS_EINVAL);
  snprintf(mine, sizeof mine, "%s", airs_last_error_message());
  CHECK(mine[0] != '\0');
  /* The message is per thread: a new thread starts with "" and its
   * failures do not touch this thread's message. */
  memset(&t, 0, sizeof t);
  CHECK_EQ(pthread_create(&th, NULL, fail_on_thread, &t), 0);
  pthread_join(th, NULL);
  CHECK(t.empty_at_start);
  CHECK_EQ(t.st, AIRS_EINVAL);
  CHECK(t.message[0] != '\0');
  CHECK(strcmp(t.message, mine) != 0);
  CHECK_STR(airs_last_error_message(), mine);
  /* A successful call leaves the message of the last failure alone. */
  CHECK_EQ(airs_version(), AIRS_VERSION_NUMBER);
  CHECK_STR(airs_last_error_message(), mine);
}

/* ---- versions and the ABI guard --------------------------------------- */

static void test_version(void) {
  char buf[64];
  CHECK_EQ(AIRS_VERSION_NUMBER, AIRS_VERSION_MAJOR * 10000 +
                                    AIRS_VERSION_MINOR * 100 +
                                    AIRS_VERSION_PATCH);
  CHECK(AIRS_VERSION_MINOR < 100 && AIRS_VERSION_PATCH < 100);
  snprintf(buf, sizeof buf, "%d.%d.%d", AIRS_VERSION_MAJOR, AIRS_VERSION_MINOR,
           AIRS_VERSION_PATCH);
  CHECK_STR(buf, AIRS_VERSION_STRING);
  CHECK_EQ(airs_version(), AIRS_VERSION_NUMBER);
  CHECK_STR(airs_version_string(), AIRS_VERSION_STRING);

  CHECK_ST(airs_check_abi(AIRS_VERSION_NUMBER), AIRS_OK);
  CHECK_ST(AIRS_CHECK_ABI(), AIRS_OK);
  /* An older header of the same major: the library is newer, fine. */
  CHECK_ST(airs_check_abi(AIRS_VERSION_MAJOR * 10000), AIRS_OK);
  /* Another major, either way. */
  CHECK_ST(airs_check_abi((AIRS_VERSION_MAJOR + 1) * 10000), AIRS_EVERSION);
  /* The message names both versions. */
  snprintf(buf, sizeof buf, "%d.0.0", AIRS_VERSION_MAJOR + 1);
  CHECK(strstr(airs_last_error_message(), buf) != NULL);
  CHECK(strstr(airs_last_error_message(), AIRS_VERSION_STRING) != NULL);
  CHECK_ST(airs_check_abi((AIRS_VERSION_MAJOR + 1) * 10000 +
                          AIRS_VERSION_MINOR * 100 + AIRS_VERSION_PATCH),
           AIRS_EVERSION);
  if (AIRS_VERSION_MAJOR > 0)
    CHECK_ST(airs_check_abi((uint32_t)(AIRS_VERSION_MAJOR - 1) * 10000 + 9999),
             AIRS_EVERSION);
  /* A newer header than the library: newer minor, newer patch. */
  CHECK_ST(airs_check_abi(AIRS_VERSION_MAJOR * 10000 +
                          (AIRS_VERSION_MINOR + 1) * 100),
           AIRS_EVERSION);
  CHECK_ST(airs_check_abi(AIRS_VERSION_NUMBER + 1), AIRS_EVERSION);
  CHECK_ST(airs_check_abi(UINT32_MAX), AIRS_EVERSION);
}

/* ---- configs ------------------------------------------------------------ */

static void test_config(void) {
  static const struct {
    airs_config_key key;
    int64_t def; /* -1: the number of cores */
    int64_t min;
    int64_t max;
  } keys[] = {
      {AIRS_CFG_WORKERS, -1, 0, 1024},
      {AIRS_CFG_MAILBOX_CAPACITY, 0, 0, UINT32_MAX},
      {AIRS_CFG_MAILBOX_POLICY, AIRS_MAILBOX_FAIL, AIRS_MAILBOX_FAIL,
       AIRS_MAILBOX_BLOCK},
      {AIRS_CFG_BLOCK_TIMEOUT_MS, 1000, 1, 3600000},
      {AIRS_CFG_MAX_PROCESSES, 1 << 22, 1, 1 << 27},
      {AIRS_CFG_SHUTDOWN_TIMEOUT_MS, 5000, 0, 3600000},
      {AIRS_CFG_BUDGET, 64, 1, 1000000},
      {AIRS_CFG_MANUAL_CLOCK, 0, 0, 1},
      {AIRS_CFG_EVENTS, 1, 0, 1},
      {AIRS_CFG_POOL_MIN_THREADS, 0, 0, 1024},
      {AIRS_CFG_POOL_MAX_THREADS, 4, 2, 1024},
      {AIRS_CFG_POOL_SLOW_MAX, 2, 1, 1023},
      {AIRS_CFG_POOL_KEEPALIVE_MS, 10000, 0, 3600000},
      {AIRS_CFG_PID_TAG, 0, 0, 65535},
      {AIRS_CFG_CRASH_REPORTS, 1, 0, 1},
  };
  static const int unknown[] = {0, 17, 100, -1};
  static char sentinel;
  airs_config* cfg = (airs_config*)(void*)&sentinel;
  size_t i;
  int64_t v;

  CHECK_ST(airs_config_new(NULL), AIRS_EINVAL);
  CHECK_ST(airs_config_new(&cfg), AIRS_OK);
  CHECK(cfg != NULL && cfg != (airs_config*)(void*)&sentinel);
  if (!cfg) return;
  for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    v = -12345;
    CHECK_ST(airs_config_get(cfg, keys[i].key, &v), AIRS_OK);
    if (keys[i].def < 0)
      CHECK(v >= 1 && v <= 1024);
    else
      CHECK_EQ(v, keys[i].def);
    /* Round trips at both ends of the range. */
    CHECK_ST(airs_config_set(cfg, keys[i].key, keys[i].min), AIRS_OK);
    CHECK_ST(airs_config_get(cfg, keys[i].key, &v), AIRS_OK);
    CHECK_EQ(v, keys[i].min);
    CHECK_ST(airs_config_set(cfg, keys[i].key, keys[i].max), AIRS_OK);
    CHECK_ST(airs_config_get(cfg, keys[i].key, &v), AIRS_OK);
    CHECK_EQ(v, keys[i].max);
    /* Out of range: refused, the value stays. */
    CHECK_ST(airs_config_set(cfg, keys[i].key, keys[i].min - 1), AIRS_EINVAL);
    CHECK_ST(airs_config_set(cfg, keys[i].key, keys[i].max + 1), AIRS_EINVAL);
    CHECK_ST(airs_config_set(cfg, keys[i].key, INT64_MIN), AIRS_EINVAL);
    CHECK_ST(airs_config_set(cfg, keys[i].key, INT64_MAX), AIRS_EINVAL);
    CHECK_ST(airs_config_get(cfg, keys[i].key, &v), AIRS_OK);
    CHECK_EQ(v, keys[i].max);
    /* NULL out. */
    CHECK_ST(airs_config_get(cfg, keys[i].key, NULL), AIRS_EINVAL);
    CHECK_ST(airs_config_set(NULL, keys[i].key, keys[i].min), AIRS_EINVAL);
    CHECK_ST(airs_config_get(NULL, keys[i].key, &v), AIRS_EINVAL);
  }
  for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
    v = 777;
    CHECK_ST(airs_config_set(cfg, (airs_config_key)unknown[i], 1), AIRS_EINVAL);
    CHECK_ST(airs_config_get(cfg, (airs_config_key)unknown[i], &v),
             AIRS_EINVAL);
    CHECK_EQ(v, 777);
  }
  airs_config_free(cfg);
  airs_config_free(NULL);
}

/* ---- runtimes ----------------------------------------------------------- */

static void test_runtime_new(void) {
  airs_runtime* rt = NULL;
  airs_config* cfg = NULL;
  airs_spawn_opts o, before;
  uint32_t ran = 77;
  int64_t ms = 77;

  CHECK_ST(airs_runtime_new(NULL, NULL), AIRS_EINVAL);
  CHECK_ST(airs_config_new(&cfg), AIRS_OK);
  CHECK_ST(airs_runtime_new(cfg, NULL), AIRS_EINVAL);
  airs_runtime_free(NULL);

  /* Defaults: worker threads and the monotonic clock. */
  CHECK_ST(airs_runtime_new(NULL, &rt), AIRS_OK);
  CHECK(rt != NULL);
  CHECK_ST(airs_runtime_poll(rt, 1, &ran), AIRS_ESTATE);
  CHECK_EQ(ran, 77);
  CHECK_ST(airs_runtime_advance_time(rt, 1), AIRS_ESTATE);
  CHECK_ST(airs_runtime_next_timer_ms(rt, &ms), AIRS_OK);
  CHECK_EQ(ms, -1);
  CHECK_ST(airs_spawn_opts_init(rt, &o), AIRS_OK);
  CHECK_EQ(o.version, AIRS_SPAWN_OPTS_VERSION);
  CHECK_EQ(o.size, sizeof(airs_spawn_opts));
  CHECK_EQ(o.flags, 0);
  CHECK_EQ(o.mailbox_capacity, 0);
  CHECK_EQ(o.mailbox_policy, AIRS_MAILBOX_FAIL);
  CHECK_EQ(o.block_timeout_ms, 1000);
  airs_runtime_free(rt);

  /* The config is copied: changing or freeing it later changes nothing. */
  CHECK_ST(airs_config_set(cfg, AIRS_CFG_WORKERS, 0), AIRS_OK);
  CHECK_ST(airs_config_set(cfg, AIRS_CFG_MAILBOX_CAPACITY, 7), AIRS_OK);
  CHECK_ST(
      airs_config_set(cfg, AIRS_CFG_MAILBOX_POLICY, AIRS_MAILBOX_DROP_NEWEST),
      AIRS_OK);
  CHECK_ST(airs_config_set(cfg, AIRS_CFG_BLOCK_TIMEOUT_MS, 33), AIRS_OK);
  rt = NULL;
  CHECK_ST(airs_runtime_new(cfg, &rt), AIRS_OK);
  CHECK_ST(airs_config_set(cfg, AIRS_CFG_MAILBOX_CAPACITY, 9), AIRS_OK);
  airs_config_free(cfg);
  if (!rt) return;
  memset(&o, 0xAB, sizeof o);
  CHECK_ST(airs_spawn_opts_init(rt, &o), AIRS_OK);
  CHECK_EQ(o.version, AIRS_SPAWN_OPTS_VERSION);
  CHECK_EQ(o.size, sizeof(airs_spawn_opts));
  CHECK_EQ(o.flags, 0);
  CHECK_EQ(o.mailbox_capacity, 7);
  CHECK_EQ(o.mailbox_policy, AIRS_MAILBOX_DROP_NEWEST);
  CHECK_EQ(o.block_timeout_ms, 33);
  memset(&o, 0xAB, sizeof o);
  before = o;
  CHECK_ST(airs_spawn_opts_init(NULL, &o), AIRS_EINVAL);
  CHECK(memcmp(&o, &before, sizeof o) == 0);
  CHECK_ST(airs_spawn_opts_init(rt, NULL), AIRS_EINVAL);

  /* Host-driven: poll, next timer, advance time. */
  CHECK_ST(airs_runtime_poll(NULL, 1, &ran), AIRS_EINVAL);
  CHECK_ST(airs_runtime_poll(rt, 0, &ran), AIRS_EINVAL);
  CHECK_EQ(ran, 77);
  CHECK_ST(airs_runtime_poll(rt, 1, NULL), AIRS_OK);
  CHECK_ST(airs_runtime_poll(rt, 1, &ran), AIRS_OK);
  CHECK_EQ(ran, 0); /* nothing to do */
  CHECK_ST(airs_runtime_next_timer_ms(NULL, &ms), AIRS_EINVAL);
  CHECK_ST(airs_runtime_next_timer_ms(rt, NULL), AIRS_EINVAL);
  CHECK_EQ(ms, -1);
  CHECK_ST(airs_runtime_advance_time(NULL, 5), AIRS_EINVAL);
  CHECK_ST(airs_runtime_advance_time(rt, 5), AIRS_ESTATE); /* not manual */
  airs_runtime_free(rt);
}

/* AIRS_CFG_BUDGET messages per turn; a poll runs `budget` turns. */
static void test_poll_budget(void) {
  airs_config* cfg = NULL;
  airs_runtime* rt = NULL;
  recorder r;
  airs_pid pid;
  uint32_t ran = 0;
  uint64_t handled = 0, depth = 0;
  int i;
  CHECK_ST(airs_config_new(&cfg), AIRS_OK);
  CHECK_ST(airs_config_set(cfg, AIRS_CFG_WORKERS, 0), AIRS_OK);
  CHECK_ST(airs_config_set(cfg, AIRS_CFG_BUDGET, 2), AIRS_OK);
  CHECK_ST(airs_runtime_new(cfg, &rt), AIRS_OK);
  airs_config_free(cfg);
  if (!rt) return;
  memset(&r, 0, sizeof r);
  pid = spawn_rec(rt, &r, NULL);
  CHECK(pid != AIRS_NO_PID);
  for (i = 0; i < 5; i++)
    CHECK_ST(airs_send(rt, pid, 1, &i, sizeof i), AIRS_OK);
  CHECK_ST(airs_runtime_poll(rt, 1, &ran), AIRS_OK);
  CHECK_EQ(ran, 1);
  CHECK_EQ(r.n, 2);
  CHECK_ST(airs_process_stat_get(rt, pid, AIRS_PSTAT_MSGS_HANDLED, &handled),
           AIRS_OK);
  CHECK_EQ(handled, 2);
  CHECK_ST(airs_process_stat_get(rt, pid, AIRS_PSTAT_MAILBOX_DEPTH, &depth),
           AIRS_OK);
  CHECK_EQ(depth, 3);
  CHECK_ST(airs_runtime_poll(rt, 100, &ran), AIRS_OK);
  CHECK_EQ(ran, 2); /* two more turns: 2 + 1 messages */
  CHECK_EQ(r.n, 5);
  CHECK_ST(airs_runtime_poll(rt, 100, &ran), AIRS_OK);
  CHECK_EQ(ran, 0);
  airs_runtime_free(rt);
  CHECK_EQ(r.terminates, 1);
  CHECK_EQ(r.freed, 1);
}

/* Two runtimes in one process are independent. */
static void test_two_runtimes(void) {
  airs_runtime* a = make_runtime(0, 0);
  airs_runtime* b = make_runtime(0, 0);
  recorder ra, rb;
  airs_pid pa, pb;
  CHECK(a != NULL && b != NULL && a != b);
  if (!a || !b) return;
  memset(&ra, 0, sizeof ra);
  memset(&rb, 0, sizeof rb);
  pa = spawn_rec(a, &ra, NULL);
  pb = spawn_rec(b, &rb, NULL);
  CHECK_ST(airs_send(a, pa, 1, NULL, 0), AIRS_OK);
  CHECK_ST(airs_send(b, pb, 2, NULL, 0), AIRS_OK);
  CHECK_EQ(poll_all(a), 1);
  CHECK_EQ(ra.n, 1);
  CHECK_EQ(rb.n, 0);
  airs_runtime_free(a);
  CHECK(!airs_is_alive(a, pa));
  CHECK(airs_is_alive(b, pb));
  CHECK_EQ(poll_all(b), 1);
  CHECK_EQ(rb.n, 1);
  CHECK_EQ(rb.msgs[0].type, 2);
  airs_runtime_free(b);
  CHECK_EQ(ra.freed + rb.freed, 2);
}

/* ---- what a callback may not do ---------------------------------------- */

typedef struct poller_arg {
  airs_runtime* rt;
  airs_pid pid;
  airs_status poll_st;
  airs_status wait_st;
  uint32_t ran;
  int message_set;
} poller_arg;

/* Another thread while the host thread is inside airs_runtime_poll. */
static void* poll_meanwhile(void* p) {
  poller_arg* a = (poller_arg*)p;
  a->ran = 55;
  a->poll_st = airs_runtime_poll(a->rt, 1, &a->ran);
  a->message_set = airs_last_error_message()[0] != '\0';
  a->wait_st = airs_wait(a->rt, a->pid, 10);
  return NULL;
}

typedef struct misuse {
  airs_runtime* other; /* a second runtime, freed from inside a callback */
  int done;
} misuse;

static airs_status misuse_msg(recorder* r, airs_ctx* ctx, const airs_msg* msg) {
  misuse* m = (misuse*)r->arg;
  airs_runtime* rt = airs_ctx_runtime(ctx);
  uint32_t ran = 99;
  poller_arg pa;
  pthread_t th;
  (void)msg;
  if (m->done++) return AIRS_OK;
  CHECK(rt != NULL);
  /* Blocking calls inside a callback. */
  CHECK_ST(airs_runtime_poll(rt, 1, &ran), AIRS_ESTATE);
  CHECK_EQ(ran, 99);
  CHECK_ST(airs_wait(rt, airs_self(ctx), 0), AIRS_ESTATE);
  CHECK_ST(airs_wait(rt, airs_self(ctx), 1000), AIRS_ESTATE);
  /* Freeing the own runtime does nothing but set the message. */
  CHECK_MARK();
  airs_runtime_free(rt);
  CHECK_MESSAGE_SET();
  CHECK(airs_is_alive(rt, airs_self(ctx)));
  /* One polling thread at a time: this thread is polling now. */
  memset(&pa, 0, sizeof pa);
  pa.rt = rt;
  pa.pid = airs_self(ctx);
  CHECK_EQ(pthread_create(&th, NULL, poll_meanwhile, &pa), 0);
  pthread_join(th, NULL);
  CHECK_EQ(pa.poll_st, AIRS_ESTATE);
  CHECK_EQ(pa.ran, 55);
  CHECK(pa.message_set);
  CHECK_EQ(pa.wait_st, AIRS_ESTATE);
  /* A runtime of which this is not a callback may be freed here. */
  if (m->other) {
    airs_runtime_free(m->other);
    CHECK_ST(airs_send(m->other, 1, 1, NULL, 0), AIRS_ESTATE);
  }
  return AIRS_OK;
}

static airs_status init_frees_runtime(void* user_data, airs_ctx* ctx,
                                      void** state) {
  int* message_set = (int*)user_data;
  CHECK_MARK();
  airs_runtime_free(airs_ctx_runtime(ctx));
  *message_set = check_message_set_();
  *state = user_data;
  return AIRS_OK;
}

static void terminate_frees_runtime(void* state, airs_ctx* ctx,
                                    const airs_reason* reason) {
  (void)reason;
  CHECK_MARK();
  airs_runtime_free(airs_ctx_runtime(ctx));
  ((int*)state)[1] = check_message_set_();
}

static airs_status receive_ok(void* state, airs_ctx* ctx, const airs_msg* msg) {
  (void)state;
  (void)ctx;
  (void)msg;
  return AIRS_OK;
}

static void test_callback_misuse(void) {
  airs_runtime* rt = make_runtime(0, 0);
  recorder r, ro;
  misuse m;
  airs_pid pid, opid;
  airs_behaviour b;
  int flags[2] = {0, 0};
  CHECK(rt != NULL);
  if (!rt) return;
  memset(&r, 0, sizeof r);
  memset(&ro, 0, sizeof ro);
  memset(&m, 0, sizeof m);
  m.other = make_runtime(0, 0);
  CHECK(m.other != NULL);
  opid = m.other ? spawn_rec(m.other, &ro, NULL) : 0;
  CHECK(opid != AIRS_NO_PID);
  r.on_msg = misuse_msg;
  r.arg = &m;
  pid = spawn_rec(rt, &r, NULL);
  CHECK_ST(airs_send(rt, pid, 1, NULL, 0), AIRS_OK);
  CHECK_EQ(poll_all(rt), 1);
  CHECK_EQ(m.done, 1);
  /* The other runtime was freed from the callback: its process ended. */
  CHECK_EQ(ro.terminates, 1);
  CHECK_EQ(ro.term_kind, AIRS_EXIT_SHUTDOWN);
  CHECK_EQ(ro.freed, 1);
  /* This runtime still works after the refused free. */
  CHECK(airs_is_alive(rt, pid));
  CHECK_ST(airs_send(rt, pid, 2, NULL, 0), AIRS_OK);
  CHECK_EQ(poll_all(rt), 1);
  CHECK_EQ(r.n, 2);

  /* The same from init and terminate. */
  memset(&b, 0, sizeof b);
  b.version = AIRS_BEHAVIOUR_VERSION;
  b.size = sizeof b;
  b.init = init_frees_runtime;
  b.receive = receive_ok;
  b.terminate = terminate_frees_runtime;
  pid = 0;
  CHECK_ST(airs_spawn(rt, &b, flags, NULL, NULL, &pid), AIRS_OK);
  CHECK(flags[0]);
  CHECK(airs_is_alive(rt, pid));
  CHECK_ST(airs_stop(rt, pid), AIRS_OK);
  CHECK_EQ(poll_all(rt), 1);
  CHECK(flags[1]);
  CHECK(!airs_is_alive(rt, pid));
  CHECK_ST(airs_runtime_poll(rt, 1, NULL), AIRS_OK);
  airs_runtime_free(rt);
  CHECK_EQ(r.terminates, 1);
  CHECK_EQ(r.freed, 1);
}

/* ---- shutdown ----------------------------------------------------------- */

/* Traps exits; on an exit message, ends with that reason (or ignores it
 * when r->arg is set). */
static airs_status trap_msg(recorder* r, airs_ctx* ctx, const airs_msg* msg) {
  const airs_reason* reason = airs_msg_reason(msg);
  if (airs_msg_type(msg) != AIRS_MSG_EXIT || r->arg) return AIRS_OK;
  return airs_exit(ctx, airs_reason_kind(reason), airs_reason_code(reason),
                   airs_reason_text(reason));
}

static void test_shutdown(void) {
  airs_runtime* rt =
      make_runtime_ex(0, 0, 0, AIRS_MAILBOX_FAIL, 10 /* ms to stop */);
  recorder r[5];
  airs_pid pid[5];
  int order[8], order_len = 0, i, pos[5];
  airs_spawn_opts trap;
  counter timer_msg = {0};
  airs_msg* m = NULL;
  CHECK(rt != NULL);
  if (!rt) return;
  memset(r, 0, sizeof r);
  CHECK_ST(airs_spawn_opts_init(rt, &trap), AIRS_OK);
  trap.flags = AIRS_SPAWN_TRAP_EXIT;
  for (i = 0; i < 5; i++) {
    r[i].id = i;
    r[i].order = order;
    r[i].order_len = &order_len;
    if (i >= 3) r[i].on_msg = trap_msg;
    if (i == 4) r[i].arg = &r[i]; /* ignores the exit message */
    pid[i] = spawn_rec(rt, &r[i], i >= 3 ? &trap : NULL);
    CHECK(pid[i] != AIRS_NO_PID);
  }
  /* A pending timer: its message is freed with the runtime. */
  CHECK_ST(
      airs_msg_new_owned(5, &timer_msg, sizeof timer_msg, counter_free, &m),
      AIRS_OK);
  CHECK_ST(airs_send_after(rt, pid[0], 1000000, m, NULL), AIRS_OK);
  airs_runtime_free(rt);
  CHECK_EQ(timer_msg.n, 1);
  for (i = 0; i < 5; i++) {
    CHECK_EQ(r[i].terminates, 1);
    CHECK_EQ(r[i].freed, 1);
    CHECK_EQ(r[i].term_self, pid[i]);
    pos[i] = -1;
  }
  CHECK_EQ(order_len, 5);
  for (i = 0; i < order_len && i < 8; i++)
    if (order[i] >= 0 && order[i] < 5) pos[order[i]] = i;
  /* Newest first. */
  CHECK(pos[2] >= 0 && pos[2] < pos[1] && pos[1] < pos[0]);
  for (i = 0; i < 3; i++) {
    CHECK_EQ(r[i].n, 0);
    CHECK_EQ(r[i].term_kind, AIRS_EXIT_SHUTDOWN);
  }
  /* Trapping processes get an exit message; one that does not end is
   * killed when the shutdown timeout runs out. */
  for (i = 3; i < 5; i++) {
    CHECK_EQ(r[i].n, 1);
    CHECK_EQ(r[i].msgs[0].type, AIRS_MSG_EXIT);
    CHECK(r[i].msgs[0].has_reason);
    CHECK_EQ(r[i].msgs[0].reason_kind, AIRS_EXIT_SHUTDOWN);
    CHECK_EQ(r[i].msgs[0].sender, AIRS_NO_PID);
  }
  CHECK_EQ(r[3].term_kind, AIRS_EXIT_SHUTDOWN);
  CHECK_EQ(r[4].term_kind, AIRS_EXIT_KILLED);
  CHECK_EQ(pos[4], 4);
}

/* ---- the tombstone of a freed runtime ----------------------------------- */

static void test_tombstone(void) {
  airs_runtime* rt = make_runtime(0, 0);
  airs_runtime* threaded = make_runtime(2, 0);
  recorder r, spawned;
  airs_pid pid, out = 4242;
  counter c = {0};
  airs_msg* m = NULL;
  airs_spawn_opts o, before;
  airs_behaviour b = rec_behaviour();
  uint64_t value = 4242;
  int64_t ms = 4242;
  uint32_t ran = 4242;
  CHECK(rt != NULL && threaded != NULL);
  if (!rt || !threaded) return;
  memset(&r, 0, sizeof r);
  memset(&spawned, 0, sizeof spawned);
  pid = spawn_rec(rt, &r, NULL);
  CHECK_ST(airs_register(rt, "tomb", pid), AIRS_OK);
  airs_runtime_free(rt);
  CHECK_EQ(r.terminates, 1);
  CHECK_EQ(r.freed, 1);

  CHECK_ST(airs_runtime_poll(rt, 1, &ran), AIRS_ESTATE);
  CHECK_EQ(ran, 4242);
  CHECK_ST(airs_runtime_next_timer_ms(rt, &ms), AIRS_ESTATE);
  CHECK_EQ(ms, 4242);
  CHECK_ST(airs_runtime_advance_time(rt, 1), AIRS_ESTATE);
  memset(&o, 0x5A, sizeof o);
  before = o;
  CHECK_ST(airs_spawn_opts_init(rt, &o), AIRS_ESTATE);
  CHECK(memcmp(&o, &before, sizeof o) == 0);
  CHECK_ST(airs_spawn(rt, &b, &spawned, rec_free, NULL, &out), AIRS_ESTATE);
  CHECK_EQ(out, 4242);
  CHECK_EQ(spawned.freed, 1); /* user_data is released even so */
  CHECK_EQ(spawned.inits, 0);
  CHECK_ST(airs_send(rt, pid, 1, "x", 1), AIRS_ESTATE);
  CHECK_ST(airs_msg_new_owned(1, &c, sizeof c, counter_free, &m), AIRS_OK);
  CHECK_ST(airs_send_msg(rt, pid, m), AIRS_ESTATE);
  CHECK_ST(airs_send_after(rt, pid, 1, m, NULL), AIRS_ESTATE);
  CHECK_EQ(c.n, 0); /* still ours */
  airs_msg_free(m);
  CHECK_EQ(c.n, 1);
  CHECK_ST(airs_send_exit(rt, pid, AIRS_EXIT_ERROR, 1, "x"), AIRS_ESTATE);
  CHECK_ST(airs_stop(rt, pid), AIRS_ESTATE);
  CHECK_ST(airs_kill(rt, pid), AIRS_ESTATE);
  CHECK_ST(airs_wait(rt, pid, 0), AIRS_ESTATE);
  CHECK(!airs_is_alive(rt, pid));
  CHECK_ST(airs_process_stat_get(rt, pid, AIRS_PSTAT_MSGS_HANDLED, &value),
           AIRS_ESTATE);
  CHECK_EQ(value, 4242);
  CHECK_ST(airs_set_dead_letter_hook(rt, NULL, NULL), AIRS_ESTATE);
  CHECK_ST(airs_cancel_timer(rt, 1), AIRS_ESTATE);
  CHECK_ST(airs_register(rt, "tomb2", pid), AIRS_ESTATE);
  CHECK_ST(airs_unregister(rt, "tomb"), AIRS_ESTATE);
  out = 4242;
  CHECK_ST(airs_whereis(rt, "tomb", &out), AIRS_ESTATE);
  CHECK_EQ(out, 4242);
  /* Freeing twice does nothing but set the message. */
  CHECK_MARK();
  airs_runtime_free(rt);
  CHECK_MESSAGE_SET();

  /* The same for a runtime with threads. */
  memset(&r, 0, sizeof r);
  pid = spawn_rec(threaded, &r, NULL);
  CHECK(pid != AIRS_NO_PID);
  airs_runtime_free(threaded);
  CHECK_EQ(r.terminates, 1);
  CHECK_EQ(r.freed, 1);
  CHECK_ST(airs_send(threaded, pid, 1, NULL, 0), AIRS_ESTATE);
  CHECK_ST(airs_wait(threaded, pid, 1000), AIRS_ESTATE);
  CHECK(!airs_is_alive(threaded, pid));
  CHECK_MARK();
  airs_runtime_free(threaded);
  CHECK_MESSAGE_SET();
}

/* ---- the thread hook ----------------------------------------------------- */

#define HOOK_MAX 16

typedef struct thread_log {
  pthread_mutex_t mu;
  int n;
  pthread_t thread[HOOK_MAX];
  int started[HOOK_MAX];
} thread_log;

static thread_log hook_log = {PTHREAD_MUTEX_INITIALIZER, 0, {0}, {0}};
static int hook_callback_on_started_thread = -1;

static void log_thread(void* user_data, int started) {
  thread_log* log = (thread_log*)user_data;
  pthread_mutex_lock(&log->mu);
  if (log->n < HOOK_MAX) {
    log->thread[log->n] = pthread_self();
    log->started[log->n] = started;
    log->n++;
  }
  pthread_mutex_unlock(&log->mu);
}

/* 1 if this thread has told the hook it started and not yet that it ended. */
static int thread_is_started(thread_log* log) {
  int state = 0, i;
  pthread_mutex_lock(&log->mu);
  for (i = 0; i < log->n; i++)
    if (pthread_equal(log->thread[i], pthread_self())) state = log->started[i];
  pthread_mutex_unlock(&log->mu);
  return state;
}

static airs_status note_thread(recorder* r, airs_ctx* ctx,
                               const airs_msg* msg) {
  (void)r;
  (void)msg;
  hook_callback_on_started_thread = thread_is_started(&hook_log);
  return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
}

static void test_thread_hook(void) {
  airs_config* cfg = NULL;
  airs_runtime* rt = NULL;
  recorder r;
  airs_pid pid;
  int i, j;

  CHECK_ST(airs_config_set_thread_hook(NULL, log_thread, &hook_log),
           AIRS_EINVAL);

  /* 2 workers and the timer thread: each tells the hook it started, runs
   * callbacks only after that, and tells it it ended before free returns. */
  CHECK_ST(airs_config_new(&cfg), AIRS_OK);
  CHECK_ST(airs_config_set(cfg, AIRS_CFG_WORKERS, 2), AIRS_OK);
  CHECK_ST(airs_config_set_thread_hook(cfg, log_thread, &hook_log), AIRS_OK);
  CHECK_ST(airs_runtime_new(cfg, &rt), AIRS_OK);
  airs_config_free(cfg); /* the runtime copied it */
  memset(&r, 0, sizeof r);
  r.on_msg = note_thread;
  pid = spawn_rec(rt, &r, NULL);
  CHECK_ST(airs_send(rt, pid, 1, NULL, 0), AIRS_OK);
  CHECK_ST(airs_wait(rt, pid, 5000), AIRS_OK);
  CHECK_EQ(hook_callback_on_started_thread, 1);
  airs_runtime_free(rt);
  CHECK_EQ(hook_log.n, 6);
  for (i = 0; i < hook_log.n; i++) {
    int starts = 0, ends = 0, ended_after_start = 0;
    for (j = 0; j < hook_log.n; j++) {
      if (!pthread_equal(hook_log.thread[i], hook_log.thread[j])) continue;
      if (hook_log.started[j])
        starts++;
      else {
        ends++;
        ended_after_start = starts == 1;
      }
    }
    CHECK_EQ(starts, 1);
    CHECK_EQ(ends, 1);
    CHECK_EQ(ended_after_start, 1);
    CHECK(!pthread_equal(hook_log.thread[i], pthread_self()));
  }

  /* Host-driven: no thread of its own, no call. A NULL fn clears it. */
  hook_log.n = 0;
  CHECK_ST(airs_config_new(&cfg), AIRS_OK);
  CHECK_ST(airs_config_set(cfg, AIRS_CFG_WORKERS, 0), AIRS_OK);
  CHECK_ST(airs_config_set_thread_hook(cfg, log_thread, &hook_log), AIRS_OK);
  CHECK_ST(airs_runtime_new(cfg, &rt), AIRS_OK);
  spawn_rec(rt, &r, NULL);
  poll_all(rt);
  airs_runtime_free(rt);
  CHECK_EQ(hook_log.n, 0);
  CHECK_ST(airs_config_set(cfg, AIRS_CFG_WORKERS, 2), AIRS_OK);
  CHECK_ST(airs_config_set_thread_hook(cfg, NULL, &hook_log), AIRS_OK);
  CHECK_ST(airs_runtime_new(cfg, &rt), AIRS_OK);
  airs_runtime_free(rt);
  CHECK_EQ(hook_log.n, 0);
  airs_config_free(cfg);
}

/* ---- the C function's name in error messages ------------------------ */

/* The message starts with "fn: " and names fn only there. */
static int named_once(const char* fn) {
  const char* m = airs_last_error_message();
  size_t n = strlen(fn);
  return strncmp(m, fn, n) == 0 && m[n] == ':' && m[n + 1] == ' ' &&
         strstr(m + n, fn) == NULL;
}

static airs_status init_fails(void* user_data, airs_ctx* ctx, void** state) {
  (void)user_data;
  (void)ctx;
  (void)state;
  return AIRS_EINTERNAL;
}

static airs_status ignore(void* state, airs_ctx* ctx, const airs_msg* msg) {
  (void)state;
  (void)ctx;
  (void)msg;
  return AIRS_OK;
}

static void test_error_names(void) {
  airs_runtime* rt = make_host_runtime(1000);
  airs_behaviour bad = {
      AIRS_BEHAVIOUR_VERSION, sizeof bad, init_fails, ignore, NULL, NULL, NULL};
  airs_behaviour no_receive = {
      AIRS_BEHAVIOUR_VERSION, sizeof bad, NULL, NULL, NULL, NULL, NULL};
  airs_child_spec child;
  airs_sup_spec* spec = NULL;
  airs_pid pid = 0;
  CHECK(rt != NULL);
  if (!rt) return;
  /* Checked by the facade, found by the core, deep in a supervisor: the
   * name of the function called comes first, once. */
  CHECK_ST(airs_send(NULL, 1, 1, NULL, 0), AIRS_EINVAL);
  CHECK(named_once("airs_send"));
  CHECK_ST(airs_send(rt, 12345, 1, NULL, 0), AIRS_ENOPROC);
  CHECK(named_once("airs_send"));
  CHECK_ST(airs_spawn(rt, &no_receive, NULL, NULL, NULL, &pid), AIRS_EINVAL);
  CHECK(named_once("airs_spawn"));
  CHECK(strstr(airs_last_error_message(), "receive") != NULL);
  CHECK_ST(airs_spawn(rt, &bad, NULL, NULL, NULL, &pid), AIRS_EINTERNAL);
  CHECK(named_once("airs_spawn"));
  CHECK_ST(airs_config_set(NULL, AIRS_CFG_WORKERS, 1), AIRS_EINVAL);
  CHECK(named_once("airs_config_set"));
  CHECK_ST(airs_sup_spec_new(NULL, &spec), AIRS_OK);
  CHECK_ST(airs_child_spec_init(&child), AIRS_OK);
  child.id = "bad";
  child.behaviour = &bad;
  CHECK_ST(airs_sup_spec_add_child(spec, &child), AIRS_OK);
  CHECK_ST(airs_supervisor_start(rt, spec, &pid), AIRS_EINTERNAL);
  CHECK(named_once("airs_supervisor_start"));
  CHECK(strstr(airs_last_error_message(), "'bad'") != NULL);
  CHECK(strstr(airs_last_error_message(), "airs_spawn") == NULL);
  airs_sup_spec_free(spec);
  airs_runtime_free(rt);
}

int main(void) {
  test_strerror();
  test_error_names();
  test_last_error_message();
  test_version();
  test_config();
  test_runtime_new();
  test_poll_budget();
  test_two_runtimes();
  test_callback_misuse();
  test_shutdown();
  test_tombstone();
  test_thread_hook();
  return CHECK_DONE();
}
