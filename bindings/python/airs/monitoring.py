"""Counters and hooks, as methods of :class:`airs.Runtime`."""
from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING, Any, Callable, Optional

from . import _ffi
from .events import Event, ProcessStats, RuntimeStats

if TYPE_CHECKING:
    from ._types import PidLike
    from .message import DeadLetter

lib = _ffi.lib

_PROCESS_STATS = (1, 2, 3, 4, 5)  # airs_process_stat keys, in field order


class MonitoringMixin:
    """stats, process_stats and the event and dead-letter hooks of
    :class:`airs.Runtime`."""

    # Set by Runtime.__init__.
    _handle: Any
    _core: Any

    def stats(self) -> RuntimeStats:
        """A :class:`airs.RuntimeStats` snapshot. [any thread]"""
        raw = _ffi.RuntimeStatsStruct()
        raw.version = _ffi.RUNTIME_STATS_VERSION
        raw.size = ctypes.sizeof(raw)
        lib.airs_runtime_stats_get(self._handle, ctypes.byref(raw))
        return RuntimeStats(*(getattr(raw, name) for name, _ in
                              _ffi.RuntimeStatsStruct._fields_[2:]))

    def process_stats(self, pid: PidLike) -> ProcessStats:
        """The :class:`airs.ProcessStats` of a live process.
        NoProcessError: not alive. [any thread]"""
        value = ctypes.c_uint64()
        values = []
        for key in _PROCESS_STATS:
            lib.airs_process_stat_get(self._handle, pid, key,
                                      ctypes.byref(value))
            values.append(value.value)
        return ProcessStats(*values)

    def set_event_hook(self,
                       hook: Optional[Callable[[Event], object]]) -> None:
        """Installs `hook(event)` (an :class:`airs.Event` each), or removes
        it with None (then no event is even built). The hook runs on the
        thread that decides (see :mod:`airs.events`); exceptions are
        logged and ignored. [any thread]"""
        core = self._core
        core.event_hook = hook
        lib.airs_set_event_hook(self._handle,
                                core.event_address if hook is not None else None,
                                None)

    def set_dead_letter_hook(
            self, hook: Optional[Callable[[DeadLetter], object]]) -> None:
        """Installs `hook(dead_letter)` (an :class:`airs.DeadLetter` each)
        for messages the runtime could not deliver, or removes it with
        None. Runs on the thread that found out, must not block;
        exceptions are logged and ignored. (The binding keeps its own C
        hook installed for the runtime's whole life: it releases the
        Python objects of undelivered messages.) [any thread]"""
        self._core.dead_letter_hook = hook
