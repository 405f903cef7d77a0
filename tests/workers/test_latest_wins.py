"""A session's door to the workers (LatestWins) against a real Dask LocalCluster of two worker
processes: a quote is built part by part on both workers and is the core's own quote, its preview
comes from the same jobs (no second trip), and however fast the changes come, every session ends on
its last change, with results never applied out of order."""

from __future__ import annotations

import asyncio
import importlib.util
import random
from pathlib import Path

import pytest

from somana_core import geometry, quote, workers
from somana_core.preview import PreviewTickets, decode_payload

FAMILY = "sensor_enclosure"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pool():
    """Two worker processes, as `somana serve` starts on this 2-core machine (not warmed: the first
    build of each worker imports CadQuery)."""
    started = workers.start_local(worker_count=2)
    started.wait_for_workers(2)
    yield started
    started.close()


def test_a_session_quote_is_the_core_quote_and_its_preview_needs_no_second_job(pool):
    values = {"pcb_width": geometry.get_family(FAMILY).param["pcb_width"].default + 3}
    session = workers.LatestWins(pool, timeout_s=120)

    async def change():
        quoted = await session.run("quote", family=FAMILY, values=values, qty=2, material="PETG")
        pool.clear_run_log()
        shown = await session.run("preview", follow_up=True, family=FAMILY, values=quoted["values"],
                                  deflection_mm=0.1, revision=9, fit=True)
        return quoted, shown

    quoted, shown = asyncio.run(change())
    spec = geometry.make_spec(FAMILY, values)
    here = quote.quote_product(geometry.build(spec).metrics("PETG"), FAMILY, qty=2, material="PETG",
                               machine=spec.machine)
    assert quoted["quote"] == here and quoted["values"] == spec.values()
    assert pool.run_log() == []  # the preview was made from the quote's own part jobs
    job = pool.submit("preview", family=FAMILY, values=values, revision=9, fit=True).result(timeout=120)
    assert shown == job  # the same payload a preview job gives: same parts, same order, same buffers
    vertices, triangles, _ = decode_payload(shown)
    assert shown["revision"] == 9 and len(triangles) > 1000 and triangles.max() < len(vertices)


def test_a_preview_of_other_values_than_the_last_quote_goes_to_a_worker(pool):
    session = workers.LatestWins(pool, timeout_s=120)
    width = geometry.get_family(FAMILY).param["pcb_width"].default

    async def change():
        await session.run("quote", family=FAMILY, values={"pcb_width": width + 1})
        pool.clear_run_log()
        return await session.run("preview", follow_up=True, family=FAMILY, values={"pcb_width": width + 2},
                                 deflection_mm=0.1)

    shown = asyncio.run(change())
    assert [e["kind"] for e in pool.run_log()] == ["preview"] and shown["triangle_count"] > 1000


def test_a_result_already_back_when_a_newer_change_comes_is_not_returned(pool):
    """The race of a finished job: its result is at the server but its caller has not resumed when the
    next change supersedes it. The older caller must get Superseded, never the older part."""
    import time

    from distributed import Future

    session = workers.LatestWins(pool, timeout_s=120)
    width = geometry.get_family(FAMILY).param["pcb_width"].default

    async def two_changes():
        first = asyncio.ensure_future(session.run("quote", family=FAMILY, values={"pcb_width": width + 5}))
        await asyncio.sleep(0)  # the first request is submitted
        jobs = [Future(key, pool.client) for key in session.last_keys]
        deadline = time.monotonic() + 120
        while not all(job.done() for job in jobs) and time.monotonic() < deadline:
            time.sleep(0.001)  # block this loop: the first caller cannot resume before the next change
        assert all(job.done() for job in jobs)
        second = asyncio.ensure_future(session.run("quote", family=FAMILY, values={"pcb_width": width + 6}))
        outcomes = await asyncio.gather(first, second, return_exceptions=True)
        return outcomes

    first, second = asyncio.run(two_changes())
    assert isinstance(first, workers.Superseded), first
    assert second["values"]["pcb_width"] == width + 6


