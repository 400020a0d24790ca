/*
 * test_api_process.c - spawning (every failing path releases user_data
 * exactly once), the ctx of a callback, exit reasons, exit signals, waiting,
 * process counters, links and monitors.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "../pid_layout.h"
#include "check.h"
#include "helpers.h"

/* ---- commands: a recorder whose messages tell it what to do ------------- */

enum {
  OP_NOTHING = 1,
  OP_EXIT_ERROR,     /* airs_exit(ERROR, 42, "boom") */
  OP_RETURN_ERROR,   /* return AIRS_ENOTFOUND after a failing call */
  OP_EXIT_NORMAL,    /* airs_exit(NORMAL) */
  OP_EXIT_BAD_KIND,  /* airs_exit with kinds out of range: EINVAL */
  OP_EXIT_THEN_FAIL, /* airs_exit(SHUTDOWN, 3, "x"), then return EINTERNAL */
  OP_SPAWN_LINKED,   /* airs_ctx_spawn(LINK) of g_child */
  OP_SPAWN,          /* airs_ctx_spawn of g_child, not linked */
  OP_SPAWN_BAD,      /* failing airs_ctx_spawn calls */
  OP_LINK,           /* airs_link(arg) */
  OP_UNLINK,         /* airs_unlink(arg) */
  OP_MONITOR,        /* airs_monitor(arg) */
  OP_MONITOR_NULL,   /* airs_monitor(arg, NULL) */
  OP_DEMONITOR,      /* airs_demonitor(arg) */
  OP_TRAP_ON,
  OP_TRAP_OFF,
  OP_SEND_EXIT /* airs_send_exit(arg, ERROR, 9, "sent") from the callback */
};

typedef struct op_result {
  airs_status want; /* set by the host before it sends the command */
  airs_status st;
  uint64_t ref;
  airs_pid pid;
  int ran;
} op_result;

static recorder* g_child;  /* what OP_SPAWN* spawn */
static char g_detail[256]; /* the message OP_RETURN_ERROR left */

static airs_status op_msg(recorder* r, airs_ctx* ctx, const airs_msg* msg) {
  op_result* res = (op_result*)r->arg;
  airs_runtime* rt = airs_ctx_runtime(ctx);
  uint64_t arg = 0;
  airs_pid out = 0;
  airs_spawn_opts o;
  airs_behaviour b = rec_behaviour();
  if (airs_msg_size(msg) == sizeof arg)
    memcpy(&arg, airs_msg_data(msg), sizeof arg);
  if (res) res->ran++;
  switch (airs_msg_type(msg)) {
    case OP_EXIT_ERROR: return airs_exit(ctx, AIRS_EXIT_ERROR, 42, "boom");
    case OP_RETURN_ERROR:
      CHECK_ST(airs_whereis(rt, "", &out), AIRS_EINVAL);
      snprintf(g_detail, sizeof g_detail, "%s", airs_last_error_message());
      return AIRS_ENOTFOUND;
    case OP_EXIT_NORMAL: return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
    case OP_EXIT_BAD_KIND:
      CHECK_ST(airs_exit(ctx, (airs_exit_kind)6, 1, "x"), AIRS_EINVAL);
      CHECK_ST(airs_exit(ctx, (airs_exit_kind)-1, 1, "x"), AIRS_EINVAL);
      return AIRS_OK;
    case OP_EXIT_THEN_FAIL:
      CHECK_ST(airs_exit(ctx, AIRS_EXIT_SHUTDOWN, 3, "x"), AIRS_OK);
      return AIRS_EINTERNAL; /* ignored: the exit request wins */
    case OP_SPAWN_LINKED:
    case OP_SPAWN:
      CHECK_ST(airs_spawn_opts_init(rt, &o), AIRS_OK);
      if (airs_msg_type(msg) == OP_SPAWN_LINKED) o.flags = AIRS_SPAWN_LINK;
      res->st = airs_ctx_spawn(ctx, &b, g_child, rec_free, &o, &out);
      CHECK_ST(res->st, res->want);
      res->pid = out;
      return AIRS_OK;
    case OP_SPAWN_BAD:
      out = 4242;
      g_child->freed = 0;
      CHECK_ST(airs_ctx_spawn(ctx, &b, g_child, rec_free, NULL, NULL),
               AIRS_EINVAL);
      CHECK_ST(airs_ctx_spawn(ctx, NULL, g_child, rec_free, NULL, &out),
               AIRS_EINVAL);
      CHECK_ST(airs_spawn_opts_init(rt, &o), AIRS_OK);
      o.flags = 0x40;
      CHECK_ST(airs_ctx_spawn(ctx, &b, g_child, rec_free, &o, &out),
               AIRS_EINVAL);
      CHECK_EQ(out, 4242);
      CHECK_EQ(g_child->freed, 3);
      CHECK_EQ(g_child->inits, 0);
      return AIRS_OK;
    case OP_LINK: CHECK_ST(res->st = airs_link(ctx, arg), res->want); break;
    case OP_UNLINK: CHECK_ST(res->st = airs_unlink(ctx, arg), res->want); break;
    case OP_MONITOR:
      CHECK_ST(res->st = airs_monitor(ctx, arg, &res->ref), res->want);
      break;
    case OP_MONITOR_NULL:
      CHECK_ST(res->st = airs_monitor(ctx, arg, NULL), res->want);
      break;
    case OP_DEMONITOR:
      CHECK_ST(res->st = airs_demonitor(ctx, arg), res->want);
      break;
    case OP_TRAP_ON: CHECK_ST(airs_trap_exit(ctx, true), AIRS_OK); break;
    case OP_TRAP_OFF: CHECK_ST(airs_trap_exit(ctx, false), AIRS_OK); break;
    case OP_SEND_EXIT:
      CHECK_ST(res->st = airs_send_exit(rt, arg, AIRS_EXIT_ERROR, 9, "sent"),
               res->want);
      break;
    default: break;
  }
  return AIRS_OK;
}

static airs_status send_op(airs_runtime* rt, airs_pid to, uint64_t op,
                           uint64_t arg) {
  return airs_send(rt, to, op, &arg, sizeof arg);
}

/* Sends one command expecting `want` from the call it makes, and polls
 * until nothing is left to run; returns the turns run. */
static long run_op(airs_runtime* rt, airs_pid to, op_result* res, uint64_t op,
                   uint64_t arg, airs_status want) {
  if (res) res->want = want;
  if (send_op(rt, to, op, arg) != AIRS_OK) return -1;
  return poll_all(rt);
}

/* The last message a recorder got. */
static const rec_msg* last_msg(const recorder* r) {
  static rec_msg none;
  return r->n > 0 && r->n <= REC_MAX ? &r->msgs[r->n - 1] : &none;
}

/* A host-driven runtime's command actor. */
static airs_pid spawn_op(airs_runtime* rt, recorder* r, op_result* res,
                         int trap) {
  airs_spawn_opts o;
  memset(r, 0, sizeof *r);
  memset(res, 0, sizeof *res);
  r->on_msg = op_msg;
  r->arg = res;
  airs_spawn_opts_init(rt, &o);
  if (trap) o.flags = AIRS_SPAWN_TRAP_EXIT;
  return spawn_rec(rt, r, &o);
}

/* ---- spawning ----------------------------------------------------------- */

static airs_status init_fails(void* user_data, airs_ctx* ctx, void** state) {
  (void)ctx;
  (void)state;
  ((recorder*)user_data)->inits++;
  return AIRS_ENOTFOUND;
}

static airs_status init_exits(void* user_data, airs_ctx* ctx, void** state) {
  (void)state;
  ((recorder*)user_data)->inits++;
  return airs_exit(ctx, AIRS_EXIT_ERROR, 1, "from init");
}

