// test_supervisor.cpp - supervision trees through the C API, by the
// categories of OTP's supervisor_SUITE: the matrix of exit reason x restart
// type under each strategy, the restart intensity and its period, an
// escalation through three levels, the exact stop/start order of a group
// restart, a sibling failing during a group restart, backoff, and a
// failing start. Time-based cases use the manual clock in host-driven mode;
// the matrix and the sibling case also run on worker threads (TSan).
#include "../sup_helpers.hpp"

using namespace rt_test;
using namespace sup_test;

namespace {

const Keys kHost = {{AIRS_CFG_WORKERS, 0}};
const Keys kManualHost = {{AIRS_CFG_WORKERS, 0}, {AIRS_CFG_MANUAL_CLOCK, 1}};
const Keys kThreaded = {{AIRS_CFG_WORKERS, 2}};

const char* strategy_name(airs_strategy s) {
  switch (s) {
    case AIRS_ONE_FOR_ONE: return "one_for_one";
    case AIRS_ONE_FOR_ALL: return "one_for_all";
    case AIRS_REST_FOR_ONE: return "rest_for_one";
    case AIRS_SIMPLE_ONE_FOR_ONE: return "simple_one_for_one";
  }
  return "?";
}

const char* restart_name(airs_restart r) {
  switch (r) {
    case AIRS_RESTART_PERMANENT: return "permanent";
    case AIRS_RESTART_TRANSIENT: return "transient";
    case AIRS_RESTART_TEMPORARY: return "temporary";
  }
  return "?";
}

// "a b c": logs compare (and print on failure) as one line.
std::string join(const std::vector<std::string>& v, size_t from = 0) {
  std::string s;
  for (size_t i = from; i < v.size(); i++) s += (s.empty() ? "" : " ") + v[i];
  return s;
}

// -1 when no timer is pending.
int64_t next_timer_ms(airs_runtime* rt) {
  int64_t ms = 0;
  REQUIRE(airs_runtime_next_timer_ms(rt, &ms) == AIRS_OK);
  return ms;
}

// Host-driven: makes child `id` fail and runs the runtime until it is idle.
// Returns the pid that failed.
airs_pid crash(airs_runtime* rt, airs_pid sup, const char* id) {
  airs_pid p = child_pid(rt, sup, id);
  make_exit(rt, p, AIRS_EXIT_ERROR);
  poll_all(rt);
  return p;
}

// The one CHILD_RESTARTED event of `id` names the old and the new pid.
void check_restarted(const EventRecorder& ev, airs_pid sup, const char* id,
                     airs_pid old_pid, airs_pid new_pid) {
  INFO("restarted " << id);
  int n = 0;
  for (const Event& e : ev.of_kind(AIRS_EVENT_CHILD_RESTARTED, sup)) {
    if (e.id != id) continue;
    n++;
    CHECK(e.other == old_pid);
    CHECK(e.pid == new_pid);
  }
  CHECK(n == 1);
}

// ---- the matrix ------------------------------------------------------------

// Children a, b, c (a and c permanent); b has restart type `r` and ends
// with reason `k`.
void matrix_case(airs_strategy s, airs_restart r, airs_exit_kind k) {
  ChildLog log;
  Child a("a", &log), b("b", &log), c("c", &log);
  EventRecorder ev;
  Runtime rt(kThreaded);
  ev.install(rt);
  SupSpec spec(sup_flags(s));
  spec.add(worker("a", a)).add(worker("b", b, r)).add(worker("c", c));
  airs_pid sup = start_sup(rt, spec);
  airs_pid pa = child_pid(rt, sup, "a"), pb = child_pid(rt, sup, "b"),
           pc = child_pid(rt, sup, "c");

  const bool restart = r == AIRS_RESTART_PERMANENT ||
                       (r == AIRS_RESTART_TRANSIENT && k != AIRS_EXIT_NORMAL &&
                        k != AIRS_EXIT_SHUTDOWN);
  // The group that is restarted with b.
  const bool new_a = restart && s == AIRS_ONE_FOR_ALL;
  const bool new_c = restart && s != AIRS_ONE_FOR_ONE;
  const size_t restarts = restart ? 1 + new_a + new_c : 0;

  make_exit(rt, pb, k);
  if (restart)
    REQUIRE(ev.wait_count(AIRS_EVENT_CHILD_RESTARTED, restarts, sup));
  else
    REQUIRE(ev.wait_event(AIRS_EVENT_CHILD_EXITED, "b", sup));
  auto rows = which_children(rt, sup);  // waits out a restart in progress

  CHECK(airs_is_alive(rt, sup));
  CHECK(airs_wait(rt, pb, 1000) == AIRS_OK);
  auto exits = ev.of_kind(AIRS_EVENT_CHILD_EXITED, sup);
  // Only b ends by itself; bystanders of a group restart end with shutdown.
  REQUIRE(exits.size() == 1 + new_a + new_c);
  CHECK(exits[0].id == "b");
  CHECK(exits[0].pid == pb);
  CHECK(exits[0].has_reason);
  CHECK(exits[0].reason == k);
  for (size_t i = 1; i < exits.size(); i++) {
    CHECK(exits[i].id != "b");
    CHECK(exits[i].reason == AIRS_EXIT_SHUTDOWN);
  }
  CHECK(ev.count(AIRS_EVENT_STRATEGY_APPLIED, sup) == (restart ? 1u : 0u));
  CHECK(ev.count(AIRS_EVENT_CHILD_RESTARTED, sup) == restarts);
  CHECK(ev.count(AIRS_EVENT_INTENSITY_REACHED, sup) == 0);

  const airs_child_info* rb = find_child(rows, "b");
  if (r == AIRS_RESTART_TEMPORARY) {
    CHECK(rb == nullptr);  // its spec is dropped
    CHECK(rows.size() == 2);
  } else {
    REQUIRE(rb != nullptr);
    CHECK(rows.size() == 3);
    if (restart) {
      CHECK(rb->state == AIRS_CHILD_RUNNING);
      CHECK(rb->pid != pb);
      CHECK(rb->pid == b.pid.load());
      check_restarted(ev, sup, "b", pb, rb->pid);
    } else {
      CHECK(rb->state == AIRS_CHILD_STOPPED);  // transient: spec kept
      CHECK(rb->pid == AIRS_NO_PID);
    }
  }
  CHECK(b.inits.load() == (restart ? 2 : 1));

  // The bystanders: a new pid exactly when they are in b's group.
  const airs_child_info* ra = find_child(rows, "a");
  const airs_child_info* rc = find_child(rows, "c");
  REQUIRE(ra != nullptr);
  REQUIRE(rc != nullptr);
  CHECK(ra->state == AIRS_CHILD_RUNNING);
  CHECK(rc->state == AIRS_CHILD_RUNNING);
  CHECK((ra->pid != pa) == new_a);
  CHECK((rc->pid != pc) == new_c);
  CHECK(a.inits.load() == 1 + new_a);
  CHECK(c.inits.load() == 1 + new_c);
  CHECK(a.terms.load() == (new_a ? 1 : 0));
  CHECK(c.terms.load() == (new_c ? 1 : 0));
  CHECK(airs_is_alive(rt, ra->pid));
  CHECK(airs_is_alive(rt, rc->pid));
}

}  // namespace

