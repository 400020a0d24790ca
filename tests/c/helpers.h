/*
 * helpers.h - what the plain C tests share besides the checks: runtimes,
 * counters for free functions, and a recording actor. Include check.h
 * first.
 */
#ifndef AIRS_TESTS_HELPERS_H
#define AIRS_TESTS_HELPERS_H

#include <airs/airs.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- runtimes ---------------------------------------------------------- */

/* rt's metrics (airs_metrics_write), malloc'd: the caller frees it. NULL
 * on error. */
static inline char* metrics_text(airs_runtime* rt) {
  size_t len = 0;
  char* text;
  if (airs_metrics_write(rt, NULL, 0, &len) != AIRS_EFULL) return NULL;
  text = (char*)malloc(len + 1);
  if (text && airs_metrics_write(rt, text, len + 1, &len) != AIRS_OK) {
    free(text);
    return NULL;
  }
  return text;
}

/* A runtime with `workers` threads (0: host-driven), the manual clock if
 * `manual`, and the given default mailbox capacity/policy. NULL on error. */
static inline airs_runtime* make_runtime_ex(int workers, int manual,
                                            int64_t capacity, int policy,
                                            int64_t shutdown_ms) {
  airs_config* cfg = NULL;
  airs_runtime* rt = NULL;
  if (airs_config_new(&cfg) != AIRS_OK) return NULL;
  if (airs_config_set(cfg, AIRS_CFG_WORKERS, workers) != AIRS_OK ||
      airs_config_set(cfg, AIRS_CFG_MANUAL_CLOCK, manual) != AIRS_OK ||
      airs_config_set(cfg, AIRS_CFG_MAILBOX_CAPACITY, capacity) != AIRS_OK ||
      airs_config_set(cfg, AIRS_CFG_MAILBOX_POLICY, policy) != AIRS_OK ||
      airs_config_set(cfg, AIRS_CFG_SHUTDOWN_TIMEOUT_MS, shutdown_ms) !=
          AIRS_OK ||
      airs_runtime_new(cfg, &rt) != AIRS_OK)
    rt = NULL;
  airs_config_free(cfg);
  return rt;
}

static inline airs_runtime* make_runtime(int workers, int manual) {
  return make_runtime_ex(workers, manual, 0, AIRS_MAILBOX_FAIL, 5000);
}

/* Host-driven; processes left at the end get `shutdown_ms` to stop. */
static inline airs_runtime* make_host_runtime(int64_t shutdown_ms) {
  return make_runtime_ex(0, 0, 0, AIRS_MAILBOX_FAIL, shutdown_ms);
}

/* A name of AIRS_NAME_MAX + 1 bytes, one too long (static storage). */
static inline const char* too_long_name(void) {
  static char name[AIRS_NAME_MAX + 2];
  memset(name, 'n', AIRS_NAME_MAX + 1);
  name[AIRS_NAME_MAX + 1] = '\0';
  return name;
}

/* Host-driven mode: polls until nothing is left to run; returns the turns
 * run, or -1 if polling failed or never settled. */
static inline long poll_all(airs_runtime* rt) {
  long total = 0;
  int rounds;
  for (rounds = 0; rounds < 10000; rounds++) {
    uint32_t ran = 0;
    if (airs_runtime_poll(rt, 1000, &ran) != AIRS_OK) return -1;
    if (ran == 0) return total;
    total += ran;
  }
  return -1;
}

/* The open fds of this process (from /proc/self/fd, less the DIR's own),
 * or -1. */
static inline int count_fds(void) {
  int n = 0;
  DIR* d = opendir("/proc/self/fd");
  struct dirent* e;
  if (!d) return -1;
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n - 1;
}

/* Monotonic milliseconds. */
static inline double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* ---- counters for free functions -------------------------------------- */

/* A free function that counts its calls on the object it is given: use
 * the counter itself as user_data, owned pointer or wrapped payload. */
typedef struct counter {
  int n;
} counter;

static inline void counter_free(void* p) {
  ((counter*)p)->n++;
}

/* ---- a recording actor ------------------------------------------------- */

#define REC_MAX 64

typedef struct rec_msg {
  uint64_t type;
  airs_pid sender;
  uint64_t correlation;
  airs_priority priority;
  size_t size;
  const void* data;
  airs_payload* payload;
  unsigned char bytes[16]; /* the first bytes of the payload */
  int has_reason;
  airs_exit_kind reason_kind;
  int32_t reason_code;
  char reason_text[128];
} rec_msg;

struct recorder;
/* Runs after a message is recorded; its status is receive's status. */
typedef airs_status (*rec_fn)(struct recorder* r, airs_ctx* ctx,
                              const airs_msg* msg);

