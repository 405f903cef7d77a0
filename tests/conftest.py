"""Project-wide test rules: a skipped test is a failure (a missing dependency must fail loudly)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"

_skipped: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped and not hasattr(report, "wasxfail"):
        _skipped.append(f"{report.nodeid}: {report.longrepr}")


def pytest_sessionfinish(session, exitstatus):
    if _skipped and os.environ.get("SOMANA_ALLOW_SKIPS") != "1":
        print("\nSkipped tests count as failures here (a missing dependency must fail, not skip):")
        for line in _skipped:
            print(f"  {line}")
        session.exitstatus = 1


@pytest.fixture(autouse=True)
def _no_loop_left_by_the_browser(request):
    """The session's Playwright browser (tests/ui/conftest.py, sync API) leaves its asyncio loop marked as
    running in the main thread until the session ends: code that looks for a running loop (the
    configurator's model takes it for a notebook's) would then wait on a loop that never runs. A test
    that does not drive the browser runs without that mark, so the outcome does not depend on the order
    (and `asyncio.run` works there, after tests/ui too)."""
    left = asyncio._get_running_loop()
    if left is None or "browser" in request.fixturenames:
        yield
        return
    asyncio._set_running_loop(None)
    try:
        yield
    finally:
        asyncio._set_running_loop(left)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where tests keep what a person should look at (screenshots, exported parts)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def somana_home(tmp_path, monkeypatch) -> Path:
    """A private factory state folder (orders, users, secrets) for one test."""
    home = tmp_path / "somana-home"
    home.mkdir()
    monkeypatch.setenv("SOMANA_HOME", str(home))
    return home
