"""The sans-I/O streaming core on its own: fed replies and times, no port, no thread."""

from __future__ import annotations

from device_io.job import PrintJob
from device_io.protocol import Ok, parse_line, unframe
from device_io.streaming import Failed, JobDone, LineStreamer, MarkerAcknowledged


def sent(core: LineStreamer) -> list[tuple[int, str]]:
    """The lines the core wrote since the last call, as (number, command), checksums verified."""
    lines = []
    for raw in core.take_output().decode("ascii").splitlines():
        line = unframe(raw)
        assert line.checksum_ok, raw
        lines.append((line.number, line.command))
    return lines


def ok(core: LineStreamer, now: float = 0.0, text: str = "ok") -> None:
    core.line_received()
    events = parse_line(text)
    core.on_ok(events[-1], text, events, now)


def job(count: int, name: str = "part.gcode") -> PrintJob:
    return PrintJob.from_lines(["; header", *(f"G1 X{i}" for i in range(count))], name=name).streamed_from(1)


def started(count: int = 10, **params) -> LineStreamer:
    core = LineStreamer(**{"window": 4, "resend_settle_s": 0.0, **params})
    core.begin_job(job(count), now=0.0)
    assert sent(core) == [(0, "M110 N0")]  # numbering restarts at N0 ...
    core.pump(0.0)
    assert sent(core) == []  # ... and nothing follows the M110 until its ok
    ok(core)
    return core


def test_lines_are_numbered_from_1_and_the_window_is_kept():
    core = started()
    core.pump(0.0)
    assert sent(core) == [(1, "G1 X0"), (2, "G1 X1"), (3, "G1 X2"), (4, "G1 X3")]
    ok(core)
    core.pump(0.0)
    assert sent(core) == [(5, "G1 X4")]
    progress = core.progress(1.0)
    assert progress["lines_acked"] == 1 and progress["lines_total"] == 10
    assert progress["last_acked_line"] == 2  # the file's line of the first command (line 1 is a comment)


def test_a_resend_request_sends_the_history_again_from_that_line():
    core = started()
    core.pump(0.0)
    sent(core)
    ok(core)  # line 1 executed
    assert core.line_received() is False
    core.on_resend(2, now=0.0)  # line 2 arrived corrupted; 3 and 4 were dropped with it
    assert core.line_received() is True  # the ok after `Resend:` belongs to the request
    core.pump(0.0)
    assert sent(core) == [(2, "G1 X1"), (3, "G1 X2"), (4, "G1 X3"), (5, "G1 X4")]
    assert core.resends == 1


def test_a_resend_waits_for_the_settle_time():
    core = started(resend_settle_s=0.05)
    core.pump(0.0)
    sent(core)
    core.on_resend(1, now=1.0)
    core.pump(1.0)
    assert sent(core) == [] and core.busy
    core.tick(1.02)
    assert sent(core) == []
    core.tick(1.06)
    assert [number for number, _ in sent(core)] == [1, 2, 3, 4]


def test_a_resend_of_a_line_not_in_the_history_fails():
    core = started(history=16)
    core.pump(0.0)
    sent(core)
    core.on_resend(40, now=0.0)
    (failure,) = core.take_effects()
    assert isinstance(failure, Failed) and "not in the resend history" in failure.message
    core.pump(0.0)
    assert sent(core) == []


def test_identical_resends_without_progress_fail_after_the_give_up_time():
    core = started(max_identical_resends=3, resend_give_up_s=1.0)
    core.pump(0.0)
    sent(core)
    for now in (0.0, 0.1, 0.2, 0.3):
        core.on_resend(1, now)
        core.pump(now)
    assert core.take_effects() == []  # over the count, but not yet for long enough
    core.on_resend(1, 1.5)
    (failure,) = core.take_effects()
    assert "asked for line 1 5 times in a row" in failure.message


def test_receive_buffer_accounting_sends_ahead_by_bytes():
    core = LineStreamer(window=2, rx_buffer_bytes=64, resend_settle_s=0.0)
    core.begin_job(job(40), now=0.0)
    core.pump(0.0)
    assert len(sent(core)) == 1  # the M110 alone: nothing acknowledged yet
    ok(core)
    core.pump(0.0)
    wire = core.take_output()
    assert wire.count(b"\n") > 2  # more lines than the 2-line command buffer ...
    assert 64 - 16 < len(wire) <= 64  # ... as many as 64 bytes of receive buffer hold
    ok(core)
    core.pump(0.0)
    assert len(core.take_output()) <= 16  # one line acknowledged: room for about one more
    core.on_resend(3, now=0.0)  # stale copies may sit in the buffer uncounted: back to the window
    core.pump(0.0)
    assert core.take_output().count(b"\n") <= 2


