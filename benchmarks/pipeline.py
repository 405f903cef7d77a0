"""Parameters -> a stored, sliced order, per family: the time of each stage and the total.

Stages (somana_core.fulfilment.place_order): validate, build, export, quote, slice, store. Each run
clears the part cache and changes one dimension a little, so every part is really built. Median of 5 runs per family; target: total <= 4 s per family on a 2-core machine. Also
the quote alone from already-built geometry (target < 20 ms). Prints one JSON document.

    .venv/bin/python benchmarks/pipeline.py [--runs 5] [--out benchmarks/results/pipeline.json] [--pool 2]

`somana publish` shows the figures from benchmarks/results/pipeline.json on the investor pages.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_TOTAL_S = 4.0
TARGET_QUOTE_MS = 20.0


def _varied(spec_cls, run: int) -> dict:
    """The family's defaults with its first length nudged by `run` steps (a fresh build each run)."""
    import param

    for name in spec_cls.parameter_names():
        p = spec_cls.param[name]
        if isinstance(p, param.Number) and not isinstance(p, param.Integer) and p.bounds and p.step:
            value = min(p.bounds[1], p.default + run * p.step)
            return {name: value}
    return {}


def pooled_slicing(families: dict, runs: int, worker_count: int, one_at_a_time_s: float) -> dict:
    """Every family's `runs` variants built, exported and sliced as worker jobs, all submitted at once:
    the batch work a shop does for a day's orders, spread over the worker processes."""
    from somana_core import workers

    pool = workers.start_local(worker_count)
    try:
        pool.warm()
        started = time.perf_counter()
        futures = [pool.submit("slice", family=family, values=_varied(spec_cls, runs + run + 1))
                   for family, spec_cls in families.items() for run in range(runs)]
        results = [f.result() for f in futures]
        elapsed = time.perf_counter() - started
    finally:
        pool.close()
    assert all(r["gcode"] for r in results)
    return {"workers": worker_count, "jobs": len(results), "wall_s": round(elapsed, 2),
            "one_at_a_time_s": round(one_at_a_time_s, 2),
            "speedup": round(one_at_a_time_s / elapsed, 2) if elapsed else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", default=None, help="also write the JSON to this file")
    parser.add_argument("--pool", type=int, default=0, metavar="N",
                        help="also build and slice every family's runs at once on N worker processes "
                             "(somana_core.workers) and report the wall time against one at a time")
    args = parser.parse_args()
    if args.pool < 0:
        parser.exit(2, f"--pool {args.pool} must be 0 (skip) or more worker processes\n")

    home = tempfile.mkdtemp(prefix="somana-bench-")
    os.environ["SOMANA_HOME"] = home
    from somana_core.geometry import FAMILIES, build, make_spec
    from somana_core.geometry.product import clear_cache
    from somana_core.fulfilment import STAGES, place_order
    from somana_core.orders import OrderStore
    from somana_core.quote import quote_product

    report = {"runs": args.runs, "target_total_s": TARGET_TOTAL_S, "target_quote_ms": TARGET_QUOTE_MS,
              "cpus": os.cpu_count(), "families": {}}
    with OrderStore() as store:
        for family, spec_cls in FAMILIES.items():
            runs = []
            for run in range(args.runs):
                clear_cache()  # every part built from scratch, as for a new customer's order
                timings: dict = {}
                order = place_order(store, family, _varied(spec_cls, run + 1), f"bench {run}",
                                    timings=timings)
                assert order.state == "sliced" and len(order.files) == 2
                runs.append(timings)
            stages = {s: round(statistics.median(r[s] for r in runs), 3) for s in (*STAGES, "total")}

            product = build(make_spec(family, {}))  # cached geometry
            quote_product(product, family)
            quote_ms = []
            for _ in range(20):
                start = time.perf_counter()
                quote_product(product, family, qty=3, queue=store)
                quote_ms.append((time.perf_counter() - start) * 1000)
            spec_ms = []
            for _ in range(20):  # what a configurator does on a revisited value: validate, cached build, quote
                start = time.perf_counter()
                quote_product(build(make_spec(family, {})), family, qty=3, queue=store)
                spec_ms.append((time.perf_counter() - start) * 1000)
            report["families"][family] = {
                "median_s": stages,
                "total_max_s": round(max(r["total"] for r in runs), 3),
                "within_target": stages["total"] <= TARGET_TOTAL_S,
                "quote_cached_geometry_ms": round(statistics.median(quote_ms), 2),
                "quote_within_target": statistics.median(quote_ms) < TARGET_QUOTE_MS,
                "validate_cached_build_quote_ms": round(statistics.median(spec_ms), 2),
            }
    if args.pool:
        report["pool"] = pooled_slicing(FAMILIES, args.runs, args.pool,
                                        sum(f["median_s"]["build"] + f["median_s"]["export"] + f["median_s"]["slice"]
                                            for f in report["families"].values()) * args.runs)
    text = json.dumps(report, indent=2)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
