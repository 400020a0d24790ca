/*
 * airs.h - the public C API of airssys-rt, an embeddable actor runtime in
 * the Erlang/OTP tradition.
 *
 * Everything here is plain C99 and compiles as C++ too. Handles are opaque,
 * pids are integers, and every fallible call returns an airs_status. Read
 * the conventions once, they hold for every function below:
 *
 *  - Status. AIRS_OK (0) is success. On failure, out-parameters are left
 *    untouched, airs_last_error_message() says what went wrong on this
 *    thread, and no callback of the failed call ever fires.
 *  - Ownership. A call that takes an airs_msg* or airs_payload* "consumes"
 *    it only when it returns AIRS_OK; on any error the caller still owns it.
 *  - Threads. Each function is tagged:
 *      [any thread]              callable from anywhere, callbacks included;
 *      [inside a callback]       only from a callback of the same process
 *                                (takes the airs_ctx* that callback got);
 *      [not inside a callback]   never from an actor callback (it could
 *                                block or deadlock); returns AIRS_ESTATE.
 *  - Destructors (airs_*_free, airs_*_release) return void and accept NULL.
 *  - Scheduling. A process runs in turns of up to AIRS_CFG_BUDGET messages.
 *    A process made runnable from outside the workers (a send from a
 *    thread that is not a worker, a due timer, a supervisor's kill timer,
 *    a send from the host between polls) waits behind at most the outside
 *    work queued before it: each worker takes one such process every 61
 *    turns, whatever its own backlog. Local work cannot starve it.
 *    A process that a callback's send (or link, monitor, exit) makes
 *    runnable is queued on that callback's worker, to run after the turn
 *    with its caches warm. A worker that is looking for work may take
 *    some of them sooner, and a sleeping one is woken once a backlog
 *    builds up there, but not for the first: a callback that computes or
 *    blocks for long delays the one process it made runnable first by as
 *    much. Spawn such code with AIRS_SPAWN_BLOCKING. (Erlang would move
 *    it to an idle scheduler; waking one for every such send would cost
 *    a request-reply pair a cross-thread wake-up a hop.) Likewise, a
 *    process whose turn leaves its mailbox empty and makes another
 *    runnable on its worker stays scheduled there through that one's
 *    turn, so that a reply costs no second locked instruction: mail
 *    that other threads send it meanwhile runs when that turn ends.
 */
#ifndef AIRS_AIRS_H
#define AIRS_AIRS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "airs/export.h"
#include "airs/version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Status codes. Explicit values, only ever appended.
 * ---------------------------------------------------------------------- */

typedef enum airs_status {
  AIRS_OK = 0,
  AIRS_EINVAL = 1,     /* an argument is NULL, out of range or malformed */
  AIRS_ENOMEM = 2,     /* an allocation failed */
  AIRS_ENOPROC = 3,    /* the pid is 0, stale, or its process has ended */
  AIRS_EFULL = 4,      /* the mailbox is full (policy FAIL, or BLOCK inside a
                          callback) */
  AIRS_ETIMEDOUT = 5,  /* a bounded wait ran out */
  AIRS_EEXIST = 6,     /* the name is already registered */
  AIRS_ENOTFOUND = 7,  /* no such name, timer or monitor */
  AIRS_ESTATE = 8,     /* the call is not allowed now: the runtime is shutting
                          down or was freed, a ctx is used outside its
                          callback, a blocking call is made inside one, or
                          the runtime is in the wrong mode for it */
  AIRS_ELIMIT = 9,     /* a configured limit (max processes) is reached */
  AIRS_EVERSION = 10,  /* ABI mismatch between a header and the library */
  AIRS_EINTERNAL = 11, /* a bug in airs; the message says where */
  AIRS_EEXITED = 12,   /* the process ended before it answered (airs_call:
                          the message was sent, so it is consumed) */
  AIRS_IGNORE = 13,    /* not an error: returned by an init that asks not
                          to start (OTP's `ignore`); see airs_behaviour */
  AIRS_EAGAIN = 14,    /* not now, later: a socket's send buffer is full
                          (back-pressure, net.h); nothing was done */
  AIRS_EOS = 15        /* an operating-system call failed (a system actor's
                          reply, osl.h): the errno and its text come with it */
} airs_status;

/* The name of a status ("AIRS_ENOPROC"), or "AIRS_UNKNOWN". Static string.
 * [any thread] */
AIRS_API const char* airs_strerror(airs_status status);

/* Detail about the last failed call on this thread ("" if none). The string
 * belongs to the thread and stays valid until its next failing airs call.
 * [any thread] */
AIRS_API const char* airs_last_error_message(void);

/* ------------------------------------------------------------------------
 * Version and plugin ABI guard.
 * ---------------------------------------------------------------------- */

/* AIRS_VERSION_NUMBER of the loaded library. [any thread] */
AIRS_API uint32_t airs_version(void);

/* AIRS_VERSION_STRING of the loaded library. Static string. [any thread] */
AIRS_API const char* airs_version_string(void);

/* Checks that a plugin built against header version `header_version` can
 * use the loaded library: same major version, and a library at least as new
 * as the header. AIRS_OK, or AIRS_EVERSION with the two versions in the
 * message. Use AIRS_CHECK_ABI() below. [any thread] */
AIRS_API airs_status airs_check_abi(uint32_t header_version);

/* Convenience: the ABI check with the version this code was compiled with. */
#define AIRS_CHECK_ABI() airs_check_abi(AIRS_VERSION_NUMBER)

/* ------------------------------------------------------------------------
 * Handles and basic types.
 * ---------------------------------------------------------------------- */

typedef struct airs_runtime airs_runtime; /* one runtime: processes+threads */
typedef struct airs_config airs_config;   /* settings for airs_runtime_new */
typedef struct airs_ctx airs_ctx;         /* a running process, in a callback */
typedef struct airs_msg airs_msg;         /* one message (an envelope) */
typedef struct airs_payload airs_payload; /* a shared refcounted payload */
typedef struct airs_reason airs_reason;   /* why a process ended */

/* A process id, opaque to the host: it names one process of one runtime.
 * 0 is "no process". A pid is never reused within its runtime: a call with
 * a stale pid returns AIRS_ENOPROC. A pid carries its runtime's tag, so a
 * pid given to another live runtime of the same library also gets
 * AIRS_ENOPROC, never an unrelated process of that runtime (at most 65535
 * runtimes are alive at once: airs_runtime_new fails with AIRS_ELIMIT past
 * that). Two copies of the library loaded under two names tag their
 * runtimes independently: keep their pids apart. */
typedef uint64_t airs_pid;

#define AIRS_NO_PID ((airs_pid)0)

/* ------------------------------------------------------------------------
 * Configuration, set by key so that the struct never grows.
 * ---------------------------------------------------------------------- */

