"""Can a part print as posed, without supports? Measured on its mesh (numpy + scipy, no CAD).

A downward-facing flat area above the bed is printed in the air: the slicer bridges it from its
edges. `longest_bridge_mm` is twice the largest distance from any point of such an area to its
nearest edge (the span a bridge must cross); `MAX_BRIDGE_MM` is what the shop accepts without sag.

A surface leaning more than `OVERHANG_ANGLE_DEG` from vertical, facing down, is an overhang: each
layer reaches out further than half its width past the one below and droops. `overhang_area_mm2`
sums that area (faces resting on the bed excepted). A default part printed without supports keeps it
under `MAX_UNSUPPORTED_OVERHANG_MM2` (tests/geometry/test_printability.py); what stays below it on
the default parts is short ledges (the 0.9 mm lips over an eyewear rim's lens groove), the tops of
small holes and slots, and the ceilings of engraved letters, all of which print unsupported.

Within a layer, a slicer cannot print an air gap narrower than about two nozzle widths: its perimeters
fuse across it or it drops the hole. `narrow_gaps` finds them in one layer (a horizontal section) as
a morphological closing finds them: the air a disc of one nozzle width cannot pass.
"""

from __future__ import annotations

import math

import numpy as np

MAX_BRIDGE_MM = 25.0        # a PLA bridge longer than this sags visibly at the profiles' bridge speed
DOWN_NORMAL_Z = -0.98       # a triangle facing down within about 11 degrees of vertical
ON_BED_MM = 0.05            # faces this close to z=0 rest on the bed
OVERHANG_ANGLE_DEG = 45.0   # from vertical: beyond this a downward face needs support (PrusaSlicer's own rule of thumb)
MAX_UNSUPPORTED_OVERHANG_MM2 = 300.0  # per part printed without supports: the default parts' ledges stay below


def _rasterise(triangles: np.ndarray, origin: np.ndarray, cell: float, shape: tuple[int, int]) -> np.ndarray:
    """Boolean grid (cells whose centres lie in any of the 2D triangles (k,3,2))."""
    grid = np.zeros(shape, dtype=bool)
    for tri in triangles:
        lo = np.floor((tri.min(axis=0) - origin) / cell).astype(int)
        hi = np.ceil((tri.max(axis=0) - origin) / cell).astype(int)
        lo = np.clip(lo, 0, np.array(shape) - 1)
        hi = np.clip(hi, 0, np.array(shape) - 1)
        ix, iy = np.meshgrid(np.arange(lo[0], hi[0] + 1), np.arange(lo[1], hi[1] + 1), indexing="ij")
        px = origin[0] + (ix + 0.5) * cell
        py = origin[1] + (iy + 0.5) * cell
        (x0, y0), (x1, y1), (x2, y2) = tri
        det = (y1 - y2) * (x0 - x2) + (x2 - x1) * (y0 - y2)
        if abs(det) < 1e-12:
            continue
        a = ((y1 - y2) * (px - x2) + (x2 - x1) * (py - y2)) / det
        b = ((y2 - y0) * (px - x2) + (x0 - x2) * (py - y2)) / det
        inside = (a >= -1e-9) & (b >= -1e-9) & (a + b <= 1 + 1e-9)
        grid[ix[inside], iy[inside]] = True
    return grid


def longest_bridge_mm(vertices: np.ndarray, triangles: np.ndarray, cell_mm: float = 0.25) -> float:
    """The longest unsupported span (mm) of a mesh in its print pose (resting on z=0)."""
    from scipy.ndimage import distance_transform_edt

    tri = np.asarray(vertices, dtype=float)[np.asarray(triangles)]
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    lengths = np.linalg.norm(normals, axis=1)
    keep = lengths > 1e-12
    tri, normals, lengths = tri[keep], normals[keep], lengths[keep]
    down = (normals[:, 2] / lengths < DOWN_NORMAL_Z) & (tri[:, :, 2].min(axis=1) > ON_BED_MM)
    if not down.any():
        return 0.0
    tri = tri[down]
    levels = np.round(tri[:, :, 2].mean(axis=1), 2)
    longest = 0.0
    for level in np.unique(levels):
        flat = tri[levels == level][:, :, :2]
        origin = flat.reshape(-1, 2).min(axis=0) - 2 * cell_mm
        size = flat.reshape(-1, 2).max(axis=0) + 2 * cell_mm - origin
        shape = tuple(int(n) for n in np.ceil(size / cell_mm))
        grid = _rasterise(flat, origin, cell_mm, shape)
        if grid.any():
            longest = max(longest, 2 * float(distance_transform_edt(grid).max()) * cell_mm)
    return longest


