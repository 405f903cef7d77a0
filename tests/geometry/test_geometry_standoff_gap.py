"""Standoffs keep a printable gap between each other and the lid's screw posts: found by the random
sweep (issue 13), two standoffs exactly touching built a base whose STL had non-manifold edges.
Refused before CAD, on the field, and the range `somana families` shows says the same."""

from __future__ import annotations

import math

import pytest

from somana_core.errors import InputError
from somana_core.geometry import get_family, make_spec
from somana_core.geometry.spec import field_range

# pcb_width 15.5 - 2 x hole_inset 3.5: holes 8.5 mm apart across the board, standoffs 8.5 mm: touching
FOUND_ORDER = {"pcb_length": "134.5", "pcb_width": "15.5", "hole_inset": "3.5", "screw_hole": "2",
               "standoff_diameter": "8.5", "standoff_height": "4.5", "clearance": "0.8", "wall": "1.2",
               "corner_radius": "0.5", "lid_fit": "screw", "lid_hole": "2.5", "machine": "prusa_mk3s"}


def test_touching_standoffs_are_refused_on_standoff_diameter_with_the_largest_allowed():
    with pytest.raises(InputError) as caught:
        make_spec("sensor_enclosure", FOUND_ORDER)
    assert caught.value.field == "standoff_diameter"
    assert "8.5 mm apart" in caught.value.message and "at most 7.7 mm" in caught.value.message


def test_the_shown_range_keeps_two_nozzle_widths_between_standoffs():
    cls = get_family("sensor_enclosure")
    values = {**FOUND_ORDER, "standoff_diameter": "4"}
    spec = make_spec("sensor_enclosure", values)
    apart = spec.pcb_width - 2 * spec.hole_inset
    top = field_range(cls, "standoff_diameter", {k: spec.values()[k] for k in values})["max"]
    assert top + spec.min_wall_mm() <= apart + 1e-9
    step = cls.param["standoff_diameter"].step
    assert top + step + spec.min_wall_mm() > apart  # the largest step that keeps the gap
    make_spec("sensor_enclosure", {**values, "standoff_diameter": str(top)})  # and it is accepted
    assert math.isclose(top, 7.5)
