"""`/machines`: machine control for floor staff (login required for the page AND its websocket).

The server's auth provider already refuses anonymous requests under /machines; this app checks
the signed staff cookie itself as well (Panel's authorize callback guards only the HTML request, and
a websocket client could otherwise open a session), and shows no control without it.
"""

from __future__ import annotations

import panel as pn

from dashboards import panel_fixes, theme, web_auth

panel_fixes.apply()  # Panel 1.9.4 dropped rows added while a page opened (dashboards/panel_fixes.py)

REFRESH_MS = 250  # how often a session reads the fleet snapshot (cheap when nothing changed)


def current_staff_user() -> str | None:
    """The signed-in staff login of this session, or None (guests, cookieless websocket clients)."""
    return web_auth.session_staff_user()


def locked_page() -> pn.viewable.Viewable:
    return theme.locked_page("Machine control", "/machines")


def create_app() -> pn.viewable.Viewable:
    user = current_staff_user()
    if user is None:
        return locked_page()
    from dashboards.components.machine_control import MachineControl
    from dashboards.machine_hosts import fleet
    from somana_core.orders import shared_store

    control = MachineControl(fleet(), order_store=shared_store())  # one bus client and one store per process
    if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
        from dashboards.closed_tabs import while_open

        # while_open: a tab closed mid-refresh is not a traceback (the document is destroyed under it).
        # Refreshes start once the session is loaded. Panel 1.9.4 dropped changes made between the browser
        # pulling the document and the session counting as connected (rows of printers arriving on the bus
        # while the page opened never showed, later patches failed: "reference pNNNN isn't known"): fixed
        # in dashboards/panel_fixes.py (fix 1); starting after the load also keeps the page's opening light
        def start_refreshing():
            pn.state.add_periodic_callback(while_open(control.refresh), period=REFRESH_MS)

        pn.state.onload(start_refreshing)
    from dashboards.components.printer_status import PhoneViewport

    return theme.page(control, PhoneViewport(width=0, height=0, margin=0), current="/machines", user=user)


if pn.state.served:
    create_app().servable(title="Somana · machines")
