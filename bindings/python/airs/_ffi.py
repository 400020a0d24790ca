"""The C API as ctypes sees it: one table of every function's argtypes and
restype, the versioned structs, the callback types, and the constants of
``<airs/airs.h>``, ``<airs/supervisor.h>`` and ``<airs/broker.h>``.

Two views of the same library are exported:

``lib`` (ctypes.CDLL)
    Releases the GIL for the duration of every call. Used for everything
    that may block or wait for another thread (airs_runtime_free,
    airs_wait, airs_call, supervisor operations, sends from outside an
    actor, ...): while the C side waits, actor callbacks on the runtime's
    workers can take the GIL, so the main thread never deadlocks the
    runtime. Every function returning an ``airs_status`` gets an errcheck
    that raises the matching :mod:`airs.errors` exception with the
    thread's ``airs_last_error_message()``.

``fast`` (ctypes.PyDLL)
    Keeps the GIL. Only for the few calls of the per-message path that
    never block and never wait for another thread (message accessors,
    airs_ctx_send, airs_self): dropping and retaking the GIL would cost
    more than the call itself. A callback they trigger on the same thread
    (the dead-letter hook) re-enters the GIL the thread already holds.
    These have no errcheck: the caller tests the status (one comparison)
    and calls :func:`raise_status` on failure.

On import the library's version is checked against the package's with
airs_check_abi (same major, library at least as new): a mismatch raises
:class:`airs.errors.VersionError` at once.
"""
import ctypes
import enum
import platform
import sys
from ctypes import (CFUNCTYPE, POINTER, Structure, c_bool, c_char,
                    c_char_p, c_int, c_int32, c_int64, c_size_t, c_uint32,
                    c_uint64, c_void_p)

from . import _library
from .errors import EVERSION, VersionError, error_for

# The version of the C API this package was written against (version.h).
PACKAGE_VERSION = (0, 1, 0)
PACKAGE_VERSION_NUMBER = (PACKAGE_VERSION[0] * 10000 + PACKAGE_VERSION[1] * 100
                          + PACKAGE_VERSION[2])

lib, LIBRARY_PATH = _library.load(ctypes.CDLL)
fast = ctypes.PyDLL(LIBRARY_PATH)

# ---------------------------------------------------------------------------
# Constants (airs.h, supervisor.h, broker.h).
# ---------------------------------------------------------------------------

NO_PID = 0
NAME_MAX = 255
CHILD_ID_MAX = 63
MSG_MAX_SIZE = 0xFFFFFFFF
BATCH_MAX = 64  # items of one receive_batch call
SEND_MANY_MAX = 4096  # items of one airs_ctx_send_many call

MSG_SYSTEM_BASE = 0xFFFFFFFF00000000
MSG_BINDING_BASE = 0xF000000000000000  # AIRS_MSG_BINDING_BASE
MSG_OSL_BASE = 0xE000000000000000  # AIRS_MSG_OSL_BASE: the system actors
MSG_EXIT = MSG_SYSTEM_BASE + 1
MSG_DOWN = MSG_SYSTEM_BASE + 2
MSG_TIMEOUT = MSG_SYSTEM_BASE + 3

BEHAVIOUR_VERSION = 2
# Up to and with `health`.
BEHAVIOUR_SIZE_V1 = 2 * 4 + 4 * ctypes.sizeof(c_void_p)
SPAWN_OPTS_VERSION = 1
EVENT_VERSION = 1
RUNTIME_STATS_VERSION = 1
TRACE_STEP_VERSION = 1
SUP_FLAGS_VERSION = 1
CHILD_SPEC_VERSION = 1

SPAWN_LINK = 0x1
SPAWN_TRAP_EXIT = 0x2
SPAWN_BLOCKING = 0x4
CHILD_SIGNIFICANT = 0x1

# airs_process_stat (the one the binding reads itself; see
# airs.monitoring for all of them)
PSTAT_MAILBOX_CAPACITY = 2

