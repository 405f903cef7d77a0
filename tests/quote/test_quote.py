"""The quote: itemised, auditable, priced from the target margin, every rate from data/."""

from __future__ import annotations

import json
import math

import pytest

from somana_core.errors import InputError
from somana_core.orders import OrderStore
from somana_core.print_time import estimate, features, layer_height_mm
from somana_core.quote import assumption, factory_inputs, price_band, quote_metrics, rates

FAMILIES = ("sensor_enclosure", "kit_enclosure", "eyewear_frame")


def _line(q, name):
    (line,) = [line for line in q.lines if line.name == name]
    return line


@pytest.mark.parametrize("family", FAMILIES)
def test_lines_add_up_to_the_cost_and_the_price_earns_the_target_margin(metrics, family):
    q = quote_metrics(metrics, family)
    assert q.unit_cost == pytest.approx(sum(line.amount_usd for line in q.lines), abs=1e-3)
    margin = assumption("target_gross_margin", family)
    assert q.unit_price == round(q.unit_cost / (1 - margin), 2)
    assert q.gross_margin == pytest.approx(margin, abs=0.001)
    assert q.total_price == q.unit_price
    names = [line.name for line in q.lines]
    assert names == ["material", "machine_time", "setup_labour", "failure_allowance", "post_processing_labour",
                     "components", "packaging", "fixed_cost_share"]
    for line in q.lines:
        assert line.formula and line.inputs and line.amount_usd >= 0


def test_each_line_is_its_formula_over_its_inputs(metrics):
    q = quote_metrics(metrics, "sensor_enclosure", qty=3)
    m = _line(q, "material").inputs
    assert _line(q, "material").amount_usd == pytest.approx(
        (m["filament_g"] * (1 + m["waste_fraction"]) + m["purge_g"]) * m["price_usd_per_kg"] / 1000, abs=1e-3)
    t = _line(q, "machine_time").inputs
    rate = t["machine_price_usd"] / t["machine_lifetime_h"] + t["machine_power_w"] / 1000 * t[
        "electricity_usd_per_kwh"] + t["maintenance_usd_per_h"]
    assert _line(q, "machine_time").amount_usd == pytest.approx(t["print_h"] * rate, abs=1e-3)
    s = _line(q, "setup_labour").inputs
    assert s["qty"] == 3
    assert _line(q, "setup_labour").amount_usd == pytest.approx(s["setup_min"] / 60 * s["labour_usd_per_h"] / 3, abs=1e-3)
    f = _line(q, "fixed_cost_share").inputs
    assert _line(q, "fixed_cost_share").amount_usd == pytest.approx(
        (f["fixed_costs_usd_per_month"] - f["wages_usd_per_month"] - f["printer_depreciation_usd_per_month"])
        / f["planned_units_per_month"], abs=1e-3)


def test_failure_allowance_grosses_up_by_one_minus_the_rate(metrics):
    q = quote_metrics(metrics, "eyewear_frame")
    rate = assumption("failure_rate", "eyewear_frame")
    at_risk = sum(_line(q, n).amount_usd for n in ("material", "machine_time", "setup_labour"))
    allowance = _line(q, "failure_allowance").amount_usd
    assert allowance == pytest.approx(at_risk * rate / (1 - rate), abs=1e-3)
    assert allowance > at_risk * rate  # cost x (1 + rate) would under-cost


def test_setup_is_spread_over_the_quantity_and_breaks_never_rise(metrics):
    one = quote_metrics(metrics, "kit_enclosure", qty=1)
    ten = quote_metrics(metrics, "kit_enclosure", qty=10)
    setup_one = _line(one, "setup_labour").amount_usd
    assert _line(ten, "setup_labour").amount_usd == pytest.approx(setup_one / 10, abs=1e-3)
    assert ten.unit_price < one.unit_price
    assert ten.total_price == pytest.approx(ten.unit_price * 10, abs=0.01)
    prices = [p for _, p in one.breaks]
    assert prices == sorted(prices, reverse=True)
    assert dict(ten.breaks)[10] == ten.unit_price and dict(one.breaks)[10] == ten.unit_price


def test_slicer_figures_replace_the_estimate(metrics):
    est = quote_metrics(metrics, "sensor_enclosure")
    assert est.print_time_source == "estimate"
    sliced = quote_metrics(metrics, "sensor_enclosure", print_time_s=7200.0, filament_g=20.0)
    assert sliced.print_time_source == "slicer" and sliced.print_time_s == 7200.0
    assert _line(sliced, "machine_time").inputs["print_h"] == 2.0
    assert _line(sliced, "material").inputs["filament_g"] == 20.0


