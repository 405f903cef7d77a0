"""Marlin-dialect G-code protocol: line framing with numbers and checksums, and a tolerant parser
that turns every reply form real firmwares print into typed events.

Nothing here touches a port or a thread: the host and the simulator both build on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# ---------------------------------------------------------------------------------------------
# Framing


def checksum(text: str) -> int:
    """XOR of the bytes of `text` (Marlin, RepRap and Prusa firmwares all use this)."""
    value = 0
    for byte in text.encode("ascii", "replace"):
        value ^= byte
    return value


def frame(number: int, command: str) -> str:
    """`N<number> <command>*<checksum>`, the form a firmware checks for order and integrity."""
    body = f"N{number} {command}"
    return f"{body}*{checksum(body)}"


def line_number_reset(number: int = 0) -> str:
    """The framed M110 that makes the firmware expect line `number + 1` next.

    It must carry its own number and checksum: Marlin takes `N` of an M110 line at reception
    (an unnumbered `M110 N0` is only applied later, when the command is executed)."""
    return frame(number, f"M110 N{number}")


def clean_command(line: str) -> str:
    """A G-code line without its comment and surrounding space; '' if nothing is left."""
    cut = line.find(";")
    if cut >= 0:
        line = line[:cut]
    # Parenthesised comments are RS274 style; Marlin does not accept them in the middle of a
    # line, but slicers rarely emit them. Strip the common whole-line form only.
    line = line.strip()
    if line.startswith("(") and line.endswith(")"):
        return ""
    return line


@dataclass(frozen=True)
class NumberedLine:
    """What a firmware sees after unpacking a line: its number (or None), command, checksum."""

    number: int | None
    command: str
    checksum: int | None
    checksum_ok: bool


_NUMBERED = re.compile(r"^N(-?\d+)\s*(.*?)(?:\*(\d+))?\s*$")


def unframe(line: str) -> NumberedLine:
    """Split a received line into number, command and checksum (the firmware's side)."""
    line = line.strip()
    star = line.rfind("*")
    if star >= 0 and line[star + 1 :].strip().isdigit():
        body, sent = line[:star], int(line[star + 1 :].strip())
        ok = checksum(body) == sent
    else:
        body, sent, ok = line, None, True
    match = _NUMBERED.match(body) if body.startswith("N") else None
    if match:
        return NumberedLine(int(match.group(1)), match.group(2).strip(), sent, ok)
    return NumberedLine(None, body.strip(), sent, ok)


# ---------------------------------------------------------------------------------------------
# Events


@dataclass(frozen=True)
class Ok:
    """An acknowledgement; with ADVANCED_OK, the last line number read and the free slots."""

    line_number: int | None = None
    planner_free: int | None = None
    buffer_free: int | None = None


@dataclass(frozen=True)
class Resend:
    line_number: int


@dataclass(frozen=True)
class Busy:
    """The firmware is alive but still working (`processing`) or waiting for a person."""

    reason: str


@dataclass(frozen=True)
class Wait:
    """Idle chatter some builds print every second when their receive buffer is empty."""


@dataclass(frozen=True)
class Start:
    """The board has (re)booted: line numbers, queues and heaters are reset."""


@dataclass(frozen=True)
class Echo:
    text: str


@dataclass(frozen=True)
class HostAction:
    """`//action:<name> [args]` (pause, resume, cancel, ...) sent by the printer's own menu."""

    name: str
    args: str = ""


# Error kinds: a communication error is followed by a resend request; a fatal one means the
# firmware has stopped (it needs a reset); a warning leaves the printer running.
COMMUNICATION = "communication"
FATAL = "fatal"
WARNING = "warning"


@dataclass(frozen=True)
class FirmwareError:
    text: str
    kind: str


@dataclass(frozen=True)
class TemperatureReport:
    """Heater readings {name: (actual °C, target °C or None)} and heater powers {name: 0-127}.

    Names as printed: `T` (active tool), `T0`, `T1`, `B` (bed), `C` (chamber), `P` (probe), `A`
    (ambient)."""

    readings: dict = field(default_factory=dict)
    powers: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Position:
    """An M114 report, mm (the axes printed before `Count`)."""

    axes: dict = field(default_factory=dict)

    @property
    def x(self):
        return self.axes.get("X")

    @property
    def y(self):
        return self.axes.get("Y")

    @property
    def z(self):
        return self.axes.get("Z")

    @property
    def e(self):
        return self.axes.get("E")


@dataclass(frozen=True)
class FirmwareInfo:
    """The M115 `FIRMWARE_NAME:... KEY:value` line as a dict."""

    fields: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.fields.get("FIRMWARE_NAME", "")


@dataclass(frozen=True)
class Capability:
    """An M115 `Cap:NAME:0|1` line."""

    name: str
    enabled: bool


@dataclass(frozen=True)
class Unknown:
    text: str


# ---------------------------------------------------------------------------------------------
# Parser

_OK_FIELDS = re.compile(
    r"^\s*(?:N(?P<n>\d+)(?![\d.:])\s*)?(?:P(?P<p>\d+)(?![\d.:])\s*)?(?:B(?P<b>\d+)(?![\d.:])\s*)?"
)
_OK_BARE_NUMBER = re.compile(r"^\s*(\d+)\s*$")  # Repetier and Teacup echo the line number: "ok 12"
_RESEND = re.compile(r"^(?:resend|rs)\s*:?\s*N?:?\s*(-?\d+)", re.IGNORECASE)
_BUSY = re.compile(r"^(?:echo:\s*)?busy:\s*(.*)$", re.IGNORECASE)
_ERROR = re.compile(r"^(?:error|!!)\s*:?\s*(.*)$", re.IGNORECASE)
_ECHO = re.compile(r"^echo:\s?(.*)$", re.IGNORECASE)
_ACTION = re.compile(r"^(?:echo:\s*)?//\s*action:(.*)$", re.IGNORECASE)
_CAP = re.compile(r"^Cap:\s*([A-Za-z0-9_]+)\s*:\s*([01])\s*$")
_TEMP_ITEM = re.compile(
    r"(?<![A-Za-z0-9@])(?P<key>[A-Z]\d*@|@\d*|[A-Z]{1,2}\d*):\s*(?P<value>-?\d+(?:\.\d+)?)"
    r"(?:\s*/\s*(?P<target>-?\d+(?:\.\d+)?))?"
)
_POSITION_ITEM = re.compile(r"(?<![A-Za-z])([XYZEABC]):\s*(-?\d+(?:\.\d+)?)")
_FIRMWARE_KEY = re.compile(r"(?:^|\s)([A-Z][A-Z0-9_]+):")
_HEATER_KEYS = re.compile(r"^(?:T\d*|B|C|P|A|R|H\d*)$")

_COMMUNICATION_WORDS = (
    "line number",
    "checksum",
    "last line",
    "expected line",
    "format error",
    "no line number",
)
_FATAL_WORDS = (
    "kill() called",
    "printer halted",
    "thermal runaway",
    "mintemp",
    "maxtemp",
    "heating failed",
    "printer stopped",
    "stopped due to errors",
    "emergency stop",
    "thermal malfunction",
    "temperature drop",
    "redundant",
    "shutdown",
    "probing failed",
)
_WARNING_WORDS = ("unknown command", "cold extrusion", "too long extrusion", "out of range")


def classify_error(text: str) -> str:
    low = text.lower()
    if any(word in low for word in _FATAL_WORDS):
        return FATAL
    if any(word in low for word in _COMMUNICATION_WORDS):
        return COMMUNICATION
    if any(word in low for word in _WARNING_WORDS):
        return WARNING
    return WARNING


def _parse_temperatures(text: str) -> TemperatureReport | None:
    readings: dict = {}
    powers: dict = {}
    for match in _TEMP_ITEM.finditer(text):
        key = match.group("key")
        if "@" in key:
            name = "T" + key[1:] if key.startswith("@") else key[:-1]
            powers[name] = int(float(match.group("value")))
            continue
        if not _HEATER_KEYS.match(key):
            continue  # W: (wait time), E: and others are not heaters
        target = match.group("target")
        readings[key] = (float(match.group("value")), float(target) if target is not None else None)
    if not readings:
        return None
    return TemperatureReport(readings, powers)


def _looks_like_temperatures(text: str) -> bool:
    return ("T:" in text or "B:" in text or "T0:" in text) and not text.lstrip().startswith("X:")


def _parse_position(text: str) -> Position | None:
    head = re.split(r"\bCount\b", text, maxsplit=1)[0]
    axes = {axis: float(value) for axis, value in _POSITION_ITEM.findall(head)}
    if "X" in axes and "Y" in axes and "Z" in axes:
        return Position(axes)
    return None


def _parse_firmware_info(text: str) -> FirmwareInfo:
    keys = list(_FIRMWARE_KEY.finditer(text))
    fields = {}
    for index, match in enumerate(keys):
        end = keys[index + 1].start() if index + 1 < len(keys) else len(text)
        fields[match.group(1)] = text[match.end() : end].strip()
    return FirmwareInfo(fields)


def _host_action(line: str) -> HostAction | None:
    """`//action:pause` as Marlin prints it, or `echo://action:pause` as some builds do."""
    match = _ACTION.match(line)
    if match is None:
        return None
    name, _, args = match.group(1).strip().partition(" ")
    return HostAction(name.lower(), args.strip())


def _parse_data(line: str) -> list:
    """Everything that is not an `ok`."""
    low = line.lower()
    if low == "start":
        return [Start()]
    if low == "wait":
        return [Wait()]
    match = _RESEND.match(line)
    if match:
        return [Resend(int(match.group(1)))]
    match = _BUSY.match(line)
    if match:
        return [Busy(match.group(1).strip())]
    action = _host_action(line)
    if action is not None:
        return [action]
    if line.startswith("//"):
        return [Echo(line[2:].strip())]
    match = _ERROR.match(line)
    if match and (low.startswith("error") or line.startswith("!!")):
        text = match.group(1).strip()
        return [FirmwareError(text, classify_error(text))]
    match = _CAP.match(line)
    if match:
        return [Capability(match.group(1).upper(), match.group(2) == "1")]
    if line.startswith("FIRMWARE_NAME:"):
        return [_parse_firmware_info(line)]
    match = _ECHO.match(line)
    if match:
        text = match.group(1).strip()
        if "unknown command" in text.lower():
            return [FirmwareError(text, WARNING)]
        if _looks_like_temperatures(text):  # some builds prefix reports with echo:
            report = _parse_temperatures(text)
            if report:
                return [report]
        return [Echo(text)]
    if line.lstrip().startswith("X:"):
        position = _parse_position(line)
        if position:
            return [position]
    if _looks_like_temperatures(line):
        report = _parse_temperatures(line)
        if report:
            return [report]
    return [Unknown(line)]


def parse_line(raw: str) -> list:
    """All events in one received line, data first and the `ok` last.

    >>> parse_line("ok T:21.3 /0.0 B:20.1 /0.0 @:0 B@:0")[-1]
    Ok(line_number=None, planner_free=None, buffer_free=None)
    """
    line = raw.strip().lstrip("\x00")
    if not line:
        return []
    if line == "ok":
        return [Ok()]
    low = line[:3].lower()
    if low.startswith("ok") and (len(line) == 2 or line[2] in " \t:"):
        rest = line[2:].lstrip(" \t:")
        bare = _OK_BARE_NUMBER.match(rest)
        if bare:
            return [Ok(line_number=int(bare.group(1)))]
        fields = _OK_FIELDS.match(rest)
        n, p, b = fields.group("n"), fields.group("p"), fields.group("b")
        ok = Ok(
            int(n) if n else None,
            int(p) if p else None,
            int(b) if b else None,
        )
        rest = rest[fields.end() :].strip()
        return (_parse_data(rest) if rest else []) + [ok]
    if line.lower().endswith(" ok") and _looks_like_temperatures(line[:-3]):  # data, then the ok
        return _parse_data(line[:-3].strip()) + [Ok()]
    return _parse_data(line)
