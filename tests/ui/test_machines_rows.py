"""The words of a printer's row on /machines, as a floor worker reads them in Chromium: the one renderer
(printer_status.ROW_JS, used for the broker path and the server-pushed fallback alike, and for the detail
panel's badge, readout and job line) fed with what this process pushes for a real printer on a real
station over a real Mosquitto (idle, printing, halted with its job interrupted), and with the other
states derived from those (offline mid-job, error, idle after a job)."""

from __future__ import annotations

import pytest

from dashboards.components.machine_control import MachineControl
from dashboards.components.printer_status import ROW_JS
from device_io.simulator import VirtualPrinter
from somana_core.floor.fleet import Fleet
from somana_core.floor.local import LocalBroker
from somana_core.floor.station import PrinterSpec, Station
from tests.support.waiting import wait_until

pytestmark = pytest.mark.browser

KEY = "rows/p1"
LONG_JOB = "\n".join(["G28"] + [f"G1 X{5 + i % 30} F600" for i in range(3000)]) + "\n"


@pytest.fixture(scope="module")
def views(tmp_path_factory):
    """What MachineControl pushes for the row (`fallback`) in three states of one real printer."""
    sim = VirtualPrinter(time_scale=0.02)
    with pytest.MonkeyPatch.context() as patch, LocalBroker() as broker:
        patch.setenv("SOMANA_HOME", str(tmp_path_factory.mktemp("somana-home")))  # the station's journal
        station = Station("rows", [PrinterSpec("p1", sim.start())], broker.url, publish_interval_s=0.05).start()
        fleet = Fleet(broker.url).start()
        try:
            control = MachineControl(fleet)

            def shown(state):
                control.refresh()
                row = control.rows.get(KEY)
                return row is not None and row.info.fallback.get("shown_state") == state and row.info.fallback
            def idle_with_readings():  # the state comes before the first temperature report
                view = shown("operational") or {}
                return view if (view.get("temperatures") or {}).get("nozzle") else None
            out = {"operational": wait_until(idle_with_readings, 20, interval_s=0.05)}
            fleet.wait_reply(fleet.command(KEY, "temperature", heater="T0", celsius=215), 10)
            fleet.wait_reply(fleet.command(KEY, "start", gcode=LONG_JOB, name="long.gcode"), 10)
            def printing():
                view = shown("printing") or {}
                nozzle = (view.get("temperatures") or {}).get("nozzle") or [0, 0]
                return view if (view.get("job") or {}).get("lines_acked") and nozzle[1] == 215 else None
            out["printing"] = wait_until(printing, 20, interval_s=0.05)
            fleet.estop(KEY, press_id="web-rowtext1")
            out["halted"] = wait_until(lambda: shown("halted"), 10, interval_s=0.05)
        finally:
            fleet.close()
            station.stop()
            sim.stop()
    return out


@pytest.fixture(scope="module")
def page(browser):
    context = browser.new_context()
    opened = context.new_page()
    requests = []
    opened.on("request", lambda request: requests.append(request.url))
    opened.set_content("<!doctype html><html><body></body></html>")
    opened.add_script_tag(content=ROW_JS)  # the renderer alone: no import, no server
    yield opened
    assert requests == [], requests  # nothing leaves the machine
    context.close()


def text(page, printer: dict, part: str = "row") -> str:
    """The visible text of `part` drawn for `printer`, as innerText (what a person reads)."""
    return page.evaluate("([p, part]) => { const d = document.createElement('div'); d.innerHTML = printerHtml(p, part);"
                         " document.body.replaceChildren(d); return d.innerText; }", [printer, part])


def test_idle_printer_row_names_state_printer_station_and_both_temperatures(page, views):
    row = text(page, views["operational"])
    assert row.startswith("operational") and "p1" in row and "rows" in row
    assert "Nozzle" in row and "Bed" in row and "°C" in row and "idle" in row


def test_printing_row_shows_job_percent_lines_and_eta_and_the_nozzle_target(page, views):
    printing = views["printing"]
    job = printing["job"]
    row = text(page, printing)
    assert row.startswith("printing") and "long.gcode" in row and "→ 215" in row
    assert f"{float(job['percent']):.1f} %" in row and f"{job['lines_acked']}/{job['lines_total']} lines" in row
    assert "ETA" in row


def test_halted_row_shows_heaters_off_and_where_the_job_was_interrupted(page, views):
    halted = views["halted"]
    row = text(page, halted)
    assert row.startswith("halted") and "→" not in row and row.count("· off") == 2
    line = halted["interrupted"]["last_acked_line"]
    assert f"long.gcode interrupted at line {line}" in row
    assert f"restart from line {halted['interrupted']['restart_from_line']} in Details" in row
    # the detail panel's pieces are the same words
    assert text(page, halted, "badge") == "halted"
    assert "Nozzle" in text(page, halted, "temps") and "· off" in text(page, halted, "temps")
    assert text(page, halted, "job") in row


def test_offline_error_and_idle_after_a_job_rows(page, views):
    printing = views["printing"]
    offline = text(page, {**printing, "shown_state": "offline", "last_acked_line": 321})
    assert offline.startswith("offline") and "long.gcode: station offline, interrupted at line 321 or later" in offline
    error = text(page, {**views["operational"], "shown_state": "error", "error": "thermal runaway <E1>"})
    assert error.startswith("error") and "thermal runaway <E1>" in error  # escaped, shown as typed
    after = {**views["operational"], "history": [{"name": "box.gcode", "outcome": "done", "duration_s": 3725}]}
    assert "idle · last: box.gcode done in 1:02:05" in text(page, after)
