"""What a customer may know about their order, found by the link they keep: the order's status in the
customer's words (placed, approved, waiting for a printer, printing, plate k of n done, finished,
failed, cancelled), when it last changed, and the timeline that led there.

The link's key is the capability: the idempotency key the browser made for the press of "Place
order" (`po-` and 32 hex digits: 128 random bits), never the order's sequential number. A key shorter
than STATUS_KEY_MIN_CHARS (a script may place with an 8-character key of its own) opens nothing: it
could be guessed. Unknown, malformed and too-short keys are answered alike (`None`), so a caller
learns nothing about which orders exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from somana_core.errors import InputError
from somana_core.orders import Order, OrderStore, check_idempotency_key

STATUS_KEY_MIN_CHARS = 32  # 128 random bits as hex; the browser's keys are 35 characters

# stage -> the words a customer reads (the stage itself is the stable name tests and pages use)
STAGE_WORDS = {
    "placed": "Placed: waiting for a printer",
    "awaiting_approval": "Placed: we confirm the price within one working day",
    "approved": "Approved: the price is confirmed, waiting for a printer",
    "queued": "Waiting for a printer",
    "printing": "Printing",
    "plates": "Printing",  # a multi-plate order with some plates done: the words add "plate k of n done"
    "finished": "Finished: made and ready to ship",
    "failed": "A print failed: our floor staff print it again or write to you",
    "cancelled": "Cancelled: nothing more will be made",
}
# the store's states (orders.OrderState) as a timeline entry
EVENT_WORDS = {
    "needs_approval": "placed (price to be confirmed)", "confirmed": "placed", "sliced": "prepared for printing",
    "queued": "waiting for a printer", "printing": "printing", "done": "finished", "failed": "a print failed",
    "interrupted": "a print stopped (it will be made again)", "cancelled": "cancelled",
}


@dataclass(frozen=True)
class CustomerStatus:
    stage: str            # a key of STAGE_WORDS
    words: str            # the status as the customer reads it
    since: datetime       # when the status last changed (UTC)
    plates_done: int
    plates_total: int     # 1 for an order printed on one plate
    timeline: tuple[tuple[datetime, str], ...]  # (when, what) oldest first; no staff notes


def find_for_customer(key: str | None, store: OrderStore) -> Order | None:
    """The order behind a kept link's key, or None for a key that is missing, malformed, too short to be
    a link, or unknown (all alike: nothing is said about other orders)."""
    if not isinstance(key, str) or len(key) < STATUS_KEY_MIN_CHARS:
        return None
    try:
        key = check_idempotency_key(key)
    except InputError:
        return None
    return store.find_by_key(key)


def _events(order: Order) -> list[tuple[datetime, str, int | None]]:
    """Every change of the order and of its plates, oldest first: (when, state, plate or None)."""
    events = [(e.at, e.state, None) for e in order.history]
    events += [(e.at, e.state, p.plate) for p in order.plates for e in p.history]
    return sorted(events, key=lambda item: (item[0], item[2] is None))  # a plate before the order it rolls up to


def customer_status(order: Order) -> CustomerStatus:
    """The order's status in the customer's words, from its state, its plates and its history."""
    state = order.state
    total = max(len(order.plates), 1)
    done = sum(p.state == "done" for p in order.plates) if order.plates else int(state == "done")
    states = [e.state for e in order.history]
    if state == "needs_approval":
        stage = "awaiting_approval"
    elif state == "confirmed":
        stage = "approved" if "needs_approval" in states else "placed"
    elif state in ("sliced", "queued"):
        stage = "queued"
    elif state == "printing":
        stage = "printing"
    elif state == "done":
        stage = "finished"
    elif state in ("failed", "interrupted"):
        stage = "failed"
    elif state == "cancelled":
        stage = "cancelled"
    else:  # "quoted": stored but not ordered (not made by the configurator); say what it is
        stage = "placed"
    if 0 < done < total and stage in ("placed", "approved", "queued", "printing"):
        stage = "plates"  # some plates made, the others on their way (whatever state the rest are in)
    words = STAGE_WORDS[stage]
    if stage == "plates":
        printing = [p.plate for p in order.plates if p.state == "printing"]
        words = f"Plate {done} of {total} done" + (f", printing plate {printing[0]}" if printing else
                                                   ", the next one waits for a printer")
    elif stage == "printing" and total > 1:
        words = f"Printing: plate {done} of {total} done"
    events = _events(order)
    timeline: list[tuple[datetime, str]] = []
    awaited_approval = False
    for at, event_state, plate in events:
        if event_state == "quoted":
            continue
        if plate is None:
            # a multi-plate order's own state is derived from its plates and moves back and forth with
            # them (printing, then confirmed while the next plate waits): its plates' milestones say it
            if order.plates and event_state not in ("needs_approval", "confirmed", "done", "cancelled"):
                continue
            if order.plates and event_state == "confirmed" and any(w for _, w in timeline) and not awaited_approval:
                continue
            what = EVENT_WORDS.get(event_state, event_state)
            if event_state == "confirmed" and awaited_approval:
                what = "approved: the price is confirmed"
            awaited_approval = event_state == "needs_approval"
            what = what[0].upper() + what[1:]
        elif event_state in ("printing", "done", "failed"):  # a plate's own milestones, not its queueing
            what = f"Plate {plate} of {total}: {EVENT_WORDS[event_state]}"
        else:
            continue
        if not timeline or timeline[-1][1] != what:  # the same words twice in a row say nothing new
            timeline.append((at, what))
    since = events[-1][0] if events else order.updated_at
    return CustomerStatus(stage=stage, words=words, since=since, plates_done=done, plates_total=total,
                          timeline=tuple(timeline))
