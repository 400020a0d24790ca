"""``python -m airs.top URL``: the busiest processes of a running program,
in the terminal, from its observer endpoint (``Runtime.open_observer`` or
``airs_observer_open`` in C): what observer_cli is to an Erlang node.

    python -m airs.top http://127.0.0.1:8080/ [--sort rate|mailbox|memory]
                       [--count N] [--interval S] [--once]

Every interval it reads /api/processes and /metrics and redraws a table:
each process's pid, name (or label), state, mailbox depth, messages per
second (from the change in its handled count) and memory, sorted as asked,
under the runtime's totals. --once prints one table (after one interval,
so that rates mean something) and exits. Only the standard library: no
curses, plain ANSI to clear the screen.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request
from typing import Dict, List, Optional, Tuple

CLEAR = "\x1b[H\x1b[2J"


def fetch(url: str, path: str, timeout: float = 5.0) -> bytes:
    with urllib.request.urlopen(url.rstrip("/") + path,
                                timeout=timeout) as reply:
        return reply.read()


def metric(text: str, name: str) -> Optional[float]:
    """A sample without labels, or the sum of a family's labelled ones."""
    total = None
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total = (total or 0) + float(line.rsplit(" ", 1)[1])
    return total


def snapshot(url: str) -> Tuple[List[dict], str, float]:
    procs = json.loads(fetch(url, "/api/processes?limit=100000"))
    return procs["processes"], fetch(url, "/metrics").decode(), time.monotonic()


def table(procs: List[dict], before: Dict[str, int], seconds: float,
          metrics: str, sort: str, count: int) -> str:
    rows = []
    for p in procs:
        handled = p["handled"]
        rate = (handled - before[p["pid"]]) / seconds if (
            p["pid"] in before and seconds > 0) else 0.0
        rows.append((p, max(rate, 0.0)))
    key = {"rate": lambda r: (r[1], r[0]["mailbox"]),
           "mailbox": lambda r: (r[0]["mailbox"], r[1]),
           "memory": lambda r: (r[0]["memory"], r[1])}[sort]
    rows.sort(key=key, reverse=True)
    totals = [("processes", "airs_processes"),
              ("restarts", "airs_supervisor_restarts_total"),
              ("dead letters", "airs_dead_letters_total"),
              ("messages", "airs_messages_delivered_total")]
    head = "  ".join(f"{label} {int(metric(metrics, name) or 0)}"
                     for label, name in totals)
    lines = [head, "",
             f"{'PID':<18} {'NAME':<24} {'STATE':<9} {'MAILBOX':>8} "
             f"{'MSGS/S':>9} {'MEMORY':>8}"]
    for p, rate in rows[:count]:
        name = p["name"] or p["label"]
        lines.append(f"{p['pid']:<18} {name[:24]:<24} {p['state']:<9} "
                     f"{p['mailbox']:>8} {rate:>9.0f} {p['memory']:>8}")
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m airs.top",
        description="The busiest processes of a runtime, from its observer "
                    "endpoint.")
    parser.add_argument("url", help="the observer endpoint, http://host:port/")
    parser.add_argument("--sort", choices=("rate", "mailbox", "memory"),
                        default="rate")
    parser.add_argument("--count", type=int, default=20,
                        help="rows to show (20)")
    parser.add_argument("--interval", type=float, default=1.0,
                        help="seconds between refreshes (1)")
    parser.add_argument("--once", action="store_true",
                        help="print one table and exit")
    args = parser.parse_args(argv)
    try:
        procs, metrics, at = snapshot(args.url)
        while True:
            time.sleep(args.interval)
            before = {p["pid"]: p["handled"] for p in procs}
            procs, metrics, now = snapshot(args.url)
            text = table(procs, before, now - at, metrics, args.sort,
                         args.count)
            at = now
            if args.once:
                print(text)
                return 0
            sys.stdout.write(CLEAR + text + "\n")
            sys.stdout.flush()
    except KeyboardInterrupt:
        return 0
    except OSError as e:
        print(f"airs.top: {args.url}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
