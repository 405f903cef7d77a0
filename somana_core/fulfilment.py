"""Fulfilment: placing an order, approving it, printing it and recording how the print ended.

The order store (`somana_core.orders`) keeps orders and refuses illegal state moves; this module
is every step that moves one. /configure, /machines, the command line and tests all call these
functions, so an order goes through the same checks whoever places or prints it:

    place_order -> confirmed (or needs_approval: a price outside the family's band waits for a founder)
    approve_order: needs_approval -> confirmed
    start_order: [slice] -> sliced -> queued -> printing      (printing once the host accepted the job)

An order whose parts need several build plates is printed as one job per plate (NUMBER/K): each
plate is sliced, stored, queued, printed and finished on its own, and the order is `done` only when
every plate is (the store derives the order's state from its plates). `printable_orders` lists
jobs; `start_order`/`finish_order`/`gcode_for` take a job's name.
    finish_order: printing -> done | interrupted (stopped; the note has the last acknowledged line)
                                   | cancelled (by the operator)
    cancel_order: any state that is not final -> cancelled

Every field of a new order is checked here whatever the client sent (a form, a websocket message,
a script): customer name, quantity, material, family parameters and the idempotency key. Limits
come from `data/order_limits.csv`.

A printer host is anything with `start_job(path, name=...)`, `wait_for_job(timeout)`,
`current_state` and `job_result` (`device_io.host.PrinterHost`).
"""

from __future__ import annotations

import re
import tempfile
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from device_io.host import HostError
from somana_core.data import read_table
from somana_core.errors import InputError
from somana_core.orders import (
    MAX_QTY_STORED,
    STATES,
    TRANSITIONS,
    IllegalTransition,
    Order,
    OrderState,
    OrderStore,
    check_idempotency_key,
    shared_store,
)

__all__ = [
    "OrderState", "STATES", "TRANSITIONS", "IllegalTransition", "OrderLimits", "order_limits", "check_customer",
    "check_qty", "check_material", "check_note", "needs_approval", "place_order", "store_order", "find_order",
    "approve_order", "plates_total", "plate_files",
    "cancel_order", "printable_orders", "gcode_for", "start_order", "finish_order", "print_order", "STAGES",
]

STAGES = ("validate", "build", "export", "quote", "slice", "store")
PRINTABLE_STATES = ("confirmed", "sliced", "queued", "failed", "interrupted")
MODEL_KINDS = ("3mf", "stl")  # what the slicer takes, preferred first
ORDER_FILE_KINDS = ("stl", "step", "3mf")  # what place_order may store besides the G-code
RUNNING_HOST_STATES = ("printing", "paused", "cancelling")
WAIT_SLICE_S = 600.0  # one wait on the host; a long print is waited on in slices of this length

# What may not stand in a name: control characters (C0, DEL, C1: terminal escapes start there) and
# the bidirectional overrides that make text display in another order than it is stored.
_UNSAFE_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


# ------------------------------------------------------------------------- limits and checks

@dataclass(frozen=True)
class OrderLimits:
    customer_name_max_chars: int
    max_units_per_order: int
    note_max_chars: int


def order_limits() -> OrderLimits:
    """The bounds in data/order_limits.csv (re-read when the file changes)."""
    table = read_table("order_limits.csv").set_index("name")["value"]
    return OrderLimits(**{name: int(table[name]) for name in OrderLimits.__dataclass_fields__})


def check_customer(customer) -> str:
    """The customer's name, stripped; refused when empty, too long or holding control characters."""
    if not isinstance(customer, str):
        raise InputError("customer", f"customer must be text, not {type(customer).__name__}")
    name = unicodedata.normalize("NFC", customer.strip())
    limit = order_limits().customer_name_max_chars
    if not name:
        raise InputError("customer", "customer is empty: name who the order is for")
    if len(name) > limit:
        raise InputError("customer", f"customer is {len(name)} characters long: at most {limit}")
    bad = _UNSAFE_CHARS.search(name)
    if bad:
        raise InputError("customer", f"customer holds the control character U+{ord(bad.group()):04X}: "
                                     "use letters, digits, spaces and punctuation")
    return name


