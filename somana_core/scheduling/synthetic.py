"""Random but reproducible farm instances (benchmarks, property tests): mixed materials, colours,
nozzles and due dates on the floor's own printers repeated to the size asked."""

from __future__ import annotations

import random
from datetime import datetime, timezone

from somana_core.scheduling.model import Calendar, Instance, Job, fleet, load_changeovers

# (material, colour) mix of the plates: mostly the house PLA colours, some PETG, a little ASA.
MIX = (("PLA", "black", 30), ("PLA", "white", 20), ("PLA", "grey", 10), ("PETG", "black", 15),
       ("PETG", "clear", 10), ("PLA", "red", 8), ("ASA", "black", 7))
MONDAY_7AM = datetime(2026, 11, 30, 7, 0, tzinfo=timezone.utc)


def instance(printers: int, jobs: int, seed: int = 0, load_days: float | None = None,
             origin: datetime = MONDAY_7AM, due_spread: float = 1.1) -> Instance:
    """`jobs` plates of 0.5-8 h over `printers` printers, due 1 to `load_days` + 2 days out. Default
    `load_days`: the work over the fleet at 20 printing h/day (the quote's rate) x `due_spread`; 1.1 is
    tight (the staffed shifts give less than 20 h/day), 2 leaves room."""
    rng = random.Random(seed)
    fleet_ = fleet(printers)
    cal = Calendar(origin, days=90)
    weights = [w for _m, _c, w in MIX]
    out = []
    total = 0
    for k in range(jobs):
        material, colour, _ = rng.choices(MIX, weights)[0]
        nozzle = 0.6 if rng.random() < 0.15 else 0.4
        hours = min(8.0, max(0.5, rng.lognormvariate(0.9, 0.6)))
        total += hours
        out.append([k, material, colour, nozzle, int(hours * 60)])
    days = load_days if load_days is not None else total / printers / 20 * due_spread
    jobs_out = []
    for k, material, colour, nozzle, minutes in out:
        due = int((1 + rng.random() * (days + 1)) * 24 * 60)
        small = rng.random() < 0.8
        size = (rng.uniform(40, 160), rng.uniform(40, 160), rng.uniform(10, 60)) if small else (230.0, 200.0, 80.0)
        jobs_out.append(Job(id=f"J{k:04d}", orders=(f"SO-{k:06d}",), print_min=minutes, material=material,
                            colour=colour, nozzle_mm=nozzle, due_min=due, weight=rng.choice((1, 1, 1, 2)),
                            size_mm=size))
    return Instance(fleet_, tuple(jobs_out), load_changeovers(), cal)
