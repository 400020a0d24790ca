/*
 * test_api_net.c - sockets owned by processes (<airs/net.h>) and the
 * host's wake-up fd (<airs/io.h>), through the public API only, on
 * loopback. A probe process owns the sockets; this thread drives them and
 * waits for the probe's messages.
 */
#define _GNU_SOURCE /* pthread, clock_gettime, poll */
#include <airs/airs.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "helpers.h"
#include "net_probe.h"

#define WAIT_MS 5000
#define CHECK_OK(call) CHECK_EQ((call), AIRS_OK)

static void test_addresses(void) {
  airs_addr a;
  char buf[64];
  CHECK_OK(airs_addr_parse("127.0.0.1:8080", &a));
  CHECK(a.family == AIRS_AF_INET4 && a.port == 8080 && a.ip[0] == 127);
  CHECK_OK(airs_addr_format(&a, buf, sizeof buf));
  CHECK_STR(buf, "127.0.0.1:8080");
  CHECK_OK(airs_addr_parse("[::1]:0", &a));
  CHECK(a.family == AIRS_AF_INET6 && a.port == 0 && a.ip[15] == 1);
  CHECK_OK(airs_addr_format(&a, buf, sizeof buf));
  CHECK_STR(buf, "[::1]:0");
  CHECK_OK(airs_addr_parse("[fe80::1%3]:53", &a));
  CHECK(a.scope_id == 3);
  CHECK_OK(airs_addr_format(&a, buf, sizeof buf));
  CHECK_STR(buf, "[fe80::1%3]:53");
  CHECK_ST(airs_addr_parse("localhost:80", &a), AIRS_EINVAL); /* no DNS */
  CHECK_ST(airs_addr_parse("1.2.3.4", &a), AIRS_EINVAL);
  CHECK_ST(airs_addr_parse("1.2.3.4:65536", &a), AIRS_EINVAL);
  CHECK_ST(airs_addr_parse("1.2.3.4:-1", &a), AIRS_EINVAL);
  CHECK_ST(airs_addr_parse("[::1]80", &a), AIRS_EINVAL);
  CHECK_ST(airs_addr_parse("::1:80", &a), AIRS_EINVAL);
  CHECK_ST(airs_addr_parse(NULL, &a), AIRS_EINVAL);
  CHECK_ST(airs_addr_format(&a, buf, 4), AIRS_EINVAL);
  CHECK_STR(buf, "");
  a.family = 5;
  CHECK_ST(airs_addr_format(&a, buf, sizeof buf), AIRS_EINVAL);
}