def check_note(note) -> str | None:
    """An operator's note on a state change: None, or one line of bounded, printable text."""
    if note is None:
        return None
    text = str(note).strip()
    limit = order_limits().note_max_chars
    if len(text) > limit:
        raise InputError("note", f"note is {len(text)} characters long: at most {limit}")
    if _UNSAFE_CHARS.search(text):
        raise InputError("note", "note holds a control character (or a line break): one line of text")
    return text or None


def check_qty(qty) -> int:
    """A whole number of units from 1 to the per-order limit (above it: contact us).

    Takes what a client may send: an int, an integral float, or text of digits (`"12"`)."""
    limit = order_limits().max_units_per_order
    value = None
    if isinstance(qty, bool):
        value = None
    elif isinstance(qty, int):
        value = qty
    elif isinstance(qty, float) and qty.is_integer():
        value = int(qty)
    elif isinstance(qty, str) and re.fullmatch(r"\s*[+-]?\d{1,20}\s*", qty):
        value = int(qty)
    if value is None:
        raise InputError("qty", f"qty={str(qty)[:30]!r} is not a whole number of units (1 to {limit})")
    if value < 1:
        raise InputError("qty", f"qty={value} is below the minimum 1")
    if value > limit:
        raise InputError("qty", f"qty={value} is above {limit} units per order: contact us for larger runs "
                                "and we will plan them with you")
    return min(value, MAX_QTY_STORED)


def check_material(material) -> str:
    """A material id from data/materials.csv."""
    from somana_core.geometry import material_row

    if not isinstance(material, str) or not material.strip():
        raise InputError("material", f"material={str(material)[:30]!r} is not a material id")
    material_row(material.strip())  # raises InputError naming the allowed ones
    return material.strip()


def needs_approval(quote: dict) -> bool:
    """Whether a quote's price waits for a founder (the quote engine sets `status`: a price outside
    the family's band is not issued)."""
    from somana_core.quote import NEEDS_APPROVAL

    return quote.get("status") == NEEDS_APPROVAL


# ------------------------------------------------------------------------- placing an order

def find_order(idempotency_key: str, store: OrderStore | None = None) -> Order | None:
    """The order placed with this key, if the store has it (a page that lost the reply to its
    "Place order" asks again with the key it sent)."""
    return (store or shared_store()).find_by_key(idempotency_key)


