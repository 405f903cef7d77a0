"""Batch size economics: EOQ, the flat EOQ cost curve, EPQ, and the setup cost a batch size needs.

The seeds' argument in one line: the optimal batch is sqrt(2 D S / H), so batch-of-one needs the
changeover cost S to fall to H / (2 D) (see `required_setup_cost`). Conventions for scalars,
arrays and undefined fields: `somana_core.economics._arrays`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._arrays import Inputs, above, at_least, require, safe_divide


@dataclass(frozen=True)
class EOQResult:
    eoq: Any  # units per order
    orders_per_year: Any  # None/masked when the EOQ is 0 with demand: continuous flow, no discrete orders
    cycle_time_years: Any  # None/masked when there is no demand (no cycle)
    average_inventory: Any  # units
    annual_setup_cost: Any  # USD/year
    annual_holding_cost: Any  # USD/year
    total_annual_cost: Any  # setup + holding, USD/year
    total_annual_cost_incl_purchase: Any  # plus annual_demand * unit_cost, USD/year


def eoq(annual_demand, setup_cost, holding_cost_per_unit_year, unit_cost=0) -> EOQResult:
    """Economic order quantity (Harris/Wilson): Q* = sqrt(2 D S / H).

    annual_demand (units/year) >= 0; setup_cost (USD per order or changeover) >= 0;
    holding_cost_per_unit_year (USD) > 0; unit_cost (USD) >= 0.

    A setup cost of 0 is the batch-of-one limit: EOQ 0, total cost 0, cycle time 0 and
    ``orders_per_year`` undefined (None / masked: continuous flow). Zero demand gives EOQ 0, no
    orders (0 per year) and an undefined cycle time.
    """
    x = Inputs(annual_demand=annual_demand, setup_cost=setup_cost,
               holding_cost_per_unit_year=holding_cost_per_unit_year, unit_cost=unit_cost)
    demand, setup, holding, unit = x.values("annual_demand", "setup_cost", "holding_cost_per_unit_year", "unit_cost")
    at_least("annual_demand", demand, 0, "units/year")
    at_least("setup_cost", setup, 0, "USD per order")
    above("holding_cost_per_unit_year", holding, 0, "USD per unit-year")
    at_least("unit_cost", unit, 0, "USD")

    quantity = np.sqrt(2.0 * demand * setup / holding)
    has_quantity = quantity > 0
    orders = safe_divide(demand, quantity, has_quantity)
    # Orders per year is 0 without demand; with demand and Q = 0 it is unbounded (continuous flow).
    orders_defined = has_quantity | (demand == 0)
    cycle = safe_divide(quantity, demand, demand > 0)
    annual_setup = orders * setup
    annual_holding = holding * quantity / 2.0
    total = annual_setup + annual_holding
    return EOQResult(
        eoq=x.out(quantity),
        orders_per_year=x.optional(orders, orders_defined),
        cycle_time_years=x.optional(cycle, demand > 0),
        average_inventory=x.out(quantity / 2.0),
        annual_setup_cost=x.out(annual_setup),
        annual_holding_cost=x.out(annual_holding),
        total_annual_cost=x.out(total),
        total_annual_cost_incl_purchase=x.out(total + demand * unit),
    )


@dataclass(frozen=True)
class InventoryCostResult:
    annual_setup_cost: Any  # USD/year
    annual_holding_cost: Any  # USD/year
    total_annual_cost: Any  # USD/year
    cost_ratio_vs_optimum: Any  # total / total at the EOQ; None/masked when the optimum costs 0


def inventory_cost(annual_demand, setup_cost, holding_cost_per_unit_year, order_quantity) -> InventoryCostResult:
    """Annual setup + holding cost of ordering `order_quantity` at a time: the flat EOQ cost curve.

    ``cost_ratio_vs_optimum`` = TC(Q) / TC(Q*) = (Q*/Q + Q/Q*) / 2: ordering twice the EOQ costs
    only 25% more. It is undefined (None / masked) when the optimum costs nothing (no setup cost
    or no demand), since any positive batch is then infinitely worse than batch-of-one.
    order_quantity (units) > 0; the other parameters as in `eoq`.
    """
    x = Inputs(annual_demand=annual_demand, setup_cost=setup_cost,
               holding_cost_per_unit_year=holding_cost_per_unit_year, order_quantity=order_quantity)
    demand, setup, holding, quantity = x.values("annual_demand", "setup_cost", "holding_cost_per_unit_year",
                                                "order_quantity")
    at_least("annual_demand", demand, 0, "units/year")
    at_least("setup_cost", setup, 0, "USD per order")
    above("holding_cost_per_unit_year", holding, 0, "USD per unit-year")
    above("order_quantity", quantity, 0, "units")

    annual_setup = demand * setup / quantity
    annual_holding = holding * quantity / 2.0
    total = annual_setup + annual_holding
    optimum_total = np.sqrt(2.0 * demand * setup * holding)
    has_optimum = optimum_total > 0
    return InventoryCostResult(
        annual_setup_cost=x.out(annual_setup),
        annual_holding_cost=x.out(annual_holding),
        total_annual_cost=x.out(total),
        cost_ratio_vs_optimum=x.optional(safe_divide(total, optimum_total, has_optimum), has_optimum),
    )


@dataclass(frozen=True)
class EPQResult:
    epq: Any  # units per production run
    max_inventory: Any  # units, peak stock during a run
    production_run_time_years: Any  # years
    cycle_time_years: Any  # years; None/masked without demand
    annual_setup_cost: Any  # USD/year
    annual_holding_cost: Any  # USD/year
    total_annual_cost: Any  # USD/year


def epq(annual_demand, annual_production_rate, setup_cost, holding_cost_per_unit_year) -> EPQResult:
    """Economic production quantity (stock builds while producing): Q* = sqrt(2DS / (H (1 - D/P))).

    annual_production_rate (units/year) must exceed annual_demand (>= 0), otherwise the line
    can never build stock. A setup cost of 0 gives a run of 0 units and a cost of 0, as in `eoq`.
    """
    x = Inputs(annual_demand=annual_demand, annual_production_rate=annual_production_rate,
               setup_cost=setup_cost, holding_cost_per_unit_year=holding_cost_per_unit_year)
    demand, rate, setup, holding = x.values("annual_demand", "annual_production_rate", "setup_cost",
                                            "holding_cost_per_unit_year")
    at_least("annual_demand", demand, 0, "units/year")
    require("annual_production_rate", rate, rate <= demand,
            "it must exceed annual_demand (a line slower than demand never builds stock)")
    at_least("setup_cost", setup, 0, "USD per run")
    above("holding_cost_per_unit_year", holding, 0, "USD per unit-year")

    utilisation_complement = 1.0 - demand / rate
    quantity = np.sqrt(2.0 * demand * setup / (holding * utilisation_complement))
    max_inventory = quantity * utilisation_complement
    annual_setup = safe_divide(demand * setup, quantity, quantity > 0)
    annual_holding = holding * max_inventory / 2.0
    return EPQResult(
        epq=x.out(quantity),
        max_inventory=x.out(max_inventory),
        production_run_time_years=x.out(quantity / rate),
        cycle_time_years=x.optional(safe_divide(quantity, demand, demand > 0), demand > 0),
        annual_setup_cost=x.out(annual_setup),
        annual_holding_cost=x.out(annual_holding),
        total_annual_cost=x.out(annual_setup + annual_holding),
    )


def required_setup_cost(annual_demand, holding_cost_per_unit_year, target_batch_size):
    """The changeover cost (USD) that makes `target_batch_size` the EOQ: S = H Q^2 / (2 D).

    How far SMED must go: for batch-of-one (Q = 1) the changeover may cost only H / (2 D).
    annual_demand (units/year) > 0; holding_cost_per_unit_year (USD) > 0; target_batch_size
    (units) >= 0. Returns a float, or an array of the broadcast shape.
    """
    x = Inputs(annual_demand=annual_demand, holding_cost_per_unit_year=holding_cost_per_unit_year,
               target_batch_size=target_batch_size)
    demand, holding, batch = x.values("annual_demand", "holding_cost_per_unit_year", "target_batch_size")
    above("annual_demand", demand, 0, "units/year (without demand no batch size is optimal)")
    above("holding_cost_per_unit_year", holding, 0, "USD per unit-year")
    at_least("target_batch_size", batch, 0, "units")
    return x.out(holding * batch**2 / (2.0 * demand))
