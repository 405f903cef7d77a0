"""Fit the fast print-time and filament model to the real slicer, over parts of every family.

For each family, draws random parameter sets inside the spec's bounds (a fixed seed, so a re-run
gives the same sample), builds each product, slices its plate with PrusaSlicer on the default
machine, and fits `somana_core.print_time`'s linear model (non-negative coefficients, least
squares on RELATIVE error, so small parts count as much as big ones). Prints one JSON document:
sample size, the median absolute error in sample and leave-one-out (the honest figure), per
family, and the error of the coefficients now in data/ on this sample. With --write it replaces
data/print_time_coefficients.csv (do that after changing a slicer profile or a family).

    .venv/bin/python benchmarks/calibrate_print_time.py [--per-family 8] [--seed 7] [--write]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import param
from scipy.optimize import nnls

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from somana_core.data import data_dir  # noqa: E402
from somana_core.errors import InputError  # noqa: E402
from somana_core.geometry import FAMILIES, build, make_spec  # noqa: E402
from somana_core.print_time import FEATURES, TARGETS, features, layer_height_mm  # noqa: E402
from somana_core.slicing import default_machine, slice_file  # noqa: E402

TEXTS = ["", "Ada", "Somana", "LAB 7", "Grace Hopper", "K"]


def random_values(spec_cls, rng: random.Random, machine: str) -> dict:
    values = {}
    for name in spec_cls.parameter_names():
        p = spec_cls.param[name]
        if name == "machine":
            values[name] = machine
        elif isinstance(p, param.Boolean):
            values[name] = rng.random() < 0.5
        elif isinstance(p, param.Selector):
            values[name] = rng.choice(list(p.objects))
        elif isinstance(p, param.Integer):
            lo, hi = p.bounds
            values[name] = rng.randint(int(lo), int(hi))
        elif isinstance(p, param.Number):
            lo, hi = p.bounds
            # half the draws near the default: typical orders, not just the corners of the space
            if rng.random() < 0.5:
                span = (hi - lo) * 0.15
                values[name] = min(hi, max(lo, p.default + rng.uniform(-span, span)))
            else:
                values[name] = rng.uniform(lo, hi)
        elif isinstance(p, param.String):
            limit = spec_cls.text_limits.get(name, 24)
            values[name] = rng.choice([t for t in TEXTS if len(t) <= limit])
    return values


def sample(per_family: int, seed: int, machine: str, folder: Path) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    layer = layer_height_mm(machine)
    for family, spec_cls in FAMILIES.items():
        made, tries = 0, 0
        # the family's defaults first: the part customers order most
        candidates = [{"machine": machine}]
        while made < per_family and tries < per_family * 40:
            tries += 1
            values = candidates.pop() if candidates else random_values(spec_cls, rng, machine)
            try:
                spec = make_spec(family, values)
            except InputError:
                continue
            product = build(spec)
            stl = folder / f"{family}_{made}.stl"
            product.export(stl)
            try:
                result = slice_file(stl, folder / f"{family}_{made}.gcode", machine=machine)
            except InputError:
                continue  # the plate did not fit: not a part anyone can order
            metrics = product.metrics("PLA")
            rows.append({"family": family, "features": features(metrics, layer),
                         "print_time_s": result.print_time_s, "filament_mm3": result.filament_cm3 * 1000})
            made += 1
            print(f"  {family} {made}/{per_family}: {result.print_time_s:.0f} s", file=sys.stderr)
    return rows


def fit(rows: list[dict], target: str) -> np.ndarray:
    x = np.array([[r["features"][f] for f in FEATURES] for r in rows])
    y = np.array([r[target] for r in rows])
    coef, _ = nnls(x / y[:, None], np.ones_like(y))  # minimise the sum of squared relative errors
    return coef


def errors(rows: list[dict], target: str) -> dict:
    x = np.array([[r["features"][f] for f in FEATURES] for r in rows])
    y = np.array([r[target] for r in rows])
    in_sample = np.abs(x @ fit(rows, target) - y) / y
    loo = np.array([abs(x[i] @ fit(rows[:i] + rows[i + 1:], target) - y[i]) / y[i] for i in range(len(rows))])
    families = sorted({r["family"] for r in rows})
    return {
        "median_abs_error": round(float(np.median(in_sample)), 4),
        "median_abs_error_leave_one_out": round(float(np.median(loo)), 4),
        "max_abs_error_leave_one_out": round(float(np.max(loo)), 4),
        "per_family_median_abs_error_leave_one_out": {
            fam: round(float(np.median([e for e, r in zip(loo, rows) if r["family"] == fam])), 4) for fam in families
        },
    }


def current_table_error(rows: list[dict]) -> dict:
    """Median absolute error of the coefficients now in data/ on this sample (what quotes use)."""
    from somana_core.print_time import coefficients

    table = coefficients()
    out = {}
    for target in TARGETS:
        errs = [abs(sum(table.get((target, f), 0.0) * r["features"][f] for f in FEATURES) - r[target]) / r[target]
                for r in rows]
        out[target] = {"median_abs_error": round(float(np.median(errs)), 4)}
    return out


def write_coefficients(coefs: dict, report: dict, machine: str) -> Path:
    path = data_dir() / "print_time_coefficients.csv"
    pt = report["print_time_s"]
    lines = [
        "# Print-time and filament model (somana_core/print_time.py): target = sum of coefficient x feature",
        "# over one plate (all of a product's parts). Written by benchmarks/calibrate_print_time.py: do not",
        "# edit by hand, re-run the script after changing a slicer profile or a family's geometry.",
        f"# Fitted {date.today().isoformat()} against PrusaSlicer's own estimates on {machine} "
        f"({report['samples']} plates, {', '.join(report['families'])}).",
        f"# Print time: median absolute error {pt['median_abs_error']:.1%} in sample, "
        f"{pt['median_abs_error_leave_one_out']:.1%} leave-one-out (target < 15%); per family, leave-one-out: "
        + ", ".join(f"{fam} {err:.1%}" for fam, err in pt["per_family_median_abs_error_leave_one_out"].items())
        + f"; worst plate {pt['max_abs_error_leave_one_out']:.1%}.",
        "target,feature,coefficient,unit,kind,source",
    ]
    units = {"print_time_s": {"constant": "s", "volume_mm3": "s/mm3", "area_mm2": "s/mm2", "layers": "s/layer"},
             "filament_mm3": {"constant": "mm3", "volume_mm3": "mm3/mm3", "area_mm2": "mm3/mm2",
                              "layers": "mm3/layer"}}
    for target in TARGETS:
        for feature, value in zip(FEATURES, coefs[target]):
            lines.append(f"{target},{feature},{value:.8g},{units[target][feature]},fit,"
                         f"\"benchmarks/calibrate_print_time.py, {report['samples']} plates, seed {report['seed']}\"")
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-family", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--write", action="store_true", help="replace data/print_time_coefficients.csv with the fit")
    args = parser.parse_args()
    machine = default_machine()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="somana-calibrate-") as folder:
        rows = sample(args.per_family, args.seed, machine, Path(folder))
    coefs = {target: fit(rows, target) for target in TARGETS}
    report = {"machine": machine, "samples": len(rows), "seed": args.seed, "families": sorted(FAMILIES),
              "features": list(FEATURES),
              **{target: {"coefficients": dict(zip(FEATURES, map(float, coefs[target]))), **errors(rows, target)}
                 for target in TARGETS},
              "elapsed_s": round(time.perf_counter() - started, 1)}
    report["current_table"] = current_table_error(rows)
    if args.write:
        report["written"] = str(write_coefficients(coefs, report, machine))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
