"""A G-code job as the host streams it: the commands of a file with their file line numbers, and
the preamble that restarts an interrupted print from a given line."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from device_io.protocol import clean_command

_WORD = re.compile(r"([A-Z])\s*(-?\d*\.?\d+)")


def command_code(command: str) -> str:
    """'G01 X1' -> 'G1', 'm104 s200' -> 'M104'."""
    head = command.split(None, 1)[0].upper() if command.strip() else ""
    match = re.fullmatch(r"([GMT])0*(\d+)(?:\.\d+)?", head)
    return match.group(1) + match.group(2) if match else head


def command_words(command: str) -> dict:
    """The parameter words of a command as numbers: 'G1 X10 F600' -> {'X': 10.0, 'F': 600.0}."""
    parts = command.split(None, 1)
    if len(parts) < 2:
        return {}
    return {letter: float(value) for letter, value in _WORD.findall(parts[1].upper())}


@dataclass
class GcodeProgram:
    """The commands of a G-code file (comments and blank lines dropped) and, for each, the line
    of the file it came from (1-based), so a person can find it in an editor."""

    name: str
    commands: list
    file_lines: list

    @classmethod
    def from_lines(cls, lines, name: str = "job") -> "GcodeProgram":
        commands, file_lines = [], []
        for number, line in enumerate(lines, start=1):
            command = clean_command(line)
            if command:
                commands.append(command)
                file_lines.append(number)
        return cls(name, commands, file_lines)

    @classmethod
    def from_file(cls, path) -> "GcodeProgram":
        path = Path(path)
        with path.open("r", encoding="ascii", errors="replace") as handle:
            return cls.from_lines(handle, name=path.name)

    def index_of_line(self, file_line: int) -> int:
        """Index of the first command at or after `file_line` (len(commands) if none)."""
        from bisect import bisect_left

        return bisect_left(self.file_lines, file_line)


def _number(value: float) -> str:
    text = f"{value:.5f}".rstrip("0").rstrip(".")
    return text if text not in ("-0", "") else "0"


@dataclass
class MachineState:
    """What the commands before a line leave the machine in (for a restart)."""

    hotend_c: float | None = None
    bed_c: float | None = None
    x: float | None = None
    y: float | None = None
    z: float | None = None
    e: float = 0.0
    relative: bool = False
    relative_e: bool = False
    feedrate: float | None = None
    fan: int | None = None

    def apply(self, command: str) -> None:
        code = command_code(command)
        words = command_words(command)
        if code in ("M104", "M109") and "S" in words:
            self.hotend_c = words["S"]
        elif code in ("M140", "M190") and "S" in words:
            self.bed_c = words["S"]
        elif code == "G90":
            self.relative = False
            self.relative_e = False
        elif code == "G91":
            self.relative = True
        elif code == "M82":
            self.relative_e = False
        elif code == "M83":
            self.relative_e = True
        elif code == "G92":
            if not words:
                self.x = self.y = self.z = 0.0
                self.e = 0.0
            for axis in "XYZ":
                if axis in words:
                    setattr(self, axis.lower(), words[axis])
            if "E" in words:
                self.e = words["E"]
        elif code == "G28":
            axes = [axis for axis in "XYZ" if axis in command.upper()[3:]] or list("XYZ")
            for axis in axes:
                setattr(self, axis.lower(), 0.0)
        elif code in ("G0", "G1"):
            if "F" in words:
                self.feedrate = words["F"]
            for axis in "XYZ":
                if axis in words:
                    current = getattr(self, axis.lower())
                    base = (current or 0.0) if self.relative else 0.0
                    setattr(self, axis.lower(), base + words[axis])
            if "E" in words:
                self.e = (self.e if (self.relative or self.relative_e) else 0.0) + words["E"]
        elif code == "M106":
            self.fan = int(words.get("S", 255))
        elif code == "M107":
            self.fan = 0


def restart_preamble(
    commands_before,
    *,
    lift_mm: float = 2.0,
    z_feedrate_mm_min: float = 600.0,
    travel_feedrate_mm_min: float = 6000.0,
) -> list[str]:
    """Commands that bring a printer whose job stopped back to where `commands_before` left it:
    heat (bed and nozzle, waiting), declare the nozzle's Z (the part is still on the bed, so Z
    is not homed), lift, home X and Y, go back to X/Y/Z, restore the extruder position and modes,
    fan and feed rate."""
    state = MachineState()
    for command in commands_before:
        state.apply(command)
    preamble: list[str] = []
    if state.bed_c:
        preamble.append(f"M140 S{_number(state.bed_c)}")
    if state.hotend_c:
        preamble.append(f"M104 S{_number(state.hotend_c)}")
    if state.bed_c:
        preamble.append(f"M190 S{_number(state.bed_c)}")
    if state.hotend_c:
        preamble.append(f"M109 S{_number(state.hotend_c)}")
    preamble.append("G90")
    if state.z is not None:
        preamble.append(f"G92 Z{_number(state.z)}")
        preamble.append(f"G1 Z{_number(state.z + lift_mm)} F{_number(z_feedrate_mm_min)}")
    preamble.append("G28 X Y")
    if state.x is not None and state.y is not None:
        preamble.append(f"G0 X{_number(state.x)} Y{_number(state.y)} F{_number(travel_feedrate_mm_min)}")
    if state.z is not None:
        preamble.append(f"G1 Z{_number(state.z)} F{_number(z_feedrate_mm_min)}")
    if state.relative:
        preamble.append("G91")
    preamble.append("M83" if state.relative_e else "M82")
    if not state.relative_e:
        preamble.append(f"G92 E{_number(state.e)}")
    if state.fan is not None:
        preamble.append(f"M106 S{state.fan}" if state.fan else "M107")
    if state.feedrate is not None and not math.isnan(state.feedrate):
        preamble.append(f"G1 F{_number(state.feedrate)}")
    return preamble
