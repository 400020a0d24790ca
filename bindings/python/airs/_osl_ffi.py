"""The sockets and the system actors as ctypes sees them: the structs,
constants and function table of ``<airs/net.h>`` and ``<airs/osl.h>``
(with ``fs.h`` and ``proc.h``), bound on :data:`airs._ffi.lib` (the GIL
is released for every call; statuses raise through the same errcheck).
:mod:`airs.osl` is the public face; this module is its plumbing.

Constant names are the C names without ``AIRS_`` (checked against the
headers by tests/test_abi.py, as for :mod:`airs._ffi`).
"""
import ctypes
from ctypes import (POINTER, Structure, c_char, c_char_p, c_int, c_int32,
                    c_int64, c_size_t, c_uint8, c_uint16, c_uint32, c_uint64,
                    c_void_p)

from . import _ffi

MSG_OSL_BASE = _ffi.MSG_OSL_BASE
MSG_SYSTEM_BASE = _ffi.MSG_SYSTEM_BASE

# ---------------------------------------------------------------------------
# net.h
# ---------------------------------------------------------------------------

AF_INET4 = 4
AF_INET6 = 6
ACTIVE_ALWAYS = -1
ACTIVE_MAX = 32767
SOCK_NODELAY = 0x1
SOCK_REUSEADDR = 0x2
SOCK_V6ONLY = 0x4
SOCKET_OPTS_VERSION = 1

MSG_SOCK_DATA = MSG_SYSTEM_BASE + 6
MSG_SOCK_DATAGRAM = MSG_SYSTEM_BASE + 7
MSG_SOCK_PASSIVE = MSG_SYSTEM_BASE + 8
MSG_SOCK_EOF = MSG_SYSTEM_BASE + 9
MSG_SOCK_ERROR = MSG_SYSTEM_BASE + 10
MSG_SOCK_ACCEPTED = MSG_SYSTEM_BASE + 11
MSG_SOCK_CONNECTED = MSG_SYSTEM_BASE + 12
MSG_SOCK_SENT = MSG_SYSTEM_BASE + 13
MSG_SOCK_WRITABLE = MSG_SYSTEM_BASE + 14
MSG_SOCK_ACCEPT_ERROR = MSG_SYSTEM_BASE + 15


class Addr(Structure):
    """airs_addr."""
    _fields_ = [("family", c_uint16), ("port", c_uint16),
                ("scope_id", c_uint32), ("ip", c_uint8 * 16)]


class SocketOpts(Structure):
    """airs_socket_opts."""
    _fields_ = [("version", c_uint32), ("size", c_uint32),
                ("active", c_int32), ("flags", c_uint32),
                ("send_buffer", c_uint32), ("read_size", c_uint32),
                ("backlog", c_uint32), ("reserved", c_uint32)]


class SockError(Structure):
    """airs_sock_error (the data of MSG_SOCK_ERROR and _ACCEPT_ERROR)."""
    _fields_ = [("err", c_int32), ("op", c_char * 12), ("text", c_char * 112)]


class SockAccepted(Structure):
    """airs_sock_accepted (the data of MSG_SOCK_ACCEPTED)."""
    _fields_ = [("socket", c_uint64), ("peer", Addr)]


class Datagram(Structure):
    """airs_datagram (the head of MSG_SOCK_DATAGRAM's data)."""
    _fields_ = [("from", Addr), ("size", c_uint32), ("truncated", c_uint32)]


# ---------------------------------------------------------------------------
# osl.h
# ---------------------------------------------------------------------------

OSL_FS_NAME = "airs.fs"
OSL_PROC_NAME = "airs.proc"
OSL_NET_NAME = "airs.net"
MSG_FS_BASE = MSG_OSL_BASE + 0x100
MSG_PROC_BASE = MSG_OSL_BASE + 0x200
MSG_NET_BASE = MSG_OSL_BASE + 0x300
OSL_TEXT_MAX = 160
OSL_OPTS_VERSION = 1
MSG_NET_CONNECT = MSG_NET_BASE + 1
MSG_NET_LISTEN = MSG_NET_BASE + 2
MSG_NET_UDP_OPEN = MSG_NET_BASE + 3
MSG_NET_RESOLVE = MSG_NET_BASE + 4
MSG_NET_REPLY = MSG_NET_BASE + 0x80
NET_HOST_MAX = 256
NET_ADDRS_MAX = 16
NET_REQ_VERSION = 1


class OslResult(Structure):
    """airs_osl_result: the head of every system actor's reply."""
    _fields_ = [("status", c_int32), ("err", c_int32),
                ("text", c_char * OSL_TEXT_MAX)]