static airs_status init_spawns_linked(void* user_data, airs_ctx* ctx,
                                      void** state) {
  recorder* r = (recorder*)user_data;
  airs_behaviour b = rec_behaviour();
  airs_spawn_opts o;
  airs_pid out = 4242;
  airs_spawn_opts_init(airs_ctx_runtime(ctx), &o);
  o.flags = AIRS_SPAWN_LINK;
  r->inits++;
  /* A linked spawn inside init links, as in Erlang. */
  CHECK_ST(airs_ctx_spawn(ctx, &b, g_child, rec_free, &o, &out), AIRS_OK);
  CHECK(out != 4242);
  CHECK_EQ(g_child->inits, 1);
  *state = r;
  return AIRS_OK;
}

/* During airs_runtime_free: every spawn fails with ESTATE. */
static void terminate_spawns(void* state, airs_ctx* ctx,
                             const airs_reason* reason) {
  recorder* r = (recorder*)state;
  airs_behaviour b = rec_behaviour();
  airs_pid out = 4242;
  rec_terminate(state, ctx, reason);
  CHECK_ST(airs_ctx_spawn(ctx, &b, g_child, rec_free, NULL, &out), AIRS_ESTATE);
  CHECK_ST(airs_spawn(airs_ctx_runtime(ctx), &b, g_child, rec_free, NULL, &out),
           AIRS_ESTATE);
  CHECK_EQ(out, 4242);
  CHECK_EQ(g_child->freed, 2);
  CHECK_EQ(g_child->inits, 0);
  (void)r;
}

/* One failing spawn: the status, *out untouched, user_data released once,
 * init never called. */
#define SPAWN_FAILS(rt, b, opts, want)                                      \
  do {                                                                      \
    recorder ud_;                                                           \
    airs_pid out_ = 4242;                                                   \
    memset(&ud_, 0, sizeof ud_);                                            \
    CHECK_ST(airs_spawn((rt), (b), &ud_, rec_free, (opts), &out_), (want)); \
    CHECK_EQ(out_, 4242);                                                   \
    CHECK_EQ(ud_.freed, 1);                                                 \
    CHECK_EQ(ud_.inits, 0);                                                 \
  } while (0)

static void test_spawn_failures(void) {
  airs_runtime* rt = make_host_runtime(10);
  airs_runtime* one = NULL;
  airs_config* cfg = NULL;
  airs_behaviour good = rec_behaviour(), b;
  airs_spawn_opts o, ok_opts;
  recorder ud, child, r, linked, opr, init_child;
  op_result res;
  airs_pid out = 4242, pid;
  CHECK(rt != NULL);
  if (!rt) return;
  CHECK_ST(airs_spawn_opts_init(rt, &ok_opts), AIRS_OK);

  SPAWN_FAILS(NULL, &good, NULL, AIRS_EINVAL);
  SPAWN_FAILS(rt, NULL, NULL, AIRS_EINVAL);
  b = good;
  b.version = 0;
  SPAWN_FAILS(rt, &b, NULL, AIRS_EINVAL);
  b = good;
  b.size = sizeof b - 1;
  SPAWN_FAILS(rt, &b, NULL, AIRS_EINVAL);
  b.size = 0;
  SPAWN_FAILS(rt, &b, NULL, AIRS_EINVAL);
  b = good;
  b.receive = NULL;
  SPAWN_FAILS(rt, &b, NULL, AIRS_EINVAL);
  /* NULL out. */
  memset(&ud, 0, sizeof ud);
  CHECK_ST(airs_spawn(rt, &good, &ud, rec_free, NULL, NULL), AIRS_EINVAL);
  CHECK_EQ(ud.freed, 1);
  CHECK_EQ(ud.inits, 0);
  /* Bad options. */
  o = ok_opts;
  o.version = 0;
  SPAWN_FAILS(rt, &good, &o, AIRS_EINVAL);
  o = ok_opts;
  o.size = sizeof o - 4;
  SPAWN_FAILS(rt, &good, &o, AIRS_EINVAL);
  o = ok_opts;
  o.flags = 0x80;
  SPAWN_FAILS(rt, &good, &o, AIRS_EINVAL);
  o.flags = AIRS_SPAWN_LINK; /* no calling process to link to */
  SPAWN_FAILS(rt, &good, &o, AIRS_EINVAL);
  o = ok_opts;
  o.mailbox_policy = 3;
  SPAWN_FAILS(rt, &good, &o, AIRS_EINVAL);
  o.mailbox_policy = -1;
  SPAWN_FAILS(rt, &good, &o, AIRS_EINVAL);
  o = ok_opts;
  o.block_timeout_ms = 0;
  SPAWN_FAILS(rt, &good, &o, AIRS_EINVAL);
  o.block_timeout_ms = 3600001;
  SPAWN_FAILS(rt, &good, &o, AIRS_EINVAL);
  /* init fails: its status; terminate is not called. */
  b = good;
  b.init = init_fails;
  memset(&ud, 0, sizeof ud);
  CHECK_ST(airs_spawn(rt, &b, &ud, rec_free, NULL, &out), AIRS_ENOTFOUND);
  CHECK_EQ(out, 4242);
  CHECK_EQ(ud.inits, 1);
  CHECK_EQ(ud.freed, 1);
  CHECK_EQ(ud.terminates, 0);
  /* init calls airs_exit: ESTATE. */
  b.init = init_exits;
  memset(&ud, 0, sizeof ud);
  CHECK_ST(airs_spawn(rt, &b, &ud, rec_free, NULL, &out), AIRS_ESTATE);
  CHECK_EQ(out, 4242);
  CHECK_EQ(ud.inits, 1);
  CHECK_EQ(ud.freed, 1);
  CHECK_EQ(ud.terminates, 0);
  /* A linked spawn inside init. */
  b.init = init_spawns_linked;
  memset(&linked, 0, sizeof linked);
  memset(&init_child, 0, sizeof init_child);
  g_child = &init_child;
  CHECK_ST(airs_spawn(rt, &b, &linked, rec_free, NULL, &out), AIRS_OK);
  CHECK_EQ(linked.inits, 1);
  CHECK_EQ(init_child.inits, 1);
  g_child = &child;
  /* airs_ctx_spawn from a callback: the same checks. */
  memset(&child, 0, sizeof child);
  pid = spawn_op(rt, &opr, &res, 0);
  CHECK_EQ(run_op(rt, pid, &res, OP_SPAWN_BAD, 0, AIRS_OK), 1);
  CHECK_EQ(res.ran, 1);
  /* airs_ctx_spawn with a NULL ctx. */
  memset(&ud, 0, sizeof ud);
  out = 4242;
  CHECK_ST(airs_ctx_spawn(NULL, &good, &ud, rec_free, NULL, &out), AIRS_EINVAL);
  CHECK_EQ(out, 4242);
  CHECK_EQ(ud.freed, 1);
  /* No user_data_free: nothing to release, the failure is the same. */
  CHECK_ST(airs_spawn(rt, NULL, &ud, NULL, NULL, &out), AIRS_EINVAL);
  CHECK_EQ(out, 4242);
  CHECK_EQ(ud.freed, 1);

  /* ELIMIT: max processes alive; the slot is usable again afterwards. */
  CHECK_ST(airs_config_new(&cfg), AIRS_OK);
  CHECK_ST(airs_config_set(cfg, AIRS_CFG_WORKERS, 0), AIRS_OK);
  CHECK_ST(airs_config_set(cfg, AIRS_CFG_MAX_PROCESSES, 1), AIRS_OK);
  CHECK_ST(airs_runtime_new(cfg, &one), AIRS_OK);
  airs_config_free(cfg);
  if (one) {
    memset(&r, 0, sizeof r);
    pid = spawn_rec(one, &r, NULL);
    CHECK(pid != AIRS_NO_PID);
    SPAWN_FAILS(one, &good, NULL, AIRS_ELIMIT);
    CHECK_ST(airs_stop(one, pid), AIRS_OK);
    CHECK_ST(airs_wait(one, pid, 1000), AIRS_OK);
    memset(&r, 0, sizeof r);
    pid = spawn_rec(one, &r, NULL);
    CHECK(pid != AIRS_NO_PID);
    airs_runtime_free(one);
    CHECK_EQ(r.freed, 1);
  }

  /* ESTATE while the runtime shuts down (spawns from a terminate). */
  b = good;
  b.terminate = terminate_spawns;
  memset(&ud, 0, sizeof ud);
  memset(&child, 0, sizeof child);
  CHECK_ST(airs_spawn(rt, &b, &ud, rec_free, NULL, &out), AIRS_OK);
  airs_runtime_free(rt);
  CHECK_EQ(ud.terminates, 1);
  CHECK_EQ(ud.freed, 1);
  CHECK_EQ(child.freed, 2);
  CHECK_EQ(linked.terminates, 1);
  CHECK_EQ(linked.freed, 1);
  CHECK_EQ(init_child.terminates, 1);
  CHECK_EQ(init_child.freed, 1);
}

