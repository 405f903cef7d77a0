"""Placing plates one at a time: the greedy dispatch (CP-SAT's warm start and fallback), first-come-
first-served with constraint filtering (what print-farm managers do), and re-timing a kept sequence.

All three share `Board`, which knows each printer's state and the staff and heat-up load already
placed, and finds the earliest start that keeps every rule (changeover inside a staffed shift, staff
at once, heat-ups at once per station).
"""

from __future__ import annotations

import bisect
import math
import time

from somana_core.scheduling.model import Assignment, Instance, Job, Printer, Schedule


class Board:
    def __init__(self, instance: Instance):
        self.instance = instance
        self.co = instance.changeovers
        self.cal = instance.calendar
        self.state = {p.id: (p.material, p.colour, p.nozzle_mm) for p in instance.printers}
        self.free_at = {p.id: p.available_min for p in instance.printers}
        co = self.co
        self.staff_iv = Intervals(co.plate_clear_min + co.spool_swap_min + co.colour_purge_min + co.nozzle_swap_min)
        self.heat_iv = {p.station: Intervals(co.heat_up_min) for p in instance.printers}
        self.assignments: list[Assignment] = []
        self.printers = {p.id: p for p in instance.printers}
        self.unplaced: list[str] = []
        for job in instance.jobs:  # printing now: already on the board
            if job.fixed_printer is not None and job.fixed_printer in self.printers:
                p = self.printers[job.fixed_printer]
                start = job.fixed_start if job.fixed_start is not None else p.available_min - instance.duration(job)
                self.heat_iv[p.station].add(start, start + self.co.heat_up_min)
                self.assignments.append(Assignment(
                    job.id, p.id, start, start, start + instance.duration(job), 0, (), 0, job.due_min,
                    job.weight, fixed=True))

    def setup(self, printer: Printer, job: Job) -> int:
        return self.co.setup_min(*self.state[printer.id], job)

    def earliest(self, printer: Printer, job: Job, not_before: int = 0) -> tuple[int, int] | None:
        """(changeover start, print start) of `job` placed next on `printer`, or None past the calendar."""
        change = self.co.plate_clear_min + self.setup(printer, job)
        heat = self.co.heat_up_min
        cap = self.co.heat_up_cap_per_station
        heats = self.heat_iv[printer.station]
        t = max(self.free_at[printer.id], job.release_min, not_before)
        for _ in range(10_000):
            cs = self.cal.next_fit(t, change)
            if cs is None:
                return None
            s = cs + change
            staff = self.cal.staff_at(cs)
            clash = _first_clash(self.staff_iv, cs, s, staff)
            if clash is not None:
                t = clash
                continue
            clash = _first_clash(heats, s, s + heat, cap)
            if clash is not None:
                t = cs + (clash - s)
                continue
            return cs, s
        return None

    def place(self, printer: Printer, job: Job, cs: int, s: int) -> Assignment:
        setup = self.setup(printer, job)
        kinds = tuple(self.co.kinds(*self.state[printer.id], job))
        end = s + self.instance.duration(job)
        ready = max(self.free_at[printer.id], job.release_min)
        a = Assignment(job.id, printer.id, cs, s, end, setup, kinds, max(0, cs - ready), job.due_min, job.weight)
        self.assignments.append(a)
        if s > cs:
            self.staff_iv.add(cs, s)
        self.heat_iv[printer.station].add(s, s + self.co.heat_up_min)
        self.state[printer.id] = job.group
        self.free_at[printer.id] = end
        return a

    def schedule(self, method: str, started: float) -> Schedule:
        return Schedule(list(self.assignments), method=method, solve_s=time.perf_counter() - started,
                        status="heuristic", unplaced=list(self.unplaced))


class Intervals:
    """Busy intervals kept sorted by start, so an overlap query looks at a few neighbours only."""

    def __init__(self, longest: int):
        self.longest = longest  # no interval is longer: bounds how far back an overlap can start
        self.items: list[tuple[int, int]] = []

    def add(self, start: int, end: int) -> None:
        bisect.insort(self.items, (start, end))

    def overlapping(self, start: int, end: int) -> list[tuple[int, int]]:
        lo = bisect.bisect_left(self.items, (start - self.longest, -1))
        hi = bisect.bisect_left(self.items, (end, -1))
        return [(s, e) for s, e in self.items[lo:hi] if s < end and e > start]


def _first_clash(intervals: Intervals, start: int, end: int, capacity: int) -> int | None:
    """None when adding [start, end) keeps at most `capacity` intervals at once; else the earliest
    minute worth retrying from (the end of an interval in the way)."""
    overlapping = intervals.overlapping(start, end)
    if len(overlapping) < capacity:
        return None
    if capacity <= 0:
        return min((e for _s, e in overlapping), default=start + 1)
    points = sorted({start, *[s for s, _e in overlapping if s > start]})
    for point in points:
        at_once = [e for s, e in overlapping if s <= point < e]
        if len(at_once) >= capacity:
            return max(min(at_once), start + 1)
    return None


