"""Placing an order on /configure in Chromium: one press, one order (a double click or a reload after
the reply was lost never places a second); the confirmation summary shows the stored order."""

import re
import uuid
from urllib.parse import parse_qs, urlparse

import pytest

from somana_core import geometry
from tests.support.waiting import wait_until
from tests.ui.configure_page import open_configure, orders_of, served_store, set_order_field

pytestmark = pytest.mark.browser
FAMILY = "sensor_enclosure"
PLACE = ".order-place button.somana-place"
SUMMARY = ".somana-summary[data-order]"
REPEAT = ".order-place .somana-repeat"


def _address_key(page) -> str | None:
    return (parse_qs(urlparse(page.url).query).get("order") or [None])[0]


def _type_customer(page, name: str) -> None:
    set_order_field(page, "order-customer", name)


def test_a_double_click_places_one_order_and_the_summary_shows_it(served, watched_page, monkeypatch, artifacts_dir):
    page = open_configure(watched_page, served)
    customer = f"Double Click {uuid.uuid4().hex[:8]}"
    _type_customer(page, customer)
    before_total = page.locator("[data-total]").inner_text()
    set_order_field(page, "order-qty", 3)
    page.locator("[data-total]").filter(has_not_text=before_total).wait_for(timeout=30_000)
    page.locator(".somana-quote-body").filter(has_text="total for 3").wait_for(timeout=30_000)
    total = page.locator("[data-total]").inner_text()

    page.locator(PLACE).dblclick()
    # the button says it is placing and takes no second press while it does
    page.locator(f"{PLACE}[aria-busy='true']").or_(page.locator(SUMMARY)).first.wait_for(timeout=10_000)
    summary = page.locator(SUMMARY)
    summary.wait_for(timeout=90_000)
    page.screenshot(path=str(artifacts_dir / "configure_order_placed.png"), full_page=True)

    with served_store(served, monkeypatch) as store:
        placed = orders_of(store, customer)
        assert len(placed) == 1, [o.number for o in placed]
        order = placed[0]
    key = _address_key(page)
    assert key and order.idempotency_key == key  # the page's address names this placement
    assert order.qty == 3 and order.family == FAMILY
    assert summary.locator("[data-summary-number]").inner_text() == order.number
    assert summary.locator("[data-summary-qty]").inner_text() == "3"
    assert summary.locator("[data-summary-total]").inner_text() == total
    assert geometry.get_family(FAMILY).title in summary.locator("[data-summary-part]").inner_text()
    promised = summary.locator("[data-summary-date]")
    assert promised.inner_text().strip()  # a date, or the working days from the order's day
    if order.quote.get("promised_date"):
        assert promised.get_attribute("data-summary-date") == order.quote["promised_date"]
    assert summary.locator("[data-summary-link]").get_attribute("href") == f"/order?key={key}"  # the status page
    # a press with nothing changed asks for a second identical order, in words
    assert page.locator(PLACE).inner_text() == "Place another identical order"
    assert not page.locator(f"{PLACE}[disabled]").count()
    watched_page.assert_clean()


def test_a_second_identical_order_asks_first_and_a_changed_one_does_not(served, watched_page, monkeypatch):
    page = open_configure(watched_page, served)
    customer = f"Repeat {uuid.uuid4().hex[:8]}"
    _type_customer(page, customer)
    page.locator(PLACE).click()
    page.locator(SUMMARY).wait_for(timeout=90_000)
    first = page.locator("[data-summary-number]").inner_text()
    first_key = _address_key(page)

    page.locator(PLACE).click()  # the same settings again: a question, nothing sent
    question = page.locator(REPEAT)
    question.get_by_text(f"This is the same as order {first}").wait_for(timeout=10_000)
    assert not page.locator(PLACE).is_visible() and _address_key(page) == first_key
    page.locator(f"{REPEAT} .somana-repeat-no").click()  # "No": back to the button, still one order
    page.locator(PLACE).wait_for(state="visible", timeout=10_000)
    assert not question.is_visible()
    with served_store(served, monkeypatch) as store:
        assert [o.number for o in orders_of(store, customer)] == [first]

    page.locator(PLACE).click()
    page.locator(f"{REPEAT} .somana-repeat-yes").click()  # confirmed: a second order
    second = page.locator("[data-summary-number]").filter(has_not_text=first)
    second.wait_for(timeout=90_000)
    assert _address_key(page) != first_key

    set_order_field(page, "order-qty", 2)  # changed settings: one press places, no question
    page.locator(PLACE).filter(has_text=re.compile("^Place order$")).wait_for(timeout=30_000)
    page.locator(".somana-quote-body").filter(has_text="total for 2").wait_for(timeout=30_000)
    page.locator(PLACE).click()
    page.locator("[data-summary-qty]").filter(has_text="2").wait_for(timeout=90_000)
    assert not question.is_visible()
    with served_store(served, monkeypatch) as store:
        placed = orders_of(store, customer)
    assert len(placed) == 3 and sorted(o.qty for o in placed) == [1, 1, 2]
    watched_page.assert_clean()


