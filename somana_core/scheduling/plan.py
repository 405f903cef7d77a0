"""Solving, re-planning on floor events, and promising dates.

`solve` runs the greedy dispatch, then (time allowing) CP-SAT warm-started from it, keeps the better
plan and attaches the lower bound and gap. `Planner` holds the floor's live state (printers, plates,
what is printing) and re-plans on every event within a time limit; plates already printing are fixed.
`Planner.promise_date` is capable-to-promise: the new order's plates are placed after everything
already planned, without moving anyone already promised, and the date that gives is the promise.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from datetime import datetime, timedelta

from somana_core.errors import InputError
from somana_core.scheduling import cpsat
from somana_core.scheduling.anneal import anneal
from somana_core.scheduling.bounds import lower_bound
from somana_core.scheduling.dispatch import (
    GREEDY_SETTINGS,
    Board,
    best_greedy,
    fifo,
    greedy,
    multi_start,
    retime,
)
from somana_core.scheduling.model import (
    Calendar,
    Changeovers,
    Instance,
    Job,
    Printer,
    Schedule,
    check,
    figures,
    load_changeovers,
)

POLICIES = ("cp-sat", "greedy", "fifo")
SMALL_FOR_GREEDY_ONLY = 1  # one plate: dispatch is already optimal for it
MULTI_START_SHARE = 0.5  # of a big plan's solver time, spent on dispatch restarts before CP-SAT neighbourhoods
# what the annealing leaves of a big plan's time to CP-SAT's neighbourhoods: measured on 20 x 500 (seeds 0-1,
# 4.5 s after the restarts, load 5-7), the night swaps that came before the annealing (session 6) alone 1-4 %
# below neighbourhoods alone on all three, and below half and half
LNS_KEEPS_S = 1.8
# Tried and dropped (session 6): a nights-first construction. Keep the ~80-120 longest plates for the
# evenings; when a printer enters a shift, choose its night plate (the longest kept one it can take on time)
# and book on the board the latest plate clear the staff can still give it (5 min when the day can end in the
# night plate's spool; booked again, longer, when the day's last plate is in another); pack the day before
# that slot by urgency (due dates moved to the latest start the shifts allow), then best fit; repair late
# plates by swaps/moves, re-timed. On 20 x 500 tight, seed 0, its nights beat the dispatch's (night idle
# 7.4-8.5k min per weekday night against 9.8-11.1k; night prints median 366-427 min against 228-333; night
# clears a median 36 min before 19:00 against 52-67), but every night plate in another spool costs two swaps
# (changeover 4.0-5.2k min against 3.2-3.6k) and due dates slip (0.6 mm plates: 3 of 20 printers have that
# nozzle). Best of 3 s of restarts + 1 s repair: seed 1 41,350-52,908 (dispatch 42,166), seeds 0/2 mostly
# late (52k-227k). As half or 70 % of the restarts' time in `solve` (10 s, seeds 0-2, load 5): 44,261 /
# 42,863 / 44,171 against 44,214 / 42,239 / 44,095 without: no gain, not kept. First traps met: booking
# every evening with the night plate's swap fills both people's last 2 h (slots from 16:30); re-booking
# after every off-spool day plate does the same; a plate due at 09:00 must start the evening before.
# Where the 10 s plan loses (session 7, 20 x 500 tight, seed 0, objective 43,412): 81 nights (the bound's
# relaxation needs 67), their prints a mean 330 min (the 81 longest plates: 376), cleared a mean 43 min before
# the shift ends, the mornings' first clears a mean 35 min after it opens (2,801 min; the two people's queue
# alone is about 22), 1,318 min idle inside shifts. With the longest plates on the nights and only the queues,
# 81 nights would idle about 30k min, 70 nights about 25k: at this size most of the gap is the plan's, not the
# bound's (unlike the small farms proved in benchmarks/schedule_optimality.py). Tried and dropped (session 7):
# a day-by-day packing, one material/colour/nozzle per printer-day (the plates due that day first), the
# group's longest plate at night, the day filled to the printer's evening slot in the staff queue by subset
# sum, a second group when the first runs out (0.03 s a plan): idle 40-57k and late plates on all six
# instances (1.5k-116k weighted minutes); groups that run dry leave printers ending Friday noon while others
# spill into Saturday. What it would need: printers moved between groups ahead of time (a group's plates per
# printer-day, day by day), not when a group runs out.
# Session 8: the night swaps (a full re-time per try, ~130 tries a second) gave way to simulated annealing
# with every move timed exactly and incrementally (anneal.py, ~9,000 moves a second). What paid: moving a
# printer's last plates to the end of another (printers stop on Thursday evening, nobody works Saturday).
# 10 s plans, six instances: objective summed 250,727 -> 227,119; gap median 36.3 -> 30.8 % tight, 34.6 ->
# 27.4 % loose. Seed 0 tight, annealed 3.5 / 10 / 30 s from the same restarts: 39,477 / 39,473 / 37,815
# (78 nights, night prints a mean 362 min, cleared 34 min before the shift ends, mornings 31 min late, 978 min
# idle inside shifts): more time or more speed no longer buys much; the moves do.


def solve(instance: Instance, policy: str = "cp-sat", time_limit_s: float = 5.0, workers: int = 2,
          seed: int = 0, with_bound: bool = True, start_from: Schedule | None = None) -> Schedule:
    """The plan under `policy`. CP-SAT falls back to the greedy plan when it has no time or finds nothing.
    `start_from`: a feasible plan to start from when it beats a fresh greedy one (a re-plan offers the
    previous plan, re-timed with the new plates added, so a good plan is not thrown away)."""
    if policy not in POLICIES:
        raise InputError("policy", f"policy={policy!r} is not one of {', '.join(POLICIES)}")
    started = time.perf_counter()
    if policy == "fifo":
        plan = fifo(instance)
    else:
        # a re-plan (start_from given) has a time limit of about a second: one greedy pass, not three
        plan = greedy(instance, *GREEDY_SETTINGS[0]) if start_from is not None else best_greedy(instance)
        if start_from is not None and policy == "cp-sat" and not start_from.unplaced \
                and figures(instance, start_from)["objective"] < figures(instance, plan)["objective"]:
            plan = start_from  # measured: re-timing alone appends new plates late; keep whichever is better
        remaining = time_limit_s - (time.perf_counter() - started)
        if policy == "cp-sat" and start_from is None and remaining > 1.0 \
                and len(instance.plannable()) > cpsat.FULL_MODEL_MAX_JOBS:
            # too big for one CP-SAT model: part of the time on dispatch restarts, the rest on neighbourhoods
            plan = multi_start(instance, MULTI_START_SHARE * remaining, seed=seed, best=plan)
            remaining = time_limit_s - (time.perf_counter() - started)
            # then annealing the sequences (the week's end, the nights; scheduling/anneal.py); one CP-SAT
            # neighbourhood's time is left for the solver
            plan = anneal(instance, plan, remaining - LNS_KEEPS_S, seed=seed)
            remaining = time_limit_s - (time.perf_counter() - started)
        if policy == "cp-sat" and remaining > 0.05 and len(plan.assignments) > SMALL_FOR_GREEDY_ONLY:
            greedy_objective = figures(instance, plan)["objective"]
            improved = cpsat.improve(instance, plan, remaining, workers=workers, seed=seed)
            if improved is not plan and not check(instance, improved) \
                    and figures(instance, improved)["objective"] <= greedy_objective:
                plan = improved
            elif improved is not plan:
                plan.notes.append(f"CP-SAT ({improved.status}) did not beat the greedy plan")
            else:
                plan.notes.append("CP-SAT kept the plan it was given")
        elif policy == "cp-sat":
            plan.notes.append("no solver time left: greedy dispatch kept")
    plan.solve_s = time.perf_counter() - started
    if with_bound:
        bounds = lower_bound(instance)
        plan.lower_bounds.update({"custom": bounds["objective"], "custom_parts": bounds})
        plan.lower_bound = max(bounds["objective"], plan.lower_bounds.get("cp_sat", -math.inf))
    return plan


class Planner:
    """The floor's plan, kept current by events. Times are minutes since `origin`."""

    def __init__(self, printers: list[Printer] | tuple[Printer, ...], jobs: list[Job] | None = None,
                 origin: datetime | None = None, changeovers: Changeovers | None = None,
                 calendar: Calendar | None = None, policy: str = "cp-sat", time_limit_s: float = 2.0,
                 workers: int = 2, seed: int = 0):
        from somana_core.scheduling.model import utc_now

        if policy not in POLICIES:
            raise InputError("policy", f"policy={policy!r} is not one of {', '.join(POLICIES)}")
        self.calendar = calendar or Calendar(origin or utc_now())
        self.changeovers = changeovers or load_changeovers()
        self.printers = {p.id: p for p in printers}
        self.jobs: dict[str, Job] = {j.id: j for j in (jobs or [])}
        self.policy, self.time_limit_s, self.workers, self.seed = policy, time_limit_s, workers, seed
        self.now = 0
        self.schedule: Schedule | None = None
        self.history: list[dict] = []
        self.promised_end: dict[str, int] = {}  # order -> the plate end its promise was built on (minute)
        self.slips_min: list[int] = []  # per order done: actual end - promised end (the promise's error)

    # -- the instance as it stands

    def instance(self) -> Instance:
        printers = []
        for p in self.printers.values():
            printers.append(replace(p, available_min=max(p.available_min, self.now)))
        jobs = []
        for j in self.jobs.values():
            if j.fixed_printer is None:
                j = replace(j, release_min=max(j.release_min, self.now))
            jobs.append(j)
        return Instance(tuple(printers), tuple(jobs), self.changeovers, self.calendar)

    def replan(self, time_limit_s: float | None = None, policy: str | None = None, keep_sequences: bool = False,
               with_bound: bool = False) -> Schedule:
        instance = self.instance()
        started = time.perf_counter()
        if keep_sequences and self.schedule is not None:
            seqs = {pid: [a.job_id for a in rows if not a.fixed] for pid, rows in self.schedule.by_printer().items()}
            # the order plates claimed staff in: their plate clears' starts (a re-time then gives the plan back
            # unchanged; ordered by print starts, a plate with a swap lost its slot and 20 x 500 plans came
            # back up to 10x worse)
            hint = {a.job_id: a.changeover_start for a in self.schedule.assignments}
            plan = retime(instance, seqs, order_hint=hint)
        else:
            start_from = None
            if self.schedule is not None and (policy or self.policy) == "cp-sat":
                seqs = {pid: [a.job_id for a in rows if not a.fixed] for pid, rows in self.schedule.by_printer().items()}
                start_from = retime(instance, seqs, order_hint={a.job_id: a.changeover_start
                                                                 for a in self.schedule.assignments})
            plan = solve(instance, policy or self.policy,
                         self.time_limit_s if time_limit_s is None else time_limit_s,
                         workers=self.workers, seed=self.seed, with_bound=with_bound, start_from=start_from)
        plan.solve_s = time.perf_counter() - started
        self.schedule = plan
        return plan

    # -- events (each one re-plans)

    def _printer(self, printer_id: str) -> Printer:
        if printer_id not in self.printers:
            raise InputError("printer", f"printer={printer_id!r} is not one of {', '.join(self.printers)}")
        return self.printers[printer_id]

    def _job(self, job_id: str) -> Job:
        if job_id not in self.jobs:
            raise InputError("job", f"job={job_id!r} is not in the plan")
        return self.jobs[job_id]

    def event(self, kind: str, at: int | None = None, replan: bool = True, **kw) -> Schedule | None:
        """Apply one floor event at minute `at` (default: now) and re-plan."""
        if at is not None:
            self.now = max(self.now, int(at))
        now = self.now
        keep = False
        if kind == "order_confirmed":
            for job in kw["jobs"]:
                self.jobs[job.id] = job
        elif kind == "job_started":
            job, p = self._job(kw["job"]), self._printer(kw["printer"])
            self.jobs[job.id] = replace(job, fixed_printer=p.id, fixed_start=now)
            self.printers[p.id] = replace(p, available_min=self.changeovers.expected_end(now, job.print_min),
                                          material=job.material, colour=job.colour, nozzle_mm=job.nozzle_mm)
            keep = True
        elif kind == "job_done":
            job = self._job(kw["job"])
            if job.fixed_printer is not None:
                p = self.printers[job.fixed_printer]
                self.printers[p.id] = replace(p, available_min=now)
            del self.jobs[job.id]
            self._record_slips(job.orders, now)
            keep = True
        elif kind == "job_failed":
            job = self._job(kw["job"])
            if job.fixed_printer is not None:
                p = self.printers[job.fixed_printer]
                self.printers[p.id] = replace(p, available_min=now)
            self.jobs[job.id] = replace(job, fixed_printer=None, fixed_start=None, release_min=now)
        elif kind == "printer_offline":
            p = self._printer(kw["printer"])
            self.printers[p.id] = replace(p, online=False)
            for job in list(self.jobs.values()):
                if job.fixed_printer == p.id:  # its print is lost: back into the queue
                    self.jobs[job.id] = replace(job, fixed_printer=None, fixed_start=None, release_min=now)
                if job.pinned_printer == p.id:
                    self.jobs[job.id] = replace(self.jobs[job.id], pinned_printer=None)
        elif kind == "printer_back":
            p = self._printer(kw["printer"])
            self.printers[p.id] = replace(p, online=True, available_min=now)
        elif kind == "spool_changed":
            p = self._printer(kw["printer"])
            self.printers[p.id] = replace(p, material=str(kw["material"]), colour=str(kw["colour"]).lower())
        elif kind == "pin":
            job, p = self._job(kw["job"]), self._printer(kw["printer"])
            if not p.fits(job):
                raise InputError("printer", f"job {job.id} does not fit printer {p.id} ({p.machine})")
            self.jobs[job.id] = replace(job, pinned_printer=p.id, held=False)
        elif kind == "unpin":
            self.jobs[kw["job"]] = replace(self._job(kw["job"]), pinned_printer=None)
        elif kind == "hold":
            self.jobs[kw["job"]] = replace(self._job(kw["job"]), held=True)
        elif kind == "release":
            self.jobs[kw["job"]] = replace(self._job(kw["job"]), held=False)
        elif kind == "advance":
            keep = True
        else:
            raise InputError("event", f"event={kind!r} is not a floor event")
        self.history.append({"event": kind, "at": now, **{k: v for k, v in kw.items() if k != "jobs"}})
        if not replan:
            return None
        return self.replan(keep_sequences=keep and self.schedule is not None)

    # -- capable-to-promise

    def _record_slips(self, orders, now: int) -> None:
        """An order whose last plate is done: how late (or early) it came against its promise's plan."""
        waiting = {o for j in self.jobs.values() for o in j.orders}
        for order in orders:
            if order in self.promised_end and order not in waiting:
                self.slips_min.append(now - self.promised_end.pop(order))

    def record_promise(self, order: str, plan_end_min: int) -> None:
        """Remember the plate end a promise was built on, to learn how far the floor slips from it."""
        self.promised_end[order] = int(plan_end_min)

    def promise_buffer_min(self) -> int:
        """Minutes added to the plan's end before a date is promised: the `promise_slip_quantile` of the
        slips seen (a print longer than its estimate, a failure and its reprint, a rush order placed
        ahead), or the default from data/changeovers.csv until enough orders are done."""
        co = self.changeovers
        if len(self.slips_min) < co.promise_slip_min_samples:
            return co.promise_buffer_default_min
        ordered = sorted(self.slips_min[-500:])
        k = min(len(ordered) - 1, max(0, math.ceil(co.promise_slip_quantile * len(ordered)) - 1))
        return max(0, ordered[k])

    def promise(self, jobs: list[Job]) -> int | None:
        """The minute by which the new plates can be done, placed after everything already planned (no
        plate already promised moves). None when no printer can take one of them."""
        if self.schedule is None:
            self.replan()
        instance = self.instance()
        extended = Instance(instance.printers, instance.jobs + tuple(jobs), instance.changeovers, instance.calendar)
        board = Board(extended)
        jobs_by_id = {j.id: j for j in extended.jobs}
        printers = {p.id: p for p in extended.printers}
        for a in sorted(self.schedule.assignments, key=lambda a: a.start):
            if a.fixed or a.job_id not in jobs_by_id or a.printer not in printers:
                continue
            job = jobs_by_id[a.job_id]
            board.place(printers[a.printer], job, a.changeover_start, a.start)
        done = 0
        for job in sorted(jobs, key=lambda j: -j.print_min):
            best = None
            for p in extended.eligible(job):
                spot = board.earliest(p, job)
                if spot is not None and (best is None or spot[1] < best[1][1]):
                    best = (p, spot)
            if best is None:
                return None
            a = board.place(best[0], job, *best[1])
            done = max(done, a.end)
        return done

    def promise_date(self, jobs: list[Job], handling_days: float = 1.0, buffer_min: int | None = None
                     ) -> datetime | None:
        """The delivery date the plan can keep: the plates' end plus the buffer (default:
        `promise_buffer_min()`) plus the handling days, at day's end."""
        end = self.promise(jobs)
        if end is None:
            return None
        return self.date_for(end, handling_days, buffer_min)

    def date_for(self, plan_end_min: int, handling_days: float, buffer_min: int | None = None) -> datetime:
        buffer = self.promise_buffer_min() if buffer_min is None else buffer_min
        when = self.calendar.at(plan_end_min + buffer) + timedelta(days=handling_days)
        return when.replace(hour=23, minute=59, second=0, microsecond=0)

    def figures(self) -> dict:
        return figures(self.instance(), self.schedule) if self.schedule else {}
