"""asyncio: a runtime driven by an event loop, and awaitable asks.

:class:`AsyncRuntime` makes a host-driven runtime (no worker threads) and
adds its wake-up fd (``airs_runtime_fd``) to the running loop with
``loop.add_reader``: the loop runs the actors, on its own thread, whenever
the runtime has something to do (a message from any thread, a timer,
socket I/O), and sleeps otherwise. Wake-ups coalesce: a burst of sends
makes the fd readable once. Each loop callback runs the runtime for at
most about a quarter of a millisecond (SLICE_S) and then gives the loop
back; the fd stays readable while work is left, so the loop comes back to
it after its other callbacks. The loop never blocks in the runtime::

    async def main():
        async with airs.aio.AsyncRuntime() as art:
            pid = art.spawn(Counter)
            art.send(pid, 5)
            print(await art.ask(pid, "get"))      # 5
            art.stop(pid)
            print(await art.wait(pid))            # its exit reason

    asyncio.run(main())

The bridge between actors and coroutines. Actors stay sequential: their
``receive`` is a plain method, one message at a time. Coroutines talk to
actors with :meth:`AsyncRuntime.ask` (a request; the reply resolves the
future) and :meth:`AsyncRuntime.wait`; an actor that needs the result of
async work starts it with ``asyncio.ensure_future`` (its callbacks run on
the loop's thread) and has the coroutine send the result back to it as a
message, as an Erlang process would spawn a helper and receive its
answer. A coroutine ``receive`` is not supported: awaiting inside it would
let the next message in before the first is done.

Asks go through one hidden actor of the runtime, the asker: ``ask``
queues the request and wakes the asker once per batch; the asker sends
each as a request (``airs.Actor.request``), monitors the callee (so that
an ask to a process that ends fails at once, as ``Runtime.call`` does),
and resolves the futures as replies, timeouts and DOWNs come.

Everything here runs on the loop's thread: an AsyncRuntime belongs to the
loop that made it. Other threads may still send to its processes
(``art.runtime.send``): that wakes the loop.
"""
import asyncio
import collections
import ctypes
import time

from . import _ffi, _outbound
from .actor import Actor
from .errors import NoProcessError, ProcessExitedError, TimeoutError
from .message import Down, Reply, RequestTimeout
from .pid import Pid
from .runtime import Runtime

#: How long one loop callback runs the runtime, at most (plus one poll).
SLICE_S = 0.0002
#: Process turns per poll inside a slice, messages per turn (the
#: runtime's budget, unless given), and asks the asker sends per message
#: it handles (more wait for its next turn: it wakes itself again). Small,
#: so that one poll stays well under a millisecond of Python. In asyncio's
#: debug mode, where each future and handle costs several times more, the
#: second set: the loop's own check (slow_callback_duration) stays quiet.
POLL_BUDGET, TURN_BUDGET, ASKS_PER_TURN = 2, 8, 16
DEBUG_POLL_BUDGET, DEBUG_TURN_BUDGET, DEBUG_ASKS_PER_TURN = 1, 4, 8
#: Monitors the asker keeps on callees with no ask pending, at most.
IDLE_MONITORS_MAX = 1024

_WAKE = object()  # the asker's "asks are queued" message


