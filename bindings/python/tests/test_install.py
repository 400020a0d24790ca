"""The package as a user installs it, away from the source tree.

The build is installed into a scratch folder (meson install --destdir),
and every check runs a fresh interpreter there, without AIRS_LIBRARY:

- the package meson installed finds the library through the dynamic
  loader (LD_LIBRARY_PATH), and not a stray build/libairs.so.0 above
  site-packages;
- without the loader's help, through pkg-config (PKG_CONFIG_PATH);
- with neither, it fails with a message that says what to do;
- `pip install --no-build-isolation --no-index` of the package into a
  fresh venv works offline, and that copy runs.

Usage (meson does it): test_install.py BUILD_DIR
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import support  # noqa: F401

BUILD = None
PACKAGE_SOURCE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Imports the package, runs one call through a Python actor, and prints
# where the package and the library came from.
PROBE = r"""
import airs

class Echo(airs.Actor):
    def receive(self, message):
        self.reply(message)

with airs.Runtime(1) as rt:
    assert rt.call(rt.spawn(Echo), "hi") == "hi"
print(airs.__file__)
print(airs.library_path)
"""


def setUpModule():
    global DEST, SITE, LIBDIR, PKGCONFIG
    DEST = tempfile.mkdtemp(prefix="airs-install-")
    subprocess.run(["meson", "install", "-C", BUILD, "--destdir", DEST,
                    "--no-rebuild", "--quiet"], check=True,
                   stdout=subprocess.DEVNULL)
    inits = glob.glob(os.path.join(DEST, "**", "airs", "__init__.py"),
                      recursive=True)
    libs = glob.glob(os.path.join(DEST, "**", "libairs.so.0"),
                     recursive=True)
    pcs = glob.glob(os.path.join(DEST, "**", "pkgconfig", "airs.pc"),
                    recursive=True)
    if len(inits) != 1 or len(libs) != 1 or len(pcs) != 1:
        raise RuntimeError(f"meson install gave packages {inits}, "
                           f"libraries {libs}, pkg-config files {pcs}")
    SITE = os.path.dirname(os.path.dirname(inits[0]))
    LIBDIR = os.path.dirname(libs[0])
    PKGCONFIG = os.path.dirname(pcs[0])


def tearDownModule():
    shutil.rmtree(DEST, ignore_errors=True)


def clean_env(**extra):
    """The environment of a user's shell: no AIRS_LIBRARY, no PYTHONPATH,
    no library paths or sanitizer preloads of the test run."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("AIRS_LIBRARY", "PYTHONPATH", "LD_LIBRARY_PATH",
                        "PKG_CONFIG_PATH", "LD_PRELOAD")}
    if "LD_PRELOAD" in os.environ:  # a sanitized build needs its runtime
        env["LD_PRELOAD"] = os.environ["LD_PRELOAD"]
    env.update(extra)
    return env


def run(python, env, cwd=None):
    return subprocess.run([python, "-c", PROBE], env=env, cwd=cwd or DEST,
                          capture_output=True, text=True, timeout=120)


class MesonInstallTest(unittest.TestCase):

    def test_found_by_the_dynamic_loader(self):
        # A stray build tree above site-packages, holding a loadable
        # library: an installed package must not take it.
        stray = os.path.join(os.path.dirname(SITE), "build")
        os.makedirs(stray, exist_ok=True)
        shutil.copy(os.path.join(LIBDIR, "libairs.so.0"), stray)
        try:
            r = run(sys.executable,
                    clean_env(PYTHONPATH=SITE, LD_LIBRARY_PATH=LIBDIR))
        finally:
            shutil.rmtree(stray)
        self.assertEqual(r.returncode, 0, r.stderr)
        package, library = r.stdout.split()
        self.assertTrue(package.startswith(SITE), package)
        self.assertEqual(library, "libairs.so.0")

    def test_found_through_pkg_config(self):
        r = run(sys.executable,
                clean_env(PYTHONPATH=SITE, PKG_CONFIG_PATH=PKGCONFIG))
        self.assertEqual(r.returncode, 0, r.stderr)
        library = r.stdout.split()[1]
        self.assertEqual(os.path.realpath(library),
                         os.path.realpath(os.path.join(LIBDIR,
                                                       "libairs.so.0")))

    def test_not_found_says_what_to_do(self):
        r = run(sys.executable, clean_env(PYTHONPATH=SITE))
        installed = subprocess.run(
            [sys.executable, "-c",
             "import ctypes.util; print(ctypes.util.find_library('airs'))"],
            env=clean_env(), capture_output=True, text=True).stdout.strip()
        if installed != "None":  # libairs is installed on this machine
            self.assertEqual(r.returncode, 0, r.stderr)
            return
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("LibraryNotFoundError", r.stderr)
        self.assertIn("AIRS_LIBRARY", r.stderr)
        self.assertIn("pkg-config", r.stderr)


def python_with_setuptools():
    """An interpreter whose venvs can build the package offline: this one,
    or Debian's, with setuptools and wheel (python3-setuptools,
    python3-wheel) to see through --system-site-packages."""
    for python in (sys.executable, "/usr/bin/python3"):
        if os.path.exists(python) and subprocess.run(
                [python, "-c", "import setuptools, wheel, venv, ensurepip"],
                capture_output=True).returncode == 0:
            return python
    raise RuntimeError("no Python with venv, setuptools and wheel: "
                       "apt-get install python3-venv python3-setuptools "
                       "python3-wheel (./dev does)")


class PipInstallTest(unittest.TestCase):

    def test_pip_install_offline_into_a_venv(self):
        python = python_with_setuptools()
        work = tempfile.mkdtemp(prefix="airs-pip-")
        try:
            # A copy: setuptools writes build/ and *.egg-info beside it.
            src = os.path.join(work, "src")
            shutil.copytree(PACKAGE_SOURCE, src, ignore=shutil.ignore_patterns(
                "tests", "benchmarks", "__pycache__"))
            venv = os.path.join(work, "venv")
            subprocess.run([python, "-m", "venv", "--system-site-packages",
                            venv], check=True, capture_output=True)
            pip = subprocess.run(
                [os.path.join(venv, "bin", "pip"), "install", "--quiet",
                 "--no-build-isolation", "--no-index", src],
                env=clean_env(), capture_output=True, text=True, timeout=300)
            self.assertEqual(pip.returncode, 0, pip.stdout + pip.stderr)
            r = run(os.path.join(venv, "bin", "python"),
                    clean_env(LD_LIBRARY_PATH=LIBDIR), cwd=work)
            self.assertEqual(r.returncode, 0, r.stderr)
            package = r.stdout.split()[0]
            self.assertTrue(package.startswith(venv), package)
            for name in ("py.typed", os.path.join("osl", "__init__.py")):
                self.assertTrue(os.path.isfile(os.path.join(
                    os.path.dirname(package), name)), name)
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    BUILD = sys.argv.pop(1)
    unittest.main()
