/*
 * net.h - sockets owned by processes: TCP and UDP over IPv4 and IPv6, in
 * Erlang's model (gen_tcp, gen_udp). Included by <airs/airs.h>; read its
 * conventions (status, ownership, thread tags) first.
 *
 * A socket belongs to one process, its owner. Whatever happens on the
 * socket comes to the owner as a message (the AIRS_MSG_SOCK_* types below),
 * with the socket's id as the message's correlation id and sender 0. The
 * socket closes when its owner ends, however it ends. Any thread may send
 * on a socket, change its flow control or close it; only the owner hears.
 *
 * Flow control is Erlang's {active, N}: a socket has a credit of messages
 * it may deliver (data, datagrams, accepted connections). Each one spends
 * a unit; when the credit runs out the owner gets AIRS_MSG_SOCK_PASSIVE and
 * the socket stops reading, so the kernel's buffers fill and the peer
 * slows down (TCP) or drops (UDP). airs_socket_set_active() adds credit. A
 * socket starts passive (credit 0): nothing arrives until the owner asks.
 * Socket messages are admitted past a bounded mailbox's capacity (the
 * credit is their bound) and never dropped for a full mailbox.
 *
 * Sending is never blocking: airs_socket_send() writes what the kernel
 * takes at once and keeps the rest in the socket's send buffer, written
 * by the runtime as the peer reads. The buffer is bounded: a send that
 * does not fit returns AIRS_EAGAIN (back-pressure, not an error; nothing
 * was queued) and the owner gets AIRS_MSG_SOCK_WRITABLE once the buffer
 * has drained to half. A send may ask for an acknowledgement: a
 * AIRS_MSG_SOCK_SENT once all its bytes were handed to the kernel.
 *
 * Errors are messages: AIRS_MSG_SOCK_ERROR carries the errno and its text
 * and is the last message of its socket (the runtime has closed it).
 *
 * Addresses are numeric (airs_addr_parse); nothing here resolves names,
 * since resolving blocks: run getaddrinfo as a job (io.h) instead.
 *
 * Nothing process-global is touched: sends use MSG_NOSIGNAL (a closed
 * peer gives an error message, never SIGPIPE) and no signal handler is
 * installed. Every fd is close-on-exec.
 *
 * I/O readiness is waited for in epoll by a thread of the runtime's own
 * (started with the first socket), or, in host-driven mode, by the host
 * through airs_runtime_fd() (io.h): then reads and accepts happen in
 * airs_runtime_poll().
 */
#ifndef AIRS_NET_H
#define AIRS_NET_H

#include "airs/airs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A socket's id: never 0, never reused within a runtime. */
typedef uint64_t airs_socket;

/* ------------------------------------------------------------------------
 * Addresses
 * ---------------------------------------------------------------------- */

#define AIRS_AF_INET4 4
#define AIRS_AF_INET6 6

typedef struct airs_addr {
  uint16_t family;   /* AIRS_AF_INET4 or AIRS_AF_INET6 */
  uint16_t port;     /* host byte order; 0 in a bind: any free port */
  uint32_t scope_id; /* IPv6 link-local scope, else 0 */
  uint8_t ip[16];    /* network byte order; IPv4 uses the first 4 */
} airs_addr;

/* Parses "1.2.3.4:80", "[::1]:80" or "[fe80::1%2]:80" (numeric only; the
 * port may be 0). EINVAL: NULL, malformed, or a port above 65535.
 * [any thread] */
AIRS_API airs_status airs_addr_parse(const char* text, airs_addr* out);

/* Writes the address as airs_addr_parse reads it, NUL-terminated. 64
 * bytes always suffice. EINVAL: NULL, an unknown family, or size too small
 * (then buf holds ""). [any thread] */
AIRS_API airs_status airs_addr_format(const airs_addr* addr, char* buf,
                                      size_t size);

/* ------------------------------------------------------------------------
 * Options
 * ---------------------------------------------------------------------- */

/* An unbounded credit: every read is delivered (Erlang's {active, true};
 * no flow control). */
#define AIRS_ACTIVE_ALWAYS (-1)
/* The most credit a socket holds; more is capped (as Erlang's 32767). */
#define AIRS_ACTIVE_MAX 32767

#define AIRS_SOCK_NODELAY 0x1u   /* TCP: TCP_NODELAY (Nagle off) */
#define AIRS_SOCK_REUSEADDR 0x2u /* SO_REUSEADDR before bind */
#define AIRS_SOCK_V6ONLY 0x4u    /* IPv6: no IPv4-mapped peers */

#define AIRS_SOCKET_OPTS_VERSION 1

