"""Helpers shared by the tests: a probe actor that hands what it receives
to the test thread, and polling with a deadline (no fixed sleeps)."""
import ctypes
import logging
import queue
import time
import unittest

import airs

# Crashing actors are part of the tests; their reports would drown the
# output. Tests that look at the log attach their own handler.
logging.getLogger("airs").setLevel(logging.CRITICAL)

TIMEOUT = 10.0


def is_close_signal(message):
    """The exit signal a trapping actor gets when its runtime closes."""
    return (isinstance(message, airs.ExitSignal) and message.pid is None
            and message.reason.kind == airs.ExitKind.SHUTDOWN)


def wait_until(predicate, timeout=TIMEOUT, interval=0.002):
    """Polls `predicate` until it is true; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


_api = ctypes.pythonapi
_api.PyInterpreterState_Get.restype = ctypes.c_void_p
_api.PyInterpreterState_ThreadHead.restype = ctypes.c_void_p
_api.PyInterpreterState_ThreadHead.argtypes = [ctypes.c_void_p]
_api.PyThreadState_Next.restype = ctypes.c_void_p
_api.PyThreadState_Next.argtypes = [ctypes.c_void_p]


def count_thread_states():
    """How many thread states the interpreter has (walked with the GIL
    held: pythonapi keeps it)."""
    n, state = 0, _api.PyInterpreterState_ThreadHead(
        _api.PyInterpreterState_Get())
    while state:
        n += 1
        state = _api.PyThreadState_Next(state)
    return n


class Probe(airs.Actor):
    """Puts (message, sender, message_type) of everything it receives into
    `inbox` (a queue.Queue), and ("stop", reason) when it ends. The
    message "reply" is answered with "pong"."""

    def __init__(self, inbox, trap=False):
        self.inbox = inbox
        self.trap = trap

    def on_start(self):
        if self.trap:
            self.trap_exit(True)

    def receive(self, message):
        if message == "reply":
            self.reply("pong")
            return
        self.inbox.put((message, self.sender, self.message_type))
        if is_close_signal(message):
            self.exit(airs.ExitKind.SHUTDOWN)

    def on_stop(self, reason):
        self.inbox.put(("stop", reason))


class RuntimeTest(unittest.TestCase):
    """A test case with a 2-worker runtime in self.rt and a queue in
    self.inbox; the runtime is closed after each test."""

    workers = 2

    def setUp(self):
        self.rt = airs.Runtime(self.workers)
        self.inbox = queue.Queue()

    def tearDown(self):
        self.rt.close()

    def next_message(self, timeout=TIMEOUT):
        """The next item a Probe put in self.inbox."""
        return self.inbox.get(timeout=timeout)

    def probe(self, **spawn_options):
        return self.rt.spawn(Probe, (self.inbox,), **spawn_options)

    def assertNothingMore(self, wait=0.05):
        with self.assertRaises(queue.Empty):
            self.inbox.get(timeout=wait)
