/*
 * test_osl_net.c - the network actor of <airs/osl.h>: sockets opened for
 * the owner a request names, names resolved on the blocking pool, every
 * bad request answered with a status and a text, never a crash. A probe
 * process owns the sockets; this thread asks with airs_net_call.
 */
#define _GNU_SOURCE /* pthread, clock_gettime */
#include <airs/airs.h>
#include <errno.h>
#include <pthread.h>
#include <unistd.h>

#include "check.h"
#include "helpers.h"
#include "net_probe.h"

#define WAIT_MS 5000
#define CHECK_OK(call) CHECK_EQ((call), AIRS_OK)

/* The network actor alone, registered under its name. */
static airs_pid start_net(airs_runtime* rt) {
  airs_child_spec spec;
  airs_pid pid = 0;
  CHECK_OK(airs_net_child_spec(&spec));
  CHECK_STR(spec.name, AIRS_OSL_NET_NAME);
  CHECK_EQ(spec.restart, AIRS_RESTART_PERMANENT);
  CHECK_OK(airs_spawn(rt, spec.behaviour, NULL, NULL, NULL, &pid));
  CHECK_OK(airs_register(rt, AIRS_OSL_NET_NAME, pid));
  return pid;
}

/* Asks the network actor from this thread; returns the reply's result
 * status (or the call's own failure), the parts in *out. */
static airs_status ask(airs_runtime* rt, const airs_net_req* req,
                       airs_osl_result* res, airs_net_reply* out) {
  airs_msg* reply = NULL;
  airs_status st = airs_net_call(rt, req, WAIT_MS, &reply);
  memset(res, 0, sizeof *res);
  memset(out, 0, sizeof *out);
  if (st != AIRS_OK) return st;
  CHECK_EQ(airs_msg_type(reply), AIRS_MSG_NET_REPLY);
  CHECK_OK(airs_osl_result_get(reply, res));
  CHECK_OK(airs_net_reply_get(reply, out));
  airs_msg_free(reply);
  return (airs_status)res->status;
}

