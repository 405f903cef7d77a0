"""The real floor's plan: open orders from the order store, printers from data/printers.csv, and what
the floor staff said (pins, holds, printers offline, spools changed, what is printing) kept in
`state_dir()/floor_plan.json` so `somana plan` and the /plan page see the same thing.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from somana_core.catalogue import machines as machines_table
from somana_core.data import state_dir
from somana_core.errors import InputError
from somana_core.orders import OrderState
from somana_core.scheduling.jobs import PackingReport, pack, part_sets_from_job
from somana_core.scheduling.model import Calendar, Job, Schedule, figures, load_changeovers, load_printers, utc_now
from somana_core.scheduling.plan import Planner

FLOOR_FILE = "floor_plan.json"
# waiting for a printer (a failed or interrupted print is made again)
PLANNED_STATES = (OrderState.CONFIRMED, OrderState.SLICED, OrderState.QUEUED, OrderState.FAILED,
                  OrderState.INTERRUPTED)
PRINTING_STATES = (OrderState.PRINTING,)


def floor_path() -> Path:
    return state_dir() / FLOOR_FILE


def load_floor() -> dict:
    path = floor_path()
    state = json.loads(path.read_text()) if path.exists() else {}
    for key, empty in (("pins", {}), ("holds", []), ("printing", {}), ("offline", []), ("spools", {})):
        state.setdefault(key, empty)
    return state


def save_floor(state: dict) -> None:
    path = floor_path()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".floor-", suffix=".json")
    with os.fdopen(fd, "w") as handle:
        json.dump(state, handle, indent=2, sort_keys=True)
    os.replace(tmp, path)  # a reader never sees half a file


def set_pin(order: str, printer: str | None) -> dict:
    """Pin an order's plates to a printer (None: unpin); the next plan keeps them there."""
    ids = {p.id for p in load_printers()}
    state = load_floor()
    if printer is None:
        state["pins"].pop(order, None)
    else:
        if printer not in ids:
            raise InputError("printer", f"printer={printer!r} is not one of {', '.join(sorted(ids))}")
        state["pins"][order] = printer
        state["holds"] = [o for o in state["holds"] if o != order]
    save_floor(state)
    return state


def set_spool(printer: str, material: str, colour: str) -> dict:
    """The spool an operator loaded on a printer (the live plan records each `spool-changed` here, so a
    plan built afresh starts from it, not from data/printers.csv)."""
    state = load_floor()
    state["spools"][printer] = {"material": str(material), "colour": str(colour).lower()}
    save_floor(state)
    return state


def set_hold(order: str, held: bool) -> dict:
    state = load_floor()
    holds = [o for o in state["holds"] if o != order]
    if held:
        holds.append(order)
    state["holds"] = holds
    save_floor(state)
    return state


def _machines() -> dict:
    return {str(r["machine"]): r.to_dict() for _i, r in machines_table().iterrows()}


def floor_planner(store, now: datetime | None = None, policy: str = "cp-sat", time_limit_s: float = 5.0,
                  floor: dict | None = None) -> tuple[Planner, PackingReport]:
    """A Planner loaded with every open order of the store and the floor's own state (not yet solved)."""
    from somana_core.quote import assumption

    now = (now or utc_now()).astimezone(timezone.utc)
    floor = load_floor() if floor is None else floor
    changeovers = load_changeovers()
    calendar = Calendar(now)
    printers = []
    for p in load_printers():
        spool = floor["spools"].get(p.id)
        if spool:
            p = replace(p, material=str(spool["material"]), colour=str(spool["colour"]).lower())
        printers.append(replace(p, online=p.id not in floor["offline"]))
    machines = _machines()
    pins, holds = floor["pins"], set(floor["holds"])
    part_sets, alone, fixed = [], [], []
    # one entry per print job: an order of one plate, or each plate NUMBER/K of a multi-plate order
    for record in (store.jobs(PLANNED_STATES + PRINTING_STATES) if store is not None else []):  # no store: empty
        order = record.order_number
        handling = assumption("handling_days", record.family)
        sets = part_sets_from_job(record, store, calendar, handling, machines)
        if record.state in PRINTING_STATES:
            fixed.append((record, sets))
        elif order in pins or order in holds:
            alone += sets  # a pinned or held order keeps its own plates
        else:
            part_sets += sets
    jobs, report = pack(part_sets, changeovers)
    for ps in alone:
        job = pack([ps], changeovers)[0][0]
        jobs.append(replace(job, pinned_printer=pins.get(ps.order), held=ps.order in holds))
    report.part_sets += len(alone)
    report.plates += len(alone)
    planner = Planner(printers, [], calendar=calendar, changeovers=changeovers, policy=policy,
                      time_limit_s=time_limit_s)
    for record, sets in fixed:
        job = pack(sets, changeovers)[0][0] if len(sets) == 1 else _merge(sets, changeovers)
        where = floor["printing"].get(record.number) or floor["printing"].get(record.order_number) or {}
        printer = where.get("printer") or next((p.id for p in printers if p.online and p.fits(job)), None)
        started = where.get("started_at") or (record.state_at("printing") or now).isoformat()
        start_min = calendar.minute(datetime.fromisoformat(started))
        if printer is None:
            continue
        planner.jobs[job.id] = replace(job, fixed_printer=printer, fixed_start=start_min)
        p = planner.printers[printer]
        planner.printers[printer] = replace(  # busy until the print ends; its spool stays loaded
            p, available_min=max(0, changeovers.expected_end(start_min, job.print_min)),
            material=job.material, colour=job.colour, nozzle_mm=job.nozzle_mm)
    for job in jobs:
        planner.jobs[job.id] = job
    return planner, report


