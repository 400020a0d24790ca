/*
 * test_api_pools_stats.c - pools and runtime statistics through the C
 * header: every failure the header documents for airs_pool_* and
 * airs_runtime_stats_get (its status, a fresh last error message and
 * out-parameters left untouched), a working call of each, and the
 * AIRS_CFG_EVENTS key. Runtimes are host-driven, so results are exact.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>

#include "check.h"
#include "helpers.h"

/* ---- runtime statistics ------------------------------------------------- */

static airs_runtime_stats fresh_stats(void) {
  airs_runtime_stats s;
  memset(&s, 0x5A, sizeof s);
  s.version = AIRS_RUNTIME_STATS_VERSION;
  s.size = sizeof s;
  return s;
}

/* A failing call left every byte of *s as it was. */
static int untouched(const airs_runtime_stats* s,
                     const airs_runtime_stats* before) {
  return memcmp(s, before, sizeof *s) == 0;
}

static void test_stats_errors(void) {
  airs_runtime* rt = make_host_runtime(20);
  airs_runtime* freed = make_host_runtime(20);
  airs_runtime_stats s, before;
  CHECK(rt != NULL && freed != NULL);
  if (!rt || !freed) return;
  airs_runtime_free(freed);

  s = fresh_stats();
  before = s;
  CHECK_ST(airs_runtime_stats_get(NULL, &s), AIRS_EINVAL);
  CHECK(untouched(&s, &before));
  CHECK_ST(airs_runtime_stats_get(freed, &s), AIRS_ESTATE);
  CHECK(untouched(&s, &before));
  CHECK_ST(airs_runtime_stats_get(rt, NULL), AIRS_EINVAL);

  s.version = 0; /* not set */
  before = s;
  CHECK_ST(airs_runtime_stats_get(rt, &s), AIRS_EINVAL);
  CHECK(untouched(&s, &before));
  s = fresh_stats();
  s.size = sizeof s - 8; /* too small for version 1 */
  before = s;
  CHECK_ST(airs_runtime_stats_get(rt, &s), AIRS_EINVAL);
  CHECK(untouched(&s, &before));
  s.size = 0;
  before = s;
  CHECK_ST(airs_runtime_stats_get(rt, &s), AIRS_EINVAL);
  CHECK(untouched(&s, &before));
  airs_runtime_free(rt);
}

static void test_stats_counts(void) {
  airs_runtime* rt = make_host_runtime(20);
  recorder a, b;
  airs_pid pa, pb;
  airs_runtime_stats s;
  CHECK(rt != NULL);
  if (!rt) return;
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);

  s = fresh_stats();
  CHECK_ST(airs_runtime_stats_get(rt, &s), AIRS_OK);
  CHECK_EQ(s.version, AIRS_RUNTIME_STATS_VERSION);
  CHECK_EQ(s.size, sizeof s);
  CHECK_EQ(s.processes_alive, 0);
  CHECK_EQ(s.processes_spawned, 0);
  CHECK_EQ(s.processes_exited, 0);
  CHECK_EQ(s.messages_sent, 0);
  CHECK_EQ(s.messages_delivered, 0);
  CHECK_EQ(s.messages_dropped, 0);
  CHECK_EQ(s.dead_letters, 0);
  CHECK_EQ(s.restarts, 0);

  b.on_msg = rec_exit_normal;
  pa = spawn_rec(rt, &a, NULL);
  pb = spawn_rec(rt, &b, NULL);
  CHECK_ST(airs_send(rt, pa, 1, "x", 1), AIRS_OK);
  CHECK_ST(airs_send(rt, pa, 2, NULL, 0), AIRS_OK);
  CHECK_ST(airs_send(rt, pb, 3, NULL, 0), AIRS_OK); /* b ends */
  CHECK_ST(airs_send(rt, pb, 4, NULL, 0), AIRS_OK); /* a dead letter */
  CHECK(poll_all(rt) > 0);
  CHECK_ST(airs_send(rt, pb, 5, NULL, 0), AIRS_ENOPROC); /* another */

  s = fresh_stats();
  CHECK_ST(airs_runtime_stats_get(rt, &s), AIRS_OK);
  CHECK_EQ(s.processes_alive, 1);
  CHECK_EQ(s.processes_spawned, 2);
  CHECK_EQ(s.processes_exited, 1);
  CHECK_EQ(s.messages_sent, 4);
  CHECK_EQ(s.messages_delivered, 3);
  CHECK_EQ(s.messages_dropped, 0);
  CHECK_EQ(s.dead_letters, 2);
  CHECK_EQ(s.restarts, 0);

  /* A larger struct of a later version: the first part is filled, the
   * rest left alone. */
  {
    struct {
      airs_runtime_stats v1;
      uint64_t later;
    } big;
    memset(&big, 0x5A, sizeof big);
    big.v1.version = AIRS_RUNTIME_STATS_VERSION + 1;
    big.v1.size = sizeof big;
    CHECK_ST(airs_runtime_stats_get(rt, &big.v1), AIRS_OK);
    CHECK_EQ(big.v1.processes_spawned, 2);
    CHECK_EQ(big.v1.version, AIRS_RUNTIME_STATS_VERSION + 1);
    CHECK(big.later == 0x5A5A5A5A5A5A5A5Aull);
  }
  airs_runtime_free(rt);
}

