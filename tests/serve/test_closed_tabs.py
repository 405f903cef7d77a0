"""A browser tab closed mid-update is not an error: the server logs one line, not a WebSocketClosedError
traceback (issue 14; cause and fix in dashboards/closed_tabs.py)."""

from __future__ import annotations

import asyncio
import gc
import logging

from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketClosedError

from dashboards.closed_tabs import quiet_closed_tabs


def _drop_failed_future(loop, exc) -> None:
    """A future that failed and that nobody awaits, as Panel leaves its writes to a closed tab."""
    future = loop.create_future()
    future.set_exception(exc)
    del future
    gc.collect()  # asyncio reports an unretrieved exception when the future is collected


def test_unread_writes_to_a_closed_tab_are_one_line_and_other_errors_keep_their_traceback(caplog):
    loop = asyncio.new_event_loop()
    try:
        quiet_closed_tabs(loop)
        with caplog.at_level(logging.INFO):
            _drop_failed_future(loop, WebSocketClosedError())
            _drop_failed_future(loop, StreamClosedError())
            quiet = [r for r in caplog.records]
            assert [r.getMessage() for r in quiet] == [
                "a browser tab closed before its last update was written (WebSocketClosedError)",
                "a browser tab closed before its last update was written (StreamClosedError)"]
            assert all(r.levelno == logging.INFO and not r.exc_info for r in quiet)
            caplog.clear()
            _drop_failed_future(loop, RuntimeError("a real bug"))
        loud = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert loud and "exception was never retrieved" in loud[0].getMessage() and loud[0].exc_info
    finally:
        loop.close()


def test_a_refresh_running_while_its_page_is_destroyed_is_dropped_and_other_errors_are_raised(caplog):
    from bokeh.document import Document

    from dashboards.closed_tabs import while_open

    doc = Document()
    session = object()
    doc._session_context = lambda: session  # an open page (a served session sets this weak reference)
    calls = []

    def refresh():
        calls.append(1)
        if len(calls) == 2:  # the tab closes while this refresh draws: what Document.destroy does...
            doc._session_context = None
            doc.callbacks.destroy()
            return doc.callbacks.change_callbacks()  # ...and what the refresh then meets (AttributeError)
        if len(calls) == 1:
            return "drawn"
        raise AssertionError("called after the page closed")

    guarded = while_open(refresh, doc)
    assert guarded() == "drawn"
    with caplog.at_level(logging.INFO):
        assert guarded() is None  # destroyed mid-refresh: dropped, one line
        assert guarded() is None and len(calls) == 2  # afterwards: not called at all
    assert "closed during its refresh (AttributeError dropped)" in caplog.text

    other = Document()
    other._session_context = lambda: session

    def broken():
        raise ValueError("a real bug")

    try:
        while_open(broken, other)()
    except ValueError:
        pass
    else:
        raise AssertionError("an error on an open page must be raised")
