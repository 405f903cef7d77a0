"""The farm scheduler's figures, as one JSON document.

1. A static plan of 20 printers x 500 plates (mixed materials, colours, nozzles and due dates;
   somana_core.scheduling.synthetic; tight and loose due dates): solve time, objective and its parts, the lower bounds (ours and,
   where the whole model is solved, CP-SAT's) and the gap, for CP-SAT (10 s), greedy and FIFO. Several
   seeds; medians.
2. A simulated week per order rate (1-4 x the founders' planned volume), the same seeds for both policies:
   CP-SAT with capable-to-promise against first come first served with constraint filtering and the quote's
   queue rule for the promise. With the floor's stressors (data/simulated_floor.csv: rush / standard /
   relaxed asked dates, printer outages) and, in the full run, calm (standard dates, no outages).
   Utilisation, changeover and plate-clear waits, tardiness against the promise, the asked date (all of it,
   and the part no policy could avoid: an order that could not be made by its date even on an empty floor),
   the standard lead; on-promise share, orders per day. Medians over seeds.
3. Re-plan after one event on the 20 x 500 plan: a new order (full re-solve under a time limit) and a
   print that ended (the sequences kept, times re-computed). And through the real bus: the live plan of
   40 open orders, a station's messages published on a private Mosquitto, seconds from arrival to new plan.

The machine is shared (2 cores, other engineers' tests): the load average is recorded with the figures.
Run:  .venv/bin/python benchmarks/schedule.py --out benchmarks/results/schedule.json      (full, about 30 min)
      .venv/bin/python benchmarks/schedule.py --quick                                      (about 5 min)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace


def _static(seeds: list[int], seconds: float, printers: int, jobs: int, due_spread: float) -> dict:
    from somana_core.scheduling import figures, solve, synthetic

    runs = []
    for seed in seeds:
        inst = synthetic.instance(printers, jobs, seed=seed, due_spread=due_spread)
        # the plates' print minutes: the objective counts only the minutes around them (idle, changeovers,
        # tardiness), so its gap is the bound's distance over those; gap_prints_included is the same distance
        # over the printers' whole spans, the measure of published makespan-style figures (for comparison only)
        printing = sum(job.print_min for job in inst.jobs)
        row = {"seed": seed, "print_min": printing}
        for policy, limit in (("cp-sat", seconds), ("greedy", 0), ("fifo", 0)):
            started = time.perf_counter()
            plan = solve(inst, policy, time_limit_s=limit, seed=seed)
            wall = time.perf_counter() - started
            f = figures(inst, plan)
            # solve_s: the whole call; plan_s: building and solving the plan (what the time limit covers),
            # the rest is the lower bound computed after it
            row[policy] = {"solve_s": round(wall, 2), "plan_s": round(plan.solve_s, 2),
                           "bound_s": round(wall - plan.solve_s, 2), "method": plan.method, "status": plan.status,
                           "objective": f["objective"], "weighted_tardiness_min": f["weighted_tardiness_min"],
                           "late_plates": f["late_jobs"], "changeover_min": f["changeover_min"],
                           "idle_min": f["idle_min"], "plate_clear_wait_min": f["plate_clear_wait_min"],
                           "lower_bound": f.get("lower_bound"), "gap": round(f.get("gap", 0), 4),
                           "gap_prints_included": round((f["objective"] - f["lower_bound"]) / (f["objective"] + printing), 4)
                           if f.get("lower_bound") is not None else None,
                           "lower_bounds": {k: (round(v) if isinstance(v, (int, float)) else
                                                {kk: round(vv) for kk, vv in v.items()})
                                            for k, v in plan.lower_bounds.items()},
                           "notes": plan.notes}
        runs.append(row)
    med = {p: {k: statistics.median(r[p][k] for r in runs)
               for k in ("solve_s", "plan_s", "objective", "weighted_tardiness_min", "changeover_min", "idle_min", "gap",
                         "gap_prints_included")}
           for p in ("cp-sat", "greedy", "fifo")}
    return {"printers": printers, "plates": jobs, "seconds": seconds, "due_spread": due_spread, "runs": runs,
            "median": med}


WEEK_KEYS = ("orders", "orders_done", "orders_per_day", "utilisation", "changeover_and_wait_share", "tardiness_vs_promise_h",
             "on_promise_share", "tardiness_vs_asked_h", "tardiness_vs_asked_avoidable_h", "on_asked_date_share",
             "rush_on_asked_date_share", "tardiness_vs_standard_lead_h", "promised_lead_days_median", "replan_s_median",
             "replan_s_max", "outages", "prints_lost_to_outages", "promise_buffer_min_final", "shared_plates_saved",
             "wall_s")


def _week(days: float, printers: int, rate: float | None, seeds: list[int], solve_s: float, stressors: bool,
          shared: bool) -> dict:
    from somana_core.scheduling.simulate import simulate

    variants = [("cp-sat", "cp-sat", False), ("fifo", "fifo", False)]
    if shared:
        variants.insert(1, ("cp-sat-shared-plates", "cp-sat", True))
    out = {"stressors": stressors, "seeds": seeds, "runs": {}}
    for name, policy, share in variants:
        runs = []
        for seed in seeds:
            started = time.perf_counter()
            r = simulate(days=days, printers=printers, rate_per_day=rate, policy=policy, seed=seed,
                         solve_s=solve_s, share_plates=share, stressors=stressors)
            r["wall_s"] = round(time.perf_counter() - started, 1)
            runs.append({k: r.get(k) for k in WEEK_KEYS})
        out["runs"][name] = runs
        out[name] = {k: _median([r[k] for r in runs]) for k in WEEK_KEYS}
    c, f = out["cp-sat"], out["fifo"]

    def reduction(key):
        return None if not f[key] else round(1 - c[key] / f[key], 3)

    out["comparison"] = {
        "tardiness_vs_asked_reduction": reduction("tardiness_vs_asked_h"),
        "tardiness_vs_asked_avoidable_reduction": reduction("tardiness_vs_asked_avoidable_h"),
        "tardiness_vs_standard_lead_reduction": reduction("tardiness_vs_standard_lead_h"),
        "tardiness_vs_promise_reduction": reduction("tardiness_vs_promise_h"),
        "fifo_avoidable_tardiness_h": f["tardiness_vs_asked_avoidable_h"],
        "cp_sat_changeover_and_wait_share": c["changeover_and_wait_share"],
        "cp_sat_on_promise_share": c["on_promise_share"],
        "fifo_on_promise_share": f["on_promise_share"],
    }
    return out


def _median(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 4) if values else None


def _replan(seconds: float, printers: int, jobs: int) -> dict:
    from somana_core.scheduling import Planner, synthetic

    inst = synthetic.instance(printers, jobs, seed=0)
    planner = Planner(inst.printers, list(inst.jobs), calendar=inst.calendar, changeovers=inst.changeovers,
                      time_limit_s=seconds)
    planner.replan(time_limit_s=10)
    first = planner.schedule.by_printer()
    pid, rows = next(iter(first.items()))
    times = {}
    started = time.perf_counter()
    planner.event("job_started", at=rows[0].start, job=rows[0].job_id, printer=pid)
    times["job_started_s"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    planner.event("job_done", at=rows[0].end + 30, job=rows[0].job_id)
    times["job_done_s"] = round(time.perf_counter() - started, 3)
    new = replace(inst.jobs[0], id="NEW", orders=("SO-NEW",), due_min=rows[0].end + 24 * 60)
    started = time.perf_counter()
    planner.event("order_confirmed", jobs=[new])
    times["order_confirmed_s"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    planner.event("printer_offline", printer=pid)
    times["printer_offline_s"] = round(time.perf_counter() - started, 3)
    other = next(p for p in planner.printers if p != pid)
    started = time.perf_counter()
    planner.event("spool_changed", printer=other, material="PETG", colour="red")
    times["spool_changed_s"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    promise = planner.promise([replace(new, id="NEW2")])
    times["promise_s"] = round(time.perf_counter() - started, 3)
    times["time_limit_s"] = seconds
    times["promise_minute"] = promise
    return times


def _live(orders: int, time_limit_s: float, events: int) -> dict:
    """Re-plan after a floor event through the real bus: a private Mosquitto, the live plan of `orders`
    open orders on the floor's printers, and a station's real payloads (a job starts, then ends) published
    one at a time, and a spool changed; the seconds from the message's arrival to the new plan, per event."""
    from somana_core.floor.bus import Bus, printer_topic
    from somana_core.floor.local import LocalBroker
    from somana_core.orders import OrderStore
    from somana_core.scheduling.live import LivePlan

    store = OrderStore(f"sqlite:///{tempfile.mkdtemp(prefix='somana-live-bench-')}/orders.sqlite")  # its own, empty
    for k in range(orders):
        store.place(f"bench{k}", "sensor_enclosure", {"machine": "prusa_mk3s", "colour": ("black", "white", "red")[k % 3]},
                    {"print_time_s": 1800 * (1 + k % 8), "lead_time_days": 2 + k % 5})
    with LocalBroker() as broker:
        plan = LivePlan(store_factory=lambda: store, broker_url=broker.url, time_limit_s=time_limit_s,
                        first_time_limit_s=time_limit_s).start()
        station = Bus(broker.url).connect()
        try:
            for k in range(events):
                order = f"SO-{k + 1:06d}"
                job = next((j for j in plan.view.jobs.values() if order in j.orders), None)
                if job is None:
                    continue
                printer = plan.view.schedule.get(job.id).printer
                for state in ("sliced", "queued", "printing"):
                    store.transition(order, state)
                before = plan.version
                state = {"station": "bench", "printer": printer, "state": "printing", "job": {"order": order}}
                station.publish(printer_topic("bench", printer, "state"), state, retain=True)
                _wait(lambda: plan.version > before)
                outcome = "done" if k % 2 == 0 else "failed"  # a failure is re-solved, a print done re-timed
                store.transition(order, "done" if outcome == "done" else "interrupted")
                before = plan.version
                station.publish(printer_topic("bench", printer, "event"),
                                {"kind": "job-ended", "order": order, "outcome": outcome, "name": order})
                _wait(lambda: plan.version > before)
            before = plan.version  # an operator swaps a spool (`somana spool`): the station's event
            printer = sorted(plan.view.printers)[0]
            station.publish(printer_topic("bench", printer, "event"),
                            {"kind": "spool-changed", "material": "PETG", "colour": "red"})
            _wait(lambda: plan.version > before)
        finally:
            station.close()
            plan.close()
            store.close()
    out = {"orders": orders, "time_limit_s": time_limit_s}
    for kind in ("job_started", "job_done", "job_failed", "spool_changed"):
        times = [r["since_arrival_s"] for r in plan.replan_times if r["events"] == [kind]]
        out[kind] = {"replans": len(times), "since_arrival_s_median": _median(times),
                     "since_arrival_s_max": max(times) if times else None}
    return out


