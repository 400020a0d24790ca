/*
 * supervisor.h - supervision trees with the semantics of OTP's supervisor.
 * Included by <airs/airs.h>; read its conventions (status, ownership,
 * thread tags) first.
 *
 * A supervisor is a process. It starts its children in order, links to
 * them, traps their exits, and restarts them by its strategy and their
 * restart policy. Too many restarts in too short a time make it stop all
 * its children (in reverse start order) and exit with reason shutdown,
 * which its own supervisor (if any) then handles by its own policy. A
 * supervisor that is sent an exit signal other than `normal` by anyone but
 * its children (airs_stop, airs_runtime_free) stops its children in
 * reverse start order and exits with that reason. So does an exit signal
 * from its parent, through a link, with any reason (`normal` included:
 * OTP's parent rule). The parent is the supervisor above it, or the
 * process that called airs_supervisor_start from its callback (once that
 * process links to it); other linked processes are ignored, as in OTP.
 *
 * A child is stopped as OTP stops one: with its shutdown's exit signal
 * (or a kill), waiting for its end through its link and through a monitor
 * made for the stop, so a child that unlinked from its supervisor still
 * stops.
 *
 * Build a supervisor from a spec: airs_sup_spec_new with flags, then one
 * airs_sup_spec_add_child per child, then airs_supervisor_start. A spec is
 * also how a supervisor becomes the child of another (child.supervisor).
 *
 * Every decision is reported to the event hook (airs_set_event_hook).
 */
#ifndef AIRS_SUPERVISOR_H
#define AIRS_SUPERVISOR_H

#include "airs/airs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Flags of a supervisor.
 * ---------------------------------------------------------------------- */

typedef enum airs_strategy {
  /* Only the child that ended is restarted. */
  AIRS_ONE_FOR_ONE = 0,
  /* Every other child is stopped (reverse start order), then all are
   * started again in order. */
  AIRS_ONE_FOR_ALL = 1,
  /* The children started after the one that ended are stopped (reverse
   * order), then it and they are started again in order. In both group
   * strategies, as in OTP, every child of the group starts again, also
   * one stopped by terminate_child; a temporary one is stopped and
   * dropped. When a start fails, it and the rest of the group wait for a
   * retry (a message the supervisor sends itself, counted toward the
   * intensity) that restarts the failed child's group again: under
   * one_for_all the children that did start are stopped and started
   * again. terminate_child of the failed child calls the retry off, and
   * the rest of its group stays stopped. */
  AIRS_REST_FOR_ONE = 2,
  /* A dynamic pool of children made from one spec, the template: none
   * start with the supervisor; airs_supervisor_start_dynamic_child starts
   * one with an argument. Restarts as one_for_one; at shutdown every child
   * is stopped at once, in parallel. */
  AIRS_SIMPLE_ONE_FOR_ONE = 3
} airs_strategy;

typedef enum airs_auto_shutdown {
  AIRS_AUTO_SHUTDOWN_NEVER = 0, /* default */
  /* The supervisor shuts down when any significant child ends by itself
   * and is not restarted. */
  AIRS_AUTO_SHUTDOWN_ANY_SIGNIFICANT = 1,
  /* ... when every significant child has ended that way. */
  AIRS_AUTO_SHUTDOWN_ALL_SIGNIFICANT = 2
} airs_auto_shutdown;

#define AIRS_SUP_FLAGS_VERSION 1

/* Fill with airs_sup_flags_init, then change what you need. */
typedef struct airs_sup_flags {
  uint32_t version; /* AIRS_SUP_FLAGS_VERSION */
  uint32_t size;    /* sizeof(airs_sup_flags) */
  int32_t strategy; /* an airs_strategy (ONE_FOR_ONE) */
  /* More than `intensity` restarts within `period_ms` ms: the supervisor
   * gives up (stops its children and exits with shutdown). A restart of a
   * group (one_for_all, rest_for_one) counts once. Default 1 in 5000 ms,
   * as OTP. intensity 0: the first restart already gives up. */
  uint32_t intensity; /* 0..1000000000 */
  uint32_t period_ms; /* 1..(2^31-1) */
  /* Optional exponential backoff: the k-th restart within the period
   * waits min(backoff_max_ms, backoff_base_ms * 2^(k-1)) ms before the
   * children start again (the supervisor handles nothing else meanwhile,
   * as during a stop). 0 = restart at once (default). */
  uint32_t backoff_base_ms;
  uint32_t backoff_max_ms; /* >= backoff_base_ms when base > 0 */
  int32_t auto_shutdown;   /* an airs_auto_shutdown (NEVER) */
  /* Health checks: every interval, each running child whose behaviour has
   * a health callback is asked for its health; `health_threshold` answers
   * in a row of AIRS_HEALTH_FAILED, or no answer within
   * `health_timeout_ms`, make the supervisor stop the child (by its
   * shutdown) and handle it as an exit with an error reason: restart by
   * the strategy, counted toward the intensity. DEGRADED is reported as an
   * event only. interval 0 = no health checks (default). */
  uint32_t health_interval_ms;
  uint32_t health_timeout_ms; /* 1.. when the interval is set (1000) */
  uint32_t health_threshold;  /* 1.. (3) */
} airs_sup_flags;