def place_order(
    store: OrderStore | None,
    family: str,
    values: dict,
    customer: str,
    qty=1,
    material: str = "PLA",
    slice_it: bool = True,
    timings: dict | None = None,
    work_dir: str | Path | None = None,
    *,
    idempotency_key: str | None = None,
    file_kinds: tuple[str, ...] = ("stl",),
) -> Order:
    """The whole pipeline: validate, build, export, quote, slice, store (stage times into `timings`).

    Every input is checked before anything is built or written (InputError naming the field).
    With `idempotency_key`, a repeat of the same placement (a double click, a retry after a lost
    reply) returns the order already placed, without building anything again. The stored order
    holds the part's files (`file_kinds`: STL, STEP, 3MF), the quote and, with `slice_it`, the
    G-code and the slicer's own print time. It ends `sliced` (or `confirmed` without slicing), or
    `needs_approval` when the price is outside the family's band.
    `store=None`: the process-wide store.
    """
    from somana_core.geometry import build, make_spec
    from somana_core.quote import quote_product, quote_sliced
    from somana_core.slicing import slice_file

    store = store or shared_store()
    t = timings if timings is not None else {}
    clock = time.perf_counter

    start = clock()
    customer = check_customer(customer)
    qty = check_qty(qty)
    material = check_material(material)
    key = check_idempotency_key(idempotency_key)
    unknown = sorted(set(file_kinds) - set(ORDER_FILE_KINDS))
    if unknown or not file_kinds:
        raise InputError("file_kinds", f"file_kinds={list(file_kinds)} must name some of {', '.join(ORDER_FILE_KINDS)}")
    if not isinstance(values, dict):
        raise InputError("values", f"values must be a mapping of parameter names to values, not {type(values).__name__}")
    spec = make_spec(family, values)
    t["validate"] = clock() - start
    if key is not None and store.find_by_key(key) is not None:
        # the same click again: the store returns that order (or refuses a key reused for another)
        return store.place(customer, family, spec.values(), {}, material=material, qty=qty, idempotency_key=key)

    start = clock()
    product = build(spec)
    t["build"] = clock() - start

    with tempfile.TemporaryDirectory(prefix="somana-order-", dir=work_dir) as folder:
        start = clock()
        exported: dict[str, list[Path]] = {}  # kind -> one file per plate, plate 1 first
        for kind in file_kinds:
            exported[kind] = product.export_plates(Path(folder) / f"{family}.{kind}")
        plates = len(next(iter(exported.values())))
        t["export"] = clock() - start

        start = clock()
        quote = quote_product(product, family, qty=qty, material=material, queue=store)
        t["quote"] = clock() - start

        results = []  # one SliceResult per plate
        if slice_it:
            start = clock()
            models = next((exported[k] for k in MODEL_KINDS if k in exported), None)
            if models is None:  # only STEP stored: the slicer still needs a mesh of each plate
                models = product.export_plates(Path(folder) / "plate.stl")
            for k, model in enumerate(models, start=1):
                gcode = Path(folder) / (f"{family}.gcode" if plates == 1 else f"{family}.plate{k}.gcode")
                results.append(slice_file(model, gcode, material=material, machine=spec.values().get("machine")))
            quote = quote_sliced(product, family, plates_total(results), qty=qty, queue=store)
            t["slice"] = clock() - start

        start = clock()
        files = {p.name: p for paths in exported.values() for p in paths}
        file_plates = {p.name: k for paths in exported.values() for k, p in enumerate(paths, start=1)} \
            if plates > 1 else None
        order = store_order(store, family, spec.values(), customer, quote.to_dict(), files=files, qty=qty,
                            material=material, idempotency_key=key, plates=plates, file_plates=file_plates)
        if results and not any(f.kind == "gcode" for f in order.files):
            metas = [{k: v for k, v in r.to_dict().items() if k != "gcode_path"} for r in results]
            sliced = OrderState.SLICED if order.state == OrderState.CONFIRMED else None
            if plates == 1:
                order = store.attach_file(order.number, Path(results[0].gcode_path).name, results[0].gcode_path,
                                          meta=metas[0], new_state=sliced, note="sliced by PrusaSlicer")
            else:
                order = store.attach_plate_files(
                    order.number, [(k, Path(r.gcode_path).name, r.gcode_path, m)
                                   for k, (r, m) in enumerate(zip(results, metas), start=1)],
                    new_state=sliced, note="sliced by PrusaSlicer")
        t["store"] = clock() - start
    t["total"] = sum(t[s] for s in STAGES if s in t)
    return order


def plate_files(family: str, exported: dict[str, list]) -> tuple[dict, dict | None]:
    """Name the exported plates as `somana make` does (FAMILY.KIND, FAMILY.plate2.KIND, ...):
    kind -> one content per plate in, (file name -> content, file name -> plate or None) out."""
    from somana_core.geometry.plates import plate_path

    files, file_plates = {}, {}
    for kind, contents in exported.items():
        for index, content in enumerate(contents):
            name = plate_path(Path(f"{family}.{kind}"), index).name
            files[name], file_plates[name] = content, index + 1
    several = any(len(contents) > 1 for contents in exported.values())
    return files, (file_plates if several else None)


