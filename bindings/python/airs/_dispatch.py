"""The bridge between one runtime's C callbacks and its Python objects.

Each :class:`airs.Runtime` owns one :class:`RuntimeCore`. The core owns:

- one behaviour vtable (``init``, ``receive_batch``, ``terminate``,
  ``health``; ``receive`` too, which C does not call once
  ``receive_batch`` is set) shared by every Python actor of the runtime, plus the ``user_data_free``,
  dead-letter, event and payload-free callbacks. They are CFUNCTYPE
  objects referenced by the core until ``airs_runtime_free`` has returned
  (after it, C can no longer call them), then dropped;
- ``starts``: user_data handle -> :class:`ActorStart` (how to make a fresh
  actor; C passes the handle to ``init`` on every (re)start, and to
  ``user_data_free`` exactly once when the spec or process is gone);
- ``actors``: state handle -> the live :class:`airs.Actor` (from its
  ``init`` to its ``terminate``) and ``python_pids``, their pids;
  ``direct_pids``, those of them with an unbounded mailbox (a send to
  one can wait for the end of the turn: see :mod:`airs._turn`);
- ``refs``, ``replies``, ``held``: type tag -> Python object for objects
  in flight (see :mod:`airs.message`). A point-to-point object (``refs``)
  or reply (``replies``) is taken out by the receiver, or by the
  dead-letter callback if it is never delivered; an object carried by a
  C-freed message (timer, publish: ``held``) is released by the free
  callback. Whatever C frees silently while the runtime is closed is
  released when :meth:`RuntimeCore.released` clears the tables.

Handles are small non-zero integers passed as ``void*``: no Python object
address ever goes to C, so no reference count has to be managed across
the boundary, and a stale handle cannot crash (it finds nothing).

Every callback runs on whichever thread C calls it on (a worker, the
timer thread, or the thread inside a spawn / supervisor call), holding the
GIL only inside the callback. Each starts by returning at once if the
interpreter is finalizing, and catches every exception: none crosses into
C.
"""
import ctypes
import logging
import sys
import traceback

from . import _ffi, _turn, osl
from ._refs import next_handle
from ._starts import record_start_failure
from .events import event_from_c
from .actor import Actor, Health
from .errors import (EINTERNAL, EINVAL, ESTATE, OK, ActorStartError,
                     AirsError)
from .message import (REF_HELD_BASE, REF_REPLY_BASE, REF_SEND_BASE,
                      SYSTEM_BASE, DeadLetter, DeadLetterReason, Down,
                      ExitSignal, Reply, RequestTimeout, is_python_ref)
from .pid import Pid, pid_or_none
from .pykka_style import _ProxyCall, answer_proxy_call
from .reasons import EXCEPTION_EXIT_CODE, ExitKind, reason_from_c

logger = logging.getLogger("airs")

# "No such reference": the received message is not a Python object sent
# point to point.
_MISSING = object()

lib = _ffi.lib
fast = _ffi.fast
_msg_size = fast.airs_msg_size
_msg_data = fast.airs_msg_data
_string_at = ctypes.string_at
OSL_BASE = _ffi.MSG_OSL_BASE