static void test_sockets(void) {
  airs_runtime* rt = make_runtime(2, 0);
  probe* p = probe_new();
  airs_pid owner = probe_spawn(rt, p);
  airs_pid net = start_net(rt);
  airs_net_req req;
  airs_osl_result res;
  airs_net_reply r;
  airs_socket listener;
  uint16_t port;
  probe_msg m;

  /* Listen on any free port: the reply has the socket and the port. */
  CHECK_OK(airs_net_req_init(&req, AIRS_MSG_NET_LISTEN));
  req.owner = owner;
  CHECK_OK(airs_addr_parse("127.0.0.1:0", &req.addr));
  req.has_opts = 1;
  req.opts.active = AIRS_ACTIVE_ALWAYS;
  CHECK_OK(ask(rt, &req, &res, &r));
  CHECK_STR(res.text, "");
  CHECK(r.socket != 0);
  CHECK(r.local.port != 0);
  listener = r.socket;
  port = r.local.port;

  /* Connect to it: the owner gets CONNECTED and the listener's ACCEPTED. */
  CHECK_OK(airs_net_req_init(&req, AIRS_MSG_NET_CONNECT));
  req.owner = owner;
  req.addr.family = AIRS_AF_INET4;
  req.addr.port = port;
  req.addr.ip[0] = 127;
  req.addr.ip[3] = 1;
  req.timeout_ms = 2000;
  CHECK_OK(ask(rt, &req, &res, &r));
  CHECK(r.socket != 0 && r.socket != listener);
  CHECK(probe_wait(p, AIRS_MSG_SOCK_CONNECTED, WAIT_MS, &m));
  CHECK_EQ(m.socket, r.socket);
  CHECK(probe_wait(p, AIRS_MSG_SOCK_ACCEPTED, WAIT_MS, &m));
  CHECK_EQ(m.socket, listener);

  /* The port is taken now: a second listener fails with a reason. */
  CHECK_OK(airs_net_req_init(&req, AIRS_MSG_NET_LISTEN));
  req.owner = owner;
  req.addr.family = AIRS_AF_INET4;
  req.addr.port = port;
  req.addr.ip[0] = 127;
  req.addr.ip[3] = 1;
  req.has_opts = 1;
  req.opts.flags = 0; /* no SO_REUSEADDR */
  CHECK_EQ(ask(rt, &req, &res, &r), AIRS_ESTATE);
  CHECK(strstr(res.text, "listen") != NULL);
  CHECK(strstr(res.text, "in use") != NULL);
  CHECK_EQ(r.socket, 0);

  /* UDP. */
  CHECK_OK(airs_net_req_init(&req, AIRS_MSG_NET_UDP_OPEN));
  req.owner = owner;
  CHECK_OK(airs_addr_parse("[::1]:0", &req.addr));
  CHECK_OK(ask(rt, &req, &res, &r));
  CHECK(r.socket != 0);
  CHECK_EQ(r.local.family, AIRS_AF_INET6);
  CHECK(r.local.port != 0);

  /* A connect refused: the reply gives the socket, its error comes to the
   * owner as a socket message (net.h's semantics). */
  CHECK_OK(airs_net_req_init(&req, AIRS_MSG_NET_CONNECT));
  req.owner = owner;
  CHECK_OK(airs_addr_parse("127.0.0.1:1", &req.addr));
  CHECK_OK(ask(rt, &req, &res, &r));
  CHECK(probe_wait(p, AIRS_MSG_SOCK_ERROR, WAIT_MS, &m));
  CHECK_EQ(m.socket, r.socket);

  /* The sockets belong to their owner: they outlive the network actor. */
  CHECK_OK(airs_kill(rt, net));
  CHECK_OK(airs_wait(rt, net, WAIT_MS));
  CHECK_EQ(airs_socket_count(rt), 4); /* listener, both ends, UDP */
  airs_runtime_free(rt);
  probe_free(p);
}

static void test_resolve(void) {
  airs_runtime* rt = make_runtime(2, 0);
  airs_net_req req;
  airs_osl_result res;
  airs_net_reply r;
  uint32_t i;
  int loopback = 0;
  start_net(rt);
  CHECK_OK(airs_net_req_init(&req, AIRS_MSG_NET_RESOLVE));
  snprintf(req.host, sizeof req.host, "localhost");
  req.addr.port = 8080;
  CHECK_OK(ask(rt, &req, &res, &r)); /* owner 0 is fine for a resolve */
  CHECK(r.count >= 1);
  for (i = 0; i < r.count; i++) {
    CHECK_EQ(r.addrs[i].port, 8080);
    if ((r.addrs[i].family == AIRS_AF_INET4 && r.addrs[i].ip[0] == 127) ||
        (r.addrs[i].family == AIRS_AF_INET6 && r.addrs[i].ip[15] == 1))
      loopback = 1;
  }
  CHECK(loopback);
  /* A numeric address resolves to itself, without DNS. */
  snprintf(req.host, sizeof req.host, "::1");
  CHECK_OK(ask(rt, &req, &res, &r));
  CHECK_EQ(r.count, 1);
  CHECK_EQ(r.addrs[0].family, AIRS_AF_INET6);
  /* A name that is not there (".invalid" never resolves, RFC 6761): not
   * OK, with the lookup's text; ENOTFOUND, or EOS where no resolver
   * answers at all. */
  snprintf(req.host, sizeof req.host, "no-such-host.invalid");
  {
    airs_status st = ask(rt, &req, &res, &r);
    CHECK(st == AIRS_ENOTFOUND || st == AIRS_EOS);
    CHECK(strstr(res.text, "resolve no-such-host.invalid") != NULL);
    CHECK_EQ(r.count, 0);
  }
  /* Bad host names are refused by the actor. */
  req.host[0] = '\0';
  CHECK_EQ(ask(rt, &req, &res, &r), AIRS_EINVAL);
  CHECK(strstr(res.text, "empty") != NULL);
  memset(req.host, 'h', sizeof req.host);
  CHECK_EQ(ask(rt, &req, &res, &r), AIRS_EINVAL);
  CHECK(strstr(res.text, "NUL") != NULL);
  airs_runtime_free(rt);
}

