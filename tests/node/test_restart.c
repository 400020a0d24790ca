/*
 * test_restart.c - nats-server killed and started again while messages
 * flow between two nodes: no message comes twice or out of order, and
 * every message lost is a counted dead letter, on one side or the other.
 *
 * Node "a" (this process) streams numbered messages from one process to
 * a counter on node "b" (a copy of this program, `test_restart child
 * URL`: it prints "ready <counter pid>" and answers MSG_HOWMANY with what
 * it counted, including its runtime's NOCONNECTION dead letters). Midway,
 * the server is killed with SIGKILL and started again on the same port;
 * both nodes reconnect. Then: received + dead letters at a + dead letters
 * at b == sent (give or take the questions that failed, each of which
 * may have been lost itself), 0 out of order, 0 twice.
 */
#define _GNU_SOURCE
#include <airs/airs.h>
#include <airs/broker.h>
#include <airs/node.h>
#include <pthread.h>
#include <stdint.h>

#include "harness.h"

enum {
  MSG_SEQ = 1,    /* a u64 sequence number */
  MSG_GO = 2,     /* to the sender: {pid, u32 n}: n more SEQs there */
  MSG_HOWMANY = 3 /* a request to the counter; reply: struct tally */
};

typedef struct tally {
  uint64_t got, backwards, dead; /* (backwards: out of order or twice) */
  uint64_t last;
} tally;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static tally t; /* b's counter; a's own dead letters */
static uint64_t a_dead;

static void on_dead(void* user_data, airs_pid to, const airs_msg* msg,
                    airs_dead_letter_reason reason) {
  uint64_t* count = (uint64_t*)user_data;
  (void)to;
  if (reason != AIRS_DEAD_LETTER_NOCONNECTION) return;
  if (airs_msg_type(msg) == MSG_HOWMANY) return; /* (a failed question) */
  pthread_mutex_lock(&mu);
  ++*count;
  pthread_mutex_unlock(&mu);
}

/* ---- node b ---------------------------------------------------------------
 */

static airs_status counter_receive(void* state, airs_ctx* ctx,
                                   const airs_msg* msg) {
  (void)state;
  if (airs_msg_type(msg) == MSG_SEQ && airs_msg_size(msg) == 8) {
    uint64_t seq;
    memcpy(&seq, airs_msg_data(msg), 8);
    pthread_mutex_lock(&mu);
    if (t.got > 0 && seq <= t.last) t.backwards++;
    t.last = seq;
    t.got++;
    pthread_mutex_unlock(&mu);
  } else if (airs_msg_type(msg) == MSG_HOWMANY) {
    tally now;
    airs_msg* reply = NULL;
    airs_status st;
    pthread_mutex_lock(&mu);
    now = t;
    pthread_mutex_unlock(&mu);
    st = airs_msg_new(MSG_HOWMANY, &now, sizeof now, &reply);
    return st == AIRS_OK ? airs_reply(ctx, msg, reply) : st;
  }
  return AIRS_OK;
}

static int child_main(const char* url) {
  airs_runtime* rt = child_runtime(2, 0);
  airs_node* node;
  airs_pid counter;
  if (!rt) return 2;
  airs_set_dead_letter_hook(rt, on_dead, &t.dead);
  counter = spawn_with(rt, NULL, counter_receive, NULL);
  if (!(node = child_attach(rt, url, "b"))) return 3;
  printf("ready %llu\n", (unsigned long long)counter);
  fflush(stdout);
  child_leave_at_eof(node, rt);
  return 0;
}

/* ---- node a ---------------------------------------------------------------
 */

static uint64_t next_seq; /* the sender's (its thread only) */

static airs_status sender_receive(void* state, airs_ctx* ctx,
                                  const airs_msg* msg) {
  airs_pid to;
  uint32_t n, i;
  (void)state;
  if (airs_msg_type(msg) != MSG_GO) return AIRS_OK;
  memcpy(&to, airs_msg_data(msg), sizeof to);
  memcpy(&n, (const char*)airs_msg_data(msg) + sizeof to, sizeof n);
  for (i = 0; i < n; i++) {
    uint64_t seq = next_seq++;
    airs_status st = airs_ctx_send(ctx, to, MSG_SEQ, &seq, sizeof seq);
    if (st != AIRS_OK) {
      fprintf(stderr, "sender: %s (%s)\n", airs_strerror(st),
              airs_last_error_message());
      return st;
    }
  }
  return AIRS_OK;
}

