/*
 * test_api_request.c - request/reply from <airs/broker.h>: every bad input
 * of airs_request, airs_call, airs_reply and airs_reply_to, and one good
 * path of each.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>

#include "check.h"
#include "helpers.h"

/* The callee: answers every message that carries a correlation id. */
static airs_status echo(recorder* r, airs_ctx* ctx, const airs_msg* msg) {
  airs_msg* reply = NULL;
  (void)r;
  if (airs_msg_correlation(msg) == 0) return AIRS_OK;
  CHECK_ST(airs_msg_new(2, "ok", 2, &reply), AIRS_OK);
  CHECK_ST(airs_reply(ctx, msg, reply), AIRS_OK);
  return AIRS_OK;
}

/* The caller: its misuse from inside a callback, then one request. */
typedef struct caller {
  airs_pid callee;
  airs_pid dead;
  uint64_t correlation;
} caller;

static airs_status ask(recorder* r, airs_ctx* ctx, const airs_msg* msg) {
  caller* c = (caller*)r->arg;
  airs_runtime* rt = airs_ctx_runtime(ctx);
  airs_msg* q = NULL;
  airs_msg* reply = NULL;
  uint64_t corr = 77;
  if (airs_msg_type(msg) != 1) return AIRS_OK; /* the reply, later */
  CHECK_ST(airs_msg_new(1, "q", 1, &q), AIRS_OK);
  CHECK_ST(airs_call(rt, c->callee, q, 100, &reply), AIRS_ESTATE);
  CHECK_ST(airs_request(NULL, c->callee, q, 100, &corr), AIRS_EINVAL);
  CHECK_ST(airs_request(ctx, c->callee, NULL, 100, &corr), AIRS_EINVAL);
  CHECK_ST(airs_request(ctx, c->callee, q, 100, NULL), AIRS_EINVAL);
  CHECK_ST(airs_request(ctx, c->callee, q, 0, &corr), AIRS_EINVAL);
  CHECK_ST(airs_request(ctx, c->callee, q, 0x80000000u, &corr), AIRS_EINVAL);
  CHECK_ST(airs_request(ctx, c->dead, q, 100, &corr), AIRS_ENOPROC);
  CHECK_ST(airs_request(ctx, AIRS_NO_PID, q, 100, &corr), AIRS_ENOPROC);
  CHECK_EQ(corr, 77); /* untouched by every failure */
  CHECK_ST(airs_reply(ctx, NULL, q), AIRS_EINVAL);
  CHECK_ST(airs_reply(ctx, msg, NULL), AIRS_EINVAL);
  CHECK_ST(airs_reply(ctx, msg, q), AIRS_EINVAL); /* msg: no correlation */
  CHECK_ST(airs_request(ctx, c->callee, q, 100, &corr), AIRS_OK);
  CHECK(corr != 77 && corr != 0);
  c->correlation = corr;
  return AIRS_OK;
}

static void test_request(void) {
  airs_runtime* rt = make_runtime(0, 1);
  recorder callee, client, gone;
  caller c;
  airs_pid pc;
  airs_msg* q = NULL;
  airs_msg* reply = NULL;
  CHECK(rt != NULL);
  if (!rt) return;
  memset(&callee, 0, sizeof callee);
  memset(&client, 0, sizeof client);
  memset(&gone, 0, sizeof gone);
  callee.on_msg = echo;
  c.callee = spawn_rec(rt, &callee, NULL);
  c.dead = spawn_rec(rt, &gone, NULL);
  CHECK_ST(airs_kill(rt, c.dead), AIRS_OK);
  poll_all(rt);
  c.correlation = 0;
  client.on_msg = ask;
  client.arg = &c;
  pc = spawn_rec(rt, &client, NULL);
  CHECK_ST(airs_send(rt, pc, 1, NULL, 0), AIRS_OK);
  poll_all(rt);
  /* The request went out and its reply came back, with the id. */
  CHECK_EQ(client.n, 2);
  CHECK_EQ(client.msgs[1].type, 2);
  CHECK_EQ(client.msgs[1].correlation, c.correlation);
  CHECK_EQ(client.msgs[1].sender, c.callee);

  /* Outside a callback: the ctx calls refuse, airs_call works. */
  CHECK_ST(airs_msg_new(1, "q", 1, &q), AIRS_OK);
  CHECK_ST(airs_reply(client.ctx, q, q), AIRS_ESTATE);
  CHECK_ST(airs_request(client.ctx, c.callee, q, 10, NULL), AIRS_ESTATE);
  CHECK_ST(airs_call(NULL, c.callee, q, 10, &reply), AIRS_EINVAL);
  CHECK_ST(airs_call(rt, c.callee, NULL, 10, &reply), AIRS_EINVAL);
  CHECK_ST(airs_call(rt, c.callee, q, 10, NULL), AIRS_EINVAL);
  CHECK_ST(airs_call(rt, c.callee, q, 0, &reply), AIRS_EINVAL);
  CHECK_ST(airs_call(rt, c.dead, q, 10, &reply), AIRS_ENOPROC);
  CHECK(reply == NULL);
  CHECK_ST(airs_call(rt, c.callee, q, 1000, &reply), AIRS_OK);
  CHECK(reply != NULL);
  CHECK_EQ(airs_msg_type(reply), 2);
  CHECK_EQ(airs_msg_size(reply), 2);
  airs_msg_free(reply);
  airs_runtime_free(rt);

  /* A freed runtime. */
  CHECK_ST(airs_msg_new(1, "q", 1, &q), AIRS_OK);
  CHECK_ST(airs_call(rt, c.callee, q, 10, &reply), AIRS_ESTATE);
  airs_msg_free(q);
}

