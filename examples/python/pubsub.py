#!/usr/bin/env python3
"""pubsub - a publisher, three subscribers and a request/reply, through the
broker.

Run from the repository root after building:
    PYTHONPATH=bindings/python python3 examples/python/pubsub.py

Three subscribers (alice, bob, carol) subscribe to "prices". A publisher
actor publishes five ticks: each is one Python object that every
subscriber receives (the same object, no copy: treat published objects as
immutable). Then it asks alice for the average she saw with request();
the answer comes back to it as an airs.Reply message. Messages from one
sender arrive in order, so alice has seen every tick before the question.
"""
import os
import sys
import threading
from dataclasses import dataclass

try:
    import airs
except ImportError:  # run from a checkout without PYTHONPATH
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                    "bindings", "python"))
    import airs

TICKS = 5


@dataclass(frozen=True)
class Tick:
    seq: int
    price: float


class Subscriber(airs.Actor):
    def __init__(self, name):
        self.name = name
        self.prices = []

    def on_start(self):
        self.subscribe("prices")

    def receive(self, message):
        if isinstance(message, Tick):
            self.prices.append(message.price)
        elif message == "average?":
            self.reply(sum(self.prices) / len(self.prices))

    def on_stop(self, reason):
        print(f"{self.name} got {len(self.prices)} ticks, "
              f"sum {sum(self.prices):.2f}")


class Publisher(airs.Actor):
    def __init__(self, ask, done):
        self.ask, self.done = ask, done

    def receive(self, message):
        if message == "start":
            for seq in range(TICKS):
                tick = Tick(seq, 100.0 + 0.25 * seq)
                reached = self.publish("prices", tick)
                print(f"tick {seq} ({tick.price:.2f}) published to "
                      f"{reached} subscribers")
            self.request(self.ask, "average?", timeout_ms=1000)
        elif isinstance(message, airs.Reply):
            print(f"alice says the average price is {message.value:.3f}")
            self.done.set()
        elif isinstance(message, airs.RequestTimeout):
            print("no answer in time")
            self.done.set()


def main():
    done = threading.Event()
    with airs.Runtime(2) as rt:
        subscribers = [rt.spawn(Subscriber, (name,))
                       for name in ("alice", "bob", "carol")]
        print(f"'prices' has {len(rt.subscribers('prices'))} subscribers")
        publisher = rt.spawn(Publisher, (subscribers[0], done))
        rt.send(publisher, "start")
        assert done.wait(5), "the publisher did not finish"
        for pid in subscribers:  # one by one, so that they print in order
            rt.stop(pid)
            rt.wait(pid)
        print(f"'prices' has {len(rt.subscribers('prices'))} subscribers")


if __name__ == "__main__":
    main()
