"""The static investor site (`somana publish OUTDIR`): the economics story with embedded interactive
states, a product gallery with rotatable 3D parts, and how an order flows with measured times.

Everything a page needs sits in OUTDIR/assets (Bokeh's and Panel's JavaScript and CSS copied from
the installed packages, our stylesheet, three.js's licence), so the folder works from file:// with
no network. Story pages are Panel layouts saved with `embed=True`: every combination of their
discrete controls is computed here by the core (somana_core.story) and stored in the page. The
gallery and order-flow pages are plain HTML; the gallery draws with the same viewer module and
vendored three.js as /configure, inlined as data: URLs because browsers refuse ES modules from
file:// URLs.

PANEL_CDN_ROOT=assets/panel/ must be set before Panel is imported: `somana.cli.publish` sees to it.
"""

from __future__ import annotations

import base64
import html
import json
import math
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import bokeh
import panel as pn
from bokeh.resources import Resources

from dashboards import viewer
from somana_core import labels, story
from somana_core.data import read_table
from somana_core.economics.costing import whole_usd

ASSETS = "assets"
GALLERY_DEFLECTION_MM = 0.25  # coarser than /configure: the page carries every mesh
SITE_CSS = """
body { margin: 0; background: #f3f5f4; color: #1f2a30;
       font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
.somana-header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 1.1rem; padding: .7rem 1.4rem;
                 background: #0f6e6e; color: #fff; }
.somana-header a { color: #fff; text-decoration: none; opacity: .85; }
.somana-header a.page { opacity: 1; font-weight: 600; text-decoration: underline; }
.somana-header .brand { font-size: 1.35rem; font-weight: 700; opacity: 1; margin-right: .6rem; }
main { max-width: 1180px; margin: 0 auto; padding: 1rem 1.4rem 3rem; }
.lede { font-size: 1.08rem; line-height: 1.55; max-width: 60rem; }
.figures { display: flex; flex-wrap: wrap; gap: .8rem; margin: .6rem 0; }
.figure { background: #fff; border-radius: 6px; padding: .55rem .9rem; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
.figure .label { display: block; font-size: .78rem; color: #5d6b73; }
.figure .value { font-size: 1.35rem; font-weight: 700; font-variant-numeric: tabular-nums; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(330px, 100%), 1fr)); gap: 1rem; }
.card { background: #fff; border-radius: 8px; padding: .8rem 1rem; box-shadow: 0 1px 3px rgba(0,0,0,.1); }
.card h3 { margin: .2rem 0 .4rem; }
.card .viewer { height: 260px; }
table.kv { border-collapse: collapse; width: 100%; font-size: .88rem; }
table.kv td { padding: 2px 4px; border-bottom: 1px solid #e6e9ea; }
table.kv td.num { text-align: right; font-variant-numeric: tabular-nums; }
.flow { display: flex; flex-wrap: wrap; align-items: stretch; gap: .4rem; margin: .8rem 0 1.4rem; }
.stage { background: #fff; border-radius: 8px; padding: .6rem .8rem; min-width: 120px;
         box-shadow: 0 1px 3px rgba(0,0,0,.1); }
.stage .name { font-weight: 600; }
.stage .time { font-size: 1.25rem; font-variant-numeric: tabular-nums; }
.arrow { align-self: center; font-size: 1.4rem; color: #0f6e6e; }
.note { color: #5d6b73; font-size: .85rem; }
img, canvas, svg, table { max-width: 100%; }
code { overflow-wrap: anywhere; }
@media (max-width: 600px) {
  main { padding: .6rem .8rem 2rem; }
  .somana-header { gap: .5rem .8rem; padding: .6rem .8rem; font-size: .92rem; }
  h1 { font-size: 1.45rem; } h2 { font-size: 1.2rem; }
  .figure { flex: 1 1 40%; }
  .stage { min-width: 0; flex: 1 1 40%; }
  .arrow { display: none; }
}
"""


# ---------------------------------------------------------------------------- assets

