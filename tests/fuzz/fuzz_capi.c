/*
 * fuzz_capi.c - a libFuzzer harness of the public C API (airs.h,
 * supervisor.h, broker.h). See README.md in this folder for how to run it
 * and how to reproduce a finding.
 *
 * One input is one runtime's life. Byte 0 picks the mode (host-driven or
 * threaded with 1 or 2 workers, manual clock, events), the next two bytes
 * the rest of its config (bounded: few processes, short timeouts), then
 * each group of bytes is one top-level operation (at most MAX_OPS) made
 * from the main thread: spawns with options, sends (copied, owned, shared,
 * with priorities and correlation ids), timers, exit signals, waits,
 * polls, the clock, the registry, pools, topics, requests (airs_call),
 * supervisor specs (valid and invalid flags and child specs, every
 * strategy, nested supervisors) and every supervisor operation, stats,
 * hooks, scratch configs with out-of-range keys and values, messages and
 * payloads, and calls with NULL, stale and freed handles and pids.
 *
 * The actors are scripted: the data of a user message is a small program
 * that the receiving actor runs from its callback (spawn with LINK and
 * TRAP_EXIT, send, link/unlink, monitor/demonitor, exit, request/reply,
 * publish/subscribe, registry, pools, supervisor calls, timers, blocking
 * calls that must fail with ESTATE, ...). A script op that sends a script
 * sends a strict part of its own, and every script op spends one unit of a
 * per-input budget, so an input always ends. The inits, terminates,
 * user_data_free functions, the dead-letter hook and the event hook call
 * back into the API as well (depth-guarded, never blocking).
 *
 * What counts as a finding: a crash or sanitizer report, a hang (libFuzzer
 * -timeout), a leak (a user_data or state never freed: LeakSanitizer), or
 * one of the few contract checks below (CHECK): statuses in range, NULL
 * runtime -> EINVAL, freed runtime -> ESTATE, stale ctx -> ESTATE, blocking
 * calls inside callbacks -> ESTATE, every thread the runtime started is
 * told it ends.
 *
 * Waits that the header says may last for ever are avoided on purpose:
 * with the manual clock, actors never ignore a shutdown and supervisors get
 * no backoff (a main-thread call would wait for a clock only it moves), and
 * a worker child under shutdown INFINITY never ignores a shutdown.
 */
#define _GNU_SOURCE /* pipe2 */

#include <airs/airs.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../pid_layout.h"

/* ---- bounds ------------------------------------------------------------ */

enum {
  MAX_OPS = 64,          /* top-level operations per input */
  SCRIPT_BUDGET = 600,   /* script and hook operations per input */
  MAX_SCRIPT_OPS = 12,   /* operations of one script run */
  NPIDS = 16,            /* remembered pids */
  NTIMERS = 8,           /* remembered timer ids */
  NSPECS = 6,            /* supervisor specs held by the main thread */
  NSHARED_SPECS = 4,     /* frozen specs callbacks may start */
  NPAYLOADS = 4,         /* payloads held by the main thread */
  WAIT_MS_MAX = 4,       /* longest wait / call timeout from the main thread */
  POLL_ROUNDS_MAX = 200, /* polls of one host-driven drain */
};

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "fuzz_capi: CHECK failed at %s:%d: %s (%s)\n", __FILE__, \
              __LINE__, #cond, airs_last_error_message());                     \
      abort();                                                                 \
    }                                                                          \
  } while (0)

/* Every status must be one of the header's. */
static airs_status st_ok(airs_status st) {
  CHECK((int)st >= AIRS_OK && (int)st <= AIRS_EOS);
  return st;
}
#define S(call) st_ok(call)

/* ---- input reader ------------------------------------------------------ */

typedef struct Reader {
  const uint8_t* p;
  size_t n;
} Reader;

static uint8_t u8(Reader* r) {
  if (r->n == 0) return 0;
  r->n--;
  return *r->p++;
}
static uint16_t u16(Reader* r) {
  uint16_t v = u8(r);
  return (uint16_t)(v | (uint16_t)(u8(r) << 8));
}
static uint32_t u32(Reader* r) {
  uint32_t v = u16(r);
  return v | ((uint32_t)u16(r) << 16);
}
static uint64_t u64(Reader* r) {
  uint64_t v = u32(r);
  return v | ((uint64_t)u32(r) << 32);
}
/* The next `len` bytes (fewer at the end) as a reader of their own. */
static Reader take(Reader* r, size_t len) {
  Reader s = {r->p, len < r->n ? len : r->n};
  r->p += s.n;
  r->n -= s.n;
  return s;
}

/* ---- shared state of one input ----------------------------------------- */

static _Atomic(airs_runtime*) g_rt;
static int g_threaded, g_manual;
static atomic_int g_budget;
static _Atomic uint64_t g_pids[NPIDS];
static atomic_uint g_pid_next;
static _Atomic(void*) g_stale_ctx; /* a ctx kept past its callback */
static _Atomic(airs_sup_spec*) g_shared_specs[NSHARED_SPECS];
/* Threads a runtime started and ended, told by its thread hook. */
typedef struct ThreadCount {
  atomic_int started, ended;
} ThreadCount;
static ThreadCount g_threads, g_threads2; /* the input's and a scratch one's */
static atomic_uint g_dl_mode, g_ev_mode;
static _Thread_local int tl_hook_depth; /* hooks and free functions */
static _Thread_local int tl_init_depth; /* nested spawns from inits */

/* Sockets (net.h) made by this input, any owner, open or not. */
#define NSOCKS 8
static _Atomic uint64_t g_socks[NSOCKS];
static atomic_uint g_sock_next;

static void add_sock(airs_socket s) {
  if (s == 0) return;
  atomic_store(&g_socks[atomic_fetch_add(&g_sock_next, 1) % NSOCKS], s);
}

/* A socket id: a remembered one (open or closed), 0, or made up. */
static airs_socket pick_sock(uint8_t b) {
  switch (b / NSOCKS % 4) {
    case 0:
    case 1: return atomic_load(&g_socks[b % NSOCKS]);
    case 2: return 0;
    default: return 0xFFFFFFFFFFull + b;
  }
}

/* Set when the input may have started the blocking pool (a job, or a
 * spawn with AIRS_SPAWN_BLOCKING): then even a host-driven runtime has
 * threads (the pool's). */
static atomic_int g_pool_used;
/* Set when the input submitted a job: a job still running when free's
 * shutdown timeout (0..3 ms here) runs out has its thread let go, and a
 * thread let go is not told of its end (io.h). */
static atomic_int g_jobs_used;

static uint32_t spawn_flags(uint32_t flags) {
  if (flags & AIRS_SPAWN_BLOCKING) atomic_store(&g_pool_used, 1);
  return flags;
}

static int spend(void) {
  return atomic_fetch_sub(&g_budget, 1) > 0;
}

static void add_pid(airs_pid pid) {
  if (pid == AIRS_NO_PID) return;
  unsigned i = atomic_fetch_add(&g_pid_next, 1) % NPIDS;
  atomic_store(&g_pids[i], pid);
}

/* A pid: a remembered one (live or stale), 0, or made up. */
static airs_pid pick_pid(uint8_t b) {
  airs_pid p = atomic_load(&g_pids[b % NPIDS]);
  switch (b / NPIDS % 8) {
    case 0:
    case 1:
    case 2:
    case 3: return p;
    case 4: return AIRS_NO_PID;
    case 5: /* another generation of its slot */
      return test_pid_make(p, test_pid_slot(p), test_pid_generation(p) + 1);
    case 6: /* a slot that does not exist, under the same runtime tag */
      return test_pid_make(p, (1u << TEST_PID_SLOT_BITS) - 1, 1);
    default: return ~0ull;
  }
}

static char g_long_name[AIRS_NAME_MAX + 2]; /* one byte too long */
static char g_max_name[AIRS_NAME_MAX + 1];  /* just long enough */
static char g_long_id[AIRS_CHILD_ID_MAX + 2];
static char g_max_id[AIRS_CHILD_ID_MAX + 1];

static const char* pick_name(uint8_t b) {
  switch (b % 10) {
    case 0: return "a";
    case 1: return "b";
    case 2: return "c";
    case 3: return "worker";
    case 4: return "prices";
    case 5: return "";
    case 6: return g_long_name;
    case 7: return g_max_name;
    case 8: return NULL;
    default: return "a\xff\x01";
  }
}

static const char* pick_id(uint8_t b) {
  switch (b % 8) {
    case 0: return "w1";
    case 1: return "w2";
    case 2: return "w3";
    case 3: return "s1";
    case 4: return "";
    case 5: return g_long_id;
    case 6: return g_max_id;
    default: return NULL;
  }
}

/* Enum values as ints: the valid ones and some that are not. */
static int pick_enum(uint8_t b, int count) {
  static const int bad[] = {-1, 99, 0x7fffffff, (int)0x80000000};
  int n = count + 4;
  int i = b % n;
  return i < count ? i : bad[i - count];
}

/* ---- actors ------------------------------------------------------------ */

enum { MAGIC_UD = 0x55445544, MAGIC_ST = 0x53545354 };

/* A user_data (MAGIC_UD) or, made from it by init, a state (MAGIC_ST). */
typedef struct Obj {
  uint32_t magic;
  uint8_t init_op;
  uint8_t term_op;
  uint8_t free_op;
  uint8_t health;
  uint8_t flags; /* OBJ_* */
  uint64_t ref;  /* the last monitor ref (states) */
} Obj;

enum {
  OBJ_IGNORE_SHUTDOWN = 0x1, /* a trapped shutdown is ignored */
  OBJ_IGNORE_EXITS = 0x2,    /* other trapped exits are ignored */
  OBJ_CRASH_ON_EMPTY = 0x4,  /* an empty user message makes it fail */
};

static airs_status a_init(void* ud, airs_ctx* ctx, void** state);
static airs_status a_receive(void* state, airs_ctx* ctx, const airs_msg* msg);
static void a_terminate(void* state, airs_ctx* ctx, const airs_reason* reason);
static airs_health a_health(void* state, airs_ctx* ctx);
static void ud_free(void* ud);

static const airs_behaviour b_full = {AIRS_BEHAVIOUR_VERSION,
                                      sizeof(airs_behaviour),
                                      a_init,
                                      a_receive,
                                      a_terminate,
                                      a_health,
                                      NULL};
static const airs_behaviour b_noinit = {AIRS_BEHAVIOUR_VERSION,
                                        sizeof(airs_behaviour),
                                        NULL,
                                        a_receive,
                                        a_terminate,
                                        a_health,
                                        NULL};