/* ---- AIRS_CFG_EVENTS ----------------------------------------------------- */

static int g_events;
static void count_event(void* user_data, const airs_event* e) {
  (void)user_data;
  (void)e;
  g_events++;
}

static void test_events_key(void) {
  airs_config* cfg = NULL;
  airs_runtime* rt = NULL;
  int64_t v = 4242;
  recorder r;
  airs_pid pid;
  CHECK_ST(airs_config_new(&cfg), AIRS_OK);
  if (!cfg) return;
  CHECK_ST(airs_config_get(cfg, AIRS_CFG_EVENTS, &v), AIRS_OK);
  CHECK_EQ(v, 1); /* on by default */
  CHECK_ST(airs_config_set(cfg, AIRS_CFG_EVENTS, 2), AIRS_EINVAL);
  CHECK_ST(airs_config_set(cfg, AIRS_CFG_EVENTS, -1), AIRS_EINVAL);
  CHECK_ST(airs_config_set(cfg, AIRS_CFG_EVENTS, 0), AIRS_OK);
  CHECK_ST(airs_config_set(cfg, AIRS_CFG_WORKERS, 0), AIRS_OK);
  CHECK_ST(airs_config_get(cfg, AIRS_CFG_EVENTS, &v), AIRS_OK);
  CHECK_EQ(v, 0);
  CHECK_ST(airs_runtime_new(cfg, &rt), AIRS_OK);
  airs_config_free(cfg);
  if (!rt) return;
  /* The hook is accepted, and never called. */
  g_events = 0;
  memset(&r, 0, sizeof r);
  CHECK_ST(airs_set_event_hook(rt, count_event, NULL), AIRS_OK);
  pid = spawn_rec(rt, &r, NULL);
  CHECK(pid != AIRS_NO_PID);
  CHECK_ST(airs_stop(rt, pid), AIRS_OK);
  CHECK(poll_all(rt) >= 0);
  CHECK_EQ(r.terminates, 1);
  CHECK_EQ(g_events, 0);
  airs_runtime_free(rt);

  /* The default: the same life makes events. */
  rt = make_host_runtime(20);
  if (!rt) return;
  memset(&r, 0, sizeof r);
  CHECK_ST(airs_set_event_hook(rt, count_event, NULL), AIRS_OK);
  pid = spawn_rec(rt, &r, NULL);
  CHECK_ST(airs_stop(rt, pid), AIRS_OK);
  CHECK(poll_all(rt) >= 0);
  CHECK_EQ(g_events, 2); /* spawned, exited */
  airs_runtime_free(rt);
}

/* ---- pools ----------------------------------------------------------------
 */

