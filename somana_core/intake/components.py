"""What sits on a board: each footprint's class and height (data/connectors.csv, or its 3D model),
and the connectors that open through the enclosure (a wall cutout at the board edge they face, or
a window in the lid), with the cable plug that must reach each socket.

Positions are KiCad's board coordinates (mm, y down), like `kicad.Board`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from somana_core.data import data_path, read_table
from somana_core.errors import InputError
from somana_core.intake.kicad import Board, Footprint, model_height_mm, point_in_polygon

TABLE = "connectors.csv"
# the extra width of a plug whose table row gives none: the body's width along the edge plus this
PLUG_MARGIN_MM = 2.0


@dataclass(frozen=True)
class Part:
    """A footprint with what the table (or its 3D model) says about it."""

    reference: str
    footprint: str
    side: str
    component_class: str
    height_mm: float           # body top above its board surface
    height_source: str         # "table", "3D model" or "assumed"
    outline: np.ndarray        # board coordinates, mm


@dataclass(frozen=True)
class Opening:
    """A connector that may open through the enclosure.

    Edge openings: `normal` is the outward direction (unit, board coordinates), `mouth` the centre of
    the socket's front on the board plane, `plug_*` the cable plug's overmould cross-section and reach.
    Top openings (buttons, LEDs, displays, headers): a lid window over `outline`."""

    reference: str
    footprint: str
    component_class: str
    opens: str                 # "edge" or "top"
    default_open: bool
    side: str
    outline: np.ndarray
    height_mm: float
    normal: tuple[float, float] | None = None
    mouth: tuple[float, float] | None = None
    front_to_edge_mm: float = 0.0   # how far the front stands inside the board edge (negative: overhangs)
    plug_width_mm: float = 0.0
    plug_height_mm: float = 0.0
    mouth_z_mm: float = 0.0
    plug_length_mm: float = 0.0

    def describe(self) -> str:
        where = "lid" if self.opens == "top" else "side wall"
        return f"{self.reference} ({self.component_class.replace('_', ' ')}, {self.footprint}) through the {where}"


@lru_cache(maxsize=8)
def _rows(path: str, mtime_ns: int) -> tuple:
    table = read_table(TABLE)
    rows = []
    for row in table.to_dict("records"):
        try:
            pattern = re.compile(str(row["pattern"]), re.I)
        except re.error as exc:
            raise ValueError(f"data/{TABLE}: bad pattern {row['pattern']!r}: {exc}") from None
        clean = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
        rows.append((pattern, clean))
    return tuple(rows)


def table_rows() -> tuple:
    path = data_path(TABLE)
    return _rows(str(path), path.stat().st_mtime_ns)


def match_row(footprint: str) -> dict:
    """The first row of data/connectors.csv whose pattern is found in "Library:Name"."""
    for pattern, row in table_rows():
        if pattern.search(footprint):
            return row
    raise ValueError(f"data/{TABLE} has no catch-all row matching {footprint!r}")


def classify(board: Board) -> list[Part]:
    """Every footprint with its class and height (table; 3D model where the table has only its
    catch-all row; else the catch-all's assumed height)."""
    parts = []
    for fp in board.footprints:
        row = match_row(fp.footprint)
        height, source = float(row["body_height_mm"]), "table"
        if row["component_class"] == "unknown":
            model = model_height_mm(fp, board.folder)
            height, source = (model, "3D model") if model is not None else (height, "assumed")
        parts.append(Part(fp.reference, fp.footprint, fp.side, str(row["component_class"]), height, source,
                          fp.outline))
    return parts


def find_openings(board: Board, parts: list[Part] | None = None) -> list[Opening]:
    """Connectors the table says open: edge ones only when their front is near the board edge."""
    parts = parts if parts is not None else classify(board)
    outline = board.outline_polygon()
    by_ref = {fp.reference: fp for fp in board.footprints}
    openings = []
    for part in parts:
        row = match_row(part.footprint)
        opens = row["opens"]
        if opens not in ("edge", "top") or part.outline.shape[0] < 3:
            continue
        common = dict(reference=part.reference, footprint=part.footprint, component_class=part.component_class,
                      opens=opens, default_open=str(row["default_open"]).strip().lower() == "yes",
                      side=part.side, outline=part.outline, height_mm=part.height_mm)
        if opens == "top":
            if part.side == "top":  # a bottom-side button faces the floor: nothing to open in the lid
                openings.append(Opening(**common))
            continue
        edge = _facing_edge(by_ref[part.reference], outline)
        if edge is None:
            continue
        normal, front_inside = edge
        if front_inside > float(row["edge_max_mm"]):
            continue
        n = np.array(normal)
        t = np.array([-n[1], n[0]])
        along = part.outline @ t
        front = float((part.outline @ n).max())
        mouth = n * front + t * (along.min() + along.max()) / 2
        width = row["plug_width_mm"] if row["plug_width_mm"] is not None else \
            float(along.max() - along.min()) + PLUG_MARGIN_MM
        openings.append(Opening(**common, normal=(float(n[0]), float(n[1])), mouth=(float(mouth[0]), float(mouth[1])),
                                front_to_edge_mm=front_inside, plug_width_mm=float(width),
                                plug_height_mm=float(row["plug_height_mm"]), mouth_z_mm=float(row["mouth_z_mm"]),
                                plug_length_mm=float(row["plug_length_mm"])))
    return openings


def _facing_edge(fp: Footprint, outline: np.ndarray):
    """(outward unit normal of the board edge the footprint faces, how far its front stands inside
    that edge in mm (negative: it overhangs)), or None."""
    pts = fp.outline
    a, b = outline, np.roll(outline, -1, axis=0)
    ab = b - a
    seg_len = np.linalg.norm(ab, axis=1)
    keep = seg_len > 1e-9
    a, b, ab, seg_len = a[keep], b[keep], ab[keep], seg_len[keep]
    # the outward normal of each segment: perpendicular, pointing away from the board's inside
    normals = np.column_stack([ab[:, 1], -ab[:, 0]]) / seg_len[:, None]
    mids = (a + b) / 2
    probe = mids + normals * 1e-3
    flip = np.array([point_in_polygon(x, y, outline) for x, y in probe])
    normals[flip] *= -1
    # per edge: how far the part's front stands inside it along its outward normal (negative: the
    # part reaches past it), for the edges the part lies alongside (their spans overlap along the edge)
    tangents = ab / seg_len[:, None]
    part_t = pts @ tangents.T                      # (points, segments)
    seg_t0 = np.einsum("jk,jk->j", a, tangents)
    overlap = (part_t.max(axis=0) > seg_t0) & (part_t.min(axis=0) < seg_t0 + seg_len)
    if not overlap.any():
        return None
    front_inside_all = np.einsum("jk,jk->j", a, normals) - (pts @ normals.T).max(axis=0)
    front_inside_all = np.where(overlap, front_inside_all, np.inf)
    # ties (a curved edge is many short sides): the side nearest the part's centre
    centre = pts.mean(axis=0)
    rel_c = centre - a
    tc = np.clip(np.einsum("jk,jk->j", rel_c, ab) / seg_len ** 2, 0, 1)
    centre_d = np.linalg.norm(centre - (a + tc[:, None] * ab), axis=1)
    candidates = np.flatnonzero(front_inside_all <= front_inside_all.min() + 0.5)
    seg = candidates[np.argmin(centre_d[candidates])]
    n = normals[seg]
    # how far the front (the outermost point along n) is from that edge's line
    front_inside = float(a[seg] @ n - (pts @ n).max())
    if not math.isfinite(front_inside):
        return None
    return (float(n[0]), float(n[1])), front_inside


def chosen_openings(openings: list[Opening], choice: str) -> list[Opening]:
    """The openings the customer wants: "auto" (the table's defaults), "none", or references
    separated by commas (e.g. "J1,SW2"). Raises InputError("openings") naming what is allowed."""
    text = (choice or "").strip()
    if text.lower() == "auto":
        return [o for o in openings if o.default_open]
    if text.lower() in ("none", ""):
        return []
    by_ref = {o.reference: o for o in openings}
    chosen = []
    for ref in (r.strip() for r in text.split(",")):
        if not ref:
            continue
        if ref not in by_ref:
            allowed = ", ".join(sorted(by_ref)) or "none on this board"
            raise InputError("openings", f"openings: {ref!r} is not a connector, button, LED or display near the "
                                         f"board edge or facing up; allowed: auto, none or {allowed}")
        if by_ref[ref] not in chosen:
            chosen.append(by_ref[ref])
    return chosen


def board_summary(board: Board) -> dict:
    """What a person needs to confirm about an uploaded board, as plain data: its size, holes, the
    KiCad release that wrote it, and each recognised opening with where it opens and whether it is
    opened unless switched off."""
    width, height = board.size_mm()
    openings = find_openings(board)
    return {
        "kicad": board.kicad,
        "size_mm": [round(width, 2), round(height, 2)],
        "thickness_mm": board.thickness_mm,
        "holes": len(board.holes),
        "footprints": len(board.footprints),
        "openings": [{"reference": o.reference, "kind": o.component_class.replace("_", " "),
                      "footprint": o.footprint, "opens": "lid" if o.opens == "top" else "side wall",
                      "default_open": o.default_open} for o in openings],
    }
