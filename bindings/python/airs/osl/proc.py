"""The OS process actor (``<airs/proc.h>``) from Python.

:class:`Spawn` asks the process actor (:data:`airs.osl.PROC_NAME`) to
start a program with posix_spawn; the reply names the child's OS pid and
its *port*, an actor that owns the child's pipes. The port sends its
owner (by default the actor that asked) :class:`ProcessOutput` for what
the child writes and one :class:`ProcessExit` when it has ended, after
all its output. Requests to the port (:class:`Write`, :class:`CloseStdin`,
:class:`Signal`, :class:`Terminate`, :class:`Wait`) write stdin, close it
(EOF), signal, end the child gracefully (SIGTERM, SIGKILL after the grace
period) or wait for it. The child dies with its owner: no orphans, no
zombies, no SIGCHLD handler. Inside an actor::

    def on_start(self):
        self.request(airs.osl.PROC_NAME,
                     airs.osl.proc.Spawn(["wc", "-c"], stdin=True))

    def receive(self, message):
        match message:
            case airs.Reply(value=airs.osl.proc.ProcReply() as r):
                port = r.check().port ...
            case airs.osl.proc.ProcessOutput(data=data): ...
            case airs.osl.proc.ProcessExit(code=code): ...

From a plain thread, :class:`Processes` spawns and returns a
:class:`Port`, whose output and exit an actor of the client's keeps for
the thread (:meth:`Port.output`, :meth:`Port.wait`).
"""
from __future__ import annotations

import ctypes
import os
import threading
from dataclasses import dataclass
from typing import (TYPE_CHECKING, Any, Dict, Iterable, List, Mapping,
                    Optional, Sequence, Tuple, Union)

from .. import _ffi, _osl_ffi as c
from ..actor import Actor
from ..errors import TimeoutError
from ..pid import Pid, pid_or_none
from . import _wire
from ._wire import Request, Result

if TYPE_CHECKING:
    from .._types import Buffer, Dest, PidLike, StrPath
    from ..runtime import Runtime

lib = _ffi.lib

#: stderr: a pipe of its own, merged into stdout, or /dev/null.
PIPE, STDOUT, DISCARD = "pipe", "stdout", "discard"

#: Default grace between SIGTERM and SIGKILL, in ms.
KILL_GRACE_DEFAULT = c.PROC_KILL_GRACE_DEFAULT
#: Most stdin bytes a port queues (a write past it: TryAgainError).
WRITE_QUEUE_MAX = c.PROC_WRITE_QUEUE_MAX


def _strings(values):
    """A NULL-terminated char*[] of `values` (str through os.fsencode),
    and the buffers it points into (keep them until the build)."""
    data = [os.fsencode(v) for v in values]
    array = (ctypes.c_char_p * (len(data) + 1))(*data, None)
    return array, data


class _Request(Request):
    """Base of the proc requests: ``_airs_msg()`` builds a fresh request
    message owned by the caller."""
    __slots__ = ()


@dataclass(frozen=True)
class Spawn(_Request):
    """Starts `argv` (argv[0] is the program: a path, or a name looked up
    in the host's PATH; `path` overrides which file runs). `env`: a
    mapping or "NAME=value" strings (None: the host's environment); `cwd`
    (None: the host's). `stdin`: True for a pipe the owner writes with
    :class:`Write` (else /dev/null); `stderr`: PIPE, STDOUT (2>&1) or
    DISCARD; `stdout`: PIPE or DISCARD. `kill_grace_ms`: Terminate's wait
    before SIGKILL. `owner`: the actor that gets the output and the exit
    and with whose end the child dies (0: the requester; from a thread,
    nobody). Reply: ``os_pid`` and ``port``."""
    argv: Sequence[StrPath]  # kept as a tuple
    path: Optional[StrPath] = None
    env: Union[Mapping[str, str], Iterable[StrPath], None] = None
    cwd: Optional[StrPath] = None
    stdin: bool = False
    stderr: str = PIPE
    stdout: str = PIPE
    kill_grace_ms: int = KILL_GRACE_DEFAULT
    owner: PidLike = 0

    def __post_init__(self) -> None:
        if isinstance(self.argv, (str, bytes)):
            raise TypeError("argv is a list of strings (argv[0] the "
                            "program), not one string")
        object.__setattr__(self, "argv", tuple(self.argv))
        if not self.argv and self.path is None:
            raise ValueError("nothing to run: argv is empty and no path")
        if self.stderr not in (PIPE, STDOUT, DISCARD):
            raise ValueError(f"stderr is PIPE, STDOUT or DISCARD, not "
                             f"{self.stderr!r}")
        if self.stdout not in (PIPE, DISCARD):
            raise ValueError(f"stdout is PIPE or DISCARD, not "
                             f"{self.stdout!r}")

    def _airs_msg(self):
        spawn = c.ProcSpawn()
        lib.airs_proc_spawn_init(ctypes.byref(spawn))
        path = os.fsencode(self.path if self.path is not None
                           else self.argv[0])
        spawn.path = path
        keep = [path]
        if self.argv:
            argv, data = _strings(self.argv)
            spawn.argv = ctypes.cast(argv, ctypes.POINTER(ctypes.c_char_p))
            keep += [argv, data]
        if self.env is not None:
            env = self.env
            if hasattr(env, "items"):
                env = [f"{k}={v}" for k, v in env.items()]
            envp, data = _strings(env)
            spawn.envp = ctypes.cast(envp, ctypes.POINTER(ctypes.c_char_p))
            keep += [envp, data]
        if self.cwd is not None:
            cwd = os.fsencode(self.cwd)
            spawn.cwd = cwd
            keep.append(cwd)
        spawn.flags = ((c.PROC_STDIN_PIPE if self.stdin else 0)
                       | {PIPE: 0, STDOUT: c.PROC_STDERR_MERGE,
                          DISCARD: c.PROC_STDERR_DISCARD}[self.stderr]
                       | (c.PROC_STDOUT_DISCARD
                          if self.stdout == DISCARD else 0))
        spawn.kill_grace_ms = self.kill_grace_ms
        spawn.owner = self.owner
        return _wire.take_msg(lib.airs_proc_req_spawn, ctypes.byref(spawn))


