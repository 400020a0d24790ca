// Tests of airs_runtime_stats, the process lifecycle events, the
// AIRS_CFG_EVENTS switch and the dead-letter reasons of the core. Exact
// counts come from host-driven runtimes with a manual clock: every step
// runs to the end before the next one.
#include <airs/airs.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../rt_helpers.hpp"

using namespace rt_test;

namespace {

const Keys kHost = {{AIRS_CFG_WORKERS, 0},
                    {AIRS_CFG_MANUAL_CLOCK, 1},
                    {AIRS_CFG_SHUTDOWN_TIMEOUT_MS, 20}};

constexpr uint64_t kData = 1;
constexpr uint64_t kFwd = 2;  // fwd sends four messages to its target
constexpr uint64_t kDie = 3;  // ends normally
constexpr uint64_t kCrash = 4;

airs_runtime_stats stats_of(airs_runtime* rt) {
  airs_runtime_stats s;
  std::memset(&s, 0xAB, sizeof s);
  s.version = AIRS_RUNTIME_STATS_VERSION;
  s.size = sizeof s;
  REQUIRE(airs_runtime_stats_get(rt, &s) == AIRS_OK);
  CHECK(s.version == AIRS_RUNTIME_STATS_VERSION);  // left as set
  CHECK(s.size == sizeof s);
  return s;
}

struct Want {
  uint64_t alive, spawned, exited, sent, delivered, dropped, dead, restarts;
};

// Every counter at once, each compared on its own for a clear failure.
void check_stats(airs_runtime* rt, const Want& w, int line) {
  airs_runtime_stats s = stats_of(rt);
  INFO("expected at line " << line);
  CHECK(s.processes_alive == w.alive);
  CHECK(s.processes_spawned == w.spawned);
  CHECK(s.processes_exited == w.exited);
  CHECK(s.messages_sent == w.sent);
  CHECK(s.messages_delivered == w.delivered);
  CHECK(s.messages_dropped == w.dropped);
  CHECK(s.dead_letters == w.dead);
  CHECK(s.restarts == w.restarts);
}

#define CHECK_STATS(rt, ...) check_stats(rt, Want{__VA_ARGS__}, __LINE__)

// A copy of every process lifecycle event (kinds 13 and 14).
struct LifeEvent {
  int32_t kind = 0;
  int32_t severity = -1;
  airs_pid source = 0;
  airs_pid pid = 0;
  airs_pid other = 0;
  int64_t value = 0;
  std::string id;
  std::string text;
  bool has_reason = false;
  Reason reason;
  bool well_formed = false;
};

class Events {
 public:
  static void hook(void* user_data, const airs_event* e) {
    auto* self = static_cast<Events*>(user_data);
    std::lock_guard<std::mutex> lock(self->mu_);
    self->all_++;
    if (e->kind != AIRS_EVENT_PROCESS_SPAWNED &&
        e->kind != AIRS_EVENT_PROCESS_EXITED)
      return;
    LifeEvent c;
    c.kind = e->kind;
    c.severity = e->severity;
    c.source = e->source;
    c.pid = e->pid;
    c.other = e->other;
    c.value = e->value;
    c.id = e->id ? e->id : "(null)";
    c.text = e->text ? e->text : "(null)";
    c.has_reason = e->reason != nullptr;
    if (e->reason) c.reason = copy_reason(e->reason);
    c.well_formed = e->version == AIRS_EVENT_VERSION && e->size == sizeof *e &&
                    e->id && e->text;
    self->life_.push_back(std::move(c));
  }
  void install(airs_runtime* rt) {
    REQUIRE(airs_set_event_hook(rt, &Events::hook, this) == AIRS_OK);
  }
  std::vector<LifeEvent> life() const {
    std::lock_guard<std::mutex> lock(mu_);
    return life_;
  }
  size_t all() const {  // every event, lifecycle or not
    std::lock_guard<std::mutex> lock(mu_);
    return all_;
  }
  void clear() {
    std::lock_guard<std::mutex> lock(mu_);
    life_.clear();
    all_ = 0;
  }

