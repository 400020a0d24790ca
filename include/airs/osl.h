/*
 * osl.h - the system actors (OSL: the OS layer): a file system actor
 * (fs.h), an OS process actor (proc.h) and a network actor (below), each
 * a process with a registered name, driven by request messages
 * (broker.h's airs_request from an actor, airs_call from a thread).
 * airs_osl_start() starts the three under one rest_for_one supervisor:
 * the file actor first, then the process actor, then the network actor,
 * so a crash of the file actor restarts all three and a crash of the
 * network actor only itself. Included by <airs/airs.h>; read its
 * conventions (status, ownership, thread tags) first.
 *
 * Every request is a message whose type names the operation and whose
 * data is a flat struct (each header's airs_*_req_* helpers build them);
 * every reply is a message of the matching reply type, sent with
 * airs_reply (so it carries the request's correlation id), whose data
 * starts with an airs_osl_result. A failed operation is a reply, never a
 * crash of the system actor: bad input (a path with an embedded NUL, a
 * path too long, a missing argument) gives AIRS_EINVAL, an OS error gives
 * AIRS_EOS with the errno and its text.
 *
 * The system actors never touch process-global state: no signal handler,
 * no change of the current directory, the umask or the environment.
 */
#ifndef AIRS_OSL_H
#define AIRS_OSL_H

#include "airs/airs.h"
#include "airs/net.h"
#include "airs/supervisor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The registered names of the system actors. */
#define AIRS_OSL_FS_NAME "airs.fs"
#define AIRS_OSL_PROC_NAME "airs.proc"
#define AIRS_OSL_NET_NAME "airs.net"

/* The message types of each system actor (its requests, replies and
 * notices) lie in [base, base + 0x100), inside the range airs.h keeps for
 * the system actors (AIRS_MSG_OSL_BASE). */
#define AIRS_MSG_FS_BASE (AIRS_MSG_OSL_BASE + 0x100)   /* fs.h */
#define AIRS_MSG_PROC_BASE (AIRS_MSG_OSL_BASE + 0x200) /* proc.h */
#define AIRS_MSG_NET_BASE (AIRS_MSG_OSL_BASE + 0x300)  /* below */

/* Longest error text of a reply, NUL included. */
#define AIRS_OSL_TEXT_MAX 160

/* The head of every reply of a system actor. */
typedef struct airs_osl_result {
  int32_t status; /* AIRS_OK, or why the operation failed */
  int32_t err;    /* the errno behind an AIRS_EOS, else 0 */
  /* "" on success; else what failed and why, NUL-terminated, e.g.
   * "open /tmp/x: No such file or directory". */
  char text[AIRS_OSL_TEXT_MAX];
} airs_osl_result;

/* Reads the head of a system actor's reply into *out. A message that is
 * not such a reply (AIRS_MSG_TIMEOUT, say) gives status ETIMEDOUT for a
 * timeout and EINVAL otherwise, with a text saying so. EINVAL: NULL
 * argument. [any thread] */
AIRS_API airs_status airs_osl_result_get(const airs_msg* reply,
                                         airs_osl_result* out);

/* ------------------------------------------------------------------------
 * Starting the system actors.
 * ---------------------------------------------------------------------- */

#define AIRS_OSL_OPTS_VERSION 1

typedef struct airs_osl_opts {
  uint32_t version; /* AIRS_OSL_OPTS_VERSION */
  uint32_t size;    /* sizeof(airs_osl_opts) */
  /* The supervisor's restart intensity (supervisor.h): more than
   * `intensity` restarts in `period_ms` and it gives up and ends, as OTP.
   * Defaults 3 in 5000. */
  uint32_t intensity;
  uint32_t period_ms;
  /* Optional: the supervisor is registered under this name. */
  const char* name;
} airs_osl_opts;

/* Fills *opts with the defaults. EINVAL: NULL. [any thread] */
AIRS_API airs_status airs_osl_opts_init(airs_osl_opts* opts);

/* Starts the system actors under one rest_for_one supervisor, in this
 * order: the file system actor (AIRS_OSL_FS_NAME), the OS process actor
 * (AIRS_OSL_PROC_NAME), the network actor (AIRS_OSL_NET_NAME), each
 * registered under its name, PERMANENT. *sup gets the supervisor's pid;
 * stop it with airs_stop (or put the child specs below under a supervisor
 * of your own instead). opts may be NULL (the defaults). EINVAL: bad
 * opts. EEXIST: one of the names is taken (by a running OSL, say).
 * ESTATE: the runtime is shutting down. ENOMEM. [any thread] */
AIRS_API airs_status airs_osl_start(airs_runtime* rt, const airs_osl_opts* opts,
                                    airs_pid* sup);

/* ------------------------------------------------------------------------
 * The network actor (AIRS_OSL_NET_NAME): opens sockets (net.h) for whoever
 * asks and resolves host names. A socket it opens belongs to the owner
 * the request names (the requester by default), never to the network
 * actor, so it lives on when the network actor restarts; the socket's own
 * messages (CONNECTED, DATA...) go to that owner. Resolving blocks, so it
 * runs on the blocking pool as a SLOW job (io.h), and the actor answers
 * other requests meanwhile.
 * ---------------------------------------------------------------------- */

