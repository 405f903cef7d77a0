"""/configure's fields in Chromium: each message beside the field it concerns, human labels on every
choice, the range each field can really take given the others (issue 13's lens width and pupillary
distance), the promised date in the quote, and the page on a 390 px phone."""

import re
from datetime import date

import pytest

from somana_core import catalogue, fulfilment, geometry, labels
from tests.ui.configure_page import VIEW, open_configure, orders_of, served_store, set_order_field, set_value

pytestmark = pytest.mark.browser
EYEWEAR = "eyewear_frame"


def _below(page, upper: str, lower: str) -> float:
    """How far (px) the top of `lower` sits under the bottom of `upper`."""
    a, b = page.locator(upper).first.bounding_box(), page.locator(lower).first.bounding_box()
    return b["y"] - (a["y"] + a["height"])


def _send_as_a_client(page, css_class: str, value) -> None:
    """Set a widget's value from the page's own BokehJS, past the widget's checks in the browser: what a
    modified page or a hand-written websocket client sends."""
    assert page.evaluate("""([cls, value]) => { for (const m of Bokeh.documents[0]._all_models.values())
        if ((m.css_classes || []).includes(cls)) { m.value = value; return true } return false }""", [css_class, value])


def _range_text(allowed: dict, unit: str = "mm") -> str:
    return f"can be {allowed['min']:g} to {allowed['max']:g} {unit}"


def test_order_fields_say_what_is_wrong_beside_them(served, watched_page, monkeypatch):
    page = open_configure(watched_page, served)
    set_order_field(page, "order-qty", 0)
    qty_error = page.locator(".error-qty")
    most = fulfilment.order_limits().max_units_per_order
    qty_error.get_by_text(f"Quantity: 0 is below the minimum 1 (a whole number from 1 to {most})").wait_for(
        timeout=30_000)
    assert 0 <= _below(page, ".order-qty", ".error-qty") < 40  # right under the quantity
    page.locator(".somana-quote.stale").wait_for(timeout=10_000)  # the price shown is not for 0
    assert page.locator(".somana-status").inner_text().strip() == ""  # nothing far from its cause

    set_order_field(page, "order-qty", 100_000)
    qty_error.get_by_text(re.compile("contact us")).wait_for(timeout=30_000)
    set_order_field(page, "order-qty", 2)
    page.locator(".somana-quote-body").filter(has_text="total for 2").wait_for(timeout=30_000)
    page.locator(".somana-quote:not(.stale)").wait_for(timeout=30_000)
    assert not qty_error.is_visible()

    page.locator(".order-place button.somana-place").click()  # no customer yet
    customer_error = page.locator(".error-customer")
    customer_error.get_by_text("customer is empty").wait_for(timeout=30_000)
    assert 0 <= _below(page, ".order-customer", ".error-customer") < 40
    assert page.locator(".order-place button.somana-place").inner_text() == "Place order"  # enabled again

    # whatever a client sends over the websocket is checked on the server and answered beside the field
    log_before = served.log_path.read_text(errors="replace")
    _send_as_a_client(page, "param-lid_fit", "unobtainium")  # a family's own list: the spec's check
    # named by the field's label with the choices as the list shows them, never the ids (snap, PLA, lid_fit)
    page.locator(".error-lid_fit").get_by_text("Lid fit: 'unobtainium' is not one of the choices (Snap, Screw)",
                                               exact=True).wait_for(timeout=30_000)
    _send_as_a_client(page, "order-qty", 1.5)
    qty_error.get_by_text(f"Quantity: 1.5 is not a whole number from 1 to {most}", exact=True).wait_for(
        timeout=30_000)
    _send_as_a_client(page, "order-material", "unobtainium")
    material_error = page.locator(".error-material")
    choices = ", ".join(labels.id_name("material", m) for m in catalogue.material_ids())
    material_error.get_by_text(f"Material: 'unobtainium' is not one of the choices ({choices})",
                               exact=True).wait_for(timeout=30_000)
    set_order_field(page, "order-customer", "Websocket Tester")
    page.locator(".order-place button.somana-place").click()  # refused: nothing is placed with the last good values
    page.locator(".error-place").get_by_text("Fix the highlighted value").wait_for(timeout=30_000)
    set_order_field(page, "order-qty", 2)
    page.locator(".order-material select").select_option(index=1)
    page.locator(".param-lid_fit select").select_option(index=1)
    page.locator(".somana-quote:not(.stale)").wait_for(timeout=30_000)
    assert not qty_error.is_visible() and not material_error.is_visible()
    assert not page.locator(".error-lid_fit").is_visible()
    logged = served.log_path.read_text(errors="replace")[len(log_before):]
    assert "Traceback" not in logged and "Callback failed" not in logged, logged[-2000:]
    with served_store(served, monkeypatch) as store:
        assert not orders_of(store, "Websocket Tester")
    watched_page.assert_clean()


