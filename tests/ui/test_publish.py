"""`somana publish`: the static site opened from file:// in Debian's Chromium with every other request
blocked: clean pages, main figures drawn, embedded controls change figures, the gallery's WebGL draws."""

import json
import math
import subprocess
import sys

import pytest

from somana_core import story

pytestmark = pytest.mark.browser

# In the format benchmarks/pipeline.py prints; distinctive values prove the page reads the file.
PIPELINE = {"runs": 3, "families": {"sensor_enclosure": {
    "median_s": {"validate": 0.004, "build": 0.123, "export": 0.2, "quote": 0.011, "slice": 1.917, "store": 0.05,
                 "total": 2.305}, "quote_cached_geometry_ms": 7.5}}}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("publish")
    results = root / "pipeline.json"
    results.write_text(json.dumps(PIPELINE))
    out = root / "site"
    done = subprocess.run([sys.executable, "-m", "somana", "publish", str(out), "--pipeline-results",
                           str(results), "--json"], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout[done.stdout.index("{"):])
    return out, report


def _open(file_page, site, name):
    page = file_page.page
    page.goto((site[0] / name).as_uri())
    return page


def test_the_folder_is_complete_and_small(site):
    out, report = site
    assert report["size_mb"] < 30
    for name in report["pages"]:
        assert (out / name).is_file()
    assert report["embedded_states_total"] == sum(report["embedded_states"].values()) > 0
    assert (out / "assets" / "three" / "LICENSE").is_file()


@pytest.mark.parametrize("name", ["index.html", "story-margins.html", "story-break-even.html", "story-eoq.html",
                                  "story-crossover.html", "story-push-pull.html", "order-flow.html"])
def test_each_page_shows_its_main_figure_offline(site, file_page, artifacts_dir, name):
    page = _open(file_page, site, name)
    if name.startswith("story-"):
        page.locator(".main-figure canvas").first.wait_for(state="visible", timeout=30_000)
        page.locator("[data-figure]").first.wait_for(timeout=30_000)
    else:
        page.locator("[data-figure]").first.wait_for(state="visible", timeout=30_000)
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts_dir / f"publish_{name.replace('.html', '')}.png"), full_page=True)
    file_page.assert_clean()


def test_changing_an_embedded_control_changes_the_break_even(site, file_page):
    page = _open(file_page, site, "story-break-even.html")
    figure = page.locator("[data-figure='break_even_units']")
    figure.wait_for(timeout=30_000)
    steps = story.steps("automation_fixed_cost_cut")
    # whole units: 142.1 units/month needs 143 to break even, as /portfolio shows it
    expected = [f"{math.ceil(story.break_even_story(1.0, cut)['break_even_units_per_month']):,d}" for cut in steps]
    assert figure.inner_text() == expected[0]
    page.locator(".control-automation select").select_option(label=f"{steps[-1]:.0%}")
    page.locator("[data-figure='break_even_units']").get_by_text(expected[-1], exact=True).wait_for(timeout=10_000)
    file_page.assert_clean()


def test_the_order_flow_shows_the_benchmark_file_times(site, file_page):
    page = _open(file_page, site, "order-flow.html")
    assert page.locator("[data-figure='sensor_enclosure-build']").inner_text() == "123 ms"
    assert page.locator("[data-figure='sensor_enclosure-slice']").inner_text() == "1.92 s"
    assert page.locator("[data-figure='sensor_enclosure-total']").inner_text() == "2.31 s"
    file_page.assert_clean()


def test_a_gallery_3d_view_draws_and_rotates(site, file_page, artifacts_dir):
    page = _open(file_page, site, "gallery.html")
    canvas = page.locator(".viewer canvas").first
    canvas.wait_for(timeout=30_000)
    page.locator(".somana-viewer[data-revision]").first.wait_for(timeout=30_000)
    coloured = canvas.evaluate("""c => {
        const copy = document.createElement('canvas'); copy.width = c.width; copy.height = c.height;
        const ctx = copy.getContext('2d'); ctx.drawImage(c, 0, 0);
        const d = ctx.getImageData(0, 0, c.width, c.height).data; let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && d[i + 2] > d[i] + 40) n++;
        return n }""")
    assert coloured > 1000
    before = canvas.evaluate("c => c.toDataURL()")
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 80, box["y"] + box["height"] / 2 + 20, steps=5)
    page.mouse.up()
    page.wait_for_timeout(200)
    assert canvas.evaluate("c => c.toDataURL()") != before  # dragging rotates the part
    cards = page.locator(".card")
    assert cards.count() == site[1]["gallery_variants"] >= 2
    page.screenshot(path=str(artifacts_dir / "publish_gallery.png"), full_page=True)
    file_page.assert_clean()


@pytest.mark.parametrize("name", ["index.html", "story-margins.html", "story-break-even.html", "gallery.html",
                                  "order-flow.html"])
def test_pages_fit_a_phone_without_sideways_scrolling(site, browser, artifacts_dir, name):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    page.goto((site[0] / name).as_uri())
    if name.startswith("story-"):
        page.locator(".main-figure canvas").first.wait_for(state="visible", timeout=30_000)
    else:
        page.locator("main").wait_for(timeout=30_000)
    page.wait_for_timeout(300)
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    page.screenshot(path=str(artifacts_dir / f"publish_phone_{name.replace('.html', '')}.png"), full_page=False)
    context.close()
    assert widths[1] == 390, f"{name} is laid out {widths[1]} px wide (no viewport tag): the phone shrinks it"
    assert widths[0] <= widths[1] + 1, f"{name} is {widths[0]} px wide on a {widths[1]} px phone"


def test_gallery_captions_use_words_not_parameter_names(site):
    text = (site[0] / "gallery.html").read_text()
    for raw in ("pcb_length", "bbc_microbit_v2", "aaa_3x_holder", "raspberry_pi_pico", "= "):
        assert raw not in text.split("<script")[0], raw
    assert "Board: Raspberry Pi Pico" in text
