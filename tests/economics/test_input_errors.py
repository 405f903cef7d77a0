"""Every way to give a model bad input raises a ValueError naming the parameter, the value and what is allowed."""

from __future__ import annotations

import math

import numpy as np
import pytest

from somana_core.economics import (break_even, cheapest_process, cheapest_process_ranges, crossover, eoq, epq,
                                   gross_margin, high_low, inventory_cost, learning_curve, newsvendor,
                                   operating_leverage, portfolio_contribution, price_for_margin, push_vs_pull,
                                   push_vs_pull_monte_carlo, required_setup_cost, step_break_even)
from somana_core.errors import InputError

NV = dict(unit_price=10, unit_cost=4, salvage_value=1, demand_mean=100, demand_std=20)
LC = dict(first_unit_cost=100, learning_rate=0.8, units=10, formulation="crawford_unit")
MC = dict(unit_price=10, unit_cost=4, salvage_value=1, mto_unit_cost=5, demand=np.array([1.0, 2.0]))

CASES = [
    (eoq, dict(annual_demand=-1, setup_cost=10, holding_cost_per_unit_year=1), "annual_demand", ">= 0"),
    (eoq, dict(annual_demand=1, setup_cost=-10, holding_cost_per_unit_year=1), "setup_cost", ">= 0"),
    (eoq, dict(annual_demand=1, setup_cost=10, holding_cost_per_unit_year=0), "holding_cost_per_unit_year", "> 0"),
    (eoq, dict(annual_demand=1, setup_cost=10, holding_cost_per_unit_year=1, unit_cost=-2), "unit_cost", ">= 0"),
    (inventory_cost, dict(annual_demand=1, setup_cost=1, holding_cost_per_unit_year=1, order_quantity=0),
     "order_quantity", "> 0"),
    (inventory_cost, dict(annual_demand=-1, setup_cost=1, holding_cost_per_unit_year=1, order_quantity=1),
     "annual_demand", ">= 0"),
    (epq, dict(annual_demand=100, annual_production_rate=100, setup_cost=1, holding_cost_per_unit_year=1),
     "annual_production_rate", "exceed annual_demand"),
    (epq, dict(annual_demand=100, annual_production_rate=200, setup_cost=-1, holding_cost_per_unit_year=1),
     "setup_cost", ">= 0"),
    (epq, dict(annual_demand=100, annual_production_rate=200, setup_cost=1, holding_cost_per_unit_year=-1),
     "holding_cost_per_unit_year", "> 0"),
    (required_setup_cost, dict(annual_demand=0, holding_cost_per_unit_year=1, target_batch_size=1),
     "annual_demand", "> 0"),
    (required_setup_cost, dict(annual_demand=10, holding_cost_per_unit_year=0, target_batch_size=1),
     "holding_cost_per_unit_year", "> 0"),
    (required_setup_cost, dict(annual_demand=10, holding_cost_per_unit_year=1, target_batch_size=-1),
     "target_batch_size", ">= 0"),
    (break_even, dict(fixed_costs=-1, price_per_unit=10, variable_cost_per_unit=5), "fixed_costs", ">= 0"),
    (break_even, dict(fixed_costs=1, price_per_unit=0, variable_cost_per_unit=5), "price_per_unit", "> 0"),
    (break_even, dict(fixed_costs=1, price_per_unit=10, variable_cost_per_unit=-5), "variable_cost_per_unit", ">= 0"),
    (step_break_even, dict(base_fixed_costs=-1, step_fixed_cost=1, step_capacity_units=10, price_per_unit=10,
                           variable_cost_per_unit=5), "base_fixed_costs", ">= 0"),
    (step_break_even, dict(base_fixed_costs=1, step_fixed_cost=-1, step_capacity_units=10, price_per_unit=10,
                           variable_cost_per_unit=5), "step_fixed_cost", ">= 0"),
    (step_break_even, dict(base_fixed_costs=1, step_fixed_cost=1, step_capacity_units=2.5, price_per_unit=10,
                           variable_cost_per_unit=5), "step_capacity_units", "whole number"),
    (step_break_even, dict(base_fixed_costs=1, step_fixed_cost=1, step_capacity_units=0, price_per_unit=10,
                           variable_cost_per_unit=5), "step_capacity_units", "whole number"),
    (high_low, dict(activity_low=10, cost_low=5, activity_high=10, cost_high=6), "activity_high", "exceed"),
    (high_low, dict(activity_low=-1, cost_low=5, activity_high=10, cost_high=6), "activity_low", ">= 0"),
    (high_low, dict(activity_low=1, cost_low=5, activity_high=10, cost_high=4), "cost_high", ">= cost_low"),
    (high_low, dict(activity_low=1, cost_low=-5, activity_high=10, cost_high=4), "cost_low", ">= 0"),
    (operating_leverage, dict(units=-1, price_per_unit=10, variable_cost_per_unit=5, fixed_costs=1), "units", ">= 0"),
    (operating_leverage, dict(units=10, price_per_unit=10, variable_cost_per_unit=5, fixed_costs=50), "units",
     "break-even"),
    (operating_leverage, dict(units=10, price_per_unit=-10, variable_cost_per_unit=5, fixed_costs=5),
     "price_per_unit", "> 0"),
    (operating_leverage, dict(units=10, price_per_unit=10, variable_cost_per_unit=5, fixed_costs=-5),
     "fixed_costs", ">= 0"),
    (learning_curve, {**LC, "learning_rate": 0}, "learning_rate", "(0, 1]"),
    (learning_curve, {**LC, "learning_rate": 1.2}, "learning_rate", "(0, 1]"),
    (learning_curve, {**LC, "units": 0}, "units", "whole number >= 1"),
    (learning_curve, {**LC, "units": 2.5}, "units", "whole number >= 1"),
    (learning_curve, {**LC, "first_unit_cost": 0}, "first_unit_cost", "> 0"),
    (learning_curve, {**LC, "formulation": "wright"}, "formulation", "crawford_unit"),
    (crossover, dict(fixed_cost_a=-1, variable_cost_a=1, fixed_cost_b=1, variable_cost_b=1), "fixed_cost_a", ">= 0"),
    (crossover, dict(fixed_cost_a=1, variable_cost_a=1, fixed_cost_b=1, variable_cost_b=-1), "variable_cost_b",
     ">= 0"),
    (cheapest_process_ranges, dict(process_names=[], fixed_costs=[], variable_costs=[]), "process_names", "empty"),
    (cheapest_process_ranges, dict(process_names=["a", "a"], fixed_costs=[1, 2], variable_costs=[1, 2]),
     "process_names", "duplicates"),
    (cheapest_process_ranges, dict(process_names=["a", "b"], fixed_costs=[1], variable_costs=[1, 2]),
     "fixed_costs", "one of each"),
    (cheapest_process_ranges, dict(process_names=["a", "b"], fixed_costs=[1, 2], variable_costs=[1, -2]),
     "variable_costs", ">= 0"),
    (cheapest_process, dict(quantity=-1, process_names=["a"], fixed_costs=[1], variable_costs=[1]), "quantity", ">= 0"),
    (gross_margin, dict(price=0, cogs_per_unit=1), "price", "> 0"),
    (gross_margin, dict(price=10, cogs_per_unit=-1), "cogs_per_unit", ">= 0"),
    (price_for_margin, dict(cogs_per_unit=10, target_gross_margin=1), "target_gross_margin", "[0, 1)"),
    (price_for_margin, dict(cogs_per_unit=10, target_gross_margin=-0.1), "target_gross_margin", "[0, 1)"),
    (price_for_margin, dict(cogs_per_unit=-10, target_gross_margin=0.5), "cogs_per_unit", ">= 0"),
    (newsvendor, {**NV, "salvage_value": 4}, "salvage_value", "below unit_cost"),
    (newsvendor, {**NV, "salvage_value": 5}, "salvage_value", "below unit_cost"),
    (newsvendor, {**NV, "demand_mean": -1}, "demand_mean", ">= 0"),
    (newsvendor, {**NV, "demand_std": -1}, "demand_std", ">= 0"),
    (newsvendor, {**NV, "unit_price": -1}, "unit_price", ">= 0"),
    (newsvendor, {**NV, "unit_cost": -1, "salvage_value": -2}, "unit_cost", ">= 0"),
    (newsvendor, {**NV, "order_quantity": -5}, "order_quantity", ">= 0"),
    (push_vs_pull, {**NV, "mto_unit_cost": -1}, "mto_unit_cost", ">= 0"),
    (push_vs_pull, {**NV, "salvage_value": 9, "mto_unit_cost": 5}, "salvage_value", "below unit_cost"),
    (push_vs_pull_monte_carlo, {**MC, "salvage_value": 4}, "salvage_value", "below unit_cost"),
    (push_vs_pull_monte_carlo, {**MC, "mto_unit_cost": -1}, "mto_unit_cost", ">= 0"),
    (push_vs_pull_monte_carlo, {**MC, "demand": np.array([1.0, -2.0])}, "demand", ">= 0"),
    (push_vs_pull_monte_carlo, {**MC, "demand": np.array([1.0])}, "demand", "at least 2"),
    (push_vs_pull_monte_carlo, {**MC, "demand": lambda rng, n: rng.random(n), "n_draws": 1}, "n_draws", ">= 2"),
    (push_vs_pull_monte_carlo, {**MC, "unit_price": np.array([1.0, 2.0])}, "unit_price", "scalar"),
    (push_vs_pull_monte_carlo, {**MC, "order_quantity": -1}, "order_quantity", ">= 0"),
    (portfolio_contribution, dict(mix_units={"eyewear_frame": 1}, margin_position=-0.1), "margin_position", "[0, 1]"),
]


@pytest.mark.parametrize("model, kwargs, field, allowed", CASES,
                         ids=[f"{c[0].__name__}-{c[2]}-{i}" for i, c in enumerate(CASES)])
def test_bad_input_names_the_parameter_and_the_allowed_range(model, kwargs, field, allowed):
    with pytest.raises(InputError) as caught:
        model(**kwargs)
    assert isinstance(caught.value, ValueError)
    assert caught.value.field == field
    assert field in str(caught.value) and allowed in str(caught.value)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, "lots", None])
def test_non_numbers_are_refused_by_name(bad):
    with pytest.raises(InputError, match="setup_cost"):
        eoq(100, bad, 1)


def test_arrays_name_the_first_bad_value():
    with pytest.raises(InputError, match="annual_demand=-3 "):
        eoq(np.array([5.0, -3.0, -4.0]), 10, 1)


def test_shapes_that_do_not_broadcast_are_refused():
    with pytest.raises(InputError, match="do not broadcast"):
        eoq(np.ones(3), np.ones(2), 1)
