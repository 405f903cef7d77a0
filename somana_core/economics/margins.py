"""Gross margin and markup, and the price that earns a target margin.

Conventions for scalars, arrays and undefined (None / masked) fields: `somana_core.economics._arrays`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._arrays import Inputs, above, at_least, require, safe_divide


@dataclass(frozen=True)
class GrossMarginResult:
    gross_margin: Any  # (price - cogs) / price; negative when selling below cost
    markup: Any  # (price - cogs) / cogs; None/masked when cogs is 0
    gross_profit_per_unit: Any  # USD


def gross_margin(price, cogs_per_unit) -> GrossMarginResult:
    """Gross margin on price and markup on cost. price (USD) > 0; cogs_per_unit (USD) >= 0."""
    x = Inputs(price=price, cogs_per_unit=cogs_per_unit)
    p, cogs = x.values("price", "cogs_per_unit")
    above("price", p, 0, "USD")
    at_least("cogs_per_unit", cogs, 0, "USD")
    profit = p - cogs
    return GrossMarginResult(gross_margin=x.out(profit / p),
                             markup=x.optional(safe_divide(profit, cogs, cogs > 0), cogs > 0),
                             gross_profit_per_unit=x.out(profit))


def price_for_margin(cogs_per_unit, target_gross_margin):
    """The price (USD) whose gross margin is `target_gross_margin`: cogs / (1 - margin).

    cogs_per_unit (USD) >= 0; target_gross_margin in [0, 1) (a margin of 1 would need an infinite
    price). Returns a float, or an array of the broadcast shape.
    """
    x = Inputs(cogs_per_unit=cogs_per_unit, target_gross_margin=target_gross_margin)
    cogs, margin = x.values("cogs_per_unit", "target_gross_margin")
    at_least("cogs_per_unit", cogs, 0, "USD")
    require("target_gross_margin", margin, (margin < 0) | (margin >= 1),
            "it must be in [0, 1) (a fraction of price: 0.6 means 60%)")
    return x.out(cogs / (1.0 - margin))