# airs_config_key
CFG_WORKERS = 1
CFG_MAILBOX_CAPACITY = 2
CFG_MAILBOX_POLICY = 3
CFG_BLOCK_TIMEOUT_MS = 4
CFG_MAX_PROCESSES = 5
CFG_SHUTDOWN_TIMEOUT_MS = 6
CFG_BUDGET = 7
CFG_MANUAL_CLOCK = 8
CFG_EVENTS = 9
CFG_SEED = 10
CFG_POOL_MIN_THREADS = 11
CFG_POOL_MAX_THREADS = 12
CFG_POOL_SLOW_MAX = 13
CFG_POOL_KEEPALIVE_MS = 14
CFG_PID_TAG = 15
CFG_CRASH_REPORTS = 16

# ---------------------------------------------------------------------------
# Opaque handles. The ones the binding creates and keeps are typed
# pointers, so that passing one kind where C expects another is a ctypes
# TypeError instead of undefined behaviour. Two stay plain void*: the
# airs_ctx* and airs_msg* that callbacks receive once per message, because
# a typed pointer argument costs ctypes one Python object per argument per
# callback on the per-message path; the binding never mixes them up (ctx
# only goes where C takes an airs_ctx*, msg where it takes an airs_msg*).
# ---------------------------------------------------------------------------


class RuntimeHandle(Structure):
    """airs_runtime (opaque)."""


class ConfigHandle(Structure):
    """airs_config (opaque)."""


class SupSpecHandle(Structure):
    """airs_sup_spec (opaque)."""


class PayloadHandle(Structure):
    """airs_payload (opaque)."""


class ReasonHandle(Structure):
    """airs_reason (opaque, borrowed)."""


RuntimeP = POINTER(RuntimeHandle)
ConfigP = POINTER(ConfigHandle)
SupSpecP = POINTER(SupSpecHandle)
PayloadP = POINTER(PayloadHandle)
ReasonP = POINTER(ReasonHandle)

# ---------------------------------------------------------------------------
# Structs. Versioned ones carry (version, size) first, set by the binding.
# ---------------------------------------------------------------------------


class Behaviour(Structure):
    """airs_behaviour. The slots hold the addresses of CFUNCTYPE objects
    that the owner keeps alive (see :mod:`airs._dispatch`)."""
    _fields_ = [("version", c_uint32), ("size", c_uint32),
                ("init", c_void_p), ("receive", c_void_p),
                ("terminate", c_void_p), ("health", c_void_p),
                ("receive_batch", c_void_p)]


class BatchItem(Structure):
    """airs_batch_item: one message of a receive_batch call. The binding
    reads a batch as 6 * count uint64 words instead (one copy, no
    per-field ctypes access); this mirror documents and checks the
    layout."""
    _fields_ = [("type", c_uint64), ("sender", c_uint64),
                ("correlation", c_uint64), ("msg", c_void_p),
                ("data", c_void_p), ("size", c_uint64)]


class SendItem(Structure):
    """airs_send_item: one message of airs_ctx_send_many. The binding
    packs them as 6 uint64 words each (array('Q')); the last word is
    kind | priority << 32 (little-endian)."""
    _fields_ = [("to", c_uint64), ("type", c_uint64), ("data", c_void_p),
                ("size", c_uint64), ("correlation", c_uint64),
                ("kind", c_uint32), ("priority", c_uint32)]


class SendKind(enum.IntEnum):
    """airs_send_kind: what an item of airs_ctx_send_many does."""
    SEND = 0
    REPLY = 1


class SpawnOpts(Structure):
    """airs_spawn_opts."""
    _fields_ = [("version", c_uint32), ("size", c_uint32),
                ("flags", c_uint32), ("mailbox_capacity", c_uint32),
                ("mailbox_policy", c_int32), ("block_timeout_ms", c_uint32)]


class RuntimeStatsStruct(Structure):
    """airs_runtime_stats."""
    _fields_ = [("version", c_uint32), ("size", c_uint32),
                ("processes_alive", c_uint64),
                ("processes_spawned", c_uint64),
                ("processes_exited", c_uint64),
                ("messages_sent", c_uint64),
                ("messages_delivered", c_uint64),
                ("messages_dropped", c_uint64),
                ("dead_letters", c_uint64), ("restarts", c_uint64)]


class EventStruct(Structure):
    """airs_event (borrowed for the duration of a hook call)."""
    _fields_ = [("version", c_uint32), ("size", c_uint32),
                ("kind", c_int32), ("severity", c_int32),
                ("source", c_uint64), ("pid", c_uint64),
                ("other", c_uint64), ("value", c_int64),
                ("id", c_char_p), ("reason", ReasonP),
                ("text", c_char_p)]


