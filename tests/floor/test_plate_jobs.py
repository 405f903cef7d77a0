"""A station prints a multi-plate order one plate at a time (job NUMBER/K) over a real Mosquitto; the
order is done only after its last plate, and the order number alone is refused with its plates named."""

from __future__ import annotations

import pytest

from device_io.simulator import VirtualPrinter
from somana_core.floor.station import PrinterSpec, Station
from somana_core.fulfilment import printable_orders
from somana_core.orders import OrderStore
from tests.floor.conftest import job_text
from tests.support.waiting import wait_until


@pytest.fixture
def station(broker, somana_home):
    printer = VirtualPrinter(time_scale=0.02)
    printer.start()
    started = Station("plates", [PrinterSpec("p1", printer.path)], broker.url, publish_interval_s=0.05).start()
    yield started
    started.stop()
    printer.stop()


def test_each_plate_is_its_own_station_job_and_the_order_is_done_after_the_last(fleet, station, somana_home):
    with OrderStore() as store:
        order = store.place("Ada", "sensor_enclosure", {}, {"print_time_s": 120.0},
                            files={"a.gcode": job_text(40).encode(), "a.plate2.gcode": job_text(50).encode()},
                            plates=2, file_plates={"a.gcode": 1, "a.plate2.gcode": 2})
        assert [j.number for j in printable_orders(store)] == [f"{order.number}/1", f"{order.number}/2"]
    wait_until(lambda: fleet.printers().get("plates/p1", {}).get("shown_state") == "operational", 15)

    refused = fleet.wait_reply(fleet.command("plates/p1", "start", order=order.number), 15)
    assert not refused["ok"] and f"{order.number}/1, {order.number}/2" in refused["message"]

    for plate, lines in ((1, 40), (2, 50)):
        reply = fleet.wait_reply(fleet.command("plates/p1", "start", order=f"{order.number}/{plate}"), 15)
        assert reply["ok"], reply
        with OrderStore() as store:
            wait_until(lambda: store.get(f"{order.number}/{plate}").state == "done", 30, message=f"plate {plate} done")
            whole = store.get(order.number)
        wait_until(lambda: fleet.printers()["plates/p1"].get("shown_state") == "operational", 15)
        history = fleet.printers()["plates/p1"]["history"][0]
        assert history["name"] == f"{order.number}/{plate}" and history["lines_total"] == lines + 3
        assert whole.state == ("done" if plate == 2 else "confirmed")  # plate 2 has not moved yet