static airs_status init_checks_ctx(void* user_data, airs_ctx* ctx,
                                   void** state) {
  recorder* r = (recorder*)user_data;
  r->inits++;
  r->self = airs_self(ctx);
  r->ctx = ctx;
  CHECK(airs_ctx_runtime(ctx) == (airs_runtime*)r->arg);
  *state = r;
  return AIRS_OK;
}

static void test_spawn(void) {
  airs_runtime* rt = make_host_runtime(10);
  airs_behaviour b = rec_behaviour();
  recorder r, plain, child;
  op_result res;
  airs_pid pid = 0, parent, self_before;
  CHECK(rt != NULL);
  if (!rt) return;
  /* init runs inside the spawn call, knows its pid and runtime. */
  memset(&r, 0, sizeof r);
  r.arg = rt;
  b.init = init_checks_ctx;
  CHECK_ST(airs_spawn(rt, &b, &r, rec_free, NULL, &pid), AIRS_OK);
  CHECK(pid != AIRS_NO_PID);
  CHECK_EQ(r.inits, 1);
  CHECK_EQ(r.self, pid);
  CHECK(airs_is_alive(rt, pid));
  CHECK_EQ(r.freed, 0);
  /* The behaviour was copied: changing ours changes nothing. */
  b.receive = NULL;
  CHECK_ST(airs_send(rt, pid, 1, NULL, 0), AIRS_OK);
  CHECK_EQ(poll_all(rt), 1);
  CHECK_EQ(r.n, 1);
  CHECK_EQ(r.self, pid);
  CHECK_EQ(r.freed, 0);
  CHECK_EQ(r.terminates, 0);
  CHECK_ST(airs_stop(rt, pid), AIRS_OK);
  CHECK_EQ(poll_all(rt), 1);
  CHECK_EQ(r.terminates, 1);
  CHECK_EQ(r.term_self, pid);
  CHECK_EQ(r.freed, 1);
  CHECK(!airs_is_alive(rt, pid));

  /* No init: the state is user_data; no terminate, no free function. */
  b = rec_behaviour();
  b.init = NULL;
  b.terminate = NULL;
  memset(&plain, 0, sizeof plain);
  CHECK_ST(airs_spawn(rt, &b, &plain, NULL, NULL, &pid), AIRS_OK);
  CHECK_ST(airs_send(rt, pid, 7, NULL, 0), AIRS_OK);
  CHECK_EQ(poll_all(rt), 1);
  CHECK_EQ(plain.n, 1);
  CHECK_EQ(plain.msgs[0].type, 7);
  CHECK_EQ(plain.self, pid);

  /* Pids are never reused: a new process gets a new pid. */
  self_before = pid;
  CHECK_ST(airs_kill(rt, pid), AIRS_OK);
  CHECK_EQ(poll_all(rt), 1);
  CHECK_ST(airs_spawn(rt, &b, &plain, NULL, NULL, &pid), AIRS_OK);
  CHECK(pid != self_before);
  CHECK(!airs_is_alive(rt, self_before));
  CHECK_ST(airs_send(rt, self_before, 1, NULL, 0), AIRS_ENOPROC);

  /* airs_ctx_spawn from a callback; the child can run at once. */
  parent = spawn_op(rt, &r, &res, 0);
  memset(&child, 0, sizeof child);
  g_child = &child;
  res.want = AIRS_OK;
  CHECK_ST(send_op(rt, parent, OP_SPAWN, 0), AIRS_OK);
  CHECK_EQ(poll_all(rt), 1);
  CHECK(res.pid != AIRS_NO_PID && res.pid != parent);
  CHECK_EQ(child.inits, 1);
  CHECK(airs_is_alive(rt, res.pid));
  CHECK_ST(airs_send(rt, res.pid, 3, NULL, 0), AIRS_OK);
  CHECK_EQ(poll_all(rt), 1);
  CHECK_EQ(child.n, 1);
  airs_runtime_free(rt);
  CHECK_EQ(child.freed, 1);
  CHECK_EQ(r.freed, 1);
}

/* ---- a ctx outside its callback ---------------------------------------- */

static void test_ctx_misuse(void) {
  airs_runtime* rt = make_host_runtime(10);
  airs_behaviour b = rec_behaviour();
  recorder r, ud;
  airs_pid pid, out = 4242;
  airs_ctx* saved;
  counter c = {0};
  airs_msg* m = NULL;
  uint64_t ref = 4242;
  CHECK(rt != NULL);
  if (!rt) return;
  memset(&r, 0, sizeof r);
  pid = spawn_rec(rt, &r, NULL);
  CHECK_ST(airs_send(rt, pid, 1, NULL, 0), AIRS_OK);
  CHECK_EQ(poll_all(rt), 1);
  saved = r.ctx;
  CHECK(saved != NULL);
  CHECK_ST(airs_msg_new_owned(1, &c, sizeof c, counter_free, &m), AIRS_OK);

  /* A ctx kept past its callback, and NULL. */
  CHECK_EQ(airs_self(saved), AIRS_NO_PID);
  CHECK_EQ(airs_self(NULL), AIRS_NO_PID);
  CHECK(airs_ctx_runtime(saved) == NULL);
  CHECK(airs_ctx_runtime(NULL) == NULL);
  CHECK_ST(airs_exit(saved, AIRS_EXIT_NORMAL, 0, NULL), AIRS_ESTATE);
  CHECK_ST(airs_exit(NULL, AIRS_EXIT_NORMAL, 0, NULL), AIRS_EINVAL);
  CHECK_ST(airs_ctx_send(saved, pid, 1, "x", 1), AIRS_ESTATE);
  CHECK_ST(airs_ctx_send(NULL, pid, 1, "x", 1), AIRS_EINVAL);
  CHECK_ST(airs_ctx_send_msg(saved, pid, m), AIRS_ESTATE);
  CHECK_ST(airs_ctx_send_msg(NULL, pid, m), AIRS_EINVAL);
  CHECK_EQ(c.n, 0);
  memset(&ud, 0, sizeof ud);
  CHECK_ST(airs_ctx_spawn(saved, &b, &ud, rec_free, NULL, &out), AIRS_ESTATE);
  CHECK_EQ(out, 4242);
  CHECK_EQ(ud.freed, 1);
  CHECK_EQ(ud.inits, 0);
  CHECK_ST(airs_link(saved, pid), AIRS_ESTATE);
  CHECK_ST(airs_link(NULL, pid), AIRS_EINVAL);
  CHECK_ST(airs_unlink(saved, pid), AIRS_ESTATE);
  CHECK_ST(airs_unlink(NULL, pid), AIRS_EINVAL);
  CHECK_ST(airs_trap_exit(saved, true), AIRS_ESTATE);
  CHECK_ST(airs_trap_exit(NULL, true), AIRS_EINVAL);
  CHECK_ST(airs_monitor(saved, pid, &ref), AIRS_ESTATE);
  CHECK_ST(airs_monitor(NULL, pid, &ref), AIRS_EINVAL);
  CHECK_EQ(ref, 4242);
  CHECK_ST(airs_demonitor(saved, 1), AIRS_ESTATE);
  CHECK_ST(airs_demonitor(NULL, 1), AIRS_EINVAL);
  /* Nothing happened to the process. */
  CHECK(airs_is_alive(rt, pid));
  CHECK_EQ(poll_all(rt), 0);
  CHECK_EQ(r.n, 1);
  /* The message is still ours; a good send consumes it. */
  CHECK_ST(airs_send_msg(rt, pid, m), AIRS_OK);
  CHECK_EQ(poll_all(rt), 1);
  CHECK_EQ(r.n, 2);
  CHECK_EQ(c.n, 1);
  airs_runtime_free(rt);
}

