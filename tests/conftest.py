"""Project-wide test rules: a skipped test is a failure (a missing dependency must fail loudly)."""

from __future__ import annotations

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
