"""Operating leverage: how much operating income moves for a 1% move in sales.

Conventions for scalars and arrays: `somana_core.economics._arrays`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from somana_core.errors import InputError

from ._arrays import Inputs, above, at_least


@dataclass(frozen=True)
class OperatingLeverageResult:
    contribution_margin: Any  # total, USD per period
    operating_income: Any  # USD per period (negative below break-even)
    degree_of_operating_leverage: Any  # CM / OI; negative below break-even


def operating_leverage(units, price_per_unit, variable_cost_per_unit, fixed_costs) -> OperatingLeverageResult:
    """Degree of operating leverage DOL = contribution margin / operating income.

    Equal to (% change in operating income) / (% change in sales) for a small change in volume at
    constant price and costs. units >= 0; price_per_unit > 0; variable_cost_per_unit >= 0;
    fixed_costs >= 0 (USD). At exactly zero operating income (the break-even point) DOL is
    undefined and this raises InputError on `units`.
    """
    x = Inputs(units=units, price_per_unit=price_per_unit, variable_cost_per_unit=variable_cost_per_unit,
               fixed_costs=fixed_costs)
    volume, price, variable, fixed = x.values("units", "price_per_unit", "variable_cost_per_unit", "fixed_costs")
    at_least("units", volume, 0)
    above("price_per_unit", price, 0, "USD")
    at_least("variable_cost_per_unit", variable, 0, "USD")
    at_least("fixed_costs", fixed, 0, "USD")

    contribution = volume * (price - variable)
    income = contribution - fixed
    at_zero = income == 0
    if at_zero.any():
        where = np.argwhere(at_zero)[0] if at_zero.ndim else ()
        at_units = float(volume[tuple(where)]) if volume.ndim else float(volume)
        raise InputError("units", f"units={at_units:g} is the break-even point (operating income 0): "
                                  "the degree of operating leverage is undefined there; use a volume above or below it")
    return OperatingLeverageResult(contribution_margin=x.out(contribution), operating_income=x.out(income),
                                   degree_of_operating_leverage=x.out(contribution / income))
