"""data/boards.csv: every row says where its figures come from and which stay estimates; the
ESP32-DevKitC V4 outline matches Espressif's dimensions drawing (PCB + module overhang)."""

from __future__ import annotations

import pytest

from somana_core.catalogue import board_ids, board_row

# ESP32-DevKitC V4 dimensions drawing (esp32_devkitc_v4_dimensions.dxf): PCB 1.9 x 1.1 in, the
# WROOM-32 module overhangs the antenna end by 6.04 mm; the micro-USB receptacle overhangs 1.0 mm.
DEVKITC_PCB_MM = (48.26, 27.94)
DEVKITC_MODULE_OVERHANG_MM = 6.04
DEVKITC_USB_OVERHANG_MM = 1.0


@pytest.mark.parametrize("board", board_ids())
def test_every_board_row_names_its_source_and_kind(board):
    row = board_row(board)
    assert row["kind"] in ("drawing", "estimate")
    assert len(str(row["source"])) > 40 and len(str(row["plug_source"])) > 40
    if row["kind"] == "estimate":  # an estimate row says what to verify
        assert "verify" in row["source"]


def test_devkitc_outline_is_the_drawings_pcb_plus_module_overhang():
    row = board_row("esp32_devkitc_v4")
    assert row["kind"] == "drawing" and "esp32_devkitc_v4_dimensions" in row["source"]
    assert float(row["length_mm"]) == pytest.approx(DEVKITC_PCB_MM[0] + DEVKITC_MODULE_OVERHANG_MM, abs=0.05)
    assert float(row["width_mm"]) == pytest.approx(DEVKITC_PCB_MM[1])
    assert float(row["usb_centre_mm"]) == pytest.approx(DEVKITC_PCB_MM[1] / 2)  # centred on the short edge
    assert float(row["usb_overhang_mm"]) == pytest.approx(DEVKITC_USB_OVERHANG_MM)
    # with its connector the board is 55.3 mm: the 55-57 mm of published models
    assert 55.0 <= float(row["length_mm"]) + float(row["usb_overhang_mm"]) <= 57.0


# micro:bit edge connector (tech.microbit.org/hardware/edgeconnector): 40 strips a side at 1.27 mm; ring 2
# sits on its centre and rings 0 and GND 17 strips either side of it.
MICROBIT_EDGE_PITCH_MM = 1.27
MICROBIT_RING_OFFSET_STRIPS = 17


def test_microbit_ring_holes_sit_where_the_edge_connector_pitch_puts_them():
    row = board_row("bbc_microbit_v2")
    (x0, y0), (x1, y1) = [tuple(map(float, h.split(":"))) for h in row["holes"].split(";")]
    centre = float(row["length_mm"]) / 2
    offset = MICROBIT_RING_OFFSET_STRIPS * MICROBIT_EDGE_PITCH_MM
    assert x0 == pytest.approx(centre - offset, abs=0.01) and x1 == pytest.approx(centre + offset, abs=0.01)
    assert y0 == y1 and float(row["hole_diameter_mm"]) == 4.0
    assert row["kind"] == "estimate" and "y 4.9" in row["source"]  # the height above the edge stays to verify
