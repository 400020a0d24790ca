"""How an actor is started (:class:`ActorStart`), and the per-thread
record of the last start that failed.

A start fails inside C's ``init`` callback, which can only return a status;
the Python exception is kept in a thread-local slot. Since ``init`` runs on
the thread that called spawn / supervisor start, the spawning call reads
the slot right after C returns and raises the actor's own exception
(:class:`airs.ActorStartError`) instead of a bare status.
"""
import threading

from ._names import encode_name

_failure = threading.local()


def record_start_failure(error):
    """[in init] Remembers why the start on this thread failed."""
    _failure.error = error


def take_start_failure():
    """The error recorded by the last failing start on this thread, or
    None; clears it."""
    error = getattr(_failure, "error", None)
    _failure.error = None
    return error


def clear_start_failure():
    """Forgets any recorded failure of this thread (call before a spawning
    C call, so that an old one is never misattributed)."""
    _failure.error = None


class ActorStart:
    """How to start one actor: ``factory(*args, **kwargs)`` must return an
    :class:`airs.Actor`; a registered ``name`` (optional) is given to each
    start before ``on_start`` runs."""

    __slots__ = ("factory", "args", "kwargs", "name")

    def __init__(self, factory, args=(), kwargs=None, name=None):
        if not callable(factory):
            raise TypeError(f"actor factory {factory!r} is not callable")
        if isinstance(args, (str, bytes)) or not hasattr(args, "__iter__"):
            raise TypeError("args must be a tuple or list of arguments")
        self.factory = factory
        self.args = tuple(args)
        self.kwargs = dict(kwargs or {})
        # Checked here, on the caller's thread, not inside init.
        self.name = None if name is None else encode_name(name)

    def with_extra_args(self, extra):
        """A copy whose factory also gets `extra` positional arguments
        (simple_one_for_one children, as OTP appends start_child's args)."""
        copy = ActorStart(self.factory, self.args + tuple(extra),
                          self.kwargs)
        copy.name = self.name
        return copy
