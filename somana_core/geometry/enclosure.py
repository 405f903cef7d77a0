"""What the two enclosure families share: the box's derived dimensions (pure arithmetic, no CAD) and
the base and lid shapes (CadQuery, imported only when a part is built).

Assembled frame: the board is centred on x=y=0, the floor's underside is z=0. The lid is built with
the underside of its plate at z=0 (lip below it); its placement on the base is a matrix, so moving
the lid (a taller base) does not rebuild it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from somana_core.errors import InputError
from somana_core.geometry.fonts import FONT_NAME, describe_characters, text_width_mm, unsupported_characters
from somana_core.geometry.spec import FamilySpec, choice, length, machine_ids


class LiddedBox(FamilySpec):
    """The parameters every box with a lid shares (wall, corners, lid fit, lid text style, printer),
    declared once; a family adds what is its own (board or PCB, vents, the text and its default)."""

    wall = length(2.0, (0.8, 5.0), 0.1, "Wall and floor thickness", "Wall")
    corner_radius = length(3.0, (0.0, 12.0), 0.5, "Outer corner radius", "Corner radius")
    lid_fit = choice("snap", ["snap", "screw"], "Snap-fit lip, or four corner screws", "Lid fit")
    lid_thickness = length(2.4, (1.6, 5.0), 0.2, "Lid plate thickness", "Lid thickness")
    lip_height = length(3.0, (2.0, 8.0), 0.5, "Height of the lid's locating lip", "Lip height")
    lid_clearance = length(0.2, (0.1, 0.6), 0.05, "Gap between the lid's lip and the inner wall", "Lid clearance")
    lid_hole = length(3.4, (2.5, 4.5), 0.1, "Screw clearance hole in the lid (screw fit)", "Lid screw hole")
    text_style = choice("engraved", ["engraved", "embossed"], "Text cut into or raised from the lid", "Text style")
    text_size = length(8.0, (4.0, 20.0), 0.5, "Font size (em height) of the lid text", "Text size")
    text_depth = length(0.6, (0.4, 1.5), 0.1, "Engraving depth or embossing height", "Text depth")
    machine = choice("prusa_mk3s", machine_ids(), "Printer it is made on (build volume, nozzle)", "Printer")

    # -- what each box family supplies ------------------------------------------------------
    def dims(self) -> "BoxDims":
        raise NotImplementedError

    def standoff_holes(self) -> tuple[list[tuple[float, float]], float]:
        """The board's mounting holes (x, y) in the box frame, mm, and the pilot hole diameter."""
        raise NotImplementedError

    def check_family(self, d: "BoxDims") -> None:
        """Rules of the family's own features (vents, cable hole, connector); raise InputError."""

    def lid_windows(self) -> list[tuple[float, float, float, float]]:
        """Openings the lid needs over the board (x, y, width, height in the box frame, mm)."""
        return []

    # -- the rules every lidded box shares ---------------------------------------------------
    def cross_check(self) -> None:
        """Walls the printer can make (and a snap groove can be cut into), standoffs clear of the walls,
        each other and the lid's posts, then the family's own rules, then text that fits the lid."""
        min_wall = self.min_wall_mm()
        if self.wall < min_wall:
            raise InputError("wall", f"wall={self.wall:g} mm is below the minimum {min_wall:g} mm "
                                     f"(two nozzle widths of {self.machine})")
        if self.lid_fit == "snap" and self.wall < SNAP_GROOVE_DEPTH_MM + min_wall:
            need = SNAP_GROOVE_DEPTH_MM + min_wall
            raise InputError("wall", f"wall={self.wall:g} mm is too thin for a snap lid: the snap groove "
                                     f"needs {need:g} mm ({SNAP_GROOVE_DEPTH_MM:g} mm groove + two nozzle "
                                     f"widths); use a thicker wall or lid_fit=screw")
        d = self.dims()
        holes, pilot = self.standoff_holes()
        if holes:
            check_standoffs(self, d, holes, self.standoff_diameter, pilot)
        self.check_family(d)
        check_lid_text(self, d)

    def part_envelopes(self):
        d = self.dims()
        lid_z = self.lid_thickness + d.lip_h + (self.text_depth if self.text_style == "embossed" else 0)
        return {"base": base_envelope(d, self.mount_tabs), "lid": (d.outer_x, d.outer_y, lid_z)}