class TraceStep(Structure):
    """airs_trace_step (borrowed for the duration of a trace hook call)."""
    _fields_ = [("version", c_uint32), ("size", c_uint32),
                ("index", c_uint64), ("kind", c_int32),
                ("choices", c_uint32), ("pid", c_uint64),
                ("timer_id", c_uint64), ("received", c_uint64),
                ("cost", c_uint64)]


class SupFlags(Structure):
    """airs_sup_flags."""
    _fields_ = [("version", c_uint32), ("size", c_uint32),
                ("strategy", c_int32), ("intensity", c_uint32),
                ("period_ms", c_uint32), ("backoff_base_ms", c_uint32),
                ("backoff_max_ms", c_uint32), ("auto_shutdown", c_int32),
                ("health_interval_ms", c_uint32),
                ("health_timeout_ms", c_uint32),
                ("health_threshold", c_uint32)]


class ChildSpecStruct(Structure):
    """airs_child_spec (read by the call it is passed to, then free)."""
    _fields_ = [("version", c_uint32), ("size", c_uint32),
                ("id", c_char_p), ("behaviour", POINTER(Behaviour)),
                ("user_data", c_void_p), ("user_data_free", c_void_p),
                ("supervisor", SupSpecP), ("restart", c_int32),
                ("shutdown", c_int32), ("shutdown_ms", c_uint32),
                ("type", c_int32), ("flags", c_uint32),
                ("name", c_char_p), ("opts", POINTER(SpawnOpts))]


class ChildInfoStruct(Structure):
    """airs_child_info."""
    _fields_ = [("id", c_char * (CHILD_ID_MAX + 1)), ("pid", c_uint64),
                ("type", c_int32), ("state", c_int32)]


class ChildCountsStruct(Structure):
    """airs_child_counts."""
    _fields_ = [("specs", c_uint32), ("active", c_uint32),
                ("supervisors", c_uint32), ("workers", c_uint32)]


# ---------------------------------------------------------------------------
# Callback types. ctypes takes the GIL on entry and drops it on return.
# ---------------------------------------------------------------------------

INIT_FN = CFUNCTYPE(c_int, c_void_p, c_void_p, POINTER(c_void_p))
RECEIVE_FN = CFUNCTYPE(c_int, c_void_p, c_void_p, c_void_p)
# (state, ctx, items, count, handled): items and handled as plain ints.
RECEIVE_BATCH_FN = CFUNCTYPE(c_int, c_void_p, c_void_p, c_void_p, c_uint32,
                             c_void_p)
TERMINATE_FN = CFUNCTYPE(None, c_void_p, c_void_p, ReasonP)
HEALTH_FN = CFUNCTYPE(c_int, c_void_p, c_void_p)
FREE_FN = CFUNCTYPE(None, c_void_p)
DEAD_LETTER_FN = CFUNCTYPE(None, c_void_p, c_uint64, c_void_p, c_int)
EVENT_FN = CFUNCTYPE(None, c_void_p, POINTER(EventStruct))
THREAD_FN = CFUNCTYPE(None, c_void_p, c_int)
TRACE_FN = CFUNCTYPE(None, c_void_p, POINTER(TraceStep))

# ---------------------------------------------------------------------------
# The table: name -> (restype, argtypes). "status" marks an airs_status
# result (errcheck raises on failure). Function-pointer parameters are
# declared void*: the binding passes the address of a CFUNCTYPE object it
# keeps alive, or None for NULL (which a CFUNCTYPE argtype would refuse).
# ---------------------------------------------------------------------------

STATUS = "status"
vp = c_void_p
u64 = c_uint64
pvp = POINTER(c_void_p)
pu64 = POINTER(c_uint64)
psize = POINTER(c_size_t)

