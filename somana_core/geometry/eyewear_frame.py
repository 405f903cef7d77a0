"""3D-printed eyewear: a frame front and two temples from a face's measurements. Parts: front,
left_temple, right_temple.

How the lenses go in: the lab edges each lens to the boxed size A x B (lens_width x lens_height) with
a V bevel. The rim holds it in a groove GROOVE_WIDTH_MM high running round the inside of the rim at
mid-thickness, `groove_depth` deep: the sight opening in front of and behind the groove is the lens
outline grown inward by groove_depth, and the groove's bottom is the lens outline plus LENS_PLAY_MM.
To fit a lens, warm the rim (not the bridge: see forming below) so it gives, push the lens in
from the back, bevel first, starting at the nasal side, and let it cool: the lips in front of and
behind the groove keep it. The blank the lab needs (effective diameter + twice the decentration +
EDGING_ALLOWANCE_MM) is checked against the stock blanks in data/lens_blanks.csv.

The front is one extrusion of a 2D profile (rims round the sight openings, bridge, end pieces) with
the two grooves cut from it, no 3D fillet: a filleted front gave a valid solid whose STL had open
edges (see NOTES.md). The hinge is a clevis: two cheeks on each end piece and the temple's tongue
between them, with a pin hole through all three. The tongue's end is square on its outer side and
round on its inner side: folding, the round side turns clear of the front; opening, the square
corner meets the back of the front at `open_angle` (90-95 degrees), the stop. A head wider than the
frame flexes the temples a few degrees past it, so they grip. Temples leave the hinge tilted down by
the pantoscopic tilt, so that worn with level temples the front leans its lower rims toward the
cheeks. Length of side (ISO 8624) is measured along the temple from the hinge axis to its tip and
equals temple_length. The frame marking (A, DBL and length of side, e.g. `50□18-140`) is engraved
inside the right temple. The front prints flat on its face (cheeks upright) and is heat-formed to
its wrap (see "Printing and forming"), the temples print on their outer side (lettering up).

Fit on the face: face-form wrap turns each half of the front (rim, end piece and cheeks) `wrap_deg`
about a vertical axis through the bridge; the hinge's stop is set wrap_deg further open relative to
the turned end piece, so worn, the temples still stop at open_angle from the frontal plane and reach
the ears at the same spread. The bridge is a saddle carved by a model of the wearer's nose (crest
height, frontal and splay angles: see "the saddle bridge" below), so the frame bears on the crest and
both sides of the nose. Each temple has a thinned flex section behind the hinge (flex_length x
flex_thickness, 45-degree ramps, in its inner side): a head wider than the temples' spread bends it,
which is what grips (a printed hinge has no spring).

Printing and forming: the front is PRINTED FLAT (face on the bed, cheeks up) and heat-formed to its
wrap after printing, as acetate fronts are cut from flat sheet and then bent. Printed already wrapped,
it would rest on the line of its bridge with each half rising at wrap_deg: its whole face would hang
in the air (2,372 mm2 over 45 degrees at the default 5 degrees, printability.overhang_area_mm2; the
shop's profiles print without supports, and supports under the face would scar the one surface
everybody sees and add 64% to the front's filament: benchmarks/eyewear_print_pose.py). So the part that is exported, sliced and quoted is the flat front
(`build_front`); the part the customer gets and the preview shows is the formed one (`formed_front`,
`EyewearFrameBuilder.as_sold`): each half turned wrap_deg about a vertical axis at the bridge's face.
The hinge cheeks are printed for the formed front (their stop already counts the wrap). Forming is
charged as its own labour line (forming_min, data/quote_assumptions.csv) only when the front is formed
(wrap_deg > 0; with no wrap it is printed in its final shape), done before the lenses go in; `forming_steps` says how, with the check in mm. Reheating the bridge past the material's
forming temperature undoes the wrap (a printed part creeps back toward its printed shape): warm only
the rims when fitting lenses. Ranges and defaults of the fit parameters and the forming temperatures
live in data/eyewear_fit.csv.

Frames (mm): the front is built with its face on z=0 (x across, y up, z toward the wearer);
a temple with its outer side on z=0, x along the temple from the hinge pin, y up.
"""

from __future__ import annotations

import math

import numpy as np

from somana_core.errors import InputError
from somana_core.geometry.fonts import FONT_NAME, describe_characters, text_width_mm, unsupported_characters
from somana_core.catalogue import eyewear_fit
from somana_core.geometry.spec import (FamilySpec, angle, choice, length, machine_ids, number, text)

# Design rules (mm unless said), not customer choices:
MAX_DECENTRATION_MM = 5.0   # per lens: beyond this the optical centre sits in the lens's edge zone
EDGING_ALLOWANCE_MM = 2.0   # minimum blank size = effective diameter + 2 x decentration + this
LENS_PLAY_MM = 0.1          # the groove's bottom is the lens outline grown by this much
GROOVE_WIDTH_MM = 1.2       # height of the groove (across the front's thickness), for a lens's V bevel
MIN_NOSE_GAP_MM = 6.0       # between the two rims across the nose, at its narrowest
TONGUE_EXTRA_MM = 0.5       # the temple's tongue reaches this much further forward than its pin ring
FRAME_MARK = "{a:g}\u25a1{dbl:g}-{side:g}"  # ISO 8624 marking: A, a square, DBL, length of side
CHEEK_NOZZLE_WIDTHS = 4     # hinge cheek thickness = 4 nozzle widths
HINGE_GAP_MM = 0.3          # play between the temple's end and the cheeks
PIN_PLAY_MM = 0.15          # the temple's pin hole is this much wider than the pin (it turns)
PIN_RING_MM = 1.2           # material around the pin hole in the cheeks and the temple's end
SPLINE_POINTS = 72          # points on a superellipse / cat-eye lens outline
SPLINE_SEGMENTS = 12        # ... split into this many spline edges
CAT_EYE_LIFT = 0.25         # how far the upper outer corner of a cat-eye lens is swept up, x lens height
CAT_EYE_EXPONENT = 2.6
RECTANGLE_CORNER_RATIO = 0.3  # rectangle lens corner radius, x the smaller half-size
BRIDGE_HEIGHT_RIMS = 1.5    # bridge bar height, in rim widths
TEXT_MARGIN_RATIO = 0.25
TEXT_HEIGHT_EM = 1.17
NOSE_MARGIN_MM = 0.5        # the nose cutter reaches this far past the front's faces (no coplanar cut)
FIT = eyewear_fit()         # data/eyewear_fit.csv: wrap, nose and flex ranges and defaults
CREST_RADIUS_MM = FIT["crest_radius"]["default"]
SADDLE_DEPTH_MM = FIT["saddle_depth"]["default"]  # the saddle follows the nose this far below its crest
FLEX_START_MM = 2.0         # the flex section starts this far behind the tongue (clear of the cheeks)
TEMPLE_SET_MM = FIT["temple_set_per_side"]["default"]  # how far the head pushes each temple out (the grip)
CLAMP_FORCE_N = (FIT["temple_clamp_force"]["min"], FIT["temple_clamp_force"]["max"])  # comfortable grip, N
END_FILLET_NOZZLES = 1.5    # radius of the fillet under each end piece, in nozzle widths (see end_piece_fillet)
END_FILLET_MAX_DEG = 100.0  # end-piece corners with the rim narrower than this (degrees of air) are filleted


