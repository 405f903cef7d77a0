"""/configure's 3D view in Chromium: after fast bursts of changes on several pages at once, each page
draws the mesh of its LAST change (the geometry the browser decoded is compared with the one the core
builds for those values), and a part that grows is framed again, whole, from the side the person chose."""

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from somana_core import geometry, workers
from somana_core.preview import PREVIEW_DEFLECTION_MM
from tests.ui.conftest import _watch
from tests.ui.configure_page import FIND_JS, VIEW, open_configure, set_value

pytestmark = pytest.mark.browser
FAMILY = "sensor_enclosure"
BURST = 12  # changes per page, typed faster than parts build
# one field per page, so every page ends on a different part
FIELDS = ("pcb_length", "pcb_width", "component_height")


def _fingerprint(payload: dict) -> tuple[int, list[float]]:
    return payload["vertex_count"], [round(v, 2) for v in payload["bbox_mm"]]


def _drawn(page) -> tuple[int, list[float]] | None:
    view = page.locator(".somana-viewer")
    vertices, bbox = view.get_attribute("data-vertices"), view.get_attribute("data-drawn-bbox")
    if not vertices or not bbox:
        return None
    return int(vertices), [round(float(v), 2) for v in bbox.split(",")]


def test_bursts_of_changes_on_three_pages_each_end_on_their_last_mesh(served, browser):
    """The lost-update race of issue 16: every page's last change must reach its 3D view."""
    contexts, pages = [], []
    try:
        for _ in FIELDS:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            contexts.append(context)
            pages.append(_watch(context.new_page()))
        for watched in pages:
            open_configure(watched, served)
            watched.page.locator(".somana-viewer[data-drawn-bbox][data-busy='0']").wait_for(timeout=60_000)
        cls = geometry.get_family(FAMILY)
        last = {}
        for i in range(1, BURST + 1):  # interleaved: the server has all three sessions busy at once
            for watched, name in zip(pages, FIELDS):
                p = cls.param[name]
                value = min(p.default + i * p.step, p.bounds[1])
                field = watched.page.locator(f".param-{name} input").first
                field.fill(f"{value:g}")
                field.press("Enter")
                last[name] = value
            pages[0].page.wait_for_timeout(60)
        for watched, name in zip(pages, FIELDS):
            expected = _fingerprint(workers.job_preview(FAMILY, {name: last[name]},
                                                        deflection_mm=PREVIEW_DEFLECTION_MM))
            try:
                watched.page.wait_for_function(
                    f"""([vertices, bbox]) => {{ const view = ({FIND_JS})(document, '.somana-viewer');
                       return view && view.dataset.busy === '0' && view.dataset.vertices === String(vertices)
                         && view.dataset.drawnBbox === bbox.map(v => v.toFixed(2)).join(',') }}""",
                    arg=[expected[0], expected[1]], timeout=60_000)
            except PlaywrightTimeout:
                view = watched.page.locator(".somana-viewer")
                state = {k: view.get_attribute(f"data-{k}") for k in ("revision", "busy", "vertices", "drawn-bbox")}
                state["quote_revision"] = watched.page.locator(".somana-quote-body").get_attribute("data-revision")
                pytest.fail(f"{name}={last[name]:g}: the view did not end on the last change's mesh "
                            f"{expected} within 60 s; it shows {state} (a quote revision newer than the view's "
                            "with busy=0 is a lost mesh update)")
            assert _drawn(watched.page) == expected, name
            quote_revision = watched.page.locator(".somana-quote-body").get_attribute("data-revision")
            assert watched.page.locator(VIEW).get_attribute("data-revision") == quote_revision
            watched.assert_clean()
    finally:
        for context in contexts:
            context.close()


def _direction(page) -> list[float]:
    return [float(v) for v in page.locator(".somana-viewer").get_attribute("data-camera-direction").split(",")]


def test_a_part_that_grows_is_framed_whole_from_the_side_the_person_turned_it_to(served, watched_page,
                                                                                  artifacts_dir):
    page = open_configure(watched_page, served)
    view = page.locator(".somana-viewer[data-in-view][data-busy='0']")
    view.wait_for(timeout=60_000)
    assert view.get_attribute("data-in-view") == "1"
    canvas = page.locator(".somana-viewer canvas").bounding_box()
    page.mouse.move(canvas["x"] + canvas["width"] / 2, canvas["y"] + canvas["height"] / 2)
    page.mouse.down()
    page.mouse.move(canvas["x"] + canvas["width"] / 2 + 120, canvas["y"] + canvas["height"] / 2, steps=6)
    page.mouse.up()
    turned, distance = _direction(page), float(view.get_attribute("data-camera-distance"))
    before = page.locator(VIEW).get_attribute("data-revision")

    cls = geometry.get_family(FAMILY)
    for name in ("pcb_length", "component_height"):  # as big as the form allows
        set_value(page, name, cls.param[name].bounds[1])
        page.wait_for_timeout(100)
    grown = page.locator(f".somana-viewer[data-busy='0']:not([data-revision='{before}'])")
    grown.wait_for(timeout=60_000)
    page.wait_for_function(f"""() => {{ const v = ({FIND_JS})(document, '.somana-viewer');
        return v.dataset.drawnBbox && Number(v.dataset.drawnBbox.split(',')[5]) > 60 }}""", timeout=60_000)
    page.screenshot(path=str(artifacts_dir / "configure_grown.png"))
    assert view.get_attribute("data-in-view") == "1"  # every corner of the bigger part is in the picture
    assert float(view.get_attribute("data-camera-distance")) > distance * 1.5
    assert all(abs(a - b) < 1e-3 for a, b in zip(_direction(page), turned))  # the person's rotation kept
    watched_page.assert_clean()