static void test_bad_arguments(void) {
  airs_runtime* rt = make_runtime(2, 0);
  probe* p = probe_new();
  airs_pid owner = probe_spawn(rt, p);
  airs_addr a = loopback4(0);
  airs_socket_opts o;
  airs_socket s = 99;
  CHECK_OK(airs_socket_opts_init(&o));
  CHECK(o.active == 0 && o.send_buffer == 262144 && o.read_size == 65536);
  CHECK_ST(airs_socket_opts_init(NULL), AIRS_EINVAL);
  CHECK_ST(airs_tcp_listen(NULL, owner, &a, NULL, &s), AIRS_EINVAL);
  CHECK_ST(airs_tcp_listen(rt, owner, NULL, NULL, &s), AIRS_EINVAL);
  CHECK_ST(airs_tcp_listen(rt, owner, &a, NULL, NULL), AIRS_EINVAL);
  CHECK_ST(airs_tcp_listen(rt, 12345, &a, NULL, &s), AIRS_ENOPROC);
  CHECK(s == 0);
  o.active = -2;
  CHECK_ST(airs_tcp_listen(rt, owner, &a, &o, &s), AIRS_EINVAL);
  airs_socket_opts_init(&o);
  o.flags = 0x100;
  CHECK_ST(airs_tcp_listen(rt, owner, &a, &o, &s), AIRS_EINVAL);
  airs_socket_opts_init(&o);
  o.send_buffer = 1;
  CHECK_ST(airs_udp_open(rt, owner, &a, &o, &s), AIRS_EINVAL);
  airs_socket_opts_init(&o);
  o.version = 9;
  CHECK_ST(airs_tcp_connect(rt, owner, &a, 0, &o, &s), AIRS_EINVAL);
  a.family = 7;
  CHECK_ST(airs_tcp_listen(rt, owner, &a, NULL, &s), AIRS_EINVAL);
  CHECK_ST(airs_socket_send(rt, 0, "x", 1, 0), AIRS_ENOTFOUND);
  CHECK_ST(airs_socket_send(rt, 12345, "x", 1, 0), AIRS_ENOTFOUND);
  CHECK_ST(airs_socket_close(rt, 12345), AIRS_ENOTFOUND);
  CHECK_ST(airs_socket_set_active(rt, 12345, 1), AIRS_ENOTFOUND);
  CHECK_ST(airs_socket_give(rt, 12345, owner), AIRS_ENOTFOUND);
  CHECK_ST(airs_socket_shutdown(rt, 12345), AIRS_ENOTFOUND);
  /* A listener is no connection; a taken port is a conflict. */
  a = loopback4(0);
  CHECK_OK(airs_tcp_listen(rt, owner, &a, NULL, &s));
  CHECK_ST(airs_socket_send(rt, s, "x", 1, 0), AIRS_ESTATE);
  CHECK_ST(airs_socket_shutdown(rt, s), AIRS_ESTATE);
  CHECK_ST(airs_socket_set_active(rt, s, -5), AIRS_EINVAL);
  CHECK_ST(airs_socket_send(rt, s, NULL, 1, 0), AIRS_EINVAL);
  {
    airs_addr local;
    airs_socket s2;
    CHECK_OK(airs_socket_addr(rt, s, &local, NULL));
    CHECK(local.port != 0);
    CHECK_ST(airs_socket_addr(rt, s, NULL, &local), AIRS_ESTATE);
    o.version = AIRS_SOCKET_OPTS_VERSION;
    airs_socket_opts_init(&o);
    o.flags = 0; /* no SO_REUSEADDR: the same port is taken */
    CHECK_ST(airs_tcp_listen(rt, owner, &local, &o, &s2), AIRS_ESTATE);
  }
  CHECK_OK(airs_socket_close(rt, s));
  CHECK_ST(airs_socket_close(rt, s), AIRS_ENOTFOUND);
  CHECK(airs_socket_count(rt) == 0);
  CHECK(airs_socket_count(NULL) == 0);
  {
    int fd;
    CHECK_ST(airs_runtime_fd(rt, &fd), AIRS_ESTATE); /* threaded */
    CHECK(fd == -1);
    CHECK_ST(airs_runtime_fd(rt, NULL), AIRS_EINVAL);
  }
  airs_runtime_free(rt);
  probe_free(p);
}

/* A listener and a client in one probe each: accept, give, echo both
 * ways, half-close, EOF. `host`: host-driven, the probes poll. */
