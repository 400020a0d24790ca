/*
 * udp_ping - two actors play ping-pong with UDP datagrams over loopback:
 * 127.0.0.1, and [::1] as well when the host has IPv6 loopback.
 *
 * The ponger opens a UDP socket on 127.0.0.1 (port 0: any free port) and
 * one on [::1] (a host without IPv6 loopback refuses it: that round is
 * skipped with a note), and tells the pinger its addresses. The pinger
 * opens its own sockets and sends PINGS datagrams over each family, one
 * at a time. Each arrives as an AIRS_MSG_SOCK_DATAGRAM, read with
 * airs_datagram_read: the sender's address, then the bytes. The ponger
 * answers each to the address it came from; the pinger checks that the
 * answer came from the ponger and carries the right number, and prints
 * the round trip. Both sockets read with {active, N} credit, re-armed on
 * AIRS_MSG_SOCK_PASSIVE.
 *
 * UDP may lose datagrams, loopback too (rarely): a ping without an answer
 * after RESEND_MS is sent again, up to TRIES times. The program exits 0
 * when every ping came back.
 *
 * Run: ./build/examples/udp_ping (it needs nothing else: loopback only).
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <airs/airs.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
  MSG_START = 1,  /* main -> ponger: the pinger's pid */
  MSG_PEER = 2,   /* ponger -> pinger: a peer (below) */
  MSG_RESEND = 3, /* the pinger's timer: uint64_t send serial */
  MSG_GIVE_UP = 4 /* the pinger's deadline */
};

#define PINGS 10 /* round trips per family */
#define CREDIT 4 /* {active, N} of every socket */
#define RESEND_MS 500
#define TRIES 3

enum { V4 = 0, V6 = 1 };
static const char* const family_name[2] = {"IPv4", "IPv6"};
static const char* const loopback[2] = {"127.0.0.1:0", "[::1]:0"};

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static const char* addr_str(const airs_addr* a, char buf[64]) {
  if (airs_addr_format(a, buf, 64) != AIRS_OK) snprintf(buf, 64, "?");
  return buf;
}

static int same_addr(const airs_addr* a, const airs_addr* b) {
  size_t n = a->family == AIRS_AF_INET4 ? 4 : 16;
  return a->family == b->family && a->port == b->port &&
         memcmp(a->ip, b->ip, n) == 0;
}

/* Opens a UDP socket for `owner` on the loopback of `family`, reading
 * with CREDIT. *skipped (if not NULL) is set when the host has no such
 * loopback: airs_udp_open says EINVAL (no address, or no IPv6 at all)
 * or ESTATE for ::1; anything else is a real failure. */
static airs_status open_loopback(airs_runtime* rt, airs_pid owner, int family,
                                 airs_socket* sock, airs_addr* bound,
                                 int* skipped) {
  airs_addr any;
  airs_socket_opts o;
  airs_addr_parse(loopback[family], &any);
  airs_socket_opts_init(&o);
  o.active = CREDIT;
  airs_status st = airs_udp_open(rt, owner, &any, &o, sock);
  if (st != AIRS_OK && family == V6 && skipped &&
      (st == AIRS_EINVAL || st == AIRS_ESTATE)) {
    printf("note: no IPv6 loopback here (%s: %s); IPv6 is skipped\n",
           airs_strerror(st), airs_last_error_message());
    *skipped = 1;
    return AIRS_OK;
  }
  if (st == AIRS_OK) st = airs_socket_addr(rt, *sock, bound, NULL);
  return st;
}

/* What the ponger tells the pinger: where to ping, per family. */
typedef struct peer {
  int has[2];
  airs_addr addr[2];
} peer;

/* ---- the ponger ---------------------------------------------------------
 * Answers every ping to the address it came from: "ping N" -> "pong N". */

typedef struct ponger {
  airs_socket sock[2];
  uint64_t answered, rearms;
} ponger;

static airs_status ponger_init(void* user_data, airs_ctx* ctx, void** state) {
  (void)user_data;
  (void)ctx;
  ponger* p = calloc(1, sizeof *p);
  if (!p) return AIRS_ENOMEM;
  *state = p;
  return AIRS_OK;
}

