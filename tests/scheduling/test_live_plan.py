"""The live plan is fed by the floor: the stations' real payloads, through a real Mosquitto on a loopback
port, become Planner events and a re-plan within the time limit."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from somana_core.floor.bus import Bus, printer_topic, status_topic
from somana_core.floor.local import LocalBroker
from somana_core.orders import OrderStore
from somana_core.scheduling.live import LivePlan
from tests.support.waiting import wait_until

NOW = datetime(2026, 11, 30, 7, 0, tzinfo=timezone.utc)  # Monday 07:00
TIME_LIMIT_S = 1.0
STATION = "floor1"


@pytest.fixture(scope="module")
def broker():
    with LocalBroker() as started:
        yield started


@pytest.fixture
def floor(broker, somana_home):
    """Four confirmed orders, a live plan listening to the bus, and a publisher standing in for a station."""
    store = OrderStore()
    for k, colour in enumerate(["black", "white", "black", "red"]):
        store.place(f"c{k}", "sensor_enclosure", {"machine": "prusa_mk3s", "colour": colour},
                    {"print_time_s": 3600 * (k + 2), "lead_time_days": 3})
    plan = LivePlan(store_factory=lambda: store, broker_url=broker.url, time_limit_s=TIME_LIMIT_S,
                    first_time_limit_s=1.0, clock=lambda: NOW, poll_s=0.2).start()
    station = Bus(broker.url).connect()
    yield plan, station, store
    station.close()
    plan.close()
    store.close()


def _state(printer: str, state: str, order: str | None = None) -> dict:
    """A printer snapshot as `Station.state_of` publishes it (the fields the plan reads, and the rest)."""
    job = None if order is None else {"name": order, "order": order, "percent": 1.0, "lines_acked": 10,
                                      "lines_total": 1000, "elapsed_s": 5.0, "estimate_s": 7200, "eta_s": 7100,
                                      "from_line": 1}
    return {"station": STATION, "printer": printer, "port": "/dev/pts/9", "state": state, "error": "",
            "firmware": "Marlin", "temperatures": {}, "job": job, "last_acked_line": 10, "interrupted": None,
            "history": [], "note": "", "position": {}, "time": 0.0}


def _ended(printer: str, order: str, outcome: str) -> dict:
    return {"kind": "job-ended", "name": order, "order": order, "outcome": outcome, "reason": "test",
            "started_at": 0.0, "ended_at": 1.0, "duration_s": 1.0, "last_acked_line": 10,
            "lines_acked": 10, "lines_total": 1000}


def _job_of(plan, order):
    return next(j for j in plan.view.jobs.values() if order in j.orders)


def test_station_messages_drive_the_plan_and_each_re_plan_keeps_the_time_limit(floor):
    plan, station, store = floor
    first = plan.snapshot()
    assert first["figures"]["jobs"] == 4
    order = "SO-000001"
    planned_on = plan.view.schedule.get(_job_of(plan, order).id).printer

    # a station starts the order on the printer the plan chose (the store first, as Station._start does):
    # the plate is fixed there
    for state in ("sliced", "queued", "printing"):
        store.transition(order, state)
    station.publish(printer_topic(STATION, planned_on, "state"), _state(planned_on, "printing", order), retain=True)
    wait_until(lambda: _job_of(plan, order).fixed_printer == planned_on, timeout_s=20)
    assert plan.view.schedule.get(_job_of(plan, order).id).fixed

    # it ends well: the plate leaves the plan
    store.transition(order, "done")
    station.publish(printer_topic(STATION, planned_on, "event"), _ended(planned_on, order, "done"))
    wait_until(lambda: all(order not in j.orders for j in plan.view.jobs.values()), timeout_s=20)

    # another one fails part-way: back into the queue, not fixed anywhere
    other = "SO-000002"
    where = plan.view.schedule.get(_job_of(plan, other).id).printer
    station.publish(printer_topic(STATION, where, "state"), _state(where, "printing", other), retain=True)
    wait_until(lambda: _job_of(plan, other).fixed_printer == where, timeout_s=20)
    station.publish(printer_topic(STATION, where, "event"), _ended(where, other, "failed"))
    wait_until(lambda: plan.view.schedule.get(_job_of(plan, other).id) is not None
               and not plan.view.schedule.get(_job_of(plan, other).id).fixed
               and _job_of(plan, other).fixed_printer is None, timeout_s=20)

    # a printer drops off: nothing is planned on it until it is back
    station.publish(printer_topic(STATION, "p1", "state"), _state("p1", "disconnected"), retain=True)
    wait_until(lambda: not plan.view.printers["p1"].online
               and all(a.printer != "p1" for a in plan.view.schedule.assignments if not a.fixed), timeout_s=20)
    station.publish(printer_topic(STATION, "p1", "state"), _state("p1", "operational"), retain=True)
    wait_until(lambda: plan.view.printers["p1"].online, timeout_s=20)

    # the whole station dies (its last will): every printer on it is offline
    station.publish(status_topic(STATION), {"online": False}, retain=True)
    wait_until(lambda: not any(plan.view.printers[p].online for p in ("p1", planned_on, where)), timeout_s=20)
    station.publish(status_topic(STATION), {"station": STATION, "online": True, "printers": ["p1"]}, retain=True)
    wait_until(lambda: plan.view.printers["p1"].online, timeout_s=20)

    # a spool swapped by hand: the printer's loaded spool changes, and the next changeover with it
    station.publish(printer_topic(STATION, "p2", "event"), {"kind": "spool-changed", "material": "PETG",
                                                            "colour": "Red"})
    wait_until(lambda: (plan.view.printers["p2"].material, plan.view.printers["p2"].colour) == ("PETG", "red"),
               timeout_s=20)

    # an order confirmed in the store joins the plan on the next poll
    store.place("late", "sensor_enclosure", {"machine": "prusa_mk3s"}, {"print_time_s": 1800, "lead_time_days": 2})
    wait_until(lambda: any("SO-000005" in j.orders for j in plan.view.jobs.values()), timeout_s=20)

    # an order of two build plates is two plate jobs (NUMBER/K) in the plan: each printed, fixed and done on
    # its own; the order leaves the plan with its last plate
    two = store.place("two", "sensor_enclosure", {"machine": "prusa_mk3s"}, {"print_time_s": 5400, "lead_time_days": 3},
                      plates=2).number
    plates = [f"{two}/1", f"{two}/2"]
    wait_until(lambda: all(p in plan.view.jobs for p in plates), timeout_s=20)
    assert [plan.view.jobs[p].print_min for p in plates] == [45, 45]  # the order's time shared until sliced
    for k, name in enumerate(plates):
        where = plan.view.schedule.get(name).printer
        for state in ("sliced", "queued", "printing"):
            store.transition(name, state)
        station.publish(printer_topic(STATION, where, "state"), _state(where, "printing", name), retain=True)
        wait_until(lambda: plan.view.jobs[name].fixed_printer == where, timeout_s=20)
        if k == 0:  # plate 1 printing: plate 2 is still planned, not fixed
            assert plan.view.jobs[plates[1]].fixed_printer is None and plan.view.schedule.get(plates[1])
        store.transition(name, "done")
        before = plan.version
        station.publish(printer_topic(STATION, where, "event"), _ended(where, name, "done"))
        wait_until(lambda: plan.version > before and name not in plan.view.jobs, timeout_s=20)
        station.publish(printer_topic(STATION, where, "state"), _state(where, "operational"), retain=True)
        if k == 0:  # plate 1 of 2 done: the order is still on the floor with its plate 2
            assert plates[1] in plan.view.jobs and plan.view.schedule.get(plates[1]) is not None
    assert all(two not in j.orders for j in plan.view.jobs.values())

    kinds = [e["event"] for e in plan.applied]
    for kind in ("job_started", "job_done", "job_failed", "printer_offline", "printer_back", "spool_changed",
                 "order_confirmed"):
        assert kind in kinds
    replans = [r for r in plan.replan_times if "rebuild" not in r["events"]]
    assert len(replans) >= 8
    # CP-SAT stops at the limit; the rest (greedy warm start, re-timing) must fit in a second more
    assert max(r["solve_s"] for r in replans) <= TIME_LIMIT_S + 1.0, replans


def test_the_live_plan_starts_afresh_when_its_calendar_grows_old(somana_home):
    now = [NOW]
    store = OrderStore()
    store.place("c", "sensor_enclosure", {"machine": "prusa_mk3s"}, {"print_time_s": 3600, "lead_time_days": 3})
    plan = LivePlan(store_factory=lambda: store, time_limit_s=0.2, first_time_limit_s=0.2, clock=lambda: now[0],
                    poll_s=0.05).start()
    try:
        assert plan.planner.calendar.origin == NOW
        now[0] = NOW + timedelta(days=8)
        wait_until(lambda: plan.planner.calendar.origin == NOW + timedelta(days=8), timeout_s=20)
        assert plan.view.schedule.get("SO-000001") is not None
    finally:
        plan.close()
        store.close()


def test_the_live_plans_snapshot_reports_its_lower_bound_and_gap(somana_home):
    store = OrderStore()
    for k in range(3):
        store.place(f"c{k}", "sensor_enclosure", {"machine": "prusa_mk3s"}, {"print_time_s": 7200, "lead_time_days": 1})
    plan = LivePlan(store_factory=lambda: store, time_limit_s=0.2, first_time_limit_s=0.2, clock=lambda: NOW).start()
    try:
        figures = plan.snapshot()["figures"]
        assert 0 < figures["lower_bound"] <= figures["objective"] and 0 <= figures["gap"] < 1
    finally:
        plan.close()
        store.close()