typedef struct airs_socket_opts {
  uint32_t version;     /* AIRS_SOCKET_OPTS_VERSION */
  uint32_t size;        /* sizeof(airs_socket_opts) */
  int32_t active;       /* initial credit: 0 (default), 1..AIRS_ACTIVE_MAX,
                           or AIRS_ACTIVE_ALWAYS */
  uint32_t flags;       /* AIRS_SOCK_*; default NODELAY | REUSEADDR */
  uint32_t send_buffer; /* bytes the send buffer holds; default 262144,
                           16..1<<30 */
  uint32_t read_size;   /* most bytes per AIRS_MSG_SOCK_DATA (and largest
                           datagram read); default 65536, 16..1<<24 */
  uint32_t backlog;     /* listen: pending connections; default 1024 */
  uint32_t reserved;    /* 0 */
} airs_socket_opts;

/* Fills *opts with the defaults. EINVAL: NULL. [any thread] */
AIRS_API airs_status airs_socket_opts_init(airs_socket_opts* opts);

/* ------------------------------------------------------------------------
 * Messages to the owner. Each has correlation = the socket's id and
 * sender 0. The data layouts are below; read them with memcpy or the
 * pointer from airs_msg_data (aligned to 8).
 * ---------------------------------------------------------------------- */

/* TCP bytes read, 1..read_size of them, in stream order. */
#define AIRS_MSG_SOCK_DATA (AIRS_MSG_SYSTEM_BASE + 6)
/* UDP: one datagram, data = airs_datagram followed by its bytes. */
#define AIRS_MSG_SOCK_DATAGRAM (AIRS_MSG_SYSTEM_BASE + 7)
/* The credit ran out: the socket stopped reading (set_active resumes). */
#define AIRS_MSG_SOCK_PASSIVE (AIRS_MSG_SYSTEM_BASE + 8)
/* TCP: the peer closed its sending side. The socket stays open for
 * sending until it is closed (half-close); no more data comes. */
#define AIRS_MSG_SOCK_EOF (AIRS_MSG_SYSTEM_BASE + 9)
/* An error: data = airs_sock_error. The socket is closed (its id is no
 * longer valid); this is its last message. */
#define AIRS_MSG_SOCK_ERROR (AIRS_MSG_SYSTEM_BASE + 10)
/* A listener accepted a connection: data = airs_sock_accepted. The new
 * socket belongs to the listener's owner and starts passive: give it away
 * (airs_socket_give) and then set it active. correlation = the listener. */
#define AIRS_MSG_SOCK_ACCEPTED (AIRS_MSG_SYSTEM_BASE + 11)
/* airs_tcp_connect succeeded; the socket can send and be set active. */
#define AIRS_MSG_SOCK_CONNECTED (AIRS_MSG_SYSTEM_BASE + 12)
/* A send's bytes all reached the kernel: data = the uint64_t ack_ref it
 * was given. Acks come in the order of their sends. */
#define AIRS_MSG_SOCK_SENT (AIRS_MSG_SYSTEM_BASE + 13)
/* A send was refused with AIRS_EAGAIN and the buffer has since drained
 * to half: send again. */
#define AIRS_MSG_SOCK_WRITABLE (AIRS_MSG_SYSTEM_BASE + 14)

/* A listener could not accept (data = airs_sock_error): out of fds
 * (EMFILE, ENFILE) or memory. The listener stays open, stops accepting
 * for 100 ms (pending connections wait in the backlog), then tries again.
 * correlation = the listener. */
#define AIRS_MSG_SOCK_ACCEPT_ERROR (AIRS_MSG_SYSTEM_BASE + 15)

typedef struct airs_sock_error {
  int32_t err;    /* the errno value (ETIMEDOUT for a connect timeout) */
  char op[12];    /* what failed: "connect", "recv", "send", "accept" */
  char text[112]; /* strerror text, NUL-terminated */
} airs_sock_error;

typedef struct airs_sock_accepted {
  airs_socket socket; /* the new connection's id */
  airs_addr peer;     /* its remote address */
} airs_sock_accepted;

typedef struct airs_datagram {
  airs_addr from;     /* the sender */
  uint32_t size;      /* bytes that follow */
  uint32_t truncated; /* 1: the datagram was longer than read_size */
} airs_datagram;

/* ------------------------------------------------------------------------
 * Sockets. Each call takes the runtime handle, so plain threads may call
 * them too. owner: a live process of this runtime (ENOPROC otherwise). A
 * system call's failure gives AIRS_EINTERNAL only for a bug; otherwise the
 * status below with the errno text in airs_last_error(): EADDRINUSE and
 * the like are AIRS_EINVAL for a bad address or AIRS_ESTATE for a
 * conflict, EMFILE/ENFILE/ENOBUFS are AIRS_ELIMIT, ENOMEM is AIRS_ENOMEM.
 * ESTATE also when the runtime is shutting down.
 * ---------------------------------------------------------------------- */

