"""The scheduler's vocabulary: printers, jobs, changeovers, the staffed calendar, a schedule and its figures.

Time inside the scheduler is whole minutes since the plan's origin (a UTC datetime), so the greedy
dispatch, the CP-SAT model and the checks all share one integer clock. Every figure (changeover
minutes, shifts, printers) comes from `data/`; nothing here is a factory fact.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from somana_core.catalogue import machines as machines_table
from somana_core.data import data_path, read_table
from somana_core.errors import InputError

DEFAULT_COLOUR = "black"  # an order that names no colour is printed in the house colour
TARDINESS_WEIGHT = 100  # one weighted minute late costs as much as 100 minutes of changeover or idle
MINUTES_PER_DAY = 24 * 60


def _stamp(name: str) -> tuple[str, int]:
    path = data_path(name)
    return str(path), path.stat().st_mtime_ns


# ---------------------------------------------------------------- changeovers


@dataclass(frozen=True)
class Changeovers:
    """Minutes of floor work between prints (data/changeovers.csv) and the heat-up cap."""

    plate_clear_min: int
    spool_swap_min: int
    colour_purge_min: int
    nozzle_swap_min: int
    heat_up_min: int
    heat_up_cap_per_station: int
    shared_plate_max_h: float = 10.0
    shared_plate_due_window_h: float = 24.0
    # the promise's buffer: this quantile of the slips seen so far (actual end - the end promised),
    # and the buffer used until `promise_slip_min_samples` slips have been seen
    promise_slip_quantile: float = 0.95
    promise_buffer_default_min: int = 0
    promise_slip_min_samples: int = 20
    # a print under way may run longer than its estimate: the next plate on its printer is planned
    # this fraction of the print later (the sequence is re-timed when the print really ends)
    running_print_margin: float = 0.0

    def expected_end(self, start: int, print_min: int) -> int:
        """When to plan the next plate after a print started at `start` (heat-up, print and margin)."""
        return int(start + self.heat_up_min + round(print_min * (1 + self.running_print_margin)))

    def setup_min(self, material_from: str | None, colour_from: str | None, nozzle_from: float | None,
                  job: "Job") -> int:
        """Sequence-dependent minutes on top of the plate clear, from the state a printer is in."""
        minutes = 0
        if material_from != job.material or colour_from != job.colour:
            minutes += self.spool_swap_min
        if colour_from != job.colour:
            minutes += self.colour_purge_min
        if nozzle_from is None or abs(nozzle_from - job.nozzle_mm) > 1e-6:
            minutes += self.nozzle_swap_min
        return minutes

    def kinds(self, material_from, colour_from, nozzle_from, job: "Job") -> list[str]:
        """Which changeovers happen before `job` (for the Gantt's labels)."""
        out = ["plate_clear"]
        if material_from != job.material or colour_from != job.colour:
            out.append("spool_swap")
        if colour_from != job.colour:
            out.append("colour_purge")
        if nozzle_from is None or abs(nozzle_from - job.nozzle_mm) > 1e-6:
            out.append("nozzle_swap")
        return out


@lru_cache(maxsize=4)
def _changeovers(_key) -> Changeovers:
    table = read_table("changeovers.csv")
    values = {str(r.name): float(r.value) for r in table.itertuples()}
    needed = ("plate_clear", "spool_swap", "colour_purge", "nozzle_swap", "heat_up", "heat_up_cap_per_station")
    missing = [n for n in needed if n not in values]
    if missing:
        raise KeyError(f"data/changeovers.csv has no row for {', '.join(missing)}")
    return Changeovers(
        plate_clear_min=int(round(values["plate_clear"])), spool_swap_min=int(round(values["spool_swap"])),
        colour_purge_min=int(round(values["colour_purge"])), nozzle_swap_min=int(round(values["nozzle_swap"])),
        heat_up_min=int(round(values["heat_up"])), heat_up_cap_per_station=int(values["heat_up_cap_per_station"]),
        shared_plate_max_h=values.get("shared_plate_max_h", 10.0),
        shared_plate_due_window_h=values.get("shared_plate_due_window_h", 24.0),
        promise_slip_quantile=values.get("promise_slip_quantile", 0.95),
        promise_buffer_default_min=int(round(values.get("promise_buffer_default", 0))),
        promise_slip_min_samples=int(values.get("promise_slip_min_samples", 20)),
        running_print_margin=values.get("running_print_margin", 0.0),
    )


def load_changeovers() -> Changeovers:
    return _changeovers(_stamp("changeovers.csv"))


# ---------------------------------------------------------------- the staffed calendar


@dataclass(frozen=True)
class Shift:
    weekday: int  # 0 = Monday
    start_min: int  # minutes after midnight
    end_min: int
    staff: int


@lru_cache(maxsize=4)
def _shifts(_key) -> tuple[Shift, ...]:
    table = read_table("shifts.csv")
    out = []
    for r in table.itertuples():
        start = _hhmm(str(r.start))
        end = _hhmm(str(r.end))
        if not 0 <= int(r.weekday) <= 6 or end <= start or int(r.staff) < 1:
            raise ValueError(f"data/shifts.csv: bad row weekday={r.weekday} {r.start}-{r.end} staff={r.staff}")
        out.append(Shift(int(r.weekday), start, end, int(r.staff)))
    return tuple(out)


def _hhmm(text: str) -> int:
    hours, _, minutes = text.strip().partition(":")
    return int(hours) * 60 + int(minutes or 0)


def load_shifts() -> tuple[Shift, ...]:
    return _shifts(_stamp("shifts.csv"))


class Calendar:
    """Staffed windows as (start, end, staff) in minutes since `origin`, from the weekly shifts."""

    def __init__(self, origin: datetime, shifts: tuple[Shift, ...] | None = None, days: int = 60):
        self.origin = origin.astimezone(timezone.utc)
        self.shifts = load_shifts() if shifts is None else tuple(shifts)
        midnight = self.origin.replace(hour=0, minute=0, second=0, microsecond=0)
        offset = int((midnight - self.origin).total_seconds() // 60)  # <= 0
        windows = []
        for day in range(-1, days + 1):
            weekday = (midnight + timedelta(days=day)).weekday()
            for s in sorted(self.shifts, key=lambda s: s.start_min):
                if s.weekday == weekday:
                    windows.append((offset + day * MINUTES_PER_DAY + s.start_min,
                                    offset + day * MINUTES_PER_DAY + s.end_min, s.staff))
        self.windows = [w for w in sorted(windows) if w[1] > 0]
        self._ends = [w[1] for w in self.windows]
        self.max_staff = max((w[2] for w in self.windows), default=0)
        self.horizon_min = days * MINUTES_PER_DAY + offset

    def next_fit(self, t: int, duration: int) -> int | None:
        """The earliest minute >= t at which `duration` minutes of staffed work fit in one shift."""
        i = bisect.bisect_right(self._ends, t)
        for start, end, _staff in self.windows[i:]:
            begin = max(t, start)
            if begin + duration <= end:
                return begin
        return None

    def unstaffed_wait(self, t: int) -> int:
        """Minutes from `t` to the next staffed minute (0 inside a shift): how long a printer whose print
        ends at `t` waits for someone to clear its plate."""
        i = bisect.bisect_right(self._ends, t)
        if i < len(self.windows):
            return max(0, self.windows[i][0] - t)
        return 0

    def staff_at(self, t: int) -> int:
        i = bisect.bisect_right(self._ends, t)
        if i < len(self.windows) and self.windows[i][0] <= t < self.windows[i][1]:
            return self.windows[i][2]
        return 0

    def window_end(self, t: int) -> int | None:
        """The end of the staffed window `t` is in (None outside every window)."""
        i = bisect.bisect_right(self._ends, t)
        if i < len(self.windows) and self.windows[i][0] <= t:
            return self.windows[i][1]
        return None

    def staffed(self, start: int, end: int) -> bool:
        """Whether [start, end] lies inside one staffed window."""
        i = bisect.bisect_right(self._ends, start)
        if i < len(self.windows):
            ws, we, _ = self.windows[i]
            return ws <= start and end <= we
        return False

    def at(self, minute: int | float) -> datetime:
        return self.origin + timedelta(minutes=float(minute))

    def minute(self, when: datetime) -> int:
        return int(round((when.astimezone(timezone.utc) - self.origin).total_seconds() / 60))


# ---------------------------------------------------------------- printers and jobs


@dataclass(frozen=True)
class Printer:
    id: str
    label: str
    machine: str
    build_mm: tuple[float, float, float]
    nozzle_mm: float
    material: str
    colour: str
    station: str
    available_min: int = 0  # when its plate may next be cleared (end of what it prints now)
    online: bool = True
    bus: str = ""  # its name on the floor's bus, "STATION/PRINTER" (data/printers.csv), when it has one

    def fits(self, job: "Job") -> bool:
        if job.machine and job.machine != self.machine:
            return False  # its G-code was sliced for another machine model
        if job.size_mm is None:
            return True
        x, y, z = job.size_mm
        bx, by, bz = self.build_mm
        return z <= bz + 1e-6 and ((x <= bx + 1e-6 and y <= by + 1e-6) or (y <= bx + 1e-6 and x <= by + 1e-6))


@lru_cache(maxsize=4)
def _printers(_key, _machines_key) -> tuple[Printer, ...]:
    machines = machines_table().set_index("machine")
    out = []
    for r in read_table("printers.csv").itertuples():
        machine = str(r.machine)
        if machine not in machines.index:
            raise ValueError(f"data/printers.csv: printer {r.printer} names machine {machine!r}, "
                             f"not in data/machines.csv ({', '.join(machines.index)})")
        m = machines.loc[machine]
        out.append(Printer(
            id=str(r.printer), label=str(r.label), machine=machine,
            build_mm=(float(m.build_x_mm), float(m.build_y_mm), float(m.build_z_mm)),
            nozzle_mm=float(r.nozzle_mm), material=str(r.material), colour=str(r.colour).lower(),
            station=str(r.station), bus=_text(getattr(r, "bus", ""))))
    return tuple(out)


def _text(value) -> str:
    return "" if value is None or (isinstance(value, float) and value != value) else str(value).strip()


def load_printers() -> tuple[Printer, ...]:
    """The floor's printers from data/printers.csv (build volume through data/machines.csv)."""
    return _printers(_stamp("printers.csv"), _stamp("machines.csv"))


def fleet(count: int) -> tuple[Printer, ...]:
    """`count` printers: the floor's own, repeated in turn (for simulations of a bigger farm).
    A copy keeps its model, nozzle and spool; stations hold at most 4 printers each."""
    base = load_printers()
    if count < 1:
        raise InputError("printers", f"printers={count} is below the minimum 1")
    out = []
    for i in range(count):
        p = base[i % len(base)]
        out.append(replace(p, id=f"p{i + 1}", label=f"{p.label.rsplit(' ', 1)[0]} {i + 1}",
                           station=chr(ord("A") + i // 4)))
    return tuple(out)


@dataclass(frozen=True)
class Job:
    """One plate: the part sets of one or more orders printed together."""

    id: str
    orders: tuple[str, ...]
    print_min: int  # the print itself, without the heat-up
    material: str
    colour: str
    nozzle_mm: float
    due_min: int  # when the plate must be off the printer
    weight: int = 1  # orders on the plate: a late shared plate makes each of them late
    release_min: int = 0
    size_mm: tuple[float, float, float] | None = None
    machine: str | None = None  # set when its G-code is for one machine model only
    print_time_source: str = "estimate"
    pinned_printer: str | None = None
    held: bool = False
    fixed_printer: str | None = None  # printing now: this printer, from fixed_start
    fixed_start: int | None = None
    # the part sets on the plate (jobs.PartSet ids): a print job's floor name NUMBER or NUMBER/K (a plate
    # of a multi-plate order), with #U for unit U when the order is for several units
    parts: tuple[str, ...] = ()

    @property
    def group(self) -> tuple[str, str, float]:
        return (self.material, self.colour, self.nozzle_mm)


@dataclass(frozen=True)
class Instance:
    printers: tuple[Printer, ...]
    jobs: tuple[Job, ...]
    changeovers: Changeovers
    calendar: Calendar

    def job(self, job_id: str) -> Job:
        for j in self.jobs:
            if j.id == job_id:
                return j
        raise KeyError(job_id)

    def duration(self, job: Job) -> int:
        return job.print_min + self.changeovers.heat_up_min

    def eligible(self, job: Job) -> list[Printer]:
        printers = [p for p in self.printers if p.online and p.fits(job)]
        if job.pinned_printer:
            printers = [p for p in printers if p.id == job.pinned_printer]
        return printers

    def plannable(self) -> list[Job]:
        return [j for j in self.jobs if not j.held and j.fixed_printer is None]


# ---------------------------------------------------------------- a schedule


@dataclass(frozen=True)
class Assignment:
    job_id: str
    printer: str
    changeover_start: int  # staff begin the plate clear (and swaps)
    start: int  # the print starts (heat-up first)
    end: int
    setup_min: int  # changeover minutes beyond the plate clear
    changeovers: tuple[str, ...]
    wait_min: int  # printer idle before the changeover (e.g. a print that ended at night)
    due_min: int
    weight: int
    fixed: bool = False

    @property
    def tardiness_min(self) -> int:
        return max(0, self.end - self.due_min)


@dataclass
class Schedule:
    assignments: list[Assignment]
    method: str
    solve_s: float = 0.0
    status: str = ""
    lower_bound: float | None = None
    lower_bounds: dict = field(default_factory=dict)
    unplaced: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def by_printer(self) -> dict[str, list[Assignment]]:
        out: dict[str, list[Assignment]] = {}
        for a in sorted(self.assignments, key=lambda a: a.start):
            out.setdefault(a.printer, []).append(a)
        return out

    def get(self, job_id: str) -> Assignment | None:
        for a in self.assignments:
            if a.job_id == job_id:
                return a
        return None


def sequence_times(instance: Instance, printer: Printer, jobs: list[Job], starts: list[tuple[int, int]]
                   ) -> list[Assignment]:
    """Assignments for `jobs` in order on `printer`, with (changeover_start, start) given."""
    out = []
    state = (printer.material, printer.colour, printer.nozzle_mm)
    prev_end = printer.available_min
    for job, (cs, s) in zip(jobs, starts):
        setup = instance.changeovers.setup_min(*state, job)
        out.append(Assignment(
            job_id=job.id, printer=printer.id, changeover_start=cs, start=s, end=s + instance.duration(job),
            setup_min=setup, changeovers=tuple(instance.changeovers.kinds(*state, job)),
            wait_min=max(0, cs - max(prev_end, job.release_min)), due_min=job.due_min, weight=job.weight))
        state = job.group
        prev_end = s + instance.duration(job)
    return out


def figures(instance: Instance, schedule: Schedule) -> dict:
    """Objective and its parts for a schedule (minutes): the single way every policy is scored."""
    planned = [a for a in schedule.assignments if not a.fixed]
    weighted = sum(a.weight * a.tardiness_min for a in planned)
    tardiness = sum(a.tardiness_min for a in planned)
    changeover = sum(instance.changeovers.plate_clear_min + a.setup_min for a in planned)
    setup = sum(a.setup_min for a in planned)
    busy = sum(a.end - a.start for a in planned)
    printers = {p.id: p for p in instance.printers}
    span = 0
    for pid, rows in schedule.by_printer().items():
        rows = [a for a in rows if not a.fixed]
        if rows:
            span += max(a.end for a in rows) - printers[pid].available_min
    idle = span - busy - changeover
    objective = TARDINESS_WEIGHT * weighted + changeover + idle
    late = [a for a in planned if a.tardiness_min > 0]
    out = {
        "objective": objective,
        "weighted_tardiness_min": weighted,
        "tardiness_min": tardiness,
        "late_jobs": len(late),
        "changeover_min": changeover,
        "setup_min": setup,
        "idle_min": idle,
        "plate_clear_wait_min": sum(a.wait_min for a in planned),
        "jobs": len(planned),
        "makespan_min": max((a.end for a in schedule.assignments), default=0),
    }
    if schedule.lower_bound is not None:
        lb = float(schedule.lower_bound)
        out["lower_bound"] = lb
        out["gap"] = (objective - lb) / objective if objective > 0 else 0.0
        out["lower_bounds"] = schedule.lower_bounds
    return out


def check(instance: Instance, schedule: Schedule) -> list[str]:
    """Every rule a schedule must keep; an empty list means it keeps them all."""
    problems = []
    cal = instance.calendar
    co = instance.changeovers
    printers = {p.id: p for p in instance.printers}
    jobs = {j.id: j for j in instance.jobs}
    seen = set()
    for a in schedule.assignments:
        if a.job_id in seen:
            problems.append(f"{a.job_id} is planned twice")
        seen.add(a.job_id)
        job = jobs[a.job_id]
        if job.held:
            problems.append(f"{a.job_id} is held but planned")
        if a.fixed:
            continue
        p = printers[a.printer]
        if not p.online:
            problems.append(f"{a.job_id} on offline printer {a.printer}")
        if not p.fits(job):
            problems.append(f"{a.job_id} does not fit {a.printer}")
        if job.pinned_printer and job.pinned_printer != a.printer:
            problems.append(f"{a.job_id} pinned to {job.pinned_printer} but on {a.printer}")
        if a.changeover_start < job.release_min:
            problems.append(f"{a.job_id}: changeover starts before the order is released")
        if a.start - a.changeover_start != co.plate_clear_min + a.setup_min:
            problems.append(f"{a.job_id}: changeover length is wrong")
        if not cal.staffed(a.changeover_start, a.start):
            problems.append(f"{a.job_id}: changeover {a.changeover_start}-{a.start} not inside a staffed shift")
    for job in instance.jobs:
        if not job.held and job.id not in seen and job.id not in schedule.unplaced:
            problems.append(f"{job.id} is missing from the plan")
    for pid, rows in schedule.by_printer().items():
        p = printers[pid]
        state = (p.material, p.colour, p.nozzle_mm)
        prev_end = p.available_min
        for a in rows:
            job = jobs[a.job_id]
            if not a.fixed:
                if a.changeover_start < prev_end:
                    problems.append(f"{a.job_id} on {pid}: changeover before the previous print ends")
                if a.setup_min != co.setup_min(*state, job):
                    problems.append(f"{a.job_id} on {pid}: setup {a.setup_min} != {co.setup_min(*state, job)}")
            state, prev_end = job.group, a.end
    # staff at once, and heat-ups at once per station: check at every interval start
    staff_iv = [(a.changeover_start, a.start) for a in schedule.assignments if not a.fixed and a.start > a.changeover_start]
    for s, _e in staff_iv:
        busy = sum(1 for s2, e2 in staff_iv if s2 <= s < e2)
        if busy > cal.staff_at(s):
            problems.append(f"{busy} changeovers at minute {s}, only {cal.staff_at(s)} staff")
    stations: dict[str, list[tuple[int, int]]] = {}
    for a in schedule.assignments:
        stations.setdefault(printers[a.printer].station, []).append((a.start, a.start + co.heat_up_min))
    for station, ivs in stations.items():
        for s, _e in ivs:
            busy = sum(1 for s2, e2 in ivs if s2 <= s < e2)
            if busy > co.heat_up_cap_per_station:
                problems.append(f"station {station}: {busy} heat-ups at minute {s} (cap {co.heat_up_cap_per_station})")
    return problems


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(second=0, microsecond=0)
