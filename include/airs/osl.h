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

#ifdef __cplusplus
}
#endif

#include "airs/proc.h" /* the OS process actor */

#endif /* AIRS_OSL_H */
