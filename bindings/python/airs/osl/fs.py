"""The file system actor (``<airs/fs.h>``) from Python.

Requests are small frozen objects. Inside an actor, send one with
:meth:`airs.Actor.request` to :data:`airs.osl.FS_NAME` (or, for the
``File*`` requests, to a file actor's pid): the actor later receives
``Reply(ref, FsReply)``. From a plain thread, :meth:`airs.Runtime.call`
returns the :class:`FsReply`, and :class:`FileSystem` wraps the same calls
in methods that return the value and raise on failure::

    fs = airs.osl.FileSystem(rt)
    fs.write("/tmp/x", b"hello")
    fs.read("/tmp/x")           # b"hello"
    with fs.open("/tmp/x", "r") as f:
        f.read(2)               # b"he"

Every failure is a reply (status, errno and text), never a crash of the
actor; :meth:`FsReply.check` raises it: :class:`airs.SystemCallError`
with ``errno`` for what the OS refused, InvalidArgumentError for a path
that is empty, longer than :data:`PATH_MAX` bytes or holds a NUL.
Paths are str (encoded with os.fsencode) or bytes.
"""
from __future__ import annotations

import ctypes
import enum
import os
from dataclasses import dataclass
import typing
from typing import TYPE_CHECKING, Any, Optional

from .. import _ffi, _osl_ffi as c
from ..pid import Pid, pid_or_none
from . import _wire
from ._wire import Request, Result

if TYPE_CHECKING:
    from .._types import Buffer, Dest, StrPath
    from ..runtime import Runtime

lib = _ffi.lib

#: Longest path in bytes; most bytes one read returns.
PATH_MAX = c.FS_PATH_MAX
READ_MAX = c.FS_READ_MAX


class FileType(enum.IntEnum):
    """airs_fs_type: what a path names (:attr:`FileStat.type`)."""
    FILE = 0
    DIR = 1
    SYMLINK = 2  # with follow_symlinks=False only
    OTHER = 3  # a device, FIFO or socket


# ---------------------------------------------------------------------------
# Requests: each builds its C message with airs_fs_req_new, which checks
# what cannot be encoded; the actor judges the rest.
# ---------------------------------------------------------------------------


class _Request(Request):
    """Base of the fs and file requests: ``_airs_msg()`` builds a fresh
    request message (owned by the caller), as :meth:`airs.Actor.request`
    and :meth:`airs.Runtime.call` expect of a system actor's request."""

    __slots__ = ()
    _type = 0

    def _fill(self, req: Any, keep: typing.List[Any]) -> None:
        """Sets the fields of `req` (an airs_fs_req) this request reads;
        `keep` holds the buffers its pointers refer to until the build."""

    def _airs_msg(self):
        req = c.FsReq()
        lib.airs_fs_req_init(ctypes.byref(req))
        req.type = self._type
        keep = []
        self._fill(req, keep)
        return _wire.take_msg(lib.airs_fs_req_new, ctypes.byref(req))


def _set_path(req, keep, path, second=False):
    data, size = _wire.fs_path(path)
    keep.append(data)
    if second:
        req.path2, req.path2_len = data, size
    else:
        req.path, req.path_len = data, size


def _set_data(req, keep, data):
    data = _wire.as_bytes(data)
    keep.append(data)
    req.data = ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p)
    req.data_size = len(data)


@dataclass(frozen=True)
class Read(_Request):
    """The file's bytes from `offset`, at most `length` (0: to the end;
    either way at most READ_MAX, else LimitError: open it and read in
    parts). Reply: ``data``."""
    path: StrPath
    offset: int = 0
    length: int = 0
    _type = c.MSG_FS_READ

    def _fill(self, req, keep):
        _set_path(req, keep, self.path)
        req.offset, req.length = self.offset, self.length


@dataclass(frozen=True)
class Write(_Request):
    """Creates or replaces the file with `data` (permission bits `mode`
    less the umask, 0 = 0666); `exclusive`: fail with EEXIST if it
    exists. Reply: ``value`` = bytes written."""
    path: StrPath
    data: bytes
    mode: int = 0
    exclusive: bool = False
    _type = c.MSG_FS_WRITE

    def _fill(self, req, keep):
        _set_path(req, keep, self.path)
        _set_data(req, keep, self.data)
        req.mode = self.mode
        req.flags = c.FS_OPEN_EXCL if self.exclusive else 0


