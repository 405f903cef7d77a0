"""Machine control for floor staff: the fleet view over the bus (one row per printer of every station,
a "stop all" e-stop) and one printer's detail (console, jog, temperatures, job upload, orders,
history) opened on demand in a side panel.

Nothing here touches a serial port or blocks: every action is a message to the printer's station
(`somana_core.floor.fleet.Fleet`), whose reply comes back as a message; a periodic callback per
session reads the process-wide fleet snapshot and updates only what changed.
"""

from __future__ import annotations

import html
import time
from datetime import datetime, timedelta

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401 - bokeh backend for the temperature chart
import pandas as pd
import panel as pn
import param
from bokeh.models import CustomJS
from holoviews.streams import Buffer

from dashboards.components.gcode_upload import GcodeUpload, UploadBoxClearer
from dashboards.components.printer_status import MQTT_MODULE, PrinterStatus, status_view
from somana_core.data import read_table

HISTORY_S = 600.0  # the chart shows the last 10 minutes
CHART_POINTS = 1200
LOG_LINES = 150
JOG_STEPS_MM = [0.1, 1.0, 10.0]
CONFIRM_S = 6.0  # a second click within this confirms a cancel
NOTICE_S = 120.0  # a job-ended notice stays this long (or until closed)
ORDER_REFRESH_S = 3.0
OUTCOME_COLORS = {"done": "#2f8a4f", "cancelled": "#c7772f", "interrupted": "#a3271b", "failed": "#a3271b"}
CONNECTED = ("operational", "printing", "paused", "cancelling")
NO_ORDER = "— choose an order —"
# below 700 px the detail panel takes the full width under the header and the STOP ALL bar (which
# is below a two-line header at the top of the page, at the top of the screen once scrolled)
PHONE_DRAWER_CSS = """
@media (max-width: 700px) {
  :host { top: 150px !important; width: 100vw !important; height: calc(100vh - 150px) !important; }
}
"""

CSS = """
.state { display: inline-block; min-width: 6.5rem; text-align: center; padding: .15rem .6rem; border-radius: 1rem;
         color: #fff; font-weight: 600; font-size: .85rem; }
.fleet-row { display: flex; align-items: center; column-gap: .9rem; row-gap: .25rem; flex-wrap: wrap; font-size: .9rem; }
.fleet-row .name { font-weight: 700; min-width: 9rem; }
.fleet-row .name small { display: block; font-weight: 400; color: #5d6b73; }
.fleet-row .temps { min-width: 10rem; font-variant-numeric: tabular-nums; line-height: 1.25; }
.fleet-row .job { flex: 1; min-width: 14rem; }
.bar { height: .45rem; background: #e3e8ea; border-radius: .3rem; overflow: hidden; margin-top: .2rem; }
.bar > div { height: 100%; background: #0f6e6e; }
.muted { color: #5d6b73; }
.warn { color: #a3271b; font-weight: 600; }
.readout { font-size: 1.05rem; }
.readout b { font-size: 1.3rem; }
.log { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .8rem; white-space: pre-wrap;
       background: #1f2a30; color: #d8e2e6; padding: .5rem .7rem; border-radius: 6px; height: 14rem;
       overflow-y: auto; margin: 0; }
.log .send { color: #8fd1c8; } .log .error { color: #ff9b8f; }
table.history, table.queue { border-collapse: collapse; width: 100%; font-size: .85rem; }
table.history th, table.history td, table.queue th, table.queue td { text-align: left; padding: .2rem .4rem;
       border-bottom: 1px solid #e3e8ea; }
.summary { font-size: 1rem; font-weight: 600; }
.chart-empty { padding: 2.5rem 1rem; text-align: center; color: #5d6b73; background: #f3f5f4; border-radius: 6px; }
"""