class OslOpts(Structure):
    """airs_osl_opts."""
    _fields_ = [("version", c_uint32), ("size", c_uint32),
                ("intensity", c_uint32), ("period_ms", c_uint32),
                ("name", c_char_p)]


class NetReq(Structure):
    """airs_net_req: flat, so its bytes are the request's data."""
    _fields_ = [("version", c_uint32), ("size", c_uint32),
                ("type", c_uint64), ("owner", c_uint64), ("addr", Addr),
                ("timeout_ms", c_uint32), ("has_opts", c_uint32),
                ("opts", SocketOpts), ("host", c_char * NET_HOST_MAX)]


class NetReply(Structure):
    """airs_net_reply."""
    _fields_ = [("socket", c_uint64), ("local", Addr), ("count", c_uint32),
                ("reserved", c_uint32), ("addrs", Addr * NET_ADDRS_MAX)]


# ---------------------------------------------------------------------------
# fs.h
# ---------------------------------------------------------------------------

MSG_FS_READ = MSG_FS_BASE + 0x01
MSG_FS_WRITE = MSG_FS_BASE + 0x02
MSG_FS_APPEND = MSG_FS_BASE + 0x03
MSG_FS_DELETE = MSG_FS_BASE + 0x04
MSG_FS_LIST = MSG_FS_BASE + 0x05
MSG_FS_MKDIR = MSG_FS_BASE + 0x06
MSG_FS_RMDIR = MSG_FS_BASE + 0x07
MSG_FS_STAT = MSG_FS_BASE + 0x08
MSG_FS_RENAME = MSG_FS_BASE + 0x09
MSG_FS_OPEN = MSG_FS_BASE + 0x0A
MSG_FILE_READ = MSG_FS_BASE + 0x40
MSG_FILE_WRITE = MSG_FS_BASE + 0x41
MSG_FILE_SYNC = MSG_FS_BASE + 0x42
MSG_FILE_CLOSE = MSG_FS_BASE + 0x43


def msg_fs_reply(request_type):
    """AIRS_MSG_FS_REPLY(t): the reply type of fs request type `t`."""
    return request_type + 0x80


FS_OPEN_READ = 0x01
FS_OPEN_WRITE = 0x02
FS_OPEN_APPEND = 0x04
FS_OPEN_CREATE = 0x08
FS_OPEN_TRUNCATE = 0x10
FS_OPEN_EXCL = 0x20
FS_AT = 0x40
FS_NOFOLLOW = 0x80
FS_DATASYNC = 0x100
FS_READ_MAX = 64 << 20
FS_PATH_MAX = 4095
FS_HEAD_VERSION = 1
FS_REQ_VERSION = 1
FS_EOF = 0x1
FS_STAT_VERSION = 1


class FsHead(Structure):
    """airs_fs_head: the head of an fs request's data (built by C here)."""
    _fields_ = [("version", c_uint32), ("size", c_uint32),
                ("flags", c_uint32), ("mode", c_uint32),
                ("offset", c_uint64), ("length", c_uint64),
                ("path_len", c_uint32), ("path2_len", c_uint32),
                ("data_len", c_uint64)]


class FsReq(Structure):
    """airs_fs_req."""
    _fields_ = [("version", c_uint32), ("size", c_uint32),
                ("type", c_uint64), ("file", c_uint64),
                ("path", c_char_p), ("path_len", c_size_t),
                ("path2", c_char_p), ("path2_len", c_size_t),
                ("data", c_void_p), ("data_size", c_size_t),
                ("offset", c_uint64), ("length", c_uint64),
                ("mode", c_uint32), ("flags", c_uint32)]


class FsInfo(Structure):
    """airs_fs_info."""
    _fields_ = [("flags", c_uint32), ("count", c_uint32),
                ("value", c_uint64)]


class FsStat(Structure):
    """airs_fs_stat."""
    _fields_ = [("version", c_uint32), ("size", c_uint32),
                ("type", c_int32), ("mode", c_uint32), ("bytes", c_uint64),
                ("mtime_ns", c_int64), ("atime_ns", c_int64),
                ("ctime_ns", c_int64), ("inode", c_uint64),
                ("device", c_uint64), ("links", c_uint32),
                ("uid", c_uint32), ("gid", c_uint32),
                ("reserved", c_uint32)]


# ---------------------------------------------------------------------------
# proc.h
# ---------------------------------------------------------------------------

