// Unit tests of mail for a slot whose process has ended (Mail::settle_free):
// the sender that finds such a mailbox idle holds its consumer role and
// drains it, and the hooks that draining runs may call back into the API.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <thread>

#include "../../../capi/capi.hpp"
#include "mail/message.hpp"

using namespace airs;

namespace {

airs_status quiet_init(void*, airs_ctx*, void** state) {
  *state = nullptr;
  return AIRS_OK;
}
airs_status quiet_receive(void*, airs_ctx*, const airs_msg*) {
  return AIRS_OK;
}
const airs_behaviour kQuiet = {AIRS_BEHAVIOUR_VERSION,
                               sizeof(airs_behaviour),
                               quiet_init,
                               quiet_receive,
                               nullptr,
                               nullptr,
                               nullptr};

struct HookSpawns {
  airs_runtime* rt = nullptr;
  std::atomic<int> calls{0};
  std::atomic<airs_status> spawned{AIRS_EINTERNAL};
  std::atomic<airs_pid> child{0};
};

void spawn_from_hook(void* user_data, airs_pid, const airs_msg*,
                     airs_dead_letter_reason) {
  auto* h = static_cast<HookSpawns*>(user_data);
  if (h->calls++ > 0) return;
  airs_pid child = 0;
  h->spawned = airs_spawn(h->rt, &kQuiet, nullptr, nullptr, nullptr, &child);
  h->child = child;
}

}  // namespace

// Issue 20, item 1: the spawn took the slot being drained off the free
// list (it is on top: its process just ended) and waited for its mailbox's
// consumer role, which the draining thread, its own caller, held: a spin
// for ever. The hooks of a drain now run once the role is let go.
TEST_CASE("a dead-letter hook that spawns while a late sender drains a slot") {
  airs_config* cfg = nullptr;
  REQUIRE(airs_config_new(&cfg) == AIRS_OK);
  REQUIRE(airs_config_set(cfg, AIRS_CFG_WORKERS, 0) == AIRS_OK);
  airs_runtime* h = nullptr;
  REQUIRE(airs_runtime_new(cfg, &h) == AIRS_OK);
  airs_config_free(cfg);
  HookSpawns hook;
  hook.rt = h;
  REQUIRE(airs_set_dead_letter_hook(h, spawn_from_hook, &hook) == AIRS_OK);

  airs_pid pid = 0;
  REQUIRE(airs_spawn(h, &kQuiet, nullptr, nullptr, nullptr, &pid) == AIRS_OK);
  REQUIRE(airs_send_exit(h, pid, AIRS_EXIT_SHUTDOWN, 0, nullptr) == AIRS_OK);
  REQUIRE(airs_wait(h, pid, 5000) == AIRS_OK);

  // A late sender: its pid check passed before the end, its push comes
  // after it, finds the mailbox idle, and so holds the consumer role.
  Runtime* rt = h->impl.load();
  Kernel& k = rt->kernel();
  Process* p = k.table.lookup(pid);
  REQUIRE(p != nullptr);
  uint64_t word = 7;
  Msg* m = msg_new_copy(0x42, &word, sizeof word);
  REQUIRE(m != nullptr);
  m->to = pid;
  REQUIRE(p->push(m));
  k.mail.settle_free(p);

  CHECK(hook.calls == 1);
  CHECK(hook.spawned == AIRS_OK);
  CHECK(airs_is_alive(h, hook.child));
  // The spawn got the very slot that was drained.
  CHECK(pid_slot(hook.child) == pid_slot(pid));
  airs_runtime_free(h);
}
