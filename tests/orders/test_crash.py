"""A confirmed order survives a crash: a writer SIGKILLed mid-write leaves only whole orders."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from somana_core.orders import OrderStore

WRITER = Path(__file__).with_name("crash_writer.py")
sys.path.insert(0, str(WRITER.parent))
from crash_writer import payload  # noqa: E402


def _kill_writer_after(url: str, n_orders: int, extra_delay_s: float) -> list[str]:
    """Start the writer, let it confirm `n_orders`, SIGKILL it a moment later; return the
    numbers it reported as committed."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen([sys.executable, str(WRITER), url], stdout=subprocess.PIPE, text=True, env=env)
    committed = []
    try:
        deadline = time.monotonic() + 60
        while len(committed) < n_orders:
            line = proc.stdout.readline()
            assert line, f"writer exited early with {proc.poll()}"
            committed.append(line.split()[0])
            assert time.monotonic() < deadline, "writer too slow"
        time.sleep(extra_delay_s)  # not a wait: the kill lands this long after the n-th commit, mid-write
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    return committed


def _assert_every_order_whole(store: OrderStore, committed: list[str]) -> None:
    orders = {o.number: o for o in store.list()}
    assert set(committed) <= set(orders), "an order reported as committed is missing"
    for order in orders.values():
        i = order.parameters["i"]
        assert order.customer == f"customer {i}" and order.quote["unit_price"] == float(i)
        assert order.state == "confirmed" and [e.state for e in order.history] == ["quoted", "confirmed"]
        expected = {f"part{i}.stl": payload(i), f"part{i}.gcode": payload(i) + b"G28\n"}
        assert {f.name for f in order.files} == set(expected)
        for f in order.files:
            data = store.file_bytes(f.sha256)
            assert data == expected[f.name] and hashlib.sha256(data).hexdigest() == f.sha256


@pytest.mark.parametrize("extra_delay_s", [0.0, 0.013, 0.047])
def test_sigkilled_writer_leaves_whole_orders_in_sqlite(somana_home, extra_delay_s):
    url = f"sqlite:///{somana_home / 'orders.sqlite'}"
    committed = _kill_writer_after(url, 5, extra_delay_s)
    with OrderStore(url) as store:  # opens (recovers the WAL) after the kill
        _assert_every_order_whole(store, committed)
        after = store.place("next", "kit_enclosure", {"i": -1}, {"unit_price": -1.0}, files={})
        assert after.number not in committed
    import sqlite3

    with sqlite3.connect(somana_home / "orders.sqlite") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.postgres
def test_sigkilled_writer_leaves_whole_orders_in_postgresql(fresh_postgres_db):
    committed = _kill_writer_after(fresh_postgres_db, 5, 0.02)
    with OrderStore(fresh_postgres_db) as store:
        _assert_every_order_whole(store, committed)
