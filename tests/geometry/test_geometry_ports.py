"""Boxes whose ports can be used: for every board, a body the shape of its standard cable plug's
moulded head comes in from outside, through the wall cut-out, up to the socket's mouth without
touching the base or the lid, whatever the lid type; standoffs clear what hangs under the board."""

from __future__ import annotations

import pytest

from somana_core.catalogue import board_ids
from somana_core.errors import InputError
from somana_core.geometry import build, make_spec
from somana_core.geometry.kernel import apply_matrix, box, common_volume_mm3, distance_mm
from somana_core.geometry.kit_enclosure import NO_BATTERY, UNDERSIDE_CLEARANCE_MM, Board, battery_ids

PLUG_REACH_MM = 40.0  # how far out the plug-shaped body reaches: well past any wall


def valid_values(board: str, lid_fit: str) -> dict:
    b = Board(board)
    _, half_h = b.plug_half_sizes(1.0)  # the default usb_margin
    lowest = max(b.underside + UNDERSIDE_CLEARANCE_MM, half_h - b.usb_z + 1.0)
    return {"board": board, "lid_fit": lid_fit, "standoff_height": max(3.0, round(lowest * 2 + 0.5) / 2)}


def plug_body(product, board: Board):
    """The plug's head (exact overmould size, no margin) from the socket's mouth outward, in the
    assembled frame: the base's print pose is its assembled pose."""
    spec = product.spec
    d = spec.dims()
    side, centre = board.usb_box(spec.clearance)
    zc = d.floor + spec.standoff_height + board.thickness + board.usb_z
    mouth = board.socket_mouth()
    w, h = board.plug_width / 2, board.plug_height / 2
    if side == "x0":
        return box(mouth - PLUG_REACH_MM, centre - w, zc - h, mouth, centre + w, zc + h)
    if side == "x1":
        return box(mouth, centre - w, zc - h, mouth + PLUG_REACH_MM, centre + w, zc + h)
    if side == "y0":
        return box(centre - w, mouth - PLUG_REACH_MM, zc - h, centre + w, mouth, zc + h)
    return box(centre - w, mouth, zc - h, centre + w, mouth + PLUG_REACH_MM, zc + h)


CASES = [(b, fit) for b in board_ids() for fit in ("snap", "screw")]


@pytest.mark.parametrize("board, lid_fit", CASES)
def test_a_cable_plug_reaches_the_socket_without_touching_the_box(board, lid_fit):
    try:
        spec = make_spec("kit_enclosure", valid_values(board, lid_fit))
    except InputError as err:  # a screw post would block this board's cut-out: refused, named
        assert lid_fit == "screw" and err.field == "lid_fit"
        return
    product = build(spec)
    b = Board(board)
    plug = plug_body(product, b)
    base = product.parts["base"]
    lid = apply_matrix(product.parts["lid"], product.placement("lid"))  # on the base, as assembled
    assert common_volume_mm3(base, plug) < 1e-6
    assert common_volume_mm3(lid, plug) < 1e-6
    assert distance_mm(base, plug) > 0.1  # the margin all round, not a touch


def _widest_battery() -> str:
    from somana_core.catalogue import battery_row

    return max((b for b in battery_ids() if b != NO_BATTERY), key=lambda b: float(battery_row(b)["width_mm"]))


@pytest.mark.parametrize("board", board_ids())
def test_every_battery_leaves_the_plug_its_way_in(board):
    """Every board with every battery compartment and lid type is accepted (the compartment sits on the
    side away from each board's USB connector), and with the widest battery, which widens the cavity
    past the narrow boards' bays, the plug-shaped body still comes in to the socket without touching
    the box."""
    for battery in battery_ids():
        for lid_fit in ("snap", "screw"):
            try:
                make_spec("kit_enclosure", {**valid_values(board, lid_fit), "battery": battery})
            except InputError as err:  # only the screw posts' known refusal, never the battery's
                assert lid_fit == "screw" and err.field == "lid_fit", err.message
    product = build(make_spec("kit_enclosure", {**valid_values(board, "snap"), "battery": _widest_battery()}))
    plug = plug_body(product, Board(board))
    lid = apply_matrix(product.parts["lid"], product.placement("lid"))
    assert common_volume_mm3(product.parts["base"], plug) < 1e-6 and common_volume_mm3(lid, plug) < 1e-6
    assert distance_mm(product.parts["base"], plug) > 0.1


