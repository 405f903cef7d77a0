"""Print time and filament without slicing: a linear model over the geometry's metrics.

The model is a sum of coefficient x feature per plate (all of a product's parts printed
together), with features a slicer's time actually scales with: the part volume (infill), the
surface area (perimeters and solid top/bottom skins), the number of layers of each part (layer
changes, travel, retractions) and a constant (heat-up, homing, skirt). The coefficients live in
`data/print_time_coefficients.csv`, fitted by `benchmarks/calibrate_print_time.py` against the
real slicer's own estimates; that script records the error it reached.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

from somana_core.data import data_path, read_table

FEATURES = ("constant", "volume_mm3", "area_mm2", "layers")
TARGETS = ("print_time_s", "filament_mm3")


def _parts(metrics: dict) -> list[dict]:
    parts = metrics.get("parts")
    if isinstance(parts, dict):
        return list(parts.values())
    return [metrics]  # a single part's metrics


def features(metrics: dict, layer_height_mm: float) -> dict[str, float]:
    """The model's inputs for one plate: sums over the product's parts."""
    parts = _parts(metrics)
    return {
        "constant": 1.0,
        "volume_mm3": float(sum(p["volume_mm3"] for p in parts)),
        "area_mm2": float(sum(p["area_mm2"] for p in parts)),
        "layers": float(sum(math.ceil(p["bbox_mm"][2] / layer_height_mm - 1e-9) for p in parts)),
    }


@lru_cache(maxsize=8)
def _coefficients(path: str, mtime_ns: int) -> dict[tuple[str, str], float]:
    table = read_table(Path(path).name)
    return {(str(r.target), str(r.feature)): float(r.coefficient) for r in table.itertuples()}


def coefficients() -> dict[tuple[str, str], float]:
    path = data_path("print_time_coefficients.csv")
    return _coefficients(str(path), path.stat().st_mtime_ns)


@lru_cache(maxsize=8)
def _ini_value(path: str, mtime_ns: int, key: str) -> str:
    for line in Path(path).read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip() == key:
            return value.strip()
    raise KeyError(f"{key} is not set in {path}")


def layer_height_mm(machine: str) -> float:
    """The layer height the machine's slicer profile prints at (one place says it: the .ini)."""
    path = data_path(f"slicer/printer_{machine}.ini")
    return float(_ini_value(str(path), path.stat().st_mtime_ns, "layer_height"))


def estimate(metrics: dict, layer_height: float) -> dict:
    """Estimated print time (s) and filament (mm3) of one plate, with the features used."""
    x = features(metrics, layer_height)
    coef = coefficients()
    out = {}
    for target in TARGETS:
        out[target] = max(0.0, sum(coef.get((target, f), 0.0) * x[f] for f in FEATURES))
    out["features"] = x
    return out
