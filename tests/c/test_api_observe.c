/*
 * test_api_observe.c - what a runtime shows about itself (observe.h): the
 * process list, each process's info and label, its links and monitors
 * (asked of the process), the supervision trees, the top processes, crash
 * reports (to stderr and to a log hook), and the metrics; with every bad
 * argument.
 */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "helpers.h"

static airs_runtime* make_quiet_runtime(int workers, int crash_reports) {
  airs_config* cfg = NULL;
  airs_runtime* rt = NULL;
  if (airs_config_new(&cfg) != AIRS_OK) return NULL;
  if (airs_config_set(cfg, AIRS_CFG_WORKERS, workers) != AIRS_OK ||
      airs_config_set(cfg, AIRS_CFG_CRASH_REPORTS, crash_reports) != AIRS_OK ||
      airs_runtime_new(cfg, &rt) != AIRS_OK)
    rt = NULL;
  airs_config_free(cfg);
  return rt;
}

static airs_process_info info_of(airs_runtime* rt, airs_pid pid,
                                 airs_status* st) {
  airs_process_info info;
  memset(&info, 0, sizeof info);
  info.version = AIRS_PROCESS_INFO_VERSION;
  info.size = sizeof info;
  *st = airs_process_info_get(rt, pid, &info);
  return info;
}

static void sleep_ms(int ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (long)(ms % 1000) * 1000000L;
  nanosleep(&ts, NULL);
}

/* ---- the list ------------------------------------------------------------ */

#define LIST_N 1000

static void test_list(void) {
  airs_runtime* rt = make_runtime(2, 0);
  static recorder recs[LIST_N];
  static airs_pid pids[LIST_N];
  static airs_pid seen[LIST_N + 64];
  airs_pid page[97];
  size_t total = 0, count = 0, i, j, found = 0;
  uint64_t cursor = 0, next = 1;
  int pages = 0;
  CHECK(rt != NULL);
  if (!rt) return;
  memset(recs, 0, sizeof recs);
  for (i = 0; i < LIST_N; i++) pids[i] = spawn_rec(rt, &recs[i], NULL);
  while (next != 0 && pages < 1000) {
    CHECK_ST(airs_process_list(rt, cursor, page, 97, &count, &next), AIRS_OK);
    for (j = 0; j < count && total < LIST_N + 64; j++) seen[total++] = page[j];
    cursor = next;
    pages++;
  }
  CHECK(pages > 10);
  for (i = 0; i < LIST_N; i++)
    for (j = 0; j < total; j++)
      if (seen[j] == pids[i]) {
        found++;
        break;
      }
  CHECK_EQ(found, LIST_N);
  /* An ended process is not listed. */
  CHECK_ST(airs_stop(rt, pids[0]), AIRS_OK);
  CHECK_ST(airs_wait(rt, pids[0], 5000), AIRS_OK);
  cursor = 0;
  next = 1;
  found = 0;
  while (next != 0) {
    CHECK_ST(airs_process_list(rt, cursor, page, 97, &count, &next), AIRS_OK);
    for (j = 0; j < count; j++) found += page[j] == pids[0];
    cursor = next;
  }
  CHECK_EQ(found, 0);
  /* Bad arguments. */
  CHECK_ST(airs_process_list(rt, 0, NULL, 4, &count, &next), AIRS_EINVAL);
  CHECK_ST(airs_process_list(rt, 0, page, 0, &count, &next), AIRS_EINVAL);
  CHECK_ST(airs_process_list(rt, 0, page, 4, NULL, &next), AIRS_EINVAL);
  CHECK_ST(airs_process_list(rt, 0, page, 4, &count, NULL), AIRS_EINVAL);
  CHECK_ST(airs_process_list(NULL, 0, page, 4, &count, &next), AIRS_EINVAL);
  /* A cursor past the end: nothing, and the end. */
  CHECK_ST(airs_process_list(rt, 1u << 30, page, 4, &count, &next), AIRS_OK);
  CHECK_EQ(count, 0);
  CHECK_EQ(next, 0);
  airs_runtime_free(rt);
  CHECK_ST(airs_process_list(rt, 0, page, 4, &count, &next), AIRS_ESTATE);
}

/* ---- info and labels ----------------------------------------------------- */

static airs_status label_init(void* user_data, airs_ctx* ctx, void** state) {
  recorder* r = (recorder*)user_data;
  char too_long[AIRS_LABEL_MAX + 2];
  memset(too_long, 'x', sizeof too_long - 1);
  too_long[sizeof too_long - 1] = '\0';
  *state = r;
  r->inits++;
  if (airs_set_label(ctx, too_long) != AIRS_EINVAL) return AIRS_EINTERNAL;
  return airs_set_label(ctx, "db-writer");
}

static airs_status trap_init(void* user_data, airs_ctx* ctx, void** state) {
  *state = user_data;
  return airs_trap_exit(ctx, true);
}

