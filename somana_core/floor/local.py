"""A private Mosquitto on a free loopback port, for `somana serve` without `--broker` and for tests.

The broker gets a generated config (loopback listener, anonymous clients allowed because only this
machine can reach it, no persistence) in a temporary folder, and dies with the process that started
it (PR_SET_PDEATHSIG), so a killed `somana serve` leaves no broker behind.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

MOSQUITTO = "/usr/sbin/mosquitto"
START_TIMEOUT_S = 10.0
_PR_SET_PDEATHSIG = 1


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """In a child process (preexec_fn): receive `sig` when the parent dies (Linux)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    except OSError:
        pass  # not Linux: the parent's own shutdown stops its children


def raise_priority(niceness: int = -10) -> None:
    """Ask the scheduler to run this process first (the e-stop path: broker and station must not
    wait behind CAD work on a busy machine). Needs root or CAP_SYS_NICE; silently skipped otherwise."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, niceness)
    except (OSError, AttributeError):
        pass


def _broker_child() -> None:
    die_with_parent()
    raise_priority()


def find_mosquitto() -> str:
    path = shutil.which("mosquitto") or (MOSQUITTO if os.path.exists(MOSQUITTO) else None)
    if path is None:
        raise FileNotFoundError("mosquitto is not installed (Debian/Ubuntu: apt-get install mosquitto; "
                                "`make` installs it)")
    return path


class LocalBroker:
    """`start()` runs Mosquitto on 127.0.0.1:<free port>; `url` is then mqtt://127.0.0.1:<port>.

    With `estop_websocket_address`, a second listener speaks MQTT over WebSockets on that address
    for the browsers, password-protected, with two users: `estop_user` may only publish to
    `somana/estop` (so a page's e-stop never goes through the web server, however busy it is, and
    its credentials can do nothing else); `viewer_user` may only read the stations' status and the
    printers' states (`somana/+/status`, `somana/+/+/state`), so /machines shows the floor straight
    from the broker even while the web process is busy with customers."""

    def __init__(self, port: int | None = None, estop_websocket_address: str | None = None):
        self.port = port or free_port()
        self.url = f"mqtt://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self._dir: Path | None = None
        self.ws_address = estop_websocket_address
        self.ws_port: int | None = None
        self.estop_user = "estop"
        self.estop_password = ""
        self.viewer_user = "viewer"
        self.viewer_password = ""

    def start(self) -> "LocalBroker":
        self._dir = Path(tempfile.mkdtemp(prefix="somana-mosquitto-"))
        config = self._dir / "mosquitto.conf"
        lines = ["per_listener_settings true", "persistence false", "log_dest stderr", "log_type error",
                 "log_type warning", "max_keepalive 60"]
        if os.geteuid() == 0:
            lines.append("user root")  # else Mosquitto switches to its own user and cannot read our folder
        lines += [f"listener {self.port} 127.0.0.1", "allow_anonymous true"]
        if self.ws_address is not None:
            import secrets

            self.ws_port = free_port()
            self.estop_password = secrets.token_urlsafe(18)
            self.viewer_password = secrets.token_urlsafe(18)
            passwords, acl = self._dir / "passwd", self._dir / "acl"
            passwords.touch(mode=0o600)
            for user, password in ((self.estop_user, self.estop_password), (self.viewer_user, self.viewer_password)):
                subprocess.run(["mosquitto_passwd", "-b", str(passwords), user, password], check=True,
                               capture_output=True)
            acl.write_text(f"user {self.estop_user}\ntopic write somana/estop\n\n"
                           f"user {self.viewer_user}\ntopic read somana/+/status\ntopic read somana/+/+/state\n")
            lines += [f"listener {self.ws_port} {self.ws_address}", "protocol websockets", "allow_anonymous false",
                      f"password_file {passwords}", f"acl_file {acl}"]
        config.write_text("\n".join(lines) + "\n")
        log = open(self._dir / "mosquitto.log", "wb")
        self.process = subprocess.Popen([find_mosquitto(), "-c", str(config)], stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, preexec_fn=_broker_child)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mosquitto exited with {self.process.returncode}: {self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"mosquitto did not listen on port {self.port} within {START_TIMEOUT_S:g} s")

    def log(self) -> str:
        try:
            return (self._dir / "mosquitto.log").read_text(errors="replace")
        except (OSError, TypeError):
            return ""

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> "LocalBroker":
        return self.start() if self.process is None else self

    def __exit__(self, *exc) -> None:
        self.stop()
