"""What a runtime shows about itself (``<airs/observe.h>``): its processes
and each one's info, links and monitors, the supervision trees, the
busiest processes, crash reports through a log hook, the metrics in
Prometheus text format, and the observer endpoint (an HTTP page).

The methods are :class:`airs.Runtime`'s (:class:`ObserveMixin`); the
constants, structs and function table below are the header's, checked
against it by tests/test_abi.py. ``python -m airs.top URL`` shows the
busiest processes of a program whose observer endpoint is at URL.
"""
from __future__ import annotations

import ctypes
import enum
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char, c_char_p, c_int,
                    c_int32, c_size_t, c_uint32, c_uint64, c_void_p)
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, List, Optional, Tuple

from . import _ffi, errors
from ._osl_ffi import Addr
from .events import Severity
from .pid import Pid
from .supervisor import ChildType

if TYPE_CHECKING:
    from ._types import PidLike

# ---------------------------------------------------------------------------
# observe.h
# ---------------------------------------------------------------------------

PINFO_TRAP_EXIT = 0x1
PINFO_SUPERVISOR = 0x2
PINFO_BATCH = 0x4
LABEL_MAX = 63
PROCESS_INFO_VERSION = 1
OBSERVER_NAME = "airs.observer"
TIMING_BUCKETS = 13
TIMING_PATTERNS_MAX = 16
TIMING_NAMES_MAX = 1024
TIMING_STAMPS_MAX = 4096
TIMING_VERSION = 1
METRICS_SOURCES_MAX = 16
# AIRS_TIMING_BOUND_NS(i): the upper bound of bucket i, in ns (the last
# bucket has none).
TIMING_BOUNDS_NS = tuple(1000 << (2 * i) for i in range(TIMING_BUCKETS - 1))


class ProcessState(enum.IntEnum):
    """airs_process_state: where a process is, as another thread sees it."""
    WAITING = 1
    RUNNABLE = 2
    EXITING = 3


class TopKey(enum.IntEnum):
    """airs_top_key: what :meth:`ObserveMixin.top` ranks by."""
    MAILBOX = 1
    HANDLED = 2
    MEMORY = 3


class ProcessInfoStruct(Structure):
    """airs_process_info."""
    _fields_ = [("version", c_uint32), ("size", c_uint32),
                ("pid", c_uint64), ("state", c_int32), ("flags", c_uint32),
                ("supervisor", c_uint64), ("mailbox_depth", c_uint64),
                ("messages_in", c_uint64), ("messages_handled", c_uint64),
                ("memory_bytes", c_uint64),
                ("name", c_char * (_ffi.NAME_MAX + 1)),
                ("label", c_char * (LABEL_MAX + 1))]


class ProcessTiesStruct(Structure):
    """airs_process_ties."""
    _fields_ = [("links", POINTER(c_uint64)), ("links_capacity", c_size_t),
                ("links_count", c_size_t),
                ("monitors", POINTER(c_uint64)),
                ("monitors_capacity", c_size_t),
                ("monitors_count", c_size_t),
                ("monitored_by", POINTER(c_uint64)),
                ("monitored_by_capacity", c_size_t),
                ("monitored_by_count", c_size_t)]


class TreeNodeStruct(Structure):
    """airs_tree_node (borrowed for the duration of a walk's call)."""
    _fields_ = [("pid", c_uint64), ("supervisor", c_uint64),
                ("depth", c_uint32), ("type", c_int32), ("state", c_int32),
                ("id", c_char_p)]


class TopEntryStruct(Structure):
    """airs_top_entry."""
    _fields_ = [("pid", c_uint64), ("value", c_uint64)]


class TimingHistogramStruct(Structure):
    """airs_timing_histogram."""
    _fields_ = [("count", c_uint64), ("sum_ns", c_uint64),
                ("buckets", c_uint64 * TIMING_BUCKETS)]


class TimingStruct(Structure):
    """airs_timing."""
    _fields_ = [("version", c_uint32), ("size", c_uint32),
                ("wait", TimingHistogramStruct),
                ("run", TimingHistogramStruct),
                ("wait_unmeasured", c_uint64)]


LOG_FN = CFUNCTYPE(None, c_void_p, c_int, c_char_p)
METRICS_FN = CFUNCTYPE(c_size_t, c_void_p, c_void_p, c_size_t)
TREE_FN = CFUNCTYPE(c_int, c_void_p, POINTER(TreeNodeStruct))

