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