def copy_assets(outdir: Path) -> None:
    """Bokeh's and Panel's JavaScript/CSS (only what the pages load), our stylesheet, three.js's licence."""
    assets = outdir / ASSETS
    bokeh_js = Path(bokeh.__file__).parent / "server" / "static" / "js"
    panel_dist = Path(pn.__file__).parent / "dist"
    js_out = assets / "static" / "js"
    js_out.mkdir(parents=True, exist_ok=True)
    for name in ("bokeh.min.js", "bokeh-gl.min.js", "bokeh-widgets.min.js", "bokeh-tables.min.js"):
        shutil.copy2(bokeh_js / name, js_out / name)
    extension = assets / "static" / "extensions" / "panel"
    extension.mkdir(parents=True, exist_ok=True)
    shutil.copy2(panel_dist / "panel.min.js", extension / "panel.min.js")
    shutil.copytree(panel_dist / "bundled" / "reactiveesm", extension / "bundled" / "reactiveesm", dirs_exist_ok=True)
    from panel.io.resources import CDN_DIST  # where saved pages point for Panel's CSS (PANEL_CDN_ROOT + version)

    if "://" in CDN_DIST or not CDN_DIST.startswith(f"{ASSETS}/"):
        raise RuntimeError(f"Panel was loaded with CDN root {CDN_DIST!r}: set PANEL_CDN_ROOT={ASSETS}/panel/ "
                           "before importing panel (somana publish does)")
    cdn_dist = outdir / CDN_DIST
    for sub in ("css", "images", "bundled/theme"):
        shutil.copytree(panel_dist / sub, cdn_dist / sub, dirs_exist_ok=True)
    (assets / "somana.css").write_text(SITE_CSS)
    three = assets / "three"
    three.mkdir(parents=True, exist_ok=True)
    shutil.copy2(viewer.THREE_DIR / "LICENSE", three / "LICENSE")


def _resources() -> Resources:
    # "server" mode with a relative root: <script src="assets/static/js/bokeh.min.js">, read from the folder
    return Resources(mode="server", root_url=f"{ASSETS}/")


# ---------------------------------------------------------------------------- page chrome

PAGES = [("index.html", "Why batch-of-one pays")]


def _nav(current: str, pages: list[tuple[str, str]]) -> str:
    links = "".join(f'<a class="{"page" if href == current else ""}" href="{href}">{html.escape(title)}</a>'
                    for href, title in pages)
    return f'<nav class="somana-header"><a class="brand" href="index.html">Somana</a>{links}</nav>'


def _html_page(title: str, current: str, pages, body: str, head: str = "") -> str:
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)} · Somana</title>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<link rel='icon' href='data:,'><link rel='stylesheet' href='{ASSETS}/somana.css'>{head}</head>"
            f"<body>{_nav(current, pages)}<main>{body}</main></body></html>")


def _figure(name: str, label: str, value: str, unit: str = "") -> str:
    unit_html = f" <span class='unit'>{html.escape(unit)}</span>" if unit else ""
    return (f"<div class='figure'><span class='label'>{html.escape(label)}</span>"
            f"<span class='value' data-figure='{name}'>{html.escape(value)}</span>{unit_html}</div>")


def _price(usd: float) -> str:
    """A unit price as the configurator shows it: to the cent."""
    return f"{usd:,.2f} USD"


def _whole_units(units: float) -> str:
    """The smallest whole number of units that breaks even (142.1 needs 143), as /portfolio shows it."""
    return f"{math.ceil(units - 1e-9):,d}"


def _usd(x: float) -> str:
    """Whole dollars from 100 up, rounded by the core's `whole_usd` as /portfolio rounds them."""
    return f"{whole_usd(x):,d} USD" if abs(x) >= 100 else f"{x:,.2f} USD"


# ---------------------------------------------------------------------------- story chapters

@dataclass
class Chapter:
    slug: str
    title: str
    lede: str
    controls: dict[str, tuple[str, dict]]  # parameter -> (label, {shown option: value})
    plot: Callable[..., object]           # values -> HoloViews object
    figures: Callable[..., str]           # values -> HTML of the key figures
    states: int = field(init=False, default=0)

    def __post_init__(self):
        self.states = 1
        for _, options in self.controls.values():
            self.states *= len(options)


def _volume_options() -> dict:
    planned = sum(story.econ.planned_monthly_units().values())
    return {f"{m:g}x plan ({planned * m:,.0f} units/month)": m for m in story.steps("volume_multiple")}


