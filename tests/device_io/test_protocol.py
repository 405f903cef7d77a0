"""Framing and the reply parser against the forms real firmwares print (Marlin 1.x/2.x, Prusa,
Repetier, Klipper, Smoothie wording)."""

from __future__ import annotations

import pytest

from device_io.protocol import (
    COMMUNICATION,
    FATAL,
    WARNING,
    Busy,
    Capability,
    Echo,
    FirmwareError,
    FirmwareInfo,
    HostAction,
    Ok,
    Position,
    Resend,
    Start,
    TemperatureReport,
    Unknown,
    Wait,
    checksum,
    clean_command,
    frame,
    line_number_reset,
    parse_line,
    unframe,
)
from device_io.simulator import FaultPlan, parse_duration


def test_frame_matches_the_reprap_checksum():
    # The RepRap wiki's worked example: "N123 M105" has checksum 35... computed by XOR of bytes
    body = "N123 M105"
    expected = 0
    for char in body:
        expected ^= ord(char)
    assert frame(123, "M105") == f"{body}*{expected}"
    assert checksum("") == 0
    assert line_number_reset(0) == f"N0 M110 N0*{checksum('N0 M110 N0')}"


def test_unframe_reverses_frame_and_detects_corruption():
    line = unframe(frame(41, "G1 X10.5 Y3 F1200"))
    assert (line.number, line.command, line.checksum_ok) == (41, "G1 X10.5 Y3 F1200", True)
    corrupted = frame(41, "G1 X10.5 Y3 F1200").replace("X10.5", "X10.6")
    assert not unframe(corrupted).checksum_ok
    plain = unframe("M105")
    assert (plain.number, plain.command, plain.checksum) == (None, "M105", None)


@pytest.mark.parametrize(
    "line, expected",
    [
        ("G1 X10 ; a move", "G1 X10"),
        ("   ; only a comment", ""),
        ("", ""),
        ("(RS274 comment)", ""),
        ("M104 S200\t", "M104 S200"),
    ],
)
def test_clean_command_drops_comments_and_space(line, expected):
    assert clean_command(line) == expected


# (reply, the events expected, in order)
REPLIES = [
    ("ok", [Ok()]),
    ("ok\r", [Ok()]),
    ("ok N12 P15 B3", [Ok(12, 15, 3)]),
    ("ok P15 B3", [Ok(None, 15, 3)]),
    ("ok 12", [Ok(line_number=12)]),  # Repetier / Teacup echo the line number
    (
        "ok T:21.3 /0.0 B:20.1 /0.0 @:0 B@:0",
        [TemperatureReport({"T": (21.3, 0.0), "B": (20.1, 0.0)}, {"T": 0, "B": 0}), Ok()],
    ),
    ("ok B:20.0 /0.0", [TemperatureReport({"B": (20.0, 0.0)}, {}), Ok()]),  # B: is a bed, not a buffer count
    ("T:22.0 /0.0 B:22.1 /0.0 ok", [TemperatureReport({"T": (22.0, 0.0), "B": (22.1, 0.0)}, {}), Ok()]),
    (
        "T:21.30 /0.00 B:21.00 /0.00 @:0 B@:0",  # an M155 auto-report: no ok
        [TemperatureReport({"T": (21.3, 0.0), "B": (21.0, 0.0)}, {"T": 0, "B": 0})],
    ),
    (
        "ok T:210.0 /210.0 B:60.1 /60.0 T0:210.0 /210.0 T1:25.0 /0.0 @:64 B@:30 @0:64 @1:0",
        [
            TemperatureReport(
                {"T": (210.0, 210.0), "B": (60.1, 60.0), "T0": (210.0, 210.0), "T1": (25.0, 0.0)},
                {"T": 64, "B": 30, "T0": 64, "T1": 0},
            ),
            Ok(),
        ],
    ),
    ("T:201.5 E:0 W:?", [TemperatureReport({"T": (201.5, None)}, {})]),  # Marlin 1.x while M109 waits
    (
        "T:200.0 /200.0 B:60.0 /60.0 T0:200.0 /200.0 @:0 B@:0 P:35.2 A:40.1",  # Prusa: probe and ambient
        [
            TemperatureReport(
                {"T": (200.0, 200.0), "B": (60.0, 60.0), "T0": (200.0, 200.0), "P": (35.2, None), "A": (40.1, None)},
                {"T": 0, "B": 0},
            )
        ],
    ),
    ("Resend: 5", [Resend(5)]),
    ("Resend:5", [Resend(5)]),
    ("rs 5", [Resend(5)]),
    ("rs N5", [Resend(5)]),
    ("echo:busy: processing", [Busy("processing")]),
    ("busy: processing", [Busy("processing")]),
    ("echo:busy: paused for user", [Busy("paused for user")]),
    ("echo:busy: paused for input", [Busy("paused for input")]),
    ("wait", [Wait()]),
    ("start", [Start()]),
    (
        "Error:Line Number is not Last Line Number+1, Last Line: 41",
        [FirmwareError("Line Number is not Last Line Number+1, Last Line: 41", COMMUNICATION)],
    ),
    ("Error:checksum mismatch, Last Line: 41", [FirmwareError("checksum mismatch, Last Line: 41", COMMUNICATION)]),
    (
        "Error:No Checksum with line number, Last Line: 12",
        [FirmwareError("No Checksum with line number, Last Line: 12", COMMUNICATION)],
    ),
    ("Error:Printer halted. kill() called!", [FirmwareError("Printer halted. kill() called!", FATAL)]),
    (
        "Error:Thermal Runaway, system stopped! Heater_ID: 0",
        [FirmwareError("Thermal Runaway, system stopped! Heater_ID: 0", FATAL)],
    ),
    (
        "Error:MINTEMP triggered, system stopped! Heater_ID: bed",
        [FirmwareError("MINTEMP triggered, system stopped! Heater_ID: bed", FATAL)],
    ),
    ("Error: MAXTEMP triggered", [FirmwareError("MAXTEMP triggered", FATAL)]),
    ("Error:Heating failed, system stopped! Heater_ID: 0", [FirmwareError("Heating failed, system stopped! Heater_ID: 0", FATAL)]),
    ('echo:Unknown command: "M4242"', [FirmwareError('Unknown command: "M4242"', WARNING)]),
    ("!! Move out of range: 0.000 0.000 -5.000 [0.000]", [FirmwareError("Move out of range: 0.000 0.000 -5.000 [0.000]", WARNING)]),
    ("X:10.00 Y:20.00 Z:0.30 E:1.20 Count X:800 Y:1600 Z:120", [Position({"X": 10.0, "Y": 20.0, "Z": 0.3, "E": 1.2})]),
    (
        "X:0.00 Y:0.00 Z:0.15 E:0.00 Count X: 0.00 Y:0.00 Z:0.15 E:0.00",  # Prusa
        [Position({"X": 0.0, "Y": 0.0, "Z": 0.15, "E": 0.0})],
    ),
    ("X:1.000 Y:2.000 Z:3.000 E:4.000", [Position({"X": 1.0, "Y": 2.0, "Z": 3.0, "E": 4.0})]),  # Klipper
    ("Cap:AUTOREPORT_TEMP:1", [Capability("AUTOREPORT_TEMP", True)]),
    ("Cap:EMERGENCY_PARSER:0", [Capability("EMERGENCY_PARSER", False)]),
    ("echo:SD card ok", [Echo("SD card ok")]),  # "ok" inside an echo is not an acknowledgement
    ("echo:  G21    ; Units in mm (mm)", [Echo("G21    ; Units in mm (mm)")]),
    ("//action:pause", [HostAction("pause")]),  # Marlin: no echo: prefix
    ("echo://action:resume", [HostAction("resume")]),  # some builds add one
    ("echo: //action:cancel", [HostAction("cancel")]),
    ("//action:prompt_begin Filament runout", [HostAction("prompt_begin", "Filament runout")]),
    ("// Klipper state: Ready", [Echo("Klipper state: Ready")]),
    ("Not SD printing", [Unknown("Not SD printing")]),
    ("", []),
]


