"""One set of numbers: the quote, /portfolio's scenario and the published site give the same figure for the
same inputs, because they read ONE `FounderAssumptions` and price through the same functions."""

from __future__ import annotations

import shutil

import pytest

from somana_core import story
from somana_core.data import data_dir
from somana_core.economics import family_plans, founder_assumptions, whole_usd
from somana_core.quote import quote_metrics
from somana_core.scenarios import Scenario


def _typical_quote(family: str):
    """The quote of a family's typical order (the print time and filament it plans with)."""
    unit = founder_assumptions().typical_units[family]
    return quote_metrics({}, family, qty=unit.units_per_order, material=unit.material, machine=unit.machine,
                         print_time_s=unit.print_hours * 3600, filament_g=unit.filament_g, heat_formed=unit.heat_formed)


def _agree():
    scenario = Scenario()
    table = scenario.family_table().set_index("family")
    site = story.margins(1.0).set_index("family")
    income = 0.0
    for family in scenario.families:
        q = _typical_quote(family)
        assert q.unit_price == scenario.prices[family] == table.loc[family, "price_usd"] == site.loc[family, "price_usd"]
        assert q.unit_cost == table.loc[family, "absorbed_unit_cost_usd"] == site.loc[family, "absorbed_unit_cost_usd"]
        assert q.variable_unit_cost == table.loc[family, "variable_cost_usd"] == site.loc[family, "variable_cost_usd"]
        assert q.contribution_margin == pytest.approx(site.loc[family, "contribution_margin"], abs=1e-4)
        assert q.operating_margin == pytest.approx(site.loc[family, "operating_margin_at_plan"], abs=1e-4)
        income += scenario.monthly_units[family] * (q.unit_price - q.variable_unit_cost)
    income -= founder_assumptions().fixed_costs.total
    assert scenario.summary()["operating_income_per_month_usd"] == pytest.approx(income, abs=1e-6)
    assert story.break_even_story(1.0, 0.0)["operating_income_usd_per_month"] == pytest.approx(income, abs=1e-6)
    return income


def test_quote_portfolio_and_site_agree_on_prices_costs_margins_and_income():
    income = _agree()
    # by hand from the tables (typical units as `somana typical-units --write` derived them on 2026-12-03,
    # the eyewear front printed flat and heat-formed: 5 more minutes of labour, less overhead per enclosure):
    # 120 x (98.48 - 20.4996) + 80 x (87.12 - 20.9153) + 30 x (300.00 - 13.8636) - 12,500
    assert income == pytest.approx(120 * (98.48 - 20.4996) + 80 * (87.12 - 20.9153) + 30 * (300 - 13.8636) - 12500,
                                   abs=0.01)
    assert whole_usd(income) == 10738


def test_they_still_agree_after_a_founder_edits_the_tables(tmp_path, monkeypatch):
    copy = tmp_path / "data"
    shutil.copytree(data_dir(), copy)
    for name, old, new in (("factory_assumptions.csv", "rent_per_month,,2500,", "rent_per_month,,4100,"),
                           ("pricing_policy.csv", "eyewear_frame,market_band,0.30,0.2,", "eyewear_frame,cost_plus,0.5,,"),
                           ("quote_assumptions.csv", "components_usd,kit_enclosure,18,", "components_usd,kit_enclosure,25,")):
        table = copy / name
        text = table.read_text()
        assert old in text
        table.write_text(text.replace(old, new))
    monkeypatch.setenv("SOMANA_DATA_DIR", str(copy))
    _agree()
    assert _typical_quote("eyewear_frame").pricing.method == "cost_plus"


def test_one_salvage_value_one_mto_premium_one_labour_rate():
    a = founder_assumptions()
    assert a.salvage_fraction == 0.10 and a.mto_cost_premium == 0.15
    assert a.labour_rate_usd_per_h == 30.0  # 4500 USD / 150 productive hours
    pushed = story.push_pull_story("eyewear_frame")
    assert pushed["salvage_value_usd"] == pytest.approx(0.10 * pushed["variable_cost_usd"])
    assert pushed["mto_unit_cost_usd"] == pytest.approx(1.15 * pushed["variable_cost_usd"])
    scenario = Scenario(focus_family="eyewear_frame")
    mto = scenario.push_vs_mto()
    assert mto["salvage_value_usd"] == pytest.approx(pushed["salvage_value_usd"])
    assert mto["mto_unit_cost_usd"] == pytest.approx(pushed["mto_unit_cost_usd"])
    # a 15-minute changeover: 7.50 USD on the site, on /portfolio and in the quote's setup line (5 min = 2.50)
    assert story.eoq_story("eyewear_frame", 15)["setup_cost_usd"] == pytest.approx(7.50)
    assert scenario.eoq_curves()["today"]["setup_cost_usd"] == pytest.approx(7.50)
    setup = [line for line in _typical_quote("sensor_enclosure").lines if line.name == "setup_labour"][0]
    assert setup.inputs["labour_usd_per_h"] == 30.0 and setup.amount_usd == pytest.approx(2.50)


def test_plans_absorb_the_month():
    a = founder_assumptions()
    plans = family_plans(a)
    absorbed = sum(p.planned_units * p.unit_cost_usd for p in plans.values())
    variable = sum(p.planned_units * p.variable_cost_usd for p in plans.values())
    assert absorbed == pytest.approx(a.fixed_costs.total + variable, rel=1e-6)


@pytest.mark.parametrize("x, shown", [(7731.5, 7732), (7731.49, 7731), (-0.5, -1), (-1234.5, -1235), (0.4, 0)])
def test_whole_dollars_round_half_away_from_zero(x, shown):
    assert whole_usd(x) == shown
