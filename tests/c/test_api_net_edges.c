/*
 * test_api_net_edges.c - the edge paths of sockets owned by processes
 * (<airs/net.h>), through the public API only, on loopback: a peer that
 * resets, a connect that times out, a worker held in a long callback, a process
 * out of fds, a slow reader (back-pressure and acks), a thousand connections,
 * an owner killed with bytes queued, sends from many threads on one socket, a
 * give racing the owner's end, and a host woken by socket I/O alone. Probe
 * processes own the sockets (net_probe.h); plain sockets of this process play
 * the peers the runtime must not control.
 */
#define _GNU_SOURCE /* pthread barriers, clock_gettime, poll, SO_LINGER */
#include <airs/airs.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "helpers.h"
#include "net_probe.h"

#define WAIT_MS 5000
#define CHECK_OK(call) CHECK_EQ((call), AIRS_OK)
/* A condition described in words; evaluates to the condition, so that a
 * failure can print its details after it. */
#define CHECK_REPORT(cond, what) \
  check_report_(!!(cond), __FILE__, __LINE__, what)

/* ---- helpers ------------------------------------------------------------- */

static airs_sock_error error_of(const probe_msg* m) {
  airs_sock_error e;
  memset(&e, 0, sizeof e);
  if (m->size == sizeof e) memcpy(&e, m->data, sizeof e);
  return e;
}

static airs_sock_accepted accepted_of(const probe_msg* m) {
  airs_sock_accepted a;
  memset(&a, 0, sizeof a);
  if (m->size == sizeof a) memcpy(&a, m->data, sizeof a);
  return a;
}

static uint64_t ack_of(const probe_msg* m) {
  uint64_t v = 0;
  if (m->size == sizeof v) memcpy(&v, m->data, sizeof v);
  return v;
}

/* A listener on 127.0.0.1, any port, for `owner` with `active` credit;
 * *bound gets its address. 0 on failure. */
static airs_socket listen_on_loopback(airs_runtime* rt, airs_pid owner,
                                      int32_t active, airs_addr* bound) {
  airs_addr a = loopback4(0);
  airs_socket_opts o;
  airs_socket ls = 0;
  airs_socket_opts_init(&o);
  o.active = active;
  if (airs_tcp_listen(rt, owner, &a, &o, &ls) != AIRS_OK) return 0;
  if (airs_socket_addr(rt, ls, bound, NULL) != AIRS_OK) return 0;
  return ls;
}

static struct sockaddr_in plain_sockaddr(uint16_t port) {
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return sa;
}

/* A plain, blocking TCP socket connected to 127.0.0.1:port (the kernel
 * completes the handshake whether anyone accepts); -1 on failure.
 * rcvbuf > 0: SO_RCVBUF before connecting. */
