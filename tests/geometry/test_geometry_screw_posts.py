"""A screw lid's corner posts sink into the walls but never show through the outer skin: with a thin
wall (the post used to sink 0.15 x its diameter, more than the wall) or a round corner, a post bulged
out of the box, and exactly at the skin it left open STL edges (the random sweep of issue 13)."""

from __future__ import annotations

import pytest

import cadquery as cq
from somana_core.geometry import build, kernel, make_spec
from somana_core.geometry.enclosure import rounded_rect_distance

CASES = {
    # the sweep's order: posts exactly tangent to the round outer corner
    "kit-round-corner": ("kit_enclosure", {
        "board": "raspberry_pi_pico", "clearance": "3.6", "standoff_height": "11", "standoff_diameter": "8",
        "component_height": "10", "usb_margin": "1.1", "battery": "aa_2x_holder", "wall": "1.2",
        "corner_radius": "7.5", "mount_tabs": "false", "lid_fit": "screw", "lip_height": "8", "lid_clearance": "0.15", "text": "",
        "machine": "prusa_mini"}),
    # a thin wall, wide posts and a small round corner: the post used to bulge out of the corner
    "sensor-thin-wall": ("sensor_enclosure", {
        "wall": "0.8", "standoff_diameter": "10", "screw_hole": "3", "clearance": "2", "corner_radius": "2",
        "lid_fit": "screw",
        "text": "", "vent_count": "0", "cable_hole": "0", "mount_tabs": "false"}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_screw_posts_stay_inside_the_outer_skin(case, tmp_path, checks):
    family, values = CASES[case]
    spec = make_spec(family, values)
    product = build(spec, parts=("base",))
    checks.part_printable(product, "base", tmp_path)
    base = kernel.apply_matrix(product.parts["base"], product.placement("base"))
    d = spec.dims()
    skin = kernel.rounded_rect_prism(d.outer_x, d.outer_y, d.base_h, d.r_out, x0=d.cavity_x_offset)
    lo, hi = kernel.bounding_box(skin)
    around = cq.Solid.makeBox(*(hi - lo + 20), pnt=cq.Vector(*(lo - 10))).cut(skin)
    assert base.intersect(around).Volume() < 1e-6, "something stands outside the box's outer skin"
    for x, y in d.post_points:  # and each post still reaches into the wall (no tangent contact)
        to_wall = -rounded_rect_distance(x - d.cavity_x_offset, y, d.cavity_x / 2, d.cavity_y / 2, d.r_in)
        assert spec.standoff_diameter / 2 > to_wall + 0.1