def _fit_angle(name: str, step: float, doc: str, label: str):
    row = FIT[name]
    return angle(row["default"], (row["min"], row["max"]), step, doc, label)


def _fit_length(name: str, step: float, doc: str, label: str):
    row = FIT[name]
    return length(row["default"], (row["min"], row["max"]), step, doc, label)


class EyewearFrame(FamilySpec):
    """Eyewear frame: front + two temples."""

    family = "eyewear_frame"
    title = "3D-printed eyewear frame"
    parts = ("front", "left_temple", "right_temple")

    lens_width = length(50.0, (40.0, 62.0), 0.5, "Lens opening width (boxing system)", "Lens width")
    lens_height = length(38.0, (25.0, 50.0), 0.5, "Lens opening height", "Lens height")
    lens_shape = choice("round", ["round", "rectangle", "cat_eye", "superellipse"],
                        "Lens outline: round (ellipse), rectangle, cat-eye or a superellipse", "Lens shape")
    shape_exponent = number(3.0, (2.0, 8.0), 0.1, "Superellipse exponent (2 = ellipse, larger = squarer)",
                            "Superellipse exponent")
    groove_depth = length(0.8, (0.5, 1.2), 0.1, "How far the lens's edge sits in the rim's groove (the lens is "
                          "edged to lens_width x lens_height)", "Groove depth")
    bridge_width = length(18.0, (14.0, 24.0), 0.5, "Distance between the lenses at the bridge (DBL)", "Bridge width")
    pupillary_distance = length(63.0, (50.0, 76.0), 0.5, "Wearer's pupillary distance (PD)", "Pupillary distance")
    frame_width = length(140.0, (115.0, 160.0), 0.5, "Overall width of the front, hinge to hinge", "Frame width")
    rim_width = length(4.0, (2.0, 8.0), 0.5, "Material around each lens", "Rim width")
    frame_thickness = length(4.0, (3.0, 7.0), 0.5, "Front thickness (front to back)", "Frame thickness")
    temple_length = length(140.0, (115.0, 155.0), 1.0, "Length of side (ISO 8624): along the temple from the "
                           "hinge axis to its tip", "Temple length")
    pantoscopic_tilt = angle(9.0, (0.0, 15.0), 0.5, "Pantoscopic tilt: how far the front leans its lower rims "
                             "toward the face when the temples are level", "Pantoscopic tilt")
    wrap_deg = _fit_angle("wrap_deg", 0.5, "Face-form wrap: each rim turned about a vertical axis at the bridge so "
                          "the front follows the face (printed flat, heat-formed to this angle after printing)",
                          "Wrap")
    nose_frontal_angle = _fit_angle("nose_frontal_angle", 0.5, "The wearer's nose: each side's angle from vertical "
                                    "seen from the front (the saddle's flanks follow it)", "Nose frontal angle")
    nose_splay_angle = _fit_angle("nose_splay_angle", 0.5, "The wearer's nose: each side's angle from the "
                                  "median plane seen from above (the saddle's flanks follow it)", "Nose splay angle")
    crest_height = _fit_length("crest_height", 0.5, "Height of the saddle bridge's crest above the line through "
                               "the lens centres, on the front face: how high the frame sits on the nose",
                               "Crest height")
    flex_length = _fit_length("flex_length", 1.0, "Length of the thinned flex section behind each hinge (0 = "
                              "none): the temple bends there to grip the head", "Flex length")
    flex_thickness = _fit_length("flex_thickness", 0.1, "Temple thickness across the flex section",
                                 "Flex thickness")
    earpiece_length = length(30.0, (15.0, 45.0), 1.0, "Length of the bent part behind the ear", "Earpiece length")
    temple_drop = angle(20.0, (0.0, 35.0), 1.0, "How far the earpiece bends down", "Earpiece bend")
    temple_height = length(6.0, (4.0, 9.0), 0.5, "Temple height", "Temple height")
    temple_thickness = length(4.0, (3.0, 6.0), 0.5, "Temple thickness (side to side)", "Temple thickness")
    hinge_style = choice("pin", ["pin", "glue"], "Pin hinge (folds; a pin goes through), or glued in open",
                         "Hinge style")
    hinge_pin = length(1.6, (1.0, 2.5), 0.1, "Hinge pin diameter (e.g. a 1.6 mm steel pin or filament)",
                       "Hinge pin")
    open_angle = angle(92.0, (90.0, 95.0), 0.5, "Angle between the frontal plane and a temple where the hinge "
                       "stops opening (with wrap too)",
                       "Open stop")
    text = text("", 20, f"Text inside a temple, in {FONT_NAME} (empty = none)", "Temple text")
    text_side = choice("left", ["left", "right", "both"], "Which temple carries the text", "Text temple")
    text_size = length(3.5, (2.0, 6.0), 0.5, "Font size (em height) of the temple text", "Text size")
    text_depth = length(0.4, (0.3, 1.0), 0.1, "Engraving depth of the temple text", "Text depth")
    machine = choice("prusa_mk3s", machine_ids(), "Printer it is made on (build volume, nozzle)", "Printer")

    text_limits = {"text": 20}
    groups = {
        "Lenses": ["lens_width", "lens_height", "lens_shape", "shape_exponent", "groove_depth"],
        "Fit": ["pupillary_distance", "bridge_width", "frame_width", "pantoscopic_tilt", "wrap_deg"],
        "Nose": ["nose_frontal_angle", "nose_splay_angle", "crest_height"],
        "Frame": ["rim_width", "frame_thickness"],
        "Temples": ["temple_length", "earpiece_length", "temple_drop", "temple_height", "temple_thickness",
                    "flex_length", "flex_thickness"],
        "Hinge": ["hinge_style", "hinge_pin", "open_angle"],
        "Text": ["text", "text_side", "text_size", "text_depth"],
        "Production": ["machine"],
    }
    _hinge = ["temple_height", "temple_thickness", "hinge_style", "hinge_pin", "open_angle", "wrap_deg", "machine"]
    _temple = ["temple_length", "earpiece_length", "temple_drop", "pantoscopic_tilt", "text", "text_side",
               "text_size", "text_depth", "lens_width", "bridge_width",  # A and DBL: the frame marking
               "flex_length", "flex_thickness"]
    part_inputs = {
        "front": ["lens_width", "lens_height", "lens_shape", "shape_exponent", "groove_depth", "bridge_width",
                  "frame_width", "rim_width", "frame_thickness", "nose_frontal_angle", "nose_splay_angle",
                  "crest_height"] + _hinge,
        # only the right temple carries the frame marking (A and DBL): a lens or bridge change leaves the
        # left temple in the part cache (one temple build less on the configurator's commonest change)
        "left_temple": _hinge + [name for name in _temple if name not in ("lens_width", "bridge_width")],
        "right_temple": _hinge + _temple,
    }

    def decentration_mm(self) -> float:
        """Per lens, mm: how far each optical centre sits inward of the lens's box centre."""
        return (self.lens_width + self.bridge_width - self.pupillary_distance) / 2

    def part_envelopes(self):
        h = hinge(self)
        front_y = max(self.lens_height + 2 * self.rim_width, h.stack)
        front = (self.frame_width, front_y, self.frame_thickness + h.cheek_depth)  # printed flat, formed after
        lo, hi = temple_outline_extent(self, h)
        temple = (hi[0] - lo[0], hi[1] - lo[1], self.temple_thickness)
        return {"front": front, "left_temple": temple, "right_temple": temple}

    def cross_check(self) -> None:
        min_wall = self.min_wall_mm()
        dec = self.decentration_mm()
        frame_pd = self.lens_width + self.bridge_width
        if abs(dec) > MAX_DECENTRATION_MM:
            raise InputError("pupillary_distance",
                             f"pupillary_distance={self.pupillary_distance:g} mm needs {abs(dec):.1f} mm "
                             f"decentration per lens (lens_width + bridge_width = {frame_pd:g} mm); at most "
                             f"{MAX_DECENTRATION_MM:g} mm is possible: choose lenses and bridge adding up to "
                             f"{self.pupillary_distance - 2 * MAX_DECENTRATION_MM:g} to "
                             f"{self.pupillary_distance + 2 * MAX_DECENTRATION_MM:g} mm")
        if self.rim_width < min_wall:
            raise InputError("rim_width", f"rim_width={self.rim_width:g} mm is below the minimum {min_wall:g} mm "
                                          f"(two nozzle widths)")
        nose_gap = self.bridge_width - 2 * self.rim_width
        if nose_gap < MIN_NOSE_GAP_MM:
            raise InputError("rim_width", f"rim_width={self.rim_width:g} mm leaves {nose_gap:g} mm between the rims "
                                          f"across the nose (bridge_width {self.bridge_width:g} mm); the nose needs "
                                          f"{MIN_NOSE_GAP_MM:g} mm: use rim_width at most "
                                          f"{(self.bridge_width - MIN_NOSE_GAP_MM) / 2:g} mm or a wider bridge")
        if self.rim_width - LENS_PLAY_MM < min_wall + self.groove_depth / 2:
            raise InputError("groove_depth", f"groove_depth={self.groove_depth:g} mm: the rim ({self.rim_width:g} mm) "
                                             f"is too narrow around the lens's groove")
        blank = min_blank_mm(self)
        stock = lens_blanks_mm()
        if stock and blank > stock[-1]:
            raise InputError("lens_width", f"lens_width={self.lens_width:g} mm: the lenses need a {blank:.1f} mm blank "
                                           f"(effective diameter {effective_diameter_mm(self):.1f} mm + 2 x "
                                           f"{abs(dec):.1f} mm decentration + {EDGING_ALLOWANCE_MM:g} mm edging); the "
                                           f"largest stock blank is {stock[-1]:g} mm (data/lens_blanks.csv): choose "
                                           f"smaller lenses or a bridge that centres them on the pupils")
        needed = 2 * self.lens_width + self.bridge_width + 2 * self.rim_width + 2 * self.temple_thickness
        if needed > self.frame_width:
            most = (self.frame_width - self.bridge_width - 2 * self.rim_width - 2 * self.temple_thickness) / 2
            raise InputError("lens_width", f"lens_width={self.lens_width:g} mm is too wide for "
                                           f"frame_width={self.frame_width:g} mm: two lenses, the bridge, rims and "
                                           f"hinges need {needed:g} mm; use lens_width at most {most:.1f} mm or a "
                                           f"wider frame")
        bar_top = self.lens_height / 2 + self.rim_width / 2
        crest_back = self.crest_height + nose_rise_mm(self)
        if bar_top - crest_back < self.rim_width:
            most = bar_top - self.rim_width - nose_rise_mm(self)
            raise InputError("crest_height", f"crest_height={self.crest_height:g} mm leaves {bar_top - crest_back:.1f} mm "
                                             f"of bridge above the nose; it needs {self.rim_width:g} mm (the rim "
                                             f"width): use crest_height at most {math.floor(most * 2) / 2:g} mm")
        clearance = nose_clearance_mm(self)
        need = min_wall + LENS_PLAY_MM
        if clearance < need:
            fits = highest_fitting_crest_mm(self, need)
            hint = (f"use crest_height at most {fits:g} mm" if fits is not None
                    else "no crest height fits: widen the bridge or choose narrower lenses")
            raise InputError("crest_height", f"crest_height={self.crest_height:g} mm: the nose (frontal angle "
                                             f"{self.nose_frontal_angle:g}, splay {self.nose_splay_angle:g} deg) "
                                             f"comes within {max(clearance, 0):.1f} mm of a lens (needs {need:.1f} mm "
                                             f"of rim); {hint}")
        h = hinge(self)
        if h.stack > self.lens_height + self.rim_width:
            raise InputError("temple_height", f"temple_height={self.temple_height:g} mm: the hinge ({h.stack:.1f} mm "
                                              f"tall) is taller than the frame's side ({self.lens_height + self.rim_width:g}"
                                              f" mm); use a lower temple or taller lenses")
        if self.hinge_style == "pin" and self.temple_thickness < self.hinge_pin + PIN_PLAY_MM + 2 * min_wall:
            raise InputError("temple_thickness", f"temple_thickness={self.temple_thickness:g} mm is too thin around "
                                                 f"a {self.hinge_pin:g} mm hinge pin; use at least "
                                                 f"{self.hinge_pin + PIN_PLAY_MM + 2 * min_wall:.1f} mm")
        arm = arm_length_mm(self, h)
        if arm < 3 * h.tongue_length:
            raise InputError("earpiece_length", f"earpiece_length={self.earpiece_length:g} mm leaves too short a "
                                                f"straight temple; use at most "
                                                f"{self.earpiece_length - (3 * h.tongue_length - arm):.0f} mm")
        if self.flex_length > 0:
            thinnest = 2 * min_wall
            if self.flex_thickness < thinnest:
                raise InputError("flex_thickness", f"flex_thickness={self.flex_thickness:g} mm is below {thinnest:g} mm "
                                                   f"(two walls of the printer's nozzle)")
            if self.flex_thickness > self.temple_thickness - 0.5:
                raise InputError("flex_thickness", f"flex_thickness={self.flex_thickness:g} mm leaves no flex in a "
                                                   f"{self.temple_thickness:g} mm temple; use at most "
                                                   f"{self.temple_thickness - 0.5:g} mm")
            room = arm / 2 - FLEX_START_MM - 2 * (self.temple_thickness - self.flex_thickness)
            if self.flex_length > room:
                raise InputError("flex_length", f"flex_length={self.flex_length:g} mm does not fit in the first half of "
                                                f"the {arm:.0f} mm temple arm; use at most {max(math.floor(room), 0):g} mm")
        if self.text.strip():
            bad = unsupported_characters(self.text)
            if bad:
                raise InputError("text", f"text: {describe_characters(bad)} cannot be engraved with the "
                                         f"{FONT_NAME} font; use letters from Latin, Greek or Cyrillic scripts")
        for side in ("left", "right"):
            lettering = temple_lettering(self, side)
            if not lettering:
                continue
            room = text_room(self, h)
            width = text_width_mm(lettering, self.text_size)
            margin = 2 * TEXT_MARGIN_RATIO * self.text_size
            if width + margin > room:
                best = self.text_size * room / (width + margin)
                with_mark = " with the frame marking" if side == "right" else ""
                raise InputError("text", f"text {self.text!r}{with_mark} is {width:.0f} mm long at "
                                         f"text_size={self.text_size:g} mm; the {side} temple holds "
                                         f"{room - margin:.0f} mm: shorten it or use text_size at most "
                                         f"{max(best - 0.05, 0):.1f} mm")
            if self.text_size * TEXT_HEIGHT_EM + margin > self.temple_height:
                most = self.temple_height / (TEXT_HEIGHT_EM + 2 * TEXT_MARGIN_RATIO)
                raise InputError("text_size", f"text_size={self.text_size:g} mm is taller than the "
                                              f"{self.temple_height:g} mm temple allows ({most:.1f} mm)")
            keep = self.temple_thickness / 2 + (self.hinge_pin + PIN_PLAY_MM) / 2 + min_wall / 2
            if self.text_depth > self.temple_thickness - keep:
                raise InputError("text_depth", f"text_depth={self.text_depth:g} mm is too deep for a "
                                               f"{self.temple_thickness:g} mm temple; use at most "
                                               f"{max(self.temple_thickness - keep, 0):.1f} mm")


