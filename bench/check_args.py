#!/usr/bin/env python3
"""Checks that airs-bench refuses bad arguments: exit status 2, the reason
and the usage on stderr, nothing on stdout (a script reading its JSON must
never see a half-made line); and that a small good run prints one line of
JSON with a finite ns_per_op (pingpong, and pingpong_timed).

  check_args.py BUILD/bench/airs-bench
"""
import json
import math
import subprocess
import sys

BAD = [
    [], ["nosuch"], ["pingpong", "abc"], ["pingpong", "0"], ["pingpong", "-5"],
    ["pingpong", "1e3"], ["pingpong", "10", "20"], ["spawn", "x"],
    ["fanin", "10", "0"], ["ring", "10", "5", "7"], ["pubsub", "", "10"],
    ["restart", "99999999999999999999"], ["idle", "-1"], ["idle", "nan"],
    ["starve", "10", "10", "10", "sideways"], ["echo", "0"],
    ["--workers", "2000", "pingpong", "10"], ["pingpong_timed", "0"],
]


def main():
    bench = sys.argv[1]
    failures = 0
    for args in BAD:
        try:
            r = subprocess.run([bench, *args], capture_output=True,
                               text=True, timeout=20)
        except subprocess.TimeoutExpired:
            failures += 1
            print(f"FAIL {args}: still running after 20 s (taken as a run)")
            continue
        ok = (r.returncode == 2 and r.stdout == "" and "usage:" in r.stderr)
        if not ok:
            failures += 1
            print(f"FAIL {args}: status {r.returncode}, stdout {r.stdout!r}, "
                  f"stderr {r.stderr!r}")
    good_runs = [["pingpong", "1000"], ["pingpong_timed", "1000"]]
    for args in good_runs:
        r = subprocess.run([bench, *args], capture_output=True, text=True,
                           timeout=60)
        lines = r.stdout.strip().splitlines()
        try:
            ns = json.loads(lines[-1])["ns_per_op"]
            good = r.returncode == 0 and math.isfinite(ns) and ns > 0
        except (IndexError, ValueError, KeyError):
            good = False
        if not good:
            failures += 1
            print(f"FAIL {' '.join(args)}: status {r.returncode}, "
                  f"{r.stdout!r}")
    print(f"{len(BAD) + len(good_runs) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
