#!/usr/bin/env python3
"""Compiles one C++ user of airs.hpp at test time.

  check_compile.py fail CXX STD INCLUDE_DIR SOURCE EXPECTED
      passes only if the compile FAILS and the compiler's output contains
      EXPECTED (so that it failed for the reason the test is about).
  check_compile.py run CXX STD BUILD_DIR SOURCE [FLAG...]
      installs BUILD_DIR into a scratch folder (meson install --destdir),
      compiles SOURCE against the installed headers and library only, with
      -Wall -Wextra -Werror -pedantic and any FLAGs, and runs it: passes if
      it compiles, links and exits 0.
"""
import glob
import os
import subprocess
import sys
import tempfile


def compile_fail(cxx, std, include, source, expected):
    cmd = [cxx, "-std=" + std, "-fsyntax-only", "-I", include, source]
    r = subprocess.run(cmd, capture_output=True, text=True)
    out = r.stdout + r.stderr
    if r.returncode == 0:
        sys.exit(f"{source} compiled with {std}, but must not:\n"
                 + " ".join(cmd))
    if expected not in out:
        sys.exit(f"{source} failed to compile with {std}, but not with "
                 f"the expected error {expected!r}:\n{out}")
    print(f"{os.path.basename(source)} ({std}): fails as expected: "
          f"{expected!r}")


def compile_run(cxx, std, build, source, flags):
    with tempfile.TemporaryDirectory() as dest:
        subprocess.run(["meson", "install", "-C", build, "--destdir", dest,
                        "--no-rebuild", "--quiet"], check=True,
                       stdout=subprocess.DEVNULL)
        hpp = glob.glob(os.path.join(dest, "**", "airs", "airs.hpp"),
                        recursive=True)
        lib = glob.glob(os.path.join(dest, "**", "libairs.so"),
                        recursive=True)
        if len(hpp) != 1 or len(lib) != 1:
            sys.exit(f"installed airs.hpp: {hpp}, libairs.so: {lib}")
        include = os.path.dirname(os.path.dirname(hpp[0]))
        libdir = os.path.dirname(lib[0])
        exe = os.path.join(dest, "user")
        # Only the installed files: no -I or -L into the source or build.
        cmd = [cxx, "-std=" + std, "-Wall", "-Wextra", "-Werror",
               "-pedantic", *flags, "-I", include, source, "-o", exe,
               "-L", libdir, "-lairs", "-Wl,-rpath," + libdir, "-pthread"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"{source} does not compile with {std}:\n"
                     + " ".join(cmd) + "\n" + r.stderr)
        r = subprocess.run([exe], capture_output=True, text=True, timeout=60)
        sys.stdout.write(r.stdout)
        sys.stderr.write(r.stderr)
        if r.returncode != 0:
            sys.exit(f"{source} ({std}) exited with {r.returncode}")
        print(f"{os.path.basename(source)} ({std}): compiled against the "
              "installed headers and library, ran, exited 0")


if __name__ == "__main__":
    mode, cxx, std, where, source = sys.argv[1:6]
    if mode == "fail":
        compile_fail(cxx, std, where, source, sys.argv[6])
    elif mode == "run":
        compile_run(cxx, std, where, source, sys.argv[6:])
    else:
        sys.exit("usage: check_compile.py fail|run ...")
