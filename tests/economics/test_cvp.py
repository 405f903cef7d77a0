"""Break-even, step break-even, the high-low split of a mixed cost, and operating leverage."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from somana_core.economics import break_even, high_low, operating_leverage, step_break_even

money = st.floats(min_value=0.01, max_value=1e5, allow_nan=False, allow_infinity=False)


def test_break_even_matches_horngren_emma_frost_example():
    """Horngren, Datar & Rajan, Cost Accounting: A Managerial Emphasis, 14th ed., Ch. 3 (CVP):
    Emma sells GMAT Success packages at $200, buys them at $120, pays $2,000 for the booth:
    contribution margin $80 (40%), break-even 25 units and $5,000 of revenue."""
    r = break_even(fixed_costs=2000, price_per_unit=200, variable_cost_per_unit=120)
    assert r.contribution_margin_per_unit == pytest.approx(80.0)
    assert r.contribution_margin_ratio == pytest.approx(0.4)
    assert r.breakeven_units == pytest.approx(25.0)
    assert r.breakeven_revenue == pytest.approx(5000.0)


def test_operating_leverage_matches_horngren_emma_frost_example():
    """Horngren et al., 14th ed., Ch. 3, degree of operating leverage: at 40 packages with $2,000 fixed,
    contribution margin $3,200, operating income $1,200, DOL = 2.67."""
    r = operating_leverage(units=40, price_per_unit=200, variable_cost_per_unit=120, fixed_costs=2000)
    assert r.contribution_margin == pytest.approx(3200.0)
    assert r.operating_income == pytest.approx(1200.0)
    assert r.degree_of_operating_leverage == pytest.approx(2.67, abs=0.005)


def test_high_low_matches_horngren_elegant_rugs_example():
    """Horngren et al., 14th ed., Ch. 10 (Determining How Costs Behave), Elegant Rugs: indirect manufacturing
    labour at the highest (96 machine-hours, $1,456) and lowest (46 machine-hours, $710) activity gives
    y = $23.68 + $14.92 x."""
    r = high_low(activity_low=46, cost_low=710, activity_high=96, cost_high=1456)
    assert r.variable_cost_per_unit_activity == pytest.approx(14.92)
    assert r.fixed_cost == pytest.approx(23.68)


def test_no_break_even_when_price_does_not_cover_variable_cost():
    for price in (120.0, 100.0):
        r = break_even(2000, price, 120)
        assert r.breakeven_units is None and r.breakeven_revenue is None
    arr = break_even(2000, np.array([200.0, 120.0, 100.0]), 120)
    assert list(arr.breakeven_units.mask) == [False, True, True]
    assert not np.isnan(arr.breakeven_units.data).any() and (arr.breakeven_units.data >= 0).all()


def test_no_fixed_costs_break_even_at_zero_units():
    assert break_even(0, 10, 4).breakeven_units == 0.0


def test_step_break_even_searches_capacity_steps_in_order():
    # Base $1,000, each 100-unit printer step $500, margin $10/unit. Step 1 would need 150 units (> 100);
    # step 2 needs 200 units, exactly its capacity.
    r = step_break_even(1000, 500, 100, price_per_unit=20, variable_cost_per_unit=10)
    assert (r.breakeven_units, r.steps_at_breakeven, r.fixed_costs_at_breakeven) == (200.0, 2.0, 2000.0)
    # Cheaper steps: step 1 covers it (F = 1,100 -> 110 units > 100 no; step 2: F = 1,200 -> 120 units).
    r = step_break_even(1000, 100, 100, 20, 10)
    assert (r.breakeven_units, r.steps_at_breakeven, r.fixed_costs_at_breakeven) == (120.0, 2.0, 1200.0)


def test_step_break_even_none_when_steps_never_pay_for_themselves():
    r = step_break_even(1000, 1000, 100, 20, 10)  # each step earns $1,000 and costs $1,000
    assert r.breakeven_units is None and r.steps_at_breakeven is None and r.fixed_costs_at_breakeven is None
    assert step_break_even(1000, 10, 100, 10, 10).breakeven_units is None  # no margin at all
    assert step_break_even(0, 10, 100, 20, 10).breakeven_units == 0.0  # nothing to cover
    assert step_break_even(0, 10, 100, 10, 20).breakeven_units is None  # as break_even: no margin, no answer


def _brute_force_step_break_even(base, step, capacity, margin, limit=100_000):
    for units in range(limit):
        steps = math.ceil(units / capacity)
        if margin * units - (base + steps * step) >= -1e-9:
            return units, steps
    return None, None


@settings(max_examples=80, deadline=None)
@given(base=st.integers(0, 5000), step=st.integers(0, 2000), capacity=st.integers(1, 300),
       price=st.integers(1, 60), variable=st.integers(0, 40))
def test_step_break_even_equals_a_unit_by_unit_search(base, step, capacity, price, variable):
    margin = price - variable
    expected_units, expected_steps = (_brute_force_step_break_even(base, step, capacity, margin)
                                      if margin > 0 and (capacity * margin > step or base == 0) else (None, None))
    # (p <= v has no break-even, as in break_even, even with nothing to cover)
    r = step_break_even(base, step, capacity, price, variable)
    assert r.breakeven_units == expected_units
    assert r.steps_at_breakeven == expected_steps


@settings(max_examples=80, deadline=None)
@given(fixed=money, price=money, variable=money)
def test_break_even_volume_earns_exactly_zero_and_is_never_negative(fixed, price, variable):
    r = break_even(fixed, price, variable)
    if price > variable:
        assert r.breakeven_units >= 0
        assert r.breakeven_units * (price - variable) == pytest.approx(fixed, rel=1e-9)
    else:
        assert r.breakeven_units is None


@settings(max_examples=80, deadline=None)
@given(units=st.floats(1, 1e5), price=money, variable=money, fixed=money, change=st.floats(0.001, 0.5))
def test_the_two_dol_definitions_agree(units, price, variable, fixed, change):
    """DOL = CM / OI equals (% change in operating income) / (% change in sales) at constant price and costs."""
    income = units * (price - variable) - fixed
    if abs(income) < 1e-6 * max(1.0, abs(units * (price - variable))):
        return  # at break-even DOL is undefined (its own test), next to it ill-conditioned in floating point
    base = operating_leverage(units, price, variable, fixed)
    if units * (1 + change) * (price - variable) == fixed:
        return  # the moved volume landed exactly on break-even
    moved = operating_leverage(units * (1 + change), price, variable, fixed)
    income_change = (moved.operating_income - base.operating_income) / base.operating_income
    sales_change = change  # sales = price * units, price constant
    assert income_change / sales_change == pytest.approx(base.degree_of_operating_leverage, rel=1e-6)


@settings(max_examples=60, deadline=None)
@given(fixed=money, price=money, variable=money, factor=st.floats(1.01, 10))
def test_break_even_rises_with_fixed_costs_and_falls_with_price(fixed, price, variable, factor):
    if price <= variable:
        return
    base = break_even(fixed, price, variable).breakeven_units
    assert break_even(fixed * factor, price, variable).breakeven_units > base
    assert break_even(fixed, price * factor, variable).breakeven_units < base


def test_dol_falls_as_volume_grows_above_break_even():
    volumes = np.array([30.0, 40.0, 60.0, 100.0])
    dol = operating_leverage(volumes, 200, 120, 2000).degree_of_operating_leverage
    assert np.all(np.diff(dol) < 0) and np.all(dol > 1)
