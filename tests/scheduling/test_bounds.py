"""The lower bounds: hand-checked on tiny farms, and below every plan CP-SAT proves optimal on random ones."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from somana_core.scheduling import figures, solve
from somana_core.scheduling.bounds import completion_lower_bounds, lower_bound
from somana_core.scheduling.dispatch import greedy

from somana_core.scheduling.model import Shift

from .conftest import CHANGEOVERS, job, make, printer

WORK = CHANGEOVERS.plate_clear_min + CHANGEOVERS.heat_up_min  # per plate, besides the print


def test_completion_ranks_and_the_assignment_bound_are_exact_on_one_printer():
    inst = make([printer("p1")], [job(f"j{k}", print_min=60, due_min=0) for k in range(3)])
    assert completion_lower_bounds(inst, list(inst.jobs), list(inst.printers)) == [71, 142, 213]
    bound = lower_bound(inst)
    plan = greedy(inst)
    # the plates end at 71, 142 and 213 minutes, all due at 0: nothing does better
    assert figures(inst, plan)["weighted_tardiness_min"] == 71 + 142 + 213
    assert bound["weighted_tardiness_assignment_min"] == bound["weighted_tardiness_min"] == 71 + 142 + 213


def test_a_third_long_print_costs_the_night_it_cannot_cover():
    # three 10-hour prints from Monday 07:00: the second runs into the night, the third waits for Tuesday
    inst = make([printer("p1")], [job(f"j{k}", print_min=600) for k in range(3)])
    plan = greedy(inst)
    idle = figures(inst, plan)["idle_min"]
    bound = lower_bound(inst)
    assert idle == 7 * 60 + 24 * 60 - (2 * (600 + WORK) + 7 * 60) + 0  # Tuesday 07:00 minus the second's end
    assert 0 < bound["idle_nights_min"] <= idle
    assert bound["idle_nights_min"] == 12 * 60 - (600 + CHANGEOVERS.heat_up_min)  # the night less one print


def test_printers_ready_together_queue_for_their_first_plate_clear_unless_the_plan_leaves_them_idle():
    # six printers and two people at Monday 07:00, twelve 9-hour plates: a printer takes one in the day and
    # one into the night, so all six are needed (a third plate would cost a night), and their first plates
    # start 0, 0, 5, 5, 10 and 10 minutes in, each printer waiting for its plate clear; two plates need
    # only two printers and no queue
    six = [printer(f"p{k}", station="ABC"[k // 2]) for k in range(6)]
    inst = make(six, [job(f"j{k}", print_min=540) for k in range(12)])
    bound, plan = lower_bound(inst), greedy(inst)
    assert bound["idle_start_queue_min"] == bound["idle_min"] == 2 * (0 + 5 + 10)
    assert figures(inst, plan)["idle_min"] == 2 * (0 + 5 + 10)
    inst = make(six, [job(f"j{k}", print_min=60) for k in range(2)])
    bound = lower_bound(inst)
    assert bound["idle_start_queue_min"] == bound["idle_min"] == 0
    assert figures(inst, greedy(inst))["idle_min"] == 0


@st.composite
def tight_farms(draw):
    printers = [printer(f"p{k}", station="AB"[k % 2]) for k in range(draw(st.integers(1, 2)))]
    jobs = [job(f"j{k}", print_min=draw(st.integers(30, 11 * 60)), due_min=draw(st.integers(0, 2 * 24 * 60)),
                weight=draw(st.integers(1, 2)), colour=draw(st.sampled_from(("black", "white"))))
            for k in range(draw(st.integers(2, 6)))]
    return make(printers, jobs)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tight_farms())
def test_every_bound_is_below_the_plan_cp_sat_finds(inst):
    bound = lower_bound(inst)
    plan = solve(inst, "cp-sat", time_limit_s=1.0, with_bound=False)
    f = figures(inst, plan)
    assert bound["weighted_tardiness_min"] <= f["weighted_tardiness_min"] + 1e-6
    assert bound["idle_min"] <= f["idle_min"] + 1e-6
    assert bound["objective"] <= f["objective"] + 1e-6


def test_past_the_latest_due_date_a_night_costs_lateness_and_each_window_its_plate_clear_queue():
    # four printers, one person on the floor, twelve 10-hour prints all due Tuesday 19:00: two printers must
    # work on into Tuesday (a Wednesday start would be late), so they queue for the one person on Tuesday
    # morning (the second waits a plate clear) and their Monday evening prints cannot both start at 19:00;
    # and on Monday at 07:00 all four wait their turn for the first plate clear (0, 5, 10 and 15 minutes)
    one_person = tuple(Shift(d, 7 * 60, 19 * 60, 1) for d in range(5))
    inst = make([printer(f"p{k}", station="ABCD"[k]) for k in range(4)],
                [job(f"j{k}", print_min=600, due_min=36 * 60) for k in range(12)], shifts=one_person)
    bound = lower_bound(inst)
    night = 12 * 60 - (600 + CHANGEOVERS.heat_up_min)
    start = 6 * CHANGEOVERS.plate_clear_min
    assert bound["idle_start_queue_min"] == start
    assert bound["idle_nights_min"] == 2 * night + start  # without the due dates: two nights, anywhere in the weeks
    assert bound["idle_and_weighted_late_nights_min"] == 2 * night + 2 * CHANGEOVERS.plate_clear_min + start
    plan = solve(inst, "cp-sat", time_limit_s=2.0, with_bound=False)
    assert bound["objective"] <= figures(inst, plan)["objective"]


@st.composite
def one_person_farms(draw):
    """Several printers, one person: the plate-clear queues of the night bound are in play."""
    shifts = tuple(Shift(d, 7 * 60, 19 * 60, 1) for d in range(5))
    printers = [printer(f"p{k}", station="ABC"[k % 3]) for k in range(draw(st.integers(2, 5)))]
    jobs = [job(f"j{k}", print_min=draw(st.integers(30, 11 * 60)), due_min=draw(st.integers(0, 3 * 24 * 60)),
                weight=draw(st.integers(1, 2)), colour=draw(st.sampled_from(("black", "white"))))
            for k in range(draw(st.integers(3, 16)))]
    return make(printers, jobs, shifts=shifts)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(one_person_farms())
def test_the_bound_with_queues_and_late_nights_stays_below_every_dispatched_plan(inst):
    bound = lower_bound(inst)
    for plan in (greedy(inst), greedy(inst, 4.0, 0.7, 1.0, 0.2, 0.05), solve(inst, "cp-sat", time_limit_s=0.3,
                                                                            with_bound=False)):
        f = figures(inst, plan)
        assert bound["idle_nights_min"] <= f["idle_min"] + 1e-6
        assert bound["objective"] <= f["objective"] + 1e-6
