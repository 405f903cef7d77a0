"""`/portfolio`: the founders' portfolio explorer (margins, break-even, leverage, learning, EOQ,
crossover, push vs make-to-order), the same component the notebook shows."""

from __future__ import annotations

import panel as pn

from dashboards import theme, web_auth
from dashboards.components.portfolio_explorer import PortfolioExplorer


def create_app() -> pn.viewable.Viewable:
    pn.extension("tabulator")
    user = web_auth.session_staff_user()
    return theme.page(PortfolioExplorer(), current="/portfolio", user=user)


if pn.state.served:
    create_app().servable(title="Somana · portfolio")