typedef enum airs_config_key {
  /* Worker threads. Default: the number of cores. 0 = host-driven mode: no
   * threads; the host runs processes with airs_runtime_poll(). 0..1024. */
  AIRS_CFG_WORKERS = 1,
  /* Default mailbox capacity of new processes; 0 = unbounded (default). */
  AIRS_CFG_MAILBOX_CAPACITY = 2,
  /* Default policy for a full mailbox: an airs_mailbox_policy (FAIL). */
  AIRS_CFG_MAILBOX_POLICY = 3,
  /* How long a BLOCK-policy send may wait, in ms: 1..3600000 (1000). */
  AIRS_CFG_BLOCK_TIMEOUT_MS = 4,
  /* Most processes alive at once: 1..(1<<27). Default 1<<22 (4 Mi). */
  AIRS_CFG_MAX_PROCESSES = 5,
  /* How long airs_runtime_free waits for processes to stop before it kills
   * them, in ms: 0..3600000 (default 5000). */
  AIRS_CFG_SHUTDOWN_TIMEOUT_MS = 6,
  /* Messages a process handles per turn before it yields: 1..1000000 (64). */
  AIRS_CFG_BUDGET = 7,
  /* 1: time only moves when the host calls airs_runtime_advance_time()
   * (deterministic timers in tests). 0 (default): the monotonic clock. */
  AIRS_CFG_MANUAL_CLOCK = 8,
  /* 1 (default): events go to the hook of airs_set_event_hook. 0: no event
   * is ever built or delivered, hook or not. */
  AIRS_CFG_EVENTS = 9,
  /* Seeded deterministic mode (see "Deterministic mode" below): 0 (default)
   * = off; any other 64-bit pattern is the seed. Needs host-driven mode
   * (AIRS_CFG_WORKERS = 0: airs_runtime_new fails with AIRS_EINVAL
   * otherwise) and implies AIRS_CFG_MANUAL_CLOCK (reading that key back
   * still gives what was set). */
  AIRS_CFG_SEED = 10,
  /* The blocking pool (<airs/io.h>): threads kept when idle, 0..1024 (0). */
  AIRS_CFG_POOL_MIN_THREADS = 11,
  /* Most pool threads, 2..1024 (4); at least POOL_MIN_THREADS. */
  AIRS_CFG_POOL_MAX_THREADS = 12,
  /* Most pool threads running AIRS_JOB_SLOW jobs at once, 1..1023 (2);
   * below POOL_MAX_THREADS, so that fast jobs always have a thread. */
  AIRS_CFG_POOL_SLOW_MAX = 13,
  /* How long an idle pool thread above the minimum waits for a job before
   * it ends, in ms: 0..3600000 (10000). */
  AIRS_CFG_POOL_KEEPALIVE_MS = 14,
  /* The runtime's pid tag, the top 16 bits of each of its pids
   * (airs_pid_tag): 1..65535, or 0 (default) for any tag no live runtime
   * of this library copy holds. A transport that carries messages between
   * runtimes (transport.h) fixes it so that tags are unique across all of
   * them. airs_runtime_new fails with AIRS_EEXIST when a live runtime of
   * this library copy holds it. */
  AIRS_CFG_PID_TAG = 15,
  /* Crash reports (observe.h): 1 (default) = an abnormal exit prints one
   * line to stderr when no log hook is installed; 0 = they go only to a
   * log hook. */
  AIRS_CFG_CRASH_REPORTS = 16
} airs_config_key;

/* Makes a config with every key at its default. The caller owns *out and
 * frees it with airs_config_free. ENOMEM. [any thread] */
AIRS_API airs_status airs_config_new(airs_config** out);

/* Sets one key. EINVAL: NULL config, unknown key, or value out of range.
 * [any thread, one thread per config at a time] */
AIRS_API airs_status airs_config_set(airs_config* cfg, airs_config_key key,
                                     int64_t value);

/* Reads one key into *value. EINVAL: NULL argument or unknown key. */
AIRS_API airs_status airs_config_get(const airs_config* cfg,
                                     airs_config_key key, int64_t* value);

/* Frees a config. NULL is fine. [any thread] */
AIRS_API void airs_config_free(airs_config* cfg);

/* Told of each thread a runtime starts (its workers and its timer
 * thread; a host-driven runtime has none): with started = 1 as the first
 * thing on the new thread, before any callback runs there, and with
 * started = 0 as the last thing on it, before airs_runtime_free (or a
 * failing airs_runtime_new) returns. For hosts and language bindings that
 * must know their threads (a JVM's AttachCurrentThread, a Python thread
 * state). Runs on that thread; must not call airs_runtime_free, and
 * should not block: the runtime waits for it. */
typedef void (*airs_thread_fn)(void* user_data, int started);

/* Sets the thread hook of the runtimes made from `cfg` (fn NULL: none).
 * user_data is not owned; it must live as long as those runtimes.
 * EINVAL: NULL cfg. [any thread, one thread per config at a time] */
AIRS_API airs_status airs_config_set_thread_hook(airs_config* cfg,
                                                 airs_thread_fn fn,
                                                 void* user_data);

/* ------------------------------------------------------------------------
 * Runtime.
 * ---------------------------------------------------------------------- */

/* Creates a runtime from `cfg` (copied; NULL = defaults) and starts its
 * worker threads. Several runtimes may live in one process. The caller owns
 * *out and frees it with airs_runtime_free. ENOMEM; ELIMIT: 65535 runtimes
 * are alive (see airs_pid); EINTERNAL if a thread cannot be started.
 * [any thread] */
AIRS_API airs_status airs_runtime_new(const airs_config* cfg,
                                      airs_runtime** out);

/* Stops the runtime: every live process is sent an exit signal `shutdown`
 * (newest first), processes get the shutdown timeout to end (a process that
 * traps exits gets an AIRS_MSG_EXIT and should airs_exit), the rest are
 * killed; every terminate callback runs once, every thread is joined, all
 * memory is freed, and every user_data_free runs. A callback that never
 * returns cannot be interrupted: free then waits for it.
 * After free, the handle is a tombstone: any call with it returns
 * AIRS_ESTATE (about 600 bytes stay allocated per freed runtime for this,
 * until the library is unloaded with dlclose, or the process exits, with
 * no runtime alive).
 * Other threads may go on calling with the handle while it is freed: a
 * call that starts once free has begun returns AIRS_ESTATE (calls from the
 * runtime's own callbacks, which run while its processes stop, go on
 * working), and the calls already under way end before the runtime's
 * memory goes (free waits for them after the processes have stopped; a
 * blocking call such as airs_wait or airs_call returns then, as its
 * processes are gone). NULL is fine. Calling it inside a callback of the
 * same runtime, a second time, or from two threads at once frees it once;
 * the other calls do nothing but set the last error message.
 * [any thread but a callback of this runtime] */
AIRS_API void airs_runtime_free(airs_runtime* rt);

/* Host-driven mode (AIRS_CFG_WORKERS = 0): fires due timers, then runs up
 * to `budget` process turns (each turn handles up to AIRS_CFG_BUDGET
 * messages of one process) on the calling thread. *ran (may be NULL) gets
 * the number of turns run; 0 means there was nothing to do. With
 * AIRS_CFG_SEED, turns and timer firings are steps in a seeded order
 * instead, and both count (see "Deterministic mode").
 * ESTATE: the runtime has worker threads, another thread is polling, or
 * this is called inside a callback. EINVAL: NULL rt or budget 0.
 * [not inside a callback; one polling thread at a time] */
AIRS_API airs_status airs_runtime_poll(airs_runtime* rt, uint32_t budget,
                                       uint32_t* ran);

/* Writes the number of the runtime's worker threads (AIRS_CFG_WORKERS) to
 * *workers: 0 for a host-driven runtime, which runs only inside
 * airs_runtime_poll. For a library that must know whether anything runs
 * while the host's thread is busy. EINVAL: NULL argument. [any thread] */
AIRS_API airs_status airs_runtime_workers(airs_runtime* rt, uint32_t* workers);

