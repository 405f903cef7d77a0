"""An enclosure fitted to the customer's own KiCad board: walls that follow the board outline at a
set clearance, a standoff under every mounting hole, a cutout in the wall where each chosen cable
plug enters (sized to the plug's overmould so it seats fully), windows in the lid over buttons,
LEDs and displays, and a lid as high as the tallest part needs. Parts: base, lid.

Before any CAD the rules refuse a board that cannot be housed, naming why (a part through the wall,
a standoff under a bottom-side part, a plug that cannot reach its socket); after the base is built,
the interference check intersects the board's envelope and every plug with the solid.

Frame: the board's bounding box centred on x=y=0 (KiCad's y flipped to point up), the floor's
underside at z=0, the board resting on its standoffs.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import param

from somana_core.errors import InputError
from somana_core.geometry import enclosure as enc
from somana_core.geometry.fonts import FONT_NAME, describe_characters, text_width_mm, unsupported_characters
from somana_core.geometry.spec import FamilySpec, length, text

# Arcs of the board outline become polygon sides no further than this from the true arc (mm): well
# inside the 0.1 mm the clearance must hold, coarse enough to keep the wall's face count low.
OUTLINE_CHORD_MM = 0.02
# A common volume below this (mm3) is touching, not interfering (OCC's booleans leave slivers).
INTERFERENCE_MM3 = 1e-3
# Components closer to the wall than clearance + this (mm) are checked against the solid.
NEAR_WALL_MM = 1.0
# How a part's height was found, for messages (data/connectors.csv's catch-all row is an assumption).
_SOURCE = {"table": "the parts table", "3D model": "its 3D model", "assumed": "assumption (unknown part, no 3D model)"}
# In the 3D preview the lid floats this far above the base, so the board inside can be seen.
PREVIEW_LID_LIFT_MM = 25.0


def _shared(name: str):
    """A lidded box's parameter as `enc.LiddedBox` declares it (one declaration). Borrowed rather than
    inherited: this box has no corner radius or lid screws, and every parameter a family has must
    be one the customer can set."""
    return copy.copy(enc.LiddedBox.param[name])


class BoardEnclosure(FamilySpec):
    """An enclosure made for a KiCad board (base + lid)."""

    family = "board_enclosure"
    product_line = "sensor_enclosure"   # sold and priced as a sensor enclosure (geometry.FITTED)
    title = "Enclosure for your KiCad board"
    parts = ("base", "lid")

    board_file = param.String("", doc="The customer's KiCad board file (.kicad_pcb, KiCad 6 to 9); empty = "
                                      "the sample board", label="Board file")
    openings = param.String("auto", doc="Connectors, buttons, LEDs and displays that open through the wall or "
                                        "lid: auto (the recognised ones), none, or references such as J1,SW2",
                            label="Openings")
    clearance = length(1.0, (0.3, 5.0), 0.1, "Gap between the board edge and the inner wall", "Clearance")
    standoff_height = length(5.0, (2.0, 25.0), 0.5, "Standoff height above the floor (room for bottom-side parts)",
                             "Standoff height")
    standoff_diameter = length(6.0, (4.0, 10.0), 0.5, "Outer diameter of the standoffs", "Standoff diameter")
    screw_hole = length(2.5, (1.6, 3.5), 0.1, "Pilot hole in the standoffs for self-tapping screws",
                        "Screw pilot hole")
    headroom = length(1.0, (0.5, 10.0), 0.5, "Free space above the tallest part and below the lowest "
                                                "bottom-side part", "Headroom")
    plug_fit = length(0.5, (0.2, 2.0), 0.1, "Gap around each cable plug in its wall cutout and around each lid "
                                             "window", "Plug fit")
    wall = _shared("wall")
    lid_thickness = _shared("lid_thickness")
    lip_height = _shared("lip_height")
    lid_clearance = _shared("lid_clearance")
    text_style = _shared("text_style")
    text_size = _shared("text_size")
    text_depth = _shared("text_depth")
    machine = _shared("machine")
    text = text("", 24, f"Text on the lid, in {FONT_NAME}", "Lid text")

    text_limits = {"text": 24, "board_file": 4096, "openings": 200}
    groups = {
        "Board": ["board_file", "openings", "clearance", "standoff_height", "standoff_diameter", "screw_hole",
                  "headroom", "plug_fit"],
        "Size": ["wall"],
        "Lid": ["lid_thickness", "lip_height", "lid_clearance"],
        "Text": ["text", "text_style", "text_size", "text_depth"],
        "Production": ["machine"],
    }
    _layout_inputs = ["board_file", "openings", "clearance", "standoff_height", "headroom", "plug_fit", "wall",
                      "lip_height"]
    part_inputs = {
        "base": _layout_inputs + ["standoff_diameter", "screw_hole", "machine"],
        "lid": _layout_inputs + ["lid_thickness", "lid_clearance", "text", "text_style", "text_size", "text_depth",
                                 "machine"],
    }

    # -- derived ---------------------------------------------------------------------------
    def layout(self) -> "Layout":
        return layout_of(self)

    def part_envelopes(self):
        lay = self.layout()
        x, y = lay.outer_size
        lid_z = self.lid_thickness + self.lip_height + (self.text_depth if self.text_style == "embossed" else 0)
        return {"base": (x, y, lay.base_h), "lid": (x, y, lid_z)}

    def cross_check(self) -> None:
        min_wall = self.min_wall_mm()
        if self.wall < min_wall:
            raise InputError("wall", f"wall={self.wall:g} mm is below the minimum {min_wall:g} mm "
                                     f"(two nozzle widths of {self.machine})")
        ring = (self.standoff_diameter - self.screw_hole) / 2
        if ring < min_wall:
            raise InputError("standoff_diameter", f"standoff_diameter={self.standoff_diameter:g} mm leaves "
                                                  f"{ring:.2f} mm around the {self.screw_hole:g} mm screw hole; it "
                                                  f"needs {min_wall:g} mm: use at least "
                                                  f"{self.screw_hole + 2 * min_wall:g} mm")
        lay = self.layout()
        check_fit(self, lay)
        check_text(self, lay)


# ----------------------------------------------------------------------------- layout (pure Python)
@dataclass
class Cutout:
    """A wall cutout for one edge connector, in the enclosure frame."""

    reference: str
    mouth: np.ndarray        # (x, y) of the socket front's centre
    normal: np.ndarray       # outward unit vector
    width_mm: float          # plug overmould width (the cutout adds plug_fit each side)
    height_mm: float
    z_centre: float
    reach_mm: float          # from the mouth to past the outer wall
    description: str
    body_width_mm: float = 0.0     # the connector body's width along the edge and its z range: an
    body_z: tuple[float, float] = (0.0, 0.0)  # overhanging body passes through the wall too
    start_mm: float = -0.2   # where the cutout begins along the normal (from the mouth): behind the
                             # board edge when the connector overhangs it, so no sliver of wall stays


@dataclass
class Layout:
    board: object
    parts: list
    openings: list           # the chosen ones
    outline: np.ndarray      # board outline, enclosure frame, counter-clockwise
    holes: list              # [(x, y, reference)]
    z_board_bottom: float
    z_board_top: float
    base_h: float
    outer_size: tuple[float, float]
    cutouts: list[Cutout] = field(default_factory=list)
    windows: list = field(default_factory=list)   # [(reference, polygon)] lid windows (enclosure frame)
    tallest: tuple[str, float] = ("", 0.0)       # the part that sets the lid height


def layout_of(v) -> Layout:
    """Everything the rules and builders need, from the parameters (spec or part inputs)."""
    return _layout(v.board_file, v.openings, v.clearance, v.standoff_height, v.headroom, v.plug_fit, v.wall,
                   v.lip_height)


@lru_cache(maxsize=32)
def _layout(board_file, openings, clearance, standoff_height, headroom, plug_fit, wall, lip_height) -> Layout:
    from somana_core.intake import chosen_openings, classify, find_openings, load_board
    from somana_core.intake.kicad import polygon_area

    try:
        board = load_board(board_file)
    except InputError as exc:
        raise InputError("board_file", exc.message) from None
    parts = classify(board)
    chosen = chosen_openings(find_openings(board, parts), openings)
    outline = board.to_enclosure(board.outline.polygon(OUTLINE_CHORD_MM))
    if polygon_area(outline) < 0:
        outline = outline[::-1]
    holes = [(*board.to_enclosure([(h.x, h.y)])[0], h.reference) for h in board.holes]
    z_bottom = wall + standoff_height
    z_top = z_bottom + board.thickness_mm
    top_parts = [p for p in parts if p.side == "top"]
    tallest = max(((p.reference, p.height_mm) for p in top_parts), key=lambda t: t[1], default=("", 0.0))
    room = tallest[1]
    cutouts, windows = [], []
    for o in chosen:
        if o.opens == "top":
            windows.append((o.reference, board.to_enclosure(o.outline)))
            continue
        mouth = board.to_enclosure([o.mouth])[0]
        normal = np.array([o.normal[0], -o.normal[1]])
        sign = 1.0 if o.side == "top" else -1.0
        z_centre = (z_top + o.mouth_z_mm) if o.side == "top" else (z_bottom - o.mouth_z_mm)
        reach = float(((outline - mouth) @ normal).max()) + clearance + wall + 1.0
        t = np.array([-o.normal[1], o.normal[0]])
        along = o.outline @ t
        body_z = (z_top, z_top + o.height_mm) if o.side == "top" else (z_bottom - o.height_mm, z_bottom)
        cutouts.append(Cutout(o.reference, mouth, normal, o.plug_width_mm, o.plug_height_mm, z_centre, reach,
                              o.describe(), float(along.max() - along.min()), body_z,
                              -0.2 - max(0.0, -o.front_to_edge_mm)))
        if sign > 0:
            top_of_cut = max(o.mouth_z_mm + o.plug_height_mm / 2, o.height_mm) + plug_fit
            if top_of_cut > room:
                room = top_of_cut
                tallest = (f"{o.reference}'s plug", top_of_cut)
    base_h = z_top + room + headroom + lip_height
    lo, hi = outline.min(axis=0), outline.max(axis=0)
    grow = 2 * (clearance + wall)
    return Layout(board=board, parts=parts, openings=chosen, outline=outline, holes=holes, z_board_bottom=z_bottom,
                  z_board_top=z_top, base_h=base_h, outer_size=(float(hi[0] - lo[0] + grow), float(hi[1] - lo[1] + grow)),
                  cutouts=cutouts, windows=windows, tallest=tallest)


# ----------------------------------------------------------------------------- rules (pure Python)
def _inside_distance(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Signed distance of points to a polygon's boundary: positive inside, negative outside (mm)."""
    from somana_core.intake.kicad import distance_to_polygon, point_in_polygon

    d = distance_to_polygon(points, polygon)
    inside = np.array([point_in_polygon(x, y, polygon) for x, y in points])
    return np.where(inside, d, -d)


