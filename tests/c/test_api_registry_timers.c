/*
 * test_api_registry_timers.c - process names (register, whereis,
 * unregister, release at exit) and timers (send_after, cancel, the manual
 * clock, next_timer_ms, dead letters of timers).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>

#include "check.h"
#include "helpers.h"

/* ---- registry ----------------------------------------------------------- */

static airs_status register_self(recorder* r, airs_ctx* ctx,
                                 const airs_msg* msg) {
  (void)msg;
  CHECK_ST(
      airs_register(airs_ctx_runtime(ctx), (const char*)r->arg, airs_self(ctx)),
      AIRS_OK);
  return AIRS_OK;
}

static void test_registry(void) {
  airs_runtime* rt = make_runtime(0, 0);
  airs_runtime* rt2 = make_runtime(0, 0);
  recorder a, b, c;
  airs_pid pa, pb, pc, out, stale;
  char name[AIRS_NAME_MAX + 2];
  char buf[16] = "copied";
  CHECK(rt != NULL && rt2 != NULL);
  if (!rt || !rt2) return;
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  memset(&c, 0, sizeof c);
  pa = spawn_rec(rt, &a, NULL);
  pb = spawn_rec(rt, &b, NULL);

  CHECK_ST(airs_register(rt, "alpha", pa), AIRS_OK);
  out = 4242;
  CHECK_ST(airs_whereis(rt, "alpha", &out), AIRS_OK);
  CHECK_EQ(out, pa);
  /* The name is taken; a process has one name at most. */
  CHECK_ST(airs_register(rt, "alpha", pb), AIRS_EEXIST);
  CHECK_ST(airs_register(rt, "alpha", pa), AIRS_EEXIST);
  CHECK_ST(airs_register(rt, "beta", pa), AIRS_EEXIST);
  CHECK_ST(airs_register(rt, "beta", pb), AIRS_OK);
  CHECK_ST(airs_whereis(rt, "beta", &out), AIRS_OK);
  CHECK_EQ(out, pb);
  /* Names belong to one runtime. */
  out = 4242;
  CHECK_ST(airs_whereis(rt2, "alpha", &out), AIRS_ENOTFOUND);
  CHECK_EQ(out, 4242);
  /* Unregister: the name and the process are free again. */
  CHECK_ST(airs_unregister(rt, "alpha"), AIRS_OK);
  CHECK_ST(airs_whereis(rt, "alpha", &out), AIRS_ENOTFOUND);
  CHECK_EQ(out, 4242);
  CHECK_ST(airs_unregister(rt, "alpha"), AIRS_ENOTFOUND);
  CHECK_ST(airs_register(rt, "gamma", pa), AIRS_OK);
  CHECK(airs_is_alive(rt, pa));
  /* The name is copied. */
  CHECK_ST(airs_unregister(rt, "gamma"), AIRS_OK);
  CHECK_ST(airs_register(rt, buf, pa), AIRS_OK);
  memcpy(buf, "changed", 8);
  CHECK_ST(airs_whereis(rt, "copied", &out), AIRS_OK);
  CHECK_EQ(out, pa);
  CHECK_ST(airs_whereis(rt, "changed", &out), AIRS_ENOTFOUND);

  /* Names are released when the process ends. */
  CHECK_ST(airs_stop(rt, pa), AIRS_OK);
  CHECK_EQ(poll_all(rt), 1);
  out = 4242;
  CHECK_ST(airs_whereis(rt, "copied", &out), AIRS_ENOTFOUND);
  CHECK_EQ(out, 4242);
  stale = pa;
  CHECK_ST(airs_register(rt, "delta", stale), AIRS_ENOPROC);
  CHECK_ST(airs_register(rt, "delta", AIRS_NO_PID), AIRS_ENOPROC);
  CHECK_ST(airs_whereis(rt, "delta", &out), AIRS_ENOTFOUND);
  CHECK_ST(airs_register(rt, "copied", pb), AIRS_EEXIST); /* pb is "beta" */
  CHECK_ST(airs_kill(rt, pb), AIRS_OK);
  CHECK_EQ(poll_all(rt), 1);
  CHECK_ST(airs_unregister(rt, "beta"), AIRS_ENOTFOUND);

  /* A process registers itself from a callback. */
  c.on_msg = register_self;
  c.arg = (void*)"self";
  pc = spawn_rec(rt, &c, NULL);
  CHECK_ST(airs_send(rt, pc, 1, NULL, 0), AIRS_OK);
  CHECK_EQ(poll_all(rt), 1);
  CHECK_ST(airs_whereis(rt, "self", &out), AIRS_OK);
  CHECK_EQ(out, pc);

  /* Name lengths: 1..AIRS_NAME_MAX bytes. */
  memset(name, 'n', sizeof name);
  name[AIRS_NAME_MAX] = '\0';
  CHECK_ST(airs_unregister(rt, "self"), AIRS_OK);
  CHECK_ST(airs_register(rt, name, pc), AIRS_OK);
  CHECK_ST(airs_whereis(rt, name, &out), AIRS_OK);
  CHECK_EQ(out, pc);
  CHECK_ST(airs_unregister(rt, name), AIRS_OK);
  name[AIRS_NAME_MAX] = 'n';
  name[AIRS_NAME_MAX + 1] = '\0';
  out = 4242;
  CHECK_ST(airs_register(rt, name, pc), AIRS_EINVAL);
  CHECK_ST(airs_whereis(rt, name, &out), AIRS_EINVAL);
  CHECK_ST(airs_unregister(rt, name), AIRS_EINVAL);
  CHECK_ST(airs_register(rt, "", pc), AIRS_EINVAL);
  CHECK_ST(airs_whereis(rt, "", &out), AIRS_EINVAL);
  CHECK_ST(airs_unregister(rt, ""), AIRS_EINVAL);
  CHECK_ST(airs_register(rt, NULL, pc), AIRS_EINVAL);
  CHECK_ST(airs_whereis(rt, NULL, &out), AIRS_EINVAL);
  CHECK_ST(airs_unregister(rt, NULL), AIRS_EINVAL);
  CHECK_ST(airs_register(NULL, "x", pc), AIRS_EINVAL);
  CHECK_ST(airs_whereis(NULL, "x", &out), AIRS_EINVAL);
  CHECK_ST(airs_unregister(NULL, "x"), AIRS_EINVAL);
  CHECK_ST(airs_register(rt, "x", pc), AIRS_OK);
  CHECK_ST(airs_whereis(rt, "x", NULL), AIRS_EINVAL);
  CHECK_EQ(out, 4242);
  airs_runtime_free(rt);
  airs_runtime_free(rt2);
  CHECK_EQ(a.freed + b.freed + c.freed, 3);
}

