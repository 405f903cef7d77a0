"""The plan as a constraint model (OR-Tools CP-SAT), warm-started by the greedy dispatch.

Per plate: a changeover interval [cs, s) worked by one person, then the print [s, e) whose first
minutes are the heat-up. Per printer: optional presence literals and a circuit (AddCircuit) over the
plates it may take, whose arcs carry the sequence-dependent changeover (spool swap, colour purge,
nozzle swap) and force cs(next) >= e(previous). Staff: one cumulative over all changeovers, with the
unstaffed hours (nights, Sundays) as blocks that fill it, so a plate clear never falls at night. Power:
one cumulative of heat-ups per station. Objective: 100 x weighted tardiness + changeover + idle.

To stay within seconds on 20 printers x 500 plates the model is a neighbourhood of the greedy plan:
each plate may go to its greedy printer or the few others that suit it best, and follow only plates
near it in the greedy order. The greedy plan is always inside the model (its arcs are kept), so the
solver starts from it and only improves on it.
"""

from __future__ import annotations

import time

from ortools.sat.python import cp_model

from somana_core.scheduling.model import TARDINESS_WEIGHT, Instance, Schedule, sequence_times

STATUS = {cp_model.OPTIMAL: "optimal", cp_model.FEASIBLE: "feasible", cp_model.INFEASIBLE: "infeasible",
          cp_model.MODEL_INVALID: "invalid", cp_model.UNKNOWN: "unknown"}


