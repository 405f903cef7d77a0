"""Benchmark of /configure in the browser: first render (3D view drawn and quote shown) and a dimension
typed in -> updated quote, -> updated 3D view (the viewer's drawn revision), median of 10 changes.
Prints one JSON document. Uses benchmarks/dashboards.py's server helper (its own `somana serve`,
temporary SOMANA_HOME); benchmarks/dashboards.py also calls these functions.
Targets on this machine: change -> quote < 300 ms, change -> 3D view < 600 ms for an enclosure.
Times are taken in the browser (performance.now(), MutationObserver), not by Playwright's polling waits;
first renders count from navigation start: the first session after the server started, then the median
of `--renders` later sessions (fresh browser contexts).

usage: .venv/bin/python benchmarks/configure.py [--runs 10]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

TIMEOUT_MS = 20_000
# WebGL for the 3D view in headless Chromium
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--use-gl=angle", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]


# Timing happens IN the browser (performance.now(), MutationObserver): Playwright's locator waits poll at
# 0, 20, 50, 100, 100, 500 ms, which rounded every figure up to ~0.2 s or ~0.8 s.
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

_FIRST = """() => {
  %s
  const m = window.__somanaFirst || (window.__somanaFirst = {})
  const now = performance.now()
  const control = window.__somanaFind(".param-pcb_width")  // the input is inside the widget's own shadow root
  if (m.layout === undefined && control && (control.shadowRoot || control).querySelector("input")) m.layout = now
  if (m.quote === undefined && window.__somanaFind("[data-unit-price]")) m.quote = now
  if (m.view === undefined && window.__somanaFind(".somana-viewer[data-revision]")) m.view = now
  return (m.layout !== undefined && m.quote !== undefined && m.view !== undefined) ? m : null
}""" % _FIND

# Arms observers before the key press: t0 at the Enter keydown, then the moment the price text and the
# viewer's drawn revision change (browser clock, so no polling error).
_ARM = """() => {
  %s
  const price = window.__somanaFind("[data-unit-price]")
  const viewer = window.__somanaFind(".somana-viewer[data-revision]")
  const m = window.__somanaChange = {t0: null, quote: null, view: null}
  const oldPrice = price.textContent, oldRevision = viewer.dataset.revision
  const priceRoot = price.getRootNode()
  const onKey = (e) => { if (e.key === "Enter" && m.t0 === null) m.t0 = performance.now() }
  document.addEventListener("keydown", onKey, true)
  const check = () => {
    const now = performance.now()
    const p = priceRoot.querySelector("[data-unit-price]")
    if (m.quote === null && p && p.textContent !== oldPrice) m.quote = now
    if (m.view === null && viewer.dataset.revision !== oldRevision) m.view = now
    if (m.quote !== null && m.view !== null) {
      o1.disconnect(); o2.disconnect(); document.removeEventListener("keydown", onKey, true)
    }
  }
  const o1 = new MutationObserver(check)
  o1.observe(priceRoot, {subtree: true, childList: true, characterData: true})
  const o2 = new MutationObserver(check)
  o2.observe(viewer, {attributes: true, attributeFilter: ["data-revision"]})
}""" % _FIND


def first_render(page, served) -> dict:
    """Seconds from navigation start (browser clock) to the controls, the quote and the drawn 3D view."""
    page.goto(served.url + "/configure", wait_until="commit")
    marks = page.wait_for_function(_FIRST, timeout=TIMEOUT_MS, polling="raf").json_value()
    return {"layout_s": marks["layout"] / 1000, "quote_s": marks["quote"] / 1000, "view_s": marks["view"] / 1000}


def time_configure(page, served) -> float:
    """Until the part is drawn in the 3D view and the quote is shown (seconds from navigation start)."""
    marks = first_render(page, served)
    return max(marks["quote_s"], marks["view_s"])


def _changes(page, field, values) -> tuple[list[float], list[float]]:
    to_quote, to_view = [], []
    for value in values:
        field.fill(f"{value:g}")
        page.evaluate(_ARM)
        field.press("Enter")
        try:
            m = page.wait_for_function("() => { const m = window.__somanaChange;"
                                       " return m.quote !== null && m.view !== null ? m : null }",
                                       timeout=TIMEOUT_MS).json_value()
        except Exception as exc:
            state = page.evaluate("() => [window.__somanaChange, window.__somanaFind('[data-unit-price]').textContent,"
                                  " window.__somanaFind('.somana-viewer').dataset.revision,"
                                  " [...Bokeh.documents[0].all_models].filter(m => m.data && m.data.payload !== undefined)"
                                  ".map(m => [m.data.payload.revision, m.data.drawn_revision])]")
            raise RuntimeError(f"{field} -> {value:g}: no update seen: {state}") from exc
        to_quote.append((m["quote"] - m["t0"]) / 1000)
        to_view.append((m["view"] - m["t0"]) / 1000)
    return to_quote, to_view


def configure_changes(browser, served, runs: int = 10, name: str = "pcb_width", renders: int = 5) -> dict:
    """A dimension typed in the browser -> the updated quote, and -> the updated 3D view.

    `revisited`: alternating between two values, as a person trying a size and going back (the part
    cache answers); `new_values`: a value never built before each time (CadQuery builds the part)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        page = context.new_page()
        first = first_render(page, served)
        field = page.locator(f".param-{name} input").first
        base = float(field.input_value())
        _changes(page, field, [base + 10, base])  # both values built once
        revisited = _changes(page, field, [base + 10 if i % 2 == 0 else base for i in range(runs)])
        fresh = _changes(page, field, [base + 0.5 * (i + 1) for i in range(runs)])
        result = {"family": "sensor_enclosure", "control": name, "runs": runs,
                  "first_render_s": round(max(first["quote_s"], first["view_s"]), 3),
                  "first_render_parts_s": {k: round(v, 3) for k, v in first.items()}}
        for label, (to_quote, to_view) in (("revisited", revisited), ("new_values", fresh)):
            result[label] = {"change_to_quote_median_s": round(statistics.median(to_quote), 3),
                             "change_to_3d_view_median_s": round(statistics.median(to_view), 3),
                             "change_to_quote_runs_s": [round(t, 3) for t in to_quote],
                             "change_to_3d_view_runs_s": [round(t, 3) for t in to_view]}
    finally:
        context.close()
    later = []
    for _ in range(renders):  # sessions after the first one (fresh browser contexts: no cached scripts)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        try:
            later.append(time_configure(context.new_page(), served))
        finally:
            context.close()
    if later:
        result["later_sessions_render_median_s"] = round(statistics.median(later), 3)
        result["later_sessions_render_runs_s"] = [round(t, 3) for t in later]
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--renders", type=int, default=5, help="first renders of later sessions")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    from dashboards import CHROMIUM, Served  # benchmarks/dashboards.py

    served = Served()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
            result = {"note": "2-core machine shared with other work: medians, noisy",
                      "configure": configure_changes(browser, served, args.runs, renders=args.renders)}
            browser.close()
    finally:
        served.stop()
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
