"""A station in this process over a real Mosquitto, its printers virtual printers on pseudo-terminals:
state published retained, commands, jobs recorded with their outcome, the e-stop, a safe stop and
the restart of an interrupted job from its last acknowledged line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from device_io.simulator import VirtualPrinter
from somana_core.floor.station import PrinterSpec, Station, printer_specs
from somana_core.orders import OrderStore
from tests.floor.conftest import job_text
from tests.support.waiting import wait_until


@pytest.fixture
def sim():
    printer = VirtualPrinter(time_scale=0.02)
    printer.start()
    yield printer
    printer.stop()


@pytest.fixture
def station(broker, sim, somana_home, request):
    name = f"st-{request.node.name[-20:].replace('[', '-').replace(']', '')}".replace("_", "-")[:40]
    started = Station(name, [PrinterSpec("p1", sim.path)], broker.url, publish_interval_s=0.05).start()
    yield started
    started.stop()


def key(station):
    return f"{station.name}/p1"


def operational(fleet, station):
    wait_until(lambda: fleet.printers().get(key(station), {}).get("shown_state") == "operational", 15,
               message="the printer operational on the bus")


def send(fleet, station, action, timeout_s=15.0, **fields):
    reply = fleet.wait_reply(fleet.command(key(station), action, **fields), timeout_s)
    assert reply is not None, f"no reply to {action}"
    return reply


def test_printer_specs_name_ports_and_keep_names_apart():
    specs = printer_specs(["sim", "sim", "left=/dev/ttyUSB0", "socket://10.0.0.5:23"])
    assert [(s.name, s.port) for s in specs] == [("sim-1", "sim"), ("sim-2", "sim"), ("left", "/dev/ttyUSB0"),
                                                  ("10.0.0.5-23", "socket://10.0.0.5:23")]


def test_station_publishes_retained_state_and_goes_online(fleet, station):
    operational(fleet, station)
    printer = wait_until(lambda: (lambda p: p if set(p["temperatures"]) == {"nozzle", "bed"} else None)(
        fleet.printers()[key(station)]), 10, message="both heaters reported")  # the first report follows the handshake
    assert printer["online"] and printer["station"] == station.name and "Somana virtual printer" in printer["firmware"]


def test_a_job_sent_as_text_prints_to_the_end_and_enters_the_history(fleet, station, sim):
    operational(fleet, station)
    ended = []
    fleet.on_event(lambda k, e: ended.append(e) if e.get("kind") == "job-ended" else None)
    reply = send(fleet, station, "start", gcode=job_text(60), name="tiny.gcode")
    assert reply["ok"], reply
    wait_until(lambda: ended, 30, message="job-ended event")
    assert ended[0]["outcome"] == "done" and ended[0]["name"] == "tiny.gcode"
    wait_until(lambda: (fleet.printers()[key(station)]["history"] or [{}])[0].get("outcome") == "done", 5)
    history = fleet.printers()[key(station)]["history"][0]
    assert history["duration_s"] > 0 and history["lines_acked"] == history["lines_total"] == 63
    assert sim.executed_commands()[-1].startswith("G1 X")


def test_console_commands_reply_and_bad_ones_are_refused_with_the_field(fleet, station):
    operational(fleet, station)
    assert send(fleet, station, "console", command="M115")["ok"]
    wait_until(lambda: any("FIRMWARE_NAME" in entry[2] for entry in fleet.log(key(station))), 10,
               message="M115's answer in the console lines")
    refused = send(fleet, station, "console", command="M104 S1\nM140 S90")
    assert not refused["ok"] and refused["message"].startswith("command=")
    too_hot = send(fleet, station, "temperature", heater="T0", celsius=900)
    assert not too_hot["ok"] and too_hot["message"].startswith("celsius=900")


def test_estop_on_the_bus_halts_the_printer_and_clears_the_shown_targets(fleet, station, sim):
    operational(fleet, station)
    assert send(fleet, station, "temperature", heater="T0", celsius=210)["ok"]
    wait_until(lambda: (fleet.printers()[key(station)]["temperatures"]["nozzle"][1]) == 210, 10)
    send(fleet, station, "start", gcode=job_text(400), name="long.gcode")
    wait_until(lambda: fleet.printers()[key(station)]["shown_state"] == "printing", 10)
    fleet.estop("p1")
    wait_until(lambda: sim.emergency_received_at is not None, 2, message="M112 at the printer")
    wait_until(lambda: fleet.printers()[key(station)]["shown_state"] == "halted", 5)
    printer = fleet.printers()[key(station)]
    assert printer["temperatures"]["nozzle"][1] == 0 and printer["job"] is None
    assert printer["interrupted"]["reason"] == "emergency stop"
    assert printer["history"][0]["outcome"] == "interrupted"


def test_cancel_records_the_order_cancelled(fleet, station, somana_home):
    with OrderStore() as store:
        order = store.place("Ada", "sensor_enclosure", {"colour": "Signal Red"}, {"total_usd": 40},
                            files={"a.gcode": job_text(2000).encode()}, material="PETG")
    operational(fleet, station)
    assert send(fleet, station, "start", order=order.number)["ok"]
    wait_until(lambda: (fleet.printers()[key(station)].get("job") or {}).get("order") == order.number, 10)
    # the order's spool is the one loaded now (as the plan assumes), journalled for a restarted station
    assert station.slots["p1"].spool == {"material": "PETG", "colour": "signal red"}
    assert station._read_journal()["printers"]["p1"]["spool"] == {"material": "PETG", "colour": "signal red"}
    assert send(fleet, station, "cancel")["ok"]
    with OrderStore() as store:
        wait_until(lambda: store.get(order.number).state == "cancelled", 30, message="order cancelled")
        assert "last acknowledged line" in store.get(order.number).history[-1].note


def test_stopping_makes_the_printer_safe_and_the_job_restarts_from_its_last_line(broker, fleet, sim, somana_home):
    with OrderStore() as store:
        order = store.place("Ada", "sensor_enclosure", {}, {"total_usd": 40},
                            files={"a.gcode": job_text(3000).encode()})
    first = Station("restartable", [PrinterSpec("p1", sim.path)], broker.url, publish_interval_s=0.05).start()
    try:
        wait_until(lambda: fleet.printers().get("restartable/p1", {}).get("shown_state") == "operational", 15)
        fleet.wait_reply(fleet.command("restartable/p1", "temperature", heater="B", celsius=60), 10)
        fleet.wait_reply(fleet.command("restartable/p1", "start", order=order.number), 15)
        wait_until(lambda: ((fleet.printers()["restartable/p1"].get("job") or {}).get("lines_acked") or 0) > 200, 30)
    finally:
        first.stop()
    assert sim.heaters["T0"].target == 0 and sim.heaters["B"].target == 0
    assert "M84" in sim.executed_commands()[-6:]  # motors off after the job stopped
    journal = json.loads(first.journal_path.read_text())["printers"]["p1"]
    last = journal["interrupted"]["last_acked_line"]
    assert journal["job"] is None and last > 200
    with OrderStore() as store:
        assert store.get(order.number).state == "interrupted"
        assert f"last acknowledged line {last}" in store.get(order.number).history[-1].note
    wait_until(lambda: not fleet.printers()["restartable/p1"]["online"], 5)
    assert fleet.printers()["restartable/p1"]["interrupted"]["restart_from_line"] == last + 1

    sim.clear_log()
    second = Station("restartable", [PrinterSpec("p1", sim.path)], broker.url, publish_interval_s=0.05).start()
    try:
        wait_until(lambda: fleet.printers()["restartable/p1"]["shown_state"] == "operational", 15)
        assert fleet.printers()["restartable/p1"]["interrupted"]["restart_from_line"] == last + 1
        reply = fleet.wait_reply(fleet.command("restartable/p1", "restart"), 15)
        assert reply["ok"], reply
        with OrderStore() as store:
            wait_until(lambda: store.get(order.number).state == "done", 60, message="restarted order done")
        lines = job_text(3000).splitlines()
        # the host's own temperature polls and keepalive probes (M105) may fall between job lines (a slow,
        # loaded machine: failed once at load 17); the job's lines are what must be neither repeated nor skipped
        executed = [c for c in sim.executed_commands() if not c.startswith("M105")]
        assert "G28 X Y" in executed  # the restart preamble homes X/Y only
        tail = [c for c in lines[last:] if c and not c.startswith(";")]
        assert executed[-len(tail):] == tail
    finally:
        second.stop()


def test_a_printer_that_resets_mid_job_offers_a_restart_from_its_last_line(broker, fleet, somana_home):
    from device_io.simulator import FaultPlan

    sim = VirtualPrinter(FaultPlan.parse(["reset@300"]), time_scale=0.02)
    station = Station("resetting", [PrinterSpec("p1", sim.start())], broker.url, publish_interval_s=0.05).start()
    try:
        wait_until(lambda: fleet.printers().get("resetting/p1", {}).get("shown_state") == "operational", 15)
        assert fleet.wait_reply(fleet.command("resetting/p1", "start", gcode=job_text(1000), name="reset.gcode"),
                                10)["ok"]
        interrupted = wait_until(lambda: fleet.printers()["resetting/p1"]["interrupted"], 30,
                                 message="the job interrupted by the reset")
        assert 0 < interrupted["last_acked_line"] < 310 and interrupted["outcome"] == "failed"
        if fleet.printers()["resetting/p1"]["shown_state"] != "operational":
            assert fleet.wait_reply(fleet.command("resetting/p1", "connect"), 20)["ok"]
        sim.clear_log()
        assert fleet.wait_reply(fleet.command("resetting/p1", "restart"), 15)["ok"]
        wait_until(lambda: (fleet.printers()["resetting/p1"]["history"] or [{}])[0].get("outcome") == "done", 60)
        lines = job_text(1000).splitlines()
        tail = [c for c in lines[interrupted["last_acked_line"]:] if c and not c.startswith(";")]
        assert sim.executed_commands()[-len(tail):] == tail
    finally:
        station.stop()
        sim.stop()


def test_copies_of_one_estop_press_act_once(fleet, station, sim):
    """A press reaches the station by several paths with one id: a late copy must not halt the
    printer again after it was reconnected."""
    operational(fleet, station)
    fleet.estop("p1", press_id="web-once1")
    wait_until(lambda: fleet.printers()[key(station)]["shown_state"] == "halted", 5)
    assert send(fleet, station, "connect")["ok"]
    wait_until(lambda: fleet.printers()[key(station)]["shown_state"] == "operational", 10)
    first = sim.emergency_received_at
    fleet.estop("p1", press_id="web-once1", wait_s=2)  # the late copy
    fleet.estop("p1", press_id="web-other", wait_s=2)  # a new press still stops it
    wait_until(lambda: fleet.printers()[key(station)]["shown_state"] == "halted", 5)
    events = [e for e in fleet.log(key(station)) if "M112" in e[2]]
    assert sim.emergency_received_at != first and len(events) == 2


def test_a_job_ended_by_an_estop_is_recorded_as_one_at_the_moment_the_host_reports_it(fleet, station, sim):
    """The host fails the job inside its emergency_stop call, so the job's end can be recorded
    before that call returns. Driven deterministically: a listener records the job's end as soon
    as the host reports the stop, and the station's call is held until it has."""
    operational(fleet, station)
    send(fleet, station, "start", gcode=job_text(4000), name="long.gcode")
    wait_until(lambda: fleet.printers()[key(station)]["shown_state"] == "printing", 10)
    slot = station.slots["p1"]
    host = slot.host
    seen: list[dict] = []

    def on_snapshot(snapshot):
        if snapshot.state == "error" and not seen:
            station._check_job(slot)  # what the publisher thread does when it wins the race
            seen.append(dict(slot.history[0]))

    host.add_listener(on_snapshot)
    stop = host.emergency_stop

    def held_emergency_stop():
        latency = stop()
        wait_until(lambda: seen, 5, message="the listener recorded the job's end")
        return latency

    host.emergency_stop = held_emergency_stop
    station.emergency_stop(slot, source="test")
    assert seen[0]["outcome"] == "interrupted" and seen[0]["reason"] == "emergency stop", seen[0]
    wait_until(lambda: fleet.printers()[key(station)]["shown_state"] == "halted", 5)
    assert fleet.printers()[key(station)]["interrupted"]["reason"] == "emergency stop"


