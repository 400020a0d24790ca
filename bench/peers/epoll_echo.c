/*
 * epoll-echo - the floor for airs-bench's network workloads: a minimal
 * hand-written TCP echo server and its client, both in one process on one
 * thread, driven by a single level-triggered epoll loop over 127.0.0.1.
 * Prints one JSON line per run, with the same keys as airs-bench.
 *
 *   epoll-echo echo [N]            one connection, 1000 warm-up round trips,
 *                                  then N timed ones (default 100000)
 *   epoll-echo echo_many [C [M]]   C connections (default 1000), one message
 *                                  in flight on each, M timed round trips in
 *                                  all (default 1000000) after one warm-up
 *                                  round trip per connection
 *   epoll-echo echo_many_split T [C [M]]
 *                                  echo_many split over T threads, each with
 *                                  its own loop, C/T connections (both ends)
 *                                  and M/T round trips: what T cores can do
 *                                  with no work crossing between threads (a
 *                                  ceiling to compare a runtime's T workers
 *                                  with, not the floor)
 *
 * A round trip: the client writes a 64-byte message, the server reads it and
 * writes it back, the client reads until all 64 bytes came back (and checks
 * them). Its time (CLOCK_MONOTONIC, from the client's write to the last byte
 * read) is recorded for p50_ns/p99_ns.
 *
 * Sockets are TCP_NODELAY and written with MSG_NOSIGNAL. The connections are
 * set up before any timing with a blocking connect() and accept(); from then
 * on every socket is non-blocking and only epoll decides who runs.
 *
 * Build: meson compile -C build bench/epoll-echo (see bench/meson.build).
 */
#define _GNU_SOURCE /* accept4, SOCK_NONBLOCK */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MSG_SIZE 64
#define BUF_SIZE 256 /* a server end's echo buffer */
#define MAX_EVENTS 256
#define ECHO_WARMUP 1000 /* round trips before echo's timed ones */

/* One end of a connection. Both ends live in the same loop; epoll hands
 * back the peer itself as the event's data. */
typedef struct peer {
  int fd;
  int client;        /* 1: the client's end, 0: the server's */
  uint32_t interest; /* the events registered with epoll right now */
  size_t out_off;    /* bytes of the outgoing data written so far */
  size_t out_len;    /* bytes of outgoing data (server: in buf) */
  size_t in_len;     /* client: bytes of the reply read so far */
  uint64_t sent_ns;  /* client: when the current round trip began */
  unsigned char buf[BUF_SIZE];
} peer;

/* The whole benchmark: the loop, both ends of every connection and the
 * progress of the phase being run. */
typedef struct bench {
  int epfd;
  long conns;
  peer* clients; /* conns of them */
  peer* servers; /* conns of them */
  long total;    /* round trips to run in this phase */
  long issued;   /* round trips started */
  long done;     /* round trips completed */
  uint64_t* lat; /* the phase's round trip times, or NULL */
  uint64_t last_ns;
} bench;

static const char* prog = "epoll-echo";
static unsigned char msg[MSG_SIZE];

/* ---- errors and time */

static void die(const char* what) {
  fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(errno));
  exit(1);
}

static void fail(const char* what) {
  fprintf(stderr, "%s: %s\n", prog, what);
  exit(1);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) die("clock_gettime");
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- setup: file limit, listener, connections, epoll */

/* Two descriptors per connection plus a few; raise the soft limit to the
 * hard one if that is not enough. */
static void raise_nofile(long conns) {
  struct rlimit rl;
  rlim_t need = (rlim_t)conns * 2 + 16;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) die("getrlimit");
  if (rl.rlim_cur >= need) return;
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
    fprintf(stderr,
            "%s: %ld connections need %lu descriptors, the hard limit is "
            "%lu\n",
            prog, conns, (unsigned long)need, (unsigned long)rl.rlim_max);
    exit(1);
  }
  rl.rlim_cur = rl.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0) die("setrlimit");
}

static void set_nodelay(int fd) {
  int one = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
    die("setsockopt(TCP_NODELAY)");
}

/* A listener on 127.0.0.1 at a port the kernel picks; *addr gets it. */
static int listen_loopback(struct sockaddr_in* addr) {
  socklen_t len = sizeof *addr;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  memset(addr, 0, sizeof *addr);
  addr->sin_family = AF_INET;
  addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr->sin_port = 0;
  if (bind(fd, (struct sockaddr*)addr, sizeof *addr) != 0) die("bind");
  if (listen(fd, SOMAXCONN) != 0) die("listen");
  if (getsockname(fd, (struct sockaddr*)addr, &len) != 0) die("getsockname");
  return fd;
}

