"""Writes the hand-made test boards in the KiCad 7, 8 and 9 formats (run once; the files are kept).

Each board's facts (hole centres, outline, parts) are stated here in KiCad's own coordinates, so the
tests compare the parser with numbers a person wrote, not with the parser's own output.

    python tests/intake/boards/generate.py
"""

from __future__ import annotations

import itertools
from pathlib import Path

HERE = Path(__file__).resolve().parent
_ids = itertools.count(1)


def uid() -> str:
    return f"00000000-0000-4000-8000-{next(_ids):012d}"


FORMATS = {
    "7": {"version": 20221018, "header": '(generator pcbnew)', "ref": "fp_text", "id": "tstamp"},
    "8": {"version": 20240108, "header": '(generator "pcbnew") (generator_version "8.0")', "ref": "property",
          "id": "uuid"},
    "9": {"version": 20241229, "header": '(generator "pcbnew") (generator_version "9.0")', "ref": "property",
          "id": "uuid"},
}


def stroke(width=0.05):
    return f'(stroke (width {width}) (type solid))'


def gr(kind, fmt, layer="Edge.Cuts", **pts):
    body = " ".join(f"({k} {v[0]} {v[1]})" for k, v in pts.items())
    return f'  (gr_{kind} {body} {stroke(0.1)} (layer "{layer}") ({FORMATS[fmt]["id"]} "{uid()}"))'


def gr_poly(fmt, points, layer="Edge.Cuts"):
    pts = " ".join(f"(xy {x} {y})" for x, y in points)
    return f'  (gr_poly (pts {pts}) {stroke(0.1)} (fill none) (layer "{layer}") ({FORMATS[fmt]["id"]} "{uid()}"))'


def footprint(fmt, lib_name, ref, at, side="top", courtyard=None, pads=(), model=None, value="", fab=None):
    """courtyard/fab: (x0, y0, x1, y1) local rectangle. pads: (kind, x, y, size, drill)."""
    f = FORMATS[fmt]
    layer = "F.Cu" if side == "top" else "B.Cu"
    s = "F" if side == "top" else "B"
    x, y, *rot = at
    at_s = f"(at {x} {y}{' ' + str(rot[0]) if rot else ''})"
    lines = [f'  (footprint "{lib_name}" (layer "{layer}")', f'    ({f["id"]} "{uid()}")', f"    {at_s}"]
    if f["ref"] == "fp_text":
        lines.append(f'    (fp_text reference "{ref}" (at 0 -3) (layer "{s}.SilkS") (effects (font (size 1 1))))')
        lines.append(f'    (fp_text value "{value or ref}" (at 0 3) (layer "{s}.Fab") (effects (font (size 1 1))))')
    else:
        lines.append(f'    (property "Reference" "{ref}" (at 0 -3 0) (layer "{s}.SilkS") ({f["id"]} "{uid()}") '
                     f'(effects (font (size 1 1))))')
        lines.append(f'    (property "Value" "{value or ref}" (at 0 3 0) (layer "{s}.Fab") ({f["id"]} "{uid()}") '
                     f'(effects (font (size 1 1))))')
    for rect, lay in ((courtyard, "CrtYd"), (fab, "Fab")):
        if rect:
            x0, y0, x1, y1 = rect
            lines.append(f'    (fp_rect (start {x0} {y0}) (end {x1} {y1}) {stroke()} (fill none) '
                         f'(layer "{s}.{lay}") ({f["id"]} "{uid()}"))')
    for kind, px, py, size, drill in pads:
        layers = '"*.Cu" "*.Mask"' if drill else f'"{s}.Cu" "{s}.Paste" "{s}.Mask"'
        pad_type = kind
        drill_s = f" (drill {drill})" if drill else ""
        lines.append(f'    (pad "{"" if kind == "np_thru_hole" else "1"}" {pad_type} circle (at {px} {py}) '
                     f'(size {size} {size}){drill_s} (layers {layers}) ({f["id"]} "{uid()}"))')
    if model:
        path, offset_z, scale_z = model
        lines.append(f'    (model "{path}" (offset (xyz 0 0 {offset_z})) (scale (xyz 1 1 {scale_z})) '
                     f'(rotate (xyz 0 0 0)))')
    lines.append("  )")
    return "\n".join(lines)


