/*
 * proc.h - the OS process actor: starting programs and talking to them
 * as Erlang talks to a port. Included by <airs/osl.h>; read airs.h's
 * conventions (status, ownership, thread tags) and osl.h (requests,
 * replies, airs_osl_result) first.
 *
 * The process actor, registered as AIRS_OSL_PROC_NAME, serves two
 * requests: SPAWN starts a program, WATCH watches an OS process the
 * runtime did not start. Each started program is represented by a port:
 * an actor of its own that owns the child's pipes and its pidfd, and
 * through which the program is written to, signalled, terminated and
 * waited for. The port tells its owner (an actor) what the program
 * writes and how it ended:
 *
 *     AIRS_MSG_PROC_STDOUT   data = bytes the child wrote to stdout
 *     AIRS_MSG_PROC_STDERR   data = bytes the child wrote to stderr
 *     AIRS_MSG_PROC_EXIT     data = an airs_proc_exit, the last message
 *
 * each with sender = the port and correlation = the port's pid, so an
 * owner of many children tells them apart. The exit message comes after
 * all the output (both pipes at end of file and the child reaped), or at
 * most 200 ms after the child's exit when a grandchild keeps a pipe open.
 *
 * A child is spawned with posix_spawn (glibc: clone with CLONE_VM |
 * CLONE_VFORK, so a large parent costs no page-table copy), with every
 * signal at its default and none blocked, in a process group of its own,
 * and with no fd of the host but its stdin, stdout and stderr. It is
 * watched through a pidfd and reaped with waitid(P_PIDFD): the runtime
 * installs no SIGCHLD handler and leaves no zombie. The host must not
 * reap children it did not start itself (no waitpid(-1), no SIGCHLD set
 * to SIG_IGN): a child reaped by someone else ends with
 * AIRS_PROC_EXIT_UNKNOWN.
 *
 * A port ends when its child has ended and its output is delivered. It
 * also ends when its owner ends, and when the runtime is freed: it then
 * kills the child's whole process group with SIGKILL and reaps the child,
 * so no child outlives its owner (grandchildren that left the group are
 * the program's business). Killing the port (airs_kill) does the same.
 *
 * Linux only (pidfd_open, Linux 5.3; waitid P_PIDFD, Linux 5.4).
 */
#ifndef AIRS_PROC_H
#define AIRS_PROC_H

#include "airs/airs.h"
#include "airs/osl.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Message types, all in [AIRS_MSG_PROC_BASE, AIRS_MSG_PROC_BASE + 0x100).
 * A request of type X is answered by a reply of type X + 1 whose data
 * starts with an airs_osl_result (osl.h).
 * ---------------------------------------------------------------------- */

/* To the process actor. Reply data: result + airs_proc_spawned. */
#define AIRS_MSG_PROC_SPAWN (AIRS_MSG_PROC_BASE + 0x00)
#define AIRS_MSG_PROC_SPAWN_REPLY (AIRS_MSG_PROC_BASE + 0x01)
/* To the process actor. Reply data: result + airs_proc_watched. */
#define AIRS_MSG_PROC_WATCH (AIRS_MSG_PROC_BASE + 0x02)
#define AIRS_MSG_PROC_WATCH_REPLY (AIRS_MSG_PROC_BASE + 0x03)

/* To a port: write bytes to the child's stdin. Replied once every byte is
 * in the pipe (the pipe may fill: the reply then waits until the child
 * has read enough). Writes are done in the order received. Reply: result
 * only. AIRS_EAGAIN: more than AIRS_PROC_WRITE_QUEUE_MAX bytes already
 * wait for the child to read them (back-pressure: nothing was queued, try
 * again after a pending write's reply). ESTATE: stdin is not a pipe
 * (AIRS_PROC_STDIN_PIPE not set) or was closed. EOS (EPIPE): the child
 * closed its stdin. */
#define AIRS_MSG_PROC_WRITE (AIRS_MSG_PROC_BASE + 0x10)
#define AIRS_MSG_PROC_WRITE_REPLY (AIRS_MSG_PROC_BASE + 0x11)
/* To a port: close the child's stdin (end of file), once the writes
 * queued before are done. Reply: result only, when closed. Closing twice
 * is fine. ESTATE: stdin is not a pipe. */
#define AIRS_MSG_PROC_CLOSE_STDIN (AIRS_MSG_PROC_BASE + 0x12)
#define AIRS_MSG_PROC_CLOSE_STDIN_REPLY (AIRS_MSG_PROC_BASE + 0x13)
/* To a port: send a signal (data: airs_proc_signal_req). Reply: result
 * only, at once. EINVAL: bad signal number. ESTATE: the child has been
 * reaped already (its pid may be another process's now). EOS: kill
 * failed. */
