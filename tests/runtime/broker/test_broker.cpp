// test_broker.cpp - topics through the C API: subscribe, unsubscribe and
// list; subscribers that end leave their topics; a publish hands one
// shared payload to every subscriber (zero copy, freed once) in FIFO order
// per publisher, from any thread and from inside actors; dead letters for
// topics nobody subscribes to and for full mailboxes; events; and the
// churn of subscribers dying under 8 publishing threads.
#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "../rt_helpers.hpp"

using namespace rt_test;

namespace {

constexpr uint64_t kDie = 1;
constexpr uint64_t kNews = 2;
constexpr uint64_t kGo = 3;
constexpr uint64_t kDirect = 4;

const Keys kHost = {{AIRS_CFG_WORKERS, 0}};

std::vector<airs_pid> subscribers(airs_runtime* rt, const char* topic) {
  size_t n = 0;
  REQUIRE(airs_topic_subscribers(rt, topic, nullptr, 0, &n) == AIRS_OK);
  std::vector<airs_pid> out(n + 4, 0);
  size_t m = 0;
  REQUIRE(airs_topic_subscribers(rt, topic, out.data(), out.size(), &m) ==
          AIRS_OK);
  REQUIRE(m == n);
  out.resize(m);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<airs_pid> sorted(std::vector<airs_pid> v) {
  std::sort(v.begin(), v.end());
  return v;
}

void die_on_kDie(Actor& a) {
  a.on_receive = [](Actor&, airs_ctx* ctx, const airs_msg* m) {
    if (airs_msg_type(m) == kDie)
      return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, nullptr);
    return AIRS_OK;
  };
}

// Publishes `value` (copied into a fresh payload) and releases the
// caller's reference.
airs_status publish_u64(airs_runtime* rt, const char* topic, uint64_t value,
                        size_t* delivered = nullptr) {
  airs_payload* p = nullptr;
  airs_status st = airs_payload_new(&value, sizeof value, &p);
  if (st != AIRS_OK) return st;
  st = airs_publish(rt, topic, kNews, p, delivered);
  airs_payload_release(p);
  return st;
}

// What the event hook saw.
struct Events {
  struct Event {
    int32_t kind;
    airs_pid source, pid;
    int64_t value;
    std::string text;
  };
  std::mutex mu;
  std::vector<Event> all;

  static void hook(void* user_data, const airs_event* e) {
    auto* self = static_cast<Events*>(user_data);
    if (e->kind != AIRS_EVENT_SUBSCRIBED && e->kind != AIRS_EVENT_UNSUBSCRIBED)
      return;
    std::lock_guard<std::mutex> lock(self->mu);
    self->all.push_back(
        Event{e->kind, e->source, e->pid, e->value, e->text ? e->text : ""});
  }
  std::vector<Event> get() {
    std::lock_guard<std::mutex> lock(mu);
    return all;
  }
};

airs_runtime_stats stats_of(airs_runtime* rt) {
  airs_runtime_stats s{};
  s.version = AIRS_RUNTIME_STATS_VERSION;
  s.size = sizeof s;
  REQUIRE(airs_runtime_stats_get(rt, &s) == AIRS_OK);
  return s;
}

}  // namespace

TEST_CASE("subscribe, unsubscribe and list") {
  Actor a, b, c;
  Runtime rt(kHost);
  airs_pid pa = spawn(rt, a), pb = spawn(rt, b), pc = spawn(rt, c);
  CHECK(subscribers(rt, "news").empty());  // never subscribed: 0

  CHECK(airs_subscribe(rt, "news", pa) == AIRS_OK);
  CHECK(airs_subscribe(rt, "news", pb) == AIRS_OK);
  CHECK(airs_subscribe(rt, "news", pa) == AIRS_OK);  // twice is once
  CHECK(airs_subscribe(rt, "sport", pc) == AIRS_OK);
  CHECK(subscribers(rt, "news") == sorted({pa, pb}));
  CHECK(subscribers(rt, "sport") == std::vector<airs_pid>{pc});

  // A short buffer gets what fits; the count is the whole.
  airs_pid one[1] = {0};
  size_t n = 0;
  CHECK(airs_topic_subscribers(rt, "news", one, 1, &n) == AIRS_OK);
  CHECK(n == 2);
  CHECK((one[0] == pa || one[0] == pb));

  CHECK(airs_unsubscribe(rt, "news", pa) == AIRS_OK);
  CHECK(subscribers(rt, "news") == std::vector<airs_pid>{pb});
  CHECK(airs_unsubscribe(rt, "news", pa) == AIRS_ENOTFOUND);
  CHECK(airs_unsubscribe(rt, "sport", pa) == AIRS_ENOTFOUND);
  CHECK(airs_unsubscribe(rt, "nothing", pa) == AIRS_ENOTFOUND);
  CHECK(airs_unsubscribe(rt, "news", pb) == AIRS_OK);
  CHECK(subscribers(rt, "news").empty());  // gone with its last subscriber
  // ... and made again by the next one.
  CHECK(airs_subscribe(rt, "news", pc) == AIRS_OK);
  CHECK(subscribers(rt, "news") == std::vector<airs_pid>{pc});
  CHECK(airs_is_alive(rt, pa));  // unsubscribing ends nothing

  // Not alive: refused.
  CHECK(airs_subscribe(rt, "news", 0) == AIRS_ENOPROC);
  CHECK(airs_subscribe(rt, "news",
                       test_pid_make(pa, test_pid_slot(pa),
                                     test_pid_generation(pa) + 7)) ==
        AIRS_ENOPROC);
  // Names are bytes: case matters, and the longest name works.
  CHECK(subscribers(rt, "NEWS").empty());
  std::string longest(AIRS_NAME_MAX, 'x');
  CHECK(airs_subscribe(rt, longest.c_str(), pa) == AIRS_OK);
  CHECK(subscribers(rt, longest.c_str()) == std::vector<airs_pid>{pa});
}

