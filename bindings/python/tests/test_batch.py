"""One crossing per turn (airs._turn): a Python actor's messages arrive in
batches and its sends and replies leave in one call per turn. These tests
check that nothing an actor can observe changed: order per sender and
receiver (also when deferred and immediate sends mix, and before
signals), exits and exceptions in the middle of a batch (the rest are
dead letters, as with one message per call), trap_exit switched on
between two messages, kill of itself, replies, and the errors a send
still raises at once."""
import queue
import unittest

from support import Probe, RuntimeTest, TIMEOUT

import airs
from airs import _turn


def host_runtime():
    """A host-driven runtime: a test decides when turns run, so that a
    whole row of messages is waiting when the actor's turn comes."""
    return airs.Runtime(0)


class Recorder(airs.Actor):
    """Records what it receives in `seen`; acts on some messages:
    ("raise",) raises, ("stop",) stops, ("kill",) kills itself,
    ("trap",) traps exits, ("send", to, value) sends value to `to`."""

    def __init__(self, seen, stopped=None):
        self.seen = seen
        self.stopped = stopped if stopped is not None else []

    def receive(self, message):
        self.seen.append(message)
        if not isinstance(message, tuple):
            return
        if message[0] == "raise":
            self.send(message[1], "sent before the raise")
            raise RuntimeError("boom")
        if message[0] == "stop":
            self.stop()
        elif message[0] == "kill":
            self.runtime.kill(self.pid)
        elif message[0] == "trap":
            self.trap_exit(True)
        elif message[0] == "send":
            self.send(message[1], message[2])

    def on_stop(self, reason):
        self.stopped.append(reason)


