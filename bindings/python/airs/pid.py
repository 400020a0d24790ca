"""Process ids."""
from __future__ import annotations

from typing import Optional


class Pid(int):
    """A process id: an ``int`` (the C ``airs_pid``), printed as
    ``<Pid runtime.index.generation>`` the way Erlang prints
    ``<node.number.serial>``.

    A Pid is never reused within its runtime: a call with the pid of an
    ended process raises :class:`airs.NoProcessError`, never touches
    another process. A pid carries its runtime's tag, so a pid given to
    another runtime raises :class:`airs.NoProcessError` too. Being an
    ``int``, a Pid compares, hashes and passes to C like its number;
    ``Pid(0)`` (falsy) is "no process". Immutable, usable from any thread.
    The fields below are for reading logs: the split of the bits is the C
    library's (tag 16, generation 21, slot 27) and may change.
    """

    __slots__ = ()

    @property
    def runtime(self) -> int:
        """The tag of the runtime that made it (high 16 bits)."""
        return int(self) >> 48

    @property
    def index(self) -> int:
        """The process-table slot (low 27 bits)."""
        return int(self) & 0x7FFFFFF

    @property
    def generation(self) -> int:
        """How many processes used the slot before (the 21 bits between)."""
        return (int(self) >> 27) & 0x1FFFFF

    def __repr__(self) -> str:
        return f"<Pid {self.runtime}.{self.index}.{self.generation}>"

    __str__ = __repr__


def pid_or_none(value: int) -> Optional[Pid]:
    """Pid(value), or None for 0 ("no process")."""
    return Pid(value) if value else None
