"""Read a KiCad board file (`.kicad_pcb`, KiCad 6 to 9) without KiCad: the board outline, its
thickness, the mounting holes and every footprint's place, side and outline.

Coordinates are KiCad's own, in mm: x to the right, **y downwards** (as the board editor shows
them), angles in degrees counter-clockwise as seen on screen. `Board.to_enclosure` maps them to the
enclosure's frame (y up, board centred).

Why a home-made reader and not a KiCad library: kiutils (last release 2024) is reported broken on
KiCad 8 files and knows nothing of KiCad 9; kicad-skip targets KiCad 7+ schematics first and reads
no KiCad 6 board; both parse every track and zone (most of a routed board) that the intake never
needs. `sexpdata` reads the grammar but took 1.9 s on the 7.4 MB `video` demo; `sexpr.parse` takes
0.34 s and skips the tracks. The format differences handled here, by version:
- KiCad 6/7 name a footprint's reference `(fp_text reference "J1" ...)`, KiCad 8/9 `(property "Reference" "J1" ...)`;
- KiCad 5 and earlier write `(module ...)`, 6+ `(footprint ...)` (both read; KiCad 5 files are refused by version);
- arcs are `(start)(mid)(end)` since KiCad 6; the dev formats before it wrote `(start centre)(end)(angle)`.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from somana_core.errors import InputError
from somana_core.intake.sexpr import Quoted, parse

# Board file format versions (the `(version YYYYMMDD)` of the file) and the KiCad release that
# writes them. Earlier dev formats of a release count as that release.
KICAD_VERSIONS = ((20210101, 20211014, "6"), (20211015, 20221018, "7"), (20221019, 20240108, "8"),
                  (20240109, 20241229, "9"))
OLDEST_VERSION, NEWEST_VERSION = KICAD_VERSIONS[0][0], KICAD_VERSIONS[-1][1]

# A non-plated hole this wide or wider takes a screw (M2 needs 2.2 mm; 2.0 mm takes an M2
# self-tapper); smaller ones are locating pegs of connectors.
MIN_SCREW_HOLE_MM = 2.0
# Ends of Edge.Cuts segments closer than this are joined (KiCad itself joins at 1 nm, but boards
# drawn by hand or imported from DXF have small gaps).
OUTLINE_GAP_MM = 0.05
# Arcs become polygons with at most this chord error (for checks in Python; CAD uses true arcs).
CHORD_ERROR_MM = 0.01

_SKIP = frozenset({"segment", "via", "zone", "arc", "net", "gr_text", "dimension", "target", "group",
                   "net_class", "setup", "title_block", "gr_text_box", "image", "generated", "embedded_files"})


# ----------------------------------------------------------------------------- model
@dataclass(frozen=True)
class Edge:
    """One piece of an outline: a line (start, end), an arc (start, mid, end) or a whole circle
    (centre and a point on it, in `start` and `end`)."""

    kind: str
    start: tuple[float, float]
    end: tuple[float, float]
    mid: tuple[float, float] | None = None

    def reversed(self) -> "Edge":
        return Edge(self.kind, self.end, self.start, self.mid)

    def points(self, chord_error_mm: float = CHORD_ERROR_MM) -> np.ndarray:
        """Points along the edge from start to end (a circle: closed, start point repeated)."""
        if self.kind == "line":
            return np.array([self.start, self.end], dtype=float)
        if self.kind == "circle":
            c, r = np.array(self.start), math.dist(self.start, self.end)
            n = _segments_for(r, 2 * math.pi, chord_error_mm)
            a0 = math.atan2(self.end[1] - c[1], self.end[0] - c[0])
            t = a0 + np.linspace(0, 2 * math.pi, n + 1)
            return np.column_stack([c[0] + r * np.cos(t), c[1] + r * np.sin(t)])
        centre, r, a0, sweep = arc_geometry(self.start, self.mid, self.end)
        n = _segments_for(r, abs(sweep), chord_error_mm)
        t = a0 + np.linspace(0, sweep, n + 1)
        pts = np.column_stack([centre[0] + r * np.cos(t), centre[1] + r * np.sin(t)])
        pts[0], pts[-1] = self.start, self.end
        return pts


def _segments_for(radius: float, sweep: float, chord_error_mm: float) -> int:
    if radius <= chord_error_mm:
        return max(4, int(math.ceil(sweep / (math.pi / 2))))
    step = 2 * math.acos(max(-1.0, 1 - chord_error_mm / radius))
    return max(4, int(math.ceil(sweep / step)))


def arc_geometry(start, mid, end) -> tuple[tuple[float, float], float, float, float]:
    """Centre, radius, start angle and signed sweep (radians) of the arc through three points."""
    (x1, y1), (x2, y2), (x3, y3) = start, mid, end
    d = 2 * (x1 * (y2 - y3) + x2 * (y3 - y1) + x3 * (y1 - y2))
    if abs(d) < 1e-12:
        raise InputError("board", f"board: an arc through ({x1:g}, {y1:g}), ({x2:g}, {y2:g}), ({x3:g}, {y3:g}) "
                                  f"is a straight line")
    s1, s2, s3 = x1 * x1 + y1 * y1, x2 * x2 + y2 * y2, x3 * x3 + y3 * y3
    cx = (s1 * (y2 - y3) + s2 * (y3 - y1) + s3 * (y1 - y2)) / d
    cy = (s1 * (x3 - x2) + s2 * (x1 - x3) + s3 * (x2 - x1)) / d
    r = math.hypot(x1 - cx, y1 - cy)
    a1, a2, a3 = (math.atan2(y - cy, x - cx) for x, y in (start, mid, end))
    ccw = (a2 - a1) % (2 * math.pi)
    total = (a3 - a1) % (2 * math.pi)
    sweep = total if ccw <= total else total - 2 * math.pi  # the direction that passes through mid
    return (cx, cy), r, a1, sweep


@dataclass
class Loop:
    """A closed outline: edges joined end to start (or one circle)."""

    edges: list[Edge]

    def polygon(self, chord_error_mm: float = CHORD_ERROR_MM) -> np.ndarray:
        """The loop as an (n, 2) array of points, not repeating the first at the end."""
        parts = [e.points(chord_error_mm)[:-1] for e in self.edges]
        return np.concatenate(parts)

    def area_mm2(self) -> float:
        return abs(polygon_area(self.polygon()))


def polygon_area(p: np.ndarray) -> float:
    """Signed area (shoelace), mm2: positive when the points run counter-clockwise in a y-up frame."""
    x, y = p[:, 0], p[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def point_in_polygon(x: float, y: float, p: np.ndarray) -> bool:
    xs, ys = p[:, 0], p[:, 1]
    xj, yj = np.roll(xs, 1), np.roll(ys, 1)
    crosses = ((ys > y) != (yj > y)) & (x < (xj - xs) * (y - ys) / np.where(yj == ys, 1e-300, yj - ys) + xs)
    return bool(np.count_nonzero(crosses) % 2)


def distance_to_polygon(points: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Distance (mm) of each point to the nearest segment of the closed polygon p."""
    a, b = p, np.roll(p, -1, axis=0)
    ab = b - a
    pts = np.atleast_2d(points)[:, None, :]
    t = np.clip(np.einsum("ijk,jk->ij", pts - a, ab) / np.maximum(np.einsum("jk,jk->j", ab, ab), 1e-18), 0, 1)
    nearest = a + t[..., None] * ab
    return np.linalg.norm(pts - nearest, axis=2).min(axis=1)