/* Milliseconds until the next timer is due: 0 if one is due now, -1 if no
 * timer is pending. Lets a host sleep between polls. EINVAL: NULL argument.
 * [any thread] */
AIRS_API airs_status airs_runtime_next_timer_ms(airs_runtime* rt, int64_t* ms);

/* With AIRS_CFG_MANUAL_CLOCK: moves the runtime's clock forward by `ms` and
 * lets due timers fire (at once on a threaded runtime, at the next poll in
 * host-driven mode). ESTATE: the clock is not manual. [any thread] */
AIRS_API airs_status airs_runtime_advance_time(airs_runtime* rt, uint64_t ms);

/* ------------------------------------------------------------------------
 * Deterministic mode: a seed decides the order.
 *
 * A host-driven runtime made with AIRS_CFG_SEED != 0 runs each poll as a
 * series of steps. A step is one turn of one runnable process, or the
 * firing of one due timer; before each step, a pseudo-random generator
 * seeded with the seed picks it uniformly among every runnable process
 * and every due timer. So timers interleave with turns (a due timer may
 * wait behind turns, and turns behind it), and a run's order of events
 * is a function of the seed and of what the host does, nothing else: the
 * same seed with the same host program (the same calls in the same order
 * between polls, from one thread) gives the same steps, byte for byte.
 * A test that fails prints its seed; the seed replays the failure.
 *
 * This differs from Erlang on purpose. The BEAM runs processes in the
 * order they became runnable and fires timers as they come due; here any
 * runnable process may go next, so a test explores orders a real
 * multi-core run could produce but rarely does. What stays: messages of
 * one sender to one receiver arrive in the order sent (a turn still takes
 * a process's mail in order, high priority first), signals keep their
 * order, and each turn handles up to AIRS_CFG_BUDGET messages.
 *
 * In this mode a step (a turn or a timer firing) counts toward the poll's
 * budget and *ran; a poll ends when its budget is spent or nothing is
 * runnable or due. The clock is manual: timers come due only through
 * airs_runtime_advance_time. The polls that airs_runtime_free and the
 * waiting calls (airs_wait, airs_call, supervisor operations) run take
 * their steps the same way. Several threads may call into the runtime as
 * usual, but only what one thread does is reproducible: calls from other
 * threads land between steps wherever the operating system puts them.
 * Random picks of a pool (AIRS_PICK_RANDOM) come from the seed too.
 *
 * Without a seed nothing of this runs: the normal poll pays one test per
 * poll, and a threaded runtime none.
 * ---------------------------------------------------------------------- */

typedef enum airs_trace_kind {
  AIRS_TRACE_TURN = 1, /* `pid` ran one turn */
  AIRS_TRACE_TIMER = 2 /* timer `timer_id` (for `pid`) fired */
} airs_trace_kind;

#define AIRS_TRACE_STEP_VERSION 1

/* One step of a seeded runtime, borrowed: valid only during the hook
 * call. Pids are the runtime's own numbers; a pid's top 16 bits may differ
 * between two runs of the same seed (they tell runtimes apart), so a
 * trace meant for comparing keeps only its low 48 bits. */
typedef struct airs_trace_step {
  uint32_t version;  /* AIRS_TRACE_STEP_VERSION */
  uint32_t size;     /* sizeof(airs_trace_step) */
  uint64_t index;    /* 0, 1, 2, ...: steps since the runtime started */
  int32_t kind;      /* an airs_trace_kind */
  uint32_t choices;  /* runnable processes + due timers it was picked from */
  airs_pid pid;      /* the process that ran, or the timer's target */
  uint64_t timer_id; /* TIMER: the id airs_send_after gave (or an internal
                        timer's); TURN: 0 */
  uint64_t received; /* TURN: user messages handed to receive */
  uint64_t cost;     /* TURN: envelopes taken (messages and signals) plus
                        messages sent; TIMER: 0 */
} airs_trace_step;

/* Called after each step, on the thread that polls. Must not block, and
 * must not call airs_runtime_poll or airs_runtime_free; other [any thread]
 * functions are fine (what they do is part of the run). */
typedef void (*airs_trace_fn)(void* user_data, const airs_trace_step* step);

/* Installs (fn != NULL) or removes the trace hook of a seeded runtime.
 * user_data is not owned. The hook in place when a poll starts serves
 * that whole poll: a hook being replaced may still run in a poll going on
 * on another thread. EINVAL: NULL rt. ESTATE: the runtime has no seed.
 * [any thread] */
AIRS_API airs_status airs_runtime_set_trace_hook(airs_runtime* rt,
                                                 airs_trace_fn fn,
                                                 void* user_data);

/* ------------------------------------------------------------------------
 * Exit reasons.
 * ---------------------------------------------------------------------- */

typedef enum airs_exit_kind {
  AIRS_EXIT_NORMAL = 0,      /* finished its work */
  AIRS_EXIT_SHUTDOWN = 1,    /* asked to stop (airs_stop, supervisor, free) */
  AIRS_EXIT_KILLED = 2,      /* airs_kill: cannot be trapped */
  AIRS_EXIT_ERROR = 3,       /* failed: code + text */
  AIRS_EXIT_NOPROC = 4,      /* (in down/exit messages) the process was already
                                gone when the link or monitor was made */
  AIRS_EXIT_NOCONNECTION = 5 /* (in down/exit messages) the process is on
                                another node, which cannot be reached: it
                                was declared down, or was down when the
                                link or monitor was made (transport.h) */
} airs_exit_kind;

/* Reads a reason. The reason is borrowed: valid during the callback (or
 * message) that handed it out. NULL reasons read as NORMAL / 0 / "".
 * [any thread] */
AIRS_API airs_exit_kind airs_reason_kind(const airs_reason* reason);
AIRS_API int32_t airs_reason_code(const airs_reason* reason);
AIRS_API const char* airs_reason_text(const airs_reason* reason);

/* ------------------------------------------------------------------------
 * Actors: a behaviour (vtable of callbacks) + user_data.
 * ---------------------------------------------------------------------- */

typedef enum airs_health {
  AIRS_HEALTH_HEALTHY = 0,
  AIRS_HEALTH_DEGRADED = 1,
  AIRS_HEALTH_FAILED = 2
} airs_health;

/* One message of a batch (airs_behaviour.receive_batch): what the
 * accessors of airs_msg.h would answer for it, laid out in one array so
 * that a binding reads a whole turn's messages from one buffer without a
 * call per message. Six 64-bit words, in this order, on every platform
 * this library supports (pointers are 64 bits wide). Fixed, never grows:
 * a binding reads the array with this stride; more per message would come
 * with a new behaviour slot and item type. */
typedef struct airs_batch_item {
  uint64_t type;        /* airs_msg_type */
  airs_pid sender;      /* airs_msg_sender (0: sent from no process) */
  uint64_t correlation; /* airs_msg_correlation (0: none) */
  const airs_msg* msg;  /* the message itself, borrowed: for the other
                           accessors (reason, priority, payload) and for
                           airs_reply; valid until the callback returns */
  const void* data;     /* airs_msg_data */
  uint64_t size;        /* airs_msg_size */
} airs_batch_item;

/* Most messages one call of receive_batch gets. A turn (AIRS_CFG_BUDGET
 * messages) may make several calls. */
#define AIRS_BATCH_MAX 64

/* Version 1 ends after `health`; version 2 adds receive_batch. A library
 * reads the slots that the struct's version and size both cover, so a
 * program built against an older header keeps working unchanged. */
