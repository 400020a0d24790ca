/*
 * observe.h - what a runtime shows about itself while it runs: its
 * processes (a list, each one's info, its links and monitors, the
 * supervision trees, the busiest), crash reports and a log hook, and its
 * metrics in Prometheus text format. Included by <airs/airs.h>; read its
 * conventions (status, ownership, thread tags) first.
 *
 * Nothing here stops the workers: what is read while processes run is a
 * snapshot, each value exact when it was read (as Erlang's
 * erlang:processes/0 and process_info/2, which observer and recon use).
 */
#ifndef AIRS_OBSERVE_H
#define AIRS_OBSERVE_H

#include "airs/airs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Processes.
 * ---------------------------------------------------------------------- */

/* Writes `pid` as text, "<tag.slot.generation>" (as Erlang writes
 * <node.number.serial>: the runtime's pid tag, the process table's slot,
 * and which of that slot's processes), into buf, NUL-terminated and cut
 * to fit `capacity`; returns the length it needed without the NUL, as
 * snprintf does (a NULL buf or capacity 0 only measures). Crash reports,
 * log lines and the tools write pids so. [any thread] */
AIRS_API size_t airs_pid_format(airs_pid pid, char* buf, size_t capacity);

/* Lists live processes, a page at a time, in slot order: pass cursor 0
 * first, then the *next it wrote, until *next is 0. Writes at most
 * `capacity` pids to out and their number to *count. A process that
 * starts or ends while the list is read may or may not be in it; every
 * pid written was alive when it was read. Reads 100,000 processes in a
 * few ms. EINVAL: NULL out, count or next, capacity 0. [any thread] */
AIRS_API airs_status airs_process_list(airs_runtime* rt, uint64_t cursor,
                                       airs_pid* out, size_t capacity,
                                       size_t* count, uint64_t* next);

/* Where a process is, as far as another thread can tell. */
typedef enum airs_process_state {
  AIRS_PSTATE_WAITING = 1,  /* nothing to do: its mailbox is empty */
  AIRS_PSTATE_RUNNABLE = 2, /* mail waits: queued for a worker, or running */
  AIRS_PSTATE_EXITING = 3   /* its end has begun (terminate, links told) */
} airs_process_state;

/* Bits of airs_process_info.flags. */
#define AIRS_PINFO_TRAP_EXIT 0x1u  /* it traps exits */
#define AIRS_PINFO_SUPERVISOR 0x2u /* it is a supervisor */
#define AIRS_PINFO_BATCH 0x4u      /* its behaviour has receive_batch */

/* Longest label, in bytes (airs_set_label). */
#define AIRS_LABEL_MAX 63

#define AIRS_PROCESS_INFO_VERSION 1

/* What airs_process_info_get reads. Versioned (set version and size
 * first): later versions only append fields. */
typedef struct airs_process_info {
  uint32_t version;               /* AIRS_PROCESS_INFO_VERSION */
  uint32_t size;                  /* sizeof(airs_process_info) */
  airs_pid pid;                   /* the process asked about */
  int32_t state;                  /* an airs_process_state */
  uint32_t flags;                 /* AIRS_PINFO_* */
  airs_pid supervisor;            /* the supervisor it is a child of, or 0 */
  uint64_t mailbox_depth;         /* messages waiting, signals included */
  uint64_t messages_in;           /* accepted into its mailbox since spawn */
  uint64_t messages_handled;      /* taken out of its mailbox since spawn */
  uint64_t memory_bytes;          /* what the runtime holds for it: its record
                                     and the envelopes in its mailbox (not
                                     payloads, not its own state) */
  char name[AIRS_NAME_MAX + 1];   /* its registered name, or "" */
  char label[AIRS_LABEL_MAX + 1]; /* airs_set_label's, else its child id
                                     under a supervisor, else "" */
} airs_process_info;

/* Fills *out for live `pid` without asking the process (it may be busy).
 * ENOPROC: not alive (or of another runtime). EINVAL: NULL out, version 0
 * or size too small for version 1. [any thread] */
AIRS_API airs_status airs_process_info_get(airs_runtime* rt, airs_pid pid,
                                           airs_process_info* out);

/* Gives the calling process a label for tools (the observer page,
 * airs.top, crash reports), as OTP 27's proc_lib:set_label: copied,
 * 1..AIRS_LABEL_MAX bytes; NULL or "" removes it. Goes with the process.
 * EINVAL: too long. ENOMEM. [inside a callback] */
AIRS_API airs_status airs_set_label(airs_ctx* ctx, const char* label);

/* A process's links and monitors, which only the process itself may read:
 * airs_process_ties asks it, as Erlang's process_info(Pid, links) does,
 * and waits for its answer (given between two of its messages). Each
 * array is the caller's (NULL when its capacity is 0); each count is the
 * whole number, which may be more than the capacity. */