TEST_CASE("matrix: exit reason x restart type under each strategy") {
  for (airs_strategy s :
       {AIRS_ONE_FOR_ONE, AIRS_ONE_FOR_ALL, AIRS_REST_FOR_ONE})
    for (airs_restart r : {AIRS_RESTART_PERMANENT, AIRS_RESTART_TRANSIENT,
                           AIRS_RESTART_TEMPORARY})
      for (airs_exit_kind k : {AIRS_EXIT_NORMAL, AIRS_EXIT_SHUTDOWN,
                               AIRS_EXIT_ERROR, AIRS_EXIT_KILLED}) {
        std::string combo = std::string(strategy_name(s)) + " / " +
                            restart_name(r) + " / " + kind_name(k);
        CAPTURE(combo);
        matrix_case(s, r, k);
      }
}

TEST_CASE("a group restart drops temporary bystanders") {
  ChildLog log;
  Child a("a", &log), b("b", &log), c("c", &log);
  EventRecorder ev;
  Runtime rt(kHost);
  ev.install(rt);

  SUBCASE("one_for_all") {
    SupSpec spec(sup_flags(AIRS_ONE_FOR_ALL));
    spec.add(worker("a", a))
        .add(worker("b", b, AIRS_RESTART_TEMPORARY))
        .add(worker("c", c));
    airs_pid sup = start_sup(rt, spec);
    crash(rt, sup, "a");
    CHECK(join(child_ids(rt, sup)) == "a c");
    CHECK(join(ev.log(sup, {AIRS_EVENT_CHILD_RESTARTED})) ==
          "restarted:a restarted:c");
    CHECK(b.inits.load() == 1);
    CHECK(join(log.get()) ==
          "init:a init:b init:c term:a:error term:c:shutdown term:b:shutdown "
          "init:a init:c");
  }
  SUBCASE("rest_for_one") {
    SupSpec spec(sup_flags(AIRS_REST_FOR_ONE));
    spec.add(worker("a", a))
        .add(worker("b", b))
        .add(worker("c", c, AIRS_RESTART_TEMPORARY));
    airs_pid sup = start_sup(rt, spec);
    airs_pid pa = child_pid(rt, sup, "a");
    crash(rt, sup, "b");
    CHECK(join(child_ids(rt, sup)) == "a b");
    CHECK(child_pid(rt, sup, "a") == pa);
    CHECK(join(ev.log(sup, {AIRS_EVENT_CHILD_RESTARTED})) == "restarted:b");
    CHECK(c.inits.load() == 1);
    CHECK(join(log.get()) ==
          "init:a init:b init:c term:b:error term:c:shutdown init:b");
  }
}

