"""The layers go one way (README "Layout"): somana.cli > dashboards > somana_core > device_io, and
device_io imports nothing else of ours. The contracts are in pyproject's [tool.importlinter]."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_import_follows_the_layers():
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--config", str(ROOT / "pyproject.toml"), "--no-cache"], cwd=ROOT,
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "3 kept, 0 broken" in done.stdout


def test_a_core_module_importing_a_view_breaks_the_contract(tmp_path):
    """The check is live: the same contracts over a copy with one upward import fail."""
    import shutil

    for package in ("somana", "dashboards", "somana_core", "device_io"):
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__", "static", "templates", "fonts"))
    (tmp_path / "device_io" / "upward.py").write_text("from somana_core import errors\n")
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--config", str(ROOT / "pyproject.toml"), "--no-cache"], cwd=tmp_path,
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(tmp_path)}, timeout=120)
    assert done.returncode == 1
    assert "device_io.upward -> somana_core.errors" in done.stdout