def _chapters() -> list[Chapter]:
    import holoviews as hv

    from somana_core.geometry import FAMILIES

    long_names = story.families()
    # short names (the product family's title) fit on axes and in titles; the portfolio's long ones in menus
    names = {fam: getattr(FAMILIES.get(fam), "title", "") or display for fam, display in long_names.items()}
    family_options = {display: fam for fam, display in long_names.items()}
    plot_opts = dict(responsive=True, height=360, tools=["hover"], toolbar=None, fontscale=1.05)  # fits phones

    def margins_plot(volume):
        df = story.margins(volume).assign(name=lambda d: d["family"].map(names))
        return hv.Bars(df, "name", "contribution_usd_per_month").opts(
            **plot_opts, ylabel="contribution, USD per month", xlabel="", color="#0f6e6e",
            title="Contribution per family at the pricing policy's price of its typical order")

    def margins_figures(volume):
        df = story.margins(volume)
        cells = [_figure(f"margin_{r.family}", f"{names[r.family]} at {_price(r.price_usd)}: contribution / "
                         "operating margin", f"{r.contribution_margin:.0%} / {r.operating_margin_at_plan:.0%}")
                 for r in df.itertuples()]
        cells.append(_figure("contribution_total", "Contribution, all families",
                             _usd(df["contribution_usd_per_month"].sum()), "per month"))
        return "<div class='figures'>" + "".join(cells) + "</div>"

    def be_plot(volume, automation):
        s = story.break_even_story(volume, automation)
        curve = hv.Curve(s["curve"], "units_per_month", "operating_income_usd").opts(color="#0f6e6e", line_width=3)
        return (curve * hv.HLine(0).opts(color="#888", line_dash="dotted")
                * hv.VLine(s["break_even_units_per_month"]).opts(color="#b3261e", line_dash="dashed")
                * hv.VLine(s["units_per_month"]).opts(color="#1f2a30")
                ).opts(**plot_opts, xlabel="units per month (portfolio mix)", ylabel="operating income, USD/month",
                       title="Operating income against volume: break-even (red) and this volume (black)")

    def be_figures(volume, automation):
        s = story.break_even_story(volume, automation)
        dol = s["degree_of_operating_leverage"]
        return "<div class='figures'>" + "".join([
            _figure("fixed_costs", "Fixed costs", _usd(s["fixed_costs_usd_per_month"]), "per month"),
            _figure("break_even_units", "Break-even", _whole_units(s["break_even_units_per_month"]), "units per month"),
            _figure("operating_income", "Operating income", _usd(s["operating_income_usd_per_month"]), "per month"),
            _figure("dol", "Degree of operating leverage", "undefined" if dol is None else f"{dol:.2f}"),
        ]) + "</div>"

    def eoq_plot(family, changeover):
        s = story.eoq_story(family, changeover)
        return (hv.Curve(s["curve"], "batch_units", "annual_cost_usd").opts(color="#0f6e6e", line_width=3, logx=True)
                * hv.VLine(s["eoq_units"]).opts(color="#b3261e", line_dash="dashed")
                ).opts(**plot_opts, xlabel="batch size, units (log)", ylabel="setup + holding cost, USD/year",
                       title=f"{names[family]}: yearly cost of batching; economic batch in red")

    def eoq_figures(family, changeover):
        s = story.eoq_story(family, changeover)
        return "<div class='figures'>" + "".join([
            _figure("eoq_units", "Economic batch size", f"{s['eoq_units']:,.1f}", "units"),
            _figure("setup_cost", "Cost of one changeover", _usd(s["setup_cost_usd"])),
            _figure("batching_cost", "Setup + holding at that batch", _usd(s["total_annual_cost_usd"]), "per year"),
        ]) + "</div>"

    def crossover_plot(volume):
        s = story.crossover_story(volume)
        curves = s["curves"]
        colours = ["#0f6e6e", "#b3261e", "#8a5a00", "#555"]
        overlay = hv.Overlay([hv.Curve(curves, "quantity", process, label=s["display_names"][process]).opts(
            color=colours[i % len(colours)], line_width=3, logx=True, logy=True)
            for i, process in enumerate(s["display_names"])])
        return (overlay * hv.VLine(s["our_units_per_year"]).opts(color="#1f2a30", line_dash="dashed")).opts(
            **plot_opts, xlabel="parts of one design (log)", ylabel="total cost, USD (log)", legend_position="top_left",
            title="Making one enclosure design: total cost by process; our yearly volume dashed")

    def crossover_figures(volume):
        s = story.crossover_story(volume)
        moulding = next((r for r in s["ranges"] if r["process"] == "injection_moulding"), None)
        cells = [_figure("our_volume", "Our yearly volume of this part", f"{s['our_units_per_year']:,.0f}", "units"),
                 _figure("cheapest", "Cheapest process there", s["display_names"][s["cheapest_at_our_volume"]])]
        if moulding is not None:
            cells.append(_figure("moulding_from", "Moulding pays from", f"{moulding['from_units']:,.0f}", "parts"))
        return "<div class='figures'>" + "".join(cells) + "</div>"

    def pushpull_plot(family):
        s = story.push_pull_story(family)
        c = s["curve"]
        return (hv.Curve(c, "demand_cv", "push_profit_usd", label="push: pre-make a batch").opts(color="#b3261e", line_width=3)
                * hv.Curve(c, "demand_cv", "mto_profit_usd", label="make to order").opts(color="#0f6e6e", line_width=3)
                * hv.VLine(s["demand_cv"]).opts(color="#1f2a30", line_dash="dashed")
                ).opts(**plot_opts, xlabel="demand uncertainty of one variant (std / mean)",
                       ylabel="expected profit per season, USD", legend_position="top_right",
                       title=f"{names[family]}: push against make-to-order")

    def pushpull_figures(family):
        s = story.push_pull_story(family)
        return "<div class='figures'>" + "".join([
            _figure("push_profit", "Push: expected profit", _usd(s["push_profit_usd"]), "per season"),
            _figure("mto_profit", "Make to order: expected profit", _usd(s["mto_profit_usd"]), "per season"),
            _figure("pull_advantage", "Advantage of making to order", _usd(s["pull_advantage_usd"])),
            _figure("leftover", "Push leaves unsold", f"{s['push_leftover_units']:,.1f}", "units per season"),
        ]) + "</div>"

    portfolio = story.econ.load_portfolio()
    low_margin = min(f.gross_margin_low for f in portfolio)
    high_margin = max(f.gross_margin_high for f in portfolio)
    volume = ("Monthly volume", _volume_options())
    automation = ("Automation: fixed costs removed", {f"{c:.0%}": c for c in story.steps("automation_fixed_cost_cut")})
    changeover = ("Changeover time", {f"{m:g} min": m for m in story.steps("changeover_minutes")})
    family = ("Product family", family_options)
    return [
        Chapter("story-margins.html", "1 · Margins", (
            "Each product is made for one customer, and that is what customers pay for: the research behind the "
            f"portfolio finds {low_margin:.0%}-{high_margin:.0%} gross margins across the {len(long_names)} families. "
            "Here each family's typical order is priced by the founders' pricing policy and costed by the same "
            "quote as the configurator: contribution margin after material, energy and parts; operating margin "
            "after every cost of the month spread over the planned volume. Contribution per family at the planned "
            "volumes, scaled by the volume you choose:"),
            {"volume": volume}, margins_plot, margins_figures),
        Chapter("story-break-even.html", "2 · Break-even and leverage", (
            "A small factory's costs are mostly fixed (rent, people, printers). Automation of the cognitive "
            "overhead - drawing, quoting, planning, running machines - removes part of them and lowers the "
            "break-even; operating leverage says how strongly profit moves with volume."),
            {"volume": volume, "automation": automation}, be_plot, be_figures),
        Chapter("story-eoq.html", "3 · Batch size and changeover", (
            "EOQ ties the best batch size to the cost of a changeover: cut the changeover and the best batch "
            "shrinks towards one. Automated job preparation is what makes batch-of-one the cheap choice."),
            {"family": family, "changeover": changeover}, eoq_plot, eoq_figures),
        Chapter("story-crossover.html", "4 · Printing against moulding", (
            "A mould costs thousands before the first part; printing costs almost nothing before the first part "
            "and more per part. Below the crossover, printing wins - and every custom design is its own "
            "design of one."),
            {"volume": volume}, crossover_plot, crossover_figures),
        Chapter("story-push-pull.html", "5 · Push against make-to-order", (
            "Pre-making stock means guessing demand: the newsvendor's leftovers and lost sales grow with "
            "uncertainty. Making to order costs a little more per unit and never guesses."),
            {"family": family}, pushpull_plot, pushpull_figures),
    ]


