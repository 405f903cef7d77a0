"""Gross margin and markup, target-margin pricing, and the newsvendor under normal demand."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from somana_core.economics import gross_margin, newsvendor, price_for_margin


def test_gross_margin_and_markup_by_hand():
    """A $100 sensor with $40 of COGS: 60% gross margin on price, 150% markup on cost, $60 gross profit
    (definitions as in Horngren et al., Cost Accounting, 14th ed., Ch. 12, pricing: markup on cost)."""
    r = gross_margin(price=100, cogs_per_unit=40)
    assert (r.gross_margin, r.markup, r.gross_profit_per_unit) == pytest.approx((0.6, 1.5, 60.0))
    assert price_for_margin(cogs_per_unit=40, target_gross_margin=0.6) == pytest.approx(100.0)


def test_free_goods_have_no_markup_and_losses_have_negative_margin():
    assert gross_margin(10, 0).markup is None
    assert gross_margin(10, 15).gross_margin == pytest.approx(-0.5)
    arr = gross_margin(10, np.array([0.0, 5.0]))
    assert list(arr.markup.mask) == [True, False] and arr.markup[1] == pytest.approx(1.0)


@settings(max_examples=60, deadline=None)
@given(cogs=st.floats(0.01, 1e4), margin=st.floats(0, 0.99))
def test_price_for_margin_round_trips_through_gross_margin(cogs, margin):
    price = price_for_margin(cogs, margin)
    assert gross_margin(price, cogs).gross_margin == pytest.approx(margin, abs=1e-9)


def test_newsvendor_matches_cachon_terwiesch_oneill_example():
    """Cachon & Terwiesch, Matching Supply with Demand, Ch. 12 (Betting on Uncertain Demand: The Newsvendor Model),
    O'Neill's Hammer 3/2 wetsuit: price $180, cost $110, salvage $90, demand N(3192, 1181). Critical ratio
    0.7778; with the table z = 0.77 they order 4,101 and get expected lost sales of about 150, expected sales
    3,042, leftover 1,059 and expected profit of about $191,760."""
    r = newsvendor(180, 110, 90, demand_mean=3192, demand_std=1181, order_quantity=4101)
    assert r.critical_ratio == pytest.approx(70 / 90)
    assert r.expected_lost_sales == pytest.approx(150, rel=0.01)
    assert r.expected_sales == pytest.approx(3042, rel=0.001)
    assert r.expected_leftover == pytest.approx(1059, rel=0.005)
    assert r.expected_profit == pytest.approx(191_760, rel=0.001)
    assert r.fill_rate == pytest.approx(3042 / 3192, rel=0.001)
    optimal = newsvendor(180, 110, 90, 3192, 1181)
    assert optimal.z == pytest.approx(0.7647, abs=1e-4)  # exact quantile; the table rounds to 0.77
    assert optimal.order_quantity == pytest.approx(3192 + 0.7647 * 1181, abs=0.2)


def test_certain_demand_orders_exactly_the_mean():
    r = newsvendor(5, 2, 1, demand_mean=150, demand_std=0)
    assert r.order_quantity == 150.0 and r.expected_lost_sales == 0.0 and r.expected_leftover == 0.0
    assert r.expected_profit == pytest.approx(450.0) and r.fill_rate == 1.0


def test_price_at_or_below_cost_orders_nothing_and_earns_nothing():
    for price in (2.0, 1.5, 0.0):
        r = newsvendor(price, 2, 1, 150, 40)
        assert (r.order_quantity, r.expected_profit, r.expected_sales, r.expected_leftover) == (0.0, 0.0, 0.0, 0.0)
        assert r.critical_ratio == 0.0 and r.z is None
    arr = newsvendor(np.array([5.0, 2.0]), 2, 1, 150, 40)
    assert list(arr.z.mask) == [False, True] and arr.expected_profit[1] == 0.0


def test_small_demand_never_gives_negative_expectations():
    r = newsvendor(5, 1.5, 0.5, demand_mean=0, demand_std=50)
    assert r.order_quantity >= 0 and r.expected_sales >= 0 and r.expected_leftover >= 0
    assert newsvendor(5, 1.5, 0.5, 0, 0).fill_rate is None  # no demand at all


@settings(max_examples=50, deadline=None)
@given(price=st.floats(2, 500), cost_share=st.floats(0.05, 0.95), salvage_share=st.floats(0, 0.95),
       mu=st.floats(10, 1e4), cv=st.floats(0.01, 0.8), step=st.floats(0.01, 0.5))
def test_the_critical_ratio_quantity_maximises_expected_profit(price, cost_share, salvage_share, mu, cv, step):
    cost = price * cost_share
    salvage = cost * salvage_share
    best = newsvendor(price, cost, salvage, mu, mu * cv)
    for q in (best.order_quantity * (1 - step), best.order_quantity * (1 + step)):
        assert newsvendor(price, cost, salvage, mu, mu * cv, order_quantity=q).expected_profit <= (
            best.expected_profit + 1e-9 * abs(best.expected_profit) + 1e-9)


@settings(max_examples=50, deadline=None)
@given(mu=st.floats(0, 1e4), sigma=st.floats(0, 1e3), q=st.floats(0, 2e4))
def test_sales_lost_and_leftover_balance(mu, sigma, q):
    r = newsvendor(10, 4, 1, mu, sigma, order_quantity=q)
    assert r.expected_sales >= 0 and r.expected_leftover >= -1e-9 * max(1, q) and r.expected_lost_sales >= 0
    assert r.expected_sales + r.expected_leftover == pytest.approx(q, rel=1e-9, abs=1e-9)
    assert r.expected_sales <= min(q, mu + 10 * sigma) + 1e-9 * max(1, q)
