"""The quote: geometry metrics + material + machine + labour -> an itemised cost and a price.

Pure functions over the geometry's metrics and the tables in `data/`:
`quote_assumptions.csv` (every rate, marked as an assumption), `materials.csv` (price per kg),
`portfolio.csv` (each family's price band), `factory_assumptions.csv` (labour rate, printer count,
fixed costs and planned monthly volume, through the economics core). Every line of the quote carries its formula and the
inputs it used, so a founder can check it by hand.

Cost of one good unit:
  material   = (filament g x (1 + waste) + purge g) x price per kg / 1000
  machine    = print h x (price / lifetime h + power kW x electricity price + maintenance per h)
  setup      = setup min / 60 x labour rate / qty           (once per order, spread over the qty)
  failures   = (material + machine + setup) / (1 - failure rate) - (material + machine + setup)
  post       = post-processing min / 60 x labour rate
  components, packaging per unit
  fixed-cost share = (monthly fixed costs - wages - printer depreciation) / planned monthly units
                     (wages and printers are already charged by the labour and machine lines)
Price = unit cost / (1 - target gross margin), rounded to the cent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable

from somana_core import catalogue
from somana_core.data import data_path, read_table
from somana_core.economics.margins import gross_margin, price_for_margin
from somana_core.errors import InputError
from somana_core.print_time import estimate as estimate_print
from somana_core.print_time import layer_height_mm

ASSUMPTIONS = "quote_assumptions.csv"


@dataclass(frozen=True)
class QuoteLine:
    name: str
    amount_usd: float  # per unit
    formula: str
    inputs: dict

    def to_dict(self) -> dict:
        return {"name": self.name, "amount_usd": self.amount_usd, "formula": self.formula, "inputs": self.inputs}


@dataclass(frozen=True)
class Quote:
    family: str
    material: str
    machine: str
    qty: int
    unit_cost: float  # USD per good unit, all lines
    unit_price: float  # USD per unit
    total_price: float  # USD for the qty
    gross_margin: float  # (price - cost) / price at the rounded price
    lines: tuple[QuoteLine, ...]
    print_time_s: float  # one unit's plate
    print_time_source: str  # "estimate" (geometry model) or "slicer"
    filament_g: float  # one unit
    lead_time_days: int
    lead_time: dict  # how the lead time was reached
    breaks: tuple[tuple[int, float], ...]  # (qty, unit price)
    price_band_usd: tuple[float, float]
    flags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def price(self) -> float:
        return self.unit_price

    @property
    def cost(self) -> float:
        return self.unit_cost

    def to_dict(self) -> dict:
        return {
            "family": self.family,
            "material": self.material,
            "machine": self.machine,
            "qty": self.qty,
            "price": self.unit_price,
            "cost": self.unit_cost,
            "unit_price": self.unit_price,
            "unit_cost": self.unit_cost,
            "total_price": self.total_price,
            "gross_margin": self.gross_margin,
            "lines": [line.to_dict() for line in self.lines],
            "print_time_s": self.print_time_s,
            "print_time_source": self.print_time_source,
            "filament_g": self.filament_g,
            "lead_time_days": self.lead_time_days,
            "lead_time": self.lead_time,
            "breaks": [{"qty": q, "unit_price": p} for q, p in self.breaks],
            "price_band_usd": list(self.price_band_usd) if self.price_band_usd else None,
            "flags": list(self.flags),
        }


# ---------------------------------------------------------------- the data tables


def _stamp(name: str) -> tuple[str, int]:
    """Cache key of a data table: its path and modification time (an edit invalidates the cache)."""
    path = data_path(name)
    return str(path), path.stat().st_mtime_ns


@lru_cache(maxsize=8)
def _assumption_rows(_key: tuple) -> tuple[tuple[str, str, float], ...]:
    table = read_table(ASSUMPTIONS)
    return tuple((str(r.name), str(r.scope), float(r.value)) for r in table.itertuples())


def _rows() -> tuple[tuple[str, str, float], ...]:
    return _assumption_rows(_stamp(ASSUMPTIONS))


def assumption(name: str, *scopes: str) -> float:
    """A rate from quote_assumptions.csv: the first of `scopes` that has a row, else the `*` row."""
    rows = _rows()
    for scope in (*scopes, "*"):
        for row_name, row_scope, value in rows:
            if row_name == name and row_scope == scope:
                return value
    raise KeyError(f"{ASSUMPTIONS} has no row {name!r} for {scopes or '*'} (and no * row)")


def assumption_list(name: str) -> list[float]:
    return [value for row_name, _scope, value in _rows() if row_name == name]


@lru_cache(maxsize=16)
def _material_price(material: str, _key: tuple) -> float:
    return catalogue.material_price_usd_per_kg(material)


def material_price_usd_per_kg(material: str) -> float:
    return _material_price(material, _stamp("materials.csv"))


@lru_cache(maxsize=8)
def _default_machine(_key: tuple) -> str:
    return catalogue.default_machine()


def default_machine() -> str:
    return _default_machine(_stamp("machines.csv"))


@lru_cache(maxsize=16)
def _band(family: str, _key: tuple) -> tuple[float, float] | None:
    table = read_table("portfolio.csv")
    rows = table[table["family"].astype(str) == family]
    if rows.empty:
        return None
    row = rows.iloc[0]
    return float(row["price_low_usd"]), float(row["price_high_usd"])


@lru_cache(maxsize=4)
def _families(_key: tuple) -> tuple[str, ...]:
    return tuple(str(f) for f in read_table("portfolio.csv")["family"])


def price_band(family: str) -> tuple[float, float] | None:
    """The family's price band (USD per unit) from data/portfolio.csv."""
    return _band(family, _stamp("portfolio.csv"))


