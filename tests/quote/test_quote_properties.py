"""Properties every quote keeps, over random geometry, quantities and slicer figures (bounded fuzzing)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from somana_core.economics import founder_assumptions, policy_price
from somana_core.quote import quote_metrics

FAMILIES = ("sensor_enclosure", "kit_enclosure", "eyewear_frame")

part = st.fixed_dictionaries({
    "volume_mm3": st.floats(100, 500_000),
    "area_mm2": st.floats(100, 200_000),
    "bbox_mm": st.tuples(st.floats(5, 200), st.floats(5, 200), st.floats(0.5, 200)).map(list),
})


@settings(max_examples=60, deadline=None)
@given(parts=st.lists(part, min_size=1, max_size=3), family=st.sampled_from(FAMILIES), qty=st.integers(1, 200),
       sliced=st.none() | st.tuples(st.floats(60, 200_000), st.floats(0.5, 2000)))
def test_quote_invariants(parts, family, qty, sliced):
    named = {f"p{i}": {**p, "mass_g": p["volume_mm3"] / 1000 * 1.24} for i, p in enumerate(parts)}
    total = {k: sum(p[k] for p in named.values()) for k in ("volume_mm3", "area_mm2", "mass_g")}
    metrics = {"parts": named, "total": total, "material": "PLA"}
    kw = {} if sliced is None else {"print_time_s": sliced[0], "filament_g": sliced[1]}
    q = quote_metrics(metrics, family, qty=qty, **kw)
    assert q.unit_cost == pytest.approx(sum(line.amount_usd for line in q.lines), abs=1e-3)
    assert all(line.amount_usd >= 0 for line in q.lines)
    assert q.unit_price == policy_price(founder_assumptions(), family, q.unit_cost).unit_price_usd
    assert q.variable_unit_cost <= q.unit_cost and q.operating_margin <= q.contribution_margin
    assert q.needs_approval == (not q.price_band_usd[0] <= q.unit_price <= q.price_band_usd[1])
    assert q.total_price == pytest.approx(q.unit_price * qty, abs=0.01)
    prices = [p for _, p in q.breaks]
    assert prices == sorted(prices, reverse=True)
    assert q.lead_time_days >= 1 and q.print_time_s >= 0 and q.filament_g >= 0
    assert q.print_time_source == ("estimate" if sliced is None else "slicer")
