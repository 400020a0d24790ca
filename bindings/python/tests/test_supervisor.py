"""Supervisors: restarts of crashing Python actors, strategies, policies,
intensity, nesting, dynamic children, operations, health checks."""
import queue
import threading
import unittest

from support import RuntimeTest, TIMEOUT, wait_until

import airs
from airs import ChildSpec, Restart, Strategy, SupervisorSpec


class Worker(airs.Actor):
    """Reports each start (with its fresh object id) and stop to `log`."""

    def __init__(self, log, tag):
        self.log, self.tag = log, tag
        self.handled = 0

    def on_start(self):
        self.log.put(("start", self.tag, self.pid, id(self)))

    def receive(self, message):
        self.handled += 1
        if message == "crash":
            raise RuntimeError(f"{self.tag} crashes")
        if message == "finish":
            self.stop()
        if message == "count":
            self.reply(self.handled)

    def on_stop(self, reason):
        self.log.put(("stop", self.tag, reason.kind))


class SupervisorTest(RuntimeTest):

    def setUp(self):
        super().setUp()
        self.log = queue.Queue()

    def entry(self):
        return self.log.get(timeout=TIMEOUT)

    def child(self, tag, **options):
        return ChildSpec(tag, Worker, (self.log, tag), **options)

    def starts(self, n):
        found = []
        for _ in range(n):
            event, tag, *rest = self.entry()
            self.assertEqual(event, "start")
            found.append((tag, rest[0]))
        return found

    def test_crashing_actor_is_restarted_with_fresh_state(self):
        sup = self.rt.start_supervisor(SupervisorSpec(
            [self.child("w", name="worker")], intensity=10))
        (_, first_pid), = self.starts(1)
        self.assertEqual(self.rt.whereis("worker"), first_pid)
        self.rt.send("worker", "hello")
        self.assertEqual(self.rt.call("worker", "count"), 2)
        self.rt.send("worker", "crash")
        self.assertEqual(self.entry(), ("stop", "w", airs.ExitKind.ERROR))
        (_, second_pid), = self.starts(1)
        self.assertNotEqual(first_pid, second_pid)
        self.assertFalse(self.rt.is_alive(first_pid))
        self.assertTrue(wait_until(
            lambda: self.rt.whereis("worker") == second_pid))
        self.assertEqual(self.rt.call("worker", "count"), 1)  # fresh state
        self.assertTrue(wait_until(lambda: self.rt.stats().restarts == 1))
        expected = [airs.ChildInfo("w", second_pid, airs.ChildType.WORKER,
                                   airs.ChildState.RUNNING)]
        self.assertTrue(wait_until(lambda: sup.which_children() == expected))

    def test_restart_reason_reaches_the_event_hook(self):
        events = queue.Queue()
        self.rt.set_event_hook(events.put)
        sup = self.rt.start_supervisor(SupervisorSpec([self.child("w")]))
        (_, pid), = self.starts(1)
        self.rt.send(pid, "crash")
        while True:
            event = events.get(timeout=TIMEOUT)
            if event.kind == airs.EventKind.CHILD_EXITED:
                break
        self.assertEqual(event.source, sup.pid)
        self.assertEqual(event.pid, pid)
        self.assertEqual(event.id, "w")
        self.assertEqual(event.reason.kind, airs.ExitKind.ERROR)
        self.assertIn("RuntimeError: w crashes", event.reason.text)
        while event.kind != airs.EventKind.CHILD_RESTARTED:
            event = events.get(timeout=TIMEOUT)
        self.assertEqual(event.other, pid)
        self.assertIsInstance(event.severity, airs.Severity)

    def test_one_for_all_restarts_every_child(self):
        self.rt.start_supervisor(SupervisorSpec(
            [self.child("a"), self.child("b"), self.child("c")],
            strategy=Strategy.ONE_FOR_ALL, intensity=5))
        pids = dict(self.starts(3))
        self.rt.send(pids["b"], "crash")
        stops = {self.entry()[1] for _ in range(3)}
        self.assertEqual(stops, {"a", "b", "c"})
        restarted = self.starts(3)
        self.assertEqual([tag for tag, _ in restarted], ["a", "b", "c"])

    def test_rest_for_one_restarts_the_later_children(self):
        self.rt.start_supervisor(SupervisorSpec(
            [self.child("a"), self.child("b"), self.child("c")],
            strategy=Strategy.REST_FOR_ONE, intensity=5))
        pids = dict(self.starts(3))
        self.rt.send(pids["b"], "crash")
        stops = [self.entry()[1] for _ in range(2)]
        self.assertEqual(sorted(stops), ["b", "c"])
        self.assertEqual([tag for tag, _ in self.starts(2)], ["b", "c"])
        self.assertTrue(self.rt.is_alive(pids["a"]))

    def test_restart_policies(self):
        sup = self.rt.start_supervisor(SupervisorSpec([
            self.child("perm"),
            self.child("trans", restart=Restart.TRANSIENT),
            self.child("temp", restart=Restart.TEMPORARY)], intensity=10))
        pids = dict(self.starts(3))
        self.rt.send(pids["trans"], "finish")  # normal: not restarted
        self.assertEqual(self.entry()[:2], ("stop", "trans"))
        self.rt.send(pids["temp"], "crash")  # temporary: dropped
        self.assertEqual(self.entry()[:2], ("stop", "temp"))
        self.rt.send(pids["perm"], "finish")  # permanent: restarted
        self.assertEqual(self.entry()[:2], ("stop", "perm"))
        self.assertEqual(self.starts(1)[0][0], "perm")
        # on_stop runs before the exit signal reaches the supervisor, and
        # the exits of two children may reach it in either order: wait for
        # it to have dropped the temporary child and stopped the transient.
        def children():
            return [(i.id, i.state) for i in sup.which_children()]
        self.assertTrue(wait_until(lambda: [
            id for id, _ in children()] == ["perm", "trans"]))
        self.assertTrue(wait_until(
            lambda: dict(children())["trans"] == airs.ChildState.STOPPED),
            children())

    def test_intensity_exceeded_shuts_the_supervisor_down(self):
        sup = self.rt.start_supervisor(SupervisorSpec(
            [self.child("w")], intensity=1, period_ms=60000))
        (_, pid), = self.starts(1)
        self.rt.send(pid, "crash")
        self.entry()
        (_, pid), = self.starts(1)
        self.rt.send(pid, "crash")  # second restart in the period: too many
        self.rt.wait(sup.pid, 5000)
        self.assertFalse(self.rt.is_alive(sup.pid))

    def test_nested_supervisors_and_dynamic_children(self):
        pool = SupervisorSpec([ChildSpec(None, Worker, (self.log,))],
                              strategy=Strategy.SIMPLE_ONE_FOR_ONE,
                              intensity=5)
        top = self.rt.start_supervisor(SupervisorSpec([
            self.child("first"),
            ChildSpec("pool", supervisor=pool,
                      shutdown=airs.Shutdown.INFINITY)]))
        self.starts(1)
        info = top.which_children()
        self.assertEqual([(i.id, i.type) for i in info],
                         [("first", airs.ChildType.WORKER),
                          ("pool", airs.ChildType.SUPERVISOR)])
        dynamic = top.child_supervisor("pool")
        a = dynamic.start_dynamic_child("dyn-a")
        b = dynamic.start_dynamic_child("dyn-b")
        self.assertEqual(sorted(t for t, _ in self.starts(2)),
                         ["dyn-a", "dyn-b"])
        self.assertEqual(dynamic.count_children(),
                         airs.ChildCounts(1, 2, 0, 2))  # OTP: specs 1
        self.rt.send(a, "crash")  # restarted from the template + its arg
        self.entry()
        self.assertEqual(self.starts(1)[0][0], "dyn-a")
        dynamic.terminate_child(b)
        self.assertEqual(self.entry()[:2], ("stop", "dyn-b"))
        self.assertEqual(dynamic.count_children().active, 1)
        with self.assertRaises(airs.InvalidArgumentError):
            dynamic.terminate_child("an-id")  # needs a pid here

    def test_operations(self):
        sup = self.rt.start_supervisor(SupervisorSpec([self.child("a")]))
        self.starts(1)
        added = sup.start_child(self.child("b"))
        self.assertEqual(self.starts(1), [("b", added)])
        with self.assertRaises(airs.AlreadyExistsError):
            sup.start_child(self.child("b"))
        sup.terminate_child("b")  # waits for its end
        self.assertEqual(self.entry()[:2], ("stop", "b"))
        self.assertFalse(self.rt.is_alive(added))
        with self.assertRaises(airs.StateError):
            sup.delete_child("a")  # running
        again = sup.restart_child("b")
        self.assertEqual(self.starts(1), [("b", again)])
        with self.assertRaises(airs.StateError):
            sup.restart_child("b")  # running
        with self.assertRaises(airs.NotFoundError):
            sup.terminate_child(again)  # by pid: pools only, as OTP
        sup.terminate_child("b")
        self.entry()
        sup.delete_child("b")
        with self.assertRaises(airs.NotFoundError):
            sup.restart_child("b")
        with self.assertRaises(airs.NotFoundError):
            sup.terminate_child("nope")
        self.assertEqual(sup.count_children(), airs.ChildCounts(1, 1, 0, 1))
        self.assertEqual([c.id for c in sup.spec.children], ["a"])
        # An id given as bytes names the same child, in C and in the spec.
        sup.start_child(self.child("c"))
        self.starts(1)
        sup.terminate_child("c")
        self.entry()
        sup.delete_child(b"c")
        self.assertEqual([c.id for c in sup.spec.children], ["a"])
        # child_pid: None for a child that is not running, KeyError for
        # an id the supervisor does not have.
        sup.start_child(self.child("d"))
        self.starts(1)
        sup.terminate_child("d")
        self.entry()
        self.assertIsNone(sup.child_pid("d"))
        with self.assertRaises(KeyError):
            sup.child_pid("nope")
        sup.delete_child("d")
        sup.stop()
        self.assertEqual(self.entry()[:2], ("stop", "a"))
        self.assertFalse(self.rt.is_alive(sup.pid))
        with self.assertRaises(airs.NoProcessError):
            sup.which_children()

    def test_supervisor_ops_on_a_plain_actor(self):
        pid = self.rt.spawn(Worker, (self.log, "x"))
        not_sup = self.rt.supervisor(pid)
        with self.assertRaises(airs.InvalidArgumentError):
            not_sup.count_children()

    def test_failing_child_start_fails_the_whole_start(self):
        class Broken(airs.Actor):
            def on_start(self):
                raise OSError("cannot open")

        with self.assertRaises(airs.ActorStartError) as cm:
            self.rt.start_supervisor(SupervisorSpec([
                self.child("ok"), ChildSpec("broken", Broken)]))
        self.assertIsInstance(cm.exception.__cause__, OSError)
        self.assertIn("cannot open", cm.exception.detail)
        self.starts(1)
        self.assertEqual(self.entry()[:2], ("stop", "ok"))  # rolled back
        self.assertEqual(self.rt._core.starts, {})  # specs released

    def test_bad_specs_raise_with_the_library_message(self):
        with self.assertRaises(airs.InvalidArgumentError) as cm:
            self.rt.start_supervisor(SupervisorSpec([self.child("")]))
        self.assertIn("id", cm.exception.detail)
        with self.assertRaises(airs.AlreadyExistsError):
            self.rt.start_supervisor(SupervisorSpec(
                [self.child("same"), self.child("same")]))
        with self.assertRaises(airs.InvalidArgumentError):
            self.rt.start_supervisor(SupervisorSpec(period_ms=0))
        with self.assertRaises(airs.InvalidArgumentError):
            self.rt.start_supervisor(SupervisorSpec(strategy=17))
        with self.assertRaises(airs.InvalidArgumentError):
            self.rt.start_supervisor(SupervisorSpec(
                [self.child("w", significant=True)]))
        with self.assertRaises(airs.InvalidArgumentError):
            self.rt.start_supervisor(SupervisorSpec([self.child("x" * 64)]))
        with self.assertRaises(ValueError):
            ChildSpec("both", Worker, supervisor=SupervisorSpec())
        with self.assertRaises(TypeError):
            self.rt.start_supervisor([self.child("w")])
        self.assertEqual(self.rt._core.starts, {})
        self.assertTrue(self.log.empty())

    def test_health_check_failure_restarts_the_child(self):
        healthy = threading.Event()

        class Sick(Worker):
            def health(self):
                return airs.Health.HEALTHY if healthy.is_set() \
                    else airs.Health.FAILED

        self.rt.start_supervisor(SupervisorSpec(
            [ChildSpec("sick", Sick, (self.log, "sick"))], intensity=100,
            health_interval_ms=10, health_timeout_ms=1000,
            health_threshold=2))
        (_, first), = self.starts(1)
        self.assertEqual(self.entry()[:2], ("stop", "sick"))
        healthy.set()
        (_, second), = self.starts(1)
        self.assertNotEqual(first, second)

    def test_health_exception_counts_as_failed(self):
        class Raising(Worker):
            def health(self):
                raise ValueError("health broke")

        self.rt.start_supervisor(SupervisorSpec(
            [ChildSpec("r", Raising, (self.log, "r"))], intensity=100,
            health_interval_ms=10, health_threshold=1))
        self.starts(1)
        self.assertEqual(self.entry()[:2], ("stop", "r"))

    def test_operations_from_inside_an_actor(self):
        results = queue.Queue()
        spec = SupervisorSpec([self.child("a")])
        sup = self.rt.start_supervisor(spec)
        self.starts(1)

        class Operator(airs.Actor):
            def receive(self, message):
                handle = self.runtime.supervisor(sup.pid, sup.spec)
                results.put(handle.count_children())
                results.put(handle.start_child(message))

        self.rt.send(self.rt.spawn(Operator), self.child("b"))
        self.assertEqual(results.get(timeout=TIMEOUT).active, 1)
        pid = results.get(timeout=TIMEOUT)
        self.assertEqual(self.starts(1), [("b", pid)])


if __name__ == "__main__":
    unittest.main()
