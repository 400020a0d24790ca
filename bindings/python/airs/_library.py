"""Finding and loading ``libairs`` (no other module of the package does I/O
on import).

Lookup order, first hit wins:

1. ``AIRS_LIBRARY``: an explicit path to the library file. If it is set,
   nothing else is tried: a wrong path is an error, not a silent fallback.
2. The build tree: starting at this package's directory and walking up to
   the filesystem root, every directory named ``build`` or ``build*``
   beside the current one is a candidate, ``build`` first, then the others
   in alphabetical order. In each, ``libairs.so.0`` then ``libairs.so`` is
   tried; a candidate that fails to load (a sanitizer build, say) is
   skipped.
3. An installed copy: ``ctypes.util.find_library("airs")``, then the
   soname ``libairs.so.0`` through the dynamic loader's search path.
"""
import ctypes
import ctypes.util
import os

_SONAMES = ("libairs.so.0", "libairs.so")


class LibraryNotFoundError(OSError):
    """No loadable libairs was found; the message lists what was tried."""


def _build_tree_candidates(start):
    """Library files under build*/ directories, walking up from `start`.

    Deterministic: directories are visited nearest first; within one, the
    directory named exactly ``build`` comes first, then the other
    ``build*`` directories sorted by name.
    """
    here = os.path.abspath(start)
    while True:
        try:
            names = sorted(n for n in os.listdir(here)
                           if n.startswith("build")
                           and os.path.isdir(os.path.join(here, n)))
        except OSError:
            names = []
        if "build" in names:
            names.remove("build")
            names.insert(0, "build")
        for name in names:
            for soname in _SONAMES:
                path = os.path.join(here, name, soname)
                if os.path.isfile(path):
                    yield path
                    break
        parent = os.path.dirname(here)
        if parent == here:
            return
        here = parent


def load(loader=ctypes.CDLL):
    """Loads libairs with `loader` (ctypes.CDLL or ctypes.PyDLL) and returns
    ``(library, path)``. Raises LibraryNotFoundError listing every
    candidate tried and why it failed."""
    explicit = os.environ.get("AIRS_LIBRARY")
    if explicit:
        try:
            return loader(explicit), explicit
        except OSError as e:
            raise LibraryNotFoundError(
                f"AIRS_LIBRARY={explicit!r} cannot be loaded: {e}") from e
    tried = []
    package_dir = os.path.dirname(os.path.abspath(__file__))
    candidates = list(_build_tree_candidates(package_dir))
    installed = ctypes.util.find_library("airs")
    if installed:
        candidates.append(installed)
    candidates.append("libairs.so.0")
    for path in candidates:
        try:
            return loader(path), path
        except OSError as e:
            tried.append(f"{path}: {e}")
    raise LibraryNotFoundError(
        "libairs not found; set AIRS_LIBRARY to its path. Tried:\n  "
        + "\n  ".join(tried))
