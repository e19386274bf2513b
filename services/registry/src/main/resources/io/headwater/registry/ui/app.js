// The registry's web page: reads the registry API (/tasks ...) of the server that serves it, and
// sends the admin calls with the token typed in the header. No build step, no framework.
"use strict";

const REFRESH_MS = 2000;
const tokenInput = document.getElementById("token");
tokenInput.value = sessionStorage.getItem("headwater.token") || "";
tokenInput.addEventListener("change", () => sessionStorage.setItem("headwater.token", tokenInput.value));

let selected = decodeURIComponent((location.hash.match(/^#task=(.+)$/) || [])[1] || "");
let chart = null;
// What each table last showed: a table is redrawn only when its data changed, so a button does not
// vanish from under the pointer every refresh.
const shown = new Map();

function changed(key, data) {
  const text = JSON.stringify(data);
  if (shown.get(key) === text) return false;
  shown.set(key, text);
  return true;
}

function cell(row, text, cls) {
  const td = row.insertCell();
  td.textContent = text === undefined || text === null ? "" : String(text);
  if (cls) td.className = cls;
  return td;
}

function accuracy(x) {
  return typeof x === "number" ? x.toFixed(3) : "";
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

async function getJson(path) {
  const r = await fetch(path, {cache: "no-store"});
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.error || ("HTTP " + r.status));
  return body;
}

function renderTasks(tasks) {
  if (!changed("tasks", [tasks, selected])) return;
  const body = document.querySelector("#tasks tbody");
  body.replaceChildren();
  document.getElementById("no-tasks").hidden = tasks.length > 0;
  for (const t of tasks) {
    const row = body.insertRow();
    row.dataset.task = t.task;
    if (t.task === selected) row.classList.add("selected");
    cell(row, t.task);
    cell(row, "v" + t.version, "num");
    cell(row, t.headType);
    cell(row, accuracy(t.windowedAccuracy), "num");
    cell(row, t.examplesLearned, "num");
    cell(row, t.origin);
    cell(row, t.paused ? "paused" : t.pinnedVersion > 0 ? "pinned v" + t.pinnedVersion : "live");
    cell(row, when(t.createdAt));
    row.addEventListener("click", () => select(t.task));
  }
}

function renderVersions(versions) {
  if (!changed("versions", [selected, versions])) return;
  const body = document.querySelector("#versions tbody");
  body.replaceChildren();
  for (const v of [...versions].reverse()) {
    const row = body.insertRow();
    row.dataset.version = v.version;
    cell(row, "v" + v.version, "num");
    cell(row, v.parentVersion > 0 ? "v" + v.parentVersion : "", "num");
    cell(row, v.origin + (v.sourceVersion > 0 ? " of v" + v.sourceVersion : ""));
    cell(row, v.headType);
    cell(row, v.metrics.examplesLearned, "num");
    cell(row, accuracy(v.metrics.windowedAccuracy), "num");
    cell(row, v.metrics.windowCount, "num");
    cell(row, v.metrics.driftDetections, "num");
    cell(row, when(v.createdAt));
    cell(row, v.artifactSha256.substring(0, 12));
    cell(row, v.signed ? "yes" : "no");
    const actions = row.insertCell();
    for (const [action, label] of [["rollback", "Roll back to"], ["pin", "Pin"]]) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = action;
      b.dataset.version = v.version;
      b.textContent = label + " v" + v.version;
      b.addEventListener("click", () => admin(action, {version: v.version, reason: "from the web page"}));
      actions.appendChild(b);
    }
  }
  const drift = document.getElementById("drift");
  drift.replaceChildren();
  let before = 0;
  for (const v of versions) {
    const n = v.metrics.driftDetections || 0;
    if (n > before) {
      const li = document.createElement("li");
      li.textContent = "v" + v.version + ": " + (n - before) + " new drift detection(s) (" + n + " in all), the last at "
          + when(v.metrics.lastDriftAt) + ", after " + v.metrics.examplesLearned + " examples";
      drift.appendChild(li);
    }
    before = Math.max(before, n);
  }
  if (!drift.children.length) {
    const li = document.createElement("li");
    li.className = "muted";
    li.textContent = "none reported";
    drift.appendChild(li);
  }
}

function renderDecisions(decisions) {
  if (!changed("decisions", [selected, decisions])) return;
  const body = document.querySelector("#decisions tbody");
  body.replaceChildren();
  for (const d of [...decisions].reverse()) {
    const row = body.insertRow();
    row.dataset.decision = d.decision;
    cell(row, d.sequence, "num");
    cell(row, d.decision, d.decision === "rejected" || d.decision === "refused" ? "rejected" : "ok");
    cell(row, d.reason);
    cell(row, d.version > 0 ? "v" + d.version : "", "num");
    cell(row, d.candidate ? d.candidate.headType : "");
    cell(row, d.candidate ? accuracy(d.candidate.metrics.windowedAccuracy) : "", "num");
    cell(row, d.candidate ? d.candidate.metrics.examplesLearned : "", "num");
    cell(row, d.actor);
    cell(row, when(d.at));
  }
}

const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b"];

function renderChart(versions, decisions) {
  if (!changed("chart", [selected, versions, decisions]) && chart) return;
  const byHead = new Map();
  for (const v of versions) {
    if (!byHead.has(v.headType)) byHead.set(v.headType, []);
    byHead.get(v.headType).push({x: v.metrics.examplesLearned, y: v.metrics.windowedAccuracy, v: v.version});
  }
  const datasets = [...byHead.entries()].map(([head, points], i) => ({
    label: "published " + head, data: points, showLine: true, borderColor: COLORS[i % COLORS.length],
    backgroundColor: COLORS[i % COLORS.length], pointRadius: 4}));
  const rejected = decisions.filter(d => d.decision === "rejected" && d.candidate && d.candidate.metrics)
      .map(d => ({x: d.candidate.metrics.examplesLearned, y: d.candidate.metrics.windowedAccuracy}));
  datasets.push({label: "rejected candidates", data: rejected, showLine: false, borderColor: "#c33",
    backgroundColor: "rgba(204,51,51,0.35)", pointStyle: "crossRot", pointRadius: 6});
  if (typeof Chart === "undefined") {
    setStatus("the chart library did not load", true);
    return;
  }
  if (!chart) {
    chart = new Chart(document.getElementById("chart"), {
      type: "scatter",
      data: {datasets},
      options: {
        animation: false, maintainAspectRatio: false,
        scales: {x: {title: {display: true, text: "examples learned"}, beginAtZero: true},
          y: {title: {display: true, text: "windowed test-then-train accuracy"}, suggestedMin: 0, suggestedMax: 1}},
        plugins: {tooltip: {callbacks: {label: c => (c.raw.v ? "v" + c.raw.v + ": " : "") + accuracy(c.raw.y)
              + " after " + c.raw.x + " examples"}}}
      }
    });
  } else {
    chart.data.datasets = datasets;
    chart.update();
  }
  document.getElementById("chart").dataset.points = String(datasets.reduce((n, d) => n + d.data.length, 0));
}

function setStatus(text, bad) {
  const s = document.getElementById("status");
  s.textContent = text;
  s.className = bad ? "error" : "muted";
}

async function admin(action, body) {
  const result = document.getElementById("action-result");
  result.className = "";
  result.textContent = action + "...";
  try {
    const r = await fetch("/tasks/" + encodeURIComponent(selected) + "/" + action, {
      method: "POST",
      headers: {"Authorization": "Bearer " + tokenInput.value, "Content-Type": "application/json"},
      body: JSON.stringify(body || {})
    });
    const answer = await r.json().catch(() => ({}));
    if (r.status === 202) {
      result.className = "ok";
      result.textContent = action + (answer.version ? " to v" + answer.version : "") + " accepted; it shows below once applied";
    } else {
      result.className = "error";
      result.textContent = action + " refused: " + (answer.error || "HTTP " + r.status);
    }
  } catch (e) {
    result.className = "error";
    result.textContent = action + " failed: " + e.message;
  }
  refresh();
}

function select(task) {
  selected = task;
  location.hash = "task=" + encodeURIComponent(task);
  if (chart) {
    chart.destroy();
    chart = null;
  }
  refresh();
}

let refreshing = false;

async function refresh() {
  if (refreshing) return;
  refreshing = true;
  try {
    const {tasks} = await getJson("/tasks");
    renderTasks(tasks);
    const task = tasks.find(t => t.task === selected);
    document.getElementById("task").hidden = !task;
    if (task) {
      document.getElementById("task-name").textContent = task.task;
      document.getElementById("task-state").textContent = task.paused ? "paused"
          : task.pinnedVersion > 0 ? "pinned v" + task.pinnedVersion : "";
      const [{versions}, {decisions}] = await Promise.all([
        getJson("/tasks/" + encodeURIComponent(selected) + "/versions"),
        getJson("/tasks/" + encodeURIComponent(selected) + "/decisions")]);
      renderVersions(versions);
      renderDecisions(decisions);
      renderChart(versions, decisions);
    }
    setStatus(tasks.length + " task(s), updated " + new Date().toLocaleTimeString(), false);
  } catch (e) {
    setStatus("registry API: " + e.message, true);
  } finally {
    refreshing = false;
  }
}

document.getElementById("pause").addEventListener("click", () => admin("pause"));
document.getElementById("resume").addEventListener("click", () => admin("resume"));
document.getElementById("unpin").addEventListener("click", () => admin("unpin"));
refresh();
setInterval(refresh, REFRESH_MS);