static void test_info(void) {
  airs_runtime* rt = make_host_runtime(1000);
  recorder a, b;
  airs_behaviour lb = rec_behaviour(), tb = rec_behaviour();
  airs_pid pa = 0, pb = 0;
  airs_process_info info;
  airs_status st;
  CHECK(rt != NULL);
  if (!rt) return;
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  lb.init = label_init;
  tb.init = trap_init;
  CHECK_ST(airs_spawn(rt, &lb, &a, NULL, NULL, &pa), AIRS_OK);
  CHECK_ST(airs_spawn(rt, &tb, &b, NULL, NULL, &pb), AIRS_OK);
  CHECK_ST(airs_register(rt, "writer", pa), AIRS_OK);
  poll_all(rt);
  info = info_of(rt, pa, &st);
  CHECK_ST(st, AIRS_OK);
  CHECK_EQ(info.pid, pa);
  CHECK_STR(info.name, "writer");
  CHECK_STR(info.label, "db-writer");
  CHECK_EQ(info.state, AIRS_PSTATE_WAITING);
  CHECK_EQ(info.flags, 0);
  CHECK_EQ(info.supervisor, 0);
  CHECK_EQ(info.mailbox_depth, 0);
  CHECK(info.memory_bytes > 0);
  /* Three messages waiting (host-driven: nothing runs until a poll). */
  CHECK_ST(airs_send(rt, pa, 1, NULL, 0), AIRS_OK);
  CHECK_ST(airs_send(rt, pa, 2, NULL, 0), AIRS_OK);
  CHECK_ST(airs_send(rt, pa, 3, NULL, 0), AIRS_OK);
  info = info_of(rt, pa, &st);
  CHECK_EQ(info.state, AIRS_PSTATE_RUNNABLE);
  CHECK_EQ(info.mailbox_depth, 3);
  CHECK_EQ(info.messages_in, 3);
  CHECK_EQ(info.messages_handled, 0);
  {
    uint64_t with_mail = info.memory_bytes;
    poll_all(rt);
    info = info_of(rt, pa, &st);
    CHECK(info.memory_bytes < with_mail);
  }
  CHECK_EQ(info.state, AIRS_PSTATE_WAITING);
  CHECK_EQ(info.mailbox_depth, 0);
  CHECK_EQ(info.messages_handled, 3);
  info = info_of(rt, pb, &st);
  CHECK_ST(st, AIRS_OK);
  CHECK_EQ(info.flags, AIRS_PINFO_TRAP_EXIT);
  CHECK_STR(info.name, "");
  CHECK_STR(info.label, "");
  /* Bad arguments and dead pids. */
  info.version = 0;
  CHECK_ST(airs_process_info_get(rt, pa, &info), AIRS_EINVAL);
  info.version = AIRS_PROCESS_INFO_VERSION;
  info.size = 8;
  CHECK_ST(airs_process_info_get(rt, pa, &info), AIRS_EINVAL);
  CHECK_ST(airs_process_info_get(rt, pa, NULL), AIRS_EINVAL);
  CHECK_ST(airs_set_label(NULL, "x"), AIRS_EINVAL);
  CHECK_ST(airs_stop(rt, pa), AIRS_OK);
  poll_all(rt);
  info.size = sizeof info;
  CHECK_ST(airs_process_info_get(rt, pa, &info), AIRS_ENOPROC);
  CHECK_ST(airs_process_info_get(rt, 0, &info), AIRS_ENOPROC);
  airs_runtime_free(rt);
}

/* ---- links and monitors -------------------------------------------------- */

typedef struct tier {
  airs_pid link_to, monitor;
  int slow_ms; /* each message: sleep this long */
  int exit_after;
} tier;

static airs_status tier_receive(void* state, airs_ctx* ctx,
                                const airs_msg* msg) {
  tier* t = (tier*)state;
  uint64_t ref = 0;
  (void)msg;
  if (t->link_to && airs_link(ctx, t->link_to) != AIRS_OK) return AIRS_EINVAL;
  if (t->monitor && airs_monitor(ctx, t->monitor, &ref) != AIRS_OK)
    return AIRS_EINVAL;
  t->link_to = t->monitor = 0;
  if (t->slow_ms) sleep_ms(t->slow_ms);
  if (t->exit_after) return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
  return AIRS_OK;
}

static airs_status tier_init(void* user_data, airs_ctx* ctx, void** state) {
  (void)ctx;
  *state = user_data;
  return AIRS_OK;
}

static airs_pid spawn_tier(airs_runtime* rt, tier* t) {
  return spawn_with(rt, tier_init, tier_receive, t);
}

typedef struct ties_probe {
  airs_runtime* rt;
  airs_pid pid;
  airs_status st;
} ties_probe;