static void watch(bench* b, peer* p, uint32_t events, int op) {
  struct epoll_event ev;
  ev.events = events;
  ev.data.ptr = p;
  if (epoll_ctl(b->epfd, op, p->fd, &ev) != 0) die("epoll_ctl");
  p->interest = events;
}

/* Change what p waits for, if it differs from what it waits for now. */
static void rewatch(bench* b, peer* p, uint32_t events) {
  if (p->interest != events) watch(b, p, events, EPOLL_CTL_MOD);
}

/* Connect the clients one at a time and accept each right away, so the
 * listen backlog never limits the number of connections. Both ends are
 * then made non-blocking and registered for input. */
static void connect_all(bench* b) {
  struct sockaddr_in addr;
  int lfd = listen_loopback(&addr);
  for (long i = 0; i < b->conns; i++) {
    peer* c = &b->clients[i];
    peer* s = &b->servers[i];
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0) die("socket");
    if (connect(c->fd, (struct sockaddr*)&addr, sizeof addr) != 0)
      die("connect");
    s->fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (s->fd < 0) die("accept4");
    int flags = fcntl(c->fd, F_GETFL);
    if (flags < 0 || fcntl(c->fd, F_SETFL, flags | O_NONBLOCK) != 0)
      die("fcntl(O_NONBLOCK)");
    set_nodelay(c->fd);
    set_nodelay(s->fd);
    c->client = 1;
    s->client = 0;
    watch(b, c, EPOLLIN, EPOLL_CTL_ADD);
    watch(b, s, EPOLLIN, EPOLL_CTL_ADD);
  }
  close(lfd);
}

static void bench_init(bench* b, long conns) {
  memset(b, 0, sizeof *b);
  raise_nofile(conns);
  b->conns = conns;
  b->clients = calloc((size_t)conns, sizeof *b->clients);
  b->servers = calloc((size_t)conns, sizeof *b->servers);
  if (!b->clients || !b->servers) fail("out of memory");
  b->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (b->epfd < 0) die("epoll_create1");
  connect_all(b);
}

static void bench_close(bench* b) {
  for (long i = 0; i < b->conns; i++) {
    close(b->clients[i].fd);
    close(b->servers[i].fd);
  }
  close(b->epfd);
  free(b->clients);
  free(b->servers);
}

/* ---- I/O on one peer */

/* Write what is left of p's outgoing data. Returns 1 when all of it is
 * written, 0 when the socket is full (EAGAIN). */
static int flush_out(peer* p, const unsigned char* data) {
  while (p->out_off < p->out_len) {
    ssize_t n =
        send(p->fd, data + p->out_off, p->out_len - p->out_off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
      die("send");
    }
    p->out_off += (size_t)n;
  }
  return 1;
}

/* Read into p->buf at off, at most cap - off bytes. Returns the number of
 * bytes read, 0 when none are there yet (EAGAIN); end of stream is fatal,
 * no connection closes during a run. */
static size_t read_in(peer* p, size_t off, size_t cap) {
  for (;;) {
    ssize_t n = recv(p->fd, p->buf + off, cap - off, 0);
    if (n > 0) return (size_t)n;
    if (n == 0) fail("connection closed during the run");
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    die("recv");
  }
}

/* ---- the server's end: echo what comes in */

/* Read what is there and write it back. If the socket will not take all
 * of it, stop reading and wait until it is writable (back-pressure). */
static void server_event(bench* b, peer* s, uint32_t events) {
  if (s->out_off < s->out_len) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    if (!flush_out(s, s->buf)) return;
    s->out_off = s->out_len = 0;
    rewatch(b, s, EPOLLIN);
    return;
  }
  size_t n = read_in(s, 0, sizeof s->buf);
  if (n == 0) return;
  s->out_off = 0;
  s->out_len = n;
  if (flush_out(s, s->buf))
    s->out_off = s->out_len = 0;
  else
    rewatch(b, s, EPOLLOUT);
}

/* ---- the client's end: one message in flight */

/* Start a round trip on c: write the message, or as much of it as the
 * socket takes and the rest when it is writable. */
static void client_send(bench* b, peer* c) {
  b->issued++;
  c->in_len = 0;
  c->out_off = 0;
  c->out_len = MSG_SIZE;
  c->sent_ns = now_ns();
  if (!flush_out(c, msg)) rewatch(b, c, EPOLLIN | EPOLLOUT);
}

/* The whole reply is in: record the round trip and start the next one on
 * the same connection while the phase has some left to start. */