# Design rules, in mm, derived once here (not customer choices):
SNAP_GROOVE_DEPTH_MM = 0.6   # groove cut into the base's inner wall for a snap lid
SNAP_ENGAGE_MM = 0.4         # how far the lid's ridge reaches into that groove
SNAP_RIDGE_HEIGHT_MM = 1.0   # vertical size of ridge and groove (groove gets + 2 x lid clearance)
LIP_NOZZLE_WIDTHS = 3        # lid lip wall = 3 nozzle widths
TAB_HOLE_MM = 4.5            # wall-mount tab hole: an M4 / #8 wood screw passes
TAB_LENGTH_MM = 12.0         # how far a wall-mount tab reaches past the end wall
VENT_MARGIN_MM = 1.0         # solid wall kept above and below vent slots
TEXT_MARGIN_RATIO = 0.25     # free border around lid text, as a fraction of the font size
POST_INSET_RATIO = 0.35      # screw post centre from both walls, x post diameter (overlaps the walls)
RIB_WIDTH_RATIO = 0.8       # rib joining a standoff to a near wall, x standoff diameter
TEXT_HEIGHT_EM = 1.17        # DejaVu Sans ascender + descender, em (tall letters and descenders fit)
WINDOW_MARGIN_MM = 0.5      # solid lid kept between a window over the board and the text
BRIDGE_PITCH_MM = 20.0       # ribs under an upright lid's plate at most this far apart (printability.MAX_BRIDGE_MM)
RIB_NOZZLE_WIDTHS = 2        # a bridge rib is two nozzle widths thick


def rounded_rect_distance(x: float, y: float, half_x: float, half_y: float, radius: float) -> float:
    """Signed distance from (x, y) to a rounded rectangle centred on 0 (negative inside), mm."""
    qx, qy = abs(x) - (half_x - radius), abs(y) - (half_y - radius)
    outside = math.hypot(max(qx, 0.0), max(qy, 0.0))
    return outside + min(max(qx, qy), 0.0) - radius


@dataclass
class BoxDims:
    """Derived dimensions of an enclosure base (mm). Cavity = free inner space above the floor."""

    cavity_x: float
    cavity_y: float
    floor: float
    wall: float
    base_h: float
    r_out: float
    r_in: float
    lip_h: float
    cavity_x_offset: float = 0.0     # the cavity centre's x (a battery bay shifts it)
    post_points: list = field(default_factory=list)  # screw-lid corner posts (x, y)
    divider_x: float | None = None   # board-side face of a divider wall across the cavity (a battery bay's)

    @property
    def outer_x(self) -> float:
        return self.cavity_x + 2 * self.wall

    @property
    def outer_y(self) -> float:
        return self.cavity_y + 2 * self.wall


def box_dims(cavity_x: float, cavity_y: float, inner_height: float, wall: float, corner_radius: float,
             clearance: float, lid_fit: str, post_diameter: float, lip_height: float,
             cavity_x_offset: float = 0.0) -> BoxDims:
    """The base around a cavity. inner_height: floor top to the lip's underside (free for the board)."""
    if lid_fit == "screw":
        cavity_x += 2 * post_diameter  # corner posts get their own space at both ends
    r_out = max(0.0, min(corner_radius, (cavity_x + 2 * wall) / 2 - 0.01, (cavity_y + 2 * wall) / 2 - 0.01))
    # Uniform wall: the inner corner is the outer one offset by the wall. A round inner corner
    # wider than the clearance would cut into the board's corner clearance, so the cavity grows
    # just enough that the board's corner keeps its clearance from the arc.
    r_in = max(r_out - wall, 0.0)
    grow = max(0.0, (r_in - clearance) * (1 - 1 / math.sqrt(2)))
    cavity_x += 2 * grow
    cavity_y += 2 * grow
    posts = []
    if lid_fit == "screw":
        # Posts sink into the walls (never just touch them: tangent contact makes open STL edges) but
        # stay inside the outer skin: half the wall at most, so a thin wall or a round corner never
        # shows a post's bulge outside (or, exactly tangent to the skin, open edges).
        sink = min((0.5 - POST_INSET_RATIO) * post_diameter, wall / 2)
        from_skin = post_diameter / 2 + wall - sink  # post centre to the outer surface, mm
        # on the corner's diagonal, `t` in from both outer sides: from_skin from the sides, or from the arc
        t = from_skin if from_skin >= r_out else r_out - (r_out - from_skin) / math.sqrt(2)
        px, py = cavity_x / 2 + wall - t, cavity_y / 2 + wall - t
        posts = [(cavity_x_offset + sx * px, sy * py) for sx in (-1, 1) for sy in (-1, 1)]
    return BoxDims(cavity_x=cavity_x, cavity_y=cavity_y, floor=wall, wall=wall,
                   base_h=wall + inner_height + lip_height, r_out=max(r_out, 0.0), r_in=r_in,
                   lip_h=lip_height, cavity_x_offset=cavity_x_offset, post_points=posts)