def _strip(cut: Cutout, margin: float = 0.0):
    """(tangent, half width) of a cutout's strip."""
    t = np.array([-cut.normal[1], cut.normal[0]])
    return t, cut.width_mm / 2 + margin


def check_fit(v, lay: Layout) -> None:
    """The rules that refuse a board this enclosure cannot hold, each naming the part and the fix."""
    board = lay.board
    open_refs = {c.reference for c in lay.cutouts}
    # 1. every part stays inside the wall (an opened edge connector may reach into its cutout)
    for part in lay.parts:
        if part.height_mm <= 0 or part.reference in open_refs or part.outline.shape[0] < 3:
            continue
        pts = board.to_enclosure(part.outline)
        outside = -_inside_distance(pts, lay.outline).min()
        if outside > v.clearance - 0.05:
            raise InputError("clearance", f"{part.reference} ({part.footprint}) reaches {outside:.1f} mm past the "
                                          f"board edge, into the wall: open it (openings) or use clearance of at "
                                          f"least {outside + 0.1:.1f} mm")
    # 2. bottom-side parts fit above the floor, clear of the standoffs
    bottom = [p for p in lay.parts if p.side == "bottom" and p.height_mm > 0]
    if bottom:
        low = max(bottom, key=lambda p: p.height_mm)
        need = low.height_mm + v.headroom
        if v.standoff_height < need:
            raise InputError("standoff_height", f"standoff_height={v.standoff_height:g} mm leaves no room under the "
                                                f"board for {low.reference} ({low.height_mm:g} mm tall by {_SOURCE[low.height_source]}, bottom "
                                                f"side): use at least {need:g} mm")
    from somana_core.intake.kicad import distance_to_polygon, point_in_polygon

    r = v.standoff_diameter / 2
    hole_owner = {h.reference for h in board.holes}
    for x, y, ref in lay.holes:
        for p in bottom:
            if p.reference in hole_owner:
                continue
            pts = board.to_enclosure(p.outline)
            if point_in_polygon(x, y, pts) or distance_to_polygon(np.array([[x, y]]), pts)[0] < r:
                raise InputError("standoff_diameter", f"the standoff under {ref} meets {p.reference} on the board's "
                                                      f"bottom side: use a standoff_diameter below "
                                                      f"{2 * distance_to_polygon(np.array([[x, y]]), pts)[0]:.1f} mm "
                                                      f"or move the part")
    for x, y, ref in lay.holes:  # a standoff may sink into the wall, not through it
        to_edge = float(_inside_distance(np.array([[x, y]]), lay.outline)[0])
        if r > to_edge + v.clearance + v.wall / 2:
            most = 2 * (to_edge + v.clearance + v.wall / 2)
            raise InputError("standoff_diameter", f"standoff_diameter={v.standoff_diameter:g} mm: the standoff under "
                                                  f"{ref} ({to_edge:.1f} mm from the board edge) would stick out of "
                                                  f"the wall; use at most {most:.1f} mm or more clearance")
    for i, (x1, y1, r1) in enumerate(lay.holes):
        for x2, y2, r2 in lay.holes[i + 1:]:
            if math.hypot(x1 - x2, y1 - y2) < v.standoff_diameter:
                raise InputError("standoff_diameter", f"standoff_diameter={v.standoff_diameter:g} mm: the standoffs "
                                                      f"under {r1} and {r2} overlap (holes "
                                                      f"{math.hypot(x1 - x2, y1 - y2):.1f} mm apart)")
    # 3. each plug reaches its socket: nothing of the board or its parts in its way, above the floor
    for cut in lay.cutouts:
        check_plug_path(v, lay, cut)