static airs_status ponger_start(airs_ctx* ctx, ponger* p, airs_pid pinger) {
  airs_runtime* rt = airs_ctx_runtime(ctx);
  peer me;
  char b[64];
  int skipped = 0;
  memset(&me, 0, sizeof me);
  for (int f = V4; f <= V6; f++) {
    airs_status st = open_loopback(rt, airs_self(ctx), f, &p->sock[f],
                                   &me.addr[f], f == V6 ? &skipped : NULL);
    if (st != AIRS_OK) return st;
    if (f == V6 && skipped) break;
    me.has[f] = 1;
    printf("ponger: %s socket on %s\n", family_name[f],
           addr_str(&me.addr[f], b));
  }
  return airs_ctx_send(ctx, pinger, MSG_PEER, &me, sizeof me);
}

static airs_status ponger_receive(void* state, airs_ctx* ctx,
                                  const airs_msg* msg) {
  ponger* p = state;
  airs_runtime* rt = airs_ctx_runtime(ctx);
  switch (airs_msg_type(msg)) {
    case MSG_START: {
      airs_pid pinger;
      memcpy(&pinger, airs_msg_data(msg), sizeof pinger);
      return ponger_start(ctx, p, pinger);
    }
    case AIRS_MSG_SOCK_DATAGRAM: {
      airs_datagram d;
      const void* bytes;
      airs_status st = airs_datagram_read(msg, &d, &bytes);
      if (st != AIRS_OK) return st;
      char reply[32];
      if (d.size < 5 || d.size >= sizeof reply || memcmp(bytes, "ping ", 5))
        return AIRS_OK; /* not a ping: nothing to answer */
      memcpy(reply, bytes, d.size);
      memcpy(reply, "pong", 4);
      /* The socket is the message's correlation id. A full kernel buffer
       * (EAGAIN) loses the answer, as the network might: the pinger sends
       * again. */
      st = airs_udp_send(rt, airs_msg_correlation(msg), &d.from, reply, d.size);
      if (st == AIRS_OK) p->answered++;
      return st == AIRS_EAGAIN ? AIRS_OK : st;
    }
    case AIRS_MSG_SOCK_PASSIVE:
      p->rearms++;
      return airs_socket_set_active(rt, airs_msg_correlation(msg), CREDIT);
    default: return AIRS_OK;
  }
}

static void ponger_terminate(void* state, airs_ctx* ctx,
                             const airs_reason* reason) {
  (void)ctx;
  (void)reason;
  ponger* p = state;
  printf("ponger: answered %llu pings, re-armed {active, %d} %llu times\n",
         (unsigned long long)p->answered, CREDIT,
         (unsigned long long)p->rearms);
  free(p);
}

static const airs_behaviour ponger_behaviour = {AIRS_BEHAVIOUR_VERSION,
                                                sizeof(airs_behaviour),
                                                ponger_init,
                                                ponger_receive,
                                                ponger_terminate,
                                                NULL,
                                                NULL};

/* ---- the pinger ---------------------------------------------------------
 * Sends ping 1..PINGS over IPv4, then over IPv6, one at a time: the next
 * goes once the answer to the last has come. main reads the outcome once
 * the pinger has ended. */

typedef struct outcome {
  pthread_mutex_t lock;
  int rounds[2]; /* round trips per family */
  int has6, ok;
} outcome;

typedef struct pinger {
  outcome* out;
  peer to;
  airs_socket sock[2];
  airs_addr mine[2];
  int family;      /* the family being pinged */
  uint64_t n;      /* the ping out now, 1..PINGS */
  int tries;       /* sends of ping n so far */
  uint64_t serial; /* sends so far: the timer of the last one is current */
  double sent_us;  /* when ping n was last sent */
  int back[2];     /* answers per family */
  double rtt_min[2], rtt_max[2], rtt_sum[2];
  uint64_t rearms, strays;
} pinger;

static airs_status pinger_init(void* user_data, airs_ctx* ctx, void** state) {
  pinger* p = calloc(1, sizeof *p);
  if (!p) return AIRS_ENOMEM;
  p->out = user_data;
  /* Whatever happens, the demo ends: a lost message must not hang it. */
  airs_msg* m;
  airs_status st = airs_msg_new(MSG_GIVE_UP, NULL, 0, &m);
  if (st == AIRS_OK &&
      (st = airs_send_after(airs_ctx_runtime(ctx), airs_self(ctx), 10000, m,
                            NULL)) != AIRS_OK)
    airs_msg_free(m);
  if (st != AIRS_OK) {
    free(p);
    return st;
  }
  *state = p;
  return AIRS_OK;
}

