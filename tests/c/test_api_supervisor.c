/*
 * test_api_supervisor.c - the supervision API of <airs/supervisor.h> and
 * the event hook: every failure the header documents (its status, a fresh
 * last error message, out-parameters untouched, and each user_data or
 * argument released exactly once), and a working call of each function.
 * Runtimes are host-driven, so each step below runs to the end before the
 * next one and the results are exact.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>

#include "check.h"
#include "helpers.h"

/* The status a failing init returns: none of the supervisor calls has a
 * meaning of its own for it, so it can only come from the init. */
#define INIT_FAILURE AIRS_EFULL

/* ---- children ------------------------------------------------------------
 * Children are recorders (helpers.h). A command message makes one crash or
 * end normally; `order` of a recorder collects terminates, g_inits the ids
 * of the inits, in the order they ran. */

enum { CMD_CRASH = 1, CMD_NORMAL = 2 };

static int g_inits[32];
static int g_inits_len;

static airs_status child_msg(recorder* r, airs_ctx* ctx, const airs_msg* msg) {
  (void)r;
  switch (airs_msg_type(msg)) {
    case CMD_CRASH: return airs_exit(ctx, AIRS_EXIT_ERROR, 42, "boom");
    case CMD_NORMAL: return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
    default: return AIRS_OK;
  }
}

static airs_status order_init(void* user_data, airs_ctx* ctx, void** state) {
  recorder* r = (recorder*)user_data;
  if (g_inits_len < 32) g_inits[g_inits_len++] = r->id;
  return rec_init(user_data, ctx, state);
}

static airs_status init_fails(void* user_data, airs_ctx* ctx, void** state) {
  (void)ctx;
  (void)state;
  ((recorder*)user_data)->inits++;
  return INIT_FAILURE;
}

/* Starts once; every later start fails. */
static airs_status init_fails_again(void* user_data, airs_ctx* ctx,
                                    void** state) {
  recorder* r = (recorder*)user_data;
  if (r->inits > 0) {
    r->inits++;
    return INIT_FAILURE;
  }
  return rec_init(user_data, ctx, state);
}

/* An init run by the supervisor itself (a start_child): operations on that
 * supervisor are refused there instead of waiting for it. */
static airs_pid g_sup;

static airs_status init_probes_sup(void* user_data, airs_ctx* ctx,
                                   void** state) {
  airs_runtime* rt = airs_ctx_runtime(ctx);
  airs_child_counts cc = {4242, 4242, 4242, 4242};
  size_t n = 4242;
  CHECK_ST(airs_supervisor_count_children(rt, g_sup, &cc), AIRS_ESTATE);
  CHECK_EQ(cc.specs, 4242);
  CHECK_ST(airs_supervisor_which_children(rt, g_sup, NULL, 0, &n), AIRS_ESTATE);
  CHECK_EQ(n, 4242);
  return rec_init(user_data, ctx, state);
}

static airs_behaviour g_rec_b;   /* order_init + the recorder */
static airs_behaviour g_fail_b;  /* init_fails */
static airs_behaviour g_again_b; /* init_fails_again */
static airs_behaviour g_probe_b; /* init_probes_sup */

static void init_behaviours(void) {
  g_rec_b = rec_behaviour();
  g_rec_b.init = order_init;
  g_fail_b = g_rec_b;
  g_fail_b.init = init_fails;
  g_again_b = g_rec_b;
  g_again_b.init = init_fails_again;
  g_probe_b = g_rec_b;
  g_probe_b.init = init_probes_sup;
}

/* A fresh recorder that obeys the commands; `id` is what it adds to the
 * init and terminate orders. */
static void child_rec(recorder* r, int id, int* order, int* order_len) {
  memset(r, 0, sizeof *r);
  r->on_msg = child_msg;
  r->id = id;
  r->order = order;
  r->order_len = order_len;
}

/* A worker spec with the defaults, `r` (may be NULL when the spec is
 * never started, or is not a worker) as its user_data. */
static airs_child_spec worker(const char* id, recorder* r) {
  airs_child_spec c;
  airs_child_spec_init(&c);
  c.id = id;
  c.behaviour = &g_rec_b;
  c.user_data = r;
  c.user_data_free = r ? rec_free : NULL;
  return c;
}

/* A spec with `strategy` and the other flags at their defaults. */
static airs_sup_spec* sup_spec(int32_t strategy) {
  airs_sup_flags f;
  airs_sup_spec* s = NULL;
  airs_sup_flags_init(&f);
  f.strategy = strategy;
  if (airs_sup_spec_new(&f, &s) != AIRS_OK) return NULL;
  return s;
}

/* ---- reading a supervisor ------------------------------------------------ */

#define ROWS_MAX 16

typedef struct rows {
  size_t n;
  airs_child_info row[ROWS_MAX];
} rows;

/* The children of `sup` (n = 0 and a failed check if the call fails). */
static rows children(airs_runtime* rt, airs_pid sup) {
  rows r;
  memset(&r, 0, sizeof r);
  CHECK_ST(airs_supervisor_which_children(rt, sup, r.row, ROWS_MAX, &r.n),
           AIRS_OK);
  if (r.n > ROWS_MAX) r.n = 0;
  return r;
}

/* The row of child `id`, or NULL. */
static const airs_child_info* row_of(const rows* r, const char* id) {
  size_t i;
  for (i = 0; i < r->n; i++)
    if (strcmp(r->row[i].id, id) == 0) return &r->row[i];
  return NULL;
}

static airs_pid pid_of(airs_runtime* rt, airs_pid sup, const char* id) {
  rows r = children(rt, sup);
  const airs_child_info* c = row_of(&r, id);
  return c ? c->pid : AIRS_NO_PID;
}

static int32_t state_of(airs_runtime* rt, airs_pid sup, const char* id) {
  rows r = children(rt, sup);
  const airs_child_info* c = row_of(&r, id);
  return c ? c->state : -1;
}

static uint32_t specs_of(airs_runtime* rt, airs_pid sup) {
  airs_child_counts cc;
  memset(&cc, 0, sizeof cc);
  CHECK_ST(airs_supervisor_count_children(rt, sup, &cc), AIRS_OK);
  return cc.specs;
}

/* The children of a dynamic pool: its specs count is always 1 (its
 * template), as OTP's count_children. */
static uint32_t pool_size(airs_runtime* rt, airs_pid sup) {
  airs_child_counts cc;
  memset(&cc, 0, sizeof cc);
  CHECK_ST(airs_supervisor_count_children(rt, sup, &cc), AIRS_OK);
  CHECK_EQ(cc.specs, 1);
  return cc.workers + cc.supervisors;
}

/* ---- failing calls that take a spec or an argument ----------------------- */

/* add_child fails with `want`; user_data released once, no init. */
#define ADD_FAILS(spec, child, want)                        \
  do {                                                      \
    recorder ud_;                                           \
    airs_child_spec c_ = (child);                           \
    memset(&ud_, 0, sizeof ud_);                            \
    c_.user_data = &ud_;                                    \
    c_.user_data_free = rec_free;                           \
    CHECK_ST(airs_sup_spec_add_child((spec), &c_), (want)); \
    CHECK_EQ(ud_.freed, 1);                                 \
    CHECK_EQ(ud_.inits, 0);                                 \
  } while (0)

/* start_child fails with `want`: *out untouched, user_data released once;
 * `inits` is how often the child's init ran (1 for a failing init). */
#define START_CHILD_FAILS(rt, sup, child, want, n_inits)                  \
  do {                                                                    \
    recorder ud_;                                                         \
    airs_child_spec c_ = (child);                                         \
    airs_pid out_ = 4242;                                                 \
    memset(&ud_, 0, sizeof ud_);                                          \
    c_.user_data = &ud_;                                                  \
    c_.user_data_free = rec_free;                                         \
    CHECK_ST(airs_supervisor_start_child((rt), (sup), &c_, &out_), want); \
    CHECK_EQ(out_, 4242);                                                 \
    CHECK_EQ(ud_.freed, 1);                                               \
    CHECK_EQ(ud_.inits, (n_inits));                                       \
  } while (0)

/* start_dynamic_child fails with `want`: *out untouched, arg released once;
 * `inits` as above. */
#define START_DYNAMIC_FAILS(rt, sup, want, n_inits)                            \
  do {                                                                         \
    recorder arg_;                                                             \
    airs_pid out_ = 4242;                                                      \
    memset(&arg_, 0, sizeof arg_);                                             \
    CHECK_ST(airs_supervisor_start_dynamic_child((rt), (sup), &arg_, rec_free, \
                                                 &out_),                       \
             (want));                                                          \
    CHECK_EQ(out_, 4242);                                                      \
    CHECK_EQ(arg_.freed, 1);                                                   \
    CHECK_EQ(arg_.inits, (n_inits));                                           \
  } while (0)

/* Which operations ops_fail makes. */
enum {
  OPS_SPEC = 1, /* the calls for supervisors with child specs */
  OPS_POOL = 2, /* start_dynamic_child */
  OPS_ANY = 4,  /* terminate_child_pid, which_children, count_children */
  OPS_ALL = 7
};

/* Each operation of `ops` on `sup` fails with `want`; `child` is the pid
 * given to terminate_child_pid. */