/* A TCP listener bound to *addr (port 0: any free one; read it back with
 * airs_socket_addr). Accepted connections come to `owner` as
 * AIRS_MSG_SOCK_ACCEPTED, one per unit of credit. opts may be NULL (the
 * defaults). ESTATE: the address is in use. ELIMIT: out of fds.
 * [any thread] */
AIRS_API airs_status airs_tcp_listen(airs_runtime* rt, airs_pid owner,
                                     const airs_addr* addr,
                                     const airs_socket_opts* opts,
                                     airs_socket* out);

/* Starts connecting to *addr; *out is the socket's id at once. The owner
 * gets AIRS_MSG_SOCK_CONNECTED, or AIRS_MSG_SOCK_ERROR (ECONNREFUSED,
 * ETIMEDOUT after timeout_ms, 0 = no timeout but the kernel's). Sends
 * before the connection is up are buffered. [any thread] */
AIRS_API airs_status airs_tcp_connect(airs_runtime* rt, airs_pid owner,
                                      const airs_addr* addr,
                                      uint32_t timeout_ms,
                                      const airs_socket_opts* opts,
                                      airs_socket* out);

/* A UDP socket bound to *addr; datagrams come as AIRS_MSG_SOCK_DATAGRAM.
 * [any thread] */
AIRS_API airs_status airs_udp_open(airs_runtime* rt, airs_pid owner,
                                   const airs_addr* addr,
                                   const airs_socket_opts* opts,
                                   airs_socket* out);

/* TCP: queues `size` bytes (copied) for sending, in order with earlier
 * sends. ack_ref != 0 asks for AIRS_MSG_SOCK_SENT with that value. EAGAIN:
 * the send buffer cannot take them all (nothing was queued; a send into
 * an empty buffer is always taken, however large). ESTATE: not a
 * connected (or connecting) TCP socket, or its sending side was shut
 * down. ENOTFOUND: no such socket (closed, or never was). EINVAL: NULL
 * data with size > 0. [any thread] */
AIRS_API airs_status airs_socket_send(airs_runtime* rt, airs_socket sock,
                                      const void* data, size_t size,
                                      uint64_t ack_ref);

/* UDP: sends one datagram to *to at once. EAGAIN: the kernel's buffer is
 * full (the datagram is not sent). ESTATE: not a UDP socket. EINVAL: the
 * address family does not match the socket's, or size is over 65507
 * (IPv4) / 65527 (IPv6). [any thread] */
AIRS_API airs_status airs_udp_send(airs_runtime* rt, airs_socket sock,
                                   const airs_addr* to, const void* data,
                                   size_t size);

/* Flow control: n > 0 adds n to the credit (capped at AIRS_ACTIVE_MAX);
 * n = 0 makes the socket passive at once (no AIRS_MSG_SOCK_PASSIVE);
 * AIRS_ACTIVE_ALWAYS delivers everything. EINVAL: n < -1. ENOTFOUND.
 * [any thread] */
AIRS_API airs_status airs_socket_set_active(airs_runtime* rt, airs_socket sock,
                                            int32_t n);

/* Hands the socket to another live process (gen_tcp:controlling_process):
 * later messages go to it, and it closes when the new owner ends.
 * Messages already sent stay with the old owner. ENOPROC: new_owner is not
 * alive. [any thread] */
AIRS_API airs_status airs_socket_give(airs_runtime* rt, airs_socket sock,
                                      airs_pid new_owner);

/* TCP half-close: shuts the sending side once the send buffer has been
 * written (the peer reads EOF); the socket still receives. ESTATE: not a
 * TCP connection. [any thread] */
AIRS_API airs_status airs_socket_shutdown(airs_runtime* rt, airs_socket sock);

/* Closes the socket now: what the send buffer still holds is dropped and
 * no more messages come (some may be in the owner's mailbox already).
 * ENOTFOUND: already closed. [any thread] */
AIRS_API airs_status airs_socket_close(airs_runtime* rt, airs_socket sock);

/* The local and the remote address (either pointer may be NULL; a
 * listener or unconnected UDP socket has no remote: ESTATE if asked).
 * [any thread] */
AIRS_API airs_status airs_socket_addr(airs_runtime* rt, airs_socket sock,
                                      airs_addr* local, airs_addr* peer);

/* Reads an AIRS_MSG_SOCK_DATAGRAM: *info gets its header, *data its bytes
 * (inside msg, valid while msg is). EINVAL: NULL, or not a datagram.
 * [any thread] */
AIRS_API airs_status airs_datagram_read(const airs_msg* msg,
                                        airs_datagram* info, const void** data);

/* Sockets open now in this runtime. [any thread] */
AIRS_API uint64_t airs_socket_count(airs_runtime* rt);

#ifdef __cplusplus
}
#endif

#endif /* AIRS_NET_H */
