"""The emergency stop in as few steps as a process can take: one TCP connection to the broker, MQTT
3.1.1 CONNECT and PUBLISH (QoS 1) sent together, PUBACK read, DISCONNECT. Standard library only
(no paho, no somana imports: `somana estop` reaches M112 before anything else is loaded).

The message is the one every path sends (see `somana_core.floor.bus`, topic ESTOP_TOPIC): every
station halts the matching printers on receipt. A client may send PUBLISH before the CONNACK
(MQTT 3.1.1, 3.1.4); Mosquitto handles them in order.
"""

from __future__ import annotations

import json
import os
import socket
import time

TOPIC = "somana/estop"  # = bus.ESTOP_TOPIC (kept literal: importing bus costs this path its speed)
NAME_RE = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}"  # a station's or printer's name (bus.NAME_PATTERN is made from it)
DEFAULT_BROKER = "mqtt://127.0.0.1:1883"


def broker_address(url: str | None = None) -> tuple[str, int]:
    """As `bus.resolve_broker` (given URL, $SOMANA_BROKER, the running `somana serve`'s private broker
    written in $SOMANA_HOME/broker.url, else 127.0.0.1:1883), without its imports. ValueError if bad."""
    if not url:
        url = os.environ.get("SOMANA_BROKER", "")
    if not url:
        home = os.environ.get("SOMANA_HOME") or os.path.join(os.path.expanduser("~"), ".somana")
        try:
            with open(os.path.join(home, "broker.url")) as handle:
                url = handle.read().strip()
        except OSError:
            url = ""
    url = url or DEFAULT_BROKER
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "mqtt", url
    host, _, port = rest.split("/")[0].rpartition(":")
    if scheme not in ("mqtt", "tcp") or not (host or port):
        raise ValueError(f"--broker {url!r} is not an MQTT broker URL (use mqtt://HOST:PORT)")
    if not host:
        host, port = port, "1883"
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"--broker {url!r} has a port outside 1-65535 (use mqtt://HOST:PORT)")
    return host.strip("[]"), int(port)


def _string(text: str) -> bytes:
    data = text.encode("utf-8")
    return len(data).to_bytes(2, "big") + data


def _length(n: int) -> bytes:
    out = bytearray()
    while True:
        digit, n = n % 128, n // 128
        out.append(digit | (128 if n else 0))
        if not n:
            return bytes(out)


def send_estop(printer: str, host: str, port: int, *, press_id: str | None = None, timeout_s: float = 2.0) -> str:
    """Publish the e-stop for `printer` ('*', NAME or STATION/PRINTER); returns the press id once the
    broker acknowledged it (PUBACK). OSError/TimeoutError if the broker cannot be reached or refuses."""
    press = press_id or "cli-" + os.urandom(6).hex()
    body = json.dumps({"printer": printer, "id": press, "sent_at": time.time()}, separators=(",", ":")).encode()
    connect_body = _string("MQTT") + bytes([4, 0x02]) + (10).to_bytes(2, "big") + _string(f"somana-estop-{press[-8:]}")
    publish_body = _string(TOPIC) + (1).to_bytes(2, "big") + body  # QoS 1, packet id 1
    packets = (bytes([0x10]) + _length(len(connect_body)) + connect_body
               + bytes([0x32]) + _length(len(publish_body)) + publish_body)
    with socket.create_connection((host, port), timeout=timeout_s) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(packets)
        received = b""
        deadline = time.monotonic() + timeout_s
        while True:
            # CONNACK is 20 02 00 rc; PUBACK is 40 02 00 01
            if len(received) >= 4 and received[0] == 0x20 and received[3] != 0:
                raise ConnectionRefusedError(f"the broker refused the connection (CONNACK code {received[3]})")
            if b"\x40\x02\x00\x01" in received:
                break
            if time.monotonic() >= deadline:
                raise TimeoutError(f"the broker at {host}:{port} did not acknowledge within {timeout_s:g} s")
            chunk = sock.recv(64)
            if not chunk:
                raise ConnectionError(f"the broker at {host}:{port} closed the connection")
            received += chunk
        sock.sendall(b"\xe0\x00")  # DISCONNECT: no last will, a clean goodbye
    return press
