"""The date promised to the customer, from the plan (capable-to-promise): the one path every caller
uses (`somana quote`, /configure, the order placed).

The quote's plates are inserted into the current plan after every plate already planned (no promise
already made moves); the plan's end for them, plus a buffer learnt from how far the floor has slipped
from earlier promises (`Planner.promise_buffer_min`), plus the family's handling days, at the end of
that day, is the promise. The plan is the process's live plan when one runs (the web server's, kept
current by the floor's events: `somana_core.scheduling.live`), else one built from the order store.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from somana_core.errors import InputError
from somana_core.scheduling.model import DEFAULT_COLOUR, Job, utc_now


@dataclass(frozen=True)
class PromisedDate:
    """What the plan can keep for one quote."""

    promised_date: str  # ISO date of delivery (the customer's date)
    promised_at: datetime  # the end of that day, UTC
    lead_time_days: int  # whole days from `now` to the promised date (at least 1)
    plan_end: datetime  # the plan's end for the order's last plate
    buffer_min: int  # minutes added for the floor's observed slip
    handling_days: float  # after printing: finishing, packing, shipping
    plates: int
    source: str  # "live plan" (the server's, fed by the floor) or "order store" (built for this call)

    def to_dict(self) -> dict:
        return {"promised_date": self.promised_date, "promised_at": self.promised_at.isoformat(),
                "lead_time_days": self.lead_time_days, "plan_end": self.plan_end.isoformat(),
                "buffer_min": self.buffer_min, "handling_days": self.handling_days, "plates": self.plates,
                "source": self.source}

    def apply(self, quote):
        """The quote with this promise as its date and lead time (`lead_time` says how it was reached;
        the queue rule's days stay there for comparison)."""
        lead = {"formula": "capable-to-promise: the order's plates placed after every planned plate "
                           "(somana_core.scheduling), + the slip buffer, end of that day + handling_days",
                **self.to_dict(), "queue_rule_days": quote.lead_time_days}
        return replace(quote, promised_date=self.promised_date, lead_time_days=self.lead_time_days, lead_time=lead)


COLOUR_PATTERN = re.compile(r"[A-Za-z][A-Za-z -]{0,29}")


def check_colour(text: str | None, field: str = "colour") -> str | None:
    """A spool colour as a person types it (None: the house colour)."""
    if text is None:
        return None
    if not COLOUR_PATTERN.fullmatch(str(text).strip()):
        raise InputError(field, f"{field}={text!r} must be a colour name: 1-30 letters, spaces or '-'")
    return str(text).strip().lower()


def plate_minutes(quote, plates=None) -> list[int]:
    """One unit's print minutes per build plate: `plates` is None (one plate), a count (the quote's time
    shared evenly, as `orders.plate_job` does before the plates are sliced) or each plate's seconds."""
    total_s = float(quote.print_time_s)
    if plates is None:
        seconds = [total_s]
    elif isinstance(plates, int) and not isinstance(plates, bool):
        if not 1 <= plates <= 99:
            raise InputError("plates", f"plates={plates} is not a whole number from 1 to 99")
        seconds = [total_s / plates] * plates
    else:
        seconds = [float(s) for s in plates]
        if not seconds or any(not s >= 0 for s in seconds):
            raise InputError("plates", f"plates={list(plates)!r}: give each plate's print time, s (>= 0)")
    return [max(1, round(s / 60)) for s in seconds]


def plate_seconds(metrics: dict, machine: str) -> list[float]:
    """One unit's print seconds per build plate, before slicing: the product's parts (`metrics`, as
    `Product.metrics` gives them) laid out on `machine`'s bed as `Product.plates` lays them
    (geometry.plates.pack on their footprints, no CAD), each plate's time from the geometry model
    (print_time.estimate, its heat-up counted per plate). One plate: the quote's own estimate."""
    from somana_core.catalogue import machine_envelope
    from somana_core.geometry.plates import pack
    from somana_core.print_time import estimate, layer_height_mm

    parts = metrics["parts"]
    layer = layer_height_mm(machine)
    bed = machine_envelope(machine)
    try:
        groups = [[placed.part for placed in plate] for plate in
                  pack({name: tuple(p["bbox_mm"][:2]) for name, p in parts.items()}, bed["x_mm"], bed["y_mm"])]
    except ValueError:  # a part larger than the bed: validation refuses it before CAD; say one plate
        groups = [list(parts)]
    return [estimate({"parts": {name: parts[name] for name in group}}, layer)["print_time_s"] for group in groups]


def quote_jobs(quote, colour: str | None = None, release_min: int = 0, plates=None) -> list[Job]:
    """The plates of a quote (one part set per plate and unit, packed like an order's), for inserting
    into a plan. `plates`: see `plate_minutes` (a product that needs several build plates is printed as
    one job per plate, as its order will be)."""
    from somana_core.catalogue import machines as machines_table
    from somana_core.scheduling.jobs import PartSet, pack
    from somana_core.scheduling.model import load_changeovers

    table = machines_table().set_index("machine")
    known = quote.machine in table.index
    bed = (float(table.loc[quote.machine, "build_x_mm"]), float(table.loc[quote.machine, "build_y_mm"])) \
        if known else (250.0, 210.0)
    nozzle = float(table.loc[quote.machine, "nozzle_mm"]) if known else 0.4
    minutes = plate_minutes(quote, plates)
    units = int(quote.qty)
    sets = []
    for k, plate_min in enumerate(minutes):
        name = "QUOTE" if len(minutes) == 1 else f"QUOTE/{k + 1}"
        sets += [PartSet(name if units == 1 else f"{name}#{u + 1}", "QUOTE", plate_min, quote.material,
                         (colour or DEFAULT_COLOUR).lower(), nozzle, 0, None, None, bed, release_min)
                 for u in range(units)]
    jobs, _report = pack(sets, load_changeovers())
    return jobs


def promise_for(quote, now: datetime | None = None, store=None, colour: str | None = None, planner=None,
                time_limit_s: float = 1.0, plates=None) -> PromisedDate | None:
    """The date the plan can keep for `quote` (None when no printer can take its plates). `plates`: how
    many build plates one unit needs, or each plate's print seconds (see `plate_minutes`; None: one).

    `planner`: a Planner to insert into (not changed). Default: the process's live plan when one runs
    (`live.current()`), else a plan of `store`'s open orders (an empty floor when `store` is None)
    solved within `time_limit_s`."""
    from somana_core.quote import assumption
    from somana_core.scheduling import live

    now = (now or utc_now()).astimezone(timezone.utc)
    handling = float(assumption("handling_days", quote.family))
    source = "given plan"
    if planner is None:
        current = live.current()
        if current is not None:
            return current.promise_for(quote, now=now, colour=colour, plates=plates)
        from somana_core.scheduling.floor import floor_planner

        planner, _packing = floor_planner(store, now=now, time_limit_s=time_limit_s)
        planner.replan()
        source = "order store"
    return promise_with(planner, quote, now, colour, handling, source, plates=plates)


def promise_with(planner, quote, now: datetime, colour: str | None, handling_days: float,
                 source: str, plates=None) -> PromisedDate | None:
    now_min = planner.calendar.minute(now)
    jobs = quote_jobs(quote, colour, release_min=max(0, now_min), plates=plates)
    end = planner.promise(jobs)
    if end is None:
        return None
    buffer = planner.promise_buffer_min()
    promised = planner.date_for(end, handling_days, buffer)
    days = max(1, math.ceil((promised - now).total_seconds() / 86400 - 1e-9))
    return PromisedDate(promised_date=promised.date().isoformat(), promised_at=promised, lead_time_days=days,
                        plan_end=planner.calendar.at(end), buffer_min=buffer, handling_days=handling_days,
                        plates=len(jobs), source=source)
