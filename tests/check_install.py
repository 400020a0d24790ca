#!/usr/bin/env python3
"""Installs the build into a scratch folder (meson install --destdir) and
compiles a C file that includes <airs/airs.h> against the installed
headers only: a header that airs.h includes but the install leaves out
(net.h once was) fails here. Usage: check_install.py BUILD_DIR CC"""
import glob
import os
import subprocess
import sys
import tempfile

build, cc = sys.argv[1], sys.argv[2]
with tempfile.TemporaryDirectory() as dest:
    subprocess.run(["meson", "install", "-C", build, "--destdir", dest,
                    "--no-rebuild", "--quiet"], check=True,
                   stdout=subprocess.DEVNULL)
    found = glob.glob(os.path.join(dest, "**", "airs", "airs.h"),
                      recursive=True)
    if len(found) != 1:
        sys.exit(f"installed airs.h: {found}")
    include = os.path.dirname(os.path.dirname(found[0]))
    src = os.path.join(dest, "use.c")
    with open(src, "w") as f:
        f.write("#include <airs/airs.h>\n"
                "int main(void) { return airs_version() == 0; }\n")
    # Only the installed headers: no -I into the source tree.
    r = subprocess.run([cc, "-std=c99", "-Wall", "-Werror", "-fsyntax-only",
                        "-I", include, src], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("the installed headers do not compile:\n" + r.stderr)
    print("installed headers compile:",
          sorted(os.listdir(os.path.dirname(found[0]))))
