"""From confirmed orders to plates: one part set per print job and unit, and small part sets of several
orders packed onto one plate when material, colour, nozzle and machine match.

A print job is what the floor prints in one go (`OrderStore.jobs`): an order that fits one build plate
is one job (its number), a multi-plate order one job per plate (NUMBER/K, each with its own G-code, print
time and bed footprint). Each job becomes a part set per unit ordered, named after the job (`SO-000123/2`,
or `SO-000123/2#3` for unit 3 of several), and carries its order's due date: the order is done when the
last of its plates is.

Packing: part sets of one (material, colour, nozzle, machine) group, earliest due first, go into the
first open plate where they fit by shelf packing on the bed (rows left to right, the geometry's own
plate gap between parts), the plate stays under `shared_plate_max_h` hours and every due date on it lies
within `shared_plate_due_window_h` of the earliest (data/changeovers.csv). Only "small" part sets share
(footprint at most a quarter of the bed): large ones keep a plate each. Each plate saved saves one
plate clear and one heat-up; `PackingReport` counts them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from somana_core.scheduling.model import DEFAULT_COLOUR, Calendar, Changeovers, Job

PLATE_GAP_MM = 10.0  # the same gap the geometry lays parts out with (somana_core.geometry.product)
SMALL_SHARE_OF_BED = 0.25


@dataclass(frozen=True)
class PartSet:
    """One unit of one print job (an order, or one plate of a multi-plate order): printed in one go."""

    id: str  # the job's name (SO-000012, SO-000012/2), with #U for unit U of an order of several units
    order: str
    print_min: int
    material: str
    colour: str
    nozzle_mm: float
    due_min: int
    size_mm: tuple[float, float, float] | None
    machine: str | None
    bed_mm: tuple[float, float]  # the bed it was laid out for
    release_min: int = 0
    print_time_source: str = "estimate"


@dataclass
class PackingReport:
    part_sets: int = 0
    plates: int = 0
    shared_plates: int = 0
    plates_saved: int = 0
    minutes_saved: int = 0  # plate clears and heat-ups no longer needed

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _shelf_fits(sizes: list[tuple[float, float]], bed: tuple[float, float]) -> bool:
    """Whether footprints fit on the bed in rows (tallest first), with the plate gap between them."""
    bed_x, bed_y = bed
    x = y = row_depth = 0.0
    for w, d in sorted(sizes, key=lambda s: -s[1]):
        if w > bed_x:
            w, d = d, w
        if x > 0 and x + w > bed_x:
            x, y, row_depth = 0.0, y + row_depth + PLATE_GAP_MM, 0.0
        if w > bed_x or y + d > bed_y:
            return False
        x += w + PLATE_GAP_MM
        row_depth = max(row_depth, d)
    return True


def pack(part_sets: list[PartSet], changeovers: Changeovers) -> tuple[list[Job], PackingReport]:
    jobs, _members, report = pack_members(part_sets, changeovers)
    return jobs, report


def pack_members(part_sets: list[PartSet], changeovers: Changeovers
                 ) -> tuple[list[Job], dict[str, list[PartSet]], PackingReport]:
    """Like `pack`, and which part sets each plate holds (job id -> part sets)."""
    report = PackingReport(part_sets=len(part_sets))
    members: dict[str, list[PartSet]] = {}
    groups: dict[tuple, list[PartSet]] = {}
    jobs: list[Job] = []
    for ps in part_sets:
        small = ps.size_mm is not None and ps.size_mm[0] * ps.size_mm[1] <= SMALL_SHARE_OF_BED * ps.bed_mm[0] * ps.bed_mm[1]
        if small:
            groups.setdefault((ps.material, ps.colour, ps.nozzle_mm, ps.machine, ps.bed_mm), []).append(ps)
        else:
            jobs.append(_job([ps]))
            members[jobs[-1].id] = [ps]
    max_min = changeovers.shared_plate_max_h * 60
    window = changeovers.shared_plate_due_window_h * 60
    for (_m, _c, _n, _machine, bed), group in groups.items():
        plates: list[list[PartSet]] = []
        for ps in sorted(group, key=lambda p: (p.due_min, p.id)):
            for plate in plates:
                if (sum(p.print_min for p in plate) + ps.print_min <= max_min
                        and ps.due_min - min(p.due_min for p in plate) <= window
                        and max(p.size_mm[2] for p in plate) >= 0
                        and _shelf_fits([p.size_mm[:2] for p in plate] + [ps.size_mm[:2]], bed)):
                    plate.append(ps)
                    break
            else:
                plates.append([ps])
        for plate in plates:
            jobs.append(_job(plate))
            members[jobs[-1].id] = plate
            if len(plate) > 1:
                report.shared_plates += 1
    report.plates = len(jobs)
    report.plates_saved = report.part_sets - report.plates
    report.minutes_saved = report.plates_saved * (changeovers.plate_clear_min + changeovers.heat_up_min)
    return jobs, members, report


def _job(plate: list[PartSet]) -> Job:
    first = plate[0]
    ids = [p.id for p in plate]
    size = None
    if all(p.size_mm is not None for p in plate):
        if len(plate) == 1:
            size = first.size_mm
        else:  # a shared plate is laid out on the whole bed of its machine
            size = (first.bed_mm[0], first.bed_mm[1], max(p.size_mm[2] for p in plate))
    return Job(
        id=ids[0] if len(ids) == 1 else f"{ids[0]}+{len(ids) - 1}",
        orders=tuple(dict.fromkeys(p.order for p in plate)),
        print_min=int(sum(p.print_min for p in plate)),
        material=first.material, colour=first.colour, nozzle_mm=first.nozzle_mm,
        due_min=min(p.due_min for p in plate), weight=len({p.order for p in plate}),
        release_min=max(p.release_min for p in plate), size_mm=size, machine=first.machine,
        print_time_source="slicer" if all(p.print_time_source == "slicer" for p in plate) else "estimate",
        parts=tuple(ids),
    )


# ---------------------------------------------------------------- orders from the store


def stl_extent_mm(data: bytes) -> tuple[float, float, float] | None:
    """Bounding-box size of an STL (binary or ASCII), mm; None when it cannot be read."""
    try:
        if data[:5].lower() == b"solid" and b"facet" in data[:1024]:
            values = [line.split()[1:4] for line in data.decode("ascii", "replace").splitlines()
                      if line.strip().startswith("vertex")]
            points = np.array(values, dtype=float)
        else:
            (count,) = struct.unpack_from("<I", data, 80)
            records = np.frombuffer(data, dtype=np.dtype([("n", "<f4", 3), ("v", "<f4", (3, 3)), ("a", "<u2")]),
                                    count=count, offset=84)
            points = records["v"].reshape(-1, 3).astype(float)
        if len(points) == 0:
            return None
        size = points.max(axis=0) - points.min(axis=0)
        return float(size[0]), float(size[1]), float(size[2])
    except (ValueError, struct.error, IndexError):
        return None


def order_due(order, handling_days: float) -> datetime:
    """When the order's print must be done: its promised date (or creation + quoted lead time) less the
    handling days after printing."""
    quote = order.quote or {}
    promised = quote.get("promised_date")
    if promised:
        when = datetime.fromisoformat(str(promised))
        if when.tzinfo is None:
            from datetime import timezone

            when = when.replace(tzinfo=timezone.utc)
    else:
        confirmed = order.state_at("confirmed") or order.created_at
        when = confirmed + timedelta(days=float(quote.get("lead_time_days") or 1))
    return when - timedelta(days=handling_days)


def order_print_s(order) -> tuple[float, str]:
    """One unit's print time (s) of a print job (an order of one plate, or one plate's job record,
    `orders.plate_job`) and where it came from: the slicer's G-code when sliced."""
    for f in reversed(order.files):
        if f.kind == "gcode" and f.meta.get("print_time_s"):
            return float(f.meta["print_time_s"]), "slicer"
    quote = order.quote or {}
    return float(quote.get("print_time_s") or 0.0), str(quote.get("print_time_source") or "estimate")


