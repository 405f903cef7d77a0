"""The newsvendor: how many to make ahead of uncertain (normal) demand, and what that earns.

Conventions for scalars, arrays and undefined (None / masked) fields: `somana_core.economics._arrays`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import ndtr, ndtri

from ._arrays import Inputs, at_least, require, safe_divide

_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


@dataclass(frozen=True)
class NewsvendorResult:
    critical_ratio: Any  # (p - c) / (p - s); 0 when price <= cost
    z: Any  # standard score of the order quantity; None/masked where undefined (see newsvendor)
    order_quantity: Any  # units
    expected_sales: Any  # units
    expected_lost_sales: Any  # units of demand not met
    expected_leftover: Any  # units salvaged
    expected_profit: Any  # USD
    fill_rate: Any  # expected_sales / expected demand; None/masked when there is no demand


def _loss(z: np.ndarray) -> np.ndarray:
    """Standard normal loss function L(z) = E[(Z - z)+] = phi(z) - z (1 - Phi(z)), for z >= 0."""
    return _INV_SQRT_2PI * np.exp(-0.5 * z * z) - z * ndtr(-z)


def _expected_shortfall(quantity, mu, sigma) -> np.ndarray:
    """E[(D - q)+] for D ~ N(mu, sigma), sigma >= 0, without overflow or cancellation.

    Uses L(z) = -z + L(-z) so the loss function is only evaluated at |z| (clipped at 40, where it
    is 0 to double precision); sigma = 0 gives max(mu - q, 0) exactly.
    """
    gap = quantity - mu
    with np.errstate(over="ignore"):
        z = np.minimum(np.abs(safe_divide(gap, sigma, sigma > 0)), 40.0)
    tail = sigma * _loss(z)
    return np.where(gap < 0, -gap + tail, tail)


def expected_sales_normal(quantity, mu, sigma):
    """(expected lost sales, expected sales, expected demand) for demand max(0, N(mu, sigma)), Q >= 0.

    Negative normal draws count as no demand, so no expected quantity is ever negative; for
    mu >= 3 sigma this differs from the untruncated textbook formulas by under 0.0004 sigma.
    sigma = 0 is exact deterministic demand.
    """
    lost = _expected_shortfall(quantity, mu, sigma)
    mean_demand = _expected_shortfall(0.0, mu, sigma)
    sales = np.maximum(mean_demand - lost, 0.0)
    return lost, sales, mean_demand


def validate_newsvendor_costs(unit_price, unit_cost, salvage_value) -> None:
    """Shared checks for the newsvendor and push-vs-pull models (arrays already broadcast)."""
    at_least("unit_price", unit_price, 0, "USD")
    at_least("unit_cost", unit_cost, 0, "USD")
    require("salvage_value", salvage_value, salvage_value >= unit_cost,
            "it must be below unit_cost (negative means a disposal cost); at or above cost, "
            "leftovers are free and the order is unbounded")


def critical_ratio(unit_price, unit_cost, salvage_value) -> np.ndarray:
    """Cu / (Cu + Co) = (p - c) / (p - s), and 0 when price does not cover cost."""
    profitable = unit_price > unit_cost
    return safe_divide(unit_price - unit_cost, unit_price - salvage_value, profitable)


def newsvendor(unit_price, unit_cost, salvage_value, demand_mean, demand_std, order_quantity=None) -> NewsvendorResult:
    """Single-period order under normal demand N(demand_mean, demand_std).

    With ``order_quantity=None`` the optimal quantity mu + z sigma is used, z = Phi^-1(critical ratio),
    clipped at 0 units. Demand is max(0, N(mu, sigma)): negative normal draws count as no demand,
    which keeps every expected quantity >= 0 and is where the clip at 0 is exactly optimal (for
    mu >= 3 sigma the textbook untruncated formulas agree to 0.0004 sigma; above a CV of about 0.4
    the truncation lifts expected demand noticeably: model skewed demand with
    `push_vs_pull_monte_carlo` instead). Degenerate cases:
    demand_std 0 orders exactly the mean; a price at or below cost orders 0 with profit 0 (z is then
    None / masked). With a given quantity, z = (Q - mu) / sigma (None / masked when sigma is 0).

    unit_price, unit_cost (USD) >= 0; salvage_value < unit_cost (may be negative: disposal cost);
    demand_mean, demand_std (units) >= 0; order_quantity (units) >= 0.
    """
    named = dict(unit_price=unit_price, unit_cost=unit_cost, salvage_value=salvage_value,
                 demand_mean=demand_mean, demand_std=demand_std)
    if order_quantity is not None:
        named["order_quantity"] = order_quantity
    x = Inputs(**named)
    price, cost, salvage, mu, sigma = x.values("unit_price", "unit_cost", "salvage_value", "demand_mean", "demand_std")
    validate_newsvendor_costs(price, cost, salvage)
    at_least("demand_mean", mu, 0, "units")
    at_least("demand_std", sigma, 0, "units")

    ratio = critical_ratio(price, cost, salvage)
    profitable = price > cost
    uncertain = sigma > 0
    if order_quantity is None:
        z_target = ndtri(np.where(profitable, ratio, 0.5))
        quantity = np.where(profitable, np.maximum(mu + z_target * np.where(uncertain, sigma, 0.0), 0.0), 0.0)
        z_defined = profitable
        z_report = z_target
    else:
        quantity = x["order_quantity"]
        at_least("order_quantity", quantity, 0, "units")
        z_defined = uncertain
        with np.errstate(over="ignore"):  # a sigma near 1e-308 may give an infinite z, never NaN
            z_report = safe_divide(quantity - mu, sigma, uncertain)

    lost, sales, mean_demand = expected_sales_normal(quantity, mu, sigma)
    leftover = quantity - sales
    profit = price * sales + salvage * leftover - cost * quantity
    has_demand = mean_demand > 0
    return NewsvendorResult(
        critical_ratio=x.out(ratio),
        z=x.optional(z_report, z_defined),
        order_quantity=x.out(quantity),
        expected_sales=x.out(sales),
        expected_lost_sales=x.out(lost),
        expected_leftover=x.out(leftover),
        expected_profit=x.out(profit),
        fill_rate=x.optional(safe_divide(sales, mean_demand, has_demand), has_demand),
    )
