// request_api.cpp - request/reply.
#include "capi.hpp"

using namespace airs;
using namespace airs::capi;

extern "C" {

airs_status airs_request(airs_ctx* ctx, airs_pid to, airs_msg* msg,
                         uint32_t timeout_ms, uint64_t* correlation) {
  const char* fn = "airs_request";
  Ctx* c = nullptr;
  airs_status st = ctx_of(ctx, fn, &c);
  if (st != AIRS_OK) return st;
  if (!msg || !correlation)
    return fail(AIRS_EINVAL, "airs_request: msg or correlation is NULL");
  if (timeout_ms == 0 || timeout_ms > 0x7FFFFFFFu)
    return fail(AIRS_EINVAL, "airs_request: timeout_ms must be in 1..2^31-1");
  if (c->rt->shutting_down())
    return fail(AIRS_ESTATE, "airs_request: the runtime is shutting down");
  return guarded(fn, [&] {
    return c->rt->requests().request(c, to, msg, timeout_ms, correlation);
  });
}

airs_status airs_call(airs_runtime* h, airs_pid to, airs_msg* msg,
                      uint32_t timeout_ms, airs_msg** reply) {
  const char* fn = "airs_call";
  Runtime* rt = nullptr;
  airs_status st = runtime_of(h, fn, &rt);
  if (st != AIRS_OK) return st;
  if (!msg || !reply)
    return fail(AIRS_EINVAL, "airs_call: msg or reply is NULL");
  if (timeout_ms == 0 || timeout_ms > 0x7FFFFFFFu)
    return fail(AIRS_EINVAL, "airs_call: timeout_ms must be in 1..2^31-1");
  if (current_ctx())
    return fail(AIRS_ESTATE,
                "airs_call: blocks, so not inside a callback (use "
                "airs_request)");
  Msg* r = nullptr;
  st =
      guarded(fn, [&] { return rt->requests().call(to, msg, timeout_ms, &r); });
  if (st == AIRS_OK) *reply = r;
  return st;
}

airs_status airs_reply(airs_ctx* ctx, const airs_msg* request,
                       airs_msg* reply) {
  const char* fn = "airs_reply";
  Ctx* c = nullptr;
  airs_status st = ctx_of(ctx, fn, &c);
  if (st != AIRS_OK) return st;
  if (!request || !reply)
    return fail(AIRS_EINVAL, "airs_reply: request or reply is NULL");
  if (request->correlation == 0)
    return fail(AIRS_EINVAL,
                "airs_reply: the request has no correlation id (not a "
                "request)");
  c->rt->requests().reply(c, request->correlation, reply);
  return AIRS_OK;
}

}  // extern "C"
