#!/usr/bin/env python3
"""The Python workloads of bench/compare (README.md, Performance) on the airs
Python bindings: actors written in Python, 2 worker threads, every counted
message a real message through the runtime's mailboxes and scheduler.
Prints one JSON line per run (impl "airs-python").

    bench_airs.py spawn N | pingpong M | fanin P K | ring N M | pubsub S M
    bench_airs.py asks N C

asks (airs-only, issue 16's asyncio target): N asks from one asyncio event
loop (airs.aio) to a Python actor that replies, C of them in flight at a
time; ops = N.

Defaults (as bench/peers/pykka_bench.py): spawn 1000, pingpong 20000,
fanin 4 25000, ring 100 20000, pubsub 10 10000.

Interpreter: the pykka peer runs on Debian's /usr/bin/python3 (built with
PGO and LTO), and so does this script under `bench/compare`. Started with
another interpreter, for a like-for-like comparison the script re-executes
itself with /usr/bin/python3 when that exists and is not already running
it; AIRS_BENCH_ANY_PYTHON=1 keeps the current interpreter. The JSON line
records the interpreter used ("python").

The library is found as the package finds it (AIRS_LIBRARY, else the
build tree, else an installed copy); this script adds bindings/python to
sys.path itself.
"""
import json
import os
import sys
import threading
import time

SYSTEM_PYTHON = "/usr/bin/python3"


def _reexec_with_system_python():
    if os.environ.get("AIRS_BENCH_ANY_PYTHON") == "1":
        return
    if not os.path.exists(SYSTEM_PYTHON):
        return
    if os.path.realpath(sys.executable) == os.path.realpath(SYSTEM_PYTHON):
        return
    os.environ["AIRS_BENCH_ANY_PYTHON"] = "1"  # once
    os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON, os.path.abspath(__file__)]
             + sys.argv[1:])


if __name__ == "__main__":
    _reexec_with_system_python()

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
import airs  # noqa: E402

WORKERS = 2
DEFAULTS = {"spawn": [1000], "pingpong": [20000], "fanin": [4, 25000],
            "ring": [100, 20000], "pubsub": [10, 10000], "asks": [100000, 256]}


def report(workload, params, ops, secs, **extra):
    line = {"impl": "airs-python", "workload": workload, "params": params,
            "ops": ops, "seconds": round(secs, 6),
            "ops_per_s": round(ops / secs, 1),
            "ns_per_op": round(secs * 1e9 / ops, 2),
            "python": sys.version.split()[0],
            "executable": sys.executable}
    line.update(extra)
    print(json.dumps(line), flush=True)


def rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# ---------------------------------------------------------------- spawn


class Idle(airs.Actor):
    """Does nothing until its one message, then ends."""

    def receive(self, message):
        self.stop()


def spawn(n):
    with airs.Runtime(WORKERS) as rt:
        before = rss_kb()
        t0 = time.perf_counter()
        pids = [rt.spawn(Idle) for _ in range(n)]
        spawn_s = time.perf_counter() - t0
        after = rss_kb()
        for pid in pids:
            rt.send(pid, None)
        for pid in pids:
            rt.wait(pid, 60000)
        secs = time.perf_counter() - t0
    report("spawn", {"n": n}, n, secs,
           spawn_ns=round(spawn_s * 1e9 / n, 1),
           bytes_per_actor=round((after - before) * 1024 / n, 1))


# ------------------------------------------------------------- pingpong


class Player(airs.Actor):
    """Sends the counter back to its peer, one more each round trip; the
    ping side stops at m."""

    def __init__(self, m, done):
        self.m, self.done, self.peer = m, done, None

    def receive(self, n):
        if self.peer is None:  # the first message names the peer
            self.peer = n
            return
        if n >= self.m:
            self.done.set()
            return
        self.send(self.peer, n + 1)


