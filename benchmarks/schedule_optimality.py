"""Where does the 20 x 500 gap lie: in the plans or in the lower bound? One JSON document.

On instances small enough for CP-SAT to prove optimality (synthetic.instance, the real calendar and
changeovers, several seeds), three numbers per instance:
- the proven optimum: exact.optimum (a subsets DP per printer, the printers coupled only by the partition
  of the plates; its plan's objective is below every plan's, and when that plan also keeps the staff and
  heat-up caps it is the optimum, "proved"); beside it, as a cross-check, cpsat.solve(exact=True) (CP-SAT's
  own model with every printer, every arc and a safe horizon) and its status;
- our lower bound (bounds.lower_bound, the one the 20 x 500 gap is measured against);
- the plan `solve(instance, "cp-sat", time_limit_s=PLAN_S)` gives (what the product runs).
Ratios optimum / bound (how far the bound is below the truth) and plan / optimum (how far the plan is above
it); the objective's parts (weighted tardiness, changeover, idle) of each, so the missing part is named.

Run:  nice -n 19 .venv/bin/python benchmarks/schedule_optimality.py --out benchmarks/results/schedule_optimality.json
      nice -n 19 .venv/bin/python benchmarks/schedule_optimality.py --quick                (about 1 min)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

SIZES = ((1, 8), (1, 12), (1, 14), (2, 8), (2, 12), (2, 14), (3, 12), (4, 12))
QUICK_SIZES = ((1, 10), (2, 10))


def one(printers: int, plates: int, seed: int, plan_s: float, proof_s: float, due_spread: float) -> dict:
    from somana_core.scheduling import cpsat, exact, figures, solve, synthetic
    from somana_core.scheduling.bounds import lower_bound

    inst = synthetic.instance(printers, plates, seed=seed, due_spread=due_spread)
    started = time.perf_counter()
    plan = solve(inst, "cp-sat", time_limit_s=plan_s, seed=seed, with_bound=False)
    plan_wall = time.perf_counter() - started
    fp = figures(inst, plan)
    started = time.perf_counter()
    bound = lower_bound(inst)
    bound_wall = time.perf_counter() - started
    started = time.perf_counter()
    relaxed = exact.optimum(inst)
    exact_wall = time.perf_counter() - started
    parts = ("objective", "weighted_tardiness_min", "changeover_min", "setup_min", "idle_min", "plate_clear_wait_min")
    row = {"printers": printers, "plates": plates, "seed": seed,
           "plan": {k: fp[k] for k in parts} | {"solve_s": round(plan_wall, 2), "method": plan.method},
           "bound": {k: round(v, 1) for k, v in bound.items()} | {"solve_s": round(bound_wall, 2)}}
    fo = figures(inst, relaxed["plan"])
    row["optimum"] = {k: fo[k] for k in parts} | {
        "proved": relaxed["proved"], "solve_s": round(exact_wall, 2), "problems": relaxed["problems"][:3],
        "method": "exact.optimum: subsets DP per printer, printers coupled only by the partition; proved when "
                  "its plan also keeps the staff and heat-up caps (model.check), else a lower bound"}
    if proof_s > 0:
        started = time.perf_counter()
        cp = cpsat.solve(inst, plan, proof_s, workers=2, seed=seed, exact=True)
        row["cp_sat_exact"] = {"status": cp.status if cp else "nothing found", "solve_s": round(time.perf_counter() - started, 2)}
        if cp is not None:
            row["cp_sat_exact"] |= {"objective": figures(inst, cp)["objective"],
                                    "bound": round(cp.lower_bounds["cp_sat"], 1)}
    # the optimum: the DP's when its plan keeps every rule; else CP-SAT's when it proved optimality; else it lies
    # between the DP's relaxation and the best plan found
    cp = row.get("cp_sat_exact", {})
    upper = min([fp["objective"]] + ([cp["objective"]] if cp.get("objective") is not None else []))
    if relaxed["proved"]:
        opt, row["proved_by"] = relaxed["objective"], "dp"
    elif cp.get("status") == "optimal":
        opt, row["proved_by"] = cp["objective"], "cp-sat"
    else:
        opt, row["proved_by"] = relaxed["objective"], None
    if relaxed["proved"] and cp.get("status") == "optimal":
        row["dp_and_cp_sat_agree"] = cp["objective"] == relaxed["objective"]
    row["optimum_at_least"] = opt
    row["optimum_at_most"] = opt if row["proved_by"] else upper
    if opt > 0:
        row["optimum_over_bound"] = round(opt / bound["objective"], 4) if bound["objective"] > 0 else None
        row["plan_over_optimum"] = round(fp["objective"] / opt, 4)
        row["gap_to_bound"] = round((fp["objective"] - bound["objective"]) / fp["objective"], 4)
        row["share_of_gap_in_bound"] = (round((opt - bound["objective"]) / (fp["objective"] - bound["objective"]), 4)
                                        if fp["objective"] > bound["objective"] else None)
    return row


def _median(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 4) if values else None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="two small sizes, two seeds")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--plan-s", type=float, default=3.0, help="time limit of the plan under study (s)")
    ap.add_argument("--proof-s", type=float, default=10.0,
                    help="time cpsat.solve(exact=True) gets as a cross-check (s; 0: skip)")
    ap.add_argument("--due-spread", type=float, default=1.1, help="synthetic.instance's due_spread (1.1 tight)")
    ap.add_argument("--size", action="append", default=[], help="PRINTERSxPLATES, repeatable (default: a ladder)")
    ap.add_argument("--out", help="write the JSON here too")
    args = ap.parse_args(argv)
    sizes = [tuple(int(x) for x in s.lower().split("x")) for s in args.size] or (QUICK_SIZES if args.quick else SIZES)
    seeds = list(range(2 if args.quick else args.seeds))
    rows = []
    for printers, plates in sizes:
        for seed in seeds:
            row = one(printers, plates, seed, args.plan_s, args.proof_s, args.due_spread)
            rows.append(row)
            print(json.dumps({k: row.get(k) for k in ("printers", "plates", "seed", "optimum_over_bound",
                                                        "plan_over_optimum")}
                             | {"proved_by": row["proved_by"], "opt": row["optimum_at_least"],
                                "bound": row["bound"]["objective"], "plan": row["plan"]["objective"],
                                "cp_sat": row.get("cp_sat_exact")}),
                  file=sys.stderr)
    summary = {}
    for printers, plates in sizes:
        mine = [r for r in rows if (r["printers"], r["plates"]) == (printers, plates)]
        proved = [r for r in mine if r["proved_by"]]
        summary[f"{printers}x{plates}"] = {
            "proved_optimal": f"{len(proved)}/{len(mine)}",
            "exact_s_max": max(r["optimum"]["solve_s"] for r in mine),
            "cp_sat_exact_proved": sum(1 for r in mine if r.get("cp_sat_exact", {}).get("status") == "optimal"),
            "optimum_over_bound_median": _median([r.get("optimum_over_bound") for r in proved]),
            "plan_over_optimum_median": _median([r.get("plan_over_optimum") for r in proved]),
            "gap_to_bound_median": _median([r.get("gap_to_bound") for r in proved]),
            # not proved: the DP's relaxation is a lower bound on the optimum, so these ratios are too
            "optimum_over_bound_at_least_median": _median([r.get("optimum_over_bound") for r in mine]),
            "share_of_gap_in_bound_median": _median([r.get("share_of_gap_in_bound") for r in proved]),
        }
    out = {"what": "proven optimum vs bounds.lower_bound vs solve(cp-sat) on small synthetic instances",
           "plan_s": args.plan_s, "proof_s": args.proof_s, "due_spread": args.due_spread, "seeds": seeds,
           "loadavg": open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else None,
           "summary": summary, "runs": rows}
    text = json.dumps(out, indent=1)
    print(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
