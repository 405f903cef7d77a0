"""Watching a host: frozen snapshots delivered to listeners off the host lock, listener failures
isolated, printer-sent actions (`//action:pause|resume|cancel`) acted on without a deadlock."""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time

import pytest

from device_io.state import JOB_STATES, HostSnapshot, HostState, JobStatus
from device_io.transport import SerialTransport
from tests.device_io.helpers import job_commands, moves_program
from tests.support.waiting import wait_until


def test_a_listener_gets_the_current_snapshot_then_every_change(make_printer, make_host):
    printer = make_printer()
    host = make_host(printer)
    seen: list[HostSnapshot] = []
    remove = host.add_listener(seen.append)
    first = wait_until(lambda: seen and seen[0], message="the first snapshot")
    assert first.state == HostState.OPERATIONAL and first.name == host.name
    program = moves_program(500)
    host.start_job(program)
    result = host.wait_for_job(timeout=20)
    last = wait_until(lambda: seen[-1].job_result is not None and seen[-1], message="the finished job's snapshot")
    assert result.status == JobStatus.DONE and last.job_result == result
    assert last.lines_acked == last.lines_total == 500 and last.progress_percent == 100.0
    assert last.last_acked_line == program.file_lines[-1] and last.restart_from_line is None
    states = [snapshot.state for snapshot in seen]
    assert HostState.PRINTING in states and states[-1] == HostState.OPERATIONAL
    assert [s.sequence for s in seen] == sorted({s.sequence for s in seen})  # in order, no repeats
    with pytest.raises(dataclasses.FrozenInstanceError):
        last.state = HostState.ERROR
    json.dumps(last.to_dict())  # what a bus publishes
    assert host.snapshot().same_view(last)
    remove()
    count = len(seen)
    host.set_temperature("B", 50)
    wait_until(lambda: host.snapshot().bed is not None and host.snapshot().bed.target_c == 50)
    assert len(seen) == count


def test_a_failing_listener_is_logged_and_the_job_goes_on(make_printer, make_host, caplog):
    printer = make_printer()
    host = make_host(printer)
    good: list[HostSnapshot] = []

    def broken(snapshot):
        raise RuntimeError("a view's bug")

    host.add_listener(broken)
    host.on_temperature(lambda when, readings: 1 / 0)
    host.param.watch(lambda event: [][1], "job_lines_acked")
    host.add_listener(good.append)
    program = moves_program(2000)
    printer.clear_log()
    host.start_job(program)
    result = host.wait_for_job(timeout=30)
    assert result.status == JobStatus.DONE, result
    assert job_commands(printer) == program.commands
    wait_until(lambda: good and good[-1].job_result is not None, message="the other listener still served")
    assert "a view's bug" in caplog.text


def test_a_failing_param_watcher_does_not_stop_the_other_watchers_of_the_same_update(make_printer, make_host, caplog):
    """param's own dispatch stops at the first watcher that raises: each watcher is isolated."""
    printer = make_printer()
    host = make_host(printer)
    heard: list[tuple[str, int]] = []
    keywords: list[int] = []

    def broken(*events):
        raise RuntimeError("a watcher's bug")

    # the broken watcher runs first (lower precedence), on the same params as the good ones
    host.param.watch(broken, ["job_lines_acked", "last_acked_line"], precedence=0)
    host.param.watch(lambda *events: heard.extend((e.name, e.new) for e in events),
                     ["job_lines_acked", "last_acked_line"], precedence=5)
    host.param.watch_values(lambda **values: keywords.append(values["job_lines_acked"]), ["job_lines_acked"])
    program = moves_program(300)
    host.start_job(program)
    assert host.wait_for_job(timeout=30).status == JobStatus.DONE
    wait_until(lambda: ("job_lines_acked", 300) in heard and 300 in keywords,
               message="the other watchers heard the last update")
    assert ("last_acked_line", program.file_lines[-1]) in heard
    assert keywords == sorted(keywords)
    assert "a watcher's bug" in caplog.text


def test_an_exception_while_handling_received_lines_is_not_a_lost_connection(make_printer):
    printer = make_printer()
    received, closed = [], []

    def on_lines(lines):
        received.extend(lines)
        raise RuntimeError("a bug in the receiver")

    transport = SerialTransport(printer.path, on_lines=on_lines, on_closed=closed.append)
    transport.open()
    try:
        wait_until(lambda: "start" in received, message="the board's start")
        transport.write(b"M105\n")
        wait_until(lambda: any(line.startswith("ok T:") for line in received), message="the answer after the bug")
        assert closed == [] and transport.is_open
    finally:
        transport.close()