static void run_tcp_round_trip(int host, int six) {
  airs_runtime* rt = host ? make_host_runtime(2000) : make_runtime(2, 0);
  probe* server = probe_new();
  probe* client = probe_new();
  airs_pid sp, cp;
  airs_addr a = six ? loopback6(0) : loopback4(0), bound;
  airs_socket ls, cs, conn;
  airs_socket_opts o;
  probe_msg m;
  airs_sock_accepted acc;
  if (host) server->host = client->host = rt;
  sp = probe_spawn(rt, server);
  cp = probe_spawn(rt, client);
  airs_socket_opts_init(&o);
  o.active = AIRS_ACTIVE_ALWAYS;
  CHECK_OK(airs_tcp_listen(rt, sp, &a, &o, &ls));
  CHECK_OK(airs_socket_addr(rt, ls, &bound, NULL));
  CHECK_OK(airs_tcp_connect(rt, cp, &bound, 2000, NULL, &cs));
  CHECK(cs != 0 && cs != ls);
  CHECK(probe_wait(client, AIRS_MSG_SOCK_CONNECTED, WAIT_MS, &m));
  CHECK(m.socket == cs);
  CHECK(probe_wait(server, AIRS_MSG_SOCK_ACCEPTED, WAIT_MS, &m));
  CHECK(m.socket == ls && m.size == sizeof acc);
  memcpy(&acc, m.data, sizeof acc);
  conn = acc.socket;
  CHECK(acc.peer.family == (six ? AIRS_AF_INET6 : AIRS_AF_INET4));
  CHECK(airs_socket_count(rt) == 3);
  /* The accepted socket is passive: data waits until it is set active. */
  CHECK_OK(airs_socket_send(rt, cs, "hello", 5, 7));
  CHECK(probe_wait(client, AIRS_MSG_SOCK_SENT, WAIT_MS, &m));
  CHECK(m.size == 8 && *(uint64_t*)(void*)m.data == 7);
  /* Nothing (NULL, 0) is a send too: acknowledged, in its turn. */
  CHECK_OK(airs_socket_send(rt, cs, NULL, 0, 8));
  CHECK(probe_wait(client, AIRS_MSG_SOCK_SENT, WAIT_MS, &m));
  CHECK(m.size == 8 && *(uint64_t*)(void*)m.data == 8);
  CHECK(!probe_wait(server, AIRS_MSG_SOCK_DATA, 50, &m));
  CHECK_OK(airs_socket_set_active(rt, conn, 1));
  CHECK(probe_wait(server, AIRS_MSG_SOCK_DATA, WAIT_MS, &m));
  CHECK(m.socket == conn && m.size == 5 && !memcmp(m.data, "hello", 5));
  CHECK(probe_wait(server, AIRS_MSG_SOCK_PASSIVE, WAIT_MS, &m));
  CHECK(m.socket == conn);
  /* Back the other way, to the client once it is active. */
  CHECK_OK(airs_socket_set_active(rt, cs, AIRS_ACTIVE_ALWAYS));
  CHECK_OK(airs_socket_send(rt, conn, "world!", 6, 0));
  CHECK(probe_wait(client, AIRS_MSG_SOCK_DATA, WAIT_MS, &m));
  CHECK(m.size == 6 && !memcmp(m.data, "world!", 6));
  /* Half-close: the server reads EOF, and can still answer. */
  CHECK_OK(airs_socket_shutdown(rt, cs));
  CHECK_ST(airs_socket_send(rt, cs, "x", 1, 0), AIRS_ESTATE);
  CHECK_OK(airs_socket_set_active(rt, conn, 5));
  CHECK(probe_wait(server, AIRS_MSG_SOCK_EOF, WAIT_MS, &m));
  CHECK(m.socket == conn);
  CHECK_OK(airs_socket_send(rt, conn, "bye", 3, 0));
  CHECK(probe_wait(client, AIRS_MSG_SOCK_DATA, WAIT_MS, &m));
  CHECK(m.size == 3 && !memcmp(m.data, "bye", 3));
  CHECK_OK(airs_socket_close(rt, conn));
  CHECK(probe_wait(client, AIRS_MSG_SOCK_EOF, WAIT_MS, &m));
  airs_runtime_free(rt);
  probe_free(server);
  probe_free(client);
}

static void test_tcp_round_trip(void) {
  run_tcp_round_trip(0, 0);
  run_tcp_round_trip(0, 1);
  run_tcp_round_trip(1, 0);
  run_tcp_round_trip(1, 1);
}

/* {active, N}: N messages, then PASSIVE, then nothing until more credit. */
static void test_active_n(void) {
  airs_runtime* rt = make_runtime(2, 0);
  probe* p = probe_new();
  airs_pid owner = probe_spawn(rt, p);
  airs_addr a = loopback4(0), bound;
  airs_socket ls, cs, conn;
  airs_socket_opts o;
  airs_sock_accepted acc;
  probe_msg m;
  int i, data = 0;
  airs_socket_opts_init(&o);
  o.active = 1;
  o.read_size = 16; /* 64 bytes arrive as 4 reads at least */
  CHECK_OK(airs_tcp_listen(rt, owner, &a, &o, &ls));
  CHECK_OK(airs_socket_addr(rt, ls, &bound, NULL));
  CHECK_OK(airs_tcp_connect(rt, owner, &bound, 0, NULL, &cs));
  CHECK(probe_wait(p, AIRS_MSG_SOCK_ACCEPTED, WAIT_MS, &m));
  CHECK(probe_wait(p, AIRS_MSG_SOCK_PASSIVE, WAIT_MS, &m)); /* listener */
  CHECK(m.socket == ls);
  memcpy(&acc, m.data, 0);
  memcpy(&acc, p->msgs[p->taken - 2].data, sizeof acc);
  conn = acc.socket;
  CHECK_OK(airs_socket_send(rt, cs,
                            "0123456789abcdef0123456789abcdef"
                            "0123456789abcdef0123456789abcdef",
                            64, 0));
  CHECK_OK(airs_socket_set_active(rt, conn, 2));
  for (i = 0; i < 2; i++)
    if (probe_wait(p, AIRS_MSG_SOCK_DATA, WAIT_MS, &m)) data++;
  CHECK(data == 2);
  CHECK(probe_wait(p, AIRS_MSG_SOCK_PASSIVE, WAIT_MS, &m));
  CHECK(m.socket == conn);
  CHECK(!probe_wait(p, AIRS_MSG_SOCK_DATA, 50, &m));
  CHECK_OK(airs_socket_set_active(rt, conn, AIRS_ACTIVE_MAX + 100));
  CHECK(probe_wait_bytes(p, 64, WAIT_MS));
  airs_runtime_free(rt);
  probe_free(p);
}

