"""A runtime as a node of a cluster over NATS (``<airs/node.h>``,
``libairs_node``).

Attach a runtime to a NATS server under a name; from then on a pid of any
node of the cluster works with the same calls as a local one (``send``,
``call``, ``Actor.request``), and the node's peers and global names are
here::

    with airs.Runtime() as rt, airs.node.Node(rt, "nats://127.0.0.1:4222",
                                              "billing") as node:
        node.register("ledger", rt.spawn(Ledger))
        other = node.whereis("orders")          # a pid of another node
        rt.call(other, {"get": 1}, timeout_ms=1000)

Semantics are node.h's (Erlang's): at most once, in order per pair; a send
to a node that is down is a dead letter (``NOCONNECTION``), not an error;
a pid of a node that left or restarted raises NoProcessError at once, as
does a call to a node that is down. A Python object cannot go to another
node by reference (it means nothing outside its process): send bytes, or
give the runtimes a codec (``Runtime(codec=airs.PickleCodec())``) and
objects cross nodes encoded, and are decoded on the other side.

Processes that :meth:`Node.monitor` get :class:`NodeUp` and
:class:`NodeDown` messages.

``libairs_node`` is found next to the loaded ``libairs`` (the same folder,
or its ``node/`` folder in a build tree), or through ``AIRS_NODE_LIBRARY``,
or the dynamic loader.
"""
from __future__ import annotations

import ctypes
import enum
import os
from ctypes import (POINTER, Structure, c_char, c_char_p, c_int, c_int32,
                    c_size_t, c_uint32, c_uint64, c_void_p)
from dataclasses import dataclass
from typing import Any, List, Optional

from . import _ffi
from .errors import InvalidArgumentError, NotFoundError, error_for
from .pid import Pid

# node.h's constants (checked against the header by test_abi).
NODE_NAME_MAX = 63
MSG_NODE_BASE = 0xE000000000000000 + 0x1000
MSG_NODE_UP = MSG_NODE_BASE + 1
MSG_NODE_DOWN = MSG_NODE_BASE + 2
NODE_OPTS_VERSION = 1


class DownReason(enum.IntEnum):
    """airs_node_down_reason."""
    NONE = 0
    NOCONNECTION = 1
    LEFT = 2
    RESTARTED = 3
    DISCONNECTED = 4


class NodePeerStruct(Structure):
    _fields_ = [("name", c_char * (NODE_NAME_MAX + 1)), ("incarnation", c_uint64)]


class NodeEventStruct(Structure):
    _fields_ = [("peer", NodePeerStruct), ("reason", c_int32), ("reserved", c_uint32)]


class NodeOptsStruct(Structure):
    _fields_ = [("version", c_uint32), ("size", c_uint32), ("url", c_char_p),
                ("name", c_char_p), ("cluster", c_char_p),
                ("heartbeat_ms", c_uint32), ("down_after_ms", c_uint32),
                ("reconnect_grace_ms", c_uint32),
                ("connect_timeout_ms", c_uint32)]


@dataclass(frozen=True)
class Peer:
    """A node: its name and incarnation (a new one at every attach)."""
    name: str
    incarnation: int


@dataclass(frozen=True)
class NodeUp:
    """AIRS_MSG_NODE_UP: `peer` is up (first heard, or back)."""
    peer: Peer


@dataclass(frozen=True)
class NodeDown:
    """AIRS_MSG_NODE_DOWN: `peer` is down, and why."""
    peer: Peer
    reason: DownReason


def decode(kind: int, msg: int) -> Any:
    """The NodeUp or NodeDown of a borrowed message, or None for another
    type or a malformed one."""
    if kind not in (MSG_NODE_UP, MSG_NODE_DOWN):
        return None
    size = _ffi.fast.airs_msg_size(msg)
    data = _ffi.fast.airs_msg_data(msg)
    if not data or size != ctypes.sizeof(NodeEventStruct):
        return None
    ev = NodeEventStruct.from_buffer_copy(ctypes.string_at(data, size))
    peer = Peer(ev.peer.name.decode("utf-8", "replace"), ev.peer.incarnation)
    if kind == MSG_NODE_UP:
        return NodeUp(peer)
    return NodeDown(peer, DownReason(ev.reason)
                    if ev.reason in DownReason._value2member_map_
                    else DownReason.NOCONNECTION)


# --- the library ------------------------------------------------------------

_lib: Optional[ctypes.CDLL] = None


def _candidates() -> List[str]:
    explicit = os.environ.get("AIRS_NODE_LIBRARY")
    if explicit:
        return [explicit]
    here = os.path.dirname(_ffi.LIBRARY_PATH or "")
    names = ("libairs_node.so.0", "libairs_node.so")
    out = [os.path.join(d, n) for d in (here, os.path.join(here, "node"))
           for n in names if os.path.isfile(os.path.join(d, n))]
    return out + ["libairs_node.so.0"]


def _errcheck(status: int, func: Any, args: Any) -> int:
    if status != 0:
        text = _lib.airs_node_last_error_message()  # type: ignore[union-attr]
        raise error_for(status, text.decode("utf-8", "replace")
                        if text else "")
    return status


