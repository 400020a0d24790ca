#!/usr/bin/python3
"""pykka_bench - the Python workloads of bindings/python/benchmarks/
bench_airs.py (spawn, pingpong, fanin, ring, pubsub) on pykka (Debian
python3-pykka), for bench/compare. One JSON line per run, the same keys as
bench_airs.py's, "impl":"pykka".

    /usr/bin/python3 bench/peers/pykka_bench.py WORKLOAD [ARGS...]

    spawn [N] | pingpong [M] | fanin [P K] | ring [N M] | pubsub [S M]

Defaults as bench_airs.py's: spawn 1000, pingpong 20000, fanin 4 25000,
ring 100 20000, pubsub 10 10000.

A pykka ThreadingActor is a thread with a queue, so there is no scheduler
to give 2 threads: every actor has its own. Every counted message is a
tell() to an actor. pykka has no topics: pubsub publishes from the main
thread (as bench_airs.py does) with ActorRegistry.broadcast, which tells
every running actor of the subscriber class. Bad arguments: the usage on
stderr and exit status 2.
"""
import json
import sys
import threading
import time

import pykka

DEFAULTS = {"spawn": [1000], "pingpong": [20000], "fanin": [4, 25000],
            "ring": [100, 20000], "pubsub": [10, 10000]}


def report(workload, params, ops, secs, **extra):
    line = {"impl": "pykka", "workload": workload, "params": params,
            "ops": ops, "seconds": round(secs, 6),
            "ops_per_s": round(ops / secs, 1),
            "ns_per_op": round(secs * 1e9 / ops, 2),
            "pykka": pykka.__version__, "python": sys.version.split()[0]}
    line.update(extra)
    print(json.dumps(line), flush=True)


def resident_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


class Stopper(pykka.ThreadingActor):
    """Idle until its one message; then it stops."""

    def on_receive(self, message):
        self.stop()


def spawn(n):
    before = resident_bytes()
    t0 = time.perf_counter()
    refs = [Stopper.start() for _ in range(n)]
    spawned = time.perf_counter() - t0
    after = resident_bytes()
    for ref in refs:
        ref.tell("stop")
    for ref in refs:
        ref.actor_stopped.wait()
    secs = time.perf_counter() - t0
    report("spawn", {"n": n}, n, secs, spawn_ns=round(spawned * 1e9 / n, 1),
           bytes_per_actor=round((after - before) / n, 1))


class Bouncer(pykka.ThreadingActor):
    """Learns its partner from its first message, then sends every number
    back one higher; sets `done` at the last."""

    def __init__(self, last, done):
        super().__init__()
        self.last, self.done, self.partner = last, done, None

    def on_receive(self, message):
        if self.partner is None:
            self.partner = message
        elif message >= self.last:
            self.done.set()
        else:
            self.partner.tell(message + 1)


def pingpong(m):
    done = threading.Event()
    t0 = time.perf_counter()
    a = Bouncer.start(2 * m, done)
    b = Bouncer.start(2 * m, done)
    a.tell(b)
    b.tell(a)
    a.tell(1)  # the first of the 2m messages
    done.wait()
    secs = time.perf_counter() - t0
    report("pingpong", {"m": m}, 2 * m, secs)


class Counter(pykka.ThreadingActor):
    """Counts what it receives; sets `done` at `expected`."""

    def __init__(self, expected, done):
        super().__init__()
        self.expected, self.done, self.seen = expected, done, 0

    def on_receive(self, message):
        self.seen += 1
        if self.seen == self.expected:
            self.done.set()


class Burst(pykka.ThreadingActor):
    """Told a target, sends it k numbers."""

    def __init__(self, k):
        super().__init__()
        self.k = k

    def on_receive(self, target):
        tell = target.tell
        for j in range(self.k):
            tell(j)


def fanin(p, k):
    done = threading.Event()
    t0 = time.perf_counter()
    sink = Counter.start(p * k, done)
    senders = [Burst.start(k) for _ in range(p)]
    for sender in senders:
        sender.tell(sink)
    done.wait()
    secs = time.perf_counter() - t0
    report("fanin", {"p": p, "k": k}, p * k, secs)


class Hop(pykka.ThreadingActor):
    """A ring node: first told its successor, then passes the token (hops
    left) on; at 0 it sets `done`."""

    def __init__(self, done):
        super().__init__()
        self.done, self.successor = done, None

    def on_receive(self, message):
        if self.successor is None:
            self.successor = message
        elif message == 0:
            self.done.set()
        else:
            self.successor.tell(message - 1)


def ring(n, m):
    done = threading.Event()
    nodes = [Hop.start(done) for _ in range(n)]
    for i, node in enumerate(nodes):
        node.tell(nodes[(i + 1) % n])
    t0 = time.perf_counter()
    nodes[0].tell(m)
    done.wait()
    secs = time.perf_counter() - t0
    report("ring", {"n": n, "m": m}, m, secs)


class Subscriber(Counter):
    """A Counter that ActorRegistry.broadcast finds by its class."""


def pubsub(s, m):
    events = [threading.Event() for _ in range(s)]
    for e in events:
        Subscriber.start(m, e)
    broadcast = pykka.ActorRegistry.broadcast
    t0 = time.perf_counter()
    for j in range(m):
        broadcast(j, target_class=Subscriber)
    for e in events:
        e.wait()
    secs = time.perf_counter() - t0
    report("pubsub", {"s": s, "m": m}, s * m, secs)


WORKLOADS = {"spawn": spawn, "pingpong": pingpong, "fanin": fanin,
             "ring": ring, "pubsub": pubsub}


def usage(why):
    print(f"pykka_bench: {why}\nusage: pykka_bench.py spawn [N] | "
          "pingpong [M] | fanin [P K] | ring [N M] | pubsub [S M]",
          file=sys.stderr)
    sys.exit(2)


def main(argv):
    if not argv or argv[0] not in WORKLOADS:
        usage("which workload?" if not argv else f"unknown workload {argv[0]}")
    name, rest = argv[0], argv[1:]
    if rest and len(rest) != len(DEFAULTS[name]):
        usage(f"{name} takes {len(DEFAULTS[name])} counts")
    try:
        counts = [int(a) for a in rest] or DEFAULTS[name]
    except ValueError:
        usage("counts are positive integers")
    if any(c < 1 for c in counts):
        usage("counts are positive integers")
    try:
        WORKLOADS[name](*counts)
    finally:
        pykka.ActorRegistry.stop_all()


if __name__ == "__main__":
    main(sys.argv[1:])
