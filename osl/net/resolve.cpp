// resolve.cpp - name resolution for the network actor: getaddrinfo may
// block for seconds (DNS), so it runs as a SLOW job on the blocking pool
// (io.h), where stuck lookups cannot starve file jobs. The job's
// completion carries the request's correlation id back to the actor,
// which answers with airs_reply_to; the actor is free meanwhile.
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "net.hpp"
#include "reply.hpp"

namespace airs::osl {

namespace {

// A resolve job's completion: made on the pool thread, read by the actor.
constexpr uint64_t kMsgResolved = AIRS_MSG_NET_BASE + 0x7F;

struct ResolveJob {
  uint64_t correlation;
  uint16_t port;
  char host[AIRS_NET_HOST_MAX];
};

struct Resolved {
  uint64_t correlation;
  airs_osl_result result;
  airs_net_reply reply;
};

void to_addr(const sockaddr* sa, uint16_t port, airs_addr* out) noexcept {
  memset(out, 0, sizeof *out);
  out->port = port;
  if (sa->sa_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    out->family = AIRS_AF_INET6;
    out->scope_id = in6->sin6_scope_id;
    memcpy(out->ip, &in6->sin6_addr, 16);
  } else {
    auto* in4 = reinterpret_cast<const sockaddr_in*>(sa);
    out->family = AIRS_AF_INET4;
    memcpy(out->ip, &in4->sin_addr, 4);
  }
}

// The lookup, into r: its addresses (IPv4 and IPv6, one per address), or
// why there are none.
void lookup(const ResolveJob& job, Resolved* r) noexcept {
  addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;  // one entry per address, not per type
  addrinfo* list = nullptr;
  int rc = getaddrinfo(job.host, nullptr, &hints, &list);
  if (rc != 0) {
    int err = rc == EAI_SYSTEM ? errno : 0;
    airs_status st = rc == EAI_NONAME || rc == EAI_NODATA ? AIRS_ENOTFOUND
                     : rc == EAI_MEMORY                   ? AIRS_ENOMEM
                                                          : AIRS_EOS;
    result_set(&r->result, st, err, "resolve %s: %s", job.host,
               rc == EAI_SYSTEM ? "system error" : gai_strerror(rc));
    return;
  }
  for (addrinfo* ai = list; ai && r->reply.count < AIRS_NET_ADDRS_MAX;
       ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    to_addr(ai->ai_addr, job.port, &r->reply.addrs[r->reply.count++]);
  }
  freeaddrinfo(list);
}

// [a pool thread]
airs_msg* resolve_run(void* arg) {
  auto* job = static_cast<ResolveJob*>(arg);
  auto* r = static_cast<Resolved*>(calloc(1, sizeof(Resolved)));
  if (r == nullptr) return nullptr;  // the requester times out
  r->correlation = job->correlation;
  lookup(*job, r);
  airs_msg* m = nullptr;
  if (airs_msg_new_owned(kMsgResolved, r, sizeof *r, free, &m) != AIRS_OK) {
    free(r);
    return nullptr;
  }
  return m;
}

}  // namespace

airs_status resolve_start(airs_ctx* ctx, const airs_net_req& req,
                          uint64_t correlation) noexcept {
  size_t len = strnlen(req.host, sizeof req.host);
  auto refuse = [&](airs_status st, const char* why) {
    airs_osl_result r;
    result_set(&r, st, 0, "resolve: %s", why);
    airs_msg* m = reply_msg(AIRS_MSG_NET_REPLY, &r, nullptr, 0);
    if (m == nullptr) return AIRS_ENOMEM;
    airs_status sent = airs_reply_to(ctx, correlation, m);
    if (sent != AIRS_OK) airs_msg_free(m);
    return sent;
  };
  if (len == 0) return refuse(AIRS_EINVAL, "the host name is empty");
  if (len == sizeof req.host)
    return refuse(AIRS_EINVAL, "the host name is not NUL-terminated");
  auto* job = static_cast<ResolveJob*>(malloc(sizeof(ResolveJob)));
  if (job == nullptr) return refuse(AIRS_ENOMEM, "no memory for the job");
  job->correlation = correlation;
  job->port = req.addr.port;
  memcpy(job->host, req.host, len + 1);
  airs_job j;
  airs_job_init(&j);
  j.job_class = AIRS_JOB_SLOW;
  j.run = resolve_run;
  j.arg = job;
  j.arg_free = free;
  j.reply_to = airs_self(ctx);
  airs_status st = airs_job_submit(airs_ctx_runtime(ctx), &j, nullptr);
  if (st != AIRS_OK) return refuse(st, airs_last_error_message());
  return AIRS_OK;
}

bool resolve_done(airs_ctx* ctx, const airs_msg* msg) noexcept {
  if (airs_msg_type(msg) != kMsgResolved || airs_msg_sender(msg) != 0 ||
      airs_msg_size(msg) != sizeof(Resolved))
    return false;
  const auto* r = static_cast<const Resolved*>(airs_msg_data(msg));
  airs_msg* reply =
      reply_msg(AIRS_MSG_NET_REPLY, &r->result, &r->reply, sizeof r->reply);
  if (reply != nullptr && airs_reply_to(ctx, r->correlation, reply) != AIRS_OK)
    airs_msg_free(reply);
  return true;
}

}  // namespace airs::osl
