"""The streaming core, without I/O or threads: line numbering, the send window (command buffer
and receive-buffer bytes), the resend history and resend handling, communication timeouts, and
a job's progress. It is fed what the printer said (`on_ok`, `on_resend`, `on_busy`, ...) and the
time (`tick(now)`), and leaves behind bytes to write (`take_output()`) and effects for the host
(`take_effects()`: a failure, a finished job, an acknowledged marker line). The host owns the
lock, the transport and the state machine; every rule about which line goes out when is here,
unit-tested without a port (tests/device_io/test_streaming_core.py).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Callable, Protocol

from device_io.gcode import command_code
from device_io.job import PrintJob
from device_io.protocol import Ok, TemperatureReport, frame

# Commands that wait for a heater: the firmware prints temperatures while they run, not `busy`.
HEAT_WAIT_CODES = frozenset({"M109", "M190", "M191", "M116"})


class Waiter(Protocol):
    """Someone waiting for the answer to one command (the host's `query`)."""

    def resolve(self, replies: list[str], ok: Ok) -> None: ...

    def fail(self, message: str) -> None: ...


@dataclass
class SentLine:
    """A numbered line as sent (and kept for resends). `kind`: job, command, poll, probe, reset,
    or a marker the host asked to hear about when acknowledged (pause-position, cancel-done)."""

    number: int
    command: str
    kind: str
    job_index: int | None
    data: bytes
    waiter: Waiter | None = None
    heat_wait: bool = False
    acked: bool = False


# Effects: what the host must act on after feeding the core.
@dataclass(frozen=True)
class Failed:
    """The stream cannot go on safely (the host enters its error state)."""

    message: str


@dataclass(frozen=True)
class JobDone:
    """Every line of the job was acknowledged."""


@dataclass(frozen=True)
class MarkerAcknowledged:
    """A line queued with a marker kind (pause-position, cancel-done) was acknowledged."""

    kind: str


MARKER_KINDS = frozenset({"pause-position", "cancel-done"})


class LineStreamer:
    """See the module docstring. Times are `time.monotonic()` seconds passed in by the caller."""

    def __init__(
        self,
        *,
        window: int = 4,
        rx_buffer_bytes: int = 0,
        history: int = 2000,
        resend_settle_s: float = 0.02,
        max_identical_resends: int = 8,
        resend_give_up_s: float = 1.0,
        comm_timeout_s: float = 5.0,
        max_timeouts: int = 3,
        log: Callable[[str, str, str], None] | None = None,
        log_job_lines: bool = False,
        now: float = 0.0,
    ):
        self.window = window
        self.rx_buffer_bytes = rx_buffer_bytes
        self.resend_settle_s = resend_settle_s
        self.max_identical_resends = max_identical_resends
        self.resend_give_up_s = resend_give_up_s
        self.comm_timeout_s = comm_timeout_s
        self.max_timeouts = max_timeouts
        self.log_job_lines = log_job_lines
        self._log = log or (lambda direction, text, kind: None)
        self._history: deque[SentLine] = deque(maxlen=history)
        self._in_flight: deque[SentLine] = deque()
        self._priority: deque = deque()  # (command, kind, waiter) ahead of job lines
        self._resend_queue: deque[SentLine] = deque()
        self._output: list[bytes] = []
        self._effects: list = []
        self._reply_buffer: list[str] = []
        self._next_number = 1
        self.settle_until: float | None = None
        self._resend_target = 0
        self._last_resend: int | None = None
        self._identical_resends = 0
        self._identical_since = 0.0
        self._highest_acked = -1
        self._rx_blocked_below = 0
        self._after_resend = False
        self._last_progress = now
        self._timeout_count = 0
        self.resends = 0
        self.timeouts = 0
        self.failed = False
        # the job being streamed, and how far it got
        self.job: PrintJob | None = None
        self.job_paused = False
        self._job_cancelled = False
        self._next_index = 0
        self._acked = 0
        self._acked_bytes = 0
        self.job_started_at = 0.0
        self.last_acked_line = 0
        # the last file line the firmware will execute if the host vanished now: every line written
        # is executed, unless a resend request made the firmware drop it (see device_io.journal)
        self.sent_through_line = 0

    # -- what goes out ---------------------------------------------------------------------------

    def take_output(self) -> bytes:
        data, self._output = b"".join(self._output), []
        return data

    def take_effects(self) -> list:
        effects, self._effects = self._effects, []
        return effects

    def restart_numbering(self, now: float) -> None:
        """After the handshake's M110 N0: the next line is N1, nothing is in flight."""
        self._next_number = 1
        self._history.clear()
        self._in_flight.clear()
        self._after_resend = False
        self._reply_buffer = []
        self._last_progress = now

    @property
    def last_number(self) -> int:
        """The line number of the last line handed out (the highest in any output so far)."""
        return self._next_number - 1

    @property
    def busy(self) -> bool:
        """Lines in flight, queued, or a resend settling: a job cannot start yet."""
        return bool(self._in_flight or self._priority or self.settle_until is not None)

    def has_queued(self, prefix: str) -> bool:
        return any(entry.command.startswith(prefix) for entry in self._in_flight) or any(
            command.startswith(prefix) for command, _, _ in self._priority
        )

    def queue(self, command: str, kind: str = "command", waiter: Waiter | None = None) -> None:
        """Send `command` ahead of the job's lines (at the next `pump`)."""
        self._priority.append((command, kind, waiter))

    def begin_job(self, job: PrintJob, now: float) -> None:
        """Stream `job` (a `PrintJob.streamed_from(...)`). With nothing in flight, the line numbers
        are reset first (N0 M110, the job's first command is N1), so a resend request can never
        refer to the previous numbering."""
        if not self._in_flight and self.settle_until is None:
            self._history.clear()
            self._highest_acked = -1
            self._rx_blocked_below = 0
            self._next_number = 0
            self._send([self._new_line("M110 N0", "reset")], now)
        self.job = job
        self.job_paused = False
        self._job_cancelled = False
        self._next_index = 0
        self._acked = 0
        self._acked_bytes = 0
        self.job_started_at = now
        self.last_acked_line = 0
        self.sent_through_line = job.first_line - 1

    def cancel_job(self) -> None:
        """Send no more job lines (queued commands still go; the host queues the parking)."""
        if self.job is not None:
            self._next_index = len(self.job.commands)
            self._job_cancelled = True

    def end_job(self) -> None:
        self.job = None

    def pump(self, now: float) -> None:
        """Send as many lines as the window allows."""
        if self.failed or self.settle_until is not None:
            return
        batch: list[SentLine] = []
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
            elif lines >= self.window:
                break
            entry = self._next_line()
            if entry is None:
                break
            bytes_in_flight += len(entry.data)
            batch.append(entry)
        if batch:
            self._send(batch, now)

    def _new_line(self, command: str, kind: str, job_index: int | None = None, waiter=None) -> SentLine:
        number = self._next_number
        self._next_number += 1
        entry = SentLine(
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

    def _sending_job(self) -> bool:
        return self.job is not None and not self.job_paused and self._next_index < len(self.job.commands)

    def _next_line(self) -> SentLine | None:
        if self._resend_queue:
            return self._resend_queue.popleft()
        if self._priority:
            command, kind, waiter = self._priority.popleft()
            return self._new_line(command, kind, None, waiter)
        if self._sending_job():
            index = self._next_index
            self._next_index += 1
            return self._new_line(self.job.commands[index], "job", index)
        return None

    def _next_size(self) -> int | None:
        """Bytes the next line will take on the wire (an upper bound), None if nothing is waiting."""
        if self._resend_queue:
            return len(self._resend_queue[0].data)
        if self._priority:
            command = self._priority[0][0]
        elif self._sending_job():
            command = self.job.commands[self._next_index]
        else:
            return None
        return len(command) + len(str(self._next_number)) + 7  # "N<n> " + "*<checksum>" + newline

    def _send(self, batch: list[SentLine], now: float) -> None:
        if not self._in_flight:
            self._last_progress = now  # the timeout counts from the first line in flight
        self._in_flight.extend(batch)
        for entry in batch:
            if entry.kind != "job" or self.log_job_lines:
                self._log("send", f"N{entry.number} {entry.command}", "job" if entry.kind == "job" else "command")
        self._output.extend(entry.data for entry in batch)
        job = self.job
        if job is not None:
            for entry in reversed(batch):
                if entry.kind == "job" and entry.job_index >= job.preamble:
                    self.sent_through_line = job.file_lines[entry.job_index]
                    break

    # -- what comes in ---------------------------------------------------------------------------

    def line_received(self) -> bool:
        """Call once per received line, before its events: True if this line directly follows a
        resend request (its `ok` belongs to the request, not to a line)."""
        after_resend, self._after_resend = self._after_resend, False
        return after_resend

    def on_alive(self, now: float, answered: bool = False) -> None:
        """The firmware printed something that proves it works (busy, a resend request; with
        `answered`, an `ok` that acknowledges no line of ours, which also ends a timeout series)."""
        self._last_progress = now
        if answered:
            self._timeout_count = 0

    def on_temperature(self, now: float) -> None:
        if any(entry.heat_wait for entry in self._in_flight):
            self._last_progress = now  # heating waits print temperatures instead of busy

    def add_reply(self, line: str, temperature: bool = False) -> None:
        """Keep a data line for the waiter of the command its `ok` will acknowledge."""
        if temperature and not (self._in_flight and self._in_flight[0].command.startswith("M105")):
            return  # an auto-report, not an answer
        if len(self._reply_buffer) < 200:
            self._reply_buffer.append(line)

    def on_ok(self, ok: Ok, line: str, events: list, now: float) -> str | None:
        """An `ok` (not the one of a resend request). Returns "quiet" if the console need not show it."""
        self._last_progress = now
        self._timeout_count = 0
        if not self._in_flight:
            if self._resend_queue and self.settle_until is None:
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

    def _acknowledged(self, entry: SentLine, ok: Ok, replies: list) -> None:
        entry.acked = True
        if entry.number > self._highest_acked:
            self._highest_acked = entry.number
        if self._last_resend is not None and entry.number >= self._last_resend:
            self._identical_resends = 0
        if entry.waiter is not None:
            entry.waiter.resolve(replies, ok)
        if entry.kind in MARKER_KINDS:
            self._effects.append(MarkerAcknowledged(entry.kind))
        job = self.job
        if job is None or entry.kind != "job":
            return
        self._acked += 1
        index = entry.job_index
        if index >= job.preamble:
            self._acked_bytes += job.sizes[index]
            self.last_acked_line = job.file_lines[index]
        self._check_job_done()

    def _check_job_done(self) -> None:
        """Done when every job line was sent and none is waiting for an ok or a resend. (The
        acknowledged count can only lag the printer, never run ahead, so this is the safe test.)"""
        job = self.job
        if job is None or self._job_cancelled or self._next_index < len(job.commands):
            return
        if self.settle_until is not None:
            return
        if any(entry.kind == "job" for entry in self._in_flight) or any(
            entry.kind == "job" for entry in self._resend_queue
        ):
            return
        self._acked = len(job.commands)
        self._acked_bytes = job.job_bytes
        self.last_acked_line = job.file_lines[-1]
        self._effects.append(JobDone())

    def on_resend(self, number: int, now: float) -> None:
        self._after_resend = True
        self._last_progress = now
        if self.settle_until is not None:
            self._resend_target = number  # more answers of stale lines: keep draining
            self.settle_until = now + self.resend_settle_s
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
        self._rewind_sent_through(number)
        # Stale copies of dropped lines may still sit in the firmware's receive buffer, uncounted:
        # no sending into that buffer until a line first sent after now is acknowledged (the
        # firmware reads in order, so by then it has read past every stale copy).
        self._rx_blocked_below = self._next_number
        self.resends += 1
        if self.resend_settle_s > 0:
            self.settle_until = now + self.resend_settle_s
        else:
            self._start_resend()

    def _rewind_sent_through(self, number: int) -> None:
        """The firmware dropped every line from `number` on: it will execute the file only up to
        the last job line numbered below it."""
        job = self.job
        if job is None:
            return
        line = job.first_line - 1
        for entry in reversed(self._history):
            if entry.number < number and entry.kind == "job" and entry.job_index >= job.preamble:
                line = job.file_lines[entry.job_index]
                break
        self.sent_through_line = min(self.sent_through_line, line)

    def _start_resend(self) -> None:
        number = self._resend_target
        self.settle_until = None
        self._in_flight = self._awaiting_ok(number)
        self._resend_queue = deque(entry for entry in self._history if entry.number >= number)

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

    # -- time ------------------------------------------------------------------------------------

    def tick(self, now: float, *, check_timeout: bool = True) -> None:
        """Resend once a request has settled; a timeout sends a keepalive probe, or fails."""
        if self.settle_until is not None and now >= self.settle_until:
            self._start_resend()
            self.pump(now)
        if check_timeout:
            self._check_timeout(now)

    def next_wake(self, now: float, idle_s: float = 0.05) -> float:
        """Seconds until `tick` has something to do (at most `idle_s`)."""
        return idle_s if self.settle_until is None else max(min(self.settle_until - now, idle_s), 0.001)

    def _check_timeout(self, now: float) -> None:
        if self.failed or not self._in_flight or now - self._last_progress < self.comm_timeout_s:
            return
        self._timeout_count += 1
        self.timeouts += 1
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
        self._log("send", f"timeout after {self.comm_timeout_s:g} s: probing with M105", "error")
        self._send([self._new_line("M105", "probe")], now)

    # -- failure ---------------------------------------------------------------------------------

    def _fail(self, message: str) -> None:
        if not self.failed:
            self.failed = True
            self._effects.append(Failed(message))

    def stop(self, message: str) -> None:
        """Stop sending (the host failed or disconnected): queues dropped, waiters released."""
        self.failed = True
        for entry in list(self._in_flight) + list(self._history):
            if entry.waiter is not None:
                entry.waiter.fail(message)
        for _, _, waiter in self._priority:
            if waiter is not None:
                waiter.fail(message)
        self._in_flight.clear()
        self._priority.clear()
        self._resend_queue.clear()
        self.settle_until = None

    # -- progress --------------------------------------------------------------------------------

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def progress(self, now: float) -> dict:
        """The running job's lines_acked, lines_total, bytes_acked, bytes_total, elapsed_s, eta_s,
        percent, last_acked_line and name."""
        job = self.job
        elapsed = now - self.job_started_at
        total = job.job_bytes
        fraction = self._acked_bytes / total if total else 1.0
        return {
            "lines_acked": max(self._acked - job.preamble, 0),
            "lines_total": len(job.commands) - job.preamble,
            "bytes_acked": self._acked_bytes,
            "bytes_total": total,
            "elapsed_s": elapsed,
            "eta_s": elapsed * (1 - fraction) / fraction if fraction > 0 else None,
            "percent": 100.0 * fraction,
            "last_acked_line": self.last_acked_line,
            "name": job.name,
        }