SIGNATURES = {
    # errors and version
    "airs_strerror": (c_char_p, [c_int]),
    "airs_last_error_message": (c_char_p, []),
    "airs_version": (c_uint32, []),
    "airs_version_string": (c_char_p, []),
    "airs_check_abi": (STATUS, [c_uint32]),
    # configuration and runtime
    "airs_config_new": (STATUS, [POINTER(ConfigP)]),
    "airs_config_set": (STATUS, [ConfigP, c_int, c_int64]),
    "airs_config_get": (STATUS, [ConfigP, c_int, POINTER(c_int64)]),
    "airs_config_free": (None, [ConfigP]),
    "airs_config_set_thread_hook": (STATUS, [ConfigP, c_void_p, c_void_p]),
    "airs_runtime_new": (STATUS, [ConfigP, POINTER(RuntimeP)]),
    "airs_runtime_free": (None, [RuntimeP]),
    "airs_runtime_poll": (STATUS, [RuntimeP, c_uint32, POINTER(c_uint32)]),
    "airs_runtime_workers": (STATUS, [RuntimeP, POINTER(c_uint32)]),
    "airs_runtime_next_timer_ms": (STATUS, [RuntimeP, POINTER(c_int64)]),
    "airs_runtime_advance_time": (STATUS, [RuntimeP, u64]),
    "airs_runtime_set_trace_hook": (STATUS, [RuntimeP, vp, vp]),
    # io.h: the host-driven wake-up fd (airs.aio)
    "airs_runtime_fd": (STATUS, [RuntimeP, POINTER(c_int)]),
    # exit reasons
    "airs_reason_kind": (c_int, [ReasonP]),
    "airs_reason_code": (c_int32, [ReasonP]),
    "airs_reason_text": (c_char_p, [ReasonP]),
    # processes
    "airs_spawn_opts_init": (STATUS, [RuntimeP, POINTER(SpawnOpts)]),
    "airs_spawn": (STATUS, [RuntimeP, POINTER(Behaviour), vp, vp,
                            POINTER(SpawnOpts), pu64]),
    "airs_ctx_spawn": (STATUS, [vp, POINTER(Behaviour), vp, vp,
                                POINTER(SpawnOpts), pu64]),
    "airs_self": (u64, [vp]),
    "airs_ctx_runtime": (RuntimeP, [vp]),
    "airs_exit": (STATUS, [vp, c_int, c_int32, c_char_p]),
    "airs_send_exit": (STATUS, [RuntimeP, u64, c_int, c_int32, c_char_p]),
    "airs_stop": (STATUS, [RuntimeP, u64]),
    "airs_kill": (STATUS, [RuntimeP, u64]),
    "airs_wait": (STATUS, [RuntimeP, u64, c_uint32]),
    "airs_is_alive": (c_bool, [RuntimeP, u64]),
    # a pid of another runtime, on another node (transport.h)
    "airs_runtime_pid_tag": (STATUS, [RuntimeP, ctypes.POINTER(c_uint32)]),
    "airs_process_stat_get": (STATUS, [RuntimeP, u64, c_int, pu64]),
    # links and monitors
    "airs_link": (STATUS, [vp, u64]),
    "airs_unlink": (STATUS, [vp, u64]),
    "airs_trap_exit": (STATUS, [vp, c_bool]),
    "airs_monitor": (STATUS, [vp, u64, pu64]),
    "airs_demonitor": (STATUS, [vp, u64]),
    # messages and payloads
    "airs_msg_new": (STATUS, [u64, vp, c_size_t, pvp]),
    "airs_msg_new_owned": (STATUS, [u64, vp, c_size_t, vp, pvp]),
    "airs_msg_new_shared": (STATUS, [u64, PayloadP, pvp]),
    "airs_msg_set_priority": (STATUS, [vp, c_int]),
    "airs_msg_set_correlation": (STATUS, [vp, u64]),
    "airs_msg_free": (None, [vp]),
    "airs_msg_type": (u64, [vp]),
    "airs_msg_sender": (u64, [vp]),
    "airs_msg_correlation": (u64, [vp]),
    "airs_msg_priority": (c_int, [vp]),
    "airs_msg_data": (vp, [vp]),
    "airs_msg_size": (c_size_t, [vp]),
    "airs_msg_read": (vp, [vp, pu64, psize]),
    "airs_msg_reason": (ReasonP, [vp]),
    "airs_msg_payload": (PayloadP, [vp]),
    "airs_payload_new": (STATUS, [vp, c_size_t, POINTER(PayloadP)]),
    "airs_payload_wrap": (STATUS, [vp, c_size_t, vp, POINTER(PayloadP)]),
    "airs_payload_retain": (None, [PayloadP]),
    "airs_payload_release": (None, [PayloadP]),
    "airs_payload_data": (vp, [PayloadP]),
    "airs_payload_size": (c_size_t, [PayloadP]),
    # sending
    "airs_send_msg": (STATUS, [RuntimeP, u64, vp]),
    "airs_send": (STATUS, [RuntimeP, u64, u64, vp, c_size_t]),
    "airs_ctx_send_msg": (STATUS, [vp, u64, vp]),
    "airs_ctx_send": (STATUS, [vp, u64, u64, vp, c_size_t]),
    "airs_ctx_send_many": (STATUS, [vp, vp, c_size_t, vp]),
    "airs_set_dead_letter_hook": (STATUS, [RuntimeP, vp, vp]),
    # timers
    "airs_send_after": (STATUS, [RuntimeP, u64, u64, vp, pu64]),
    "airs_cancel_timer": (STATUS, [RuntimeP, u64]),
    # monitoring
    "airs_runtime_stats_get": (STATUS, [RuntimeP, POINTER(RuntimeStatsStruct)]),
    "airs_set_event_hook": (STATUS, [RuntimeP, vp, vp]),
    # registry and pools
    "airs_register": (STATUS, [RuntimeP, c_char_p, u64]),
    "airs_unregister": (STATUS, [RuntimeP, c_char_p]),
    "airs_whereis": (STATUS, [RuntimeP, c_char_p, pu64]),
    "airs_pool_join": (STATUS, [RuntimeP, c_char_p, u64]),
    "airs_pool_leave": (STATUS, [RuntimeP, c_char_p, u64]),
    "airs_pool_pick": (STATUS, [RuntimeP, c_char_p, c_int, pu64]),
    "airs_pool_members": (STATUS, [RuntimeP, c_char_p, pu64, c_size_t, psize]),
    # supervisors
    "airs_sup_flags_init": (STATUS, [POINTER(SupFlags)]),
    "airs_child_spec_init": (STATUS, [POINTER(ChildSpecStruct)]),
    "airs_sup_spec_new": (STATUS, [POINTER(SupFlags), POINTER(SupSpecP)]),
    "airs_sup_spec_add_child": (STATUS, [SupSpecP, POINTER(ChildSpecStruct)]),
    "airs_sup_spec_free": (None, [SupSpecP]),
    "airs_supervisor_start": (STATUS, [RuntimeP, SupSpecP, pu64]),
    "airs_supervisor_start_child": (STATUS, [RuntimeP, u64,
                                             POINTER(ChildSpecStruct), pu64]),
    "airs_supervisor_start_dynamic_child": (STATUS, [RuntimeP, u64, vp, vp,
                                                     pu64]),
    "airs_supervisor_terminate_child": (STATUS, [RuntimeP, u64, c_char_p]),
    "airs_supervisor_terminate_child_pid": (STATUS, [RuntimeP, u64, u64]),
    "airs_supervisor_restart_child": (STATUS, [RuntimeP, u64, c_char_p, pu64]),
    "airs_supervisor_delete_child": (STATUS, [RuntimeP, u64, c_char_p]),
    "airs_supervisor_which_children": (STATUS, [RuntimeP, u64,
                                                POINTER(ChildInfoStruct),
                                                c_size_t, psize]),
    "airs_supervisor_count_children": (STATUS, [RuntimeP, u64,
                                                POINTER(ChildCountsStruct)]),
    # broker
    "airs_subscribe": (STATUS, [RuntimeP, c_char_p, u64]),
    "airs_unsubscribe": (STATUS, [RuntimeP, c_char_p, u64]),
    "airs_publish": (STATUS, [RuntimeP, c_char_p, u64, PayloadP, psize]),
    "airs_topic_subscribers": (STATUS, [RuntimeP, c_char_p, pu64, c_size_t,
                                        psize]),
    "airs_request": (STATUS, [vp, u64, vp, c_uint32, pu64]),
    "airs_call": (STATUS, [RuntimeP, u64, vp, c_uint32, pvp]),
    "airs_reply": (STATUS, [vp, vp, vp]),
    "airs_reply_to": (STATUS, [vp, u64, vp]),
}