@lru_cache(maxsize=4)
def _factory(_key: tuple) -> dict[str, float]:
    from somana_core.economics import assumption as factory_assumption
    from somana_core.economics import monthly_fixed_costs, planned_monthly_units

    fixed = monthly_fixed_costs()
    return {
        "fixed_costs_usd_per_month": fixed.total,
        # charged through the labour and machine_time lines, so left out of the share
        "wages_usd_per_month": fixed.wages,
        "printer_depreciation_usd_per_month": fixed.printer_depreciation,
        "planned_units_per_month": float(sum(planned_monthly_units().values())),
        "labour_usd_per_h": factory_assumption("labour_rate_per_hour"),
        "printers_in_fleet": factory_assumption("printer_count"),
    }


def factory_inputs() -> dict[str, float]:
    """Figures the quote takes from data/factory_assumptions.csv (through the economics core)."""
    return _factory(_stamp("factory_assumptions.csv"))


# ---------------------------------------------------------------- the calculation


def _r(x: float) -> float:
    return round(float(x), 4)


def _cost_lines(ctx: dict, qty: int) -> list[QuoteLine]:
    family, machine, material = ctx["family"], ctx["machine"], ctx["material"]
    a = ctx["a"]
    lines: list[QuoteLine] = []
    price_kg = ctx["price_usd_per_kg"]
    grams = ctx["filament_g"] * (1 + a["waste_fraction"]) + a["purge_g"]
    lines.append(QuoteLine(
        "material", _r(grams * price_kg / 1000),
        "(filament_g x (1 + waste_fraction) + purge_g) x price_usd_per_kg / 1000",
        {"filament_g": _r(ctx["filament_g"]), "filament_source": ctx["source"], "waste_fraction": a["waste_fraction"],
         "purge_g": a["purge_g"], "price_usd_per_kg": price_kg, "material": material},
    ))
    hours = ctx["print_time_s"] / 3600
    rate = (a["machine_price_usd"] / a["machine_lifetime_h"]
            + a["machine_power_w"] / 1000 * a["electricity_usd_per_kwh"] + a["maintenance_usd_per_h"])
    lines.append(QuoteLine(
        "machine_time", _r(hours * rate),
        "print_h x (machine_price_usd / machine_lifetime_h + machine_power_w / 1000 x electricity_usd_per_kwh"
        " + maintenance_usd_per_h)",
        {"print_h": _r(hours), "print_time_source": ctx["source"], "machine": machine,
         **{k: a[k] for k in ("machine_price_usd", "machine_lifetime_h", "machine_power_w",
                              "electricity_usd_per_kwh", "maintenance_usd_per_h")},
         "machine_rate_usd_per_h": _r(rate)},
    ))
    lines.append(QuoteLine(
        "setup_labour", _r(a["setup_min"] / 60 * a["labour_usd_per_h"] / qty),
        "setup_min / 60 x labour_usd_per_h / qty",
        {"setup_min": a["setup_min"], "labour_usd_per_h": a["labour_usd_per_h"], "qty": qty, "family": family},
    ))
    at_risk = sum(line.amount_usd for line in lines)
    rate_f = a["failure_rate"]
    lines.append(QuoteLine(
        "failure_allowance", _r(at_risk / (1 - rate_f) - at_risk),
        "(material + machine_time + setup_labour) / (1 - failure_rate) - (material + machine_time + setup_labour)",
        {"material + machine_time + setup_labour": _r(at_risk), "failure_rate": rate_f, "family": family},
    ))
    lines.append(QuoteLine(
        "post_processing_labour", _r(a["post_processing_min"] / 60 * a["labour_usd_per_h"]),
        "post_processing_min / 60 x labour_usd_per_h",
        {"post_processing_min": a["post_processing_min"], "labour_usd_per_h": a["labour_usd_per_h"], "family": family},
    ))
    lines.append(QuoteLine("components", _r(a["components_usd"]), "components_usd",
                           {"components_usd": a["components_usd"], "family": family}))
    lines.append(QuoteLine("packaging", _r(a["packaging_usd"]), "packaging_usd",
                           {"packaging_usd": a["packaging_usd"], "family": family}))
    f = ctx["factory"]
    overhead = (f["fixed_costs_usd_per_month"] - f["wages_usd_per_month"]
                - f["printer_depreciation_usd_per_month"])
    lines.append(QuoteLine(
        "fixed_cost_share", _r(overhead / f["planned_units_per_month"]),
        "(fixed_costs_usd_per_month - wages_usd_per_month - printer_depreciation_usd_per_month)"
        " / planned_units_per_month  (wages and printers are charged by the labour and machine_time lines)",
        {k: _r(f[k]) for k in ("fixed_costs_usd_per_month", "wages_usd_per_month",
                               "printer_depreciation_usd_per_month", "planned_units_per_month")},
    ))
    return lines


