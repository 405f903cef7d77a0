"""A printer's status on /machines (badge, temperatures, job and progress), drawn in the browser from
the broker itself: the page subscribes with MQTT.js (vendored in dashboards/static/mqtt, served
locally) over the broker's WebSocket listener, as the read-only viewer user, to `somana/+/status`
and `somana/+/+/state` (topics in somana_core.floor.bus), so a printer's state reaches the floor's
screen even while the web process is busy with customers' sessions.

One MQTT client per page, shared by every row (kept on `window`). Until it is connected, or where
the broker offers no WebSocket (`somana serve --broker URL`), the component shows `fallback`, the
printer this process pushes at each refresh (`status_view`): the same text, only later under load.

ROW_JS is the ONE place a printer's row text is written, for both paths (broker and fallback), and
for the detail panel's badge, temperature readout and job line (`part`): Python sends only data.
"""

from __future__ import annotations

import json

import panel as pn
import param

from dashboards.viewer import STATIC_URL

STATE_COLORS = {"disconnected": "#8a9ba3", "connecting": "#c7a02f", "operational": "#2f8a4f",
                "printing": "#0f6e6e", "paused": "#c7772f", "cancelling": "#c7772f", "error": "#a3271b",
                "halted": "#a3271b", "offline": "#5d6b73"}
MQTT_MODULE = f"{STATIC_URL}/mqtt/mqtt.esm.js"  # MQTT.js 5.16.0, see dashboards/static/mqtt/README.md
VIEW_FIELDS = ("shown_state", "temperatures", "job", "interrupted", "history", "error", "last_acked_line")
PARTS = ("row", "badge", "temps", "job")


def status_view(key: str, printer: dict) -> dict:
    """What the browser needs to draw `printer` (a Fleet.printers() entry): the fields ROW_JS reads."""
    view = {field: printer.get(field) for field in VIEW_FIELDS}
    return {**view, "history": (printer.get("history") or [])[:1], "key": key,
            "printer": printer.get("printer"), "station": printer.get("station")}


# The text of a printer, from a Fleet.printers()-shaped object `p` (pure functions, no imports: the
# browser tests load this alone into a blank page and check the words a floor worker reads)
ROW_JS = """
const COLORS = __COLORS__;

function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                                                         "'": "&#x27;"}[c]));
}

function clock(seconds) {
  if (seconds === null || seconds === undefined) return "--:--";
  const s = Math.round(Math.max(seconds, 0)), h = Math.floor(s / 3600), rest = s % 3600;
  const two = (n) => String(n).padStart(2, "0");
  return h ? `${h}:${two(Math.floor(rest / 60))}:${two(rest % 60)}` : `${Math.floor(rest / 60)}:${two(rest % 60)}`;
}

function cssId(key) { return String(key).replace("/", "--"); }

function badge(p, cid) {
  const shown = p.shown_state;
  return `<span class="state" id="state-${cid}" style="background:${COLORS[shown] || "#555"}">${esc(shown)}</span>`;
}

function temps(p, cid) {
  const parts = [];
  for (const [label, name] of [["nozzle", "Nozzle"], ["bed", "Bed"]]) {
    const reading = (p.temperatures || {})[label];
    if (reading) {
      const [actual, target] = reading;
      const goal = target ? ` → ${Number(target).toFixed(0)}` : " · off";
      parts.push(`${name} <b id="temp-${label}-${cid}">${Number(actual).toFixed(0)} °C</b>${goal}`);
    } else {
      parts.push(`${name} —`);
    }
  }
  return parts.join("<br>");
}

function job(p, cid) {
  const j = p.job, shown = p.shown_state;
  if (j && shown === "offline") {
    return `<span class="warn" id="job-${cid}">${esc(j.name)}: station offline, interrupted at line ` +
           `${p.last_acked_line || 0} or later</span>`;
  }
  if (j) {
    const percent = Number(j.percent || 0);
    return `<span id="job-${cid}">${esc(j.name)}</span> · <span id="job-progress-${cid}">${percent.toFixed(1)} %</span>` +
           ` · ${j.lines_acked || 0}/${j.lines_total || 0} lines · ETA <span id="eta-${cid}">${clock(j.eta_s)}</span>` +
           `<div class="bar"><div style="width:${Math.min(percent, 100).toFixed(1)}%"></div></div>`;
  }
  const i = p.interrupted;
  if (i) {
    return `<span class="warn" id="job-${cid}">${esc(i.name)} interrupted at line ${i.last_acked_line} ` +
           `(${esc(i.reason)}): restart from line ${i.restart_from_line} in Details</span>`;
  }
  if (shown === "halted") return `<span class="warn" id="job-${cid}">halted by an emergency stop: connect to reset</span>`;
  if (shown === "error" && p.error) return `<span class="warn" id="job-${cid}">${esc(p.error)}</span>`;
  const last = (p.history || [])[0];
  if (last) {
    return `<span class="muted" id="job-${cid}">idle · last: ${esc(last.name)} ${esc(last.outcome)} ` +
           `in ${clock(last.duration_s)}</span>`;
  }
  return `<span class="muted" id="job-${cid}">idle</span>`;
}

// part: "row" (the fleet list), or one piece of it for the detail panel
function printerHtml(p, part) {
  const cid = cssId(p.key);
  if (part === "badge") return badge(p, cid);
  if (part === "temps") return `<div class="readout">${temps(p, cid).replace(/<br>/g, " &nbsp; ")}</div>`;
  if (part === "job") return job(p, cid);
  return `<div class="fleet-row" id="row-${cid}">${badge(p, cid)}` +
         `<span class="name">${esc(p.printer)}<small>${esc(p.station)}</small></span>` +
         `<span class="temps">${temps(p, cid)}</span><span class="job">${job(p, cid)}</span></div>`;
}
""".replace("__COLORS__", json.dumps(STATE_COLORS))