static void ops_fail(airs_runtime* rt, airs_pid sup, airs_pid child,
                     airs_status want, int ops, int line) {
  int failed = check_failed_;
  airs_child_info row;
  airs_child_counts cc = {4242, 4242, 4242, 4242};
  airs_pid out = 4242;
  size_t n = 4242;
  if (ops & OPS_SPEC) {
    START_CHILD_FAILS(rt, sup, worker("new", NULL), want, 0);
    CHECK_ST(airs_supervisor_terminate_child(rt, sup, "a"), want);
    CHECK_ST(airs_supervisor_restart_child(rt, sup, "a", &out), want);
    CHECK_EQ(out, 4242);
    CHECK_ST(airs_supervisor_delete_child(rt, sup, "a"), want);
  }
  if (ops & OPS_POOL) START_DYNAMIC_FAILS(rt, sup, want, 0);
  if (ops & OPS_ANY) {
    CHECK_ST(airs_supervisor_terminate_child_pid(rt, sup, child), want);
    memset(&row, 0x5A, sizeof row);
    CHECK_ST(airs_supervisor_which_children(rt, sup, &row, 1, &n), want);
    CHECK_EQ(n, 4242);
    CHECK_EQ(row.pid, 0x5A5A5A5A5A5A5A5Aull);
    CHECK_ST(airs_supervisor_which_children(rt, sup, NULL, 0, &n), want);
    CHECK_EQ(n, 4242);
    CHECK_ST(airs_supervisor_count_children(rt, sup, &cc), want);
    CHECK_EQ(cc.specs, 4242);
    CHECK_EQ(cc.active, 4242);
  }
  if (check_failed_ > failed)
    fprintf(stderr, "    (the calls of ops_fail from line %d)\n", line);
}

/* ---- recording events ---------------------------------------------------- */

#define EV_MAX 64

typedef struct ev_rec {
  int32_t kind;
  airs_pid source, pid, other;
  int64_t value;
  char id[AIRS_CHILD_ID_MAX + 1];
  int has_reason;
  airs_exit_kind reason_kind;
  int32_t reason_code;
} ev_rec;

typedef struct ev_log {
  int n;
  ev_rec ev[EV_MAX];
  int malformed;    /* events with a bad header, severity or NULL string */
  airs_runtime* rt; /* set: the first event probes its source */
  int probed;
} ev_log;

static void ev_hook(void* user_data, const airs_event* e) {
  ev_log* log = (ev_log*)user_data;
  /* Supervision events only (process and broker events: other tests). */
  if (e->kind > AIRS_EVENT_HEALTH_FAILED) return;
  if (e->version != AIRS_EVENT_VERSION || e->size != sizeof *e ||
      e->severity < AIRS_SEVERITY_DEBUG || e->severity > AIRS_SEVERITY_ERROR ||
      e->id == NULL || e->text == NULL)
    log->malformed++;
  if (log->n < EV_MAX) {
    ev_rec* r = &log->ev[log->n];
    r->kind = e->kind;
    r->source = e->source;
    r->pid = e->pid;
    r->other = e->other;
    r->value = e->value;
    snprintf(r->id, sizeof r->id, "%s", e->id ? e->id : "(null)");
    r->has_reason = e->reason != NULL;
    r->reason_kind = airs_reason_kind(e->reason);
    r->reason_code = airs_reason_code(e->reason);
  }
  log->n++;
  /* The hook runs inside the supervisor's decision: calls on it are
   * refused rather than deadlocking. */
  if (log->rt && !log->probed) {
    airs_child_counts cc = {4242, 4242, 4242, 4242};
    log->probed = 1;
    CHECK_ST(airs_supervisor_count_children(log->rt, e->source, &cc),
             AIRS_ESTATE);
    CHECK_EQ(cc.specs, 4242);
  }
}

/* Event `i` of the log is `kind` about child `id` with pid `pid`. */
static void check_ev(const ev_log* log, int i, int32_t kind, airs_pid source,
                     airs_pid pid, const char* id, int line) {
  int failed = check_failed_;
  CHECK(i < log->n && i < EV_MAX);
  if (i >= log->n || i >= EV_MAX) return;
  CHECK_EQ(log->ev[i].kind, kind);
  CHECK_EQ(log->ev[i].source, source);
  CHECK_EQ(log->ev[i].pid, pid);
  CHECK_STR(log->ev[i].id, id);
  if (check_failed_ > failed)
    fprintf(stderr, "    (event %d, checked at line %d)\n", i, line);
}

/* ---- flags and child specs ----------------------------------------------- */

static void test_inits(void) {
  airs_sup_flags f;
  airs_child_spec c;
  CHECK_ST(airs_sup_flags_init(NULL), AIRS_EINVAL);
  CHECK_ST(airs_child_spec_init(NULL), AIRS_EINVAL);

  /* Every field is set, whatever was there before. */
  memset(&f, 0xAB, sizeof f);
  CHECK_ST(airs_sup_flags_init(&f), AIRS_OK);
  CHECK_EQ(f.version, AIRS_SUP_FLAGS_VERSION);
  CHECK_EQ(f.size, sizeof f);
  CHECK_EQ(f.strategy, AIRS_ONE_FOR_ONE);
  CHECK_EQ(f.intensity, 1); /* OTP's defaults: 1 restart in 5 s */
  CHECK_EQ(f.period_ms, 5000);
  CHECK_EQ(f.backoff_base_ms, 0);
  CHECK_EQ(f.backoff_max_ms, 0);
  CHECK_EQ(f.auto_shutdown, AIRS_AUTO_SHUTDOWN_NEVER);
  CHECK_EQ(f.health_interval_ms, 0);
  CHECK_EQ(f.health_timeout_ms, 1000);
  CHECK_EQ(f.health_threshold, 3);

  memset(&c, 0xAB, sizeof c);
  CHECK_ST(airs_child_spec_init(&c), AIRS_OK);
  CHECK_EQ(c.version, AIRS_CHILD_SPEC_VERSION);
  CHECK_EQ(c.size, sizeof c);
  CHECK(c.id == NULL);
  CHECK(c.behaviour == NULL);
  CHECK(c.user_data == NULL);
  CHECK(c.user_data_free == NULL);
  CHECK(c.supervisor == NULL);
  CHECK_EQ(c.restart, AIRS_RESTART_PERMANENT);
  CHECK_EQ(c.shutdown, AIRS_SHUTDOWN_DEFAULT); /* OTP's, by child type */
  CHECK_EQ(c.shutdown_ms, 5000);
  CHECK_EQ(c.type, AIRS_CHILD_WORKER);
  CHECK_EQ(c.flags, 0);
  CHECK(c.name == NULL);
  CHECK(c.opts == NULL);
}

/* spec_new refuses flags `f`; *out untouched. */
#define SPEC_NEW_FAILS(f)                                  \
  do {                                                     \
    airs_sup_spec* out_ = (airs_sup_spec*)(void*)&g_inits; \
    CHECK_ST(airs_sup_spec_new(&(f), &out_), AIRS_EINVAL); \
    CHECK(out_ == (airs_sup_spec*)(void*)&g_inits);        \
  } while (0)

/* spec_new accepts flags `f`. */
#define SPEC_NEW_OK(f)                                 \
  do {                                                 \
    airs_sup_spec* out_ = NULL;                        \
    CHECK_ST(airs_sup_spec_new(&(f), &out_), AIRS_OK); \
    CHECK(out_ != NULL);                               \
    airs_sup_spec_free(out_);                          \
  } while (0)

static void test_spec_new(void) {
  airs_sup_flags ok, f;
  airs_sup_spec* s = NULL;
  CHECK_ST(airs_sup_flags_init(&ok), AIRS_OK);
  CHECK_ST(airs_sup_spec_new(&ok, NULL), AIRS_EINVAL);
  CHECK_ST(airs_sup_spec_new(NULL, NULL), AIRS_EINVAL);
  CHECK_ST(airs_sup_spec_new(NULL, &s), AIRS_OK); /* the defaults */
  CHECK(s != NULL);
  airs_sup_spec_free(s);
  airs_sup_spec_free(NULL);

  f = ok;
  f.version = 0;
  SPEC_NEW_FAILS(f);
  f = ok;
  f.size = sizeof f - 1;
  SPEC_NEW_FAILS(f);
  f.size = 0;
  SPEC_NEW_FAILS(f);
  f = ok;
  f.strategy = -1;
  SPEC_NEW_FAILS(f);
  f.strategy = 4;
  SPEC_NEW_FAILS(f);
  f = ok;
  f.auto_shutdown = -1;
  SPEC_NEW_FAILS(f);
  f.auto_shutdown = 3;
  SPEC_NEW_FAILS(f);
  f = ok;
  f.intensity = 1000000001u;
  SPEC_NEW_FAILS(f);
  f = ok;
  f.period_ms = 0;
  SPEC_NEW_FAILS(f);
  f.period_ms = 0x80000000u;
  SPEC_NEW_FAILS(f);
  f = ok;
  f.backoff_base_ms = 10;
  f.backoff_max_ms = 9;
  SPEC_NEW_FAILS(f);
  f = ok;
  f.health_interval_ms = 100;
  f.health_timeout_ms = 0;
  SPEC_NEW_FAILS(f);
  f = ok;
  f.health_interval_ms = 100;
  f.health_threshold = 0;
  SPEC_NEW_FAILS(f);

  /* The edges that are allowed. */
  f = ok;
  f.intensity = 0;
  SPEC_NEW_OK(f);
  f.intensity = 1000000000u;
  f.period_ms = 1;
  SPEC_NEW_OK(f);
  f.period_ms = 0x7FFFFFFFu;
  SPEC_NEW_OK(f);
  f = ok;
  f.backoff_base_ms = 10;
  f.backoff_max_ms = 10;
  SPEC_NEW_OK(f);
  f.backoff_base_ms = 0; /* no backoff: max is not looked at */
  f.backoff_max_ms = 0;
  SPEC_NEW_OK(f);
  f = ok;
  f.health_timeout_ms = 0; /* no interval: timeout and threshold unused */
  f.health_threshold = 0;
  SPEC_NEW_OK(f);
  f.health_interval_ms = 100;
  f.health_timeout_ms = 1;
  f.health_threshold = 1;
  SPEC_NEW_OK(f);
  f = ok;
  f.strategy = AIRS_SIMPLE_ONE_FOR_ONE;
  f.auto_shutdown = AIRS_AUTO_SHUTDOWN_ALL_SIGNIFICANT;
  SPEC_NEW_OK(f);
}

