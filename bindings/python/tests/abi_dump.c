/*
 * abi_dump.c - prints the constants and struct layouts of <airs/airs.h>
 * (with supervisor.h and broker.h) as one JSON object, for test_abi.py to
 * check the Python package against:
 *
 *   {"constants": {family: {C name: value, ...}, ...},
 *    "structs": {C type: {"size": sizeof,
 *                         "fields": {C field: {"offset": offsetof,
 *                                              "size": sizeof,
 *                                              "signed": bool}, ...}}}}
 *
 * A family is one enum type (named as in C, with every member, in header
 * order) or one group of #defines (spawn_flags, limits, ...). "signed" is
 * given for integer fields only. Fields are in declaration order.
 *
 * test_abi.py also reads the headers' text to check that this program
 * names every enum member, object-like #define, struct and field there:
 * add new ones here when the headers grow.
 */
#include <airs/airs.h>
#include <airs/node.h>
#include <airs/osl.h>
#include <stddef.h>
#include <stdio.h>

/* JSON output: an object per nesting level; has_member_[d] says whether
 * the object open at depth d already has a member (then a comma first). */
static int depth_;
static int has_member_[8];

static void key_(const char* key) {
  printf("%s\n%*s\"%s\": ", has_member_[depth_] ? "," : "", 2 * depth_, "",
         key);
  has_member_[depth_] = 1;
}

static void open_(const char* key) {
  if (key != NULL) key_(key);
  printf("{");
  has_member_[++depth_] = 0;
}

static void close_(void) {
  depth_--;
  printf("\n%*s}", 2 * depth_, "");
}

static void int_(const char* key, long long value) {
  key_(key);
  printf("%lld", value);
}

static void uint_(const char* key, unsigned long long value) {
  key_(key);
  printf("%llu", value);
}

static void string_(const char* key, const char* value) {
  key_(key);
  putchar('"');
  for (; *value != '\0'; value++) {
    if (*value == '"' || *value == '\\') putchar('\\');
    putchar(*value);
  }
  putchar('"');
}

static void field_(const char* name, size_t offset, size_t size,
                   int is_signed) {
  open_(name);
  uint_("offset", offset);
  uint_("size", size);
  if (is_signed >= 0) {
    key_("signed");
    printf(is_signed ? "true" : "false");
  }
  close_();
}

/* Enum members are ints; the #defines here are all unsigned. */
#define ENUM(name) int_(#name, (long long)(name))
#define DEFINE(name) uint_(#name, (unsigned long long)(name))

