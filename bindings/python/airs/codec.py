"""Codecs: how Python values travel to and from actors that are not
Python (C actors, or anything reading raw bytes).

Python actors of one runtime pass objects by reference and need no codec.
A codec is used when a non-bytes value goes to a process that is not a
Python actor of the runtime (then the runtime's default codec, or the one
given to the send), and to decode incoming payloads whose type tag is a
registered codec's (:meth:`airs.Runtime.add_codec`). A codec is any object
with:

- ``type_tag``: the message type tag of its payloads (an application tag,
  below :data:`airs.message.USER_TYPE_LIMIT`);
- ``encode(value) -> bytes`` and ``decode(bytes) -> value``.

``encode`` runs on the sending thread, ``decode`` on the receiving actor's
worker thread; both must be thread-safe.
"""
from __future__ import annotations

import json
import pickle
from typing import Any


class Codec:
    """Base class of codecs; subclasses set ``type_tag`` and implement
    ``encode``/``decode``."""

    type_tag: int = 0

    def encode(self, value: Any) -> bytes:
        """The bytes that represent `value`."""
        raise NotImplementedError

    def decode(self, data: bytes) -> Any:
        """The value that `data` (bytes) represents."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} type_tag={self.type_tag:#x}>"


class JsonCodec(Codec):
    """UTF-8 JSON (``json.dumps`` / ``json.loads``); the lingua franca for C
    peers. Default tag 0x4A534F4E ("JSON")."""

    def __init__(self, type_tag: int = 0x4A534F4E) -> None:
        self.type_tag = type_tag

    def encode(self, value: Any) -> bytes:
        """Compact JSON, UTF-8."""
        return json.dumps(value, separators=(",", ":")).encode()

    def decode(self, data: bytes) -> Any:
        """``json.loads`` (ValueError on bad JSON)."""
        return json.loads(data)


class PickleCodec(Codec):
    """``pickle`` with the highest protocol; for Python peers in another
    runtime or process. Only decode payloads you trust. Default tag
    0x504B4C ("PKL")."""

    def __init__(self, type_tag: int = 0x504B4C,
                 protocol: int = pickle.HIGHEST_PROTOCOL) -> None:
        self.type_tag = type_tag
        self.protocol = protocol

    def encode(self, value: Any) -> bytes:
        """``pickle.dumps`` with this codec's protocol."""
        return pickle.dumps(value, self.protocol)

    def decode(self, data: bytes) -> Any:
        """``pickle.loads``: only for trusted data."""
        return pickle.loads(data)