/* Fills *flags with the defaults above. EINVAL: NULL. [any thread] */
AIRS_API airs_status airs_sup_flags_init(airs_sup_flags* flags);

/* ------------------------------------------------------------------------
 * Child specs.
 * ---------------------------------------------------------------------- */

typedef enum airs_restart {
  AIRS_RESTART_PERMANENT = 0, /* always restarted */
  AIRS_RESTART_TRANSIENT = 1, /* restarted unless it ended normal/shutdown */
  AIRS_RESTART_TEMPORARY = 2  /* never restarted; its spec is dropped when
                                 it ends (or is stopped by a group restart) */
} airs_restart;

typedef enum airs_shutdown {
  AIRS_SHUTDOWN_BRUTAL_KILL = 0, /* airs_kill at once */
  AIRS_SHUTDOWN_TIMEOUT = 1,     /* exit signal shutdown, then airs_kill if
                                    the child has not ended after
                                    shutdown_ms */
  AIRS_SHUTDOWN_INFINITY = 2,    /* exit signal shutdown, wait for ever (use
                                    for child supervisors) */
  /* OTP's default, by the child's type: INFINITY for type SUPERVISOR
   * (whether it starts from .supervisor or from a behaviour), TIMEOUT
   * (after shutdown_ms) for a worker. */
  AIRS_SHUTDOWN_DEFAULT = 3
} airs_shutdown;

typedef enum airs_child_type {
  AIRS_CHILD_WORKER = 0,
  AIRS_CHILD_SUPERVISOR = 1
} airs_child_type;

/* Longest child id, in bytes. */
#define AIRS_CHILD_ID_MAX 63

/* A significant child (see airs_auto_shutdown); only transient or
 * temporary children may be significant. */
#define AIRS_CHILD_SIGNIFICANT 0x1u

typedef struct airs_sup_spec airs_sup_spec; /* flags + children, opaque */

#define AIRS_CHILD_SPEC_VERSION 1

/* One child. Fill with airs_child_spec_init, then change. Read when it is
 * passed to a call; the struct and its strings may be freed afterwards. */
typedef struct airs_child_spec {
  uint32_t version; /* AIRS_CHILD_SPEC_VERSION */
  uint32_t size;    /* sizeof(airs_child_spec) */
  /* Unique within the supervisor, 1..AIRS_CHILD_ID_MAX bytes (copied).
   * Ignored for the template of a simple_one_for_one supervisor. */
  const char* id;
  /* How to start it: a behaviour (copied), whose init gets user_data on
   * every start and makes a fresh state... */
  const airs_behaviour* behaviour;
  void* user_data;
  /* Runs once when the spec is gone: dropped, deleted, or its supervisor
   * ended. A call that takes a spec always takes user_data, even when it
   * fails (it is then freed at once). May be NULL. */
  void (*user_data_free)(void* user_data);
  /* ...or a supervisor (instead of a behaviour): each start is a new
   * supervisor made from this spec (the child keeps a reference). */
  const airs_sup_spec* supervisor;
  int32_t restart;      /* an airs_restart (PERMANENT) */
  int32_t shutdown;     /* an airs_shutdown (DEFAULT) */
  /* For AIRS_SHUTDOWN_TIMEOUT (and DEFAULT for a worker): 0..3600000
   * (5000); 0 kills at once if the exit signal did not end it already. */
  uint32_t shutdown_ms;
  int32_t type;         /* an airs_child_type (WORKER); must be SUPERVISOR
                           when .supervisor is set (EINVAL otherwise) */
  uint32_t flags;       /* AIRS_CHILD_SIGNIFICANT */
  /* Optional: each start is registered under this name before its init
   * runs, so a restarted child keeps its name (on its new pid). */
  const char* name;
  /* Optional mailbox options of each start (NULL: the runtime's
   * defaults); AIRS_SPAWN_LINK is not allowed (the supervisor links). */
  const airs_spawn_opts* opts;
} airs_child_spec;

/* Fills *spec with the defaults above (no id, no behaviour). EINVAL: NULL.
 * [any thread] */
