"""/plan in a real browser: staff log in, see every printer's Gantt bars, pin an order and see it move."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.ui.conftest import CHROMIUM, REPO, STAFF_PASSWORD, STAFF_USER, free_port, wait_for_http
from tests.support.waiting import wait_until

pytestmark = pytest.mark.browser
RENDER_TIMEOUT_MS = 60_000
FIRST_PLAN_TIMEOUT_MS = 150_000  # a fresh server (--no-warm) imports HoloViews and OR-Tools for its first /plan


def first_plan_or_explain(page, home) -> None:
    """Wait for the first plan; when it does not come, fail with what the page and the server said."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.locator("#plan-summary").wait_for(timeout=FIRST_PLAN_TIMEOUT_MS)
    except PlaywrightTimeout:
        body = page.locator("body").inner_text()[-2000:]
        log = (home / "serve.log").read_text(errors="replace")[-6000:]
        pytest.fail(f"no plan after {FIRST_PLAN_TIMEOUT_MS / 1000:.0f} s at {page.url}\n--- page\n{body}"
                    f"\n--- serve.log\n{log}")


@pytest.fixture(scope="module")
def plan_server(tmp_path_factory):
    """`somana serve` with a staff login and three confirmed orders in its store."""
    home = tmp_path_factory.mktemp("somana-plan")
    env = dict(os.environ, SOMANA_HOME=str(home))
    subprocess.run([sys.executable, "-m", "somana", "users", "add", STAFF_USER, "--password-stdin"],
                   input=STAFF_PASSWORD, text=True, env=env, check=True, capture_output=True)
    seed = ("from somana_core.orders import OrderStore\n"
            "s = OrderStore()\n"
            "for k, colour in enumerate(['black', 'white', 'red']):\n"
            "    s.place(f'c{k}', 'sensor_enclosure', {'machine': 'prusa_mk3s', 'colour': colour},\n"
            "            {'print_time_s': 3600 * (k + 2), 'lead_time_days': 3})\n")
    subprocess.run([sys.executable, "-c", seed], env=env, check=True, cwd=REPO)
    port = free_port()
    log = open(home / "serve.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "somana", "serve", "--port", str(port), "--no-warm"],
                               env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
    url = f"http://localhost:{port}"
    try:
        wait_for_http(url + "/")
        yield url, home
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a loaded machine: the server stops its station child first
            process.kill()
            process.wait(timeout=30)
        log.close()


def test_staff_see_the_gantt_and_a_pin_moves_the_order(plan_server, artifacts_dir):
    from playwright.sync_api import sync_playwright

    url, home = plan_server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        errors, leaving = [], []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.route("**/*", lambda r: r.continue_() if "localhost" in r.request.url or r.request.url.startswith(
            ("data:", "blob:")) else (leaving.append(r.request.url), r.abort()))
        page.goto(url + "/plan")
        assert "/login" in page.url  # anonymous: our login page first
        page.fill("#username", STAFF_USER)
        page.fill("#password", STAFF_PASSWORD)
        page.click("#login-submit")
        first_plan_or_explain(page, home)
        assert "3</b> plates planned" in page.locator("#plan-summary").inner_html()
        page.locator("canvas").first.wait_for(timeout=RENDER_TIMEOUT_MS)
        page.screenshot(path=str(artifacts_dir / "ui_plan.png"), full_page=True)

        # pin SO-000001 to p6 through the page: the floor file says so and the plan re-solves around it
        page.locator("select").nth(1).select_option("p6")
        page.get_by_role("button", name="Pin to printer").click()
        page.get_by_text("pinned to p6").wait_for(timeout=RENDER_TIMEOUT_MS)
        floor = json.loads((home / "floor_plan.json").read_text())
        assert floor["pins"] == {"SO-000001": "p6"}
        page.get_by_role("button", name="Hold").click()
        wait_until(lambda: "SO-000001" in page.locator("#plan-summary").inner_html(), timeout_s=60)
        # the server's plan is the live one, fed by the floor's bus (somana_core.scheduling.live)
        page.get_by_role("button", name="Re-plan").click()
        page.locator("#plan-live").wait_for(timeout=RENDER_TIMEOUT_MS)
        assert "slip buffer" in page.locator("#plan-live").inner_text()
        page.screenshot(path=str(artifacts_dir / "ui_plan_pinned.png"), full_page=True)
        browser.close()
    assert not leaving, leaving
    assert not errors, errors