#define AIRS_BEHAVIOUR_VERSION 2

/* The callbacks of an actor. Copied at spawn: the struct may live on the
 * stack. Every callback of one process runs on one thread at a time (a
 * worker, or the host thread inside airs_runtime_poll), never concurrently
 * with another callback of the same process. Callbacks may call any
 * [any thread] or [inside a callback] function, and must not block. */
typedef struct airs_behaviour {
  uint32_t version; /* AIRS_BEHAVIOUR_VERSION (1 for the first four slots) */
  uint32_t size;    /* sizeof(airs_behaviour) (AIRS_BEHAVIOUR_SIZE_V1 for
                       version 1) */
  /* Optional. Makes the state of a new start in *state (NULL init: the
   * state is user_data). Runs synchronously inside the spawn call, on the
   * spawning thread. A non-OK return fails the spawn with that status;
   * terminate is then not called. AIRS_IGNORE (OTP's `ignore`): the
   * process does not start, the spawn returns AIRS_IGNORE, and links made
   * in init hear `normal`; a supervisor keeps such a child's spec with no
   * process (state STOPPED; a temporary one's spec is dropped) and goes
   * on, its start and restart calls returning AIRS_OK with pid 0. */
  airs_status (*init)(void* user_data, airs_ctx* ctx, void** state);
  /* Required unless receive_batch is set (then never called). Handles one
   * message. The message is borrowed: it is freed after receive returns
   * (airs_msg_* accessors work until then). A non-OK return ends the
   * process with an AIRS_EXIT_ERROR whose code is the status and whose
   * text is the last error message of the thread. */
  airs_status (*receive)(void* state, airs_ctx* ctx, const airs_msg* msg);
  /* Optional. Runs exactly once when a process whose init succeeded ends,
   * whatever the reason; frees the state. It may send messages. */
  void (*terminate)(void* state, airs_ctx* ctx, const airs_reason* reason);
  /* Optional. Polled by supervisors that enable health checks. */
  airs_health (*health)(void* state, airs_ctx* ctx);
  /* Optional (version 2). Handles the messages of a turn in one call, for
   * actors whose per-call cost is high (a language binding): items[0..
   * count) are what receive would have got, one call each, in the same
   * order (high priority first, FIFO per sender), 1 <= count <=
   * AIRS_BATCH_MAX and never more than the turn's budget has left. When
   * set, receive is never called. Same thread and ctx rules as receive;
   * the messages are borrowed until it returns. A process with a bounded
   * mailbox gets batches of one message, so that what it has not handled
   * still counts against its capacity. The messages of a batch are
   * taken out of the mailbox when it is gathered: while it is handled,
   * they count as handled, not in the depth (airs_process_stat_get).
   *
   * A batch holds only messages: the system signals that are not
   * messages (a link, an untrapped exit, a kill, a monitor being set up)
   * end the batch before them, and are acted on once the callback has
   * returned, exactly where the one-message path would act on them; a
   * trapped exit or a down (AIRS_MSG_EXIT, AIRS_MSG_DOWN) is a message
   * and may sit in a batch. So a callback that sets trap_exit on item i
   * sees the exit signals sent after it as messages, as with receive.
   *
   * *handled is count on entry. A callback that ends its process after
   * item i (airs_exit, airs_kill of itself, or a non-OK return) sets
   * *handled to i + 1: the items after i are then not handled; they stay
   * queued, as it were, and are answered as the mail left in the mailbox
   * of an ended process, exactly as on the one-message path (messages go
   * to the dead-letter hook as AIRS_DEAD_LETTER_EXITED, after terminate).
   * A value above count counts as count; left at count, every item was
   * handled. Returning AIRS_OK without ending and with *handled < count
   * is a misuse: the process ends with an AIRS_EXIT_ERROR of code
   * AIRS_EINVAL, the items after *handled unhandled. A non-OK return ends
   * the process as for receive. A kill from elsewhere takes effect
   * between batches, never inside one: one that arrives while a batch is
   * gathered drops what was gathered (dead letters; receive would not
   * have seen those either), one that arrives during the call ends the
   * process once it returns. */
  airs_status (*receive_batch)(void* state, airs_ctx* ctx,
                               const airs_batch_item* items, uint32_t count,
                               uint32_t* handled);
} airs_behaviour;

/* The size of a version 1 airs_behaviour (up to and with `health`). */
#define AIRS_BEHAVIOUR_SIZE_V1 offsetof(airs_behaviour, receive_batch)

/* Spawn flags. */
#define AIRS_SPAWN_LINK 0x1u      /* link to the caller (airs_ctx_spawn) */
#define AIRS_SPAWN_TRAP_EXIT 0x2u /* start trapping exits */
/* Run the process's callbacks (receive, terminate, health) on the blocking
 * pool's threads (io.h), never on a worker, for an actor that must block
 * (a read from a device, a library that waits): it stalls no worker and
 * no other process. Each turn is a SLOW job, so at most
 * AIRS_CFG_POOL_SLOW_MAX such turns run at once and FAST jobs are never
 * kept waiting; a turn that blocks for ever holds a pool thread for ever.
 * init still runs in the spawn call. Its sends are not batched per turn
 * (a pool thread has no outbox), which costs a little per message. Not
 * with AIRS_CFG_SEED (EINVAL: turns on other threads would break the
 * determinism). Erlang runs such code on dirty I/O schedulers. */
#define AIRS_SPAWN_BLOCKING 0x4u

typedef enum airs_mailbox_policy {
  AIRS_MAILBOX_FAIL = 0,        /* a send to a full mailbox: AIRS_EFULL */
  AIRS_MAILBOX_DROP_NEWEST = 1, /* drop the new message: dead-letter hook,
                                   the send still returns AIRS_OK */
  AIRS_MAILBOX_BLOCK = 2        /* wait up to the block timeout for room,
                                   then AIRS_ETIMEDOUT; inside a callback it
                                   never waits and acts like FAIL */
} airs_mailbox_policy;

#define AIRS_SPAWN_OPTS_VERSION 1

/* Options of one spawn. Fill with airs_spawn_opts_init, then change. */
typedef struct airs_spawn_opts {
  uint32_t version;          /* AIRS_SPAWN_OPTS_VERSION */
  uint32_t size;             /* sizeof(airs_spawn_opts) */
  uint32_t flags;            /* AIRS_SPAWN_* */
  uint32_t mailbox_capacity; /* 0 = unbounded */
  int32_t mailbox_policy;    /* an airs_mailbox_policy */
  uint32_t block_timeout_ms; /* for AIRS_MAILBOX_BLOCK; 1..3600000 */
} airs_spawn_opts;

/* Fills *opts with the runtime's defaults (flags 0, the configured mailbox
 * capacity, policy and block timeout). EINVAL: NULL argument. [any thread] */
AIRS_API airs_status airs_spawn_opts_init(airs_runtime* rt,
                                          airs_spawn_opts* opts);

/* Starts a process: copies *behaviour, calls init(user_data) on this
 * thread, and writes the new pid to *out. `user_data_free` (may be NULL)
 * runs exactly once when the process is gone (after its terminate, and
 * before its links and monitors hear of its end or airs_wait returns:
 * whoever sees it gone finds user_data released), or at once if the spawn
 * fails, so user_data is always released. opts may be NULL (defaults).
 * EINVAL: NULL rt/behaviour/receive/out, bad version or size, bad options,
 * AIRS_SPAWN_LINK without a calling process. ELIMIT: max processes alive.
 * ESTATE: the runtime is shutting down. Any status from init.
 * [any thread] */