static void test_add_child(void) {
  airs_runtime* rt = make_host_runtime(10);
  airs_sup_spec *s, *sig, *pool, *nested;
  airs_sup_flags f;
  airs_child_spec good, c;
  airs_spawn_opts opts, o;
  airs_behaviour b;
  recorder a, edge, named, quick, inf, st, tp, tmpl, n1;
  char id64[AIRS_CHILD_ID_MAX + 2], id63[AIRS_CHILD_ID_MAX + 1];
  char name256[AIRS_NAME_MAX + 2], name255[AIRS_NAME_MAX + 1];
  airs_pid sup = AIRS_NO_PID, p = AIRS_NO_PID;
  rows r;
  CHECK(rt != NULL);
  if (!rt) return;
  memset(id64, 'i', sizeof id64 - 1);
  id64[sizeof id64 - 1] = '\0';
  memset(id63, 'i', sizeof id63 - 1);
  id63[sizeof id63 - 1] = '\0';
  memset(name256, 'n', sizeof name256 - 1);
  name256[sizeof name256 - 1] = '\0';
  memset(name255, 'n', sizeof name255 - 1);
  name255[sizeof name255 - 1] = '\0';
  CHECK_ST(airs_spawn_opts_init(rt, &opts), AIRS_OK);
  s = sup_spec(AIRS_ONE_FOR_ONE);
  CHECK(s != NULL);
  if (!s) return;
  good = worker("x", NULL);

  /* NULL arguments: user_data is released even then. */
  ADD_FAILS(NULL, good, AIRS_EINVAL);
  CHECK_ST(airs_sup_spec_add_child(s, NULL), AIRS_EINVAL);
  /* Version and size. */
  c = good;
  c.version = 0;
  ADD_FAILS(s, c, AIRS_EINVAL);
  c = good;
  c.size = sizeof c - 1;
  ADD_FAILS(s, c, AIRS_EINVAL);
  c.size = 0;
  ADD_FAILS(s, c, AIRS_EINVAL);
  /* The id: missing, empty, one byte too long. */
  c = good;
  c.id = NULL;
  ADD_FAILS(s, c, AIRS_EINVAL);
  c.id = "";
  ADD_FAILS(s, c, AIRS_EINVAL);
  c.id = id64;
  ADD_FAILS(s, c, AIRS_EINVAL);
  /* Both or neither of behaviour and supervisor. */
  nested = sup_spec(AIRS_ONE_FOR_ONE);
  child_rec(&n1, 8, NULL, NULL);
  c = worker("n1", &n1);
  CHECK_ST(airs_sup_spec_add_child(nested, &c), AIRS_OK);
  c = good;
  c.supervisor = nested;
  ADD_FAILS(s, c, AIRS_EINVAL);
  c.type = AIRS_CHILD_SUPERVISOR;
  ADD_FAILS(s, c, AIRS_EINVAL);
  c = good;
  c.behaviour = NULL;
  ADD_FAILS(s, c, AIRS_EINVAL);
  /* A bad behaviour. */
  b = g_rec_b;
  b.version = 0;
  c = good;
  c.behaviour = &b;
  ADD_FAILS(s, c, AIRS_EINVAL);
  b = g_rec_b;
  b.size = sizeof b - 1;
  ADD_FAILS(s, c, AIRS_EINVAL);
  b = g_rec_b;
  b.receive = NULL;
  ADD_FAILS(s, c, AIRS_EINVAL);
  /* Unknown enum values and flags. */
  c = good;
  c.restart = -1;
  ADD_FAILS(s, c, AIRS_EINVAL);
  c.restart = 3;
  ADD_FAILS(s, c, AIRS_EINVAL);
  c = good;
  c.shutdown = -1;
  ADD_FAILS(s, c, AIRS_EINVAL);
  c.shutdown = 4;
  ADD_FAILS(s, c, AIRS_EINVAL);
  c = good;
  c.type = -1;
  ADD_FAILS(s, c, AIRS_EINVAL);
  c.type = 2;
  ADD_FAILS(s, c, AIRS_EINVAL);
  c = good;
  c.flags = 0x2u;
  ADD_FAILS(s, c, AIRS_EINVAL);
  c.flags = 0x80000000u;
  ADD_FAILS(s, c, AIRS_EINVAL);
  /* shutdown_ms of a timeout: 0..3600000 (0 as OTP allows it). */
  c = good;
  c.shutdown_ms = 3600001;
  ADD_FAILS(s, c, AIRS_EINVAL);
  c.shutdown = AIRS_SHUTDOWN_TIMEOUT;
  ADD_FAILS(s, c, AIRS_EINVAL);
  /* The name: empty or one byte too long. */
  c = good;
  c.name = "";
  ADD_FAILS(s, c, AIRS_EINVAL);
  c.name = name256;
  ADD_FAILS(s, c, AIRS_EINVAL);
  /* Options: the supervisor links, not the options; bad values. */
  c = good;
  c.opts = &o;
  o = opts;
  o.flags = AIRS_SPAWN_LINK;
  ADD_FAILS(s, c, AIRS_EINVAL);
  o.flags = AIRS_SPAWN_LINK | AIRS_SPAWN_TRAP_EXIT;
  ADD_FAILS(s, c, AIRS_EINVAL);
  o = opts;
  o.version = 0;
  ADD_FAILS(s, c, AIRS_EINVAL);
  o = opts;
  o.size = sizeof o - 1;
  ADD_FAILS(s, c, AIRS_EINVAL);
  o = opts;
  o.mailbox_policy = 3;
  ADD_FAILS(s, c, AIRS_EINVAL);
  o = opts;
  o.block_timeout_ms = 0;
  ADD_FAILS(s, c, AIRS_EINVAL);
  o = opts;
  o.flags = 0x80;
  ADD_FAILS(s, c, AIRS_EINVAL);
  /* Significant: not when auto_shutdown is NEVER... */
  c = good;
  c.restart = AIRS_RESTART_TRANSIENT;
  c.flags = AIRS_CHILD_SIGNIFICANT;
  ADD_FAILS(s, c, AIRS_EINVAL);
  c.restart = AIRS_RESTART_TEMPORARY;
  ADD_FAILS(s, c, AIRS_EINVAL);
  /* ...and never permanent. */
  CHECK_ST(airs_sup_flags_init(&f), AIRS_OK);
  f.auto_shutdown = AIRS_AUTO_SHUTDOWN_ANY_SIGNIFICANT;
  sig = NULL;
  CHECK_ST(airs_sup_spec_new(&f, &sig), AIRS_OK);
  c.restart = AIRS_RESTART_PERMANENT;
  ADD_FAILS(sig, c, AIRS_EINVAL);
  /* A spec inside itself. */
  c = good;
  c.behaviour = NULL;
  c.supervisor = s;
  c.type = AIRS_CHILD_SUPERVISOR;
  ADD_FAILS(s, c, AIRS_EINVAL);
  c.supervisor = sig;
  ADD_FAILS(sig, c, AIRS_EINVAL);

  /* The edges that are allowed: a 63-byte id, a 255-byte name, no
   * shutdown_ms unless the shutdown is a timeout, significant transient
   * and temporary children with auto_shutdown. */
  child_rec(&edge, 1, NULL, NULL);
  c = worker(id63, &edge);
  CHECK_ST(airs_sup_spec_add_child(s, &c), AIRS_OK);
  child_rec(&named, 2, NULL, NULL);
  c = worker("named", &named);
  c.name = name255;
  o = opts;
  o.mailbox_capacity = 7;
  c.opts = &o;
  CHECK_ST(airs_sup_spec_add_child(s, &c), AIRS_OK);
  child_rec(&quick, 3, NULL, NULL);
  c = worker("quick", &quick);
  c.shutdown = AIRS_SHUTDOWN_BRUTAL_KILL;
  c.shutdown_ms = 0;
  CHECK_ST(airs_sup_spec_add_child(s, &c), AIRS_OK);
  child_rec(&inf, 9, NULL, NULL);
  c = worker("inf", &inf);
  c.shutdown = AIRS_SHUTDOWN_INFINITY;
  c.shutdown_ms = 0;
  CHECK_ST(airs_sup_spec_add_child(s, &c), AIRS_OK);
  child_rec(&st, 4, NULL, NULL);
  c = worker("sig_transient", &st);
  c.restart = AIRS_RESTART_TRANSIENT;
  c.flags = AIRS_CHILD_SIGNIFICANT;
  CHECK_ST(airs_sup_spec_add_child(sig, &c), AIRS_OK);
  child_rec(&tp, 5, NULL, NULL);
  c = worker("sig_temporary", &tp);
  c.restart = AIRS_RESTART_TEMPORARY;
  c.flags = AIRS_CHILD_SIGNIFICANT;
  CHECK_ST(airs_sup_spec_add_child(sig, &c), AIRS_OK);
  /* The struct and its strings may go after the call. */
  o.mailbox_capacity = 99;
  memset(id63, 'z', 10);

  /* Duplicate id: EEXIST, the first child stays. */
  child_rec(&a, 6, NULL, NULL);
  c = worker("a", &a);
  CHECK_ST(airs_sup_spec_add_child(s, &c), AIRS_OK);
  ADD_FAILS(s, worker("a", NULL), AIRS_EEXIST);
  CHECK_EQ(a.freed, 0);

  /* A pool takes one child, its template (whose id is not needed). */
  pool = sup_spec(AIRS_SIMPLE_ONE_FOR_ONE);
  child_rec(&tmpl, 7, NULL, NULL);
  c = worker(NULL, &tmpl);
  CHECK_ST(airs_sup_spec_add_child(pool, &c), AIRS_OK);
  ADD_FAILS(pool, worker("second", NULL), AIRS_EINVAL);
  ADD_FAILS(pool, worker(NULL, NULL), AIRS_EINVAL);

  /* A supervisor child; its spec can be dropped by the caller at once. */
  c = worker("nested", NULL);
  c.behaviour = NULL;
  c.supervisor = nested;
  c.type = AIRS_CHILD_SUPERVISOR;
  c.shutdown = AIRS_SHUTDOWN_INFINITY;
  CHECK_ST(airs_sup_spec_add_child(s, &c), AIRS_OK);
  airs_sup_spec_free(nested);

  /* Started: the spec is frozen. */
  CHECK_ST(airs_supervisor_start(rt, s, &sup), AIRS_OK);
  ADD_FAILS(s, worker("late", NULL), AIRS_ESTATE);
  ADD_FAILS(s, good, AIRS_ESTATE);
  r = children(rt, sup);
  CHECK_EQ(r.n, 6);
  if (r.n == 6) {
    memset(id63, 'i', 10);
    CHECK_STR(r.row[0].id, id63); /* copied when added */
    CHECK_STR(r.row[1].id, "named");
    CHECK_STR(r.row[2].id, "quick");
    CHECK_STR(r.row[3].id, "inf");
    CHECK_STR(r.row[4].id, "a");
    CHECK_STR(r.row[5].id, "nested");
    CHECK_EQ(r.row[5].type, AIRS_CHILD_SUPERVISOR);
    CHECK_EQ(r.row[5].state, AIRS_CHILD_RUNNING);
  }
  CHECK_EQ(edge.inits, 1);
  CHECK_EQ(named.inits, 1);
  CHECK_EQ(n1.inits, 1);
  /* The name and the options apply to the child. */
  CHECK_ST(airs_whereis(rt, name255, &p), AIRS_OK);
  CHECK_EQ(p, named.self);
  {
    uint64_t cap = 0;
    CHECK_ST(airs_process_stat_get(rt, named.self, AIRS_PSTAT_MAILBOX_CAPACITY,
                                   &cap),
             AIRS_OK);
    CHECK_EQ(cap, 7);
  }

  airs_sup_spec_free(s);
  airs_sup_spec_free(sig);
  airs_sup_spec_free(pool);
  /* Specs never started release their user_data with their last
   * reference. */
  CHECK_EQ(st.freed, 1);
  CHECK_EQ(tp.freed, 1);
  CHECK_EQ(tmpl.freed, 1);
  CHECK_EQ(st.inits + tp.inits + tmpl.inits, 0);
  airs_runtime_free(rt);
  CHECK_EQ(edge.freed, 1);
  CHECK_EQ(named.freed, 1);
  CHECK_EQ(quick.freed, 1);
  CHECK_EQ(inf.freed, 1);
  CHECK_EQ(a.freed, 1);
  CHECK_EQ(n1.freed, 1);
  CHECK_EQ(edge.terminates, 1);
  CHECK_EQ(n1.terminates, 1);
}