static airs_status probe_receive(void* state, airs_ctx* ctx,
                                 const airs_msg* msg) {
  ties_probe* p = (ties_probe*)state;
  airs_process_ties t;
  (void)ctx;
  (void)msg;
  memset(&t, 0, sizeof t);
  p->st = airs_process_ties_get(p->rt, p->pid, &t, 100);
  return AIRS_OK;
}

/* `t`: 4 tiers that outlive the runtime's processes. */
static void check_ties_of(airs_runtime* rt, int host, tier* t4) {
  tier *a = &t4[0], *b = &t4[1], *c = &t4[2], *d = &t4[3];
  airs_pid pa, pb, pc, pd;
  airs_pid links[4], mons[4], by[1];
  airs_process_ties t;
  memset(t4, 0, 4 * sizeof *t4);
  pb = spawn_tier(rt, b);
  pc = spawn_tier(rt, c);
  a->link_to = pb;
  a->monitor = pc;
  pa = spawn_tier(rt, a);
  d->monitor = pa;
  pd = spawn_tier(rt, d);
  CHECK_ST(airs_send(rt, pa, 1, NULL, 0), AIRS_OK);
  CHECK_ST(airs_send(rt, pd, 1, NULL, 0), AIRS_OK);
  if (host) poll_all(rt);
  memset(&t, 0, sizeof t);
  t.links = links;
  t.links_capacity = 4;
  t.monitors = mons;
  t.monitors_capacity = 4;
  t.monitored_by = by;
  t.monitored_by_capacity = 1;
  /* Threaded: a's links may still be on their way; ask until both are in. */
  {
    int tries;
    for (tries = 0; tries < 200; tries++) {
      CHECK_ST(airs_process_ties_get(rt, pa, &t, 5000), AIRS_OK);
      if (t.links_count == 1 && t.monitors_count == 1 &&
          t.monitored_by_count == 1)
        break;
      sleep_ms(5);
    }
  }
  CHECK_EQ(t.links_count, 1);
  CHECK_EQ(links[0], pb);
  CHECK_EQ(t.monitors_count, 1);
  CHECK_EQ(mons[0], pc);
  CHECK_EQ(t.monitored_by_count, 1);
  CHECK_EQ(by[0], pd);
  /* b sees the link from its side; c is monitored by a. */
  memset(&t, 0, sizeof t);
  t.links = links;
  t.links_capacity = 4;
  t.monitored_by = by;
  t.monitored_by_capacity = 1;
  CHECK_ST(airs_process_ties_get(rt, pb, &t, 5000), AIRS_OK);
  CHECK_EQ(t.links_count, 1);
  CHECK_EQ(links[0], pa);
  CHECK_EQ(t.monitors_count, 0); /* counted though no array was given */
  CHECK_ST(airs_process_ties_get(rt, pc, &t, 5000), AIRS_OK);
  CHECK_EQ(t.monitored_by_count, 1);
  CHECK_EQ(by[0], pa);
  /* Capacities smaller than the counts: the counts are whole. */
  memset(&t, 0, sizeof t);
  CHECK_ST(airs_process_ties_get(rt, pa, &t, 5000), AIRS_OK);
  CHECK_EQ(t.links_count, 1);
  CHECK_EQ(t.monitors_count, 1);
  CHECK_EQ(t.monitored_by_count, 1);
}