def _start_value(options: dict):
    """The plan (1x volume) where offered, else the first step (today's changeover, no automation)."""
    values = list(options.values())
    return 1.0 if 1.0 in values and not all(isinstance(v, str) for v in values) else values[0]


def _save_chapter(chapter: Chapter, outdir: Path, pages) -> None:
    pn.extension()
    page_css = SITE_CSS.split(".somana-header")[0]  # the body rule: same background and type as the HTML pages
    if page_css not in pn.config.raw_css:
        pn.config.raw_css.append(page_css)
    # Widths stretch and wrap, so the page fits a 390 px phone as well as a desktop.
    widgets = {name: pn.widgets.Select(name=label, options=options, value=_start_value(options),
                                       sizing_mode="stretch_width", min_width=200, max_width=380,
                                       css_classes=[f"control-{name}"])
               for name, (label, options) in chapter.controls.items()}
    plot = pn.pane.HoloViews(pn.bind(chapter.plot, **widgets), css_classes=["main-figure"],
                             sizing_mode="stretch_width", min_height=320)
    figures = pn.pane.HTML(pn.bind(chapter.figures, **widgets), sizing_mode="stretch_width",
                           stylesheets=[SITE_CSS], css_classes=["key-figures"])
    header = pn.pane.HTML(_nav(chapter.slug, pages), sizing_mode="stretch_width", margin=0, stylesheets=[SITE_CSS])
    body = pn.Column(f"## {chapter.title}", pn.pane.HTML(f"<p class='lede'>{html.escape(chapter.lede)}</p>",
                                                         stylesheets=[SITE_CSS], sizing_mode="stretch_width"),
                     pn.FlexBox(*widgets.values(), gap="0 12px"), figures, plot, margin=(0, 12),
                     sizing_mode="stretch_width", max_width=1180)
    layout = pn.Column(header, body, sizing_mode="stretch_width", margin=0)
    max_opts = max(len(options) for _, options in chapter.controls.values())
    layout.save(str(outdir / chapter.slug), title=f"{chapter.title} · Somana", embed=True, resources=_resources(),
                max_opts=max_opts, max_states=chapter.states, progress=False)
    _add_viewport_meta(outdir / chapter.slug)