static void test_connect_refused(void) {
  airs_runtime* rt = make_runtime(2, 0);
  probe* p = probe_new();
  airs_pid owner = probe_spawn(rt, p);
  airs_addr a = loopback4(0), bound;
  airs_socket ls, cs;
  probe_msg m;
  airs_sock_error e;
  /* A port that was just free: bind a listener, note its port, close it. */
  CHECK_OK(airs_tcp_listen(rt, owner, &a, NULL, &ls));
  CHECK_OK(airs_socket_addr(rt, ls, &bound, NULL));
  CHECK_OK(airs_socket_close(rt, ls));
  CHECK_OK(airs_tcp_connect(rt, owner, &bound, 1000, NULL, &cs));
  CHECK(probe_wait(p, AIRS_MSG_SOCK_ERROR, WAIT_MS, &m));
  CHECK(m.socket == cs && m.size == sizeof e);
  memcpy(&e, m.data, sizeof e);
  CHECK(e.err == ECONNREFUSED);
  CHECK_STR(e.op, "connect");
  CHECK(strlen(e.text) > 0);
  CHECK_ST(airs_socket_send(rt, cs, "x", 1, 0), AIRS_ENOTFOUND);
  CHECK(airs_socket_count(rt) == 0);
  airs_runtime_free(rt);
  probe_free(p);
}

static void run_udp(int six) {
  airs_runtime* rt = make_runtime(2, 0);
  probe* p = probe_new();
  airs_pid owner = probe_spawn(rt, p);
  airs_addr a = six ? loopback6(0) : loopback4(0), ba, bb;
  airs_socket ua, ub;
  airs_socket_opts o;
  probe_msg m;
  airs_datagram d;
  airs_socket_opts_init(&o);
  o.active = AIRS_ACTIVE_ALWAYS;
  o.read_size = 16;
  CHECK_OK(airs_udp_open(rt, owner, &a, &o, &ua));
  CHECK_OK(airs_udp_open(rt, owner, &a, &o, &ub));
  CHECK_OK(airs_socket_addr(rt, ua, &ba, NULL));
  CHECK_OK(airs_socket_addr(rt, ub, &bb, NULL));
  CHECK_OK(airs_udp_send(rt, ua, &bb, "ping", 4));
  CHECK(probe_wait(p, AIRS_MSG_SOCK_DATAGRAM, WAIT_MS, &m));
  CHECK(m.socket == ub && m.size == sizeof d + 4);
  memcpy(&d, m.data, sizeof d);
  CHECK(d.size == 4 && !d.truncated && d.from.port == ba.port);
  CHECK(!memcmp(m.data + sizeof d, "ping", 4));
  /* Longer than read_size: cut, and said so. */
  CHECK_OK(airs_udp_send(rt, ub, &ba, "0123456789abcdefXYZ", 19));
  CHECK(probe_wait(p, AIRS_MSG_SOCK_DATAGRAM, WAIT_MS, &m));
  memcpy(&d, m.data, sizeof d);
  CHECK(m.socket == ua && d.size == 16 && d.truncated == 1);
  /* Checks. */
  CHECK_ST(airs_socket_send(rt, ua, "x", 1, 0), AIRS_ESTATE);
  CHECK_ST(airs_udp_send(rt, ua, NULL, "x", 1), AIRS_EINVAL);
  {
    airs_addr other = six ? loopback4(bb.port) : loopback6(bb.port);
    char big[65528];
    CHECK_ST(airs_udp_send(rt, ua, &other, "x", 1), AIRS_EINVAL);
    /* Said before any system call (the record keeps the family). */
    CHECK(strstr(airs_last_error_message(), "address family") != NULL);
    memset(big, 0, sizeof big);
    CHECK_ST(airs_udp_send(rt, ua, &bb, big, sizeof big), AIRS_EINVAL);
  }
  airs_runtime_free(rt);
  probe_free(p);
}