def check_plug_path(v, lay: Layout, cut: Cutout) -> None:
    board = lay.board
    t, half = _strip(cut)
    z0, z1 = cut.z_centre - cut.height_mm / 2, cut.z_centre + cut.height_mm / 2
    if z0 - v.plug_fit < v.wall:
        raise InputError("standoff_height", f"the cable plug of {cut.reference} would reach below the floor "
                                            f"({z0 - v.plug_fit:.1f} mm < {v.wall:g} mm): use standoff_height of at "
                                            f"least {v.standoff_height + v.wall - (z0 - v.plug_fit):.1f} mm")

    def in_path(points: np.ndarray) -> np.ndarray:
        rel = points - cut.mouth
        along, across = rel @ cut.normal, rel @ t
        return (along > 0.05) & (along < cut.reach_mm) & (np.abs(across) < half)

    # the board itself in front of the socket (a connector set back from the edge)
    if z0 < lay.z_board_top and z1 > lay.z_board_bottom:
        outline = _densify(lay.outline, 0.1)
        front = outline[in_path(outline)]
        if len(front):
            ahead = float(((front - cut.mouth) @ cut.normal).max())
            raise InputError("openings", f"the cable plug of {cut.reference} cannot reach its socket: the board edge "
                                         f"stands {ahead:.1f} mm in front of it; switch the opening off or move "
                                         f"the connector to the edge")
    for part in lay.parts:
        if part.reference == cut.reference or part.height_mm <= 0 or part.outline.shape[0] < 3:
            continue
        if part.side == "top":
            pz0, pz1 = lay.z_board_top, lay.z_board_top + part.height_mm
        else:
            pz0, pz1 = lay.z_board_bottom - part.height_mm, lay.z_board_bottom
        if pz1 <= z0 or pz0 >= z1:
            continue
        pts = board.to_enclosure(part.outline)
        if in_path(pts).any() or _convex_overlaps_strip(pts, cut, t, half):
            raise InputError("openings", f"the cable plug of {cut.reference} cannot reach its socket: "
                                         f"{part.reference} ({part.footprint}) is in its way")


