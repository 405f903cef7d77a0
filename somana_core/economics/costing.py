"""Absorption costing: the cost of one good unit such that, at the planned volume, the units' costs add
up to everything the factory spends in a month (fixed costs + variable costs), and its price.

One cost model for the quote (`somana_core.quote`), /portfolio (`somana_core.scenarios`) and the
published site (`somana_core.story`): each prices a unit with `unit_cost_lines` and `policy_price`.

Cost of one good unit (r = the family's failure rate, q = units in the order):
  material               = (filament_g x (1 + waste_fraction) + purge_g) x price_usd_per_kg / 1000      variable
  machine_time           = print_h x (machine_power_w / 1000 x electricity_usd_per_kwh + maintenance_usd_per_h) variable
  printer_depreciation   = print_h x printer_depreciation_usd_per_h                                       fixed
  setup_labour           = setup_min / 60 x labour_usd_per_h / q                                          fixed (wages)
  failure_allowance      = (the four lines above) x r / (1 - r)          (reprints: variable and fixed parts)
  post_processing_labour = post_processing_min / 60 x labour_usd_per_h                                    fixed (wages)
  forming_labour         = forming_min / 60 x labour_usd_per_h, only when finishing reshapes a printed part
                           (an eyewear front heat-formed to its wrap; none when printed in its final shape)  fixed (wages)
  components, packaging                                                                                   variable
  overhead               = overhead_usd_per_month / planned_units_per_month                               fixed
Absorption rates at plan (the typical unit of each family at its planned monthly units):
  planned_print_h        = sum units x print_h / (1 - r)                  (reprints use printer hours too)
  printer_depreciation_usd_per_h = printer depreciation per month / planned_print_h
  direct_labour_h        = sum units x (setup_min / units_per_order / (1 - r) + post_processing_min
                                          + forming_min if the typical unit is heat-formed) / 60
  overhead_usd_per_month = fixed costs - printer depreciation - direct_labour_h x labour_usd_per_h
  (so the wages the labour lines do not charge - sales, design, admin, idle time - sit in `overhead`)
At plan, sum over families of units x unit cost = fixed costs + sum of units x variable cost per unit.
"""

from __future__ import annotations

from dataclasses import dataclass

from somana_core.errors import InputError

from .assumptions import FounderAssumptions

FIXED, VARIABLE = "fixed", "variable"


@dataclass(frozen=True)
class CostLine:
    name: str
    amount_usd: float  # per good unit
    formula: str
    inputs: dict
    behaviour: str  # "variable" (spent per unit) or "fixed" (a share of a monthly fixed cost)
    variable_usd: float  # the part of amount_usd that is spent per unit

    def to_dict(self) -> dict:
        return {"name": self.name, "amount_usd": self.amount_usd, "formula": self.formula, "inputs": self.inputs,
                "behaviour": self.behaviour}


@dataclass(frozen=True)
class AbsorptionRates:
    planned_units_per_month: float
    planned_print_h_per_month: float  # printer hours at plan, reprints included
    direct_labour_h_per_month: float  # setup and post-processing hours at plan, reprints included
    staff_hours_per_month: float
    labour_usd_per_h: float
    printer_depreciation_usd_per_h: float
    overhead_usd_per_month: float  # fixed costs not charged by the labour and printer lines
    overhead_usd_per_unit: float

    def to_dict(self) -> dict:
        return {k: _r(v) for k, v in self.__dict__.items()}


def _r(x: float) -> float:
    return round(float(x), 4)


def _family_rates(a: FounderAssumptions, family: str, machine: str, material: str) -> dict[str, float]:
    names = ("machine_power_w", "electricity_usd_per_kwh", "maintenance_usd_per_h", "setup_min",
             "post_processing_min", "failure_rate", "purge_g", "waste_fraction", "components_usd", "packaging_usd")
    rates = {name: a.rate(name, family, machine, material) for name in names}
    if not 0 <= rates["failure_rate"] < 1:
        raise InputError("failure_rate", f"failure_rate={rates['failure_rate']:g} of {family} must be in [0, 1)")
    return rates


def _forming_min(a: FounderAssumptions, family: str, machine: str, material: str) -> float:
    """Minutes of heat-forming per unit whose printed part is reshaped after printing (only such units are
    charged it)."""
    return a.rate("forming_min", family, machine, material)


