"""Supervision trees with OTP semantics, mirroring ``<airs/supervisor.h>``.

Describe a tree with :class:`SupervisorSpec` and :class:`ChildSpec` (plain
Python objects, reusable, not tied to a runtime), then start it with
:meth:`airs.Runtime.start_supervisor`, which builds the C specs for that
runtime and returns a :class:`Supervisor` handle for the operations.

A child is either a Python actor, made by its factory on every (re)start
(so a restart always has fresh state), or a nested supervisor
(``supervisor=SupervisorSpec(...)``). Strategies, restart policies,
shutdowns, intensity, backoff, auto-shutdown and health checks are the C
runtime's; see supervisor.h for the exact semantics. Every decision is
reported to the event hook (:meth:`airs.Runtime.set_event_hook`).

Threads: every operation is any-thread, actor callbacks included. Outside
a callback the C call waits for a restart in progress and for a terminated
child's end, with the GIL released (Python actors keep running); inside
one it never waits.
"""
from __future__ import annotations

import copy
import ctypes
import enum
from dataclasses import dataclass
from typing import (TYPE_CHECKING, Any, Callable, Iterable, List, Mapping,
                    Optional, Union)

from . import _ffi
from ._names import encode_name
from ._spawning import raise_start_error, spawn_opts
from ._starts import ActorStart, clear_start_failure
from ._ints import u32
from .errors import AirsError
from .pid import Pid, pid_or_none

if TYPE_CHECKING:
    from ._types import Factory, Name, PidLike
    from .runtime import Runtime

lib = _ffi.lib


class Strategy(enum.IntEnum):
    """airs_strategy."""
    ONE_FOR_ONE = 0
    ONE_FOR_ALL = 1
    REST_FOR_ONE = 2
    SIMPLE_ONE_FOR_ONE = 3


class Restart(enum.IntEnum):
    """airs_restart."""
    PERMANENT = 0  #: always restarted
    TRANSIENT = 1  #: restarted unless it ended normal or shutdown
    TEMPORARY = 2  #: never restarted; its spec is dropped when it ends


class Shutdown(enum.IntEnum):
    """airs_shutdown: how a supervisor stops a child."""
    BRUTAL_KILL = 0
    TIMEOUT = 1   #: a shutdown exit signal, then kill after shutdown_ms
    INFINITY = 2  #: a shutdown exit signal, wait for ever (supervisors)
    DEFAULT = 3   #: OTP's: INFINITY for a supervisor, else TIMEOUT


class ChildType(enum.IntEnum):
    """airs_child_type."""
    WORKER = 0
    SUPERVISOR = 1


class AutoShutdown(enum.IntEnum):
    """airs_auto_shutdown."""
    NEVER = 0
    ANY_SIGNIFICANT = 1
    ALL_SIGNIFICANT = 2


class ChildState(enum.IntEnum):
    """airs_child_state."""
    RUNNING = 0
    RESTARTING = 1
    STOPPED = 2
    STOPPING = 3


class ChildSpec:
    """One child of a supervisor (airs_child_spec).

    Exactly one of `factory` (a Python actor: ``factory(*args,
    **kwargs)`` on every start) and `supervisor` (a nested
    :class:`SupervisorSpec`) is given. `id` is unique within the
    supervisor (1..63 bytes; ignored for a simple_one_for_one template).
    `name` registers each start under that name, so a restarted child keeps
    it. The mailbox options apply to each start. The C library validates
    the values when the spec is used (InvalidArgumentError with its
    message).
    """

    def __init__(self, id: Optional[Name], factory: Optional[Factory] = None,
                 args: Iterable[Any] = (),
                 kwargs: Optional[Mapping[str, Any]] = None, *,
                 supervisor: Optional[SupervisorSpec] = None,
                 restart: int = Restart.PERMANENT,
                 shutdown: int = Shutdown.DEFAULT, shutdown_ms: int = 5000,
                 significant: bool = False, name: Optional[Name] = None,
                 type: Optional[int] = None,
                 mailbox_capacity: Optional[int] = None,
                 mailbox_policy: Optional[int] = None,
                 block_timeout_ms: Optional[int] = None) -> None:
        if (factory is None) == (supervisor is None):
            raise ValueError("a child spec needs exactly one of factory "
                             "and supervisor")
        self.id = id
        self.start = (ActorStart(factory, args, kwargs)
                      if factory is not None else None)
        self.supervisor = supervisor
        self.restart = restart
        self.shutdown = shutdown
        self.shutdown_ms = shutdown_ms
        self.significant = significant
        self.name = name
        self.type = type
        self.mailbox = dict(mailbox_capacity=mailbox_capacity,
                            mailbox_policy=mailbox_policy,
                            block_timeout_ms=block_timeout_ms)

    def __repr__(self) -> str:
        what = (self.start.factory if self.start is not None
                else "supervisor")
        return f"<ChildSpec {self.id!r} {what!r}>"