@pytest.mark.parametrize("received, restart_from", [(True, 61), (False, 41)])
def test_a_write_the_journal_never_confirmed_is_settled_by_the_printer(broker, fleet, somana_home, tmp_path,
                                                                       received, restart_from):
    """Killed between a write's intent (lines 41-60, the last numbered N) and its confirmation: the
    restarted station asks the printer which line number it last received before its handshake."""
    from device_io.host import PrinterHost

    sim = VirtualPrinter(time_scale=0.02, reset_on_open=False)  # native USB: the board keeps its line counter
    try:
        path = tmp_path / "job.gcode"
        path.write_text(job_text(100))
        earlier = PrinterHost(name="earlier", port=sim.start())
        earlier.connect()
        earlier.start_job(path)
        assert earlier.wait_for_job(timeout=30)["status"] == "done"
        earlier.disconnect()
        last_number = max(entry.number for entry in sim.executed() if entry.number is not None)
        lines = tmp_path / "p1.lines"
        lines.write_text(f"0\n40\n?40 60 {last_number if received else last_number + 3}\n")
        station_name = f"unconfirmed-{received}".lower()
        journal = Path(somana_home) / "floor" / f"{station_name}.json"
        journal.parent.mkdir(parents=True, exist_ok=True)
        journal.write_text(json.dumps({"station": station_name, "printers": {"p1": {
            "job": {"name": "job.gcode", "order": None, "path": str(path), "estimate_s": None, "started_at": 1.0,
                    "from_line": 1, "last_acked_line": 0, "lines_journal": str(lines)},
            "interrupted": None, "history": []}}}))
        station = Station(station_name, [PrinterSpec("p1", sim.path)], broker.url, publish_interval_s=0.05).start()
        try:
            shown = wait_until(lambda: (lambda p: p if p.get("shown_state") == "operational" and p.get("interrupted")
                                        and p["interrupted"]["restart_from_line"] == restart_from else None)(
                fleet.printers().get(f"{station_name}/p1", {})), 15, message=f"restart from line {restart_from}")
            assert shown["interrupted"]["last_acked_line"] == restart_from - 1
            assert shown["history"][0]["last_acked_line"] == restart_from - 1
            assert "unconfirmed" not in json.loads(journal.read_text())["printers"]["p1"]["interrupted"]
        finally:
            station.stop()
    finally:
        sim.stop()