def plates_total(results: list):
    """One SliceResult standing for every plate of one unit: print time and filament summed (the
    quote prices the whole product, whatever the number of plates it takes)."""
    from somana_core.slicing import SliceResult

    if len(results) == 1:
        return results[0]
    return SliceResult(
        gcode_path=results[0].gcode_path,
        print_time_s=sum(r.print_time_s for r in results),
        filament_mm=sum(r.filament_mm for r in results),
        filament_cm3=sum(r.filament_cm3 for r in results),
        filament_g=round(sum(r.filament_g for r in results), 2),
        machine=results[0].machine, material=results[0].material, slicer=results[0].slicer,
        elapsed_s=sum(r.elapsed_s for r in results),
    )


def store_order(
    store: OrderStore | None,
    family: str,
    values: dict,
    customer: str,
    quote: dict,
    files: dict[str, str | Path | bytes] | None = None,
    *,
    qty=1,
    material: str = "PLA",
    idempotency_key: str | None = None,
    plates: int = 1,
    file_plates: dict[str, int] | None = None,
) -> Order:
    """Check every field and store an order whose part and quote the caller has already made
    (the configurator has both on screen); `place_order` ends here too.

    The quote must be for this quantity and material (a quote still showing the previous
    quantity is refused, not stored with the new one). The order is `confirmed`, or
    `needs_approval` when the quote's price waits for a founder. With `idempotency_key`, the same
    placement again returns the order already stored. `store=None`: the process-wide store.
    """
    from somana_core.geometry import make_spec

    store = store or shared_store()
    customer = check_customer(customer)
    qty = check_qty(qty)
    material = check_material(material)
    key = check_idempotency_key(idempotency_key)
    if not isinstance(values, dict):
        raise InputError("values", f"values must be a mapping of parameter names to values, not {type(values).__name__}")
    values = make_spec(family, values).values()
    if not isinstance(quote, dict):
        raise InputError("quote", f"quote must be a quote's dict (Quote.to_dict()), not {type(quote).__name__}")
    for name, wanted in (("qty", qty), ("material", material)):
        if name in quote and quote[name] != wanted:
            raise InputError(name, f"the quote is for {name}={quote[name]!r}, the order for {name}={wanted!r}: "
                                   "place the order once the quote has refreshed")
    state = OrderState.NEEDS_APPROVAL if needs_approval(quote) else OrderState.CONFIRMED
    return store.place(customer, family, values, quote, files=files, material=material, qty=qty,
                       idempotency_key=key, state=state, plates=plates, file_plates=file_plates)


def approve_order(store: OrderStore, number: str, note: str | None = None, unit_price=None) -> Order:
    """A founder accepts an order whose price was outside the band: it becomes confirmed, and its quote is
    issued (at the asked price, or at the founder's `unit_price`) with the approval in its internal notes."""
    from somana_core.quote import NEEDS_APPROVAL, approve

    note = check_note(note) or "price approved"
    quote = store.get(number).quote or {}
    issued = None
    if quote.get("status") == NEEDS_APPROVAL:
        issued = approve(quote, by=note, unit_price=unit_price)
    elif unit_price is not None:
        raise InputError("price", f"--price {unit_price} applies only to a quote waiting for approval "
                                  f"(this one is {quote.get('status', 'issued')!r})")
    return store.transition(number, OrderState.CONFIRMED, note=note, quote=issued)


def cancel_order(store: OrderStore, number: str, note: str | None = None) -> Order:
    """Nobody will make this order (refused, withdrawn, or its print cancelled for good)."""
    return store.transition(number, OrderState.CANCELLED, note=check_note(note))


# ------------------------------------------------------------------------- printing an order

def printable_orders(store: OrderStore) -> list[Order]:
    """Print jobs a floor worker can send to a printer, oldest first: an order that fits one plate
    is one job (its number); each plate of a multi-plate order is one (NUMBER/K, see orders.plate_job)."""
    return store.jobs(PRINTABLE_STATES)


