"""Intake: what the customer brings (a KiCad board file) turned into what a product family needs.

    from somana_core.intake import load_board, classify, find_openings
    board = load_board("my.kicad_pcb")          # outline, thickness, holes, footprints (KiCad 6-9)
    parts = classify(board)                     # class and height of every footprint
    openings = find_openings(board, parts)      # connectors at the edge, buttons/LEDs/displays facing up

Pure Python (numpy, the data tables): no KiCad, no CadQuery.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from somana_core.errors import InputError
from somana_core.intake.components import Opening, Part, board_summary, chosen_openings, classify, find_openings
from somana_core.intake.kicad import Board, Footprint, MountingHole, read_board, read_board_bytes

# The board a board-fitted family shows before a customer brings one (tests/intake/boards/generate.py
# writes it): 70 x 45 mm, four M3 holes, a USB-C, a button and an LED.
SAMPLE_BOARD = Path(__file__).resolve().parent / "sample_board.kicad_pcb"

_boards: "OrderedDict[tuple, Board]" = OrderedDict()
_lock = threading.Lock()


def load_board(path: str | Path | None) -> Board:
    """`read_board`, remembered per file (path, size and modification time): a family's rules and
    builders read the same board many times. An empty path is the sample board."""
    p = Path(path) if path not in (None, "") else SAMPLE_BOARD
    try:
        stat = p.stat()
    except FileNotFoundError:
        raise InputError("board", f"board={str(p)!r}: no such file") from None
    except OSError as exc:
        raise InputError("board", f"board={str(p)!r}: cannot be read ({exc.strerror})") from None
    key = (str(p.resolve()), stat.st_size, stat.st_mtime_ns)
    with _lock:
        if key in _boards:
            _boards.move_to_end(key)
            return _boards[key]
    board = read_board(p)
    with _lock:
        _boards[key] = board
        while len(_boards) > 16:
            _boards.popitem(last=False)
    return board


__all__ = ["BOARD_FAMILY", "SAMPLE_BOARD", "Board", "board_summary", "Footprint", "MountingHole", "Opening", "Part", "chosen_openings", "classify",
           "find_openings", "load_board", "read_board", "read_board_bytes", "route_board", "store_upload"]


MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # the 7.4 MB KiCad demo is large; a board file past 50 MB is not one


def store_upload(data: bytes, filename: str = "board.kicad_pcb") -> Path:
    """Keep a customer's uploaded board file where the factory keeps its files, named by its content
    (so a spec that names it keeps meaning the same board): SOMANA_HOME/boards/<sha256>.kicad_pcb.
    Parsed first: a file that is not a readable KiCad 6-9 board with an outline and holes raises
    InputError("board", ...) and nothing is written."""
    import hashlib
    import os
    import tempfile

    from somana_core.data import state_dir

    if not str(filename).lower().endswith(".kicad_pcb"):
        raise InputError("board", f"board {filename!r}: upload the KiCad board file (.kicad_pcb)")
    if len(data) > MAX_UPLOAD_BYTES:
        raise InputError("board", f"board {filename!r} is {len(data) / 1e6:.0f} MB; at most "
                                  f"{MAX_UPLOAD_BYTES / 1e6:.0f} MB")
    read_board_bytes(data, name=str(filename))
    folder = state_dir() / "boards"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(data).hexdigest()}.kicad_pcb"
    if not path.exists():
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".part")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    return path


# `--board FILE` on the command line: a sensor enclosure fitted to the customer's board is the
# board_enclosure family with that file.
BOARD_FAMILY = "board_enclosure"
_BOARD_FITTED = ("sensor_enclosure", BOARD_FAMILY)


def route_board(family: str, values: dict, board: str | None) -> tuple[str, dict]:
    """(family, values) for a request with an optional board file. Raises InputError("board") for a
    family that cannot take one or a file that is not a .kicad_pcb."""
    if not board:
        return family, values
    if family not in _BOARD_FITTED:
        raise InputError("board", f"--board works with {' or '.join(_BOARD_FITTED)}, not {family} "
                                  f"(kit_enclosure takes a known board: --set board=NAME)")
    if not str(board).lower().endswith(".kicad_pcb"):
        raise InputError("board", f"--board {board}: the file must be a KiCad board (.kicad_pcb)")
    if "board_file" in values:
        raise InputError("board", "give the board once: --board FILE or --set board_file=FILE, not both")
    return BOARD_FAMILY, {**values, "board_file": str(board)}
