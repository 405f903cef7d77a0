"""3D-printed eyewear: a frame front and two temples from a face's measurements. Parts: front,
left_temple, right_temple.

The front is one extrusion of a 2D profile (rims around the lens openings, bridge, end pieces),
with no 3D fillet: a filleted front gave a valid solid whose STL had open edges (see NOTES.md).
The hinge is a clevis: two cheeks on each end piece and the temple's end between them, with a
pin hole through all three; the front prints lying on its face (cheeks upright, slot open to the
top), the temples print on their outer side (text up), so nothing needs support.

Frames (mm): the front is built with its face on z=0 (x across, y up, z toward the wearer);
a temple with its outer side on z=0, x along the temple from the hinge pin, y up.
"""

from __future__ import annotations

import math

import numpy as np

from somana_core.errors import InputError
from somana_core.geometry.fonts import FONT_NAME, describe_characters, text_width_mm, unsupported_characters
from somana_core.geometry.spec import (FamilySpec, angle, choice, length, machine_ids, number, text)

# Design rules (mm unless said), not customer choices:
MAX_DECENTRATION_MM = 5.0   # per lens: what a stock lens blank (65-70 mm) allows around a 50 mm lens
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
    bridge_width = length(18.0, (14.0, 24.0), 0.5, "Distance between the lenses at the bridge", "Bridge width")
    pupillary_distance = length(63.0, (50.0, 76.0), 0.5, "Wearer's pupillary distance (PD)", "Pupillary distance")
    frame_width = length(140.0, (115.0, 160.0), 0.5, "Overall width of the front, hinge to hinge", "Frame width")
    rim_width = length(4.0, (2.0, 8.0), 0.5, "Material around each lens", "Rim width")
    frame_thickness = length(4.0, (3.0, 7.0), 0.5, "Front thickness (front to back)", "Frame thickness")
    temple_length = length(140.0, (115.0, 155.0), 1.0, "Temple length from hinge pin to tip", "Temple length")
    earpiece_length = length(30.0, (15.0, 45.0), 1.0, "Length of the bent part behind the ear", "Earpiece length")
    temple_drop = angle(20.0, (0.0, 35.0), 1.0, "How far the earpiece bends down", "Earpiece bend")
    temple_height = length(6.0, (4.0, 9.0), 0.5, "Temple height", "Temple height")
    temple_thickness = length(4.0, (3.0, 6.0), 0.5, "Temple thickness (side to side)", "Temple thickness")
    hinge_style = choice("pin", ["pin", "glue"], "Pin hinge (folds; a pin goes through), or glued in open",
                         "Hinge style")
    hinge_pin = length(1.6, (1.0, 2.5), 0.1, "Hinge pin diameter (e.g. a 1.6 mm steel pin or filament)",
                       "Hinge pin")
    text = text("", 20, f"Text inside a temple, in {FONT_NAME} (empty = none)", "Temple text")
    text_side = choice("left", ["left", "right", "both"], "Which temple carries the text", "Text temple")
    text_size = length(3.5, (2.0, 6.0), 0.5, "Font size (em height) of the temple text", "Text size")
    text_depth = length(0.4, (0.3, 1.0), 0.1, "Engraving depth of the temple text", "Text depth")
    machine = choice("prusa_mk3s", machine_ids(), "Printer it is made on (build volume, nozzle)", "Printer")

    text_limits = {"text": 20}
    groups = {
        "Lenses": ["lens_width", "lens_height", "lens_shape", "shape_exponent"],
        "Fit": ["pupillary_distance", "bridge_width", "frame_width"],
        "Frame": ["rim_width", "frame_thickness"],
        "Temples": ["temple_length", "earpiece_length", "temple_drop", "temple_height", "temple_thickness"],
        "Hinge": ["hinge_style", "hinge_pin"],
        "Text": ["text", "text_side", "text_size", "text_depth"],
        "Production": ["machine"],
    }
    _hinge = ["temple_height", "temple_thickness", "hinge_style", "hinge_pin", "machine"]
    _temple = ["temple_length", "earpiece_length", "temple_drop", "text", "text_side", "text_size", "text_depth"]
    part_inputs = {
        "front": ["lens_width", "lens_height", "lens_shape", "shape_exponent", "bridge_width", "frame_width",
                  "rim_width", "frame_thickness"] + _hinge,
        "left_temple": _hinge + _temple,
        "right_temple": _hinge + _temple,
    }

    def decentration_mm(self) -> float:
        """Per lens, mm: how far each optical centre sits inward of the lens's box centre."""
        return (self.lens_width + self.bridge_width - self.pupillary_distance) / 2

    def part_envelopes(self):
        h = hinge(self)
        front_y = max(self.lens_height + 2 * self.rim_width, h.stack)
        front = (self.frame_width, front_y, self.frame_thickness + h.cheek_depth)
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
        needed = 2 * self.lens_width + self.bridge_width + 2 * self.rim_width + 2 * self.temple_thickness
        if needed > self.frame_width:
            most = (self.frame_width - self.bridge_width - 2 * self.rim_width - 2 * self.temple_thickness) / 2
            raise InputError("lens_width", f"lens_width={self.lens_width:g} mm is too wide for "
                                           f"frame_width={self.frame_width:g} mm: two lenses, the bridge, rims and "
                                           f"hinges need {needed:g} mm; use lens_width at most {most:.1f} mm or a "
                                           f"wider frame")
        h = hinge(self)
        if h.stack > self.lens_height + self.rim_width:
            raise InputError("temple_height", f"temple_height={self.temple_height:g} mm: the hinge ({h.stack:.1f} mm "
                                              f"tall) is taller than the frame's side ({self.lens_height + self.rim_width:g}"
                                              f" mm); use a lower temple or taller lenses")
        if self.hinge_style == "pin" and self.temple_thickness < self.hinge_pin + PIN_PLAY_MM + 2 * min_wall:
            raise InputError("temple_thickness", f"temple_thickness={self.temple_thickness:g} mm is too thin around "
                                                 f"a {self.hinge_pin:g} mm hinge pin; use at least "
                                                 f"{self.hinge_pin + PIN_PLAY_MM + 2 * min_wall:.1f} mm")
        straight = self.temple_length - self.earpiece_length
        if straight < 3 * h.tongue_length:
            raise InputError("earpiece_length", f"earpiece_length={self.earpiece_length:g} mm leaves too short a "
                                                f"straight temple; use at most "
                                                f"{self.temple_length - 3 * h.tongue_length:.0f} mm")
        if self.text.strip():
            bad = unsupported_characters(self.text)
            if bad:
                raise InputError("text", f"text: {describe_characters(bad)} cannot be engraved with the "
                                         f"{FONT_NAME} font; use letters from Latin, Greek or Cyrillic scripts")
            room = text_room(self, h)
            width = text_width_mm(self.text, self.text_size)
            margin = 2 * TEXT_MARGIN_RATIO * self.text_size
            if width + margin > room:
                best = self.text_size * room / (width + margin)
                raise InputError("text", f"text {self.text!r} is {width:.0f} mm long at text_size={self.text_size:g}"
                                         f" mm; the temple holds {room - margin:.0f} mm: shorten it or use "
                                         f"text_size at most {max(best - 0.05, 0):.1f} mm")
            if self.text_size * TEXT_HEIGHT_EM + margin > self.temple_height:
                most = self.temple_height / (TEXT_HEIGHT_EM + 2 * TEXT_MARGIN_RATIO)
                raise InputError("text_size", f"text_size={self.text_size:g} mm is taller than the "
                                              f"{self.temple_height:g} mm temple allows ({most:.1f} mm)")
            keep = self.temple_thickness / 2 + (self.hinge_pin + PIN_PLAY_MM) / 2 + min_wall / 2
            if self.text_depth > self.temple_thickness - keep:
                raise InputError("text_depth", f"text_depth={self.text_depth:g} mm is too deep for a "
                                               f"{self.temple_thickness:g} mm temple; use at most "
                                               f"{max(self.temple_thickness - keep, 0):.1f} mm")


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
        # the temple's end reaches `ring` in front of the pin; the pin sits far enough behind the
        # front that this end's corner clears the front when the temple folds
        self.tongue_front = self.ring
        self.pin_back = math.hypot(self.t / 2, self.tongue_front) + self.gap
        self.cheek_depth = self.pin_back + self.ring
        self.tongue_length = self.tongue_front + self.ring + self.gap  # from the tongue's tip to the arm