VIEWPORT_META = "<meta name='viewport' content='width=device-width, initial-scale=1'>"


def _add_viewport_meta(path: Path) -> None:
    """Panel's saved pages have no viewport tag, so phones lay them out 980 px wide and shrink them."""
    text = path.read_text()
    if "name='viewport'" not in text and 'name="viewport"' not in text:
        path.write_text(text.replace("<head>", "<head>" + VIEWPORT_META, 1))


# ---------------------------------------------------------------------------- gallery

def gallery_variants() -> list[dict]:
    """Rows of data/gallery_variants.csv for families that exist, settings parsed into a dict."""
    from somana_core.geometry import FAMILIES

    table = read_table("gallery_variants.csv").fillna("")
    rows = []
    for row in table.itertuples():
        if row.family not in FAMILIES:
            continue
        settings = dict(pair.split("=", 1) for pair in str(row.settings).split(";") if "=" in pair)
        rows.append({"family": row.family, "variant": row.variant, "label": row.label,
                     "settings": {k.strip(): v.strip() for k, v in settings.items()}})
    return rows


def _data_url(path: Path) -> str:
    return "data:text/javascript;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _gallery_card(index: int, item: dict, built: dict | None = None) -> tuple[str, str]:
    """One card from a worker's `product` job (`built`; made here, in this process, when not given)."""
    from somana_core import geometry, workers

    spec = geometry.make_spec(item["family"], item["settings"])  # validation and captions: no CadQuery
    material = "PLA"
    if built is None:
        built = workers.job_product(spec.family, spec.values(), material=material,
                                    deflection_mm=GALLERY_DEFLECTION_MM, revision=1, fit=True)
    metrics, q, payload = built["metrics"], built["quote"], built["payload"]
    # the configurator's function and the customer's face of its quote: the same price a customer is shown
    shown = q.customer_view()
    price = "awaiting a founder's approval" if shown["unit_price"] is None else _price(shown["unit_price"])
    total = metrics["total"]
    settings = labels.settings_caption(spec, item["settings"])
    rows = [("Material", material), ("Volume", f"{total['volume_mm3'] / 1000:,.1f} cm³"),
            ("Mass", f"{total['mass_g']:,.1f} g"), ("Print time (estimate)", f"{q.print_time_s / 3600:,.1f} h"),
            ("Absorbed unit cost", _price(q.unit_cost)), ("Unit price", price),
            ("Lead time", f"{q.lead_time_days} working days")]
    table = "".join(f"<tr><td>{html.escape(k)}</td><td class='num'>{html.escape(v)}</td></tr>" for k, v in rows)
    mesh_id = f"mesh-{index}"
    card = (f"<div class='card' data-family='{item['family']}' data-variant='{item['variant']}' "
            f"data-unit-price='{shown['unit_price']}'><h3>{html.escape(item['label'])}</h3>"
            f"<div class='note'>{html.escape(spec.title)}: {html.escape(settings)}</div>"
            f"<div class='viewer' data-mesh='{mesh_id}'></div>"
            f"<table class='kv'>{table}</table></div>")
    script = f"<script type='application/json' id='{mesh_id}'>{json.dumps(payload)}</script>"
    return card, script


