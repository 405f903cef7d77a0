"""Eyewear an optician would accept, measured on the built solids: the lens groove, the blank size,
the hinge's open stop, the nose gap, the saddle bridge on the nose, the face-form wrap, the
pantoscopic tilt, the length of side and the frame marking."""

from __future__ import annotations

import math

import numpy as np
import pytest

from somana_core.errors import InputError
from somana_core.geometry import build, make_spec
from somana_core.geometry import eyewear_frame as ew
from somana_core.geometry.kernel import apply_matrix, bounding_box, common_volume_mm3, vector
from somana_core.geometry.transforms import rotation_matrix, translation_matrix


@pytest.fixture(scope="module")
def frame():
    """Without wrap: the front's own frame is then the drawing's (face on z=0, lens centres at y=0)."""
    return build(make_spec("eyewear_frame", {"text": "Ada", "wrap_deg": 0}))


@pytest.fixture(scope="module")
def wrapped():
    """The defaults: face-form wrap on."""
    return build(make_spec("eyewear_frame", {}))


def inside(shape, x, y, z) -> bool:
    return shape.isInside(vector(x, y, z))


def first_inside_x(shape, x_from: float, x_to: float, y: float, z: float, step: float = 0.25,
                   resolution: float = 0.01) -> float | None:
    """The first x from x_from (to `resolution`) where the solid is, scanning at `step` and then
    halving the step that crossed into it (features here are wider than `step`)."""
    outside = x_from
    if inside(shape, outside, y, z):
        return outside
    for x in np.arange(x_from + step, x_to + step / 2, step):
        if inside(shape, x, y, z):
            lo, hi = outside, float(x)
            while hi - lo > resolution:
                mid = (lo + hi) / 2
                lo, hi = (lo, mid) if inside(shape, mid, y, z) else (mid, hi)
            return hi
        outside = float(x)
    return None


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
    xk, pin_y = ew.pin_position(spec, h)  # the pin as the wrap turned it
    sx = -1 if side == "left" else 1
    turn = rotation_matrix("z", -sx * degrees_outward)  # left opens counter-clockwise seen from above
    about_pin = translation_matrix(sx * xk, pin_y, 0) @ turn @ translation_matrix(-sx * xk, -pin_y, 0)
    return apply_matrix(product.parts[f"{side}_temple"], about_pin @ product.placement(f"{side}_temple"))


@pytest.mark.parametrize("side", ["left", "right"])
def test_the_hinge_stops_at_its_open_angle_and_folds_freely(wrapped, side):
    """With the wrap on: the temples still stop at open_angle from the frontal plane (not from the
    turned end piece), so they still reach the ears."""
    frame = wrapped
    front = apply_matrix(frame.as_sold("front"), frame.placement("front"))  # heat-formed to its wrap
    past = frame.spec.open_angle - 90.0
    assert common_volume_mm3(front, _temple_turned(frame, side, past - 1.0)) == 0.0  # still opening
    assert common_volume_mm3(front, _temple_turned(frame, side, past + 1.5)) > 0.0   # stopped
    for folded in (20.0, 50.0, 80.0):  # folding inward: the round side of the tongue turns clear
        assert common_volume_mm3(front, _temple_turned(frame, side, -folded)) == 0.0


def test_the_rims_leave_the_nose_its_gap(frame):
    """Below the saddle the rims' nasal edges stay at least MIN_NOSE_GAP_MM apart (through the front)."""
    v, front = frame.spec, frame.parts["front"]
    gaps = []
    for y in np.arange(ew.saddle_bottom_mm(v) - 0.5, -v.lens_height / 2, -1.0):
        first = first_inside_x(front, 0.0, v.bridge_width / 2, y, v.frame_thickness / 2, resolution=0.05)
        if first is not None:
            gaps.append(2 * first)
    assert gaps and min(gaps) >= ew.MIN_NOSE_GAP_MM - 0.1
    assert min(gaps) >= v.bridge_width - 2 * v.rim_width - 0.1  # never narrower than the rims' nasal edges
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


