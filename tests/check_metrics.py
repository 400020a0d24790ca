#!/usr/bin/env python3
"""Checks the runtime's metrics as Prometheus reads them: the exposition
that `observer --print-metrics` prints (examples/c/observer.c) must pass
`promtool check metrics` (Debian's prometheus package) with no complaint,
and hold the families observe.h promises. Then shows that the check can
fail: promtool must reject an edited copy with a sample line broken and a
counter family without its _total.

    check_metrics.py PROMTOOL OBSERVER"""
import re
import subprocess
import sys

promtool, observer = sys.argv[1], sys.argv[2]


def promtool_check(text):
    p = subprocess.run([promtool, "check", "metrics"], input=text,
                       capture_output=True, text=True)
    return p.returncode, (p.stdout + p.stderr).strip()


failures = []
text = subprocess.run([observer, "--print-metrics"], check=True,
                      capture_output=True, text=True, timeout=60).stdout
rc, said = promtool_check(text)
if rc != 0 or said:
    failures.append(f"promtool check metrics: exit {rc}: {said}")

families = {m.group(1): m.group(2) for m in
            re.finditer(r"^# TYPE (\S+) (\S+)$", text, re.M)}
for name, kind in [
        ("airs_processes", "gauge"),
        ("airs_processes_spawned_total", "counter"),
        ("airs_process_exits_total", "counter"),
        ("airs_messages_sent_total", "counter"),
        ("airs_messages_delivered_total", "counter"),
        ("airs_messages_dropped_total", "counter"),
        ("airs_dead_letters_total", "counter"),
        ("airs_supervisor_restarts_total", "counter"),
        ("airs_supervisor_intensity_reached_total", "counter"),
        ("airs_worker_busy_seconds_total", "counter"),
        ("airs_worker_steals_total", "counter"),
        ("airs_blocking_pool_threads", "gauge"),
        ("airs_blocking_pool_queued", "gauge"),
        ("airs_sockets_open", "gauge"),
        ("airs_timing_names_refused_total", "counter"),
        ("airs_process_mailbox_wait_seconds", "histogram"),
        ("airs_process_processing_seconds", "histogram"),
        ("airs_process_mailbox_wait_unmeasured_total", "counter")]:
    if families.get(name) != kind:
        failures.append(f"family {name}: want {kind}, got {families.get(name)}")
# The example's flaky child crashed and was restarted at least once.
m = re.search(r'^airs_process_exits_total\{reason="error"\} (\d+)$', text,
              re.M)
if not m or int(m.group(1)) < 1:
    failures.append("no error exit counted (flaky crashes every 200 ms)")
m = re.search(r"^airs_supervisor_restarts_total (\d+)$", text, re.M)
if not m or int(m.group(1)) < 1:
    failures.append("no restart counted")
# "db" is timed (airs_timing_track): its histograms are consistent, the
# +Inf bucket being the count, and the buckets never decreasing.
for family in ("airs_process_mailbox_wait_seconds",
               "airs_process_processing_seconds"):
    buckets = [int(v) for v in re.findall(
        r'^%s_bucket\{name="db",le="[^"]+"\} (\d+)$' % family, text, re.M)]
    count = re.search(r'^%s_count\{name="db"\} (\d+)$' % family, text,
                      re.M)
    if len(buckets) != 13 or not count:
        failures.append(f"{family}: no series for db")
    elif buckets != sorted(buckets) or buckets[-1] != int(count.group(1)) \
            or buckets[-1] < 1:
        failures.append(f"{family}: buckets {buckets}, count "
                        f"{count.group(1)}")

broken = text.replace("airs_processes ", "airs_processes{ ", 1)
rc, said = promtool_check(broken)
if rc == 0:
    failures.append("promtool accepted a broken sample line")
renamed = text.replace("airs_messages_sent_total", "airs_messages_sent")
rc, said = promtool_check(renamed)
if rc == 0 and "_total" not in said:
    failures.append("promtool said nothing of a counter without _total")

for f in failures:
    print(f)
print(f"{0 if failures else 1} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