/* Sends ping n (again, if tries > 0), and a timer to send it again if no
 * answer comes. */
static airs_status pinger_send(airs_ctx* ctx, pinger* p) {
  airs_runtime* rt = airs_ctx_runtime(ctx);
  char text[32];
  int len = snprintf(text, sizeof text, "ping %llu", (unsigned long long)p->n);
  p->tries++;
  p->serial++;
  p->sent_us = now_us();
  airs_status st = airs_udp_send(rt, p->sock[p->family], &p->to.addr[p->family],
                                 text, (size_t)len);
  if (st != AIRS_OK && st != AIRS_EAGAIN) return st; /* EAGAIN: as lost */
  airs_msg* m;
  st = airs_msg_new(MSG_RESEND, &p->serial, sizeof p->serial, &m);
  if (st == AIRS_OK &&
      (st = airs_send_after(rt, airs_self(ctx), RESEND_MS, m, NULL)) != AIRS_OK)
    airs_msg_free(m);
  return st;
}

static airs_status pinger_done(airs_ctx* ctx, pinger* p, int ok) {
  pthread_mutex_lock(&p->out->lock);
  p->out->rounds[V4] = p->back[V4];
  p->out->rounds[V6] = p->back[V6];
  p->out->has6 = p->to.has[V6];
  p->out->ok = ok;
  pthread_mutex_unlock(&p->out->lock);
  printf("pinger: re-armed {active, %d} %llu times; %llu stray datagrams\n",
         CREDIT, (unsigned long long)p->rearms, (unsigned long long)p->strays);
  return airs_exit(ctx, ok ? AIRS_EXIT_NORMAL : AIRS_EXIT_ERROR, 0,
                   ok ? NULL : "pings were lost");
}

/* The next family, or the end. */
static airs_status pinger_next_family(airs_ctx* ctx, pinger* p) {
  char a[64], b[64];
  do p->family++;
  while (p->family <= V6 && !p->to.has[p->family]);
  if (p->family > V6) return pinger_done(ctx, p, 1);
  printf("%s: %s -> %s\n", family_name[p->family],
         addr_str(&p->mine[p->family], a), addr_str(&p->to.addr[p->family], b));
  p->n = 1;
  p->tries = 0;
  return pinger_send(ctx, p);
}

static airs_status pinger_peer(airs_ctx* ctx, pinger* p, const airs_msg* msg) {
  memcpy(&p->to, airs_msg_data(msg), sizeof p->to);
  for (int f = V4; f <= V6; f++) {
    int skipped = 0;
    if (!p->to.has[f]) continue;
    airs_status st =
        open_loopback(airs_ctx_runtime(ctx), airs_self(ctx), f, &p->sock[f],
                      &p->mine[f], f == V6 ? &skipped : NULL);
    if (st != AIRS_OK) return st;
    if (skipped) p->to.has[f] = 0;
  }
  p->family = -1;
  return pinger_next_family(ctx, p);
}

/* An answer: from the ponger's address on this family, and for ping n;
 * anything else (a late answer to a ping sent twice) is a stray. */
static airs_status pinger_answer(airs_ctx* ctx, pinger* p,
                                 const airs_msg* msg) {
  double rtt = now_us() - p->sent_us;
  airs_datagram d;
  const void* bytes;
  airs_status st = airs_datagram_read(msg, &d, &bytes);
  if (st != AIRS_OK) return st;
  char want[32], from[64];
  int len = snprintf(want, sizeof want, "pong %llu", (unsigned long long)p->n);
  if (p->family > V6 || airs_msg_correlation(msg) != p->sock[p->family] ||
      !same_addr(&d.from, &p->to.addr[p->family]) || d.size != (uint32_t)len ||
      memcmp(bytes, want, (size_t)len) != 0) {
    p->strays++;
    return AIRS_OK;
  }
  int f = p->family;
  printf("  %s ping %2llu: \"%.*s\" from %s in %6.1f us%s\n", family_name[f],
         (unsigned long long)p->n, (int)d.size, (const char*)bytes,
         addr_str(&d.from, from), rtt, p->tries > 1 ? " (sent again)" : "");
  if (p->back[f] == 0 || rtt < p->rtt_min[f]) p->rtt_min[f] = rtt;
  if (rtt > p->rtt_max[f]) p->rtt_max[f] = rtt;
  p->rtt_sum[f] += rtt;
  p->back[f]++;
  if (p->n == PINGS) {
    printf(
        "%s: %d of %d came back; round trip min %.1f / mean %.1f / "
        "max %.1f us\n",
        family_name[f], p->back[f], PINGS, p->rtt_min[f],
        p->rtt_sum[f] / p->back[f], p->rtt_max[f]);
    return pinger_next_family(ctx, p);
  }
  p->n++;
  p->tries = 0;
  return pinger_send(ctx, p);
}

