#!/usr/bin/env python3
"""The docs test: runs Doxygen on the public headers (the Doxyfile of the
`docs` target, output to a scratch folder) and fails if it warned.

usage: check_docs.py DOXYGEN DOXYFILE
"""
import subprocess
import sys
import tempfile
from pathlib import Path

doxygen, doxyfile = sys.argv[1:3]
with tempfile.TemporaryDirectory(prefix="airs-docs.") as tmp:
    log = Path(tmp) / "warnings.log"
    # Later settings override earlier ones: the same Doxyfile, elsewhere.
    config = Path(doxyfile).read_text() + (
        f'\nOUTPUT_DIRECTORY = "{tmp}"\nWARN_LOGFILE = "{log}"\n')
    run = subprocess.run([doxygen, "-"], input=config, text=True,
                         capture_output=True)
    warnings = log.read_text() if log.exists() else ""
    index = Path(tmp) / "html" / "index.html"
    if run.returncode != 0 or warnings.strip() or not index.exists():
        sys.stdout.write(run.stdout + run.stderr + warnings)
        print(f"doxygen: exit status {run.returncode}, "
              f"{len(warnings.splitlines())} warning line(s), "
              f"index.html {'made' if index.exists() else 'missing'}")
        sys.exit(1)
    pages = len(list((Path(tmp) / "html").glob("*.html")))
    print(f"doxygen: no warnings, {pages} HTML pages")