def _densify(polygon: np.ndarray, step_mm: float) -> np.ndarray:
    """The closed polygon with points at most step_mm apart along every side."""
    out = []
    for a, b in zip(polygon, np.roll(polygon, -1, axis=0)):
        n = max(1, int(np.ceil(np.linalg.norm(b - a) / step_mm)))
        out.append(a + np.outer(np.arange(n) / n, b - a))
    return np.concatenate(out)


def _convex_overlaps_strip(pts: np.ndarray, cut: Cutout, t: np.ndarray, half: float) -> bool:
    """Separating-axis test: the convex polygon against the plug's path rectangle."""
    rel = pts - cut.mouth
    along, across = rel @ cut.normal, rel @ t
    if along.max() <= 0.05 or along.min() >= cut.reach_mm or across.max() <= -half or across.min() >= half:
        return False
    corners = np.array([cut.mouth + cut.normal * a + t * b for a in (0.05, cut.reach_mm) for b in (-half, half)])
    n = len(pts)
    for i in range(n):
        edge = pts[(i + 1) % n] - pts[i]
        axis = np.array([-edge[1], edge[0]])
        if not np.any(axis):
            continue
        p_proj, c_proj = pts @ axis, corners @ axis
        if p_proj.max() <= c_proj.min() or c_proj.max() <= p_proj.min():
            return False
    return True