def test_choices_read_as_names_and_the_quote_has_the_promised_date(served, watched_page):
    page = open_configure(watched_page, served)
    promised = page.locator("[data-promised-date]")
    promised.wait_for(timeout=30_000)
    assert date.fromisoformat(promised.get_attribute("data-promised-date")) >= date.today()
    assert re.fullmatch(r"\w{3} \d{1,2} \w{3} \d{4}", promised.inner_text())  # "Sat 5 Dec 2026"

    page.locator(".cfg-family select").select_option(label=geometry.get_family("kit_enclosure").title)
    page.locator(".param-board select").wait_for(timeout=60_000)
    page.locator(".somana-viewer[data-busy='0']").wait_for(timeout=60_000)
    board_options = page.locator(".param-board select option").all_inner_texts()
    assert "Arduino Uno R3" in board_options
    texts = [t for select in page.locator("select").all() for t in select.locator("option").all_inner_texts()]
    raw = [t for t in texts if "_" in t or t in geometry.get_family("kit_enclosure").param["board"].objects]
    assert texts and not raw, raw  # no internal id reaches a customer
    watched_page.assert_clean()


def test_eyewear_ranges_follow_the_pupillary_distance_and_the_message_lands_on_the_changed_field(
        served, watched_page, artifacts_dir):
    """Issue 13: a lens too wide for the pupillary distance is reported on the lens width (the field
    changed), with the range it can take; the range beside it moves when the distance changes."""
    page = open_configure(watched_page, served)
    page.locator(".cfg-family select").select_option(label=geometry.get_family(EYEWEAR).title)
    lens_range = page.locator(".range-lens_width")
    default = geometry.field_ranges(EYEWEAR, {})["lens_width"]
    lens_range.get_by_text(_range_text(default)).wait_for(timeout=60_000)
    page.locator(".somana-viewer[data-busy='0']").wait_for(timeout=60_000)

    too_wide = default["max"] + 5  # within the declared bounds, too wide for the default distance
    assert too_wide <= geometry.get_family(EYEWEAR).param["lens_width"].bounds[1]
    set_value(page, "lens_width", too_wide)
    message = page.locator(".error-lens_width")
    says = rf"^Lens width {too_wide:g} mm does not fit.*lens width {re.escape(_range_text(default))}$"
    message.get_by_text(re.compile(says)).wait_for(timeout=60_000)
    assert not page.locator(".error-pupillary_distance").is_visible()  # not on the field left alone
    page.screenshot(path=str(artifacts_dir / "configure_eyewear_message.png"), full_page=True)

    set_value(page, "lens_width", geometry.get_family(EYEWEAR).param["lens_width"].default)
    message.wait_for(state="hidden", timeout=60_000)
    distance = 74
    wider_apart = geometry.field_ranges(EYEWEAR, {"pupillary_distance": distance})["lens_width"]
    assert wider_apart != default  # the distance moves the lens width's range
    set_value(page, "pupillary_distance", distance)
    lens_range.get_by_text(_range_text(wider_apart)).wait_for(timeout=60_000)
    page.screenshot(path=str(artifacts_dir / "configure_eyewear_range.png"), full_page=True)

    # the temples' grip in the chosen material, under the Material field: a warning in PETG (too loose)
    spec = geometry.make_spec(EYEWEAR, {"pupillary_distance": distance})
    grip = geometry.get_family(EYEWEAR).builder.checks(spec, "PETG")["temple_grip"]
    assert grip["warning"] and not geometry.get_family(EYEWEAR).builder.checks(spec, "PLA")["temple_grip"]["warning"]
    page.locator(".somana-fit:not(.warn)").get_by_text(re.compile("^Fit: the temples grip the head comfortably")
                                                      ).wait_for(timeout=60_000)
    page.locator(".order-material select").select_option(label=labels.id_name("material", "PETG"))
    warning = page.locator(".somana-fit.warn[data-fit-warning]")
    warning.get_by_text(re.compile(rf"^In PETG these temples grip loosely.*\({grip['temple_clamp_force_n']:.2f} N;"
                                   r".*We suggest PLA\.$")).wait_for(timeout=60_000)
    assert 0 <= _below(page, ".order-material", ".cfg-fit") < 40  # right under the Material field
    page.screenshot(path=str(artifacts_dir / "configure_eyewear_fit_warning.png"), full_page=True)
    watched_page.assert_clean()