class _Asker(Actor):
    """The hidden actor behind :meth:`AsyncRuntime.ask` and
    :meth:`AsyncRuntime.wait`. Runs on the loop's thread (inside
    AsyncRuntime._run), so it may touch futures directly."""

    def __init__(self, art):
        self.art = art
        self.asks = {}      # correlation -> (future, callee pid)
        self.monitors = {}  # callee pid -> [monitor ref, asks pending]
        self.waits = collections.defaultdict(list)  # pid -> [future]

    def receive(self, message):
        if message is _WAKE:
            self.send_queued()
        elif isinstance(message, Reply):
            self.settle(message.ref, result=message.value)
        elif isinstance(message, RequestTimeout):
            self.settle(message.ref, error=TimeoutError(
                "no reply within the ask's timeout"))
        elif isinstance(message, Down):
            self.callee_down(message)

    def on_stop(self, reason):
        # The runtime is closing: nothing pending will be answered.
        error = NoProcessError("the AsyncRuntime was closed")
        for future, _ in self.asks.values():
            if not future.done():
                future.set_exception(error)
        for futures in self.waits.values():
            for future in futures:
                if not future.done():
                    future.set_exception(error)
        self.asks.clear()
        self.waits.clear()

    # -- asks -------------------------------------------------------------

    def send_queued(self):
        queued = self.art._queued
        for _ in range(self.art._asks_per_turn):
            if not queued:
                break
            kind, to, message, timeout_ms, future = queued.popleft()
            if future.done():  # cancelled while queued
                continue
            try:
                pid = to if type(to) is Pid else _outbound.resolve(
                    self._core, to)
                if kind == "wait":
                    self.waits[pid].append(future)
                    self.watch(pid)
                    continue
                ref = self.request(pid, message, timeout_ms)
            except Exception as e:
                self.art._resolve(future, None, e)
                continue
            self.asks[ref] = (future, pid)
            self.watch(pid)[1] += 1
        if queued:
            self.send(self.pid, _WAKE)  # the rest at the next turn
        else:
            self.art._woken = False

    def watch(self, pid):
        """The monitor entry of `pid`, made on first use."""
        entry = self.monitors.get(pid)
        if entry is None:
            entry = self.monitors[pid] = [self.monitor(pid), 0]
        return entry

    def settle(self, ref, result=None, error=None):
        entry = self.asks.pop(ref, None)
        if entry is None:
            return
        future, pid = entry
        self.art._resolve(future, result, error)
        self.release(pid)

    def release(self, pid):
        """One ask to `pid` less; drops idle monitors past the cap."""
        entry = self.monitors.get(pid)
        if entry is None:
            return
        entry[1] -= 1
        if len(self.monitors) > IDLE_MONITORS_MAX:
            for idle, (ref, pending) in list(self.monitors.items()):
                if pending == 0 and not self.waits.get(idle):
                    self.demonitor(ref)
                    del self.monitors[idle]

    def callee_down(self, down):
        entry = self.monitors.get(down.pid)
        if entry is None or entry[0] != down.ref:
            return
        del self.monitors[down.pid]
        for ref, (future, pid) in list(self.asks.items()):
            if pid == down.pid:
                del self.asks[ref]
                self.art._resolve(future, None, ProcessExitedError(
                    f"{down.pid!r} ended before it replied: "
                    f"{down.reason}"))
        for future in self.waits.pop(down.pid, ()):
            self.art._resolve(future, down.reason, None)


