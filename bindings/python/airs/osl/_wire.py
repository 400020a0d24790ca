"""What the fs, proc and net modules share: reading a reply's result,
turning it into an exception, paths and addresses to and from C, and
calling a system actor from a thread with a request message."""
from __future__ import annotations

import ctypes
import ipaddress
import os
from typing import TYPE_CHECKING, Any, Optional, Tuple, TypeVar

from .. import _ffi, _osl_ffi
from .._request import Request  # noqa: F401 (re-exported)
from ..errors import (OK, AirsError, InvalidArgumentError,
                      SystemCallError, error_for)

if TYPE_CHECKING:
    from .._types import Address, Dest, StrPath
    from ..runtime import Runtime

lib = _ffi.lib
_result_get = _ffi.raw("airs_osl_result_get")


_R = TypeVar("_R", bound="Result")


class Result:
    """The head of every reply of a system actor (airs_osl_result):
    ``status`` (0 = OK, else an airs status such as
    :data:`airs.errors.EOS`), ``errno`` (the OS error behind an EOS, else
    0) and ``text`` (what failed and why, "" on success). Mixed into each
    reply class; :meth:`check` raises the failure."""

    __slots__ = ()
    # The fields of each reply dataclass.
    status: int
    errno: int
    text: str

    @property
    def ok(self) -> bool:
        """True if the operation succeeded."""
        return self.status == OK

    def error(self) -> Optional[AirsError]:
        """The exception for a failed reply (not raised), or None: the
        :mod:`airs.errors` class of its status; an EOS is a
        :class:`airs.SystemCallError` whose ``errno`` is the OS's."""
        if self.status == OK:
            return None
        error = error_for(self.status, self.text)
        if isinstance(error, SystemCallError):
            error.errno = self.errno
        return error

    def check(self: _R) -> _R:
        """Returns self if the operation succeeded, else raises
        :meth:`error`."""
        error = self.error()
        if error is not None:
            raise error
        return self


def read_result(msg: int) -> Tuple[int, int, str]:
    """(status, errno, text) of a system actor's reply `msg` (borrowed).
    A message that is no reply reads as the C reader says (EINVAL with its
    reason)."""
    out = _osl_ffi.OslResult()
    status = _result_get(msg, ctypes.byref(out))
    if status != OK:
        return status, 0, _ffi.last_error_message()
    return out.status, out.err, out.text.decode("utf-8", "replace")


def as_bytes(data: Any, what: str = "data") -> bytes:
    """`data` (bytes, bytearray, memoryview: anything with the buffer
    protocol but str and int) as bytes. TypeError for the rest: bytes(5)
    would be five NUL bytes, bytes("x") an error that says less."""
    if isinstance(data, (str, int)) or data is None:
        raise TypeError(f"{what} is bytes (or a bytes-like object), not "
                        f"{type(data).__name__}")
    try:
        return bytes(memoryview(data))
    except TypeError:
        raise TypeError(f"{what} is bytes (or a bytes-like object), not "
                        f"{type(data).__name__}") from None


def fs_path(path: StrPath) -> Tuple[bytes, int]:
    """A path as C takes it: bytes (str through os.fsencode), and its
    exact length, so that an embedded NUL reaches the actor, which refuses
    it with EINVAL, instead of cutting the path short here."""
    data = os.fsencode(path)
    return data, len(data)


def take_msg(build, *args):
    """Calls the C builder `build(*args, &out)` and returns the message it
    made (an int address, owned by the caller)."""
    out = ctypes.c_void_p()
    build(*args, ctypes.byref(out))
    return out.value


def msg_bytes(msg: int) -> bytes:
    """The whole data of a borrowed message, as bytes."""
    size = _ffi.fast.airs_msg_size(msg)
    return ctypes.string_at(_ffi.fast.airs_msg_data(msg), size) if size else b""


def call(runtime: Runtime, to: Dest, msg: int, timeout_ms: int) -> int:
    """Sends the request `msg` (owned; consumed) to `to` with airs_call
    from this thread and returns the reply message (owned by the caller:
    free it with lib.airs_msg_free). Raises as :meth:`airs.Runtime.call`
    (Ctrl-C included)."""
    from .._outbound import resolve
    from .._ints import u32
    from ..errors import ProcessExitedError, TimeoutError
    core = runtime._core
    try:
        to = resolve(core, to)
        timeout_ms = u32(timeout_ms, "timeout_ms")
    except BaseException:
        lib.airs_msg_free(msg)
        raise

    def send_and_wait():
        reply = ctypes.c_void_p()
        try:
            lib.airs_call(core.handle, to, msg, timeout_ms,
                          ctypes.byref(reply))
        except (TimeoutError, ProcessExitedError):
            raise  # sent: C consumed it
        except BaseException:
            lib.airs_msg_free(msg)  # not sent: still ours
            raise
        return reply.value

    return runtime._blocking_call(send_and_wait)


def call_decoded(runtime: Runtime, to: Dest, request: Request,
                 timeout_ms: int, decode: Any, actor: str) -> Any:
    """Sends `request` to `to` and returns ``decode(type, reply)``, the
    typed reply. A reply that is none of `actor`'s (`to` is some other
    process) is InvalidArgumentError, its Python object released."""
    reply = call(runtime, to, request._airs_msg(), timeout_ms)
    try:
        kind = _ffi.fast.airs_msg_type(reply)
        decoded = decode(kind, reply)
        if decoded is None:
            runtime._core.decode_value(reply)  # releases what it carries
            raise InvalidArgumentError(
                f"{to!r} answered with a message of type {kind:#x}: not a "
                f"reply of the {actor}")
        return decoded
    finally:
        lib.airs_msg_free(reply)


# ---------------------------------------------------------------------------
# Addresses: Python gives and gets (host, port) tuples, as the socket
# module does for IPv4; an IPv6 address with a scope is "fe80::1%2".
# ---------------------------------------------------------------------------


def to_addr(address: Address) -> Any:
    """An airs_addr for `address`: (host, port), or "host:port" /
    "[v6]:port" text. Numeric hosts only (resolve names with
    :func:`airs.osl.net.resolve`). InvalidArgumentError if malformed."""
    if isinstance(address, tuple):
        if len(address) != 2:
            raise ValueError(f"an address is (host, port), not {address!r}")
        host, port = address
        if not isinstance(host, str) or not isinstance(port, int):
            raise TypeError(f"an address is (str, int), not {address!r}")
        text = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    elif isinstance(address, str):
        text = address
    else:
        raise TypeError(f"an address is (host, port) or text, not "
                        f"{type(address).__name__}")
    out = _osl_ffi.Addr()
    lib.airs_addr_parse(text.encode("utf-8", "replace"), ctypes.byref(out))
    return out


def from_addr(addr: Any) -> Optional[Tuple[str, int]]:
    """(host, port) for an airs_addr; None for an empty one."""
    if addr.family == _osl_ffi.AF_INET4:
        host = str(ipaddress.IPv4Address(bytes(addr.ip[:4])))
    elif addr.family == _osl_ffi.AF_INET6:
        host = str(ipaddress.IPv6Address(bytes(addr.ip)))
        if addr.scope_id:
            host += f"%{addr.scope_id}"
    else:
        return None
    return host, addr.port
