"""The sent-line journal of a running job: which file line the printer will have executed if the
host dies now (SIGKILL, a crash, a pulled plug), so a restart repeats no line and skips none.

Why lines SENT, not lines acknowledged: every line written to the port sits in the firmware's
receive or command buffer and is executed even when the host is gone (the firmware does not know
it is); their `ok`s are simply never read. Restarting after the last acknowledged line would print
those lines twice. The exception is a resend request (a corrupted line): the firmware drops every
line from the requested one on, so the host rewinds the journal to the line before it.

The file is append-only, two ASCII records per write to the port, both with the GIL held
(`write_all`), so no other thread runs in between:
- before the bytes, the intent `?<before> <after> <N>\\n`: if these bytes reach the printer it will
  execute the file through line `after`, the last of them carrying line number N; if they do not,
  through `before`;
- after the bytes, the confirmation `<after>\\n` (0 = nothing of the file yet).
A kill can still land between the two (microseconds, but it happened once in a CI run of about a
thousand kills' worth of writes): the tail is then an intent, and only the printer knows whether
the bytes went out. Marlin tells: a numbered line out of sequence is answered
`Error:Line Number is not Last Line Number+1, Last Line: <N>`, the last line it received. The
host asks that before its handshake resets the numbering (`PrinterHost.connect(probe_line_number=
True)`), and `JournalTail.resolve(last_n)` picks `after` if the printer got line N, else `before`.
Without an answer (a board that reset when the port was reopened) it is `before`.

A process that is killed loses nothing already appended (the page cache outlives it); `sync()`
(fsync) guards against a power cut and is called by the owner at sensible bounds (about once a
second, and at the job's start and end), never on the streaming path, which it would stall.
Reading takes the last complete record.

Known limit: a board that resets when the port is reopened (DTR) loses whatever it had not executed
yet, which no host can see.
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass
from pathlib import Path

TAIL_BYTES = 64

# libc's write(2) called with the GIL HELD (ctypes.PyDLL keeps it; os.write releases it): the port
# write and the journal record that follows it run back to back in this thread, with no chance
# for another thread to run in between and stretch the window a kill can land in from
# microseconds to a scheduler's time slice. None where there is no libc (then os.write).
try:
    gil_held_write = ctypes.PyDLL(None).write
    gil_held_write.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t)
    gil_held_write.restype = ctypes.c_ssize_t
except (OSError, AttributeError):  # pragma: no cover - not a POSIX libc
    gil_held_write = None


def write_all(fd: int, data: bytes) -> int:
    """Write to a file or port with the GIL held; returns the bytes written (may be fewer, or -1)."""
    if gil_held_write is None:
        return os.write(fd, data)
    return gil_held_write(fd, data, len(data))


class SentLineJournal:
    """Append-only record of the last file line handed to the printer (see the module docstring)."""

    def __init__(self, path: str | os.PathLike, start_line: int = 0):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
        self.line = -1
        self.record(start_line)
        self.sync()

    def intend(self, before: int, after: int, number: int) -> None:
        """About to write lines through file line `after`, the last numbered `number` (see the module docstring)."""
        if self._fd >= 0:
            self._append(b"?%d %d %d\n" % (before, after, number))

    def record(self, line: int) -> None:
        """The printer will execute the file up to `line` (inclusive). One os.write, no fsync."""
        if line != self.line and self._fd >= 0:
            self.line = line
            self._append(b"%d\n" % line)

    def _append(self, record: bytes) -> None:
        if write_all(self._fd, record) != len(record):
            os.write(self._fd, record)  # interrupted or short: the plain call retries

    def sync(self) -> None:
        """fsync: the records survive a power cut too (slow: call it off the streaming path)."""
        fd = self._fd
        if fd >= 0:
            try:
                os.fsync(fd)
            except OSError:
                pass

    def close(self) -> None:
        fd, self._fd = self._fd, -1
        if fd >= 0:
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


@dataclass(frozen=True)
class JournalTail:
    """The last complete record: `line` confirmed sent, or an unconfirmed write of the lines after
    it through `pending_line`, whose last line carries printer line number `pending_number`."""

    line: int
    pending_line: int | None = None
    pending_number: int | None = None

    def resolve(self, printer_last_number: int | None) -> int:
        """The file line the printer will have executed, given the last line number it reports received."""
        if self.pending_line is None or printer_last_number is None:
            return self.line
        return self.pending_line if printer_last_number >= self.pending_number else self.line


def read_journal(path: str | os.PathLike) -> JournalTail | None:
    """The tail of a journal file, or None (missing, empty or unreadable)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - TAIL_BYTES))
            tail = handle.read()
    except OSError:
        return None
    records = tail.split(b"\n")[:-1]  # the part after the last newline may be a torn record
    for record in reversed(records):
        record = record.strip()
        if record.isdigit():
            return JournalTail(int(record))
        fields = record[1:].split() if record.startswith(b"?") else []
        if len(fields) == 3 and all(field.isdigit() for field in fields):
            before, after, number = (int(field) for field in fields)
            return JournalTail(before, after, number)
    return None


def read_sent_line(path: str | os.PathLike) -> int | None:
    """The file line the printer executes for sure, or None: an unconfirmed write counts as not sent
    (`read_journal` tells the two apart)."""
    tail = read_journal(path)
    return None if tail is None else tail.line
