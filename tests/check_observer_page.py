#!/usr/bin/env python3
"""The observer page in a real browser: starts `observer --serve`
(examples/c/observer.c: a small tree with the observer endpoint on a free
loopback port), loads its page in headless Chromium (Debian's chromium)
and checks the DOM the page's script built: it refreshed more than once,
every node of the tree is there with its mailbox and a message rate, the
busy workers have a rate above 0, and the totals are numbers (restarts:
the flaky child restarts 5 times a second). Keeps a screenshot of the page
at SCREENSHOT.

    check_observer_page.py CHROMIUM OBSERVER SCREENSHOT"""
import html
import os
import re
import subprocess
import sys

chromium, observer, screenshot = sys.argv[1:4]
# --no-sandbox: CI runs as root; --disable-dev-shm-usage: a container's
# /dev/shm may be too small for the renderer.
BROWSER = [chromium, "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-dev-shm-usage", "--hide-scrollbars", "--no-first-run",
           "--disable-extensions",
           # The page refreshes every second: virtual time runs those
           # refreshes without waiting for them in real time.
           "--virtual-time-budget=5000"]

failures = []
server = subprocess.Popen([observer, "--serve", "60"], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True)
try:
    line = server.stdout.readline()
    m = re.match(r"observer: (http://\S+/)$", line.strip())
    if not m:
        sys.exit(f"observer did not say where it listens: {line!r}")
    url = m.group(1)
    env = dict(os.environ, HOME=os.path.dirname(os.path.abspath(screenshot)))
    dom = subprocess.run(BROWSER + ["--dump-dom", url], capture_output=True,
                         text=True, timeout=120, env=env).stdout
    subprocess.run(BROWSER + ["--window-size=1000,760",
                              f"--screenshot={screenshot}", url],
                   capture_output=True, timeout=120, env=env)
finally:
    server.kill()
    server.wait()


def number(element_id):
    m = re.search(rf'id="{element_id}">(-?\d+)<', dom)
    return int(m.group(1)) if m else None


refreshes = number("refreshes")
if refreshes is None or refreshes < 2:
    failures.append(f"the page refreshed {refreshes} times (want 2 or more)")
nodes = {}
for m in re.finditer(r'<li class="(sup|worker)" data-id="([^"]*)" '
                     r'data-pid="([^"]*)" data-mailbox="(\d+)" '
                     r'data-rate="(\d+)"', dom):
    nodes[m.group(2)] = (m.group(1), html.unescape(m.group(3)),
                         int(m.group(4)), int(m.group(5)))
for node, kind in [("root", "sup"), ("db", "worker"), ("jobs", "sup"),
                   ("job-1", "worker"), ("job-2", "worker"),
                   ("job-3", "worker"), ("flaky", "worker")]:
    if node not in nodes:
        failures.append(f"no node {node} in the tree")
    elif nodes[node][0] != kind:
        failures.append(f"node {node} is a {nodes[node][0]}, not a {kind}")
    elif not re.fullmatch(r"<\d+\.\d+\.\d+>", nodes[node][1]):
        failures.append(f"node {node} has pid {nodes[node][1]!r}")
for busy in ["db", "job-1"]:
    if busy in nodes and nodes[busy][3] <= 0:
        failures.append(f"{busy} shows no message rate")
for total in ["processes", "restarts", "dead-letters", "messages"]:
    if number(total) is None:
        failures.append(f"#{total} is not a number")
if (number("processes") or 0) < 8:
    failures.append(f"{number('processes')} processes (the tree has 7, and "
                    "the observer)")
rows = re.findall(r'<tr data-pid="([^"]*)">', dom)
if len(rows) < 8:
    failures.append(f"{len(rows)} rows of busiest processes (want 8)")
if not os.path.exists(screenshot) or os.path.getsize(screenshot) < 1000:
    failures.append("no screenshot")

for f in failures:
    print(f)
print(f"{0 if failures else 1} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
