"""`somana estop PRINTER|--all [--broker URL] [--confirm S]`: emergency stop through the bus.

The stop is published first (one message on `somana/estop`, QoS 1, not retained, which every
station acts on at once; its id names this press, so a station acts on it once), then the
command waits up to --confirm seconds for the printers to report halted and says which did.
PRINTER is a printer name unique on the floor or STATION/PRINTER.

The message goes out through Mosquitto's own client, `mosquitto_pub` (Debian: mosquitto-clients,
installed by scripts/system_deps.sh), which exits once the broker acknowledged it (PUBACK); no
MQTT is spoken here. The usual forms take a fast path (`fast_path`, called by `somana.cli.main`
before any parser is built): the words are read by hand and `mosquitto_pub` is started before
argparse, paho or pandas load; only then is the rest loaded to confirm. Anything else (--help, a
mistake) goes through the ordinary parser. For a button or a script that must not pay for
Python's start, `scripts/somana-estop` runs the same `mosquitto_pub` from a shell (see
benchmarks/floor.py --cli-only for both timings).
"""

from __future__ import annotations

import sys
import time

PUBLISH_TIMEOUT_S = 5.0  # mosquitto_pub has no connect timeout of its own: a silent broker is given up after this


def configure(parser):
    parser.add_argument("printer", nargs="?", default=None, help="printer name or STATION/PRINTER")
    parser.add_argument("--all", action="store_true", help="stop every printer of every station")
    parser.add_argument("--broker", default=None, metavar="URL", help="MQTT broker (default: as `somana station`)")
    parser.add_argument("--confirm", type=float, default=3.0, metavar="S",
                        help="seconds to wait for the printers to report halted (default 3, 0-60)")


def _target(printer: str | None, everything: bool) -> str:
    """'*' or the printer as typed, checked (InputError naming the field)."""
    from somana_core.errors import InputError
    from somana_core.floor.bus import NAME_PATTERN

    if bool(printer) == bool(everything):
        raise InputError("printer", "printer: give one printer name (or STATION/PRINTER) or --all, not both or neither")
    if everything:
        return "*"
    station, _, name = printer.rpartition("/")
    for part in ([station, name] if station else [name]):
        if not NAME_PATTERN.fullmatch(part):
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
    from somana_core.floor import bus

    if not 0 <= confirm_s <= 60:
        raise InputError("--confirm", f"--confirm {confirm_s:g} is outside 0-60 s")
    url = bus.resolve_broker(broker)
    host, port = bus.parse_broker_url(url)
    publish(target, url)  # first, before anything else is loaded
    if confirm_s == 0:
        print(f"somana estop: sent to {target} through {host}:{port}")
        return 0
    return _confirm(target, f"mqtt://{host}:{port}", confirm_s)


def publish(target: str, url: str, *, press_id: str | None = None, timeout_s: float = PUBLISH_TIMEOUT_S) -> str:
    """Publish the e-stop for `target` ('*', NAME or STATION/PRINTER) with `mosquitto_pub` and return
    the press id once the broker acknowledged it. InputError (field --broker) naming the cause when
    mosquitto_pub is missing, the broker cannot be reached, refuses us or does not answer in time.
    The broker's TCP listener takes anonymous clients, as for `somana station` and `somana printers`."""
    import json
    import os
    import shutil
    import subprocess

    from somana_core.errors import InputError
    from somana_core.floor import bus

    host, port = bus.parse_broker_url(url)
    program = shutil.which("mosquitto_pub")
    if program is None:
        raise InputError("--broker", "the e-stop was NOT sent: mosquitto_pub is missing (install mosquitto-clients: "
                                     "apt-get install mosquitto-clients, or scripts/system_deps.sh)")
    press = press_id or "cli-" + os.urandom(6).hex()
    body = json.dumps({"printer": target, "id": press, "sent_at": time.time()}, separators=(",", ":"))
    argv = [program, "-h", host, "-p", str(port), "-q", "1", "-t", bus.ESTOP_TOPIC, "-m", body,
            "-i", f"somana-estop-{press[-8:]}"]
    try:
        run = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise InputError("--broker", f"the e-stop may NOT have been sent: the broker {url} did not acknowledge it "
                                     f"within {timeout_s:g} s") from None
    if run.returncode != 0:
        said = [line.strip() for line in run.stderr.decode("utf-8", "replace").splitlines() if line.strip()]
        # the most specific line first ("Connection error: Connection Refused: not authorised." comes
        # before a general "Error: The connection was refused.")
        said = [line for line in said if line.startswith("Connection error:")] + said
        reason = said[0].partition(": ")[2] if said else f"mosquitto_pub exit status {run.returncode}"
        raise InputError("--broker", f"the e-stop was NOT sent to the broker {url} (--broker, $SOMANA_BROKER or "
                                     f"$SOMANA_HOME/broker.url): {reason}")
    return press


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
