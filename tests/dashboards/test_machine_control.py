"""The fleet view and one printer's detail, driven against a real station over a real Mosquitto
(no browser: buttons are clicked in Python, the periodic refresh is called directly)."""

from __future__ import annotations

import panel as pn
import pytest

from dashboards import machines
from dashboards.components.machine_control import MachineControl, PrinterDetail, preheat_presets
from device_io.simulator import VirtualPrinter
from somana_core.floor.fleet import Fleet
from somana_core.floor.local import LocalBroker
from somana_core.floor.station import PrinterSpec, Station
from somana_core.orders import OrderStore
from tests.support.waiting import wait_until

JOB = "\n".join(["G28", "G90"] + [f"G1 X{5 + i % 30} Y{5 + i % 20} F9000" for i in range(80)]) + "\n"
KEY = "bench/p1"


@pytest.fixture(scope="module")
def broker():
    with LocalBroker() as started:
        yield started


@pytest.fixture
def floor(broker, somana_home):
    sims = [VirtualPrinter(time_scale=0.02) for _ in range(2)]
    station = Station("bench", [PrinterSpec(f"p{i + 1}", sim.start()) for i, sim in enumerate(sims)], broker.url,
                      publish_interval_s=0.05).start()
    fleet = Fleet(broker.url).start()
    wait_until(lambda: all(fleet.printers().get(f"bench/p{i}", {}).get("shown_state") == "operational"
                           for i in (1, 2)), 20, message="both printers operational")
    store = OrderStore()
    yield fleet, sims, store
    store.close()
    fleet.close()
    station.stop()
    for sim in sims:
        sim.stop()


def estop_target(button) -> str:
    """The printer an e-stop button's browser-side callback stops."""
    from panel.links import Callback

    (link,) = [link for link in Callback.registry.get(button, []) if "printer" in link.args]
    return link.args["printer"]


def row_view(control, key=KEY) -> dict:
    """What this process pushes for the row (its `fallback`): data only; the browser writes the text from it
    (printer_status.ROW_JS, whose words tests/ui/test_machines_rows.py checks for these same states)."""
    return control.rows[key].info.fallback


def until(condition, refresh, timeout=20.0):
    def check():
        refresh()
        return condition()
    wait_until(check, timeout, interval_s=0.05)


def test_fleet_shows_one_row_per_printer_with_state_and_temperatures(floor):
    fleet, _, _ = floor
    control = MachineControl(fleet)
    assert list(control.rows) == ["bench/p1", "bench/p2"]
    row = row_view(control)
    assert row["key"] == KEY and row["shown_state"] == "operational" and row["temperatures"]["nozzle"]
    assert "2 printers: 2 operational" in control.summary.object


def test_detail_opens_on_demand_and_a_preset_sets_both_targets(floor):
    fleet, _, _ = floor
    control = MachineControl(fleet)
    assert control.detail is None and not control.drawer.visible
    control.rows[KEY].details_button.clicks += 1
    detail = control.detail
    assert control.drawer.visible and detail.key == KEY
    nozzle, bed = preheat_presets()["PLA"]
    next(b for b in detail.preset_buttons if b.label.startswith("PLA")).clicks += 1
    def targets():
        detail.refresh()
        shown = detail.readout.fallback.get("temperatures") or {}
        return shown.get("nozzle", [0, 0])[1] == nozzle and shown.get("bed", [0, 0])[1] == bed
    until(targets, control.refresh)
    assert detail.badge.fallback == detail.readout.fallback == detail.progress.fallback
    until(lambda: len(detail._buffer.data) > 0 and detail.chart.visible, control.refresh)


def test_chart_before_any_reading_is_a_message_not_an_empty_axis(floor):
    fleet, _, _ = floor
    detail = PrinterDetail(fleet, key="nowhere/p9")
    assert not detail.chart.visible and "No temperature readings yet" in detail.chart_empty.object


def test_console_sends_on_enter_and_clears(floor):
    fleet, _, _ = floor
    detail = PrinterDetail(fleet, key=KEY)
    detail.command.value_input = "M115"
    detail.command.param.trigger("enter_pressed")
    assert detail.command.value == "" and detail.command.value_input == ""
    until(lambda: "FIRMWARE_NAME" in detail.log.object, detail.refresh)
    detail.send_button.clicks += 1  # nothing typed: nothing sent (not a second M115)
    assert sum("M115" in e[2] and e[1] == "send" for e in fleet.log(KEY)) == 1


def test_jog_moves_the_printer_by_the_chosen_step(floor):
    fleet, sims, _ = floor
    detail = PrinterDetail(fleet, key=KEY)
    detail.home_button.clicks += 1
    wait_until(lambda: sims[0].position["X"] == 0.0, 10)
    detail.jog_step.value = 10.0
    next(b for b in detail.jog_buttons if b.label == "X+").clicks += 1
    wait_until(lambda: sims[0].position["X"] == pytest.approx(10.0), 10)