def build_gallery(items: list[dict], pool) -> list[dict]:
    """Every variant built, measured, quoted and meshed on the worker pool (somana_core.workers), one
    `product` job each, all at once: the parts build side by side on every worker process."""
    from somana_core import geometry, workers

    futures = [pool.submit("product", priority=workers.PRIORITY_BATCH, family=item["family"],
                           values=geometry.make_spec(item["family"], item["settings"]).values(), material="PLA",
                           deflection_mm=GALLERY_DEFLECTION_MM, revision=1, fit=True) for item in items]
    return pool.client.gather(futures)


def gallery_page(pages, pool) -> tuple[str, int]:
    items = gallery_variants()
    built = build_gallery(items, pool)
    cards, scripts = (zip(*(_gallery_card(i, item, done) for i, (item, done) in enumerate(zip(items, built))))
                      if items else ((), ()))
    importmap = {"imports": {"three": _data_url(viewer.THREE_DIR / "build" / "three.module.min.js"),
                             "three/addons/controls/OrbitControls.js":
                                 _data_url(viewer.THREE_DIR / "examples" / "jsm" / "controls" / "OrbitControls.js"),
                             "somana-viewer": _data_url(viewer.VIEWER_JS)}}
    head = f"<script type='importmap'>{json.dumps(importmap)}</script>"
    loader = ("<script type='module'>import { createViewer } from 'somana-viewer';"
              "for (const el of document.querySelectorAll('.viewer[data-mesh]')) {"
              " const payload = JSON.parse(document.getElementById(el.dataset.mesh).textContent);"
              " createViewer(el).show(payload); }</script>")
    body = ("<h2>Product gallery</h2><p class='lede'>Every part below was generated from a customer's parameters "
            "by the same code that runs the factory's configurator, and priced by the same quote. Drag to rotate, "
            "scroll to zoom. three.js (MIT, see assets/three/LICENSE) draws them, from inside this page.</p>"
            f"<div class='cards'>{''.join(cards)}</div>{''.join(scripts)}{loader}")
    return _html_page("Product gallery", "gallery.html", pages, body, head), len(items)


# ---------------------------------------------------------------------------- order flow

def load_pipeline_results(path: Path | None) -> dict | None:
    if path is None or not Path(path).exists():
        return None
    return json.loads(Path(path).read_text())


def order_flow_page(pages, results: dict | None, source: str) -> str:
    intro = ("<h2>How an order flows</h2><p class='lede'>A customer's parameters become a validated spec, a "
             "solid part, a quote, G-code from the real slicer and a stored order - with no engineer in the "
             "loop. The times below are the medians measured by the factory's pipeline benchmark, read from "
             "its output file.</p>")
    if not results or not results.get("families"):
        return _html_page("How an order flows", "order-flow.html", pages,
                          intro + "<p class='note' data-figure='no-results'>No pipeline measurement yet: run "
                                  "<code>.venv/bin/python benchmarks/pipeline.py</code> and publish again.</p>")
    labels = {"validate": "Validate parameters", "build": "Build the solid", "export": "Export STL/3MF",
              "quote": "Itemised quote", "slice": "Slice to G-code", "store": "Store the order"}
    blocks = []
    for family, figures in results["families"].items():
        stages = {k: v for k, v in figures["median_s"].items() if k != "total"}
        flow = "<span class='arrow'>→</span>".join(
            f"<div class='stage'><div class='name'>{html.escape(labels.get(k, k))}</div>"
            f"<div class='time' data-figure='{family}-{k}'>{_seconds(v)}</div></div>" for k, v in stages.items())
        total = figures["median_s"].get("total", sum(stages.values()))
        blocks.append(f"<h3>{html.escape(family.replace('_', ' '))}</h3><div class='flow'>{flow}</div>"
                      f"<div class='figures'>{_figure(f'{family}-total', 'Parameters to a sliced, stored order', _seconds(total))}"
                      + (_figure(f"{family}-quote-cached", "Re-quote of a built part",
                                 f"{figures['quote_cached_geometry_ms']:.1f} ms")
                         if "quote_cached_geometry_ms" in figures else "") + "</div>")
    runs, cpus = results.get("runs"), results.get("cpus")
    note = (f"<p class='note'>Source: {html.escape(Path(source).name)}"
            + (f", median of {runs} runs per family" if runs else "")
            + (f", on a {cpus}-core machine" if cpus else "") + ".</p>")
    return _html_page("How an order flows", "order-flow.html", pages, intro + "".join(blocks) + note)


