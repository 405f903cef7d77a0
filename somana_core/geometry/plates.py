"""Build plates: parts in their print poses laid out in two dimensions on a printer's bed, or split
over several plates when they do not fit on one (pure arithmetic on footprints, no CAD).

A part may turn 90 degrees about z to fit. The usable bed keeps `BED_EDGE_MM` free at every edge for
the slicer's skirt (data/slicer profiles: one loop 3 mm from the part), so a plate that fits here
is one the slicer accepts.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

BED_EDGE_MM = 5.0   # free border on every side of the bed: the skirt (3 mm away) plus its line
PART_GAP_MM = 6.0   # between parts on one plate: room for the nozzle and to pry parts off


@dataclass(frozen=True)
class Placed:
    """One part on a plate: its footprint's lower-left corner on the bed (mm, bed origin) and
    whether it was turned 90 degrees about z (then its x and y sizes swap)."""

    part: str
    x_mm: float
    y_mm: float
    turned: bool
    size_x_mm: float
    size_y_mm: float


def usable_bed(bed_x_mm: float, bed_y_mm: float) -> tuple[float, float]:
    return bed_x_mm - 2 * BED_EDGE_MM, bed_y_mm - 2 * BED_EDGE_MM


def fits_bed(size_x: float, size_y: float, bed_x_mm: float, bed_y_mm: float) -> bool:
    """True if one footprint fits the usable bed as it is or turned 90 degrees."""
    ux, uy = usable_bed(bed_x_mm, bed_y_mm)
    return (size_x <= ux and size_y <= uy) or (size_y <= ux and size_x <= uy)


def _shelves(order, turns, sizes, ux, uy):
    """Rows left to right, wrapping to a new row above: the placements, or None if they overflow."""
    placed, x, y, row = [], 0.0, 0.0, 0.0
    for name, turned in zip(order, turns):
        sx, sy = sizes[name][::-1] if turned else sizes[name]
        if sx > ux or sy > uy:
            return None
        if x > 0 and x + sx > ux:
            x, y, row = 0.0, y + row + PART_GAP_MM, 0.0
        if y + sy > uy:
            return None
        placed.append(Placed(name, BED_EDGE_MM + x, BED_EDGE_MM + y, turned, sx, sy))
        x += sx + PART_GAP_MM
        row = max(row, sy)
    return placed


def _best_single_plate(names, sizes, ux, uy):
    """The most compact shelf layout of `names` on one plate (every order and turn tried: a product
    has a handful of parts), or None."""
    best, best_area = None, None
    for order in itertools.permutations(names):
        for turns in itertools.product((False, True), repeat=len(order)):
            placed = _shelves(order, turns, sizes, ux, uy)
            if placed is None:
                continue
            w = max(p.x_mm + p.size_x_mm for p in placed)
            h = max(p.y_mm + p.size_y_mm for p in placed)
            if best_area is None or w * h < best_area - 1e-9:
                best, best_area = placed, w * h
    return best


def pack(sizes: dict[str, tuple[float, float]], bed_x_mm: float, bed_y_mm: float) -> list[list[Placed]]:
    """Plates (each a list of placed parts) holding every part, as few plates as possible.

    sizes: part -> (x, y) footprint in its print pose, mm. Raises ValueError naming a part that fits
    no plate even alone (validation refuses such specs before CAD: see FamilySpec.check_build_volume)."""
    ux, uy = usable_bed(bed_x_mm, bed_y_mm)
    for name, (sx, sy) in sizes.items():
        if not fits_bed(sx, sy, bed_x_mm, bed_y_mm):
            raise ValueError(f"{name} ({sx:.0f} x {sy:.0f} mm) does not fit the usable bed ({ux:.0f} x {uy:.0f} mm)")
    left = sorted(sizes, key=lambda n: -sizes[n][0] * sizes[n][1])  # largest first
    plates = []
    while left:
        # the largest group of the remaining parts that shares one plate (largest parts first)
        chosen = None
        for k in range(len(left), 0, -1):
            for group in itertools.combinations(left, k):
                chosen = _best_single_plate(group, sizes, ux, uy)
                if chosen is not None:
                    break
            if chosen is not None:
                break
        plates.append(chosen)
        left = [n for n in left if n not in {p.part for p in chosen}]
    return plates


def plate_path(path, index: int):
    """The file of plate `index` (0-based): plate 0 is `path` itself, plate k is NAME.plateK+1.SUFFIX."""
    from pathlib import Path

    path = Path(path)
    return path if index == 0 else path.with_name(f"{path.stem}.plate{index + 1}{path.suffix}")
