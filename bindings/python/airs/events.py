"""Monitoring: the event hook's :class:`Event`, and runtime counters.

Install a hook with :meth:`airs.Runtime.set_event_hook`. It is called for
every supervision decision and process/broker event, on the thread that
decided (usually a worker running the supervisor), in order for one
source, holding the GIL for the call only. It must not block, and must not
call supervisor operations on the event's source (the C runtime answers
those with :class:`airs.StateError`).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Optional, Union

from .pid import Pid, pid_or_none
from .reasons import ExitReason, reason_from_c


class EventKind(enum.IntEnum):
    """airs_event_kind (explicit values, only ever appended)."""
    CHILD_STARTED = 1
    CHILD_START_FAILED = 2
    CHILD_EXITED = 3
    CHILD_RESTARTED = 4
    STRATEGY_APPLIED = 5
    INTENSITY_REACHED = 6
    SUPERVISOR_SHUTDOWN = 7
    CHILD_STOPPING = 8
    CHILD_KILLED = 9
    BACKOFF = 10
    HEALTH_DEGRADED = 11
    HEALTH_FAILED = 12
    PROCESS_SPAWNED = 13
    PROCESS_EXITED = 14
    SUBSCRIBED = 15
    UNSUBSCRIBED = 16
    REQUEST_TIMED_OUT = 17


class TraceKind(enum.IntEnum):
    """airs_trace_kind: a step of a seeded runtime (AIRS_CFG_SEED)."""
    TURN = 1
    TIMER = 2


class Severity(enum.IntEnum):
    """airs_severity."""
    DEBUG = 0
    INFO = 1
    WARNING = 2
    ERROR = 3


@dataclass(frozen=True)
class Event:
    """One event, copied out of the borrowed C struct. ``kind`` is an
    :class:`EventKind` (or the raw int for a kind newer than this
    package); ``source`` the deciding process (a supervisor), ``pid`` the
    one concerned, ``other`` a second pid by kind (the old pid of a
    restart), ``value`` a number by kind, ``id`` the child id, ``reason``
    an exit reason or None, ``text`` one line for a log."""
    kind: int
    severity: Severity
    source: Optional[Pid]
    pid: Optional[Pid]
    other: Optional[Pid]
    value: int
    id: str
    reason: Optional[ExitReason]
    text: str


def _kind(value: int) -> Union[EventKind, int]:
    try:
        return EventKind(value)
    except ValueError:
        return value


def event_from_c(raw: Any) -> Event:
    """Copies an airs_event (valid only during the hook call)."""
    return Event(
        kind=_kind(raw.kind),
        severity=Severity(raw.severity),
        source=pid_or_none(raw.source),
        pid=pid_or_none(raw.pid),
        other=pid_or_none(raw.other),
        value=raw.value,
        id=(raw.id or b"").decode("utf-8", "replace"),
        reason=reason_from_c(raw.reason) if raw.reason else None,
        text=(raw.text or b"").decode("utf-8", "replace"))


@dataclass(frozen=True)
class RuntimeStats:
    """Counters of a whole runtime (airs_runtime_stats): exact once the
    runtime is idle, a snapshot while it runs."""
    processes_alive: int
    processes_spawned: int
    processes_exited: int
    messages_sent: int
    messages_delivered: int
    messages_dropped: int
    dead_letters: int
    restarts: int


@dataclass(frozen=True)
class ProcessStats:
    """Counters of one live process (airs_process_stat_get)."""
    mailbox_depth: int
    mailbox_capacity: int
    messages_enqueued: int
    messages_handled: int
    messages_dropped: int
