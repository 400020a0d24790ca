#!/usr/bin/env python3
"""node_pingpong - two nodes of a cluster over NATS, from Python.

Run from the repository root after building (libairs_node is built when
libnats-dev is installed; nats-server must be installed):
    PYTHONPATH=bindings/python python3 examples/python/node_pingpong.py [URL]

Without a URL it starts its own nats-server on a free loopback port.

What it shows: airs.node.Node attaches a runtime as a named node; a global
name (register/whereis) finds a process of another node; a call and plain
sends reach it with the same calls as a local pid, and its answers come
back to the remote sender. Objects cross nodes through a codec (here
PickleCodec); by reference they would mean nothing outside their process.
The two nodes are two runtimes of this process; on two machines the code
is the same.
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


class Greeter(airs.Actor):
    """On node pong: answers ("hello", who); thanks each ("note", text)."""

    def receive(self, message):
        if message[0] == "hello":
            self.reply(f"hi {message[1]}, from pong")
        elif message[0] == "note":
            print(f"pong: note {message[1]!r} from {self.sender}")
            self.send(self.sender, ("thanks", message[1]))


class Writer(airs.Actor):
    """On node ping: writes three notes to the greeter, reports thanks."""

    def __init__(self, out):
        self.out = out

    def receive(self, message):
        if message[0] == "go":
            for text in ("one", "two", "three"):
                self.send(message[1], ("note", text))
        elif message[0] == "thanks":
            self.out.put(message[1])


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
    server = None
    if len(sys.argv) > 1:
        url = sys.argv[1]
    else:
        server, url = start_server()
    codec = airs.PickleCodec()
    try:
        with airs.Runtime(codec=codec) as ping_rt, \
                airs.Runtime(codec=codec) as pong_rt:
            ping = Node(ping_rt, url, "ping", cluster="example")
            pong = Node(pong_rt, url, "pong", cluster="example")
            greeter = pong_rt.spawn(Greeter)
            pong.register("greeter", greeter)
            print(f"pong: greeter {greeter} registered")

            found = ping.whereis("greeter")
            print(f"ping: whereis greeter -> {found}")
            print(f"ping: call answered {ping_rt.call(found, ('hello', 'ping'))!r}")
            thanks = queue.Queue()
            writer = ping_rt.spawn(Writer, (thanks,))
            ping_rt.send(writer, ("go", found))
            for _ in range(3):
                print(f"ping: thanks for {thanks.get(timeout=5)!r}")

            pong.detach()
            print("pong: left the cluster")
            while ping.peers():  # until ping has heard it
                time.sleep(0.01)
            print(f"ping: whereis greeter -> {ping.whereis('greeter')}")
            try:
                ping_rt.call(found, ("hello", "again"))
            except airs.NoProcessError as e:
                print(f"ping: call failed at once: {e}")
            ping.detach()
    finally:
        if server:
            server.terminate()
            server.wait()
    print("done")


if __name__ == "__main__":
    main()
