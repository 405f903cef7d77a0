"""Fixes for four Panel 1.9.4 bugs that lost changes on their way to the browser, applied when our apps load.

Together they were the "lost change" family of issue 16: /configure's first or last 3D view missing,
/machines rows missing and then "reference pNNNN isn't known", /plan's first plan dying with
"_pending_writes should be non-None", Run All in notebooks/portfolio_explorer.ipynb failing with
"reference <id> isn't known". Each is reproduced by a test that fails without its fix: 1 and 2 in
tests/ui/test_panel_fixes.py (a tiny app served in-process, Chromium), 3 in tests/ui/test_plan_closed_tab.py,
4 by tests/notebooks/test_jupyterlab_offline.py pressing Run All (about 1 run in 3 without it).

1. Changes made between the browser PULLING the document and the session counting as CONNECTED were
   dropped. Panel counts a session connected only when the browser reports `document_ready`, i.e. after
   it has pulled the document AND built every root's view (BokehJS `Document.notify_idle`: tens of ms,
   seconds for a heavy page under load). `hold()` exiting before that (document.py:702-703, and 696 from
   a worker thread) calls `_drain_unconnected_events` (document.py:104-145), which keeps only
   session-callback and custom-message events and DROPS every model change (line 141), on the premise
   (its docstring, from Panel PR #8698) that "the Document is serialized in full once the session
   connects". It is not: it was serialized at the pull, before. Panel layouts (`layout/base.py:310`)
   and JSComponents (`custom.py:646`) update their models inside `hold()`, so a row added or a mesh
   sent in that window never reached the browser, and later patches naming its new models failed.
   Fix: those model changes are written to the session's connections at once, through Panel's own
   ordered write queue (`schedule_write_events`), so they stay ahead of any later change. A browser
   that has not pulled yet ignores them (BokehJS `_steady_state_handler` drops a PATCH-DOC received
   before the document: the pull includes it), one that has pulled applies them.

2. A queued message could wait for the NEXT change. When a socket is busy, Panel queues messages in
   `_WRITE_MSGS` and a task `_dispatch_msgs` writes them (document.py:232-271). That task awaits its
   writes (line 260) and then clears the `_WRITE_BLOCK` flag (262-263). A change queued during that
   await starts a second task; if the first task resumes before the second one runs, the second finds
   no flag (237-238) and returns without writing: the message stays queued until some later change
   queues another. /configure's last mesh (large: writes take a while) was the typical victim.
   Fix: a dispatch that finds messages waiting writes them (sets the flag back) instead of returning.

3. An onload coroutine could start before its session counted as loaded. With a thread pool (`somana
   serve --num-threads`), `State._on_load` (state.py:450-487) runs on a worker thread: it schedules each
   onload coroutine on the server's loop (`async_execute`, server.py:212-258: a next-tick callback WITHOUT
   the document lock) and sets `_loaded[doc]` only after the last callback. A coroutine that ran first and
   changed a model found `state.loaded` False, so `unlocked()` (document.py:539-542) took no hold and the
   change went straight to Bokeh outside its lock: RuntimeError "_pending_writes should be non-None" and
   the rest of the coroutine never ran (/plan's first plan: the page stayed "Planning every open order").
   Not patched in Panel: `onload(coroutine_function)` below starts the coroutine once `pn.state.loaded`.

4. In a notebook, a later change could overtake an earlier one. Panel's `push` (notebook.py:74-93) sends
   a change over the view's comm; while the browser has not opened that comm yet (it does once it has
   drawn the view, and the kernel hears of it between cells) the message, already serialized, is retried
   0.1 s later (lines 82-85), alone. A change made once the comm is open is sent at once, ahead of the
   retries still waiting: if it names a model that a waiting message introduces (serializing marks it
   sent), the browser fails with "reference <id> isn't known". That is what "Run All" in
   notebooks/portfolio_explorer.ipynb hit (cell 4 changes the scenario while cell 2's view is drawn).
   Fix: messages for a comm leave in order: while any waits, later ones queue behind it.

`apply()` is idempotent. It patches only the Panel version it was written against (PANEL_VERSION) and
warns on any other, so an upgrade is noticed (tests/dashboards/test_panel_fixes_version.py fails too; the
"without the fix" tests fail once Panel fixes a bug): check whether the new Panel still has these bugs, then
move PANEL_VERSION or delete the fixes it no longer needs.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from functools import partial

PANEL_VERSION = "1.9.4"
LOADED_WAIT_S = 10.0  # an onload coroutine waits at most this long for its session to count as loaded
log = logging.getLogger("somana.panel_fixes")
_applied = False
_apply_lock = threading.Lock()
ORIGINALS: dict = {}  # Panel's own functions, by name (tests put them back to show each bug)


def _session_connections(doc) -> list:
    session = getattr(getattr(doc, "session_context", None), "session", None)
    return list(getattr(session, "_subscribed_connections", None) or [])


def _write_patches(doc, events) -> None:
    """Write model-change events to every connection of `doc`'s session through Panel's write queue
    (serialized now, so the message carries the models as they are referenced now)."""
    from panel.io import document

    connections = _session_connections(doc)
    if connections and events and getattr(doc, "session_context", None) is not None:
        document.schedule_write_events(doc, connections, events)


def _drain_unconnected_events(doc, lock):
    """Panel 1.9.4's `_drain_unconnected_events`, except that model changes are written, not dropped."""
    from bokeh.document.events import (DocumentPatchedEvent, MessageSentEvent, SessionCallbackAdded,
                                       SessionCallbackRemoved)
    from panel.io import document
    from panel.io.state import state

    with lock:
        events = list(doc.callbacks._held_events or [])
        doc.callbacks._held_events = []
        doc.callbacks._hold = None
        dispatch, deferred, patches = [], [], []
        for event in events:
            if isinstance(event, (SessionCallbackAdded, SessionCallbackRemoved)):
                dispatch.append(event)
            elif not isinstance(event, DocumentPatchedEvent) or isinstance(event, MessageSentEvent):
                deferred.append(event)
            else:
                patches.append(event)
        if deferred:
            document._UNCONNECTED_EVENTS.setdefault(doc, []).extend(deferred)
    if patches:
        if state._current_thread == state._thread_id:  # the test panel.io.document.hold makes
            _write_patches(doc, patches)
        else:  # from a worker thread: serialize and queue on the server's loop, in order
            doc.add_next_tick_callback(partial(_write_patches, doc, patches))
    return dispatch


