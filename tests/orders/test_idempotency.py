"""One click, one order: an idempotency key stored with the order; the store is one per process."""

from __future__ import annotations

import re
import sqlite3
from concurrent.futures import ThreadPoolExecutor

import pytest

from somana_core.errors import InputError
from somana_core.orders import OrderStore, shared_store

QUOTE = {"unit_price": 24.5, "print_time_s": 60.0}


def _place(store, key, customer="Ada", qty=1, **kw):
    return store.place(customer, "kit_enclosure", {"wall": 2.0}, QUOTE, files={"a.stl": b"solid a\n"},
                       qty=qty, idempotency_key=key, **kw)


def test_the_same_key_twice_returns_the_same_order_and_stores_one(store):
    first = _place(store, "click-0001")
    again = _place(store, "click-0001")
    assert again == first
    assert len(store.list()) == 1
    assert store.find_by_key("click-0001") == first
    assert store.find_by_key("click-0002") is None


def test_concurrent_placements_with_one_key_give_one_order(store):
    stations = [OrderStore(store.url) for _ in range(4)]
    try:
        with ThreadPoolExecutor(len(stations)) as pool:
            orders = list(pool.map(lambda s: _place(s, "double-click-1"), stations))
    finally:
        for station in stations:
            station.close()
    assert len({o.number for o in orders}) == 1
    assert len(store.list()) == 1


def test_a_key_reused_for_another_order_is_refused(store):
    first = _place(store, "click-0003")
    with pytest.raises(InputError) as err:
        _place(store, "click-0003", qty=2)
    assert err.value.field == "idempotency_key" and first.number in err.value.message
    assert len(store.list()) == 1


@pytest.mark.parametrize("key", ["short", "x" * 65, "with space1", "ctrl\x1bchar", 12345678])
def test_malformed_keys_are_refused(store, key):
    with pytest.raises(InputError) as err:
        _place(store, key)
    assert err.value.field == "idempotency_key"
    assert store.list() == []


def test_the_store_bounds_what_its_columns_hold(store):
    for kw, field in [({"customer": "x" * 201}, "customer"), ({"qty": 2**31}, "qty"), ({"qty": 0}, "qty"),
                      ({"qty": 1.5}, "qty"), ({"qty": True}, "qty"), ({"material": "M" * 33}, "material")]:
        with pytest.raises(InputError) as err:
            _place(store, None, **kw)
        assert err.value.field == field
    assert store.list() == []


def test_a_store_made_before_the_key_gets_its_column(somana_home):
    path = somana_home / "orders.sqlite"
    with OrderStore() as s:
        old = _place(s, None)
    with sqlite3.connect(path) as conn:  # the schema of the first version: no idempotency_key
        (create,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'orders'").fetchone()
        lines = [line for line in create.splitlines() if "idempotency_key" not in line]
        columns = [row[1] for row in conn.execute("PRAGMA table_info(orders)") if row[1] != "idempotency_key"]
        conn.execute(re.sub(r",\s*\)\s*$", "\n)", "\n".join(lines)).replace("TABLE orders", "TABLE first_version"))
        conn.execute(f"INSERT INTO first_version SELECT {', '.join(columns)} FROM orders")
        conn.execute("DROP TABLE orders")
        conn.execute("ALTER TABLE first_version RENAME TO orders")
        assert "idempotency_key" not in conn.execute("SELECT sql FROM sqlite_master WHERE name = 'orders'").fetchone()[0]
    with OrderStore() as s:
        assert s.get(old.number).customer == "Ada"
        placed = _place(s, "after-migration")
        assert _place(s, "after-migration") == placed and len(s.list()) == 2


def test_one_shared_store_per_database(somana_home, tmp_path):
    assert shared_store() is shared_store()
    other = shared_store(f"sqlite:///{tmp_path / 'other.sqlite'}")
    assert other is not shared_store() and other is shared_store(other.url)


def test_the_shared_store_serves_many_threads_at_once(somana_home):
    """Sessions of one server place orders from their own threads through the one store."""
    store = shared_store()
    with ThreadPoolExecutor(8) as pool:
        numbers = list(pool.map(lambda i: _place(store, f"thread-key-{i:04d}", customer=f"c{i}").number, range(24)))
    assert len(set(numbers)) == 24 and len(store.list()) == 24