AIRS_API airs_status airs_spawn(airs_runtime* rt,
                                const airs_behaviour* behaviour,
                                void* user_data,
                                void (*user_data_free)(void* user_data),
                                const airs_spawn_opts* opts, airs_pid* out);

/* airs_spawn from inside a callback; AIRS_SPAWN_LINK links the new process
 * to the caller before it can run (init included, as in Erlang). If init
 * fails, the spawn's status is the report and the caller gets no exit
 * signal for it (as OTP's proc_lib start_link, which returns the error).
 * ESTATE with AIRS_SPAWN_LINK: the caller is ending (inside terminate, or
 * a hook its end runs). [inside a callback] */
AIRS_API airs_status airs_ctx_spawn(airs_ctx* ctx,
                                    const airs_behaviour* behaviour,
                                    void* user_data,
                                    void (*user_data_free)(void* user_data),
                                    const airs_spawn_opts* opts, airs_pid* out);

/* The pid of the process this callback runs for. [inside a callback] */
AIRS_API airs_pid airs_self(const airs_ctx* ctx);

/* The runtime of a callback's process (NULL for a NULL or stale ctx). */
AIRS_API airs_runtime* airs_ctx_runtime(const airs_ctx* ctx);

/* Ends the calling process with this reason once the current callback
 * returns (the callback's own status is then ignored). Inside init, it
 * fails the spawn with AIRS_ESTATE. EINVAL: bad kind; ESTATE: bad ctx.
 * [inside a callback] */
AIRS_API airs_status airs_exit(airs_ctx* ctx, airs_exit_kind kind, int32_t code,
                               const char* text);

/* Sends process `pid` an exit signal with this reason, as Erlang's exit/2:
 * a process that traps exits gets an AIRS_MSG_EXIT message; otherwise a
 * `normal` signal is ignored and any other reason ends it with that reason.
 * AIRS_EXIT_KILLED cannot be trapped. The signal is ordered after the
 * messages the caller sent before it, and bypasses mailbox capacity.
 * ENOPROC: no such process. EINVAL: bad kind. [any thread] */
AIRS_API airs_status airs_send_exit(airs_runtime* rt, airs_pid pid,
                                    airs_exit_kind kind, int32_t code,
                                    const char* text);

/* airs_send_exit with AIRS_EXIT_SHUTDOWN: a polite, trappable stop. */
AIRS_API airs_status airs_stop(airs_runtime* rt, airs_pid pid);

/* Ends `pid` with reason killed; cannot be trapped, and jumps ahead of the
 * messages waiting in its mailbox. [any thread] */
AIRS_API airs_status airs_kill(airs_runtime* rt, airs_pid pid);

/* Waits until `pid` has ended (AIRS_OK at once if it is gone already),
 * for at most `timeout_ms` ms: AIRS_ETIMEDOUT then. Ended means done:
 * terminate has run, links and monitors are told, its name is gone, and
 * everything it sent (terminate's sends too) is in the receivers'
 * mailboxes. In host-driven mode the waiting thread polls the runtime
 * meanwhile.
 * ESTATE: inside a callback, or another thread polls.
 * [not inside a callback] */
AIRS_API airs_status airs_wait(airs_runtime* rt, airs_pid pid,
                               uint32_t timeout_ms);

/* true if `pid` names a live process of `rt`; false as soon as it starts
 * to end (as Erlang's is_process_alive), when what it sent in its turns
 * is in the receivers' mailboxes already (its terminate may still send:
 * airs_wait waits for that too). [any thread] */
AIRS_API bool airs_is_alive(airs_runtime* rt, airs_pid pid);

typedef enum airs_process_stat {
  AIRS_PSTAT_MAILBOX_DEPTH = 1,    /* messages waiting (incl. signals) */
  AIRS_PSTAT_MAILBOX_CAPACITY = 2, /* 0 = unbounded */
  AIRS_PSTAT_MSGS_ENQUEUED = 3,    /* accepted into the mailbox */
  AIRS_PSTAT_MSGS_HANDLED = 4,     /* taken out of the mailbox */
  AIRS_PSTAT_MSGS_DROPPED = 5      /* refused or dropped: mailbox full */
} airs_process_stat;

/* Reads one counter of a live process. ENOPROC: not alive. EINVAL: NULL
 * argument or unknown key. [any thread] */
AIRS_API airs_status airs_process_stat_get(airs_runtime* rt, airs_pid pid,
                                           airs_process_stat key,
                                           uint64_t* value);

/* ------------------------------------------------------------------------
 * Links and monitors.
 * ---------------------------------------------------------------------- */

/* Links the caller and `pid` both ways: when one ends, the other gets an
 * exit signal with its reason (see airs_send_exit for what the signal does:
 * a `normal` one only reaches a process that traps exits). Linking to a
 * process that is gone delivers an exit signal with reason AIRS_EXIT_NOPROC
 * to the caller. Linking twice is the same as once; linking to self does
 * nothing (both as in Erlang). Allowed in init: if init then fails, the
 * process it linked to gets the exit signal of that failure. ENOPROC: pid 0
 * or never existed. ESTATE: the caller is ending (inside terminate, or a
 * hook its end runs). A pid of another node (transport.h) links the same
 * way; if that node cannot be reached, or is declared down later, the
 * caller gets an exit signal with reason AIRS_EXIT_NOCONNECTION from
 * `pid`, as in Erlang. [inside a callback] */
AIRS_API airs_status airs_link(airs_ctx* ctx, airs_pid pid);

/* Removes the link (if any). No exit signal caused by the link arrives
 * after this returns. [inside a callback] */
AIRS_API airs_status airs_unlink(airs_ctx* ctx, airs_pid pid);

/* true: exit signals (except kill) become AIRS_MSG_EXIT messages.
 * [inside a callback] */
AIRS_API airs_status airs_trap_exit(airs_ctx* ctx, bool on);

/* Watches `pid`: when it ends, the caller gets one AIRS_MSG_DOWN message
 * whose sender is `pid`, whose correlation id is *ref and whose reason is
 * the exit reason (AIRS_EXIT_NOPROC if it was already gone; then the
 * message is sent at once). Allowed in init. A monitor of self is made
 * (and may be demonitored) but its DOWN never comes, as in Erlang.
 * EINVAL: NULL ref. ENOPROC: pid 0 or never existed. ESTATE: the caller
 * is ending (inside terminate, or a hook its end runs). A pid of another
 * node (transport.h) is watched the same way, and its DOWN comes exactly
 * once: with the reason it ended with, AIRS_EXIT_NOPROC if it (or its
 * node's incarnation) was gone, or AIRS_EXIT_NOCONNECTION if its node
 * cannot be reached or is declared down. ENOMEM. [inside a callback] */
AIRS_API airs_status airs_monitor(airs_ctx* ctx, airs_pid pid, uint64_t* ref);

/* Stops the monitor `ref`; its down message will not be delivered after
 * this returns. A ref that is not an active monitor (its DOWN came
 * already, or it never was one) is AIRS_OK, as Erlang's demonitor.
 * [inside a callback] */
AIRS_API airs_status airs_demonitor(airs_ctx* ctx, uint64_t ref);

/* ------------------------------------------------------------------------
 * Messages.
 * ---------------------------------------------------------------------- */

