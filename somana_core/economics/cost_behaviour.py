"""Splitting a mixed cost (electricity, maintenance) into its fixed and variable parts: high-low method.

Conventions for scalars and arrays: `somana_core.economics._arrays`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._arrays import Inputs, at_least, require


@dataclass(frozen=True)
class HighLowResult:
    fixed_cost: Any  # USD per period (can come out negative when the two points are not a mixed cost)
    variable_cost_per_unit_activity: Any  # USD per unit of activity (units, machine hours...)


def high_low(activity_low, cost_low, activity_high, cost_high) -> HighLowResult:
    """The line through the lowest- and highest-activity periods: v = dCost / dActivity, F = cost - v * activity.

    activity_low >= 0; activity_high must exceed activity_low; costs (USD) >= 0 and
    cost_high >= cost_low (a cost that falls as activity rises is not a mixed cost).
    """
    x = Inputs(activity_low=activity_low, cost_low=cost_low, activity_high=activity_high, cost_high=cost_high)
    a_low, c_low, a_high, c_high = x.values("activity_low", "cost_low", "activity_high", "cost_high")
    at_least("activity_low", a_low, 0)
    at_least("cost_low", c_low, 0, "USD")
    require("activity_high", a_high, a_high <= a_low, "it must exceed activity_low")
    require("cost_high", c_high, c_high < c_low, "it must be >= cost_low (cost cannot fall as activity rises)")
    variable = (c_high - c_low) / (a_high - a_low)
    return HighLowResult(fixed_cost=x.out(c_high - variable * a_high),
                         variable_cost_per_unit_activity=x.out(variable))
