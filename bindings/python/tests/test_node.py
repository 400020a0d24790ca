"""airs.node: two nodes (two runtimes of this process) of a cluster over a
nats-server the test starts on a free loopback port."""
import queue
import socket
import subprocess
import time
import unittest

import airs
from airs.node import DownReason, Node, NodeDown, NodeUp

TIMEOUT = 10


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Echo(airs.Actor):
    """Answers ("add", a, b) requests; sends ("pong", n) back for each
    ("ping", n) message."""

    def receive(self, message):
        if message[0] == "add":
            self.reply(message[1] + message[2])
        elif message[0] == "ping":
            self.send(self.sender, ("pong", message[1]))
        elif message[0] == "stop":
            self.exit(airs.ExitKind.ERROR, 42, "asked to")


class Watcher(airs.Actor):
    """("watch", pid) monitors pid; ("watch and stop", pid) also tells it
    to stop; Downs go to the queue."""

    def __init__(self, out):
        self.out = out

    def receive(self, message):
        if isinstance(message, tuple) and message[0] == "watch":
            self.monitor(message[1])
            self.out.put("watching")
        elif isinstance(message, tuple) and message[0] == "watch and stop":
            self.monitor(message[1])  # then, in order on the same pair:
            self.send(message[1], ("stop",))
        else:
            self.out.put(message)


class Collector(airs.Actor):
    """Puts what it gets in a queue; ("go", pid, n) sends n pings."""

    def __init__(self, out):
        self.out = out

    def receive(self, message):
        if isinstance(message, tuple) and message[0] == "go":
            for n in range(message[2]):
                self.send(message[1], ("ping", n))
        else:
            self.out.put((message, self.sender))


class NodeTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        port = free_port()
        cls.url = f"nats://127.0.0.1:{port}"
        cls.server = subprocess.Popen(
            ["nats-server", "-a", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    cls.server.kill()
                    raise
                time.sleep(0.01)

    @classmethod
    def tearDownClass(cls):
        cls.server.terminate()
        cls.server.wait(TIMEOUT)

    def setUp(self):
        self.a = airs.Runtime(codec=airs.PickleCodec())
        self.b = airs.Runtime(codec=airs.PickleCodec())
        self.na = Node(self.a, self.url, "a", cluster="py")
        self.nb = Node(self.b, self.url, "b", cluster="py")

    def tearDown(self):
        self.nb.detach()
        self.na.detach()
        self.b.close()
        self.a.close()

    def test_call_a_global_name_on_another_node(self):
        echo = self.b.spawn(Echo)
        self.nb.register("echo", echo)
        found = self.na.whereis("echo")
        self.assertEqual(found, echo)
        self.assertEqual(self.a.call(found, ("add", 2, 3)), 5)
        self.assertIsNone(self.na.whereis("nobody"))

    def test_messages_both_ways_in_order(self):
        echo = self.b.spawn(Echo)
        out = queue.Queue()
        collector = self.a.spawn(Collector, (out,))
        self.a.send(collector, ("go", echo, 200))
        got = [out.get(timeout=TIMEOUT) for _ in range(200)]
        self.assertEqual([m for m, _ in got], [("pong", n) for n in range(200)])
        self.assertTrue(all(sender == echo for _, sender in got))

    def test_node_events(self):
        out = queue.Queue()
        watcher = self.a.spawn(Collector, (out,))
        self.na.monitor(watcher)
        message, _ = out.get(timeout=TIMEOUT)
        self.assertIsInstance(message, NodeUp)
        self.assertEqual(message.peer.name, "b")
        self.assertEqual(message.peer.incarnation, self.nb.self.incarnation)
        self.assertEqual([p.name for p in self.na.peers()], ["b"])
        self.nb.detach()
        message, _ = out.get(timeout=TIMEOUT)
        self.assertEqual(message, NodeDown(message.peer, DownReason.LEFT))
        self.na.monitor(watcher, False)

    def test_a_topic_spans_the_nodes(self):
        out = queue.Queue()
        here = self.a.spawn(Collector, (out,))
        there = self.b.spawn(Collector, (out,))
        self.a.subscribe("prices", here)
        self.b.subscribe("prices", there)
        time.sleep(0.3)  # b's subscription reaches the server
        self.assertEqual(self.a.publish("prices", ("ACME", 1)), 1)
        got = sorted(out.get(timeout=TIMEOUT) for _ in range(2))
        self.assertEqual(got, [(("ACME", 1), None), (("ACME", 1), None)])

    def test_a_pool_spans_the_nodes(self):
        here = self.a.spawn(Echo)
        there = [self.b.spawn(Echo) for _ in range(2)]
        self.a.pool_join("adders", here)
        for pid in there:
            self.b.pool_join("adders", pid)
        deadline = time.monotonic() + TIMEOUT
        while (len(self.a.pool_members("adders")) < 3
               or len(self.b.pool_members("adders")) < 3):
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.01)
        self.assertEqual(sorted(self.a.pool_members("adders")),
                         sorted([here] + there))
        picked = {self.a.pool_pick("adders") for _ in range(3)}
        self.assertEqual(picked, {here, *there})
        for pid in picked:  # each member answers, wherever it is
            self.assertEqual(self.a.call(pid, ("add", 1, 2)), 3)
        with self.assertRaises(airs.InvalidArgumentError):
            self.a.pool_leave("adders", there[0])  # b's to leave
        self.b.pool_leave("adders", there[0])
        while len(self.a.pool_members("adders")) != 2:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.01)
        self.nb.detach()  # b's members go with it
        while self.a.pool_members("adders") != [here]:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.01)

    def test_monitors_and_links_cross(self):
        out = queue.Queue()
        watcher = self.a.spawn(Watcher, (out,))
        echo = self.b.spawn(Echo)
        self.a.send(watcher, ("watch and stop", echo))
        down = out.get(timeout=TIMEOUT)
        self.assertIsInstance(down, airs.Down)
        self.assertEqual(down.pid, echo)
        self.assertEqual(down.reason.kind, airs.ExitKind.ERROR)
        self.assertEqual(down.reason.code, 42)
        # The node of a watched process leaves: DOWN noconnection, once.
        echo = self.b.spawn(Echo)
        self.a.send(watcher, ("watch", echo))
        self.assertEqual(out.get(timeout=TIMEOUT), "watching")
        time.sleep(0.1)  # the monitor reaches b
        self.nb.detach()
        down = out.get(timeout=TIMEOUT)
        self.assertEqual(down.pid, echo)
        self.assertEqual(down.reason.kind, airs.ExitKind.NOCONNECTION)
        with self.assertRaises(queue.Empty):
            out.get(timeout=0.3)

    def test_objects_need_a_codec_to_cross(self):
        echo = self.b.spawn(Echo)
        with airs.Runtime() as plain:
            node = Node(plain, self.url, "plain", cluster="py")
            try:
                with self.assertRaises(TypeError):
                    plain.send(echo, ("ping", 1))
                plain.send(echo, b"raw bytes are fine")
                # Topics span the nodes: an object needs a codec there too.
                with self.assertRaises(TypeError):
                    plain.publish("prices", ("ACME", 1))
                plain.publish("prices", b"raw bytes are fine")
            finally:
                node.detach()

    def test_errors(self):
        with self.assertRaises(airs.AlreadyExistsError):
            with airs.Runtime() as other:
                Node(other, self.url, "a", cluster="py")
        with self.assertRaises(airs.InvalidArgumentError):
            self.na.register("a.b", self.a.spawn(Echo))
        with self.assertRaises(airs.NotFoundError):
            self.na.unregister("nobody")
        with self.assertRaises(airs.NoProcessError):
            self.na.register("dead", 12345)
        echo = self.b.spawn(Echo)
        self.nb.register("taken", echo)
        with self.assertRaises(airs.AlreadyExistsError):
            self.na.register("taken", self.a.spawn(Echo))
        self.nb.detach()
        with self.assertRaises(airs.InvalidArgumentError):
            self.nb.register("x", echo)
        # b left: once a has heard it, b's pids are stale at once.
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                self.a.call(echo, ("add", 1, 1), timeout_ms=200)
            except airs.NoProcessError:
                break
            except airs.TimeoutError:
                pass
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.01)


if __name__ == "__main__":
    unittest.main()