class BatchTest(unittest.TestCase):

    def setUp(self):
        self.rt = host_runtime()
        self.dead = []
        self.rt.set_dead_letter_hook(self.dead.append)

    def tearDown(self):
        self.rt.close()

    def run_stop(self, trigger):
        """Ten messages, the fourth is `trigger`: the actor sees four and
        the other six are dead letters (EXITED), in order."""
        seen, stopped, other = [], [], []
        sink = self.rt.spawn(Recorder, (other,))
        pid = self.rt.spawn(Recorder, (seen, stopped))
        messages = [0, 1, 2, trigger(sink, pid), 4, 5, 6, 7, 8, 9]
        for m in messages:
            self.rt.send(pid, m)
        self.rt.run_until_idle()
        self.assertFalse(self.rt.is_alive(pid))
        self.assertEqual(seen, messages[:4])
        self.assertEqual(len(stopped), 1)
        undelivered = [d for d in self.dead if d.to == pid]
        self.assertEqual([d.message for d in undelivered], messages[4:])
        self.assertTrue(all(d.reason == airs.DeadLetterReason.EXITED
                            for d in undelivered))
        return stopped[0], other

    def test_exception_mid_batch(self):
        reason, other = self.run_stop(lambda sink, me: ("raise", sink))
        self.assertEqual(reason.kind, airs.ExitKind.ERROR)
        self.assertIn("boom", reason.text)
        # What it sent before raising left, as with one message per call.
        self.assertEqual(other, ["sent before the raise"])

    def test_stop_mid_batch(self):
        reason, _ = self.run_stop(lambda sink, me: ("stop",))
        self.assertEqual(reason.kind, airs.ExitKind.NORMAL)

    def test_kill_self_mid_batch(self):
        reason, _ = self.run_stop(lambda sink, me: ("kill",))
        self.assertEqual(reason.kind, airs.ExitKind.KILLED)

    def test_trap_exit_between_messages(self):
        seen = []
        pid = self.rt.spawn(Recorder, (seen,))
        self.rt.send(pid, 0)
        self.rt.send(pid, ("trap",))
        self.rt.send_exit(pid, airs.ExitKind.ERROR, 5, "late")
        self.rt.send(pid, 3)
        self.rt.run_until_idle()
        self.assertTrue(self.rt.is_alive(pid))
        self.assertEqual(seen[:2], [0, ("trap",)])
        self.assertIsInstance(seen[2], airs.ExitSignal)
        self.assertEqual(seen[2].reason.code, 5)
        self.assertEqual(seen[3:], [3])

    def test_exit_signal_between_messages(self):
        seen, stopped = [], []
        pid = self.rt.spawn(Recorder, (seen, stopped))
        self.rt.send(pid, 0)
        self.rt.send(pid, 1)
        self.rt.send_exit(pid, airs.ExitKind.ERROR, 5, "late")
        self.rt.send(pid, 3)
        self.rt.run_until_idle()
        self.assertFalse(self.rt.is_alive(pid))
        self.assertEqual(seen, [0, 1])
        self.assertEqual(stopped[0].code, 5)
        self.assertEqual([d.message for d in self.dead if d.to == pid], [3])

    def test_order_of_mixed_sends(self):
        # Deferred (an object to a Python actor), immediate (bytes, a
        # high priority message, a registered name) and signals, in one
        # receive: the receiver sees them in the order they were made.
        seen, stopped = [], []
        target = self.rt.spawn(Recorder, (seen, stopped), trap_exit=True)
        self.rt.register("target", target)

        class Mixer(airs.Actor):
            def receive(self, message):
                self.send(target, 1)
                self.send(target, b"2")
                self.send(target, 3)
                self.send("target", 4)
                self.send(target, 5)
                self.runtime.send_exit(target, airs.ExitKind.ERROR, 6)
                self.send(target, 7)

        mixer = self.rt.spawn(Mixer)
        self.rt.send(mixer, "go")
        self.rt.run_until_idle()
        self.assertEqual(seen[:5], [1, b"2", 3, 4, 5])
        self.assertIsInstance(seen[5], airs.ExitSignal)
        self.assertEqual(seen[5].pid, mixer)
        self.assertEqual(seen[6:], [7])

    def test_send_to_a_dying_actor_does_not_raise(self):
        seen = []
        victim = self.rt.spawn(Recorder, ([],))

        class Killer(airs.Actor):
            def receive(self, message):
                self.runtime.kill(victim)
                self.send(victim, "after the kill")  # deferred, then dead
                seen.append("went on")

        killer = self.rt.spawn(Killer)
        self.rt.send(killer, "go")
        self.rt.run_until_idle()
        self.assertEqual(seen, ["went on"])
        self.assertTrue(self.rt.is_alive(killer))
        self.assertEqual([d.message for d in self.dead if d.to == victim],
                         ["after the kill"])

    def test_send_to_a_dead_actor_still_raises(self):
        # A pid known dead is no longer deferred: NoProcessError at once.
        errors = []
        victim = self.rt.spawn(Recorder, ([],))
        self.rt.kill(victim)
        self.rt.run_until_idle()

        class Sender(airs.Actor):
            def receive(self, message):
                try:
                    self.send(victim, "late")
                except airs.NoProcessError as e:
                    errors.append(e)

        pid = self.rt.spawn(Sender)
        self.rt.send(pid, "go")
        self.rt.run_until_idle()
        self.assertEqual(len(errors), 1)

    def test_full_bounded_mailbox_still_raises(self):
        # A bounded receiver's sends are never deferred: MailboxFullError
        # comes from the send itself, as before.
        outcome = []
        small = self.rt.spawn(Recorder, ([],), mailbox_capacity=2)

        class Flooder(airs.Actor):
            def receive(self, message):
                try:
                    for i in range(5):
                        self.send(small, i)
                except airs.MailboxFullError:
                    outcome.append(i)

        pid = self.rt.spawn(Flooder)
        self.rt.send(pid, "go")
        self.rt.run_until_idle()
        self.assertEqual(outcome, [2])

    def test_replies_in_a_batch(self):
        class Echo(airs.Actor):
            def receive(self, message):
                self.reply(message * 2)

        class Asker(airs.Actor):
            def __init__(self, answers):
                self.answers = answers

            def on_start(self):
                self.echo = self.spawn(Echo)

            def receive(self, message):
                if isinstance(message, airs.Reply):
                    self.answers.append(message.value)
                else:
                    for i in range(message):
                        self.request(self.echo, i)

        answers = []
        pid = self.rt.spawn(Asker, (answers,))
        self.rt.send(pid, 20)
        self.rt.run_until_idle()
        self.assertEqual(answers, [2 * i for i in range(20)])

    def test_sends_then_a_reply_in_a_one_message_turn(self):
        # The turn's first send goes at once; a second send and the reply
        # wait for the turn's end (airs._turn): each arrives, in order.
        class Forwarder(airs.Actor):
            def __init__(self, sink, sends):
                self.sink, self.sends = sink, sends

            def receive(self, message):
                for i in range(self.sends):
                    self.send(self.sink, (i, message))
                self.reply(message * 2)

        class Asker(airs.Actor):
            def __init__(self, forwarder, answers):
                self.forwarder, self.answers = forwarder, answers

            def receive(self, message):
                if isinstance(message, airs.Reply):
                    self.answers.append(message.value)
                else:
                    self.request(self.forwarder, message)

        for sends in (0, 1, 2, 3):
            with self.subTest(sends=sends):
                seen, answers = [], []
                sink = self.rt.spawn(Recorder, (seen,))
                forwarder = self.rt.spawn(Forwarder, (sink, sends))
                asker = self.rt.spawn(Asker, (forwarder, answers))
                self.rt.send(asker, 21)  # one request: a turn of one
                self.rt.run_until_idle()
                self.assertEqual(answers, [42])
                self.assertEqual(seen, [(i, 21) for i in range(sends)])

    def test_byte_replies_in_a_batch(self):
        # Payloads of deferred items are copied from one joined buffer.
        class Echo(airs.Actor):
            def receive(self, message):
                self.reply(b"%d:" % message + b"x" * message)

        class Asker(airs.Actor):
            def __init__(self, answers):
                self.answers = answers

            def on_start(self):
                self.echo = self.spawn(Echo)

            def receive(self, message):
                if isinstance(message, airs.Reply):
                    self.answers.append(message.value)
                else:
                    for i in range(message):
                        self.request(self.echo, i)

        answers = []
        pid = self.rt.spawn(Asker, (answers,))
        self.rt.send(pid, 30)
        self.rt.run_until_idle()
        self.assertEqual(answers, [b"%d:" % i + b"x" * i for i in range(30)])

    def test_reply_to_no_request(self):
        errors = []

        class Wrong(airs.Actor):
            def receive(self, message):
                try:
                    self.reply("nobody asked")
                except airs.InvalidArgumentError as e:
                    errors.append(e)

        pid = self.rt.spawn(Wrong)
        self.rt.send(pid, "hello")
        self.rt.run_until_idle()
        self.assertEqual(len(errors), 1)

    def test_nothing_deferred_outside_a_batch(self):
        self.assertIsNone(_turn.current())

        class Starter(airs.Actor):
            def on_start(self):
                self.deferring = self._out is not None

        self.rt.spawn(Starter)
        self.assertIsNone(_turn.current())


class ThreadedBatchTest(RuntimeTest):
    """On two workers, with real concurrency."""

    def test_fifo_per_sender_under_load(self):
        n, senders = 3000, 4
        done = queue.Queue()

        class Sink(airs.Actor):
            def __init__(self):
                self.next = {}
                self.bad = 0
                self.count = 0

            def receive(self, message):
                who, i = message
                if self.next.get(who, 0) != i:
                    self.bad += 1
                self.next[who] = i + 1
                self.count += 1
                if self.count == n * senders:
                    done.put(self.bad)

        class Source(airs.Actor):
            def receive(self, message):
                sink, me = message
                for i in range(n):
                    self.send(sink, (me, i))

        sink = self.rt.spawn(Sink)
        for k in range(senders):
            self.rt.send(self.rt.spawn(Source), (sink, k))
        self.assertEqual(done.get(timeout=TIMEOUT), 0)

    def test_call_answered_from_a_batch(self):
        pid = self.rt.spawn(Probe, (self.inbox,))
        for _ in range(20):
            self.assertEqual(self.rt.call(pid, "reply"), "pong")


if __name__ == "__main__":
    unittest.main()
