#!/usr/bin/env python3
"""supervision_tree - Python actors under OTP-style supervisors.

Run from the repository root after building:
    PYTHONPATH=bindings/python python3 examples/python/supervision_tree.py

The tree:

    root (one_for_one)
    ├── cache   worker, permanent, registered as "cache"
    └── jobs    supervisor (rest_for_one)
        ├── queue    worker, permanent
        └── runner   worker, transient

1. "cache" crashes: only it is restarted (one_for_one), with a fresh
   state; its name moves to the new pid.
2. "queue" crashes: in rest_for_one the children after it ("runner") are
   stopped and both start again.
3. "runner" finishes normally: transient, so it is not restarted.
Every decision arrives at the event hook, printed as it happens.
"""
import os
import queue
import sys

try:
    import airs
except ImportError:  # run from a checkout without PYTHONPATH
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                    "bindings", "python"))
    import airs

from airs import ChildSpec, Restart, Shutdown, Strategy, SupervisorSpec


class Worker(airs.Actor):
    """Counts what it handles; "crash" raises, "done" ends normally."""

    def __init__(self, name):
        self.name = name
        self.handled = 0

    def receive(self, message):
        if message == "crash":
            raise RuntimeError(f"{self.name} was told to crash")
        if message == "done":
            self.stop()
        elif message == "handled":
            self.reply(self.handled)
        else:
            self.handled += 1


def main():
    events = queue.Queue()  # the hook runs on worker threads: hand over

    def on_event(event):
        if event.kind in (airs.EventKind.PROCESS_SPAWNED,
                          airs.EventKind.PROCESS_EXITED):
            return  # supervision decisions only
        events.put(event)

    def show_events():
        while True:
            try:
                event = events.get(timeout=0.2)
            except queue.Empty:
                return
            reason = f" ({event.reason})" if event.reason else ""
            print(f"  event {event.kind.name.lower()}: child "
                  f"{event.id or '-'}{reason}")

    spec = SupervisorSpec([
        ChildSpec("cache", Worker, ("cache",), name="cache"),
        ChildSpec("jobs", supervisor=SupervisorSpec([
            ChildSpec("queue", Worker, ("queue",)),
            ChildSpec("runner", Worker, ("runner",),
                      restart=Restart.TRANSIENT),
        ], strategy=Strategy.REST_FOR_ONE, intensity=3),
            shutdown=Shutdown.INFINITY),
    ], strategy=Strategy.ONE_FOR_ONE, intensity=3, period_ms=5000)

    with airs.Runtime(2) as rt:
        rt.set_event_hook(on_event)
        root = rt.start_supervisor(spec)
        jobs = root.child_supervisor("jobs")
        print("started:", [(c.id, c.type.name.lower())
                           for c in root.which_children()])
        show_events()

        print("1. cache crashes (one_for_one)")
        old = rt.whereis("cache")
        rt.send("cache", "work")
        rt.send("cache", "crash")
        show_events()
        new = rt.whereis("cache")
        print(f"   cache moved from {old} to {new}; it has handled "
              f"{rt.call('cache', 'handled')} message(s)")
        assert new != old

        print("2. queue crashes (rest_for_one: runner restarts too)")
        runner_before = jobs.child_pid("runner")
        rt.send(jobs.child_pid("queue"), "crash")
        show_events()
        assert jobs.child_pid("runner") != runner_before

        print("3. runner finishes normally (transient: stays stopped)")
        rt.send(jobs.child_pid("runner"), "done")
        show_events()
        states = {c.id: c.state.name.lower() for c in jobs.which_children()}
        print("   jobs children:", states)
        assert states["runner"] == "stopped"
        print("restarts counted by the runtime:", rt.stats().restarts)
    print("runtime closed: the tree was stopped top-down")


if __name__ == "__main__":
    import logging
    logging.basicConfig(level=logging.ERROR)  # hide the crash reports
    main()