 private:
  mutable std::mutex mu_;
  std::vector<LifeEvent> life_;
  size_t all_ = 0;
};

// A supervisor (one_for_one unless told) of the children `kids` (Actors
// that end as their messages say), ids "a", "b", ...; intensity 10 so that
// a few crashes restart them.
airs_pid start_supervisor(airs_runtime* rt, std::vector<Actor*> kids,
                          airs_strategy strategy = AIRS_ONE_FOR_ONE) {
  airs_sup_flags f;
  REQUIRE(airs_sup_flags_init(&f) == AIRS_OK);
  f.strategy = strategy;
  f.intensity = 10;
  f.period_ms = 60000;
  airs_sup_spec* spec = nullptr;
  REQUIRE(airs_sup_spec_new(&f, &spec) == AIRS_OK);
  std::vector<std::string> ids;
  for (size_t i = 0; i < kids.size(); i++)
    ids.push_back(std::string(1, static_cast<char>('a' + i)));
  for (size_t i = 0; i < kids.size(); i++) {
    airs_child_spec c;
    REQUIRE(airs_child_spec_init(&c) == AIRS_OK);
    c.id = ids[i].c_str();
    c.behaviour = &kActor;
    c.user_data = kids[i];
    REQUIRE(airs_sup_spec_add_child(spec, &c) == AIRS_OK);
  }
  airs_pid sup = 0;
  REQUIRE(airs_supervisor_start(rt, spec, &sup) == AIRS_OK);
  airs_sup_spec_free(spec);
  return sup;
}

airs_pid start_supervisor(airs_runtime* rt, Actor& child) {
  return start_supervisor(rt, std::vector<Actor*>{&child});
}

airs_status obey(Actor&, airs_ctx* ctx, const airs_msg* m) {
  switch (airs_msg_type(m)) {
    case kDie: return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, nullptr);
    case kCrash: return airs_exit(ctx, AIRS_EXIT_ERROR, 7, "crash asked");
    default: return AIRS_OK;
  }
}

}  // namespace

TEST_CASE("a new runtime counts nothing") {
  Runtime rt(kHost);
  CHECK_STATS(rt, 0, 0, 0, 0, 0, 0, 0, 0);
}

TEST_CASE("counters are exact on an idle host-driven runtime") {
  Actor sink, fwd, watcher, bad;  // outlive the runtime
  Runtime rt(kHost);
  airs_pid sink_pid = spawn(rt, sink);
  // fwd: three messages through the staged path of a callback, one of high
  // priority through the direct one.
  fwd.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg* m) {
    if (airs_msg_type(m) != kFwd) return AIRS_OK;
    for (int i = 0; i < 3; i++)
      CHECK(airs_ctx_send(ctx, sink_pid, kData, "x", 1) == AIRS_OK);
    airs_msg* hi = nullptr;
    REQUIRE(airs_msg_new(kData, "h", 1, &hi) == AIRS_OK);
    REQUIRE(airs_msg_set_priority(hi, AIRS_PRIORITY_HIGH) == AIRS_OK);
    CHECK(airs_ctx_send_msg(ctx, sink_pid, hi) == AIRS_OK);
    return AIRS_OK;
  };
  airs_pid fwd_pid = spawn(rt, fwd);
  CHECK_STATS(rt, 2, 2, 0, 0, 0, 0, 0, 0);

  // From the host thread: counted when accepted, delivered when handled.
  REQUIRE(airs_send(rt, fwd_pid, kFwd, nullptr, 0) == AIRS_OK);
  REQUIRE(airs_send(rt, fwd_pid, kFwd, nullptr, 0) == AIRS_OK);
  REQUIRE(airs_send(rt, sink_pid, kData, nullptr, 0) == AIRS_OK);
  CHECK_STATS(rt, 2, 2, 0, 3, 0, 0, 0, 0);
  poll_all(rt);
  CHECK(sink.received == 9);
  CHECK_STATS(rt, 2, 2, 0, 11, 11, 0, 0, 0);

  // Signals are not messages: a monitor, a stop and the DOWN it causes
  // (handed to receive, but made by the runtime) count nothing.
  watcher.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg* m) {
    uint64_t ref = 0;
    if (airs_msg_type(m) == kData)
      CHECK(airs_monitor(ctx, sink_pid, &ref) == 0);
    return AIRS_OK;
  };
  airs_pid w = spawn(rt, watcher);
  REQUIRE(airs_send(rt, w, kData, nullptr, 0) == AIRS_OK);
  poll_all(rt);
  REQUIRE(airs_stop(rt, sink_pid) == AIRS_OK);
  poll_all(rt);
  REQUIRE(watcher.types() == std::vector<uint64_t>{kData, AIRS_MSG_DOWN});
  CHECK_STATS(rt, 2, 3, 1, 12, 12, 0, 0, 0);

  // A user timer is a message like another when it fires.
  airs_msg* later = nullptr;
  REQUIRE(airs_msg_new(kData, nullptr, 0, &later) == AIRS_OK);
  REQUIRE(airs_send_after(rt, fwd_pid, 10, later, nullptr) == AIRS_OK);
  CHECK_STATS(rt, 2, 3, 1, 12, 12, 0, 0, 0);
  REQUIRE(airs_runtime_advance_time(rt, 10) == AIRS_OK);
  poll_all(rt);
  CHECK_STATS(rt, 2, 3, 1, 13, 13, 0, 0, 0);

  // A spawn that fails counts neither as spawned nor as exited.
  bad.on_init = [](Actor&, airs_ctx*) { return AIRS_EEXIST; };
  airs_pid none = 0;
  CHECK(try_spawn(rt, bad, &none) == AIRS_EEXIST);
  CHECK_STATS(rt, 2, 3, 1, 13, 13, 0, 0, 0);
}

