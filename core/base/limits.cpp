// limits.cpp - the checks and defaults of limits.hpp.
#include "base/limits.hpp"

#include <cstring>

#include "base/error.hpp"

namespace airs {

airs_status check_behaviour(const airs_behaviour* b) noexcept {
  if (!b) return fail(AIRS_EINVAL, "behaviour is NULL");
  // Version 1 ends at `health`; version 2 and later have receive_batch
  // (slots a later version appends are not read).
  size_t least =
      b->version >= 2 ? sizeof(airs_behaviour) : AIRS_BEHAVIOUR_SIZE_V1;
  if (b->version < 1 || b->size < least)
    return failf(AIRS_EINVAL,
                 "behaviour version %u / size %u is not supported (set "
                 "AIRS_BEHAVIOUR_VERSION and sizeof)",
                 b->version, b->size);
  if (!b->receive && !behaviour_batch(b))
    return fail(AIRS_EINVAL, "receive and receive_batch are both NULL");
  return AIRS_OK;
}

airs_receive_batch_fn behaviour_batch(const airs_behaviour* b) noexcept {
  return b->version >= 2 && b->size >= sizeof(airs_behaviour) ? b->receive_batch
                                                              : nullptr;
}

airs_behaviour behaviour_copy(const airs_behaviour* b) noexcept {
  airs_behaviour out{};
  // Only the bytes the caller's struct has: one built against an older
  // header is smaller than ours.
  std::memcpy(&out, b, b->size < sizeof out ? b->size : sizeof out);
  out.receive_batch = behaviour_batch(b);
  out.version = AIRS_BEHAVIOUR_VERSION;
  out.size = sizeof out;
  return out;
}

airs_status check_spawn_opts(const airs_spawn_opts* o,
                             bool for_child) noexcept {
  if (o->version < 1 || o->size < sizeof(airs_spawn_opts))
    return fail(AIRS_EINVAL,
                "opts version/size not supported (fill the opts with their "
                "init function first)");
  if (for_child && (o->flags & AIRS_SPAWN_LINK))
    return fail(AIRS_EINVAL,
                "opts must not have AIRS_SPAWN_LINK (the supervisor links "
                "its children)");
  if (o->flags &
      ~(AIRS_SPAWN_LINK | AIRS_SPAWN_TRAP_EXIT | AIRS_SPAWN_BLOCKING))
    return failf(AIRS_EINVAL, "unknown spawn flags 0x%x", o->flags);
  if (o->mailbox_policy < AIRS_MAILBOX_FAIL ||
      o->mailbox_policy > AIRS_MAILBOX_BLOCK)
    return failf(AIRS_EINVAL, "unknown mailbox policy %d", o->mailbox_policy);
  if (o->block_timeout_ms < 1 || o->block_timeout_ms > kMaxWaitMs)
    return failf(AIRS_EINVAL, "block_timeout_ms must be in 1..%u", kMaxWaitMs);
  return AIRS_OK;
}

namespace {

airs_status check_text(const char* s, const char* what, size_t max,
                       size_t* len) noexcept {
  if (!s) return failf(AIRS_EINVAL, "%s is NULL", what);
  size_t n = strnlen(s, max + 1);
  if (n == 0) return failf(AIRS_EINVAL, "%s is empty", what);
  if (n > max)
    return failf(AIRS_EINVAL, "%s is longer than %zu bytes", what, max);
  if (len) *len = n;
  return AIRS_OK;
}

}  // namespace

airs_status check_name(const char* name, const char* what,
                       size_t* len) noexcept {
  return check_text(name, what, AIRS_NAME_MAX, len);
}

airs_status check_child_id(const char* id) noexcept {
  return check_text(id, "child id", AIRS_CHILD_ID_MAX, nullptr);
}

airs_status check_exit_kind(int kind) noexcept {
  if (kind < AIRS_EXIT_NORMAL || kind > AIRS_EXIT_NOCONNECTION)
    return failf(AIRS_EINVAL, "unknown exit kind %d", kind);
  return AIRS_OK;
}

airs_status check_priority(int priority) noexcept {
  if (priority != AIRS_PRIORITY_NORMAL && priority != AIRS_PRIORITY_HIGH)
    return failf(AIRS_EINVAL, "unknown priority %d", priority);
  return AIRS_OK;
}

airs_status check_user_type(uint64_t type) noexcept {
  if (type >= AIRS_MSG_SYSTEM_BASE)
    return failf(AIRS_EINVAL,
                 "type 0x%llx is in the system range (>= "
                 "AIRS_MSG_SYSTEM_BASE)",
                 static_cast<unsigned long long>(type));
  return AIRS_OK;
}

airs_status check_payload(const void* data, size_t size) noexcept {
  if (size > AIRS_MSG_MAX_SIZE)
    return failf(AIRS_EINVAL, "size %zu is over AIRS_MSG_MAX_SIZE", size);
  if (!data && size)
    return failf(AIRS_EINVAL, "data is NULL but size is %zu", size);
  return AIRS_OK;
}

airs_status check_timeout(uint32_t ms) noexcept {
  if (ms == 0 || ms > kMaxTimeoutMs)
    return failf(AIRS_EINVAL, "timeout_ms must be in 1..%u", kMaxTimeoutMs);
  return AIRS_OK;
}

void sup_flags_defaults(airs_sup_flags* f) noexcept {
  *f = airs_sup_flags{};
  f->version = AIRS_SUP_FLAGS_VERSION;
  f->size = sizeof *f;
  f->strategy = AIRS_ONE_FOR_ONE;
  f->intensity = 1;  // OTP's defaults: 1 restart in 5 s
  f->period_ms = 5000;
  f->auto_shutdown = AIRS_AUTO_SHUTDOWN_NEVER;
  f->health_timeout_ms = 1000;
  f->health_threshold = 3;
}

airs_status check_sup_flags(const airs_sup_flags* f) noexcept {
  if (f->version < 1 || f->size < sizeof(airs_sup_flags))
    return fail(AIRS_EINVAL,
                "flags version/size not supported (fill the flags with their "
                "init function first)");
  if (f->strategy < AIRS_ONE_FOR_ONE || f->strategy > AIRS_SIMPLE_ONE_FOR_ONE)
    return failf(AIRS_EINVAL, "unknown strategy %d", f->strategy);
  if (f->intensity > kMaxIntensity)
    return failf(AIRS_EINVAL, "intensity must be at most %u", kMaxIntensity);
  if (f->period_ms < 1 || f->period_ms > kMaxTimeoutMs)
    return failf(AIRS_EINVAL, "period_ms must be in 1..%u", kMaxTimeoutMs);
  if (f->backoff_base_ms > 0 && f->backoff_max_ms < f->backoff_base_ms)
    return fail(AIRS_EINVAL, "backoff_max_ms is below backoff_base_ms");
  if (f->auto_shutdown < AIRS_AUTO_SHUTDOWN_NEVER ||
      f->auto_shutdown > AIRS_AUTO_SHUTDOWN_ALL_SIGNIFICANT)
    return failf(AIRS_EINVAL, "unknown auto_shutdown %d", f->auto_shutdown);
  if (f->health_interval_ms > 0 &&
      (f->health_timeout_ms < 1 || f->health_threshold < 1))
    return fail(AIRS_EINVAL,
                "health checks need a timeout and a threshold of at least 1");
  return AIRS_OK;
}

airs_shutdown child_shutdown(const airs_child_spec* c) noexcept {
  if (c->shutdown != AIRS_SHUTDOWN_DEFAULT)
    return static_cast<airs_shutdown>(c->shutdown);
  // OTP goes by the child's type, not by how it starts: a behaviour that
  // runs a supervisor of its own is given all the time it needs too.
  bool supervisor = c->supervisor || c->type == AIRS_CHILD_SUPERVISOR;
  return supervisor ? AIRS_SHUTDOWN_INFINITY : AIRS_SHUTDOWN_TIMEOUT;
}

void child_spec_defaults(airs_child_spec* c) noexcept {
  *c = airs_child_spec{};
  c->version = AIRS_CHILD_SPEC_VERSION;
  c->size = sizeof *c;
  c->restart = AIRS_RESTART_PERMANENT;
  c->shutdown = AIRS_SHUTDOWN_DEFAULT;
  c->shutdown_ms = kDefaultChildShutdownMs;
  c->type = AIRS_CHILD_WORKER;
}

airs_status check_child_spec(const airs_child_spec* c, const airs_sup_flags& f,
                             bool is_template) noexcept {
  if (c->version < 1 || c->size < sizeof(airs_child_spec))
    return fail(AIRS_EINVAL,
                "child spec version/size not supported (fill the spec with "
                "its init function first)");
  airs_status st;
  if (!is_template && (st = check_child_id(c->id)) != AIRS_OK) return st;
  if (!c->behaviour == !c->supervisor)
    return fail(AIRS_EINVAL, "set exactly one of behaviour and supervisor");
  if (c->behaviour && (st = check_behaviour(c->behaviour)) != AIRS_OK)
    return st;
  if (c->restart < AIRS_RESTART_PERMANENT ||
      c->restart > AIRS_RESTART_TEMPORARY)
    return failf(AIRS_EINVAL, "unknown restart %d", c->restart);
  if (c->shutdown < AIRS_SHUTDOWN_BRUTAL_KILL ||
      c->shutdown > AIRS_SHUTDOWN_DEFAULT)
    return failf(AIRS_EINVAL, "unknown shutdown %d", c->shutdown);
  if (child_shutdown(c) == AIRS_SHUTDOWN_TIMEOUT && c->shutdown_ms > kMaxWaitMs)
    return failf(AIRS_EINVAL, "shutdown_ms must be in 0..%u", kMaxWaitMs);
  if (c->type != AIRS_CHILD_WORKER && c->type != AIRS_CHILD_SUPERVISOR)
    return failf(AIRS_EINVAL, "unknown child type %d", c->type);
  if (c->supervisor && c->type != AIRS_CHILD_SUPERVISOR)
    return fail(AIRS_EINVAL,
                "a child with .supervisor must have type "
                "AIRS_CHILD_SUPERVISOR");
  if (c->flags & ~AIRS_CHILD_SIGNIFICANT)
    return failf(AIRS_EINVAL, "unknown child flags 0x%x", c->flags);
  bool significant = c->flags & AIRS_CHILD_SIGNIFICANT;
  if (significant && c->restart == AIRS_RESTART_PERMANENT)
    return fail(AIRS_EINVAL,
                "a significant child must be transient or temporary");
  if (significant && f.auto_shutdown == AIRS_AUTO_SHUTDOWN_NEVER)
    return fail(AIRS_EINVAL,
                "significant children need auto_shutdown ANY_SIGNIFICANT or "
                "ALL_SIGNIFICANT");
  if (c->name && (st = check_name(c->name, "name")) != AIRS_OK) return st;
  if (c->opts && (st = check_spawn_opts(c->opts, true)) != AIRS_OK) return st;
  return AIRS_OK;
}

}  // namespace airs
