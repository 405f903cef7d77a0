"""The geometry kernel: the one module that imports CadQuery and OpenCascade (OCP).

Product families say *what* to build; this module says *how*: rounded boxes, standoffs, wires and
faces, text with the shipped font, booleans, rigid motions of shapes, exact bounding boxes, the raw
triangulation at an absolute deflection and the STEP writer. Families call these functions and never
import CadQuery themselves, so a kernel quirk (relative tolerances, fonts, glue modes) is handled here
once. `mesh` turns triangulations into `Mesh` objects; `exporters` writes files.
"""

from __future__ import annotations

import math
import unicodedata
from functools import lru_cache

import cadquery as cq
import numpy as np
from OCP.BRep import BRep_Tool
from OCP.BRepMesh import BRepMesh_IncrementalMesh
from OCP.BRepTools import BRepTools
from OCP.TopAbs import TopAbs_EDGE, TopAbs_FACE, TopAbs_REVERSED
from OCP.TopExp import TopExp, TopExp_Explorer
from OCP.TopLoc import TopLoc_Location
from OCP.TopoDS import TopoDS
from OCP.TopTools import TopTools_IndexedDataMapOfShapeListOfShape

from somana_core.geometry.fonts import FONT_PATH
from somana_core.geometry.transforms import translation_matrix

Shape = cq.Shape
Face = cq.Face
Wire = cq.Wire

# Tools that cut through a face overshoot it by this much, so no boolean meets a coplanar face.
OVERSHOOT_MM = 0.05

# ----------------------------------------------------------------------------- solids
def rounded_rect_prism(length: float, width: float, height: float, radius: float,
                       z0: float = 0.0, x0: float = 0.0, y0: float = 0.0) -> cq.Shape:
    """A box centred on (x0, y0), from z0 up by height, its vertical edges rounded (2D, no 3D fillet)."""
    sketch = cq.Sketch().rect(length, width)
    radius = min(radius, length / 2 - 1e-3, width / 2 - 1e-3)
    if radius > 1e-3:
        sketch = sketch.vertices().fillet(radius)
    solid = cq.Workplane("XY").placeSketch(sketch).extrude(height).val()
    return solid.translate(cq.Vector(x0, y0, z0))


def box(x0: float, y0: float, z0: float, x1: float, y1: float, z1: float) -> cq.Shape:
    """An axis-aligned box between two corners."""
    return cq.Solid.makeBox(x1 - x0, y1 - y0, z1 - z0, pnt=cq.Vector(x0, y0, z0))


def cylinder_along(start: tuple, direction: tuple, length: float, diameter: float) -> cq.Shape:
    return cq.Solid.makeCylinder(diameter / 2, length, pnt=cq.Vector(*start), dir=cq.Vector(*direction))


def tube(x: float, y: float, z0: float, z1: float, outer_diameter: float, hole_diameter: float) -> cq.Shape:
    """A vertical tube (standoff, screw post): an annulus extruded, no boolean needed for its hole."""
    outer = cq.Wire.makeCircle(outer_diameter / 2, cq.Vector(x, y, 0), cq.Vector(0, 0, 1))
    inner = cq.Wire.makeCircle(hole_diameter / 2, cq.Vector(x, y, 0), cq.Vector(0, 0, 1))
    return prism(cq.Face.makeFromWires(outer, [inner]), z0, z1 - z0)


def slot_face(x_start: float, x_end: float, width: float, hole_diameter: float) -> cq.Face:
    """A flat tab from x_start to a round end centred on x_end (width across), with a hole there."""
    s = 1.0 if x_end >= x_start else -1.0
    h = width / 2
    p = [cq.Vector(x_start, -h, 0), cq.Vector(x_end, -h, 0), cq.Vector(x_end + s * h, 0, 0),
         cq.Vector(x_end, h, 0), cq.Vector(x_start, h, 0)]
    edges = [cq.Edge.makeLine(p[0], p[1]), cq.Edge.makeThreePointArc(p[1], p[2], p[3]),
             cq.Edge.makeLine(p[3], p[4]), cq.Edge.makeLine(p[4], p[0])]
    hole = cq.Wire.makeCircle(hole_diameter / 2, cq.Vector(x_end, 0, 0), cq.Vector(0, 0, 1))
    return cq.Face.makeFromWires(cq.Wire.assembleEdges(edges), [hole])