static const airs_behaviour b_min = {AIRS_BEHAVIOUR_VERSION,
                                     sizeof(airs_behaviour),
                                     NULL,
                                     a_receive,
                                     NULL,
                                     NULL,
                                     NULL};
static const airs_behaviour b_noreceive = {AIRS_BEHAVIOUR_VERSION,
                                           sizeof(airs_behaviour),
                                           a_init,
                                           NULL,
                                           NULL,
                                           NULL,
                                           NULL};
static const airs_behaviour b_badversion = {
    0, sizeof(airs_behaviour), a_init, a_receive, a_terminate, NULL, NULL};
static const airs_behaviour b_badsize = {
    AIRS_BEHAVIOUR_VERSION, 8, a_init, a_receive, a_terminate, NULL, NULL};
/* A size larger than the struct, with zeroes after it. */
static const struct {
  airs_behaviour b;
  char pad[64];
} b_bigsize = {{AIRS_BEHAVIOUR_VERSION, sizeof(airs_behaviour) + 64, a_init,
                a_receive, a_terminate, a_health, NULL},
               {0}};

/* Mostly the full behaviour; sometimes one the API must refuse. */
static const airs_behaviour* pick_behaviour(uint8_t b) {
  switch (b % 16) {
    case 0: return &b_noinit;
    case 1: return &b_min;
    case 2: return &b_noreceive;
    case 3: return &b_badversion;
    case 4: return &b_badsize;
    case 5: return &b_bigsize.b;
    case 6: return NULL;
    default: return &b_full;
  }
}

/* A user_data. With `never_ignore`, it never ignores a shutdown. */
static Obj* ud_new(Reader* r, int never_ignore) {
  Obj* u = (Obj*)calloc(1, sizeof *u);
  if (!u) abort();
  u->magic = MAGIC_UD;
  u->init_op = u8(r);
  u->term_op = u8(r);
  uint8_t b = u8(r);
  u->free_op = b & 7;
  u->health = (uint8_t)(b >> 3 & 7); /* 3..7: not an airs_health */
  u->flags = u8(r);
  if (never_ignore || g_manual) u->flags &= (uint8_t)~OBJ_IGNORE_SHUTDOWN;
  return u;
}

/* The user_data or state of a process started with NULL user_data. */
static _Thread_local Obj tl_default = {MAGIC_UD, 0, 0, 0, 0, 0, 0};

static Obj* obj_of(void* p) {
  Obj* o = p ? (Obj*)p : &tl_default;
  CHECK(o->magic == MAGIC_ST || o->magic == MAGIC_UD);
  return o;
}

static airs_runtime* rt_now(void) {
  return atomic_load(&g_rt);
}

/* Calls into the runtime from a free function or a hook: never blocks. */
static void call_in(uint8_t op, airs_pid pid) {
  airs_runtime* rt = rt_now();
  if (!rt || tl_hook_depth > 0 || !spend()) return;
  tl_hook_depth++;
  airs_pid out = 0;
  switch (op % 8) {
    case 0: S(airs_send(rt, pid, 7, "x", 1)); break;
    case 1: (void)airs_is_alive(rt, pid); break;
    case 2: S(airs_whereis(rt, "a", &out)); break;
    case 3: {
      airs_payload* p = NULL;
      if (S(airs_payload_new("pub", 3, &p)) == AIRS_OK) {
        S(airs_publish(rt, "prices", 9, p, NULL));
        airs_payload_release(p);
      }
      break;
    }
    case 4: S(airs_kill(rt, pid)); break;
    case 5: {
      airs_runtime_stats s;
      memset(&s, 0, sizeof s);
      s.version = AIRS_RUNTIME_STATS_VERSION;
      s.size = sizeof s;
      S(airs_runtime_stats_get(rt, &s));
      break;
    }
    case 6: S(airs_register(rt, "b", pid)); break;
    default: {
      airs_msg* m = NULL;
      if (S(airs_msg_new(8, NULL, 0, &m)) == AIRS_OK) {
        uint64_t t = 0;
        if (S(airs_send_after(rt, pid, 1, m, &t)) != AIRS_OK) airs_msg_free(m);
      }
      break;
    }
  }
  tl_hook_depth--;
}

static void ud_free(void* ud) {
  Obj* u = (Obj*)ud;
  CHECK(u && u->magic == MAGIC_UD);
  if (u->free_op) call_in(u->free_op, pick_pid(u->term_op));
  u->magic = 0;
  free(u);
}

/* Spawns from a callback; `linked` asks for AIRS_SPAWN_LINK. */
static void ctx_spawn_child(airs_ctx* ctx, Reader* r, uint32_t flags) {
  if (tl_init_depth > 2) return;
  uint8_t bsel = u8(r);
  Obj* u = ud_new(r, 0);
  u->init_op %= 8; /* no nested spawns from this one's init at depth */
  airs_spawn_opts o;
  airs_spawn_opts* op = NULL;
  airs_runtime* rt = airs_ctx_runtime(ctx);
  if ((flags & 0x80) && rt && S(airs_spawn_opts_init(rt, &o)) == AIRS_OK) {
    o.flags = spawn_flags(flags & 0x7);
    o.mailbox_capacity = flags >> 3 & 3;
    op = &o;
  }
  airs_pid pid = 0;
  airs_status st;
  tl_init_depth++;
  if (op)
    st = S(airs_ctx_spawn(ctx, pick_behaviour(bsel), u, ud_free, op, &pid));
  else
    st = S(airs_ctx_spawn(ctx, pick_behaviour(bsel), u, ud_free, NULL, &pid));
  tl_init_depth--;
  if (st == AIRS_OK) add_pid(pid);
}

static airs_status a_init(void* ud, airs_ctx* ctx, void** state) {
  Obj* u = obj_of(ud);
  CHECK(u->magic == MAGIC_UD);
  CHECK(airs_ctx_runtime(ctx) != NULL); /* this or a scratch runtime */
  CHECK(airs_self(ctx) != AIRS_NO_PID);
  Obj* s = (Obj*)malloc(sizeof *s);
  if (!s) abort();
  *s = *u;
  s->magic = MAGIC_ST;
  s->ref = 0;
  airs_status ret = AIRS_OK;
  airs_pid target = pick_pid(u->term_op);
  switch (u->init_op % 16) {
    case 0:
    case 1: break;
    case 2: ret = AIRS_EINVAL; break;
    case 3: ret = AIRS_IGNORE; break;
    case 4:
      /* A process cannot end in its init: the spawn fails with ESTATE and
       * terminate never runs, so the state is ours to free. */
      if (S(airs_exit(ctx, AIRS_EXIT_ERROR, 1, "init exit")) == AIRS_OK) {
        free(s);
        return AIRS_OK;
      }
      break;
    case 5: S(airs_link(ctx, target)); break;
    case 6: S(airs_monitor(ctx, target, &s->ref)); break;
    case 7: S(airs_trap_exit(ctx, true)); break;
    case 8: S(airs_register(airs_ctx_runtime(ctx), "a", airs_self(ctx))); break;
    case 9:
      S(airs_subscribe(airs_ctx_runtime(ctx), "prices", airs_self(ctx)));
      break;
    case 10:
      S(airs_link(ctx, target));
      ret = AIRS_EINTERNAL;
      break;
    case 11: S(airs_ctx_send(ctx, airs_self(ctx), 5, NULL, 0)); break;
    case 12: {
      Reader r = {&u->term_op, 1};
      ctx_spawn_child(ctx, &r, AIRS_SPAWN_LINK | (u->flags & 0x80));
      break;
    }
    case 13: {
      Reader r = {&u->flags, 1};
      ctx_spawn_child(ctx, &r, 0);
      break;
    }
    case 14: {
      /* Inside a start of the supervisor `target`, if it is one: the
       * call is refused, never waited for. */
      airs_child_info info[2];
      size_t n = 0;
      S(airs_supervisor_which_children(airs_ctx_runtime(ctx), target, info, 2,
                                       &n));
      break;
    }
    default: {
      airs_child_spec c;
      CHECK(airs_child_spec_init(&c) == AIRS_OK);
      c.id = pick_id(u->flags);
      c.behaviour = &b_min;
      c.restart = AIRS_RESTART_TEMPORARY;
      airs_pid pid = 0;
      if (S(airs_supervisor_start_child(airs_ctx_runtime(ctx), target, &c,
                                        &pid)) == AIRS_OK)
        add_pid(pid);
      break;
    }
  }
  if (ret != AIRS_OK) {
    free(s);
    return ret;
  }
  *state = s;
  return AIRS_OK;
}

static void a_terminate(void* state, airs_ctx* ctx, const airs_reason* reason) {
  Obj* s = obj_of(state);
  (void)airs_reason_kind(reason);
  (void)airs_reason_code(reason);
  CHECK(airs_reason_text(reason) != NULL);
  atomic_store(&g_stale_ctx, (void*)ctx);
  if (spend()) {
    airs_pid target = pick_pid(s->init_op);
    uint64_t ref = 0;
    switch (s->term_op % 6) {
      case 0: break;
      case 1: S(airs_ctx_send(ctx, target, 3, "bye", 3)); break;
      case 2: S(airs_link(ctx, target)); break;
      case 3: S(airs_monitor(ctx, target, &ref)); break;
      case 4: S(airs_unlink(ctx, target)); break;
      default: {
        airs_payload* p = NULL;
        if (S(airs_payload_new("t", 1, &p)) == AIRS_OK) {
          S(airs_publish(airs_ctx_runtime(ctx), "prices", 4, p, NULL));
          airs_payload_release(p);
        }
        break;
      }
    }
  }
  if (state && s->magic == MAGIC_ST) {
    s->magic = 0;
    free(s);
  }
}

static airs_health a_health(void* state, airs_ctx* ctx) {
  Obj* s = obj_of(state);
  (void)ctx;
  return (airs_health)s->health; /* 3..7 are out of range, on purpose */
}

