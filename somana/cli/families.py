"""`somana families [--json] [--family NAME --set name=value ...]`: product families with their
parameters, units, declared bounds, defaults, and the range each field really has given the others
(dynamic bounds: the defaults, or the values given with --set for one --family). Families fitted to what
the customer brings (geometry.FITTED: board_enclosure) are listed too, with what they need (`needs`: a
--board FILE.kicad_pcb) and the product line they are sold as (`sold_as`)."""

from __future__ import annotations

import json


def configure(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print every family as JSON")
    parser.add_argument("--family", default=None, help="only this family")
    parser.add_argument("--set", dest="assignments", action="append", metavar="NAME=VALUE", default=[],
                        help="a value of --family's other fields, for the ranges; repeat for several")


def run(args) -> int:
    from somana.cli import parse_assignments
    from somana_core.errors import InputError
    from somana_core.geometry import FAMILIES, FITTED, describe_family, get_family, product_line  # no CadQuery

    values = parse_assignments(getattr(args, "assignments", []) or [])
    family = getattr(args, "family", None)
    if values and family is None:
        raise InputError("set", "--set needs --family: the values belong to one family")
    names = [get_family(family).family] if family is not None else [*FAMILIES, *FITTED]  # '' is no family
    described = [describe_family(name, values if family else None) for name in names]
    for fam in described:
        if fam["family"] in FITTED:
            # what a person must bring to make one (the CLI's --board FILE; the configurator's upload)
            fam["needs"] = {"board": "--board FILE.kicad_pcb (a KiCad 6-9 board with an outline and mounting holes)"}
            fam["sold_as"] = product_line(fam["family"])
    if args.json:
        print(json.dumps({"families": described}, indent=2, default=str))
        return 0
    for fam in described:
        print(f"{fam['family']}: {fam['title']} (parts: {', '.join(fam['parts'])})")
        if "needs" in fam:
            print(f"  needs {fam['needs']['board']}; sold as {fam['sold_as']}: "
                  f"somana make {fam['sold_as']} --board FILE.kicad_pcb --out FILE.stl")
        for group, names_in_group in fam["groups"].items():
            print(f"  {group}")
            for name in names_in_group:
                p = fam["parameters"][name]
                unit = f" {p['unit']}" if p["unit"] and p["unit"] != "count" else ""
                if p["type"] in ("number", "integer"):
                    rng = f"{p['bounds'][0]:g}..{p['bounds'][1]:g}{unit}, step {p['step']:g}"
                    real = p.get("range")
                    if real is None:
                        rng += " (no value fits the other fields)"
                    elif [real["min"], real["max"]] != list(p["bounds"]):
                        rng += f" (now {real['min']:g}..{real['max']:g})"
                elif p["type"] == "choice":
                    rng = " | ".join(map(str, p["choices"]))
                elif p["type"] == "boolean":
                    rng = "true | false"
                else:
                    rng = f"text, at most {p['max_chars']} characters"
                print(f"    {name:<20} default {p['default']!s:<12} {rng}  - {p['doc']}")
        print()
    return 0
