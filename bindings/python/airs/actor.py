"""The :class:`Actor` base class: what a Python process is.

Subclass it and override :meth:`Actor.receive` (and, if needed,
:meth:`Actor.on_start`, :meth:`Actor.on_stop`, :meth:`Actor.health`).
Actors are started by :meth:`airs.Runtime.spawn`, :meth:`Actor.spawn` or a
supervisor, from a *factory*: a class or callable that returns a fresh
actor. Every (re)start calls the factory again, so a restarted actor never
sees the state of the one that crashed.

Threads. The callbacks of one actor run one at a time, on the runtime's
worker threads (or inside the spawning call, for ``on_start``), holding the
GIL only while they run. They must not block (no ``time.sleep``, no
waiting for another actor): a worker blocked in one actor runs no other.
The methods documented "[inside a callback]" work only from the actor's
own callbacks and raise :class:`airs.StateError` elsewhere; the others are
any-thread.

Failure. An exception escaping ``receive`` ends the actor with an
``ERROR`` exit whose code is :data:`airs.EXCEPTION_EXIT_CODE` and whose
text is the traceback; links and monitors see that reason and a
supervisor restarts the actor by its policy. An exception in ``on_start``
(or the factory) fails the start (:class:`airs.ActorStartError` from a
spawn call; a failed restart for a supervisor). One in ``on_stop`` is
logged and ignored.
"""
from __future__ import annotations

import enum
from ctypes import byref as _byref, c_uint64 as _c_uint64
from typing import (TYPE_CHECKING, Any, Iterable, Mapping, Optional,
                    Union)

from . import _ffi, _outbound, _spawning, _turn
from ._refs import next_send_ref as _next_send_ref
from ._ints import u32
from .errors import InvalidArgumentError, StateError
from .message import BYTES_TYPES as _BYTES_TYPES
from .message import Priority, is_python_ref
from .pid import Pid
from .reasons import ExitKind

if TYPE_CHECKING:
    from ._types import CodecLike, Dest, Factory, Name, PidLike
    from .reasons import ExitReason
    from .runtime import Runtime

_ctx_send_ref = _ffi.ctx_send_ref
_FIRST = _turn.FIRST
_SENT_ONE = _turn.SENT_ONE
_FLUSH_WORDS = _turn.FLUSH_WORDS
_start_deferring = _turn.start_deferring
_raise_status = _ffi.raise_status
_self_of = _ffi.fast.airs_self
_fast_request = _ffi.fast.airs_request
_fast_reply = _ffi.fast.airs_reply
lib = _ffi.lib


class Health(enum.IntEnum):
    """airs_health: the answer to a supervisor's health check."""
    HEALTHY = 0
    DEGRADED = 1
    FAILED = 2