/* Blocking and runtime-level calls inside a callback: each must refuse. */
static void inside_checks(airs_ctx* ctx, uint8_t b) {
  airs_runtime* rt = airs_ctx_runtime(ctx);
  switch (b % 7) {
    case 5: {
      /* [any thread] calls on the clock, from a callback. */
      int64_t ms = 0;
      S(airs_runtime_next_timer_ms(rt, &ms));
      S(airs_runtime_advance_time(rt, b >> 3));
      break;
    }
    case 6: {
      airs_runtime_stats st;
      memset(&st, 0, sizeof st);
      st.version = AIRS_RUNTIME_STATS_VERSION;
      st.size = sizeof st;
      S(airs_runtime_stats_get(rt, &st));
      CHECK(st.processes_alive >= 1);
      break;
    }
    case 0: CHECK(airs_wait(rt, airs_self(ctx), 1) == AIRS_ESTATE); break;
    case 1: CHECK(airs_runtime_poll(rt, 1, NULL) == AIRS_ESTATE); break;
    case 2: {
      airs_msg* m = NULL;
      airs_msg* reply = NULL;
      if (S(airs_msg_new(1, NULL, 0, &m)) == AIRS_OK) {
        CHECK(airs_call(rt, airs_self(ctx), m, 1, &reply) == AIRS_ESTATE);
        airs_msg_free(m);
      }
      break;
    }
    case 3:
      /* Does nothing but set the last error message. */
      airs_runtime_free(rt);
      CHECK(airs_is_alive(rt, airs_self(ctx)));
      break;
    default: {
      airs_child_counts c;
      S(airs_supervisor_count_children(rt, airs_self(ctx), &c));
      break;
    }
  }
}

static void script_spec_op(airs_ctx* ctx, Reader* r) {
  airs_runtime* rt = airs_ctx_runtime(ctx);
  uint8_t op = u8(r);
  airs_pid sup = pick_pid(u8(r));
  switch (op % 9) {
    case 6:
      S(airs_supervisor_terminate_child_pid(rt, sup, pick_pid(u8(r))));
      break;
    case 7: S(airs_supervisor_delete_child(rt, sup, pick_id(u8(r)))); break;
    case 8: {
      airs_child_counts c;
      S(airs_supervisor_count_children(rt, sup, &c));
      break;
    }
    case 0: {
      airs_sup_spec* spec = atomic_load(&g_shared_specs[u8(r) % NSHARED_SPECS]);
      airs_pid pid = 0;
      if (S(airs_supervisor_start(rt, spec, &pid)) == AIRS_OK) {
        add_pid(pid);
        if (op & 0x80) S(airs_link(ctx, pid)); /* OTP's start_link */
      }
      break;
    }
    case 1: {
      airs_child_info info[4];
      size_t n = 0;
      S(airs_supervisor_which_children(rt, sup, info, u8(r) % 5, &n));
      break;
    }
    case 2: S(airs_supervisor_terminate_child(rt, sup, pick_id(u8(r)))); break;
    case 3: {
      airs_pid pid = 0;
      S(airs_supervisor_restart_child(rt, sup, pick_id(u8(r)), &pid));
      add_pid(pid);
      break;
    }
    case 4: {
      airs_child_spec c;
      airs_child_spec_init(&c);
      c.id = pick_id(u8(r));
      c.behaviour = &b_full;
      c.user_data = ud_new(r, 0);
      c.user_data_free = ud_free;
      c.restart = pick_enum(u8(r), 3);
      c.shutdown_ms = u8(r) % 4;
      airs_pid pid = 0;
      S(airs_supervisor_start_child(rt, sup, &c, &pid));
      add_pid(pid);
      break;
    }
    default: {
      airs_pid pid = 0;
      Obj* u = ud_new(r, 0);
      S(airs_supervisor_start_dynamic_child(rt, sup, u, ud_free, &pid));
      add_pid(pid);
      break;
    }
  }
}

/* Runs one script: at most MAX_SCRIPT_OPS operations of the budget. */
static airs_status run_script(Obj* s, airs_ctx* ctx, const airs_msg* msg,
                              Reader r) {
  airs_runtime* rt = airs_ctx_runtime(ctx);
  airs_pid self = airs_self(ctx);
  CHECK(rt != NULL);
  CHECK(self != AIRS_NO_PID);
  for (int i = 0; i < MAX_SCRIPT_OPS && r.n > 0 && spend(); i++) {
    uint8_t op = u8(&r);
    switch (op % 24) {
      case 0:
      case 1: { /* send a part of this script */
        airs_pid to = pick_pid(u8(&r));
        Reader sub = take(&r, u8(&r) % 16);
        S(airs_ctx_send(ctx, op & 0x80 ? self : to, 1 + (op >> 5 & 3), sub.p,
                        sub.n));
        break;
      }
      case 2: ctx_spawn_child(ctx, &r, u8(&r)); break;
      case 3: S(airs_link(ctx, pick_pid(u8(&r)))); break;
      case 4: S(airs_unlink(ctx, pick_pid(u8(&r)))); break;
      case 5: S(airs_monitor(ctx, pick_pid(u8(&r)), &s->ref)); break;
      case 6: S(airs_demonitor(ctx, op & 0x80 ? s->ref : u64(&r))); break;
      case 7: S(airs_trap_exit(ctx, op & 0x80)); break;
      case 8: {
        int kind = pick_enum(u8(&r), 6);
        S(airs_exit(ctx, (airs_exit_kind)kind, (int32_t)u16(&r),
                    op & 0x80 ? NULL : "scripted"));
        return AIRS_OK;
      }
      case 9: return (airs_status)(1 + u8(&r) % 12); /* a failure */
      case 10: {                                     /* a request */
        airs_msg* m = NULL;
        Reader sub = take(&r, u8(&r) % 8);
        if (S(airs_msg_new(2, sub.p, sub.n, &m)) != AIRS_OK) break;
        uint64_t corr = 0;
        uint32_t timeout = op & 0x80 ? 0 : 1 + u8(&r) % 5;
        if (S(airs_request(ctx, pick_pid(u8(&r)), m, timeout, &corr)) !=
            AIRS_OK)
          airs_msg_free(m);
        break;
      }
      case 11: { /* reply */
        airs_msg* m = NULL;
        if (S(airs_msg_new(3, NULL, 0, &m)) != AIRS_OK) break;
        if (S(airs_reply(ctx, msg, m)) != AIRS_OK) airs_msg_free(m);
        break;
      }
      case 12: {
        const char* topic = pick_name(u8(&r));
        switch (op >> 5 & 3) {
          case 0: S(airs_subscribe(rt, topic, self)); break;
          case 1: S(airs_unsubscribe(rt, topic, self)); break;
          default: {
            Reader sub = take(&r, u8(&r) % 16);
            airs_payload* p = NULL;
            size_t n = 0;
            if (S(airs_payload_new(sub.p, sub.n, &p)) == AIRS_OK) {
              S(airs_publish(rt, topic, 1, p, &n));
              airs_payload_release(p);
            }
            break;
          }
        }
        break;
      }
      case 13: {
        const char* name = pick_name(u8(&r));
        airs_pid pid = 0;
        switch (op >> 5 & 3) {
          case 0: S(airs_register(rt, name, self)); break;
          case 1: S(airs_unregister(rt, name)); break;
          default:
            if (S(airs_whereis(rt, name, &pid)) == AIRS_OK)
              S(airs_ctx_send(ctx, pid, 1, NULL, 0));
            break;
        }
        break;
      }
      case 14: script_spec_op(ctx, &r); break;
      case 15: {
        airs_pid pid = pick_pid(u8(&r));
        switch (op >> 5 & 3) {
          case 0: S(airs_kill(rt, pid)); break;
          case 1: S(airs_stop(rt, pid)); break;
          default:
            S(airs_send_exit(rt, pid, (airs_exit_kind)pick_enum(u8(&r), 6), 7,
                             "signal"));
            break;
        }
        break;
      }
      case 16: {
        airs_msg* m = NULL;
        if (S(airs_msg_new(4, NULL, 0, &m)) != AIRS_OK) break;
        uint64_t t = 0;
        if (S(airs_send_after(rt, op & 0x80 ? self : pick_pid(u8(&r)),
                              u8(&r) % 4, m, &t)) != AIRS_OK)
          airs_msg_free(m);
        else if (op & 0x40)
          S(airs_cancel_timer(rt, t));
        break;
      }
      case 17: inside_checks(ctx, u8(&r)); break;
      case 18: {
        const char* pool = pick_name(u8(&r));
        airs_pid pid = 0;
        switch (op >> 5 & 3) {
          case 0: S(airs_pool_join(rt, pool, self)); break;
          case 1: S(airs_pool_leave(rt, pool, self)); break;
          default:
            if (S(airs_pool_pick(rt, pool, (airs_pick)pick_enum(u8(&r), 2),
                                 &pid)) == AIRS_OK)
              S(airs_ctx_send(ctx, pid, 1, NULL, 0));
            break;
        }
        break;
      }
      case 19: { /* owned / shared / high-priority messages */
        airs_msg* m = NULL;
        airs_pid to = pick_pid(u8(&r));
        if (op & 0x80) {
          airs_payload* p = NULL;
          if (S(airs_payload_new("s", 1, &p)) != AIRS_OK) break;
          S(airs_msg_new_shared(5, p, &m));
          airs_payload_release(p);
        } else {
          char* buf = (char*)malloc(4);
          if (!buf) abort();
          memcpy(buf, "own", 4);
          if (S(airs_msg_new_owned(5, buf, 4, free, &m)) != AIRS_OK) free(buf);
        }
        if (!m) break;
        S(airs_msg_set_priority(m, (airs_priority)pick_enum(u8(&r), 2)));
        S(airs_msg_set_correlation(m, u8(&r)));
        if (S(airs_ctx_send_msg(ctx, to, m)) != AIRS_OK) airs_msg_free(m);
        break;
      }
      case 20: {
        uint64_t v = 0;
        S(airs_process_stat_get(rt, op & 0x80 ? self : pick_pid(u8(&r)),
                                (airs_process_stat)pick_enum(u8(&r), 6), &v));
        break;
      }
      case 21:
        /* Kept: used later from another thread, it must be refused. */
        atomic_store(&g_stale_ctx, (void*)ctx);
        break;
      case 22: {
        airs_pid pid = 0;
        airs_status st;
        if (op & 0x80) {
          Obj* u = ud_new(&r, 0);
          st =
              S(airs_spawn(rt, pick_behaviour(u8(&r)), u, ud_free, NULL, &pid));
        } else {
          /* LINK is refused without a calling process, but this is one. */
          airs_spawn_opts o;
          S(airs_spawn_opts_init(rt, &o));
          o.flags = AIRS_SPAWN_LINK | AIRS_SPAWN_TRAP_EXIT;
          Obj* u = ud_new(&r, 0);
          u->init_op %= 8;
          st = S(airs_spawn(rt, &b_full, u, ud_free, &o, &pid));
        }
        if (st == AIRS_OK) add_pid(pid);
        break;
      }
      default: call_in(u8(&r), pick_pid(u8(&r))); break;
    }
  }
  return AIRS_OK;
}

