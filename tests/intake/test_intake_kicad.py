"""The KiCad board reader against numbers written by hand (tests/intake/boards/generate.py states
them) and against KiCad's own demo boards (Debian's kicad-demos, KiCad 6 format)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from somana_core.errors import InputError
from somana_core.intake import read_board, read_board_bytes
from somana_core.intake.kicad import CHORD_ERROR_MM, Edge, arc_geometry, chain_edges, polygon_area

BOARDS = Path(__file__).resolve().parent / "boards"
DEMOS = Path("/usr/share/kicad/demos")
K7, K8, K9 = (BOARDS / n for n in ("kicad7_rounded_corners.kicad_pcb", "kicad8_l_shape.kicad_pcb",
                                    "kicad9_half_round.kicad_pcb"))


def test_format_versions_are_told_apart():
    assert [read_board(p).kicad for p in (K7, K8, K9)] == ["7", "8", "9"]
    assert read_board(DEMOS / "pic_programmer" / "pic_programmer.kicad_pcb").kicad == "6"


def test_references_read_from_fp_text_before_kicad_8_and_property_after():
    assert {fp.reference for fp in read_board(K7).footprints} >= {"J1", "J2", "SW1", "U1", "C1"}
    assert {fp.reference for fp in read_board(K8).footprints} >= {"J1", "J2", "J3", "D1", "U1", "FIX1"}
    assert all(fp.reference for p in (K7, K8, K9) for fp in read_board(p).footprints)


def test_thickness_from_the_general_section():
    assert read_board(K8).thickness_mm == 1.2
    assert read_board(K7).thickness_mm == 1.6


def test_rounded_outline_area_and_circle_cutout():
    board = read_board(K7)
    # 80 x 50 minus two corners of (r^2 - pi r^2 / 4), r = 6
    expected = 80 * 50 - 2 * (36 - math.pi * 36 / 4)
    # the polygon's chords cut at most CHORD_ERROR_MM along each arc's length (2 x 9.4 mm)
    assert board.outline.area_mm2() == pytest.approx(expected, abs=CHORD_ERROR_MM * 2 * 9.43)
    assert board.bbox() == pytest.approx((100, 100, 180, 150))
    assert len(board.cutouts) == 1 and board.cutouts[0].edges[0].kind == "circle"
    assert board.cutouts[0].area_mm2() == pytest.approx(math.pi * 16, abs=CHORD_ERROR_MM * 2 * math.pi * 4)


def test_polygon_outline_l_shape():
    board = read_board(K8)
    assert board.outline.area_mm2() == pytest.approx(90 * 40 + 50 * 30)


def test_half_round_outline_with_a_small_gap_is_closed():
    board = read_board(K9)
    assert board.outline.area_mm2() == pytest.approx(60 * 40 + math.pi * 400 / 2,
                                                    abs=CHORD_ERROR_MM * 63 + 0.02 * 40 / 2)  # the gap, closed, slants the left edge
    assert board.bbox() == pytest.approx((0, 0, 80, 40), abs=1e-6)


def test_mounting_holes_from_footprints_and_non_plated_holes():
    holes = {(h.x, h.y): h for h in read_board(K8).holes}
    assert set(holes) == {(5.0, 5.0), (85.0, 5.0), (5.0, 65.0)}  # the 1 mm peg hole is not a screw hole
    assert holes[(5.0, 5.0)].source == "non-plated hole" and holes[(5.0, 65.0)].diameter_mm == 3.2
    assert sorted((h.x, h.y) for h in read_board(K9).holes) == sorted(
        [(4, 4), (30, 4), (56, 4), (4, 36), (45, 30), (56, 36)])


def test_rotated_footprint_outline_in_board_coordinates():
    # J1 at (104, 125), 90 degrees; local courtyard x -5..5, y -5..3.5. KiCad turns counter-clockwise
    # on screen with y down: local (x, y) -> (x0 + y, y0 - x). So x 99..107.5, y 120..130.
    fp = read_board(K7).footprint("J1")
    assert fp.rotation_deg == 90 and fp.outline_source == "courtyard"
    lo, hi = fp.outline.min(axis=0), fp.outline.max(axis=0)
    assert tuple(lo) == pytest.approx((99.0, 120.0)) and tuple(hi) == pytest.approx((107.5, 130.0))
    # -90 degrees: local (x, y) -> (x0 - y, y0 + x); RJ45 at (80, 20), local y -10.5..10 -> x 70..90.5
    rj = read_board(K8).footprint("J1")
    lo, hi = rj.outline.min(axis=0), rj.outline.max(axis=0)
    assert tuple(lo) == pytest.approx((70.0, 11.5)) and tuple(hi) == pytest.approx((90.5, 28.5))


def test_45_degree_rotation_by_hand():
    # U1 at (125, 130), 45 degrees, courtyard corner local (3.7, -2.7) ->
    # (125 + 3.7 c - 2.7 s, 130 - 3.7 s - 2.7 c), c = s = 0.7071
    fp = read_board(K7).footprint("U1")
    c = math.cos(math.radians(45))
    corner = (125 + 3.7 * c - 2.7 * c, 130 - 3.7 * c - 2.7 * c)
    assert min(np.hypot(*(fp.outline - corner).T)) < 1e-6


def test_bottom_side_parts():
    assert read_board(K7).footprint("C1").side == "bottom"
    assert read_board(K8).footprint("U1").side == "bottom"
    assert read_board(K8).footprint("J1").side == "top"


def test_three_point_arc_geometry():
    centre, r, a0, sweep = arc_geometry((1, 0), (0, 1), (-1, 0))
    assert centre == pytest.approx((0, 0)) and r == pytest.approx(1) and sweep == pytest.approx(math.pi)
    _, _, _, sweep = arc_geometry((1, 0), (0, -1), (-1, 0))
    assert sweep == pytest.approx(-math.pi)


def test_edges_drawn_in_any_order_and_direction_chain_into_one_loop():
    square = [Edge("line", (0, 0), (10, 0)), Edge("line", (0, 10), (10, 10)),
              Edge("line", (10, 10), (10, 0)), Edge("line", (0, 0), (0, 10))]
    loops = chain_edges(square)
    assert len(loops) == 1 and abs(polygon_area(loops[0].polygon())) == pytest.approx(100)


def test_open_outline_is_refused_naming_where():
    with pytest.raises(InputError, match=r"not closed: it ends at \(10.00, 10.00\)"):
        chain_edges([Edge("line", (0, 0), (10, 0)), Edge("line", (10, 0), (10, 10))])


def _minimal(version="20221018", edge=True, hole=True, extra=""):
    parts = [f"(kicad_pcb (version {version}) (generator pcbnew) (general (thickness 1.6))"]
    if edge:
        parts.append('(gr_rect (start 0 0) (end 40 30) (layer "Edge.Cuts"))')
    if hole:
        parts.append('(footprint "MountingHole:MountingHole_3.2mm_M3" (layer "F.Cu") (at 5 5) '
                     '(fp_text reference "H1" (at 0 0) (layer "F.SilkS")) '
                     '(pad "" np_thru_hole circle (at 0 0) (size 3.2 3.2) (drill 3.2) (layers "*.Cu")))')
    return ("\n".join(parts) + extra + ")").encode()


def test_a_minimal_hand_written_board_reads():
    board = read_board_bytes(_minimal())
    assert board.size_mm() == pytest.approx((40, 30)) and len(board.holes) == 1


@pytest.mark.parametrize("data, message", [
    (_minimal(edge=False), "no board outline"),
    (_minimal(hole=False), "no mounting holes"),
    (_minimal(version="20171130"), "unknown version 20171130"),
    (_minimal(version="20260101"), "unknown version 20260101"),
    (b"(kicad_sch (version 20231120))", "is a KiCad schematic"),
    (b"G04 a Gerber file*", "not a KiCad board file"),
    (b"\xff\xfe\x00", "not a KiCad board file"),
    (_minimal()[:-3], "not closed"),
    (_minimal().replace(b"(thickness 1.6)", b"(thickness \x001.6)"), "damaged KiCad board file"),  # found by the fuzz
    (_minimal().replace(b"(start 0 0)", b"(start (0) 0)"), "damaged KiCad board file"),
])
def test_bad_files_are_refused_naming_what_is_missing(data, message):
    with pytest.raises(InputError, match=message) as err:
        read_board_bytes(data)
    assert err.value.field == "board"


def test_kicad_5_demo_is_refused_as_unknown_version():
    with pytest.raises(InputError, match="unknown version 20171130"):
        read_board(DEMOS / "microwave" / "microwave.kicad_pcb")


def test_missing_file_is_named():
    with pytest.raises(InputError, match="no such file"):
        read_board("/nonexistent/board.kicad_pcb")


def test_kicad_demo_holes_match_their_footprint_positions():
    """pic_programmer: six M4 MountingHole footprints (P101-P106) at the board's positions, written
    here from the file's `(at ...)` lines."""
    board = read_board(DEMOS / "pic_programmer" / "pic_programmer.kicad_pcb")
    m4 = sorted((h.x, h.y) for h in board.holes if h.diameter_mm == 4.3)
    assert m4 == sorted([(77.47, 135.89), (158.75, 135.89), (229.87, 135.89), (229.87, 44.45), (158.75, 44.45),
                         (77.47, 44.45)])
    assert board.size_mm() == pytest.approx((160.02, 99.06), abs=0.05)