def _make_dispatch_msgs(original):
    async def _dispatch_msgs(doc):
        """Panel 1.9.4's `_dispatch_msgs`, except that messages left queued behind a dispatch that
        had just finished are written now instead of waiting for the next change."""
        from panel.io import document

        if doc not in document._WRITE_BLOCK and document._WRITE_MSGS.get(doc):
            document._WRITE_BLOCK[doc] = True
        await original(doc)

    _dispatch_msgs.somana_fix = True
    return _dispatch_msgs


_comm_queues: dict = {}  # id(comm) -> messages waiting, in order, for the browser to open that comm
NOTEBOOK_RETRY_S = 0.1  # as Panel's own retry


def _push_in_order(doc, comm, binary: bool = True, msg=None) -> None:
    """Panel 1.9.4's notebook `push`, except that a comm's messages are sent in the order they were made."""
    from panel.io import notebook

    if msg is None:
        msg = notebook.diff(doc, binary=binary)
    if msg is None:
        return
    waiting = _comm_queues.get(id(comm))
    if waiting is None and comm._comm:
        notebook.send(comm, msg)
        return
    if waiting is None:
        waiting = _comm_queues[id(comm)] = []
        _retry_later(comm)
    waiting.append(msg)


def _retry_later(comm) -> None:
    import warnings

    try:
        from tornado.ioloop import IOLoop

        IOLoop.current().call_later(NOTEBOOK_RETRY_S, partial(_send_waiting, comm))
    except Exception:  # noqa: BLE001 - no loop to retry on: what Panel does (warn and drop)
        _comm_queues.pop(id(comm), None)
        warnings.warn("A change could not be sent over a Jupyter comm that is not open yet; it is dropped.",
                      UserWarning, stacklevel=0)


def _send_waiting(comm) -> None:
    from panel.io import notebook

    if not comm._comm:
        _retry_later(comm)
        return
    for msg in _comm_queues.pop(id(comm), []):
        notebook.send(comm, msg)


# the modules that bound Panel's `push` at import (`from .io.notebook import push`)
PUSH_USERS = ("panel.io.notebook", "panel.reactive", "panel.pane.base", "panel.pane.plot", "panel.io.datamodel",
              "panel.widgets.misc")


def apply() -> bool:
    """Install both fixes into panel.io.document (once). False, with a warning, on another Panel."""
    global _applied
    import panel
    from panel.io import document

    with _apply_lock:
        if _applied:
            return True
        if panel.__version__ != PANEL_VERSION:
            log.warning("dashboards.panel_fixes: written for Panel %s, found %s: not applied; check whether "
                        "panel/io/document.py still drops or strands changes (see this module)",
                        PANEL_VERSION, panel.__version__)
            return False
        ORIGINALS.update(_drain_unconnected_events=document._drain_unconnected_events,
                         _dispatch_msgs=document._dispatch_msgs)
        document._drain_unconnected_events = _drain_unconnected_events
        document._dispatch_msgs = _make_dispatch_msgs(document._dispatch_msgs)
        import importlib

        for name in PUSH_USERS:
            module = importlib.import_module(name)
            ORIGINALS.setdefault("push", module.push)
            module.push = _push_in_order
        _applied = True
        return True


def onload(coroutine_function) -> None:
    """`pn.state.onload` for a coroutine function that changes the page: it starts once the session
    counts as loaded (fix 3 above); run at once where there is no served session (a notebook)."""
    import panel as pn

    async def when_loaded():
        deadline = time.monotonic() + LOADED_WAIT_S
        while not pn.state.loaded and time.monotonic() < deadline:
            await asyncio.sleep(0.005)  # Panel's worker thread sets it right after scheduling us
        await coroutine_function()

    pn.state.onload(when_loaded)
