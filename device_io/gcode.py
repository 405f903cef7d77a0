"""G-code commands read once: the code and parameter words of a command, and the modal machine
state a sequence of commands leaves behind (positions, absolute/relative modes, heater targets,
feed rate, fan). The host, the restart preamble and the virtual printer all read G-code here."""

from __future__ import annotations

import re
from dataclasses import dataclass

_CODE = re.compile(r"([GMT])0*(\d+)(?:\.\d+)?")
_WORD = re.compile(r"([A-Z])\s*(-?\d*\.?\d+)")

AXES = "XYZ"


def command_code(command: str) -> str:
    """'G01 X1' -> 'G1', 'm104 s200' -> 'M104' ('' for an empty command)."""
    head = command.split(None, 1)[0].upper() if command.strip() else ""
    match = _CODE.fullmatch(head)
    return match.group(1) + match.group(2) if match else head


def command_words(command: str) -> dict[str, float]:
    """The parameter words of a command as numbers: 'G1 X10 F600' -> {'X': 10.0, 'F': 600.0}.
    A letter without a number ('G28 X Y') is not a word here: see `command_letters`."""
    parts = command.split(None, 1)
    if len(parts) < 2:
        return {}
    return {letter: float(value) for letter, value in _WORD.findall(parts[1].upper())}


def command_letters(command: str) -> set[str]:
    """Every parameter letter, with or without a number: 'G28 X Y' -> {'X', 'Y'}."""
    parts = command.split(None, 1)
    return {char for char in parts[1].upper() if char.isalpha()} if len(parts) > 1 else set()


@dataclass
class ModalState:
    """What the commands so far leave the machine in. A position of None is unknown (nothing
    homed or set it yet); heater targets in °C, feed rate in mm/min, fan 0-255."""

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

    def apply(self, command: str, code: str | None = None, words: dict | None = None) -> None:
        """Apply one command (`code` and `words`, when the caller has them already, save parsing twice)."""
        code = command_code(command) if code is None else code
        words = command_words(command) if words is None else words
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
            for axis in AXES:
                if axis in words:
                    setattr(self, axis.lower(), words[axis])
            if "E" in words:
                self.e = words["E"]
        elif code == "G28":
            for axis in [axis for axis in AXES if axis in command_letters(command)] or list(AXES):
                setattr(self, axis.lower(), 0.0)
        elif code in ("G0", "G1"):
            if "F" in words:
                self.feedrate = words["F"]
            for axis in AXES:
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

    @property
    def position(self) -> dict[str, float | None]:
        """{'X': mm, 'Y': mm, 'Z': mm, 'E': mm} (None where unknown)."""
        return {"X": self.x, "Y": self.y, "Z": self.z, "E": self.e}
