/*
 * test_wire.c - what a node does with batches no node of ours would send.
 * Anyone who can publish on the server can publish on a node's data
 * subject (<cluster>.node.<name>.data; keeping strangers out is the
 * server's job, with its accounts and permissions): a node must take what
 * comes there without crashing, leaking or holding memory without bound.
 *
 * Node "a" is this process; the batches come from a plain cnats
 * connection of the test, as a node of pid tag 777 that never sent a
 * heartbeat. It checks:
 *   - garbage, a batch cut short, a frame with a bad magic: ignored;
 *   - messages that come in fragments hold at most 256 MiB together: four
 *     64 MiB messages begun and never finished are held, the fifth is
 *     dropped at once (a NOCONNECTION dead letter);
 *   - a fragment that does not follow its message's last one drops it (a
 *     dead letter);
 *   - a whole message from that stranger is delivered, with its sender;
 * and, with a second node "b" (another runtime of this process):
 *   - publishes that fail (the server killed, cnats's buffer full) give
 *     their dead letters to the hook outside the node's locks: a hook
 *     that joins a pool (which the node tells every node, b too) does not
 *     deadlock.
 */
#define _GNU_SOURCE
#include <airs/airs.h>
#include <airs/node.h>
#include <nats/nats.h>
#include <pthread.h>
#include <stdint.h>

#include "harness.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER; /* for WAIT_FOR */
static int dead_noconnection;
static int received;
static airs_pid last_sender;

enum { MSG_DATA = 1, MSG_BLAST = 2 };

static airs_runtime* hook_rt; /* where the hook joins a pool */
static airs_pid hook_member;  /* whom it joins */
static int hook_joins;

/* Counts NOCONNECTION dead letters; for a lost MSG_BLAST it also makes
 * hook_member join and leave pool "watch", which the node tells the
 * other nodes (a frame for each). */
static void on_dead(void* user_data, airs_pid to, const airs_msg* msg,
                    airs_dead_letter_reason reason) {
  int join;
  (void)user_data;
  (void)to;
  pthread_mutex_lock(&mu);
  if (reason == AIRS_DEAD_LETTER_NOCONNECTION) dead_noconnection++;
  join = reason == AIRS_DEAD_LETTER_NOCONNECTION &&
         airs_msg_type(msg) == MSG_BLAST && hook_rt != NULL;
  if (join) hook_joins++;
  pthread_mutex_unlock(&mu);
  if (join && airs_pool_join(hook_rt, "watch", hook_member) == AIRS_OK)
    airs_pool_leave(hook_rt, "watch", hook_member);
}

static airs_status sink_receive(void* state, airs_ctx* ctx,
                                const airs_msg* msg) {
  (void)state;
  (void)ctx;
  pthread_mutex_lock(&mu);
  received++;
  last_sender = airs_msg_sender(msg);
  pthread_mutex_unlock(&mu);
  return AIRS_OK;
}

static int dead_count(void) {
  int n;
  pthread_mutex_lock(&mu);
  n = dead_noconnection;
  pthread_mutex_unlock(&mu);
  return n;
}

/* ---- batches, as node/remote.cpp writes them ----------------------------- */

enum { STRANGER = 777, KIND_MESSAGE = 0, KIND_FRAGMENT = 5 };

static void put_le(unsigned char* p, uint64_t v, int bytes) {
  int i;
  for (i = 0; i < bytes; i++) p[i] = (unsigned char)(v >> (8 * i));
}

typedef struct batch {
  unsigned char bytes[4096];
  size_t size;
} batch;

/* A batch head from the stranger, with stream indexes msgs and sigs. */
static void batch_open(batch* b, uint64_t msgs) {
  memset(b, 0, sizeof *b);
  memcpy(b->bytes, "AIRB", 4);
  b->bytes[4] = 2;
  put_le(b->bytes + 6, STRANGER, 2);
  put_le(b->bytes + 8, msgs, 8);
  put_le(b->bytes + 16, 0, 8);
  b->size = 24;
}

static unsigned char* frame_add(batch* b, uint8_t kind, airs_pid from,
                                airs_pid to, uint64_t type, size_t size) {
  unsigned char* p = b->bytes + b->size;
  memcpy(p, "AIRD", 4);
  p[4] = 2;
  p[5] = 0; /* priority */
  p[6] = kind;
  p[7] = 0;
  put_le(p + 8, from, 8);
  put_le(p + 16, to, 8);
  put_le(p + 24, type, 8);
  put_le(p + 32, 0, 8);
  put_le(p + 40, size, 4);
  b->size += 44 + size;
  return p + 44;
}

/* The first (or a later) fragment of message `id`, `total` bytes long. */
static void fragment_add(batch* b, airs_pid to, uint64_t id, uint32_t total,
                         uint32_t offset, size_t len) {
  unsigned char* d = frame_add(b, KIND_FRAGMENT, (airs_pid)STRANGER << 48 | 1,
                               to, 1, 24 + len);
  memset(d, 0, 24 + len);
  put_le(d, id, 8);
  put_le(d + 8, total, 4);
  put_le(d + 12, offset, 4);
  d[16] = KIND_MESSAGE;
}

static void publish(natsConnection* nc, const char* subject, const void* data,
                    size_t size) {
  CHECK(natsConnection_PublishRequest(nc, subject, "stranger.data", data,
                                      (int)size) == NATS_OK);
  CHECK(natsConnection_Flush(nc) == NATS_OK);
}