def _price(unit_cost: float, margin: float) -> float:
    return round(float(price_for_margin(unit_cost, margin)), 2)


def _queue_seconds(queue: float | Iterable | None) -> float:
    if queue is None:
        return 0.0
    if isinstance(queue, (int, float)):
        return float(queue)
    if hasattr(queue, "queued_print_time_s"):  # an OrderStore
        return float(queue.queued_print_time_s())
    return float(sum((o.print_time_s or 0.0) for o in queue))  # Orders


def _lead_time(own_s: float, queue_s: float, a: dict) -> tuple[int, dict]:
    capacity_s_per_day = a["printers_in_fleet"] * a["printing_hours_per_day"] * 3600
    printing_days = (queue_s + own_s) / capacity_s_per_day
    days = math.ceil(printing_days + a["handling_days"] - 1e-9)
    return max(1, days), {
        "formula": "ceil((queued_print_s + order_print_s) / (printers_in_fleet x printing_hours_per_day x 3600)"
                   " + handling_days)",
        "queued_print_s": _r(queue_s), "order_print_s": _r(own_s),
        "printers_in_fleet": a["printers_in_fleet"], "printing_hours_per_day": a["printing_hours_per_day"],
        "handling_days": a["handling_days"],
    }


_RATES = ("machine_price_usd", "machine_lifetime_h", "machine_power_w", "electricity_usd_per_kwh",
          "maintenance_usd_per_h", "setup_min", "post_processing_min", "failure_rate",
          "purge_g", "waste_fraction", "components_usd", "packaging_usd", "target_gross_margin",
          "printing_hours_per_day", "handling_days")


def rates(family: str, machine: str, material: str) -> dict[str, float]:
    """Every rate the quote uses for this family, machine and material (scoped rows win)."""
    return {name: assumption(name, family, machine, material) for name in _RATES}