def absorption_rates(a: FounderAssumptions, fixed_cost_scale: float = 1.0) -> AbsorptionRates:
    """Rates that spread the month's fixed costs over the planned volume of typical units.

    fixed_cost_scale: share of the fixed costs kept (1 - an automation cut in a scenario).
    """
    fixed = a.fixed_costs
    units = print_h = labour_h = 0.0
    for family, planned in a.planned_units.items():
        unit = a.typical_units[family]
        r = _family_rates(a, family, unit.machine, unit.material)
        keep = 1 - r["failure_rate"]
        units += planned
        print_h += planned * unit.print_hours / keep
        forming = _forming_min(a, family, unit.machine, unit.material) if unit.heat_formed else 0.0
        labour_h += planned * (r["setup_min"] / unit.units_per_order / keep + r["post_processing_min"]
                               + forming) / 60
    if units <= 0:
        raise InputError("planned_monthly_units", "the planned monthly units of all families add up to 0: "
                                                  "fixed costs cannot be spread over no units")
    staff_h = a.staff_hours_per_month
    if labour_h > staff_h:
        raise InputError("planned_monthly_units", f"the plan needs {labour_h:,.1f} h of floor work a month but "
                                                  f"the staff has {staff_h:,.1f} h: hire or plan fewer units")
    rate = a.labour_rate_usd_per_h
    depreciation = fixed.printer_depreciation * fixed_cost_scale
    overhead = fixed.total * fixed_cost_scale - depreciation - labour_h * rate
    if overhead < 0:  # automation cut the wages below the planned floor work
        raise InputError("automation_cut", f"fixed costs after the cut no longer pay the {labour_h:,.1f} h of "
                                           "planned floor work")
    return AbsorptionRates(
        planned_units_per_month=units, planned_print_h_per_month=print_h, direct_labour_h_per_month=labour_h,
        staff_hours_per_month=staff_h, labour_usd_per_h=rate,
        printer_depreciation_usd_per_h=depreciation / print_h if print_h > 0 else 0.0,
        overhead_usd_per_month=overhead, overhead_usd_per_unit=overhead / units)


def unit_cost_lines(a: FounderAssumptions, family: str, *, filament_g: float, print_time_s: float, machine: str,
                    material: str, qty: int = 1, filament_source: str = "estimate",
                    absorption: AbsorptionRates | None = None, heat_formed: bool = False) -> tuple[CostLine, ...]:
    """The itemised cost of one good unit of `family` (each line with its formula and inputs).
    heat_formed: finishing reshapes a printed part (`Product.metrics` says so per part): the unit carries
    a forming_labour line; a part printed in its final shape (an eyewear front with no wrap) does not."""
    r = _family_rates(a, family, machine, material)
    ab = absorption or absorption_rates(a)
    labour = ab.labour_usd_per_h
    price_kg = a.material_price_usd_per_kg(material)
    lines: list[CostLine] = []

    def add(name, amount, formula, inputs, behaviour, variable=None):
        amount = _r(amount)
        lines.append(CostLine(name, amount, formula, inputs, behaviour,
                              amount if variable is None and behaviour == VARIABLE else _r(variable or 0.0)))

    grams = filament_g * (1 + r["waste_fraction"]) + r["purge_g"]
    add("material", grams * price_kg / 1000,
        "(filament_g x (1 + waste_fraction) + purge_g) x price_usd_per_kg / 1000",
        {"filament_g": _r(filament_g), "filament_source": filament_source, "waste_fraction": r["waste_fraction"],
         "purge_g": r["purge_g"], "price_usd_per_kg": price_kg, "material": material}, VARIABLE)
    hours = print_time_s / 3600
    running = r["machine_power_w"] / 1000 * r["electricity_usd_per_kwh"] + r["maintenance_usd_per_h"]
    add("machine_time", hours * running,
        "print_h x (machine_power_w / 1000 x electricity_usd_per_kwh + maintenance_usd_per_h)",
        {"print_h": _r(hours), "print_time_source": filament_source, "machine": machine,
         **{k: r[k] for k in ("machine_power_w", "electricity_usd_per_kwh", "maintenance_usd_per_h")}}, VARIABLE)
    add("printer_depreciation", hours * ab.printer_depreciation_usd_per_h,
        "print_h x printer_depreciation_usd_per_h  (printer depreciation per month / planned print hours per month)",
        {"print_h": _r(hours), "printer_depreciation_usd_per_h": _r(ab.printer_depreciation_usd_per_h),
         "planned_print_h_per_month": _r(ab.planned_print_h_per_month)}, FIXED)
    add("setup_labour", r["setup_min"] / 60 * labour / qty, "setup_min / 60 x labour_usd_per_h / qty",
        {"setup_min": r["setup_min"], "labour_usd_per_h": _r(labour), "qty": qty, "family": family}, FIXED)
    at_risk = sum(line.amount_usd for line in lines)
    at_risk_variable = sum(line.variable_usd for line in lines)
    grow = r["failure_rate"] / (1 - r["failure_rate"])
    add("failure_allowance", at_risk * grow,
        "(material + machine_time + printer_depreciation + setup_labour) x failure_rate / (1 - failure_rate)",
        {"material + machine_time + printer_depreciation + setup_labour": _r(at_risk),
         "failure_rate": r["failure_rate"], "family": family}, "mixed", at_risk_variable * grow)
    add("post_processing_labour", r["post_processing_min"] / 60 * labour,
        "post_processing_min / 60 x labour_usd_per_h",
        {"post_processing_min": r["post_processing_min"], "labour_usd_per_h": _r(labour), "family": family}, FIXED)
    if heat_formed:  # after a good print: no reprint share, like post-processing
        forming = _forming_min(a, family, machine, material)
        add("forming_labour", forming / 60 * labour, "forming_min / 60 x labour_usd_per_h  (a printed part is "
            "heat-formed to its final shape)", {"forming_min": forming, "labour_usd_per_h": _r(labour),
                                                 "family": family}, FIXED)
    add("components", r["components_usd"], "components_usd", {"components_usd": r["components_usd"], "family": family},
        VARIABLE)
    add("packaging", r["packaging_usd"], "packaging_usd", {"packaging_usd": r["packaging_usd"], "family": family},
        VARIABLE)
    add("overhead", ab.overhead_usd_per_unit,
        "overhead_usd_per_month / planned_units_per_month  (rent, utilities, software and insurance, and the wages "
        "the labour lines do not charge)",
        {"overhead_usd_per_month": _r(ab.overhead_usd_per_month),
         "planned_units_per_month": _r(ab.planned_units_per_month),
         "direct_labour_h_per_month": _r(ab.direct_labour_h_per_month)}, FIXED)
    return tuple(lines)