static void test_udp(void) {
  run_udp(0);
  run_udp(1);
}

static airs_status datagram_check(void) {
  airs_datagram d;
  const void* data;
  airs_msg* m;
  CHECK_OK(airs_msg_new(42, "abc", 3, &m));
  CHECK_ST(airs_datagram_read(m, &d, &data), AIRS_EINVAL);
  airs_msg_free(m);
  CHECK_ST(airs_datagram_read(NULL, &d, &data), AIRS_EINVAL);
  return AIRS_OK;
}

/* A closed socket's id is never given again, though its record is used
 * again at once: the old id finds nothing, by socket calls or fd watch
 * calls, and a forged id near a live one finds nothing either; the new
 * socket under the same record works. */
enum { REUSE_ROUNDS = 300 };

static int id_seen(const airs_socket* ids, int n, airs_socket id) {
  for (int i = 0; i < n; i++)
    if (ids[i] == id) return 1;
  return 0;
}

static void test_ids_not_reused(void) {
  airs_runtime* rt = make_runtime(2, 0);
  probe* p = probe_new();
  airs_pid owner = probe_spawn(rt, p);
  airs_addr a = loopback4(0), bound;
  airs_socket ids[REUSE_ROUNDS + 1];
  airs_socket_opts o;
  probe_msg m = {0};
  int pipe_fds[2];
  airs_socket_opts_init(&o);
  o.active = AIRS_ACTIVE_ALWAYS;
  for (int i = 0; i < REUSE_ROUNDS; i++) {
    airs_socket s;
    CHECK_OK(airs_udp_open(rt, owner, &a, &o, &s));
    CHECK(s != 0 && !id_seen(ids, i, s));
    ids[i] = s;
    if (i > 0) {
      airs_socket old = ids[i - 1];
      CHECK_ST(airs_socket_close(rt, old), AIRS_ENOTFOUND);
      CHECK_ST(airs_udp_send(rt, old, &a, "x", 1), AIRS_ENOTFOUND);
      CHECK_ST(airs_socket_set_active(rt, old, 1), AIRS_ENOTFOUND);
      CHECK_ST(airs_fd_unwatch(rt, old), AIRS_ENOTFOUND);
    }
    CHECK_ST(airs_socket_close(rt, s ^ ((airs_socket)1 << 40)), AIRS_ENOTFOUND);
    CHECK_ST(airs_socket_close(rt, s + 1), AIRS_ENOTFOUND);
    /* The new one works: a datagram to itself comes back under its id. */
    CHECK_OK(airs_socket_addr(rt, s, &bound, NULL));
    CHECK_OK(airs_udp_send(rt, s, &bound, "id", 2));
    CHECK(probe_wait(p, AIRS_MSG_SOCK_DATAGRAM, WAIT_MS, &m));
    CHECK(m.socket == s);
    CHECK_OK(airs_socket_close(rt, s));
    CHECK(airs_socket_count(rt) == 0);
  }
  /* A watch takes the last socket's record: each kind's calls see only
   * their own ids. */
  CHECK(pipe(pipe_fds) == 0);
  CHECK_OK(
      airs_fd_watch(rt, pipe_fds[0], AIRS_FD_READ, owner, &ids[REUSE_ROUNDS]));
  CHECK(!id_seen(ids, REUSE_ROUNDS, ids[REUSE_ROUNDS]));
  CHECK_ST(airs_fd_unwatch(rt, ids[REUSE_ROUNDS - 1]), AIRS_ENOTFOUND);
  CHECK_ST(airs_socket_close(rt, ids[REUSE_ROUNDS]), AIRS_ENOTFOUND);
  CHECK_OK(airs_fd_unwatch(rt, ids[REUSE_ROUNDS]));
  CHECK_ST(airs_fd_unwatch(rt, ids[REUSE_ROUNDS]), AIRS_ENOTFOUND);
  close(pipe_fds[0]);
  close(pipe_fds[1]);
  airs_runtime_free(rt);
  probe_free(p);
}

