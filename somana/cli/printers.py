"""`somana printers [--json] [--broker URL]`: every printer of every station on the bus: station, state,
temperatures, job, progress, last acknowledged line."""

from __future__ import annotations

import json
import time


def configure(parser):
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--broker", default=None, metavar="URL", help="MQTT broker (default: as `somana station`)")
    parser.add_argument("--wait", type=float, default=0.5, metavar="S",
                        help="seconds to collect the stations' retained states (default 0.5, 0.05-30)")


def rows(fleet) -> list[dict]:
    out = []
    for key, p in fleet.printers().items():
        job = p.get("job") or {}
        temps = p.get("temperatures") or {}
        out.append({
            "printer": key, "station": p.get("station"), "name": p.get("printer"), "state": p.get("shown_state"),
            "online": p.get("online"), "nozzle_c": temps.get("nozzle"), "bed_c": temps.get("bed"),
            "job": job.get("name"), "order": job.get("order"), "percent": job.get("percent"),
            "eta_s": job.get("eta_s"), "last_acked_line": p.get("last_acked_line"),
            "interrupted": p.get("interrupted"), "error": p.get("error"),
        })
    return out


def _temp(pair) -> str:
    return "-" if not pair else f"{pair[0]:.0f}/{pair[1]:.0f}"


def _safe(text) -> str:
    """No terminal escape sequences from the bus reach the terminal."""
    return "".join(c if c.isprintable() else "?" for c in str(text if text is not None else "-"))


def run(args) -> int:
    from somana_core.errors import InputError
    from somana_core.floor import bus
    from somana_core.floor.fleet import Fleet

    if not 0.05 <= args.wait <= 30:
        raise InputError("--wait", f"--wait {args.wait:g} is outside 0.05-30 s")
    url = bus.resolve_broker(args.broker)
    try:
        fleet = Fleet(url).start()
    except bus.BusError as exc:
        raise InputError("--broker", str(exc)) from None
    try:
        time.sleep(args.wait)  # retained states arrive right after subscribing
        table = rows(fleet)
    finally:
        fleet.close()
    if args.json:
        print(json.dumps(table, indent=2))
        return 0
    if not table:
        print(f"no printers on {url}")
        return 0
    print(f"{'PRINTER':24} {'STATE':12} {'NOZZLE':>8} {'BED':>8}  {'JOB':24} {'%':>6} {'LAST LINE':>9}")
    for r in table:
        percent = "-" if r["percent"] is None else f"{r['percent']:.1f}"
        extra = ""
        if r["interrupted"]:
            extra = f"  interrupted {r['interrupted']['name']}: restart from line {r['interrupted']['restart_from_line']}"
        print(f"{_safe(r['printer'])[:24]:24} {_safe(r['state'])[:12]:12} {_temp(r['nozzle_c']):>8} "
              f"{_temp(r['bed_c']):>8}  {_safe(r['job'])[:24]:24} {percent:>6} {r['last_acked_line'] or 0:>9}"
              f"{_safe(extra) if extra else ''}")
    return 0
