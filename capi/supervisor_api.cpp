// supervisor_api.cpp - supervisor specs, starting supervisors, the
// operations on them, and the event hook.
#include <new>

#include "capi.hpp"
#include "supervision/sup_spec.hpp"
#include "supervision/supervisor.hpp"

using namespace airs;
using namespace airs::capi;

namespace {

void free_user_data(const airs_child_spec* c) {
  if (c && c->user_data_free) c->user_data_free(c->user_data);
}

// The supervisor `pid` names, with a clear status when there is none.
airs_status supervisor_of(airs_runtime* h, airs_pid pid, const char* fn,
                          Runtime** rt, std::shared_ptr<Supervisor>* out) {
  airs_status st = runtime_of(h, fn, rt);
  if (st != AIRS_OK) return st;
  *out = (*rt)->find_supervisor(pid);
  if (*out) return AIRS_OK;
  if ((*rt)->live(pid))
    return failf(AIRS_EINVAL, "%s: process %llu is not a supervisor", fn,
                 static_cast<unsigned long long>(pid));
  return failf(AIRS_ENOPROC, "%s: supervisor %llu is not alive", fn,
               static_cast<unsigned long long>(pid));
}

}  // namespace

extern "C" {

airs_status airs_sup_flags_init(airs_sup_flags* flags) {
  if (!flags) return fail(AIRS_EINVAL, "airs_sup_flags_init: flags is NULL");
  return check_sup_flags(nullptr, flags, "airs_sup_flags_init");
}

airs_status airs_child_spec_init(airs_child_spec* spec) {
  if (!spec) return fail(AIRS_EINVAL, "airs_child_spec_init: spec is NULL");
  *spec = airs_child_spec{};
  spec->version = AIRS_CHILD_SPEC_VERSION;
  spec->size = sizeof *spec;
  spec->restart = AIRS_RESTART_PERMANENT;
  spec->shutdown = AIRS_SHUTDOWN_TIMEOUT;
  spec->shutdown_ms = 5000;
  spec->type = AIRS_CHILD_WORKER;
  return AIRS_OK;
}

airs_status airs_sup_spec_new(const airs_sup_flags* flags,
                              airs_sup_spec** out) {
  if (!out) return fail(AIRS_EINVAL, "airs_sup_spec_new: out is NULL");
  airs_sup_flags f;
  airs_status st = check_sup_flags(flags, &f, "airs_sup_spec_new");
  if (st != AIRS_OK) return st;
  auto* s = new (std::nothrow) airs_sup_spec;
  if (!s) return fail(AIRS_ENOMEM, "airs_sup_spec_new: out of memory");
  s->flags = f;
  *out = s;
  return AIRS_OK;
}

airs_status airs_sup_spec_add_child(airs_sup_spec* spec,
                                    const airs_child_spec* child) {
  const char* fn = "airs_sup_spec_add_child";
  airs_status st = guarded(fn, [&] {
    if (!spec)
      return fail(AIRS_EINVAL, "airs_sup_spec_add_child: spec is NULL");
    if (!child)
      return fail(AIRS_EINVAL, "airs_sup_spec_add_child: child is NULL");
    if (spec->frozen.load(std::memory_order_acquire))
      return fail(AIRS_ESTATE,
                  "airs_sup_spec_add_child: the spec is in use (it started "
                  "a supervisor or is the child of another spec)");
    if (child->version >= 1 && child->size >= sizeof(airs_child_spec) &&
        child->supervisor == spec)
      return fail(AIRS_EINVAL,
                  "airs_sup_spec_add_child: a spec cannot contain itself");
    bool pool = spec->flags.strategy == AIRS_SIMPLE_ONE_FOR_ONE;
    if (pool && !spec->children.empty())
      return fail(AIRS_EINVAL,
                  "airs_sup_spec_add_child: a simple_one_for_one spec has "
                  "exactly one child spec (the template)");
    ChildRec rec;
    airs_status s = make_child_rec(child, spec->flags, pool, &rec, fn);
    if (s != AIRS_OK) return s;
    for (const ChildRec& c : spec->children)
      if (c.id == rec.id) {
        rec.start->user_data_free = nullptr;  // freed by the caller below
        return failf(AIRS_EEXIST, "%s: a child '%s' exists already", fn,
                     rec.id.c_str());
      }
    spec->children.push_back(std::move(rec));
    return AIRS_OK;
  });
  if (st != AIRS_OK) {
    std::string why = last_error_message();
    free_user_data(child);
    fail(st, why.c_str());
  }
  return st;
}

void airs_sup_spec_free(airs_sup_spec* spec) {
  sup_spec_release(spec);
}

airs_status airs_supervisor_start(airs_runtime* h, const airs_sup_spec* spec,
                                  airs_pid* out) {
  Runtime* rt = nullptr;
  airs_status st = runtime_of(h, "airs_supervisor_start", &rt);
  if (st != AIRS_OK) return st;
  if (!spec || !out)
    return fail(AIRS_EINVAL, "airs_supervisor_start: spec or out is NULL");
  return guarded("airs_supervisor_start", [&] {
    return Supervisor::start(*rt, const_cast<airs_sup_spec*>(spec), 0, nullptr,
                             out);
  });
}

airs_status airs_supervisor_start_child(airs_runtime* h, airs_pid sup,
                                        const airs_child_spec* child,
                                        airs_pid* out) {
  const char* fn = "airs_supervisor_start_child";
  Runtime* rt = nullptr;
  std::shared_ptr<Supervisor> s;
  airs_status st = supervisor_of(h, sup, fn, &rt, &s);
  if (st == AIRS_OK && !child)
    st = fail(AIRS_EINVAL, "airs_supervisor_start_child: child is NULL");
  ChildRec rec;
  if (st == AIRS_OK)
    st = guarded(
        fn, [&] { return make_child_rec(child, s->flags(), false, &rec, fn); });
  if (st != AIRS_OK) {
    std::string why = last_error_message();
    free_user_data(child);
    return fail(st, why.c_str());
  }
  // From here the record owns user_data.
  return guarded(fn, [&] { return s->start_child(std::move(rec), out); });
}

airs_status airs_supervisor_start_dynamic_child(airs_runtime* h, airs_pid sup,
                                                void* arg,
                                                void (*arg_free)(void*),
                                                airs_pid* out) {
  const char* fn = "airs_supervisor_start_dynamic_child";
  Runtime* rt = nullptr;
  std::shared_ptr<Supervisor> s;
  airs_status st = supervisor_of(h, sup, fn, &rt, &s);
  if (st != AIRS_OK) {
    std::string why = last_error_message();
    if (arg_free) arg_free(arg);
    return fail(st, why.c_str());
  }
  return guarded(fn,
                 [&] { return s->start_dynamic_child(arg, arg_free, out); });
}

airs_status airs_supervisor_terminate_child(airs_runtime* h, airs_pid sup,
                                            const char* id) {
  const char* fn = "airs_supervisor_terminate_child";
  Runtime* rt = nullptr;
  std::shared_ptr<Supervisor> s;
  airs_status st = supervisor_of(h, sup, fn, &rt, &s);
  if (st != AIRS_OK) return st;
  if (!id)
    return fail(AIRS_EINVAL, "airs_supervisor_terminate_child: id is NULL");
  return guarded(fn, [&] { return s->terminate_child(id, 0, fn); });
}

airs_status airs_supervisor_terminate_child_pid(airs_runtime* h, airs_pid sup,
                                                airs_pid child) {
  const char* fn = "airs_supervisor_terminate_child_pid";
  Runtime* rt = nullptr;
  std::shared_ptr<Supervisor> s;
  airs_status st = supervisor_of(h, sup, fn, &rt, &s);
  if (st != AIRS_OK) return st;
  return guarded(fn, [&] { return s->terminate_child(nullptr, child, fn); });
}

airs_status airs_supervisor_restart_child(airs_runtime* h, airs_pid sup,
                                          const char* id, airs_pid* out) {
  const char* fn = "airs_supervisor_restart_child";
  Runtime* rt = nullptr;
  std::shared_ptr<Supervisor> s;
  airs_status st = supervisor_of(h, sup, fn, &rt, &s);
  if (st != AIRS_OK) return st;
  if (!id)
    return fail(AIRS_EINVAL, "airs_supervisor_restart_child: id is NULL");
  return guarded(fn, [&] { return s->restart_child(id, out); });
}

airs_status airs_supervisor_delete_child(airs_runtime* h, airs_pid sup,
                                         const char* id) {
  const char* fn = "airs_supervisor_delete_child";
  Runtime* rt = nullptr;
  std::shared_ptr<Supervisor> s;
  airs_status st = supervisor_of(h, sup, fn, &rt, &s);
  if (st != AIRS_OK) return st;
  if (!id) return fail(AIRS_EINVAL, "airs_supervisor_delete_child: id is NULL");
  return guarded(fn, [&] { return s->delete_child(id); });
}

airs_status airs_supervisor_which_children(airs_runtime* h, airs_pid sup,
                                           airs_child_info* out,
                                           size_t capacity, size_t* count) {
  const char* fn = "airs_supervisor_which_children";
  Runtime* rt = nullptr;
  std::shared_ptr<Supervisor> s;
  airs_status st = supervisor_of(h, sup, fn, &rt, &s);
  if (st != AIRS_OK) return st;
  if (!count)
    return fail(AIRS_EINVAL, "airs_supervisor_which_children: count is NULL");
  if (!out && capacity > 0)
    return fail(AIRS_EINVAL,
                "airs_supervisor_which_children: out is NULL but capacity "
                "is not 0");
  return guarded(fn, [&] { return s->which_children(out, capacity, count); });
}

airs_status airs_supervisor_count_children(airs_runtime* h, airs_pid sup,
                                           airs_child_counts* out) {
  const char* fn = "airs_supervisor_count_children";
  Runtime* rt = nullptr;
  std::shared_ptr<Supervisor> s;
  airs_status st = supervisor_of(h, sup, fn, &rt, &s);
  if (st != AIRS_OK) return st;
  if (!out)
    return fail(AIRS_EINVAL, "airs_supervisor_count_children: out is NULL");
  return guarded(fn, [&] { return s->count_children(out); });
}

airs_status airs_set_event_hook(airs_runtime* h, airs_event_fn fn,
                                void* user_data) {
  Runtime* rt = nullptr;
  airs_status st = runtime_of(h, "airs_set_event_hook", &rt);
  if (st != AIRS_OK) return st;
  return guarded("airs_set_event_hook", [&] {
    rt->set_event_hook(fn, user_data);
    return AIRS_OK;
  });
}

}  // extern "C"
