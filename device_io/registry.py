"""The process-wide registry: one PrinterHost per printer name, shared by every UI session.

`panel serve` re-runs an app script per session but imports modules once per process, so the
registry lives here (a package module), never in a dashboard script. The name "sim" starts the
built-in virtual printer in this process on a pseudo-terminal and connects to it.
"""

from __future__ import annotations

import atexit
import threading

from device_io.host import PrinterHost
from device_io.simulator import FaultPlan, VirtualPrinter
from device_io.state import IDLE_STATES

SIM = "sim"

_lock = threading.RLock()
_hosts: dict[str, PrinterHost] = {}
_simulators: dict[str, VirtualPrinter] = {}


def get_host(name: str, port: str | None = None, baudrate: int = 115200, **host_params) -> PrinterHost:
    """The one host for `name` (created on first use; later calls return the same object).

    `port` defaults to `name` (a device path or pyserial URL). For "sim" (or a port of "sim"),
    a virtual printer is started in-process on a pseudo-terminal and becomes the port."""
    with _lock:
        host = _hosts.get(name)
        if host is None:
            port = port or name
            if port == SIM:
                port = start_simulator(name).path
            host = PrinterHost(name=name, port=port, baudrate=baudrate, **host_params)
            _hosts[name] = host
        return host


def connect(name: str, port: str | None = None, baudrate: int = 115200, *, wait: bool = True, **host_params) -> PrinterHost:
    """`get_host` and connect it unless it is already connected or connecting."""
    host = get_host(name, port, baudrate, **host_params)
    if host.current_state in IDLE_STATES:
        host.connect(wait=wait)
    return host


def start_simulator(name: str = SIM, faults: FaultPlan | None = None, **printer_params) -> VirtualPrinter:
    """Start (once) the in-process virtual printer registered under `name`."""
    with _lock:
        printer = _simulators.get(name)
        if printer is None:
            printer_params.setdefault("time_scale", 0.05)  # a demo prints 20x faster than life
            printer = VirtualPrinter(faults, **printer_params)
            printer.start()
            _simulators[name] = printer
        return printer


def simulator(name: str = SIM) -> VirtualPrinter | None:
    with _lock:
        return _simulators.get(name)


def names() -> list[str]:
    with _lock:
        return sorted(_hosts)


def hosts() -> dict[str, PrinterHost]:
    with _lock:
        return dict(_hosts)


def shutdown() -> None:
    """Disconnect every host and stop every simulator (also run at interpreter exit)."""
    with _lock:
        hosts_, sims = list(_hosts.values()), list(_simulators.values())
        _hosts.clear()
        _simulators.clear()
    for host in hosts_:
        try:
            host.disconnect()
        except Exception:  # noqa: BLE001 - shutting down: report nothing, stop everything
            pass
    for printer in sims:
        printer.stop()


atexit.register(shutdown)