def board(fmt, items, thickness=1.6):
    f = FORMATS[fmt]
    head = [f'(kicad_pcb (version {f["version"]}) {f["header"]}',
            f"  (general (thickness {thickness}))",
            '  (paper "A4")',
            '  (layers (0 "F.Cu" signal) (31 "B.Cu" signal) (44 "Edge.Cuts" user))',
            '  (net 0 "")',
            f'  (segment (start 10 10) (end 20 10) (width 0.25) (layer "F.Cu") (net 0) ({f["id"]} "{uid()}"))']
    return "\n".join(head + items + [")"]) + "\n"


def mounting_hole(fmt, ref, x, y, drill=3.2):
    return footprint(fmt, "MountingHole:MountingHole_3.2mm_M3", ref, (x, y),
                     courtyard=(-3.45, -3.45, 3.45, 3.45), pads=[("np_thru_hole", 0, 0, drill, drill)])


# ----------------------------------------------------------------------------- KiCad 7
# 80 x 50 mm, origin (100, 100); the right-hand corners rounded with r = 6 mm arcs; a 8 mm round cut-out.
# Holes (MountingHole footprints): (104, 104), (174, 104), (104, 146).
def kicad7():
    fmt = "7"
    x0, y0, x1, y1, r = 100, 100, 180, 150, 6
    c = 1 - 2 ** -0.5
    items = [
        gr("line", fmt, start=(x0, y0), end=(x1 - r, y0)),
        gr("arc", fmt, start=(x1 - r, y0), mid=(x1 - r * c, y0 + r * c), end=(x1, y0 + r)),
        gr("line", fmt, start=(x1, y0 + r), end=(x1, y1 - r)),
        gr("arc", fmt, start=(x1, y1 - r), mid=(x1 - r * c, y1 - r * c), end=(x1 - r, y1)),
        gr("line", fmt, start=(x1 - r, y1), end=(x0, y1)),
        gr("line", fmt, start=(x0, y0), end=(x0, y1)),   # drawn the other way round: the reader flips it
        gr("circle", fmt, center=(150, 125), end=(154, 125)),
        mounting_hole(fmt, "H1", 104, 104), mounting_hole(fmt, "H2", 174, 104), mounting_hole(fmt, "H3", 104, 146),
        # USB-C on the left edge: local mouth towards -y, rotated 90 -> faces -x; overhangs the edge 1 mm
        footprint(fmt, "Connector_USB:USB_C_Receptacle_GCT_USB4085", "J1", (104.0, 125.0, 90),
                  courtyard=(-5.0, -5.0, 5.0, 3.5), pads=[("thru_hole", -2, 2, 1.2, 0.7), ("thru_hole", 2, 2, 1.2, 0.7)]),
        # barrel jack on the top edge (KiCad y small), mouth towards local -y, not rotated
        footprint(fmt, "Connector_BarrelJack:BarrelJack_CUI_PJ-063AH_Horizontal", "J2", (130.0, 107.0),
                  courtyard=(-4.7, -7.5, 4.7, 7.0), pads=[("thru_hole", 0, 0, 3.0, 1.8)]),
        footprint(fmt, "Button_Switch_SMD:SW_Push_1P1T_NO_6x6mm_H9.5mm", "SW1", (150.0, 140.0),
                  courtyard=(-4.0, -3.5, 4.0, 3.5), pads=[("smd", -3, 0, 1.5, None), ("smd", 3, 0, 1.5, None)]),
        footprint(fmt, "Package_SO:SOIC-8_3.9x4.9mm_P1.27mm", "U1", (125.0, 130.0, 45),
                  courtyard=(-3.7, -2.7, 3.7, 2.7), pads=[("smd", -2.5, 0, 0.6, None)]),
        footprint(fmt, "Capacitor_SMD:C_0805_2012Metric", "C1", (160.0, 120.0, 0), side="bottom",
                  courtyard=(-1.7, -1.0, 1.7, 1.0), pads=[("smd", -1, 0, 1.0, None), ("smd", 1, 0, 1.0, None)]),
    ]
    return board(fmt, items)


