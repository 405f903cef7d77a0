"""The investor story's figures: each chapter of the published pages as a pure function of a few
discrete choices (steps from data/story_steps.csv), computed with the economics core and the data
tables. The pages (dashboards/publish.py) only draw what these return, so re-running
`somana publish` after editing a table changes the pages.

Prices, costs, break-even and operating income are /portfolio's scenario model (`scenarios.Scenario`)
at the chosen step, over the founders' one set of assumptions: the site, /portfolio and the quote give
the same figure for the same inputs (tests/story/test_one_set_of_numbers.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from somana_core import economics as econ
from somana_core.data import read_table
from somana_core.errors import InputError
from somana_core.scenarios import Scenario

STEPS_TABLE = "story_steps.csv"
SWEEP_POINTS = 60  # points along each plotted curve


def steps(name: str) -> list[float]:
    """The choices offered for one story control, in table order."""
    table = read_table(STEPS_TABLE)
    values = table.loc[table["name"] == name, "value"].astype(float).tolist()
    if not values:
        raise InputError(name, f"{STEPS_TABLE} has no rows named {name!r}")
    return values


def story_value(name: str) -> float:
    """A single-valued story assumption (demand_cv, variant_season_units)."""
    values = steps(name)
    if len(values) != 1:
        raise InputError(name, f"{STEPS_TABLE} has {len(values)} rows named {name!r}; expected one")
    return values[0]


def families() -> dict[str, str]:
    """family id -> display name, in portfolio order."""
    return {f.family: f.display_name for f in econ.load_portfolio()}


def scenario(volume_multiple: float = 1.0, automation_cut: float = 0.0) -> Scenario:
    """/portfolio's scenario at the plan's volumes x `volume_multiple`, prices as the pricing policy asks."""
    plan = Scenario()
    plan.param.update(monthly_units={f: u * volume_multiple for f, u in plan.monthly_units.items()},
                      automation_cut=automation_cut)
    return plan


# ---------------------------------------------------------------------------- 1 margins per family

def margins(volume_multiple: float) -> pd.DataFrame:
    """Per family at the policy's price for its typical unit: units, price, variable and absorbed unit cost,
    contribution margin, operating margin at plan and monthly contribution (USD)."""
    table = scenario(volume_multiple).family_table()
    names = families()
    return pd.DataFrame([{
        "family": r.family, "name": names[r.family], "units_per_month": float(r.monthly_units),
        "price_usd": float(r.price_usd), "variable_cost_usd": float(r.variable_cost_usd),
        "absorbed_unit_cost_usd": float(r.absorbed_unit_cost_usd), "contribution_margin": float(r.contribution_margin),
        "operating_margin_at_plan": float(r.operating_margin_at_plan),
        "contribution_usd_per_month": float(r.contribution_per_month_usd)} for r in table.itertuples()])


# ---------------------------------------------------------------------------- 2 break-even and leverage

def break_even_story(volume_multiple: float, automation_cut: float) -> dict:
    """Monthly fixed costs (less the automation cut) against the portfolio's mix-weighted contribution.

    Returns the break-even units per month, operating income and DOL at the chosen volume, and the
    operating-income curve over 0..2.5x the planned volume for the plot.
    """
    if not 0 <= automation_cut < 1:
        raise InputError("automation_cut", f"automation_cut={automation_cut} must be in [0, 1)")
    plan = scenario(1.0, automation_cut)
    planned_units, price, variable = plan.mix_averages()
    fixed = float(sum(plan.fixed_costs().values()))
    at = scenario(volume_multiple, automation_cut).summary()
    units = planned_units * volume_multiple
    be = econ.break_even(fixed, price, variable)
    curve_units = np.linspace(0, planned_units * max(steps("volume_multiple")) * 1.25, SWEEP_POINTS)
    income = curve_units * (price - variable) - fixed
    return {
        "fixed_costs_usd_per_month": fixed,
        "average_price_usd": price,
        "average_variable_cost_usd": variable,
        "units_per_month": units,
        "break_even_units_per_month": float(be.breakeven_units),
        "operating_income_usd_per_month": at["operating_income_per_month_usd"],
        "degree_of_operating_leverage": at["degree_of_operating_leverage"],
        "curve": pd.DataFrame({"units_per_month": curve_units, "operating_income_usd": income}),
    }


# ---------------------------------------------------------------------------- 3 EOQ and changeover

def eoq_story(family: str, changeover_minutes: float) -> dict:
    """Economic batch size of one family when a changeover takes `changeover_minutes` of floor labour."""
    names = families()
    if family not in names:
        raise InputError("family", f"family={family!r} is not one of {', '.join(names)}")
    founder = econ.founder_assumptions()
    stock_value = econ.family_plans(founder)[family].variable_cost_usd  # as /portfolio values a unit on the shelf
    annual_demand = founder.planned_units[family] * 12
    setup_cost = founder.changeover_cost_usd(changeover_minutes)
    holding = founder.value("holding_cost_rate_per_year") * stock_value
    best = econ.eoq(annual_demand, setup_cost, holding)
    batch = np.unique(np.round(np.geomspace(1, annual_demand, SWEEP_POINTS)))
    cost = econ.inventory_cost(annual_demand, setup_cost, holding, batch)
    return {
        "family": family, "changeover_minutes": changeover_minutes, "annual_demand_units": annual_demand,
        "setup_cost_usd": setup_cost, "holding_cost_usd_per_unit_year": holding,
        "eoq_units": float(best.eoq), "total_annual_cost_usd": float(best.total_annual_cost),
        "curve": pd.DataFrame({"batch_units": batch, "annual_cost_usd": np.asarray(cost.total_annual_cost)}),
    }


# ---------------------------------------------------------------------------- 4 printing vs moulding

def crossover_story(volume_multiple: float, part: str = "sensor_enclosure") -> dict:
    """Total cost of making N of one design by each process (data/process_costs.csv), the crossovers,
    and the factory's own yearly volume of that part at the chosen volume step."""
    table = econ.load_process_costs(part)
    names = table["process"].tolist()
    fixed = table["fixed_cost_usd"].astype(float).to_numpy()
    variable = table["variable_cost_per_unit_usd"].astype(float).to_numpy()
    ranges = econ.cheapest_process_ranges(names, fixed, variable)
    our_units = econ.planned_monthly_units()[part] * 12 * volume_multiple
    quantity = np.geomspace(1, 1e6, SWEEP_POINTS)
    curves = pd.DataFrame({"quantity": quantity})
    for name, f, v in zip(names, fixed, variable):
        curves[name] = f + v * quantity
    cheapest_here = econ.cheapest_process(our_units, names, fixed, variable)
    return {
        "part": part, "our_units_per_year": our_units, "cheapest_at_our_volume": str(cheapest_here),
        "display_names": dict(zip(names, table["display_name"])),
        "ranges": [{"process": r.process, "from_units": float(r.from_units),
                    "to_units": None if r.to_units is None or not np.isfinite(r.to_units) else float(r.to_units)}
                   for r in ranges],
        "curves": curves,
    }


