"""Links, monitors, exit signals, kill."""
import queue
import unittest

from support import Probe, RuntimeTest, TIMEOUT, is_close_signal

import airs


class Watcher(airs.Actor):
    """Runs commands sent as tuples and reports results and system
    messages to `out`."""

    def __init__(self, out, trap=False):
        self.out, self.trap = out, trap

    def on_start(self):
        if self.trap:
            self.trap_exit(True)

    def receive(self, message):
        if is_close_signal(message):
            self.exit(airs.ExitKind.SHUTDOWN)
            return
        if isinstance(message, tuple):
            command, *args = message
            try:
                self.out.put(getattr(self, command)(*args))
            except airs.AirsError as e:
                self.out.put(e)
            return
        self.out.put(message)

    def on_stop(self, reason):
        self.out.put(("stopped", reason))


class LinkTest(RuntimeTest):

    def setUp(self):
        super().setUp()
        self.out = queue.Queue()

    def get(self):
        return self.out.get(timeout=TIMEOUT)

    def settled(self, watcher, target):
        """Waits until `target` has handled the signals `watcher` sent it
        (a link, unlink or monitor): signals and messages between two
        processes keep their order, so a message sent after them arrives
        after them. Without this, an exit sent by the test could reach
        `target` first, and the watcher would see noproc instead."""
        self.rt.send(watcher, ("send", target, "settled"))
        self.assertIsNone(self.get())
        message, sender, _ = self.inbox.get(timeout=TIMEOUT)
        self.assertEqual((message, sender), ("settled", watcher))

    def test_abnormal_exit_takes_a_linked_process_down(self):
        watcher = self.rt.spawn(Watcher, (self.out,))
        victim = self.probe()
        self.rt.send(watcher, ("link", victim))
        self.assertIsNone(self.get())
        self.settled(watcher, victim)
        self.rt.send_exit(victim, airs.ExitKind.ERROR, 3, "bad")
        self.assertEqual(self.get(), ("stopped", airs.ExitReason(
            airs.ExitKind.ERROR, 3, "bad")))

    def test_trapping_process_gets_exit_signal(self):
        watcher = self.rt.spawn(Watcher, (self.out, True))
        victim = self.probe()
        self.rt.send(watcher, ("link", victim))
        self.get()
        self.settled(watcher, victim)
        self.rt.kill(victim)
        signal = self.get()
        self.assertEqual(signal, airs.ExitSignal(victim, airs.ExitReason(
            airs.ExitKind.KILLED)))
        self.assertTrue(self.rt.is_alive(watcher))

    def test_normal_exit_does_not_propagate_and_unlink_works(self):
        watcher = self.rt.spawn(Watcher, (self.out,))
        first, second = self.probe(), self.probe()
        self.rt.send(watcher, ("link", first))
        self.rt.send(watcher, ("link", second))
        self.rt.send(watcher, ("unlink", second))
        for _ in range(3):
            self.assertIsNone(self.get())
        self.settled(watcher, second)
        self.rt.send_exit(first, airs.ExitKind.NORMAL)  # ignored: alive
        self.rt.kill(second)  # unlinked: no effect on the watcher
        self.rt.wait(second, 1000)
        self.rt.send(watcher, "still here")
        self.assertEqual(self.get(), "still here")
        self.assertTrue(self.rt.is_alive(first))

    def test_link_errors(self):
        watcher = self.rt.spawn(Watcher, (self.out, True))
        self.rt.send(watcher, ("link", watcher))
        self.assertIsNone(self.get())  # linking to self does nothing
        self.rt.send(watcher, ("link", 0))
        self.assertIsInstance(self.get(), airs.NoProcessError)
        dead = self.probe()
        self.rt.kill(dead)
        self.rt.wait(dead, 1000)
        self.rt.send(watcher, ("link", dead))
        self.assertIsNone(self.get())
        self.assertEqual(self.get(), airs.ExitSignal(dead, airs.ExitReason(
            airs.ExitKind.NOPROC)))


class MonitorTest(LinkTest):

    def test_down_message_with_reason(self):
        watcher = self.rt.spawn(Watcher, (self.out,))
        target = self.probe()
        self.rt.send(watcher, ("monitor", target))
        ref = self.get()
        self.assertIsInstance(ref, int)
        self.settled(watcher, target)
        self.rt.send(target, b"\x01", type=1)
        self.rt.send_exit(target, airs.ExitKind.ERROR, 9, "gone")
        self.assertEqual(self.get(), airs.Down(
            target, ref, airs.ExitReason(airs.ExitKind.ERROR, 9, "gone")))
        self.assertTrue(self.rt.is_alive(watcher))  # one-way

    def test_monitor_dead_pid_and_demonitor(self):
        watcher = self.rt.spawn(Watcher, (self.out,))
        dead = self.probe()
        self.rt.kill(dead)
        self.rt.wait(dead, 1000)
        self.rt.send(watcher, ("monitor", dead))
        ref = self.get()
        self.assertEqual(self.get(), airs.Down(dead, ref, airs.ExitReason(
            airs.ExitKind.NOPROC)))
        alive = self.probe()
        self.rt.send(watcher, ("monitor", alive))
        ref = self.get()
        self.rt.send(watcher, ("demonitor", ref))
        self.assertIsNone(self.get())
        self.rt.kill(alive)
        self.rt.wait(alive, 1000)
        self.rt.send(watcher, ("demonitor", ref))
        self.assertIsNone(self.get())  # no longer active: fine, as Erlang
        self.rt.send(watcher, "marker")
        self.assertEqual(self.get(), "marker")  # no Down came before it

    def test_monitor_self_is_made_and_never_fires(self):
        watcher = self.rt.spawn(Watcher, (self.out,))
        self.rt.send(watcher, ("monitor", watcher))
        ref = self.get()
        self.assertIsInstance(ref, int)
        self.rt.send(watcher, ("demonitor", ref))
        self.assertIsNone(self.get())
        self.rt.send(watcher, "marker")
        self.assertEqual(self.get(), "marker")


class ExitSignalTest(RuntimeTest):

    def test_stop_kill_and_errors(self):
        pid = self.probe(trap_exit=True)
        self.rt.stop(pid)  # trapped: becomes a message
        message, _, _ = self.next_message()
        self.assertEqual(message, airs.ExitSignal(None, airs.ExitReason(
            airs.ExitKind.SHUTDOWN)))
        self.assertEqual(self.next_message()[0], "stop")  # Probe exits
        other = self.probe(trap_exit=True)
        self.rt.kill(other)  # cannot be trapped
        self.assertEqual(self.next_message(), ("stop", airs.ExitReason(
            airs.ExitKind.KILLED)))
        with self.assertRaises(airs.NoProcessError):
            self.rt.kill(other)
        with self.assertRaises(airs.NoProcessError):
            self.rt.stop(other)
        with self.assertRaises(airs.InvalidArgumentError):
            self.rt.send_exit(self.probe(), 99)

    def test_wait_timeout(self):
        pid = self.probe()
        with self.assertRaises(airs.TimeoutError) as cm:
            self.rt.wait(pid, 20)
        self.assertIsInstance(cm.exception, TimeoutError)
        self.rt.stop(pid)
        self.rt.wait(pid, 2000)
        self.rt.wait(pid, 0)  # gone already: at once


if __name__ == "__main__":
    unittest.main()