static void test_ties(void) {
  airs_runtime* rt = make_runtime(2, 0);
  airs_runtime* host = make_host_runtime(1000);
  airs_process_ties t;
  airs_pid dummy[2];
  CHECK(rt != NULL && host != NULL);
  if (!rt || !host) return;
  static tier tiers[2][4];
  check_ties_of(rt, 0, tiers[0]);
  check_ties_of(host, 1, tiers[1]);
  memset(&t, 0, sizeof t);
  /* A dead pid; a pid never made. */
  CHECK_ST(airs_process_ties_get(rt, 0, &t, 100), AIRS_ENOPROC);
  /* Bad arguments. */
  CHECK_ST(airs_process_ties_get(rt, 1, NULL, 100), AIRS_EINVAL);
  t.links_capacity = 2;
  CHECK_ST(airs_process_ties_get(rt, 1, &t, 100), AIRS_EINVAL);
  t.links = dummy;
  t.monitors_capacity = 2;
  CHECK_ST(airs_process_ties_get(rt, 1, &t, 100), AIRS_EINVAL);
  t.monitors = dummy;
  t.monitored_by_capacity = 2;
  CHECK_ST(airs_process_ties_get(rt, 1, &t, 100), AIRS_EINVAL);
  /* Busy in a long callback: ETIMEDOUT. */
  {
    static tier slow; /* the process outlives this block */
    airs_pid ps;
    memset(&slow, 0, sizeof slow);
    slow.slow_ms = 400;
    ps = spawn_tier(rt, &slow);
    CHECK_ST(airs_send(rt, ps, 1, NULL, 0), AIRS_OK);
    sleep_ms(50);
    memset(&t, 0, sizeof t);
    CHECK_ST(airs_process_ties_get(rt, ps, &t, 50), AIRS_ETIMEDOUT);
    /* It answers once the callback is over. */
    CHECK_ST(airs_process_ties_get(rt, ps, &t, 5000), AIRS_OK);
  }
  /* It ends before it answers: ENOPROC at once, not after the timeout. */
  {
    static tier ending;
    airs_pid pe;
    double t0;
    memset(&ending, 0, sizeof ending);
    ending.slow_ms = 200;
    ending.exit_after = 1;
    pe = spawn_tier(rt, &ending);
    CHECK_ST(airs_send(rt, pe, 1, NULL, 0), AIRS_OK);
    sleep_ms(50);
    t0 = now_ms();
    CHECK_ST(airs_process_ties_get(rt, pe, &t, 10000), AIRS_ENOPROC);
    CHECK(now_ms() - t0 < 5000);
  }
  /* Inside a callback: ESTATE (it would wait for a process). */
  {
    ties_probe p;
    airs_behaviour b = rec_behaviour();
    airs_pid pp;
    p.rt = rt;
    p.st = AIRS_OK;
    b.receive = probe_receive;
    b.init = tier_init;
    b.terminate = NULL;
    CHECK_ST(airs_spawn(rt, &b, &p, NULL, NULL, &pp), AIRS_OK);
    p.pid = pp;
    CHECK_ST(airs_send(rt, pp, 1, NULL, 0), AIRS_OK);
    CHECK_ST(airs_stop(rt, pp), AIRS_OK);
    CHECK_ST(airs_wait(rt, pp, 5000), AIRS_OK);
    CHECK_EQ(p.st, AIRS_ESTATE);
  }
  airs_runtime_free(rt);
  airs_runtime_free(host);
}

/* ---- supervision trees --------------------------------------------------- */

#define WALK_MAX 32

typedef struct walk_rec {
  int n, stop_at;
  airs_tree_node nodes[WALK_MAX];
  char ids[WALK_MAX][AIRS_CHILD_ID_MAX + 1];
} walk_rec;

static int walk_fn(void* user_data, const airs_tree_node* node) {
  walk_rec* w = (walk_rec*)user_data;
  if (w->n < WALK_MAX) {
    w->nodes[w->n] = *node;
    snprintf(w->ids[w->n], sizeof w->ids[w->n], "%s", node->id);
  }
  w->n++;
  return w->n == w->stop_at;
}

static airs_child_spec child_worker(const char* id, const airs_behaviour* b,
                                    recorder* r) {
  airs_child_spec c;
  airs_child_spec_init(&c);
  c.id = id;
  c.behaviour = b;
  c.user_data = r;
  return c;
}