def one_solid(shape: cq.Shape, part: str) -> cq.Solid:
    """The single solid of a part; a part that fell apart is a generator bug, not bad input."""
    solids = shape.Solids()
    if len(solids) != 1:
        raise RuntimeError(f"part {part} came out as {len(solids)} solids, expected 1")
    return solids[0]


# ----------------------------------------------------------------------------- text
@lru_cache(maxsize=64)
def text_solid(text: str, size_mm: float, depth_mm: float) -> cq.Shape:
    """Text in the shipped font, centred on the origin, from z=0 up by depth (cached: text is slow)."""
    text = unicodedata.normalize("NFC", text)
    wp = cq.Workplane("XY").text(text, size_mm, depth_mm, fontPath=str(FONT_PATH), kind="regular",
                                 halign="center", valign="center", combine=False)
    return wp.val()


@lru_cache(maxsize=64)
def glyph_faces(text: str, size_mm: float) -> tuple:
    """The flat glyph outlines (faces at z=0, with their counters as inner wires) of a text."""
    solid = text_solid(text, size_mm, 1.0)
    return tuple(f for f in solid.Faces()
                 if abs(f.Center().z) < 1e-6 and abs(f.normalAt().z) > 0.999)


def rounded_rect_face(length: float, width: float, radius: float, x0: float = 0.0, y0: float = 0.0,
                      holes=()) -> cq.Face:
    """A flat rounded rectangle at z=0, with round holes [(x, y, diameter), ...]."""
    sketch = cq.Sketch().rect(length, width)
    radius = min(radius, length / 2 - 1e-3, width / 2 - 1e-3)
    if radius > 1e-3:
        sketch = sketch.vertices().fillet(radius)
    outer = sketch._faces.Faces()[0].outerWire().translate(cq.Vector(x0, y0, 0))
    inner = [cq.Wire.makeCircle(d / 2, cq.Vector(x, y, 0), cq.Vector(0, 0, 1)) for x, y, d in holes]
    return cq.Face.makeFromWires(outer, inner)


def as_nurbs(wire: cq.Wire) -> cq.Wire:
    """The same wire with its OFFSET curves as NURBS. Offset curves (from offset2D) extruded into
    faces did not survive a STEP round trip (faces lost, no solid), and NURBS do. Lines and arcs
    stay as they are: as rational NURBS, OCC's area integration of the frame profile was 0.7% off."""
    from OCP.BRepBuilderAPI import BRepBuilderAPI_NurbsConvert

    edges = []
    for edge in wire.Edges():
        if edge.geomType() == "OFFSET":
            edge = cq.Edge(BRepBuilderAPI_NurbsConvert(edge.wrapped, True).Shape())
        edges.append(edge)
    return cq.Wire.assembleEdges(edges)


def prism(face: cq.Face, z0: float, height: float) -> cq.Shape:
    """A flat face at z=0 extruded from z0 up by height."""
    return cq.Solid.extrudeLinear(face, cq.Vector(0, 0, height)).translate(cq.Vector(0, 0, z0))


def _glyphs_apart(faces) -> bool:
    """True if no two glyph outlines overlap (then they can be holes of one face)."""
    boxes = [f.BoundingBox() for f in faces]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if a.xmin < b.xmax and b.xmin < a.xmax and a.ymin < b.ymax and b.ymin < a.ymax:
                return False
    return True


