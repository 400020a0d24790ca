// osl.cpp - airs_osl_start: the system actors under one rest_for_one
// supervisor, in the order of their dependencies (osl.h): the file actor,
// then the process actor, then the network actor. A crash of one restarts
// it and those after it, as OTP's rest_for_one.
#include <cstring>

#include "base/error.hpp"

using airs::fail;
using airs::failf;

namespace {

// The spec of the three, in order: each child spec from its actor's own
// airs_*_child_spec, so that a user's supervisor gets the same children.
airs_status make_spec(const airs_osl_opts& o, airs_sup_spec** out) {
  airs_sup_flags flags;
  airs_status st = airs_sup_flags_init(&flags);
  if (st != AIRS_OK) return st;
  flags.strategy = AIRS_REST_FOR_ONE;
  flags.intensity = o.intensity;
  flags.period_ms = o.period_ms;
  airs_sup_spec* spec = nullptr;
  if ((st = airs_sup_spec_new(&flags, &spec)) != AIRS_OK) return st;
  airs_status (*const children[])(airs_child_spec*) = {
      airs_fs_child_spec, airs_proc_child_spec, airs_net_child_spec};
  for (auto child_spec : children) {
    airs_child_spec c;
    if ((st = child_spec(&c)) != AIRS_OK ||
        (st = airs_sup_spec_add_child(spec, &c)) != AIRS_OK) {
      airs_sup_spec_free(spec);
      return st;
    }
  }
  *out = spec;
  return AIRS_OK;
}

}  // namespace

extern "C" {

AIRS_API airs_status airs_osl_opts_init(airs_osl_opts* opts) {
  if (opts == nullptr)
    return fail(AIRS_EINVAL, "airs_osl_opts_init: opts is NULL");
  memset(opts, 0, sizeof *opts);
  opts->version = AIRS_OSL_OPTS_VERSION;
  opts->size = sizeof *opts;
  opts->intensity = 3;
  opts->period_ms = 5000;
  return AIRS_OK;
}

AIRS_API airs_status airs_osl_start(airs_runtime* rt, const airs_osl_opts* opts,
                                    airs_pid* sup) {
  if (sup != nullptr) *sup = 0;
  if (rt == nullptr || sup == nullptr)
    return fail(AIRS_EINVAL, "airs_osl_start: rt or sup is NULL");
  airs_osl_opts o;
  airs_osl_opts_init(&o);
  if (opts != nullptr) {
    if (opts->version != AIRS_OSL_OPTS_VERSION || opts->size < sizeof o)
      return failf(AIRS_EINVAL,
                   "airs_osl_start: opts version %u size %u (want %u, %zu)",
                   opts->version, opts->size, AIRS_OSL_OPTS_VERSION, sizeof o);
    o = *opts;
  }
  airs_sup_spec* spec = nullptr;
  airs_status st = make_spec(o, &spec);
  if (st != AIRS_OK) return st;  // the failing call said why
  airs_pid pid = 0;
  st = airs_supervisor_start(rt, spec, &pid);
  airs_sup_spec_free(spec);
  if (st != AIRS_OK) return st;
  if (o.name != nullptr && (st = airs_register(rt, o.name, pid)) != AIRS_OK) {
    airs_stop(rt, pid);
    return st;
  }
  *sup = pid;
  return AIRS_OK;
}

}  // extern "C"
