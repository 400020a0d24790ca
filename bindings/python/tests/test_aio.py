"""airs.aio: a host-driven runtime run by an asyncio loop. Asks and waits
resolve (replies, timeouts, callees that end, names), the loop wakes for
sends from other threads and for timers and otherwise sleeps, actors hand
async work to the loop and get the result as a message, closing fails
what is pending, and in asyncio's debug mode none of the runtime's loop
callbacks takes over 1 ms (5 ms under AddressSanitizer) under a burst of
asks and sends."""
import asyncio
import gc
import logging
import os
import threading
import time
import unittest

import support  # noqa: F401

import airs
from airs import aio


class Counter(airs.Actor):
    def on_start(self):
        self.count = 0

    def receive(self, message):
        if message == "get":
            self.reply(self.count)
        elif message == "die before replying":
            self.exit(airs.ExitKind.ERROR, 1, "asked to die")
        elif message == "ignore":
            pass
        elif isinstance(message, tuple) and message[0] == "echo":
            self.reply(message[1])
        else:
            self.count += message


class Stamper(airs.Actor):
    """Resolves `future` with the time it got its first message."""

    def __init__(self, future):
        self.future = future

    def receive(self, message):
        if not self.future.done():
            self.future.set_result((message, time.monotonic()))


class Bridge(airs.Actor):
    """Hands async work to the loop and receives its result."""

    def __init__(self, out):
        self.out = out

    def receive(self, message):
        if message == "start":
            asyncio.ensure_future(self.work(self.pid))
        else:
            self.out.set_result(message)

    async def work(self, me):
        await asyncio.sleep(0.01)
        self.runtime.send(me, ("done", "async"))


# asyncio's debug mode logs a callback that takes longer than this. A
# build under AddressSanitizer runs the library's C code several times
# slower (LD_PRELOAD holds its runtime then): the bound scales with it.
SLOW_CALLBACK_S = 0.001 * (5 if "libasan" in os.environ.get("LD_PRELOAD", "")
                           else 1)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


class AskTest(unittest.TestCase):

    def test_ask_send_and_names(self):
        async def main():
            async with aio.AsyncRuntime() as art:
                pid = art.spawn(Counter, name="counter")
                art.send(pid, 5)
                art.send(pid, 2)
                self.assertEqual(await art.ask(pid, "get"), 7)
                self.assertEqual(await art.ask("counter", "get"), 7)
                replies = await asyncio.gather(
                    *(art.ask(pid, ("echo", i)) for i in range(1000)))
                self.assertEqual(replies, list(range(1000)))
        run(main())

    def test_ask_failures(self):
        async def main():
            async with aio.AsyncRuntime() as art:
                pid = art.spawn(Counter)
                with self.assertRaises(airs.TimeoutError):
                    await art.ask(pid, "ignore", timeout_ms=50)
                start = time.monotonic()
                with self.assertRaises(airs.ProcessExitedError) as caught:
                    await art.ask(pid, "die before replying", 10000)
                self.assertLess(time.monotonic() - start, 1.0)
                self.assertIn("asked to die", str(caught.exception))
                with self.assertRaises(airs.NoProcessError):
                    await art.ask(pid, "get")
                with self.assertRaises(airs.NoProcessError):
                    await art.ask("nobody", "get")
                with self.assertRaises(airs.InvalidArgumentError):
                    await art.ask(art.spawn(Counter), "get", timeout_ms=0)
        run(main())

    def test_wait_gives_the_exit_reason(self):
        async def main():
            async with aio.AsyncRuntime() as art:
                pid = art.spawn(Counter)
                waiting = asyncio.ensure_future(art.wait(pid))
                await asyncio.sleep(0.01)
                self.assertFalse(waiting.done())
                art.stop(pid)
                reason = await waiting
                self.assertEqual(reason.kind, airs.ExitKind.SHUTDOWN)
                reason = await art.wait(pid)  # gone already
                self.assertEqual(reason.kind, airs.ExitKind.NOPROC)
        run(main())

    def test_cancelled_ask_drops_its_reply(self):
        async def main():
            async with aio.AsyncRuntime() as art:
                pid = art.spawn(Counter)
                task = asyncio.ensure_future(art.ask(pid, "ignore", 200))
                await asyncio.sleep(0.01)
                task.cancel()
                with self.assertRaises(asyncio.CancelledError):
                    await task
                self.assertEqual(await art.ask(pid, "get"), 0)
                await asyncio.sleep(0.3)  # its timeout passes quietly
        run(main())

    def test_close_fails_what_is_pending(self):
        async def main():
            art = aio.AsyncRuntime()
            pid = art.spawn(Counter)
            pending = asyncio.ensure_future(art.ask(pid, "ignore", 60000))
            await asyncio.sleep(0.01)
            await art.aclose()
            with self.assertRaises(airs.NoProcessError):
                await pending
            with self.assertRaises(airs.NoProcessError):
                await art.ask(pid, "get")
            await art.aclose()  # twice: nothing
        run(main())
        with self.assertRaises(TypeError):
            run(self.make_with_workers())
        with self.assertRaises(RuntimeError):  # no running loop
            aio.AsyncRuntime()

    async def make_with_workers(self):
        aio.AsyncRuntime(workers=2)