/* ---- starting a supervisor ----------------------------------------------- */

static airs_sup_spec* g_spec; /* what terminate_starts tries to start */
static airs_status g_start_st = AIRS_EINTERNAL;

/* Runs while the runtime shuts down. */
static void terminate_starts(void* state, airs_ctx* ctx,
                             const airs_reason* reason) {
  airs_pid out = 4242;
  rec_terminate(state, ctx, reason);
  CHECK_ST(
      g_start_st = airs_supervisor_start(airs_ctx_runtime(ctx), g_spec, &out),
      AIRS_ESTATE);
  CHECK_EQ(out, 4242);
}

static void test_start(void) {
  airs_runtime* rt = make_host_runtime(10);
  airs_runtime* gone = make_host_runtime(10);
  airs_sup_spec *s, *empty, *failing, *pool;
  airs_child_spec c;
  airs_child_counts cc;
  airs_behaviour b;
  recorder a, bb, cr, fa, fb, fc, plain, ga;
  int order[8], order_len = 0;
  airs_pid sup = AIRS_NO_PID, sup2 = AIRS_NO_PID, out = 4242, pid;
  rows r;
  CHECK(rt != NULL && gone != NULL);
  if (!rt || !gone) return;
  s = sup_spec(AIRS_ONE_FOR_ONE);
  CHECK(s != NULL);
  if (!s) return;

  /* NULL arguments. */
  CHECK_ST(airs_supervisor_start(NULL, s, &out), AIRS_EINVAL);
  CHECK_ST(airs_supervisor_start(rt, NULL, &out), AIRS_EINVAL);
  CHECK_ST(airs_supervisor_start(rt, s, NULL), AIRS_EINVAL);
  CHECK_EQ(out, 4242);

  /* A pool without its template. */
  pool = sup_spec(AIRS_SIMPLE_ONE_FOR_ONE);
  CHECK_ST(airs_supervisor_start(rt, pool, &out), AIRS_EINVAL);
  CHECK_EQ(out, 4242);
  airs_sup_spec_free(pool);

  /* No children is fine. */
  empty = sup_spec(AIRS_ONE_FOR_ONE);
  CHECK_ST(airs_supervisor_start(rt, empty, &sup), AIRS_OK);
  CHECK(sup != AIRS_NO_PID && airs_is_alive(rt, sup));
  memset(&cc, 0x5A, sizeof cc);
  CHECK_ST(airs_supervisor_count_children(rt, sup, &cc), AIRS_OK);
  CHECK_EQ(cc.specs, 0);
  CHECK_EQ(cc.active, 0);
  CHECK_EQ(cc.supervisors, 0);
  CHECK_EQ(cc.workers, 0);
  airs_sup_spec_free(empty);

  /* Children start in order, on this thread, before start returns. */
  g_inits_len = 0;
  child_rec(&a, 1, order, &order_len);
  child_rec(&bb, 2, order, &order_len);
  child_rec(&cr, 3, order, &order_len);
  c = worker("a", &a);
  CHECK_ST(airs_sup_spec_add_child(s, &c), AIRS_OK);
  c = worker("b", &bb);
  CHECK_ST(airs_sup_spec_add_child(s, &c), AIRS_OK);
  c = worker("c", &cr);
  CHECK_ST(airs_sup_spec_add_child(s, &c), AIRS_OK);
  CHECK_ST(airs_supervisor_start(rt, s, &sup), AIRS_OK);
  CHECK_EQ(g_inits_len, 3);
  CHECK_EQ(g_inits[0], 1);
  CHECK_EQ(g_inits[1], 2);
  CHECK_EQ(g_inits[2], 3);
  r = children(rt, sup);
  CHECK_EQ(r.n, 3);
  if (r.n == 3) {
    CHECK_STR(r.row[0].id, "a");
    CHECK_EQ(r.row[0].pid, a.self);
    CHECK_STR(r.row[2].id, "c");
    CHECK_EQ(r.row[2].pid, cr.self);
    CHECK_EQ(r.row[2].state, AIRS_CHILD_RUNNING);
    CHECK_EQ(r.row[2].type, AIRS_CHILD_WORKER);
  }
  CHECK(a.self != AIRS_NO_PID && a.self != sup && airs_is_alive(rt, a.self));
  /* The same spec starts a second supervisor; the caller's reference can go
   * while both run. */
  CHECK_ST(airs_supervisor_start(rt, s, &sup2), AIRS_OK);
  CHECK(sup2 != sup && sup2 != AIRS_NO_PID);
  CHECK_EQ(a.inits, 2);
  CHECK_EQ(pid_of(rt, sup2, "a"), a.self);
  airs_sup_spec_free(s);
  CHECK_EQ(a.freed, 0);
  CHECK_ST(airs_send(rt, pid_of(rt, sup, "b"), CMD_CRASH, NULL, 0), AIRS_OK);
  CHECK(poll_all(rt) > 0);
  CHECK_EQ(bb.inits, 3); /* restarted from the spec the caller dropped */
  CHECK_EQ(state_of(rt, sup, "b"), AIRS_CHILD_RUNNING);
  CHECK_ST(airs_stop(rt, sup2), AIRS_OK);
  CHECK(poll_all(rt) > 0);
  CHECK(!airs_is_alive(rt, sup2));

  /* A failing init: the children already started stop in reverse order
   * (brutal_kill: killed), start returns the init's status. */
  failing = sup_spec(AIRS_ONE_FOR_ONE);
  order_len = 0;
  g_inits_len = 0;
  child_rec(&fa, 11, order, &order_len);
  child_rec(&fb, 12, order, &order_len);
  child_rec(&fc, 13, order, &order_len);
  c = worker("fa", &fa);
  CHECK_ST(airs_sup_spec_add_child(failing, &c), AIRS_OK);
  c = worker("fb", &fb);
  c.shutdown = AIRS_SHUTDOWN_BRUTAL_KILL;
  CHECK_ST(airs_sup_spec_add_child(failing, &c), AIRS_OK);
  c = worker("fc", &fc);
  c.behaviour = &g_fail_b;
  CHECK_ST(airs_sup_spec_add_child(failing, &c), AIRS_OK);
  out = 4242;
  CHECK_ST(airs_supervisor_start(rt, failing, &out), INIT_FAILURE);
  CHECK_EQ(out, 4242);
  CHECK_EQ(g_inits_len, 2);
  CHECK_EQ(fc.inits, 1);
  CHECK_EQ(order_len, 2);
  CHECK_EQ(order[0], 12);
  CHECK_EQ(order[1], 11);
  CHECK_EQ(fb.term_kind, AIRS_EXIT_KILLED);
  CHECK_EQ(fa.term_kind, AIRS_EXIT_SHUTDOWN);
  CHECK_EQ(fc.terminates, 0);
  CHECK(!airs_is_alive(rt, fa.self));
  CHECK(!airs_is_alive(rt, fb.self));
  /* The spec still holds the user_data; it goes with the spec. */
  CHECK_EQ(fa.freed + fb.freed + fc.freed, 0);
  airs_sup_spec_free(failing);
  CHECK_EQ(fa.freed, 1);
  CHECK_EQ(fb.freed, 1);
  CHECK_EQ(fc.freed, 1);

  /* While the runtime shuts down: ESTATE (from a terminate). */
  g_spec = sup_spec(AIRS_ONE_FOR_ONE);
  child_rec(&ga, 21, NULL, NULL);
  c = worker("ga", &ga);
  CHECK_ST(airs_sup_spec_add_child(g_spec, &c), AIRS_OK);
  b = rec_behaviour();
  b.terminate = terminate_starts;
  memset(&plain, 0, sizeof plain);
  CHECK_ST(airs_spawn(rt, &b, &plain, rec_free, NULL, &pid), AIRS_OK);
  order_len = 0;
  airs_runtime_free(rt);
  CHECK_EQ(plain.terminates, 1);
  CHECK_EQ(g_start_st, AIRS_ESTATE);
  CHECK_EQ(ga.inits, 0);
  /* Freeing the runtime stopped the tree's children in reverse order and
   * released every user_data. */
  CHECK_EQ(order_len, 3);
  CHECK_EQ(order[0], 3);
  CHECK_EQ(order[1], 2);
  CHECK_EQ(order[2], 1);
  CHECK_EQ(a.freed, 1);
  CHECK_EQ(bb.freed, 1);
  CHECK_EQ(cr.freed, 1);

  /* A freed runtime. */
  airs_runtime_free(gone);
  out = 4242;
  CHECK_ST(airs_supervisor_start(gone, g_spec, &out), AIRS_ESTATE);
  CHECK_EQ(out, 4242);
  airs_sup_spec_free(g_spec);
  CHECK_EQ(ga.freed, 1);
  CHECK_EQ(ga.inits, 0);
}