def solve(instance: Instance, hint: Schedule, time_limit_s: float, workers: int = 2, seed: int = 0,
          candidates: int = 4, window: int = 10, fixed_staff: list[tuple[int, int]] = (),
          fixed_heat: dict[str, list[int]] | None = None, exact: bool = False) -> Schedule | None:
    """The improved plan, or None when the solver found nothing in time (the caller keeps the hint).
    `fixed_staff` / `fixed_heat`: changeovers and heat-up starts of printers outside the model that
    still use the floor's staff and the stations' power (a neighbourhood of a bigger plan).
    `exact`: no neighbourhood (every eligible printer, every arc) and a horizon no better plan can pass
    (a printer ending more than the hint's objective + all prints after its availability already costs
    more than the hint), so status "optimal" is the instance's proven optimum (small instances only)."""
    started = time.perf_counter()
    co = instance.changeovers
    cal = instance.calendar
    placed = {a.job_id: a for a in hint.assignments if not a.fixed}
    jobs = [j for j in instance.plannable() if j.id in placed]
    if not jobs:
        return None
    printers = [p for p in instance.printers if p.online]
    pindex = {p.id: p for p in printers}
    dur = {j.id: instance.duration(j) for j in jobs}
    max_setup = co.spool_swap_min + co.colour_purge_min + co.nozzle_swap_min
    plate = co.plate_clear_min
    hint_end = max(a.end for a in hint.assignments)
    horizon = min(cal.horizon_min, hint_end + 2 * 24 * 60)
    if exact:
        from somana_core.scheduling.model import figures

        candidates, window = len(printers), len(jobs)
        # objective >= (end_p - available_p) - sum of all prints for every used printer p
        horizon = max(p.available_min for p in printers) + int(figures(instance, hint)["objective"]) \
            + sum(dur.values()) + 1
        if horizon > cal.horizon_min:
            raise ValueError(f"exact model needs a calendar to minute {horizon}, it ends at {cal.horizon_min}")
    lo = min([p.available_min for p in printers] + [0])

    # candidate printers per plate: the greedy one, then those already running its material/colour/nozzle
    groups_on = {}
    load = {p.id: p.available_min for p in printers}
    for a in hint.assignments:
        if a.fixed:
            continue
        groups_on.setdefault(a.printer, set()).add(instance.job(a.job_id).group)
        load[a.printer] = max(load[a.printer], a.end)
    cand: dict[str, list[str]] = {}
    for job in jobs:
        own = placed[job.id].printer
        others = [p for p in instance.eligible(job) if p.id != own]
        others.sort(key=lambda p: (job.group not in groups_on.get(p.id, set()),
                                   (p.material, p.colour, p.nozzle_mm) != job.group, load[p.id], p.id))
        cand[job.id] = [own] + [p.id for p in others[: max(0, candidates - 1)]]
    per_printer: dict[str, list[str]] = {p.id: [] for p in printers}
    for jid, pids in cand.items():
        for pid in pids:
            per_printer[pid].append(jid)
    for pid in per_printer:
        per_printer[pid].sort(key=lambda jid: (placed[jid].start, jid))

    m = cp_model.CpModel()
    cs, s, e, chg, tard = {}, {}, {}, {}, {}
    staffed = [(ws, we) for ws, we, _ in cal.windows if we > lo and ws < horizon]
    cs_domain = cp_model.Domain.FromIntervals([[max(ws, lo), we - plate] for ws, we in staffed if we - plate >= max(ws, lo)])
    for job in jobs:
        j = job.id
        cs[j] = m.NewIntVarFromDomain(cs_domain, f"cs_{j}")
        chg[j] = m.NewIntVar(plate, plate + max_setup, f"co_{j}")
        s[j] = m.NewIntVar(max(lo, job.release_min), horizon, f"s_{j}")
        e[j] = m.NewIntVar(lo, horizon + dur[j], f"e_{j}")
        m.Add(cs[j] >= job.release_min)  # nobody clears a plate for an order not yet there
        m.Add(s[j] == cs[j] + chg[j])
        m.Add(e[j] == s[j] + dur[j])
        tard[j] = m.NewIntVar(0, horizon + dur[j], f"t_{j}")
        m.Add(tard[j] >= e[j] - job.due_min)

    presence = {}
    in_terms: dict[str, list] = {j.id: [] for j in jobs}
    arc_lits = {}
    end_p = {}
    for p in printers:
        ids = per_printer[p.id]
        end_p[p.id] = m.NewIntVar(p.available_min, horizon + max(dur.values()), f"end_{p.id}")
        if not ids:
            continue
        node = {jid: k + 1 for k, jid in enumerate(ids)}
        arcs = []
        empty = m.NewBoolVar(f"empty_{p.id}")
        arcs.append((0, 0, empty))
        start_state = (p.material, p.colour, p.nozzle_mm)
        hinted_pairs = set()
        seq = [a.job_id for a in sorted((a for a in hint.assignments if a.printer == p.id and not a.fixed),
                                        key=lambda a: a.start)]
        hinted_pairs.update(zip(seq, seq[1:]))
        for jid in ids:
            job = instance.job(jid)
            x = m.NewBoolVar(f"x_{p.id}_{jid}")
            presence[(p.id, jid)] = x
            arcs.append((node[jid], node[jid], x.Not()))
            first = m.NewBoolVar(f"first_{p.id}_{jid}")
            arcs.append((0, node[jid], first))
            m.Add(cs[jid] >= p.available_min).OnlyEnforceIf(first)
            setup = co.setup_min(*start_state, job)
            if setup:
                in_terms[jid].append((first, setup))
            last = m.NewBoolVar(f"last_{p.id}_{jid}")
            arcs.append((node[jid], 0, last))
            m.Add(end_p[p.id] >= e[jid]).OnlyEnforceIf(x)
            arc_lits[(p.id, "0", jid)] = first
            arc_lits[(p.id, jid, "0")] = last
        for a_pos, i in enumerate(ids):
            for b_pos, jid in enumerate(ids):
                if i == jid:
                    continue
                if abs(a_pos - b_pos) > window and (i, jid) not in hinted_pairs:
                    continue
                lit = m.NewBoolVar("")
                arcs.append((node[i], node[jid], lit))
                m.Add(cs[jid] >= e[i]).OnlyEnforceIf(lit)
                setup = co.setup_min(*instance.job(i).group, instance.job(jid))
                if setup:
                    in_terms[jid].append((lit, setup))
                arc_lits[(p.id, i, jid)] = lit
        m.AddCircuit(arcs)
        if exact:
            # redundant, for the proof's bound: a printer's span holds every plate clear, setup and print on it
            setups = [(arc_lits[(p.id, "0", jid)], co.setup_min(*start_state, instance.job(jid))) for jid in ids]
            setups += [(lit, co.setup_min(*instance.job(u).group, instance.job(v)))
                       for (pid, u, v), lit in arc_lits.items() if pid == p.id and u != "0" and v != "0"]
            m.Add(end_p[p.id] - p.available_min >= sum(presence[(p.id, jid)] * (dur[jid] + plate) for jid in ids)
                  + sum(lit * setup for lit, setup in setups if setup))
            # and its plates (changeover, then print) never overlap: disjunctive reasoning for the proof
            m.AddNoOverlap([m.NewOptionalIntervalVar(cs[jid], chg[jid] + dur[jid], e[jid], presence[(p.id, jid)], "")
                            for jid in ids])
        arc_lits[(p.id, "0", "0")] = empty

    for job in jobs:
        m.AddExactlyOne(presence[(pid, job.id)] for pid in cand[job.id])
        m.Add(chg[job.id] == plate + sum(lit * setup for lit, setup in in_terms[job.id]))

    # staff: changeovers plus the unstaffed hours as full blocks
    cap = max(cal.max_staff, 1)
    staff_iv = [m.NewIntervalVar(cs[j.id], chg[j.id], s[j.id], f"staff_{j.id}") for j in jobs]
    demands = [1] * len(staff_iv)
    t = lo - 1
    for ws, we, staff in cal.windows:
        if we <= lo:
            continue
        if ws > t:
            staff_iv.append(m.NewIntervalVar(t, ws - t, ws, ""))
            demands.append(cap)
        if staff < cap:
            staff_iv.append(m.NewIntervalVar(ws, we - ws, we, ""))
            demands.append(cap - staff)
        t = we
        if t > horizon + max(dur.values()):
            break
    for start, end in fixed_staff:
        if end > lo and end > start:
            staff_iv.append(m.NewIntervalVar(start, end - start, end, ""))
            demands.append(1)
    m.AddCumulative(staff_iv, demands, cap)

    # power: heat-ups per station
    stations: dict[str, list[str]] = {}
    for p in printers:
        stations.setdefault(p.station, []).append(p.id)
    fixed_heat = {k: list(v) for k, v in (fixed_heat or {}).items()}
    for a in hint.assignments:
        if a.fixed and a.printer in pindex and a.start + co.heat_up_min > lo:
            fixed_heat.setdefault(pindex[a.printer].station, []).append(a.start)
    for station, pids in stations.items():
        intervals = []
        for job in jobs:
            lits = [presence[(pid, job.id)] for pid in pids if (pid, job.id) in presence]
            if not lits:
                continue
            if len(lits) == len(cand[job.id]):
                intervals.append(m.NewFixedSizeIntervalVar(s[job.id], co.heat_up_min, ""))
                continue
            y = m.NewBoolVar("")
            m.Add(y == sum(lits))
            intervals.append(m.NewOptionalFixedSizeIntervalVar(s[job.id], co.heat_up_min, y, ""))
        for start in fixed_heat.get(station, []):
            intervals.append(m.NewFixedSizeIntervalVar(start, co.heat_up_min, ""))
        if intervals:
            m.AddCumulative(intervals, [1] * len(intervals), co.heat_up_cap_per_station)

    m.Minimize(TARDINESS_WEIGHT * sum(job.weight * tard[job.id] for job in jobs)
               + sum(end_p[p.id] - p.available_min for p in printers) - sum(dur.values()))

    # warm start: the greedy plan
    for job in jobs:
        a = placed[job.id]
        m.AddHint(cs[job.id], a.changeover_start)
        m.AddHint(s[job.id], a.start)
        m.AddHint(e[job.id], a.end)
        m.AddHint(chg[job.id], a.start - a.changeover_start)
        m.AddHint(tard[job.id], max(0, a.end - job.due_min))
        for pid in cand[job.id]:
            m.AddHint(presence[(pid, job.id)], int(pid == a.printer))
    hinted = set()
    for p in printers:
        seq = [a.job_id for a in sorted((a for a in hint.assignments if a.printer == p.id and not a.fixed),
                                        key=lambda a: a.start)]
        ends = [placed[j].end for j in seq]
        m.AddHint(end_p[p.id], max(ends, default=p.available_min))
        chain = ["0", *seq, "0"] if seq else ["0", "0"]
        for u, v in zip(chain, chain[1:]):
            hinted.add((p.id, u, v))
    for key, lit in arc_lits.items():
        m.AddHint(lit, int(key in hinted))

    build_s = time.perf_counter() - started
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.01, time_limit_s - build_s)
    solver.parameters.num_workers = max(1, workers)
    solver.parameters.random_seed = seed
    if len(jobs) > 30 and not exact:
        # measured on 2 cores, 20 x 500: full presolve (probing, symmetry, repeated loops) ate the
        # whole 10 s before search began; one light pass leaves the time to the search.
        solver.parameters.max_presolve_iterations = 1
        solver.parameters.cp_model_probing_level = 0
        solver.parameters.symmetry_level = 0
    status = solver.Solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    assignments = []
    for p in printers:
        ids = [jid for jid in per_printer[p.id] if solver.Value(presence[(p.id, jid)])]
        ids.sort(key=lambda jid: solver.Value(s[jid]))
        seq_jobs = [instance.job(jid) for jid in ids]
        assignments += sequence_times(instance, p, seq_jobs,
                                      [(solver.Value(cs[jid]), solver.Value(s[jid])) for jid in ids])
    fixed = [a for a in hint.assignments if a.fixed]
    out = Schedule(fixed + assignments, method="cp-sat", solve_s=time.perf_counter() - started,
                   status=STATUS.get(status, str(status)), unplaced=list(hint.unplaced))
    out.lower_bounds["cp_sat"] = float(solver.BestObjectiveBound())
    out.notes.append(f"model built in {build_s:.2f} s; {len(arc_lits)} arcs, {len(presence)} printer choices")
    return out


