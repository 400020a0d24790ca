"""Sockets (``<airs/net.h>``) and the network actor (``<airs/osl.h>``)
from Python, in Erlang's gen_tcp / gen_udp model.

A socket belongs to one actor, its owner, which hears everything that
happens on it as messages: :class:`SocketConnected`, :class:`SocketData`,
:class:`SocketAccepted`, :class:`SocketEof`, :class:`SocketError`, ...
(each with ``socket``, the socket's id). A socket starts passive: nothing
arrives until the owner gives credit with :meth:`Socket.set_active`
(Erlang's ``{active, N}``; :data:`ACTIVE_ALWAYS` for no flow control).
It closes when its owner ends.

Sockets are opened through the network actor (:data:`airs.osl.NET_NAME`)
with :class:`Connect`, :class:`Listen`, :class:`UdpOpen` requests (and
names resolved with :class:`Resolve`), from an actor with
:meth:`airs.Actor.request` or from a thread with :class:`Network`.
Sending, flow control and closing go straight to the runtime through a
:class:`Socket`, from any thread. Addresses are ``(host, port)`` tuples of
numeric hosts (or "host:port" text; "[::1]:80" for IPv6).
"""
from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, List, Optional, Tuple

from .. import _ffi, _osl_ffi as c
from . import _wire
from ._wire import Request, Result, from_addr, to_addr

if TYPE_CHECKING:
    from .._types import Address, Buffer, Dest, PidLike
    from ..runtime import Runtime

lib = _ffi.lib

#: Credit for every read (no flow control), and the most credit held.
ACTIVE_ALWAYS = c.ACTIVE_ALWAYS
ACTIVE_MAX = c.ACTIVE_MAX


@dataclass(frozen=True)
class SocketOptions:
    """airs_socket_opts; None keeps the runtime's default. `active`: the
    initial credit (0: passive); `nodelay`, `reuseaddr`, `v6only`;
    `send_buffer`, `read_size` (most bytes per :class:`SocketData`) and
    `backlog` in bytes / connections."""
    active: int = 0
    nodelay: bool = True
    reuseaddr: bool = True
    v6only: bool = False
    send_buffer: Optional[int] = None
    read_size: Optional[int] = None
    backlog: Optional[int] = None

    def _c(self) -> Any:
        opts = c.SocketOpts()
        lib.airs_socket_opts_init(ctypes.byref(opts))
        opts.active = self.active
        opts.flags = ((c.SOCK_NODELAY if self.nodelay else 0)
                      | (c.SOCK_REUSEADDR if self.reuseaddr else 0)
                      | (c.SOCK_V6ONLY if self.v6only else 0))
        for name in ("send_buffer", "read_size", "backlog"):
            value = getattr(self, name)
            if value is not None:
                setattr(opts, name, value)
        return opts


class _Request(Request):
    """Base of the network actor's requests (flat airs_net_req)."""
    __slots__ = ()
    _type = 0

    def _fill(self, req: Any) -> None:
        """Sets the request's fields of `req`."""

    def _airs_msg(self):
        req = c.NetReq()
        lib.airs_net_req_init(ctypes.byref(req), self._type)
        owner = getattr(self, "owner", 0)
        req.owner = owner or 0
        options = getattr(self, "options", None)
        if options is not None:
            req.has_opts, req.opts = 1, options._c()
        self._fill(req)
        out = ctypes.c_void_p()
        lib.airs_msg_new(self._type, ctypes.byref(req), ctypes.sizeof(req),
                         ctypes.byref(out))
        return out.value


@dataclass(frozen=True)
class Connect(_Request):
    """Connects to `address`, giving up after `timeout_ms` (0: the
    kernel's timeout). The socket belongs to `owner` (0: the requester; a
    thread must name an actor), which gets :class:`SocketConnected` or
    :class:`SocketError`. Reply: ``socket``."""
    address: Address
    owner: PidLike = 0
    timeout_ms: int = 0
    options: Optional[SocketOptions] = None
    _type = c.MSG_NET_CONNECT

    def _fill(self, req):
        req.addr = to_addr(self.address)
        req.timeout_ms = self.timeout_ms


@dataclass(frozen=True)
class Listen(_Request):
    """A TCP listener on `address` (port 0: any free one); `owner` gets
    :class:`SocketAccepted` per connection and unit of credit. Reply:
    ``socket`` and ``local`` (the bound address)."""
    address: Address
    owner: PidLike = 0
    options: Optional[SocketOptions] = None
    _type = c.MSG_NET_LISTEN

    def _fill(self, req):
        req.addr = to_addr(self.address)


@dataclass(frozen=True)
class UdpOpen(_Request):
    """A UDP socket bound to `address`; `owner` gets
    :class:`SocketDatagram`. Reply: ``socket`` and ``local``."""
    address: Address
    owner: PidLike = 0
    options: Optional[SocketOptions] = None
    _type = c.MSG_NET_UDP_OPEN

    def _fill(self, req):
        req.addr = to_addr(self.address)