/* ---- timers ------------------------------------------------------------- */

typedef struct dead_log {
  int n;
  airs_pid to;
  uint64_t type;
  airs_dead_letter_reason reason;
} dead_log;

static void on_dead(void* user_data, airs_pid to, const airs_msg* msg,
                    airs_dead_letter_reason reason) {
  dead_log* d = (dead_log*)user_data;
  d->n++;
  d->to = to;
  d->type = airs_msg_type(msg);
  d->reason = reason;
}

static airs_status timer_from_callback(recorder* r, airs_ctx* ctx,
                                       const airs_msg* msg) {
  airs_msg* m = NULL;
  uint64_t id = 0;
  (void)r;
  if (airs_msg_type(msg) != 1) return AIRS_OK;
  CHECK_ST(airs_msg_new(2, NULL, 0, &m), AIRS_OK);
  CHECK_ST(airs_send_after(airs_ctx_runtime(ctx), airs_self(ctx), 5, m, &id),
           AIRS_OK);
  CHECK(id != 0);
  return AIRS_OK;
}

/* During airs_runtime_free no new timer is accepted. */
static void terminate_sets_timer(void* state, airs_ctx* ctx,
                                 const airs_reason* reason) {
  recorder* r = (recorder*)state;
  counter* c = (counter*)r->arg;
  airs_msg* m = NULL;
  uint64_t id = 4242;
  rec_terminate(state, ctx, reason);
  CHECK_ST(airs_msg_new_owned(1, c, sizeof *c, counter_free, &m), AIRS_OK);
  CHECK_ST(airs_send_after(airs_ctx_runtime(ctx), airs_self(ctx), 1, m, &id),
           AIRS_ESTATE);
  CHECK_EQ(id, 4242);
  CHECK_EQ(c->n, 0);
  airs_msg_free(m);
}

