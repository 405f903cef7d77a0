"""Hand-checkable plans: each test's figures can be worked out on paper from the shifts and minutes."""

from __future__ import annotations

from dataclasses import replace

from somana_core.scheduling import Planner, check, figures, solve
from somana_core.scheduling.dispatch import fifo, greedy
from somana_core.scheduling.model import Shift

from .conftest import CHANGEOVERS, MONDAY_7AM, job, make, printer

SWAP = CHANGEOVERS.spool_swap_min + CHANGEOVERS.colour_purge_min  # a colour change, same material


def test_calendar_puts_a_changeover_inside_one_shift(cal):
    assert cal.next_fit(0, 5) == 0  # Monday 07:00
    assert cal.next_fit(12 * 60 - 3, 5) == 24 * 60  # 18:57 + 5 min would cross 19:00: Tuesday 07:00
    assert cal.staff_at(13 * 60) == 0 and cal.staff_at(24 * 60) == 2
    assert cal.next_fit(4 * 24 * 60 + 13 * 60, 5) == 7 * 24 * 60  # Friday night -> Monday 07:00


def test_smart_order_avoids_the_changeover_first_come_first_served_pays():
    # one printer loaded with black; arrivals white, black, white, all due far away
    jobs = [job("a", colour="white", release_min=0), job("b", colour="black", release_min=1),
            job("c", colour="white", release_min=2)]
    inst = make([printer()], jobs)
    first_come = fifo(inst)
    planned = solve(inst, "cp-sat", time_limit_s=2)
    assert not check(inst, first_come) and not check(inst, planned)
    assert figures(inst, first_come)["setup_min"] == 3 * SWAP  # black->white->black->white
    assert figures(inst, planned)["setup_min"] == SWAP  # black, then both whites
    assert [a.job_id for a in planned.by_printer()["p1"]][0] == "b"


def test_a_print_ending_at_night_waits_for_the_morning_shift():
    # the urgent 12 h print starts 07:05 (after the plate clear), heats 6 min and ends 19:11, after hours
    jobs = [job("long", print_min=12 * 60, due_min=800), job("next", print_min=30, due_min=5000)]
    inst = make([printer()], jobs)
    plan = greedy(inst)
    assert not check(inst, plan)
    first, second = plan.by_printer()["p1"]
    assert first.start == CHANGEOVERS.plate_clear_min and first.end == 5 + 6 + 12 * 60  # 19:11, after hours
    assert second.changeover_start == 24 * 60  # Tuesday 07:00, the next staffed minute
    assert second.wait_min == 24 * 60 - first.end


def test_heat_ups_are_staggered_on_one_station():
    three_staff = tuple(Shift(d, 7 * 60, 19 * 60, 3) for d in range(5))
    cap_one = replace(CHANGEOVERS, heat_up_cap_per_station=1)
    printers = [printer("p1"), printer("p2"), printer("p3")]
    jobs = [job(f"j{k}", due_min=5000) for k in range(3)]
    inst = make(printers, jobs, shifts=three_staff, changeovers=cap_one)
    for plan in (greedy(inst), solve(inst, "cp-sat", time_limit_s=2)):
        assert not check(inst, plan)
        starts = sorted(a.start for a in plan.assignments)
        assert starts[1] - starts[0] >= 6 and starts[2] - starts[1] >= 6  # one heat-up at a time
    two_stations = [printer("p1"), printer("p2", station="B"), printer("p3", station="C")]
    plan = greedy(make(two_stations, jobs, shifts=three_staff, changeovers=cap_one))
    assert len({a.start for a in plan.assignments}) == 1  # different circuits: all start at once


def test_staff_count_limits_changeovers_at_once():
    printers = [printer(f"p{k}", station=f"S{k}") for k in range(3)]
    inst = make(printers, [job(f"j{k}", due_min=5000) for k in range(3)])
    plan = greedy(inst)
    assert not check(inst, plan)
    assert sorted(a.changeover_start for a in plan.assignments) == [0, 0, 5]  # two people on the floor


def test_pinned_job_goes_to_its_printer_and_held_job_is_left_out():
    planner = Planner([printer("p1"), printer("p2", colour="white")], origin=MONDAY_7AM,
                      time_limit_s=1, changeovers=CHANGEOVERS)
    planner.calendar = make([], []).calendar
    planner.event("order_confirmed", jobs=[job("a"), job("b", colour="white"), job("c")])
    plan = planner.event("pin", job="a", printer="p2")
    assert plan.get("a").printer == "p2"
    plan = planner.event("hold", job="c")
    assert plan.get("c") is None and not check(planner.instance(), plan)
    plan = planner.event("release", job="c")
    assert plan.get("c") is not None


