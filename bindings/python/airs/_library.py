"""Finding and loading ``libairs`` (no other module of the package does I/O
on import).

Lookup order, first hit wins:

1. ``AIRS_LIBRARY``: an explicit path to the library file. If it is set,
   nothing else is tried: a wrong path is an error, not a silent fallback.
2. The build tree, only when the package is imported from its source tree
   (``<root>/bindings/python/airs`` with ``<root>/meson.build`` and
   ``<root>/include/airs/airs.h``): ``<root>/build``, then the other
   ``<root>/build*`` folders by name, each with ``libairs.so.0`` then
   ``libairs.so``; a candidate that fails to load (a sanitizer build,
   say) is skipped. An installed package never looks at build folders, so
   a stray ``build/libairs.so.0`` above site-packages cannot win.
3. The installed library: the soname ``libairs.so.0`` through the dynamic
   loader's search path (ld.so.cache, ``LD_LIBRARY_PATH``), then
   ``pkg-config --variable=libdir airs`` (``PKG_CONFIG_PATH`` is
   honoured; airs.pc is relocatable, so a moved install works).
"""
import ctypes
import os
import subprocess

_SONAMES = ("libairs.so.0", "libairs.so")


class LibraryNotFoundError(OSError):
    """No loadable libairs was found; the message lists what was tried."""


def source_root(package_dir):
    """The checkout the package is imported from, or None if it is an
    installed copy."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(package_dir)))
    if (os.path.basename(package_dir) == "airs"
            and os.path.isfile(os.path.join(root, "meson.build"))
            and os.path.isfile(os.path.join(root, "include", "airs",
                                            "airs.h"))):
        return root
    return None


def _build_tree_candidates(root):
    """Library files in root's build*/ folders: ``build`` first, then the
    others by name."""
    try:
        names = sorted(n for n in os.listdir(root) if n.startswith("build")
                       and os.path.isdir(os.path.join(root, n)))
    except OSError:
        return
    if "build" in names:
        names.remove("build")
        names.insert(0, "build")
    for name in names:
        for soname in _SONAMES:
            path = os.path.join(root, name, soname)
            if os.path.isfile(path):
                yield path
                break


def _pkg_config_candidate():
    """libdir/libairs.so.0 as pkg-config says, or None."""
    try:
        out = subprocess.run(
            ["pkg-config", "--variable=libdir", "airs"],
            capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    libdir = out.stdout.strip()
    if out.returncode != 0 or not libdir:
        return None
    return os.path.join(libdir, _SONAMES[0])


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

    def attempt(path):
        try:
            return loader(path)
        except OSError as e:
            tried.append(f"{path}: {e}")
            return None

    package_dir = os.path.dirname(os.path.abspath(__file__))
    root = source_root(package_dir)
    candidates = list(_build_tree_candidates(root)) if root else []
    candidates.append(_SONAMES[0])  # the dynamic loader
    for path in candidates:
        library = attempt(path)
        if library is not None:
            return library, path
    path = _pkg_config_candidate()
    if path is not None:
        library = attempt(path)
        if library is not None:
            return library, path
    else:
        tried.append("pkg-config --variable=libdir airs: not found")
    raise LibraryNotFoundError(
        "libairs not found; install it (meson install) or set AIRS_LIBRARY "
        "to its path. Tried:\n  " + "\n  ".join(tried))