class SupervisorSpec:
    """Flags and children of a supervisor (airs_sup_spec + airs_sup_flags).

    Defaults are OTP's: one_for_one, at most 1 restart in 5000 ms. A
    simple_one_for_one spec has exactly one child, the template of the
    children started by :meth:`Supervisor.start_dynamic_child`.
    """

    def __init__(self, children: Iterable[ChildSpec] = (), *,
                 strategy: int = Strategy.ONE_FOR_ONE, intensity: int = 1,
                 period_ms: int = 5000, backoff_base_ms: int = 0,
                 backoff_max_ms: int = 0,
                 auto_shutdown: int = AutoShutdown.NEVER,
                 health_interval_ms: int = 0, health_timeout_ms: int = 1000,
                 health_threshold: int = 3) -> None:
        self.children = list(children)
        self.strategy = strategy
        self.intensity = intensity
        self.period_ms = period_ms
        self.backoff_base_ms = backoff_base_ms
        self.backoff_max_ms = backoff_max_ms
        self.auto_shutdown = auto_shutdown
        self.health_interval_ms = health_interval_ms
        self.health_timeout_ms = health_timeout_ms
        self.health_threshold = health_threshold

    def child(self, id: Name) -> ChildSpec:
        """The ChildSpec with this id (KeyError if none)."""
        for child in self.children:
            if child.id == id:
                return child
        raise KeyError(id)


@dataclass(frozen=True)
class ChildInfo:
    """One row of :meth:`Supervisor.which_children`."""
    id: str
    pid: Optional[Pid]
    type: ChildType
    state: ChildState


@dataclass(frozen=True)
class ChildCounts:
    """:meth:`Supervisor.count_children`, as OTP's count_children."""
    specs: int
    active: int
    supervisors: int
    workers: int


# ---------------------------------------------------------------------------
# Building the C specs for one runtime.
# ---------------------------------------------------------------------------


def build_sup_spec(core: Any, spec: SupervisorSpec) -> Any:
    """A new airs_sup_spec* (a SupSpecP) for `spec` on the runtime of
    `core`; the caller owns one reference (airs_sup_spec_free)."""
    flags = _ffi.SupFlags()
    flags.version = _ffi.SUP_FLAGS_VERSION
    flags.size = ctypes.sizeof(flags)
    lib.airs_sup_flags_init(ctypes.byref(flags))
    flags.strategy = int(spec.strategy)
    flags.intensity = u32(spec.intensity, "intensity")
    flags.period_ms = u32(spec.period_ms, "period_ms")
    flags.backoff_base_ms = u32(spec.backoff_base_ms, "backoff_base_ms")
    flags.backoff_max_ms = u32(spec.backoff_max_ms, "backoff_max_ms")
    flags.auto_shutdown = int(spec.auto_shutdown)
    flags.health_interval_ms = u32(spec.health_interval_ms, "health_interval_ms")
    flags.health_timeout_ms = u32(spec.health_timeout_ms, "health_timeout_ms")
    flags.health_threshold = u32(spec.health_threshold, "health_threshold")
    out = _ffi.SupSpecP()
    lib.airs_sup_spec_new(ctypes.byref(flags), ctypes.byref(out))
    try:
        for child in spec.children:
            with_child_struct(core, child, lambda c_child: (
                lib.airs_sup_spec_add_child(out, ctypes.byref(c_child))))
    except BaseException:
        lib.airs_sup_spec_free(out)
        raise
    return out


