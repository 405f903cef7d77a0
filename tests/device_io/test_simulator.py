"""The virtual printer's own physics and protocol: thermal model, planner back-pressure, busy."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from device_io.job import PrintJob
from device_io.protocol import parse_line
from device_io.simulator import Heater


def test_heater_follows_a_first_order_response():
    heater = Heater(temperature=20.0, target=220.0, time_constant_s=30.0)
    heater.update(30.0, ambient=20.0)  # one time constant
    assert math.isclose(heater.temperature, 220.0 - 200.0 * math.exp(-1), rel_tol=1e-9)
    assert heater.power > 0
    heater.target = 0.0
    heater.update(1e6, ambient=20.0)
    assert math.isclose(heater.temperature, 20.0, abs_tol=1e-6) and heater.power == 0


def test_planner_back_pressure_delays_the_ok(make_printer, make_host):
    printer = make_printer(time_scale=1.0, planner_slots=2)
    host = make_host(printer)
    program = PrintJob.from_lines(["G1 X10 F6000", "G1 X20", "G1 X30", "G1 X40"])  # 0.1 s each
    printer.clear_log()
    host.start_job(program)
    assert host.wait_for_job(timeout=5)["status"] == "done"
    times = [entry.time for entry in printer.executed() if entry.command.startswith("G1")]
    assert times[1] - times[0] < 0.05  # two planner slots: the second move is accepted at once
    assert times[2] - times[0] >= 0.09  # the third waits until the first move has finished
    assert times[3] - times[0] >= 0.19


def test_long_commands_print_busy_and_the_host_shows_it(make_printer, make_host):
    printer = make_printer(time_scale=0.2, busy_interval_s=0.1)  # G28 takes 0.6 s
    host = make_host(printer, comm_timeout_s=0.3, max_timeouts=2)
    host.home()
    host.query("M400", timeout=5)
    assert any(entry.kind == "busy" for entry in host.log())
    assert host.timeouts == 0  # busy kept the connection alive past the 0.3 s timeout
    assert printer.position == {"X": 0.0, "Y": 0.0, "Z": 0.0, "E": 0.0}


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_parser_never_raises_on_garbage(text):
    events = parse_line(text)
    assert isinstance(events, list)
