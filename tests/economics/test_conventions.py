"""The package-wide conventions: scalar in -> floats, arrays in -> same-shape arrays equal to the scalar answers,
undefined answers None (scalars) or masked (arrays), never NaN; results are frozen; every name is re-exported."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import somana_core.economics as economics
from somana_core.economics import (break_even, crossover, eoq, epq, gross_margin, high_low, inventory_cost,
                                   learning_curve, newsvendor, operating_leverage, price_for_margin, push_vs_pull,
                                   required_setup_cost, step_break_even)

# Each model with a strategy for one valid parameter point. Some points deliberately hit the degenerate
# cases (zero setup cost, no margin, no crossover, zero demand std) so masked entries get compared too.
small = st.floats(0, 1000, allow_nan=False)
positive = st.floats(0.01, 1000, allow_nan=False)
MODELS = {
    "eoq": (eoq, st.fixed_dictionaries(dict(annual_demand=small, setup_cost=st.sampled_from([0.0, 5.0, 40.0]),
                                            holding_cost_per_unit_year=positive, unit_cost=small))),
    "inventory_cost": (inventory_cost, st.fixed_dictionaries(dict(
        annual_demand=small, setup_cost=st.sampled_from([0.0, 5.0]), holding_cost_per_unit_year=positive,
        order_quantity=positive))),
    "epq": (epq, st.builds(lambda d, extra, s, h: dict(annual_demand=d, annual_production_rate=d + extra,
                                                       setup_cost=s, holding_cost_per_unit_year=h),
                           small, positive, small, positive)),
    "required_setup_cost": (required_setup_cost, st.fixed_dictionaries(dict(
        annual_demand=positive, holding_cost_per_unit_year=positive, target_batch_size=small))),
    "break_even": (break_even, st.fixed_dictionaries(dict(fixed_costs=small, price_per_unit=positive,
                                                          variable_cost_per_unit=small))),
    "step_break_even": (step_break_even, st.fixed_dictionaries(dict(
        base_fixed_costs=small, step_fixed_cost=small, step_capacity_units=st.integers(1, 200),
        price_per_unit=positive, variable_cost_per_unit=small))),
    "high_low": (high_low, st.builds(lambda a, da, c, dc: dict(activity_low=a, cost_low=c, activity_high=a + da,
                                                               cost_high=c + dc), small, positive, small, small)),
    "operating_leverage": (operating_leverage, st.fixed_dictionaries(dict(
        units=st.integers(0, 1000).map(float), price_per_unit=st.sampled_from([10.0, 25.0]),
        variable_cost_per_unit=st.sampled_from([3.0, 12.0, 40.0]), fixed_costs=st.sampled_from([1.5, 77.7])))),
    "learning_curve_crawford": (lambda **k: learning_curve(formulation="crawford_unit", **k), st.fixed_dictionaries(
        dict(first_unit_cost=positive, learning_rate=st.floats(0.05, 1.0), units=st.integers(1, 5000)))),
    "learning_curve_wright": (lambda **k: learning_curve(formulation="wright_cumulative_average", **k),
                              st.fixed_dictionaries(dict(first_unit_cost=positive, learning_rate=st.floats(0.5, 1.0),
                                                         units=st.integers(1, 5000)))),
    "crossover": (crossover, st.fixed_dictionaries(dict(
        fixed_cost_a=st.sampled_from([0.0, 50.0, 9000.0]), variable_cost_a=st.sampled_from([1.0, 8.0]),
        fixed_cost_b=st.sampled_from([0.0, 50.0]), variable_cost_b=st.sampled_from([1.0, 3.0, 8.0])))),
    "gross_margin": (gross_margin, st.fixed_dictionaries(dict(price=positive, cogs_per_unit=small))),
    "price_for_margin": (price_for_margin, st.fixed_dictionaries(dict(cogs_per_unit=small,
                                                                      target_gross_margin=st.floats(0, 0.99)))),
    "newsvendor": (newsvendor, st.builds(
        lambda p, c, s, mu, sd: dict(unit_price=p, unit_cost=c, salvage_value=c - s, demand_mean=mu, demand_std=sd),
        positive, positive, positive, small, st.sampled_from([0.0, 1.0, 30.0, 300.0]))),
    "push_vs_pull": (push_vs_pull, st.builds(
        lambda p, c, s, mu, sd, m: dict(unit_price=p, unit_cost=c, salvage_value=c - s, demand_mean=mu,
                                        demand_std=sd, mto_unit_cost=m),
        positive, positive, positive, small, st.sampled_from([0.0, 30.0]), small)),
}


def _fields(result):
    if dataclasses.is_dataclass(result):
        return {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    return {"value": result}


def _same(scalar, element, masked):
    if scalar is None:
        return bool(masked)
    if isinstance(scalar, str):
        return not masked and str(element) == scalar
    return not masked and (scalar == pytest.approx(float(element), rel=1e-12, abs=1e-12))


@pytest.mark.parametrize("name", sorted(MODELS))
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_vectorised_equals_scalar_and_never_nan(name, data):
    model, strategy = MODELS[name]
    points = data.draw(st.lists(strategy, min_size=1, max_size=6), label="points")
    scalars = [_fields(model(**p)) for p in points]
    vector = _fields(model(**{k: np.array([p[k] for p in points]) for k in points[0]}))
    for field, values in vector.items():
        assert isinstance(values, np.ndarray) and values.shape == (len(points),)
        mask = np.ma.getmaskarray(values)
        data_values = np.ma.getdata(values)
        if data_values.dtype.kind == "f":
            assert not np.isnan(data_values).any()
        for i, row in enumerate(scalars):
            assert row[field] is None or isinstance(row[field], (float, str))
            assert _same(row[field], data_values[i], mask[i]), (field, i, row[field], values[i])


def test_two_dimensional_sweeps_keep_their_shape():
    demand = np.linspace(0, 1000, 5)[:, None]
    setup = np.array([0.0, 1.0, 10.0])[None, :]
    r = eoq(demand, setup, 0.5)
    assert r.eoq.shape == (5, 3) and r.orders_per_year.shape == (5, 3)
    assert r.orders_per_year.mask[1:, 0].all() and not r.orders_per_year.mask[1:, 1:].any()


def test_results_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        eoq(1, 1, 1).eoq = 3


def test_every_public_name_is_re_exported():
    for name in economics.__all__:
        assert hasattr(economics, name), name
    for name in ("eoq", "inventory_cost", "epq", "required_setup_cost", "break_even", "step_break_even", "high_low",
                 "operating_leverage", "learning_curve", "crossover", "cheapest_process", "cheapest_process_ranges",
                 "gross_margin", "price_for_margin", "newsvendor", "push_vs_pull", "push_vs_pull_monte_carlo",
                 "portfolio_contribution", "portfolio_bands", "load_portfolio"):
        assert name in economics.__all__


def test_the_core_does_not_import_view_libraries():
    import subprocess
    import sys
    code = ("import sys, somana_core.economics as e; e.portfolio_contribution(); "
            "print(sorted(m for m in ('panel', 'bokeh', 'holoviews') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_ratios_beyond_float_range_are_undefined_not_infinite():
    assert gross_margin(1.0, 5e-324).markup is None
    r = crossover(0.0, 1e-310, 1e300, 0.0)
    assert r.crossover_units is None and r.cheaper_everywhere == "a"


def test_results_turn_into_json_with_none_for_undefined_entries():
    import json

    from somana_core.economics import jsonable, portfolio_contribution
    data = jsonable(crossover(np.array([10000.0, 0.0]), np.array([1.5, 1.0]), 0.0, np.array([8.0, 2.0])))
    assert data["crossover_units"] == [pytest.approx(10000 / 6.5), None]
    assert data["cheaper_everywhere"] == [None, "a"]
    assert jsonable(break_even(1, 1, 2)) == {"contribution_margin_per_unit": -1.0, "contribution_margin_ratio": -1.0,
                                             "breakeven_units": None, "breakeven_revenue": None}
    json.dumps(jsonable(portfolio_contribution()), allow_nan=False)
