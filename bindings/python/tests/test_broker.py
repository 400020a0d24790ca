"""Broker topics: subscribe, publish (objects and bytes), release of
published objects, dead letters."""
import gc
import queue
import threading
import unittest
import weakref

from support import Probe, RuntimeTest, TIMEOUT, wait_until

import airs


class Token:
    pass


class Subscriber(airs.Actor):
    def __init__(self, topic, inbox):
        self.topic, self.inbox = topic, inbox

    def on_start(self):
        self.subscribe(self.topic)

    def receive(self, message):
        if message == "leave":
            self.unsubscribe(self.topic)
            self.inbox.put(("left", self.pid))
        elif message == "publish":
            self.publish(self.topic, "from an actor")
        else:
            self.inbox.put((self.pid, message, self.sender,
                            self.message_type))


class BrokerTest(RuntimeTest):

    def test_publish_reaches_every_subscriber_in_order(self):
        subs = [self.rt.spawn(Subscriber, ("news", self.inbox))
                for _ in range(3)]
        self.assertEqual(sorted(self.rt.subscribers("news")), sorted(subs))
        payload = {"shared": True}
        self.assertEqual(self.rt.publish("news", payload), 3)
        self.assertEqual(self.rt.publish("news", b"raw", type=8), 3)
        got = [self.next_message() for _ in range(6)]
        for pid in subs:
            mine = [g for g in got if g[0] == pid]
            self.assertIs(mine[0][1], payload)  # the same object for all
            self.assertEqual(mine[0][3], 0)
            self.assertEqual(mine[1][1:], (b"raw", None, 8))

    def test_published_object_released_after_last_delivery(self):
        subs = [self.rt.spawn(Subscriber, ("t", self.inbox))
                for _ in range(4)]
        token = Token()
        ref = weakref.ref(token)
        self.assertEqual(self.rt.publish("t", token), 4)
        del token
        for _ in range(4):
            self.next_message()
        gc.collect()
        self.assertTrue(wait_until(lambda: ref() is None))
        self.assertEqual(self.rt._core.held, {})
        self.assertTrue(subs)

    def test_no_subscribers_is_a_dead_letter(self):
        letters = queue.Queue()
        self.rt.set_dead_letter_hook(letters.put)
        token = Token()
        ref = weakref.ref(token)
        self.assertEqual(self.rt.publish("empty", token), 0)
        letter = letters.get(timeout=TIMEOUT)
        self.assertEqual(letter.reason, airs.DeadLetterReason.NO_SUBSCRIBERS)
        self.assertIs(letter.message, token)
        del token, letter
        gc.collect()
        self.assertIsNone(ref())
        self.assertEqual(self.rt._core.held, {})

    def test_unsubscribe_and_dead_subscribers_leave(self):
        a = self.rt.spawn(Subscriber, ("t", self.inbox))
        b = self.rt.spawn(Subscriber, ("t", self.inbox))
        self.rt.send(a, "leave")
        self.assertEqual(self.next_message(), ("left", a))
        self.rt.kill(b)
        self.rt.wait(b, 1000)
        self.assertEqual(self.rt.subscribers("t"), [])
        self.assertEqual(self.rt.publish("t", "nobody"), 0)
        with self.assertRaises(airs.NotFoundError):
            self.rt.unsubscribe("t", a)

    def test_publish_from_an_actor_has_it_as_sender(self):
        pub = self.rt.spawn(Subscriber, ("room", self.inbox))
        other = self.rt.spawn(Subscriber, ("room", self.inbox))
        self.rt.send(pub, "publish")
        got = {self.next_message()[0]: None for _ in range(2)}
        self.assertEqual(set(got), {pub, other})

    def test_codec_publish(self):
        codec = airs.JsonCodec()
        self.rt.add_codec(codec)
        self.rt.spawn(Subscriber, ("j", self.inbox))
        self.rt.publish("j", {"a": [1]}, codec=codec)
        self.assertEqual(self.next_message()[1:], ({"a": [1]}, None,
                                                    codec.type_tag))

    def test_bad_topics(self):
        pid = self.probe()
        with self.assertRaises(airs.InvalidArgumentError) as cm:
            self.rt.subscribe("", pid)
        self.assertIn("airs_subscribe", cm.exception.detail)
        with self.assertRaises(airs.InvalidArgumentError):
            self.rt.publish("x" * 256, b"")
        with self.assertRaises(airs.InvalidArgumentError):
            self.rt.subscribe("a\0b", pid)
        with self.assertRaises(TypeError):
            self.rt.publish(5, b"")
        with self.assertRaises(ValueError):
            self.rt.publish("t", "obj", type=3)
        with self.assertRaises(ValueError):
            self.rt.publish("t", b"", type=airs.USER_TYPE_LIMIT)
        dead = self.probe()
        self.rt.kill(dead)
        self.rt.wait(dead, 1000)
        with self.assertRaises(airs.NoProcessError):
            self.rt.subscribe("t", dead)
        self.assertEqual(self.rt._core.held, {})


if __name__ == "__main__":
    unittest.main()