TEST_CASE("a subscriber that ends leaves every topic") {
  Actor a, b;
  die_on_kDie(a);
  Runtime rt(kHost);
  airs_pid pa = spawn(rt, a), pb = spawn(rt, b);
  for (const char* t : {"t1", "t2", "t3"})
    REQUIRE(airs_subscribe(rt, t, pa) == AIRS_OK);
  REQUIRE(airs_subscribe(rt, "t1", pb) == AIRS_OK);

  SUBCASE("by exiting") {
    REQUIRE(airs_send(rt, pa, kDie, nullptr, 0) == AIRS_OK);
  }
  SUBCASE("killed") {
    REQUIRE(airs_kill(rt, pa) == AIRS_OK);
  }
  SUBCASE("crashed") {
    a.on_receive = [](Actor&, airs_ctx*, const airs_msg*) {
      return AIRS_EINTERNAL;
    };
    REQUIRE(airs_send(rt, pa, kNews, nullptr, 0) == AIRS_OK);
  }
  poll_all(rt);
  REQUIRE_FALSE(airs_is_alive(rt, pa));
  CHECK(subscribers(rt, "t1") == std::vector<airs_pid>{pb});
  CHECK(subscribers(rt, "t2").empty());
  CHECK(subscribers(rt, "t3").empty());
  CHECK(airs_unsubscribe(rt, "t2", pa) == AIRS_ENOTFOUND);
  CHECK(airs_subscribe(rt, "t2", pa) == AIRS_ENOPROC);

  // The next process in the slot starts with no subscription.
  Actor c;
  airs_pid pc = spawn(rt, c);
  CHECK(subscribers(rt, "t2").empty());
  REQUIRE(airs_subscribe(rt, "t2", pc) == AIRS_OK);
  CHECK(subscribers(rt, "t2") == std::vector<airs_pid>{pc});
}

TEST_CASE("a process whose init subscribes and then fails is not left in") {
  Actor a;
  a.on_init = [](Actor&, airs_ctx* ctx) {
    airs_runtime* rt = airs_ctx_runtime(ctx);
    if (airs_subscribe(rt, "t", airs_self(ctx)) != AIRS_OK) return AIRS_OK;
    return AIRS_EFULL;  // fails the spawn
  };
  Runtime rt(kHost);
  airs_pid pid = 0;
  CHECK(try_spawn(rt, a, &pid) == AIRS_EFULL);
  CHECK(subscribers(rt, "t").empty());
}

TEST_CASE("a publish shares one payload: zero copy, freed once") {
  Actor subs[3], pub;  // before the runtime: they outlive its processes
  Runtime rt(kHost);
  std::vector<airs_pid> pids;
  std::vector<const airs_payload*> seen[3];
  std::vector<const void*> data[3];
  for (int i = 0; i < 3; i++) {
    subs[i].on_receive = [&seen, &data, i](Actor&, airs_ctx*,
                                           const airs_msg* m) {
      seen[i].push_back(airs_msg_payload(m));
      data[i].push_back(airs_msg_data(m));
      return AIRS_OK;
    };
    pids.push_back(spawn(rt, subs[i]));
    REQUIRE(airs_subscribe(rt, "news", pids.back()) == AIRS_OK);
  }
  g_owned_frees = 0;
  void* buffer = ::operator new(16);
  std::memcpy(buffer, "hello, world!!!", 16);
  airs_payload* p = nullptr;
  REQUIRE(airs_payload_wrap(buffer, 16, counting_free, &p) == AIRS_OK);

  SUBCASE("from outside any actor") {
    size_t delivered = 99;
    REQUIRE(airs_publish(rt, "news", kNews, p, &delivered) == AIRS_OK);
    CHECK(delivered == 3);
  }
  SUBCASE("from inside an actor") {
    size_t delivered = 99;
    pub.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg*) {
      return airs_publish(airs_ctx_runtime(ctx), "news", kNews, p, &delivered);
    };
    airs_pid pp = spawn(rt, pub);
    REQUIRE(airs_send(rt, pp, kGo, nullptr, 0) == AIRS_OK);
    REQUIRE(airs_runtime_poll(rt, 1, nullptr) == AIRS_OK);  // the publisher
    CHECK(delivered == 3);
  }
  // The caller keeps its reference until it lets go: nothing is freed yet.
  airs_payload_release(p);
  CHECK(g_owned_frees == 0);
  poll_all(rt);
  CHECK(g_owned_frees == 1);  // after the last delivery, once
  for (int i = 0; i < 3; i++) {
    REQUIRE(seen[i].size() == 1);
    CHECK(seen[i][0] == p);
    CHECK(data[i][0] == buffer);  // the very bytes: no copy
    auto got = subs[i].messages();
    REQUIRE(got.size() == 1);
    CHECK(got[0].type == kNews);
    CHECK(got[0].data == std::string("hello, world!!!", 16));
  }
}