def _with(spec, **changes):
    """A plain namespace of the spec's values with some changed (for what-if geometry checks)."""
    from types import SimpleNamespace

    return SimpleNamespace(**{**spec.values(), **changes})


class Hinge:
    """Derived hinge dimensions (mm), shared by validation, builders and placements."""

    def __init__(self, v):
        from somana_core.catalogue import nozzle_mm

        nozzle = nozzle_mm(v.machine)
        self.cheek = CHEEK_NOZZLE_WIDTHS * nozzle
        self.gap = HINGE_GAP_MM
        self.pin = v.hinge_pin
        self.ring = v.hinge_pin / 2 + PIN_RING_MM
        self.t = v.temple_thickness
        self.h = v.temple_height
        self.stack = v.temple_height + 2 * self.gap + 2 * self.cheek
        # the tongue reaches `tongue_front` in front of the pin, square on its outer side: opening past
        # 90 degrees that corner swings toward the front and meets it at `open_angle` (the stop);
        # its inner side is round about the pin (radius `fold_radius`), clear of the front when folding
        self.tongue_front = self.ring + TONGUE_EXTRA_MM
        # the end piece is turned wrap_deg with its rim, so relative to it the stop is wrap_deg further
        # open: worn, the temples stop at open_angle from the frontal plane whatever the wrap
        past = math.radians(v.open_angle + v.wrap_deg - 90.0)
        self.pin_back = self.t / 2 * math.sin(past) + self.tongue_front * math.cos(past)
        self.fold_radius = self.pin_back - self.gap
        self.cheek_depth = self.pin_back + self.ring
        self.tongue_length = self.tongue_front + self.ring + self.gap  # from the tongue's tip to the arm


