"""A kit box with a battery bay: the divider stands at the board bay's end whatever moves the
cavity's ends (screw posts, large round corners), so the board keeps its clearance and the battery
its compartment; and a standoff next to the divider is joined to it, never left touching it
(found by the random sweep of issue 13: a tangent standoff gave a base STL with non-manifold edges)."""

from __future__ import annotations

import pytest

import cadquery as cq
from somana_core.geometry import build, make_spec
from somana_core.geometry.kernel import apply_matrix
from somana_core.geometry.kit_enclosure import Board, battery_bay

CASES = {
    "snap": {"battery": "aa_2x_holder"},
    "screw": {"battery": "aa_2x_holder", "lid_fit": "screw"},
    "round-corners": {"battery": "aa_2x_holder", "corner_radius": "12", "clearance": "0.5", "wall": "1.4"},
    # the sweep's order: the Pico's standoff exactly touched the divider
    "standoff-at-divider": {"board": "raspberry_pi_pico", "battery": "lipo_1000mah", "clearance": "2",
                            "standoff_height": "13.5", "standoff_diameter": "8", "component_height": "13.5",
                            "wall": "4.7", "mount_tabs": "true", "text": ""},
}


def empty(shape, x0, y0, z0, x1, y1, z1) -> bool:
    return shape.intersect(cq.Solid.makeBox(x1 - x0, y1 - y0, z1 - z0, pnt=cq.Vector(x0, y0, z0))).Volume() < 1e-6


@pytest.mark.parametrize("case", list(CASES))
def test_board_and_battery_keep_their_room_beside_the_divider(case, tmp_path, checks):
    spec = make_spec("kit_enclosure", CASES[case])
    product = build(spec, parts=("base",))
    checks.part_printable(product, "base", tmp_path)
    base = apply_matrix(product.parts["base"], product.placement("base"))
    d = spec.dims()
    fx, fy = Board(spec.board).footprint_size
    above_standoffs = d.floor + spec.standoff_height + 1e-3
    top = d.base_h - d.lip_h - 1e-3
    # the board (centred on x=0) and its clearance towards the divider, above the standoffs
    assert empty(base, -fx / 2, -fy / 2, above_standoffs, fx / 2 + spec.clearance - 1e-3, fy / 2, top)
    assert d.divider_x == pytest.approx(fx / 2 + spec.clearance)
    # the divider is there, one wall thick, and the battery fits behind it
    assert not empty(base, d.divider_x + 1e-3, -1, d.floor + 1, d.divider_x + d.wall - 1e-3, 1, d.floor + 2)
    length, width, height = battery_bay(spec)
    x0, e = d.divider_x + d.wall, 1e-3
    assert empty(base, x0 + e, -width / 2 + e, d.floor + e, x0 + length - e, width / 2 - e, d.floor + height - e)
