"""Predict-and-push vs make-to-order: the inventory risk the seeds say batch-of-one removes.

Push makes the newsvendor-optimal quantity ahead of demand, sells what is asked for and salvages
the rest. Pull (make-to-order) makes each unit once it is ordered, at `mto_unit_cost` (usually
higher: no economies of batch), so it never has leftovers or lost sales. Conventions for scalars,
arrays and undefined (None / masked) fields: `somana_core.economics._arrays`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from somana_core.errors import InputError

from ._arrays import Inputs, at_least, safe_divide
from .newsvendor import critical_ratio, newsvendor, validate_newsvendor_costs


@dataclass(frozen=True)
class PushVsPullResult:
    push_optimal_order_quantity: Any  # units made ahead (newsvendor optimum)
    push_expected_profit: Any  # USD
    push_expected_leftover: Any  # units salvaged
    push_expected_lost_sales: Any  # units of demand not met
    mto_expected_profit: Any  # USD: expected demand * max(price - mto_unit_cost, 0)
    pull_advantage: Any  # mto_expected_profit - push_expected_profit, USD
    breakeven_mto_unit_cost: Any  # MTO unit cost at which pull earns what push does; None/masked without demand


def _mto(price, mto_cost, mean_demand, push_profit):
    # A make-to-order shop declines orders it would lose money on, so its profit is never negative.
    mto_profit = mean_demand * np.maximum(price - mto_cost, 0.0)
    has_demand = mean_demand > 0
    breakeven = price - safe_divide(push_profit, mean_demand, has_demand)
    return mto_profit, breakeven, has_demand


def push_vs_pull(unit_price, unit_cost, salvage_value, demand_mean, demand_std, mto_unit_cost) -> PushVsPullResult:
    """Expected profit of push (newsvendor under normal demand) against make-to-order.

    Parameters as in `newsvendor`; mto_unit_cost (USD) >= 0 is the cost of making one unit to
    order. Demand is max(0, N(demand_mean, demand_std)), as in `newsvendor`.
    ``breakeven_mto_unit_cost`` = price - push profit / expected demand: the MTO cost premium the
    factory can afford before pull stops paying.
    """
    x = Inputs(unit_price=unit_price, unit_cost=unit_cost, salvage_value=salvage_value,
               demand_mean=demand_mean, demand_std=demand_std, mto_unit_cost=mto_unit_cost)
    price, mto_cost, mu, sigma = x.values("unit_price", "mto_unit_cost", "demand_mean", "demand_std")
    at_least("mto_unit_cost", mto_cost, 0, "USD")
    push = newsvendor(x["unit_price"], x["unit_cost"], x["salvage_value"], mu, sigma)
    push_profit = np.asarray(push.expected_profit)
    # Every unit of demand is either sold or lost: E[sales] + E[lost sales] = E[demand].
    mean_demand = np.asarray(push.expected_sales) + np.asarray(push.expected_lost_sales)
    mto_profit, breakeven, has_demand = _mto(price, mto_cost, mean_demand, push_profit)
    return PushVsPullResult(
        push_optimal_order_quantity=x.out(push.order_quantity),
        push_expected_profit=x.out(push_profit),
        push_expected_leftover=x.out(push.expected_leftover),
        push_expected_lost_sales=x.out(push.expected_lost_sales),
        mto_expected_profit=x.out(mto_profit),
        pull_advantage=x.out(mto_profit - push_profit),
        breakeven_mto_unit_cost=x.optional(breakeven, has_demand),
    )


@dataclass(frozen=True)
class PushVsPullMonteCarloResult(PushVsPullResult):
    n_draws: int = 0  # demand draws used
    push_profit_standard_error: float = 0.0  # of push_expected_profit, USD
    pull_advantage_standard_error: float = 0.0  # of pull_advantage, USD


DemandSampler = Callable[[np.random.Generator, int], np.ndarray]


def push_vs_pull_monte_carlo(unit_price, unit_cost, salvage_value, mto_unit_cost, demand, n_draws=100_000,
                             seed=0, order_quantity=None) -> PushVsPullMonteCarloResult:
    """Push vs make-to-order under any demand distribution, by Monte Carlo (scalar economics).

    ``demand`` is either an array of demand draws (units, >= 0) or a sampler
    ``demand(rng, n) -> array`` called once with a numpy Generator seeded from ``seed`` (an int or
    a Generator), e.g. ``lambda rng, n: rng.lognormal(3.0, 0.8, n)`` or
    ``lambda rng, n: rng.negative_binomial(2, 0.05, n)``. The push quantity is the critical-ratio
    quantile of the draws (the exact optimum for that empirical distribution) unless
    ``order_quantity`` is given. Same seed, same answer.
    """
    x = Inputs(unit_price=unit_price, unit_cost=unit_cost, salvage_value=salvage_value, mto_unit_cost=mto_unit_cost)
    for name, value in (("unit_price", unit_price), ("unit_cost", unit_cost), ("salvage_value", salvage_value),
                        ("mto_unit_cost", mto_unit_cost)):
        if np.ndim(value) != 0:
            raise InputError(name, f"{name} must be one number (USD): the Monte Carlo model takes scalar prices "
                                   "and costs; use push_vs_pull for arrays of parameters")
    price, cost, salvage, mto_cost = (float(v) for v in x.values("unit_price", "unit_cost", "salvage_value",
                                                                  "mto_unit_cost"))
    validate_newsvendor_costs(*x.values("unit_price", "unit_cost", "salvage_value"))
    at_least("mto_unit_cost", x["mto_unit_cost"], 0, "USD")
    if callable(demand):
        if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 2:
            raise InputError("n_draws", f"n_draws={n_draws!r} is not allowed: it must be a whole number >= 2")
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        draws = np.asarray(demand(rng, int(n_draws)), dtype=float)
    else:
        draws = np.asarray(demand, dtype=float)
    draws = draws.reshape(-1)
    if draws.size < 2:
        raise InputError("demand", f"demand has {draws.size} draws: give at least 2")
    if not np.all(np.isfinite(draws)) or draws.min() < 0:
        raise InputError("demand", "demand draws must be finite numbers >= 0 units "
                                   f"(smallest draw: {float(np.nanmin(draws)):g})")
    n = draws.size

    if order_quantity is None:
        ratio = float(critical_ratio(np.asarray(price), np.asarray(cost), np.asarray(salvage)))
        quantity = float(np.quantile(draws, ratio, method="inverted_cdf")) if ratio > 0 else 0.0
    else:
        q = Inputs(order_quantity=order_quantity)
        if not q.scalar:
            raise InputError("order_quantity", "order_quantity must be one number of units")
        at_least("order_quantity", q["order_quantity"], 0, "units")
        quantity = float(order_quantity)

    sales = np.minimum(draws, quantity)
    push_profit_draws = (price - salvage) * sales - (cost - salvage) * quantity
    mto_profit_draws = draws * max(price - mto_cost, 0.0)
    advantage_draws = mto_profit_draws - push_profit_draws
    push_profit = float(push_profit_draws.mean())
    mean_demand = float(draws.mean())
    mto_profit, breakeven, has_demand = _mto(np.asarray(price), np.asarray(mto_cost), np.asarray(mean_demand),
                                             np.asarray(push_profit))
    root_n = np.sqrt(n)
    return PushVsPullMonteCarloResult(
        push_optimal_order_quantity=quantity,
        push_expected_profit=push_profit,
        push_expected_leftover=float(quantity - sales.mean()),
        push_expected_lost_sales=float(mean_demand - sales.mean()),
        mto_expected_profit=float(mto_profit),
        pull_advantage=float(advantage_draws.mean()),
        breakeven_mto_unit_cost=float(breakeven) if bool(has_demand) else None,
        n_draws=int(n),
        push_profit_standard_error=float(push_profit_draws.std(ddof=1) / root_n),
        pull_advantage_standard_error=float(advantage_draws.std(ddof=1) / root_n),
    )