/* ---- exit reasons ------------------------------------------------------- */

static void test_exit_reasons(void) {
  airs_runtime* rt = make_host_runtime(10);
  recorder r;
  op_result res;
  airs_pid pid;
  CHECK(rt != NULL);
  if (!rt) return;
  /* NULL reasons read as normal. */
  CHECK_EQ(airs_reason_kind(NULL), AIRS_EXIT_NORMAL);
  CHECK_EQ(airs_reason_code(NULL), 0);
  CHECK_STR(airs_reason_text(NULL), "");

  /* airs_exit with a code and text. */
  pid = spawn_op(rt, &r, &res, 0);
  CHECK_ST(send_op(rt, pid, OP_EXIT_BAD_KIND, 0), AIRS_OK);
  CHECK_ST(send_op(rt, pid, OP_EXIT_ERROR, 0), AIRS_OK);
  CHECK_ST(send_op(rt, pid, OP_NOTHING, 0), AIRS_OK);
  CHECK_EQ(poll_all(rt), 1);
  CHECK_EQ(r.n, 2); /* the bad kinds did not end it; the message after did
                       not arrive */
  CHECK_EQ(r.terminates, 1);
  CHECK_EQ(r.term_kind, AIRS_EXIT_ERROR);
  CHECK_EQ(r.term_code, 42);
  CHECK_STR(r.term_text, "boom");
  CHECK_EQ(r.freed, 1);
  CHECK(!airs_is_alive(rt, pid));

  /* receive returns an error: ERROR, code = status, text = last message. */
  pid = spawn_op(rt, &r, &res, 0);
  CHECK_ST(send_op(rt, pid, OP_RETURN_ERROR, 0), AIRS_OK);
  CHECK_EQ(poll_all(rt), 1);
  CHECK_EQ(r.terminates, 1);
  CHECK_EQ(r.term_kind, AIRS_EXIT_ERROR);
  CHECK_EQ(r.term_code, AIRS_ENOTFOUND);
  CHECK_STR(r.term_text, g_detail);

  /* airs_exit then a failing status: the exit wins. */
  pid = spawn_op(rt, &r, &res, 0);
  CHECK_ST(send_op(rt, pid, OP_EXIT_THEN_FAIL, 0), AIRS_OK);
  CHECK_EQ(poll_all(rt), 1);
  CHECK_EQ(r.term_kind, AIRS_EXIT_SHUTDOWN);
  CHECK_EQ(r.term_code, 3);
  CHECK_STR(r.term_text, "x");

  /* A normal exit. */
  pid = spawn_op(rt, &r, &res, 0);
  CHECK_ST(send_op(rt, pid, OP_EXIT_NORMAL, 0), AIRS_OK);
  CHECK_EQ(poll_all(rt), 1);
  CHECK_EQ(r.term_kind, AIRS_EXIT_NORMAL);
  CHECK_EQ(r.term_code, 0);
  CHECK_EQ(r.terminates, 1);
  airs_runtime_free(rt);
  CHECK_EQ(r.terminates, 1);
}

/* ---- exit signals ------------------------------------------------------- */

