"""A closed browser tab is not an error: keep Panel's unfinished writes to it out of the server log.

Reproduced (issue 14): /machines pushes an update every 250 ms; closing its tab (or the browser)
while one is being written logged "Task exception was never retrieved ... WebSocketClosedError" with
two tracebacks, about 1 close in 6. The cause is in Panel 1.9.4 (panel/io/document.py): each update is
written as several `WebSocketHandler.write_message` futures; when the session is destroyed, Panel
cancels the task awaiting them and drops the list, so a write that already failed on the closed
socket keeps an exception nobody reads, and asyncio prints it when the future is collected.

A second path, also reproduced on /machines: its periodic refresh runs in a worker thread and can
still be drawing when the tab closes and Bokeh destroys the document under it (IndexError in a plot
update, AttributeError "'DocumentCallbackManager' object has no attribute '_change_callbacks'").
`while_open(callback, doc)` wraps such a callback: it does nothing once the page's document is gone,
and an error raised while the document was being destroyed is dropped; any other error is raised.

`quiet_closed_tabs(loop)` installs an exception handler on the server's event loop that turns exactly
that case (an unretrieved WebSocketClosedError or StreamClosedError) into one INFO line; every other
exception still goes to asyncio's default handler, traceback and all.
"""

from __future__ import annotations

import asyncio
import logging

from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketClosedError

log = logging.getLogger("somana.serve")
CLOSED_TAB_ERRORS = (WebSocketClosedError, StreamClosedError)


def handle_loop_exception(loop: asyncio.AbstractEventLoop, context: dict) -> None:
    """asyncio's exception handler, minus the writes to tabs that have closed."""
    if isinstance(context.get("exception"), CLOSED_TAB_ERRORS):
        log.info("a browser tab closed before its last update was written (%s)",
                 type(context["exception"]).__name__)
        return
    loop.default_exception_handler(context)


def quiet_closed_tabs(loop: asyncio.AbstractEventLoop | None = None) -> asyncio.AbstractEventLoop:
    """Install the handler on `loop` (default: the current Tornado IOLoop's asyncio loop, the one
    `panel.io.server.get_server` serves on)."""
    if loop is None:
        from tornado.ioloop import IOLoop

        loop = IOLoop.current().asyncio_loop
    loop.set_exception_handler(handle_loop_exception)
    return loop


def while_open(callback, doc=None):
    """`callback` for a periodic refresh of one page (`doc`, default the current one), run only while
    that page is open: skipped after its tab closed, and an error caused by the page being destroyed
    mid-update is dropped (one INFO line), not logged as a traceback."""
    import functools

    if doc is None:
        import panel as pn

        doc = pn.state.curdoc

    def closed() -> bool:
        return doc is not None and doc.session_context is None  # Document.destroy clears it

    @functools.wraps(callback)
    def guarded(*args, **kwargs):
        if closed():
            return None
        try:
            return callback(*args, **kwargs)
        except Exception as exc:
            if not closed():
                raise
            log.info("a browser tab closed during its refresh (%s dropped)", type(exc).__name__)
            return None

    return guarded