def _merge(sets, changeovers) -> Job:
    """The units of one print job printing now, as one plate (the floor prints the job once)."""
    jobs, _ = pack(sets, changeovers)
    first = jobs[0]
    return replace(first, id=sets[0].id.split("#", 1)[0], print_min=sum(j.print_min for j in jobs),
                   parts=tuple(p for j in jobs for p in j.parts))


def plan_to_dict(planner: Planner, schedule: Schedule, packing: PackingReport | None = None) -> dict:
    """The plan as plain data (the command line's --json, the /plan page)."""
    cal = planner.calendar
    instance = planner.instance()
    jobs = {j.id: j for j in instance.jobs}
    printers = []
    rows = schedule.by_printer()
    for p in instance.printers:
        printers.append({
            "printer": p.id, "label": p.label, "machine": p.machine, "station": p.station, "online": p.online,
            "nozzle_mm": p.nozzle_mm, "material": p.material, "colour": p.colour,
            "jobs": [_assignment(a, jobs[a.job_id], cal) for a in rows.get(p.id, [])],
        })
    out = {
        "origin": cal.origin.isoformat(),
        "method": schedule.method, "status": schedule.status, "solve_s": round(schedule.solve_s, 3),
        "notes": schedule.notes,
        "figures": figures(instance, schedule),
        "printers": printers,
        "held": [j.id for j in instance.jobs if j.held],
        "unplaced": schedule.unplaced,
    }
    if packing is not None:
        out["packing"] = packing.to_dict()
    return out


def _assignment(a, job: Job, cal: Calendar) -> dict:
    return {
        "job": a.job_id, "orders": list(job.orders), "material": job.material, "colour": job.colour,
        "nozzle_mm": job.nozzle_mm, "print_min": job.print_min, "print_time_source": job.print_time_source,
        "changeover_start": cal.at(a.changeover_start).isoformat(), "start": cal.at(a.start).isoformat(),
        "end": cal.at(a.end).isoformat(), "due": cal.at(a.due_min).isoformat(),
        "changeovers": list(a.changeovers), "setup_min": a.setup_min, "wait_min": a.wait_min,
        "late_min": a.tardiness_min, "fixed": a.fixed, "pinned": job.pinned_printer is not None,
    }


def gantt_rows(plan: dict, now: datetime | None = None) -> list[dict]:
    """The plan as bars for a Gantt chart: per plate a changeover bar, the planned print bar, and for a
    plate printing now an `actual` bar from its real start to now. `late` marks prints past due."""
    now = (now or utc_now()).astimezone(timezone.utc)
    rows = []
    for index, printer in enumerate(plan["printers"]):
        for j in printer["jobs"]:
            common = {"printer": printer["printer"], "row": index, "job": j["job"], "orders": ", ".join(j["orders"]),
                      "material": f"{j['material']} {j['colour']}", "due": j["due"][:16].replace("T", " "),
                      "late_min": j["late_min"], "pinned": j["pinned"]}
            start, end = datetime.fromisoformat(j["start"]), datetime.fromisoformat(j["end"])
            if not j["fixed"]:
                rows.append({**common, "kind": "changeover", "x0": datetime.fromisoformat(j["changeover_start"]),
                             "x1": start, "what": " + ".join(j["changeovers"]), "late": False})
            rows.append({**common, "kind": "print", "x0": start, "x1": end, "what": "planned print",
                         "late": j["late_min"] > 0})
            if j["fixed"] and start < now:
                rows.append({**common, "kind": "actual", "x0": start, "x1": min(now, end), "what": "printed so far",
                             "late": j["late_min"] > 0})
    return rows


def promise_quote(quote, store, now: datetime | None = None, colour: str | None = None, time_limit_s: float = 1.0,
                  plates=None):
    """The quote with the date the plan can keep (capable-to-promise, `promise.promise_for`); the quote
    unchanged when no printer can take it."""
    from somana_core.scheduling.promise import promise_for

    promised = promise_for(quote, now=now, store=store, colour=colour, time_limit_s=time_limit_s, plates=plates)
    return quote if promised is None else promised.apply(quote)
