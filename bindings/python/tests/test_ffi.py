"""The FFI layer: loading, the version check, the function table, errors."""
import ctypes
import os
import subprocess
import sys
import tempfile
import unittest

import support  # noqa: F401  (quiet logger)

import airs
from airs import _ffi, _library, errors

HEADERS = os.path.join(os.path.dirname(__file__), "..", "..", "..",
                       "include", "airs")


class LibraryTest(unittest.TestCase):

    def test_loaded_from_airs_library(self):
        # meson passes the exact path; the package must have used it.
        expected = os.environ.get("AIRS_LIBRARY")
        self.assertTrue(expected, "the test environment sets AIRS_LIBRARY")
        self.assertEqual(airs.library_path, expected)

    def test_versions_match(self):
        self.assertEqual(airs.library_version, airs.__version__)
        self.assertEqual(_ffi.lib.airs_version(), _ffi.PACKAGE_VERSION_NUMBER)

    def test_bad_airs_library_is_an_error_not_a_fallback(self):
        env = dict(os.environ, AIRS_LIBRARY="/nonexistent/libairs.so.0")
        result = subprocess.run([sys.executable, "-c", "import airs"],
                                env=env, capture_output=True, text=True)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("LibraryNotFoundError", result.stderr)
        self.assertIn("/nonexistent/libairs.so.0", result.stderr)

    def test_build_tree_lookup_prefers_build_then_sorted(self):
        with tempfile.TemporaryDirectory() as root:
            for name in ("build-z", "build", "build-a", "builder"):
                os.makedirs(os.path.join(root, name))
                open(os.path.join(root, name, "libairs.so.0"), "w").close()
            os.makedirs(os.path.join(root, "build-so"))
            open(os.path.join(root, "build-so", "libairs.so"), "w").close()
            found = list(_library._build_tree_candidates(root))
            rel = [os.path.relpath(p, root) for p in found]
        self.assertEqual(rel, [
            "build/libairs.so.0",                  # `build` first
            "build-a/libairs.so.0", "build-so/libairs.so",
            "build-z/libairs.so.0", "builder/libairs.so.0"])

    def test_source_tree_is_recognised_and_nothing_else(self):
        # This checkout is one; a package folder elsewhere (site-packages
        # under a folder holding build/libairs.so.0) is not.
        package = os.path.dirname(os.path.abspath(airs.__file__))
        root = _library.source_root(package)
        self.assertIsNotNone(root)
        self.assertTrue(os.path.isfile(os.path.join(root, "meson.build")))
        with tempfile.TemporaryDirectory() as top:
            site = os.path.join(top, "lib", "python3", "site-packages",
                                "airs")
            os.makedirs(site)
            os.makedirs(os.path.join(top, "build"))
            open(os.path.join(top, "build", "libairs.so.0"), "w").close()
            self.assertIsNone(_library.source_root(site))

    def test_version_mismatch_raises_version_error(self):
        # A package claiming a newer major version than the library.
        code = ("import sys; sys.path.insert(0, %r)\n"
                "import airs._ffi as f\n"
                "f.PACKAGE_VERSION_NUMBER = 10000\n"
                "f.PACKAGE_VERSION = (1, 0, 0)\n"
                "try:\n"
                "    f._check_version()\n"
                "except f.VersionError as e:\n"
                "    print('VersionError', e)\n")
        root = os.path.dirname(os.path.dirname(os.path.abspath(
            airs.__file__)))
        result = subprocess.run([sys.executable, "-c", code % root],
                                capture_output=True, text=True)
        self.assertIn("VersionError AIRS_EVERSION", result.stdout,
                      result.stderr)
        self.assertIn("0.1.0", result.stdout)


# Functions of the headers the package does not bind, and why: a job's
# function is C code run on a pool thread (a Python one would take the GIL
# there for its whole run: run Python work in a thread of your own), and
# Python has its own ways to wait on fds (asyncio, selectors).
NOT_BOUND = {"airs_job_init", "airs_job_submit", "airs_job_cancel",
             "airs_job_stats_get", "airs_fd_watch", "airs_fd_rearm",
             "airs_fd_unwatch", "airs_fd_watch_fn",
             # transport.h: for transports (libairs_node), not for Python
             "airs_transport_set", "airs_transport_deliver",
             "airs_transport_deliver_reply", "airs_transport_drop",
             "airs_transport_msg_kind", "airs_transport_signal_read",
             "airs_transport_deliver_signal", "airs_transport_node_down",
             "airs_transport_deliver_publish", "airs_transport_pool_member"}