def print_jobs(order, states=None) -> list:
    """The print jobs of an order (the order itself, or one record per plate: `orders.plate_job`), only
    those in `states` when given."""
    from somana_core.orders import plate_job

    records = [plate_job(order, p.plate) for p in order.plates] or [order]
    return [r for r in records if states is None or r.state in states]


def part_sets_from_order(order, store, calendar: Calendar, handling_days: float, machines: dict,
                         now_min: int = 0, states=None) -> list[PartSet]:
    """The part sets of every print job of `order` (each plate of a multi-plate order on its own; only
    jobs in `states` when given)."""
    return [ps for record in print_jobs(order, states)
            for ps in part_sets_from_job(record, store, calendar, handling_days, machines, now_min)]


def part_sets_from_job(job, store, calendar: Calendar, handling_days: float, machines: dict,
                       now_min: int = 0) -> list[PartSet]:
    """One part set per unit of one print job (an order's or a plate's record): its own print time (the
    plate's G-code when sliced), its own STL's size on the bed, the order's due date."""
    machine = str((job.parameters or {}).get("machine") or (job.quote or {}).get("machine") or "")
    row = machines.get(machine)
    bed = (float(row["build_x_mm"]), float(row["build_y_mm"])) if row else (250.0, 210.0)
    nozzle = float(row["nozzle_mm"]) if row else 0.4
    size = None
    stls = [f for f in job.files if f.kind == "stl"]
    if stls and store is not None:
        size = stl_extent_mm(store.file_bytes(stls[-1].sha256))
    seconds, source = order_print_s(job)
    colour = str((job.parameters or {}).get("colour") or (job.quote or {}).get("colour") or DEFAULT_COLOUR).lower()
    due = calendar.minute(order_due(job, handling_days))
    has_gcode = any(f.kind == "gcode" for f in job.files)
    units = int(job.qty)
    return [PartSet(id=job.number if units == 1 else f"{job.number}#{k + 1}", order=job.order_number,
                    print_min=max(1, round(seconds / 60)), material=job.material, colour=colour, nozzle_mm=nozzle,
                    due_min=due, size_mm=size, machine=machine if has_gcode and row else None, bed_mm=bed,
                    release_min=now_min, print_time_source=source)
            for k in range(units)]


def job_parts(job, name: str) -> bool:
    """Whether plate `job` (a scheduler Job) holds print job `name` (NUMBER or NUMBER/K) of the floor."""
    return any(p == name or p.startswith(name + "#") for p in job.parts)