def lettered_plate(outline: cq.Face, thickness: float, text: str, size_mm: float, depth_mm: float,
                   style: str, centre=(0.0, 0.0), rotate_deg: float = 0.0) -> list[cq.Shape]:
    """A flat plate (outline face extruded from z=0) carrying text on its top face, as pieces that
    only touch each other (glue them with `glue`).

    Why: cutting glyph solids out of a plate is a full 3D boolean (about 0.2-0.35 s here). Making
    the engraved top layer as a 2D face with the glyphs as holes, then glueing touching pieces,
    gives the same solid in about a third of the time.
    """
    if not text.strip():
        return [prism(outline, 0.0, thickness)]
    faces = [f.rotate(cq.Vector(0, 0, 0), cq.Vector(0, 0, 1), rotate_deg).translate(cq.Vector(centre[0], centre[1], 0))
             for f in glyph_faces(text, size_mm)]
    if style == "embossed":
        letters = [prism(f, thickness, depth_mm) for f in faces]
        return [prism(outline, 0.0, thickness)] + letters
    if not _glyphs_apart(faces):
        plate = prism(outline, 0.0, thickness)
        letters = text_solid(text, size_mm, depth_mm + OVERSHOOT_MM).rotate(
            cq.Vector(0, 0, 0), cq.Vector(0, 0, 1), rotate_deg).translate(
            cq.Vector(centre[0], centre[1], thickness - depth_mm))
        return [plate.cut(letters).clean()]
    lower = prism(outline, 0.0, thickness - depth_mm)
    holes = list(outline.innerWires()) + [f.outerWire() for f in faces]
    top = cq.Face.makeFromWires(outline.outerWire(), holes)
    counters = [cq.Face.makeFromWires(w) for f in faces for w in f.innerWires()]
    z = thickness - depth_mm
    return [lower, prism(top, z, depth_mm)] + [prism(c, z, depth_mm) for c in counters]


@lru_cache(maxsize=32)
def lettered_tile(text: str, size_mm: float, depth_mm: float, thickness: float, style: str,
                  margin_mm: float) -> tuple[cq.Face, cq.Solid]:
    """A rectangular tile carrying the text (the text's box plus a margin), one solid, centred on
    x=y=0 from z=0, and its outline face: a lid takes it into a matching window (cached per text)."""
    faces = glyph_faces(text, size_mm)
    boxes = [f.BoundingBox() for f in faces]
    x0, x1 = min(b.xmin for b in boxes) - margin_mm, max(b.xmax for b in boxes) + margin_mm
    y0, y1 = min(b.ymin for b in boxes) - margin_mm, max(b.ymax for b in boxes) + margin_mm
    window = rounded_rect_face(x1 - x0, y1 - y0, 0.0, x0=(x0 + x1) / 2, y0=(y0 + y1) / 2)
    return window, glue(lettered_plate(window, thickness, text, size_mm, depth_mm, style), "text tile")


def boolean(kind: str, shape: cq.Shape, tools, glue: str | None = None) -> cq.Shape:
    """One OCC boolean ("fuse" or "cut") of a shape with several tools.

    Unlike CadQuery's, it skips OCC's inverted-solid check (our solids are built, never read from
    files): about 30% faster on glyph-rich lids. glue: None, "shift" (touching faces partly shared)
    or "full" (touching faces identical)."""
    from OCP.BOPAlgo import BOPAlgo_GlueFull, BOPAlgo_GlueShift
    from OCP.BRepAlgoAPI import BRepAlgoAPI_Cut, BRepAlgoAPI_Fuse
    from OCP.TopTools import TopTools_ListOfShape

    tools = list(tools)
    if not tools:
        return shape
    args, tool_list = TopTools_ListOfShape(), TopTools_ListOfShape()
    args.Append(shape.wrapped)
    for tool in tools:
        tool_list.Append(tool.wrapped)
    op = BRepAlgoAPI_Fuse() if kind == "fuse" else BRepAlgoAPI_Cut()
    op.SetArguments(args)
    op.SetTools(tool_list)
    op.SetCheckInverted(False)
    if glue is not None:
        op.SetGlue(BOPAlgo_GlueFull if glue == "full" else BOPAlgo_GlueShift)
    op.Build()
    if not op.IsDone():
        raise RuntimeError(f"OCC {kind} failed")
    return cq.Shape.cast(op.Shape())


