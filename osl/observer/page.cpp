// page.cpp - the observer's page: one HTML file with its style and script,
// no other file and nothing from elsewhere. The script asks the endpoint
// for /api/tree, /api/processes and /metrics every second and redraws:
// the totals, each supervision tree (with each process's mailbox and its
// message rate, from the change in its handled count since the last
// refresh), and the busiest processes.
//
// What the DOM holds, for tools and tests: #refreshes (refreshes so far),
// #processes, #restarts, #dead-letters, #messages (totals), #tree (one
// li per node with data-id, data-pid, data-mailbox, data-rate) and #top
// (one tr per process with data-pid).

namespace airs::osl {

const char* observer_page() {
  return R"PAGE(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>airs observer</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; margin: 0 0 .5em; }
h2 { font-size: 1.05em; margin: 1.2em 0 .4em; }
.totals span { display: inline-block; margin-right: 1.5em; }
.totals b { font-variant-numeric: tabular-nums; }
ul { list-style: none; padding-left: 1.2em; margin: 0; }
#tree > ul { padding-left: 0; }
li { padding: 1px 0; }
.sup > .id { font-weight: 600; }
.pid { color: #777; font-family: monospace; margin: 0 .4em; }
.num { font-variant-numeric: tabular-nums; color: #035; margin-left: .6em; }
.hot { color: #b00; }
.gone { color: #999; font-style: italic; }
table { border-collapse: collapse; }
td, th { padding: 2px 10px; text-align: left; }
th { border-bottom: 1px solid #ccc; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
#status { color: #777; }
</style>
</head>
<body>
<h1>airs observer</h1>
<div class="totals">
<span>processes <b id="processes">-</b></span>
<span>messages/s <b id="messages">-</b></span>
<span>restarts <b id="restarts">-</b></span>
<span>dead letters <b id="dead-letters">-</b></span>
<span id="status">refreshes <b id="refreshes">0</b></span>
</div>
<h2>Supervision trees</h2>
<div id="tree"></div>
<h2>Busiest processes</h2>
<table><thead><tr><th>pid</th><th>name</th><th>state</th>
<th>mailbox</th><th>msgs/s</th><th>handled</th></tr></thead>
<tbody id="top"></tbody></table>
<script>
"use strict";
let last = null;          // {time, handled: Map pid -> count, delivered}
const $ = (id) => document.getElementById(id);

function metric(text, name, label) {
  const want = label ? name + "{" + label + "}" : name;
  for (const line of text.split("\n"))
    if (line.startsWith(want + " ")) return Number(line.slice(want.length + 1));
  return 0;
}

function sumMetric(text, name) {
  let sum = 0;
  for (const line of text.split("\n"))
    if (line.startsWith(name + "{")) sum += Number(line.split(" ").pop());
  return sum;
}

function rateOf(pid, handled, now) {
  if (!last || !last.handled.has(pid)) return 0;
  const dt = (now - last.time) / 1000;
  return dt > 0 ? Math.max(0, (handled - last.handled.get(pid)) / dt) : 0;
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function drawTree(nodes, now) {
  const root = el("ul");
  const stack = [root];
  for (const n of nodes) {
    stack.length = n.depth + 1;
    const li = el("li", n.type === "supervisor" ? "sup" : "worker");
    const rate = rateOf(n.pid, n.handled, now);
    li.dataset.id = n.depth === 0 ? (n.name || n.label || "root") : n.id;
    li.dataset.pid = n.pid;
    li.dataset.mailbox = n.mailbox;
    li.dataset.rate = Math.round(rate);
    li.append(el("span", "id", li.dataset.id));
    li.append(el("span", "pid", n.pid));
    if (n.name && n.depth > 0) li.append(el("span", "", "registered as " + n.name));
    if (n.state === "gone") {
      li.append(el("span", "gone", n.child_state));
    } else {
      li.append(el("span", "num" + (n.mailbox > 100 ? " hot" : ""),
                   "mailbox " + n.mailbox));
      li.append(el("span", "num", Math.round(rate) + " msgs/s"));
    }
    const parent = stack[n.depth] || root;
    parent.append(li);
    const children = el("ul");
    li.append(children);
    stack[n.depth + 1] = children;
  }
  $("tree").replaceChildren(root);
}

function drawTop(procs, now) {
  const rows = procs.map((p) => ({...p, rate: rateOf(p.pid, p.handled, now)}));
  rows.sort((a, b) => b.rate - a.rate || b.mailbox - a.mailbox);
  const body = $("top");
  body.replaceChildren();
  for (const p of rows.slice(0, 15)) {
    const tr = el("tr");
    tr.dataset.pid = p.pid;
    tr.append(el("td", "", p.pid), el("td", "", p.name || p.label),
              el("td", "", p.state), el("td", "n", p.mailbox),
              el("td", "n", Math.round(p.rate)), el("td", "n", p.handled));
    body.append(tr);
  }
}

async function refresh() {
  try {
    const [tree, procs, text] = await Promise.all([
      fetch("/api/tree").then((r) => r.json()),
      fetch("/api/processes").then((r) => r.json()),
      fetch("/metrics").then((r) => r.text())]);
    const now = performance.now();
    drawTree(tree.trees, now);
    drawTop(procs.processes, now);
    const delivered = metric(text, "airs_messages_delivered_total");
    $("processes").textContent = metric(text, "airs_processes");
    $("restarts").textContent = metric(text, "airs_supervisor_restarts_total");
    $("dead-letters").textContent = sumMetric(text, "airs_dead_letters_total");
    if (last) {
      const dt = (now - last.time) / 1000;
      $("messages").textContent = Math.round((delivered - last.delivered) / dt);
    }
    const handled = new Map();
    for (const p of procs.processes) handled.set(p.pid, p.handled);
    for (const n of tree.trees) handled.set(n.pid, n.handled);
    last = {time: now, handled, delivered};
    $("refreshes").textContent = Number($("refreshes").textContent) + 1;
  } catch (e) {
    $("status").textContent = "cannot reach the runtime: " + e;
  }
}

refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
)PAGE";
}

}  // namespace airs::osl