def check_text(v, lay: Layout) -> None:
    value = v.text
    if not value.strip():
        return
    bad = unsupported_characters(value)
    if bad:
        raise InputError("text", f"text: {describe_characters(bad)} cannot be engraved with the {FONT_NAME} font")
    width = text_width_mm(value, v.text_size) + 2 * enc.TEXT_MARGIN_RATIO * v.text_size
    height = v.text_size * (enc.TEXT_HEIGHT_EM + 2 * enc.TEXT_MARGIN_RATIO)
    box = np.array([(sx * width / 2, sy * height / 2) for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))])
    if _inside_distance(box, lay.outline).min() < 0:
        raise InputError("text", f"text {value!r} at text_size={v.text_size:g} mm is {width:.0f} x {height:.0f} mm; "
                                 f"it does not fit on the lid over this board: shorten it or use a smaller text_size")
    for ref, window in lay.windows:
        lo, hi = window.min(axis=0), window.max(axis=0)
        if lo[0] < width / 2 and hi[0] > -width / 2 and lo[1] < height / 2 and hi[1] > -height / 2:
            raise InputError("text", f"text {value!r} would cross the lid window over {ref}: remove the text, "
                                     f"make it smaller or close that opening")
    if v.text_style == "engraved" and v.text_depth > v.lid_thickness - v.min_wall_mm():
        raise InputError("text_depth", f"text_depth={v.text_depth:g} mm engraves through too much of the "
                                       f"{v.lid_thickness:g} mm lid: use at most "
                                       f"{v.lid_thickness - v.min_wall_mm():g} mm")


# ----------------------------------------------------------------------------- builders (CAD)
def _rect(centre: np.ndarray, along: np.ndarray, s0: float, s1: float, half: float) -> list:
    t = np.array([-along[1], along[0]])
    return [tuple(centre + along * s0 - t * half), tuple(centre + along * s1 - t * half),
            tuple(centre + along * s1 + t * half), tuple(centre + along * s0 + t * half)]


def _cavity_wires(lay: Layout, clearance: float, wall: float):
    from somana_core.geometry import kernel as tk

    board_wire = tk.polygon_wire(lay.outline)
    try:
        cavity = tk.offset_wire(board_wire, clearance)
        outer = tk.offset_wire(cavity, wall)
    except Exception as exc:  # noqa: BLE001 - OCC's offset refuses some outlines (self-touching, slivers)
        raise InputError("clearance", f"the wall cannot follow this board outline at clearance={clearance:g} mm "
                                      f"and wall={wall:g} mm ({type(exc).__name__}); try another clearance") from None
    return board_wire, cavity, outer


