"""Why a process ended: :class:`ExitKind` and :class:`ExitReason`."""
from __future__ import annotations

import enum
from dataclasses import dataclass

from . import _ffi


class ExitKind(enum.IntEnum):
    """airs_exit_kind."""
    NORMAL = 0    #: finished its work
    SHUTDOWN = 1  #: asked to stop (stop(), a supervisor, runtime close)
    KILLED = 2    #: kill(): cannot be trapped
    ERROR = 3     #: failed, with a code and a text
    NOPROC = 4    #: (in Down / ExitSignal) the process was already gone
    NOCONNECTION = 5  #: (in Down / ExitSignal) its node cannot be reached


# The error code of an actor ended by an uncaught Python exception; the
# reason text is the traceback.
EXCEPTION_EXIT_CODE = 1


@dataclass(frozen=True)
class ExitReason:
    """An exit reason, copied out of the C one (so it outlives the callback
    or message that carried it). ``code`` and ``text`` are meaningful for
    ERROR; an actor that raised has ``code == EXCEPTION_EXIT_CODE`` and the
    traceback as ``text``."""

    kind: ExitKind
    code: int = 0
    text: str = ""

    @property
    def is_normal(self) -> bool:
        """True for NORMAL and SHUTDOWN: the ends a transient child is not
        restarted for."""
        return self.kind in (ExitKind.NORMAL, ExitKind.SHUTDOWN)

    def __str__(self) -> str:
        if self.kind == ExitKind.ERROR:
            first = self.text.strip().splitlines()[-1:] or [""]
            return f"error({self.code}: {first[0]})"
        return self.kind.name.lower()


NORMAL = ExitReason(ExitKind.NORMAL)
SHUTDOWN = ExitReason(ExitKind.SHUTDOWN)
KILLED = ExitReason(ExitKind.KILLED)


def reason_from_c(pointer: object) -> ExitReason:
    """Copies a borrowed ``const airs_reason*`` (NULL reads as NORMAL).
    [any thread, while the reason is valid]"""
    lib = _ffi.lib
    kind = ExitKind(lib.airs_reason_kind(pointer))
    code = lib.airs_reason_code(pointer)
    raw = lib.airs_reason_text(pointer)
    text = raw.decode("utf-8", "replace") if raw else ""
    if text == kind.name.lower():
        # The runtime's shared reasons carry their kind's name as text;
        # that is no detail.
        text = ""
    if kind != ExitKind.ERROR and not code and not text:
        return {ExitKind.NORMAL: NORMAL, ExitKind.SHUTDOWN: SHUTDOWN,
                ExitKind.KILLED: KILLED}.get(kind, ExitReason(kind))
    return ExitReason(kind, code, text)
