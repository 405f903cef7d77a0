"""The errors device_io raises (its own: device_io imports nothing of the rest of Somana)."""

from __future__ import annotations


class HostError(RuntimeError):
    """An operation the host cannot do in its current state, or a failed handshake."""


class DeviceInputError(ValueError):
    """Bad input from a person (a heater name, a target, an empty job). `field` names what to fix,
    `message` is one line naming the value and what is allowed.

    A caller above device_io turns it into its own input error (the command line: one line on
    stderr and exit status 2)."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(message)
