// test_sup_crossing.cpp - supervisors that call each other from their
// children's inits and from their event hooks. No supervisor holds a lock
// while it runs user code, so the crossing calls never deadlock (they did
// when child inits and the event hook ran under the supervisor's lock).
#include <thread>

#include "../rt_helpers.hpp"

using namespace rt_test;

namespace {

constexpr uint64_t kCrash = 1;

// Two supervisors, each with one child; the child's init and the event
// hook ask the other supervisor for its children.
struct Crossing {
  std::atomic<airs_pid> sup[2] = {{0}, {0}};
  std::atomic<int> inits[2] = {{0}, {0}};
  std::atomic<int> asked{0};
  std::atomic<int> answered{0};  // AIRS_OK
  std::atomic<int> refused{0};   // AIRS_ESTATE (a busy supervisor)
  std::atomic<int> other{0};     // anything else: a failure
  airs_runtime* rt = nullptr;

  void ask(airs_runtime* r, airs_pid target) {
    if (!target) return;
    airs_child_counts cc;
    size_t n = 0;
    for (airs_status st :
         {airs_supervisor_count_children(r, target, &cc),
          airs_supervisor_which_children(r, target, nullptr, 0, &n)}) {
      asked++;
      if (st == AIRS_OK)
        answered++;
      else if (st == AIRS_ESTATE)
        refused++;
      else
        other++;
    }
  }
};

Crossing* g = nullptr;

airs_status cross_init(void* user_data, airs_ctx* ctx, void** state) {
  int side = static_cast<int>(reinterpret_cast<intptr_t>(user_data));
  g->inits[side]++;
  g->ask(airs_ctx_runtime(ctx), g->sup[1 - side].load());
  *state = user_data;
  return AIRS_OK;
}

airs_status cross_receive(void*, airs_ctx* ctx, const airs_msg* m) {
  if (airs_msg_type(m) == kCrash)
    return airs_exit(ctx, AIRS_EXIT_ERROR, 1, "crash");
  return AIRS_OK;
}

void cross_hook(void*, const airs_event* e) {
  if (e->kind != AIRS_EVENT_CHILD_STARTED) return;
  int side = e->source == g->sup[0].load() ? 0 : 1;
  g->ask(g->rt, g->sup[1 - side].load());
}

const airs_behaviour kCrossChild = {AIRS_BEHAVIOUR_VERSION,
                                    sizeof(airs_behaviour),
                                    cross_init,
                                    cross_receive,
                                    nullptr,
                                    nullptr,
                                    nullptr};

airs_pid start_side(airs_runtime* rt, int side) {
  airs_sup_flags f;
  REQUIRE(airs_sup_flags_init(&f) == AIRS_OK);
  f.intensity = 1000000;
  airs_sup_spec* spec = nullptr;
  REQUIRE(airs_sup_spec_new(&f, &spec) == AIRS_OK);
  airs_child_spec c;
  REQUIRE(airs_child_spec_init(&c) == AIRS_OK);
  c.id = "child";
  c.behaviour = &kCrossChild;
  c.user_data = reinterpret_cast<void*>(static_cast<intptr_t>(side));
  REQUIRE(airs_sup_spec_add_child(spec, &c) == AIRS_OK);
  airs_pid pid = 0;
  REQUIRE(airs_supervisor_start(rt, spec, &pid) == AIRS_OK);
  airs_sup_spec_free(spec);
  return pid;
}

// The running child of `sup`, or 0.
airs_pid child_of(airs_runtime* rt, airs_pid sup) {
  airs_child_info row;
  size_t n = 0;
  if (airs_supervisor_which_children(rt, sup, &row, 1, &n) != AIRS_OK || !n)
    return 0;
  return row.state == AIRS_CHILD_RUNNING ? row.pid : 0;
}

}  // namespace

TEST_CASE("two supervisors asking each other from inits and hooks" *
          doctest::timeout(60)) {
  Crossing cross;
  g = &cross;
  Runtime rt({{AIRS_CFG_WORKERS, 2}});
  cross.rt = rt;
  REQUIRE(airs_set_event_hook(rt, cross_hook, nullptr) == AIRS_OK);
  cross.sup[0] = start_side(rt, 0);
  cross.sup[1] = start_side(rt, 1);

  // Each side crashes its child again and again: both supervisors restart
  // at once on the two workers, their children's inits and their hooks
  // asking the other, which is restarting too.
  constexpr int kRounds = 300;
  auto crash_loop = [&](int side) {
    airs_pid sup = cross.sup[side];
    for (int i = 0; i < kRounds; i++) {
      int before = cross.inits[side];
      airs_pid child = 0;
      REQUIRE(
          wait_until([&] { return (child = child_of(rt, sup)) != 0; }, 20000));
      airs_send(rt, child, kCrash, nullptr, 0);
      REQUIRE(wait_until([&] { return cross.inits[side] > before; }, 20000));
    }
  };
  std::thread a(crash_loop, 0), b(crash_loop, 1);
  a.join();
  b.join();
  INFO("asked " << cross.asked.load() << ", answered " << cross.answered.load()
                << ", refused " << cross.refused.load());
  CHECK(cross.inits[0] == kRounds + 1);
  CHECK(cross.inits[1] == kRounds + 1);
  CHECK(cross.other == 0);
  CHECK(cross.asked > 0);
  CHECK(cross.answered > 0);  // the reads never need the other's work
  rt.free();
  g = nullptr;
}