TEST_CASE("the sender of a published message is the publishing process") {
  Actor sub, pub;
  Runtime rt(kHost);
  airs_pid ps = spawn(rt, sub);
  REQUIRE(airs_subscribe(rt, "t", ps) == AIRS_OK);
  pub.on_receive = [](Actor&, airs_ctx* ctx, const airs_msg*) {
    return publish_u64(airs_ctx_runtime(ctx), "t", 7);
  };
  airs_pid pp = spawn(rt, pub);
  REQUIRE(publish_u64(rt, "t", 6) == AIRS_OK);
  REQUIRE(airs_send(rt, pp, kGo, nullptr, 0) == AIRS_OK);
  poll_all(rt);
  auto got = sub.messages();
  REQUIRE(got.size() == 2);
  CHECK(got[0].sender == 0);  // from the host thread
  CHECK(got[1].sender == pp);
}

TEST_CASE("order is FIFO per publisher and subscriber") {
  constexpr uint64_t kN = 1000;  // many blocks of envelopes per subscriber
  Actor subs[3], pub;
  Runtime rt(kHost);
  std::vector<airs_pid> pids;
  // The last subscriber has a bounded mailbox (room for everything): it
  // is offered each message at once instead of staged.
  for (int i = 0; i < 3; i++) {
    airs_spawn_opts o =
        opts_of(rt, 0, i == 2 ? 10 * kN : 0, AIRS_MAILBOX_FAIL, 1000);
    pids.push_back(spawn(rt, subs[i], &o));
    REQUIRE(airs_subscribe(rt, "t", pids.back()) == AIRS_OK);
  }
  // One turn: kN publishes to "t", a direct send to subscriber 0 in the
  // middle, and every tenth also to "u" (the stage is laid out anew).
  pub.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg*) {
    airs_runtime* r = airs_ctx_runtime(ctx);
    for (uint64_t i = 0; i < kN; i++) {
      if (publish_u64(r, "t", i) != AIRS_OK) return AIRS_EINTERNAL;
      if (i % 10 == 0 && publish_u64(r, "u", i) != AIRS_OK)
        return AIRS_EINTERNAL;
      if (i == kN / 2 + 5) {  // publishes to "t" are staged then
        uint64_t v = ~uint64_t{0};
        if (airs_ctx_send(ctx, pids[0], kDirect, &v, sizeof v) != AIRS_OK)
          return AIRS_EINTERNAL;
      }
    }
    return AIRS_OK;
  };
  airs_pid pp = spawn(rt, pub);
  REQUIRE(airs_subscribe(rt, "u", pids[1]) == AIRS_OK);
  // The host publishes too, before and after the actor's turn.
  REQUIRE(publish_u64(rt, "t", 0) == AIRS_OK);
  REQUIRE(airs_send(rt, pp, kGo, nullptr, 0) == AIRS_OK);
  poll_all(rt);
  REQUIRE(publish_u64(rt, "t", 1) == AIRS_OK);
  poll_all(rt);

  for (int s = 0; s < 3; s++) {
    CAPTURE(s);
    std::map<airs_pid, std::vector<uint64_t>> by_sender;
    bool direct_in_place = s != 0;
    for (const Received& r : subs[s].messages()) {
      uint64_t v = 0;
      REQUIRE(r.data.size() == sizeof v);
      std::memcpy(&v, r.data.data(), sizeof v);
      if (r.type == kDirect) {
        // After exactly the publishes made before it.
        CHECK(by_sender[pp].size() == kN / 2 + 6);
        direct_in_place = true;
        continue;
      }
      by_sender[r.sender].push_back(v);
    }
    CHECK(direct_in_place);
    CHECK(by_sender[0] == std::vector<uint64_t>{0, 1});
    std::vector<uint64_t> want;
    for (uint64_t i = 0; i < kN; i++) {
      want.push_back(i);
      if (s == 1 && i % 10 == 0) want.push_back(i);  // also from "u"
    }
    CHECK(by_sender[pp] == want);
  }
}

TEST_CASE("a topic nobody subscribes to: dead letter NO_SUBSCRIBERS") {
  DeadLetters dead;
  Actor pub;
  Runtime rt(kHost);
  dead.install(rt);
  airs_runtime_stats before = stats_of(rt);
  size_t delivered = 99;
  REQUIRE(publish_u64(rt, "nobody", 42, &delivered) == AIRS_OK);
  CHECK(delivered == 0);
  // From inside an actor too.
  pub.on_receive = [](Actor&, airs_ctx* ctx, const airs_msg*) {
    return publish_u64(airs_ctx_runtime(ctx), "nobody", 43);
  };
  airs_pid pp = spawn(rt, pub);
  REQUIRE(airs_send(rt, pp, kGo, nullptr, 0) == AIRS_OK);
  poll_all(rt);
  auto letters = dead.get();
  REQUIRE(letters.size() == 2);
  for (const auto& l : letters) {
    CHECK(l.reason == AIRS_DEAD_LETTER_NO_SUBSCRIBERS);
    CHECK(l.to == 0);
    CHECK(l.type == kNews);
  }
  uint64_t v = 0;
  std::memcpy(&v, letters[0].data.data(), sizeof v);
  CHECK(v == 42);
  CHECK(stats_of(rt).dead_letters - before.dead_letters == 2);
}

