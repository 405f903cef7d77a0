"""A price outside the family's band is not issued: the order waits, a founder approves it and the stored quote
is issued (customers then see the approved price)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from somana_core.errors import InputError
from somana_core.fulfilment import approve_order, needs_approval
from somana_core.orders import OrderState, OrderStore
from somana_core.quote import APPROVED, customer_view, quote_metrics
from tests.quote.tiny_factory import tiny_assumptions


def _waiting_quote() -> dict:
    """The tiny factory's unit asks 97.00 USD against a 100-120 USD band."""
    q = quote_metrics({}, "frame", print_time_s=7200.0, filament_g=50.0, machine="m1",
                      assumptions=tiny_assumptions(band="100,120"))
    return q.to_dict()


def test_the_founders_approval_issues_the_stored_quote(somana_home):
    quote = _waiting_quote()
    assert needs_approval(quote) and customer_view(quote)["unit_price"] is None
    with OrderStore() as store:
        order = store.place("Ada", "eyewear_frame", {}, quote, state=OrderState.NEEDS_APPROVAL)
        with pytest.raises(InputError) as err:
            approve_order(store, order.number, note="Ada", unit_price=0)
        assert err.value.field == "unit_price" and store.get(order.number).state == "needs_approval"
        approved = approve_order(store, order.number, note="Ada (launch customer)", unit_price=105)
        assert approved.state == "confirmed" and approved.quote["status"] == APPROVED
        assert customer_view(approved.quote)["unit_price"] == 105.0 and approved.quote["total_price"] == 105.0
        assert approved.quote["internal"]["notes"][-1] == "approved by Ada (launch customer) at 105.00 USD per unit"


def test_somana_order_approve_issues_the_asked_price(somana_home):
    with OrderStore() as store:
        number = store.place("Ada", "eyewear_frame", {}, _waiting_quote(), state=OrderState.NEEDS_APPROVAL).number
    env_run = dict(capture_output=True, text=True)
    bad = subprocess.run([sys.executable, "-m", "somana", "order", "approve", number, "--price", "cheap"], **env_run)
    assert bad.returncode == 2 and "unit_price" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    done = subprocess.run([sys.executable, "-m", "somana", "order", "approve", number, "--json"], **env_run)
    assert done.returncode == 0, done.stderr
    order = json.loads(done.stdout)
    assert order["state"] == "confirmed" and order["quote"]["status"] == APPROVED
    assert order["quote"]["unit_price"] == 97.0  # the policy's price, now issued
