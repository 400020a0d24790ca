// stats_api.cpp - the counters of a whole runtime.
#include "capi.hpp"

using namespace airs;
using namespace airs::capi;

extern "C" {

airs_status airs_runtime_stats_get(airs_runtime* h, airs_runtime_stats* out) {
  const char* fn = "airs_runtime_stats_get";
  Runtime* rt = nullptr;
  airs_status st = runtime_of(h, fn, &rt);
  if (st != AIRS_OK) return st;
  if (!out) return failf(AIRS_EINVAL, "%s: out is NULL", fn);
  // Version 1 is every field of today's struct; a later version is a
  // larger struct whose first part is this one.
  if (out->version < 1 || out->size < sizeof(airs_runtime_stats))
    return failf(AIRS_EINVAL,
                 "%s: stats version %u / size %u is not supported (set "
                 "AIRS_RUNTIME_STATS_VERSION and sizeof)",
                 fn, out->version, out->size);
  return guarded(fn, [&] {
    airs_runtime_stats s = *out;
    rt->stats(&s);
    *out = s;
    return AIRS_OK;
  });
}

}  // extern "C"