TEST_CASE("full mailboxes count as dropped; DROP_NEWEST also as dead letters") {
  Actor fails, drops;
  Runtime rt(kHost);
  airs_spawn_opts fo = opts_of(rt, 0, 1, AIRS_MAILBOX_FAIL);
  airs_spawn_opts dop = opts_of(rt, 0, 1, AIRS_MAILBOX_DROP_NEWEST);
  airs_pid f = spawn(rt, fails, &fo);
  airs_pid d = spawn(rt, drops, &dop);
  REQUIRE(airs_send(rt, f, kData, nullptr, 0) == AIRS_OK);
  CHECK(airs_send(rt, f, kData, nullptr, 0) == AIRS_EFULL);
  CHECK(airs_send(rt, f, kData, nullptr, 0) == AIRS_EFULL);
  CHECK_STATS(rt, 2, 2, 0, 1, 0, 2, 0, 0);
  REQUIRE(airs_send(rt, d, kData, nullptr, 0) == AIRS_OK);
  REQUIRE(airs_send(rt, d, kData, nullptr, 0) == AIRS_OK);  // dropped
  CHECK_STATS(rt, 2, 2, 0, 2, 0, 3, 1, 0);
  poll_all(rt);
  CHECK_STATS(rt, 2, 2, 0, 2, 2, 3, 1, 0);
}

TEST_CASE("restarts and the processes of a supervision tree are counted") {
  Actor child;
  Runtime rt(kHost);
  child.on_receive = obey;
  airs_pid sup = start_supervisor(rt, child);
  poll_all(rt);
  CHECK_STATS(rt, 2, 2, 0, 0, 0, 0, 0, 0);
  for (uint64_t i = 1; i <= 3; i++) {
    airs_pid a = child.self;
    REQUIRE(airs_send(rt, a, kCrash, nullptr, 0) == AIRS_OK);
    poll_all(rt);
    CHECK_FALSE(airs_is_alive(rt, a));
    CHECK(airs_is_alive(rt, child.self));
    CHECK(child.inits == static_cast<int>(i) + 1);
    // The crash message was delivered; exit signals are not messages.
    CHECK_STATS(rt, 2, 2 + i, i, i, i, 0, 0, i);
  }
  REQUIRE(airs_stop(rt, sup) == AIRS_OK);
  poll_all(rt);
  CHECK_STATS(rt, 0, 5, 5, 3, 3, 0, 0, 3);
}

