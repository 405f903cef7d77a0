"""Placing plates one at a time: the greedy dispatch (CP-SAT's warm start and fallback), first-come-
first-served with constraint filtering (what print-farm managers do), and re-timing a kept sequence.

All three share `Board`, which knows each printer's state and the staff and heat-up load already
placed, and finds the earliest start that keeps every rule (changeover inside a staffed shift, staff
at once, heat-ups at once per station).
"""

from __future__ import annotations

import bisect
import time

import numpy as np

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
        t = max(self.free_at[printer.id], job.release_min, not_before)
        return earliest_slot(self.cal, self.staff_iv, self.heat_iv[printer.station], self.co.heat_up_min,
                             self.co.heat_up_cap_per_station, t, self.co.plate_clear_min + self.setup(printer, job))

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

    def remove(self, start: int, end: int) -> None:
        """Take one [start, end) out again (if it is there)."""
        k = bisect.bisect_left(self.items, (start, end))
        if k < len(self.items) and self.items[k] == (start, end):
            self.items.pop(k)

    def overlapping(self, start: int, end: int) -> list[tuple[int, int]]:
        lo = bisect.bisect_left(self.items, (start - self.longest, -1))
        hi = bisect.bisect_left(self.items, (end, -1))
        return [(s, e) for s, e in self.items[lo:hi] if s < end and e > start]


def earliest_slot(cal, staff_iv: Intervals, heats: Intervals, heat: int, cap: int, t: int, change: int
                  ) -> tuple[int, int] | None:
    """(changeover start, print start) of the first changeover of `change` minutes from `t` that fits a
    staffed shift, the staff free then and the station's heat-up cap after it; None past the calendar."""
    for _ in range(10_000):
        cs = cal.next_fit(t, change)
        if cs is None:
            return None
        s = cs + change
        clash = _first_clash(staff_iv, cs, s, cal.staff_at(cs))
        if clash is not None:
            t = clash
            continue
        clash = _first_clash(heats, s, s + heat, cap)
        if clash is not None:
            t = cs + (clash - s)
            continue
        return cs, s
    return None


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
           night_share: float = 0.0, day_penalty: float = 0.2, evening_margin_min: float = 0.0) -> Schedule:
    """Apparent-tardiness-cost-with-setups dispatch (Lee, Bhaskaran and Pinedo's ATCS rule): whenever a
    printer frees up, it takes the plate with the highest weight/time x urgency x low-changeover index.
    With `k_night`, the index also falls with the wait the plate would leave after it (a print ending at
    night idles the printer until the morning's plate clear), so the evening goes to long prints that run
    through the night and the day to short ones. With `night_share`, that share of the plates (the longest)
    is kept for the evenings: placed where it would end inside a shift, its index is multiplied by
    `day_penalty`, so the nights get the longest prints (what the lower bound assumes they cover). A plate
    ending less than a plate clear and `evening_margin_min` before a shift's end leaves the printer waiting
    for the morning too (the evening's staff are busy with every printer's last start)."""
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
    cal = instance.calendar
    plate = instance.changeovers.plate_clear_min
    night_scale = (k_night or 1.0) * mean_p
    # every plate's figures as arrays (sorted by id: ties go to the first), the index computed for all
    # waiting plates of a printer at once (numpy: about 10x the plain loop, so more restarts fit)
    ids = sorted(waiting)
    n = len(ids)
    dur = np.array([duration[j] for j in ids], dtype=float)
    weight = np.array([waiting[j].weight for j in ids], dtype=float)
    due = np.array([waiting[j].due_min for j in ids], dtype=float)
    release = np.array([waiting[j].release_min for j in ids], dtype=float)
    groups = {}
    for j in ids:
        groups.setdefault(waiting[j].group, waiting[j])
    group_of = {g: k for k, g in enumerate(groups)}
    gidx = np.array([group_of[waiting[j].group] for j in ids])
    pindex = {p.id: k for k, p in enumerate(instance.printers)}
    elig = np.zeros((len(instance.printers), n), dtype=bool)
    for k, j in enumerate(ids):
        for pid in eligible[j]:
            elig[pindex[pid], k] = True
    active = np.ones(n, dtype=bool)
    # the longest plates, kept for the evenings: each night one of them runs through the unstaffed hours
    reserved = np.zeros(n, dtype=bool)
    reserved[np.argsort(-dur, kind="stable")[:int(night_share * n)]] = True
    win_s = np.array([w[0] for w in cal.windows] or [0], dtype=float)
    win_e = np.array([w[1] for w in cal.windows] or [0], dtype=float)
    last = len(cal.windows) - 1
    setups: dict[tuple, np.ndarray] = {}
    position = {j: k for k, j in enumerate(ids)}
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
            mask = active & elig[pindex[printer.id]]
            if not mask.any():
                usable.remove(printer)
                continue
            now = board.free_at[printer.id]
            state = board.state[printer.id]
            by_group = setups.get(state)
            if by_group is None:
                by_group = setups[state] = np.array([board.co.setup_min(*state, g) for g in groups.values()],
                                                    dtype=float)
            setup = by_group[gidx]
            slack = due - dur - np.maximum(now, release)
            wait = np.maximum(release - now, 0.0)
            exponent = -np.maximum(slack, 0.0) / slack_scale - (setup + wait) / setup_scale
            penalty = None
            if k_night is not None:
                begin = cal.next_fit(now, plate)
                if begin is not None:
                    ends = begin + plate + setup + dur
                    # the first window in which a plate clear (and the evening's margin) still fits
                    k = np.searchsorted(win_e - plate - evening_margin_min, ends, side="left")
                    night_wait = np.where(k <= last, np.maximum(0.0, win_s[np.minimum(k, last)] - ends), 0.0)
                    here = release <= now
                    exponent -= np.where(here, night_wait / night_scale, 0.0)
                    # a long plate that would end in the day: keep it for a night
                    penalty = here & reserved & (night_wait == 0)
            index = weight / dur * np.exp(exponent)
            if penalty is not None:
                index[penalty] *= day_penalty
            index[~mask] = -1.0
            k = int(np.argmax(index))
            if index[k] > best_index:
                best, best_index, best_printer = waiting[ids[k]], float(index[k]), printer
        if best is None:
            continue
        spot = board.earliest(best_printer, best)
        if spot is None:
            board.unplaced.append(best.id)
        else:
            board.place(best_printer, best, *spot)
        del waiting[best.id]
        active[position[best.id]] = False
    board.unplaced += list(waiting)
    return board.schedule("greedy", started)


# measured on 20 x 500 (seeds 0-1, tight and loose due dates): the night term cut the objective 2-100x;
# which setting wins varies from instance to instance, so several are tried. Keeping the longest 15-20 %
# of plates for the evenings (night_share) cut the best of 16 random settings by 3-31 % on all four;
# counting a plate that ends too late for a plate clear as waiting for the morning, a further 2-9 % on
# three of four (best of 80 random settings).
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
                      night_share, rng.uniform(0.05, 0.5), rng.choice((0.0, rng.uniform(0.0, 45.0))))
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
    that only moved times: a print ended early or late). `order_hint` (job -> its old plate clear's start)
    sets the order in which printers claim staff and heat-up slots (with the plan's own clear starts, an
    unchanged plan comes back unchanged); jobs no longer plannable are dropped."""
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