# Both paths at once, with one id for the press; the station acts on the first to arrive.
# (1) MQTT.js (the page's printer_status module put it on window; else it is imported from the same local
# file) over the broker's WebSocket as the publish-only e-stop user: one connection per press, PUBLISH
# QoS 0 to somana/estop queued until the CONNACK, then DISCONNECT. (2) POST to the server's e-stop handler.
ESTOP_JS = """
const ws = ws_port ? {port: ws_port, user: ws_user, password: ws_password} : null;
const press = 'web-' + Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
if (ws) {
  const send = (mqtt) => {
    const client = mqtt.connect('ws://' + window.location.hostname + ':' + ws.port + '/', {
      username: ws.user, password: ws.password, protocolVersion: 4, clean: true, keepalive: 0,
      clientId: 'somana-estop-' + Math.random().toString(36).slice(2, 10), reconnectPeriod: 0, connectTimeout: 5000});
    client.on('error', () => client.end(true));
    client.publish('somana/estop', JSON.stringify({printer: printer, id: press, sent_at: Date.now() / 1000}),
                   {qos: 0}, () => client.end());
  };
  try {
    if (window.__somanaMqtt) send(window.__somanaMqtt);
    else import(mqtt_module).then((m) => send(m.default)).catch(() => {});
  } catch (e) {}
}
const path = window.location.pathname.replace(/\\/+$/, '') + '/estop';
fetch(path, {method: 'POST', credentials: 'same-origin', headers: {'Content-Type': 'application/json'},
             body: JSON.stringify({printer: printer, id: press})}).catch(() => {});
"""


def _esc(text) -> str:
    return html.escape("" if text is None else str(text))


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(round(max(seconds, 0)))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def css_id(key: str) -> str:
    """'east/mk4-1' -> 'east--mk4-1' (element ids for tests and screen readers)."""
    return key.replace("/", "--")


def preheat_presets() -> dict[str, tuple[float, float]]:
    table = read_table("preheat_presets.csv")
    return {str(r.material): (float(r.nozzle_c), float(r.bed_c)) for r in table.itertuples()}


def estop_button(key: str, label: str, **params) -> pn.widgets.Button:
    """A red button whose click goes from the browser to the broker and to the server's e-stop
    handler at once (no Bokeh round trip; see dashboards.machine_hosts)."""
    from dashboards.machine_hosts import estop_websocket

    button = pn.widgets.Button(label=label, color="danger", **params)
    ws = estop_websocket() or {}
    button.js_on_click(args={"printer": key, "ws_port": int(ws.get("port") or 0), "ws_user": str(ws.get("user", "")),
                             "ws_password": str(ws.get("password", "")), "mqtt_module": MQTT_MODULE}, code=ESTOP_JS)
    return button


class PrinterRow(pn.viewable.Viewer):
    """One printer in the fleet list: badge, temperatures, job and progress, quick actions."""

    key = param.String()

    def __init__(self, fleet, on_details, **params):
        super().__init__(**params)
        self.fleet = fleet
        cid = css_id(self.key)
        from dashboards.machine_hosts import status_websocket

        # drawn in the browser from the broker (see printer_status); `fallback` is this process's view
        self.info = PrinterStatus(key=self.key, ws=status_websocket() or {}, stylesheets=[CSS],
                                  margin=(4, 8), styles={"flex": "1 1 300px", "min-width": "0"})
        self.pause_button = pn.widgets.Button(label="Pause", width=90, css_classes=["row-pause", f"pause-{cid}"])
        self.cancel_button = pn.widgets.Button(label="Cancel", width=120, color="warning",
                                               css_classes=["row-cancel", f"cancel-{cid}"])
        self.estop = estop_button(self.key, "E-STOP", width=90, css_classes=["row-estop", f"estop-{cid}"])
        self.details_button = pn.widgets.Button(label="Details", width=80, css_classes=["row-details", f"details-{cid}"])
        self.pause_button.on_click(lambda e: self._pause_or_resume())
        self.cancel_button.on_click(lambda e: self._cancel())
        self.details_button.on_click(lambda e: on_details(self.key))
        self._confirm_until = 0.0
        self._shown = None
        self.message = ""

    def _pause_or_resume(self) -> None:
        state = self.fleet.printers().get(self.key, {}).get("shown_state")
        self.fleet.command(self.key, "resume" if state == "paused" else "pause")

    def _cancel(self) -> None:
        now = time.monotonic()
        if now < self._confirm_until:
            self._confirm_until = 0.0
            self.fleet.command(self.key, "cancel")
            self.cancel_button.label = "Cancel"
            return
        self._confirm_until = now + CONFIRM_S
        self.cancel_button.label = "Confirm cancel?"

    def update(self, printer: dict) -> None:
        if self._confirm_until and time.monotonic() >= self._confirm_until:
            self._confirm_until = 0.0
            self.cancel_button.label = "Cancel"
        view = status_view(self.key, printer)
        if view == self._shown:
            return
        self._shown = view
        shown = printer["shown_state"]
        self.info.fallback = view
        self.pause_button.label = "Resume" if shown == "paused" else "Pause"
        self.pause_button.disabled = shown not in ("printing", "paused")
        self.cancel_button.disabled = shown not in ("printing", "paused")
        self.estop.disabled = shown in ("offline", "disconnected")

    def __panel__(self):
        # the e-stop first: the detail panel opens on the right and must never cover it
        # a FlexBox, not a Row: a Row's minimum width is the sum of its children's, which made the
        # page 790 px wide on a 390 px phone; here the status and the buttons wrap onto new lines
        return pn.FlexBox(self.estop, self.info, self.pause_button, self.cancel_button, self.details_button,
                          flex_wrap="wrap", align_items="center", sizing_mode="stretch_width",
                          styles={"background": "#fff", "border-radius": "8px"}, margin=(3, 10))


