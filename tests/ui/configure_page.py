"""Helpers for the /configure browser tests: open the page, type a value, read the store behind the
served page, and find elements through Panel's shadow roots from page scripts."""

from __future__ import annotations

from contextlib import contextmanager

from somana_core.orders import OrderStore

VIEW = ".somana-viewer[data-revision]"

# document.querySelector that also looks inside shadow roots (Panel draws every pane in one)
FIND_JS = """(root, sel) => { const find = (r) => { const hit = r.querySelector(sel); if (hit) return hit;
  for (const el of r.querySelectorAll('*')) if (el.shadowRoot) { const h = find(el.shadowRoot); if (h) return h }
  return null }; return find(root) }"""


def open_configure(watched, served, query: str = "", ready: bool = True):
    page = watched.page
    page.goto(served.url + "/configure" + query)
    if ready:
        page.locator(VIEW).wait_for(timeout=60_000)
        page.locator("[data-unit-price]").wait_for(timeout=30_000)
    return page


def set_value(page, name, value):
    field = page.locator(f".param-{name} input").first
    field.fill(str(value))
    field.press("Enter")


def set_order_field(page, css_class: str, value):
    field = page.locator(f".{css_class} input").first
    field.fill(str(value))
    field.press("Enter")


@contextmanager
def served_store(served, monkeypatch):
    """The order store of the served page (its SOMANA_HOME)."""
    monkeypatch.setenv("SOMANA_HOME", str(served.home))
    with OrderStore() as store:
        yield store


def orders_of(store, customer: str):
    return [order for order in store.list() if order.customer == customer]
