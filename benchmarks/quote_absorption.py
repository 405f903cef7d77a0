"""Does the quote recover what the factory spends? Absorbed cost at the planned volume against the month's
total cost, per family and overall, with the margins and prices the quote gives (a founder's check).

Two measurements:
  typical  - each family's typical order (data/portfolio_typical_units.csv) costed by the quote's lines, as
             /portfolio and the published site price it: absorbed must equal the month's cost (target 1%).
  defaults - each family's DEFAULT PART built by the geometry and quoted by `quote_product` (what /configure
             shows for an untouched form): how far real parts sit from the typical order the plan assumes.
Total monthly cost = fixed costs (factory_assumptions.csv) + planned units x the variable cost per unit
(material, printer energy and maintenance, components, packaging, reprints of those).

Prints one JSON document. Run: .venv/bin/python benchmarks/quote_absorption.py [--no-geometry] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path


def _family_rows(a, quotes: dict) -> tuple[dict, dict]:
    """Per family: the month at plan from these quotes; and the overall sums."""
    rows, absorbed, variable, revenue = {}, 0.0, 0.0, 0.0
    for family, q in quotes.items():
        units = a.planned_units[family]
        rows[family] = {
            "planned_units_per_month": units,
            "print_h_per_unit": round(q.print_time_s / 3600, 3),
            "unit_cost_usd": q.unit_cost, "variable_unit_cost_usd": q.variable_unit_cost,
            "unit_price_usd": q.unit_price, "status": q.status, "pricing_method": q.pricing.method,
            "price_band_usd": list(q.pricing.band_usd),
            "contribution_margin": q.contribution_margin, "operating_margin_at_plan": q.operating_margin,
            "absorbed_cost_usd_per_month": round(units * q.unit_cost, 2),
            "variable_cost_usd_per_month": round(units * q.variable_unit_cost, 2),
            "revenue_usd_per_month": round(units * q.unit_price, 2),
            "lines_usd": {line.name: line.amount_usd for line in q.lines},
        }
        absorbed += units * q.unit_cost
        variable += units * q.variable_unit_cost
        revenue += units * q.unit_price
    fixed = a.fixed_costs.total
    total = fixed + variable
    return rows, {
        "fixed_costs_usd_per_month": round(fixed, 2), "variable_costs_usd_per_month": round(variable, 2),
        "total_monthly_cost_usd": round(total, 2), "absorbed_cost_usd_per_month": round(absorbed, 2),
        "absorbed_over_total": round(absorbed / total, 6),
        "within_1_percent": abs(absorbed / total - 1) <= 0.01,
        "revenue_usd_per_month": round(revenue, 2), "operating_income_usd_per_month": round(revenue - absorbed, 2),
        "operating_margin": round((revenue - absorbed) / revenue, 4) if revenue else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-geometry", action="store_true", help="skip building the default parts (no CadQuery)")
    parser.add_argument("--repeats", type=int, default=200, help="quotes timed for the median (default 200)")
    parser.add_argument("--out", default=None, help="also write the JSON here")
    args = parser.parse_args()

    from somana_core.economics import absorption_rates, founder_assumptions
    from somana_core.quote import quote_metrics, quote_product

    a = founder_assumptions()
    ab = absorption_rates(a)
    typical = {}
    for family in a.families:
        unit = a.typical_units[family]
        typical[family] = quote_metrics({}, family, qty=unit.units_per_order, material=unit.material,
                                        machine=unit.machine, print_time_s=unit.print_hours * 3600,
                                        filament_g=unit.filament_g, heat_formed=unit.heat_formed)
    rows, overall = _family_rows(a, typical)
    fixed = a.fixed_costs
    labour_charged = ab.direct_labour_h_per_month * ab.labour_usd_per_h
    report = {
        "benchmark": "quote_absorption",
        "target": "absorbed cost at plan equals total monthly cost within 1%",
        "absorption_rates": ab.to_dict(),
        "wages_usd_per_month": fixed.wages,
        "wages_in_labour_lines_usd_per_month": round(labour_charged, 2),
        "wages_in_overhead_usd_per_month": round(fixed.wages - labour_charged, 2),
        "typical": {"families": rows, "overall": overall},
    }
    if not args.no_geometry:
        from somana_core.geometry import build, make_spec

        defaults, build_s = {}, {}
        for family in a.families:
            start = time.perf_counter()
            spec = make_spec(family, {})
            product = build(spec)
            defaults[family] = quote_product(product, family, material=a.typical_units[family].material,
                                             machine=spec.values().get("machine"))
            build_s[family] = round(time.perf_counter() - start, 3)
        rows, overall = _family_rows(a, defaults)
        report["defaults"] = {"families": rows, "overall": overall, "build_and_quote_s": build_s}
    metrics = {"parts": {"p": {"volume_mm3": 30000.0, "area_mm2": 25000.0, "bbox_mm": [90.0, 70.0, 30.0],
                               "mass_g": 37.2}}, "total": {"volume_mm3": 30000.0, "area_mm2": 25000.0, "mass_g": 37.2}}
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        quote_metrics(metrics, "sensor_enclosure")
        times.append(time.perf_counter() - start)
    report["quote_from_metrics_ms_median"] = round(statistics.median(times) * 1000, 3)
    report["cpus"] = os.cpu_count()
    report["load_average"] = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else None
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0 if report["typical"]["overall"]["within_1_percent"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