/* From inside an actor: airs_net_request, the reply with its id. */
typedef struct asker {
  uint64_t correlation;
  airs_osl_result res;
  airs_net_reply reply;
  int replies;
  airs_status sent;
} asker;

static airs_status asker_receive(void* state, airs_ctx* ctx,
                                 const airs_msg* msg) {
  asker* a = (asker*)state;
  if (airs_msg_type(msg) == 1) {
    airs_net_req req;
    airs_net_req_init(&req, AIRS_MSG_NET_LISTEN);
    airs_addr_parse("127.0.0.1:0", &req.addr);
    a->sent = airs_net_request(ctx, &req, WAIT_MS, &a->correlation);
    return AIRS_OK;
  }
  if (airs_msg_correlation(msg) == a->correlation &&
      airs_msg_type(msg) == AIRS_MSG_NET_REPLY) {
    airs_osl_result_get(msg, &a->res);
    airs_net_reply_get(msg, &a->reply);
    a->replies++;
    return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
  }
  return AIRS_OK;
}

static void test_from_an_actor(void) {
  airs_runtime* rt = make_runtime(2, 0);
  asker a;
  airs_behaviour b;
  airs_pid pid;
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  b.version = AIRS_BEHAVIOUR_VERSION;
  b.size = sizeof b;
  b.receive = asker_receive;
  start_net(rt);
  CHECK_OK(airs_spawn(rt, &b, &a, NULL, NULL, &pid));
  CHECK_OK(airs_send(rt, pid, 1, NULL, 0));
  CHECK_OK(airs_wait(rt, pid, WAIT_MS));
  CHECK_OK(a.sent);
  CHECK_EQ(a.replies, 1);
  CHECK_OK(a.res.status);
  CHECK(a.reply.socket != 0); /* owned by the asker: closed at its end */
  CHECK_EQ(airs_socket_count(rt), 0);
  airs_runtime_free(rt);
}

