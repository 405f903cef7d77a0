"""The floor as seen from the bus: every printer of every station, for /machines and `somana printers`.

`Fleet` subscribes to the stations' status, printer states and events and keeps, per printer
("STATION/PRINTER"), the latest state, whether its station is online, the console lines and a
temperature history; it sends commands and emergency stops. Messages arrive on paho's thread;
readers take copies (`printers()`, `log()`, `temperatures()`), so no UI ever waits on the bus.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable

from somana_core.errors import InputError
from somana_core.floor import bus as floor_bus

LOG_LINES = 300
TEMPERATURE_HISTORY_S = 600.0
OFFLINE = "offline"


class Fleet:
    """A watcher of the whole floor. `start()` connects; `printers()` is a snapshot."""

    def __init__(self, broker_url: str, client_id: str | None = None):
        self.broker_url = broker_url
        self._bus = floor_bus.Bus(broker_url, client_id=client_id)
        self._lock = threading.Lock()
        self._stations: dict[str, dict] = {}
        self._states: dict[str, dict] = {}
        self._received_at: dict[str, float] = {}
        self._logs: dict[str, deque] = {}
        self._temperatures: dict[str, deque] = {}
        self._replies: dict[str, dict] = {}
        self._listeners: list[Callable[[str, dict], None]] = []
        self.version = 0  # increases with every message: a cheap "anything new?" for pollers

    def start(self, timeout_s: float = 5.0) -> "Fleet":
        self._bus.subscribe(f"{floor_bus.ROOT}/+/status", self._on_status)
        self._bus.subscribe(f"{floor_bus.ROOT}/+/+/state", self._on_state)
        self._bus.subscribe(f"{floor_bus.ROOT}/+/+/event", self._on_event)
        self._bus.connect(timeout_s)
        return self

    def close(self) -> None:
        self._bus.close()

    @property
    def connected(self) -> bool:
        return self._bus.connected

    def on_event(self, callback: Callable[[str, dict], None]) -> Callable[[], None]:
        """`callback(key, event)` for every printer event (bus thread: keep it short)."""
        with self._lock:
            self._listeners.append(callback)

        def remove():
            with self._lock:
                if callback in self._listeners:
                    self._listeners.remove(callback)
        return remove

    # -- incoming
    def _on_status(self, topic: str, payload: dict | None, retained: bool) -> None:
        station, _, _ = floor_bus.split_topic(topic)
        with self._lock:
            if payload is None:
                self._stations.pop(station, None)
            else:
                self._stations[station] = payload
            self.version += 1

    def _on_state(self, topic: str, payload: dict | None, retained: bool) -> None:
        station, printer, _ = floor_bus.split_topic(topic)
        key = f"{station}/{printer}"
        now = time.time()
        with self._lock:
            if payload is None:
                self._states.pop(key, None)
                self.version += 1
                return
            self._states[key] = payload
            self._received_at[key] = now
            temps = payload.get("temperatures") or {}
            if temps and not retained:
                history = self._temperatures.setdefault(key, deque())
                sample_time = float(payload.get("time") or now)
                if not history or sample_time > history[-1][0]:
                    history.append((sample_time, temps))
                while history and history[0][0] < sample_time - TEMPERATURE_HISTORY_S:
                    history.popleft()
            self.version += 1

    def _on_event(self, topic: str, payload: dict | None, retained: bool) -> None:
        if not payload:
            return
        station, printer, _ = floor_bus.split_topic(topic)
        key = f"{station}/{printer}"
        with self._lock:
            if payload.get("kind") == "log":
                self._logs.setdefault(key, deque(maxlen=LOG_LINES)).extend(payload.get("entries") or [])
            elif payload.get("kind") == "reply" and payload.get("id"):
                self._replies[payload["id"]] = payload
                if len(self._replies) > 500:
                    self._replies.pop(next(iter(self._replies)))
            listeners = list(self._listeners)
            self.version += 1
        for listener in listeners:
            try:
                listener(key, payload)
            except Exception as exc:  # noqa: BLE001 - a closed browser session must not stop the bus
                print(f"somana fleet: event listener failed: {exc!r}", flush=True)

    # -- reading
    def printers(self) -> dict[str, dict]:
        """key -> the printer's last state, plus `online` (its station is up) and `shown_state`
        ("offline" when the station is not)."""
        with self._lock:
            stations = dict(self._stations)
            states = dict(self._states)
        result = {}
        for key, state in sorted(states.items()):
            station = stations.get(state.get("station") or key.split("/")[0]) or {}
            online = bool(station.get("online"))
            result[key] = {**state, "key": key, "online": online,
                           "shown_state": state.get("state") if online else OFFLINE}
        return result

    def stations(self) -> dict[str, dict]:
        with self._lock:
            return dict(self._stations)

    def log(self, key: str) -> list:
        with self._lock:
            return list(self._logs.get(key, ()))

    def temperatures(self, key: str) -> list[tuple[float, dict]]:
        """(wall-clock time, {"nozzle": [actual, target], "bed": [...]}) samples of the last 10 minutes."""
        with self._lock:
            return list(self._temperatures.get(key, ()))

    def reply(self, command_id: str) -> dict | None:
        with self._lock:
            return self._replies.get(command_id)

    def resolve(self, printer: str) -> str:
        """'STATION/PRINTER' or a printer name unique on the floor -> its key (InputError otherwise)."""
        keys = list(self.printers())
        if printer in keys:
            return printer
        matches = [k for k in keys if k.split("/", 1)[1] == printer]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise InputError("printer", f"printer={printer!r} is on several stations: use one of {', '.join(matches)}")
        raise InputError("printer", f"printer={printer!r} is not on the bus (known: {', '.join(keys) or 'none'})")

    # -- outgoing
    def command(self, key: str, action: str, **fields) -> str:
        """Send a command to a printer ('STATION/PRINTER'); returns its id (see `reply`)."""
        station, _, printer = key.partition("/")
        message = floor_bus.new_command(action, **fields)
        self._bus.publish(floor_bus.printer_topic(station, printer, "cmd"), message)
        return message["id"]

    def send_file(self, key: str, path, progress=None) -> dict:
        """Send a file to a printer's station in chunks (floor.handoff: never the whole file in memory);
        returns the transfer for `command(key, "start", upload=..., name=...)`."""
        from somana_core.floor import handoff

        station, _, printer = key.partition("/")
        topic = floor_bus.printer_topic(station, printer, "cmd")
        return handoff.send_file(lambda message: self._bus.publish(topic, message), path, floor_bus.new_command,
                                 progress=progress)

    def wait_reply(self, command_id: str, timeout_s: float = 10.0) -> dict | None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            reply = self.reply(command_id)
            if reply is not None:
                return reply
            time.sleep(0.01)
        return None

    def estop(self, printer: str = "*", wait_s: float = 0.0, press_id: str | None = None) -> str:
        """Emergency stop on the fast path: one message every station acts on at once. With
        `wait_s`, wait (at most that long) until the broker has it (before a short-lived client closes).
        `press_id`: the id of the press, shared by its copies sent on other paths (stations act once)."""
        message = {"printer": printer, "id": press_id or floor_bus.new_command("estop")["id"], "sent_at": time.time()}
        info = self._bus.publish(floor_bus.ESTOP_TOPIC, message)
        if wait_s > 0:
            info.wait_for_publish(wait_s)
        return message["id"]
