"""A multi-plate order is planned as one plate job per build plate (NUMBER/K): each with its own slicer
time and bed footprint, all due with the order, and the order is done when the last of them is; the
promise inserts one job per plate too."""

from __future__ import annotations

from datetime import datetime, timezone

from somana_core.orders import OrderStore
from somana_core.quote import quote_metrics
from somana_core.scheduling import check
from somana_core.scheduling.floor import floor_planner
from somana_core.scheduling.promise import promise_for, quote_jobs

NOW = datetime(2026, 11, 30, 7, 0, tzinfo=timezone.utc)  # Monday 07:00
PLATE_S = {1: 3 * 3600, 2: 5 * 3600}  # each plate's slicer time
METRICS = {"parts": {"base": {"volume_mm3": 20000.0, "area_mm2": 9000.0, "bbox_mm": [80, 50, 30], "mass_g": 24.8}},
           "total": {"volume_mm3": 20000.0, "area_mm2": 9000.0, "mass_g": 24.8}}


def _stl(x_mm: float, y_mm: float, z_mm: float) -> bytes:
    """An ASCII STL whose bounding box is x by y by z mm (two facets spanning it)."""
    facets = [((0, 0, 0), (x_mm, 0, 0), (0, y_mm, z_mm)), ((x_mm, y_mm, z_mm), (x_mm, 0, 0), (0, y_mm, 0))]
    body = "".join("facet normal 0 0 0\nouter loop\n" + "".join(f"vertex {a} {b} {c}\n" for a, b, c in f)
                   + "endloop\nendfacet\n" for f in facets)
    return f"solid plate\n{body}endsolid plate\n".encode()


def _place_two_plates(store: OrderStore, qty: int = 1) -> str:
    """A real two-plate order: plate 2 is 220 mm wide (a MINI's 180 mm bed cannot take it); each plate
    sliced with its own time."""
    files = {"base.plate1.stl": _stl(60, 40, 20), "base.plate2.stl": _stl(220, 150, 30)}
    order = store.place("two plates", "sensor_enclosure", {"machine": "prusa_mk3s"},
                        {"print_time_s": sum(PLATE_S.values()), "lead_time_days": 3}, files=files, qty=qty,
                        plates=2, file_plates={"base.plate1.stl": 1, "base.plate2.stl": 2})
    store.attach_plate_files(order.number, [(k, f"base.plate{k}.gcode", b"G28\n", {"print_time_s": s})
                                            for k, s in PLATE_S.items()], new_state="sliced")
    return order.number


def test_each_plate_of_an_order_is_its_own_job_with_its_own_time_and_bed_fit(somana_home):
    with OrderStore() as store:
        single = store.place("one plate", "sensor_enclosure", {"machine": "prusa_mk3s"},
                             {"print_time_s": 2 * 3600, "lead_time_days": 3}).number
        number = _place_two_plates(store)
        planner, packing = floor_planner(store, now=NOW, time_limit_s=0.5)
        plates = {jid: j for jid, j in planner.jobs.items() if number in j.orders}
        assert set(plates) == {f"{number}/1", f"{number}/2"} and single in planner.jobs
        for k, seconds in PLATE_S.items():
            job = plates[f"{number}/{k}"]
            assert job.print_min == seconds // 60 and job.print_time_source == "slicer"
            assert job.parts == (f"{number}/{k}",)
        assert plates[f"{number}/2"].size_mm[0] == 220.0  # its own STL, not plate 1's
        assert plates[f"{number}/1"].due_min == plates[f"{number}/2"].due_min  # the order's date
        plan = planner.replan()
        assert check(planner.instance(), plan) == []
        mini = {p.id for p in planner.printers.values() if p.machine == "prusa_mini"}
        assert plan.get(f"{number}/2").printer not in mini  # 220 mm does not fit a MINI's bed
        assert all(plan.get(jid).tardiness_min == 0 for jid in plates)
        assert packing.part_sets == 3

        # plate 1 printed and done: the order is still open, its plate 2 alone is left to plan
        for state in ("queued", "printing", "done"):
            store.transition(f"{number}/1", state)
        assert store.get(number).state != "done"
        planner, _ = floor_planner(store, now=NOW, time_limit_s=0.5)
        assert [jid for jid, j in planner.jobs.items() if number in j.orders] == [f"{number}/2"]
        # plate 2 printing: fixed on a printer, nothing of the order left to plan after it
        for state in ("queued", "printing"):
            store.transition(f"{number}/2", state)
        planner, _ = floor_planner(store, now=NOW, time_limit_s=0.5)
        assert planner.jobs[f"{number}/2"].fixed_printer is not None
        store.transition(f"{number}/2", "done")
        assert store.get(number).state == "done"
        planner, _ = floor_planner(store, now=NOW, time_limit_s=0.5)
        assert not any(number in j.orders for j in planner.jobs.values())


def test_several_units_of_a_multi_plate_order_are_a_job_per_plate_and_unit(somana_home):
    with OrderStore() as store:
        number = _place_two_plates(store, qty=2)
        planner, packing = floor_planner(store, now=NOW, time_limit_s=0.5)
    parts = sorted(p for j in planner.jobs.values() if number in j.orders for p in j.parts)
    assert parts == [f"{number}/1#1", f"{number}/1#2", f"{number}/2#1", f"{number}/2#2"]
    assert packing.part_sets == 4


def test_the_promise_places_one_job_per_plate(somana_home):
    quote = quote_metrics(METRICS, "sensor_enclosure", qty=1, print_time_s=16 * 3600, filament_g=25)
    jobs = quote_jobs(quote, plates=[6 * 3600, 10 * 3600])
    assert sorted(j.print_min for j in jobs) == [360, 600] and [j.id for j in jobs] == ["QUOTE/1", "QUOTE/2"]
    assert [j.print_min for j in quote_jobs(quote, plates=2)] == [480, 480]
    one = promise_for(quote, now=NOW)
    two = promise_for(quote, now=NOW, plates=[6 * 3600, 10 * 3600])
    assert two.plates == 2 and one.plates == 1
    # two plates print side by side: the later one ends 10 h (and its changeover) after the start, not 16 h
    assert (two.plan_end - NOW).total_seconds() < (one.plan_end - NOW).total_seconds() - 5 * 3600


def test_plate_seconds_lays_the_parts_out_as_the_product_does_and_times_each_plate():
    from somana_core.geometry.plates import pack
    from somana_core.print_time import estimate, layer_height_mm
    from somana_core.scheduling.promise import plate_seconds

    layer = layer_height_mm("prusa_mk3s")
    assert plate_seconds(METRICS, "prusa_mk3s") == [estimate(METRICS, layer)["print_time_s"]]  # one plate
    big = {"volume_mm3": 90000.0, "area_mm2": 40000.0, "bbox_mm": [170, 130, 40], "mass_g": 110.0}
    lid = {**big, "bbox_mm": [170, 130, 6], "volume_mm3": 30000.0}
    two = {"parts": {"base": big, "lid": lid}, "total": {}}
    assert len(pack({"base": (170, 130), "lid": (170, 130)}, 250, 210)) == 2  # they cannot share the bed
    seconds = plate_seconds(two, "prusa_mk3s")
    assert seconds == [estimate({"parts": {"base": big}}, layer)["print_time_s"],
                       estimate({"parts": {"lid": lid}}, layer)["print_time_s"]]
    # each plate heats up and homes on its own: the plates together take longer than one imagined plate
    assert sum(seconds) > estimate(two, layer)["print_time_s"]
