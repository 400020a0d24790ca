"""airs.pykka_style: tell, ask (blocking and as a future), proxies that
call an actor's methods in order with its messages, errors carried back,
private methods refused, stop."""
import concurrent.futures
import unittest

from support import RuntimeTest

import airs
from airs.pykka_style import ActorRef


class Greeter(airs.Actor):
    def on_start(self):
        self.seen = []

    def receive(self, message):
        if message == "hi":
            self.reply("hello")
        else:
            self.seen.append(message)

    def greet(self, name, punctuation="!"):
        return f"hello, {name}{punctuation}"

    def history(self):
        return list(self.seen)

    def fail(self):
        raise ValueError("no")

    def _secret(self):
        return "hidden"


class PykkaStyleTest(RuntimeTest):

    def test_tell_and_ask(self):
        ref = ActorRef.start(self.rt, Greeter)
        ref.tell("a")
        self.assertEqual(ref.ask("hi"), "hello")
        future = ref.ask("hi", block=False)
        self.assertIsInstance(future, concurrent.futures.Future)
        self.assertEqual(future.result(timeout=5), "hello")
        with self.assertRaises(airs.TimeoutError):
            ref.ask("no reply for this", timeout=0.05)
        self.assertEqual(ref, ActorRef(self.rt, ref.pid))
        self.assertEqual(len({ref, ActorRef(self.rt, ref.pid)}), 1)

    def test_proxy_calls_run_in_order_with_messages(self):
        ref = ActorRef.start(self.rt, Greeter)
        proxy = ref.proxy()
        self.assertEqual(proxy.greet("ann").result(timeout=5),
                         "hello, ann!")
        self.assertEqual(proxy.greet("bo", punctuation="?").result(5),
                         "hello, bo?")
        for i in range(10):
            ref.tell(i)
        self.assertEqual(proxy.history().result(5), list(range(10)))

    def test_proxy_errors_come_back(self):
        proxy = ActorRef.start(self.rt, Greeter).proxy()
        with self.assertRaises(ValueError):
            proxy.fail().result(5)
        with self.assertRaises(AttributeError):
            proxy.no_such_method().result(5)
        with self.assertRaises(AttributeError):
            proxy._secret  # not even a call
        from airs.pykka_style import _ProxyCall
        ref = ActorRef.start(self.rt, Greeter)
        kind, error = self.rt.call(ref.pid, _ProxyCall("_secret", (), {}))
        self.assertEqual(kind, "error")
        self.assertIn("private", str(error))

    def test_stop(self):
        ref = ActorRef.start(self.rt, Greeter)
        self.assertTrue(ref.is_alive())
        ref.stop()
        self.assertFalse(ref.is_alive())
        with self.assertRaises(airs.NoProcessError):
            ref.ask("hi")
        with self.assertRaises(airs.NoProcessError):
            ref.proxy().greet("x").result(5)


if __name__ == "__main__":
    unittest.main()
