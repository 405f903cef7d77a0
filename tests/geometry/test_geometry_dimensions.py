"""The dimensions that matter are what was asked: the cavity fits the board with its clearance,
standoffs stand on the board's holes (0.05 mm), the USB cut-out lines up with the connector, lens
openings are the lens size (0.1 mm), the lid sits on the base."""

from __future__ import annotations

import numpy as np
import pytest
from OCP.BRepAdaptor import BRepAdaptor_Surface
from OCP.GeomAbs import GeomAbs_Cylinder

import cadquery as cq
from somana_core.geometry import build, make_spec
from somana_core.geometry.enclosure import VENT_MARGIN_MM
from somana_core.geometry.kit_enclosure import Board
from somana_core.geometry.sensor_enclosure import board_holes, dims_of
from somana_core.geometry.kernel import apply_matrix, bounding_box


def assembled(product, part):
    return apply_matrix(product.parts[part], product.placement(part))


def hole_axes(shape, diameter, tol=1e-3):
    """(x, y) of every cylindrical face of the given diameter with a vertical axis."""
    axes = []
    for face in shape.Faces():
        surf = BRepAdaptor_Surface(face.wrapped)
        if surf.GetType() != GeomAbs_Cylinder:
            continue
        cyl = surf.Cylinder()
        if abs(2 * cyl.Radius() - diameter) > tol or abs(abs(cyl.Axis().Direction().Z()) - 1) > 1e-9:
            continue
        loc = cyl.Axis().Location()
        axes.append((loc.X(), loc.Y()))
    return axes


def assert_points_match(found, expected, tol):
    found = np.unique(np.round(np.array(found), 6), axis=0)
    assert len(found) == len(expected)
    for x, y in expected:
        dist = np.hypot(found[:, 0] - x, found[:, 1] - y).min()
        assert dist <= tol, f"no hole within {tol} mm of ({x:.2f}, {y:.2f}); nearest {dist:.3f} mm"


def empty_inside(shape, x0, y0, z0, x1, y1, z1) -> bool:
    probe = cq.Solid.makeBox(x1 - x0, y1 - y0, z1 - z0, pnt=cq.Vector(x0, y0, z0))
    common = shape.intersect(probe)
    return common.Volume() < 1e-6


def clearance_zone_is_empty(shape, length, width, clearance, z0, z1, cx=0.0, cy=0.0) -> bool:
    """Nothing of `shape` within `clearance` of a length x width board (its offset, round at the
    corners) between heights z0 and z1."""
    c = clearance - 1e-3
    h = z1 - z0
    pieces = [cq.Solid.makeBox(length + 2 * c, width, h, pnt=cq.Vector(cx - length / 2 - c, cy - width / 2, z0)),
              cq.Solid.makeBox(length, width + 2 * c, h, pnt=cq.Vector(cx - length / 2, cy - width / 2 - c, z0))]
    pieces += [cq.Solid.makeCylinder(c, h, pnt=cq.Vector(cx + sx * length / 2, cy + sy * width / 2, z0))
               for sx in (-1, 1) for sy in (-1, 1)]
    probe = pieces[0].fuse(*pieces[1:])
    return shape.intersect(probe).Volume() < 1e-6


SENSOR_CASES = [{}, {"lid_fit": "screw", "corner_radius": "12"}, {"pcb_length": "25", "pcb_width": "18",
                "hole_inset": "2.5", "standoff_diameter": "5", "clearance": "0.3", "vent_count": "0", "text": "Ada",
                "text_size": "5", "cable_hole": "0"}]


@pytest.fixture(scope="module", params=range(len(SENSOR_CASES)), ids=["defaults", "screw-round", "small-tight"])
def sensor(request, defaults):
    values = SENSOR_CASES[request.param]
    return defaults["sensor_enclosure"] if not values else build(make_spec("sensor_enclosure", values))


def test_sensor_cavity_fits_the_pcb_with_its_clearance(sensor):
    v = sensor.spec
    d = dims_of(v)
    base = assembled(sensor, "base")
    # the PCB plus clearance on every side, from the standoff tops to the lid's lip: nothing there
    y = v.pcb_width / 2 + v.clearance
    z0 = d.floor + v.standoff_height + 1e-3
    assert clearance_zone_is_empty(base, v.pcb_length, v.pcb_width, v.clearance, z0, d.base_h - 1e-3)
    # and the walls are where they should be: just outside that clearance, solid
    assert base.isInside(cq.Vector(0, -(y + v.clearance + d.wall / 2) if v.clearance < 1 else -(d.cavity_y / 2 + d.wall / 2),
                                   d.base_h - 0.5))


def test_sensor_standoffs_stand_on_the_pcb_holes(sensor):
    v = sensor.spec
    base = assembled(sensor, "base")
    assert_points_match(hole_axes(base, v.screw_hole), board_holes(v) + dims_of(v).post_points, 0.05)


