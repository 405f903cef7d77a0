"""The founder-edited assumptions behind the economics: factory running costs, planned volumes, process costs.

Read from `data/factory_assumptions.csv` and `data/process_costs.csv` (every row marked
`kind=assumption`), so no figure lives in code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from somana_core.data import read_table

FACTORY_TABLE = "factory_assumptions.csv"
PROCESS_TABLE = "process_costs.csv"


def _check_columns(table: pd.DataFrame, name: str, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"data/{name} lacks the column(s) {', '.join(missing)}")


def load_factory_assumptions() -> pd.DataFrame:
    """The assumptions table: name, family (blank = factory-wide), value, unit, kind, source, description."""
    table = read_table(FACTORY_TABLE)
    _check_columns(table, FACTORY_TABLE, ("name", "family", "value", "unit", "kind", "source"))
    table["family"] = table["family"].fillna("").astype(str)
    table["value"] = pd.to_numeric(table["value"], errors="raise").astype(float)
    if not np.all(np.isfinite(table["value"])):
        raise ValueError(f"data/{FACTORY_TABLE} has a value that is not a finite number")
    return table


def assumption(name: str, family: str = "") -> float:
    """One value from the assumptions table (KeyError naming the row when it is missing)."""
    table = load_factory_assumptions()
    rows = table[(table["name"] == name) & (table["family"] == family)]
    if rows.empty:
        where = f" for family {family!r}" if family else ""
        raise KeyError(f"data/{FACTORY_TABLE} has no row {name!r}{where}")
    return float(rows["value"].iloc[0])


def planned_monthly_units() -> dict[str, float]:
    """Planned sales volume per product family (units/month), from the assumptions table."""
    table = load_factory_assumptions()
    rows = table[table["name"] == "planned_monthly_units"]
    return {str(r.family): float(r.value) for r in rows.itertuples()}


@dataclass(frozen=True)
class MonthlyFixedCosts:
    rent: float  # USD/month
    wages: float  # staff_count * wage_per_person_per_month, USD/month
    utilities: float  # USD/month
    software_and_insurance: float  # USD/month
    printer_depreciation: float  # printer_count * printer_price / printer_life_months, USD/month
    total: float  # USD/month


def monthly_fixed_costs() -> MonthlyFixedCosts:
    """The mini factory's fixed costs per month, built from the assumptions table."""
    rent = assumption("rent_per_month")
    wages = assumption("staff_count") * assumption("wage_per_person_per_month")
    utilities = assumption("utilities_per_month")
    software = assumption("software_and_insurance_per_month")
    depreciation = assumption("printer_count") * assumption("printer_price") / assumption("printer_life_months")
    return MonthlyFixedCosts(rent=rent, wages=wages, utilities=utilities, software_and_insurance=software,
                             printer_depreciation=depreciation,
                             total=rent + wages + utilities + software + depreciation)


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
