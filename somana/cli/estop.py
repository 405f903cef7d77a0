"""`somana estop PRINTER|--all [--broker URL] [--confirm S]`: emergency stop through the bus.

The stop is published first (one message on `somana/estop`, which every station acts on at
once), then the command waits up to --confirm seconds for the printers to report halted and says
which did. PRINTER is a printer name unique on the floor or STATION/PRINTER.

The usual forms take a fast path (`fast_path`, called by `somana.cli.main` before any parser is
built): the words are read by hand and the message goes out over a raw socket
(`somana_core.floor.estop_wire`: no argparse, no paho, no pandas), and only then is the rest
loaded to confirm. Anything else (--help, a mistake) goes through the ordinary parser.
For a button or a script that must not pay for Python's start, `scripts/somana-estop` does the
same with `mosquitto_pub` (see benchmarks/floor.py --cli-only for both timings).
"""

from __future__ import annotations

import sys
import time


def configure(parser):
    parser.add_argument("printer", nargs="?", default=None, help="printer name or STATION/PRINTER")
    parser.add_argument("--all", action="store_true", help="stop every printer of every station")
    parser.add_argument("--broker", default=None, metavar="URL", help="MQTT broker (default: as `somana station`)")
    parser.add_argument("--confirm", type=float, default=3.0, metavar="S",
                        help="seconds to wait for the printers to report halted (default 3, 0-60)")


def _target(printer: str | None, everything: bool) -> str:
    """'*' or the printer as typed, checked (InputError naming the field)."""
    import re

    from somana_core.errors import InputError
    from somana_core.floor.estop_wire import NAME_RE

    if bool(printer) == bool(everything):
        raise InputError("printer", "printer: give one printer name (or STATION/PRINTER) or --all, not both or neither")
    if everything:
        return "*"
    station, _, name = printer.rpartition("/")
    for part in ([station, name] if station else [name]):
        if not re.fullmatch(NAME_RE, part):
            raise InputError("printer", f"printer={part!r} must be 1-40 letters, digits, '_', '.' or '-' "
                                        "(starting with a letter or digit)")
    return printer


def fast_path(words: list[str]) -> int | None:
    """`somana estop` without the command line's machinery: returns the exit status, or None to let
    the ordinary parser handle words it does not expect (help, unknown options, malformed values)."""
    printer, everything, broker, confirm = None, False, None, 3.0
    rest = list(words)
    while rest:
        word = rest.pop(0)
        name, eq, value = word.partition("=")
        if word == "--all":
            everything = True
        elif name in ("--broker", "--confirm") and (eq or rest):
            value = value if eq else rest.pop(0)
            if name == "--broker":
                broker = value
            else:
                try:
                    confirm = float(value)
                except ValueError:
                    return None
        elif not word.startswith("-") and printer is None:
            printer = word
        else:
            return None
    from somana_core.errors import InputError

    try:
        return _estop(_target(printer, everything), broker, confirm)
    except InputError as exc:
        print(f"somana estop: {exc.message}", file=sys.stderr)
        return 2


def run(args) -> int:
    return _estop(_target(args.printer, args.all), args.broker, args.confirm)


def _estop(target: str, broker: str | None, confirm_s: float) -> int:
    from somana_core.errors import InputError
    from somana_core.floor.estop_wire import broker_address, send_estop

    if not 0 <= confirm_s <= 60:
        raise InputError("--confirm", f"--confirm {confirm_s:g} is outside 0-60 s")
    try:
        host, port = broker_address(broker)
    except ValueError as exc:
        raise InputError("--broker", str(exc)) from None
    try:
        send_estop(target, host, port)  # first, before anything else is loaded
    except OSError as exc:
        raise InputError("--broker", f"cannot reach the broker at {host}:{port}: {exc}") from None
    if confirm_s == 0:
        print(f"somana estop: sent to {target} through {host}:{port}")
        return 0
    return _confirm(target, f"mqtt://{host}:{port}", confirm_s)


def _confirm(target: str, url: str, confirm_s: float) -> int:
    """Wait (at most `confirm_s`) for the matching printers to show halted; say which did."""
    from somana_core.floor import bus
    from somana_core.floor.fleet import Fleet

    try:
        fleet = Fleet(url).start()
    except bus.BusError as exc:
        print(f"somana estop: sent, but cannot watch the printers: {exc}", file=sys.stderr)
        return 1
    try:
        started = time.monotonic()
        deadline = started + confirm_s
        discovery_s = 1.0  # the stations' retained states arrive within this after subscribing
        matched: list[str] = []
        halted: list[str] = []
        while True:
            printers = fleet.printers()
            matched = [k for k in printers if target == "*" or target in (k, k.split("/", 1)[1])]
            halted = [k for k in matched if printers[k]["shown_state"] in ("halted", "disconnected", "offline", "error")]
            if matched and len(halted) == len(matched):
                break
            if time.monotonic() >= deadline and (matched or time.monotonic() >= started + discovery_s):
                break
            time.sleep(0.02)
    finally:
        fleet.close()
    if not matched:
        print(f"somana estop: sent, but no printer {target!r} is on the bus at {url}", file=sys.stderr)
        return 2 if target != "*" else 1
    for key in matched:
        print(f"{key}: {printers[key]['shown_state']}")
    return 0 if len(halted) == len(matched) else 1