/* ---- the errors every operation shares ----------------------------------- */

static void test_common_errors(void) {
  airs_runtime* rt = make_host_runtime(10);
  airs_runtime* gone = make_host_runtime(10);
  airs_sup_spec *s, *pool;
  airs_child_spec c;
  recorder a, ta, arg, plain;
  airs_pid sup = AIRS_NO_PID, psup = AIRS_NO_PID, dead = AIRS_NO_PID,
           dead_pool = AIRS_NO_PID, gsup = AIRS_NO_PID, p, child;
  CHECK(rt != NULL && gone != NULL);
  if (!rt || !gone) return;
  s = sup_spec(AIRS_ONE_FOR_ONE);
  pool = sup_spec(AIRS_SIMPLE_ONE_FOR_ONE);
  child_rec(&a, 1, NULL, NULL);
  c = worker("a", &a);
  CHECK_ST(airs_sup_spec_add_child(s, &c), AIRS_OK);
  child_rec(&ta, 2, NULL, NULL);
  c = worker(NULL, &ta);
  CHECK_ST(airs_sup_spec_add_child(pool, &c), AIRS_OK);
  CHECK_ST(airs_supervisor_start(rt, s, &sup), AIRS_OK);
  CHECK_ST(airs_supervisor_start(rt, pool, &psup), AIRS_OK);
  child = a.self;
  memset(&plain, 0, sizeof plain);
  p = spawn_rec(rt, &plain, NULL);
  CHECK(p != AIRS_NO_PID);

  /* NULL rt; pid 0; processes that are not supervisors. */
  ops_fail(NULL, sup, child, AIRS_EINVAL, OPS_ALL, __LINE__);
  ops_fail(rt, AIRS_NO_PID, child, AIRS_ENOPROC, OPS_ALL, __LINE__);
  ops_fail(rt, p, child, AIRS_EINVAL, OPS_ALL, __LINE__);
  ops_fail(rt, child, child, AIRS_EINVAL, OPS_ALL, __LINE__);

  /* Supervisors that have ended (stopped by a non-child: they stop their
   * children and exit with that reason). */
  CHECK_ST(airs_supervisor_start(rt, s, &dead), AIRS_OK);
  CHECK_ST(airs_supervisor_start(rt, pool, &dead_pool), AIRS_OK);
  memset(&arg, 0, sizeof arg);
  arg.on_msg = child_msg;
  CHECK_ST(
      airs_supervisor_start_dynamic_child(rt, dead_pool, &arg, rec_free, NULL),
      AIRS_OK);
  CHECK_ST(airs_stop(rt, dead), AIRS_OK);
  CHECK_ST(airs_stop(rt, dead_pool), AIRS_OK);
  CHECK(poll_all(rt) > 0);
  CHECK(!airs_is_alive(rt, dead));
  CHECK(!airs_is_alive(rt, dead_pool));
  CHECK_EQ(a.terminates, 1); /* the dead supervisor's "a" */
  CHECK_EQ(a.term_kind, AIRS_EXIT_SHUTDOWN);
  CHECK_EQ(arg.terminates, 1);
  CHECK_EQ(arg.freed, 1); /* a dynamic child is gone for good */
  ops_fail(rt, dead, child, AIRS_ENOPROC, OPS_SPEC | OPS_ANY, __LINE__);
  ops_fail(rt, dead_pool, child, AIRS_ENOPROC, OPS_POOL | OPS_ANY, __LINE__);
  /* The live ones are untouched by all this. */
  CHECK(airs_is_alive(rt, sup) && airs_is_alive(rt, psup));
  CHECK_EQ(specs_of(rt, sup), 1);
  CHECK_EQ(pool_size(rt, psup), 0);

  /* A freed runtime. */
  CHECK_ST(airs_supervisor_start(gone, pool, &gsup), AIRS_OK);
  airs_runtime_free(gone);
  ops_fail(gone, gsup, child, AIRS_ESTATE, OPS_ALL, __LINE__);

  airs_sup_spec_free(s);
  airs_sup_spec_free(pool);
  airs_runtime_free(rt);
  CHECK_EQ(a.freed, 1);
  CHECK_EQ(ta.freed, 1);
  CHECK_EQ(ta.inits, 0); /* a template never starts itself */
}

/* ---- start_child --------------------------------------------------------- */

/* What an actor does from its receive: operations from inside a callback. */
typedef struct cb_ops {
  airs_pid sup;
  recorder* child;
  airs_status start_st, term_st;
  airs_pid started;
} cb_ops;

static airs_status cb_msg(recorder* r, airs_ctx* ctx, const airs_msg* msg) {
  cb_ops* op = (cb_ops*)r->arg;
  airs_runtime* rt = airs_ctx_runtime(ctx);
  airs_child_spec c = worker("from_cb", op->child);
  (void)msg;
  op->start_st = airs_supervisor_start_child(rt, op->sup, &c, &op->started);
  op->term_st = airs_supervisor_terminate_child(rt, op->sup, "from_cb");
  return AIRS_OK;
}

