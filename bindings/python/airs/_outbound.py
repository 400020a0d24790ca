"""Turning Python values into C messages and sending them (everything but
the per-message fast path of :meth:`airs.Actor.send`, which inlines the
common case).

Rules, in order, for a value sent to ``to``:

1. ``bytes``, ``bytearray``, ``memoryview`` (these exact types): copied as
   the payload, with the given type tag;
2. with a codec (given to the call): ``codec.encode(value)``, tagged
   ``type`` or the codec's tag;
3. ``to`` is a Python actor of this runtime: the object itself, by
   reference (no type tag allowed);
4. the runtime's default codec, if set;
5. otherwise TypeError; but a value for a pid of this runtime that is not
   alive goes as in 3, so that C reports it (dead-letter hook,
   NoProcessError) as any message to a dead pid. Once the runtime is a
   node (:mod:`airs.node`), a pid of another runtime is another node's
   process and never takes a reference, which means nothing outside this
   process: it needs bytes or a codec.
"""
import ctypes

from . import _ffi, _turn
from ._refs import next_held_ref, next_reply_ref, next_send_ref
from ._names import encode_name
from .errors import NoProcessError, NotFoundError
from .message import BYTES_TYPES, REF_HELD_BASE, check_user_type
from ._request import Request as OslRequest
from .pid import Pid

lib = _ffi.lib
fast = _ffi.fast


def resolve(core, to):
    """A pid for `to`: a Pid/int as is, a registered name looked up
    (NoProcessError if nobody has it)."""
    if isinstance(to, int):
        return to
    if isinstance(to, (str, bytes)):
        out = ctypes.c_uint64()
        try:
            lib.airs_whereis(core.handle, encode_name(to), ctypes.byref(out))
        except NotFoundError as e:
            raise NoProcessError(f"no process is registered as {to!r}") from e
        return Pid(out.value)
    raise TypeError(f"a message goes to a Pid or a registered name, not "
                    f"{type(to).__name__}")


def is_remote(core, pid):
    """True if `pid` belongs to another runtime (its tag is not ours)."""
    tag = core.pid_tag
    if tag is None:
        out = ctypes.c_uint32()
        lib.airs_runtime_pid_tag(core.handle, ctypes.byref(out))
        tag = core.pid_tag = out.value
    return pid != 0 and fast.airs_pid_tag(pid) != tag


SEND, REPLY, HELD = "send", "reply", "held"
_NEXT_REF = {SEND: next_send_ref, REPLY: next_reply_ref, HELD: next_held_ref}


def encode(core, to, message, type=0, codec=None, ref_kind=SEND,
           python_target=None):
    """Returns ``(type_tag, data, ref)`` for `message` (see the module
    rules). ``ref`` is the table entry made for a Python object (then
    ``data`` is None and ``type_tag == ref``): the caller drops it
    (:meth:`RuntimeCore.drop_ref`) if the message is never handed to C.
    `ref_kind` picks the table: SEND and REPLY references are taken out by
    the receiver, HELD ones are released by a C free function (timers)."""
    if type:
        check_user_type(type)
    if message.__class__ in BYTES_TYPES:
        return type, bytes(message), None
    if codec is not None:
        return type or codec.type_tag, codec.encode(message), None
    if python_target is None:
        python_target = to in core.python_pids
    if python_target:
        if type:
            raise ValueError("a type tag goes with bytes or a codec, not "
                             "with a Python object sent by reference")
        ref = _NEXT_REF[ref_kind]()
        core.table_of(ref)[ref] = message
        return ref, None, ref
    codec = core.default_codec
    if codec is not None:
        return type or codec.type_tag, codec.encode(message), None
    if core.has_node and is_remote(core, to):
        raise TypeError(
            f"{to!r} is a process of another node: a {type_name(message)} "
            f"cannot go by reference; send bytes, or give a codec "
            f"(codec=airs.PickleCodec(), or Runtime(codec=...))")
    if not lib.airs_is_alive(core.handle, to):
        # Sent anyway, by reference: C reports it to the dead-letter hook
        # (NOPROC) as for any message to a dead pid, then the send raises
        # NoProcessError.
        return encode(core, to, message, type, None, ref_kind, True)
    raise TypeError(
        f"{to!r} is not a Python actor of this runtime, so a "
        f"{type_name(message)} cannot go by reference: send bytes, or "
        f"give a codec (codec=airs.JsonCodec(), or Runtime(codec=...))")


def request_msg(core, to, message, type=0, codec=None):
    """``(msg, ref)``: the request message for `message` (owned by the
    caller; free it with :func:`free_msg` if it is never sent). A system
    actor's request object (airs.osl) builds its own message; any other
    value is encoded as :func:`encode` says."""
    if isinstance(message, OslRequest):
        if type or codec is not None:
            raise ValueError("a system actor's request has its own type "
                             "and encoding: no type tag or codec")
        return message._airs_msg(), None
    tag, data, ref = encode(core, to, message, type, codec)
    return new_msg(core, tag, data, ref), ref


def type_name(value):
    """The class name of `value`, for messages."""
    return type(value).__name__


def new_msg(core, tag, data, ref, priority=0, correlation=0):
    """A C message (airs_msg*, owned by the caller) for an encoded value.
    A held reference rides in an owned message whose free function
    releases it."""
    out = ctypes.c_void_p()
    try:
        if ref is not None and ref >= REF_HELD_BASE:
            lib.airs_msg_new_owned(tag, ref, 0, core.held_free_address,
                                   ctypes.byref(out))
        else:
            # Allocation only: the GIL stays held (the fast table).
            status = fast.airs_msg_new(tag, data, len(data) if data else 0,
                                       ctypes.byref(out))
            if status:
                _ffi.raise_status(status)
    except BaseException:
        if ref is not None:  # C did not take it
            core.drop_ref(ref)
        raise
    try:
        if priority:
            lib.airs_msg_set_priority(out, int(priority))
        if correlation:
            lib.airs_msg_set_correlation(out, correlation)
    except BaseException:
        free_msg(core, out.value, ref)
        raise
    return out.value


def free_msg(core, msg, ref):
    """Frees a message the caller still owns and its reference."""
    lib.airs_msg_free(msg)  # runs the free function of a held one
    if ref is not None:
        core.drop_ref(ref)


def send(core, ctx, to, message, type=0, codec=None, priority=0):
    """Sends `message` to `to`: from the actor of `ctx` (inside its
    callback: the fast path, never blocks) or, with ctx None, from the
    calling thread (may block on a full BLOCK-policy mailbox, with the GIL
    released)."""
    to = resolve(core, to)
    tag, data, ref = encode(core, to, message, type, codec)
    try:
        _turn.flush_current()  # what this actor's batch sent goes first
        if priority:
            msg = new_msg(core, tag, data, ref, priority=priority)
            try:
                if ctx is not None:
                    lib.airs_ctx_send_msg(ctx, to, msg)
                else:
                    lib.airs_send_msg(core.handle, to, msg)
            except BaseException:
                lib.airs_msg_free(msg)
                raise
        elif ctx is not None:
            status = fast.airs_ctx_send(ctx, to, tag, data,
                                        len(data) if data else 0)
            if status:
                _ffi.raise_status(status)
        else:
            lib.airs_send(core.handle, to, tag, data,
                          len(data) if data else 0)
    except BaseException:
        if ref is not None:
            core.drop_ref(ref)
        raise