@pytest.mark.parametrize("path", sorted(p for p in DEMOS.glob("*/*.kicad_pcb") if "microwave" not in p.name),
                         ids=lambda p: p.stem)
def test_every_kicad_6_demo_reads(path):
    board = read_board(path, require_holes=False)
    assert board.kicad == "6" and board.outline.area_mm2() > 100
    assert all(fp.reference for fp in board.footprints)
    assert len(board.footprints) == path.read_text().count("\n  (footprint ")


def test_demo_boards_are_present():
    """`make test` installs kicad-demos: without them the demo tests above would test nothing."""
    assert len(list(DEMOS.glob("*/*.kicad_pcb"))) >= 10


def test_outline_drawn_inside_a_rotated_footprint_and_old_style_arcs():
    """Edge.Cuts lines may live in a footprint (fp_line, local coordinates, turned with it) and dev
    formats before KiCad 6.0 wrote arcs as centre, start point and angle."""
    text = b"""(kicad_pcb (version 20211014) (generator pcbnew) (general (thickness 1.0))
      (footprint "Outline:Board_20x10" (layer "F.Cu") (at 50 50 90)
        (fp_text reference "BRD1" (at 0 0) (layer "F.SilkS"))
        (fp_rect (start -10 -5) (end 10 5) (layer "Edge.Cuts") (width 0.1)))
      (gr_arc (start 50 50) (end 52 50) (angle 180) (layer "Edge.Cuts") (width 0.1))
      (gr_line (start 48 50) (end 52 50) (layer "Edge.Cuts") (width 0.1))
      (footprint "MountingHole:MountingHole_2.2mm_M2" (layer "F.Cu") (at 50 57)
        (fp_text reference "H1" (at 0 0) (layer "F.SilkS"))
        (pad "" np_thru_hole circle (at 0 0) (size 2.2 2.2) (drill 2.2) (layers *.Cu *.Mask))))"""
    board = read_board_bytes(text)
    # local x (-10..10) turned 90 degrees runs along -y on screen: y 40..60; local y -5..5 -> x 45..55
    assert board.bbox() == pytest.approx((45, 40, 55, 60))
    assert board.thickness_mm == 1.0
    half_disc = [lp for lp in board.cutouts]
    assert len(half_disc) == 1 and half_disc[0].area_mm2() == pytest.approx(math.pi * 4 / 2, abs=CHORD_ERROR_MM * math.pi * 2)


