"""/configure in Debian's Chromium against `somana serve`: renders offline and clean, a dimension
change updates the quote and the 3D view, a bad value shows its message, an order reaches the store."""

import re

import pytest

from dashboards.configure import VIEW_HEIGHT_PX
from somana_core import geometry, labels
from somana_core.orders import OrderStore
from tests.support.waiting import wait_until

pytestmark = pytest.mark.browser
FAMILY = "sensor_enclosure"
VIEW = ".somana-viewer[data-revision]"


def revision(page) -> int:
    return int(page.locator(VIEW).get_attribute("data-revision"))


def unit_price(page) -> str:
    return page.locator("[data-unit-price]").inner_text()


def open_configure(watched, served):
    page = watched.page
    page.goto(served.url + "/configure")
    page.locator(VIEW).wait_for(timeout=60_000)
    page.locator("[data-unit-price]").wait_for(timeout=30_000)
    return page


def set_value(page, name, value):
    field = page.locator(f".param-{name} input").first
    field.fill(str(value))
    field.press("Enter")


def canvas_has_a_part(page) -> bool:
    """The WebGL canvas holds more than the background: some pixels are the part's blue."""
    return page.locator(".somana-viewer canvas").evaluate("""c => {
        const copy = document.createElement('canvas'); copy.width = c.width; copy.height = c.height;
        const ctx = copy.getContext('2d'); ctx.drawImage(c, 0, 0);
        const d = ctx.getImageData(0, 0, c.width, c.height).data; let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && d[i + 2] > d[i] + 40) n++;
        return n > 1000 }""")


def test_configure_renders_offline_and_a_dimension_updates_quote_and_view(served, watched_page, artifacts_dir):
    page = open_configure(watched_page, served)
    assert canvas_has_a_part(page)
    canvas = page.locator(".somana-viewer canvas")
    before, box = canvas.evaluate("c => c.toDataURL()"), canvas.bounding_box()
    assert abs(box["height"] - VIEW_HEIGHT_PX) <= 1  # a desktop keeps the tall view (a phone's is shorter)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 80, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    # the person can turn the part (the view redraws on the next animation frame: slow under load)
    wait_until(lambda: canvas.evaluate("c => c.toDataURL()") != before, timeout_s=10, interval_s=0.2,
               message="the dragged view to redraw turned")
    page.screenshot(path=str(artifacts_dir / "configure.png"), full_page=True)
    before_rev, before_price = revision(page), unit_price(page)
    width = geometry.get_family(FAMILY).param["pcb_width"]
    set_value(page, "pcb_width", width.default + 20 * width.step)
    page.locator("[data-unit-price]").filter(has_not_text=before_price).wait_for(timeout=30_000)
    page.locator(f".somana-viewer:not([data-revision='{before_rev}'])").wait_for(timeout=30_000)
    assert revision(page) > before_rev and canvas_has_a_part(page)
    page.screenshot(path=str(artifacts_dir / "configure_changed.png"), full_page=True)
    watched_page.assert_clean()


def test_a_bad_value_shows_its_message_and_keeps_the_view(served, watched_page, artifacts_dir):
    page = open_configure(watched_page, served)
    before_rev = revision(page)
    low = geometry.get_family(FAMILY).param["wall"].bounds[0]
    set_value(page, "wall", low / 2)
    with pytest.raises(geometry.InputError) as expected:
        geometry.make_spec(FAMILY, {"wall": low / 2})
    message = page.locator(".error-wall")  # beside the field, in the form's words
    message.get_by_text(labels.human_message(geometry.get_family(FAMILY), expected.value.message)).wait_for(
        timeout=30_000)
    assert page.locator(".somana-status").inner_text().strip() == ""  # not repeated under the 3D view
    page.screenshot(path=str(artifacts_dir / "configure_bad_value.png"), full_page=True)
    assert revision(page) == before_rev and canvas_has_a_part(page)
    watched_page.assert_clean()


def test_placing_an_order_puts_it_in_the_store(served, watched_page, monkeypatch):
    page = open_configure(watched_page, served)
    customer = page.locator(".order-customer input")
    customer.fill("Grace Hopper")
    customer.press("Enter")
    page.locator(".order-place button.somana-place").click()
    shown = page.locator(".somana-order-number [data-summary-number]").get_by_text(re.compile(r"SO-\d+"))
    shown.wait_for(timeout=60_000)
    number = re.search(r"SO-\d+", shown.inner_text()).group(0)
    monkeypatch.setenv("SOMANA_HOME", str(served.home))
    with OrderStore() as store:
        order = store.get(number)
    assert order.customer == "Grace Hopper" and order.family == FAMILY and order.state == "confirmed"
    assert sorted(f.kind for f in order.files) == ["step", "stl"]
    watched_page.assert_clean()


def _extents(page) -> list[float]:
    """The drawn part's size along x, y, z (mm), from the viewer's data-bbox."""
    box = [float(v) for v in page.locator(VIEW).get_attribute("data-bbox").split(",")]
    return [box[i + 3] - box[i] for i in range(3)]


def test_after_a_burst_of_changes_the_page_ends_on_the_last_ones_quote_and_mesh(served, watched_page):
    """Latest wins: ten values typed faster than parts build; the quote and the 3D view both end on the
    last change (the part is ten steps wider), with the busy indicator off and no message."""
    page = open_configure(watched_page, served)
    page.locator(".somana-viewer[data-bbox][data-busy='0']").wait_for(timeout=60_000)
    before = _extents(page)
    width = geometry.get_family(FAMILY).param["pcb_width"]
    field = page.locator(".param-pcb_width input").first
    for i in range(1, 11):
        field.fill(f"{width.default + i * width.step:g}")
        field.press("Enter")
        page.wait_for_timeout(120)
    # ends on the last change: the view ten steps wider, not busy, and the quote of the same revision
    page.wait_for_function("""([before, grown]) => {
      const find = (root, sel) => { const hit = root.querySelector(sel); if (hit) return hit;
        for (const el of root.querySelectorAll('*')) if (el.shadowRoot) { const h = find(el.shadowRoot, sel); if (h) return h }
        return null }
      const view = find(document, '.somana-viewer'), quote = find(document, '.somana-quote-body')
      if (!view || !quote || !view.dataset.bbox || view.dataset.busy !== '0') return false
      const b = view.dataset.bbox.split(',').map(Number)
      const wider = [0, 1, 2].some(i => Math.abs((b[i + 3] - b[i]) - before[i] - grown) < 0.05)
      return wider && view.dataset.revision === quote.dataset.revision }""",
                           arg=[before, 10 * width.step], timeout=60_000)
    assert page.locator(".somana-status").inner_text().strip() == ""
    watched_page.assert_clean()