def pingpong(m):
    done = threading.Event()
    with airs.Runtime(WORKERS) as rt:
        t0 = time.perf_counter()
        ping = rt.spawn(Player, (2 * m, done))
        pong = rt.spawn(Player, (2 * m, done))
        rt.send(ping, pong)
        rt.send(pong, ping)
        rt.send(ping, 1)  # message 1 of 2m
        done.wait()
        secs = time.perf_counter() - t0
    report("pingpong", {"m": m}, 2 * m, secs)


# ---------------------------------------------------------------- fanin


class Sink(airs.Actor):
    """Counts messages until it has `expected`."""

    def __init__(self, expected, done):
        self.expected, self.done, self.count = expected, done, 0

    def receive(self, message):
        self.count += 1
        if self.count == self.expected:
            self.done.set()


class Sender(airs.Actor):
    """On its one message (the sink's pid), sends k messages to it."""

    def __init__(self, k):
        self.k = k

    def receive(self, sink):
        send = self.send
        for j in range(self.k):
            send(sink, j)


def fanin(p, k):
    done = threading.Event()
    with airs.Runtime(WORKERS) as rt:
        t0 = time.perf_counter()
        sink = rt.spawn(Sink, (p * k, done))
        senders = [rt.spawn(Sender, (k,)) for _ in range(p)]
        for sender in senders:
            rt.send(sender, sink)
        done.wait()
        secs = time.perf_counter() - t0
    report("fanin", {"p": p, "k": k}, p * k, secs)


# ----------------------------------------------------------------- ring


class RingNode(airs.Actor):
    """Passes the token (hops left) to the next node; 0 ends the run."""

    def __init__(self, done):
        self.done, self.next = done, None

    def receive(self, message):
        if self.next is None:  # setup: the next node's pid
            self.next = message
        elif message == 0:
            self.done.set()
        else:
            self.send(self.next, message - 1)


def ring(n, m):
    done = threading.Event()
    with airs.Runtime(WORKERS) as rt:
        nodes = [rt.spawn(RingNode, (done,)) for _ in range(n)]
        for i, node in enumerate(nodes):
            rt.send(node, nodes[(i + 1) % n])
        t0 = time.perf_counter()
        rt.send(nodes[0], m)
        done.wait()
        secs = time.perf_counter() - t0
    report("ring", {"n": n, "m": m}, m, secs)


# --------------------------------------------------------------- pubsub


def pubsub(s, m):
    events = [threading.Event() for _ in range(s)]
    with airs.Runtime(WORKERS) as rt:
        subs = [rt.spawn(Sink, (m, e)) for e in events]
        for sub in subs:
            rt.subscribe("bench", sub)
        publish = rt.publish
        t0 = time.perf_counter()
        for j in range(m):
            publish("bench", j)
        for e in events:
            e.wait()
        secs = time.perf_counter() - t0
    report("pubsub", {"s": s, "m": m}, s * m, secs)


# --------------------------------------------------------------- asks


class Echo(airs.Actor):
    def receive(self, message):
        self.reply(message)


def asks(n, c):
    import asyncio
    from airs import aio

    async def main():
        async with aio.AsyncRuntime() as art:
            pid = art.spawn(Echo)
            ask = art.ask

            async def client(count):
                for i in range(count):
                    await ask(pid, i)

            t0 = time.perf_counter()
            await asyncio.gather(*(client(n // c) for _ in range(c)))
            return time.perf_counter() - t0

    secs = asyncio.run(main())
    report("asks", {"n": n, "c": c}, (n // c) * c, secs)


WORKLOADS = {"spawn": spawn, "pingpong": pingpong, "fanin": fanin,
             "ring": ring, "pubsub": pubsub, "asks": asks}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in WORKLOADS:
        sys.exit(__doc__)
    name = sys.argv[1]
    args = [int(a) for a in sys.argv[2:]] or DEFAULTS[name]
    WORKLOADS[name](*args)
