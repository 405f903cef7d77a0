"""The product portfolio: price, gross-margin and implied COGS bands per family, and contribution at a mix.

Reads `data/portfolio.csv` (family ids `sensor_enclosure`, `kit_enclosure`, `eyewear_frame`, which
other code joins on). These are the RESEARCH's bands (what comparable products sell for and earn), a
reference for the founders; the factory's own costs, prices and margins come from
`economics.costing` over `founder_assumptions()` (the quote's, /portfolio's and the site's figures).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd

from somana_core.data import read_table
from somana_core.errors import InputError

from ._arrays import Inputs, require, safe_divide
from .assumptions import planned_monthly_units

PORTFOLIO_TABLE = "portfolio.csv"
_COLUMNS = ("family", "display_name", "price_low_usd", "price_high_usd", "gross_margin_low", "gross_margin_high",
            "material_cost_low_usd", "material_cost_high_usd", "source")


@dataclass(frozen=True)
class ProductFamily:
    family: str  # id other code joins on
    display_name: str
    price_low: float  # USD
    price_high: float  # USD
    gross_margin_low: float  # fraction of price
    gross_margin_high: float  # fraction of price
    material_cost_low: float | None  # USD, where the research gives it
    material_cost_high: float | None  # USD
    source: str


def _optional(value) -> float | None:
    return None if pd.isna(value) else float(value)


def load_portfolio() -> tuple[ProductFamily, ...]:
    """Every family in data/portfolio.csv, checked (bands ordered, margins in [0, 1))."""
    table = read_table(PORTFOLIO_TABLE)
    missing = [c for c in _COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"data/{PORTFOLIO_TABLE} lacks the column(s) {', '.join(missing)}")
    families = []
    for row in table.itertuples():
        family = ProductFamily(
            family=str(row.family), display_name=str(row.display_name),
            price_low=float(row.price_low_usd), price_high=float(row.price_high_usd),
            gross_margin_low=float(row.gross_margin_low), gross_margin_high=float(row.gross_margin_high),
            material_cost_low=_optional(row.material_cost_low_usd),
            material_cost_high=_optional(row.material_cost_high_usd), source=str(row.source))
        if not 0 < family.price_low <= family.price_high:
            raise ValueError(f"data/{PORTFOLIO_TABLE}: {family.family} price band {family.price_low}-"
                             f"{family.price_high} must be positive and ordered low-high")
        if not 0 <= family.gross_margin_low <= family.gross_margin_high < 1:
            raise ValueError(f"data/{PORTFOLIO_TABLE}: {family.family} margin band {family.gross_margin_low}-"
                             f"{family.gross_margin_high} must be fractions in [0, 1), ordered low-high")
        families.append(family)
    ids = [f.family for f in families]
    if len(set(ids)) != len(ids):
        raise ValueError(f"data/{PORTFOLIO_TABLE} repeats a family id: {ids}")
    return tuple(families)


def portfolio_families() -> dict[str, ProductFamily]:
    """The portfolio keyed by family id."""
    return {f.family: f for f in load_portfolio()}


@dataclass(frozen=True)
class FamilyBands:
    family: str
    display_name: str
    price_low: float  # USD
    price_high: float  # USD
    gross_margin_low: float  # fraction
    gross_margin_high: float  # fraction
    cogs_low: float  # USD: cheapest implied COGS = price_low * (1 - gross_margin_high)
    cogs_high: float  # USD: dearest implied COGS = price_high * (1 - gross_margin_low)
    gross_profit_low: float  # USD/unit at price_low and gross_margin_low
    gross_profit_high: float  # USD/unit at price_high and gross_margin_high
    material_cost_low: float | None  # USD, where known
    material_cost_high: float | None  # USD


def family_bands(family: ProductFamily) -> FamilyBands:
    """Price, margin, implied COGS and gross profit bands of one family (COGS = price * (1 - margin))."""
    return FamilyBands(
        family=family.family, display_name=family.display_name,
        price_low=family.price_low, price_high=family.price_high,
        gross_margin_low=family.gross_margin_low, gross_margin_high=family.gross_margin_high,
        cogs_low=family.price_low * (1.0 - family.gross_margin_high),
        cogs_high=family.price_high * (1.0 - family.gross_margin_low),
        gross_profit_low=family.price_low * family.gross_margin_low,
        gross_profit_high=family.price_high * family.gross_margin_high,
        material_cost_low=family.material_cost_low, material_cost_high=family.material_cost_high,
    )


def portfolio_bands() -> pd.DataFrame:
    """One row per family with every `FamilyBands` field (a table for notebooks and dashboards).

    The material-cost columns are empty (pandas NaN) where the research gives no figure; the
    `FamilyBands` objects from `family_bands` carry None there.
    """
    return pd.DataFrame([family_bands(f).__dict__ for f in load_portfolio()])


@dataclass(frozen=True)
class FamilyContribution:
    family: str
    units: Any  # units per period
    price_per_unit: float  # USD, at the chosen position in the price band
    gross_margin: float  # fraction, at the chosen position in the margin band
    cogs_per_unit: float  # USD = price * (1 - margin)
    revenue: Any  # USD per period
    contribution: Any  # USD per period = revenue * margin


@dataclass(frozen=True)
class PortfolioContribution:
    families: tuple[FamilyContribution, ...]
    total_units: Any
    total_revenue: Any  # USD per period
    total_cogs: Any  # USD per period
    total_contribution: Any  # USD per period
    contribution_margin_ratio: Any  # total_contribution / total_revenue; None/masked with no revenue
    average_price_per_unit: Any  # USD, weighted by the mix; None/masked with no units
    average_cogs_per_unit: Any  # USD, weighted by the mix; None/masked with no units


def _position(value, family: str, name: str) -> float:
    if isinstance(value, Mapping):
        if family not in value:
            raise InputError(name, f"{name} has no entry for family {family!r}")
        value = value[family]
    x = Inputs(**{name: value})
    if not x.scalar:
        raise InputError(name, f"{name} for {family} must be one number in [0, 1]")
    position = x[name]
    require(name, position, (position < 0) | (position > 1),
            "it must be in [0, 1] (0 = low end of the band, 1 = high end)")
    return float(position)


def portfolio_contribution(mix_units: Mapping[str, Any] | None = None, price_position: Any = 0.5,
                           margin_position: Any = 0.5) -> PortfolioContribution:
    """Revenue and contribution of the portfolio at a sales mix.

    mix_units: units per period for each family id (scalars, or arrays that broadcast together
    for a sweep of scenarios); families left out sell 0. ``None`` uses the planned monthly volumes
    from data/factory_assumptions.csv. price_position and margin_position place each family in its
    band, 0 = low end, 1 = high end (one number for all, or a mapping family -> number).
    Totals are floats for scalar units, arrays for array units; undefined ratios follow the
    None / masked convention of `somana_core.economics._arrays`.
    """
    families = load_portfolio()
    known = {f.family for f in families}
    mix = planned_monthly_units() if mix_units is None else dict(mix_units)
    unknown = sorted(set(mix) - known)
    if unknown:
        raise InputError("mix_units", f"mix_units names unknown families {unknown}: known are {sorted(known)}")
    x = Inputs(**{f.family: mix.get(f.family, 0.0) for f in families})
    rows = []
    total_units = total_revenue = total_contribution = 0.0
    for f in families:
        units = x[f.family]
        require(f"mix_units[{f.family}]", units, units < 0, "it must be >= 0 units")
        price = f.price_low + _position(price_position, f.family, "price_position") * (f.price_high - f.price_low)
        margin = f.gross_margin_low + _position(margin_position, f.family, "margin_position") * (
            f.gross_margin_high - f.gross_margin_low)
        revenue = units * price
        contribution = revenue * margin
        rows.append(FamilyContribution(family=f.family, units=x.out(units), price_per_unit=price, gross_margin=margin,
                                       cogs_per_unit=price * (1.0 - margin), revenue=x.out(revenue),
                                       contribution=x.out(contribution)))
        total_units = total_units + units
        total_revenue = total_revenue + revenue
        total_contribution = total_contribution + contribution
    total_units, total_revenue, total_contribution = (np.asarray(v, dtype=float)
                                                      for v in (total_units, total_revenue, total_contribution))
    total_cogs = total_revenue - total_contribution
    has_revenue, has_units = total_revenue > 0, total_units > 0
    return PortfolioContribution(
        families=tuple(rows),
        total_units=x.out(total_units),
        total_revenue=x.out(total_revenue),
        total_cogs=x.out(total_cogs),
        total_contribution=x.out(total_contribution),
        contribution_margin_ratio=x.optional(safe_divide(total_contribution, total_revenue, has_revenue), has_revenue),
        average_price_per_unit=x.optional(safe_divide(total_revenue, total_units, has_units), has_units),
        average_cogs_per_unit=x.optional(safe_divide(total_cogs, total_units, has_units), has_units),
    )
