"""Shared builds for the geometry tests: geometry is slow, so each product is built once per session
and the tests read it. Checks on meshes live here so every test judges a part the same way."""

from __future__ import annotations

import zipfile
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import trimesh

from somana_core.geometry import FAMILIES, build, make_spec

# Every part of every product must satisfy these (the "printable, proven").
VOLUME_TOLERANCE = 0.005  # mesh volume vs the solid's volume


def check_part_printable(product, name, tmp_path) -> dict:
    """One valid solid; its exported STL watertight, a valid volume, within 0.5% of the solid."""
    shape = product.parts[name]
    assert shape.isValid(), f"{name} is not a valid solid"
    assert len(shape.Solids()) == 1, f"{name} has {len(shape.Solids())} solids"
    path = product.export(tmp_path / f"{product.family}-{name}.stl", part=name)
    mesh = trimesh.load(path, process=False)  # no repair: judge the file as written
    mesh.merge_vertices()
    assert mesh.is_watertight, f"{name}: STL has open edges"
    assert mesh.is_winding_consistent, f"{name}: STL winding inconsistent"
    assert mesh.is_volume, f"{name}: STL is not a valid volume"
    solid_volume = shape.Volume()
    assert mesh.volume == pytest.approx(solid_volume, rel=VOLUME_TOLERANCE)
    return {"mesh": mesh, "solid_volume": solid_volume}


def read_3mf(path) -> list[trimesh.Trimesh]:
    """The objects of a 3MF file (parsed directly: no networkx needed)."""
    ns = {"m": "http://schemas.microsoft.com/3dmanufacturing/core/2015/02"}
    with zipfile.ZipFile(path) as zf:
        root = ET.fromstring(zf.read("3D/3dmodel.model"))
    assert root.get("unit") == "millimeter"
    meshes = []
    for obj in root.findall("m:resources/m:object", ns):
        verts = np.array([[float(v.get(a)) for a in "xyz"] for v in obj.findall("m:mesh/m:vertices/m:vertex", ns)])
        tris = np.array([[int(t.get(a)) for a in ("v1", "v2", "v3")]
                         for t in obj.findall("m:mesh/m:triangles/m:triangle", ns)])
        meshes.append(trimesh.Trimesh(verts, tris, process=False))
    assert len(root.findall("m:build/m:item", ns)) == len(meshes)
    return meshes


@pytest.fixture(scope="session")
def defaults():
    """Every family built at its defaults: {family: Product}."""
    return {name: build(make_spec(name, {})) for name in FAMILIES}


@pytest.fixture(scope="session")
def checks():
    class Checks:
        part_printable = staticmethod(check_part_printable)
        read_3mf = staticmethod(read_3mf)
    return Checks
