"""Messages: bytes, Python objects by reference (and their release), type
tags, priorities and codecs."""
import gc
import queue
import sys
import threading
import unittest
import weakref

from support import Probe, RuntimeTest, TIMEOUT, wait_until

import airs


class Token:
    """A weak-referenceable payload."""

    def __init__(self, n=0):
        self.n = n


class Holder(airs.Actor):
    """Keeps its actor blocked on `gate` after the first message."""

    def __init__(self, gate, inbox=None):
        self.gate, self.inbox = gate, inbox

    def receive(self, message):
        if self.inbox is not None:
            self.inbox.put(message)
        self.gate.wait(TIMEOUT)


class ByReferenceTest(RuntimeTest):

    def test_the_same_object_arrives(self):
        pid = self.probe()
        token = Token(5)
        payload = {"list": [1, 2], "token": token}
        self.rt.send(pid, payload)
        message, sender, type_tag = self.next_message()
        self.assertIs(message, payload)
        self.assertIs(message["token"], token)
        self.assertIsNone(sender)
        self.assertEqual(type_tag, 0)
        for value in (None, 0, -1, 3.5, "text", (1, "two"), Token):
            self.rt.send(pid, value)
            self.assertIs(self.next_message()[0], value)

    def test_reference_released_after_delivery(self):
        pid = self.probe()
        token = Token()
        before = sys.getrefcount(token)
        self.rt.send(pid, token)
        self.assertEqual(sys.getrefcount(token), before + 1)  # the table
        self.assertIs(self.next_message()[0], token)
        # The probe's inbox tuple was just dropped: back to before.
        self.assertTrue(wait_until(lambda: sys.getrefcount(token) == before))
        self.assertEqual(self.rt._core.refs, {})

    def test_undelivered_references_are_released_by_dead_letters(self):
        gate = threading.Event()
        pid = self.rt.spawn(Holder, (gate, self.inbox))
        self.rt.send(pid, "block")
        self.assertEqual(self.next_message(), "block")  # inside receive
        tokens = [Token(i) for i in range(10)]
        refs = [weakref.ref(t) for t in tokens]
        for t in tokens:
            self.rt.send(pid, t)
        del t
        tokens.clear()
        self.assertTrue(all(r() is not None for r in refs))  # in flight
        letters = []
        self.rt.set_dead_letter_hook(letters.append)
        self.rt.kill(pid)  # the ten die in its mailbox
        gate.set()
        self.rt.wait(pid, int(TIMEOUT * 1000))
        self.assertTrue(wait_until(lambda: len(letters) == 10))
        self.assertEqual({l.reason for l in letters},
                         {airs.DeadLetterReason.EXITED})
        self.assertEqual(sorted(l.message.n for l in letters), list(range(10)))
        letters.clear()
        gc.collect()
        self.assertTrue(all(r() is None for r in refs))
        self.assertEqual(self.rt._core.refs, {})

    def test_references_released_when_the_runtime_closes(self):
        gate = threading.Event()
        pid = self.rt.spawn(Holder, (gate,))
        self.rt.send(pid, "block")
        token = Token()
        ref = weakref.ref(token)
        self.rt.send(pid, token)
        timer_token = Token()
        timer_ref = weakref.ref(timer_token)
        self.rt.send_after(60000, pid, timer_token)
        del token, timer_token
        self.assertIsNotNone(ref())
        self.assertIsNotNone(timer_ref())
        gate.set()
        self.rt.close()
        gc.collect()
        self.assertIsNone(ref())
        self.assertIsNone(timer_ref())

    def test_send_to_dead_pid(self):
        pid = self.probe()
        self.rt.kill(pid)
        self.rt.wait(pid, 1000)
        token = Token()
        before = sys.getrefcount(token)
        with self.assertRaises(airs.NoProcessError):
            self.rt.send(pid, token)
        with self.assertRaises(airs.NoProcessError) as cm:
            self.rt.send(pid, b"bytes")
        self.assertIn("not alive", cm.exception.detail)
        self.assertEqual(sys.getrefcount(token), before)
        self.assertEqual(self.rt._core.refs, {})
        with self.assertRaises(airs.NoProcessError):
            self.rt.send(airs.Pid(0), "x")

    def test_fifo_per_sender(self):
        pid = self.probe()
        for i in range(1000):
            self.rt.send(pid, i)
        self.assertEqual([self.next_message()[0] for _ in range(1000)],
                         list(range(1000)))

    def test_high_priority_first(self):
        gate = threading.Event()
        inbox = queue.Queue()
        pid = self.rt.spawn(Holder, (gate, inbox))
        self.rt.send(pid, "block")
        self.assertEqual(inbox.get(timeout=TIMEOUT), "block")
        self.rt.send(pid, "normal")
        self.rt.send(pid, "high", priority=airs.Priority.HIGH)
        gate.set()
        self.assertEqual(inbox.get(timeout=TIMEOUT), "high")
        self.assertEqual(inbox.get(timeout=TIMEOUT), "normal")