@pytest.mark.parametrize("usb_side, usb_centre_mm", [("x1", 21.0), ("y1", 48.0)])
def test_a_usb_connector_the_battery_would_block_is_refused_on_the_battery(tmp_path, monkeypatch, usb_side,
                                                                          usb_centre_mm):
    """A founder's board row whose USB faces the battery compartment (x1), or sits on a long edge so near
    the compartment's end that the plug's cut-out reaches the divider, cannot have a battery: refused
    before CAD on `battery`, naming the connector; without a battery it is accepted."""
    import shutil

    from somana_core.data import data_dir

    copy = tmp_path / "data"
    shutil.copytree(data_dir(), copy)
    path = copy / "boards.csv"
    lines = path.read_text().splitlines()
    (i,) = [k for k, line in enumerate(lines) if line.startswith("bbc_microbit_v2,")]
    cells = lines[i].split(",")  # the micro:bit row: usb_side and usb_centre_mm are columns 8 and 9
    header = next(line for line in lines if line.startswith("board,")).split(",")
    cells[header.index("usb_side")], cells[header.index("usb_centre_mm")] = usb_side, str(usb_centre_mm)
    lines[i] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("SOMANA_DATA_DIR", str(copy))

    values = valid_values("bbc_microbit_v2", "snap")
    make_spec("kit_enclosure", {**values, "battery": NO_BATTERY})
    with pytest.raises(InputError) as err:
        make_spec("kit_enclosure", {**values, "battery": _widest_battery()})
    assert err.value.field == "battery"
    assert "BBC micro:bit V2's USB connector" in err.value.message and "battery=none" in err.value.message


def test_the_plug_check_fails_for_a_socket_sized_hole():
    """The test above can fail: with the cut-out only as big as the micro-B socket, the plug hits the wall."""
    spec = make_spec("kit_enclosure", valid_values("raspberry_pi_pico", "snap"))
    product = build(spec)
    b = Board("raspberry_pi_pico")
    b.plug_width, b.plug_height = b.plug_width + 6, b.plug_height  # a plug wider than the cut-out
    assert common_volume_mm3(product.parts["base"], plug_body(product, b)) > 1.0


@pytest.mark.parametrize("board", board_ids())
def test_standoffs_clear_what_hangs_under_the_board(board):
    b = Board(board)
    too_low = b.underside + UNDERSIDE_CLEARANCE_MM - 0.5
    if too_low >= 3.0:  # the range's minimum; lower is refused by the range itself
        with pytest.raises(InputError) as err:
            make_spec("kit_enclosure", {"board": board, "standoff_height": too_low})
        assert err.value.field == "standoff_height" and "below the board" in err.value.message
    make_spec("kit_enclosure", valid_values(board, "snap"))


def test_the_microbit_lid_opens_over_its_led_matrix_and_buttons():
    product = build(make_spec("kit_enclosure", {"board": "bbc_microbit_v2", "text": "Class 4B"}))
    lid_assembled = apply_matrix(product.parts["lid"], product.placement("lid"))
    spec = product.spec
    z = spec.dims().base_h + spec.lid_thickness / 2  # mid-plate, assembled
    windows = Board("bbc_microbit_v2").windows
    assert len(windows) == 3
    from somana_core.geometry.kernel import vector
    for x, y, w, h in windows:  # open at the centre and near every corner of each window
        for dx, dy in ((0, 0), (w / 2 - 0.3, h / 2 - 0.3), (-w / 2 + 0.3, -h / 2 + 0.3)):
            assert not lid_assembled.isInside(vector(x + dx, y + dy, z))
        assert lid_assembled.isInside(vector(x + w / 2 + 0.4, y, z)) or x + w / 2 + 0.4 > spec.dims().outer_x / 2 - 0.1
