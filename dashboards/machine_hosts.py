"""The printers this server controls: read from SOMANA_PRINTERS (set by `somana serve`), each one a
process-wide `device_io.registry` host shared by every browser session."""

from __future__ import annotations

import json
import os

from device_io import registry
from device_io.host import PrinterHost

DEFAULT_PRINTERS = [{"name": "sim", "port": "sim"}]


def printer_specs() -> list[dict]:
    text = os.environ.get("SOMANA_PRINTERS")
    return json.loads(text) if text else list(DEFAULT_PRINTERS)


def configured_hosts() -> list[PrinterHost]:
    """One host per configured printer (the virtual printer starts on first use; nobody connects yet)."""
    hosts = []
    for spec in printer_specs():
        params = {"baudrate": int(spec["baud"])} if spec.get("baud") else {}
        hosts.append(registry.get_host(spec["name"], spec["port"], **params))
    return hosts


def start_configured_printers() -> None:
    """Create the hosts at server start, so the first page view does not wait for a simulator."""
    configured_hosts()