class PrinterDetail(pn.viewable.Viewer):
    """Everything a floor worker does with one printer, opened from its row."""

    key = param.String()
    order_store = param.Parameter(default=None, doc="somana_core.orders.OrderStore for the order list (optional)")

    def __init__(self, fleet, on_close=None, **params):
        super().__init__(**params)
        self.fleet = fleet
        cid = css_id(self.key)
        self._shown: dict = {"interrupted": None}
        self._pending: dict[str, str] = {}  # command id -> what it was
        self._message = ""
        self._order_refresh_at = 0.0
        self._confirm_until = 0.0

        # the badge, the temperature readout and the job line are drawn in the browser, as the row is
        # (printer_status.ROW_JS, from the broker or this process's `fallback`)
        from dashboards.machine_hosts import status_websocket

        ws = status_websocket() or {}
        self.badge = PrinterStatus(key=self.key, ws=ws, part="badge", stylesheets=[CSS], width=130,
                                   margin=(8, 0, 5, 10))
        self.title = pn.pane.HTML(stylesheets=[CSS], sizing_mode="stretch_width", margin=(5, 10))
        self.close_button = pn.widgets.Button(label="Close", width=80, css_classes=["detail-close"])
        if on_close is not None:
            self.close_button.on_click(lambda e: on_close())
        self.alert = pn.pane.Alert("", alert_type="warning", visible=False, sizing_mode="stretch_width",
                                   css_classes=["detail-alert"])
        self.connect_button = pn.widgets.Button(label="Connect", color="primary", css_classes=["connect"])
        self.disconnect_button = pn.widgets.Button(label="Disconnect", css_classes=["disconnect"])
        self.connect_button.on_click(lambda e: self.send("connect"))
        self.disconnect_button.on_click(lambda e: self.send("disconnect"))
        self.estop = estop_button(self.key, f"EMERGENCY STOP {self.key}", height=44,
                                  css_classes=["emergency-stop", f"detail-estop-{cid}"], sizing_mode="stretch_width")

        # interrupted job
        self.interrupted = pn.pane.HTML(stylesheets=[CSS], sizing_mode="stretch_width", visible=False)
        self.restart_button = pn.widgets.Button(label="Restart", color="primary", css_classes=["restart-job"])
        self.discard_button = pn.widgets.Button(label="Discard", css_classes=["discard-job"])
        self.restart_button.on_click(lambda e: self.send("restart"))
        self.restart_button.visible = self.discard_button.visible = False
        self.discard_button.on_click(lambda e: self.send("discard"))

        # temperatures
        self.readout = PrinterStatus(key=self.key, ws=ws, part="temps", stylesheets=[CSS], sizing_mode="stretch_width",
                                     margin=(5, 10))
        self.nozzle_target = pn.widgets.FloatInput(label="Nozzle target, °C", value=0.0, start=0.0, end=300.0,
                                                   step=5.0, width=130)
        self.bed_target = pn.widgets.FloatInput(label="Bed target, °C", value=0.0, start=0.0, end=120.0, step=5.0,
                                                width=130)
        self.set_targets = pn.widgets.Button(label="Set targets", css_classes=["set-targets"], align="end")
        self.set_targets.on_click(lambda e: self._set_targets(self.nozzle_target.value, self.bed_target.value))
        self.preset_buttons = []
        for material, (nozzle, bed) in {**preheat_presets(), "Cool down": (0.0, 0.0)}.items():
            button = pn.widgets.Button(label=f"{material} {nozzle:g}/{bed:g} °C" if nozzle else material,
                                       css_classes=[f"preset-{material.lower().replace(' ', '-')}"])
            button.on_click(lambda e, n=nozzle, b=bed: self._set_targets(n, b))
            self.preset_buttons.append(button)
        self._buffer = Buffer(pd.DataFrame({"time": pd.Series([], dtype="datetime64[ns]"),
                                            **{f"{k}_{v}": pd.Series([], dtype=float)
                                               for k in ("nozzle", "bed") for v in ("actual", "target")}}),
                              length=CHART_POINTS, index=False)
        self._last_sample = 0.0
        self.chart = pn.pane.HoloViews(hv.DynamicMap(self._temperature_plot, streams=[self._buffer]),
                                       sizing_mode="stretch_width", height=260, visible=False)
        self.chart_empty = pn.pane.HTML(
            '<div class="chart-empty">No temperature readings yet: connect the printer to see its nozzle and bed '
            "over the last 10 minutes.</div>", stylesheets=[CSS], sizing_mode="stretch_width")

        # motion
        self.jog_step = pn.widgets.RadioButtonGroup(label="Jog step, mm", options=JOG_STEPS_MM, value=1.0)
        self.jog_buttons = []
        for axis in "XYZ":
            for sign in (-1, 1):
                button = pn.widgets.Button(label=f"{axis}{'+' if sign > 0 else '−'}", width=52,
                                           css_classes=[f"jog-{axis.lower()}{'plus' if sign > 0 else 'minus'}"])
                button.on_click(lambda e, a=axis, s=sign: self.send(
                    "jog", **{a.lower(): s * float(self.jog_step.value)}))
                self.jog_buttons.append(button)
        self.home_button = pn.widgets.Button(label="Home all", css_classes=["home-axes"])
        self.home_button.on_click(lambda e: self.send("home"))

        # console
        self.command = pn.widgets.TextInput(placeholder="G-code, e.g. M115 (Enter sends)", sizing_mode="stretch_width",
                                            css_classes=["console-input"], max_length=200)
        self.command.param.watch(lambda e: self._send_console(), "enter_pressed")
        self.send_button = pn.widgets.Button(label="Send", css_classes=["console-send"])
        self.send_button.on_click(lambda e: self._send_console())
        self.show_temperatures = pn.widgets.Checkbox(label="show temperature reports", value=False)
        self.log = pn.pane.HTML(stylesheets=[CSS], sizing_mode="stretch_width")

        # jobs
        box_class = f"gcode-upload-{cid}"
        self.upload = GcodeUpload(css_classes=["gcode-upload", box_class], sizing_mode="stretch_width")  # to disk
        self.upload_clearer = UploadBoxClearer(box_class=box_class, width=0, height=0, margin=0)
        self.print_file_button = pn.widgets.Button(label="Print uploaded file", color="primary",
                                                   css_classes=["print-file"])
        self.print_file_button.on_click(lambda e: self._print_upload())
        self.upload_row = pn.FlexBox(self.upload, self.print_file_button, self.upload_clearer)
        self.orders = pn.widgets.Select(label="Order to print", options={NO_ORDER: ""}, value="",
                                        sizing_mode="stretch_width", css_classes=["order-choice"])
        self.print_order_button = pn.widgets.Button(label="Print the chosen order", color="primary",
                                                    css_classes=["print-order"], disabled=True, align="end")
        self.print_order_button.on_click(lambda e: self._print_order())
        self.orders.param.watch(lambda e: self._order_chosen(), "value")
        self.choice = pn.pane.HTML(stylesheets=[CSS], sizing_mode="stretch_width")
        self.pause_button = pn.widgets.Button(label="Pause", css_classes=["pause"])
        self.resume_button = pn.widgets.Button(label="Resume", css_classes=["resume"])
        self.cancel_button = pn.widgets.Button(label="Cancel job", color="warning", css_classes=["cancel"])
        self.pause_button.on_click(lambda e: self.send("pause"))
        self.resume_button.on_click(lambda e: self.send("resume"))
        self.cancel_button.on_click(lambda e: self._cancel())
        self.progress = PrinterStatus(key=self.key, ws=ws, part="job", stylesheets=[CSS], sizing_mode="stretch_width",
                                      margin=(5, 10))
        self.history = pn.pane.HTML(stylesheets=[CSS], sizing_mode="stretch_width")
        self.refresh()

    # ------------------------------------------------------------------ actions
    def send(self, action: str, **fields) -> str:
        command_id = self.fleet.command(self.key, action, **fields)
        self._pending[command_id] = action
        return command_id

    def _say(self, text: str) -> None:
        self._message = text

    def _set_targets(self, nozzle, bed) -> None:
        try:
            nozzle, bed = float(nozzle), float(bed)
        except (TypeError, ValueError):
            self._say("set targets: type a number of °C")
            return
        self.send("temperature", heater="T0", celsius=nozzle)
        self.send("temperature", heater="B", celsius=bed)
        self.nozzle_target.value, self.bed_target.value = nozzle, bed

    def _send_console(self) -> None:
        text = (self.command.value_input or self.command.value or "").strip()
        if not text:
            return
        self.command.value_input = ""  # both, or the next send would repeat this one (M115M115)
        self.command.value = ""
        self.send("console", command=text)
        if pn.state.curdoc is not None:
            # measured in the browser (about 1 run in 10): the box kept showing the sent text (its value and
            # value_input both) while the server had "" already, so the server's "" changed nothing there
            # (Panel takes the text from the Enter event, on a thread, and the frontend's own messages cross
            # ours). A moment later, a space then "" again: changes the browser cannot miss.
            pn.state.add_periodic_callback(lambda: self._reclear(text, " "), period=400, count=1)

    def _reclear(self, text: str, value: str) -> None:
        typed = {(self.command.value_input or "").strip(), (self.command.value or "").strip()}
        if typed - {"", text}:
            return  # something new typed since
        self.command.value_input = value
        self.command.value = value
        if value:
            pn.state.add_periodic_callback(lambda: self._reclear(text, ""), period=200, count=1)

    def _cancel(self) -> None:
        now = time.monotonic()
        if now < self._confirm_until:
            self._confirm_until = 0.0
            self.cancel_button.label = "Cancel job"
            self.send("cancel")
            return
        self._confirm_until = now + CONFIRM_S
        self.cancel_button.label = "Confirm: cancel this job?"

    def _print_upload(self) -> None:
        """Check the uploaded file (on disk) is text G-code within the limit, then hand it to the station
        (chunked over the bus, somana_core.floor.handoff; the station refuses a partial or corrupt file)."""
        from somana_core.errors import InputError
        from somana_core.gcode_check import check_gcode_file

        if self.upload.problem:
            self._say(f"print: {self.upload.problem}")
            return
        if self.upload.path is None and self.upload.uploading:
            self._say(f"print: {self.upload.uploading} is still uploading: press Print once it says Upload complete")
            return
        if self.upload.path is None:
            self._say("print: choose a G-code file first (wait until it has uploaded)")
            return
        try:
            checked = check_gcode_file(self.upload.path, self.upload.filename, self.upload.max_bytes)
        except InputError as exc:
            self._say(f"print: {exc.message}")
            self.upload.discard()
            self._empty_upload_box()  # the refused file is gone: the box must not say "Upload complete"
            return
        self._say(f"print: sending {checked.name} to the station…")
        try:
            upload = self.upload.send_to(self.fleet, self.key)  # in chunks: never the whole file in memory
        except OSError as exc:
            self._say(f"print: {checked.name} could not be sent to the station ({exc}); try again")
            return
        self._empty_upload_box()  # the station has the file: the box is free for the next job
        self.send("start", upload=upload, name=checked.name)  # the station checks it arrived whole

    def _empty_upload_box(self) -> None:
        """Clear the G-code box in the browser (its file was printed or refused and is deleted here), unless
        the person already chose the next file."""
        if self.upload.path is None and not self.upload.uploading:
            self.upload_clearer.clears += 1

    def _order_chosen(self) -> None:
        number = self.orders.value
        self.print_order_button.disabled = not number or self._shown.get("state") != "operational"
        self.choice.object = (f'<p id="order-choice-{css_id(self.key)}">Will print <b>{_esc(number)}</b> on '
                              f"{_esc(self.key)} when you press the button.</p>" if number else
                              '<p class="muted">Nothing prints until you choose an order.</p>')

    def _print_order(self) -> None:
        number = self.orders.value
        if not number:
            self._say("print order: choose an order first")
            return
        self.send("start", order=number)
        self.orders.value = ""
        self._order_refresh_at = 0.0

    # ------------------------------------------------------------------ fleet -> widgets
    def _temperature_plot(self, data: pd.DataFrame):
        now = datetime.now()
        start = now - timedelta(seconds=HISTORY_S)
        if len(data):
            start = max(start, min(data["time"].min(), now - timedelta(seconds=30)))
        curves = []
        for key, label, color in (("nozzle", "Nozzle", "#c7772f"), ("bed", "Bed", "#0f6e6e")):
            curves.append(hv.Curve(data, "time", (f"{key}_actual", "°C"), label=label).opts(color=color, line_width=2))
            curves.append(hv.Curve(data, "time", (f"{key}_target", "°C"), label=f"{label} target").opts(
                color=color, line_dash="dashed", line_width=1))
        return hv.Overlay(curves).opts(
            responsive=True, height=250, legend_position="top_left", title="Temperatures (last 10 minutes)",
            xlim=(start, now), ylim=(0, None), framewise=True, toolbar=None)

    def _stream_temperatures(self) -> None:
        fresh = [(t, temps) for t, temps in self.fleet.temperatures(self.key) if t > self._last_sample]
        if not fresh:
            return
        self._last_sample = fresh[-1][0]
        rows = {"time": [], **{f"{k}_{v}": [] for k in ("nozzle", "bed") for v in ("actual", "target")}}
        for t, temps in fresh:
            rows["time"].append(datetime.fromtimestamp(t))
            for heater in ("nozzle", "bed"):
                actual, target = temps.get(heater) or (float("nan"), float("nan"))
                rows[f"{heater}_actual"].append(actual)
                rows[f"{heater}_target"].append(target)
        self._buffer.send(pd.DataFrame(rows))
        if not self.chart.visible:
            self.chart.visible, self.chart_empty.visible = True, False

    def refresh(self) -> None:
        printer = self.fleet.printers().get(self.key) or {"key": self.key, "shown_state": "offline"}
        shown = printer.get("shown_state", "offline")
        cid = css_id(self.key)
        if self._confirm_until and time.monotonic() >= self._confirm_until:
            self._confirm_until = 0.0
            self.cancel_button.label = "Cancel job"
        header = (shown, printer.get("firmware"), printer.get("error"), printer.get("note"))
        if header != self._shown.get("header"):
            self._shown["header"] = header
            self._shown["state"] = shown
            note = f'<br><small class="muted">{_esc(printer.get("note"))}</small>' if printer.get("note") else ""
            error = f' <span class="warn">{_esc(printer.get("error"))}</span>' if printer.get("error") else ""
            self.title.object = (f'<b id="detail-{cid}">{_esc(self.key)}</b> '
                                 f'<small class="muted">{_esc(printer.get("port"))} {_esc(printer.get("firmware"))}'
                                 f"</small>{error}{note}")
            connected, idle = shown in CONNECTED, shown == "operational"
            self.connect_button.disabled = connected or shown in ("connecting", "offline")
            self.disconnect_button.disabled = shown in ("disconnected", "offline")
            for widget in (*self.jog_buttons, self.home_button, self.print_file_button, self.restart_button):
                widget.disabled = not idle
            self.print_order_button.disabled = not idle or not self.orders.value
            for widget in (self.set_targets, *self.preset_buttons, self.send_button):
                widget.disabled = not connected
            self.pause_button.disabled = shown != "printing"
            self.resume_button.disabled = shown != "paused"
            self.cancel_button.disabled = shown not in ("printing", "paused")
            self.estop.disabled = shown in ("offline", "disconnected")

        view = status_view(self.key, printer)
        if view != self._shown.get("view"):
            self._shown["view"] = view
            for part in (self.badge, self.readout, self.progress):
                part.fallback = view
        self._stream_temperatures()

        interrupted = printer.get("interrupted")
        if interrupted != self._shown.get("interrupted"):
            self._shown["interrupted"] = interrupted
            self.interrupted.visible = self.restart_button.visible = self.discard_button.visible = bool(interrupted)
            if interrupted:
                order = f' (order {_esc(interrupted["order"])})' if interrupted.get("order") else ""
                self.interrupted.object = (
                    f'<p class="warn" id="interrupted-{cid}">{_esc(interrupted["name"])}{order} was interrupted at '
                    f'line {interrupted["last_acked_line"]}: {_esc(interrupted.get("reason"))}. Restart from line '
                    f'{interrupted["restart_from_line"]} (the printer re-heats, homes X/Y and returns to the '
                    f"part first), or discard it.</p>")
                self.restart_button.label = f"Restart from line {interrupted['restart_from_line']}"

        history = printer.get("history") or []
        if history != self._shown.get("history"):
            self._shown["history"] = history
            rows = "".join(
                f'<tr><td>{_esc(h["name"])}</td><td>{_esc(h.get("order") or "")}</td>'
                f'<td style="color:{OUTCOME_COLORS.get(h["outcome"], "#555")};font-weight:600">{_esc(h["outcome"])}'
                f'</td><td>{_clock(h.get("duration_s"))}</td><td>{h.get("last_acked_line", "")}</td>'
                f'<td>{datetime.fromtimestamp(h["ended_at"]).strftime("%H:%M:%S")}</td></tr>' for h in history)
            self.history.object = (
                f'<table class="history" id="history-{cid}"><tr><th>job</th><th>order</th><th>outcome</th>'
                f"<th>duration</th><th>last line</th><th>ended</th></tr>{rows}</table>" if rows
                else '<p class="muted">No jobs yet on this printer.</p>')

        key = (len(self.fleet.log(self.key)), (self.fleet.log(self.key) or [[0]])[-1][0], self.show_temperatures.value)
        if key != self._shown.get("log"):
            self._shown["log"] = key
            entries = [e for e in self.fleet.log(self.key) if self.show_temperatures.value or e[3] != "temperature"]
            lines = "\n".join(
                f'<span class="{"send" if direction == "send" else kind}">'
                f'{time.strftime("%H:%M:%S", time.localtime(t))} {"&gt;" if direction == "send" else "&lt;"} '
                f"{_esc(text)}</span>" for t, direction, text, kind in entries[-LOG_LINES:][::-1])
            self.log.object = f'<pre class="log" id="console-{cid}">{lines}</pre>'

        for command_id, action in list(self._pending.items()):
            reply = self.fleet.reply(command_id)
            if reply is not None:
                del self._pending[command_id]
                if not reply.get("ok"):
                    self._say(f"{action}: {reply.get('message')}")
                elif action in ("start", "restart", "connect"):
                    self._say("")
        if self._message != self._shown.get("message"):
            self._shown["message"] = self._message
            self.alert.object, self.alert.visible = _esc(self._message), bool(self._message)

        if self.order_store is not None and time.monotonic() >= self._order_refresh_at:
            self._order_refresh_at = time.monotonic() + ORDER_REFRESH_S
            self._refresh_orders()

    def _refresh_orders(self) -> None:
        from somana_core.fulfilment import printable_orders

        try:
            orders = printable_orders(self.order_store)
        except Exception as exc:  # noqa: BLE001 - a database hiccup must not stop the machine page
            self._say(f"order list: {exc}")
            return
        options = {NO_ORDER: ""}
        options.update({f"{o.number} · {o.family} · {o.customer[:40]} · {o.state}": o.number for o in orders})
        if options != self.orders.options:
            chosen = self.orders.value if self.orders.value in options.values() else ""
            self.orders.options = options
            self.orders.value = chosen
        self._order_chosen()

    # ------------------------------------------------------------------ layout
    def __panel__(self):
        # FlexBoxes wrap on a phone where a Row would be cut at the panel's edge
        temperatures = pn.Column(
            pn.pane.Markdown("**Temperatures**"), self.readout,
            pn.FlexBox(self.nozzle_target, self.bed_target, self.set_targets), pn.FlexBox(*self.preset_buttons),
            self.chart_empty, self.chart, sizing_mode="stretch_width")
        motion = pn.Column(pn.pane.Markdown("**Jog** (mm per press)"), self.jog_step,
                           pn.FlexBox(*self.jog_buttons, self.home_button), sizing_mode="stretch_width")
        job = pn.Column(
            pn.pane.Markdown("**Job**"), self.progress,
            pn.Row(self.pause_button, self.resume_button, self.cancel_button),
            pn.Row(self.interrupted), pn.Row(self.restart_button, self.discard_button),
            pn.FlexBox(self.orders, self.print_order_button, sizing_mode="stretch_width"), self.choice,
            self.upload_row, sizing_mode="stretch_width")
        console = pn.Column(pn.pane.Markdown("**Console**"),
                            pn.Row(self.command, self.send_button, sizing_mode="stretch_width"),
                            self.show_temperatures, self.log, sizing_mode="stretch_width")
        history = pn.Column(pn.pane.Markdown("**Job history**"), self.history, sizing_mode="stretch_width")
        return pn.Column(
            pn.Row(self.badge, self.title, self.close_button, sizing_mode="stretch_width"),
            pn.Row(self.connect_button, self.disconnect_button), self.estop, self.alert,
            job, temperatures, motion, console, history, sizing_mode="stretch_width")


