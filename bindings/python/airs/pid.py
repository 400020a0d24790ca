"""Process ids."""


class Pid(int):
    """A process id: an ``int`` (the C ``airs_pid``: slot index in the low
    32 bits, generation in the high 32), printed as ``<Pid index.gen>``.

    A Pid is never reused within its runtime: a call with the pid of an
    ended process raises :class:`airs.NoProcessError`, never touches
    another process. Pids of different runtimes are unrelated numbers; use
    a pid only with the runtime that made it. Being an ``int``, a Pid
    compares, hashes and passes to C like its number; ``Pid(0)`` (falsy)
    is "no process". Immutable, usable from any thread.
    """

    __slots__ = ()

    @property
    def index(self):
        """The process-table slot (low 32 bits)."""
        return int(self) & 0xFFFFFFFF

    @property
    def generation(self):
        """How many processes used the slot before (high 32 bits)."""
        return int(self) >> 32

    def __repr__(self):
        return f"<Pid {self.index}.{self.generation}>"

    __str__ = __repr__


def pid_or_none(value):
    """Pid(value), or None for 0 ("no process")."""
    return Pid(value) if value else None