/* A socket's message to its owner: accepted sockets are set active (or
 * closed), data is echoed, credit re-armed; each costs budget, so two
 * echoing actors stop. */
static airs_status on_socket_msg(airs_ctx* ctx, const airs_msg* msg) {
  airs_runtime* rt = airs_ctx_runtime(ctx);
  airs_socket sock = airs_msg_correlation(msg);
  uint64_t type = airs_msg_type(msg);
  size_t n = airs_msg_size(msg);
  const uint8_t* data = (const uint8_t*)airs_msg_data(msg);
  if (!spend()) return AIRS_OK;
  switch (type) {
    case AIRS_MSG_SOCK_ACCEPTED: {
      airs_sock_accepted a;
      CHECK(n == sizeof a);
      memcpy(&a, data, sizeof a);
      add_sock(a.socket);
      if (a.socket % 4 == 0)
        S(airs_socket_close(rt, a.socket));
      else
        S(airs_socket_set_active(rt, a.socket,
                                 a.socket % 2 ? AIRS_ACTIVE_ALWAYS : 1));
      break;
    }
    case AIRS_MSG_SOCK_DATA:
      CHECK(n > 0);
      S(airs_socket_send(rt, sock, data, n, n & 1));
      break;
    case AIRS_MSG_SOCK_DATAGRAM: {
      airs_datagram d;
      const void* bytes;
      if (S(airs_datagram_read(msg, &d, &bytes)) == AIRS_OK && d.size > 0)
        S(airs_udp_send(rt, sock, &d.from, bytes, d.size));
      break;
    }
    case AIRS_MSG_SOCK_PASSIVE: S(airs_socket_set_active(rt, sock, 2)); break;
    case AIRS_MSG_SOCK_CONNECTED:
      S(airs_socket_set_active(rt, sock, AIRS_ACTIVE_ALWAYS));
      S(airs_socket_send(rt, sock, "hello", 5, 9));
      break;
    case AIRS_MSG_SOCK_EOF: S(airs_socket_close(rt, sock)); break;
    case AIRS_MSG_SOCK_ERROR:
    case AIRS_MSG_SOCK_ACCEPT_ERROR: {
      airs_sock_error e;
      CHECK(n == sizeof e);
      memcpy(&e, data, sizeof e);
      CHECK(e.err > 0 && memchr(e.text, 0, sizeof e.text) != NULL);
      if (type == AIRS_MSG_SOCK_ERROR) /* the socket is gone already */
        CHECK(airs_socket_close(rt, sock) == AIRS_ENOTFOUND);
      break;
    }
    default: break; /* SENT, WRITABLE */
  }
  return AIRS_OK;
}

static airs_status a_receive(void* state, airs_ctx* ctx, const airs_msg* msg) {
  Obj* s = obj_of(state);
  uint64_t type = airs_msg_type(msg);
  (void)airs_msg_sender(msg);
  (void)airs_msg_priority(msg);
  airs_payload* p = airs_msg_payload(msg);
  if (p) {
    airs_payload_retain(p);
    CHECK(airs_payload_size(p) == airs_msg_size(msg));
    airs_payload_release(p);
  }
  if (type == AIRS_MSG_EXIT) {
    const airs_reason* why = airs_msg_reason(msg);
    airs_exit_kind k = airs_reason_kind(why);
    int shutdown = k == AIRS_EXIT_SHUTDOWN;
    if (shutdown ? !(s->flags & OBJ_IGNORE_SHUTDOWN)
                 : !(s->flags & OBJ_IGNORE_EXITS) && k != AIRS_EXIT_NORMAL)
      return airs_exit(ctx, k == AIRS_EXIT_NOPROC ? AIRS_EXIT_ERROR : k,
                       airs_reason_code(why), airs_reason_text(why));
    return AIRS_OK;
  }
  if (type == AIRS_MSG_DOWN) {
    CHECK(airs_msg_reason(msg) != NULL);
    (void)airs_reason_text(airs_msg_reason(msg));
    return AIRS_OK;
  }
  if (type == AIRS_MSG_TIMEOUT) return AIRS_OK;
  if (type >= AIRS_MSG_SOCK_DATA && type <= AIRS_MSG_SOCK_ACCEPT_ERROR)
    return on_socket_msg(ctx, msg);
  if (airs_msg_size(msg) == 0)
    return (s->flags & OBJ_CRASH_ON_EMPTY) ? AIRS_EINTERNAL : AIRS_OK;
  Reader r = {(const uint8_t*)airs_msg_data(msg), airs_msg_size(msg)};
  return run_script(s, ctx, msg, r);
}

/* ---- hooks ------------------------------------------------------------- */

static void dead_letter_hook(void* user_data, airs_pid to, const airs_msg* msg,
                             airs_dead_letter_reason reason) {
  CHECK(user_data == &g_dl_mode);
  CHECK(reason >= AIRS_DEAD_LETTER_MAILBOX_FULL &&
        reason <= AIRS_DEAD_LETTER_NOCONNECTION);
  (void)airs_msg_type(msg);
  (void)airs_msg_data(msg);
  (void)airs_msg_size(msg);
  unsigned mode = atomic_load(&g_dl_mode);
  if (mode % 4) call_in((uint8_t)(mode + reason), mode & 4 ? to : pick_pid(0));
}

static void event_hook(void* user_data, const airs_event* ev) {
  CHECK(user_data == &g_ev_mode);
  CHECK(ev && ev->version == AIRS_EVENT_VERSION && ev->text && ev->id);
  (void)strlen(ev->text);
  (void)strlen(ev->id);
  if (ev->reason) (void)airs_reason_text(ev->reason);
  unsigned mode = atomic_load(&g_ev_mode);
  airs_runtime* rt = rt_now();
  if (!rt || tl_hook_depth > 0 || mode % 8 == 0 || !spend()) return;
  tl_hook_depth++;
  switch (mode % 8) {
    case 1: {
      airs_child_info info[2];
      size_t n = 0;
      /* On its source supervisor: refused (ESTATE), never a deadlock. */
      S(airs_supervisor_which_children(rt, ev->source, info, 2, &n));
      break;
    }
    case 2: {
      airs_child_counts c;
      S(airs_supervisor_count_children(rt, pick_pid((uint8_t)ev->kind), &c));
      break;
    }
    case 3:
      if (ev->kind == AIRS_EVENT_CHILD_STARTED) S(airs_kill(rt, ev->pid));
      break;
    case 4: S(airs_send(rt, ev->pid, 1, NULL, 0)); break;
    case 5:
      S(airs_supervisor_terminate_child(rt, pick_pid((uint8_t)ev->kind), "w1"));
      break;
    case 6: {
      airs_pid pid = 0;
      S(airs_supervisor_restart_child(rt, ev->source, ev->id, &pid));
      add_pid(pid);
      break;
    }
    default: S(airs_stop(rt, ev->pid)); break;
  }
  tl_hook_depth--;
}

static void thread_hook(void* user_data, int started) {
  ThreadCount* t = (ThreadCount*)user_data;
  CHECK(t == &g_threads || t == &g_threads2);
  atomic_fetch_add(started ? &t->started : &t->ended, 1);
}

/* ---- supervisor specs -------------------------------------------------- */

typedef struct Main {
  airs_sup_spec* specs[NSPECS];
  int spec_shared[NSPECS]; /* frozen and given to callbacks: freed last */
  airs_sup_spec* deferred[64];
  int ndeferred;
  uint64_t timers[NTIMERS];
  airs_payload* payloads[NPAYLOADS];
} Main;

static void share_spec(Main* m, int i) {
  if (!m->specs[i] || m->spec_shared[i]) return;
  m->spec_shared[i] = 1;
  for (int j = 0; j < NSHARED_SPECS; j++) {
    if (!atomic_load(&g_shared_specs[j])) {
      atomic_store(&g_shared_specs[j], m->specs[i]);
      return;
    }
  }
}

static void free_spec(Main* m, int i) {
  if (!m->specs[i]) return;
  if (m->spec_shared[i] && m->ndeferred < 64)
    m->deferred[m->ndeferred++] = m->specs[i];
  else if (!m->spec_shared[i])
    airs_sup_spec_free(m->specs[i]);
  m->specs[i] = NULL;
  m->spec_shared[i] = 0;
}

static void op_spec_new(Main* m, Reader* r) {
  int i = u8(r) % NSPECS;
  airs_sup_flags f;
  CHECK(airs_sup_flags_init(&f) == AIRS_OK);
  uint8_t sel = u8(r);
  f.strategy = pick_enum(u8(r), 4);
  static const uint32_t intens[] = {0, 1, 2, 3, 5, 1000000000u, 1000000001u};
  f.intensity = intens[u8(r) % 7];
  static const uint32_t periods[] = {0,    1,           5,          100,
                                     5000, 0x7fffffffu, 0x80000000u};
  f.period_ms = periods[u8(r) % 7];
  if (sel & 1 && !g_manual) {
    f.backoff_base_ms = u8(r) % 3;
    f.backoff_max_ms = u8(r) % 4;
  }
  if (sel & 2) f.auto_shutdown = pick_enum(u8(r), 3);
  if (sel & 4) {
    f.health_interval_ms = u8(r) % 3;
    f.health_timeout_ms = u8(r) % 3;
    f.health_threshold = u8(r) % 3;
  }
  if (sel & 8) f.version = u8(r) % 3;
  if (sel & 16) f.size = u8(r);
  airs_sup_spec* spec = NULL;
  airs_status st = S(airs_sup_spec_new(sel & 32 ? NULL : &f, &spec));
  if (st == AIRS_OK) {
    CHECK(spec != NULL);
    free_spec(m, i);
    m->specs[i] = spec;
  }
}

/* A child spec from the input, valid or not. The user_data is always
 * taken by the call it is passed to. */
