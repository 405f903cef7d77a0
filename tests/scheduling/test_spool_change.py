"""An operator's spool change reaches the plan: `somana spool` -> the printer's station (a real Station over
a real Mosquitto on a loopback port) -> a `spool-changed` event -> the live plan re-plans its changeovers
around the spool now loaded, and keeps it for a plan built afresh."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from somana.cli import main
from somana_core.floor.local import LocalBroker
from somana_core.floor.station import PrinterSpec, Station
from somana_core.orders import OrderStore
from somana_core.scheduling.floor import load_floor, save_floor
from somana_core.scheduling.live import LivePlan
from tests.support.waiting import wait_until

NOW = datetime(2026, 11, 30, 7, 0, tzinfo=timezone.utc)  # Monday 07:00
TIME_LIMIT_S = 1.0


@pytest.fixture(scope="module")
def broker():
    with LocalBroker() as started:
        yield started


@pytest.fixture
def floor(broker, somana_home):
    """A station owning p2 (data/printers.csv: PLA white), one PETG red order, the live plan on the bus."""
    station = Station("floor1", [PrinterSpec("p2", "sim")], broker.url, publish_interval_s=0.05).start()
    store = OrderStore()
    store.place("c", "sensor_enclosure", {"machine": "prusa_mk3s", "colour": "red"},
                {"print_time_s": 3 * 3600, "lead_time_days": 3}, material="PETG")
    plan = LivePlan(store_factory=lambda: store, broker_url=broker.url, time_limit_s=TIME_LIMIT_S,
                    first_time_limit_s=1.0, clock=lambda: NOW, poll_s=0.2).start()
    yield plan, station
    plan.close()
    station.stop()
    store.close()


def _connected(plan) -> None:
    """The station's printer connected and the plan has seen it (its re-plans for that are done)."""
    wait_until(lambda: plan.bus_states().get("floor1/p2") == "operational" and plan.view.printers["p2"].online,
               timeout_s=20, message="the plan has seen p2 connected")


def test_a_spool_changed_on_a_station_re_plans_the_changeovers(floor, broker, capsys):
    plan, station = floor
    _connected(plan)
    (printer, kinds), = [(a.printer, a.changeovers) for a in plan.view.schedule.assignments]
    assert printer != "p2" or "spool_swap" in kinds  # nothing has PETG red loaded yet: a swap somewhere

    assert main(["spool", "p2", "--material", "petg", "--colour", "Red", "--broker", broker.url]) == 0
    assert "spool changed: PETG red" in capsys.readouterr().out
    assert station.slots["p2"].spool == {"material": "PETG", "colour": "red"}
    wait_until(lambda: (plan.view.printers["p2"].material, plan.view.printers["p2"].colour) == ("PETG", "red"),
               timeout_s=20, message="the live plan has p2's new spool")
    # re-planned around it: the red PETG plate goes where that spool is loaded, with only a plate clear
    wait_until(lambda: [(a.printer, a.changeovers) for a in plan.view.schedule.assignments]
               == [("p2", ("plate_clear",))], timeout_s=20, message="the plate moved to p2 without a swap")
    replan = next(r for r in plan.replan_times if "spool_changed" in r["events"])
    assert replan["solve_s"] <= TIME_LIMIT_S + 1.0
    assert load_floor()["spools"]["p2"] == {"material": "PETG", "colour": "red"}  # a rebuilt plan keeps it


@pytest.mark.parametrize("words, field", [
    (["--material", "unobtainium", "--colour", "red"], "--material"),
    (["--material", "PLA", "--colour", "r3d!"], "--colour"),
])
def test_a_bad_spool_is_refused_with_its_field_and_nothing_is_sent(floor, broker, capsys, words, field):
    plan, station = floor
    assert main(["spool", "p2", *words, "--broker", broker.url]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"somana spool: {field}") and "\n" not in err
    assert station.slots["p2"].spool is None  # refused before the bus: the station never heard of it
    assert not any(e["event"] == "spool_changed" for e in plan.applied)


def test_a_printer_not_on_the_bus_is_refused(floor, broker, capsys):
    assert main(["spool", "p9", "--material", "PLA", "--colour", "red", "--broker", broker.url, "--wait", "0.5"]) == 2
    assert "printer='p9' is not on the bus" in capsys.readouterr().err


