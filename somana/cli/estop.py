"""`somana estop PRINTER|--all [--broker URL]`: emergency stop through the bus.

The stop is published first (one message on `somana/estop`, which every station acts on at
once), then the command waits up to --confirm seconds for the printers to report halted and says
which did. PRINTER is a printer name unique on the floor or STATION/PRINTER."""

from __future__ import annotations

import sys
import time


def configure(parser):
    parser.add_argument("printer", nargs="?", default=None, help="printer name or STATION/PRINTER")
    parser.add_argument("--all", action="store_true", help="stop every printer of every station")
    parser.add_argument("--broker", default=None, metavar="URL", help="MQTT broker (default: as `somana station`)")
    parser.add_argument("--confirm", type=float, default=3.0, metavar="S",
                        help="seconds to wait for the printers to report halted (default 3, 0-60)")


def run(args) -> int:
    from somana_core.errors import InputError
    from somana_core.floor import bus

    if bool(args.printer) == bool(args.all):
        raise InputError("printer", "printer: give one printer name (or STATION/PRINTER) or --all, not both or neither")
    if not 0 <= args.confirm <= 60:
        raise InputError("--confirm", f"--confirm {args.confirm:g} is outside 0-60 s")
    target = "*" if args.all else args.printer
    if target != "*":
        station, _, printer = target.rpartition("/")
        bus.check_name("printer", printer)
        if station:
            bus.check_name("printer", station)
    from somana_core.floor.fleet import Fleet

    url = bus.resolve_broker(args.broker)
    try:
        fleet = Fleet(url).start()
    except bus.BusError as exc:
        raise InputError("--broker", str(exc)) from None
    try:
        fleet.estop(target, wait_s=2.0)  # first, before anything else
        started = time.monotonic()
        deadline = started + args.confirm
        discovery_s = 1.0  # the stations' retained states arrive within this after subscribing
        matched: list[str] = []
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