static void test_exit_signals(void) {
  airs_runtime* rt = make_host_runtime(10);
  recorder r, t, s;
  op_result res, tres, sres;
  airs_pid pid, trap, sender, stale;
  airs_msg* hi = NULL;
  CHECK(rt != NULL);
  if (!rt) return;
  pid = spawn_op(rt, &r, &res, 0);
  trap = spawn_op(rt, &t, &tres, 1);

  /* Bad input. */
  CHECK_ST(airs_send_exit(NULL, pid, AIRS_EXIT_ERROR, 1, "x"), AIRS_EINVAL);
  CHECK_ST(airs_send_exit(rt, AIRS_NO_PID, AIRS_EXIT_ERROR, 1, "x"),
           AIRS_ENOPROC);
  CHECK_ST(airs_send_exit(rt, pid, (airs_exit_kind)6, 1, "x"), AIRS_EINVAL);
  CHECK_ST(airs_send_exit(rt, pid, (airs_exit_kind)-1, 1, "x"), AIRS_EINVAL);
  CHECK_ST(airs_stop(NULL, pid), AIRS_EINVAL);
  CHECK_ST(airs_kill(NULL, pid), AIRS_EINVAL);
  CHECK_ST(airs_stop(rt, AIRS_NO_PID), AIRS_ENOPROC);
  CHECK_ST(airs_kill(rt, AIRS_NO_PID), AIRS_ENOPROC);

  /* A normal exit signal is ignored unless the process traps exits. */
  CHECK_ST(airs_send_exit(rt, pid, AIRS_EXIT_NORMAL, 0, NULL), AIRS_OK);
  CHECK_ST(airs_send_exit(rt, trap, AIRS_EXIT_NORMAL, 0, NULL), AIRS_OK);
  CHECK_EQ(poll_all(rt), 2);
  CHECK(airs_is_alive(rt, pid));
  CHECK_EQ(r.n, 0);
  CHECK_EQ(t.n, 1);
  CHECK_EQ(t.msgs[0].type, AIRS_MSG_EXIT);
  CHECK_EQ(t.msgs[0].sender, AIRS_NO_PID); /* from the host */
  CHECK(t.msgs[0].has_reason);
  CHECK_EQ(t.msgs[0].reason_kind, AIRS_EXIT_NORMAL);

  /* Trapped: an error and a stop become messages; the process lives. */
  CHECK_ST(airs_send_exit(rt, trap, AIRS_EXIT_ERROR, 5, "five"), AIRS_OK);
  CHECK_ST(airs_stop(rt, trap), AIRS_OK);
  CHECK_EQ(poll_all(rt), 1);
  CHECK_EQ(t.n, 3);
  CHECK_EQ(t.msgs[1].reason_kind, AIRS_EXIT_ERROR);
  CHECK_EQ(t.msgs[1].reason_code, 5);
  CHECK_STR(t.msgs[1].reason_text, "five");
  CHECK_EQ(t.msgs[2].reason_kind, AIRS_EXIT_SHUTDOWN);
  CHECK(airs_is_alive(rt, trap));
  /* A kill cannot be trapped. */
  CHECK_ST(airs_kill(rt, trap), AIRS_OK);
  CHECK_EQ(poll_all(rt), 1);
  CHECK_EQ(t.n, 3);
  CHECK_EQ(t.terminates, 1);
  CHECK_EQ(t.term_kind, AIRS_EXIT_KILLED);
  CHECK(!airs_is_alive(rt, trap));
  stale = trap;
  CHECK_ST(airs_send_exit(rt, stale, AIRS_EXIT_ERROR, 1, "x"), AIRS_ENOPROC);
  CHECK_ST(airs_stop(rt, stale), AIRS_ENOPROC);
  CHECK_ST(airs_kill(rt, stale), AIRS_ENOPROC);

  /* Untrapped: an error signal ends the process with its reason; a stop
   * comes after the messages sent before it. */
  CHECK_ST(send_op(rt, pid, OP_NOTHING, 0), AIRS_OK);
  CHECK_ST(send_op(rt, pid, OP_NOTHING, 0), AIRS_OK);
  CHECK_ST(airs_send_exit(rt, pid, AIRS_EXIT_ERROR, 7, "bye"), AIRS_OK);
  CHECK_ST(send_op(rt, pid, OP_NOTHING, 0), AIRS_OK);
  CHECK_EQ(poll_all(rt), 1);
  CHECK_EQ(r.n, 2);
  CHECK_EQ(r.term_kind, AIRS_EXIT_ERROR);
  CHECK_EQ(r.term_code, 7);
  CHECK_STR(r.term_text, "bye");
  pid = spawn_op(rt, &r, &res, 0);
  CHECK_ST(send_op(rt, pid, OP_NOTHING, 0), AIRS_OK);
  CHECK_ST(airs_stop(rt, pid), AIRS_OK);
  CHECK_EQ(poll_all(rt), 1);
  CHECK_EQ(r.n, 1);
  CHECK_EQ(r.term_kind, AIRS_EXIT_SHUTDOWN);

  /* A kill jumps ahead of waiting messages, high priority ones included. */
  pid = spawn_op(rt, &r, &res, 0);
  CHECK_ST(send_op(rt, pid, OP_NOTHING, 0), AIRS_OK);
  CHECK_ST(airs_msg_new(OP_NOTHING, NULL, 0, &hi), AIRS_OK);
  CHECK_ST(airs_msg_set_priority(hi, AIRS_PRIORITY_HIGH), AIRS_OK);
  CHECK_ST(airs_send_msg(rt, pid, hi), AIRS_OK);
  CHECK_ST(airs_kill(rt, pid), AIRS_OK);
  CHECK_EQ(poll_all(rt), 1);
  CHECK_EQ(r.n, 0);
  CHECK_EQ(r.term_kind, AIRS_EXIT_KILLED);

  /* Trapping switched on and off at run time; the sender of a signal sent
   * from a callback is the calling process. */
  trap = spawn_op(rt, &t, &tres, 0);
  sender = spawn_op(rt, &s, &sres, 0);
  CHECK_ST(send_op(rt, trap, OP_TRAP_ON, 0), AIRS_OK);
  CHECK_EQ(poll_all(rt), 1);
  sres.want = AIRS_OK;
  CHECK_ST(send_op(rt, sender, OP_SEND_EXIT, trap), AIRS_OK);
  CHECK_EQ(poll_all(rt), 2);
  CHECK_EQ(t.n, 2);
  CHECK_EQ(t.msgs[1].type, AIRS_MSG_EXIT);
  CHECK_EQ(t.msgs[1].sender, sender);
  CHECK_EQ(t.msgs[1].reason_code, 9);
  CHECK_ST(send_op(rt, trap, OP_TRAP_OFF, 0), AIRS_OK);
  CHECK_ST(send_op(rt, sender, OP_SEND_EXIT, trap), AIRS_OK);
  CHECK_EQ(poll_all(rt), 3);
  CHECK_EQ(t.terminates, 1);
  CHECK_EQ(t.term_kind, AIRS_EXIT_ERROR);
  CHECK_STR(t.term_text, "sent");
  sres.want = AIRS_ENOPROC;
  CHECK_ST(send_op(rt, sender, OP_SEND_EXIT, trap), AIRS_OK);
  CHECK_EQ(poll_all(rt), 1);
  CHECK_EQ(sres.st, AIRS_ENOPROC);
  /* AIRS_SPAWN_TRAP_EXIT traps from the start. */
  trap = spawn_op(rt, &t, &tres, 1);
  CHECK_ST(airs_send_exit(rt, trap, AIRS_EXIT_ERROR, 1, "x"), AIRS_OK);
  CHECK_EQ(poll_all(rt), 1);
  CHECK(airs_is_alive(rt, trap));
  CHECK_EQ(t.n, 1);
  CHECK_EQ(t.msgs[0].type, AIRS_MSG_EXIT);
  airs_runtime_free(rt);
}

/* ---- waiting and liveness ---------------------------------------------- */

static volatile int spin_sink;

/* A terminate that takes a while, to catch a wait that returns early. */
static void slow_terminate(void* state, airs_ctx* ctx,
                           const airs_reason* reason) {
  double until = now_ms() + 0.2;
  while (now_ms() < until) spin_sink++;
  rec_terminate(state, ctx, reason);
}

static void test_wait(void) {
  airs_runtime* rt = make_host_runtime(10);
  airs_runtime* threaded = make_runtime(2, 0);
  recorder r;
  op_result res;
  airs_pid pid, stale;
  airs_behaviour b = rec_behaviour();
  double t0;
  int i, early = 0;
  CHECK(rt != NULL && threaded != NULL);
  if (!rt || !threaded) return;
  pid = spawn_op(rt, &r, &res, 0);
  CHECK_ST(airs_wait(NULL, pid, 0), AIRS_EINVAL);
  /* Alive: a bounded wait runs out; in host-driven mode it polls. */
  CHECK_ST(send_op(rt, pid, OP_NOTHING, 0), AIRS_OK);
  t0 = now_ms();
  CHECK_ST(airs_wait(rt, pid, 10), AIRS_ETIMEDOUT);
  CHECK(now_ms() - t0 >= 9.0);
  CHECK_EQ(r.n, 1);
  CHECK_ST(airs_wait(rt, pid, 0), AIRS_ETIMEDOUT);
  /* Ends while we wait. */
  CHECK_ST(send_op(rt, pid, OP_EXIT_NORMAL, 0), AIRS_OK);
  CHECK_ST(airs_wait(rt, pid, 1000), AIRS_OK);
  CHECK_EQ(r.terminates, 1);
  CHECK_EQ(r.freed, 1);
  CHECK(!airs_is_alive(rt, pid));
  /* Gone already, or never was: OK at once. */
  stale = pid;
  t0 = now_ms();
  CHECK_ST(airs_wait(rt, stale, 1000), AIRS_OK);
  CHECK_ST(airs_wait(rt, AIRS_NO_PID, 1000), AIRS_OK);
  CHECK(now_ms() - t0 < 500.0);

  /* airs_is_alive. */
  pid = spawn_op(rt, &r, &res, 0);
  CHECK(airs_is_alive(rt, pid));
  CHECK(!airs_is_alive(NULL, pid));
  CHECK(!airs_is_alive(rt, AIRS_NO_PID));
  CHECK(!airs_is_alive(rt, stale));
  CHECK(!airs_is_alive(rt, test_pid_make(pid, test_pid_slot(pid),
                                         test_pid_generation(pid) + 1)));
  CHECK(!airs_is_alive(rt, UINT64_MAX));
  airs_runtime_free(rt);

  /* With worker threads: once airs_wait returns, the process is gone for
   * good: terminate has run and user_data is released. */
  b.terminate = slow_terminate;
  for (i = 0; i < 100; i++) {
    memset(&r, 0, sizeof r);
    r.on_msg = rec_exit_normal;
    pid = 0;
    if (airs_spawn(threaded, &b, &r, rec_free, NULL, &pid) != AIRS_OK ||
        airs_send(threaded, pid, 1, NULL, 0) != AIRS_OK) {
      early += 1000;
      break;
    }
    /* Half of the time, wait only once the process has started to end. */
    t0 = now_ms();
    while (i % 2 && airs_is_alive(threaded, pid) && now_ms() - t0 < 2000) {
    }
    if (airs_wait(threaded, pid, 2000) != AIRS_OK) {
      early += 1000;
      break;
    }
    if (r.terminates != 1 || r.freed != 1) early++;
  }
  CHECK_EQ(early, 0);
  /* A bounded wait on a threaded runtime. */
  memset(&r, 0, sizeof r);
  pid = spawn_rec(threaded, &r, NULL);
  t0 = now_ms();
  CHECK_ST(airs_wait(threaded, pid, 10), AIRS_ETIMEDOUT);
  CHECK(now_ms() - t0 >= 9.0);
  CHECK_ST(airs_stop(threaded, pid), AIRS_OK);
  CHECK_ST(airs_wait(threaded, pid, 2000), AIRS_OK);
  CHECK_EQ(r.terminates, 1);
  CHECK_EQ(r.term_kind, AIRS_EXIT_SHUTDOWN);
  airs_runtime_free(threaded);
}