/* Type tags at or above this value are the runtime's own. */
#define AIRS_MSG_SYSTEM_BASE 0xFFFFFFFF00000000ull
/* Tags from here up to AIRS_MSG_SYSTEM_BASE belong to language bindings
 * (the Python binding tags the objects it passes by reference with them).
 * The runtime treats them as user messages. */
#define AIRS_MSG_BINDING_BASE 0xF000000000000000ull
/* Tags from here up to AIRS_MSG_BINDING_BASE belong to the system actors
 * (osl.h): their requests and replies. They are user messages too (anyone
 * may make and send them); applications use the tags below this one. */
#define AIRS_MSG_OSL_BASE 0xE000000000000000ull
/* An exit signal turned into a message (trap_exit): sender = the process
 * that sent or caused it, reason = airs_msg_reason(). */
#define AIRS_MSG_EXIT (AIRS_MSG_SYSTEM_BASE + 1)
/* A monitor fired: sender = the watched pid, correlation = the ref. */
#define AIRS_MSG_DOWN (AIRS_MSG_SYSTEM_BASE + 2)

/* Largest payload a message may carry, in bytes. */
#define AIRS_MSG_MAX_SIZE ((size_t)0xFFFFFFFFu)

typedef enum airs_priority {
  AIRS_PRIORITY_NORMAL = 0,
  AIRS_PRIORITY_HIGH = 1 /* handled before any waiting normal message */
} airs_priority;

/* Makes a message with a copy of `size` bytes of `data` (data may be NULL
 * when size is 0). The caller owns *out until a send consumes it.
 * EINVAL: NULL out, NULL data with size > 0, size > AIRS_MSG_MAX_SIZE,
 * a type in the system range. ENOMEM. [any thread] */
AIRS_API airs_status airs_msg_new(uint64_t type, const void* data, size_t size,
                                  airs_msg** out);

/* Makes a message that takes ownership of `ptr` (zero copy): free_fn(ptr)
 * runs exactly once when the message is freed, unless this call fails (the
 * caller then still owns ptr). free_fn may be NULL (ptr not owned).
 * EINVAL as airs_msg_new; NULL ptr with size > 0. [any thread] */
AIRS_API airs_status airs_msg_new_owned(uint64_t type, void* ptr, size_t size,
                                        void (*free_fn)(void* ptr),
                                        airs_msg** out);

/* Makes a message carrying a new reference to a shared payload (the
 * caller keeps its own). EINVAL: NULL payload or out, system type.
 * [any thread] */
AIRS_API airs_status airs_msg_new_shared(uint64_t type, airs_payload* payload,
                                         airs_msg** out);

/* Sets the priority / correlation id of a message the caller owns.
 * EINVAL: NULL msg, bad priority. [any thread] */
AIRS_API airs_status airs_msg_set_priority(airs_msg* msg,
                                           airs_priority priority);
AIRS_API airs_status airs_msg_set_correlation(airs_msg* msg,
                                              uint64_t correlation);

/* Frees a message the caller owns (never one handed to receive).
 * NULL is fine. [any thread] */
AIRS_API void airs_msg_free(airs_msg* msg);

/* Accessors; all [any thread] on a message the caller may read. A NULL
 * message reads as type 0, no data, size 0, sender 0. */
AIRS_API uint64_t airs_msg_type(const airs_msg* msg);
AIRS_API airs_pid airs_msg_sender(const airs_msg* msg);
AIRS_API uint64_t airs_msg_correlation(const airs_msg* msg);
AIRS_API airs_priority airs_msg_priority(const airs_msg* msg);
AIRS_API const void* airs_msg_data(const airs_msg* msg);
AIRS_API size_t airs_msg_size(const airs_msg* msg);
/* The type, size and data of a message in one call, for dispatchers that
 * read all three for every message (a typed layer, a binding): returns
 * what airs_msg_data returns, and writes airs_msg_type to *type and
 * airs_msg_size to *size (either may be NULL). [any thread] */
AIRS_API const void* airs_msg_read(const airs_msg* msg, uint64_t* type,
                                   size_t* size);
/* The exit reason of AIRS_MSG_EXIT / AIRS_MSG_DOWN messages, else NULL. */
AIRS_API const airs_reason* airs_msg_reason(const airs_msg* msg);
/* The shared payload of a message made by airs_msg_new_shared, else NULL.
 * Borrowed: airs_payload_retain it to keep it past the message. */
AIRS_API airs_payload* airs_msg_payload(const airs_msg* msg);

/* Shared payloads: one immutable buffer, many messages, refcounted.
 * airs_payload_new copies `size` bytes; airs_payload_wrap takes ownership
 * of ptr (free_fn(ptr) when the last reference goes; not on failure).
 * The caller owns one reference to *out. EINVAL, ENOMEM. [any thread]
 * A worker thread gives the references of the messages it handled back in
 * bulk, one count per payload (a publish's subscribers would otherwise
 * take the count's cache line from each other once per message): the
 * last reference of a published payload may go, and free_fn run on that
 * worker, up to 64 turns after the last subscriber's message was handled,
 * and at the latest when the worker runs out of work or the runtime is
 * freed. */
AIRS_API airs_status airs_payload_new(const void* data, size_t size,
                                      airs_payload** out);
AIRS_API airs_status airs_payload_wrap(void* ptr, size_t size,
                                       void (*free_fn)(void* ptr),
                                       airs_payload** out);
AIRS_API void airs_payload_retain(airs_payload* payload);
AIRS_API void airs_payload_release(airs_payload* payload);
AIRS_API const void* airs_payload_data(const airs_payload* payload);
AIRS_API size_t airs_payload_size(const airs_payload* payload);

/* ------------------------------------------------------------------------
 * Sending. FIFO per sender->receiver pair and priority. The sender pid of
 * the message is the calling process inside a callback, else 0.
 * ---------------------------------------------------------------------- */

/* Sends `msg` to `to`. Consumes msg only on AIRS_OK (and with policy
 * DROP_NEWEST, where a dropped message goes to the dead-letter hook).
 * ENOPROC: `to` is not alive (the dead-letter hook sees msg first, as
 * AIRS_DEAD_LETTER_NOPROC). EFULL / ETIMEDOUT: see airs_mailbox_policy.
 * EINVAL: NULL argument. ESTATE: runtime freed. [any thread] */
AIRS_API airs_status airs_send_msg(airs_runtime* rt, airs_pid to,
                                   airs_msg* msg);

/* Copies `size` bytes of `data` into a new message and sends it; the
 * errors of airs_msg_new and airs_send_msg. [any thread] */
AIRS_API airs_status airs_send(airs_runtime* rt, airs_pid to, uint64_t type,
                               const void* data, size_t size);

/* The fast path of the two above from inside a callback: the target is
 * scheduled on the caller's worker. A callback's later sends to a
 * receiver it has already sent to are queued behind the earlier ones,
 * mostly without a new look at the receiver: if the receiver has ended
 * since, such a send may return AIRS_OK and its message reach the
 * dead-letter hook as AIRS_DEAD_LETTER_EXITED (mail that raced with the
 * end) instead of AIRS_ENOPROC. Erlang's send never reports a dead
 * receiver; here the first send of each callback to each receiver always
 * does. Why: that look reads the record's line that every sender to it
 * writes, and without it a callback sending 100,000 messages to one busy
 * receiver ran 8% faster. [inside a callback] */
