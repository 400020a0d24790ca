// net_req.cpp - the network actor's public helpers (osl.h): a request's
// defaults, sending it (from an actor or a thread), reading the reply,
// and the child spec.
#include <cstdio>
#include <cstring>

#include "base/error.hpp"
#include "net.hpp"
#include "request.hpp"

using airs::fail;
using airs::failf;

namespace {

bool is_net_request(uint64_t type) noexcept {
  return type >= AIRS_MSG_NET_CONNECT && type <= AIRS_MSG_NET_RESOLVE;
}

// The checks both senders make, then the message (the request copied).
airs_status make_request(const char* fn, airs_runtime* rt,
                         const airs_net_req* req, airs_pid* to,
                         airs_msg** out) {
  if (req->version != AIRS_NET_REQ_VERSION || req->size < sizeof *req)
    return failf(AIRS_EINVAL, "%s: req version %u size %u (want %u, %zu)", fn,
                 req->version, req->size, AIRS_NET_REQ_VERSION, sizeof *req);
  if (!is_net_request(req->type))
    return failf(AIRS_EINVAL, "%s: type %#llx is not a network request", fn,
                 static_cast<unsigned long long>(req->type));
  airs_status st = airs::osl::find_actor(fn, rt, AIRS_OSL_NET_NAME, to);
  if (st != AIRS_OK) return st;
  if (airs_msg_new(req->type, req, sizeof *req, out) != AIRS_OK)
    return failf(AIRS_ENOMEM, "%s: no memory for the request", fn);
  return AIRS_OK;
}

}  // namespace

extern "C" {

AIRS_API airs_status airs_net_req_init(airs_net_req* req, uint64_t type) {
  if (req == nullptr)
    return fail(AIRS_EINVAL, "airs_net_req_init: req is NULL");
  if (!is_net_request(type))
    return failf(AIRS_EINVAL,
                 "airs_net_req_init: type %#llx is not a network request",
                 static_cast<unsigned long long>(type));
  memset(req, 0, sizeof *req);
  req->version = AIRS_NET_REQ_VERSION;
  req->size = sizeof *req;
  req->type = type;
  req->addr.family = AIRS_AF_INET4;
  airs_socket_opts_init(&req->opts);
  return AIRS_OK;
}

AIRS_API airs_status airs_net_request(airs_ctx* ctx, const airs_net_req* req,
                                      uint32_t timeout_ms,
                                      uint64_t* correlation) {
  if (ctx == nullptr || req == nullptr || correlation == nullptr)
    return fail(AIRS_EINVAL,
                "airs_net_request: ctx, req or correlation is NULL");
  airs_runtime* rt = airs_ctx_runtime(ctx);
  if (rt == nullptr)
    return fail(AIRS_ESTATE, "airs_net_request: ctx is not a live callback's");
  airs_pid to;
  airs_msg* m = nullptr;
  airs_status st = make_request("airs_net_request", rt, req, &to, &m);
  if (st != AIRS_OK) return st;
  return airs::osl::request_actor(ctx, to, m, timeout_ms, correlation);
}

AIRS_API airs_status airs_net_call(airs_runtime* rt, const airs_net_req* req,
                                   uint32_t timeout_ms, airs_msg** reply) {
  if (reply != nullptr) *reply = nullptr;
  if (rt == nullptr || req == nullptr || reply == nullptr)
    return fail(AIRS_EINVAL, "airs_net_call: rt, req or reply is NULL");
  airs_pid to;
  airs_msg* m = nullptr;
  airs_status st = make_request("airs_net_call", rt, req, &to, &m);
  if (st != AIRS_OK) return st;
  if (req->owner == 0 && req->type != AIRS_MSG_NET_RESOLVE) {
    airs_msg_free(m);
    return fail(AIRS_EINVAL,
                "airs_net_call: owner is 0 (a thread owns no socket: name a "
                "process)");
  }
  return airs::osl::call_actor(rt, to, m, timeout_ms, reply);
}

AIRS_API airs_status airs_net_reply_get(const airs_msg* reply,
                                        airs_net_reply* out) {
  if (reply == nullptr || out == nullptr)
    return fail(AIRS_EINVAL, "airs_net_reply_get: reply or out is NULL");
  memset(out, 0, sizeof *out);
  if (airs_msg_type(reply) != AIRS_MSG_NET_REPLY ||
      airs_msg_size(reply) < sizeof(airs_osl_result))
    return fail(AIRS_EINVAL, "airs_net_reply_get: not an AIRS_MSG_NET_REPLY");
  size_t rest = airs_msg_size(reply) - sizeof(airs_osl_result);
  if (rest >= sizeof *out)
    memcpy(out,
           static_cast<const char*>(airs_msg_data(reply)) +
               sizeof(airs_osl_result),
           sizeof *out);
  return AIRS_OK;
}

AIRS_API airs_status airs_net_child_spec(airs_child_spec* spec) {
  if (spec == nullptr)
    return fail(AIRS_EINVAL, "airs_net_child_spec: spec is NULL");
  airs_status st = airs_child_spec_init(spec);
  if (st != AIRS_OK) return st;
  spec->id = "net";
  spec->name = AIRS_OSL_NET_NAME;
  spec->behaviour = airs::osl::net_behaviour();
  spec->restart = AIRS_RESTART_PERMANENT;
  return AIRS_OK;
}

}  // extern "C"