def overhang_area_mm2(vertices: np.ndarray, triangles: np.ndarray, angle_deg: float = OVERHANG_ANGLE_DEG,
                      on_bed_mm: float = ON_BED_MM) -> float:
    """Area (mm2) of a mesh in its print pose (resting on z=0) facing down more than `angle_deg` from
    vertical: its faces whose outward normal lies within 90 - angle_deg of straight down, except
    those resting on the bed (every vertex within `on_bed_mm` of z=0)."""
    tri = np.asarray(vertices, dtype=float)[np.asarray(triangles, dtype=np.int64)]
    if len(tri) == 0:
        return 0.0
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    doubled = np.linalg.norm(normals, axis=1)  # twice each triangle's area
    nz = np.divide(normals[:, 2], doubled, out=np.zeros_like(doubled), where=doubled > 1e-12)
    down = nz < -math.cos(math.radians(angle_deg))
    off_bed = tri[:, :, 2].max(axis=1) > on_bed_mm
    return float(doubled[down & off_bed].sum() / 2)


def _section_segments(vertices: np.ndarray, triangles: np.ndarray, z: float) -> np.ndarray:
    """The segments (k, 2, 2) where the plane at height z cuts a closed mesh's triangles."""
    tri = np.asarray(vertices, dtype=float)[np.asarray(triangles, dtype=np.int64)]
    d = tri[:, :, 2] - z
    above = d > 0
    crossing = above.any(axis=1) & ~above.all(axis=1)
    tri, d, above = tri[crossing], d[crossing], above[crossing]
    points = []
    for i, j in ((0, 1), (1, 2), (2, 0)):  # each triangle crosses exactly two of its edges
        cut = above[:, i] != above[:, j]
        t = np.where(cut, d[:, i] / np.where(cut, d[:, i] - d[:, j], 1.0), 0.0)
        points.append((cut, tri[:, i, :2] + t[:, None] * (tri[:, j, :2] - tri[:, i, :2])))
    segments = np.zeros((len(tri), 2, 2))
    filled = np.zeros(len(tri), dtype=int)
    for cut, p in points:
        rows = np.nonzero(cut & (filled < 2))[0]
        segments[rows, filled[rows]] = p[rows]
        filled[rows] += 1
    return segments[filled == 2]


def _fill_section(segments: np.ndarray, x0: float, y0: float, cell: float, shape: tuple[int, int]) -> np.ndarray:
    """Boolean grid (rows y, columns x) of the cell centres inside the closed section (even-odd rule:
    a crossing of a row toggles every cell to its right)."""
    rows_n, cols_n = shape
    a, b = segments[:, 0], segments[:, 1]
    lo, hi = np.minimum(a[:, 1], b[:, 1]), np.maximum(a[:, 1], b[:, 1])
    first = np.clip(np.ceil((lo - y0) / cell - 0.5), 0, rows_n).astype(np.int64)  # rows with lo <= y < hi
    stop = np.clip(np.ceil((hi - y0) / cell - 0.5), 0, rows_n).astype(np.int64)
    spans = np.maximum(stop - first, 0)
    seg = np.repeat(np.arange(len(segments)), spans)
    rows = np.repeat(first, spans) + (np.arange(spans.sum()) - np.repeat(np.cumsum(spans) - spans, spans))
    y = y0 + (rows + 0.5) * cell
    t = (y - a[seg, 1]) / (b[seg, 1] - a[seg, 1])
    x = a[seg, 0] + t * (b[seg, 0] - a[seg, 0])
    cols = np.clip(np.floor((x - x0) / cell - 0.5).astype(np.int64) + 1, 0, cols_n)
    toggles = np.zeros((rows_n, cols_n + 1), dtype=np.int64)
    np.add.at(toggles, (rows, cols), 1)
    return (np.cumsum(toggles, axis=1)[:, :cols_n] % 2) == 1


