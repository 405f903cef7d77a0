"""Run as a subprocess by the crash test: places orders in a loop until it is killed.

Each order's files are derived from its index, so the test can check that whatever it finds is
whole. After each commit it prints the order number, so the test knows which orders were
confirmed to the caller before the kill.
"""

import sys

from somana_core.orders import OrderStore


def payload(i: int) -> bytes:
    # a few hundred kB so a kill often lands inside a write
    return (f"; order {i}\n".encode() + bytes(range(256)) * 1200) * 2


def main(url: str) -> None:
    store = OrderStore(url)
    i = 0
    while True:
        order = store.place(
            f"customer {i}", "kit_enclosure", {"i": i},
            {"unit_price": float(i), "print_time_s": 60.0, "lines": [{"name": "material", "amount_usd": 1.0}]},
            files={f"part{i}.stl": payload(i), f"part{i}.gcode": payload(i) + b"G28\n"},
        )
        print(order.number, i, flush=True)
        i += 1


if __name__ == "__main__":
    main(sys.argv[1])
