"""`somana serve` without --broker starts a private Mosquitto and a station child; killed (even by
SIGKILL) it leaves no process behind, and the station makes its printer safe on the way out."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

from device_io.simulator import VirtualPrinter
from somana_core.floor import bus
from somana_core.floor.fleet import Fleet
from somana_core.floor.local import free_port
from tests.support.waiting import wait_until


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def test_serve_killed_takes_its_broker_and_station_along_and_the_printer_is_made_safe(somana_home):
    sim = VirtualPrinter(time_scale=0.02)
    port = sim.start()
    serve = subprocess.Popen([sys.executable, "-m", "somana", "serve", "--port", str(free_port()), "--no-warm",
                              "--printer", port], env=dict(os.environ, SOMANA_HOME=str(somana_home)),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = wait_until(lambda: (somana_home / bus.BROKER_FILE).exists() and
                         (somana_home / bus.BROKER_FILE).read_text().strip(), 120, interval_s=0.1,
                         message="the private broker")
        fleet = Fleet(url).start()
        wait_until(lambda: fleet.printers().get("local/printer-1", {}).get("shown_state") == "operational", 60)
        station_pid = fleet.stations()["local"]["pid"]
        assert fleet.wait_reply(fleet.command("local/printer-1", "temperature", heater="T0", celsius=200), 10)["ok"]
        wait_until(lambda: sim.heaters["T0"].target == 200, 10)
        fleet.close()
        serve.send_signal(signal.SIGKILL)
        serve.wait(timeout=10)
        wait_until(lambda: not alive(station_pid), 40, interval_s=0.1, message="the station gone")
        wait_until(lambda: not listening(bus.parse_broker_url(url)[1]), 10, interval_s=0.1, message="the broker gone")
        assert sim.heaters["T0"].target == 0 and "M84" in sim.executed_commands()[-6:]
    finally:
        if serve.poll() is None:
            serve.kill()
        sim.stop()
