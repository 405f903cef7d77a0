"""`somana make FAMILY [--set name=value ...] --out FILE.{stl,step,3mf} [--part NAME] [--material M] [--json]`:
build a product, write its parts side by side on the plate (or one part), print its metrics.

Bad input (a value out of range, a rule broken, an unknown part or suffix) is refused before any
file is written: one line naming the field, exit status 2.
"""

from __future__ import annotations

import json
from pathlib import Path

EXPORT_SUFFIXES = (".stl", ".step", ".stp", ".3mf")


def configure(parser) -> None:
    parser.add_argument("family", help="product family (see `somana families`)")
    parser.add_argument("--set", dest="assignments", action="append", metavar="NAME=VALUE", default=[],
                        help="a parameter value; repeat for several")
    parser.add_argument("--board", default=None, metavar="FILE.kicad_pcb",
                        help="the customer's KiCad board: the enclosure is fitted to it (sensor_enclosure)")
    parser.add_argument("--out", required=True, help="file to write: .stl, .step or .3mf")
    parser.add_argument("--part", default=None, help="write only this part (default: all parts)")
    parser.add_argument("--material", default="PLA", help="material id from data/materials.csv for the metrics")
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    parser.add_argument("--gcode", default=None, metavar="OUT.gcode",
                        help="also slice the plate with the real slicer into this G-code file")


def check_request(args):
    """Everything about the request that can be refused before any CAD work: returns the spec."""
    from somana.cli import output_path, parse_assignments, terminal_safe
    from somana_core.errors import InputError
    from somana_core.geometry import get_family, make_spec, material_row

    if Path(args.out).suffix.lower() not in EXPORT_SUFFIXES:
        raise InputError("out", f"--out {terminal_safe(args.out)}: the file must end in .stl, .step or .3mf")
    output_path("out", args.out)  # a folder, /proc, `-`: refused before any CAD work
    from somana_core.intake import route_board

    args.family, values = route_board(args.family, parse_assignments(args.assignments), args.board)
    spec = make_spec(args.family, values)
    parts = get_family(args.family).parts
    if args.part is not None and args.part not in parts:
        raise InputError("part", f"--part {args.part!r} is not a part of {args.family}; allowed: {', '.join(parts)}")
    material_row(args.material)
    if getattr(args, "gcode", None) is not None:
        output_path("gcode", args.gcode, (".gcode",))
    return spec


def after_export(args, product, out: Path, report: dict) -> None:
    """Place for steps that follow the export (e.g. `--gcode`: slice `out` and add its figures to
    `report`). Runs only after the part file was written."""
    if getattr(args, "gcode", None):
        import sys

        from somana_core.slicing import SlicerError, slice_file, slice_product

        try:
            if out.suffix.lower() in (".stl", ".3mf"):  # slice the mesh just written
                result = slice_file(out, args.gcode, material=args.material, machine=product.values["machine"])
            else:
                result = slice_product(product, args.gcode, material=args.material, part=args.part)
        except SlicerError as exc:
            if hasattr(exc, "field"):
                raise
            print(f"somana make: {exc}", file=sys.stderr)
            raise SystemExit(1) from None
        report["gcode"] = {k: v for k, v in result.to_dict().items() if k != "slicer"}
        if not args.json:
            hours, rest = divmod(int(result.print_time_s), 3600)
            print(f"{result.gcode_path}: sliced, {hours}h {rest // 60:02d}m print, {result.filament_g} g "
                  f"of {result.material} on {result.machine}")


def run(args) -> int:
    spec = check_request(args)

    from somana_core.geometry import build

    product = build(spec)
    out = product.export(args.out, part=args.part)
    metrics = product.metrics(args.material)
    if args.part is not None:
        metrics["parts"] = {args.part: metrics["parts"][args.part]}
        metrics["total"] = {k: v for k, v in metrics["parts"][args.part].items() if k != "bbox_mm"}
    report = {"family": product.family, "out": str(out), "part": args.part, "values": product.values,
              "metrics": metrics}
    after_export(args, product, out, report)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        print(f"{out}: {product.family}, {', '.join(metrics['parts'])} in {metrics['material']}")
        for name, m in metrics["parts"].items():
            x, y, z = m["bbox_mm"]
            print(f"  {name:<14} {m['volume_mm3'] / 1000:8.2f} cm3  {m['mass_g']:7.1f} g  "
                  f"{m['material_cost_usd']:6.2f} USD  {x:.1f} x {y:.1f} x {z:.1f} mm")
        t = metrics["total"]
        print(f"  {'total':<14} {t['volume_mm3'] / 1000:8.2f} cm3  {t['mass_g']:7.1f} g  "
              f"{t['material_cost_usd']:6.2f} USD")
    return 0