def glue_full(a: cq.Shape, b: cq.Shape, part: str) -> cq.Solid:
    """Fuse two solids whose touching faces coincide exactly (OCC's 'full glue', the fastest fuse)."""
    shape = boolean("fuse", a, [b], glue="full")
    if len(shape.Solids()) != 1:
        shape = boolean("fuse", a, [b])
    return one_solid(shape.clean(), part)


def glue(pieces: list[cq.Shape], part: str, clean: bool = True) -> cq.Solid:
    """Fuse solids that only touch (shared or partly shared faces): OCC's fast 'glue' mode.
    Falls back to an ordinary fuse if the glued result is not one solid. `clean=False` keeps
    faces as they are (unifying faces bounded by splines has given wrong geometry)."""
    if len(pieces) == 1:
        return one_solid(pieces[0], part)
    shape = boolean("fuse", pieces[0], pieces[1:], glue="shift")
    if len(shape.Solids()) != 1:  # (validity itself is asserted by the tests for every part)
        shape = boolean("fuse", pieces[0], pieces[1:])
    if clean:
        shape = shape.clean()
    return one_solid(shape, part)



# ----------------------------------------------------------------------------- rigid motions

def apply_matrix(shape: cq.Shape, matrix: np.ndarray) -> cq.Shape:
    """A rigid motion (4x4) applied to a shape (exact: the geometry is moved, not re-approximated)."""
    from OCP.gp import gp_Trsf

    trsf = gp_Trsf()
    m = matrix
    trsf.SetValues(m[0, 0], m[0, 1], m[0, 2], m[0, 3],
                   m[1, 0], m[1, 1], m[1, 2], m[1, 3],
                   m[2, 0], m[2, 1], m[2, 2], m[2, 3])
    return shape.moved(cq.Location(trsf))


def lay_flat(shape: cq.Shape, rotation: np.ndarray) -> tuple[cq.Shape, np.ndarray]:
    """Rotate an assembled part into its print pose, resting on z=0 and centred in x/y.

    Returns (print-pose shape, placement): the placement matrix takes print-pose coordinates back
    to the assembled product view (the preview uses it).
    """
    lo, hi = bounding_box(apply_matrix(shape, rotation))
    shift = translation_matrix(-(lo[0] + hi[0]) / 2, -(lo[1] + hi[1]) / 2, -lo[2])
    to_print = shift @ rotation
    return apply_matrix(shape, to_print), np.linalg.inv(to_print)


def bounding_box(shape: cq.Shape) -> tuple[np.ndarray, np.ndarray]:
    """Exact (min, max) corners in mm: OCC's default box is padded by tolerances and control points."""
    from OCP.Bnd import Bnd_Box
    from OCP.BRepBndLib import BRepBndLib

    bnd = Bnd_Box()
    BRepBndLib.AddOptimal_s(shape.wrapped, bnd, False, False)
    xmin, ymin, zmin, xmax, ymax, zmax = bnd.Get()
    return np.array([xmin, ymin, zmin]), np.array([xmax, ymax, zmax])


# ----------------------------------------------------------------------------- wires and faces
def vector(x: float, y: float, z: float = 0.0):
    return cq.Vector(x, y, z)


def translate(shape, x: float, y: float, z: float = 0.0):
    return shape.translate(cq.Vector(x, y, z))


def rotate_z(shape, degrees: float, centre=(0.0, 0.0)):
    """A shape turned about the vertical axis through `centre`."""
    return shape.rotate(cq.Vector(centre[0], centre[1], 0), cq.Vector(centre[0], centre[1], 1), degrees)


def rotate_about(shape, origin, axis, degrees: float):
    return shape.rotate(cq.Vector(*origin), cq.Vector(*(o + a for o, a in zip(origin, axis))), degrees)


