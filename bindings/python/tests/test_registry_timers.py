"""The registry, pools and timers."""
import gc
import queue
import unittest
import weakref

from support import RuntimeTest, TIMEOUT, wait_until

import airs


class Token:
    pass


class RegistryTest(RuntimeTest):

    def test_register_whereis_unregister(self):
        pid = self.probe()
        self.assertIsNone(self.rt.whereis("svc"))
        self.rt.register("svc", pid)
        self.assertEqual(self.rt.whereis("svc"), pid)
        self.rt.send("svc", "by name")
        self.assertEqual(self.next_message()[0], "by name")
        with self.assertRaises(airs.AlreadyExistsError):
            self.rt.register("svc", self.probe())
        with self.assertRaises(airs.AlreadyExistsError):
            self.rt.register("second-name", pid)
        self.rt.unregister("svc")
        self.assertIsNone(self.rt.whereis("svc"))
        with self.assertRaises(airs.NotFoundError) as cm:
            self.rt.unregister("svc")
        self.assertIn("svc", cm.exception.detail + "svc")
        self.rt.register("ünïcode", pid)
        self.assertEqual(self.rt.whereis("ünïcode"), pid)

    def test_bad_names(self):
        pid = self.probe()
        with self.assertRaises(airs.InvalidArgumentError):
            self.rt.register("", pid)
        with self.assertRaises(airs.InvalidArgumentError):
            self.rt.register("n" * 256, pid)
        with self.assertRaises(airs.InvalidArgumentError):
            self.rt.register("nul\0inside", pid)
        with self.assertRaises(TypeError):
            self.rt.register(None, pid)
        with self.assertRaises(airs.NoProcessError):
            self.rt.register("ghost", airs.Pid(123456))

    def test_name_released_when_process_ends(self):
        pid = self.probe()
        self.rt.register("temp", pid)
        self.rt.kill(pid)
        self.rt.wait(pid, 1000)
        self.assertIsNone(self.rt.whereis("temp"))


class PoolTest(RuntimeTest):

    def test_join_pick_members_leave(self):
        pids = [self.probe() for _ in range(3)]
        for pid in pids:
            self.rt.pool_join("workers", pid)
        self.rt.pool_join("workers", pids[0])  # twice is once
        self.assertEqual(self.rt.pool_members("workers"), pids)
        picks = [self.rt.pool_pick("workers") for _ in range(6)]
        self.assertEqual(sorted(picks), sorted(pids * 2))  # round robin
        self.assertIn(self.rt.pool_pick("workers", airs.Pick.RANDOM), pids)
        self.rt.pool_leave("workers", pids[1])
        with self.assertRaises(airs.NotFoundError):
            self.rt.pool_leave("workers", pids[1])
        self.rt.kill(pids[2])
        self.rt.wait(pids[2], 1000)
        self.assertEqual(self.rt.pool_members("workers"), [pids[0]])
        self.assertEqual(self.rt.pool_members("nothing"), [])
        with self.assertRaises(airs.NotFoundError):
            self.rt.pool_pick("nothing")
        with self.assertRaises(airs.InvalidArgumentError):
            self.rt.pool_pick("workers", 5)

    def test_many_members(self):
        pids = [self.probe() for _ in range(40)]  # more than one read
        for pid in pids:
            self.rt.pool_join("big", pid)
        self.assertEqual(self.rt.pool_members("big"), pids)


class TimerTest(RuntimeTest):

    def test_send_after_delivers(self):
        pid = self.probe()
        timer = self.rt.send_after(5, pid, {"tick": 1})
        self.assertGreater(timer, 0)
        self.assertEqual(self.next_message()[0], {"tick": 1})
        self.rt.send_after(0, pid, b"now", type=4)
        self.assertEqual(self.next_message(), (b"now", None, 4))
        # Freed (and released) once the receive callback has returned.
        self.assertTrue(wait_until(lambda: self.rt._core.held == {}))

    def test_cancel_releases_the_object(self):
        pid = self.probe()
        token = Token()
        ref = weakref.ref(token)
        timer = self.rt.send_after(60000, pid, token)
        del token
        self.assertIsNotNone(ref())
        self.assertTrue(self.rt.cancel_timer(timer))
        self.assertFalse(self.rt.cancel_timer(timer))
        gc.collect()
        self.assertIsNone(ref())
        self.assertNothingMore()

    def test_timer_for_a_dead_process_is_a_dead_letter(self):
        letters = queue.Queue()
        self.rt.set_dead_letter_hook(letters.put)
        pid = self.probe()
        self.rt.send_after(30, pid, "too late")
        self.rt.kill(pid)
        letter = letters.get(timeout=TIMEOUT)
        self.assertEqual(letter.reason, airs.DeadLetterReason.TIMER)
        self.assertEqual(letter.message, "too late")
        self.assertEqual(letter.to, pid)
        # The hook borrows the message; it is freed (and the object
        # released) right after the hook returns.
        self.assertTrue(wait_until(lambda: self.rt._core.held == {}))

    def test_timer_errors(self):
        pid = self.probe()
        with self.assertRaises(airs.InvalidArgumentError) as cm:
            self.rt.send_after((1 << 40) + 1, pid, "x")
        self.assertIn("delay", cm.exception.detail)
        with self.assertRaises(airs.InvalidArgumentError):
            self.rt.send_after(-1, pid, "x")
        # One order everywhere (Erlang's): the old (to, delay) is refused.
        with self.assertRaises(TypeError) as cm:
            self.rt.send_after(pid, 5, "x")
        self.assertIn("delay comes first", str(cm.exception))
        with self.assertRaises(TypeError):
            self.rt.send_after(True, pid, "x")
        self.rt.kill(pid)
        self.rt.wait(pid, 1000)
        with self.assertRaises(airs.NoProcessError):
            self.rt.send_after(10, pid, "x")
        self.assertEqual(self.rt._core.held, {})

    def test_actor_timer_to_itself(self):
        out = queue.Queue()

        class Ticker(airs.Actor):
            def on_start(self):
                self.send_after(1, None, "tick")

            def receive(self, message):
                out.put((message, self.sender))

        pid = self.rt.spawn(Ticker)
        message, _ = out.get(timeout=TIMEOUT)
        self.assertEqual(message, "tick")
        self.assertTrue(pid)

    def test_actor_timer_to_another(self):
        target = self.probe()

        class Sender(airs.Actor):
            def on_start(self):
                self.send_after(1, target, "later")

        sender = self.rt.spawn(Sender)
        self.assertEqual(self.next_message()[:2], ("later", sender))


if __name__ == "__main__":
    unittest.main()
