// sup_spec.cpp - checking supervisor flags and child specs.
#include "supervision/sup_spec.hpp"

#include <cstring>
#include <new>
#include <utility>

#include "base/alloc.hpp"
#include "base/error.hpp"
#include "base/limits.hpp"

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

airs_status make_child_rec(const airs_child_spec* c, const airs_sup_flags& f,
                           bool is_template, ChildRec* out) noexcept {
  if (airs_status st = check_child_spec(c, f, is_template); st != AIRS_OK)
    return st;
  ChildRec r;
  try {
    if (!is_template) r.id = c->id;
    if (c->name) r.name = c->name;
  } catch (const std::bad_alloc&) {
    return fail(AIRS_ENOMEM, "out of memory");
  }
  // Also for a nested supervisor, whose start ignores it: user_data is
  // then only freed with the spec.
  r.start = make<Spec>();
  if (!r.start) return fail(AIRS_ENOMEM, "out of memory");
  r.start->refs.store(1, std::memory_order_relaxed);
  r.start->behaviour =
      c->behaviour ? behaviour_copy(c->behaviour) : airs_behaviour{};
  r.start->behaviour.size = sizeof(airs_behaviour);
  r.start->user_data = c->user_data;
  r.start->user_data_free = c->user_data_free;
  if (c->supervisor) {
    r.sup = const_cast<airs_sup_spec*>(c->supervisor);
    sup_spec_retain(r.sup);
    r.sup->frozen.store(true, std::memory_order_release);
  }
  r.restart = static_cast<airs_restart>(c->restart);
  r.shutdown = child_shutdown(c);
  r.shutdown_ms = c->shutdown_ms;
  r.type = static_cast<airs_child_type>(c->type);
  r.significant = c->flags & AIRS_CHILD_SIGNIFICANT;
  if (c->opts) {
    r.has_opts = true;
    r.opts = *c->opts;
    r.opts.size = sizeof(airs_spawn_opts);
  }
  *out = std::move(r);
  return AIRS_OK;
}

airs_status sup_spec_add_child(airs_sup_spec* spec,
                               const airs_child_spec* child) noexcept {
  if (!spec) return fail(AIRS_EINVAL, "spec is NULL");
  if (!child) return fail(AIRS_EINVAL, "child is NULL");
  if (spec->frozen.load(std::memory_order_acquire))
    return fail(AIRS_ESTATE,
                "the spec is in use (it started a supervisor or is the child "
                "of another spec)");
  if (child->version >= 1 && child->size >= sizeof(airs_child_spec) &&
      child->supervisor == spec)
    return fail(AIRS_EINVAL, "a spec cannot contain itself");
  bool pool = spec->flags.strategy == AIRS_SIMPLE_ONE_FOR_ONE;
  if (pool && !spec->children.empty())
    return fail(AIRS_EINVAL,
                "a simple_one_for_one spec has exactly one child spec (the "
                "template)");
  ChildRec rec;
  airs_status st = make_child_rec(child, spec->flags, pool, &rec);
  if (st != AIRS_OK) return st;
  for (const ChildRec& c : spec->children)
    if (c.id == rec.id) {
      st = failf(AIRS_EEXIST, "a child '%s' exists already", rec.id.c_str());
      break;
    }
  if (st == AIRS_OK) {
    try {
      spec->children.push_back(std::move(rec));
      return AIRS_OK;
    } catch (const std::bad_alloc&) {
      st = fail(AIRS_ENOMEM, "out of memory");
    }
  }
  // The caller frees user_data on failure: the record must not.
  if (rec.start) rec.start->user_data_free = nullptr;
  return st;
}

}  // namespace airs
