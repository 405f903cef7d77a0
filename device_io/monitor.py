"""The host's monitor thread: it collects a frozen `HostSnapshot` (a short visit under the host
lock, through the `collect` function it is given) and then, holding no lock at all, hands it to
param values, temperature callbacks and listeners, one call at a time, each call isolated (an
exception is logged and the others still run). It runs only while it has something to watch.

Lock order: a thread holding the host lock may ask for a publication (`request`); the monitor
takes its own lock and the host lock one after the other, never together.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

from device_io.state import HostSnapshot

log = logging.getLogger(__name__)

Listener = Callable[[HostSnapshot], None]


@dataclass(frozen=True)
class Publication:
    """What one visit under the host lock collected."""

    snapshot: HostSnapshot
    param_values: dict
    temperature_samples: tuple  # (time.monotonic(), {heater: (actual °C, target °C)}) since the last one
    keep_running: bool  # False once the host is disconnected: the thread may end


class Monitor:
    def __init__(
        self,
        name: str,
        collect: Callable[[], Publication],
        apply_params: Callable[[dict], None],
        interval_s: float = 0.1,
        wait_s: float = 2.0,
    ):
        self.name = name
        self.interval_s = interval_s
        self.wait_s = wait_s
        self._collect = collect
        self._apply_params = apply_params
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._requested = 0
        self._published = 0
        self._listeners: list[Listener] = []
        self._new_listeners: list[Listener] = []
        self._temperature_callbacks: list[Callable] = []
        self._last: HostSnapshot | None = None
        self._sequence = 0

    @property
    def sequence(self) -> int:
        return self._sequence

    # -- subscribers -------------------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)
            self._new_listeners.append(listener)
        self.request()

        def remove() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return remove

    def on_temperature(self, callback: Callable[[float, dict], None]) -> Callable[[], None]:
        with self._lock:
            self._temperature_callbacks.append(callback)

        def remove() -> None:
            with self._lock:
                if callback in self._temperature_callbacks:
                    self._temperature_callbacks.remove(callback)

        return remove

    # -- publishing --------------------------------------------------------------------------------

    def request(self) -> int:
        """Publish soon. Never blocks (callers may hold the host lock). Returns a ticket for `wait`."""
        with self._lock:
            self._requested += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=f"monitor {self.name}", daemon=True)
                self._thread.start()
            self._cond.notify_all()
            return self._requested

    def sync(self) -> None:
        """Publish and wait until it is done (never call it holding the host lock). On the
        monitor thread itself (a listener calling the host) it returns at once; a listener that
        hangs delays the caller by at most `wait_s`."""
        timeout_s = self.wait_s
        ticket = self.request()
        if threading.current_thread() is self._thread:
            return
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while self._published < ticket and self._thread is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    log.warning("%s: listeners still busy after %g s", self.name, timeout_s)
                    return
                self._cond.wait(remaining)

    def _run(self) -> None:
        while True:
            with self._lock:
                if self._published >= self._requested:
                    self._cond.wait(self.interval_s)
                ticket = self._requested
            keep_running = True
            try:
                keep_running = self._publish_once()
            except Exception:  # noqa: BLE001 - the monitor must outlive any bug
                log.exception("%s: publishing failed", self.name)
            with self._lock:
                self._published = max(self._published, ticket)
                self._cond.notify_all()
                if not keep_running and self._published >= self._requested and not self._new_listeners:
                    self._thread = None  # the next request starts a new thread
                    return

    def _publish_once(self) -> bool:
        publication = self._collect()  # the only moment the host lock is taken
        with self._lock:
            listeners, fresh = list(self._listeners), self._new_listeners
            self._new_listeners = []
            temperature_callbacks = list(self._temperature_callbacks)
        isolated(self.name, self._apply_params, publication.param_values)
        for sample in publication.temperature_samples:
            for callback in temperature_callbacks:
                isolated(self.name, callback, *sample)
        snapshot = publication.snapshot
        if snapshot.same_view(self._last):
            snapshot, targets = self._last, [listener for listener in listeners if listener in fresh]
        else:
            self._sequence += 1
            snapshot = dataclasses.replace(snapshot, sequence=self._sequence)
            self._last, targets = snapshot, listeners
        for listener in targets:
            isolated(self.name, listener, snapshot)
        return publication.keep_running


def isolated(name: str, callback: Callable, *args) -> None:
    try:
        callback(*args)
    except Exception:  # noqa: BLE001 - one view's bug must not stop the job or the other views
        log.exception("%s: %r failed", name, callback)