def _front_face_z(shape, x: float, y: float) -> float:
    """Where the front's face is (the first material from the face side) at (x, y), to 0.005 mm."""
    z = next(z for z in np.arange(-1.0, 20.0, 0.05) if inside(shape, x, y, z))
    lo, hi = z - 0.05, z
    while hi - lo > 0.005:
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if inside(shape, x, y, mid) else (mid, hi)
    return hi


def test_the_wrap_measured_on_the_formed_front_is_the_parameter(wrapped, tmp_path, checks):
    v, front = wrapped.spec, wrapped.as_sold("front")
    assert v.wrap_deg == ew.FIT["wrap_deg"]["default"] and 0 < v.wrap_deg <= 15
    h = ew.hinge(v)
    y = ew.hinge_y(v, h) + h.stack / 2 - 0.5  # along the end piece's flat face, above the lens
    w = math.radians(v.wrap_deg)
    for sign in (1, -1):
        x1, x2 = sign * (ew.lens_centre_x(v) + 2) * math.cos(w), sign * (v.frame_width / 2 - 8) * math.cos(w)
        measured = math.degrees(math.atan2(_front_face_z(front, x2, y) - _front_face_z(front, x1, y), abs(x2 - x1)))
        assert measured == pytest.approx(v.wrap_deg, abs=0.5)
    flat = make_spec("eyewear_frame", {"wrap_deg": 0})
    assert ew.hinge(flat).pin_back != h.pin_back  # the stop is set relative to the turned end piece
    assert front.isValid() and len(front.Solids()) == 1
    checks.part_printable(wrapped, "front", tmp_path)
    # the forming check in the instructions is the formed front's own end-piece height
    lo, hi = bounding_box(front)
    assert ew.end_piece_rise_mm(v) == pytest.approx(v.frame_width / 2 * math.sin(w), abs=1e-9)
    assert hi[2] - (v.frame_thickness + h.cheek_depth) * math.cos(w) == pytest.approx(ew.end_piece_rise_mm(v), abs=0.05)


def test_the_front_prints_flat_and_is_heat_formed_to_its_wrap(wrapped, frame):
    """The printed front is the flat one (what is exported, sliced and quoted), cheeks and all; only the
    part as sold is wrapped. Printed wrapped its face would hang in the air: far over the overhang
    threshold the shop prints without supports."""
    from somana_core.geometry import kernel
    from somana_core.geometry.printability import MAX_UNSUPPORTED_OVERHANG_MM2, overhang_area_mm2
    from somana_core.geometry.mesh import tessellate

    v, printed = wrapped.spec, wrapped.parts["front"]
    h = ew.hinge(v)
    lo, hi = bounding_box(printed)
    assert lo[2] == pytest.approx(0, abs=1e-6) and hi[2] == pytest.approx(v.frame_thickness + h.cheek_depth, abs=1e-3)
    assert hi[0] - lo[0] == pytest.approx(v.frame_width, abs=1e-3)
    assert list(wrapped.spec.part_envelopes()["front"]) == pytest.approx(list(hi - lo), abs=1e-3)
    mesh = wrapped.mesh("front")
    assert overhang_area_mm2(mesh.vertices, mesh.triangles) < MAX_UNSUPPORTED_OVERHANG_MM2
    sold = tessellate(kernel.apply_matrix(wrapped.as_sold("front"), np.eye(4)), 0.02, with_edges=False)
    assert overhang_area_mm2(sold.vertices, sold.triangles) > 4 * MAX_UNSUPPORTED_OVERHANG_MM2
    # forming moves material, it adds none; the model's turned halves overlap in a wedge at the back of
    # the bridge (t^2 tan(wrap) per mm of bridge height, about 20 mm3 here) that the real bend presses
    bridge_height = v.lens_height / 2 + v.rim_width - ew.saddle_bottom_mm(v)
    wedge = v.frame_thickness ** 2 * math.tan(math.radians(v.wrap_deg)) * bridge_height
    lost = kernel.volume_mm3(printed) - kernel.volume_mm3(wrapped.as_sold("front"))
    assert 0 < lost < 1.5 * wedge
    assert frame.as_sold("front") is frame.parts["front"]  # no wrap: sold as printed
    steps = ew.forming_steps(v, "PLA")
    assert "bridge" in steps[0] and "60-70 C" in steps[0] and f"{ew.end_piece_rise_mm(v):.1f} mm" in steps[1]
    assert ew.forming_steps(frame.spec, "PLA") == []


