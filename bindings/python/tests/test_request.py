"""Request/reply: Runtime.call from threads, Actor.request between
actors, timeouts and late replies."""
import queue
import threading
import time
import unittest
import weakref

from support import RuntimeTest, TIMEOUT

import airs


class Server(airs.Actor):
    """Answers ("add", a, b) with a + b, ("echo", x) with x, "bytes" with
    bytes, "identity" with itself, anything else not at all."""

    def receive(self, message):
        if isinstance(message, tuple) and message[0] == "add":
            self.reply(message[1] + message[2])
        elif isinstance(message, tuple) and message[0] == "echo":
            self.reply(message[1])
        elif message == "bytes":
            self.reply(b"raw reply", type=12)
        elif message == "identity":
            self.reply(message)
        elif message == "crash":
            raise RuntimeError("crashed while asked")


class Client(airs.Actor):
    def __init__(self, out):
        self.out = out

    def receive(self, message):
        if isinstance(message, tuple) and message[0] == "ask":
            _, server, question, timeout = message
            try:
                self.out.put(("ref", self.request(server, question,
                                                  timeout)))
            except airs.AirsError as e:
                self.out.put(e)
        else:
            self.out.put(message)


class CallTest(RuntimeTest):

    def test_call_returns_the_reply(self):
        server = self.rt.spawn(Server)
        self.assertEqual(self.rt.call(server, ("add", 2, 3)), 5)
        self.assertEqual(self.rt.call(server, "bytes"), b"raw reply")
        payload = ["the same object"]
        self.assertIs(self.rt.call(server, ("echo", payload)), payload)

    def test_call_identity_and_refs_released(self):
        server = self.rt.spawn(Server)
        for _ in range(100):
            self.assertEqual(self.rt.call(server, "identity"), "identity")
        core = self.rt._core
        self.assertEqual((core.refs, core.replies), ({}, {}))

    def test_call_timeout_and_errors(self):
        server = self.rt.spawn(Server)
        with self.assertRaises(airs.TimeoutError) as cm:
            self.rt.call(server, "never", timeout_ms=30)
        self.assertIn("no reply", cm.exception.detail)
        with self.assertRaises(airs.InvalidArgumentError):
            self.rt.call(server, "x", timeout_ms=0)
        with self.assertRaises(airs.NoProcessError):
            self.rt.call(airs.Pid(99999), "x")
        # The unanswered request object was released by the receiver.
        self.assertEqual(self.rt._core.refs, {})

    def test_call_fails_at_once_when_the_callee_ends(self):
        # As gen_server:call: the callee's end, not the timeout, ends the
        # call, with its reason; the request object is released.
        server = self.rt.spawn(Server)
        started = time.monotonic()
        with self.assertRaises(airs.ProcessExitedError) as cm:
            self.rt.call(server, "crash", timeout_ms=20000)
        self.assertLess(time.monotonic() - started, 5)
        self.assertIsInstance(cm.exception, airs.NoProcessError)
        self.assertIn("crashed while asked", cm.exception.detail)
        self.assertEqual(self.rt._core.refs, {})
        with self.assertRaises(airs.NoProcessError):
            self.rt.call(server, "x")  # gone now: not sent

    def test_call_to_a_mailbox_that_stays_full(self):
        # Not sent: MailboxFullError, and the request object is released
        # here at once (nothing in C holds it).
        started, release = threading.Event(), threading.Event()

        class Busy(airs.Actor):
            def receive(self, message):
                if message == "block":
                    started.set()
                    release.wait(TIMEOUT)

        busy = self.rt.spawn(Busy, mailbox_capacity=1,
                             mailbox_policy=airs.MailboxPolicy.BLOCK,
                             block_timeout_ms=50)
        self.rt.send(busy, "block")
        self.assertTrue(started.wait(TIMEOUT))
        self.rt.send(busy, "fills the mailbox")

        class Question:
            pass
        question = Question()
        gone = weakref.ref(question)
        try:
            with self.assertRaises(airs.MailboxFullError) as cm:
                self.rt.call(busy, question, timeout_ms=5000)
            self.assertIn("stayed full", cm.exception.detail)
            del question, cm
            self.assertIsNone(gone())
        finally:
            release.set()

    def test_calls_from_many_threads(self):
        server = self.rt.spawn(Server)
        errors = []

        def caller(base):
            try:
                for i in range(200):
                    if self.rt.call(server, ("add", base, i)) != base + i:
                        errors.append((base, i))
            except Exception as e:  # pragma: no cover - reported below
                errors.append(e)

        threads = [threading.Thread(target=caller, args=(n * 1000,))
                   for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(TIMEOUT)
        self.assertEqual(errors, [])


class RequestTest(RuntimeTest):

    def setUp(self):
        super().setUp()
        self.out = queue.Queue()
        self.client = self.rt.spawn(Client, (self.out,))
        self.server = self.rt.spawn(Server)

    def get(self):
        return self.out.get(timeout=TIMEOUT)

    def test_request_gets_a_reply(self):
        self.rt.send(self.client, ("ask", self.server, ("add", 4, 5), 1000))
        kind, ref = self.get()
        self.assertEqual(kind, "ref")
        self.assertEqual(self.get(), airs.Reply(ref, 9))
        self.rt.send(self.client, ("ask", self.server, "bytes", 1000))
        _, ref = self.get()
        self.assertEqual(self.get(), airs.Reply(ref, b"raw reply"))

    def test_request_timeout_then_late_reply_dropped(self):
        letters = queue.Queue()
        self.rt.set_dead_letter_hook(letters.put)
        self.rt.send(self.client, ("ask", self.server, "never", 20))
        _, ref = self.get()
        self.assertEqual(self.get(), airs.RequestTimeout(ref))
        # A reply after the timeout never reaches the client.
        self.rt.send(self.client, "marker")
        self.assertEqual(self.get(), "marker")

    def test_late_reply_is_a_dead_letter(self):
        letters = queue.Queue()
        self.rt.set_dead_letter_hook(letters.put)

        # A reply needs the request being received, so the server is slow
        # inside receive (sleeping in an actor only for this test).
        class Slow(airs.Actor):
            def receive(self, message):
                import time
                time.sleep(0.1)  # past the requester's timeout
                self.reply("too late")

        slow = self.rt.spawn(Slow)
        self.rt.send(self.client, ("ask", slow, "question", 20))
        _, ref = self.get()
        self.assertEqual(self.get(), airs.RequestTimeout(ref))
        letter = letters.get(timeout=TIMEOUT)
        self.assertEqual(letter.reason, airs.DeadLetterReason.LATE_REPLY)
        self.assertEqual(letter.message, "too late")
        core = self.rt._core
        self.assertEqual((core.refs, core.replies), ({}, {}))

    def test_request_errors(self):
        self.rt.send(self.client, ("ask", airs.Pid(424242), "x", 100))
        self.assertIsInstance(self.get(), airs.NoProcessError)
        self.rt.send(self.client, ("ask", self.server, "x", 0))
        self.assertIsInstance(self.get(), airs.InvalidArgumentError)
        self.rt.send(self.client, ("ask", self.server, "x", 1 << 33))
        self.assertIsInstance(self.get(), airs.InvalidArgumentError)
        core = self.rt._core
        self.assertEqual((core.refs, core.replies), ({}, {}))

    def test_reply_to_a_non_request(self):
        results = queue.Queue()

        class Replier(airs.Actor):
            def receive(self, message):
                try:
                    self.reply("answer")
                except airs.InvalidArgumentError as e:
                    results.put(e)

        self.rt.send(self.rt.spawn(Replier), "not a request")
        error = results.get(timeout=TIMEOUT)
        self.assertIn("correlation", error.detail)
        self.assertEqual(self.rt._core.replies, {})


if __name__ == "__main__":
    unittest.main()
