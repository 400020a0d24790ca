// registry_api.cpp - process names.
#include "capi.hpp"

using namespace airs;
using namespace airs::capi;

extern "C" {

airs_status airs_register(airs_runtime* h, const char* name, airs_pid pid) {
  return api("airs_register", [&] {
    Runtime* rt = nullptr;
    airs_status st = runtime_of(h, &rt);
    if (st == AIRS_OK) st = check_name(name, "name");
    if (st != AIRS_OK) return st;
    return rt->registry().add(name, pid);
  });
}

airs_status airs_unregister(airs_runtime* h, const char* name) {
  return api("airs_unregister", [&] {
    Runtime* rt = nullptr;
    airs_status st = runtime_of(h, &rt);
    if (st == AIRS_OK) st = check_name(name, "name");
    if (st != AIRS_OK) return st;
    return rt->registry().remove(name);
  });
}

airs_status airs_whereis(airs_runtime* h, const char* name, airs_pid* out) {
  return api("airs_whereis", [&] {
    Runtime* rt = nullptr;
    airs_status st = runtime_of(h, &rt);
    if (st == AIRS_OK) st = check_name(name, "name");
    if (st != AIRS_OK) return st;
    if (!out) return fail(AIRS_EINVAL, "out is NULL");
    return rt->registry().find(name, out);
  });
}

}  // extern "C"
