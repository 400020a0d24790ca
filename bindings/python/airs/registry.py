"""The registry (unique names -> pids) and pools (named groups of pids),
as methods of :class:`airs.Runtime`. Every method is any-thread (actor
callbacks included) and never blocks."""
from __future__ import annotations

import ctypes
import enum
from typing import TYPE_CHECKING, Any, Callable, List, Optional

from . import _ffi
from ._names import encode_name
from .errors import NotFoundError
from .pid import Pid

if TYPE_CHECKING:
    from ._types import Name, PidLike

lib = _ffi.lib


class Pick(enum.IntEnum):
    """airs_pick: how :meth:`RegistryMixin.pool_pick` chooses a member."""
    ROUND_ROBIN = 0
    RANDOM = 1


class RegistryMixin:
    """Registry and pool methods of :class:`airs.Runtime`."""

    _handle: Any  # set by Runtime.__init__

    def register(self, name: Name, pid: PidLike) -> None:
        """Gives `pid` the unique `name` (1..255 bytes of UTF-8), released
        when the process ends. AlreadyExistsError: the name is taken or the
        process has a name already. NoProcessError: not alive.
        InvalidArgumentError: empty or too long."""
        lib.airs_register(self._handle, encode_name(name), pid)

    def unregister(self, name: Name) -> None:
        """Releases `name`. NotFoundError: not registered."""
        lib.airs_unregister(self._handle, encode_name(name))

    def whereis(self, name: Name) -> Optional[Pid]:
        """The Pid registered as `name`, or None."""
        out = ctypes.c_uint64()
        try:
            lib.airs_whereis(self._handle, encode_name(name),
                             ctypes.byref(out))
        except NotFoundError:
            return None
        return Pid(out.value)

    def pool_join(self, pool: Name, pid: PidLike) -> None:
        """Adds `pid` to `pool` (joining twice is joining once); a member
        that ends leaves by itself. With the runtime attached as a node
        (airs.node), a pool spans the cluster as Erlang's pg groups do:
        picks and members see every node's members, and a process joins
        and leaves on its own node. NoProcessError: not alive.
        InvalidArgumentError: a pid of another node."""
        lib.airs_pool_join(self._handle, encode_name(pool, "pool"), pid)

    def pool_leave(self, pool: Name, pid: PidLike) -> None:
        """Removes `pid` from `pool`. NotFoundError: not a member.
        InvalidArgumentError: a pid of another node (it leaves there)."""
        lib.airs_pool_leave(self._handle, encode_name(pool, "pool"), pid)

    def pool_pick(self, pool: Name, how: int = Pick.ROUND_ROBIN) -> Pid:
        """One live member of `pool`, picked as `how` says.
        NotFoundError: the pool is empty."""
        out = ctypes.c_uint64()
        lib.airs_pool_pick(self._handle, encode_name(pool, "pool"), int(how),
                           ctypes.byref(out))
        return Pid(out.value)

    def pool_members(self, pool: Name) -> List[Pid]:
        """The members of `pool` in join order ([] if it does not exist)."""
        return _read_pids(lambda out, cap, count: lib.airs_pool_members(
            self._handle, encode_name(pool, "pool"), out, cap, count))


def _read_pids(call: Callable[[Any, int, Any], object]) -> List[Pid]:
    """Runs a (out, capacity, count) C listing until the array was large
    enough (the list may grow between the two calls)."""
    capacity = 16
    while True:
        out = (ctypes.c_uint64 * capacity)()
        count = ctypes.c_size_t()
        call(out, capacity, ctypes.byref(count))
        if count.value <= capacity:
            return [Pid(out[i]) for i in range(count.value)]
        capacity = count.value * 2


read_pids = _read_pids
