"""`somana simulate`: a simulated factory week under one scheduling policy (virtual time).

    somana simulate --days 7 --printers N [--orders FILE | --rate R] [--policy cp-sat|fifo] [--seed S]
                    [--solve-seconds S] [--share-plates] [--outages N] [--calm] --json

The week's stressors come from data/simulated_floor.csv: customers asking rush, standard or relaxed dates,
and printers going offline at random (`--outages` per printer-week overrides the table; `--calm` drops both).
"""

from __future__ import annotations

import json

LIMITS = {"--days": (0.5, 60.0), "--printers": (1, 200), "--rate": (0.0, 2000.0), "--seed": (0, 2**31 - 1),
          "--solve-seconds": (0.0, 60.0), "--outages": (0.0, 20.0)}


def configure(parser) -> None:
    parser.add_argument("--days", default="7", help="simulated days (0.5-60, default 7)")
    parser.add_argument("--printers", default="6", help="printers in the farm (1-200; the floor's own repeated)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--orders", default=None, metavar="FILE",
                        help="orders to replay (CSV or JSON: family, arrival_h, print_h[, qty, material, colour])")
    source.add_argument("--rate", default=None, help="orders per day (default: the founders' planned volume)")
    parser.add_argument("--policy", default="cp-sat", help="cp-sat (default) or fifo")
    parser.add_argument("--seed", default="0", help="random seed (default 0)")
    parser.add_argument("--solve-seconds", default="1", help="solver time per re-plan, s (0-60, default 1)")
    parser.add_argument("--share-plates", action="store_true",
                        help="cp-sat: put small parts of several orders on one plate when no promise slips")
    parser.add_argument("--outages", default=None,
                        help="printer outages per printer-week (0-20; default: data/simulated_floor.csv)")
    parser.add_argument("--calm", action="store_true",
                        help="no stressors: every order asks the standard lead time, no printer goes offline")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def _number(name: str, text: str, whole: bool = False):
    from somana_core.errors import InputError

    low, high = LIMITS[name]
    try:
        value = int(text) if whole else float(text)
    except (TypeError, ValueError):
        kind = "a whole number" if whole else "a number"
        raise InputError(name, f"{name} {text!r} is not {kind} ({low:g}-{high:g})") from None
    if not low <= value <= high:
        raise InputError(name, f"{name} {value:g} is outside {low:g}-{high:g}")
    return value


def run(args) -> int:
    from somana.cli.plan import policy_arg
    from somana_core.scheduling.simulate import read_orders, simulate

    days = _number("--days", args.days)
    printers = _number("--printers", args.printers, whole=True)
    rate = None if args.rate is None else _number("--rate", args.rate)
    seed = _number("--seed", args.seed, whole=True)
    solve_s = _number("--solve-seconds", args.solve_seconds)
    policy = policy_arg(args.policy, ("cp-sat", "fifo"))
    outages = None if args.outages is None else _number("--outages", args.outages)
    orders = read_orders(args.orders) if args.orders else None
    result = simulate(days=days, printers=printers, rate_per_day=rate, orders=orders, policy=policy, seed=seed,
                      solve_s=solve_s, share_plates=args.share_plates, stressors=not args.calm,
                      outages_per_week=outages)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for key, value in result.items():
        print(f"{key:<30} {value}")
    return 0
