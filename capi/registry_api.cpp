// registry_api.cpp - process names.
#include "capi.hpp"

using namespace airs;
using namespace airs::capi;

extern "C" {

airs_status airs_register(airs_runtime* h, const char* name, airs_pid pid) {
  return api("airs_register", [&] {
    RuntimeUse use(h);
    airs_status st = use.status();
    if (st == AIRS_OK) st = check_name(name, "name");
    if (st != AIRS_OK) return st;
    Runtime* rt = use.runtime();
    return rt->registry().add(name, pid);
  });
}

airs_status airs_unregister(airs_runtime* h, const char* name) {
  return api("airs_unregister", [&] {
    RuntimeUse use(h);
    airs_status st = use.status();
    if (st == AIRS_OK) st = check_name(name, "name");
    if (st != AIRS_OK) return st;
    Runtime* rt = use.runtime();
    return rt->registry().remove(name);
  });
}

airs_status airs_whereis(airs_runtime* h, const char* name, airs_pid* out) {
  return api("airs_whereis", [&] {
    RuntimeUse use(h);
    airs_status st = use.status();
    if (st == AIRS_OK) st = check_name(name, "name");
    if (st != AIRS_OK) return st;
    Runtime* rt = use.runtime();
    if (!out) return fail(AIRS_EINVAL, "out is NULL");
    return rt->registry().find(name, out);
  });
}

}  // extern "C"