@dataclass(frozen=True)
class Watch(_Request):
    """Watches OS process `os_pid` (one the runtime did not start):
    `owner` (0: the requester) gets one :class:`ProcessExit` with
    ``unknown`` set when it ends. Reply: ``watcher``, the watching actor
    (stop it to stop watching)."""
    os_pid: int
    owner: PidLike = 0

    def _airs_msg(self):
        return _wire.take_msg(lib.airs_proc_req_watch, self.os_pid,
                              self.owner)


@dataclass(frozen=True)
class Write(_Request):
    """To a port: writes `data` to the child's stdin. Replied once it is
    all in the pipe; TryAgainError past WRITE_QUEUE_MAX queued bytes."""
    data: bytes

    def _airs_msg(self):
        data = _wire.as_bytes(self.data)
        return _wire.take_msg(lib.airs_proc_req_write, data, len(data))


@dataclass(frozen=True)
class CloseStdin(_Request):
    """To a port: closes the child's stdin (EOF) after the writes before."""

    def _airs_msg(self):
        return _wire.take_msg(lib.airs_proc_req_close_stdin)


@dataclass(frozen=True)
class Signal(_Request):
    """To a port: sends `signo` to the child, or its whole process group
    with `group`."""
    signo: int
    group: bool = False

    def _airs_msg(self):
        return _wire.take_msg(
            lib.airs_proc_req_signal, self.signo,
            c.PROC_SIGNAL_GROUP if self.group else c.PROC_SIGNAL_CHILD)


@dataclass(frozen=True)
class Terminate(_Request):
    """To a port: SIGTERM to the child's group, SIGKILL after its grace
    period. Reply (when it has ended): ``exit``."""

    def _airs_msg(self):
        return _wire.take_msg(lib.airs_proc_req_terminate)


@dataclass(frozen=True)
class Wait(_Request):
    """To a port: waits up to `timeout_ms` for the child's end. Reply:
    ``exit``, or status TIMEDOUT (the child untouched). Give the request
    or call a longer timeout than this one."""
    timeout_ms: int

    def _airs_msg(self):
        return _wire.take_msg(lib.airs_proc_req_wait, self.timeout_ms)


# ---------------------------------------------------------------------------
# Messages from ports, and replies
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessExit:
    """How a process ended (airs_proc_exit): ``code`` (its exit status
    when ``exited``, else -1), ``signo`` (the signal when ``signaled``),
    ``flags`` (AIRS_PROC_EXIT_*); ``port`` is the port (or watcher) that
    sent it, None inside a reply."""
    port: Optional[Pid]
    os_pid: int
    code: int
    signo: int
    flags: int

    @property
    def exited(self) -> bool:
        """It exited by itself (``code`` is its status)."""
        return bool(self.flags & c.PROC_EXIT_EXITED)

    @property
    def signaled(self) -> bool:
        """A signal ended it (``signo``)."""
        return bool(self.flags & c.PROC_EXIT_SIGNALED)

    @property
    def core_dumped(self) -> bool:
        return bool(self.flags & c.PROC_EXIT_CORE)

    @property
    def unknown(self) -> bool:
        """It ended, how is not known (a watched process)."""
        return bool(self.flags & c.PROC_EXIT_UNKNOWN)

    @property
    def by_port(self) -> bool:
        """The port killed it (its owner ended, or it was killed)."""
        return bool(self.flags & c.PROC_EXIT_BY_PORT)


