"""A simulated factory week: orders arrive, get a promised date, are planned, printed, sometimes fail.

Virtual time in minutes (a week runs in seconds to minutes, depending on the solver's time per
re-plan). Arrivals: a Poisson process at `rate_per_day`, families in the proportions of the founders'
planned monthly volumes (data/factory_assumptions.csv, families from data/portfolio.csv); each order
is one of the published gallery variants (data/gallery_variants.csv) of its family, whose print time
is the geometry estimate (somana_core.print_time) of the built part; spool (material and colour) as one
of the floor's loaded spools (data/printers.csv). A print really takes the estimate times a lognormal
error (the estimate's calibrated error) and fails, part-way, at the quote's failure rate.

Policies, each with its own promise to the customer:
- cp-sat: the plan is re-solved on every arrival and failure (re-timed on starts and ends); the
  promise is capable-to-promise (`Planner.promise_date`).
- fifo: what farm managers do: first come, first served on the first compatible printer, and the
  promise is today's quote rule (queued print hours / fleet capacity + handling days).
Tardiness is reported against each policy's own promise, against the standard lead time (the quote's
rule with an empty queue) and against the date the customer asked for, the last two the same for both.
Stressors (data/simulated_floor.csv): the asked dates mix rush, standard and relaxed orders, and printers
go offline at random (an outage loses the print on it; the printer comes back after a repair).
The cp-sat plan aims at the earlier of the promise and the asked date; its promise is buffered by the
quantile of the slips seen so far (Planner.promise_buffer_min). With `share_plates` (cp-sat only), a new
order's small part sets join a waiting plate of the same spool and nozzle when no promise already made
would slip (`_share_plates`); plates saved are counted.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, replace
from pathlib import Path

from somana_core.catalogue import machines as machines_table
from somana_core.data import data_path, read_table, state_dir
from somana_core.errors import InputError
from somana_core.scheduling.jobs import PLATE_GAP_MM, PartSet, pack_members
from somana_core.scheduling.model import Calendar, Schedule, fleet, load_changeovers, load_printers
from somana_core.scheduling.plan import Planner
from somana_core.scheduling.synthetic import MONDAY_7AM

ESTIMATE_ERROR_SIGMA = 0.074  # print_time_coefficients.csv header: 7.4% leave-one-out error of the estimate
VARIANTS_CACHE = "scheduling_variants.json"


@dataclass(frozen=True)
class SimOrder:
    number: str
    family: str
    arrival_min: int
    print_min: int  # one unit, the geometry estimate
    qty: int = 1
    material: str = "PLA"
    colour: str = "black"
    machine: str = "prusa_mk3s"
    size_mm: tuple[float, float, float] | None = None


# ---------------------------------------------------------------- workload


def _variants_key() -> list:
    names = ("gallery_variants.csv", "print_time_coefficients.csv", "machines.csv", "materials.csv")
    return [data_path(n).stat().st_mtime_ns for n in names]


def family_variants() -> dict[str, list[dict]]:
    """Per family, each gallery variant's estimated print time (s) and plate size (mm), built once and
    cached in the state folder (rebuilt when a table they depend on changes)."""
    cache = state_dir() / VARIANTS_CACHE
    key = _variants_key()
    if cache.exists():
        stored = json.loads(cache.read_text())
        if stored.get("key") == key:
            return stored["variants"]
    from somana_core import geometry
    from somana_core.print_time import estimate, layer_height_mm

    out: dict[str, list[dict]] = {}
    for row in read_table("gallery_variants.csv").itertuples():
        family = str(row.family)
        if family not in geometry.FAMILIES:
            continue
        settings = {}
        text = "" if not isinstance(row.settings, str) else row.settings
        for pair in filter(None, (p.strip() for p in text.split(";"))):
            name, _, value = pair.partition("=")
            settings[name.strip()] = value.strip()
        spec = geometry.make_spec(family, settings)
        product = geometry.build(spec)
        metrics = product.metrics("PLA")
        machine = str(spec.values().get("machine"))
        est = estimate(metrics, layer_height_mm(machine))
        bed_x = float(machines_table().set_index("machine").loc[machine, "build_x_mm"])
        size = plate_extent_mm([p["bbox_mm"] for p in metrics["parts"].values()], bed_x)
        out.setdefault(family, []).append({"variant": str(row.variant), "print_time_s": est["print_time_s"],
                                           "size_mm": size, "machine": machine})
    Path(cache).write_text(json.dumps({"key": key, "variants": out}))
    return out


def plate_extent_mm(boxes: list, bed_x_mm: float) -> tuple[float, float, float]:
    """The plate's size with the parts laid side by side in rows that wrap at the bed's width, as the
    geometry lays out its plate (Product.plate_layout)."""
    x = y = row_depth = width = 0.0
    for bx, by, _bz in boxes:
        if x > 0 and x + bx > bed_x_mm:
            x, y, row_depth = 0.0, y + row_depth + PLATE_GAP_MM, 0.0
        width = max(width, x + bx)
        x += bx + PLATE_GAP_MM
        row_depth = max(row_depth, by)
    return (width, y + row_depth, max(b[2] for b in boxes))


def family_mix() -> dict[str, float]:
    from somana_core.economics import planned_monthly_units

    families = [str(f) for f in read_table("portfolio.csv")["family"]]
    planned = planned_monthly_units()
    return {f: planned.get(f, 0.0) for f in families if planned.get(f, 0.0) > 0}


def default_rate_per_day(printers: int) -> float:
    """The founders' planned volume (units/month over 30 days), scaled to the simulated fleet."""
    from somana_core.quote import factory_inputs

    per_day = sum(family_mix().values()) / 30
    return per_day * printers / max(1.0, factory_inputs()["printers_in_fleet"])


