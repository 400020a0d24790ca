"""A user's program, for the type checker: test_typing runs
``mypy --strict`` on it and expects no error. It uses the public API the
way the README and the docstrings show (it also runs: python3
typing_user.py, with the library findable as for the tests)."""
from __future__ import annotations

import os
import tempfile
from typing import Any, Dict, List, Optional

import airs
import airs.osl
from airs.osl import fs as osl_fs
from airs.osl import proc as osl_proc


class Counter(airs.Actor):
    """Adds the numbers it gets; answers "get" requests."""

    def __init__(self, start: int = 0) -> None:
        self.count = start
        self.seen: List[airs.ExitReason] = []

    def receive(self, message: Any) -> None:
        if message == "get":
            self.reply(self.count)
        elif isinstance(message, int):
            self.count += message
        elif isinstance(message, airs.Down):
            self.seen.append(message.reason)

    def on_stop(self, reason: airs.ExitReason) -> None:
        if not reason.is_normal:
            print(f"counter {self.pid} ended: {reason}")

    def health(self) -> airs.Health:
        return airs.Health.HEALTHY if self.count >= 0 else airs.Health.FAILED


class Asker(airs.Actor):
    """Asks a counter for its count by request, and keeps the answer."""

    def __init__(self, counter: airs.Pid) -> None:
        self.counter = counter
        self.answer: Optional[int] = None
        self.pending: Dict[int, str] = {}

    def on_start(self) -> None:
        ref = self.request(self.counter, "get", timeout_ms=1000)
        self.pending[ref] = "count"
        self.monitor(self.counter)
        self.subscribe("news")
        self.send_after(10, None, "tick")

    def receive(self, message: Any) -> None:
        if isinstance(message, airs.Reply):
            what = self.pending.pop(message.ref, "?")
            if what == "count" and isinstance(message.value, int):
                self.answer = message.value
        elif isinstance(message, airs.RequestTimeout):
            self.pending.pop(message.ref, None)
        elif isinstance(message, airs.ExitSignal):
            self.stop()  # it traps exits: rt.stop(asker) arrives here
        elif isinstance(message, airs.Down):
            self.exit(airs.ExitKind.ERROR, 2, f"lost {message.pid}")
        elif message == "tick":
            sender: Optional[airs.Pid] = self.sender
            assert sender is None or sender == self.pid
            self.send(self.counter, 1, priority=airs.Priority.HIGH)
        elif isinstance(message, bytes):
            print("bytes tagged", self.message_type)


class Shell(airs.Actor):
    """Runs a program through the process actor, inside an actor."""

    def on_start(self) -> None:
        self.trap_exit()
        self.request(airs.osl.PROC_NAME,
                     osl_proc.Spawn(["true"], stderr=osl_proc.DISCARD))

    def receive(self, message: Any) -> None:
        if isinstance(message, airs.Reply) and \
                isinstance(message.value, osl_proc.ProcReply):
            port = message.value.check().port
            print("spawned as port", port)
        elif isinstance(message, osl_proc.ProcessExit):
            if message.exited and message.code == 0:
                self.stop()
        elif isinstance(message, airs.ExitSignal):
            self.exit(airs.ExitKind.SHUTDOWN)


def counter_with_start(start: int) -> Counter:
    return Counter(start)


def on_event(event: airs.Event) -> None:
    if event.severity >= airs.Severity.WARNING:
        print(event.text)


def on_dead_letter(letter: airs.DeadLetter) -> None:
    print("undelivered:", letter.reason.name, letter.message)


def supervision(rt: airs.Runtime) -> None:
    spec = airs.SupervisorSpec(
        [airs.ChildSpec("counter", Counter, name="counter"),
         airs.ChildSpec("other", counter_with_start, (5,),
                        restart=airs.Restart.TRANSIENT,
                        shutdown=airs.Shutdown.TIMEOUT, shutdown_ms=100,
                        mailbox_capacity=64,
                        mailbox_policy=airs.MailboxPolicy.DROP_NEWEST)],
        strategy=airs.Strategy.ONE_FOR_ALL, intensity=3, period_ms=1000)
    sup: airs.Supervisor = rt.start_supervisor(spec)
    rows: List[airs.ChildInfo] = sup.which_children()
    for row in rows:
        assert row.state == airs.ChildState.RUNNING and row.pid is not None
    counts: airs.ChildCounts = sup.count_children()
    assert counts.workers == 2
    pid: Optional[airs.Pid] = sup.child_pid("counter")
    assert pid is not None and rt.whereis("counter") == pid
    sup.terminate_child("other")
    again: airs.Pid = sup.restart_child("other")
    assert rt.is_alive(again)

    dynamic = rt.start_supervisor(airs.SupervisorSpec(
        [airs.ChildSpec(None, counter_with_start)],
        strategy=airs.Strategy.SIMPLE_ONE_FOR_ONE))
    child = dynamic.start_dynamic_child(7)
    assert rt.call(child, "get") == 7
    dynamic.terminate_child(child)
    dynamic.stop()
    sup.stop(timeout_ms=2000)


