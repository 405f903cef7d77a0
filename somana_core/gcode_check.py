"""Is an uploaded file text G-code a printer may be sent? Checked on the server, line by line from disk
(never the whole file in memory), before any printer sees it.

A file passes when it is at most the size limit in `data/upload_limits.csv`, decodes as UTF-8 text
without control characters (a NUL, an escape, a form feed: binary data), and every line is blank, a
comment (`;` or `(...)`), or starts with a command word: G, M or T with a number (Marlin's dialect,
what PrusaSlicer writes), optionally after a line number `N123`. The first bad line is named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from somana_core.data import read_table
from somana_core.errors import InputError

LIMITS_TABLE = "upload_limits.csv"
_COMMAND = re.compile(rb"^\s*(N\d+\s*)?[GMT]\d+(\.\d+)?(?=[\sA-Z;*]|$)", re.IGNORECASE)
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_LINE_BYTES = 4096  # Marlin's own buffer is 96 characters; a longer "line" is not G-code


def upload_limit(name: str) -> int:
    """A limit from data/upload_limits.csv (bytes)."""
    table = read_table(LIMITS_TABLE).set_index("name")["value"]
    if name not in table:
        raise KeyError(f"{name} is not in data/{LIMITS_TABLE}")
    return int(table[name])


def gcode_upload_max_bytes() -> int:
    return upload_limit("gcode_upload_max_bytes")


def megabytes(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:.1f} MB" if n_bytes < 10e6 else f"{n_bytes / 1e6:.0f} MB"


@dataclass(frozen=True)
class GcodeFile:
    path: Path
    name: str
    size_bytes: int
    lines: int
    commands: int


def _shown(raw: bytes) -> str:
    text = raw[:40].decode("utf-8", "backslashreplace")
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text.rstrip("\r\n"))


def check_gcode_file(path: str | Path, name: str | None = None, max_bytes: int | None = None) -> GcodeFile:
    """The file if it is text G-code within the size limit; else InputError naming the file and why."""
    path = Path(path)
    name = name or path.name
    limit = gcode_upload_max_bytes() if max_bytes is None else max_bytes
    size = path.stat().st_size
    if size == 0:
        raise InputError("file", f"{name} is empty: no G-code to print")
    if size > limit:
        raise InputError("file", f"{name} is {megabytes(size)}: the largest G-code upload is {megabytes(limit)}")
    lines = commands = 0
    with path.open("rb") as fh:
        for lines, raw in enumerate(fh, start=1):
            if len(raw) > MAX_LINE_BYTES:
                raise InputError("file", f"{name} is not text G-code: line {lines} is {len(raw)} bytes long "
                                         f"(binary data?), starting {_shown(raw)!r}")
            bad = _CONTROL.search(raw)
            if bad:
                raise InputError("file", f"{name} is not text G-code: line {lines} holds the byte "
                                         f"0x{bad.group()[0]:02x} (binary data), starting {_shown(raw)!r}")
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                raise InputError("file", f"{name} is not text G-code: line {lines} is not UTF-8 text "
                                         f"(binary data), starting {_shown(raw)!r}") from None
            code = raw.split(b";", 1)[0].strip()
            if not code or (code.startswith(b"(") and code.endswith(b")")):
                continue
            if not _COMMAND.match(code):
                raise InputError("file", f"{name} is not G-code: line {lines} {_shown(raw)!r} is not a command "
                                         "(G, M or T and a number, e.g. G1 X10 or M104 S215) nor a ; comment")
            commands += 1
    if commands == 0:
        raise InputError("file", f"{name} holds only comments: no G-code command to print")
    return GcodeFile(path=path, name=name, size_bytes=size, lines=lines, commands=commands)
