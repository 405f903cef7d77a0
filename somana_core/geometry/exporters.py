"""Part files: binary STL, 3MF (core spec) and STEP, each written atomically (temp file in the same
folder, then rename), so a reader never sees half a file and a failure leaves nothing behind."""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from somana_core.geometry.mesh import Mesh, merged

def atomic_write(path: Path, write) -> None:
    """Write via a temp file in the same folder, then rename: a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a part file is an ordinary file
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_stl(path: Path, meshes: list[Mesh]) -> None:
    """Binary STL: all meshes' triangles, each mesh a separate closed body."""
    tris = [m.vertices.astype(np.float32)[m.triangles] for m in meshes]
    tri = np.concatenate(tris) if tris else np.zeros((0, 3, 3), np.float32)
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    lengths = np.linalg.norm(normals, axis=1, keepdims=True)
    normals = np.divide(normals, lengths, out=np.zeros_like(normals), where=lengths > 0)
    record = np.zeros(len(tri), dtype=[("n", "<f4", 3), ("v", "<f4", (3, 3)), ("attr", "<u2")])
    record["n"], record["v"] = normals, tri
    with open(path, "wb") as fh:
        fh.write(b"somana binary STL".ljust(80, b" "))
        fh.write(np.uint32(len(tri)).tobytes())
        fh.write(record.tobytes())


def write_3mf(path: Path, named_meshes: list[tuple[str, Mesh]]) -> None:
    """3MF core spec: one object (with its own merged vertices) and one build item per part, in mm."""
    objects, items = [], []
    for obj_id, (name, mesh) in enumerate(named_meshes, start=1):
        verts, tris = merged(mesh)
        vxml = "".join(f'<vertex x="{x:.5f}" y="{y:.5f}" z="{z:.5f}"/>' for x, y, z in verts)
        txml = "".join(f'<triangle v1="{a}" v2="{b}" v3="{c}"/>' for a, b, c in tris)
        objects.append(f'<object id="{obj_id}" name="{name}" type="model"><mesh><vertices>{vxml}'
                       f"</vertices><triangles>{txml}</triangles></mesh></object>")
        items.append(f'<item objectid="{obj_id}"/>')
    model = ('<?xml version="1.0" encoding="UTF-8"?>\n'
             '<model unit="millimeter" xml:lang="en-US" '
             'xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02">'
             f'<resources>{"".join(objects)}</resources><build>{"".join(items)}</build></model>')
    content_types = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                     '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                     '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                     '<Default Extension="model" ContentType="application/vnd.ms-package.3dmanufacturing-3dmodel+xml"/>'
                     "</Types>")
    rels = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Target="/3D/3dmodel.model" Id="rel0" '
            'Type="http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel"/></Relationships>')
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", content_types)
        zf.writestr("_rels/.rels", rels)
        zf.writestr("3D/3dmodel.model", model)


def write_step(path: Path, shapes: list) -> None:
    from somana_core.geometry import kernel

    kernel.export_step(path, shapes)
