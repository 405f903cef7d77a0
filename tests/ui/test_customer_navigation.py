"""The header a customer sees on /configure and /order points at nothing of the floor's (no Machines, no
Plan); a signed-in member of staff on the same pages still gets those links."""

import pytest

from tests.ui.conftest import STAFF_PASSWORD, STAFF_USER

pytestmark = pytest.mark.browser
STAFF_LINKS = ("/machines", "/plan")
HEADER = ".somana-header"


def _header_links(page) -> list[str]:
    page.locator(f"{HEADER} a.brand").wait_for(timeout=60_000)  # the header pane draws all its links at once
    return [a.get_attribute("href") for a in page.locator(f"{HEADER} a").all()]


def test_a_customer_sees_no_staff_links_and_signed_in_staff_do(served, watched_page):
    page = watched_page.page
    for path in ("/configure", "/order?key=po-" + "0" * 32):
        page.goto(served.url + path)
        links = _header_links(page)
        assert "/configure" in links and not set(STAFF_LINKS) & set(links), (path, links)
        assert "/logout" not in links

    # signed in (the same header code draws /configure's; /order is the cheaper page to open)
    page.goto(served.url + "/login?next=/order")
    page.fill("#username", STAFF_USER)
    page.fill("#password", STAFF_PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(served.url + "/order", timeout=30_000)
    links = _header_links(page)
    assert set(STAFF_LINKS) <= set(links) and "/logout" in links, links
    assert page.locator(HEADER).get_by_text(STAFF_USER).count() == 1
    watched_page.assert_clean()
