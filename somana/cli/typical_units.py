"""`somana typical-units [--write] [--check] [--json]`: each family's typical order (data/portfolio_typical_units.csv)
against its default part as built and quoted today.

With no option: one line per family, the table's figures beside the build's. `--check` exits 1 when a
derived row is more than the tolerance off (the table must be regenerated); `--write` regenerates every
derived row (a founder's own `assumption` rows are kept) and says what changed.
"""

from __future__ import annotations

import json


def configure(parser) -> None:
    parser.add_argument("--write", action="store_true", help="regenerate the derived rows of the table")
    parser.add_argument("--check", action="store_true", help="exit 1 if a derived row is off by more than the tolerance")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def run(args) -> int:
    from somana_core import typical_units
    from somana_core.data import read_table
    from somana_core.economics.assumptions import yes_or_no
    from somana_core.errors import InputError

    if args.write and args.check:
        raise InputError("write", "--write and --check: choose one (write regenerates, check only compares)")
    before = read_table(typical_units.TABLE)
    if args.write:
        path = typical_units.write()
        after = read_table(typical_units.TABLE)
        rows = [{"family": b.family, "kind": a.kind, "print_hours": [float(b.print_hours), float(a.print_hours)],
                 "filament_g": [float(b.filament_g), float(a.filament_g)]}
                for b, a in zip(before.itertuples(), after.itertuples())]
        if args.json:
            print(json.dumps({"written": str(path), "rows": rows}, indent=2))
        else:
            print(f"wrote {path}")
            for r in rows:
                print(f"  {r['family']:<17} {r['kind']:<10} print {r['print_hours'][0]:g} -> {r['print_hours'][1]:g} h, "
                      f"filament {r['filament_g'][0]:g} -> {r['filament_g'][1]:g} g")
        return 0
    rows, mismatches = [], []
    for row in before.itertuples():
        built = typical_units.derive(row.family, row.material, row.machine)
        if args.check and row.kind == "derived":
            mismatches += typical_units.compare(row, built)
        rows.append({"family": row.family, "kind": row.kind, "machine": row.machine, "material": row.material,
                     "table": {"print_hours": float(row.print_hours), "filament_g": float(row.filament_g),
                               "heat_formed": yes_or_no(getattr(row, "heat_formed", False), row.family)},
                     "built": {"print_hours": built.print_hours, "filament_g": built.filament_g,
                               "heat_formed": built.heat_formed}})
    if args.json:
        print(json.dumps({"tolerance": typical_units.TOLERANCE, "rows": rows,
                          "mismatches": [str(m) for m in mismatches]}, indent=2))
    else:
        for r in rows:
            formed = {k: " heat-formed" if r[k]["heat_formed"] else "" for k in ("table", "built")}
            print(f"{r['family']:<17} {r['kind']:<10} table {r['table']['print_hours']:.2f} h {r['table']['filament_g']:.1f} g"
                  f"{formed['table']}   built {r['built']['print_hours']:.2f} h {r['built']['filament_g']:.1f} g"
                  f"{formed['built']}"
                  f"   ({r['machine']}, {r['material']})")
        for m in mismatches:
            print(m)
    return 1 if mismatches else 0
