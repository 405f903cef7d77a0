"""Unit economics of batch-of-one production: pure numpy models, scalar or array in, same shape out.

Every model returns a frozen dataclass (or a float where noted). Array input gives arrays; a
field that can be undefined is None for scalars and a masked array (never NaN) for arrays; bad
input raises `somana_core.errors.InputError` (a ValueError) naming the parameter and the allowed
range. See `_arrays` for the conventions and each module for its model.
"""

from ._arrays import jsonable
from .assumptions import (FounderAssumptions, MonthlyFixedCosts, PricingPolicy, TypicalUnit, assumption,
                          founder_assumptions, load_factory_assumptions, load_process_costs, monthly_fixed_costs,
                          planned_monthly_units)
from .costing import (AbsorptionRates, CostLine, FamilyPlan, MonthAtPlan, PolicyPrice, absorption_rates,
                      family_plans, month_at_plan, policy_price, unit_cost, unit_cost_lines, variable_unit_cost,
                      whole_usd)
from .break_even import BreakEvenResult, StepBreakEvenResult, break_even, step_break_even
from .cost_behaviour import HighLowResult, high_low
from .crossover import (CrossoverResult, ProcessRange, cheapest_process, cheapest_process_ranges, crossover)
from .inventory import (EOQResult, EPQResult, InventoryCostResult, eoq, epq, inventory_cost, required_setup_cost)
from .learning_curve import FORMULATIONS, LearningCurveResult, learning_curve
from .leverage import OperatingLeverageResult, operating_leverage
from .margins import GrossMarginResult, gross_margin, price_for_margin
from .newsvendor import NewsvendorResult, newsvendor
from .portfolio import (FamilyBands, FamilyContribution, PortfolioContribution, ProductFamily, family_bands,
                        load_portfolio, portfolio_bands, portfolio_contribution, portfolio_families)
from .push_pull import PushVsPullMonteCarloResult, PushVsPullResult, push_vs_pull, push_vs_pull_monte_carlo

__all__ = [
    "eoq", "inventory_cost", "epq", "required_setup_cost", "EOQResult", "InventoryCostResult", "EPQResult",
    "break_even", "step_break_even", "BreakEvenResult", "StepBreakEvenResult",
    "high_low", "HighLowResult",
    "operating_leverage", "OperatingLeverageResult",
    "learning_curve", "LearningCurveResult", "FORMULATIONS",
    "crossover", "cheapest_process", "cheapest_process_ranges", "CrossoverResult", "ProcessRange",
    "gross_margin", "price_for_margin", "GrossMarginResult",
    "newsvendor", "NewsvendorResult",
    "push_vs_pull", "push_vs_pull_monte_carlo", "PushVsPullResult", "PushVsPullMonteCarloResult",
    "load_portfolio", "portfolio_families", "family_bands", "portfolio_bands", "portfolio_contribution",
    "ProductFamily", "FamilyBands", "FamilyContribution", "PortfolioContribution",
    "load_factory_assumptions", "assumption", "planned_monthly_units", "monthly_fixed_costs",
    "load_process_costs", "MonthlyFixedCosts",
    "founder_assumptions", "FounderAssumptions", "TypicalUnit", "PricingPolicy",
    "absorption_rates", "unit_cost_lines", "unit_cost", "variable_unit_cost", "policy_price", "family_plans",
    "month_at_plan", "whole_usd", "AbsorptionRates", "CostLine", "PolicyPrice", "FamilyPlan", "MonthAtPlan",
    "jsonable",
]
