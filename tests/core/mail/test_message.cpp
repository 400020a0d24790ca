// Unit tests of message.hpp: envelopes, exit reasons and shared payloads.
#include <doctest/doctest.h>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "mail/message.hpp"

using namespace airs;

namespace {

int g_free_calls = 0;
void* g_freed_ptr = nullptr;

void counting_free(void* p) {
  g_free_calls++;
  g_freed_ptr = p;
  std::free(p);
}

// Frees nothing: for buffers that live on the stack.
void counting_nofree(void* p) {
  g_free_calls++;
  g_freed_ptr = p;
}

void reset_counts() {
  g_free_calls = 0;
  g_freed_ptr = nullptr;
}

}  // namespace

TEST_CASE("the envelope is one cache line and starts with its queue node") {
  CHECK(sizeof(Msg) == 64);
  Msg* m = msg_new_copy(1, nullptr, 0);
  REQUIRE(m != nullptr);
  CHECK(static_cast<void*>(static_cast<Node*>(m)) == static_cast<void*>(m));
  msg_free(m);
}

TEST_CASE("msg_new_copy copies the bytes inline, after the envelope") {
  char buf[100];
  for (int i = 0; i < 100; i++) buf[i] = static_cast<char>(i * 7);
  Msg* m = msg_new_copy(42, buf, sizeof buf);
  REQUIRE(m != nullptr);
  CHECK(m->type == 42);
  CHECK(m->size == 100);
  CHECK(m->kind == PayloadKind::kInline);
  CHECK(m->signal == Signal::kNone);
  CHECK_FALSE(static_cast<bool>(m->has_reason));
  CHECK(m->priority == AIRS_PRIORITY_NORMAL);
  CHECK(m->sender == 0);
  CHECK(m->correlation == 0);
  CHECK(m->to == 0);
  CHECK(m->next.load() == nullptr);
  CHECK(m->data == static_cast<const void*>(m + 1));
  CHECK(m->data != static_cast<const void*>(buf));
  // The copy is independent of the source.
  buf[0] = 99;
  CHECK(static_cast<const char*>(m->data)[0] == 0);
  CHECK(static_cast<const char*>(m->data)[99] == static_cast<char>(99 * 7));
  msg_free(m);
}

TEST_CASE("msg_new_copy of zero bytes has no data") {
  Msg* m = msg_new_copy(7, nullptr, 0);
  REQUIRE(m != nullptr);
  CHECK(m->type == 7);
  CHECK(m->size == 0);
  CHECK(m->data == nullptr);
  msg_free(m);
}

TEST_CASE("msg_new_owned keeps the pointer and msg_free frees it once") {
  reset_counts();
  void* buf = std::malloc(32);
  REQUIRE(buf != nullptr);
  Msg* m = msg_new_owned(5, buf, 32, counting_free);
  REQUIRE(m != nullptr);
  CHECK(m->type == 5);
  CHECK(m->kind == PayloadKind::kOwned);
  CHECK(m->data == buf);  // zero copy
  CHECK(m->size == 32);
  CHECK_UNARY(m->free_fn == &counting_free);
  CHECK(g_free_calls == 0);
  msg_free(m);
  CHECK(g_free_calls == 1);
  CHECK(g_freed_ptr == buf);
}

TEST_CASE("msg_new_owned with no free function frees nothing") {
  reset_counts();
  char buf[8] = "abc";
  Msg* m = msg_new_owned(5, buf, sizeof buf, nullptr);
  REQUIRE(m != nullptr);
  CHECK(m->data == buf);
  msg_free(m);
  CHECK(g_free_calls == 0);
  CHECK(std::strcmp(buf, "abc") == 0);
}

TEST_CASE("msg_free(nullptr) is a no-op") {
  msg_free(nullptr);
  CHECK(true);
}

TEST_CASE("payload_new_copy copies and is freed on the last release") {
  const char text[] = "shared bytes";
  Payload* p = payload_new_copy(text, sizeof text);
  REQUIRE(p != nullptr);
  CHECK(p->refs.load() == 1);
  CHECK(p->size == sizeof text);
  CHECK(p->data != static_cast<const void*>(text));
  CHECK(std::memcmp(p->data, text, sizeof text) == 0);
  CHECK_UNARY(p->free_fn == nullptr);
  payload_retain(p);
  CHECK(p->refs.load() == 2);
  payload_release(p);
  CHECK(p->refs.load() == 1);
  payload_release(p);  // freed: a leak checker would report otherwise
}