TEST_CASE("restarts count each child restarted, a group restart too") {
  // rest_for_one: a crash of "a" restarts a, b and c: 3 restarts, though
  // intensity counts it once.
  Actor a, b, c;
  for (Actor* k : {&a, &b, &c}) k->on_receive = obey;
  Runtime rt(kHost);
  airs_pid sup = start_supervisor(rt, {&a, &b, &c}, AIRS_REST_FOR_ONE);
  poll_all(rt);
  REQUIRE(airs_send(rt, a.self, kCrash, nullptr, 0) == AIRS_OK);
  poll_all(rt);
  CHECK(a.inits == 2);
  CHECK(b.inits == 2);
  CHECK(c.inits == 2);
  CHECK(stats_of(rt).restarts == 3);
  // A crash of the last restarts it alone.
  REQUIRE(airs_send(rt, c.self, kCrash, nullptr, 0) == AIRS_OK);
  poll_all(rt);
  CHECK(c.inits == 3);
  CHECK(stats_of(rt).restarts == 4);
  REQUIRE(airs_stop(rt, sup) == AIRS_OK);
  poll_all(rt);
}

TEST_CASE("lifecycle events: spawned with its spawner, exited with why") {
  Events ev;  // these outlive the runtime
  Actor top, kid, kid2, bad, quiet;
  Runtime rt(kHost);
  ev.install(rt);

  kid.on_receive = obey;
  kid2.on_receive = obey;
  airs_pid kid_pid = 0, kid2_pid = 0;
  top.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg*) {
    kid_pid = ctx_spawn(ctx, kid);
    // airs_spawn from inside a callback: the caller is the spawner too.
    CHECK(try_spawn(airs_ctx_runtime(ctx), kid2, &kid2_pid) == AIRS_OK);
    return AIRS_OK;
  };
  airs_pid top_pid = spawn(rt, top);
  {
    auto e = ev.life();
    REQUIRE(e.size() == 1);
    CHECK(e[0].kind == AIRS_EVENT_PROCESS_SPAWNED);
    CHECK(e[0].source == AIRS_NO_PID);  // spawned by the host
    CHECK(e[0].pid == top_pid);
    CHECK(e[0].severity == AIRS_SEVERITY_DEBUG);
    CHECK_FALSE(e[0].has_reason);
    CHECK(e[0].id.empty());
    CHECK(e[0].text.find("spawned") != std::string::npos);
    CHECK(e[0].well_formed);
  }
  ev.clear();
  REQUIRE(airs_send(rt, top_pid, kData, nullptr, 0) == AIRS_OK);
  poll_all(rt);
  REQUIRE(kid_pid != AIRS_NO_PID);
  {
    auto e = ev.life();
    REQUIRE(e.size() == 2);
    CHECK(e[0].kind == AIRS_EVENT_PROCESS_SPAWNED);
    CHECK(e[0].source == top_pid);
    CHECK(e[0].pid == kid_pid);
    CHECK(e[1].kind == AIRS_EVENT_PROCESS_SPAWNED);
    CHECK(e[1].source == top_pid);
    CHECK(e[1].pid == kid2_pid);
  }

  // Normal exit: DEBUG; an error: WARNING with the reason; a kill too.
  ev.clear();
  REQUIRE(airs_send(rt, kid_pid, kDie, nullptr, 0) == AIRS_OK);
  REQUIRE(airs_send(rt, kid2_pid, kCrash, nullptr, 0) == AIRS_OK);
  poll_all(rt);
  REQUIRE(airs_kill(rt, top_pid) == AIRS_OK);
  poll_all(rt);
  {
    auto e = ev.life();
    REQUIRE(e.size() == 3);
    CHECK(e[0].kind == AIRS_EVENT_PROCESS_EXITED);
    CHECK(e[0].pid == kid_pid);
    CHECK(e[0].source == AIRS_NO_PID);
    CHECK(e[0].severity == AIRS_SEVERITY_DEBUG);
    REQUIRE(e[0].has_reason);
    CHECK(e[0].reason.kind == AIRS_EXIT_NORMAL);
    CHECK(e[0].well_formed);
    CHECK(e[1].kind == AIRS_EVENT_PROCESS_EXITED);
    CHECK(e[1].pid == kid2_pid);
    CHECK(e[1].severity == AIRS_SEVERITY_WARNING);
    REQUIRE(e[1].has_reason);
    CHECK(e[1].reason.kind == AIRS_EXIT_ERROR);
    CHECK(e[1].reason.code == 7);
    CHECK(e[1].reason.text == "crash asked");
    CHECK(e[1].text.find("crash asked") != std::string::npos);
    CHECK(e[2].pid == top_pid);
    CHECK(e[2].reason.kind == AIRS_EXIT_KILLED);
    CHECK(e[2].severity == AIRS_SEVERITY_WARNING);
  }

  // A failed spawn is neither spawned nor exited.
  ev.clear();
  bad.on_init = [](Actor&, airs_ctx*) { return AIRS_EEXIST; };
  airs_pid none = 0;
  CHECK(try_spawn(rt, bad, &none) == AIRS_EEXIST);
  CHECK(ev.life().empty());

  // The hook removed: nothing more.
  REQUIRE(airs_set_event_hook(rt, nullptr, nullptr) == AIRS_OK);
  airs_pid q = spawn(rt, quiet);
  REQUIRE(airs_stop(rt, q) == AIRS_OK);
  poll_all(rt);
  CHECK(ev.life().empty());
}

