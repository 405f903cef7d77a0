"""The machine-control panel drives a real host on the virtual printer and shows what the host reports
(no browser: buttons are clicked in Python, the periodic refresh is called directly)."""

from __future__ import annotations

import time

import panel as pn
import pytest

from dashboards import machines
from dashboards.components.machine_control import PrinterControl, preheat_presets
from device_io.host import PrinterHost
from device_io.simulator import VirtualPrinter
from somana_core.orders import OrderStore

JOB = "\n".join(["G28", "G90"] + [f"G1 X{5 + i % 30} Y{5 + i % 20} F9000" for i in range(80)]) + "\n"


def until(condition, timeout=20.0, refresh=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if refresh is not None:
            refresh()
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.fixture
def printer():
    sim = VirtualPrinter(time_scale=0.0)
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def panel(printer, somana_home):
    host = PrinterHost(name="bench-sim", port=printer.path)
    store = OrderStore()
    control = PrinterControl(host=host, order_store=store)
    yield control
    host.disconnect()
    store.close()


def connected(panel):
    panel.connect_button.clicks += 1
    until(lambda: panel.host.current_state == "operational")
    until(lambda: "operational" in panel.state.object, refresh=panel.refresh)
    return panel


def test_connect_button_connects_and_the_state_badge_follows(panel):
    assert "disconnected" in panel.state.object and panel.print_file_button.disabled
    connected(panel)
    assert panel.connect_button.disabled and not panel.print_file_button.disabled
    assert "Somana virtual printer" in panel.state.object


def test_preset_sets_both_targets_and_the_readout_shows_them(panel):
    connected(panel)
    nozzle, bed = preheat_presets()["PLA"]
    next(b for b in panel.preset_buttons if b.label.startswith("PLA")).clicks += 1
    def target(heater):  # Marlin reports the single nozzle as T (T0 with several extruders)
        temps = panel.host.temperatures
        return (temps.get(heater) or temps.get("T" if heater == "T0" else heater) or (0, 0))[1]

    until(lambda: target("T0") == nozzle and target("B") == bed, refresh=panel.refresh)
    until(lambda: f"→ {nozzle:.0f} °C" in panel.readout.object, refresh=panel.refresh)
    assert (panel.nozzle_target.value, panel.bed_target.value) == (nozzle, bed)
    until(lambda: len(panel._buffer.data) > 0, refresh=panel.refresh)  # samples streamed to the chart


def test_jog_moves_the_printer_by_the_chosen_step(panel, printer):
    connected(panel)
    panel.home_button.clicks += 1
    until(lambda: printer.position["X"] == 0.0)
    panel.jog_step.value = 10.0
    next(b for b in panel.jog_buttons if b.label == "X+").clicks += 1
    until(lambda: printer.position["X"] == pytest.approx(10.0))


def test_console_sends_and_hides_temperature_chatter_unless_asked(panel):
    connected(panel)
    panel.command.value = "M115"
    panel.send_button.clicks += 1
    until(lambda: "FIRMWARE_NAME" in panel.log.object, refresh=panel.refresh)
    until(lambda: any(e.kind == "temperature" for e in panel.host.log(500)))
    panel.refresh()
    assert " T:" not in panel.log.object
    panel.show_temperatures.value = True
    until(lambda: " T:" in panel.log.object, refresh=panel.refresh)


def test_uploaded_file_prints_to_100_percent(panel):
    connected(panel)
    panel.upload.param.update(value=JOB.encode(), filename="tiny.gcode")
    panel.print_file_button.clicks += 1
    until(lambda: panel.host.job_result.get("status") == "done", refresh=panel.refresh)
    until(lambda: 'id="job-progress-bench-sim">100.0 %' in panel.progress_text.object, refresh=panel.refresh)
    assert panel.progress.value == 1000 and "82/82 lines" in panel.progress_text.object


def test_confirmed_order_is_listed_and_printed_from_the_queue(panel):
    order = panel.order_store.place("Ada", "sensor_enclosure", {}, {"total_usd": 40}, files={"a.gcode": JOB.encode()})
    connected(panel)
    panel._order_refresh_at = 0
    panel.refresh()
    assert list(panel.orders.options.values()) == [order.number]
    assert f"<td>{order.number}</td><td>confirmed</td>" in panel.queue.object
    panel.orders.value = order.number
    panel.print_order_button.clicks += 1
    until(lambda: panel.order_store.get(order.number).state == "done", timeout=30)
    panel._order_refresh_at = 0
    panel.refresh()
    assert panel.orders.options == {}
    assert "No confirmed orders waiting" in panel.queue.object


def test_emergency_stop_halts_the_printer_and_locks_job_controls(panel, printer):
    connected(panel)
    panel.emergency.clicks += 1
    until(lambda: "error" in panel.state.object, refresh=panel.refresh)
    until(lambda: printer.emergency_received_at is not None)  # the virtual firmware got M112
    assert panel.cancel_button.disabled and panel.print_file_button.disabled and not panel.connect_button.disabled


def test_emergency_stop_when_disconnected_says_why(panel):
    panel.emergency.clicks += 1
    panel.refresh()
    assert panel.alert.visible and "not connected" in panel.alert.object


def test_machines_app_without_a_staff_user_shows_no_machine_control():
    page = machines.create_app()  # outside a server: no cookie, no user
    buttons = page.select(pn.widgets.Button)
    assert buttons == []
    assert "Staff login required" in page.select(pn.pane.HTML)[-1].object


def test_pause_resume_and_cancel_follow_the_job(somana_home):
    sim = VirtualPrinter(time_scale=0.3)  # slow enough that the job is still running when paused
    host = PrinterHost(name="slow-sim", port=sim.start())
    panel = PrinterControl(host=host)
    try:
        connected(panel)
        panel.upload.param.update(value=JOB.encode(), filename="slow.gcode")
        panel.print_file_button.clicks += 1
        until(lambda: "printing" in panel.state.object, refresh=panel.refresh)
        assert not panel.pause_button.disabled and panel.resume_button.disabled
        panel.pause_button.clicks += 1
        until(lambda: "paused" in panel.state.object, refresh=panel.refresh)
        assert not panel.resume_button.disabled
        panel.resume_button.clicks += 1
        until(lambda: "printing" in panel.state.object, refresh=panel.refresh)
        panel.cancel_button.clicks += 1
        until(lambda: host.job_result.get("status") == "cancelled", timeout=30, refresh=panel.refresh)
        until(lambda: "cancelled" in panel.progress_text.object, refresh=panel.refresh)
        assert host.temperatures.get("T", host.temperatures.get("T0", (0, 0)))[1] == 0  # heaters off after cancel
    finally:
        host.disconnect()
        sim.stop()