class Page:
    """What /configure does with a session's changes (dashboards/configure.py `refresh`): a ticket
    per change, the quote, then the preview, each applied only if its ticket is still the newest."""

    def __init__(self, pool, index: int):
        self.session = workers.LatestWins(pool, timeout_s=300)
        self.tickets = PreviewTickets()
        self.index = index
        self.sent: list[tuple[int, dict]] = []
        self.applied_quotes: list[tuple[int, dict]] = []   # (ticket, the values the quote was of)
        self.applied_views: list[tuple[int, int]] = []     # (ticket, the payload's revision)
        self.asked = 0                                     # quote requests made (each supersedes the last)
        self.stale_answers = 0                             # values returned for a request already superseded
        self.tasks: list[asyncio.Task] = []

    def change(self, values: dict) -> None:
        ticket = self.tickets.take()
        self.sent.append((ticket, values))
        self.tasks.append(asyncio.ensure_future(self.refresh(ticket, values)))

    async def refresh(self, ticket: int, values: dict) -> None:
        if not self.tickets.is_current(ticket):
            return
        self.asked += 1
        mine = self.asked
        try:
            quoted = await self.session.run("quote", family=FAMILY, values=values)
            self.stale_answers += self.asked != mine  # LatestWins's promise; the ticket below is the page's own
            if not self.tickets.is_current(ticket):
                return
            self.applied_quotes.append((ticket, quoted["values"]))
            payload = await self.session.run("preview", follow_up=True, worker=quoted["worker"], family=FAMILY,
                                             values=quoted["values"], deflection_mm=0.1, revision=ticket)
            self.stale_answers += self.asked != mine
        except workers.Superseded:
            return
        if self.tickets.accept(ticket):
            self.applied_views.append((ticket, payload["revision"]))


def test_every_session_ends_on_the_quote_and_mesh_of_its_last_change_however_fast_they_come(pool):
    """Six sessions, 25 changes each, 0-60 ms apart and interleaved: the superseded ones are cancelled
    at every stage (queued, building, one part done and the other not, result in flight)."""
    spec = geometry.get_family(FAMILY)
    width, wall = spec.param["pcb_width"], spec.param["wall"]
    rng = random.Random(11)
    pages = [Page(pool, i) for i in range(6)]

    async def burst():
        for _ in range(25):
            page = rng.choice(pages)
            page.change({"pcb_width": round(width.default + rng.randint(-12, 12) * 0.5, 1),
                         "wall": round(wall.default + 0.1 * page.index, 1)})
            await asyncio.sleep(rng.uniform(0.0, 0.06))
        for page in pages:  # and a last change for each, while the others' builds still run
            page.change({"pcb_width": round(width.default + rng.randint(-12, 12) * 0.5, 1),
                         "wall": round(wall.default + 0.1 * page.index, 1)})
            await asyncio.sleep(rng.uniform(0.0, 0.03))
        await asyncio.wait_for(asyncio.gather(*(t for p in pages for t in p.tasks)), 300)

    asyncio.run(burst())
    for page in pages:
        last_ticket, last_values = page.sent[-1]
        expected = geometry.make_spec(FAMILY, last_values).values()
        assert page.applied_quotes[-1] == (last_ticket, expected), f"session {page.index}"
        assert page.applied_views[-1] == (last_ticket, last_ticket), f"session {page.index}"
        assert [t for t, _ in page.applied_quotes] == sorted({t for t, _ in page.applied_quotes})
        assert [t for t, _ in page.applied_views] == sorted({t for t, _ in page.applied_views})
        assert page.stale_answers == 0, f"session {page.index}: a superseded request returned a value"
        assert page.session.stats.requests == page.asked and page.session.stats.failed == 0


def _configure_load():
    spec = importlib.util.spec_from_file_location("configure_load", ROOT / "benchmarks" / "configure_load.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_counts_a_change_back_to_the_part_on_screen_as_arrived():
    """A -> B -> A with B superseded before its mesh: /configure keeps A on screen (its older revision)
    and shows the last quote. That page is on its last change; one whose view is B is not."""
    shown = _configure_load().last_change_shown
    initial, values = 60.0, [62.0, 60.0]           # back to the part the page opened with
    log = {"first_quote": 1, "first_view": 1, "quotes": [[10.0, 2], [20.0, 3]], "views": []}
    assert shown(log, initial, values)
    log_b = dict(log, views=[[15.0, 2]])            # B's mesh reached the page: A must come again
    assert not shown(log_b, initial, values)
    assert shown(dict(log_b, views=[[15.0, 2], [25.0, 3]]), initial, values)
    assert not shown(dict(log, quotes=[[10.0, 2]]), initial, values)  # the last quote is missing