def _eligible(instance: Instance) -> dict[str, list[Printer]]:
    return {j.id: instance.eligible(j) for j in instance.plannable()}


def greedy(instance: Instance, k_slack: float = 2.0, k_setup: float = 0.7, k_night: float | None = None,
           night_share: float = 0.0, day_penalty: float = 0.2) -> Schedule:
    """Apparent-tardiness-cost-with-setups dispatch (Lee, Bhaskaran and Pinedo's ATCS rule): whenever a
    printer frees up, it takes the plate with the highest weight/time x urgency x low-changeover index.
    With `k_night`, the index also falls with the wait the plate would leave after it (a print ending at
    night idles the printer until the morning's plate clear), so the evening goes to long prints that run
    through the night and the day to short ones. With `night_share`, that share of the plates (the longest)
    is kept for the evenings: placed where it would end inside a shift, its index is multiplied by
    `day_penalty`, so the nights get the longest prints (what the lower bound assumes they cover)."""
    started = time.perf_counter()
    board = Board(instance)
    eligible = {jid: {p.id for p in printers} for jid, printers in _eligible(instance).items()}
    waiting = {j.id: j for j in instance.plannable()}
    for jid, printers in eligible.items():
        if not printers:
            board.unplaced.append(jid)
            waiting.pop(jid)
    if not waiting:
        return board.schedule("greedy", started)
    duration = {jid: instance.duration(j) for jid, j in waiting.items()}
    mean_p = sum(duration.values()) / len(duration)
    mean_setup = max(1.0, (instance.changeovers.spool_swap_min + instance.changeovers.colour_purge_min) / 2)
    slack_scale, setup_scale = k_slack * mean_p, k_setup * mean_setup
    usable = [p for p in instance.printers if p.online and any(p.id in eligible[j] for j in waiting)]
    exp = math.exp
    cal = instance.calendar
    plate = instance.changeovers.plate_clear_min
    night_scale = (k_night or 1.0) * mean_p
    # the longest plates, kept for the evenings: each night one of them runs through the unstaffed hours
    reserved = set(sorted(waiting, key=lambda jid: -duration[jid])[:int(night_share * len(waiting))])
    while waiting and usable:
        # the printers free first; when several are (the start of a plan), the best (printer, plate) pair
        first = min(board.free_at[p.id] for p in usable)
        candidates, seen = [], set()
        for p in sorted((p for p in usable if board.free_at[p.id] == first), key=lambda p: p.id):
            kind = (board.state[p.id], p.machine, p.build_mm)  # alike printers free together: look at one
            if kind not in seen:
                seen.add(kind)
                candidates.append(p)
        best, best_index, best_printer = None, -1.0, None
        for printer in candidates:
            now = board.free_at[printer.id]
            state = board.state[printer.id]
            setup_of = {}
            begin = None
            if k_night is not None:
                begin = cal.next_fit(now, plate)
                begin = None if begin is None else begin + plate
            found = False
            for jid, job in waiting.items():
                if printer.id not in eligible[jid]:
                    continue
                found = True
                group = job.group
                setup = setup_of.get(group)
                if setup is None:
                    setup = setup_of[group] = board.co.setup_min(*state, job)
                p_j = duration[jid]
                release = job.release_min
                slack = job.due_min - p_j - (now if now > release else release)
                wait = release - now if release > now else 0
                index = (job.weight / p_j) * exp(-(slack if slack > 0 else 0) / slack_scale
                                                 - (setup + wait) / setup_scale)
                if begin is not None and release <= now:
                    night_wait = cal.unstaffed_wait(begin + setup + p_j)
                    index *= exp(-night_wait / night_scale)
                    if jid in reserved and night_wait == 0:
                        index *= day_penalty  # a long plate that would end in the day: keep it for a night
                if index > best_index or (index == best_index and printer is best_printer and jid < best.id):
                    best, best_index, best_printer = job, index, printer
            if not found:
                usable.remove(printer)
        if best is None:
            continue
        spot = board.earliest(best_printer, best)
        if spot is None:
            board.unplaced.append(best.id)
        else:
            board.place(best_printer, best, *spot)
        del waiting[best.id]
    board.unplaced += list(waiting)
    return board.schedule("greedy", started)


# measured on 20 x 500 (seeds 0-1, tight and loose due dates): the night term cut the objective 2-100x;
# which setting wins varies from instance to instance, so several are tried. Keeping the longest 15-20 %
# of plates for the evenings (night_share) cut the best of 16 random settings by 3-31 % on all four.
GREEDY_SETTINGS = ((2.0, 0.7, 1.0), (4.0, 0.7, 0.7), (4.0, 0.7, 1.5), (2.0, 0.7, 0.7), (4.0, 0.7, 1.0),
                   (2.0, 0.7, None), (2.0, 0.3, None), (4.0, 0.7, 1.0, 0.2, 0.05), (2.0, 0.7, 1.0, 0.15, 0.2))


