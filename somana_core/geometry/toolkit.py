"""The geometry toolkit: the one module that knows CadQuery's and OpenCascade's quirks.

Product families say *what* to build; this module says *how*: rounded boxes, standoffs, text
with the shipped font, placement matrices, absolute-deflection tessellation, and the STL/STEP/3MF
writers (atomic: temp file + rename). CadQuery's own `tessellate`/`exportStl` take a RELATIVE
deflection and reuse an earlier triangulation, so meshes here always go through
`BRepMesh_IncrementalMesh` with an absolute deflection in mm.
"""

from __future__ import annotations

import math
import os
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

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

# Angular deflection for meshes, radians: small holes (M2.5 pilot, 1.6 mm hinge pin) need it,
# the absolute deflection alone leaves them as triangles. Previews (deflection >= 0.1 mm) use a
# coarser angle: small letters and holes still read well, and meshing is faster.
ANGULAR_DEFLECTION_RAD = 0.3
PREVIEW_ANGULAR_DEFLECTION_RAD = 0.45
PREVIEW_FROM_MM = 0.1
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


def cylinder_z(x: float, y: float, z0: float, z1: float, diameter: float) -> cq.Shape:
    return cq.Solid.makeCylinder(diameter / 2, z1 - z0, pnt=cq.Vector(x, y, z0), dir=cq.Vector(0, 0, 1))


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


def combine(base: cq.Shape, add=(), cut=()) -> cq.Shape:
    """One fuse of everything added, then one cut of everything removed (fewer boolean passes)."""
    shape = base
    add = [s for s in add if s is not None]
    cut = [s for s in cut if s is not None]
    if add:
        shape = shape.fuse(*add).clean()
    if cut:
        shape = shape.cut(*cut).clean()
    return shape


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


# ----------------------------------------------------------------------------- placement
def rotation_matrix(axis: str, degrees: float) -> np.ndarray:
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    m = np.eye(4)
    i, j = {"x": (1, 2), "y": (2, 0), "z": (0, 1)}[axis]
    m[i, i], m[i, j], m[j, i], m[j, j] = c, -s, s, c
    return m


def translation_matrix(x: float, y: float, z: float) -> np.ndarray:
    m = np.eye(4)
    m[:3, 3] = (x, y, z)
    return m


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


# ----------------------------------------------------------------------------- meshes
@dataclass(frozen=True)
class Mesh:
    """A compact triangle mesh for a viewer: float32 vertices (n,3) mm, uint32 triangles (m,3),
    float32 feature edges (k,2,3) as segments."""

    vertices: np.ndarray
    triangles: np.ndarray
    edges: np.ndarray

    def transformed(self, matrix: np.ndarray) -> "Mesh":
        if np.allclose(matrix, np.eye(4)):
            return self
        rot, shift = matrix[:3, :3].astype(np.float32), matrix[:3, 3].astype(np.float32)
        return Mesh((self.vertices @ rot.T + shift).astype(np.float32), self.triangles,
                    (self.edges @ rot.T + shift).astype(np.float32))

    @property
    def nbytes(self) -> int:
        return self.vertices.nbytes + self.triangles.nbytes + self.edges.nbytes


def tessellate(shape: cq.Shape, deflection_mm: float, with_edges: bool = True) -> Mesh:
    """Triangulate with an ABSOLUTE chordal deflection in mm (always re-meshed at that deflection)."""
    occ = shape.wrapped
    BRepTools.Clean_s(occ)  # drop an earlier (finer or coarser) triangulation: mesh at exactly this one
    angle = PREVIEW_ANGULAR_DEFLECTION_RAD if deflection_mm >= PREVIEW_FROM_MM else ANGULAR_DEFLECTION_RAD
    BRepMesh_IncrementalMesh(occ, deflection_mm, False, angle, True)
    vertex_blocks, triangle_blocks = [], []
    offset = 0
    explorer = TopExp_Explorer(occ, TopAbs_FACE)
    while explorer.More():
        face = TopoDS.Face_s(explorer.Current())
        explorer.Next()
        loc = TopLoc_Location()
        poly = BRep_Tool.Triangulation_s(face, loc)
        if poly is None:
            continue
        n_nodes = poly.NbNodes()
        # one Python call per node and per triangle, then numpy (this loop is the preview's cost)
        nodes = np.array([poly.Node(i).Coord() for i in range(1, n_nodes + 1)], dtype=np.float64)
        if not loc.IsIdentity():
            nodes = _apply_trsf(nodes, loc.Transformation())
        tris = np.array([poly.Triangle(i).Get() for i in range(1, poly.NbTriangles() + 1)], dtype=np.int64) - 1
        if face.Orientation() == TopAbs_REVERSED:
            tris = tris[:, ::-1]
        vertex_blocks.append(nodes)
        triangle_blocks.append(tris + offset)
        offset += n_nodes
    vertices = np.concatenate(vertex_blocks) if vertex_blocks else np.zeros((0, 3))
    triangles = np.concatenate(triangle_blocks) if triangle_blocks else np.zeros((0, 3), dtype=np.int64)
    edges = _feature_edges(occ) if with_edges else np.zeros((0, 2, 3))
    return Mesh(vertices.astype(np.float32), triangles.astype(np.uint32), edges.astype(np.float32))


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
        face = TopoDS.Face_s(faces.First())
        loc = TopLoc_Location()
        poly = BRep_Tool.Triangulation_s(face, loc)
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


