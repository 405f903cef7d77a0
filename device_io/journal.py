"""The sent-line journal of a running job: which file line the printer will have executed if the
host dies now (SIGKILL, a crash, a pulled plug), so a restart repeats no line and skips none.

Why lines SENT, not lines acknowledged: every line written to the port sits in the firmware's
receive or command buffer and is executed even when the host is gone (the firmware does not know
it is); their `ok`s are simply never read. Restarting after the last acknowledged line would print
those lines twice. The exception is a resend request (a corrupted line): the firmware drops every
line from the requested one on, so the host rewinds the journal to the line before it.

The file is append-only, one ASCII record per write to the port: `<file line>\\n`, appended right
after the bytes went to the port, both with the GIL held (`write_all`), so nothing else runs in
between (0 = nothing of the file yet). A process that is killed loses nothing
already appended (the page cache outlives it); `sync()` (fsync) guards against a power cut and is
called by the owner at sensible bounds (about once a second, and at the job's start and end),
never on the streaming path, which it would stall. Reading takes the last complete record.

Known limits: a kill in the microseconds between the write to the port and the append repeats that
one write's lines (measured without the held GIL, a SIGKILL landed there in 2 of 8 runs: another
thread ran between the two calls); a board that resets when the port is reopened (DTR) loses whatever it had
not executed yet, which no host can see.
"""

from __future__ import annotations

import ctypes
import os
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

    def record(self, line: int) -> None:
        """The printer will execute the file up to `line` (inclusive). One os.write, no fsync."""
        if line != self.line and self._fd >= 0:
            self.line = line
            record = b"%d\n" % line
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


def read_sent_line(path: str | os.PathLike) -> int | None:
    """The last complete record of a journal file, or None (missing, empty or unreadable)."""
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
        if record.strip().isdigit():
            return int(record)
    return None
