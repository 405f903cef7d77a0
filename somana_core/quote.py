"""The quote: geometry metrics + the founders' assumptions -> an itemised, absorbed cost and a price.

The cost lines and the price come from `somana_core.economics.costing` with the founders' ONE set of
assumptions (`economics.founder_assumptions()`): the same functions price the typical unit on /portfolio
and on the published site, so every view asks the same price for the same part. Every line carries its
formula and inputs, so a founder can check it by hand; the lines absorb every cost at the planned volume
(labour at the labour rate, printers per planned print hour, the rest of the month in `overhead`).

Price: the family's pricing policy (data/pricing_policy.csv: cost-plus, or the market band floored at
cost-plus). A price outside the family's band is not issued: the quote's status is `needs_approval`
and a founder approves it (`approve`). A quote has two faces: `customer_view()` (what a customer may
see: price, total, lead time, quantity breaks, status) and the internal fields (cost lines, margins,
the policy, notes), kept under `internal` in `to_dict()`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable

from somana_core import catalogue
from somana_core.data import data_path
from somana_core.economics.assumptions import FounderAssumptions, founder_assumptions
from somana_core.economics.costing import (CostLine, PolicyPrice, absorption_rates, policy_price, unit_cost,
                                           unit_cost_lines, variable_unit_cost)
from somana_core.errors import InputError
from somana_core.print_time import estimate as estimate_print
from somana_core.print_time import layer_height_mm

ISSUED, NEEDS_APPROVAL, APPROVED = "issued", "needs_approval", "approved"
CUSTOMER_FIELDS = ("family", "material", "qty", "unit_price", "total_price", "currency", "lead_time_days",
                   "breaks", "status", "message")
AWAITING_APPROVAL_MESSAGE = "A founder reviews this price before it is issued: we confirm it within one working day."
QuoteLine = CostLine  # one line of the quote: name, amount_usd per good unit, formula, inputs, behaviour


@dataclass(frozen=True)
class Quote:
    family: str
    material: str
    machine: str
    qty: int
    unit_price: float  # USD per unit, as the pricing policy asks it (issued only when status != needs_approval)
    total_price: float  # USD for the qty
    unit_cost: float  # USD per good unit, every line: the absorbed cost at the planned volume
    variable_unit_cost: float  # USD per good unit that one more unit adds (material, energy, parts, reprints)
    contribution_margin: float  # (price - variable cost) / price
    operating_margin: float  # (price - absorbed cost) / price, at the planned volume
    lines: tuple[CostLine, ...]
    print_time_s: float  # one unit's plate
    print_time_source: str  # "estimate" (geometry model) or "slicer"
    filament_g: float  # one unit
    lead_time_days: int
    lead_time: dict  # how the lead time was reached
    breaks: tuple[tuple[int, float], ...]  # (qty, unit price)
    pricing: PolicyPrice
    status: str = ISSUED  # ISSUED, or NEEDS_APPROVAL when the price is outside the family's band
    notes: tuple[str, ...] = field(default_factory=tuple)  # internal: never shown to a customer
    # ISO date the farm's plan can keep (capable-to-promise); filled by the caller from
    # somana_core.scheduling.floor.promise_quote, None when no plan was asked
    promised_date: str | None = None

    @property
    def needs_approval(self) -> bool:
        return self.status == NEEDS_APPROVAL

    @property
    def price_band_usd(self) -> tuple[float, float]:
        return self.pricing.band_usd

    def customer_view(self) -> dict:
        """What a customer may see. A price waiting for a founder's approval is not shown."""
        return customer_view(self.to_dict())

    def to_dict(self) -> dict:
        """The whole quote as JSON: customer-facing and production fields at the top, costs, margins, the
        pricing policy and notes under `internal`."""
        return {
            "family": self.family, "material": self.material, "qty": self.qty,
            "unit_price": self.unit_price, "total_price": self.total_price, "currency": "USD",
            "lead_time_days": self.lead_time_days,
            "breaks": [{"qty": q, "unit_price": p} for q, p in self.breaks],
            "status": self.status, "promised_date": self.promised_date,
            "message": AWAITING_APPROVAL_MESSAGE if self.needs_approval else "",
            "machine": self.machine, "print_time_s": self.print_time_s, "print_time_source": self.print_time_source,
            "filament_g": self.filament_g,
            "internal": {
                "unit_cost": self.unit_cost, "variable_unit_cost": self.variable_unit_cost,
                "contribution_margin": self.contribution_margin, "operating_margin": self.operating_margin,
                "lines": [line.to_dict() for line in self.lines],
                "pricing": self.pricing.to_dict(),
                "price_band_usd": list(self.pricing.band_usd),
                "lead_time": self.lead_time,
                "notes": list(self.notes),
            },
        }