@dataclass(frozen=True)
class ProcessOutput:
    """Bytes a child wrote: to stderr if ``stderr``, else stdout. ``port``
    tells children apart."""
    port: Pid
    data: bytes
    stderr: bool = False


@dataclass(frozen=True)
class ProcReply(Result):
    """The reply to a proc request (see :class:`Result` for status, errno,
    text and check()). ``request`` is its type; filled as the operation
    gives: ``os_pid`` and ``port`` (Spawn), ``watcher`` (Watch), ``exit``
    (Terminate, Wait)."""
    status: int
    errno: int
    text: str
    request: int
    os_pid: int = 0
    port: Optional[Pid] = None
    watcher: Optional[Pid] = None
    exit: Optional[ProcessExit] = None


_REPLIES = {c.MSG_PROC_SPAWN_REPLY: c.MSG_PROC_SPAWN,
            c.MSG_PROC_WATCH_REPLY: c.MSG_PROC_WATCH,
            c.MSG_PROC_WRITE_REPLY: c.MSG_PROC_WRITE,
            c.MSG_PROC_CLOSE_STDIN_REPLY: c.MSG_PROC_CLOSE_STDIN,
            c.MSG_PROC_SIGNAL_REPLY: c.MSG_PROC_SIGNAL,
            c.MSG_PROC_TERMINATE_REPLY: c.MSG_PROC_TERMINATE,
            c.MSG_PROC_WAIT_REPLY: c.MSG_PROC_WAIT}


def _exit_of(msg, port):
    out = c.ProcExit()
    lib.airs_proc_exit_get(msg, ctypes.byref(out))
    return ProcessExit(port, out.os_pid, out.code, out.signo, out.flags)


def decode(kind: int, msg: int
           ) -> Union[ProcReply, ProcessOutput, ProcessExit, None]:
    """The Python object of a borrowed proc message of type `kind`: a
    :class:`ProcReply`, :class:`ProcessOutput` or :class:`ProcessExit`;
    None if `kind` is none of them."""
    if kind in (c.MSG_PROC_STDOUT, c.MSG_PROC_STDERR):
        return ProcessOutput(Pid(_ffi.fast.airs_msg_sender(msg)),
                             _wire.msg_bytes(msg),
                             kind == c.MSG_PROC_STDERR)
    if kind == c.MSG_PROC_EXIT:
        return _exit_of(msg, pid_or_none(_ffi.fast.airs_msg_sender(msg)))
    request = _REPLIES.get(kind)
    if request is None:
        return None
    status, err, text = _wire.read_result(msg)
    if status != 0:
        return ProcReply(status, err, text, request)
    if request == c.MSG_PROC_SPAWN:
        out = c.ProcSpawned()
        lib.airs_proc_spawned_get(msg, ctypes.byref(out))
        return ProcReply(status, err, text, request, os_pid=out.os_pid,
                         port=Pid(out.port))
    if request == c.MSG_PROC_WATCH:
        data = _wire.msg_bytes(msg)[ctypes.sizeof(c.OslResult):]
        watched = c.ProcWatched.from_buffer_copy(
            data[:ctypes.sizeof(c.ProcWatched)])
        return ProcReply(status, err, text, request,
                         watcher=Pid(watched.watcher))
    if request in (c.MSG_PROC_TERMINATE, c.MSG_PROC_WAIT):
        exit = _exit_of(msg, None)
        return ProcReply(status, err, text, request, os_pid=exit.os_pid,
                         exit=exit)
    return ProcReply(status, err, text, request)


# ---------------------------------------------------------------------------
# The client for plain threads
# ---------------------------------------------------------------------------