static void client_done(bench* b, peer* c) {
  uint64_t t = now_ns();
  if (memcmp(c->buf, msg, MSG_SIZE) != 0) fail("the echo differs");
  if (b->lat) b->lat[b->done] = t - c->sent_ns;
  b->done++;
  b->last_ns = t;
  if (b->issued < b->total) client_send(b, c);
}

static void client_event(bench* b, peer* c, uint32_t events) {
  if ((events & EPOLLOUT) && c->out_off < c->out_len) {
    if (flush_out(c, msg)) rewatch(b, c, EPOLLIN);
  }
  if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP))) return;
  if (c->in_len == MSG_SIZE) fail("the server sent more than it was sent");
  size_t n = read_in(c, c->in_len, MSG_SIZE);
  c->in_len += n;
  if (c->in_len == MSG_SIZE && c->out_off == c->out_len) client_done(b, c);
}

/* ---- the loop */

/* Run total round trips, one in flight per connection, starting on the
 * first min(conns, total) connections. Returns the elapsed nanoseconds from
 * the first write to the last reply; lat, if not NULL, gets each round
 * trip's time in the order they completed. */
static uint64_t run_phase(bench* b, long total, uint64_t* lat) {
  struct epoll_event events[MAX_EVENTS];
  b->total = total;
  b->issued = 0;
  b->done = 0;
  b->lat = lat;
  uint64_t start = now_ns();
  b->last_ns = start;
  for (long i = 0; i < b->conns && b->issued < total; i++)
    client_send(b, &b->clients[i]);
  while (b->done < total) {
    int n = epoll_wait(b->epfd, events, MAX_EVENTS, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < n; i++) {
      peer* p = events[i].data.ptr;
      if (p->client)
        client_event(b, p, events[i].events);
      else
        server_event(b, p, events[i].events);
    }
  }
  return b->last_ns - start;
}

/* ---- results */