def test_the_kept_link_opens_the_status_page_and_a_bad_link_says_nothing_was_placed(served, watched_page, monkeypatch):
    page = open_configure(watched_page, served)
    customer = f"Kept Link {uuid.uuid4().hex[:8]}"
    _type_customer(page, customer)
    page.locator(PLACE).click()
    page.locator(SUMMARY).wait_for(timeout=90_000)
    number = page.locator("[data-summary-number]").inner_text()
    link = page.locator("[data-summary-link]").get_attribute("href")

    key = _address_key(page)
    page.goto(served.url + "/configure?order=" + key)  # a reload of the confirmed page
    page.locator(SUMMARY).wait_for(timeout=60_000)
    assert page.locator("[data-summary-number]").inner_text() == number
    assert page.locator(PLACE).inner_text() == "Place order"  # a new press is a new order
    page.locator("[data-summary-link]").click()  # the kept link: the order's status page
    status = page.locator(".somana-status-card [data-status-number]")
    status.wait_for(timeout=60_000)
    assert status.inner_text() == number and page.url == served.url + link

    page.goto(served.url + "/configure?order=po-" + "0" * 32)
    message = page.locator(".error-place")
    message.get_by_text("No order was stored for this page's link").wait_for(timeout=60_000)
    wait_until(lambda: _address_key(page) is None, timeout_s=10, message="the dead key to leave the address")
    with served_store(served, monkeypatch) as store:
        assert len(orders_of(store, customer)) == 1
    watched_page.assert_clean()


def test_a_reload_after_a_lost_reply_shows_the_order_instead_of_placing_again(served, watched_page, monkeypatch):
    """The server stores the order but the page never hears back (the websocket's replies are
    dropped from the press on); the person reloads: the page finds the order by the key in its address."""
    page = watched_page.page
    deaf = {"on": False}

    def relay(ws):
        server = ws.connect_to_server()
        dropped = {"now": False}
        ws.on_message(lambda message: server.send(message))

        def to_page(message):
            if deaf["on"]:
                dropped["now"] = True
            if not dropped["now"]:
                ws.send(message)
        server.on_message(to_page)

    page.route_web_socket(re.compile(r".*/configure/ws.*"), relay)
    open_configure(watched_page, served)
    customer = f"Lost Reply {uuid.uuid4().hex[:8]}"
    _type_customer(page, customer)
    page.locator(".order-customer input").press("Tab")
    deaf["on"] = True
    page.locator(PLACE).click()
    key = wait_until(lambda: _address_key(page), timeout_s=10, message="the key in the address")

    with served_store(served, monkeypatch) as store:
        order = wait_until(lambda: store.find_by_key(key), timeout_s=90, interval_s=0.3,
                           message="the server to store the order")
    assert not page.locator(SUMMARY).count()  # the page was never told
    deaf["on"] = False
    page.reload()
    summary = page.locator(SUMMARY)
    summary.wait_for(timeout=60_000)
    assert summary.locator("[data-summary-number]").inner_text() == order.number
    assert _address_key(page) == key
    with served_store(served, monkeypatch) as store:
        assert [o.number for o in orders_of(store, customer)] == [order.number]
