"""Names (registry, pools, topics, child ids) as C strings."""
from .errors import InvalidArgumentError


def encode_name(name, what="name"):
    """`name` (str or bytes) as NUL-terminated UTF-8 for C. Length limits
    are the library's to check (its message says which); an embedded NUL,
    which C would silently cut at, is refused here."""
    if isinstance(name, str):
        raw = name.encode("utf-8")
    elif isinstance(name, bytes):
        raw = name
    else:
        raise TypeError(f"{what} must be str, not {type(name).__name__}")
    if b"\0" in raw:
        raise InvalidArgumentError(f"{what} {name!r} contains a NUL byte")
    return raw
