"""A customer's view of an order by the key of their kept link (somana_core.order_status): the status in
their words through the order's life (approval, plates, failure, cancellation), and nothing for a key
that is short, malformed or unknown."""

from __future__ import annotations

import secrets

import pytest

from somana_core import fulfilment
from somana_core.order_status import STATUS_KEY_MIN_CHARS, customer_status, find_for_customer
from somana_core.orders import OrderStore

QUOTE = {"unit_price": 24.5, "total_price": 49.0, "print_time_s": 60.0, "status": "ok", "lead_time_days": 5}


@pytest.fixture
def store(somana_home):
    with OrderStore() as s:
        yield s


def _key() -> str:
    return "po-" + secrets.token_hex(16)  # what the browser makes


def _place(store, key, plates=1, state="confirmed"):
    files = {"a.stl": b"solid a\n"} if plates == 1 else {"a.stl": b"solid a\n", "a.plate2.stl": b"solid b\n"}
    return store.place("Ada", "kit_enclosure", {"wall": 2.0}, QUOTE, files=files, qty=2, idempotency_key=key,
                       state=state, plates=plates, **({"file_plates": {"a.stl": 1, "a.plate2.stl": 2}} if plates > 1 else {}))


def test_only_a_long_known_key_finds_its_order(store):
    key = _key()
    order = _place(store, key)
    assert find_for_customer(key, store).number == order.number
    short = "click-0001"  # a valid idempotency key (8+ characters), but guessable: not a link
    _place(store, short)
    assert len(short) < STATUS_KEY_MIN_CHARS and find_for_customer(short, store) is None
    for bad in (None, "", order.number, "po-" + "0" * 32, key + "' OR 1=1 --", "x" * 5000, key.upper()[:-1] + "é"):
        assert find_for_customer(bad, store) is None, bad


def test_a_one_plate_order_reads_placed_waiting_printing_finished_with_when_it_changed(store):
    order = _place(store, _key())
    status = customer_status(order)
    assert (status.stage, status.plates_total, status.plates_done) == ("placed", 1, 0)
    assert status.since == order.created_at
    for state, stage in (("sliced", "queued"), ("queued", "queued"), ("printing", "printing"), ("done", "finished")):
        order = store.transition(order.number, state, note="on local/sim")
        status = customer_status(order)
        assert status.stage == stage and status.since == order.updated_at
    assert status.plates_done == 1 and status.words.startswith("Finished")
    whats = [what for _, what in status.timeline]
    assert whats == ["Placed", "Prepared for printing", "Waiting for a printer", "Printing", "Finished"]
    assert not any("local/sim" in what for what in whats)  # staff notes stay in the store


def test_approval_failure_and_cancellation_are_told(store):
    order = _place(store, _key(), state="needs_approval")
    assert customer_status(order).stage == "awaiting_approval"
    order = fulfilment.approve_order(store, order.number, note="ok")
    status = customer_status(order)
    assert status.stage == "approved" and "Approved: the price is confirmed" in [w for _, w in status.timeline]
    for state in ("sliced", "queued", "printing", "failed"):
        order = store.transition(order.number, state)
    assert customer_status(order).stage == "failed"
    order = store.transition(order.number, "cancelled")
    assert customer_status(order).stage == "cancelled"


def test_a_two_plate_order_says_which_plate_is_done(store):
    order = _place(store, _key(), plates=2)
    for state in ("sliced", "queued", "printing", "done"):
        store.transition(f"{order.number}/1", state)
    order = store.get(order.number)
    status = customer_status(order)
    assert (status.plates_done, status.plates_total) == (1, 2)
    assert status.stage == "plates" and status.words.startswith("Plate 1 of 2 done")
    for state in ("sliced", "queued", "printing"):
        store.transition(f"{order.number}/2", state)
    status = customer_status(store.get(order.number))
    assert status.words == "Plate 1 of 2 done, printing plate 2"
    store.transition(f"{order.number}/2", "done")
    order = store.get(order.number)
    status = customer_status(order)
    assert status.stage == "finished" and status.plates_done == 2
    # the plates' milestones, not the order's derived state going back and forth with them
    assert [w for _, w in status.timeline] == ["Placed", "Plate 1 of 2: printing", "Plate 1 of 2: finished",
                                               "Plate 2 of 2: printing", "Plate 2 of 2: finished", "Finished"]