def customer_view(quote: dict) -> dict:
    """The customer's face of a quote dict (`Quote.to_dict()`, or one stored with an order)."""
    view = {k: quote.get(k) for k in CUSTOMER_FIELDS}
    if view["status"] == NEEDS_APPROVAL:
        view.update(unit_price=None, total_price=None, breaks=[])
    return view


def approve(quote: dict, by: str, unit_price: float | None = None) -> dict:
    """A founder's approval of a quote waiting for one (a stored quote dict): the asked price, or the
    founder's own `unit_price`, is issued. Returns a new dict; the internal notes record who approved."""
    if quote.get("status") != NEEDS_APPROVAL:
        raise InputError("status", f"the quote is {quote.get('status')!r}: only a quote that needs approval "
                                   "can be approved")
    by = (by or "").strip()
    if not by:
        raise InputError("by", "by is empty: name the founder who approves the price")
    out = {**quote, "internal": {**quote.get("internal", {})}}
    if unit_price is not None:
        try:
            unit_price = float(unit_price)
        except (TypeError, ValueError):
            raise InputError("unit_price", f"unit_price={unit_price!r} is not a number") from None
        if not (unit_price > 0 and math.isfinite(unit_price)):
            raise InputError("unit_price", f"unit_price={unit_price:g} USD must be above 0")
        unit_price = round(unit_price, 2)
        internal = out["internal"]
        cost, variable = internal.get("unit_cost"), internal.get("variable_unit_cost")
        out.update(unit_price=unit_price, total_price=round(unit_price * int(quote["qty"]), 2),
                   breaks=[b for b in quote.get("breaks", []) if b.get("qty") == quote["qty"]])
        for b in out["breaks"]:
            b["unit_price"] = unit_price
        if cost is not None:
            internal["operating_margin"] = round((unit_price - cost) / unit_price, 4)
        if variable is not None:
            internal["contribution_margin"] = round((unit_price - variable) / unit_price, 4)
    out["status"], out["message"] = APPROVED, ""
    notes = [f"approved by {by} at {out['unit_price']:.2f} USD per unit"]
    cost = out["internal"].get("unit_cost")
    if cost is not None and out["unit_price"] < cost:
        notes.append(f"approved price {out['unit_price']:.2f} USD is below the absorbed cost {cost:.2f} USD: "
                     "it loses money at plan")
    out["internal"]["notes"] = [*out["internal"].get("notes", []), *notes]
    return out


# ---------------------------------------------------------------- the data tables


def _stamp(name: str) -> tuple[str, int]:
    """Cache key of a data table: its path and modification time (an edit invalidates the cache)."""
    path = data_path(name)
    return str(path), path.stat().st_mtime_ns


@lru_cache(maxsize=8)
def _default_machine(_key: tuple) -> str:
    return catalogue.default_machine()


def default_machine() -> str:
    return _default_machine(_stamp("machines.csv"))


def price_band(family: str) -> tuple[float, float] | None:
    """The family's price band (USD per unit) from data/portfolio.csv (a fitted family's product line's band)."""
    from somana_core.geometry import product_line

    return founder_assumptions().price_bands.get(product_line(family))


def material_price_usd_per_kg(material: str) -> float:
    return founder_assumptions().material_price_usd_per_kg(material)


def assumption(name: str, *scopes: str) -> float:
    """A rate from quote_assumptions.csv: the first of `scopes` that has a row, else the `*` row."""
    return founder_assumptions().rate(name, *scopes)


_RATES = ("machine_power_w", "electricity_usd_per_kwh", "maintenance_usd_per_h", "setup_min", "post_processing_min",
          "failure_rate", "purge_g", "waste_fraction", "components_usd", "packaging_usd", "printing_hours_per_day",
          "handling_days")


def rates(family: str, machine: str, material: str) -> dict[str, float]:
    """Every rate the quote uses for this family, machine and material (scoped rows win)."""
    return {name: assumption(name, family, machine, material) for name in _RATES}


