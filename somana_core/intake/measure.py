"""Measure a built board enclosure against the board it was made for: where the standoffs' screw
holes really are, how far the inner wall really stands from the board edge, whether each plug's
path is free. Reads the built solid and its mesh (no CadQuery import here: the solid's own methods
and the product's mesh are enough), so the numbers are of the part that is printed.
"""

from __future__ import annotations

import numpy as np


def standoff_axes_kicad(product) -> np.ndarray:
    """Centres (KiCad board coordinates, mm) of the screw pilot holes at the standoffs' tops, read
    from the circular edges of the base solid in its assembled frame."""
    from somana_core.geometry.board_enclosure import layout_of

    spec = product.spec
    lay = layout_of(spec)
    base = product.parts["base"]
    to_assembled = product.placement("base")
    found = []
    for edge in base.Edges():
        if edge.geomType() != "CIRCLE" or abs(edge.radius() - spec.screw_hole / 2) > 1e-6:
            continue
        c = edge.arcCenter()
        x, y, z, _ = to_assembled @ np.array([c.x, c.y, c.z, 1.0])
        if abs(z - lay.z_board_bottom) < 1e-6:
            found.append((x, y))
    if not found:
        return np.zeros((0, 2))
    return lay.board.from_enclosure(np.array(found))


def hole_errors_mm(product) -> list[float]:
    """For each KiCad hole, the distance (mm) to the nearest measured standoff axis."""
    axes = standoff_axes_kicad(product)
    board = product.spec.layout().board
    errors = []
    for hole in board.holes:
        d = np.hypot(axes[:, 0] - hole.x, axes[:, 1] - hole.y) if len(axes) else np.array([np.inf])
        errors.append(float(d.min()))
    return errors


def mesh_section(vertices: np.ndarray, triangles: np.ndarray, z: float) -> np.ndarray:
    """Segments (k, 2, 2) where the plane at height z cuts a triangle mesh."""
    tri = vertices[triangles].astype(float)
    above = tri[:, :, 2] > z
    crossing = above.any(axis=1) & ~above.all(axis=1)
    segments = []
    for t, a in zip(tri[crossing], above[crossing]):
        pts = []
        for i, j in ((0, 1), (1, 2), (2, 0)):
            if a[i] != a[j]:
                s = (z - t[i, 2]) / (t[j, 2] - t[i, 2])
                pts.append(t[i, :2] + s * (t[j, :2] - t[i, :2]))
        if len(pts) == 2:
            segments.append(pts)
    return np.array(segments).reshape(-1, 2, 2)


def wall_clearance_mm(product, deflection_mm: float = 0.01) -> dict:
    """Distance from the inner wall to the board outline, measured on a section of the base's mesh
    just above the board, away from the plug cutouts: {"min", "median", "max", "points"} in mm (the
    set clearance is the target). Measured from the wall: at a notch in the board the wall's corner
    is `clearance` from both edges, while the notch's corner is further from it."""
    from somana_core.intake.kicad import distance_to_polygon

    spec = product.spec
    lay = spec.layout()
    mesh = product.mesh("base", deflection_mm).transformed(product.placement("base"))
    z = lay.z_board_top + 0.3
    segments = mesh_section(mesh.vertices, mesh.triangles, z)
    wall_points = segments.reshape(-1, 2)
    outline = lay.outline
    d = distance_to_polygon(wall_points, outline)
    keep = d < spec.clearance + spec.wall / 2          # the inner face, not the outer one
    for cut in lay.cutouts:  # the wall is open there by design
        t = np.array([-cut.normal[1], cut.normal[0]])
        rel = wall_points - cut.mouth
        half = max(cut.width_mm, cut.body_width_mm) / 2 + spec.plug_fit + 0.5
        keep &= ~((np.abs(rel @ t) < half) & (rel @ cut.normal > cut.start_mm - 1.0))
    d = d[keep]
    return {"min": float(d.min()), "median": float(np.median(d)), "max": float(d.max()), "points": int(keep.sum())}


def interferences(product) -> list[str]:
    """Re-run the interference check on the built base: [] when the board, its parts near the wall
    and every plug are clear of the solid (the build already refused otherwise)."""
    from somana_core.errors import InputError
    from somana_core.geometry import kernel
    from somana_core.geometry.board_enclosure import check_interference

    spec = product.spec
    assembled = kernel.apply_matrix(product.parts["base"], product.placement("base"))
    try:
        check_interference(spec, spec.layout(), assembled)
    except InputError as exc:
        return [exc.message]
    return []
