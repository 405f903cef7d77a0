"""Equal-cost points: the volume where one process (injection moulding) overtakes another (3D printing).

Total cost of a process over a run of q units is fixed_cost + variable_cost * q (tooling or setup,
then per unit). Conventions for scalars, arrays and undefined (None / masked) fields:
`somana_core.economics._arrays`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from somana_core.errors import InputError

from ._arrays import Inputs, at_least, safe_divide


@dataclass(frozen=True)
class CrossoverResult:
    crossover_units: Any  # units where the totals are equal; None/masked when they never cross at q > 0
    cheaper_below_crossover: Any  # "a"/"b"; None/masked when no crossover (see cheaper_everywhere)
    cheaper_above_crossover: Any  # "a"/"b"; None/masked when no crossover
    cheaper_everywhere: Any  # "a"/"b" when one is never dearer for q > 0; None when they cross or are identical


def crossover(fixed_cost_a, variable_cost_a, fixed_cost_b, variable_cost_b) -> CrossoverResult:
    """Where process a and process b cost the same: q* = (F_b - F_a) / (v_a - v_b), when q* > 0.

    All costs (USD) >= 0. Below a crossover the process with the lower fixed cost is cheaper,
    above it the one with the lower variable cost. Without a crossover at q > 0 one process is
    cheaper everywhere (``cheaper_everywhere``), or the two are identical (all None).
    """
    x = Inputs(fixed_cost_a=fixed_cost_a, variable_cost_a=variable_cost_a,
               fixed_cost_b=fixed_cost_b, variable_cost_b=variable_cost_b)
    fa, va, fb, vb = x.values("fixed_cost_a", "variable_cost_a", "fixed_cost_b", "variable_cost_b")
    for name, value in (("fixed_cost_a", fa), ("variable_cost_a", va), ("fixed_cost_b", fb), ("variable_cost_b", vb)):
        at_least(name, value, 0, "USD")

    slope_gap = va - vb
    units = safe_divide(fb - fa, slope_gap, slope_gap != 0)
    crosses = (slope_gap != 0) & (units > 0) & np.isfinite(units)  # a crossing beyond float range never comes
    below = np.where(fa < fb, "a", "b")  # the cheaper start wins before the lines cross
    above = np.where(va < vb, "a", "b")  # the flatter line wins after
    # Without a crossing at q > 0, the one with the lower variable cost (or, equal slopes, lower fixed) wins.
    # A crossing beyond float range never comes: the cheaper start wins everywhere.
    dominant = np.where(slope_gap != 0, np.where(np.isfinite(units), above, below), np.where(fa < fb, "a", "b"))
    identical = (slope_gap == 0) & (fa == fb)
    return CrossoverResult(
        crossover_units=x.optional(units, crosses),
        cheaper_below_crossover=x.optional_label(below, crosses),
        cheaper_above_crossover=x.optional_label(above, crosses),
        cheaper_everywhere=x.optional_label(dominant, ~crosses & ~identical),
    )


@dataclass(frozen=True)
class ProcessRange:
    process: str  # the cheapest process on this range
    from_units: float  # range start (inclusive), units
    to_units: float | None  # range end (the next crossover), None for "and above"
    fixed_cost: float  # that process's fixed (tooling/setup) cost, USD
    variable_cost_per_unit: float  # that process's variable cost, USD/unit


def _check_processes(process_names: Sequence[str], fixed_costs, variable_costs):
    names = [str(n) for n in process_names]
    fixed = np.asarray(fixed_costs, dtype=float).reshape(-1)
    variable = np.asarray(variable_costs, dtype=float).reshape(-1)
    if not names:
        raise InputError("process_names", "process_names is empty: give at least one process")
    if len(set(names)) != len(names):
        raise InputError("process_names", f"process_names={names} has duplicates: each process needs its own name")
    if not (len(names) == fixed.size == variable.size):
        raise InputError("fixed_costs", f"fixed_costs has {fixed.size} and variable_costs {variable.size} entries "
                                        f"for {len(names)} processes: give one of each per process")
    for field, values in (("fixed_costs", fixed), ("variable_costs", variable)):
        bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            i = int(np.argmax(bad))
            raise InputError(field, f"{field}[{names[i]}]={values[i]:g} is not allowed: it must be a finite "
                                    "number >= 0 USD")
    return names, fixed, variable


def cheapest_process_ranges(process_names: Sequence[str], fixed_costs, variable_costs) -> tuple[ProcessRange, ...]:
    """The lower envelope of N processes' cost lines: which process is cheapest on which volume range.

    Ranges cover q >= 0 in order; at a boundary (a crossover) the process with the lower variable
    cost takes over. Ties at q = 0 go to the lower variable cost, then to the earlier process.
    Processes that are never cheapest do not appear.
    """
    names, fixed, variable = _check_processes(process_names, fixed_costs, variable_costs)
    order = sorted(range(len(names)), key=lambda i: (fixed[i], variable[i], i))
    current, start = order[0], 0.0
    ranges: list[ProcessRange] = []
    while True:
        next_at, next_index = None, None
        for j in range(len(names)):
            if variable[j] >= variable[current]:
                continue  # never overtakes the current process for larger volumes
            at = max(start, (fixed[j] - fixed[current]) / (variable[current] - variable[j]))
            if next_at is None or at < next_at or (at == next_at and variable[j] < variable[next_index]):
                next_at, next_index = at, j
        if next_at is not None and next_at <= start:
            current = next_index  # equal cost right at the range start: the flatter line owns the range
            continue
        ranges.append(ProcessRange(process=names[current], from_units=float(start),
                                   to_units=None if next_at is None else float(next_at),
                                   fixed_cost=float(fixed[current]), variable_cost_per_unit=float(variable[current])))
        if next_at is None:
            return tuple(ranges)
        current, start = next_index, next_at


def cheapest_process(quantity, process_names: Sequence[str], fixed_costs, variable_costs):
    """Name of the cheapest process for a run of `quantity` units (>= 0), scalar or array.

    Ties go to the process with the lower variable cost (it stays cheaper beyond), then the earlier one.
    Returns a str for scalar input, otherwise a numpy array of names of the same shape.
    """
    names, fixed, variable = _check_processes(process_names, fixed_costs, variable_costs)
    x = Inputs(quantity=quantity)
    q = x["quantity"]
    at_least("quantity", q, 0, "units")
    totals = fixed[:, None] + variable[:, None] * q.reshape(1, -1)
    # Order candidates by variable cost so argmin's first-minimum rule breaks ties the documented way.
    order = np.lexsort((np.arange(len(names)), variable))
    best = order[np.argmin(totals[order], axis=0)]
    labels = np.asarray(names, dtype=object)[best].astype(str).reshape(q.shape)
    return str(labels) if x.scalar else labels