def test_on_a_portrait_tablet_the_price_and_place_order_are_on_the_first_screen(served, browser, artifacts_dir):
    """820 x 1180 (a portrait tablet): the 3D view and the quote share the first row, the fields follow
    (three columns put the price 2,476 px down)."""
    from tests.ui.conftest import _watch

    width, height = 820, 1180
    context = browser.new_context(viewport={"width": width, "height": height}, has_touch=True)
    try:
        watched = _watch(context.new_page())
        page = open_configure(watched, served)
        assert page.evaluate("window.scrollY") == 0
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        view = page.locator(VIEW).bounding_box()
        price = page.locator("[data-unit-price]").bounding_box()
        lead_time = page.locator("[data-lead-time]").bounding_box()
        button = page.locator(".order-place button.somana-place").bounding_box()
        for name, box in (("unit price", price), ("lead time", lead_time), ("Place order", button)):
            assert 0 <= box["y"] and box["y"] + box["height"] <= height, f"{name} is off the first screen: {box}"
            assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"{name} is cut at the side: {box}"
        assert button["height"] >= 36 and button["width"] >= 200
        assert view["y"] < height / 2 and view["width"] >= 340  # the 3D view at the top, not squeezed
        first_field = page.locator(".param-pcb_length").bounding_box()
        assert first_field["y"] >= button["y"] + button["height"]  # the fields below the quote
        assert first_field["width"] >= 600  # and using the tablet's width
        assert not page.locator("[data-phone-price]").is_visible()  # the quote itself is in sight: no phone line
        page.screenshot(path=str(artifacts_dir / "configure_tablet.png"))
        watched.assert_clean()
    finally:
        context.close()


@pytest.mark.parametrize("mobile", [False, True], ids=["narrow-window", "phone"])
def test_on_a_390px_phone_nothing_scrolls_sideways_and_the_order_button_is_reachable(
        served, browser, mobile, artifacts_dir):
    from tests.ui.conftest import _watch

    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=mobile, has_touch=mobile)
    try:
        watched = _watch(context.new_page())
        page = open_configure(watched, served)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        view, first_field = page.locator(VIEW).bounding_box(), page.locator(".param-pcb_length").bounding_box()
        assert view["y"] + view["height"] <= first_field["y"]  # the 3D view above the controls
        # the view fits the phone (not the desktop's 460 px): as tall as 80 % of the width, the part whole
        assert abs(view["height"] - 0.8 * 390) <= 2 and view["width"] >= 340, view
        page.locator(f"{VIEW}[data-in-view='1']").wait_for(timeout=30_000)
        assert first_field["y"] < 844  # the first field starts on the first screen
        # the price in one line between the 3D view and the fields (the quote itself is under the settings)
        price_line = page.locator("[data-phone-price]")
        unit_price = page.locator("[data-unit-price]").inner_text()
        price_line.filter(has_text=f"{unit_price} USD each").wait_for(timeout=30_000)
        line = price_line.bounding_box()
        assert view["y"] + view["height"] <= line["y"] and line["y"] + line["height"] <= first_field["y"], line
        assert first_field["width"] >= 300  # inputs use the width of the phone
        button = page.locator(".order-place button.somana-place")
        button.scroll_into_view_if_needed()
        box = button.bounding_box()
        assert box["height"] >= 36 and 0 <= box["y"] and box["y"] + box["height"] <= 844
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
        page.screenshot(path=str(artifacts_dir / f"configure_phone_{'mobile' if mobile else 'narrow'}.png"),
                        full_page=True)
        watched.assert_clean()
    finally:
        context.close()