def hinge(v) -> Hinge:
    return Hinge(v)


def tongue_end_x(h: Hinge) -> float:
    """Where the temple's straight tongue ends and its arm begins (x from the pin, mm): past the cheeks."""
    return h.ring + h.gap


def arm_length_mm(v, h: Hinge) -> float:
    """The arm from the tongue to the ear bend, along the temple (mm)."""
    return v.temple_length - v.earpiece_length - tongue_end_x(h)


def flex_span_mm(v, h: Hinge) -> tuple[float, float]:
    """Where the flex recess runs along the temple (x from the pin, mm): its ramps included; (x, x) for none."""
    x0 = tongue_end_x(h) + FLEX_START_MM
    if v.flex_length <= 0:
        return x0, x0
    return x0, x0 + v.flex_length + 2 * (h.t - v.flex_thickness)


def temple_clamp_force_n(v, modulus_mpa: float, set_mm: float | None = None) -> float:
    """How hard each temple grips the head (N, at the ear bend) when the head pushes it `set_mm` outward
    there (default: the fitting's temple_set_per_side, data/eyewear_fit.csv). The temple is a cantilever
    from the hinge axis (the open stop holds it there) to the ear bend, L = temple_length -
    earpiece_length, bent across its thickness: I = temple_height x thickness^3 / 12, thinner along the
    flex section (its 45-degree ramps at their mean thickness). A load F at L deflects it
    F x sum over the sections of ((L - a)^3 - (L - b)^3) / (3 E I) (unit-load method; 3EI/L^3 for one
    uniform beam), so F = set / that compliance. The front's end piece is taken as rigid (the force is
    then a little high)."""
    set_mm = TEMPLE_SET_MM if set_mm is None else set_mm
    h = hinge(v)
    reach = v.temple_length - v.earpiece_length

    def inertia(thickness: float) -> float:
        return v.temple_height * thickness ** 3 / 12.0

    f0, f1 = flex_span_mm(v, h)
    ramp = (h.t - v.flex_thickness) if f1 > f0 else 0.0
    sections = [(0.0, f0, h.t), (f0, f0 + ramp, (h.t + v.flex_thickness) / 2),
                (f0 + ramp, f1 - ramp, v.flex_thickness), (f1 - ramp, f1, (h.t + v.flex_thickness) / 2),
                (f1, reach, h.t)]
    compliance = 0.0  # mm per N
    for a, b, thickness in sections:
        a, b = min(a, reach), min(b, reach)
        if b > a:
            compliance += ((reach - a) ** 3 - (reach - b) ** 3) / (3.0 * modulus_mpa * inertia(thickness))
    return set_mm / compliance


def clamp_force_check(v, material: str) -> dict:
    """The temples' grip in one material: {"temple_clamp_force_n", "comfortable_n": [lo, hi], "set_mm",
    "warning" (None when comfortable)}."""
    from somana_core.catalogue import material_flexural_modulus_mpa

    force = temple_clamp_force_n(v, material_flexural_modulus_mpa(material))
    lo, hi = CLAMP_FORCE_N
    warning = None
    if not lo <= force <= hi:
        warning = (f"the temples grip with {force:.2f} N in {material} ({'too loose' if force < lo else 'too tight'}; "
                   f"comfortable {lo:g}-{hi:g} N): {'thicken or shorten' if force < lo else 'thin or lengthen'} "
                   f"the flex section (flex_thickness {v.flex_thickness:g} mm, flex_length {v.flex_length:g} mm)")
    return {"temple_clamp_force_n": round(force, 3), "comfortable_n": [lo, hi], "set_mm": TEMPLE_SET_MM,
            "warning": warning}


