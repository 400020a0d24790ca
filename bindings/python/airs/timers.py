"""Timers, as methods of :class:`airs.Runtime` (any thread, never block)."""
from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING, Any, Optional

from . import _ffi, _outbound, _turn
from ._ints import u64
from .errors import NotFoundError
from .pid import Pid

if TYPE_CHECKING:
    from ._types import CodecLike, Dest

lib = _ffi.lib


def check_delay(delay_ms: object) -> None:
    """TypeError unless `delay_ms` is a plain int (a Pid is an int, and
    the likeliest mistake: the arguments in another order)."""
    if isinstance(delay_ms, Pid) or not isinstance(delay_ms, int) or \
            isinstance(delay_ms, bool):
        raise TypeError(f"send_after(delay_ms, to, message): the delay "
                        f"comes first, in ms, not {delay_ms!r}")


class TimerMixin:
    """send_after / cancel_timer of :class:`airs.Runtime`."""

    # Set by Runtime.__init__.
    _handle: Any
    _core: Any

    def send_after(self, delay_ms: int, to: Dest, message: Any,
                   type: int = 0, codec: Optional[CodecLike] = None) -> int:
        """Sends `message` to `to` (a Pid or a registered name) after
        `delay_ms` (0..2**40) and returns the timer id: Erlang's
        ``erlang:send_after(Time, Dest, Msg)`` order, the same as
        :meth:`airs.Actor.send_after`. Encoded as
        :meth:`airs.Runtime.send`; a Python object is released when the
        timer's message is freed (delivered, cancelled, undeliverable, or
        at close). NoProcessError: `to` is not alive now. TypeError: a
        delay that is no int (a Pid first is the old order)."""
        check_delay(delay_ms)
        core = self._core
        to = _outbound.resolve(core, to)
        _turn.flush_current()
        tag, data, ref = _outbound.encode(core, to, message, type, codec,
                                          ref_kind=_outbound.HELD)
        msg = _outbound.new_msg(core, tag, data, ref)
        timer = ctypes.c_uint64()
        try:
            lib.airs_send_after(self._handle, to, u64(delay_ms, "delay_ms"),
                                msg,
                                ctypes.byref(timer))
        except BaseException:
            _outbound.free_msg(core, msg, ref)
            raise
        return timer.value

    def cancel_timer(self, timer_id: int) -> bool:
        """Cancels a pending timer and frees its message. True if it was
        pending, False if it had fired or been cancelled already."""
        try:
            lib.airs_cancel_timer(self._handle, timer_id)
        except NotFoundError:
            return False
        return True
