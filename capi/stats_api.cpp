// stats_api.cpp - the counters of a whole runtime.
#include "capi.hpp"

using namespace airs;
using namespace airs::capi;

extern "C" {

airs_status airs_runtime_stats_get(airs_runtime* h, airs_runtime_stats* out) {
  return api("airs_runtime_stats_get", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    Runtime* rt = use.runtime();
    if (!out) return fail(AIRS_EINVAL, "out is NULL");
    // Version 1 is every field of today's struct; a later version is a
    // larger struct whose first part is this one.
    if (out->version < 1 || out->size < sizeof(airs_runtime_stats))
      return failf(AIRS_EINVAL,
                   "stats version %u / size %u is not supported (set "
                   "AIRS_RUNTIME_STATS_VERSION and sizeof)",
                   out->version, out->size);
    Kernel& k = rt->kernel();
    WorkerCounts w;
    k.sched.add_counters(&w);
    airs_runtime_stats s = *out;
    k.observer.stats(w, &s);
    *out = s;
    return AIRS_OK;
  });
}

}  // extern "C"
