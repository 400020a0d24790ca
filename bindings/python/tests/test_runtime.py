"""Runtime lifetime, configuration, host-driven mode and the clock."""
import os
import queue
import subprocess
import sys
import textwrap
import threading
import unittest
from unittest import mock

from support import (Probe, RuntimeTest, TIMEOUT, count_thread_states,
                     wait_until)

import airs


class ConfigTest(unittest.TestCase):

    def test_workers_are_as_configured(self):
        for n in (0, 1, 3):
            with airs.Runtime(n) as rt:
                self.assertEqual(rt.workers, n)

    def test_every_option_is_accepted(self):
        with airs.Runtime(1, mailbox_capacity=10,
                          mailbox_policy=airs.MailboxPolicy.DROP_NEWEST,
                          block_timeout_ms=50, max_processes=100,
                          shutdown_timeout_ms=1000, budget=8,
                          manual_clock=True, events=False,
                          codec=airs.JsonCodec()) as rt:
            inbox = queue.Queue()
            pid = rt.spawn(Probe, (inbox,))
            self.assertEqual(rt.process_stats(pid).mailbox_capacity, 10)
            self.assertIsInstance(rt.default_codec, airs.JsonCodec)

    def test_bad_values_raise_with_the_library_message(self):
        with self.assertRaises(airs.InvalidArgumentError) as cm:
            airs.Runtime(5000)
        self.assertIn("airs_config_set", str(cm.exception))
        with self.assertRaises(airs.InvalidArgumentError):
            airs.Runtime(1, budget=0)
        with self.assertRaises(airs.InvalidArgumentError):
            airs.Runtime(1, mailbox_policy=7)
        # ctypes would mask this to 0; the binding refuses it first.
        with self.assertRaises(airs.InvalidArgumentError) as cm:
            airs.Runtime(1, max_processes=1 << 70)
        self.assertIn("out of range", str(cm.exception))

    def test_max_processes_gives_limit_error(self):
        with airs.Runtime(1, max_processes=2) as rt:
            inbox = queue.Queue()
            rt.spawn(Probe, (inbox,))
            rt.spawn(Probe, (inbox,))
            with self.assertRaises(airs.LimitError) as cm:
                rt.spawn(Probe, (inbox,))
            self.assertTrue(cm.exception.detail)