def test_sensor_lid_sits_on_the_base_and_its_lip_fits_inside(sensor):
    preview = sensor.preview(0.2)
    d = dims_of(sensor.spec)
    base_top = preview["base"].vertices[:, 2].max()
    lid = preview["lid"].vertices
    assert base_top == pytest.approx(d.base_h, abs=1e-3)
    assert lid[:, 2].min() == pytest.approx(d.base_h - d.lip_h, abs=1e-3)
    assert lid[:, 2].max() == pytest.approx(d.base_h + sensor.spec.lid_thickness, abs=1e-3)
    lid_shape = assembled(sensor, "lid")
    base_shape = assembled(sensor, "base")
    assert lid_shape.intersect(base_shape).Volume() < 1e-6, "lid and base overlap"


def test_sensor_vents_and_cable_hole_go_through_the_wall(defaults):
    product = defaults["sensor_enclosure"]
    v = product.spec
    d = dims_of(v)
    base = assembled(product, "base")
    z = (d.floor + v.standoff_height + v.pcb_thickness + VENT_MARGIN_MM + d.base_h - d.lip_h - VENT_MARGIN_MM) / 2
    wall_y = d.cavity_y / 2 + d.wall / 2
    assert not base.isInside(cq.Vector(0, wall_y, z)) and not base.isInside(cq.Vector(0, -wall_y, z))  # middle slot
    assert base.isInside(cq.Vector(v.vent_width, wall_y, z))  # wall between slots
    assert not base.isInside(cq.Vector(-(d.cavity_x / 2 + d.wall / 2), 0, z))  # cable hole


BOARDS = ["arduino_uno_r3", "raspberry_pi_pico", "bbc_microbit_v2", "esp32_devkitc_v4"]


@pytest.fixture(scope="module", params=BOARDS)
def kit(request, defaults):
    if request.param == "arduino_uno_r3":
        return defaults["kit_enclosure"]
    from somana_core.geometry import get_family
    from somana_core.geometry.spec import field_range

    cls = get_family("kit_enclosure")
    values = {n: cls.param[n].default for n in cls.parameter_names()} | {"board": request.param}
    lowest = field_range(cls, "standoff_height", values)["min"]  # what hangs under this board
    assert lowest <= cls.param["standoff_height"].default  # every board is valid at the defaults
    return build(make_spec("kit_enclosure", {"board": request.param}))


def test_kit_standoffs_land_on_the_boards_holes(kit):
    board = Board(kit.spec.board)
    base = assembled(kit, "base")
    if not board.holes:
        assert hole_axes(base, board.pilot_hole or 1.0) == []
        return
    assert_points_match(hole_axes(base, board.pilot_hole), board.holes, 0.05)
    # and the holes keep the board's spacing from its drawing
    hx = [x for x, _ in board.holes_board]
    assert max(hx) - min(hx) == pytest.approx(max(x for x, _ in board.holes) - min(x for x, _ in board.holes))


def test_kit_usb_cutout_lines_up_with_the_connector(kit):
    v = kit.spec
    board = Board(v.board)
    d = v.dims()
    base = assembled(kit, "base")
    side, centre = board.usb_box(v.clearance)
    z = d.floor + v.standoff_height + board.thickness + board.usb_z
    edge = {"x0": (-d.cavity_x / 2 - d.wall / 2, None), "x1": (d.cavity_x / 2 + d.wall / 2, None),
            "y0": (None, -d.cavity_y / 2 - d.wall / 2), "y1": (None, d.cavity_y / 2 + d.wall / 2)}[side]
    def point(along, dz=0.0):
        if edge[0] is not None:
            return cq.Vector(edge[0] + d.cavity_x_offset, along, z + dz)
        return cq.Vector(along, edge[1], z + dz)
    half_w, half_h = board.plug_half_sizes(v.usb_margin)  # the cable plug's head plus the margin
    assert not base.isInside(point(centre)), "the connector's centre is open"
    for corner in (-1, 1):  # the connector itself fits in the opening...
        assert not base.isInside(point(centre + corner * (board.usb_width / 2 - 0.05), corner * (board.usb_height / 2 - 0.05)))
    assert base.isInside(point(centre + half_w + 0.3)) and base.isInside(point(centre - half_w - 0.3))
    assert base.isInside(point(centre, half_h + 0.3)), "...and the wall closes just beyond its margin"


