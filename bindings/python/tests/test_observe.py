"""What a runtime shows about itself (airs.observe): processes and their
info and labels, links and monitors, the supervision tree, the top
processes, the log hook's crash reports, the metrics, the observer
endpoint, and ``python -m airs.top`` against it."""
import os
import queue
import subprocess
import sys
import threading
import time
import unittest
import urllib.request

from support import RuntimeTest, TIMEOUT, wait_until

import airs
from airs.observe import ProcessState, TopKey, pid_text
from airs.supervisor import ChildSpec, SupervisorSpec


class Labelled(airs.Actor):
    def on_start(self):
        self.set_label("the worker")

    def receive(self, message):
        if message == "crash":
            raise RuntimeError("crashing on purpose")
        if isinstance(message, tuple) and message[0] == "tie":
            self.link(message[1])
            self.monitor(message[2])


class Idle(airs.Actor):
    def receive(self, message):
        pass


class Napper(airs.Actor):
    """Sleeps the seconds it is sent."""
    def receive(self, message):
        time.sleep(message)


class ObserveTest(RuntimeTest):

    def test_processes_and_info(self):
        pid = self.rt.spawn(Labelled, name="labelled")
        self.assertIn(pid, wait_until(lambda: self.rt.processes()))
        info = self.rt.process_info(pid)
        self.assertEqual(info.pid, pid)
        self.assertEqual(info.name, "labelled")
        self.assertEqual(info.label, "the worker")
        self.assertIn(info.state, (ProcessState.WAITING,
                                   ProcessState.RUNNABLE))
        self.assertIsNone(info.supervisor)
        self.assertGreater(info.memory_bytes, 0)
        self.assertRegex(pid_text(pid), r"^<\d+\.\d+\.\d+>$")
        self.rt.kill(pid)
        self.rt.wait(pid, 1000)
        with self.assertRaises(airs.NoProcessError):
            self.rt.process_info(pid)

    def test_ties(self):
        a = self.rt.spawn(Labelled)
        b = self.rt.spawn(Idle)
        c = self.rt.spawn(Idle)
        self.rt.send(a, ("tie", b, c))
        ties = wait_until(lambda: (lambda t: t if t.links else None)(
            self.rt.ties(a)))
        self.assertEqual(ties.links, (b,))
        self.assertEqual(ties.monitors, (c,))
        self.assertEqual(self.rt.ties(c).monitored_by, (a,))

    def test_tree_and_top(self):
        sup = self.rt.start_supervisor(SupervisorSpec(
            [ChildSpec("one", Idle), ChildSpec("two", Idle)]))
        nodes = self.rt.supervision_tree()
        self.assertEqual([n.id for n in nodes], ["", "one", "two"])
        self.assertEqual(nodes[0].pid, sup.pid)
        self.assertTrue(nodes[0].is_supervisor)
        self.assertEqual(nodes[1].supervisor, sup.pid)
        self.assertEqual(self.rt.process_info(nodes[1].pid).label, "one")
        busy = nodes[2].pid
        for i in range(200):
            self.rt.send(busy, i)
        top = self.rt.top(TopKey.HANDLED, window_ms=0, n=3)
        self.assertEqual(len(top), 3)
        wait_until(lambda: self.rt.process_info(busy).mailbox_depth == 0)

    def test_timing_by_name(self):
        self.rt.track_timing("nap.*")
        pid = self.rt.spawn(Napper, name="nap.1")
        other = self.rt.spawn(Napper, name="awake")
        for _ in range(3):
            self.rt.send(pid, 0.003)
            self.rt.send(other, 0)
        # Python actors take their messages in batches (one call of the
        # runtime's receive_batch per turn): one run sample per batch.
        timing = wait_until(lambda: (lambda t: t if t.wait.count == 3
                                     else None)(self.rt.timing("nap.1")))
        self.assertEqual(timing.wait_unmeasured, 0)
        self.assertTrue(1 <= timing.run.count <= 3)
        self.assertEqual(len(timing.run.buckets),
                         airs.observe.TIMING_BUCKETS)
        self.assertEqual(sum(timing.run.buckets), timing.run.count)
        self.assertGreaterEqual(timing.run.sum_ns, 3 * 3_000_000)
        self.assertIn('airs_process_mailbox_wait_seconds_count{name="nap.1"} '
                      '3', self.rt.metrics())
        with self.assertRaises(airs.NotFoundError):
            self.rt.timing("awake")
        with self.assertRaises(airs.AlreadyExistsError):
            self.rt.track_timing("nap.*")
        self.rt.untrack_timing("nap.*")
        with self.assertRaises(airs.NotFoundError):
            self.rt.untrack_timing("nap.*")
        with self.assertRaises(airs.InvalidArgumentError):
            self.rt.track_timing("")

    def test_metrics_source(self):
        calls = []

        def source():
            calls.append(1)
            return "# TYPE host_queue gauge\nhost_queue 7"

        self.rt.add_metrics_source(source)
        text = self.rt.metrics()
        self.assertIn("\nhost_queue 7\n", text)
        self.assertLess(text.index("airs_processes "),
                        text.index("host_queue 7"))
        with self.assertRaises(airs.AlreadyExistsError):
            self.rt.add_metrics_source(source)
        self.rt.remove_metrics_source(source)
        self.assertNotIn("host_queue", self.rt.metrics())
        with self.assertRaises(airs.NotFoundError):
            self.rt.remove_metrics_source(source)
        self.assertTrue(calls)

    def test_log_hook_and_metrics(self):
        lines = queue.Queue()
        self.rt.set_log_hook(lambda sev, line: lines.put((sev, line)),
                             airs.Severity.ERROR)
        pid = self.rt.spawn(Labelled)
        self.rt.send(pid, "crash")
        severity, line = lines.get(timeout=TIMEOUT)
        self.assertEqual(severity, airs.Severity.ERROR)
        self.assertIn(f"airs: crash: process {pid_text(pid)}", line)
        self.assertIn("[the worker] exited: error", line)
        self.assertIn("crashing on purpose", line)
        self.rt.set_log_hook(None)
        text = self.rt.metrics()
        self.assertIn('airs_process_exits_total{reason="error"} 1', text)
        self.assertIn("# TYPE airs_processes gauge", text)

    def test_observer_and_top(self):
        for _ in range(3):
            self.rt.spawn(Idle)
        pid, url = self.rt.open_observer()
        self.assertEqual(self.rt.whereis(airs.observe.OBSERVER_NAME), pid)
        with urllib.request.urlopen(url + "metrics", timeout=10) as reply:
            self.assertIn(b"airs_processes ", reply.read())
        with self.assertRaises(airs.AlreadyExistsError):
            self.rt.open_observer()
        # python -m airs.top against it, once.
        env = dict(os.environ)
        out = subprocess.run(
            [sys.executable, "-m", "airs.top", url, "--once", "--interval",
             "0.2", "--sort", "mailbox"],
            capture_output=True, text=True, timeout=60, env=env)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("PID", out.stdout)
        self.assertIn("airs.observer", out.stdout)
        self.assertIn(pid_text(pid), out.stdout)
        self.assertIn("processes 4", out.stdout)
        # Nobody there: a clear message and status 1.
        self.rt.stop(pid)
        self.rt.wait(pid, 1000)
        out = subprocess.run([sys.executable, "-m", "airs.top", url, "--once"],
                             capture_output=True, text=True, timeout=60,
                             env=env)
        self.assertEqual(out.returncode, 1)
        self.assertIn("airs.top: ", out.stderr)


if __name__ == "__main__":
    unittest.main()
