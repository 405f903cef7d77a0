"""`somana station` as a real process: SIGKILL during a print (offline within 5 s through the last
will, the job interrupted with its last acknowledged line, restartable when the station is back),
SIGTERM (printers made safe first), and the `somana printers` / `somana estop` commands."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from device_io.simulator import VirtualPrinter
from somana_core.floor.fleet import Fleet
from tests.floor.conftest import job_text
from tests.support.waiting import wait_until

OFFLINE_TARGET_S = 5.0


@pytest.fixture
def sim():
    printer = VirtualPrinter(time_scale=0.02, reset_on_open=False)  # native USB: the board keeps its line counter
    printer.start()
    yield printer
    printer.stop()


def somana(*args, env=None, timeout=60):
    return subprocess.run([sys.executable, "-m", "somana", *args], capture_output=True, text=True, timeout=timeout,
                          env=env or os.environ.copy())


def start_station(name, port, broker, home):
    env = dict(os.environ, SOMANA_HOME=str(home))
    return subprocess.Popen([sys.executable, "-m", "somana", "station", "--name", name, "--printer", f"p1={port}",
                             "--broker", broker.url], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def stop(process):
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)


def numbered_job(moves: int) -> tuple[str, list[str]]:
    """A job whose every move is unique (its feed rate), so the printer's log shows each one's count."""
    moves_list = [f"G1 X{10 + i % 40} Y{10 + i % 30} F{1000 + i}" for i in range(moves)]
    return "\n".join(["; test job", "M104 S200", "G28", "G90", *moves_list]) + "\n", moves_list


def test_station_killed_mid_print_restarts_from_its_journal_with_no_line_repeated_or_skipped(
        broker, fleet, sim, somana_home):
    text, moves = numbered_job(4000)
    process = start_station("killed", sim.path, broker, somana_home)
    try:
        wait_until(lambda: fleet.printers().get("killed/p1", {}).get("shown_state") == "operational", 30)
        reply = fleet.wait_reply(fleet.command("killed/p1", "start", gcode=text, name="long.gcode"), 15)
        assert reply["ok"], reply
        wait_until(lambda: ((fleet.printers()["killed/p1"].get("job") or {}).get("lines_acked") or 0) > 300, 30)
        process.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        wait_until(lambda: fleet.printers()["killed/p1"]["shown_state"] == "offline", OFFLINE_TARGET_S,
                   message="the printer shown offline")
        print(f"offline after {time.monotonic() - killed_at:.2f} s")
        shown = fleet.printers()["killed/p1"]
        assert shown["job"]["name"] == "long.gcode" and shown["last_acked_line"] > 300  # the last known line
    finally:
        stop(process)
    # the printer executes what it had received, acknowledged or not, before the station is back
    wait_until(lambda: sim.idle, 10, message="the printer's buffers drained")
    executed_before = [c for c in sim.executed_commands() if c in set(moves)]

    again = start_station("killed", sim.path, broker, somana_home)
    try:
        wait_until(lambda: fleet.printers()["killed/p1"]["shown_state"] == "operational", 30)
        interrupted = fleet.printers()["killed/p1"]["interrupted"]
        assert interrupted["name"] == "long.gcode" and interrupted["last_acked_line"] >= shown["last_acked_line"]
        assert interrupted["restart_from_line"] == interrupted["last_acked_line"] + 1
        assert fleet.wait_reply(fleet.command("killed/p1", "restart"), 15)["ok"]
        wait_until(lambda: (fleet.printers()["killed/p1"]["history"] or [{}])[0].get("outcome") == "done", 60,
                   message="the restarted job done")
    finally:
        stop(again)
    executed = [c for c in sim.executed_commands() if c in set(moves)]
    print(f"{len(executed_before)} moves before the kill, restart from file line {interrupted['restart_from_line']}")
    assert executed == moves  # every move once, in order: none repeated, none skipped


def test_sigterm_makes_the_printer_safe_before_the_station_exits(broker, fleet, sim, somana_home):
    process = start_station("termed", sim.path, broker, somana_home)
    try:
        wait_until(lambda: fleet.printers().get("termed/p1", {}).get("shown_state") == "operational", 30)
        fleet.wait_reply(fleet.command("termed/p1", "temperature", heater="T0", celsius=200), 10)
        fleet.wait_reply(fleet.command("termed/p1", "start", gcode=job_text(4000), name="long.gcode"), 15)
        wait_until(lambda: ((fleet.printers()["termed/p1"].get("job") or {}).get("lines_acked") or 0) > 100, 30)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=40) == 0
    finally:
        stop(process)
    assert sim.heaters["T0"].target == 0 and sim.heaters["B"].target == 0
    assert "M84" in sim.executed_commands()[-6:]
    wait_until(lambda: not fleet.printers()["termed/p1"]["online"], 5)
    assert fleet.printers()["termed/p1"]["interrupted"]["reason"] == "the station stopped"


def test_printers_and_estop_commands_work_through_the_bus(broker, sim, somana_home):
    process = start_station("cli", sim.path, broker, somana_home)
    try:
        def listed():
            run = somana("printers", "--json", "--broker", broker.url)
            rows = json.loads(run.stdout) if run.returncode == 0 else []
            return next((r for r in rows if r["printer"] == "cli/p1" and r["state"] == "operational"), None)
        row = wait_until(listed, 30, interval_s=0.2)
        assert row["station"] == "cli" and row["nozzle_c"][0] > 0 and row["last_acked_line"] == 0
        run = somana("estop", "cli/p1", "--broker", broker.url)
        assert run.returncode == 0 and run.stdout.strip() == "cli/p1: halted", run.stdout + run.stderr
        assert sim.emergency_received_at is not None
        unknown = somana("estop", "nobody", "--broker", broker.url, "--confirm", "0.3")
        assert unknown.returncode == 2 and "no printer 'nobody'" in unknown.stderr
    finally:
        stop(process)


@pytest.mark.parametrize("args, field", [
    (["estop"], "printer"), (["estop", "a", "--all"], "printer"), (["estop", "a/b/c"], "printer"),
    (["printers", "--broker", "http://x"], "--broker"), (["printers", "--wait", "0"], "--wait"),
    (["station", "--name", "a/b"], "--name"), (["station", "--name", "ok", "--printer", "x="], "--printer"),
])
def test_bad_input_exits_2_with_one_line_naming_the_field(args, field):
    run = somana(*args)
    assert run.returncode == 2 and run.stderr.count("\n") == 1 and field in run.stderr, run.stderr


def test_the_shell_estop_halts_the_printer_without_python_and_refuses_bad_names(broker, sim, somana_home):
    script = shutil.which("somana-estop", path=os.path.dirname(sys.executable))  # installed beside `somana`
    assert script, "somana-estop is not installed beside somana (pyproject.toml script-files)"
    for bad in (["a b"], ['x","printer":"*'], [], ["--loud"]):
        run = subprocess.run([script, *bad, "--broker", broker.url], capture_output=True, text=True, timeout=10)
        assert run.returncode == 2 and run.stderr.count("\n") == 1, (bad, run.stderr)
    assert sim.emergency_received_at is None
    process = start_station("shell", sim.path, broker, somana_home)
    try:
        watcher = Fleet(broker.url).start()
        wait_until(lambda: watcher.printers().get("shell/p1", {}).get("shown_state") == "operational", 30)
        run = subprocess.run([script, "shell/p1"], capture_output=True, text=True, timeout=10,
                             env=dict(os.environ, SOMANA_HOME=str(somana_home), SOMANA_BROKER=broker.url))
        assert run.returncode == 0, run.stderr
        wait_until(lambda: sim.emergency_received_at is not None, 5, message="M112 at the printer")
        wait_until(lambda: watcher.printers()["shell/p1"]["shown_state"] == "halted", 5)
        watcher.close()
    finally:
        stop(process)
