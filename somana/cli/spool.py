"""`somana spool PRINTER --material M --colour C [--broker URL] [--wait S] [--json]`: tell the floor that an
operator loaded another spool on a printer.

The printer's station announces it on the bus (`spool-changed`), and the plan (the live plan of
`somana serve`) re-plans its changeovers around the spool now loaded. PRINTER is a printer name unique
on the floor or STATION/PRINTER. Material and colour are checked here first: a bad one is one line and
exit status 2, and nothing is sent.
"""

from __future__ import annotations

import json
import time


def configure(parser):
    parser.add_argument("printer", help="printer name or STATION/PRINTER")
    parser.add_argument("--material", required=True, help="the material loaded (data/materials.csv: PLA, PETG, ...)")
    parser.add_argument("--colour", required=True, help="the spool's colour, e.g. black, white, signal red")
    parser.add_argument("--broker", default=None, metavar="URL", help="MQTT broker (default: as `somana station`)")
    parser.add_argument("--wait", type=float, default=5.0, metavar="S",
                        help="seconds to wait for the station's answer (default 5, 0.5-60)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def run(args) -> int:
    from somana_core.catalogue import material_ids
    from somana_core.errors import InputError
    from somana_core.floor import bus
    from somana_core.floor.fleet import Fleet
    from somana_core.scheduling.promise import check_colour

    if not 0.5 <= args.wait <= 60:
        raise InputError("--wait", f"--wait {args.wait:g} is outside 0.5-60 s")
    known = material_ids()
    material = next((m for m in known if m.lower() == args.material.strip().lower()), None)
    if material is None:
        raise InputError("--material", f"--material {args.material[:40]!r} is not one of {', '.join(known)}")
    colour = check_colour(args.colour, "--colour")
    url = bus.resolve_broker(args.broker)
    try:
        fleet = Fleet(url).start()
    except bus.BusError as exc:
        raise InputError("--broker", str(exc)) from None
    try:
        deadline = time.monotonic() + min(args.wait, 2.0)
        key = None
        while key is None:  # the stations' retained states arrive just after subscribing
            try:
                key = fleet.resolve(args.printer)
            except InputError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        reply = fleet.wait_reply(fleet.command(key, "spool", material=material, colour=colour), args.wait)
    finally:
        fleet.close()
    if reply is None:
        raise InputError("printer", f"printer={key}: its station did not answer within {args.wait:g} s")
    if not reply.get("ok"):
        raise InputError("printer", f"printer={key}: {reply.get('message')}")
    result = {"printer": key, "material": material, "colour": colour, "ok": True, "message": reply.get("message")}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        from somana.cli import terminal_safe

        print(f"{terminal_safe(key)}: {terminal_safe(reply.get('message'))}")
    return 0