def build_base(v):
    from somana_core.catalogue import nozzle_mm
    from somana_core.geometry import kernel as tk

    lay = layout_of(v)
    _, cavity, outer = _cavity_wires(lay, v.clearance, v.wall)
    ov = 0.05
    shell_cuts = [tk.prism(tk.face(cavity), v.wall, lay.base_h)]
    for cut in lay.cutouts:
        half = cut.width_mm / 2 + v.plug_fit
        pts = _rect(cut.mouth, cut.normal, cut.start_mm, cut.reach_mm, half)
        h = cut.height_mm / 2 + v.plug_fit
        shell_cuts.append(tk.prism(tk.face(tk.polygon_wire(pts)), cut.z_centre - h, 2 * h))
        body = _rect(cut.mouth, cut.normal, cut.start_mm, cut.reach_mm, cut.body_width_mm / 2 + v.plug_fit)
        z0, z1 = cut.body_z[0] - v.plug_fit, cut.body_z[1] + v.plug_fit
        shell_cuts.append(tk.prism(tk.face(tk.polygon_wire(body)), z0, z1 - z0))
    shell = tk.boolean("cut", tk.prism(tk.face(outer), 0.0, lay.base_h), shell_cuts)
    adds = []
    top = lay.z_board_bottom
    min_gap = 2 * nozzle_mm(v.machine)
    for x, y, _ in lay.holes:
        adds.append(tk.tube(x, y, v.wall / 2, top, v.standoff_diameter, v.screw_hole))
        # a standoff close to the wall is joined to it by a rib (a sliver gap does not print, and a
        # tangent contact leaves open edges in the STL)
        gap = float(_inside_distance(np.array([[x, y]]), lay.outline)[0]) + v.clearance - v.standoff_diameter / 2
        if gap < min_gap:
            from somana_core.intake.kicad import distance_to_polygon

            # direction to the nearest point of the outline
            a, b = lay.outline, np.roll(lay.outline, -1, axis=0)
            ab = b - a
            tt = np.clip(np.einsum("ij,ij->i", (x, y) - a, ab) / np.maximum((ab * ab).sum(1), 1e-12), 0, 1)
            near = a + tt[:, None] * ab
            k = int(np.argmin(np.linalg.norm(near - (x, y), axis=1)))
            direction = (near[k] - (x, y)) / max(np.linalg.norm(near[k] - (x, y)), 1e-9)
            reach = float(distance_to_polygon(np.array([[x, y]]), lay.outline)[0]) + v.clearance + v.wall / 2
            start = (v.screw_hole / 2 + v.standoff_diameter / 2) / 2
            width = enc.RIB_WIDTH_RATIO * v.standoff_diameter
            rib = _rect(np.array([x, y]), direction, start, reach, width / 2)
            adds.append(tk.prism(tk.face(tk.polygon_wire(rib)), v.wall / 2, top - v.wall / 2))
    solid = tk.one_solid(tk.boolean("fuse", shell, adds).clean(), "base") if adds else tk.one_solid(shell, "base")
    check_interference(v, lay, solid)
    return solid


def check_interference(v, lay: Layout, base) -> None:
    """Intersect the built base with the board, the parts near the wall and every plug's path:
    anything more than touching refuses the design, naming what meets what."""
    from somana_core.geometry import kernel as tk

    board_wire = tk.polygon_wire(lay.outline)
    board_solid = tk.prism(tk.face(board_wire), lay.z_board_bottom, lay.board.thickness_mm)
    volume = tk.common_volume_mm3(board_solid, base)
    if volume > INTERFERENCE_MM3:
        raise InputError("clearance", f"the board meets the enclosure ({volume:.2f} mm3 overlap): use more clearance")
    near = NEAR_WALL_MM + v.clearance
    opened = {cut.reference for cut in lay.cutouts}
    for part in lay.parts:
        if part.height_mm <= 0 or part.outline.shape[0] < 3:
            continue
        if part.side == "top" and part.reference not in opened:
            continue  # check_fit proved it inside the wall and below the lid's lip (nothing else is there)
        pts = lay.board.to_enclosure(part.outline)
        if _inside_distance(pts, lay.outline).min() > near and part.side == "top":
            continue
        if part.side == "top":
            z0, h = lay.z_board_top, part.height_mm
        else:
            z0, h = lay.z_board_bottom - part.height_mm, part.height_mm
        from somana_core.intake.kicad import convex_hull

        hull = convex_hull(pts)
        envelope = tk.prism(tk.face(tk.polygon_wire(hull)), z0, h)
        volume = tk.common_volume_mm3(envelope, base)
        if volume > INTERFERENCE_MM3:
            raise InputError("clearance", f"{part.reference} ({part.footprint}, {part.height_mm:g} mm tall by {_SOURCE[part.height_source]}) meets "
                                          f"the enclosure ({volume:.2f} mm3 overlap): open it, or use more "
                                          f"clearance or standoff height")
    for cut in lay.cutouts:
        plug = plug_solid(cut)
        volume = tk.common_volume_mm3(plug, base)
        if volume > INTERFERENCE_MM3:
            raise InputError("openings", f"the cable plug of {cut.reference} cannot reach its socket: it meets the "
                                         f"enclosure ({volume:.2f} mm3 overlap); use more plug_fit or "
                                         f"standoff_height")


