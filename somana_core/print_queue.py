"""From a confirmed order to a finished print: slice if the order has no G-code yet, then stream
it to a printer host and record the outcome in the order store.

The host is anything with `start_job(path, name=...)`, `current_state` and `wait_for_job(timeout)`
(`device_io.host.PrinterHost`); this module does not import device_io or any UI, so the machine
control app, the command line and tests all drive the same steps.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable

from somana_core.errors import InputError
from somana_core.orders import Order, OrderStore

PRINTABLE_STATES = ("confirmed", "sliced", "queued", "failed")
MODEL_KINDS = ("3mf", "stl")  # what the slicer takes, preferred first
RUNNING_STATES = ("printing", "paused", "cancelling")
WAIT_SLICE_S = 600.0  # one wait on the host; a long print is waited on in slices of this length


def printable_orders(store: OrderStore) -> list[Order]:
    """Orders a floor worker can send to a printer, oldest first."""
    orders = [o for o in store.list() if o.state in PRINTABLE_STATES]
    return sorted(orders, key=lambda o: o.created_at)


def _latest(order: Order, kind: str):
    files = [f for f in order.files if f.kind == kind]
    return files[-1] if files else None


def gcode_for(store: OrderStore, number: str, workdir: str | Path, slice_fn: Callable | None = None) -> Path:
    """The order's G-code as a file in `workdir`, slicing its model first if it has none
    (the G-code is then stored with the order, which becomes `sliced`)."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    order = store.get(number)
    if _latest(order, "gcode") is not None:
        return store.export_file(number, "gcode", workdir / f"{number}.gcode")
    model = next((_latest(order, kind) for kind in MODEL_KINDS if _latest(order, kind) is not None), None)
    if model is None:
        raise InputError("order", f"order {number} has neither G-code nor an STL/3MF model to slice")
    if slice_fn is None:
        from somana_core.slicing import slice_file as slice_fn
    model_path = store.export_file(number, model.kind, workdir / f"{number}.{model.kind}")
    out = workdir / f"{number}.gcode"
    result = slice_fn(model_path, out, material=order.material)
    quote = dict(order.quote or {}, print_time_s=result.print_time_s)
    store.attach_file(number, out.name, out, meta=result.to_dict(), quote=quote,
                      new_state="sliced" if order.state == "confirmed" else None, note="sliced for printing")
    return out


def start_order(store: OrderStore, host, number: str, workdir: str | Path | None = None,
                slice_fn: Callable | None = None) -> Path:
    """Slice if needed, queue the order and start streaming it; returns the G-code path.
    The order becomes `printing` only once the host has accepted the job."""
    order = store.get(number)
    if order.state not in PRINTABLE_STATES:
        raise InputError("order", f"order {number} is {order.state}: only {', '.join(PRINTABLE_STATES)} orders "
                                  "can be printed")
    workdir = Path(workdir or tempfile.mkdtemp(prefix="somana-print-"))
    path = gcode_for(store, number, workdir, slice_fn)
    order = store.get(number)
    if order.state == "confirmed":  # it had G-code already: no slicing step
        order = store.transition(number, "sliced", note="G-code supplied with the order")
    if order.state in ("sliced", "failed"):
        store.transition(number, "queued")
    host.start_job(path, name=number)
    store.transition(number, "printing", note=f"on {getattr(host, 'name', 'printer')}")
    return path


def finish_order(store: OrderStore, host, number: str) -> Order:
    """Wait for the host's job to end and record it: `done`, or `failed` with the reason and the
    last line the printer acknowledged (a cancelled print can be queued again)."""
    while True:
        try:
            result = host.wait_for_job(timeout=WAIT_SLICE_S)
            break
        except Exception:  # noqa: BLE001 - the host raises on its timeout: a long print, keep waiting
            if host.current_state not in RUNNING_STATES:
                result = dict(getattr(host, "job_result", {}) or {})
                break
    status = result.get("status")
    if status == "done":
        return store.transition(number, "done", note="printed")
    reason = result.get("reason") or status or "the job ended without a result"
    note = f"{status or 'stopped'}: {reason}; last acknowledged line {result.get('last_acked_line', '?')}"
    return store.transition(number, "failed", note=note)


def print_order(store: OrderStore, host, number: str, workdir: str | Path | None = None,
                slice_fn: Callable | None = None) -> Order:
    """`start_order` then `finish_order`: blocks until the print ends (run it in a worker thread)."""
    start_order(store, host, number, workdir, slice_fn)
    return finish_order(store, host, number)
