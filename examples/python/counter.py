#!/usr/bin/env python3
"""counter - the first Python actor: a counter that is told to add and
asked for its total.

Run from the repository root after building:
    PYTHONPATH=bindings/python python3 examples/python/counter.py

What it shows: subclassing airs.Actor, spawning it, send (fire and forget:
any Python object goes by reference between Python actors and threads of a
runtime), call (a request that waits for the actor's reply), and how the
actor ends (on_stop gets the reason).
"""
import os
import sys

try:
    import airs
except ImportError:  # run from a checkout without PYTHONPATH
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                    "bindings", "python"))
    import airs


class Counter(airs.Actor):
    """Adds the numbers it is sent; answers "total" with the sum."""

    def __init__(self, start):
        self.total = start

    def on_start(self):
        print(f"counter {self.pid} starts at {self.total}")

    def receive(self, message):
        if message == "total":
            self.reply(self.total)       # answers runtime.call(...)
        elif isinstance(message, int):
            self.total += message
        else:
            raise ValueError(f"cannot count {message!r}")

    def on_stop(self, reason):
        print(f"counter {self.pid} stops ({reason}) at {self.total}")


def main():
    with airs.Runtime(2) as rt:      # 2 worker threads; closed at the end
        counter = rt.spawn(Counter, args=(100,))
        for n in range(1, 11):
            rt.send(counter, n)           # messages from one sender stay
        total = rt.call(counter, "total")  # in order: all ten are counted
        print(f"total after adding 1..10: {total}")
        assert total == 155

        # A bad message makes the actor raise: it ends with an error exit
        # whose text is the traceback (a supervisor would restart it).
        rt.send(counter, "eleven")
        rt.wait(counter, 5000)
        print(f"counter alive after the bad message: {rt.is_alive(counter)}")
    print("runtime closed")


if __name__ == "__main__":
    import logging
    logging.basicConfig(level=logging.ERROR)  # hide the crash report
    main()
