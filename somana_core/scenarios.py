"""The portfolio explorer's what-if model: a founder's scenario (volumes, prices, automation,
changeover, learning rate) turned into the figures and curves the explorer and notebook show.

Every number comes from `somana_core.economics` and the data tables (`portfolio.csv`,
`factory_assumptions.csv`, `process_costs.csv`, `portfolio_scenarios.csv`); this module only wires
them together. No Panel here: the view (`dashboards/components/portfolio_explorer.py`) and the
tests both drive `Scenario` directly.

Cost model (stated once, shared with the quote and the published site): the founders' assumptions are
ONE `FounderAssumptions` object built from the scenario's (editable) tables; each family's typical unit
(data/portfolio_typical_units.csv) is costed by `economics.costing` exactly as the quote costs it: an
absorbed unit cost (every monthly cost spread over the planned volume) and a variable unit cost (what
one more unit adds). A family's default price is what the pricing policy asks for that unit, so the
explorer opens on the quote's prices. Operating income = units x (price - variable cost) - fixed costs;
automation removes a fraction of the fixed costs. A changeover costs its minutes at the labour rate.
Making to order costs the variable cost plus the `mto_cost_premium`, which is one changeover per order:
it scales with the scenario's changeover time over today's.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import param

from somana_core import catalogue
from somana_core.data import read_table
from somana_core.economics.assumptions import (PRICING_TABLE, RATES_TABLE, TYPICAL_UNITS_TABLE,
                                               FounderAssumptions, load_factory_assumptions, load_process_costs)
from somana_core.economics.break_even import break_even
from somana_core.economics.costing import FamilyPlan, family_plans
from somana_core.economics.crossover import cheapest_process_ranges
from somana_core.economics.inventory import eoq, inventory_cost
from somana_core.economics.learning_curve import learning_curve
from somana_core.economics.leverage import operating_leverage
from somana_core.economics.push_pull import push_vs_pull_monte_carlo
from somana_core.errors import InputError

LEARNING_FORMULATION = "crawford_unit"  # unit cost of the n-th unit; the curve founders quote
SCENARIO_FORMAT = "somana-portfolio-scenario/1"
EDITABLE_PRODUCT_COLUMNS = ("price_low_usd", "price_high_usd", "gross_margin_low", "gross_margin_high")


def _settings(table: pd.DataFrame) -> dict[str, float]:
    return {row["name"]: float(row["value"]) for _, row in table.iterrows()}


def factory_figures(assumptions: pd.DataFrame) -> dict[str, float]:
    """Factory-wide assumptions (rows with no family) as name -> value."""
    rows = assumptions[assumptions["family"].isna() | (assumptions["family"].astype(str).str.strip() == "")]
    return _settings(rows)


def planned_units(assumptions: pd.DataFrame) -> dict[str, float]:
    rows = assumptions[assumptions["name"] == "planned_monthly_units"]
    return {str(r["family"]): float(r["value"]) for _, r in rows.iterrows()}


@dataclass(frozen=True)
class Tables:
    products: pd.DataFrame
    assumptions: pd.DataFrame
    processes: pd.DataFrame
    settings: dict[str, float]
    rates: pd.DataFrame  # quote_assumptions.csv
    typical_units: pd.DataFrame  # portfolio_typical_units.csv
    pricing: pd.DataFrame  # pricing_policy.csv
    materials: pd.DataFrame  # materials.csv (price per kg)


def load_tables() -> Tables:
    return Tables(products=read_table("portfolio.csv"), assumptions=load_factory_assumptions(),
                  processes=load_process_costs(), settings=_settings(read_table("portfolio_scenarios.csv")),
                  rates=read_table(RATES_TABLE), typical_units=read_table(TYPICAL_UNITS_TABLE),
                  pricing=read_table(PRICING_TABLE), materials=catalogue.materials())


def founder_assumptions_of(tables: Tables, products: pd.DataFrame | None = None,
                           assumptions: pd.DataFrame | None = None) -> FounderAssumptions:
    """The founders' one object, from the tables with a scenario's edited products and assumptions."""
    return FounderAssumptions.from_tables(
        tables.assumptions if assumptions is None else assumptions, tables.rates,
        tables.products if products is None else products, tables.typical_units, tables.pricing, tables.materials)


class Scenario(param.Parameterized):
    """A founder's what-if. Controls are parameters; results are methods (pure given the parameters)."""

    products = param.DataFrame(doc="portfolio.csv rows (editable: price and margin bands)")
    assumptions = param.DataFrame(doc="factory_assumptions.csv rows (editable values)")
    processes = param.DataFrame(doc="process_costs.csv rows (3D printing, moulding, manual)")
    monthly_units = param.Dict(default={}, doc="family -> planned sales, units/month")
    prices = param.Dict(default={}, doc="family -> selling price, USD (within the family's band)")
    automation_cut = param.Number(0.0, bounds=(0.0, 0.5), step=0.05,
                                  doc="Share of monthly fixed costs removed by automation")
    changeover_minutes = param.Number(15.0, bounds=(0.0, 60.0), step=1.0,
                                      doc="Minutes to switch a printer to the next customer's part")
    learning_rate = param.Number(0.85, bounds=(0.6, 1.0), step=0.01,
                                 doc="Unit cost after each doubling of cumulative output, as a fraction")
    focus_family = param.String(default="", doc="Family shown in the per-family plots")

    def __init__(self, tables: Tables | None = None, **params):
        tables = tables or load_tables()
        s = tables.settings
        self.settings = dict(s)
        self.tables = tables
        today = factory_figures(tables.assumptions)["changeover_minutes"]
        self.param.automation_cut.bounds = (0.0, s["automation_cut_max"])
        self.param.changeover_minutes.bounds = (0.0, max(s["changeover_minutes_max"], today))
        self.param.learning_rate.bounds = (s["learning_rate_min"], 1.0)
        products = tables.products.reset_index(drop=True)
        defaults = dict(
            products=products, assumptions=tables.assumptions.reset_index(drop=True),
            processes=tables.processes.reset_index(drop=True),
            monthly_units=planned_units(tables.assumptions),
            prices={f: plan.price.unit_price_usd
                    for f, plan in family_plans(founder_assumptions_of(tables, products)).items()},
            changeover_minutes=today, learning_rate=factory_figures(tables.assumptions)["learning_rate"],
            focus_family=str(products["family"].iloc[0]),
        )
        defaults.update(params)
        super().__init__(**defaults)

    # ------------------------------------------------------------------ inputs
    @property
    def families(self) -> list[str]:
        return [str(f) for f in self.products["family"]]

    @property
    def today_changeover_minutes(self) -> float:
        return factory_figures(self.assumptions)["changeover_minutes"]

    def founder(self) -> FounderAssumptions:
        """The founders' assumptions with this scenario's edits (the quote's object, edited)."""
        held = getattr(self, "_founder_of", None)  # holding the frames keeps their identity meaningful
        if held is None or held[0] is not self.products or held[1] is not self.assumptions:
            self._founder = founder_assumptions_of(self.tables, self.products, self.assumptions)
            self._founder_of = (self.products, self.assumptions)
        return self._founder

    def plans(self) -> dict[str, FamilyPlan]:
        """Each family's typical unit costed and priced as the quote does it (with this scenario's edits)."""
        return family_plans(self.founder())

    def policy_price(self, family: str) -> float:
        return self.plans()[family].price.unit_price_usd

    def price_band(self, family: str) -> tuple[float, float]:
        row = self.products.set_index("family").loc[family]
        return float(row["price_low_usd"]), float(row["price_high_usd"])

    def price_range(self, family: str) -> tuple[float, float]:
        """Prices the explorer offers: the band, stretched to the policy's price when that lies outside it
        (such a price waits for a founder's approval in a quote, but it is the price the policy asks)."""
        low, high = self.price_band(family)
        policy = self.policy_price(family)
        return min(low, policy), max(high, policy)

    def _checked(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Units per month, prices (USD) and variable unit costs (USD) per family, checked."""
        units, prices = [], []
        plans = self.plans()
        for family in self.families:
            low, high = self.price_range(family)
            price = float(self.prices.get(family, plans[family].price.unit_price_usd))
            if not low - 1e-9 <= price <= high + 1e-9:
                raise InputError(f"prices[{family}]", f"price of {family}={price:g} USD is outside its band "
                                                      f"{low:g}-{high:g} USD")
            volume = float(self.monthly_units.get(family, 0.0))
            if volume < 0:
                raise InputError(f"monthly_units[{family}]", f"monthly units of {family}={volume:g} must be >= 0")
            units.append(volume)
            prices.append(price)
        variable = np.array([plans[f].variable_cost_usd for f in self.families])
        return np.array(units), np.array(prices), variable

    # ------------------------------------------------------------------ results
    def clamp_prices(self) -> None:
        """Keep every price inside its (possibly just edited) band."""
        prices = {}
        for family in self.families:
            low, high = self.price_range(family)
            prices[family] = min(max(float(self.prices.get(family, (low + high) / 2)), low), high)
        if prices != self.prices:
            self.prices = prices

    def fixed_costs(self) -> dict[str, float]:
        """The factory's fixed costs per month by item (USD), after automation removes `automation_cut` of them."""
        if not 0 <= self.automation_cut < 1:
            raise InputError("automation_cut", f"automation_cut={self.automation_cut:g} is not allowed: it must be "
                                               "in [0, 1)")
        fixed = self.founder().fixed_costs
        keep = 1.0 - self.automation_cut
        return {"rent_per_month": fixed.rent * keep, "utilities_per_month": fixed.utilities * keep,
                "software_and_insurance_per_month": fixed.software_and_insurance * keep,
                "wages_per_month": fixed.wages * keep, "printer_depreciation_per_month": fixed.printer_depreciation * keep}

    def family_table(self) -> pd.DataFrame:
        """Per family: price, variable and absorbed unit cost, contribution and operating margin (the latter
        at the planned volume, as the quote states it), contribution per unit and per month."""
        units, prices, variable = self._checked()
        plans = self.plans()
        absorbed = np.array([plans[f].unit_cost_usd for f in self.families])
        contribution = prices - variable
        return pd.DataFrame({
            "family": self.families,
            "display_name": self.products["display_name"].to_numpy(),
            "monthly_units": units,
            "price_usd": prices,
            "variable_cost_usd": variable,
            "absorbed_unit_cost_usd": absorbed,
            "contribution_margin": contribution / prices,
            "operating_margin_at_plan": (prices - absorbed) / prices,
            "contribution_per_unit_usd": contribution,
            "contribution_per_month_usd": units * contribution,
            "revenue_per_month_usd": units * prices,
        })

    def mix_averages(self) -> tuple[float, float, float]:
        """Total units/month and the mix-weighted price and unit cost (USD)."""
        units, prices, cogs = self._checked()
        total = float(units.sum())
        if total <= 0:
            weights = np.full(len(units), 1.0 / len(units))
        else:
            weights = units / total
        return total, float(weights @ prices), float(weights @ cogs)

    def summary(self) -> dict[str, Any]:
        """The headline figures: fixed costs, break-even volume at the current mix, income, DOL."""
        total_units, price, cost = self.mix_averages()
        fixed = float(sum(self.fixed_costs().values()))
        be = break_even(fixed, price, cost)
        units, prices, variable = self._checked()
        income = float(units @ (prices - variable)) - fixed  # = total_units x (price - cost) - fixed
        dol = None if income == 0 else total_units * (price - cost) / income
        return {
            "monthly_units": total_units,
            "average_price_usd": price,
            "average_variable_cost_usd": cost,
            "fixed_costs_per_month_usd": fixed,
            "breakeven_units_per_month": be.breakeven_units,
            "breakeven_revenue_per_month_usd": be.breakeven_revenue,
            "operating_income_per_month_usd": income,
            "degree_of_operating_leverage": dol,
            "margin_of_safety": None if not be.breakeven_units or total_units <= 0
            else (total_units - be.breakeven_units) / total_units,
        }

    def operating_curve(self, points: int = 121) -> pd.DataFrame:
        """Operating income and DOL against total monthly volume, at the current mix and prices."""
        total_units, price, cost = self.mix_averages()
        fixed = float(sum(self.fixed_costs().values()))
        top = max(total_units, 1.0) * self.settings["volume_range_factor"]
        volume = np.linspace(0.0, top, points)
        income = volume * (price - cost) - fixed
        volume = np.where(income == 0, volume + top * 1e-9, volume)  # DOL is undefined exactly at break-even
        result = operating_leverage(volume, price, cost, fixed)
        dol = np.asarray(result.degree_of_operating_leverage)
        return pd.DataFrame({"monthly_units": volume, "operating_income_usd": np.asarray(result.operating_income),
                             "dol": np.where(np.asarray(result.operating_income) > 0, dol, np.nan)})

    def learning_points(self, points: int = 80) -> pd.DataFrame:
        """Unit cost of the focus family against cumulative units (Wright's law from today's cost)."""
        family = self.focus_family
        cogs = self.plans()[family].unit_cost_usd  # the absorbed cost of today's typical unit
        horizon = max(1.0, self.monthly_units.get(family, 0.0) * self.settings["learning_horizon_months"])
        n = np.unique(np.round(np.geomspace(1, max(horizon, 2), points)))
        result = learning_curve(cogs, self.learning_rate, n, LEARNING_FORMULATION)
        return pd.DataFrame({"cumulative_units": n, "unit_cost_usd": np.asarray(result.unit_cost_n),
                             "average_cost_usd": np.asarray(result.cumulative_average_cost)})

    def eoq_curves(self, points: int = 120) -> dict[str, Any]:
        """Annual setup + holding cost against batch size, today's changeover vs the scenario's."""
        family = self.focus_family
        demand = self.monthly_units.get(family, 0.0) * 12
        founder = self.founder()
        stock_value = self.plans()[family].variable_cost_usd  # what a unit on the shelf has cost to make
        holding = founder.value("holding_cost_rate_per_year") * stock_value
        out = {"family": family, "annual_demand": demand}
        for label, minutes in (("today", self.today_changeover_minutes), ("scenario", self.changeover_minutes)):
            setup = founder.changeover_cost_usd(minutes)
            best = eoq(demand, setup, holding)
            top = max(4 * max(float(best.eoq), 1.0), 20.0)
            q = np.linspace(1, top, points)
            if label == "scenario":
                q = np.linspace(1, max(top, out["today"]["batch_units"][-1]), points)
            cost = inventory_cost(demand, setup, holding, q)
            out[label] = {"changeover_minutes": minutes, "setup_cost_usd": setup, "eoq_units": float(best.eoq),
                          "eoq_total_cost_usd": float(best.total_annual_cost),
                          "batch_units": q, "total_cost_usd": np.asarray(cost.total_annual_cost)}
        return out

    def crossover_curves(self, points: int = 200) -> dict[str, Any]:
        """Total cost of a run against quantity for each process, and where the cheapest one changes."""
        parts = list(dict.fromkeys(self.processes["part"].astype(str)))
        part = self.focus_family if self.focus_family in parts else parts[0]
        procs = self.processes[self.processes["part"].astype(str) == part]
        q = np.geomspace(1, self.settings["crossover_max_units"], points)
        lines = {str(r["display_name"]): float(r["fixed_cost_usd"]) + float(r["variable_cost_per_unit_usd"]) * q
                 for _, r in procs.iterrows()}
        ranges = cheapest_process_ranges(list(procs["display_name"].astype(str)), procs["fixed_cost_usd"].to_numpy(),
                                         procs["variable_cost_per_unit_usd"].to_numpy())
        return {"part": part, "quantity": q, "total_cost_usd": lines, "ranges": ranges}

    def push_vs_mto(self) -> dict[str, Any]:
        """Monthly profit of the focus family made ahead (push, newsvendor quantity) vs made to order.

        A made-ahead unit costs its variable cost (one changeover is spread over the batch) and unsold
        units are salvaged; a made-to-order unit costs that x (1 + premium x changeover / today's changeover).
        """
        family = self.focus_family
        units, prices, variable = self._checked()
        i = self.families.index(family)
        price, cost, mean = float(prices[i]), float(variable[i]), float(units[i])
        founder = self.founder()
        today = self.today_changeover_minutes
        scale = self.changeover_minutes / today if today > 0 else 1.0
        salvage = founder.salvage_fraction * cost
        mto_cost = cost * (1.0 + founder.mto_cost_premium * scale)
        draws = demand_draws(mean, founder.demand_cv, int(self.settings["monte_carlo_draws"]))
        result = push_vs_pull_monte_carlo(price, cost, salvage, mto_cost, draws)
        q = result.push_optimal_order_quantity
        push = (price - salvage) * np.minimum(draws, q) - (cost - salvage) * q
        mto = draws * max(price - mto_cost, 0.0)
        return {"family": family, "push_profit_usd": push, "mto_profit_usd": mto, "result": result,
                "mto_unit_cost_usd": mto_cost, "salvage_value_usd": salvage}

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        products = self.products[["family", *EDITABLE_PRODUCT_COLUMNS]]
        assumptions = self.assumptions[["name", "family", "value"]].astype({"family": "object"})
        return {
            "format": SCENARIO_FORMAT,
            "monthly_units": dict(self.monthly_units), "prices": dict(self.prices),
            "automation_cut": self.automation_cut, "changeover_minutes": self.changeover_minutes,
            "learning_rate": self.learning_rate, "focus_family": self.focus_family,
            "products": json.loads(products.to_json(orient="records")),
            "assumptions": json.loads(assumptions.to_json(orient="records")),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def apply_dict(self, data: dict[str, Any]) -> None:
        """Load a saved scenario onto this one (validated first: nothing changes if it is bad)."""
        if not isinstance(data, dict) or data.get("format") != SCENARIO_FORMAT:
            raise InputError("scenario", f"not a saved scenario (expected format {SCENARIO_FORMAT!r})")
        products = self.products.copy()
        for row in data.get("products", []):
            mask = products["family"] == row.get("family")
            for column in EDITABLE_PRODUCT_COLUMNS:
                if mask.any() and column in row:
                    products.loc[mask, column] = float(row[column])
        assumptions = self.assumptions.copy()
        for row in data.get("assumptions", []):
            family = row.get("family")
            fam = assumptions["family"].fillna("").astype(str)
            mask = (assumptions["name"] == row.get("name")) & (fam == ("" if family is None else str(family)))
            if mask.any():
                assumptions.loc[mask, "value"] = float(row["value"])
        values = {k: data[k] for k in ("monthly_units", "prices", "automation_cut", "changeover_minutes",
                                       "learning_rate", "focus_family") if k in data}
        trial = Scenario(dataclasses.replace(self.tables, products=products, assumptions=assumptions), **values)
        trial.family_table()  # raises InputError on a price outside its band or negative volume
        if trial.focus_family not in trial.families:
            raise InputError("focus_family", f"focus_family={trial.focus_family!r} is not one of {trial.families}")
        self.param.update(products=products, assumptions=assumptions, **values)

    def apply_json(self, text: str) -> None:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError("scenario", f"the scenario file is not JSON: {exc}") from None
        self.apply_dict(data)


def demand_draws(mean: float, cv: float, n: int, seed: int = 0) -> np.ndarray:
    """Monthly demand draws (units): lognormal with the given mean and coefficient of variation."""
    if mean <= 0:
        return np.zeros(max(n, 2))
    sigma2 = np.log1p(cv**2)
    mu = np.log(mean) - sigma2 / 2
    return np.random.default_rng(seed).lognormal(mu, np.sqrt(sigma2), n)
