"""A still image of a product's preview meshes (matplotlib, headless): the gallery notebook's
fallback when no 3D viewer is available, and a quick look for people and tests."""

from __future__ import annotations

import numpy as np

PART_COLOURS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52")


def render_preview(meshes: dict, ax=None, title: str | None = None, elev: float = 25.0, azim: float = -60.0):
    """Draw {part: Mesh} shaded on a 3D matplotlib axis; returns the axis."""
    import matplotlib.pyplot as plt
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    if ax is None:
        fig = plt.figure(figsize=(6, 5))
        ax = fig.add_subplot(projection="3d")
    light = np.array([0.3, -0.5, 0.8])
    light /= np.linalg.norm(light)
    lo, hi = np.full(3, np.inf), np.full(3, -np.inf)
    for i, (name, mesh) in enumerate(meshes.items()):
        tri = mesh.vertices[mesh.triangles]
        normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        norm = np.linalg.norm(normals, axis=1, keepdims=True)
        normals = np.divide(normals, norm, out=np.zeros_like(normals), where=norm > 0)
        shade = 0.35 + 0.65 * np.clip(normals @ light, 0, 1)
        base = np.array(_rgb(PART_COLOURS[i % len(PART_COLOURS)]))
        colours = np.clip(shade[:, None] * base[None, :], 0, 1)
        ax.add_collection3d(Poly3DCollection(tri, facecolors=colours, edgecolor="none", label=name))
        lo, hi = np.minimum(lo, mesh.vertices.min(axis=0)), np.maximum(hi, mesh.vertices.max(axis=0))
    centre, span = (lo + hi) / 2, (hi - lo).max() / 2
    ax.set_xlim(centre[0] - span, centre[0] + span)
    ax.set_ylim(centre[1] - span, centre[1] + span)
    ax.set_zlim(centre[2] - span, centre[2] + span)
    ax.set_box_aspect((1, 1, 1))
    ax.view_init(elev=elev, azim=azim)
    ax.set_xlabel("x mm")
    ax.set_ylabel("y mm")
    ax.set_zlabel("z mm")
    if title:
        ax.set_title(title)
    return ax


def _rgb(hex_colour: str) -> tuple[float, float, float]:
    h = hex_colour.lstrip("#")
    return tuple(int(h[i:i + 2], 16) / 255 for i in (0, 2, 4))
