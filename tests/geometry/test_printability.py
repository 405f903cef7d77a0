"""Overhangs measured on meshes in print pose: the area a slicer prints in the air. Known answers on
simple solids, then every family's default parts against the threshold they must keep when the slicer
prints them without supports."""

from __future__ import annotations

import math

import numpy as np
import pytest
import trimesh

from somana_core.geometry.printability import (MAX_UNSUPPORTED_OVERHANG_MM2, ON_BED_MM, OVERHANG_ANGLE_DEG,
                                               narrow_gaps, overhang_area_mm2, overhang_split_mm2)
from somana_core.slicing import profile_setting

DEPTH_MM = 10.0


def area(mesh: trimesh.Trimesh, **kw) -> float:
    return overhang_area_mm2(mesh.vertices, mesh.faces, **kw)


def prism(points_xz, faces) -> trimesh.Trimesh:
    """A polygon drawn in the x-z plane (counter-clockwise, triangulated by `faces`) extruded DEPTH_MM along y."""
    mesh = trimesh.creation.extrude_triangulation(np.asarray(points_xz, float), np.asarray(faces), DEPTH_MM)
    mesh.apply_transform(trimesh.transformations.rotation_matrix(math.pi / 2, (1, 0, 0)))  # drawn y -> z
    assert mesh.is_volume
    return mesh


def test_a_box_on_the_bed_has_no_overhang_and_a_floating_one_overhangs_by_its_underside():
    box = trimesh.creation.box((40, 30, 20))
    box.apply_translation((0, 0, 10))  # resting on z=0
    assert area(box) == 0.0
    box.apply_translation((0, 0, 5))
    assert area(box) == pytest.approx(40 * 30)


def test_a_shelf_overhangs_by_its_underside_only():
    """A Γ: a 10 x 20 mm post with a 20 mm arm reaching out at 15-20 mm: the arm's underside overhangs."""
    points = [(0, 0), (10, 0), (10, 15), (30, 15), (30, 20), (10, 20), (0, 20)]
    faces = [(0, 1, 2), (0, 2, 6), (2, 5, 6), (2, 3, 4), (2, 4, 5)]
    assert area(prism(points, faces)) == pytest.approx(20 * DEPTH_MM)


@pytest.mark.parametrize("lean_from_horizontal_deg", [30.0, 44.0, 46.0, 60.0])
def test_a_leaning_face_overhangs_only_when_it_leans_further_than_the_threshold(lean_from_horizontal_deg):
    """A parallelogram leaning over: its underside leans `lean` degrees from horizontal, so it is an
    overhang when it is more than 45 degrees from vertical."""
    a = math.radians(lean_from_horizontal_deg)
    run = 20 / math.tan(a)
    mesh = prism([(0, 0), (10, 0), (10 + run, 20), (run, 20)], [(0, 1, 2), (0, 2, 3)])
    expected = 20 / math.sin(a) * DEPTH_MM if lean_from_horizontal_deg < 90 - OVERHANG_ANGLE_DEG else 0.0
    assert area(mesh) == pytest.approx(expected)


def test_a_lying_cylinder_overhangs_over_the_quarter_turn_around_its_lowest_line():
    """Radius r, length L, axis along x at height r: the faces within 45 degrees of straight down (an
    arc of r x pi/2 about the lowest line) less the strip within ON_BED_MM of the bed, which
    rests on it: the arc from acos(1 - ON_BED_MM / r) to 45 degrees either side."""
    r, length = 10.0, 50.0
    sections = 720
    facet_mm2 = 2 * math.pi / sections * r * length  # the answer moves by whole facets at each edge of the arc
    cylinder = trimesh.creation.cylinder(radius=r, height=length, sections=sections)
    cylinder.apply_transform(trimesh.transformations.rotation_matrix(math.pi / 2, (0, 1, 0)))
    cylinder.apply_translation((0, 0, r))
    on_bed = math.acos(1 - ON_BED_MM / r)
    assert area(cylinder) == pytest.approx(2 * r * (math.pi / 4 - on_bed) * length, abs=2 * facet_mm2)
    assert area(cylinder, on_bed_mm=0.0) == pytest.approx(math.pi / 2 * r * length, abs=2 * facet_mm2)
    assert area(cylinder, angle_deg=0.0) == 0.0  # nothing faces further than straight down


