"""The investor story's figures come from the economics core and the data tables."""

import shutil

import numpy as np
import pytest

from somana_core import economics as econ
from somana_core import story
from somana_core.data import data_dir
from somana_core.errors import InputError


def test_break_even_is_the_core_break_even_of_the_cut_fixed_costs():
    cut = story.steps("automation_fixed_cost_cut")[-1]
    s = story.break_even_story(1.0, cut)
    plans = econ.family_plans(econ.founder_assumptions())
    units = econ.planned_monthly_units()
    total = sum(units.values())
    price = sum(units[f] * p.price.unit_price_usd for f, p in plans.items()) / total
    variable = sum(units[f] * p.variable_cost_usd for f, p in plans.items()) / total
    expected = econ.break_even(econ.monthly_fixed_costs().total * (1 - cut), price, variable)
    assert s["break_even_units_per_month"] == pytest.approx(float(expected.breakeven_units))
    assert s["break_even_units_per_month"] < story.break_even_story(1.0, 0.0)["break_even_units_per_month"]


def test_a_shorter_changeover_shrinks_the_economic_batch_by_the_square_root():
    long_, short = story.eoq_story("sensor_enclosure", 60), story.eoq_story("sensor_enclosure", 15)
    assert short["eoq_units"] / long_["eoq_units"] == pytest.approx(np.sqrt(15 / 60))
    assert long_["curve"]["annual_cost_usd"].min() >= long_["total_annual_cost_usd"] - 1e-6


def test_crossover_names_the_cheapest_process_at_our_volume():
    s = story.crossover_story(1.0)
    here = s["our_units_per_year"]
    inside = [r for r in s["ranges"] if r["from_units"] <= here and (r["to_units"] is None or here < r["to_units"])]
    assert [r["process"] for r in inside] == [s["cheapest_at_our_volume"]]


def test_make_to_order_beats_push_at_high_uncertainty():
    s = story.push_pull_story("eyewear_frame")
    curve = s["curve"]
    assert curve["mto_profit_usd"].iloc[-1] > curve["push_profit_usd"].iloc[-1]
    assert s["pull_advantage_usd"] == pytest.approx(s["mto_profit_usd"] - s["push_profit_usd"])


def test_edited_steps_change_the_story(tmp_path, monkeypatch):
    copy = tmp_path / "data"
    shutil.copytree(data_dir(), copy)
    table = copy / "story_steps.csv"
    table.write_text(table.read_text().replace("automation_fixed_cost_cut,0.4,", "automation_fixed_cost_cut,0.5,"))
    monkeypatch.setenv("SOMANA_DATA_DIR", str(copy))
    assert story.steps("automation_fixed_cost_cut")[-1] == 0.5


def test_an_unknown_family_is_refused_by_name():
    with pytest.raises(InputError, match="family='teapot'"):
        story.eoq_story("teapot", 15)
