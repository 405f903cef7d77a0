"""`/portfolio`: the founders' portfolio explorer (margins, break-even, leverage, learning, EOQ,
crossover, push vs make-to-order), the same component the notebook shows."""

from __future__ import annotations

from pathlib import Path

import panel as pn

from dashboards import theme, web_auth
from dashboards.components.portfolio_explorer import PortfolioExplorer


SCHEDULE_RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "schedule.json"


def simulated_weeks() -> pn.viewable.Viewable | None:
    """The factory at the planned volume and above, as benchmarks/schedule.py simulated it (when run)."""
    import json

    import pandas as pd

    from somana_core.scheduling.simulate import week_rows

    if not SCHEDULE_RESULTS.exists():
        return None
    rows = week_rows(json.loads(SCHEDULE_RESULTS.read_text()))
    if not rows:
        return None
    intro = pn.pane.HTML(
        "<h3 style='margin:.4rem 0 0'>The planned volume on the floor: a simulated week</h3>"
        "<p style='margin:.2rem 0'>Six printers, the staffed shifts and changeover minutes from <code>data/</code>; "
        "CP-SAT planning with promised dates against first come, first served (<code>somana simulate</code>, "
        "figures from <code>benchmarks/schedule.py</code>).</p>", sizing_mode="stretch_width")
    table = pn.widgets.Tabulator(pd.DataFrame(rows), show_index=False, disabled=True, sizing_mode="stretch_width",
                                 css_classes=["simulated-weeks"])
    return pn.Column(intro, table, sizing_mode="stretch_width", margin=(10, 20))


def create_app() -> pn.viewable.Viewable:
    pn.extension("tabulator")
    user = web_auth.session_staff_user()
    weeks = simulated_weeks()
    return theme.page(PortfolioExplorer(), *([weeks] if weeks is not None else []), current="/portfolio", user=user)


if pn.state.served:
    create_app().servable(title="Somana · portfolio")