static void make_child(Main* m, Reader* r, airs_child_spec* c,
                       airs_spawn_opts* opts) {
  CHECK(airs_child_spec_init(c) == AIRS_OK);
  uint8_t sel = u8(r);
  c->id = pick_id(u8(r));
  c->restart = pick_enum(u8(r), 3);
  c->shutdown = pick_enum(u8(r), 4);
  static const uint32_t sms[] = {0, 1, 2, 3600001u};
  c->shutdown_ms = sms[u8(r) % 4];
  if (sel & 1) c->type = pick_enum(u8(r), 2);
  if (sel & 2) c->flags = u8(r) % 3;
  if (sel & 4) c->name = pick_name(u8(r));
  if (sel & 8) {
    airs_runtime* rt = rt_now();
    airs_spawn_opts_init(rt, opts);
    uint8_t o = u8(r);
    opts->flags = spawn_flags(o & 7);
    opts->mailbox_capacity = o >> 3 & 3;
    opts->mailbox_policy = pick_enum(u8(r), 3);
    opts->block_timeout_ms = o & 0x80 ? 0 : 1 + (o >> 5 & 1);
    c->opts = opts;
  }
  if (sel & 16) c->version = 0;
  if (sel & 32) { /* a nested supervisor */
    c->supervisor = m->specs[u8(r) % NSPECS];
    if (sel & 64) c->behaviour = &b_full; /* both: refused */
  } else {
    c->behaviour = pick_behaviour(u8(r));
  }
  /* A worker that waits for ever must not ignore its shutdown. */
  int infinity = c->shutdown == AIRS_SHUTDOWN_INFINITY ||
                 (c->shutdown == AIRS_SHUTDOWN_DEFAULT &&
                  c->type == AIRS_CHILD_SUPERVISOR);
  if (sel & 128) {
    c->user_data = NULL;
    c->user_data_free = NULL;
    if (c->behaviour == &b_full || c->behaviour == &b_bigsize.b ||
        c->behaviour == &b_noreceive)
      c->behaviour = &b_min; /* an init would need a user_data */
  } else {
    c->user_data = ud_new(r, infinity);
    c->user_data_free = ud_free;
  }
}

static int spec_index_of(Main* m, const airs_sup_spec* s) {
  for (int i = 0; i < NSPECS; i++)
    if (s && m->specs[i] == s) return i;
  return -1;
}

static void op_add_child(Main* m, Reader* r) {
  int i = u8(r) % NSPECS;
  airs_child_spec c;
  airs_spawn_opts opts;
  make_child(m, r, &c, &opts);
  airs_status st = S(airs_sup_spec_add_child(m->specs[i], &c));
  if (st == AIRS_OK && c.supervisor)
    share_spec(m, spec_index_of(m, c.supervisor));
}

/* ---- the main thread's operations --------------------------------------- */

static void drain(airs_runtime* rt, int rounds) {
  if (g_threaded) return;
  for (int i = 0; i < rounds; i++) {
    uint32_t ran = 0;
    if (S(airs_runtime_poll(rt, 64, &ran)) != AIRS_OK || ran == 0) break;
  }
}

static airs_msg* make_msg(Reader* r, uint8_t sel) {
  airs_msg* m = NULL;
  uint64_t type = sel & 0x40 ? AIRS_MSG_SYSTEM_BASE + (sel & 3) : 1 + (sel & 3);
  Reader data = take(r, u8(r) % 48);
  switch (sel % 3) {
    case 0: S(airs_msg_new(type, data.p, data.n, &m)); break;
    case 1: {
      void* buf = malloc(data.n ? data.n : 1);
      if (!buf) abort();
      if (data.n) memcpy(buf, data.p, data.n);
      if (S(airs_msg_new_owned(type, buf, data.n, free, &m)) != AIRS_OK)
        free(buf);
      break;
    }
    default: {
      airs_payload* p = NULL;
      if (S(airs_payload_new(data.p, data.n, &p)) == AIRS_OK) {
        S(airs_msg_new_shared(type, p, &m));
        airs_payload_release(p);
      }
      break;
    }
  }
  if (type >= AIRS_MSG_SYSTEM_BASE) CHECK(m == NULL);
  if (m && (sel & 0x80)) {
    S(airs_msg_set_priority(m, (airs_priority)pick_enum(u8(r), 2)));
    S(airs_msg_set_correlation(m, u8(r)));
  }
  return m;
}

static void op_null_handles(uint8_t which, airs_runtime* bad,
                            airs_status want) {
  airs_pid pid = 0;
  uint64_t v = 0;
  size_t n = 0;
  airs_status st;
  switch (which % 20) {
    case 0: st = airs_send(bad, 1, 1, NULL, 0); break;
    case 1: st = airs_spawn(bad, &b_min, NULL, NULL, NULL, &pid); break;
    case 2: st = airs_runtime_poll(bad, 1, NULL); break;
    case 3: st = airs_register(bad, "a", 1); break;
    case 4: st = airs_whereis(bad, "a", &pid); break;
    case 5: st = airs_subscribe(bad, "a", 1); break;
    case 6: st = airs_pool_members(bad, "a", NULL, 0, &n); break;
    case 7: {
      airs_child_counts c;
      st = airs_supervisor_count_children(bad, 1, &c);
      break;
    }
    case 8: st = airs_send_exit(bad, 1, AIRS_EXIT_KILLED, 0, NULL); break;
    case 9: st = airs_wait(bad, 1, 1); break;
    case 10: st = airs_cancel_timer(bad, 1); break;
    case 11: st = airs_runtime_advance_time(bad, 1); break;
    case 12: st = airs_set_dead_letter_hook(bad, NULL, NULL); break;
    case 13: st = airs_set_event_hook(bad, NULL, NULL); break;
    case 14:
      st = airs_process_stat_get(bad, 1, AIRS_PSTAT_MAILBOX_DEPTH, &v);
      break;
    case 15: {
      airs_runtime_stats s;
      memset(&s, 0, sizeof s);
      s.version = AIRS_RUNTIME_STATS_VERSION;
      s.size = sizeof s;
      st = airs_runtime_stats_get(bad, &s);
      break;
    }
    case 16: {
      airs_spawn_opts o;
      st = airs_spawn_opts_init(bad, &o);
      break;
    }
    case 17: {
      int64_t ms = 0;
      st = airs_runtime_next_timer_ms(bad, &ms);
      break;
    }
    case 18: st = airs_supervisor_terminate_child(bad, 1, "w1"); break;
    default: {
      airs_payload* p = NULL;
      if (airs_payload_new("x", 1, &p) != AIRS_OK) return;
      st = airs_publish(bad, "a", 1, p, &n);
      airs_payload_release(p);
      break;
    }
  }
  CHECK(st == want);
  CHECK(!bad || !airs_is_alive(bad, 1));
}

static void op_scratch_config(Reader* r) {
  airs_config* cfg = NULL;
  CHECK(airs_config_new(&cfg) == AIRS_OK);
  int nsets = 1 + u8(r) % 4;
  for (int i = 0; i < nsets; i++) {
    uint8_t k = u8(r);
    int key = k < 240 ? k % 12 : (int)(int8_t)k * 1000;
    int64_t vals[] = {0,
                      1,
                      -1,
                      2,
                      1025,
                      3600001,
                      ((int64_t)1 << 30) + 1,
                      INT64_MIN,
                      INT64_MAX,
                      (int64_t)u32(r)};
    int64_t val = vals[u8(r) % 10];
    airs_status st = S(airs_config_set(cfg, (airs_config_key)key, val));
    int64_t back = 0;
    airs_status gst = S(airs_config_get(cfg, (airs_config_key)key, &back));
    if (st == AIRS_OK) CHECK(gst == AIRS_OK && back == val);
  }
  S(airs_config_set_thread_hook(cfg, u8(r) & 1 ? thread_hook : NULL,
                                &g_threads2));
  CHECK(airs_config_set(NULL, AIRS_CFG_WORKERS, 0) == AIRS_EINVAL);
  CHECK(airs_config_get(cfg, AIRS_CFG_WORKERS, NULL) == AIRS_EINVAL);
  /* A second runtime from it, when it is cheap (few threads). */
  int64_t workers = 0, max = 0;
  if (u8(r) & 1 && airs_config_get(cfg, AIRS_CFG_WORKERS, &workers) == 0 &&
      airs_config_get(cfg, AIRS_CFG_MAX_PROCESSES, &max) == 0 && workers <= 1) {
    airs_runtime* rt2 = NULL;
    S(airs_config_set(cfg, AIRS_CFG_SHUTDOWN_TIMEOUT_MS, 1));
    if (S(airs_runtime_new(cfg, &rt2)) == AIRS_OK) {
      airs_pid pid = 0;
      Obj* u = ud_new(r, 1);
      u->init_op = 0;
      if (S(airs_spawn(rt2, &b_full, u, ud_free, NULL, &pid)) == AIRS_OK)
        S(airs_send(rt2, pid, 1, NULL, 0));
      airs_runtime_free(rt2);
      CHECK(atomic_load(&g_threads2.started) == atomic_load(&g_threads2.ended));
      op_null_handles(u8(r), rt2, AIRS_ESTATE);
      airs_runtime_free(rt2); /* twice: does nothing */
    }
  }
  airs_config_free(cfg);
}