def _seconds(value: float) -> str:
    return f"{value * 1000:,.0f} ms" if value < 1 else f"{value:,.2f} s"


# ---------------------------------------------------------------------------- the site

def index_page(pages, chapters: list[Chapter], gallery_count: int) -> str:
    plan = story.break_even_story(1.0, 0.0)
    chapter_list = "".join(f"<li><a href='{c.slug}'>{html.escape(c.title)}</a> - {html.escape(c.lede.split(':')[0].split('.')[0])}.</li>"
                           for c in chapters)
    body = ("<h1>Somana: a factory where every product is made for one customer</h1>"
            "<p class='lede'>IoT sensor enclosures, STEM kit boxes and eyewear frames, each generated from one "
            "customer's parameters, priced and planned by software as it is configured. Small scale is the "
            "business model: the software removes the hours of engineering each custom order used to cost.</p>"
            "<div class='figures'>"
            + _figure("planned_units", "Planned volume", f"{plan['units_per_month']:,.0f}", "units per month")
            + _figure("break_even_units", "Break-even today", _whole_units(plan["break_even_units_per_month"]),
                      "units per month")
            + _figure("operating_income", "Operating income at plan", _usd(plan["operating_income_usd_per_month"]),
                      "per month")
            + "</div><h2>The economics, in five steps</h2><ol>" + chapter_list + "</ol>"
            f"<h2>What the factory makes</h2><p><a href='gallery.html'>The product gallery</a>: {gallery_count} "
            "customer variants as rotatable 3D parts with their metrics and quotes.</p>"
            "<h2>How an order flows</h2><p><a href='order-flow.html'>From parameters to G-code</a>, with measured "
            "times.</p><p class='note'>Every figure on these pages is computed from the factory's data tables by "
            "the same code as its apps when the site is published; open this folder anywhere, no network needed.</p>")
    return _html_page("Why batch-of-one pays", "index.html", pages, body)


def build_site(outdir: Path, pipeline_results: Path | None = None, pool=None) -> dict:
    """Write the whole site into `outdir`; returns what was written (pages, states, size). The gallery's
    parts are built by `pool` (somana_core.workers; default: this process's pool, a local cluster)."""
    import sys

    from somana_core import workers

    pool = pool or workers.connect()
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    copy_assets(outdir)
    chapters = _chapters()
    pages = ([("index.html", "Overview")] + [(c.slug, c.title) for c in chapters]
             + [("gallery.html", "Gallery"), ("order-flow.html", "Order flow")])
    for chapter in chapters:
        _save_chapter(chapter, outdir, pages)
    gallery_html, gallery_count = gallery_page(pages, pool)
    (outdir / "gallery.html").write_text(gallery_html)
    results = load_pipeline_results(pipeline_results)
    (outdir / "order-flow.html").write_text(order_flow_page(pages, results, str(pipeline_results)))
    (outdir / "index.html").write_text(index_page(pages, chapters, gallery_count))
    size = sum(p.stat().st_size for p in outdir.rglob("*") if p.is_file())
    return {"outdir": str(outdir), "pages": [href for href, _ in pages],
            "embedded_states": {c.slug: c.states for c in chapters},
            "embedded_states_total": sum(c.states for c in chapters),
            "gallery_variants": gallery_count, "gallery_built_by": pool.address,
            "cadquery_in_this_process": "cadquery" in sys.modules, "pipeline_results": str(pipeline_results) if results else None,
            "size_mb": round(size / 1e6, 2)}


__all__ = ["build_site", "copy_assets", "gallery_variants"]