# ----------------------------------------------------------------------------- KiCad 8
# An L-shaped outline as one gr_poly: (0,0) (90,0) (90,40) (50,40) (50,70) (0,70), plus an offset.
# Holes: two non-plated 3.0 mm holes inside a custom fixing footprint "FIX1" at (5,5) and (85,5)
# (local (-40, 0) and (40, 0), footprint at (45, 5)), and a MountingHole at (45, 65)... (5, 65).
def kicad8():
    fmt = "8"
    pts = [(0, 0), (90, 0), (90, 40), (50, 40), (50, 70), (0, 70)]
    items = [
        gr_poly(fmt, pts),
        footprint(fmt, "Custom:Fixing_Bar", "FIX1", (45, 5),
                  pads=[("np_thru_hole", -40, 0, 3.0, 3.0), ("np_thru_hole", 40, 0, 3.0, 3.0),
                        ("np_thru_hole", 0, 0, 1.0, 1.0)]),   # 1 mm: a locating peg, not a screw hole
        mounting_hole(fmt, "H1", 5, 65),
        # RJ45 on the right edge (x = 90) of the wide part: local mouth towards -y, rotated -90 -> faces +x
        footprint(fmt, "Connector_RJ:RJ45_Amphenol_RJHSE5380", "J1", (80.0, 20.0, -90),
                  courtyard=(-8.5, -10.5, 8.5, 10.0), pads=[("thru_hole", 0, 5, 1.5, 0.9)]),
        # micro-B USB on the bottom edge (y = 70) of the narrow part: rotated 180 -> faces +y (down on screen)
        footprint(fmt, "Connector_USB:USB_Micro-B_Molex-105017-0001", "J2", (25.0, 67.5, 180),
                  courtyard=(-4.5, -3.0, 4.5, 2.5), pads=[("smd", 0, 1, 0.5, None)]),
        # a pin header in the middle (not an edge opening; opens through the lid only when asked)
        footprint(fmt, "Connector_PinHeader_2.54mm:PinHeader_1x04_P2.54mm_Vertical", "J3", (20.0, 30.0),
                  courtyard=(-1.8, -1.8, 1.8, 9.4), pads=[("thru_hole", 0, 0, 1.7, 1.0)]),
        footprint(fmt, "LED_SMD:LED_0603_1608Metric", "D1", (60.0, 10.0, 0),
                  courtyard=(-1.5, -0.75, 1.5, 0.75), pads=[("smd", -0.8, 0, 0.8, None)]),
        footprint(fmt, "Package_QFP:LQFP-32_7x7mm_P0.8mm", "U1", (30.0, 15.0, 0), side="bottom",
                  courtyard=(-5.0, -5.0, 5.0, 5.0), pads=[("smd", 0, 0, 1.0, None)]),
    ]
    return board(fmt, items, thickness=1.2)


# ----------------------------------------------------------------------------- KiCad 9
# A 60 x 40 mm board whose right end is a half circle (r = 20 around (60, 20)); six holes; the outline
# has a 0.02 mm gap (a hand-drawn board); a bottom-side part of an unknown library whose 3D model
# (models/tall_part.wrl, 4 units = 10.16 mm tall, scaled 1.5, raised 1 mm) gives its height.
def kicad9():
    fmt = "9"
    items = [
        gr("line", fmt, start=(0, 0), end=(60, 0)),
        gr("arc", fmt, start=(60, 0), mid=(80, 20), end=(60, 40)),
        gr("line", fmt, start=(60, 40), end=(0.02, 40)),  # 0.02 mm short of the corner
        gr("line", fmt, start=(0, 40), end=(0, 0)),
    ]
    for i, (hx, hy) in enumerate([(4, 4), (30, 4), (56, 4), (4, 36), (45, 30), (56, 36)], start=1):
        items.append(mounting_hole(fmt, f"H{i}", hx, hy))
    items += [
        # micro SD slot on the left edge (x = 0), mouth towards local -y, rotated 90 -> faces -x
        footprint(fmt, "Connector_Card:microSD_HC_Hirose_DM3AT-SF-PEJM5", "J1", (7.0, 20.0, 90),
                  courtyard=(-7.0, -7.0, 7.0, 7.0), pads=[("smd", 0, 0, 0.7, None)]),
        # USB-C on the bottom edge (y = 40), rotated 180 -> faces +y
        footprint(fmt, "Connector_USB:USB_C_Receptacle_HRO_TYPE-C-31-M-12", "J2", (30.0, 36.5, 180),
                  courtyard=(-5.0, -4.5, 5.0, 3.5), pads=[("smd", 0, 0, 0.6, None)]),
        footprint(fmt, "LED_SMD:LED_0805_2012Metric", "D1", (45.0, 20.0), pads=[("smd", 0, 0, 1.0, None)],
                  courtyard=(-1.7, -1.0, 1.7, 1.0)),
        footprint(fmt, "Vendor_Odd:TALL_PART", "U2", (20.0, 20.0, 30), side="bottom",
                  fab=(-3.0, -2.0, 3.0, 2.0), pads=[("smd", 0, 0, 1.0, None)],
                  model=("${KIPRJMOD}/models/tall_part.wrl", 1.0, 1.5)),
        footprint(fmt, "Resistor_SMD:R_0603_1608Metric", "R1", (65.0, 20.0, 0), side="bottom",
                  courtyard=(-1.5, -0.7, 1.5, 0.7), pads=[("smd", 0, 0, 0.8, None)]),
    ]
    return board(fmt, items)