def factory_inputs() -> dict[str, float]:
    """Figures the quote takes from data/factory_assumptions.csv (through the founders' one object)."""
    a = founder_assumptions()
    ab = absorption_rates(a)
    return {"fixed_costs_usd_per_month": a.fixed_costs.total, "planned_units_per_month": ab.planned_units_per_month,
            "labour_usd_per_h": a.labour_rate_usd_per_h, "printers_in_fleet": a.value("printer_count")}


# ---------------------------------------------------------------- the calculation


def _r(x: float) -> float:
    return round(float(x), 4)


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


def _margin(price: float, cost: float) -> float:
    return round((price - cost) / price, 4) if price > 0 else 0.0


def quote_metrics(
    metrics: dict,
    family: str,
    qty: int = 1,
    material: str = "PLA",
    print_time_s: float | None = None,
    filament_g: float | None = None,
    queue: Any = None,
    machine: str | None = None,
    assumptions: FounderAssumptions | None = None,
    heat_formed: bool | None = None,
) -> Quote:
    """Quote from geometry metrics (`product.metrics()`); slicer figures replace the estimate when given.
    `assumptions` defaults to the founders' tables (a scenario may pass its own). `heat_formed`: finishing
    reshapes a printed part (forming labour is charged); by default read from the metrics' parts."""
    try:
        qty = int(qty)
    except (TypeError, ValueError):
        raise InputError("qty", f"qty={qty!r} is not a whole number") from None
    if qty < 1:
        raise InputError("qty", f"qty={qty} is below the minimum 1")
    from somana_core.geometry import product_line

    family = product_line(family)  # a board-fitted enclosure is priced as the line it belongs to
    a = assumptions or founder_assumptions()
    if family not in a.price_bands:
        raise InputError("family", f"family={family!r} is not in data/portfolio.csv; allowed: "
                                   f"{', '.join(a.families)}")
    a.material_price_usd_per_kg(material)  # InputError naming the materials when unknown
    machine = machine or default_machine()
    source = "slicer" if print_time_s is not None else "estimate"
    if print_time_s is None or filament_g is None:
        est = estimate_print(metrics, layer_height_mm(machine))
        if print_time_s is None:
            print_time_s = est["print_time_s"]
        if filament_g is None:
            filament_g = est["filament_mm3"] / 1000 * _density(metrics)
    absorption = absorption_rates(a)
    if heat_formed is None:
        heat_formed = any(bool(p.get("heat_formed")) for p in metrics.get("parts", {}).values())

    def lines_for(q: int) -> tuple[CostLine, ...]:
        return unit_cost_lines(a, family, filament_g=float(filament_g), print_time_s=float(print_time_s),
                               machine=machine, material=material, qty=q, filament_source=source,
                               absorption=absorption, heat_formed=heat_formed)

    lines = lines_for(qty)
    cost, variable = unit_cost(lines), variable_unit_cost(lines)
    pricing = policy_price(a, family, cost)
    price = pricing.unit_price_usd
    breaks = []
    for q in sorted({int(b) for b in a.rate_list("quantity_break")} | {qty}):
        breaks.append((q, price if q == qty else policy_price(a, family, unit_cost(lines_for(q))).unit_price_usd))
    rates = {"printers_in_fleet": a.value("printer_count"),
             **{k: a.rate(k, family, machine, material) for k in ("printing_hours_per_day", "handling_days")}}
    days, lead = _lead_time(float(print_time_s) * qty, _queue_seconds(queue), rates)
    notes, status = [], ISSUED
    if not pricing.in_band:
        low, high = pricing.band_usd
        side = "below" if price < low else "above"
        notes.append(f"price {price:.2f} USD is {side} the {family} band {low:.2f}-{high:.2f} USD: "
                     "a founder approves it before it is issued")
        status = NEEDS_APPROVAL
    return Quote(
        family=family, material=material, machine=machine, qty=qty,
        unit_price=price, total_price=round(price * qty, 2), unit_cost=cost, variable_unit_cost=variable,
        contribution_margin=_margin(price, variable), operating_margin=_margin(price, cost),
        lines=lines, print_time_s=round(float(print_time_s), 1), print_time_source=source,
        filament_g=round(float(filament_g), 2), lead_time_days=days, lead_time=lead,
        breaks=tuple(breaks), pricing=pricing, status=status, notes=tuple(notes),
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