TEST_CASE("a full mailbox drops that delivery: MAILBOX_FULL, never blocks") {
  DeadLetters dead;
  Actor roomy, fail, drop, block, pub;
  Runtime rt(kHost);
  dead.install(rt);
  airs_spawn_opts of = opts_of(rt, 0, 2, AIRS_MAILBOX_FAIL, 1000);
  airs_spawn_opts od = opts_of(rt, 0, 2, AIRS_MAILBOX_DROP_NEWEST, 1000);
  airs_spawn_opts ob = opts_of(rt, 0, 2, AIRS_MAILBOX_BLOCK, 60000);
  airs_pid pr = spawn(rt, roomy), pf = spawn(rt, fail, &of),
           pd = spawn(rt, drop, &od), pb = spawn(rt, block, &ob);
  for (airs_pid p : {pr, pf, pd, pb})
    REQUIRE(airs_subscribe(rt, "t", p) == AIRS_OK);
  airs_runtime_stats before = stats_of(rt);

  std::vector<size_t> reached;
  auto t0 = std::chrono::steady_clock::now();
  SUBCASE("from outside any actor") {
    for (uint64_t i = 0; i < 5; i++) {
      size_t n = 0;
      REQUIRE(publish_u64(rt, "t", i, &n) == AIRS_OK);
      reached.push_back(n);
    }
  }
  SUBCASE("from inside an actor") {
    pub.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg*) {
      for (uint64_t i = 0; i < 5; i++) {
        size_t n = 0;
        airs_status st = publish_u64(airs_ctx_runtime(ctx), "t", i, &n);
        if (st != AIRS_OK) return st;
        reached.push_back(n);
      }
      return AIRS_OK;
    };
    airs_pid pp = spawn(rt, pub);
    REQUIRE(airs_send(rt, pp, kGo, nullptr, 0) == AIRS_OK);
    REQUIRE(airs_runtime_poll(rt, 1, nullptr) == AIRS_OK);
  }
  // A BLOCK mailbox would have held this for a minute.
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
  CHECK(reached == std::vector<size_t>{4, 4, 1, 1, 1});

  auto letters = dead.get();
  CHECK(letters.size() == 9);
  std::map<airs_pid, int> per_pid;
  for (const auto& l : letters) {
    CHECK(l.reason == AIRS_DEAD_LETTER_MAILBOX_FULL);
    per_pid[l.to]++;
  }
  CHECK(per_pid == std::map<airs_pid, int>{{pf, 3}, {pd, 3}, {pb, 3}});
  for (airs_pid p : {pf, pd, pb})
    CHECK(stat(rt, p, AIRS_PSTAT_MSGS_DROPPED) == 3);
  airs_runtime_stats after = stats_of(rt);
  CHECK(after.messages_dropped - before.messages_dropped == 9);
  CHECK(after.dead_letters - before.dead_letters == 9);

  poll_all(rt);
  CHECK(roomy.received == 5);
  for (Actor* a : {&fail, &drop, &block}) {
    auto got = a->messages();
    REQUIRE(got.size() == 2);  // the first two, in order
    CHECK(got[0].data == std::string("\0\0\0\0\0\0\0\0", 8));
    CHECK(got[1].data[0] == 1);
  }
}

TEST_CASE("a subscriber that ends with messages on the way: dead letters") {
  DeadLetters dead;
  Actor sub, other, pub;
  Runtime rt(kHost);
  dead.install(rt);
  airs_pid ps = spawn(rt, sub), po = spawn(rt, other);
  REQUIRE(airs_subscribe(rt, "t", ps) == AIRS_OK);
  REQUIRE(airs_subscribe(rt, "t", po) == AIRS_OK);
  g_owned_frees = 0;
  // 200 publishes in one turn (blocks of envelopes), then a kill of one
  // subscriber from the same turn: what it had not handled is dead mail.
  pub.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg*) {
    airs_runtime* r = airs_ctx_runtime(ctx);
    for (int i = 0; i < 200; i++) {
      airs_payload* p = nullptr;
      void* buf = ::operator new(8);
      if (airs_payload_wrap(buf, 8, counting_free, &p) != AIRS_OK)
        return AIRS_ENOMEM;
      airs_status st = airs_publish(r, "t", kNews, p, nullptr);
      airs_payload_release(p);
      if (st != AIRS_OK) return st;
    }
    return airs_kill(r, ps);
  };
  airs_pid pp = spawn(rt, pub);
  REQUIRE(airs_send(rt, pp, kGo, nullptr, 0) == AIRS_OK);
  poll_all(rt);
  CHECK_FALSE(airs_is_alive(rt, ps));
  CHECK(other.received == 200);
  CHECK(sub.received + static_cast<int>(dead.size()) == 200);
  for (const auto& l : dead.get()) CHECK(l.reason == AIRS_DEAD_LETTER_EXITED);
  CHECK(g_owned_frees == 200);  // every payload, once
  CHECK(subscribers(rt, "t") == std::vector<airs_pid>{po});
}