def test_kit_board_footprint_and_battery_bay_are_clear(defaults):
    product = build(make_spec("kit_enclosure", {"battery": "aa_2x_holder"}))
    v = product.spec
    board = Board(v.board)
    d = v.dims()
    base = assembled(product, "base")
    fx, fy = board.footprint_size
    z0 = d.floor + v.standoff_height + 1e-3
    assert clearance_zone_is_empty(base, fx, fy, v.clearance, z0, d.base_h - 1e-3)
    bay_x0 = fx / 2 + v.clearance + d.wall
    assert empty_inside(base, bay_x0 + 1e-3, -29 / 2, d.floor + 1e-3, bay_x0 + 58, 29 / 2, d.floor + 15)


LENS_CASES = [{}, {"lens_shape": "rectangle"}, {"lens_shape": "cat_eye"},
              {"lens_shape": "superellipse", "shape_exponent": "6.5", "lens_width": "58", "lens_height": "30",
               "bridge_width": "16", "pupillary_distance": "70", "frame_width": "150", "crest_height": "-4"}]


@pytest.fixture(scope="module", params=range(len(LENS_CASES)), ids=["round", "rectangle", "cat_eye", "superellipse"])
def frame(request):
    """Without face-form wrap, so the front's face is one plane holding both sight openings."""
    return build(make_spec("eyewear_frame", {**LENS_CASES[request.param], "wrap_deg": "0"}))


def test_sight_openings_are_the_lens_size_less_the_groove_depth(frame, tmp_path, checks):
    v = frame.spec
    front = frame.parts["front"]
    face = front.faces("<Z")  # the front lies on its face: the sight openings are its holes
    holes = face.innerWires()
    assert len(holes) == 2
    centres = []
    for wire in holes:  # the lens (A x B) sits groove_depth behind the lip all round
        lo, hi = bounding_box(wire)  # exact box of the curves (OCC's default box is padded)
        assert hi[0] - lo[0] == pytest.approx(v.lens_width - 2 * v.groove_depth, abs=0.1)
        assert hi[1] - lo[1] == pytest.approx(v.lens_height - 2 * v.groove_depth, abs=0.1)
        centres.append(((lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2))
    assert abs(centres[0][0] - centres[1][0]) == pytest.approx(v.lens_width + v.bridge_width, abs=0.1)
    assert centres[0][1] == pytest.approx(centres[1][1], abs=0.1)
    checks.part_printable(frame, "front", tmp_path)


def test_front_has_no_fillet_faces_and_an_stl_without_open_edges(frame, tmp_path, checks):
    # the known trap: a filleted front gave a valid solid whose STL had open edges. The front is
    # one extruded profile plus boxes and pin holes, its saddle a drafted prism (the crest's arc a
    # cone): planes, extrusions, cylinders and cones only.
    kinds = {f.geomType() for f in frame.parts["front"].Faces()}
    assert kinds <= {"PLANE", "EXTRUSION", "CYLINDER", "CONE"}, kinds
    mesh = checks.part_printable(frame, "front", tmp_path)["mesh"]
    assert len(trimesh_open_edges(mesh)) == 0


def test_the_printability_check_catches_a_valid_solid_with_an_open_stl(defaults, tmp_path):
    """What the trap looked like: the solid is valid, the STL is not closed. The check must say so."""
    import trimesh

    product = defaults["eyewear_frame"]
    assert product.parts["front"].isValid()
    path = product.export(tmp_path / "front.stl", part="front")
    mesh = trimesh.load(path, process=False)
    mesh.merge_vertices()
    assert mesh.is_watertight
    holed = trimesh.Trimesh(mesh.vertices, mesh.faces[1:], process=False)  # one triangle missing
    assert not holed.is_watertight and len(trimesh_open_edges(holed)) == 3


def trimesh_open_edges(mesh):
    edges = np.sort(mesh.edges, axis=1)
    _, counts = np.unique(edges, axis=0, return_counts=True)
    return counts[counts != 2]


def test_temples_hinge_on_the_front_and_reach_back(defaults):
    product = defaults["eyewear_frame"]
    v = product.spec
    preview = product.preview(0.2)
    front = preview["front"].vertices
    for side, sign in (("left_temple", -1), ("right_temple", 1)):
        temple = preview[side].vertices
        assert sign * temple[:, 0].mean() > 0, f"{side} on the wrong side"
        assert temple[:, 1].min() > front[:, 1].min(), "temple starts behind the front face"
        reach = temple[:, 1].max() - temple[:, 1].min()
        from somana_core.geometry import eyewear_frame as ew

        h = ew.hinge(v)
        (x0, _), (x1, _), (x2, _), (x3, _) = ew.temple_centreline(v, h, mirrored=False)
        assert reach == pytest.approx(x3 - x0 + v.temple_height, abs=1.0)
        assert sign * temple[:, 0].max() <= v.frame_width / 2 + 1e-3
    f_shape = assembled(product, "front")
    for side in ("left_temple", "right_temple"):
        assert f_shape.intersect(assembled(product, side)).Volume() < 1e-6, f"{side} collides with the front"
