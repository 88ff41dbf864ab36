// Shared by the rnnkit serve pages: the run's name from the URL, JSON calls with readable errors,
// a Server-Sent Events reader over fetch (POST bodies), and small DOM helpers. No libraries.
"use strict";

const RUN = decodeURIComponent(location.pathname.replace(/^\/+|\/+$/g, ""));

function $(sel) { return document.querySelector(sel); }

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v; else if (k === "style") e.style.cssText = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

async function api(path, options = {}) {
  const res = await fetch(path, options);
  let body = null;
  const text = await res.text();
  try { body = text ? JSON.parse(text) : null; } catch (_) { body = { detail: text }; }
  if (!res.ok) throw new Error((body && body.detail) || `HTTP ${res.status}`);
  return body;
}

function postJSON(path, data) {
  return api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(data) });
}

// POST `data` and call onEvent(eventName, payload) for each Server-Sent Event of the response.
async function streamEvents(path, data, onEvent, signal) {
  const res = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" },
                                  body: JSON.stringify(data), signal });
  if (!res.ok) {
    let detail = `HTTP ${res.status}`;
    try { detail = (await res.json()).detail || detail; } catch (_) {}
    throw new Error(detail);
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = "message", payload = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) payload += line.slice(6);
      }
      onEvent(event, payload ? JSON.parse(payload) : null);
    }
  }
}

function setStatus(text, isError = false) {
  const s = $("#status");
  s.textContent = text;
  s.className = isError ? "status error" : "status";
}

// Fills the header with the run's name and app; returns the run's info (GET /api/{run}).
async function loadRun() {
  const info = await api(`/api/${encodeURIComponent(RUN)}`);
  document.title = `${info.name} · rnnkit serve`;
  $("#run-name").textContent = info.name;
  $("#run-app").textContent = `${info.app} · ${info.run_dir}`;
  return info;
}

function fmt(x, digits = 3) { return x === null || x === undefined ? "" : Number(x).toPrecision(digits); }
