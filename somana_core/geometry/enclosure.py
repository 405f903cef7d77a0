"""What the two enclosure families share: the box's derived dimensions (pure arithmetic, no CAD) and
the base and lid shapes (CadQuery, imported only when a part is built).

Assembled frame: the board is centred on x=y=0, the floor's underside is z=0. The lid is built with
the underside of its plate at z=0 (lip below it); its placement on the base is a matrix, so moving
the lid (a taller base) does not rebuild it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

# Design rules, in mm, derived once here (not customer choices):
SNAP_GROOVE_DEPTH_MM = 0.6   # groove cut into the base's inner wall for a snap lid
SNAP_ENGAGE_MM = 0.4         # how far the lid's ridge reaches into that groove
SNAP_RIDGE_HEIGHT_MM = 1.0   # vertical size of ridge and groove (groove gets + 2 x lid clearance)
LIP_NOZZLE_WIDTHS = 3        # lid lip wall = 3 nozzle widths
TAB_HOLE_MM = 4.5            # wall-mount tab hole: an M4 / #8 wood screw passes
TAB_LENGTH_MM = 12.0         # how far a wall-mount tab reaches past the end wall
VENT_MARGIN_MM = 1.0         # solid wall kept above and below vent slots
TEXT_MARGIN_RATIO = 0.25     # free border around lid text, as a fraction of the font size
TEXT_HEIGHT_EM = 1.17        # DejaVu Sans ascender + descender, em (tall letters and descenders fit)


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
    r_out = min(corner_radius, (cavity_x + 2 * wall) / 2 - 0.01, (cavity_y + 2 * wall) / 2 - 0.01)
    # The inner corner never rounds into the board's clearance (nor into a corner post).
    r_in = max(0.0, min(r_out - wall, clearance, post_diameter / 2))
    posts = []
    if lid_fit == "screw":
        px, py = cavity_x / 2 - post_diameter / 2, cavity_y / 2 - post_diameter / 2
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


def lip_wall_mm(nozzle_mm: float) -> float:
    return LIP_NOZZLE_WIDTHS * nozzle_mm


def tab_thickness_mm(wall: float) -> float:
    return max(wall * 1.5, 2.0)


def base_envelope(d: BoxDims, mount_tabs: bool, extra_x: float = 0.0) -> tuple[float, float, float]:
    x = d.outer_x + (2 * TAB_LENGTH_MM if mount_tabs else 0.0) + extra_x
    return (x, d.outer_y, d.base_h)


# ----------------------------------------------------------------------------- CAD (lazy import)
def build_base(d: BoxDims, *, standoff_points, standoff_diameter, standoff_height, screw_hole,
               lid_fit, mount_tabs, extra_add=(), extra_cut=(), nozzle_mm=0.4, pad_points=(), pad_size=0.0):
    """Shelled box with rounded corners, standoffs, screw posts or snap grooves, tabs; then the
    family's own additions and cut-outs (vents, cable hole, connector cut-outs)."""
    from somana_core.geometry import toolkit as tk

    ov = tk.OVERSHOOT_MM
    outer = tk.rounded_rect_prism(d.outer_x, d.outer_y, d.base_h, d.r_out, x0=d.cavity_x_offset)
    cavity = tk.rounded_rect_prism(d.cavity_x, d.cavity_y, d.base_h, d.r_in, z0=d.floor, x0=d.cavity_x_offset)
    shell = outer.cut(cavity)
    adds, cuts = list(extra_add), list(extra_cut)
    # standoffs sit a little into the floor so the fuse never meets a coplanar face
    top = d.floor + standoff_height
    bodies, holes = tk.standoffs(standoff_points, d.floor / 2, top, standoff_diameter, screw_hole,
                                 min(standoff_height, top - nozzle_mm))
    adds += bodies
    cuts += holes
    for x, y in pad_points:  # boards without holes rest on corner pads
        adds.append(tk.box(x - pad_size / 2, y - pad_size / 2, d.floor / 2, x + pad_size / 2, y + pad_size / 2, top))
    if lid_fit == "screw":
        post_top = d.base_h
        depth = min(d.base_h - d.floor, 3 * standoff_diameter)
        bodies, holes = tk.standoffs(d.post_points, d.floor / 2, post_top, standoff_diameter, screw_hole, depth)
        adds += bodies
        cuts += holes
    else:  # snap: a groove along both long inner walls, where the lid's ridges click in
        zc = d.base_h - d.lip_h / 2
        gh = SNAP_RIDGE_HEIGHT_MM + 0.4
        x0, x1 = d.cavity_x_offset - d.cavity_x / 2 + d.r_in, d.cavity_x_offset + d.cavity_x / 2 - d.r_in
        for sy in (-1, 1):
            y_in = sy * d.cavity_y / 2
            y_out = sy * (d.cavity_y / 2 + SNAP_GROOVE_DEPTH_MM)
            cuts.append(tk.box(x0 + 1, min(y_in, y_out) - (ov if sy < 0 else 0), zc - gh / 2,
                               x1 - 1, max(y_in, y_out) + (ov if sy > 0 else 0), zc + gh / 2))
    if mount_tabs:
        t = tab_thickness_mm(d.wall)
        tab_w = min(d.outer_y - 2 * d.r_out, 3 * TAB_HOLE_MM)
        for sx in (-1, 1):
            x_wall = d.cavity_x_offset + sx * (d.outer_x / 2 - d.wall / 2)
            x_end = d.cavity_x_offset + sx * (d.outer_x / 2 + TAB_LENGTH_MM - tab_w / 2)
            adds.append(tk.box(min(x_wall, x_end), -tab_w / 2, 0, max(x_wall, x_end), tab_w / 2, t))
            adds.append(tk.cylinder_z(x_end, 0, 0, t, tab_w))
            cuts.append(tk.cylinder_z(x_end, 0, -ov, t + ov, TAB_HOLE_MM))
    return tk.one_solid(tk.combine(shell, adds, cuts), "base")