def text_room(v, h: Hinge) -> float:
    """Length (mm) of the temple's arm, between the flex section and the ear bend, for lettering."""
    x0, x1 = flex_span_mm(v, h)
    return arm_length_mm(v, h) - (x1 - tongue_end_x(h) if x1 > x0 else 0.0) - h.h


def frame_marking(v) -> str:
    """ISO 8624 marking: lens width A, a square, distance between lenses, length of side (`50□18-140`)."""
    return FRAME_MARK.format(a=v.lens_width, dbl=v.bridge_width, side=v.temple_length)


def temple_lettering(v, side: str) -> str:
    """What is engraved inside one temple: the customer's text where asked, the frame marking on the right."""
    parts = []
    if v.text.strip() and v.text_side in (side, "both"):
        parts.append(v.text.strip())
    if side == "right":
        parts.append(frame_marking(v))
    return "   ".join(parts)


def temple_centreline(v, h: Hinge, mirrored: bool) -> list[tuple[float, float]]:
    """Tongue (straight, between the cheeks), arm (tilted down by the pantoscopic tilt), earpiece (bent
    down by temple_drop); the developed length from the pin (x=0) to the tip's end, with the round cap
    of half the temple height, is exactly temple_length (ISO 8624 length of side)."""
    sy = 1.0 if mirrored else -1.0  # a right temple is built upside down (see placement); sy is "down"
    tilt, drop = math.radians(v.pantoscopic_tilt), math.radians(v.temple_drop)
    start = -h.tongue_front + h.h / 2
    x1 = tongue_end_x(h)
    arm = arm_length_mm(v, h)
    x2, y2 = x1 + arm * math.cos(tilt), sy * arm * math.sin(tilt)
    ear = v.earpiece_length - h.h / 2
    bend = tilt + drop
    return [(start, 0.0), (x1, 0.0), (x2, y2), (x2 + ear * math.cos(bend), y2 + sy * ear * math.sin(bend))]


def temple_outline_extent(v, h: Hinge):
    pts = np.array(temple_centreline(v, h, False))
    r = h.h / 2
    return pts.min(axis=0) - r, pts.max(axis=0) + r


def lens_outline(v) -> np.ndarray:
    """Points (n,2) on one lens's outline about its box centre (for blank sizes; any shape)."""
    a, b = v.lens_width / 2, v.lens_height / 2
    if v.lens_shape == "round":
        ts = np.linspace(0, 2 * np.pi, 360, endpoint=False)
        return np.stack([a * np.cos(ts), b * np.sin(ts)], axis=1)
    if v.lens_shape == "rectangle":
        r = RECTANGLE_CORNER_RATIO * min(a, b)
        ts = np.linspace(0, 2 * np.pi, 360, endpoint=False)
        cx, cy = (a - r) * np.sign(np.cos(ts)), (b - r) * np.sign(np.sin(ts))
        return np.stack([cx + r * np.cos(ts), cy + r * np.sin(ts)], axis=1)
    return lens_outline_points(v, 0.0, 1.0)


def effective_diameter_mm(v) -> float:
    """ED: twice the largest distance from the lens's box centre to its edge, mm."""
    return 2 * float(np.hypot(*lens_outline(v).T).max())


def min_blank_mm(v) -> float:
    """The smallest uncut blank that yields the lens: ED + 2 x decentration + edging allowance, mm."""
    dec = (v.lens_width + v.bridge_width - v.pupillary_distance) / 2
    return effective_diameter_mm(v) + 2 * abs(dec) + EDGING_ALLOWANCE_MM


def lens_blanks_mm() -> list[float]:
    from somana_core.catalogue import lens_blank_diameters_mm

    return lens_blank_diameters_mm()


def lens_centre_x(v) -> float:
    return (v.bridge_width + v.lens_width) / 2


def hinge_y(v, h: Hinge) -> float:
    """Height of the hinge's middle in the front's frame (lens centres at y=0): its top half a rim
    below the frame's top, so the end piece's edge crosses the rim instead of touching its highest
    point (that tangent contact gave an STL with open edges)."""
    return v.lens_height / 2 + v.rim_width / 2 - h.stack / 2


# ----------------------------------------------------------------------------- the saddle bridge
# Why a saddle and not pad arms: a printed frame has no metal pad arms to adjust, and moulded pads or a
# saddle are how plastic frames bear on the nose. The saddle is carved by a model of the wearer's nose:
# an arch of CREST_RADIUS_MM over the crest, flanks leaning out at the nose's frontal angle (seen from
# the front) and drawn back at its splay angle (seen from above), so the frame bears on the crest and
# both sides of the nose instead of resting on its rims' edges (a frontal angle that does not match puts
# the weight on the crest or on the lower rims: cocoleni.com "Nasal Angles"; crest height, frontal and
# splay angle as defined in A. Keirl, "Essential course in dispensing Part 3 - Spectacle frames",
# Optician, 9 Aug 2013). It prints without supports with the front on its face: the carved surfaces
# are the walls of an opening through the front, leaning outward as they rise (toward the wearer), so
# every layer rests on the one below; no surface faces down.
def nose_draft_deg(v) -> float:
    """The nose cutter's draft (normal to each flank): its horizontal sections splay at nose_splay_angle."""
    return math.degrees(math.atan(math.tan(math.radians(v.nose_splay_angle))
                                  * math.cos(math.radians(v.nose_frontal_angle))))


def nose_rise_mm(v) -> float:
    """How much higher the nose's crest is at the front's back face than on its front face, mm."""
    return v.frame_thickness * math.tan(math.radians(nose_draft_deg(v)))


def nose_halfwidth_mm(v, y, z: float):
    """Half-width of the nose model at height y (array) and depth z behind the front face (mm); -inf
    above the crest."""
    y = np.asarray(y, dtype=float)
    r = CREST_RADIUS_MM + z * math.tan(math.radians(nose_draft_deg(v)))
    cy = v.crest_height - CREST_RADIUS_MM
    phi = math.radians(v.nose_frontal_angle)
    tx, ty = r * math.cos(phi), cy + r * math.sin(phi)
    arc = np.sqrt(np.clip(r * r - (y - cy) ** 2, 0, None))
    flank_y = np.maximum(y, saddle_bottom_mm(v))  # below the bearing zone the nose is taken no wider
    w = np.where(y < ty, tx + (ty - flank_y) * math.tan(phi), arc)
    return np.where(y > cy + r, -np.inf, w)


def lens_points(v, cx: float, outer_sign: float, n: int = 360) -> np.ndarray:
    """Points (n,2) on one lens's outline centred at (cx, 0), any shape (the spline shapes as built)."""
    if v.lens_shape in ("round", "rectangle"):
        pts = lens_outline(v)
        return pts + np.array([cx, 0.0])
    return lens_outline_points(v, cx, outer_sign)


