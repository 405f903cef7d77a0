"""Every valid order printable: plates inside the bed, poses without long bridges, and a bounded fuzz
in which every plate of random valid orders slices with the real PrusaSlicer."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from somana_core.catalogue import machine_envelope
from somana_core.geometry import FAMILIES, build, make_spec
from somana_core.geometry.fuzz import random_valid_specs
from somana_core.geometry.plates import BED_EDGE_MM, pack, usable_bed
from somana_core.geometry.printability import MAX_BRIDGE_MM, longest_bridge_mm

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from fuzz_slice import check_order  # noqa: E402  (the benchmark's own check, run on fewer orders)

FUZZ_ORDERS_PER_FAMILY = 2  # each order slices every plate (seconds each): the benchmark runs more


def test_pack_keeps_parts_inside_the_usable_bed_and_apart():
    plates = pack({"a": (100, 80), "b": (90, 60), "c": (60, 20)}, 180, 180)
    ux, uy = usable_bed(180, 180)
    placed = [p for plate in plates for p in plate]
    assert sorted(p.part for p in placed) == ["a", "b", "c"]
    for plate in plates:
        for p in plate:
            assert p.x_mm >= BED_EDGE_MM and p.y_mm >= BED_EDGE_MM
            assert p.x_mm + p.size_x_mm <= BED_EDGE_MM + ux and p.y_mm + p.size_y_mm <= BED_EDGE_MM + uy
        for i, p in enumerate(plate):
            for q in plate[i + 1:]:
                apart_x = p.x_mm + p.size_x_mm <= q.x_mm or q.x_mm + q.size_x_mm <= p.x_mm
                apart_y = p.y_mm + p.size_y_mm <= q.y_mm or q.y_mm + q.size_y_mm <= p.y_mm
                assert apart_x or apart_y


def test_pack_turns_a_part_that_only_fits_turned_and_splits_what_cannot_share():
    [[only]] = pack({"long": (60, 150)}, 250, 100)
    assert only.turned and only.size_x_mm == 150
    plates = pack({"a": (160, 160), "b": (160, 160)}, 180, 180)
    assert len(plates) == 2
    with pytest.raises(ValueError, match="a"):
        pack({"a": (175, 175)}, 180, 180)  # inside the bed, but not inside its skirt edge


def test_the_issues_large_order_lays_out_on_two_plates_inside_the_mini(tmp_path):
    product = build(make_spec("sensor_enclosure", {"pcb_length": 120, "pcb_width": 90, "machine": "prusa_mini"}))
    plates = product.plates()
    assert [sorted(p) for p in plates] == [["base"], ["lid"]]


@pytest.mark.parametrize("family, values", [
    ("sensor_enclosure", {"text_style": "embossed"}),
    ("sensor_enclosure", {"text_style": "embossed", "lid_fit": "screw", "pcb_length": 150, "pcb_width": 110}),
    ("kit_enclosure", {"text_style": "embossed", "battery": "aa_2x_holder"}),
    ("sensor_enclosure", {}),
    ("eyewear_frame", {}),
])
def test_every_part_prints_without_a_long_bridge(family, values):
    product = build(make_spec(family, values))
    for name in product.parts:
        mesh = product.mesh(name, 0.1)
        assert longest_bridge_mm(mesh.vertices, mesh.triangles) <= MAX_BRIDGE_MM, name


def test_ribs_keep_an_upright_lids_bridge_far_below_its_inner_width():
    """Without ribs an embossed lid's plate would bridge the lip's whole inside (about 90 mm here)."""
    from somana_core.geometry import enclosure

    product = build(make_spec("sensor_enclosure", {"text_style": "embossed", "pcb_width": 90}))
    inner = product.spec.dims().cavity_y
    mesh = product.mesh("lid", 0.1)
    assert longest_bridge_mm(mesh.vertices, mesh.triangles) <= enclosure.BRIDGE_PITCH_MM < inner / 4


@pytest.mark.parametrize("family", list(FAMILIES))
def test_fuzz_every_plate_of_random_valid_orders_slices(family, tmp_path):
    specs, _ = random_valid_specs(family, FUZZ_ORDERS_PER_FAMILY, seed=0)
    assert len(specs) == FUZZ_ORDERS_PER_FAMILY
    for i, spec in enumerate(specs):
        folder = tmp_path / str(i)
        folder.mkdir()
        result = check_order(spec, folder)
        assert result["failures"] == [], (spec.values(), result)
        bed = machine_envelope(spec.machine)
        assert result["plates"] >= 1 and bed["x_mm"] > 0
