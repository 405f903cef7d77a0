"""Geometry timings per product family (prints one JSON document; medians, milliseconds).

- cold_build_ms: first build of the defaults with empty caches (CadQuery already imported)
- change_to_preview_ms: one parameter changed -> build (cached parts reused) -> preview meshes ready,
  median of 10 distinct values per parameter (the configurator's live path)
- preview_tessellation_ms: meshing every part for the viewer at the preview deflection
- export_ms: STL, 3MF, STEP of all parts laid out on the plate (fine export deflection)

The machine is shared (2 cores): read medians, and compare runs made under similar load.
Each change also splits its time into build (validation + the parts it rebuilds) and preview (meshing).
Run: .venv/bin/python benchmarks/geometry.py [--repeat 10] [--deflection 0.1] [--family eyewear_frame]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

# what changes, per family: (parameter, 10 values not equal to the default)
CHANGES = {
    "sensor_enclosure": [
        ("text", [f"Name{i}" for i in range(10)]),
        ("wall", [f"{2.1 + 0.1 * i:.1f}" for i in range(10)]),
        ("vent_count", [str(i) for i in (0, 1, 2, 3, 4, 6, 7, 8, 9, 10)]),
    ],
    "kit_enclosure": [
        ("text", [f"Kid{i}" for i in range(10)]),
        ("wall", [f"{2.1 + 0.1 * i:.1f}" for i in range(10)]),
        ("board", ["raspberry_pi_pico", "bbc_microbit_v2", "esp32_devkitc_v4"]),  # 3 distinct boards
    ],
    "eyewear_frame": [
        ("text", [f"Ada{i}" for i in range(10)]),
        ("lens_width", [f"{46 + 0.5 * i:.1f}" for i in range(10)]),
        ("temple_length", [f"{130 + i}" for i in range(10)]),
        ("pupillary_distance", [f"{60 + 0.5 * i:.1f}" for i in range(10)]),
    ],
}
TARGET_MS = {"sensor_enclosure": 250, "kit_enclosure": 250, "eyewear_frame": 400}


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def eyewear_features() -> dict:
    """The eyewear features measured on the built default frame (probes into the solids, not the code's
    own numbers): groove and lips, open stop, nose gap, pantoscopic tilt, length of side, marking."""
    import math

    import numpy as np

    from somana_core.geometry import build, make_spec
    from somana_core.geometry import eyewear_frame as ew
    from somana_core.geometry.kernel import apply_matrix, common_volume_mm3, vector
    from somana_core.geometry.transforms import rotation_matrix, translation_matrix

    p = build(make_spec("eyewear_frame", {"text": "Ada"}))
    v, front = p.spec, p.parts["front"]
    inside = lambda s, x, y, z: s.isInside(vector(x, y, z))  # noqa: E731
    cx, a = ew.lens_centre_x(v), v.lens_width / 2
    xs = np.arange(cx + a - 2, cx + a + 1, 0.01)
    groove = next(x for x in xs if inside(front, x, 0, v.frame_thickness / 2)) - cx
    lip = next(x for x in xs if inside(front, x, 0, 0.3)) - cx
    h = ew.hinge(v)
    xk, pin_y = ew.pin_position(v, h)  # the pin as the wrap turned it (the front is formed after printing)
    placed_front = apply_matrix(p.as_sold("front"), p.placement("front"))

    def turned(deg):  # the left temple opened `deg` past 90 degrees about its pin
        about = translation_matrix(-xk, pin_y, 0) @ rotation_matrix("z", deg) @ translation_matrix(xk, -pin_y, 0)
        return apply_matrix(p.parts["left_temple"], about @ p.placement("left_temple"))

    stop = next((90 + d for d in np.arange(0, 6.01, 0.25) if common_volume_mm3(placed_front, turned(d)) > 0), None)
    folds_free = all(common_volume_mm3(placed_front, turned(-d)) == 0 for d in (20, 50, 80))
    gap = 2 * next(x for x in np.arange(0, v.bridge_width / 2, 0.02)
                   if inside(front, x, -v.lens_height / 4, v.frame_thickness / 2))
    temple = p.parts["left_temple"]

    def mid(x):
        ys = [y for y in np.arange(-20, 20, 0.05) if inside(temple, x, y, h.t / 4)]
        return (min(ys) + max(ys)) / 2

    x1 = ew.tongue_end_x(h) + 15
    tilt = math.degrees(math.atan2(mid(x1) - mid(x1 + 50), 50))
    mesh = p.mesh("left_temple", 0.02)
    (_, _), p1, p2, p3 = ew.temple_centreline(v, h, False)
    d = np.subtract(p3, p2) / np.linalg.norm(np.subtract(p3, p2))
    tip = mesh.vertices[np.argmax(mesh.vertices[:, :2] @ d)][:2]
    side = np.linalg.norm(p1) + np.linalg.norm(np.subtract(p2, p1)) + float(np.subtract(tip, p2) @ d)
    return {"lens_mm": [v.lens_width, v.lens_height], "groove_bottom_half_width_mm": round(groove, 2),
            "lip_half_width_mm": round(lip, 2), "groove_depth_mm": v.groove_depth,
            "min_blank_mm": round(ew.min_blank_mm(v), 1), "stock_blanks_mm": ew.lens_blanks_mm(),
            "open_stop_first_contact_deg": stop, "open_angle_deg": v.open_angle, "folds_free": folds_free,
            "nose_gap_mm": round(gap, 2), "pantoscopic_tilt_measured_deg": round(tilt, 2),
            "pantoscopic_tilt_deg": v.pantoscopic_tilt, "length_of_side_measured_mm": round(side, 2),
            "length_of_side_mm": v.temple_length, "marking": ew.frame_marking(v)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--deflection", type=float, default=0.1, help="preview deflection, mm")
    parser.add_argument("--family", action="append", default=None, help="only this family (repeat for several)")
    parser.add_argument("--no-features", action="store_true", help="skip the eyewear feature probes")
    args = parser.parse_args()

    t0 = time.perf_counter()
    import cadquery  # noqa: F401  (import cost reported on its own)

    import_s = time.perf_counter() - t0
    from somana_core.geometry import FAMILIES, build, make_spec
    from somana_core.geometry.mesh import tessellate
    from somana_core.geometry.product import clear_cache

    report = {"cadquery_import_ms": ms(import_s), "preview_deflection_mm": args.deflection,
              "cpu_count": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 2), "families": {}}
    for family in args.family or list(FAMILIES):
        clear_cache()
        t = time.perf_counter()
        product = build(make_spec(family, {}))
        cold_build = time.perf_counter() - t
        t = time.perf_counter()
        product.preview(args.deflection)
        cold_preview = time.perf_counter() - t

        tess = []
        for _ in range(3):
            t = time.perf_counter()
            meshes = {name: tessellate(shape, args.deflection) for name, shape in product.parts.items()}
            tess.append(time.perf_counter() - t)
        triangles = sum(len(m.triangles) for m in meshes.values())
        preview_bytes = sum(m.nbytes for m in meshes.values())

        changes = {}
        for name, values in CHANGES[family]:
            times, builds, previews = [], [], []
            for value in values[:args.repeat]:
                t = time.perf_counter()
                changed = build(make_spec(family, {name: value}))
                t_built = time.perf_counter()
                changed.preview(args.deflection)
                times.append(time.perf_counter() - t)
                builds.append(t_built - t)
                previews.append(time.perf_counter() - t_built)
            changes[name] = {"median_ms": ms(statistics.median(times)), "max_ms": ms(max(times)),
                             "build_median_ms": ms(statistics.median(builds)),
                             "preview_median_ms": ms(statistics.median(previews))}

        exports = {}
        with tempfile.TemporaryDirectory() as tmp:
            for suffix in ("stl", "3mf", "step"):
                t = time.perf_counter()
                product.export(Path(tmp) / f"plate.{suffix}")
                exports[suffix] = ms(time.perf_counter() - t)
        slowest = max(c["median_ms"] for c in changes.values())
        report["families"][family] = {
            "cold_build_ms": ms(cold_build), "cold_preview_ms": ms(cold_preview),
            "change_to_preview_ms": changes,
            "preview_tessellation_ms": ms(statistics.median(tess)), "preview_triangles": triangles,
            "preview_bytes": preview_bytes, "export_ms": exports,
            "target_change_to_preview_ms": TARGET_MS[family], "slowest_change_median_ms": slowest,
            "meets_target": slowest <= TARGET_MS[family],
        }
    if not args.no_features and "eyewear_frame" in report["families"]:
        report["eyewear_features"] = eyewear_features()
    report["load_average_1min_after"] = round(os.getloadavg()[0], 2)
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
