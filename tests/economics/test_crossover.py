"""Equal-cost points between processes, and the cheapest of N processes per volume range."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from somana_core.economics import cheapest_process, cheapest_process_ranges, crossover


def test_crossover_of_printing_and_moulding_by_hand():
    """Equal-cost point q* = (F_b - F_a) / (v_a - v_b) (Heizer & Render, Supplement 7, crossover charts), checked
    by hand: a mould at $10,000 + $1.50/part against printing at $0 + $8/part crosses at 1,538.46 parts."""
    r = crossover(fixed_cost_a=10000, variable_cost_a=1.5, fixed_cost_b=0, variable_cost_b=8)
    assert r.crossover_units == pytest.approx(10000 / 6.5)
    assert (r.cheaper_below_crossover, r.cheaper_above_crossover, r.cheaper_everywhere) == ("b", "a", None)


def test_a_dominant_process_is_cheaper_everywhere():
    r = crossover(0, 1, 100, 2)
    assert r.crossover_units is None and r.cheaper_everywhere == "a"
    assert r.cheaper_below_crossover is None and r.cheaper_above_crossover is None
    assert crossover(5, 3, 5, 2).cheaper_everywhere == "b"  # same fixed, flatter line wins for q > 0
    assert crossover(5, 2, 7, 2).cheaper_everywhere == "a"  # parallel lines


def test_identical_processes_have_no_crossover_and_no_winner():
    r = crossover(5, 2, 5, 2)
    assert (r.crossover_units, r.cheaper_below_crossover, r.cheaper_above_crossover, r.cheaper_everywhere) == (
        None, None, None, None)


def test_array_crossover_masks_where_there_is_none():
    r = crossover(np.array([10000.0, 0.0, 5.0]), np.array([1.5, 1.0, 2.0]), 0.0, np.array([8.0, 2.0, 2.0]))
    assert list(r.crossover_units.mask) == [False, True, True]
    assert list(r.cheaper_everywhere.filled("-")) == ["-", "a", "b"]
    assert list(r.cheaper_below_crossover.filled("-")) == ["b", "-", "-"]
    assert not np.isnan(r.crossover_units.data).any()


def test_three_processes_split_the_volume_axis():
    names = ["manual", "printing", "moulding"]
    ranges = cheapest_process_ranges(names, fixed_costs=[0, 50, 10000], variable_costs=[35, 8, 1.5])
    assert [r.process for r in ranges] == ["manual", "printing", "moulding"]
    assert ranges[0].from_units == 0 and ranges[0].to_units == pytest.approx(50 / 27)
    assert ranges[1].to_units == pytest.approx(9950 / 6.5) and ranges[2].to_units is None
    assert list(cheapest_process([1, 100, 5000], names, [0, 50, 10000], [35, 8, 1.5])) == [
        "manual", "printing", "moulding"]
    assert cheapest_process(100, names, [0, 50, 10000], [35, 8, 1.5]) == "printing"


def test_a_process_that_is_never_cheapest_is_left_out():
    ranges = cheapest_process_ranges(["a", "b", "c"], [0, 100, 200], [10, 5, 20])
    assert [r.process for r in ranges] == ["a", "b"]


def test_equal_cost_at_zero_goes_to_the_flatter_line():
    ranges = cheapest_process_ranges(["steep", "flat"], [10, 10], [5, 1])
    assert [(r.process, r.from_units, r.to_units) for r in ranges] == [("flat", 0.0, None)]


processes = st.lists(st.tuples(st.integers(0, 10000), st.integers(0, 100)), min_size=1, max_size=6)


@settings(max_examples=60, deadline=None)
@given(costs=processes, quantities=st.lists(st.integers(0, 20000), min_size=1, max_size=20))
def test_cheapest_process_is_the_minimum_total_and_agrees_with_the_ranges(costs, quantities):
    names = [f"p{i}" for i in range(len(costs))]
    fixed = [c[0] for c in costs]
    variable = [c[1] for c in costs]
    chosen = cheapest_process(np.array(quantities, dtype=float), names, fixed, variable)
    ranges = cheapest_process_ranges(names, fixed, variable)
    for q, name in zip(quantities, chosen):
        totals = [f + v * q for f, v in zip(fixed, variable)]
        assert totals[names.index(name)] == min(totals)
        owner = [r for r in ranges if r.from_units <= q and (r.to_units is None or q < r.to_units)]
        assert len(owner) == 1
        owner_total = owner[0].fixed_cost + owner[0].variable_cost_per_unit * q
        assert owner_total == pytest.approx(min(totals), rel=1e-9, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(fa=st.floats(0, 1e5), va=st.floats(0, 1e3), fb=st.floats(0, 1e5), vb=st.floats(0, 1e3))
def test_totals_are_equal_at_the_crossover(fa, va, fb, vb):
    r = crossover(fa, va, fb, vb)
    if r.crossover_units is not None:
        q = r.crossover_units
        assert fa + va * q == pytest.approx(fb + vb * q, rel=1e-9, abs=1e-6)
        below, above = (q / 2, q * 2)
        cost = {"a": lambda x: fa + va * x, "b": lambda x: fb + vb * x}
        other = {"a": "b", "b": "a"}
        assert cost[r.cheaper_below_crossover](below) <= cost[other[r.cheaper_below_crossover]](below)
        assert cost[r.cheaper_above_crossover](above) <= cost[other[r.cheaper_above_crossover]](above)