static void test_bad_requests(void) {
  airs_runtime* rt = make_runtime(2, 0);
  probe* p = probe_new();
  airs_pid owner = probe_spawn(rt, p);
  airs_net_req req;
  airs_net_reply r;
  airs_osl_result res;
  airs_msg *reply = NULL, *raw = NULL;
  airs_pid net;
  uint64_t corr = 5;

  CHECK_EQ(airs_net_req_init(NULL, AIRS_MSG_NET_CONNECT), AIRS_EINVAL);
  CHECK_EQ(airs_net_req_init(&req, AIRS_MSG_NET_REPLY), AIRS_EINVAL);
  CHECK(strstr(airs_last_error_message(), "not a network request") != NULL);
  CHECK_EQ(airs_net_child_spec(NULL), AIRS_EINVAL);
  CHECK_OK(airs_net_req_init(&req, AIRS_MSG_NET_CONNECT));
  req.owner = owner;
  /* No network actor yet. */
  CHECK_EQ(airs_net_call(rt, &req, WAIT_MS, &reply), AIRS_ENOTFOUND);
  CHECK(strstr(airs_last_error_message(), AIRS_OSL_NET_NAME) != NULL);
  CHECK(reply == NULL);
  net = start_net(rt);
  CHECK_EQ(airs_net_call(NULL, &req, WAIT_MS, &reply), AIRS_EINVAL);
  CHECK_EQ(airs_net_call(rt, NULL, WAIT_MS, &reply), AIRS_EINVAL);
  CHECK_EQ(airs_net_call(rt, &req, WAIT_MS, NULL), AIRS_EINVAL);
  CHECK_EQ(airs_net_call(rt, &req, 0, &reply), AIRS_EINVAL); /* timeout */
  CHECK_EQ(airs_net_request(NULL, &req, WAIT_MS, &corr), AIRS_EINVAL);
  CHECK_EQ(corr, 5);
  req.owner = 0; /* a thread owns no socket */
  CHECK_EQ(airs_net_call(rt, &req, WAIT_MS, &reply), AIRS_EINVAL);
  CHECK(strstr(airs_last_error_message(), "owner is 0") != NULL);
  req.owner = owner;
  req.version = 7;
  CHECK_EQ(airs_net_call(rt, &req, WAIT_MS, &reply), AIRS_EINVAL);
  req.version = AIRS_NET_REQ_VERSION;
  req.type = AIRS_MSG_NET_REPLY;
  CHECK_EQ(airs_net_call(rt, &req, WAIT_MS, &reply), AIRS_EINVAL);
  req.type = AIRS_MSG_NET_CONNECT;
  /* The actor's own checks: a bad family, an owner that is gone. */
  req.addr.family = 9;
  CHECK_EQ(ask(rt, &req, &res, &r), AIRS_EINVAL);
  CHECK(strstr(res.text, "connect") != NULL);
  req.addr.family = AIRS_AF_INET4;
  req.owner = probe_spawn(rt, p);
  CHECK_OK(airs_kill(rt, req.owner));
  CHECK_OK(airs_wait(rt, req.owner, WAIT_MS));
  CHECK_EQ(ask(rt, &req, &res, &r), AIRS_ENOPROC);
  /* Raw requests built by hand: too short, type and body disagreeing, a
   * type in the actor's range that is no request. Each gets a reply. */
  CHECK_OK(airs_msg_new(AIRS_MSG_NET_CONNECT, "x", 1, &raw));
  CHECK_OK(airs_call(rt, net, raw, WAIT_MS, &reply));
  CHECK_OK(airs_osl_result_get(reply, &res));
  CHECK_EQ(res.status, AIRS_EINVAL);
  CHECK(strstr(res.text, "bytes") != NULL);
  airs_msg_free(reply);
  req.owner = owner;
  CHECK_OK(airs_msg_new(AIRS_MSG_NET_LISTEN, &req, sizeof req, &raw));
  CHECK_OK(airs_call(rt, net, raw, WAIT_MS, &reply));
  CHECK_OK(airs_osl_result_get(reply, &res));
  CHECK_EQ(res.status, AIRS_EINVAL);
  CHECK(strstr(res.text, "does not match") != NULL);
  airs_msg_free(reply);
  CHECK_OK(airs_msg_new(AIRS_MSG_NET_BASE + 0x50, NULL, 0, &raw));
  CHECK_OK(airs_call(rt, net, raw, WAIT_MS, &reply));
  CHECK_OK(airs_osl_result_get(reply, &res));
  CHECK_EQ(res.status, AIRS_EINVAL);
  CHECK_EQ(airs_net_reply_get(reply, NULL), AIRS_EINVAL);
  CHECK_EQ(airs_net_reply_get(NULL, &r), AIRS_EINVAL);
  airs_msg_free(reply);
  /* Readers given a message that is not a reply. */
  CHECK_OK(airs_msg_new(42, "abc", 3, &raw));
  CHECK_EQ(airs_net_reply_get(raw, &r), AIRS_EINVAL);
  CHECK_OK(airs_osl_result_get(raw, &res));
  CHECK_EQ(res.status, AIRS_EINVAL);
  CHECK(strstr(res.text, "not a system actor's reply") != NULL);
  CHECK_EQ(airs_osl_result_get(NULL, &res), AIRS_EINVAL);
  CHECK_EQ(airs_osl_result_get(raw, NULL), AIRS_EINVAL);
  airs_msg_free(raw);
  /* The actor is still there after all that. */
  CHECK(airs_is_alive(rt, net));
  airs_runtime_free(rt);
  probe_free(p);
}

int main(void) {
  test_sockets();
  test_resolve();
  test_from_an_actor();
  test_bad_requests();
  return CHECK_DONE();
}