@dataclass(frozen=True)
class Append(_Request):
    """Appends `data` (creating the file with `mode`). Reply: ``value``
    = bytes written."""
    path: StrPath
    data: bytes
    mode: int = 0
    _type = c.MSG_FS_APPEND

    def _fill(self, req, keep):
        _set_path(req, keep, self.path)
        _set_data(req, keep, self.data)
        req.mode = self.mode


@dataclass(frozen=True)
class Delete(_Request):
    """Removes a file or a link (not a directory: :class:`Rmdir`)."""
    path: StrPath
    _type = c.MSG_FS_DELETE

    def _fill(self, req, keep):
        _set_path(req, keep, self.path)


@dataclass(frozen=True)
class List(_Request):
    """The entry names of a directory, sorted, without . and ..
    Reply: ``names``."""
    path: StrPath
    _type = c.MSG_FS_LIST

    def _fill(self, req, keep):
        _set_path(req, keep, self.path)


@dataclass(frozen=True)
class Mkdir(_Request):
    """Makes a directory (`mode` 0 = 0777, less the umask)."""
    path: StrPath
    mode: int = 0
    _type = c.MSG_FS_MKDIR

    def _fill(self, req, keep):
        _set_path(req, keep, self.path)
        req.mode = self.mode


@dataclass(frozen=True)
class Rmdir(_Request):
    """Removes an empty directory."""
    path: StrPath
    _type = c.MSG_FS_RMDIR

    def _fill(self, req, keep):
        _set_path(req, keep, self.path)


@dataclass(frozen=True)
class Stat(_Request):
    """What the path names (of a link itself with follow_symlinks=False).
    Reply: ``stat``, a :class:`FileStat`."""
    path: StrPath
    follow_symlinks: bool = True
    _type = c.MSG_FS_STAT

    def _fill(self, req, keep):
        _set_path(req, keep, self.path)
        req.flags = 0 if self.follow_symlinks else c.FS_NOFOLLOW


@dataclass(frozen=True)
class Rename(_Request):
    """Renames `path` to `new_path` (rename(2): replaces a file there)."""
    path: StrPath
    new_path: StrPath
    _type = c.MSG_FS_RENAME

    def _fill(self, req, keep):
        _set_path(req, keep, self.path)
        _set_path(req, keep, self.new_path, second=True)


_OPEN_MODES = {"r": c.FS_OPEN_READ,
               "w": c.FS_OPEN_WRITE | c.FS_OPEN_CREATE | c.FS_OPEN_TRUNCATE,
               "a": c.FS_OPEN_WRITE | c.FS_OPEN_APPEND | c.FS_OPEN_CREATE,
               "x": c.FS_OPEN_WRITE | c.FS_OPEN_CREATE | c.FS_OPEN_EXCL}


def open_flags(mode: str) -> int:
    """The AIRS_FS_OPEN_* flags of a Python open() mode: "r", "w", "a" or
    "x", with "+" for reading and writing ("b" is allowed: files are
    bytes). ValueError for anything else."""
    kinds = [ch for ch in mode if ch in _OPEN_MODES]
    if len(kinds) != 1 or any(ch not in "rwax+b" for ch in mode) or \
            len(set(mode)) != len(mode):
        raise ValueError(f"invalid file mode {mode!r}: one of r, w, a, x, "
                         f"with + and b")
    flags = _OPEN_MODES[kinds[0]]
    if "+" in mode:
        flags |= c.FS_OPEN_READ | c.FS_OPEN_WRITE
    return flags


@dataclass(frozen=True)
class Open(_Request):
    """Opens the file in a file actor of its own, which the requester
    owns (it closes when its owner ends). `mode` as Python's open() ("r",
    "w", "a", "x", with "+"); `perm` the permission bits of a file made.
    Reply: ``file``, the file actor's pid, for the ``File*`` requests."""
    path: StrPath
    mode: str = "r"
    perm: int = 0
    _type = c.MSG_FS_OPEN

    def _fill(self, req, keep):
        _set_path(req, keep, self.path)
        req.flags = open_flags(self.mode)
        req.mode = self.perm


@dataclass(frozen=True)
class FileRead(_Request):
    """To a file actor: up to `length` bytes (1..READ_MAX) at the file's
    position, or at `offset` (the position unmoved). Reply: ``data``;
    ``eof`` when nothing was left."""
    length: int
    offset: Optional[int] = None
    _type = c.MSG_FILE_READ

    def _fill(self, req, keep):
        req.length = self.length
        if self.offset is not None:
            req.flags, req.offset = c.FS_AT, self.offset


