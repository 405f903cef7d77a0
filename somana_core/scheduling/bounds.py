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
  has fitted needs one nozzle swap. Idle time is bounded below by 0.
"""

from __future__ import annotations

from somana_core.scheduling.model import TARDINESS_WEIGHT, Instance


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
        work = 0
        for job in sorted(jobs, key=lambda j: j.due_min):
            work += instance.duration(job) + co.plate_clear_min
            d = job.due_min
            capacity = sum(max(0, d - p.available_min) for p in online)
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
    return {
        "weighted_tardiness_min": tardiness,
        "weighted_tardiness_per_job_min": per_job,
        "weighted_tardiness_capacity_min": capacity_bound,
        "changeover_min": changeover,
        "idle_min": 0,
        "objective": TARDINESS_WEIGHT * tardiness + changeover,
    }
