"""Broker topics (pub-sub), as methods of :class:`airs.Runtime`.

A topic is a name with a set of subscriber pids; it exists while it has
subscribers, and a subscriber that ends is removed by itself. A publish
delivers one message per subscriber through each one's mailbox, sharing a
single payload: a Python object is passed by reference to every Python
subscriber (the same object: treat it as immutable) and released when the
last delivery is freed; bytes (or a codec's encoding) are shared, not
copied. C subscribers of a topic published to with plain Python objects
get a reserved type tag and no data: publish bytes or use a codec when C
actors subscribe.
"""
from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING, Any, List, Optional

from . import _ffi
from ._turn import flush_current as _flush_current
from ._names import encode_name
from ._refs import next_held_ref
from .message import BYTES_TYPES, check_user_type
from .pid import Pid
from .registry import read_pids

if TYPE_CHECKING:
    from ._types import CodecLike, Name, PidLike

lib = _ffi.lib
fast = _ffi.fast
_PayloadP = _ffi.PayloadP
_c_size_t = ctypes.c_size_t
_byref = ctypes.byref
_NAME_CACHE_MAX = 1024


class BrokerMixin:
    """Topic methods of :class:`airs.Runtime`; all any-thread, none
    blocks."""

    # Set by Runtime.__init__.
    _handle: Any
    _core: Any

    def subscribe(self, topic: Name, pid: PidLike) -> None:
        """Subscribes `pid` to `topic` (twice is once). NoProcessError: not
        alive. InvalidArgumentError: empty or too long name."""
        lib.airs_subscribe(self._handle, encode_name(topic, "topic"), pid)

    def unsubscribe(self, topic: Name, pid: PidLike) -> None:
        """Removes the subscription. NotFoundError: not subscribed."""
        lib.airs_unsubscribe(self._handle, encode_name(topic, "topic"), pid)

    def subscribers(self, topic: Name) -> List[Pid]:
        """The subscribers of `topic`, in no particular order."""
        name = encode_name(topic, "topic")
        return read_pids(lambda out, cap, count: lib.airs_topic_subscribers(
            self._handle, name, out, cap, count))

    def publish(self, topic: Name, message: Any, type: int = 0,
                codec: Optional[CodecLike] = None) -> int:
        """Delivers `message` to every subscriber of `topic` and returns
        how many were reached (0: nobody subscribes; the message then goes
        to the dead-letter hook). Order is FIFO per publisher and
        subscriber; inside an actor callback the sender is that actor.
        Bytes carry the tag `type`; other values go by reference, or
        through `codec` / the default codec when one is set. A subscriber
        whose bounded mailbox is full is skipped (dead letter); publish
        never blocks. Once the runtime is a node (:mod:`airs.node`), a
        publish also reaches the subscribers of every other node, so a
        value that is not bytes needs a codec (TypeError otherwise), and
        0 reached here is no dead letter."""
        _flush_current()  # an actor's earlier sends go first
        core = self._core
        name = core.names.get(topic)
        if name is None:
            name = self._encode_topic(topic)
        payload = _PayloadP()
        if type:
            check_user_type(type)
        if message.__class__ not in BYTES_TYPES:
            codec = codec or core.default_codec
            if codec is not None:
                message = codec.encode(message)
                type = type or codec.type_tag
        if message.__class__ in BYTES_TYPES:
            data = bytes(message)
            status = fast.airs_payload_new(data, len(data), _byref(payload))
            if status:
                _ffi.raise_status(status)
        else:
            if type:
                raise ValueError("a type tag goes with bytes or a codec, "
                                 "not with a Python object sent by reference")
            if core.has_node:
                # Topics span the nodes (airs.node): a reference would mean
                # nothing to another node's subscribers.
                raise TypeError(
                    f"a {message.__class__.__name__} published while the "
                    f"runtime is a node reaches other nodes too: publish "
                    f"bytes, or give a codec (codec=airs.PickleCodec(), "
                    f"or Runtime(codec=...))")
            type = next_held_ref()
            core.held[type] = message
            # The payload's free function releases the reference when the
            # last subscriber's message is freed.
            status = fast.airs_payload_wrap(type, 0, core.held_free_address,
                                            _byref(payload))
            if status:
                core.held.pop(type, None)
                _ffi.raise_status(status)
        delivered = _c_size_t()
        # With the GIL held: publish never waits for another thread (and
        # the runtime cannot hold a broker lock while it runs a hook,
        # since hooks may publish), so no actor can be waiting on us.
        status = fast.airs_publish(core.handle, name, type, payload,
                                   _byref(delivered))
        if status:
            error = _ffi.error_for_status(status)
            fast.airs_payload_release(payload)
            raise error
        fast.airs_payload_release(payload)
        return delivered.value

    def _encode_topic(self, topic: Name) -> bytes:
        names = self._core.names
        if len(names) >= _NAME_CACHE_MAX:
            names.clear()
        name = encode_name(topic, "topic")
        names[topic] = name
        return name
