"""Browser-test fixtures: `somana serve` started by the test, Debian's Chromium through Playwright,
and a page that records console errors and fails any request that tries to leave the machine."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.support.waiting import WaitTimeout, wait_until

CHROMIUM = "/usr/bin/chromium"
REPO = Path(__file__).resolve().parents[2]
LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}
STAFF_USER = "floor"
STAFF_PASSWORD = "test-only-password-7f3a"  # created by the test setup itself; not a default in code


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, timeout_s: float = 240.0, process: subprocess.Popen | None = None) -> None:
    """Until the server answers `url` with a status below 500 (warming the geometry and the
    workers took 95 s on a 2-core machine under load 15). Shorter than pytest-timeout's 300 s so that
    the caller can still show the server's log; stops at once if `process` (the server) has exited."""
    last: list[Exception] = []

    def answers() -> bool:
        if process is not None and process.poll() is not None:
            raise WaitTimeout(f"the server exited with status {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status < 500
        except (OSError, ValueError) as exc:  # URLError, connection refused, reset: still starting
            last[:] = [exc]
            return False

    try:
        wait_until(answers, timeout_s=timeout_s, interval_s=0.3, message=f"{url} to answer")
    except WaitTimeout as exc:
        raise WaitTimeout(f"{exc} (last error: {last[0] if last else None})") from None


@dataclass
class Server:
    url: str
    home: Path
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="session")
def served(tmp_path_factory) -> Server:
    """One `somana serve` for the whole browser-test session, with its own state folder and a staff user."""
    home = tmp_path_factory.mktemp("somana-served")
    env = dict(os.environ, SOMANA_HOME=str(home))
    subprocess.run([sys.executable, "-m", "somana", "users", "add", STAFF_USER, "--password-stdin"],
                   input=STAFF_PASSWORD, text=True, env=env, check=True, capture_output=True)
    log_path = home / "serve.log"
    for attempt in range(3):  # a free port can be taken by another process before serve binds it: try another
        port = free_port()
        log = open(log_path, "w")
        process = subprocess.Popen([sys.executable, "-m", "somana", "serve", "--port", str(port)],
                                   env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
        url = f"http://localhost:{port}"
        try:
            wait_for_http(url + "/", process=process)
            break
        except WaitTimeout:
            process.kill()
            process.wait()
            log.close()
            text = log_path.read_text(errors="replace")
            if "in use" not in text or attempt == 2:
                raise RuntimeError("somana serve did not start:\n" + text) from None
    yield Server(url=url, home=home, process=process, log_path=log_path)
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: run `make test` as root to install Debian's chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--use-gl=angle", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"],
        )
        yield browser
        browser.close()


@dataclass
class Watched:
    """A page plus what it did wrong: console errors and requests that tried to leave the machine."""
    page: object
    console_errors: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)

    def assert_clean(self):
        assert not self.external_requests, f"requests left the machine: {self.external_requests}"
        assert not self.console_errors, f"console errors: {self.console_errors}"


def _watch(page, allow_file: bool = False) -> Watched:
    watched = Watched(page)

    def on_console(message):
        if message.type == "error":
            watched.console_errors.append(message.text)

    def route(route_):
        url = route_.request.url
        parsed = urlparse(url)
        if parsed.scheme in ("data", "blob") or (allow_file and parsed.scheme == "file"):
            return route_.continue_()
        if parsed.scheme in ("http", "https", "ws", "wss") and parsed.hostname in LOCAL_HOSTS:
            return route_.continue_()
        watched.external_requests.append(url)
        return route_.abort()

    page.on("console", on_console)
    page.on("pageerror", lambda exc: watched.console_errors.append(f"pageerror: {exc}"))
    page.route("**/*", route)
    return watched


@pytest.fixture
def watched_page(browser):
    """A fresh browser context and page; external requests are blocked and recorded."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    watched = _watch(page)
    yield watched
    context.close()


@pytest.fixture
def file_page(browser):
    """Like `watched_page`, for static pages opened from file:// (only file and data URLs allowed)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    watched = _watch(page, allow_file=True)
    yield watched
    context.close()
