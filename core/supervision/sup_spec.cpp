// sup_spec.cpp - checking supervisor flags and child specs.
#include "supervision/sup_spec.hpp"

#include <cstring>
#include <utility>

#include "base/alloc.hpp"
#include "base/error.hpp"

namespace airs {

ChildRec::ChildRec(ChildRec&& o) noexcept {
  *this = std::move(o);
}

ChildRec& ChildRec::operator=(ChildRec&& o) noexcept {
  if (this == &o) return *this;
  spec_release(start);
  sup_spec_release(sup);
  id = std::move(o.id);
  name = std::move(o.name);
  start = std::exchange(o.start, nullptr);
  sup = std::exchange(o.sup, nullptr);
  restart = o.restart;
  shutdown = o.shutdown;
  shutdown_ms = o.shutdown_ms;
  type = o.type;
  significant = o.significant;
  has_opts = o.has_opts;
  opts = o.opts;
  return *this;
}

ChildRec::~ChildRec() {
  spec_release(start);
  sup_spec_release(sup);
}

ChildRec ChildRec::clone() const {
  ChildRec c;
  c.id = id;
  c.name = name;
  c.start = start;
  if (start) spec_retain(start);
  c.sup = sup;
  if (sup) sup_spec_retain(sup);
  c.restart = restart;
  c.shutdown = shutdown;
  c.shutdown_ms = shutdown_ms;
  c.type = type;
  c.significant = significant;
  c.has_opts = has_opts;
  c.opts = opts;
  return c;
}

ChildRec ChildRec::with_arg(void* arg, void (*arg_free)(void*)) const {
  ChildRec c = clone();
  spec_release(c.start);
  c.start = make<Spec>();
  if (c.start) {
    c.start->refs.store(1, std::memory_order_relaxed);
    c.start->behaviour = start->behaviour;
    c.start->user_data = arg;
    c.start->user_data_free = arg_free;
  }
  return c;
}

void sup_spec_retain(airs_sup_spec* s) noexcept {
  s->refs.fetch_add(1, std::memory_order_relaxed);
}

void sup_spec_release(airs_sup_spec* s) noexcept {
  if (s && s->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete s;
}

airs_status check_sup_flags(const airs_sup_flags* f, airs_sup_flags* out,
                            const char* fn) {
  airs_sup_flags d{};
  d.version = AIRS_SUP_FLAGS_VERSION;
  d.size = sizeof d;
  d.strategy = AIRS_ONE_FOR_ONE;
  d.intensity = 1;
  d.period_ms = 5000;
  d.auto_shutdown = AIRS_AUTO_SHUTDOWN_NEVER;
  d.health_timeout_ms = 1000;
  d.health_threshold = 3;
  if (!f) {
    *out = d;
    return AIRS_OK;
  }
  if (f->version < 1 || f->size < sizeof(airs_sup_flags))
    return failf(AIRS_EINVAL,
                 "%s: flags version/size not supported (use "
                 "airs_sup_flags_init)",
                 fn);
  if (f->strategy < AIRS_ONE_FOR_ONE || f->strategy > AIRS_SIMPLE_ONE_FOR_ONE)
    return failf(AIRS_EINVAL, "%s: unknown strategy %d", fn, f->strategy);
  if (f->intensity > 1000000000u)
    return failf(AIRS_EINVAL, "%s: intensity must be at most 10^9", fn);
  if (f->period_ms < 1 || f->period_ms > 0x7FFFFFFFu)
    return failf(AIRS_EINVAL, "%s: period_ms must be in 1..2^31-1", fn);
  if (f->backoff_base_ms > 0 && f->backoff_max_ms < f->backoff_base_ms)
    return failf(AIRS_EINVAL, "%s: backoff_max_ms is below backoff_base_ms",
                 fn);
  if (f->auto_shutdown < AIRS_AUTO_SHUTDOWN_NEVER ||
      f->auto_shutdown > AIRS_AUTO_SHUTDOWN_ALL_SIGNIFICANT)
    return failf(AIRS_EINVAL, "%s: unknown auto_shutdown %d", fn,
                 f->auto_shutdown);
  if (f->health_interval_ms > 0 &&
      (f->health_timeout_ms < 1 || f->health_threshold < 1))
    return failf(AIRS_EINVAL,
                 "%s: health checks need a timeout and a threshold of at "
                 "least 1",
                 fn);
  *out = *f;
  out->size = sizeof(airs_sup_flags);
  return AIRS_OK;
}

namespace {

airs_status check_text(const char* s, const char* what, size_t max,
                       const char* fn) {
  size_t n = strnlen(s, max + 1);
  if (n == 0) return failf(AIRS_EINVAL, "%s: %s is empty", fn, what);
  if (n > max)
    return failf(AIRS_EINVAL, "%s: %s is longer than %zu bytes", fn, what, max);
  return AIRS_OK;
}

airs_status check_behaviour(const airs_behaviour* b, const char* fn) {
  if (b->version < 1 || b->size < sizeof(airs_behaviour))
    return failf(AIRS_EINVAL,
                 "%s: behaviour version %u / size %u is not supported", fn,
                 b->version, b->size);
  if (!b->receive) return failf(AIRS_EINVAL, "%s: receive is NULL", fn);
  return AIRS_OK;
}

airs_status check_opts(const airs_spawn_opts* o, const char* fn) {
  if (o->version < 1 || o->size < sizeof(airs_spawn_opts))
    return failf(AIRS_EINVAL, "%s: opts version/size not supported", fn);
  if (o->flags & AIRS_SPAWN_LINK)
    return failf(AIRS_EINVAL,
                 "%s: opts must not have AIRS_SPAWN_LINK (the supervisor "
                 "links its children)",
                 fn);
  if (o->flags & ~AIRS_SPAWN_TRAP_EXIT)
    return failf(AIRS_EINVAL, "%s: unknown spawn flags 0x%x", fn, o->flags);
  if (o->mailbox_policy < AIRS_MAILBOX_FAIL ||
      o->mailbox_policy > AIRS_MAILBOX_BLOCK)
    return failf(AIRS_EINVAL, "%s: unknown mailbox policy %d", fn,
                 o->mailbox_policy);
  if (o->block_timeout_ms < 1 || o->block_timeout_ms > 3600000)
    return failf(AIRS_EINVAL, "%s: block_timeout_ms must be in 1..3600000", fn);
  return AIRS_OK;
}

}  // namespace

airs_status make_child_rec(const airs_child_spec* c, const airs_sup_flags& f,
                           bool is_template, ChildRec* out, const char* fn) {
  if (c->version < 1 || c->size < sizeof(airs_child_spec))
    return failf(AIRS_EINVAL,
                 "%s: child spec version/size not supported (use "
                 "airs_child_spec_init)",
                 fn);
  airs_status st;
  if (!is_template) {
    if (!c->id) return failf(AIRS_EINVAL, "%s: child id is NULL", fn);
    if ((st = check_text(c->id, "child id", AIRS_CHILD_ID_MAX, fn)) != AIRS_OK)
      return st;
  }
  if (!c->behaviour == !c->supervisor)
    return failf(AIRS_EINVAL, "%s: set exactly one of behaviour and supervisor",
                 fn);
  if (c->behaviour && (st = check_behaviour(c->behaviour, fn)) != AIRS_OK)
    return st;
  if (c->restart < AIRS_RESTART_PERMANENT ||
      c->restart > AIRS_RESTART_TEMPORARY)
    return failf(AIRS_EINVAL, "%s: unknown restart %d", fn, c->restart);
  if (c->shutdown < AIRS_SHUTDOWN_BRUTAL_KILL ||
      c->shutdown > AIRS_SHUTDOWN_INFINITY)
    return failf(AIRS_EINVAL, "%s: unknown shutdown %d", fn, c->shutdown);
  if (c->shutdown == AIRS_SHUTDOWN_TIMEOUT &&
      (c->shutdown_ms < 1 || c->shutdown_ms > 3600000))
    return failf(AIRS_EINVAL, "%s: shutdown_ms must be in 1..3600000", fn);
  if (c->type != AIRS_CHILD_WORKER && c->type != AIRS_CHILD_SUPERVISOR)
    return failf(AIRS_EINVAL, "%s: unknown child type %d", fn, c->type);
  if (c->supervisor && c->type != AIRS_CHILD_SUPERVISOR)
    return failf(AIRS_EINVAL,
                 "%s: a child with .supervisor must have type "
                 "AIRS_CHILD_SUPERVISOR",
                 fn);
  if (c->flags & ~AIRS_CHILD_SIGNIFICANT)
    return failf(AIRS_EINVAL, "%s: unknown child flags 0x%x", fn, c->flags);
  bool significant = c->flags & AIRS_CHILD_SIGNIFICANT;
  if (significant && c->restart == AIRS_RESTART_PERMANENT)
    return failf(AIRS_EINVAL,
                 "%s: a significant child must be transient or temporary", fn);
  if (significant && f.auto_shutdown == AIRS_AUTO_SHUTDOWN_NEVER)
    return failf(AIRS_EINVAL,
                 "%s: significant children need auto_shutdown "
                 "ANY_SIGNIFICANT or ALL_SIGNIFICANT",
                 fn);
  if (c->name &&
      (st = check_text(c->name, "name", AIRS_NAME_MAX, fn)) != AIRS_OK)
    return st;
  if (c->opts && (st = check_opts(c->opts, fn)) != AIRS_OK) return st;

  ChildRec r;
  if (!is_template) r.id = c->id;
  if (c->name) r.name = c->name;
  // Also for a nested supervisor, whose start ignores it: user_data is
  // then only freed with the spec.
  r.start = make<Spec>();
  if (!r.start) return failf(AIRS_ENOMEM, "%s: out of memory", fn);
  r.start->refs.store(1, std::memory_order_relaxed);
  r.start->behaviour = c->behaviour ? *c->behaviour : airs_behaviour{};
  r.start->behaviour.size = sizeof(airs_behaviour);
  r.start->user_data = c->user_data;
  r.start->user_data_free = c->user_data_free;
  if (c->supervisor) {
    r.sup = const_cast<airs_sup_spec*>(c->supervisor);
    sup_spec_retain(r.sup);
    r.sup->frozen.store(true, std::memory_order_release);
  }
  r.restart = static_cast<airs_restart>(c->restart);
  r.shutdown = static_cast<airs_shutdown>(c->shutdown);
  r.shutdown_ms = c->shutdown_ms;
  r.type = static_cast<airs_child_type>(c->type);
  r.significant = significant;
  if (c->opts) {
    r.has_opts = true;
    r.opts = *c->opts;
    r.opts.size = sizeof(airs_spawn_opts);
  }
  *out = std::move(r);
  return AIRS_OK;
}

}  // namespace airs
