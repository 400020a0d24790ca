"""Actors: lifecycle, crashes, spawn options, the current message, and the
inside-a-callback rules."""
import queue
import threading
import unittest

from support import (Probe, RuntimeTest, TIMEOUT, is_close_signal,
                     wait_until)

import airs


class Lifecycle(airs.Actor):
    def __init__(self, log, fail_start=False):
        self.log = log
        self.fail_start = fail_start

    def on_start(self):
        self.log.put(("start", self.pid, self.runtime))
        if self.fail_start:
            raise KeyError("no start")

    def receive(self, message):
        if message == "crash":
            raise ZeroDivisionError("crashing on purpose")
        if message == "exit":
            self.exit(airs.ExitKind.ERROR, 42, "disk full")
            return
        if message == "stop":
            self.stop()
            return
        self.log.put(("got", message))

    def on_stop(self, reason):
        self.log.put(("stop", reason))


class LifecycleTest(RuntimeTest):

    def test_on_start_receive_on_stop(self):
        pid = self.rt.spawn(Lifecycle, (self.inbox,))
        self.assertIsInstance(pid, airs.Pid)
        self.assertTrue(pid)
        self.assertEqual(self.next_message(), ("start", pid, self.rt))
        self.rt.send(pid, "hello")
        self.assertEqual(self.next_message(), ("got", "hello"))
        self.rt.send(pid, "stop")
        kind, reason = self.next_message()
        self.assertEqual((kind, reason), ("stop", airs.ExitReason(
            airs.ExitKind.NORMAL)))
        self.rt.wait(pid, 1000)
        self.assertFalse(self.rt.is_alive(pid))

    def test_exception_ends_actor_with_traceback_reason(self):
        pid = self.rt.spawn(Lifecycle, (self.inbox,))
        self.next_message()
        self.rt.send(pid, "crash")
        kind, reason = self.next_message()
        self.assertEqual(kind, "stop")
        self.assertEqual(reason.kind, airs.ExitKind.ERROR)
        self.assertEqual(reason.code, airs.EXCEPTION_EXIT_CODE)
        self.assertIn("Traceback", reason.text)
        self.assertIn("ZeroDivisionError: crashing on purpose", reason.text)
        self.assertIn("in receive", reason.text)
        self.assertFalse(reason.is_normal)
        self.assertIn("ZeroDivisionError", str(reason))
        self.rt.wait(pid, 1000)

    def test_explicit_error_exit(self):
        pid = self.rt.spawn(Lifecycle, (self.inbox,))
        self.next_message()
        self.rt.send(pid, "exit")
        self.assertEqual(self.next_message(), ("stop", airs.ExitReason(
            airs.ExitKind.ERROR, 42, "disk full")))

    def test_failing_on_start_raises_actor_start_error(self):
        with self.assertRaises(airs.ActorStartError) as cm:
            self.rt.spawn(Lifecycle, (self.inbox, True))
        self.assertIsInstance(cm.exception.__cause__, KeyError)
        self.assertIn("no start", cm.exception.detail)
        self.assertIsInstance(cm.exception, airs.AirsError)
        self.assertEqual(cm.exception.status_name, "AIRS_EINVAL")
        kind, pid, _ = self.next_message()
        self.assertEqual(kind, "start")
        self.assertNothingMore()  # on_stop is not called for a failed start
        self.assertFalse(self.rt.is_alive(pid))
        self.assertEqual(self.rt._core.actors, {})
        self.assertEqual(self.rt._core.starts, {})

    def test_bad_factories(self):
        with self.assertRaises(airs.ActorStartError) as cm:
            self.rt.spawn(lambda: "not an actor")
        self.assertIsInstance(cm.exception.__cause__, TypeError)
        with self.assertRaises(TypeError):
            self.rt.spawn("not callable")
        with self.assertRaises(TypeError):
            self.rt.spawn(Lifecycle, "not a tuple")
        with self.assertRaises(airs.ActorStartError) as cm:
            self.rt.spawn(Lifecycle, (1, 2, 3, 4))  # wrong arity
        self.assertIsInstance(cm.exception.__cause__, TypeError)

    def test_each_spawn_makes_a_fresh_object(self):
        first = self.rt.spawn(Lifecycle, (self.inbox,))
        second = self.rt.spawn(Lifecycle, (self.inbox,),
                               kwargs={"fail_start": False})
        self.assertNotEqual(first, second)
        core = self.rt._core
        objects = {id(a) for a in core.actors.values()}
        self.assertEqual(len(objects), 2)
        self.assertEqual(core.python_pids, {first, second})

    def test_actor_objects_are_released_after_stop(self):
        import weakref
        holder = []

        def factory():
            actor = Lifecycle(self.inbox)
            holder.append(weakref.ref(actor))
            return actor

        pid = self.rt.spawn(factory)
        self.next_message()
        self.rt.send(pid, "stop")
        self.next_message()
        self.rt.wait(pid, 1000)
        self.assertTrue(wait_until(lambda: holder[0]() is None))