# ---------------------------------------------------------------------------- 5 push vs make-to-order

def push_pull_story(family: str) -> dict:
    """Expected profit of pre-making one variant (push, newsvendor) against making it to order, over
    demand uncertainty (coefficient of variation 0..1.5); the chosen CV from the steps table is marked."""
    names = families()
    if family not in names:
        raise InputError("family", f"family={family!r} is not one of {', '.join(names)}")
    founder = econ.founder_assumptions()
    row = scenario().family_table().set_index("family").loc[family]
    price, cogs = float(row["price_usd"]), float(row["variable_cost_usd"])
    salvage = founder.salvage_fraction * cogs
    mto_cost = cogs * (1 + founder.mto_cost_premium)
    mean = story_value("variant_season_units")
    cv = np.linspace(0.05, 1.5, SWEEP_POINTS)
    sweep = econ.push_vs_pull(price, cogs, salvage, mean, cv * mean, mto_cost)
    chosen_cv = story_value("demand_cv")
    here = econ.push_vs_pull(price, cogs, salvage, mean, chosen_cv * mean, mto_cost)
    return {
        "family": family, "price_usd": price, "variable_cost_usd": cogs, "mto_unit_cost_usd": mto_cost,
        "salvage_value_usd": salvage,
        "demand_cv": chosen_cv, "season_units": mean,
        "push_profit_usd": float(here.push_expected_profit), "mto_profit_usd": float(here.mto_expected_profit),
        "pull_advantage_usd": float(here.pull_advantage),
        "push_leftover_units": float(here.push_expected_leftover),
        "curve": pd.DataFrame({"demand_cv": cv, "push_profit_usd": np.asarray(sweep.push_expected_profit),
                               "mto_profit_usd": np.asarray(sweep.mto_expected_profit)}),
    }