/* b's tally, or got = UINT64_MAX if the call failed. */
static tally ask(airs_runtime* rt, airs_pid counter) {
  airs_msg *m = NULL, *reply = NULL;
  tally got;
  memset(&got, 0, sizeof got);
  got.got = UINT64_MAX;
  if (airs_msg_new(MSG_HOWMANY, NULL, 0, &m) != AIRS_OK) return got;
  if (airs_call(rt, counter, m, 2000, &reply) != AIRS_OK) return got;
  if (airs_msg_size(reply) == sizeof got)
    memcpy(&got, airs_msg_data(reply), sizeof got);
  airs_msg_free(reply);
  return got;
}

int main(int argc, char** argv) {
  enum { kBursts = 200, kBurst = 1000 };
  airs_runtime* rt;
  airs_node* a = NULL;
  airs_pid sender, counter = 0;
  node_child b;
  tally seen;
  char url[64];
  pid_t server;
  int port, i;
  uint64_t sent = kBursts * (uint64_t)kBurst, accounted = 0, mine;
  uint64_t failed_asks = 0;
  double end;

  if (argc == 3 && strcmp(argv[1], "child") == 0) return child_main(argv[2]);
  signal(SIGPIPE, SIG_IGN);
  port = free_port();
  snprintf(url, sizeof url, "nats://127.0.0.1:%d", port);
  server = server_start(port);
  rt = runtime_new(2);
  CHECK_ST(airs_set_dead_letter_hook(rt, on_dead, &a_dead), AIRS_OK);
  sender = spawn_with(rt, NULL, sender_receive, NULL);
  a = attach_node(rt, url, "a", NULL);
  if (a == NULL) return CHECK_DONE();
  {
    char* args[] = {argv[0], "child", url, NULL};
    b = node_child_start(args);
    CHECK(sscanf(b.line, "ready %llu", (unsigned long long*)&counter) == 1);
  }
  if (counter == 0) return CHECK_DONE();

  for (i = 0; i < kBursts; i++) {
    unsigned char go[sizeof(airs_pid) + sizeof(uint32_t)];
    uint32_t n = kBurst;
    memcpy(go, &counter, sizeof counter);
    memcpy(go + sizeof counter, &n, sizeof n);
    CHECK_ST(airs_send(rt, sender, MSG_GO, go, sizeof go), AIRS_OK);
    if (i == kBursts / 4) {
      reap(server, SIGKILL);
      server = server_start(port); /* the same port: both reconnect */
    }
    sleep_ms(2);
  }
  /* Until everything sent is accounted for (the reconnects settle). A
   * question that fails may have been lost in flight itself, its request
   * on the way to b or its answer on the way back: then it is one more
   * lost message, counted as a dead letter with no type (what was lost is
   * not known) on one side, so each failed question may add one. */
  end = now_ms() + 20000;
  do {
    seen = ask(rt, counter);
    if (seen.got == UINT64_MAX) failed_asks++;
    pthread_mutex_lock(&mu);
    mine = a_dead;
    pthread_mutex_unlock(&mu);
    if (seen.got != UINT64_MAX) accounted = seen.got + seen.dead + mine;
    if (accounted >= sent) break;
    sleep_ms(20);
  } while (now_ms() < end);
  printf(
      "sent %llu: received %llu, dead letters at a %llu, at b %llu "
      "(failed questions %llu)\n",
      (unsigned long long)sent, (unsigned long long)seen.got,
      (unsigned long long)mine, (unsigned long long)seen.dead,
      (unsigned long long)failed_asks);
  CHECK(accounted >= sent);
  CHECK(accounted <= sent + failed_asks);
  CHECK_EQ(seen.backwards, 0);
  CHECK(seen.got > 0);

  node_child_end(&b, 0);
  airs_node_detach(a);
  airs_runtime_free(rt);
  reap(server, SIGTERM);
  return CHECK_DONE();
}