@dataclass(frozen=True)
class FileWrite(_Request):
    """To a file actor: writes `data` at the position (the end for a file
    opened "a"), or at `offset`. Reply: ``value`` = bytes written."""
    data: bytes
    offset: Optional[int] = None
    _type = c.MSG_FILE_WRITE

    def _fill(self, req, keep):
        _set_data(req, keep, self.data)
        if self.offset is not None:
            req.flags, req.offset = c.FS_AT, self.offset


@dataclass(frozen=True)
class FileSync(_Request):
    """To a file actor: fsync, or fdatasync with `data_only`."""
    data_only: bool = False
    _type = c.MSG_FILE_SYNC

    def _fill(self, req, keep):
        req.flags = c.FS_DATASYNC if self.data_only else 0


@dataclass(frozen=True)
class FileClose(_Request):
    """To a file actor: closes the file; the actor ends once it replied."""
    _type = c.MSG_FILE_CLOSE


# ---------------------------------------------------------------------------
# Replies
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FileStat:
    """airs_fs_stat: times in ns since the Epoch."""
    type: FileType
    mode: int
    size: int
    mtime_ns: int
    atime_ns: int
    ctime_ns: int
    inode: int
    device: int
    links: int
    uid: int
    gid: int


@dataclass(frozen=True)
class FsReply(Result):
    """The reply to an fs or file request (see :class:`Result` for
    status, errno, text and check()). ``request`` is the request's type
    (an AIRS_MSG_FS_* / AIRS_MSG_FILE_* number); the rest is filled for
    the operations that give it: ``value`` (bytes read or written),
    ``data`` (Read, FileRead), ``eof`` (FileRead at the end), ``names``
    (List), ``stat`` (Stat), ``file`` (Open)."""
    status: int
    errno: int
    text: str
    request: int
    value: int = 0
    data: Optional[bytes] = None
    eof: bool = False
    names: Optional[typing.List[str]] = None
    stat: Optional[FileStat] = None
    file: Optional[Pid] = None


_REPLY_TYPES = {c.msg_fs_reply(t): t for t in (
    c.MSG_FS_READ, c.MSG_FS_WRITE, c.MSG_FS_APPEND, c.MSG_FS_DELETE,
    c.MSG_FS_LIST, c.MSG_FS_MKDIR, c.MSG_FS_RMDIR, c.MSG_FS_STAT,
    c.MSG_FS_RENAME, c.MSG_FS_OPEN, c.MSG_FILE_READ, c.MSG_FILE_WRITE,
    c.MSG_FILE_SYNC, c.MSG_FILE_CLOSE)}


def decode(kind: int, msg: int) -> Optional[FsReply]:
    """The :class:`FsReply` of a borrowed reply message of type `kind`,
    or None if `kind` is no fs reply."""
    request = _REPLY_TYPES.get(kind)
    if request is None:
        return None
    status, err, text = _wire.read_result(msg)
    if status != 0:
        return FsReply(status, err, text, request)
    info = c.FsInfo()
    lib.airs_fs_reply_info(msg, ctypes.byref(info))
    fields = {"value": info.value, "eof": bool(info.flags & c.FS_EOF)}
    if request in (c.MSG_FS_READ, c.MSG_FILE_READ):
        data, size = ctypes.c_void_p(), ctypes.c_size_t()
        lib.airs_fs_reply_data(msg, ctypes.byref(data), ctypes.byref(size))
        fields["data"] = ctypes.string_at(data, size.value) if size.value \
            else b""
    elif request == c.MSG_FS_LIST:
        fields["names"] = _names(msg)
    elif request == c.MSG_FS_STAT:
        fields["stat"] = _stat(msg)
    elif request == c.MSG_FS_OPEN:
        fields["file"] = pid_or_none(info.value)
    return FsReply(status, err, text, request, **fields)


_list_next = _ffi.raw("airs_fs_reply_list_next")


def _names(msg):
    names, cursor, name = [], ctypes.c_size_t(0), ctypes.c_char_p()
    while _list_next(msg, ctypes.byref(cursor), ctypes.byref(name)) == 0:
        names.append(os.fsdecode(name.value))
    return names


