"""`somana make FAMILY [--set name=value ...] --out FILE.{stl,step,3mf} [--gcode FILE.gcode] [--part NAME]
[--material M] [--json]`: build a product, lay its parts out on the printer's bed (several plates when
they do not share one: FILE.plate2.stl ...), optionally slice each plate, print its metrics.

Bad input (a value out of range, a rule broken, an unknown part or suffix) is refused before any
file is written: one line naming the field, exit status 2. A failure at a later stage (the slicer)
writes nothing either: every file is staged beside its target and moved into place at the end.
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


def _slice_plates(args, product, plate_files: list[Path], staging: Path) -> list:
    """Slice every plate file into a staged G-code file (plate k of OUT.gcode is OUT.plateK.gcode)."""
    import sys

    from somana_core.geometry.plates import plate_path
    from somana_core.slicing import SlicerError, slice_file

    if Path(args.out).suffix.lower() not in (".stl", ".3mf"):  # a STEP plate: slice a mesh of it
        meshes = product.export_plates(staging / "slice.stl", part=args.part)
    else:
        meshes = plate_files
    results = []
    for index, mesh in enumerate(meshes):
        target = staging / plate_path(Path(args.gcode).name, index)
        try:
            results.append(slice_file(mesh, target, material=args.material, machine=product.values["machine"]))
        except SlicerError as exc:
            if hasattr(exc, "field"):
                raise
            print(f"somana make: {exc}", file=sys.stderr)
            raise SystemExit(1) from None
    return results


def run(args) -> int:
    """Build, export every plate and (with --gcode) slice each one, all into a staging folder beside
    the outputs; only when every stage succeeded are the files moved into place, so a failure at any
    stage leaves nothing behind."""
    import contextlib
    import os
    import tempfile

    spec = check_request(args)

    from somana_core.geometry import build
    from somana_core.geometry.plates import plate_path

    product = build(spec)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    gcode = Path(args.gcode) if getattr(args, "gcode", None) else None
    if gcode is not None:
        gcode.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:  # staging folders beside each target: renames stay atomic
        staging = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=".somana-make-", dir=out.parent)))
        staged = product.export_plates(staging / out.name, part=args.part)
        moves = [(path, plate_path(out, i)) for i, path in enumerate(staged)]
        sliced = []
        if gcode is not None:
            gcode_staging = Path(stack.enter_context(
                tempfile.TemporaryDirectory(prefix=".somana-make-", dir=gcode.parent)))
            sliced = _slice_plates(args, product, staged, gcode_staging)
            moves += [(Path(r.gcode_path), plate_path(gcode, i)) for i, r in enumerate(sliced)]
        for source, target in moves:
            os.replace(source, target)
    metrics = product.metrics(args.material)
    if args.part is not None:
        metrics["parts"] = {args.part: metrics["parts"][args.part]}
        metrics["total"] = {k: v for k, v in metrics["parts"][args.part].items() if k not in ("bbox_mm", "heat_formed")}
    plates = [str(target) for _, target in moves[:len(staged)]]
    finishing = getattr(type(product.spec).builder, "finishing", None)
    report = {"family": product.family, "out": str(out), "plates": plates, "part": args.part,
              "values": product.values, "metrics": metrics,
              "finishing": finishing(product.spec, args.material) if finishing is not None else []}
    if sliced:
        gcodes = [{**{k: v for k, v in r.to_dict().items() if k != "slicer"}, "gcode_path": str(plate_path(gcode, i))}
                  for i, r in enumerate(sliced)]
        report["gcode"] = gcodes[0] if len(gcodes) == 1 else {
            "gcode_path": gcodes[0]["gcode_path"], "plates": gcodes,
            "print_time_s": sum(g["print_time_s"] for g in gcodes),
            "filament_g": round(sum(g["filament_g"] for g in gcodes), 2),
            "machine": gcodes[0]["machine"], "material": gcodes[0]["material"]}
    if args.json:
        print(json.dumps(report, indent=2, default=str))
        return 0
    print(f"{out}: {product.family}, {', '.join(metrics['parts'])} in {metrics['material']}"
          + (f" on {len(plates)} plates ({', '.join(plates)})" if len(plates) > 1 else ""))
    for name, m in metrics["parts"].items():
        x, y, z = m["bbox_mm"]
        print(f"  {name:<14} {m['volume_mm3'] / 1000:8.2f} cm3  {m['mass_g']:7.1f} g  "
              f"{m['material_cost_usd']:6.2f} USD  {x:.1f} x {y:.1f} x {z:.1f} mm")
    t = metrics["total"]
    print(f"  {'total':<14} {t['volume_mm3'] / 1000:8.2f} cm3  {t['mass_g']:7.1f} g  "
          f"{t['material_cost_usd']:6.2f} USD")
    for i, r in enumerate(sliced):
        hours, rest = divmod(int(r.print_time_s), 3600)
        print(f"{plate_path(gcode, i)}: sliced, {hours}h {rest // 60:02d}m print, {r.filament_g} g "
              f"of {r.material} on {r.machine}")
    for step, text in enumerate(report["finishing"], 1):
        print(f"after printing {step}: {text}")
    for name, check in metrics.get("checks", {}).items():  # fitness figures (eyewear: the temples' grip)
        if check.get("warning"):
            print(f"warning: {check['warning']}")
        elif "temple_clamp_force_n" in check:
            lo, hi = check["comfortable_n"]
            print(f"check: the temples grip {check['temple_clamp_force_n']:.2f} N in {metrics['material']} "
                  f"(comfortable {lo:g}-{hi:g} N)")
    return 0
