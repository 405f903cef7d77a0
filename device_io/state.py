"""What a printer host is doing, as values: its `HostState`, the state sets every caller tests
against (written once, here), the frozen `HostSnapshot` that listeners receive and the frozen
`JobResult` of a finished job. Plain data: no threads, no I/O."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass


class HostState(enum.StrEnum):
    """The host's state machine. A `StrEnum`: `HostState.PRINTING == "printing"` and JSON writes the value."""

    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    OPERATIONAL = "operational"
    PRINTING = "printing"
    PAUSED = "paused"
    CANCELLING = "cancelling"
    ERROR = "error"


STATES = tuple(HostState)
#: A serial connection with a finished handshake: commands can be sent.
CONNECTED_STATES = frozenset({HostState.OPERATIONAL, HostState.PRINTING, HostState.PAUSED, HostState.CANCELLING})
#: A job is running (it owns the print head; jog and a new job are refused).
JOB_STATES = frozenset({HostState.PRINTING, HostState.PAUSED, HostState.CANCELLING})
#: No serial connection is in use: `connect()` may be called.
IDLE_STATES = frozenset({HostState.DISCONNECTED, HostState.ERROR})


class JobStatus(enum.StrEnum):
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class JobResult:
    """How a job ended. `last_acked_line` is the file line of the last command the printer
    acknowledged; a job that did not finish can restart at `restart_from_line`.

    Read-only mapping access (`result["status"]`, `result.get("reason")`) is kept for callers
    written against the former dict."""

    status: JobStatus
    reason: str
    name: str
    last_acked_line: int
    lines_acked: int
    lines_total: int
    elapsed_s: float
    restart_from_line: int | None

    def to_dict(self) -> dict:
        values = dataclasses.asdict(self)
        values["status"] = str(self.status)
        return values

    def __getitem__(self, key: str):
        if key not in self.__dataclass_fields__:
            raise KeyError(key)
        return getattr(self, key)

    def get(self, key: str, default=None):
        return getattr(self, key, default) if key in self.__dataclass_fields__ else default

    def keys(self):
        return self.__dataclass_fields__.keys()


@dataclass(frozen=True)
class HeaterReading:
    """One heater as the printer last reported it, °C (`target_c` None if the firmware gave none)."""

    heater: str
    actual_c: float
    target_c: float | None


@dataclass(frozen=True)
class HostSnapshot:
    """Everything a view or a bus needs about one printer at one moment (immutable: safe to hand
    to any thread, compare, or serialise with `to_dict()`)."""

    name: str
    port: str
    state: HostState
    error: str
    firmware_name: str
    temperatures: tuple[HeaterReading, ...]
    busy_reason: str
    job_name: str
    lines_acked: int
    lines_total: int
    progress_percent: float
    elapsed_s: float
    eta_s: float | None
    last_acked_line: int
    #: The file line a restart of the last unfinished job starts at (None: nothing to restart).
    restart_from_line: int | None
    #: How the last job ended (None while it runs or before the first job).
    job_result: JobResult | None
    sequence: int = 0

    def heater(self, name: str) -> HeaterReading | None:
        """The reading of `name`; `T0` also finds a single-tool printer's `T`."""
        for reading in self.temperatures:
            if reading.heater == name:
                return reading
        if name == "T0":
            return self.heater("T")
        return None

    @property
    def nozzle(self) -> HeaterReading | None:
        return self.heater("T0")

    @property
    def bed(self) -> HeaterReading | None:
        return self.heater("B")

    def to_dict(self) -> dict:
        """JSON-ready: enums as their values, temperatures as {heater: [actual °C, target °C]}."""
        values = dataclasses.asdict(self)
        values["state"] = str(self.state)
        values["temperatures"] = {r.heater: [r.actual_c, r.target_c] for r in self.temperatures}
        values["job_result"] = self.job_result.to_dict() if self.job_result is not None else None
        return values

    def same_view(self, other: "HostSnapshot | None") -> bool:
        """Equal apart from the sequence number (nothing a listener would show has changed)."""
        return other is not None and dataclasses.replace(other, sequence=self.sequence) == self
