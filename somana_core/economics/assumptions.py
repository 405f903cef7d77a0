"""The founders' assumptions in ONE object (`FounderAssumptions`): factory running costs, planned volumes,
the typical order of each family, the quote's rates, the price bands and the pricing policy.

Built from the tables (`founder_assumptions()`: factory_assumptions.csv, quote_assumptions.csv,
portfolio.csv, portfolio_typical_units.csv, pricing_policy.csv, materials.csv) or from a scenario's
edited copies (`FounderAssumptions.from_tables`). The quote, /portfolio's scenario, the notebooks and
the published site all read their figures from this object, so one figure is written once and every
view shows the same number. Every row is marked `kind=assumption` with a source.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Mapping

import numpy as np
import pandas as pd

from somana_core import catalogue
from somana_core.data import data_dir, read_table
from somana_core.errors import InputError

FACTORY_TABLE = "factory_assumptions.csv"
PROCESS_TABLE = "process_costs.csv"
RATES_TABLE = "quote_assumptions.csv"
PORTFOLIO_TABLE = "portfolio.csv"
TYPICAL_UNITS_TABLE = "portfolio_typical_units.csv"
PRICING_TABLE = "pricing_policy.csv"
MATERIALS_TABLE = "materials.csv"
PRICING_METHODS = ("cost_plus", "market_band")


def _check_columns(table: pd.DataFrame, name: str, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"data/{name} lacks the column(s) {', '.join(missing)}")


def _numeric(table: pd.DataFrame, name: str, column: str = "value") -> pd.DataFrame:
    table[column] = pd.to_numeric(table[column], errors="raise").astype(float)
    if not np.all(np.isfinite(table[column])):
        raise ValueError(f"data/{name} has a {column} that is not a finite number")
    return table


def load_factory_assumptions() -> pd.DataFrame:
    """The assumptions table: name, family (blank = factory-wide), value, unit, kind, source, description."""
    table = read_table(FACTORY_TABLE)
    _check_columns(table, FACTORY_TABLE, ("name", "family", "value", "unit", "kind", "source"))
    table["family"] = table["family"].fillna("").astype(str)
    return _numeric(table, FACTORY_TABLE)


def load_process_costs(part: str | None = None) -> pd.DataFrame:
    """Fixed (tooling/setup) and variable cost per unit of each manufacturing process, optionally for one part."""
    table = read_table(PROCESS_TABLE)
    _check_columns(table, PROCESS_TABLE, ("process", "display_name", "part", "fixed_cost_usd",
                                          "variable_cost_per_unit_usd", "kind", "source"))
    if part is not None:
        table = table[table["part"] == part].reset_index(drop=True)
        if table.empty:
            raise KeyError(f"data/{PROCESS_TABLE} has no process rows for part {part!r}")
    return table


@dataclass(frozen=True)
class MonthlyFixedCosts:
    rent: float  # USD/month
    wages: float  # staff_count * wage_per_person_per_month, USD/month
    utilities: float  # USD/month
    software_and_insurance: float  # USD/month
    printer_depreciation: float  # printer_count * printer_price / printer_life_months, USD/month
    total: float  # USD/month


@dataclass(frozen=True)
class TypicalUnit:
    """The order a family's plan is made of (data/portfolio_typical_units.csv): what /portfolio and the
    site price, and what the planned printer and labour hours are counted from."""
    family: str
    print_hours: float  # one good unit's plate, h
    filament_g: float  # one good unit, g
    material: str  # material id (data/materials.csv)
    machine: str  # machine id (data/machines.csv)
    units_per_order: int  # the setup is spread over these (1 = batch of one)
    heat_formed: bool = False  # finishing reshapes a printed part (charged forming labour, see costing)


@dataclass(frozen=True)
class PricingPolicy:
    """How a founder prices a family (data/pricing_policy.csv).

    cost_plus:   price = absorbed unit cost / (1 - target_operating_margin)
    market_band: price = band low + band_position x (band high - band low), never below the cost-plus price
    Either way a price outside the family's band is not issued: it waits for a founder's approval.
    """
    family: str
    method: str  # one of PRICING_METHODS
    target_operating_margin: float  # fraction of price, in [0, 1)
    band_position: float | None  # 0 = low end, 1 = high end (market_band only)
    source: str


def yes_or_no(value, family) -> bool:
    """A yes/no cell of a table (true/false, yes/no, 1/0; empty = no)."""
    if value is None or (isinstance(value, float) and value != value):
        return False
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "1.0"):
        return True
    if text in ("false", "no", "0", "0.0", ""):
        return False
    raise InputError(f"typical_unit[{family}].heat_formed", f"heat_formed={value!r} must be true or false")


def _frozen(mapping) -> Mapping:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class FounderAssumptions:
    """Every figure the founders assume, read once. Immutable: a scenario builds a new one from its edits."""

    factory: Mapping[str, float]  # factory-wide rows of factory_assumptions.csv, name -> value
    planned_units: Mapping[str, float]  # family -> units/month
    typical_units: Mapping[str, TypicalUnit]
    rates: tuple[tuple[str, str, float], ...]  # quote_assumptions.csv rows (name, scope, value)
    price_bands: Mapping[str, tuple[float, float]]  # family -> (low, high) USD per unit
    display_names: Mapping[str, str]  # family -> the portfolio's name
    pricing: Mapping[str, PricingPolicy]
    material_prices: Mapping[str, float] = field(default_factory=dict)  # material -> USD/kg

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_tables(cls, factory: pd.DataFrame, rates: pd.DataFrame, portfolio: pd.DataFrame,
                    typical: pd.DataFrame, pricing: pd.DataFrame, materials: pd.DataFrame) -> "FounderAssumptions":
        """From the tables as read (or as a scenario edited them); checks what every reader relies on."""
        factory = factory.copy()
        factory["family"] = factory["family"].fillna("").astype(str).str.strip()
        wide = {str(r.name): float(r.value) for r in factory.itertuples() if r.family == ""}
        planned = {str(r.family): float(r.value) for r in factory.itertuples() if r.name == "planned_monthly_units"}
        families = [str(f) for f in portfolio["family"]]
        bands = {str(r.family): (float(r.price_low_usd), float(r.price_high_usd)) for r in portfolio.itertuples()}
        names = {str(r.family): str(r.display_name) for r in portfolio.itertuples()}
        units = {}
        for r in typical.itertuples():
            units[str(r.family)] = TypicalUnit(str(r.family), float(r.print_hours), float(r.filament_g),
                                               str(r.material), str(r.machine), int(r.units_per_order),
                                               yes_or_no(getattr(r, "heat_formed", False), r.family))
        policies = {}
        for r in pricing.itertuples():
            position = None if pd.isna(r.band_position) else float(r.band_position)
            policies[str(r.family)] = PricingPolicy(str(r.family), str(r.method).strip(),
                                                    float(r.target_operating_margin), position, str(r.source))
        made = cls(
            factory=_frozen(wide), planned_units=_frozen(planned), typical_units=_frozen(units),
            rates=tuple((str(r.name), str(r.scope), float(r.value)) for r in rates.itertuples()),
            price_bands=_frozen(bands), display_names=_frozen(names), pricing=_frozen(policies),
            material_prices=_frozen({str(r.material): float(r.price_usd_per_kg) for r in materials.itertuples()}),
        )
        made.check(families)
        return made

    def check(self, families: list[str] | None = None) -> None:
        """Every family has a plan, a typical unit and a policy; policies are in range (InputError names the field)."""
        families = list(self.price_bands) if families is None else families
        for family in families:
            for what, table in ((self.planned_units, FACTORY_TABLE), (self.typical_units, TYPICAL_UNITS_TABLE),
                                (self.pricing, PRICING_TABLE)):
                if family not in what:
                    raise InputError(family, f"data/{table} has no row for family {family!r}")
            low, high = self.price_bands[family]
            if not 0 < low <= high:
                raise InputError(f"price_band[{family}]", f"price band {low:g}-{high:g} USD must be positive, low-high")
            if self.planned_units[family] < 0:
                raise InputError(f"planned_monthly_units[{family}]",
                                 f"planned_monthly_units of {family}={self.planned_units[family]:g} must be >= 0")
            unit = self.typical_units[family]
            if unit.print_hours < 0 or unit.filament_g < 0 or unit.units_per_order < 1:
                raise InputError(f"typical_unit[{family}]", f"typical unit of {family} needs print_hours >= 0, "
                                                            "filament_g >= 0 and units_per_order >= 1")
            policy = self.pricing[family]
            if policy.method not in PRICING_METHODS:
                raise InputError(f"pricing_policy[{family}].method",
                                 f"method={policy.method!r} is not one of {', '.join(PRICING_METHODS)}")
            if not 0 <= policy.target_operating_margin < 1:
                raise InputError(f"pricing_policy[{family}].target_operating_margin",
                                 f"target_operating_margin={policy.target_operating_margin:g} must be in [0, 1)")
            if policy.method == "market_band" and (policy.band_position is None
                                                   or not 0 <= policy.band_position <= 1):
                raise InputError(f"pricing_policy[{family}].band_position",
                                 f"band_position={policy.band_position} must be in [0, 1] for a market_band price")
        if self.productive_hours_per_person_per_month <= 0:
            raise InputError("productive_hours_per_person_per_month", "productive hours per person must be > 0")

    def with_factory_values(self, **values: float) -> "FounderAssumptions":
        """A copy with some factory-wide figures replaced (a scenario's edits)."""
        unknown = sorted(set(values) - set(self.factory))
        if unknown:
            raise InputError(unknown[0], f"{unknown[0]} is not a factory-wide row of data/{FACTORY_TABLE}")
        return replace(self, factory=_frozen({**self.factory, **{k: float(v) for k, v in values.items()}}))

    # ------------------------------------------------------------------ figures
    def value(self, name: str) -> float:
        """A factory-wide figure (KeyError naming the row when it is missing)."""
        try:
            return self.factory[name]
        except KeyError:
            raise KeyError(f"data/{FACTORY_TABLE} has no factory-wide row {name!r}") from None

    @property
    def families(self) -> list[str]:
        """The portfolio's families (data/portfolio.csv), in its order."""
        return list(self.price_bands)

    @property
    def fixed_costs(self) -> MonthlyFixedCosts:
        f = self.factory
        wages = f["staff_count"] * f["wage_per_person_per_month"]
        depreciation = f["printer_count"] * f["printer_price"] / f["printer_life_months"]
        parts = (f["rent_per_month"], wages, f["utilities_per_month"], f["software_and_insurance_per_month"],
                 depreciation)
        return MonthlyFixedCosts(*parts, total=sum(parts))

    @property
    def productive_hours_per_person_per_month(self) -> float:
        return self.value("productive_hours_per_person_per_month")

    @property
    def labour_rate_usd_per_h(self) -> float:
        """One hour of a person's floor work: the loaded wage over the productive hours of a month. The
        quote's labour lines, the changeover cost of /portfolio and of the site all use this rate."""
        return self.value("wage_per_person_per_month") / self.productive_hours_per_person_per_month

    @property
    def staff_hours_per_month(self) -> float:
        return self.value("staff_count") * self.productive_hours_per_person_per_month

    def changeover_cost_usd(self, changeover_minutes: float | None = None) -> float:
        """USD of one changeover: its minutes at the labour rate (today's minutes when None)."""
        minutes = self.value("changeover_minutes") if changeover_minutes is None else changeover_minutes
        return minutes / 60.0 * self.labour_rate_usd_per_h

    @property
    def salvage_fraction(self) -> float:
        return self.value("salvage_fraction_of_cost")

    @property
    def mto_cost_premium(self) -> float:
        return self.value("mto_cost_premium")

    @property
    def demand_cv(self) -> float:
        return self.value("demand_coefficient_of_variation")

    def rate(self, name: str, *scopes: str) -> float:
        """A quote rate: the first of `scopes` that has a row, else the `*` row."""
        for scope in (*scopes, "*"):
            for row_name, row_scope, value in self.rates:
                if row_name == name and row_scope == scope:
                    return value
        raise KeyError(f"data/{RATES_TABLE} has no row {name!r} for {scopes or '*'} (and no * row)")

    def rate_list(self, name: str) -> list[float]:
        return [value for row_name, _scope, value in self.rates if row_name == name]

    def material_price_usd_per_kg(self, material: str) -> float:
        try:
            return self.material_prices[material]
        except KeyError:
            raise InputError("material", f"material={material!r} is not one of "
                                         f"{', '.join(self.material_prices)}") from None


# ---------------------------------------------------------------------------- the tables' object

def _stamp(names: tuple[str, ...]) -> tuple:
    folder = data_dir()
    return tuple((str(folder / n), (folder / n).stat().st_mtime_ns) for n in names)


_TABLES = (FACTORY_TABLE, RATES_TABLE, PORTFOLIO_TABLE, TYPICAL_UNITS_TABLE, PRICING_TABLE, MATERIALS_TABLE)
_cache: dict[tuple, FounderAssumptions] = {}


def founder_assumptions() -> FounderAssumptions:
    """The founders' assumptions as the tables hold them now (re-read when a table changes on disk)."""
    key = _stamp(_TABLES)
    made = _cache.get(key)
    if made is None:
        made = FounderAssumptions.from_tables(
            load_factory_assumptions(), read_table(RATES_TABLE), read_table(PORTFOLIO_TABLE),
            read_table(TYPICAL_UNITS_TABLE), read_table(PRICING_TABLE), catalogue.materials())
        _cache.clear()
        _cache[key] = made
    return made


def assumption(name: str, family: str = "") -> float:
    """One value of factory_assumptions.csv (KeyError naming the row when it is missing)."""
    a = founder_assumptions()
    if family:
        if name == "planned_monthly_units" and family in a.planned_units:
            return a.planned_units[family]
        raise KeyError(f"data/{FACTORY_TABLE} has no row {name!r} for family {family!r}")
    return a.value(name)


def planned_monthly_units() -> dict[str, float]:
    """Planned sales volume per product family (units/month), from the assumptions table."""
    return dict(founder_assumptions().planned_units)


def monthly_fixed_costs() -> MonthlyFixedCosts:
    """The mini factory's fixed costs per month, built from the assumptions table."""
    return founder_assumptions().fixed_costs