@dataclass(frozen=True)
class MountingHole:
    x: float
    y: float
    diameter_mm: float
    reference: str
    source: str  # "MountingHole footprint" or "non-plated hole"


@dataclass(frozen=True)
class Model3D:
    path: str
    offset_mm: tuple[float, float, float] = (0.0, 0.0, 0.0)
    scale: tuple[float, float, float] = (1.0, 1.0, 1.0)
    rotate_deg: tuple[float, float, float] = (0.0, 0.0, 0.0)


@dataclass
class Footprint:
    reference: str
    value: str
    footprint: str           # "Library:Name" as in the file
    x: float
    y: float
    rotation_deg: float
    side: str                # "top" or "bottom"
    outline: np.ndarray      # (n, 2) convex outline in board coordinates, mm
    outline_source: str      # "courtyard", "fabrication", "pads" or "none"
    models: list[Model3D] = field(default_factory=list)
    description: str = ""

    @property
    def library(self) -> str:
        return self.footprint.split(":", 1)[0] if ":" in self.footprint else ""

    @property
    def name(self) -> str:
        return self.footprint.split(":", 1)[-1]


@dataclass
class Board:
    path: str
    version: int
    kicad: str               # the KiCad release that writes this format ("6" to "9")
    thickness_mm: float
    outline: Loop
    cutouts: list[Loop]
    holes: list[MountingHole]
    footprints: list[Footprint]
    digest: str              # sha256 of the file's bytes
    folder: str = ""         # for ${KIPRJMOD} in 3D model paths

    def outline_polygon(self) -> np.ndarray:
        return self.outline.polygon()

    def bbox(self) -> tuple[float, float, float, float]:
        p = self.outline_polygon()
        return float(p[:, 0].min()), float(p[:, 1].min()), float(p[:, 0].max()), float(p[:, 1].max())

    def size_mm(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.bbox()
        return x1 - x0, y1 - y0

    def centre(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.bbox()
        return (x0 + x1) / 2, (y0 + y1) / 2

    def to_enclosure(self, points) -> np.ndarray:
        """KiCad board coordinates (y down) -> the enclosure frame (y up, board's bounding box
        centred on 0). A mirror would turn the board over, so y flips and x stays."""
        cx, cy = self.centre()
        p = np.asarray(points, dtype=float).reshape(-1, 2)
        return np.column_stack([p[:, 0] - cx, cy - p[:, 1]])

    def from_enclosure(self, points) -> np.ndarray:
        cx, cy = self.centre()
        p = np.asarray(points, dtype=float).reshape(-1, 2)
        return np.column_stack([p[:, 0] + cx, cy - p[:, 1]])

    def footprint(self, reference: str) -> Footprint:
        for fp in self.footprints:
            if fp.reference == reference:
                return fp
        raise KeyError(reference)


# ----------------------------------------------------------------------------- reading
def read_board(path, *, require_holes: bool = True) -> Board:
    """Parse a `.kicad_pcb` file. Raises InputError("board", ...) naming what is missing or wrong:
    not a KiCad board, an unknown format version, no outline, an open outline, no mounting holes."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("board", f"board={str(path)!r}: no such file") from None
    except IsADirectoryError:
        raise InputError("board", f"board={str(path)!r} is a folder, not a .kicad_pcb file") from None
    return read_board_bytes(data, name=str(path), folder=str(path.parent.resolve()), require_holes=require_holes)


def read_board_bytes(data: bytes, name: str = "board", folder: str = "", *, require_holes: bool = True) -> Board:
    """`read_board` on a file's bytes (an upload). Raises InputError("board", ...) only."""
    try:
        return _read_board_bytes(data, name, folder, require_holes)
    except InputError:
        raise
    except (ValueError, TypeError, IndexError, AttributeError, KeyError, ZeroDivisionError) as exc:
        # a damaged or hand-edited file: a number that is not one, a list where a word should be
        raise InputError("board", f"board {name}: damaged KiCad board file ({type(exc).__name__}: "
                                  f"{str(exc)[:80]}); open and save it in KiCad") from None


def _read_board_bytes(data: bytes, name: str, folder: str, require_holes: bool) -> Board:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("board", f"board {name}: not a KiCad board file (not UTF-8 text)") from None
    head = text.lstrip()[:200]
    if not head.startswith("(kicad_pcb"):
        what = "a KiCad schematic" if head.startswith("(kicad_sch") else "a KiCad board file"
        if head.startswith("(kicad_sch"):
            raise InputError("board", f"board {name} is a KiCad schematic (.kicad_sch); upload the board (.kicad_pcb)")
        raise InputError("board", f"board {name}: not {what} (it must start with '(kicad_pcb')")
    root = parse(text, skip_top=_SKIP)
    version = _version(root, name)
    kicad = next(k for lo, hi, k in KICAD_VERSIONS if lo <= version <= hi)
    thickness = _number(_find(_find(root, "general") or [], "thickness"), 1.6)
    edges: list[Edge] = []
    footprints: list[Footprint] = []
    holes: list[MountingHole] = []
    for node in root[1:]:
        if not isinstance(node, list) or not node:
            continue
        head = node[0]
        if head in ("gr_line", "gr_arc", "gr_circle", "gr_rect", "gr_poly") and _layer(node) == "Edge.Cuts":
            edges += _edges_of(node, head[3:], _identity)
        elif head in ("footprint", "module"):
            fp, fp_edges, fp_holes = _footprint(node)
            footprints.append(fp)
            edges += fp_edges
            holes += fp_holes
    if not edges:
        raise InputError("board", f"board {name}: no board outline (nothing on the Edge.Cuts layer)")
    loops = chain_edges(edges, name)
    loops.sort(key=lambda lp: lp.area_mm2(), reverse=True)
    outline, inner = loops[0], loops[1:]
    outer_poly = outline.polygon()
    cutouts = [lp for lp in inner if point_in_polygon(*lp.polygon()[0], outer_poly)]
    holes = [h for h in holes if point_in_polygon(h.x, h.y, outer_poly)]
    if require_holes and not holes:
        raise InputError("board", f"board {name}: no mounting holes (no MountingHole footprint and no "
                                  f"non-plated hole of at least {MIN_SCREW_HOLE_MM:g} mm); add them in KiCad")
    return Board(path=name, version=version, kicad=kicad, thickness_mm=thickness, outline=outline,
                 cutouts=cutouts, holes=holes, footprints=footprints,
                 digest=hashlib.sha256(data).hexdigest(), folder=folder)


def _version(root: list, name: str) -> int:
    node = _find(root, "version")
    if node is None or len(node) < 2 or not re.fullmatch(r"\d{8}", str(node[1])):
        raise InputError("board", f"board {name}: no file format version; not a KiCad 6-9 board")
    version = int(node[1])
    if version < OLDEST_VERSION:
        raise InputError("board", f"board {name}: unknown version {version} (KiCad 5 or older); open and save "
                                  f"it in KiCad 6 to 9 (format {OLDEST_VERSION} to {NEWEST_VERSION})")
    if version > NEWEST_VERSION:
        raise InputError("board", f"board {name}: unknown version {version} (newer than KiCad 9's "
                                  f"{NEWEST_VERSION}); save it in KiCad 9 or earlier")
    return version


# ----------------------------------------------------------------------------- node helpers
def _find(node: list, head: str):
    for child in node[1:]:
        if isinstance(child, list) and child and child[0] == head:
            return child
    return None


def _find_all(node: list, head: str):
    return [c for c in node[1:] if isinstance(c, list) and c and c[0] == head]


def _number(node, default: float | None = None) -> float:
    if node is None or len(node) < 2:
        return default
    return float(node[1])


def _xy(node) -> tuple[float, float]:
    return float(node[1]), float(node[2])


def _layer(node: list) -> str | None:
    layer = _find(node, "layer")
    return str(layer[1]) if layer is not None and len(layer) > 1 else None


def _identity(p):
    return p


def _edges_of(node: list, kind: str, place) -> list[Edge]:
    """Edges of a graphic item (gr_* or fp_*, `kind` without the prefix), each point through `place`."""
    if kind == "line":
        return [Edge("line", place(_xy(_find(node, "start"))), place(_xy(_find(node, "end"))))]
    if kind == "rect":
        (x0, y0), (x1, y1) = _xy(_find(node, "start")), _xy(_find(node, "end"))
        c = [place(p) for p in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))]
        return [Edge("line", c[i], c[(i + 1) % 4]) for i in range(4)]
    if kind == "circle":
        return [Edge("circle", place(_xy(_find(node, "center"))), place(_xy(_find(node, "end"))))]
    if kind == "arc":
        mid = _find(node, "mid")
        if mid is not None:
            return [Edge("arc", place(_xy(_find(node, "start"))), place(_xy(_find(node, "end"))),
                         place(_xy(mid)))]
        # pre-6.0 form: start = centre, end = first point, angle = sweep in degrees (clockwise on screen)
        (cx, cy), (sx, sy) = _xy(_find(node, "start")), _xy(_find(node, "end"))
        sweep = math.radians(_number(_find(node, "angle"), 0.0))
        r, a0 = math.hypot(sx - cx, sy - cy), math.atan2(sy - cy, sx - cx)
        mid_pt = (cx + r * math.cos(a0 + sweep / 2), cy + r * math.sin(a0 + sweep / 2))
        end_pt = (cx + r * math.cos(a0 + sweep), cy + r * math.sin(a0 + sweep))
        return [Edge("arc", place((sx, sy)), place(end_pt), place(mid_pt))]
    if kind == "poly":
        pts_node = _find(node, "pts")
        edges, prev = [], None
        points = []
        for item in (pts_node or [])[1:]:
            if item[0] == "xy":
                points.append(("xy", place(_xy(item))))
            elif item[0] == "arc":
                points.append(("arc", place(_xy(_find(item, "start"))), place(_xy(_find(item, "mid"))),
                               place(_xy(_find(item, "end")))))
        for item in points:
            if item[0] == "xy":
                if prev is not None and math.dist(prev, item[1]) > 1e-9:
                    edges.append(Edge("line", prev, item[1]))
                prev = item[1]
            else:
                if prev is not None and math.dist(prev, item[1]) > 1e-9:
                    edges.append(Edge("line", prev, item[1]))
                edges.append(Edge("arc", item[1], item[3], item[2]))
                prev = item[3]
        first = points[0][1] if points else None
        if prev is not None and first is not None and math.dist(prev, first) > 1e-9:
            edges.append(Edge("line", prev, first))
        return edges
    return []


