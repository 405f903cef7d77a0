"""Time every economics model over 1,000,000 parameter points, and Monte Carlo push vs pull over 1,000,000 draws.

Prints one JSON document: median seconds of a few runs per model (target: each under 0.5 s on the
2-core build machine; other work on the machine makes single runs noisy, hence medians).
Run: .venv/bin/python benchmarks/economics.py [--points N] [--repeats R]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import numpy as np

from somana_core.economics import (break_even, cheapest_process, crossover, eoq, epq, gross_margin, high_low,
                                   inventory_cost, learning_curve, newsvendor, operating_leverage, price_for_margin,
                                   push_vs_pull, push_vs_pull_monte_carlo, required_setup_cost, step_break_even)


def _cases(n: int, rng: np.random.Generator) -> dict:
    """name -> (model, arguments): every parameter array is drawn here, before any timing starts."""
    def u(low, high):
        return rng.uniform(low, high, n)

    demand = u(0, 1e5)
    price = u(10, 800)
    cost = price * u(0.1, 0.9)
    units = rng.integers(1, 100_000, n)
    return {
        "eoq": (eoq, (demand, u(0, 100), u(0.1, 10), u(0, 50))),
        "inventory_cost": (inventory_cost, (demand, u(0, 100), u(0.1, 10), u(1, 1000))),
        "epq": (epq, (demand, demand + u(1, 1e5), u(0, 100), u(0.1, 10))),
        "required_setup_cost": (required_setup_cost, (demand + 1, u(0.1, 10), u(0, 100))),
        "break_even": (break_even, (u(0, 1e5), price, cost * u(0.5, 1.5))),
        "step_break_even": (step_break_even, (u(0, 1e5), u(0, 5e3), rng.integers(1, 500, n), price, cost)),
        "high_low": (high_low, (u(0, 100), u(0, 1e3), u(101, 1e3), u(1e3, 5e3))),
        "operating_leverage": (operating_leverage, (u(1, 1e4) + 0.5, price, cost, u(0, 1e5))),
        "learning_curve_crawford_unit": (learning_curve, (price, u(0.6, 1.0), units, "crawford_unit")),
        "learning_curve_wright_cumulative_average": (learning_curve, (price, u(0.6, 1.0), units,
                                                                      "wright_cumulative_average")),
        "crossover": (crossover, (u(0, 2e4), u(0, 20), u(0, 2e4), u(0, 20))),
        "cheapest_process_of_3": (cheapest_process, (u(0, 1e4), ["printing", "moulding", "manual"],
                                                     [50, 12000, 0], [9.0, 1.6, 38.0])),
        "gross_margin": (gross_margin, (price, cost)),
        "price_for_margin": (price_for_margin, (cost, u(0, 0.95))),
        "newsvendor": (newsvendor, (price, cost, cost * u(0, 0.9), demand, demand * u(0, 0.8))),
        "push_vs_pull": (push_vs_pull, (price, cost, cost * u(0, 0.9), demand, demand * u(0, 0.8), cost * u(1, 1.5))),
    }


def _median_seconds(run, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(2026)
    figures = {name: round(_median_seconds(lambda: model(*arguments), args.repeats), 4)
               for name, (model, arguments) in _cases(args.points, rng).items()}
    # The Monte Carlo call includes drawing its 1,000,000 demands from the seeded generator.
    figures["push_vs_pull_monte_carlo_lognormal"] = round(_median_seconds(
        lambda: push_vs_pull_monte_carlo(60, 25, 5, 30, lambda g, n: g.lognormal(3.0, 0.9, n),
                                         n_draws=args.points, seed=1), args.repeats), 4)
    target = 0.5
    print(json.dumps({
        "benchmark": "economics",
        "points": args.points,
        "monte_carlo_draws": args.points,
        "repeats": args.repeats,
        "statistic": "median seconds per call over all points",
        "target_seconds": target,
        "all_under_target": all(v < target for v in figures.values()),
        "seconds": figures,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__,
                    "load_average_1min": round(os.getloadavg()[0], 2)},
    }, indent=2))


if __name__ == "__main__":
    main()
