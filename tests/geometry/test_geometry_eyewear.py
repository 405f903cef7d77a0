"""Eyewear an optician would accept, measured on the built solids: the lens groove, the blank size,
the hinge's open stop, the nose gap, the pantoscopic tilt, the length of side and the frame marking."""

from __future__ import annotations

import math

import numpy as np
import pytest

from somana_core.errors import InputError
from somana_core.geometry import build, make_spec
from somana_core.geometry import eyewear_frame as ew
from somana_core.geometry.kernel import apply_matrix, common_volume_mm3, vector
from somana_core.geometry.transforms import rotation_matrix, translation_matrix


@pytest.fixture(scope="module")
def frame():
    return build(make_spec("eyewear_frame", {"text": "Ada"}))


def inside(shape, x, y, z) -> bool:
    return shape.isInside(vector(x, y, z))


def test_the_lens_sits_in_a_groove_behind_lips(frame):
    v, front = frame.spec, frame.parts["front"]  # front frame: face on z=0, lens centres at y=0
    cx = ew.lens_centre_x(v)
    z_mid, z_lip = v.frame_thickness / 2, 0.3
    a = v.lens_width / 2
    # at the groove's height the rim is open out to the lens's edge (plus play) ...
    assert not inside(front, cx + a - 0.05, 0, z_mid) and not inside(front, cx + a + ew.LENS_PLAY_MM - 0.03, 0, z_mid)
    assert inside(front, cx + a + ew.LENS_PLAY_MM + 0.1, 0, z_mid)
    # ... while the lips in front and behind stop groove_depth short of it: the lens cannot fall out
    assert inside(front, cx + a - v.groove_depth + 0.1, 0, z_lip)
    assert inside(front, cx + a - v.groove_depth + 0.1, 0, v.frame_thickness - z_lip)
    assert not inside(front, cx + a - v.groove_depth - 0.1, 0, z_lip)
    # the groove's height
    half = ew.GROOVE_WIDTH_MM / 2
    assert not inside(front, cx + a - 0.05, 0, z_mid + half - 0.05)
    assert inside(front, cx + a - 0.05, 0, z_mid + half + 0.05)


def test_the_lens_blank_is_checked_against_the_stock_blanks():
    spec = make_spec("eyewear_frame", {})
    assert ew.min_blank_mm(spec) == pytest.approx(50 + 2 * abs(spec.decentration_mm()) + ew.EDGING_ALLOWANCE_MM)
    assert ew.min_blank_mm(spec) <= ew.lens_blanks_mm()[0]
    with pytest.raises(InputError) as err:  # a big rectangle decentred 5 mm needs more than 75 mm
        make_spec("eyewear_frame", {"lens_width": 58, "lens_height": 48, "lens_shape": "rectangle",
                                    "bridge_width": 14, "pupillary_distance": 62, "frame_width": 155})
    assert err.value.field == "lens_width" and "blank" in err.value.message and "75" in err.value.message


def _temple_turned(product, side: str, degrees_outward: float):
    """The temple as assembled, turned about its hinge pin (positive: opening past 90 degrees)."""
    spec = product.spec
    h = ew.hinge(spec)
    xk = spec.frame_width / 2 - h.t / 2
    pin_y = spec.frame_thickness + h.pin_back
    sx = -1 if side == "left" else 1
    turn = rotation_matrix("z", -sx * degrees_outward)  # left opens counter-clockwise seen from above
    about_pin = translation_matrix(sx * xk, pin_y, 0) @ turn @ translation_matrix(-sx * xk, -pin_y, 0)
    return apply_matrix(product.parts[f"{side}_temple"], about_pin @ product.placement(f"{side}_temple"))


@pytest.mark.parametrize("side", ["left", "right"])
def test_the_hinge_stops_at_its_open_angle_and_folds_freely(frame, side):
    front = apply_matrix(frame.parts["front"], frame.placement("front"))
    past = frame.spec.open_angle - 90.0
    assert common_volume_mm3(front, _temple_turned(frame, side, past - 1.0)) == 0.0  # still opening
    assert common_volume_mm3(front, _temple_turned(frame, side, past + 1.5)) > 0.0   # stopped
    for folded in (20.0, 50.0, 80.0):  # folding inward: the round side of the tongue turns clear
        assert common_volume_mm3(front, _temple_turned(frame, side, -folded)) == 0.0


def test_the_rims_leave_the_nose_its_gap(frame):
    v, front = frame.spec, frame.parts["front"]
    xs = np.arange(0.0, v.bridge_width / 2 + 0.05, 0.05)
    first = next(x for x in xs if inside(front, x, -v.lens_height / 4, v.frame_thickness / 2))
    assert 2 * first == pytest.approx(v.bridge_width - 2 * v.rim_width, abs=0.15)
    assert 2 * first >= ew.MIN_NOSE_GAP_MM - 0.1
    with pytest.raises(InputError) as err:
        make_spec("eyewear_frame", {"bridge_width": 14, "rim_width": 5})
    assert err.value.field == "rim_width" and "nose" in err.value.message


def _mid_height(shape, x: float, z: float) -> float:
    ys = [y for y in np.arange(-20, 20, 0.05) if inside(shape, x, y, z)]
    return (min(ys) + max(ys)) / 2


@pytest.mark.parametrize("tilt", [0.0, 9.0])
def test_the_temples_leave_the_hinge_at_the_pantoscopic_tilt(tilt):
    product = build(make_spec("eyewear_frame", {"pantoscopic_tilt": tilt}))
    temple = product.parts["left_temple"]  # its own frame: pin at x=0, outer side on z=0, y up
    h = ew.hinge(product.spec)
    x1 = ew.tongue_end_x(h) + 15
    x2 = x1 + 50
    z = h.t / 4  # below the lettering
    measured = math.degrees(math.atan2(_mid_height(temple, x1, z) - _mid_height(temple, x2, z), x2 - x1))
    assert measured == pytest.approx(tilt, abs=0.3)


def test_the_length_of_side_from_the_hinge_axis_is_exact(frame):
    v = frame.spec
    h = ew.hinge(v)
    mesh = frame.mesh("left_temple", 0.02)
    (_, _), p1, p2, p3 = ew.temple_centreline(v, h, mirrored=False)
    direction = np.subtract(p3, p2) / np.linalg.norm(np.subtract(p3, p2))
    tip = mesh.vertices[np.argmax(mesh.vertices[:, :2] @ direction)][:2]  # the tip's far end, measured
    developed = np.linalg.norm(p1) + np.linalg.norm(np.subtract(p2, p1)) + float(np.subtract(tip, p2) @ direction)
    assert developed == pytest.approx(v.temple_length, abs=0.5)


def test_the_frame_marking_is_engraved_inside_the_right_temple(frame):
    from somana_core.geometry.fonts import unsupported_characters

    v = frame.spec
    assert ew.frame_marking(v) == "50\u25a118-140" and unsupported_characters("\u25a1") == []
    assert ew.temple_lettering(v, "right").endswith("50\u25a118-140")
    plain = build(make_spec("eyewear_frame", {"text": ""}))
    # engraving removes material from the inner side of the right temple only
    assert plain.metrics()["parts"]["right_temple"]["volume_mm3"] < plain.metrics()["parts"]["left_temple"]["volume_mm3"] - 5