/* Many threads in airs_wait at once, more than the runtime keeps slots
 * for (8), three of them on the same pid: each returns when its own
 * process has ended, and not while others end. */
enum { WAITERS = 12, SAME = 2 };

typedef struct waiter {
  airs_runtime* rt;
  airs_pid pid;
  airs_status st;
  int alive_at_return;
  int returned;
  pthread_mutex_t* mu;
  pthread_t thread;
} waiter;

static void* wait_thread(void* arg) {
  waiter* w = arg;
  airs_status st = airs_wait(w->rt, w->pid, 10000);
  int alive = airs_is_alive(w->rt, w->pid);
  pthread_mutex_lock(w->mu);
  w->st = st;
  w->alive_at_return = alive;
  w->returned = 1;
  pthread_mutex_unlock(w->mu);
  return NULL;
}

static int returned(waiter* w) {
  int r;
  pthread_mutex_lock(w->mu);
  r = w->returned;
  pthread_mutex_unlock(w->mu);
  return r;
}

static void test_wait_many(void) {
  airs_runtime* rt = make_runtime(2, 0);
  pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  static recorder r[WAITERS], churn;
  waiter w[WAITERS + SAME];
  int i, j, early = 0;
  CHECK(rt != NULL);
  if (!rt) return;
  memset(w, 0, sizeof w);
  for (i = 0; i < WAITERS + SAME; i++) {
    w[i].rt = rt;
    w[i].mu = &mu;
    if (i < WAITERS) {
      memset(&r[i], 0, sizeof r[i]);
      w[i].pid = spawn_rec(rt, &r[i], NULL);
      CHECK(w[i].pid != AIRS_NO_PID);
    } else {
      w[i].pid = w[0].pid;
    }
    CHECK(pthread_create(&w[i].thread, NULL, wait_thread, &w[i]) == 0);
  }
  {
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL); /* all of them waiting */
  }
  /* Other processes end meanwhile: no waiter returns. */
  for (i = 0; i < 200; i++) {
    airs_pid other;
    memset(&churn, 0, sizeof churn);
    other = spawn_rec(rt, &churn, NULL);
    CHECK_ST(airs_stop(rt, other), AIRS_OK);
    CHECK_ST(airs_wait(rt, other, 2000), AIRS_OK);
  }
  CHECK_ST(airs_wait(rt, AIRS_NO_PID, 2000), AIRS_OK);
  for (i = 0; i < WAITERS + SAME; i++) early += returned(&w[i]);
  CHECK_EQ(early, 0);
  /* Each one's end lets its waiters go, and only them. */
  for (i = WAITERS - 1; i >= 0; i--) {
    CHECK_ST(airs_stop(rt, w[i].pid), AIRS_OK);
    pthread_join(w[i].thread, NULL);
    CHECK_ST(w[i].st, AIRS_OK);
    CHECK(!w[i].alive_at_return);
    for (j = 0; j < i; j++) CHECK(!returned(&w[j]));
    if (i == 0) {
      for (j = WAITERS; j < WAITERS + SAME; j++) {
        pthread_join(w[j].thread, NULL);
        CHECK_ST(w[j].st, AIRS_OK);
        CHECK(!w[j].alive_at_return);
      }
    }
  }
  airs_runtime_free(rt);
}

/* ---- process counters --------------------------------------------------- */

static void test_process_stats(void) {
  airs_runtime* rt = make_host_runtime(10);
  recorder r;
  airs_pid pid;
  airs_spawn_opts o;
  uint64_t v = 4242;
  int i;
  CHECK(rt != NULL);
  if (!rt) return;
  memset(&r, 0, sizeof r);
  o = mailbox_opts(rt, 3, AIRS_MAILBOX_FAIL, 1000);
  pid = spawn_rec(rt, &r, &o);
  CHECK_ST(airs_process_stat_get(rt, pid, AIRS_PSTAT_MAILBOX_CAPACITY, &v),
           AIRS_OK);
  CHECK_EQ(v, 3);
  for (i = 0; i < 5; i++)
    CHECK_ST(airs_send(rt, pid, 1, NULL, 0), i < 3 ? AIRS_OK : AIRS_EFULL);
  CHECK_ST(airs_process_stat_get(rt, pid, AIRS_PSTAT_MAILBOX_DEPTH, &v),
           AIRS_OK);
  CHECK_EQ(v, 3);
  CHECK_ST(airs_process_stat_get(rt, pid, AIRS_PSTAT_MSGS_ENQUEUED, &v),
           AIRS_OK);
  CHECK_EQ(v, 3);
  CHECK_ST(airs_process_stat_get(rt, pid, AIRS_PSTAT_MSGS_HANDLED, &v),
           AIRS_OK);
  CHECK_EQ(v, 0);
  CHECK_ST(airs_process_stat_get(rt, pid, AIRS_PSTAT_MSGS_DROPPED, &v),
           AIRS_OK);
  CHECK_EQ(v, 2);
  CHECK_EQ(poll_all(rt), 1);
  CHECK_EQ(r.n, 3);
  CHECK_ST(airs_process_stat_get(rt, pid, AIRS_PSTAT_MAILBOX_DEPTH, &v),
           AIRS_OK);
  CHECK_EQ(v, 0);
  CHECK_ST(airs_process_stat_get(rt, pid, AIRS_PSTAT_MSGS_HANDLED, &v),
           AIRS_OK);
  CHECK_EQ(v, 3);
  CHECK_ST(airs_process_stat_get(rt, pid, AIRS_PSTAT_MSGS_ENQUEUED, &v),
           AIRS_OK);
  CHECK_EQ(v, 3);
  /* Signals count in the depth and bypass the capacity. */
  for (i = 0; i < 3; i++) CHECK_ST(airs_send(rt, pid, 1, NULL, 0), AIRS_OK);
  CHECK_ST(airs_send_exit(rt, pid, AIRS_EXIT_NORMAL, 0, NULL), AIRS_OK);
  CHECK_ST(airs_process_stat_get(rt, pid, AIRS_PSTAT_MAILBOX_DEPTH, &v),
           AIRS_OK);
  CHECK_EQ(v, 4);
  CHECK_EQ(poll_all(rt), 1);
  CHECK_EQ(r.n, 6);

  /* Bad input leaves *value alone. */
  v = 4242;
  CHECK_ST(airs_process_stat_get(NULL, pid, AIRS_PSTAT_MAILBOX_DEPTH, &v),
           AIRS_EINVAL);
  CHECK_ST(airs_process_stat_get(rt, pid, AIRS_PSTAT_MAILBOX_DEPTH, NULL),
           AIRS_EINVAL);
  CHECK_ST(airs_process_stat_get(rt, pid, (airs_process_stat)0, &v),
           AIRS_EINVAL);
  CHECK_ST(airs_process_stat_get(rt, pid, (airs_process_stat)6, &v),
           AIRS_EINVAL);
  CHECK_ST(airs_process_stat_get(rt, AIRS_NO_PID, AIRS_PSTAT_MAILBOX_DEPTH, &v),
           AIRS_ENOPROC);
  CHECK_EQ(v, 4242);
  CHECK_ST(airs_kill(rt, pid), AIRS_OK);
  CHECK_EQ(poll_all(rt), 1);
  CHECK_ST(airs_process_stat_get(rt, pid, AIRS_PSTAT_MSGS_HANDLED, &v),
           AIRS_ENOPROC);
  CHECK_EQ(v, 4242);
  airs_runtime_free(rt);
}

