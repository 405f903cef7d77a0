"""`somana slice FILE --out FILE.gcode [--material M] [--machine ID] [--json]`: the real slicer."""

from __future__ import annotations

import json
import sys

from somana.cli import bounded_float, input_path, output_path

MAX_TIMEOUT_S = 24 * 3600.0


def configure(parser) -> None:
    parser.add_argument("file", help="STL or 3MF to slice")
    parser.add_argument("--out", required=True, help="G-code file to write")
    parser.add_argument("--material", default="PLA", help="material id from data/materials.csv (default PLA)")
    parser.add_argument("--machine", default=None, help="machine id from data/machines.csv (default: the first)")
    parser.add_argument("--timeout", type=bounded_float("timeout", 1.0, MAX_TIMEOUT_S), default=None,
                        help=f"give up after this many seconds (1-{MAX_TIMEOUT_S:g})")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args) -> int:
    from somana_core.geometry import machine_row, material_row
    from somana_core.slicing import DEFAULT_TIMEOUT_S, SlicerError, slice_file

    input_path("file", args.file, (".stl", ".3mf", ".obj", ".amf"))
    output_path("out", args.out, (".gcode",))
    material_row(args.material)
    if args.machine is not None:
        machine_row(args.machine)
    try:
        result = slice_file(args.file, args.out, material=args.material, machine=args.machine,
                            timeout_s=args.timeout or DEFAULT_TIMEOUT_S)
    except SlicerError as exc:
        if hasattr(exc, "field"):  # a part that does not fit is bad input: exit 2
            raise
        print(f"somana slice: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        hours, rest = divmod(int(result.print_time_s), 3600)
        print(f"{result.gcode_path}: {hours}h {rest // 60:02d}m print, {result.filament_mm / 1000:.2f} m "
              f"({result.filament_cm3:.2f} cm3) of {result.material} on {result.machine}")
    return 0
