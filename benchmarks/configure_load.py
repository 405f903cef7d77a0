"""Several customers on /configure at once: 1, 5, 10 and 20 concurrent sessions (real Chromium pages),
each changing a geometry parameter every 1-2 s for `--duration` s, then the builds per minute of the
worker pool with 1 and with 2 worker processes. Prints one JSON document.

Per level: change -> quote and change -> 3D mesh drawn, timed in each page's own clock (performance.now:
the Enter keydown, then the moment the quote's and the viewer's `data-revision` reach that change's
revision; each change takes the next revision, so a result is matched to its change exactly); changes
superseded (a newer change of the same session was shown instead); sessions whose last change never
arrived within `--settle` s; the server's memory (web process and worker processes); and each
change's stages on one clock (epoch: the page's performance.timeOrigin, the server's stage log
SOMANA_STAGE_LOG, the workers' run log): browser -> server callback, queue at the scheduler, the
part jobs in the workers, result back, server -> quote shown, mesh -> drawn.

Builds per minute with 1 and with 2 worker processes, twice: a Dask client submitting directly (the
workers' own scaling), then through `somana serve --workers` with `--throughput-sessions` browser
pages changing values (the web process and Chromium compete for the same cores).

/machines status gaps need a printer that prints (an idle fleet sends nothing): benchmarks/floor.py
measures them under /configure load; `--floor-sessions N` runs it and puts its figures here.

Targets on a 2-core machine: 1 session change -> mesh median < 450 ms; every session's last change
arrives; 10 sessions p95 change -> mesh < 3 s; 2 workers >= 1.7x the builds per minute of 1.

usage: .venv/bin/python benchmarks/configure_load.py            # full: 1,5,10,20 sessions x 60 s
       .venv/bin/python benchmarks/configure_load.py --quick    # 1 and 5 sessions x 20 s (about 5 min)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

FAMILY = "sensor_enclosure"
CONTROL = "pcb_width"
TIMEOUT_MS = 180_000
CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--use-gl=angle",
                "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]

_FIND = """
window.__somanaFind = (sel) => {
  const walk = (root) => {
    const hit = root.querySelector(sel)
    if (hit) return hit
    for (const el of root.querySelectorAll("*")) {
      if (el.shadowRoot) { const h = walk(el.shadowRoot); if (h) return h }
    }
    return null
  }
  return walk(document)
}
"""

_READY = "() => { %s return !!(window.__somanaFind('.somana-viewer[data-revision]')" \
         " && window.__somanaFind('.somana-quote-body[data-revision]')) }" % _FIND

# Records every Enter keydown (a change sent), and every revision the quote and the drawn view reach.
_RECORD = """() => {
  %s
  const log = window.__somanaLoad = {sent: [], quotes: [], views: [], origin: performance.timeOrigin}
  const viewer = window.__somanaFind(".somana-viewer[data-revision]")
  const quoteRoot = window.__somanaFind(".somana-quote-body[data-revision]").getRootNode()
  log.first_view = Number(viewer.dataset.revision)
  log.first_quote = Number(quoteRoot.querySelector(".somana-quote-body").dataset.revision)
  document.addEventListener("keydown", e => { if (e.key === "Enter") log.sent.push(performance.now()) }, true)
  let lastQuote = log.first_quote
  new MutationObserver(() => {
    const body = quoteRoot.querySelector(".somana-quote-body[data-revision]")
    const revision = body ? Number(body.dataset.revision) : lastQuote
    if (revision !== lastQuote) { lastQuote = revision; log.quotes.push([performance.now(), revision]) }
  }).observe(quoteRoot, {subtree: true, childList: true, characterData: true, attributes: true})
  new MutationObserver(() => log.views.push([performance.now(), Number(viewer.dataset.revision)]))
    .observe(viewer, {attributes: true, attributeFilter: ["data-revision"]})
}""" % _FIND



def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _summary(values: list[float]) -> dict:
    return {"median_s": round(statistics.median(values), 3) if values else None,
            "p95_s": round(_percentile(values, 0.95), 3) if values else None, "count": len(values)}


def _process_tree_rss_mb(pid: int) -> dict:
    """RSS of a process and of its descendants (the worker processes), MB."""
    def rss(p):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            return 0.0
        return 0.0

    def children(p):
        found = []
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                found += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                pass
        return found

    web = rss(pid)
    descendants, todo = [], children(pid)
    while todo:
        child = todo.pop()
        descendants.append(child)
        todo += children(child)
    return {"web_process_mb": round(web, 1), "other_processes_mb": round(sum(rss(c) for c in descendants), 1),
            "other_processes": len(descendants)}


async def _open_configure(browser, url: str):
    context = await browser.new_context(viewport={"width": 1200, "height": 800})
    page = await context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(url + "/configure", wait_until="commit", timeout=TIMEOUT_MS)
    try:
        await page.wait_for_function(_READY, timeout=TIMEOUT_MS, polling=200)
    except Exception as exc:
        state = await page.evaluate("() => { %s const q = window.__somanaFind('.somana-quote-body');"
                                    " const v = window.__somanaFind('.somana-viewer');"
                                    " return [document.title, q && q.outerHTML.slice(0, 120), v && v.outerHTML.slice(0, 120)] }"
                                    % _FIND)
        raise RuntimeError(f"/configure did not show its quote and 3D view: {state} {errors}") from exc
    await page.evaluate(_RECORD)
    return context, page, errors


async def _probe_web_process(url: str, stop: asyncio.Event, interval_s: float = 0.5) -> dict:
    """GET a small page of the web process every `interval_s` while sessions work: how long the server's
    event loop (which also serves /machines and the e-stop path) takes to answer."""
    import urllib.request

    def get() -> float:
        started = time.perf_counter()
        with urllib.request.urlopen(url, timeout=60) as response:
            response.read()
        return time.perf_counter() - started

    times = []
    while not stop.is_set():
        times.append(await asyncio.to_thread(get))
        await asyncio.sleep(interval_s)
    return {"requests": len(times), "median_s": round(statistics.median(times), 3) if times else None,
            "max_s": round(max(times), 3) if times else None}


async def _session(page, duration_s: float, rng: random.Random, bounds: tuple[float, float],
                   step: float) -> tuple[float, list[float]]:
    """Change the value every 1-2 s -> (the value shown at the start, the values sent in order)."""
    field = page.locator(f".param-{CONTROL} input").first
    current = initial = float(await field.input_value())
    values = []
    deadline = time.monotonic() + duration_s
    while time.monotonic() < deadline:
        await asyncio.sleep(rng.uniform(1.0, 2.0))
        value = current
        while value == current:  # a new value each time (a real build, not the cache)
            value = round(rng.uniform(*bounds) / step) * step
        await field.fill(f"{value:g}")
        await field.press("Enter")
        values.append(value)
        current = value
    return initial, values


def last_change_shown(log: dict, initial: float, values: list[float]) -> bool:
    """True when the page shows its last change: the quote of the last change's revision, and the 3D
    view of that revision OR of an earlier change with the same value. /configure does not send again a
    part that is on screen: after A -> B -> A with B superseded before its mesh, the view keeps A's older
    revision and shows the right part (the previous criterion counted that as a lost last change)."""
    n = len(values)
    if not n:
        return True
    quote = log["quotes"][-1][1] if log["quotes"] else log["first_quote"]
    view = log["views"][-1][1] if log["views"] else log["first_view"]
    if quote < log["first_quote"] + n:
        return False
    change = view - log["first_view"]  # the change whose mesh is drawn (0: the page's first part)
    if change >= n:
        return True
    return (initial if change <= 0 else values[change - 1]) == values[-1]


async def _settled(page, initial: float, values: list[float], settle_s: float) -> bool:
    deadline = time.monotonic() + settle_s
    while True:
        try:
            if last_change_shown(await page.evaluate("() => window.__somanaLoad"), initial, values):
                return True
        except Exception:  # noqa: BLE001 - a page that died never shows its last change
            return False
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.2)


def _latencies(log: dict) -> dict:
    """Per change k (1-based): its revision is first + k; the first quote/view event showing it."""
    quotes, views, superseded = [], [], 0
    for k, sent in enumerate(log["sent"], start=1):
        quote = next((t for t, r in log["quotes"] if r == log["first_quote"] + k), None)
        view = next((t for t, r in log["views"] if r == log["first_view"] + k), None)
        if quote is not None:
            quotes.append((quote - sent) / 1000)
        if view is not None:
            views.append((view - sent) / 1000)
        else:
            superseded += 1
    return {"quotes": quotes, "views": views, "superseded": superseded}


def _read_stage_log(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _stages(pages: list[tuple[dict, list[float]]], records: list[dict], runs: dict) -> dict:
    """Each change that reached the 3D view, cut into stages on the epoch clock (seconds, medians):
    browser_to_server (keydown -> LatestWins.run), queue (submitted -> first part job started in a
    worker), workers (first start -> last part finished), result_back (last finished -> the server has
    every part), quote_to_page (-> the quote shown), preview_in_server (the mesh payload made from the
    quote's meshes), mesh_to_drawn (-> the viewer reports the new revision drawn)."""
    quotes = [r for r in records if r["kind"] == "quote" and r["outcome"] == "done"]
    previews = [r for r in records if r["kind"] == "preview" and r["outcome"] == "done"]
    cut: dict[str, list[float]] = {k: [] for k in ("browser_to_server", "queue", "workers", "result_back",
                                                   "quote_to_page", "preview_in_server", "mesh_to_drawn")}
    for log, values in pages:
        origin = log["origin"] / 1000.0
        by_session: dict[str, int] = {}
        for r in quotes:  # this page's server session: the one that asked for this page's values
            if (r.get("values") or {}).get(CONTROL) in values:
                by_session[r["session"]] = by_session.get(r["session"], 0) + 1
        if not by_session:
            continue
        session = max(by_session, key=by_session.get)
        for k, (sent, value) in enumerate(zip(log["sent"], values), start=1):
            view = next((t for t, r in log["views"] if r == log["first_view"] + k), None)
            quote_seen = next((t for t, r in log["quotes"] if r == log["first_quote"] + k), None)
            sent_s = origin + sent / 1000
            q = next((r for r in quotes if r["session"] == session and r["values"].get(CONTROL) == value
                      and r["called"] >= sent_s - 0.05), None)
            if view is None or q is None:
                continue
            p = next((r for r in previews if r["session"] == session and r["values"].get(CONTROL) == value
                      and r["called"] >= q["settled"] - 0.001), None)
            cut["browser_to_server"].append(q["called"] - sent_s)
            jobs = [runs[key] for key in q.get("keys", []) if key in runs]
            if jobs:
                cut["queue"].append(min(j["started"] for j in jobs) - q["submitted"])
                cut["workers"].append(max(j["finished"] for j in jobs) - min(j["started"] for j in jobs))
                cut["result_back"].append(q["settled"] - max(j["finished"] for j in jobs))
            if quote_seen is not None:
                cut["quote_to_page"].append(origin + quote_seen / 1000 - q["settled"])
            if p is not None:
                cut["preview_in_server"].append(p["settled"] - p["called"])
                cut["mesh_to_drawn"].append(origin + view / 1000 - p["settled"])
    return {name: {"median_s": round(statistics.median(v), 4), "count": len(v)} if v else None
            for name, v in cut.items()}


async def load_level(browser, served, sessions: int, duration_s: float, settle_s: float, seed: int) -> dict:
    from playwright.async_api import Error as PlaywrightError

    bounds, step = _bounds()
    opened_at = time.perf_counter()
    opened = await asyncio.gather(*(_open_configure(browser, served.url) for _ in range(sessions)))
    open_s = time.perf_counter() - opened_at
    stage_records_before = len(_read_stage_log(served.stage_log))
    memory_before = _process_tree_rss_mb(served.process.pid)
    rngs = [random.Random(seed * 1000 + i) for i in range(sessions)]
    stop_probe = asyncio.Event()
    probe = asyncio.ensure_future(_probe_web_process(served.url + "/login", stop_probe))
    started = await asyncio.gather(*(_session(page, duration_s, rng, bounds, step)
                                     for (_, page, _), rng in zip(opened, rngs)))
    sent = [values for _, values in started]
    stop_probe.set()
    web_probe = await probe
    memory_during = _process_tree_rss_mb(served.process.pid)
    arrived = await asyncio.gather(*(_settled(page, initial, values, settle_s)
                                     for (_, page, _), (initial, values) in zip(opened, started)))
    records = _read_stage_log(served.stage_log)[stage_records_before:]
    quotes, views, superseded, errors, logs, lost = [], [], 0, [], [], []
    for (context, page, page_errors), values, shown in zip(opened, sent, arrived):
        try:
            log = await page.evaluate("() => window.__somanaLoad")
        except PlaywrightError as exc:
            errors.append(str(exc))
            continue
        logs.append((log, values))
        if not shown:  # what the server did with the last value (did it finish, fail, time out?)
            lost.append({"last_value": values[-1], "changes": len(values),
                         "quote_revision_shown": log["quotes"][-1][1] if log["quotes"] else log["first_quote"],
                         "view_revision_shown": log["views"][-1][1] if log["views"] else log["first_view"],
                         "expected_revisions": [log["first_quote"] + len(values), log["first_view"] + len(values)],
                         "server_outcomes_for_last_value": [
                             (r["kind"], r["outcome"]) for r in records
                             if (r.get("values") or {}).get(CONTROL) == values[-1]]})
        times = _latencies(log)
        quotes += times["quotes"]
        views += times["views"]
        superseded += times["superseded"]
        errors += page_errors
    for context, _, _ in opened:
        await context.close()
    changes = sum(len(v) for v in sent)
    outcomes: dict[str, int] = {}
    for r in records:
        name = f"{r['kind']} {r['outcome'].split(':')[0]}"
        outcomes[name] = outcomes.get(name, 0) + 1
    return {
        "sessions": sessions,
        "open_all_pages_s": round(open_s, 2),
        "changes": changes,
        "change_to_quote": _summary(quotes),
        "change_to_mesh": _summary(views),
        "superseded_changes": superseded,
        "sessions_whose_last_change_never_arrived": arrived.count(False),
        "lost_last_changes": lost[:5],
        "server_requests": outcomes,
        "server_memory_mb": {"at_start": memory_before, "at_end_of_changes": memory_during},
        "stages": _stages(logs, records, served.run_log()),
        "web_process_http_probe": web_probe,
        "page_errors": errors[:5],
    }


def _loadavg() -> list[float]:
    return [float(x) for x in open("/proc/loadavg").read().split()[:3]]


def _variants(count: int, seed: int) -> list[dict]:
    from somana_core import geometry

    p = geometry.get_family(FAMILY).param[CONTROL]
    rng = random.Random(seed)
    return [{CONTROL: round(p.default + rng.uniform(-20, 20) * (p.step or 0.5), 3), "wall": round(2.0 + 0.01 * i, 2)}
            for i in range(count)]


def builds_per_minute(worker_count: int, builds: int, seed: int) -> dict:
    """`builds` distinct configurator builds submitted at once by a Dask client (no web server, no
    browser): each is what a /configure change asks for, one `part` job per part (build, measure and
    preview mesh). The workers' own scaling."""
    from somana_core import geometry, workers

    parts = geometry.get_family(FAMILY).parts
    pool = workers.start_local(worker_count)
    try:
        pool.warm()
        load = _loadavg()
        started = time.perf_counter()
        futures = [pool.submit("part", family=FAMILY, values=v, part=part, extras=index == 0)
                   for v in _variants(builds, seed) for index, part in enumerate(parts)]
        pool.client.gather(futures)  # raises if a build failed
        elapsed = time.perf_counter() - started
    finally:
        pool.close()
    return {"workers": worker_count, "builds": builds, "elapsed_s": round(elapsed, 2),
            "builds_per_minute": round(builds / elapsed * 60, 1), "loadavg_before": load, "loadavg_after": _loadavg()}


async def builds_per_minute_served(worker_count: int, sessions: int, duration_s: float, seed: int,
                                   start_timeout_s: float) -> dict:
    """Builds per minute through `somana serve --workers` (our own local cluster of `worker_count`
    processes) while `sessions` browser pages change a value every 1-2 s: the parts the workers
    finished during the changes, divided by the family's part count."""
    from playwright.async_api import async_playwright

    from somana_core import geometry, workers

    parts = len(geometry.get_family(FAMILY).parts)
    pool = workers.start_local(worker_count)
    try:
        pool.warm()
        served = Server(start_timeout_s, ["--workers", pool.address])
        try:
            async with async_playwright() as p:
                browser = await p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
                opened = await asyncio.gather(*(_open_configure(browser, served.url) for _ in range(sessions)))
                pool.clear_run_log()
                load = _loadavg()
                started = time.time()
                bounds, step = _bounds()
                await asyncio.gather(*(_session(page, duration_s, random.Random(seed * 1000 + i), bounds, step)
                                       for i, (_, page, _) in enumerate(opened)))
                ended = time.time()
                done = [e for e in pool.run_log() if e["kind"] == "part" and started <= e["finished"] <= ended]
                await browser.close()
        finally:
            served.stop()
    finally:
        pool.close()
    elapsed = ended - started
    return {"workers": worker_count, "sessions": sessions, "elapsed_s": round(elapsed, 1), "part_jobs": len(done),
            "builds_per_minute": round(len(done) / parts / elapsed * 60, 1), "loadavg_before": load,
            "loadavg_after": _loadavg()}


def _bounds() -> tuple[tuple[float, float], float]:
    from somana_core import geometry

    p = geometry.get_family(FAMILY).param[CONTROL]
    step = p.step or 0.5
    return (p.default - 20 * step, p.default + 20 * step), step


class Server:
    """Our own `somana serve` (temporary SOMANA_HOME, a throwaway staff login "bench", a stage log),
    like benchmarks/dashboards.py's, but given `start_timeout_s` to start: on the loaded shared machine
    the two workers' warm-up (CadQuery import, every family's default built) alone took 106 s."""

    def __init__(self, start_timeout_s: float, extra_args: list[str] | None = None):
        import secrets
        import socket
        import subprocess
        import tempfile
        import urllib.request

        from somana_core import workers

        self.home = Path(tempfile.mkdtemp(prefix="somana-load-"))
        self.stage_log = self.home / "stages.jsonl"
        self.password = secrets.token_urlsafe(16)
        env = dict(os.environ, SOMANA_HOME=str(self.home), **{workers.STAGE_LOG_ENV: str(self.stage_log)})
        subprocess.run([sys.executable, "-m", "somana", "users", "add", "bench", "--password-stdin"],
                       input=self.password, text=True, env=env, check=True, capture_output=True)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url = f"http://localhost:{port}"
        self.log = open(self.home / "serve.log", "w")
        self.process = subprocess.Popen([sys.executable, "-m", "somana", "serve", "--port", str(port),
                                         *(extra_args or [])], env=env,
                                        stdout=self.log, stderr=subprocess.STDOUT,
                                        cwd=Path(__file__).resolve().parents[1])
        self._pool = None
        deadline = time.monotonic() + start_timeout_s
        while True:
            try:
                urllib.request.urlopen(self.url + "/login", timeout=5)
                return
            except Exception:  # noqa: BLE001 - still starting
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError("somana serve did not start:\n" + (self.home / "serve.log").read_text())
                time.sleep(0.5)

    def run_log(self) -> dict:
        """The server's workers' recent jobs, request key -> entry (a client of its scheduler, whose
        address `somana serve` printed)."""
        import re

        from somana_core import workers

        if self._pool is None:
            found = re.search(r"worker process\(es\) at (tcp://\S+)", (self.home / "serve.log").read_text())
            if not found:
                return {}
            self._pool = workers.attach(found.group(1))
        return {e["request"]: e for e in self._pool.run_log()}

    def stop(self):
        import subprocess

        if self._pool is not None:
            self._pool.client.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


async def run_levels(levels: list[int], duration_s: float, settle_s: float, seed: int,
                     start_timeout_s: float = 600.0) -> list[dict]:
    from playwright.async_api import async_playwright

    served = Server(start_timeout_s)
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
            results = []
            for sessions in levels:
                load = _loadavg()
                result = await load_level(browser, served, sessions, duration_s, settle_s, seed)
                result["loadavg_before"] = load
                result["loadavg_after"] = _loadavg()
                results.append(result)
                print(json.dumps(result), file=sys.stderr, flush=True)
            await browser.close()
    finally:
        served.stop()
    return results


def floor_gaps(sessions: int, clicks: int) -> dict:
    """benchmarks/floor.py (a virtual printer printing, `sessions` /configure pages changing values):
    its /machines status gaps and e-stop click figures, run as it is (not duplicated here)."""
    import subprocess

    script = Path(__file__).resolve().parent / "floor.py"
    done = subprocess.run([sys.executable, str(script), "--sessions", str(sessions), "--clicks", str(clicks),
                           "--cli", "0", "--kills", "0"], capture_output=True, text=True, timeout=3600)
    try:
        report = json.loads(done.stdout[done.stdout.index("{"):])
    except ValueError:
        return {"error": (done.stderr or done.stdout)[-400:]}
    return {"source": "benchmarks/floor.py", "sessions": sessions,
            **{k: report.get(k) for k in ("status_gaps", "click_to_m112", "load_before", "load_after", "stopped_by")
               if k in report}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="1 and 5 sessions x 20 s, 24 builds, 3 throughput sessions x 20 s, no floor run")
    parser.add_argument("--sessions", default=None, help="comma-separated concurrent session counts (1,5,10,20)")
    parser.add_argument("--duration", type=float, default=None, help="seconds of changes per level (60)")
    parser.add_argument("--settle", type=float, default=60.0, help="seconds to wait for each last change")
    parser.add_argument("--builds", type=int, default=None, help="builds for builds per minute without browsers "
                                                                  "(60; 0: skip)")
    parser.add_argument("--throughput-sessions", type=int, default=None,
                        help="browser pages for builds per minute through the web server (10; 0: skip)")
    parser.add_argument("--floor-sessions", type=int, default=None,
                        help="run benchmarks/floor.py with this many /configure pages for the /machines gap (10; 0: skip)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="runs of builds per minute without browsers, 1 and 2 workers alternating; the medians "
                             "are compared (3; quick 1)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    quick = args.quick
    sessions = args.sessions or ("1,5" if quick else "1,5,10,20")
    repeats = args.repeats if args.repeats is not None else (1 if quick else 3)
    duration = args.duration if args.duration is not None else (20.0 if quick else 60.0)
    builds = args.builds if args.builds is not None else (24 if quick else 60)
    pages = args.throughput_sessions if args.throughput_sessions is not None else (3 if quick else 10)
    floor_pages = args.floor_sessions if args.floor_sessions is not None else (0 if quick else 10)
    try:
        levels = [int(x) for x in sessions.split(",") if x.strip()]
    except ValueError:
        parser.exit(2, f"--sessions {sessions!r}: whole numbers separated by commas\n")
    levels = [n for n in levels if n]  # --sessions 0: no browser levels
    if (levels and min(levels) < 1) or duration <= 0 or builds < 0 or pages < 0 or floor_pages < 0 or repeats < 1:
        parser.exit(2, "--sessions must be 1 or more (0: none), --duration above 0 s, --builds/--throughput-sessions/"
                       "--floor-sessions 0 or more, --repeats 1 or more\n")
    import subprocess

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[1]).stdout.strip()
    report = {"note": "2-core machine; when shared with other helpers' tests and benchmarks see loadavg",
              "commit": commit, "argv": sys.argv[1:] if argv is None else argv,
              "mode": "quick" if quick else "full", "cpu_count": os.cpu_count(), "family": FAMILY,
              "control": CONTROL, "duration_s": duration, "loadavg_start": _loadavg(),
              "levels": asyncio.run(run_levels(levels, duration, args.settle, args.seed)) if levels else []}
    if builds:
        direct = [builds_per_minute(n, builds, args.seed + run) for run in range(repeats) for n in (1, 2)]
        medians = {n: statistics.median(r["builds_per_minute"] for r in direct if r["workers"] == n) for n in (1, 2)}
        report["throughput_without_browsers"] = direct
        report["median_builds_per_minute_without_browsers"] = medians
        report["two_workers_speedup_without_browsers"] = round(medians[2] / medians[1], 2)
    if pages:
        served = [asyncio.run(builds_per_minute_served(n, pages, duration, args.seed, 600.0)) for n in (1, 2)]
        report["throughput_with_browsers"] = served
        report["two_workers_speedup_with_browsers"] = round(served[1]["builds_per_minute"]
                                                            / max(served[0]["builds_per_minute"], 0.1), 2)
    if floor_pages:
        report["machines_status_while_printing"] = floor_gaps(floor_pages, clicks=10)
    else:
        report["machines_status_while_printing"] = ("not run: benchmarks/floor.py --sessions N measures it "
                                                    "(or --floor-sessions N here)")
    report["loadavg_end"] = _loadavg()
    targets = {}
    by_sessions = {r["sessions"]: r for r in report["levels"]}
    if 1 in by_sessions and by_sessions[1]["change_to_mesh"]["median_s"] is not None:
        targets["one_session_mesh_median_below_0_45_s"] = by_sessions[1]["change_to_mesh"]["median_s"] < 0.45
    if 10 in by_sessions and by_sessions[10]["change_to_mesh"]["p95_s"] is not None:
        targets["ten_sessions_mesh_p95_below_3_s"] = by_sessions[10]["change_to_mesh"]["p95_s"] < 3.0
    targets["every_last_change_arrived"] = all(r["sessions_whose_last_change_never_arrived"] == 0
                                               for r in report["levels"])
    if "two_workers_speedup_without_browsers" in report:
        targets["two_workers_at_least_1_7x_without_browsers"] = report["two_workers_speedup_without_browsers"] >= 1.7
    report["targets_met"] = targets
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
