"""The founders' check (benchmarks/quote_absorption.py) runs and reports the month absorbed at plan."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_benchmark_reports_absorbed_equal_to_total_monthly_cost(tmp_path):
    out = tmp_path / "absorption.json"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "quote_absorption.py"), "--no-geometry",
                           "--repeats", "5", "--out", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    overall = report["typical"]["overall"]
    assert overall["within_1_percent"] and overall["absorbed_over_total"] == pytest.approx(1.0, abs=1e-4)
    # 12,500 USD of fixed costs a month: 2500 rent + 9000 wages + 350 utilities + 400 software + 250 printers
    assert overall["fixed_costs_usd_per_month"] == 12500.0
    assert overall["total_monthly_cost_usd"] == pytest.approx(12500.0 + overall["variable_costs_usd_per_month"])
    # every dollar of wages is charged: by the labour lines at 30 USD/h or by the overhead line
    assert report["wages_in_labour_lines_usd_per_month"] + report["wages_in_overhead_usd_per_month"] == pytest.approx(
        report["wages_usd_per_month"]) == pytest.approx(9000.0)
    family = report["typical"]["families"]["eyewear_frame"]
    assert family["status"] == "issued" and family["unit_price_usd"] == 300.0  # 175 + 0.2 x (800 - 175)
    assert family["operating_margin_at_plan"] == pytest.approx(1 - family["unit_cost_usd"] / 300.0, abs=1e-4)