static void test_walk(void) {
  airs_runtime* rt = make_runtime(2, 0);
  airs_behaviour b = rec_behaviour();
  static recorder w1, w2, w3, w4, w5;
  airs_sup_flags f;
  airs_sup_spec *top = NULL, *mid = NULL, *solo = NULL;
  airs_child_spec c;
  airs_pid root = 0, lone = 0;
  walk_rec w;
  airs_process_info info;
  airs_status st;
  CHECK(rt != NULL);
  if (!rt) return;
  b.terminate = NULL;
  airs_sup_flags_init(&f);
  CHECK_ST(airs_sup_spec_new(&f, &mid), AIRS_OK);
  CHECK_ST(airs_sup_spec_new(&f, &top), AIRS_OK);
  CHECK_ST(airs_sup_spec_new(&f, &solo), AIRS_OK);
  c = child_worker("w4", &b, &w4);
  CHECK_ST(airs_sup_spec_add_child(solo, &c), AIRS_OK);
  c = child_worker("w5", &b, &w5);
  CHECK_ST(airs_sup_spec_add_child(solo, &c), AIRS_OK);
  c = child_worker("w2", &b, &w2);
  CHECK_ST(airs_sup_spec_add_child(mid, &c), AIRS_OK);
  c = child_worker("w3", &b, &w3);
  CHECK_ST(airs_sup_spec_add_child(mid, &c), AIRS_OK);
  c = child_worker("w1", &b, &w1);
  CHECK_ST(airs_sup_spec_add_child(top, &c), AIRS_OK);
  airs_child_spec_init(&c);
  c.id = "mid";
  c.supervisor = mid;
  c.type = AIRS_CHILD_SUPERVISOR;
  CHECK_ST(airs_sup_spec_add_child(top, &c), AIRS_OK);
  CHECK_ST(airs_supervisor_start(rt, top, &root), AIRS_OK);
  CHECK_ST(airs_supervisor_start(rt, solo, &lone), AIRS_OK);
  memset(&w, 0, sizeof w);
  CHECK_ST(airs_supervision_walk(rt, root, walk_fn, &w), AIRS_OK);
  CHECK_EQ(w.n, 5);
  if (w.n == 5) {
    CHECK_EQ(w.nodes[0].pid, root);
    CHECK_EQ(w.nodes[0].depth, 0);
    CHECK_STR(w.ids[1], "w1");
    CHECK_EQ(w.nodes[1].depth, 1);
    CHECK_EQ(w.nodes[1].supervisor, root);
    CHECK_EQ(w.nodes[1].type, AIRS_CHILD_WORKER);
    CHECK_STR(w.ids[2], "mid");
    CHECK_EQ(w.nodes[2].type, AIRS_CHILD_SUPERVISOR);
    CHECK_STR(w.ids[3], "w2");
    CHECK_EQ(w.nodes[3].depth, 2);
    CHECK_EQ(w.nodes[3].supervisor, w.nodes[2].pid);
    CHECK_STR(w.ids[4], "w3");
    /* Info names the supervisor, and the child id as the label. */
    info = info_of(rt, w.nodes[3].pid, &st);
    CHECK_ST(st, AIRS_OK);
    CHECK_EQ(info.supervisor, w.nodes[2].pid);
    CHECK_STR(info.label, "w2");
    info = info_of(rt, w.nodes[2].pid, &st);
    CHECK_EQ(info.flags & AIRS_PINFO_SUPERVISOR, AIRS_PINFO_SUPERVISOR);
    CHECK_EQ(info.supervisor, root);
  }
  /* Every root: both trees, 5 + 3 nodes; the walk stops when asked. */
  memset(&w, 0, sizeof w);
  CHECK_ST(airs_supervision_walk(rt, 0, walk_fn, &w), AIRS_OK);
  CHECK_EQ(w.n, 8);
  memset(&w, 0, sizeof w);
  w.stop_at = 2;
  CHECK_ST(airs_supervision_walk(rt, 0, walk_fn, &w), AIRS_OK);
  CHECK_EQ(w.n, 2);
  /* Bad roots and arguments. */
  CHECK_ST(airs_supervision_walk(rt, root, NULL, &w), AIRS_EINVAL);
  if (w.nodes[1].pid)
    CHECK_ST(airs_supervision_walk(rt, w.nodes[1].pid, walk_fn, &w),
             AIRS_EINVAL);
  CHECK_ST(airs_stop(rt, lone), AIRS_OK);
  CHECK_ST(airs_wait(rt, lone, 5000), AIRS_OK);
  CHECK_ST(airs_supervision_walk(rt, lone, walk_fn, &w), AIRS_ENOPROC);
  airs_sup_spec_free(mid);
  airs_sup_spec_free(top);
  airs_sup_spec_free(solo);
  airs_runtime_free(rt);
}

/* ---- top ----------------------------------------------------------------- */

static airs_status top_probe_receive(void* state, airs_ctx* ctx,
                                     const airs_msg* msg) {
  airs_status* st = (airs_status*)state;
  airs_top_entry e[2];
  size_t n = 0;
  (void)msg;
  st[0] =
      airs_process_top(airs_ctx_runtime(ctx), AIRS_TOP_MAILBOX, 0, e, 2, &n);
  st[1] =
      airs_process_top(airs_ctx_runtime(ctx), AIRS_TOP_MAILBOX, 10, e, 2, &n);
  return AIRS_OK;
}