// ---- restart intensity -----------------------------------------------------

TEST_CASE("intensity: N restarts in the period are accepted, N+1 escalates") {
  ChildLog log;
  Child w("w", &log), x("x", &log);
  EventRecorder ev;
  Watcher mon;
  Runtime rt(kManualHost);
  ev.install(rt);
  SupSpec spec(sup_flags(AIRS_ONE_FOR_ONE, 3, 1000));
  spec.add(worker("w", w)).add(worker("x", x));
  airs_pid sup = start_sup(rt, spec);
  REQUIRE(send_pid(rt, spawn(rt, mon), kWatch, sup) == AIRS_OK);
  poll_all(rt);
  airs_pid px = child_pid(rt, sup, "x");

  for (int i = 1; i <= 3; i++) {  // at t = 0, 100, 200
    CAPTURE(i);
    airs_pid old = crash(rt, sup, "w");
    REQUIRE(airs_is_alive(rt, sup));
    CHECK(child_pid(rt, sup, "w") != old);
    REQUIRE(airs_runtime_advance_time(rt, 100) == AIRS_OK);
  }
  ev.clear();
  crash(rt, sup, "w");  // the 4th within 1000 ms

  CHECK_FALSE(airs_is_alive(rt, sup));
  auto downs = mon.downs(sup);
  REQUIRE(downs.size() == 1);
  CHECK(downs[0] == AIRS_EXIT_SHUTDOWN);
  // x, still running, is stopped before the supervisor exits.
  CHECK(join(ev.log(sup)) ==
        "exited:w intensity sup_shutdown stopping:x exited:x");
  auto reached = ev.of_kind(AIRS_EVENT_INTENSITY_REACHED, sup);
  REQUIRE(reached.size() == 1);
  CHECK(reached[0].value == 4);
  auto down = ev.of_kind(AIRS_EVENT_SUPERVISOR_SHUTDOWN, sup);
  REQUIRE(down.size() == 1);
  CHECK(down[0].has_reason);
  CHECK(down[0].reason == AIRS_EXIT_SHUTDOWN);
  CHECK_FALSE(airs_is_alive(rt, px));
  CHECK(w.inits.load() == 4);
  CHECK(log.get().back() == "term:x:shutdown");
}

TEST_CASE("intensity: a restart exactly one period old still counts") {
  // OTP keeps restarts with a timestamp >= now - period.
  ChildLog log;
  Child w("w", &log);
  EventRecorder ev;
  Runtime rt(kManualHost);
  ev.install(rt);
  SupSpec spec(sup_flags(AIRS_ONE_FOR_ONE, 3, 1000));
  spec.add(worker("w", w));
  airs_pid sup = start_sup(rt, spec);
  for (int i = 0; i < 3; i++) crash(rt, sup, "w");  // all at t = 0
  REQUIRE(airs_is_alive(rt, sup));

  SUBCASE("at t = period: escalates") {
    REQUIRE(airs_runtime_advance_time(rt, 1000) == AIRS_OK);
    crash(rt, sup, "w");
    CHECK_FALSE(airs_is_alive(rt, sup));
    CHECK(ev.count(AIRS_EVENT_INTENSITY_REACHED, sup) == 1);
  }
  SUBCASE("at t = period + 1: the three have expired") {
    REQUIRE(airs_runtime_advance_time(rt, 1001) == AIRS_OK);
    crash(rt, sup, "w");
    CHECK(airs_is_alive(rt, sup));
    CHECK(ev.count(AIRS_EVENT_INTENSITY_REACHED, sup) == 0);
    CHECK(w.inits.load() == 5);
  }
}