TEST_CASE("events: subscribed and unsubscribed") {
  Actor a, b;
  die_on_kDie(a);
  Events ev;
  SUBCASE("with events on") {
    Runtime rt(kHost);
    REQUIRE(airs_set_event_hook(rt, &Events::hook, &ev) == AIRS_OK);
    airs_pid pa = spawn(rt, a), pb = spawn(rt, b);
    REQUIRE(airs_subscribe(rt, "news", pa) == AIRS_OK);
    REQUIRE(airs_subscribe(rt, "news", pa) == AIRS_OK);  // no second event
    REQUIRE(airs_subscribe(rt, "sport", pa) == AIRS_OK);
    REQUIRE(airs_subscribe(rt, "news", pb) == AIRS_OK);
    REQUIRE(airs_unsubscribe(rt, "news", pb) == AIRS_OK);
    REQUIRE(airs_send(rt, pa, kDie, nullptr, 0) == AIRS_OK);
    poll_all(rt);
    auto e = ev.get();
    REQUIRE(e.size() == 6);
    CHECK(e[0].kind == AIRS_EVENT_SUBSCRIBED);
    CHECK(e[0].pid == pa);
    CHECK(e[0].source == 0);
    CHECK(e[0].text.find("'news'") != std::string::npos);
    CHECK(e[1].kind == AIRS_EVENT_SUBSCRIBED);
    CHECK(e[1].text.find("'sport'") != std::string::npos);
    CHECK(e[2].kind == AIRS_EVENT_SUBSCRIBED);
    CHECK(e[2].pid == pb);
    CHECK(e[3].kind == AIRS_EVENT_UNSUBSCRIBED);
    CHECK(e[3].pid == pb);
    CHECK(e[3].value == 0);
    // The two topics a left by ending, in some order.
    std::set<std::string> left;
    for (int i = 4; i < 6; i++) {
      CHECK(e[i].kind == AIRS_EVENT_UNSUBSCRIBED);
      CHECK(e[i].pid == pa);
      CHECK(e[i].value == 1);
      left.insert(e[i].text.find("'news'") != std::string::npos ? "news"
                                                                : "sport");
    }
    CHECK(left == std::set<std::string>{"news", "sport"});
  }
  SUBCASE("from inside an actor, the source is the caller") {
    Runtime rt(kHost);
    REQUIRE(airs_set_event_hook(rt, &Events::hook, &ev) == AIRS_OK);
    b.on_receive = [](Actor&, airs_ctx* ctx, const airs_msg*) {
      return airs_subscribe(airs_ctx_runtime(ctx), "t", airs_self(ctx));
    };
    airs_pid pb = spawn(rt, b);
    REQUIRE(airs_send(rt, pb, kGo, nullptr, 0) == AIRS_OK);
    poll_all(rt);
    auto e = ev.get();
    REQUIRE(e.size() == 1);
    CHECK(e[0].source == pb);
    CHECK(e[0].pid == pb);
  }
  SUBCASE("with AIRS_CFG_EVENTS 0: none") {
    Runtime rt({{AIRS_CFG_WORKERS, 0}, {AIRS_CFG_EVENTS, 0}});
    REQUIRE(airs_set_event_hook(rt, &Events::hook, &ev) == AIRS_OK);
    airs_pid pa = spawn(rt, a);
    REQUIRE(airs_subscribe(rt, "news", pa) == AIRS_OK);
    REQUIRE(airs_unsubscribe(rt, "news", pa) == AIRS_OK);
    CHECK(ev.get().empty());
  }
}

// The hooks run outside the broker's locks: they may use topics.
namespace {
struct Reentrant {
  airs_runtime* rt = nullptr;
  airs_pid pid = 0;
  std::atomic<int> calls{0};
};
void reenter_dead(void* user_data, airs_pid, const airs_msg*,
                  airs_dead_letter_reason) {
  auto* r = static_cast<Reentrant*>(user_data);
  r->calls++;
  size_t n = 0;
  airs_topic_subscribers(r->rt, "t", nullptr, 0, &n);
  airs_subscribe(r->rt, "late", r->pid);
}
void reenter_event(void* user_data, const airs_event* e) {
  auto* r = static_cast<Reentrant*>(user_data);
  if (e->kind != AIRS_EVENT_SUBSCRIBED) return;
  r->calls++;
  size_t n = 0;
  airs_topic_subscribers(r->rt, "t", nullptr, 0, &n);
  publish_u64(r->rt, "t", 1);
}
}  // namespace

