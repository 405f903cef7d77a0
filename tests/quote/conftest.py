from __future__ import annotations

import shutil

import pytest

from somana_core.data import data_dir


@pytest.fixture
def metrics():
    """Geometry metrics of a two-part enclosure, in the shape `Product.metrics()` returns."""
    parts = {
        "base": {"volume_mm3": 30000.0, "area_mm2": 25000.0, "bbox_mm": [90.0, 70.0, 30.0], "mass_g": 37.2,
                 "material_cost_usd": 0.93},
        "lid": {"volume_mm3": 12000.0, "area_mm2": 11000.0, "bbox_mm": [90.0, 70.0, 5.0], "mass_g": 14.88,
                "material_cost_usd": 0.372},
    }
    total = {k: sum(p[k] for p in parts.values()) for k in ("volume_mm3", "area_mm2", "mass_g", "material_cost_usd")}
    return {"parts": parts, "total": total, "material": "PLA"}


@pytest.fixture
def edit_data(tmp_path, monkeypatch):
    """A private copy of data/ (SOMANA_DATA_DIR) and a function that rewrites one row's value."""
    copy = tmp_path / "data"
    shutil.copytree(data_dir(), copy)
    monkeypatch.setenv("SOMANA_DATA_DIR", str(copy))

    def edit(table: str, match: str, new_line: str) -> None:
        path = copy / table
        lines = path.read_text().splitlines()
        hits = [i for i, line in enumerate(lines) if line.startswith(match)]
        assert len(hits) == 1, (table, match, hits)
        lines[hits[0]] = new_line
        path.write_text("\n".join(lines) + "\n")

    return edit


@pytest.fixture
def tiny():
    from tests.quote.tiny_factory import tiny_assumptions

    return tiny_assumptions()
