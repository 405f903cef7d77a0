"""Benchmark of the /machines G-code upload: how much memory the web process takes for a large file.

Starts its own `somana serve` (temporary SOMANA_HOME, one virtual printer), signs in with Chromium,
and uploads a real G-code file of SIZE MB (default 49: just under data/upload_limits.csv's 50 MB) through
the page's dropper, measuring the web process's peak resident memory (VmHWM, reset through
/proc/PID/clear_refs before each phase) above its resident memory before:

- upload: the chunks streaming to disk (the dropper writes each 10 MB chunk as it arrives),
- print:  the check of the file on disk and the hand-over to the station (since session 4 in 512 KB chunks
          over the bus, somana_core.floor.handoff; before, ONE bus message holding the whole file),

and, for comparison, the same file through Panel's own FileInput on a one-widget page served by
`panel serve` (what /machines used before: one base64 websocket message, held whole).

Prints one JSON document with /proc/loadavg (the machine may be shared: memory figures hold, times do not).

usage: .venv/bin/python benchmarks/gcode_upload.py [--size-mb 49] [--quick]   (--quick: 10 MB)
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
USER, PASSWORD = "meter", "upload-only-passphrase-93"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout_s: float = 400.0) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status < 500:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer in {timeout_s:.0f} s")


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def reset_peak(pid: int) -> int:
    """Reset VmHWM to the current RSS (Linux >= 4.0); returns the RSS in kB."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    return status_kb(pid, "VmRSS")


def make_gcode(path: Path, size_bytes: int) -> None:
    line = b"G1 X12.345 Y67.890 E0.01234 F1800 ; move\n"
    with path.open("wb") as fh:
        fh.write(b"; benchmark job\nG28\nG90\n")
        fh.write(line * (size_bytes // len(line)))


def phase_peak_mb(pid: int, action) -> dict:
    before = reset_peak(pid)
    started = time.monotonic()
    action()
    return {"rss_before_mb": round(before / 1024, 1), "peak_above_before_mb": round((status_kb(pid, "VmHWM") - before) / 1024, 1),
            "seconds": round(time.monotonic() - started, 2)}


def machines_upload(page, url: str, path: Path, pid: int) -> dict:
    page.goto(url + "/machines")
    page.fill("#username", USER)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.locator(".stop-all button").wait_for(timeout=120_000)
    page.locator(".details-local--sim button").click()
    page.locator(".gcode-upload input[type=file]").wait_for(state="attached", timeout=60_000)

    def upload():
        page.locator(".gcode-upload input[type=file]").set_input_files(str(path))
        page.locator(".filepond--item", has_text=path.name).get_by_text("Upload complete").first.wait_for(timeout=600_000)
        page.wait_for_timeout(2000)  # the last chunk reaches the server after the browser's "complete"

    def send():
        page.locator(".print-file button").click()
        page.get_by_text("printing", exact=False).first.wait_for(timeout=600_000)
        page.wait_for_timeout(2000)

    return {"upload": phase_peak_mb(pid, upload), "print": phase_peak_mb(pid, send)}


FILE_INPUT_APP = textwrap.dedent("""
    import panel as pn
    w = pn.widgets.FileInput(accept=".gcode", css_classes=["plain-upload"])
    size = pn.pane.Str("none", css_classes=["got"])
    w.param.watch(lambda e: setattr(size, "object", f"got {len(e.new)} bytes"), "value")
    pn.Column(w, size).servable()
""")


def file_input_upload(browser, path: Path, folder: Path) -> dict:
    app = folder / "plain_upload.py"
    app.write_text(FILE_INPUT_APP)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "panel", "serve", str(app), "--port", str(port),
                             "--websocket-max-message-size", str(1024 ** 3)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=folder)
    try:
        wait_http(f"http://localhost:{port}/plain_upload")
        page = browser.new_page()
        page.goto(f"http://localhost:{port}/plain_upload")
        page.locator(".plain-upload input[type=file]").wait_for(state="attached", timeout=60_000)

        def upload():
            page.locator(".plain-upload input[type=file]").set_input_files(str(path))
            page.get_by_text(f"got {path.stat().st_size} bytes").wait_for(timeout=600_000)

        result = phase_peak_mb(proc.pid, upload)
        page.close()
        return result
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=49.0)
    parser.add_argument("--quick", action="store_true", help="a 10 MB file")
    args = parser.parse_args()
    size = int((10.0 if args.quick else args.size_mb) * 1e6)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="somana-bench-upload-") as tmp:
        folder = Path(tmp)
        home = folder / "home"
        home.mkdir()
        env = dict(os.environ, SOMANA_HOME=str(home), PYTHONPATH=str(REPO))
        subprocess.run([sys.executable, "-m", "somana", "users", "add", USER, "--password-stdin"], input=PASSWORD,
                       text=True, env=env, check=True, capture_output=True)
        gcode = folder / "bench.gcode"
        make_gcode(gcode, size)
        port = free_port()
        serve = subprocess.Popen([sys.executable, "-m", "somana", "serve", "--port", str(port)], env=env, cwd=REPO,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = f"http://localhost:{port}"
            wait_http(url + "/")
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                machines = machines_upload(page, url, gcode, serve.pid)
                plain = file_input_upload(browser, gcode, folder)
                browser.close()
        finally:
            serve.terminate()
            serve.wait(timeout=60)
    print(json.dumps({"file_mb": round(size / 1e6, 1), "machines_dropper": machines, "panel_file_input": plain,
                      "loadavg": Path("/proc/loadavg").read_text().split()[:3],
                      "note": "peak_above_before_mb: VmHWM minus VmRSS at the phase start, web process only"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