static void op_misc(Reader* r) {
  uint8_t sel = u8(r);
  switch (sel % 8) {
    case 0: {
      int v = pick_enum(u8(r), 15);
      (void)airs_strerror((airs_status)v);
      break;
    }
    case 1: (void)strlen(airs_last_error_message()); break;
    case 2: {
      uint32_t v = u8(r) & 1 ? airs_version() : u32(r);
      airs_status st = S(airs_check_abi(v));
      if (v == AIRS_VERSION_NUMBER) CHECK(st == AIRS_OK);
      (void)airs_version_string();
      break;
    }
    case 3: {
      airs_payload* p = NULL;
      size_t want;
      Reader d = take(r, u8(r) % 16);
      if (sel & 0x80) {
        void* buf = malloc(d.n ? d.n : 1);
        if (!buf) abort();
        if (d.n) memcpy(buf, d.p, d.n);
        if (S(airs_payload_wrap(buf, d.n, free, &p)) != AIRS_OK) free(buf);
        want = d.n;
      } else if (sel & 0x40) { /* NULL data: refused unless the size is 0 */
        want = sel & 0x20 ? 0 : d.n + 1;
        S(airs_payload_new(NULL, want, &p));
      } else {
        want = d.n;
        S(airs_payload_new(d.p, d.n, &p));
      }
      if (p) {
        airs_payload_retain(p);
        CHECK(airs_payload_size(p) == want);
        (void)airs_payload_data(p);
        airs_payload_release(p);
        airs_payload_release(p);
      }
      break;
    }
    case 4: {
      airs_msg* m = NULL;
      CHECK(airs_msg_new(1, NULL, 1, &m) == AIRS_EINVAL);
      CHECK(airs_msg_new(1, NULL, 0, NULL) == AIRS_EINVAL);
      CHECK(airs_msg_new_shared(1, NULL, &m) == AIRS_EINVAL);
      CHECK(airs_msg_set_priority(NULL, AIRS_PRIORITY_HIGH) == AIRS_EINVAL);
      CHECK(m == NULL);
      CHECK(airs_msg_type(NULL) == 0 && airs_msg_size(NULL) == 0);
      (void)airs_msg_reason(NULL);
      (void)airs_msg_payload(NULL);
      airs_msg_free(NULL);
      airs_payload_release(NULL);
      airs_config_free(NULL);
      airs_sup_spec_free(NULL);
      airs_runtime_free(NULL);
      break;
    }
    case 5: {
      CHECK(airs_reason_kind(NULL) == AIRS_EXIT_NORMAL);
      CHECK(airs_reason_code(NULL) == 0);
      CHECK(airs_reason_text(NULL) != NULL);
      CHECK(airs_sup_flags_init(NULL) == AIRS_EINVAL);
      CHECK(airs_child_spec_init(NULL) == AIRS_EINVAL);
      CHECK(airs_sup_spec_new(NULL, NULL) == AIRS_EINVAL);
      break;
    }
    case 6: {
      /* A stale ctx, from another thread or after its callback. */
      airs_ctx* c = (airs_ctx*)atomic_load(&g_stale_ctx);
      if (!c) break;
      uint64_t ref = 0;
      CHECK(airs_self(c) == AIRS_NO_PID);
      CHECK(airs_ctx_runtime(c) == NULL);
      CHECK(airs_ctx_send(c, 1, 1, NULL, 0) == AIRS_ESTATE);
      CHECK(airs_link(c, 1) == AIRS_ESTATE);
      CHECK(airs_monitor(c, 1, &ref) == AIRS_ESTATE);
      CHECK(airs_exit(c, AIRS_EXIT_NORMAL, 0, NULL) == AIRS_ESTATE);
      CHECK(airs_trap_exit(c, true) == AIRS_ESTATE);
      CHECK(airs_ctx_spawn(c, &b_min, NULL, NULL, NULL, NULL) != AIRS_OK);
      break;
    }
    default: {
      CHECK(airs_self(NULL) == AIRS_NO_PID);
      CHECK(airs_ctx_runtime(NULL) == NULL);
      CHECK(airs_link(NULL, 1) == AIRS_EINVAL);
      CHECK(airs_reply(NULL, NULL, NULL) != AIRS_OK);
      CHECK(airs_request(NULL, 1, NULL, 1, NULL) != AIRS_OK);
      break;
    }
  }
}

static void op_sup(Main* m, airs_runtime* rt, Reader* r, uint8_t op) {
  airs_pid sup = pick_pid(u8(r));
  airs_pid pid = 0;
  switch (op) {
    case 0: { /* start */
      int i = u8(r) % NSPECS;
      airs_sup_spec* spec = m->specs[i];
      if (S(airs_supervisor_start(rt, spec, &pid)) == AIRS_OK) {
        add_pid(pid);
        share_spec(m, i);
      }
      break;
    }
    case 1: {
      airs_child_spec c;
      airs_spawn_opts opts;
      make_child(m, r, &c, &opts);
      S(airs_supervisor_start_child(rt, sup, &c, &pid));
      add_pid(pid);
      break;
    }
    case 2: {
      Obj* u = u8(r) & 1 ? NULL : ud_new(r, 0);
      S(airs_supervisor_start_dynamic_child(rt, sup, u, u ? ud_free : NULL,
                                            &pid));
      add_pid(pid);
      break;
    }
    case 3: S(airs_supervisor_terminate_child(rt, sup, pick_id(u8(r)))); break;
    case 4:
      S(airs_supervisor_terminate_child_pid(rt, sup, pick_pid(u8(r))));
      break;
    case 5:
      S(airs_supervisor_restart_child(rt, sup, pick_id(u8(r)), &pid));
      add_pid(pid);
      break;
    case 6: S(airs_supervisor_delete_child(rt, sup, pick_id(u8(r)))); break;
    case 7: {
      airs_child_info info[6];
      size_t n = 0;
      uint8_t cap = u8(r) % 7;
      airs_status st = S(airs_supervisor_which_children(
          rt, sup, cap ? info : NULL, cap ? cap - 1u : 0, &n));
      if (st == AIRS_OK) {
        for (size_t i = 0; i < n && i + 1 < cap; i++) {
          CHECK(memchr(info[i].id, 0, sizeof info[i].id) != NULL);
          add_pid(info[i].pid);
        }
      }
      S(airs_supervisor_which_children(rt, sup, info, 1, NULL));
      break;
    }
    default: {
      airs_child_counts c;
      airs_status st = S(airs_supervisor_count_children(rt, sup, &c));
      if (st == AIRS_OK) CHECK(c.active <= 1000);
      break;
    }
  }
}

/* An address to bind or connect to, loopback only: port 0 (any), a
 * remembered socket's own address, a port nothing listens on, or bad. */
static airs_addr fuzz_addr(airs_runtime* rt, Reader* r) {
  uint8_t sel = u8(r);
  airs_addr a;
  memset(&a, 0, sizeof a);
  a.family = sel & 1 ? AIRS_AF_INET6 : AIRS_AF_INET4;
  if (a.family == AIRS_AF_INET4) {
    a.ip[0] = 127;
    a.ip[3] = 1;
  } else {
    a.ip[15] = 1;
  }
  switch (sel >> 1 & 3) {
    case 0: break;
    case 1: S(airs_socket_addr(rt, pick_sock(u8(r)), &a, NULL)); break;
    case 2: a.port = 1; break; /* refused */
    default: a.family = (uint16_t)u8(r); break;
  }
  return a;
}

/* An fd watch's function: nothing to do (its calls are what is tested). */
static void fuzz_fd_ready(void* arg, uint64_t id, uint32_t ready) {
  (void)arg;
  (void)id;
  (void)ready;
}

static airs_msg* fuzz_job_run(void* arg) {
  airs_msg* m = NULL;
  if ((uintptr_t)arg & 1) S(airs_msg_new(3, "done", 4, &m));
  return m;
}

/* Sockets (net.h) and the blocking pool's jobs (io.h). */
static void op_io(airs_runtime* rt, Reader* r) {
  uint8_t sel = u8(r);
  airs_socket_opts o;
  const airs_socket_opts* op_ = NULL;
  if (sel & 0x80) {
    S(airs_socket_opts_init(&o));
    o.active = (int32_t)(int8_t)u8(r);
    if (sel & 0x40) o.send_buffer = u16(r);
    if (sel & 0x20) o.read_size = u16(r);
    if (sel & 0x10) o.flags = u8(r);
    op_ = &o;
  }
  switch (sel % 11) {
    case 0: {
      airs_addr a = fuzz_addr(rt, r);
      airs_socket s = 0;
      S(airs_tcp_listen(rt, pick_pid(u8(r)), &a, op_, &s));
      add_sock(s);
      break;
    }
    case 1: {
      airs_addr a = fuzz_addr(rt, r);
      airs_socket s = 0;
      S(airs_tcp_connect(rt, pick_pid(u8(r)), &a, u8(r) % 50, op_, &s));
      add_sock(s);
      break;
    }
    case 2: {
      airs_addr a = fuzz_addr(rt, r);
      airs_socket s = 0;
      S(airs_udp_open(rt, pick_pid(u8(r)), &a, op_, &s));
      add_sock(s);
      break;
    }
    case 3: {
      Reader d = take(r, u8(r) % 32);
      S(airs_socket_send(rt, pick_sock(u8(r)), d.n ? d.p : NULL, d.n, u8(r)));
      break;
    }
    case 4: {
      airs_addr a = fuzz_addr(rt, r);
      Reader d = take(r, u8(r) % 32);
      S(airs_udp_send(rt, pick_sock(u8(r)), &a, d.n ? d.p : NULL, d.n));
      break;
    }
    case 5:
      S(airs_socket_set_active(rt, pick_sock(u8(r)), (int32_t)(int8_t)u8(r)));
      break;
    case 6: {
      airs_socket s = pick_sock(u8(r));
      switch (u8(r) % 4) {
        case 0: S(airs_socket_give(rt, s, pick_pid(u8(r)))); break;
        case 1: S(airs_socket_shutdown(rt, s)); break;
        case 2: S(airs_socket_close(rt, s)); break;
        default: {
          airs_addr local, peer;
          S(airs_socket_addr(rt, s, &local, u8(r) & 1 ? &peer : NULL));
          break;
        }
      }
      (void)airs_socket_count(rt);
      break;
    }
    case 7: {
      char text[40];
      char out[64];
      Reader d = take(r, u8(r) % (sizeof text - 1));
      airs_addr a;
      memcpy(text, d.p, d.n);
      text[d.n] = '\0';
      if (S(airs_addr_parse(text, &a)) == AIRS_OK)
        CHECK(airs_addr_format(&a, out, sizeof out) == AIRS_OK);
      S(airs_addr_format(&a, out, u8(r) % 70));
      break;
    }
    case 8: {
      int fd = -2;
      airs_status st = S(airs_runtime_fd(rt, &fd));
      CHECK(st == AIRS_OK ? fd >= 0 : fd == -1);
      if (st == AIRS_OK) CHECK(!g_threaded);
      break;
    }
    case 9: { /* fd watches: their ids share the socket slots */
      int fds[2];
      uint8_t how = u8(r);
      if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) break;
      if (how & 1) CHECK(write(fds[1], "w", 1) == 1);
      uint64_t id = 0;
      if (how & 64) /* with a function instead of an owner */
        S(airs_fd_watch_fn(rt,
                           how & 2   ? fds[0]
                           : how & 4 ? fds[1]
                                     : -1,
                           u8(r) % 5, how & 128 ? NULL : fuzz_fd_ready, NULL,
                           how & 8 ? NULL : &id));
      else
        S(airs_fd_watch(rt,
                        how & 2   ? fds[0]
                        : how & 4 ? fds[1]
                                  : -1,
                        u8(r) % 5, pick_pid(u8(r)), how & 8 ? NULL : &id));
      add_sock(id);
      close(fds[0]); /* the watch keeps its duplicate */
      close(fds[1]);
      airs_socket w = pick_sock(u8(r));
      if (how & 16) S(airs_fd_rearm(rt, w, u8(r) % 5));
      if (how & 32) S(airs_fd_unwatch(rt, w));
      break;
    }
    default: {
      airs_job job;
      S(airs_job_init(&job));
      job.job_class = (int32_t)(u8(r) % 3); /* 2: refused */
      job.run = sel & 0x40 ? NULL : fuzz_job_run;
      job.arg = (void*)(uintptr_t)u8(r);
      job.reply_to = pick_pid(u8(r));
      if (sel & 0x20) job.version = 2;
      uint64_t id = 0;
      atomic_store(&g_pool_used, 1);
      atomic_store(&g_jobs_used, 1);
      S(airs_job_submit(rt, &job, &id));
      if (u8(r) & 1) S(airs_job_cancel(rt, u8(r) & 1 ? id : u64(r)));
      airs_job_stats st;
      st.version = sel & 0x10 ? 0 : AIRS_JOB_STATS_VERSION;
      st.size = (uint32_t)sizeof st;
      S(airs_job_stats_get(rt, &st));
      break;
    }
  }
}