def test_a_timeout_probes_with_m105_then_fails():
    core = started(comm_timeout_s=1.0, max_timeouts=2)
    core.pump(0.0)
    sent(core)
    core.tick(0.5)
    assert sent(core) == []
    core.tick(1.1)
    assert sent(core) == [(5, "M105")]
    assert core.timeouts == 1
    core.tick(2.2)
    (failure,) = core.take_effects()
    assert "no answer from the printer" in failure.message


def test_an_ok_with_temperatures_acknowledges_everything_before_its_m105():
    core = started()
    core.pump(0.0)
    sent(core)
    core.queue("M105", "poll")
    ok(core)  # line 1
    core.pump(0.0)
    assert sent(core) == [(5, "M105")]
    # the oks of lines 2 to 4 were lost; the M105's answer proves they were executed
    ok(core, text="ok T:20.0 /0.0 B:20.0 /0.0")
    assert core.in_flight == 0
    assert core.progress(0.0)["lines_acked"] == 4


def test_paused_job_sends_queued_commands_only_and_the_marker_is_reported():
    core = started(count=3)
    core.job_paused = True
    core.queue("M114", "pause-position")
    core.pump(0.0)
    assert sent(core) == [(1, "M114")]
    ok(core)
    assert core.take_effects() == [MarkerAcknowledged("pause-position")]
    core.job_paused = False
    core.pump(0.0)
    assert [command for _, command in sent(core)] == ["G1 X0", "G1 X1", "G1 X2"]
    for _ in range(3):
        ok(core)
    assert core.take_effects() == [JobDone()]
    assert core.progress(0.0)["percent"] == 100.0


def test_a_restart_streams_the_preamble_before_the_file_line():
    program = PrintJob.from_lines(["M104 S200", "G28", "G1 Z0.3 F600", "G1 X5 Y5", "G1 X6 Y6", "G1 X7 Y7"])
    restarted = program.streamed_from(5)
    assert restarted.commands[restarted.preamble :] == ["G1 X6 Y6", "G1 X7 Y7"]
    assert "M109 S200" in restarted.commands[: restarted.preamble]
    assert restarted.file_lines[restarted.preamble :] == [5, 6]
    core = LineStreamer(window=64)
    core.begin_job(restarted, 0.0)
    assert sent(core) == [(0, "M110 N0")]
    ok(core)
    core.pump(0.0)
    assert [command for _, command in sent(core)] == restarted.commands
    for _ in restarted.commands:
        ok(core)
    progress = core.progress(0.0)
    assert progress["lines_total"] == progress["lines_acked"] == 2  # the preamble is not the file's
    assert progress["last_acked_line"] == 6


def test_ok_without_lines_in_flight_is_ignored():
    core = LineStreamer()
    core.on_ok(Ok(), "ok", [Ok()], 0.0)
    assert core.take_effects() == [] and core.take_output() == b""


def test_the_sent_through_line_follows_what_the_firmware_will_execute_and_rewinds_on_a_resend():
    core = started()
    assert core.sent_through_line == 0
    core.pump(0.0)
    sent(core)  # N1-N4: file lines 2-5 (line 1 is a comment)
    assert core.sent_through_line == 5 and core.last_acked_line == 0
    ok(core)
    assert core.sent_through_line == 5 and core.last_acked_line == 2
    core.on_resend(3, now=0.0)  # the firmware dropped N3 and N4 (file lines 4, 5)
    assert core.sent_through_line == 3
    core.line_received()
    core.pump(0.0)
    assert sent(core) == [(3, "G1 X2"), (4, "G1 X3"), (5, "G1 X4")]
    assert core.sent_through_line == 6


def test_a_restarted_job_counts_its_sent_lines_from_the_restart_line_not_the_preamble():
    moves = PrintJob.from_lines(["; header", *(f"G1 X{i} E{i}" for i in range(10))], name="part.gcode")
    core = LineStreamer(window=4, resend_settle_s=0.0)
    core.begin_job(moves.streamed_from(7), now=0.0)
    assert core.sent_through_line == 6
    sent(core)
    ok(core)
    core.pump(0.0)
    assert all(number and command for number, command in sent(core))  # the preamble's first lines
    assert core.sent_through_line == 6
