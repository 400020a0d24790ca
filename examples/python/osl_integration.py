#!/usr/bin/env python3
"""osl_integration - the system actors (airs.osl) under their rest_for_one
supervisor, driven by requests from a Python actor: files, an OS process
and a TCP connection, then a crash of the file actor.

Run from the repository root after building:
    PYTHONPATH=bindings/python python3 examples/python/osl_integration.py

1. the file actor writes a file, then lists its directory;
2. the process actor runs `wc -c`, which gets "hello, osl\\n" on its stdin,
   then EOF, and prints the count on its stdout;
3. the network actor opens a TCP listener on loopback and connects to it;
4. the file actor is killed: rest_for_one restarts it and the actors
   started after it (process, network), in order, under their names.

The actor `Owner` makes every request itself (airs.Actor.request) and
owns the child and the sockets; each step and each supervisor event is
printed. Exits 1 if a step fails.
"""
import os
import queue
import shutil
import sys
import tempfile
import time

try:
    import airs
except ImportError:  # run from a checkout without PYTHONPATH
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                    "bindings", "python"))
    import airs

from airs import osl
from airs.osl import fs, net, proc

WAIT_S = 5.0


class Owner(airs.Actor):
    """Runs the steps as a chain of requests: each reply (a typed
    airs.osl reply inside airs.Reply) starts the next one. What it learns
    goes to `report` for main."""

    def __init__(self, directory, report):
        self.dir = directory
        self.report = report
        self.file = os.path.join(directory, "hello.txt")
        self.next = {}  # request ref -> what to do with its reply

    def ask(self, to, request, then):
        self.next[self.request(to, request)] = then

    def on_start(self):
        self.ask(osl.FS_NAME, fs.Write(self.file, b"hello, osl\n"),
                 self.written)

    # -- 1. files -----------------------------------------------------------

    def written(self, reply):
        print(f"fs: wrote {reply.value} bytes to {self.file}")
        self.ask(osl.FS_NAME, fs.List(self.dir), self.listed)

    def listed(self, reply):
        print(f"fs: {self.dir} holds {reply.names}")
        self.ask(osl.PROC_NAME, proc.Spawn(["wc", "-c"], stdin=True),
                 self.spawned)

    # -- 2. a process, fed to EOF -----------------------------------------

    def spawned(self, reply):
        print(f"proc: started wc -c, os pid {reply.os_pid}, port "
              f"{reply.port}")
        self.ask(reply.port, proc.Write(b"hello, osl\n"), lambda r: None)
        self.ask(reply.port, proc.CloseStdin(), lambda r: print(
            "proc: wrote 11 bytes to its stdin, then closed it (EOF)"))

    def process_output(self, output):
        print(f"proc: wc -c printed {output.data.strip().decode()}")
        self.report.put(("output", output.data.strip()))

    def process_exit(self, exit):
        print(f"proc: wc exited with status {exit.code}")
        self.report.put(("exit", exit.code))
        self.ask(osl.NET_NAME, net.Listen(("127.0.0.1", 0)), self.listening)

    # -- 3. TCP over loopback -----------------------------------------------

    def listening(self, reply):
        print(f"net: listening on {reply.local[0]}:{reply.local[1]}")
        net.Socket(self.runtime, reply.socket).set_active(1)
        self.ask(osl.NET_NAME, net.Connect(reply.local, timeout_ms=2000),
                 lambda r: None)

    def receive(self, message):
        if isinstance(message, airs.Reply):
            reply = message.value.check()  # a failure raises: we crash
            self.next.pop(message.ref)(reply)
        elif isinstance(message, airs.RequestTimeout):
            raise RuntimeError(f"request {message.ref} timed out")
        elif isinstance(message, proc.ProcessOutput):
            self.process_output(message)
        elif isinstance(message, proc.ProcessExit):
            self.process_exit(message)
        elif isinstance(message, net.SocketConnected):
            print(f"net: connected (socket {message.socket})")
            self.report.put(("socket", "connected"))
        elif isinstance(message, net.SocketAccepted):
            print(f"net: accepted a connection from "
                  f"{message.peer[0]}:{message.peer[1]}")
            self.report.put(("socket", "accepted"))
        elif isinstance(message, net.SocketError):
            print(f"net: {message.op} failed: {message.text}")
            self.report.put(("socket", "error"))


def on_event(event):
    if event.kind in (airs.EventKind.CHILD_EXITED,
                      airs.EventKind.CHILD_RESTARTED,
                      airs.EventKind.STRATEGY_APPLIED):
        why = f": {event.reason}" if event.reason is not None else ""
        print(f"supervisor {event.source}: "
              f"{event.kind.name.lower().replace('_', ' ')} {event.id!r}{why}")


def main():
    directory = tempfile.mkdtemp(prefix="airs-osl-")
    report = queue.Queue()
    failed = False
    with airs.Runtime() as rt:
        rt.set_event_hook(on_event)
        sup = osl.start(rt, name="osl")
        names = (osl.FS_NAME, osl.PROC_NAME, osl.NET_NAME)
        before = [rt.whereis(n) for n in names]
        print("started", ", ".join(f"{n} {p}" for n, p in zip(names, before)),
              f"under {sup.pid} (rest_for_one)")
        rt.spawn(Owner, (directory, report))

        heard, sockets = {}, set()
        try:
            while not ({"output", "exit"} <= set(heard)
                       and {"connected", "accepted"} <= sockets):
                kind, value = report.get(timeout=WAIT_S)
                if kind == "socket":
                    sockets.add(value)
                else:
                    heard[kind] = value
        except queue.Empty:
            print(f"timed out; heard {heard} {sockets}")
            failed = True
        if heard.get("output") != b"11" or heard.get("exit") != 0:
            failed = True

        # 4. crash the file actor: it and the actors after it restart.
        print(f"killing {osl.FS_NAME} {before[0]}")
        rt.kill(before[0])
        deadline = time.monotonic() + WAIT_S
        while True:
            after = [rt.whereis(n) for n in names]
            if all(p is not None and p != b for p, b in zip(after, before)):
                break
            if time.monotonic() > deadline:
                print("the system actors did not all restart")
                failed = True
                break
            time.sleep(0.01)
        print("restarted", ", ".join(f"{n} {p}" for n, p in zip(names,
                                                                 after)))
        text = osl.FileSystem(rt).read(os.path.join(directory, "hello.txt"))
        print(f"fs: after the restart, hello.txt reads {text!r}")
        rt.set_event_hook(None)
    shutil.rmtree(directory, ignore_errors=True)
    print("FAILED" if failed else "done")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