def generate_orders(days: float, printers: int, rate_per_day: float | None, seed: int) -> list[SimOrder]:
    rng = random.Random(seed)
    rate = default_rate_per_day(printers) if rate_per_day is None else rate_per_day
    variants = family_variants()
    mix = {f: w for f, w in family_mix().items() if f in variants}
    spools = [(p.material, p.colour) for p in load_printers()]
    orders, t, k = [], 0.0, 0
    while rate > 0:
        t += rng.expovariate(rate / (24 * 60))
        if t >= days * 24 * 60:
            break
        family = rng.choices(list(mix), list(mix.values()))[0]
        v = rng.choice(variants[family])
        material, colour = rng.choice(spools)
        k += 1
        orders.append(SimOrder(f"SIM-{k:05d}", family, int(t), max(1, round(v["print_time_s"] / 60)), 1,
                               material, colour, v["machine"], tuple(v["size_mm"])))
    return orders


def read_orders(path: str | Path) -> list[SimOrder]:
    """Orders from a JSON list or CSV: number, family, arrival_h, print_h, [qty, material, colour, machine]."""
    path = Path(path)
    if not path.is_file():
        raise InputError("--orders", f"--orders {str(path)!r}: no such file")
    try:
        if path.suffix.lower() == ".json":
            rows = json.loads(path.read_text())
        else:
            import pandas as pd

            rows = pd.read_csv(path, comment="#").to_dict("records")
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise InputError("--orders", f"--orders {path.name}: need a list of orders (objects with family, "
                                         "arrival_h, print_h)")
        out = []
        for i, r in enumerate(rows):
            out.append(SimOrder(str(r.get("number") or f"SIM-{i + 1:05d}"), str(r["family"]),
                                int(round(float(r["arrival_h"]) * 60)), max(1, int(round(float(r["print_h"]) * 60))),
                                int(r.get("qty") or 1), str(r.get("material") or "PLA"),
                                str(r.get("colour") or "black").lower(), str(r.get("machine") or "prusa_mk3s")))
    except (KeyError, ValueError, TypeError, OverflowError, json.JSONDecodeError) as exc:
        raise InputError("--orders", f"--orders {path.name}: bad row ({exc}); need family, arrival_h, print_h") from None
    except OSError as exc:
        raise InputError("--orders", f"--orders {path.name}: cannot be read ({exc.strerror})") from None
    if any(o.arrival_min < 0 or o.qty < 1 for o in out):
        raise InputError("--orders", f"--orders {path.name}: arrival_h must be >= 0 and qty >= 1")
    return sorted(out, key=lambda o: o.arrival_min)


# ---------------------------------------------------------------- the week


def floor_stressors() -> dict[str, float]:
    table = read_table("simulated_floor.csv")
    return {str(r.name): float(r.value) for r in table.itertuples()}