/* observe.h: every reader with fuzzed arguments and pids. */
static int count_node(void* user_data, const airs_tree_node* node) {
  int* n = (int*)user_data;
  (void)node;
  return ++*n >= 64; /* and a walk that stops early */
}

/* Timing patterns: the names pick_name gives, globs over them, and a
 * malformed one (a trailing backslash). */
static const char* pick_pattern(uint8_t b) {
  switch (b % 5) {
    case 0: return "*";
    case 1: return "[a-c]";
    case 2: return "w?rker";
    case 3: return "x\\";
    default: return pick_name(b >> 3);
  }
}

/* A metrics source whose text depends on its user_data: a line, an empty
 * text, or more than the room it is given. */
static size_t fuzz_source(void* user_data, char* buf, size_t capacity) {
  switch ((uintptr_t)user_data % 3) {
    case 0: return (size_t)snprintf(buf, capacity, "fuzz_source 1\n");
    case 1: return (size_t)snprintf(buf, capacity, "%s", "");
    default:
      if (capacity) buf[0] = '\0';
      return capacity + 1;
  }
}

static void op_observe(airs_runtime* rt, Reader* r) {
  uint8_t sel = u8(r);
  switch (sel % 8) {
    case 0: {
      airs_pid out[8];
      size_t n = 99, cap = u8(r) % 9;
      uint64_t next = 0;
      airs_status st = S(airs_process_list(
          rt, sel & 0x80 ? u16(r) : 0, sel & 0x40 ? NULL : out, cap,
          sel & 0x20 ? NULL : &n, sel & 0x10 ? NULL : &next));
      if (st == AIRS_OK) CHECK(n <= cap);
      break;
    }
    case 1: {
      airs_process_info info;
      memset(&info, 0xAB, sizeof info);
      info.version = sel & 0x80 ? u8(r) % 3 : AIRS_PROCESS_INFO_VERSION;
      info.size = sel & 0x40 ? (uint32_t)u8(r) : (uint32_t)sizeof info;
      airs_status st = S(airs_process_info_get(rt, pick_pid(u8(r)),
                                               sel & 0x20 ? NULL : &info));
      if (st == AIRS_OK) {
        CHECK(memchr(info.name, 0, sizeof info.name) != NULL);
        CHECK(memchr(info.label, 0, sizeof info.label) != NULL);
      }
      break;
    }
    case 2: {
      airs_top_entry out[4];
      size_t n = 99, cap = u8(r) % 5;
      airs_status st = S(airs_process_top(
          rt, (airs_top_key)(u8(r) % 5), sel & 0x80 ? u8(r) % 3 : 0,
          sel & 0x40 ? NULL : out, cap, sel & 0x20 ? NULL : &n));
      if (st == AIRS_OK) CHECK(n <= cap);
      break;
    }
    case 3: {
      static char buf[16384];
      size_t len = 0, cap = sel & 0x80 ? u16(r) % sizeof buf : sizeof buf;
      airs_status st = S(airs_metrics_write(rt, sel & 0x40 ? NULL : buf, cap,
                                            sel & 0x20 ? NULL : &len));
      if (st == AIRS_OK) CHECK(strlen(buf) == len);
      break;
    }
    case 4: {
      char buf[48];
      size_t cap = u8(r) % (sizeof buf + 1);
      size_t n = airs_pid_format(u64(r), sel & 0x40 ? NULL : buf, cap);
      CHECK(n > 6 && n < 40);
      if (!(sel & 0x40) && cap) CHECK(strlen(buf) < cap);
      break;
    }
    case 5: {
      int n = 0;
      S(airs_supervision_walk(rt, sel & 0x80 ? pick_pid(u8(r)) : 0,
                              sel & 0x40 ? NULL : count_node, &n));
      break;
    }
    case 6: {
      airs_timing t;
      memset(&t, 0xAB, sizeof t);
      t.version = sel & 0x80 ? u8(r) % 3 : AIRS_TIMING_VERSION;
      t.size = sel & 0x40 ? (uint32_t)u8(r) : (uint32_t)sizeof t;
      switch (u8(r) % 5) {
        case 0: S(airs_timing_track(rt, pick_pattern(u8(r)))); break;
        case 1: S(airs_timing_untrack(rt, pick_pattern(u8(r)))); break;
        case 2:
          S(airs_metrics_source_add(rt, sel & 0x10 ? NULL : fuzz_source,
                                    (void*)(uintptr_t)(u8(r) % 20)));
          break;
        case 3:
          S(airs_metrics_source_remove(rt, fuzz_source,
                                       (void*)(uintptr_t)(u8(r) % 20)));
          break;
        default: {
          airs_status st =
              S(airs_timing_get(rt, pick_name(u8(r)), sel & 0x20 ? NULL : &t));
          if (st == AIRS_OK) {
            uint64_t n = 0;
            int i;
            for (i = 0; i < AIRS_TIMING_BUCKETS; i++) n += t.run.buckets[i];
            CHECK(n == t.run.count);
          }
          break;
        }
      }
      break;
    }
    default: {
      airs_pid links[2], mons[2], by[2];
      airs_process_ties t;
      memset(&t, 0, sizeof t);
      t.links = sel & 0x80 ? NULL : links;
      t.links_capacity = u8(r) % 3;
      t.monitors = mons;
      t.monitors_capacity = 2;
      t.monitored_by = sel & 0x40 ? NULL : by;
      t.monitored_by_capacity = u8(r) % 3;
      S(airs_process_ties_get(rt, pick_pid(u8(r)), sel & 0x20 ? NULL : &t,
                              u8(r) % 3));
      break;
    }
  }
}