@pytest.mark.parametrize("reply, expected", REPLIES, ids=[reply or "<empty>" for reply, _ in REPLIES])
def test_parser_reads_real_world_replies(reply, expected):
    assert parse_line(reply) == expected


@pytest.mark.parametrize(
    "line, fields",
    [
        (
            "FIRMWARE_NAME:Marlin 2.1.2.1 (Jul 11 2023 10:00:00) SOURCE_CODE_URL:github.com/MarlinFirmware/Marlin "
            "PROTOCOL_VERSION:1.0 MACHINE_TYPE:Ender-3 V2 EXTRUDER_COUNT:1 UUID:cede2a2f-41a2-4748-9b12-c55c62f367ff",
            {"FIRMWARE_NAME": "Marlin 2.1.2.1 (Jul 11 2023 10:00:00)", "MACHINE_TYPE": "Ender-3 V2", "EXTRUDER_COUNT": "1"},
        ),
        (
            "FIRMWARE_NAME:Prusa-Firmware 3.13.0 based on Marlin FIRMWARE_URL:https://github.com/prusa3d/Prusa-Firmware "
            "PROTOCOL_VERSION:1.0 MACHINE_TYPE:Prusa i3 MK3S EXTRUDER_COUNT:1",
            {
                "FIRMWARE_NAME": "Prusa-Firmware 3.13.0 based on Marlin",
                "FIRMWARE_URL": "https://github.com/prusa3d/Prusa-Firmware",
                "MACHINE_TYPE": "Prusa i3 MK3S",
            },
        ),
    ],
)
def test_parser_reads_m115_firmware_lines(line, fields):
    (info,) = parse_line(line)
    assert isinstance(info, FirmwareInfo)
    for key, value in fields.items():
        assert info.fields[key] == value
    assert info.name == fields["FIRMWARE_NAME"]


def test_fault_specs_parse_and_reject_nonsense():
    plan = FaultPlan.parse(
        ["checksum@120,121", "checksum-rate=0.01", "lost-ok@500", "resend-no-ok@800", "busy@300:2s", "busy@310:250ms",
         "reset@4000", "drop@5000", "latency=2ms", "seed=7"]
    )
    assert plan.checksum_at == {120, 121}
    assert plan.checksum_rate == 0.01
    assert plan.lost_ok_at == {500} and plan.resend_no_ok_at == {800}
    assert plan.busy_at == {300: 2.0, 310: 0.25}
    assert plan.reset_at == {4000} and plan.drop_at == {5000}
    assert plan.latency_s == pytest.approx(0.002) and plan.seed == 7
    assert parse_duration("1.5") == 1.5
    assert FaultPlan.parse(["action@300,310:pause"]).action_at == {300: "pause", 310: "pause"}
    for bad in ["action@300", "action@300:explode", "bogus@1", "checksum@x", "checksum-rate=2", "busy@300", "latency=fast", "drop", "checksum@0"]:
        with pytest.raises(ValueError):
            FaultPlan.parse([bad])
