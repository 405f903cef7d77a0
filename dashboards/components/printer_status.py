"""A printer's status line in /machines (badge, temperatures, job and progress), drawn in the browser
from the broker itself: the page subscribes over MQTT-over-WebSocket, as the read-only viewer user,
to `somana/+/status` and `somana/+/+/state` (topics in somana_core.floor.bus), so a printer's state
reaches the floor's screen even while the web process is busy with customers' sessions.

One WebSocket per page, shared by every row (a module-level client kept on `window`). Until it is
connected, or where the broker offers no WebSocket (`somana serve --broker URL`), the row shows
`fallback`, the state this process pushes at each refresh: the same view, only later under load.
"""

from __future__ import annotations

import json

import panel as pn
import param

STATE_COLORS = {"disconnected": "#8a9ba3", "connecting": "#c7a02f", "operational": "#2f8a4f",
                "printing": "#0f6e6e", "paused": "#c7772f", "cancelling": "#c7772f", "error": "#a3271b",
                "halted": "#a3271b", "offline": "#5d6b73"}

_ESM = """
const COLORS = __COLORS__;
const KEEPALIVE_S = 30;

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

function rowHtml(p) {
  const cid = p.key.replace("/", "--"), shown = p.shown_state;
  return `<div class="fleet-row" id="row-${cid}"><span class="state" id="state-${cid}" ` +
         `style="background:${COLORS[shown] || "#555"}">${esc(shown)}</span>` +
         `<span class="name">${esc(p.printer)}<small>${esc(p.station)}</small></span>` +
         `<span class="temps">${temps(p, cid)}</span><span class="job">${job(p, cid)}</span></div>`;
}

// ---- a minimal MQTT 3.1.1 client over a WebSocket: CONNECT, SUBSCRIBE (QoS 0), PUBLISH in, PINGREQ
function floorBus(ws) {
  const registry = (window.__somanaFloorBus = window.__somanaFloorBus || {});
  const id = `${ws.port}:${ws.user}`;
  if (registry[id]) return registry[id];
  const bus = {states: {}, stations: {}, listeners: new Set(), connected: false, messages: 0};
  registry[id] = bus;
  const enc = new TextEncoder(), dec = new TextDecoder();
  const str = (s) => { const b = enc.encode(s); return [b.length >> 8, b.length & 255, ...b]; };
  const len = (n) => { const out = []; do { let d = n % 128; n = Math.floor(n / 128); if (n > 0) d |= 128;
                       out.push(d); } while (n > 0); return out; };
  const notify = () => { for (const listener of bus.listeners) { try { listener(); } catch (e) {} } };
  const handle = (topic, payload) => {
    const parts = topic.split("/");
    let value = null;
    try { value = payload.length ? JSON.parse(dec.decode(payload)) : null; } catch (e) { return; }
    if (parts.length === 3 && parts[2] === "status") {
      if (value) bus.stations[parts[1]] = value; else delete bus.stations[parts[1]];
    } else if (parts.length === 4 && parts[3] === "state") {
      const key = `${parts[1]}/${parts[2]}`;
      if (value) bus.states[key] = value; else delete bus.states[key];
    }
    bus.messages += 1;
  };
  const open = () => {
    let buffer = new Uint8Array(0), ping = null;
    let socket;
    try {
      socket = new WebSocket(`ws://${window.location.hostname}:${ws.port}/`, ["mqtt"]);
    } catch (e) { setTimeout(open, 2000); return; }
    socket.binaryType = "arraybuffer";
    socket.onopen = () => {
      const head = [...str("MQTT"), 4, 0xC2, 0, KEEPALIVE_S];
      const load = [...str("somana-view-" + Math.random().toString(36).slice(2, 10)), ...str(ws.user),
                    ...str(ws.password)];
      socket.send(new Uint8Array([0x10, ...len(head.length + load.length), ...head, ...load]));
      const topics = ["somana/+/status", "somana/+/+/state"].flatMap((t) => [...str(t), 0]);
      socket.send(new Uint8Array([0x82, ...len(2 + topics.length), 0, 1, ...topics]));
      ping = setInterval(() => { try { socket.send(new Uint8Array([0xC0, 0])); } catch (e) {} },
                         KEEPALIVE_S * 500);
    };
    socket.onmessage = (event) => {
      const data = new Uint8Array(event.data);
      const joined = new Uint8Array(buffer.length + data.length);
      joined.set(buffer);
      joined.set(data, buffer.length);
      let at = 0, changed = false;
      while (joined.length - at >= 2) {
        let size = 0, multiplier = 1, i = at + 1, byte = 128;
        while (byte & 128) {
          if (i >= joined.length) { size = -1; break; }
          byte = joined[i++];
          size += (byte & 127) * multiplier;
          multiplier *= 128;
        }
        if (size < 0 || i + size > joined.length) break;  // the rest arrives in the next frame
        const type = joined[at] >> 4, qos = (joined[at] >> 1) & 3, body = joined.subarray(i, i + size);
        at = i + size;
        if (type === 2) {  // CONNACK: return code 0 = accepted
          bus.connected = body[1] === 0;
          changed = true;
        } else if (type === 3) {  // PUBLISH
          const topicLength = (body[0] << 8) | body[1];
          const topic = dec.decode(body.subarray(2, 2 + topicLength));
          handle(topic, body.subarray(2 + topicLength + (qos ? 2 : 0)));
          changed = true;
        }
      }
      buffer = joined.slice(at);
      if (changed) notify();
    };
    socket.onclose = () => {
      clearInterval(ping);
      bus.connected = false;
      bus.states = {};
      bus.stations = {};
      notify();
      setTimeout(open, 1000);
    };
    socket.onerror = () => {};
  };
  open();
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
    const html = rowHtml(printer);
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
    fallback = param.Dict(default={}, doc="the printer as this process last saw it (Fleet.printers() entry)")

    _esm = _ESM.replace("__COLORS__", json.dumps(STATE_COLORS))


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
