/*
 * io.h - work that blocks, kept off the scheduler's workers: the blocking
 * pool; and the wake-up fd of a host-driven runtime. Included by
 * <airs/airs.h>; read its conventions (status, ownership, thread tags)
 * first. Sockets are in net.h.
 */
#ifndef AIRS_IO_H
#define AIRS_IO_H

#include "airs/airs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * The blocking pool. A runtime has a pool of threads apart from its
 * workers, for work that blocks: reading a file, resolving a name, waiting
 * on a pipe. An actor that did such work in its callback would stall a
 * worker and every process queued behind it; it hands the work to the
 * pool as a job instead and gets the result as a message.
 *
 * Jobs come in classes, each with its own FIFO queue. FAST is for work
 * that ends soon (local files); SLOW for work that may block for long or
 * for ever (DNS, network file systems, FIFOs, devices). SLOW jobs hold at
 * most AIRS_CFG_POOL_SLOW_MAX threads at once, so that FAST jobs always
 * find threads however many slow ones are stuck (libuv learned this from
 * node's "dns.lookup blocks file system I/O").
 *
 * The pool is elastic: AIRS_CFG_POOL_MIN_THREADS threads stay, up to
 * AIRS_CFG_POOL_MAX_THREADS are started while jobs wait, and a thread
 * idle for AIRS_CFG_POOL_KEEPALIVE_MS ends (down to the minimum). No
 * thread is started before the first job.
 *
 * Erlang runs such work on dirty I/O schedulers; here a job is a plain C
 * function: it must not call into the runtime with a ctx (it has none),
 * but it may use any [any thread] function with the runtime handle.
 * ---------------------------------------------------------------------- */

typedef enum airs_job_class {
  AIRS_JOB_FAST = 0, /* ends soon: local file I/O */
  AIRS_JOB_SLOW = 1  /* may block long or for ever: capped, see above */
} airs_job_class;

/* Runs on a pool thread; may block. Returns the message that completes
 * the job (ownership passes to the runtime), or NULL for an empty
 * AIRS_MSG_JOB_DONE. */
typedef airs_msg* (*airs_job_fn)(void* arg);

#define AIRS_JOB_VERSION 1

typedef struct airs_job {
  uint32_t version;            /* AIRS_JOB_VERSION */
  uint32_t size;               /* sizeof(airs_job) */
  int32_t job_class;           /* an airs_job_class */
  airs_job_fn run;             /* required */
  void* arg;                   /* passed to run */
  void (*arg_free)(void* arg); /* may be NULL: called once, after run or
                                  when the job is cancelled or refused */
  airs_pid reply_to;           /* gets the completion; 0: nobody (dropped) */
} airs_job;

/* The completion of a job whose run returned NULL: no data, correlation =
 * the job id. Any completion (also a message run returned) has the job id
 * as its correlation id and sender 0. */
#define AIRS_MSG_JOB_DONE (AIRS_MSG_SYSTEM_BASE + 4)
/* A job cancelled before it ran (airs_job_cancel): correlation = its id. */
#define AIRS_MSG_JOB_CANCELLED (AIRS_MSG_SYSTEM_BASE + 5)

/* Fills *job with defaults: FAST, nothing to run. EINVAL: NULL. */
AIRS_API airs_status airs_job_init(airs_job* job);

/* Queues `job` (copied) and writes its id (never 0) to *id (may be NULL).
 * The completion goes to job->reply_to when run returns, as a message: a
 * process that ended meanwhile makes it a dead letter. On any failure
 * arg_free runs before the call returns. EINVAL: NULL job or run, bad
 * version, size or class. ESTATE: the runtime is shutting down. ENOMEM.
 * [any thread] */
AIRS_API airs_status airs_job_submit(airs_runtime* rt, const airs_job* job,
                                     uint64_t* id);

/* Cancels a job that has not started: it never runs, arg_free runs, and
 * its reply_to gets AIRS_MSG_JOB_CANCELLED. A job that is running or done
 * cannot be cancelled (as libuv's uv_cancel): ENOTFOUND, and its
 * completion comes as usual. [any thread] */
AIRS_API airs_status airs_job_cancel(airs_runtime* rt, uint64_t id);

#define AIRS_JOB_STATS_VERSION 1

typedef struct airs_job_stats {
  uint32_t version;          /* AIRS_JOB_STATS_VERSION */
  uint32_t size;             /* sizeof(airs_job_stats) */
  uint64_t threads;          /* pool threads now */
  uint64_t threads_idle;     /* of them, waiting for a job */
  uint64_t threads_peak;     /* most at once since the start */
  uint64_t queued[2];        /* per class: waiting now */
  uint64_t running[2];       /* per class: running now */
  uint64_t done[2];          /* per class: ran to the end */
  uint64_t cancelled[2];     /* per class: cancelled before they ran */
  uint64_t wait_us_total[2]; /* per class: queue time of the jobs started */
  uint64_t wait_us_max[2];   /* per class: the longest queue time */
} airs_job_stats;

/* Fills *out (version and size set by the caller). EINVAL: NULL, version
 * 0 or size too small. [any thread] */
AIRS_API airs_status airs_job_stats_get(airs_runtime* rt, airs_job_stats* out);

/* ------------------------------------------------------------------------
 * Watching an fd. A process can ask to be told when an fd of its own (a
 * pipe, a pidfd, an eventfd, a device) is ready, as Erlang's enif_select
 * and libuv's uv_poll: the runtime waits for it in its epoll set and sends
 * the process one AIRS_MSG_FD_READY; the process then does the
 * non-blocking read or write itself, in its callback, and re-arms.
 *
 * A watch is one-shot: after its message it is disarmed until
 * airs_fd_rearm() (so a process is never flooded, and the level of the fd
 * is re-checked at each arming: data still unread makes it ready again at
 * once). The runtime watches a duplicate of the fd it takes at
 * airs_fd_watch (close-on-exec), so the caller may close its own fd at any
 * time; the duplicate is closed by airs_fd_unwatch or when the owner ends,
 * whichever comes first. The caller's fd is never closed by the runtime.
 * Make the fd non-blocking (O_NONBLOCK) yourself: the runtime does not
 * change its flags, which the duplicate shares.
 * ---------------------------------------------------------------------- */

#define AIRS_FD_READ 0x1u  /* readable, or its peer hung up */
#define AIRS_FD_WRITE 0x2u /* writable */

/* The watched fd is ready: data = uint32_t, the AIRS_FD_* that are ready
 * (AIRS_FD_READ also for a hang-up or an error: the read says which),
 * correlation = the watch id, sender 0. The watch is now disarmed. */
#define AIRS_MSG_FD_READY (AIRS_MSG_SYSTEM_BASE + 16)

/* Watches `fd` for `events` (AIRS_FD_READ and/or AIRS_FD_WRITE) on behalf
 * of `owner`, armed at once; writes the watch's id (never 0, never
 * reused) to *id. The watch ends with its owner. EINVAL: a bad fd, events
 * 0 or unknown bits, NULL id, or an fd epoll cannot watch (a regular
 * file: errno EPERM in the message). ENOPROC: owner is not alive. ELIMIT:
 * out of fds. ENOMEM. ESTATE: the runtime is shutting down. [any thread] */
AIRS_API airs_status airs_fd_watch(airs_runtime* rt, int fd, uint32_t events,
                                   airs_pid owner, uint64_t* id);

/* Arms watch `id` again for `events` (after its AIRS_MSG_FD_READY, or to
 * change what it waits for). ENOTFOUND: no such watch (unwatched, or its
 * owner ended). EINVAL: events 0 or unknown bits. [any thread] */
AIRS_API airs_status airs_fd_rearm(airs_runtime* rt, uint64_t id,
                                   uint32_t events);

/* Ends watch `id` and closes the runtime's duplicate; no AIRS_MSG_FD_READY
 * of it is sent after this returns (one sent before may still be in the
 * owner's mailbox). For a watch of airs_fd_watch_fn: its fn is not running
 * when this returns and is not called again (it waits for a call under
 * way; called from inside fn, it does not wait, and fn is not called again
 * once it returns). So do not call it holding a lock that fn takes.
 * ENOTFOUND: no such watch. [any thread] */
AIRS_API airs_status airs_fd_unwatch(airs_runtime* rt, uint64_t id);

/* ------------------------------------------------------------------------
 * Watching an fd with a function: for a library with an event loop of its
 * own to adopt (cnats's natsOptions_SetEventLoop, c-ares, libcurl's multi
 * interface), as libuv's uv_poll. Instead of a message to a process, the
 * runtime calls `fn` where it sees the fd ready: on a thread of its
 * reactor's (never on a worker, so calls go on while every worker is in a
 * long turn), or, in host-driven mode, inside airs_runtime_poll on the
 * host's thread. The watch is one-shot as a message watch is (airs_fd_rearm
 * arms it again, also from inside fn) and is ended by airs_fd_unwatch or by
 * airs_runtime_free; it has no owner process. Calls of one watch's fn never
 * overlap: readiness seen while fn runs is handed to the next call, made on
 * the same thread right after. fn must not block (it holds up the fds
 * behind it): it reads or writes without waiting, and may call any
 * [any thread] function that does not wait (a send, airs_fd_rearm,
 * airs_fd_unwatch of its own watch; not airs_call, airs_wait or
 * airs_runtime_free; airs_fd_unwatch of another watch waits for that
 * watch's call under way).
 * ---------------------------------------------------------------------- */

/* The fd of watch `id` is ready: `ready` holds the AIRS_FD_* bits, as the
 * data of AIRS_MSG_FD_READY. The watch is now disarmed. */
typedef void (*airs_fd_fn)(void* arg, uint64_t id, uint32_t ready);

/* Watches `fd` for `events` as airs_fd_watch does (a duplicate, armed at
 * once, one-shot), calling fn(arg, id, ready) instead of sending a
 * message. arg is not owned: it must stay valid until airs_fd_unwatch
 * returns or the runtime is freed. airs_fd_unwatch and airs_fd_rearm take
 * its id. EINVAL: a bad fd, events 0 or unknown bits, NULL fn or id, or an
 * fd epoll cannot watch. ELIMIT: out of fds. ENOMEM. ESTATE: the runtime
 * is shutting down. [any thread] */
AIRS_API airs_status airs_fd_watch_fn(airs_runtime* rt, int fd, uint32_t events,
                                      airs_fd_fn fn, void* arg, uint64_t* id);

/* ------------------------------------------------------------------------
 * The host's wake-up fd. A host-driven runtime (AIRS_CFG_WORKERS = 0)
 * runs only when the host calls airs_runtime_poll(); a host with an event
 * loop of its own (libuv, asyncio, poll(2)) adds this fd to it, watching
 * for readability, and polls when it is readable:
 *
 *     airs_runtime_fd(rt, &fd);              once
 *     ... the loop says fd is readable ...
 *     airs_runtime_poll(rt, budget, &ran);   as often as you like
 *
 * The fd is readable whenever the runtime has something to do: a process
 * is runnable (a send from any thread, a reply, a job's completion), a
 * timer is due, or a socket has I/O. It stays readable after a poll that
 * left work (its budget ran out) and becomes unreadable once a poll has
 * done everything due; wake-ups coalesce (a burst of sends makes it
 * readable once). It may also be readable once with nothing to run: a
 * timer added from another thread with a new earliest deadline wakes the
 * host so that the next poll re-arms the wait for it. The host never reads from it; it must not close it.
 * It is an epoll fd: add it for input only (EPOLLIN, POLLIN, add_reader).
 * With a manual clock (AIRS_CFG_MANUAL_CLOCK, or a seed) timers make it
 * readable only through airs_runtime_advance_time.
 * ---------------------------------------------------------------------- */

/* Writes the runtime's wake-up fd to *fd (made at the first call, owned by
 * the runtime, closed by airs_runtime_free; -1 on failure). ESTATE: the
 * runtime has worker threads (it needs no waking). ELIMIT: out of fds.
 * EINVAL: NULL fd. [any thread] */
AIRS_API airs_status airs_runtime_fd(airs_runtime* rt, int* fd);

#ifdef __cplusplus
}
#endif

#endif /* AIRS_IO_H */