#define AIRS_MSG_PROC_SIGNAL (AIRS_MSG_PROC_BASE + 0x14)
#define AIRS_MSG_PROC_SIGNAL_REPLY (AIRS_MSG_PROC_BASE + 0x15)
/* To a port: end the child gracefully: SIGTERM to its process group (and
 * to the child itself, should it have left the group), then SIGKILL to
 * both if the child still runs after its kill_grace_ms. Reply:
 * result + airs_proc_exit, when the child has ended (at once if it has
 * already). Data: none. */
#define AIRS_MSG_PROC_TERMINATE (AIRS_MSG_PROC_BASE + 0x16)
#define AIRS_MSG_PROC_TERMINATE_REPLY (AIRS_MSG_PROC_BASE + 0x17)
/* To a port: wait for the child's end (data: uint32_t timeout in ms,
 * 1..2^31-1). Reply: result + airs_proc_exit when the child has ended (at
 * once if it has already), or status AIRS_ETIMEDOUT (the airs_proc_exit
 * then zeroed) after the timeout; the child is not touched. Use a request
 * or call timeout longer than this one. */
#define AIRS_MSG_PROC_WAIT (AIRS_MSG_PROC_BASE + 0x18)
#define AIRS_MSG_PROC_WAIT_REPLY (AIRS_MSG_PROC_BASE + 0x19)

/* From a port (or a watcher) to its owner; see the top of this file. */
#define AIRS_MSG_PROC_STDOUT (AIRS_MSG_PROC_BASE + 0x40)
#define AIRS_MSG_PROC_STDERR (AIRS_MSG_PROC_BASE + 0x41)
#define AIRS_MSG_PROC_EXIT (AIRS_MSG_PROC_BASE + 0x42)

/* Bytes of stdin writes a port queues at most (see AIRS_MSG_PROC_WRITE). */
#define AIRS_PROC_WRITE_QUEUE_MAX ((size_t)1 << 20)

/* ------------------------------------------------------------------------
 * Spawning.
 * ---------------------------------------------------------------------- */

/* stdin: /dev/null (default), or a pipe the owner writes with
 * AIRS_MSG_PROC_WRITE. */
#define AIRS_PROC_STDIN_PIPE 0x1u
/* stderr: a pipe of its own (default, AIRS_MSG_PROC_STDERR), merged into
 * stdout (2>&1), or /dev/null. At most one of the two. */
#define AIRS_PROC_STDERR_MERGE 0x2u
#define AIRS_PROC_STDERR_DISCARD 0x4u
/* stdout: /dev/null instead of a pipe. */
#define AIRS_PROC_STDOUT_DISCARD 0x8u

/* The default grace period of AIRS_MSG_PROC_TERMINATE, in ms. */
#define AIRS_PROC_KILL_GRACE_DEFAULT 5000u

#define AIRS_PROC_SPAWN_VERSION 1

/* What to start. Fill with airs_proc_spawn_init, then change. Read only
 * by airs_proc_req_spawn (and the helpers that call it), which copy every
 * string: the struct and its strings may go once it returns. */
typedef struct airs_proc_spawn {
  uint32_t version; /* AIRS_PROC_SPAWN_VERSION */
  uint32_t size;    /* sizeof(airs_proc_spawn) */
  /* The program: a path (with a '/'), or a name looked up in the PATH of
   * the host (not of envp), as execvp. Required. */
  const char* path;
  /* The arguments, argv[0] included, NULL-terminated. NULL: { path }. */
  const char* const* argv;
  /* The environment, "NAME=value" strings, NULL-terminated. NULL: the
   * host's environment at the time of the spawn. */
  const char* const* envp;
  /* The child's working directory; NULL: the host's. */
  const char* cwd;
  uint32_t flags; /* AIRS_PROC_STDIN_PIPE | AIRS_PROC_STDERR_* | ... */
  /* AIRS_MSG_PROC_TERMINATE's wait between SIGTERM and SIGKILL, in ms,
   * 0..3600000 (AIRS_PROC_KILL_GRACE_DEFAULT). 0: SIGKILL at once. */
  uint32_t kill_grace_ms;
  /* Gets the output and the exit message, and the child dies with it.
   * 0: the requester (the process that sent the request). A spawn from a
   * thread (airs_call, airs_proc_spawn_call) with owner 0 has no owner:
   * the output is dropped and the child lives until it ends by itself, is
   * terminated through its port, or the runtime is freed. */
  airs_pid owner;
} airs_proc_spawn;

/* Fills *spawn with the defaults above (no path). EINVAL: NULL.
 * [any thread] */
