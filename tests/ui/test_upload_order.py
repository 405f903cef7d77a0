"""A G-code upload is complete on the server before the "Print" click that follows it is handled, even when
writing its last chunk is slow (dashboards/components/gcode_upload.py).

Panel 1.9.4 hands every widget event to its thread pool when there is one (`somana serve --num-threads`),
where events run side by side: the click that follows "Upload complete" could run while the last chunk was
still being written, and /machines answered "choose a G-code file first" (tests/ui/test_gcode_upload_browser.py
failed 2 runs in 9 at load 31-36 that way). Here the last chunk takes SLOW_CHUNK_S to write, in a tiny app
served in this process with a thread pool; the click must still find the file. Without the fix (Panel's own
event dispatch put back) the click found no file in 2 runs of 3 at load 7-10 (measured by hand; not kept as a
test: a race).
"""

from __future__ import annotations

import socket
import time

import panel as pn
import pytest

from dashboards.components.gcode_upload import GcodeUpload

pytestmark = pytest.mark.browser
SLOW_CHUNK_S = 1.5  # the last chunk's write: a loaded machine's slow disk, made certain


class SlowLastChunk(GcodeUpload):
    def _take(self, event):
        data = event.data
        if event.event_name != "delete_event" and int(data["chunk"]) == int(data["total_chunks"]):
            time.sleep(SLOW_CHUNK_S)
        super()._take(event)


def upload_app():
    GcodeUpload.load_on_page()
    upload = SlowLastChunk(css_classes=["gcode-upload"])
    result = pn.pane.HTML("<p id='result'>not pressed</p>")
    button = pn.widgets.Button(label="Print", css_classes=["print"])

    def pressed(event):
        found = f"ready {upload.filename} {upload.size_bytes}" if upload.path else "no file"
        result.object = f"<p id='result'>{found}</p>"

    button.on_click(pressed)
    return pn.Column(upload, button, result)


@pytest.fixture
def upload_page(somana_home):
    """The tiny app on an in-process server with a thread pool, as `somana serve` runs (--num-threads)."""
    pn.config.nthreads = 2
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = pn.serve({"upload": upload_app}, port=port, address="127.0.0.1",
                      websocket_origin=[f"127.0.0.1:{port}"], threaded=True, show=False, start=True)
    try:
        yield f"http://127.0.0.1:{port}/upload"
    finally:
        server.stop()
        pn.config.nthreads = None


def test_print_pressed_after_upload_complete_finds_the_whole_file(browser, upload_page, tmp_path):
    job = tmp_path / "slow.gcode"
    job.write_text("G28\n" + "G1 X10 Y10\n" * 1000)
    page = browser.new_page()
    try:
        page.goto(upload_page)
        page.locator(".gcode-upload input[type=file]").set_input_files(str(job))
        page.locator(".filepond--item", has_text="slow.gcode").get_by_text("Upload complete").first.wait_for(
            timeout=30_000)
        page.locator(".print button").click()
        result = page.locator("#result", has_text="ready").or_(page.locator("#result", has_text="no file"))
        result.wait_for(timeout=30_000)
        assert result.inner_text() == f"ready slow.gcode {job.stat().st_size}"
    finally:
        page.close()