def test_estimate_uses_every_part_and_the_profiles_layer_height(metrics):
    layer = layer_height_mm("prusa_mk3s")
    x = features(metrics, layer)
    assert x["volume_mm3"] == 42000.0 and x["area_mm2"] == 36000.0
    assert x["layers"] == math.ceil(30 / layer) + math.ceil(5 / layer)
    bigger = json.loads(json.dumps(metrics))
    bigger["parts"]["base"]["volume_mm3"] *= 2
    assert estimate(bigger, layer)["print_time_s"] > estimate(metrics, layer)["print_time_s"]


def test_lead_time_follows_the_printers_queue(metrics, somana_home):
    a = {**rates("sensor_enclosure", "prusa_mk3s", "PLA"), **factory_inputs()}
    day_of_fleet_s = a["printers_in_fleet"] * a["printing_hours_per_day"] * 3600
    empty = quote_metrics(metrics, "sensor_enclosure")
    assert empty.lead_time_days == math.ceil(empty.print_time_s / day_of_fleet_s + a["handling_days"])
    busy = quote_metrics(metrics, "sensor_enclosure", queue=3 * day_of_fleet_s)
    assert busy.lead_time_days == empty.lead_time_days + 3
    with OrderStore() as store:  # the queue can come straight from the order store
        order = store.place("Ada", "sensor_enclosure", {}, {"print_time_s": day_of_fleet_s}, files={})
        store.transition(order.number, "sliced")
        store.transition(order.number, "queued")
        assert quote_metrics(metrics, "sensor_enclosure", queue=store).lead_time_days == empty.lead_time_days + 1
        assert quote_metrics(metrics, "sensor_enclosure", queue=store.queue()).lead_time_days == empty.lead_time_days + 1


def test_price_outside_the_family_band_is_flagged(metrics, edit_data):
    low, high = price_band("kit_enclosure")
    inside = quote_metrics(metrics, "kit_enclosure")
    assert bool(inside.flags) == (not low <= inside.unit_price <= high)
    edit_data("portfolio.csv", "kit_enclosure,",
              'kit_enclosure,STEM kit,500,900,0.55,0.70,,,research,"test band"')
    q = quote_metrics(metrics, "kit_enclosure")
    assert q.price_band_usd == (500.0, 900.0)
    assert q.flags == (f"price {q.unit_price:.2f} USD is below the kit_enclosure band 500.00-900.00 USD",)


def test_edited_rates_change_the_quote(metrics, edit_data):
    before = quote_metrics(metrics, "sensor_enclosure")
    edit_data("materials.csv", "PLA,", 'PLA,PLA,1.24,50.0,assumption,"test: doubled price"')
    edit_data("quote_assumptions.csv", "post_processing_min,sensor_enclosure,",
              'post_processing_min,sensor_enclosure,12,min,assumption,"test"')
    edit_data("factory_assumptions.csv", "labour_rate_per_hour,",
              'labour_rate_per_hour,,60,USD/hour,assumption,"test",""')
    after = quote_metrics(metrics, "sensor_enclosure")
    assert _line(after, "material").amount_usd == pytest.approx(2 * _line(before, "material").amount_usd, abs=1e-3)
    assert _line(after, "post_processing_labour").amount_usd == pytest.approx(
        4 * _line(before, "post_processing_labour").amount_usd, abs=1e-3)
    assert after.unit_price > before.unit_price


def test_every_rate_is_a_marked_assumption_with_a_source():
    from somana_core.data import read_table

    table = read_table("quote_assumptions.csv")
    assert set(table["kind"]) == {"assumption"}
    assert table["source"].str.len().min() > 10
    for family in FAMILIES:
        for machine in read_table("machines.csv")["machine"]:
            assert set(rates(family, machine, "PLA")) >= {"machine_price_usd", "failure_rate", "target_gross_margin"}


def test_bad_input_names_the_field(metrics):
    for qty in (0, -2, "many"):
        with pytest.raises(InputError) as err:
            quote_metrics(metrics, "sensor_enclosure", qty=qty)
        assert err.value.field == "qty"
    with pytest.raises(InputError) as err:
        quote_metrics(metrics, "sensor_enclosure", material="WOOD")
    assert err.value.field == "material" and "PLA" in err.value.message
    with pytest.raises(InputError) as err:
        quote_metrics(metrics, "teapot")
    assert err.value.field == "family" and "eyewear_frame" in err.value.message


def test_quote_is_json_with_price_cost_and_lines(metrics):
    data = json.loads(json.dumps(quote_metrics(metrics, "eyewear_frame", qty=2).to_dict()))
    assert data["price"] == data["unit_price"] and data["cost"] == data["unit_cost"]
    assert data["qty"] == 2 and len(data["lines"]) == 8
    assert {"name", "amount_usd", "formula", "inputs"} <= set(data["lines"][0])
    assert data["lead_time_days"] >= 1 and data["print_time_source"] == "estimate"