def chain_edges(edges: list[Edge], name: str = "board", gap_mm: float = OUTLINE_GAP_MM) -> list[Loop]:
    """Join edges end to start into closed loops (flipping edges drawn the other way). Raises
    InputError naming where the outline is open."""
    loops = [Loop([e]) for e in edges if e.kind == "circle"]
    free = [e for e in edges if e.kind != "circle" and math.dist(e.start, e.end) > 1e-9]
    while free:
        chain = [free.pop(0)]
        while math.dist(chain[-1].end, chain[0].start) > gap_mm:
            end = chain[-1].end
            best, best_d, flip = None, gap_mm, False
            for i, e in enumerate(free):
                for d, f in ((math.dist(end, e.start), False), (math.dist(end, e.end), True)):
                    if d <= best_d:
                        best, best_d, flip = i, d, f
            if best is None:
                x, y = end
                raise InputError("board", f"board {name}: the board outline (Edge.Cuts) is not closed: it ends "
                                          f"at ({x:.2f}, {y:.2f}) mm with no line within {gap_mm:g} mm")
            e = free.pop(best)
            e = e.reversed() if flip else e
            if best_d > 0:  # close a tiny gap: start exactly where the previous edge ended
                e = Edge(e.kind, chain[-1].end, e.end, e.mid)
            chain.append(e)
        last = chain[-1]
        if last.end != chain[0].start:
            chain[-1] = Edge(last.kind, last.start, chain[0].start, last.mid)
        loops.append(Loop(chain))
    return loops