/* The owner's end closes its sockets; the peer reads EOF. */
static void test_owner_ends(void) {
  airs_runtime* rt = make_runtime(2, 0);
  probe* p = probe_new();
  probe* q = probe_new();
  airs_pid owner = probe_spawn(rt, p);
  airs_pid other = probe_spawn(rt, q);
  airs_addr a = loopback4(0), bound;
  airs_socket ls, cs, conn;
  airs_sock_accepted acc;
  probe_msg m;
  airs_socket_opts o;
  airs_socket_opts_init(&o);
  o.active = 1;
  CHECK_OK(airs_tcp_listen(rt, owner, &a, &o, &ls));
  CHECK_OK(airs_socket_addr(rt, ls, &bound, NULL));
  CHECK_OK(airs_tcp_connect(rt, other, &bound, 0, &o, &cs));
  CHECK(probe_wait(p, AIRS_MSG_SOCK_ACCEPTED, WAIT_MS, &m));
  memcpy(&acc, m.data, sizeof acc);
  conn = acc.socket;
  /* Given away and back: the giving owner's end must not close it. */
  CHECK_ST(airs_socket_give(rt, conn, 12345), AIRS_ENOPROC);
  CHECK_OK(airs_socket_give(rt, conn, other));
  CHECK_OK(airs_socket_give(rt, conn, owner));
  CHECK(airs_socket_count(rt) == 3);
  CHECK_OK(airs_kill(rt, owner));
  CHECK(airs_wait(rt, owner, WAIT_MS) == AIRS_OK);
  CHECK(airs_socket_count(rt) == 1); /* the client's only */
  CHECK(probe_wait(q, AIRS_MSG_SOCK_EOF, WAIT_MS, &m));
  CHECK(m.socket == cs);
  airs_runtime_free(rt);
  probe_free(p);
  probe_free(q);
}

/* Freeing a runtime with sockets open closes them all: no fd is left. */
static void test_free_with_sockets_open(void) {
  int before = count_fds();
  int round;
  for (round = 0; round < 2; round++) {
    airs_runtime* rt = round ? make_host_runtime(1000) : make_runtime(2, 0);
    probe* p = probe_new();
    airs_pid owner = probe_spawn(rt, p);
    airs_addr a = loopback4(0), bound;
    airs_socket ls, cs, us;
    airs_socket_opts o;
    int fd;
    if (round) {
      p->host = rt;
      CHECK_OK(airs_runtime_fd(rt, &fd));
    }
    airs_socket_opts_init(&o);
    o.active = AIRS_ACTIVE_ALWAYS;
    CHECK_OK(airs_tcp_listen(rt, owner, &a, &o, &ls));
    CHECK_OK(airs_socket_addr(rt, ls, &bound, NULL));
    CHECK_OK(airs_tcp_connect(rt, owner, &bound, 0, NULL, &cs));
    CHECK_OK(airs_udp_open(rt, owner, &a, NULL, &us));
    CHECK(probe_wait(p, AIRS_MSG_SOCK_ACCEPTED, WAIT_MS, NULL));
    CHECK(count_fds() > before);
    airs_runtime_free(rt);
    probe_free(p);
    CHECK(count_fds() == before);
  }
}

/* The host's fd: readable for a send from another thread, for a due
 * timer, for socket I/O; unreadable once a poll did everything. */
typedef struct sender_arg {
  airs_runtime* rt;
  airs_pid to;
} sender_arg;

static void* send_later(void* arg) {
  sender_arg* s = (sender_arg*)arg;
  struct timespec nap = {0, 20000000};
  nanosleep(&nap, NULL);
  airs_send(s->rt, s->to, 1, "x", 1);
  return NULL;
}

static int readable(int fd, int ms) {
  struct pollfd pfd;
  pfd.fd = fd;
  pfd.events = POLLIN;
  pfd.revents = 0;
  return poll(&pfd, 1, ms) == 1 && (pfd.revents & POLLIN);
}

