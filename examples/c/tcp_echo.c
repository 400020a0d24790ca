/*
 * tcp_echo - a supervised TCP echo server, one actor per connection, and
 * the clients that check it, all in one program over 127.0.0.1.
 *
 * The server is a supervision tree, as an Erlang echo server would be:
 *
 *   echo_sup  (one_for_one)
 *     +-- conns     (simple_one_for_one of temporary "conn" actors)
 *     +-- acceptor  (permanent; owns the listening socket)
 *
 * The acceptor listens on 127.0.0.1 with port 0 (the kernel picks a free
 * port; it is printed). Each AIRS_MSG_SOCK_ACCEPTED becomes a conn actor
 * started under "conns"; the acceptor hands it the new socket with
 * airs_socket_give and then tells it so. A conn actor reads with
 * {active, N} credit, re-armed on AIRS_MSG_SOCK_PASSIVE, and echoes what
 * it reads. When its send buffer is full (airs_socket_send returns
 * AIRS_EAGAIN) it keeps what it could not send, stops re-arming its
 * credit and waits for AIRS_MSG_SOCK_WRITABLE: back-pressure reaches the
 * client, whose own sends then wait. At EOF it ends normally, which closes
 * its socket.
 *
 * A director actor drives the demo. Round 1: three clients each send a
 * few lines and check every echo, then half-close; a fourth, the bulk
 * client, sends without reading until the server stops reading: the
 * echoes fill the conn's buffers, the conn's send is refused and it stops
 * reading, and the client's own sends are refused for good. Then the
 * client reads, and everything drains and is checked. Then the director
 * kills the acceptor: its listener closes with it, the supervisor
 * restarts it, and the new acceptor listens on a new port. Round 2 runs
 * the three line clients against that port. The program exits 0 only if
 * every echo matched.
 *
 * Run: ./build/examples/tcp_echo (it needs nothing else: loopback only).
 * Lines print as things happen, from several threads, each with the time
 * since the start.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <airs/airs.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
  MSG_OWNED = 1,     /* acceptor -> conn: the socket is yours now */
  MSG_LISTENING = 2, /* acceptor -> director: uint16_t port */
  MSG_REPORT = 3,    /* client -> director: a report */
  MSG_STALLED = 4,   /* the bulk client's timer: uint64_t attempt */
  MSG_GIVE_UP = 5    /* the director's deadline */
};

/* {active, N} of a connection: it reads N chunks, then gets
 * AIRS_MSG_SOCK_PASSIVE and grants N more once it has echoed them. */
#define CONN_CREDIT 4
/* The listener's options, which the sockets it accepts inherit: small
 * reads and a small send buffer, so that credit and back-pressure show. */
#define CONN_READ_SIZE 16384
#define CONN_SEND_BUFFER 65536

#define CLIENTS 3 /* line clients per round */
#define LINES 3   /* lines each sends */
/* The bulk client sends CHUNK bytes at a time, at most BULK_MAX; it
 * takes STALL_MS without AIRS_MSG_SOCK_WRITABLE to mean that the server
 * has stopped reading. */
#define CHUNK 65536
#define BULK_MAX (64u << 20)
#define STALL_MS 50

/* ---- printing -----------------------------------------------------------
 * Actors run on the runtime's worker threads; each line is one printf, so
 * lines never mix (they may come in any order between threads). */

static struct timespec t_start;

static double elapsed_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - t_start.tv_sec) * 1e3 +
         (double)(t.tv_nsec - t_start.tv_nsec) / 1e6;
}