static void test_start_child(void) {
  airs_runtime* rt = make_host_runtime(10);
  airs_sup_spec *s, *nested;
  airs_child_spec c, good;
  airs_child_counts cc;
  airs_spawn_opts o;
  recorder a, b, c2, f, n1, probe, cbr, cbchild;
  cb_ops op;
  airs_pid sup = AIRS_NO_PID, pb = AIRS_NO_PID, pn = AIRS_NO_PID, actor;
  rows r;
  CHECK(rt != NULL);
  if (!rt) return;
  s = sup_spec(AIRS_ONE_FOR_ONE);
  child_rec(&a, 1, NULL, NULL);
  c = worker("a", &a);
  CHECK_ST(airs_sup_spec_add_child(s, &c), AIRS_OK);
  CHECK_ST(airs_supervisor_start(rt, s, &sup), AIRS_OK);
  airs_sup_spec_free(s);
  g_sup = sup;

  /* Added at the end and started. */
  child_rec(&b, 2, NULL, NULL);
  c = worker("b", &b);
  CHECK_ST(airs_supervisor_start_child(rt, sup, &c, &pb), AIRS_OK);
  CHECK(pb != AIRS_NO_PID && airs_is_alive(rt, pb));
  CHECK_EQ(b.inits, 1);
  CHECK_EQ(b.self, pb);
  child_rec(&c2, 3, NULL, NULL);
  c = worker("c", &c2);
  c.restart = AIRS_RESTART_TEMPORARY;
  CHECK_ST(airs_supervisor_start_child(rt, sup, &c, NULL), AIRS_OK);
  CHECK_EQ(c2.inits, 1);
  r = children(rt, sup);
  CHECK_EQ(r.n, 3);
  if (r.n == 3) {
    CHECK_STR(r.row[1].id, "b");
    CHECK_EQ(r.row[1].pid, pb);
    CHECK_STR(r.row[2].id, "c");
    CHECK_EQ(r.row[2].pid, c2.self);
  }

  /* Refused specs: user_data released, nothing added, *out untouched. */
  good = worker("new", NULL);
  CHECK_ST(airs_supervisor_start_child(rt, sup, NULL, &pb), AIRS_EINVAL);
  START_CHILD_FAILS(rt, sup, worker("a", NULL), AIRS_EEXIST, 0);
  START_CHILD_FAILS(rt, sup, worker("c", NULL), AIRS_EEXIST, 0);
  c = good;
  c.version = 0;
  START_CHILD_FAILS(rt, sup, c, AIRS_EINVAL, 0);
  c = good;
  c.id = "";
  START_CHILD_FAILS(rt, sup, c, AIRS_EINVAL, 0);
  c = good;
  c.restart = AIRS_RESTART_TRANSIENT;
  c.flags = AIRS_CHILD_SIGNIFICANT; /* auto_shutdown is NEVER */
  START_CHILD_FAILS(rt, sup, c, AIRS_EINVAL, 0);
  c = good;
  CHECK_ST(airs_spawn_opts_init(rt, &o), AIRS_OK);
  o.flags = AIRS_SPAWN_LINK;
  c.opts = &o;
  START_CHILD_FAILS(rt, sup, c, AIRS_EINVAL, 0);
  c = good;
  c.shutdown_ms = 3600001;
  START_CHILD_FAILS(rt, sup, c, AIRS_EINVAL, 0);
  /* A failing init: its status, and the spec is not kept. */
  c = worker("f", NULL);
  c.behaviour = &g_fail_b;
  START_CHILD_FAILS(rt, sup, c, INIT_FAILURE, 1);
  CHECK_EQ(specs_of(rt, sup), 3);
  child_rec(&f, 4, NULL, NULL);
  c = worker("f", &f); /* so the id is free again */
  CHECK_ST(airs_supervisor_start_child(rt, sup, &c, NULL), AIRS_OK);
  CHECK_EQ(f.inits, 1);
  CHECK_EQ(specs_of(rt, sup), 4);

  /* A supervisor child, with a child of its own. */
  nested = sup_spec(AIRS_ONE_FOR_ONE);
  child_rec(&n1, 5, NULL, NULL);
  c = worker("n1", &n1);
  CHECK_ST(airs_sup_spec_add_child(nested, &c), AIRS_OK);
  c = worker("nested", NULL);
  c.behaviour = NULL;
  c.supervisor = nested;
  c.type = AIRS_CHILD_SUPERVISOR;
  c.shutdown = AIRS_SHUTDOWN_INFINITY;
  CHECK_ST(airs_supervisor_start_child(rt, sup, &c, &pn), AIRS_OK);
  airs_sup_spec_free(nested);
  CHECK(pn != AIRS_NO_PID && airs_is_alive(rt, pn));
  CHECK_EQ(n1.inits, 1);
  CHECK_EQ(pid_of(rt, pn, "n1"), n1.self);
  memset(&cc, 0, sizeof cc);
  CHECK_ST(airs_supervisor_count_children(rt, sup, &cc), AIRS_OK);
  CHECK_EQ(cc.supervisors, 1);
  CHECK_EQ(cc.workers, 4);

  /* The child's init runs inside the supervisor: calls on it get ESTATE
   * (checked by init_probes_sup); the start itself works. */
  child_rec(&probe, 6, NULL, NULL);
  c = worker("probe", &probe);
  c.behaviour = &g_probe_b;
  CHECK_ST(airs_supervisor_start_child(rt, sup, &c, NULL), AIRS_OK);
  CHECK_EQ(probe.inits, 1);

  /* From inside another actor's callback: start, then terminate (which
   * returns once the stop has begun). */
  memset(&op, 0, sizeof op);
  op.sup = sup;
  op.child = &cbchild;
  op.start_st = op.term_st = AIRS_EINTERNAL;
  child_rec(&cbchild, 7, NULL, NULL);
  memset(&cbr, 0, sizeof cbr);
  cbr.on_msg = cb_msg;
  cbr.arg = &op;
  actor = spawn_rec(rt, &cbr, NULL);
  CHECK_ST(airs_send(rt, actor, 1, NULL, 0), AIRS_OK);
  CHECK(poll_all(rt) > 0);
  CHECK_EQ(op.start_st, AIRS_OK);
  CHECK_EQ(op.term_st, AIRS_OK);
  CHECK(op.started != AIRS_NO_PID);
  CHECK_EQ(cbchild.inits, 1);
  CHECK_EQ(cbchild.terminates, 1);
  CHECK_EQ(cbchild.term_kind, AIRS_EXIT_SHUTDOWN);
  CHECK(!airs_is_alive(rt, op.started));
  CHECK_EQ(state_of(rt, sup, "from_cb"), AIRS_CHILD_STOPPED);

  airs_runtime_free(rt);
  CHECK_EQ(a.freed, 1);
  CHECK_EQ(b.freed, 1);
  CHECK_EQ(c2.freed, 1);
  CHECK_EQ(f.freed, 1);
  CHECK_EQ(n1.freed, 1);
  CHECK_EQ(probe.freed, 1);
  CHECK_EQ(cbchild.freed, 1);
}

/* ---- dynamic pools ------------------------------------------------------- */

static void test_dynamic(void) {
  airs_runtime* rt = make_host_runtime(10);
  airs_sup_spec *pool, *failing, *s;
  airs_child_spec c;
  airs_child_counts cc;
  recorder tmpl, ftmpl, r1, r2, r3, a;
  airs_pid sup = AIRS_NO_PID, fsup = AIRS_NO_PID, osup = AIRS_NO_PID,
           p1 = AIRS_NO_PID, p1b, p3 = AIRS_NO_PID;
  rows r;
  CHECK(rt != NULL);
  if (!rt) return;
  pool = sup_spec(AIRS_SIMPLE_ONE_FOR_ONE);
  child_rec(&tmpl, 1, NULL, NULL);
  c = worker(NULL, &tmpl);
  CHECK_ST(airs_sup_spec_add_child(pool, &c), AIRS_OK);
  CHECK_ST(airs_supervisor_start(rt, pool, &sup), AIRS_OK);
  CHECK_EQ(pool_size(rt, sup), 0); /* none start with the supervisor */
  CHECK_EQ(tmpl.inits, 0);

  /* Each child's init gets its own argument. */
  child_rec(&r1, 2, NULL, NULL);
  child_rec(&r2, 3, NULL, NULL);
  CHECK_ST(airs_supervisor_start_dynamic_child(rt, sup, &r1, rec_free, &p1),
           AIRS_OK);
  CHECK_ST(airs_supervisor_start_dynamic_child(rt, sup, &r2, rec_free, NULL),
           AIRS_OK);
  CHECK(p1 != AIRS_NO_PID);
  CHECK_EQ(r1.inits, 1);
  CHECK_EQ(r1.self, p1);
  CHECK_EQ(r2.inits, 1);
  CHECK_EQ(tmpl.inits, 0);
  r = children(rt, sup);
  CHECK_EQ(r.n, 2);
  if (r.n == 2) {
    CHECK_STR(r.row[0].id, "");
    CHECK_EQ(r.row[0].pid, p1);
    CHECK_EQ(r.row[1].pid, r2.self);
    CHECK_EQ(r.row[1].state, AIRS_CHILD_RUNNING);
    CHECK_EQ(r.row[1].type, AIRS_CHILD_WORKER);
  }
  memset(&cc, 0x5A, sizeof cc);
  CHECK_ST(airs_supervisor_count_children(rt, sup, &cc), AIRS_OK);
  CHECK_EQ(cc.specs, 1); /* OTP: the template */
  CHECK_EQ(cc.active, 2);
  CHECK_EQ(cc.supervisors, 0);
  CHECK_EQ(cc.workers, 2);
  /* No arg_free is fine too. */
  child_rec(&r3, 4, NULL, NULL);
  CHECK_ST(airs_supervisor_start_dynamic_child(rt, sup, &r3, NULL, &p3),
           AIRS_OK);
  CHECK_EQ(r3.self, p3);
  CHECK_ST(airs_supervisor_terminate_child_pid(rt, sup, p3), AIRS_OK);
  CHECK_EQ(r3.terminates, 1);
  CHECK_EQ(r3.freed, 0);
  CHECK_EQ(pool_size(rt, sup), 2);

  /* A crash restarts it with the same argument, which stays ours. */
  CHECK_ST(airs_send(rt, p1, CMD_CRASH, NULL, 0), AIRS_OK);
  CHECK(poll_all(rt) > 0);
  CHECK_EQ(r1.inits, 2);
  p1b = r1.self;
  CHECK(p1b != p1 && airs_is_alive(rt, p1b));
  CHECK_EQ(r1.freed, 0);
  r = children(rt, sup);
  CHECK_EQ(r.n, 2);
  if (r.n == 2) CHECK_EQ(r.row[0].pid, p1b);

  /* Terminated by pid: dropped, its argument released. */
  CHECK_ST(airs_supervisor_terminate_child_pid(rt, sup, p1b), AIRS_OK);
  CHECK_EQ(r1.terminates, 2);
  CHECK_EQ(r1.term_kind, AIRS_EXIT_SHUTDOWN);
  CHECK_EQ(r1.freed, 1);
  CHECK(!airs_is_alive(rt, p1b));
  CHECK_EQ(specs_of(rt, sup), 1);
  /* A pid that has ended: nothing to stop, ok (OTP); a live process that
   * is no child: not found. */
  CHECK_ST(airs_supervisor_terminate_child_pid(rt, sup, p1b), AIRS_OK);
  CHECK_ST(airs_supervisor_terminate_child_pid(rt, sup, p1), AIRS_OK);
  CHECK_EQ(r1.terminates, 2);
  CHECK_ST(airs_supervisor_terminate_child_pid(rt, sup, sup), AIRS_ENOTFOUND);

  /* The calls by id are for specs, not pools. */
  START_CHILD_FAILS(rt, sup, worker("x", NULL), AIRS_EINVAL, 0);
  CHECK_ST(airs_supervisor_terminate_child(rt, sup, "a"), AIRS_EINVAL);
  CHECK_ST(airs_supervisor_terminate_child(rt, sup, ""), AIRS_EINVAL);
  CHECK_ST(airs_supervisor_restart_child(rt, sup, "a", NULL), AIRS_EINVAL);
  CHECK_ST(airs_supervisor_delete_child(rt, sup, "a"), AIRS_EINVAL);
  CHECK(airs_is_alive(rt, r2.self));

  /* ...and pools are not for the others. */
  s = sup_spec(AIRS_ONE_FOR_ONE);
  child_rec(&a, 4, NULL, NULL);
  c = worker("a", &a);
  CHECK_ST(airs_sup_spec_add_child(s, &c), AIRS_OK);
  CHECK_ST(airs_supervisor_start(rt, s, &osup), AIRS_OK);
  START_DYNAMIC_FAILS(rt, osup, AIRS_EINVAL, 0);
  CHECK_EQ(specs_of(rt, osup), 1);

  /* A failing init: its status, the argument released at once. */
  failing = sup_spec(AIRS_SIMPLE_ONE_FOR_ONE);
  child_rec(&ftmpl, 5, NULL, NULL);
  c = worker(NULL, &ftmpl);
  c.behaviour = &g_fail_b;
  CHECK_ST(airs_sup_spec_add_child(failing, &c), AIRS_OK);
  CHECK_ST(airs_supervisor_start(rt, failing, &fsup), AIRS_OK);
  START_DYNAMIC_FAILS(rt, fsup, INIT_FAILURE, 1);
  CHECK_EQ(pool_size(rt, fsup), 0);

  airs_sup_spec_free(pool);
  airs_sup_spec_free(failing);
  airs_sup_spec_free(s);
  airs_runtime_free(rt);
  CHECK_EQ(r1.freed, 1);
  CHECK_EQ(r2.freed, 1);
  CHECK_EQ(r2.terminates, 1);
  CHECK_EQ(r3.freed, 0);
  CHECK_EQ(tmpl.freed, 1);
  CHECK_EQ(ftmpl.freed, 1);
  CHECK_EQ(a.freed, 1);
}