# The per-message calls that keep the GIL (see the module docstring).
FAST_SIGNATURES = {
    "airs_msg_type": (c_uint64, [vp]),
    "airs_msg_sender": (c_uint64, [vp]),
    "airs_msg_correlation": (c_uint64, [vp]),
    "airs_msg_data": (vp, [vp]),
    "airs_msg_size": (c_size_t, [vp]),
    "airs_self": (c_uint64, [vp]),
    "airs_pid_tag": (c_uint32, [u64]),
    "airs_ctx_send": (c_int, [vp, u64, u64, vp, c_size_t]),
    # A turn's sends and replies in one call (items and statuses as the
    # addresses of arrays the caller keeps).
    "airs_ctx_send_many": (c_int, [vp, vp, c_size_t, vp]),
    "airs_process_stat_get": (c_int, [RuntimeP, u64, c_int, pu64]),
    "airs_payload_wrap": (c_int, [vp, c_size_t, vp, POINTER(PayloadP)]),
    "airs_payload_new": (c_int, [vp, c_size_t, POINTER(PayloadP)]),
    "airs_payload_release": (None, [PayloadP]),
    "airs_runtime_new": (c_int, [ConfigP, POINTER(RuntimeP)]),
    "airs_publish": (c_int, [RuntimeP, c_char_p, u64, PayloadP, psize]),
    # Inside a callback these never block (a BLOCK mailbox blocks only a
    # plain thread's send), so the request/reply path keeps the GIL.
    "airs_msg_new": (c_int, [u64, vp, c_size_t, pvp]),
    "airs_request": (c_int, [vp, u64, vp, c_uint32, pu64]),
    "airs_reply": (c_int, [vp, vp, vp]),
}