TEST_CASE("intensity: restarts spread over time never escalate") {
  ChildLog log;
  Child w("w", &log);
  EventRecorder ev;
  Runtime rt(kManualHost);
  ev.install(rt);

  SUBCASE("intensity 1, more than a period between crashes") {
    SupSpec spec(sup_flags(AIRS_ONE_FOR_ONE, 1, 1000));
    spec.add(worker("w", w));
    airs_pid sup = start_sup(rt, spec);
    for (int i = 0; i < 20; i++) {
      CAPTURE(i);
      REQUIRE(airs_runtime_advance_time(rt, 1001) == AIRS_OK);
      crash(rt, sup, "w");
      REQUIRE(airs_is_alive(rt, sup));
    }
    CHECK(w.inits.load() == 21);
    CHECK(ev.count(AIRS_EVENT_INTENSITY_REACHED) == 0);
  }
  SUBCASE("intensity 3, a sliding window that never holds four") {
    SupSpec spec(sup_flags(AIRS_ONE_FOR_ONE, 3, 1000));
    spec.add(worker("w", w));
    airs_pid sup = start_sup(rt, spec);
    for (int i = 0; i < 20; i++) {  // t = 0, 400, 800, 1200, ...
      CAPTURE(i);
      crash(rt, sup, "w");
      REQUIRE(airs_is_alive(rt, sup));
      REQUIRE(airs_runtime_advance_time(rt, 400) == AIRS_OK);
    }
    CHECK(w.inits.load() == 21);
  }
  SUBCASE("intensity 3, four crashes within 999 ms escalate") {
    SupSpec spec(sup_flags(AIRS_ONE_FOR_ONE, 3, 1000));
    spec.add(worker("w", w));
    airs_pid sup = start_sup(rt, spec);
    for (int i = 0; i < 3; i++) {  // t = 0, 333, 666
      crash(rt, sup, "w");
      REQUIRE(airs_is_alive(rt, sup));
      REQUIRE(airs_runtime_advance_time(rt, 333) == AIRS_OK);
    }
    crash(rt, sup, "w");  // t = 999
    CHECK_FALSE(airs_is_alive(rt, sup));
    auto reached = ev.of_kind(AIRS_EVENT_INTENSITY_REACHED, sup);
    REQUIRE(reached.size() == 1);
    CHECK(reached[0].value == 4);
  }
}

TEST_CASE("intensity 0 escalates on the first failure") {
  ChildLog log;
  Child w("w", &log), x("x", &log);
  EventRecorder ev;
  Runtime rt(kManualHost);
  ev.install(rt);
  SupSpec spec(sup_flags(AIRS_ONE_FOR_ONE, 0, 1000));
  spec.add(worker("w", w)).add(worker("x", x));
  airs_pid sup = start_sup(rt, spec);
  ev.clear();
  crash(rt, sup, "w");
  CHECK_FALSE(airs_is_alive(rt, sup));
  CHECK(join(ev.log(sup)) ==
        "exited:w intensity sup_shutdown stopping:x exited:x");
  auto reached = ev.of_kind(AIRS_EVENT_INTENSITY_REACHED, sup);
  REQUIRE(reached.size() == 1);
  CHECK(reached[0].value == 1);
  CHECK(w.inits.load() == 1);
  CHECK(join(log.get()) == "init:w init:x term:w:error term:x:shutdown");
}

