"""Python thread states for the runtime's own threads.

Why: a ctypes callback on a thread Python does not know calls
``PyGILState_Ensure``, which creates a thread state, and
``PyGILState_Release``, which destroys it again when the callback returns.
On a worker that runs one callback per message that is most of the cost of
a message (~8 us instead of ~0.5 us).

So every runtime is made with a thread hook (``airs_config_set_thread_hook``),
which C calls first thing on each thread it starts (its workers and timer
thread) and last thing before the thread ends:

- started: one extra ``PyGILState_Ensure`` that is not released, so the
  thread keeps its thread state, and each later callback only takes and
  drops the GIL;
- ended: the matching ``PyGILState_Release``. When the hook's own callback
  returns, the thread state is cleared and deleted on its own thread, as
  the C API wants.

Threads that are not the runtime's (a host's threads calling into airs)
are left alone: their callbacks are slower, and nothing is kept.
"""
import ctypes
import sys

from . import _ffi

_api = ctypes.pythonapi
_api.PyGILState_Ensure.restype = ctypes.c_int
_api.PyGILState_Ensure.argtypes = []
_api.PyGILState_Release.restype = None
_api.PyGILState_Release.argtypes = [ctypes.c_int]

# What PyGILState_Ensure returns when the thread already holds the GIL,
# as it does inside a ctypes callback (Python's PyGILState_LOCKED).
_GIL_ALREADY_HELD = 0


def _on_thread(user_data, started):
    """The thread hook: pins (started) or unpins (ended) this thread's
    thread state. Runs on that thread, inside a ctypes callback (GIL held).
    """
    if sys.is_finalizing():
        return
    if started:
        _api.PyGILState_Ensure()  # never released until "ended"
    else:
        _api.PyGILState_Release(_GIL_ALREADY_HELD)


# One for every runtime; it lives as long as the module, that is as long
# as any runtime C could call it from (they are closed before exit).
THREAD_HOOK = _ffi.THREAD_FN(_on_thread)
THREAD_HOOK_ADDRESS = ctypes.cast(THREAD_HOOK, ctypes.c_void_p)


def install(config):
    """Sets the thread hook on `config` (an airs_config*)."""
    _ffi.lib.airs_config_set_thread_hook(config, THREAD_HOOK_ADDRESS, None)