def asked_lead(rng: random.Random, stress: dict) -> str:
    """The kind of date an order asks for: rush, relaxed or standard (the quote's rule)."""
    x = rng.random()
    if x < stress["rush_share"]:
        return "rush"
    if x < stress["rush_share"] + stress["relaxed_share"]:
        return "relaxed"
    return "standard"


def outages(days: float, printer_ids: list[str], per_week: float, mean_h: float, seed: int) -> list[tuple]:
    """(start minute, end minute, printer) of random printer outages: Poisson starts, exponential repairs."""
    rng = random.Random(seed + 7)
    out = []
    rate_per_min = per_week / (7 * 24 * 60)
    for pid in printer_ids:
        t = 0.0
        while rate_per_min > 0:
            t += rng.expovariate(rate_per_min)
            if t >= days * 24 * 60:
                break
            length = max(30.0, rng.expovariate(1 / (mean_h * 60)))
            out.append((int(t), int(t + length), pid))
            t += length
    return sorted(out)


def _quote_rates(family: str, machine: str, material: str) -> dict:
    from somana_core.quote import factory_inputs, rates

    return {**rates(family, machine, material), "printers_in_fleet": factory_inputs()["printers_in_fleet"]}


def simulate(days: float = 7, printers: int = 6, rate_per_day: float | None = None, orders: list[SimOrder] | None = None,
             policy: str = "cp-sat", seed: int = 0, solve_s: float = 1.0, share_plates: bool = False,
             stressors: bool = True, outages_per_week: float | None = None) -> dict:
    """One simulated week. `stressors`: the due-date mix and printer outages of data/simulated_floor.csv
    (`outages_per_week` per printer overrides the table); without them every order asks the standard lead."""
    if policy not in ("cp-sat", "fifo"):
        raise InputError("--policy", f"--policy {policy!r} is not one of cp-sat, fifo")
    rng = random.Random(seed + 1)
    asked_rng = random.Random(seed + 3)  # its own stream: both policies see the same asked dates
    stress = floor_stressors()
    if outages_per_week is not None:
        stress["outages_per_printer_week"] = outages_per_week
    orders = generate_orders(days, printers, rate_per_day, seed) if orders is None else orders
    changeovers = load_changeovers()
    calendar = Calendar(MONDAY_7AM, days=int(days) + 60)
    fleet_ = fleet(printers)
    machines = {str(r["machine"]): r for _i, r in machines_table().iterrows()}
    planner = Planner(fleet_, calendar=calendar, changeovers=changeovers, policy=policy, time_limit_s=solve_s, seed=seed)
    week_end = int(days * 24 * 60)
    empty = Planner(fleet_, calendar=calendar, changeovers=changeovers, policy="greedy")
    empty.schedule = Schedule([], method="empty")
    down = outages(days, [p.id for p in fleet_], stress["outages_per_printer_week"], stress["outage_mean_h"], seed) \
        if stressors else []
    down_events = sorted([(s_, "printer_offline", p_) for s_, _e, p_ in down] + [(e_, "printer_back", p_) for _s, e_, p_ in down])
    outage_h = sum(e_ - s_ for s_, e_, _p in down) / 60
    lost_to_outages = 0
    by_order: dict[str, dict] = {}
    job_order: dict[str, SimOrder] = {}
    job_sets: dict[str, list[PartSet]] = {}  # the part sets on each plate not yet printed
    plates_saved = 0
    running: dict[str, tuple[str, int, bool]] = {}  # job -> (printer, end, fails)
    executed: list[dict] = []
    replans = []
    pending = list(orders)
    t = 0
    guard = 0
    while pending or planner.jobs:
        guard += 1
        if guard > 200_000:
            raise RuntimeError("simulation did not settle")
        # the next thing that happens: an arrival, a print ending, or a planned start
        nxt_arrival = pending[0].arrival_min if pending else math.inf
        nxt_end = min((end for _p, end, _f in running.values()), default=math.inf)
        busy = {p for p, _end, _f in running.values()}
        nxt_start = math.inf
        if planner.schedule is not None:
            for a in planner.schedule.assignments:
                if not a.fixed and a.job_id not in running and a.printer not in busy:
                    nxt_start = min(nxt_start, a.start)
        nxt_down = down_events[0][0] if down_events else math.inf
        t_next = min(nxt_arrival, nxt_end, nxt_start, nxt_down)
        if t_next == math.inf:
            break
        t = max(t, int(t_next))
        if nxt_down <= t and nxt_down <= min(nxt_end, nxt_arrival):
            _at, kind, pid = down_events.pop(0)
            if kind == "printer_offline":
                for jid, (printer, _end, _fails) in list(running.items()):
                    if printer == pid:  # the print on it is lost: back into the queue
                        running.pop(jid)
                        lost_to_outages += 1
                        for e in executed:
                            if e.get("job") == jid and "start" in e and e["end"] > t:
                                e["end"], e["failed"] = t, True
            plan = planner.event(kind, at=t, printer=pid)
            replans.append(plan.solve_s)
            continue
        if nxt_end <= t:
            jid = min((j for j, (_p, end, _f) in running.items() if end <= t), key=lambda j: running[j][1])
            printer, end, fails = running.pop(jid)
            if fails:
                plan = planner.event("job_failed", at=end, job=jid)
                executed.append({"job": jid, "printer": printer, "failed": True})
            else:
                for number in planner.jobs[jid].orders:
                    by_order[number]["done_min"] = max(by_order[number].get("done_min", 0), end)
                plan = planner.event("job_done", at=end, job=jid)
            replans.append(plan.solve_s)
            continue
        if nxt_arrival <= t:
            order = pending.pop(0)
            row = machines.get(order.machine)
            nozzle = float(row["nozzle_mm"]) if row is not None else 0.4
            bed = (float(row["build_x_mm"]), float(row["build_y_mm"])) if row is not None else (250.0, 210.0)
            r = _quote_rates(order.family, order.machine, order.material)
            handling = r["handling_days"]
            capacity_per_day = printers * r["printing_hours_per_day"] * 60  # the quote's rule, this fleet
            own = order.print_min * order.qty
            standard_days = max(1, math.ceil(own / capacity_per_day + handling - 1e-9))
            kind = asked_lead(asked_rng, stress) if stressors else "standard"
            asked_days = {"rush": stress["rush_lead_days"], "relaxed": stress["relaxed_lead_days"]}.get(kind, standard_days)
            sets = [PartSet(f"{order.number}/{k + 1}", order.number, order.print_min, order.material, order.colour,
                            nozzle, 0, order.size_mm, None, bed, order.arrival_min) for k in range(order.qty)]
            jobs, _members, _packing = pack_members(sets, changeovers)
            plan_end = None
            if policy == "cp-sat":
                plan_end = planner.promise(jobs)
                promised = None if plan_end is None else planner.date_for(plan_end, handling)
                promised_min = calendar.minute(promised) if promised is not None else order.arrival_min + 30 * 1440
            else:
                queued = sum(j.print_min for j in planner.jobs.values())
                days_ = max(1, math.ceil((queued + own) / capacity_per_day + handling - 1e-9))
                promised_min = _end_of_day(calendar, order.arrival_min + days_ * 1440)
            standard_min = _end_of_day(calendar, order.arrival_min + standard_days * 1440)
            asked_min = _end_of_day(calendar, order.arrival_min + int(asked_days * 1440))
            # the best any policy could do for it: the fleet empty, at its arrival (nights, weekends)
            empty.now = order.arrival_min
            earliest_end = empty.promise(jobs)
            earliest_min = calendar.minute(empty.date_for(earliest_end, handling, 0)) if earliest_end is not None \
                else asked_min
            # the plan aims at the earlier of the promise and the asked date (FIFO has no aim: order of arrival)
            print_due = min(promised_min, asked_min) - int(handling * 1440)
            if plan_end is not None:
                planner.record_promise(order.number, plan_end)
            sets = [replace(ps, due_min=print_due) for ps in sets]
            jobs, members, _packing = pack_members(sets, changeovers)
            job_sets.update(members)
            if policy == "cp-sat" and share_plates:
                jobs, saved = _share_plates(planner, job_sets, jobs, running, changeovers)
                plates_saved += saved
            by_order[order.number] = {"arrival_min": order.arrival_min, "promised_min": promised_min,
                                      "standard_min": standard_min, "asked_min": asked_min, "asked": kind,
                                      "earliest_min": earliest_min,
                                      "handling_min": int(handling * 1440), "family": order.family}
            for j in jobs:
                job_order.setdefault(j.id, order)
            plan = planner.event("order_confirmed", at=order.arrival_min, jobs=jobs)
            replans.append(plan.solve_s)
            continue
        # planned starts due now: the plate clear is done, the print begins
        started_any = False
        for a in sorted(planner.schedule.assignments, key=lambda a: a.start):
            if a.fixed or a.job_id in running or a.start > t or a.printer in busy:
                continue
            job = planner.jobs[a.job_id]
            actual = max(1, round(job.print_min * rng.lognormvariate(0, ESTIMATE_ERROR_SIGMA)))
            family = job_order[a.job_id].family
            fail_rate = _quote_rates(family, job_order[a.job_id].machine, job.material)["failure_rate"]
            fails = rng.random() < fail_rate
            length = changeovers.heat_up_min + (int(actual * rng.uniform(0.1, 0.9)) if fails else actual)
            # the planner expects the estimate; the real end arrives as an event
            planner.event("job_started", at=a.start, replan=False, job=a.job_id, printer=a.printer)
            busy.add(a.printer)
            running[a.job_id] = (a.printer, a.start + length, fails)
            executed.append({"job": a.job_id, "printer": a.printer, "changeover_start": a.changeover_start,
                             "start": a.start, "end": a.start + length, "changeover_min": a.start - a.changeover_start,
                             "wait_min": a.wait_min, "failed": fails})
            started_any = True
        if started_any:
            plan = planner.replan(keep_sequences=True)
            replans.append(plan.solve_s)
    report = _report(days, printers, policy, seed, orders, by_order, executed, week_end, replans, solve_s)
    report["stressors"] = stressors
    report["outages"] = len(down)
    report["outage_h"] = round(outage_h, 1)
    report["prints_lost_to_outages"] = lost_to_outages
    report["promise_buffer_min_final"] = planner.promise_buffer_min() if policy == "cp-sat" else None
    report["share_plates"] = share_plates
    report["shared_plates_saved"] = plates_saved
    return report