def circle_wire(x: float, y: float, diameter: float):
    return cq.Wire.makeCircle(diameter / 2, cq.Vector(x, y, 0), cq.Vector(0, 0, 1))


def ellipse_wire(cx: float, cy: float, half_x: float, half_y: float):
    if abs(half_x - half_y) < 1e-9:
        # an ellipse with equal axes is a circle: OCC's 2-D offset of such an ellipse crashed the process
        # (segfault in offset2D: a round 46.5 x 46.5 mm eyewear lens, found by the issue 13 sweep)
        return cq.Wire.makeCircle(half_x, cq.Vector(cx, cy, 0), cq.Vector(0, 0, 1))
    return cq.Wire.makeEllipse(half_x, half_y, cq.Vector(cx, cy, 0), cq.Vector(0, 0, 1), cq.Vector(1, 0, 0))


def polygon_wire(points, close: bool = True):
    return cq.Wire.makePolygon([cq.Vector(x, y, 0) for x, y in points], close=close)


def rounded_rect_wire(length: float, width: float, radius: float, x0: float = 0.0, y0: float = 0.0):
    return rounded_rect_face(length, width, radius, x0=x0, y0=y0).outerWire()


def spline_loop_wire(points: np.ndarray, segments: int):
    """A closed outline through `points` (n,2) as `segments` splines joined with matching tangents (G1).

    Several short splines, not one periodic spline: OCC's volume/area integration uses a fixed number
    of Gauss points per edge, and one long spline made a frame's volume 1.5% wrong."""
    n = len(points)
    tangents = (np.roll(points, -1, axis=0) - np.roll(points, 1, axis=0)) / 2
    step = n // segments
    edges = []
    for k in range(segments):
        idx = [(k * step + i) % n for i in range(step + 1)]
        vecs = [cq.Vector(px, py, 0) for px, py in points[idx]]
        tan = [cq.Vector(*tangents[idx[0]], 0), cq.Vector(*tangents[idx[-1]], 0)]
        edges.append(cq.Edge.makeSpline(vecs, tangents=tan, scale=True))
    return cq.Wire.assembleEdges(edges)


def periodic_spline_wire(points: np.ndarray):
    """A closed wire: ONE periodic spline through the points (n,2), at z=0."""
    return cq.Wire.assembleEdges([cq.Edge.makeSpline([cq.Vector(float(x), float(y), 0.0) for x, y in points],
                                                     periodic=True)])


def offset_wire(wire, distance_mm: float):
    """The wire grown outward (negative: shrunk inward) by distance, round corners, offset curves as
    NURBS (see `as_nurbs`)."""
    return as_nurbs(wire.offset2D(distance_mm, "arc")[0])


def band_wire(points, half_width_mm: float):
    """The outline of a band of constant width around a polyline (round ends and corners)."""
    return polygon_wire(points, close=False).offset2D(half_width_mm, "arc")[0]


def face(outer, holes=()):
    """A flat face from an outer wire and hole wires."""
    return cq.Face.makeFromWires(outer, list(holes))


def rect_face(x0: float, y0: float, x1: float, y1: float):
    return face(polygon_wire([(x0, y0), (x1, y0), (x1, y1), (x0, y1)]))


def faces_fuse(faces, clean: bool = True):
    shape = faces[0].fuse(*faces[1:])
    return shape.clean() if clean else shape


def faces_cut(face_or_shape, tools) -> list:
    """The faces left when `tools` are cut from a flat face (no clean: see `glue`)."""
    return face_or_shape.cut(*tools).Faces()


def single_face(shape, what: str):
    faces = shape.Faces() if hasattr(shape, "Faces") else list(shape)
    if len(faces) != 1:
        raise RuntimeError(f"{what} came out as {len(faces)} faces, expected 1")
    return faces[0]


def extrude(face_, height: float, direction=(0.0, 0.0, 1.0)):
    """A flat face extruded by `height` along `direction` (a unit vector)."""
    return cq.Solid.extrudeLinear(face_, cq.Vector(*(height * d for d in direction)))