int main(void) {
  airs_runtime* rt;
  airs_node* a = NULL;
  natsConnection* nc = NULL;
  const char* subject = "airs.node.a.data";
  char url[64];
  airs_pid sink;
  airs_behaviour beh;
  pid_t server;
  batch b;
  int port, i, before;
  uint64_t msgs = 0; /* the stranger's stream index */

  signal(SIGPIPE, SIG_IGN);
  port = free_port();
  snprintf(url, sizeof url, "nats://127.0.0.1:%d", port);
  server = server_start(port);
  rt = runtime_new(2);
  CHECK_ST(airs_set_dead_letter_hook(rt, on_dead, NULL), AIRS_OK);
  memset(&beh, 0, sizeof beh);
  beh.version = AIRS_BEHAVIOUR_VERSION;
  beh.size = sizeof beh;
  beh.receive = sink_receive;
  CHECK_ST(airs_spawn(rt, &beh, NULL, NULL, NULL, &sink), AIRS_OK);
  a = attach_node(rt, url, "a", NULL);
  if (a == NULL) return CHECK_DONE();
  CHECK(natsConnection_ConnectTo(&nc, url) == NATS_OK);
  if (nc == NULL) return CHECK_DONE();

  /* Garbage, a head cut short, a frame with a bad magic: nothing. */
  publish(nc, subject, "hello", 5);
  batch_open(&b, msgs);
  publish(nc, subject, b.bytes, 12);
  frame_add(&b, KIND_MESSAGE, (airs_pid)STRANGER << 48 | 1, sink, 1, 4);
  memcpy(b.bytes + 24, "XXXX", 4);
  publish(nc, subject, b.bytes, b.size);
  sleep_ms(100);
  CHECK_EQ(dead_count(), 0);
  pthread_mutex_lock(&mu);
  CHECK_EQ(received, 0);
  pthread_mutex_unlock(&mu);

  /* A whole message from the stranger: delivered, with its sender. */
  batch_open(&b, msgs);
  frame_add(&b, KIND_MESSAGE, (airs_pid)STRANGER << 48 | 1, sink, 1, 4);
  publish(nc, subject, b.bytes, b.size);
  msgs++;
  WAIT_FOR(received == 1, 3000);
  pthread_mutex_lock(&mu);
  CHECK_EQ(last_sender, (airs_pid)STRANGER << 48 | 1);
  pthread_mutex_unlock(&mu);

  /* Five 64 MiB messages begun: four are held, the fifth is over the
   * node's 256 MiB for messages in pieces, a dead letter at once. */
  before = dead_count();
  for (i = 0; i < 5; i++) {
    batch_open(&b, msgs);
    fragment_add(&b, sink, 100 + i, 64u << 20, 0, 16);
    publish(nc, subject, b.bytes, b.size);
    msgs++;
  }
  WAIT_FOR(dead_noconnection == before + 1, 3000);
  sleep_ms(100);
  CHECK_EQ(dead_count(), before + 1);

  /* A fragment that does not follow its message's last: the message goes
   * (a dead letter), and its room with it: a new one fits again. */
  batch_open(&b, msgs);
  fragment_add(&b, sink, 100, 64u << 20, 4096, 16); /* not at 16 */
  publish(nc, subject, b.bytes, b.size);
  WAIT_FOR(dead_noconnection == before + 2, 3000);
  batch_open(&b, msgs);
  fragment_add(&b, sink, 200, 64u << 20, 0, 16);
  msgs++;
  publish(nc, subject, b.bytes, b.size);
  sleep_ms(100);
  CHECK_EQ(dead_count(), before + 2);

  natsConnection_Destroy(nc);

  /* The server killed while a sends 60 KiB messages to node b's sink from
   * this thread (each leaves at once): once cnats cannot take them, the
   * publishes fail, and the hook that gets their dead letters joins a
   * pool, which the node tells b (through the same outbound). */
  {
    airs_runtime* rt_b = runtime_new(1);
    airs_node* b = NULL;
    airs_pid b_sink = 0;
    static unsigned char big[60 * 1024];
    double end;
    int sent = 0;
    CHECK_ST(airs_spawn(rt_b, &beh, NULL, NULL, NULL, &b_sink), AIRS_OK);
    b = attach_node(rt_b, url, "b", NULL);
    pthread_mutex_lock(&mu);
    received = 0;
    hook_rt = rt;
    hook_member = sink;
    pthread_mutex_unlock(&mu);
    CHECK_ST(airs_send(rt, b_sink, MSG_DATA, "y", 1), AIRS_OK);
    WAIT_FOR(received == 1, 3000);
    before = dead_count();
    reap(server, SIGKILL);
    end = now_ms() + 1500; /* within the 2 s grace: b is still up */
    while (now_ms() < end && dead_count() == before) {
      CHECK_ST(airs_send(rt, b_sink, MSG_BLAST, big, sizeof big), AIRS_OK);
      sent++;
    }
    printf("%d sends of 60 KiB before the first dead letter\n", sent);
    WAIT_FOR(hook_joins > 0, 3000);
    pthread_mutex_lock(&mu);
    hook_rt = NULL;
    pthread_mutex_unlock(&mu);
    airs_node_detach(b);
    airs_runtime_free(rt_b);
  }
  /* Detached: the messages still in pieces go with the node; nothing
   * leaks (ASan). */
  airs_node_detach(a);
  airs_runtime_free(rt);
  return CHECK_DONE();
}