def nose_clearance_mm(v) -> float:
    """Smallest distance (mm) between the nose model where it is widest (the front's back face) and the
    right lens's outline; negative when the nose reaches into the lens."""
    pts = lens_points(v, lens_centre_x(v), 1.0)
    nasal = pts[pts[:, 0] < lens_centre_x(v)]
    width = nose_halfwidth_mm(v, nasal[:, 1], v.frame_thickness)
    if np.any(nasal[:, 0] < width):
        return -1.0
    ys = np.arange(-(v.lens_height / 2 + v.rim_width + 1), v.crest_height + nose_rise_mm(v) + CREST_RADIUS_MM, 0.1)
    xs = nose_halfwidth_mm(v, ys, v.frame_thickness)
    keep = np.isfinite(xs)
    boundary = np.stack([xs[keep], ys[keep]], axis=1)
    d = np.linalg.norm(nasal[:, None, :] - boundary[None, :, :], axis=2)
    return float(d.min())


def highest_fitting_crest_mm(spec, need_mm: float) -> float | None:
    """The highest crest_height (on its 0.5 mm grid, within its bounds) whose nose keeps `need_mm` from the
    lenses, or None (a lower crest always fits better: the nose is narrower nearer its crest)."""
    lowest = type(spec).param["crest_height"].bounds[0]
    steps = int(round((spec.crest_height - lowest) / 0.5))

    def fits(i: int) -> bool:
        return nose_clearance_mm(_with(spec, crest_height=lowest + 0.5 * i)) >= need_mm

    if not fits(0):
        return None
    lo, hi = 0, steps  # fits(lo) holds; find the largest such index
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid - 1)
    return lowest + 0.5 * lo


def saddle_bottom_mm(v) -> float:
    """Lowest y the saddle follows the nose's flanks to (SADDLE_DEPTH_MM below the crest on the front
    face): the bridge body ends there; below it the nose model goes straight down."""
    return v.crest_height - SADDLE_DEPTH_MM


# ----------------------------------------------------------------------------- builders
def lens_outline_points(v, cx: float, outer_sign: float) -> np.ndarray:
    """Points (n,2) on a spline lens outline (superellipse or cat-eye), exactly the lens box."""
    a, b = v.lens_width / 2, v.lens_height / 2
    n = v.shape_exponent if v.lens_shape == "superellipse" else CAT_EYE_EXPONENT
    ts = np.linspace(0, 2 * np.pi, SPLINE_POINTS, endpoint=False)
    c, s = np.cos(ts), np.sin(ts)
    x = np.sign(c) * np.abs(c) ** (2 / n)
    y = np.sign(s) * np.abs(s) ** (2 / n)
    if v.lens_shape == "cat_eye":  # sweep the upper outer corner up, then rescale to the box exactly
        y = y + 2 * CAT_EYE_LIFT * np.clip(x * outer_sign, 0, None) ** 2 * np.clip(y, 0, None)
        x = -1 + 2 * (x - x.min()) / (x.max() - x.min())
        y = -1 + 2 * (y - y.min()) / (y.max() - y.min())
    return np.stack([cx + a * x, b * y], axis=1)


def lens_wire(v, cx: float, outer_sign: float):
    """The lens opening outline, exactly lens_width x lens_height, centred at (cx, 0)."""
    from somana_core.geometry import kernel

    a, b = v.lens_width / 2, v.lens_height / 2
    if v.lens_shape == "round":
        return kernel.ellipse_wire(cx, 0.0, a, b)
    if v.lens_shape == "rectangle":
        return kernel.rounded_rect_wire(2 * a, 2 * b, RECTANGLE_CORNER_RATIO * min(a, b), x0=cx)
    return kernel.spline_loop_wire(lens_outline_points(v, cx, outer_sign), SPLINE_SEGMENTS)


def rim_outer_x_mm(v, y: float, side: str, grow_mm: float = 0.0) -> float | None:
    """Where the right rim's outer edge, grown by `grow_mm`, is at height y (mm) on its "nasal" or
    "temporal" side (the offset of the lens outline by rim_width is the envelope of discs of that radius
    round the outline), or None when the rim does not reach that height."""
    r = v.rim_width + grow_mm
    pts = lens_points(v, lens_centre_x(v), 1.0)
    near = np.abs(pts[:, 1] - y) <= r
    if not near.any():
        return None
    p = pts[near]
    reach = np.sqrt(r ** 2 - (p[:, 1] - y) ** 2)
    return float(np.min(p[:, 0] - reach) if side == "nasal" else np.max(p[:, 0] + reach))


def end_piece_fillet(v, h: Hinge) -> np.ndarray | None:
    """The fillet under the right end piece (a polygon, mm), or None when it needs none. The end piece's
    lower edge leaves the rim where the rim's outer edge already slopes outward on its way down (round,
    cat-eye and superellipse lenses), so the air between them is a wedge of 40-70 degrees: its tip is
    narrower than two nozzle widths over a length no slicer prints (it fuses the perimeters across it,
    leaving a ragged notch). A round of END_FILLET_NOZZLES nozzle widths, tangent to the end piece's
    lower edge and to the rim, fills that tip so a disc of two nozzle widths reaches every part of the
    air that is left (printability.narrow_gaps finds none). The polygon overlaps the end piece and the
    rim (no edge of it lies along theirs) and leaves the lower edge a hair outside its tangent point, so
    no boolean meets a tangent contact."""
    from somana_core.catalogue import nozzle_mm

    radius = END_FILLET_NOZZLES * nozzle_mm(v.machine)
    y_edge = hinge_y(v, h) - h.stack / 2
    x_cross = rim_outer_x_mm(v, y_edge, "temporal")
    x_centre = rim_outer_x_mm(v, y_edge - radius, "temporal", radius)
    if x_cross is None or x_centre is None or x_centre <= x_cross:
        return None
    centre = np.array([x_centre, y_edge - radius])
    pts = lens_points(v, lens_centre_x(v), 1.0)
    nearest = pts[np.argmin(np.linalg.norm(pts - centre, axis=1))]
    inward = (nearest - centre) / np.linalg.norm(nearest - centre)   # from the fillet's centre into the rim
    touch = nearest - inward * v.rim_width                            # where the fillet meets the rim
    end_deg = math.degrees(math.atan2(*(touch - centre)[::-1])) % 360.0
    air_deg = 180.0 - (end_deg - 90.0)  # the wedge's angle: 180 minus the arc the fillet turns through
    if not 90.0 < end_deg < 270.0 or air_deg >= END_FILLET_MAX_DEG:
        return None
    arc = [centre + radius * np.array([math.cos(math.radians(a)), math.sin(math.radians(a))])
           for a in np.linspace(85.0, end_deg, 10)]
    lift = min(0.3, h.stack / 4)
    return np.array([(x_cross - lift, y_edge + lift), (arc[0][0], y_edge + lift), *arc, touch + inward * lift])


