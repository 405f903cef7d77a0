"""The seams of the geometry package: the builder contract, the kernel door, the one catalogue."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from somana_core.geometry import FAMILIES, Builder, PartInputs, make_spec

ROOT = Path(__file__).resolve().parents[2]
GEOMETRY = ROOT / "somana_core" / "geometry"
CATALOGUE_TABLES = ("machines.csv", "materials.csv", "boards.csv", "batteries.csv", "lens_blanks.csv", "eyewear_fit.csv")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_family_registers_a_builder_that_meets_the_protocol(family):
    builder = FAMILIES[family].builder
    assert isinstance(builder, Builder)
    for method in ("build_part", "print_rotation", "print_lift", "placement"):
        assert callable(getattr(builder, method))


def test_only_the_kernel_imports_cadquery_or_ocp():
    offenders = [p.name for p in GEOMETRY.glob("*.py")
                 if p.name != "kernel.py" and _imports(p) & {"cadquery", "OCP"}]
    assert offenders == []
    assert {"cadquery", "OCP"} <= _imports(GEOMETRY / "kernel.py")


def test_the_catalogue_is_the_only_reader_of_the_shop_tables():
    readers = []
    for folder in ("somana_core", "dashboards", "somana"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "catalogue.py":
                continue
            text = path.read_text()
            for table in CATALOGUE_TABLES:
                if re.search(rf"read_(table|csv)\([^)]*{re.escape(table)}", text):
                    readers.append(f"{path.relative_to(ROOT)}: {table}")
    assert readers == []


def test_part_inputs_refuse_a_name_the_part_does_not_list():
    spec = make_spec("sensor_enclosure", {})
    inputs = spec.part_values("lid")
    assert isinstance(inputs, PartInputs) and inputs.wall == spec.wall
    with pytest.raises(AttributeError, match="vent_count"):
        inputs.vent_count  # the lid does not read vents: reading it would poison the part cache
    with pytest.raises(AttributeError):
        inputs.wall = 3.0


def test_removed_helpers_stay_removed():
    import somana_core.geometry as geometry
    from somana_core.geometry import kernel

    assert not hasattr(kernel, "combine") and not hasattr(kernel, "cylinder_z")
    assert not hasattr(geometry, "check_build_volume") and not hasattr(geometry, "family_module")
    assert not (GEOMETRY / "toolkit.py").exists()
