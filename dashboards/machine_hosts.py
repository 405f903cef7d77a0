"""The floor as the web process sees it: one process-wide bus client (`fleet()`), shared by every
/machines session, and the e-stop fast path. The web process holds no serial port: stations own
the printers (`somana station`), and everything here goes through the MQTT broker ($SOMANA_BROKER,
set by `somana serve`).

The e-stop fast paths, all sent at once by every /machines e-stop button (the printer's station
acts on the first to arrive): (1) MQTT over a WebSocket straight from the browser to the broker
(`estop_websocket()`): it never touches this process, whatever the customers make it do; (2) a POST
to `/machines/estop`, a plain Tornado handler that publishes on the server's event loop without
queueing behind Bokeh's callback threads or the session's document lock. Both carry the press's id,
so the station acts once (a late copy must not halt a printer reconnected meanwhile); there is no
Bokeh callback path, which could arrive seconds late behind other sessions' work.
"""

from __future__ import annotations

import json
import os
import re
import threading
from urllib.parse import urlparse

from tornado.web import RequestHandler

from somana_core.floor import bus as floor_bus
from somana_core.floor.fleet import Fleet

ESTOP_PATH = "/machines/estop"
PRESS_ID = re.compile(r"web-[a-z0-9]{4,32}")  # one e-stop press, as the page names it on every path

_lock = threading.Lock()
_fleet: Fleet | None = None


def estop_websocket() -> dict | None:
    """{"port", "user", "password"} of the broker's e-stop WebSocket listener (`somana serve` with its
    private broker), or None: the browser then sends its e-stop through ESTOP_PATH only. The
    credentials can publish to `somana/estop` and nothing else (the broker's ACL)."""
    try:
        value = json.loads(os.environ.get("SOMANA_ESTOP_WS", ""))
    except ValueError:
        return None
    return value if isinstance(value, dict) and value.get("port") else None


def status_websocket() -> dict | None:
    """{"port", "user", "password"} of the broker's read-only viewer on the same WebSocket listener
    (it may read `somana/+/status` and `somana/+/+/state`, nothing else), or None: the page then
    shows only what this process pushes. The browser subscribes itself, so a printer's state
    reaches /machines without waiting for this process's event loop (dashboards/components/
    printer_status.py)."""
    ws = estop_websocket()
    if not ws or not ws.get("viewer_user"):
        return None
    return {"port": ws["port"], "user": ws["viewer_user"], "password": ws.get("viewer_password", "")}


def fleet() -> Fleet:
    """The process-wide watcher of the floor (connected on first use; reconnects by itself)."""
    global _fleet
    with _lock:
        if _fleet is None:
            _fleet = Fleet(floor_bus.resolve_broker(), client_id=None).start()
        return _fleet


class EstopHandler(RequestHandler):
    """POST {"printer": "STATION/PRINTER" | "*"}: emergency stop, staff only, same-origin only."""

    def check_xsrf_cookie(self) -> None:  # the Origin check below stands in for a token
        return None

    def post(self) -> None:
        from dashboards import web_auth

        origin = self.request.headers.get("Origin")
        if origin is None or urlparse(origin).netloc != self.request.host:
            self.set_status(403)
            self.finish({"error": "cross-origin e-stop refused"})
            return
        if not web_auth.staff_user(self):
            self.set_status(403)
            self.finish({"error": "staff login required"})
            return
        try:
            body = json.loads(self.request.body or b"{}")
            target, press = str(body.get("printer", "")), str(body.get("id", ""))
        except (ValueError, AttributeError):
            target, press = "", ""
        station, _, printer = target.rpartition("/")
        if target != "*" and not (floor_bus.NAME_PATTERN.fullmatch(printer or "")
                                  and (not station or floor_bus.NAME_PATTERN.fullmatch(station))):
            self.set_status(400)
            self.finish({"error": f"printer={target[:60]!r} is not a printer name, STATION/PRINTER or *"})
            return
        command_id = fleet().estop(target, press_id=press if PRESS_ID.fullmatch(press) else None)
        self.set_status(202)
        self.finish({"sent": command_id, "printer": target})


def web_routes() -> list[tuple]:
    """Extra Tornado routes for `somana serve`."""
    return [(ESTOP_PATH, EstopHandler)]