class Actor:
    """Base class of Python actors.

    Attributes set by the runtime before ``on_start``: ``pid`` (this
    process's :class:`airs.Pid`) and ``runtime`` (its
    :class:`airs.Runtime`). An actor object belongs to one start of one
    process; the runtime keeps it from start to stop, then drops it.
    """

    # None until the runtime attaches the actor, which it does before
    # on_start: the hints are the callbacks' view.
    pid: Pid = None  # type: ignore[assignment]
    runtime: Runtime = None  # type: ignore[assignment]
    _core: Any = None
    _ctx: Any = None          # the airs_ctx* of the running callback
    _msg: Any = None          # the airs_msg* being received, else None
    _awaiting: Any = frozenset()  # correlation ids of pending requests
    _python_pids: Any = frozenset()
    _direct_pids: Any = frozenset()
    _refs: Any = None
    # During a batch (airs._turn): the deferred sends and replies, as
    # airs_send_item words, and the payloads they point to; _stopping is
    # set once the actor asks to end, so that the batch stops after the
    # message being handled.
    _out: Any = None
    _blobs: Any = None
    _stopping: bool = False

    def _attach(self, core, pid, ctx):
        """[init] Binds the actor to its process (called by the runtime)."""
        self._core = core
        self.runtime = core.runtime
        self.pid = pid
        self._ctx = ctx
        self._msg = None
        self._awaiting = set()
        self._python_pids = core.python_pids
        self._direct_pids = core.direct_pids
        self._refs = core.refs

    # -- callbacks to override --------------------------------------------

    def on_start(self) -> None:
        """Called once per start, inside the spawn call and before any
        message, with ``pid`` and ``runtime`` set. Raising fails the
        start."""

    def receive(self, message: Any) -> None:
        """Handles one message (see :mod:`airs.message` for what
        `message` can be). Raising ends the actor with an error exit."""

    def on_stop(self, reason: ExitReason) -> None:
        """Called exactly once when a started actor ends, whatever the
        reason (an :class:`airs.ExitReason`). It may send messages."""

    def health(self) -> Union[Health, int]:
        """Polled by a supervisor with health checks enabled; return a
        :class:`Health`. The default is HEALTHY."""
        return Health.HEALTHY

    # -- messaging ----------------------------------------------------------

    def send(self, to: Dest, message: Any, type: int = 0,
             codec: Optional[CodecLike] = None, priority: int = 0) -> None:
        """[inside a callback] Sends `message` to `to` (a Pid or a
        registered name) as this actor; never blocks.

        A Python object to a Python actor of the same runtime goes by
        reference (the receiver gets this very object: do not mutate it
        afterwards); bytes are copied with the type tag `type`; other
        values go through `codec` or the runtime's default codec (see
        :mod:`airs._outbound` for the rules). `priority`
        :attr:`airs.Priority.HIGH` is handled before waiting normal
        messages. Raises NoProcessError (not alive), MailboxFullError,
        StateError (outside this actor's callbacks), TypeError (no way to
        encode the value for a non-Python receiver).
        """
        # The fast path: one set lookup, one dict store, and either an item
        # for the end of the batch (airs._turn) or one C call.
        if (to in self._python_pids and message.__class__ not in _BYTES_TYPES
                and not (type or codec or priority)):
            ref = _next_send_ref()
            refs = self._refs
            refs[ref] = message
            out = self._out
            if out is not None:  # in a batch
                if to in self._direct_pids:
                    if out:  # the list, with items: this one waits too
                        out += (to, ref, 0, 0, 0, 0)
                        if len(out) >= _FLUSH_WORDS:
                            _turn.flush(self)
                        return
                    if out is _FIRST:
                        # The turn's first: at once; the next ones wait.
                        self._out = _SENT_ONE
                    else:  # SENT_ONE, or the list a flush emptied
                        if out is _SENT_ONE:
                            out = _start_deferring(self)
                        out += (to, ref, 0, 0, 0, 0)
                        return
                elif out:
                    _turn.flush(self)
            status = _ctx_send_ref(self._ctx, to, ref, None, 0)
            if status:
                refs.pop(ref, None)
                _raise_status(status)
            return
        _outbound.send(self._core, self._ctx, to, message, type, codec,
                       priority)

    def request(self, to: Dest, message: Any, timeout_ms: int = 5000,
                type: int = 0, codec: Optional[CodecLike] = None) -> int:
        """[inside a callback] Sends `message` to `to` as a request and
        returns its correlation id at once. Later this actor receives
        :class:`airs.Reply` (ref = that id) with the callee's answer, or
        :class:`airs.RequestTimeout` after `timeout_ms` (1..2**31-1); a
        late reply is dropped. Errors as :meth:`send`. A system actor's
        request (:mod:`airs.osl`) goes as it is; its reply's value is the
        typed reply."""
        core = self._core
        to = _outbound.resolve(core, to)
        msg, ref = _outbound.request_msg(core, to, message, type, codec)
        correlation = _c_uint64()
        try:
            if self._out:  # what this batch deferred goes first
                _turn.flush(self)
        except BaseException:
            _outbound.free_msg(core, msg, ref)
            raise
        try:
            status = _fast_request(self._ctx, to, msg,
                                   u32(timeout_ms, "timeout_ms"),
                                   _byref(correlation))
            if status:
                _raise_status(status)
        except BaseException:
            _outbound.free_msg(core, msg, ref)
            raise
        self._awaiting.add(correlation.value)
        return correlation.value

    def reply(self, value: Any, type: int = 0,
              codec: Optional[CodecLike] = None) -> None:
        """[inside receive] Answers the message being received (a request
        from :meth:`request` or :meth:`airs.Runtime.call`) with `value`.
        A Python requester gets the object by reference (a request from a
        thread, i.e. :meth:`airs.Runtime.call`, counts as Python unless the
        runtime has a default codec); a C actor requester gets bytes, or
        `codec`/the default codec's encoding. A reply to a
        requester that no longer waits is dropped silently, as in C.
        Raises StateError outside receive, InvalidArgumentError if the
        message is not a request."""
        request = self._current_msg()
        core = self._core
        kind = _ffi.fast.airs_msg_type(request)
        requester = _ffi.fast.airs_msg_sender(request)
        # Reply in kind: a Python requester can take the object itself.
        # A request from a thread (sender 0) is taken to come from
        # Runtime.call unless the runtime has a default codec, whose
        # encoding any caller can read.
        python_target = (requester in core.python_pids
                         or is_python_ref(kind)
                         or (not requester and core.default_codec is None))
        tag, data, ref = _outbound.encode(core, requester, value, type, codec,
                                          ref_kind=_outbound.REPLY,
                                          python_target=python_target)
        out = self._out
        if out is not None:  # in a batch: with the turn's other sends
            if out.__class__ is not list:  # FIRST or SENT_ONE
                out = _start_deferring(self)
            correlation = _ffi.fast.airs_msg_correlation(request)
            if not correlation:
                if ref is not None:
                    core.drop_ref(ref)
                raise InvalidArgumentError(
                    "airs_reply: the request has no correlation id (not a "
                    "request)")
            if data:
                _turn.add_payload(self, data)
            out += (0, tag, 0, len(data) if data else 0, correlation,
                    _turn.REPLY)
            return
        msg = _outbound.new_msg(core, tag, data, ref)
        try:
            status = _fast_reply(self._ctx, request, msg)
            if status:
                _raise_status(status)
        except BaseException:
            _outbound.free_msg(core, msg, ref)
            raise

    def publish(self, topic: Name, message: Any, type: int = 0,
                codec: Optional[CodecLike] = None) -> int:
        """Publishes to a broker topic as this actor (see
        :meth:`airs.Runtime.publish`); returns the number of subscribers
        reached."""
        return self.runtime.publish(topic, message, type, codec)  # flushes

    def subscribe(self, topic: Name) -> None:
        """Subscribes this actor to `topic` (until it unsubscribes or
        ends)."""
        self.runtime.subscribe(topic, self.pid)

    def unsubscribe(self, topic: Name) -> None:
        """Leaves `topic`; NotFoundError if not subscribed."""
        self.runtime.unsubscribe(topic, self.pid)

    def send_after(self, delay_ms: int, to: Optional[Dest], message: Any,
                   type: int = 0, codec: Optional[CodecLike] = None) -> int:
        """Sends `message` to `to` (None: this actor) after `delay_ms`;
        returns a timer id for :meth:`airs.Runtime.cancel_timer`. The
        order of :meth:`airs.Runtime.send_after` (Erlang's)."""
        return self.runtime.send_after(delay_ms,
                                       self.pid if to is None else to,
                                       message, type, codec)

    # -- the message being received -----------------------------------------

    def _current_msg(self):
        msg = self._msg
        # airs_self answers the ctx's pid only on the thread running this
        # callback: elsewhere (or once it returned) it is 0, so the message
        # pointer is never read after C freed it.
        if msg is None or _self_of(self._ctx) != self.pid:
            raise StateError("only inside this actor's receive()")
        return msg

    @property
    def sender(self) -> Optional[Pid]:
        """[inside receive] The Pid that sent the current message, or None
        (sent from outside any actor)."""
        value = _ffi.fast.airs_msg_sender(self._current_msg())
        return Pid(value) if value else None

    @property
    def message_type(self) -> int:
        """[inside receive] The type tag of the current message (0 for a
        Python object passed by reference)."""
        kind = _ffi.fast.airs_msg_type(self._current_msg())
        return 0 if is_python_ref(kind) else kind

    @property
    def correlation(self) -> int:
        """[inside receive] The correlation id of the current message
        (non-zero for requests and replies)."""
        return _ffi.fast.airs_msg_correlation(self._current_msg())

    @property
    def priority(self) -> Priority:
        """[inside receive] The :class:`airs.Priority` of the current
        message."""
        return Priority(lib.airs_msg_priority(self._current_msg()))

    # -- processes ----------------------------------------------------------

    def spawn(self, factory: Factory, args: Iterable[Any] = (),
              kwargs: Optional[Mapping[str, Any]] = None, *,
              link: bool = False, trap_exit: bool = False,
              name: Optional[Name] = None,
              mailbox_capacity: Optional[int] = None,
              mailbox_policy: Optional[int] = None,
              block_timeout_ms: Optional[int] = None) -> Pid:
        """[inside a callback] Spawns a child actor (see
        :meth:`airs.Runtime.spawn`); `link` links it to this actor before
        it can run (allowed in on_start, not in on_stop: StateError)."""
        return _spawning.spawn(self._core, self._ctx, factory, args, kwargs,
                               name, link, trap_exit, mailbox_capacity,
                               mailbox_policy, block_timeout_ms)

    def set_label(self, label: Optional[str]) -> None:
        """[inside a callback] Gives this actor a label for the tools (the
        observer page, airs.top, crash reports), as OTP's
        proc_lib:set_label; None or "" removes it. At most 63 bytes of
        UTF-8 (InvalidArgumentError)."""
        from .observe import lib as observe_lib  # binds airs_set_label
        observe_lib.airs_set_label(self._ctx,
                                   label.encode() if label else None)

    def link(self, pid: PidLike) -> None:
        """[inside a callback, not on_stop] Links this actor and `pid`
        both ways (see airs_link). Linking to a process that is gone
        delivers an exit signal with reason NOPROC; linking to self does
        nothing (as in Erlang)."""
        if self._out:
            _turn.flush(self)
        lib.airs_link(self._ctx, pid)

    def unlink(self, pid: PidLike) -> None:
        """[inside a callback] Removes the link with `pid`, if any."""
        if self._out:
            _turn.flush(self)
        lib.airs_unlink(self._ctx, pid)

    def trap_exit(self, on: bool = True) -> None:
        """[inside a callback] With `on`, exit signals (except kill)
        arrive as :class:`airs.ExitSignal` messages instead of ending this
        actor. Closing the runtime sends such an actor
        ``ExitSignal(None, shutdown)``: it should then end (e.g.
        ``self.exit(ExitKind.SHUTDOWN)``), or it is killed after the
        runtime's shutdown timeout."""
        lib.airs_trap_exit(self._ctx, bool(on))

    def monitor(self, pid: PidLike) -> int:
        """[inside a callback, not on_stop] Watches `pid`; returns the
        monitor ref. When `pid` ends this actor receives one
        :class:`airs.Down` (at once, reason NOPROC, if it is gone). A
        monitor of self is made, but its Down never comes (Erlang's)."""
        ref = _c_uint64()
        if self._out:
            _turn.flush(self)
        lib.airs_monitor(self._ctx, pid, _byref(ref))
        return ref.value

    def demonitor(self, ref: int) -> None:
        """[inside a callback] Stops monitor `ref`; its Down will not come.
        A ref that is not active (its Down came already) is fine, as
        Erlang's demonitor."""
        if self._out:
            _turn.flush(self)
        lib.airs_demonitor(self._ctx, ref)

    def exit(self, kind: int = ExitKind.NORMAL, code: int = 0,
             text: str = "") -> None:
        """[inside a callback] Ends this actor with this reason once the
        current callback returns."""
        lib.airs_exit(self._ctx, int(kind), code,
                      text.encode("utf-8", "replace") if text else None)
        if self._out is not None:
            self._stopping = True  # the batch ends after this message

    def stop(self) -> None:
        """[inside a callback] Ends this actor normally once the current
        callback returns."""
        self.exit(ExitKind.NORMAL)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.pid}>"
