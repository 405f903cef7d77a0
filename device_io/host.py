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
soon after `add_listener`, then every changed one (a state change at once; progress and
temperatures every `publish_interval_s` or with the next state change). Listeners are called one at a time on the
host's monitor thread, never with the host lock held, so a listener may call any host method
(`pause()` from a listener is fine). A listener that raises is logged and the job goes on; a
listener should not block (it delays the other listeners and, by up to `publish_wait_s`, the
return of the host's methods, which wait until listeners have seen their effect; never the
emergency stop, and never the streaming). The param values
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
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable

import param
from param.parameterized import Event, Skip, discard_events, edit_constant

from device_io.errors import DeviceInputError, HostError
from device_io.gcode import command_code
from device_io.job import PrintJob
from device_io.journal import SentLineJournal
from device_io.monitor import Monitor, Publication, isolated
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
from device_io.streaming import Failed, JobDone, LineStreamer, MarkerAcknowledged
from device_io.transport import SerialTransport, TransportClosed

__all__ = [
    "CONNECTED_STATES", "JOB_STATES", "STATES", "HostError", "HostSnapshot", "HostState", "JobResult", "LogEntry",
    "PrinterHost",
]

log = logging.getLogger(__name__)

DISCONNECTED = HostState.DISCONNECTED
CONNECTING = HostState.CONNECTING
OPERATIONAL = HostState.OPERATIONAL
PRINTING = HostState.PRINTING
PAUSED = HostState.PAUSED
CANCELLING = HostState.CANCELLING
ERROR = HostState.ERROR

HEATERS = {"T0": "M104", "T": "M104", "B": "M140"}
ESTOP_MESSAGE = "emergency stop: the printer is halted; reconnect to reset it"
PRINTER_ACTIONS = ("pause", "resume", "cancel")
LAST_LINE = re.compile(r"Last Line:\s*(\d+)")  # Marlin's line-number error names the last line received
PROBE_TIMEOUT_S = 1.0  # for that answer at connect (a board that resets on open may not answer)


@dataclass
class LogEntry:
    """One console line: `direction` 'send' or 'recv'; `kind` one of command, reply, temperature,
    busy, error, echo, job (job lines are only logged if `log_job_lines`)."""

    time: float
    direction: str
    text: str
    kind: str


class _Waiter:
    """A thread waiting for the answer to one command (`query`, the handshake's M115)."""

    def __init__(self):
        self.event = threading.Event()
        self.replies: list[str] = []
        self.ok: Ok | None = None
        self.error = ""

    def resolve(self, replies: list[str], ok: Ok) -> None:
        if not self.event.is_set():
            self.replies, self.ok = replies, ok
            self.event.set()

    def fail(self, message: str) -> None:
        if not self.event.is_set():
            self.error = message
            self.event.set()


