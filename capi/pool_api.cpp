// pool_api.cpp - named pools of pids.
#include <cstring>
#include <string>
#include <vector>

#include "capi.hpp"

using namespace airs;
using namespace airs::capi;

namespace {

// The runtime and a valid pool name, or the status that says which is bad.
airs_status enter(airs_runtime* h, const char* pool, const char* fn,
                  Runtime** rt) {
  airs_status st = runtime_of(h, fn, rt);
  if (st == AIRS_OK) st = check_name(pool, "pool name", fn);
  return st;
}

}  // namespace

extern "C" {

airs_status airs_pool_join(airs_runtime* h, const char* pool, airs_pid pid) {
  const char* fn = "airs_pool_join";
  Runtime* rt = nullptr;
  airs_status st = enter(h, pool, fn, &rt);
  if (st != AIRS_OK) return st;
  return guarded(fn, [&] {
    Process* p = rt->live(pid);
    if (!p) return failf(AIRS_ENOPROC, "%s: the process is not alive", fn);
    return rt->pools().join(pool, pid, p);
  });
}

airs_status airs_pool_leave(airs_runtime* h, const char* pool, airs_pid pid) {
  const char* fn = "airs_pool_leave";
  Runtime* rt = nullptr;
  airs_status st = enter(h, pool, fn, &rt);
  if (st != AIRS_OK) return st;
  return guarded(fn, [&] { return rt->pools().leave(pool, pid); });
}

airs_status airs_pool_pick(airs_runtime* h, const char* pool, airs_pick how,
                           airs_pid* out) {
  const char* fn = "airs_pool_pick";
  Runtime* rt = nullptr;
  airs_status st = enter(h, pool, fn, &rt);
  if (st != AIRS_OK) return st;
  if (!out) return failf(AIRS_EINVAL, "%s: out is NULL", fn);
  // A C caller may pass any int: read it as one, never as an out-of-range
  // enum (undefined in C++).
  int raw = 0;
  static_assert(sizeof raw == sizeof how, "airs_pick is an int");
  std::memcpy(&raw, &how, sizeof raw);
  if (raw != AIRS_PICK_ROUND_ROBIN && raw != AIRS_PICK_RANDOM)
    return failf(AIRS_EINVAL, "%s: unknown pick %d", fn, raw);
  airs_pick pick = static_cast<airs_pick>(raw);
  return guarded(fn, [&] {
    uint64_t pid = 0;
    airs_status s = rt->pools().pick(pool, pick, &pid);
    if (s == AIRS_OK) *out = pid;
    return s;
  });
}

airs_status airs_pool_members(airs_runtime* h, const char* pool, airs_pid* out,
                              size_t capacity, size_t* count) {
  const char* fn = "airs_pool_members";
  Runtime* rt = nullptr;
  airs_status st = enter(h, pool, fn, &rt);
  if (st != AIRS_OK) return st;
  if (!count) return failf(AIRS_EINVAL, "%s: count is NULL", fn);
  if (!out && capacity > 0)
    return failf(AIRS_EINVAL, "%s: out is NULL but capacity is %zu", fn,
                 capacity);
  return guarded(fn, [&] {
    std::vector<uint64_t> members = rt->pools().members(pool);
    size_t n = members.size() < capacity ? members.size() : capacity;
    if (n) std::memcpy(out, members.data(), n * sizeof(airs_pid));
    *count = members.size();
    return AIRS_OK;
  });
}

}  // extern "C"