TEST_CASE("hooks may subscribe and publish") {
  Actor a, tiny;
  Reentrant re;
  Runtime rt(kHost);
  re.rt = rt;
  re.pid = spawn(rt, a);
  REQUIRE(airs_set_dead_letter_hook(rt, reenter_dead, &re) == AIRS_OK);
  REQUIRE(airs_set_event_hook(rt, reenter_event, &re) == AIRS_OK);
  // No subscriber: the dead-letter hook subscribes a to "late" (its event
  // publishes to "t": no subscriber again, and so on once more).
  REQUIRE(publish_u64(rt, "t", 0) == AIRS_OK);
  CHECK(subscribers(rt, "late") == std::vector<airs_pid>{re.pid});
  CHECK(re.calls >= 3);
  // A full mailbox's dead letter, from inside the publish.
  airs_spawn_opts o = opts_of(rt, 0, 1, AIRS_MAILBOX_FAIL, 1000);
  airs_pid pt = spawn(rt, tiny, &o);
  REQUIRE(airs_subscribe(rt, "t", pt) == AIRS_OK);  // its event publishes
  REQUIRE(publish_u64(rt, "t", 2) == AIRS_OK);      // full: hook runs
  poll_all(rt);
  CHECK(tiny.received == 1);
}

// --- churn --------------------------------------------------------------

namespace {

// A payload: who published it and its number in that publisher's stream.
struct Item {
  uint32_t publisher;
  uint32_t seq;
};

// A subscriber that checks, per publisher, that numbers only go up (by
// exactly one if `gapless`: it was subscribed before anything was sent).
struct Checker {
  bool gapless = false;
  uint64_t die_after = 0;  // > 0: crashes on that message (mid-publish)
  std::atomic<uint64_t> count{0};
  std::atomic<int> errors{0};
  std::map<uint32_t, int64_t> last;  // touched only by the process
};

airs_status checker_receive(void* state, airs_ctx*, const airs_msg* m) {
  auto* c = static_cast<Checker*>(state);
  if (airs_msg_type(m) == kDie) return AIRS_EINTERNAL;  // dies "crashed"
  if (airs_msg_size(m) != sizeof(Item)) {
    c->errors++;
    return AIRS_OK;
  }
  Item it;
  std::memcpy(&it, airs_msg_data(m), sizeof it);
  auto found = c->last.find(it.publisher);
  int64_t prev = found == c->last.end() ? -1 : found->second;
  if (static_cast<int64_t>(it.seq) <= prev ||
      (c->gapless && static_cast<int64_t>(it.seq) != prev + 1))
    c->errors++;
  c->last[it.publisher] = it.seq;
  if (++c->count == c->die_after) return AIRS_EINTERNAL;
  return AIRS_OK;
}

const airs_behaviour kChecker = {AIRS_BEHAVIOUR_VERSION,
                                 sizeof(airs_behaviour),
                                 nullptr,
                                 checker_receive,
                                 nullptr,
                                 nullptr,
                                 nullptr};

std::atomic<int64_t> g_item_frees{0};
void free_item(void* p) {
  g_item_frees++;
  ::operator delete(p);
}

airs_status publish_item(airs_runtime* rt, uint32_t publisher, uint32_t seq) {
  void* buf = ::operator new(sizeof(Item));
  Item it{publisher, seq};
  std::memcpy(buf, &it, sizeof it);
  airs_payload* p = nullptr;
  airs_status st = airs_payload_wrap(buf, sizeof it, free_item, &p);
  if (st != AIRS_OK) {
    ::operator delete(buf);
    return st;
  }
  st = airs_publish(rt, "churn", kNews, p, nullptr);
  airs_payload_release(p);
  return st;
}

// An actor that publishes its own stream, kBurst at a time per message.
// `next` is atomic: the test thread reads it to see the actor finish.
struct ActorPublisher {
  uint32_t id = 0;
  uint32_t total = 0;
  std::atomic<uint32_t> next{0};
};

std::unique_ptr<ActorPublisher> new_publisher(uint32_t id, uint32_t total) {
  auto ap = std::make_unique<ActorPublisher>();
  ap->id = id;
  ap->total = total;
  return ap;
}
constexpr uint32_t kBurst = 100;

airs_status actor_publish(void* state, airs_ctx* ctx, const airs_msg*) {
  auto* ap = static_cast<ActorPublisher*>(state);
  for (uint32_t i = 0; i < kBurst && ap->next < ap->total; i++) {
    airs_status st = publish_item(airs_ctx_runtime(ctx), ap->id, ap->next++);
    if (st != AIRS_OK) return st;
  }
  if (ap->next < ap->total)
    return airs_ctx_send(ctx, airs_self(ctx), kGo, nullptr, 0);
  return AIRS_OK;
}

const airs_behaviour kActorPublisher = {AIRS_BEHAVIOUR_VERSION,
                                        sizeof(airs_behaviour),
                                        nullptr,
                                        actor_publish,
                                        nullptr,
                                        nullptr,
                                        nullptr};

}  // namespace