static void run_op(Main* m, airs_runtime* rt, Reader* r) {
  uint8_t op = u8(r);
  switch (op % 27) {
    case 0:
    case 1: { /* spawn */
      uint8_t sel = u8(r);
      const airs_behaviour* b = pick_behaviour(u8(r));
      airs_spawn_opts o;
      const airs_spawn_opts* op_ = NULL;
      if (sel & 1) {
        S(airs_spawn_opts_init(rt, &o));
        o.flags = spawn_flags(u8(r) & 7); /* LINK: refused outside a callback */
        o.mailbox_capacity = u8(r) % 4;
        o.mailbox_policy = pick_enum(u8(r), 3);
        o.block_timeout_ms = sel & 2 ? 0 : 1 + (sel >> 2 & 1);
        if (sel & 8) o.version = 0;
        if (sel & 16) o.size = 4;
        op_ = &o;
      }
      airs_pid pid = 0;
      Obj* u = sel & 0x80 ? NULL : ud_new(r, 0);
      if (!u && (b == &b_full || b == &b_bigsize.b || b == &b_noreceive))
        b = &b_min;
      airs_status st = S(airs_spawn(rt, b, u, u ? ud_free : NULL, op_,
                                    sel & 0x40 ? NULL : &pid));
      if (st == AIRS_OK) {
        CHECK(pid != AIRS_NO_PID);
        add_pid(pid);
      }
      break;
    }
    case 2:
    case 3:
    case 4: { /* send */
      uint8_t sel = u8(r);
      airs_pid to = pick_pid(u8(r));
      if (sel & 0x20) {
        Reader d = take(r, u8(r) % 48);
        S(airs_send(rt, to, 1 + (sel & 3), d.p, d.n));
      } else {
        airs_msg* msg = make_msg(r, sel);
        if (msg && S(airs_send_msg(rt, to, msg)) != AIRS_OK) airs_msg_free(msg);
      }
      break;
    }
    case 5: { /* timers */
      uint8_t sel = u8(r);
      if (sel & 1) {
        S(airs_cancel_timer(rt, sel & 2 ? u64(r) : m->timers[u8(r) % NTIMERS]));
        break;
      }
      airs_msg* msg = make_msg(r, (uint8_t)(sel & 0xbe));
      if (!msg) break;
      uint64_t delay =
          sel & 4 ? u8(r) % 5 : ((uint64_t)1 << 40) + (sel >> 3 & 1);
      uint64_t t = 0;
      if (S(airs_send_after(rt, pick_pid(u8(r)), delay, msg,
                            sel & 8 ? NULL : &t)) != AIRS_OK)
        airs_msg_free(msg);
      else if (t)
        m->timers[u8(r) % NTIMERS] = t;
      break;
    }
    case 6: { /* exit signals */
      uint8_t sel = u8(r);
      airs_pid pid = pick_pid(u8(r));
      switch (sel % 3) {
        case 0: S(airs_kill(rt, pid)); break;
        case 1: S(airs_stop(rt, pid)); break;
        default:
          S(airs_send_exit(rt, pid, (airs_exit_kind)pick_enum(u8(r), 6),
                           (int32_t)u16(r), sel & 0x80 ? NULL : "why"));
          break;
      }
      break;
    }
    case 7: { /* wait, is_alive, stats of a process */
      airs_pid pid = pick_pid(u8(r));
      uint8_t sel = u8(r);
      if (sel & 1) {
        S(airs_wait(rt, pid, sel >> 1 & 3));
      } else {
        uint64_t v = 0;
        (void)airs_is_alive(rt, pid);
        S(airs_process_stat_get(rt, pid, (airs_process_stat)pick_enum(sel, 6),
                                sel & 0x80 ? NULL : &v));
      }
      break;
    }
    case 8: { /* poll, the clock */
      uint8_t sel = u8(r);
      uint32_t ran = 0;
      int64_t ms = 0;
      airs_status st = S(airs_runtime_poll(rt, sel % 4 * 16, &ran));
      if (g_threaded) CHECK(st != AIRS_OK);
      S(airs_runtime_next_timer_ms(rt, sel & 4 ? NULL : &ms));
      st = S(airs_runtime_advance_time(rt, sel & 8 ? u8(r) % 8 : u64(r)));
      CHECK((st == AIRS_OK) == (g_manual != 0));
      if (sel & 16) drain(rt, POLL_ROUNDS_MAX);
      break;
    }
    case 9: { /* registry */
      uint8_t sel = u8(r);
      const char* name = pick_name(u8(r));
      airs_pid pid = 0;
      switch (sel % 3) {
        case 0: S(airs_register(rt, name, pick_pid(u8(r)))); break;
        case 1: S(airs_unregister(rt, name)); break;
        default:
          if (S(airs_whereis(rt, name, &pid)) == AIRS_OK) add_pid(pid);
          break;
      }
      break;
    }
    case 10: { /* pools */
      uint8_t sel = u8(r);
      const char* pool = pick_name(u8(r));
      airs_pid pid = 0, members[4];
      size_t n = 0;
      switch (sel % 4) {
        case 0: S(airs_pool_join(rt, pool, pick_pid(u8(r)))); break;
        case 1: S(airs_pool_leave(rt, pool, pick_pid(u8(r)))); break;
        case 2:
          if (S(airs_pool_pick(rt, pool, (airs_pick)pick_enum(u8(r), 2),
                               sel & 0x80 ? NULL : &pid)) == AIRS_OK)
            CHECK(pid != AIRS_NO_PID);
          break;
        default: {
          size_t cap = u8(r) % 6;
          airs_status st = S(airs_pool_members(
              rt, pool, sel & 0x80 ? NULL : members, cap, &n));
          if (st == AIRS_OK)
            for (size_t i = 0; i < n && i < cap && i < 4; i++)
              add_pid(members[i]);
          break;
        }
      }
      break;
    }
    case 11: { /* topics */
      uint8_t sel = u8(r);
      const char* topic = pick_name(u8(r));
      switch (sel % 4) {
        case 0: S(airs_subscribe(rt, topic, pick_pid(u8(r)))); break;
        case 1: S(airs_unsubscribe(rt, topic, pick_pid(u8(r)))); break;
        case 2: {
          int i = u8(r) % NPAYLOADS;
          if (!m->payloads[i]) {
            Reader d = take(r, u8(r) % 32);
            S(airs_payload_new(d.p, d.n, &m->payloads[i]));
          }
          size_t n = 0;
          uint64_t type = sel & 0x40 ? AIRS_MSG_DOWN : 1 + (sel >> 2 & 3);
          S(airs_publish(rt, topic, type, m->payloads[i],
                         sel & 0x80 ? NULL : &n));
          if (sel & 0x20) {
            airs_payload_release(m->payloads[i]);
            m->payloads[i] = NULL;
          }
          break;
        }
        default: {
          airs_pid subs[4];
          size_t n = 0;
          size_t cap = u8(r) % 6;
          S(airs_topic_subscribers(rt, topic, sel & 0x80 ? NULL : subs,
                                   cap > 4 ? 4 : cap, &n));
          break;
        }
      }
      break;
    }
    case 12: { /* call */
      uint8_t sel = u8(r);
      airs_msg* msg = make_msg(r, (uint8_t)(sel & 0xbf));
      if (!msg) break;
      airs_msg* reply = NULL;
      airs_status st = S(airs_call(rt, pick_pid(u8(r)), msg,
                                   sel & 0x80 ? 0 : 1 + u8(r) % WAIT_MS_MAX,
                                   sel & 0x40 ? NULL : &reply));
      if (st == AIRS_OK) {
        CHECK(reply != NULL);
        (void)airs_msg_correlation(reply);
        airs_msg_free(reply);
      } else if (st != AIRS_ETIMEDOUT && st != AIRS_EEXITED) {
        airs_msg_free(msg); /* not sent: still ours */
      }
      break;
    }
    case 13: op_spec_new(m, r); break;
    case 14:
    case 15: op_add_child(m, r); break;
    case 16: free_spec(m, u8(r) % NSPECS); break;
    case 17:
    case 18:
    case 19: op_sup(m, rt, r, u8(r) % 9); break;
    case 20: { /* runtime stats */
      uint8_t sel = u8(r);
      airs_runtime_stats s;
      memset(&s, 0xAB, sizeof s);
      s.version = sel & 1 ? 0 : AIRS_RUNTIME_STATS_VERSION;
      s.size = sel & 2 ? (uint32_t)u8(r) : (uint32_t)sizeof s;
      airs_status st = S(airs_runtime_stats_get(rt, sel & 4 ? NULL : &s));
      if (st == AIRS_OK && s.size >= sizeof s && !g_threaded)
        CHECK(s.processes_alive + s.processes_exited == s.processes_spawned);
      break;
    }
    case 21: { /* hooks */
      uint8_t sel = u8(r);
      if (sel & 1) {
        atomic_store(&g_dl_mode, u8(r));
        S(airs_set_dead_letter_hook(rt, sel & 2 ? NULL : dead_letter_hook,
                                    &g_dl_mode));
      } else {
        atomic_store(&g_ev_mode, u8(r));
        S(airs_set_event_hook(rt, sel & 2 ? NULL : event_hook, &g_ev_mode));
      }
      break;
    }
    case 22: op_scratch_config(r); break;
    case 23: op_misc(r); break;
    case 24: op_null_handles(u8(r), NULL, AIRS_EINVAL); break;
    case 25: op_observe(rt, r); break;
    case 26: op_io(rt, r); break;
    default: drain(rt, u8(r) % 8 + 1); break;
  }
}

/* ---- one input --------------------------------------------------------- */

static void init_names(void) {
  memset(g_long_name, 'n', AIRS_NAME_MAX + 1);
  memset(g_max_name, 'm', AIRS_NAME_MAX);
  memset(g_long_id, 'i', AIRS_CHILD_ID_MAX + 1);
  memset(g_max_id, 'j', AIRS_CHILD_ID_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader r = {data, size};
  if (!g_long_name[0]) init_names();

  uint8_t mode = u8(&r);
  uint8_t c1 = u8(&r);
  uint8_t c2 = u8(&r);
  g_threaded = mode & 1;
  g_manual = mode >> 1 & 1;
  atomic_store(&g_budget, SCRIPT_BUDGET);
  atomic_store(&g_pid_next, 0);
  atomic_store(&g_sock_next, 0);
  atomic_store(&g_pool_used, 0);
  atomic_store(&g_jobs_used, 0);
  for (int i = 0; i < NSOCKS; i++) atomic_store(&g_socks[i], 0);
  for (int i = 0; i < NPIDS; i++) atomic_store(&g_pids[i], 0);
  for (int i = 0; i < NSHARED_SPECS; i++)
    atomic_store(&g_shared_specs[i], NULL);
  atomic_store(&g_stale_ctx, NULL);
  atomic_store(&g_threads.started, 0);
  atomic_store(&g_threads.ended, 0);
  atomic_store(&g_threads2.started, 0);
  atomic_store(&g_threads2.ended, 0);
  atomic_store(&g_dl_mode, 0);
  atomic_store(&g_ev_mode, 0);

  airs_config* cfg = NULL;
  CHECK(airs_config_new(&cfg) == AIRS_OK);
  CHECK(airs_config_set(cfg, AIRS_CFG_WORKERS,
                        g_threaded ? 1 + (mode >> 2 & 1) : 0) == AIRS_OK);
  CHECK(airs_config_set(cfg, AIRS_CFG_MANUAL_CLOCK, g_manual) == AIRS_OK);
  CHECK(airs_config_set(cfg, AIRS_CFG_CRASH_REPORTS, 0) == AIRS_OK);
  CHECK(airs_config_set(cfg, AIRS_CFG_EVENTS, !(mode & 8)) == AIRS_OK);
  CHECK(airs_config_set(cfg, AIRS_CFG_MAILBOX_CAPACITY, c1 % 4) == AIRS_OK);
  CHECK(airs_config_set(cfg, AIRS_CFG_MAILBOX_POLICY,
                        c1 >> 2 & 1 ? 2 : c1 >> 3 & 1) == AIRS_OK);
  CHECK(airs_config_set(cfg, AIRS_CFG_BLOCK_TIMEOUT_MS, 1 + (c1 >> 4 & 1)) ==
        AIRS_OK);
  CHECK(airs_config_set(cfg, AIRS_CFG_MAX_PROCESSES, 1 + c2 % 48) == AIRS_OK);
  CHECK(airs_config_set(cfg, AIRS_CFG_SHUTDOWN_TIMEOUT_MS, c1 >> 5 & 3) ==
        AIRS_OK);
  CHECK(airs_config_set(cfg, AIRS_CFG_BUDGET, 1 + (c2 >> 6) * 4) == AIRS_OK);
  CHECK(airs_config_set_thread_hook(cfg, thread_hook, &g_threads) == AIRS_OK);
  airs_runtime* rt = NULL;
  CHECK(airs_runtime_new(cfg, &rt) == AIRS_OK);
  airs_config_free(cfg);
  atomic_store(&g_rt, rt);
  if (mode & 16) {
    atomic_store(&g_dl_mode, mode >> 5);
    S(airs_set_dead_letter_hook(rt, dead_letter_hook, &g_dl_mode));
  }
  if (mode & 32) {
    atomic_store(&g_ev_mode, mode >> 5);
    S(airs_set_event_hook(rt, event_hook, &g_ev_mode));
  }

  Main m;
  memset(&m, 0, sizeof m);
  for (int i = 0; i < MAX_OPS && r.n > 0; i++) run_op(&m, rt, &r);

  if (mode & 0x80) drain(rt, POLL_ROUNDS_MAX);
  airs_runtime_free(rt);
  if (atomic_load(&g_jobs_used))
    CHECK(atomic_load(&g_threads.started) >= atomic_load(&g_threads.ended));
  else
    CHECK(atomic_load(&g_threads.started) == atomic_load(&g_threads.ended));
  if (!g_threaded && !atomic_load(&g_pool_used))
    CHECK(atomic_load(&g_threads.started) == 0);
  /* The freed handle is a tombstone. */
  op_null_handles(mode, rt, AIRS_ESTATE);
  op_null_handles((uint8_t)(mode + 7), rt, AIRS_ESTATE);
  airs_runtime_free(rt);

  for (int i = 0; i < NSPECS; i++) free_spec(&m, i);
  for (int i = 0; i < m.ndeferred; i++) airs_sup_spec_free(m.deferred[i]);
  for (int i = 0; i < NPAYLOADS; i++) airs_payload_release(m.payloads[i]);
  atomic_store(&g_rt, NULL);
  return 0;
}