def test_a_listener_may_call_the_host(make_printer, make_host):
    # pause from inside a listener (the monitor thread): no deadlock, and the job ends normally
    printer = make_printer(time_scale=0.1)
    host = make_host(printer)
    paused = threading.Event()

    def pause_once(snapshot):
        if snapshot.state == HostState.PRINTING and snapshot.lines_acked > 50 and not paused.is_set():
            paused.set()
            host.pause()

    host.add_listener(pause_once)
    program = moves_program(1500)
    printer.clear_log()
    host.start_job(program)
    assert host.wait_for_state("paused", timeout=10) == "paused"
    host.resume()
    assert host.wait_for_job(timeout=30).status == JobStatus.DONE
    assert [c for c in job_commands(printer) if c != "M114"] == program.commands


def test_a_hung_listener_never_holds_up_the_job_or_the_emergency_stop(make_printer, make_host):
    printer = make_printer(time_scale=0.2)
    host = make_host(printer, publish_wait_s=0.3)
    release = threading.Event()
    host.add_listener(lambda snapshot: release.wait(20))  # a view that hangs
    try:
        host.start_job(moves_program(3000))
        acked = host.progress()["lines_acked"]
        wait_until(lambda: host.progress()["lines_acked"] > acked + 200, message="the job going on meanwhile")
        started = time.monotonic()
        host.pause()
        assert time.monotonic() - started < 0.3 + 0.5  # waited for the view at most publish_wait_s
        requested = time.monotonic()
        host.emergency_stop()
        assert time.monotonic() - requested < 0.1
        wait_until(lambda: printer.emergency_received_at is not None, timeout_s=2.0)
        assert printer.emergency_received_at - requested < 0.25
    finally:
        release.set()
    wait_until(lambda: host.state == "error", message="the views catch up once the listener returns")


@pytest.mark.parametrize("echo_prefix", [False, True])
def test_printer_sent_actions_pause_resume_and_cancel(make_printer, make_host, echo_prefix):
    printer = make_printer(time_scale=0.2)
    host = make_host(printer)
    host.start_job(moves_program(3000, header=("M104 S200",)))
    wait_until(lambda: host.progress()["lines_acked"] > 10)
    printer.send_action("pause", echo_prefix=echo_prefix)
    assert host.wait_for_state("paused", timeout=5) == "paused"
    printer.send_action("resume", echo_prefix=echo_prefix)
    assert host.wait_for_state("printing", timeout=5) == "printing"
    printer.send_action("cancel", echo_prefix=echo_prefix)
    result = host.wait_for_job(timeout=30)
    assert result.status == JobStatus.CANCELLED and result.restart_from_line > 1
    assert "on the printer" in result.reason
    assert printer.heaters["T0"].target == 0


def test_m600_and_an_action_fault_pause_the_job(make_printer, make_host):
    printer = make_printer("action@20:pause")
    host = make_host(printer)
    host.start_job(moves_program(200))
    assert host.wait_for_state("paused", timeout=5) == "paused"
    host.resume()
    assert host.wait_for_job(timeout=20).status == JobStatus.DONE
    host.start_job(moves_program(20, header=("M600",)))
    assert host.wait_for_state("paused", timeout=5) == "paused"
    host.resume()
    assert host.wait_for_job(timeout=20).status == JobStatus.DONE


def test_10000_printer_sent_pause_resume_actions_during_a_job_do_not_hang_the_host(make_printer, make_host, caplog):
    # The former host deadlocked here after a few hundred actions (the reader paused under the
    # host lock and published; the watchdog published and then took the host lock).
    printer = make_printer(time_scale=0.05)
    host = make_host(printer, comm_timeout_s=2.0)
    views: list[HostSnapshot] = []
    host.add_listener(lambda snapshot: (views.append(snapshot), host.progress()))  # calls back into the host
    host.param.watch(lambda *events: host.snapshot(), ["state", "job_lines_acked"])  # calls back too
    program = moves_program(6000)
    printer.clear_log()
    host.start_job(program)
    wait_until(lambda: host.progress()["lines_acked"] > 20)
    started = time.monotonic()
    for index in range(5000):
        printer.send_action("pause", echo_prefix=index % 3 == 0)
        printer.send_action("resume", echo_prefix=index % 3 == 1)
    assert printer.actions_sent == 10_000
    result = host.wait_for_job(timeout=60)
    took = time.monotonic() - started
    assert result.status == JobStatus.DONE, result
    executed = job_commands(printer)
    pauses = executed.count("M114")  # each pause acted on asks for the position
    assert pauses > 500, pauses  # the actions really interleaved with the job
    assert [c for c in executed if c != "M114"] == program.commands  # exactly once, in order
    assert views and views[-1].state in (HostState.OPERATIONAL, HostState.PRINTING)

    # ... and afterwards an emergency stop still reaches the printer at once
    host.start_job(moves_program(5000))
    wait_until(lambda: host.current_state in JOB_STATES and host.progress()["lines_acked"] > 10)
    requested = time.monotonic()
    host.emergency_stop()
    wait_until(lambda: printer.emergency_received_at is not None, timeout_s=2.0)
    assert printer.emergency_received_at - requested < 0.25
    assert host.wait_for_state("error", timeout=2) == "error"
    assert took < 60
    assert not [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