def _latest(order: Order, kind: str):
    files = [f for f in order.files if f.kind == kind]
    return files[-1] if files else None


def gcode_for(store: OrderStore, number: str, workdir: str | Path, slice_fn: Callable | None = None) -> Path:
    """The job's G-code as a file in `workdir`, slicing its model first if it has none (the G-code
    is then stored with the order, which becomes `sliced`). `number` is an order that fits one
    plate, or one plate NUMBER/K of a multi-plate order (the order number alone is refused there:
    each plate is its own job)."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    order = store.get(number)
    number = order.number
    if order.plates:
        raise InputError("order", f"order {number} needs {len(order.plates)} plates: print each as its own job "
                                  f"({', '.join(order.jobs)})")
    stem = number.replace("/", "-plate")  # SO-000123/2 -> SO-000123-plate2.gcode
    if _latest(order, "gcode") is not None:
        return store.export_file(number, "gcode", workdir / f"{stem}.gcode")
    model = next((_latest(order, kind) for kind in MODEL_KINDS if _latest(order, kind) is not None), None)
    if model is None:
        raise InputError("order", f"order {number} has neither G-code nor an STL/3MF model to slice")
    if slice_fn is None:
        from somana_core.slicing import slice_file as slice_fn
    model_path = store.export_file(number, model.kind, workdir / f"{stem}.{model.kind}")
    out = workdir / f"{stem}.gcode"
    machine = (order.parameters or {}).get("machine")
    result = slice_fn(model_path, out, material=order.material, **({"machine": machine} if machine else {}))
    quote = dict(order.quote or {}, print_time_s=result.print_time_s)
    if order.plate is not None:  # the quote is the whole order's: its plates' times summed, once all are sliced
        whole = store.get(order.order_number)
        times = [result.print_time_s if p.plate == order.plate else p.print_time_s for p in whole.plates]
        quote = dict(whole.quote or {})
        if all(t is not None for t in times):
            quote.update(print_time_s=sum(times), print_time_source="slicer")
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
    if order.state in ("sliced", "failed", "interrupted"):
        store.transition(number, "queued")
    host.start_job(path, name=number)
    store.transition(number, "printing", note=f"on {getattr(host, 'name', 'printer')}")
    return path


def _job_result(host) -> dict:
    result = getattr(host, "job_result", None) or {}
    return dict(result.to_dict() if hasattr(result, "to_dict") else result)


def finish_order(store: OrderStore, host, number: str) -> Order:
    """Wait for the host's job to end and record it: `done`; `cancelled` when the operator
    cancelled the print; otherwise `interrupted`, with the reason and the last line the printer
    acknowledged (it can be queued again)."""
    while True:
        try:
            result = host.wait_for_job(timeout=WAIT_SLICE_S)
            break
        except HostError:
            # wait_for_job's timeout: a long print is still running, keep waiting. A host that
            # stopped running without a result (it vanished) has ended the job: read what it kept.
            if host.current_state not in RUNNING_HOST_STATES:
                result = None
                break
    result = dict(result.to_dict() if hasattr(result, "to_dict") else result) if result else _job_result(host)
    status = str(result.get("status") or "")
    if status == "done":
        return store.transition(number, OrderState.DONE, note="printed")
    reason = result.get("reason") or status or "the job ended without a result"
    note = f"{status or 'stopped'}: {reason}; last acknowledged line {result.get('last_acked_line', '?')}"
    if result.get("restart_from_line"):
        note += f", restart from line {result['restart_from_line']}"
    if status == "cancelled":
        return store.transition(number, OrderState.CANCELLED, note=note)
    return store.transition(number, OrderState.INTERRUPTED, note=note)


def print_order(store: OrderStore, host, number: str, workdir: str | Path | None = None,
                slice_fn: Callable | None = None) -> Order:
    """`start_order` then `finish_order`: blocks until the print ends (run it in a worker thread)."""
    start_order(store, host, number, workdir, slice_fn)
    return finish_order(store, host, number)