typedef struct airs_process_ties {
  airs_pid* links;
  size_t links_capacity;
  size_t links_count;
  airs_pid* monitors; /* processes it monitors */
  size_t monitors_capacity;
  size_t monitors_count;
  airs_pid* monitored_by; /* processes that monitor it */
  size_t monitored_by_capacity;
  size_t monitored_by_count;
} airs_process_ties;

/* Fills the counts and arrays of *ties. ENOPROC: not alive, or it ended
 * before it answered. ETIMEDOUT: no answer in `timeout_ms` (it is busy in
 * a long callback). EINVAL: NULL ties, an array NULL with a capacity.
 * ESTATE: inside a callback (it would wait). In host-driven mode the
 * caller polls the runtime while it waits. [not inside a callback] */
AIRS_API airs_status airs_process_ties_get(airs_runtime* rt, airs_pid pid,
                                           airs_process_ties* ties,
                                           uint32_t timeout_ms);

/* One process of a supervision tree, as airs_supervision_walk visits it:
 * borrowed, valid during the call. */
typedef struct airs_tree_node {
  airs_pid pid;        /* 0 for a child that is not running */
  airs_pid supervisor; /* 0 for a root */
  uint32_t depth;      /* 0 for a root */
  int32_t type;        /* an airs_child_type (a root: SUPERVISOR) */
  int32_t state;       /* an airs_child_state (a root: RUNNING) */
  const char* id;      /* the child id ("" for a root, or in a pool) */
} airs_tree_node;

/* Called for each node; nonzero stops the walk. */
typedef int (*airs_tree_fn)(void* user_data, const airs_tree_node* node);

/* Walks the supervision tree under `root`, or every tree (root 0: each
 * supervisor that is no supervisor's child, in pid order), depth first,
 * a supervisor before its children, children in start order. Each
 * supervisor's children are read at once (airs_supervisor_which_children);
 * a tree that changes during the walk is seen partly before, partly
 * after. The callback may call [any thread] functions, not the walk's
 * supervisors' own operations. ENOPROC / EINVAL: root is not alive / not a
 * supervisor. ENOMEM. [any thread, not inside a supervisor's callback] */
AIRS_API airs_status airs_supervision_walk(airs_runtime* rt, airs_pid root,
                                           airs_tree_fn fn, void* user_data);

/* What airs_process_top ranks by. */
typedef enum airs_top_key {
  AIRS_TOP_MAILBOX = 1, /* mailbox depth at the window's end */
  AIRS_TOP_HANDLED = 2, /* messages handled during the window */
  AIRS_TOP_MEMORY = 3   /* memory_bytes at the window's end */
} airs_top_key;

typedef struct airs_top_entry {
  airs_pid pid;
  uint64_t value; /* by the key */
} airs_top_entry;

/* The `capacity` processes with the largest values of `key` (largest
 * first; ties in slot order), as recon's proc_window: the counts are read
 * at the start and the end of a window of `window_ms` ms (0: now), and a
 * process must be alive at both to rank by HANDLED. Writes the number
 * found to *count. EINVAL: unknown key, NULL out or count, capacity 0,
 * window over 3600000. ESTATE: a window inside a callback (it sleeps).
 * ENOMEM. In host-driven mode the caller polls the runtime during the
 * window. [any thread; window 0 inside a callback] */
AIRS_API airs_status airs_process_top(airs_runtime* rt, airs_top_key key,
                                      uint32_t window_ms, airs_top_entry* out,
                                      size_t capacity, size_t* count);

/* ------------------------------------------------------------------------
 * Crash reports and the log hook.
 *
 * When a process ends abnormally (not normal, not shutdown), the runtime
 * writes one line, its crash report:
 *
 *   airs: crash: process <1.6.0> "db" [writer] exited: error 5: boom
 *   (last message type 7; supervisor <1.5.0>)
 *
 * (one line; name, label and supervisor only when it has them). Without
 * a log hook it goes to stderr, unless AIRS_CFG_CRASH_REPORTS is 0. A log
 * hook gets it instead, at AIRS_SEVERITY_ERROR, and also the supervisors'
 * reports (an event's text: a child that failed, the restart intensity
 * reached, a child killed after its shutdown timeout) at their severity.
 * ---------------------------------------------------------------------- */

/* One log line (no newline), borrowed for the call, on the thread that
 * found out (usually the worker where the process ended). Must not block;
 * may call [any thread] functions (not airs_runtime_free). */
typedef void (*airs_log_fn)(void* user_data, airs_severity severity,
                            const char* line);