TEST_CASE("intensity: a group restart counts once") {
  for (airs_strategy s : {AIRS_ONE_FOR_ALL, AIRS_REST_FOR_ONE}) {
    std::string strategy = strategy_name(s);
    CAPTURE(strategy);
    ChildLog log;
    Child a("a", &log), b("b", &log), c("c", &log);
    EventRecorder ev;
    Runtime rt(kManualHost);
    ev.install(rt);
    SupSpec spec(sup_flags(s, 1, 1000));
    spec.add(worker("a", a)).add(worker("b", b)).add(worker("c", c));
    airs_pid sup = start_sup(rt, spec);
    crash(rt, sup, "a");  // three children restarted: one restart
    REQUIRE(airs_is_alive(rt, sup));
    CHECK(ev.count(AIRS_EVENT_CHILD_RESTARTED, sup) == 3);
    CHECK(a.inits.load() == 2);
    CHECK(b.inits.load() == 2);
    CHECK(c.inits.load() == 2);
    crash(rt, sup, "a");  // the second: 2 > 1
    CHECK_FALSE(airs_is_alive(rt, sup));
    auto reached = ev.of_kind(AIRS_EVENT_INTENSITY_REACHED, sup);
    REQUIRE(reached.size() == 1);
    CHECK(reached[0].value == 2);
  }
}

// ---- escalation through levels ---------------------------------------------

TEST_CASE("escalation through three levels: leaf -> mid -> top") {
  ChildLog log;
  Child leaf("leaf", &log);
  EventRecorder ev;
  Runtime rt(kManualHost);
  ev.install(rt);

  airs_restart mid_restart = AIRS_RESTART_PERMANENT;
  SUBCASE("a permanent mid is restarted with a fresh leaf") {}
  SUBCASE("a transient mid that gave up (shutdown) stays down") {
    mid_restart = AIRS_RESTART_TRANSIENT;
  }
  const bool restarted = mid_restart == AIRS_RESTART_PERMANENT;

  SupSpec mid_spec(sup_flags(AIRS_ONE_FOR_ONE, 1, 1000));
  mid_spec.add(worker("leaf", leaf));
  SupSpec top_spec(sup_flags(AIRS_ONE_FOR_ONE, 100, 1000));
  top_spec.add(sup_child("mid", mid_spec.get(), mid_restart));
  airs_pid top = start_sup(rt, top_spec);
  airs_pid mid = child_pid(rt, top, "mid");
  airs_pid leaf1 = child_pid(rt, mid, "leaf");

  crash(rt, mid, "leaf");  // within mid's intensity
  REQUIRE(airs_is_alive(rt, mid));
  airs_pid leaf2 = child_pid(rt, mid, "leaf");
  CHECK(leaf2 != leaf1);
  ev.clear();

  crash(rt, mid, "leaf");  // the second within 1000 ms: mid gives up
  CHECK_FALSE(airs_is_alive(rt, mid));
  CHECK(airs_is_alive(rt, top));
  CHECK(join(ev.log(mid)) == "exited:leaf intensity sup_shutdown");
  auto exits = ev.of_kind(AIRS_EVENT_CHILD_EXITED, top);
  REQUIRE(exits.size() == 1);
  CHECK(exits[0].id == "mid");
  CHECK(exits[0].pid == mid);
  CHECK(exits[0].reason == AIRS_EXIT_SHUTDOWN);

  auto rows = which_children(rt, top);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].type == AIRS_CHILD_SUPERVISOR);
  if (restarted) {
    CHECK(join(ev.log(top)) ==
          "exited:mid strategy:mid started:mid restarted:mid");
    CHECK(rows[0].state == AIRS_CHILD_RUNNING);
    airs_pid mid2 = rows[0].pid;
    CHECK(mid2 != mid);
    check_restarted(ev, top, "mid", mid, mid2);
    airs_pid leaf3 = child_pid(rt, mid2, "leaf");
    CHECK(leaf3 != leaf2);
    CHECK(leaf3 == leaf.pid.load());
    CHECK(join(log.get()) ==
          "init:leaf term:leaf:error init:leaf term:leaf:error init:leaf");
    // The new mid counts its restarts afresh.
    crash(rt, mid2, "leaf");
    CHECK(airs_is_alive(rt, mid2));
  } else {
    CHECK(join(ev.log(top)) == "exited:mid");
    CHECK(rows[0].state == AIRS_CHILD_STOPPED);
    CHECK(rows[0].pid == AIRS_NO_PID);
    CHECK(join(log.get()) ==
          "init:leaf term:leaf:error init:leaf term:leaf:error");
  }
}

// ---- order -----------------------------------------------------------------