/* A callee that never answers: the blocking call times out. */
static void test_call_timeout(void) {
  airs_runtime* rt = make_runtime(2, 0);
  recorder silent;
  airs_msg* q = NULL;
  airs_msg* reply = NULL;
  airs_pid pid;
  CHECK(rt != NULL);
  if (!rt) return;
  memset(&silent, 0, sizeof silent);
  pid = spawn_rec(rt, &silent, NULL);
  CHECK_ST(airs_msg_new(1, "q", 1, &q), AIRS_OK);
  CHECK_ST(airs_call(rt, pid, q, 20, &reply), AIRS_ETIMEDOUT);
  CHECK(reply == NULL);
  airs_runtime_free(rt);
}

/* A callee that answers later (gen_server's noreply, then reply/2): it
 * keeps the request's correlation id and replies from the turn of
 * another message, with airs_reply_to. */
static airs_status defer(recorder* r, airs_ctx* ctx, const airs_msg* msg) {
  uint64_t* kept = (uint64_t*)r->arg;
  airs_msg* reply = NULL;
  if (airs_msg_correlation(msg) != 0) { /* the request: answer later */
    *kept = airs_msg_correlation(msg);
    return airs_ctx_send(ctx, airs_self(ctx), 9, NULL, 0);
  }
  CHECK_ST(airs_msg_new(3, "later", 5, &reply), AIRS_OK);
  CHECK_ST(airs_reply_to(ctx, 0, reply), AIRS_EINVAL);
  CHECK_ST(airs_reply_to(ctx, *kept, NULL), AIRS_EINVAL);
  CHECK_ST(airs_reply_to(NULL, *kept, reply), AIRS_EINVAL);
  CHECK_ST(airs_reply_to(ctx, *kept, reply), AIRS_OK);
  /* A correlation nobody waits for: consumed, dropped, still OK. */
  CHECK_ST(airs_msg_new(3, "late", 4, &reply), AIRS_OK);
  CHECK_ST(airs_reply_to(ctx, *kept, reply), AIRS_OK);
  return AIRS_OK;
}

/* Host-driven, so that the callee's checks run on this thread. */
static void test_reply_later(void) {
  airs_runtime* rt = make_runtime(0, 0);
  recorder callee;
  uint64_t kept = 0;
  airs_msg* q = NULL;
  airs_msg* reply = NULL;
  airs_pid pid;
  CHECK(rt != NULL);
  if (!rt) return;
  memset(&callee, 0, sizeof callee);
  callee.on_msg = defer;
  callee.arg = &kept;
  pid = spawn_rec(rt, &callee, NULL);
  CHECK_ST(airs_msg_new(1, "q", 1, &q), AIRS_OK);
  CHECK_ST(airs_call(rt, pid, q, 5000, &reply), AIRS_OK);
  CHECK(reply != NULL);
  CHECK_EQ(airs_msg_type(reply), 3);
  CHECK_EQ(airs_msg_size(reply), 5);
  CHECK_EQ(airs_msg_sender(reply), pid);
  CHECK(kept != 0);
  airs_msg_free(reply);
  /* Outside a callback it refuses. */
  CHECK_ST(airs_msg_new(3, "x", 1, &q), AIRS_OK);
  CHECK_ST(airs_reply_to(callee.ctx, kept, q), AIRS_ESTATE);
  airs_msg_free(q);
  airs_runtime_free(rt);
}

int main(void) {
  test_request();
  test_call_timeout();
  test_reply_later();
  return CHECK_DONE();
}