# ----------------------------------------------------------------------------- footprints
def _placer(x0: float, y0: float, angle_deg: float):
    """Footprint-local -> board coordinates. KiCad's y points down and its angles turn
    counter-clockwise on screen, so a local (1, 0) at 90 degrees lands at (0, -1)."""
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)

    def place(p):
        x, y = p
        return (x0 + x * c + y * s, y0 - x * s + y * c)

    return place


def _text_value(node: list, kind: str) -> str:
    """A footprint's reference or value in any KiCad 6-9 form."""
    for child in node[1:]:
        if not isinstance(child, list) or len(child) < 3:
            continue
        if child[0] == "fp_text" and child[1] == kind:
            return str(child[2])
        if child[0] == "property" and str(child[1]).lower() == kind:
            return str(child[2])
    return ""


def _footprint(node: list) -> tuple[Footprint, list[Edge], list[MountingHole]]:
    name = str(node[1]) if len(node) > 1 and not isinstance(node[1], list) else ""
    at = _find(node, "at")
    x, y = _xy(at)
    angle = float(at[3]) if len(at) > 3 else 0.0
    side = "bottom" if (_layer(node) or "F.Cu").startswith("B.") else "top"
    place = _placer(x, y, angle)
    reference = _text_value(node, "reference")
    value = _text_value(node, "value")
    edges, courtyard, fab = [], [], []
    for child in node[1:]:
        if not isinstance(child, list) or not child or not str(child[0]).startswith("fp_"):
            continue
        kind = str(child[0])[3:]
        if kind not in ("line", "arc", "circle", "rect", "poly"):
            continue
        layer = _layer(child) or ""
        if layer == "Edge.Cuts":
            edges += _edges_of(child, kind, place)
        elif layer.endswith("CrtYd"):
            courtyard += _edges_of(child, kind, place)
        elif layer.endswith("Fab"):
            fab += _edges_of(child, kind, place)
    pads, holes = [], []
    is_mounting = "mountinghole" in name.lower().replace("_", "").replace(" ", "")
    biggest_drill = None
    for pad in _find_all(node, "pad"):
        pad_at = _find(pad, "at")
        px, py = place(_xy(pad_at)) if pad_at is not None else (x, y)
        size = _find(pad, "size")
        if size is not None:
            w, h = float(size[1]), float(size[2]) if len(size) > 2 else float(size[1])
            pads.append((px, py, w, h))
        drill = _find(pad, "drill")
        diameter = _drill_diameter(drill)
        if diameter is None:
            continue
        offset = _find(drill, "offset")
        if offset is not None:
            ox, oy = _xy(offset)
            lx, ly = _xy(pad_at)
            px, py = place((lx + ox, ly + oy))
        if pad[2:3] == ["np_thru_hole"] and diameter >= MIN_SCREW_HOLE_MM and not is_mounting:
            holes.append(MountingHole(px, py, diameter, reference, "non-plated hole"))
        if is_mounting and (biggest_drill is None or diameter > biggest_drill[2]):
            biggest_drill = (px, py, diameter)
    if is_mounting and biggest_drill is not None and biggest_drill[2] >= MIN_SCREW_HOLE_MM:
        holes.append(MountingHole(*biggest_drill, reference, "MountingHole footprint"))
    if courtyard:
        outline, source = _hull_of_edges(courtyard), "courtyard"
    elif fab:
        outline, source = _hull_of_edges(fab), "fabrication"
    elif pads:
        pts = []
        for px, py, w, h in pads:
            r = max(w, h) / 2
            pts += [(px - r, py - r), (px + r, py - r), (px + r, py + r), (px - r, py + r)]
        outline, source = convex_hull(np.array(pts)), "pads"
    else:
        outline, source = np.array([[x, y]]), "none"
    models = []
    for m in _find_all(node, "model"):
        offset = _find(m, "offset")
        scale = _find(m, "scale")
        rotate = _find(m, "rotate")
        models.append(Model3D(path=str(m[1]),
                              offset_mm=_xyz(offset, (0.0, 0.0, 0.0)),
                              scale=_xyz(scale, (1.0, 1.0, 1.0)),
                              rotate_deg=_xyz(rotate, (0.0, 0.0, 0.0))))
    descr = _find(node, "descr")
    fp = Footprint(reference=reference, value=value, footprint=name, x=x, y=y, rotation_deg=angle, side=side,
                   outline=outline, outline_source=source, models=models,
                   description=str(descr[1]) if descr is not None and len(descr) > 1 else "")
    return fp, edges, holes


