"""The order store keeps orders, their files and their state history; it refuses illegal moves."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest

from somana_core.data import state_dir
from somana_core.errors import InputError
from somana_core.orders import STATES, TRANSITIONS, IllegalTransition, OrderNotFound, OrderStore

QUOTE = {"unit_price": 24.5, "unit_cost": 11.2, "print_time_s": 5400.0, "lines": []}


def _place(store, customer="Ada Lovelace", **kw):
    kw.setdefault("files", {"base.stl": b"solid base\nendsolid base\n"})
    return store.place(customer, "sensor_enclosure", {"wall": 2.0, "name": "Ada"}, QUOTE, **kw)


def test_placed_order_reads_back_whole(store):
    placed = _place(store, qty=2)
    got = store.get(placed.number)
    assert got == placed
    assert got.number.startswith("SO-")
    assert got.state == "confirmed"
    assert [e.state for e in got.history] == ["quoted", "confirmed"]
    assert got.parameters == {"wall": 2.0, "name": "Ada"}
    assert got.quote["unit_price"] == 24.5
    assert got.qty == 2 and got.print_time_s == 2 * 5400.0
    (stl,) = got.files
    assert stl.kind == "stl" and stl.sha256 == hashlib.sha256(b"solid base\nendsolid base\n").hexdigest()
    assert store.file_bytes(stl.sha256) == b"solid base\nendsolid base\n"


def test_unconfirmed_order_stays_quoted(store):
    assert _place(store, confirm=False).state == "quoted"


def test_numbers_are_unique_and_listed_newest_first(store):
    numbers = [_place(store, customer=f"c{i}").number for i in range(3)]
    assert len(set(numbers)) == 3
    assert [o.number for o in store.list()] == numbers[::-1]
    store.transition(numbers[0], "cancelled")
    assert [o.number for o in store.list(state="cancelled")] == [numbers[0]]


def test_every_state_pair_is_allowed_or_refused_as_the_table_says(store):
    for current in STATES:
        for wanted in STATES:
            start = current if current in ("quoted", "needs_approval") else "confirmed"
            order = _place(store, files={}, state=start)
            for step in _path_to(current):
                order = store.transition(order.number, step)
            assert order.state == current
            if wanted in TRANSITIONS[current]:
                assert store.transition(order.number, wanted, note="test").state == wanted
            else:
                with pytest.raises(IllegalTransition) as err:
                    store.transition(order.number, wanted)
                assert err.value.field == "state" and current in err.value.message
                assert store.get(order.number).state == current  # nothing changed


def _path_to(state):
    """Transitions from `confirmed` that reach `state` (breadth-first over the table)."""
    if state in ("quoted", "needs_approval"):
        return []  # a new order starts there
    frontier, seen = [("confirmed", [])], {"confirmed"}
    while frontier:
        here, path = frontier.pop(0)
        if here == state:
            return path
        for nxt in TRANSITIONS[here]:
            if nxt not in seen:
                seen.add(nxt)
                frontier.append((nxt, path + [nxt]))
    raise AssertionError(state)


# quoted is reached with confirm=False, not by a transition
def test_quoted_order_can_be_confirmed_or_cancelled_only(store):
    order = _place(store, confirm=False, files={})
    for wanted in STATES:
        if wanted in TRANSITIONS["quoted"]:
            continue
        with pytest.raises(IllegalTransition):
            store.transition(order.number, wanted)
    assert store.transition(order.number, "confirmed").state == "confirmed"


def test_each_state_keeps_its_timestamp(store):
    order = _place(store, files={})
    for step in ("sliced", "queued", "printing", "done"):
        order = store.transition(order.number, step)
    times = [order.state_at(s) for s in ("quoted", "confirmed", "sliced", "queued", "printing", "done")]
    assert all(t is not None and t.tzinfo is not None for t in times)
    assert times == sorted(times)
    assert order.state_at("failed") is None


def test_unknown_order_and_unknown_state_are_input_errors(store):
    with pytest.raises(OrderNotFound):
        store.get("SO-999999")
    order = _place(store, files={})
    with pytest.raises(InputError) as err:
        store.transition(order.number, "shipped")
    assert err.value.field == "state"
    with pytest.raises(InputError) as err:
        _place(store, customer="  ")
    assert err.value.field == "customer"
    with pytest.raises(InputError) as err:
        _place(store, files={"notes.txt": b"x"})
    assert err.value.field == "file"


def test_same_content_is_stored_once_and_gcode_attaches_with_the_sliced_state(store):
    a = _place(store)
    b = _place(store)
    assert a.files[0].sha256 == b.files[0].sha256
    gcode = b"; estimated printing time (normal mode) = 1h 2m 3s\nG1 X1\n"
    sliced = store.attach_file(
        a.number, "base.gcode", gcode, meta={"print_time_s": 3723.0},
        new_state="sliced", quote={**QUOTE, "print_time_s": 3723.0, "print_time_source": "slicer"},
    )
    assert sliced.state == "sliced"
    assert [f.kind for f in sliced.files] == ["stl", "gcode"]
    assert sliced.files[1].meta == {"print_time_s": 3723.0}
    assert sliced.quote["print_time_source"] == "slicer"
    assert store.file_bytes(sliced.files[1].sha256) == gcode


def test_refused_attach_changes_nothing(store):
    order = _place(store)
    with pytest.raises(IllegalTransition):
        store.attach_file(order.number, "x.gcode", b"G1", new_state="done")
    assert store.get(order.number) == order


def test_queue_holds_printing_then_queued_with_their_print_time(store):
    first, second, third = (_place(store, files={}) for _ in range(3))
    for o in (first, second):
        store.transition(o.number, "sliced")
        store.transition(o.number, "queued")
    store.transition(second.number, "printing")
    assert [o.number for o in store.queue()] == [second.number, first.number]
    assert store.queued_print_time_s() == 2 * QUOTE["print_time_s"]
    assert third.number not in [o.number for o in store.queue()]


def test_two_store_objects_see_each_others_orders(store):
    other = OrderStore(store.url)
    try:
        order = _place(store)
        assert other.get(order.number).customer == "Ada Lovelace"
        other.transition(order.number, "cancelled")
        assert store.get(order.number).state == "cancelled"
    finally:
        other.close()


def test_default_store_is_a_wal_sqlite_file_in_the_state_folder(somana_home):
    with OrderStore() as s:
        _place(s)
    path = state_dir() / "orders.sqlite"
    assert path.exists() and path.parent == somana_home
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT count(*) FROM orders").fetchone()[0] == 1


def test_two_stations_racing_to_start_one_order_only_one_wins(store):
    """Several stations share one store: the row lock means one order starts printing once."""
    from concurrent.futures import ThreadPoolExecutor

    order = _place(store, files={})
    store.transition(order.number, "sliced")
    store.transition(order.number, "queued")
    stations = [OrderStore(store.url) for _ in range(4)]
    try:
        def start(station):
            try:
                station.transition(order.number, "printing", note=f"station {id(station)}")
                return "won"
            except IllegalTransition:
                return "refused"

        with ThreadPoolExecutor(len(stations)) as pool:
            outcomes = list(pool.map(start, stations))
    finally:
        for station in stations:
            station.close()
    assert sorted(outcomes) == ["refused"] * (len(stations) - 1) + ["won"]
    assert [e.state for e in store.get(order.number).history].count("printing") == 1


def test_somana_db_url_names_the_default_store(somana_home, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'station.sqlite'}"
    monkeypatch.setenv("SOMANA_DB_URL", url)
    with OrderStore() as s:
        assert s.url == url
        _place(s)
    assert (tmp_path / "station.sqlite").exists() and not (somana_home / "orders.sqlite").exists()


def test_stations_storing_the_same_file_at_once_all_keep_their_orders(store):
    from concurrent.futures import ThreadPoolExecutor

    content = b"solid same default part\n" * 1000
    stations = [OrderStore(store.url) for _ in range(4)]
    try:
        with ThreadPoolExecutor(len(stations)) as pool:
            orders = list(pool.map(lambda s: _place(s, files={"part.stl": content}), stations))
    finally:
        for station in stations:
            station.close()
    assert len({o.number for o in orders}) == 4
    assert len({o.files[0].sha256 for o in orders}) == 1
    assert store.file_bytes(orders[0].files[0].sha256) == content