def lid_text_room(d: BoxDims, lid_fit: str, post_diameter: float) -> tuple[float, float]:
    """Length and height (mm) on the lid's top that text may use."""
    length = d.outer_x - 2 * d.wall
    if lid_fit == "screw":
        length -= 2 * post_diameter
    return length, d.outer_y - 2 * d.wall


def lid_text_area(d: BoxDims, lid_fit: str, post_diameter: float, windows=()) -> tuple[float, float, float]:
    """(centre y, length, height) in mm of the lid's top that text may use: the whole top, or with
    windows over the board (display, buttons) the wider strip beside them."""
    room_x, room_y = lid_text_room(d, lid_fit, post_diameter)
    if not windows:
        return 0.0, room_x, room_y
    half = room_y / 2
    lo = min(y - h / 2 for _, y, _, h in windows) - WINDOW_MARGIN_MM
    hi = max(y + h / 2 for _, y, _, h in windows) + WINDOW_MARGIN_MM
    below, above = lo + half, half - hi
    if above >= below:
        return (hi + half) / 2, room_x, max(above, 0.0)
    return (lo - half) / 2, room_x, max(below, 0.0)


def lip_wall_mm(nozzle_mm: float) -> float:
    return LIP_NOZZLE_WIDTHS * nozzle_mm


def tab_thickness_mm(wall: float) -> float:
    return max(wall * 1.5, 2.0)


def base_envelope(d: BoxDims, mount_tabs: bool, extra_x: float = 0.0) -> tuple[float, float, float]:
    x = d.outer_x + (2 * TAB_LENGTH_MM if mount_tabs else 0.0) + extra_x
    return (x, d.outer_y, d.base_h)