def test_forming_labour_is_quoted_only_for_a_front_that_is_heat_formed(wrapped, frame):
    """The quote charges forming_min of labour (data/quote_assumptions.csv) for a front bent to its wrap
    after printing, and nothing for one printed in its final shape (wrap 0)."""
    from somana_core.economics import founder_assumptions
    from somana_core.quote import quote_product

    a = founder_assumptions()
    minutes, rate = a.rate("forming_min", "eyewear_frame", "PLA"), a.labour_rate_usd_per_h
    assert minutes > 0
    formed, flat = quote_product(wrapped, "eyewear_frame"), quote_product(frame, "eyewear_frame")
    assert wrapped.metrics()["parts"]["front"]["heat_formed"] and not frame.metrics()["parts"]["front"]["heat_formed"]
    assert not any(p["heat_formed"] for name, p in wrapped.metrics()["parts"].items() if name != "front")
    (line,) = [line for line in formed.lines if line.name == "forming_labour"]
    assert line.amount_usd == pytest.approx(minutes / 60 * rate, abs=1e-4) and line.behaviour == "fixed"
    assert line.inputs["forming_min"] == minutes
    assert "forming_labour" not in [line.name for line in flat.lines]
    post = [[line.amount_usd for line in q.lines if line.name == "post_processing_labour"] for q in (formed, flat)]
    assert post[0] == post[1] and len(post[0]) == 1  # finishing itself does not depend on the wrap
    # the same quote with the flag forced either way moves the cost by exactly the line
    forced = quote_product(frame, "eyewear_frame", heat_formed=True)
    assert forced.unit_cost - flat.unit_cost == pytest.approx(line.amount_usd, abs=1e-3)


# random valid frames (fuzz seed 1): in the first two the bar, bridge body and upper nasal rim enclosed
# a pocket tapering to 0.48-0.60 mm (under two nozzle widths) before the bridge was made solid above the
# lenses; in the third a low saddle left a 0.54 mm notch between the body and the lower nasal rim
POCKET_FRAMES = [
    {"lens_width": 49.5, "lens_height": 50.0, "bridge_width": 22.5, "rim_width": 2.5, "frame_thickness": 3.0,
     "crest_height": 5.0, "nose_frontal_angle": 29.0, "nose_splay_angle": 20.0, "pupillary_distance": 73.0,
     "frame_width": 145.5, "machine": "prusa_mini"},
    {"lens_width": 43.5, "lens_height": 39.5, "bridge_width": 16.0, "rim_width": 3.0, "frame_thickness": 5.0,
     "crest_height": 2.5, "nose_frontal_angle": 17.0, "nose_splay_angle": 25.0, "pupillary_distance": 62.5,
     "frame_width": 149.5, "machine": "prusa_mk3s"},
    {"lens_width": 46.0, "lens_height": 35.5, "bridge_width": 23.0, "rim_width": 2.0, "frame_thickness": 4.0,
     "crest_height": -3.5, "nose_frontal_angle": 29.5, "nose_splay_angle": 38.0, "groove_depth": 1.2},
]


@pytest.mark.parametrize("values", POCKET_FRAMES + [{}], ids=["tall_lenses", "narrow_bridge", "low_saddle",
                                                                  "defaults"])
def test_the_bridge_leaves_no_gap_the_slicer_would_fuse_or_drop(values):
    """Between the lens centres (saddle, bar and the rims beside them), no layer of the printed front
    has air narrower than two nozzle widths except the tips of corners of 60 degrees or more (width
    at most half the gap: see printability.narrow_gaps)."""
    from somana_core.geometry.mesh import tessellate
    from somana_core.geometry.printability import narrow_gaps

    v = make_spec("eyewear_frame", values)
    mesh = tessellate(ew.build_front(v), 0.01, with_edges=False)
    gap, cx = 2 * v.nozzle_mm(), ew.lens_centre_x(v)
    for z in (0.3, v.frame_thickness / 2, v.frame_thickness - 0.3):
        found = narrow_gaps(mesh.vertices, mesh.triangles, z, gap, window=(-cx, -50.0, cx, 50.0))
        assert all(g["width_mm"] <= gap / 2 for g in found), (z, found)


