"""Learning curves (Wright's law): cost falls by a fixed fraction with each doubling of output.

Two formulations that textbooks both call "the learning curve" and that differ by about 30% on
real data, so the caller must name one:

* ``"crawford_unit"``: the cost of unit n is T1 * n^b, b = log2(learning_rate); totals are the
  exact sum over units 1..n.
* ``"wright_cumulative_average"``: the average cost of the first n units is T1 * n^b; the total is
  T1 * n^(b+1) and unit n costs the difference of two totals.

Conventions for scalars and arrays: `somana_core.economics._arrays`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from somana_core.errors import InputError

from ._arrays import Inputs, above, require, whole

FORMULATIONS = ("crawford_unit", "wright_cumulative_average")

# Units 1.._DIRECT_TERMS-1 are summed term by term; the tail by Euler-Maclaurin (exact to double
# precision from this starting point for any learning rate in (0, 1], see the tests).
_DIRECT_TERMS = 16
# Bernoulli numbers B2, B4, B6, B8 over their factorials, for the Euler-Maclaurin correction terms.
_EM_COEFFICIENTS = (1.0 / 12.0, -1.0 / 720.0, 1.0 / 30240.0, -1.0 / 1209600.0)


@dataclass(frozen=True)
class LearningCurveResult:
    unit_cost_n: Any  # cost of the n-th unit, USD
    cumulative_total_cost: Any  # cost of units 1..n, USD
    cumulative_average_cost: Any  # cumulative_total_cost / n, USD


# i^b for i = 1..15 from the primes' powers alone (one exp per prime, products for the rest): the head
# of the sum is the hot loop of the vectorised model.
_FACTORS = {4: (2, 2), 6: (2, 3), 8: (4, 2), 9: (3, 3), 10: (2, 5), 12: (4, 3), 14: (2, 7), 15: (3, 5)}
_PRIMES = (2, 3, 5, 7, 11, 13)


def _head_sum(b: np.ndarray, n: np.ndarray | None) -> np.ndarray:
    """sum_{i=1}^{min(n, 15)} i**b; with n None, all 15 terms."""
    powers = {p: np.exp(b * np.log(p)) for p in _PRIMES}
    for i in range(2, _DIRECT_TERMS):
        if i not in powers:
            left, right = _FACTORS[i]
            powers[i] = powers[left] * powers[right]
    total = np.ones_like(b)
    for i in range(2, _DIRECT_TERMS):
        total += powers[i] if n is None else np.where(n >= i, powers[i], 0.0)
    return total


def _tail_sum(b: np.ndarray, n: np.ndarray) -> np.ndarray:
    """sum_{i=16}^{n} i**b for n >= 16 by Euler-Maclaurin with four Bernoulli corrections."""
    m = float(_DIRECT_TERMS)
    c = b + 1.0
    log_ratio = np.log(n) - np.log(m)
    n_b = np.exp(b * np.log(n))
    m_b = np.exp(b * np.log(m))
    # integral_m^n x^b dx = m^c (exp(c ln(n/m)) - 1) / c, written to stay exact as c -> 0 (b = -1).
    small = np.abs(c) < 1e-9
    safe_c = np.where(small, 1.0, c)
    integral = m * m_b * np.where(small, log_ratio * (1.0 + c * log_ratio / 2.0), np.expm1(c * log_ratio) / safe_c)
    total = integral + (m_b + n_b) / 2.0
    # Odd derivatives f^(2k-1)(x) = b (b-1) ... (b-2k+2) x^(b-2k+1).
    inv_n2 = 1.0 / (n * n)
    n_term = n_b / n
    m_term = m_b / m
    falling = b
    for k, coefficient in enumerate(_EM_COEFFICIENTS, start=1):
        if k > 1:
            order = 2 * k - 1
            falling = falling * (b - (order - 2)) * (b - (order - 1))
            n_term = n_term * inv_n2
            m_term = m_term / (m * m)
        total = total + coefficient * falling * (n_term - m_term)
    return total


def _power_sum(exponent: np.ndarray, n: np.ndarray) -> np.ndarray:
    """sum_{i=1}^{n} i**exponent for whole n >= 1 and exponent <= 0, vectorised."""
    b, n = np.broadcast_arrays(np.asarray(exponent, dtype=float), np.asarray(n, dtype=float))
    short = n < _DIRECT_TERMS
    if not short.any():
        return _head_sum(b, None) + _tail_sum(b, n)
    if short.all():
        return _head_sum(b, n)
    total = np.empty(b.shape)
    total[short] = _head_sum(b[short], n[short])
    long = ~short
    total[long] = _head_sum(b[long], None) + _tail_sum(b[long], n[long])
    return total


def learning_curve(first_unit_cost, learning_rate, units, formulation) -> LearningCurveResult:
    """Cost of the n-th unit, and the total and average of the first n, on a learning curve.

    first_unit_cost (USD) > 0; learning_rate in (0, 1] (0.8 = each doubling costs 80% of the
    previous; at least 0.5 for the cumulative-average formulation, whose unit costs turn negative
    below); units a whole number >= 1 (the cumulative count n); formulation one of
    ``"crawford_unit"`` or ``"wright_cumulative_average"`` (required: no default).
    """
    if formulation not in FORMULATIONS:
        raise InputError("formulation", f"formulation={formulation!r} is not allowed: it must be one of "
                                        f"{', '.join(repr(f) for f in FORMULATIONS)}")
    x = Inputs(first_unit_cost=first_unit_cost, learning_rate=learning_rate, units=units)
    first, rate, n = x.values("first_unit_cost", "learning_rate", "units")
    above("first_unit_cost", first, 0, "USD")
    require("learning_rate", rate, (rate <= 0) | (rate > 1),
            "it must be in (0, 1] (0.8 means each doubling of output costs 80% of the previous)")
    whole("units", n, 1)

    b = np.log2(rate)
    if formulation == "crawford_unit":
        unit = first * n**b
        total = first * _power_sum(b, n)
        average = total / n
    else:
        require("learning_rate", rate, rate < 0.5, "it must be in [0.5, 1] for 'wright_cumulative_average' "
                "(below 0.5 the total cost of n units falls as n grows: negative unit costs)")
        c = b + 1.0
        average = first * n**b
        total = average * n
        # unit n = T1 (n^c - (n-1)^c) = -T1 n^c expm1(c log1p(-1/n)): no cancellation for large n.
        unit = np.where(n > 1, -first * n**c * np.expm1(c * np.log1p(-1.0 / np.maximum(n, 2.0))), first)
    return LearningCurveResult(unit_cost_n=x.out(unit), cumulative_total_cost=x.out(total),
                               cumulative_average_cost=x.out(average))