def test_fuzzed_files_are_read_or_refused_never_crash():
    """Truncated or corrupted board files give a Board or an InputError (never another exception)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    original = K8.read_bytes()

    @settings(max_examples=60, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.integers(0, len(original)), st.integers(0, len(original)), st.binary(max_size=8))
    def run(cut, at, junk):
        data = original[:cut] if cut % 2 else original[:at] + junk + original[at:]
        try:
            read_board_bytes(data)
        except InputError as exc:
            assert exc.field == "board" and exc.message
    run()


def test_bottom_side_pads_land_where_kicads_own_tracks_end():
    """The video demo's 103 bottom-side footprints (many rotated): every SMD pad, placed by the
    reader's footprint transform, has a copper track ending inside it, as routed in KiCad."""
    from somana_core.intake.kicad import _find, _find_all, _layer, _placer, _xy
    from somana_core.intake.sexpr import parse

    root = parse((DEMOS / "video" / "video.kicad_pcb").read_text())
    ends = np.array([_xy(_find(seg, key)) for seg in _find_all(root, "segment") for key in ("start", "end")])
    placed = missed = 0
    for fp in _find_all(root, "footprint"):
        if not _layer(fp).startswith("B."):
            continue
        at = _find(fp, "at")
        place = _placer(*_xy(at), float(at[3]) if len(at) > 3 else 0.0)
        for pad in _find_all(fp, "pad"):
            if pad[2] != "smd":
                continue
            x, y = place(_xy(_find(pad, "at")))
            size = _find(pad, "size")
            placed += 1
            missed += np.hypot(*(ends - (x, y)).T).min() >= min(float(size[1]), float(size[2])) / 2
    assert placed > 200 and missed == 0