def test_a_printing_job_is_fixed_and_the_rest_plans_after_it():
    planner = Planner([printer("p1")], origin=MONDAY_7AM, time_limit_s=1, changeovers=CHANGEOVERS)
    planner.calendar = make([], []).calendar
    planner.event("order_confirmed", jobs=[job("a", print_min=120), job("b", print_min=30)])
    planner.event("job_started", at=100, job="a", printer="p1")
    plan = planner.replan(time_limit_s=1)
    fixed = plan.get("a")
    assert fixed.fixed and fixed.start == 100 and fixed.printer == "p1"
    assert plan.get("b").changeover_start >= 100 + 6 + 120
    plan = planner.event("job_done", at=300, job="a")
    assert plan.get("a") is None and plan.get("b").changeover_start == 300


def test_greedy_is_the_fallback_when_the_solver_has_no_time():
    inst = make([printer("p1"), printer("p2", colour="white")],
                [job(f"j{k}", colour=("black", "white")[k % 2]) for k in range(6)])
    plan = solve(inst, "cp-sat", time_limit_s=0)
    assert plan.method == "greedy" and any("greedy" in n for n in plan.notes)
    assert not check(inst, plan) and len(plan.assignments) == 6


def test_failed_print_goes_back_into_the_plan_and_offline_printer_gets_nothing():
    planner = Planner([printer("p1"), printer("p2")], origin=MONDAY_7AM, time_limit_s=1,
                      changeovers=CHANGEOVERS)
    planner.calendar = make([], []).calendar
    planner.event("order_confirmed", jobs=[job("a"), job("b")])
    planner.event("job_started", at=10, job="a", printer="p1")
    plan = planner.event("job_failed", at=40, job="a")
    assert not plan.get("a").fixed and plan.get("a").changeover_start >= 40
    plan = planner.event("printer_offline", printer="p1")
    assert {a.printer for a in plan.assignments} == {"p2"}
    plan = planner.event("printer_back", printer="p1", at=60)
    assert not check(planner.instance(), plan)


def test_promise_date_places_a_new_order_after_everything_promised():
    planner = Planner([printer("p1")], origin=MONDAY_7AM, time_limit_s=1, changeovers=CHANGEOVERS)
    planner.calendar = make([], []).calendar
    planner.event("order_confirmed", jobs=[job("a", print_min=600)])
    end = planner.promise([job("new", print_min=60)])
    # a ends 07:00 + 5 + 6 + 600 = 17:11; the new one's plate clear 17:11, heat-up and print: 18:23
    assert end == 5 + 6 + 600 + 5 + 6 + 60
    date = planner.promise_date([job("new", print_min=60)], handling_days=1)
    assert date.date().isoformat() == "2026-12-01"


def test_the_night_aware_dispatch_gives_the_evening_to_the_long_print():
    # four 3-hour prints and one 11.5-hour print from Monday 07:00, shifts 07-19, due next week
    inst = make([printer("p1")], [job(f"s{k}", print_min=180) for k in range(4)] + [job("long", print_min=690)])
    plain, aware = greedy(inst), greedy(inst, 2.0, 0.7, 1.0)
    assert not check(inst, plain) and not check(inst, aware)
    # plain ATCS runs the short prints first and the last of them idles the printer through the night;
    # the night-aware one starts the long print in the evening, so it runs through the night
    assert figures(inst, aware)["idle_min"] < figures(inst, plain)["idle_min"]
    evening = [a for a in aware.assignments if a.start < 12 * 60 and a.end > 12 * 60]
    assert [a.job_id for a in evening] == ["long"]


def test_the_longest_plate_is_kept_for_the_evening_and_runs_through_the_night():
    # an urgent-looking 10-hour plate (weight 10) goes first by the ATCS index and leaves the night uncovered;
    # kept for the evening (night_share), the short ones fill the day and it runs through the night
    inst = make([printer("p1")], [job("long", print_min=600, weight=10)] + [job(f"s{k}", print_min=100)
                                                                            for k in range(6)])
    plain = greedy(inst, 2.0, 0.7, 1.0)
    kept = greedy(inst, 2.0, 0.7, 1.0, 0.15, 0.05)
    assert check(inst, kept) == []
    assert plain.get("long").start < kept.get("s0").start + 60  # first thing on Monday
    assert kept.get("long").start > max(kept.get(f"s{k}").start for k in range(5))  # after the day's short ones
    assert figures(inst, kept)["idle_min"] < figures(inst, plain)["idle_min"] - 400