/* Requests; each is answered by one AIRS_MSG_NET_REPLY. */
#define AIRS_MSG_NET_CONNECT (AIRS_MSG_NET_BASE + 1)  /* airs_tcp_connect */
#define AIRS_MSG_NET_LISTEN (AIRS_MSG_NET_BASE + 2)   /* airs_tcp_listen */
#define AIRS_MSG_NET_UDP_OPEN (AIRS_MSG_NET_BASE + 3) /* airs_udp_open */
#define AIRS_MSG_NET_RESOLVE (AIRS_MSG_NET_BASE + 4)  /* getaddrinfo */
/* The reply: data = airs_osl_result, then airs_net_reply. */
#define AIRS_MSG_NET_REPLY (AIRS_MSG_NET_BASE + 0x80)

/* Longest host name to resolve, NUL included. */
#define AIRS_NET_HOST_MAX 256
/* Most addresses one resolve replies with. */
#define AIRS_NET_ADDRS_MAX 16

#define AIRS_NET_REQ_VERSION 1

/* A request to the network actor, flat (no pointers): the message's data
 * is this struct. Fill with airs_net_req_init, then change. */
typedef struct airs_net_req {
  uint32_t version; /* AIRS_NET_REQ_VERSION */
  uint32_t size;    /* sizeof(airs_net_req) */
  uint64_t type;    /* AIRS_MSG_NET_CONNECT ... AIRS_MSG_NET_RESOLVE */
  /* Who owns the new socket and hears its messages. 0: the requester
   * (required from a thread that is not a process: airs_net_call). */
  airs_pid owner;
  airs_addr addr;      /* CONNECT: the peer; LISTEN, UDP_OPEN: where to
                          bind (port 0: any free one) */
  uint32_t timeout_ms; /* CONNECT: 0 = the kernel's timeout */
  uint32_t has_opts;   /* 1: use opts, 0: the defaults */
  airs_socket_opts opts;
  /* RESOLVE: a host name or numeric address, NUL-terminated; the port of
   * every address found is addr.port. */
  char host[AIRS_NET_HOST_MAX];
} airs_net_req;

typedef struct airs_net_reply {
  airs_socket socket; /* CONNECT, LISTEN, UDP_OPEN: the new socket */
  airs_addr local;    /* LISTEN, UDP_OPEN: the bound address (its port) */
  uint32_t count;     /* RESOLVE: the addresses found, in addrs */
  uint32_t reserved;
  airs_addr addrs[AIRS_NET_ADDRS_MAX];
} airs_net_reply;

/* Fills *req with the defaults for a request of `type` (owner 0, no
 * timeout, default options, family AIRS_AF_INET4, all else 0). EINVAL:
 * NULL, or a type that is not a request of the network actor.
 * [any thread] */
AIRS_API airs_status airs_net_req_init(airs_net_req* req, uint64_t type);

/* Sends *req (copied) to the network actor as a request (broker.h's
 * airs_request): the AIRS_MSG_NET_REPLY, or AIRS_MSG_TIMEOUT, comes back
 * with the id written to *correlation. ENOTFOUND: no process is
 * registered as AIRS_OSL_NET_NAME. EINVAL: NULL argument, bad version,
 * size or type (a request the actor would refuse is sent and refused
 * there: its reply says why). ENOMEM. [inside a callback] */
AIRS_API airs_status airs_net_request(airs_ctx* ctx, const airs_net_req* req,
                                      uint32_t timeout_ms,
                                      uint64_t* correlation);

/* The same from a plain thread (broker.h's airs_call): blocks for the
 * reply, which *reply gets (free it with airs_msg_free). req->owner must
 * name a process. Status as airs_call, and as airs_net_request; the
 * operation's own outcome is in the reply (airs_osl_result_get).
 * [not inside a callback] */
AIRS_API airs_status airs_net_call(airs_runtime* rt, const airs_net_req* req,
                                   uint32_t timeout_ms, airs_msg** reply);

/* Reads the airs_net_reply part of an AIRS_MSG_NET_REPLY (zeroed when the
 * reply is a failure). EINVAL: NULL, or not such a reply. [any thread] */
AIRS_API airs_status airs_net_reply_get(const airs_msg* reply,
                                        airs_net_reply* out);

/* Fills *spec for the network actor (id "net", registered as
 * AIRS_OSL_NET_NAME, PERMANENT), for a supervisor of your own; the spec
 * holds nothing to free. EINVAL: NULL. [any thread] */
AIRS_API airs_status airs_net_child_spec(airs_child_spec* spec);

#ifdef __cplusplus
}
#endif

#include "airs/fs.h" /* the file system actor */
#include "airs/proc.h" /* the OS process actor */

#endif /* AIRS_OSL_H */
