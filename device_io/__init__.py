"""Printers without hardware or with it: a Marlin-dialect G-code host and a virtual printer.

Layers (none imports Panel, nor anything else of Somana): `transport` (pyserial, reader thread),
`protocol` (framing and the reply parser), `state` (HostState, HostSnapshot, JobResult), `job`
(G-code programs, restart preamble), `host` (`PrinterHost`), `simulator` (`VirtualPrinter`,
`FaultPlan`) and `registry` (one host per printer name, per process).
"""

from device_io.errors import DeviceInputError, HostError
from device_io.host import PrinterHost
from device_io.simulator import FaultPlan, VirtualPrinter
from device_io.state import CONNECTED_STATES, JOB_STATES, STATES, HostSnapshot, HostState, JobResult

__all__ = [
    "CONNECTED_STATES", "JOB_STATES", "STATES", "DeviceInputError", "FaultPlan", "HostError", "HostSnapshot",
    "HostState", "JobResult", "PrinterHost", "VirtualPrinter",
]