def test_the_saddle_has_its_crest_where_the_spec_says(frame):
    v, front = frame.spec, frame.parts["front"]
    for z in (0.3, v.frame_thickness / 2, v.frame_thickness - 0.3):
        crest = v.crest_height + z * math.tan(math.radians(ew.nose_draft_deg(v)))  # the crest rises toward the face
        assert not inside(front, 0, crest - 0.1, z), z
        assert inside(front, 0, crest + 0.1, z), z


def _flank_x(shape, y: float, z: float) -> float:
    """The saddle's flank: the first material right of the nose at height y, depth z (to 0.01 mm)."""
    return first_inside_x(shape, 0.0, 20.0, y, z)


def test_the_saddle_flanks_follow_the_noses_frontal_and_splay_angles(frame):
    v, front = frame.spec, frame.parts["front"]
    fit = ew.FIT
    assert fit["nose_frontal_angle"]["min"] <= v.nose_frontal_angle <= fit["nose_frontal_angle"]["max"]
    assert fit["nose_splay_angle"]["min"] <= v.nose_splay_angle <= fit["nose_splay_angle"]["max"]
    z = v.frame_thickness / 2
    y_hi, y_lo = v.crest_height - ew.CREST_RADIUS_MM - 0.5, ew.saddle_bottom_mm(v) + 1.0
    frontal = math.degrees(math.atan2(_flank_x(front, y_lo, z) - _flank_x(front, y_hi, z), y_hi - y_lo))
    assert frontal == pytest.approx(v.nose_frontal_angle, abs=0.5)
    y = (y_hi + y_lo) / 2
    z1, z2 = 0.3, v.frame_thickness - 0.3
    splay = math.degrees(math.atan2(_flank_x(front, y, z2) - _flank_x(front, y, z1), z2 - z1))
    assert splay == pytest.approx(v.nose_splay_angle, abs=0.5)


def test_the_nose_bears_on_the_saddle_and_nothing_else_reaches_into_it(frame):
    """The nose model touches the front over the saddle (its bearing area, mm2) and no rim, lens or
    lip of the frame lies inside it."""
    v, front = frame.spec, frame.parts["front"]
    nose = ew.nose_cutter(v)
    assert common_volume_mm3(front, nose) < 1e-3
    grow = 0.05
    bearing_mm2 = common_volume_mm3(front, ew.nose_cutter(v, grow_mm=grow)) / grow
    assert bearing_mm2 > 60  # crest and both flanks across the front's thickness
    assert ew.nose_clearance_mm(v) >= v.min_wall_mm() + ew.LENS_PLAY_MM
    with pytest.raises(InputError) as err:  # a crest too high puts the nose into the lenses
        make_spec("eyewear_frame", {"crest_height": 12, "nose_frontal_angle": 35})
    assert err.value.field == "crest_height" and "at most" in err.value.message


def _edge(is_solid, lo: float, hi: float, tol: float = 0.005) -> float:
    """Where is_solid changes between lo and hi (is_solid(lo) != is_solid(hi)), by bisection."""
    at_lo = is_solid(lo)
    assert is_solid(hi) != at_lo
    while hi - lo > tol:
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if is_solid(mid) == at_lo else (lo, mid)
    return (lo + hi) / 2