static int cmp_u64(const void* a, const void* b) {
  uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
  return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array of n > 0 values. */
static uint64_t percentile(const uint64_t* sorted, long n, int pct) {
  long rank = (n * pct + 99) / 100; /* ceil(n * pct / 100), 1-based */
  if (rank < 1) rank = 1;
  return sorted[rank - 1];
}

static void report(const char* workload, const char* params, long ops,
                   uint64_t ns, uint64_t* lat) {
  if (ns == 0) ns = 1; /* never divide by zero */
  double secs = (double)ns * 1e-9;
  qsort(lat, (size_t)ops, sizeof *lat, cmp_u64);
  printf(
      "{\"impl\":\"epoll\",\"workload\":\"%s\",\"params\":{%s},"
      "\"ops\":%ld,\"seconds\":%.6f,\"ops_per_s\":%.1f,"
      "\"ns_per_op\":%.2f,\"p50_ns\":%llu,\"p99_ns\":%llu}\n",
      workload, params, ops, secs, (double)ops / secs, (double)ns / (double)ops,
      (unsigned long long)percentile(lat, ops, 50),
      (unsigned long long)percentile(lat, ops, 99));
  if (fflush(stdout) != 0) die("stdout");
}

static uint64_t* lat_new(long n) {
  uint64_t* lat = malloc(sizeof *lat * (size_t)n);
  if (!lat) fail("out of memory");
  return lat;
}

/* ---- the workloads */

/* echo N: one connection, ECHO_WARMUP untimed round trips, N timed. */
static void run_echo(long n) {
  bench b;
  bench_init(&b, 1);
  uint64_t* lat = lat_new(n);
  run_phase(&b, ECHO_WARMUP, NULL);
  uint64_t ns = run_phase(&b, n, lat);
  char params[64];
  snprintf(params, sizeof params, "\"n\":%ld", n);
  report("echo", params, n, ns, lat);
  free(lat);
  bench_close(&b);
}

/* echo_many C M: C connections, one untimed round trip on each, then M
 * timed ones in all with one message in flight per connection. */
static void run_echo_many(long conns, long msgs) {
  bench b;
  bench_init(&b, conns);
  uint64_t* lat = lat_new(msgs);
  run_phase(&b, conns, NULL);
  uint64_t ns = run_phase(&b, msgs, lat);
  char params[64];
  snprintf(params, sizeof params, "\"conns\":%ld,\"msgs\":%ld", conns, msgs);
  report("echo_many", params, msgs, ns, lat);
  free(lat);
  bench_close(&b);
}

/* echo_many_split T C M: T threads, each a loop of its own with C/T
 * connections and M/T round trips (the first threads take the
 * remainders); they start their timed round trips together, and the time
 * runs to the last one's end. */
typedef struct split_part {
  pthread_t thread;
  long conns, msgs;
  uint64_t* lat; /* this part's slice of the run's latencies */
  uint64_t end_ns;
  pthread_barrier_t* ready; /* everyone warm: the clock starts */
} split_part;

static void* split_main(void* arg) {
  split_part* part = arg;
  bench b;
  bench_init(&b, part->conns);
  run_phase(&b, part->conns, NULL);
  pthread_barrier_wait(part->ready);
  run_phase(&b, part->msgs, part->lat);
  part->end_ns = b.last_ns;
  bench_close(&b);
  return NULL;
}

static void run_echo_many_split(long threads, long conns, long msgs) {
  if (threads > conns || threads > msgs) {
    fprintf(stderr,
            "%s: echo_many_split needs a connection and a round trip per "
            "thread\n",
            prog);
    exit(2);
  }
  split_part* parts = calloc((size_t)threads, sizeof *parts);
  uint64_t* lat = lat_new(msgs);
  pthread_barrier_t ready;
  if (!parts || pthread_barrier_init(&ready, NULL, (unsigned)threads + 1))
    fail("out of memory");
  raise_nofile(conns);
  long lat_at = 0;
  for (long i = 0; i < threads; i++) {
    split_part* part = &parts[i];
    part->conns = conns / threads + (i < conns % threads);
    part->msgs = msgs / threads + (i < msgs % threads);
    part->lat = lat + lat_at;
    lat_at += part->msgs;
    part->ready = &ready;
    if (pthread_create(&part->thread, NULL, split_main, part) != 0)
      fail("pthread_create");
  }
  pthread_barrier_wait(&ready);
  uint64_t start = now_ns(), end = start;
  for (long i = 0; i < threads; i++) {
    pthread_join(parts[i].thread, NULL);
    if (parts[i].end_ns > end) end = parts[i].end_ns;
  }
  char params[96];
  snprintf(params, sizeof params, "\"threads\":%ld,\"conns\":%ld,\"msgs\":%ld",
           threads, conns, msgs);
  report("echo_many_split", params, msgs, end - start, lat);
  pthread_barrier_destroy(&ready);
  free(lat);
  free(parts);
}

/* ---- arguments */

static void usage(void) {
  fprintf(stderr,
          "usage: %s echo [N] | echo_many [C [M]] | echo_many_split T [C [M]]\n"
          "  echo N         N timed round trips on one connection "
          "(default 100000)\n"
          "  echo_many C M  C connections, M round trips in all "
          "(defaults 1000, 1000000)\n"
          "  echo_many_split T C M  echo_many on T threads, each with C/T "
          "connections\n",
          prog);
  exit(2);
}

/* argv[i] as a count in 1..max, or dflt when absent; anything else is a
 * usage error. */
static long count_arg(int argc, char** argv, int i, long dflt, long max,
                      const char* name) {
  if (i >= argc) return dflt;
  char* end;
  errno = 0;
  long v = strtol(argv[i], &end, 10);
  if (errno != 0 || end == argv[i] || *end != '\0' || v < 1 || v > max) {
    fprintf(stderr, "%s: %s must be an integer in 1..%ld, not '%s'\n", prog,
            name, max, argv[i]);
    exit(2);
  }
  return v;
}

int main(int argc, char** argv) {
  if (argc < 2) usage();
  for (size_t i = 0; i < MSG_SIZE; i++) msg[i] = (unsigned char)('a' + i % 26);
  const char* w = argv[1];
  if (strcmp(w, "echo") == 0) {
    if (argc > 3) usage();
    run_echo(count_arg(argc, argv, 2, 100000, 1000000000L, "N"));
  } else if (strcmp(w, "echo_many") == 0) {
    if (argc > 4) usage();
    long conns = count_arg(argc, argv, 2, 1000, 1000000L, "C");
    long msgs = count_arg(argc, argv, 3, 1000000, 1000000000L, "M");
    run_echo_many(conns, msgs);
  } else if (strcmp(w, "echo_many_split") == 0) {
    if (argc < 3 || argc > 5) usage();
    long threads = count_arg(argc, argv, 2, 2, 64, "T");
    long conns = count_arg(argc, argv, 3, 1000, 1000000L, "C");
    long msgs = count_arg(argc, argv, 4, 1000000, 1000000000L, "M");
    run_echo_many_split(threads, conns, msgs);
  } else {
    fprintf(stderr, "%s: unknown workload '%s'\n", prog, w);
    usage();
  }
  return 0;
}