def _supports_on(product) -> bool:
    return profile_setting(product.values["machine"], "PLA", "support_material") == "1"


def test_every_familys_default_parts_print_without_sagging_overhangs(defaults):
    """Printed without supports (the shop's profiles), each default part keeps its overhang under the
    threshold; a family whose part does not is sliced with supports."""
    found = {}
    for family, product in defaults.items():
        for name in product.parts:
            mesh = product.mesh(name)  # as exported to the slicer
            found[f"{family}/{name}"] = overhang = overhang_area_mm2(mesh.vertices, mesh.triangles)
            assert overhang < MAX_UNSUPPORTED_OVERHANG_MM2 or _supports_on(product), (family, name, overhang)
    assert set(found) >= {"eyewear_frame/front", "sensor_enclosure/base", "kit_enclosure/lid"}


def slotted_block(slot_mm: float) -> trimesh.Trimesh:
    """A U lying on the bed, 4 mm tall: two 5 x 15 mm posts `slot_mm` apart on a 5 mm bar."""
    w = slot_mm
    points = [(0, 0), (10 + w, 0), (10 + w, 5), (10 + w, 20), (5 + w, 20), (5 + w, 5), (5, 5), (5, 20), (0, 20), (0, 5)]
    faces = [(0, 1, 2), (0, 2, 5), (0, 5, 6), (0, 6, 9), (5, 2, 3), (5, 3, 4), (9, 6, 7), (9, 7, 8)]
    mesh = trimesh.creation.extrude_triangulation(np.asarray(points, float), np.asarray(faces), 4.0)
    assert mesh.is_volume
    return mesh


def test_a_slot_narrower_than_the_gap_is_found_across_its_length_and_a_wider_one_only_at_its_corners():
    gap = 0.8  # two widths of a 0.4 mm nozzle
    (slot,) = narrow_gaps(*(lambda m: (m.vertices, m.faces))(slotted_block(0.5)), z=2.0, gap_mm=gap)
    assert slot["width_mm"] == pytest.approx(0.5, abs=0.05) and slot["area_mm2"] == pytest.approx(0.5 * 15, rel=0.05)
    assert slot["x"] == pytest.approx(5.25, abs=0.05)
    corners = narrow_gaps(*(lambda m: (m.vertices, m.faces))(slotted_block(1.0)), z=2.0, gap_mm=gap)
    # the slot's two inner corners (90 degrees: gap x (1 - sin 45 deg) = 0.23 mm); the U's outside has none
    assert len(corners) == 2 and all(c["width_mm"] == pytest.approx(gap * (1 - math.sin(math.pi / 4)), abs=0.05)
                                     and c["y"] < 6 for c in corners)
    assert narrow_gaps(*(lambda m: (m.vertices, m.faces))(slotted_block(0.5)), z=5.0, gap_mm=gap) == []  # above it


def test_a_ceiling_held_at_both_ends_is_bridged_and_a_shelf_held_at_one_hangs():
    """A Π (a 10 mm span between two posts, its underside 10 mm up) is a bridge; the Γ's arm, held by its
    post alone, hangs. Both are overhangs by area: the split says which the slicer bridges."""
    span = prism([(0, 0), (5, 0), (5, 10), (15, 10), (15, 0), (20, 0), (20, 15), (0, 15)],
                 [(0, 1, 2), (0, 2, 7), (2, 3, 7), (3, 6, 7), (3, 4, 5), (3, 5, 6)])
    split = overhang_split_mm2(span.vertices, span.faces)
    assert split["overhang_mm2"] == pytest.approx(10 * DEPTH_MM)
    assert split["bridged_mm2"] == pytest.approx(10 * DEPTH_MM, rel=0.03) and split["hanging_mm2"] < 3
    shelf = prism([(0, 0), (10, 0), (10, 15), (30, 15), (30, 20), (10, 20), (0, 20)],
                  [(0, 1, 2), (0, 2, 6), (2, 5, 6), (2, 3, 4), (2, 4, 5)])
    split = overhang_split_mm2(shelf.vertices, shelf.faces)
    assert split["bridged_mm2"] == 0 and split["hanging_mm2"] == pytest.approx(20 * DEPTH_MM)
