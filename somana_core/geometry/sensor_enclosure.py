"""IoT environmental sensor housing: a base sized from the PCB (clearance, standoffs at its corner
holes, vent slots, cable hole, wall-mount tabs) and a lid (snap or screw fit) with the customer's
text. Parts: base, lid.
"""

from __future__ import annotations

import numpy as np

from somana_core.errors import InputError
from somana_core.geometry import enclosure as enc
from somana_core.geometry.fonts import FONT_NAME
from somana_core.geometry.spec import choice, count, flag, length, text


class SensorEnclosure(enc.LiddedBox):
    """IoT environmental sensor housing (base + lid)."""

    family = "sensor_enclosure"
    title = "IoT sensor enclosure"
    parts = ("base", "lid")

    pcb_length = length(60.0, (20.0, 160.0), 0.5, "PCB length along x", "PCB length")
    pcb_width = length(40.0, (15.0, 120.0), 0.5, "PCB width along y", "PCB width")
    pcb_thickness = length(1.6, (0.8, 2.4), 0.1, "PCB thickness", "PCB thickness")
    hole_inset = length(3.5, (2.0, 10.0), 0.5, "Distance of the PCB's four corner holes from its edges",
                        "Hole inset")
    screw_hole = length(2.5, (1.6, 3.5), 0.1, "Pilot hole in standoffs and posts for self-tapping screws",
                        "Screw pilot hole")
    standoff_diameter = length(6.0, (4.0, 10.0), 0.5, "Outer diameter of the PCB standoffs", "Standoff diameter")
    standoff_height = length(5.0, (2.0, 15.0), 0.5, "Standoff height above the floor (room under the PCB)",
                             "Standoff height")
    clearance = length(1.0, (0.3, 5.0), 0.1, "Gap between the PCB edge and the inner wall", "Clearance")
    component_height = length(20.0, (3.0, 60.0), 0.5, "Free height above the PCB for components",
                               "Component height")
    vent_count = count(5, (0, 12), "Vent slots per vented side (0 = no vents)", "Vent slots")
    vent_width = length(2.0, (1.0, 4.0), 0.5, "Width of each vent slot", "Vent width")
    vent_side = choice("both", ["both", "front", "back"], "Which long side(s) get vent slots", "Vent side")
    cable_hole = length(6.0, (0.0, 12.0), 0.5, "Cable hole diameter in the left end wall (0 = none)", "Cable hole")
    mount_tabs = flag(True, "Wall-mount tabs with screw holes at both ends", "Wall-mount tabs")
    text = text("Somana", 24, f"Text on the lid, in {FONT_NAME}", "Lid text")

    text_limits = {"text": 24}
    groups = {
        "Board": ["pcb_length", "pcb_width", "pcb_thickness", "hole_inset", "screw_hole",
                  "standoff_diameter", "standoff_height", "clearance", "component_height"],
        "Size": ["wall", "corner_radius"],
        "Vents & cable": ["vent_count", "vent_width", "vent_side", "cable_hole", "mount_tabs"],
        "Lid": ["lid_fit", "lid_thickness", "lip_height", "lid_clearance", "lid_hole"],
        "Text": ["text", "text_style", "text_size", "text_depth"],
        "Production": ["machine"],
    }
    _box_inputs = ["pcb_length", "pcb_width", "clearance", "wall", "corner_radius", "lid_fit",
                   "standoff_diameter", "lip_height"]
    part_inputs = {
        "base": _box_inputs + ["pcb_thickness", "hole_inset", "screw_hole", "standoff_height",
                               "component_height", "vent_count", "vent_width", "vent_side", "cable_hole",
                               "mount_tabs", "machine"],
        "lid": _box_inputs + ["lid_thickness", "lid_clearance", "lid_hole", "text", "text_style",
                              "text_size", "text_depth", "machine"],
    }

    # -- derived dimensions (pure arithmetic, shared by validation and the builders) ----------
    def dims(self) -> enc.BoxDims:
        return dims_of(self)

    def pcb_board_holes(self) -> list[tuple[float, float]]:
        return board_holes(self)

    def standoff_holes(self):
        return self.pcb_board_holes(), self.screw_hole

    def check_family(self, d: enc.BoxDims) -> None:
        if 2 * self.hole_inset >= min(self.pcb_width, self.pcb_length):
            raise InputError("hole_inset", f"hole_inset={self.hole_inset:g} mm puts the holes past the middle of "
                                           f"a {self.pcb_length:g} x {self.pcb_width:g} mm PCB")
        zone_lo, zone_hi = vent_zone(self, d)
        if self.vent_count:
            span = (2 * self.vent_count - 1) * self.vent_width
            room = vent_room(self, d)
            if span > room:
                raise InputError("vent_count", f"vent_count={self.vent_count} slots of {self.vent_width:g} mm need "
                                               f"{span:g} mm of side wall; it has {room:.1f} mm: use fewer or "
                                               f"narrower slots")
            if zone_hi - zone_lo < 2 * self.vent_width:
                raise InputError("component_height", f"component_height={self.component_height:g} mm leaves no "
                                                     f"room for vent slots: use at least "
                                                     f"{self.component_height + 2 * self.vent_width:g} mm or "
                                                     f"vent_count=0")
        if 0 < self.cable_hole < 3.0:
            raise InputError("cable_hole", f"cable_hole={self.cable_hole:g} mm is too small for a cable: "
                                           f"use 0 (no hole) or 3 to 12 mm")
        if self.cable_hole > 0:
            room = min(zone_hi - zone_lo, d.cavity_y - 2 * d.r_in)
            if self.cable_hole > room:
                raise InputError("cable_hole", f"cable_hole={self.cable_hole:g} mm does not fit the end wall above "
                                               f"the PCB ({room:.1f} mm free): use at most {room:.1f} mm or raise "
                                               f"component_height")


