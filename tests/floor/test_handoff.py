"""A G-code file handed to a station in chunks over a real Mosquitto (somana_core.floor.handoff): it
prints byte for byte; a file that arrives with a piece missing, a piece damaged, fewer pieces than
announced, another checksum or nothing at all is refused with a message saying so, and no partial file
is left behind."""

from __future__ import annotations

import base64
import hashlib
import os

import pytest

from device_io.simulator import VirtualPrinter
from somana_core.errors import InputError
from somana_core.floor import bus as floor_bus
from somana_core.floor import handoff
from somana_core.floor.station import PrinterSpec, Station
from tests.floor.conftest import job_text
from tests.support.waiting import wait_until


@pytest.fixture(scope="module")
def sim():
    printer = VirtualPrinter(time_scale=0.02)
    printer.start()
    yield printer
    printer.stop()


@pytest.fixture(scope="module")
def station(broker, sim, tmp_path_factory):
    started = Station("handoff", [PrinterSpec("p1", sim.path)], broker.url, publish_interval_s=0.05,
                      home=tmp_path_factory.mktemp("station-home")).start()
    yield started
    started.stop()


KEY = "handoff/p1"


def _operational(fleet):
    wait_until(lambda: fleet.printers().get(KEY, {}).get("shown_state") == "operational", 15,
               message="the printer operational on the bus")


def _reply(fleet, command_id, timeout_s=30.0):
    reply = fleet.wait_reply(command_id, timeout_s)
    assert reply is not None, "no reply from the station"
    return reply


def test_a_file_sent_in_chunks_prints_byte_for_byte(fleet, station, tmp_path):
    _operational(fleet)
    source = tmp_path / "chunked.gcode"
    source.write_text(job_text(30) + "".join(f"; padding line {i:06d} {'x' * 40}\n" for i in range(30_000)))
    assert source.stat().st_size > 3 * handoff.CHUNK_BYTES  # several pieces, more than the window
    seen = []
    upload = fleet.send_file(KEY, source, progress=lambda sent, size: seen.append(sent))
    assert upload["chunks"] == -(-source.stat().st_size // handoff.CHUNK_BYTES) and seen[-1] == source.stat().st_size
    assert upload["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    reply = _reply(fleet, fleet.command(KEY, "start", upload=upload, name="chunked.gcode"))
    assert reply["ok"], reply
    printed = next(station.jobs_folder.glob("p1-*-chunked.gcode"))
    assert printed.read_bytes() == source.read_bytes()
    assert list(station.incoming.folder.glob("*.part")) == []
    wait_until(lambda: (fleet.printers()[KEY]["history"] or [{}])[0].get("outcome") == "done", 60,
               message="the job to end")


def _pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i:i + size] for i in range(0, len(data), size)] or [b""]


def _send_pieces(fleet, pieces, transfer_id, seqs=None, damage=None):
    topic = floor_bus.printer_topic("handoff", "p1", "cmd")
    for seq in seqs if seqs is not None else range(len(pieces)):
        text = base64.b64encode(pieces[seq]).decode("ascii")
        if damage == seq:
            text = text[:-4] + "!!!!"
        fleet._bus.publish(topic, floor_bus.new_command("chunk", upload=transfer_id, seq=seq, of=len(pieces),
                                                        data=text)).wait_for_publish(5)


@pytest.mark.parametrize("how, says", [
    ("missing piece", "piece 2 never arrived (piece 3 came next)"),
    ("damaged piece", "piece 2 arrived damaged"),
    ("cut short", "it arrived incomplete (2 of 3 pieces"),
    ("other checksum", "it arrived corrupt (its SHA-256 checksum is not the sender's)"),
    ("nothing sent", "none of it reached the station"),
])
def test_a_partial_or_corrupt_file_is_refused_and_nothing_prints(fleet, station, how, says):
    _operational(fleet)
    data = job_text(2000).encode()[:3000]
    pieces = _pieces(data, 1024)
    transfer_id = os.urandom(16).hex()
    upload = {"id": transfer_id, "size": len(data), "chunks": len(pieces), "sha256": hashlib.sha256(data).hexdigest()}
    if how == "missing piece":
        _send_pieces(fleet, pieces, transfer_id, seqs=[0, 2])
    elif how == "damaged piece":
        _send_pieces(fleet, pieces, transfer_id, damage=1)
    elif how == "cut short":
        _send_pieces(fleet, pieces, transfer_id, seqs=[0, 1])
    elif how == "other checksum":
        _send_pieces(fleet, pieces, transfer_id)
        upload["sha256"] = hashlib.sha256(data + b"\n").hexdigest()
    jobs_before = sorted(station.jobs_folder.iterdir())
    reply = _reply(fleet, fleet.command(KEY, "start", upload=upload, name="bad.gcode"))
    assert not reply["ok"] and reply["message"].startswith("bad.gcode was not printed: ")
    assert says in reply["message"] and reply["message"].endswith("; send it again"), reply["message"]
    assert sorted(station.jobs_folder.iterdir()) == jobs_before  # nothing reached a printer
    assert list(station.incoming.folder.glob("*.part")) == []  # no partial file left
    assert fleet.printers()[KEY]["shown_state"] == "operational"


