"""`somana station --name NAME [--printer sim|PORT|NAME=PORT ...] [--broker URL]`: a process that owns
printers and runs their jobs; it talks only MQTT (topics in `somana_core.floor.bus`). Also the
floor services `somana serve` starts when it is given no `--broker` (`start_for_serve`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from somana_core.errors import InputError

ESTOP_WS_ENV = "SOMANA_ESTOP_WS"  # the private broker's WebSocket: {"port", "user", "password" (e-stop),
#                                   "viewer_user", "viewer_password" (read-only status)}


def configure(parser):
    parser.add_argument("--name", required=True, help="station name (letters, digits, '_', '.', '-'; unique on the bus)")
    parser.add_argument("--printer", action="append", default=None, metavar="sim|PORT|NAME=PORT",
                        help="a printer this station owns: 'sim' (virtual), a serial port or pyserial URL, "
                             "or NAME=PORT (repeatable; default: one virtual printer)")
    parser.add_argument("--broker", default=None, metavar="URL",
                        help="MQTT broker, mqtt://HOST:PORT (default: $SOMANA_BROKER, the private broker of a "
                             "running `somana serve`, else mqtt://127.0.0.1:1883)")
    parser.add_argument("--db", default=None, metavar="URL", help="order store database URL (default: the SQLite file)")
    parser.add_argument("--sim-time-scale", type=float, default=0.05,
                        help="virtual printers' time scale (1 = real time; default 0.05, 20x faster)")


def run(args) -> int:
    from somana_core.floor import bus, station

    bus.check_name("--name", args.name)
    specs = station.printer_specs(args.printer)
    if not 0 <= args.sim_time_scale <= 10:
        raise InputError("--sim-time-scale", f"--sim-time-scale {args.sim_time_scale:g} is outside 0-10")
    if args.broker is not None:
        bus.parse_broker_url(args.broker)  # '' too: a typo is refused, not taken for the default broker
    broker = bus.resolve_broker(args.broker)
    bus.parse_broker_url(broker)
    store_url = args.db  # None: the default store ($SOMANA_DB_URL, else the SQLite file)
    if store_url is not None:
        from somana_core.orders import check_url

        check_url(store_url)  # before the broker: a malformed --db is the person's, told as such (exit 2)
    worker = station.Station(args.name, specs, broker, store_url=store_url, sim_time_scale=args.sim_time_scale)
    try:
        worker.run()
    except bus.BusError as exc:
        print(f"somana station: {exc}", file=sys.stderr)
        return 1
    return 0


class FloorServices:
    """What `somana serve` started for the floor: a private broker (unless given one) and a station."""

    def __init__(self, broker_url: str, broker=None, station: subprocess.Popen | None = None):
        self.broker_url = broker_url
        self.broker = broker
        self.station = station

    def stop(self) -> None:
        """Stop the station first (it makes its printers safe), then the broker."""
        if self.station is not None and self.station.poll() is None:
            self.station.terminate()
            try:
                self.station.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.station.kill()
        if self.broker is not None:
            self.broker.stop()
            from somana_core.data import state_dir
            from somana_core.floor.bus import BROKER_FILE

            path = Path(state_dir()) / BROKER_FILE
            if path.exists() and path.read_text().strip() == self.broker_url:
                path.unlink()


def start_for_serve(printers: list[dict], broker_url: str | None, db_url: str | None,
                    station_name: str = "local") -> FloorServices:
    """For `somana serve`: with `broker_url`, only use it (stations run elsewhere); without, start a
    private Mosquitto on loopback and one station child process owning `printers`. Both children
    die with the server (PR_SET_PDEATHSIG: the station gets SIGTERM and makes its printers safe).
    Sets $SOMANA_BROKER for the apps."""
    from somana_core.floor import bus, local

    if broker_url:
        bus.parse_broker_url(broker_url)
        os.environ[bus.BROKER_ENV] = broker_url
        return FloorServices(broker_url)
    # all interfaces, like the web server: a tablet on the floor sends its e-stop straight to the broker
    broker = local.LocalBroker(estop_websocket_address="0.0.0.0").start()
    os.environ[bus.BROKER_ENV] = broker.url
    os.environ[ESTOP_WS_ENV] = json.dumps({"port": broker.ws_port, "user": broker.estop_user,
                                           "password": broker.estop_password, "viewer_user": broker.viewer_user,
                                           "viewer_password": broker.viewer_password})
    from somana_core.data import state_dir

    (Path(state_dir()) / bus.BROKER_FILE).write_text(broker.url + "\n")
    command = [sys.executable, "-m", "somana", "station", "--name", station_name, "--broker", broker.url]
    for spec in printers:
        command += ["--printer", f"{spec['name']}={spec['port']}"]
    if db_url:
        command += ["--db", db_url]
    process = subprocess.Popen(command, preexec_fn=local.die_with_parent, stdin=subprocess.DEVNULL)
    services = FloorServices(broker.url, broker, process)
    _wait_for_station(broker.url, station_name, process)
    return services


def _wait_for_station(url: str, name: str, process: subprocess.Popen, timeout_s: float = 30.0) -> None:
    from somana_core.floor.fleet import Fleet

    fleet = Fleet(url).start()
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if (fleet.stations().get(name) or {}).get("online"):
                return
            if process.poll() is not None:
                raise RuntimeError(f"the station process exited with {process.returncode}")
            time.sleep(0.05)
        raise RuntimeError(f"station {name} did not come online within {timeout_s:g} s")
    finally:
        fleet.close()
