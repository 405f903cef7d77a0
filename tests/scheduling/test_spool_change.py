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
from somana_core.scheduling.floor import load_floor
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
