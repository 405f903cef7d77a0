"""Where a plan's idle goes, as one JSON document: the figures sessions 7 and 8 computed by hand to see
what the 20 x 500 plan loses against the lower bound.

Per instance (somana_core.scheduling.synthetic, tight and loose due dates), the `solve` plan (cp-sat,
the time limit given) and its parts:
- nights: a plate whose printer next clears a plate after an unstaffed gap (its print runs into the
  night, the printer waits for the morning); their prints' mean length against the mean of as many of
  the longest plates; how long before the shift's end they started; how long after the next shift
  opened the morning's plate clear began;
- idle inside shifts (between a print's end and the next plate clear, no gap between);
- setups (spool swaps, purges, nozzle swaps beyond the plate clears);
- per printer: its last plate's end (hours since the plan's origin) and the day its last plate started.
And the lower bound's parts beside them (`bounds.lower_bound`).

Run:  .venv/bin/python benchmarks/schedule_anatomy.py --out benchmarks/results/schedule_anatomy.json
      .venv/bin/python benchmarks/schedule_anatomy.py --seeds 0 --spreads 1.1 --seconds 10
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time


def anatomy(instance, plan) -> dict:
    from somana_core.scheduling.model import figures

    cal = instance.calendar
    nights, evening, morning = [], [], []
    in_shift_idle = 0
    ends = []
    for pid, rows in plan.by_printer().items():
        rows = [a for a in rows if not a.fixed]
        if not rows:
            continue
        ends.append({"printer": pid, "end_h": round(rows[-1].end / 60, 1),
                     "last_start_day": cal.at(rows[-1].changeover_start).strftime("%a")})
        for a, b in zip(rows, rows[1:]):
            closes = cal.window_end(a.changeover_start)
            if closes is not None and b.changeover_start >= closes:
                nights.append(a.end - a.start)
                evening.append(closes - a.start)
                morning.append(b.changeover_start - _window_start(cal, b.changeover_start))
            else:
                in_shift_idle += max(0, b.changeover_start - a.end)
    durations = sorted((instance.duration(j) for j in instance.plannable()), reverse=True)
    f = figures(instance, plan)
    out = {
        "objective": f["objective"],
        "weighted_tardiness_min": f["weighted_tardiness_min"],
        "changeover_min": f["changeover_min"],
        "setup_min": f["setup_min"],
        "idle_min": f["idle_min"],
        "nights": len(nights),
        "night_print_mean_min": round(statistics.mean(nights)) if nights else None,
        "longest_plates_as_many_mean_min": round(statistics.mean(durations[:len(nights)])) if nights else None,
        "night_print_started_before_shift_end_mean_min": round(statistics.mean(evening)) if evening else None,
        "morning_clear_after_shift_start_mean_min": round(statistics.mean(morning)) if morning else None,
        "idle_inside_shifts_min": in_shift_idle,
        "printers_by_end": sorted(ends, key=lambda e: e["end_h"]),
    }
    return out


def _window_start(cal, t: int) -> int:
    """The start of the staffed window `t` is in."""
    for ws, we, _staff in cal.windows:
        if ws <= t < we:
            return ws
    return t


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--printers", type=int, default=20)
    ap.add_argument("--plates", type=int, default=500)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--spreads", type=float, nargs="+", default=[1.1, 2.0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--out")
    args = ap.parse_args(argv)
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from somana_core.scheduling import solve, synthetic
    from somana_core.scheduling.bounds import lower_bound

    runs = []
    load_start = open("/proc/loadavg").read().split()[:3]
    for spread in args.spreads:
        for seed in args.seeds:
            inst = synthetic.instance(args.printers, args.plates, seed=seed, due_spread=spread)
            started = time.perf_counter()
            plan = solve(inst, "cp-sat", time_limit_s=args.seconds, seed=seed, with_bound=False)
            row = {"due_spread": spread, "seed": seed, "plan_s": round(time.perf_counter() - started, 2)}
            row.update(anatomy(inst, plan))
            bound = lower_bound(inst)
            row["lower_bound"] = {k: round(v) for k, v in bound.items()}
            runs.append(row)
    doc = {"command": " ".join(["benchmarks/schedule_anatomy.py", *(argv or sys.argv[1:])]),
           "printers": args.printers, "plates": args.plates, "seconds": args.seconds, "cpus": os.cpu_count(),
           "load_average_start": load_start, "runs": runs,
           "load_average_end": open("/proc/loadavg").read().split()[:3]}
    text = json.dumps(doc, indent=2)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