def hinge(v) -> Hinge:
    return Hinge(v)


def text_room(v, h: Hinge) -> float:
    """Length (mm) of the straight temple between the hinge and the ear bend, for text."""
    return v.temple_length - v.earpiece_length - h.cheek_depth - h.h


def temple_centreline(v, h: Hinge, mirrored: bool) -> list[tuple[float, float]]:
    drop = math.radians(v.temple_drop)
    straight = v.temple_length - v.earpiece_length
    sy = 1.0 if mirrored else -1.0  # a right temple is built upside down (see placement)
    start = -h.tongue_front + h.h / 2
    return [(start, 0.0), (straight, 0.0),
            (straight + v.earpiece_length * math.cos(drop), sy * v.earpiece_length * math.sin(drop))]


def temple_outline_extent(v, h: Hinge):
    pts = np.array(temple_centreline(v, h, False))
    r = h.h / 2
    return pts.min(axis=0) - r, pts.max(axis=0) + r


def lens_centre_x(v) -> float:
    return (v.bridge_width + v.lens_width) / 2


def hinge_y(v, h: Hinge) -> float:
    """Height of the hinge's middle in the front's frame (lens centres at y=0): its top half a rim
    below the frame's top, so the end piece's edge crosses the rim instead of touching its highest
    point (that tangent contact gave an STL with open edges)."""
    return v.lens_height / 2 + v.rim_width / 2 - h.stack / 2


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


