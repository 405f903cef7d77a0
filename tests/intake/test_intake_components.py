"""Footprints -> classes and heights (data/connectors.csv, 3D models) and the openings a customer
can switch on: which edge each connector faces, where its socket mouth is."""

from __future__ import annotations

from pathlib import Path

import pytest

from somana_core.errors import InputError
from somana_core.intake import chosen_openings, classify, find_openings, read_board
from somana_core.intake.components import match_row, table_rows

BOARDS = Path(__file__).resolve().parent / "boards"
K7, K8, K9 = (BOARDS / n for n in ("kicad7_rounded_corners.kicad_pcb", "kicad8_l_shape.kicad_pcb",
                                    "kicad9_half_round.kicad_pcb"))


def _openings(path):
    board = read_board(path)
    return {o.reference: o for o in find_openings(board)}


def test_table_has_a_source_for_every_row_and_a_catch_all_last():
    rows = [row for _, row in table_rows()]
    assert all(str(row["source"]).strip() for row in rows)
    assert rows[-1]["component_class"] == "unknown"
    assert {row["opens"] for row in rows} == {"edge", "top", "none"}


@pytest.mark.parametrize("name, cls", [
    ("Connector_USB:USB_C_Receptacle_GCT_USB4085", "usb_c"),
    ("Connector_USB:USB_Micro-B_Molex-105017-0001", "usb_micro_b"),
    ("Connector_USB:USB_Mini-B_Lumberg_2486_01_Horizontal", "usb_mini_b"),
    ("Connector_BarrelJack:BarrelJack_Horizontal", "barrel_jack"),
    ("Connector_RJ:RJ45_Amphenol_RJHSE5380", "rj45"),
    ("Connector_PinHeader_2.54mm:PinHeader_1x04_P2.54mm_Vertical", "pin_header"),
    ("Connector_Card:microSD_HC_Hirose_DM3AT-SF-PEJM5", "micro_sd"),
    ("Button_Switch_SMD:SW_Push_1P1T_NO_6x6mm_H9.5mm", "button"),
    ("LED_SMD:LED_0603_1608Metric", "led"),
    ("Display:OLED-128O064D", "display"),
    ("Resistor_SMD:R_0603_1608Metric", "passive_smd"),
    ("Somebody:Something", "unknown"),
])
def test_footprint_names_map_to_classes(name, cls):
    assert match_row(name)["component_class"] == cls


def test_edge_connectors_face_the_edge_they_sit_on():
    # KiCad y points down: -y is the top edge on screen
    k7, k8, k9 = _openings(K7), _openings(K8), _openings(K9)
    assert k7["J1"].normal == pytest.approx((-1, 0)) and k7["J1"].mouth == pytest.approx((99.0, 125.0))
    assert k7["J2"].normal == pytest.approx((0, -1)) and k7["J2"].mouth == pytest.approx((130.0, 99.5))
    assert k8["J1"].normal == pytest.approx((1, 0)) and k8["J1"].mouth == pytest.approx((90.5, 20.0))
    assert k8["J2"].normal == pytest.approx((0, 1)) and k8["J2"].mouth == pytest.approx((25.0, 70.5))
    assert k9["J1"].normal == pytest.approx((-1, 0), abs=1e-3) and k9["J2"].normal == pytest.approx((0, 1))
    assert k7["J1"].front_to_edge_mm == pytest.approx(-1.0)  # overhangs the edge by 1 mm


def test_plug_envelopes_come_from_the_table():
    k7 = _openings(K7)
    row = match_row(k7["J1"].footprint)
    assert (k7["J1"].plug_width_mm, k7["J1"].plug_height_mm) == (row["plug_width_mm"], row["plug_height_mm"])


def test_buttons_leds_headers_open_through_the_lid_headers_and_leds_off_by_default():
    k7, k8 = _openings(K7), _openings(K8)
    assert k7["SW1"].opens == "top" and k7["SW1"].default_open
    assert k8["J3"].opens == "top" and not k8["J3"].default_open
    assert k8["D1"].opens == "top" and not k8["D1"].default_open


def test_a_connector_far_from_the_edge_is_not_an_edge_opening():
    board = read_board(K8)
    fp = board.footprint("J2")
    fp.outline = fp.outline - (0, 20)  # move the micro-B 20 mm into the board
    assert "J2" not in {o.reference for o in find_openings(board)}


def test_the_customer_chooses_the_openings():
    openings = find_openings(read_board(K8))
    assert {o.reference for o in chosen_openings(openings, "auto")} == {"J1", "J2"}
    assert chosen_openings(openings, "none") == []
    assert [o.reference for o in chosen_openings(openings, "J2, J3")] == ["J2", "J3"]
    with pytest.raises(InputError, match="'U7' is not a connector") as err:
        chosen_openings(openings, "J1,U7")
    assert err.value.field == "openings"


def test_heights_from_table_and_3d_model():
    parts = {p.reference: p for p in classify(read_board(K9))}
    assert parts["J2"].height_mm == match_row("Connector_USB:USB_C_Receptacle")["body_height_mm"]
    assert parts["J2"].height_source == "table"
    # models/tall_part.wrl: 4 VRML units (x 2.54 mm) tall, scale z 1.5, offset z 1 mm
    assert parts["U2"].height_source == "3D model"
    assert parts["U2"].height_mm == pytest.approx(4 * 2.54 * 1.5 + 1.0)
    # no model file on this machine: the catch-all row's assumed height
    k8 = {p.reference: p for p in classify(read_board(K8))}
    assert k8["FIX1"].height_source == "assumed"


def test_demo_board_parts_all_classified():
    board = read_board("/usr/share/kicad/demos/pic_programmer/pic_programmer.kicad_pcb")
    parts = classify(board)
    assert len(parts) == len(board.footprints)
    assert all(p.height_mm >= 0 for p in parts)


def test_an_upload_is_kept_by_content_and_a_bad_one_writes_nothing(somana_home):
    from somana_core.intake import load_board, store_upload

    data = K8.read_bytes()
    path = store_upload(data, "my board.kicad_pcb")
    assert path.parent == somana_home / "boards" and path.read_bytes() == data
    assert store_upload(data, "again.kicad_pcb") == path
    assert load_board(path).kicad == "8"
    with pytest.raises(InputError, match="no board outline"):
        store_upload(b"(kicad_pcb (version 20240108))", "empty.kicad_pcb")
    with pytest.raises(InputError, match="upload the KiCad board file"):
        store_upload(data, "board.kicad_sch")
    assert sorted(p.name for p in (somana_home / "boards").iterdir()) == [path.name]
