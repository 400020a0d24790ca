"""Range checks for integers passed to C.

ctypes converts a Python int to a fixed-width C integer by masking, so
``2**32 + 5`` would silently reach C as 5. Values a user passes (timeouts,
sizes, settings) are checked here first, with a clear exception."""
from .errors import InvalidArgumentError

U32_MAX = 0xFFFFFFFF
U64_MAX = 0xFFFFFFFFFFFFFFFF
I64_MIN, I64_MAX = -(1 << 63), (1 << 63) - 1


def check_int(value, low, high, what):
    """`value` as an int in low..high, else InvalidArgumentError (TypeError
    for a non-integer)."""
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = value.__index__()
        except AttributeError:
            raise TypeError(f"{what} must be an int, not "
                            f"{type(value).__name__}") from None
    if not low <= value <= high:
        raise InvalidArgumentError(f"{what} = {value} is out of range "
                                   f"{low}..{high}")
    return value


def u32(value, what):
    """`value` checked as a uint32_t."""
    return check_int(value, 0, U32_MAX, what)


def u64(value, what):
    """`value` checked as a uint64_t."""
    return check_int(value, 0, U64_MAX, what)