def lower_fill_halfwidth_mm(v) -> float | None:
    """Half-width of the bridge's fill below the lens centres (down to the saddle's bottom): half a rim
    past the rims' outer nasal edge wherever it is between those heights, so its side lies inside the rim
    or the lens opening (cut with it) and never under the rim; None when the saddle ends below the rims."""
    bottom = saddle_bottom_mm(v)
    if bottom >= 0:
        return None
    xs = [rim_outer_x_mm(v, y, "nasal") for y in np.linspace(bottom, 0.0, 25)]
    if any(x is None for x in xs):
        return None
    return max(xs) + v.rim_width / 2


def sight_wire(v, lens, cx: float, outer_sign: float):
    """The sight opening: the lens outline shrunk by groove_depth. OCC's offset of a near-rectangular
    spline loop came out null (superellipse exponent 7.9, 48.5 x 27 mm lens, the slice fuzz): then the
    same outline points as one periodic spline, which offsets."""
    from somana_core.geometry import kernel as tk

    try:
        return tk.offset_wire(lens, -v.groove_depth)
    except ValueError:
        if v.lens_shape in ("round", "rectangle"):
            raise
        return tk.offset_wire(tk.periodic_spline_wire(lens_outline_points(v, cx, outer_sign)), -v.groove_depth)


def end_piece_faces(v, h: Hinge, sides=(-1, 1)) -> list:
    """The end pieces (from each lens centre out to the frame's width, as tall as the hinge) and the
    fillets under them (`end_piece_fillet`, mirrored for the left), as flat faces of the front's profile."""
    from somana_core.geometry import kernel as tk

    cx, yh, half = lens_centre_x(v), hinge_y(v, h), v.frame_width / 2
    faces = [tk.rect_face(cx if sx > 0 else -half, yh - h.stack / 2, half if sx > 0 else -cx, yh + h.stack / 2)
             for sx in sides]
    fillet = end_piece_fillet(v, h)
    if fillet is not None:  # counter-clockwise, as the other pieces, so the fused profile is one face
        faces += [tk.face(tk.polygon_wire(fillet[::-sx] * np.array([sx, 1.0]))) for sx in sides]
    return faces


def build_front(v):
    from somana_core.geometry import kernel as tk

    h = hinge(v)
    cx = lens_centre_x(v)
    lenses = [lens_wire(v, sx * cx, sx) for sx in (-1, 1)]
    rims = [tk.face(tk.offset_wire(w, v.rim_width)) for w in lenses]
    sights = [sight_wire(v, w, sx * cx, sx) for w, sx in zip(lenses, (-1, 1))]  # the lips before/behind the lens
    yh = hinge_y(v, h)
    bridge_h = BRIDGE_HEIGHT_RIMS * v.rim_width
    top = v.lens_height / 2 + v.rim_width
    pieces = rims + [tk.rect_face(-cx, top - bridge_h - v.rim_width, cx, top - v.rim_width / 2)]
    # the bridge body between the rims, reaching into them (what lies in a lens opening is cut with
    # it), carved by the nose below its crest
    x_body = v.bridge_width / 2 + v.rim_width / 2
    pieces.append(tk.rect_face(-x_body, saddle_bottom_mm(v), x_body, top - v.rim_width / 2))
    # above the lenses' centres the bridge is solid out to them: the bar, the body and each rim's upper
    # nasal arc would otherwise enclose a pocket whose corners taper below two nozzle widths (the slicer
    # fuses or drops them); below the centres that fill would hang under the rims, so there it reaches
    # only half a rim into the rims' lower nasal arcs, closing the notch between them and the body
    pieces.append(tk.rect_face(-cx, max(saddle_bottom_mm(v), 0.0), cx, top - v.rim_width / 2))
    reach = lower_fill_halfwidth_mm(v)
    if reach is not None and reach > x_body:
        pieces.append(tk.rect_face(-reach, saddle_bottom_mm(v), reach, top - v.rim_width / 2))
    half = v.frame_width / 2
    pieces += end_piece_faces(v, h, sides=(-1, 1))
    profile = tk.faces_fuse(pieces)
    # no clean() after cutting the lenses: unifying the lens's spline edges gave a face whose
    # integrated area was 8% off its own mesh (and a mesh with open edges at some exponents)
    profile = tk.single_face(tk.faces_cut(profile, [tk.face(w) for w in sights]), "front profile")
    front = tk.extrude(profile, v.frame_thickness)
    # the grooves the lenses sit in: the lens outline plus play, GROOVE_WIDTH_MM high, mid-thickness
    z_groove = (v.frame_thickness - GROOVE_WIDTH_MM) / 2
    grooves = [tk.prism(tk.face(tk.offset_wire(w, LENS_PLAY_MM)), z_groove, GROOVE_WIDTH_MM) for w in lenses]
    nose = nose_cutter(v)
    front = tk.one_solid(tk.boolean("cut", front, grooves + [nose]), "front")
    glued = [front]
    z0 = v.frame_thickness
    for sx in (-1, 1):  # clevis cheeks on the back of each end piece
        xk = sx * (half - h.t / 2)
        for sy in (-1, 1):
            y_in = yh + sy * (h.h / 2 + h.gap)
            y_out = yh + sy * h.stack / 2
            cheek = tk.box(xk - h.t / 2, min(y_in, y_out), z0, xk + h.t / 2, max(y_in, y_out), z0 + h.cheek_depth)
            if v.hinge_style == "pin":
                cheek = cheek.cut(tk.cylinder_along((xk, min(y_in, y_out) - 1, z0 + h.pin_back), (0, 1, 0),
                                                    h.cheek + 2, h.pin))
            glued.append(cheek)
    return tk.glue(glued, "front", clean=False)


def formed_front(front, v):
    """The front as sold: the flat printed front (`build_front`) with each half turned wrap_deg about
    the vertical axis through the bridge on its face, as heat-forming bends it (see "Printing and
    forming")."""
    from somana_core.geometry import kernel as tk

    if v.wrap_deg <= 0:
        return front
    return tk.one_solid(tk.turned_halves(front, v.wrap_deg), "front")


def end_piece_rise_mm(v) -> float:
    """The forming check: the formed front laid face down on a flat table rests on its bridge, and each
    end piece's outer edge stands this high above the table (mm)."""
    return v.frame_width / 2 * math.sin(math.radians(v.wrap_deg))


def lens_fitting_step(v) -> str:
    """How the lenses go in (see the module's first paragraph), in the floor's words."""
    return (f"fit the lenses (edged to {v.lens_width:g} x {v.lens_height:g} mm with a V bevel): warm the rims only "
            f"(a warm bridge relaxes toward the flat print), push each lens in from the back, bevel first, "
            f"starting at the nasal side, and let it cool: the lips before and behind the "
            f"{v.groove_depth:g} mm groove hold it")