def loft(wires, ruled: bool = True):
    return cq.Solid.makeLoft(list(wires), ruled)


def is_valid(shape) -> bool:
    return shape.isValid()


def volume_mm3(shape) -> float:
    return shape.Volume()


def area_mm2(shape) -> float:
    return shape.Area()


def solids(shape) -> list:
    return shape.Solids()


def distance_mm(a, b) -> float:
    """Least distance between two shapes (0 when they touch or overlap)."""
    from OCP.BRepExtrema import BRepExtrema_DistShapeShape

    dist = BRepExtrema_DistShapeShape(a.wrapped, b.wrapped)
    dist.Perform()
    return dist.Value()


def common_volume_mm3(a, b) -> float:
    """Volume of the intersection of two solids (0 when they only touch or are apart)."""
    shape = a.intersect(b)
    return sum(s.Volume() for s in shape.Solids())


def section_at_z(shape, z: float):
    """The faces where the plane z=const cuts the shape (an empty list if it misses)."""
    bb = shape.BoundingBox()
    size = 4 * max(bb.xlen, bb.ylen, 1.0)
    plane = cq.Face.makePlane(size, size, cq.Vector(bb.center.x, bb.center.y, z), cq.Vector(0, 0, 1))
    return shape.intersect(plane).Faces()


# ----------------------------------------------------------------------------- triangulation
def triangulate(shape, deflection_mm: float, angle_rad: float, with_edges: bool = True):
    """(vertices (n,3) float64, triangles (m,3) int64, edge segments (k,2,3)) of the shape meshed with an
    ABSOLUTE chordal deflection in mm. CadQuery's own `tessellate`/`exportStl` take a RELATIVE deflection
    and reuse an earlier triangulation; this always re-meshes at exactly this one."""
    occ = shape.wrapped
    BRepTools.Clean_s(occ)  # drop an earlier (finer or coarser) triangulation
    BRepMesh_IncrementalMesh(occ, deflection_mm, False, angle_rad, True)
    vertex_blocks, triangle_blocks = [], []
    offset = 0
    explorer = TopExp_Explorer(occ, TopAbs_FACE)
    while explorer.More():
        face_ = TopoDS.Face_s(explorer.Current())
        explorer.Next()
        loc = TopLoc_Location()
        poly = BRep_Tool.Triangulation_s(face_, loc)
        if poly is None:
            continue
        n_nodes = poly.NbNodes()
        # one Python call per node and per triangle, then numpy (this loop is the preview's cost)
        nodes = np.array([poly.Node(i).Coord() for i in range(1, n_nodes + 1)], dtype=np.float64)
        if not loc.IsIdentity():
            nodes = _apply_trsf(nodes, loc.Transformation())
        tris = np.array([poly.Triangle(i).Get() for i in range(1, poly.NbTriangles() + 1)], dtype=np.int64) - 1
        if face_.Orientation() == TopAbs_REVERSED:
            tris = tris[:, ::-1]
        vertex_blocks.append(nodes)
        triangle_blocks.append(tris + offset)
        offset += n_nodes
    vertices = np.concatenate(vertex_blocks) if vertex_blocks else np.zeros((0, 3))
    triangles = np.concatenate(triangle_blocks) if triangle_blocks else np.zeros((0, 3), dtype=np.int64)
    edges = _feature_edges(occ) if with_edges else np.zeros((0, 2, 3))
    return vertices, triangles, edges


def _apply_trsf(points: np.ndarray, trsf) -> np.ndarray:
    rot = np.array([[trsf.Value(i, j) for j in (1, 2, 3)] for i in (1, 2, 3)])
    shift = np.array([trsf.Value(i, 4) for i in (1, 2, 3)])
    return points @ rot.T + shift