def plug_solid(cut: Cutout):
    """The plug's overmould as a solid, from the socket front out past the wall."""
    from somana_core.geometry import kernel as tk

    pts = _rect(cut.mouth, cut.normal, 0.0, cut.reach_mm, cut.width_mm / 2)
    return tk.prism(tk.face(tk.polygon_wire(pts)), cut.z_centre - cut.height_mm / 2, cut.height_mm)


def build_lid(v):
    """The lid in its frame: plate z in [0, lid_thickness] following the outer wall, the lip below
    z=0 following the inner wall (less the lid clearance), windows over the opened top parts."""
    from somana_core.catalogue import nozzle_mm
    from somana_core.geometry import kernel as tk

    lay = layout_of(v)
    _, cavity, outer = _cavity_wires(lay, v.clearance, v.wall)
    lip_outer = tk.offset_wire(cavity, -v.lid_clearance)
    lip_inner = tk.offset_wire(lip_outer, -enc.lip_wall_mm(nozzle_mm(v.machine)))
    windows = []
    for _, poly in lay.windows:
        hull_wire = tk.polygon_wire(poly)
        windows.append(tk.offset_wire(hull_wire, v.plug_fit))
    plate_face = tk.face(outer, windows)
    lip = tk.prism(tk.face(lip_outer, [lip_inner]), -v.lip_height, v.lip_height)
    if windows:
        lip = tk.boolean("cut", lip, [tk.prism(tk.face(w), -v.lip_height - 1, v.lip_height + 2) for w in windows])
    pieces = tk.lettered_plate(plate_face, v.lid_thickness, v.text, v.text_size, v.text_depth, v.text_style)
    return tk.glue(pieces + [lip], "lid")


class BoardEnclosureBuilder(enc.BoxBuilder):
    """Builds the base and lid of a `BoardEnclosure` (its `Builder`)."""

    def build_part(self, part: str, v):
        if part == "base":
            return build_base(v)
        if part == "lid":
            return build_lid(v)
        raise KeyError(part)

    def placement(self, part: str, spec):
        """The lid is shown lifted off the base (an exploded view) so the board inside stays visible."""
        m = np.eye(4)
        if part == "lid":
            m[2, 3] = layout_of(spec).base_h + PREVIEW_LID_LIFT_MM
        return m

    def preview_extras(self, spec, deflection_mm: float) -> dict:
        """The board and its parts' envelopes, in place inside the base (not printed)."""
        return dict(_board_meshes(*(getattr(spec, n) for n in BoardEnclosure._layout_inputs),
                                  round(float(deflection_mm), 4)))


BoardEnclosure.builder = BoardEnclosureBuilder()


# ----------------------------------------------------------------------------- the board in the preview
@lru_cache(maxsize=16)
def _board_meshes(*key) -> tuple:
    """(name, Mesh) pairs of the board and each part envelope, cached per layout and deflection."""
    from types import SimpleNamespace

    from somana_core.geometry.mesh import tessellate

    *values, deflection = key
    spec = SimpleNamespace(**dict(zip(BoardEnclosure._layout_inputs, values)))
    solids = board_preview_solids(spec)
    pairs = [("board", tessellate(solids["board"], deflection))]
    pairs += [(f"board part {ref}", tessellate(solid, deflection)) for ref, solid in solids["parts"]]
    return tuple(pairs)


def board_preview_solids(spec) -> dict:
    """The board and its parts' envelopes as solids in the enclosure frame (for the 3D view):
    {"board": solid, "parts": [(reference, solid), ...]}."""
    from somana_core.geometry import kernel as tk
    from somana_core.intake.kicad import convex_hull

    lay = layout_of(spec)
    holes = [tk.circle_wire(x, y, h.diameter_mm) for (x, y, _), h in zip(lay.holes, lay.board.holes)]
    board = tk.prism(tk.face(tk.polygon_wire(lay.outline), holes), lay.z_board_bottom, lay.board.thickness_mm)
    solids = []
    for part in lay.parts:
        if part.height_mm <= 0 or part.outline.shape[0] < 3:
            continue
        hull = convex_hull(lay.board.to_enclosure(part.outline))
        z0 = lay.z_board_top if part.side == "top" else lay.z_board_bottom - part.height_mm
        solids.append((part.reference, tk.prism(tk.face(tk.polygon_wire(hull)), z0, part.height_mm)))
    return {"board": board, "parts": solids}
