"""The order store under the calls a served process makes: what one shared store saves over a store
(engine, schema check) per call, and what a repeated "Place order" with the same key costs.

    .venv/bin/python benchmarks/orders.py [--runs 50]

Prints one JSON document: medians in ms over `runs` calls, SQLite file in a temporary state folder.
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

QUOTE = {"unit_price": 80.0, "qty": 1, "material": "PLA", "status": "issued", "print_time_s": 3600.0}


def _median_ms(fn, runs: int) -> float:
    times = []
    for i in range(runs):
        start = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1000, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    os.environ["SOMANA_HOME"] = tempfile.mkdtemp(prefix="somana-bench-orders-")
    os.environ.pop("SOMANA_DB_URL", None)
    from somana_core import fulfilment
    from somana_core.orders import OrderStore, shared_store

    store = shared_store()
    files = {"part.stl": b"solid part\n" * 2000}

    def store_per_call(i):
        with OrderStore() as own:  # what /configure and /machines did per click and per session
            own.queued_print_time_s()

    report = {
        "runs": args.runs,
        "cpus": os.cpu_count(),
        "load_average_1min": float(Path("/proc/loadavg").read_text().split()[0]),
        "queue_read_store_per_call_ms": _median_ms(store_per_call, args.runs),
        "queue_read_shared_store_ms": _median_ms(lambda i: store.queued_print_time_s(), args.runs),
        "store_order_new_key_ms": _median_ms(
            lambda i: fulfilment.store_order(store, "kit_enclosure", {}, "Ada", QUOTE, files,
                                             idempotency_key=f"bench-key-{i:06d}"), args.runs),
        "store_order_repeated_key_ms": _median_ms(
            lambda i: fulfilment.store_order(store, "kit_enclosure", {}, "Ada", QUOTE, files,
                                             idempotency_key="bench-key-000000"), args.runs),
        "orders_stored": len(store.list()),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
