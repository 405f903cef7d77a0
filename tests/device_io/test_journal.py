"""The sent-line journal file: append-only records, the last complete one wins, a torn tail is ignored."""

from __future__ import annotations

from device_io.journal import SentLineJournal, read_sent_line


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
