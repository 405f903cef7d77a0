from __future__ import annotations

import pytest
import trimesh


@pytest.fixture
def box_stl(tmp_path):
    """A 40 x 30 x 20 mm box as an STL (a real part the slicer can print)."""
    path = tmp_path / "box.stl"
    trimesh.creation.box((40, 30, 20)).export(path)
    return path