@dataclass(frozen=True)
class Resolve(_Request):
    """Resolves `host` (getaddrinfo, on the blocking pool); every address
    found gets `port`. Reply: ``addresses``."""
    host: str
    port: int = 0
    _type = c.MSG_NET_RESOLVE

    def _fill(self, req):
        host = self.host.encode("utf-8")
        if not host or len(host) >= c.NET_HOST_MAX or b"\0" in host:
            raise ValueError(f"host name {self.host!r}: empty, over "
                             f"{c.NET_HOST_MAX - 1} bytes or with a NUL")
        req.host = host
        req.addr.family, req.addr.port = c.AF_INET4, self.port


@dataclass(frozen=True)
class NetReply(Result):
    """The network actor's reply (see :class:`Result`): ``socket`` (the
    new socket's id: Connect, Listen, UdpOpen), ``local`` (Listen,
    UdpOpen: the bound address), ``addresses`` (Resolve)."""
    status: int
    errno: int
    text: str
    socket: int = 0
    local: Optional[Tuple[str, int]] = None
    addresses: Tuple[Tuple[str, int], ...] = ()


# ---------------------------------------------------------------------------
# Messages to a socket's owner
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SocketData:
    """TCP bytes read, in stream order (spends a unit of credit)."""
    socket: int
    data: bytes


@dataclass(frozen=True)
class SocketDatagram:
    """One UDP datagram from ``peer``; ``truncated`` if it was longer
    than the socket's read_size."""
    socket: int
    peer: Tuple[str, int]
    data: bytes
    truncated: bool


@dataclass(frozen=True)
class SocketPassive:
    """The credit ran out: the socket stopped reading."""
    socket: int


@dataclass(frozen=True)
class SocketEof:
    """TCP: the peer closed its sending side (this side may still
    send)."""
    socket: int


@dataclass(frozen=True)
class SocketError:
    """The socket failed and is closed (its last message): ``errno``,
    ``op`` ("connect", "recv", ...) and the OS's ``text``."""
    socket: int
    errno: int
    op: str
    text: str


@dataclass(frozen=True)
class SocketAccepted:
    """``listener`` accepted ``socket`` from ``peer``. It belongs to the
    listener's owner and is passive: give it away, then set it active."""
    listener: int
    socket: int
    peer: Tuple[str, int]


@dataclass(frozen=True)
class SocketConnected:
    """A Connect succeeded: the socket can send and be set active."""
    socket: int


@dataclass(frozen=True)
class SocketSent:
    """The bytes of the send acknowledged with ``ack`` reached the
    kernel."""
    socket: int
    ack: int


@dataclass(frozen=True)
class SocketWritable:
    """A send refused with TryAgainError may be made again."""
    socket: int


@dataclass(frozen=True)
class SocketAcceptError:
    """``listener`` could not accept (out of fds or memory); it retries
    after 100 ms."""
    listener: int
    errno: int
    op: str
    text: str


def _error_fields(msg):
    error = c.SockError.from_buffer_copy(
        _wire.msg_bytes(msg)[:ctypes.sizeof(c.SockError)])
    return (error.err, error.op.decode("ascii", "replace"),
            error.text.decode("utf-8", "replace"))


_datagram_read = _ffi.raw("airs_datagram_read")


def _decode_datagram(sock, msg):
    info, data = c.Datagram(), ctypes.c_void_p()
    _datagram_read(msg, ctypes.byref(info), ctypes.byref(data))
    payload = ctypes.string_at(data, info.size) if info.size else b""
    return SocketDatagram(sock, from_addr(getattr(info, "from")), payload,
                          bool(info.truncated))


def _decode_accepted(sock, msg):
    accepted = c.SockAccepted.from_buffer_copy(
        _wire.msg_bytes(msg)[:ctypes.sizeof(c.SockAccepted)])
    return SocketAccepted(sock, accepted.socket, from_addr(accepted.peer))


def _decode_sent(sock, msg):
    return SocketSent(sock, int.from_bytes(_wire.msg_bytes(msg)[:8],
                                           "little"))


_SOCKET_MESSAGES = {
    c.MSG_SOCK_DATA: lambda s, m: SocketData(s, _wire.msg_bytes(m)),
    c.MSG_SOCK_DATAGRAM: _decode_datagram,
    c.MSG_SOCK_PASSIVE: lambda s, m: SocketPassive(s),
    c.MSG_SOCK_EOF: lambda s, m: SocketEof(s),
    c.MSG_SOCK_ERROR: lambda s, m: SocketError(s, *_error_fields(m)),
    c.MSG_SOCK_ACCEPTED: _decode_accepted,
    c.MSG_SOCK_CONNECTED: lambda s, m: SocketConnected(s),
    c.MSG_SOCK_SENT: _decode_sent,
    c.MSG_SOCK_WRITABLE: lambda s, m: SocketWritable(s),
    c.MSG_SOCK_ACCEPT_ERROR:
        lambda s, m: SocketAcceptError(s, *_error_fields(m)),
}


def decode(kind: int, msg: int) -> Any:
    """The Python object of a borrowed socket message or network reply of
    type `kind`, or None if it is neither."""
    if kind == c.MSG_NET_REPLY:
        return _decode_reply(msg)
    decoder = _SOCKET_MESSAGES.get(kind)
    if decoder is None:
        return None
    return decoder(_ffi.fast.airs_msg_correlation(msg), msg)