/* ---- terminate, restart and delete by id --------------------------------- */

static void test_terminate_restart_delete(void) {
  airs_runtime* rt = make_host_runtime(10);
  airs_sup_spec* s;
  airs_child_spec c;
  recorder a, b, cr, d, t, f, plain;
  airs_pid sup = AIRS_NO_PID, pa, pb, pc, out = 4242, p;
  rows r;
  CHECK(rt != NULL);
  if (!rt) return;
  s = sup_spec(AIRS_ONE_FOR_ONE);
  child_rec(&a, 1, NULL, NULL);
  child_rec(&b, 2, NULL, NULL);
  child_rec(&cr, 3, NULL, NULL);
  c = worker("a", &a);
  c.name = "sup_test_a";
  CHECK_ST(airs_sup_spec_add_child(s, &c), AIRS_OK);
  c = worker("b", &b);
  c.shutdown = AIRS_SHUTDOWN_BRUTAL_KILL;
  CHECK_ST(airs_sup_spec_add_child(s, &c), AIRS_OK);
  c = worker("c", &cr);
  CHECK_ST(airs_sup_spec_add_child(s, &c), AIRS_OK);
  CHECK_ST(airs_supervisor_start(rt, s, &sup), AIRS_OK);
  airs_sup_spec_free(s);
  pa = a.self;
  pb = b.self;
  pc = cr.self;
  memset(&plain, 0, sizeof plain);
  p = spawn_rec(rt, &plain, NULL);

  /* Bad ids. */
  CHECK_ST(airs_supervisor_terminate_child(rt, sup, NULL), AIRS_EINVAL);
  CHECK_ST(airs_supervisor_terminate_child(rt, sup, "zz"), AIRS_ENOTFOUND);
  CHECK_ST(airs_supervisor_restart_child(rt, sup, NULL, &out), AIRS_EINVAL);
  CHECK_ST(airs_supervisor_restart_child(rt, sup, "zz", &out), AIRS_ENOTFOUND);
  CHECK_ST(airs_supervisor_delete_child(rt, sup, NULL), AIRS_EINVAL);
  CHECK_ST(airs_supervisor_delete_child(rt, sup, "zz"), AIRS_ENOTFOUND);
  CHECK_ST(airs_supervisor_terminate_child_pid(rt, sup, p), AIRS_ENOTFOUND);
  CHECK_ST(airs_supervisor_terminate_child_pid(rt, sup, AIRS_NO_PID),
           AIRS_ENOTFOUND);
  /* Running children can be neither restarted nor deleted. */
  CHECK_ST(airs_supervisor_restart_child(rt, sup, "a", &out), AIRS_ESTATE);
  CHECK_ST(airs_supervisor_delete_child(rt, sup, "a"), AIRS_ESTATE);
  CHECK_EQ(out, 4242);
  CHECK(airs_is_alive(rt, p));
  CHECK_EQ(a.inits, 1);
  CHECK_EQ(specs_of(rt, sup), 3);

  /* terminate by id: by the child's shutdown; the spec stays, STOPPED. */
  CHECK_ST(airs_supervisor_terminate_child(rt, sup, "a"), AIRS_OK);
  CHECK_EQ(a.terminates, 1);
  CHECK_EQ(a.term_kind, AIRS_EXIT_SHUTDOWN);
  CHECK(!airs_is_alive(rt, pa));
  CHECK_ST(airs_whereis(rt, "sup_test_a", &out), AIRS_ENOTFOUND);
  r = children(rt, sup);
  CHECK_EQ(r.n, 3);
  if (r.n == 3) {
    CHECK_STR(r.row[0].id, "a");
    CHECK_EQ(r.row[0].state, AIRS_CHILD_STOPPED);
    CHECK_EQ(r.row[0].pid, AIRS_NO_PID);
  }
  CHECK_ST(airs_supervisor_terminate_child(rt, sup, "a"), AIRS_OK);
  CHECK_EQ(a.terminates, 1); /* not running: nothing to do */
  CHECK_ST(airs_supervisor_terminate_child(rt, sup, "b"), AIRS_OK);
  CHECK_EQ(b.term_kind, AIRS_EXIT_KILLED); /* brutal_kill */
  CHECK(!airs_is_alive(rt, pb));
  /* by pid: only in a simple_one_for_one supervisor, as OTP. */
  CHECK_ST(airs_supervisor_terminate_child_pid(rt, sup, pc), AIRS_ENOTFOUND);
  CHECK(airs_is_alive(rt, pc));
  CHECK_ST(airs_supervisor_terminate_child(rt, sup, "c"), AIRS_OK);
  CHECK_EQ(cr.terminates, 1);
  CHECK_EQ(cr.term_kind, AIRS_EXIT_SHUTDOWN);
  CHECK_EQ(state_of(rt, sup, "c"), AIRS_CHILD_STOPPED);
  CHECK_ST(airs_supervisor_terminate_child_pid(rt, sup, pc), AIRS_ENOTFOUND);
  CHECK_EQ(specs_of(rt, sup), 3);

  /* restart: a new process from the spec, with its name. */
  out = 4242;
  CHECK_ST(airs_supervisor_restart_child(rt, sup, "a", &out), AIRS_OK);
  CHECK(out != 4242 && out != pa && airs_is_alive(rt, out));
  CHECK_EQ(a.inits, 2);
  CHECK_EQ(a.self, out);
  CHECK_EQ(pid_of(rt, sup, "a"), out);
  CHECK_EQ(state_of(rt, sup, "a"), AIRS_CHILD_RUNNING);
  CHECK_ST(airs_whereis(rt, "sup_test_a", &p), AIRS_OK);
  CHECK_EQ(p, out);
  CHECK_ST(airs_supervisor_restart_child(rt, sup, "b", NULL), AIRS_OK);
  CHECK_EQ(b.inits, 2);
  CHECK_EQ(pid_of(rt, sup, "b"), b.self);

  /* delete: only a stopped child, and then it is gone. */
  CHECK_ST(airs_supervisor_delete_child(rt, sup, "c"), AIRS_OK);
  r = children(rt, sup);
  CHECK_EQ(r.n, 2);
  CHECK(row_of(&r, "c") == NULL);
  CHECK_ST(airs_supervisor_delete_child(rt, sup, "c"), AIRS_ENOTFOUND);
  out = 4242;
  CHECK_ST(airs_supervisor_restart_child(rt, sup, "c", &out), AIRS_ENOTFOUND);
  CHECK_ST(airs_supervisor_terminate_child(rt, sup, "c"), AIRS_ENOTFOUND);
  CHECK_EQ(out, 4242);
  CHECK_EQ(cr.inits, 1);
  /* A child added by start_child belongs to the supervisor alone: delete
   * releases its user_data at once. */
  child_rec(&d, 4, NULL, NULL);
  c = worker("d", &d);
  CHECK_ST(airs_supervisor_start_child(rt, sup, &c, NULL), AIRS_OK);
  CHECK_ST(airs_supervisor_terminate_child(rt, sup, "d"), AIRS_OK);
  CHECK_EQ(d.freed, 0);
  CHECK_ST(airs_supervisor_delete_child(rt, sup, "d"), AIRS_OK);
  CHECK_EQ(d.freed, 1);
  CHECK_EQ(d.terminates, 1);
  /* A temporary child is dropped when terminated. */
  child_rec(&t, 5, NULL, NULL);
  c = worker("t", &t);
  c.restart = AIRS_RESTART_TEMPORARY;
  CHECK_ST(airs_supervisor_start_child(rt, sup, &c, NULL), AIRS_OK);
  CHECK_ST(airs_supervisor_terminate_child(rt, sup, "t"), AIRS_OK);
  CHECK_EQ(t.terminates, 1);
  CHECK_EQ(t.freed, 1);
  CHECK_EQ(specs_of(rt, sup), 2);
  CHECK_ST(airs_supervisor_restart_child(rt, sup, "t", NULL), AIRS_ENOTFOUND);
  /* A restart whose init fails: its status. */
  child_rec(&f, 6, NULL, NULL);
  c = worker("f", &f);
  c.behaviour = &g_again_b;
  CHECK_ST(airs_supervisor_start_child(rt, sup, &c, NULL), AIRS_OK);
  CHECK_ST(airs_supervisor_terminate_child(rt, sup, "f"), AIRS_OK);
  out = 4242;
  CHECK_ST(airs_supervisor_restart_child(rt, sup, "f", &out), INIT_FAILURE);
  CHECK_EQ(out, 4242);
  CHECK_EQ(f.inits, 2);
  CHECK_EQ(f.terminates, 1);

  airs_runtime_free(rt);
  CHECK_EQ(a.freed, 1);
  CHECK_EQ(b.freed, 1);
  CHECK_EQ(cr.freed, 1);
  CHECK_EQ(f.freed, 1);
  CHECK_EQ(a.terminates, 2);
}

