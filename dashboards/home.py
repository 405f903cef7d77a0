"""`/`: the Somana home page, one card per app (our own page, not Panel's built-in index)."""

from __future__ import annotations

import panel as pn

from dashboards import theme, web_auth

CARDS = [
    ("/portfolio", "Portfolio economics",
     "Margins, break-even, operating leverage, learning curves, EOQ, crossover and push vs make-to-order, "
     "for founders exploring scenarios."),
    ("/configure", "Order configurator",
     "Pick a product family, set the customer's dimensions, see the part in 3D with an instant quote, "
     "place the order."),
    ("/machines", "Machine control",
     "Floor staff: connect printers, watch temperatures, run the job queue, pause, cancel, emergency stop. "
     "Login required."),
    ("/plan", "Floor plan", "Floor staff: every printer's schedule, changeovers and late jobs; pin or hold an order "
     "and the plan re-solves. Login required."),
]

CARD_CSS = """
.somana-cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr)); gap: 1.2rem;
                padding: 1.5rem 1.4rem; }
.somana-card { display: block; background: #fff; border-radius: 10px; padding: 1.3rem 1.4rem;
               box-shadow: 0 2px 10px rgba(0,0,0,.07); color: inherit; text-decoration: none;
               border-top: 4px solid var(--somana-accent); }
.somana-card:hover { box-shadow: 0 4px 16px rgba(0,0,0,.14); }
.somana-card h2 { margin: 0 0 .5rem; font-size: 1.2rem; color: var(--somana-accent); }
.somana-card p { margin: 0; color: var(--somana-muted); line-height: 1.45; }
.somana-intro { padding: 1.2rem 1.4rem 0; max-width: 60rem; }
.somana-intro h1 { margin: 0 0 .4rem; font-size: 1.6rem; }
.somana-intro p { margin: 0; color: var(--somana-muted); line-height: 1.5; }
"""


def cards_html() -> str:
    cards = "".join(
        f'<a class="somana-card" id="card-{path.strip("/")}" href="{path}"><h2>{title}</h2><p>{text}</p></a>'
        for path, title, text in CARDS)
    return f'<div class="somana-cards">{cards}</div>'


def create_app() -> pn.viewable.Viewable:
    intro = pn.pane.HTML(
        '<div class="somana-intro"><h1>The batch-of-one factory</h1>'
        "<p>Every product is made for one customer: custom sensor enclosures, STEM kit enclosures and "
        "3D-printed eyewear frames. These apps turn each custom order into seconds of work instead of an "
        "engineer's hours.</p></div>", sizing_mode="stretch_width", margin=0, stylesheets=[CARD_CSS])
    cards = pn.pane.HTML(cards_html(), sizing_mode="stretch_width", margin=0, stylesheets=[CARD_CSS])
    return theme.page(intro, cards, current="/", user=web_auth.session_staff_user())


if pn.state.served:
    create_app().servable(title="Somana")