static void test_host_fd(void) {
  airs_runtime* rt = make_host_runtime(1000);
  static recorder rec;
  recorder* r = &rec;
  airs_pid pid = spawn_rec(rt, r, NULL);
  int fd, fd2;
  pthread_t t;
  sender_arg arg;
  double t0;
  CHECK_OK(airs_runtime_fd(rt, &fd));
  CHECK(fd >= 0);
  CHECK_OK(airs_runtime_fd(rt, &fd2));
  CHECK(fd == fd2);
  CHECK(readable(fd, 0)); /* work queued before the host looked */
  CHECK(poll_all(rt) >= 0);
  CHECK(!readable(fd, 0));
  /* A send from another thread wakes the host at once. */
  arg.rt = rt;
  arg.to = pid;
  pthread_create(&t, NULL, send_later, &arg);
  t0 = now_ms();
  CHECK(readable(fd, 5000));
  CHECK(now_ms() - t0 < 1000);
  pthread_join(t, NULL);
  CHECK(poll_all(rt) >= 1);
  CHECK(r->n == 1);
  CHECK(!readable(fd, 0));
  /* A timer: readable when it is due, not before. */
  {
    airs_msg* tm;
    CHECK_OK(airs_msg_new(2, "t", 1, &tm));
    CHECK_OK(airs_send_after(rt, pid, 30, tm, NULL));
  }
  t0 = now_ms();
  CHECK(poll_all(rt) >= 0);
  CHECK(!readable(fd, 5));
  CHECK(readable(fd, 5000));
  CHECK(now_ms() - t0 >= 25);
  CHECK(poll_all(rt) >= 1);
  CHECK(r->n == 2);
  /* A poll whose budget ran out leaves the fd readable: three processes
   * runnable, one turn run. */
  {
    static recorder others[2];
    uint32_t ran;
    airs_send(rt, pid, 3, "y", 1);
    airs_send(rt, spawn_rec(rt, &others[0], NULL), 3, "y", 1);
    airs_send(rt, spawn_rec(rt, &others[1], NULL), 3, "y", 1);
    CHECK_OK(airs_runtime_poll(rt, 1, &ran));
    CHECK(readable(fd, 0));
    CHECK(poll_all(rt) >= 0);
    CHECK(!readable(fd, 0));
  }
  airs_runtime_free(rt);
}

/* A send to a peer that closed gives an error message, never SIGPIPE: the
 * disposition is left at SIG_DFL, which would kill this program. */
static void test_no_sigpipe(void) {
  airs_runtime* rt = make_runtime(2, 0);
  probe* p = probe_new();
  airs_pid owner = probe_spawn(rt, p);
  struct sigaction before, after;
  struct sockaddr_in sin;
  socklen_t len = sizeof sin;
  int lfd = socket(AF_INET, SOCK_STREAM, 0), peer, i;
  airs_addr to;
  airs_socket cs;
  probe_msg m;
  airs_sock_error e;
  char chunk[4096];
  signal(SIGPIPE, SIG_DFL);
  sigaction(SIGPIPE, NULL, &before);
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK(bind(lfd, (struct sockaddr*)&sin, sizeof sin) == 0);
  CHECK(listen(lfd, 4) == 0);
  CHECK(getsockname(lfd, (struct sockaddr*)&sin, &len) == 0);
  to = loopback4(ntohs(sin.sin_port));
  CHECK_OK(airs_tcp_connect(rt, owner, &to, 1000, NULL, &cs));
  CHECK(probe_wait(p, AIRS_MSG_SOCK_CONNECTED, WAIT_MS, &m));
  peer = accept(lfd, NULL, NULL);
  CHECK(peer >= 0);
  close(peer);
  close(lfd);
  memset(chunk, 'z', sizeof chunk);
  for (i = 0; i < 1000; i++) {
    airs_status st = airs_socket_send(rt, cs, chunk, sizeof chunk, 0);
    if (st == AIRS_ESTATE || st == AIRS_ENOTFOUND) break;
    if (st == AIRS_EAGAIN) {
      struct timespec nap = {0, 1000000};
      nanosleep(&nap, NULL);
    }
  }
  CHECK(probe_wait(p, AIRS_MSG_SOCK_ERROR, WAIT_MS, &m));
  memcpy(&e, m.data, sizeof e);
  CHECK(e.err == EPIPE || e.err == ECONNRESET);
  CHECK_STR(e.op, "send");
  sigaction(SIGPIPE, NULL, &after);
  CHECK(after.sa_handler == before.sa_handler && after.sa_handler == SIG_DFL);
  CHECK(airs_socket_count(rt) == 0);
  airs_runtime_free(rt);
  probe_free(p);
}

int main(void) {
  test_addresses();
  test_bad_arguments();
  test_tcp_round_trip();
  test_active_n();
  test_connect_refused();
  test_udp();
  test_ids_not_reused();
  (void)datagram_check();
  test_owner_ends();
  test_free_with_sockets_open();
  test_host_fd();
  test_no_sigpipe();
  return CHECK_DONE();
}
