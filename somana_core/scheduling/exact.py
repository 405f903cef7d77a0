"""Proven optima of tiny plans, by dynamic programming (to measure the plans and the lower bound against).

CP-SAT's own model (cpsat.solve(exact=True)) proves optimality only on plans that never meet a night
(measured: 2 printers x 12 plates, 60 s, its bound stays at 96 against plans of about 450: the night
idle is invisible to its relaxation). This enumerates instead.

Relaxation R: drop the couplings between printers (the floor's staff count and the stations' heat-up
cap); keep everything on one printer (plate clear + setups inside one staffed window, the setups from
the printer's state, releases, due dates). In R the printers are independent, and on one printer a
sequence is best timed as early as it can go (every plate's end is then the earliest any timing of that
sequence gives, since `Calendar.next_fit` never decreases in its start, and the objective never
decreases in any end). So, per printer, over subsets S of plates and the plate done last, the
non-dominated (end, weighted tardiness) pairs of the orders of S give its best cost
f_p(S) = 100 x weighted tardiness + end - available; R's optimum is the min over partitions of the
plates into the printers' subsets of sum f_p(S_p), less the prints (the objective of `model.figures`).

R's optimum is below every plan's objective. When the plan that attains it also keeps the rules R
dropped (`model.check` finds nothing), it is the instance's optimum, proved.
"""

from __future__ import annotations

from somana_core.scheduling.model import TARDINESS_WEIGHT, Instance, Schedule, check, figures, sequence_times

MAX_PLATES = 14


def _printer_table(instance: Instance, printer, jobs) -> dict[int, tuple[int, list[int], list[tuple[int, int]]]]:
    """subset mask -> (f_p(S) without the prints, the order, its (changeover start, start) per plate)."""
    co, cal = instance.changeovers, instance.calendar
    n = len(jobs)
    eligible = [any(p.id == printer.id for p in instance.eligible(j)) for j in jobs]
    state0 = (printer.material, printer.colour, printer.nozzle_mm)
    # (mask, last) -> list of (end, weighted tardiness, parent (mask, last, index) or None, cs, s)
    front: dict[tuple[int, int], list] = {}

    def step(t_free, state, j):
        job = jobs[j]
        need = co.plate_clear_min + co.setup_min(*state, job)
        cs = cal.next_fit(max(t_free, job.release_min), need)
        if cs is None:
            return None
        s = cs + need
        e = s + instance.duration(job)
        return cs, s, e, job.weight * max(0, e - job.due_min)

    def add(key, entry):
        rows = front.setdefault(key, [])
        for r in rows:
            if r[0] <= entry[0] and r[1] <= entry[1]:
                return
        rows[:] = [r for r in rows if not (entry[0] <= r[0] and entry[1] <= r[1])] + [entry]

    for j in range(n):
        if eligible[j]:
            out = step(printer.available_min, state0, j)
            if out:
                cs, s, e, wt = out
                add((1 << j, j), (e, wt, None, cs, s))
    for mask in sorted(range(1, 1 << n), key=lambda m: bin(m).count("1")):
        for last in range(n):
            rows = front.get((mask, last))
            if not rows:
                continue
            for idx, (end, wt, _parent, _cs, _s) in enumerate(rows):
                for j in range(n):
                    if mask >> j & 1 or not eligible[j]:
                        continue
                    out = step(end, jobs[last].group, j)
                    if out:
                        cs, s, e, wt_j = out
                        add((mask | 1 << j, j), (e, wt + wt_j, (mask, last, idx), cs, s))
    table = {0: (0, [], [])}
    for (mask, last), rows in front.items():
        for idx, (end, wt, *_rest) in enumerate(rows):
            cost = TARDINESS_WEIGHT * wt + end - printer.available_min
            if mask not in table or cost < table[mask][0]:
                order, times, key = [], [], (mask, last, idx)
                while key is not None:
                    m_, l_, i_ = key
                    entry = front[(m_, l_)][i_]
                    order.append(l_)
                    times.append((entry[3], entry[4]))
                    key = entry[2]
                table[mask] = (cost, order[::-1], times[::-1])
    return table


def optimum(instance: Instance) -> dict:
    """The relaxation's optimum (a lower bound on every plan) and its plan; `proved` when that plan keeps
    every rule, so it is the instance's optimum."""
    jobs = list(instance.plannable())
    if len(jobs) > MAX_PLATES:
        raise ValueError(f"exact.optimum enumerates subsets: {len(jobs)} plates, at most {MAX_PLATES}")
    printers = [p for p in instance.printers if p.online]
    n = len(jobs)
    full = (1 << n) - 1
    tables = [_printer_table(instance, p, jobs) for p in printers]
    # best[k][mask]: the cheapest way printers k.. take exactly the plates in mask
    inf = float("inf")
    best = [dict() for _ in range(len(printers) + 1)]
    best[len(printers)] = {0: (0, None)}

    def solve_from(k: int, mask: int):
        if mask in best[k]:
            return best[k][mask][0]
        if k == len(printers):
            return inf
        value, choice = inf, None
        table = tables[k]
        sub = mask
        while True:
            if sub in table:
                rest = solve_from(k + 1, mask ^ sub)
                if table[sub][0] + rest < value:
                    value, choice = table[sub][0] + rest, sub
            if sub == 0:
                break
            sub = (sub - 1) & mask
        best[k][mask] = (value, choice)
        return value

    value = solve_from(0, full)
    if value == inf:
        return {"objective": None, "proved": False, "problems": ["no relaxed plan places every plate"]}
    assignments, mask = [], full
    for k, p in enumerate(printers):
        sub = best[k][mask][1]
        _cost, order, times = tables[k][sub]
        assignments += sequence_times(instance, p, [jobs[j] for j in order], times)
        mask ^= sub
    plan = Schedule(assignments, method="exact")
    relaxed = value - sum(instance.duration(j) for j in jobs)
    problems = check(instance, plan)
    objective = figures(instance, plan)["objective"]
    assert abs(objective - relaxed) < 1e-6, (objective, relaxed)
    return {"objective": relaxed, "proved": not problems, "problems": problems, "plan": plan}
