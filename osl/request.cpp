// request.cpp - sending a request to a system actor (request.hpp).
#include "request.hpp"

#include "base/error.hpp"

namespace airs::osl {

airs_status find_actor(const char* fn, airs_runtime* rt, const char* name,
                       airs_pid* to) noexcept {
  airs_status st = airs_whereis(rt, name, to);
  if (st == AIRS_ENOTFOUND)
    return failf(st, "%s: no process is registered as %s", fn, name);
  return st;  // a freed runtime: airs_whereis said why
}

airs_status request_actor(airs_ctx* ctx, airs_pid to, airs_msg* m,
                          uint32_t timeout_ms, uint64_t* correlation) noexcept {
  airs_status st = airs_request(ctx, to, m, timeout_ms, correlation);
  if (st != AIRS_OK) airs_msg_free(m);  // not sent: still ours
  return st;
}

airs_status call_actor(airs_runtime* rt, airs_pid to, airs_msg* m,
                       uint32_t timeout_ms, airs_msg** reply) noexcept {
  airs_status st = airs_call(rt, to, m, timeout_ms, reply);
  if (st != AIRS_OK && st != AIRS_ETIMEDOUT && st != AIRS_EEXITED)
    airs_msg_free(m);  // not sent: still ours
  return st;
}

}  // namespace airs::osl
