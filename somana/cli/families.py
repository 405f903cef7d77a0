"""`somana families [--json]`: product families with their parameters, units, bounds and defaults."""

from __future__ import annotations

import json


def configure(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print every family as JSON")


def run(args) -> int:
    from somana_core.geometry import FAMILIES, describe_family  # specs only: no CadQuery import

    described = [describe_family(name) for name in FAMILIES]
    if args.json:
        print(json.dumps({"families": described}, indent=2, default=str))
        return 0
    for fam in described:
        print(f"{fam['family']}: {fam['title']} (parts: {', '.join(fam['parts'])})")
        for group, names in fam["groups"].items():
            print(f"  {group}")
            for name in names:
                p = fam["parameters"][name]
                unit = f" {p['unit']}" if p["unit"] and p["unit"] != "count" else ""
                if p["type"] in ("number", "integer"):
                    rng = f"{p['bounds'][0]:g}..{p['bounds'][1]:g}{unit}, step {p['step']:g}"
                elif p["type"] == "choice":
                    rng = " | ".join(map(str, p["choices"]))
                elif p["type"] == "boolean":
                    rng = "true | false"
                else:
                    rng = f"text, at most {p['max_chars']} characters"
                print(f"    {name:<20} default {p['default']!s:<12} {rng}  - {p['doc']}")
        print()
    return 0