TALL_PART_WRL = """#VRML V2.0 utf8
# A box 2 x 1.6 x 4 units (KiCad VRML units: 2.54 mm)
Shape { geometry IndexedFaceSet { coord Coordinate { point [
-1 -0.8 0, 1 -0.8 0, 1 0.8 0, -1 0.8 0, -1 -0.8 4, 1 -0.8 4, 1 0.8 4, -1 0.8 4 ] }
coordIndex [ 0 1 2 3 -1 4 5 6 7 -1 ] } }
"""

if __name__ == "__main__":
    (HERE / "kicad7_rounded_corners.kicad_pcb").write_text(kicad7())
    (HERE / "kicad8_l_shape.kicad_pcb").write_text(kicad8())
    (HERE / "kicad9_half_round.kicad_pcb").write_text(kicad9())
    (HERE / "models" / "tall_part.wrl").write_text(TALL_PART_WRL)


# ----------------------------------------------------------------------------- the family's sample board
# somana_core/intake/sample_board.kicad_pcb: what the configurator shows before a customer uploads a
# board. 70 x 45 mm, r = 4 mm rounded corners, four M3 holes 4 mm in, a USB-C at the left edge, a
# button and a status LED on top, a bottom-side capacitor.
def sample():
    fmt = "8"
    x0, y0, x1, y1, r = 100, 100, 170, 145, 4
    c = 1 - 2 ** -0.5
    items = [
        gr("line", fmt, start=(x0 + r, y0), end=(x1 - r, y0)),
        gr("arc", fmt, start=(x1 - r, y0), mid=(x1 - r * c, y0 + r * c), end=(x1, y0 + r)),
        gr("line", fmt, start=(x1, y0 + r), end=(x1, y1 - r)),
        gr("arc", fmt, start=(x1, y1 - r), mid=(x1 - r * c, y1 - r * c), end=(x1 - r, y1)),
        gr("line", fmt, start=(x1 - r, y1), end=(x0 + r, y1)),
        gr("arc", fmt, start=(x0 + r, y1), mid=(x0 + r * c, y1 - r * c), end=(x0, y1 - r)),
        gr("line", fmt, start=(x0, y1 - r), end=(x0, y0 + r)),
        gr("arc", fmt, start=(x0, y0 + r), mid=(x0 + r * c, y0 + r * c), end=(x0 + r, y0)),
    ]
    for i, (hx, hy) in enumerate([(x0 + 4, y0 + 4), (x1 - 4, y0 + 4), (x0 + 4, y1 - 4), (x1 - 4, y1 - 4)], start=1):
        items.append(mounting_hole(fmt, f"H{i}", hx, hy))
    items += [
        footprint(fmt, "Connector_USB:USB_C_Receptacle_GCT_USB4085", "J1", (104.0, 122.5, 90),
                  courtyard=(-5.0, -5.0, 5.0, 3.5), pads=[("thru_hole", -2, 2, 1.2, 0.7)]),
        footprint(fmt, "Button_Switch_SMD:SW_Push_1P1T_NO_6x6mm_H9.5mm", "SW1", (150.0, 122.5),
                  courtyard=(-4.0, -3.5, 4.0, 3.5), pads=[("smd", -3, 0, 1.5, None)]),
        footprint(fmt, "LED_SMD:LED_0603_1608Metric", "D1", (150.0, 112.0),
                  courtyard=(-1.5, -0.75, 1.5, 0.75), pads=[("smd", -0.8, 0, 0.8, None)]),
        footprint(fmt, "Package_SO:SOIC-8_3.9x4.9mm_P1.27mm", "U1", (125.0, 122.5, 0),
                  courtyard=(-3.7, -2.7, 3.7, 2.7), pads=[("smd", -2.5, 0, 0.6, None)]),
        footprint(fmt, "Capacitor_SMD:C_0805_2012Metric", "C1", (125.0, 135.0), side="bottom",
                  courtyard=(-1.7, -1.0, 1.7, 1.0), pads=[("smd", -1, 0, 1.0, None)]),
    ]
    return board(fmt, items)


if __name__ == "__main__":
    (HERE.parents[2] / "somana_core" / "intake" / "sample_board.kicad_pcb").write_text(sample())