MSG_PROC_SPAWN = MSG_PROC_BASE + 0x00
MSG_PROC_SPAWN_REPLY = MSG_PROC_BASE + 0x01
MSG_PROC_WATCH = MSG_PROC_BASE + 0x02
MSG_PROC_WATCH_REPLY = MSG_PROC_BASE + 0x03
MSG_PROC_WRITE = MSG_PROC_BASE + 0x10
MSG_PROC_WRITE_REPLY = MSG_PROC_BASE + 0x11
MSG_PROC_CLOSE_STDIN = MSG_PROC_BASE + 0x12
MSG_PROC_CLOSE_STDIN_REPLY = MSG_PROC_BASE + 0x13
MSG_PROC_SIGNAL = MSG_PROC_BASE + 0x14
MSG_PROC_SIGNAL_REPLY = MSG_PROC_BASE + 0x15
MSG_PROC_TERMINATE = MSG_PROC_BASE + 0x16
MSG_PROC_TERMINATE_REPLY = MSG_PROC_BASE + 0x17
MSG_PROC_WAIT = MSG_PROC_BASE + 0x18
MSG_PROC_WAIT_REPLY = MSG_PROC_BASE + 0x19
MSG_PROC_STDOUT = MSG_PROC_BASE + 0x40
MSG_PROC_STDERR = MSG_PROC_BASE + 0x41
MSG_PROC_EXIT = MSG_PROC_BASE + 0x42
PROC_WRITE_QUEUE_MAX = 1 << 20
PROC_STDIN_PIPE = 0x1
PROC_STDERR_MERGE = 0x2
PROC_STDERR_DISCARD = 0x4
PROC_STDOUT_DISCARD = 0x8
PROC_KILL_GRACE_DEFAULT = 5000
PROC_SPAWN_VERSION = 1
PROC_SIGNAL_CHILD = 0x0
PROC_SIGNAL_GROUP = 0x1
PROC_EXIT_EXITED = 0x1
PROC_EXIT_SIGNALED = 0x2
PROC_EXIT_CORE = 0x4
PROC_EXIT_UNKNOWN = 0x8
PROC_EXIT_BY_PORT = 0x10


class ProcSpawn(Structure):
    """airs_proc_spawn (read by the builder, which copies every string)."""
    _fields_ = [("version", c_uint32), ("size", c_uint32),
                ("path", c_char_p), ("argv", POINTER(c_char_p)),
                ("envp", POINTER(c_char_p)), ("cwd", c_char_p),
                ("flags", c_uint32), ("kill_grace_ms", c_uint32),
                ("owner", c_uint64)]


class ProcSpawned(Structure):
    """airs_proc_spawned."""
    _fields_ = [("os_pid", c_int64), ("port", c_uint64)]


class ProcSignalReq(Structure):
    """airs_proc_signal_req (built by C here)."""
    _fields_ = [("signo", c_int32), ("flags", c_uint32)]


class ProcExit(Structure):
    """airs_proc_exit."""
    _fields_ = [("os_pid", c_int64), ("code", c_int32), ("signo", c_int32),
                ("flags", c_uint32), ("reserved", c_uint32)]


class ProcWatchReq(Structure):
    """airs_proc_watch_req (built by C here)."""
    _fields_ = [("os_pid", c_int64), ("owner", c_uint64)]


class ProcWatched(Structure):
    """airs_proc_watched."""
    _fields_ = [("watcher", c_uint64)]


# ---------------------------------------------------------------------------
# The function table, as _ffi.SIGNATURES (errcheck raises on failure).
# ---------------------------------------------------------------------------

STATUS = _ffi.STATUS
vp = c_void_p
u64 = c_uint64
pvp = POINTER(c_void_p)

