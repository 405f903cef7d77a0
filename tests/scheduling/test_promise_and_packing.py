"""Capable-to-promise wired into the quote, plate packing, and reading a plate's size from its STL."""

from __future__ import annotations

import struct
from datetime import datetime, timezone

import numpy as np

from somana_core.orders import OrderStore
from somana_core.quote import quote_metrics
from somana_core.scheduling.floor import floor_planner, promise_quote
from somana_core.scheduling.jobs import PartSet, pack, stl_extent_mm

from .conftest import CHANGEOVERS

METRICS = {"parts": {"base": {"volume_mm3": 20000.0, "area_mm2": 9000.0, "bbox_mm": [80, 50, 30],
                              "mass_g": 24.8}},
           "total": {"volume_mm3": 20000.0, "area_mm2": 9000.0, "mass_g": 24.8}}


def _set(k, order, minutes=60, size=(60.0, 50.0, 20.0), due=1000, colour="black"):
    return PartSet(f"{order}/{k}", order, minutes, "PLA", colour, 0.4, due, size, None, (250.0, 210.0))


def test_small_parts_of_several_orders_share_a_plate_and_the_saving_is_counted():
    sets = [_set(1, "A"), _set(1, "B"), _set(1, "C", colour="white"), _set(1, "D", size=(240.0, 200.0, 20.0))]
    jobs, report = pack(sets, CHANGEOVERS)
    shared = [j for j in jobs if len(j.orders) > 1]
    assert len(shared) == 1 and shared[0].orders == ("A", "B") and shared[0].print_min == 120
    assert shared[0].weight == 2  # late, it would make two customers late
    assert report.part_sets == 4 and report.plates == 3 and report.plates_saved == 1
    assert report.minutes_saved == CHANGEOVERS.plate_clear_min + CHANGEOVERS.heat_up_min


def test_packing_respects_the_bed_the_plate_hours_and_the_due_window():
    many = [_set(k, f"O{k}", size=(100.0, 90.0, 20.0)) for k in range(5)]  # 4 fit on a 250 x 210 bed
    jobs, _ = pack(many, CHANGEOVERS)
    assert sorted(len(j.orders) for j in jobs) == [1, 4]
    long = [_set(k, f"L{k}", minutes=400) for k in range(3)]  # 10 h per plate at most
    assert sorted(len(j.orders) for j in pack(long, CHANGEOVERS)[0]) == [1, 1, 1]
    far = [_set(1, "E", due=0), _set(1, "F", due=CHANGEOVERS.shared_plate_due_window_h * 60 + 1)]
    assert len(pack(far, CHANGEOVERS)[0]) == 2


def test_stl_extent_reads_binary_and_ascii():
    tri = np.array([[[0, 0, 0], [10, 0, 0], [0, 20, 5]]], dtype="<f4")
    binary = b"\0" * 80 + struct.pack("<I", 1) + np.zeros(3, "<f4").tobytes() + tri.tobytes() + b"\0\0"
    assert stl_extent_mm(binary) == (10.0, 20.0, 5.0)
    ascii_ = b"solid x\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 4 0 0\nvertex 0 3 2\nendloop\nendfacet\n"
    assert stl_extent_mm(ascii_) == (4.0, 3.0, 2.0)


def test_the_quote_carries_the_date_the_plan_can_keep(somana_home):
    now = datetime(2026, 11, 30, 7, 0, tzinfo=timezone.utc)  # Monday 07:00
    quote = quote_metrics(METRICS, "sensor_enclosure", qty=1, print_time_s=4 * 3600, filament_g=25)
    assert quote.promised_date is None and quote.to_dict()["promised_date"] is None
    with OrderStore() as store:
        empty = promise_quote(quote, store, now=now)
        # an empty farm: printed Monday, one handling day: promised Tuesday
        assert empty.promised_date == "2026-12-01" and empty.lead_time_days == 2
        for k in range(12):  # 12 x 20 h of PLA black ahead of it on 6 printers
            store.place(f"c{k}", "sensor_enclosure", {"machine": "prusa_mk3s"},
                        {"print_time_s": 20 * 3600, "lead_time_days": 10})
        busy = promise_quote(quote, store, now=now)
        assert busy.promised_date > empty.promised_date
        planner, _ = floor_planner(store, now=now)
        assert len(planner.jobs) == 12
    assert busy.to_dict()["promised_date"] == busy.promised_date
    assert busy.lead_time["queue_rule_days"] == quote.lead_time_days


def test_a_sliced_order_plans_with_the_slicer_time_on_its_machine_model_only(somana_home):
    from somana_core.scheduling.floor import floor_planner, set_hold, set_pin

    now = datetime(2026, 11, 30, 7, 0, tzinfo=timezone.utc)
    with OrderStore() as store:
        order = store.place("c", "sensor_enclosure", {"machine": "prusa_mini", "colour": "White"},
                            {"print_time_s": 7200, "lead_time_days": 3})
        store.attach_file(order.number, "part.gcode", b"G28\n", meta={"print_time_s": 5400.0}, new_state="sliced")
        planner, _ = floor_planner(store, now=now)
        (job,) = planner.jobs.values()
        assert job.print_min == 90 and job.print_time_source == "slicer" and job.colour == "white"
        assert job.machine == "prusa_mini"
        plan = planner.replan(time_limit_s=0.5)
        assert planner.printers[plan.get(job.id).printer].machine == "prusa_mini"
        set_pin(order.number, "p6")
        planner, _ = floor_planner(store, now=now)
        assert planner.replan(time_limit_s=0.5).get(job.id).printer == "p6"
        set_hold(order.number, True)
        planner, _ = floor_planner(store, now=now)
        assert planner.replan(time_limit_s=0.5).assignments == []


def test_a_spool_change_removes_the_changeover_it_made_unnecessary():
    from somana_core.scheduling import Planner

    from .conftest import MONDAY_7AM, job, make, printer

    planner = Planner([printer("p1", colour="white")], origin=MONDAY_7AM, changeovers=CHANGEOVERS, time_limit_s=0.5)
    planner.calendar = make([], []).calendar
    plan = planner.event("order_confirmed", jobs=[job("a", colour="red")])
    assert plan.get("a").setup_min == CHANGEOVERS.spool_swap_min + CHANGEOVERS.colour_purge_min
    plan = planner.event("spool_changed", printer="p1", material="PLA", colour="Red")
    assert plan.get("a").setup_min == 0