def test_nothing_prints_until_an_order_is_chosen_then_it_prints_and_a_notice_shows(floor):
    fleet, _, store = floor
    order = store.place("Ada", "sensor_enclosure", {}, {"total_usd": 40}, files={"a.gcode": JOB.encode()})
    control = MachineControl(fleet, order_store=store)
    control.open_detail(KEY)
    detail = control.detail
    detail._order_refresh_at = 0
    control.refresh()
    assert detail.orders.value == "" and detail.print_order_button.disabled
    assert order.number in list(detail.orders.options.values())
    assert "Nothing prints until you choose an order" in detail.choice.object
    detail.orders.value = order.number
    assert not detail.print_order_button.disabled and order.number in detail.choice.object
    detail.print_order_button.clicks += 1
    wait_until(lambda: store.get(order.number).state == "done", 30)
    until(lambda: control.notice.visible and "done" in control.notice.object, control.refresh)
    until(lambda: f"<td>{order.number}</td>" in detail.history.object and ">done<" in detail.history.object,
          control.refresh)


def test_cancel_asks_first_and_records_the_order_cancelled(floor):
    fleet, _, store = floor
    long_job = "\n".join(["G28"] + [f"G1 X{5 + i % 30} Y{5 + i % 20} F600" for i in range(3000)]) + "\n"
    order = store.place("Bo", "sensor_enclosure", {}, {"total_usd": 40}, files={"b.gcode": long_job.encode()})
    control = MachineControl(fleet, order_store=store)
    fleet.wait_reply(fleet.command(KEY, "start", order=order.number), 15)
    until(lambda: not control.rows[KEY].cancel_button.disabled, control.refresh)
    row = control.rows[KEY]
    row.cancel_button.clicks += 1
    assert row.cancel_button.label == "Confirm cancel?"
    control.refresh()
    assert fleet.printers()[KEY]["shown_state"] == "printing"  # one click sends nothing
    row.cancel_button.clicks += 1
    wait_until(lambda: store.get(order.number).state == "cancelled", 30, message="order cancelled")
    until(lambda: "cancelled" in control.notice.object, control.refresh)


def test_emergency_stop_shows_halted_with_targets_cleared_and_job_stopped(floor):
    fleet, sims, _ = floor
    control = MachineControl(fleet)
    fleet.wait_reply(fleet.command(KEY, "temperature", heater="T0", celsius=215), 10)
    long_job = "\n".join(["G28"] + [f"G1 X{5 + i % 30} F600" for i in range(3000)]) + "\n"
    fleet.wait_reply(fleet.command(KEY, "start", gcode=long_job, name="long.gcode"), 10)
    until(lambda: row_view(control).get("shown_state") == "printing", control.refresh)
    assert estop_target(control.rows[KEY].estop) == KEY  # the click itself runs in the browser (tests/ui)
    fleet.estop(KEY, press_id="web-rowclick1")
    wait_until(lambda: sims[0].emergency_received_at is not None, 2)
    until(lambda: row_view(control).get("shown_state") == "halted", control.refresh)
    row = row_view(control)
    assert row["temperatures"]["nozzle"][1] == 0 and row["job"] is None and row["interrupted"]["reason"]
    assert control.rows[KEY].pause_button.disabled and control.rows[KEY].cancel_button.disabled
    assert fleet.printers()["bench/p2"]["shown_state"] == "operational"  # only that printer


def test_stop_all_halts_every_printer(floor):
    fleet, sims, _ = floor
    control = MachineControl(fleet)
    assert estop_target(control.stop_all) == "*"
    fleet.estop("*", press_id="web-stopall1")
    wait_until(lambda: all(sim.emergency_received_at is not None for sim in sims), 3)
    until(lambda: "2 halted" in control.summary.object, control.refresh)


def test_interrupted_job_offers_restart_from_its_line(floor):
    fleet, sims, _ = floor
    long_job = "\n".join(["G28"] + [f"G1 X{5 + i % 30} F1200" for i in range(3000)]) + "\n"
    fleet.wait_reply(fleet.command(KEY, "start", gcode=long_job, name="long.gcode"), 10)
    wait_until(lambda: ((fleet.printers()[KEY].get("job") or {}).get("lines_acked") or 0) > 50, 20)
    fleet.estop(KEY)
    detail = PrinterDetail(fleet, key=KEY)
    assert estop_target(detail.estop) == KEY
    until(lambda: detail.restart_button.visible and "Restart from line" in detail.restart_button.label, detail.refresh)
    line = fleet.printers()[KEY]["interrupted"]["restart_from_line"]
    assert detail.restart_button.label == f"Restart from line {line}" and detail.restart_button.disabled  # halted
    detail.connect_button.clicks += 1
    until(lambda: not detail.restart_button.disabled, detail.refresh)
    detail.restart_button.clicks += 1
    until(lambda: (fleet.printers()[KEY].get("job") or {}).get("from_line") == line, detail.refresh)


def test_machines_app_without_a_staff_user_shows_no_machine_control():
    page = machines.create_app()  # outside a server: no cookie, no user
    assert page.select(pn.widgets.Button) == []
    assert "Staff login required" in page.select(pn.pane.HTML)[-1].object