/* ---- links -------------------------------------------------------------- */

static void test_links(void) {
  airs_runtime* rt = make_host_runtime(10);
  recorder p, q, child, a, bb;
  op_result pres, qres, ares, bres;
  airs_pid ppid, qpid, apid, bpid, cpid, stale, never;
  CHECK(rt != NULL);
  if (!rt) return;
  g_child = &child;

  /* A linked child's error reaches its trapping parent as a message. */
  ppid = spawn_op(rt, &p, &pres, 1);
  memset(&child, 0, sizeof child);
  child.on_msg = op_msg;
  CHECK_EQ(run_op(rt, ppid, &pres, OP_SPAWN_LINKED, 0, AIRS_OK), 1);
  cpid = pres.pid;
  CHECK(cpid != AIRS_NO_PID);
  CHECK_EQ(run_op(rt, cpid, NULL, OP_EXIT_ERROR, 0, AIRS_OK), 2);
  CHECK_EQ(child.terminates, 1);
  CHECK_EQ(p.n, 2);
  CHECK_EQ(last_msg(&p)->type, AIRS_MSG_EXIT);
  CHECK_EQ(last_msg(&p)->sender, cpid);
  CHECK_EQ(last_msg(&p)->reason_kind, AIRS_EXIT_ERROR);
  CHECK_EQ(last_msg(&p)->reason_code, 42);
  CHECK_STR(last_msg(&p)->reason_text, "boom");
  CHECK(airs_is_alive(rt, ppid));
  /* A normal end reaches a trapping parent as a message too (OTP). */
  memset(&child, 0, sizeof child);
  child.on_msg = op_msg;
  CHECK_EQ(run_op(rt, ppid, &pres, OP_SPAWN_LINKED, 0, AIRS_OK), 1);
  cpid = pres.pid;
  CHECK_EQ(run_op(rt, cpid, NULL, OP_EXIT_NORMAL, 0, AIRS_OK), 2);
  CHECK_EQ(p.n, 4);
  CHECK_EQ(last_msg(&p)->type, AIRS_MSG_EXIT);
  CHECK_EQ(last_msg(&p)->sender, cpid);
  CHECK_EQ(last_msg(&p)->reason_kind, AIRS_EXIT_NORMAL);

  /* Without trapping, the parent dies with the child's reason, but not of
   * a normal end. */
  qpid = spawn_op(rt, &q, &qres, 0);
  memset(&child, 0, sizeof child);
  child.on_msg = op_msg;
  CHECK_EQ(run_op(rt, qpid, &qres, OP_SPAWN_LINKED, 0, AIRS_OK), 1);
  CHECK_EQ(run_op(rt, qres.pid, NULL, OP_EXIT_NORMAL, 0, AIRS_OK), 2);
  CHECK(airs_is_alive(rt, qpid));
  CHECK_EQ(q.n, 1);
  memset(&child, 0, sizeof child);
  child.on_msg = op_msg;
  CHECK_EQ(run_op(rt, qpid, &qres, OP_SPAWN_LINKED, 0, AIRS_OK), 1);
  CHECK_EQ(run_op(rt, qres.pid, NULL, OP_EXIT_ERROR, 0, AIRS_OK), 2);
  CHECK(!airs_is_alive(rt, qpid));
  CHECK_EQ(q.terminates, 1);
  CHECK_EQ(q.term_kind, AIRS_EXIT_ERROR);
  CHECK_EQ(q.term_code, 42);
  CHECK_STR(q.term_text, "boom");

  /* airs_link works both ways; twice is once. */
  apid = spawn_op(rt, &a, &ares, 1);
  bpid = spawn_op(rt, &bb, &bres, 0);
  CHECK_EQ(run_op(rt, apid, &ares, OP_LINK, bpid, AIRS_OK), 2);
  CHECK_EQ(run_op(rt, apid, &ares, OP_LINK, bpid, AIRS_OK), 1);
  CHECK_EQ(run_op(rt, bpid, NULL, OP_EXIT_ERROR, 0, AIRS_OK), 2);
  CHECK_EQ(a.n, 3);
  CHECK_EQ(last_msg(&a)->type, AIRS_MSG_EXIT);
  CHECK_EQ(last_msg(&a)->sender, bpid);
  CHECK_EQ(last_msg(&a)->reason_code, 42);
  bpid = spawn_op(rt, &bb, &bres, 0);
  CHECK_EQ(run_op(rt, apid, &ares, OP_LINK, bpid, AIRS_OK), 2);
  CHECK_EQ(run_op(rt, apid, &ares, OP_EXIT_ERROR, 0, AIRS_OK), 2);
  CHECK_EQ(bb.terminates, 1);
  CHECK_EQ(bb.term_kind, AIRS_EXIT_ERROR);
  CHECK_EQ(bb.term_code, 42);

  /* Unlinked: no signal. Unlinking what is not linked is fine. */
  apid = spawn_op(rt, &a, &ares, 1);
  bpid = spawn_op(rt, &bb, &bres, 0);
  CHECK_EQ(run_op(rt, apid, &ares, OP_LINK, bpid, AIRS_OK), 2);
  /* Three turns: b drops its end and answers, then a drops its own. */
  CHECK_EQ(run_op(rt, apid, &ares, OP_UNLINK, bpid, AIRS_OK), 3);
  CHECK_EQ(run_op(rt, apid, &ares, OP_UNLINK, bpid, AIRS_OK), 1);
  CHECK_EQ(run_op(rt, apid, &ares, OP_UNLINK, AIRS_NO_PID, AIRS_OK), 1);
  CHECK_EQ(run_op(rt, bpid, NULL, OP_EXIT_ERROR, 0, AIRS_OK), 1);
  CHECK_EQ(a.n, 4);
  CHECK(airs_is_alive(rt, apid));

  /* Bad input; a dead pid gives a noproc exit signal at once. */
  stale = bpid;
  never = test_pid_make(apid, 777, 1); /* slot 777 never held one */
  /* Linking to self does nothing, as in Erlang. */
  CHECK_EQ(run_op(rt, apid, &ares, OP_LINK, apid, AIRS_OK), 1);
  CHECK_EQ(run_op(rt, apid, &ares, OP_LINK, AIRS_NO_PID, AIRS_ENOPROC), 1);
  CHECK_EQ(run_op(rt, apid, &ares, OP_LINK, never, AIRS_ENOPROC), 1);
  CHECK_EQ(a.n, 7);
  CHECK_EQ(run_op(rt, apid, &ares, OP_LINK, stale, AIRS_OK), 1);
  CHECK_EQ(a.n, 9);
  CHECK_EQ(last_msg(&a)->type, AIRS_MSG_EXIT);
  CHECK_EQ(last_msg(&a)->sender, stale);
  CHECK_EQ(last_msg(&a)->reason_kind, AIRS_EXIT_NOPROC);
  CHECK(airs_is_alive(rt, apid));
  airs_runtime_free(rt);
  CHECK_EQ(a.freed + bb.freed + p.freed + q.freed, 4);
}

/* ---- monitors ----------------------------------------------------------- */

