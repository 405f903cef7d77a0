"""Quotes of real built products: every family, estimate against the real slicer."""

from __future__ import annotations

import pytest

from somana_core.geometry import FAMILIES, build, make_spec
from somana_core.quote import quote_product, quote_sliced
from somana_core.slicing import slice_product


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_default_product_estimate_is_near_the_slicer_and_sliced_quote_uses_it(family, tmp_path):
    product = build(make_spec(family, {}))
    estimated = quote_product(product, family)
    result = slice_product(product, tmp_path / "plate.gcode")
    sliced = quote_sliced(product, family, result)
    assert sliced.print_time_source == "slicer" and sliced.print_time_s == result.print_time_s
    assert sliced.filament_g == result.filament_g
    # the calibrated estimate is a quote-time stand-in for the slicer: within 25% on the defaults
    assert estimated.print_time_s == pytest.approx(result.print_time_s, rel=0.25)
    assert estimated.filament_g == pytest.approx(result.filament_g, rel=0.25)
    assert sliced.machine == product.values["machine"]