class MachineControl(pn.viewable.Viewer):
    """The fleet: a sticky bar (summary, notices, STOP ALL), one row per printer, the detail panel."""

    def __init__(self, fleet, order_store=None, **params):
        super().__init__(**params)
        GcodeUpload.load_on_page()  # the detail panel's upload is drawn later: its JavaScript comes now
        self.fleet = fleet
        self.order_store = order_store
        self.rows: dict[str, PrinterRow] = {}
        self.detail: PrinterDetail | None = None
        self.summary = pn.pane.HTML(stylesheets=[CSS], sizing_mode="stretch_width", margin=(6, 10))
        self.notice = pn.pane.Alert("", alert_type="info", visible=False, sizing_mode="stretch_width",
                                    css_classes=["job-notice"], margin=(0, 10))
        self.stop_all = estop_button("*", "STOP ALL PRINTERS", height=44, width=240, css_classes=["stop-all"])
        self.list = pn.Column(sizing_mode="stretch_width", css_classes=["fleet-list"])
        self.drawer = pn.Column(sizing_mode="fixed", visible=False, css_classes=["printer-detail"],
                                styles={"position": "fixed", "top": "0", "right": "0", "height": "100vh",
                                        "width": "min(640px, max(calc(100vw - 270px), 360px))", "overflow-y": "auto", "background": "#fff",
                                        "box-shadow": "-6px 0 18px rgba(0,0,0,.18)", "z-index": "200",
                                        "padding": "6px 4px"},
                                # a phone has no room beside STOP ALL: the panel opens below the bar
                                stylesheets=[PHONE_DRAWER_CSS])
        self._version = -1
        self._seen_jobs: dict[str, float] = {}
        self._notice_until = 0.0
        self._first = True
        self.refresh()

    def open_detail(self, key: str) -> None:
        if self.detail is None or self.detail.key != key:
            self.detail = PrinterDetail(self.fleet, on_close=self.close_detail, key=key, order_store=self.order_store)
            self.drawer.objects = [self.detail]
        self.drawer.visible = True

    def close_detail(self) -> None:
        self.drawer.visible = False
        self.drawer.objects = []
        self.detail = None

    def refresh(self) -> None:
        """Called by each session's periodic callback: cheap when nothing changed on the bus."""
        now = time.monotonic()
        if self.notice.visible and now >= self._notice_until:
            self.notice.visible = False
        if self.detail is not None:
            self.detail.refresh()
        version = self.fleet.version
        if version == self._version:
            for row in self.rows.values():
                if row._confirm_until:
                    row.update(self.fleet.printers().get(row.key, {}))
            return
        self._version = version
        printers = self.fleet.printers()
        if list(printers) != list(self.rows):
            for key in printers:
                if key not in self.rows:
                    self.rows[key] = PrinterRow(self.fleet, self.open_detail, key=key)
            self.rows = {key: self.rows[key] for key in printers}
            self.list.objects = list(self.rows.values()) or [pn.pane.HTML(
                '<p class="muted" id="no-printers">No printers on the bus yet: start a station '
                "(<code>somana station --name NAME --printer sim</code>).</p>", stylesheets=[CSS])]
        counts: dict[str, int] = {}
        for key, printer in printers.items():
            self.rows[key].update(printer)
            counts[printer["shown_state"]] = counts.get(printer["shown_state"], 0) + 1
            self._notice_job_end(key, printer)
        self._first = False
        parts = [f"{n} {state}" for state, n in sorted(counts.items())]
        self.summary.object = (f'<span class="summary" id="fleet-summary">{len(printers)} printer'
                               f'{"s" if len(printers) != 1 else ""}: {", ".join(parts) or "none"}</span>')

    def _notice_job_end(self, key: str, printer: dict) -> None:
        last = (printer.get("history") or [None])[0]
        ended = float(last["ended_at"]) if last else 0.0
        seen = self._seen_jobs.get(key)
        self._seen_jobs[key] = ended
        if self._first or seen is None or ended <= seen or last is None:
            return
        outcome = last["outcome"]
        where = f" at line {last['last_acked_line']}" if outcome != "done" else ""
        self.notice.alert_type = "success" if outcome == "done" else "danger"
        self.notice.object = (f'<span id="job-notice">{_esc(last["name"])} on {_esc(key)}: {_esc(outcome)}{where} '
                              f'after {_clock(last.get("duration_s"))}{" — " + _esc(last.get("reason")) if outcome != "done" else ""}</span>')
        self.notice.visible = True
        self._notice_until = time.monotonic() + NOTICE_S

    def __panel__(self):
        # STOP ALL on the left: the detail panel opens on the right and must never cover it
        bar = pn.Column(pn.Row(self.stop_all, self.summary, sizing_mode="stretch_width"), self.notice,
                        sizing_mode="stretch_width",
                        styles={"position": "sticky", "top": "0", "z-index": "100", "background": "#f3f5f4",
                                "padding": "4px 0"})
        return pn.Column(bar, self.list, self.drawer, sizing_mode="stretch_width")
