"""The portfolio explorer's widgets drive its scenario, and its panes show the scenario's numbers (no browser)."""

from __future__ import annotations

import json

import pytest

from dashboards.components.portfolio_explorer import PortfolioExplorer, breakeven_text
from somana_core.scenarios import Scenario


@pytest.fixture
def explorer():
    return PortfolioExplorer()


def _text(explorer, key):
    html = explorer.figures.object
    start = html.index(f'id="{key}">') + len(f'id="{key}">')
    return html[start:html.index("<", start)]


def test_break_even_figure_shows_the_scenario_value(explorer):
    assert _text(explorer, "breakeven-units") == breakeven_text(explorer.scenario.summary()["breakeven_units_per_month"])


def test_automation_slider_lowers_the_break_even_shown(explorer):
    before = explorer.scenario.summary()["breakeven_units_per_month"]
    explorer.automation.value = 0.3
    assert explorer.scenario.automation_cut == 0.3
    assert explorer.breakeven_units == pytest.approx(0.7 * before)
    assert _text(explorer, "breakeven-units") == breakeven_text(0.7 * before)


def test_price_slider_moves_price_margin_and_contribution(explorer):
    family = "sensor_enclosure"
    low, high = explorer.scenario.price_band(family)
    explorer.price_sliders[family].value = high
    row = explorer.family_table.value.set_index("family").loc[family]
    assert row["price_usd"] == pytest.approx(high)
    bars = explorer.plots["margin"].object.data.set_index("family")
    assert bars.loc[family, "contribution_margin_pct"] == pytest.approx(100 * (1 - row["variable_cost_usd"] / high),
                                                                        rel=1e-3)


def test_volume_slider_changes_volume_income_and_contribution_plot(explorer):
    explorer.volume_sliders["eyewear_frame"].value = 60
    assert explorer.scenario.monthly_units["eyewear_frame"] == 60
    summary = explorer.scenario.summary()
    assert _text(explorer, "operating-income") == f"${summary['operating_income_per_month_usd']:,.0f}/month"
    bars = explorer.plots["contribution"].object.data.set_index("family")
    assert bars.loc["eyewear_frame", "contribution_per_month_usd"] == pytest.approx(
        60 * explorer.scenario.family_table().set_index("family").loc["eyewear_frame", "contribution_per_unit_usd"])


def test_learning_slider_redraws_the_learning_curve(explorer):
    explorer.learning.value = 0.7
    curve = explorer.plots["learning"].object.get(0)
    costs = curve.data.set_index("cumulative_units")["unit_cost_usd"]
    assert costs.loc[2] == pytest.approx(0.7 * costs.loc[1])


def test_changeover_slider_moves_the_scenario_eoq_but_not_todays(explorer):
    today = explorer.scenario.eoq_curves()["today"]["eoq_units"]
    explorer.changeover.value = explorer.scenario.today_changeover_minutes / 4
    data = explorer.scenario.eoq_curves()
    assert data["today"]["eoq_units"] == pytest.approx(today)
    assert data["scenario"]["eoq_units"] == pytest.approx(today / 2)
    labels = [element.label for element in explorer.plots["eoq"].object]
    assert f"EOQ {today / 2:.0f}" in labels and f"EOQ {today:.0f}" in labels


def test_focus_family_switches_the_per_family_plots(explorer):
    explorer.focus.value = "eyewear_frame"
    assert explorer.scenario.focus_family == "eyewear_frame"
    assert "eyewear_frame" in explorer.plots["learning"].object.opts.get().kwargs["title"]


def test_editing_a_price_band_clamps_the_price_and_the_slider(explorer):
    explorer.price_sliders["kit_enclosure"].value = 60.0
    table = explorer.products_table.value.copy()
    table.loc[table["family"] == "kit_enclosure", "price_low_usd"] = 65.0
    explorer.products_table.value = table
    explorer._product_edited(None)
    assert explorer.scenario.prices["kit_enclosure"] == 65.0
    assert explorer.price_sliders["kit_enclosure"].start == 65.0


def test_editing_an_assumption_changes_fixed_costs_shown(explorer):
    table = explorer.assumptions_table.value.copy()
    before = explorer.scenario.summary()["fixed_costs_per_month_usd"]
    table.loc[table["name"] == "rent_per_month", "value"] += 1000
    explorer.assumptions_table.value = table
    explorer._assumption_edited(None)
    assert _text(explorer, "fixed-costs") == f"${before + 1000:,.0f}/month"


def test_saved_scenario_loads_into_a_fresh_explorer(explorer):
    explorer.automation.value = 0.25
    explorer.volume_sliders["kit_enclosure"].value = 150
    saved = explorer.save_button.callback().getvalue()
    fresh = PortfolioExplorer(Scenario())
    fresh.scenario_file.value = saved.encode("utf-8")
    assert fresh.automation.value == 0.25
    assert fresh.volume_sliders["kit_enclosure"].value == 150
    assert _text(fresh, "breakeven-units") == _text(explorer, "breakeven-units")
    assert not fresh.message.visible


def test_a_bad_scenario_file_shows_a_message_and_changes_nothing(explorer):
    before = explorer.scenario.to_dict()
    explorer.scenario_file.value = json.dumps({"format": "nonsense"}).encode()
    assert explorer.message.visible and "not a saved scenario" in explorer.message.object
    assert explorer.scenario.to_dict() == before


def test_csv_download_is_the_family_table(explorer):
    text = explorer.csv_button.callback().getvalue()
    header, *rows = text.strip().splitlines()
    assert header.startswith("family,display_name,monthly_units,price_usd")
    assert [r.split(",")[0] for r in rows] == explorer.scenario.families