SIGNATURES = {
    # net.h
    "airs_addr_parse": (STATUS, [c_char_p, POINTER(Addr)]),
    "airs_addr_format": (STATUS, [POINTER(Addr), ctypes.c_char_p, c_size_t]),
    "airs_socket_opts_init": (STATUS, [POINTER(SocketOpts)]),
    "airs_tcp_listen": (STATUS, [_ffi.RuntimeP, u64, POINTER(Addr),
                                 POINTER(SocketOpts), POINTER(u64)]),
    "airs_tcp_connect": (STATUS, [_ffi.RuntimeP, u64, POINTER(Addr),
                                  c_uint32, POINTER(SocketOpts),
                                  POINTER(u64)]),
    "airs_udp_open": (STATUS, [_ffi.RuntimeP, u64, POINTER(Addr),
                               POINTER(SocketOpts), POINTER(u64)]),
    "airs_socket_send": (STATUS, [_ffi.RuntimeP, u64, vp, c_size_t, u64]),
    "airs_udp_send": (STATUS, [_ffi.RuntimeP, u64, POINTER(Addr), vp,
                               c_size_t]),
    "airs_socket_set_active": (STATUS, [_ffi.RuntimeP, u64, c_int32]),
    "airs_socket_give": (STATUS, [_ffi.RuntimeP, u64, u64]),
    "airs_socket_shutdown": (STATUS, [_ffi.RuntimeP, u64]),
    "airs_socket_close": (STATUS, [_ffi.RuntimeP, u64]),
    "airs_socket_addr": (STATUS, [_ffi.RuntimeP, u64, POINTER(Addr),
                                  POINTER(Addr)]),
    "airs_datagram_read": (STATUS, [vp, POINTER(Datagram), pvp]),
    "airs_socket_count": (u64, [_ffi.RuntimeP]),
    # osl.h
    "airs_osl_result_get": (STATUS, [vp, POINTER(OslResult)]),
    "airs_osl_opts_init": (STATUS, [POINTER(OslOpts)]),
    "airs_osl_start": (STATUS, [_ffi.RuntimeP, POINTER(OslOpts),
                                POINTER(u64)]),
    "airs_net_req_init": (STATUS, [POINTER(NetReq), u64]),
    "airs_net_reply_get": (STATUS, [vp, POINTER(NetReply)]),
    "airs_net_request": (STATUS, [vp, POINTER(NetReq), c_uint32,
                                  POINTER(u64)]),
    "airs_net_call": (STATUS, [_ffi.RuntimeP, POINTER(NetReq), c_uint32,
                               pvp]),
    "airs_net_child_spec": (STATUS, [POINTER(_ffi.ChildSpecStruct)]),
    # fs.h
    "airs_fs_req_init": (STATUS, [POINTER(FsReq)]),
    "airs_fs_req_new": (STATUS, [POINTER(FsReq), pvp]),
    "airs_fs_reply_info": (STATUS, [vp, POINTER(FsInfo)]),
    "airs_fs_reply_data": (STATUS, [vp, pvp, POINTER(c_size_t)]),
    "airs_fs_reply_stat": (STATUS, [vp, POINTER(FsStat)]),
    "airs_fs_reply_list_next": (STATUS, [vp, POINTER(c_size_t),
                                         POINTER(c_char_p)]),
    "airs_fs_reply_file": (STATUS, [vp, POINTER(u64)]),
    "airs_fs_request": (STATUS, [vp, POINTER(FsReq), c_uint32,
                                 POINTER(u64)]),
    "airs_fs_call": (STATUS, [_ffi.RuntimeP, POINTER(FsReq), c_uint32, pvp]),
    "airs_fs_child_spec": (STATUS, [POINTER(_ffi.ChildSpecStruct)]),
    "airs_fs_start": (STATUS, [_ffi.RuntimeP, POINTER(u64)]),
    # proc.h
    "airs_proc_spawn_init": (STATUS, [POINTER(ProcSpawn)]),
    "airs_proc_req_spawn": (STATUS, [POINTER(ProcSpawn), pvp]),
    "airs_proc_spawned_get": (STATUS, [vp, POINTER(ProcSpawned)]),
    "airs_proc_req_write": (STATUS, [vp, c_size_t, pvp]),
    "airs_proc_req_close_stdin": (STATUS, [pvp]),
    "airs_proc_req_signal": (STATUS, [c_int32, c_uint32, pvp]),
    "airs_proc_req_terminate": (STATUS, [pvp]),
    "airs_proc_req_wait": (STATUS, [c_uint32, pvp]),
    "airs_proc_exit_get": (STATUS, [vp, POINTER(ProcExit)]),
    "airs_proc_req_watch": (STATUS, [c_int64, u64, pvp]),
    "airs_proc_spawn_request": (STATUS, [vp, POINTER(ProcSpawn), c_uint32,
                                         POINTER(u64)]),
    "airs_proc_spawn_call": (STATUS, [_ffi.RuntimeP, POINTER(ProcSpawn),
                                      c_uint32, POINTER(ProcSpawned),
                                      POINTER(OslResult)]),
    "airs_proc_child_spec": (STATUS, [POINTER(_ffi.ChildSpecStruct)]),
    "airs_proc_start": (STATUS, [_ffi.RuntimeP, POINTER(u64)]),
}

_ffi._bind(_ffi.lib, SIGNATURES, with_errcheck=True)
# _ffi.raw(name) finds these too.
_ffi.SIGNATURES.update(SIGNATURES)
lib = _ffi.lib
