"""device_io stands alone: it imports nothing of Somana's (not the core, the views or the command line)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import device_io

PACKAGE = Path(device_io.__file__).parent


def test_importing_every_device_io_module_loads_nothing_else_of_ours():
    modules = sorted(f"device_io.{path.stem}" for path in PACKAGE.glob("*.py") if path.stem != "__init__")
    code = (
        f"import sys; import {', '.join(modules)}; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('somana', 'somana_core', 'dashboards')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"