# ----------------------------------------------------------------------------- rules
def check_standoffs(spec, d: BoxDims, holes, standoff_diameter: float, screw_hole: float) -> None:
    """Standoffs must stand inside the cavity, clear of the walls, of each other and of the lid's
    screw posts, with a printable ring around the screw hole."""
    min_wall = spec.min_wall_mm()
    ring = (standoff_diameter - screw_hole) / 2
    if ring < min_wall:
        raise InputError("standoff_diameter", f"standoff_diameter={standoff_diameter:g} mm leaves {ring:.2f} mm "
                                              f"around the {screw_hole:g} mm screw hole; it needs {min_wall:g} mm "
                                              f"(two nozzle widths): use at least "
                                              f"{screw_hole + 2 * min_wall:g} mm")
    for x, y in holes:
        gap = -rounded_rect_distance(x - d.cavity_x_offset, y, d.cavity_x / 2, d.cavity_y / 2, d.r_in)
        what = "the wall"
        if d.divider_x is not None and d.divider_x - x < gap:
            gap, what = d.divider_x - x, "the battery divider"
        if gap < standoff_diameter / 2 - 0.01:  # touching or close is fine: a rib joins it to the wall
            raise InputError("standoff_diameter", f"standoff_diameter={standoff_diameter:g} mm collides with "
                                                  f"{what}: the board hole at ({x:.1f}, {y:.1f}) mm is only "
                                                  f"{gap:.1f} mm from it; use at most {2 * gap:.1f} mm standoffs or "
                                                  f"more clearance")
    # Two standoffs (or a standoff and a lid screw post) closer than a printable gap would print a
    # sliver between them, and touching ones meet along a line whose STL has non-manifold edges.
    board_pairs = [(a, b) for i, a in enumerate(holes) for b in holes[i + 1:]]
    post_pairs = [(post, hole) for post in d.post_points for hole in holes]
    for pairs, problem, remedy in (
            (board_pairs, "two standoffs (holes {apart:.1f} mm apart) would leave less than {wall:g} mm (two "
                          "nozzle widths) between them", ""),
            (post_pairs, "a board standoff comes within {wall:g} mm (two nozzle widths) of a lid screw post",
             " or lid_fit=snap")):
        for (x1, y1), (x2, y2) in pairs:
            apart = math.hypot(x1 - x2, y1 - y2)
            if apart < standoff_diameter + min_wall - 1e-6:
                raise InputError("standoff_diameter", f"standoff_diameter={standoff_diameter:g} mm: "
                                                      f"{problem.format(apart=apart, wall=min_wall)}; use at most "
                                                      f"{apart - min_wall:.1f} mm{remedy}")


def check_lid_text(spec, d: BoxDims) -> None:
    """The text must be writable in the shipped font, fit on the lid, and leave the lid solid."""
    value = spec.text
    if not value.strip():
        return
    bad = unsupported_characters(value)
    if bad:
        raise InputError("text", f"text: {describe_characters(bad)} cannot be engraved with the {FONT_NAME} "
                                 f"font; use letters from Latin, Greek or Cyrillic scripts")
    _, room_x, room_y = lid_text_area(d, spec.lid_fit, spec.standoff_diameter, spec.lid_windows())
    margin = 2 * TEXT_MARGIN_RATIO * spec.text_size
    width = text_width_mm(value, spec.text_size)
    if width + margin > room_x:
        best = spec.text_size * (room_x / (width + margin))
        raise InputError("text", f"text {value!r} is {width:.0f} mm long at text_size={spec.text_size:g} mm; "
                                 f"the lid holds {room_x - margin:.0f} mm: shorten it or use text_size at most "
                                 f"{max(best - 0.05, 0):.1f} mm")
    if spec.text_size * TEXT_HEIGHT_EM + margin > room_y:
        where = " beside the windows over the board" if spec.lid_windows() else ""
        raise InputError("text_size", f"text_size={spec.text_size:g} mm is taller than the lid allows{where} "
                                      f"({(room_y / (TEXT_HEIGHT_EM + 2 * TEXT_MARGIN_RATIO)):.1f} mm)")
    if spec.text_style == "engraved":
        keep = spec.min_wall_mm()
        if spec.text_depth > spec.lid_thickness - keep:
            raise InputError("text_depth", f"text_depth={spec.text_depth:g} mm engraves through too much of the "
                                           f"{spec.lid_thickness:g} mm lid: keep at least {keep:g} mm; use at most "
                                           f"{spec.lid_thickness - keep:g} mm")


