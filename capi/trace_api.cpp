// trace_api.cpp - the trace hook of the seeded deterministic mode.
#include "capi.hpp"

using namespace airs;
using namespace airs::capi;

extern "C" {

airs_status airs_runtime_set_trace_hook(airs_runtime* h, airs_trace_fn fn,
                                        void* user_data) {
  return api("airs_runtime_set_trace_hook", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    Runtime* rt = use.runtime();
    SeededPoll* seeded = rt->kernel().seeded.get();
    if (!seeded)
      return fail(AIRS_ESTATE,
                  "the runtime has no seed (set AIRS_CFG_SEED, with "
                  "AIRS_CFG_WORKERS 0)");
    seeded->set_trace(fn, user_data);
    return AIRS_OK;
  });
}

}  // extern "C"
