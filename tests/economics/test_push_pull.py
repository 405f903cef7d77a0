"""Predict-and-push against make-to-order: the closed form under normal demand and the Monte Carlo variant."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from somana_core.economics import newsvendor, push_vs_pull, push_vs_pull_monte_carlo


def test_push_side_is_the_newsvendor_and_pull_side_sells_every_demanded_unit():
    """O'Neill wetsuit numbers (Cachon & Terwiesch, Matching Supply with Demand, Ch. 12) with a make-to-order
    cost of $125: push earns the newsvendor profit, MTO earns (180 - 125) * expected demand."""
    r = push_vs_pull(180, 110, 90, demand_mean=3192, demand_std=1181, mto_unit_cost=125)
    push = newsvendor(180, 110, 90, 3192, 1181)
    assert r.push_optimal_order_quantity == pytest.approx(push.order_quantity)
    assert r.push_expected_profit == pytest.approx(push.expected_profit)
    assert r.push_expected_leftover == pytest.approx(push.expected_leftover)
    assert r.push_expected_lost_sales == pytest.approx(push.expected_lost_sales)
    assert r.mto_expected_profit == pytest.approx(55 * 3192, rel=1e-3)
    assert r.pull_advantage == pytest.approx(r.mto_expected_profit - r.push_expected_profit)
    # At the break-even MTO cost, pull earns exactly what push does.
    even = push_vs_pull(180, 110, 90, 3192, 1181, mto_unit_cost=r.breakeven_mto_unit_cost)
    assert even.pull_advantage == pytest.approx(0.0, abs=1e-6)


def test_certain_demand_makes_push_and_equal_cost_pull_identical():
    r = push_vs_pull(50, 20, 5, demand_mean=100, demand_std=0, mto_unit_cost=20)
    assert r.push_expected_profit == pytest.approx(3000.0) and r.mto_expected_profit == pytest.approx(3000.0)
    assert r.pull_advantage == pytest.approx(0.0) and r.breakeven_mto_unit_cost == pytest.approx(20.0)


def test_mto_declines_loss_making_orders_and_no_demand_has_no_breakeven_cost():
    assert push_vs_pull(50, 20, 5, 100, 30, mto_unit_cost=60).mto_expected_profit == 0.0
    assert push_vs_pull(50, 20, 5, 0, 0, mto_unit_cost=30).breakeven_mto_unit_cost is None


@settings(max_examples=40, deadline=None)
@given(mu=st.floats(10, 1e4), cv=st.floats(0.01, 1.0), premium=st.floats(0, 0.5))
def test_more_uncertainty_favours_pull(mu, cv, premium):
    low = push_vs_pull(100, 40, 10, mu, mu * cv / 2, mto_unit_cost=40 * (1 + premium))
    high = push_vs_pull(100, 40, 10, mu, mu * cv, mto_unit_cost=40 * (1 + premium))
    assert high.pull_advantage >= low.pull_advantage - 1e-9 * mu * 100


def test_monte_carlo_with_normal_draws_agrees_with_the_closed_form():
    closed = push_vs_pull(180, 110, 90, 3192, 1181, mto_unit_cost=125)
    mc = push_vs_pull_monte_carlo(180, 110, 90, mto_unit_cost=125,
                                  demand=lambda rng, n: np.maximum(rng.normal(3192, 1181, n), 0.0),
                                  n_draws=400_000, seed=7)
    assert mc.n_draws == 400_000
    assert mc.push_expected_profit == pytest.approx(closed.push_expected_profit, abs=4 * mc.push_profit_standard_error)
    assert mc.pull_advantage == pytest.approx(closed.pull_advantage, abs=4 * mc.pull_advantage_standard_error)
    assert mc.push_optimal_order_quantity == pytest.approx(closed.push_optimal_order_quantity, rel=0.01)


def test_monte_carlo_is_reproducible_from_its_seed_and_takes_non_normal_demand():
    def lognormal(rng, n):
        return rng.lognormal(mean=3.0, sigma=0.9, size=n)

    a = push_vs_pull_monte_carlo(60, 25, 5, 30, lognormal, n_draws=50_000, seed=42)
    b = push_vs_pull_monte_carlo(60, 25, 5, 30, lognormal, n_draws=50_000, seed=42)
    c = push_vs_pull_monte_carlo(60, 25, 5, 30, lognormal, n_draws=50_000, seed=43)
    assert a == b and a != c
    generator = push_vs_pull_monte_carlo(60, 25, 5, 30, lognormal, n_draws=50_000, seed=np.random.default_rng(42))
    assert generator == a


def test_monte_carlo_quantity_is_the_critical_ratio_quantile_of_the_draws():
    draws = np.arange(1.0, 101.0)  # demand 1..100 equally likely
    r = push_vs_pull_monte_carlo(10, 6, 2, mto_unit_cost=7, demand=draws)  # critical ratio 0.5
    assert r.push_optimal_order_quantity == 50.0
    sales = np.minimum(draws, 50.0)
    assert r.push_expected_profit == pytest.approx(np.mean(8 * sales - 4 * 50.0))
    assert r.mto_expected_profit == pytest.approx(3 * 50.5)
    fixed = push_vs_pull_monte_carlo(10, 6, 2, 7, draws, order_quantity=100)
    assert fixed.push_expected_lost_sales == 0.0 and fixed.push_expected_leftover == pytest.approx(49.5)


def test_monte_carlo_with_price_below_cost_makes_nothing():
    r = push_vs_pull_monte_carlo(5, 6, 2, 4, demand=np.array([3.0, 5.0]))
    assert r.push_optimal_order_quantity == 0.0 and r.push_expected_profit == 0.0
