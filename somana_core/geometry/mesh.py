"""Triangle meshes for previews and mesh files: the `Mesh` record and the tessellation policy
(absolute deflection in mm, finer angles for small holes). The kernel does the meshing itself."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Angular deflection for meshes, radians: small holes (M2.5 pilot, 1.6 mm hinge pin) need it,
# the absolute deflection alone leaves them as triangles. Previews (deflection >= 0.1 mm) use a
# coarser angle: small letters and holes still read well, and meshing is faster.
ANGULAR_DEFLECTION_RAD = 0.3
PREVIEW_ANGULAR_DEFLECTION_RAD = 0.45
PREVIEW_FROM_MM = 0.1


@dataclass(frozen=True)
class Mesh:
    """A compact triangle mesh for a viewer: float32 vertices (n,3) mm, uint32 triangles (m,3),
    float32 feature edges (k,2,3) as segments."""

    vertices: np.ndarray
    triangles: np.ndarray
    edges: np.ndarray

    def transformed(self, matrix: np.ndarray) -> "Mesh":
        if np.allclose(matrix, np.eye(4)):
            return self
        rot, shift = matrix[:3, :3].astype(np.float32), matrix[:3, 3].astype(np.float32)
        return Mesh((self.vertices @ rot.T + shift).astype(np.float32), self.triangles,
                    (self.edges @ rot.T + shift).astype(np.float32))

    @property
    def nbytes(self) -> int:
        return self.vertices.nbytes + self.triangles.nbytes + self.edges.nbytes


def tessellate(shape, deflection_mm: float, with_edges: bool = True) -> Mesh:
    """Triangulate with an ABSOLUTE chordal deflection in mm (always re-meshed at that deflection)."""
    from somana_core.geometry import kernel

    angle = PREVIEW_ANGULAR_DEFLECTION_RAD if deflection_mm >= PREVIEW_FROM_MM else ANGULAR_DEFLECTION_RAD
    vertices, triangles, edges = kernel.triangulate(shape, deflection_mm, angle, with_edges)
    return Mesh(vertices.astype(np.float32), triangles.astype(np.uint32), edges.astype(np.float32))


def merged(mesh: Mesh) -> tuple[np.ndarray, np.ndarray]:
    """Vertices shared between faces merged (the B-rep gives identical coordinates on shared edges)."""
    unique, inverse = np.unique(mesh.vertices, axis=0, return_inverse=True)
    return unique, inverse.reshape(-1)[mesh.triangles].astype(np.int64)