_RT = _ffi.RuntimeP
SIGNATURES = {
    "airs_pid_format": (c_size_t, [c_uint64, c_char_p, c_size_t]),
    "airs_process_list": (_ffi.STATUS, [_RT, c_uint64, POINTER(c_uint64),
                                        c_size_t, POINTER(c_size_t),
                                        POINTER(c_uint64)]),
    "airs_process_info_get": (_ffi.STATUS,
                              [_RT, c_uint64, POINTER(ProcessInfoStruct)]),
    "airs_set_label": (_ffi.STATUS, [c_void_p, c_char_p]),
    "airs_process_ties_get": (_ffi.STATUS, [_RT, c_uint64,
                                            POINTER(ProcessTiesStruct),
                                            c_uint32]),
    "airs_supervision_walk": (_ffi.STATUS, [_RT, c_uint64, c_void_p,
                                            c_void_p]),
    "airs_process_top": (_ffi.STATUS, [_RT, c_int, c_uint32,
                                       POINTER(TopEntryStruct), c_size_t,
                                       POINTER(c_size_t)]),
    "airs_set_log_hook": (_ffi.STATUS, [_RT, c_void_p, c_void_p, c_int]),
    "airs_metrics_write": (_ffi.STATUS, [_RT, c_char_p, c_size_t,
                                         POINTER(c_size_t)]),
    "airs_observer_open": (_ffi.STATUS, [_RT, c_char_p, POINTER(c_uint64),
                                         POINTER(Addr)]),
    "airs_metrics_source_add": (_ffi.STATUS, [_RT, c_void_p, c_void_p]),
    "airs_metrics_source_remove": (_ffi.STATUS, [_RT, c_void_p, c_void_p]),
    "airs_timing_track": (_ffi.STATUS, [_RT, c_char_p]),
    "airs_timing_untrack": (_ffi.STATUS, [_RT, c_char_p]),
    "airs_timing_get": (_ffi.STATUS, [_RT, c_char_p, POINTER(TimingStruct)]),
}
_ffi._bind(_ffi.lib, SIGNATURES, with_errcheck=True)
lib = _ffi.lib
_metrics_size = _ffi.CFUNCTYPE(c_int, _RT, c_char_p, c_size_t,
                               POINTER(c_size_t))(("airs_metrics_write", lib))


def pid_text(pid: int) -> str:
    """A pid as crash reports and the tools write it: <tag.slot.gen>."""
    buf = ctypes.create_string_buffer(40)
    lib.airs_pid_format(pid, buf, 40)
    return buf.value.decode()


# ---------------------------------------------------------------------------
# What the methods return.
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessInfo:
    """One process, as :meth:`ObserveMixin.process_info` read it."""
    pid: Pid
    state: ProcessState
    trap_exit: bool
    supervisor_process: bool  # it is a supervisor
    supervisor: Optional[Pid]  # the supervisor it is a child of
    mailbox_depth: int
    messages_in: int
    messages_handled: int
    memory_bytes: int
    name: str
    label: str


@dataclass(frozen=True)
class Ties:
    """A process's links and monitors (:meth:`ObserveMixin.ties`)."""
    links: Tuple[Pid, ...]
    monitors: Tuple[Pid, ...]
    monitored_by: Tuple[Pid, ...]


@dataclass(frozen=True)
class TreeNode:
    """One node of a supervision tree, depth first."""
    pid: Optional[Pid]  # None: a child that is not running
    supervisor: Optional[Pid]  # None: a root
    depth: int
    id: str
    is_supervisor: bool
    state: int  # an airs.ChildState


@dataclass(frozen=True)
class Histogram:
    """One histogram of :class:`Timing`: `buckets[i]` counts the samples
    above ``TIMING_BOUNDS_NS[i - 1]`` and at most ``TIMING_BOUNDS_NS[i]``
    (the last one: the rest); not cumulative."""
    count: int
    sum_ns: int
    buckets: Tuple[int, ...]


@dataclass(frozen=True)
class Timing:
    """The histograms of a timed name (:meth:`ObserveMixin.timing`)."""
    wait: Histogram  # each message, from its send to its receive
    run: Histogram  # each receive call
    wait_unmeasured: int  # sent while TIMING_STAMPS_MAX were being timed


def _histogram(raw: TimingHistogramStruct) -> Histogram:
    return Histogram(raw.count, raw.sum_ns, tuple(raw.buckets))


def _pid_or_none(value: int) -> Optional[Pid]:
    return Pid(value) if value else None