/* Installs (fn != NULL) or removes the log hook: it gets lines of
 * `min_severity` and above. user_data is not owned. A hook being replaced
 * may still run on another thread shortly after this returns. EINVAL:
 * NULL rt, unknown severity. ENOMEM. [any thread] */
AIRS_API airs_status airs_set_log_hook(airs_runtime* rt, airs_log_fn fn,
                                       void* user_data,
                                       airs_severity min_severity);

/* ------------------------------------------------------------------------
 * Metrics.
 * ---------------------------------------------------------------------- */

/* Writes the runtime's metrics in Prometheus text exposition format
 * (version 0.0.4) to buf, NUL-terminated, and its length (without the
 * NUL) to *len. The metrics are always on and cost nothing per message:
 * processes alive, spawned, exited by reason; messages sent, delivered,
 * dropped; dead letters by reason; restarts and restart intensity
 * reached; per worker, busy seconds and steals; the blocking pool's
 * threads, queues and jobs; open sockets; and the histograms of the
 * processes timed by name (airs_timing_track); then the lines of the
 * metrics sources (airs_metrics_source_add). A buffer too small gets nothing
 * but *len: EFULL (call again with len + 1 bytes; buf may be NULL with
 * capacity 0 to ask). EINVAL: NULL len, NULL buf with a capacity. ENOMEM.
 * ESTATE: inside a metrics source. [any thread] */
AIRS_API airs_status airs_metrics_write(airs_runtime* rt, char* buf,
                                        size_t capacity, size_t* len);

/* ------------------------------------------------------------------------
 * Metrics sources: code outside the runtime that adds its own families to
 * the exposition (libairs_node adds its peers and traffic; a host may add
 * its own counters), so that one scrape reads them all.
 * ---------------------------------------------------------------------- */

/* Writes the source's lines of the exposition (# HELP, # TYPE and
 * samples, in the text format 0.0.4, each ending in a newline) to buf,
 * NUL-terminated and cut to fit `capacity`, and returns their length
 * without the NUL, as snprintf does; when that is `capacity` or more it
 * is called again with more room. Runs on the thread of
 * airs_metrics_write, with no lock of the runtime held; it must not call
 * airs_metrics_write or airs_metrics_source_add/remove (ESTATE). */
typedef size_t (*airs_metrics_fn)(void* user_data, char* buf, size_t capacity);

#define AIRS_METRICS_SOURCES_MAX 16

/* Adds a source: its lines follow the runtime's in every exposition, in
 * the order sources were added. The runtime does not check them:
 * families must not repeat the runtime's or another source's. EINVAL:
 * NULL fn. EEXIST: this fn and user_data are a source already. ELIMIT:
 * AIRS_METRICS_SOURCES_MAX are. ESTATE: inside a source. ENOMEM. [any
 * thread] */
AIRS_API airs_status airs_metrics_source_add(airs_runtime* rt,
                                             airs_metrics_fn fn,
                                             void* user_data);

/* Removes a source. When it returns, fn is not running for it and will
 * not run again (it waits for an exposition being written): user_data
 * may go. ENOTFOUND: not a source. ESTATE: inside a source. [any thread]
 */
AIRS_API airs_status airs_metrics_source_remove(airs_runtime* rt,
                                                airs_metrics_fn fn,
                                                void* user_data);

/* ------------------------------------------------------------------------
 * Per-process timing, opted into by name (as CAF's actor metrics): for
 * each process whose registered name matches a pattern, a histogram of
 * how long its messages waited between their send and their receive, and
 * one of how long its receive calls took. The histograms belong to the
 * name: a process restarted under the same name goes on in the same
 * series. airs_metrics_write exports them (airs_process_mailbox_wait_seconds
 * and airs_process_processing_seconds, label "name").
 *
 * Cost: a timed process's senders and its turns each take a lock and read
 * the clock per message (about 140 ns a message together: airs-bench
 * pingpong_timed, 178 ns a hop against 39); other processes pay a
 * one-byte test per message. Only user messages are timed (not signals,
 * nor the EXIT and DOWN messages of a process that traps exits); a
 * receive_batch call is one processing sample, each message in it one
 * wait sample.
 * ---------------------------------------------------------------------- */

/* Histogram buckets: bucket i < AIRS_TIMING_BUCKETS - 1 counts the times
 * above the bound before it and at most AIRS_TIMING_BOUND_NS(i), that is
 * 1 us * 4^i (1 us, 4 us, 16 us, ... 4.19 s); the last bucket counts the
 * rest. */