def _decode_reply(msg):
    status, err, text = _wire.read_result(msg)
    if status != 0:
        return NetReply(status, err, text)
    out = c.NetReply()
    lib.airs_net_reply_get(msg, ctypes.byref(out))
    return NetReply(status, err, text, out.socket, from_addr(out.local),
                    tuple(from_addr(out.addrs[i]) for i in range(out.count)))


# ---------------------------------------------------------------------------
# Sockets, and the client for plain threads
# ---------------------------------------------------------------------------


class Socket:
    """Operations on socket `id` of `runtime`, from any thread (the
    owner hears the outcome as messages). Raises: NotFoundError (closed,
    or never was), StateError (wrong kind of socket for the call),
    TryAgainError (send buffer full: wait for :class:`SocketWritable`)."""

    def __init__(self, runtime: Runtime, id: int) -> None:
        self.runtime = runtime
        self.id = id

    @property
    def _rt(self) -> Any:
        return self.runtime._core.handle

    def send(self, data: Buffer, ack: int = 0) -> None:
        """TCP: queues `data` for sending (in order); `ack` != 0 asks for
        a :class:`SocketSent` with it."""
        data = _wire.as_bytes(data)
        lib.airs_socket_send(self._rt, self.id, data, len(data), ack)

    def send_to(self, address: Address, data: Buffer) -> None:
        """UDP: sends one datagram to `address` now."""
        data = _wire.as_bytes(data)
        addr = to_addr(address)
        lib.airs_udp_send(self._rt, self.id, ctypes.byref(addr), data,
                          len(data))

    def set_active(self, n: int) -> None:
        """Flow control: n > 0 adds credit, 0 makes it passive now,
        ACTIVE_ALWAYS delivers everything."""
        lib.airs_socket_set_active(self._rt, self.id, n)

    def give(self, owner: PidLike) -> None:
        """Hands the socket to the actor `owner`
        (gen_tcp:controlling_process)."""
        lib.airs_socket_give(self._rt, self.id, owner)

    def shutdown(self) -> None:
        """TCP half-close: the peer reads EOF once the buffer is sent."""
        lib.airs_socket_shutdown(self._rt, self.id)

    def close(self) -> None:
        """Closes now; unsent bytes are dropped."""
        lib.airs_socket_close(self._rt, self.id)

    def local_address(self) -> Optional[Tuple[str, int]]:
        """The bound (host, port)."""
        local = c.Addr()
        lib.airs_socket_addr(self._rt, self.id, ctypes.byref(local), None)
        return from_addr(local)

    def peer_address(self) -> Optional[Tuple[str, int]]:
        """The remote (host, port); StateError for a listener."""
        peer = c.Addr()
        lib.airs_socket_addr(self._rt, self.id, None, ctypes.byref(peer))
        return from_addr(peer)

    def __repr__(self) -> str:
        return f"<airs.osl.net.Socket {self.id}>"


class Network:
    """Calls the network actor of `runtime` from a plain thread. Sockets
    need an owner (an actor's pid): from a thread there is no requester
    to default to. Methods raise the reply's failure."""

    def __init__(self, runtime: Runtime, timeout_ms: int = 5000,
                 name: Dest = c.OSL_NET_NAME) -> None:
        self.runtime = runtime
        self.timeout_ms = timeout_ms
        self.name = name

    def call(self, request: Request) -> NetReply:
        """Sends `request` and returns its :class:`NetReply` unchecked."""
        return _wire.call_decoded(self.runtime, self.name, request,
                                  self.timeout_ms, decode, "network actor")

    def listen(self, address: Address, owner: PidLike,
               options: Optional[SocketOptions] = None
               ) -> Tuple[Socket, Tuple[str, int]]:
        """A listener owned by `owner`; returns ``(Socket, (host,
        port))``."""
        reply = self.call(Listen(address, owner, options)).check()
        return Socket(self.runtime, reply.socket), reply.local

    def connect(self, address: Address, owner: PidLike, timeout_ms: int = 0,
                options: Optional[SocketOptions] = None) -> Socket:
        """Starts connecting for `owner` (which gets SocketConnected or
        SocketError); returns the :class:`Socket`."""
        reply = self.call(Connect(address, owner, timeout_ms,
                                  options)).check()
        return Socket(self.runtime, reply.socket)

    def udp_open(self, address: Address, owner: PidLike,
                 options: Optional[SocketOptions] = None
                 ) -> Tuple[Socket, Tuple[str, int]]:
        """A UDP socket; returns ``(Socket, (host, port))``."""
        reply = self.call(UdpOpen(address, owner, options)).check()
        return Socket(self.runtime, reply.socket), reply.local

    def resolve(self, host: str, port: int = 0) -> List[Tuple[str, int]]:
        """The addresses of `host`, as (host, port) tuples."""
        return list(self.call(Resolve(host, port)).check().addresses)


def socket_count(runtime: Runtime) -> int:
    """Sockets open now in `runtime`."""
    return lib.airs_socket_count(runtime._core.handle)

