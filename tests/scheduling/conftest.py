"""Small hand-checkable farms: a Monday-07:00 origin, explicit shifts and changeover minutes."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest

from somana_core.scheduling.model import Calendar, Changeovers, Instance, Job, Printer, Shift

MONDAY_7AM = datetime(2026, 11, 30, 7, 0, tzinfo=timezone.utc)  # a Monday
CHANGEOVERS = Changeovers(plate_clear_min=5, spool_swap_min=8, colour_purge_min=6, nozzle_swap_min=25,
                          heat_up_min=6, heat_up_cap_per_station=2)
WEEKDAY_SHIFTS = tuple(Shift(d, 7 * 60, 19 * 60, 2) for d in range(5))


def printer(pid="p1", material="PLA", colour="black", nozzle=0.4, station="A", machine="prusa_mk3s",
            build=(250.0, 210.0, 210.0)) -> Printer:
    return Printer(pid, pid.upper(), machine, build, nozzle, material, colour, station)


def job(jid, print_min=60, material="PLA", colour="black", nozzle=0.4, due_min=10_000, **kw) -> Job:
    return Job(id=jid, orders=(f"SO-{jid}",), print_min=print_min, material=material, colour=colour,
               nozzle_mm=nozzle, due_min=due_min, **kw)


def make(printers, jobs, shifts=WEEKDAY_SHIFTS, changeovers=CHANGEOVERS, days=14) -> Instance:
    return Instance(tuple(printers), tuple(jobs), changeovers, Calendar(MONDAY_7AM, shifts, days=days))


@pytest.fixture
def cal():
    return Calendar(MONDAY_7AM, WEEKDAY_SHIFTS, days=14)


__all__ = ["CHANGEOVERS", "MONDAY_7AM", "job", "make", "printer", "replace"]