class RuntimeCore:
    """The Python side of one C runtime; see the module docstring.
    Internal: reached through :class:`airs.Runtime` and actors."""

    def __init__(self, runtime, handle):
        self.runtime = runtime
        self.handle = handle
        self.refs = {}
        self.replies = {}
        self.held = {}
        self.actors = {}
        self.python_pids = set()
        self.direct_pids = set()
        self.pid_tag = None  # this runtime's pid tag, once asked
        self.has_node = False  # attached to a cluster (airs.node)
        self.starts = {}
        self.codecs = {}
        self.default_codec = None
        self.closed = False
        self.names = {}  # topic -> encoded name (see airs.broker)
        self.dead_letter_hook = None
        self.event_hook = None
        self._build_callbacks()

    # -- lifetime ---------------------------------------------------------

    def released(self):
        """[after airs_runtime_free returned] Drops everything C could
        still have referred to: objects in flight, start specs, actors, the
        callbacks."""
        self.refs.clear()
        self.replies.clear()
        self.held.clear()
        self.starts.clear()
        self.actors.clear()
        self.python_pids.clear()
        self.direct_pids.clear()
        self.closed = True
        # C answers every call on the freed handle with ESTATE; an empty
        # vtable (never called) keeps those calls well-formed.
        self.behaviour = _ffi.Behaviour(_ffi.BEHAVIOUR_VERSION,
                                        ctypes.sizeof(_ffi.Behaviour))
        self._callbacks = None
        self.spec_free_fn = self.held_free_fn = None
        self.dead_letter_fn = self.event_fn = None
        self.spec_free_address = self.held_free_address = None
        self.dead_letter_address = self.event_address = None

    # -- references ---------------------------------------------------------

    def table_of(self, ref):
        """The table that holds reference `ref`."""
        if ref >= REF_HELD_BASE:
            return self.held
        if ref >= REF_REPLY_BASE:
            return self.replies
        return self.refs

    def drop_ref(self, ref):
        """Releases reference `ref` (a message that never reached C)."""
        self.table_of(ref).pop(ref, None)

    def take_ref(self, kind):
        """The object of reference `kind` out of a received or dead
        message: taken out for sends and replies, looked up for held
        ones (their free function releases them)."""
        if kind >= REF_HELD_BASE:
            return self.held.get(kind)
        return self.table_of(kind).pop(kind, None)

    # -- starts -----------------------------------------------------------

    def add_start(self, start):
        """Registers `start` and returns its user_data handle. C releases
        it through ``user_data_free`` (spec_free_fn); a caller that fails
        before handing it to C calls :meth:`drop_start`."""
        handle = next_handle()
        if not self.closed:  # a closed runtime's C refuses it anyway
            self.starts[handle] = start
        return handle

    def drop_start(self, handle):
        """Forgets a start handle C never took."""
        self.starts.pop(handle, None)

    def _start_actor(self, start, ctx, state_out):
        """The body of ``init``: makes the actor, binds it, runs on_start.
        Returns the status for C."""
        pid = Pid(fast.airs_self(ctx))
        if start.name is not None:
            try:
                lib.airs_register(self.handle, start.name, pid)
            except AirsError as e:
                record_start_failure(e)
                return e.status
        state = 0
        try:
            actor = start.factory(*start.args, **start.kwargs)
            if not isinstance(actor, Actor):
                raise TypeError(f"actor factory {start.factory!r} returned "
                                f"{actor!r}, not an airs.Actor")
            actor._attach(self, pid, ctx)
            state = next_handle()
            self.actors[state] = actor
            self.python_pids.add(pid)
            capacity = ctypes.c_uint64()
            if not fast.airs_process_stat_get(
                    self.handle, pid, _ffi.PSTAT_MAILBOX_CAPACITY,
                    ctypes.byref(capacity)) and capacity.value == 0:
                self.direct_pids.add(pid)
            actor.on_start()
        except BaseException as e:
            if state:
                self.actors.pop(state, None)
                self.python_pids.discard(pid)
                self.direct_pids.discard(pid)
            text = traceback.format_exc()
            logger.warning("actor %s failed to start:\n%s", pid, text)
            error = ActorStartError(text)
            error.__cause__ = e.with_traceback(None)
            record_start_failure(error)
            return EINVAL
        state_out[0] = state
        return OK

    # -- messages ---------------------------------------------------------

    def decode_payload(self, kind, msg):
        """The bytes of a received payload, or its codec's decoding."""
        size = _msg_size(msg)
        data = _string_at(_msg_data(msg), size) if size else b""
        codec = self.codecs.get(kind)
        return codec.decode(data) if codec is not None else data

    def decode_value(self, msg):
        """The value of a message this thread owns (a call's reply)."""
        kind = fast.airs_msg_type(msg)
        if is_python_ref(kind):
            return self.take_ref(kind)
        if osl.is_osl_type(kind):
            message = osl.decode(kind, msg)
            if message is not None:
                return message
        return self.decode_payload(kind, msg)

    def decode_item(self, actor, kind, msg, data, size, correlation):
        """decode_received for a message of a batch: the payload and the
        correlation come from the batch's buffer, not from C calls."""
        if kind >= REF_HELD_BASE:
            if kind >= SYSTEM_BASE:
                return self.decode_received(actor, kind, msg)
            return self.held.get(kind)
        if kind >= REF_REPLY_BASE:
            message = self.replies.pop(kind, None)
        elif kind >= REF_SEND_BASE:  # taken by the dead-letter hook: none
            return None
        elif kind >= OSL_BASE:  # a system actor's reply or message
            message = osl.decode(kind, msg)
            if message is None:
                message = self.decode_bytes(kind, data, size)
        else:
            message = self.decode_bytes(kind, data, size)
        if actor._awaiting and correlation in actor._awaiting:
            actor._awaiting.discard(correlation)
            return Reply(correlation, message)
        return message

    def decode_bytes(self, kind, data, size):
        """decode_payload from a batch item's data pointer and size."""
        data = _string_at(data, size) if size else b""
        codec = self.codecs.get(kind)
        return codec.decode(data) if codec is not None else data

    def decode_received(self, actor, kind, msg):
        """What receive() gets for a message of type `kind` that is not a
        point-to-point Python object (the fast path handles those)."""
        if kind >= SYSTEM_BASE:
            if kind == _ffi.MSG_EXIT:
                return ExitSignal(pid_or_none(lib.airs_msg_sender(msg)),
                                  reason_from_c(lib.airs_msg_reason(msg)))
            if kind == _ffi.MSG_DOWN:
                return Down(Pid(lib.airs_msg_sender(msg)),
                            lib.airs_msg_correlation(msg),
                            reason_from_c(lib.airs_msg_reason(msg)))
            if kind == _ffi.MSG_TIMEOUT:
                ref = lib.airs_msg_correlation(msg)
                actor._awaiting.discard(ref)
                return RequestTimeout(ref)
            if osl.is_osl_type(kind):  # a socket's message
                return osl.decode(kind, msg)
            return self.decode_payload(kind, msg)
        if kind >= REF_HELD_BASE:
            return self.held.get(kind)
        if kind >= REF_REPLY_BASE:
            message = self.replies.pop(kind, None)
        elif kind >= REF_SEND_BASE:  # taken by the dead-letter hook: none
            return self.refs.pop(kind, None)
        elif kind >= OSL_BASE:  # a system actor's reply or message
            message = osl.decode(kind, msg)
            if message is None:
                message = self.decode_payload(kind, msg)
        else:
            message = self.decode_payload(kind, msg)
        # A reply (from Python or C) to a pending request of this actor.
        if actor._awaiting:
            ref = fast.airs_msg_correlation(msg)
            if ref in actor._awaiting:
                actor._awaiting.discard(ref)
                return Reply(ref, message)
        return message

    def crash(self, actor, ctx):
        """[in receive, handling an exception] Ends the actor with an error
        exit whose text is the traceback; its links and supervisor see
        it."""
        text = traceback.format_exc()
        logger.warning("actor %s (%s) crashed:\n%s", actor.pid,
                       type(actor).__name__, text)
        try:
            lib.airs_exit(ctx, ExitKind.ERROR, EXCEPTION_EXIT_CODE,
                          text.encode("utf-8", "replace"))
        except AirsError:
            logger.exception("airs_exit failed for %s", actor.pid)

    # -- the callbacks ----------------------------------------------------

    def _build_callbacks(self):
        # Locals of this method are closure cells of the callbacks: the
        # per-message path reads no attribute it does not need.
        core = self
        refs_pop = self.refs.pop
        held_pop = self.held.pop
        take_ref = self.take_ref
        actors = self.actors
        starts = self.starts
        msg_type = fast.airs_msg_type
        finalizing = sys.is_finalizing
        decode_received = self.decode_received
        crash = self.crash
        missing = _MISSING
        proxy_call = _ProxyCall

        def on_init(user_data, ctx, state_out):
            """behaviour.init: makes a fresh actor for a (re)start. Runs on
            the spawning thread (a worker for supervisor restarts)."""
            if finalizing():
                return ESTATE
            try:
                start = starts.get(user_data)
                if start is None:
                    return EINVAL
                return core._start_actor(start, ctx, state_out)
            except BaseException:
                logger.exception("airs: init callback failed")
                return EINTERNAL

        def on_receive(state, ctx, msg):
            """behaviour.receive: one message for one actor, on a worker.
            The message is borrowed for the call."""
            if finalizing():
                return 0
            try:
                actor = actors[state]
                actor._ctx = ctx
                # Left set after the callback: _current_msg() checks that
                # it is read inside this actor's receive, and every other
                # callback of the actor clears it first.
                actor._msg = msg
                try:
                    # The per-message path: one C call, one dict pop.
                    kind = msg_type(msg)
                    message = refs_pop(kind, missing)
                    if message is missing:
                        message = decode_received(actor, kind, msg)
                    if message.__class__ is proxy_call:
                        answer_proxy_call(actor, message)
                    else:
                        actor.receive(message)
                except BaseException:
                    crash(actor, ctx)
                return 0
            except BaseException:
                logger.exception("airs: receive callback failed")
                return EINTERNAL

        turn_local = _turn._local
        turn_flush = _turn.flush
        decode_item = self.decode_item
        handled_at = ctypes.c_uint32.from_address
        # Views of batch arrays, by address. C hands a worker's batches
        # out from the same stack address turn after turn, so a view
        # made once reads every later batch there in place: no copy and
        # no ctypes call per batch. A view covers AIRS_BATCH_MAX items,
        # the array C passes (only the first `count` are read).
        views = {}
        words_type = ctypes.c_uint64 * (6 * _ffi.BATCH_MAX)

        def view_of(items):
            if len(views) >= 256:  # many threads or call depths: start over
                views.clear()
            words = memoryview(words_type.from_address(items)).cast(
                "B").cast("Q")
            views[items] = words
            return words

        first = _turn.FIRST
        held_get = self.held.get
        held_base = REF_HELD_BASE
        system_base = SYSTEM_BASE

        def on_receive_batch(state, ctx, items, count, handled):
            """behaviour.receive_batch: a turn's messages for one actor,
            on a worker, read in place from C's array of airs_batch_item
            (6 words each). Sends and replies made meanwhile go to C in
            one call at the end (airs._turn). An exception, or an exit
            the actor asks for, stops the batch after its message: the
            rest stay queued, and are answered as the mail of an ended
            process (dead letters), as with one message per call."""
            if finalizing():
                return 0
            try:
                actor = actors[state]
                actor._ctx = ctx
                words = views.get(items)
                if words is None:
                    words = view_of(items)
                actor._out = first  # see airs._turn
                try:
                    try:
                        if count == 1:  # a ping-pong, a ring: no loop
                            kind = words[0]
                            actor._msg = words[3]
                            message = refs_pop(kind, missing)
                            if message is missing:
                                message = decode_item(actor, kind, words[3],
                                                      words[4], words[5],
                                                      words[2])
                            if message.__class__ is proxy_call:
                                answer_proxy_call(actor, message)
                            else:
                                actor.receive(message)
                        else:
                            actor._stopping = False
                            # Runtime.kill of itself must find it (below).
                            turn_local.actor = actor
                            i = 0
                            for i in range(0, 6 * count, 6):
                                kind = words[i]
                                # Left set after the callback, as in
                                # on_receive.
                                actor._msg = words[i + 3]
                                message = refs_pop(kind, missing)
                                if message is missing:
                                    # A publish's or timer's object (no
                                    # call: a topic's subscribers take
                                    # whole batches of them), else the
                                    # rest of the kinds.
                                    if held_base <= kind < system_base:
                                        message = held_get(kind)
                                    else:
                                        message = decode_item(
                                            actor, kind, words[i + 3],
                                            words[i + 4], words[i + 5],
                                            words[i + 2])
                                if message.__class__ is proxy_call:
                                    answer_proxy_call(actor, message)
                                else:
                                    actor.receive(message)
                                if actor._stopping:
                                    handled_at(handled).value = i // 6 + 1
                                    break
                    except BaseException:
                        if count > 1:
                            handled_at(handled).value = i // 6 + 1
                        crash(actor, ctx)
                    finally:
                        # _turn.end, inline.
                        out = actor._out
                        if out.__class__ is list or count > 1:
                            turn_local.actor = None
                            if out:  # a list: something deferred
                                turn_flush(actor)
                        actor._out = None
                except BaseException:
                    # The flush failed (not a dead receiver: no memory).
                    actor._out = None
                    crash(actor, ctx)
                return 0
            except BaseException:
                logger.exception("airs: receive_batch callback failed")
                return EINTERNAL

        def on_terminate(state, ctx, reason):
            """behaviour.terminate: runs once per started actor; calls
            on_stop and forgets the actor."""
            if finalizing():
                return
            try:
                actor = actors.pop(state, None)
                if actor is None:
                    return
                core.python_pids.discard(actor.pid)
                core.direct_pids.discard(actor.pid)
                actor._ctx = ctx
                actor._msg = None
                try:
                    if type(actor).on_stop is not Actor.on_stop:
                        actor.on_stop(reason_from_c(reason))
                except BaseException:
                    logger.exception("actor %s: on_stop raised", actor.pid)
                actor._ctx = None
                actor._awaiting.clear()
            except BaseException:
                logger.exception("airs: terminate callback failed")

        def on_health(state, ctx):
            """behaviour.health: a supervisor's health check."""
            if finalizing():
                return Health.HEALTHY
            try:
                actor = actors.get(state)
                if actor is None:
                    return Health.HEALTHY
                actor._ctx = ctx
                actor._msg = None
                return int(Health(actor.health()))
            except BaseException:
                logger.exception("airs: health check raised")
                return Health.FAILED

        def on_spec_free(user_data):
            """user_data_free: C is done with a start handle (exactly
            once, on any thread)."""
            if finalizing():
                return
            try:
                starts.pop(user_data, None)
            except BaseException:
                logger.exception("airs: user_data_free callback failed")

        def on_held_free(ref):
            """free_fn of timer messages and published payloads: releases
            the held object (on the thread that frees the message)."""
            if finalizing():
                return
            try:
                held_pop(ref, None)
            except BaseException:
                logger.exception("airs: free callback failed")

        def on_dead_letter(user_data, to, msg, reason):
            """The dead-letter hook: releases the object of an undelivered
            message, then calls the user's hook (on the thread that found
            out)."""
            if finalizing():
                return
            try:
                kind = msg_type(msg)
                if is_python_ref(kind):
                    value, kind = take_ref(kind), 0
                else:
                    value = None
                hook = core.dead_letter_hook
                if hook is None:
                    return
                if kind:
                    value = core.decode_payload(kind, msg)
                hook(DeadLetter(pid_or_none(to), value,
                                DeadLetterReason(reason), kind,
                                pid_or_none(lib.airs_msg_sender(msg))))
            except BaseException:
                logger.exception("airs: dead-letter hook raised")

        def on_event(user_data, event):
            """The event hook: copies the borrowed event for the user's
            hook (on the thread that decided)."""
            if finalizing():
                return
            try:
                hook = core.event_hook
                if hook is not None:
                    hook(event_from_c(event.contents))
            except BaseException:
                logger.exception("airs: event hook raised")

        init_fn = _ffi.INIT_FN(on_init)
        receive_fn = _ffi.RECEIVE_FN(on_receive)
        receive_batch_fn = _ffi.RECEIVE_BATCH_FN(on_receive_batch)
        terminate_fn = _ffi.TERMINATE_FN(on_terminate)
        health_fn = _ffi.HEALTH_FN(on_health)
        self.spec_free_fn = _ffi.FREE_FN(on_spec_free)
        self.held_free_fn = _ffi.FREE_FN(on_held_free)
        self.dead_letter_fn = _ffi.DEAD_LETTER_FN(on_dead_letter)
        self.event_fn = _ffi.EVENT_FN(on_event)
        self._callbacks = (init_fn, receive_fn, terminate_fn, health_fn,
                           receive_batch_fn)

        def address(fn):
            """The C address of a CFUNCTYPE object."""
            return ctypes.cast(fn, ctypes.c_void_p).value

        self.behaviour = _ffi.Behaviour(
            _ffi.BEHAVIOUR_VERSION, ctypes.sizeof(_ffi.Behaviour),
            address(init_fn), address(receive_fn), address(terminate_fn),
            address(health_fn), address(receive_batch_fn))
        self.spec_free_address = address(self.spec_free_fn)
        self.held_free_address = address(self.held_free_fn)
        self.dead_letter_address = address(self.dead_letter_fn)
        self.event_address = address(self.event_fn)