def _stat(msg):
    out = c.FsStat(c.FS_STAT_VERSION, ctypes.sizeof(c.FsStat))
    lib.airs_fs_reply_stat(msg, ctypes.byref(out))
    return FileStat(FileType(out.type), out.mode, out.bytes, out.mtime_ns,
                    out.atime_ns, out.ctime_ns, out.inode, out.device,
                    out.links, out.uid, out.gid)


# ---------------------------------------------------------------------------
# The client for plain threads
# ---------------------------------------------------------------------------


class FileSystem:
    """Calls the fs actor of `runtime` from a plain thread (not inside an
    actor callback: use :meth:`airs.Actor.request` there). Each method
    waits for the reply (GIL released) up to `timeout_ms` and returns the
    value, or raises: the reply's failure (:meth:`FsReply.check`),
    NoProcessError if no fs actor runs (or ProcessExitedError if it ended
    before replying, e.g. restarted), TimeoutError."""

    def __init__(self, runtime: Runtime, timeout_ms: int = 5000,
                 name: Dest = c.OSL_FS_NAME) -> None:
        self.runtime = runtime
        self.timeout_ms = timeout_ms
        self.name = name

    def call(self, request: Request,
             to: Optional[Dest] = None) -> FsReply:
        """Sends `request` to the fs actor (or `to`) and returns its
        :class:`FsReply` unchecked."""
        return _wire.call_decoded(self.runtime,
                                  self.name if to is None else to, request,
                                  self.timeout_ms, decode, "fs actor")

    def _do(self, request, to=None):
        return self.call(request, to).check()

    def read(self, path: StrPath, offset: int = 0, length: int = 0) -> bytes:
        """The file's bytes (see :class:`Read`)."""
        return self._do(Read(path, offset, length)).data

    def write(self, path: StrPath, data: Buffer, mode: int = 0,
              exclusive: bool = False) -> int:
        """Creates or replaces the file; returns bytes written."""
        return self._do(Write(path, data, mode, exclusive)).value

    def append(self, path: StrPath, data: Buffer, mode: int = 0) -> int:
        """Appends to the file; returns bytes written."""
        return self._do(Append(path, data, mode)).value

    def delete(self, path: StrPath) -> None:
        """Removes a file or link."""
        self._do(Delete(path))

    def list(self, path: StrPath) -> typing.List[str]:
        """The sorted entry names of a directory."""
        return self._do(List(path)).names

    def mkdir(self, path: StrPath, mode: int = 0) -> None:
        """Makes a directory."""
        self._do(Mkdir(path, mode))

    def rmdir(self, path: StrPath) -> None:
        """Removes an empty directory."""
        self._do(Rmdir(path))

    def stat(self, path: StrPath, follow_symlinks: bool = True) -> FileStat:
        """A :class:`FileStat`."""
        return self._do(Stat(path, follow_symlinks)).stat

    def rename(self, path: StrPath, new_path: StrPath) -> None:
        """Renames `path` to `new_path`."""
        self._do(Rename(path, new_path))

    def open(self, path: StrPath, mode: str = "r", perm: int = 0) -> File:
        """Opens the file in a file actor; returns a :class:`File`. Opened
        from a thread it has no owner: close it (or use ``with``), or it
        stays open until the runtime is closed."""
        return File(self, self._do(Open(path, mode, perm)).file)


class File:
    """A file actor called from a plain thread (see
    :meth:`FileSystem.open`); usable as a context manager, which closes
    it. ``pid`` is the file actor: actors may send it ``File*`` requests
    too."""

    def __init__(self, fs: FileSystem, pid: Pid) -> None:
        self._fs = fs
        self.pid = pid
        self.closed = False

    def read(self, length: int, offset: Optional[int] = None) -> bytes:
        """Up to `length` bytes; b"" at the end of the file."""
        return self._fs._do(FileRead(length, offset), self.pid).data

    def write(self, data: Buffer, offset: Optional[int] = None) -> int:
        """Writes `data`; returns bytes written."""
        return self._fs._do(FileWrite(data, offset), self.pid).value

    def sync(self, data_only: bool = False) -> None:
        """fsync (fdatasync with data_only)."""
        self._fs._do(FileSync(data_only), self.pid)

    def close(self) -> None:
        """Closes the file (again: nothing)."""
        if not self.closed:
            self.closed = True
            self._fs._do(FileClose(), self.pid)

    def __enter__(self) -> File:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<airs.osl.fs.File {self.pid}{' closed' if self.closed else ''}>"