class ObserveMixin:
    """The observe.h methods of :class:`airs.Runtime`."""

    _handle: Any
    _log_hook: Any = None  # the installed LOG_FN, kept alive

    def processes(self) -> List[Pid]:
        """Every live process, in slot order (a snapshot). [any thread]"""
        out: List[Pid] = []
        page = (c_uint64 * 1024)()
        count, cursor, following = c_size_t(), 0, c_uint64(1)
        while True:
            lib.airs_process_list(self._handle, cursor, page, 1024,
                                  ctypes.byref(count),
                                  ctypes.byref(following))
            out.extend(Pid(page[i]) for i in range(count.value))
            if following.value == 0:
                return out
            cursor = following.value

    def process_info(self, pid: PidLike) -> ProcessInfo:
        """A :class:`ProcessInfo` of live `pid`, read without asking it.
        NoProcessError: not alive. [any thread]"""
        raw = ProcessInfoStruct()
        raw.version = PROCESS_INFO_VERSION
        raw.size = ctypes.sizeof(raw)
        lib.airs_process_info_get(self._handle, int(pid), ctypes.byref(raw))
        return ProcessInfo(
            Pid(raw.pid), ProcessState(raw.state),
            bool(raw.flags & PINFO_TRAP_EXIT),
            bool(raw.flags & PINFO_SUPERVISOR),
            _pid_or_none(raw.supervisor), raw.mailbox_depth,
            raw.messages_in, raw.messages_handled, raw.memory_bytes,
            raw.name.decode("utf-8", "replace"),
            raw.label.decode("utf-8", "replace"))

    def ties(self, pid: PidLike, timeout_ms: int = 5000) -> Ties:
        """`pid`'s links and monitors, asked of the process (it answers
        between two messages). NoProcessError, TimeoutError. [not inside
        an actor]"""
        raw = ProcessTiesStruct()
        lib.airs_process_ties_get(self._handle, int(pid), ctypes.byref(raw),
                                  timeout_ms)
        arrays = []
        for name in ("links", "monitors", "monitored_by"):
            n = getattr(raw, name + "_count")
            arr = (c_uint64 * max(n, 1))()
            setattr(raw, name, arr)
            setattr(raw, name + "_capacity", n)
            arrays.append(arr)
        lib.airs_process_ties_get(self._handle, int(pid), ctypes.byref(raw),
                                  timeout_ms)
        # A tie made between the two calls is left out: a snapshot.
        return Ties(*(tuple(Pid(a[i]) for i in range(min(
            getattr(raw, name + "_count"), getattr(raw, name + "_capacity"))))
            for a, name in zip(arrays, ("links", "monitors",
                                        "monitored_by"))))

    def supervision_tree(self, root: Optional[PidLike] = None
                         ) -> List[TreeNode]:
        """Every supervision tree (or the one under `root`), depth first,
        a supervisor before its children. [any thread]"""
        nodes: List[TreeNode] = []

        def visit(_user, node):
            n = node.contents
            nodes.append(TreeNode(_pid_or_none(n.pid),
                                  _pid_or_none(n.supervisor), n.depth,
                                  (n.id or b"").decode("utf-8", "replace"),
                                  n.type == ChildType.SUPERVISOR, n.state))
            return 0

        fn = TREE_FN(visit)
        lib.airs_supervision_walk(self._handle, int(root or 0),
                                  ctypes.cast(fn, c_void_p), None)
        return nodes

    def top(self, key: TopKey = TopKey.HANDLED, window_ms: int = 1000,
            n: int = 10) -> List[Tuple[Pid, int]]:
        """The `n` processes with the largest `key` over a window of
        `window_ms` (recon's proc_window): (pid, value) pairs, largest
        first. Blocks for the window. [not inside an actor, unless
        window_ms is 0]"""
        out = (TopEntryStruct * n)()
        count = c_size_t()
        lib.airs_process_top(self._handle, int(key), window_ms, out, n,
                             ctypes.byref(count))
        return [(Pid(out[i].pid), out[i].value) for i in range(count.value)]

    def metrics(self) -> str:
        """The metrics in Prometheus text format. [any thread]"""
        size = c_size_t()
        for _ in range(3):  # the numbers may grow between size and text
            _metrics_size(self._handle, None, 0, ctypes.byref(size))
            buf = ctypes.create_string_buffer(size.value + 256)
            if _metrics_size(self._handle, buf, len(buf),
                             ctypes.byref(size)) == 0:
                return buf.value.decode()
        lib.airs_metrics_write(self._handle, buf, len(buf),
                               ctypes.byref(size))
        return buf.value.decode()

    def add_metrics_source(self, source: Callable[[], str]) -> None:
        """Adds `source()`, which returns lines of Prometheus text (# HELP,
        # TYPE, samples), to every exposition of :meth:`metrics` and of
        the observer's /metrics, after the runtime's own. It runs on the
        thread that asks for the metrics. AlreadyExistsError: added
        already; LimitError: METRICS_SOURCES_MAX are. [any thread]"""
        def call(_user, buf, capacity):
            try:
                text = source().encode()
            except Exception:  # a source's failure must not reach C
                text = b""
            if text and not text.endswith(b"\n"):
                text += b"\n"
            if buf and capacity:
                n = min(len(text), capacity - 1)
                ctypes.memmove(buf, text, n)
                ctypes.memset(buf + n, 0, 1)
            return len(text)

        fn = METRICS_FN(call)
        sources = self.__dict__.setdefault("_metrics_sources", {})
        if source in sources:
            raise errors.AlreadyExistsError("the source is added already")
        lib.airs_metrics_source_add(self._handle, ctypes.cast(fn, c_void_p),
                                    None)
        sources[source] = fn

    def remove_metrics_source(self, source: Callable[[], str]) -> None:
        """Removes a source of :meth:`add_metrics_source`; once this
        returns it is not running and will not run again. NotFoundError:
        not added. [any thread]"""
        sources = self.__dict__.get("_metrics_sources", {})
        fn = sources.get(source)
        if fn is None:
            raise errors.NotFoundError("not a metrics source")
        lib.airs_metrics_source_remove(self._handle,
                                       ctypes.cast(fn, c_void_p), None)
        del sources[source]

    def track_timing(self, pattern: str) -> None:
        """Times the processes whose registered names match `pattern` (a
        shell glob): how long each message waits and each receive takes.
        AlreadyExistsError: tracked already; LimitError: TIMING_PATTERNS_MAX
        patterns are. [any thread]"""
        lib.airs_timing_track(self._handle, pattern.encode())

    def untrack_timing(self, pattern: str) -> None:
        """Stops :meth:`track_timing` of `pattern` (the histograms stay).
        NotFoundError: not tracked. [any thread]"""
        lib.airs_timing_untrack(self._handle, pattern.encode())

    def timing(self, name: str) -> Timing:
        """The histograms of timed name `name`. NotFoundError: never
        timed. [any thread]"""
        raw = TimingStruct()
        raw.version = TIMING_VERSION
        raw.size = ctypes.sizeof(raw)
        lib.airs_timing_get(self._handle, name.encode(), ctypes.byref(raw))
        return Timing(_histogram(raw.wait), _histogram(raw.run),
                      raw.wait_unmeasured)

    def set_log_hook(self, hook: Optional[Callable[[Severity, str], object]],
                     min_severity: Severity = Severity.WARNING) -> None:
        """Installs `hook(severity, line)` for crash reports and the
        supervisors' reports of `min_severity` and above (instead of the
        crash reports on stderr), or removes it with None. The hook runs on
        the runtime's threads: it must not block. [any thread]"""
        if hook is None:
            lib.airs_set_log_hook(self._handle, None, None, 0)
            return

        def call(_user, severity, line):
            try:
                hook(Severity(severity), line.decode("utf-8", "replace"))
            except Exception:  # a hook's failure must not reach C
                pass

        fn = LOG_FN(call)
        lib.airs_set_log_hook(self._handle, ctypes.cast(fn, c_void_p), None,
                              int(min_severity))
        # A replaced hook may still run shortly after: keep every one.
        kept = getattr(self, "_log_hooks", [])
        kept.append(fn)
        self._log_hooks = kept

    def open_observer(self, addr: str = "127.0.0.1:0") -> Tuple[Pid, str]:
        """Opens the observer endpoint (an HTTP page, /metrics, JSON views)
        on `addr`; returns its process and its URL. AlreadyExistsError: open
        already. [any thread]"""
        pid = c_uint64()
        bound = Addr()
        lib.airs_observer_open(self._handle, addr.encode(),
                               ctypes.byref(pid), ctypes.byref(bound))
        text = ctypes.create_string_buffer(64)
        _addr_format(ctypes.byref(bound), text, 64)
        return Pid(pid.value), f"http://{text.value.decode()}/"


_addr_format = lib.airs_addr_format