class LifetimeTest(unittest.TestCase):

    def test_close_stops_actors_and_is_idempotent(self):
        inbox = queue.Queue()
        rt = airs.Runtime(2)
        rt.spawn(Probe, (inbox,))
        self.assertFalse(rt.closed)
        rt.close()
        self.assertTrue(rt.closed)
        message, reason = inbox.get(timeout=TIMEOUT)
        self.assertEqual(message, "stop")
        self.assertEqual(reason.kind, airs.ExitKind.SHUTDOWN)
        rt.close()  # twice is fine

    def test_close_releases_callbacks_and_actor_objects(self):
        import gc
        import weakref
        made = []

        def factory():
            actor = Probe(queue.Queue())
            made.append(weakref.ref(actor))
            return actor

        rt = airs.Runtime(2)
        pids = [rt.spawn(factory) for _ in range(3)]
        core = rt._core
        callbacks = [weakref.ref(fn) for fn in core._callbacks]
        callbacks.append(weakref.ref(core.spec_free_fn))
        self.assertEqual(len(core.actors), 3)
        rt.close()
        gc.collect()
        self.assertTrue(all(ref() is None for ref in callbacks))
        self.assertTrue(all(ref() is None for ref in made))
        self.assertEqual((core.actors, core.starts, core.python_pids),
                         ({}, {}, set()))
        self.assertEqual(len(pids), 3)

    def test_unreferenced_runtime_keeps_its_callbacks_alive(self):
        import gc
        from airs import runtime as runtime_module
        count = [0]

        class Loop(airs.Actor):
            def receive(self, n):
                count[0] = n
                if n < 5000:
                    self.send(self.pid, n + 1)

        rt = airs.Runtime(1)
        rt.send(rt.spawn(Loop), 0)
        del rt
        gc.collect()  # C still calls the callbacks: they must be alive
        self.assertTrue(wait_until(lambda: count[0] == 5000))
        leftover = runtime_module._open_runtimes[-1]
        leftover.close()
        self.assertNotIn(leftover, runtime_module._open_runtimes)

    def test_calls_after_close_raise_state_error(self):
        rt = airs.Runtime(1)
        rt.close()
        with self.assertRaises(airs.StateError) as cm:
            rt.spawn(Probe, (queue.Queue(),))
        self.assertIn("freed", str(cm.exception))
        with self.assertRaises(airs.StateError):
            rt.send(airs.Pid(1), b"x")
        with self.assertRaises(airs.StateError):
            rt.stats()

    def test_context_manager_closes(self):
        with airs.Runtime(1) as rt:
            pass
        self.assertTrue(rt.closed)

    def test_close_inside_a_callback_is_refused(self):
        results = queue.Queue()

        class Closer(airs.Actor):
            def receive(self, message):
                try:
                    self.runtime.close()
                    results.put("closed")
                except airs.StateError as e:
                    results.put(e)

        with airs.Runtime(1) as rt:
            rt.send(rt.spawn(Closer), "go")
            error = results.get(timeout=TIMEOUT)
            self.assertIsInstance(error, airs.StateError)
            self.assertFalse(rt.closed)
            rt.spawn(Probe, (queue.Queue(),))  # still usable
        self.assertTrue(rt.closed)

    def test_several_runtimes_are_independent(self):
        with airs.Runtime(1) as a, airs.Runtime(1) as b:
            inbox_a, inbox_b = queue.Queue(), queue.Queue()
            pa = a.spawn(Probe, (inbox_a,))
            pb = b.spawn(Probe, (inbox_b,))
            a.send(pa, "to a")
            b.send(pb, "to b")
            self.assertEqual(inbox_a.get(timeout=TIMEOUT)[0], "to a")
            self.assertEqual(inbox_b.get(timeout=TIMEOUT)[0], "to b")
            a.close()
            b.send(pb, "b lives on")
            self.assertEqual(inbox_b.get(timeout=TIMEOUT)[0], "b lives on")

    def test_a_pid_given_to_another_runtime_is_no_process(self):
        with airs.Runtime(1) as a, airs.Runtime(1) as b:
            inbox_a, inbox_b = queue.Queue(), queue.Queue()
            pa = a.spawn(Probe, (inbox_a,))
            pb = b.spawn(Probe, (inbox_b,))
            self.assertEqual(pa.index, pb.index)  # the same slot...
            self.assertNotEqual(pa, pb)  # ...of two runtimes
            self.assertNotEqual(pa.runtime, pb.runtime)
            self.assertEqual(repr(pa),
                             f"<Pid {pa.runtime}.{pa.index}.{pa.generation}>")
            with self.assertRaises(airs.NoProcessError):
                b.send(pa, "wrong runtime")
            self.assertFalse(b.is_alive(pa))
            a.send(pa, "right runtime")
            self.assertEqual(inbox_a.get(timeout=TIMEOUT)[0], "right runtime")
            self.assertTrue(inbox_b.empty())

    def test_thread_states_of_runtime_threads_live_as_long_as_them(self):
        # The thread hook pins one thread state on each of the runtime's
        # threads (2 workers and the timer thread) when it starts, and
        # deletes it when it ends, before close() returns.
        before = count_thread_states()
        inbox = queue.Queue()
        rt = airs.Runtime(2)
        pid = rt.spawn(Probe, (inbox,))
        for i in range(50):
            rt.send(pid, i)
        for _ in range(50):
            inbox.get(timeout=TIMEOUT)
        self.assertTrue(wait_until(
            lambda: count_thread_states() == before + 3))
        rt.close()
        self.assertEqual(count_thread_states(), before)
        # A host-driven runtime has no threads: nothing is pinned.
        with airs.Runtime(0) as host:
            host.spawn(Probe, (inbox,))
            host.run_until_idle()
            self.assertEqual(count_thread_states(), before)

    def test_exit_without_close_runs_on_stop_and_exits_cleanly(self):
        # The atexit handler closes the runtime while actors are busy.
        script = textwrap.dedent("""
            import airs, os, time
            class Busy(airs.Actor):
                def receive(self, n):
                    time.sleep(0.0005)
                    self.send(self.pid, n + 1)
                def on_stop(self, reason):
                    # One write per line: on_stop runs on two workers.
                    os.write(1, f"on_stop {reason}\\n".encode())
            rt = airs.Runtime(2)
            for _ in range(4):
                rt.send(rt.spawn(Busy), 0)
            time.sleep(0.05)
            print("exiting", flush=True)
        """)
        result = subprocess.run([sys.executable, "-c", script],
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.count("on_stop shutdown"), 4,
                         result.stdout)
        self.assertNotIn("Traceback", result.stderr)


