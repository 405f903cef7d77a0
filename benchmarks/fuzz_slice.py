"""Fuzz slice rate: random valid orders of every family, each plate exported and sliced with the real
PrusaSlicer; prints JSON with the share of orders whose every plate sliced (target 100%), per family.

    python benchmarks/fuzz_slice.py [--per-family 20] [--seed 1] [--family NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def check_order(spec, folder: Path) -> dict:
    """Build, lay out, export and slice every plate of one order; the figures and any failure."""
    from somana_core.geometry import build
    from somana_core.geometry.plates import usable_bed
    from somana_core.geometry.printability import MAX_BRIDGE_MM, longest_bridge_mm
    from somana_core.catalogue import machine_envelope
    from somana_core.slicing import SlicerError, slice_file

    started = time.perf_counter()
    product = build(spec)
    bridges = {}
    for name in product.parts:
        mesh = product.mesh(name, 0.1)
        bridges[name] = round(longest_bridge_mm(mesh.vertices, mesh.triangles), 1)
    files = product.export_plates(folder / f"{spec.family}.stl")
    bed = machine_envelope(spec.machine)
    ux, uy = usable_bed(bed["x_mm"], bed["y_mm"])
    result = {"plates": len(files), "bridges_mm": bridges, "failures": []}
    for name, span in bridges.items():
        if span > MAX_BRIDGE_MM:
            result["failures"].append(f"{name} bridges {span} mm")
    import trimesh

    for index, path in enumerate(files):
        lo, hi = trimesh.load(path, process=False).bounds
        if (hi - lo)[0] > ux + 0.01 or (hi - lo)[1] > uy + 0.01:
            result["failures"].append(f"plate {index + 1} is {hi - lo} mm, bed usable {ux} x {uy}")
        try:
            slice_file(path, folder / f"plate{index + 1}.gcode", machine=spec.machine)
        except SlicerError as exc:
            result["failures"].append(f"plate {index + 1}: {exc}")
    result["seconds"] = round(time.perf_counter() - started, 2)
    return result


def main() -> int:
    from somana_core.geometry import FAMILIES
    from somana_core.geometry.fuzz import random_valid_specs

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-family", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--family", action="append", default=None)
    args = parser.parse_args()
    report = {"per_family": args.per_family, "seed": args.seed, "cpu_count": os.cpu_count(),
              "load_average_1min": round(os.getloadavg()[0], 2), "families": {}}
    for family in args.family or list(FAMILIES):
        specs, tries = random_valid_specs(family, args.per_family, args.seed)
        ok, seconds, failures = 0, [], []
        with tempfile.TemporaryDirectory(prefix="somana-fuzz-") as tmp:
            for i, spec in enumerate(specs):
                folder = Path(tmp) / str(i)
                folder.mkdir()
                started = time.perf_counter()
                try:
                    result = check_order(spec, folder)
                except Exception as exc:  # noqa: BLE001 - a crash in CAD is this order's failure, not the run's
                    result = {"seconds": time.perf_counter() - started,
                              "failures": [f"{type(exc).__name__}: {exc}"]}
                seconds.append(result["seconds"])
                if result["failures"]:
                    failures.append({"values": spec.values(), "failures": result["failures"]})
                else:
                    ok += 1
        report["families"][family] = {
            "orders": len(specs), "valid_share_of_random_draws": round(len(specs) / tries, 3),
            "sliced_every_plate": ok, "slice_rate": round(ok / len(specs), 3) if specs else None,
            "median_s_per_order": round(statistics.median(seconds), 2) if seconds else None,
            "failures": failures[:5]}
    report["load_average_1min_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