static void say(const char* fmt, ...) {
  char line[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  printf("%8.1f ms  %s\n", elapsed_ms(), line);
}

/* A pid is opaque; its top 16 bits only tell runtimes apart (airs.h), so
 * the rest, in hex, is enough to tell processes apart here. */
static const char* pid_str(airs_pid pid, char buf[32]) {
  snprintf(buf, 32, "<%llx>", (unsigned long long)(pid & 0xFFFFFFFFFFFFull));
  return buf;
}

static const char* addr_str(const airs_addr* a, char buf[64]) {
  if (airs_addr_format(a, buf, 64) != AIRS_OK) snprintf(buf, 64, "?");
  return buf;
}

/* ---- the acceptor -------------------------------------------------------
 * It listens in init, as OTP servers do: a restart is a new listener, and
 * a listener that cannot be made fails the start, for the supervisor to
 * handle. It tells the director its port (the director is registered).
 * Its user_data, from the child spec, outlives restarts: it numbers the
 * acceptors and the connections (one acceptor runs at a time). */

typedef struct numbering {
  int acceptors, conns;
} numbering;

typedef struct acceptor {
  numbering* n;
  int number;
  airs_socket listener;
  uint16_t port;
} acceptor;

/* What a conn's init gets: its socket, and a number to print. */
typedef struct conn_arg {
  airs_sock_accepted acc;
  int number;
} conn_arg;

static airs_status acceptor_init(void* user_data, airs_ctx* ctx, void** state) {
  airs_runtime* rt = airs_ctx_runtime(ctx);
  acceptor* a = calloc(1, sizeof *a);
  if (!a) return AIRS_ENOMEM;
  a->n = user_data;
  a->number = ++a->n->acceptors;
  airs_addr any, bound;
  airs_socket_opts o;
  airs_addr_parse("127.0.0.1:0", &any);
  airs_socket_opts_init(&o);
  /* A listener's credit counts accepted connections; this one takes all. */
  o.active = AIRS_ACTIVE_ALWAYS;
  o.read_size = CONN_READ_SIZE;
  o.send_buffer = CONN_SEND_BUFFER;
  airs_status st = airs_tcp_listen(rt, airs_self(ctx), &any, &o, &a->listener);
  if (st == AIRS_OK) st = airs_socket_addr(rt, a->listener, &bound, NULL);
  if (st != AIRS_OK) {
    if (a->listener) airs_socket_close(rt, a->listener);
    free(a);
    return st;
  }
  a->port = bound.port;
  *state = a;
  char p[32], b[64];
  say("acceptor #%d %s: listening on %s", a->number, pid_str(airs_self(ctx), p),
      addr_str(&bound, b));
  airs_pid director;
  if (airs_whereis(rt, "director", &director) == AIRS_OK)
    airs_ctx_send(ctx, director, MSG_LISTENING, &a->port, sizeof a->port);
  return AIRS_OK;
}

/* A new connection: a conn actor under "conns", then the socket to it,
 * then a word that it owns it. Until the conn sets credit the socket is
 * passive, so no byte can reach the acceptor meanwhile. */
static airs_status hand_over(airs_ctx* ctx, acceptor* a,
                             const airs_sock_accepted* acc) {
  airs_runtime* rt = airs_ctx_runtime(ctx);
  char p[32], b[64];
  airs_pid conns, conn = AIRS_NO_PID;
  conn_arg* arg = malloc(sizeof *arg);
  airs_status st = arg ? airs_whereis(rt, "conns", &conns) : AIRS_ENOMEM;
  if (st == AIRS_OK) {
    arg->acc = *acc;
    arg->number = ++a->n->conns;
    st = airs_supervisor_start_dynamic_child(rt, conns, arg, free, &conn);
  } else {
    free(arg);
  }
  if (st == AIRS_OK) st = airs_socket_give(rt, acc->socket, conn);
  if (st == AIRS_OK) st = airs_ctx_send(ctx, conn, MSG_OWNED, NULL, 0);
  if (st != AIRS_OK) {
    /* This connection is lost, not the acceptor: the client sees EOF. */
    say("acceptor #%d: could not hand over %s: %s (%s)", a->number,
        addr_str(&acc->peer, b), airs_strerror(st), airs_last_error_message());
    airs_socket_close(rt, acc->socket);
    if (conn != AIRS_NO_PID)
      airs_supervisor_terminate_child_pid(rt, conns, conn);
    return AIRS_OK;
  }
  say("acceptor #%d: connection from %s -> conn %d %s", a->number,
      addr_str(&acc->peer, b), a->n->conns, pid_str(conn, p));
  return AIRS_OK;
}

static airs_status acceptor_receive(void* state, airs_ctx* ctx,
                                    const airs_msg* msg) {
  acceptor* a = state;
  switch (airs_msg_type(msg)) {
    case AIRS_MSG_SOCK_ACCEPTED: {
      airs_sock_accepted acc;
      memcpy(&acc, airs_msg_data(msg), sizeof acc);
      return hand_over(ctx, a, &acc);
    }
    case AIRS_MSG_SOCK_ACCEPT_ERROR: {
      /* Out of fds: the listener pauses and retries by itself. */
      airs_sock_error e;
      memcpy(&e, airs_msg_data(msg), sizeof e);
      say("acceptor #%d: accept failed (%s), retrying soon", a->number, e.text);
      return AIRS_OK;
    }
    case AIRS_MSG_SOCK_ERROR:
      /* The listener is gone: crash, and the supervisor makes a new one. */
      return airs_exit(ctx, AIRS_EXIT_ERROR, 1, "the listener failed");
    default: return AIRS_OK;
  }
}

static void acceptor_terminate(void* state, airs_ctx* ctx,
                               const airs_reason* reason) {
  (void)ctx;
  (void)reason;
  free(state); /* the listener closes with its owner, nothing to do */
}

static const airs_behaviour acceptor_behaviour = {AIRS_BEHAVIOUR_VERSION,
                                                  sizeof(airs_behaviour),
                                                  acceptor_init,
                                                  acceptor_receive,
                                                  acceptor_terminate,
                                                  NULL,
                                                  NULL};

/* ---- a connection -------------------------------------------------------
 * Echoes what it reads. Normally each chunk goes straight back out. When
 * a send is refused (EAGAIN) the conn is "blocked": chunks queue up in
 * order until AIRS_MSG_SOCK_WRITABLE, and the credit is not re-armed, so
 * at most CONN_CREDIT chunks can queue. Every send asks for an ack, so
 * that at EOF it ends only once the kernel has all its bytes (its end
 * closes the socket, dropping whatever the send buffer still holds). */

typedef struct chunk {
  struct chunk* next;
  size_t size;
  char data[];
} chunk;

typedef struct conn {
  int number;
  airs_socket sock;
  airs_addr peer;
  chunk *head, *tail; /* read, not yet echoed (while blocked) */
  int blocked;        /* waiting for AIRS_MSG_SOCK_WRITABLE */
  int rearm_owed;     /* the credit ran out while blocked */
  int eof;
  uint64_t sent, acked; /* sends made, and acknowledged */
  uint64_t bytes, rearms, stalls;
} conn;

static airs_status conn_init(void* user_data, airs_ctx* ctx, void** state) {
  (void)ctx;
  const conn_arg* arg = user_data; /* freed by the supervisor */
  conn* c = calloc(1, sizeof *c);
  if (!c) return AIRS_ENOMEM;
  c->number = arg->number;
  c->sock = arg->acc.socket;
  c->peer = arg->acc.peer;
  *state = c;
  return AIRS_OK;
}

/* Sends one chunk; 0 if the send buffer was full (nothing queued). */
static int conn_send(airs_ctx* ctx, conn* c, const void* data, size_t size) {
  airs_status st =
      airs_socket_send(airs_ctx_runtime(ctx), c->sock, data, size, c->sent + 1);
  if (st == AIRS_EAGAIN) return 0;
  /* Any other failure means the socket closed on an error: its
   * AIRS_MSG_SOCK_ERROR is on its way and ends this conn. */
  if (st == AIRS_OK) c->sent++;
  c->bytes += size;
  return 1;
}

static airs_status conn_queue(conn* c, const void* data, size_t size) {
  chunk* k = malloc(sizeof *k + size);
  if (!k) return AIRS_ENOMEM;
  k->next = NULL;
  k->size = size;
  memcpy(k->data, data, size);
  if (c->tail)
    c->tail->next = k;
  else
    c->head = k;
  c->tail = k;
  return AIRS_OK;
}

static void conn_block(conn* c) {
  c->blocked = 1;
  c->stalls++;
  if (c->stalls == 1)
    say("conn %d: send buffer full (EAGAIN): stops reading until WRITABLE",
        c->number);
}

static airs_status conn_rearm(airs_ctx* ctx, conn* c) {
  c->rearms++;
  c->rearm_owed = 0;
  return airs_socket_set_active(airs_ctx_runtime(ctx), c->sock, CONN_CREDIT);
}

/* At EOF, once every chunk is echoed and acknowledged: done. */
static airs_status conn_maybe_finish(airs_ctx* ctx, conn* c) {
  if (!c->eof || c->head || c->blocked || c->acked != c->sent) return AIRS_OK;
  say("conn %d: EOF; echoed %llu bytes, re-armed {active, %d} %llu times, "
      "waited for WRITABLE %llu times; ends",
      c->number, (unsigned long long)c->bytes, CONN_CREDIT,
      (unsigned long long)c->rearms, (unsigned long long)c->stalls);
  return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
}

static airs_status conn_receive(void* state, airs_ctx* ctx,
                                const airs_msg* msg) {
  conn* c = state;
  char b[64];
  switch (airs_msg_type(msg)) {
    case MSG_OWNED:
      say("conn %d: owns the connection from %s, sets {active, %d}", c->number,
          addr_str(&c->peer, b), CONN_CREDIT);
      return airs_socket_set_active(airs_ctx_runtime(ctx), c->sock,
                                    CONN_CREDIT);
    case AIRS_MSG_SOCK_DATA:
      if (c->blocked)
        return conn_queue(c, airs_msg_data(msg), airs_msg_size(msg));
      if (conn_send(ctx, c, airs_msg_data(msg), airs_msg_size(msg)))
        return AIRS_OK;
      conn_block(c);
      return conn_queue(c, airs_msg_data(msg), airs_msg_size(msg));
    case AIRS_MSG_SOCK_PASSIVE:
      /* Blocked, the credit waits: reading on would only grow the queue. */
      if (c->blocked) {
        c->rearm_owed = 1;
        return AIRS_OK;
      }
      return conn_rearm(ctx, c);
    case AIRS_MSG_SOCK_WRITABLE: {
      c->blocked = 0;
      while (c->head) {
        if (!conn_send(ctx, c, c->head->data, c->head->size)) {
          c->blocked = 1;
          c->stalls++;
          return AIRS_OK;
        }
        chunk* k = c->head;
        c->head = k->next;
        if (!c->head) c->tail = NULL;
        free(k);
      }
      airs_status st = c->rearm_owed ? conn_rearm(ctx, c) : AIRS_OK;
      return st != AIRS_OK ? st : conn_maybe_finish(ctx, c);
    }
    case AIRS_MSG_SOCK_SENT: c->acked++; return conn_maybe_finish(ctx, c);
    case AIRS_MSG_SOCK_EOF:
      /* The client half-closed: echo what is left, then end. */
      c->eof = 1;
      return conn_maybe_finish(ctx, c);
    case AIRS_MSG_SOCK_ERROR: {
      airs_sock_error e;
      memcpy(&e, airs_msg_data(msg), sizeof e);
      say("conn %d: %s failed: %s; ends", c->number, e.op, e.text);
      return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
    }
    default: return AIRS_OK;
  }
}

static void conn_terminate(void* state, airs_ctx* ctx,
                           const airs_reason* reason) {
  (void)ctx;
  (void)reason;
  conn* c = state;
  while (c->head) {
    chunk* k = c->head;
    c->head = k->next;
    free(k);
  }
  free(c);
}

static const airs_behaviour conn_behaviour = {AIRS_BEHAVIOUR_VERSION,
                                              sizeof(airs_behaviour),
                                              conn_init,
                                              conn_receive,
                                              conn_terminate,
                                              NULL,
                                              NULL};

/* ---- the clients --------------------------------------------------------
 * A line client sends one line at a time and waits for its whole echo
 * (TCP may cut it anywhere) before the next; after the last it
 * half-closes and waits for the server's EOF, which comes when its conn
 * has ended. The bulk client is described at client_push. Either reports
 * to the director at the end. */

typedef struct report {
  int round, index, ok;
  uint64_t bytes;
} report;

typedef struct client {
  report r;
  int bulk;
  uint16_t port;
  airs_pid director;
  airs_socket sock;
  /* line client */
  int line;        /* line being echoed; LINES when all were */
  char want[64];   /* that line */
  size_t want_len; /* its length */
  size_t have;     /* bytes of its echo so far */
  double sent_at;
  /* bulk client */
  int reading;      /* has set its socket active */
  uint64_t attempt; /* which refusal the MSG_STALLED timer is about */
  /* both */
  int wrong; /* a byte that is not what was sent, or one too many */
  uint64_t sent;
} client;

/* The bulk bytes: byte i of the stream is i % 251 (a prime period, so a
 * lost or repeated chunk shows), and the chunk at offset o is
 * pattern + o % 251. Filled by main. */
static unsigned char pattern[CHUNK + 251];

static void line_text(const client* c, int line, char buf[64]) {
  snprintf(buf, 64, "client %d.%d says line %d\n", c->r.round, c->r.index,
           line + 1);
}

static airs_status client_init(void* user_data, airs_ctx* ctx, void** state) {
  client* c = malloc(sizeof *c);
  if (!c) return AIRS_ENOMEM;
  *c = *(const client*)user_data;
  airs_addr to;
  airs_addr_parse("127.0.0.1:0", &to);
  to.port = c->port;
  /* The socket is passive at first: nothing is read until it asks. */
  airs_status st = airs_tcp_connect(airs_ctx_runtime(ctx), airs_self(ctx), &to,
                                    2000, NULL, &c->sock);
  if (st != AIRS_OK) {
    free(c);
    return st;
  }
  *state = c;
  return AIRS_OK;
}

static airs_status client_report(airs_ctx* ctx, client* c, int ok) {
  c->r.ok = ok;
  airs_ctx_send(ctx, c->director, MSG_REPORT, &c->r, sizeof c->r);
  return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
}

static airs_status client_send_line(airs_ctx* ctx, client* c) {
  line_text(c, c->line, c->want);
  c->want_len = strlen(c->want);
  c->have = 0;
  c->sent_at = elapsed_ms();
  c->sent += c->want_len;
  return airs_socket_send(airs_ctx_runtime(ctx), c->sock, c->want, c->want_len,
                          0);
}

/* The bulk client sends chunk after chunk and reads nothing. Its sends
 * are refused (AIRS_EAGAIN) as soon as the conn reads slower than it
 * sends; it goes on at each AIRS_MSG_SOCK_WRITABLE. Meanwhile the echoes
 * fill the kernel's buffers towards this client, until the conn's own
 * send is refused and it stops reading: then no WRITABLE comes any more.
 * After STALL_MS without one, the client starts reading; everything
 * drains, the WRITABLE comes, and it half-closes. */
static airs_status client_push(airs_ctx* ctx, client* c) {
  airs_runtime* rt = airs_ctx_runtime(ctx);
  airs_status st = AIRS_OK;
  while (c->sent < BULK_MAX) {
    st = airs_socket_send(rt, c->sock, pattern + c->sent % 251, CHUNK, 0);
    if (st != AIRS_OK) break;
    c->sent += CHUNK;
  }
  if (st == AIRS_EAGAIN) {
    airs_msg* m;
    c->attempt++;
    st = airs_msg_new(MSG_STALLED, &c->attempt, sizeof c->attempt, &m);
    if (st == AIRS_OK && (st = airs_send_after(rt, airs_self(ctx), STALL_MS, m,
                                               NULL)) != AIRS_OK)
      airs_msg_free(m);
    return st;
  }
  if (st != AIRS_OK) return st;
  /* Buffers this large are unusual; the echo is still checked. */
  say("client %d.%d (bulk): sent %llu bytes and was never held back",
      c->r.round, c->r.index, (unsigned long long)c->sent);
  c->reading = 1;
  st = airs_socket_set_active(rt, c->sock, AIRS_ACTIVE_ALWAYS);
  return st != AIRS_OK ? st : airs_socket_shutdown(rt, c->sock);
}

static airs_status client_stalled(airs_ctx* ctx, client* c,
                                  const airs_msg* msg) {
  uint64_t attempt;
  memcpy(&attempt, airs_msg_data(msg), sizeof attempt);
  if (attempt != c->attempt || c->reading) return AIRS_OK; /* a WRITABLE came */
  say("client %d.%d (bulk): sent %llu bytes, read none, and no WRITABLE "
      "for %d ms: the server has stopped reading; starts reading",
      c->r.round, c->r.index, (unsigned long long)c->sent, STALL_MS);
  c->reading = 1;
  return airs_socket_set_active(airs_ctx_runtime(ctx), c->sock,
                                AIRS_ACTIVE_ALWAYS);
}

/* Checks the bytes against the line being echoed; the next line once it
 * is complete, the half-close after the last. */
static airs_status client_lines(airs_ctx* ctx, client* c, const char* data,
                                size_t size) {
  while (size > 0) {
    if (c->line == LINES) {
      c->wrong = 1;
      return AIRS_OK;
    }
    size_t n = c->want_len - c->have;
    if (n > size) n = size;
    if (memcmp(data, c->want + c->have, n) != 0) {
      say("client %d.%d: echo of line %d DIFFERS", c->r.round, c->r.index,
          c->line + 1);
      return client_report(ctx, c, 0);
    }
    c->have += n;
    data += n;
    size -= n;
    if (c->have < c->want_len) return AIRS_OK;
    say("client %d.%d: line %d echoed intact in %.2f ms", c->r.round,
        c->r.index, c->line + 1, elapsed_ms() - c->sent_at);
    if (++c->line < LINES) {
      airs_status st = client_send_line(ctx, c);
      if (st != AIRS_OK) return st;
    } else {
      say("client %d.%d: half-closes", c->r.round, c->r.index);
      airs_status st = airs_socket_shutdown(airs_ctx_runtime(ctx), c->sock);
      if (st != AIRS_OK) return st;
    }
  }
  return AIRS_OK;
}

static airs_status client_receive(void* state, airs_ctx* ctx,
                                  const airs_msg* msg) {
  client* c = state;
  airs_runtime* rt = airs_ctx_runtime(ctx);
  switch (airs_msg_type(msg)) {
    case AIRS_MSG_SOCK_CONNECTED: {
      if (c->bulk) return client_push(ctx, c);
      airs_status st = airs_socket_set_active(rt, c->sock, AIRS_ACTIVE_ALWAYS);
      return st != AIRS_OK ? st : client_send_line(ctx, c);
    }
    case AIRS_MSG_SOCK_WRITABLE:
      if (!c->reading) return client_push(ctx, c);
      say("client %d.%d (bulk): WRITABLE: the server reads again; "
          "half-closes",
          c->r.round, c->r.index);
      return airs_socket_shutdown(rt, c->sock);
    case MSG_STALLED: return client_stalled(ctx, c, msg);
    case AIRS_MSG_SOCK_DATA: {
      const char* data = airs_msg_data(msg);
      size_t size = airs_msg_size(msg);
      uint64_t at = c->r.bytes;
      c->r.bytes += size;
      if (!c->bulk) return client_lines(ctx, c, data, size);
      for (size_t i = 0; i < size; i++)
        if ((unsigned char)data[i] != (at + i) % 251) c->wrong = 1;
      return AIRS_OK;
    }
    case AIRS_MSG_SOCK_EOF: {
      /* The server's conn ended: everything it echoed has come. */
      int ok =
          !c->wrong && c->r.bytes == c->sent && (c->bulk || c->line == LINES);
      if (c->bulk)
        say("client %d.%d (bulk): EOF; %llu of %llu bytes came back%s",
            c->r.round, c->r.index, (unsigned long long)c->r.bytes,
            (unsigned long long)c->sent, c->wrong ? ", SOME WRONG" : "");
      return client_report(ctx, c, ok);
    }
    case AIRS_MSG_SOCK_ERROR: {
      airs_sock_error e;
      memcpy(&e, airs_msg_data(msg), sizeof e);
      say("client %d.%d: %s failed: %s", c->r.round, c->r.index, e.op, e.text);
      return client_report(ctx, c, 0);
    }
    default: return AIRS_OK;
  }
}

static void client_terminate(void* state, airs_ctx* ctx,
                             const airs_reason* reason) {
  (void)ctx;
  (void)reason;
  free(state);
}

static const airs_behaviour client_behaviour = {AIRS_BEHAVIOUR_VERSION,
                                                sizeof(airs_behaviour),
                                                client_init,
                                                client_receive,
                                                client_terminate,
                                                NULL,
                                                NULL};

/* ---- the director -------------------------------------------------------
 * Starts a round of clients when an acceptor says where it listens,
 * collects their reports, kills the acceptor after round 1, and ends
 * after round 2. It monitors the clients: one that crashes (a callback
 * returned an error) counts as a failed report instead of leaving the
 * round waiting. main reads the outcome once the director has ended. */

typedef struct outcome {
  pthread_mutex_t lock;
  int rounds_done, failures;
} outcome;

typedef struct director {
  outcome* out;
  int round, expected, reported, failures;
  airs_pid clients[CLIENTS + 1];
  airs_pid acceptor;
  uint16_t port;
} director;

static airs_status director_init(void* user_data, airs_ctx* ctx, void** state) {
  director* d = calloc(1, sizeof *d);
  if (!d) return AIRS_ENOMEM;
  d->out = user_data;
  airs_status st =
      airs_register(airs_ctx_runtime(ctx), "director", airs_self(ctx));
  if (st != AIRS_OK) {
    free(d);
    return st;
  }
  /* Whatever happens, the demo ends: a lost message must not hang it. */
  airs_msg* m;
  st = airs_msg_new(MSG_GIVE_UP, NULL, 0, &m);
  if (st == AIRS_OK &&
      (st = airs_send_after(airs_ctx_runtime(ctx), airs_self(ctx), 20000, m,
                            NULL)) != AIRS_OK)
    airs_msg_free(m);
  if (st != AIRS_OK) {
    free(d);
    return st;
  }
  *state = d;
  return AIRS_OK;
}

static airs_status director_done(airs_ctx* ctx, director* d, int rounds) {
  pthread_mutex_lock(&d->out->lock);
  d->out->rounds_done = rounds;
  d->out->failures = d->failures;
  pthread_mutex_unlock(&d->out->lock);
  return airs_exit(ctx, AIRS_EXIT_NORMAL, 0, NULL);
}

static airs_status start_round(airs_ctx* ctx, director* d) {
  d->round++;
  d->reported = 0;
  d->expected = CLIENTS + (d->round == 1); /* the bulk client in round 1 */
  say("director: round %d, %d clients against port %u", d->round, d->expected,
      d->port);
  for (int i = 1; i <= d->expected; i++) {
    client c;
    memset(&c, 0, sizeof c);
    c.r.round = d->round;
    c.r.index = i;
    c.bulk = i > CLIENTS;
    c.port = d->port;
    c.director = airs_self(ctx);
    uint64_t ref;
    /* init copies c (the spawn runs it here, on this thread). */
    airs_status st = airs_ctx_spawn(ctx, &client_behaviour, &c, NULL, NULL,
                                    &d->clients[i - 1]);
    if (st == AIRS_OK) st = airs_monitor(ctx, d->clients[i - 1], &ref);
    if (st != AIRS_OK) return st;
  }
  return AIRS_OK;
}

/* One more report; after the last of round 1, the acceptor is killed: the
 * supervisor restarts it, and the new one's MSG_LISTENING starts round 2. */
static airs_status director_count(airs_ctx* ctx, director* d, int ok) {
  char p[32];
  if (!ok) d->failures++;
  if (++d->reported < d->expected) return AIRS_OK;
  if (d->round == 2) return director_done(ctx, d, 2);
  say("director: round 1 done; kills the acceptor %s", pid_str(d->acceptor, p));
  return airs_kill(airs_ctx_runtime(ctx), d->acceptor);
}

static airs_status director_receive(void* state, airs_ctx* ctx,
                                    const airs_msg* msg) {
  director* d = state;
  char p[32];
  switch (airs_msg_type(msg)) {
    case MSG_LISTENING: {
      uint16_t port;
      memcpy(&port, airs_msg_data(msg), sizeof port);
      /* Expected at the start, and after the kill that ends round 1;
       * any other restart would be news. */
      int expected =
          d->round == 0 || (d->round == 1 && d->reported == d->expected);
      if (d->round > 0)
        say("director: %s acceptor %s listens on port %u (was %u)",
            expected ? "the new" : "UNEXPECTED: a restarted",
            pid_str(airs_msg_sender(msg), p), port, d->port);
      d->acceptor = airs_msg_sender(msg);
      d->port = port;
      if (!expected) {
        d->failures++;
        return AIRS_OK;
      }
      return start_round(ctx, d);
    }
    case MSG_REPORT: {
      report r;
      memcpy(&r, airs_msg_data(msg), sizeof r);
      say("director: client %d.%d reports %s (%llu bytes echoed)", r.round,
          r.index, r.ok ? "ok" : "FAILURE", (unsigned long long)r.bytes);
      return director_count(ctx, d, r.ok);
    }
    case AIRS_MSG_DOWN: {
      /* A client that reported has ended normally; any other end is a
       * crash, and it never reported. (noproc: it had ended before the
       * monitor was made; a crash then shows as a missing report.) */
      const airs_reason* why = airs_msg_reason(msg);
      if (airs_reason_kind(why) == AIRS_EXIT_NORMAL ||
          airs_reason_kind(why) == AIRS_EXIT_NOPROC)
        return AIRS_OK;
      for (int i = 0; i < d->expected; i++)
        if (d->clients[i] == airs_msg_sender(msg))
          say("director: client %d.%d crashed: %s", d->round, i + 1,
              airs_reason_text(why));
      return director_count(ctx, d, 0);
    }
    case MSG_GIVE_UP:
      say("director: gave up waiting (round %d, %d of %d reports)", d->round,
          d->reported, d->expected);
      return director_done(ctx, d, d->round - 1);
    default: return AIRS_OK;
  }
}

static void director_terminate(void* state, airs_ctx* ctx,
                               const airs_reason* reason) {
  (void)ctx;
  (void)reason;
  free(state);
}

static const airs_behaviour director_behaviour = {AIRS_BEHAVIOUR_VERSION,
                                                  sizeof(airs_behaviour),
                                                  director_init,
                                                  director_receive,
                                                  director_terminate,
                                                  NULL,
                                                  NULL};

/* ---- the supervisors' decisions -----------------------------------------
 * The two named children only ("conns" and "acceptor"): the conns of the
 * dynamic pool have no id, and their lines above say enough. */

static void on_event(void* user_data, const airs_event* e) {
  static const char* const why[] = {"normal", "shutdown", "killed", "error",
                                    "noproc"};
  char a[32], b[32];
  (void)user_data;
  if (e->id[0] == '\0') return;
  switch (e->kind) {
    case AIRS_EVENT_CHILD_STARTED:
      say("echo_sup: %s started as %s", e->id, pid_str(e->pid, a));
      break;
    case AIRS_EVENT_CHILD_EXITED:
      say("echo_sup: %s %s exited: %s", e->id, pid_str(e->pid, a),
          why[airs_reason_kind(e->reason)]);
      break;
    case AIRS_EVENT_CHILD_RESTARTED:
      say("echo_sup: %s restarted: %s -> %s", e->id, pid_str(e->other, a),
          pid_str(e->pid, b));
      break;
    default: break;
  }
}

#define CHECK(call)                                                      \
  do {                                                                   \
    airs_status st_ = (call);                                            \
    if (st_ != AIRS_OK) {                                                \
      fprintf(stderr, "%s failed: %s (%s)\n", #call, airs_strerror(st_), \
              airs_last_error_message());                                \
      return 1;                                                          \
    }                                                                    \
  } while (0)

/* The tree of the opening comment. The conns are temporary children of a
 * simple_one_for_one supervisor: a connection cannot be restarted (its
 * socket died with it; the client must reconnect), but under a supervisor
 * it still has a place in the tree: the tree's shutdown stops the open
 * connections (in parallel), and they are not linked to the acceptor, so
 * killing the acceptor leaves them running. "conns" starts first: the
 * acceptor needs it from its first accept. */
static airs_status start_tree(airs_runtime* rt, airs_pid* out) {
  airs_sup_spec *conns = NULL, *top = NULL;
  airs_sup_flags flags;
  airs_child_spec child;
  airs_sup_flags_init(&flags);
  flags.strategy = AIRS_SIMPLE_ONE_FOR_ONE;
  airs_status st = airs_sup_spec_new(&flags, &conns);
  if (st == AIRS_OK) {
    airs_child_spec_init(&child);
    child.behaviour = &conn_behaviour;
    child.restart = AIRS_RESTART_TEMPORARY;
    st = airs_sup_spec_add_child(conns, &child);
  }
  /* OTP's default intensity (1 restart in 5 s) allows the one kill. */
  airs_sup_flags_init(&flags);
  flags.strategy = AIRS_ONE_FOR_ONE;
  if (st == AIRS_OK) st = airs_sup_spec_new(&flags, &top);
  if (st == AIRS_OK) {
    airs_child_spec_init(&child);
    child.id = "conns";
    child.supervisor = conns;
    child.type = AIRS_CHILD_SUPERVISOR;
    child.name = "conns"; /* the acceptor finds it by name */
    st = airs_sup_spec_add_child(top, &child);
  }
  if (st == AIRS_OK) {
    airs_child_spec_init(&child);
    static numbering n; /* lives as long as the program */
    child.id = "acceptor";
    child.behaviour = &acceptor_behaviour;
    child.user_data = &n;
    st = airs_sup_spec_add_child(top, &child);
  }
  if (st == AIRS_OK) st = airs_supervisor_start(rt, top, out);
  airs_sup_spec_free(top);
  airs_sup_spec_free(conns);
  return st;
}

int main(void) {
  clock_gettime(CLOCK_MONOTONIC, &t_start);
  setvbuf(stdout, NULL, _IOLBF, 0); /* each line as it happens */
  for (size_t i = 0; i < sizeof pattern; i++)
    pattern[i] = (unsigned char)(i % 251);
  CHECK(AIRS_CHECK_ABI());

  airs_config* cfg;
  CHECK(airs_config_new(&cfg));
  CHECK(airs_config_set(cfg, AIRS_CFG_WORKERS, 2));
  airs_runtime* rt;
  airs_status st = airs_runtime_new(cfg, &rt);
  airs_config_free(cfg);
  CHECK(st);
  CHECK(airs_set_event_hook(rt, on_event, NULL));

  /* The director first: the acceptor tells it its port from its init. */
  static outcome out = {PTHREAD_MUTEX_INITIALIZER, 0, 0};
  airs_pid director, sup;
  CHECK(airs_spawn(rt, &director_behaviour, &out, NULL, NULL, &director));
  CHECK(start_tree(rt, &sup));

  CHECK(airs_wait(rt, director, 30000));
  pthread_mutex_lock(&out.lock);
  int ok = out.rounds_done == 2 && out.failures == 0;
  printf("%s: %d rounds, %d failed client%s\n",
         ok ? "every echo matched" : "FAILED", out.rounds_done, out.failures,
         out.failures == 1 ? "" : "s");
  pthread_mutex_unlock(&out.lock);

  CHECK(airs_set_event_hook(rt, NULL, NULL));
  airs_runtime_free(rt); /* stops the tree: acceptor, then conns */
  return ok ? 0 : 1;
}
