"""Machine control for floor staff: one panel per printer over the process-wide `PrinterHost`.

Nothing here blocks the server: printer actions that may wait (connect, start a job, print an
order) run in worker threads and only leave a message behind; a periodic callback per session
reads the host's state and updates the widgets. The emergency stop is written at once.
"""

from __future__ import annotations

import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401 - bokeh backend for the temperature chart
import pandas as pd
import panel as pn
import param
from holoviews.streams import Buffer

from device_io.host import CONNECTED_STATES, HostError, PrinterHost
from somana_core.data import read_table
from somana_core.errors import InputError

HISTORY_S = 600.0  # the chart shows the last 10 minutes
CHART_POINTS = 1200  # samples kept in the browser: 10 min at two samples per second, with room
LOG_LINES = 150
JOG_STEPS_MM = [0.1, 1.0, 10.0]
HEATER_NAMES = {"T0": "Nozzle", "B": "Bed"}
STATE_COLORS = {"disconnected": "#8a9ba3", "connecting": "#c7a02f", "operational": "#2f8a4f",
                "printing": "#0f6e6e", "paused": "#c7772f", "cancelling": "#c7772f", "error": "#a3271b"}

CSS = """
.state { display: inline-block; padding: .2rem .7rem; border-radius: 1rem; color: #fff; font-weight: 600; }
.readout { font-size: 1.05rem; }
.readout b { font-size: 1.3rem; }
.log { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .8rem; white-space: pre-wrap;
       background: #1f2a30; color: #d8e2e6; padding: .5rem .7rem; border-radius: 6px; height: 16rem;
       overflow-y: auto; margin: 0; }
.log .send { color: #8fd1c8; } .log .error { color: #ff9b8f; }
table.queue { border-collapse: collapse; width: 100%; font-size: .85rem; }
table.queue th, table.queue td { text-align: left; padding: .2rem .5rem; border-bottom: 1px solid #e3e8ea; }
p.queue { color: #5d6b73; font-size: .85rem; }
"""


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def preheat_presets() -> dict[str, tuple[float, float]]:
    table = read_table("preheat_presets.csv")
    return {str(r.material): (float(r.nozzle_c), float(r.bed_c)) for r in table.itertuples()}


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class PrinterControl(pn.viewable.Viewer):
    """Everything a floor worker does with one printer."""

    host = param.ClassSelector(class_=PrinterHost)
    order_store = param.Parameter(default=None, doc="somana_core.orders.OrderStore for the job queue (optional)")

    def __init__(self, **params):
        super().__init__(**params)
        h = self.host
        self._message = ""  # left by worker threads, shown by refresh()
        self._message_lock = threading.Lock()
        self._workdir_path: Path | None = None
        self._shown = {}

        self.state = pn.pane.HTML(stylesheets=[CSS], margin=(5, 10))
        self.readout = pn.pane.HTML(stylesheets=[CSS], margin=(5, 10), sizing_mode="stretch_width")
        self.alert = pn.pane.Alert("", alert_type="warning", visible=False, sizing_mode="stretch_width")

        self.connect_button = pn.widgets.Button(label="Connect", color="primary", css_classes=["connect"])
        self.disconnect_button = pn.widgets.Button(label="Disconnect", css_classes=["disconnect"])
        self.connect_button.on_click(lambda e: self._in_thread("connect", lambda: h.connect(wait=True)))
        self.disconnect_button.on_click(lambda e: self._in_thread("disconnect", h.disconnect))

        # temperatures: targets, presets, streamed chart
        self.nozzle_target = pn.widgets.FloatInput(label="Nozzle target, °C", value=0.0, start=0.0, step=5.0, width=140)
        self.bed_target = pn.widgets.FloatInput(label="Bed target, °C", value=0.0, start=0.0, step=5.0, width=140)
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
                                               for k in HEATER_NAMES for v in ("actual", "target")}}),
                              length=CHART_POINTS, index=False)
        self._last_sample = 0.0
        self.chart = pn.pane.HoloViews(hv.DynamicMap(self._temperature_plot, streams=[self._buffer]),
                                       sizing_mode="stretch_width", height=300)

        # motion
        self.jog_step = pn.widgets.RadioButtonGroup(label="Jog step, mm", options=JOG_STEPS_MM, value=1.0)
        self.jog_buttons = []
        for axis in "XYZ":
            for sign in (-1, 1):
                button = pn.widgets.Button(label=f"{axis}{'+' if sign > 0 else '−'}", width=55,
                                           css_classes=[f"jog-{axis.lower()}{'plus' if sign > 0 else 'minus'}"])
                button.on_click(lambda e, a=axis, s=sign: self._act(
                    "jog", lambda: h.jog(**{a.lower(): s * float(self.jog_step.value)})))
                self.jog_buttons.append(button)
        self.home_button = pn.widgets.Button(label="Home all", css_classes=["home-axes"])
        self.home_button.on_click(lambda e: self._act("home", h.home))

        # console
        self.command = pn.widgets.TextInput(placeholder="G-code, e.g. M115", sizing_mode="stretch_width",
                                            css_classes=["console-input"])
        self.send_button = pn.widgets.Button(label="Send", css_classes=["console-send"])
        self.send_button.on_click(lambda e: self._send_console())
        self.show_temperatures = pn.widgets.Checkbox(label="show temperature reports", value=False)
        self.log = pn.pane.HTML(stylesheets=[CSS], sizing_mode="stretch_width")

        # job
        self.upload = pn.widgets.FileInput(accept=".gcode,.gco,.g", css_classes=["gcode-upload"])
        self.print_file_button = pn.widgets.Button(label="Print uploaded file", color="primary",
                                                   css_classes=["print-file"])
        self.print_file_button.on_click(lambda e: self._print_upload())
        self.orders = pn.widgets.Select(label="Confirmed orders", options=[], sizing_mode="stretch_width")
        self.queue = pn.pane.HTML(stylesheets=[CSS], sizing_mode="stretch_width")
        self.print_order_button = pn.widgets.Button(label="Slice if needed and print order", color="primary",
                                                    css_classes=["print-order"])
        self.print_order_button.on_click(lambda e: self._print_order())
        self.pause_button = pn.widgets.Button(label="Pause", css_classes=["pause"])
        self.resume_button = pn.widgets.Button(label="Resume", css_classes=["resume"])
        self.cancel_button = pn.widgets.Button(label="Cancel job", color="warning", css_classes=["cancel"])
        self.pause_button.on_click(lambda e: self._act("pause", h.pause))
        self.resume_button.on_click(lambda e: self._act("resume", h.resume))
        self.cancel_button.on_click(lambda e: self._act("cancel", h.cancel))
        self.progress = pn.indicators.Progress(value=0, max=1000, sizing_mode="stretch_width", bar_color="success")
        self.progress_text = pn.pane.HTML(stylesheets=[CSS], margin=(0, 10))

        self.emergency = pn.widgets.Button(label=f"EMERGENCY STOP {h.name}", color="danger",
                                           css_classes=["emergency-stop"], height=48,
                                           stylesheets=[":host .bk-btn { font-weight: 800; font-size: 1.05rem; }"])
        self.emergency.on_click(lambda e: self.emergency_stop())
        self._order_refresh_at = 0.0
        self.refresh()

    # ------------------------------------------------------------------ actions
    @property
    def _workdir(self) -> Path:
        """Where this session's uploads and sliced orders go (made on first use, not per page view)."""
        if self._workdir_path is None:
            self._workdir_path = Path(tempfile.mkdtemp(prefix=f"somana-{self.host.name}-"))
        return self._workdir_path

    def _say(self, text: str) -> None:
        with self._message_lock:
            self._message = text

    def _act(self, what: str, action) -> None:
        """A quick host call (it only queues commands); its refusal becomes the message."""
        try:
            action()
            self._say("")
        except (HostError, InputError, ValueError) as exc:
            self._say(f"{what}: {getattr(exc, 'message', exc)}")

    def _in_thread(self, what: str, action) -> threading.Thread:
        """A host call that may wait (handshake, job start, slicing): off the server's threads."""
        thread = threading.Thread(target=self._act, args=(what, action), name=f"{self.host.name} {what}", daemon=True)
        thread.start()
        return thread

    def _set_targets(self, nozzle: float, bed: float) -> None:
        def both():
            self.host.set_temperature("T0", float(nozzle))
            self.host.set_temperature("B", float(bed))
        self._act("set targets", both)
        self.nozzle_target.value, self.bed_target.value = float(nozzle), float(bed)

    def _send_console(self) -> None:
        command = self.command.value_input or self.command.value
        if command.strip():
            self._act("send", lambda: self.host.send_command(command))
            self.command.value = ""

    def emergency_stop(self) -> None:
        self._act("emergency stop", self.host.emergency_stop)

    def _print_upload(self) -> None:
        if not self.upload.value:
            self._say("print: choose a G-code file first")
            return
        name = Path(self.upload.filename or "upload.gcode").name
        path = self._workdir / name
        path.write_bytes(self.upload.value)
        self._in_thread("print", lambda: self.host.start_job(path, name=name))

    def _print_order(self) -> None:
        number = self.orders.value
        if not number or self.order_store is None:
            self._say("print order: no confirmed order selected")
            return
        from somana_core.fulfilment import print_order

        self._say(f"{number}: slicing if needed, then printing")
        store, host, workdir = self.order_store, self.host, self._workdir
        self._in_thread(f"order {number}", lambda: print_order(store, host, number, workdir))
        self._order_refresh_at = 0.0

    # ------------------------------------------------------------------ host -> widgets
    def _temperature_plot(self, data: pd.DataFrame):
        now = datetime.now()
        start = now - timedelta(seconds=HISTORY_S)
        if len(data):  # less than 10 minutes of readings: show just those, not an empty strip
            start = max(start, min(data["time"].min(), now - timedelta(seconds=30)))
        curves = []
        for key, label in HEATER_NAMES.items():
            color = "#c7772f" if key == "T0" else "#0f6e6e"
            curves.append(hv.Curve(data, "time", (f"{key}_actual", "°C"), label=label).opts(color=color, line_width=2))
            curves.append(hv.Curve(data, "time", (f"{key}_target", "°C"), label=f"{label} target").opts(
                color=color, line_dash="dashed", line_width=1))
        return hv.Overlay(curves).opts(
            responsive=True, height=280, legend_position="top_left", title="Temperatures (last 10 minutes)",
            xlim=(start, now), ylim=(0, None), framewise=True, toolbar=None)

    def _stream_temperatures(self) -> None:
        history = self.host.temperature_history()
        fresh = [(t, readings) for t, readings in history if t > self._last_sample]
        if not fresh:
            return
        self._last_sample = fresh[-1][0]
        wall_minus_mono = time.time() - time.monotonic()
        rows = {"time": [], **{f"{k}_{v}": [] for k in HEATER_NAMES for v in ("actual", "target")}}
        for t, readings in fresh:
            rows["time"].append(datetime.fromtimestamp(t + wall_minus_mono))
            for key in HEATER_NAMES:
                actual, target = readings.get(key) or readings.get("T" if key == "T0" else key) or (float("nan"),) * 2
                rows[f"{key}_actual"].append(actual)
                rows[f"{key}_target"].append(target)
        self._buffer.send(pd.DataFrame(rows))

    def refresh(self) -> None:
        """Read the host and update what changed (called by a periodic callback per session)."""
        h = self.host
        state = h.state
        view = {"state": state, "error": h.error_message}
        if view != self._shown.get("state"):
            self._shown["state"] = view
            detail = f" — {_esc(h.error_message)}" if state == "error" and h.error_message else ""
            self.state.object = (f'<span class="state" id="state-{h.name}" style="background:'
                                 f'{STATE_COLORS.get(state, "#555")}">{state}</span> '
                                 f'<b>{_esc(h.name)}</b> <small>{_esc(h.port)} {_esc(h.firmware_name)}</small>{detail}')
            connected = state in CONNECTED_STATES
            idle = state == "operational"
            self.connect_button.disabled = connected or state == "connecting"
            self.disconnect_button.disabled = state == "disconnected"
            for widget in (*self.jog_buttons, self.home_button, self.print_file_button, self.print_order_button):
                widget.disabled = not idle
            for widget in (self.set_targets, *self.preset_buttons, self.send_button):
                widget.disabled = not connected
            self.pause_button.disabled = state != "printing"
            self.resume_button.disabled = state != "paused"
            self.cancel_button.disabled = state not in ("printing", "paused")

        temps = dict(h.temperatures)
        if temps != self._shown.get("temps"):
            self._shown["temps"] = temps
            parts = []
            for key, label in HEATER_NAMES.items():
                actual, target = temps.get(key) or temps.get("T" if key == "T0" else key) or (None, None)
                text = "—" if actual is None else f"{actual:.1f} °C"
                goal = "" if target is None else f" → {target:.0f} °C"
                parts.append(f'{label} <b id="temp-{key}-{h.name}">{text}</b>{goal}')
            self.readout.object = '<div class="readout">' + " &nbsp; ".join(parts) + "</div>"
        self._stream_temperatures()

        progress = h.progress()
        shown = (round(progress["percent"], 1), progress["lines_acked"], h.job_name, state, h.job_result.get("status"))
        if shown != self._shown.get("progress"):
            self._shown["progress"] = shown
            self.progress.value = int(round(progress["percent"] * 10))
            result = h.job_result.get("status")
            name = progress.get("name") or h.job_name or "no job"
            tail = f" · {result}" if result and state not in ("printing", "paused", "cancelling") else ""
            self.progress_text.object = (
                f'<span id="job-progress-{h.name}">{progress["percent"]:.1f} %</span> · {_esc(name)} · '
                f'{progress["lines_acked"]}/{progress["lines_total"]} lines · elapsed {_clock(progress["elapsed_s"])}'
                f' · ETA {_clock(progress["eta_s"])}{tail}')

        key = (h.log_version, self.show_temperatures.value)
        if key != self._shown.get("log"):
            self._shown["log"] = key
            entries = h.log(LOG_LINES, include_temperatures=self.show_temperatures.value)[::-1]  # newest first
            lines = "\n".join(
                f'<span class="{"send" if e.direction == "send" else e.kind}">'
                f'{time.strftime("%H:%M:%S", time.localtime(e.time))} {"&gt;" if e.direction == "send" else "&lt;"} '
                f'{_esc(e.text)}</span>' for e in entries)
            self.log.object = f'<pre class="log" id="console-{h.name}">{lines}</pre>'

        with self._message_lock:
            message = self._message
        if message != self._shown.get("message"):
            self._shown["message"] = message
            self.alert.object, self.alert.visible = message, bool(message)

        if self.order_store is not None and time.monotonic() >= self._order_refresh_at:
            self._order_refresh_at = time.monotonic() + 3.0
            self._refresh_orders()

    def _refresh_orders(self) -> None:
        from somana_core.fulfilment import printable_orders

        try:
            orders = printable_orders(self.order_store)
        except Exception as exc:  # noqa: BLE001 - a database hiccup must not stop the machine page
            self._say(f"order queue: {exc}")
            return
        options = {f"{o.number} · {o.family} · {o.customer} · {o.state}": o.number for o in orders}
        if options != self.orders.options:
            self.orders.options = options
        try:
            printing = self.order_store.list("printing")
        except Exception:  # noqa: BLE001 - shown above already
            printing = []
        rows = "".join(
            f"<tr><td>{_esc(o.number)}</td><td>{_esc(o.state)}</td><td>{_esc(o.family)}</td>"
            f"<td>{_esc(o.customer)}</td><td>{o.qty}</td><td>{_clock(o.print_time_s)}</td></tr>"
            for o in [*printing, *orders])
        self.queue.object = (
            f'<table class="queue" id="order-queue-{self.host.name}"><tr><th>order</th><th>state</th><th>family</th>'
            f"<th>customer</th><th>qty</th><th>print time</th></tr>{rows}</table>" if rows
            else '<p class="queue">No confirmed orders waiting.</p>')

    # ------------------------------------------------------------------ layout
    def __panel__(self):
        temperatures = pn.Column(
            self.readout, pn.Row(self.nozzle_target, self.bed_target, self.set_targets),
            pn.Row(*self.preset_buttons), self.chart, sizing_mode="stretch_width")
        motion = pn.Column(pn.pane.Markdown("**Jog** (mm per press)"), self.jog_step,
                           pn.Row(*self.jog_buttons[:2], *self.jog_buttons[2:4], *self.jog_buttons[4:]),
                           self.home_button)
        job = pn.Column(
            pn.pane.Markdown("**Job**"), pn.Row(self.upload, self.print_file_button),
            self.queue, pn.Row(self.orders, self.print_order_button, sizing_mode="stretch_width"),
            pn.Row(self.pause_button, self.resume_button, self.cancel_button),
            self.progress, self.progress_text, sizing_mode="stretch_width")
        console = pn.Column(pn.pane.Markdown("**Console**"), pn.Row(self.command, self.send_button,
                                                                    sizing_mode="stretch_width"),
                            self.show_temperatures, self.log, sizing_mode="stretch_width")
        return pn.Column(
            pn.Row(self.state, self.connect_button, self.disconnect_button, sizing_mode="stretch_width"),
            self.alert,
            pn.Row(pn.Column(temperatures, job, sizing_mode="stretch_width"),
                   pn.Column(motion, console, sizing_mode="stretch_width"), sizing_mode="stretch_width"),
            sizing_mode="stretch_width", styles={"background": "#fff", "border-radius": "10px"}, margin=(10, 14))


class MachineControl(pn.viewable.Viewer):
    """Every configured printer, with an emergency-stop bar that stays in view while scrolling."""

    def __init__(self, hosts: list[PrinterHost], order_store=None, **params):
        super().__init__(**params)
        self.printers = [PrinterControl(host=h, order_store=order_store) for h in hosts]

    def refresh(self) -> None:
        for printer in self.printers:
            printer.refresh()

    def __panel__(self):
        bar = pn.Row(*[p.emergency for p in self.printers], sizing_mode="stretch_width",
                     styles={"position": "sticky", "top": "0", "z-index": "100", "background": "#f3f5f4",
                             "padding": "6px 8px"})
        return pn.Column(bar, *self.printers, sizing_mode="stretch_width")
