#!/usr/bin/env python3
"""Uses the source tree as a meson subproject, as a parent project would
(subprojects/airssys-rt, here a symlink to the source root): the parent
calls subproject() with the tests, examples, benchmarks and the node
library off, then dependency('airs'), which must be the subproject's own
library (meson.override_dependency in meson.build), not an airs.pc found
on the machine. A C program built against it creates and frees a runtime
and checks that the library's version is the headers' and the project's.
Usage: check_subproject.py SOURCE_ROOT VERSION CC CXX (CC and CXX: the
compilers of this build, so the parent's build uses the same ones)"""
import os
import subprocess
import sys
import tempfile

source, version, cc, cxx = sys.argv[1:5]

PARENT = """project('parent', 'c', meson_version : '>= 1.0.0')
sub = subproject('airssys-rt', default_options : ['tests=false',
  'examples=false', 'bench=false', 'node=disabled'])
airs = dependency('airs')
# 'internal': the subproject's declare_dependency, not a pkg-config one.
if airs.type_name() != 'internal'
  error('dependency(\\'airs\\') is not the subproject\\'s: ' + airs.type_name())
endif
executable('use', 'use.c', dependencies : airs)
"""

USE = """#include <airs/airs.h>
#include <stdio.h>

int main(void) {
  airs_runtime* rt = NULL;
  if (airs_runtime_new(NULL, &rt) != AIRS_OK) return 1;
  airs_runtime_free(rt);
  if (airs_version() != AIRS_VERSION_NUMBER) return 2;
  printf("%s\\n", airs_version_string());
  return 0;
}
"""


def run(args, **kw):
    r = subprocess.run(args, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({r.returncode}):\n"
                 f"{r.stdout[-4000:]}\n{r.stderr[-4000:]}")
    return r


with tempfile.TemporaryDirectory() as tmp:
    os.mkdir(os.path.join(tmp, "subprojects"))
    os.symlink(os.path.abspath(source),
               os.path.join(tmp, "subprojects", "airssys-rt"))
    with open(os.path.join(tmp, "meson.build"), "w") as f:
        f.write(PARENT)
    with open(os.path.join(tmp, "use.c"), "w") as f:
        f.write(USE)
    build = os.path.join(tmp, "build")
    env = dict(os.environ, CC=cc, CXX=cxx)
    run(["meson", "setup", build, tmp], env=env)
    # Two jobs at most: the machine is shared with the rest of the suite.
    run(["meson", "compile", "-C", build, "-j", "2"], env=env)
    r = run([os.path.join(build, "use")], timeout=60)
    if r.stdout.strip() != version:
        sys.exit(f"the program printed {r.stdout.strip()!r}, "
                 f"the project is {version}")
    print("dependency('airs') from the subproject: built, ran, version",
          version)