class BytesAndTagsTest(RuntimeTest):

    def test_bytes_are_copied_with_their_tag(self):
        pid = self.probe()
        data = bytearray(b"abc")
        self.rt.send(pid, data, type=42)
        data[0] = ord("X")  # the message has its own copy
        self.assertEqual(self.next_message(), (b"abc", None, 42))
        self.rt.send(pid, memoryview(b"\x00\x01"), type=1)
        self.assertEqual(self.next_message(), (b"\x00\x01", None, 1))
        self.rt.send(pid, b"")
        self.assertEqual(self.next_message(), (b"", None, 0))
        big = bytes(range(256)) * 4096
        self.rt.send(pid, big, type=3)
        self.assertEqual(self.next_message(), (big, None, 3))

    def test_bytes_from_an_actor_are_copied_too(self):
        target = self.probe()

        class Forwarder(airs.Actor):
            def receive(self, message):
                if message == "make":
                    for value in (b"b", bytearray(b"ba"), memoryview(b"mv")):
                        self.send(target, value)
                else:
                    self.send(target, message)

        forwarder = self.rt.spawn(Forwarder)
        self.rt.send(forwarder, "make")
        for expected in (b"b", b"ba", b"mv"):
            got = self.next_message()
            self.assertIs(type(got[0]), bytes)
            self.assertEqual(got[0], expected)

        class Blob(bytes):
            pass

        blob = Blob(b"subclass")  # an object like any other: by reference
        self.rt.send(forwarder, blob)
        self.assertIs(self.next_message()[0], blob)

    def test_reserved_tags_are_refused(self):
        pid = self.probe()
        for tag in (airs.USER_TYPE_LIMIT, 0xFFFFFFFF00000001, -1):
            with self.assertRaises(ValueError):
                self.rt.send(pid, b"x", type=tag)
        with self.assertRaises(ValueError):
            self.rt.send(pid, "object with a tag", type=5)
        self.assertEqual(self.rt._core.refs, {})

    def test_objects_to_a_non_python_process_need_a_codec(self):
        sup = self.rt.start_supervisor(airs.SupervisorSpec())  # a C process
        with self.assertRaises(TypeError) as cm:
            self.rt.send(sup.pid, {"a": 1})
        self.assertIn("codec", str(cm.exception))
        self.rt.send(sup.pid, b"bytes are fine")
        self.rt.send(sup.pid, {"a": 1}, codec=airs.JsonCodec())
        self.assertEqual(self.rt._core.refs, {})

    def test_unknown_target_kinds(self):
        with self.assertRaises(TypeError):
            self.rt.send(3.5, "x")
        with self.assertRaises(airs.NoProcessError):
            self.rt.send("nobody-has-this-name", "x")


class CodecTest(RuntimeTest):

    def test_codec_payloads_are_decoded_for_python_actors(self):
        json_codec = airs.JsonCodec()
        pickle_codec = airs.PickleCodec()
        self.rt.add_codec(json_codec)
        self.rt.add_codec(pickle_codec)
        pid = self.probe()
        self.rt.send(pid, {"k": [1, 2]}, codec=json_codec)
        self.assertEqual(self.next_message(),
                         ({"k": [1, 2]}, None, json_codec.type_tag))
        self.rt.send(pid, json_codec.encode([3]), type=json_codec.type_tag)
        self.assertEqual(self.next_message()[0], [3])
        self.rt.send(pid, {1, 2}, codec=pickle_codec)
        self.assertEqual(self.next_message()[0], {1, 2})

    def test_unregistered_codec_tag_arrives_as_bytes(self):
        pid = self.probe()
        codec = airs.JsonCodec(type_tag=77)
        self.rt.send(pid, [1], codec=codec)
        self.assertEqual(self.next_message(), (b"[1]", None, 77))

    def test_default_codec_for_non_python_targets_only(self):
        self.rt.default_codec = airs.JsonCodec()
        pid = self.probe()
        token = Token()
        self.rt.send(pid, token)  # Python actor: still by reference
        self.assertIs(self.next_message()[0], token)
        sup = self.rt.start_supervisor(airs.SupervisorSpec())
        self.rt.send(sup.pid, {"ok": True})  # encoded, no TypeError
        with self.assertRaises(TypeError):
            self.rt.send(sup.pid, Token())  # not JSON-serializable

    def test_codec_failure_in_receive_crashes_the_actor(self):
        self.rt.add_codec(airs.JsonCodec())
        pid = self.probe()
        self.rt.send(pid, b"{not json", type=airs.JsonCodec().type_tag)
        kind, reason = self.next_message()
        self.assertEqual(kind, "stop")
        self.assertIn("JSONDecodeError", reason.text)

    def test_reserved_codec_tag_refused(self):
        with self.assertRaises(ValueError):
            self.rt.add_codec(airs.JsonCodec(type_tag=airs.USER_TYPE_LIMIT))


if __name__ == "__main__":
    unittest.main()
