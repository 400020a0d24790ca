"""The exceptions of the package, one per ``airs_status``.

Every failing C call raises the subclass of :class:`AirsError` that matches
its status, with the library's own explanation (``airs_last_error_message``
of the calling thread, read right after the call) as the message. Classes
that have a natural built-in counterpart also derive from it, so that
``except TimeoutError`` or ``except ValueError`` work as a Python user
expects.
"""
from __future__ import annotations

import builtins
from typing import Dict, Optional, Type

# airs_status values (airs.h). Explicit, only ever appended.
OK = 0
EINVAL = 1
ENOMEM = 2
ENOPROC = 3
EFULL = 4
ETIMEDOUT = 5
EEXIST = 6
ENOTFOUND = 7
ESTATE = 8
ELIMIT = 9
EVERSION = 10
EINTERNAL = 11
EEXITED = 12
IGNORE = 13  # not an error: an init that asks not to start
EAGAIN = 14  # not now, later: a socket's send buffer is full
EOS = 15  # an operating-system call failed (a system actor's reply)

STATUS_NAMES: Dict[int, str] = {
    OK: "AIRS_OK", EINVAL: "AIRS_EINVAL", ENOMEM: "AIRS_ENOMEM",
    ENOPROC: "AIRS_ENOPROC", EFULL: "AIRS_EFULL",
    ETIMEDOUT: "AIRS_ETIMEDOUT", EEXIST: "AIRS_EEXIST",
    ENOTFOUND: "AIRS_ENOTFOUND", ESTATE: "AIRS_ESTATE",
    ELIMIT: "AIRS_ELIMIT", EVERSION: "AIRS_EVERSION",
    EINTERNAL: "AIRS_EINTERNAL", EEXITED: "AIRS_EEXITED",
    IGNORE: "AIRS_IGNORE", EAGAIN: "AIRS_EAGAIN", EOS: "AIRS_EOS",
}


class AirsError(Exception):
    """A call into libairs failed.

    Attributes: ``status`` (the ``airs_status`` number), ``status_name``
    (``"AIRS_ENOPROC"``...) and ``detail`` (the library's message, or the
    binding's own explanation for errors found before calling C).
    """

    status: int = EINTERNAL

    def __init__(self, detail: str = "",
                 status: Optional[int] = None) -> None:
        if status is not None:
            self.status = status
        self.detail = detail
        name = STATUS_NAMES.get(self.status, f"status {self.status}")
        super().__init__(f"{name}: {detail}" if detail else name)

    @property
    def status_name(self) -> str:
        """The C name of the status, e.g. ``"AIRS_ENOPROC"``."""
        return STATUS_NAMES.get(self.status, f"status {self.status}")


class InvalidArgumentError(AirsError, ValueError):
    """AIRS_EINVAL: an argument is None, out of range or malformed."""
    status = EINVAL


class OutOfMemoryError(AirsError):
    """AIRS_ENOMEM: the library could not allocate."""
    status = ENOMEM


class NoProcessError(AirsError):
    """AIRS_ENOPROC: the pid is 0, stale, or its process has ended."""
    status = ENOPROC


class MailboxFullError(AirsError):
    """AIRS_EFULL: the receiver's bounded mailbox is full."""
    status = EFULL


class TimeoutError(AirsError, builtins.TimeoutError):
    """AIRS_ETIMEDOUT: a bounded wait ran out (also a builtin TimeoutError)."""
    status = ETIMEDOUT


class AlreadyExistsError(AirsError):
    """AIRS_EEXIST: the name or child id is taken."""
    status = EEXIST


class NotFoundError(AirsError, LookupError):
    """AIRS_ENOTFOUND: no such name, timer, monitor or child."""
    status = ENOTFOUND


class StateError(AirsError):
    """AIRS_ESTATE: not allowed now: the runtime is shutting down or closed,
    a blocking call was made inside an actor callback, or an
    inside-a-callback call was made from outside one."""
    status = ESTATE


class LimitError(AirsError):
    """AIRS_ELIMIT: a configured limit (max processes) is reached."""
    status = ELIMIT


class VersionError(AirsError):
    """AIRS_EVERSION: the loaded library is not compatible with the
    package."""
    status = EVERSION


class InternalError(AirsError):
    """AIRS_EINTERNAL: a bug in libairs; the message says where."""
    status = EINTERNAL


class ProcessExitedError(NoProcessError):
    """AIRS_EEXITED: the process ended before it answered (a call whose
    callee ended before it replied; the detail gives its reason). Also a
    :class:`NoProcessError`."""
    status = EEXITED


class TryAgainError(AirsError):
    """AIRS_EAGAIN: not now, later (a socket's send buffer is full: the
    owner is told when it has room). Back-pressure, not a fault."""
    status = EAGAIN


class SystemCallError(AirsError):
    """AIRS_EOS: an operating-system call failed (a system actor's reply,
    :mod:`airs.osl`: the detail holds the call, the path and the errno
    text, ``errno`` the errno value, 0 when not known). Not the builtin
    ``OSError``, so that ``except OSError`` around a call into airs never
    catches the runtime's own statuses: test ``e.errno`` instead of
    catching FileNotFoundError and the like."""
    status = EOS
    errno: int = 0


class ActorStartError(AirsError):
    """An actor could not start because its factory or ``on_start`` raised.

    The Python exception is the ``__cause__``; ``detail`` holds its
    traceback text. ``status`` is the status the C spawn reported (the
    binding makes a failing start return AIRS_EINVAL, see
    :mod:`airs.actor`).
    """
    status = EINVAL


_BY_STATUS: Dict[int, Type[AirsError]] = {cls.status: cls for cls in (
    InvalidArgumentError, OutOfMemoryError, NoProcessError,
    MailboxFullError, TimeoutError, AlreadyExistsError, NotFoundError,
    StateError, LimitError, VersionError, InternalError, ProcessExitedError,
    TryAgainError, SystemCallError)}


def error_for(status: int, detail: str) -> AirsError:
    """The exception instance for a failed status (not raised)."""
    cls = _BY_STATUS.get(status)
    if cls is None:
        return AirsError(detail, status)
    return cls(detail)
