// request_api.cpp - request/reply.
#include "capi.hpp"

using namespace airs;
using namespace airs::capi;

extern "C" {

airs_status airs_request(airs_ctx* ctx, airs_pid to, airs_msg* msg,
                         uint32_t timeout_ms, uint64_t* correlation) {
  return api("airs_request", [&] {
    Ctx* c = nullptr;
    airs_status st = ctx_of(ctx, &c);
    if (st != AIRS_OK) return st;
    if (!msg || !correlation)
      return fail(AIRS_EINVAL, "msg or correlation is NULL");
    if ((st = check_timeout(timeout_ms)) != AIRS_OK) return st;
    return runtime_of(c)->requests().request(c, to, msg, timeout_ms,
                                             correlation);
  });
}

airs_status airs_call(airs_runtime* h, airs_pid to, airs_msg* msg,
                      uint32_t timeout_ms, airs_msg** reply) {
  return api("airs_call", [&] {
    RuntimeUse use(h);
    if (use.status() != AIRS_OK) return use.status();
    Runtime* rt = use.runtime();
    if (!msg || !reply) return fail(AIRS_EINVAL, "msg or reply is NULL");
    if (airs_status st = check_timeout(timeout_ms); st != AIRS_OK) return st;
    if (current_ctx())
      return fail(AIRS_ESTATE,
                  "blocks, so not inside a callback (send a request from "
                  "there)");
    return rt->requests().call(to, msg, timeout_ms, reply);
  });
}

airs_status airs_reply(airs_ctx* ctx, const airs_msg* request,
                       airs_msg* reply) {
  return api("airs_reply", [&] {
    Ctx* c = nullptr;
    airs_status st = ctx_of(ctx, &c);
    if (st != AIRS_OK) return st;
    if (!request || !reply)
      return fail(AIRS_EINVAL, "request or reply is NULL");
    if (request->correlation == 0)
      return fail(AIRS_EINVAL,
                  "the request has no correlation id (not a request)");
    runtime_of(c)->requests().reply(c, request->correlation, reply);
    return AIRS_OK;
  });
}

airs_status airs_reply_to(airs_ctx* ctx, uint64_t correlation,
                          airs_msg* reply) {
  return api("airs_reply_to", [&] {
    Ctx* c = nullptr;
    airs_status st = ctx_of(ctx, &c);
    if (st != AIRS_OK) return st;
    if (!reply) return fail(AIRS_EINVAL, "reply is NULL");
    if (correlation == 0)
      return fail(AIRS_EINVAL, "correlation 0 names no request");
    runtime_of(c)->requests().reply(c, correlation, reply);
    return AIRS_OK;
  });
}

}  // extern "C"