def file_system(rt: airs.Runtime) -> None:
    fs = airs.osl.FileSystem(rt, timeout_ms=2000)
    folder = tempfile.mkdtemp()
    path = os.path.join(folder, "hello")
    written: int = fs.write(path, b"hi")
    fs.append(path.encode(), bytearray(b" there"))
    data: bytes = fs.read(path)
    assert written == 2 and data == b"hi there"
    names: List[str] = fs.list(folder)
    stat: airs.osl.FileStat = fs.stat(path)
    assert names == ["hello"] and stat.type == airs.osl.FileType.FILE
    with fs.open(path, "r") as f:
        assert f.read(2) == b"hi"
    reply = fs.call(osl_fs.Stat(path, follow_symlinks=False))
    if reply is not None and reply.ok:
        assert reply.check().stat is not None
    try:
        fs.read(os.path.join(folder, "missing"))
    except airs.SystemCallError as e:
        assert e.errno != 0
    fs.delete(path)
    fs.rmdir(folder)


def processes(rt: airs.Runtime) -> None:
    procs = airs.osl.Processes(rt)
    port: airs.osl.Port = procs.spawn(["cat"], stdin=True)
    port.write(b"x")
    port.close_stdin()
    end: airs.osl.ProcessExit = port.wait(timeout_ms=2000)
    assert end.exited and end.code == 0
    rt.spawn(Shell, name="shell")


def network(rt: airs.Runtime, owner: airs.Pid) -> None:
    net = airs.osl.Network(rt)
    listener, (host, port) = net.listen(("127.0.0.1", 0), owner)
    sock: airs.osl.Socket = net.connect(f"{host}:{port}", owner,
                                         timeout_ms=1000)
    sock.set_active(1)
    addresses = net.resolve("localhost", 80)
    assert all(isinstance(a, tuple) for a in addresses)
    sock.close()
    listener.close()


def main() -> None:
    with airs.Runtime(workers=2, mailbox_capacity=1000,
                      codec=airs.JsonCodec()) as rt:
        rt.set_event_hook(on_event)
        rt.set_dead_letter_hook(on_dead_letter)
        counter = rt.spawn(Counter, name="main-counter")
        rt.send(counter, 5)
        rt.send("main-counter", 3)
        total: Any = rt.call(counter, "get", timeout_ms=1000)
        assert total == 8
        asker = rt.spawn(Asker, (counter,), trap_exit=True)
        assert isinstance(asker, int)

        rt.subscribe("news", counter)
        reached: int = rt.publish("news", 1)
        subscribers: List[airs.Pid] = rt.subscribers("news")
        assert reached == len(subscribers) == 2
        timer: int = rt.send_after(50, counter, 1)
        assert rt.cancel_timer(timer)

        rt.register(b"the-counter", asker)
        found: Optional[airs.Pid] = rt.whereis("the-counter")
        assert found == asker and found.index >= 0
        rt.unregister("the-counter")
        rt.pool_join("pool", counter)
        assert rt.pool_pick("pool", airs.Pick.RANDOM) == counter

        stats: airs.RuntimeStats = rt.stats()
        mine: airs.ProcessStats = rt.process_stats(counter)
        print(stats.processes_alive, mine.mailbox_depth)

        supervision(rt)
        osl: airs.Supervisor = airs.osl.start(rt, intensity=5)
        file_system(rt)
        processes(rt)
        network(rt, counter)
        osl.stop()

        rt.stop(asker)
        rt.wait(asker, timeout_ms=2000)
        try:
            rt.call(asker, "get", timeout_ms=100)
        except airs.NoProcessError as e:
            print(e.status_name, e.detail)
        rt.kill(counter)
        rt.wait(counter)
        assert not rt.is_alive(counter)
    assert rt.closed


if __name__ == "__main__":
    main()
