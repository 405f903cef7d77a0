"""`somana order place|list|show|set|approve|export`: the order store (SQLite file by default, `--db URL`).

    somana order place FAMILY --customer NAME [--set name=value ...] [--qty N] [--material M] [--no-slice]
                              [--idempotency-key KEY]
    somana order list [--state S] [--limit N]
    somana order show NUMBER
    somana order set NUMBER STATE [--note TEXT]              NUMBER/K: plate K of a multi-plate order
    somana order approve NUMBER [--note TEXT] [--price USD]   a price outside the band: a founder issues it
    somana order export NUMBER --kind gcode --out FILE      NUMBER/K: that plate's file

Every argument is checked before the store is opened; names from the store are printed with their
control characters escaped (a customer name cannot drive the terminal).
"""

from __future__ import annotations

import json
import re

from somana.cli import bounded_int, terminal_safe

MAX_LIST_LIMIT = 100_000
NUMBER_PATTERN = re.compile(r"(?i)SO-\d{1,12}(/\d{1,2})?")  # an order, or one plate of it (SO-000123/2)


def configure(parser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True

    def common(p):
        p.add_argument("--db", default=None, help="database URL (default: $SOMANA_DB_URL, else the SQLite file in SOMANA_HOME)")
        p.add_argument("--json", action="store_true", help="machine-readable output")

    place = sub.add_parser("place", help="validate, build, quote, slice and store a confirmed order")
    place.add_argument("family", help="product family (see `somana families`)")
    place.add_argument("--customer", required=True, help="who the order is for")
    place.add_argument("--set", dest="assignments", action="append", metavar="NAME=VALUE", default=[])
    place.add_argument("--qty", default="1", help="units (default 1; above the limit in data/order_limits.csv: contact us)")
    place.add_argument("--material", default="PLA", help="material id (default PLA)")
    place.add_argument("--no-slice", dest="slice_it", action="store_false",
                       help="store the order confirmed, without G-code (estimate only)")
    place.add_argument("--idempotency-key", default=None, metavar="KEY",
                       help="placing again with the same key returns the same order (8-64 letters, digits, _.:-)")
    common(place)

    listing = sub.add_parser("list", help="orders, newest first")
    listing.add_argument("--state", default=None, help="only orders in this state")
    listing.add_argument("--limit", type=bounded_int("limit", 1, MAX_LIST_LIMIT), default=None,
                         help=f"at most this many (1-{MAX_LIST_LIMIT})")
    common(listing)

    show = sub.add_parser("show", help="one order: quote, files, history")
    show.add_argument("number")
    common(show)

    move = sub.add_parser("set", help="move an order to another state (illegal moves are refused)")
    move.add_argument("number")
    move.add_argument("state")
    move.add_argument("--note", default=None)
    common(move)

    approve = sub.add_parser("approve", help="accept an order waiting for approval (price outside the band)")
    approve.add_argument("number")
    approve.add_argument("--note", default=None)
    approve.add_argument("--price", default=None, metavar="USD",
                         help="issue at this unit price instead of the one the policy asked")
    common(approve)

    export = sub.add_parser("export", help="write one of an order's files")
    export.add_argument("number")
    export.add_argument("--kind", default="gcode", help="stl, 3mf, step or gcode (default gcode)")
    export.add_argument("--out", required=True)
    common(export)


def _summary(order) -> str:
    price = order.quote.get("unit_price")
    price_s = f"{price:.2f} USD" if isinstance(price, (int, float)) else "-"
    return terminal_safe(f"{order.number}  {order.state:<9}  {order.family:<17} x{order.qty:<3} {order.material:<5} "
                         f"{price_s:>12}  {order.customer}  {order.created_at:%Y-%m-%d %H:%M}")


def _print_plates(order) -> None:
    """A multi-plate order's print jobs, one line per plate."""
    if order.plates:
        print(f"  {len(order.plates)} plates, each printed as its own job:")
    for p in order.plates:
        time_s = "not sliced" if p.print_time_s is None else \
            f"{int(p.print_time_s) // 3600}h {int(p.print_time_s) % 3600 // 60:02d}m, {p.filament_g} g"
        print(terminal_safe(f"    {p.number:<14} {p.state:<9} {time_s}"))


def _number(raw: str) -> str:
    from somana_core.errors import InputError

    if not NUMBER_PATTERN.fullmatch(raw or ""):
        raise InputError("number", f"order number {terminal_safe(raw)[:40]!r} is not of the form SO-000123 "
                                   "(or SO-000123/2 for plate 2 of a multi-plate order)")
    return raw.upper()


def _check(args) -> dict:
    """Everything that can be refused before the store is opened (so a refusal writes nothing)."""
    from somana_core.errors import InputError
    from somana_core.fulfilment import STATES, check_customer, check_material, check_note, check_qty
    from somana_core.orders import FILE_KINDS, check_idempotency_key, check_url

    checked: dict = {}
    if args.db is not None:
        check_url(args.db)
    if args.action == "place":
        from somana.cli import parse_assignments
        from somana_core.geometry import make_spec

        checked["customer"] = check_customer(args.customer)
        checked["qty"] = check_qty(args.qty)
        checked["material"] = check_material(args.material)
        checked["values"] = parse_assignments(args.assignments)
        checked["key"] = check_idempotency_key(args.idempotency_key)
        make_spec(args.family, checked["values"])
    if getattr(args, "number", None) is not None:
        checked["number"] = _number(args.number)
    if getattr(args, "state", None) is not None and args.state not in STATES:
        raise InputError("state", f"state={terminal_safe(args.state)[:40]!r} is not one of {', '.join(STATES)}")
    if getattr(args, "note", None) is not None:
        checked["note"] = check_note(args.note)
    if args.action == "export":
        from somana.cli import output_path

        if args.kind not in FILE_KINDS:
            raise InputError("kind", f"--kind {terminal_safe(args.kind)[:20]!r} is not one of {', '.join(FILE_KINDS)}")
        checked["out"] = output_path("out", args.out)
    return checked


def run(args) -> int:
    from somana_core import fulfilment
    from somana_core.orders import OrderNotFound, OrderStore, default_store_exists

    checked = _check(args)
    if args.db is None and args.action != "place" and not default_store_exists():
        # nothing was ever stored here: answer without creating the database file
        if args.action == "list":
            if args.json:
                print("[]")
            return 0
        raise OrderNotFound(checked["number"])
    with OrderStore(args.db) as store:
        if args.action == "place":
            timings: dict = {}
            order = fulfilment.place_order(store, args.family, checked["values"], checked["customer"],
                                           qty=checked["qty"], material=checked["material"],
                                           slice_it=args.slice_it, timings=timings,
                                           idempotency_key=checked["key"])
            if args.json:
                print(json.dumps({**order.to_dict(), "timings_s": timings}, indent=2))
            else:
                print(_summary(order))
                waiting = "; waits for a founder's approval (price outside the band)" \
                    if order.state == fulfilment.OrderState.NEEDS_APPROVAL else ""
                print(f"  lead time {order.quote.get('lead_time_days')} day(s); {len(order.files)} file(s) stored "
                      f"in {timings.get('total', 0.0):.1f} s{waiting}")
                _print_plates(order)
        elif args.action == "list":
            orders = store.list(state=args.state, limit=args.limit)
            if args.json:
                print(json.dumps([o.to_dict() for o in orders], indent=2))
            else:
                for order in orders:
                    print(_summary(order))
        elif args.action == "show":
            order = store.get(checked["number"])
            if args.json:
                print(json.dumps(order.to_dict(), indent=2))
            else:
                print(_summary(order))
                print(f"  parameters: {json.dumps(order.parameters)}")  # json escapes control characters
                q = order.quote
                print(terminal_safe(f"  quote: {q.get('unit_price')} USD/unit ({q.get('status', 'issued')}), "
                                    f"cost {q.get('internal', {}).get('unit_cost')}, "
                                    f"print {q.get('print_time_s')} s ({q.get('print_time_source')}), "
                                    f"lead {q.get('lead_time_days')} day(s)"))
                _print_plates(order)
                for f in order.files:
                    plate = f"  (plate {f.meta['plate']})" if "plate" in f.meta else ""
                    print(terminal_safe(f"  file {f.kind:<5} {f.name}  {f.size} bytes  sha256 {f.sha256[:16]}{plate}"))
                for e in order.history:
                    print(terminal_safe(f"  {e.at:%Y-%m-%d %H:%M:%S}  {e.state}" + (f"  ({e.note})" if e.note else "")))
        elif args.action in ("set", "approve"):
            if args.action == "approve":
                order = fulfilment.approve_order(store, checked["number"], note=checked.get("note"),
                                                 unit_price=getattr(args, "price", None))
            else:
                order = store.transition(checked["number"], args.state, note=checked.get("note"))
            print(json.dumps(order.to_dict(), indent=2) if args.json else _summary(order))
        elif args.action == "export":
            path = store.export_file(checked["number"], args.kind, checked["out"])
            print(json.dumps({"out": str(path)}) if args.json else terminal_safe(path))
    return 0