class AsyncRuntime:
    """A host-driven :class:`airs.Runtime` run by the current asyncio
    event loop (see the module docstring). Keyword arguments other than
    `loop` go to :class:`airs.Runtime` (not `workers`: there are none).
    Make it inside a coroutine (or pass `loop`); close it with
    :meth:`aclose` or ``async with``. The plain runtime is ``.runtime``;
    spawn, send, stop, kill, is_alive, whereis, register and publish are
    forwarded to it."""

    def __init__(self, *, loop=None, **runtime_options):
        if "workers" in runtime_options:
            raise TypeError("an AsyncRuntime has no worker threads: the "
                            "event loop runs it")
        self._loop = loop or asyncio.get_running_loop()
        debug = self._loop.get_debug()
        self._poll_budget = DEBUG_POLL_BUDGET if debug else POLL_BUDGET
        self._asks_per_turn = DEBUG_ASKS_PER_TURN if debug else ASKS_PER_TURN
        runtime_options.setdefault("budget",
                                   DEBUG_TURN_BUDGET if debug else TURN_BUDGET)
        self.runtime = Runtime(0, **runtime_options)
        fd = ctypes.c_int(-1)
        try:
            _ffi.lib.airs_runtime_fd(self.runtime._handle, ctypes.byref(fd))
            self._fd = fd.value
            self._queued = collections.deque()
            self._woken = False
            self._resolved = collections.deque()  # (future, result, error)
            self._resolving = False
            self._closed = False
            self._asker = self.runtime.spawn(_Asker, (self,))
            self._loop.add_reader(self._fd, self._run)
        except BaseException:
            self.runtime.close()
            raise
        # Whatever the spawn made runnable runs at the next loop turn.
        self._loop.call_soon(self._run)

    # -- driving ------------------------------------------------------------

    def _run(self):
        """The fd is readable (or we were asked to look): run the runtime
        for one slice. What is left keeps the fd readable."""
        if self._closed:
            return
        poll, budget = self.runtime.poll, self._poll_budget
        end = time.monotonic() + SLICE_S
        while poll(budget) and time.monotonic() < end:
            pass

    def _resolve(self, future, result, error):
        """Queues a future's outcome. Futures are settled in callbacks of
        their own (_settle), not inside the runtime's turn: settling one
        schedules its awaiting task, which costs (much more in debug
        mode) and would stretch the turn."""
        self._resolved.append((future, result, error))
        if not self._resolving:
            self._resolving = True
            self._loop.call_soon(self._settle)

    def _settle(self):
        """Settles queued futures for one slice; the rest in the next."""
        resolved = self._resolved
        end = time.monotonic() + SLICE_S
        while resolved:
            future, result, error = resolved.popleft()
            if not future.done():
                if error is None:
                    future.set_result(result)
                else:
                    future.set_exception(error)
            if time.monotonic() >= end:
                break
        if resolved:
            self._loop.call_soon(self._settle)
        else:
            self._resolving = False

    # -- asks -------------------------------------------------------------

    def _queue(self, kind, to, message, timeout_ms):
        if self._closed:
            raise NoProcessError("the AsyncRuntime is closed")
        future = self._loop.create_future()
        self._queued.append((kind, to, message, timeout_ms, future))
        if not self._woken:
            self._woken = True
            self.runtime.send(self._asker, _WAKE)
        return future

    def ask(self, to, message, timeout_ms=5000):
        """Sends `message` to `to` (a Pid or a registered name) as a
        request; returns an asyncio future of the reply (what the actor
        passed to :meth:`airs.Actor.reply`): ``await art.ask(pid, m)``.
        The future fails with TimeoutError after `timeout_ms`,
        ProcessExitedError if `to` ends first (at once), NoProcessError
        if it is not alive. Cancelling it drops the reply. A plain
        function, not a coroutine: one object less per ask. [the loop's
        thread]"""
        return self._queue("ask", to, message, timeout_ms)

    def wait(self, pid):
        """A future of `pid`'s exit reason (an :class:`airs.ExitReason`),
        resolved once it has ended: at once, with reason NOPROC, if it is
        not alive. [the loop's thread]"""
        return self._queue("wait", pid, None, 0)

    # -- forwarded ------------------------------------------------------------

    def spawn(self, factory, args=(), kwargs=None, **options):
        """:meth:`airs.Runtime.spawn` (on_start runs now, on this thread)."""
        return self.runtime.spawn(factory, args, kwargs, **options)

    def send(self, to, message, **options):
        """:meth:`airs.Runtime.send`; the receiver runs at a next loop
        turn."""
        self.runtime.send(to, message, **options)

    def stop(self, pid):
        self.runtime.stop(pid)

    def kill(self, pid):
        self.runtime.kill(pid)

    def is_alive(self, pid):
        return self.runtime.is_alive(pid)

    def register(self, name, pid):
        self.runtime.register(name, pid)

    def whereis(self, name):
        return self.runtime.whereis(name)

    def publish(self, topic, message, **options):
        return self.runtime.publish(topic, message, **options)

    # -- lifetime -------------------------------------------------------------

    async def aclose(self):
        """Stops the loop's watch of the runtime, fails the asks still
        pending, and closes the runtime (on this thread: the actors'
        on_stop run now; trapping actors may make it wait up to the
        runtime's shutdown timeout)."""
        if self._closed:
            return
        self._closed = True
        self._loop.remove_reader(self._fd)
        error = NoProcessError("the AsyncRuntime was closed")
        for item in self._queued:
            if not item[4].done():
                item[4].set_exception(error)
        self._queued.clear()
        self.runtime.close()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.aclose()

    def __repr__(self):
        state = "closed" if self._closed else "open"
        return f"<airs.aio.AsyncRuntime {state}>"
