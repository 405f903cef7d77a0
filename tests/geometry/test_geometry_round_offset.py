"""An ellipse with equal axes (a round eyewear lens of equal width and height) is offset without
crashing: OCC's offset2D of such an ellipse segfaulted the whole process (the issue 13 sweep), so
the check runs in a child process, where a crash is a failed test rather than a dead test run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
from somana_core.geometry import kernel as tk
lens = tk.ellipse_wire(10.0, 0.0, 23.25, 23.25)
rim, sight = tk.offset_wire(lens, 5.5), tk.offset_wire(lens, -1.2)
print(round(tk.face(rim).Area(), 1), round(tk.face(sight).Area(), 1))
"""


def test_round_lens_outline_offsets_in_and_out():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, f"offset crashed (status {done.returncode}): {done.stderr[-500:]}"
    rim, sight = map(float, done.stdout.split())
    pi = 3.141592653589793
    assert abs(rim - pi * (23.25 + 5.5) ** 2) < 0.5 and abs(sight - pi * (23.25 - 1.2) ** 2) < 0.5
