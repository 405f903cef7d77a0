"""The portfolio explorer's scenario model: its figures agree with the economics core and move with the controls."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest

from somana_core.data import data_dir
from somana_core.economics import (family_plans, founder_assumptions, learning_curve, monthly_fixed_costs,
                                   planned_monthly_units)
from somana_core.errors import InputError
from somana_core.scenarios import Scenario


@pytest.fixture(scope="module")
def base():
    return Scenario()


def test_defaults_are_the_quotes_costs_and_the_policys_prices(base):
    plans = family_plans(founder_assumptions())
    table = base.family_table().set_index("family")
    for family, plan in plans.items():
        row = table.loc[family]
        assert row["price_usd"] == plan.price.unit_price_usd
        assert row["variable_cost_usd"] == plan.variable_cost_usd
        assert row["absorbed_unit_cost_usd"] == plan.unit_cost_usd
        assert row["contribution_per_month_usd"] == pytest.approx(
            planned_monthly_units()[family] * (plan.price.unit_price_usd - plan.variable_cost_usd))
    assert sum(base.fixed_costs().values()) == pytest.approx(monthly_fixed_costs().total)
    assert base.monthly_units == planned_monthly_units()


def test_operating_income_at_plan_is_revenue_less_the_absorbed_costs(base):
    table = base.family_table()
    absorbed = (table["monthly_units"] * table["absorbed_unit_cost_usd"]).sum()
    revenue = table["revenue_per_month_usd"].sum()
    # every cost line of a unit is kept to 4 decimals, some from a 4-decimal hourly rate times hours, and the
    # unit cost is their sum rounded again: allow 0.0001 USD per line per unit (0.14 USD on about 10,700 a month)
    plans = base.plans()
    rounding = sum(0.0001 * (len(plans[f].lines) + 1) * units
                   for f, units in zip(table["family"], table["monthly_units"]))
    assert base.summary()["operating_income_per_month_usd"] == pytest.approx(revenue - absorbed, abs=rounding)


def test_break_even_is_fixed_costs_over_the_mix_weighted_contribution(base):
    table = base.family_table()
    units = table["monthly_units"].sum()
    per_unit = (table["contribution_per_month_usd"].sum()) / units
    summary = base.summary()
    assert summary["breakeven_units_per_month"] == pytest.approx(monthly_fixed_costs().total / per_unit)
    income = table["contribution_per_month_usd"].sum() - monthly_fixed_costs().total
    assert summary["operating_income_per_month_usd"] == pytest.approx(income)
    assert summary["degree_of_operating_leverage"] == pytest.approx(table["contribution_per_month_usd"].sum() / income)


def test_automation_cut_scales_fixed_costs_and_break_even():
    scenario = Scenario()
    before = scenario.summary()
    scenario.automation_cut = 0.3
    after = scenario.summary()
    assert after["fixed_costs_per_month_usd"] == pytest.approx(0.7 * before["fixed_costs_per_month_usd"])
    assert after["breakeven_units_per_month"] == pytest.approx(0.7 * before["breakeven_units_per_month"])


def test_raising_a_price_raises_margin_and_lowers_break_even():
    scenario = Scenario()
    before = scenario.summary()["breakeven_units_per_month"]
    low, high = scenario.price_band("eyewear_frame")
    scenario.prices = {**scenario.prices, "eyewear_frame": high}
    row = scenario.family_table().set_index("family").loc["eyewear_frame"]
    assert row["contribution_margin"] == pytest.approx(1 - row["variable_cost_usd"] / high)
    assert row["operating_margin_at_plan"] == pytest.approx(1 - row["absorbed_unit_cost_usd"] / high)
    assert scenario.summary()["breakeven_units_per_month"] < before


def test_a_price_outside_its_band_is_refused_with_the_band():
    scenario = Scenario()
    scenario.prices = {**scenario.prices, "kit_enclosure": 10.0}
    with pytest.raises(InputError) as err:
        scenario.summary()
    assert "kit_enclosure" in err.value.message and "60-95" in err.value.message


def test_a_policy_price_outside_the_band_is_offered_and_checked(tmp_path, monkeypatch):
    copy = tmp_path / "data"
    shutil.copytree(data_dir(), copy)
    table = copy / "pricing_policy.csv"
    table.write_text(table.read_text().replace("kit_enclosure,cost_plus,0.15,", "kit_enclosure,cost_plus,0.40,"))
    monkeypatch.setenv("SOMANA_DATA_DIR", str(copy))
    scenario = Scenario()
    asked = scenario.prices["kit_enclosure"]
    assert asked > 95 and scenario.price_range("kit_enclosure") == (60.0, asked)
    assert scenario.family_table().set_index("family").loc["kit_enclosure", "price_usd"] == asked


def test_operating_curve_crosses_zero_at_break_even(base):
    curve = base.operating_curve()
    be = base.summary()["breakeven_units_per_month"]
    below = curve[curve["monthly_units"] < be]["operating_income_usd"]
    above = curve[curve["monthly_units"] > be]["operating_income_usd"]
    assert (below < 0).all() and (above > 0).all()
    assert np.isnan(curve[curve["monthly_units"] < be]["dol"]).all()


def test_learning_points_follow_wrights_law():
    scenario = Scenario(learning_rate=0.8)
    points = scenario.learning_points().set_index("cumulative_units")
    first = scenario.plans()[scenario.focus_family].unit_cost_usd
    assert points.loc[1, "unit_cost_usd"] == pytest.approx(first)
    assert points.loc[2, "unit_cost_usd"] == pytest.approx(0.8 * first)
    n = points.index[-1]
    direct = learning_curve(first, 0.8, n, "crawford_unit").unit_cost_n
    assert points.loc[n, "unit_cost_usd"] == pytest.approx(direct)


def test_shorter_changeover_gives_a_smaller_economic_batch():
    scenario = Scenario()
    today = scenario.today_changeover_minutes
    scenario.changeover_minutes = today / 4
    data = scenario.eoq_curves()
    assert data["today"]["changeover_minutes"] == today
    # EOQ grows with the square root of the setup cost
    assert data["scenario"]["eoq_units"] == pytest.approx(data["today"]["eoq_units"] / 2)
    # one changeover: its minutes at the labour rate, 4500 USD / 150 h = 30 USD/h (the quote's rate)
    assert data["scenario"]["setup_cost_usd"] == pytest.approx(today / 4 / 60 * 30.0)
    assert data["today"]["setup_cost_usd"] == pytest.approx(15 / 60 * 30.0) == pytest.approx(7.5)


def test_crossover_ranges_are_the_cheapest_process_at_each_quantity(base):
    data = base.crossover_curves()
    lines = data["total_cost_usd"]
    for r in data["ranges"]:
        q = r.from_units * 1.01 + 0.5 if r.to_units is None else (r.from_units + r.to_units) / 2
        costs = {name: np.interp(q, data["quantity"], cost) for name, cost in lines.items()}
        assert min(costs, key=costs.get) == r.process


def test_push_vs_mto_distributions_have_the_monte_carlo_means(base):
    data = base.push_vs_mto()
    assert data["push_profit_usd"].mean() == pytest.approx(data["result"].push_expected_profit)
    assert data["mto_profit_usd"].mean() == pytest.approx(data["result"].mto_expected_profit)


def test_longer_changeover_makes_make_to_order_dearer():
    scenario = Scenario()
    short = scenario.push_vs_mto()["result"].pull_advantage
    scenario.changeover_minutes = scenario.param.changeover_minutes.bounds[1]
    assert scenario.push_vs_mto()["result"].pull_advantage < short


def test_scenario_round_trips_through_json():
    scenario = Scenario()
    scenario.param.update(automation_cut=0.2, changeover_minutes=5.0, learning_rate=0.75,
                          monthly_units={**scenario.monthly_units, "eyewear_frame": 55.0},
                          focus_family="eyewear_frame")
    products = scenario.products.copy()
    products.loc[products["family"] == "kit_enclosure", "price_high_usd"] = 99.0
    scenario.products = products
    text = scenario.to_json()
    loaded = Scenario()
    loaded.apply_json(text)
    assert loaded.to_dict() == json.loads(text)
    assert loaded.summary() == scenario.summary()


@pytest.mark.parametrize("text, words", [("not json", "not JSON"), ('{"format": "other"}', "not a saved scenario")])
def test_bad_scenario_files_are_refused(text, words):
    scenario = Scenario()
    with pytest.raises(InputError) as err:
        scenario.apply_json(text)
    assert words in err.value.message


def test_a_bad_scenario_changes_nothing():
    scenario = Scenario()
    before = scenario.to_dict()
    bad = dict(before, prices={**before["prices"], "sensor_enclosure": 1000.0}, automation_cut=0.4)
    with pytest.raises(InputError):
        scenario.apply_dict(bad)
    assert scenario.to_dict() == before


def test_edited_data_tables_change_the_figures(tmp_path, monkeypatch):
    copy = tmp_path / "data"
    shutil.copytree(data_dir(), copy)
    text = (copy / "factory_assumptions.csv").read_text().replace("rent_per_month,,2500", "rent_per_month,,5000")
    (copy / "factory_assumptions.csv").write_text(text)
    before = Scenario().summary()["fixed_costs_per_month_usd"]
    monkeypatch.setenv("SOMANA_DATA_DIR", str(copy))
    assert Scenario().summary()["fixed_costs_per_month_usd"] == pytest.approx(before + 2500)
    assert not math.isnan(Scenario().summary()["breakeven_units_per_month"])


def test_learning_rate_and_mto_premium_come_from_the_factory_assumptions(base):
    from somana_core.economics import assumption

    assert base.learning_rate == assumption("learning_rate")
    data = base.push_vs_mto()
    cost = base.plans()[base.focus_family].variable_cost_usd
    assert data["mto_unit_cost_usd"] == pytest.approx(cost * (1 + 0.15))  # mto_cost_premium
    assert data["salvage_value_usd"] == pytest.approx(cost * 0.10)  # salvage_fraction_of_cost, the one value
    assert assumption("salvage_fraction_of_cost") == 0.10 and assumption("mto_cost_premium") == 0.15