AIRS_API airs_status airs_ctx_send_msg(airs_ctx* ctx, airs_pid to,
                                       airs_msg* msg);
AIRS_API airs_status airs_ctx_send(airs_ctx* ctx, airs_pid to, uint64_t type,
                                   const void* data, size_t size);

/* What an item of airs_ctx_send_many does. */
typedef enum airs_send_kind {
  AIRS_SEND_KIND_SEND = 0, /* a message to `to`, as airs_ctx_send */
  AIRS_SEND_KIND_REPLY = 1 /* a reply to request `correlation`, as
                              airs_reply_to (`to` is not read) */
} airs_send_kind;

/* One outgoing message of airs_ctx_send_many. Six 64-bit words. Fixed,
 * never grows: callers pass arrays of it; more per message would come with
 * a new item type and function. */
typedef struct airs_send_item {
  airs_pid to;          /* SEND: the receiver */
  uint64_t type;        /* the type tag (a user type, as airs_msg_new) */
  const void* data;     /* `size` bytes, copied (NULL when size is 0) */
  uint64_t size;        /* at most AIRS_MSG_MAX_SIZE */
  uint64_t correlation; /* REPLY: the request's correlation id; SEND: the
                           message's correlation id (0: none) */
  uint32_t kind;        /* an airs_send_kind */
  uint32_t priority;    /* an airs_priority */
} airs_send_item;

/* Most items of one airs_ctx_send_many call. */
#define AIRS_SEND_MANY_MAX 4096

/* Sends `count` messages from the calling process in one call, in array
 * order, each exactly as its own airs_ctx_send (or airs_reply_to) would:
 * the same order per receiver, the same errors, the same dead-letter hook
 * calls. For bindings whose per-call cost is high: one crossing per turn
 * instead of one per message. An item that fails does not stop the
 * others. statuses (may be NULL) gets one status per item: AIRS_OK, or
 * the status that item's own call would have returned (ENOPROC: its
 * receiver is not alive; EFULL; EINVAL: bad type, size, kind or
 * priority, correlation 0 for a REPLY). Returns AIRS_OK when every item
 * was sent, else the status of the first that failed (the last error
 * message names its index). A call that fails as a whole sends nothing
 * and gives every item its status (all of them but with count >
 * AIRS_SEND_MANY_MAX, where statuses is not written): EINVAL (NULL ctx,
 * NULL items with count > 0, count > AIRS_SEND_MANY_MAX), ESTATE (ctx
 * used outside its callback). A
 * REPLY is AIRS_OK even when nobody waits for it any more (it goes to the
 * dead-letter hook as a late reply, as with airs_reply_to). The caller
 * keeps its buffers: every payload is copied. [inside a callback] */
AIRS_API airs_status airs_ctx_send_many(airs_ctx* ctx,
                                        const airs_send_item* items,
                                        size_t count, airs_status* statuses);

typedef enum airs_dead_letter_reason {
  AIRS_DEAD_LETTER_MAILBOX_FULL = 1,   /* dropped by policy DROP_NEWEST */
  AIRS_DEAD_LETTER_EXITED = 2,         /* was still queued when its receiver
                                          ended, or raced with its end */
  AIRS_DEAD_LETTER_TIMER = 3,          /* a timer fired for a process gone */
  AIRS_DEAD_LETTER_NO_SUBSCRIBERS = 4, /* published to a topic nobody
                                          subscribes to */
  AIRS_DEAD_LETTER_NOPROC = 5,         /* sent to a pid that is not alive: the
                                          send returns AIRS_ENOPROC and the
                                          caller keeps the message; the hook
                                          sees it first */
  AIRS_DEAD_LETTER_LATE_REPLY = 6,     /* a reply after its request timed out
                                          (or its requester ended) */
  AIRS_DEAD_LETTER_NOCONNECTION = 7    /* for a pid on another node that is
                                          not reachable (transport.h) */
} airs_dead_letter_reason;

/* Called for each message the runtime could not deliver, on the thread
 * that found out, with the message borrowed for the call: a dropped one is
 * freed after it; with AIRS_DEAD_LETTER_NOPROC, the send returns
 * AIRS_ENOPROC after it and its caller still owns the message. Each one
 * counts in airs_runtime_stats.dead_letters, hook or not. Must not block;
 * may call [any thread] functions (not airs_runtime_free). */
typedef void (*airs_dead_letter_fn)(void* user_data, airs_pid to,
                                    const airs_msg* msg,
                                    airs_dead_letter_reason reason);

/* Installs (fn != NULL) or removes the dead-letter hook. user_data is not
 * owned. A hook being replaced may still run on another thread shortly
 * after this returns. [any thread] */
AIRS_API airs_status airs_set_dead_letter_hook(airs_runtime* rt,
                                               airs_dead_letter_fn fn,
                                               void* user_data);

/* ------------------------------------------------------------------------
 * Timers.
 * ---------------------------------------------------------------------- */

/* Sends `msg` to `to` after `delay_ms` (0..2^40). Consumes msg on AIRS_OK
 * and writes a timer id (never 0) to *timer_id (may be NULL). If `to` is
 * gone when the timer fires, the message goes to the dead-letter hook.
 * `to` may be a pid of another node (transport.h): the message goes
 * through the transport when the timer fires (a TIMER dead letter if the
 * transport refuses it then). EINVAL: NULL rt or msg, delay too large.
 * ENOPROC: `to` is not alive now (another node's pid: no transport).
 * ESTATE: shutting down. [any thread] */
AIRS_API airs_status airs_send_after(airs_runtime* rt, airs_pid to,
                                     uint64_t delay_ms, airs_msg* msg,
                                     uint64_t* timer_id);

/* Cancels a pending timer and frees its message. ENOTFOUND: no such timer,
 * or it has fired or been cancelled already. [any thread] */
AIRS_API airs_status airs_cancel_timer(airs_runtime* rt, uint64_t timer_id);

/* ------------------------------------------------------------------------
 * Monitoring: the event hook.
 * ---------------------------------------------------------------------- */

typedef enum airs_severity {
  AIRS_SEVERITY_DEBUG = 0,
  AIRS_SEVERITY_INFO = 1,
  AIRS_SEVERITY_WARNING = 2,
  AIRS_SEVERITY_ERROR = 3
} airs_severity;

/* What an event reports. Explicit values, only ever appended. In each:
 * source = the deciding process (a supervisor), pid = the child. */
typedef enum airs_event_kind {
  AIRS_EVENT_CHILD_STARTED = 1,       /* a start succeeded (also restarts) */
  AIRS_EVENT_CHILD_START_FAILED = 2,  /* value = the status of the start */
  AIRS_EVENT_CHILD_EXITED = 3,        /* reason = its exit reason */
  AIRS_EVENT_CHILD_RESTARTED = 4,     /* pid = new pid, other = old pid */
  AIRS_EVENT_STRATEGY_APPLIED = 5,    /* pid ended; value = airs_strategy */
  AIRS_EVENT_INTENSITY_REACHED = 6,   /* value = restarts within period */
  AIRS_EVENT_SUPERVISOR_SHUTDOWN = 7, /* source stops its children and
                                         exits; reason = why */
  AIRS_EVENT_CHILD_STOPPING = 8,      /* the supervisor asks pid to stop;
                                         value = airs_shutdown */
  AIRS_EVENT_CHILD_KILLED = 9,        /* shutdown timeout passed: killed */
  AIRS_EVENT_BACKOFF = 10,            /* value = delay before the restart */
  AIRS_EVENT_HEALTH_DEGRADED = 11,    /* a health check said DEGRADED */
  AIRS_EVENT_HEALTH_FAILED = 12,      /* value = failures in a row */
  AIRS_EVENT_PROCESS_SPAWNED = 13,    /* pid started; source = the spawning
                                         process (0 if none) */
  AIRS_EVENT_PROCESS_EXITED = 14,     /* pid ended; reason = why (WARNING
                                         unless normal or shutdown) */
  AIRS_EVENT_SUBSCRIBED = 15,         /* pid subscribed; text names the topic */
  AIRS_EVENT_UNSUBSCRIBED = 16,       /* pid left the topic (value 1: because
                                         it ended) */
  AIRS_EVENT_REQUEST_TIMED_OUT = 17   /* source = the requester, pid = the
                                         callee, value = the correlation id */
} airs_event_kind;

