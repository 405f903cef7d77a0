"""Benchmark of the served apps: time to first render per page (median of 5, headless Debian Chromium
via Playwright) and the server's memory with 1 and with 20 open sessions. Prints one JSON document.

Starts its own `somana serve` (temporary SOMANA_HOME, a throwaway staff login). One function per
page (`time_<page>`) returns seconds for one fresh browser context; add a page by writing its
function and listing it in PAGE_TIMERS. The machine is shared: figures are noisy, report medians.

usage: .venv/bin/python benchmarks/dashboards.py [--runs 5] [--sessions 20]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
TIMEOUT_MS = 60_000
BENCH_USER = "bench"


# ------------------------------------------------------------------ the server
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    def __init__(self):
        self.home = Path(tempfile.mkdtemp(prefix="somana-bench-"))
        self.password = secrets.token_urlsafe(16)
        env = dict(os.environ, SOMANA_HOME=str(self.home))
        subprocess.run([sys.executable, "-m", "somana", "users", "add", BENCH_USER, "--password-stdin"],
                       input=self.password, text=True, env=env, check=True, capture_output=True)
        self.port = _free_port()
        self.url = f"http://localhost:{self.port}"
        self.log = open(self.home / "serve.log", "w")
        self.process = subprocess.Popen([sys.executable, "-m", "somana", "serve", "--port", str(self.port)],
                                        env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=REPO)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/login", timeout=5)
                return
            except Exception:  # noqa: BLE001 - still starting
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("somana serve did not start:\n" + (self.home / "serve.log").read_text())

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


# ------------------------------------------------------------------ one function per page
def _timed_goto(page, url: str, ready_selector: str) -> float:
    start = time.perf_counter()
    page.goto(url)
    page.locator(ready_selector).first.wait_for(timeout=TIMEOUT_MS)
    return time.perf_counter() - start


def _canvas_drawn(page) -> None:
    page.wait_for_function(
        "() => { let n = 0; const walk = r => { n += r.querySelectorAll('canvas').length;"
        " r.querySelectorAll('*').forEach(e => e.shadowRoot && walk(e.shadowRoot)); }; walk(document); return n > 0; }",
        timeout=TIMEOUT_MS)


def login(page, served: Served) -> None:
    page.goto(served.url + "/login")
    page.fill("#username", BENCH_USER)
    page.fill("#password", served.password)
    page.click("#login-submit")


def time_home(page, served: Served) -> float:
    return _timed_goto(page, served.url + "/", "#card-machines")


def time_portfolio(page, served: Served) -> float:
    start = time.perf_counter()
    page.goto(served.url + "/portfolio")
    page.locator("#breakeven-units").wait_for(timeout=TIMEOUT_MS)
    _canvas_drawn(page)
    return time.perf_counter() - start


def time_login(page, served: Served) -> float:
    return _timed_goto(page, served.url + "/login?next=/machines", "#login-submit")


def time_machines(page, served: Served) -> float:
    login(page, served)
    page.locator(".stop-all").first.wait_for(timeout=TIMEOUT_MS)  # the session cookie is set
    return _timed_goto(page, served.url + "/machines", ".stop-all button")  # the fleet view's STOP ALL


from configure import configure_changes, time_configure  # noqa: E402 - benchmarks/configure.py

PAGE_TIMERS = {"home": time_home, "portfolio": time_portfolio, "login": time_login, "machines": time_machines,
               "configure": time_configure}


# ------------------------------------------------------------------ runs
def first_render(browser, served: Served, runs: int) -> dict:
    out = {}
    for name, timer in PAGE_TIMERS.items():
        times = []
        for _ in range(runs):
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            try:
                times.append(timer(context.new_page(), served))
            finally:
                context.close()
        out[name] = {"median_s": round(statistics.median(times), 3), "runs_s": [round(t, 3) for t in times]}
    return out


def session_memory(browser, served: Served, sessions: int, path: str = "/portfolio") -> dict:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pages = []
    try:
        idle = served.rss_mb()
        figures = {}
        for i in range(1, sessions + 1):
            page = context.new_page()
            page.goto(served.url + path)
            page.locator("#breakeven-units").wait_for(timeout=TIMEOUT_MS)
            pages.append(page)
            if i in (1, sessions):
                time.sleep(1.5)
                figures[i] = served.rss_mb()
        one, many = figures[1], figures[sessions]
        return {"page": path, "rss_mb_before": round(idle, 1), "rss_mb_1_session": round(one, 1),
                f"rss_mb_{sessions}_sessions": round(many, 1),
                "mb_per_extra_session": round((many - one) / max(sessions - 1, 1), 2)}
    finally:
        context.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sessions", type=int, default=20)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    served = Served()
    try:
        with sync_playwright() as p:
            # swiftshader: WebGL for the configurator's 3D view in headless Chromium
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu",
                                                                         "--disable-background-networking",
                                                                         "--use-gl=angle", "--use-angle=swiftshader",
                                                                         "--enable-unsafe-swiftshader"])
            # memory first, on a server that has only been warmed: later runs leave freed sessions behind
            memory = session_memory(browser, served, args.sessions)
            result = {
                "note": "2-core machine shared with other work: medians, noisy",
                "first_render": first_render(browser, served, args.runs),
                "configure": configure_changes(browser, served, runs=10),
                "memory": memory,
                "cpu_count": os.cpu_count(),
            }
            browser.close()
    finally:
        served.stop()
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