TEST_CASE("AIRS_CFG_EVENTS 0: no event at all, hook or not") {
  // The same life with events on (the default) and off.
  for (int on : {1, 0}) {
    CAPTURE(on);
    Events ev;
    Actor child, plain;
    Runtime rt({{AIRS_CFG_WORKERS, 0},
                {AIRS_CFG_SHUTDOWN_TIMEOUT_MS, 20},
                {AIRS_CFG_EVENTS, on}});
    ev.install(rt);
    child.on_receive = obey;
    airs_pid sup = start_supervisor(rt, child);
    airs_pid p = spawn(rt, plain);
    REQUIRE(airs_send(rt, child.self, kCrash, nullptr, 0) == AIRS_OK);
    poll_all(rt);
    CHECK(child.inits == 2);  // the restart happened either way
    REQUIRE(airs_stop(rt, p) == AIRS_OK);
    REQUIRE(airs_stop(rt, sup) == AIRS_OK);
    poll_all(rt);
    if (on) {
      // sup, child, plain, restarted child spawned; all four exited.
      CHECK(ev.life().size() == 8);
      CHECK(ev.all() > ev.life().size());  // supervision events too
    } else {
      CHECK(ev.all() == 0);
    }
    // Counters do not depend on events.
    CHECK_STATS(rt, 0, 4, 4, 1, 1, 0, 0, 1);
  }
}

TEST_CASE("every dead-letter reason of the core reaches the hook, counted") {
  DeadLetters dl;
  Actor drops, quitter, gone;
  Runtime rt(kHost);
  dl.install(rt);
  quitter.on_receive = obey;

  // MAILBOX_FULL: DROP_NEWEST drops the newest.
  airs_spawn_opts dop = opts_of(rt, 0, 1, AIRS_MAILBOX_DROP_NEWEST);
  airs_pid d = spawn(rt, drops, &dop);
  REQUIRE(send_str(rt, d, kData, "kept") == AIRS_OK);
  REQUIRE(send_str(rt, d, kData, "dropped") == AIRS_OK);
  REQUIRE(dl.size() == 1);
  CHECK(dl.get()[0].reason == AIRS_DEAD_LETTER_MAILBOX_FULL);
  CHECK(dl.get()[0].to == d);
  CHECK(dl.get()[0].data == "dropped");
  CHECK(stats_of(rt).dead_letters == 1);

  // EXITED: still queued when the receiver ended.
  airs_pid q = spawn(rt, quitter);
  REQUIRE(airs_send(rt, q, kDie, nullptr, 0) == AIRS_OK);
  REQUIRE(send_str(rt, q, kData, "queued") == AIRS_OK);
  poll_all(rt);
  REQUIRE(dl.size() == 2);
  CHECK(dl.get()[1].reason == AIRS_DEAD_LETTER_EXITED);
  CHECK(dl.get()[1].to == q);
  CHECK(dl.get()[1].data == "queued");
  CHECK(stats_of(rt).dead_letters == 2);

  // TIMER: a timer fired for a process that is gone.
  airs_pid g = spawn(rt, gone);
  airs_msg* m = nullptr;
  REQUIRE(airs_msg_new(kData, "tick", 4, &m) == AIRS_OK);
  REQUIRE(airs_send_after(rt, g, 5, m, nullptr) == AIRS_OK);
  REQUIRE(airs_stop(rt, g) == AIRS_OK);
  poll_all(rt);
  CHECK(dl.size() == 2);
  REQUIRE(airs_runtime_advance_time(rt, 5) == AIRS_OK);
  poll_all(rt);
  REQUIRE(dl.size() == 3);
  CHECK(dl.get()[2].reason == AIRS_DEAD_LETTER_TIMER);
  CHECK(dl.get()[2].to == g);
  CHECK(dl.get()[2].data == "tick");
  CHECK(stats_of(rt).dead_letters == 3);

  // NOPROC: each reason once more is not needed; see the next test case.
  CHECK_STATS(rt, 1, 3, 2, 3, 2, 1, 3, 0);
}