# ----------------------------------------------------------------------------- CAD (lazy import)
def build_base(d: BoxDims, *, standoff_points, standoff_diameter, standoff_height, screw_hole,
               lid_fit, mount_tabs, extra_add=(), extra_cut=(), nozzle_mm=0.4, pad_points=(), pad_size=0.0):
    """Shelled box with rounded corners, standoffs, screw posts or snap grooves, tabs; then the
    family's own additions and cut-outs (vents, cable hole, connector cut-outs).

    Two booleans only (speed: each costs tens of ms): the shell and every wall cut-out in one cut,
    then one fuse of everything added. Standoffs, posts and tabs come with their holes already in
    their 2D profiles, so nothing is cut after the fuse."""
    from somana_core.geometry import kernel as tk

    ov = tk.OVERSHOOT_MM
    outer = tk.rounded_rect_prism(d.outer_x, d.outer_y, d.base_h, d.r_out, x0=d.cavity_x_offset)
    cavity = tk.rounded_rect_prism(d.cavity_x, d.cavity_y, d.base_h, d.r_in, z0=d.floor, x0=d.cavity_x_offset)
    adds, cuts = list(extra_add), [cavity] + list(extra_cut)
    # standoffs sit a little into the floor so the fuse never meets a coplanar face; the pilot hole
    # starts at the floor's top (the floor fills the tube's bottom)
    top = d.floor + standoff_height
    adds += [tk.tube(x, y, d.floor / 2, top, standoff_diameter, screw_hole) for x, y in standoff_points]
    adds += standoff_ribs(d, standoff_points, standoff_diameter, screw_hole, d.floor / 2, top, 2 * nozzle_mm)
    for x, y in pad_points:  # boards without holes rest on corner pads
        adds.append(tk.box(x - pad_size / 2, y - pad_size / 2, d.floor / 2, x + pad_size / 2, y + pad_size / 2, top))
    if lid_fit == "screw":
        adds += [tk.tube(x, y, d.floor / 2, d.base_h, standoff_diameter, screw_hole) for x, y in d.post_points]
    else:  # snap: a groove along both long inner walls, where the lid's ridges click in
        zc = d.base_h - d.lip_h / 2
        gh = SNAP_RIDGE_HEIGHT_MM + 0.4
        x0, x1 = d.cavity_x_offset - d.cavity_x / 2 + d.r_in, d.cavity_x_offset + d.cavity_x / 2 - d.r_in
        for sy in (-1, 1):
            y_in = sy * (d.cavity_y / 2 - ov)
            y_out = sy * (d.cavity_y / 2 + SNAP_GROOVE_DEPTH_MM)
            cuts.append(tk.box(x0 + 1, min(y_in, y_out), zc - gh / 2, x1 - 1, max(y_in, y_out), zc + gh / 2))
    if mount_tabs:
        t = tab_thickness_mm(d.wall)
        tab_w = min(d.outer_y - 2 * d.r_out, 3 * TAB_HOLE_MM)
        for sx in (-1, 1):
            x_wall = d.cavity_x_offset + sx * (d.outer_x / 2 - d.wall / 2)
            x_end = d.cavity_x_offset + sx * (d.outer_x / 2 + TAB_LENGTH_MM - tab_w / 2)
            adds.append(tk.prism(tk.slot_face(x_wall, x_end, tab_w, TAB_HOLE_MM), 0.0, t))
    shell = tk.boolean("cut", outer, cuts)
    return tk.one_solid(tk.boolean("fuse", shell, adds).clean(), "base")


def standoff_ribs(d: BoxDims, points, diameter: float, hole: float, z0: float, z1: float,
                  min_gap: float) -> list:
    """A standoff closer to a wall than a printable gap is joined to it by a rib: a free gap thinner
    than two nozzle widths prints as a sliver, and a standoff just touching the wall makes a
    tangent contact whose STL has open edges."""
    from somana_core.geometry import kernel as tk

    ribs = []
    width = RIB_WIDTH_RATIO * diameter
    x_lo, x_hi = d.cavity_x_offset - d.cavity_x / 2, d.cavity_x_offset + d.cavity_x / 2
    if d.divider_x is not None:  # a divider (as thick as the wall) closes the standoffs' side of the cavity
        x_hi = d.divider_x
    y_lo, y_hi = -d.cavity_y / 2, d.cavity_y / 2
    into_wall = d.wall / 2
    start = (hole / 2 + diameter / 2) / 2  # the rib begins inside the standoff's ring, clear of its hole
    for x, y in points:
        if x - x_lo - diameter / 2 < min_gap:
            ribs.append(tk.box(x_lo - into_wall, y - width / 2, z0, x - start, y + width / 2, z1))
        if x_hi - x - diameter / 2 < min_gap:
            ribs.append(tk.box(x + start, y - width / 2, z0, x_hi + into_wall, y + width / 2, z1))
        if y - y_lo - diameter / 2 < min_gap:
            ribs.append(tk.box(x - width / 2, y_lo - into_wall, z0, x + width / 2, y - start, z1))
        if y_hi - y - diameter / 2 < min_gap:
            ribs.append(tk.box(x - width / 2, y + start, z0, x + width / 2, y_hi + into_wall, z1))
    return ribs


