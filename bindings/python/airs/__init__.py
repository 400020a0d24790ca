"""airs: Python bindings of airssys-rt, an embeddable actor runtime with
Erlang/OTP semantics, over its C API through ctypes (standard library
only).

    import airs

    class Counter(airs.Actor):
        def on_start(self):
            self.count = 0

        def receive(self, message):
            if message == "get":
                self.reply(self.count)
            else:
                self.count += message

    with airs.Runtime() as rt:
        pid = rt.spawn(Counter)
        rt.send(pid, 5)
        print(rt.call(pid, "get"))   # 5

The library is found through ``AIRS_LIBRARY``, a build tree above the
package, or an installed copy (see :mod:`airs._library`); its version is
checked on import.
"""
from __future__ import annotations

from . import _ffi
from .actor import Actor, Health
from .codec import Codec, JsonCodec, PickleCodec
from .errors import (ActorStartError, AirsError, AlreadyExistsError,
                     InternalError, InvalidArgumentError, LimitError,
                     MailboxFullError, NoProcessError, NotFoundError,
                     OutOfMemoryError, ProcessExitedError, StateError,
                     SystemCallError, TimeoutError, TryAgainError,
                     VersionError)
from .events import Event, EventKind, ProcessStats, RuntimeStats, Severity
from .message import (USER_TYPE_LIMIT, DeadLetter, DeadLetterReason, Down,
                      ExitSignal, Priority, Reply, RequestTimeout)
from .pid import Pid
from .reasons import EXCEPTION_EXIT_CODE, ExitKind, ExitReason
from .registry import Pick
from .runtime import Runtime
from . import osl
from . import node
from ._spawning import MailboxPolicy
from .supervisor import (AutoShutdown, ChildCounts, ChildInfo, ChildSpec,
                         ChildState, ChildType, Restart, Shutdown, Strategy,
                         Supervisor, SupervisorSpec)

__version__: str = ".".join(map(str, _ffi.PACKAGE_VERSION))
#: The version string of the loaded libairs.
library_version: str = _ffi.LIBRARY_VERSION
#: The path libairs was loaded from, or its soname ("libairs.so.0") when
#: the dynamic loader found it (airs._library says the order).
library_path: str = _ffi.LIBRARY_PATH

__all__ = [
    "Actor", "ActorStartError", "AirsError", "AlreadyExistsError",
    "AutoShutdown", "ChildCounts", "ChildInfo", "ChildSpec", "ChildState",
    "ChildType", "Codec", "DeadLetter", "DeadLetterReason", "Down",
    "EXCEPTION_EXIT_CODE", "Event", "EventKind", "ExitKind", "ExitReason",
    "ExitSignal", "Health", "InternalError", "InvalidArgumentError",
    "JsonCodec", "LimitError", "MailboxFullError", "MailboxPolicy",
    "NoProcessError", "NotFoundError", "OutOfMemoryError", "Pick",
    "PickleCodec", "Pid", "Priority", "ProcessExitedError", "ProcessStats",
    "Reply",
    "RequestTimeout", "Restart", "Runtime", "RuntimeStats", "Severity",
    "Shutdown", "StateError", "Strategy", "Supervisor", "SupervisorSpec",
    "SystemCallError", "TimeoutError", "TryAgainError", "USER_TYPE_LIMIT", "VersionError", "library_path",
    "library_version", "osl",
]
