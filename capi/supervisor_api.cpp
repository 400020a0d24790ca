// supervisor_api.cpp - supervisor specs, starting supervisors, the
// operations on them, and the event hook.
#include <new>
#include <string>

#include "capi.hpp"
#include "supervision/sup_spec.hpp"
#include "supervision/supervisor.hpp"

using namespace airs;
using namespace airs::capi;

namespace {

void free_user_data(const airs_child_spec* c) {
  ErrorKeep keep;  // user code may fail calls of its own
  if (c && c->user_data_free) c->user_data_free(c->user_data);
}

// The supervisor `sup` names, with a clear status when there is none.
airs_status supervisor_of(const RuntimeUse& use, airs_pid sup,
                          std::shared_ptr<Supervisor>* out) {
  if (use.status() != AIRS_OK) return use.status();
  return use.runtime()->supervision().find(sup, out);
}

}  // namespace

extern "C" {

airs_status airs_sup_flags_init(airs_sup_flags* flags) {
  return api("airs_sup_flags_init", [&] {
    if (!flags) return fail(AIRS_EINVAL, "flags is NULL");
    sup_flags_defaults(flags);
    return AIRS_OK;
  });
}

airs_status airs_child_spec_init(airs_child_spec* spec) {
  return api("airs_child_spec_init", [&] {
    if (!spec) return fail(AIRS_EINVAL, "spec is NULL");
    child_spec_defaults(spec);
    return AIRS_OK;
  });
}

airs_status airs_sup_spec_new(const airs_sup_flags* flags,
                              airs_sup_spec** out) {
  return api("airs_sup_spec_new", [&] {
    if (!out) return fail(AIRS_EINVAL, "out is NULL");
    airs_sup_flags f;
    sup_flags_defaults(&f);
    if (flags) {
      airs_status st = check_sup_flags(flags);
      if (st != AIRS_OK) return st;
      f = *flags;
      f.size = sizeof f;
    }
    auto* s = new (std::nothrow) airs_sup_spec;
    if (!s) return fail(AIRS_ENOMEM, "out of memory");
    s->flags = f;
    *out = s;
    return AIRS_OK;
  });
}

airs_status airs_sup_spec_add_child(airs_sup_spec* spec,
                                    const airs_child_spec* child) {
  return api("airs_sup_spec_add_child", [&] {
    airs_status st = sup_spec_add_child(spec, child);
    if (st != AIRS_OK) free_user_data(child);
    return st;
  });
}

void airs_sup_spec_free(airs_sup_spec* spec) {
  sup_spec_release(spec);
}

airs_status airs_supervisor_start(airs_runtime* h, const airs_sup_spec* spec,
                                  airs_pid* out) {
  return api("airs_supervisor_start", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    Runtime* rt = use.runtime();
    if (!spec || !out) return fail(AIRS_EINVAL, "spec or out is NULL");
    return rt->supervision().start(const_cast<airs_sup_spec*>(spec), out);
  });
}

airs_status airs_supervisor_start_child(airs_runtime* h, airs_pid sup,
                                        const airs_child_spec* child,
                                        airs_pid* out) {
  return api("airs_supervisor_start_child", [&] {
    RuntimeUse use(h);
    std::shared_ptr<Supervisor> s;
    ChildRec rec;
    airs_status st = supervisor_of(use, sup, &s);
    if (st == AIRS_OK && !child) st = fail(AIRS_EINVAL, "child is NULL");
    if (st == AIRS_OK) st = make_child_rec(child, s->flags(), false, &rec);
    if (st != AIRS_OK) {
      free_user_data(child);
      return st;
    }
    // From here the record owns user_data.
    return s->start_child(std::move(rec), out);
  });
}

airs_status airs_supervisor_start_dynamic_child(airs_runtime* h, airs_pid sup,
                                                void* arg,
                                                void (*arg_free)(void*),
                                                airs_pid* out) {
  return api("airs_supervisor_start_dynamic_child", [&] {
    RuntimeUse use(h);
    std::shared_ptr<Supervisor> s;
    airs_status st = supervisor_of(use, sup, &s);
    if (st != AIRS_OK) {
      ErrorKeep keep;
      if (arg_free) arg_free(arg);
      return st;
    }
    return s->start_dynamic_child(arg, arg_free, out);
  });
}

airs_status airs_supervisor_terminate_child(airs_runtime* h, airs_pid sup,
                                            const char* id) {
  return api("airs_supervisor_terminate_child", [&] {
    RuntimeUse use(h);
    std::shared_ptr<Supervisor> s;
    airs_status st = supervisor_of(use, sup, &s);
    if (st != AIRS_OK) return st;
    if (!id) return fail(AIRS_EINVAL, "id is NULL");
    return s->terminate_child(id, 0);
  });
}

airs_status airs_supervisor_terminate_child_pid(airs_runtime* h, airs_pid sup,
                                                airs_pid child) {
  return api("airs_supervisor_terminate_child_pid", [&] {
    RuntimeUse use(h);
    std::shared_ptr<Supervisor> s;
    airs_status st = supervisor_of(use, sup, &s);
    if (st != AIRS_OK) return st;
    return s->terminate_child(nullptr, child);
  });
}

airs_status airs_supervisor_restart_child(airs_runtime* h, airs_pid sup,
                                          const char* id, airs_pid* out) {
  return api("airs_supervisor_restart_child", [&] {
    RuntimeUse use(h);
    std::shared_ptr<Supervisor> s;
    airs_status st = supervisor_of(use, sup, &s);
    if (st != AIRS_OK) return st;
    if (!id) return fail(AIRS_EINVAL, "id is NULL");
    return s->restart_child(id, out);
  });
}

airs_status airs_supervisor_delete_child(airs_runtime* h, airs_pid sup,
                                         const char* id) {
  return api("airs_supervisor_delete_child", [&] {
    RuntimeUse use(h);
    std::shared_ptr<Supervisor> s;
    airs_status st = supervisor_of(use, sup, &s);
    if (st != AIRS_OK) return st;
    if (!id) return fail(AIRS_EINVAL, "id is NULL");
    return s->delete_child(id);
  });
}

airs_status airs_supervisor_which_children(airs_runtime* h, airs_pid sup,
                                           airs_child_info* out,
                                           size_t capacity, size_t* count) {
  return api("airs_supervisor_which_children", [&] {
    RuntimeUse use(h);
    std::shared_ptr<Supervisor> s;
    airs_status st = supervisor_of(use, sup, &s);
    if (st != AIRS_OK) return st;
    if (!count) return fail(AIRS_EINVAL, "count is NULL");
    if (!out && capacity > 0)
      return fail(AIRS_EINVAL, "out is NULL but capacity is not 0");
    return s->which_children(out, capacity, count);
  });
}

airs_status airs_supervisor_count_children(airs_runtime* h, airs_pid sup,
                                           airs_child_counts* out) {
  return api("airs_supervisor_count_children", [&] {
    RuntimeUse use(h);
    std::shared_ptr<Supervisor> s;
    airs_status st = supervisor_of(use, sup, &s);
    if (st != AIRS_OK) return st;
    if (!out) return fail(AIRS_EINVAL, "out is NULL");
    return s->count_children(out);
  });
}

airs_status airs_set_event_hook(airs_runtime* h, airs_event_fn fn,
                                void* user_data) {
  return api("airs_set_event_hook", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    Runtime* rt = use.runtime();
    if (!rt->kernel().observer.set_event_hook(fn, user_data))
      return fail(AIRS_ENOMEM, "out of memory");
    return AIRS_OK;
  });
}

}  // extern "C"
