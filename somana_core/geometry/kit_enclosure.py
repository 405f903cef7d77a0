"""STEM-kit project box for a board from data/boards.csv: standoffs on the board's own mounting
holes, the USB connector's cut-out in line with the connector at the standoff height, an optional
battery compartment, the kid's name on the lid. Parts: base, lid.
"""

from __future__ import annotations

import math

import numpy as np

from somana_core import catalogue
from somana_core.errors import InputError
from somana_core.geometry import enclosure as enc
from somana_core.geometry.fonts import FONT_NAME
from somana_core.geometry.spec import choice, flag, length, text

NO_BATTERY = "none"
# A self-tapping screw's pilot hole, as a fraction of the board's mounting-hole drill.
PILOT_RATIO = 0.8
BATTERY_CLEARANCE_MM = 1.0  # play around a battery pack in its bay
UNDERSIDE_CLEARANCE_MM = 0.5  # air between the lowest pin under a board and the floor


def board_ids() -> list[str]:
    return catalogue.board_ids()


def battery_ids() -> list[str]:
    return [NO_BATTERY] + catalogue.battery_ids()


def board_row(board: str) -> dict:
    return catalogue.board_row(board)


def battery_row(battery: str) -> dict | None:
    if battery == NO_BATTERY:
        return None
    return catalogue.battery_row(battery)