def _xyz(node, default):
    if node is None:
        return default
    inner = _find(node, "xyz")
    if inner is None or len(inner) < 4:
        return default
    return float(inner[1]), float(inner[2]), float(inner[3])


def _drill_diameter(drill) -> float | None:
    """A pad's drill diameter (an oval drill counts by its smaller size: that is what a screw sees)."""
    if drill is None:
        return None
    numbers = [float(v) for v in drill[1:] if not isinstance(v, list) and _is_number(v)]
    if not numbers or numbers[0] <= 0:
        return None
    return min(numbers) if "oval" in drill[1:] else numbers[0]


def _is_number(v) -> bool:
    if isinstance(v, Quoted):
        return False
    try:
        float(v)
        return True
    except ValueError:
        return False


def _hull_of_edges(edges: list[Edge]) -> np.ndarray:
    pts = np.concatenate([e.points(0.05) for e in edges])
    return convex_hull(pts)


def convex_hull(points: np.ndarray) -> np.ndarray:
    """Convex hull (Andrew's monotone chain), counter-clockwise in a y-up frame, no repeated point."""
    pts = sorted(set(map(tuple, np.round(np.asarray(points, dtype=float), 6))))
    if len(pts) <= 2:
        return np.array(pts, dtype=float)

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower, upper = [], []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return np.array(lower[:-1] + upper[:-1], dtype=float)


