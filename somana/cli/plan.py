"""`somana plan [--json]`: the current schedule of every printer, from the order store and data/printers.csv.

    somana plan [--json] [--db URL] [--seconds S] [--policy cp-sat|greedy|fifo]
"""

from __future__ import annotations

import json

MAX_SECONDS = 600.0


def configure(parser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--db", default=None, help="order store URL (default: $SOMANA_DB_URL, else the SQLite file)")
    parser.add_argument("--seconds", default="5", help=f"solver time limit, s (0-{MAX_SECONDS:g}; 0 = greedy only)")
    parser.add_argument("--policy", default="cp-sat", help="cp-sat (default), greedy or fifo")


def seconds_arg(text: str, name: str = "--seconds", high: float = MAX_SECONDS) -> float:
    from somana_core.errors import InputError

    try:
        value = float(text)
    except (TypeError, ValueError):
        raise InputError(name, f"{name} {text!r} is not a number (0-{high:g} s)") from None
    if not 0 <= value <= high:
        raise InputError(name, f"{name} {value:g} is outside 0-{high:g} s")
    return value


def policy_arg(text: str, allowed: tuple[str, ...]) -> str:
    from somana_core.errors import InputError

    if text not in allowed:
        raise InputError("--policy", f"--policy {text!r} is not one of {', '.join(allowed)}")
    return text


def run(args) -> int:
    from somana_core.orders import OrderStore
    from somana_core.scheduling.floor import floor_planner, plan_to_dict
    from somana_core.scheduling.plan import POLICIES

    seconds = seconds_arg(args.seconds)
    policy = policy_arg(args.policy, POLICIES)
    with OrderStore(args.db) as store:
        planner, packing = floor_planner(store, policy=policy, time_limit_s=seconds)
    schedule = planner.replan(with_bound=True)
    data = plan_to_dict(planner, schedule, packing)
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    f = data["figures"]
    print(f"plan at {data['origin'][:16]} UTC  {data['method']} ({data['status']}) in {data['solve_s']:.2f} s: "
          f"{f['jobs']} plates, {f['late_jobs']} late, changeover {f['changeover_min']} min, "
          f"plate-clear waits {f['plate_clear_wait_min']} min")
    p = data.get("packing") or {}
    if p.get("plates_saved"):
        print(f"shared plates: {p['shared_plates']} ({p['plates_saved']} plates and {p['minutes_saved']} min saved)")
    for printer in data["printers"]:
        state = "" if printer["online"] else "  OFFLINE"
        print(f"\n{printer['printer']}  {printer['label']}  {printer['material']} {printer['colour']} "
              f"{printer['nozzle_mm']} mm  station {printer['station']}{state}")
        if not printer["jobs"]:
            print("   (nothing planned)")
        for j in printer["jobs"]:
            flags = ["PRINTING"] if j["fixed"] else []
            if j["late_min"]:
                flags.append(f"LATE {j['late_min']} min")
            if j["pinned"]:
                flags.append("pinned")
            swaps = "+".join(c for c in j["changeovers"] if c != "plate_clear")
            print(f"   {j['start'][5:16]} -> {j['end'][5:16]}  {j['job']:<22} {', '.join(j['orders'])}  "
                  f"{j['material']} {j['colour']}{'  [' + swaps + ']' if swaps else ''}"
                  f"{'  ' + ' '.join(flags) if flags else ''}")
    for held in data["held"]:
        print(f"held: {held}")
    return 0
