"""The :class:`Runtime`: one C runtime (its processes and worker threads)
and the Python objects that live as long as it does."""
from __future__ import annotations

import atexit
import ctypes
import threading
from typing import (TYPE_CHECKING, Any, Iterable, List, Mapping, Optional,
                    TypeVar)

from . import _ffi, _outbound, _spawning, supervisor
from ._dispatch import RuntimeCore
from . import _blocking, _threads, _turn
from .broker import BrokerMixin
from ._ints import I64_MAX, I64_MIN, check_int, u32, u64
from .errors import OK, ProcessExitedError, StateError, TimeoutError
from .message import check_user_type
from .monitoring import MonitoringMixin
from .observe import ObserveMixin
from .pid import Pid
from .reasons import ExitKind
from .registry import RegistryMixin
from .timers import TimerMixin

if TYPE_CHECKING:
    from ._types import CodecLike, Dest, Factory, Name, PidLike
    # By name: the method Runtime.supervisor hides the module there.
    from .supervisor import Supervisor, SupervisorSpec

lib = _ffi.lib
fast = _ffi.fast
# Answers AIRS_ESTATE for a freed runtime, AIRS_OK for a live one.
_probe_runtime = _ffi.raw("airs_spawn_opts_init")

# Every open runtime, so that the atexit handler can close them before the
# interpreter finalizes (a callback arriving after that could not run).
_open_runtimes: List[Runtime] = []
_open_lock = threading.Lock()
# A subclass's `with` gives the subclass.
_Runtime = TypeVar("_Runtime", bound="Runtime")


