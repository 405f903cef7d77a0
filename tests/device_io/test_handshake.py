"""Handshake, temperatures (auto-reported and polled), M114 and M115 over a real pseudo-terminal."""

from __future__ import annotations

import os
import time
import tty

import pytest

from device_io.host import HostError, PrinterHost
from tests.support.waiting import WaitTimeout, wait_until


def test_handshake_reads_firmware_capabilities_and_buffer(make_printer, make_host):
    printer = make_printer(bufsize=12)
    host = make_host(printer)
    assert host.state == "operational"
    assert host.firmware_name == printer.firmware_name
    assert host.capabilities["AUTOREPORT_TEMP"] is True
    assert host.capabilities["EMERGENCY_PARSER"] is True
    assert host.capabilities["ADVANCED_OK"] is True
    assert host.window == 12  # from the ADVANCED_OK buffer count, not a guess


def test_handshake_without_advanced_ok_uses_the_default_window(make_printer, make_host):
    printer = make_printer(advanced_ok=False)
    host = make_host(printer, default_window=3)
    assert host.capabilities["ADVANCED_OK"] is False
    assert host.window == 3


def test_handshake_can_wait_for_the_boards_start(make_printer, make_host):
    printer = make_printer(boot_time_s=0.3)
    started = time.monotonic()
    host = make_host(printer, wait_for_start=True)
    assert host.state == "operational"
    assert time.monotonic() - started >= 0.3  # it waited for the boot, then M110 went through at once
    assert any(entry.text == "start" for entry in host.log())


def test_handshake_times_out_on_a_silent_port(make_host):
    master, slave = os.openpty()  # a port nobody answers on
    tty.setraw(slave)
    path = os.ttyname(slave)
    try:
        host = make_host(connect=False, handshake_timeout_s=0.6)
        started = time.monotonic()
        with pytest.raises(HostError, match="no answer to M110"):
            host.connect(path)
        assert time.monotonic() - started < 2.0
        assert host.state == "error"
        assert "no answer to M110" in host.error_message
    finally:
        os.close(slave)
        os.close(master)


def test_missing_port_is_an_error_state_not_a_hang(make_host):
    host = make_host(connect=False)
    with pytest.raises(HostError, match="cannot open"):
        host.connect("/dev/does-not-exist")
    assert host.state == "error"


def test_port_is_opened_exclusively(make_printer, make_host):
    printer = make_printer()
    make_host(printer)
    second = make_host(connect=False, handshake_timeout_s=0.5)
    with pytest.raises(HostError, match="cannot open"):
        second.connect(printer.path)


def test_temperatures_are_auto_reported_with_m155(make_printer, make_host):
    printer = make_printer()
    host = make_host(printer)
    samples = []
    host.on_temperature(lambda when, readings: samples.append(readings))
    host.set_temperature("T0", 200)
    wait_until(lambda: any(s.get("T", (0, 0))[1] == 200 for s in samples), timeout_s=3.0)
    assert any(s["T"] == (200.0, 200.0) for s in samples)  # time_scale 0: heated at once
    assert "M155 S1" in printer.executed_commands()
    assert "M105" not in printer.executed_commands()  # no polling when the firmware reports
    assert host.temperatures["T"] == (200.0, 200.0)
    history = host.temperature_history()
    assert history and history[-1][1]["T"] == (200.0, 200.0)
    reports = [entry for entry in host.log() if entry.kind == "temperature"]
    assert reports and all(entry.text.startswith("T:") for entry in reports)
    assert not any(entry.kind == "temperature" for entry in host.log(include_temperatures=False))


def test_temperatures_are_polled_without_the_capability(make_printer, make_host):
    printer = make_printer(autoreport_temp=False)
    host = make_host(printer, poll_interval_s=0.1)
    assert host.capabilities["AUTOREPORT_TEMP"] is False
    wait_until(lambda: printer.executed_commands().count("M105") >= 3, message="three M105 polls")
    wait_until(lambda: host.temperatures.get("B"))
    assert "M155 S1" not in printer.executed_commands()
    assert host.temperatures["B"] == (printer.ambient_c, 0.0)


def test_m114_position_and_jog(make_printer, make_host):
    printer = make_printer()
    host = make_host(printer)
    host.home("XY")
    host.jog(x=12.5, y=-0.0, z=3)
    reply = host.query("M114", timeout=2)
    assert reply[0].startswith("X:12.50 Y:0.00 Z:3.00")
    assert reply[-1].startswith("ok")
    assert host.position == {"X": 12.5, "Y": 0.0, "Z": 3.0, "E": 0.0}
    assert printer.executed_commands()[-4:] == ["G91", "G1 X12.5 Z3 F3000", "G90", "M114"]


def test_m115_answer_lists_capability_lines(make_printer, make_host):
    printer = make_printer(emergency_parser=False)
    host = make_host(printer)
    reply = host.query("M115", timeout=2)
    assert reply[0].startswith("FIRMWARE_NAME:")
    assert "Cap:EMERGENCY_PARSER:0" in reply
    assert host.capabilities["EMERGENCY_PARSER"] is False


def test_console_log_and_unknown_command_warning(make_printer, make_host):
    printer = make_printer()
    host = make_host(printer)
    reply = host.query("M4242", timeout=2)
    assert reply[0] == 'echo:Unknown command: "M4242"'
    assert host.state == "operational"  # a warning, not a failure
    sent = [entry.text for entry in host.log() if entry.direction == "send"]
    assert any(text.endswith("M4242") for text in sent)


def test_state_changes_reach_param_watchers(make_printer):
    printer = make_printer()
    host = PrinterHost(name="watched")
    seen = []
    host.param.watch(lambda event: seen.append(event.new), "state")
    try:
        host.connect(printer.path)
    finally:
        host.disconnect()
    assert seen[0] == "connecting"
    assert "operational" in seen
    assert seen[-1] == "disconnected"


def test_background_connect_for_a_ui_and_disconnect_while_connecting(make_printer, make_host):
    printer = make_printer(boot_time_s=0.5)
    host = make_host(printer, connect=False, wait_for_start=True)
    host.connect(printer.path, wait=False)  # returns at once: a UI callback must not block
    assert host.current_state == "connecting"
    host.disconnect()
    with pytest.raises(WaitTimeout):  # not "error" once the handshake thread ends: the operator chose this
        wait_until(lambda: host.current_state != "disconnected", timeout_s=0.3)
    host.connect(printer.path, wait=False)
    assert host.wait_for_state("operational", timeout=5) == "operational"