class LoopTest(unittest.TestCase):

    def test_a_send_from_another_thread_wakes_the_loop(self):
        async def main():
            async with aio.AsyncRuntime() as art:
                got = asyncio.get_running_loop().create_future()
                pid = art.spawn(Stamper, (got,))
                sent = []

                def feeder():
                    time.sleep(0.05)  # the loop is asleep by now
                    sent.append(time.monotonic())
                    art.runtime.send(pid, "from a thread")

                thread = threading.Thread(target=feeder)
                thread.start()
                message, at = await got
                thread.join()
                self.assertEqual(message, "from a thread")
                self.assertLess(at - sent[0], 0.1)
        run(main())

    def test_timers_fire_and_the_loop_sleeps_between(self):
        async def main():
            async with aio.AsyncRuntime() as art:
                got = asyncio.get_running_loop().create_future()
                pid = art.spawn(Stamper, (got,))
                start = time.monotonic()
                art.runtime.send_after(100, pid, "tick")
                _, at = await got
                self.assertGreaterEqual(at - start, 0.095)
                self.assertLess(at - start, 1.0)
                # Idle: the runtime's callback does not run in a loop.
                runs = []
                original = art._run
                art._run = lambda: (runs.append(1), original())
                art._loop.remove_reader(art._fd)
                art._loop.add_reader(art._fd, art._run)
                await asyncio.sleep(0.2)
                self.assertLessEqual(len(runs), 2)
        run(main())

    def test_actors_hand_async_work_to_the_loop(self):
        async def main():
            async with aio.AsyncRuntime() as art:
                out = asyncio.get_running_loop().create_future()
                pid = art.spawn(Bridge, (out,))
                art.send(pid, "start")
                self.assertEqual(await out, ("done", "async"))
        run(main())

    def test_no_slow_callbacks_in_debug_mode(self):
        # asyncio's debug mode times every callback by the wall clock and
        # logs those over slow_callback_duration; on a shared machine a
        # callback preempted by another process is logged too. So each of
        # the runtime's callbacks (_run, and _settle, which resolves the
        # futures) is timed here by the CPU time of its thread: what the
        # runtime's own slicing decides, in debug mode's costs. The
        # loop's wall-clock log is kept for the failure message. Up to
        # three rounds: one round within the bound passes. A virtual
        # machine's vCPU descheduled by its host still charges that time
        # to the running thread (2.35 ms once in a full-suite run, never
        # alone), which one round can meet; slicing that is broken (20 ms
        # slices) fails every round.
        rounds = []
        for _ in range(3):
            slowest, logged, count = self._debug_round()
            rounds.append(slowest)
            self.assertGreater(count, 100)
            if slowest < SLOW_CALLBACK_S:
                return
        self.fail(f"the slowest runtime callback of each round: "
                  f"{', '.join(f'{r * 1e3:.2f} ms' for r in rounds)} of CPU "
                  f"(bound {SLOW_CALLBACK_S * 1e3:.0f} ms); the loop logged "
                  f"{logged}")

    def _debug_round(self):
        """One burst in debug mode: (slowest callback's CPU seconds, what
        the loop logged, how many callbacks ran)."""
        logged = []

        class Catch(logging.Handler):
            def emit(self, record):
                text = record.getMessage()
                if "took" in text and ("AsyncRuntime._" in text or
                                       "timed.<locals>.run" in text):
                    logged.append(text)

        handler = Catch()
        logger = logging.getLogger("asyncio")
        logger.addHandler(handler)
        old_level = logger.level
        logger.setLevel(logging.WARNING)
        cpu = []

        def timed(fn):
            def run():
                start = time.thread_time()
                fn()
                cpu.append(time.thread_time() - start)
            return run

        async def main():
            loop = asyncio.get_running_loop()
            loop.slow_callback_duration = SLOW_CALLBACK_S
            async with aio.AsyncRuntime() as art:
                art._run = timed(art._run)
                art._settle = timed(art._settle)
                loop.remove_reader(art._fd)
                loop.add_reader(art._fd, art._run)
                pids = [art.spawn(Counter) for _ in range(50)]
                for _ in range(3):
                    for pid in pids:  # a burst: 50 x 100 sends
                        for _ in range(100):
                            art.send(pid, 1)
                    replies = await asyncio.gather(
                        *(art.ask(pids[i % 50], ("echo", i))
                          for i in range(2000)))
                    self.assertEqual(replies, list(range(2000)))
                self.assertEqual(await art.ask(pids[0], "get"), 300)

        # No collections during the burst: a collection of thousands of
        # futures can fall into any callback of any asyncio program; what
        # is checked is the runtime's own slicing.
        gc.collect()
        gc.disable()
        try:
            asyncio.run(main(), debug=True)
        finally:
            gc.enable()
            logger.removeHandler(handler)
            logger.setLevel(old_level)
        return max(cpu, default=0.0), logged, len(cpu)


if __name__ == "__main__":
    unittest.main()