class PrinterHost(param.Parameterized):
    """A Marlin-dialect printer host. Call the methods to act; watch with `add_listener` (or the params)."""

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
    publish_interval_s = param.Number(0.1, bounds=(0.01, None), doc="Progress published this often, s")
    publish_wait_s = param.Number(
        2.0, bounds=(0.0, None), doc="Longest a method waits for listeners to have seen its effect (a hung view), s"
    )

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
    job_result = param.Dict({}, constant=True, doc="The last JobResult as a dict ({} while a job runs or before the first)")
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
        self._monitor = Monitor(
            self.name, self._collect, self._apply_params, self.publish_interval_s, self.publish_wait_s
        )
        self._log: deque = deque(maxlen=self.log_size)
        self._temperature_history: deque = deque()
        self._temperature_samples: deque = deque(maxlen=1000)
        self._printer_actions: deque = deque()
        self._session = 0
        self._closed_at = -1e9
        self._state = DISCONNECTED
        self._error = ""
        self._job_result: JobResult | None = None
        self._final_progress: dict | None = None
        self._journal: SentLineJournal | None = None
        self._probe_line_number = False
        # the line number the printer said it last received, asked before the handshake's M110
        # (`connect(probe_line_number=True)`; None: not asked or no answer)
        self.probed_line_number: int | None = None
        self._reset_session()

    # =========================================================================================
    # Lifecycle: connect, disconnect
    # =========================================================================================

    def connect(self, port: str | None = None, baudrate: int | None = None, *, wait: bool = True,
                probe_line_number: bool = False) -> None:
        """Open the port and do the handshake. With `wait`, block until operational (raises
        HostError on failure); otherwise the handshake runs in a thread (watch `state`). With
        `probe_line_number`, first ask the printer which line number it last received (a line
        out of sequence, answered `Last Line: N`) into `probed_line_number`: after the previous
        host was killed, that settles an unconfirmed journal record (device_io.journal)."""
        self._close_transport()  # after an error the old port is still open (and exclusive)
        pause = self._closed_at + self.reopen_delay_s - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        with self._lock:
            if self._state not in IDLE_STATES:
                raise HostError(f"{self.name}: already {self._state}")
            if port is not None:
                self.port = port
            if baudrate is not None:
                self.baudrate = baudrate
            if not self.port:
                raise HostError(f"{self.name}: no port given")
            self._reset_session()
            self._probe_line_number = probe_line_number
            self.probed_line_number = None
            self._set_state(CONNECTING)
        self._monitor.sync()
        if wait:
            self._connect_and_handshake()
        else:
            threading.Thread(target=self._connect_quietly, name=f"handshake {self.name}", daemon=True).start()

    def disconnect(self) -> None:
        """Close the port. A running job fails with the last acknowledged line."""
        with self._lock:
            if self._stream.job is not None:
                self._finish_job(JobStatus.FAILED, "disconnected by the operator")
            self._set_state(DISCONNECTED)
            self._stream.stop("disconnected")
        self._close_transport()
        self._monitor.sync()

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

    def _reset_session(self) -> None:
        self._stream = LineStreamer(
            window=self.default_window,
            rx_buffer_bytes=self.rx_buffer_bytes,
            history=self.resend_history,
            resend_settle_s=self.resend_settle_s,
            max_identical_resends=self.max_identical_resends,
            resend_give_up_s=self.resend_give_up_s,
            comm_timeout_s=self.comm_timeout_s,
            max_timeouts=self.max_timeouts,
            log=self._add_log,
            log_job_lines=self.log_job_lines,
            now=time.monotonic(),
        )
        self._emergency_requested = False
        self._cancel_reason = ""
        self._handshaking = False
        self._handshake_oks = 0
        self._seen_start = False
        self._caps: dict = {}
        self._firmware = ""
        self._autoreport = False
        self._next_poll = 0.0
        self._temperatures: dict = {}
        self._position: dict = {}
        self._paused_position: dict = {}
        self._busy_reason = ""
        self._log_version = 0
        self._printer_actions.clear()

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
            self._monitor.sync()
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
            self._handshake()
        except HostError as exc:
            with self._lock:
                self._handshaking = False
                if self._state == CONNECTING:  # not when the operator disconnected meanwhile
                    self._fail(str(exc))
            self._monitor.sync()
            raise
        self._monitor.sync()

    def _handshake(self) -> None:
        deadline = time.monotonic() + self.handshake_timeout_s
        with self._lock:
            if self.wait_for_start:
                while not self._seen_start and time.monotonic() < deadline:
                    self._changed.wait(0.05)
                if not self._seen_start:
                    raise HostError(f"{self.name}: no `start` from {self.port} within {self.handshake_timeout_s} s")
            if self._probe_line_number:
                self._probe_last_line_number(min(deadline, time.monotonic() + PROBE_TIMEOUT_S))
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
            self._wait_for_quiet_oks(max(self.handshake_retry_s, 0.05))
            self._handshaking = False
            self._stream.restart_numbering(time.monotonic())
        remaining = max(deadline - time.monotonic(), 1.0)
        waiter = _Waiter()
        with self._lock:
            self._stream.queue("M115", "command", waiter)
            self._stream.window = 1
            self._pump()
        if not waiter.event.wait(remaining):
            raise HostError(f"{self.name}: no answer to M115 within {self.handshake_timeout_s} s")
        with self._lock:
            if waiter.error:
                raise HostError(f"{self.name}: handshake failed: {waiter.error}")
            if self._state != CONNECTING:
                raise HostError(f"{self.name}: handshake interrupted ({self._error or self._state})")
            ok = waiter.ok
            if self.max_in_flight:
                self._stream.window = self.max_in_flight
            elif ok is not None and ok.buffer_free is not None:
                self._stream.window = max(1, ok.buffer_free + 1)  # the M115 itself still held one slot
            else:
                self._stream.window = self.default_window
            if self._caps.get("AUTOREPORT_TEMP"):
                self._autoreport = True
                self._stream.queue(f"M155 S{self.autoreport_interval_s}")
            else:
                self._next_poll = time.monotonic()
            self._set_state(OPERATIONAL)
            self._pump()

    def _probe_last_line_number(self, until: float) -> None:
        """Line 0 is never the next one after an M110 or a job line, so Marlin answers it with
        `Error:Line Number is not Last Line Number+1, Last Line: N` (then Resend and ok); `_handle`
        keeps N. Called with the lock held, before the M110 that would reset the numbering."""
        self._write(frame(0, "M105").encode("ascii") + b"\n")
        while self.probed_line_number is None and time.monotonic() < until and self._state == CONNECTING:
            self._changed.wait(0.01)
        self._wait_for_quiet_oks(0.05)  # the request's own ok is not the M110's
        self._handshake_oks = 0

    def _wait_for_quiet_oks(self, quiet_s: float) -> None:
        """Wait (lock held) until no ok has arrived for `quiet_s`: late oks of earlier lines."""
        quiet_since, seen = time.monotonic(), self._handshake_oks
        while time.monotonic() - quiet_since < quiet_s:
            self._changed.wait(0.01)
            if self._handshake_oks != seen:
                seen, quiet_since = self._handshake_oks, time.monotonic()

    def _on_closed(self, exc: BaseException) -> None:
        with self._lock:
            if self._state in IDLE_STATES:
                return
            self._fail(f"connection to {self.port} lost: {exc}")

    # =========================================================================================
    # Jobs: the state machine operational -> printing <-> paused -> (cancelling) -> operational
    # =========================================================================================

    def start_job(self, source, *, from_line: int = 1, name: str | None = None, journal_path=None) -> None:
        """Stream a G-code file (a path or a `PrintJob`). With `from_line` > 1, start at that file
        line after a generated preamble (heat, home X/Y, restore Z and E): the restart after an
        interruption is `from_line=JobResult.restart_from_line`. With `journal_path`, every write
        to the port appends the last file line sent to that file (`device_io.journal`): after
        the host process is killed, `read_journal(path)` tells the exact restart line (an unconfirmed
        last write is settled by `connect(probe_line_number=True)`). Raises
        DeviceInputError if nothing is left to send, HostError unless operational."""
        job = source if isinstance(source, PrintJob) else PrintJob.from_file(source)
        if name:
            job = job.renamed(name)
        streamed = job.streamed_from(from_line)
        journal = SentLineJournal(journal_path, streamed.first_line - 1) if journal_path is not None else None
        # The line numbers are reset at the start of a job once nothing is in flight.
        deadline = time.monotonic() + self.comm_timeout_s
        with self._lock:
            self._require(OPERATIONAL, "start a job")
            while self._stream.busy and time.monotonic() < deadline:
                self._changed.wait(0.05)
            if self._state != OPERATIONAL and journal is not None:
                journal.close()
            self._require(OPERATIONAL, "start a job")
            self._stream.begin_job(streamed, time.monotonic())
            self._journal = journal
            self._job_result = None
            self._set_state(PRINTING)
            self._pump()
        self._monitor.sync()

    def pause(self) -> None:
        """Stop sending job lines; the lines already in flight finish, then the position is recorded."""
        self._pause()
        self._monitor.sync()

    def resume(self) -> None:
        self._resume()
        self._monitor.sync()

    def cancel(self) -> None:
        """Drop the unsent job lines, switch the heaters off and park safely (lift Z, home X/Y)."""
        self._cancel()
        self._monitor.sync()

    def _pause(self) -> None:
        with self._lock:
            self._require(PRINTING, "pause")
            self._set_state(PAUSED)
            self._stream.job_paused = True
            self._stream.queue("M114", "pause-position")
            self._pump()

    def _resume(self) -> None:
        with self._lock:
            self._require(PAUSED, "resume")
            self._set_state(PRINTING)
            self._stream.job_paused = False
            self._pump()

    def _cancel(self, reason: str = "cancelled by the operator") -> None:
        with self._lock:
            if self._state not in (PRINTING, PAUSED):  # not while cancelling already
                raise HostError(f"{self.name}: cannot cancel: no job is running (state {self._state})")
            self._cancel_reason = reason
            self._stream.cancel_job()
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
                self._stream.queue(command, "cancel")
            self._stream.queue("M400", "cancel-done")
            self._pump()

    def emergency_stop(self) -> float:
        """M112 ahead of every queue (written straight to the port, not under the host lock), then
        heaters off; the job fails and the host goes to the error state (the firmware needs a
        reset: reconnect). Returns the seconds from the call to the M112 written. Unlike the
        other methods it does not wait for listeners and params to be published (`current_state`
        is already `error` when it returns)."""
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
        # Views learn of it from the monitor; the caller is not held up by them.
        self._monitor.request()
        return latency

    def _finish_job(self, status: JobStatus, reason: str) -> None:
        values = self._progress_values()
        job = self._stream.job
        self._job_result = JobResult(
            status=JobStatus(status),
            reason=reason,
            name=job.name,
            last_acked_line=values["last_acked_line"],
            lines_acked=values["lines_acked"],
            lines_total=values["lines_total"],
            elapsed_s=values["elapsed_s"],
            # nothing acknowledged yet of a job restarted at line N: it restarts at N again
            restart_from_line=(
                None if status == JobStatus.DONE else max(values["last_acked_line"] + 1, job.first_line)
            ),
        )
        self._final_progress = values
        journal, self._journal = self._journal, None
        if journal is not None:
            # done: all of it; otherwise (e-stop, lost link) only the acknowledged lines are sure
            journal.record(self._stream.sent_through_line if status == JobStatus.DONE else values["last_acked_line"])
            journal.close()
        self._stream.end_job()
        self._changed.notify_all()
        self._monitor.request()

    def _set_state(self, state: HostState) -> None:
        if state != self._state:
            self._state = HostState(state)
            self._changed.notify_all()
            self._monitor.request()

    def _require(self, state: HostState, action: str) -> None:
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
        if self._stream.job is not None:
            self._finish_job(JobStatus.FAILED, message)
        self._stream.stop(message)
        self._add_log("recv", message, "error")
        self._set_state(ERROR)

    def _apply_effects(self) -> None:
        for effect in self._stream.take_effects():
            if isinstance(effect, Failed):
                self._fail(effect.message)
            elif isinstance(effect, JobDone) and self._state in (PRINTING, PAUSED):
                self._finish_job(JobStatus.DONE, "")
                self._set_state(OPERATIONAL)
            elif isinstance(effect, MarkerAcknowledged):
                if effect.kind == "pause-position":
                    self._paused_position = dict(self._position)
                elif effect.kind == "cancel-done" and self._state == CANCELLING:
                    self._finish_job(JobStatus.CANCELLED, self._cancel_reason)
                    self._set_state(OPERATIONAL)

    def _run_printer_actions(self) -> None:
        """Act on `//action:pause|resume|cancel` from the printer (queued by the reader while it
        held the lock; run once it is released). An action that does not fit the state is ignored."""
        while True:
            with self._lock:
                if not self._printer_actions:
                    return
                name = self._printer_actions.popleft()
            try:
                if name == "cancel":
                    self._cancel("cancelled on the printer (//action:cancel)")
                else:
                    {"pause": self._pause, "resume": self._resume}[name]()
            except HostError:
                pass  # e.g. `pause` while already paused: the printer's menu and the host agree anyway
            except Exception:  # noqa: BLE001 - a bug here must not be taken for a lost connection
                log.exception("%s: printer action %r failed", self.name, name)

    # =========================================================================================
    # Commands outside a job
    # =========================================================================================

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
            self._stream.queue(command)
            self._pump()

    def query(self, command: str, timeout: float | None = None) -> list[str]:
        """Send a command and return the lines the printer answered with (up to and with its ok)."""
        waiter = _Waiter()
        with self._lock:
            self._require_connected("send a command")
            self._stream.queue(command.strip(), "command", waiter)
            self._pump()
        if not waiter.event.wait(timeout if timeout is not None else self.comm_timeout_s * (self.max_timeouts + 1)):
            raise HostError(f"{self.name}: no answer to {command!r}")
        if waiter.error:
            raise HostError(f"{self.name}: {command!r} failed: {waiter.error}")
        self._monitor.sync()  # what the answer changed (position, capabilities) is in the params
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
                self._stream.queue(command)
            self._pump()

    def home(self, axes: str = "XYZ") -> None:
        axes = "".join(axis for axis in axes.upper() if axis in "XYZ")
        with self._lock:
            self._require(OPERATIONAL, "home")
            self._stream.queue("G28 " + " ".join(axes) if axes else "G28")
            self._pump()

    # =========================================================================================
    # Reading the host
    # =========================================================================================

    def add_listener(self, callback: Callable[[HostSnapshot], None]) -> Callable[[], None]:
        """Call `callback(snapshot)` with the current `HostSnapshot` soon, then with each changed
        one, on the monitor thread. Returns a function that removes the listener (module docstring)."""
        return self._monitor.add_listener(callback)

    def snapshot(self) -> HostSnapshot:
        """The host as it is right now (a new frozen `HostSnapshot`)."""
        with self._lock:
            return dataclasses.replace(self._make_snapshot(), sequence=self._monitor.sequence)

    def on_temperature(self, callback: Callable[[float, dict], None]) -> Callable[[], None]:
        """Call `callback(time.monotonic(), readings)` for each temperature sample (on the monitor
        thread, isolated like a listener). Returns a function that removes the callback."""
        return self._monitor.on_temperature(callback)

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

    def progress(self) -> dict:
        """lines_acked, lines_total, bytes_acked, bytes_total, elapsed_s, eta_s, percent, last_acked_line, name."""
        with self._lock:
            return self._progress_values()

    @property
    def current_state(self) -> HostState:
        """The state right now (the `state` param follows it after the publishing step)."""
        return self._state

    @property
    def last_result(self) -> JobResult | None:
        """How the last job ended (None while one runs or before the first)."""
        return self._job_result

    def wait_for_state(self, *states: str, timeout: float = 10.0) -> HostState:
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
            while self._stream.job is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise HostError(f"{self.name}: job still running after {timeout} s")
                self._changed.wait(min(remaining, 0.1))
            result = self._job_result
        self._monitor.sync()
        return result

    def _progress_values(self) -> dict:
        if self._stream.job is not None:
            return self._stream.progress(time.monotonic())
        return dict(self._final_progress or {
            "lines_acked": 0, "lines_total": 0, "bytes_acked": 0, "bytes_total": 0,
            "elapsed_s": 0.0, "eta_s": None, "percent": 0.0, "last_acked_line": 0, "name": "",
        })

    # =========================================================================================
    # Receiving (the transport's reader thread)
    # =========================================================================================

    def _on_lines(self, lines: list[str]) -> None:
        start = 0
        while start < len(lines):
            with self._lock:
                now = time.monotonic()
                for index in range(start, len(lines)):
                    line = lines[index]
                    after_resend = self._stream.line_received()
                    events = parse_line(line)
                    kind = "reply"
                    for event in events:
                        kind = self._handle(event, line, now, after_resend, events) or kind
                        self._apply_effects()
                    if kind != "quiet":
                        self._add_log("recv", line, kind)
                    if self._printer_actions:
                        break  # the lines after an action are handled after it
                start = index + 1
                if not self._printer_actions:
                    self._pump()
            # Printer-sent actions run here, after the lock is released (they take it themselves);
            # no job line went out since the action arrived (a pause stops at that point).
            if self._printer_actions:
                self._run_printer_actions()
                with self._lock:
                    self._pump()

    def _handle(self, event, line: str, now: float, after_resend: bool, events: list) -> str | None:
        stream = self._stream
        if isinstance(event, Ok):
            self._busy_reason = ""
            if self._handshaking:
                stream.on_alive(now, answered=True)
                self._handshake_oks += 1
                self._changed.notify_all()
                return "quiet"
            if after_resend:
                stream.on_alive(now, answered=True)
                return "quiet"  # the ok that belongs to the resend request
            return stream.on_ok(event, line, events, now)
        if isinstance(event, TemperatureReport):
            self._temperatures = dict(event.readings)
            self._temperature_history.append((now, dict(event.readings)))
            horizon = now - self.temperature_history_s
            while self._temperature_history and self._temperature_history[0][0] < horizon:
                self._temperature_history.popleft()
            self._temperature_samples.append((now, dict(event.readings)))
            stream.on_temperature(now)
            if not any(isinstance(other, Ok) for other in events):
                stream.add_reply(line, temperature=True)
            return "temperature"
        if isinstance(event, Resend):
            if self._handshaking:
                stream.on_alive(now)
            else:
                stream.on_resend(event.line_number, now)
                self._wake.set()  # the watchdog resends once the request has settled
            return "error"
        if isinstance(event, Busy):
            stream.on_alive(now)
            self._busy_reason = event.reason
            return "busy"
        if isinstance(event, Start):
            self._seen_start = True
            if self._handshaking:
                self._changed.notify_all()
                return "echo"
            if self._state in CONNECTED_STATES:
                where = (
                    f" during the job (last acknowledged line {stream.last_acked_line})" if stream.job else ""
                )
                self._fail(f"the printer reset itself (it printed `start`){where}; reconnect to continue")
            return "error"
        if isinstance(event, FirmwareError):
            last = LAST_LINE.search(line) if self._handshaking and self._probe_line_number else None
            if last:
                self.probed_line_number = int(last.group(1))
                self._changed.notify_all()
            stream.add_reply(line)
            if event.kind == FATAL:
                self._fail(ESTOP_MESSAGE if self._emergency_requested else f"printer error: {event.text}")
            return "error" if event.kind in (FATAL, COMMUNICATION) else "echo"
        if isinstance(event, Position):
            self._position = dict(event.axes)
            stream.add_reply(line)
            return None
        if isinstance(event, FirmwareInfo):
            self._firmware = event.name
            stream.add_reply(line)
            return None
        if isinstance(event, Capability):
            self._caps[event.name] = event.enabled
            stream.add_reply(line)
            return None
        if isinstance(event, HostAction):
            if event.name in PRINTER_ACTIONS:
                self._printer_actions.append(event.name)
            return "echo"
        if isinstance(event, (Echo, Unknown)):
            stream.add_reply(line)
            return "echo"
        if isinstance(event, Wait):
            return "quiet"
        return None

    # =========================================================================================
    # Sending
    # =========================================================================================

    def _pump(self) -> None:
        """Send what the window allows (called with the lock held)."""
        if self._transport is None or self._handshaking:
            return
        if self._state not in CONNECTED_STATES and self._state != CONNECTING:
            return
        self._stream.pump(time.monotonic())
        self._flush()

    def _flush(self) -> None:
        data = self._stream.take_output()
        journal, line = self._journal, self._stream.sent_through_line
        record = None
        if journal is not None and journal.line != line:
            record = lambda: journal.record(line)  # noqa: E731 - right after the bytes (device_io.journal)
        if data:
            if record is not None:  # the intent right before the bytes, the record right after them
                journal.intend(journal.line, line, self._stream.last_number)
            self._write(data, record)
        elif record is not None:
            record()  # a resend request rewound it: nothing new went out
        self._apply_effects()

    def sync_journal(self) -> None:
        """fsync the running job's sent-line journal (slow; call it from the owner's own thread
        about once a second, never holding anything the streaming needs)."""
        journal = self._journal
        if journal is not None:
            journal.sync()

    def _write(self, data: bytes, then=None) -> None:
        transport = self._transport
        if transport is None:
            return
        try:
            transport.write(data, then)
        except TransportClosed as exc:
            self._fail(f"cannot write to {self.port}: {exc}")

    def _add_log(self, direction: str, text: str, kind: str) -> None:
        self._log.append(LogEntry(time.time(), direction, text, kind))
        self._log_version += 1

    # =========================================================================================
    # Watchdog: resend settling, timeouts, temperature polling
    # =========================================================================================

    def _watchdog_loop(self, session: int) -> None:
        while True:
            with self._lock:
                if self._session != session or self._state == DISCONNECTED:
                    return
                now = time.monotonic()
                settling = self._stream.settle_until is not None
                connected = self._state in CONNECTED_STATES
                self._stream.tick(now, check_timeout=connected)
                if connected and not self._autoreport and now >= self._next_poll:
                    self._next_poll = now + self.poll_interval_s
                    if not self._stream.has_queued("M105"):
                        self._stream.queue("M105", "poll")
                        self._pump()
                self._flush()
                if settling and self._stream.settle_until is None:
                    self._changed.notify_all()  # a job waiting to start may go
                next_wake = self._stream.next_wake(now)
            self._wake.wait(next_wake)
            self._wake.clear()

    # =========================================================================================
    # Publishing (called by the monitor thread; see device_io.monitor)
    # =========================================================================================

    def _collect(self) -> Publication:
        with self._lock:
            samples = tuple(self._temperature_samples)
            self._temperature_samples.clear()
            return Publication(
                snapshot=self._make_snapshot(),
                param_values=self._param_values(),
                temperature_samples=samples,
                keep_running=not (self._state in IDLE_STATES and self._transport is None),
            )

    def _apply_params(self, values: dict) -> None:
        """Set the changed params, then call each of their watchers in isolation. param's own
        dispatch (`param.update`) stops at the first watcher that raises, so one view's bug would
        keep every later watcher of the same update (another view, a test's probe) from hearing of
        it: the values are set with their events discarded and the watchers called here, one
        `isolated` call each, in param's order (precedence)."""
        changed = {name: value for name, value in values.items() if getattr(self, name) != value}
        if not changed:
            return
        old = {name: getattr(self, name) for name in changed}
        watchers: list = []
        for name in changed:
            for watcher in self.param.watchers.get(name, {}).get("value", []):
                if not any(watcher is seen for seen in watchers):
                    watchers.append(watcher)
        with discard_events(self), edit_constant(self):
            self.param.update(**changed)
        for watcher in sorted(watchers, key=lambda w: w.precedence):
            events = [Event(what="value", name=name, obj=self, cls=type(self), old=old[name], new=changed[name],
                            type="changed") for name in watcher.parameter_names if name in changed]
            if events:
                isolated(self.name, _call_watcher, watcher, events)

    def _make_snapshot(self) -> HostSnapshot:
        p = self._progress_values()
        result = self._job_result
        running = self._stream.job is not None
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
            "window": self._stream.window,
            "temperatures": dict(self._temperatures),
            "position": dict(self._position),
            "paused_position": dict(self._paused_position),
            "busy_reason": self._busy_reason,
            "job_result": self._job_result.to_dict() if self._job_result is not None else {},
            "log_version": self._log_version,
            "resends": self._stream.resends,
            "timeouts": self._stream.timeouts,
            "job_name": p["name"],
            "job_lines_total": p["lines_total"],
            "job_lines_acked": p["lines_acked"],
            "job_bytes_total": p["bytes_total"],
            "job_bytes_acked": p["bytes_acked"],
            "job_elapsed_s": p["elapsed_s"],
            "job_eta_s": p["eta_s"],
            "last_acked_line": p["last_acked_line"],
        }


def _call_watcher(watcher, events: list) -> None:
    """One param watcher, as param calls it (positional events, or keyword values)."""
    try:
        if watcher.mode == "args":
            watcher.fn(*events)
        else:
            watcher.fn(**{event.name: event.new for event in events})
    except Skip:
        pass