def build_lid(d: BoxDims, *, lid_fit, lid_thickness, lid_clearance, lid_hole, standoff_diameter,
              text, text_style, text_size, text_depth, nozzle_mm):
    """Lid in its assembled frame: plate z in [0, lid_thickness], lip below z=0 inside the cavity."""
    from somana_core.geometry import toolkit as tk

    ov = tk.OVERSHOOT_MM
    xo = d.cavity_x_offset
    plate = tk.rounded_rect_prism(d.outer_x, d.outer_y, lid_thickness, d.r_out, x0=xo)
    lip_w = lip_wall_mm(nozzle_mm)
    lx, ly = d.cavity_x - 2 * lid_clearance, d.cavity_y - 2 * lid_clearance
    lr = max(d.r_in - lid_clearance, 0.0)
    lip_outer = tk.rounded_rect_prism(lx, ly, d.lip_h + ov, lr, z0=-d.lip_h, x0=xo)
    lip_inner = tk.rounded_rect_prism(lx - 2 * lip_w, ly - 2 * lip_w, d.lip_h + 3 * ov,
                                      max(lr - lip_w, 0.0), z0=-d.lip_h - ov, x0=xo)
    lip_cuts = [lip_inner]
    if lid_fit == "screw":  # the lip steps around each corner post
        lip_cuts += [tk.cylinder_z(x, y, -d.lip_h - ov, 2 * ov, standoff_diameter + 2 * lid_clearance)
                     for x, y in d.post_points]
    lip = lip_outer.cut(*lip_cuts)
    adds, cuts = [lip], []
    if lid_fit == "screw":  # a screw clearance hole through the plate over each post
        cuts += [tk.cylinder_z(x, y, -ov, lid_thickness + ov, lid_hole) for x, y in d.post_points]
    else:
        zc = -d.lip_h / 2
        reach = lid_clearance + SNAP_ENGAGE_MM
        x0, x1 = xo - d.cavity_x / 2 + d.r_in + 2, xo + d.cavity_x / 2 - d.r_in - 2
        for sy in (-1, 1):
            y_lip = sy * (ly / 2 - ov)
            y_out = sy * (ly / 2 + reach)
            adds.append(tk.box(x0, min(y_lip, y_out), zc - SNAP_RIDGE_HEIGHT_MM / 2,
                               x1, max(y_lip, y_out), zc + SNAP_RIDGE_HEIGHT_MM / 2))
    shape = tk.combine(plate, adds, [])
    if text.strip():
        if text_style == "engraved":
            letters = tk.text_solid(text, text_size, text_depth + ov).translate((xo, 0, lid_thickness - text_depth))
            cuts.append(letters)
        else:
            letters = tk.text_solid(text, text_size, text_depth + ov).translate((xo, 0, lid_thickness - ov))
            shape = tk.combine(shape, [letters], [])
    shape = tk.combine(shape, [], cuts)
    return tk.one_solid(shape, "lid")