def quote_metrics(
    metrics: dict,
    family: str,
    qty: int = 1,
    material: str = "PLA",
    print_time_s: float | None = None,
    filament_g: float | None = None,
    queue: Any = None,
    machine: str | None = None,
) -> Quote:
    """Quote from geometry metrics (`product.metrics()`); slicer figures replace the estimate when given."""
    try:
        qty = int(qty)
    except (TypeError, ValueError):
        raise InputError("qty", f"qty={qty!r} is not a whole number") from None
    if qty < 1:
        raise InputError("qty", f"qty={qty} is below the minimum 1")
    band = price_band(family)
    if band is None:
        raise InputError("family", f"family={family!r} is not in data/portfolio.csv; allowed: "
                                   f"{', '.join(_families(_stamp('portfolio.csv')))}")
    machine = machine or default_machine()
    factory = factory_inputs()
    a = {**rates(family, machine, material),
         "labour_usd_per_h": factory["labour_usd_per_h"], "printers_in_fleet": factory["printers_in_fleet"]}
    if not 0 <= a["failure_rate"] < 1:
        raise InputError("failure_rate", f"failure_rate={a['failure_rate']} must be in [0, 1)")
    price_kg = material_price_usd_per_kg(material)
    source = "slicer" if print_time_s is not None else "estimate"
    if print_time_s is None or filament_g is None:
        est = estimate_print(metrics, layer_height_mm(machine))
        if print_time_s is None:
            print_time_s = est["print_time_s"]
        if filament_g is None:
            filament_g = est["filament_mm3"] / 1000 * _density(metrics)
    ctx = {"family": family, "machine": machine, "material": material, "a": a, "price_usd_per_kg": price_kg,
           "filament_g": float(filament_g), "print_time_s": float(print_time_s), "source": source,
           "factory": factory}
    lines = _cost_lines(ctx, qty)
    unit_cost = round(sum(line.amount_usd for line in lines), 4)
    margin = a["target_gross_margin"]
    unit_price = _price(unit_cost, margin)
    breaks = []
    for q in sorted({int(b) for b in assumption_list("quantity_break")} | {qty}):
        cost_q = sum(line.amount_usd for line in _cost_lines(ctx, q))
        breaks.append((q, _price(cost_q, margin)))
    days, lead = _lead_time(float(print_time_s) * qty, _queue_seconds(queue), a)
    flags = []
    if not band[0] <= unit_price <= band[1]:
        side = "below" if unit_price < band[0] else "above"
        flags.append(f"price {unit_price:.2f} USD is {side} the {family} band {band[0]:.2f}-{band[1]:.2f} USD")
    return Quote(
        family=family, material=material, machine=machine, qty=qty,
        unit_cost=unit_cost, unit_price=unit_price, total_price=round(unit_price * qty, 2),
        gross_margin=round(float(gross_margin(unit_price, unit_cost).gross_margin), 4),
        lines=tuple(lines), print_time_s=round(float(print_time_s), 1), print_time_source=source,
        filament_g=round(float(filament_g), 2), lead_time_days=days, lead_time=lead,
        breaks=tuple(breaks), price_band_usd=band, flags=tuple(flags),
    )


def _density(metrics: dict) -> float:
    """g/cm3 of the quoted material, from the metrics themselves (mass / volume)."""
    total = metrics.get("total", metrics)
    return float(total["mass_g"]) / (float(total["volume_mm3"]) / 1000)


def product_metrics(product, material: str) -> dict:
    """`product.metrics(material)`: the geometry's part cache measures each part once (one cache)."""
    return product.metrics(material=material)


def quote_product(product_or_metrics, family: str, qty: int = 1, material: str = "PLA",
                  print_time_s: float | None = None, queue: Any = None, **kw) -> Quote:
    """Quote a built product (anything with `.metrics(material=)`) or its metrics dict."""
    metrics = product_or_metrics
    if hasattr(product_or_metrics, "metrics"):
        metrics = product_metrics(product_or_metrics, material)
        kw.setdefault("machine", getattr(product_or_metrics, "values", {}).get("machine"))
    return quote_metrics(metrics, family, qty=qty, material=material, print_time_s=print_time_s,
                         queue=queue, **kw)


def quote_sliced(product_or_metrics, family: str, slice_result, qty: int = 1, queue: Any = None) -> Quote:
    """Quote with the slicer's own print time and filament (a `slicing.SliceResult`)."""
    return quote_product(product_or_metrics, family, qty=qty, material=slice_result.material,
                         print_time_s=slice_result.print_time_s, filament_g=slice_result.filament_g,
                         queue=queue, machine=slice_result.machine)


def quote(family: str, values: dict, qty: int = 1, material: str = "PLA", queue: Any = None) -> Quote:
    """Validate, build and quote in one call (builds the geometry: about a second)."""
    from somana_core.geometry import build, make_spec

    product = build(make_spec(family, values))
    return quote_product(product, family, qty=qty, material=material, queue=queue)