static void test_monitors(void) {
  airs_runtime* rt = make_host_runtime(10);
  recorder a, bb;
  op_result ares, bres;
  airs_pid apid, bpid, stale;
  uint64_t ref1, ref2;
  const rec_msg *d1, *d2;
  CHECK(rt != NULL);
  if (!rt) return;
  apid = spawn_op(rt, &a, &ares, 0);
  bpid = spawn_op(rt, &bb, &bres, 0);

  /* Two monitors, two down messages with their refs. */
  CHECK_EQ(run_op(rt, apid, &ares, OP_MONITOR, bpid, AIRS_OK), 2);
  ref1 = ares.ref;
  CHECK(ref1 != 0);
  CHECK_EQ(run_op(rt, apid, &ares, OP_MONITOR, bpid, AIRS_OK), 2);
  ref2 = ares.ref;
  CHECK(ref2 != 0 && ref2 != ref1);
  CHECK_EQ(run_op(rt, bpid, NULL, OP_EXIT_ERROR, 0, AIRS_OK), 2);
  CHECK_EQ(a.n, 4);
  d1 = &a.msgs[2];
  d2 = &a.msgs[3];
  CHECK_EQ(d1->type, AIRS_MSG_DOWN);
  CHECK_EQ(d2->type, AIRS_MSG_DOWN);
  CHECK_EQ(d1->sender, bpid);
  CHECK_EQ(d2->sender, bpid);
  CHECK((d1->correlation == ref1 && d2->correlation == ref2) ||
        (d1->correlation == ref2 && d2->correlation == ref1));
  CHECK(d1->has_reason);
  CHECK_EQ(d1->reason_kind, AIRS_EXIT_ERROR);
  CHECK_EQ(d1->reason_code, 42);
  CHECK_STR(d1->reason_text, "boom");
  CHECK(airs_is_alive(rt, apid)); /* a monitor does not kill */
  /* A ref that has fired is no longer active: demonitor is still fine. */
  CHECK_EQ(run_op(rt, apid, &ares, OP_DEMONITOR, ref1, AIRS_OK), 1);

  /* A dead pid: down(noproc) at once. */
  stale = bpid;
  CHECK_EQ(run_op(rt, apid, &ares, OP_MONITOR, stale, AIRS_OK), 1);
  CHECK_EQ(a.n, 7);
  CHECK_EQ(last_msg(&a)->type, AIRS_MSG_DOWN);
  CHECK_EQ(last_msg(&a)->sender, stale);
  CHECK_EQ(last_msg(&a)->correlation, ares.ref);
  CHECK_EQ(last_msg(&a)->reason_kind, AIRS_EXIT_NOPROC);

  /* Demonitored: no down message; a normal end gives down(normal). */
  bpid = spawn_op(rt, &bb, &bres, 0);
  CHECK_EQ(run_op(rt, apid, &ares, OP_MONITOR, bpid, AIRS_OK), 2);
  ref1 = ares.ref;
  CHECK_EQ(run_op(rt, apid, &ares, OP_MONITOR, bpid, AIRS_OK), 2);
  ref2 = ares.ref;
  CHECK_EQ(run_op(rt, apid, &ares, OP_DEMONITOR, ref1, AIRS_OK), 2);
  /* As Erlang's demonitor: a ref that is no monitor (any more) is fine. */
  CHECK_EQ(run_op(rt, apid, &ares, OP_DEMONITOR, ref1, AIRS_OK), 1);
  CHECK_EQ(run_op(rt, apid, &ares, OP_DEMONITOR, 0, AIRS_OK), 1);
  CHECK_EQ(a.n, 12);
  CHECK_EQ(run_op(rt, bpid, NULL, OP_EXIT_NORMAL, 0, AIRS_OK), 2);
  CHECK_EQ(a.n, 13);
  CHECK_EQ(last_msg(&a)->type, AIRS_MSG_DOWN);
  CHECK_EQ(last_msg(&a)->correlation, ref2);
  CHECK_EQ(last_msg(&a)->reason_kind, AIRS_EXIT_NORMAL);
  CHECK_EQ(poll_all(rt), 0);

  /* Bad input. */
  ares.ref = 4242;
  CHECK_EQ(run_op(rt, apid, &ares, OP_MONITOR_NULL, stale, AIRS_EINVAL), 1);
  CHECK_EQ(run_op(rt, apid, &ares, OP_MONITOR, AIRS_NO_PID, AIRS_ENOPROC), 1);
  CHECK_EQ(ares.ref, 4242);
  CHECK_EQ(a.n, 15); /* and no down message came of them */
  /* A monitor of self, as in Erlang: made, no DOWN, demonitor is fine. */
  CHECK_EQ(run_op(rt, apid, &ares, OP_MONITOR, apid, AIRS_OK), 1);
  CHECK(ares.ref != 4242 && ares.ref != 0);
  CHECK_EQ(run_op(rt, apid, &ares, OP_DEMONITOR, ares.ref, AIRS_OK), 1);
  CHECK_EQ(a.n, 17);
  airs_runtime_free(rt);
  CHECK_EQ(a.freed, 1);
}

/* ---- a pid given to the wrong runtime ----------------------------------- */

/* Two runtimes whose first processes sit in the same slot: a pid of one
 * must name nothing in the other (issue: it addressed an unrelated
 * process there). */
static void test_pid_of_another_runtime(void) {
  airs_runtime* a = make_host_runtime(10);
  airs_runtime* b = make_host_runtime(10);
  recorder ra, rb;
  op_result resa, resb;
  airs_pid pa, pb;
  uint64_t value = 0;
  CHECK(a != NULL && b != NULL);
  if (!a || !b) return;
  pa = spawn_op(a, &ra, &resa, 0);
  pb = spawn_op(b, &rb, &resb, 1);
  CHECK(pa != AIRS_NO_PID && pb != AIRS_NO_PID);
  CHECK(pa != pb);
  CHECK(!airs_is_alive(b, pa));
  CHECK(!airs_is_alive(a, pb));
  CHECK_ST(airs_send(b, pa, 7, NULL, 0), AIRS_ENOPROC);
  CHECK_ST(airs_send(a, pb, 7, NULL, 0), AIRS_ENOPROC);
  CHECK_ST(airs_send_exit(b, pa, AIRS_EXIT_ERROR, 1, "x"), AIRS_ENOPROC);
  CHECK_ST(airs_stop(b, pa), AIRS_ENOPROC);
  CHECK_ST(airs_kill(b, pa), AIRS_ENOPROC);
  CHECK_ST(airs_process_stat_get(b, pa, AIRS_PSTAT_MAILBOX_DEPTH, &value),
           AIRS_ENOPROC);
  CHECK_ST(airs_wait(b, pa, 0), AIRS_OK); /* not alive there: gone at once */
  /* Links and monitors made in b to a's pid: no such process there. */
  CHECK_EQ(run_op(b, pb, &resb, OP_LINK, pa, AIRS_ENOPROC), 1);
  CHECK_EQ(run_op(b, pb, &resb, OP_MONITOR, pa, AIRS_ENOPROC), 1);
  /* Nothing reached either process but their own commands. */
  CHECK_EQ(poll_all(a), 0);
  CHECK_EQ(ra.n, 0);
  CHECK_EQ(rb.n, 2);
  CHECK(airs_is_alive(a, pa));
  CHECK(airs_is_alive(b, pb));
  airs_runtime_free(b);
  CHECK(airs_is_alive(a, pa));
  airs_runtime_free(a);
}

int main(void) {
  test_spawn_failures();
  test_spawn();
  test_ctx_misuse();
  test_exit_reasons();
  test_exit_signals();
  test_wait();
  test_wait_many();
  test_process_stats();
  test_links();
  test_monitors();
  test_pid_of_another_runtime();
  return CHECK_DONE();
}
