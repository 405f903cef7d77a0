"""Browser tests for /machines, the fleet view over the bus, against `somana serve` (its private
Mosquitto and station child, one virtual printer "local/sim"): login, the row, the detail panel
(presets, console on Enter, upload and print, history and the job-ended notice), e-stop to halted
and back, 20 printers at 1,400 px, and a tablet viewport."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.waiting import wait_until
from tests.ui.conftest import STAFF_PASSWORD, STAFF_USER

pytestmark = pytest.mark.browser

RENDER_TIMEOUT_MS = 30_000
KEY = "local--sim"  # css id of printer "sim" of the station "local" that `somana serve` starts
SHORT_JOB = "\n".join(["; a short test job", "G28", "G90"] +
                      [f"G1 X{10 + i % 40} Y{10 + i % 30} F9000" for i in range(120)]) + "\n"


def text_becomes(page, element_id: str, predicate_js: str, timeout_ms: int = RENDER_TIMEOUT_MS) -> None:
    """Wait until the element (inside Panel's shadow roots) has a text satisfying `predicate_js` (uses `t`)."""
    page.wait_for_function(
        "([id, body]) => { const f = (r) => { for (const e of r.querySelectorAll('*')) {"
        " if (e.id === id) return e; if (e.shadowRoot) { const x = f(e.shadowRoot); if (x) return x; } }"
        " return null; }; const el = f(document); if (!el) return false; const t = el.textContent;"
        " return new Function('t', 'return ' + body)(t); }",
        arg=[element_id, predicate_js], timeout=timeout_ms)


def log_in(page, served) -> None:
    page.goto(served.url + "/machines")
    page.fill("#username", STAFF_USER)
    page.fill("#password", STAFF_PASSWORD)
    page.click("#login-submit")
    page.locator(".stop-all button").wait_for(timeout=RENDER_TIMEOUT_MS)
    assert page.url == served.url + "/machines"


def text_at_centre(page, locator) -> str:
    """The text of what a tap at the centre of `locator` reaches (through shadow roots): covered or not."""
    box = locator.bounding_box()
    return page.evaluate("([x, y]) => { let e = document.elementFromPoint(x, y); while (e && e.shadowRoot) {"
                         " const inner = e.shadowRoot.elementFromPoint(x, y); if (!inner || inner === e) break;"
                         " e = inner; } return e ? e.textContent : ''; }",
                         [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2])


def test_fleet_row_detail_console_print_history_and_estop(served, watched_page, artifacts_dir):
    page = watched_page.page
    log_in(page, served)
    text_becomes(page, f"state-{KEY}", "t === 'operational'")  # the station connected it at start
    page.screenshot(path=str(artifacts_dir / "ui_machines_fleet.png"), full_page=True)

    page.locator(f".details-{KEY} button").click()
    page.locator(".preset-pla button").click()
    text_becomes(page, f"temp-nozzle-{KEY}", "parseFloat(t) > 40")  # climbing toward the PLA target
    console = page.locator(".console-input input")
    console.fill("M115")
    console.press("Enter")
    text_becomes(page, f"console-{KEY}", "t.includes('FIRMWARE_NAME')")
    # the printer's reply comes straight from the broker, the cleared input through the web server: either may be first
    wait_until(lambda: console.input_value() == "", timeout_s=10, message="the console input cleared")

    page.locator(".gcode-upload input[type=file]").set_input_files(
        files=[{"name": "short-test.gcode", "mimeType": "text/plain", "buffer": SHORT_JOB.encode()}])
    # the dropper streams the file to the server in chunks: print once the browser has sent them all
    page.locator(".filepond--item", has_text="short-test.gcode").get_by_text("Upload complete").first.wait_for(
        timeout=RENDER_TIMEOUT_MS)
    page.locator(".print-file button").click()
    text_becomes(page, f"history-{KEY}", "t.includes('short-test.gcode') && t.includes('done')", 60_000)
    text_becomes(page, "job-notice", "t.includes('short-test.gcode') && t.includes('done')")
    page.screenshot(path=str(artifacts_dir / "ui_machines_detail.png"), full_page=False)

    from somana_core.floor import bus

    stops = []  # which paths the click took: "web-" ids come over the browser's own WebSocket to the broker
    listener = bus.Bus((served.home / bus.BROKER_FILE).read_text().strip()).connect()
    listener.subscribe(bus.ESTOP_TOPIC, lambda topic, payload, retained: stops.append(payload))
    page.locator(f".estop-{KEY} button").click()
    text_becomes(page, f"state-{KEY}", "t === 'halted'", 5_000)
    wait_until(lambda: len(stops) >= 2, 5, message="the e-stop over the WebSocket and over HTTP")
    assert {s["printer"] for s in stops} == {"local/sim"} and any(s["id"].startswith("web-") for s in stops)
    listener.close()
    text_becomes(page, f"job-{KEY}", "t.includes('emergency stop')")
    page.screenshot(path=str(artifacts_dir / "ui_machines_emergency_stop.png"), full_page=False)
    page.locator(".connect button").click()  # leave the shared printer usable: reconnecting resets it
    text_becomes(page, f"state-{KEY}", "t === 'operational'")
    page.locator(".preset-cool-down button").click()
    watched_page.assert_clean()


def test_estop_endpoint_refuses_strangers_and_other_origins(served):
    import urllib.error
    import urllib.request

    def post(headers):
        request = urllib.request.Request(served.url + "/machines/estop", data=b'{"printer": "*"}', method="POST",
                                         headers={"Content-Type": "application/json", **headers})
        try:
            return urllib.request.urlopen(request, timeout=10).status
        except urllib.error.HTTPError as exc:
            return exc.code

    assert post({}) == 403
    assert post({"Origin": served.url}) == 403  # same origin but no staff cookie
    assert post({"Origin": "http://evil.example"}) == 403


@pytest.fixture
def nineteen_more(served):
    """A second station with 19 virtual printers on the server's own broker (20 printers in all)."""
    env = dict(os.environ, SOMANA_HOME=str(served.home))
    args = [sys.executable, "-m", "somana", "station", "--name", "extra"]
    for i in range(19):
        args += ["--printer", f"sim{i + 1:02d}=sim"]
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield process
    process.terminate()
    process.wait(timeout=60)
    from somana_core.floor import bus
    from somana_core.floor.fleet import Fleet

    cleaner = bus.Bus((served.home / bus.BROKER_FILE).read_text().strip()).connect()  # forget the extra printers
    for i in range(19):
        cleaner.publish_and_wait(bus.printer_topic("extra", f"sim{i + 1:02d}", "state"), None, retain=True)
    cleaner.publish_and_wait(bus.status_topic("extra"), None, retain=True)
    cleaner.close()
    assert Fleet  # imported for the reader: the same topics the fleet subscribes to


def test_twenty_printers_fit_a_1400_px_screen_and_a_tablet(served, nineteen_more, browser, artifacts_dir):
    from tests.ui.conftest import _watch

    for width, height, name in ((1400, 900, "desktop"), (820, 1180, "tablet")):
        context = browser.new_context(viewport={"width": width, "height": height})
        watched = _watch(context.new_page())
        page = watched.page
        log_in(page, served)
        text_becomes(page, "fleet-summary", "t.startsWith('20 printers')", 60_000)  # in whatever state they are
        rows = """() => { const out = []; const walk = r => { r.querySelectorAll('*').forEach(e => {
            if (e.id && e.id.startsWith('row-')) out.push(e.getBoundingClientRect().height);
            if (e.shadowRoot) walk(e.shadowRoot); }); }; walk(document); return out; }"""
        # 20 rows arrive from the bus one station message at a time: allow a loaded CI machine its time
        page.wait_for_function(f"() => ({rows})().length === 20", timeout=90_000)
        page.wait_for_timeout(500)  # layout settles
        heights = page.evaluate(rows)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        page.screenshot(path=str(artifacts_dir / f"ui_machines_20_{name}.png"), full_page=True)
        assert overflow <= 0, f"{name}: the page scrolls sideways by {overflow} px"
        if name == "desktop":  # one line per printer: 20 rows on about one screen
            assert max(heights) <= 60, heights
        else:
            assert max(heights) <= 130, heights
        stop_all = page.locator(".stop-all button")
        page.locator(".row-details button").last.click()  # the detail panel must not cover STOP ALL
        page.wait_for_timeout(500)
        assert stop_all.is_visible()
        hit = text_at_centre(page, stop_all)
        assert "STOP ALL" in hit, hit
        watched.assert_clean()
        context.close()
    wait_until(lambda: nineteen_more.poll() is None, 1)


def test_tablet_order_is_printed_only_when_chosen_and_cancel_asks_first(served, browser, artifacts_dir, monkeypatch):
    from somana_core.orders import OrderStore, default_url
    from tests.ui.conftest import _watch

    monkeypatch.setenv("SOMANA_HOME", str(served.home))
    long_job = "\n".join(["G28"] + [f"G1 X{5 + i % 30} Y{5 + i % 20} F600" for i in range(3000)]) + "\n"
    with OrderStore(default_url()) as store:
        order = store.place("Tablet Test", "sensor_enclosure", {}, {"total_usd": 40},
                            files={"t.gcode": long_job.encode()})
    context = browser.new_context(viewport={"width": 820, "height": 1180})
    watched = _watch(context.new_page())
    page = watched.page
    log_in(page, served)
    text_becomes(page, f"state-{KEY}", "t === 'operational'")
    page.locator(f".details-{KEY} button").click()
    choice = page.locator(".order-choice select")
    choice.wait_for(timeout=RENDER_TIMEOUT_MS)
    print_button = page.locator(".print-order button")
    assert print_button.is_disabled()  # nothing prints until an order is chosen
    page.wait_for_function(
        "n => { const f = (r) => { for (const e of r.querySelectorAll('option')) if (e.textContent.startsWith(n)) return e;"
        " for (const e of r.querySelectorAll('*')) if (e.shadowRoot) { const x = f(e.shadowRoot); if (x) return x; }"
        " return null; }; return f(document) !== null }", arg=order.number, timeout=RENDER_TIMEOUT_MS)
    label = next(o for o in choice.locator("option").all_inner_texts() if o.startswith(order.number))
    choice.select_option(label=label)
    text_becomes(page, f"order-choice-{KEY}", f"t.includes('{order.number}')")
    print_button.click()
    text_becomes(page, f"state-{KEY}", "t === 'printing'")
    page.locator(".detail-close button").click()
    cancel = page.locator(f".cancel-{KEY} button")
    cancel.click()
    from playwright.sync_api import expect

    expect(cancel).to_have_text("Confirm cancel?", timeout=RENDER_TIMEOUT_MS)
    page.screenshot(path=str(artifacts_dir / "ui_machines_tablet_confirm_cancel.png"), full_page=False)
    with OrderStore(default_url()) as store:
        assert store.get(order.number).state == "printing"  # one click sends nothing
        cancel.click()
        wait_until(lambda: store.get(order.number).state == "cancelled", 30, message="the order cancelled")
    text_becomes(page, "job-notice", f"t.includes('{order.number}') && t.includes('cancelled')")
    watched.assert_clean()
    context.close()


def test_status_reaches_the_page_from_the_broker_while_the_web_process_is_stopped(served, browser):
    """The row is drawn from the browser's own MQTT-over-WebSocket subscription (the read-only
    viewer user): with the web process frozen (SIGSTOP), a printer's new state still shows."""
    import signal

    from somana_core.floor import bus
    from somana_core.floor.fleet import Fleet
    from tests.ui.conftest import _watch

    context = browser.new_context(viewport={"width": 1200, "height": 800})
    watched = _watch(context.new_page())
    page = watched.page
    log_in(page, served)
    text_becomes(page, f"state-{KEY}", "t === 'operational'")
    source = """() => { const f = (r) => { for (const e of r.querySelectorAll('*')) { if (e.dataset && e.dataset.source
        && e.querySelector && e.querySelector('#row-local--sim')) return e.dataset.source;
        if (e.shadowRoot) { const x = f(e.shadowRoot); if (x) return x; } } return null; }; return f(document); }"""
    page.wait_for_function(f"() => ({source})() === 'broker'", timeout=RENDER_TIMEOUT_MS)
    fleet = Fleet((served.home / bus.BROKER_FILE).read_text().strip()).start()
    os.kill(served.process.pid, signal.SIGSTOP)
    try:
        assert fleet.wait_reply(fleet.command("local/sim", "temperature", heater="B", celsius=47), 15)["ok"]
        text_becomes(page, f"row-{KEY}", "t.includes('→ 47')", 10_000)  # the bed's new target, server frozen
    finally:
        os.kill(served.process.pid, signal.SIGCONT)
    fleet.wait_reply(fleet.command("local/sim", "temperature", heater="B", celsius=0), 15)
    text_becomes(page, f"row-{KEY}", "!t.includes('→ 47')")
    fleet.close()
    watched.assert_clean()
    context.close()


def test_a_phone_shows_stop_all_without_scrolling_and_no_sideways_overflow(served, browser, artifacts_dir):
    from tests.ui.conftest import _watch

    width, height = 390, 844
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=True, has_touch=True,
                                  device_scale_factor=2)
    watched = _watch(context.new_page())
    page = watched.page
    log_in(page, served)
    text_becomes(page, f"state-{KEY}", "t.length > 0")
    page.wait_for_timeout(500)  # layout settles
    page.screenshot(path=str(artifacts_dir / "ui_machines_phone.png"), full_page=True)
    # a phone widens its layout viewport to the content: compare with the device's width, not innerWidth
    overflow = page.evaluate("() => Math.max(document.documentElement.scrollWidth, window.innerWidth)") - width
    assert overflow <= 0, f"the page scrolls sideways by {overflow} px on a {width} px phone"
    box = page.locator(".stop-all button").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width and box["y"] >= 0 and box["y"] + box["height"] <= height, box
    assert box["height"] >= 40  # a thumb's target
    row = page.evaluate("""() => { const f = (r) => { for (const e of r.querySelectorAll('*')) {
        if (e.id === 'row-local--sim') return e; if (e.shadowRoot) { const x = f(e.shadowRoot); if (x) return x; } }
        return null; }; const e = f(document); const b = e.getBoundingClientRect();
        const size = parseFloat(getComputedStyle(e).fontSize);
        const parts = [...e.children].map(c => { const r = c.getBoundingClientRect(); return [r.left, r.right]; });
        return {left: b.left, right: b.right, size, parts}; }""")
    assert row["left"] >= 0 and row["right"] <= width, row
    assert all(left >= 0 and right <= width for left, right in row["parts"]), row  # nothing cut off at the edge
    assert row["size"] >= 13, row  # readable without zooming
    buttons = page.evaluate("""() => { const out = []; const f = (r) => { for (const e of r.querySelectorAll('button')) {
        const b = e.getBoundingClientRect(); if (b.width) out.push([e.textContent.trim(), b.left, b.right]); }
        for (const e of r.querySelectorAll('*')) if (e.shadowRoot) f(e.shadowRoot); }; f(document); return out; }""")
    assert all(left >= 0 and right <= width for _, left, right in buttons), buttons
    page.locator(f".details-{KEY} button").click()  # the detail panel must not cover STOP ALL
    page.locator(".detail-close button").wait_for(timeout=RENDER_TIMEOUT_MS)
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts_dir / "ui_machines_phone_detail.png"), full_page=False)
    hit = text_at_centre(page, page.locator(".stop-all button"))
    assert "STOP ALL" in hit, hit
    watched.assert_clean()
    context.close()
