"""Browser tests for the home page, the portfolio explorer and machine control, against `somana serve`.

Every page must draw with no console error and no request leaving the machine; screenshots go to
the artifacts folder for a person to look at.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import pytest

from tests.ui.conftest import STAFF_PASSWORD, STAFF_USER

pytestmark = pytest.mark.browser

RENDER_TIMEOUT_MS = 30_000


def test_home_page_shows_a_card_per_app_and_stays_offline(served, watched_page, artifacts_dir):
    page = watched_page.page
    page.goto(served.url + "/")
    for route in ("portfolio", "configure", "machines"):
        page.locator(f"#card-{route}").wait_for(timeout=RENDER_TIMEOUT_MS)
    assert page.locator("#card-portfolio").get_attribute("href") == "/portfolio"
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(artifacts_dir / "ui_home.png"), full_page=True)
    watched_page.assert_clean()


def test_anonymous_visit_to_machines_gets_our_login_page(served, watched_page, artifacts_dir):
    page = watched_page.page
    page.goto(served.url + "/machines")
    page.locator("#login-submit").wait_for(timeout=RENDER_TIMEOUT_MS)
    assert page.url.startswith(served.url + "/login")
    assert "Emergency" not in page.content()
    page.screenshot(path=str(artifacts_dir / "ui_login.png"), full_page=True)
    watched_page.assert_clean()


_PULL = textwrap.dedent("""
    import sys
    import panel  # noqa: F401 - registers the models the pages use
    from bokeh.client import pull_session
    try:
        with pull_session(url=sys.argv[1]) as session:
            kinds = sorted({type(m).__name__ for m in session.document.models})
            print("SESSION", ",".join(kinds))
    except Exception as exc:
        print("REFUSED", type(exc).__name__)
""")


def _pull(url: str, env: dict) -> str:
    run = subprocess.run([sys.executable, "-c", _PULL, url], env=env, capture_output=True, text=True, timeout=60)
    return run.stdout.strip().splitlines()[-1]


def test_cookieless_websocket_session_gets_no_machine_control(served):
    plain = dict(os.environ)
    plain.pop("BOKEH_SECRET_KEY", None)
    assert _pull(served.url + "/machines", plain).startswith("REFUSED")
    # Even a client that signs its session id with the server's own key, but has no staff
    # cookie, is refused on /machines while the same client gets a public page.
    secrets_ = json.loads((served.home / "server_secrets.json").read_text())
    signed = dict(plain, BOKEH_SECRET_KEY=secrets_["session_secret"], BOKEH_SIGN_SESSIONS="yes")
    assert _pull(served.url + "/", signed).startswith("SESSION")
    assert _pull(served.url + "/machines", signed).startswith("REFUSED")


def test_portfolio_break_even_follows_the_automation_slider(served, watched_page, artifacts_dir):
    page = watched_page.page
    page.goto(served.url + "/portfolio")
    figure = page.locator("#breakeven-units")
    figure.wait_for(timeout=RENDER_TIMEOUT_MS)
    page.wait_for_load_state("networkidle")
    before = figure.inner_text()
    assert re.fullmatch(r"[\d,]+ units/month", before), before
    page.screenshot(path=str(artifacts_dir / "ui_portfolio.png"), full_page=True)
    handle = page.locator(".automation-slider .noUi-handle")
    handle.focus()
    for _ in range(4):  # each key press moves one step (5 % of fixed costs)
        handle.press("ArrowRight")
    page.wait_for_function(
        "before => { const f = (r) => { for (const e of r.querySelectorAll('*')) {"
        " if (e.id === 'breakeven-units') return e; if (e.shadowRoot) { const x = f(e.shadowRoot); if (x) return x; } }"
        " return null; }; const el = f(document); return el && el.textContent !== before; }",
        arg=before, timeout=RENDER_TIMEOUT_MS)
    after = figure.inner_text()
    assert int(after.split()[0].replace(",", "")) < int(before.split()[0].replace(",", ""))
    page.screenshot(path=str(artifacts_dir / "ui_portfolio_automation.png"), full_page=False)
    for i, tab in enumerate(("Margins", "Learning and batch size", "Crossover and push vs MTO", "Tables")):
        page.get_by_text(tab, exact=True).click()
        page.wait_for_timeout(1500)
        page.screenshot(path=str(artifacts_dir / f"ui_portfolio_tab{i + 2}.png"), full_page=False)
    watched_page.assert_clean()


# /machines (the fleet view) is tested in test_machines.py.


def _post_login(served, user, password):
    from tests.ui.http_login import HttpClient

    return HttpClient(served.url).login(user, password)


def test_login_checks_the_hashed_password_and_sets_a_signed_cookie(served):
    wrong = _post_login(served, STAFF_USER, STAFF_PASSWORD + "x")
    assert wrong.status == 401 and not wrong.getheader("Set-Cookie")
    right = _post_login(served, STAFF_USER, STAFF_PASSWORD)
    assert right.status == 302 and right.getheader("Location") == "/machines"
    cookie = right.getheader("Set-Cookie")
    assert cookie.startswith("user=") and "HttpOnly" in cookie
    from tornado.web import decode_signed_value

    value = cookie.split(";")[0].split("=", 1)[1].strip('"')
    secret = json.loads((served.home / "server_secrets.json").read_text())["cookie_secret"]
    assert decode_signed_value(secret, "user", value).decode().split(":")[0] == STAFF_USER
    assert decode_signed_value("another-secret", "user", value) is None  # signed, not a bare name
    users = (served.home / "users.json").read_text()
    assert STAFF_PASSWORD not in users