def test_the_temples_flex_section_has_the_specs_thickness_and_length(wrapped):
    """The compliant element: a thinned section of each temple behind the hinge (the hinge's stop is
    unchanged: see the open-stop test, which runs on this same frame)."""
    v = wrapped.spec
    fit = ew.FIT
    assert fit["flex_length"]["min"] < v.flex_length <= fit["flex_length"]["max"]
    assert fit["flex_thickness"]["min"] <= v.flex_thickness <= fit["flex_thickness"]["max"]
    h = ew.hinge(v)
    f0, f1 = ew.flex_span_mm(v, h)
    (_, _), (x1, _), (x2, y2), _ = ew.temple_centreline(v, h, mirrored=False)
    for side in ("left", "right"):
        temple = wrapped.parts[f"{side}_temple"]  # own frame: pin at x=0, outer side on z=0
        sy = 1.0 if side == "left" else -1.0      # the right temple is built upside down

        def mid_y(x):
            return sy * (x - x1) / (x2 - x1) * y2 if x > x1 else 0.0

        def top_z(x):
            return _edge(lambda z: inside(temple, x, mid_y(x), z), h.t / 4, h.t + 0.5)

        assert top_z((f0 + f1) / 2) == pytest.approx(v.flex_thickness, abs=0.05)
        assert top_z(f1 + 3) == pytest.approx(h.t, abs=0.05)  # full thickness past the flex
        z = v.flex_thickness + 0.1  # just above the thin floor the recess spans its length + the 45-degree ramps
        centre = (f0 + f1) / 2

        def solid_at(x):
            return inside(temple, x, mid_y(x), z)

        span = _edge(solid_at, centre, f1 + 1) - _edge(solid_at, f0 - 1, centre)
        assert span == pytest.approx(v.flex_length + 2 * 0.1, abs=0.05)
    with pytest.raises(InputError) as err:
        make_spec("eyewear_frame", {"flex_thickness": 2.8, "temple_thickness": 3.0, "hinge_pin": 1.0})
    assert err.value.field == "flex_thickness"