#define AIRS_EVENT_VERSION 1

/* One event, borrowed: valid only during the hook call. */
typedef struct airs_event {
  uint32_t version;          /* AIRS_EVENT_VERSION */
  uint32_t size;             /* sizeof(airs_event) */
  int32_t kind;              /* an airs_event_kind */
  int32_t severity;          /* an airs_severity */
  airs_pid source;           /* the process that decided (0 if none) */
  airs_pid pid;              /* the process concerned (0 if none) */
  airs_pid other;            /* a second pid, by kind (0 if none) */
  int64_t value;             /* a number, by kind (0 if none) */
  const char* id;            /* the child id ("" if none) */
  const airs_reason* reason; /* an exit reason, or NULL */
  const char* text;          /* one line for a log */
} airs_event;

/* Called for each event, on the thread that decides (usually a worker
 * running the supervisor), in order for one source, before the decision's
 * work is over (a supervisor hands out its events at the end of each
 * turn or operation, with no lock held). Must not block. Calls on the
 * source supervisor get ESTATE; other [any thread] functions are fine
 * (not airs_runtime_free). */
typedef void (*airs_event_fn)(void* user_data, const airs_event* event);

#define AIRS_RUNTIME_STATS_VERSION 1

/* Counters of a whole runtime, read with airs_runtime_stats_get. Each is
 * exact once the runtime is idle; while it runs, a snapshot (the counters
 * are read one by one, without stopping anything). */
typedef struct airs_runtime_stats {
  uint32_t version;            /* AIRS_RUNTIME_STATS_VERSION */
  uint32_t size;               /* sizeof(airs_runtime_stats) */
  uint64_t processes_alive;    /* spawned and not yet ended */
  uint64_t processes_spawned;  /* successful spawns since the start */
  uint64_t processes_exited;   /* processes that have ended */
  uint64_t messages_sent;      /* user messages accepted into a mailbox */
  uint64_t messages_delivered; /* user messages handed to receive */
  uint64_t messages_dropped;   /* refused or dropped: mailbox full */
  uint64_t dead_letters;       /* messages given to the dead-letter path */
  uint64_t restarts;           /* children restarted by supervisors: each
                                  child of a group restart counts (the
                                  intensity counts the group once) */
} airs_runtime_stats;

/* Fills *out (the caller sets version and size first, as with every
 * versioned struct; fields past `size` are not written). A process's
 * mailbox depth: airs_process_stat_get(AIRS_PSTAT_MAILBOX_DEPTH).
 * EINVAL: NULL argument, version 0 or size too small for version 1.
 * [any thread] */
AIRS_API airs_status airs_runtime_stats_get(airs_runtime* rt,
                                            airs_runtime_stats* out);

/* Installs (fn != NULL) or removes the event hook. user_data is not owned.
 * With no hook installed, no event is built: it costs nothing. A hook
 * being replaced may still run on another thread shortly after this
 * returns. EINVAL: NULL rt. [any thread] */
AIRS_API airs_status airs_set_event_hook(airs_runtime* rt, airs_event_fn fn,
                                         void* user_data);

/* ------------------------------------------------------------------------
 * Registry: unique names for processes.
 * ---------------------------------------------------------------------- */

/* Longest name, in bytes. */
#define AIRS_NAME_MAX 255

/* Gives `pid` the name `name` (copied, 1..AIRS_NAME_MAX bytes). The name is
 * released when the process ends. A process has at most one name.
 * EEXIST: the name is taken, or the process already has a name.
 * ENOPROC: not alive. EINVAL: NULL/empty/too long name. [any thread] */
AIRS_API airs_status airs_register(airs_runtime* rt, const char* name,
                                   airs_pid pid);

/* Releases a name. ENOTFOUND: not registered. [any thread] */
AIRS_API airs_status airs_unregister(airs_runtime* rt, const char* name);

/* Looks a name up. ENOTFOUND: not registered. [any thread] */
AIRS_API airs_status airs_whereis(airs_runtime* rt, const char* name,
                                  airs_pid* out);

/* ------------------------------------------------------------------------
 * Pools: named groups of pids to spread work over. A pool exists while it
 * has members; a member that ends is removed automatically. With a
 * transport that carries pools (transport.h; libairs_node does), a pool
 * spans runtimes as Erlang's pg groups span nodes: pick and members see
 * the members every runtime has, and a process joins and leaves on its
 * own runtime only.
 * ---------------------------------------------------------------------- */

typedef enum airs_pick {
  AIRS_PICK_ROUND_ROBIN = 0, /* the members in turn */
  AIRS_PICK_RANDOM = 1       /* a uniformly random member */
} airs_pick;

/* Adds `pid` to pool `pool` (name copied, 1..AIRS_NAME_MAX bytes); joining
 * twice is the same as once. A process may be in many pools.
 * ENOPROC: not alive. EINVAL: NULL/empty/too long name, a pid of another
 * runtime (it joins on its own). ENOMEM (also: the transport could not
 * take the news). [any thread] */
AIRS_API airs_status airs_pool_join(airs_runtime* rt, const char* pool,
                                    airs_pid pid);

/* Removes `pid` from the pool. ENOTFOUND: it is not a member. EINVAL:
 * NULL/empty/too long name, a pid of another runtime (it leaves on its
 * own). [any thread] */
AIRS_API airs_status airs_pool_leave(airs_runtime* rt, const char* pool,
                                     airs_pid pid);

/* One live member, picked as `how` says. ENOTFOUND: the pool is empty or
 * does not exist. EINVAL: unknown pick, NULL argument. [any thread] */
AIRS_API airs_status airs_pool_pick(airs_runtime* rt, const char* pool,
                                    airs_pick how, airs_pid* out);

/* Writes up to `capacity` members (in join order; another runtime's in
 * the order their news came) to out and their number
 * to *count; a pool that does not exist has 0. EINVAL: NULL count, NULL
 * out with capacity > 0. [any thread] */
AIRS_API airs_status airs_pool_members(airs_runtime* rt, const char* pool,
                                       airs_pid* out, size_t capacity,
                                       size_t* count);

#ifdef __cplusplus
}
#endif

#include "airs/broker.h"     /* topics, request/reply */
#include "airs/io.h"         /* the blocking pool, the host's wake-up fd */
#include "airs/net.h"        /* sockets owned by processes */
#include "airs/observe.h"    /* introspection, crash reports, metrics */
#include "airs/osl.h"        /* the system actors */
#include "airs/supervisor.h" /* supervision trees */

#endif /* AIRS_AIRS_H */