def narrow_gaps(vertices: np.ndarray, triangles: np.ndarray, z: float, gap_mm: float, cell_mm: float = 0.025,
                window: tuple[float, float, float, float] | None = None) -> list[dict]:
    """The air gaps of the layer at height z narrower than `gap_mm` (in `window` = (x0, y0, x1, y1), mm,
    default the whole layer): what a disc of diameter `gap_mm` cannot enter between material. Each:
    width_mm (twice the largest distance from the gap to material: the gap's widest point), area_mm2
    and where it is widest (x, y). A corner of the outline is a gap that narrows to nothing: one of
    opening angle A gives width gap_mm x (1 - sin(A/2)) (0.3 of the gap at 90 degrees)."""
    from scipy.ndimage import distance_transform_edt, label

    segments = _section_segments(vertices, triangles, z)
    if len(segments) == 0:
        return []
    lo, hi = segments.reshape(-1, 2).min(axis=0), segments.reshape(-1, 2).max(axis=0)
    if window is not None:
        lo, hi = np.maximum(lo, window[:2]), np.minimum(hi, window[2:])
    margin = gap_mm + 2 * cell_mm
    x0, y0 = lo - margin
    shape = tuple(int(n) for n in np.ceil((hi - lo + 2 * margin) / cell_mm))[::-1]
    material = _fill_section(segments, x0, y0, cell_mm, shape)
    radius = gap_mm / 2 / cell_mm
    reached = distance_transform_edt(~material) <= radius  # material grown by half the gap
    closed = distance_transform_edt(reached) > radius  # and shrunk back: narrow air is filled
    gaps = closed & ~material
    to_material = distance_transform_edt(~material) * cell_mm
    labels, count = label(gaps)
    found = []
    for k in range(1, count + 1):
        cells = labels == k
        if cells.sum() < 4:  # the grid's own noise along an edge
            continue
        row, col = np.unravel_index(np.argmax(np.where(cells, to_material, -1.0)), cells.shape)
        found.append({"width_mm": round(2 * float(to_material[row, col]), 3),
                      "area_mm2": round(float(cells.sum()) * cell_mm ** 2, 4),
                      "x": round(float(x0 + (col + 0.5) * cell_mm), 2), "y": round(float(y0 + (row + 0.5) * cell_mm), 2)})
    return found


BRIDGE_SUPPORT_DEPTH_MM = 0.1  # how far below a ceiling the material that anchors its bridge is looked for


def overhang_split_mm2(vertices: np.ndarray, triangles: np.ndarray, cell_mm: float = 0.25,
                       angle_deg: float = OVERHANG_ANGLE_DEG, on_bed_mm: float = ON_BED_MM) -> dict:
    """`overhang_area_mm2` split into what the slicer bridges and what hangs: a flat downward area (a
    ceiling, within about 11 degrees of level) is bridged where, along x or along y, the run of its
    cells through a point ends at material on BOTH sides just below it (the bridge's anchors); the rest
    of the overhang (sloping undersides, ledges anchored on one side only) is `hanging_mm2`.
    Returns {"overhang_mm2", "bridged_mm2", "hanging_mm2"} (bridged + hanging = overhang)."""
    tri = np.asarray(vertices, dtype=float)[np.asarray(triangles, dtype=np.int64)]
    total = overhang_area_mm2(vertices, triangles, angle_deg, on_bed_mm)
    bridged = 0.0
    if len(tri):
        normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        doubled = np.linalg.norm(normals, axis=1)
        nz = np.divide(normals[:, 2], doubled, out=np.zeros_like(doubled), where=doubled > 1e-12)
        flat = (nz < DOWN_NORMAL_Z) & (nz < -math.cos(math.radians(angle_deg))) & (tri[:, :, 2].max(axis=1) > on_bed_mm)
        levels = np.round(tri[:, :, 2].mean(axis=1), 2)
        for level in np.unique(levels[flat]):
            here = flat & (levels == level)
            ceiling = tri[here][:, :, :2]
            origin = ceiling.reshape(-1, 2).min(axis=0) - 2 * cell_mm
            size = ceiling.reshape(-1, 2).max(axis=0) + 2 * cell_mm - origin
            shape = tuple(int(n) for n in np.ceil(size / cell_mm))
            region = _rasterise(ceiling, origin, cell_mm, shape)
            cells = int(region.sum())
            if cells == 0:
                continue
            below = _section_segments(vertices, triangles, float(level) - BRIDGE_SUPPORT_DEPTH_MM)
            support = (_fill_section(below, origin[0], origin[1], cell_mm, shape[::-1]).T if len(below)
                       else np.zeros(shape, dtype=bool)) & ~region
            anchored = _anchored_both_ends(region, support, axis=0) | _anchored_both_ends(region, support, axis=1)
            bridged += float(doubled[here].sum() / 2) * (anchored & region).sum() / cells
    bridged = min(bridged, total)
    return {"overhang_mm2": total, "bridged_mm2": bridged, "hanging_mm2": total - bridged}


def _anchored_both_ends(region: np.ndarray, support: np.ndarray, axis: int) -> np.ndarray:
    """Cells of `region` whose run along `axis` has a `support` cell just past each of its two ends."""
    grid = np.moveaxis(region, axis, 0)
    held = np.moveaxis(support, axis, 0)
    out = np.zeros_like(grid)
    n = grid.shape[0]
    for j in range(grid.shape[1]):  # one line of cells at a time: runs of region cells
        line = grid[:, j]
        if not line.any():
            continue
        edges = np.diff(np.concatenate(([0], line.astype(np.int8), [0])))
        for start, stop in zip(np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]):
            if start > 0 and stop < n and held[start - 1, j] and held[stop, j]:
                out[start:stop, j] = True
    return np.moveaxis(out, 0, axis)