class SpawnOptionsTest(RuntimeTest):

    def test_name_is_registered_before_on_start_and_released(self):
        seen = queue.Queue()

        class Named(airs.Actor):
            def on_start(self):
                seen.put(self.runtime.whereis("named"))

        pid = self.rt.spawn(Named, name="named")
        self.assertEqual(seen.get(timeout=TIMEOUT), pid)
        with self.assertRaises(airs.AlreadyExistsError) as cm:
            self.rt.spawn(Named, name="named")
        self.assertIn("named", str(cm.exception).lower() + "named")
        self.rt.kill(pid)
        self.rt.wait(pid, 1000)
        self.assertIsNone(self.rt.whereis("named"))
        with self.assertRaises(airs.InvalidArgumentError):
            self.rt.spawn(Named, name="")
        with self.assertRaises(airs.InvalidArgumentError):
            self.rt.spawn(Named, name="x" * 300)

    def test_trap_exit_option(self):
        pid = self.rt.spawn(Probe, (self.inbox,), trap_exit=True)
        self.rt.send_exit(pid, airs.ExitKind.ERROR, 7, "why")
        message, _, _ = self.next_message()
        self.assertIsInstance(message, airs.ExitSignal)
        self.assertIsNone(message.pid)
        self.assertEqual(message.reason, airs.ExitReason(
            airs.ExitKind.ERROR, 7, "why"))
        self.assertTrue(self.rt.is_alive(pid))

    def test_bounded_mailbox_fail_policy(self):
        gate, inside = threading.Event(), threading.Event()

        class Blocked(airs.Actor):
            def receive(self, message):
                inside.set()
                gate.wait(TIMEOUT)  # holds its worker on purpose

        pid = self.rt.spawn(Blocked, mailbox_capacity=2)
        self.rt.send(pid, "first")  # taken at once, blocks the actor
        self.assertTrue(inside.wait(TIMEOUT))
        self.rt.send(pid, "2")
        self.rt.send(pid, "3")
        with self.assertRaises(airs.MailboxFullError) as cm:
            self.rt.send(pid, "4")
        self.assertIn("full", cm.exception.detail)
        self.assertEqual(self.rt.process_stats(pid).messages_dropped, 1)
        # The refused object was released, the queued ones are held.
        self.assertEqual(len(self.rt._core.refs), 2)
        gate.set()

    def test_bounded_mailbox_drop_newest_goes_to_dead_letters(self):
        gate, inside = threading.Event(), threading.Event()
        dead = queue.Queue()
        self.rt.set_dead_letter_hook(dead.put)

        class Blocked(airs.Actor):
            def receive(self, message):
                inside.set()
                gate.wait(TIMEOUT)

        pid = self.rt.spawn(Blocked, mailbox_capacity=1,
                            mailbox_policy=airs.MailboxPolicy.DROP_NEWEST)
        self.rt.send(pid, "first")
        self.assertTrue(inside.wait(TIMEOUT))
        self.rt.send(pid, "queued")
        self.rt.send(pid, {"dropped": True})  # no error: dropped
        letter = dead.get(timeout=TIMEOUT)
        self.assertEqual(letter.reason, airs.DeadLetterReason.MAILBOX_FULL)
        self.assertEqual(letter.message, {"dropped": True})
        self.assertEqual(letter.to, pid)
        gate.set()

    def test_bad_spawn_options(self):
        with self.assertRaises(airs.InvalidArgumentError):
            self.probe(mailbox_policy=9)
        with self.assertRaises(airs.InvalidArgumentError):
            self.probe(mailbox_capacity=-1)
        with self.assertRaises(airs.InvalidArgumentError) as cm:
            self.probe(mailbox_capacity=1,
                       mailbox_policy=airs.MailboxPolicy.BLOCK,
                       block_timeout_ms=0)
        self.assertIn("airs_spawn", str(cm.exception))