/* ---- which_children and count_children ----------------------------------- */

static void test_which_count(void) {
  airs_runtime* rt = make_host_runtime(10);
  airs_sup_spec *s, *nested;
  airs_child_spec c;
  airs_child_info row[3];
  airs_child_counts cc;
  recorder a, n1, cr;
  airs_pid sup = AIRS_NO_PID, pn;
  size_t n;
  CHECK(rt != NULL);
  if (!rt) return;
  nested = sup_spec(AIRS_REST_FOR_ONE);
  child_rec(&n1, 1, NULL, NULL);
  c = worker("n1", &n1);
  CHECK_ST(airs_sup_spec_add_child(nested, &c), AIRS_OK);
  s = sup_spec(AIRS_ONE_FOR_ALL);
  child_rec(&a, 2, NULL, NULL);
  c = worker("a", &a);
  CHECK_ST(airs_sup_spec_add_child(s, &c), AIRS_OK);
  c = worker("n", NULL);
  c.behaviour = NULL;
  c.supervisor = nested;
  c.type = AIRS_CHILD_SUPERVISOR;
  c.shutdown = AIRS_SHUTDOWN_INFINITY;
  CHECK_ST(airs_sup_spec_add_child(s, &c), AIRS_OK);
  child_rec(&cr, 3, NULL, NULL);
  c = worker("c", &cr);
  CHECK_ST(airs_sup_spec_add_child(s, &c), AIRS_OK);
  CHECK_ST(airs_supervisor_start(rt, s, &sup), AIRS_OK);
  airs_sup_spec_free(s);
  airs_sup_spec_free(nested);
  CHECK_ST(airs_supervisor_terminate_child(rt, sup, "c"), AIRS_OK);

  /* Bad arguments; count untouched. */
  n = 4242;
  CHECK_ST(airs_supervisor_which_children(rt, sup, row, 3, NULL), AIRS_EINVAL);
  CHECK_ST(airs_supervisor_which_children(rt, sup, NULL, 0, NULL), AIRS_EINVAL);
  CHECK_ST(airs_supervisor_which_children(rt, sup, NULL, 2, &n), AIRS_EINVAL);
  CHECK_EQ(n, 4242);
  CHECK_ST(airs_supervisor_count_children(rt, sup, NULL), AIRS_EINVAL);

  /* Capacity 0 with no array: just the count. */
  CHECK_ST(airs_supervisor_which_children(rt, sup, NULL, 0, &n), AIRS_OK);
  CHECK_EQ(n, 3);
  /* A short array: the first rows, and the full count. */
  memset(row, 0x5A, sizeof row);
  n = 0;
  CHECK_ST(airs_supervisor_which_children(rt, sup, row, 1, &n), AIRS_OK);
  CHECK_EQ(n, 3);
  CHECK_STR(row[0].id, "a");
  CHECK_EQ(row[0].pid, a.self);
  CHECK_EQ(row[1].pid, 0x5A5A5A5A5A5A5A5Aull);
  CHECK_EQ((unsigned char)row[1].id[0], 0x5A);
  /* All of them, in start order. */
  n = 0;
  CHECK_ST(airs_supervisor_which_children(rt, sup, row, 3, &n), AIRS_OK);
  CHECK_EQ(n, 3);
  CHECK_STR(row[0].id, "a");
  CHECK_EQ(row[0].type, AIRS_CHILD_WORKER);
  CHECK_EQ(row[0].state, AIRS_CHILD_RUNNING);
  CHECK_STR(row[1].id, "n");
  CHECK_EQ(row[1].type, AIRS_CHILD_SUPERVISOR);
  CHECK_EQ(row[1].state, AIRS_CHILD_RUNNING);
  pn = row[1].pid;
  CHECK(pn != AIRS_NO_PID && airs_is_alive(rt, pn));
  CHECK_STR(row[2].id, "c");
  CHECK_EQ(row[2].type, AIRS_CHILD_WORKER);
  CHECK_EQ(row[2].state, AIRS_CHILD_STOPPED);
  CHECK_EQ(row[2].pid, AIRS_NO_PID);
  /* The nested supervisor answers for its own children. */
  CHECK_EQ(pid_of(rt, pn, "n1"), n1.self);

  memset(&cc, 0x5A, sizeof cc);
  CHECK_ST(airs_supervisor_count_children(rt, sup, &cc), AIRS_OK);
  CHECK_EQ(cc.specs, 3);
  CHECK_EQ(cc.active, 2);
  CHECK_EQ(cc.supervisors, 1);
  CHECK_EQ(cc.workers, 2);
  memset(&cc, 0x5A, sizeof cc);
  CHECK_ST(airs_supervisor_count_children(rt, pn, &cc), AIRS_OK);
  CHECK_EQ(cc.specs, 1);
  CHECK_EQ(cc.active, 1);
  CHECK_EQ(cc.supervisors, 0);
  CHECK_EQ(cc.workers, 1);
  airs_runtime_free(rt);
  CHECK_EQ(a.freed, 1);
  CHECK_EQ(n1.freed, 1);
  CHECK_EQ(cr.freed, 1);
}

/* ---- the event hook ------------------------------------------------------ */

static void test_event_hook(void) {
  airs_runtime* rt = make_host_runtime(10);
  airs_runtime* gone = make_host_runtime(10);
  airs_sup_spec* s;
  airs_child_spec c;
  recorder a, b;
  ev_log log;
  airs_pid sup = AIRS_NO_PID, a1, a2, pb, named;
  int n;
  CHECK(rt != NULL && gone != NULL);
  if (!rt || !gone) return;
  memset(&log, 0, sizeof log);
  CHECK_ST(airs_set_event_hook(NULL, ev_hook, &log), AIRS_EINVAL);
  CHECK_ST(airs_set_event_hook(NULL, NULL, NULL), AIRS_EINVAL);
  airs_runtime_free(gone);
  CHECK_ST(airs_set_event_hook(gone, ev_hook, &log), AIRS_ESTATE);
  CHECK_ST(airs_set_event_hook(rt, NULL, NULL), AIRS_OK); /* none yet */

  log.rt = rt;
  CHECK_ST(airs_set_event_hook(rt, ev_hook, &log), AIRS_OK);
  s = sup_spec(AIRS_ONE_FOR_ONE);
  child_rec(&a, 1, NULL, NULL);
  child_rec(&b, 2, NULL, NULL);
  c = worker("a", &a);
  c.name = "sup_test_named";
  CHECK_ST(airs_sup_spec_add_child(s, &c), AIRS_OK);
  c = worker("b", &b);
  CHECK_ST(airs_sup_spec_add_child(s, &c), AIRS_OK);
  CHECK_ST(airs_supervisor_start(rt, s, &sup), AIRS_OK);
  airs_sup_spec_free(s);
  a1 = a.self;
  pb = b.self;
  CHECK_EQ(log.probed, 1);
  CHECK_EQ(log.n, 2);
  check_ev(&log, 0, AIRS_EVENT_CHILD_STARTED, sup, a1, "a", __LINE__);
  check_ev(&log, 1, AIRS_EVENT_CHILD_STARTED, sup, pb, "b", __LINE__);

  /* A crash under one_for_one: exited, strategy, started, restarted. */
  CHECK_ST(airs_send(rt, a1, CMD_CRASH, NULL, 0), AIRS_OK);
  CHECK(poll_all(rt) > 0);
  a2 = a.self;
  CHECK(a2 != a1 && airs_is_alive(rt, a2));
  CHECK_EQ(pid_of(rt, sup, "a"), a2);
  CHECK_ST(airs_whereis(rt, "sup_test_named", &named), AIRS_OK);
  CHECK_EQ(named, a2); /* the name moved to the new pid */
  CHECK_EQ(log.n, 6);
  check_ev(&log, 2, AIRS_EVENT_CHILD_EXITED, sup, a1, "a", __LINE__);
  CHECK(log.ev[2].has_reason);
  CHECK_EQ(log.ev[2].reason_kind, AIRS_EXIT_ERROR);
  CHECK_EQ(log.ev[2].reason_code, 42);
  check_ev(&log, 3, AIRS_EVENT_STRATEGY_APPLIED, sup, a1, "a", __LINE__);
  CHECK_EQ(log.ev[3].value, AIRS_ONE_FOR_ONE);
  check_ev(&log, 4, AIRS_EVENT_CHILD_STARTED, sup, a2, "a", __LINE__);
  check_ev(&log, 5, AIRS_EVENT_CHILD_RESTARTED, sup, a2, "a", __LINE__);
  CHECK_EQ(log.ev[5].other, a1);
  CHECK_EQ(log.malformed, 0);
  CHECK(airs_is_alive(rt, pb));

  /* Removed: nothing more is reported. */
  CHECK_ST(airs_set_event_hook(rt, NULL, &log), AIRS_OK);
  n = log.n;
  CHECK_ST(airs_supervisor_terminate_child(rt, sup, "b"), AIRS_OK);
  CHECK(!airs_is_alive(rt, pb));
  CHECK_ST(airs_supervisor_restart_child(rt, sup, "b", NULL), AIRS_OK);
  CHECK_EQ(b.inits, 2);
  CHECK_EQ(log.n, n);
  airs_runtime_free(rt);
  CHECK_EQ(log.n, n);
  CHECK_EQ(a.freed, 1);
  CHECK_EQ(b.freed, 1);
}

int main(void) {
  init_behaviours();
  test_inits();
  test_spec_new();
  test_add_child();
  test_start();
  test_common_errors();
  test_start_child();
  test_dynamic();
  test_terminate_restart_delete();
  test_which_count();
  test_event_hook();
  return CHECK_DONE();
}