def with_child_struct(core: Any, child: ChildSpec,
                      call: Callable[[Any], Any]) -> Any:
    """Fills an airs_child_spec for `child` and runs ``call(struct)``;
    the struct and everything it points to stay alive for the call. The
    actor start is registered last, right before the call, which takes it
    in every case (C frees it through user_data_free even on failure)."""
    if not isinstance(child, ChildSpec):
        raise TypeError(f"expected a ChildSpec, not {type(child).__name__}")
    c_child = _ffi.ChildSpecStruct()
    c_child.version = _ffi.CHILD_SPEC_VERSION
    c_child.size = ctypes.sizeof(c_child)
    lib.airs_child_spec_init(ctypes.byref(c_child))
    if child.id is not None:
        c_child.id = encode_name(child.id, "child id")
    c_child.restart = int(child.restart)
    c_child.shutdown = int(child.shutdown)
    c_child.shutdown_ms = u32(child.shutdown_ms, "shutdown_ms")
    if child.type is not None:
        c_child.type = int(child.type)
    c_child.flags = _ffi.CHILD_SIGNIFICANT if child.significant else 0
    if child.name is not None:
        c_child.name = encode_name(child.name)
    opts = spawn_opts(core.handle, **child.mailbox)
    if opts is not None:
        c_child.opts = ctypes.pointer(opts)
    nested = None
    if child.supervisor is not None:
        nested = build_sup_spec(core, child.supervisor)
        c_child.supervisor = nested
        if child.type is None:
            c_child.type = ChildType.SUPERVISOR
    try:
        if child.start is not None:
            c_child.behaviour = ctypes.pointer(core.behaviour)
            c_child.user_data = core.add_start(child.start)
            c_child.user_data_free = core.spec_free_address
        return call(c_child)
    finally:
        # The parent spec (or the supervisor) keeps its own reference.
        if nested is not None:
            lib.airs_sup_spec_free(nested)


def start_supervisor(runtime: Runtime, spec: SupervisorSpec) -> Supervisor:
    """Starts the tree of `spec` on `runtime` (see
    :meth:`airs.Runtime.start_supervisor`)."""
    if not isinstance(spec, SupervisorSpec):
        raise TypeError(f"expected a SupervisorSpec, not "
                        f"{type(spec).__name__}")
    core = runtime._core
    c_spec = build_sup_spec(core, spec)
    out = ctypes.c_uint64()
    clear_start_failure()
    try:
        lib.airs_supervisor_start(core.handle, c_spec, ctypes.byref(out))
    except AirsError as e:
        raise_start_error(e)
    finally:
        lib.airs_sup_spec_free(c_spec)
    # The handle keeps its own copy: start_child / delete_child change its
    # list of children, never the caller's reusable spec.
    own = copy.copy(spec)
    own.children = list(spec.children)
    return Supervisor(runtime, Pid(out.value), own)


