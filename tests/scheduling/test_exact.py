"""Proven optima on a tiny synthetic farm: the DP and CP-SAT's exact model agree, the lower bound stays below
the optimum, and the plan the product makes is at or near it (it reaches it given a quiet second)."""

from __future__ import annotations

from somana_core.scheduling import cpsat, exact, figures, solve, synthetic
from somana_core.scheduling.bounds import lower_bound
from somana_core.scheduling.model import check


def test_on_two_printers_and_eight_plates_bound_below_proven_optimum_and_the_plan_near_it():
    inst = synthetic.instance(2, 8, seed=1)  # real calendar and changeovers; setups the bound cannot see
    best = exact.optimum(inst)
    assert best["proved"] and check(inst, best["plan"]) == []
    optimum = best["objective"]
    # measured: 0.3 s gives 135, 1 s the optimum (load 2); 2 s leaves a margin on a busy machine
    plan = solve(inst, "cp-sat", time_limit_s=2.0, seed=1, with_bound=False)
    proof = cpsat.solve(inst, plan, 20.0, seed=1, exact=True)
    assert proof.status == "optimal" and figures(inst, proof)["objective"] == optimum  # two methods, one optimum
    assert lower_bound(inst)["objective"] <= optimum
    # no plan beats a proven optimum; ours reaches it in 1 s on a quiet machine (0.5 s: 121, 0.3 s: 135),
    # but CP-SAT's result within a wall-clock limit depends on the CPU it got: a busy CI gets a margin
    assert optimum <= figures(inst, plan)["objective"] <= 1.3 * optimum

