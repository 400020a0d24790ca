// registry_api.cpp - process names.
#include <cstring>
#include <string>

#include "capi.hpp"

using namespace airs;
using namespace airs::capi;

extern "C" {

airs_status airs_register(airs_runtime* h, const char* name, airs_pid pid) {
  Runtime* rt = nullptr;
  airs_status st = runtime_of(h, "airs_register", &rt);
  if (st == AIRS_OK) st = check_name(name, "name", "airs_register");
  if (st != AIRS_OK) return st;
  return guarded("airs_register", [&] {
    Process* p = rt->live(pid);
    if (!p)
      return fail(AIRS_ENOPROC, "airs_register: the process is not alive");
    return rt->registry().add(name, pid, p);
  });
}

airs_status airs_unregister(airs_runtime* h, const char* name) {
  Runtime* rt = nullptr;
  airs_status st = runtime_of(h, "airs_unregister", &rt);
  if (st == AIRS_OK) st = check_name(name, "name", "airs_unregister");
  if (st != AIRS_OK) return st;
  return guarded("airs_unregister",
                 [&] { return rt->registry().remove(name); });
}

airs_status airs_whereis(airs_runtime* h, const char* name, airs_pid* out) {
  Runtime* rt = nullptr;
  airs_status st = runtime_of(h, "airs_whereis", &rt);
  if (st == AIRS_OK) st = check_name(name, "name", "airs_whereis");
  if (st != AIRS_OK) return st;
  if (!out) return fail(AIRS_EINVAL, "airs_whereis: out is NULL");
  return guarded("airs_whereis", [&] {
    uint64_t pid;
    airs_status s = rt->registry().find(name, &pid);
    if (s == AIRS_OK) *out = pid;
    return s;
  });
}

}  // extern "C"