def test_somana_make_prints_the_flat_front_and_says_how_to_form_it(tmp_path):
    import json
    import subprocess
    import sys

    import trimesh

    out = tmp_path / "front.stl"
    result = subprocess.run([sys.executable, "-m", "somana", "make", "eyewear_frame", "--part", "front", "--material",
                             "PETG", "--out", str(out), "--json"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    spec = make_spec("eyewear_frame", {})
    h = ew.hinge(spec)
    lo, hi = trimesh.load(out, process=False).bounds
    assert hi[2] - lo[2] == pytest.approx(spec.frame_thickness + h.cheek_depth, abs=0.01)  # flat, as printed
    first, check, lenses = report["finishing"]
    assert "85-95 C for PETG" in first and "6.1 mm" in check and "lenses" in lenses and "V bevel" in lenses
    # a front with no wrap is not formed, but the floor is still told how the lenses go in
    flat = ew.EyewearFrameBuilder().finishing(make_spec("eyewear_frame", {"wrap_deg": 0}), "PETG")
    assert len(flat) == 1 and "push each lens in from the back" in flat[0] and "50 x 38 mm" in flat[0]


def test_a_near_rectangular_superellipse_front_builds_whole(tmp_path):
    """The slice fuzz (seed 14) found a valid order whose sight openings failed in CAD: OCC's inward
    offset of the 12-segment spline loop came out null. The front builds, one valid solid, and its
    sight opening is the lens shrunk by the groove depth."""
    from somana_core.geometry import kernel

    v = make_spec("eyewear_frame", {"lens_width": 48.5, "lens_height": 27.0, "lens_shape": "superellipse",
                                    "shape_exponent": 7.9, "groove_depth": 0.7, "pupillary_distance": 68.0,
                                    "bridge_width": 20.0, "frame_width": 139.0, "rim_width": 4.0,
                                    "crest_height": -4.5, "frame_thickness": 6.5})
    front = ew.build_front(v)
    assert kernel.is_valid(front) and len(kernel.solids(front)) == 1
    cx = ew.lens_centre_x(v)
    sight = kernel.face(ew.sight_wire(v, ew.lens_wire(v, cx, 1.0), cx, 1.0))
    lens = kernel.face(ew.lens_wire(v, cx, 1.0))
    perimeter = 2 * (v.lens_width + v.lens_height)  # a near-rectangle's, roughly
    assert lens.Area() - sight.Area() == pytest.approx(perimeter * v.groove_depth, rel=0.1)


def test_no_end_piece_leaves_an_air_wedge_the_slicer_would_fuse():
    """24 random valid frames (fuzz seed 1): where each end piece leaves its rim, the front's profile has
    no air narrower than two nozzle widths but corner tips of at most half that (corners of 60 degrees
    or more: printability.narrow_gaps). The end piece's lower edge leaves a round, cat-eye or
    superellipse rim where it already slopes outward: 5 of these 24 frames had 45-60 degree wedges
    (tips 0.40-0.45 mm wide at a 0.8 mm gap) before `end_piece_fillet` rounded them. Measured on the
    right rim with its end piece as `build_front` makes them (the left is its mirror image; the full fronts of
these 24 frames measured the same way at 0.3 mm and mid-thickness: 5 with wedges before, 0 after)."""
    from somana_core.geometry import kernel as tk
    from somana_core.geometry.fuzz import random_valid_specs
    from somana_core.geometry.mesh import tessellate
    from somana_core.geometry.printability import narrow_gaps

    specs, _ = random_valid_specs("eyewear_frame", 24, seed=1)
    wedges = {}
    for i, v in enumerate(specs):
        h, cx = ew.hinge(v), ew.lens_centre_x(v)
        rim = tk.face(tk.offset_wire(ew.lens_wire(v, cx, 1.0), v.rim_width))  # its sight opening is not cut:
        profile = tk.single_face(tk.faces_fuse([rim, *ew.end_piece_faces(v, h, sides=(1,))]), "right half")
        mesh = tessellate(tk.extrude(profile, 1.0), 0.01, with_edges=False)  # it lies 2 rims from the wedge
        gap = 2 * v.nozzle_mm()
        y_low = ew.hinge_y(v, h) - h.stack / 2
        core = (cx + v.lens_width / 2 - 2, y_low - 2, v.frame_width / 2 + 1, y_low + h.stack + 1)
        # measured over a larger window and kept inside `core`: the window's own edges read as narrow air
        found = narrow_gaps(mesh.vertices, mesh.triangles, 0.5, gap,
                            window=(core[0] - 3, core[1] - 3, core[2] + 3, core[3] + 3))
        found = [g for g in found if core[0] <= g["x"] <= core[2] and core[1] <= g["y"] <= core[3]
                 and g["width_mm"] > gap / 2]
        if found:
            wedges[i] = (v.lens_shape, found)
    assert wedges == {}


def test_the_temples_grip_is_the_cantilevers_force_from_the_materials_modulus(wrapped):
    """The grip (temple_clamp_force_n): a temple without a flex section is one uniform cantilever from the
    hinge axis to the ear bend, F = 3 E I set / L^3; the flex section lowers it with its thickness cubed;
    the default frame (14 x 2.2 mm flex, 2.5 mm set a side) grips 0.155 N in PLA, 0.084 N in PA12 (warned)."""
    from somana_core.catalogue import material_flexural_modulus_mpa

    v = wrapped.spec
    modulus = material_flexural_modulus_mpa("PLA")
    uniform = ew._with(v, flex_length=0.0)
    reach = v.temple_length - v.earpiece_length
    inertia = v.temple_height * v.temple_thickness ** 3 / 12
    assert ew.temple_clamp_force_n(uniform, modulus, 2.0) == pytest.approx(3 * modulus * inertia * 2.0 / reach ** 3)
    assert ew.temple_clamp_force_n(v, 2 * modulus, 2.0) == pytest.approx(2 * ew.temple_clamp_force_n(v, modulus, 2.0))
    flexed = ew.temple_clamp_force_n(v, modulus)
    assert flexed == pytest.approx(0.155, abs=0.001)
    assert flexed < ew.temple_clamp_force_n(ew._with(v, flex_thickness=v.flex_thickness + 0.4), modulus) \
        < ew.temple_clamp_force_n(uniform, modulus)
    lo, hi = ew.CLAMP_FORCE_N
    pla, pa12 = wrapped.metrics("PLA")["checks"]["temple_grip"], wrapped.metrics("PA12")["checks"]["temple_grip"]
    assert pla["temple_clamp_force_n"] == pytest.approx(flexed, abs=1e-3) and pla["warning"] is None
    assert pla["comfortable_n"] == [lo, hi] and pla["set_mm"] == ew.TEMPLE_SET_MM
    assert pa12["temple_clamp_force_n"] < lo
    assert "0.08 N in PA12 (too loose" in pa12["warning"] and "thicken or shorten the flex section" in pa12["warning"]
    stiff = ew.clamp_force_check(ew._with(v, flex_length=0.0, temple_thickness=6.0, temple_height=9.0), "PLA")
    assert stiff["temple_clamp_force_n"] > hi and "too tight" in stiff["warning"]