typedef struct recorder {
  int n; /* messages received */
  rec_msg msgs[REC_MAX];
  airs_pid self;  /* airs_self() at the last receive */
  airs_ctx* ctx;  /* the ctx of the last receive (for misuse tests) */
  int inits;      /* init calls */
  int terminates; /* terminate calls */
  airs_pid term_self;
  airs_exit_kind term_kind;
  int32_t term_code;
  char term_text[256];
  int freed;     /* user_data_free calls */
  rec_fn on_msg; /* optional */
  void* arg;     /* for on_msg */
  int* order;    /* optional: terminate appends `id` here */
  int* order_len;
  int id;
} recorder;

static inline void rec_copy_text(char* dst, size_t n, const char* s) {
  snprintf(dst, n, "%s", s ? s : "(null)");
}

static inline airs_status rec_receive(void* state, airs_ctx* ctx,
                                      const airs_msg* msg) {
  recorder* r = (recorder*)state;
  r->self = airs_self(ctx);
  r->ctx = ctx;
  if (r->n < REC_MAX) {
    rec_msg* m = &r->msgs[r->n];
    const airs_reason* reason = airs_msg_reason(msg);
    size_t size = airs_msg_size(msg);
    m->type = airs_msg_type(msg);
    m->sender = airs_msg_sender(msg);
    m->correlation = airs_msg_correlation(msg);
    m->priority = airs_msg_priority(msg);
    m->size = size;
    m->data = airs_msg_data(msg);
    m->payload = airs_msg_payload(msg);
    memset(m->bytes, 0, sizeof m->bytes);
    if (m->data)
      memcpy(m->bytes, m->data,
             size < sizeof m->bytes ? size : sizeof m->bytes);
    m->has_reason = reason != NULL;
    m->reason_kind = airs_reason_kind(reason);
    m->reason_code = airs_reason_code(reason);
    rec_copy_text(m->reason_text, sizeof m->reason_text,
                  airs_reason_text(reason));
  }
  r->n++;
  return r->on_msg ? r->on_msg(r, ctx, msg) : AIRS_OK;
}

static inline airs_status rec_init(void* user_data, airs_ctx* ctx,
                                   void** state) {
  recorder* r = (recorder*)user_data;
  r->inits++;
  r->self = airs_self(ctx);
  *state = r;
  return AIRS_OK;
}

static inline void rec_terminate(void* state, airs_ctx* ctx,
                                 const airs_reason* reason) {
  recorder* r = (recorder*)state;
  r->terminates++;
  r->term_self = airs_self(ctx);
  r->term_kind = airs_reason_kind(reason);
  r->term_code = airs_reason_code(reason);
  rec_copy_text(r->term_text, sizeof r->term_text, airs_reason_text(reason));
  if (r->order) r->order[(*r->order_len)++] = r->id;
}

static inline void rec_free(void* user_data) {
  ((recorder*)user_data)->freed++;
}

static inline airs_behaviour rec_behaviour(void) {
  airs_behaviour b;
  memset(&b, 0, sizeof b);
  b.version = AIRS_BEHAVIOUR_VERSION;
  b.size = sizeof b;
  b.init = rec_init;
  b.receive = rec_receive;
  b.terminate = rec_terminate;
  return b;
}

/* A process of `init` (NULL: none) and `receive`, with `user_data` and
 * no user_data_free; 0 if it could not be spawned. */
static inline airs_pid spawn_with(airs_runtime* rt,
                                  airs_status (*init)(void*, airs_ctx*, void**),
                                  airs_status (*receive)(void*, airs_ctx*,
                                                         const airs_msg*),
                                  void* user_data) {
  airs_behaviour b;
  airs_pid pid = 0;
  memset(&b, 0, sizeof b);
  b.version = AIRS_BEHAVIOUR_VERSION;
  b.size = sizeof b;
  b.init = init;
  b.receive = receive;
  if (airs_spawn(rt, &b, user_data, NULL, NULL, &pid) != AIRS_OK) return 0;
  return pid;
}

/* Spawns a recorder (user_data_free counts into r->freed); 0 on error. */
static inline airs_pid spawn_rec(airs_runtime* rt, recorder* r,
                                 const airs_spawn_opts* opts) {
  airs_behaviour b = rec_behaviour();
  airs_pid pid = AIRS_NO_PID;
  if (airs_spawn(rt, &b, r, rec_free, opts, &pid) != AIRS_OK) return 0;
  return pid;
}

/* Spawn options with a mailbox capacity and policy. */
static inline airs_spawn_opts mailbox_opts(airs_runtime* rt, uint32_t capacity,
                                           airs_mailbox_policy policy,
                                           uint32_t block_timeout_ms) {
  airs_spawn_opts o;
  memset(&o, 0, sizeof o);
  airs_spawn_opts_init(rt, &o);
  o.mailbox_capacity = capacity;
  o.mailbox_policy = policy;
  o.block_timeout_ms = block_timeout_ms;
  return o;
}

/* An on_msg that ends the process normally on any message. */
static inline airs_status rec_exit_normal(recorder* r, airs_ctx* ctx,
                                          const airs_msg* msg) {
  (void)r;
  (void)msg;
  return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
}

#endif /* AIRS_TESTS_HELPERS_H */