static int plain_connect(uint16_t port, int rcvbuf) {
  struct sockaddr_in sa = plain_sockaddr(port);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  if (connect(fd, (struct sockaddr*)&sa, sizeof sa) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static uint16_t plain_local_port(int fd) {
  struct sockaddr_in sa;
  socklen_t len = sizeof sa;
  if (getsockname(fd, (struct sockaddr*)&sa, &len) != 0) return 0;
  return ntohs(sa.sin_port);
}

/* Closes with SO_LINGER {1, 0}: the peer gets a reset, not a FIN. */
static void plain_reset(int fd) {
  struct linger l;
  l.l_onoff = 1;
  l.l_linger = 0;
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  close(fd);
}

static int readable(int fd, int ms) {
  struct pollfd pfd;
  pfd.fd = fd;
  pfd.events = POLLIN;
  pfd.revents = 0;
  return poll(&pfd, 1, ms) == 1 && (pfd.revents & POLLIN);
}

/* The lowest fd number free now: the next socket() would get it. */
static int lowest_free_fd(void) {
  int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) close(fd);
  return fd;
}

/* The byte at offset `off` of a test stream: no period a chunk could
 * hide a reordering or a repeat behind. */
static unsigned char pattern_at(uint64_t off) {
  uint32_t x = (uint32_t)(off * 2654435761u);
  x ^= x >> 15;
  x ^= (uint32_t)(off >> 20) * 40503u;
  return (unsigned char)(x ^ (x >> 8));
}

static void fill_pattern(char* buf, size_t n, uint64_t off) {
  size_t i;
  for (i = 0; i < n; i++) buf[i] = (char)pattern_at(off + i);
}

/* The first offset where buf differs from the pattern, or n. */
static size_t pattern_mismatch(const char* buf, size_t n, uint64_t off) {
  size_t i;
  for (i = 0; i < n; i++)
    if ((unsigned char)buf[i] != pattern_at(off + i)) return i;
  return n;
}

/* A connected pair in one runtime: `client` is the connecting socket of
 * probe c (opts may be NULL), `server` the accepted one of probe s,
 * passive; `ls` the listener (s's, credit always). 1: all came up. */
typedef struct pair {
  airs_socket ls, client, server;
  airs_addr bound;
} pair;

static int make_pair(airs_runtime* rt, airs_pid s_pid, probe* s, airs_pid c_pid,
                     probe* c, const airs_socket_opts* opts, pair* out) {
  probe_msg m;
  memset(out, 0, sizeof *out);
  out->ls = listen_on_loopback(rt, s_pid, AIRS_ACTIVE_ALWAYS, &out->bound);
  if (!out->ls) return 0;
  if (airs_tcp_connect(rt, c_pid, &out->bound, 2000, opts, &out->client) !=
      AIRS_OK)
    return 0;
  if (!probe_wait(c, AIRS_MSG_SOCK_CONNECTED, WAIT_MS, &m) ||
      m.socket != out->client)
    return 0;
  if (!probe_wait(s, AIRS_MSG_SOCK_ACCEPTED, WAIT_MS, &m) ||
      m.socket != out->ls)
    return 0;
  out->server = accepted_of(&m).socket;
  return out->server != 0;
}

/* ---- a peer that resets -------------------------------------------------- */

/* The peer resets while the airs socket reads: the owner hears ECONNRESET
 * from "recv", as the socket's last message, and the id is gone. */
static void test_peer_reset_while_reading(void) {
  airs_runtime* rt = make_runtime(2, 0);
  probe* p = probe_new();
  airs_pid owner = probe_spawn(rt, p);
  airs_addr bound;
  airs_socket ls = listen_on_loopback(rt, owner, AIRS_ACTIVE_ALWAYS, &bound);
  airs_socket conn;
  airs_sock_error e;
  probe_msg m;
  int c;
  CHECK(ls != 0);
  c = plain_connect(bound.port, 0);
  CHECK(c >= 0);
  CHECK(probe_wait(p, AIRS_MSG_SOCK_ACCEPTED, WAIT_MS, &m));
  conn = accepted_of(&m).socket;
  CHECK(accepted_of(&m).peer.port == plain_local_port(c));
  CHECK_OK(airs_socket_set_active(rt, conn, AIRS_ACTIVE_ALWAYS));
  /* Reading for sure: a first byte comes through. */
  CHECK(write(c, "abc", 3) == 3);
  CHECK(probe_wait(p, AIRS_MSG_SOCK_DATA, WAIT_MS, &m));
  CHECK(m.socket == conn && m.size == 3 && !memcmp(m.data, "abc", 3));
  CHECK(airs_socket_count(rt) == 2);
  plain_reset(c);
  CHECK(probe_wait(p, AIRS_MSG_SOCK_ERROR, WAIT_MS, &m));
  e = error_of(&m);
  CHECK(m.socket == conn && m.size == sizeof e);
  CHECK_EQ(e.err, ECONNRESET);
  CHECK_STR(e.op, "recv");
  CHECK(strlen(e.text) > 0);
  /* (A call on the id first: it waits for the runtime to be done with the
   * socket, which test_error_comes_after_close shows it may not be yet
   * when the message is handled.) */
  CHECK_ST(airs_socket_send(rt, conn, "x", 1, 0), AIRS_ENOTFOUND);
  CHECK_EQ(airs_socket_count(rt), 1);
  CHECK_ST(airs_socket_set_active(rt, conn, 1), AIRS_ENOTFOUND);
  CHECK_ST(airs_socket_close(rt, conn), AIRS_ENOTFOUND);
  /* The error was the last message: no EOF, no more data after it. */
  CHECK(!probe_wait(p, AIRS_MSG_SOCK_EOF, 50, NULL));
  CHECK(!probe_wait(p, AIRS_MSG_SOCK_DATA, 0, NULL));
  airs_runtime_free(rt);
  probe_free(p);
}

/* A send on a passive socket whose peer has reset: the send itself finds
 * the error (the socket watches nothing it could have seen it by), the
 * owner hears it from "send", and the id is gone. */
static void test_send_to_peer_that_reset(void) {
  airs_runtime* rt = make_runtime(2, 0);
  probe* p = probe_new();
  airs_pid owner = probe_spawn(rt, p);
  airs_addr bound;
  airs_socket ls = listen_on_loopback(rt, owner, AIRS_ACTIVE_ALWAYS, &bound);
  airs_socket conn;
  airs_sock_error e;
  airs_status st = AIRS_OK;
  probe_msg m;
  int c, tries;
  CHECK(ls != 0);
  c = plain_connect(bound.port, 0);
  CHECK(c >= 0);
  CHECK(probe_wait(p, AIRS_MSG_SOCK_ACCEPTED, WAIT_MS, &m));
  conn = accepted_of(&m).socket;
  plain_reset(c);
  /* On loopback the reset is handled within close(); should it still be
   * in flight, a send or two go out before one finds it. */
  for (tries = 0; tries < 1000 && st == AIRS_OK; tries++) {
    st = airs_socket_send(rt, conn, "x", 1, 0);
    if (st == AIRS_OK) {
      struct timespec nap = {0, 1000000};
      nanosleep(&nap, NULL);
    }
  }
  CHECK_EQ(st, AIRS_ESTATE); /* "not a connected TCP socket", and told */
  CHECK(strlen(airs_last_error_message()) > 0);
  CHECK(probe_wait(p, AIRS_MSG_SOCK_ERROR, WAIT_MS, &m));
  e = error_of(&m);
  CHECK(m.socket == conn);
  CHECK(e.err == EPIPE || e.err == ECONNRESET);
  CHECK_STR(e.op, "send");
  CHECK(strlen(e.text) > 0);
  CHECK_EQ(airs_socket_count(rt), 1);
  CHECK_ST(airs_socket_send(rt, conn, "x", 1, 0), AIRS_ENOTFOUND);
  airs_runtime_free(rt);
  probe_free(p);
}

/* Bytes wait in the send buffer (the peer does not read) when the peer
 * resets: the runtime's own write finds the error, from "send"; the
 * unsent send is never acknowledged and WRITABLE never comes. */
static void test_peer_reset_with_bytes_queued(void) {
  airs_runtime* rt = make_runtime(2, 0);
  probe* p = probe_new();
  airs_pid owner = probe_spawn(rt, p);
  airs_addr bound;
  airs_socket ls = listen_on_loopback(rt, owner, AIRS_ACTIVE_ALWAYS, &bound);
  airs_socket conn;
  airs_sock_error e;
  probe_msg m;
  size_t big = 8u << 20;
  char* buf = (char*)malloc(big);
  int c;
  CHECK(ls != 0);
  c = plain_connect(bound.port, 4096);
  CHECK(c >= 0);
  CHECK(probe_wait(p, AIRS_MSG_SOCK_ACCEPTED, WAIT_MS, &m));
  conn = accepted_of(&m).socket;
  fill_pattern(buf, big, 0);
  /* Into an empty buffer a send is always taken; the kernel cannot hold
   * 8 MiB for a peer that reads nothing, so most of it stays queued (a
   * byte more does not fit). */
  CHECK_OK(airs_socket_send(rt, conn, buf, big, 77));
  CHECK_ST(airs_socket_send(rt, conn, "x", 1, 78), AIRS_EAGAIN);
  plain_reset(c);
  CHECK(probe_wait(p, AIRS_MSG_SOCK_ERROR, WAIT_MS, &m));
  e = error_of(&m);
  CHECK(m.socket == conn);
  CHECK(e.err == EPIPE || e.err == ECONNRESET);
  CHECK_STR(e.op, "send");
  CHECK_ST(airs_socket_send(rt, conn, "x", 1, 0), AIRS_ENOTFOUND);
  CHECK_EQ(airs_socket_count(rt), 1);
  CHECK(!probe_wait(p, AIRS_MSG_SOCK_SENT, 50, NULL));
  CHECK(!probe_wait(p, AIRS_MSG_SOCK_WRITABLE, 0, NULL));
  airs_runtime_free(rt);
  probe_free(p);
  free(buf);
}

/* The owner hears of an error only once the socket is closed ("the
 * runtime has closed it", net.h): handling AIRS_MSG_SOCK_ERROR, it finds
 * the socket no longer counted. Rounds of a reset peer, each checked in
 * the owner's own receive, the earliest moment it can look. */
typedef struct watcher {
  airs_runtime* rt;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  airs_socket accepted; /* the last accepted socket, 0 once taken */
  int errors;
  uint64_t count_at_error; /* airs_socket_count as the last error came */
} watcher;

static airs_status watcher_receive(void* state, airs_ctx* ctx,
                                   const airs_msg* m) {
  watcher* w = (watcher*)state;
  (void)ctx;
  if (airs_msg_type(m) == AIRS_MSG_SOCK_ACCEPTED) {
    airs_sock_accepted a;
    memcpy(&a, airs_msg_data(m), sizeof a);
    pthread_mutex_lock(&w->mu);
    w->accepted = a.socket;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
  } else if (airs_msg_type(m) == AIRS_MSG_SOCK_ERROR) {
    uint64_t count = airs_socket_count(w->rt);
    pthread_mutex_lock(&w->mu);
    w->errors++;
    w->count_at_error = count;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
  }
  return AIRS_OK;
}

#define CLOSE_ROUNDS 1000

static void test_error_comes_after_close(void) {
  airs_runtime* rt = make_runtime(2, 0);
  watcher w;
  airs_behaviour b;
  airs_pid pid = 0;
  airs_addr bound;
  airs_socket ls;
  int round, stale = 0, first_stale = -1, lost = 0;
  uint64_t stale_count = 0;
  memset(&w, 0, sizeof w);
  w.rt = rt;
  pthread_mutex_init(&w.mu, NULL);
  pthread_cond_init(&w.cv, NULL);
  memset(&b, 0, sizeof b);
  b.version = AIRS_BEHAVIOUR_VERSION;
  b.size = sizeof b;
  b.receive = watcher_receive;
  CHECK_OK(airs_spawn(rt, &b, &w, NULL, NULL, &pid));
  ls = listen_on_loopback(rt, pid, AIRS_ACTIVE_ALWAYS, &bound);
  CHECK(ls != 0);
  for (round = 0; round < CLOSE_ROUNDS && ls && !lost; round++) {
    int c = plain_connect(bound.port, 0);
    airs_socket conn = 0;
    struct timespec end;
    if (c < 0) {
      lost = 1;
      break;
    }
    clock_gettime(CLOCK_REALTIME, &end);
    end.tv_sec += WAIT_MS / 1000;
    pthread_mutex_lock(&w.mu);
    while (w.accepted == 0 && pthread_cond_timedwait(&w.cv, &w.mu, &end) == 0) {
    }
    conn = w.accepted;
    w.accepted = 0;
    pthread_mutex_unlock(&w.mu);
    if (!conn ||
        airs_socket_set_active(rt, conn, AIRS_ACTIVE_ALWAYS) != AIRS_OK) {
      lost = 1;
      close(c);
      break;
    }
    plain_reset(c);
    pthread_mutex_lock(&w.mu);
    while (w.errors == round &&
           pthread_cond_timedwait(&w.cv, &w.mu, &end) == 0) {
    }
    if (w.errors != round + 1) {
      lost = 1;
    } else if (w.count_at_error != 1) { /* the listener only */
      stale = 1;
      first_stale = round;
      stale_count = w.count_at_error;
    }
    pthread_mutex_unlock(&w.mu);
    if (stale) break; /* shown; the rest would only take time */
  }
  CHECK_EQ(lost, 0);
  if (!CHECK_REPORT(stale == 0,
                    "the socket is closed when its owner handles "
                    "AIRS_MSG_SOCK_ERROR"))
    fprintf(stderr,
            "    round %d: handling the error, airs_socket_count said %llu "
            "(the listener alone is 1): the error was posted before the "
            "socket was closed\n",
            first_stale, (unsigned long long)stale_count);
  airs_runtime_free(rt);
  pthread_mutex_destroy(&w.mu);
  pthread_cond_destroy(&w.cv);
}

/* ---- a connect that times out -------------------------------------------- */

/* Fills the accept queue of a plain listener that never accepts, until a
 * connect stays in progress (Linux drops SYNs when the queue is full).
 * fds[] gets the connecting sockets. 1: one is stuck. */
static int fill_accept_queue(uint16_t port, int* fds, int max, int* n) {
  struct sockaddr_in sa = plain_sockaddr(port);
  *n = 0;
  while (*n < max) {
    struct pollfd pfd;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    fds[(*n)++] = fd;
    if (connect(fd, (struct sockaddr*)&sa, sizeof sa) == 0) continue;
    if (errno != EINPROGRESS) return 0;
    pfd.fd = fd;
    pfd.events = POLLOUT;
    pfd.revents = 0;
    /* A handshake on loopback takes microseconds: 100 ms is a drop. */
    if (poll(&pfd, 1, 100) == 0) return 1;
  }
  return 0;
}

/* ---- a worker that never runs out of work ------------------------------
 *
 * The workers wait in epoll only when they have nothing else to do; a busy
 * one looks at ready I/O and due deadlines every few dozen turns. These
 * run with one worker that a process keeps busy: each of its turns sends
 * it the next message. */

typedef struct busy {
  atomic_int stop;
  atomic_long turns;
} busy;

static airs_status busy_receive(void* state, airs_ctx* ctx,
                                const airs_msg* m) {
  busy* b = (busy*)state;
  (void)m;
  atomic_fetch_add(&b->turns, 1);
  if (atomic_load(&b->stop)) return AIRS_OK;
  return airs_ctx_send(ctx, airs_self(ctx), 1, NULL, 0);
}

/* Starts `b` on rt (one worker) and waits until it is spinning; 0 if it
 * could not be started. */
static airs_pid busy_start(airs_runtime* rt, busy* b) {
  airs_pid pid = spawn_with(rt, NULL, busy_receive, b);
  double t0 = now_ms();
  if (pid == 0 || airs_send(rt, pid, 1, NULL, 0) != AIRS_OK) return 0;
  while (atomic_load(&b->turns) < 1000 && now_ms() - t0 < WAIT_MS) {
  }
  return atomic_load(&b->turns) >= 1000 ? pid : 0;
}

/* Accepting, reading and an outside send, while the only worker is busy;
 * then, with it idle (waiting in epoll), an outside send and I/O wake it. */
static void test_io_while_the_worker_is_busy(void) {
  airs_runtime* rt = make_runtime(1, 0);
  probe* p = probe_new();
  busy b;
  airs_pid owner = probe_spawn(rt, p);
  airs_addr bound;
  airs_socket ls;
  probe_msg m;
  int fd;
  atomic_init(&b.stop, 0);
  atomic_init(&b.turns, 0);
  ls = listen_on_loopback(rt, owner, AIRS_ACTIVE_ALWAYS, &bound);
  CHECK(ls != 0);
  CHECK(busy_start(rt, &b) != 0);
  fd = plain_connect(bound.port, 0);
  CHECK(fd >= 0);
  CHECK(probe_wait(p, AIRS_MSG_SOCK_ACCEPTED, WAIT_MS, &m));
  CHECK_OK(airs_socket_set_active(rt, accepted_of(&m).socket,
                                  AIRS_ACTIVE_ALWAYS));
  CHECK(write(fd, "busy", 4) == 4);
  CHECK(probe_wait(p, AIRS_MSG_SOCK_DATA, WAIT_MS, &m));
  CHECK(m.size == 4 && !memcmp(m.data, "busy", 4));
  CHECK_OK(airs_send(rt, owner, 77, NULL, 0));
  CHECK(probe_wait(p, 77, WAIT_MS, &m));
  CHECK(atomic_load(&b.stop) == 0); /* still busy all along */
  atomic_store(&b.stop, 1);
  /* Idle now: the worker parks in epoll, and must wake for both. */
  usleep(50 * 1000);
  CHECK_OK(airs_send(rt, owner, 78, NULL, 0));
  CHECK(probe_wait(p, 78, WAIT_MS, &m));
  usleep(50 * 1000);
  CHECK(write(fd, "idle", 4) == 4);
  CHECK(probe_wait(p, AIRS_MSG_SOCK_DATA, WAIT_MS, &m));
  CHECK(m.size == 4 && !memcmp(m.data, "idle", 4));
  close(fd);
  airs_runtime_free(rt);
  probe_free(p);
}

/* ---- a worker held in a long callback ----------------------------------
 *
 * While one of two workers is held in a callback that does not return,
 * the other must serve every socket: it waits in epoll once it runs out of
 * work (or looks in its spin rounds), and the processes the events make
 * runnable run on it. */

typedef struct holder {
  atomic_int held;
  atomic_int release;
} holder;

static airs_status holder_receive(void* state, airs_ctx* ctx,
                                  const airs_msg* m) {
  holder* h = (holder*)state;
  double t0 = now_ms();
  (void)ctx;
  (void)m;
  atomic_store(&h->held, 1);
  while (!atomic_load(&h->release) && now_ms() - t0 < 4 * WAIT_MS) usleep(1000);
  atomic_store(&h->held, 2);
  return AIRS_OK;
}

enum { HELD_CONNS = 6 };

static void test_sockets_of_a_held_worker(void) {
  airs_runtime* rt = make_runtime(2, 0);
  probe* p = probe_new();
  holder h;
  airs_pid owner = probe_spawn(rt, p), hold;
  airs_addr bound;
  airs_socket ls;
  probe_msg m;
  int fds[HELD_CONNS], got = 0;
  atomic_init(&h.held, 0);
  atomic_init(&h.release, 0);
  ls = listen_on_loopback(rt, owner, AIRS_ACTIVE_ALWAYS, &bound);
  CHECK(ls != 0);
  for (int i = 0; i < HELD_CONNS; i++) {
    fds[i] = plain_connect(bound.port, 0);
    CHECK(fds[i] >= 0);
    CHECK(probe_wait(p, AIRS_MSG_SOCK_ACCEPTED, WAIT_MS, &m));
    CHECK_OK(
        airs_socket_set_active(rt, accepted_of(&m).socket, AIRS_ACTIVE_ALWAYS));
  }
  hold = spawn_with(rt, NULL, holder_receive, &h);
  CHECK(hold != 0);
  CHECK_OK(airs_send(rt, hold, 1, NULL, 0));
  double t0 = now_ms();
  while (!atomic_load(&h.held) && now_ms() - t0 < WAIT_MS) usleep(1000);
  CHECK(atomic_load(&h.held));
  usleep(50 * 1000); /* the other worker runs out of work and parks */
  for (int i = 0; i < HELD_CONNS; i++) CHECK(write(fds[i], "held", 4) == 4);
  for (int i = 0; i < HELD_CONNS; i++) {
    if (!probe_wait(p, AIRS_MSG_SOCK_DATA, WAIT_MS, &m)) break;
    if (m.size == 4 && !memcmp(m.data, "held", 4)) got++;
  }
  CHECK_EQ(got, HELD_CONNS);
  CHECK_EQ(atomic_load(&h.held), 1); /* all while the worker was held */
  atomic_store(&h.release, 1);
  for (int i = 0; i < HELD_CONNS; i++) close(fds[i]);
  airs_runtime_free(rt);
  probe_free(p);
}

/* busy: on one worker that a process keeps busy, so the deadline is run
 * by the worker's look between turns. */
static void run_connect_timeout(int busy_worker) {
  airs_runtime* rt = make_runtime(busy_worker ? 1 : 2, 0);
  probe* p = probe_new();
  busy b;
  airs_pid owner = probe_spawn(rt, p);
  struct sockaddr_in sa = plain_sockaddr(0);
  socklen_t len = sizeof sa;
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int fds[64], n = 0, i, stuck;
  airs_socket cs;
  airs_sock_error e;
  probe_msg m;
  double t0, took;
  CHECK(lfd >= 0);
  CHECK(bind(lfd, (struct sockaddr*)&sa, sizeof sa) == 0);
  CHECK(listen(lfd, 0) == 0);
  CHECK(getsockname(lfd, (struct sockaddr*)&sa, &len) == 0);
  stuck = fill_accept_queue(ntohs(sa.sin_port), fds, 64, &n);
  if (!CHECK_REPORT(stuck, "a plain connect stays in progress"))
    fprintf(stderr,
            "    %d connects to a listener with backlog 0 that never "
            "accepts all completed: this kernel does not drop SYNs for a "
            "full accept queue (tcp_abort_on_overflow?), so no connect "
            "can be made to time out\n",
            n);
  atomic_init(&b.stop, 0);
  atomic_init(&b.turns, 0);
  if (busy_worker) CHECK(busy_start(rt, &b) != 0);
  if (stuck) {
    airs_addr to = loopback4(ntohs(sa.sin_port));
    t0 = now_ms();
    CHECK_OK(airs_tcp_connect(rt, owner, &to, 200, NULL, &cs));
    /* Bytes sent while connecting wait; they go nowhere. */
    CHECK_OK(airs_socket_send(rt, cs, "early", 5, 9));
    CHECK(probe_wait(p, AIRS_MSG_SOCK_ERROR, WAIT_MS, &m));
    took = now_ms() - t0;
    e = error_of(&m);
    CHECK(m.socket == cs);
    CHECK_EQ(e.err, ETIMEDOUT);
    CHECK_STR(e.op, "connect");
    CHECK(strlen(e.text) > 0);
    if (!CHECK_REPORT(took >= 195 && took < 2000, "timed out after ~200 ms"))
      fprintf(stderr, "    took %.1f ms\n", took);
    CHECK(!probe_wait(p, AIRS_MSG_SOCK_CONNECTED, 0, NULL));
    CHECK(!probe_wait(p, AIRS_MSG_SOCK_SENT, 0, NULL));
    CHECK_ST(airs_socket_send(rt, cs, "x", 1, 0), AIRS_ENOTFOUND);
    CHECK_EQ(airs_socket_count(rt), 0);
  }
  if (busy_worker) CHECK(atomic_load(&b.stop) == 0);
  atomic_store(&b.stop, 1);
  for (i = 0; i < n; i++) close(fds[i]);
  close(lfd);
  airs_runtime_free(rt);
  probe_free(p);
}

static void test_connect_timeout(void) {
  run_connect_timeout(0);
  run_connect_timeout(1);
}

/* ---- out of fds ---------------------------------------------------------- */

/* With no fd to spare: opening fails with ELIMIT and says why; an active
 * listener that cannot accept tells its owner (ACCEPT_ERROR, EMFILE),
 * stays open, and accepts the waiting connection once fds are free. */
static void test_out_of_fds(void) {
  airs_runtime* rt = make_runtime(2, 0);
  probe* p = probe_new();
  airs_pid owner = probe_spawn(rt, p);
  airs_addr bound, any = loopback4(0), local;
  airs_socket ls = listen_on_loopback(rt, owner, AIRS_ACTIVE_ALWAYS, &bound);
  airs_socket s = 0, conn;
  struct rlimit old, low;
  struct sockaddr_in sa = plain_sockaddr(bound.port);
  airs_sock_error e;
  probe_msg m;
  int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); /* made before */
  int connected, accepted_late, before = count_fds();
  double t0;
  CHECK(ls != 0 && c >= 0);
  CHECK(getrlimit(RLIMIT_NOFILE, &old) == 0);
  low = old;
  low.rlim_cur = (rlim_t)lowest_free_fd(); /* no new fd from here */
  CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
  CHECK_ST(airs_tcp_listen(rt, owner, &any, NULL, &s), AIRS_ELIMIT);
  CHECK(s == 0);
  CHECK_ST(airs_udp_open(rt, owner, &any, NULL, &s), AIRS_ELIMIT);
  CHECK_ST(airs_tcp_connect(rt, owner, &bound, 0, NULL, &s), AIRS_ELIMIT);
  CHECK_EQ(airs_socket_count(rt), 1);
  /* A connection the listener cannot take. */
  connected = connect(c, (struct sockaddr*)&sa, sizeof sa) == 0;
  CHECK(connected);
  CHECK(probe_wait(p, AIRS_MSG_SOCK_ACCEPT_ERROR, WAIT_MS, &m));
  e = error_of(&m);
  CHECK(m.socket == ls && m.size == sizeof e);
  CHECK_EQ(e.err, EMFILE);
  CHECK_STR(e.op, "accept");
  CHECK(strlen(e.text) > 0);
  CHECK_EQ(airs_socket_count(rt), 1);
  CHECK_OK(airs_socket_addr(rt, ls, &local, NULL)); /* still open */
  CHECK(!probe_wait(p, AIRS_MSG_SOCK_ACCEPTED, 0, NULL));
  CHECK(!probe_wait(p, AIRS_MSG_SOCK_ERROR, 0, NULL));
  /* Fds again: the pause (100 ms) ends and the connection is taken. */
  CHECK(setrlimit(RLIMIT_NOFILE, &old) == 0);
  t0 = now_ms();
  accepted_late = probe_wait(p, AIRS_MSG_SOCK_ACCEPTED, 1000, &m);
  CHECK(accepted_late);
  CHECK(now_ms() - t0 < 1000);
  if (accepted_late) {
    conn = accepted_of(&m).socket;
    CHECK(m.socket == ls);
    CHECK(accepted_of(&m).peer.port == plain_local_port(c));
    CHECK(write(c, "late", 4) == 4);
    CHECK_OK(airs_socket_set_active(rt, conn, 1));
    CHECK(probe_wait(p, AIRS_MSG_SOCK_DATA, WAIT_MS, &m));
    CHECK(m.socket == conn && m.size == 4 && !memcmp(m.data, "late", 4));
    CHECK_OK(airs_socket_close(rt, conn));
  }
  CHECK_OK(airs_udp_open(rt, owner, &any, NULL, &s));
  CHECK_OK(airs_socket_close(rt, s));
  CHECK_OK(airs_socket_close(rt, ls));
  CHECK_EQ(airs_socket_count(rt), 0);
  close(c);
  CHECK_EQ(count_fds(), before - 2); /* the listener and c */
  airs_runtime_free(rt);
  probe_free(p);
}