static void test_top(void) {
  airs_runtime* host = make_host_runtime(1000);
  airs_runtime* rt = make_runtime(2, 0);
  recorder r[3];
  airs_pid p[3];
  airs_top_entry e[4];
  size_t n = 0;
  int i, k;
  CHECK(host != NULL && rt != NULL);
  if (!host || !rt) return;
  memset(r, 0, sizeof r);
  for (i = 0; i < 3; i++) p[i] = spawn_rec(host, &r[i], NULL);
  poll_all(host);
  for (i = 0; i < 3; i++)
    for (k = 0; k < (i == 0 ? 5 : i == 1 ? 2 : 9); k++)
      CHECK_ST(airs_send(host, p[i], 1, NULL, 0), AIRS_OK);
  CHECK_ST(airs_process_top(host, AIRS_TOP_MAILBOX, 0, e, 2, &n), AIRS_OK);
  CHECK_EQ(n, 2);
  CHECK_EQ(e[0].pid, p[2]);
  CHECK_EQ(e[0].value, 9);
  CHECK_EQ(e[1].pid, p[0]);
  CHECK_EQ(e[1].value, 5);
  CHECK_ST(airs_process_top(host, AIRS_TOP_MEMORY, 0, e, 4, &n), AIRS_OK);
  CHECK(n >= 3);
  CHECK_EQ(e[0].pid, p[2]);
  /* Handled over a window: the host's polls during it run the mail. */
  CHECK_ST(airs_process_top(host, AIRS_TOP_HANDLED, 50, e, 4, &n), AIRS_OK);
  CHECK(n >= 3);
  CHECK_EQ(e[0].pid, p[2]);
  CHECK_EQ(e[0].value, 9);
  CHECK_EQ(e[1].value, 5);
  CHECK_EQ(e[2].value, 2);
  /* Threaded: a process that works through its mail during the window
   * leads; one that handled more before the window does not count it. */
  {
    static tier busy, before; /* the processes outlive this block */
    airs_pid pb, pf;
    memset(&busy, 0, sizeof busy);
    memset(&before, 0, sizeof before);
    busy.slow_ms = 1;
    pf = spawn_tier(rt, &before);
    for (k = 0; k < 1000; k++) CHECK_ST(airs_send(rt, pf, 1, NULL, 0), AIRS_OK);
    while (airs_process_top(rt, AIRS_TOP_MAILBOX, 0, e, 1, &n) == AIRS_OK &&
           n == 1 && e[0].value > 0)
      sleep_ms(1);
    pb = spawn_tier(rt, &busy);
    for (k = 0; k < 300; k++) CHECK_ST(airs_send(rt, pb, 1, NULL, 0), AIRS_OK);
    CHECK_ST(airs_process_top(rt, AIRS_TOP_HANDLED, 100, e, 4, &n), AIRS_OK);
    CHECK(n >= 2);
    CHECK_EQ(e[0].pid, pb);
    CHECK(e[0].value >= 10);
    CHECK(e[0].value < 300);
    airs_kill(rt, pb);
  }
  /* Inside a callback: window 0 works, a window is ESTATE. */
  {
    airs_status st[2] = {AIRS_EINTERNAL, AIRS_EINTERNAL};
    airs_behaviour b = rec_behaviour();
    airs_pid pp;
    b.init = tier_init;
    b.receive = top_probe_receive;
    b.terminate = NULL;
    CHECK_ST(airs_spawn(rt, &b, st, NULL, NULL, &pp), AIRS_OK);
    CHECK_ST(airs_send(rt, pp, 1, NULL, 0), AIRS_OK);
    CHECK_ST(airs_stop(rt, pp), AIRS_OK);
    CHECK_ST(airs_wait(rt, pp, 5000), AIRS_OK);
    CHECK_EQ(st[0], AIRS_OK);
    CHECK_EQ(st[1], AIRS_ESTATE);
  }
  /* Bad arguments. */
  CHECK_ST(airs_process_top(rt, (airs_top_key)0, 0, e, 4, &n), AIRS_EINVAL);
  CHECK_ST(airs_process_top(rt, (airs_top_key)4, 0, e, 4, &n), AIRS_EINVAL);
  CHECK_ST(airs_process_top(rt, AIRS_TOP_MAILBOX, 0, NULL, 4, &n), AIRS_EINVAL);
  CHECK_ST(airs_process_top(rt, AIRS_TOP_MAILBOX, 0, e, 0, &n), AIRS_EINVAL);
  CHECK_ST(airs_process_top(rt, AIRS_TOP_MAILBOX, 0, e, 4, NULL), AIRS_EINVAL);
  CHECK_ST(airs_process_top(rt, AIRS_TOP_MAILBOX, 3600001, e, 4, &n),
           AIRS_EINVAL);
  airs_runtime_free(host);
  airs_runtime_free(rt);
}

/* ---- crash reports and the log hook -------------------------------------- */

#define LOG_MAX 16

typedef struct log_rec {
  int n;
  airs_severity sev[LOG_MAX];
  char lines[LOG_MAX][512];
} log_rec;

static log_rec g_log; /* written by one worker at a time (see below) */

static void log_fn(void* user_data, airs_severity severity, const char* line) {
  log_rec* l = (log_rec*)user_data;
  if (l->n < LOG_MAX) {
    l->sev[l->n] = severity;
    snprintf(l->lines[l->n], sizeof l->lines[l->n], "%s", line);
  }
  l->n++;
}

static airs_status crash_receive(void* state, airs_ctx* ctx,
                                 const airs_msg* msg) {
  (void)state;
  if (airs_msg_type(msg) == 42)
    return airs_exit(ctx, AIRS_EXIT_ERROR, 5, "boom");
  return AIRS_OK;
}

static airs_status crash_init(void* user_data, airs_ctx* ctx, void** state) {
  *state = user_data;
  return airs_set_label(ctx, "crasher");
}

static airs_pid spawn_crasher(airs_runtime* rt, const char* name) {
  airs_pid pid = spawn_with(rt, crash_init, crash_receive, NULL);
  if (pid && name) airs_register(rt, name, pid);
  return pid;
}

