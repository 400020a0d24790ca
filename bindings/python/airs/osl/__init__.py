"""airs.osl: the system actors (``<airs/osl.h>``) from Python: a file
system actor, an OS process actor and a network actor, registered under
:data:`FS_NAME`, :data:`PROC_NAME` and :data:`NET_NAME`, started by
:func:`start` under one ``rest_for_one`` supervisor.

They are driven by request messages, as from C:

- inside an actor, :meth:`airs.Actor.request` sends a request object
  (:mod:`airs.osl.fs`, :mod:`airs.osl.proc`, :mod:`airs.osl.net`) and the
  actor later receives ``airs.Reply(ref, reply)`` whose value is a typed
  reply (:class:`~airs.osl.fs.FsReply`, :class:`~airs.osl.proc.ProcReply`,
  :class:`~airs.osl.net.NetReply`); the messages ports and sockets send
  on their own (process output and exit, socket data, ...) arrive as the
  typed objects of those modules;
- from a plain thread, :meth:`airs.Runtime.call` returns the typed reply,
  and the clients :class:`FileSystem`, :class:`Processes` and
  :class:`Network` return values and raise failures.

A failed operation is a reply, never a crash: ``reply.check()`` raises
it (:class:`airs.SystemCallError` with the OS's ``errno`` for what the OS
refused). Example::

    with airs.Runtime() as rt:
        airs.osl.start(rt)
        fs = airs.osl.FileSystem(rt)
        fs.write("/tmp/hello", b"hi")
        print(fs.list("/tmp"))
"""
from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING, Any, Optional

from .. import _ffi, _osl_ffi as c
from .. import node as _node
from ..pid import Pid
from . import fs, net, proc
from ._wire import Result
from .fs import File, FileStat, FileSystem, FileType, FsReply
from .net import Network, NetReply, Socket, SocketOptions
from .proc import Port, ProcessExit, ProcessOutput, Processes, ProcReply

if TYPE_CHECKING:
    from ..runtime import Runtime
    from ..supervisor import Supervisor

#: The registered names of the system actors.
FS_NAME: str = c.OSL_FS_NAME
PROC_NAME: str = c.OSL_PROC_NAME
NET_NAME: str = c.OSL_NET_NAME


def start(runtime: Runtime, *, intensity: int = 3, period_ms: int = 5000,
          name: Optional[str] = None) -> Supervisor:
    """Starts the file system, process and network actors, in that order,
    under one ``rest_for_one`` supervisor (a crash of the fs actor
    restarts all three; of the network actor, only it), registered as
    FS_NAME, PROC_NAME and NET_NAME. `intensity` restarts in `period_ms`
    and the supervisor gives up, as OTP's. `name` registers the
    supervisor. Returns its :class:`airs.Supervisor`. AlreadyExistsError:
    a name is taken (nothing is left running)."""
    opts = c.OslOpts()
    _ffi.lib.airs_osl_opts_init(ctypes.byref(opts))
    opts.intensity = intensity
    opts.period_ms = period_ms
    if name is not None:
        opts.name = name.encode("utf-8")
    pid = ctypes.c_uint64()
    _ffi.lib.airs_osl_start(runtime._core.handle, ctypes.byref(opts),
                            ctypes.byref(pid))
    return runtime.supervisor(Pid(pid.value))


_DECODERS = ((_node.MSG_NODE_BASE, _node.MSG_NODE_BASE + 0x100, _node.decode),
             (c.MSG_FS_BASE, c.MSG_FS_BASE + 0x100, fs.decode),
             (c.MSG_PROC_BASE, c.MSG_PROC_BASE + 0x100, proc.decode),
             (c.MSG_NET_BASE, c.MSG_NET_BASE + 0x100, net.decode),
             (c.MSG_SOCK_DATA, c.MSG_SOCK_ACCEPT_ERROR + 1, net.decode))


def decode(kind: int, msg: int) -> Any:
    """The typed object of a borrowed system-actor or socket message of
    type `kind`, or None if the binding does not know the type (the
    receiver then gets its bytes)."""
    for low, high, decoder in _DECODERS:
        if low <= kind < high:
            return decoder(kind, msg)
    return None


def is_osl_type(kind: int) -> bool:
    """True if `kind` is a type the system actors or sockets use."""
    return (c.MSG_OSL_BASE <= kind < _ffi.MSG_BINDING_BASE
            or c.MSG_SOCK_DATA <= kind <= c.MSG_SOCK_ACCEPT_ERROR)


__all__ = ["FS_NAME", "File", "FileStat", "FileSystem", "FileType",
           "FsReply", "NET_NAME", "NetReply", "Network", "PROC_NAME", "Port",
           "ProcReply", "ProcessExit", "ProcessOutput", "Processes",
           "Result", "Socket", "SocketOptions", "decode", "fs", "net",
           "proc", "start"]