TEST_CASE("NOPROC: each send function to a dead pid; the caller keeps it") {
  DeadLetters dl;
  Actor dead, sender;
  Runtime rt(kHost);
  dl.install(rt);
  airs_pid gone = spawn(rt, dead);
  REQUIRE(airs_stop(rt, gone) == AIRS_OK);
  poll_all(rt);
  REQUIRE_FALSE(airs_is_alive(rt, gone));

  // From the host: airs_send and airs_send_msg.
  CHECK(send_str(rt, gone, kData, "send") == AIRS_ENOPROC);
  int frees = g_owned_frees;
  void* buf = ::operator new(4);
  std::memcpy(buf, "own!", 4);
  airs_msg* owned = nullptr;
  REQUIRE(airs_msg_new_owned(kData, buf, 4, counting_free, &owned) == AIRS_OK);
  CHECK(airs_send_msg(rt, gone, owned) == AIRS_ENOPROC);
  CHECK(g_owned_frees == frees);  // borrowed by the hook, still ours
  CHECK(airs_msg_size(owned) == 4);
  CHECK(std::memcmp(airs_msg_data(owned), "own!", 4) == 0);
  airs_msg_free(owned);
  CHECK(g_owned_frees == frees + 1);

  // From a callback: airs_ctx_send and airs_ctx_send_msg; the hook sees
  // the caller as the sender.
  sender.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg*) {
    CHECK(airs_ctx_send(ctx, gone, kData, "ctx", 3) == AIRS_ENOPROC);
    airs_msg* mine = nullptr;
    REQUIRE(airs_msg_new(kData, "ctxmsg", 6, &mine) == AIRS_OK);
    CHECK(airs_ctx_send_msg(ctx, gone, mine) == AIRS_ENOPROC);
    airs_msg_free(mine);
    return AIRS_OK;
  };
  airs_pid s = spawn(rt, sender);
  REQUIRE(airs_send(rt, s, kData, nullptr, 0) == AIRS_OK);
  poll_all(rt);

  auto letters = dl.get();
  REQUIRE(letters.size() == 4);
  const char* want[] = {"send", "own!", "ctx", "ctxmsg"};
  for (size_t i = 0; i < 4; i++) {
    CAPTURE(i);
    CHECK(letters[i].reason == AIRS_DEAD_LETTER_NOPROC);
    CHECK(letters[i].to == gone);
    CHECK(letters[i].data == want[i]);
  }
  CHECK(stats_of(rt).dead_letters == 4);
  CHECK(stats_of(rt).messages_sent == 1);  // only the one to `sender`
}