def _load() -> ctypes.CDLL:
    global _lib
    if _lib is not None:
        return _lib
    tried = []
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path)
            break
        except OSError as e:
            tried.append(f"{path}: {e}")
    else:
        raise OSError("libairs_node not found (built with -Dnode=enabled? "
                      "set AIRS_NODE_LIBRARY): " + "; ".join(tried))
    lib.airs_node_last_error_message.argtypes = []
    lib.airs_node_last_error_message.restype = c_char_p
    table = {
        "airs_node_opts_init": [POINTER(NodeOptsStruct)],
        "airs_node_attach": [c_void_p, POINTER(NodeOptsStruct), POINTER(c_void_p)],
        "airs_node_self": [c_void_p, POINTER(NodePeerStruct)],
        "airs_node_monitor": [c_void_p, c_uint64, c_int],
        "airs_node_peers": [c_void_p, POINTER(NodePeerStruct), c_size_t,
                            POINTER(c_size_t)],
        "airs_node_register": [c_void_p, c_char_p, c_uint64],
        "airs_node_unregister": [c_void_p, c_char_p],
        "airs_node_whereis": [c_void_p, c_char_p, c_uint32,
                              POINTER(c_uint64)],
    }
    for name, argtypes in table.items():
        fn = getattr(lib, name)
        fn.argtypes = argtypes
        fn.restype = c_int
        fn.errcheck = _errcheck
    lib.airs_node_detach.argtypes = [c_void_p]
    lib.airs_node_detach.restype = None
    _lib = lib
    return lib


def _name(name: str) -> bytes:
    if not isinstance(name, str):
        raise InvalidArgumentError(f"a name is a str, not {type(name)!r}")
    return name.encode("utf-8")


class Node:
    """A runtime attached to a NATS server as node `name` of `cluster`
    (airs_node_attach); detach it (:meth:`detach`, or a ``with`` block)
    before the runtime closes. One node per runtime. Raises
    AlreadyExistsError if the name (or the runtime's pid tag) is taken in
    the cluster, SystemCallError if the server cannot be reached,
    InvalidArgumentError for a bad name or number."""

    def __init__(self, runtime: Any, url: str, name: str, *,
                 cluster: str = "airs", heartbeat_ms: int = 100,
                 down_after_ms: int = 1000, reconnect_grace_ms: int = 2000,
                 connect_timeout_ms: int = 2000) -> None:
        lib = _load()
        opts = NodeOptsStruct()
        lib.airs_node_opts_init(ctypes.byref(opts))
        opts.url = url.encode("utf-8")
        opts.name = _name(name)
        opts.cluster = _name(cluster)
        opts.heartbeat_ms = heartbeat_ms
        opts.down_after_ms = down_after_ms
        opts.reconnect_grace_ms = reconnect_grace_ms
        opts.connect_timeout_ms = connect_timeout_ms
        handle = c_void_p()
        lib.airs_node_attach(runtime._core.handle, ctypes.byref(opts),
                             ctypes.byref(handle))
        self._handle: Optional[c_void_p] = handle
        self.runtime = runtime
        # From now on pids of other runtimes are other nodes' processes:
        # objects go to them only through a codec (airs._outbound).
        runtime._core.has_node = True

    def __enter__(self) -> "Node":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.detach()

    def _h(self) -> c_void_p:
        if self._handle is None:
            raise InvalidArgumentError("the node is detached")
        return self._handle

    def detach(self) -> None:
        """Leaves the cluster (peers see NodeDown LEFT at once). Twice is
        once."""
        if self._handle is not None:
            _load().airs_node_detach(self._handle)
            self._handle = None

    @property
    def self(self) -> Peer:
        """This node's name and incarnation."""
        p = NodePeerStruct()
        _load().airs_node_self(self._h(), ctypes.byref(p))
        return Peer(p.name.decode("utf-8"), p.incarnation)

    def peers(self) -> List[Peer]:
        """The peers up now."""
        lib = _load()
        count = c_size_t()
        lib.airs_node_peers(self._h(), None, 0, ctypes.byref(count))
        out = (NodePeerStruct * max(count.value, 1))()
        lib.airs_node_peers(self._h(), out, len(out), ctypes.byref(count))
        return [Peer(p.name.decode("utf-8"), p.incarnation)
                for p in out[:min(count.value, len(out))]]

    def monitor(self, pid: int, on: bool = True) -> None:
        """`pid` (a process of this runtime) gets NodeUp/NodeDown from now
        on, starting with a NodeUp per peer up now; on=False: no more."""
        _load().airs_node_monitor(self._h(), pid, 1 if on else 0)

    def register(self, name: str, pid: int) -> None:
        """Registers `pid` (a live process of this runtime) under `name` in
        the whole cluster (Erlang's global:register_name). Waits for the
        cluster's answers: not from inside an actor."""
        _load().airs_node_register(self._h(), _name(name), pid)

    def unregister(self, name: str) -> None:
        """Gives up a name this node holds (NotFoundError if it does not)."""
        _load().airs_node_unregister(self._h(), _name(name))

    def whereis(self, name: str, timeout_ms: int = 1000) -> Optional[Pid]:
        """The pid registered under `name` anywhere in the cluster, or None.
        Waits for the holder's answer: not from inside an actor."""
        out = c_uint64()
        try:
            _load().airs_node_whereis(self._h(), _name(name), timeout_ms,
                                      ctypes.byref(out))
        except NotFoundError:
            return None
        return Pid(out.value)


__all__ = ["DownReason", "Node", "NodeDown", "NodeUp", "Peer", "decode"]
