"""The board-fitted enclosure: built from each test board, measured against the board (standoff axes
vs KiCad's hole centres, inner wall vs the outline, plugs' paths), and refused with the reason when
the board cannot be housed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import trimesh

from somana_core.errors import InputError
from somana_core.geometry import build, make_spec
from somana_core.geometry.board_enclosure import BoardEnclosure, plug_solid
from somana_core.intake.measure import hole_errors_mm, interferences, wall_clearance_mm

BOARDS = Path(__file__).resolve().parent / "boards"
ROOT = Path(__file__).resolve().parents[2]
CASES = {
    "sample": {},
    "kicad7": {"board_file": str(BOARDS / "kicad7_rounded_corners.kicad_pcb"), "text": "Ada"},
    "kicad8": {"board_file": str(BOARDS / "kicad8_l_shape.kicad_pcb"), "clearance": "2.5",
               "openings": "J1,J2,J3,D1"},
    "kicad9": {"board_file": str(BOARDS / "kicad9_half_round.kicad_pcb"), "standoff_height": "18"},
    "ecc83_demo": {"board_file": "/usr/share/kicad/demos/ecc83/ecc83-pp.kicad_pcb"},
}
HOLE_TOLERANCE_MM = 0.05
CLEARANCE_TOLERANCE_MM = 0.1


@pytest.fixture(scope="module")
def products():
    return {name: build(make_spec("board_enclosure", values)) for name, values in CASES.items()}


@pytest.mark.parametrize("case", list(CASES))
def test_standoff_axes_sit_on_the_kicad_hole_centres(products, case):
    errors = hole_errors_mm(products[case])
    assert len(errors) == len(products[case].spec.layout().board.holes) >= 2
    assert max(errors) < HOLE_TOLERANCE_MM


@pytest.mark.parametrize("case", list(CASES))
def test_inner_wall_follows_the_outline_at_the_clearance(products, case):
    measured = wall_clearance_mm(products[case])
    target = products[case].spec.clearance
    assert measured["points"] > 100
    assert abs(measured["min"] - target) < CLEARANCE_TOLERANCE_MM
    assert abs(measured["max"] - target) < CLEARANCE_TOLERANCE_MM


@pytest.mark.parametrize("case", list(CASES))
def test_no_interference_and_every_plug_reaches_its_socket(products, case):
    assert interferences(products[case]) == []


@pytest.mark.parametrize("case", list(CASES))
def test_parts_are_single_watertight_solids(products, case, tmp_path):
    product = products[case]
    for name, shape in product.parts.items():
        assert shape.isValid() and len(shape.Solids()) == 1
        mesh = trimesh.load(product.export(tmp_path / f"{name}.stl", part=name), process=False)
        mesh.merge_vertices()
        assert mesh.is_watertight and mesh.is_volume
        assert mesh.volume == pytest.approx(shape.Volume(), rel=0.005)


def test_cutouts_face_the_connectors_edges(products):
    lay = products["kicad8"].spec.layout()
    cuts = {c.reference: c for c in lay.cutouts}
    # KiCad's +x edge stays +x; KiCad's +y (down on screen) becomes -y in the enclosure
    assert tuple(cuts["J1"].normal) == pytest.approx((1, 0)) and tuple(cuts["J2"].normal) == pytest.approx((0, -1))
    assert [w[0] for w in lay.windows] == ["J3", "D1"]


def test_a_plug_really_passes_its_cutout(products):
    """The plug's overmould solid, moved 1 mm into the wall, still does not meet it; a plug 2 mm
    wider than its cutout would."""
    product = products["kicad7"]
    lay = product.spec.layout()
    base = product.parts["base"]  # the base prints as it stands: print pose = assembled frame
    assert np.allclose(product.placement("base"), np.eye(4))
    for cut in lay.cutouts:
        assert plug_solid(cut).intersect(base).Volume() < 1e-3
        wide = type(cut)(**{**cut.__dict__, "width_mm": cut.width_mm + 2 * product.spec.plug_fit + 2.0})
        assert plug_solid(wide).intersect(base).Volume() > 1.0


def test_lid_height_comes_from_the_tallest_part(products):
    lay = products["kicad7"].spec.layout()
    spec = products["kicad7"].spec
    # the barrel jack (11 mm, table) is the tallest: lid lip's underside clears it by the headroom
    assert lay.tallest[0] in ("J2", "J2's plug")
    free = lay.base_h - spec.lip_height - lay.z_board_top
    assert free == pytest.approx(lay.tallest[1] + spec.headroom)


def test_bottom_side_part_taller_than_the_standoffs_is_refused():
    with pytest.raises(InputError, match=r"no room under the board for U2 \(16.24 mm tall by its 3D model") as err:
        make_spec("board_enclosure", {"board_file": str(BOARDS / "kicad9_half_round.kicad_pcb")})
    assert err.value.field == "standoff_height"


def test_a_part_past_the_edge_is_refused_unless_opened_or_given_clearance(tmp_path):
    # the KiCad 7 board's USB-C overhangs the edge by 1 mm: with its opening off it hits the wall
    values = {"board_file": str(BOARDS / "kicad7_rounded_corners.kicad_pcb"), "openings": "J2,SW1"}
    with pytest.raises(InputError, match=r"J1 .* reaches 1.0 mm past the board edge") as err:
        make_spec("board_enclosure", values)
    assert err.value.field == "clearance"
    make_spec("board_enclosure", {**values, "clearance": "1.5"})


def test_a_plug_blocked_by_the_board_edge_is_refused(tmp_path):
    """The micro-B set 1 mm back from the edge: its plug's overmould reaches below the board's top
    (table: mouth 1.5 mm up, plug 8.5 mm tall), so the board edge stops it short of the socket."""
    text = (BOARDS / "kicad8_l_shape.kicad_pcb").read_text()
    board = tmp_path / "recessed.kicad_pcb"
    board.write_text(text.replace("(at 25.0 67.5 180)", "(at 25.0 66.0 180)"))
    with pytest.raises(InputError, match="cable plug of J2 cannot reach its socket: the board edge stands 1.0 mm"):
        make_spec("board_enclosure", {"board_file": str(board), "openings": "J2", "clearance": "2.5"})


def test_bad_board_file_is_refused_naming_it(tmp_path):
    empty = tmp_path / "empty.kicad_pcb"
    empty.write_text("(kicad_pcb (version 20240108) (generator pcbnew))")
    with pytest.raises(InputError, match="no board outline") as err:
        make_spec("board_enclosure", {"board_file": str(empty)})
    assert err.value.field == "board_file"


def test_openings_parameter_is_validated():
    with pytest.raises(InputError, match="'J7' is not a connector") as err:
        make_spec("board_enclosure", {"openings": "J7"})
    assert err.value.field == "openings"


def test_spec_declares_board_and_openings():
    assert BoardEnclosure.param["openings"].default == "auto"
    assert "board_file" in BoardEnclosure.parameter_names()


def _somana(*args, home):
    return subprocess.run([sys.executable, "-m", "somana", *args], capture_output=True, text=True, cwd=ROOT,
                          env={"PATH": "/usr/bin:/bin", "SOMANA_HOME": str(home), "PYTHONPATH": str(ROOT)},
                          timeout=240)


def test_cli_make_and_quote_with_a_board(tmp_path, somana_home):
    board = BOARDS / "kicad8_l_shape.kicad_pcb"
    out = tmp_path / "case.stl"
    made = _somana("make", "sensor_enclosure", "--board", str(board), "--set", "openings=J1", "--out", str(out),
                   "--json", home=somana_home)
    assert made.returncode == 0, made.stderr
    report = json.loads(made.stdout)
    assert report["family"] == "board_enclosure" and report["values"]["board_file"] == str(board)
    assert out.stat().st_size > 10_000
    quoted = _somana("quote", "sensor_enclosure", "--board", str(board), "--json", home=somana_home)
    assert quoted.returncode == 0, quoted.stderr
    assert json.loads(quoted.stdout)["unit_price"] > 0


@pytest.mark.parametrize("board, message", [
    ("/usr/share/kicad/demos/ecc83/ecc83-pp_v2.kicad_pcb", "no mounting holes"),
    ("/usr/share/kicad/demos/microwave/microwave.kicad_pcb", "unknown version 20171130"),
    ("/nonexistent.kicad_pcb", "no such file"),
    (str(BOARDS / "models" / "tall_part.wrl"), "must be a KiCad board"),
])
def test_cli_refuses_a_bad_board_and_writes_nothing(tmp_path, somana_home, board, message):
    folder = tmp_path / "out"
    folder.mkdir()
    result = _somana("make", "sensor_enclosure", "--board", board, "--out", str(folder / "case.stl"),
                     home=somana_home)
    assert result.returncode == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert list(folder.iterdir()) == []


def test_the_solid_check_refuses_a_rib_in_a_plugs_path(tmp_path):
    """Only the built solid shows this one: a wide standoff next to the micro-B gets a rib to the
    wall, and the micro-B's plug (its overmould reaches 1.15 mm below the board) would meet it."""
    text = (BOARDS / "kicad8_l_shape.kicad_pcb").read_text()
    board = tmp_path / "rib.kicad_pcb"
    board.write_text(text.replace("(at 5 65)", "(at 25 66)"))
    spec = make_spec("board_enclosure", {"board_file": str(board), "openings": "J2", "standoff_diameter": "9"})
    with pytest.raises(InputError, match="cable plug of J2 cannot reach its socket: it meets the enclosure"):
        build(spec)


def test_a_standoff_that_would_stick_out_of_the_wall_is_refused(tmp_path):
    text = (BOARDS / "kicad8_l_shape.kicad_pcb").read_text()
    board = tmp_path / "edge_hole.kicad_pcb"
    board.write_text(text.replace("(at 5 65)", "(at 1.5 65)"))  # 1.5 mm from the left edge
    with pytest.raises(InputError, match="standoff under H1 .* would stick out of the wall; use at most 7.0 mm"):
        make_spec("board_enclosure", {"board_file": str(board), "standoff_diameter": "8"})
    make_spec("board_enclosure", {"board_file": str(board), "standoff_diameter": "7"})
