"""Two of the Panel 1.9.4 lost-change bugs that dashboards/panel_fixes.py fixes (1 and 2), each reproduced
with a tiny app served in this process and opened in Chromium.

- /early: a fast view reports itself drawn while a slow view (SLOW_DRAW_MS to draw)
  keeps the page from counting as connected; the server answers by adding a row. Panel dropped the row
  (`_drain_unconnected_events`): without the fix it never appears, every time.
- /burst: bursts of large updates (like /configure's meshes) whose view acknowledges each one. Panel
  left the last message of a burst queued until the next change (`_dispatch_msgs`): without the fix
  some bursts never end on their last value. It is a race with the socket's writes: measured without
  the fix, 3 of 3 runs failed (2-6 of 8 bursts lost) at load 8-13, only 1 of 5 at load 2-3.
"""

from __future__ import annotations

import asyncio
import socket
import time

import panel as pn
import param
import pytest

from dashboards import panel_fixes
from tests.support.waiting import wait_until

pytestmark = pytest.mark.browser
SLOW_DRAW_MS = 1500     # how long the slow view takes to draw: the window before the page counts as connected
BLOB_CHARS = 2_000_000  # one update's size: large enough that its write is still going when the next comes
BURSTS, STEPS = 8, 8    # bursts per page, updates per burst
ACK_TIMEOUT_S = 2.0     # how long a burst's last value may take to be acknowledged by the browser


class Fast(pn.reactive.ReactiveHTML):
    """A view that reports itself drawn at once (ReactiveHTML views draw while the page is built)."""
    drawn = param.Integer(default=0, doc="set by the browser when drawn")
    _template = '<div id="fast">fast</div>'
    _scripts = {"render": "data.drawn = 1"}


class Slow(pn.reactive.ReactiveHTML):
    """A view that takes SLOW_DRAW_MS to draw (busy, as a heavy first render is): the page reports
    itself ready (Panel: "connected") only after every view is drawn, so after the fast one reported."""
    _template = '<div id="slow">slow</div>'
    _scripts = {"render": (f"const end = performance.now() + {SLOW_DRAW_MS}; while (performance.now() < end) {{}}; "
                           "slow.textContent = 'slow view drawn'")}


class Box(pn.custom.JSComponent):
    blob = param.String(default="")
    n = param.Integer(default=-1)
    seen = param.Integer(default=-1, doc="the last n the browser showed")
    _esm = """
export function render({model, el}) {
  const show = () => { el.dataset.n = String(model.n); el.textContent = "n=" + model.n; model.seen = model.n }
  show(); model.on("n", show); model.on("blob", show)
}"""


burst_results: list[list[bool]] = []


def early_app():
    rows = pn.Column(pn.pane.Markdown("row 0"))
    fast = Fast()
    fast.param.watch(lambda event: rows.append(pn.pane.Markdown("row 1", css_classes=["added-row"])), "drawn")
    return pn.Column(fast, Slow(), rows)


def burst_app():
    box = Box()
    delivered: list[bool] = []
    burst_results.append(delivered)

    async def bursts():
        for b in range(BURSTS):
            last = b * STEPS + STEPS - 1
            for n in range(b * STEPS, last + 1):
                box.param.update(blob="x" * BLOB_CHARS + str(n), n=n)
                await asyncio.sleep(0)
            deadline = time.monotonic() + ACK_TIMEOUT_S
            while box.seen != last and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            delivered.append(box.seen == last)

    pn.state.onload(bursts)
    return box


@pytest.fixture(scope="module")
def tiny_server():
    panel_fixes.apply()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = pn.serve({"early": early_app, "burst": burst_app}, port=port, address="127.0.0.1",
                      websocket_origin=[f"127.0.0.1:{port}"], threaded=True, show=False, start=True)
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def without_fix(monkeypatch):
    """Panel's own functions back in place for one test (the server runs in this process)."""
    from panel.io import document

    panel_fixes.apply()
    for name in ("_drain_unconnected_events", "_dispatch_msgs"):
        monkeypatch.setattr(document, name, panel_fixes.ORIGINALS[name])


def _added_row_shows(browser, url) -> bool:
    page = browser.new_page()
    try:
        page.goto(url + "/early")
        page.get_by_text("slow view drawn").wait_for(timeout=30_000)  # the page is connected now
        try:
            page.locator(".added-row").wait_for(timeout=2_000)
            return True
        except Exception:  # noqa: BLE001 - playwright's TimeoutError: the row never came
            return False
    finally:
        page.close()


def test_a_row_added_before_the_page_counts_as_connected_reaches_the_page(tiny_server, browser):
    assert _added_row_shows(browser, tiny_server)


def test_panel_still_drops_that_row_without_the_fix(tiny_server, browser, without_fix):
    """When this fails, Panel no longer drops it: remove fix 1 from dashboards/panel_fixes.py."""
    assert not _added_row_shows(browser, tiny_server)


def _run_bursts(browser, url) -> list[bool]:
    page = browser.new_page()
    try:
        before = len(burst_results)
        page.goto(url + "/burst")
        wait_until(lambda: len(burst_results) > before and len(burst_results[before]) == BURSTS,
                   timeout_s=60, interval_s=0.05, message=f"{BURSTS} bursts to end")
        return burst_results[before]
    finally:
        page.close()


def test_every_burst_of_large_updates_ends_on_its_last_value(tiny_server, browser):
    delivered = _run_bursts(browser, tiny_server)
    assert all(delivered), f"bursts whose last value never reached the page: {delivered.count(False)} of {BURSTS}"

