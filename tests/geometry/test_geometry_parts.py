"""Built products: every part one valid solid, its STL watertight and true to the solid's volume,
exports readable, parts laid out apart on the plate, metrics consistent with the materials table."""

from __future__ import annotations

import cadquery as cq
import numpy as np
import pytest
import trimesh

from somana_core.errors import InputError
from somana_core.geometry import FAMILIES, build, make_spec, material_row
from somana_core.geometry.spec import machine_row
from somana_core.geometry.kernel import bounding_box

PARTS = [(family, part) for family, cls in FAMILIES.items() for part in cls.parts]


@pytest.mark.parametrize("family, part", PARTS)
def test_default_parts_are_printable(defaults, checks, tmp_path, family, part):
    checks.part_printable(defaults[family], part, tmp_path)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_all_parts_go_into_one_stl_as_separate_bodies_apart_on_the_plate(defaults, tmp_path, family):
    product = defaults[family]
    path = product.export(tmp_path / "plate.stl")
    mesh = trimesh.load(path, process=False)
    mesh.merge_vertices()
    bodies = mesh.split(only_watertight=False)
    assert len(bodies) == len(product.parts)
    assert all(b.is_watertight for b in bodies)
    boxes = sorted((b.bounds for b in bodies), key=lambda bb: (bb[0][1], bb[0][0]))
    for i, a in enumerate(boxes):
        assert a[0][2] == pytest.approx(0, abs=1e-3), "every body rests on the plate"
        for b in boxes[i + 1:]:
            apart = (a[1][0] <= b[0][0] or b[1][0] <= a[0][0] or a[1][1] <= b[0][1] or b[1][1] <= a[0][1])
            assert apart, "bodies overlap on the plate"
    bed = machine_row(product.values["machine"])
    size = mesh.bounds[1] - mesh.bounds[0]
    assert size[0] <= bed["build_x_mm"] and size[1] <= bed["build_y_mm"] and size[2] <= bed["build_z_mm"]
    total = sum(s.Volume() for s in product.parts.values())
    assert mesh.volume == pytest.approx(total, rel=0.005)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_3mf_holds_one_watertight_object_per_part(defaults, checks, tmp_path, family):
    product = defaults[family]
    objects = checks.read_3mf(product.export(tmp_path / "plate.3mf"))
    assert len(objects) == len(product.parts)
    for obj, shape in zip(objects, product.parts.values()):
        assert obj.is_watertight and obj.volume == pytest.approx(shape.Volume(), rel=0.005)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_step_round_trip_keeps_every_solid(defaults, tmp_path, family):
    product = defaults[family]
    path = product.export(tmp_path / "plate.step")
    solids = cq.importers.importStep(str(path)).val().Solids()  # (.solids() would merge equal temples)
    assert len(solids) == len(product.parts)
    assert all(s.isValid() for s in solids)
    assert sorted(s.Volume() for s in solids) == pytest.approx(sorted(s.Volume() for s in product.parts.values()),
                                                              rel=1e-4)
    first = next(iter(product.parts))
    one = product.export(tmp_path / "one.step", part=first)
    assert len(cq.importers.importStep(str(one)).val().Solids()) == 1


def test_export_refuses_unknown_suffix_and_part_without_writing(defaults, tmp_path):
    product = defaults["sensor_enclosure"]
    with pytest.raises(InputError) as err:
        product.export(tmp_path / "x.obj")
    assert err.value.field == "out"
    with pytest.raises(InputError) as err:
        product.export(tmp_path / "x.stl", part="handle")
    assert err.value.field == "part" and "base, lid" in err.value.message
    assert list(tmp_path.iterdir()) == []


def test_export_writes_atomically_and_leaves_no_temp_files(defaults, tmp_path):
    product = defaults["kit_enclosure"]
    target = tmp_path / "box.stl"
    target.write_bytes(b"old")
    product.export(target)
    assert target.read_bytes()[:5] != b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["box.stl"]


@pytest.mark.parametrize("material", ["PLA", "PETG", "ASA", "PA12"])
def test_metrics_follow_the_materials_table(defaults, material):
    product = defaults["sensor_enclosure"]
    metrics = product.metrics(material)
    row = material_row(material)
    assert metrics["material"] == material
    for name, shape in product.parts.items():
        m = metrics["parts"][name]
        assert m["volume_mm3"] == pytest.approx(shape.Volume())
        assert m["mass_g"] == pytest.approx(m["volume_mm3"] / 1000 * row["density_g_cm3"])
        assert m["material_cost_usd"] == pytest.approx(m["mass_g"] / 1000 * row["price_usd_per_kg"])
        # OCC's exact box, not shape.BoundingBox(): that one reads the triangulation once a part has
        # been meshed (an earlier export or preview) and came out 0.085 mm too large in a full run.
        lo, hi = bounding_box(shape)
        assert m["bbox_mm"] == pytest.approx(list(hi - lo), abs=0.05)
    assert metrics["total"]["mass_g"] == pytest.approx(sum(p["mass_g"] for p in metrics["parts"].values()))
    with pytest.raises(InputError):
        product.metrics("unobtainium")


def test_edited_materials_table_changes_the_cost(defaults, tmp_path, monkeypatch):
    import shutil

    from somana_core.data import data_dir

    for name in ("materials.csv", "machines.csv", "boards.csv", "batteries.csv"):
        shutil.copy(data_dir() / name, tmp_path / name)
    table = (tmp_path / "materials.csv").read_text().replace(",1.24,25.0,", ",1.24,50.0,")
    (tmp_path / "materials.csv").write_text(table)
    before = defaults["sensor_enclosure"].metrics("PLA")["total"]["material_cost_usd"]
    monkeypatch.setenv("SOMANA_DATA_DIR", str(tmp_path))
    after = defaults["sensor_enclosure"].metrics("PLA")["total"]["material_cost_usd"]
    assert after == pytest.approx(2 * before)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_parts_rest_on_the_plate_within_their_declared_envelope(defaults, family):
    product = defaults[family]
    envelopes = product.spec.part_envelopes()
    for name, shape in product.parts.items():
        lo, hi = bounding_box(shape)
        assert lo[2] == pytest.approx(0, abs=1e-6)
        x, y, z = envelopes[name]
        size = hi - lo
        assert size[0] <= x + 1e-3 and size[1] <= y + 1e-3 and size[2] <= z + 1e-3, name


def test_unicode_names_are_engraved(tmp_path, checks):
    product = build(make_spec("kit_enclosure", {"text": "Zoë Ωμέγα", "text_size": "6"}))
    checks.part_printable(product, "lid", tmp_path)
    plain = build(make_spec("kit_enclosure", {"text": "", "text_size": "6"}))
    engraved = product.parts["lid"].Volume()
    assert engraved < plain.parts["lid"].Volume() - 5  # letters removed material
    assert np.isfinite(engraved)