AIRS_API airs_status airs_child_spec_init(airs_child_spec* spec);

/* ------------------------------------------------------------------------
 * Supervisor specs.
 * ---------------------------------------------------------------------- */

/* Makes an empty spec with a copy of *flags (NULL: the defaults). The
 * caller owns one reference and drops it with airs_sup_spec_free.
 * EINVAL: bad flags (unknown strategy or auto_shutdown, period 0, backoff
 * max below base, health timeout or threshold 0 with an interval).
 * ENOMEM. [any thread] */
AIRS_API airs_status airs_sup_spec_new(const airs_sup_flags* flags,
                                       airs_sup_spec** out);

/* Appends a child: children start in the order they are added. Takes
 * child->user_data in every case (see user_data_free).
 * EINVAL: NULL argument, bad version/size, an id that is empty or too
 * long, both or neither of behaviour and supervisor, a bad behaviour, an
 * unknown restart/shutdown/type/flag, a bad shutdown_ms, a name that is
 * empty or too long, opts with AIRS_SPAWN_LINK or bad values, significant
 * with permanent, significant when auto_shutdown is NEVER, a second child
 * for simple_one_for_one, a spec that would contain itself.
 * EEXIST: the id is taken. ESTATE: the spec is in use: it started a
 * supervisor or is the child of another spec (specs are frozen then).
 * [one thread per spec at a time] */
AIRS_API airs_status airs_sup_spec_add_child(airs_sup_spec* spec,
                                             const airs_child_spec* child);

/* Drops the caller's reference. Supervisors and child specs made from it
 * keep their own. NULL is fine. [any thread] */
AIRS_API void airs_sup_spec_free(airs_sup_spec* spec);

/* ------------------------------------------------------------------------
 * Starting a supervisor.
 * ---------------------------------------------------------------------- */

/* Starts a supervisor from `spec` (which is then frozen): spawns it, and
 * on this thread starts its children in order (each child's init runs
 * here), child supervisors with their own children likewise. Returns once
 * the whole tree has started, with the supervisor's pid in *out; no
 * process of the tree runs a message before that. If any start fails, the
 * children already started are stopped in reverse order (their terminate
 * runs with reason shutdown, or killed for brutal_kill) and the status of
 * the failed start is returned, with its message.
 * EINVAL: NULL argument, a simple_one_for_one spec without its template,
 * a spec without children is fine. ESTATE: the runtime is shutting down.
 * ELIMIT/ENOMEM, or the status of a failing child init. Called from a
 * callback, the caller becomes the supervisor's parent: airs_link to it
 * from there (OTP's start_link), and the caller's exit stops it.
 * [any thread] */
AIRS_API airs_status airs_supervisor_start(airs_runtime* rt,
                                           const airs_sup_spec* spec,
                                           airs_pid* out);

/* ------------------------------------------------------------------------
 * Operations on a running supervisor. All are [any thread]: callbacks
 * included, except callbacks the supervisor itself is running (a child's
 * init during a start, the event hook), which get ESTATE.
 *
 * Outside a callback, a call waits while the supervisor is in the middle
 * of a restart or stop, and terminate calls return once the child has
 * ended (in host-driven mode the waiting thread polls the runtime).
 * which_children and count_children outside a callback wait too, so they
 * never see a restart half done (except with AIRS_CFG_MANUAL_CLOCK, where
 * the stop may wait for a clock only the caller moves: they report the
 * state as it is). Inside a callback nothing waits: a
 * terminate returns once the stop has begun (the child is STOPPING until
 * it ends), or has been queued behind the restart or stop in progress;
 * which_children and count_children report the state as it is (children
 * may be RESTARTING or STOPPING); any other call made while the
 * supervisor is busy returns ESTATE.
 *
 * No supervisor holds a lock while it runs user code (a child's init or
 * terminate, user_data_free, the event hook), so callbacks may call any
 * supervisor. A callback that runs inside one supervisor's work (a
 * child's init, the event hook) never waits for another supervisor's
 * work: a change to one that is busy gets ESTATE; which_children and
 * count_children do not wait there. So supervisors that call each
 * other from their children's inits or their event hooks never deadlock.
 *
 * Common errors: EINVAL: NULL rt or argument, `sup` is not a supervisor.
 * ENOPROC: `sup` is not alive.
 * ---------------------------------------------------------------------- */

/* Adds a child at the end and starts it (OTP's start_child with a spec).
 * Takes child->user_data in every case. *out (may be NULL) gets its pid.
 * EEXIST: the id is taken. EINVAL: a bad spec (see add_child), or `sup`
 * is simple_one_for_one. Any status of the child's start (the spec is
 * then not kept). */
