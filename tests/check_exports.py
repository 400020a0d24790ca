#!/usr/bin/env python3
"""Checks that a shared library exports only airs_* symbols (DESIGN.md §3,
rule 7) and that it exports the functions its headers declare.

    check_exports.py LIB [HEADER ...]

With no HEADER, the headers are every one of include/airs/ but those of
the other libraries (OTHER_LIBRARIES); with some, exactly those."""
import os
import re
import subprocess
import sys

lib = sys.argv[1]
out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                     capture_output=True, text=True).stdout
names = [line.split()[-1] for line in out.splitlines() if line.strip()]
names = [n.split("@")[0] for n in names]
foreign = [n for n in names if not n.startswith("airs_")]
include = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                       "include", "airs")
# Headers of libraries of their own, not of libairs.
OTHER_LIBRARIES = {"node.h"}  # libairs_node
headers = sys.argv[2:] or [h for h in sorted(os.listdir(include))
                           if h.endswith(".h") and h not in OTHER_LIBRARIES]
declared = set()
for header in headers:
    if header.endswith(".h"):
        text = open(os.path.join(include, header)).read()
        declared |= set(re.findall(r"AIRS_API\s+[^;(]*?\b(airs_\w+)\s*\(", text))
missing = sorted(declared - set(names))
print(f"{len(names)} exported symbols, {len(declared)} declared in include/airs/")
if foreign:
    print("exported symbols without the airs_ prefix:", *foreign[:20], sep="\n  ")
if missing:
    print("declared but not exported:", *missing, sep="\n  ")
if not declared:
    print("found no AIRS_API declarations in", include)
ok = not foreign and not missing and declared
print("1 passed, 0 failed" if ok else "0 passed, 1 failed")
sys.exit(0 if ok else 1)