static airs_status pinger_receive(void* state, airs_ctx* ctx,
                                  const airs_msg* msg) {
  pinger* p = state;
  switch (airs_msg_type(msg)) {
    case MSG_PEER: return pinger_peer(ctx, p, msg);
    case AIRS_MSG_SOCK_DATAGRAM: return pinger_answer(ctx, p, msg);
    case AIRS_MSG_SOCK_PASSIVE:
      p->rearms++;
      return airs_socket_set_active(airs_ctx_runtime(ctx),
                                    airs_msg_correlation(msg), CREDIT);
    case MSG_RESEND: {
      uint64_t serial;
      memcpy(&serial, airs_msg_data(msg), sizeof serial);
      /* The timer of an earlier send, answered since: nothing to do. (The
       * pinger does not cancel timers: one may have fired already, its
       * message on the way, when the answer comes.) */
      if (serial != p->serial) return AIRS_OK;
      if (p->tries >= TRIES) {
        printf("%s ping %llu: no answer after %d tries\n",
               family_name[p->family], (unsigned long long)p->n, TRIES);
        return pinger_done(ctx, p, 0);
      }
      printf("%s ping %llu: no answer in %d ms, sent again\n",
             family_name[p->family], (unsigned long long)p->n, RESEND_MS);
      return pinger_send(ctx, p);
    }
    case MSG_GIVE_UP:
      printf("pinger: gave up waiting\n");
      return pinger_done(ctx, p, 0);
    default: return AIRS_OK;
  }
}

static void pinger_terminate(void* state, airs_ctx* ctx,
                             const airs_reason* reason) {
  (void)ctx;
  (void)reason;
  free(state);
}

static const airs_behaviour pinger_behaviour = {AIRS_BEHAVIOUR_VERSION,
                                                sizeof(airs_behaviour),
                                                pinger_init,
                                                pinger_receive,
                                                pinger_terminate,
                                                NULL,
                                                NULL};

#define CHECK(call)                                                      \
  do {                                                                   \
    airs_status st_ = (call);                                            \
    if (st_ != AIRS_OK) {                                                \
      fprintf(stderr, "%s failed: %s (%s)\n", #call, airs_strerror(st_), \
              airs_last_error_message());                                \
      return 1;                                                          \
    }                                                                    \
  } while (0)

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0); /* each line as it happens */
  CHECK(AIRS_CHECK_ABI());
  airs_config* cfg;
  CHECK(airs_config_new(&cfg));
  CHECK(airs_config_set(cfg, AIRS_CFG_WORKERS, 2));
  airs_runtime* rt;
  airs_status st = airs_runtime_new(cfg, &rt);
  airs_config_free(cfg);
  CHECK(st);

  static outcome out = {PTHREAD_MUTEX_INITIALIZER, {0, 0}, 0, 0};
  airs_pid ponger_pid, pinger_pid;
  CHECK(airs_spawn(rt, &ponger_behaviour, NULL, NULL, NULL, &ponger_pid));
  CHECK(airs_spawn(rt, &pinger_behaviour, &out, NULL, NULL, &pinger_pid));
  CHECK(airs_send(rt, ponger_pid, MSG_START, &pinger_pid, sizeof pinger_pid));
  CHECK(airs_wait(rt, pinger_pid, 30000));

  /* The ponger's terminate prints its count as the runtime stops it. */
  airs_runtime_free(rt);

  pthread_mutex_lock(&out.lock);
  int ok = out.ok && out.rounds[V4] == PINGS &&
           (!out.has6 || out.rounds[V6] == PINGS);
  printf("%s: %d of %d IPv4 round trips, ", ok ? "all came back" : "FAILED",
         out.rounds[V4], PINGS);
  if (out.has6)
    printf("%d of %d IPv6 round trips\n", out.rounds[V6], PINGS);
  else
    printf("IPv6 skipped\n");
  pthread_mutex_unlock(&out.lock);
  return ok ? 0 : 1;
}
