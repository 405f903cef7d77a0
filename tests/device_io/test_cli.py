"""`somana sim` and `somana print` as a person runs them: separate processes, a real pty."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

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


def test_ctrl_c_pauses_asks_and_cancels_safely(run_sim, gcode):
    _, port = run_sim("--time-scale", "0.5")  # slow enough to interrupt
    process = subprocess.Popen([*SOMANA, "print", str(gcode), "--port", port], stdin=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    time.sleep(2.0)
    process.send_signal(signal.SIGINT)
    time.sleep(0.5)
    process.stdin.write("y\n")
    process.stdin.flush()
    _, stderr = process.communicate(timeout=30)
    assert "paused after line" in stderr and "Cancel the job?" in stderr
    assert "cancelling: heaters off, parking" in stderr
    assert "job cancelled" in stderr
    assert process.returncode == 130


@pytest.mark.parametrize(
    "args, field",
    [
        (["print", "/no/such/file.gcode", "--port", "/dev/null"], "FILE"),
        (["print", "{gcode}", "--port", "/dev/null", "--baud", "12345"], "--baud"),
        (["print", "{gcode}", "--port", "/dev/no-such-port"], "--port"),
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