class TableTest(unittest.TestCase):

    def test_every_header_function_is_in_the_table(self):
        import re
        names = set()
        for header in ("airs.h", "supervisor.h", "broker.h", "net.h",
                       "osl.h", "fs.h", "proc.h", "io.h", "transport.h"):
            with open(os.path.join(HEADERS, header)) as f:
                text = f.read()
            names |= set(re.findall(r"AIRS_API[^;(]*?\b(airs_\w+)\s*\(",
                                    text, re.S))
        self.assertGreater(len(names), 80)
        bound = set(_ffi.SIGNATURES) | set(_ffi.FAST_SIGNATURES)
        self.assertEqual(names - bound - NOT_BOUND, set())
        self.assertEqual(set(_ffi.SIGNATURES) - names, set())
        self.assertEqual(NOT_BOUND & bound, set())

    def test_statuses_have_errcheck_and_types(self):
        for name, (restype, argtypes) in _ffi.SIGNATURES.items():
            fn = getattr(_ffi.lib, name)
            self.assertEqual(len(fn.argtypes), len(argtypes), name)
            if restype == _ffi.STATUS:
                self.assertIs(fn.errcheck, _ffi._errcheck, name)

    def test_handles_are_typed(self):
        cfg = _ffi.ConfigP()
        _ffi.lib.airs_config_new(ctypes.byref(cfg))
        try:
            # A config where a runtime is expected, or a bare address.
            with self.assertRaises(ctypes.ArgumentError):
                _ffi.lib.airs_runtime_free(cfg)
            with self.assertRaises(ctypes.ArgumentError):
                _ffi.lib.airs_config_free(ctypes.addressof(cfg.contents))
            with self.assertRaises(ctypes.ArgumentError):
                _ffi.lib.airs_sup_spec_free(cfg)
        finally:
            _ffi.lib.airs_config_free(cfg)

    def test_strerror_names_every_status(self):
        for status, name in errors.STATUS_NAMES.items():
            self.assertEqual(_ffi.lib.airs_strerror(status).decode(), name)
        self.assertEqual(_ffi.lib.airs_strerror(999), b"AIRS_UNKNOWN")


class ErrorTest(unittest.TestCase):

    def test_errcheck_raises_with_library_message(self):
        cfg = _ffi.ConfigP()
        _ffi.lib.airs_config_new(ctypes.byref(cfg))
        try:
            with self.assertRaises(airs.InvalidArgumentError) as cm:
                _ffi.lib.airs_config_set(cfg, 9999, 1)
            self.assertEqual(cm.exception.status, errors.EINVAL)
            self.assertEqual(cm.exception.status_name, "AIRS_EINVAL")
            self.assertIn("airs_config_set", cm.exception.detail)
            self.assertIsInstance(cm.exception, ValueError)
        finally:
            _ffi.lib.airs_config_free(cfg)

    def test_every_status_maps_to_its_class(self):
        expected = {
            errors.EINVAL: airs.InvalidArgumentError,
            errors.ENOMEM: airs.OutOfMemoryError,
            errors.ENOPROC: airs.NoProcessError,
            errors.EFULL: airs.MailboxFullError,
            errors.ETIMEDOUT: airs.TimeoutError,
            errors.EEXIST: airs.AlreadyExistsError,
            errors.ENOTFOUND: airs.NotFoundError,
            errors.ESTATE: airs.StateError,
            errors.ELIMIT: airs.LimitError,
            errors.EVERSION: airs.VersionError,
            errors.EINTERNAL: airs.InternalError,
            errors.EEXITED: airs.ProcessExitedError,
            errors.EAGAIN: airs.TryAgainError,
            errors.EOS: airs.SystemCallError,
        }
        for status, cls in expected.items():
            error = errors.error_for(status, "detail")
            self.assertIs(type(error), cls)
            self.assertIsInstance(error, airs.AirsError)
            self.assertEqual(error.status, status)
            self.assertEqual(str(error),
                             f"{errors.STATUS_NAMES[status]}: detail")
        self.assertTrue(issubclass(airs.TimeoutError, TimeoutError))
        self.assertTrue(issubclass(airs.NotFoundError, LookupError))
        self.assertTrue(issubclass(airs.ProcessExitedError,
                                   airs.NoProcessError))
        unknown = errors.error_for(77, "x")
        self.assertIs(type(unknown), airs.AirsError)
        self.assertEqual(unknown.status, 77)

    def test_fast_calls_raise_through_raise_status(self):
        # airs_ctx_send outside any callback: ESTATE with the message.
        status = _ffi.fast.airs_ctx_send(None, 1, 1, None, 0)
        self.assertEqual(status, errors.EINVAL)
        with self.assertRaises(airs.InvalidArgumentError) as cm:
            _ffi.raise_status(status)
        self.assertIn("airs_ctx_send", str(cm.exception))


if __name__ == "__main__":
    unittest.main()