TEST_CASE("a group restart stops in reverse order, then starts in order") {
  ChildLog log;
  Child a("a", &log), b("b", &log), c("c", &log), d("d", &log);
  EventRecorder ev;
  Runtime rt(kHost);
  ev.install(rt);
  std::vector<airs_pid> old;

  SUBCASE("rest_for_one: b fails, d and c are stopped") {
    SupSpec spec(sup_flags(AIRS_REST_FOR_ONE));
    spec.add(worker("a", a))
        .add(worker("b", b))
        .add(worker("c", c))
        .add(worker("d", d));
    airs_pid sup = start_sup(rt, spec);
    CHECK(join(ev.log(sup)) == "started:a started:b started:c started:d");
    for (const char* id : {"a", "b", "c", "d"})
      old.push_back(child_pid(rt, sup, id));
    size_t from = log.get().size();
    ev.clear();

    crash(rt, sup, "b");
    CHECK(join(ev.log(sup)) ==
          "exited:b strategy:b stopping:d exited:d stopping:c exited:c "
          "started:b restarted:b started:c restarted:c started:d "
          "restarted:d");
    CHECK(join(log.get(), from) ==
          "term:b:error term:d:shutdown term:c:shutdown init:b init:c init:d");
    CHECK(child_pid(rt, sup, "a") == old[0]);
    check_restarted(ev, sup, "b", old[1], child_pid(rt, sup, "b"));
    check_restarted(ev, sup, "c", old[2], child_pid(rt, sup, "c"));
    check_restarted(ev, sup, "d", old[3], child_pid(rt, sup, "d"));
    for (const Event& e : ev.of_kind(AIRS_EVENT_CHILD_STOPPING, sup))
      CHECK(e.value == AIRS_SHUTDOWN_TIMEOUT);
    auto strategy = ev.of_kind(AIRS_EVENT_STRATEGY_APPLIED, sup);
    REQUIRE(strategy.size() == 1);
    CHECK(strategy[0].pid == old[1]);
    CHECK(strategy[0].value == AIRS_REST_FOR_ONE);
  }
  SUBCASE("one_for_all: b fails, d, c and a (brutal_kill) are stopped") {
    SupSpec spec(sup_flags(AIRS_ONE_FOR_ALL));
    spec.add(worker("a", a, AIRS_RESTART_PERMANENT, AIRS_SHUTDOWN_BRUTAL_KILL))
        .add(worker("b", b))
        .add(worker("c", c))
        .add(worker("d", d));
    airs_pid sup = start_sup(rt, spec);
    for (const char* id : {"a", "b", "c", "d"})
      old.push_back(child_pid(rt, sup, id));
    size_t from = log.get().size();
    ev.clear();

    crash(rt, sup, "b");
    CHECK(join(ev.log(sup)) ==
          "exited:b strategy:b stopping:d exited:d stopping:c exited:c "
          "stopping:a exited:a started:a restarted:a started:b restarted:b "
          "started:c restarted:c started:d restarted:d");
    CHECK(join(log.get(), from) ==
          "term:b:error term:d:shutdown term:c:shutdown term:a:killed "
          "init:a init:b init:c init:d");
    const char* ids[] = {"a", "b", "c", "d"};
    for (int i = 0; i < 4; i++)
      check_restarted(ev, sup, ids[i], old[i], child_pid(rt, sup, ids[i]));
    auto stopping = ev.of_kind(AIRS_EVENT_CHILD_STOPPING, sup);
    REQUIRE(stopping.size() == 3);
    CHECK(stopping[2].value == AIRS_SHUTDOWN_BRUTAL_KILL);
    auto exits = ev.of_kind(AIRS_EVENT_CHILD_EXITED, sup);
    REQUIRE(exits.size() == 4);
    CHECK(exits[0].reason == AIRS_EXIT_ERROR);
    CHECK(exits[1].reason == AIRS_EXIT_SHUTDOWN);
    CHECK(exits[2].reason == AIRS_EXIT_SHUTDOWN);
    CHECK(exits[3].reason == AIRS_EXIT_KILLED);
  }
}

// ---- a sibling failing during a group restart ------------------------------