# One model of everything: above 120 plates it spends its time in presolve (2 cores); with a short limit
# (re-plans) building it in Python alone overruns above about 40 plates, so neighbourhoods take over.
FULL_MODEL_MAX_JOBS = 120
FULL_MODEL_MAX_JOBS_SHORT = 40
SHORT_LIMIT_S = 3.0
NEIGHBOURHOOD_PRINTERS = 2  # measured on 20 x 500, 10 s: 2 printers / 1.5 s improved 7 of 7 tries,
NEIGHBOURHOOD_S = 1.5  # 3 printers / 0.8 s none (the solver was still loading the hint)


def improve(instance: Instance, plan: Schedule, time_limit_s: float, workers: int = 2, seed: int = 0) -> Schedule:
    """CP-SAT on the whole plan when it is small; on a big one, large-neighbourhood search: again and
    again free the plates of a few printers (one with the most tardiness, others that could take its
    work), re-solve them exactly with CP-SAT around the fixed rest (shared staff and station power
    included), and keep the result when it is better."""
    import random

    from somana_core.scheduling.model import figures

    started = time.perf_counter()
    jobs = [a for a in plan.assignments if not a.fixed]
    if len(jobs) <= (FULL_MODEL_MAX_JOBS if time_limit_s >= SHORT_LIMIT_S else FULL_MODEL_MAX_JOBS_SHORT):
        out = solve(instance, plan, time_limit_s, workers=workers, seed=seed)
        if out is None:
            plan.notes.append("CP-SAT found no plan in time")
            return plan
        return out
    rng = random.Random(seed)
    current = plan
    best_obj = figures(instance, current)["objective"]
    tried = improved = 0
    online = [p for p in instance.printers if p.online]
    pindex = {p.id: p for p in online}
    jobs_by_id = {j.id: j for j in instance.jobs}
    while time.perf_counter() - started < time_limit_s - 0.2:
        rows = current.by_printer()
        late = {pid: sum(a.weight * a.tardiness_min for a in rows.get(pid, []) if not a.fixed) for pid in pindex}
        if tried % 2 == 0 and any(late.values()):
            anchor = rng.choices(list(late), [v + 1 for v in late.values()])[0]
        else:
            anchor = rng.choice(list(pindex))
        anchor_groups = {jobs_by_id[a.job_id].group for a in rows.get(anchor, []) if not a.fixed}
        others = [pid for pid in pindex if pid != anchor]
        rng.shuffle(others)
        others.sort(key=lambda pid: (late[pid] > 0, -len(anchor_groups & {jobs_by_id[a.job_id].group
                                                                         for a in rows.get(pid, [])})))
        chosen = {anchor, *others[: NEIGHBOURHOOD_PRINTERS - 1]}
        inside = [a for a in current.assignments if a.printer in chosen]
        outside = [a for a in current.assignments if a.printer not in chosen]
        sub = Instance(tuple(p for p in instance.printers if p.id in chosen),
                       tuple(jobs_by_id[a.job_id] for a in inside), instance.changeovers, instance.calendar)
        fixed_staff = [(a.changeover_start, a.start) for a in outside if not a.fixed]
        fixed_heat: dict[str, list[int]] = {}
        for a in outside:
            fixed_heat.setdefault(pindex[a.printer].station if a.printer in pindex else "", []).append(a.start)
        hint = Schedule(inside, method="hint")
        budget = min(NEIGHBOURHOOD_S, time_limit_s - (time.perf_counter() - started) - 0.1)
        if budget < 0.2:
            break
        tried += 1
        result = solve(sub, hint, budget, workers=workers, seed=seed + tried, candidates=NEIGHBOURHOOD_PRINTERS,
                       fixed_staff=fixed_staff, fixed_heat=fixed_heat)
        if result is None:
            continue
        candidate = Schedule(outside + result.assignments, method="cp-sat", status="feasible",
                             unplaced=list(current.unplaced))
        obj = figures(instance, candidate)["objective"]
        if obj < best_obj:
            current, best_obj = candidate, obj
            improved += 1
    note = (f"large-neighbourhood search: {tried} CP-SAT neighbourhoods of {NEIGHBOURHOOD_PRINTERS} printers, "
            f"{improved} improved the plan")
    if current is not plan:
        current.notes = [*plan.notes, *current.notes]
    current.notes.append(note)
    if improved:
        current.method, current.status = "cp-sat", "feasible"
        current.solve_s = time.perf_counter() - started
    return current