TEST_CASE("payload_new_copy of zero bytes") {
  Payload* p = payload_new_copy(nullptr, 0);
  REQUIRE(p != nullptr);
  CHECK(p->size == 0);
  CHECK(p->refs.load() == 1);
  payload_release(p);
}

TEST_CASE("payload_new_wrap runs free_fn exactly once, on the last ref") {
  reset_counts();
  void* buf = std::malloc(64);
  REQUIRE(buf != nullptr);
  Payload* p = payload_new_wrap(buf, 64, counting_free);
  REQUIRE(p != nullptr);
  CHECK(p->data == buf);
  CHECK(p->size == 64);
  CHECK(p->refs.load() == 1);
  payload_retain(p);
  payload_retain(p);
  CHECK(p->refs.load() == 3);
  payload_release(p);
  payload_release(p);
  CHECK(g_free_calls == 0);
  payload_release(p);
  CHECK(g_free_calls == 1);
  CHECK(g_freed_ptr == buf);
}

TEST_CASE("msg_new_shared takes a reference; msg_free gives it back") {
  reset_counts();
  char buf[16] = "fan-out";
  Payload* p = payload_new_wrap(buf, sizeof buf, counting_nofree);
  REQUIRE(p != nullptr);

  Msg* a = msg_new_shared(10, p);
  Msg* b = msg_new_shared(11, p);
  REQUIRE(a != nullptr);
  REQUIRE(b != nullptr);
  CHECK(p->refs.load() == 3);
  CHECK(a->kind == PayloadKind::kShared);
  CHECK(a->shared == p);
  CHECK(a->data == buf);  // one payload, no copy
  CHECK(b->data == buf);
  CHECK(a->size == sizeof buf);
  CHECK(a->type == 10);
  CHECK(b->type == 11);

  payload_release(p);  // the creator's reference
  CHECK(p->refs.load() == 2);
  msg_free(a);
  CHECK(p->refs.load() == 1);
  CHECK(g_free_calls == 0);
  msg_free(b);  // the last reference: the payload goes
  CHECK(g_free_calls == 1);
  CHECK(g_freed_ptr == buf);
}

TEST_CASE("static reasons are shared and never counted") {
  Reason* n = reason_static(AIRS_EXIT_NORMAL);
  REQUIRE(n != nullptr);
  CHECK(n->is_static);
  CHECK(n->kind == AIRS_EXIT_NORMAL);
  CHECK(n->code == 0);
  CHECK(std::string(n->text) == "normal");
  CHECK(reason_static(AIRS_EXIT_NORMAL) == n);

  CHECK(std::string(reason_static(AIRS_EXIT_SHUTDOWN)->text) == "shutdown");
  CHECK(reason_static(AIRS_EXIT_SHUTDOWN)->kind == AIRS_EXIT_SHUTDOWN);
  CHECK(reason_static(AIRS_EXIT_KILLED)->kind == AIRS_EXIT_KILLED);
  CHECK(reason_static(AIRS_EXIT_ERROR)->kind == AIRS_EXIT_ERROR);
  CHECK(reason_static(AIRS_EXIT_NOPROC)->kind == AIRS_EXIT_NOPROC);
  // An unknown kind reads as an error.
  CHECK(reason_static(static_cast<airs_exit_kind>(77)) ==
        reason_static(AIRS_EXIT_ERROR));

  uint32_t before = n->refs.load();
  reason_retain(n);
  reason_retain(n);
  reason_release(n);
  CHECK(n->refs.load() == before);
  for (int i = 0; i < 5; i++) reason_release(n);  // never freed
  CHECK(n->refs.load() == before);
  CHECK(std::string(n->text) == "normal");

  reason_retain(nullptr);  // null is fine
  reason_release(nullptr);
}

TEST_CASE("reason_new returns a static reason when nothing is special") {
  CHECK(reason_new(AIRS_EXIT_NORMAL, 0, nullptr) ==
        reason_static(AIRS_EXIT_NORMAL));
  CHECK(reason_new(AIRS_EXIT_SHUTDOWN, 0, "") ==
        reason_static(AIRS_EXIT_SHUTDOWN));
  CHECK(reason_new(AIRS_EXIT_KILLED, 0, nullptr) ==
        reason_static(AIRS_EXIT_KILLED));
}