class _Collected:
    """What the ports of a :class:`Processes` client sent: each port's
    output (until read) and exit. Filled by the client's owner actor on a
    worker, read by the threads that hold the ports."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        # port -> ([stdout bytes], [stderr bytes])
        self.output: Dict[Pid, Tuple[List[bytes], List[bytes]]] = {}
        self.exits: Dict[Pid, ProcessExit] = {}

    def add(self, message: Any) -> None:
        with self.cond:
            if isinstance(message, ProcessOutput):
                out = self.output.setdefault(message.port, ([], []))
                out[1 if message.stderr else 0].append(message.data)
            else:
                self.exits[message.port] = message
            self.cond.notify_all()


class _PortOwner(Actor):
    """Owns the ports a thread client spawns: their children die with it
    (that is, with the runtime), and their output and exits are kept for
    the threads (ports with no owner would drop them)."""

    def __init__(self, collected: _Collected) -> None:
        self.collected = collected

    def receive(self, message: Any) -> None:
        if isinstance(message, (ProcessOutput, ProcessExit)):
            self.collected.add(message)


class Processes:
    """Calls the process actor of `runtime` from a plain thread (inside
    an actor use :meth:`airs.Actor.request`). Methods wait for the reply
    (GIL released) up to `timeout_ms` and raise its failure
    (:meth:`ProcReply.check`): :class:`airs.SystemCallError` with errno
    ENOENT for a program that is not there, and so on.

    The programs it spawns (unless given another `owner`) are owned by an
    actor of the client's, which keeps their output and exit for the
    threads: :meth:`Port.output` and :meth:`Port.wait` read them, even
    after the child has ended. Output is kept until read."""

    def __init__(self, runtime: Runtime, timeout_ms: int = 5000,
                 name: Dest = c.OSL_PROC_NAME) -> None:
        self.runtime = runtime
        self.timeout_ms = timeout_ms
        self.name = name
        self._collected: Optional[_Collected] = None
        self._owner: Optional[Pid] = None
        self._lock = threading.Lock()

    def _port_owner(self) -> Tuple[Pid, _Collected]:
        with self._lock:
            if self._owner is None or not self.runtime.is_alive(self._owner):
                collected = _Collected()
                self._owner = self.runtime.spawn(_PortOwner, (collected,))
                self._collected = collected
            assert self._collected is not None
            return self._owner, self._collected

    def call(self, request: Request, to: Optional[Dest] = None,
             timeout_ms: Optional[int] = None) -> ProcReply:
        """Sends `request` to the process actor (or `to`, a port) and
        returns its :class:`ProcReply` unchecked."""
        return _wire.call_decoded(
            self.runtime, self.name if to is None else to, request,
            self.timeout_ms if timeout_ms is None else timeout_ms, decode,
            "process actor")

    def spawn(self, argv: Sequence[StrPath], **options: Any) -> Port:
        """Starts a program (the options of :class:`Spawn`) and returns its
        :class:`Port`. Without an `owner` option, the client's own actor
        owns it (see the class)."""
        collected = None
        if not options.get("owner"):
            options["owner"], collected = self._port_owner()
        reply = self.call(Spawn(argv, **options)).check()
        return Port(self, reply.port, reply.os_pid, collected)

    def watch(self, os_pid: int, owner: PidLike) -> Pid:
        """Watches a process the runtime did not start for the actor
        `owner`; returns the watcher's pid."""
        return self.call(Watch(os_pid, owner)).check().watcher


class Port:
    """A started program, driven from a plain thread: ``pid`` is its port
    actor, ``os_pid`` the child's process id."""

    def __init__(self, procs: Processes, pid: Pid, os_pid: int,
                 collected: Optional[_Collected] = None) -> None:
        self._procs = procs
        self._collected = collected
        self.pid = pid
        self.os_pid = os_pid

    def write(self, data: Buffer) -> None:
        """Writes to the child's stdin (spawned with stdin=True)."""
        self._procs.call(Write(data), self.pid).check()

    def close_stdin(self) -> None:
        """Closes the child's stdin: it reads end of file."""
        self._procs.call(CloseStdin(), self.pid).check()

    def signal(self, signo: int, group: bool = False) -> None:
        """Sends a signal to the child (or its process group)."""
        self._procs.call(Signal(signo, group), self.pid).check()

    def terminate(self) -> ProcessExit:
        """Ends the child gracefully; returns its :class:`ProcessExit`."""
        return self._procs.call(Terminate(), self.pid).check().exit

    def wait(self, timeout_ms: int = 5000) -> ProcessExit:
        """Waits for the child's end; returns its :class:`ProcessExit`,
        also once the child has ended already. TimeoutError if it still
        runs after `timeout_ms`."""
        if self._collected is None:  # another actor owns it: ask the port
            reply = self._procs.call(Wait(timeout_ms), self.pid,
                                     timeout_ms=timeout_ms + 5000)
            return reply.check().exit
        collected = self._collected
        with collected.cond:
            if not collected.cond.wait_for(
                    lambda: self.pid in collected.exits, timeout_ms / 1000):
                raise TimeoutError(f"{self!r} still runs after "
                                   f"{timeout_ms} ms")
            return collected.exits[self.pid]

    def output(self) -> Tuple[bytes, bytes]:
        """``(stdout, stderr)``: the bytes the child wrote since the last
        call (all of it once :meth:`wait` returned). Empty for a port
        another actor owns (its output goes there)."""
        if self._collected is None:
            return b"", b""
        with self._collected.cond:
            out, err = self._collected.output.pop(self.pid, ([], []))
        return b"".join(out), b"".join(err)

    def __repr__(self) -> str:
        return f"<airs.osl.proc.Port {self.pid} os_pid={self.os_pid}>"
