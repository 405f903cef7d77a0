"""EOQ, the EOQ cost curve, EPQ and the changeover cost that makes a batch size optimal."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from somana_core.economics import eoq, epq, inventory_cost, required_setup_cost

positive = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False)
non_negative = st.floats(min_value=0.0, max_value=1e6, allow_nan=False, allow_infinity=False)


def test_eoq_matches_heizer_render_sharp_inc_example():
    """Heizer & Render, Operations Management, Ch. 12 (Inventory Management), Examples 3-6, Sharp Inc.

    D = 1,000 needles/year, S = $10 per order, H = $0.50 per unit-year, 250 working days:
    Q* = 200 units, N = 5 orders, T = 50 days, TC = $100 per year.
    """
    r = eoq(annual_demand=1000, setup_cost=10, holding_cost_per_unit_year=0.5)
    assert r.eoq == pytest.approx(200.0)
    assert r.orders_per_year == pytest.approx(5.0)
    assert r.cycle_time_years * 250 == pytest.approx(50.0)
    assert r.average_inventory == pytest.approx(100.0)
    assert r.annual_setup_cost == pytest.approx(50.0)
    assert r.annual_holding_cost == pytest.approx(50.0)
    assert r.total_annual_cost == pytest.approx(100.0)
    assert r.total_annual_cost_incl_purchase == pytest.approx(100.0)


def test_eoq_total_including_purchase_adds_demand_times_unit_cost():
    r = eoq(1000, 10, 0.5, unit_cost=2.0)
    assert r.total_annual_cost_incl_purchase == pytest.approx(100.0 + 2000.0)


def test_zero_setup_cost_is_the_batch_of_one_limit():
    r = eoq(annual_demand=1000, setup_cost=0, holding_cost_per_unit_year=0.5, unit_cost=3)
    assert r.eoq == 0.0 and r.total_annual_cost == 0.0 and r.annual_setup_cost == 0.0
    assert r.cycle_time_years == 0.0
    assert r.orders_per_year is None  # continuous flow: no discrete orders to count
    assert r.total_annual_cost_incl_purchase == pytest.approx(3000.0)


def test_zero_demand_means_no_orders_and_no_cycle():
    r = eoq(0, 10, 0.5)
    assert r.eoq == 0.0 and r.orders_per_year == 0.0 and r.total_annual_cost == 0.0
    assert r.cycle_time_years is None


def test_eoq_cost_curve_is_flat_around_the_optimum():
    """Twice or half the EOQ costs 25% more: TC(Q)/TC(Q*) = (Q*/Q + Q/Q*)/2 (e.g. Silver, Pyke & Peterson,
    Inventory Management and Production Planning and Scheduling, 3rd ed., Sec. 5.2, sensitivity of EOQ cost)."""
    assert inventory_cost(1000, 10, 0.5, order_quantity=200).cost_ratio_vs_optimum == pytest.approx(1.0)
    assert inventory_cost(1000, 10, 0.5, order_quantity=400).cost_ratio_vs_optimum == pytest.approx(1.25)
    r = inventory_cost(1000, 10, 0.5, order_quantity=100)
    assert r.cost_ratio_vs_optimum == pytest.approx(1.25)
    assert (r.annual_setup_cost, r.annual_holding_cost, r.total_annual_cost) == pytest.approx((100.0, 25.0, 125.0))


def test_cost_ratio_is_undefined_when_the_optimum_costs_nothing():
    assert inventory_cost(1000, 0, 0.5, order_quantity=10).cost_ratio_vs_optimum is None
    ratios = inventory_cost(1000, np.array([0.0, 10.0]), 0.5, order_quantity=200).cost_ratio_vs_optimum
    assert list(ratios.mask) == [True, False] and ratios[1] == pytest.approx(1.0)


def test_epq_matches_heizer_render_nathan_manufacturing_example():
    """Heizer & Render, Operations Management, Ch. 12, Example 7 (production order quantity), Nathan Manufacturing:
    D = 1,000 units/year, S = $10, H = $0.50, demand 4/day, production 8/day -> Q* = 282.8 units."""
    r = epq(annual_demand=1000, annual_production_rate=2000, setup_cost=10, holding_cost_per_unit_year=0.5)
    assert r.epq == pytest.approx(282.84, abs=0.01)
    assert r.max_inventory == pytest.approx(r.epq * 0.5)
    assert r.production_run_time_years == pytest.approx(r.epq / 2000)
    assert r.cycle_time_years == pytest.approx(r.epq / 1000)
    assert r.annual_setup_cost == pytest.approx(r.annual_holding_cost)  # balanced at the optimum
    assert r.total_annual_cost == pytest.approx(r.annual_setup_cost + r.annual_holding_cost)


def test_epq_zero_setup_runs_nothing_and_costs_nothing():
    r = epq(1000, 2000, 0, 0.5)
    assert (r.epq, r.max_inventory, r.total_annual_cost) == (0.0, 0.0, 0.0)


def test_required_setup_cost_is_the_smed_target_for_batch_of_one():
    # S = H Q^2 / (2D): with H = $0.50 and D = 1000/year, batch-of-one needs a $0.00025 changeover.
    assert required_setup_cost(1000, 0.5, target_batch_size=1) == pytest.approx(0.00025)
    assert required_setup_cost(1000, 0.5, target_batch_size=200) == pytest.approx(10.0)


@settings(max_examples=60, deadline=None)
@given(demand=positive, setup=positive, holding=positive, batch=positive)
def test_required_setup_cost_inverts_eoq(demand, setup, holding, batch):
    assert eoq(demand, required_setup_cost(demand, holding, batch), holding).eoq == pytest.approx(batch, rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(demand=positive, setup=positive, holding=positive, factor=st.floats(1.01, 100))
def test_eoq_rises_with_demand_and_setup_and_falls_with_holding_cost(demand, setup, holding, factor):
    base = eoq(demand, setup, holding).eoq
    assert eoq(demand * factor, setup, holding).eoq > base
    assert eoq(demand, setup * factor, holding).eoq > base
    assert eoq(demand, setup, holding * factor).eoq < base


@settings(max_examples=60, deadline=None)
@given(demand=positive, setup=positive, holding=positive, quantity=positive)
def test_no_order_quantity_beats_the_eoq(demand, setup, holding, quantity):
    r = inventory_cost(demand, setup, holding, quantity)
    assert r.cost_ratio_vs_optimum >= 1.0 - 1e-12
    assert r.total_annual_cost >= eoq(demand, setup, holding).total_annual_cost * (1 - 1e-12)


@settings(max_examples=40, deadline=None)
@given(demand=positive, setup=non_negative, holding=positive, extra=st.floats(1.001, 1000))
def test_epq_is_at_least_the_eoq_and_tends_to_it_for_fast_lines(demand, setup, holding, extra):
    slow = epq(demand, demand * extra, setup, holding).epq
    plain = eoq(demand, setup, holding).eoq
    assert slow >= plain * (1 - 1e-12)
    assert epq(demand, demand * 1e9, setup, holding).epq == pytest.approx(plain, rel=1e-6, abs=1e-12)
