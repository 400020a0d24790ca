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
    // Version 1 is every field of today's struct; a later version is a
    // larger struct whose first part is this one.
    if (airs_status st =
            check_versioned_out(out, "stats", "AIRS_RUNTIME_STATS_VERSION");
        st != AIRS_OK)
      return st;
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