/* ---- a slow reader ------------------------------------------------------- */

#define CHUNK (16 * 1024)
#define STREAM_MAX (48u << 20)

/* The receiver reads nothing: the kernel's buffers fill, then the send
 * buffer (64 KiB), then a send is refused with EAGAIN and nothing of it
 * is queued. Once the receiver reads, the sender hears WRITABLE, every
 * byte taken arrives once and in order, and every taken send is acked
 * once, in order. */
static void test_slow_reader_back_pressure(void) {
  airs_runtime* rt = make_runtime(2, 0);
  probe* s = probe_new();
  probe* c = probe_new();
  airs_pid sp = probe_spawn(rt, s), cp = probe_spawn(rt, c);
  airs_socket_opts o;
  pair pr;
  probe_msg m;
  char chunk[CHUNK];
  uint64_t total = 0, acks = 0, i;
  airs_status st = AIRS_OK;
  int up, in_order = 1;
  s->stream = (char*)malloc(STREAM_MAX);
  s->stream_cap = STREAM_MAX;
  airs_socket_opts_init(&o);
  o.send_buffer = 64 * 1024;
  up = make_pair(rt, sp, s, cp, c, &o, &pr);
  CHECK(up);
  while (up && total + CHUNK <= STREAM_MAX - CHUNK) {
    fill_pattern(chunk, CHUNK, total);
    st = airs_socket_send(rt, pr.client, chunk, CHUNK, acks + 1);
    if (st != AIRS_OK) break;
    total += CHUNK;
    acks++;
  }
  if (!CHECK_REPORT(st == AIRS_EAGAIN, "a send was refused with EAGAIN"))
    fprintf(stderr, "    %llu bytes taken, last status %s\n",
            (unsigned long long)total, airs_strerror(st));
  CHECK(strlen(airs_last_error_message()) > 0);
  CHECK(total > 64 * 1024); /* the kernel's buffers took some first */
  /* Refused again while nothing drains. */
  fill_pattern(chunk, CHUNK, total);
  CHECK_ST(airs_socket_send(rt, pr.client, chunk, CHUNK, 999999), AIRS_EAGAIN);
  /* The reader wakes up. */
  CHECK_OK(airs_socket_set_active(rt, pr.server, AIRS_ACTIVE_ALWAYS));
  CHECK(probe_wait(c, AIRS_MSG_SOCK_WRITABLE, WAIT_MS, &m));
  CHECK(m.socket == pr.client && m.size == 0);
  /* Writable: the refused chunk now fits; then the end. */
  CHECK_OK(airs_socket_send(rt, pr.client, chunk, CHUNK, acks + 1));
  total += CHUNK;
  acks++;
  CHECK_OK(airs_socket_shutdown(rt, pr.client));
  CHECK(probe_wait(s, AIRS_MSG_SOCK_EOF, 10000, &m));
  CHECK(m.socket == pr.server);
  pthread_mutex_lock(&s->mu);
  CHECK_EQ(s->bytes, total); /* once each: nothing of a refusal queued */
  if (s->bytes == total) {
    size_t bad = pattern_mismatch(s->stream, (size_t)total, 0);
    if (!CHECK_REPORT(bad == total, "the bytes came in order"))
      fprintf(stderr, "    first wrong byte at %zu of %llu\n", bad,
              (unsigned long long)total);
  }
  pthread_mutex_unlock(&s->mu);
  /* Acks: one per taken send, in send order, none for the refused. */
  for (i = 1; i <= acks; i++) {
    if (!probe_wait(c, AIRS_MSG_SOCK_SENT, WAIT_MS, &m) || ack_of(&m) != i) {
      in_order = 0;
      fprintf(stderr, "    ack %llu: got %llu\n", (unsigned long long)i,
              (unsigned long long)ack_of(&m));
      break;
    }
  }
  CHECK(in_order);
  CHECK(!probe_wait(c, AIRS_MSG_SOCK_SENT, 50, NULL));
  CHECK_EQ(probe_count(c, AIRS_MSG_SOCK_WRITABLE), 1);
  CHECK_EQ(probe_count(c, AIRS_MSG_SOCK_ERROR), 0);
  airs_runtime_free(rt);
  free(s->stream);
  probe_free(s);
  probe_free(c);
}