def forming_steps(v, material: str) -> list[str]:
    """What the floor does to the printed front before the lenses go in, in order (empty when the front
    has no wrap: it is printed in its final shape)."""
    if v.wrap_deg <= 0:
        return []
    row = FIT.get(f"forming_temperature_{material}")
    warm = (f"{row['min']:g}-{row['max']:g} C" if row is not None
            else "just past the material's softening point")
    return [f"heat-form the front's wrap: warm the bridge only ({warm} for {material}, a frame warmer or hot-air "
            f"tool) until it gives, bend each half about the bridge so its end piece moves toward the wearer (the "
            f"cheeks' side) and hold until cool",
            f"check: face down on a flat table the front rests on its bridge and each end piece's outer edge "
            f"stands {end_piece_rise_mm(v):.1f} mm above the table ({v.wrap_deg:g} degrees of wrap); re-warm and "
            f"correct if either side is more than 1 mm off"]


def nose_cutter(v, grow_mm: float = 0.0):
    """The wearer's nose as a solid through the front (see the saddle bridge above); `grow_mm` grows it
    all round (to measure the bearing area the frame touches)."""
    from somana_core.geometry import kernel as tk

    draft = nose_draft_deg(v)
    m = NOSE_MARGIN_MM
    r = CREST_RADIUS_MM - m * math.tan(math.radians(draft)) + grow_mm
    # below the bearing zone the nose is taken no wider (straight down past the rims): the lower rims
    # are cleared to the zone's width instead of being left as a step the nose would catch on
    bottom = -(v.lens_height / 2 + v.rim_width + 2)
    section = tk.face(tk.arch_wire(v.crest_height - CREST_RADIUS_MM, r, v.nose_frontal_angle,
                                   saddle_bottom_mm(v), bottom))
    return tk.drafted_prism(section, -m, v.frame_thickness + 2 * m, draft)


def build_temple(v, side: str):
    from somana_core.geometry import kernel as tk

    h = hinge(v)
    mirrored = side == "right"
    outline = tk.face(tk.band_wire(temple_centreline(v, h, mirrored), h.h / 2))
    lettering = temple_lettering(v, side)
    (_, _), (x1, y1), (x2, y2), _ = temple_centreline(v, h, mirrored)
    tilt_deg = math.degrees(math.atan2(y2 - y1, x2 - x1))
    f0, f1 = flex_span_mm(v, h)
    start = (f1 - x1) / (x2 - x1) if f1 > f0 else 0.0  # the lettering sits on the arm behind the flex section
    mid = (1 + start) / 2
    pieces = tk.lettered_plate(outline, h.t, lettering, v.text_size, v.text_depth, "engraved",
                               centre=(x1 + (x2 - x1) * mid, y1 + (y2 - y1) * mid),
                               rotate_deg=tilt_deg + (180.0 if mirrored else 0.0))
    if v.hinge_style == "pin":  # the pin hole runs below the lettering layer: cut it from the plain piece
        hole = tk.cylinder_along((0, -h.h, h.t / 2), (0, 1, 0), 2 * h.h, h.pin + PIN_PLAY_MM)
        pieces[0] = pieces[0].cut(hole).clean()
    temple = tk.glue(pieces, side + "_temple")
    # the tongue's inner half (z above t/2) rounded about the pin: it turns clear of the front when folding
    reach = h.tongue_front + 1.0
    cutter = tk.boolean("cut", tk.box(-reach, -h.h, h.t / 2, 0.0, h.h, h.t + 1.0),
                        [tk.cylinder_along((0, -h.h - 1, h.t / 2), (0, 1, 0), 2 * h.h + 2, 2 * h.fold_radius)])
    cutters = [cutter]
    if v.flex_length > 0:  # the flex section: a recess in the inner side, 45-degree ramps at its ends
        f0, f1 = flex_span_mm(v, h)
        ramp = h.t - v.flex_thickness
        cutters.append(tk.prism_xz([(f0 - 1.0, h.t + 1.0), (f0 + ramp, v.flex_thickness),
                                    (f1 - ramp, v.flex_thickness), (f1 + 1.0, h.t + 1.0)], 2 * h.h + 2 * v.flex_length))
    return tk.one_solid(tk.boolean("cut", temple, cutters).clean(), side + "_temple")


class EyewearFrameBuilder:
    """Builds a frame's front and temples (the `Builder` of EyewearFrame)."""

    def build_part(self, part: str, v):
        return _build_part(part, v)

    def print_rotation(self, part: str, v) -> np.ndarray:
        """Every part is built in its print pose: the front flat on its face, temples on their outer side."""
        return np.eye(4)

    def print_lift(self, part: str, v) -> float:
        """Front and temples are built resting on z=0."""
        return 0.0

    def as_sold(self, part: str, shape, v):
        """The front is printed flat and heat-formed to its wrap: the formed front, or None (sold as printed)."""
        if part == "front" and v.wrap_deg > 0:
            return formed_front(shape, v)
        return None

    def finishing(self, spec, material: str) -> list[str]:
        """Steps after printing (shown by `somana make`): forming the front's wrap when it has one, then
        fitting the lenses (said whatever the wrap)."""
        return forming_steps(spec, material) + [lens_fitting_step(spec)]

    def checks(self, spec, material: str) -> dict:
        """The temples' grip on the head in this material (see temple_clamp_force_n)."""
        return {"temple_grip": clamp_force_check(spec, material)}

    def placement(self, part: str, spec) -> np.ndarray:
        return _placement(part, spec)


def _build_part(part: str, v):
    if part == "front":
        return build_front(v)
    if part in ("left_temple", "right_temple"):
        return build_temple(v, part.split("_")[0])
    raise KeyError(part)


# local -> assembled rotations: assembled x across (wearer's left at -x), y toward the back, z up
_FRONT = np.array([[-1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]], dtype=float)
_LEFT = np.array([[0, 0, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1]], dtype=float)
_RIGHT = np.array([[0, 0, -1, 0], [1, 0, 0, 0], [0, -1, 0, 0], [0, 0, 0, 1]], dtype=float)


def _placement(part: str, spec) -> np.ndarray:
    from somana_core.geometry.transforms import translation_matrix

    if part == "front":
        return _FRONT
    h = hinge(spec)
    across, back = pin_position(spec, h)
    yh = hinge_y(spec, h)
    if part == "left_temple":
        return translation_matrix(-across, back, yh) @ _LEFT @ translation_matrix(0, 0, -h.t / 2)
    return translation_matrix(across, back, yh) @ _RIGHT @ translation_matrix(0, 0, -h.t / 2)


def pin_position(spec, h: Hinge) -> tuple[float, float]:
    """The hinge pin's axis in the front's frame after the wrap: (|x| across, z behind the front face)."""
    w = math.radians(spec.wrap_deg)
    xk, zk = spec.frame_width / 2 - h.t / 2, spec.frame_thickness + h.pin_back
    return xk * math.cos(w) - zk * math.sin(w), xk * math.sin(w) + zk * math.cos(w)


EyewearFrame.builder = EyewearFrameBuilder()