def test_a_restarted_station_keeps_its_spool_and_a_plan_started_later_hears_it(floor, broker, capsys):
    """The spool lives in the station's journal and its retained state: a station restarted after `somana spool`
    still knows it, and a plan that never heard the event (started later, its own floor file empty of spools,
    as on another host) takes it from the printer's state instead of data/printers.csv's PLA white."""
    plan, station = floor
    _connected(plan)
    assert main(["spool", "p2", "--material", "PETG", "--colour", "red", "--broker", broker.url]) == 0
    capsys.readouterr()
    station.stop()
    restarted = Station("floor1", [PrinterSpec("p2", "sim")], broker.url, publish_interval_s=0.05).start()
    later = None
    try:
        assert restarted.slots["p2"].spool == {"material": "PETG", "colour": "red"}  # from its journal
        assert restarted.state_of(restarted.slots["p2"])["spool"]["colour"] == "red"
        save_floor({**load_floor(), "spools": {}})
        later = LivePlan(store_factory=plan.store_factory, broker_url=broker.url, time_limit_s=TIME_LIMIT_S,
                         first_time_limit_s=1.0, clock=lambda: NOW, poll_s=0.2).start()
        wait_until(lambda: (later.view.printers["p2"].material, later.view.printers["p2"].colour) == ("PETG", "red"),
                   timeout_s=20, message="the later plan took p2's spool from the restarted station's state")
        assert [e["event"] for e in later.applied].count("spool_changed") == 1  # once, not per state message
        wait_until(lambda: [a.printer for a in later.view.schedule.assignments] == ["p2"], timeout_s=20,
                   message="the red PETG plate planned where that spool is loaded")
    finally:
        if later is not None:
            later.close()
        restarted.stop()


def test_the_live_plan_of_somana_serve_hears_its_floor(broker, somana_home, monkeypatch, capsys):
    """`somana serve` starts its live plan on the broker it set up (serve._start_live_plan, $SOMANA_BROKER): a
    printer named as data/printers.csv names it (`--printer p1=sim`) has its spool change and its station's
    going offline and back re-planned."""
    from somana.cli import serve
    from somana_core.floor.bus import BROKER_ENV
    from somana_core.scheduling import live

    monkeypatch.setenv(BROKER_ENV, broker.url)
    serve._start_live_plan()
    station = Station("local", [PrinterSpec("p1", "sim")], broker.url, publish_interval_s=0.05).start()
    try:
        wait_until(lambda: live.current() is not None, timeout_s=60, message="serve's live plan started")
        plan = live.current()
        wait_until(lambda: plan.bus_states().get("local/p1") == "operational", timeout_s=20,
                   message="the live plan hears p1 on the bus")
        assert main(["spool", "p1", "--material", "PETG", "--colour", "red", "--broker", broker.url]) == 0
        wait_until(lambda: (plan.view.printers["p1"].material, plan.view.printers["p1"].colour) == ("PETG", "red"),
                   timeout_s=20, message="serve's plan has p1's new spool")
        station.stop()
        wait_until(lambda: not plan.view.printers["p1"].online, timeout_s=20, message="p1 offline in the plan")
        station = Station("local", [PrinterSpec("p1", "sim")], broker.url, publish_interval_s=0.05).start()
        wait_until(lambda: plan.view.printers["p1"].online, timeout_s=20, message="p1 back in the plan")
        kinds = [e["event"] for e in plan.applied if e.get("printer") == "p1"]
        assert {"spool_changed", "printer_offline", "printer_back"} <= set(kinds)
        assert kinds.count("spool_changed") == 1  # the restarted station's state says the same spool: no re-plan
    finally:
        station.stop()
        live.stop()


def test_the_printer_somana_serve_starts_by_default_is_a_printer_of_the_plan():
    """`somana serve` with no --printer runs one virtual printer ("sim") on its station "local": the live plan
    maps that bus printer to p1 of data/printers.csv, so /plan and the floor talk about the same printer."""
    from somana.cli import serve
    from somana.cli.station import start_for_serve
    from somana_core.scheduling import live
    import inspect

    spec, = serve.printer_specs(None, None, {})
    station = inspect.signature(start_for_serve).parameters["station_name"].default
    plan = live.LivePlan(store_factory=lambda: None)
    assert plan._printer_for(f"{station}/{spec['name']}") == "p1"
    assert plan._printer_for("local/p2") == "p2"  # a station naming a printer by its id still finds it
    assert plan._printer_for("local/unknown") is None