class Runtime(RegistryMixin, BrokerMixin, TimerMixin, MonitoringMixin,
              ObserveMixin):
    """An actor runtime: processes, their mailboxes and the worker threads
    that run them (``airs_runtime_new``).

    Use it as a context manager, or call :meth:`close`; runtimes still
    open at interpreter exit are closed by an ``atexit`` handler (until
    then an open runtime stays alive even when no longer referenced: its
    actors are still running). Several
    runtimes may live in one process; pids and actors of one are
    meaningless to another.

    Arguments (None keeps the library's default; the library checks the
    ranges and raises InvalidArgumentError with its message):
    ``workers`` (default: one per core; 0 = host-driven mode, where
    callbacks run only inside :meth:`poll` / :meth:`wait` / :meth:`call`
    on the calling thread), ``mailbox_capacity`` (0 = unbounded),
    ``mailbox_policy`` (:class:`airs.MailboxPolicy`), ``block_timeout_ms``,
    ``max_processes``, ``shutdown_timeout_ms``, ``budget`` (messages per
    turn), ``manual_clock`` (timers move only with :meth:`advance_time`),
    ``events`` (False: never build events), ``codec`` (the default codec,
    see :mod:`airs.codec`).

    Threads: every method is any-thread unless it says otherwise. Calls
    that wait (close, wait, call, supervisor operations) release the GIL
    while they wait, so Python actors keep running.
    """

    def __init__(self, workers: Optional[int] = None, *,
                 mailbox_capacity: Optional[int] = None,
                 mailbox_policy: Optional[int] = None,
                 block_timeout_ms: Optional[int] = None,
                 max_processes: Optional[int] = None,
                 shutdown_timeout_ms: Optional[int] = None,
                 budget: Optional[int] = None,
                 manual_clock: Optional[bool] = None,
                 events: Optional[bool] = None,
                 codec: Optional[CodecLike] = None) -> None:
        settings = ((_ffi.CFG_WORKERS, workers),
                    (_ffi.CFG_MAILBOX_CAPACITY, mailbox_capacity),
                    (_ffi.CFG_MAILBOX_POLICY, mailbox_policy),
                    (_ffi.CFG_BLOCK_TIMEOUT_MS, block_timeout_ms),
                    (_ffi.CFG_MAX_PROCESSES, max_processes),
                    (_ffi.CFG_SHUTDOWN_TIMEOUT_MS, shutdown_timeout_ms),
                    (_ffi.CFG_BUDGET, budget),
                    (_ffi.CFG_MANUAL_CLOCK, manual_clock),
                    (_ffi.CFG_EVENTS, events))
        self._handle = None
        self._closed = False
        if codec is not None:  # checked before anything is created
            check_user_type(codec.type_tag)
        config = _ffi.ConfigP()
        lib.airs_config_new(ctypes.byref(config))
        try:
            for key, value in settings:
                if value is not None:
                    value = check_int(int(value), I64_MIN, I64_MAX,
                                      "a runtime setting")
                    lib.airs_config_set(config, key, value)
            _threads.install(config)
            handle = _ffi.RuntimeP()
            # GIL released: the new threads' first act is the thread hook,
            # which takes it (and a failing start joins them).
            lib.airs_runtime_new(config, ctypes.byref(handle))
            # Host-driven (0 workers): waits run processes on the waiting
            # thread, so they stay on it (see airs._blocking).
            value = ctypes.c_int64()
            lib.airs_config_get(config, _ffi.CFG_WORKERS, ctypes.byref(value))
            self._host_driven = value.value == 0
        finally:
            lib.airs_config_free(config)
        self._handle = handle  # an airs_runtime* (typed pointer)
        self._core = RuntimeCore(self, handle)
        with _open_lock:
            _open_runtimes.append(self)
        # Always installed: it releases the Python objects of messages that
        # are never delivered (see airs._dispatch).
        lib.airs_set_dead_letter_hook(self._handle,
                                      self._core.dead_letter_address,
                                      None)
        if codec is not None:
            self.default_codec = codec

    # -- lifetime -----------------------------------------------------------

    def close(self) -> None:
        """Stops every process (supervision trees top-down; each gets a
        shutdown exit signal, then a kill after the shutdown timeout), runs
        every on_stop, joins the threads and frees everything; then
        releases every Python object the runtime still held. Closing twice
        is fine. StateError: called from an actor callback of this runtime
        (nothing is closed). [not inside a callback of this runtime]"""
        if self._closed or self._handle is None:
            return
        lib.airs_runtime_free(self._handle)
        # airs_runtime_free returns void: it did nothing if it was refused
        # (inside a callback). A freed handle answers ESTATE to anything.
        opts = _ffi.SpawnOpts()
        status = _probe_runtime(self._handle, ctypes.byref(opts))
        if status == OK:
            raise StateError(
                "close: refused (called inside an actor callback?): "
                + _ffi.last_error_message())
        self._closed = True
        self._core.released()
        with _open_lock:
            if self in _open_runtimes:
                _open_runtimes.remove(self)

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has run."""
        return self._closed

    def __enter__(self: _Runtime) -> _Runtime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        address = ctypes.cast(self._handle, ctypes.c_void_p).value or 0
        return f"<airs.Runtime {state} at {address:#x}>"

    # -- processes ----------------------------------------------------------

    def spawn(self, factory: Factory, args: Iterable[Any] = (),
              kwargs: Optional[Mapping[str, Any]] = None, *,
              name: Optional[Name] = None, trap_exit: bool = False,
              mailbox_capacity: Optional[int] = None,
              mailbox_policy: Optional[int] = None,
              block_timeout_ms: Optional[int] = None) -> Pid:
        """Starts a Python actor made by ``factory(*args, **kwargs)`` and
        returns its Pid; its ``on_start`` has run (on this thread) when
        this returns. `name` registers it before on_start (released when it
        ends); `trap_exit` starts it trapping exits; the mailbox options
        override the runtime's defaults for it.

        Raises ActorStartError (the factory or on_start raised; the cause
        is the Python exception), AlreadyExistsError (name taken),
        LimitError (max processes), StateError (closing/closed)."""
        return _spawning.spawn(self._core, None, factory, args, kwargs, name,
                               False, trap_exit, mailbox_capacity,
                               mailbox_policy, block_timeout_ms)

    def send(self, to: Dest, message: Any, type: int = 0,
             codec: Optional[CodecLike] = None, priority: int = 0) -> None:
        """Sends `message` to `to` (a Pid or a registered name) from this
        thread (inside an actor callback the sender is that actor; prefer
        :meth:`airs.Actor.send` there). Python objects go by reference to
        Python actors; bytes are copied with tag `type`; otherwise a codec
        is needed (see :mod:`airs._outbound`). With a BLOCK-policy mailbox
        this may wait (GIL released). NoProcessError, MailboxFullError,
        TimeoutError (BLOCK), TypeError."""
        _outbound.send(self._core, None, to, message, type, codec, priority)

    def call(self, to: Dest, message: Any, timeout_ms: int = 5000,
             type: int = 0, codec: Optional[CodecLike] = None) -> Any:
        """Sends `message` to `to` as a request and waits (GIL released) for
        the reply, which is returned: the object the actor passed to
        :meth:`airs.Actor.reply`, or bytes / a codec-decoded value from a C
        actor. TimeoutError: no reply within `timeout_ms` (a later one is
        dropped). NoProcessError: `to` is not alive; ProcessExitedError (a
        NoProcessError too): it ended before it replied, at once, with its
        reason in the message (as gen_server:call). MailboxFullError: its
        mailbox is full (with policy BLOCK: it stayed full). StateError: inside an
        actor callback (use :meth:`airs.Actor.request`). On the main thread
        Ctrl-C interrupts the wait at once (the request stays sent; a late
        reply is freed). [not inside a callback]

        A system actor's request (:mod:`airs.osl`) goes as it is and the
        typed reply is returned unchecked (``reply.check()`` raises its
        failure)."""
        core = self._core
        to = _outbound.resolve(core, to)
        timeout_ms = u32(timeout_ms, "timeout_ms")
        msg, ref = _outbound.request_msg(core, to, message, type, codec)

        def send_and_wait():
            reply = ctypes.c_void_p()
            try:
                lib.airs_call(self._handle, to, msg, timeout_ms,
                              ctypes.byref(reply))
            except (TimeoutError, ProcessExitedError):
                # The request was sent (C consumed it; its reference is
                # released by the receiver or the dead-letter hook):
                # nothing is ours to free. Every other failure means not
                # sent.
                raise
            except BaseException:
                _outbound.free_msg(core, msg, ref)
                raise
            return reply.value

        reply = self._blocking_call(send_and_wait)
        try:
            return core.decode_value(reply)
        finally:
            lib.airs_msg_free(reply)

    def _blocking_call(self, fn):
        """fn() (an airs_call, returning the reply message), so that
        Ctrl-C interrupts the main thread's wait (airs._blocking); an
        abandoned reply is decoded (releasing its references) and
        freed."""
        if self._host_driven:
            return fn()
        core = self._core

        def abandon(reply):
            try:
                core.decode_value(reply)
            finally:
                lib.airs_msg_free(reply)

        return _blocking.call(fn, abandon)

    def stop(self, pid: PidLike) -> None:
        """Sends `pid` a shutdown exit signal (a polite, trappable stop).
        NoProcessError: not alive."""
        _turn.flush_current()
        lib.airs_stop(self._handle, pid)

    def kill(self, pid: PidLike) -> None:
        """Ends `pid` with reason killed; cannot be trapped.
        NoProcessError: not alive."""
        _turn.flush_current()
        lib.airs_kill(self._handle, pid)
        actor = _turn.current()
        if actor is not None and actor.pid == pid:
            # Killed itself inside a batch: no further message of it.
            actor._stopping = True

    def send_exit(self, pid: PidLike, kind: int = ExitKind.SHUTDOWN,
                  code: int = 0, text: str = "") -> None:
        """Sends `pid` an exit signal with this reason (Erlang's exit/2): a
        trapping process gets an :class:`airs.ExitSignal`; otherwise a
        NORMAL one is ignored and any other ends it."""
        _turn.flush_current()
        lib.airs_send_exit(self._handle, pid, int(kind), code,
                           text.encode("utf-8", "replace") if text else None)

    def wait(self, pid: PidLike, timeout_ms: int = 5000) -> None:
        """Waits (GIL released) until `pid` has ended; at once if it has.
        TimeoutError after `timeout_ms`. In host-driven mode this thread
        runs the processes meanwhile. On the main thread Ctrl-C interrupts
        it within 50 ms. [not inside a callback]"""
        _blocking.wait(self._handle, pid, u32(timeout_ms, "timeout_ms"))

    def is_alive(self, pid: PidLike) -> bool:
        """True if `pid` is a live process of this runtime."""
        return bool(lib.airs_is_alive(self._handle, pid))

    def start_supervisor(self, spec: SupervisorSpec) -> Supervisor:
        """Starts the supervision tree described by `spec` (a
        :class:`airs.SupervisorSpec`): every child starts on this thread,
        in order, before any of them runs a message. Returns an
        :class:`airs.Supervisor`. If a start fails, the children already
        started are stopped and the failure is raised (ActorStartError for
        a Python child whose factory or on_start raised)."""
        return supervisor.start_supervisor(self, spec)

    def supervisor(self, pid: PidLike,
                   spec: Optional[SupervisorSpec] = None) -> Supervisor:
        """A :class:`airs.Supervisor` handle for the supervisor `pid`
        (`spec`, the SupervisorSpec it was started from, is needed only for
        dynamic children)."""
        return supervisor.Supervisor(self, pid, spec)

    # -- host-driven mode and time ----------------------------------------

    def poll(self, budget: int = 64) -> int:
        """Host-driven mode (workers=0): fires due timers, then runs up to
        `budget` process turns on this thread; returns how many ran (0:
        nothing to do). StateError with worker threads. [not inside a
        callback; one polling thread at a time]"""
        ran = ctypes.c_uint32()
        lib.airs_runtime_poll(self._handle, u32(budget, "budget"),
                              ctypes.byref(ran))
        return ran.value

    def run_until_idle(self, budget: int = 64) -> int:
        """Host-driven mode: polls until nothing is left to do; returns the
        number of turns run."""
        total = 0
        while True:
            ran = self.poll(budget)
            if not ran:
                return total
            total += ran

    @property
    def workers(self) -> int:
        """The number of worker threads: 0 for a host-driven runtime."""
        n = ctypes.c_uint32()
        lib.airs_runtime_workers(self._handle, ctypes.byref(n))
        return n.value

    def next_timer_ms(self) -> Optional[int]:
        """Milliseconds until the next timer is due (0: now), or None if no
        timer is pending."""
        ms = ctypes.c_int64()
        lib.airs_runtime_next_timer_ms(self._handle, ctypes.byref(ms))
        return None if ms.value < 0 else ms.value

    def advance_time(self, ms: int) -> None:
        """With manual_clock=True: moves the clock forward by `ms` and lets
        due timers fire. StateError: the clock is not manual."""
        lib.airs_runtime_advance_time(self._handle, u64(ms, "ms"))

    # -- codecs -------------------------------------------------------------

    @property
    def default_codec(self) -> Optional[CodecLike]:
        """The codec used for non-bytes values sent to processes that are
        not Python actors of this runtime (None: such sends raise
        TypeError). Setting it also registers it for decoding."""
        return self._core.default_codec

    @default_codec.setter
    def default_codec(self, codec: Optional[CodecLike]) -> None:
        if codec is not None:
            self.add_codec(codec)
        self._core.default_codec = codec

    def add_codec(self, codec: CodecLike) -> None:
        """Registers `codec` for decoding: a payload whose type tag is
        ``codec.type_tag`` reaches Python actors (and call() results)
        decoded."""
        check_user_type(codec.type_tag)
        self._core.codecs[codec.type_tag] = codec


def _close_all():
    """atexit: closes the runtimes still open, newest first, while the
    interpreter can still run their callbacks."""
    with _open_lock:
        runtimes = list(reversed(_open_runtimes))
    for runtime in runtimes:
        try:
            runtime.close()
        except Exception:  # pragma: no cover - best effort at exit
            pass


atexit.register(_close_all)

__all__ = ["Runtime", "Pid"]