#define AIRS_TIMING_BUCKETS 13
#define AIRS_TIMING_BOUND_NS(i) (UINT64_C(1000) << (2 * (i)))
#define AIRS_TIMING_PATTERNS_MAX 16 /* patterns tracked at once */
#define AIRS_TIMING_NAMES_MAX 1024  /* names with histograms, ever */
/* Messages of one process timed at once (sent, not yet received); the
 * ones sent past that go unmeasured (airs_timing.wait_unmeasured). */
#define AIRS_TIMING_STAMPS_MAX 4096

typedef struct airs_timing_histogram {
  uint64_t count;                        /* samples */
  uint64_t sum_ns;                       /* their total */
  uint64_t buckets[AIRS_TIMING_BUCKETS]; /* per bucket, not cumulative */
} airs_timing_histogram;

#define AIRS_TIMING_VERSION 1

/* What airs_timing_get reads. Versioned (set version and size first):
 * later versions only append fields. */
typedef struct airs_timing {
  uint32_t version;           /* AIRS_TIMING_VERSION */
  uint32_t size;              /* sizeof(airs_timing) */
  airs_timing_histogram wait; /* each message: from its send to the
                                 receive that took it */
  airs_timing_histogram run;  /* each receive (or receive_batch) call */
  uint64_t wait_unmeasured;   /* messages sent while AIRS_TIMING_STAMPS_MAX
                                 were being timed */
} airs_timing;

/* Times the processes whose registered names match `pattern` (a shell
 * glob, as fnmatch(3) with no flags: "db.*", "worker-?"; 1..AIRS_NAME_MAX
 * bytes, copied): those named now, and each process given a matching name
 * from now on, from then until it loses the name. A name that matches
 * when AIRS_TIMING_NAMES_MAX names have histograms already is not timed
 * (the metrics count it: airs_timing_names_refused_total). EINVAL: NULL
 * or empty pattern, or longer than AIRS_NAME_MAX. EEXIST: the pattern is
 * tracked already. ELIMIT: AIRS_TIMING_PATTERNS_MAX patterns are. ENOMEM.
 * [any thread] */
AIRS_API airs_status airs_timing_track(airs_runtime* rt, const char* pattern);

/* Stops tracking `pattern`: processes whose names no other pattern
 * matches are timed no more; their histograms stay, with what they have.
 * EINVAL: NULL pattern. ENOTFOUND: not tracked. [any thread] */
AIRS_API airs_status airs_timing_untrack(airs_runtime* rt, const char* pattern);

/* Copies the histograms of `name` to *out. ENOTFOUND: no process of that
 * name has been timed. EINVAL: NULL name, NULL out, version 0 or size too
 * small for version 1. [any thread] */
AIRS_API airs_status airs_timing_get(airs_runtime* rt, const char* name,
                                     airs_timing* out);

/* ------------------------------------------------------------------------
 * The observer endpoint: an HTTP/1.1 server in a process of the runtime,
 * on a socket of net.h (the reactor), opened only when asked. It serves:
 *
 *   GET /              a page that shows the supervision trees, each
 *                      process's mailbox and message rate, the busiest
 *                      processes, restarts and dead letters, refreshed
 *                      every second (one HTML file, nothing from elsewhere)
 *   GET /metrics       the metrics (airs_metrics_write), for Prometheus
 *   GET /api/tree      the supervision trees as JSON: one object per node,
 *                      depth first (pid, supervisor, depth, id, type,
 *                      child_state, name, label, state, mailbox, handled,
 *                      memory)
 *   GET /api/processes the live processes as JSON, {"count", "processes"}
 *                      (pid, name, label, state, mailbox, handled, memory);
 *                      ?limit=N, default 1000
 *
 * Each answer is a snapshot read while the runtime runs; each connection
 * gets one answer and is closed (Connection: close); at most 64 are open
 * at once. There is no authentication: bind it to loopback, or put it
 * behind something that authenticates.
 * ---------------------------------------------------------------------- */

/* The endpoint process's registered name. */
#define AIRS_OBSERVER_NAME "airs.observer"

/* Opens the endpoint on `addr`, numeric with a port ("127.0.0.1:8080",
 * "[::1]:0"; port 0: any free one): spawns its process (registered as
 * AIRS_OBSERVER_NAME; *pid gets it) and writes the address it listens on
 * to *bound (may be NULL). It runs until stopped (airs_stop(*pid)) or the
 * runtime is freed. EINVAL: NULL rt, addr or pid, an address that does
 * not parse. EEXIST: an observer is open already. ESTATE: the address is
 * in use. ELIMIT: out of fds. ENOMEM. [any thread] */
AIRS_API airs_status airs_observer_open(airs_runtime* rt, const char* addr,
                                        airs_pid* pid, airs_addr* bound);

#ifdef __cplusplus
}
#endif

#endif /* AIRS_OBSERVE_H */