# ----------------------------------------------------------------------------- writers
def atomic_write(path: Path, write) -> None:
    """Write via a temp file in the same folder, then rename: a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a part file is an ordinary file
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_stl(path: Path, meshes: list[Mesh]) -> None:
    """Binary STL: all meshes' triangles, each mesh a separate closed body."""
    tris = [m.vertices.astype(np.float32)[m.triangles] for m in meshes]
    tri = np.concatenate(tris) if tris else np.zeros((0, 3, 3), np.float32)
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    lengths = np.linalg.norm(normals, axis=1, keepdims=True)
    normals = np.divide(normals, lengths, out=np.zeros_like(normals), where=lengths > 0)
    record = np.zeros(len(tri), dtype=[("n", "<f4", 3), ("v", "<f4", (3, 3)), ("attr", "<u2")])
    record["n"], record["v"] = normals, tri
    with open(path, "wb") as fh:
        fh.write(b"somana binary STL".ljust(80, b" "))
        fh.write(np.uint32(len(tri)).tobytes())
        fh.write(record.tobytes())


def merged(mesh: Mesh) -> tuple[np.ndarray, np.ndarray]:
    """Vertices shared between faces merged (the B-rep gives identical coordinates on shared edges)."""
    unique, inverse = np.unique(mesh.vertices, axis=0, return_inverse=True)
    return unique, inverse.reshape(-1)[mesh.triangles].astype(np.int64)


def write_3mf(path: Path, named_meshes: list[tuple[str, Mesh]]) -> None:
    """3MF core spec: one object (with its own merged vertices) and one build item per part, in mm."""
    objects, items = [], []
    for obj_id, (name, mesh) in enumerate(named_meshes, start=1):
        verts, tris = merged(mesh)
        vxml = "".join(f'<vertex x="{x:.5f}" y="{y:.5f}" z="{z:.5f}"/>' for x, y, z in verts)
        txml = "".join(f'<triangle v1="{a}" v2="{b}" v3="{c}"/>' for a, b, c in tris)
        objects.append(f'<object id="{obj_id}" name="{name}" type="model"><mesh><vertices>{vxml}'
                       f"</vertices><triangles>{txml}</triangles></mesh></object>")
        items.append(f'<item objectid="{obj_id}"/>')
    model = ('<?xml version="1.0" encoding="UTF-8"?>\n'
             '<model unit="millimeter" xml:lang="en-US" '
             'xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02">'
             f'<resources>{"".join(objects)}</resources><build>{"".join(items)}</build></model>')
    content_types = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                     '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                     '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                     '<Default Extension="model" ContentType="application/vnd.ms-package.3dmanufacturing-3dmodel+xml"/>'
                     "</Types>")
    rels = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Target="/3D/3dmodel.model" Id="rel0" '
            'Type="http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel"/></Relationships>')
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", content_types)
        zf.writestr("_rels/.rels", rels)
        zf.writestr("3D/3dmodel.model", model)


def write_step(path: Path, shapes: list[cq.Shape]) -> None:
    shape = shapes[0] if len(shapes) == 1 else cq.Compound.makeCompound(shapes)
    cq.exporters.export(shape, str(path), exportType="STEP")


def bounding_box(shape: cq.Shape) -> tuple[np.ndarray, np.ndarray]:
    """Exact (min, max) corners in mm: OCC's default box is padded by tolerances and control points."""
    from OCP.Bnd import Bnd_Box
    from OCP.BRepBndLib import BRepBndLib

    bnd = Bnd_Box()
    BRepBndLib.AddOptimal_s(shape.wrapped, bnd, False, False)
    xmin, ymin, zmin, xmax, ymax, zmax = bnd.Get()
    return np.array([xmin, ymin, zmin]), np.array([xmax, ymax, zmax])