/* Runs `fn` with stderr going to a pipe; returns what it wrote. */
static void capture_stderr(void (*fn)(airs_runtime*), airs_runtime* rt,
                           char* out, size_t cap) {
  int fds[2], saved;
  ssize_t n;
  out[0] = '\0';
  if (pipe(fds) != 0) return;
  fflush(stderr);
  saved = dup(2);
  dup2(fds[1], 2);
  fn(rt);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  close(fds[1]);
  n = read(fds[0], out, cap - 1);
  out[n > 0 ? n : 0] = '\0';
  close(fds[0]);
}

static void crash_one(airs_runtime* rt) {
  airs_pid p = spawn_crasher(rt, "crashy");
  airs_send(rt, p, 42, NULL, 0);
  airs_wait(rt, p, 5000);
}

static void end_normally(airs_runtime* rt) {
  airs_pid p = spawn_crasher(rt, NULL);
  airs_stop(rt, p);
  airs_wait(rt, p, 5000);
}

static void test_crash_reports(void) {
  airs_runtime* rt = make_quiet_runtime(1, 1);
  airs_runtime* quiet = make_quiet_runtime(1, 0);
  char text[2048], want[128];
  airs_pid p;
  CHECK(rt != NULL && quiet != NULL);
  if (!rt || !quiet) return;
  /* To stderr: one line, with what it knows. */
  capture_stderr(crash_one, rt, text, sizeof text);
  CHECK(strstr(text, "airs: crash: process ") == text);
  CHECK(strstr(text, "\"crashy\" [crasher] exited: error 5: boom") != NULL);
  CHECK(strstr(text, "(last message type 42)") != NULL);
  CHECK(strchr(text, '\n') == text + strlen(text) - 1);
  /* A normal or shutdown end: nothing. */
  capture_stderr(end_normally, rt, text, sizeof text);
  CHECK_STR(text, "");
  /* AIRS_CFG_CRASH_REPORTS 0: nothing. */
  capture_stderr(crash_one, quiet, text, sizeof text);
  CHECK_STR(text, "");
  /* A log hook takes them instead (one worker: lines in order). */
  memset(&g_log, 0, sizeof g_log);
  CHECK_ST(airs_set_log_hook(rt, log_fn, &g_log, AIRS_SEVERITY_WARNING),
           AIRS_OK);
  capture_stderr(crash_one, rt, text, sizeof text);
  CHECK_STR(text, "");
  CHECK_EQ(g_log.n, 1);
  CHECK_EQ(g_log.sev[0], AIRS_SEVERITY_ERROR);
  CHECK(strstr(g_log.lines[0], "exited: error 5: boom") != NULL);
  /* Killed is abnormal too. */
  p = spawn_crasher(rt, NULL);
  CHECK_ST(airs_kill(rt, p), AIRS_OK);
  CHECK_ST(airs_wait(rt, p, 5000), AIRS_OK);
  CHECK_EQ(g_log.n, 2);
  CHECK(strstr(g_log.lines[1], "exited: killed (last message type none)") !=
        NULL);
  /* A supervisor's report of a child that failed, at its severity. */
  {
    airs_sup_flags f;
    airs_sup_spec* s = NULL;
    airs_child_spec c;
    airs_behaviour b;
    airs_pid sup = 0, child;
    size_t count = 0;
    airs_child_info row;
    int i, reports = 0;
    memset(&b, 0, sizeof b);
    b.version = AIRS_BEHAVIOUR_VERSION;
    b.size = sizeof b;
    b.init = tier_init;
    b.receive = crash_receive;
    airs_sup_flags_init(&f);
    CHECK_ST(airs_sup_spec_new(&f, &s), AIRS_OK);
    airs_child_spec_init(&c);
    c.id = "fragile";
    c.behaviour = &b;
    CHECK_ST(airs_sup_spec_add_child(s, &c), AIRS_OK);
    memset(&g_log, 0, sizeof g_log);
    CHECK_ST(airs_supervisor_start(rt, s, &sup), AIRS_OK);
    CHECK_ST(airs_supervisor_which_children(rt, sup, &row, 1, &count), AIRS_OK);
    child = row.pid;
    CHECK_ST(airs_send(rt, child, 42, NULL, 0), AIRS_OK);
    CHECK_ST(airs_wait(rt, child, 5000), AIRS_OK);
    /* The supervisor hears of the exit in its next turn; its restart
     * settles before which_children answers. */
    for (i = 0; i < 5000; i++) {
      CHECK_ST(airs_supervisor_which_children(rt, sup, &row, 1, &count),
               AIRS_OK);
      if (row.pid != child && row.pid != 0) break;
      sleep_ms(1);
    }
    CHECK(row.pid != child);
    snprintf(want, sizeof want, "[fragile] exited: error 5: boom");
    for (i = 0; i < g_log.n && i < LOG_MAX; i++) {
      if (strstr(g_log.lines[i], want)) {
        CHECK(strstr(g_log.lines[i], "; supervisor ") != NULL);
        reports++;
      }
      if (strstr(g_log.lines[i], "child exited 'fragile'")) {
        CHECK_EQ(g_log.sev[i], AIRS_SEVERITY_ERROR);
        reports++;
      }
    }
    CHECK_EQ(reports, 2);
    airs_sup_spec_free(s);
  }
  /* min_severity ERROR drops the supervisor's WARNING lines; the hook
   * removed: stderr again. */
  CHECK_ST(airs_set_log_hook(rt, NULL, NULL, AIRS_SEVERITY_DEBUG), AIRS_OK);
  capture_stderr(crash_one, rt, text, sizeof text);
  CHECK(strstr(text, "airs: crash: ") == text);
  /* Bad arguments. */
  CHECK_ST(airs_set_log_hook(rt, log_fn, &g_log, (airs_severity)7),
           AIRS_EINVAL);
  CHECK_ST(airs_set_log_hook(rt, log_fn, &g_log, (airs_severity)-1),
           AIRS_EINVAL);
  CHECK_ST(airs_set_log_hook(NULL, log_fn, &g_log, AIRS_SEVERITY_ERROR),
           AIRS_EINVAL);
  airs_runtime_free(rt);
  airs_runtime_free(quiet);
}

