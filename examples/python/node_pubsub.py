#!/usr/bin/env python3
"""node_pubsub - a topic across two processes, each a node over NATS.

Run from the repository root after building (libairs_node is built when
libnats-dev is installed; nats-server must be installed):
    PYTHONPATH=bindings/python python3 examples/python/node_pubsub.py [URL]

Without a URL it starts its own nats-server on a free loopback port.

What it shows: this process is node "desk", whose ticker publishes five
prices to the topic "prices" with the same publish() as for local
subscribers. It starts a copy of itself as node "screen" (another OS
process), whose viewer subscribes to "prices", prints each price with the
pid of its publisher on the other node, and after the fifth publishes
"seen" to "acks", which an actor of desk subscribes to. Values cross the
nodes through a codec (PickleCodec).
"""
import os
import queue
import socket
import subprocess
import sys
import time

try:
    import airs
except ImportError:  # run from a checkout without PYTHONPATH
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                    "bindings", "python"))
    import airs
from airs.node import Node

PRICES = [("ACME", 101.25), ("ACME", 101.50), ("ACME", 100.75),
          ("ACME", 102.00), ("ACME", 102.25)]


class Viewer(airs.Actor):
    """On node screen: prints prices; acknowledges the fifth."""

    def __init__(self, done):
        self.done = done
        self.seen = 0

    def receive(self, message):
        symbol, price = message
        print(f"screen: {symbol} {price:.2f} (published by {self.sender})",
              flush=True)
        self.seen += 1
        if self.seen == len(PRICES):
            self.publish("acks", ("seen", self.seen))
            self.done.put(True)


class Ticker(airs.Actor):
    """On node desk: publishes the prices when told to."""

    def receive(self, message):
        for price in PRICES:
            self.publish("prices", price)


class Acks(airs.Actor):
    """On node desk: hands the acknowledgement to the main thread."""

    def __init__(self, out):
        self.out = out

    def receive(self, message):
        self.out.put((message, self.sender))


def screen(url):
    done = queue.Queue()
    with airs.Runtime(codec=airs.PickleCodec()) as rt:
        node = Node(rt, url, "screen", cluster="example")
        viewer = rt.spawn(Viewer, (done,))
        rt.subscribe("prices", viewer)
        time.sleep(0.2)  # the subscription reaches the server
        print("ready", flush=True)
        done.get(timeout=10)
        node.detach()


def start_server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(["nats-server", "-a", "127.0.0.1", "-p",
                               str(port)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    for _ in range(500):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return server, f"nats://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.01)
    server.kill()
    raise SystemExit("nats-server did not start")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--screen":
        screen(sys.argv[2])
        return
    server = None
    if len(sys.argv) > 1:
        url = sys.argv[1]
    else:
        server, url = start_server()
    try:
        with airs.Runtime(codec=airs.PickleCodec()) as rt:
            desk = Node(rt, url, "desk", cluster="example")
            acks = queue.Queue()
            rt.subscribe("acks", rt.spawn(Acks, (acks,)))
            child = subprocess.Popen(
                [sys.executable, __file__, "--screen", url],
                stdout=subprocess.PIPE, text=True)
            assert child.stdout.readline().strip() == "ready"
            time.sleep(0.2)  # our subscription to "acks" reaches the server
            rt.send(rt.spawn(Ticker), "go")
            for _ in PRICES:
                print(child.stdout.readline(), end="", flush=True)
            message, sender = acks.get(timeout=10)
            print(f"desk: ack {message!r} from {sender}")
            child.wait(timeout=10)
            desk.detach()
    finally:
        if server:
            server.terminate()
            server.wait()
    print("done")


if __name__ == "__main__":
    main()