class Board:
    """A board preset placed in the box: its footprint (with the connector's overhang) is centred
    on x=y=0 of the board bay."""

    def __init__(self, board: str):
        row = board_row(board)
        self.id = board
        self.name = row["name"]
        self.length, self.width = float(row["length_mm"]), float(row["width_mm"])
        self.thickness = float(row["pcb_thickness_mm"])
        holes = row["holes"] if isinstance(row["holes"], str) else ""
        self.holes_board = [tuple(float(c) for c in h.split(":")) for h in holes.split(";") if h.strip()]
        self.hole_diameter = float(row["hole_diameter_mm"])
        self.usb_side = row["usb_side"]
        self.usb_centre, self.usb_width = float(row["usb_centre_mm"]), float(row["usb_width_mm"])
        self.usb_height, self.usb_z = float(row["usb_height_mm"]), float(row["usb_z_mm"])
        self.usb_overhang = float(row["usb_overhang_mm"])
        self.plug = str(row["plug"])
        self.plug_width, self.plug_height = float(row["plug_width_mm"]), float(row["plug_height_mm"])
        self.underside = float(row["underside_mm"])
        self.pad_inset_y = float(row["pad_inset_y_mm"])
        raw = row.get("windows")
        raw = raw if isinstance(raw, str) else ""
        self.windows_board = [tuple(float(c) for c in w.split(":")) for w in raw.split(";") if w.strip()]
        # footprint in board coordinates: the board plus the connector sticking out of one edge
        x0, y0, x1, y1 = 0.0, 0.0, self.length, self.width
        if self.usb_side == "x0":
            x0 -= self.usb_overhang
        elif self.usb_side == "x1":
            x1 += self.usb_overhang
        elif self.usb_side == "y0":
            y0 -= self.usb_overhang
        else:
            y1 += self.usb_overhang
        self.footprint = (x0, y0, x1, y1)
        self.shift = (-(x0 + x1) / 2, -(y0 + y1) / 2)  # board coordinates -> bay coordinates

    @property
    def footprint_size(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.footprint
        return x1 - x0, y1 - y0

    def to_bay(self, x: float, y: float) -> tuple[float, float]:
        return x + self.shift[0], y + self.shift[1]

    @property
    def holes(self) -> list[tuple[float, float]]:
        return [self.to_bay(x, y) for x, y in self.holes_board]

    def corners(self) -> list[tuple[float, float]]:
        return [self.to_bay(x, y) for x in (0, self.length) for y in (0, self.width)]

    @property
    def pilot_hole(self) -> float:
        return PILOT_RATIO * self.hole_diameter

    @property
    def windows(self) -> list[tuple[float, float, float, float]]:
        """Openings the lid needs over this board (display, buttons): (x, y, w, h), bay coordinates."""
        return [(*self.to_bay(x, y), w, h) for x, y, w, h in self.windows_board]

    def plug_half_sizes(self, margin: float) -> tuple[float, float]:
        """Half width and half height (mm) of the wall cut-out: the cable plug's moulded head (or the
        socket itself if larger) plus the margin, so the plug passes the wall and seats fully."""
        return (max(self.plug_width, self.usb_width) / 2 + margin,
                max(self.plug_height, self.usb_height) / 2 + margin)

    def socket_mouth(self) -> float:
        """Where the socket's mouth is (bay coordinates) along the axis normal to its wall."""
        x0, y0, x1, y1 = self.footprint
        edge = {"x0": x0, "x1": x1, "y0": y0, "y1": y1}[self.usb_side]
        return edge + (self.shift[0] if self.usb_side in ("x0", "x1") else self.shift[1])

    def usb_box(self, clearance: float):
        """The connector's side, the cut-out's centre along that wall (bay coordinates) and its width."""
        if self.usb_side in ("x0", "x1"):
            return self.usb_side, self.to_bay(0, self.usb_centre)[1]
        return self.usb_side, self.to_bay(self.usb_centre, 0)[0]


class KitEnclosure(enc.LiddedBox):
    """STEM-kit project box for a chosen board (base + lid)."""

    family = "kit_enclosure"
    title = "STEM kit project box"
    parts = ("base", "lid")

    board = choice("arduino_uno_r3", board_ids(), "Board preset from data/boards.csv", "Board")
    clearance = length(1.0, (0.5, 5.0), 0.1, "Gap between the board (and its connector) and the inner wall",
                       "Clearance")
    standoff_height = length(9.5, (3.0, 15.0), 0.5, "Standoff height above the floor (room for pins under "
                                                   "the board)", "Standoff height")
    standoff_diameter = length(6.0, (4.0, 10.0), 0.5, "Outer diameter of the standoffs", "Standoff diameter")
    component_height = length(15.0, (5.0, 50.0), 0.5, "Free height above the board", "Component height")
    usb_margin = length(1.0, (0.3, 3.0), 0.1, "Extra room around the USB connector in its cut-out", "USB margin")
    battery = choice(NO_BATTERY, battery_ids(), "Battery compartment beside the board (data/batteries.csv)",
                     "Battery")
    mount_tabs = flag(False, "Wall-mount tabs with screw holes at both ends", "Wall-mount tabs")
    text = text("Maker", 20, f"The kid's name on the lid, in {FONT_NAME}", "Name")

    text_limits = {"text": 20}
    groups = {
        "Board": ["board", "clearance", "standoff_height", "standoff_diameter", "component_height", "usb_margin"],
        "Battery": ["battery"],
        "Size": ["wall", "corner_radius", "mount_tabs"],
        "Lid": ["lid_fit", "lid_thickness", "lip_height", "lid_clearance", "lid_hole"],
        "Text": ["text", "text_style", "text_size", "text_depth"],
        "Production": ["machine"],
    }
    _box_inputs = ["board", "battery", "clearance", "wall", "corner_radius", "lid_fit", "standoff_diameter",
                   "lip_height", "machine"]
    part_inputs = {
        "base": _box_inputs + ["standoff_height", "component_height", "usb_margin", "mount_tabs"],
        "lid": _box_inputs + ["lid_thickness", "lid_clearance", "lid_hole", "text", "text_style", "text_size",
                              "text_depth"],
    }

    def dims(self) -> enc.BoxDims:
        return dims_of(self)

    def standoff_holes(self):
        board = Board(self.board)
        return board.holes, board.pilot_hole

    def lid_windows(self):
        return Board(self.board).windows

    def check_family(self, d: enc.BoxDims) -> None:
        board = Board(self.board)
        if self.standoff_height < board.underside + UNDERSIDE_CLEARANCE_MM:
            need = board.underside + UNDERSIDE_CLEARANCE_MM
            raise InputError("standoff_height", f"standoff_height={self.standoff_height:g} mm is too low for "
                                                f"{board.name}: parts under it (header pins, sockets) reach "
                                                f"{board.underside:g} mm below the board; use at least {need:g} mm")
        # the cable's plug: below the board it must clear the floor, above it stay under the lid's lip
        half_w, half_h = board.plug_half_sizes(self.usb_margin)
        below = half_h - board.usb_z
        if below > self.standoff_height - 1.0:
            raise InputError("standoff_height", f"standoff_height={self.standoff_height:g} mm is too low: "
                                                f"{board.name}'s USB cut-out (for a {board.plug} cable plug) "
                                                f"reaches {below:.2f} mm below the board; use at least "
                                                f"{math.ceil((below + 1.0) * 10) / 10:g} mm")
        above = board.usb_z + half_h
        if above > self.component_height:
            raise InputError("component_height", f"component_height={self.component_height:g} mm is too low for "
                                                 f"the {board.plug} cable plug of {board.name}'s USB connector "
                                                 f"({above:.2f} mm above the board with its margin); use at least "
                                                 f"{math.ceil(above * 10) / 10:g} mm")
        side, centre = board.usb_box(self.clearance)
        self._check_plug_path_beside_battery(d, board, side, centre, half_w)
        half = half_w
        for x, y in d.post_points:
            along = y if side in ("x0", "x1") else x
            if abs(along - centre) < half + self.standoff_diameter / 2:
                raise InputError("lid_fit", f"lid_fit=screw: a lid screw post would block {board.name}'s USB "
                                            f"cut-out; use lid_fit=snap")


    def _check_plug_path_beside_battery(self, d: enc.BoxDims, board: Board, side: str, centre: float,
                                        half_w: float) -> None:
        """The cable plug comes in straight from outside to the socket's mouth through its wall cut-out:
        the battery compartment (on the +x side, behind its divider) must not stand in that path. Only
        the board's side of the divider is free, whatever the battery's size: a connector facing +x, or
        a cut-out in a long wall reaching the divider, cannot take its plug."""
        if d.divider_x is None:
            return
        if side == "x1":
            where = "faces the compartment"
        elif side in ("y0", "y1") and centre + half_w > d.divider_x:
            where = (f"is {d.divider_x - centre:.1f} mm from the divider on the {side} wall and its {board.plug} "
                     f"plug's cut-out needs {half_w:.1f} mm either side")
        else:
            return
        raise InputError("battery", f"battery={self.battery}: {board.name}'s USB connector {where}, so the "
                                    f"compartment's divider would block the {board.plug} cable plug; choose "
                                    f"battery={NO_BATTERY} for this board")


def bay_size(v, board: Board) -> tuple[float, float]:
    fx, fy = board.footprint_size
    return fx + 2 * v.clearance, fy + 2 * v.clearance


def battery_bay(v) -> tuple[float, float, float] | None:
    """(length, width, height) of the battery compartment, mm, or None."""
    row = battery_row(v.battery)
    if row is None:
        return None
    c = BATTERY_CLEARANCE_MM
    return float(row["length_mm"]) + 2 * c, float(row["width_mm"]) + 2 * c, float(row["height_mm"]) + c


def dims_of(v) -> enc.BoxDims:
    board = Board(v.board)
    bay_x, bay_y = bay_size(v, board)
    inner_h = getattr(v, "standoff_height", 0) + board.thickness + getattr(v, "component_height", 0)
    cavity_x, cavity_y, offset = bay_x, bay_y, 0.0
    batt = battery_bay(v)
    if batt is not None:
        # battery bay on the +x side behind a divider one wall thick
        cavity_x = bay_x + v.wall + batt[0]
        cavity_y = max(bay_y, batt[1])
        offset = (v.wall + batt[0]) / 2
        inner_h = max(inner_h, batt[2])
    d = enc.box_dims(cavity_x, cavity_y, inner_h, v.wall, v.corner_radius, v.clearance, v.lid_fit,
                     v.standoff_diameter, v.lip_height, cavity_x_offset=offset)
    if batt is not None:
        # The divider stands at the board bay's end (the board is centred on x=0), wherever the cavity's
        # own end moved: screw posts and round corners grow the cavity at both ends, not the bay.
        d.divider_x = bay_x / 2
    return d


class KitEnclosureBuilder(enc.BoxBuilder):
    """Builds a kit box's base and lid (the `Builder` of KitEnclosure)."""

    dims_of = staticmethod(dims_of)

    def build_part(self, part: str, v):
        return _build_part(part, v)


def _build_part(part: str, v):
    from somana_core.geometry import kernel as tk

    board = Board(v.board)
    d = dims_of(v)
    nozzle = catalogue.nozzle_mm(v.machine)
    if part == "base":
        top = d.floor + v.standoff_height  # underside of the board
        side, centre = board.usb_box(v.clearance)
        zc = top + board.thickness + board.usb_z
        half_w, half_h = board.plug_half_sizes(v.usb_margin)
        cx0, cx1 = d.cavity_x_offset - d.cavity_x / 2, d.cavity_x_offset + d.cavity_x / 2
        inward = 1.0 + d.r_in
        if side == "x0":
            cut = tk.box(cx0 - d.wall - 1, centre - half_w, zc - half_h, cx0 + inward, centre + half_w, zc + half_h)
        elif side == "x1":
            cut = tk.box(cx1 - inward, centre - half_w, zc - half_h, cx1 + d.wall + 1, centre + half_w, zc + half_h)
        elif side == "y0":
            y0 = -d.cavity_y / 2
            cut = tk.box(centre - half_w, y0 - d.wall - 1, zc - half_h, centre + half_w, y0 + inward, zc + half_h)
        else:
            y1 = d.cavity_y / 2
            cut = tk.box(centre - half_w, y1 - inward, zc - half_h, centre + half_w, y1 + d.wall + 1, zc + half_h)
        adds = []
        batt = battery_bay(v)
        if batt is not None:  # divider between board and battery, lower than the lid's lip
            adds.append(tk.box(d.divider_x, -d.cavity_y / 2 - tk.OVERSHOOT_MM, d.floor / 2, d.divider_x + d.wall,
                               d.cavity_y / 2 + tk.OVERSHOOT_MM, d.base_h - d.lip_h - enc.VENT_MARGIN_MM))
        pads = [] if board.holes else board.corners()
        inset_y = max(v.standoff_diameter / 2, board.pad_inset_y + v.standoff_diameter / 2)
        pads = [(x - math.copysign(v.standoff_diameter / 2, x), y - math.copysign(inset_y, y))
                for x, y in pads]  # pads inside the board's corners, clear of pins along its long edges
        return enc.build_base(d, standoff_points=board.holes, standoff_diameter=v.standoff_diameter,
                              standoff_height=v.standoff_height, screw_hole=board.pilot_hole, lid_fit=v.lid_fit,
                              mount_tabs=v.mount_tabs, extra_add=adds, extra_cut=[cut], nozzle_mm=nozzle,
                              pad_points=pads, pad_size=v.standoff_diameter)
    if part == "lid":
        return enc.build_box_lid(d, v, nozzle, windows=board.windows)
    raise KeyError(part)


KitEnclosure.builder = KitEnclosureBuilder()
