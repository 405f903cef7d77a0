"""Learning curves: the unit (Crawford) and cumulative-average (Wright) formulations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from somana_core.economics import learning_curve

rates = st.floats(min_value=0.05, max_value=1.0, allow_nan=False)


def test_crawford_unit_matches_heizer_render_learning_curve_table():
    """Heizer & Render, Operations Management, Supplement 10 (Learning Curves), Table S10.3, 80% column:
    unit 10 costs 0.477 and units 1-10 total 6.315 of the first unit; unit 20: 0.381, total 10.485."""
    r = learning_curve(first_unit_cost=1.0, learning_rate=0.8, units=np.array([10, 20]), formulation="crawford_unit")
    assert r.unit_cost_n == pytest.approx([0.477, 0.381], abs=5e-4)
    assert r.cumulative_total_cost == pytest.approx([6.315, 10.485], abs=5e-4)


def test_crawford_unit_matches_horngren_incremental_unit_time_exhibit():
    """Horngren et al., Cost Accounting, 14th ed., Ch. 10, incremental unit-time learning model (80%, first unit
    100 hours): unit 2 = 80, unit 3 = 70.21, unit 4 = 64; cumulative total of 4 units 314.21."""
    r = learning_curve(100, 0.8, np.array([2, 3, 4]), "crawford_unit")
    assert r.unit_cost_n == pytest.approx([80.0, 70.21, 64.0], abs=0.005)
    assert r.cumulative_total_cost[-1] == pytest.approx(314.21, abs=0.005)


def test_wright_cumulative_average_matches_horngren_exhibit():
    """Horngren et al., Cost Accounting, 14th ed., Ch. 10, cumulative average-time learning model (80%, first unit
    100 hours): averages 100, 80, 64, 51.2 at 1, 2, 4, 8 units; totals 100, 160, 256, 409.6; unit 2 takes 60
    hours and unit 3 takes 50.63 (average of 3 = 70.21)."""
    r = learning_curve(100, 0.8, np.array([1, 2, 4, 8]), "wright_cumulative_average")
    assert r.cumulative_average_cost == pytest.approx([100, 80, 64, 51.2])
    assert r.cumulative_total_cost == pytest.approx([100, 160, 256, 409.6])
    assert r.unit_cost_n[1] == pytest.approx(60.0)
    three = learning_curve(100, 0.8, 3, "wright_cumulative_average")
    assert three.unit_cost_n == pytest.approx(50.63, abs=0.005)
    assert three.cumulative_average_cost == pytest.approx(70.21, abs=0.005)


def test_the_two_formulations_differ_materially():
    crawford = learning_curve(100, 0.8, 100, "crawford_unit").cumulative_total_cost
    wright = learning_curve(100, 0.8, 100, "wright_cumulative_average").cumulative_total_cost
    # Same T1 and rate, 100 units: the unit formulation costs over 40% more in total (the reason there is no default).
    assert crawford / wright > 1.4


def test_a_learning_rate_of_one_means_no_learning():
    for formulation in ("crawford_unit", "wright_cumulative_average"):
        r = learning_curve(40.0, 1.0, 1000, formulation)
        assert (r.unit_cost_n, r.cumulative_total_cost, r.cumulative_average_cost) == pytest.approx((40, 40000, 40))


@settings(max_examples=40, deadline=None)
@given(rate=rates, n=st.integers(1, 3000))
def test_crawford_totals_are_the_exact_sum_of_unit_costs(rate, n):
    exact = float(np.sum(np.arange(1, n + 1, dtype=float) ** np.log2(rate)))
    r = learning_curve(1.0, rate, n, "crawford_unit")
    assert r.cumulative_total_cost == pytest.approx(exact, rel=1e-12)
    assert r.cumulative_average_cost == pytest.approx(exact / n, rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(rate=st.floats(0.5, 1.0), n=st.integers(2, 10**7))
def test_wright_unit_cost_is_the_difference_of_totals(rate, n):
    total = learning_curve(3.0, rate, np.array([n - 1, n]), "wright_cumulative_average").cumulative_total_cost
    unit = learning_curve(3.0, rate, n, "wright_cumulative_average").unit_cost_n
    assert unit == pytest.approx(total[1] - total[0], rel=1e-6, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(rate=st.floats(0.501, 0.999), n=st.integers(1, 10**6),
       formulation=st.sampled_from(["crawford_unit", "wright_cumulative_average"]))
def test_costs_fall_with_volume_and_each_doubling_costs_the_learning_rate(rate, n, formulation):
    r = learning_curve(10.0, rate, np.array([n, n + 1, 2 * n]), formulation)
    assert r.unit_cost_n[1] < r.unit_cost_n[0]
    assert r.cumulative_average_cost[1] < r.cumulative_average_cost[0]
    doubled = r.unit_cost_n if formulation == "crawford_unit" else r.cumulative_average_cost
    assert doubled[2] / doubled[0] == pytest.approx(rate, rel=1e-9)


def test_steep_cumulative_average_curves_are_refused():
    """Below 50% the cumulative-average total falls as output grows (negative unit costs): refused by name."""
    with pytest.raises(ValueError, match="learning_rate=0.4 .*0.5"):
        learning_curve(100, 0.4, 10, "wright_cumulative_average")
    assert learning_curve(100, 0.4, 10, "crawford_unit").unit_cost_n > 0  # fine for the unit formulation
    assert learning_curve(100, 0.5, 10, "wright_cumulative_average").unit_cost_n == 0.0  # the limit itself
