"""`/portfolio`: the founders' portfolio explorer (margins, break-even, leverage, learning, EOQ,
crossover, push vs make-to-order), the same component the notebook shows."""

from __future__ import annotations

import panel as pn

from dashboards import theme
from dashboards.components.portfolio_explorer import PortfolioExplorer


def create_app() -> pn.viewable.Viewable:
    pn.extension("tabulator")
    user = pn.state.user if pn.state.user not in (None, "guest") else None
    return theme.page(PortfolioExplorer(), current="/portfolio", user=user)


if pn.state.served:
    create_app().servable(title="Somana · portfolio")
