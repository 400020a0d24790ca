"""Ctrl-C reaches a main thread that waits in the runtime: rt.wait and
rt.call (and the airs.osl clients, which call) end with KeyboardInterrupt
within a fraction of a second, not at their timeout. Each case runs in a
child interpreter that gets SIGINT while it waits."""
import os
import signal
import subprocess
import sys
import time
import unittest

import support  # noqa: F401

CHILD = r"""
import sys, time, airs

class Silent(airs.Actor):
    def receive(self, message):
        pass  # never replies, never ends

with airs.Runtime(2) as rt:
    pid = rt.spawn(Silent)
    print("waiting", flush=True)
    start = time.monotonic()
    try:
        if sys.argv[1] == "wait":
            rt.wait(pid, 8000)
        else:
            rt.call(pid, "hello?", 8000)
    except KeyboardInterrupt:
        print(f"interrupted {time.monotonic() - start:.3f}", flush=True)
        sys.exit(0)
    print("not interrupted", flush=True)
    sys.exit(1)
"""


class InterruptTest(unittest.TestCase):

    def interrupt(self, how):
        child = subprocess.Popen([sys.executable, "-c", CHILD, how],
                                 stdout=subprocess.PIPE, text=True,
                                 env=os.environ.copy())
        try:
            self.assertEqual(child.stdout.readline().strip(), "waiting")
            time.sleep(0.3)  # inside the wait by now
            sent = time.monotonic()
            child.send_signal(signal.SIGINT)
            line = child.stdout.readline().strip()
            child.wait(timeout=10)
            took = time.monotonic() - sent
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        self.assertTrue(line.startswith("interrupted"), line)
        self.assertEqual(child.returncode, 0)
        self.assertLess(took, 2.0)  # the runtime's close included

    def test_wait_is_interrupted(self):
        self.interrupt("wait")

    def test_call_is_interrupted(self):
        self.interrupt("call")


if __name__ == "__main__":
    unittest.main()
