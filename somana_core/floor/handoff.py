"""Handing a G-code file to a station over the bus without holding it in memory at either end.

The sender (the web process, `Fleet.send_file`) reads the file CHUNK_BYTES at a time and publishes
each piece as a numbered `chunk` command on the printer's command topic, at most WINDOW_CHUNKS
unacknowledged by the broker at once; then the `start` command names the transfer with the file's
size, chunk count and SHA-256. The station (`Incoming`) writes each chunk to a partial file as it
arrives (on the bus thread: one write of at most CHUNK_BYTES) and hashes it on the way; `take`
gives the finished file only if every chunk came, in order, and the size and checksum match what
the sender announced. Anything else is refused with a message that says what is missing or wrong,
and the partial file is deleted: a printer never sees a partial or corrupt file.

Why chunks on the bus rather than the station fetching the file by URL from the web host: a station
may run on another machine (`somana station --broker mqtt://HOST` on a floor PC), and the broker is
the one connection every station already has and is already allowed to make. A URL would need the
web host reachable from the floor PC by a name the web process knows (it does not: it only sees the
browser's Host header, which may be a proxy's), its port open to the floor, and a second way in
(one-time tokens) to guard. Commands and chunks share one topic, so MQTT's per-topic ordering
delivers every chunk before the `start` that names them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable

from somana_core.errors import InputError

CHUNK_BYTES = 512 * 1024  # one bus message carries this much of the file (base64: 683 KB)
WINDOW_CHUNKS = 4         # chunks the sender lets wait for the broker's acknowledgement at once
ACK_TIMEOUT_S = 30.0      # a broker that acknowledges nothing for this long: the hand-off fails
STALE_AFTER_S = 600.0     # a transfer with no chunk and no start for this long is deleted
MAX_OPEN_TRANSFERS = 4    # per station; a fifth new one is refused (the oldest is not dropped)
_ID = re.compile(r"[0-9a-f]{32}")


def megabytes(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:.1f} MB"


# --------------------------------------------------------------------------- sending (web process)

def send_file(publish: Callable[[dict], object], path: str | Path, new_chunk: Callable[..., dict],
              chunk_bytes: int = CHUNK_BYTES, window: int = WINDOW_CHUNKS,
              progress: Callable[[int, int], None] | None = None) -> dict:
    """Publish `path` in chunks; returns the transfer's description for the `start` command
    ({"id", "size", "chunks", "sha256"}). `publish(message)` queues one bus message and returns
    paho's MQTTMessageInfo; `new_chunk(**fields)` makes the command message (floor.bus.new_command).
    Memory held: about `window` chunks, whatever the file's size."""
    path = Path(path)
    size = path.stat().st_size
    total = max(1, -(-size // chunk_bytes))
    transfer = uuid.uuid4().hex
    digest = hashlib.sha256()
    in_flight: list = []
    sent = 0
    with path.open("rb") as handle:
        for seq in range(total):
            data = handle.read(chunk_bytes)
            digest.update(data)
            sent += len(data)
            info = publish(new_chunk("chunk", upload=transfer, seq=seq, of=total,
                                     data=base64.b64encode(data).decode("ascii")))
            del data
            in_flight.append(info)
            if len(in_flight) >= window:
                _acknowledged(in_flight.pop(0))
            if progress is not None:
                progress(sent, size)
    for info in in_flight:
        _acknowledged(info)
    if sent != size:
        raise OSError(f"{path.name} changed while it was sent ({sent} of {size} bytes read)")
    return {"id": transfer, "size": size, "chunks": total, "sha256": digest.hexdigest()}


def _acknowledged(info) -> None:
    if info is None or not hasattr(info, "wait_for_publish"):
        return
    info.wait_for_publish(ACK_TIMEOUT_S)
    if not info.is_published():
        raise OSError(f"the broker did not take a chunk within {ACK_TIMEOUT_S:g} s")


# --------------------------------------------------------------------------- receiving (station)

@dataclass
class _Transfer:
    path: Path
    handle: BinaryIO | None
    started_at: float
    last_at: float
    next_seq: int = 0
    size: int = 0
    digest: "hashlib._Hash" = field(default_factory=hashlib.sha256)
    problem: str = ""  # set once: the rest of this transfer is ignored


class Incoming:
    """The station's side: chunks to partial files in `folder`, checked files handed to `take`."""

    def __init__(self, folder: str | Path, max_bytes: int, clock: Callable[[], float] = time.monotonic):
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self._clock = clock
        self._transfers: dict[str, _Transfer] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        """Delete partial files left by an earlier run (their senders are long gone)."""
        with self._lock:
            for transfer in self._transfers.values():
                self._close(transfer, delete=True)
            self._transfers.clear()
        if self.folder.is_dir():
            for leftover in self.folder.glob("*.part"):
                leftover.unlink(missing_ok=True)

    def receive(self, message: dict) -> None:
        """One `chunk` command (called on the bus thread: one decode and one write, nothing waits)."""
        transfer_id = str(message.get("upload", ""))
        if not _ID.fullmatch(transfer_id):
            return  # not ours to answer: a chunk without a transfer cannot be started either
        now = self._clock()
        with self._lock:
            self._drop_stale(now)
            transfer = self._transfers.get(transfer_id)
            if transfer is None:
                if len(self._transfers) >= MAX_OPEN_TRANSFERS:
                    transfer = self._transfers[transfer_id] = _Transfer(self.folder / f"{transfer_id}.part", None,
                                                                        now, now)
                    transfer.problem = (f"the station was already receiving {MAX_OPEN_TRANSFERS} files; "
                                        "wait for them to start")
                    return
                self.folder.mkdir(parents=True, exist_ok=True)
                path = self.folder / f"{transfer_id}.part"
                transfer = self._transfers[transfer_id] = _Transfer(path, path.open("wb"), now, now)
            transfer.last_at = now
            if transfer.problem:
                return
            seq = message.get("seq")
            if not isinstance(seq, int) or isinstance(seq, bool) or seq != transfer.next_seq:
                self._fail(transfer, f"piece {transfer.next_seq + 1} never arrived (piece {_shown(seq)} came next)")
                return
            try:
                data = base64.b64decode(str(message.get("data", "")), validate=True)
            except (binascii.Error, ValueError):
                self._fail(transfer, f"piece {seq + 1} arrived damaged (not base64)")
                return
            if transfer.size + len(data) > self.max_bytes:
                self._fail(transfer, f"it is larger than {megabytes(self.max_bytes)}, the most a station takes")
                return
            try:
                transfer.handle.write(data)
            except OSError as exc:
                self._fail(transfer, f"the station could not write it: {exc.strerror or exc}")
                return
            transfer.digest.update(data)
            transfer.size += len(data)
            transfer.next_seq += 1

    def take(self, upload, name: str) -> Path:
        """The complete, checked file of transfer `upload` ({"id", "size", "chunks", "sha256"}, as
        `send_file` returned it); the caller moves it where it wants. Refuses (InputError, the partial
        file deleted) a transfer that is unknown, incomplete, of another size or another checksum."""
        if not isinstance(upload, dict):
            raise InputError("upload", f"{name}: upload must describe the transfer (id, size, chunks, sha256)")
        transfer_id, sha256 = str(upload.get("id", "")), str(upload.get("sha256", "")).lower()
        size, chunks = upload.get("size"), upload.get("chunks")
        if not _ID.fullmatch(transfer_id) or not re.fullmatch(r"[0-9a-f]{64}", sha256) or \
                not isinstance(size, int) or not isinstance(chunks, int) or size < 0 or chunks < 1:
            raise InputError("upload", f"{name}: upload needs id (32 hex digits), size, chunks and sha256 "
                                       "(64 hex digits)")
        with self._lock:
            transfer = self._transfers.pop(transfer_id, None)
        refused = f"{name} was not printed: "
        if transfer is None:
            raise InputError("upload", refused + "none of it reached the station; send it again")
        self._close(transfer, delete=False)
        problem = transfer.problem
        if problem:
            pass
        elif transfer.next_seq < chunks:
            problem = (f"it arrived incomplete ({transfer.next_seq} of {chunks} pieces, "
                       f"{megabytes(transfer.size)} of {megabytes(size)})")
        elif transfer.next_seq > chunks or transfer.size != size:
            problem = f"it arrived with {transfer.size} bytes where the sender sent {size}"
        elif transfer.digest.hexdigest() != sha256:
            problem = "it arrived corrupt (its SHA-256 checksum is not the sender's)"
        if problem:
            transfer.path.unlink(missing_ok=True)
            raise InputError("upload", refused + problem + "; send it again")
        return transfer.path

    def discard(self, upload) -> None:
        """Forget transfer `upload` (a start that was refused for another reason) and delete its file."""
        transfer_id = str(upload.get("id", "")) if isinstance(upload, dict) else ""
        with self._lock:
            transfer = self._transfers.pop(transfer_id, None)
            if transfer is not None:
                self._close(transfer, delete=True)

    # -- inside the lock
    def _fail(self, transfer: _Transfer, problem: str) -> None:
        transfer.problem = problem
        self._close(transfer, delete=True)

    @staticmethod
    def _close(transfer: _Transfer, delete: bool) -> None:
        if transfer.handle is not None:
            transfer.handle.close()
            transfer.handle = None
        if delete:
            transfer.path.unlink(missing_ok=True)

    def _drop_stale(self, now: float) -> None:
        for transfer_id, transfer in list(self._transfers.items()):
            if now - transfer.last_at > STALE_AFTER_S:
                self._close(transfer, delete=True)
                del self._transfers[transfer_id]


def _shown(value) -> str:
    return str(value + 1) if isinstance(value, int) and not isinstance(value, bool) else repr(value)[:20]