def build_box_lid(d: BoxDims, v, nozzle_mm: float, windows=()):
    """The lid of a `LiddedBox` family from its part inputs `v` (the lid reads the same fields in every family)."""
    return build_lid(d, lid_fit=v.lid_fit, lid_thickness=v.lid_thickness, lid_clearance=v.lid_clearance,
                     lid_hole=v.lid_hole, standoff_diameter=v.standoff_diameter, text=v.text,
                     text_style=v.text_style, text_size=v.text_size, text_depth=v.text_depth, nozzle_mm=nozzle_mm,
                     windows=tuple(windows))


def build_lid(d: BoxDims, *, lid_fit, lid_thickness, lid_clearance, lid_hole, standoff_diameter,
              text, text_style, text_size, text_depth, nozzle_mm, windows=()):
    """Lid in its assembled frame: plate z in [0, lid_thickness], lip below z=0 inside the cavity.

    Built from pieces that only touch, glued (no 3D boolean ever cuts glyphs): the plate with a
    rectangular window, the lip (cached), and a lettered tile that fills the window (cached by its
    text). A text change builds only the tile; a size change reuses the tile.
    """
    from somana_core.geometry import kernel as tk

    xo = d.cavity_x_offset
    holes = [(x, y, lid_hole) for x, y in d.post_points] if lid_fit == "screw" else []
    outline = tk.rounded_rect_face(d.outer_x, d.outer_y, d.r_out, x0=xo, holes=holes)
    if windows:  # openings over the board's display and buttons
        outline = tk.face(outline.outerWire(), list(outline.innerWires()) +
                          [tk.rounded_rect_wire(w, h, 0.0, x0=x, y0=y) for x, y, w, h in windows])
    lip = _lip(d, lid_fit, lid_clearance, standoff_diameter, nozzle_mm)
    # Only the bridge ribs step around the windows; the lip itself stays whole (filtering lip and
    # ribs alike by their bounding boxes once dropped a snap lid's ring, leaving its ridges loose).
    ribs = _bridge_ribs(d, lid_clearance, nozzle_mm, windows) if lid_prints_upright(text, text_style) else []
    if not text.strip():
        return tk.glue([tk.prism(outline, 0.0, lid_thickness)] + lip + ribs, "lid")
    cy, _, _ = lid_text_area(d, lid_fit, standoff_diameter, windows)
    margin = TEXT_MARGIN_RATIO * text_size
    window, tile = tk.lettered_tile(text, text_size, text_depth, lid_thickness, text_style, margin)
    window = tk.translate(window, xo, cy)
    if any(_rect_meets_circle(window, x, y, dia / 2) for x, y, dia in holes):
        # a screw hole would cut the tile: letter the whole plate instead (slower, same solid)
        pieces = tk.lettered_plate(outline, lid_thickness, text, text_size, text_depth, text_style, centre=(xo, cy))
        return tk.glue(pieces + lip + ribs, "lid")
    # a rib wholly under the tile's window touches only the tile: it is fused after the tile, or it
    # would float beside the plate (a short lid's single rib under a long name did); an ordinary fuse,
    # not glue: glued to the plate's underside (one face with the tile's by then) it stayed a separate
    # volume touching it, invisible to the bridge check (a 37 mm bridge over it in the slice fuzz)
    under_tile, under_plate = [], []
    for rib in ribs:
        (under_tile if _rect_within(rib, window) else under_plate).append(rib)
    plate_face = tk.face(outline.outerWire(), list(outline.innerWires()) + [window.outerWire()])
    body = tk.glue([tk.prism(plate_face, 0.0, lid_thickness)] + lip + under_plate, "lid")
    if any(_rects_overlap(rib, window) for rib in under_plate):
        # a rib running on under the tile: their touching faces only partly coincide, which glue
        # leaves unjoined (the rib stayed a separate volume under the tile): an ordinary fuse
        lid = tk.one_solid(tk.boolean("fuse", body, [tk.translate(tile, xo, cy)]).clean(), "lid")
    else:
        lid = tk.glue_full(body, tk.translate(tile, xo, cy), "lid")
    return tk.one_solid(tk.boolean("fuse", lid, under_tile).clean(), "lid") if under_tile else lid


