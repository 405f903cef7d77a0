"""The order status page's HTML without a browser (dashboards/order.py): every value escaped, the messages
for a missing, unknown or malformed key, and a damaged store answered in words, not a traceback."""

from __future__ import annotations

import secrets

import pytest

from dashboards.order import NO_KEY, NOT_FOUND, STORE_DOWN, follows_the_order, page_html
from somana_core.orders import OrderStore


@pytest.fixture
def store(somana_home):
    with OrderStore() as s:
        yield s


def test_the_card_escapes_what_a_customer_typed(store):
    key = "po-" + secrets.token_hex(16)
    quote = {"unit_price": 10.0, "total_price": 10.0, "status": "ok", "lead_time_days": 4}
    order = store.place("<script>x</script>", "kit_enclosure", {"text": "<img src=x onerror=alert(1)>"}, quote,
                        qty=1, idempotency_key=key, state="confirmed")
    page = page_html(key, store)
    assert f"data-status-number>{order.number}<" in page
    assert "<img" not in page and "&lt;img src=x" in page  # the engraved text, escaped
    assert "<script" not in page and "x</script>" not in page  # the customer's name is not shown at all
    assert "within 4 working days" in page  # no promised date stored: the lead time from the order's day
    assert follows_the_order(page)  # an open card reads its order again
    store.transition(order.number, "sliced")
    assert page_html(key, store) != page  # a change the customer sees changes the text (the refresh sends it)
    assert page_html(key, store) == page_html(key, store)  # an unchanged order: the same text, nothing sent


def test_missing_unknown_and_malformed_keys_get_the_same_words(store):
    assert NO_KEY in page_html(None, store) and NO_KEY in page_html("", store)
    for key in ("po-" + "0" * 32, "short", "a b c" * 10, "x" * 500):
        assert NOT_FOUND.split(".")[0] in page_html(key, store).replace("&#x27;", "'")
        assert not follows_the_order(page_html(key, store))  # an unknown key is not read again and again


def test_a_damaged_store_is_told_in_words(store, somana_home):
    import sqlite3

    with sqlite3.connect(somana_home / "orders.sqlite") as db:  # a real store that lost its orders table
        db.execute("ALTER TABLE orders RENAME TO orders_lost")
    page = page_html("po-" + "1" * 32, store)
    assert STORE_DOWN.split(".")[0] in page and "Traceback" not in page and "sqlite" not in page.lower()
    assert follows_the_order(page)  # the store may come back: the open page keeps trying
