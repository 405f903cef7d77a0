"""benchmarks/schedule_anatomy.py: where a plan's idle goes (nights, their prints, the queues), beside the bound."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _module():
    spec = importlib.util.spec_from_file_location("schedule_anatomy", ROOT / "benchmarks" / "schedule_anatomy.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_anatomy_of_a_plan_adds_up(tmp_path, capsys):
    out = tmp_path / "anatomy.json"
    assert _module().main(["--printers", "4", "--plates", "40", "--seeds", "1", "--spreads", "2.0",
                           "--seconds", "1", "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert json.loads(capsys.readouterr().out) == doc
    (run,) = doc["runs"]
    assert run["objective"] == 100 * run["weighted_tardiness_min"] + run["changeover_min"] + run["idle_min"]
    assert run["changeover_min"] == 40 * 5 + run["setup_min"]  # a plate clear each, and the swaps
    assert run["nights"] > 0  # 40 plates of 0.5-8 h on 4 printers: several days
    assert run["night_print_mean_min"] <= run["longest_plates_as_many_mean_min"]
    assert 0 <= run["night_print_started_before_shift_end_mean_min"] <= 12 * 60
    assert 0 <= run["morning_clear_after_shift_start_mean_min"] <= 12 * 60
    ends = [p["end_h"] for p in run["printers_by_end"]]
    assert ends == sorted(ends) and len(ends) <= 4
    assert run["lower_bound"]["objective"] <= run["objective"]
