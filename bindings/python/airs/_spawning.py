"""Spawning Python actors (airs_spawn / airs_ctx_spawn) and building spawn
options; shared by :meth:`airs.Runtime.spawn`, :meth:`airs.Actor.spawn`
and supervisor child specs."""
from __future__ import annotations

import ctypes
import enum
from typing import TYPE_CHECKING, Any, Iterable, Mapping, NoReturn, Optional

from . import _ffi, _turn
from ._starts import ActorStart, clear_start_failure, take_start_failure
from ._ints import check_int, u32
from .errors import AirsError
from .pid import Pid

if TYPE_CHECKING:
    from ._types import Factory, Name

lib = _ffi.lib


class MailboxPolicy(enum.IntEnum):
    """airs_mailbox_policy: what a send to a full bounded mailbox does."""
    FAIL = 0         #: MailboxFullError
    DROP_NEWEST = 1  #: the new message goes to the dead-letter hook
    BLOCK = 2        #: wait up to the block timeout (not inside callbacks)


def spawn_opts(handle, link=False, trap_exit=False, mailbox_capacity=None,
               mailbox_policy=None, block_timeout_ms=None):
    """An airs_spawn_opts with the runtime's defaults and these changes,
    or None when nothing differs from the defaults."""
    if not (link or trap_exit or mailbox_capacity is not None
            or mailbox_policy is not None or block_timeout_ms is not None):
        return None
    opts = _ffi.SpawnOpts()
    opts.version = _ffi.SPAWN_OPTS_VERSION
    opts.size = ctypes.sizeof(opts)
    lib.airs_spawn_opts_init(handle, ctypes.byref(opts))
    opts.flags = ((_ffi.SPAWN_LINK if link else 0)
                  | (_ffi.SPAWN_TRAP_EXIT if trap_exit else 0))
    if mailbox_capacity is not None:
        opts.mailbox_capacity = u32(mailbox_capacity, "mailbox_capacity")
    if mailbox_policy is not None:
        opts.mailbox_policy = check_int(int(mailbox_policy), -(1 << 31),
                                        (1 << 31) - 1, "mailbox_policy")
    if block_timeout_ms is not None:
        opts.block_timeout_ms = u32(block_timeout_ms, "block_timeout_ms")
    return opts


def raise_start_error(error: AirsError) -> NoReturn:
    """Re-raises a failed spawn/start as the actor's own start failure
    (ActorStartError caused by the Python exception) when one was recorded
    on this thread, else as is."""
    failure = take_start_failure()
    if failure is not None:
        failure.status = error.status
        raise failure from failure.__cause__
    raise error


def spawn(core: Any, ctx: Any, factory: Factory, args: Iterable[Any] = (),
          kwargs: Optional[Mapping[str, Any]] = None,
          name: Optional[Name] = None, link: bool = False,
          trap_exit: bool = False, mailbox_capacity: Optional[int] = None,
          mailbox_policy: Optional[int] = None,
          block_timeout_ms: Optional[int] = None) -> Pid:
    """Spawns a Python actor; with `ctx`, from inside that actor's callback
    (airs_ctx_spawn, which alone may link). Returns its Pid. on_start has
    run when this returns. Raises ActorStartError if the factory or
    on_start raised, AlreadyExistsError if `name` is taken, or the error
    of the C call."""
    _turn.flush_current()  # the child's init may send to the same receivers
    start = ActorStart(factory, args, kwargs, name)
    opts = spawn_opts(core.handle, link, trap_exit, mailbox_capacity,
                      mailbox_policy, block_timeout_ms)
    handle = core.add_start(start)
    out = ctypes.c_uint64()
    clear_start_failure()
    try:
        # user_data_free runs in every case, failure included.
        if ctx is not None:
            lib.airs_ctx_spawn(ctx, ctypes.byref(core.behaviour), handle,
                               core.spec_free_address, opts,
                               ctypes.byref(out))
        else:
            lib.airs_spawn(core.handle, ctypes.byref(core.behaviour), handle,
                           core.spec_free_address, opts,
                           ctypes.byref(out))
    except AirsError as e:
        raise_start_error(e)
    return Pid(out.value)