/* ---- a thousand connections ---------------------------------------------- */

#define NCONN 1000
#define BATCH 100

/* One listener, a thousand clients: each is accepted, each sends eight
 * bytes naming itself and its accepted socket gets exactly those; all
 * close, and no socket or fd is left. */
static void test_thousand_connections(void) {
  static airs_socket client[NCONN], conn[NCONN];
  static int of_port[65536];
  struct rlimit rl;
  airs_runtime* rt;
  probe *s, *c;
  airs_pid sp, cp;
  airs_addr bound;
  airs_socket ls;
  int i, j, bad = 0, before, base;
  getrlimit(RLIMIT_NOFILE, &rl);
  if (!CHECK_REPORT(rl.rlim_cur >= 2 * NCONN + 100, "fds for 1000 pairs")) {
    fprintf(stderr,
            "    RLIMIT_NOFILE is %llu (hard %llu): 2 fds per connection "
            "and some spare are needed; raise the hard limit\n",
            (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
    return;
  }
  before = count_fds();
  rt = make_runtime(2, 0);
  s = probe_new();
  c = probe_new();
  sp = probe_spawn(rt, s);
  cp = probe_spawn(rt, c);
  ls = listen_on_loopback(rt, sp, AIRS_ACTIVE_ALWAYS, &bound);
  CHECK(ls != 0);
  base = count_fds();
  for (i = 0; i < 65536; i++) of_port[i] = -1;
  for (i = 0; i < NCONN; i++) {
    char tag[16]; /* (8 are sent; room for any int) */
    airs_addr local;
    if (airs_tcp_connect(rt, cp, &bound, 5000, NULL, &client[i]) != AIRS_OK ||
        airs_socket_addr(rt, client[i], &local, NULL) != AIRS_OK) {
      bad++;
      continue;
    }
    of_port[local.port] = i;
    /* Sent while connecting: buffered until the connection is up. */
    snprintf(tag, sizeof tag, "c%06d.", i);
    if (airs_socket_send(rt, client[i], tag, 8, 0) != AIRS_OK) bad++;
    if ((i + 1) % BATCH == 0 &&
        !probe_wait_count(s, AIRS_MSG_SOCK_ACCEPTED, (size_t)(i + 1), WAIT_MS))
      bad++;
  }
  CHECK_EQ(bad, 0);
  CHECK(probe_wait_count(c, AIRS_MSG_SOCK_CONNECTED, NCONN, WAIT_MS));
  CHECK_EQ(probe_count(c, AIRS_MSG_SOCK_ERROR), 0);
  CHECK_EQ(probe_count(s, AIRS_MSG_SOCK_ACCEPTED), NCONN);
  CHECK_EQ(airs_socket_count(rt), 2 * NCONN + 1);
  CHECK_EQ(count_fds(), base + 2 * NCONN);
  /* Who is who: an accepted socket's peer is a client's local address. */
  memset(conn, 0, sizeof conn);
  bad = 0;
  pthread_mutex_lock(&s->mu);
  for (j = 0; j < s->count; j++) {
    airs_sock_accepted a;
    if (s->msgs[j].type != AIRS_MSG_SOCK_ACCEPTED) continue;
    a = accepted_of(&s->msgs[j]);
    i = of_port[a.peer.port];
    if (i < 0 || conn[i] != 0)
      bad++;
    else
      conn[i] = a.socket;
  }
  pthread_mutex_unlock(&s->mu);
  CHECK_EQ(bad, 0);
  for (i = 0; i < NCONN; i++)
    if (!conn[i] ||
        airs_socket_set_active(rt, conn[i], AIRS_ACTIVE_ALWAYS) != AIRS_OK)
      bad++;
  CHECK_EQ(bad, 0);
  CHECK(probe_wait_count(s, 0, 8 * NCONN, WAIT_MS));
  /* Each accepted socket got its client's eight bytes, and no more. */
  {
    static char got[NCONN][16];
    static int got_n[NCONN];
    memset(got_n, 0, sizeof got_n);
    pthread_mutex_lock(&s->mu);
    CHECK_EQ(s->bytes, 8 * NCONN);
    for (j = 0; j < s->count; j++) {
      const probe_msg* m = &s->msgs[j];
      if (m->type != AIRS_MSG_SOCK_DATA) continue;
      for (i = 0; i < NCONN && conn[i] != m->socket; i++) {
      }
      if (i == NCONN || got_n[i] + m->size > sizeof got[i]) {
        bad++;
        continue;
      }
      memcpy(got[i] + got_n[i], m->data, m->size);
      got_n[i] += (int)m->size;
    }
    pthread_mutex_unlock(&s->mu);
    for (i = 0; i < NCONN; i++) {
      char tag[16];
      snprintf(tag, sizeof tag, "c%06d.", i);
      if (got_n[i] != 8 || memcmp(got[i], tag, 8) != 0) bad++;
    }
    CHECK_EQ(bad, 0);
  }
  for (i = 0; i < NCONN; i++) {
    if (airs_socket_close(rt, conn[i]) != AIRS_OK) bad++;
    if (airs_socket_close(rt, client[i]) != AIRS_OK) bad++;
  }
  CHECK_EQ(bad, 0);
  CHECK_EQ(airs_socket_count(rt), 1);
  CHECK_EQ(count_fds(), base);
  CHECK_OK(airs_socket_close(rt, ls));
  CHECK_EQ(airs_socket_count(rt), 0);
  airs_runtime_free(rt);
  probe_free(s);
  probe_free(c);
  CHECK_EQ(count_fds(), before);
}

/* ---- the owner killed mid-transfer --------------------------------------- */

/* The sender's owner dies with bytes in the send buffer (the peer reads
 * nothing): the socket closes with it, its fd goes, the peer reads a
 * prefix of what was sent and then the end, and the runtime frees. */
static void test_owner_killed_mid_transfer(void) {
  int before = count_fds();
  airs_runtime* rt = make_runtime(2, 0);
  probe* s = probe_new();
  probe* c = probe_new();
  airs_pid sp = probe_spawn(rt, s), cp = probe_spawn(rt, c);
  airs_socket_opts o;
  pair pr;
  probe_msg m;
  static char chunk[64 * 1024];
  uint64_t total = 0;
  airs_status st = AIRS_OK;
  int up, fds_alive, ended;
  s->stream = (char*)malloc(STREAM_MAX);
  s->stream_cap = STREAM_MAX;
  airs_socket_opts_init(&o);
  o.send_buffer = 1u << 20;
  up = make_pair(rt, sp, s, cp, c, &o, &pr);
  CHECK(up);
  while (up && total + sizeof chunk <= STREAM_MAX - sizeof chunk) {
    fill_pattern(chunk, sizeof chunk, total);
    st = airs_socket_send(rt, pr.client, chunk, sizeof chunk, 0);
    if (st != AIRS_OK) break;
    total += sizeof chunk;
  }
  CHECK_EQ(st, AIRS_EAGAIN); /* the send buffer holds most of a MiB */
  CHECK_EQ(airs_socket_count(rt), 3);
  fds_alive = count_fds();
  CHECK_OK(airs_kill(rt, cp));
  CHECK_OK(airs_wait(rt, cp, WAIT_MS));
  CHECK_EQ(airs_socket_count(rt), 2);
  CHECK_EQ(count_fds(), fds_alive - 1);
  CHECK_ST(airs_socket_send(rt, pr.client, "x", 1, 0), AIRS_ENOTFOUND);
  CHECK_ST(airs_socket_close(rt, pr.client), AIRS_ENOTFOUND);
  /* The peer reads what the kernel had, then the end. */
  CHECK_OK(airs_socket_set_active(rt, pr.server, AIRS_ACTIVE_ALWAYS));
  ended =
      probe_wait_either(s, AIRS_MSG_SOCK_EOF, AIRS_MSG_SOCK_ERROR, 10000, &m);
  CHECK(ended);
  CHECK(m.socket == pr.server);
  pthread_mutex_lock(&s->mu);
  CHECK(s->bytes > 0 && s->bytes <= total);
  {
    size_t n = s->bytes < s->stream_cap ? s->bytes : s->stream_cap;
    CHECK_EQ(pattern_mismatch(s->stream, n, 0), n); /* a prefix */
  }
  pthread_mutex_unlock(&s->mu);
  if (ended && m.type == AIRS_MSG_SOCK_EOF)
    CHECK_OK(airs_socket_close(rt, pr.server));
  CHECK_OK(airs_socket_close(rt, pr.ls));
  CHECK_EQ(airs_socket_count(rt), 0);
  airs_runtime_free(rt);
  CHECK_EQ(count_fds(), before);
  free(s->stream);
  probe_free(s);
  probe_free(c);
}

/* ---- sends from many threads on one socket ------------------------------- */

#define SENDERS 4
#define SENDS 200
#define RECORD 100

typedef struct sender {
  airs_runtime* rt;
  airs_socket sock;
  int id;
  int refused;
  pthread_barrier_t* go;
} sender;

/* A record: sender id, sequence (2 bytes), then a pattern of both. */
static void make_record(char* r, int id, int seq) {
  int k;
  r[0] = (char)id;
  r[1] = (char)(seq >> 8);
  r[2] = (char)(seq & 0xff);
  for (k = 3; k < RECORD; k++) r[k] = (char)(id * 31 + seq * 7 + k);
}

static void* send_records(void* arg) {
  sender* t = (sender*)arg;
  char r[RECORD];
  int seq;
  pthread_barrier_wait(t->go);
  for (seq = 0; seq < SENDS; seq++) {
    make_record(r, t->id, seq);
    if (airs_socket_send(t->rt, t->sock, r, RECORD, 0) != AIRS_OK) t->refused++;
  }
  return NULL;
}

/* Four threads send at once on one socket: each send's bytes stay
 * together, each thread's arrive in its order, and the total is exact
 * (the 80 000 bytes fit the default send buffer: nothing is refused). */
static void test_sends_from_many_threads(void) {
  airs_runtime* rt = make_runtime(2, 0);
  probe* s = probe_new();
  probe* c = probe_new();
  airs_pid sp = probe_spawn(rt, s), cp = probe_spawn(rt, c);
  pthread_t th[SENDERS];
  sender t[SENDERS];
  pthread_barrier_t go;
  pair pr;
  probe_msg m;
  int i, next[SENDERS], bad = 0, refused = 0;
  size_t total = (size_t)SENDERS * SENDS * RECORD, off;
  s->stream = (char*)malloc(total + 4096);
  s->stream_cap = total + 4096;
  CHECK(make_pair(rt, sp, s, cp, c, NULL, &pr));
  CHECK_OK(airs_socket_set_active(rt, pr.server, AIRS_ACTIVE_ALWAYS));
  pthread_barrier_init(&go, NULL, SENDERS);
  for (i = 0; i < SENDERS; i++) {
    t[i].rt = rt;
    t[i].sock = pr.client;
    t[i].id = i + 1;
    t[i].refused = 0;
    t[i].go = &go;
    pthread_create(&th[i], NULL, send_records, &t[i]);
  }
  for (i = 0; i < SENDERS; i++) {
    pthread_join(th[i], NULL);
    refused += t[i].refused;
  }
  pthread_barrier_destroy(&go);
  CHECK_EQ(refused, 0);
  CHECK_OK(airs_socket_shutdown(rt, pr.client));
  CHECK(probe_wait(s, AIRS_MSG_SOCK_EOF, WAIT_MS, &m));
  pthread_mutex_lock(&s->mu);
  CHECK_EQ(s->bytes, total);
  for (i = 0; i < SENDERS; i++) next[i] = 0;
  for (off = 0; off + RECORD <= s->bytes && off + RECORD <= s->stream_cap;
       off += RECORD) {
    const char* r = s->stream + off;
    char want[RECORD];
    int id = (unsigned char)r[0], seq;
    seq = ((unsigned char)r[1] << 8) | (unsigned char)r[2];
    if (id < 1 || id > SENDERS || seq != next[id - 1]) {
      bad++;
      break;
    }
    make_record(want, id, seq);
    if (memcmp(r, want, RECORD) != 0) {
      bad++;
      break;
    }
    next[id - 1]++;
  }
  pthread_mutex_unlock(&s->mu);
  if (!CHECK_REPORT(bad == 0, "every record whole, each thread's in order"))
    fprintf(stderr, "    first bad record at byte %zu\n", off);
  for (i = 0; i < SENDERS; i++) CHECK_EQ(next[i], SENDS);
  airs_runtime_free(rt);
  free(s->stream);
  probe_free(s);
  probe_free(c);
}

/* ---- a give racing the owner's end --------------------------------------- */

#define GIVE_ROUNDS 200

typedef struct race {
  airs_runtime* rt;
  airs_pid owner, keeper;
  airs_socket sock;
  airs_status gave;
  pthread_barrier_t go;
} race;

static void* race_kill(void* arg) {
  race* r = (race*)arg;
  pthread_barrier_wait(&r->go);
  airs_kill(r->rt, r->owner);
  return NULL;
}

static void* race_give(void* arg) {
  race* r = (race*)arg;
  pthread_barrier_wait(&r->go);
  r->gave = airs_socket_give(r->rt, r->sock, r->keeper);
  return NULL;
}

/* Kill an owner on one thread while another gives its socket away: the
 * socket ends up the new owner's (the give won) or closed (the end won),
 * never both, never neither; no fd is left. */
static void test_give_races_owner_end(void) {
  int before = count_fds();
  airs_runtime* rt = make_runtime(2, 0);
  probe* p = probe_new();
  airs_pid keeper = probe_spawn(rt, p);
  airs_addr any = loopback4(0);
  int round, wrong = 0, given = 0, closed = 0;
  for (round = 0; round < GIVE_ROUNDS; round++) {
    race r;
    pthread_t a, b;
    r.rt = rt;
    r.keeper = keeper;
    r.owner = probe_spawn(rt, p);
    r.sock = 0;
    r.gave = AIRS_EINTERNAL;
    if (!r.owner ||
        airs_udp_open(rt, r.owner, &any, NULL, &r.sock) != AIRS_OK) {
      wrong++;
      continue;
    }
    pthread_barrier_init(&r.go, NULL, 2);
    pthread_create(&a, NULL, race_kill, &r);
    pthread_create(&b, NULL, race_give, &r);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    pthread_barrier_destroy(&r.go);
    if (airs_wait(rt, r.owner, WAIT_MS) != AIRS_OK) wrong++;
    if (r.gave == AIRS_OK) {
      given++;
      if (airs_socket_count(rt) != 1) wrong++;
      if (airs_socket_close(rt, r.sock) != AIRS_OK) wrong++;
    } else if (r.gave == AIRS_ENOTFOUND) {
      closed++;
      if (airs_socket_count(rt) != 0) wrong++;
      if (airs_socket_close(rt, r.sock) != AIRS_ENOTFOUND) wrong++;
    } else {
      fprintf(stderr, "    round %d: give said %s\n", round,
              airs_strerror(r.gave));
      wrong++;
    }
    if (airs_socket_count(rt) != 0) wrong++;
  }
  CHECK_EQ(wrong, 0);
  CHECK_EQ(given + closed, GIVE_ROUNDS);
  CHECK(airs_is_alive(rt, keeper));
  airs_runtime_free(rt);
  probe_free(p);
  CHECK_EQ(count_fds(), before);
}

/* ---- a host woken by I/O ------------------------------------------------- */

/* An echo server: takes every connection, reads all, sends it back;
 * closes at the peer's EOF. Runs on the host's thread only. */
typedef struct echo {
  airs_runtime* rt;
  int accepted;
  size_t echoed;
  int send_failures;
} echo;

static airs_status echo_receive(void* state, airs_ctx* ctx, const airs_msg* m) {
  echo* e = (echo*)state;
  airs_socket sock = airs_msg_correlation(m);
  (void)ctx;
  switch (airs_msg_type(m)) {
    case AIRS_MSG_SOCK_ACCEPTED: {
      airs_sock_accepted a;
      memcpy(&a, airs_msg_data(m), sizeof a);
      airs_socket_set_active(e->rt, a.socket, AIRS_ACTIVE_ALWAYS);
      e->accepted++;
      break;
    }
    case AIRS_MSG_SOCK_DATA:
      if (airs_socket_send(e->rt, sock, airs_msg_data(m), airs_msg_size(m),
                           0) != AIRS_OK)
        e->send_failures++;
      e->echoed += airs_msg_size(m);
      break;
    case AIRS_MSG_SOCK_EOF: airs_socket_close(e->rt, sock); break;
    default: break;
  }
  return AIRS_OK;
}

/* The host's loop: waits (poll(2), up to `ms`) for the runtime's fd and
 * polls the runtime only when it is readable. 1: it was, and was polled. */
static int host_turn(airs_runtime* rt, int fd, int ms) {
  uint32_t ran;
  if (!readable(fd, ms)) return 0;
  return airs_runtime_poll(rt, 1000, &ran) == AIRS_OK;
}

/* Polls while the fd is readable: the runtime settles. 1: it did. */
static int host_settle(airs_runtime* rt, int fd) {
  int i;
  for (i = 0; i < 1000; i++)
    if (!host_turn(rt, fd, 0)) return 1;
  return 0;
}

/* Runs the host's loop until probe q has a message of `type`. */
static int host_until(airs_runtime* rt, int fd, probe* q, uint64_t type,
                      probe_msg* out) {
  double end = now_ms() + WAIT_MS;
  while (now_ms() < end) {
    if (probe_wait(q, type, 0, out)) return 1;
    host_turn(rt, fd, (int)(end - now_ms()) + 1);
  }
  return probe_wait(q, type, 0, out);
}

static void test_host_wakes_on_io(void) {
  airs_runtime* rt = make_host_runtime(1000);
  echo e;
  probe* q = probe_new(); /* q->host stays NULL: only the loop polls */
  airs_behaviour b;
  airs_pid ep = 0, qp;
  airs_addr bound;
  airs_socket ls, cs;
  airs_socket_opts o;
  probe_msg m;
  int fd = -1, c, polls = 0, i;
  char back[64];
  size_t got = 0;
  const char* ping = "ping from a plain socket";
  double end;
  memset(&e, 0, sizeof e);
  e.rt = rt;
  memset(&b, 0, sizeof b);
  b.version = AIRS_BEHAVIOUR_VERSION;
  b.size = sizeof b;
  b.receive = echo_receive;
  CHECK_OK(airs_spawn(rt, &b, &e, NULL, NULL, &ep));
  qp = probe_spawn(rt, q);
  CHECK_OK(airs_runtime_fd(rt, &fd));
  ls = listen_on_loopback(rt, ep, AIRS_ACTIVE_ALWAYS, &bound);
  CHECK(ls != 0);
  CHECK(host_settle(rt, fd));
  CHECK(!readable(fd, 0));
  /* A plain peer connects: the accept alone makes the fd readable. */
  c = plain_connect(bound.port, 0);
  CHECK(c >= 0);
  CHECK(readable(fd, WAIT_MS));
  end = now_ms() + WAIT_MS;
  while (e.accepted == 0 && now_ms() < end)
    polls += host_turn(rt, fd, (int)(end - now_ms()) + 1);
  CHECK_EQ(e.accepted, 1);
  CHECK(host_settle(rt, fd));
  CHECK(!readable(fd, 0));
  /* Its bytes alone make the fd readable; the echo comes back. */
  CHECK(write(c, ping, strlen(ping)) == (ssize_t)strlen(ping));
  CHECK(readable(fd, WAIT_MS));
  end = now_ms() + WAIT_MS;
  while (got < strlen(ping) && now_ms() < end) {
    struct pollfd pfd[2];
    pfd[0].fd = fd;
    pfd[1].fd = c;
    pfd[0].events = pfd[1].events = POLLIN;
    pfd[0].revents = pfd[1].revents = 0;
    if (poll(pfd, 2, (int)(end - now_ms()) + 1) <= 0) continue;
    if (pfd[0].revents & POLLIN) polls += host_turn(rt, fd, 0);
    if (pfd[1].revents & POLLIN) {
      ssize_t r = recv(c, back + got, sizeof back - got, 0);
      if (r <= 0) break;
      got += (size_t)r;
    }
  }
  CHECK_EQ(got, strlen(ping));
  CHECK(got == strlen(ping) && !memcmp(back, ping, got));
  CHECK_EQ(e.echoed, strlen(ping));
  CHECK(polls >= 2);
  /* An airs client through the same loop: connect, echo, half-close. */
  airs_socket_opts_init(&o);
  o.active = AIRS_ACTIVE_ALWAYS;
  CHECK_OK(airs_tcp_connect(rt, qp, &bound, 2000, &o, &cs));
  CHECK(host_until(rt, fd, q, AIRS_MSG_SOCK_CONNECTED, &m));
  CHECK(m.socket == cs);
  CHECK_OK(airs_socket_send(rt, cs, "ping", 4, 0));
  CHECK(host_until(rt, fd, q, AIRS_MSG_SOCK_DATA, &m));
  CHECK(m.socket == cs && m.size == 4 && !memcmp(m.data, "ping", 4));
  CHECK_OK(airs_socket_shutdown(rt, cs));
  CHECK(host_until(rt, fd, q, AIRS_MSG_SOCK_EOF, &m)); /* the echo closed */
  CHECK_EQ(e.accepted, 2);
  CHECK_EQ(e.send_failures, 0);
  /* The plain peer leaves; its connection closes at the EOF. */
  close(c);
  end = now_ms() + WAIT_MS;
  for (i = 0; airs_socket_count(rt) > 2 && now_ms() < end; i++)
    host_turn(rt, fd, (int)(end - now_ms()) + 1);
  CHECK_EQ(airs_socket_count(rt), 2); /* the listener and cs */
  CHECK(host_settle(rt, fd));
  CHECK(!readable(fd, 0));
  airs_runtime_free(rt);
  probe_free(q);
}

/* ---- main ---------------------------------------------------------------- */

int main(void) {
  struct rlimit rl;
  /* A thousand connections need two thousand fds and more. */
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  test_peer_reset_while_reading();
  test_send_to_peer_that_reset();
  test_peer_reset_with_bytes_queued();
  test_error_comes_after_close();
  test_connect_timeout();
  test_io_while_the_worker_is_busy();
  test_sockets_of_a_held_worker();
  test_out_of_fds();
  test_slow_reader_back_pressure();
  test_thousand_connections();
  test_owner_killed_mid_transfer();
  test_sends_from_many_threads();
  test_give_races_owner_end();
  test_host_wakes_on_io();
  return CHECK_DONE();
}
