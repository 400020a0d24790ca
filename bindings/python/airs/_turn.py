"""One crossing per turn: the sends and replies of a Python actor's turn.

A Python actor's messages come in batches (``airs_behaviour.
receive_batch``: one C-to-Python call per turn instead of one per
message). While a batch runs, :meth:`airs.Actor.send` of a Python object
to a Python actor of this runtime whose mailbox is unbounded, and
:meth:`airs.Actor.reply`, do not call C: they add an item to the actor's
``_out`` list (6 words each, the layout of ``airs_send_item``), and the
whole list goes to C in one ``airs_ctx_send_many`` call when the batch
ends. C then does what one call per message would have done, in the same
order, inside the same turn (its own outbox pushes a turn's mail when the
turn ends), so receivers see no difference.

Order with everything else the actor does is kept by flushing first:
every call that could send or signal another process without going
through the list (a send of bytes or to a C actor, a request, a publish,
a link or monitor, a timer, a stop or kill, a spawn) calls
:func:`flush_current` before it calls C. A deferred send cannot fail the
way an immediate one can: its receiver is a live Python actor with an
unbounded mailbox when the send is made. If that receiver ends before the
flush, C gives the message to the dead-letter hook (NOPROC), as Erlang
drops a message to a dead pid; no exception is raised for it. Any other
failure (no memory) raises from the flush: at the end of the batch it ends
the actor with an error exit, as an exception from receive would.

``_local.actor`` is the actor whose batch runs on this thread and has
deferred something (callbacks of other actors may run on other threads
meanwhile, whenever C releases the GIL), so that :class:`airs.Runtime`
calls made from inside a batch find the list to flush.
"""
import ctypes
import threading
from array import array

from . import _ffi
from .errors import ENOPROC
from .message import REF_SEND_BASE, SYSTEM_BASE

_local = threading.local()
_send_many = _ffi.fast.airs_ctx_send_many
_ctx_send_ref = _ffi.ctx_send_ref
_error_for_status = _ffi.error_for_status
_MAX = _ffi.SEND_MANY_MAX

SEND = int(_ffi.SendKind.SEND)
REPLY = int(_ffi.SendKind.REPLY)


# actor._out while a batch runs and nothing is deferred yet: the turn's
# first send to a Python actor goes at once (a turn that sends one
# message, a ping-pong's or a ring's, pays for no list, no flush and no
# thread-local store) and leaves SENT_ONE; the send after it turns
# actor._out into the list that defers it and the ones after it. A reply
# starts the list at once. Both are falsy (nothing to flush) and not
# None (in a batch); FIRST, SENT_ONE, a list: `is` and the class tell
# them apart.
FIRST = ()
SENT_ONE = False

# A long turn (a loop of sends) flushes every this many words (256
# items): its receivers start on the first ones meanwhile, as they would
# with one call per send, and the in-flight tables stay small.
FLUSH_WORDS = 6 * 256


def current():
    """The actor whose batch runs on this thread (a batch of several
    messages, or one that has deferred something), or None."""
    return getattr(_local, "actor", None)


def start_deferring(actor):
    """[in a batch, actor._out is FIRST or SENT_ONE] From now on, sends
    and replies of `actor` wait for the flush; returns the list they go
    in."""
    out = actor._out = []
    actor._blobs = None
    _local.actor = actor
    return out


def flush_current():
    """Flushes the deferred sends of the batch running on this thread,
    if any: called before any other call that sends or signals."""
    actor = getattr(_local, "actor", None)
    if actor is not None and actor._out:
        flush(actor)


def add_payload(actor, payload):
    """Records the bytes of the item being added (its data word is
    filled in at the flush). Returns the placeholder for that word."""
    blobs = actor._blobs
    if blobs is None:
        blobs = actor._blobs = []
    blobs.append((len(actor._out) + 2, payload))
    return 0


def flush(actor):
    """Hands the deferred items to C in one call (several past
    AIRS_SEND_MANY_MAX items). See the module docstring for failures."""
    out = actor._out
    blobs = actor._blobs
    actor._out = []
    actor._blobs = None
    ctx = actor._ctx
    count = len(out) // 6
    if count == 1 and blobs is None and not out[4] and not out[5]:
        # One plain send (a ping-pong, a ring): the three-argument call.
        status = _ctx_send_ref(ctx, out[0], out[1], None, 0)
        if status:
            _failed(actor, out, [status], status)
        return
    keep = None
    if blobs is not None:
        joined = b"".join([payload for _, payload in blobs])
        keep = ctypes.c_char_p(joined)  # no copy: points into `joined`
        at = ctypes.cast(keep, ctypes.c_void_p).value
        for word, payload in blobs:
            out[word] = at
            at += len(payload)
    failure = None
    for start in range(0, count, _MAX):  # every chunk, whatever fails
        n = min(count - start, _MAX)
        items = array("Q", out[6 * start:6 * (start + n)])
        statuses = array("i", bytes(4 * n))
        status = _send_many(ctx, items.buffer_info()[0], n,
                            statuses.buffer_info()[0])
        if status:
            error = _error_for_status(status)
            try:
                _failed(actor, items, statuses, status, error)
            except BaseException as e:
                failure = failure or e
    del keep
    if failure is not None:
        raise failure


def _failed(actor, items, statuses, status, error=None):
    """Releases the objects of items C did not take; raises for a
    failure that is not a dead receiver."""
    core = actor._core
    worst = None
    for i, st in enumerate(statuses):
        if not st:
            continue
        tag = items[6 * i + 1]
        if REF_SEND_BASE <= tag < SYSTEM_BASE:
            core.drop_ref(tag)
        if st != ENOPROC and worst is None:
            worst = st
    if worst is not None:
        if error is None or error.status != worst:
            raise _error_for_status(worst)
        raise error
