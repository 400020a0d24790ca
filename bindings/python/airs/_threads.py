"""Python thread states for the runtime's own threads.

Why: a ctypes callback on a thread Python does not know calls
``PyGILState_Ensure``, which creates a thread state, and
``PyGILState_Release``, which destroys it again when the callback returns.
On a worker that runs one callback per message that is most of the cost of
a message (~8 us instead of ~0.5 us). So on the first callback a runtime
thread makes, :meth:`ThreadStates.first_callback` takes one extra
``PyGILState_Ensure`` that is never released: the thread keeps its thread
state, and each later callback only takes and drops the GIL.

Which threads: only the runtime's own workers and timer thread. They are
the threads that appear while ``airs_runtime_new`` runs, which is called
with the GIL held (so no Python thread can start one meanwhile); their
native ids are listed from ``/proc/self/task`` before and after. Python's
own threads already have a permanent thread state and are left alone;
other foreign threads are left alone too (slower callbacks, nothing kept).

Release: ``airs_runtime_free`` joins those threads. Afterwards
:meth:`ThreadStates.release` clears and deletes the thread state of each
pinned thread that is gone (checked in ``/proc``), with the GIL held,
through the documented ``PyThreadState_Clear`` / ``PyThreadState_Delete``.
Without ``/proc`` (not Linux) nothing is pinned and everything still works,
only slower.
"""
import ctypes
import os
import threading

_TASK_DIR = "/proc/self/task"

_api = ctypes.pythonapi
_api.PyGILState_Ensure.restype = ctypes.c_int
_api.PyGILState_Ensure.argtypes = []
_api.PyGILState_GetThisThreadState.restype = ctypes.c_void_p
_api.PyGILState_GetThisThreadState.argtypes = []
_api.PyThreadState_Clear.restype = None
_api.PyThreadState_Clear.argtypes = [ctypes.c_void_p]
_api.PyThreadState_Delete.restype = None
_api.PyThreadState_Delete.argtypes = [ctypes.c_void_p]


def thread_ids():
    """The native ids of this process's threads (empty without /proc)."""
    try:
        return {int(name) for name in os.listdir(_TASK_DIR)}
    except (OSError, ValueError):
        return set()


class ThreadStates:
    """The pinned thread states of one runtime's threads.

    ``seen`` holds the ``threading.get_ident()`` of every thread that made a
    callback; callbacks test it first (one set lookup) and call
    :meth:`first_callback` for a new thread. Used with the GIL held.
    """

    def __init__(self):
        self.seen = set()
        self.runtime_threads = set()  # native ids
        self._pinned = []             # (native id, PyThreadState*)

    def note_runtime_threads(self, before, after):
        """Records the threads that appeared between two thread_ids()
        snapshots taken around airs_runtime_new."""
        self.runtime_threads = after - before

    def first_callback(self):
        """[in a callback, GIL held] Pins the calling thread's thread state
        if it is one of the runtime's threads."""
        self.seen.add(threading.get_ident())
        native = threading.get_native_id()
        if native in self.runtime_threads:
            _api.PyGILState_Ensure()  # never released: see the module doc
            self._pinned.append(
                (native, _api.PyGILState_GetThisThreadState()))

    def release(self):
        """[after airs_runtime_free returned, GIL held] Deletes the pinned
        thread states of threads that have ended; a thread still alive
        (which should not happen) keeps its state."""
        alive = thread_ids()
        pinned, self._pinned = self._pinned, []
        for native, tstate in pinned:
            if native in alive or not tstate:
                continue
            _api.PyThreadState_Clear(tstate)
            _api.PyThreadState_Delete(tstate)
        self.seen.clear()
