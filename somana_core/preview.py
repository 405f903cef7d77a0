"""What a 3D preview sends to a browser, and the bookkeeping of a live configuration session.

`mesh_payload` turns preview meshes (one per part) into the compact payload the three.js viewer
draws: base64 little-endian float32 vertices, uint32 triangle indices and float32 edge segments.
`PreviewTickets` makes sure a slow rebuild that finishes after a newer one never replaces it.
No view code here: the Panel app (dashboards/configure.py) and the static gallery both call this.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

# The configurator's preview meshes: absolute deflection in mm (coarse enough to mesh fast, fine
# enough that letters and screw holes read).
PREVIEW_DEFLECTION_MM = 0.1


def _b64(array: np.ndarray, dtype: str) -> str:
    return base64.b64encode(np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<")).tobytes()).decode("ascii")


def merge_meshes(meshes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One (vertices (n,3), triangles (m,3), edges (k,2,3)) triple from a mesh or a mapping part -> mesh.

    A mesh is anything with `vertices`, `triangles` and `edges` arrays (somana_core.geometry's Mesh).
    """
    parts = list(meshes.values()) if isinstance(meshes, Mapping) else [meshes]
    if not parts:
        raise ValueError("no mesh to preview")
    vertices, triangles, edges = [], [], []
    offset = 0
    for mesh in parts:
        v = np.asarray(mesh.vertices, dtype=np.float32).reshape(-1, 3)
        t = np.asarray(mesh.triangles, dtype=np.int64).reshape(-1, 3)
        e = np.asarray(getattr(mesh, "edges", np.empty((0, 2, 3))), dtype=np.float32).reshape(-1, 2, 3)
        if t.size and (t.min() < 0 or t.max() >= len(v)):
            raise ValueError("a triangle refers to a vertex that does not exist")
        vertices.append(v)
        triangles.append(t + offset)
        edges.append(e)
        offset += len(v)
    return (np.concatenate(vertices), np.concatenate(triangles).astype(np.uint32), np.concatenate(edges))


def mesh_payload(meshes, revision: int = 0, fit: bool = False, color: str | None = None) -> dict:
    """The viewer's payload: base64 buffers plus counts and bounding box (mm) for tests and captions.

    `fit` asks the viewer to frame the part again (a new family); otherwise the person's camera stays.
    """
    vertices, triangles, edges = merge_meshes(meshes)
    payload = {
        "vertices": _b64(vertices, "float32"),
        "triangles": _b64(triangles, "uint32"),
        "edges": _b64(edges, "float32"),
        "vertex_count": int(len(vertices)),
        "triangle_count": int(len(triangles)),
        "edge_count": int(len(edges)),
        "bbox_mm": (vertices.min(axis=0).round(3).tolist() + vertices.max(axis=0).round(3).tolist())
        if len(vertices) else [0.0] * 6,
        "revision": int(revision),
        "fit": bool(fit),
    }
    if color:
        payload["color"] = color
    return payload


def decode_payload(payload: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The arrays back from a payload (what the browser sees): vertices (n,3), triangles (m,3), edges (k,2,3)."""
    def arr(key, dtype, shape):
        raw = base64.b64decode(payload[key]) if payload.get(key) else b""
        return np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).reshape(shape)
    return arr("vertices", "float32", (-1, 3)), arr("triangles", "uint32", (-1, 3)), arr("edges", "float32", (-1, 2, 3))


@dataclass
class PreviewTickets:
    """Orders rebuild requests: each change takes a ticket; only the newest finished one may be shown.

    A configurator starts a rebuild in a worker process on every change; two changes in quick
    succession can finish out of order. `accept(ticket)` is True only for the newest ticket, so
    the view never goes backwards; `reject(ticket)` records that the newest one failed (the last
    good view stays). `busy` is True while the newest request has not finished either way.
    """
    issued: int = 0
    shown: int = 0
    settled: int = 0

    def __post_init__(self):
        self._lock = threading.Lock()

    def take(self) -> int:
        with self._lock:
            self.issued += 1
            return self.issued

    def is_current(self, ticket: int) -> bool:
        return ticket == self.issued

    def accept(self, ticket: int) -> bool:
        with self._lock:
            if ticket != self.issued:
                return False
            self.shown = self.settled = ticket
            return True

    def reject(self, ticket: int) -> None:
        with self._lock:
            if ticket == self.issued:
                self.settled = ticket

    @property
    def busy(self) -> bool:
        return self.settled < self.issued


def warm_up(material: str | None = None) -> dict:
    """Fill the process's caches before a server accepts its first session: import CadQuery, then
    build, measure, quote and tessellate (at PREVIEW_DEFLECTION_MM) the default product of every
    family, so the first person to open the configurator waits no longer than the next one.

    Returns seconds per step (family name -> s, plus "import_s") for the server's start-up line; a
    family that cannot be warmed is reported as "failed: why" (the configurator shows the same error
    when someone picks it), the others are still warmed.
    """
    import time

    started = time.perf_counter()
    from somana_core import geometry, quote
    from somana_core.geometry import kernel  # noqa: F401 - imports CadQuery and OCP (about 2 s)

    timings: dict = {"import_s": round(time.perf_counter() - started, 3)}
    material = material or str(geometry.materials()["material"].iloc[0])  # the configurator's default
    for family in geometry.FAMILIES:
        t0 = time.perf_counter()
        try:
            spec = geometry.make_spec(family, {})
            product = geometry.build(spec)
            metrics = product.metrics(material)
            mesh_payload(product.preview(PREVIEW_DEFLECTION_MM))
            quote.quote_product(metrics, family, qty=1, material=material, machine=getattr(spec, "machine", None))
        except Exception as exc:  # noqa: BLE001 - one family's data problem must not stop the others warming
            timings[family] = f"failed: {exc}"
            continue
        timings[family] = round(time.perf_counter() - t0, 3)
    return timings
