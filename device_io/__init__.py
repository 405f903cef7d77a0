"""Printers without hardware or with it: a Marlin-dialect G-code host and a virtual printer.

Layers (none imports Panel): `transport` (pyserial, reader thread), `protocol` (framing and the
reply parser), `job` (G-code programs, restart preamble), `host` (`PrinterHost`), `simulator`
(`VirtualPrinter`, `FaultPlan`) and `registry` (one host per printer name, per process).
"""

from device_io.host import STATES, HostError, PrinterHost
from device_io.simulator import FaultPlan, VirtualPrinter

__all__ = ["STATES", "FaultPlan", "HostError", "PrinterHost", "VirtualPrinter"]
