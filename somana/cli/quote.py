"""`somana quote FAMILY [--set name=value ...] [--qty N] [--material M] [--slice] [--json]`: an
itemised quote for the founders (costs, margins, the pricing policy; a customer sees `Quote.customer_view()`).
The promised date comes from the farm's plan (capable-to-promise: the order inserted into the plan of
every open order in the store, `--db`; somana_core.scheduling.promise), and so does the lead time."""

from __future__ import annotations

import json
from pathlib import Path


def configure(parser) -> None:
    parser.add_argument("family", help="product family (see `somana families`)")
    parser.add_argument("--set", dest="assignments", action="append", metavar="NAME=VALUE", default=[],
                        help="a parameter value; repeat for several")
    parser.add_argument("--board", default=None, metavar="FILE.kicad_pcb",
                        help="the customer's KiCad board: the enclosure is fitted to it (sensor_enclosure)")
    parser.add_argument("--qty", default="1", help="units in the order (default 1)")
    parser.add_argument("--material", default="PLA", help="material id from data/materials.csv (default PLA)")
    parser.add_argument("--slice", action="store_true",
                        help="slice the part and quote the slicer's print time (slower, exact)")
    parser.add_argument("--db", default=None, help="order store URL for the plan (default: the SQLite file)")
    parser.add_argument("--colour", default=None, help="spool colour the order is printed in (default: the house colour)")
    parser.add_argument("--json", action="store_true", help="print the quote as JSON")


def _qty(raw) -> int:
    from somana_core.fulfilment import check_qty

    return check_qty(raw)  # the same bounds as an order: above the limit in data/ -> contact us


def _queue(db: str | None):
    """The order store for the lead time; without --db only an existing default store is read."""
    from somana_core.orders import OrderStore, default_store_exists

    if db is None and not default_store_exists():
        return None
    return OrderStore(db)


def run(args) -> int:
    from somana.cli import parse_assignments
    from somana_core.geometry import make_spec, material_row

    from somana_core.orders import check_url

    qty = _qty(args.qty)
    from somana_core.intake import route_board

    # a board-fitted sensor enclosure is built by the board family and priced as a sensor enclosure
    geometry_family, values = route_board(args.family, parse_assignments(args.assignments), args.board)
    spec = make_spec(geometry_family, values)
    material_row(args.material)
    from somana_core.scheduling.promise import check_colour

    colour = check_colour(args.colour, "--colour")
    if args.db is not None:
        check_url(args.db)

    from somana_core.geometry import build
    from somana_core.quote import quote_product, quote_sliced

    product = build(spec)
    store = _queue(args.db)
    try:
        if args.slice:
            import tempfile

            from somana_core.slicing import slice_product

            with tempfile.TemporaryDirectory(prefix="somana-quote-") as folder:
                result = slice_product(product, Path(folder) / "plate.gcode", material=args.material)
            q = quote_sliced(product, args.family, result, qty=qty, queue=store)
        else:
            q = quote_product(product, args.family, qty=qty, material=args.material, queue=store)
        from somana_core.scheduling.promise import plate_seconds, promise_for

        # a job per build plate and unit: each plate's own estimate, or the sliced total shared evenly
        plates = len(product.plates()) if args.slice else plate_seconds(product.metrics(args.material), q.machine)
        promised = promise_for(q, store=store, colour=colour, plates=plates)
        if promised is not None:
            q = promised.apply(q)
    finally:
        if store is not None:
            store.close()
    if args.json:
        print(json.dumps(q.to_dict(), indent=2))
        return 0
    print(f"{args.family} x {q.qty} in {q.material} on {q.machine}: {q.unit_price:.2f} USD each, "
          f"{q.total_price:.2f} USD total ({q.status.replace('_', ' ')})")
    print(f"  absorbed cost {q.unit_cost:.2f} USD (variable {q.variable_unit_cost:.2f} USD); contribution margin "
          f"{q.contribution_margin:.0%}, operating margin at plan {q.operating_margin:.0%}; "
          f"priced {q.pricing.method.replace('_', ' ')}, band {q.pricing.band_usd[0]:g}-{q.pricing.band_usd[1]:g} USD")
    for line in q.lines:
        print(f"  {line.name:<24} {line.amount_usd:9.2f}  = {line.formula}")
    hours, rest = divmod(int(q.print_time_s), 3600)
    print(f"  print time {hours}h {rest // 60:02d}m ({q.print_time_source}), lead time {q.lead_time_days} day(s)")
    if q.promised_date:
        lead = q.lead_time
        print(f"  promised by {q.promised_date} (the plan has its plates done {lead['plan_end'][:16].replace('T', ' ')} "
              f"UTC, + {lead['buffer_min']} min slip buffer, + {lead['handling_days']:g} handling day(s))")
    else:
        print("  no printer on the floor can take it: lead time from the queue rule")
    print("  quantity breaks: " + ", ".join(f"{n}: {p:.2f}" for n, p in q.breaks))
    for note in q.notes:
        print(f"  ! {note}")
    return 0
