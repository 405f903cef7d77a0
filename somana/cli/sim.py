"""`somana sim`: run the virtual Marlin printer on a pseudo-terminal and print its device path.

Fault SPECs (repeat --fault): checksum@LINE[,LINE..], checksum-rate=P, lost-ok@LINE,
resend-no-ok@LINE, busy@LINE:DURATION, reset@LINE, drop@LINE, action@LINE:pause|resume|cancel
(the printer sends `//action:NAME` after the line, as its menu or a runout sensor would),
latency=DURATION, seed=N (LINE is the line number N the host sends; DURATION like 2ms or 1.5s).
M600 in a job makes the printer send `//action:pause`. See device_io.simulator.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading

from somana_core.errors import InputError

FAULT_HELP = (
    "inject a fault (repeatable): checksum@120[,121] | checksum-rate=0.01 | lost-ok@500 | "
    "resend-no-ok@800 | busy@300:2s | reset@4000 | drop@5000 | action@300:pause | latency=2ms | seed=7 "
    "(LINE numbers are the N the host sends; each @ fault fires once)"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--baud", type=int, default=115200, help="serial speed the printer claims, baud (a pty ignores it)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay of every reply, ms")
    parser.add_argument("--fault", action="append", default=[], metavar="SPEC", help=FAULT_HELP)
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="multiplies simulated durations (moves, homing, heating): 1 real time, 0.01 100x faster, 0 instant",
    )
    parser.add_argument("--bufsize", type=int, default=16, help="firmware command buffer, lines")
    parser.add_argument("--rx-buffer-bytes", type=int, default=2048, help="serial receive buffer, bytes (overflow drops bytes)")
    parser.add_argument("--no-advanced-ok", action="store_true", help="plain `ok` without N/P/B counts")
    parser.add_argument("--no-autoreport", action="store_true", help="no AUTOREPORT_TEMP capability (host polls M105)")
    parser.add_argument("--no-emergency-parser", action="store_true", help="M112 waits in the command buffer")
    parser.add_argument("--json", action="store_true", help='print {"port": PATH} instead of the bare path')


def run(args) -> int:
    from device_io.simulator import FaultPlan, VirtualPrinter
    from device_io.transport import STANDARD_BAUDRATES

    if args.baud not in STANDARD_BAUDRATES:
        raise InputError("--baud", f"--baud {args.baud} is not a standard rate; use one of {', '.join(map(str, STANDARD_BAUDRATES))}")
    if not 0 <= args.latency_ms <= 10_000:
        raise InputError("--latency-ms", f"--latency-ms {args.latency_ms} is outside 0 to 10000 ms")
    if args.time_scale < 0:
        raise InputError("--time-scale", f"--time-scale {args.time_scale} is below 0")
    if not 1 <= args.bufsize <= 1024:
        raise InputError("--bufsize", f"--bufsize {args.bufsize} is outside 1 to 1024 lines")
    if not 64 <= args.rx_buffer_bytes <= 65536:
        raise InputError("--rx-buffer-bytes", f"--rx-buffer-bytes {args.rx_buffer_bytes} is outside 64 to 65536")
    try:
        faults = FaultPlan.parse(args.fault)
    except ValueError as exc:
        raise InputError("--fault", f"--fault {exc}") from None
    if args.latency_ms:
        faults.latency_s = args.latency_ms / 1000.0

    printer = VirtualPrinter(
        faults,
        bufsize=args.bufsize,
        planner_slots=args.bufsize,
        rx_buffer_bytes=args.rx_buffer_bytes,
        time_scale=args.time_scale,
        advanced_ok=not args.no_advanced_ok,
        autoreport_temp=not args.no_autoreport,
        emergency_parser=not args.no_emergency_parser,
    )
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, lambda *_: stop.set())
    path = printer.start()
    print(json.dumps({"port": path}) if args.json else path, flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        printer.stop()
    return 0
