"""Runtime and process counters, the event hook, the dead-letter hook."""
import logging
import queue
import threading
import unittest

from support import Probe, RuntimeTest, TIMEOUT, wait_until

import airs


class StatsTest(RuntimeTest):

    def test_runtime_stats(self):
        before = self.rt.stats()
        self.assertIsInstance(before, airs.RuntimeStats)
        pid = self.probe()
        for i in range(10):
            self.rt.send(pid, i)
        for _ in range(10):
            self.next_message()
        self.rt.kill(pid)
        self.rt.wait(pid, 1000)
        after = self.rt.stats()
        self.assertEqual(after.processes_spawned - before.processes_spawned, 1)
        self.assertEqual(after.processes_exited - before.processes_exited, 1)
        self.assertEqual(after.messages_sent - before.messages_sent, 10)
        self.assertEqual(after.messages_delivered
                         - before.messages_delivered, 10)
        self.assertEqual(after.processes_alive, before.processes_alive)

    def test_process_stats(self):
        gate = threading.Event()

        class Waiter(airs.Actor):
            def receive(self, message):
                gate.wait(TIMEOUT)

        pid = self.rt.spawn(Waiter, mailbox_capacity=50)
        for i in range(5):
            self.rt.send(pid, i)
        stats = wait_until(lambda: (lambda s: s if s.mailbox_depth == 4
                                    else None)(self.rt.process_stats(pid)))
        self.assertIsInstance(stats, airs.ProcessStats)
        self.assertEqual(stats.mailbox_capacity, 50)
        self.assertEqual(stats.messages_enqueued, 5)
        self.assertEqual(stats.messages_handled, 1)
        self.assertEqual(stats.messages_dropped, 0)
        gate.set()
        self.rt.kill(pid)
        self.rt.wait(pid, 1000)
        with self.assertRaises(airs.NoProcessError):
            self.rt.process_stats(pid)


class HookTest(RuntimeTest):

    def test_event_hook_install_and_remove(self):
        events = queue.Queue()
        self.rt.set_event_hook(events.put)
        pid = self.probe()
        event = events.get(timeout=TIMEOUT)
        self.assertEqual(event.kind, airs.EventKind.PROCESS_SPAWNED)
        self.assertEqual(event.pid, pid)
        self.assertIsNone(event.source)  # spawned from outside any actor
        self.assertIsInstance(event.text, str)
        self.rt.kill(pid)
        event = events.get(timeout=TIMEOUT)
        self.assertEqual(event.kind, airs.EventKind.PROCESS_EXITED)
        self.assertEqual(event.reason, airs.ExitReason(airs.ExitKind.KILLED))
        self.assertEqual(event.severity, airs.Severity.WARNING)
        self.rt.set_event_hook(None)
        self.probe()
        self.rt.publish("nobody", b"x")
        with self.assertRaises(queue.Empty):
            events.get(timeout=0.05)

    def test_events_disabled_by_config(self):
        events = queue.Queue()
        with airs.Runtime(1, events=False) as rt:
            rt.set_event_hook(events.put)
            rt.spawn(Probe, (queue.Queue(),))
        self.assertTrue(events.empty())

    def test_raising_hooks_are_logged_not_fatal(self):
        records = []

        class Capture(logging.Handler):
            def emit(self, record):
                records.append(record)

        logger = logging.getLogger("airs")
        handler = Capture()
        logger.addHandler(handler)
        level = logger.level
        logger.setLevel(logging.ERROR)
        try:
            def bad_hook(_):
                raise RuntimeError("hook bug")

            self.rt.set_event_hook(bad_hook)
            self.rt.set_dead_letter_hook(bad_hook)
            pid = self.probe()
            self.rt.publish("nobody", b"x")
            self.rt.send(pid, "still works")
            self.assertEqual(self.next_message()[0], "still works")
            self.assertTrue(wait_until(lambda: len(records) >= 2))
            self.assertTrue(all(r.exc_info for r in records))
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)

    def test_dead_letter_hook_sees_every_kind(self):
        letters = queue.Queue()
        self.rt.set_dead_letter_hook(letters.put)
        pid = self.probe()
        self.rt.kill(pid)
        self.rt.wait(pid, 1000)
        with self.assertRaises(airs.NoProcessError):
            self.rt.send(pid, b"bytes to the dead", type=6)
        letter = letters.get(timeout=TIMEOUT)
        self.assertEqual(letter, airs.DeadLetter(
            pid, b"bytes to the dead", airs.DeadLetterReason.NOPROC, 6,
            None))
        self.rt.set_dead_letter_hook(None)
        with self.assertRaises(airs.NoProcessError):
            self.rt.send(pid, "quiet")
        self.assertTrue(letters.empty())
        self.assertGreaterEqual(self.rt.stats().dead_letters, 2)


if __name__ == "__main__":
    unittest.main()