def _feature_edges(occ) -> np.ndarray:
    """Every B-rep edge as line segments, read from the triangulation already on its faces."""
    edge_faces = TopTools_IndexedDataMapOfShapeListOfShape()
    TopExp.MapShapesAndAncestors_s(occ, TopAbs_EDGE, TopAbs_FACE, edge_faces)
    segments = []
    for i in range(1, edge_faces.Extent() + 1):
        edge = TopoDS.Edge_s(edge_faces.FindKey(i))
        faces = edge_faces.FindFromIndex(i)
        if faces.Size() == 0 or BRep_Tool.Degenerated_s(edge):
            continue
        face_ = TopoDS.Face_s(faces.First())
        loc = TopLoc_Location()
        poly = BRep_Tool.Triangulation_s(face_, loc)
        if poly is None:
            continue
        on_tri = BRep_Tool.PolygonOnTriangulation_s(edge, poly, loc)
        if on_tri is None:
            continue
        idx = on_tri.Nodes()
        pts = np.array([poly.Node(idx.Value(k)).Coord() for k in range(idx.Lower(), idx.Upper() + 1)])
        if not loc.IsIdentity():
            pts = _apply_trsf(pts, loc.Transformation())
        if len(pts) >= 2:
            segments.append(np.stack([pts[:-1], pts[1:]], axis=1))
    return np.concatenate(segments) if segments else np.zeros((0, 2, 3))


def export_step(path, shapes: list) -> None:
    shape = shapes[0] if len(shapes) == 1 else cq.Compound.makeCompound(shapes)
    cq.exporters.export(shape, str(path), exportType="STEP")


def arch_wire(centre_y: float, radius: float, flank_deg: float, flank_end_y: float, bottom_y: float):
    """A closed outline symmetric about x=0: an arc of `radius` about (0, centre_y) over the top, two
    straight flanks tangent to it leaning outward `flank_deg` from vertical down to `flank_end_y`, then
    vertical down to `bottom_y`, and a straight bottom (a keyhole / saddle opening)."""
    phi = math.radians(flank_deg)
    tx, ty = radius * math.cos(phi), centre_y + radius * math.sin(phi)
    bx = tx + (ty - flank_end_y) * math.tan(phi)
    points = [(tx, ty), (bx, flank_end_y), (bx, bottom_y), (-bx, bottom_y), (-bx, flank_end_y), (-tx, ty)]
    vec = [cq.Vector(x, y, 0) for x, y in points]
    edges = [cq.Edge.makeThreePointArc(vec[-1], cq.Vector(0, centre_y + radius, 0), vec[0])]
    edges += [cq.Edge.makeLine(a, b) for a, b in zip(vec[:-1], vec[1:])]
    return cq.Wire.assembleEdges(edges)


def drafted_prism(face_, z0: float, height: float, draft_deg: float):
    """A flat face (in a z plane) moved to z0 and extruded +z by height, its sides leaning outward by
    `draft_deg` (the section grows along z; OCC's draft prism: planes stay planes, arcs become cones)."""
    moved = face_.translate(cq.Vector(0, 0, z0 - face_.Center().z))
    return cq.Solid.extrudeLinear(moved, cq.Vector(0, 0, height), taper=-draft_deg)


def turned_halves(shape, degrees: float):
    """`shape` split at x=0, each half turned `degrees` about the y axis through the origin so that
    its outer end moves toward +z (a front's face-form wrap), fused again."""
    big = 1e4
    right = shape.intersect(cq.Solid.makeBox(big, 2 * big, 2 * big, cq.Vector(0, -big, -big)))
    left = shape.intersect(cq.Solid.makeBox(big, 2 * big, 2 * big, cq.Vector(-big, -big, -big)))
    axis0, axis1 = cq.Vector(0, 0, 0), cq.Vector(0, 1, 0)
    return right.rotate(axis0, axis1, -degrees).fuse(left.rotate(axis0, axis1, degrees))


def prism_xz(points_xz, half_span_y: float):
    """A closed polygon drawn in the x-z plane ((x, z) points), extruded both ways along y by
    `half_span_y` (a cutter across a bar lying along x)."""
    return cq.Workplane("XZ").polyline([tuple(p) for p in points_xz]).close().extrude(half_span_y, both=True).val()
