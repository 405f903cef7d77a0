"""A kit box lid with raised letters over a board with windows (micro:bit) keeps its whole lip and
builds into one solid: the order the random sweep found failing ("part lid came out as 3 solids"),
and the rule behind it (the lid's bridge ribs step around the windows, the lip is never dropped)."""

from __future__ import annotations

import pytest

from somana_core.catalogue import nozzle_mm
from somana_core.geometry import build, enclosure, kernel, make_spec
from somana_core.geometry.kit_enclosure import Board, board_ids, dims_of

# Found by the random-order sweep (issue 13): the snap ring was filtered out with the ribs under
# the windows, so the snap ridges floated loose beside the plate.
FOUND_ORDER = {"board": "bbc_microbit_v2", "battery": "lipo_1000mah", "lid_fit": "snap", "text": "Zoë K",
               "text_style": "embossed", "wall": "4.8", "component_height": "37.5", "machine": "prusa_mini"}
WINDOWED_BOARDS = [b for b in board_ids() if Board(b).windows]


def test_windowed_boards_exist():
    assert WINDOWED_BOARDS, "no board in data/boards.csv has lid windows: the tests below would prove nothing"


def test_found_order_builds_a_printable_lid_with_its_whole_lip(tmp_path, checks):
    spec = make_spec("kit_enclosure", FOUND_ORDER)
    product = build(spec, parts=("lid",))
    checks.part_printable(product, "lid", tmp_path)
    # the lip is there: the lid is as tall as plate + lip + letters (its declared envelope)
    lo, hi = kernel.bounding_box(product.parts["lid"])
    assert hi[2] - lo[2] == pytest.approx(spec.part_envelopes()["lid"][2], abs=0.01)


@pytest.mark.parametrize("board", WINDOWED_BOARDS)
@pytest.mark.parametrize("lid_fit", ["snap", "screw"])
def test_bridge_ribs_step_around_windows_and_still_carry_the_plate(board, lid_fit):
    spec = make_spec("kit_enclosure", {**FOUND_ORDER, "board": board, "lid_fit": lid_fit})
    d = dims_of(spec)
    windows = Board(board).windows
    plain = enclosure._bridge_ribs(d, spec.lid_clearance, nozzle_mm(spec.machine))
    ribs = enclosure._bridge_ribs(d, spec.lid_clearance, nozzle_mm(spec.machine), windows)
    assert plain and ribs
    crossing = 0
    for rib in ribs:
        bb = rib.BoundingBox()
        for x, y, w, h in windows:
            apart_x = bb.xmax <= x - w / 2 - enclosure.WINDOW_MARGIN_MM + 1e-6 or \
                x + w / 2 + enclosure.WINDOW_MARGIN_MM - 1e-6 <= bb.xmin
            apart_y = bb.ymax <= y - h / 2 or y + h / 2 <= bb.ymin
            assert apart_x or apart_y, f"rib {bb.xmin:.1f}..{bb.xmax:.1f} passes under window {(x, y, w, h)}"
            crossing += not apart_y
    assert crossing, "no rib line crosses a window: the stepping is not exercised"
    # a rib line that meets a window goes on beyond it (the plate stays carried on both sides)
    assert len(ribs) > len(plain)
