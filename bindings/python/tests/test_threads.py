"""Threads: many Python threads sending at once, callbacks on the
runtime's workers, the GIL while the main thread waits in C, and closing
while actors are busy."""
import queue
import threading
import time
import unittest

from support import RuntimeTest, TIMEOUT, wait_until

import airs

THREADS = 4
PER_THREAD = 100_000


class Tally(airs.Actor):
    """Checks per-sender FIFO order and counts every message."""

    def __init__(self, total, done):
        self.total, self.done = total, done
        self.count = 0
        self.last = {}
        self.out_of_order = 0

    def receive(self, message):
        sender, n = message
        if self.last.get(sender, -1) != n - 1:
            self.out_of_order += 1
        self.last[sender] = n
        self.count += 1
        if self.count == self.total:
            self.done.set()


class ConcurrentSendTest(RuntimeTest):

    def test_four_threads_100k_messages_each_none_lost(self):
        done = threading.Event()
        tallies = []

        def make():
            tally = Tally(THREADS * PER_THREAD, done)
            tallies.append(tally)
            return tally

        pid = self.rt.spawn(make)
        start = threading.Barrier(THREADS)
        failures = []

        def sender(index):
            send = self.rt.send
            try:
                start.wait()
                for n in range(PER_THREAD):
                    send(pid, (index, n))
            except Exception as e:  # pragma: no cover - reported below
                failures.append(e)

        threads = [threading.Thread(target=sender, args=(i,))
                   for i in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(failures, [])
        self.assertTrue(done.wait(120), f"got {tallies[0].count}")
        tally = tallies[0]
        self.assertEqual(tally.count, THREADS * PER_THREAD)
        self.assertEqual(tally.out_of_order, 0)
        self.assertEqual(tally.last, {i: PER_THREAD - 1
                                      for i in range(THREADS)})
        stats = self.rt.process_stats(pid)
        self.assertEqual(stats.messages_handled, THREADS * PER_THREAD)
        self.assertEqual(stats.messages_dropped, 0)
        self.assertEqual(self.rt._core.refs, {})


class CallbackThreadTest(RuntimeTest):

    def test_callbacks_run_on_worker_threads(self):
        seen = queue.Queue()

        class Where(airs.Actor):
            def on_start(self):
                seen.put(("start", threading.get_native_id()))

            def receive(self, message):
                seen.put(("receive", threading.get_native_id()))

        pid = self.rt.spawn(Where)
        # on_start runs inside spawn, on this thread.
        self.assertEqual(seen.get(timeout=TIMEOUT),
                         ("start", threading.get_native_id()))
        self.rt.send(pid, 1)
        kind, native = seen.get(timeout=TIMEOUT)
        self.assertEqual(kind, "receive")
        self.assertNotEqual(native, threading.get_native_id())
        # A worker is not a threading.Thread: nothing was registered.
        self.assertNotIn(native, {t.native_id for t in threading.enumerate()})

    def test_actors_run_while_the_main_thread_waits_in_c(self):
        # The main thread blocks in airs_wait (GIL released); actors must
        # make progress meanwhile, or the wait would time out.
        class Countdown(airs.Actor):
            def receive(self, n):
                if n == 0:
                    self.stop()
                else:
                    self.send(self.pid, n - 1)

        pid = self.rt.spawn(Countdown)
        self.rt.send(pid, 2000)
        self.rt.wait(pid, 30000)
        self.assertFalse(self.rt.is_alive(pid))

    def test_python_threads_progress_while_actors_are_busy(self):
        # Callbacks hold the GIL only while they run: with two actors
        # bouncing a message as fast as they can, a Python thread still
        # gets the interpreter regularly.
        class Bouncer(airs.Actor):
            def receive(self, message):
                if message is None:
                    return
                self.send(message, self.pid)

        a, b = self.rt.spawn(Bouncer), self.rt.spawn(Bouncer)
        self.rt.send(a, b)  # a sends its pid to b, b to a, ...
        before = self.rt.stats().messages_delivered
        counter = [0]
        stop = time.monotonic() + 0.3

        def spin():
            while time.monotonic() < stop:
                counter[0] += 1

        t = threading.Thread(target=spin)
        t.start()
        t.join(TIMEOUT)
        bounced = self.rt.stats().messages_delivered - before
        self.assertGreater(counter[0], 10_000)
        self.assertGreater(bounced, 1_000)  # and the actors kept going
        self.rt.kill(a)

    def test_callback_from_an_actor_into_blocking_python_code(self):
        # An actor that takes a lock held by the main thread while the main
        # thread calls into airs: no deadlock, since the C call releases
        # the GIL and the lock is released afterwards.
        lock = threading.Lock()
        done = threading.Event()

        class Locker(airs.Actor):
            def receive(self, message):
                with lock:
                    done.set()

        with lock:
            pid = self.rt.spawn(Locker)
            self.rt.send(pid, "go")
            for _ in range(100):
                self.rt.is_alive(pid)
                self.rt.stats()
        self.assertTrue(done.wait(TIMEOUT))


class BusyShutdownTest(unittest.TestCase):

    def test_close_while_actors_are_busy(self):
        stopped = queue.Queue()
        handled = [0]

        class Busy(airs.Actor):
            def receive(self, n):
                handled[0] += 1
                for _ in range(200):  # some real work per message
                    n = (n * 31 + 7) % 1000003
                self.send(self.pid, n)
                if handled[0] % 3 == 0:
                    self.runtime.publish("busy", n)

            def on_stop(self, reason):
                stopped.put(reason.kind)

        rt = airs.Runtime(2, shutdown_timeout_ms=2000)
        pids = [rt.spawn(Busy) for _ in range(20)]
        for pid in pids:
            rt.subscribe("busy", pid)
            rt.send(pid, 1)
        self.assertTrue(wait_until(lambda: handled[0] > 2000))
        started = time.monotonic()
        rt.close()
        self.assertLess(time.monotonic() - started, 10)
        kinds = [stopped.get_nowait() for _ in range(20)]
        self.assertEqual(set(kinds), {airs.ExitKind.SHUTDOWN})
        self.assertTrue(stopped.empty())
        core = rt._core
        self.assertEqual((core.refs, core.held, core.actors), ({}, {}, {}))


if __name__ == "__main__":
    unittest.main()
