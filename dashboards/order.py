"""/order?key=KEY: the customer's read-only status page, the link kept from /configure's confirmation.

Shows the order number, the part and its settings in words, quantity, material, price, promised date
and the current status with when it changed (somana_core.order_status). The key is the capability
(long and random, never the order's number); a missing, malformed or unknown key gets one message
that says nothing about other orders. The page follows the order by itself: every REFRESH_MS it reads
the order again (in Panel's thread pool, not on the server's event loop) and redraws the card only when
something a customer sees changed. The refresh starts once the session is loaded
(`panel_fixes.onload`: Panel 1.9.4 dropped changes made earlier) and stops with the tab.
"""

from __future__ import annotations

import html
from datetime import date, datetime, timezone

import panel as pn

from dashboards import panel_fixes, theme, web_auth
from somana_core import labels
from somana_core.errors import InputError

panel_fixes.apply()  # the page changes after it loaded (its refresh): Panel 1.9.4 could strand such a change

KEY_QUERY = "key"  # /order?key=KEY
ROUTE = "/order"
REFRESH_MS = 5_000  # how often an open status page reads its order again (the floor moves in minutes)

CSS = """
.somana-status-page { max-width: 40rem; margin: 1.2rem auto; padding: 0 1rem; box-sizing: border-box; }
.somana-status-card { background: #fff; border-radius: 10px; padding: 1rem 1.2rem; border-top: 4px solid #0f6e6e;
                      box-shadow: 0 2px 10px rgba(0,0,0,.07); }
.somana-status-card h1 { font-size: 1.35rem; margin: 0 0 .2rem 0; overflow-wrap: anywhere; }
.somana-status-now { font-size: 1.1rem; font-weight: 600; margin: .6rem 0 .1rem 0; color: #0f6e6e; }
.somana-status-now.stage-failed, .somana-status-now.stage-cancelled { color: #b3261e; }
.somana-status-since { color: #5d6b73; font-size: .9rem; margin: 0 0 .8rem 0; }
.somana-status-card dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: .3rem .9rem;
                         margin: 0 0 .8rem 0; font-size: .95rem; }
.somana-status-card dt { color: #5d6b73; }
.somana-status-card dd { margin: 0; overflow-wrap: anywhere; }
.somana-status-card ol { margin: .2rem 0 .6rem 1.2rem; padding: 0; font-size: .9rem; }
.somana-status-card li span { color: #5d6b73; }
.somana-status-card h2 { font-size: 1rem; margin: .8rem 0 .2rem 0; }
.somana-status-card details { font-size: .9rem; margin: 0 0 .6rem 0; }
.somana-status-card p { line-height: 1.45; }
.somana-status-note { color: #5d6b73; font-size: .85rem; }
@media (max-width: 480px) { .somana-status-card dl { grid-template-columns: minmax(0, 1fr); gap: 0; }
                            .somana-status-card dd { margin-bottom: .45rem; } }
"""

NOT_FOUND = ("This order link is not complete or not known. Open the link from your order confirmation "
             "exactly as it was given (all of it); if it still does not open, write to us with your order "
             "number.")
NO_KEY = "Open this page with the link from your order confirmation: it names your order."
STORE_DOWN = "We cannot look up orders right now. Please try again in a few minutes."


def _when(moment: datetime) -> str:
    """A moment as a customer reads it, in UTC (the server does not know the customer's time zone)."""
    moment = moment.astimezone(timezone.utc)
    return f"{moment:%a} {moment.day} {moment:%b %Y}, {moment:%H:%M} UTC"


def _day(iso: str) -> str:
    day = date.fromisoformat(str(iso)[:10])
    return f"{day:%a} {day.day} {day:%b %Y}"


def _money(value: float) -> str:
    return f"{value:,.2f}"


def _settings(order) -> tuple[str, list[str]]:
    """(the part's title with the settings that differ from the standard design, every setting in words),
    in the family's own labels and catalogue names."""
    from somana_core import geometry

    try:
        family = geometry.get_family(order.family)
    except InputError:
        return labels.tidy(order.family), []
    title = family.title or labels.tidy(order.family)
    try:
        spec = geometry.make_spec(order.family, {})
    except InputError:
        return title, []
    defaults, phrases, changed = spec.values(), [], []
    for name in family.parameter_names():
        if name in order.parameters and name != "board_file" and order.parameters[name] not in (None, ""):
            try:
                phrase = labels.setting_phrase(spec, name, order.parameters[name])
            except (KeyError, ValueError, TypeError):
                continue
            phrases.append(phrase)
            if order.parameters[name] != defaults.get(name):
                changed.append(phrase)
    return title + (f" ({', '.join(changed)})" if changed else ", the standard design"), phrases


