"""What a machine-control screen does with a host: pause, resume, cancel, heat-and-wait, the
process-wide registry shared by sessions, and the restart preamble."""

from __future__ import annotations

import threading
import time

import pytest

from device_io import registry
from device_io.errors import DeviceInputError, HostError
from device_io.job import PrintJob, restart_preamble
from tests.device_io.helpers import job_commands, moves_program
from tests.support.waiting import WaitTimeout, wait_until


def test_pause_records_the_position_and_resume_finishes_exactly_once(make_printer, make_host):
    printer = make_printer(time_scale=0.2)
    host = make_host(printer)
    program = moves_program(800)
    printer.clear_log()
    host.start_job(program)
    wait_until(lambda: host.progress()["lines_acked"] > 50)
    host.pause()
    wait_until(lambda: host.paused_position != {})
    acked = host.progress()["lines_acked"]
    with pytest.raises(WaitTimeout):  # nothing moves while paused
        wait_until(lambda: host.progress()["lines_acked"] != acked, timeout_s=0.3)
    assert host.state == "paused"
    assert host.paused_position == printer.position  # where the printer stopped
    with pytest.raises(HostError):
        host.jog(x=1)  # the head is the job's while it is paused
    host.resume()
    result = host.wait_for_job(timeout=20)
    assert result["status"] == "done"
    assert [c for c in job_commands(printer) if c != "M114"] == program.commands


def test_cancel_switches_heaters_off_and_parks(make_printer, make_host):
    printer = make_printer(time_scale=0.2)
    host = make_host(printer)
    program = moves_program(2000, header=("M104 S200", "M140 S60"))
    printer.clear_log()
    host.start_job(program)
    wait_until(lambda: host.progress()["lines_acked"] > 50)
    host.cancel()
    assert host.current_state == "cancelling"
    result = host.wait_for_job(timeout=20)
    assert result["status"] == "cancelled"
    assert host.state == "operational"
    executed = job_commands(printer)
    ran = executed[: executed.index("M104 S0")]
    assert ran == program.commands[: len(ran)] and len(ran) < len(program.commands)
    assert result["last_acked_line"] == program.file_lines[len(ran) - 1]
    assert executed[len(ran) :] == ["M104 S0", "M140 S0", "M107", "G91", "G1 Z10 F600", "G90", "G28 X Y", "M84", "M400"]
    assert all(heater.target == 0 for heater in printer.heaters.values())


def test_heat_and_wait_is_not_a_timeout(make_printer, make_host):
    # M109 takes ~3 s here; the firmware prints temperatures (not busy) meanwhile, once a second
    printer = make_printer(time_scale=0.03)
    host = make_host(printer, comm_timeout_s=1.5, max_timeouts=2)
    program = PrintJob.from_lines(["M104 S200", "M109 S200", "G28", "G1 X10 F600"])
    printer.clear_log()
    started = time.monotonic()
    host.start_job(program)
    result = host.wait_for_job(timeout=20)
    assert result["status"] == "done", result
    assert time.monotonic() - started > 2.0
    assert job_commands(printer) == program.commands
    assert host.timeouts == 0
    assert printer.heaters["T0"].temperature >= 199


def test_registry_shares_one_host_per_printer_and_starts_the_simulator():
    try:
        first = registry.connect("sim")
        second = registry.get_host("sim")
        assert first is second
        assert registry.names() == ["sim"]
        assert first.state == "operational"
        assert first.port == registry.simulator("sim").path
        # many sessions watch the same host from their own threads
        seen = {}

        def session(index):
            first.param.watch(lambda event: seen.setdefault(index, event.new), "job_result")

        threads = [threading.Thread(target=session, args=(i,)) for i in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        first.start_job(PrintJob.from_lines(["G1 X1 F6000", "G1 X2"]))
        assert first.wait_for_job(timeout=10)["status"] == "done"
        wait_until(lambda: len(seen) == 3)
        assert all(result["status"] == "done" for result in seen.values())
    finally:
        registry.shutdown()
    assert registry.names() == []


def test_restart_preamble_restores_heat_position_extruder_and_fan():
    before = [
        "M140 S60", "M104 S215", "M190 S60", "M109 S215", "G28", "G90", "M82", "G92 E0",
        "G1 Z0.2 F600", "G1 X10 Y20 E1.5 F1800", "M106 S128", "G1 Z0.4", "G1 X30 Y25 E3.25 F2400",
    ]
    assert restart_preamble(before) == [
        "M140 S60", "M104 S215", "M190 S60", "M109 S215", "G90",
        "G92 Z0.4", "G1 Z2.4 F600", "G28 X Y", "G0 X30 Y25 F6000", "G1 Z0.4 F600",
        "M82", "G92 E3.25", "M106 S128", "G1 F2400",
    ]
    relative_e = restart_preamble(["M83", "G1 X1 Y1 Z0.3 E0.5 F1200"])
    assert "M83" in relative_e and not any(command.startswith("G92 E") for command in relative_e)


def test_job_from_line_skips_to_that_file_line(make_printer, make_host):
    printer = make_printer()
    host = make_host(printer)
    program = moves_program(300)
    line = program.file_lines[200]
    printer.clear_log()
    host.start_job(program, from_line=line)
    assert host.wait_for_job(timeout=10)["status"] == "done"
    assert job_commands(printer)[-100:] == program.commands[200:]


def test_console_m112_is_an_emergency_stop_and_bad_targets_are_refused(make_printer, make_host):
    printer = make_printer()
    host = make_host(printer)
    with pytest.raises(DeviceInputError) as refused:
        host.set_temperature("T0", -5)
    assert refused.value.field == "target"
    with pytest.raises(DeviceInputError):
        host.set_temperature("chamber", 40)
    host.send_command("m112")
    assert host.wait_for_state("error", timeout=2) == "error"
    wait_until(lambda: printer.killed)
    wait_until(lambda: "emergency stop" in host.error_message, message="the error published")


def test_a_job_without_commands_is_refused(make_printer, make_host):
    host = make_host(make_printer())
    with pytest.raises(DeviceInputError, match="no G-code commands"):
        host.start_job(PrintJob.from_lines(["; only comments", "", "M110 N5"]))
    assert host.state == "operational"