TEST_CASE("churn: subscribers die mid-publish under 8 publishing threads") {
  constexpr int kThreads = 8;
  constexpr uint32_t kPerThread = 5000;
  constexpr int kActorPublishers = 2;
  constexpr uint32_t kPerActor = 1500;
  constexpr int kStable = 4;
  constexpr uint64_t kTotal =
      kThreads * uint64_t{kPerThread} + kActorPublishers * uint64_t{kPerActor};
  g_item_frees = 0;
  std::vector<std::unique_ptr<Checker>> checkers;  // outlive the runtime
  {
    Runtime rt({{AIRS_CFG_WORKERS, 2}});
    auto spawn_checker = [&](bool gapless, uint64_t die_after = 0) {
      checkers.push_back(std::make_unique<Checker>());
      checkers.back()->gapless = gapless;
      checkers.back()->die_after = die_after;
      airs_pid pid = 0;
      REQUIRE(airs_spawn(rt, &kChecker, checkers.back().get(), nullptr, nullptr,
                         &pid) == AIRS_OK);
      return pid;
    };
    std::vector<airs_pid> stable;
    for (int i = 0; i < kStable; i++) {
      stable.push_back(spawn_checker(true));
      REQUIRE(airs_subscribe(rt, "churn", stable.back()) == AIRS_OK);
    }

    std::atomic<bool> publishing{true};
    std::atomic<int> churned{0};
    std::vector<airs_pid> ending;  // the churning thread's
    std::thread churn([&] {
      // Subscribers come and go while the publishers run: they crash
      // after some messages, are killed, or unsubscribe and stay. At most
      // kWindow of them are subscribed at once (the oldest is killed and
      // waited for), so the work stays bounded however slow the machine.
      constexpr size_t kWindow = 8;
      size_t oldest = 0;
      for (int i = 0; publishing.load(); i++) {
        airs_pid pid = spawn_checker(false, i % 3 == 0 ? 1 + i % 200 : 0);
        CHECK(airs_subscribe(rt, "churn", pid) == AIRS_OK);
        std::this_thread::sleep_for(std::chrono::microseconds(50));
        if (i % 3 == 1) {
          airs_kill(rt, pid);  // may have crashed already: no check
        } else if (i % 3 == 2) {
          CHECK(airs_unsubscribe(rt, "churn", pid) == AIRS_OK);
          churned++;
          continue;  // stays alive, out of the topic
        }
        ending.push_back(pid);
        if (ending.size() - oldest > kWindow) {
          airs_kill(rt, ending[oldest]);
          CHECK(airs_wait(rt, ending[oldest++], 20000) == AIRS_OK);
        }
        churned++;
      }
      for (; oldest < ending.size(); oldest++) airs_kill(rt, ending[oldest]);
    });
    std::vector<std::thread> pubs;
    std::atomic<int> publish_errors{0};
    for (int t = 0; t < kThreads; t++)
      pubs.emplace_back([&, t] {
        for (uint32_t s = 0; s < kPerThread; s++)
          if (publish_item(rt, static_cast<uint32_t>(t), s) != AIRS_OK)
            publish_errors++;
      });
    std::vector<std::unique_ptr<ActorPublisher>> aps;
    for (int a = 0; a < kActorPublishers; a++) {
      aps.push_back(new_publisher(static_cast<uint32_t>(100 + a), kPerActor));
      airs_pid pid = 0;
      REQUIRE(airs_spawn(rt, &kActorPublisher, aps.back().get(), nullptr,
                         nullptr, &pid) == AIRS_OK);
      REQUIRE(airs_send(rt, pid, kGo, nullptr, 0) == AIRS_OK);
    }
    for (auto& t : pubs) t.join();
    CHECK(wait_until(
        [&] {
          for (auto& ap : aps)
            if (ap->next < ap->total) return false;
          return true;
        },
        20000));
    publishing = false;
    churn.join();
    CHECK(publish_errors == 0);
    CHECK(churned > 0);

    // Every live subscriber gets everything, in order per publisher.
    CHECK(wait_until(
        [&] {
          for (int i = 0; i < kStable; i++)
            if (checkers[i]->count.load() < kTotal) return false;
          return true;
        },
        20000));
    for (int i = 0; i < kStable; i++) {
      CAPTURE(i);
      CHECK(checkers[i]->count.load() == kTotal);
      CHECK(checkers[i]->errors.load() == 0);
    }
    // The churners saw their part in order too; the dead ones are gone.
    int errors = 0;
    for (auto& c : checkers) errors += c->errors.load();
    CHECK(errors == 0);
    // airs_wait: until each one has ended (its end() done).
    for (airs_pid pid : ending) CHECK(airs_wait(rt, pid, 20000) == AIRS_OK);
    // Left: the stable ones (the rest ended or unsubscribed).
    CHECK(subscribers(rt, "churn") == sorted(stable));
  }
  // Every payload was freed exactly once: nothing kept, nothing twice.
  CHECK(g_item_frees == static_cast<int64_t>(kTotal));
}