def test_a_file_larger_than_the_station_takes_stops_at_the_limit(tmp_path):
    incoming = handoff.Incoming(tmp_path / "in", max_bytes=2000)
    transfer_id = os.urandom(16).hex()
    for seq, piece in enumerate(_pieces(b"G1 X1\n" * 500, 1000)):
        incoming.receive({"upload": transfer_id, "seq": seq, "data": base64.b64encode(piece).decode()})
        assert (tmp_path / "in" / f"{transfer_id}.part").exists() == (seq < 2)  # written, then deleted at the limit
    with pytest.raises(InputError, match="larger than 0.0 MB, the most a station takes"):
        incoming.take({"id": transfer_id, "size": 3000, "chunks": 3, "sha256": "0" * 64}, "big.gcode")
    with pytest.raises(InputError, match="upload needs id"):
        incoming.take({"id": "../../etc/passwd", "size": 1, "chunks": 1, "sha256": "0" * 64}, "x.gcode")


# What a station re-checks before a file prints, whoever sent it: a station is reachable by any client of
# the bus, so the web upload's check (somana_core.gcode_check) is not enough. (content, reason in the reply)
NOT_GCODE = {
    "binary": (b"\x00\x01\x02binary" + bytes(range(256)) * 40, "is not text G-code: line 1 holds the byte 0x00"),
    "csv": (b"name,price\nkit,87.56\n" * 50, "line 1 'name,price' is not a command"),
    "comments only": (b"; nothing to print\n(really nothing)\n", "holds only comments"),
    "escape sequence": (b"G28\n\x1b[2J\x1b[31mM104 S999\n", "line 2 holds the byte 0x1b"),
}


def _start_refused(fleet, station, field: str, says: str, **how) -> None:
    jobs_before = sorted(station.jobs_folder.iterdir())
    history_before = fleet.printers()[KEY]["history"]
    reply = _reply(fleet, fleet.command(KEY, "start", name="job.gcode", **how))
    message = reply["message"]
    assert not reply["ok"] and message.startswith(f"{field} refused: "), message  # the field, first
    assert says in message and "\n" not in message, message  # why, on one line
    assert sorted(station.jobs_folder.iterdir()) == jobs_before  # the refused file is not kept
    assert fleet.printers()[KEY]["shown_state"] == "operational"  # nothing started
    assert fleet.printers()[KEY]["history"] == history_before


@pytest.mark.parametrize("kind", list(NOT_GCODE))
@pytest.mark.parametrize("field", ["gcode", "upload", "path"])
def test_a_station_refuses_what_is_not_text_gcode_however_it_comes(fleet, station, tmp_path, field, kind):
    _operational(fleet)
    data, says = NOT_GCODE[kind]
    if field == "gcode":  # the job's text in the command (JSON carries any character, NULs included)
        how = {"gcode": data.decode("latin-1")}
        says = says if kind != "binary" else "line 1 holds the byte 0x00"
    else:
        source = tmp_path / "job.gcode"
        source.write_bytes(data)
        how = {"upload": fleet.send_file(KEY, source)} if field == "upload" else {"path": str(source)}
    _start_refused(fleet, station, field, says, **how)


@pytest.mark.parametrize("gcode, says", [
    ([1, 2, 3], "gcode must be the job's G-code as text, not a list"),
    ("G28\n; \ud800\n", "is not text G-code: character 7 is not text"),  # a lone surrogate: JSON allows it
    ("G1 X1\n" * 400, "job.gcode is 0.0 MB: at most 0.0 MB"),  # above the station's limit (lowered here)
], ids=["not a string", "lone surrogate", "too large"])
def test_a_gcode_text_that_cannot_be_a_file_is_refused_on_its_field(fleet, station, monkeypatch, gcode, says):
    _operational(fleet)
    from somana_core.floor import station as station_module

    monkeypatch.setattr(station_module, "MAX_GCODE_BYTES", 1000)
    _start_refused(fleet, station, "gcode", says, gcode=gcode)


def test_a_real_gcode_text_with_a_non_ascii_comment_still_prints(fleet, station):
    _operational(fleet)
    reply = _reply(fleet, fleet.command(KEY, "start", gcode="; Zoë's lid\n" + job_text(20), name="zoe\n.gcode"))
    assert reply["ok"] and reply["message"] == "printing zoe_.gcode", reply  # a name is one printable line
    wait_until(lambda: (fleet.printers()[KEY]["history"] or [{}])[0].get("outcome") == "done", 60,
               message="the job to end")
