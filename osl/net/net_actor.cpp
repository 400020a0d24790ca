// net_actor.cpp - the network actor (osl.h): each request opens a socket
// for the owner it names, or starts a resolve; every request gets one
// reply, a failure included. The actor holds nothing between turns, so a
// restart loses only the resolves in flight (their requesters time out).
#include <cstring>

#include "net.hpp"
#include "reply.hpp"

namespace airs::osl {

namespace {

// The request in `msg`, checked: its size, version and type. NULL with a
// reply already sent when it is malformed.
const airs_net_req* read_request(airs_ctx* ctx, const airs_msg* msg,
                                 airs_net_req* copy) noexcept {
  if (airs_msg_size(msg) < sizeof *copy) {
    reply_error(ctx, msg, AIRS_MSG_NET_REPLY, AIRS_EINVAL, 0,
                "a network request of %zu bytes (an airs_net_req is %zu)",
                airs_msg_size(msg), sizeof *copy);
    return nullptr;
  }
  memcpy(copy, airs_msg_data(msg), sizeof *copy);
  if (copy->version != AIRS_NET_REQ_VERSION || copy->size < sizeof *copy) {
    reply_error(ctx, msg, AIRS_MSG_NET_REPLY, AIRS_EINVAL, 0,
                "airs_net_req version %u size %u (want %u, %zu)", copy->version,
                copy->size, AIRS_NET_REQ_VERSION, sizeof *copy);
    return nullptr;
  }
  if (copy->type != airs_msg_type(msg)) {
    reply_error(ctx, msg, AIRS_MSG_NET_REPLY, AIRS_EINVAL, 0,
                "the request's type does not match its message's");
    return nullptr;
  }
  return copy;
}

// Opens the socket a CONNECT, LISTEN or UDP_OPEN asks for, owned by the
// owner the request names (or the requester), and replies with its id.
void open_socket(airs_ctx* ctx, const airs_msg* msg, const airs_net_req& req) {
  airs_runtime* rt = airs_ctx_runtime(ctx);
  airs_pid owner = req.owner ? req.owner : airs_msg_sender(msg);
  const airs_socket_opts* opts = req.has_opts ? &req.opts : nullptr;
  airs_net_reply r;
  memset(&r, 0, sizeof r);
  airs_status st;
  const char* op;
  switch (req.type) {
    case AIRS_MSG_NET_CONNECT:
      op = "connect";
      st = airs_tcp_connect(rt, owner, &req.addr, req.timeout_ms, opts,
                            &r.socket);
      break;
    case AIRS_MSG_NET_LISTEN:
      op = "listen";
      st = airs_tcp_listen(rt, owner, &req.addr, opts, &r.socket);
      break;
    default:
      op = "udp open";
      st = airs_udp_open(rt, owner, &req.addr, opts, &r.socket);
      break;
  }
  if (st == AIRS_OK && req.type != AIRS_MSG_NET_CONNECT)
    st = airs_socket_addr(rt, r.socket, &r.local, nullptr);
  if (st != AIRS_OK) {
    reply_error(ctx, msg, AIRS_MSG_NET_REPLY, st, 0, "%s: %s", op,
                airs_last_error_message());
    return;
  }
  reply_ok(ctx, msg, AIRS_MSG_NET_REPLY, &r, sizeof r);
}

airs_status net_receive(void*, airs_ctx* ctx, const airs_msg* msg) {
  if (resolve_done(ctx, msg)) return AIRS_OK;
  uint64_t type = airs_msg_type(msg);
  if (airs_msg_correlation(msg) == 0) return AIRS_OK;  // not a request
  if (type < AIRS_MSG_NET_CONNECT || type > AIRS_MSG_NET_RESOLVE) {
    reply_error(ctx, msg, AIRS_MSG_NET_REPLY, AIRS_EINVAL, 0,
                "message type %#llx is not a network request",
                static_cast<unsigned long long>(type));
    return AIRS_OK;
  }
  airs_net_req req;
  if (read_request(ctx, msg, &req) == nullptr) return AIRS_OK;
  if (type == AIRS_MSG_NET_RESOLVE)
    resolve_start(ctx, req, airs_msg_correlation(msg));
  else
    open_socket(ctx, msg, req);
  return AIRS_OK;
}

}  // namespace

const airs_behaviour* net_behaviour() noexcept {
  static const airs_behaviour b = {AIRS_BEHAVIOUR_VERSION,
                                   sizeof(airs_behaviour),
                                   nullptr,
                                   net_receive,
                                   nullptr,
                                   nullptr,
                                   nullptr};
  return &b;
}

}  // namespace airs::osl
