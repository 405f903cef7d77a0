"""Properties of every plan on random small farms (bounded: a few examples, short solver limits)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from somana_core.scheduling import check, figures, solve
from somana_core.scheduling.bounds import lower_bound
from somana_core.scheduling.dispatch import fifo, greedy, retime

from .conftest import job, make, printer

COLOURS = ("black", "white", "red")


@st.composite
def farms(draw):
    n_printers = draw(st.integers(1, 3))
    printers = [printer(f"p{k}", colour=draw(st.sampled_from(COLOURS)), station=draw(st.sampled_from("AB")),
                        nozzle=draw(st.sampled_from((0.4, 0.6)))) for k in range(n_printers)]
    jobs = []
    for k in range(draw(st.integers(1, 7))):
        jobs.append(job(f"j{k}", print_min=draw(st.integers(10, 14 * 60)), colour=draw(st.sampled_from(COLOURS)),
                        material=draw(st.sampled_from(("PLA", "PETG"))), nozzle=draw(st.sampled_from((0.4, 0.6))),
                        due_min=draw(st.integers(0, 4 * 24 * 60)), release_min=draw(st.integers(0, 600)),
                        weight=draw(st.integers(1, 3)),
                        pinned_printer=draw(st.sampled_from([None, None, None] + [p.id for p in printers]))))
    return make(printers, jobs)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(farms())
def test_every_policy_keeps_every_rule_and_cp_sat_never_loses_to_greedy(inst):
    bound = lower_bound(inst)["objective"]
    plans = {"greedy": greedy(inst), "fifo": fifo(inst), "cp-sat": solve(inst, "cp-sat", time_limit_s=0.5)}
    for name, plan in plans.items():
        assert check(inst, plan) == [], name
        assert len(plan.assignments) == len(inst.jobs), name
        assert figures(inst, plan)["objective"] >= bound - 1e-6, name  # the bound is below every plan
    assert figures(inst, plans["cp-sat"])["objective"] <= figures(inst, plans["greedy"])["objective"]
    cp_bound = plans["cp-sat"].lower_bounds.get("cp_sat")
    if cp_bound is not None:
        assert cp_bound <= figures(inst, plans["cp-sat"])["objective"] + 1e-6


@settings(max_examples=15, deadline=None)
@given(farms())
def test_retiming_a_kept_sequence_keeps_every_rule(inst):
    plan = greedy(inst)
    sequences = {pid: [a.job_id for a in rows] for pid, rows in plan.by_printer().items()}
    again = retime(inst, sequences)
    assert check(inst, again) == []
    assert {pid: [a.job_id for a in rows] for pid, rows in again.by_printer().items()} == sequences


@settings(max_examples=15, deadline=None)
@given(farms())
def test_retiming_a_plan_in_its_own_plate_clear_order_gives_it_back(inst):
    plan = greedy(inst)
    sequences = {pid: [a.job_id for a in rows] for pid, rows in plan.by_printer().items()}
    again = retime(inst, sequences, order_hint={a.job_id: a.changeover_start for a in plan.assignments})
    assert sorted((a.job_id, a.printer, a.changeover_start, a.start) for a in again.assignments) == \
        sorted((a.job_id, a.printer, a.changeover_start, a.start) for a in plan.assignments)


def test_a_re_plan_that_keeps_the_sequences_keeps_a_big_plan_as_good_as_it_was():
    """A print start re-times the kept sequences (Planner.replan keep_sequences): on 20 printers x 150
    plates with swaps, ordered by print starts the re-time lost staff slots and came back worse."""
    from somana_core.scheduling import Planner, synthetic

    inst = synthetic.instance(20, 150, seed=1, due_spread=2.0)
    planner = Planner(inst.printers, list(inst.jobs), calendar=inst.calendar, changeovers=inst.changeovers,
                      policy="greedy")
    first = planner.replan()
    again = planner.replan(keep_sequences=True)
    assert figures(inst, again)["objective"] == figures(inst, first)["objective"]
    assert sorted((a.job_id, a.start) for a in again.assignments) == sorted((a.job_id, a.start) for a in first.assignments)