class FinalizingTest(unittest.TestCase):

    def test_callbacks_are_skipped_while_finalizing(self):
        # The callbacks ask sys.is_finalizing() first; make it answer what
        # the test says, as it would during interpreter shutdown.
        finalizing = [False]
        with mock.patch("sys.is_finalizing", lambda: finalizing[0]):
            rt = airs.Runtime(1)
        inbox = queue.Queue()
        try:
            pid = rt.spawn(Probe, (inbox,))
            rt.send(pid, "before")
            self.assertEqual(inbox.get(timeout=TIMEOUT)[0], "before")
            finalizing[0] = True
            rt.send(pid, "skipped")
            self.assertTrue(wait_until(
                lambda: rt.process_stats(pid).messages_handled == 2))
            with self.assertRaises(airs.StateError):
                rt.spawn(Probe, (inbox,))  # init refuses to run Python
        finally:
            rt.close()  # terminate is skipped too: no on_stop
        self.assertTrue(inbox.empty())


class BadInputTest(RuntimeTest):

    def test_wrong_types_raise_and_never_crash(self):
        import ctypes
        pid = self.probe()
        wrong_type = (TypeError, ctypes.ArgumentError)
        cases = [
            lambda: self.rt.send(None, "x"),
            lambda: self.rt.kill(None),
            lambda: self.rt.is_alive(None),
            lambda: self.rt.register("x", None),
            lambda: self.rt.wait(None),
            lambda: self.rt.process_stats("abc"),
            lambda: self.rt.subscribe(None, pid),
            lambda: self.rt.call(None, 1),
            lambda: self.rt.spawn(airs.Actor, name=5),
            lambda: self.rt.cancel_timer(None),
            lambda: self.rt.send_after("soon", pid, "x"),
            lambda: self.rt.wait(pid, 1.5),
        ]
        for case in cases:
            with self.assertRaises(wrong_type):
                case()
        for case in (lambda: self.rt.wait(pid, -5),
                     lambda: self.rt.poll(-1),
                     lambda: self.rt.send_exit(pid, 12)):
            with self.assertRaises(airs.InvalidArgumentError):
                case()
        with self.assertRaises(airs.NoProcessError):
            self.rt.kill(-1)
        self.assertTrue(self.rt.is_alive(pid))
        self.assertEqual(len(self.rt._core.starts), 1)  # the probe's own


class HostDrivenTest(unittest.TestCase):

    def test_poll_runs_callbacks_on_this_thread(self):
        threads = []

        class Where(airs.Actor):
            def receive(self, message):
                threads.append(threading.get_ident())

        with airs.Runtime(0) as rt:
            pid = rt.spawn(Where)
            rt.send(pid, 1)
            rt.send(pid, 2)
            self.assertEqual(threads, [])  # nothing runs by itself
            self.assertGreater(rt.run_until_idle(), 0)
            self.assertEqual(threads, [threading.get_ident()] * 2)
            self.assertEqual(rt.poll(), 0)

    def test_poll_with_workers_is_a_state_error(self):
        with airs.Runtime(1) as rt:
            with self.assertRaises(airs.StateError):
                rt.poll()
            with self.assertRaises(airs.InvalidArgumentError):
                airs.Runtime(0).poll(0)

    def test_call_and_wait_poll_in_host_driven_mode(self):
        with airs.Runtime(0) as rt:
            pid = rt.spawn(Probe, (queue.Queue(),))
            self.assertEqual(rt.call(pid, "reply"), "pong")
            rt.stop(pid)
            rt.wait(pid, 1000)
            self.assertFalse(rt.is_alive(pid))


class ClockTest(RuntimeTest):
    workers = 0

    def setUp(self):
        self.rt = airs.Runtime(0, manual_clock=True)
        self.inbox = queue.Queue()

    def test_manual_clock_moves_timers(self):
        pid = self.probe()
        self.assertIsNone(self.rt.next_timer_ms())
        self.rt.send_after(100, pid, "tick")
        self.assertEqual(self.rt.next_timer_ms(), 100)
        self.rt.run_until_idle()
        self.assertTrue(self.inbox.empty())
        self.rt.advance_time(60)
        self.assertEqual(self.rt.next_timer_ms(), 40)
        self.rt.advance_time(40)
        self.rt.run_until_idle()
        self.assertEqual(self.inbox.get_nowait()[0], "tick")

    def test_advance_time_needs_manual_clock(self):
        with airs.Runtime(0) as rt:
            with self.assertRaises(airs.StateError) as cm:
                rt.advance_time(5)
            self.assertIn("manual", str(cm.exception))


if __name__ == "__main__":
    unittest.main()