AIRS_API airs_status airs_proc_spawn_init(airs_proc_spawn* spawn);

/* The data of a SPAWN reply after its airs_osl_result. */
typedef struct airs_proc_spawned {
  int64_t os_pid; /* the child's process id (and process group id) */
  airs_pid port;  /* the port actor that represents it */
} airs_proc_spawned;

/* Builds a SPAWN request (a flat copy of *spawn) for the process actor.
 * The caller owns *out until a send consumes it. A SPAWN reply's status:
 * AIRS_OK; EINVAL: a malformed request; ENOPROC: the owner is pid 0 of
 * another runtime or never existed (an owner that has already ended gets
 * a port that kills its child at once); EOS: pipe, posix_spawn (ENOENT:
 * no such program or cwd, EACCES: not executable, ...) or pidfd_open
 * failed, with its errno and text; ESTATE: the runtime is shutting down.
 * A request sent with no correlation id (a plain send) is ignored.
 * EINVAL here: NULL argument, bad version or size, NULL or empty path,
 * unknown or clashing flags, kill_grace_ms too large, a string list too
 * long (over 65535 entries) or a request over 16 MiB. ENOMEM.
 * [any thread] */
AIRS_API airs_status airs_proc_req_spawn(const airs_proc_spawn* spawn,
                                         airs_msg** out);

/* From an actor: builds the request and sends it to AIRS_OSL_PROC_NAME
 * with airs_request (see broker.h), writing its correlation id to
 * *correlation. The reply (or an AIRS_MSG_TIMEOUT) comes later, and the
 * output to spawn->owner (0: the caller). EINVAL as airs_proc_req_spawn,
 * NULL ctx or correlation, timeout 0. ENOTFOUND: no process actor is
 * registered. The errors of airs_request. [inside a callback] */
AIRS_API airs_status airs_proc_spawn_request(airs_ctx* ctx,
                                             const airs_proc_spawn* spawn,
                                             uint32_t timeout_ms,
                                             uint64_t* correlation);

/* From a thread: builds the request, calls the process actor with
 * airs_call and reads the reply: *result gets its airs_osl_result, and
 * on success *out the child's pid and port. AIRS_OK means the call was
 * answered; the spawn itself succeeded if result->status is AIRS_OK.
 * EINVAL as airs_proc_req_spawn, NULL rt, out or result, timeout 0.
 * ENOTFOUND: no process actor is registered. The errors of airs_call
 * (ETIMEDOUT, EEXITED, ESTATE inside a callback).
 * [not inside a callback] */
AIRS_API airs_status airs_proc_spawn_call(airs_runtime* rt,
                                          const airs_proc_spawn* spawn,
                                          uint32_t timeout_ms,
                                          airs_proc_spawned* out,
                                          airs_osl_result* result);

/* Reads the airs_proc_spawned of a SPAWN reply into *out. EINVAL: NULL
 * argument, or `reply` is not a successful SPAWN reply (read its result
 * with airs_osl_result_get). [any thread] */
AIRS_API airs_status airs_proc_spawned_get(const airs_msg* reply,
                                           airs_proc_spawned* out);

/* ------------------------------------------------------------------------
 * Talking to a port. Each builder makes a request message the caller
 * owns until a send consumes it; send it to the port with airs_request
 * (from an actor) or airs_call (from a thread). A port that has ended
 * gives ENOPROC at the send (or EEXITED to a call made just before).
 * ---------------------------------------------------------------------- */

/* A WRITE of `size` bytes of `data` (copied; data may be NULL with size
 * 0, an empty write). EINVAL: NULL out, NULL data with size > 0, size
 * over AIRS_PROC_WRITE_QUEUE_MAX. ENOMEM. [any thread] */
AIRS_API airs_status airs_proc_req_write(const void* data, size_t size,
                                         airs_msg** out);

/* A CLOSE_STDIN. EINVAL: NULL out. ENOMEM. [any thread] */
AIRS_API airs_status airs_proc_req_close_stdin(airs_msg** out);

/* Sends the signal to the child alone (through its pidfd)... */
#define AIRS_PROC_SIGNAL_CHILD 0x0u
/* ...or to its whole process group. */
#define AIRS_PROC_SIGNAL_GROUP 0x1u

/* The data of a SIGNAL request. */
typedef struct airs_proc_signal_req {
  int32_t signo;  /* 1..64 (SIGKILL, SIGTERM, SIGINT, ...) */
  uint32_t flags; /* AIRS_PROC_SIGNAL_CHILD or AIRS_PROC_SIGNAL_GROUP */
} airs_proc_signal_req;

