"""The staff login as an attacker tries it, against a real `somana serve`: sessions that really end,
no open redirect, no cross-site form posts, no cookie inside the page, private state files."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from tests.ui.conftest import STAFF_PASSWORD, STAFF_USER
from tests.ui.http_login import HttpClient

pytestmark = pytest.mark.browser

SECOND_USER = "night"
SECOND_PASSWORD = "late-shift-passphrase-42"


def _somana(served, *args, password: str | None = None):
    env = dict(os.environ, SOMANA_HOME=str(served.home))
    return subprocess.run([sys.executable, "-m", "somana", *args], env=env, text=True, capture_output=True,
                          input=password, timeout=60)


@pytest.fixture
def second_user(served):
    """A throwaway staff login (so ending its sessions does not sign the shared staff user out)."""
    run = _somana(served, "users", "add", SECOND_USER, "--password-stdin", password=SECOND_PASSWORD)
    assert run.returncode == 0, run.stderr
    yield SECOND_USER
    _somana(served, "users", "remove", SECOND_USER)


def _opens_machines(client: HttpClient) -> bool:
    """True if /machines serves its page; False if it sends the client to the login page."""
    page = client.request("GET", "/machines")
    if page.status == 302:
        assert "login" in page.getheader("Location")
        return False
    assert page.status == 200
    return "bokeh" in page.body.lower()


def test_logout_is_a_post_and_ends_the_session(served, second_user):
    client = HttpClient(served.url)
    assert client.login(second_user, SECOND_PASSWORD).status == 302
    assert _opens_machines(client)
    stolen = dict(client.cookies)
    get = client.request("GET", "/logout")
    assert get.status == 200 and 'method="post"' in get.body  # a GET only shows the form
    assert _opens_machines(client)
    assert client.logout().status == 302
    replay = HttpClient(served.url)
    replay.cookies = stolen  # the old cookie, replayed
    page = replay.request("GET", "/machines")
    assert page.status == 302 and "login" in page.getheader("Location")


def test_password_change_and_user_removal_end_open_sessions(served, second_user):
    client = HttpClient(served.url)
    client.login(second_user, SECOND_PASSWORD)
    assert _opens_machines(client)
    assert _somana(served, "users", "add", second_user, "--password-stdin",
                   password="a-new-late-passphrase-7").returncode == 0
    assert not _opens_machines(client)
    client.login(second_user, "a-new-late-passphrase-7")
    assert _opens_machines(client)
    removed = _somana(served, "users", "remove", second_user)
    assert removed.returncode == 0 and "removed" in removed.stdout
    assert not _opens_machines(client)
    again = _somana(served, "users", "remove", second_user)
    assert again.returncode == 2 and again.stderr.count("\n") == 1 and "night" in again.stderr


@pytest.mark.parametrize("target", ["/%5Cevil.example/phish", "/\\evil.example", "//evil.example/x",
                                    "https://evil.example/", "/%2F%2Fevil.example", "javascript:alert(1)"])
def test_login_redirects_only_to_same_site_paths(served, target):
    response = HttpClient(served.url).login(STAFF_USER, STAFF_PASSWORD, next_path=target)
    assert response.status == 302
    assert response.getheader("Location") == "/machines"


def test_login_form_posts_need_the_xsrf_token_and_the_same_origin(served):
    client = HttpClient(served.url)
    token = client.xsrf()
    no_token = client.request("POST", "/login", form={"username": STAFF_USER, "password": STAFF_PASSWORD})
    assert no_token.status == 403 and "user" not in client.cookies
    foreign = client.request("POST", "/login", headers={"Origin": "http://evil.example"},
                             form={"username": STAFF_USER, "password": STAFF_PASSWORD, "_xsrf": token})
    assert foreign.status == 403 and "user" not in client.cookies
    same = client.request("POST", "/login", headers={"Origin": served.url},
                          form={"username": STAFF_USER, "password": STAFF_PASSWORD, "_xsrf": token})
    assert same.status == 302 and "user" in client.cookies


def test_the_staff_cookie_never_enters_the_machines_page(served):
    client = HttpClient(served.url)
    client.login(STAFF_USER, STAFF_PASSWORD)
    page = client.request("GET", "/machines")
    assert page.status == 200
    cookie_value = client.cookies["user"].strip('"')
    assert cookie_value not in page.body
    # the session token is base64 JSON: decode every token-looking string and look inside
    from bokeh.util.token import get_token_payload

    import re

    tokens = re.findall(r'"token":\s*"([^"]+)"', page.body) + re.findall(r"token=([A-Za-z0-9_.-]+)", page.body)
    assert tokens, "the page carries a Bokeh session token"
    for token in tokens:
        payload = str(get_token_payload(token))
        assert cookie_value not in payload and "Cookie" not in payload
        assert STAFF_USER in payload  # the name (not a secret) is what the page gets


def test_failed_logins_are_slowed_more_each_time(served):
    client = HttpClient(served.url)
    import time

    delays = []
    for _ in range(3):
        start = time.monotonic()
        assert client.login("nobody-here", "wrong-password-123").status == 401
        delays.append(time.monotonic() - start)
    assert delays[2] > delays[0] + 0.8  # 0.5 s, 1 s, 2 s (+ scrypt)


def test_state_folder_and_order_store_are_private(served):
    assert stat.S_IMODE(served.home.stat().st_mode) == 0o700
    for name in ("users.json", "server_secrets.json"):
        assert stat.S_IMODE((served.home / name).stat().st_mode) == 0o600


def test_the_running_server_refuses_an_account_locked_in_its_state_store(served, second_user, monkeypatch):
    """The lockout is read from the state store on each attempt, not from the server's memory: failures
    recorded by another process (as a server before a restart would have) lock the account, the right
    password included, and clearing them opens it again."""
    from dashboards.web_auth import LOCKOUT_FAILURES, LOCKOUT_WINDOW_S
    from somana_core import login_failures

    monkeypatch.setenv("SOMANA_HOME", str(served.home))
    key = [f"account:{second_user}"]  # the account only: the address (127.0.0.1) is every test's
    for _ in range(LOCKOUT_FAILURES):
        login_failures.record(key, LOCKOUT_WINDOW_S)
    try:
        locked = HttpClient(served.url).login(second_user, SECOND_PASSWORD)
        assert locked.status == 429 and "locked" in locked.body
    finally:
        login_failures.clear(key)
    assert HttpClient(served.url).login(second_user, SECOND_PASSWORD).status == 302
