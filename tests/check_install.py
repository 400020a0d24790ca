#!/usr/bin/env python3
"""Installs the build into a scratch folder (meson install --destdir),
checks that every file meson says it installs (meson introspect
--installed) is there and nothing else is, LICENSE under share/doc/airs
among them, then compiles a C file that includes <airs/airs.h> against the installed
headers only: a header that airs.h includes but the install leaves out
(net.h once was) fails here. Then links a C program against the installed
libairs.a with what `pkg-config --static --libs airs` gives, and runs it
(airs.pc once lacked the C++ runtime: undefined __cxa_begin_catch).
Usage: check_install.py BUILD_DIR CC [SANITIZE] (b_sanitize of the build:
a sanitized libairs.a links only with the same -fsanitize)"""
import glob
import json
import os
import subprocess
import sys
import tempfile

build, cc = sys.argv[1], sys.argv[2]
sanitize = sys.argv[3] if len(sys.argv) > 3 else "none"
sanitize_flags = [] if sanitize == "none" else ["-fsanitize=" + sanitize]
with tempfile.TemporaryDirectory() as dest:
    subprocess.run(["meson", "install", "-C", build, "--destdir", dest,
                    "--no-rebuild", "--quiet"], check=True,
                   stdout=subprocess.DEVNULL)

    # Every file meson installs, where it says. A folder (install_subdir:
    # the Python package) counts file by file, as its source has them.
    installed = json.loads(subprocess.run(
        ["meson", "introspect", "--installed", build], check=True,
        capture_output=True, text=True).stdout)
    expected = set()
    for source, target in installed.items():
        staged = dest + target
        if os.path.isdir(source) and not os.path.islink(source):
            for folder, dirs, files in os.walk(source):
                dirs[:] = [d for d in dirs if d != "__pycache__"]
                for f in files:
                    rel = os.path.relpath(os.path.join(folder, f), source)
                    expected.add(os.path.join(staged, rel))
        else:
            expected.add(staged)
    missing = sorted(p for p in expected if not os.path.lexists(p))
    if missing:
        sys.exit("meson install left out:\n  " + "\n  ".join(missing))
    extra = []
    for folder, dirs, files in os.walk(dest):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for f in files:
            p = os.path.join(folder, f)
            if p not in expected:
                extra.append(p)
    if extra:
        sys.exit("meson install put files it does not list:\n  " +
                 "\n  ".join(sorted(extra)))
    if not any(t.endswith("/share/doc/airs/LICENSE")
               for t in installed.values()):
        sys.exit("LICENSE is not installed to share/doc/airs: " +
                 ", ".join(sorted(installed.values())))
    print(f"meson install: all {len(expected)} files it lists, LICENSE "
          "in share/doc/airs")
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

    # A static link, as a user would write it: the archive by path (the
    # folder has libairs.so too), the rest from pkg-config --static.
    pcs = glob.glob(os.path.join(dest, "**", "pkgconfig", "airs.pc"),
                    recursive=True)
    archives = glob.glob(os.path.join(dest, "**", "libairs.a"),
                         recursive=True)
    if len(pcs) != 1 or len(archives) != 1:
        sys.exit(f"installed airs.pc {pcs}, libairs.a {archives}")
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.dirname(pcs[0]))
    flags = subprocess.run(["pkg-config", "--static", "--libs", "airs"],
                           env=env, capture_output=True, text=True,
                           check=True).stdout.split()
    others = [f for f in flags if f != "-lairs" and not f.startswith("-L")]
    prog = os.path.join(dest, "use_static")
    with open(src, "w") as f:
        f.write("#include <airs/airs.h>\n"
                "int main(void) {\n"
                "  airs_runtime* rt = NULL;\n"
                "  if (airs_runtime_new(NULL, &rt) != AIRS_OK) return 1;\n"
                "  airs_runtime_free(rt);\n"
                "  return 0;\n"
                "}\n")
    r = subprocess.run([cc, "-std=c99", *sanitize_flags, "-I", include, src,
                        archives[0], *others, "-o", prog],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("a static link with pkg-config --static fails:\n" +
                 " ".join(others) + "\n" + r.stderr)
    r = subprocess.run([prog], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        sys.exit(f"the statically linked program failed: {r.returncode} "
                 f"{r.stderr}")
    print("static link with", " ".join(others), "runs")
