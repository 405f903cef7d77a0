"""Range corners and a bounded fuzz: any spec is either refused with an InputError naming a real
field, or built into parts that are each one valid solid with a watertight STL true to its volume."""

from __future__ import annotations

import param
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from somana_core.errors import InputError
from somana_core.geometry import FAMILIES, build, make_spec

# Corners of the ranges that pass the cross-field rules (the rules refuse the rest, tested there).
CORNERS = {
    "sensor_enclosure": [
        {"pcb_length": "20", "pcb_width": "15", "hole_inset": "2", "standoff_diameter": "4", "screw_hole": "1.6",
         "clearance": "0.3", "component_height": "3", "wall": "1.4", "corner_radius": "0", "vent_count": "0",
         "cable_hole": "0", "lid_thickness": "1.6", "lip_height": "2", "text": "", "mount_tabs": "false"},
        {"pcb_length": "160", "pcb_width": "120", "hole_inset": "10", "standoff_diameter": "10",
         "screw_hole": "3.5", "standoff_height": "15", "clearance": "5", "component_height": "60", "wall": "5",
         "corner_radius": "12", "vent_count": "12", "vent_width": "4", "cable_hole": "12", "lid_fit": "screw",
         "lid_thickness": "5", "lip_height": "8", "lid_clearance": "0.6", "lid_hole": "4.5", "text_size": "20",
         "text_depth": "1.5", "text_style": "embossed", "pcb_thickness": "2.4"},
    ],
    "kit_enclosure": [
        {"board": "raspberry_pi_pico", "clearance": "0.5", "standoff_height": "9", "standoff_diameter": "4",
         "component_height": "6.5", "wall": "0.8", "lid_fit": "screw", "corner_radius": "0", "text": "",
         "lid_thickness": "1.6", "lip_height": "2", "usb_margin": "0.3"},
        {"board": "arduino_uno_r3", "battery": "aa_2x_holder", "clearance": "5", "standoff_height": "15",
         "standoff_diameter": "10", "component_height": "50", "wall": "5", "corner_radius": "12",
         "mount_tabs": "true", "lid_thickness": "5", "lip_height": "8", "text_size": "20", "text_depth": "1.5",
         "text": "Ada", "usb_margin": "3"},
    ],
    "eyewear_frame": [
        {"lens_width": "40", "lens_height": "25", "bridge_width": "14", "pupillary_distance": "50",
         "frame_width": "115", "rim_width": "2", "frame_thickness": "3", "temple_length": "115",
         "earpiece_length": "15", "temple_drop": "0", "temple_height": "4", "temple_thickness": "3",
         "hinge_pin": "1", "lens_shape": "superellipse", "shape_exponent": "2", "text_size": "2",
         "groove_depth": "0.5", "pantoscopic_tilt": "0", "open_angle": "90", "wrap_deg": "0",
         "nose_frontal_angle": "40", "nose_splay_angle": "40", "crest_height": "-6", "flex_length": "0",
         "flex_thickness": "1.6"},
        {"lens_width": "58", "lens_height": "44", "bridge_width": "18", "pupillary_distance": "76",
         "frame_width": "160", "rim_width": "4", "frame_thickness": "7", "temple_length": "155",
         "earpiece_length": "45", "temple_drop": "35", "temple_height": "9", "temple_thickness": "6",
         "hinge_pin": "2.5", "lens_shape": "superellipse", "shape_exponent": "8", "text": "Ada",
         "text_side": "both", "text_size": "5", "text_depth": "1", "groove_depth": "1.2",
         "pantoscopic_tilt": "15", "open_angle": "95", "wrap_deg": "15", "nose_frontal_angle": "15",
         "nose_splay_angle": "15", "crest_height": "-6", "flex_length": "25", "flex_thickness": "3"},
    ],
}


def assert_printable(product, tmp_path, checks):
    for name in product.parts:
        checks.part_printable(product, name, tmp_path)


@pytest.mark.parametrize("family, index", [(f, i) for f, cases in CORNERS.items() for i in range(len(cases))],
                         ids=lambda x: str(x))
def test_range_corners_build_printable_parts(family, index, tmp_path, checks):
    product = build(make_spec(family, CORNERS[family][index]))
    assert_printable(product, tmp_path, checks)


def spec_values(family):
    """A hypothesis strategy over a family's declared ranges (read from the spec, not repeated)."""
    cls = FAMILIES[family]
    fields = {}
    for name in cls.parameter_names():
        p = cls.param[name]
        if name in ("text", "machine"):
            continue
        if isinstance(p, param.Boolean):
            fields[name] = st.booleans()
        elif isinstance(p, param.Integer):
            fields[name] = st.integers(*p.bounds)
        elif isinstance(p, param.Number):
            lo, hi = p.bounds
            steps = int(round((hi - lo) / p.step))
            fields[name] = st.integers(0, steps).map(lambda k, lo=lo, s=p.step, hi=hi: min(round(lo + k * s, 6), hi))
        elif isinstance(p, param.Selector):
            fields[name] = st.sampled_from(list(p.objects))
    fields["text"] = st.sampled_from(["", "Ada", "Zoë", "Бо", "Ωμ"])
    strategy = st.fixed_dictionaries(fields)
    if family == "eyewear_frame":  # mostly fitting faces: PD within the decentration a lens allows
        strategy = st.tuples(strategy, st.floats(-5, 5)).map(_fit_eyewear)
    return strategy


def _fit_eyewear(args):
    values, decentration = args
    cls = FAMILIES["eyewear_frame"]
    pd_lo, pd_hi = cls.param["pupillary_distance"].bounds
    values["pupillary_distance"] = min(max(values["lens_width"] + values["bridge_width"] - 2 * decentration, pd_lo),
                                       pd_hi)
    needed = (2 * values["lens_width"] + values["bridge_width"] + 2 * values["rim_width"]
              + 2 * values["temple_thickness"])
    values["frame_width"] = min(max(values["frame_width"], needed), cls.param["frame_width"].bounds[1])
    return values


@pytest.mark.parametrize("family, examples", [("sensor_enclosure", 10), ("kit_enclosure", 8), ("eyewear_frame", 10)])
def test_fuzz_specs_are_refused_or_printable(family, examples, tmp_path_factory, checks):
    cls = FAMILIES[family]

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(spec_values(family))
    def run(values):
        try:
            spec = make_spec(family, values)
        except InputError as err:
            assert err.field in cls.parameter_names() and err.message
            return
        assert_printable(build(spec), tmp_path_factory.mktemp("fuzz"), checks)

    run()
