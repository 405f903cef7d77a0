"""The per-part cache (a lid text change does not rebuild the base) and the preview meshes
(compact arrays, absolute deflection in mm, positioned as the assembled product)."""

from __future__ import annotations

import numpy as np
import pytest

from somana_core.geometry import FAMILIES, build, make_spec
from somana_core.geometry.kernel import bounding_box
from somana_core.geometry.mesh import Mesh, tessellate


def test_changing_the_lid_text_rebuilds_only_the_lid(defaults):
    first = defaults["sensor_enclosure"]
    second = build(make_spec("sensor_enclosure", {"text": "Grace"}))
    assert second.parts["base"] is first.parts["base"]
    assert second.parts["lid"] is not first.parts["lid"]
    again = build(make_spec("sensor_enclosure", {}))
    assert again.parts["lid"] is first.parts["lid"], "the same values come back from the cache"


def test_changing_the_wall_rebuilds_both_enclosure_parts(defaults):
    first = defaults["kit_enclosure"]
    second = build(make_spec("kit_enclosure", {"wall": "2.4"}))
    assert all(second.parts[p] is not first.parts[p] for p in ("base", "lid"))


def test_pupillary_distance_rebuilds_nothing_and_temple_text_not_the_front(defaults):
    first = defaults["eyewear_frame"]
    pd = build(make_spec("eyewear_frame", {"pupillary_distance": "65"}))
    assert all(pd.parts[p] is first.parts[p] for p in first.parts)
    text = build(make_spec("eyewear_frame", {"text": "Ada"}))
    assert text.parts["front"] is first.parts["front"]
    assert text.parts["left_temple"] is not first.parts["left_temple"]
    # the frame marking (A, DBL) is engraved in the right temple only: a lens change keeps the left one
    lens = build(make_spec("eyewear_frame", {"lens_width": "49"}))
    assert lens.parts["left_temple"] is first.parts["left_temple"]
    assert lens.parts["right_temple"] is not first.parts["right_temple"]


@pytest.mark.parametrize("family", list(FAMILIES))
def test_preview_meshes_are_compact_arrays_for_every_part(defaults, family):
    product = defaults[family]
    preview = product.preview(0.1)
    assert list(preview) == list(FAMILIES[family].parts)
    for name, mesh in preview.items():
        assert isinstance(mesh, Mesh)
        assert mesh.vertices.dtype == np.float32 and mesh.vertices.shape[1] == 3
        assert mesh.triangles.dtype == np.uint32 and mesh.triangles.shape[1] == 3
        assert mesh.edges.dtype == np.float32 and mesh.edges.shape[1:] == (2, 3)
        assert mesh.triangles.max() < len(mesh.vertices)
        assert len(mesh.edges) > 10
    one = product.preview(0.1, part=FAMILIES[family].parts[-1])
    assert list(one) == [FAMILIES[family].parts[-1]]


def test_preview_deflection_is_absolute_in_mm(defaults):
    """Finer deflection, more triangles; and every vertex of a coarse mesh of a cylinder lies on it,
    every chord within the deflection asked (mm, not relative to the part's size)."""
    import cadquery as cq

    radius = 40.0
    cylinder = cq.Solid.makeCylinder(radius, 10)
    for deflection in (0.5, 0.1, 0.02):
        mesh = tessellate(cylinder, deflection)
        r = np.hypot(mesh.vertices[:, 0], mesh.vertices[:, 1])
        side = r > radius - 1e-3
        assert np.allclose(r[side], radius, atol=1e-4)
        rim = mesh.vertices[side & (mesh.vertices[:, 2] == 0)]
        angles = np.sort(np.arctan2(rim[:, 1], rim[:, 0]))
        chord_step = np.diff(angles).max()
        sagitta = radius * (1 - np.cos(chord_step / 2))
        assert sagitta <= deflection + 1e-6
    coarse = len(tessellate(cylinder, 0.5).triangles)
    fine = len(tessellate(cylinder, 0.02).triangles)
    assert fine > 3 * coarse
    product = defaults["eyewear_frame"]  # big lens curves: the deflection, not the angle, decides
    assert len(product.preview(0.02)["front"].triangles) > 1.5 * len(product.preview(0.3)["front"].triangles)


def test_preview_shows_the_assembled_product_while_parts_lie_in_print_pose(defaults):
    product = defaults["sensor_enclosure"]
    lid_print_min, _ = bounding_box(product.parts["lid"])  # exact (not the triangulation's padded box)
    assert lid_print_min[2] == pytest.approx(0, abs=0.05)  # resting on the plate, upside down
    preview = product.preview(0.2)
    base_top = preview["base"].vertices[:, 2].max()
    assert preview["lid"].vertices[:, 2].max() > base_top  # the lid on top of the base
    placement = product.placement("lid")
    assert placement.shape == (4, 4) and np.allclose(placement[3], [0, 0, 0, 1])


def test_an_edited_board_table_is_not_hidden_by_the_cache(defaults, tmp_path, monkeypatch):
    import shutil

    from somana_core.data import data_dir
    from somana_core.geometry.kit_enclosure import Board

    for name in ("materials.csv", "machines.csv", "boards.csv", "batteries.csv"):
        shutil.copy(data_dir() / name, tmp_path / name)
    monkeypatch.setenv("SOMANA_DATA_DIR", str(tmp_path))
    first = build(make_spec("kit_enclosure", {}))
    table = (tmp_path / "boards.csv").read_text().replace("arduino_uno_r3,Arduino Uno R3,68.58,53.34",
                                                           "arduino_uno_r3,Arduino Uno R3,70.58,53.34")
    (tmp_path / "boards.csv").write_text(table)
    assert Board("arduino_uno_r3").length == 70.58
    second = build(make_spec("kit_enclosure", {}))
    assert second.parts["base"] is not first.parts["base"]
    assert second.metrics()["parts"]["base"]["bbox_mm"][0] == pytest.approx(
        first.metrics()["parts"]["base"]["bbox_mm"][0] + 2, abs=1e-3)
