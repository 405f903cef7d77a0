"""The floor's message bus: MQTT topic names, payloads and one small paho-mqtt client.

Stations own printers; everything else (the /machines app, `somana printers`, `somana estop`) talks
to them only through the broker (Mosquitto). Topic scheme, every payload UTF-8 JSON:

    somana/<station>/status           retained; {"station", "online", "pid", "printers", "time"}.
                                      The station's MQTT last will sets it to {"online": false}: a
                                      station that dies (even by SIGKILL) shows its printers offline
                                      once the broker notices (keepalive BUS_KEEPALIVE_S x 1.5).
    somana/<station>/<printer>/state  retained; the printer's snapshot (see station.Station.state_of):
                                      state, temperatures, job and progress, last acknowledged line,
                                      the interrupted job (restart line) and the job history.
    somana/<station>/<printer>/event  not retained; {"kind": ...}: "log" (console lines), "reply"
                                      (the answer to a command id), "job-ended", "estop".
    somana/<station>/<printer>/cmd    commands to the printer's station: {"action", "id", ...}; actions
                                      in COMMANDS (see station.Station for each one's fields).
    somana/estop                      {"printer": NAME | "STATION/PRINTER" | "*", "id", "sent_at"}:
                                      every station halts the matching printers at once, on the
                                      network thread (no discovery round trip: the e-stop fast path).

Names of stations and printers are NAME_PATTERN (no MQTT wildcards or slashes).

Who publishes what (subscribers such as the scheduler's live plan rely on these staying stable):
- `.../state`: `Station._publish_state` (the payload is `Station.state_of`), on every change and
  at least every HEARTBEAT_S; `.../status`: `Station.start`/`stop` and the last will.
- `.../event`: `Station._event`: "job-ended" from `Station._end_job` (the job record: name, order,
  outcome done|cancelled|interrupted|failed, reason, last_acked_line, ...), "spool-changed" from
  `Station._spool` (material, colour: the operator loaded another spool), "estop" from
  `Station.emergency_stop`, "reply" from `Station._reply`, "log" from `Station._publish_log`.
- `somana/estop`: `Fleet.estop`, `somana estop` and `scripts/somana-estop` (both run Mosquitto's own
  `mosquitto_pub`) and the browsers (MQTT.js over the broker's WebSocket, machine_control.ESTOP_JS).
- Browsers read `.../status` and `.../state` themselves over the broker's WebSocket listener as the
  read-only viewer (`local.LocalBroker`; dashboards/components/printer_status.py, with MQTT.js).
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
import uuid
from pathlib import Path
from typing import Callable
from urllib.parse import urlparse

from somana_core.errors import InputError

ROOT = "somana"
ESTOP_TOPIC = f"{ROOT}/estop"
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")  # a station's or printer's name
HOST_NAME = re.compile(r"[A-Za-z0-9._:%-]{1,253}")  # a broker host: a DNS name, IPv4 or IPv6 (no spaces or controls)
DEFAULT_BROKER = "mqtt://127.0.0.1:1883"
BROKER_ENV = "SOMANA_BROKER"  # `somana serve` sets it for its apps and station
BROKER_FILE = "broker.url"  # in state_dir(): the private broker of a running `somana serve`
BUS_KEEPALIVE_S = 2  # the broker declares a silent station dead after 1.5 x this
COMMANDS = ("connect", "disconnect", "start", "restart", "discard", "pause", "resume", "cancel", "estop",
            "temperature", "jog", "home", "console", "spool",
            "chunk")  # a piece of a file on its way to the station (floor.handoff); `start` names the file


def check_name(field: str, value: str) -> str:
    if not isinstance(value, str) or not NAME_PATTERN.fullmatch(value):
        raise InputError(field, f"{field}={value!r} must be 1-40 letters, digits, '_', '.' or '-' "
                                "(starting with a letter or digit)")
    return value


def status_topic(station: str) -> str:
    return f"{ROOT}/{station}/status"


def printer_topic(station: str, printer: str, kind: str) -> str:
    """kind: state, event or cmd."""
    return f"{ROOT}/{station}/{printer}/{kind}"


def split_topic(topic: str) -> tuple[str, str | None, str]:
    """'somana/a/p/state' -> ('a', 'p', 'state'); 'somana/a/status' -> ('a', None, 'status')."""
    parts = topic.split("/")
    if len(parts) == 4 and parts[0] == ROOT:
        return parts[1], parts[2], parts[3]
    if len(parts) == 3 and parts[0] == ROOT:
        return parts[1], None, parts[2]
    return "", None, ""


def parse_broker_url(url: str, field: str = "--broker") -> tuple[str, int]:
    """'mqtt://host:port' (or tcp://, or host:port) -> (host, port); port defaults to 1883."""
    text = (url or "").strip()
    if "://" not in text:
        text = "mqtt://" + text
    try:
        parsed = urlparse(text)
        port = parsed.port or 1883
    except ValueError:
        raise InputError(field, f"{field} {url!r} has a port outside 1-65535 (use mqtt://HOST:PORT)") from None
    if parsed.scheme not in ("mqtt", "tcp") or not parsed.hostname or not HOST_NAME.fullmatch(parsed.hostname):
        raise InputError(field, f"{field} {url!r} is not an MQTT broker URL (use mqtt://HOST:PORT)")
    return parsed.hostname, port


def resolve_broker(url: str | None = None) -> str:
    """The broker to use: the given URL, else $SOMANA_BROKER, else the private broker a running
    `somana serve` wrote into the state folder, else mqtt://127.0.0.1:1883."""
    if url:
        parse_broker_url(url)
        return url
    if os.environ.get(BROKER_ENV):
        return os.environ[BROKER_ENV]
    # state_dir()'s folder, read only: importing somana_core.data (pandas) costs `somana estop` 2 s
    path = Path(os.environ.get("SOMANA_HOME", Path.home() / ".somana")) / BROKER_FILE
    try:
        text = path.read_text().strip()
    except OSError:
        text = ""
    return text or DEFAULT_BROKER


def encode(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":"), default=str).encode("utf-8")