TEST_CASE("a sibling failing while the group is stopped: one restart") {
  // one_for_all over a, b, c, intensity 1. c ignores shutdown, so after a
  // fails the supervisor waits out c's shutdown timeout; meanwhile b fails
  // on its own. The group restarts once and b's exit is not a second
  // restart (which intensity 1 would turn into an escalation).
  for (int workers : {0, 2}) {
    CAPTURE(workers);
    const bool host = workers == 0;
    ChildLog log;
    Child a("a", &log), b("b", &log), c("c", &log);
    c.ignore_shutdown = true;
    EventRecorder ev;
    Runtime rt({{AIRS_CFG_WORKERS, workers}, {AIRS_CFG_MANUAL_CLOCK, 1}});
    ev.install(rt);
    SupSpec spec(sup_flags(AIRS_ONE_FOR_ALL, 1, 5000));
    spec.add(worker("a", a))
        .add(worker("b", b))
        .add(
            worker("c", c, AIRS_RESTART_PERMANENT, AIRS_SHUTDOWN_TIMEOUT, 200));
    airs_pid sup = start_sup(rt, spec);
    airs_pid pa = child_pid(rt, sup, "a"), pb = child_pid(rt, sup, "b"),
             pc = child_pid(rt, sup, "c");
    size_t from = log.get().size();
    ev.clear();

    make_exit(rt, pa, AIRS_EXIT_ERROR);
    if (host)
      poll_all(rt);
    else
      REQUIRE(ev.wait_event(AIRS_EVENT_CHILD_STOPPING, "c", sup));
    CHECK(join(ev.log(sup)) == "exited:a strategy:a stopping:c");

    make_exit(rt, pb, AIRS_EXIT_ERROR);
    REQUIRE(airs_wait(rt, pb, 2000) == AIRS_OK);
    CHECK(airs_is_alive(rt, pc));
    // The supervisor arms c's kill timer just after the stopping event.
    REQUIRE(wait_until([&] { return next_timer_ms(rt) == 200; }));
    REQUIRE(airs_runtime_advance_time(rt, 200) == AIRS_OK);  // c is killed
    INFO("events: " << join(ev.log(sup)));
    if (host) {
      poll_all(rt);
    } else {
      REQUIRE(ev.wait_count(AIRS_EVENT_CHILD_RESTARTED, 3, sup));
      // Let the supervisor read b's exit, which waited in its mailbox.
      REQUIRE(wait_until(
          [&] { return stat(rt, sup, AIRS_PSTAT_MAILBOX_DEPTH) == 0; }));
    }
    auto rows = which_children(rt, sup);

    CHECK(airs_is_alive(rt, sup));
    REQUIRE(rows.size() == 3);
    airs_pid olds[] = {pa, pb, pc};
    for (int i = 0; i < 3; i++) {
      INFO("child " << rows[i].id);
      CHECK(rows[i].state == AIRS_CHILD_RUNNING);
      CHECK(rows[i].pid != olds[i]);
      CHECK(airs_is_alive(rt, rows[i].pid));
    }
    CHECK(ev.count(AIRS_EVENT_STRATEGY_APPLIED, sup) == 1);
    CHECK(ev.count(AIRS_EVENT_CHILD_RESTARTED, sup) == 3);
    CHECK(ev.count(AIRS_EVENT_INTENSITY_REACHED, sup) == 0);
    CHECK(ev.count(AIRS_EVENT_SUPERVISOR_SHUTDOWN, sup) == 0);
    CHECK(join(ev.log(sup, {AIRS_EVENT_CHILD_KILLED})) == "killed:c");
    CHECK(join(log.get(), from) ==
          "term:a:error term:b:error term:c:killed init:a init:b init:c");

    // The new c still ignores shutdown, and the manual clock would never
    // time it out: end the tree with a kill before the runtime is freed.
    airs_pid c2 = find_child(rows, "c")->pid;
    REQUIRE(airs_kill(rt, sup) == AIRS_OK);
    CHECK(airs_wait(rt, c2, 2000) == AIRS_OK);
  }
}

// ---- backoff ---------------------------------------------------------------

