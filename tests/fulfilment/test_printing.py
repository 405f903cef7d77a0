"""Orders go from confirmed to printed on the virtual printer, slicing first when they have no G-code."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import trimesh

from device_io.host import PrinterHost
from device_io.simulator import VirtualPrinter
from somana_core.errors import InputError
from somana_core.orders import OrderStore
from somana_core.fulfilment import finish_order, gcode_for, print_order, printable_orders, start_order

SHORT_JOB = "\n".join(["G28", "G90", "M104 S0"] + [f"G1 X{i % 50} Y{i % 40} F6000" for i in range(200)]) + "\n"


@pytest.fixture
def store(somana_home):
    with OrderStore() as store:
        yield store


@pytest.fixture
def host():
    printer = VirtualPrinter(time_scale=0.0)
    path = printer.start()
    host = PrinterHost(name="test-sim", port=path)
    host.connect()
    yield host
    host.disconnect()
    printer.stop()


def _order(store, files):
    return store.place("Ada", "sensor_enclosure", {"length": 80}, {"total_usd": 42.0}, files=files)


def test_an_order_with_gcode_prints_to_done(store, host):
    order = _order(store, {"part.gcode": SHORT_JOB.encode()})
    assert [o.number for o in printable_orders(store)] == [order.number]
    done = print_order(store, host, order.number)
    assert done.state == "done"
    assert [e.state for e in done.history] == ["quoted", "confirmed", "sliced", "queued", "printing", "done"]
    assert host.progress()["percent"] == pytest.approx(100.0)
    assert printable_orders(store) == []


def test_a_cancelled_print_records_the_order_cancelled_with_the_last_acknowledged_line(store, somana_home):
    printer = VirtualPrinter(time_scale=1.0)  # real-time moves: the job is still running when cancelled
    host = PrinterHost(name="slow-sim", port=printer.start())
    host.connect()
    try:
        order = _order(store, {"part.gcode": SHORT_JOB.encode()})
        start_order(store, host, order.number)
        host.wait_for_state("printing")
        finished = {}
        waiter = threading.Thread(target=lambda: finished.update(order=finish_order(store, host, order.number)))
        waiter.start()
        host.cancel()
        waiter.join(timeout=60)
        cancelled = finished["order"]
        assert cancelled.state == "cancelled"
        assert "cancelled" in cancelled.history[-1].note and "last acknowledged line" in cancelled.history[-1].note
        assert order.number not in [o.number for o in printable_orders(store)]
    finally:
        host.disconnect()
        printer.stop()


def test_an_order_without_gcode_is_sliced_and_stored(store, tmp_path):
    stl = tmp_path / "box.stl"
    trimesh.creation.box(extents=(20, 20, 10)).export(stl)
    order = _order(store, {"box.stl": stl})
    path = gcode_for(store, order.number, tmp_path / "work")
    assert path.read_text(errors="replace").count("G1 ") > 100
    stored = store.get(order.number)
    assert stored.state == "sliced"
    assert any(f.kind == "gcode" for f in stored.files)
    assert stored.quote["print_time_s"] > 0


def test_an_order_with_nothing_to_print_is_refused(store, host):
    order = _order(store, None)
    with pytest.raises(InputError) as err:
        start_order(store, host, order.number)
    assert "neither G-code nor" in err.value.message
    assert store.get(order.number).state == "confirmed"


def test_a_print_stopped_by_a_disconnect_is_interrupted_with_its_last_line_and_can_be_queued_again(store):
    printer = VirtualPrinter(time_scale=1.0)  # real-time moves: the job is still running at the disconnect
    host = PrinterHost(name="slow-sim", port=printer.start())
    host.connect()
    try:
        order = _order(store, {"part.gcode": SHORT_JOB.encode()})
        start_order(store, host, order.number)
        host.wait_for_state("printing")
        finished = {}
        waiter = threading.Thread(target=lambda: finished.update(order=finish_order(store, host, order.number)))
        waiter.start()
        host.disconnect()
        waiter.join(timeout=60)
        interrupted = finished["order"]
        assert interrupted.state == "interrupted"
        assert "last acknowledged line" in interrupted.history[-1].note
        assert order.number in [o.number for o in printable_orders(store)]
    finally:
        host.disconnect()
        printer.stop()


def test_a_print_longer_than_one_wait_is_waited_on_to_the_end(store, monkeypatch):
    """finish_order waits in slices: the host's wait timeout means "still printing", nothing else."""
    import somana_core.fulfilment as fulfilment

    monkeypatch.setattr(fulfilment, "WAIT_SLICE_S", 0.05)
    printer = VirtualPrinter(time_scale=0.05)  # the job takes several wait slices
    host = PrinterHost(name="slow-sim", port=printer.start())
    host.connect()
    try:
        order = _order(store, {"part.gcode": SHORT_JOB.encode()})
        start_order(store, host, order.number)
        done = finish_order(store, host, order.number)
        assert done.state == "done"
        assert done.state_at("done") - done.state_at("printing") > timedelta(seconds=0.1)
    finally:
        host.disconnect()
        printer.stop()
