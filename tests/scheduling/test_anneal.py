"""Annealing a plan's sequences (scheduling/anneal.py): every move keeps the rules, the plan only gets
better, plates printing now stay where they are."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from somana_core.scheduling import check, figures, solve, synthetic
from somana_core.scheduling.anneal import anneal
from somana_core.scheduling.dispatch import best_greedy, greedy, retime

from .conftest import job, make, printer, replace
from .test_properties import farms


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(farms())
def test_annealing_keeps_every_rule_and_every_plate_and_never_raises_the_objective(inst):
    plan = greedy(inst)
    annealed = anneal(inst, plan, seconds=0.2, seed=1)
    assert check(inst, annealed) == []
    assert sorted(a.job_id for a in annealed.assignments) == sorted(a.job_id for a in plan.assignments)
    assert figures(inst, annealed)["objective"] <= figures(inst, plan)["objective"]


def test_annealing_spreads_a_one_printer_plan_over_the_idle_printer():
    # four 5-h plates queued on p1: the fourth waits overnight for Tuesday's plate clear; p2 stands idle
    inst = make([printer("p1"), printer("p2")], [job(f"j{k}", print_min=300) for k in range(4)])
    alone = retime(inst, {"p1": [f"j{k}" for k in range(4)]})
    assert {a.printer for a in alone.assignments} == {"p1"}
    assert figures(inst, alone)["idle_min"] > 8 * 60
    annealed = anneal(inst, alone, seconds=0.5, seed=0)
    assert check(inst, annealed) == []
    assert {a.printer for a in annealed.assignments} == {"p1", "p2"}
    # nothing left but the four plate clears (two people: the printers' first clears at once; the last
    # print of each runs into the night, which no one waits for)
    assert figures(inst, annealed)["objective"] == 4 * 5
    assert "annealing:" in annealed.notes[-1]


def test_a_plate_printing_now_stays_on_its_printer_and_the_rest_is_planned_around_it():
    printing = job("now", print_min=120, fixed_printer="p1", fixed_start=0)
    waiting = [job(f"j{k}", print_min=200, due_min=3 * 24 * 60) for k in range(5)]
    inst = make([replace(printer("p1"), available_min=126), printer("p2")], [printing, *waiting])
    plan = greedy(inst)
    annealed = anneal(inst, plan, seconds=0.3, seed=0)
    assert check(inst, annealed) == []
    kept = annealed.get("now")
    assert kept is not None and kept.fixed and kept.printer == "p1" and kept.start == 0
    assert all(a.start >= 126 for a in annealed.assignments if a.printer == "p1" and not a.fixed)
    assert figures(inst, annealed)["objective"] <= figures(inst, plan)["objective"]


def test_on_a_big_farm_annealing_beats_the_dispatch_it_starts_from():
    inst = synthetic.instance(20, 150, seed=0, due_spread=2.0)
    plan = greedy(inst)
    annealed = anneal(inst, plan, seconds=1.0, seed=0)
    assert check(inst, annealed) == [] and len(annealed.assignments) == len(inst.jobs)
    assert figures(inst, annealed)["objective"] < 0.97 * figures(inst, plan)["objective"]


def test_a_plan_too_big_for_one_cp_sat_model_is_annealed_within_the_time_limit():
    inst = synthetic.instance(20, 150, seed=2, due_spread=1.1)
    plan = solve(inst, "cp-sat", time_limit_s=6.0, seed=2)  # restarts, ~1 s of annealing, CP-SAT
    assert any(n.startswith("annealing:") for n in plan.notes), plan.notes
    assert check(inst, plan) == [] and len(plan.assignments) == len(inst.jobs)
    assert plan.solve_s < 6.5
    f = figures(inst, plan)
    assert f["objective"] <= figures(inst, best_greedy(inst))["objective"]
    assert f["lower_bound"] <= f["objective"]
