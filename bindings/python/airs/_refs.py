"""Process-wide counters for handles and in-flight object references.

Handles (user_data of actor starts, actor states) are small non-zero
integers passed to C as ``void*``: never 0 (a NULL ``void*`` reads as None
in ctypes) and never reused, so a stale one finds nothing instead of the
wrong object. References are the type tags that name Python objects in
flight, one counter per range (see :mod:`airs.message`). ``next()`` on an
``itertools.count`` is atomic under the GIL.
"""
import itertools

from .message import REF_HELD_BASE, REF_REPLY_BASE, REF_SEND_BASE

next_handle = itertools.count(1).__next__
next_send_ref = itertools.count(REF_SEND_BASE).__next__
next_reply_ref = itertools.count(REF_REPLY_BASE).__next__
next_held_ref = itertools.count(REF_HELD_BASE).__next__