TEST_CASE("publishers inside actors on several workers, subscribers too") {
  // Many actor publishers at once: stages on both workers, blocks filled
  // and closed concurrently, subscribers handled on either worker.
  constexpr int kPublishers = 6;
  constexpr uint32_t kEach = 2000;
  g_item_frees = 0;
  std::vector<std::unique_ptr<Checker>> checkers;
  {
    Runtime rt({{AIRS_CFG_WORKERS, 2}});
    for (int i = 0; i < 5; i++) {
      checkers.push_back(std::make_unique<Checker>());
      checkers.back()->gapless = true;
      airs_pid pid = 0;
      REQUIRE(airs_spawn(rt, &kChecker, checkers.back().get(), nullptr, nullptr,
                         &pid) == AIRS_OK);
      REQUIRE(airs_subscribe(rt, "churn", pid) == AIRS_OK);
    }
    std::vector<std::unique_ptr<ActorPublisher>> aps;
    for (int a = 0; a < kPublishers; a++) {
      aps.push_back(new_publisher(static_cast<uint32_t>(a), kEach));
      airs_pid pid = 0;
      REQUIRE(airs_spawn(rt, &kActorPublisher, aps.back().get(), nullptr,
                         nullptr, &pid) == AIRS_OK);
      REQUIRE(airs_send(rt, pid, kGo, nullptr, 0) == AIRS_OK);
    }
    CHECK(wait_until(
        [&] {
          for (auto& c : checkers)
            if (c->count.load() < kPublishers * uint64_t{kEach}) return false;
          return true;
        },
        20000));
    for (auto& c : checkers) {
      CHECK(c->count.load() == kPublishers * uint64_t{kEach});
      CHECK(c->errors.load() == 0);
    }
  }
  CHECK(g_item_frees == kPublishers * int64_t{kEach});
}

// --- a hook inside a flush ------------------------------------------------

namespace {

using ms = std::chrono::milliseconds;

struct FlushHook {
  airs_runtime* rt = nullptr;
  std::atomic<int> calls{0};
  std::atomic<int> publishes_ok{0};
};

// Publishes to "wide", whose list is longer than the one being flushed:
// the outbox's fan-out lanes are laid out again for it.
void publish_from_hook(void* user_data, airs_pid, const airs_msg*,
                       airs_dead_letter_reason) {
  auto* h = static_cast<FlushHook*>(user_data);
  h->calls++;
  if (publish_u64(h->rt, "wide", 9) == AIRS_OK) h->publishes_ok++;
}

}  // namespace

// Issue 20 item 2 (found by fuzzing): a dead-letter hook that publishes,
// run from inside the flush of a publisher's staged mail (a subscriber
// ended after the publish staged its mail), resized the fan-out lanes the
// flush was iterating (a use after reallocation).
TEST_CASE("a dead-letter hook that publishes from inside a flush" *
          doctest::timeout(60)) {
  // Declared before the runtime: its free still calls into them.
  FlushHook hook;
  Actor doomed, live, sink, pub;
  std::vector<std::unique_ptr<Actor>> wide;
  std::atomic<bool> staged{false}, doomed_gone{false};
  Runtime rt({{AIRS_CFG_WORKERS, 2}});
  hook.rt = rt;
  REQUIRE(airs_set_dead_letter_hook(rt, publish_from_hook, &hook) == AIRS_OK);
  airs_pid pd = spawn(rt, doomed);
  airs_pid pl = spawn(rt, live);
  airs_pid ps = spawn(rt, sink);
  REQUIRE(airs_subscribe(rt, "narrow", pd) == AIRS_OK);  // lane 0
  REQUIRE(airs_subscribe(rt, "narrow", pl) == AIRS_OK);  // lane 1
  for (int i = 0; i < 64; i++) {
    wide.push_back(std::make_unique<Actor>());
    REQUIRE(airs_subscribe(rt, "wide", spawn(rt, *wide.back())) == AIRS_OK);
  }
  pub.on_receive = [&](Actor&, airs_ctx* ctx, const airs_msg*) {
    airs_runtime* r = airs_ctx_runtime(ctx);
    // Staged in the outbox (more than one each: past the first message).
    for (int i = 0; i < 4; i++)
      if (publish_u64(r, "narrow", i) != AIRS_OK) return AIRS_EINTERNAL;
    staged = true;
    while (!doomed_gone) std::this_thread::sleep_for(ms(1));
    // A send makes way: the staged mail is pushed, and doomed's slot
    // answers with dead letters from inside that flush.
    return airs_ctx_send(ctx, ps, kDirect, nullptr, 0);
  };
  airs_pid pp = spawn(rt, pub);
  REQUIRE(airs_send(rt, pp, kGo, nullptr, 0) == AIRS_OK);
  while (!staged) std::this_thread::yield();
  REQUIRE(airs_kill(rt, pd) == AIRS_OK);
  REQUIRE(airs_wait(rt, pd, 5000) == AIRS_OK);
  doomed_gone = true;
  for (int i = 0; i < 5000 && sink.received == 0; i++)
    std::this_thread::sleep_for(ms(1));
  for (int i = 0; i < 5000 && live.received < 4; i++)
    std::this_thread::sleep_for(ms(1));
  CHECK(sink.received == 1);
  CHECK(live.received == 4);
  CHECK(hook.calls >= 1);
  CHECK(hook.publishes_ok == hook.calls.load());
  for (int i = 0; i < 5000 && wide[63]->received < hook.calls; i++)
    std::this_thread::sleep_for(ms(1));
  CHECK(wide[63]->received == hook.calls.load());
  CHECK(pub.terms == 0);
  CHECK(airs_is_alive(rt, pp));
}
