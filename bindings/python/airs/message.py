"""What actors receive besides plain values, and how messages are tagged.

An actor's ``receive(message)`` gets:

- the very object that was sent, for a Python object sent by another
  Python actor or thread of the same runtime (passed by reference);
- ``bytes``, for a bytes payload (from C actors, or ``send(pid, b"...")``),
  with its type tag in :attr:`airs.Actor.message_type`;
- the decoded object, for a payload whose type tag is a registered codec's
  (see :mod:`airs.codec`);
- :class:`ExitSignal`, :class:`Down`, :class:`RequestTimeout` or
  :class:`Reply` for the runtime's own messages and for replies to
  :meth:`airs.Actor.request`.

Type tags. A message's 64-bit type tag is the application's, except two
ranges: ``0xFFFFFFFF00000000`` and up belong to the C runtime (system
messages), and ``0xF000000000000000`` (``AIRS_MSG_BINDING_BASE``) up to
there belong to language bindings, and the range below that, from
``0xE000000000000000`` (``AIRS_MSG_OSL_BASE``), to the system actors: this one names Python objects in flight by a tag in that range (so the
receiver learns what it got from the one ``airs_msg_type`` call it makes
anyway). Applications must use tags below :data:`USER_TYPE_LIMIT`.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, FrozenSet, Optional

from . import _ffi
from .pid import Pid
from .reasons import ExitReason

#: Application type tags must be below this (the system actors' requests
#: and replies, osl.h, use the tags from here to the binding range).
USER_TYPE_LIMIT: int = _ffi.MSG_OSL_BASE
# Python objects sent point to point: the receiver takes the reference out
# of the runtime's table; an undelivered one is released by the
# dead-letter hook, or when the runtime is closed.
REF_SEND_BASE = _ffi.MSG_BINDING_BASE
# The same for replies (a table of their own, so that the per-message path
# never has to tell a reply from a message).
REF_REPLY_BASE = 0xF400000000000000
# Python objects carried by messages that C frees with a free function
# (timers, publishes): the receiver only looks the reference up; the free
# function releases it.
REF_HELD_BASE = 0xF800000000000000
SYSTEM_BASE = _ffi.MSG_SYSTEM_BASE


def is_python_ref(type_tag: int) -> bool:
    """True if `type_tag` names a Python object in flight."""
    return REF_SEND_BASE <= type_tag < SYSTEM_BASE


class Priority(enum.IntEnum):
    """airs_priority: HIGH messages are handled before waiting NORMAL
    ones."""
    NORMAL = 0
    HIGH = 1


class DeadLetterReason(enum.IntEnum):
    """airs_dead_letter_reason."""
    MAILBOX_FULL = 1
    EXITED = 2
    TIMER = 3
    NO_SUBSCRIBERS = 4
    NOPROC = 5
    LATE_REPLY = 6
    NOCONNECTION = 7


@dataclass(frozen=True)
class ExitSignal:
    """An exit signal received as a message by an actor that traps exits
    (AIRS_MSG_EXIT): ``pid`` is the process that sent or caused it (None
    for the runtime itself, e.g. when it is being closed)."""
    pid: Optional[Pid]
    reason: ExitReason


@dataclass(frozen=True)
class Down:
    """A monitor fired (AIRS_MSG_DOWN): ``pid`` ended with ``reason``;
    ``ref`` is what :meth:`airs.Actor.monitor` returned."""
    pid: Pid
    ref: int
    reason: ExitReason


@dataclass(frozen=True)
class RequestTimeout:
    """A request made with :meth:`airs.Actor.request` got no reply in time
    (AIRS_MSG_TIMEOUT); ``ref`` is the request's correlation id."""
    ref: int


@dataclass(frozen=True)
class Reply:
    """The reply to a request made with :meth:`airs.Actor.request`:
    ``ref`` is the correlation id the request returned, ``value`` what the
    callee passed to :meth:`airs.Actor.reply`."""
    ref: int
    value: Any


@dataclass(frozen=True)
class DeadLetter:
    """A message the runtime could not deliver, as given to a dead-letter
    hook (:meth:`airs.Runtime.set_dead_letter_hook`). ``message`` is the
    value the receiver would have got (the Python object, bytes, or a
    decoded codec value), ``type`` its type tag (0 for Python objects)."""
    to: Optional[Pid]
    message: Any
    reason: DeadLetterReason
    type: int
    sender: Optional[Pid]


#: The types whose values are copied as bytes payloads (exactly these:
#: instances of subclasses are Python objects like any other).
BYTES_TYPES: FrozenSet[type] = frozenset((bytes, bytearray, memoryview))


def check_user_type(type_tag: int) -> None:
    """Raises ValueError unless `type_tag` is an application type tag."""
    if not 0 <= type_tag < USER_TYPE_LIMIT:
        raise ValueError(
            f"type tag {type_tag:#x} is reserved (application tags are "
            f"0..{USER_TYPE_LIMIT - 1:#x})")
