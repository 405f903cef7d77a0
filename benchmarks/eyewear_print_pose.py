"""Why the eyewear front prints flat: the default frame's front and plate sliced with the real PrusaSlicer
three ways, and every family's default parts' overhang area. Prints JSON.

    python benchmarks/eyewear_print_pose.py [--quick]      # --quick: the front alone, not the whole plate

- flat: the front as printed now (flat, heat-formed to its wrap afterwards), the shop's profiles;
- wrapped: the front printed already wrapped (its as-sold shape in the print pose), supports off as the
  profiles say (what the code did before: its wings' undersides hang in the air);
- wrapped_supported: the same with PrusaSlicer supports from the build plate only, 45 degrees, 2 interface
  layers (what printing it wrapped honestly costs, before the scar on the face is sanded away).

overhang_mm2 is each part's area facing down more than 45 degrees (printability.overhang_area_mm2);
overhang_split splits it into what the slicer bridges (flat ceilings held at both ends) and what hangs
(sloping undersides, ledges held on one side): printability.overhang_split_mm2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SUPPORTS = {"support_material": 1, "support_material_auto": 1, "support_material_buildplate_only": 1,
            "support_material_threshold": 45, "support_material_interface_layers": 2}


def main() -> int:
    from somana_core.geometry import FAMILIES, build, make_spec
    from somana_core.geometry.exporters import write_stl
    from somana_core.geometry.printability import MAX_UNSUPPORTED_OVERHANG_MM2, overhang_split_mm2
    from somana_core.slicing import slice_file

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="slice the front alone, not the whole plate")
    args = parser.parse_args()
    report = {"loadavg": Path("/proc/loadavg").read_text().split()[:3] if os.path.exists("/proc/loadavg") else None,
              "cpu_count": os.cpu_count(), "threshold_mm2": MAX_UNSUPPORTED_OVERHANG_MM2, "overhang_mm2": {},
              "overhang_split": {}, "slices": {}}

    def measure(name, mesh):
        split = overhang_split_mm2(mesh.vertices, mesh.triangles)
        report["overhang_mm2"][name] = round(split["overhang_mm2"], 1)
        report["overhang_split"][name] = {"bridged_mm2": round(split["bridged_mm2"], 1),
                                          "hanging_mm2": round(split["hanging_mm2"], 1)}

    for family in FAMILIES:
        product = build(make_spec(family, {}))
        for part in product.parts:
            measure(f"{family}/{part}", product.mesh(part))
    frame = build(make_spec("eyewear_frame", {}))
    measure("eyewear_frame/front printed wrapped", frame.mesh("front", sold=True))
    layout = frame.plate_layout()
    with tempfile.TemporaryDirectory(prefix="somana-eyewear-") as tmp:
        folder = Path(tmp)
        for what in ("front",) if args.quick else ("front", "plate"):
            parts = ["front"] if what == "front" else list(layout)
            for pose in ("flat", "wrapped", "wrapped_supported"):
                meshes = [frame.mesh(p, sold=(p == "front" and pose != "flat")).transformed(layout[p]) for p in parts]
                stl = folder / f"{what}_{pose}.stl"
                write_stl(stl, meshes)
                result = slice_file(stl, folder / f"{what}_{pose}.gcode", machine=frame.values["machine"],
                                    options=SUPPORTS if pose == "wrapped_supported" else None)
                report["slices"][f"{what}/{pose}"] = {"filament_g": result.filament_g,
                                                      "print_time_s": result.print_time_s,
                                                      "slice_s": round(result.elapsed_s, 2)}
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