# ----------------------------------------------------------------------------- 3D model heights
MODEL_DIR_VARIABLES = ("KICAD9_3DMODEL_DIR", "KICAD8_3DMODEL_DIR", "KICAD7_3DMODEL_DIR", "KICAD6_3DMODEL_DIR",
                       "KISYS3DMOD")
DEFAULT_MODEL_DIRS = ("/usr/share/kicad/3dmodels", "/usr/share/kicad/modules/packages3d")
# KiCad's VRML models are in tenths of an inch (1 unit = 2.54 mm).
VRML_UNIT_MM = 2.54


def resolve_model_path(model: Model3D, board_folder: str) -> Path | None:
    """The file of a 3D model on this machine, if there is one (KiCad's 3D libraries are optional)."""
    raw = model.path

    def substitute(match):
        var = match.group(1)
        if var == "KIPRJMOD":
            return board_folder
        if var in os.environ:
            return os.environ[var]
        if var in MODEL_DIR_VARIABLES or var.endswith("_3DMODEL_DIR"):
            for folder in DEFAULT_MODEL_DIRS:
                if Path(folder).is_dir():
                    return folder
        return match.group(0)

    resolved = re.sub(r"\$\{(\w+)\}", substitute, raw)
    candidates = [Path(resolved)]
    if not Path(resolved).is_absolute() and board_folder:
        candidates.insert(0, Path(board_folder) / resolved)
    stem = Path(resolved).with_suffix("")
    for c in list(candidates):
        candidates += [c.with_suffix(".wrl"), stem.with_suffix(".step")]
    for c in candidates:
        if "${" not in str(c) and c.is_file():
            return c
    return None


def model_height_mm(fp: Footprint, board_folder: str) -> float | None:
    """Height above the board of the footprint's 3D model (z extent x scale + z offset), from a VRML
    model found on this machine; None when no model file is there."""
    best = None
    for model in fp.models:
        path = resolve_model_path(model, board_folder)
        if path is None or path.suffix.lower() != ".wrl":
            continue
        z_top = _vrml_z_max(path)
        if z_top is None:
            continue
        height = z_top * VRML_UNIT_MM * model.scale[2] + model.offset_mm[2]
        best = height if best is None else max(best, height)
    return best


_VRML_POINTS = re.compile(r"point\s*\[([^\]]*)\]", re.S)


def _vrml_z_max(path: Path) -> float | None:
    text = path.read_text(errors="replace")
    z = None
    for block in _VRML_POINTS.findall(text):
        values = np.array(block.replace(",", " ").split(), dtype=float)
        if values.size >= 3:
            top = float(values[: values.size // 3 * 3].reshape(-1, 3)[:, 2].max())
            z = top if z is None else max(z, top)
    return z
