"""Mistakes the type hints must catch: test_typing runs ``mypy --strict``
on this file and expects an error on every line marked ``# E: <code>``
(with that error code) and on no other line. Never run."""
from __future__ import annotations

from typing import Any

import airs
import airs.osl


class Worker(airs.Actor):
    def receive(self, message: Any) -> None:
        self.send_after("soon", None, "tick")  # E: arg-type (delay first)
        self.send(self.pid, "x", priority="high")  # E: arg-type
        self.link("worker")  # E: arg-type (a pid, not a name)


class NotAnActor:
    pass


class WrongReceive(airs.Actor):
    def receive(self) -> None:  # E: override (receive takes a message)
        pass


class WrongStop(airs.Actor):
    def on_stop(self, reason: int) -> None:  # E: override (an ExitReason)
        pass


def not_a_hook() -> None:
    pass


def mistakes(rt: airs.Runtime, pid: airs.Pid) -> None:
    rt.spawn(42)  # E: arg-type (a factory, not an int)
    rt.spawn(NotAnActor)  # E: arg-type (the factory must make an Actor)
    rt.spawn(Worker, trap_exit="yes")  # E: arg-type
    rt.send_after("soon", pid, "x")  # E: arg-type (the delay comes first)
    rt.send(3.5, "x")  # E: arg-type (a pid or a registered name)
    rt.call(pid, "x", timeout_ms="1s")  # E: arg-type
    rt.wait(pid, 1.5)  # E: arg-type (ms are ints)
    rt.register("name", "pid")  # E: arg-type
    rt.publish(42, "news")  # E: arg-type (a topic is a name)
    rt.whereis("counter").index  # E: union-attr (whereis may be None)
    found: airs.Pid = rt.whereis("counter")  # E: assignment
    turns: str = rt.poll()  # E: assignment
    rt.stats().processes_alive = 3  # E: misc (frozen)
    rt.set_event_hook(not_a_hook)  # E: arg-type (a hook takes the event)
    airs.Runtime(workers="4")  # E: arg-type
    airs.Runtime(codec=object())  # E: arg-type (no encode/decode)
    airs.JsonCodec("JSON")  # E: arg-type (a type tag is an int)


def supervisor_misuse(rt: airs.Runtime) -> None:
    child = airs.ChildSpec("w", Worker)
    rt.start_supervisor([child])  # E: arg-type (a SupervisorSpec)
    airs.SupervisorSpec([Worker])  # E: list-item (ChildSpecs)
    airs.SupervisorSpec([child], strategy="one_for_one")  # E: arg-type
    airs.ChildSpec("w", Worker, restart="permanent")  # E: arg-type
    airs.ChildSpec("w", Worker, shutdown_ms=None)  # E: arg-type
    sup = rt.start_supervisor(airs.SupervisorSpec([child]))
    sup.start_child(airs.SupervisorSpec())  # E: arg-type (a ChildSpec)
    sup.child_pid("w").index  # E: union-attr (None when not running)
    sup.stop("now")  # E: arg-type
    sup.which_children()[0].pid.index  # E: union-attr
    sup.count_children().workers = 1  # E: misc (frozen)


def osl_misuse(rt: airs.Runtime, owner: airs.Pid) -> None:
    airs.osl.start(rt, intensity="3")  # E: arg-type
    fs = airs.osl.FileSystem(rt)
    fs.read(12)  # E: arg-type (a path is str, bytes or PathLike)
    fs.write("/tmp/x", "text")  # E: arg-type (bytes, not str)
    name: str = fs.list("/tmp")  # E: assignment (a list of names)
    fs.call(airs.osl.fs.Stat("/tmp")).stat.size  # E: union-attr (stat may be None)
    procs = airs.osl.Processes(rt)
    procs.spawn(["cat"]).write("text")  # E: arg-type (bytes)
    code: str = procs.spawn(["true"]).wait().code  # E: assignment
    net = airs.osl.Network(rt)
    net.listen("127.0.0.1:0")  # E: call-arg (a socket needs an owner)
    net.connect(("127.0.0.1", "80"), owner)  # E: arg-type (port is int)
    sock = net.connect("127.0.0.1:80", owner)
    sock.send("text")  # E: arg-type (bytes)