def _rects_overlap(piece, face) -> bool:
    """Whether a piece's footprint (x, y) and a face's bounding rectangle overlap (more than touch)."""
    a, b = piece.BoundingBox(), face.BoundingBox()
    return a.xmin < b.xmax and b.xmin < a.xmax and a.ymin < b.ymax and b.ymin < a.ymax


def _rect_within(piece, face) -> bool:
    """Whether a piece's footprint (x, y) lies within a face's bounding rectangle."""
    a, b = piece.BoundingBox(), face.BoundingBox()
    return b.xmin <= a.xmin and a.xmax <= b.xmax and b.ymin <= a.ymin and a.ymax <= b.ymax


def lid_prints_upright(text: str, text_style: str) -> bool:
    """Raised letters must not rest on the bed: such a lid prints upright, on its lip."""
    return text_style == "embossed" and bool(text.strip())


def _bridge_ribs(d: BoxDims, lid_clearance: float, nozzle_mm: float, windows=()) -> list:
    """Ribs along x inside the lip, under the plate, so an upright lid's plate bridges at most
    BRIDGE_PITCH_MM between them. They stay within the lip's depth, which the base keeps free.
    A rib stops WINDOW_MARGIN_MM short of each window it would cross (nothing shows through a
    window over the display), and goes on beyond it: every piece hangs from the plate."""
    from somana_core.geometry import kernel as tk

    lip_w = lip_wall_mm(nozzle_mm)
    inner_y = d.cavity_y - 2 * lid_clearance - 2 * lip_w
    inner_x = d.cavity_x - 2 * lid_clearance - 2 * lip_w
    gaps = math.ceil(inner_y / BRIDGE_PITCH_MM)
    if gaps <= 1:
        return []
    rib = RIB_NOZZLE_WIDTHS * nozzle_mm
    # ribs end where the lip's inner wall is straight (clear of its rounded corners and post notches)
    x_half = inner_x / 2 - max(d.r_in - lid_clearance - lip_w, 0.0) - 2 * lip_w
    if d.post_points:
        x_half = min(x_half, min(abs(x - d.cavity_x_offset) for x, _ in d.post_points) - d.wall * 2)
    # the ribs meet the lip's inner wall in the straight part, or end short of it: either way they
    # hang from the plate's underside only (touching faces, glued)
    pieces = []
    for k in range(1, gaps):
        y = -inner_y / 2 + k * inner_y / gaps
        spans = [(d.cavity_x_offset - x_half, d.cavity_x_offset + x_half)]
        for wx, wy, ww, wh in windows:
            if abs(y - wy) < wh / 2 + rib / 2 + WINDOW_MARGIN_MM:
                spans = _minus_interval(spans, wx - ww / 2 - WINDOW_MARGIN_MM, wx + ww / 2 + WINDOW_MARGIN_MM)
        pieces += [tk.box(x0, y - rib / 2, -d.lip_h, x1, y + rib / 2, 0.0) for x0, x1 in spans if x1 - x0 >= rib]
    return pieces


def _minus_interval(spans: list, lo: float, hi: float) -> list:
    """The intervals `spans` [(x0, x1), ...] with (lo, hi) taken out."""
    out = []
    for x0, x1 in spans:
        if hi <= x0 or x1 <= lo:
            out.append((x0, x1))
            continue
        if x0 < lo:
            out.append((x0, lo))
        if hi < x1:
            out.append((hi, x1))
    return out


def _rect_meets_circle(face, x: float, y: float, r: float) -> bool:
    bb = face.BoundingBox()
    nx, ny = min(max(x, bb.xmin), bb.xmax), min(max(y, bb.ymin), bb.ymax)
    return math.hypot(x - nx, y - ny) < r + 0.5