TEST_CASE("backoff: the k-th restart waits min(max, base * 2^(k-1)) ms") {
  ChildLog log;
  Child w("w", &log);
  EventRecorder ev;
  Runtime rt(kManualHost);
  ev.install(rt);
  airs_sup_flags f = sup_flags(AIRS_ONE_FOR_ONE, 10, 60000);
  f.backoff_base_ms = 100;
  f.backoff_max_ms = 400;
  SupSpec spec(f);
  spec.add(worker("w", w));
  airs_pid sup = start_sup(rt, spec);

  for (int64_t delay : {100, 200, 400, 400}) {
    CAPTURE(delay);
    airs_pid old = w.pid.load();
    int inits = w.inits.load();
    ev.clear();
    make_exit(rt, old, AIRS_EXIT_ERROR);
    poll_all(rt);
    // No which_children here: it would wait for the restart, and the
    // manual clock does not move by itself.
    CHECK(join(ev.log(sup)) == "exited:w strategy:w backoff");
    auto backoff = ev.of_kind(AIRS_EVENT_BACKOFF, sup);
    REQUIRE(backoff.size() == 1);
    CHECK(backoff[0].value == delay);

    REQUIRE(airs_runtime_advance_time(rt, delay - 1) == AIRS_OK);
    poll_all(rt);
    CHECK(w.inits.load() == inits);
    CHECK(ev.count(AIRS_EVENT_CHILD_STARTED, sup) == 0);

    REQUIRE(airs_runtime_advance_time(rt, 1) == AIRS_OK);
    poll_all(rt);
    CHECK(w.inits.load() == inits + 1);
    CHECK(join(ev.log(sup)) ==
          "exited:w strategy:w backoff started:w restarted:w");
    REQUIRE(airs_is_alive(rt, sup));
    CHECK(child_pid(rt, sup, "w") == w.pid.load());
    CHECK(w.pid.load() != old);
  }
}

// ---- a failing start -------------------------------------------------------

namespace {

// Starts a supervisor whose spec fails to start; checks that the call
// fails with the child's status and leaves *out untouched.
void start_fails(airs_runtime* rt, const SupSpec& spec) {
  airs_pid out = 12345;
  CHECK(airs_supervisor_start(rt, spec.get(), &out) == AIRS_EINVAL);
  CHECK(out == 12345);
}

}  // namespace

TEST_CASE("a failing start stops the children already started, in reverse") {
  SUBCASE("flat: c fails after a and b started") {
    for (int workers : {0, 2}) {
      CAPTURE(workers);
      ChildLog log;
      Child a("a", &log), b("b", &log), c("c", &log);
      c.init_status = AIRS_EINVAL;
      EventRecorder ev;
      Runtime rt({{AIRS_CFG_WORKERS, workers}});
      ev.install(rt);
      SupSpec spec(sup_flags(AIRS_ONE_FOR_ONE));
      spec.add(
              worker("a", a, AIRS_RESTART_PERMANENT, AIRS_SHUTDOWN_BRUTAL_KILL))
          .add(worker("b", b))
          .add(worker("c", c));
      start_fails(rt, spec);
      CHECK(join(log.get()) ==
            "init:a init:b init_failed:c term:b:shutdown term:a:killed");
      auto started = ev.of_kind(AIRS_EVENT_CHILD_STARTED);
      REQUIRE(started.size() == 2);
      airs_pid sup = started[0].source;
      CHECK(join(ev.log(sup)) ==
            "started:a started:b start_failed:c stopping:b exited:b "
            "stopping:a exited:a");
      auto failed = ev.of_kind(AIRS_EVENT_CHILD_START_FAILED, sup);
      CHECK(failed.size() == 1);
      if (failed.size() == 1) CHECK(failed[0].value == AIRS_EINVAL);
      CHECK_FALSE(airs_is_alive(rt, sup));
      CHECK_FALSE(airs_is_alive(rt, started[0].pid));
      CHECK_FALSE(airs_is_alive(rt, started[1].pid));
    }
  }
  SUBCASE("nested: the failure inside a child supervisor fails it all") {
    for (int workers : {0, 2}) {
      CAPTURE(workers);
      ChildLog log;
      Child x("x", &log), a("a", &log), c("c", &log);
      c.init_status = AIRS_EINVAL;
      EventRecorder ev;
      Runtime rt({{AIRS_CFG_WORKERS, workers}});
      ev.install(rt);
      SupSpec mid_spec(sup_flags(AIRS_ONE_FOR_ONE));
      mid_spec.add(worker("a", a)).add(worker("c", c));
      SupSpec top_spec(sup_flags(AIRS_ONE_FOR_ONE));
      top_spec.add(worker("x", x)).add(sup_child("mid", mid_spec.get()));
      start_fails(rt, top_spec);
      CHECK(join(log.get()) ==
            "init:x init:a init_failed:c term:a:shutdown term:x:shutdown");
      auto all = ev.all();
      CHECK(all.size() >= 2);  // x and a started
      for (const Event& e : all) {
        CHECK_FALSE(airs_is_alive(rt, e.source));
        if (e.pid) CHECK_FALSE(airs_is_alive(rt, e.pid));
      }
    }
  }
}