class CurrentMessageTest(RuntimeTest):

    def test_sender_type_correlation_priority(self):
        seen = queue.Queue()

        class Inspector(airs.Actor):
            def receive(self, message):
                seen.put((message, self.sender, self.message_type,
                          self.correlation, self.priority))
                if message == "forward":
                    self.send(self.runtime.whereis("probe"), b"fwd", type=9)

        pid = self.rt.spawn(Inspector)
        self.rt.send(pid, b"raw", type=5)
        self.assertEqual(seen.get(timeout=TIMEOUT),
                         (b"raw", None, 5, 0, airs.Priority.NORMAL))
        self.rt.send(pid, "obj", priority=airs.Priority.HIGH)
        self.assertEqual(seen.get(timeout=TIMEOUT),
                         ("obj", None, 0, 0, airs.Priority.HIGH))
        probe = self.rt.spawn(Probe, (self.inbox,), name="probe")
        self.rt.send(pid, "forward")
        seen.get(timeout=TIMEOUT)
        self.assertEqual(self.next_message(), (b"fwd", pid, 9))
        self.assertTrue(probe)

    def test_current_message_outside_receive_is_a_state_error(self):
        holder = []

        class Keeper(airs.Actor):
            def receive(self, message):
                holder.append(self)

        pid = self.rt.spawn(Keeper)
        self.rt.send(pid, 1)
        self.assertTrue(wait_until(lambda: holder))
        actor = holder[0]
        for name in ("sender", "message_type", "correlation", "priority"):
            with self.assertRaises(airs.StateError):
                getattr(actor, name)
        with self.assertRaises(airs.StateError):
            actor.reply("x")

    def test_callback_only_calls_from_another_thread(self):
        holder = []

        class Keeper(airs.Actor):
            def receive(self, message):
                holder.append(self)

        target = self.probe()
        pid = self.rt.spawn(Keeper)
        self.rt.send(pid, 1)
        self.assertTrue(wait_until(lambda: holder))
        actor = holder[0]
        with self.assertRaises(airs.StateError) as cm:
            actor.send(target, "from outside")
        self.assertIn("outside its callback", cm.exception.detail)
        with self.assertRaises(airs.StateError):
            actor.send(target, b"bytes too")
        with self.assertRaises(airs.StateError):
            actor.link(target)
        with self.assertRaises(airs.StateError):
            actor.monitor(target)
        with self.assertRaises(airs.StateError):
            actor.trap_exit()
        with self.assertRaises(airs.StateError):
            actor.stop()
        with self.assertRaises(airs.StateError):
            actor.spawn(Probe, (self.inbox,))
        with self.assertRaises(airs.StateError):
            actor.request(target, "x")
        self.assertEqual(self.rt._core.refs, {})  # nothing left behind
        self.assertNothingMore()

    def test_blocking_calls_inside_a_callback_are_state_errors(self):
        results = queue.Queue()
        target = self.probe()

        class Blocker(airs.Actor):
            def receive(self, message):
                for call in (lambda: self.runtime.call(target, "reply"),
                             lambda: self.runtime.wait(target, 10)):
                    try:
                        call()
                        results.put(None)
                    except airs.StateError as e:
                        results.put(e)

        self.rt.send(self.rt.spawn(Blocker), "go")
        for _ in range(2):
            self.assertIsInstance(results.get(timeout=TIMEOUT),
                                  airs.StateError)


class ChildActorsTest(RuntimeTest):

    def test_spawn_linked_child_from_actor(self):
        children = queue.Queue()

        class Parent(airs.Actor):
            def on_start(self):
                self.trap_exit(True)

            def receive(self, message):
                if is_close_signal(message):
                    self.exit(airs.ExitKind.SHUTDOWN)
                elif message == "spawn":
                    child = self.spawn(Lifecycle, (queue.Queue(),),
                                       link=True)
                    children.put(child)
                else:
                    children.put(message)

        parent = self.rt.spawn(Parent)
        self.rt.send(parent, "spawn")
        child = children.get(timeout=TIMEOUT)
        self.rt.send(child, "crash")
        signal = children.get(timeout=TIMEOUT)
        self.assertIsInstance(signal, airs.ExitSignal)
        self.assertEqual(signal.pid, child)
        self.assertEqual(signal.reason.kind, airs.ExitKind.ERROR)
        self.assertIn("ZeroDivisionError", signal.reason.text)

    def test_linking_in_on_start_links_and_on_stop_is_a_state_error(self):
        children = queue.Queue()

        class Early(airs.Actor):
            def on_start(self):
                children.put(self.spawn(Lifecycle, (queue.Queue(),),
                                        link=True))

            def on_stop(self, reason):
                try:
                    self.spawn(Lifecycle, (queue.Queue(),), link=True)
                except airs.StateError as e:
                    children.put(e)

        parent = self.rt.spawn(Early)
        child = children.get(timeout=TIMEOUT)
        self.rt.kill(parent)
        self.rt.wait(child, 2000)  # the link took it down too
        self.assertIsInstance(children.get(timeout=TIMEOUT), airs.StateError)


if __name__ == "__main__":
    unittest.main()
