"""`somana order list|show` never hand a stored name's control characters to the terminal."""

from __future__ import annotations

import json

from somana.cli import main
from somana_core.orders import OrderStore

HOSTILE = "Eve\x1b]0;owned\x07\x1b[2J\x9b31m\u202eevil\r"


def test_control_characters_in_stored_names_are_shown_escaped(somana_home, capsys):
    with OrderStore() as store:  # an order stored before names were checked, or by another client
        order = store.place(HOSTILE, "kit_enclosure", {"text": HOSTILE}, {"unit_price": 1.0},
                            files={f"part{HOSTILE}.stl": b"solid x\n"})
    for argv in (["order", "list"], ["order", "show", order.number]):
        assert main(argv) == 0
        out = capsys.readouterr().out
        assert not any(ch in out for ch in "\x1b\x07\x9b\u202e\r"), repr(out)
        assert "Eve\\x1b]0;owned\\x07" in out
    assert main(["order", "show", order.number, "--json"]) == 0
    shown = capsys.readouterr().out
    assert "\x1b" not in shown and json.loads(shown)["customer"] == HOSTILE.strip()


def test_listing_an_empty_factory_creates_no_database(somana_home, capsys):
    assert main(["order", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert not (somana_home / "orders.sqlite").exists()