def status_html(order) -> str:
    """The page's card for one order (every value escaped: names and texts are the customer's own)."""
    from somana_core.order_status import customer_status
    from somana_core.quote import customer_view

    status = customer_status(order)
    view = customer_view(order.quote or {})
    title, phrases = _settings(order)
    esc = html.escape
    if view.get("unit_price") is None:
        price = esc(view.get("message") or "to be confirmed")
    else:
        price = (f"<span data-status-total>{_money(view['total_price'])}</span> USD "
                 f"({_money(view['unit_price'])} USD each)")
    promised = (order.quote or {}).get("promised_date")
    when = (f"<span data-status-promised='{esc(str(promised))}'>{_day(promised)}</span>" if promised else
            f"<span data-status-promised=''>within {esc(str(view.get('lead_time_days')))} working days of "
            f"{_day(order.created_at.date().isoformat())}</span>")
    settings = "".join(f"<li>{esc(p)}</li>" for p in phrases)
    timeline = "".join(f"<li><span>{_when(at)}</span>: {esc(what)}</li>" for at, what in status.timeline)
    number = esc(order.number)
    return (
        f"<div class='somana-status-card' data-status-order='{number}'>"
        f"<h1>Order <span data-status-number>{number}</span></h1>"
        f"<p class='somana-status-now stage-{status.stage}' data-status-stage='{status.stage}'>{esc(status.words)}</p>"
        f"<p class='somana-status-since'>since <span data-status-since='{status.since.isoformat()}'>"
        f"{_when(status.since)}</span></p>"
        "<dl>"
        f"<dt>Part</dt><dd data-status-part>{esc(title)}</dd>"
        f"<dt>Quantity</dt><dd data-status-qty>{order.qty}</dd>"
        f"<dt>Material</dt><dd data-status-material>{esc(labels.id_name('material', order.material))}</dd>"
        f"<dt>Price</dt><dd data-status-price>{price}</dd>"
        f"<dt>Promised</dt><dd>{when}</dd>"
        + (f"<dt>Plates</dt><dd data-status-plates>{status.plates_done} of {status.plates_total} printed</dd>"
           if status.plates_total > 1 else "")
        + "</dl>"
        + (f"<details><summary>All {len(phrases)} settings</summary><ul data-status-settings>{settings}</ul></details>"
           if settings else "")
        + f"<h2>What happened</h2><ol data-status-timeline>{timeline}</ol>"
        f"<p class='somana-status-note'>This page follows your order by itself (it looks again every "
        f"{REFRESH_MS // 1000} seconds while it is open). Quote the number {number} when you write to us "
        f"about it.</p></div>")


def message_html(text: str, kind: str) -> str:
    return (f"<div class='somana-status-card' data-status-problem='{kind}'><h1>Your order</h1>"
            f"<p>{html.escape(text)}</p><p><a href='/configure'>Configure a part</a></p></div>")


def page_html(key: str | None, store=None) -> str:
    """The page for a kept link's key: the order's card, or one message (never a traceback)."""
    from somana_core.order_status import find_for_customer

    if not key:
        return message_html(NO_KEY, "no-key")
    try:
        if store is None:
            from somana_core.orders import shared_store

            store = shared_store()
        order = find_for_customer(key, store)
        if order is None:
            return message_html(NOT_FOUND, "not-found")
        return status_html(order)
    except Exception as exc:  # noqa: BLE001 - the store is down or a stored record is damaged: say so, log it
        import logging

        logging.getLogger("somana.order").warning("order status page: %s: %s", type(exc).__name__, exc)
        return message_html(STORE_DOWN, "unavailable")


def _page(key: str | None) -> str:
    return f"<div class='somana-status-page'>{page_html(key)}</div>"


def follows_the_order(html_text: str) -> bool:
    """Whether a drawn page is worth reading again: an order's card, or the store was down (it may come
    back). A missing or unknown key stays what it is."""
    return "data-status-order=" in html_text or "data-status-problem='unavailable'" in html_text


def create_app():
    pn.extension(notifications=False)
    key = None
    served = pn.state.curdoc is not None and pn.state.curdoc.session_context
    if served:
        from panel.io.resources import parse_template

        pn.state.curdoc.template = parse_template(theme.PHONE_READY_TEMPLATE)
        raw = (pn.state.session_args or {}).get(KEY_QUERY)
        key = raw[0].decode("utf-8", "replace") if raw else None
    card = pn.pane.HTML(_page(key), stylesheets=[CSS], sizing_mode="stretch_width", margin=0,
                        css_classes=["order-status"])
    if served and follows_the_order(card.object):
        from dashboards.closed_tabs import while_open

        def refresh():  # a worker thread of Panel's pool (somana serve --num-threads): the store read stays off the loop
            latest = _page(key)
            if latest != card.object:  # the same order unchanged renders the same text: nothing is sent
                card.object = latest

        async def start_following():
            pn.state.add_periodic_callback(while_open(refresh), period=REFRESH_MS)

        panel_fixes.onload(start_following)  # not pn.state.onload: dashboards/panel_fixes.py, fix 3
    return theme.page(card, user=web_auth.session_staff_user())  # staff links only for signed-in staff


if pn.state.served:
    create_app().servable(title="Somana · your order")