/* ---- metrics ------------------------------------------------------------- */

static int has_line(const char* text, const char* line) {
  const char* at = text;
  size_t n = strlen(line);
  while ((at = strstr(at, line)) != NULL) {
    if ((at == text || at[-1] == '\n') && at[n] == '\n') return 1;
    at += n;
  }
  return 0;
}

static void test_metrics(void) {
  airs_runtime* rt = make_quiet_runtime(2, 0);
  char small[8];
  char* text;
  size_t len = 0, len2 = 0;
  airs_pid p;
  recorder r;
  CHECK(rt != NULL);
  if (!rt) return;
  memset(&r, 0, sizeof r);
  p = spawn_crasher(rt, NULL);
  CHECK_ST(airs_send(rt, p, 42, NULL, 0), AIRS_OK);
  CHECK_ST(airs_wait(rt, p, 5000), AIRS_OK);
  CHECK_ST(airs_send(rt, p, 1, NULL, 0), AIRS_ENOPROC); /* a dead letter */
  p = spawn_rec(rt, &r, NULL);
  CHECK_ST(airs_send(rt, p, 1, NULL, 0), AIRS_OK);
  CHECK_ST(airs_stop(rt, p), AIRS_OK);
  CHECK_ST(airs_wait(rt, p, 5000), AIRS_OK);
  /* Asking the size, then a buffer too small, then one that fits. */
  CHECK_ST(airs_metrics_write(rt, NULL, 0, &len), AIRS_EFULL);
  CHECK(len > 500);
  CHECK_ST(airs_metrics_write(rt, small, sizeof small, &len2), AIRS_EFULL);
  CHECK_EQ(len2, len);
  text = (char*)malloc(len + 64);
  CHECK(text != NULL);
  if (!text) return;
  CHECK_ST(airs_metrics_write(rt, text, len + 64, &len2), AIRS_OK);
  CHECK_EQ(strlen(text), len2);
  CHECK(has_line(text, "# TYPE airs_processes gauge"));
  CHECK(has_line(text, "airs_processes 0"));
  CHECK(has_line(text, "airs_processes_spawned_total 2"));
  CHECK(has_line(text, "airs_process_exits_total{reason=\"error\"} 1"));
  CHECK(has_line(text, "airs_process_exits_total{reason=\"shutdown\"} 1"));
  CHECK(has_line(text, "airs_messages_delivered_total 2"));
  CHECK(has_line(text, "airs_dead_letters_total{reason=\"noproc\"} 1"));
  CHECK(has_line(text, "airs_supervisor_intensity_reached_total 0"));
  CHECK(strstr(text, "airs_worker_busy_seconds_total{worker=\"1\"} ") != NULL);
  CHECK(strstr(text, "airs_worker_steals_total{worker=\"0\"} ") != NULL);
  CHECK(has_line(text, "airs_blocking_pool_queued{class=\"slow\"} 0"));
  CHECK(has_line(text, "airs_sockets_open 0"));
  CHECK_ST(airs_metrics_write(rt, NULL, 4, &len2), AIRS_EINVAL);
  CHECK_ST(airs_metrics_write(rt, text, len + 64, NULL), AIRS_EINVAL);
  free(text);
  airs_runtime_free(rt);
  CHECK_ST(airs_metrics_write(rt, NULL, 0, &len), AIRS_ESTATE);
}

int main(void) {
  test_list();
  test_info();
  test_ties();
  test_walk();
  test_top();
  test_crash_reports();
  test_metrics();
  return CHECK_DONE();
}