TEST_CASE("reason_new allocates errors and reasons with a code or text") {
  Reason* e = reason_new(AIRS_EXIT_ERROR, 0, nullptr);
  REQUIRE(e != nullptr);
  CHECK_FALSE(e->is_static);
  CHECK(e->kind == AIRS_EXIT_ERROR);
  CHECK(std::string(e->text).empty());
  reason_release(e);

  Reason* r = reason_new(AIRS_EXIT_ERROR, 17, "disk on fire");
  REQUIRE(r != nullptr);
  CHECK_FALSE(r->is_static);
  CHECK(r->refs.load() == 1);
  CHECK(r->kind == AIRS_EXIT_ERROR);
  CHECK(r->code == 17);
  CHECK(std::string(r->text) == "disk on fire");
  // The text is stored right after the struct: a copy of the argument.
  CHECK(static_cast<const void*>(r->text) == static_cast<const void*>(r + 1));
  reason_retain(r);
  CHECK(r->refs.load() == 2);
  reason_release(r);
  CHECK(r->refs.load() == 1);
  reason_release(r);

  Reason* s = reason_new(AIRS_EXIT_SHUTDOWN, 3, nullptr);
  REQUIRE(s != nullptr);
  CHECK_FALSE(s->is_static);
  CHECK(s->kind == AIRS_EXIT_SHUTDOWN);
  CHECK(s->code == 3);
  reason_release(s);

  Reason* t = reason_new(AIRS_EXIT_NORMAL, 0, "done");
  REQUIRE(t != nullptr);
  CHECK_FALSE(t->is_static);
  CHECK(std::string(t->text) == "done");
  reason_release(t);
}

TEST_CASE("msg_new_signal takes a reference to its reason; msg_free drops it") {
  Reason* r = reason_new(AIRS_EXIT_ERROR, 5, "boom");
  REQUIRE(r != nullptr);
  Msg* m = msg_new_signal(Signal::kExit, 1234, r, 99);
  REQUIRE(m != nullptr);
  CHECK(r->refs.load() == 2);
  CHECK(m->signal == Signal::kExit);
  CHECK(m->sender == 1234);
  CHECK(m->correlation == 99);
  CHECK(static_cast<bool>(m->has_reason));
  CHECK(m->reason == r);
  CHECK(m->type == 0);
  CHECK(m->size == 0);
  CHECK(m->data == nullptr);

  Msg* m2 = msg_new_signal(Signal::kDown, 1, r, 7);
  REQUIRE(m2 != nullptr);
  CHECK(r->refs.load() == 3);
  msg_free(m);
  CHECK(r->refs.load() == 2);
  msg_free(m2);
  CHECK(r->refs.load() == 1);
  CHECK(std::string(r->text) == "boom");  // still alive: ours
  reason_release(r);
}

TEST_CASE("a signal without a reason") {
  Msg* m = msg_new_signal(Signal::kLink, 77, nullptr, 0);
  REQUIRE(m != nullptr);
  CHECK(m->signal == Signal::kLink);
  CHECK(m->sender == 77);
  CHECK_FALSE(static_cast<bool>(m->has_reason));
  CHECK(m->kind == PayloadKind::kInline);
  msg_free(m);

  Msg* k = msg_new_signal(Signal::kKill, 1, reason_static(AIRS_EXIT_KILLED), 0);
  REQUIRE(k != nullptr);
  CHECK(static_cast<bool>(k->has_reason));
  CHECK(k->reason == reason_static(AIRS_EXIT_KILLED));
  msg_free(k);
  CHECK(reason_static(AIRS_EXIT_KILLED)->kind == AIRS_EXIT_KILLED);
}

TEST_CASE("is_system_type splits user and system tags") {
  CHECK_FALSE(is_system_type(0));
  CHECK_FALSE(is_system_type(AIRS_MSG_SYSTEM_BASE - 1));
  CHECK(is_system_type(AIRS_MSG_SYSTEM_BASE));
  CHECK(is_system_type(AIRS_MSG_EXIT));
  CHECK(is_system_type(AIRS_MSG_DOWN));
  CHECK(is_system_type(UINT64_MAX));
}
