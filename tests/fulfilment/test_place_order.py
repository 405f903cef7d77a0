"""Placing an order checks every field in the core, whatever the client sent, and is idempotent."""

from __future__ import annotations

import pytest

from somana_core.errors import InputError
from somana_core.fulfilment import (
    OrderState,
    check_customer,
    check_qty,
    find_order,
    needs_approval,
    order_limits,
    place_order,
)
from somana_core.orders import OrderStore


@pytest.fixture
def store(somana_home):
    with OrderStore() as store:
        yield store


LIMITS = order_limits()


@pytest.mark.parametrize("kwargs, field", [
    ({"customer": ""}, "customer"),
    ({"customer": "   "}, "customer"),
    ({"customer": "x" * (LIMITS.customer_name_max_chars + 1)}, "customer"),
    ({"customer": "Eve\x1b]0;pwned\x07"}, "customer"),
    ({"customer": "Eve\u202eevil"}, "customer"),
    ({"customer": "two\nlines"}, "customer"),
    ({"customer": 42}, "customer"),
    ({"qty": 0}, "qty"),
    ({"qty": -5}, "qty"),
    ({"qty": 1.5}, "qty"),
    ({"qty": 2**64}, "qty"),
    ({"qty": "1e308"}, "qty"),
    ({"qty": float("nan")}, "qty"),
    ({"qty": None}, "qty"),
    ({"qty": LIMITS.max_units_per_order + 1}, "qty"),
    ({"material": "WOOD"}, "material"),
    ({"material": ""}, "material"),
    ({"family": "spaceship"}, "family"),
    ({"values": {"wall": "0.1"}}, "wall"),
    ({"values": ["wall", 2]}, "values"),
    ({"idempotency_key": "x"}, "idempotency_key"),
])
def test_every_bad_field_is_refused_before_anything_is_built_or_stored(store, kwargs, field):
    args = {"family": "kit_enclosure", "values": {}, "customer": "Ada", "qty": 1, "material": "PLA", **kwargs}
    with pytest.raises(InputError) as err:
        place_order(store, args.pop("family"), args.pop("values"), args.pop("customer"), slice_it=False, **args)
    assert err.value.field == field, err.value.message
    assert "\n" not in err.value.message
    assert store.list() == []


def test_a_large_quantity_is_asked_to_contact_us():
    with pytest.raises(InputError) as err:
        check_qty(LIMITS.max_units_per_order + 1)
    assert "contact us" in err.value.message and str(LIMITS.max_units_per_order) in err.value.message
    assert check_qty(LIMITS.max_units_per_order) == LIMITS.max_units_per_order
    assert check_qty("12") == 12 and check_qty(3.0) == 3


def test_the_limits_come_from_the_data_table(tmp_path, monkeypatch):
    from somana_core.data import data_dir

    folder = tmp_path / "data"
    folder.mkdir()
    for table in data_dir().iterdir():
        if table.is_file():
            (folder / table.name).write_bytes(table.read_bytes())
    text = (folder / "order_limits.csv").read_text().replace("max_units_per_order,100,", "max_units_per_order,7,")
    (folder / "order_limits.csv").write_text(text)
    monkeypatch.setenv("SOMANA_DATA_DIR", str(folder))
    assert order_limits().max_units_per_order == 7
    with pytest.raises(InputError):
        check_qty(8)


def test_names_are_stripped_and_normalised():
    assert check_customer("  Zoë Ångström  ") == "Zoë Ångström"
    assert check_customer("Zoe\u0308") == "Zoë"  # NFC: one way to store the same name


def test_placing_twice_with_one_key_gives_one_order_and_the_page_can_find_it_again(store):
    first = place_order(store, "kit_enclosure", {}, "Grace", qty=2, slice_it=False, idempotency_key="page-click-42")
    again = place_order(store, "kit_enclosure", {}, "Grace", qty=2, slice_it=False, idempotency_key="page-click-42")
    assert again == first and len(store.list()) == 1
    assert find_order("page-click-42", store) == first
    expected = OrderState.NEEDS_APPROVAL if needs_approval(first.quote) else OrderState.CONFIRMED
    assert first.state == expected
    with pytest.raises(InputError) as err:  # the same key for another order is a client's bug
        place_order(store, "kit_enclosure", {}, "Grace", qty=3, slice_it=False, idempotency_key="page-click-42")
    assert err.value.field == "idempotency_key"


def test_a_price_outside_the_band_waits_for_a_founder(store):
    from somana_core.fulfilment import approve_order, printable_orders, store_order

    quote = {"unit_price": 999.0, "qty": 1, "material": "PLA", "status": "needs_approval"}
    assert needs_approval(quote) and not needs_approval({**quote, "status": "issued"})
    order = store_order(store, "kit_enclosure", {}, "Ada", quote)
    assert order.state == "needs_approval" and order not in printable_orders(store)
    approved = approve_order(store, order.number, note="launch customer")
    assert approved.state == "confirmed" and approved.history[-1].note == "launch customer"


def test_an_order_whose_quote_is_for_another_quantity_is_refused(store):
    """A page that sends qty=3 with the quote still for 10 (issue 14) stores nothing."""
    quote = {"qty": 10, "material": "PLA", "unit_price": 80.0, "status": "issued"}
    from somana_core.fulfilment import store_order

    with pytest.raises(InputError) as err:
        store_order(store, "kit_enclosure", {}, "Ada", quote, qty=3)
    assert err.value.field == "qty" and "refreshed" in err.value.message
    with pytest.raises(InputError) as err:
        store_order(store, "kit_enclosure", {}, "Ada", {**quote, "qty": 3}, qty=3, material="PETG")
    assert err.value.field == "material"
    order = store_order(store, "kit_enclosure", {"wall": "2.4"}, " Ada ", {**quote, "qty": 3}, qty=3,
                        idempotency_key="configure-click-1")
    assert order.customer == "Ada" and order.parameters["wall"] == 2.4 and order.state == "confirmed"
    assert store_order(store, "kit_enclosure", {"wall": "2.4"}, "Ada", {**quote, "qty": 3}, qty=3,
                       idempotency_key="configure-click-1") == order
    assert len(store.list()) == 1