TEST_CASE("NOPROC: the sender in the hook, and the send's own error kept") {
  struct Seen {
    airs_runtime* rt;
    std::vector<airs_pid> senders;
  } seen{nullptr, {}};
  Actor dead, sender;
  Runtime rt(kHost);
  seen.rt = rt;
  airs_pid gone = spawn(rt, dead);
  REQUIRE(airs_stop(rt, gone) == AIRS_OK);
  poll_all(rt);

  // A hook that makes a failing call of its own.
  auto hook = [](void* user_data, airs_pid, const airs_msg* msg,
                 airs_dead_letter_reason) {
    auto* s = static_cast<Seen*>(user_data);
    s->senders.push_back(airs_msg_sender(msg));
    airs_pid p = 0;
    CHECK(airs_whereis(s->rt, "no-such-name", &p) == AIRS_ENOTFOUND);
  };
  REQUIRE(airs_set_dead_letter_hook(rt, hook, &seen) == AIRS_OK);
  CHECK(airs_send(rt, gone, kData, nullptr, 0) == AIRS_ENOPROC);
  std::string why = airs_last_error_message();
  CHECK(why.find("not alive") != std::string::npos);
  CHECK(why.find("no-such-name") == std::string::npos);

  airs_pid me = spawn(rt, sender);
  sender.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg*) {
    CHECK(airs_ctx_send(ctx, gone, kData, nullptr, 0) == AIRS_ENOPROC);
    CHECK(std::string(airs_last_error_message()).find("not alive") !=
          std::string::npos);
    return AIRS_OK;
  };
  REQUIRE(airs_send(rt, me, kData, nullptr, 0) == AIRS_OK);
  poll_all(rt);
  CHECK(seen.senders == std::vector<airs_pid>{AIRS_NO_PID, me});

  // No hook: still counted.
  REQUIRE(airs_set_dead_letter_hook(rt, nullptr, nullptr) == AIRS_OK);
  CHECK(airs_send(rt, gone, kData, nullptr, 0) == AIRS_ENOPROC);
  CHECK(stats_of(rt).dead_letters == 3);
  // Bad input is not a dead letter: nothing was sent.
  CHECK(airs_send_msg(rt, gone, nullptr) == AIRS_EINVAL);
  CHECK(stats_of(rt).dead_letters == 3);
}

TEST_CASE("counters add up over several workers and sending threads") {
  // Threaded: a token passes round a ring of actors on the workers while
  // host threads send to a sink. Once everything has been handled, the
  // counters are exact.
  constexpr int kNodes = 8;
  constexpr uint64_t kHops = 20000;
  constexpr int kThreads = 3;
  constexpr int kPerThread = 2000;
  std::vector<airs_pid> ring(kNodes);
  std::atomic<uint64_t> hops{0};
  std::vector<Actor> nodes(kNodes);
  Actor sink;
  Runtime rt({{AIRS_CFG_WORKERS, 2}});
  for (int i = 0; i < kNodes; i++) {
    nodes[i].on_receive = [&, i](Actor&, airs_ctx* ctx, const airs_msg* m) {
      uint64_t n = value_of<uint64_t>(m);
      hops++;
      if (n == kHops) return AIRS_OK;
      n++;
      return airs_ctx_send(ctx, ring[(i + 1) % kNodes], kData, &n, sizeof n);
    };
  }
  for (int i = 0; i < kNodes; i++) ring[i] = spawn(rt, nodes[i]);
  airs_pid sink_pid = spawn(rt, sink);
  uint64_t zero = 0;
  REQUIRE(airs_send(rt, ring[0], kData, &zero, sizeof zero) == AIRS_OK);
  std::vector<std::thread> senders;
  for (int t = 0; t < kThreads; t++)
    senders.emplace_back([&] {
      for (int i = 0; i < kPerThread; i++)
        while (airs_send(rt, sink_pid, kData, nullptr, 0) != AIRS_OK)
          std::this_thread::yield();
    });
  for (auto& t : senders) t.join();
  const uint64_t total = kHops + 1 + uint64_t{kThreads} * kPerThread;
  REQUIRE(wait_until([&] {
    return hops == kHops + 1 && sink.received == kThreads * kPerThread;
  }));
  // While it runs the numbers are a snapshot; once idle, exact.
  airs_runtime_stats s = stats_of(rt);
  CHECK(s.messages_sent == total);
  CHECK(s.messages_delivered == total);
  CHECK(s.processes_spawned == kNodes + 1);
  CHECK(s.processes_alive == kNodes + 1);
  for (airs_pid p : ring) REQUIRE(airs_stop(rt, p) == AIRS_OK);
  for (airs_pid p : ring) REQUIRE(airs_wait(rt, p, 3000) == AIRS_OK);
  s = stats_of(rt);
  CHECK(s.processes_exited == kNodes);
  CHECK(s.processes_alive == 1);
  CHECK(s.dead_letters == 0);
}
