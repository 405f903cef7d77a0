"""Absorption costing: at the planned volume the unit costs add up to the month's fixed and variable costs,
whatever the founders assume (bounded property test), and a scenario's edits reach every figure."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from somana_core.economics import absorption_rates, founder_assumptions, month_at_plan, policy_price
from somana_core.errors import InputError

BASE = founder_assumptions()


@settings(max_examples=40, deadline=None)
@given(rent=st.floats(0, 20_000), wage=st.floats(2_000, 12_000), staff=st.integers(1, 6),
       printers=st.integers(1, 40), hours=st.floats(60, 200),
       units=st.tuples(st.floats(1, 300), st.floats(0, 300), st.floats(0, 300)))
def test_the_plan_absorbs_the_month_whatever_the_assumptions(rent, wage, staff, printers, hours, units):
    a = BASE.with_factory_values(rent_per_month=rent, wage_per_person_per_month=wage, staff_count=staff,
                                 printer_count=printers, productive_hours_per_person_per_month=hours)
    a = dataclasses.replace(a, planned_units=MappingProxyType(dict(zip(a.families, units))))
    try:
        rates = absorption_rates(a)
    except InputError as err:  # the plan needs more floor hours than the staff has: refused, by name
        assert err.field == "planned_monthly_units"
        return
    month = month_at_plan(a)
    assert month.total_cost_usd == pytest.approx(month.fixed_costs_usd + month.variable_costs_usd)
    assert month.absorbed_cost_usd == pytest.approx(month.total_cost_usd, rel=1e-5, abs=0.01 * sum(units))
    assert rates.overhead_usd_per_month >= 0 and rates.labour_usd_per_h == pytest.approx(wage / hours)


def test_the_tables_absorption_rates_by_hand():
    rates = absorption_rates(BASE)
    # 120 x 2.55 / 0.95 + 80 x 3.22 / 0.95 + 30 x 1.23 / 0.92 printer hours (reprints included): the
    # typical units as `somana typical-units --write` derived them on 2026-12-03 (eyewear front printed flat)
    print_h = 120 * 2.55 / 0.95 + 80 * 3.22 / 0.95 + 30 * 1.23 / 0.92
    assert rates.planned_print_h_per_month == pytest.approx(print_h)
    assert rates.printer_depreciation_usd_per_h == pytest.approx(250 / print_h)  # 6 x 1500 / 36 = 250 USD/month
    # setup 5 min (eyewear 8) per order, reprinted with the part; post-processing 6 / 5 / 15 min, and the
    # typical eyewear unit (heat_formed) 5 min of forming_min: its default front is bent to its 5 degree wrap
    labour_h = (120 * (5 / 0.95 + 6) + 80 * (5 / 0.95 + 5) + 30 * (8 / 0.92 + 15 + 5)) / 60
    assert rates.direct_labour_h_per_month == pytest.approx(labour_h)
    assert rates.overhead_usd_per_month == pytest.approx(12_500 - 250 - 30 * labour_h)
    assert rates.overhead_usd_per_unit == pytest.approx(rates.overhead_usd_per_month / 230)


def test_a_plan_beyond_the_staffs_hours_is_refused():
    a = dataclasses.replace(BASE, planned_units=MappingProxyType({f: 2000.0 for f in BASE.families}))
    with pytest.raises(InputError) as err:
        absorption_rates(a)
    assert err.value.field == "planned_monthly_units" and "300.0 h" in err.value.message


def test_market_price_never_sits_under_cost_plus():
    policy = BASE.pricing["eyewear_frame"]
    assert policy.method == "market_band"
    assert policy_price(BASE, "eyewear_frame", 100.0).unit_price_usd == 300.0
    floor = policy_price(BASE, "eyewear_frame", 700.0)  # cost + 30% = 1000 USD: above the band, needs approval
    assert floor.unit_price_usd == 1000.0 and not floor.in_band
