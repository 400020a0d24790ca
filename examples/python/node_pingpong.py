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
This process is node "ping"; it starts a copy of itself as node "pong"
(another OS process). On two machines the code is the same.
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


def pong(url):
    """Node pong: the greeter, registered as "greeter"; leaves the cluster
    when its stdin closes."""
    with airs.Runtime(codec=airs.PickleCodec()) as rt:
        node = Node(rt, url, "pong", cluster="example")
        greeter = rt.spawn(Greeter)
        node.register("greeter", greeter)
        print(f"pong: greeter {greeter} registered", flush=True)
        print("ready", flush=True)
        sys.stdin.read()
        node.detach()
        print("pong: left the cluster", flush=True)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--pong":
        pong(sys.argv[2])
        return
    server = None
    if len(sys.argv) > 1:
        url = sys.argv[1]
    else:
        server, url = start_server()
    try:
        with airs.Runtime(codec=airs.PickleCodec()) as ping_rt:
            ping = Node(ping_rt, url, "ping", cluster="example")
            child = subprocess.Popen(
                [sys.executable, __file__, "--pong", url],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            print(child.stdout.readline(), end="")  # its greeter
            assert child.stdout.readline().strip() == "ready"

            found = ping.whereis("greeter")
            print(f"ping: whereis greeter -> {found}")
            print(f"ping: call answered {ping_rt.call(found, ('hello', 'ping'))!r}")
            thanks = queue.Queue()
            writer = ping_rt.spawn(Writer, (thanks,))
            ping_rt.send(writer, ("go", found))
            for _ in range(3):
                print(f"ping: thanks for {thanks.get(timeout=5)!r}")

            child.stdin.close()  # pong leaves
            print(child.stdout.read(), end="")  # its notes, its leaving
            child.wait(timeout=10)
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
