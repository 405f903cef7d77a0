"""`somana sim` and `somana print` as a person runs them: separate processes, a real pty."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.support.waiting import wait_until

SOMANA = [sys.executable, "-m", "somana"]


@pytest.fixture
def run_sim():
    processes = []

    def start(*args: str) -> tuple[subprocess.Popen, str]:
        process = subprocess.Popen([*SOMANA, "sim", *args], stdout=subprocess.PIPE, text=True)
        processes.append(process)
        port = process.stdout.readline().strip()  # printed and flushed at once
        assert port.startswith("/dev/"), port
        return process, port

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait(5)


@pytest.fixture
def gcode(tmp_path) -> Path:
    path = tmp_path / "part.gcode"
    lines = ["; a small part", "G28", "G92 E0"] + [f"G1 X{i % 80} Y{i % 60} E{i * 0.02:.2f} F9000" for i in range(3000)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_sim_prints_its_pty_and_stops_cleanly_on_sigterm(run_sim):
    process, port = run_sim("--time-scale", "0")
    assert Path(port).exists()
    process.send_signal(signal.SIGTERM)
    assert process.wait(5) == 0


def test_print_streams_through_faults_and_exits_zero(run_sim, gcode):
    _, port = run_sim("--time-scale", "0", "--latency-ms", "1", "--fault", "checksum@100", "--fault", "lost-ok@200")
    result = subprocess.run([*SOMANA, "print", str(gcode), "--port", port, "--timeout", "1", "--json",
                             "--rx-buffer-bytes", "1024"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "3002/3002 lines 100.0%" in result.stderr
    assert "ETA" in result.stderr
    assert '"status": "done"' in result.stdout


def test_print_reports_the_last_acknowledged_line_when_the_printer_drops(run_sim, gcode):
    _, port = run_sim("--time-scale", "0", "--fault", "drop@1500")
    result = subprocess.run([*SOMANA, "print", str(gcode), "--port", port, "--timeout", "0.3"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "no answer from the printer" in result.stderr
    # command 1500 of the job is on file line 1501 (the first line is a comment)
    assert "last acknowledged line: 1501 (restart with --from-line 1502)" in result.stderr


def test_print_from_line_restarts_with_the_preamble(gcode, tmp_path):
    # an in-process printer, so the test can read what it executed
    from device_io.simulator import VirtualPrinter

    text = gcode.read_text().replace("G28\n", "M140 S60\nM104 S210\nG28\n", 1)
    gcode.write_text(text)  # file lines: 1 comment, 2-3 heaters, 4 G28, 5 G92 E0, 6.. moves
    with VirtualPrinter(time_scale=0.0) as printer:
        result = subprocess.run([*SOMANA, "print", str(gcode), "--port", printer.path, "--from-line", "1504",
                                 "--json"], capture_output=True, text=True, timeout=60)
        executed = [c for c in printer.executed_commands() if not c.startswith(("M105", "M110", "M115", "M155"))]
    assert result.returncode == 0, result.stderr
    assert "restarting at line 1504 after" in result.stderr
    job = json.loads(result.stdout)
    file_lines = text.splitlines()
    assert job["status"] == "done" and job["lines_total"] == len(file_lines) - 1503
    assert job["last_acked_line"] == len(file_lines)
    rest = file_lines[1503:]
    preamble, resumed = executed[: len(executed) - len(rest)], executed[len(executed) - len(rest):]
    assert resumed == rest
    assert preamble[:4] == ["M140 S60", "M104 S210", "M190 S60", "M109 S210"]
    assert "G28 X Y" in preamble and "G28" not in preamble  # Z is not homed with a part on the bed
    previous = file_lines[1502].split()  # the move before the restart line: the head goes back there
    assert f"G0 {previous[1]} {previous[2]} F6000" in preamble


def test_ctrl_c_pauses_asks_and_cancels_safely(run_sim, gcode):
    _, port = run_sim("--time-scale", "0.5")  # slow enough to interrupt
    process = subprocess.Popen([*SOMANA, "print", str(gcode), "--port", port], stdin=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    stderr = bytearray()  # read as it comes: the question has no newline
    reader = threading.Thread(target=lambda: _read_all(process.stderr, stderr), daemon=True)
    reader.start()
    wait_until(lambda: b" lines " in stderr, timeout_s=20, message="the first progress line")
    process.send_signal(signal.SIGINT)
    wait_until(lambda: b"Cancel the job?" in stderr, timeout_s=10, message="the question")
    process.stdin.write(b"y\n")
    process.stdin.flush()
    assert process.wait(30) == 130
    reader.join(5)
    text = stderr.decode()
    assert "paused after line" in text
    assert "cancelling: heaters off, parking" in text
    assert "job cancelled" in text


def _read_all(stream, into: bytearray) -> None:
    while chunk := os.read(stream.fileno(), 4096):
        into.extend(chunk)


@pytest.mark.parametrize(
    "args, field",
    [
        (["print", "/no/such/file.gcode", "--port", "/dev/null"], "FILE"),
        (["print", "{gcode}", "--port", "/dev/null", "--baud", "12345"], "--baud"),
        (["print", "{gcode}", "--port", "/dev/no-such-port"], "--port"),
        (["print", "{gcode}", "--port", "/dev/null", "--from-line", "0"], "--from-line"),
        (["print", "{gcode}", "--port", "/dev/null", "--from-line", "99999"], "--from-line"),
        (["sim", "--fault", "melt@5"], "--fault"),
        (["sim", "--baud", "7"], "--baud"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, field, gcode):
    args = [arg.replace("{gcode}", str(gcode)) for arg in args]
    result = subprocess.run([*SOMANA, *args], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert field in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