def decode(data: bytes) -> dict | None:
    try:
        value = json.loads(data.decode("utf-8")) if data else None
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


class BusError(RuntimeError):
    """The broker cannot be reached or refused us."""


class Bus:
    """One paho-mqtt connection (MQTT 3.1.1, its own network thread). Callbacks run on that thread:
    keep them short and never block in them."""

    def __init__(self, url: str, client_id: str | None = None, *, will: tuple[str, dict] | None = None,
                 keepalive_s: int = BUS_KEEPALIVE_S):
        import paho.mqtt.client as mqtt

        self.url = url
        self.host, self.port = parse_broker_url(url)
        self.client_id = client_id or f"somana-{uuid.uuid4().hex[:12]}"
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id,
                                   protocol=mqtt.MQTTv311, clean_session=True)
        if will is not None:
            self._client.will_set(will[0], encode(will[1]), qos=1, retain=True)
        self._keepalive_s = keepalive_s
        self._subscriptions: list[tuple[str, Callable]] = []
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self._refused = ""
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.reconnect_delay_set(min_delay=0.1, max_delay=2)

    # -- life cycle
    def connect(self, timeout_s: float = 5.0) -> "Bus":
        try:
            self._client.connect(self.host, self.port, keepalive=self._keepalive_s)
        except OSError as exc:
            raise BusError(f"cannot reach the broker at {self.url}: {exc}") from exc
        self._client.loop_start()
        if not self._connected.wait(timeout_s):
            self._client.loop_stop()
            raise BusError(f"the broker at {self.url} did not accept us within {timeout_s:g} s {self._refused}")
        return self

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def close(self) -> None:
        try:
            self._client.disconnect()
        finally:
            self._client.loop_stop()
            self._connected.clear()

    def _on_connect(self, client, userdata, flags, reason_code, properties=None):
        if getattr(reason_code, "is_failure", False):
            self._refused = f"(refused: {reason_code})"
            return
        with self._lock:
            subscriptions = list(self._subscriptions)
        for pattern, _ in subscriptions:  # again after every reconnect (clean session)
            client.subscribe(pattern, qos=1)
        self._connected.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties=None):
        self._connected.clear()

    def _on_message(self, client, userdata, message):
        payload = decode(message.payload)
        with self._lock:
            subscriptions = list(self._subscriptions)
        import paho.mqtt.client as mqtt

        for pattern, callback in subscriptions:
            if mqtt.topic_matches_sub(pattern, message.topic):
                try:
                    callback(message.topic, payload, message.retain)
                except Exception as exc:  # noqa: BLE001 - one bad handler must not stop the bus thread
                    print(f"somana bus: handler for {pattern} failed on {message.topic}: {exc!r}", flush=True)

    # -- messages
    def subscribe(self, pattern: str, callback: Callable[[str, dict | None, bool], None]) -> None:
        """`callback(topic, payload dict or None, retained)` for every message matching `pattern`."""
        with self._lock:
            self._subscriptions.append((pattern, callback))
        if self._connected.is_set():
            self._client.subscribe(pattern, qos=1)

    def publish(self, topic: str, payload: dict | None, *, retain: bool = False, qos: int = 1):
        """Queue a message (returns at once; paho's network thread sends it). None clears a retained topic."""
        return self._client.publish(topic, encode(payload) if payload is not None else b"", qos=qos, retain=retain)

    def publish_and_wait(self, topic: str, payload: dict | None, *, retain: bool = False, timeout_s: float = 5.0):
        info = self.publish(topic, payload, retain=retain)
        info.wait_for_publish(timeout_s)
        return info


def new_command(action: str, **fields) -> dict:
    if action not in COMMANDS:
        raise InputError("action", f"action={action!r} is not one of {', '.join(COMMANDS)}")
    return {"action": action, "id": uuid.uuid4().hex[:12], "sent_at": time.time(), **fields}