_ESM = """
import mqtt from "mqtt";

window.__somanaMqtt = mqtt;  // the e-stop buttons (machine_control.ESTOP_JS) publish with the same library
""" + ROW_JS + """
// one MQTT.js client per page and viewer, shared by every component on it
function floorBus(ws) {
  const registry = (window.__somanaFloorBus = window.__somanaFloorBus || {});
  const id = `${ws.port}:${ws.user}`;
  if (registry[id]) return registry[id];
  const bus = {states: {}, stations: {}, listeners: new Set(), connected: false, messages: 0};
  registry[id] = bus;
  const notify = () => { for (const listener of bus.listeners) { try { listener(); } catch (e) {} } };
  const client = mqtt.connect(`ws://${window.location.hostname}:${ws.port}/`, {
    username: ws.user, password: ws.password, protocolVersion: 4, clean: true, keepalive: 30,
    clientId: "somana-view-" + Math.random().toString(36).slice(2, 10),
    reconnectPeriod: 1000, connectTimeout: 10000, resubscribe: false,  // subscribed again at each connect
  });
  client.on("connect", () => {
    client.subscribe(["somana/+/status", "somana/+/+/state"], {qos: 0});
    bus.connected = true;
    notify();
  });
  client.on("message", (topic, payload) => {
    const parts = topic.split("/");
    let value = null;
    try { value = payload.length ? JSON.parse(payload.toString()) : null; } catch (e) { return; }
    if (parts.length === 3 && parts[2] === "status") {
      if (value) bus.stations[parts[1]] = value; else delete bus.stations[parts[1]];
    } else if (parts.length === 4 && parts[3] === "state") {
      const key = `${parts[1]}/${parts[2]}`;
      if (value) bus.states[key] = value; else delete bus.states[key];
    }
    bus.messages += 1;
    notify();
  });
  client.on("close", () => {  // shown from the fallback until the client is back (it reconnects by itself)
    if (!bus.connected) return;
    bus.connected = false;
    bus.states = {};
    bus.stations = {};
    notify();
  });
  client.on("error", () => {});  // a refused or lost connection: "close" follows, the fallback shows
  return bus;
}

export function render({ model, el }) {
  const box = document.createElement("div");
  el.appendChild(box);
  const bus = model.ws && model.ws.port ? floorBus(model.ws) : null;
  let shown = "";
  const draw = () => {
    let printer = model.fallback;
    const state = bus && bus.connected ? bus.states[model.key] : null;
    if (state) {
      const station = bus.stations[state.station || model.key.split("/")[0]] || {};
      const online = !!station.online;
      printer = {...state, key: model.key, online, shown_state: online ? state.state : "offline"};
      box.dataset.source = "broker";
    } else {
      box.dataset.source = "server";
    }
    if (!printer || !printer.key) return;
    const html = printerHtml(printer, model.part);
    if (html !== shown) {
      box.innerHTML = html;
      shown = html;
    }
  };
  if (bus) bus.listeners.add(draw);
  model.on("fallback", draw);
  model.on("remove", () => { if (bus) bus.listeners.delete(draw); });
  draw();
}
"""


class PrinterStatus(pn.custom.JSComponent):
    """One printer's status line; see the module docstring for where its data comes from."""

    key = param.String(doc="STATION/PRINTER")
    ws = param.Dict(default={}, doc="the broker's read-only viewer on its WebSocket: port, user, password")
    fallback = param.Dict(default={}, doc="the printer as this process last saw it (status_view of a Fleet entry)")
    part = param.Selector(default="row", objects=list(PARTS), doc="the whole row, or its badge, temperatures or job")

    _esm = _ESM
    _importmap = {"imports": {"mqtt": MQTT_MODULE}}


class PhoneViewport(pn.custom.JSComponent):
    """Adds `<meta name="viewport" content="width=device-width, initial-scale=1">` to the page: without
    it a phone lays the page out 980 px wide and shrinks it (unreadable rows, a tiny STOP ALL).
    Panel's page template for a plain `.servable()` has no such tag; Chromium applies one added later."""

    _esm = """
export function render({ el }) {
  if (!document.querySelector('meta[name="viewport"]')) {
    const meta = document.createElement("meta");
    meta.name = "viewport";
    meta.content = "width=device-width, initial-scale=1";
    document.head.appendChild(meta);
  }
  el.style.display = "none";
}
"""