/* A SIGNAL of `signo` with AIRS_PROC_SIGNAL_* `flags`. EINVAL: NULL out,
 * signo outside 1..64, unknown flags. ENOMEM. [any thread] */
AIRS_API airs_status airs_proc_req_signal(int32_t signo, uint32_t flags,
                                          airs_msg** out);

/* A TERMINATE. EINVAL: NULL out. ENOMEM. [any thread] */
AIRS_API airs_status airs_proc_req_terminate(airs_msg** out);

/* A WAIT of at most `timeout_ms` (1..2^31-1). EINVAL: NULL out, timeout
 * out of range. ENOMEM. [any thread] */
AIRS_API airs_status airs_proc_req_wait(uint32_t timeout_ms, airs_msg** out);

/* ------------------------------------------------------------------------
 * How a process ended.
 * ---------------------------------------------------------------------- */

/* It exited: `code` is its exit status. */
#define AIRS_PROC_EXIT_EXITED 0x1u
/* A signal ended it: `signo` is the signal. */
#define AIRS_PROC_EXIT_SIGNALED 0x2u
/* ... and it dumped core. */
#define AIRS_PROC_EXIT_CORE 0x4u
/* It ended, but how is not known: a process the runtime did not start
 * (WATCH: only a parent may read the status), or a child reaped by
 * someone else. */
#define AIRS_PROC_EXIT_UNKNOWN 0x8u
/* The port killed it (SIGKILL to its group) because its owner ended, the
 * port was killed, or the runtime was freed. */
#define AIRS_PROC_EXIT_BY_PORT 0x10u

/* The data of AIRS_MSG_PROC_EXIT, and of TERMINATE and WAIT replies after
 * their airs_osl_result. */
typedef struct airs_proc_exit {
  int64_t os_pid; /* the process that ended */
  int32_t code;   /* EXITED: the exit status (0..255); else -1 */
  int32_t signo;  /* SIGNALED: the signal; else 0 */
  uint32_t flags; /* AIRS_PROC_EXIT_* */
  uint32_t reserved;
} airs_proc_exit;

/* Reads the airs_proc_exit of an AIRS_MSG_PROC_EXIT message, or of a
 * successful TERMINATE or WAIT reply, into *out. EINVAL: NULL argument,
 * or a message that is none of these. [any thread] */
AIRS_API airs_status airs_proc_exit_get(const airs_msg* msg,
                                        airs_proc_exit* out);

/* ------------------------------------------------------------------------
 * Watching a process the runtime did not start.
 * ---------------------------------------------------------------------- */

/* The data of a WATCH request. */
typedef struct airs_proc_watch_req {
  int64_t os_pid; /* the process to watch, > 0 */
  airs_pid owner; /* gets the exit message; 0: the requester */
} airs_proc_watch_req;

/* The data of a WATCH reply after its airs_osl_result. */
typedef struct airs_proc_watched {
  airs_pid watcher; /* the actor that watches (airs_stop it to stop) */
} airs_proc_watched;

/* A WATCH of `os_pid` for `owner` (0: the requester). When the process
 * ends, its watcher sends the owner one AIRS_MSG_PROC_EXIT with flags
 * AIRS_PROC_EXIT_UNKNOWN (no status: only the parent can read it), and
 * ends; it also ends with its owner. The reply's status: OK; EINVAL: no
 * owner (owner 0 from a thread) or owner not alive; EOS (ESRCH): no such
 * process. EINVAL here: NULL out, os_pid <= 0. ENOMEM. [any thread] */
AIRS_API airs_status airs_proc_req_watch(int64_t os_pid, airs_pid owner,
                                         airs_msg** out);

/* ------------------------------------------------------------------------
 * Starting the process actor.
 * ---------------------------------------------------------------------- */

/* Fills *out with the child spec of the process actor, for any
 * supervisor (airs_osl_start uses it): id "proc", registered name
 * AIRS_OSL_PROC_NAME, AIRS_RESTART_PERMANENT, a worker. Its strings are
 * static. Ports are not linked to the process actor: a restart of it
 * leaves the running children and their ports alone. EINVAL: NULL.
 * [any thread] */
AIRS_API airs_status airs_proc_child_spec(airs_child_spec* out);

/* Starts a process actor on its own (no supervisor), registered as
 * AIRS_OSL_PROC_NAME; *out (may be NULL) gets its pid. EINVAL: NULL rt.
 * EEXIST: the name is taken. The errors of airs_spawn. [any thread] */
AIRS_API airs_status airs_proc_start(airs_runtime* rt, airs_pid* out);

#ifdef __cplusplus
}
#endif

#endif /* AIRS_PROC_H */
