"""`PrinterHost`: one connection to one printer, shared by every user interface that watches it.

It streams G-code so that every line is executed exactly once and in order: lines are numbered
and checksummed, kept in flight up to the firmware's command buffer, and held in a bounded
history for resend requests; a communication timeout with a keepalive probe recovers lost `ok`s;
repeated identical resend requests or repeated timeouts stop with a clear error instead of
hanging. States: `HostState` (device_io.state), with the sets `CONNECTED_STATES`, `JOB_STATES`.

Acting on a printer (every method is thread-safe and returns quickly unless it says it waits):
    connect(port=None, baudrate=None, wait=True) / disconnect()
    start_job(path_or_PrintJob, from_line=1, name=None)   from_line > 1: restart preamble first
    pause() / resume() / cancel() / emergency_stop()       M112 is written before anything else
    set_temperature("T0"|"B", celsius) / jog(x, y, z) / home(axes) / send_command(gcode) / query(gcode)
    wait_for_state(*states, timeout) / wait_for_job(timeout) -> JobResult

Watching a printer: listeners and snapshots
    remove = host.add_listener(callback)    callback(snapshot: HostSnapshot)
    host.snapshot() -> HostSnapshot         the state right now, for a first render or a poll
A `HostSnapshot` is frozen: state, error, temperatures (actual and target, °C), job name, lines
acknowledged/total, progress %, elapsed and ETA, last acknowledged file line, restartable-from
line and the last `JobResult`; `to_dict()` gives JSON. A new listener gets the current snapshot
soon after `add_listener`, then every changed one (state changes at once, progress and
temperatures at most every `publish_interval_s`). Listeners are called one at a time on the
host's monitor thread, never with the host lock held, so a listener may call any host method
(`pause()` from a listener is fine). A listener that raises is logged and the job goes on; a
listener should not block (it delays the other listeners and, by up to 2 s, the return of the
host's own methods, which wait until listeners have seen their effect). The param values
(`host.state`, `host.temperatures`, ...) are published from the same thread, for Panel views.

Threads: the transport's reader thread handles replies and sends the next lines at once (no
polling); printer-sent actions (`//action:pause|resume|cancel`, with or without `echo:`) are
queued by the reader and run after it released the lock. A watchdog thread handles timeouts,
resend settling and temperature polling; the monitor thread publishes. Lock order: the host lock,
then the monitor's; the monitor never holds both.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

import param
from param.parameterized import edit_constant

from device_io.job import GcodeProgram, command_code, restart_preamble
from device_io.protocol import (
    COMMUNICATION,
    FATAL,
    Busy,
    Capability,
    Echo,
    FirmwareError,
    FirmwareInfo,
    HostAction,
    Ok,
    Position,
    Resend,
    Start,
    TemperatureReport,
    Unknown,
    Wait,
    frame,
    line_number_reset,
    parse_line,
)
from device_io.errors import DeviceInputError, HostError
from device_io.state import (
    CONNECTED_STATES,
    IDLE_STATES,
    JOB_STATES,
    STATES,
    HeaterReading,
    HostSnapshot,
    HostState,
    JobResult,
    JobStatus,
)
from device_io.transport import SerialTransport, TransportClosed

log = logging.getLogger(__name__)

DISCONNECTED = HostState.DISCONNECTED
CONNECTING = HostState.CONNECTING
OPERATIONAL = HostState.OPERATIONAL
PRINTING = HostState.PRINTING
PAUSED = HostState.PAUSED
CANCELLING = HostState.CANCELLING
ERROR = HostState.ERROR

# Commands that wait for a heater: the firmware prints temperatures while they run, not `busy`.
HEAT_WAIT_CODES = {"M109", "M190", "M191", "M116"}
HEATERS = {"T0": "M104", "T": "M104", "B": "M140"}


ESTOP_MESSAGE = "emergency stop: the printer is halted; reconnect to reset it"


@dataclass
class LogEntry:
    """One console line: `direction` 'send' or 'recv'; `kind` one of command, reply, temperature,
    busy, error, echo, job (job lines are only logged if `log_job_lines`)."""

    time: float
    direction: str
    text: str
    kind: str


@dataclass
class _Line:
    number: int
    command: str
    kind: str  # job, command, poll, probe, reset
    job_index: int | None
    data: bytes
    waiter: "_Waiter | None" = None
    heat_wait: bool = False
    acked: bool = False


@dataclass
class _Waiter:
    event: threading.Event = field(default_factory=threading.Event)
    replies: list = field(default_factory=list)
    replies_ok: Ok | None = None
    error: str = ""


@dataclass
class _Job:
    program: GcodeProgram
    commands: list
    file_lines: list  # 0 for preamble commands
    sizes: list
    preamble: int
    total_bytes: int
    next_index: int = 0
    acked: int = 0
    acked_bytes: int = 0
    started_at: float = 0.0
    last_acked_line: int = 0
    first_line: int = 1


class PrinterHost(param.Parameterized):
    """A Marlin-dialect printer host. Read the observable params; call the methods to act."""

    # -- configuration -------------------------------------------------------------------------
    port = param.String("", doc="Device path or pyserial URL (socket://, rfc2217://, loop://)")
    baudrate = param.Integer(115200, bounds=(1, None), doc="Serial speed, baud")
    handshake_timeout_s = param.Number(10.0, bounds=(0.1, None), doc="Time allowed for the handshake, s")
    handshake_retry_s = param.Number(0.25, bounds=(0.01, None), doc="M110 repeat interval while connecting, s")
    wait_for_start = param.Boolean(False, doc="Wait for the board's `start` before the handshake")
    comm_timeout_s = param.Number(
        5.0, bounds=(0.05, None), doc="No ok/busy/resend for this long with lines in flight is a timeout, s"
    )
    max_timeouts = param.Integer(
        3, bounds=(1, None), doc="Consecutive timeouts (each sends an M105 probe) before the error state"
    )
    max_identical_resends = param.Integer(
        8, bounds=(1, None), doc="Resend requests for the same line without progress before the error state"
    )
    resend_give_up_s = param.Number(
        1.0, bounds=(0.0, None), doc="...and for at least this long (stale duplicates come in bursts), s"
    )
    resend_settle_s = param.Number(
        0.02, bounds=(0.0, None), doc="Quiet time after a resend request before resending (stale lines drain), s"
    )
    max_in_flight = param.Integer(
        0, bounds=(0, None), doc="Lines in flight; 0 = the firmware's buffer (ADVANCED_OK) or default_window"
    )
    default_window = param.Integer(4, bounds=(1, None), doc="Lines in flight for firmware without ADVANCED_OK")
    rx_buffer_bytes = param.Integer(
        0,
        bounds=(0, None),
        doc="The firmware's serial receive buffer, bytes (Marlin RX_BUFFER_SIZE): lines beyond the command "
        "buffer may wait there. 0 = unknown: only the command buffer is used",
    )
    resend_history = param.Integer(2000, bounds=(16, None), doc="Sent lines kept for resend requests")
    autoreport_interval_s = param.Integer(1, bounds=(1, 60), doc="M155 auto-report interval, s")
    poll_interval_s = param.Number(2.0, bounds=(0.1, None), doc="M105 polling interval without auto-report, s")
    temperature_history_s = param.Number(600.0, bounds=(1.0, None), doc="Temperature samples kept, s")
    log_size = param.Integer(2000, bounds=(10, None), doc="Console lines kept")
    log_job_lines = param.Boolean(False, doc="Also log every job line sent and its ok")
    park_lift_mm = param.Number(10.0, bounds=(0.0, None), doc="Z lift when a job is cancelled, mm")
    park_feedrate_mm_min = param.Number(600.0, bounds=(1.0, None), doc="Z feed rate of the cancel lift, mm/min")
    reopen_delay_s = param.Number(
        0.1, bounds=(0.0, None), doc="Pause between closing and reopening a port (the board sees the hang-up), s"
    )
    publish_interval_s = param.Number(0.1, bounds=(0.01, None), doc="Progress published at most this often, s")

    # -- observable state (set by the host only) -----------------------------------------------
    state = param.Selector(default=DISCONNECTED, objects=list(STATES), constant=True)
    error_message = param.String("", constant=True, doc="Why the host is in the error state")
    firmware_name = param.String("", constant=True)
    capabilities = param.Dict({}, constant=True, doc="M115 Cap: lines, name -> bool")
    window = param.Integer(0, constant=True, doc="Lines kept in flight")
    temperatures = param.Dict({}, constant=True, doc="Latest readings: heater -> (actual °C, target °C)")
    position = param.Dict({}, constant=True, doc="Last M114 position, mm")
    paused_position = param.Dict({}, constant=True, doc="Position recorded when the job paused, mm")
    busy_reason = param.String("", constant=True)
    job_name = param.String("", constant=True)
    job_lines_total = param.Integer(0, constant=True, doc="Commands in the job (without a restart preamble)")
    job_lines_acked = param.Integer(0, constant=True, doc="Commands the printer acknowledged")
    job_bytes_total = param.Integer(0, constant=True)
    job_bytes_acked = param.Integer(0, constant=True)
    job_elapsed_s = param.Number(0.0, constant=True)
    job_eta_s = param.Number(None, allow_None=True, constant=True, doc="Estimated time left, s")
    last_acked_line = param.Integer(0, constant=True, doc="File line of the last acknowledged command")
    job_result = param.Dict({}, constant=True, doc="status (done/failed/cancelled), reason, last_acked_line")
    log_version = param.Integer(0, constant=True, doc="Increases when the console log changes")
    resends = param.Integer(0, constant=True, doc="Resend requests acted on since connecting")
    timeouts = param.Integer(0, constant=True, doc="Communication timeouts since connecting")

    def __init__(self, **params):
        super().__init__(**params)
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._transport: SerialTransport | None = None
        self._watchdog: threading.Thread | None = None
        self._wake = threading.Event()
        # The monitor thread publishes; it takes _monitor_lock and the host lock one at a time,
        # never together, and calls listeners and param watchers holding neither.
        self._monitor_lock = threading.Lock()
        self._monitor_cond = threading.Condition(self._monitor_lock)
        self._monitor: threading.Thread | None = None
        self._publish_requested = 0
        self._published = 0
        self._listeners: list[Callable[[HostSnapshot], None]] = []
        self._new_listeners: list[Callable[[HostSnapshot], None]] = []
        self._last_snapshot: HostSnapshot | None = None
        self._sequence = 0
        self._temperature_callbacks: list[Callable] = []
        self._temperature_samples: deque = deque(maxlen=1000)
        self._printer_actions: deque = deque()
        self._log: deque = deque(maxlen=self.log_size)
        self._temperature_history: deque = deque()
        self._session = 0
        self._closed_at = -1e9
        self._reset_session()
        self._state = DISCONNECTED
        self._error = ""
        self._job_result: JobResult | None = None

    # =========================================================================================
    # Public API
    # =========================================================================================

    def connect(self, port: str | None = None, baudrate: int | None = None, *, wait: bool = True) -> None:
        """Open the port and do the handshake. With `wait`, block until operational (raises
        HostError on failure); otherwise the handshake runs in a thread (watch `state`)."""
        self._close_transport()  # after an error the old port is still open (and exclusive)
        pause = self._closed_at + self.reopen_delay_s - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        with self._lock:
            if self._state == CONNECTING or self._state in CONNECTED_STATES:
                raise HostError(f"{self.name}: already {self._state}")
            if port is not None:
                self.port = port
            if baudrate is not None:
                self.baudrate = baudrate
            if not self.port:
                raise HostError(f"{self.name}: no port given")
            self._reset_session()
            self._set_state(CONNECTING)
        self._publish_sync()
        if wait:
            self._connect_and_handshake()
        else:
            threading.Thread(target=self._connect_quietly, name=f"handshake {self.name}", daemon=True).start()

    def disconnect(self) -> None:
        """Close the port. A running job fails with the last acknowledged line."""
        with self._lock:
            if self._job is not None:
                self._finish_job("failed", "disconnected by the operator")
            self._set_state(DISCONNECTED)
            self._release_waiters("disconnected")
        self._close_transport()
        self._publish_sync()

    def _close_transport(self) -> None:
        with self._lock:
            transport, self._transport = self._transport, None
            self._session += 1
        self._wake.set()
        if transport is not None:
            transport.close()
            self._closed_at = time.monotonic()
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None and watchdog is not threading.current_thread():
            watchdog.join(timeout=2.0)

    def start_job(self, source, *, from_line: int = 1, name: str | None = None) -> None:
        """Stream a G-code file (path, or a GcodeProgram). With `from_line` > 1, start at that file
        line after a generated preamble (heat, home X/Y, restore Z and E) — the restart after an
        interruption is `from_line=last_acked_line + 1`."""
        program = source if isinstance(source, GcodeProgram) else GcodeProgram.from_file(source)
        if name:
            program.name = name
        start_index = program.index_of_line(from_line) if from_line > 1 else 0
        preamble = restart_preamble(program.commands[:start_index]) if start_index > 0 else []
        # An M110 in a file would renumber the firmware's lines behind the host's back: skip it.
        rest = [
            (command, line)
            for command, line in zip(program.commands[start_index:], program.file_lines[start_index:])
            if command_code(command) != "M110"
        ]
        commands = preamble + [command for command, _ in rest]
        file_lines = [0] * len(preamble) + [line for _, line in rest]
        if len(commands) == len(preamble):
            raise DeviceInputError("file", f"{program.name}: no G-code commands from line {from_line} on")
        sizes = [len(command) + 1 for command in commands]
        job = _Job(
            program=program,
            commands=commands,
            file_lines=file_lines,
            sizes=sizes,
            preamble=len(preamble),
            total_bytes=sum(sizes[len(preamble) :]),
            first_line=from_line,
        )
        # Reset the line numbers at the start of a job (lines N1.. are the job's commands) once
        # nothing is in flight, so a resend request can never refer to the previous numbering.
        deadline = time.monotonic() + self.comm_timeout_s
        with self._lock:
            self._require(OPERATIONAL, "start a job")
            while (self._in_flight or self._priority or self._settle_until is not None) and time.monotonic() < deadline:
                self._changed.wait(0.05)
            self._require(OPERATIONAL, "start a job")
            if not self._in_flight and self._settle_until is None:
                self._history.clear()
                self._highest_acked = -1
                self._rx_blocked_below = 0
                self._next_number = 0  # the framed M110 is N0, the job's first command N1
                self._send_entries([self._new_line("M110 N0", "reset")])
            job.started_at = time.monotonic()
            self._job = job
            self._job_result = None
            self._set_state(PRINTING)
            self._pump()
        self._publish_sync()

    def pause(self) -> None:
        """Stop sending job lines; the lines already in flight finish, then the position is recorded."""
        self._pause()
        self._publish_sync()

    def resume(self) -> None:
        self._resume()
        self._publish_sync()

    def cancel(self) -> None:
        """Drop the unsent job lines, switch the heaters off and park safely (lift Z, home X/Y)."""
        self._cancel()
        self._publish_sync()

    def _pause(self) -> None:
        with self._lock:
            self._require(PRINTING, "pause")
            self._set_state(PAUSED)
            self._queue_command("M114", "pause-position")
            self._pump()

    def _resume(self) -> None:
        with self._lock:
            self._require(PAUSED, "resume")
            self._set_state(PRINTING)
            self._pump()

    def _cancel(self) -> None:
        with self._lock:
            if self._state not in (PRINTING, PAUSED):  # not while cancelling
                raise HostError(f"{self.name}: cannot cancel: no job is running (state {self._state})")
            job = self._job
            job.next_index = len(job.commands)
            self._set_state(CANCELLING)
            for command in (
                "M104 S0",
                "M140 S0",
                "M107",
                "G91",
                f"G1 Z{self.park_lift_mm:g} F{self.park_feedrate_mm_min:g}",
                "G90",
                "G28 X Y",
                "M84",
            ):
                self._queue_command(command, "cancel")
            self._queue_command("M400", "cancel-done")
            self._pump()

    def emergency_stop(self) -> float:
        """M112 ahead of every queue (written straight to the port), then heaters off; the job
        fails and the host goes to the error state (the firmware needs a reset: reconnect).
        Returns the seconds from the call to the M112 written."""
        started = time.monotonic()
        transport = self._transport
        if transport is None:
            raise HostError(f"{self.name}: not connected")
        self._emergency_requested = True  # the halt the firmware reports next is this one
        try:
            transport.write(b"M112\n")
        except TransportClosed as exc:
            raise HostError(f"{self.name}: emergency stop could not be written: {exc}") from exc
        latency = time.monotonic() - started
        with self._lock:
            try:
                transport.write(b"M104 S0\nM140 S0\n")
            except TransportClosed:
                pass
            self._add_log("send", "M112", "command")
            if not self._caps.get("EMERGENCY_PARSER", False):
                self._add_log("send", "firmware reports no EMERGENCY_PARSER: M112 waits behind its buffer", "error")
            self._fail(ESTOP_MESSAGE)
        self._publish_sync()
        return latency

    def send_command(self, command: str) -> None:
        """Queue a console command (sent ahead of job lines); replies appear in the log."""
        command = command.strip()
        if not command:
            return
        if command_code(command) == "M112":
            self.emergency_stop()  # typed in a console it must not wait behind the queue either
            return
        with self._lock:
            self._require_connected("send a command")
            self._queue_command(command, "command")
            self._pump()

    def query(self, command: str, timeout: float | None = None) -> list[str]:
        """Send a command and return the lines the printer answered with (up to and with its ok)."""
        waiter = _Waiter()
        with self._lock:
            self._require_connected("send a command")
            self._queue_command(command.strip(), "command", waiter)
            self._pump()
        if not waiter.event.wait(timeout if timeout is not None else self.comm_timeout_s * (self.max_timeouts + 1)):
            raise HostError(f"{self.name}: no answer to {command!r}")
        if waiter.error:
            raise HostError(f"{self.name}: {command!r} failed: {waiter.error}")
        self._publish_sync()  # what the answer changed (position, capabilities) is in the params
        return waiter.replies

    def set_temperature(self, heater: str, celsius: float) -> None:
        """Set a heater's target (T0 = nozzle, B = bed), °C; 0 switches it off."""
        if heater not in HEATERS:
            raise DeviceInputError("heater", f"heater={heater!r} is not one of {', '.join(sorted(HEATERS))}")
        if celsius < 0:
            raise DeviceInputError("target", f"target={celsius:g} °C is below 0 °C (0 switches the heater off)")
        self.send_command(f"{HEATERS[heater]} S{celsius:g}")

    def jog(self, x: float = 0.0, y: float = 0.0, z: float = 0.0, feedrate_mm_min: float = 3000.0) -> None:
        """Move relative to the current position, mm (not while a job runs)."""
        moves = " ".join(f"{axis}{value:g}" for axis, value in (("X", x), ("Y", y), ("Z", z)) if value)
        if not moves:
            return
        with self._lock:
            self._require(OPERATIONAL, "jog")
            for command in ("G91", f"G1 {moves} F{feedrate_mm_min:g}", "G90"):
                self._queue_command(command, "command")
            self._pump()

    def home(self, axes: str = "XYZ") -> None:
        axes = "".join(axis for axis in axes.upper() if axis in "XYZ")
        with self._lock:
            self._require(OPERATIONAL, "home")
            self._queue_command("G28 " + " ".join(axes) if axes else "G28", "command")
            self._pump()

    def log(self, limit: int = 200, *, include_temperatures: bool = True) -> list[LogEntry]:
        with self._lock:
            entries = list(self._log)
        if not include_temperatures:
            entries = [entry for entry in entries if entry.kind != "temperature"]
        return entries[-limit:]

    def temperature_history(self) -> list[tuple[float, dict]]:
        """(time.monotonic(), {heater: (actual °C, target °C)}) samples of the last temperature_history_s
        (add `time.time() - time.monotonic()` for wall-clock times)."""
        with self._lock:
            return list(self._temperature_history)

    def on_temperature(self, callback: Callable[[float, dict], None]) -> Callable[[], None]:
        """Call `callback(time.monotonic(), readings)` for each temperature sample (in the reader thread: keep
        it short). Returns a function that removes the callback."""
        with self._lock:
            self._temperature_callbacks.append(callback)

        def remove():
            with self._lock:
                if callback in self._temperature_callbacks:
                    self._temperature_callbacks.remove(callback)

        return remove

    def progress(self) -> dict:
        """lines_acked, lines_total, bytes_acked, bytes_total, elapsed_s, eta_s, percent, last_acked_line."""
        with self._lock:
            return self._progress_values()

    @property
    def current_state(self) -> str:
        """The state right now (the `state` param follows it after the publishing step)."""
        return self._state

    def wait_for_state(self, *states: str, timeout: float = 10.0) -> str:
        """Block until the host is in one of `states`; returns the state (raises HostError on timeout)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._state not in states:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise HostError(f"{self.name}: still {self._state} after {timeout} s (waited for {states})")
                self._changed.wait(min(remaining, 0.1))
            return self._state

    def wait_for_job(self, timeout: float = 60.0) -> JobResult | None:
        """Block until the current job ends; returns how it ended (None if no job ever ran)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._job is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise HostError(f"{self.name}: job still running after {timeout} s")
                self._changed.wait(min(remaining, 0.1))
            result = self._job_result
        self._publish_sync()
        return result

    # =========================================================================================
    # Connection and handshake
    # =========================================================================================

    def _reset_session(self) -> None:
        self._in_flight: deque = deque()
        self._priority: deque = deque()
        self._history: deque = deque(maxlen=self.resend_history)
        self._resend_queue: deque = deque()
        self._next_number = 1
        self._settle_until: float | None = None
        self._resend_target = 0
        self._last_resend = None
        self._identical_resends = 0
        self._identical_since = 0.0
        self._emergency_requested = False
        self._highest_acked = -1
        self._rx_blocked_below = 0
        self._after_resend = False
        self._last_progress = time.monotonic()
        self._timeout_count = 0
        self._resend_count = 0
        self._timeout_total = 0
        self._job: _Job | None = None
        self._reply_buffer: list = []
        self._handshaking = False
        self._handshake_oks = 0
        self._seen_start = False
        self._caps: dict = {}
        self._firmware = ""
        self._window = self.default_window
        self._autoreport = False
        self._next_poll = 0.0
        self._temperatures: dict = {}
        self._position: dict = {}
        self._paused_position: dict = {}
        self._busy_reason = ""
        self._log_version = 0
        self._last_publish = 0.0

    def _connect_quietly(self) -> None:
        try:
            self._connect_and_handshake()
        except HostError:
            pass  # the state and error_message say what happened

    def _connect_and_handshake(self) -> None:
        transport = SerialTransport(self.port, self.baudrate, on_lines=self._on_lines, on_closed=self._on_closed)
        try:
            transport.open()
        except Exception as exc:  # noqa: BLE001 - any open failure is reported the same way
            with self._lock:
                if self._state == CONNECTING:
                    self._fail(f"cannot open {self.port}: {exc}")
            self._publish_sync()
            raise HostError(f"{self.name}: cannot open {self.port}: {exc}") from exc
        with self._lock:
            interrupted = self._state != CONNECTING  # disconnected while the port was opening
            if not interrupted:
                self._transport = transport
                self._handshaking = True
            session = self._session
        if interrupted:
            transport.close()  # outside the lock: closing joins the reader, which takes the lock
            raise HostError(f"{self.name}: connect interrupted ({self._state})")
        self._wake.clear()
        self._watchdog = threading.Thread(
            target=self._watchdog_loop, args=(session,), name=f"watchdog {self.name}", daemon=True
        )
        self._watchdog.start()
        try:
            self._handshake(transport)
        except HostError as exc:
            with self._lock:
                self._handshaking = False
                if self._state == CONNECTING:  # not when the operator disconnected meanwhile
                    self._fail(str(exc))
            self._publish_sync()
            raise
        self._publish_sync()

    def _handshake(self, transport: SerialTransport) -> None:
        deadline = time.monotonic() + self.handshake_timeout_s
        with self._lock:
            if self.wait_for_start:
                while not self._seen_start and time.monotonic() < deadline:
                    self._changed.wait(0.05)
                if not self._seen_start:
                    raise HostError(f"{self.name}: no `start` from {self.port} within {self.handshake_timeout_s} s")
            # M110 until an ok; a board that is still booting drops what it gets, so repeat
            while self._handshake_oks == 0:
                if self._state != CONNECTING:
                    raise HostError(f"{self.name}: handshake interrupted ({self._error or self._state})")
                if time.monotonic() >= deadline:
                    raise HostError(
                        f"{self.name}: no answer to M110 from {self.port} within {self.handshake_timeout_s} s "
                        "(wrong port or baud rate, or the printer is off)"
                    )
                self._seen_start = False
                self._write(line_number_reset(0).encode("ascii") + b"\n")
                retry_at = time.monotonic() + self.handshake_retry_s
                while self._handshake_oks == 0 and not self._seen_start and time.monotonic() < retry_at:
                    self._changed.wait(0.01)
            # late oks of repeated M110s must not be taken for acknowledgements of real lines
            quiet_since = time.monotonic()
            seen = self._handshake_oks
            while time.monotonic() - quiet_since < max(self.handshake_retry_s, 0.05):
                self._changed.wait(0.01)
                if self._handshake_oks != seen:
                    seen, quiet_since = self._handshake_oks, time.monotonic()
            self._handshaking = False
            self._next_number = 1
            self._history.clear()
            self._in_flight.clear()
            self._after_resend = False
            self._reply_buffer = []
        remaining = max(deadline - time.monotonic(), 1.0)
        waiter = _Waiter()
        with self._lock:
            self._queue_command("M115", "command", waiter)
            self._window = 1
            self._pump()
        if not waiter.event.wait(remaining):
            raise HostError(f"{self.name}: no answer to M115 within {self.handshake_timeout_s} s")
        with self._lock:
            if waiter.error:
                raise HostError(f"{self.name}: handshake failed: {waiter.error}")
            if self._state != CONNECTING:
                raise HostError(f"{self.name}: handshake interrupted ({self._error or self._state})")
            ok = waiter.replies_ok
            if self.max_in_flight:
                self._window = self.max_in_flight
            elif ok is not None and ok.buffer_free is not None:
                self._window = max(1, ok.buffer_free + 1)  # the M115 itself still held one slot
            else:
                self._window = self.default_window
            if self._caps.get("AUTOREPORT_TEMP"):
                self._autoreport = True
                self._queue_command(f"M155 S{self.autoreport_interval_s}", "command")
            else:
                self._next_poll = time.monotonic()
            self._set_state(OPERATIONAL)
            self._pump()

    def _on_closed(self, exc: BaseException) -> None:
        with self._lock:
            if self._state in (DISCONNECTED, ERROR):
                return
            self._fail(f"connection to {self.port} lost: {exc}")
        self._request_publish()

    # =========================================================================================
    # Receiving
    # =========================================================================================

    def _on_lines(self, lines: list[str]) -> None:
        samples = self._temperature_samples
        with self._lock:
            now = time.monotonic()
            for line in lines:
                after_resend, self._after_resend = self._after_resend, False
                events = parse_line(line)
                kind = "reply"
                for event in events:
                    kind = self._handle(event, line, now, after_resend, events, samples) or kind
                if kind != "quiet":
                    self._add_log("recv", line, kind)
            self._pump()
        # Printer-sent actions run here, after the lock is released (they take it themselves).
        if self._printer_actions:
            self._run_printer_actions()

    def _handle(self, event, line, now, after_resend, events, samples) -> str | None:
        if isinstance(event, Ok):
            self._last_progress = now
            self._timeout_count = 0
            self._busy_reason = ""
            if self._handshaking:
                self._handshake_oks += 1
                self._changed.notify_all()
                return "quiet"
            if after_resend:
                return "quiet"  # the ok that belongs to the resend request
            return self._acknowledge(event, line, events)
        if isinstance(event, TemperatureReport):
            self._temperatures = dict(event.readings)
            self._temperature_history.append((now, dict(event.readings)))
            horizon = now - self.temperature_history_s
            while self._temperature_history and self._temperature_history[0][0] < horizon:
                self._temperature_history.popleft()
            samples.append((now, dict(event.readings)))
            self._dirty = True
            if any(entry.heat_wait for entry in self._in_flight):
                self._last_progress = now  # heating waits print temperatures instead of busy
            if not any(isinstance(other, Ok) for other in events):
                self._reply_buffer_add(line, temperature=True)
            return "temperature"
        if isinstance(event, Resend):
            self._after_resend = True
            self._last_progress = now
            self._on_resend(event.line_number, now)
            return "error"
        if isinstance(event, Busy):
            self._last_progress = now
            self._busy_reason = event.reason
            self._dirty = True
            return "busy"
        if isinstance(event, Start):
            if self._handshaking:
                self._seen_start = True
                self._changed.notify_all()
                return "echo"
            self._seen_start = True
            if self._state in CONNECTED_STATES:
                where = f" during the job (last acknowledged line {self._job.last_acked_line})" if self._job else ""
                self._fail(f"the printer reset itself (it printed `start`){where}; reconnect to continue")
            return "error"
        if isinstance(event, FirmwareError):
            self._reply_buffer_add(line)
            if event.kind == FATAL:
                self._fail(ESTOP_MESSAGE if self._emergency_requested else f"printer error: {event.text}")
            return "error" if event.kind in (FATAL, COMMUNICATION) else "echo"
        if isinstance(event, Position):
            self._position = dict(event.axes)
            self._dirty = True
            self._reply_buffer_add(line)
            return None
        if isinstance(event, FirmwareInfo):
            self._firmware = event.name
            self._dirty = True
            self._reply_buffer_add(line)
            return None
        if isinstance(event, Capability):
            self._caps[event.name] = event.enabled
            self._dirty = True
            self._reply_buffer_add(line)
            return None
        if isinstance(event, HostAction):
            if event.name in self.PRINTER_ACTIONS:
                self._printer_actions.append(event.name)
            return "echo"
        if isinstance(event, (Echo, Unknown)):
            self._reply_buffer_add(line)
            return "echo"
        if isinstance(event, Wait):
            return "quiet"
        return None

    def _reply_buffer_add(self, line: str, temperature: bool = False) -> None:
        if temperature and not (self._in_flight and self._in_flight[0].command.startswith("M105")):
            return  # an auto-report, not an answer
        if len(self._reply_buffer) < 200:
            self._reply_buffer.append(line)

    def _acknowledge(self, ok: Ok, line: str, events: list) -> str | None:
        if not self._in_flight:
            if self._resend_queue and self._settle_until is None:
                # A stale duplicate resend request made us drop lines the firmware had in fact
                # received (it validates strictly in order): this ok is for the lowest of them,
                # which therefore needs no resending.
                entry = self._resend_queue.popleft()
                replies = self._reply_buffer + [line]
                self._reply_buffer = []
                self._acknowledged(entry, ok, replies)
            return None  # otherwise a stray ok (a late one after a timeout): nothing to acknowledge
        # An ok carrying temperatures answers an M105: everything sent before that M105 has been
        # executed (the firmware works in order), so lost oks before it are recovered here.
        count = 1
        if any(isinstance(event, TemperatureReport) for event in events):
            for index, entry in enumerate(self._in_flight):
                if entry.command.startswith("M105"):
                    count = index + 1
                    break
        kind = None
        for _ in range(count):
            entry = self._in_flight.popleft()
            replies = self._reply_buffer + [line]
            self._reply_buffer = []
            self._acknowledged(entry, ok, replies)
            if entry.kind == "job" and not self.log_job_lines and len(events) == 1:
                kind = "quiet"
        return kind

    def _acknowledged(self, entry: _Line, ok: Ok, replies: list) -> None:
        entry.acked = True
        if entry.number > self._highest_acked:
            self._highest_acked = entry.number
        if self._last_resend is not None and entry.number >= self._last_resend:
            self._identical_resends = 0
        if entry.waiter is not None:
            entry.waiter.replies = replies
            entry.waiter.replies_ok = ok
            entry.waiter.event.set()
        if entry.kind == "pause-position":
            self._paused_position = dict(self._position)
            self._dirty = True
        job = self._job
        if job is None:
            return
        if entry.kind == "job":
            job.acked += 1
            index = entry.job_index
            if index >= job.preamble:
                job.acked_bytes += job.sizes[index]
                job.last_acked_line = job.file_lines[index]
            self._check_job_done()
        elif entry.kind == "cancel-done" and self._state == CANCELLING:
            self._finish_job("cancelled", "cancelled by the operator")
            self._set_state(OPERATIONAL)

    def _check_job_done(self) -> None:
        """Done when every job line was sent and none is waiting for an ok or a resend. (The
        acknowledged count can only lag the printer, never run ahead, so this is the safe test.)"""
        job = self._job
        if job is None or self._state not in (PRINTING, PAUSED) or job.next_index < len(job.commands):
            return
        if self._settle_until is not None:
            return
        if any(entry.kind == "job" for entry in self._in_flight) or any(
            entry.kind == "job" for entry in self._resend_queue
        ):
            return
        job.acked = len(job.commands)
        job.acked_bytes = job.total_bytes
        job.last_acked_line = job.file_lines[-1]
        self._finish_job("done", "")
        self._set_state(OPERATIONAL)

    def _on_resend(self, number: int, now: float) -> None:
        if self._handshaking:
            return
        if self._settle_until is not None:
            self._resend_target = number  # more answers of stale lines: keep draining
            self._settle_until = now + self.resend_settle_s
            return
        oldest = self._history[0].number if self._history else self._next_number
        if number < oldest or number > self._next_number:
            self._fail(
                f"the printer asked for line {number}, which is not in the resend history "
                f"(lines {oldest} to {self._next_number - 1}); the job cannot continue safely"
            )
            return
        if number == self._last_resend and self._identical_resends > 0:
            self._identical_resends += 1
        else:
            self._last_resend = number
            self._identical_resends = 1
            self._identical_since = now
        if (
            self._identical_resends > self.max_identical_resends
            and now - self._identical_since >= self.resend_give_up_s
        ):
            self._fail(
                f"the printer asked for line {number} {self._identical_resends} times in a row without "
                "progress (a noisy cable or a wrong baud rate?)"
            )
            return
        self._in_flight = self._awaiting_ok(number)
        self._resend_queue.clear()
        self._resend_target = number
        # Stale copies of dropped lines may still sit in the firmware's receive buffer, uncounted:
        # no sending into that buffer until a line first sent after now is acknowledged (the
        # firmware reads in order, so by then it has read past every stale copy).
        self._rx_blocked_below = self._next_number
        self._resend_count += 1
        if self.resend_settle_s > 0:
            self._settle_until = now + self.resend_settle_s
            self._wake.set()
        else:
            self._start_resend()

    def _start_resend(self) -> None:
        number = self._resend_target
        self._settle_until = None
        self._in_flight = self._awaiting_ok(number)
        self._resend_queue = deque(entry for entry in self._history if entry.number >= number)
        self._changed.notify_all()

    def _awaiting_ok(self, number: int) -> deque:
        """The lines the firmware holds when it asks for `number`: it validates strictly in order,
        so every line below `number` that was sent and not yet acknowledged will get its ok —
        including copies sent in an earlier resend round that we had given up on. Keeping them
        in flight (in number order, the order the oks come in) keeps every ok attributed to
        the right line, so the count of acknowledged lines never runs ahead of the printer."""
        keep = {id(entry): entry for entry in self._in_flight if entry.number < number}
        for entry in self._history:
            if entry.number < number and not entry.acked:
                keep[id(entry)] = entry
        return deque(sorted(keep.values(), key=lambda entry: entry.number))

    PRINTER_ACTIONS = ("pause", "resume", "cancel")

    def _run_printer_actions(self) -> None:
        """Act on `//action:pause|resume|cancel` from the printer (queued by the reader while it
        held the lock; run once it is released). An action that does not fit the state is ignored."""
        while True:
            with self._lock:
                if not self._printer_actions:
                    return
                name = self._printer_actions.popleft()
            try:
                {"pause": self._pause, "resume": self._resume, "cancel": self._cancel}[name]()
            except HostError:
                pass  # e.g. `pause` while already paused: the printer's menu and the host agree anyway
            except Exception:  # noqa: BLE001 - a bug here must not be taken for a lost connection
                log.exception("%s: printer action %r failed", self.name, name)

    # =========================================================================================
    # Sending
    # =========================================================================================

    def _new_line(self, command: str, kind: str, job_index: int | None = None, waiter=None) -> _Line:
        number = self._next_number
        self._next_number += 1
        entry = _Line(
            number,
            command,
            kind,
            job_index,
            (frame(number, command) + "\n").encode("ascii", "replace"),
            waiter,
            command_code(command) in HEAT_WAIT_CODES,
        )
        self._history.append(entry)
        return entry

    def _queue_command(self, command: str, kind: str, waiter: _Waiter | None = None) -> None:
        self._priority.append((command, kind, waiter))

    def _next_line(self) -> _Line | None:
        if self._resend_queue:
            return self._resend_queue.popleft()
        if self._priority:
            command, kind, waiter = self._priority.popleft()
            return self._new_line(command, kind, None, waiter)
        job = self._job
        if job is not None and self._state == PRINTING and job.next_index < len(job.commands):
            index = job.next_index
            job.next_index += 1
            return self._new_line(job.commands[index], "job", index)
        return None

    def _pump(self) -> None:
        """Send as many lines as the window allows (called with the lock held)."""
        if self._transport is None or self._handshaking or self._settle_until is not None:
            return
        if self._state not in CONNECTED_STATES and self._state != CONNECTING:
            return
        batch = []
        # With rx_buffer_bytes known, every unacknowledged byte is counted against the firmware's
        # receive buffer (a line waits there until the firmware parses it, however slow its main
        # loop), so more lines than the command buffer can be in flight without an overflow
        # (Repetier's "buffer mode"). After a resend, stale copies may still occupy that buffer
        # uncounted: until they are read past, only the command-buffer window applies.
        by_bytes = self.rx_buffer_bytes > 0 and self._highest_acked >= self._rx_blocked_below
        bytes_in_flight = sum(len(entry.data) for entry in self._in_flight) if by_bytes else 0
        while True:
            if (batch and batch[-1].kind == "reset") or (self._in_flight and self._in_flight[-1].kind == "reset"):
                break  # Marlin applies M110 again when it executes it: nothing may follow until its ok
            lines = len(self._in_flight) + len(batch)
            if by_bytes and lines > 0:
                size = self._next_size()
                if size is None or bytes_in_flight + size > self.rx_buffer_bytes:
                    break
            elif lines >= self._window:
                break
            entry = self._next_line()
            if entry is None:
                break
            bytes_in_flight += len(entry.data)
            batch.append(entry)
        if batch:
            self._send_entries(batch)

    def _next_size(self) -> int | None:
        """Bytes the next line will take on the wire (an upper bound), None if nothing is waiting."""
        if self._resend_queue:
            return len(self._resend_queue[0].data)
        if self._priority:
            command = self._priority[0][0]
        else:
            job = self._job
            if job is None or self._state != PRINTING or job.next_index >= len(job.commands):
                return None
            command = job.commands[job.next_index]
        return len(command) + len(str(self._next_number)) + 7  # "N<n> " + "*<checksum>" + newline

    def _send_entries(self, batch: list[_Line]) -> None:
        self._in_flight.extend(batch)
        if not self._in_flight or len(self._in_flight) == len(batch):
            self._last_progress = time.monotonic()  # the timeout counts from the first line in flight
        for entry in batch:
            if entry.kind != "job" or self.log_job_lines:
                self._add_log("send", f"N{entry.number} {entry.command}", "job" if entry.kind == "job" else "command")
        self._write(b"".join(entry.data for entry in batch))

    def _write(self, data: bytes) -> None:
        transport = self._transport
        if transport is None:
            return
        try:
            transport.write(data)
        except TransportClosed as exc:
            self._fail(f"cannot write to {self.port}: {exc}")

    # =========================================================================================
    # Watchdog: timeouts, resend settling, polling, publishing
    # =========================================================================================

    def _watchdog_loop(self, session: int) -> None:
        while True:
            with self._lock:
                if self._session != session or self._state == DISCONNECTED:
                    return
                now = time.monotonic()
                if self._settle_until is not None and now >= self._settle_until:
                    self._start_resend()
                    self._pump()
                if self._state in CONNECTED_STATES:
                    self._check_timeout(now)
                    if not self._autoreport and now >= self._next_poll:
                        self._next_poll = now + self.poll_interval_s
                        waiting = any(e.command.startswith("M105") for e in self._in_flight) or any(
                            command.startswith("M105") for command, _, _ in self._priority
                        )
                        if not waiting:
                            self._queue_command("M105", "poll")
                            self._pump()
                next_wake = 0.05 if self._settle_until is None else max(self._settle_until - now, 0.001)
            self._wake.wait(next_wake)
            self._wake.clear()

    def _check_timeout(self, now: float) -> None:
        if not self._in_flight or now - self._last_progress < self.comm_timeout_s:
            return
        self._timeout_count += 1
        self._timeout_total += 1
        self._last_progress = now
        if self._timeout_count >= self.max_timeouts:
            waited = self.comm_timeout_s * self._timeout_count
            self._fail(
                f"no answer from the printer for {waited:g} s ({self._timeout_count} communication timeouts, "
                f"{len(self._in_flight)} lines unacknowledged)"
            )
            return
        # Keepalive probe: a numbered M105 beyond the window. If an ok was lost, the temperature
        # answer acknowledges everything before it; if a line was lost, the firmware asks for it.
        self._add_log("send", f"timeout after {self.comm_timeout_s:g} s: probing with M105", "error")
        self._send_entries([self._new_line("M105", "probe")])

    # =========================================================================================
    # State, jobs, publishing
    # =========================================================================================

    _dirty = False

    def _set_state(self, state: HostState) -> None:
        if state != self._state:
            self._state = HostState(state)
            self._changed.notify_all()
            self._request_publish()

    def _require(self, state: str, action: str) -> None:
        if self._state != state:
            detail = f": {self._error}" if self._state == ERROR and self._error else ""
            raise HostError(f"{self.name}: cannot {action} while {self._state}{detail}")

    def _require_connected(self, action: str) -> None:
        if self._state not in CONNECTED_STATES:
            raise HostError(f"{self.name}: cannot {action} while {self._state}")

    def _fail(self, message: str) -> None:
        """Enter the error state: stop sending, fail the job with the last acknowledged line."""
        if self._state == ERROR:
            return
        self._error = message
        if self._job is not None:
            self._finish_job("failed", message)
        self._in_flight.clear()
        self._priority.clear()
        self._resend_queue.clear()
        self._settle_until = None
        self._release_waiters(message)
        self._add_log("recv", message, "error")
        self._set_state(ERROR)

    def _release_waiters(self, message: str) -> None:
        for entry in list(self._in_flight) + list(self._history):
            if entry.waiter is not None and not entry.waiter.event.is_set():
                entry.waiter.error = message
                entry.waiter.event.set()
        for _, _, waiter in self._priority:
            if waiter is not None:
                waiter.error = message
                waiter.event.set()

    def _finish_job(self, status: str, reason: str) -> None:
        job = self._job
        values = self._progress_values()
        self._job_result = JobResult(
            status=JobStatus(status),
            reason=reason,
            name=job.program.name,
            last_acked_line=job.last_acked_line,
            lines_acked=values["lines_acked"],
            lines_total=values["lines_total"],
            elapsed_s=values["elapsed_s"],
            # nothing acknowledged yet of a job restarted at line N: it restarts at N again
            restart_from_line=max(job.last_acked_line + 1, job.first_line) if status != "done" else None,
        )
        self._final_progress = values
        self._job = None
        self._changed.notify_all()
        self._request_publish()

    def _progress_values(self) -> dict:
        job = self._job
        if job is None:
            return dict(getattr(self, "_final_progress", None) or {
                "lines_acked": 0, "lines_total": 0, "bytes_acked": 0, "bytes_total": 0,
                "elapsed_s": 0.0, "eta_s": None, "percent": 0.0, "last_acked_line": 0, "name": "",
            })
        elapsed = time.monotonic() - job.started_at
        fraction = job.acked_bytes / job.total_bytes if job.total_bytes else 1.0
        eta = elapsed * (1 - fraction) / fraction if fraction > 0 else None
        return {
            "lines_acked": max(job.acked - job.preamble, 0),
            "lines_total": len(job.commands) - job.preamble,
            "bytes_acked": job.acked_bytes,
            "bytes_total": job.total_bytes,
            "elapsed_s": elapsed,
            "eta_s": eta,
            "percent": 100.0 * fraction,
            "last_acked_line": job.last_acked_line,
            "name": job.program.name,
        }

    def _add_log(self, direction: str, text: str, kind: str) -> None:
        self._log.append(LogEntry(time.time(), direction, text, kind))
        self._log_version += 1

    # =========================================================================================
    # Publishing: snapshots to listeners, values to params (the monitor thread)
    # =========================================================================================

    def _request_publish(self) -> int:
        """Ask the monitor to publish soon (never blocks; may be called with the host lock held)."""
        with self._monitor_lock:
            self._publish_requested += 1
            if self._monitor is None:
                self._monitor = threading.Thread(target=self._monitor_loop, name=f"monitor {self.name}", daemon=True)
                self._monitor.start()
            self._monitor_cond.notify_all()
            return self._publish_requested

    def _publish_sync(self, timeout_s: float = 2.0) -> None:
        """Publish and wait until listeners and params have seen the current state (the public
        methods end with this, so `host.state` is current when they return). Never called with
        the host lock held; on the monitor thread itself (a listener calling the host) it returns
        at once, and a listener that hangs delays the caller by at most `timeout_s`."""
        wanted = self._request_publish()
        if threading.current_thread() is self._monitor:
            return
        deadline = time.monotonic() + timeout_s
        with self._monitor_lock:
            while self._published < wanted and self._monitor is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    log.warning("%s: a listener has been busy for %g s", self.name, timeout_s)
                    return
                self._monitor_cond.wait(remaining)

    def _monitor_loop(self) -> None:
        while True:
            with self._monitor_lock:
                if self._published >= self._publish_requested:
                    self._monitor_cond.wait(self.publish_interval_s)
                wanted = self._publish_requested
            try:
                self._publish_once()
            except Exception:  # noqa: BLE001 - the monitor must outlive any bug in a view
                log.exception("%s: publishing failed", self.name)
            with self._monitor_lock:
                self._published = max(self._published, wanted)
                self._monitor_cond.notify_all()
                idle = self._state in IDLE_STATES and self._transport is None and not self._new_listeners
                if idle and self._published >= self._publish_requested:
                    self._monitor = None  # started again by the next request
                    return

    def _publish_once(self) -> None:
        with self._lock:
            snapshot = self._make_snapshot()
            values = self._param_values()
            samples = list(self._temperature_samples)
            self._temperature_samples.clear()
            callbacks = list(self._temperature_callbacks)
            listeners, fresh = list(self._listeners), self._new_listeners
            self._new_listeners = []
        # Everything below runs without the host lock: a listener may call back into the host.
        changed = {name: value for name, value in values.items() if getattr(self, name) != value}
        if changed:
            try:
                with edit_constant(self):
                    self.param.update(**changed)
            except Exception:  # noqa: BLE001 - a param watcher's bug must not stop the printer
                log.exception("%s: a param watcher failed", self.name)
        for sample in samples:
            for callback in callbacks:
                self._call_isolated(callback, *sample)
        if not snapshot.same_view(self._last_snapshot):
            self._sequence += 1
            snapshot = dataclasses.replace(snapshot, sequence=self._sequence)
            self._last_snapshot = snapshot
            targets = listeners
        else:
            snapshot = self._last_snapshot
            targets = [listener for listener in listeners if listener in fresh]
        for listener in targets:
            self._call_isolated(listener, snapshot)

    def _call_isolated(self, callback: Callable, *args) -> None:
        try:
            callback(*args)
        except Exception:  # noqa: BLE001 - one view's bug must not stop the job or the others
            log.exception("%s: listener %r failed", self.name, callback)

    def add_listener(self, callback: Callable[[HostSnapshot], None]) -> Callable[[], None]:
        """Call `callback(snapshot)` with the current `HostSnapshot` soon, then with each changed one.
        Returns a function that removes the listener. See the module docstring for the rules."""
        with self._lock:
            self._listeners.append(callback)
            self._new_listeners.append(callback)
        self._request_publish()

        def remove() -> None:
            with self._lock:
                if callback in self._listeners:
                    self._listeners.remove(callback)

        return remove

    def snapshot(self) -> HostSnapshot:
        """The host as it is right now (a new frozen `HostSnapshot`)."""
        with self._lock:
            return dataclasses.replace(self._make_snapshot(), sequence=self._sequence)

    def _make_snapshot(self) -> HostSnapshot:
        p = self._progress_values()
        result = self._job_result
        running = self._job is not None
        return HostSnapshot(
            name=self.name,
            port=self.port,
            state=self._state,
            error=self._error if self._state == ERROR else "",
            firmware_name=self._firmware,
            temperatures=tuple(
                HeaterReading(heater, float(actual), None if target is None else float(target))
                for heater, (actual, target) in sorted(self._temperatures.items())
            ),
            busy_reason=self._busy_reason,
            job_name=p["name"],
            lines_acked=p["lines_acked"],
            lines_total=p["lines_total"],
            progress_percent=round(p["percent"], 3),
            elapsed_s=round(p["elapsed_s"], 3),
            eta_s=None if p["eta_s"] is None else round(p["eta_s"], 1),
            last_acked_line=p["last_acked_line"],
            restart_from_line=None if running or result is None else result.restart_from_line,
            job_result=None if running else result,
        )

    def _param_values(self) -> dict:
        p = self._progress_values()
        return {
            "state": self._state,
            "error_message": self._error if self._state == ERROR else "",
            "firmware_name": self._firmware,
            "capabilities": dict(self._caps),
            "window": self._window,
            "temperatures": dict(self._temperatures),
            "position": dict(self._position),
            "paused_position": dict(self._paused_position),
            "busy_reason": self._busy_reason,
            "job_result": self._job_result.to_dict() if self._job_result is not None else {},
            "log_version": self._log_version,
            "resends": self._resend_count,
            "timeouts": self._timeout_total,
            "job_name": p["name"],
            "job_lines_total": p["lines_total"],
            "job_lines_acked": p["lines_acked"],
            "job_bytes_total": p["bytes_total"],
            "job_bytes_acked": p["bytes_acked"],
            "job_elapsed_s": p["elapsed_s"],
            "job_eta_s": p["eta_s"],
            "last_acked_line": p["last_acked_line"],
        }
