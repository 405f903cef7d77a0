"""One path to the customer's date: `promise_for` (the plan, capable-to-promise) under `somana quote`,
`floor.promise_quote` and the live plan; the buffer learnt from the floor's slips."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from somana.cli import main
from somana_core.orders import OrderStore
from somana_core.quote import quote_metrics
from somana_core.scheduling import Planner, live
from somana_core.scheduling.promise import PromisedDate, promise_for

from .conftest import CHANGEOVERS, MONDAY_7AM, job, make, printer

METRICS = {"parts": {"base": {"volume_mm3": 20000.0, "area_mm2": 9000.0, "bbox_mm": [80, 50, 30],
                              "mass_g": 24.8}},
           "total": {"volume_mm3": 20000.0, "area_mm2": 9000.0, "mass_g": 24.8}}
NOW = datetime(2026, 11, 30, 7, 0, tzinfo=timezone.utc)  # Monday 07:00


def _quote(hours=4.0, qty=1):
    return quote_metrics(METRICS, "sensor_enclosure", qty=qty, print_time_s=hours * 3600, filament_g=25)


def test_an_empty_floor_promises_the_next_day_and_a_full_one_later(somana_home):
    empty = promise_for(_quote(), now=NOW)  # no store: an empty floor
    assert isinstance(empty, PromisedDate) and empty.promised_date == "2026-12-01" and empty.lead_time_days == 2
    assert empty.plan_end == NOW + timedelta(minutes=CHANGEOVERS.plate_clear_min + CHANGEOVERS.heat_up_min + 240)
    assert empty.source == "order store" and empty.buffer_min == 0 and empty.plates == 1
    with OrderStore() as store:
        for k in range(12):  # 240 h of work ahead of it on six printers
            store.place(f"c{k}", "sensor_enclosure", {"machine": "prusa_mk3s"},
                        {"print_time_s": 20 * 3600, "lead_time_days": 10})
        busy = promise_for(_quote(), now=NOW, store=store)
    assert busy.promised_date > empty.promised_date and busy.plan_end > empty.plan_end
    q = busy.apply(_quote())
    assert q.promised_date == busy.promised_date and q.lead_time_days == busy.lead_time_days
    assert q.lead_time["queue_rule_days"] == _quote().lead_time_days
    assert q.customer_view()["lead_time_days"] == busy.lead_time_days


def test_the_buffer_is_the_quantile_of_the_slips_seen():
    planner = Planner([printer("p1")], origin=MONDAY_7AM, changeovers=CHANGEOVERS, time_limit_s=0.2)
    planner.calendar = make([], []).calendar
    assert planner.promise_buffer_min() == CHANGEOVERS.promise_buffer_default_min
    planner.slips_min = list(range(-50, 50))  # 100 orders: 95 % of them within 44 min of their plan
    assert planner.promise_buffer_min() == 44
    end = planner.promise([job("new", print_min=60)])
    # the plan's end + 44 min + 1 handling day, at the end of that day
    assert planner.promise_date([job("new", print_min=60)], handling_days=1) == \
        planner.date_for(end + 44, 1, buffer_min=0)
    planner.slips_min = [-30] * 100  # the floor always beats its plan: no negative buffer
    assert planner.promise_buffer_min() == 0


def test_a_slip_is_recorded_when_the_orders_last_plate_is_done():
    planner = Planner([printer("p1")], origin=MONDAY_7AM, changeovers=CHANGEOVERS, time_limit_s=0.2)
    planner.calendar = make([], []).calendar
    planner.event("order_confirmed", jobs=[job("a"), job("b")])
    planner.record_promise("SO-a", 100)
    planner.event("job_started", at=0, job="a", printer="p1", replan=False)
    planner.event("job_done", at=130, job="a")
    assert planner.slips_min == [30] and "SO-a" not in planner.promised_end


def test_the_live_plan_answers_the_promise_when_the_process_holds_one(somana_home):
    with OrderStore() as store:
        store.place("c", "sensor_enclosure", {"machine": "prusa_mk3s"}, {"print_time_s": 20 * 3600, "lead_time_days": 10})
        plan = live.start(store_factory=lambda: store, clock=lambda: NOW, time_limit_s=0.3, first_time_limit_s=0.3)
        try:
            promised = promise_for(_quote(), now=NOW)
            assert promised.source == "live plan" and live.current() is plan
            direct = promise_for(_quote(), now=NOW, planner=plan.planner)
            assert direct.promised_date == promised.promised_date and direct.plan_end == promised.plan_end
        finally:
            live.stop()
    assert live.current() is None


def test_somana_quote_prints_the_promised_date_from_the_plan(capsys, somana_home):
    assert main(["quote", "sensor_enclosure", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    lead = data["internal"]["lead_time"]
    assert data["promised_date"] == lead["promised_date"] and lead["source"] == "order store"
    assert data["lead_time_days"] == lead["lead_time_days"] >= 1
    assert main(["quote", "sensor_enclosure", "--colour", "white"]) == 0
    assert "promised by 20" in capsys.readouterr().out
    assert main(["quote", "sensor_enclosure", "--colour", "r3d!"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "--colour='r3d!' must be a colour name" in err and err.strip().count("\n") == 0