def build_front(v):
    from somana_core.geometry import kernel as tk

    h = hinge(v)
    cx = lens_centre_x(v)
    lenses = [lens_wire(v, sx * cx, sx) for sx in (-1, 1)]
    rims = [tk.face(tk.offset_wire(w, v.rim_width)) for w in lenses]
    yh = hinge_y(v, h)
    bridge_h = BRIDGE_HEIGHT_RIMS * v.rim_width
    top = v.lens_height / 2 + v.rim_width
    pieces = rims + [tk.rect_face(-cx, top - bridge_h - v.rim_width, cx, top - v.rim_width / 2)]
    half = v.frame_width / 2
    pieces += [tk.rect_face(sx * cx if sx > 0 else -half, yh - h.stack / 2, half if sx > 0 else -cx, yh + h.stack / 2)
               for sx in (-1, 1)]
    profile = tk.faces_fuse(pieces)
    # no clean() after cutting the lenses: unifying the lens's spline edges gave a face whose
    # integrated area was 8% off its own mesh (and a mesh with open edges at some exponents)
    profile = tk.single_face(tk.faces_cut(profile, [tk.face(w) for w in lenses]), "front profile")
    front = tk.extrude(profile, v.frame_thickness)
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


def build_temple(v, side: str):
    from somana_core.geometry import kernel as tk

    h = hinge(v)
    mirrored = side == "right"
    outline = tk.face(tk.band_wire(temple_centreline(v, h, mirrored), h.h / 2))
    has_text = v.text.strip() and v.text_side in (side, "both")
    text_x = (h.cheek_depth + h.h / 2 + v.temple_length - v.earpiece_length) / 2
    pieces = tk.lettered_plate(outline, h.t, v.text if has_text else "", v.text_size, v.text_depth, "engraved",
                               centre=(text_x, 0.0), rotate_deg=180.0 if mirrored else 0.0)
    if v.hinge_style == "pin":  # the pin hole runs below the lettering layer: cut it from the plain piece
        hole = tk.cylinder_along((0, -h.h, h.t / 2), (0, 1, 0), 2 * h.h, h.pin + PIN_PLAY_MM)
        pieces[0] = pieces[0].cut(hole).clean()
    return tk.glue(pieces, side + "_temple")


class EyewearFrameBuilder:
    """Builds a frame's front and temples (the `Builder` of EyewearFrame)."""

    def build_part(self, part: str, v):
        return _build_part(part, v)

    def print_rotation(self, part: str, v) -> np.ndarray:
        """Every part is built in its print pose: the front on its face, temples on their outer side."""
        return np.eye(4)

    def print_lift(self, part: str, v) -> float:
        """Front and temples are built resting on z=0."""
        return 0.0

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
    xk = spec.frame_width / 2 - h.t / 2
    yh = hinge_y(spec, h)
    pin_y = spec.frame_thickness + h.pin_back
    if part == "left_temple":
        return translation_matrix(-xk, pin_y, yh) @ _LEFT @ translation_matrix(0, 0, -h.t / 2)
    return translation_matrix(xk, pin_y, yh) @ _RIGHT @ translation_matrix(0, 0, -h.t / 2)


EyewearFrame.builder = EyewearFrameBuilder()
