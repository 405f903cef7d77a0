"""`somana print FILE.gcode --port PORT`: stream a G-code file to a printer with a progress bar.

Exit 0 when the printer acknowledged every line; on an error, what happened and the last
acknowledged line (restart with --from-line) and exit 1; Ctrl-C pauses and asks, then cancels
safely (heaters off, park) with exit 130.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading

from somana_core.errors import InputError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE.gcode", help="G-code to print")
    parser.add_argument("--port", required=True, help="device path (/dev/ttyUSB0, a `somana sim` pty) or pyserial URL")
    parser.add_argument("--baud", type=int, default=115200, help="serial speed, baud")
    parser.add_argument(
        "--from-line",
        type=int,
        default=1,
        help="restart an interrupted job at this file line: first a preamble heats, homes X/Y (not Z: the "
        "part is on the bed) and restores the position, extruder and fan the lines before left",
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="communication timeout, s (busy resets it)")
    parser.add_argument(
        "--rx-buffer-bytes",
        type=int,
        default=0,
        help="the firmware's receive buffer (Marlin RX_BUFFER_SIZE), bytes: send ahead into it; 0 = command buffer only",
    )
    parser.add_argument("--json", action="store_true", help="print the job result as JSON on stdout")


def _format_time(seconds) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _bar(progress: dict, width: int = 30) -> str:
    fraction = progress["percent"] / 100.0
    filled = int(round(width * fraction))
    return (
        f"[{'#' * filled}{'.' * (width - filled)}] {progress['lines_acked']}/{progress['lines_total']} lines "
        f"{progress['percent']:5.1f}%  elapsed {_format_time(progress['elapsed_s'])}  ETA {_format_time(progress['eta_s'])}"
    )


def _validate(args) -> None:
    from device_io.transport import STANDARD_BAUDRATES

    if not os.path.isfile(args.file):
        raise InputError("FILE", f"FILE {args.file!r} does not exist or is not a file")
    if args.baud not in STANDARD_BAUDRATES:
        raise InputError("--baud", f"--baud {args.baud} is not a standard rate; use one of {', '.join(map(str, STANDARD_BAUDRATES))}")
    if "://" not in args.port and not os.path.exists(args.port):
        raise InputError("--port", f"--port {args.port!r} does not exist (a device path or a pyserial URL)")
    if args.from_line < 1:
        raise InputError("--from-line", f"--from-line {args.from_line} is below 1")
    if not 0 <= args.rx_buffer_bytes <= 65536:
        raise InputError("--rx-buffer-bytes", f"--rx-buffer-bytes {args.rx_buffer_bytes} is outside 0 to 65536")
    if not 0.1 <= args.timeout <= 600:
        raise InputError("--timeout", f"--timeout {args.timeout} s is outside 0.1 to 600 s")


class _CtrlC:
    """Ctrl-C sets a flag the progress loop acts on (never an exception in the middle of the
    host's work); a second Ctrl-C while the question is asked interrupts the question."""

    def __init__(self):
        self.pressed = threading.Event()
        self.asking = False

    def __call__(self, signum, frame):
        if self.asking:
            raise KeyboardInterrupt
        self.pressed.set()


def _ask_cancel(host, ctrl_c: _CtrlC) -> bool:
    """Pause and ask; True means cancel. A second Ctrl-C or no answer (end of input) means cancel."""
    try:
        host.pause()
    except Exception:  # noqa: BLE001 - not printing any more: nothing to pause
        return False
    progress = host.progress()
    print(f"\npaused after line {progress['last_acked_line']}. Cancel the job? [y/N] ", end="", file=sys.stderr, flush=True)
    ctrl_c.asking = True
    try:
        answer = sys.stdin.readline()
    except KeyboardInterrupt:
        return True
    finally:
        ctrl_c.asking = False
    if not answer:  # no terminal: be safe
        return True
    return answer.strip().lower() in ("y", "yes")


def run(args) -> int:
    _validate(args)
    from device_io.errors import DeviceInputError, HostError
    from device_io.host import PrinterHost
    from device_io.job import PrintJob
    from device_io.state import JOB_STATES

    program = PrintJob.from_file(args.file)
    if not program.commands:
        raise InputError("FILE", f"FILE {args.file!r} has no G-code commands")
    try:  # checked before the port is touched: bad input writes nothing
        streamed = program.streamed_from(args.from_line)
    except DeviceInputError as exc:
        raise InputError("--from-line", f"--from-line {args.from_line}: {exc.message}") from None
    host = PrinterHost(name="print", comm_timeout_s=args.timeout, rx_buffer_bytes=args.rx_buffer_bytes)
    tty = sys.stderr.isatty()
    ctrl_c = _CtrlC()
    previous_handler = signal.signal(signal.SIGINT, ctrl_c)
    try:
        try:
            host.connect(args.port, args.baud)
        except HostError as exc:
            print(f"somana print: {exc}", file=sys.stderr)
            return 1
        print(f"connected to {host.firmware_name or 'printer'} on {args.port}", file=sys.stderr)
        if streamed.preamble:
            print(f"restarting at line {args.from_line} after {streamed.preamble} preamble commands "
                  f"({'; '.join(streamed.commands[:streamed.preamble])})", file=sys.stderr)
        try:
            host.start_job(program, from_line=args.from_line)
        except HostError as exc:
            print(f"somana print: {exc}", file=sys.stderr)
            return 1
        next_line_report = 0.0
        result = None
        while result is None:
            if host.current_state not in JOB_STATES:
                result = host.wait_for_job(timeout=5.0)
                break
            ctrl_c.pressed.wait(0.2)
            progress = host.progress()
            if tty:
                print("\r" + _bar(progress), end="", file=sys.stderr, flush=True)
            elif progress["percent"] >= next_line_report:
                print(_bar(progress), file=sys.stderr, flush=True)
                next_line_report = progress["percent"] + 10.0
            if ctrl_c.pressed.is_set():
                ctrl_c.pressed.clear()
                if _ask_cancel(host, ctrl_c):
                    print("cancelling: heaters off, parking", file=sys.stderr, flush=True)
                    try:
                        host.cancel()
                    except HostError:
                        pass
                else:
                    try:
                        host.resume()
                    except HostError:
                        pass
        print(("\r" if tty else "") + _bar(host.progress()), file=sys.stderr)
    finally:
        signal.signal(signal.SIGINT, previous_handler)
        host.disconnect()
    if args.json:
        print(json.dumps(result.to_dict()))
    status = result.get("status")
    if status == "done":
        print(f"done: {result['lines_total']} lines in {_format_time(result['elapsed_s'])}", file=sys.stderr)
        return 0
    print(f"somana print: job {status}: {result.get('reason')}", file=sys.stderr)
    print(
        f"last acknowledged line: {result.get('last_acked_line')} "
        f"(restart with --from-line {result.get('restart_from_line')})",
        file=sys.stderr,
    )
    return 130 if status == "cancelled" else 1