_LIPS: dict = {}


def _lip(d: BoxDims, lid_fit, lid_clearance, standoff_diameter, nozzle_mm) -> list:
    """The locating lip under the lid plate (touching it at z=0), with snap ridges or post notches
    (cached: a text change keeps the lip)."""
    key = (d.cavity_x, d.cavity_y, d.r_in, d.lip_h, d.cavity_x_offset, tuple(d.post_points), lid_fit,
           lid_clearance, standoff_diameter, nozzle_mm)
    if key not in _LIPS:
        if len(_LIPS) > 64:
            _LIPS.clear()
        _LIPS[key] = _make_lip(d, lid_fit, lid_clearance, standoff_diameter, nozzle_mm)
    return _LIPS[key]


def _make_lip(d: BoxDims, lid_fit, lid_clearance, standoff_diameter, nozzle_mm) -> list:
    """The lip as pieces that only touch the plate and each other (glued with it, no 3D boolean):
    a ring (in 2D, minus the screw posts' notches) extruded down, and the snap ridges against it."""
    from somana_core.geometry import kernel as tk

    xo = d.cavity_x_offset
    lip_w = lip_wall_mm(nozzle_mm)
    lx, ly = d.cavity_x - 2 * lid_clearance, d.cavity_y - 2 * lid_clearance
    lr = max(d.r_in - lid_clearance, 0.0)
    outer = tk.rounded_rect_face(lx, ly, lr, x0=xo)
    inner = tk.rounded_rect_face(lx - 2 * lip_w, ly - 2 * lip_w, max(lr - lip_w, 0.0), x0=xo)
    ring = tk.face(outer.outerWire(), [inner.outerWire()])
    faces = [ring]
    if lid_fit == "screw":  # the lip steps around each corner post
        notches = [tk.face(tk.circle_wire(x, y, standoff_diameter + 2 * lid_clearance)) for x, y in d.post_points]
        faces = tk.faces_cut(ring, notches)
    pieces = [tk.prism(f, -d.lip_h, d.lip_h) for f in faces]
    if lid_fit != "screw":
        zc = -d.lip_h / 2
        reach = lid_clearance + SNAP_ENGAGE_MM
        x0, x1 = xo - d.cavity_x / 2 + d.r_in + 2, xo + d.cavity_x / 2 - d.r_in - 2
        for sy in (-1, 1):
            y_lip, y_out = sy * ly / 2, sy * (ly / 2 + reach)
            pieces.append(tk.box(x0, min(y_lip, y_out), zc - SNAP_RIDGE_HEIGHT_MM / 2,
                                 x1, max(y_lip, y_out), zc + SNAP_RIDGE_HEIGHT_MM / 2))
    return pieces


class BoxBuilder:
    """The `Builder` part of a lidded box that both families share: print poses and placements.
    A family adds `dims_of(inputs)` and `build_part`."""

    @staticmethod
    def dims_of(v) -> BoxDims:
        raise NotImplementedError

    def build_part(self, part: str, v):
        raise NotImplementedError

    def print_rotation(self, part: str, v):
        """Print pose of an enclosure part: the base as it stands; a lid face down (lip up, nothing to
        bridge), except a lid with raised letters: it prints upright on its lip, its plate carried by
        ribs inside the lip (`_bridge_ribs`) so no bridge is longer than BRIDGE_PITCH_MM."""
        import numpy as np

        from somana_core.geometry.transforms import rotation_matrix

        if part == "lid" and not lid_prints_upright(v.text, v.text_style):
            return rotation_matrix("x", 180)
        return np.eye(4)

    def print_lift(self, part: str, v) -> float:
        """How far the part rises to rest on z=0 after its print rotation (exact, from the parameters)."""
        if part == "lid":
            return v.lip_height if lid_prints_upright(v.text, v.text_style) else v.lid_thickness
        return 0.0

    def placement(self, part: str, spec):
        """Where the part's own frame sits in the assembled product (the lid rests on the base's rim)."""
        import numpy as np

        m = np.eye(4)
        if part == "lid":
            m[2, 3] = self.dims_of(spec).base_h
        return m