def best_greedy(instance: Instance, settings=GREEDY_SETTINGS) -> Schedule:
    """The best of a few ATCS look-ahead settings (the right ones depend on how tight due dates are)."""
    from somana_core.scheduling.model import figures

    started = time.perf_counter()
    plans = [greedy(instance, *setting) for setting in settings]
    best = min(plans, key=lambda p: (len(p.unplaced), figures(instance, p)["objective"]))
    best.solve_s = time.perf_counter() - started
    return best


def multi_start(instance: Instance, seconds: float, seed: int = 0, best: Schedule | None = None) -> Schedule:
    """Greedy dispatch again and again with random look-ahead settings for `seconds`, keeping the best
    plan (on 20 x 500 the dispatch is chaotic in its settings: 30 random ones beat the fixed six by 10-18 %)."""
    import random

    from somana_core.scheduling.model import figures

    started = time.perf_counter()
    rng = random.Random(seed)
    key = (lambda p: (len(p.unplaced), figures(instance, p)["objective"]))
    best_key = key(best) if best is not None else None
    tries = 0
    while time.perf_counter() - started < seconds:
        night_share = rng.uniform(0.0, 0.25) if rng.random() < 0.7 else 0.0
        plan = greedy(instance, rng.uniform(1.5, 5.0), rng.uniform(0.3, 1.2), rng.uniform(0.5, 2.0),
                      night_share, rng.uniform(0.05, 0.5))
        tries += 1
        k = key(plan)
        if best is None or k < best_key:
            best, best_key = plan, k
    if best is not None:
        best.notes.append(f"multi-start dispatch: {tries} random settings tried")
    return best


def fifo(instance: Instance) -> Schedule:
    """First come, first served: each plate in arrival order goes to the compatible printer (bed, nozzle
    size by swap, machine model) that can start it soonest; changeovers and due dates play no part."""
    started = time.perf_counter()
    board = Board(instance)
    eligible = _eligible(instance)
    for job in sorted(instance.plannable(), key=lambda j: (j.release_min, j.id)):
        best = None
        for printer in eligible[job.id]:
            spot = board.earliest(printer, job)
            if spot is not None and (best is None or spot[1] < best[1][1]):
                best = (printer, spot)
        if best is None:
            board.unplaced.append(job.id)
        else:
            board.place(best[0], job, *best[1])
    return board.schedule("fifo", started)


def retime(instance: Instance, sequences: dict[str, list[str]], method: str = "retimed",
           order_hint: dict[str, int] | None = None) -> Schedule:
    """Keep each printer's sequence and place every plate as early as the rules allow (after an event
    that only moved times: a print ended early or late). `order_hint` (job -> old start) sets the order
    in which printers claim staff and heat-up slots; jobs no longer plannable are dropped."""
    started = time.perf_counter()
    board = Board(instance)
    jobs = {j.id: j for j in instance.plannable()}
    printers = {p.id: p for p in instance.printers if p.online}
    queue = []
    for pid, ids in sequences.items():
        for pos, jid in enumerate(i for i in ids if i in jobs):
            queue.append(((order_hint or {}).get(jid, pos), pos, pid, jid))
    placed = set()
    pointers = {pid: [jid for jid in ids if jid in jobs] for pid, ids in sequences.items()}
    # take jobs in old-start order, but never ahead of an earlier job of the same printer
    for _key, _pos, pid, jid in sorted(queue):
        if pid not in printers:
            continue
        seq = pointers[pid]
        while seq and seq[0] not in placed:
            nxt = seq.pop(0)
            job = jobs[nxt]
            printer = printers[pid]
            if job.pinned_printer not in (None, pid) or not printer.fits(job):
                if nxt == jid:
                    break  # pinned elsewhere since: dispatched with the new plates below
                continue
            spot = board.earliest(printer, job)
            if spot is None:
                board.unplaced.append(nxt)
            else:
                board.place(printer, job, *spot)
            placed.add(nxt)
            if nxt == jid:
                break
    missing = [jid for jid in jobs if jid not in placed]
    if missing:  # new or orphaned jobs: dispatch them after the kept sequences
        for job in sorted((jobs[j] for j in missing), key=lambda j: (j.due_min, j.id)):
            best = None
            for printer in instance.eligible(job):
                spot = board.earliest(printer, job)
                if spot is not None and (best is None or spot[1] < best[1][1]):
                    best = (printer, spot)
            if best is None:
                board.unplaced.append(job.id)
            else:
                board.place(best[0], job, *best[1])
    return board.schedule(method, started)