static void test_pool_errors(void) {
  airs_runtime* rt = make_host_runtime(20);
  airs_runtime* freed = make_host_runtime(20);
  recorder a, b;
  airs_pid pa, pb, out = 4242, list[4] = {4242, 4242, 4242, 4242};
  size_t count = 4242;
  const char* bad_names[3];
  int i;
  CHECK(rt != NULL && freed != NULL);
  if (!rt || !freed) return;
  airs_runtime_free(freed);
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  b.on_msg = rec_exit_normal;
  pa = spawn_rec(rt, &a, NULL);
  pb = spawn_rec(rt, &b, NULL);
  CHECK_ST(airs_send(rt, pb, 1, NULL, 0), AIRS_OK);
  CHECK(poll_all(rt) > 0);
  CHECK(!airs_is_alive(rt, pb)); /* pb: a stale pid */

  /* The runtime: NULL, or freed. */
  CHECK_ST(airs_pool_join(NULL, "p", pa), AIRS_EINVAL);
  CHECK_ST(airs_pool_join(freed, "p", pa), AIRS_ESTATE);
  CHECK_ST(airs_pool_leave(NULL, "p", pa), AIRS_EINVAL);
  CHECK_ST(airs_pool_leave(freed, "p", pa), AIRS_ESTATE);
  CHECK_ST(airs_pool_pick(NULL, "p", AIRS_PICK_ROUND_ROBIN, &out), AIRS_EINVAL);
  CHECK_ST(airs_pool_pick(freed, "p", AIRS_PICK_ROUND_ROBIN, &out),
           AIRS_ESTATE);
  CHECK_ST(airs_pool_members(NULL, "p", list, 4, &count), AIRS_EINVAL);
  CHECK_ST(airs_pool_members(freed, "p", list, 4, &count), AIRS_ESTATE);

  /* The pool name: NULL, empty, too long. */
  bad_names[0] = NULL;
  bad_names[1] = "";
  bad_names[2] = too_long_name();
  for (i = 0; i < 3; i++) {
    CHECK_ST(airs_pool_join(rt, bad_names[i], pa), AIRS_EINVAL);
    CHECK_ST(airs_pool_leave(rt, bad_names[i], pa), AIRS_EINVAL);
    CHECK_ST(airs_pool_pick(rt, bad_names[i], AIRS_PICK_RANDOM, &out),
             AIRS_EINVAL);
    CHECK_ST(airs_pool_members(rt, bad_names[i], list, 4, &count), AIRS_EINVAL);
  }
  /* The longest name is fine. */
  {
    char longest[AIRS_NAME_MAX + 1];
    memset(longest, 'n', AIRS_NAME_MAX);
    longest[AIRS_NAME_MAX] = '\0';
    CHECK_ST(airs_pool_join(rt, longest, pa), AIRS_OK);
    CHECK_ST(airs_pool_leave(rt, longest, pa), AIRS_OK);
  }

  /* join: a pid that is not alive, or 0. */
  CHECK_ST(airs_pool_join(rt, "p", pb), AIRS_ENOPROC);
  CHECK_ST(airs_pool_join(rt, "p", AIRS_NO_PID), AIRS_ENOPROC);
  CHECK_ST(airs_pool_join(rt, "p", pa + 12345), AIRS_ENOPROC);

  /* leave: no such pool, or not a member. */
  CHECK_ST(airs_pool_leave(rt, "nope", pa), AIRS_ENOTFOUND);
  CHECK_ST(airs_pool_join(rt, "p", pa), AIRS_OK);
  CHECK_ST(airs_pool_leave(rt, "p", pb), AIRS_ENOTFOUND);
  CHECK_ST(airs_pool_leave(rt, "p", AIRS_NO_PID), AIRS_ENOTFOUND);

  /* pick: NULL out, unknown pick, no such pool or empty. */
  CHECK_ST(airs_pool_pick(rt, "p", AIRS_PICK_ROUND_ROBIN, NULL), AIRS_EINVAL);
  CHECK_ST(airs_pool_pick(rt, "p", (airs_pick)2, &out), AIRS_EINVAL);
  CHECK_ST(airs_pool_pick(rt, "p", (airs_pick)-1, &out), AIRS_EINVAL);
  CHECK_EQ(out, 4242);
  CHECK_ST(airs_pool_pick(rt, "nope", AIRS_PICK_ROUND_ROBIN, &out),
           AIRS_ENOTFOUND);
  CHECK_ST(airs_pool_pick(rt, "nope", AIRS_PICK_RANDOM, &out), AIRS_ENOTFOUND);
  CHECK_EQ(out, 4242);

  /* members: NULL count, NULL out with a capacity. */
  CHECK_ST(airs_pool_members(rt, "p", list, 4, NULL), AIRS_EINVAL);
  CHECK_ST(airs_pool_members(rt, "p", NULL, 1, &count), AIRS_EINVAL);
  CHECK_EQ(count, 4242);
  CHECK_EQ(list[0], 4242);

  /* And the working calls. */
  CHECK_ST(airs_pool_members(rt, "p", NULL, 0, &count), AIRS_OK);
  CHECK_EQ(count, 1);
  CHECK_ST(airs_pool_members(rt, "p", list, 4, &count), AIRS_OK);
  CHECK_EQ(count, 1);
  CHECK_EQ(list[0], pa);
  CHECK_EQ(list[1], 4242);
  CHECK_ST(airs_pool_pick(rt, "p", AIRS_PICK_ROUND_ROBIN, &out), AIRS_OK);
  CHECK_EQ(out, pa);
  out = 0;
  CHECK_ST(airs_pool_pick(rt, "p", AIRS_PICK_RANDOM, &out), AIRS_OK);
  CHECK_EQ(out, pa);
  CHECK_ST(airs_pool_join(rt, "p", pa), AIRS_OK); /* twice is once */
  CHECK_ST(airs_pool_leave(rt, "p", pa), AIRS_OK);
  CHECK_ST(airs_pool_leave(rt, "p", pa), AIRS_ENOTFOUND);
  out = 4242;
  CHECK_ST(airs_pool_pick(rt, "p", AIRS_PICK_ROUND_ROBIN, &out),
           AIRS_ENOTFOUND);
  CHECK_EQ(out, 4242);
  CHECK_ST(airs_pool_members(rt, "p", list, 4, &count), AIRS_OK);
  CHECK_EQ(count, 0);

  /* A member that ends is removed. */
  CHECK_ST(airs_pool_join(rt, "p", pa), AIRS_OK);
  CHECK_ST(airs_stop(rt, pa), AIRS_OK);
  CHECK(poll_all(rt) >= 0);
  CHECK_ST(airs_pool_pick(rt, "p", AIRS_PICK_RANDOM, &out), AIRS_ENOTFOUND);
  CHECK_ST(airs_pool_members(rt, "p", NULL, 0, &count), AIRS_OK);
  CHECK_EQ(count, 0);
  airs_runtime_free(rt);
  CHECK_EQ(a.freed, 1);
  CHECK_EQ(b.freed, 1);
}

int main(void) {
  test_stats_errors();
  test_stats_counts();
  test_events_key();
  test_pool_errors();
  return CHECK_DONE();
}
