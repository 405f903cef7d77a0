"""Cost-volume-profit: break-even with fixed costs, and with fixed costs that rise in steps.

Conventions for scalars, arrays and undefined (None / masked) fields: `somana_core.economics._arrays`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._arrays import Inputs, above, at_least, require, safe_divide

# Float guard for "is this ratio a whole number?" so 1000/10 never rounds up to 101.
_RELATIVE_TOLERANCE = 1e-12


def _ceil(value: np.ndarray) -> np.ndarray:
    return np.ceil(value - _RELATIVE_TOLERANCE * np.maximum(1.0, np.abs(value)))


@dataclass(frozen=True)
class BreakEvenResult:
    contribution_margin_per_unit: Any  # USD/unit (negative when price is below variable cost)
    contribution_margin_ratio: Any  # of price
    breakeven_units: Any  # None/masked when the contribution margin is not positive
    breakeven_revenue: Any  # USD; None/masked likewise


def break_even(fixed_costs, price_per_unit, variable_cost_per_unit) -> BreakEvenResult:
    """Break-even volume F / (p - v) and revenue, as continuous (fractional) units.

    fixed_costs (USD per period) >= 0; price_per_unit (USD) > 0; variable_cost_per_unit (USD) >= 0.
    When p <= v no volume breaks even: the volume and revenue are None (masked for arrays), never
    a negative number.
    """
    x = Inputs(fixed_costs=fixed_costs, price_per_unit=price_per_unit, variable_cost_per_unit=variable_cost_per_unit)
    fixed, price, variable = x.values("fixed_costs", "price_per_unit", "variable_cost_per_unit")
    at_least("fixed_costs", fixed, 0, "USD")
    above("price_per_unit", price, 0, "USD")
    at_least("variable_cost_per_unit", variable, 0, "USD")

    margin = price - variable
    positive = margin > 0
    units = safe_divide(fixed, margin, positive)
    return BreakEvenResult(
        contribution_margin_per_unit=x.out(margin),
        contribution_margin_ratio=x.out(margin / price),
        breakeven_units=x.optional(units, positive),
        breakeven_revenue=x.optional(units * price, positive),
    )


@dataclass(frozen=True)
class StepBreakEvenResult:
    breakeven_units: Any  # smallest whole number of units with profit >= 0; None/masked if none
    steps_at_breakeven: Any  # capacity steps in use at that volume; None/masked if none
    fixed_costs_at_breakeven: Any  # base + steps * step cost, USD; None/masked if none


def step_break_even(base_fixed_costs, step_fixed_cost, step_capacity_units, price_per_unit,
                    variable_cost_per_unit) -> StepBreakEvenResult:
    """Break-even when fixed costs rise in steps (another printer, another shift) with volume.

    Producing x units needs ceil(x / step_capacity_units) steps, each costing `step_fixed_cost`,
    on top of `base_fixed_costs`. The result is the smallest whole x >= 0 with
    (p - v) x >= base + steps(x) * step, i.e. the first step (searched in order) whose capacity
    covers its own fixed costs. Because capacity is a whole number of units, "step k breaks even"
    is monotone in k, so the first such step has the closed form
    k = ceil(base / (cap (p - v) - step)) and no loop is needed.

    None (masked for arrays) when no volume breaks even: p <= v (as in `break_even`), or each
    step's capacity earns no more than the step costs (with base costs to cover). With no base
    costs and a positive margin, 0 units break even.
    base_fixed_costs, step_fixed_cost (USD) >= 0; step_capacity_units a whole number >= 1;
    price_per_unit > 0; variable_cost_per_unit >= 0.
    """
    x = Inputs(base_fixed_costs=base_fixed_costs, step_fixed_cost=step_fixed_cost,
               step_capacity_units=step_capacity_units, price_per_unit=price_per_unit,
               variable_cost_per_unit=variable_cost_per_unit)
    base, step, capacity, price, variable = x.values(
        "base_fixed_costs", "step_fixed_cost", "step_capacity_units", "price_per_unit", "variable_cost_per_unit")
    at_least("base_fixed_costs", base, 0, "USD")
    at_least("step_fixed_cost", step, 0, "USD per step")
    require("step_capacity_units", capacity, (capacity < 1) | (capacity != np.floor(capacity)),
            "it must be a whole number of units >= 1")
    above("price_per_unit", price, 0, "USD")
    at_least("variable_cost_per_unit", variable, 0, "USD")

    margin = price - variable
    step_surplus = capacity * margin - step  # what one full step adds to profit
    zero_volume = (base == 0) & (margin > 0)  # nothing to cover: 0 units, 0 steps (as break_even with F = 0)
    reachable = ~zero_volume & (margin > 0) & (step_surplus > 0)
    steps = np.maximum(1.0, _ceil(safe_divide(base, step_surplus, reachable)))
    fixed_at_step = base + steps * step
    # Smallest whole volume inside step k that covers step k's fixed costs.
    units = np.maximum(_ceil(safe_divide(fixed_at_step, margin, reachable)), (steps - 1.0) * capacity + 1.0)
    defined = reachable | zero_volume
    return StepBreakEvenResult(
        breakeven_units=x.optional(np.where(zero_volume, 0.0, units), defined),
        steps_at_breakeven=x.optional(np.where(zero_volume, 0.0, steps), defined),
        fixed_costs_at_breakeven=x.optional(np.where(zero_volume, 0.0, fixed_at_step), defined),
    )