def _wait(condition, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the live plan did not re-plan within 60 s")
        time.sleep(0.005)


def _load() -> list[str]:
    return open("/proc/loadavg").read().split()[:3]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="one seed, tight due dates, weeks at 1x and 3x with stressors only (about 5 min)")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--printers", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--due-spread", type=float, nargs="+", default=[1.1, 2.0],
                        help="due dates spread over the work / (fleet x 20 h/day) times this (1.1 tight, 2 loose)")
    parser.add_argument("--sim-days", type=float, default=7.0)
    parser.add_argument("--sim-printers", type=int, default=6)
    parser.add_argument("--sim-seeds", type=int, default=3)
    parser.add_argument("--sim-volumes", type=float, nargs="+", default=[1, 2, 3, 4],
                        help="simulated order rates, as multiples of the founders' planned volume")
    parser.add_argument("--sim-solve-seconds", type=float, default=0.5)
    parser.add_argument("--replan-seconds", type=float, default=1.5)
    parser.add_argument("--live-orders", type=int, default=40)
    parser.add_argument("--skip", action="append", default=[], choices=("static", "week", "calm", "replan", "live"))
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.due_spread, args.sim_seeds, args.sim_volumes = 1, [1.1], 1, [1, 3]
        args.skip.append("calm")
    os.environ.setdefault("SOMANA_HOME", tempfile.mkdtemp(prefix="somana-bench-"))
    from somana_core.scheduling.simulate import default_rate_per_day

    result = {"command": " ".join(["benchmarks/schedule.py", *sys.argv[1:]]), "quick": args.quick,
              "load_average_start": _load(), "cpus": os.cpu_count()}
    if "replan" not in args.skip:
        result["replan"] = {**_replan(args.replan_seconds, args.printers, args.jobs), "load_average": _load()}
    if "live" not in args.skip:
        result["live"] = {**_live(args.live_orders, args.replan_seconds, 10 if not args.quick else 4),
                          "load_average": _load()}
    if "static" not in args.skip:
        result["static"] = [{**_static(list(range(args.seeds)), args.seconds, args.printers, args.jobs, spread),
                             "load_average": _load()} for spread in args.due_spread]
    if "week" not in args.skip:
        founders = default_rate_per_day(args.sim_printers)
        result["weeks"] = []
        for stressors in (True, False):
            if not stressors and "calm" in args.skip:
                continue
            for multiple in args.sim_volumes:
                rate = multiple * founders
                week = _week(args.sim_days, args.sim_printers, rate, list(range(args.sim_seeds)),
                             args.sim_solve_seconds, stressors, shared=stressors and not args.quick)
                result["weeks"].append({"volume_x_founders_plan": multiple, "rate_per_day": round(rate, 1),
                                        **week, "load_average": _load()})
    result["load_average_end"] = _load()
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