static void test_timers_manual(void) {
  airs_runtime* rt = make_runtime(0, 1);
  recorder r, gone, cb;
  airs_pid pid, stale, cpid;
  counter c1 = {0}, c2 = {0}, c3 = {0};
  airs_msg* m = NULL;
  uint64_t id1 = 0, id2 = 0, id = 4242;
  int64_t ms = 4242;
  uint32_t ran = 0;
  dead_log d;
  airs_behaviour b = rec_behaviour();
  CHECK(rt != NULL);
  if (!rt) return;
  memset(&r, 0, sizeof r);
  memset(&gone, 0, sizeof gone);
  memset(&d, 0, sizeof d);
  CHECK_ST(airs_set_dead_letter_hook(rt, on_dead, &d), AIRS_OK);
  pid = spawn_rec(rt, &r, NULL);
  stale = spawn_rec(rt, &gone, NULL);
  CHECK_ST(airs_kill(rt, stale), AIRS_OK);
  CHECK_EQ(poll_all(rt), 1);

  CHECK_ST(airs_runtime_next_timer_ms(rt, &ms), AIRS_OK);
  CHECK_EQ(ms, -1);
  /* Two timers; the clock only moves when we say so. */
  CHECK_ST(airs_msg_new_owned(10, &c1, sizeof c1, counter_free, &m), AIRS_OK);
  CHECK_ST(airs_send_after(rt, pid, 100, m, &id1), AIRS_OK);
  CHECK(id1 != 0);
  CHECK_ST(airs_runtime_next_timer_ms(rt, &ms), AIRS_OK);
  CHECK_EQ(ms, 100);
  CHECK_ST(airs_msg_new(11, "t", 1, &m), AIRS_OK);
  CHECK_ST(airs_send_after(rt, pid, 50, m, NULL), AIRS_OK);
  CHECK_ST(airs_runtime_next_timer_ms(rt, &ms), AIRS_OK);
  CHECK_EQ(ms, 50);
  CHECK_ST(airs_runtime_advance_time(rt, 30), AIRS_OK);
  CHECK_ST(airs_runtime_next_timer_ms(rt, &ms), AIRS_OK);
  CHECK_EQ(ms, 20);
  CHECK_EQ(poll_all(rt), 0);
  CHECK_EQ(r.n, 0);
  CHECK_ST(airs_runtime_advance_time(rt, 0), AIRS_OK);
  CHECK_ST(airs_runtime_advance_time(rt, 20), AIRS_OK);
  CHECK_ST(airs_runtime_next_timer_ms(rt, &ms), AIRS_OK);
  CHECK_EQ(ms, 0); /* due now: fires at the next poll */
  CHECK_EQ(r.n, 0);
  CHECK_ST(airs_runtime_poll(rt, 10, &ran), AIRS_OK);
  CHECK_EQ(ran, 1);
  CHECK_EQ(r.n, 1);
  CHECK_EQ(r.msgs[0].type, 11);
  CHECK_EQ(r.msgs[0].sender, AIRS_NO_PID);
  CHECK_ST(airs_runtime_next_timer_ms(rt, &ms), AIRS_OK);
  CHECK_EQ(ms, 50);
  /* Cancel: the message is freed, the id is gone. */
  CHECK_ST(airs_cancel_timer(rt, id1), AIRS_OK);
  CHECK_EQ(c1.n, 1);
  CHECK_ST(airs_cancel_timer(rt, id1), AIRS_ENOTFOUND);
  CHECK_ST(airs_runtime_next_timer_ms(rt, &ms), AIRS_OK);
  CHECK_EQ(ms, -1);
  CHECK_ST(airs_runtime_advance_time(rt, 1000), AIRS_OK);
  CHECK_EQ(poll_all(rt), 0);
  CHECK_EQ(r.n, 1);
  /* A fired timer cannot be cancelled. */
  CHECK_ST(airs_msg_new(12, NULL, 0, &m), AIRS_OK);
  CHECK_ST(airs_send_after(rt, pid, 10, m, &id2), AIRS_OK);
  CHECK(id2 != 0 && id2 != id1);
  CHECK_ST(airs_runtime_advance_time(rt, 10), AIRS_OK);
  CHECK_EQ(poll_all(rt), 1);
  CHECK_EQ(r.n, 2);
  CHECK_EQ(r.msgs[1].type, 12);
  CHECK_ST(airs_cancel_timer(rt, id2), AIRS_ENOTFOUND);
  /* Delay 0: due at once. */
  CHECK_ST(airs_msg_new(13, NULL, 0, &m), AIRS_OK);
  CHECK_ST(airs_send_after(rt, pid, 0, m, NULL), AIRS_OK);
  CHECK_ST(airs_runtime_next_timer_ms(rt, &ms), AIRS_OK);
  CHECK_EQ(ms, 0);
  CHECK_EQ(poll_all(rt), 1);
  CHECK_EQ(r.n, 3);
  /* The largest delay is accepted (and cancelled here). */
  CHECK_ST(airs_msg_new(14, NULL, 0, &m), AIRS_OK);
  CHECK_ST(airs_send_after(rt, pid, (uint64_t)1 << 40, m, &id), AIRS_OK);
  CHECK_ST(airs_runtime_next_timer_ms(rt, &ms), AIRS_OK);
  CHECK_EQ(ms, (int64_t)1 << 40);
  CHECK_ST(airs_cancel_timer(rt, id), AIRS_OK);

  /* Bad input: the message stays ours, *timer_id untouched. */
  CHECK_ST(airs_msg_new_owned(15, &c2, sizeof c2, counter_free, &m), AIRS_OK);
  id = 4242;
  CHECK_ST(airs_send_after(NULL, pid, 1, m, &id), AIRS_EINVAL);
  CHECK_ST(airs_send_after(rt, pid, 1, NULL, &id), AIRS_EINVAL);
  CHECK_ST(airs_send_after(rt, pid, ((uint64_t)1 << 40) + 1, m, &id),
           AIRS_EINVAL);
  CHECK_ST(airs_send_after(rt, pid, UINT64_MAX, m, &id), AIRS_EINVAL);
  CHECK_ST(airs_send_after(rt, AIRS_NO_PID, 1, m, &id), AIRS_ENOPROC);
  CHECK_ST(airs_send_after(rt, stale, 1, m, &id), AIRS_ENOPROC);
  CHECK_EQ(id, 4242);
  CHECK_EQ(c2.n, 0);
  CHECK_ST(airs_cancel_timer(NULL, 1), AIRS_EINVAL);
  CHECK_ST(airs_cancel_timer(rt, 0), AIRS_ENOTFOUND);
  CHECK_ST(airs_cancel_timer(rt, 987654321), AIRS_ENOTFOUND);
  CHECK_ST(airs_runtime_advance_time(rt, 1000), AIRS_OK);
  CHECK_EQ(poll_all(rt), 0);
  CHECK_EQ(r.n, 3); /* none of the failed timers fired */

  /* A timer for a process that is gone when it fires: a dead letter. */
  memset(&gone, 0, sizeof gone);
  stale = spawn_rec(rt, &gone, NULL);
  CHECK_ST(airs_send_after(rt, stale, 5, m, &id), AIRS_OK);
  CHECK_ST(airs_stop(rt, stale), AIRS_OK);
  CHECK_EQ(poll_all(rt), 1);
  CHECK_EQ(c2.n, 0);
  CHECK_ST(airs_runtime_advance_time(rt, 5), AIRS_OK);
  CHECK_EQ(poll_all(rt), 0);
  CHECK_EQ(d.n, 1);
  CHECK_EQ(d.to, stale);
  CHECK_EQ(d.type, 15);
  CHECK_EQ(d.reason, AIRS_DEAD_LETTER_TIMER);
  CHECK_EQ(c2.n, 1);
  CHECK_ST(airs_cancel_timer(rt, id), AIRS_ENOTFOUND);

  /* Set from a callback: the sender is that process. */
  memset(&cb, 0, sizeof cb);
  cb.on_msg = timer_from_callback;
  cpid = spawn_rec(rt, &cb, NULL);
  CHECK_ST(airs_send(rt, cpid, 1, NULL, 0), AIRS_OK);
  CHECK_EQ(poll_all(rt), 1);
  CHECK_ST(airs_runtime_advance_time(rt, 5), AIRS_OK);
  CHECK_EQ(poll_all(rt), 1);
  CHECK_EQ(cb.n, 2);
  CHECK_EQ(cb.msgs[1].type, 2);
  CHECK_EQ(cb.msgs[1].sender, cpid);

  /* No timers while the runtime shuts down. */
  memset(&gone, 0, sizeof gone);
  gone.arg = &c3;
  b.terminate = terminate_sets_timer;
  CHECK_ST(airs_spawn(rt, &b, &gone, rec_free, NULL, &stale), AIRS_OK);
  airs_runtime_free(rt);
  CHECK_EQ(gone.terminates, 1);
  CHECK_EQ(c3.n, 1);
}

