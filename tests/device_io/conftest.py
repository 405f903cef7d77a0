"""Fixtures: a virtual printer on a real pseudo-terminal, and hosts that are always disconnected."""

from __future__ import annotations

import pytest

from device_io.host import PrinterHost
from device_io.simulator import FaultPlan, VirtualPrinter


@pytest.fixture
def make_printer():
    printers = []

    def make(*faults: str, **params) -> VirtualPrinter:
        params.setdefault("time_scale", 0.0)
        printer = VirtualPrinter(FaultPlan.parse(list(faults)), **params)
        printer.start()
        printers.append(printer)
        return printer

    yield make
    for printer in printers:
        printer.stop()


@pytest.fixture
def make_host():
    hosts = []

    def make(printer: VirtualPrinter | None = None, connect: bool = True, **params) -> PrinterHost:
        params.setdefault("comm_timeout_s", 1.0)
        host = PrinterHost(**params)
        hosts.append(host)
        if connect:
            host.connect(printer.path)
        return host

    yield make
    for host in hosts:
        host.disconnect()