def _share_plates(planner: Planner, job_sets: dict, new_jobs: list, running: dict, changeovers) -> tuple[list, int]:
    """Put the new order's small part sets on a waiting plate of the same material, colour, nozzle and bed
    when the packing rules allow it (somana_core.scheduling.jobs) AND, in the current plan, that plate and
    every plate after it on its printer, pushed by the added print, still end by their due dates. Returns the jobs to add and the
    plates saved."""
    planned = {a.job_id: a for a in planner.schedule.assignments} if planner.schedule else {}
    add, saved = [], 0
    for new in new_jobs:
        merged = False
        waiting = sorted((j for j in planner.jobs.values()
                          if j.fixed_printer is None and j.id not in running and j.id in job_sets
                          and j.id in planned and j.group == new.group
                          and job_sets[j.id][0].bed_mm == job_sets[new.id][0].bed_mm),
                         key=lambda j: planned[j.id].start)
        for old in waiting:
            here = planned[old.id]
            after = [a for a in planned.values() if a.printer == here.printer and a.start >= here.start]
            if any(a.end + new.print_min > a.due_min for a in after):
                continue  # the longer plate would push a promise already made past its date
            packed, members, _report = pack_members(job_sets[old.id] + job_sets[new.id], changeovers)
            if len(packed) != 1:
                continue
            del planner.jobs[old.id]
            job_sets.pop(old.id)
            job_sets.pop(new.id)
            job_sets.update(members)
            add.append(packed[0])
            saved += 1
            merged = True
            break
        if not merged:
            add.append(new)
    return add, saved


