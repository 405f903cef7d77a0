"""An upright (embossed) lid's bridge ribs all hang from the lid, even one wholly under the lettered
tile: found by the random sweep of issue 13 ("part lid came out as 2 solids": the rib under a name
was glued to the plate, which has a window there, before the tile that fills it)."""

from __future__ import annotations

from somana_core.catalogue import nozzle_mm
from somana_core.geometry import build, enclosure, kernel, make_spec

# a long narrow box: five ribs, the middle one (y = 0) shorter than the name above it
FOUND_ORDER = {"pcb_length": "26.5", "pcb_width": "111", "pcb_thickness": "2.1", "hole_inset": "3.5",
               "screw_hole": "2.3", "standoff_diameter": "7", "standoff_height": "3", "clearance": "2.9",
               "component_height": "27.5", "wall": "4.4", "corner_radius": "4", "vent_count": "3",
               "vent_side": "back", "cable_hole": "9.5", "lid_fit": "screw", "lid_thickness": "4.2",
               "lip_height": "7.5", "lid_clearance": "0.1", "lid_hole": "3.2", "text": "Lab 7",
               "text_style": "embossed", "text_size": "8", "text_depth": "1", "machine": "prusa_mk3s"}


def test_a_rib_wholly_under_the_name_is_part_of_the_one_solid_lid(tmp_path, checks):
    spec = make_spec("sensor_enclosure", FOUND_ORDER)
    d = spec.dims()
    ribs = enclosure._bridge_ribs(d, spec.lid_clearance, nozzle_mm(spec.machine))
    window, _ = kernel.lettered_tile(spec.text, spec.text_size, spec.text_depth, spec.lid_thickness,
                                     spec.text_style, enclosure.TEXT_MARGIN_RATIO * spec.text_size)
    assert any(enclosure._rect_within(rib, window) for rib in ribs), "the case no longer has a rib under the name"
    product = build(spec, parts=("lid",))
    checks.part_printable(product, "lid", tmp_path)
    # every rib is there: the lid's volume holds the plate, lip, letters and all the ribs
    rib_volume = sum(rib.Volume() for rib in ribs)
    without = build(make_spec("sensor_enclosure", {**FOUND_ORDER, "text_style": "engraved", "text_depth": "0.4"}),
                    parts=("lid",))
    assert product.parts["lid"].Volume() > without.parts["lid"].Volume() + rib_volume * 0.99


# the slice fuzz (seed 13): the middle rib runs on past the end of a wide name's tile, so it is glued
# to the plate and only partly under the tile; glued to the tile it stayed a separate volume touching
# it, and the plate's underside bridged 37 mm over it
RIB_PAST_THE_NAME = {"pcb_length": 42.5, "pcb_width": 79.0, "pcb_thickness": 0.8, "hole_inset": 7.0,
                     "screw_hole": 3.1, "standoff_diameter": 7.0, "standoff_height": 7.0, "clearance": 0.7,
                     "component_height": 17.0, "wall": 3.4, "corner_radius": 4.0, "vent_count": 3,
                     "vent_width": 2.5, "vent_side": "back", "cable_hole": 4.0, "lid_fit": "snap",
                     "lid_thickness": 4.0, "lip_height": 2.5, "lid_clearance": 0.5, "lid_hole": 3.3, "text": "Ada",
                     "text_style": "embossed", "text_size": 15.0, "text_depth": 1.1, "machine": "prusa_mk3s"}


def test_a_rib_running_on_under_the_name_is_fused_to_the_letters_tile():
    from somana_core.geometry.printability import longest_bridge_mm

    spec = make_spec("sensor_enclosure", RIB_PAST_THE_NAME)
    d = spec.dims()
    ribs = enclosure._bridge_ribs(d, spec.lid_clearance, nozzle_mm(spec.machine))
    window, _ = kernel.lettered_tile(spec.text, spec.text_size, spec.text_depth, spec.lid_thickness,
                                     spec.text_style, enclosure.TEXT_MARGIN_RATIO * spec.text_size)
    crossing = [r for r in ribs if enclosure._rects_overlap(r, window) and not enclosure._rect_within(r, window)]
    assert crossing, "the case no longer has a rib running on under the name"
    product = build(spec, parts=("lid",))
    mesh = product.mesh("lid")
    assert longest_bridge_mm(mesh.vertices, mesh.triangles) <= enclosure.BRIDGE_PITCH_MM
    # no face of the lid looks up into it at the plate's underside (a rib's top left inside the solid)
    lid = product.parts["lid"]
    ceiling = max((f for f in lid.Faces() if f.normalAt().z < -0.99 and f.Center().z > 0.05), key=lambda f: f.Area())
    underside = ceiling.Center().z
    assert not [f for f in lid.Faces() if f.normalAt().z > 0.99 and abs(f.Center().z - underside) < 0.01]
