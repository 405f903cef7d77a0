"""Lower bounds on the plan's objective, so the gap we report is against something proved.

CP-SAT with two workers proves poor bounds on big instances, so beside its own bound we compute one
from relaxations that hold for every feasible plan:
- tardiness, per plate: it cannot end before its earliest possible finish on any printer that can
  take it (the printer free, a plate clear in the next shift, then the print);
- tardiness, by capacity: the plates due by d need more printer-minutes than the fleet has before
  d; the overflow runs after d on at most m printers, so the last of them ends at least overflow/m
  after d, and its due date is <= d;
- changeover: every plate needs a plate clear; every material/colour no printer has loaded needs at
  least one spool swap, every colour no printer has needs one purge, every nozzle size no printer
  has fitted needs one nozzle swap;
- idle, by the nights: no print starts in an unstaffed gap, so a printer that works on after a gap of
  g minutes was busy at most d_max (the longest plate) of it and idle at least g - d_max. Each printer's
  time splits into segments (a staffed window and what a print can run into the gap after it), each with
  the idle it costs to reach; the fleet must cover all print and changeover minutes with segments, and
  the cheapest fractional cover (an LP relaxation, segments taken in any order) bounds the idle below.
  The same night losses tighten the capacity bound on tardiness.
"""

from __future__ import annotations

from somana_core.scheduling.model import TARDINESS_WEIGHT, Instance


def _segments(instance: Instance, available: int, d_max: int) -> list[tuple[float, float, int]]:
    """(idle it costs to reach, busy minutes it can hold, its start) per segment of one printer."""
    windows = [(ws, we) for ws, we, _ in instance.calendar.windows if we > available]
    out = []
    for i, (ws, we) in enumerate(windows):
        gap_after = windows[i + 1][0] - we if i + 1 < len(windows) else d_max
        if i == 0:
            cost = max(0, ws - available)
            begin = max(ws, available)
        else:
            cost = max(0, ws - windows[i - 1][1] - d_max)
            begin = ws
        out.append((float(cost), float(we - begin + min(d_max, gap_after)), begin))
    return out


def _capacity_before(segments: list[tuple[float, float, int]], deadline: int) -> float:
    """Upper bound on one printer's busy minutes before `deadline`."""
    total = 0.0
    for _cost, capacity, begin in segments:
        if begin >= deadline:
            break
        total += min(capacity, deadline - begin)
    return total


def idle_lower_bound(instance: Instance, busy_min: float) -> float:
    jobs = [j for j in instance.plannable() if instance.eligible(j)]
    online = [p for p in instance.printers if p.online]
    if not jobs or not online:
        return 0.0
    d_max = max(instance.duration(j) for j in jobs)
    segments = [seg for p in online for seg in _segments(instance, p.available_min, d_max)]
    needed = busy_min
    idle = 0.0
    for cost, capacity, _begin in sorted(segments, key=lambda s: (s[0] / s[1] if s[1] > 0 else float("inf"))):
        if needed <= 0:
            break
        if capacity <= 0:
            continue
        share = min(1.0, needed / capacity)
        idle += share * cost
        needed -= share * capacity
    return idle


def lower_bound(instance: Instance) -> dict:
    co = instance.changeovers
    cal = instance.calendar
    jobs = [j for j in instance.plannable() if instance.eligible(j)]
    online = [p for p in instance.printers if p.online]
    per_job = 0
    earliest_end = {}
    for job in jobs:
        best = None
        for p in instance.eligible(job):
            cs = cal.next_fit(max(p.available_min, job.release_min), co.plate_clear_min)
            if cs is None:
                continue
            end = cs + co.plate_clear_min + instance.duration(job)
            best = end if best is None else min(best, end)
        if best is not None:
            earliest_end[job.id] = best
            per_job += job.weight * max(0, best - job.due_min)
    capacity_bound = 0.0
    if jobs and online:
        m = len(online)
        w_min = min(j.weight for j in jobs)
        d_max = max(instance.duration(j) for j in jobs)
        segments = {p.id: _segments(instance, p.available_min, d_max) for p in online}
        work = 0
        for job in sorted(jobs, key=lambda j: j.due_min):
            work += instance.duration(job) + co.plate_clear_min
            d = job.due_min
            capacity = sum(_capacity_before(segments[p.id], d) for p in online)
            overflow = work - capacity
            if overflow > 0:
                capacity_bound = max(capacity_bound, w_min * overflow / m)
    tardiness = max(per_job, capacity_bound)
    loaded = {(p.material, p.colour) for p in online}
    colours = {p.colour for p in online}
    nozzles = {round(p.nozzle_mm, 3) for p in online}
    changeover = len(jobs) * co.plate_clear_min
    changeover += co.spool_swap_min * len({(j.material, j.colour) for j in jobs} - loaded)
    changeover += co.colour_purge_min * len({j.colour for j in jobs} - colours)
    changeover += co.nozzle_swap_min * len({round(j.nozzle_mm, 3) for j in jobs} - nozzles)
    busy = sum(instance.duration(j) for j in jobs) + changeover
    idle = idle_lower_bound(instance, busy)
    return {
        "weighted_tardiness_min": tardiness,
        "weighted_tardiness_per_job_min": per_job,
        "weighted_tardiness_capacity_min": capacity_bound,
        "changeover_min": changeover,
        "idle_min": idle,
        "objective": TARDINESS_WEIGHT * tardiness + changeover + idle,
    }