class Supervisor:
    """A running supervisor: its ``pid`` and the operations of
    supervisor.h. ``spec`` is the SupervisorSpec it was started from (it is
    needed for :meth:`start_dynamic_child` and :meth:`child_supervisor`).
    Common errors: NoProcessError (the supervisor has ended),
    InvalidArgumentError (not a supervisor, or an operation its strategy
    does not have), StateError (called from a callback the supervisor
    itself is running, such as a child's on_start during a start, or the
    supervisor is busy and the caller is inside a callback)."""

    def __init__(self, runtime: Runtime, pid: PidLike,
                 spec: Optional[SupervisorSpec] = None) -> None:
        self.runtime = runtime
        self.pid = Pid(pid)
        self.spec = spec

    def __repr__(self) -> str:
        return f"<Supervisor {self.pid}>"

    @property
    def _handle(self) -> Any:
        return self.runtime._handle

    def start_child(self, child: ChildSpec) -> Pid:
        """Adds `child` (a ChildSpec) at the end and starts it; returns its
        pid. AlreadyExistsError: the id is taken. ActorStartError: its
        factory or on_start raised."""
        core = self.runtime._core
        out = ctypes.c_uint64()
        clear_start_failure()
        try:
            with_child_struct(core, child, lambda c_child: (
                lib.airs_supervisor_start_child(
                    core.handle, self.pid, ctypes.byref(c_child),
                    ctypes.byref(out))))
        except AirsError as e:
            raise_start_error(e)
        if self.spec is not None:
            self.spec.children.append(child)
        return Pid(out.value)

    def start_dynamic_child(self, *args: Any) -> Pid:
        """simple_one_for_one: starts a child from the template, whose
        factory gets the template's args followed by `args` (on every
        restart too). Returns its pid."""
        if self.spec is None or not self.spec.children:
            raise ValueError("start_dynamic_child needs the supervisor's "
                             "SupervisorSpec (Supervisor.spec)")
        template = self.spec.children[0]
        if template.start is None:
            raise ValueError("the template of a dynamic supervisor must be "
                             "an actor factory")
        core = self.runtime._core
        handle = core.add_start(template.start.with_extra_args(args))
        out = ctypes.c_uint64()
        clear_start_failure()
        try:
            lib.airs_supervisor_start_dynamic_child(
                core.handle, self.pid, handle, core.spec_free_address,
                ctypes.byref(out))
        except AirsError as e:
            raise_start_error(e)
        return Pid(out.value)

    def terminate_child(self, child: Union[Name, PidLike]) -> None:
        """Stops a running child, named by id (str), or by pid in a
        SIMPLE_ONE_FOR_ONE supervisor (as OTP), by its shutdown spec;
        returns once it has ended (outside callbacks). A stopped child
        keeps its spec (except temporary and dynamic children).
        NotFoundError: no such child."""
        if isinstance(child, int):
            lib.airs_supervisor_terminate_child_pid(self._handle, self.pid,
                                                    child)
        else:
            lib.airs_supervisor_terminate_child(
                self._handle, self.pid, encode_name(child, "child id"))

    def restart_child(self, id: Name) -> Pid:
        """Starts a STOPPED child again; returns its new pid.
        StateError: it is not stopped."""
        out = ctypes.c_uint64()
        clear_start_failure()
        try:
            lib.airs_supervisor_restart_child(
                self._handle, self.pid, encode_name(id, "child id"),
                ctypes.byref(out))
        except AirsError as e:
            raise_start_error(e)
        return Pid(out.value)

    def delete_child(self, id: Name) -> None:
        """Removes the spec of a STOPPED child. StateError: not stopped."""
        encoded = encode_name(id, "child id")
        lib.airs_supervisor_delete_child(self._handle, self.pid, encoded)
        if self.spec is not None:  # the same id, given as str or bytes
            self.spec.children = [
                c for c in self.spec.children
                if encode_name(c.id, "child id") != encoded]

    def which_children(self) -> List[ChildInfo]:
        """The children in start order, as :class:`ChildInfo` rows."""
        capacity = 16
        while True:
            rows = (_ffi.ChildInfoStruct * capacity)()
            count = ctypes.c_size_t()
            lib.airs_supervisor_which_children(self._handle, self.pid, rows,
                                               capacity, ctypes.byref(count))
            if count.value <= capacity:
                return [ChildInfo(row.id.decode("utf-8", "replace"),
                                  pid_or_none(row.pid), ChildType(row.type),
                                  ChildState(row.state))
                        for row in rows[:count.value]]
            capacity = count.value * 2

    def count_children(self) -> ChildCounts:
        """A :class:`ChildCounts`."""
        raw = _ffi.ChildCountsStruct()
        lib.airs_supervisor_count_children(self._handle, self.pid,
                                           ctypes.byref(raw))
        return ChildCounts(raw.specs, raw.active, raw.supervisors,
                           raw.workers)

    def child_pid(self, id: str) -> Optional[Pid]:
        """The pid of child `id`: None if it is not running (stopped, or
        restarting). KeyError: the supervisor has no child `id`."""
        for info in self.which_children():
            if info.id == id:
                return info.pid
        raise KeyError(id)

    def child_supervisor(self, id: str) -> Supervisor:
        """A Supervisor handle for the running child supervisor `id` (with
        its nested spec, so that dynamic starts work on it)."""
        pid = self.child_pid(id)
        if pid is None:
            raise KeyError(f"child {id!r} is not running")
        nested = self.spec.child(id).supervisor if self.spec else None
        return Supervisor(self.runtime, pid, nested)

    def stop(self, timeout_ms: int = 5000) -> None:
        """Asks the supervisor to shut down (its children stop in reverse
        start order) and waits until it has ended. [not inside a
        callback]"""
        self.runtime.stop(self.pid)
        self.runtime.wait(self.pid, timeout_ms)
