"""Waits that Ctrl-C interrupts.

Python runs a signal handler (KeyboardInterrupt for SIGINT) on the main
thread, between bytecodes: never while that thread is inside a C call. A
C call that waits 8 s (``airs_wait``, ``airs_call``) would hold Ctrl-C
back for 8 s. So on the main thread:

- :func:`wait` waits in slices of SLICE_MS, and Python gets control back
  between them;
- :func:`call` runs the C call on a helper thread and waits for it with a
  lock acquire, which a signal interrupts. An interrupted call goes on in
  the background; its reply, if one comes, is handed to `abandon` (which
  frees it) on the helper thread. The hand-off costs a few tens of
  microseconds per call, on the main thread only.

Other threads call C directly: signals never go to them.
"""
import concurrent.futures
import threading
import time

from . import _ffi
from .errors import TimeoutError

SLICE_MS = 50

lib = _ffi.lib
_pool = None
_pool_lock = threading.Lock()


def on_main_thread():
    return threading.current_thread() is threading.main_thread()


def wait(handle, pid, timeout_ms):
    """airs_wait(handle, pid, timeout_ms), in slices on the main thread.
    TimeoutError after timeout_ms in all."""
    if not on_main_thread() or timeout_ms <= SLICE_MS:
        lib.airs_wait(handle, pid, timeout_ms)
        return
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        left = int((deadline - time.monotonic()) * 1000)
        try:
            lib.airs_wait(handle, pid, max(1, min(left, SLICE_MS)))
            return
        except TimeoutError:
            if left <= SLICE_MS:
                raise TimeoutError(f"airs_wait: {pid!r} still runs after "
                                   f"{timeout_ms} ms") from None


def _executor():
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=4, thread_name_prefix="airs-call")
        return _pool


def call(fn, abandon):
    """fn() (a C call that waits), interruptible on the main thread; if
    the caller is interrupted, abandon(result) runs on fn's result once
    it has one."""
    if not on_main_thread():
        return fn()
    future = _executor().submit(fn)
    try:
        return future.result()
    except BaseException:
        if not future.done():
            future.add_done_callback(
                lambda f: f.exception() is None and abandon(f.result()))
        raise


def submit(fn, *args):
    """fn(*args) on the helper threads; a concurrent.futures.Future of it
    (airs.pykka_style's non-blocking asks)."""
    return _executor().submit(fn, *args)
