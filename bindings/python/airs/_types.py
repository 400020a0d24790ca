"""Type aliases of the public signatures (for type checkers and readers;
nothing here is used at run time but the names themselves).

A pid parameter takes a :class:`airs.Pid` or a plain int (a Pid is an
int); a destination also takes a registered name (see
:func:`airs._outbound.resolve`). Names of the registry, pools, topics and
child ids are str or bytes (:func:`airs._names.encode_name`).
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Callable, Protocol, Tuple, Union

from .pid import Pid

if TYPE_CHECKING:
    from .actor import Actor

#: A process id: a Pid, or the int it is.
PidLike = Union[Pid, int]
#: Where a message goes: a pid, or a name registered with
#: :meth:`airs.Runtime.register`.
Dest = Union[Pid, int, str, bytes]
#: A registry, pool, topic or child-id name.
Name = Union[str, bytes]
#: What makes an actor: a class or callable, ``factory(*args, **kwargs)``.
Factory = Callable[..., "Actor"]
#: Bytes to write or send (copied with bytes()).
Buffer = Union[bytes, bytearray, memoryview]
#: A socket address: (host, port) with a numeric host, or "host:port"
#: text ("[v6]:port").
Address = Union[Tuple[str, int], str]
#: A file system path, as os.fsencode takes it.
StrPath = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]


class CodecLike(Protocol):
    """What a codec is (see :mod:`airs.codec`): any object with these;
    :class:`airs.Codec` is one."""

    type_tag: int

    def encode(self, value: Any) -> bytes: ...

    def decode(self, data: bytes) -> Any: ...
