"""/plan's first plan: it starts when the page opens, survives a busy server, and a tab closed during it
logs nothing when the solve ends.

`somana serve` runs Panel's onload callbacks on a thread pool. Panel 1.9.4 marks a session loaded only
after that thread has scheduled them all, so an onload coroutine could start first, and its first model
change ("busy" spinner) raised "_pending_writes should be non-None": the error logged when closing a
/plan tab in earlier sessions, and a first plan that never came. dashboards/panel_fixes.onload starts the
coroutine once the session is loaded. Here a second onload callback keeps the pool's thread busy
(BUSY_ONLOAD_S) and the first plan awaits once before its first change, which opened that window every
time; the solve is held until the closed tab's session is
destroyed (the server checks every CHECK_MS), then let go.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading

import panel as pn
import pytest

from dashboards import panel_fixes
from dashboards.closed_tabs import quiet_closed_tabs
from tests.support.waiting import wait_until

pytestmark = pytest.mark.browser
CHECK_MS = 200       # how often the server destroys sessions whose tab closed (Bokeh's default: 17 s)
BUSY_ONLOAD_S = 1.0  # another onload callback of the page, busy on the pool's thread
AWAIT_FIRST_S = 0.2  # the first plan awaits something before its first change, as a real coroutine may


PLAN_SCRIPT = f"from {__name__} import plan_app\nplan_app().servable()\n"  # this module, as pytest named it
started: dict = {}  # what the served script uses: how to start the first plan, and the test's events


def plan_app():
    """The /plan page of this test (served from a script, as `somana serve` serves its apps)."""
    from dashboards.plan import PlanPage
    from somana_core.orders import OrderStore

    events = started["events"]

    def held_solve():  # the first plan's work, held until the test lets it go
        events["solving"].set()
        events["release"].wait(timeout=60)

    page = PlanPage(OrderStore())
    pn.state.on_session_destroyed(lambda context: events["destroyed"].set())

    async def first_plan():
        try:
            await asyncio.sleep(AWAIT_FIRST_S)  # the server's loop turns (Bokeh's lock is released)
            await page._run(held_solve)
        finally:
            events["finished"].set()

    started["start"](first_plan)
    pn.state.onload(lambda: events["solving"].wait(timeout=BUSY_ONLOAD_S))
    return page.view("floor")


def _serve_plan_page(start_first_plan, folder):
    """An in-process server with a thread pool (as `somana serve`) and one /plan page whose first plan
    is started by `start_first_plan(coroutine_function)`; returns the url, the server and the events."""
    events = {name: threading.Event() for name in ("solving", "release", "finished", "destroyed")}
    started.update(start=start_first_plan, events=events)
    script = folder / "plan_app.py"
    script.write_text(PLAN_SCRIPT)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = pn.serve({"plan": str(script)}, port=port, address="127.0.0.1", websocket_origin=[f"127.0.0.1:{port}"],
                      threaded=True, show=False, start=True, check_unused_sessions_milliseconds=CHECK_MS,
                      unused_session_lifetime_milliseconds=CHECK_MS)
    quiet_closed_tabs(server.asyncio_loop)  # as `somana serve`: a write to the closed tab is one info line
    return f"http://127.0.0.1:{port}/plan", server, events


@pytest.fixture
def thread_pool():
    pn.config.nthreads = 2  # as somana serve (--num-threads)
    yield
    pn.config.nthreads = None


def _errors(caplog) -> list[str]:
    return [r.getMessage() + (str(r.exc_info[1]) if r.exc_info else "") for r in caplog.records
            if r.levelno >= logging.ERROR]


def test_a_tab_closed_during_the_first_plan_logs_no_error(browser, somana_home, thread_pool, caplog):
    url, server, events = _serve_plan_page(panel_fixes.onload, somana_home)
    try:
        with caplog.at_level(logging.WARNING):
            tab = browser.new_page()
            tab.goto(url)
            wait_until(events["solving"].is_set, timeout_s=60, message="the first plan to start")
            tab.close()
            wait_until(events["destroyed"].is_set, timeout_s=30, message="the closed tab's session to be destroyed")
            events["release"].set()
            wait_until(events["finished"].is_set, timeout_s=60, message="the first plan to end")
        assert not _errors(caplog)
    finally:
        events["release"].set()
        server.stop()

# Without the fix the error came 5 runs in 5 here, but it is a race: a test asserting that Panel still has the
# bug failed once in a clean-clone CI run (no error that time), so the Panel version check
# (tests/dashboards/test_panel_fixes_version.py) is what tells an upgrade to look again.
