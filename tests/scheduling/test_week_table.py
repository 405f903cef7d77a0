"""The simulated weeks beside the founders' planned volume on /portfolio (rows from the benchmark's JSON)."""

from __future__ import annotations

import json

from somana_core.scheduling.simulate import week_rows

WEEK = {"orders_per_day": 12.3, "utilisation": 0.2363, "changeover_and_wait_share": 0.0194,
        "on_promise_share": 0.9913, "tardiness_vs_asked_h": 120.5, "tardiness_vs_standard_lead_h": 264.1}


def test_week_rows_one_per_rate_and_policy():
    results = {"weeks": [{"volume_x_founders_plan": 2, "rate_per_day": 15.3, "cp-sat": WEEK,
                          "fifo": {**WEEK, "on_promise_share": 0.8}}]}
    rows = week_rows(results)
    assert [r["policy"] for r in rows] == ["cp-sat", "fifo"]
    assert rows[0]["on promised date"] == "99%" and rows[1]["on promised date"] == "80%"
    assert rows[0]["utilisation"] == "24%" and rows[0]["orders/day"] == 12.3
    assert rows[0]["late vs asked date, h"] == 120.5
    older = week_rows({"weeks": [{"volume_x_founders_plan": 1, "rate_per_day": 7.7,
                                  "cp-sat": {k: v for k, v in WEEK.items() if k != "tardiness_vs_asked_h"}}]})
    assert "late vs asked date, h" not in older[0]  # a run from before the figure existed still shows


def test_portfolio_shows_the_table_only_when_the_benchmark_ran(tmp_path, monkeypatch):
    import dashboards.portfolio as portfolio

    monkeypatch.setattr(portfolio, "SCHEDULE_RESULTS", tmp_path / "missing.json")
    assert portfolio.simulated_weeks() is None
    path = tmp_path / "schedule.json"
    path.write_text(json.dumps({"weeks": [{"volume_x_founders_plan": 1, "rate_per_day": 7.7, "cp-sat": WEEK,
                                           "fifo": WEEK}]}))
    monkeypatch.setattr(portfolio, "SCHEDULE_RESULTS", path)
    view = portfolio.simulated_weeks()
    table = view[1]
    assert len(table.value) == 2 and list(table.value["policy"]) == ["cp-sat", "fifo"]