AIRS_API airs_status airs_supervisor_start_child(airs_runtime* rt, airs_pid sup,
                                                 const airs_child_spec* child,
                                                 airs_pid* out);

/* simple_one_for_one: starts a child from the template whose init gets
 * `arg` as its user_data (on every restart too). arg_free(arg) (may be
 * NULL) runs once when that child is gone for good, or at once if this
 * call fails. EINVAL: `sup` is not simple_one_for_one. */
AIRS_API airs_status
airs_supervisor_start_dynamic_child(airs_runtime* rt, airs_pid sup, void* arg,
                                    void (*arg_free)(void* arg), airs_pid* out);

/* Stops a running child by its shutdown spec. Its spec is kept (state
 * STOPPED), except temporary children and the children of a
 * simple_one_for_one supervisor, which are dropped. A child that is not
 * running: AIRS_OK. ENOTFOUND: no such id. EINVAL: simple_one_for_one
 * (use airs_supervisor_terminate_child_pid). */
AIRS_API airs_status airs_supervisor_terminate_child(airs_runtime* rt,
                                                     airs_pid sup,
                                                     const char* id);

/* The same, naming the child by its pid: only in a simple_one_for_one
 * supervisor, as OTP. A child whose restart is pending (RESTARTING) is
 * still named by the pid it had, as OTP: it is then forgotten, and its
 * restart called off. A pid that has ended and names no child (gone
 * already): AIRS_OK, as OTP. ENOTFOUND: `child` is a live process that is
 * not a child of `sup`, or is 0, or `sup` is not simple_one_for_one. */
AIRS_API airs_status airs_supervisor_terminate_child_pid(airs_runtime* rt,
                                                         airs_pid sup,
                                                         airs_pid child);

/* Starts a STOPPED child again from its spec; *out (may be NULL) gets the
 * pid. ENOTFOUND: no such id. ESTATE: the child is running, stopping or
 * restarting. EINVAL: simple_one_for_one. Any status of the start. */
AIRS_API airs_status airs_supervisor_restart_child(airs_runtime* rt,
                                                   airs_pid sup, const char* id,
                                                   airs_pid* out);

/* Removes the spec of a STOPPED child. ENOTFOUND: no such id. ESTATE: the
 * child is not stopped. EINVAL: simple_one_for_one. */
AIRS_API airs_status airs_supervisor_delete_child(airs_runtime* rt,
                                                  airs_pid sup, const char* id);

typedef enum airs_child_state {
  AIRS_CHILD_RUNNING = 0,    /* alive, pid set */
  AIRS_CHILD_RESTARTING = 1, /* ended; being restarted (or waiting out a
                                backoff or a failed start); pid 0 */
  AIRS_CHILD_STOPPED = 2,    /* terminated; spec kept; pid 0 */
  AIRS_CHILD_STOPPING = 3    /* being stopped by its supervisor */
} airs_child_state;

/* One row of airs_supervisor_which_children.
 *
 * Fixed: unlike the structs that start with version and size, this one
 * never grows (callers size arrays of it). It holds what OTP's
 * which_children gives (id, pid, type) and the child's state; more about
 * a process belongs to an introspection call of its own, with a versioned
 * struct. */
typedef struct airs_child_info {
  char id[AIRS_CHILD_ID_MAX + 1]; /* NUL-terminated; "" in a dynamic pool */
  airs_pid pid;                   /* 0 unless RUNNING or STOPPING */
  int32_t type;                   /* an airs_child_type */
  int32_t state;                  /* an airs_child_state */
} airs_child_info;

/* Writes up to `capacity` rows, in start order, to out (may be NULL when
 * capacity is 0) and the number of children to *count (which may be more
 * than capacity: call again with a bigger array). EINVAL: NULL count. */
AIRS_API airs_status airs_supervisor_which_children(airs_runtime* rt,
                                                    airs_pid sup,
                                                    airs_child_info* out,
                                                    size_t capacity,
                                                    size_t* count);

/* As OTP's count_children. Fixed, never grows: OTP's count_children has
 * had these four counts and no others since it came (R13). */
typedef struct airs_child_counts {
  uint32_t specs;       /* child specs (dynamic pool: 1, its template) */
  uint32_t active;      /* running children */
  uint32_t supervisors; /* specs of type SUPERVISOR (pool: such children) */
  uint32_t workers;     /* specs of type WORKER (pool: such children) */
} airs_child_counts;

AIRS_API airs_status airs_supervisor_count_children(airs_runtime* rt,
                                                    airs_pid sup,
                                                    airs_child_counts* out);

#ifdef __cplusplus
}
#endif

#endif /* AIRS_SUPERVISOR_H */
