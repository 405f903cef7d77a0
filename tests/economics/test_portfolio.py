"""The portfolio table and model: family ids, bands from the seed, contribution at a mix, edited data."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from somana_core.economics import (family_bands, load_portfolio, monthly_fixed_costs, planned_monthly_units,
                                   portfolio_bands, portfolio_contribution, portfolio_families)
from somana_core.economics.assumptions import load_factory_assumptions, load_process_costs

DATA = Path(__file__).resolve().parents[2] / "data"


def test_families_carry_the_ids_other_code_joins_on_and_the_seed_figures():
    """Figures from ../shared/seeds/000_d4f5bbfc4e785396.txt (product portfolio research)."""
    families = portfolio_families()
    assert list(families) == ["sensor_enclosure", "kit_enclosure", "eyewear_frame"]
    sensor, kit, eyewear = families.values()
    assert (sensor.price_low, sensor.price_high, sensor.gross_margin_low, sensor.gross_margin_high) == (
        50, 120, 0.5, 0.7)
    assert (kit.price_low, kit.price_high, kit.gross_margin_low, kit.gross_margin_high) == (60, 95, 0.55, 0.7)
    assert (eyewear.price_low, eyewear.price_high, eyewear.gross_margin_low, eyewear.gross_margin_high) == (
        175, 800, 0.6, 0.8)
    assert (eyewear.material_cost_low, eyewear.material_cost_high) == (5, 20)
    assert sensor.material_cost_low is None
    assert all(f.source and f.display_name for f in families.values())


def test_implied_cogs_band_spans_the_price_and_margin_rectangle():
    eyewear = family_bands(portfolio_families()["eyewear_frame"])
    assert eyewear.cogs_low == pytest.approx(175 * 0.2) and eyewear.cogs_high == pytest.approx(800 * 0.4)
    assert eyewear.gross_profit_low == pytest.approx(105) and eyewear.gross_profit_high == pytest.approx(640)
    table = portfolio_bands()
    assert list(table["family"]) == ["sensor_enclosure", "kit_enclosure", "eyewear_frame"]
    assert table.loc[0, "cogs_low"] == pytest.approx(15.0) and table.loc[0, "cogs_high"] == pytest.approx(60.0)


def test_contribution_at_a_mix_by_hand():
    # 10 sensors at the top of both bands ($120, 70%) and 2 frames at the bottom ($175, 60%).
    r = portfolio_contribution({"sensor_enclosure": 10, "eyewear_frame": 2},
                               price_position={"sensor_enclosure": 1, "kit_enclosure": 0, "eyewear_frame": 0},
                               margin_position={"sensor_enclosure": 1, "kit_enclosure": 0, "eyewear_frame": 0})
    assert r.total_units == 12 and r.total_revenue == pytest.approx(1200 + 350)
    assert r.total_contribution == pytest.approx(840 + 210)
    assert r.total_cogs == pytest.approx(360 + 140)
    assert r.contribution_margin_ratio == pytest.approx(1050 / 1550)
    assert r.average_price_per_unit == pytest.approx(1550 / 12)
    kit = [f for f in r.families if f.family == "kit_enclosure"][0]
    assert kit.units == 0 and kit.revenue == 0


def test_default_mix_is_the_planned_volume_from_the_assumptions_table():
    planned = planned_monthly_units()
    assert set(planned) == {f.family for f in load_portfolio()}
    assert portfolio_contribution().total_units == pytest.approx(sum(planned.values()))


def test_mix_arrays_sweep_scenarios_and_an_empty_mix_has_undefined_ratios():
    r = portfolio_contribution({"kit_enclosure": np.array([0.0, 10.0, 20.0])}, price_position=0, margin_position=0)
    assert r.total_revenue == pytest.approx([0, 600, 1200])
    assert list(r.contribution_margin_ratio.mask) == [True, False, False]
    assert r.contribution_margin_ratio[2] == pytest.approx(0.55)
    assert portfolio_contribution({}).contribution_margin_ratio is None


def test_bad_mix_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown families"):
        portfolio_contribution({"teapot": 3})
    with pytest.raises(ValueError, match=r"mix_units\[eyewear_frame\]=-1"):
        portfolio_contribution({"eyewear_frame": -1})
    with pytest.raises(ValueError, match="price_position=1.5"):
        portfolio_contribution({"eyewear_frame": 1}, price_position=1.5)


def test_every_assumption_row_is_marked_and_sourced():
    for table in (load_factory_assumptions(), load_process_costs()):
        assert set(table["kind"]) == {"assumption"}
        assert table["source"].str.len().min() > 0
    costs = monthly_fixed_costs()
    assert costs.total == pytest.approx(costs.rent + costs.wages + costs.utilities + costs.software_and_insurance
                                        + costs.printer_depreciation)


def test_edited_data_changes_the_results(tmp_path, monkeypatch):
    for name in ("portfolio.csv", "factory_assumptions.csv", "process_costs.csv"):
        shutil.copy(DATA / name, tmp_path / name)
    text = (tmp_path / "portfolio.csv").read_text().replace("sensor_enclosure,IoT environmental sensor in a custom "
                                                            "enclosure,50,120", "sensor_enclosure,IoT environmental "
                                                            "sensor in a custom enclosure,55,120")
    (tmp_path / "portfolio.csv").write_text(text)
    monkeypatch.setenv("SOMANA_DATA_DIR", str(tmp_path))
    assert portfolio_families()["sensor_enclosure"].price_low == 55


def test_a_broken_margin_band_is_reported(tmp_path, monkeypatch):
    shutil.copy(DATA / "portfolio.csv", tmp_path / "portfolio.csv")
    text = (tmp_path / "portfolio.csv").read_text().replace(",0.60,0.80,", ",0.90,0.80,")
    (tmp_path / "portfolio.csv").write_text(text)
    monkeypatch.setenv("SOMANA_DATA_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="eyewear_frame margin band"):
        load_portfolio()