#define STRUCT(type)           \
  open_(#type);                \
  uint_("size", sizeof(type)); \
  open_("fields")
#define END_STRUCT() \
  close_();          \
  close_()
#define FIELD_SIZE(type, field) sizeof(((type*)0)->field)
/* A pointer or array field. */
#define FIELD(type, field) \
  field_(#field, offsetof(type, field), FIELD_SIZE(type, field), -1)
/* An integer field; signed if its type keeps -1 below 0. */
#define INT_FIELD(type, field)                                   \
  field_(#field, offsetof(type, field), FIELD_SIZE(type, field), \
         (__typeof__(((type*)0)->field))-1 > 0 ? 0 : 1)

static void constants(void) {
  open_("constants");

  open_("airs_status");
  ENUM(AIRS_OK);
  ENUM(AIRS_EINVAL);
  ENUM(AIRS_ENOMEM);
  ENUM(AIRS_ENOPROC);
  ENUM(AIRS_EFULL);
  ENUM(AIRS_ETIMEDOUT);
  ENUM(AIRS_EEXIST);
  ENUM(AIRS_ENOTFOUND);
  ENUM(AIRS_ESTATE);
  ENUM(AIRS_ELIMIT);
  ENUM(AIRS_EVERSION);
  ENUM(AIRS_EINTERNAL);
  ENUM(AIRS_EEXITED);
  ENUM(AIRS_IGNORE);
  ENUM(AIRS_EAGAIN);
  ENUM(AIRS_EOS);
  close_();

  open_("airs_config_key");
  ENUM(AIRS_CFG_WORKERS);
  ENUM(AIRS_CFG_MAILBOX_CAPACITY);
  ENUM(AIRS_CFG_MAILBOX_POLICY);
  ENUM(AIRS_CFG_BLOCK_TIMEOUT_MS);
  ENUM(AIRS_CFG_MAX_PROCESSES);
  ENUM(AIRS_CFG_SHUTDOWN_TIMEOUT_MS);
  ENUM(AIRS_CFG_BUDGET);
  ENUM(AIRS_CFG_MANUAL_CLOCK);
  ENUM(AIRS_CFG_EVENTS);
  ENUM(AIRS_CFG_SEED);
  ENUM(AIRS_CFG_POOL_MIN_THREADS);
  ENUM(AIRS_CFG_POOL_MAX_THREADS);
  ENUM(AIRS_CFG_POOL_SLOW_MAX);
  ENUM(AIRS_CFG_POOL_KEEPALIVE_MS);
  ENUM(AIRS_CFG_PID_TAG);
  ENUM(AIRS_CFG_CRASH_REPORTS);
  close_();

  open_("airs_exit_kind");
  ENUM(AIRS_EXIT_NORMAL);
  ENUM(AIRS_EXIT_SHUTDOWN);
  ENUM(AIRS_EXIT_KILLED);
  ENUM(AIRS_EXIT_ERROR);
  ENUM(AIRS_EXIT_NOPROC);
  ENUM(AIRS_EXIT_NOCONNECTION);
  close_();

  open_("airs_health");
  ENUM(AIRS_HEALTH_HEALTHY);
  ENUM(AIRS_HEALTH_DEGRADED);
  ENUM(AIRS_HEALTH_FAILED);
  close_();

  open_("airs_mailbox_policy");
  ENUM(AIRS_MAILBOX_FAIL);
  ENUM(AIRS_MAILBOX_DROP_NEWEST);
  ENUM(AIRS_MAILBOX_BLOCK);
  close_();

  open_("airs_process_stat");
  ENUM(AIRS_PSTAT_MAILBOX_DEPTH);
  ENUM(AIRS_PSTAT_MAILBOX_CAPACITY);
  ENUM(AIRS_PSTAT_MSGS_ENQUEUED);
  ENUM(AIRS_PSTAT_MSGS_HANDLED);
  ENUM(AIRS_PSTAT_MSGS_DROPPED);
  close_();

  open_("airs_priority");
  ENUM(AIRS_PRIORITY_NORMAL);
  ENUM(AIRS_PRIORITY_HIGH);
  close_();

  open_("airs_send_kind");
  ENUM(AIRS_SEND_KIND_SEND);
  ENUM(AIRS_SEND_KIND_REPLY);
  close_();

  open_("airs_dead_letter_reason");
  ENUM(AIRS_DEAD_LETTER_MAILBOX_FULL);
  ENUM(AIRS_DEAD_LETTER_EXITED);
  ENUM(AIRS_DEAD_LETTER_TIMER);
  ENUM(AIRS_DEAD_LETTER_NO_SUBSCRIBERS);
  ENUM(AIRS_DEAD_LETTER_NOPROC);
  ENUM(AIRS_DEAD_LETTER_LATE_REPLY);
  ENUM(AIRS_DEAD_LETTER_NOCONNECTION);
  close_();

  open_("airs_severity");
  ENUM(AIRS_SEVERITY_DEBUG);
  ENUM(AIRS_SEVERITY_INFO);
  ENUM(AIRS_SEVERITY_WARNING);
  ENUM(AIRS_SEVERITY_ERROR);
  close_();

  open_("airs_event_kind");
  ENUM(AIRS_EVENT_CHILD_STARTED);
  ENUM(AIRS_EVENT_CHILD_START_FAILED);
  ENUM(AIRS_EVENT_CHILD_EXITED);
  ENUM(AIRS_EVENT_CHILD_RESTARTED);
  ENUM(AIRS_EVENT_STRATEGY_APPLIED);
  ENUM(AIRS_EVENT_INTENSITY_REACHED);
  ENUM(AIRS_EVENT_SUPERVISOR_SHUTDOWN);
  ENUM(AIRS_EVENT_CHILD_STOPPING);
  ENUM(AIRS_EVENT_CHILD_KILLED);
  ENUM(AIRS_EVENT_BACKOFF);
  ENUM(AIRS_EVENT_HEALTH_DEGRADED);
  ENUM(AIRS_EVENT_HEALTH_FAILED);
  ENUM(AIRS_EVENT_PROCESS_SPAWNED);
  ENUM(AIRS_EVENT_PROCESS_EXITED);
  ENUM(AIRS_EVENT_SUBSCRIBED);
  ENUM(AIRS_EVENT_UNSUBSCRIBED);
  ENUM(AIRS_EVENT_REQUEST_TIMED_OUT);
  close_();

  open_("airs_trace_kind");
  ENUM(AIRS_TRACE_TURN);
  ENUM(AIRS_TRACE_TIMER);
  close_();

  open_("airs_pick");
  ENUM(AIRS_PICK_ROUND_ROBIN);
  ENUM(AIRS_PICK_RANDOM);
  close_();

  open_("airs_strategy");
  ENUM(AIRS_ONE_FOR_ONE);
  ENUM(AIRS_ONE_FOR_ALL);
  ENUM(AIRS_REST_FOR_ONE);
  ENUM(AIRS_SIMPLE_ONE_FOR_ONE);
  close_();

  open_("airs_auto_shutdown");
  ENUM(AIRS_AUTO_SHUTDOWN_NEVER);
  ENUM(AIRS_AUTO_SHUTDOWN_ANY_SIGNIFICANT);
  ENUM(AIRS_AUTO_SHUTDOWN_ALL_SIGNIFICANT);
  close_();

  open_("airs_restart");
  ENUM(AIRS_RESTART_PERMANENT);
  ENUM(AIRS_RESTART_TRANSIENT);
  ENUM(AIRS_RESTART_TEMPORARY);
  close_();

  open_("airs_shutdown");
  ENUM(AIRS_SHUTDOWN_BRUTAL_KILL);
  ENUM(AIRS_SHUTDOWN_TIMEOUT);
  ENUM(AIRS_SHUTDOWN_INFINITY);
  ENUM(AIRS_SHUTDOWN_DEFAULT);
  close_();

  open_("airs_child_type");
  ENUM(AIRS_CHILD_WORKER);
  ENUM(AIRS_CHILD_SUPERVISOR);
  close_();

  open_("airs_child_state");
  ENUM(AIRS_CHILD_RUNNING);
  ENUM(AIRS_CHILD_RESTARTING);
  ENUM(AIRS_CHILD_STOPPED);
  ENUM(AIRS_CHILD_STOPPING);
  close_();

  /* observe.h */
  open_("airs_process_state");
  ENUM(AIRS_PSTATE_WAITING);
  ENUM(AIRS_PSTATE_RUNNABLE);
  ENUM(AIRS_PSTATE_EXITING);
  close_();

  open_("airs_top_key");
  ENUM(AIRS_TOP_MAILBOX);
  ENUM(AIRS_TOP_HANDLED);
  ENUM(AIRS_TOP_MEMORY);
  close_();

  open_("version");
  DEFINE(AIRS_VERSION_MAJOR);
  DEFINE(AIRS_VERSION_MINOR);
  DEFINE(AIRS_VERSION_PATCH);
  DEFINE(AIRS_VERSION_NUMBER);
  string_("AIRS_VERSION_STRING", AIRS_VERSION_STRING);
  close_();

  open_("limits");
  DEFINE(AIRS_NO_PID);
  DEFINE(AIRS_NAME_MAX);
  DEFINE(AIRS_CHILD_ID_MAX);
  DEFINE(AIRS_MSG_MAX_SIZE);
  DEFINE(AIRS_BATCH_MAX);
  DEFINE(AIRS_SEND_MANY_MAX);
  close_();

  open_("msg_types");
  DEFINE(AIRS_MSG_SYSTEM_BASE);
  DEFINE(AIRS_MSG_BINDING_BASE);
  DEFINE(AIRS_MSG_OSL_BASE);
  DEFINE(AIRS_MSG_EXIT);
  DEFINE(AIRS_MSG_DOWN);
  DEFINE(AIRS_MSG_TIMEOUT);
  close_();

  open_("struct_versions");
  DEFINE(AIRS_BEHAVIOUR_VERSION);
  DEFINE(AIRS_BEHAVIOUR_SIZE_V1);
  DEFINE(AIRS_SPAWN_OPTS_VERSION);
  DEFINE(AIRS_EVENT_VERSION);
  DEFINE(AIRS_RUNTIME_STATS_VERSION);
  DEFINE(AIRS_TRACE_STEP_VERSION);
  DEFINE(AIRS_SUP_FLAGS_VERSION);
  DEFINE(AIRS_CHILD_SPEC_VERSION);
  close_();

  open_("spawn_flags");
  DEFINE(AIRS_SPAWN_LINK);
  DEFINE(AIRS_SPAWN_TRAP_EXIT);
  DEFINE(AIRS_SPAWN_BLOCKING);
  close_();

  open_("child_flags");
  DEFINE(AIRS_CHILD_SIGNIFICANT);
  close_();

  /* The sockets and the system actors (osl.h and what it includes). */
  open_("net"); /* net.h */
  DEFINE(AIRS_AF_INET4);
  DEFINE(AIRS_AF_INET6);
  int_("AIRS_ACTIVE_ALWAYS", AIRS_ACTIVE_ALWAYS);
  DEFINE(AIRS_ACTIVE_MAX);
  DEFINE(AIRS_SOCK_NODELAY);
  DEFINE(AIRS_SOCK_REUSEADDR);
  DEFINE(AIRS_SOCK_V6ONLY);
  DEFINE(AIRS_SOCKET_OPTS_VERSION);
  DEFINE(AIRS_MSG_SOCK_DATA);
  DEFINE(AIRS_MSG_SOCK_DATAGRAM);
  DEFINE(AIRS_MSG_SOCK_PASSIVE);
  DEFINE(AIRS_MSG_SOCK_EOF);
  DEFINE(AIRS_MSG_SOCK_ERROR);
  DEFINE(AIRS_MSG_SOCK_ACCEPTED);
  DEFINE(AIRS_MSG_SOCK_CONNECTED);
  DEFINE(AIRS_MSG_SOCK_SENT);
  DEFINE(AIRS_MSG_SOCK_WRITABLE);
  DEFINE(AIRS_MSG_SOCK_ACCEPT_ERROR);
  close_();

  open_("osl"); /* osl.h */
  string_("AIRS_OSL_FS_NAME", AIRS_OSL_FS_NAME);
  string_("AIRS_OSL_PROC_NAME", AIRS_OSL_PROC_NAME);
  string_("AIRS_OSL_NET_NAME", AIRS_OSL_NET_NAME);
  DEFINE(AIRS_MSG_FS_BASE);
  DEFINE(AIRS_MSG_PROC_BASE);
  DEFINE(AIRS_MSG_NET_BASE);
  DEFINE(AIRS_OSL_TEXT_MAX);
  DEFINE(AIRS_OSL_OPTS_VERSION);
  DEFINE(AIRS_MSG_NET_CONNECT);
  DEFINE(AIRS_MSG_NET_LISTEN);
  DEFINE(AIRS_MSG_NET_UDP_OPEN);
  DEFINE(AIRS_MSG_NET_RESOLVE);
  DEFINE(AIRS_MSG_NET_REPLY);
  DEFINE(AIRS_NET_HOST_MAX);
  DEFINE(AIRS_NET_ADDRS_MAX);
  DEFINE(AIRS_NET_REQ_VERSION);
  close_();

  open_("fs"); /* fs.h */
  DEFINE(AIRS_MSG_FS_READ);
  DEFINE(AIRS_MSG_FS_WRITE);
  DEFINE(AIRS_MSG_FS_APPEND);
  DEFINE(AIRS_MSG_FS_DELETE);
  DEFINE(AIRS_MSG_FS_LIST);
  DEFINE(AIRS_MSG_FS_MKDIR);
  DEFINE(AIRS_MSG_FS_RMDIR);
  DEFINE(AIRS_MSG_FS_STAT);
  DEFINE(AIRS_MSG_FS_RENAME);
  DEFINE(AIRS_MSG_FS_OPEN);
  DEFINE(AIRS_MSG_FILE_READ);
  DEFINE(AIRS_MSG_FILE_WRITE);
  DEFINE(AIRS_MSG_FILE_SYNC);
  DEFINE(AIRS_MSG_FILE_CLOSE);
  DEFINE(AIRS_FS_OPEN_READ);
  DEFINE(AIRS_FS_OPEN_WRITE);
  DEFINE(AIRS_FS_OPEN_APPEND);
  DEFINE(AIRS_FS_OPEN_CREATE);
  DEFINE(AIRS_FS_OPEN_TRUNCATE);
  DEFINE(AIRS_FS_OPEN_EXCL);
  DEFINE(AIRS_FS_AT);
  DEFINE(AIRS_FS_NOFOLLOW);
  DEFINE(AIRS_FS_DATASYNC);
  DEFINE(AIRS_FS_READ_MAX);
  DEFINE(AIRS_FS_PATH_MAX);
  DEFINE(AIRS_FS_HEAD_VERSION);
  DEFINE(AIRS_FS_REQ_VERSION);
  DEFINE(AIRS_FS_EOF);
  DEFINE(AIRS_FS_STAT_VERSION);
  close_();

  open_("proc"); /* proc.h */
  DEFINE(AIRS_MSG_PROC_SPAWN);
  DEFINE(AIRS_MSG_PROC_SPAWN_REPLY);
  DEFINE(AIRS_MSG_PROC_WATCH);
  DEFINE(AIRS_MSG_PROC_WATCH_REPLY);
  DEFINE(AIRS_MSG_PROC_WRITE);
  DEFINE(AIRS_MSG_PROC_WRITE_REPLY);
  DEFINE(AIRS_MSG_PROC_CLOSE_STDIN);
  DEFINE(AIRS_MSG_PROC_CLOSE_STDIN_REPLY);
  DEFINE(AIRS_MSG_PROC_SIGNAL);
  DEFINE(AIRS_MSG_PROC_SIGNAL_REPLY);
  DEFINE(AIRS_MSG_PROC_TERMINATE);
  DEFINE(AIRS_MSG_PROC_TERMINATE_REPLY);
  DEFINE(AIRS_MSG_PROC_WAIT);
  DEFINE(AIRS_MSG_PROC_WAIT_REPLY);
  DEFINE(AIRS_MSG_PROC_STDOUT);
  DEFINE(AIRS_MSG_PROC_STDERR);
  DEFINE(AIRS_MSG_PROC_EXIT);
  DEFINE(AIRS_PROC_WRITE_QUEUE_MAX);
  DEFINE(AIRS_PROC_STDIN_PIPE);
  DEFINE(AIRS_PROC_STDERR_MERGE);
  DEFINE(AIRS_PROC_STDERR_DISCARD);
  DEFINE(AIRS_PROC_STDOUT_DISCARD);
  DEFINE(AIRS_PROC_KILL_GRACE_DEFAULT);
  DEFINE(AIRS_PROC_SPAWN_VERSION);
  DEFINE(AIRS_PROC_SIGNAL_CHILD);
  DEFINE(AIRS_PROC_SIGNAL_GROUP);
  DEFINE(AIRS_PROC_EXIT_EXITED);
  DEFINE(AIRS_PROC_EXIT_SIGNALED);
  DEFINE(AIRS_PROC_EXIT_CORE);
  DEFINE(AIRS_PROC_EXIT_UNKNOWN);
  DEFINE(AIRS_PROC_EXIT_BY_PORT);
  close_();

  open_("airs_fs_type");
  ENUM(AIRS_FS_TYPE_FILE);
  ENUM(AIRS_FS_TYPE_DIR);
  ENUM(AIRS_FS_TYPE_SYMLINK);
  ENUM(AIRS_FS_TYPE_OTHER);
  close_();

  open_("observe"); /* observe.h */
  DEFINE(AIRS_PINFO_TRAP_EXIT);
  DEFINE(AIRS_PINFO_SUPERVISOR);
  DEFINE(AIRS_PINFO_BATCH);
  DEFINE(AIRS_LABEL_MAX);
  DEFINE(AIRS_PROCESS_INFO_VERSION);
  string_("AIRS_OBSERVER_NAME", AIRS_OBSERVER_NAME);
  DEFINE(AIRS_TIMING_BUCKETS);
  DEFINE(AIRS_TIMING_PATTERNS_MAX);
  DEFINE(AIRS_TIMING_NAMES_MAX);
  DEFINE(AIRS_TIMING_STAMPS_MAX);
  DEFINE(AIRS_TIMING_VERSION);
  DEFINE(AIRS_METRICS_SOURCES_MAX);
  close_();

  open_("node");
  DEFINE(AIRS_NODE_NAME_MAX);
  DEFINE(AIRS_MSG_NODE_BASE);
  DEFINE(AIRS_MSG_NODE_UP);
  DEFINE(AIRS_MSG_NODE_DOWN);
  DEFINE(AIRS_NODE_OPTS_VERSION);
  close_();

  open_("airs_node_down_reason");
  ENUM(AIRS_NODE_DOWN_NONE);
  ENUM(AIRS_NODE_DOWN_NOCONNECTION);
  ENUM(AIRS_NODE_DOWN_LEFT);
  ENUM(AIRS_NODE_DOWN_RESTARTED);
  ENUM(AIRS_NODE_DOWN_DISCONNECTED);
  close_();

  close_();
}

static void structs(void) {
  open_("structs");

  STRUCT(airs_behaviour);
  INT_FIELD(airs_behaviour, version);
  INT_FIELD(airs_behaviour, size);
  FIELD(airs_behaviour, init);
  FIELD(airs_behaviour, receive);
  FIELD(airs_behaviour, terminate);
  FIELD(airs_behaviour, health);
  FIELD(airs_behaviour, receive_batch);
  END_STRUCT();

  STRUCT(airs_batch_item);
  INT_FIELD(airs_batch_item, type);
  INT_FIELD(airs_batch_item, sender);
  INT_FIELD(airs_batch_item, correlation);
  FIELD(airs_batch_item, msg);
  FIELD(airs_batch_item, data);
  INT_FIELD(airs_batch_item, size);
  END_STRUCT();

  STRUCT(airs_send_item);
  INT_FIELD(airs_send_item, to);
  INT_FIELD(airs_send_item, type);
  FIELD(airs_send_item, data);
  INT_FIELD(airs_send_item, size);
  INT_FIELD(airs_send_item, correlation);
  INT_FIELD(airs_send_item, kind);
  INT_FIELD(airs_send_item, priority);
  END_STRUCT();

  STRUCT(airs_spawn_opts);
  INT_FIELD(airs_spawn_opts, version);
  INT_FIELD(airs_spawn_opts, size);
  INT_FIELD(airs_spawn_opts, flags);
  INT_FIELD(airs_spawn_opts, mailbox_capacity);
  INT_FIELD(airs_spawn_opts, mailbox_policy);
  INT_FIELD(airs_spawn_opts, block_timeout_ms);
  END_STRUCT();

  STRUCT(airs_event);
  INT_FIELD(airs_event, version);
  INT_FIELD(airs_event, size);
  INT_FIELD(airs_event, kind);
  INT_FIELD(airs_event, severity);
  INT_FIELD(airs_event, source);
  INT_FIELD(airs_event, pid);
  INT_FIELD(airs_event, other);
  INT_FIELD(airs_event, value);
  FIELD(airs_event, id);
  FIELD(airs_event, reason);
  FIELD(airs_event, text);
  END_STRUCT();

  STRUCT(airs_runtime_stats);
  INT_FIELD(airs_runtime_stats, version);
  INT_FIELD(airs_runtime_stats, size);
  INT_FIELD(airs_runtime_stats, processes_alive);
  INT_FIELD(airs_runtime_stats, processes_spawned);
  INT_FIELD(airs_runtime_stats, processes_exited);
  INT_FIELD(airs_runtime_stats, messages_sent);
  INT_FIELD(airs_runtime_stats, messages_delivered);
  INT_FIELD(airs_runtime_stats, messages_dropped);
  INT_FIELD(airs_runtime_stats, dead_letters);
  INT_FIELD(airs_runtime_stats, restarts);
  END_STRUCT();

  STRUCT(airs_trace_step);
  INT_FIELD(airs_trace_step, version);
  INT_FIELD(airs_trace_step, size);
  INT_FIELD(airs_trace_step, index);
  INT_FIELD(airs_trace_step, kind);
  INT_FIELD(airs_trace_step, choices);
  INT_FIELD(airs_trace_step, pid);
  INT_FIELD(airs_trace_step, timer_id);
  INT_FIELD(airs_trace_step, received);
  INT_FIELD(airs_trace_step, cost);
  END_STRUCT();

  STRUCT(airs_sup_flags);
  INT_FIELD(airs_sup_flags, version);
  INT_FIELD(airs_sup_flags, size);
  INT_FIELD(airs_sup_flags, strategy);
  INT_FIELD(airs_sup_flags, intensity);
  INT_FIELD(airs_sup_flags, period_ms);
  INT_FIELD(airs_sup_flags, backoff_base_ms);
  INT_FIELD(airs_sup_flags, backoff_max_ms);
  INT_FIELD(airs_sup_flags, auto_shutdown);
  INT_FIELD(airs_sup_flags, health_interval_ms);
  INT_FIELD(airs_sup_flags, health_timeout_ms);
  INT_FIELD(airs_sup_flags, health_threshold);
  END_STRUCT();

  STRUCT(airs_node_peer);
  FIELD(airs_node_peer, name);
  INT_FIELD(airs_node_peer, incarnation);
  END_STRUCT();

  STRUCT(airs_node_event);
  FIELD(airs_node_event, peer);
  INT_FIELD(airs_node_event, reason);
  INT_FIELD(airs_node_event, reserved);
  END_STRUCT();

  STRUCT(airs_node_opts);
  INT_FIELD(airs_node_opts, version);
  INT_FIELD(airs_node_opts, size);
  FIELD(airs_node_opts, url);
  FIELD(airs_node_opts, name);
  FIELD(airs_node_opts, cluster);
  INT_FIELD(airs_node_opts, heartbeat_ms);
  INT_FIELD(airs_node_opts, down_after_ms);
  INT_FIELD(airs_node_opts, reconnect_grace_ms);
  INT_FIELD(airs_node_opts, connect_timeout_ms);
  END_STRUCT();

  STRUCT(airs_child_spec);
  INT_FIELD(airs_child_spec, version);
  INT_FIELD(airs_child_spec, size);
  FIELD(airs_child_spec, id);
  FIELD(airs_child_spec, behaviour);
  FIELD(airs_child_spec, user_data);
  FIELD(airs_child_spec, user_data_free);
  FIELD(airs_child_spec, supervisor);
  INT_FIELD(airs_child_spec, restart);
  INT_FIELD(airs_child_spec, shutdown);
  INT_FIELD(airs_child_spec, shutdown_ms);
  INT_FIELD(airs_child_spec, type);
  INT_FIELD(airs_child_spec, flags);
  FIELD(airs_child_spec, name);
  FIELD(airs_child_spec, opts);
  END_STRUCT();

  STRUCT(airs_child_info);
  FIELD(airs_child_info, id);
  INT_FIELD(airs_child_info, pid);
  INT_FIELD(airs_child_info, type);
  INT_FIELD(airs_child_info, state);
  END_STRUCT();

  STRUCT(airs_child_counts);
  INT_FIELD(airs_child_counts, specs);
  INT_FIELD(airs_child_counts, active);
  INT_FIELD(airs_child_counts, supervisors);
  INT_FIELD(airs_child_counts, workers);
  END_STRUCT();

  /* observe.h */
  STRUCT(airs_process_info);
  INT_FIELD(airs_process_info, version);
  INT_FIELD(airs_process_info, size);
  INT_FIELD(airs_process_info, pid);
  INT_FIELD(airs_process_info, state);
  INT_FIELD(airs_process_info, flags);
  INT_FIELD(airs_process_info, supervisor);
  INT_FIELD(airs_process_info, mailbox_depth);
  INT_FIELD(airs_process_info, messages_in);
  INT_FIELD(airs_process_info, messages_handled);
  INT_FIELD(airs_process_info, memory_bytes);
  FIELD(airs_process_info, name);
  FIELD(airs_process_info, label);
  END_STRUCT();

  STRUCT(airs_process_ties);
  FIELD(airs_process_ties, links);
  INT_FIELD(airs_process_ties, links_capacity);
  INT_FIELD(airs_process_ties, links_count);
  FIELD(airs_process_ties, monitors);
  INT_FIELD(airs_process_ties, monitors_capacity);
  INT_FIELD(airs_process_ties, monitors_count);
  FIELD(airs_process_ties, monitored_by);
  INT_FIELD(airs_process_ties, monitored_by_capacity);
  INT_FIELD(airs_process_ties, monitored_by_count);
  END_STRUCT();

  STRUCT(airs_tree_node);
  INT_FIELD(airs_tree_node, pid);
  INT_FIELD(airs_tree_node, supervisor);
  INT_FIELD(airs_tree_node, depth);
  INT_FIELD(airs_tree_node, type);
  INT_FIELD(airs_tree_node, state);
  FIELD(airs_tree_node, id);
  END_STRUCT();

  STRUCT(airs_top_entry);
  INT_FIELD(airs_top_entry, pid);
  INT_FIELD(airs_top_entry, value);
  END_STRUCT();

  STRUCT(airs_timing_histogram);
  INT_FIELD(airs_timing_histogram, count);
  INT_FIELD(airs_timing_histogram, sum_ns);
  FIELD(airs_timing_histogram, buckets);
  END_STRUCT();

  STRUCT(airs_timing);
  INT_FIELD(airs_timing, version);
  INT_FIELD(airs_timing, size);
  FIELD(airs_timing, wait);
  FIELD(airs_timing, run);
  INT_FIELD(airs_timing, wait_unmeasured);
  END_STRUCT();

  /* net.h */
  STRUCT(airs_addr);
  INT_FIELD(airs_addr, family);
  INT_FIELD(airs_addr, port);
  INT_FIELD(airs_addr, scope_id);
  FIELD(airs_addr, ip);
  END_STRUCT();

  STRUCT(airs_socket_opts);
  INT_FIELD(airs_socket_opts, version);
  INT_FIELD(airs_socket_opts, size);
  INT_FIELD(airs_socket_opts, active);
  INT_FIELD(airs_socket_opts, flags);
  INT_FIELD(airs_socket_opts, send_buffer);
  INT_FIELD(airs_socket_opts, read_size);
  INT_FIELD(airs_socket_opts, backlog);
  INT_FIELD(airs_socket_opts, reserved);
  END_STRUCT();

  STRUCT(airs_sock_error);
  INT_FIELD(airs_sock_error, err);
  FIELD(airs_sock_error, op);
  FIELD(airs_sock_error, text);
  END_STRUCT();

  STRUCT(airs_sock_accepted);
  INT_FIELD(airs_sock_accepted, socket);
  FIELD(airs_sock_accepted, peer);
  END_STRUCT();

  STRUCT(airs_datagram);
  FIELD(airs_datagram, from);
  INT_FIELD(airs_datagram, size);
  INT_FIELD(airs_datagram, truncated);
  END_STRUCT();

  /* osl.h */
  STRUCT(airs_osl_result);
  INT_FIELD(airs_osl_result, status);
  INT_FIELD(airs_osl_result, err);
  FIELD(airs_osl_result, text);
  END_STRUCT();

  STRUCT(airs_osl_opts);
  INT_FIELD(airs_osl_opts, version);
  INT_FIELD(airs_osl_opts, size);
  INT_FIELD(airs_osl_opts, intensity);
  INT_FIELD(airs_osl_opts, period_ms);
  FIELD(airs_osl_opts, name);
  END_STRUCT();

  STRUCT(airs_net_req);
  INT_FIELD(airs_net_req, version);
  INT_FIELD(airs_net_req, size);
  INT_FIELD(airs_net_req, type);
  INT_FIELD(airs_net_req, owner);
  FIELD(airs_net_req, addr);
  INT_FIELD(airs_net_req, timeout_ms);
  INT_FIELD(airs_net_req, has_opts);
  FIELD(airs_net_req, opts);
  FIELD(airs_net_req, host);
  END_STRUCT();

  STRUCT(airs_net_reply);
  INT_FIELD(airs_net_reply, socket);
  FIELD(airs_net_reply, local);
  INT_FIELD(airs_net_reply, count);
  INT_FIELD(airs_net_reply, reserved);
  FIELD(airs_net_reply, addrs);
  END_STRUCT();

  /* fs.h */
  STRUCT(airs_fs_head);
  INT_FIELD(airs_fs_head, version);
  INT_FIELD(airs_fs_head, size);
  INT_FIELD(airs_fs_head, flags);
  INT_FIELD(airs_fs_head, mode);
  INT_FIELD(airs_fs_head, offset);
  INT_FIELD(airs_fs_head, length);
  INT_FIELD(airs_fs_head, path_len);
  INT_FIELD(airs_fs_head, path2_len);
  INT_FIELD(airs_fs_head, data_len);
  END_STRUCT();

  STRUCT(airs_fs_req);
  INT_FIELD(airs_fs_req, version);
  INT_FIELD(airs_fs_req, size);
  INT_FIELD(airs_fs_req, type);
  INT_FIELD(airs_fs_req, file);
  FIELD(airs_fs_req, path);
  INT_FIELD(airs_fs_req, path_len);
  FIELD(airs_fs_req, path2);
  INT_FIELD(airs_fs_req, path2_len);
  FIELD(airs_fs_req, data);
  INT_FIELD(airs_fs_req, data_size);
  INT_FIELD(airs_fs_req, offset);
  INT_FIELD(airs_fs_req, length);
  INT_FIELD(airs_fs_req, mode);
  INT_FIELD(airs_fs_req, flags);
  END_STRUCT();

  STRUCT(airs_fs_info);
  INT_FIELD(airs_fs_info, flags);
  INT_FIELD(airs_fs_info, count);
  INT_FIELD(airs_fs_info, value);
  END_STRUCT();

  STRUCT(airs_fs_stat);
  INT_FIELD(airs_fs_stat, version);
  INT_FIELD(airs_fs_stat, size);
  INT_FIELD(airs_fs_stat, type);
  INT_FIELD(airs_fs_stat, mode);
  INT_FIELD(airs_fs_stat, bytes);
  INT_FIELD(airs_fs_stat, mtime_ns);
  INT_FIELD(airs_fs_stat, atime_ns);
  INT_FIELD(airs_fs_stat, ctime_ns);
  INT_FIELD(airs_fs_stat, inode);
  INT_FIELD(airs_fs_stat, device);
  INT_FIELD(airs_fs_stat, links);
  INT_FIELD(airs_fs_stat, uid);
  INT_FIELD(airs_fs_stat, gid);
  INT_FIELD(airs_fs_stat, reserved);
  END_STRUCT();

  /* proc.h */
  STRUCT(airs_proc_spawn);
  INT_FIELD(airs_proc_spawn, version);
  INT_FIELD(airs_proc_spawn, size);
  FIELD(airs_proc_spawn, path);
  FIELD(airs_proc_spawn, argv);
  FIELD(airs_proc_spawn, envp);
  FIELD(airs_proc_spawn, cwd);
  INT_FIELD(airs_proc_spawn, flags);
  INT_FIELD(airs_proc_spawn, kill_grace_ms);
  INT_FIELD(airs_proc_spawn, owner);
  END_STRUCT();

  STRUCT(airs_proc_spawned);
  INT_FIELD(airs_proc_spawned, os_pid);
  INT_FIELD(airs_proc_spawned, port);
  END_STRUCT();

  STRUCT(airs_proc_signal_req);
  INT_FIELD(airs_proc_signal_req, signo);
  INT_FIELD(airs_proc_signal_req, flags);
  END_STRUCT();

  STRUCT(airs_proc_exit);
  INT_FIELD(airs_proc_exit, os_pid);
  INT_FIELD(airs_proc_exit, code);
  INT_FIELD(airs_proc_exit, signo);
  INT_FIELD(airs_proc_exit, flags);
  INT_FIELD(airs_proc_exit, reserved);
  END_STRUCT();

  STRUCT(airs_proc_watch_req);
  INT_FIELD(airs_proc_watch_req, os_pid);
  INT_FIELD(airs_proc_watch_req, owner);
  END_STRUCT();

  STRUCT(airs_proc_watched);
  INT_FIELD(airs_proc_watched, watcher);
  END_STRUCT();

  close_();
}

int main(void) {
  open_(NULL);
  constants();
  structs();
  close_();
  putchar('\n');
  return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}