static void test_timers_threaded(void) {
  airs_runtime* rt = make_runtime(2, 1);
  airs_runtime* mono = make_runtime(0, 0);
  recorder r;
  airs_pid pid;
  airs_msg* m = NULL;
  int64_t ms = 0;
  double t0;
  CHECK(rt != NULL && mono != NULL);
  if (!rt || !mono) return;
  /* Manual clock with worker threads: advancing fires at once. */
  memset(&r, 0, sizeof r);
  r.on_msg = rec_exit_normal;
  pid = spawn_rec(rt, &r, NULL);
  CHECK_ST(airs_msg_new(1, NULL, 0, &m), AIRS_OK);
  CHECK_ST(airs_send_after(rt, pid, 1000, m, NULL), AIRS_OK);
  CHECK_ST(airs_runtime_advance_time(rt, 999), AIRS_OK);
  CHECK_ST(airs_wait(rt, pid, 20), AIRS_ETIMEDOUT);
  CHECK_ST(airs_runtime_advance_time(rt, 1), AIRS_OK);
  CHECK_ST(airs_wait(rt, pid, 2000), AIRS_OK);
  CHECK_EQ(r.n, 1);
  airs_runtime_free(rt);

  /* The monotonic clock, host-driven: airs_wait polls, timers fire. */
  memset(&r, 0, sizeof r);
  r.on_msg = rec_exit_normal;
  pid = spawn_rec(mono, &r, NULL);
  CHECK_ST(airs_msg_new(1, NULL, 0, &m), AIRS_OK);
  t0 = now_ms();
  CHECK_ST(airs_send_after(mono, pid, 5, m, NULL), AIRS_OK);
  CHECK_ST(airs_runtime_next_timer_ms(mono, &ms), AIRS_OK);
  CHECK(ms >= 0 && ms <= 5);
  CHECK_ST(airs_runtime_advance_time(mono, 5), AIRS_ESTATE);
  CHECK_ST(airs_wait(mono, pid, 2000), AIRS_OK);
  CHECK(now_ms() - t0 >= 4.0);
  CHECK_EQ(r.n, 1);
  airs_runtime_free(mono);
}

int main(void) {
  test_registry();
  test_timers_manual();
  test_timers_threaded();
  return CHECK_DONE();
}
