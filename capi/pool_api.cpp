// pool_api.cpp - named pools of pids.
#include "capi.hpp"

using namespace airs;
using namespace airs::capi;

namespace {

// The runtime and a valid pool name, or the status that says which is bad.
airs_status enter(const RuntimeUse& use, const char* pool, Runtime** rt) {
  airs_status st = use.status();
  if (st == AIRS_OK) st = check_name(pool, "pool name");
  *rt = use.runtime();
  return st;
}

}  // namespace

extern "C" {

airs_status airs_pool_join(airs_runtime* h, const char* pool, airs_pid pid) {
  return api("airs_pool_join", [&] {
    RuntimeUse use(h);
    Runtime* rt = nullptr;
    airs_status st = enter(use, pool, &rt);
    if (st != AIRS_OK) return st;
    return rt->pools().join(pool, pid);
  });
}

airs_status airs_pool_leave(airs_runtime* h, const char* pool, airs_pid pid) {
  return api("airs_pool_leave", [&] {
    RuntimeUse use(h);
    Runtime* rt = nullptr;
    airs_status st = enter(use, pool, &rt);
    if (st != AIRS_OK) return st;
    return rt->pools().leave(pool, pid);
  });
}

airs_status airs_pool_pick(airs_runtime* h, const char* pool, airs_pick how,
                           airs_pid* out) {
  int pick = as_int(how);
  return api("airs_pool_pick", [&] {
    RuntimeUse use(h);
    Runtime* rt = nullptr;
    airs_status st = enter(use, pool, &rt);
    if (st != AIRS_OK) return st;
    if (!out) return fail(AIRS_EINVAL, "out is NULL");
    return rt->pools().pick(pool, pick, out);
  });
}

airs_status airs_pool_members(airs_runtime* h, const char* pool, airs_pid* out,
                              size_t capacity, size_t* count) {
  return api("airs_pool_members", [&] {
    RuntimeUse use(h);
    Runtime* rt = nullptr;
    airs_status st = enter(use, pool, &rt);
    if (st != AIRS_OK) return st;
    if (!count) return fail(AIRS_EINVAL, "count is NULL");
    if (!out && capacity > 0)
      return failf(AIRS_EINVAL, "out is NULL but capacity is %zu", capacity);
    return rt->pools().members(pool, out, capacity, count);
  });
}

}  // extern "C"