def dims_of(v) -> enc.BoxDims:
    """Box dimensions from the parameters the box depends on (a spec or a part's inputs)."""
    inner_height = getattr(v, "standoff_height", 0) + getattr(v, "pcb_thickness", 0) + getattr(v, "component_height", 0)
    return enc.box_dims(v.pcb_length + 2 * v.clearance, v.pcb_width + 2 * v.clearance, inner_height,
                        v.wall, v.corner_radius, v.clearance, v.lid_fit, v.standoff_diameter, v.lip_height)


def board_holes(v) -> list[tuple[float, float]]:
    hx, hy = v.pcb_length / 2 - v.hole_inset, v.pcb_width / 2 - v.hole_inset
    return [(sx * hx, sy * hy) for sx in (-1, 1) for sy in (-1, 1)]


def vent_zone(v, d) -> tuple[float, float]:
    """z range (mm) of the side wall free for vents/cable: above the PCB's top, below the lid's lip."""
    lo = d.floor + v.standoff_height + v.pcb_thickness + enc.VENT_MARGIN_MM
    hi = d.base_h - d.lip_h - enc.VENT_MARGIN_MM
    return lo, hi


def vent_room(v, d) -> float:
    """Length (mm) of a long side wall usable for vent slots (clear of rounded corners and posts)."""
    return v.pcb_length - 2 * enc.VENT_MARGIN_MM


# ----------------------------------------------------------------------------- builder
class SensorEnclosureBuilder(enc.BoxBuilder):
    """Builds a sensor enclosure's base and lid (the `Builder` of SensorEnclosure)."""

    dims_of = staticmethod(dims_of)

    def build_part(self, part: str, v):
        """One part in its assembled frame, from only the inputs `part_inputs[part]` lists."""
        return _build_part(part, v)


def _build_part(part: str, v):
    from somana_core.catalogue import nozzle_mm
    from somana_core.geometry import kernel as tk

    d = dims_of(v)
    nozzle = nozzle_mm(v.machine)
    if part == "base":
        cuts = []
        lo, hi = vent_zone(v, d)
        if v.vent_count:
            pitch = 2 * v.vent_width
            xs = (np.arange(v.vent_count) - (v.vent_count - 1) / 2) * pitch
            sides = {"both": (-1, 1), "front": (-1,), "back": (1,)}[v.vent_side]
            for sy in sides:
                y0 = sy * (d.cavity_y / 2 - 1.0)
                y1 = sy * (d.outer_y / 2 + 1.0)
                for x in xs:
                    cuts.append(tk.box(x - v.vent_width / 2, min(y0, y1), lo, x + v.vent_width / 2, max(y0, y1), hi))
        if v.cable_hole > 0:
            zc = (lo + hi) / 2
            x_start = -d.outer_x / 2 - 1.0
            cuts.append(tk.cylinder_along((x_start, 0, zc), (1, 0, 0), d.wall + 2.0 + d.r_in, v.cable_hole))
        return enc.build_base(d, standoff_points=board_holes(v), standoff_diameter=v.standoff_diameter,
                              standoff_height=v.standoff_height, screw_hole=v.screw_hole, lid_fit=v.lid_fit,
                              mount_tabs=v.mount_tabs, extra_cut=cuts, nozzle_mm=nozzle)
    if part == "lid":
        return enc.build_box_lid(d, v, nozzle)
    raise KeyError(part)


SensorEnclosure.builder = SensorEnclosureBuilder()