def _end_of_day(calendar: Calendar, minute: int) -> int:
    when = calendar.at(minute)
    return calendar.minute(when.replace(hour=23, minute=59, second=0, microsecond=0))


def _clip(start: int, end: int, lo: int, hi: int) -> int:
    return max(0, min(end, hi) - max(start, lo))


def _report(days, printers, policy, seed, orders, by_order, executed, week_end, replans, solve_s) -> dict:
    printer_min = printers * week_end
    printing = sum(_clip(e["start"], e["end"], 0, week_end) for e in executed if "start" in e)
    changeover = sum(_clip(e["changeover_start"], e["start"], 0, week_end) for e in executed if "start" in e)
    waits = sum(e["wait_min"] for e in executed if "start" in e and e["start"] <= week_end)
    done = {n: o for n, o in by_order.items() if "done_min" in o}
    late_promise = [max(0, o["done_min"] + o["handling_min"] - o["promised_min"]) for o in done.values()]
    late_standard = [max(0, o["done_min"] + o["handling_min"] - o["standard_min"]) for o in done.values()]
    late_asked = [max(0, o["done_min"] + o["handling_min"] - o["asked_min"]) for o in done.values()]
    # lateness no policy could avoid (the order could not be made by its asked date on an empty floor)
    late_avoidable = [max(0, o["done_min"] + o["handling_min"] - max(o["asked_min"], o["earliest_min"]))
                      for o in done.values()]
    rush = [o for o in done.values() if o.get("asked") == "rush"]
    late_rush = [max(0, o["done_min"] + o["handling_min"] - o["asked_min"]) for o in rush]
    lead_days = [(o["promised_min"] - o["arrival_min"]) / 1440 for o in by_order.values()]
    in_week = [o for o in done.values() if o["done_min"] <= week_end]
    replans_sorted = sorted(replans)
    return {
        "policy": policy, "days": days, "printers": printers, "seed": seed, "solve_s_per_replan": solve_s,
        "orders": len(orders), "orders_done": len(done),
        "orders_per_day": round(len(in_week) / days, 2),
        "utilisation": round(printing / printer_min, 4) if printer_min else 0.0,
        "printing_h": round(printing / 60, 1),
        "changeover_h": round(changeover / 60, 1),
        "plate_clear_wait_h": round(waits / 60, 1),
        "idle_h": round((printer_min - printing - changeover) / 60, 1),
        "changeover_and_wait_share": round((changeover + waits) / printer_min, 4) if printer_min else 0.0,
        "prints": sum(1 for e in executed if "start" in e),
        "failed_prints": sum(1 for e in executed if e.get("failed")),
        "tardiness_vs_promise_h": round(sum(late_promise) / 60, 1),
        "on_promise_share": round(sum(1 for x in late_promise if x == 0) / len(late_promise), 4) if late_promise else 1.0,
        "tardiness_vs_standard_lead_h": round(sum(late_standard) / 60, 1),
        "on_standard_lead_share": round(sum(1 for x in late_standard if x == 0) / len(late_standard), 4) if late_standard else 1.0,
        "tardiness_vs_asked_h": round(sum(late_asked) / 60, 1),
        "on_asked_date_share": round(sum(1 for x in late_asked if x == 0) / len(late_asked), 4) if late_asked else 1.0,
        "tardiness_vs_asked_avoidable_h": round(sum(late_avoidable) / 60, 1),
        "late_vs_asked_orders_avoidable": sum(1 for x in late_avoidable if x > 0),
        "rush_orders": len(rush),
        "rush_on_asked_date_share": round(sum(1 for x in late_rush if x == 0) / len(late_rush), 4) if late_rush else None,
        "promised_lead_days_median": round(sorted(lead_days)[len(lead_days) // 2], 2) if lead_days else None,
        "replans": len(replans),
        "replan_s_median": round(replans_sorted[len(replans_sorted) // 2], 3) if replans_sorted else None,
        "replan_s_max": round(replans_sorted[-1], 3) if replans_sorted else None,
        "printer_hours": round(printer_min / 60, 1),
    }


WEEK_FIGURES = (("orders_per_day", "orders/day"), ("utilisation", "utilisation"),
                ("changeover_and_wait_share", "changeover + plate-clear waits"),
                ("on_promise_share", "on promised date"), ("tardiness_vs_asked_h", "late vs asked date, h"),
                ("tardiness_vs_standard_lead_h", "late vs standard lead, h"))


def week_rows(results: dict) -> list[dict]:
    """Rows for a table of simulated weeks (benchmarks/schedule.py's JSON): one per order rate and policy."""
    rows = []
    for week in results.get("weeks", []):
        for policy in ("cp-sat", "fifo"):
            r = week.get(policy)
            if not r:
                continue
            row = {"volume (x plan)": week["volume_x_founders_plan"], "orders/day in": week["rate_per_day"],
                   "floor": "calm" if week.get("stressors") is False else "rush orders, outages", "policy": policy}
            for key, label in WEEK_FIGURES:
                value = r.get(key)
                if value is None:
                    continue  # a figure an older benchmark run did not have
                row[label] = f"{value:.0%}" if key.endswith(("share", "utilisation")) else value
            rows.append(row)
    return rows
