"""Byte transport: one serial connection (any pyserial URL or device path) with its own reader thread.

`serial.serial_for_url` accepts a device path, `socket://host:port`, `rfc2217://` and `loop://`.
The port is opened exclusively (two owners of one printer is how prints get ruined).
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

import serial

from device_io.journal import write_all

# Standard rates a USB-serial printer board accepts (Marlin's BAUDRATE choices).
log = logging.getLogger(__name__)

STANDARD_BAUDRATES = (2400, 9600, 19200, 38400, 57600, 115200, 230400, 250000, 500000, 921600, 1000000)


class TransportClosed(ConnectionError):
    """Writing to a transport that is closed or whose device went away."""


class SerialTransport:
    """Lines in, lines out. `on_lines(list_of_str)` runs in the reader thread for each chunk read;
    `on_closed(exception)` runs once if the device goes away (not on a requested `close()`).
    Only a failed read means the device is gone: an exception raised by `on_lines` is logged and
    the reader goes on."""

    def __init__(
        self,
        url: str,
        baudrate: int = 115200,
        on_lines: Callable[[list[str]], None] | None = None,
        on_closed: Callable[[BaseException], None] | None = None,
        read_timeout_s: float = 0.2,
    ):
        self.url = url
        self.baudrate = baudrate
        self.on_lines = on_lines or (lambda lines: None)
        self.on_closed = on_closed or (lambda exc: None)
        self.read_timeout_s = read_timeout_s
        self._serial: serial.SerialBase | None = None
        self._write_lock = threading.Lock()
        self._reader: threading.Thread | None = None
        self._closing = False

    @property
    def is_open(self) -> bool:
        return self._serial is not None and self._serial.is_open and not self._closing

    def open(self) -> None:
        self._closing = False
        self._serial = serial.serial_for_url(
            self.url,
            baudrate=self.baudrate,
            timeout=self.read_timeout_s,
            write_timeout=10.0,
            exclusive=True,
        )
        self._reader = threading.Thread(target=self._read_loop, name=f"serial-reader {self.url}", daemon=True)
        self._reader.start()

    def write(self, data: bytes, then: Callable[[], None] | None = None) -> None:
        """Write all of `data`. `then()` runs once the bytes are with the operating system: on a
        device port (one with a file descriptor) the bytes are handed over with the GIL held and
        `then` runs at once, with no other thread in between (the job journal's record, see
        device_io.journal); what the kernel does not take at once, pyserial writes as usual."""
        port = self._serial
        if port is None or self._closing:
            raise TransportClosed(f"{self.url} is not open")
        with self._write_lock:
            try:
                rest = data
                fd = getattr(port, "fd", None)
                if isinstance(fd, int) and fd >= 0 and data:
                    written = write_all(fd, data)
                    rest = data[max(written, 0):]
                if rest:
                    port.write(rest)
            except (serial.SerialException, OSError, TypeError, AttributeError) as exc:
                raise TransportClosed(f"{self.url}: {exc}") from exc
            if then is not None:
                then()

    def close(self) -> None:
        self._closing = True
        port = self._serial
        if port is not None:
            try:
                if hasattr(port, "cancel_read"):
                    port.cancel_read()
            except Exception:  # noqa: BLE001 - closing must not fail on a half-dead port
                pass
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(timeout=2.0)
        if port is not None:
            try:
                port.close()
            except Exception:  # noqa: BLE001
                pass
        self._serial = None

    def _read_loop(self) -> None:
        port = self._serial
        pending = b""
        try:
            while not self._closing:
                data = port.read(port.in_waiting or 1)
                if not data:
                    continue
                pending += data
                if b"\n" not in pending:
                    continue
                *complete, pending = pending.split(b"\n")
                lines = [chunk.decode("ascii", "replace").strip("\r\x00 ") for chunk in complete]
                lines = [line for line in lines if line]
                if lines:
                    self._deliver(lines)
        except Exception as exc:  # noqa: BLE001 - any read failure means the device is gone
            if not self._closing:
                self._closing = True
                self.on_closed(exc)

    def _deliver(self, lines: list[str]) -> None:
        try:
            self.on_lines(lines)
        except Exception:  # noqa: BLE001 - the receiver's bug is not a lost connection
            log.exception("%s: handling received lines failed", self.url)
