"""The sent-line journal file: append-only records, the last complete one wins, a torn tail is ignored;
an unconfirmed write is settled by the line number the printer says it last received."""

from __future__ import annotations

from device_io.journal import JournalTail, SentLineJournal, read_journal, read_sent_line
from tests.device_io.helpers import job_commands, moves_program


def test_the_last_complete_record_is_read_and_a_torn_one_ignored(tmp_path):
    path = tmp_path / "p1.lines"
    journal = SentLineJournal(path, start_line=40)
    assert read_sent_line(path) == 40
    for line in range(41, 5000):
        journal.record(line)
    journal.record(4999)  # unchanged: not written again
    assert read_sent_line(path) == 4999
    size = path.stat().st_size
    with open(path, "ab") as handle:
        handle.write(b"50")  # a record cut short by a crash
    assert read_sent_line(path) == 4999
    journal.close()
    assert size == len("".join(f"{n}\n" for n in range(40, 5000)))
    assert read_sent_line(tmp_path / "missing.lines") is None


def test_a_new_journal_replaces_the_previous_jobs_records(tmp_path):
    path = tmp_path / "p1.lines"
    SentLineJournal(path).record(900)
    assert read_sent_line(path) == 900
    SentLineJournal(path, start_line=0)
    assert read_sent_line(path) == 0


def test_an_unconfirmed_write_is_settled_by_the_line_number_the_printer_last_received(tmp_path):
    path = tmp_path / "p1.lines"
    journal = SentLineJournal(path, start_line=0)
    journal.intend(0, 12, 15)
    journal.record(12)
    assert read_journal(path) == JournalTail(12)  # confirmed: no question left
    journal.intend(12, 14, 18)  # killed here: were lines 13-14 (numbers up to 18) written?
    tail = read_journal(path)
    assert tail == JournalTail(12, 14, 18)
    assert read_sent_line(path) == 12  # without the printer's word: not sent
    assert tail.resolve(18) == 14 and tail.resolve(25) == 14  # the printer got line 18 (or later)
    assert tail.resolve(17) == 12 and tail.resolve(0) == 12  # it did not (0: it reset when the port opened)
    assert tail.resolve(None) == 12  # it did not say
    with open(path, "ab") as handle:
        handle.write(b"?14 16")  # an intent torn by the kill: the previous complete record counts
    assert read_journal(path) == JournalTail(12, 14, 18)
    journal.close()


def test_a_new_host_asks_the_printer_which_line_number_it_last_received(make_printer, make_host, tmp_path):
    printer = make_printer(reset_on_open=False)  # native USB: opening the port does not reset the board
    first = make_host(printer)
    first.start_job(moves_program(200), journal_path=tmp_path / "p1.lines")
    assert first.wait_for_job(timeout=20)["status"] == "done"
    first.disconnect()  # as if the process died: the board keeps its line counter
    received = max(entry.number for entry in printer.executed() if entry.number is not None)
    second = make_host(printer, connect=False)
    second.connect(printer.path, probe_line_number=True)
    assert second.probed_line_number == received >= 200
    assert second.state == "operational"  # the probe's error, resend and ok did not upset the handshake
    program = moves_program(50)
    printer.clear_log()
    second.start_job(program)
    assert second.wait_for_job(timeout=20)["status"] == "done"
    assert job_commands(printer) == program.commands


def test_a_board_that_resets_on_open_reports_line_0_or_nothing(make_printer, make_host):
    printer = make_printer()
    first = make_host(printer)
    first.start_job(moves_program(20))
    assert first.wait_for_job(timeout=20)["status"] == "done"
    first.disconnect()
    second = make_host(printer, connect=False)
    second.connect(printer.path, probe_line_number=True)
    # booting, it drops the question, or answers with its fresh counter: either way "not received"
    assert second.probed_line_number in (None, 0) and second.state == "operational"
