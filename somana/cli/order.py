"""`somana order place|list|show|set|export`: the order store (SQLite file by default, `--db URL`).

    somana order place FAMILY --customer NAME [--set name=value ...] [--qty N] [--material M] [--no-slice]
    somana order list [--state S]
    somana order show NUMBER
    somana order set NUMBER STATE [--note TEXT]
    somana order export NUMBER --kind gcode --out FILE
"""

from __future__ import annotations

import json


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
    place.add_argument("--qty", default="1", help="units (default 1)")
    place.add_argument("--material", default="PLA", help="material id (default PLA)")
    place.add_argument("--no-slice", dest="slice_it", action="store_false",
                       help="store the order confirmed, without G-code (estimate only)")
    common(place)

    listing = sub.add_parser("list", help="orders, newest first")
    listing.add_argument("--state", default=None, help="only orders in this state")
    listing.add_argument("--limit", type=int, default=None)
    common(listing)

    show = sub.add_parser("show", help="one order: quote, files, history")
    show.add_argument("number")
    common(show)

    move = sub.add_parser("set", help="move an order to another state (illegal moves are refused)")
    move.add_argument("number")
    move.add_argument("state")
    move.add_argument("--note", default=None)
    common(move)

    export = sub.add_parser("export", help="write one of an order's files")
    export.add_argument("number")
    export.add_argument("--kind", default="gcode", help="stl, 3mf, step or gcode (default gcode)")
    export.add_argument("--out", required=True)
    common(export)


def _summary(order) -> str:
    price = order.quote.get("unit_price")
    price_s = f"{price:.2f} USD" if isinstance(price, (int, float)) else "-"
    return (f"{order.number}  {order.state:<9}  {order.family:<17} x{order.qty:<3} {order.material:<5} "
            f"{price_s:>12}  {order.customer}  {order.created_at:%Y-%m-%d %H:%M}")


def run(args) -> int:
    from somana.cli.quote import _qty
    from somana_core.orders import OrderStore, place_order

    if args.action == "place":
        from somana.cli import parse_assignments
        from somana_core.geometry import make_spec, material_row

        qty = _qty(args.qty)
        values = parse_assignments(args.assignments)
        make_spec(args.family, values)  # refuse bad input before the store is touched
        material_row(args.material)
    with OrderStore(args.db) as store:
        if args.action == "place":
            timings: dict = {}
            order = place_order(store, args.family, values, args.customer, qty=qty, material=args.material,
                                slice_it=args.slice_it, timings=timings)
            if args.json:
                print(json.dumps({**order.to_dict(), "timings_s": timings}, indent=2))
            else:
                print(_summary(order))
                print(f"  lead time {order.quote['lead_time_days']} day(s); {len(order.files)} file(s) stored "
                      f"in {timings['total']:.1f} s")
        elif args.action == "list":
            orders = store.list(state=args.state, limit=args.limit)
            if args.json:
                print(json.dumps([o.to_dict() for o in orders], indent=2))
            else:
                for order in orders:
                    print(_summary(order))
        elif args.action == "show":
            order = store.get(args.number)
            if args.json:
                print(json.dumps(order.to_dict(), indent=2))
            else:
                print(_summary(order))
                print(f"  parameters: {json.dumps(order.parameters)}")
                q = order.quote
                print(f"  quote: {q.get('unit_price')} USD/unit, cost {q.get('unit_cost')}, "
                      f"print {q.get('print_time_s')} s ({q.get('print_time_source')}), "
                      f"lead {q.get('lead_time_days')} day(s)")
                for f in order.files:
                    print(f"  file {f.kind:<5} {f.name}  {f.size} bytes  sha256 {f.sha256[:16]}")
                for e in order.history:
                    print(f"  {e.at:%Y-%m-%d %H:%M:%S}  {e.state}" + (f"  ({e.note})" if e.note else ""))
        elif args.action == "set":
            order = store.transition(args.number, args.state, note=args.note)
            print(json.dumps(order.to_dict(), indent=2) if args.json else _summary(order))
        elif args.action == "export":
            path = store.export_file(args.number, args.kind, args.out)
            print(json.dumps({"out": str(path)}) if args.json else path)
    return 0
