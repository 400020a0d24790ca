// test_header_cpp.cpp - <airs/airs.h> compiles as C++ (built twice, as
// C++11 and C++20, with -Wall -Wextra -Werror -pedantic) and its
// declarations link and behave from C++.
#include <airs/airs.h>

#include <cstring>
#include <type_traits>

#include "check.h"

static_assert(std::is_same<airs_pid, uint64_t>::value, "pids are 64-bit");
static_assert(std::is_trivial<airs_behaviour>::value, "a plain C struct");
static_assert(std::is_trivial<airs_spawn_opts>::value, "a plain C struct");
static_assert(std::is_trivial<airs_sup_flags>::value, "a plain C struct");
static_assert(std::is_trivial<airs_child_spec>::value, "a plain C struct");
static_assert(std::is_trivial<airs_child_info>::value, "a plain C struct");
static_assert(std::is_trivial<airs_child_counts>::value, "a plain C struct");
static_assert(std::is_trivial<airs_event>::value, "a plain C struct");
static_assert(AIRS_OK == 0, "AIRS_OK is 0");
static_assert(AIRS_MSG_EXIT > AIRS_MSG_SYSTEM_BASE, "system range");

extern "C" {
static airs_status receive(void*, airs_ctx*, const airs_msg*) {
  return AIRS_OK;
}
}

int main() {
  airs_behaviour b;
  std::memset(&b, 0, sizeof b);
  b.version = AIRS_BEHAVIOUR_VERSION;
  b.size = sizeof b;
  b.receive = receive;  // a C++ function with C linkage fits the slot
  airs_config* cfg = nullptr;
  airs_runtime* rt = nullptr;
  airs_pid pid = AIRS_NO_PID;
  CHECK_EQ(AIRS_CHECK_ABI(), AIRS_OK);
  CHECK_EQ(airs_version(), AIRS_VERSION_NUMBER);
  CHECK_STR(airs_version_string(), AIRS_VERSION_STRING);
  CHECK_ST(airs_config_new(&cfg), AIRS_OK);
  CHECK_ST(airs_config_set(cfg, AIRS_CFG_WORKERS, 0), AIRS_OK);
  CHECK_ST(airs_runtime_new(cfg, &rt), AIRS_OK);
  airs_config_free(cfg);
  CHECK_ST(airs_spawn(rt, &b, nullptr, nullptr, nullptr, &pid), AIRS_OK);
  CHECK(airs_is_alive(rt, pid));
  CHECK_ST(airs_send(rt, pid, 1, "x", 1), AIRS_OK);
  CHECK_ST(airs_wait(rt, pid, 0), AIRS_ETIMEDOUT);
  CHECK_ST(airs_kill(rt, pid), AIRS_OK);
  CHECK_ST(airs_wait(rt, pid, 1000), AIRS_OK);
  CHECK_ST(airs_send(rt, pid, 1, "x", 1), AIRS_ENOPROC);
  airs_runtime_free(rt);
  CHECK_ST(airs_send(rt, pid, 1, "x", 1), AIRS_ESTATE);
  return CHECK_DONE();
}