def unit_cost(lines) -> float:
    """Absorbed cost of one good unit, USD: every line."""
    return round(sum(line.amount_usd for line in lines), 4)


def variable_unit_cost(lines) -> float:
    """What one more unit costs, USD: the lines' variable parts (the rest is the month's fixed costs)."""
    return round(sum(line.variable_usd for line in lines), 4)


@dataclass(frozen=True)
class PolicyPrice:
    unit_price_usd: float  # the price the policy asks, rounded to the cent
    method: str
    cost_plus_usd: float  # absorbed cost / (1 - target operating margin): the floor of a market price
    band_usd: tuple[float, float]
    in_band: bool  # outside the band a founder approves the price before it is issued
    target_operating_margin: float
    band_position: float | None

    def to_dict(self) -> dict:
        return {"method": self.method, "unit_price_usd": self.unit_price_usd, "cost_plus_usd": self.cost_plus_usd,
                "band_usd": list(self.band_usd), "in_band": self.in_band,
                "target_operating_margin": self.target_operating_margin, "band_position": self.band_position}


def policy_price(a: FounderAssumptions, family: str, absorbed_unit_cost_usd: float) -> PolicyPrice:
    """The price the founders' policy sets for a unit of `family` that costs `absorbed_unit_cost_usd`."""
    policy = a.pricing[family]
    low, high = a.price_bands[family]
    cost_plus = absorbed_unit_cost_usd / (1 - policy.target_operating_margin)
    if policy.method == "market_band":
        price = max(low + policy.band_position * (high - low), cost_plus)
    else:
        price = cost_plus
    price = round(price, 2)
    return PolicyPrice(unit_price_usd=price, method=policy.method, cost_plus_usd=round(cost_plus, 2),
                       band_usd=(low, high), in_band=low <= price <= high,
                       target_operating_margin=policy.target_operating_margin, band_position=policy.band_position)


@dataclass(frozen=True)
class FamilyPlan:
    """One family's typical unit at plan: its cost lines, costs and the policy's price."""
    family: str
    planned_units: float
    lines: tuple[CostLine, ...]
    unit_cost_usd: float  # absorbed
    variable_cost_usd: float
    price: PolicyPrice


def family_plans(a: FounderAssumptions, fixed_cost_scale: float = 1.0) -> dict[str, FamilyPlan]:
    """Every family's typical unit costed and priced, as the quote would for that unit."""
    ab = absorption_rates(a, fixed_cost_scale)
    plans = {}
    for family in a.families:
        unit = a.typical_units[family]
        lines = unit_cost_lines(a, family, filament_g=unit.filament_g, print_time_s=unit.print_hours * 3600,
                                machine=unit.machine, material=unit.material, qty=unit.units_per_order,
                                filament_source="typical unit", absorption=ab, heat_formed=unit.heat_formed)
        cost = unit_cost(lines)
        plans[family] = FamilyPlan(family, a.planned_units[family], lines, cost, variable_unit_cost(lines),
                                   policy_price(a, family, cost))
    return plans


@dataclass(frozen=True)
class MonthAtPlan:
    total_cost_usd: float  # fixed costs + planned units x variable cost per unit
    fixed_costs_usd: float
    variable_costs_usd: float
    absorbed_cost_usd: float  # planned units x absorbed unit cost
    absorbed_over_total: float


def month_at_plan(a: FounderAssumptions) -> MonthAtPlan:
    """What the factory spends in a planned month against what the unit costs absorb at that volume."""
    plans = family_plans(a)
    variable = sum(p.planned_units * p.variable_cost_usd for p in plans.values())
    absorbed = sum(p.planned_units * p.unit_cost_usd for p in plans.values())
    fixed = a.fixed_costs.total
    total = fixed + variable
    return MonthAtPlan(total_cost_usd=total, fixed_costs_usd=fixed, variable_costs_usd=variable,
                       absorbed_cost_usd=absorbed, absorbed_over_total=absorbed / total)


def whole_usd(x: float) -> int:
    """A money figure shown in whole dollars, rounded half away from zero: every view (the site, /portfolio)
    rounds through here so the same figure never differs by a dollar."""
    x = float(x)
    return int(x + 0.5) if x >= 0 else -int(-x + 0.5)