_last_error_message = lib.airs_last_error_message
_last_error_message.restype = c_char_p
_last_error_message.argtypes = []


def last_error_message():
    """airs_last_error_message() of the calling thread, as str."""
    raw = _last_error_message()
    return raw.decode("utf-8", "replace") if raw else ""


def error_for_status(status):
    """The exception (not raised) for a failed `status`, with the calling
    thread's last error message; build it right after the failing call."""
    return error_for(status, last_error_message())


def raise_status(status):
    """Raises the exception for a failed `status`, with the calling
    thread's last error message. Call right after the failing call, on the
    same thread."""
    raise error_for(status, last_error_message())


def _errcheck(result, func, args):
    if result:
        raise error_for(result, last_error_message())
    return result


def _bind(library, table, with_errcheck):
    for name, (restype, argtypes) in table.items():
        fn = getattr(library, name)
        if restype == STATUS:
            fn.restype = c_int
            if with_errcheck:
                fn.errcheck = _errcheck
        else:
            fn.restype = restype
        fn.argtypes = argtypes


_bind(lib, SIGNATURES, with_errcheck=True)
_bind(fast, FAST_SIGNATURES, with_errcheck=False)

# airs_ctx_send for a Python object in flight: (ctx, to, type) and no
# payload. Each argtype costs a from_param call per message; the trailing
# (NULL, 0) need none when passed as None and 0, which ctypes converts
# natively (extra arguments of a cdecl prototype). This relies on the
# Linux x86-64 / AArch64 calling conventions, where those extra arguments
# land in the same registers as declared ones; elsewhere the full
# prototype is used.
if sys.platform == "linux" and platform.machine() in ("x86_64", "aarch64"):
    ctx_send_ref = ctypes.PYFUNCTYPE(c_int, vp, u64, u64)(
        ("airs_ctx_send", fast))
else:
    ctx_send_ref = fast.airs_ctx_send


def raw(name):
    """A separate function object for `name` (GIL released) that returns
    the status instead of raising: for calls whose failure is an answer,
    not an error."""
    restype, argtypes = SIGNATURES[name]
    return CFUNCTYPE(c_int if restype == STATUS else restype,
                     *argtypes)((name, lib))


def _check_version():
    # Not through the errcheck: the exception must be VersionError
    # whatever the status.
    status = raw("airs_check_abi")(PACKAGE_VERSION_NUMBER)
    if status:
        raise VersionError(
            f"the airs package {'.'.join(map(str, PACKAGE_VERSION))} cannot "
            f"use {LIBRARY_PATH}: {last_error_message()}", EVERSION)


_check_version()

LIBRARY_VERSION = lib.airs_version_string().decode()
