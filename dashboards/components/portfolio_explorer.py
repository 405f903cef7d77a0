"""The portfolio explorer: one `pn.viewable.Viewer` over `somana_core.scenarios.Scenario`, shown by the
served `/portfolio` app and by `notebooks/portfolio_explorer.ipynb` alike.

Views only: every number comes from the scenario (the core). A change to a control refreshes just
the panes that depend on the scenario parameter that moved.
"""

from __future__ import annotations

import io
import math

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401 - the bokeh backend renders the plots, also without hv.extension
import numpy as np
import panel as pn
import param

from dashboards import panel_fixes
from somana_core.economics.costing import whole_usd
from somana_core.errors import InputError
from somana_core.scenarios import EDITABLE_PRODUCT_COLUMNS, Scenario

panel_fixes.apply()  # Panel 1.9.4 lost changes made while a served page opened (dashboards/panel_fixes.py)

PLOT_OPTS = dict(height=300, responsive=True, toolbar="above", default_tools=["save", "pan", "wheel_zoom", "reset"])
COLORS = {"today": "#8a9ba3", "scenario": "#0f6e6e", "push": "#c7772f", "mto": "#0f6e6e"}

FIGURES_CSS = """
.kpis { display: flex; flex-wrap: wrap; gap: .8rem; }
.kpi { background: #fff; border-radius: 8px; padding: .6rem .9rem; min-width: 11rem;
       box-shadow: 0 1px 6px rgba(0,0,0,.07); }
.kpi .label { font-size: .8rem; color: #5d6b73; }
.kpi .value { font-size: 1.5rem; font-weight: 700; color: #1f2a30; }
.kpi .value.negative { color: #a3271b; }
"""


def _money(value: float) -> str:
    """Whole dollars, rounded by the core's `whole_usd` as the published site rounds them."""
    dollars = whole_usd(value)
    return f"{'-' if dollars < 0 else ''}${abs(dollars):,d}"


def breakeven_text(units) -> str:
    """Break-even volume as a person reads it: whole units per month (rounded up), or why there is none."""
    if units is None:
        return "none (price below unit cost)"
    return f"{math.ceil(units - 1e-9):,d} units/month"


class PortfolioExplorer(pn.viewable.Viewer):
    """Controls, tables and plots of one founder's scenario."""

    scenario = param.ClassSelector(class_=Scenario, doc="the what-if model this explorer shows and edits")

    # which panes depend on which scenario parameters
    _DEPENDS = {
        "figures": {"products", "assumptions", "monthly_units", "prices", "automation_cut"},
        "table": {"products", "monthly_units", "prices"},
        "margin": {"products", "monthly_units", "prices"},
        "operating": {"products", "assumptions", "monthly_units", "prices", "automation_cut"},
        "learning": {"products", "monthly_units", "learning_rate", "focus_family"},
        "eoq": {"products", "assumptions", "monthly_units", "changeover_minutes", "focus_family"},
        "crossover": {"processes", "focus_family"},
        "push_mto": {"products", "assumptions", "monthly_units", "prices", "changeover_minutes", "focus_family"},
    }

    def __init__(self, scenario: Scenario | None = None, **params):
        super().__init__(scenario=scenario or Scenario(), **params)
        s = self.scenario
        self.volume_sliders = {
            f: pn.widgets.IntSlider(label=f"{f} units/month", start=0,
                                    end=int(max(1, s.monthly_units.get(f, 0)) * s.settings["volume_range_factor"]),
                                    value=int(round(s.monthly_units.get(f, 0))), sizing_mode="stretch_width")
            for f in s.families}
        self.price_sliders = {}
        for f in s.families:
            low, high = s.price_range(f)
            self.price_sliders[f] = pn.widgets.FloatSlider(
                label=f"{f} price, USD", start=low, end=high, step=max((high - low) / 100, 0.01),
                value=float(s.prices[f]), format="0,0.00", sizing_mode="stretch_width")
        self.automation = pn.widgets.FloatSlider.from_param(
            s.param.automation_cut, label="Fixed costs cut by automation", format="0%", sizing_mode="stretch_width",
            css_classes=["automation-slider"])
        self.changeover = pn.widgets.FloatSlider.from_param(
            s.param.changeover_minutes, label="Changeover, minutes", sizing_mode="stretch_width")
        self.learning = pn.widgets.FloatSlider.from_param(
            s.param.learning_rate, label="Learning rate (cost after each doubling)", format="0%",
            sizing_mode="stretch_width")
        self.focus = pn.widgets.Select(label="Family in the per-family plots", options=s.families,
                                       value=s.focus_family, sizing_mode="stretch_width")
        for f, w in self.volume_sliders.items():
            w.param.watch(lambda e, f=f: self._set_dict("monthly_units", f, float(e.new)), "value")
        for f, w in self.price_sliders.items():
            w.param.watch(lambda e, f=f: self._set_dict("prices", f, float(e.new)), "value")
        self.focus.link(s, value="focus_family")

        self.products_table = pn.widgets.Tabulator(
            s.products[["family", *EDITABLE_PRODUCT_COLUMNS]], show_index=False,
            editors={"family": None}, sizing_mode="stretch_width", height=160)
        self.assumptions_table = pn.widgets.Tabulator(
            s.assumptions[["name", "family", "value", "unit", "source"]], show_index=False,
            editors={c: None for c in ("name", "family", "unit", "source")}, sizing_mode="stretch_width",
            height=330)
        self.products_table.on_edit(self._product_edited)
        self.assumptions_table.on_edit(self._assumption_edited)

        self.message = pn.pane.Alert("", alert_type="danger", visible=False, sizing_mode="stretch_width")
        self.scenario_file = pn.widgets.FileInput(accept=".json", label="Load scenario", sizing_mode="stretch_width")
        self.scenario_file.param.watch(self._load_scenario, "value")
        self.save_button = pn.widgets.FileDownload(callback=self._scenario_json, filename="somana-scenario.json",
                                                   label="Save scenario (JSON)", color="primary",
                                                   sizing_mode="stretch_width")
        self.csv_button = pn.widgets.FileDownload(callback=self._table_csv, filename="somana-portfolio.csv",
                                                  label="Download table (CSV)", sizing_mode="stretch_width")

        self.figures = pn.pane.HTML(sizing_mode="stretch_width", stylesheets=[FIGURES_CSS], margin=(5, 10))
        self.family_table = pn.widgets.Tabulator(show_index=False, disabled=True, sizing_mode="stretch_width",
                                                 height=140)
        self.plots = {name: pn.pane.HoloViews(sizing_mode="stretch_width", min_height=320, linked_axes=False)
                      for name in ("margin", "contribution", "operating", "dol", "learning", "eoq", "crossover",
                                   "push_mto")}
        s.param.watch(self._scenario_changed, list(set().union(*self._DEPENDS.values())))
        self._refresh(set().union(*self._DEPENDS.values()))

    # ---------------------------------------------------------------- control -> scenario
    def _set_dict(self, name: str, family: str, value: float) -> None:
        current = dict(getattr(self.scenario, name))
        if current.get(family) != value:
            current[family] = value
            setattr(self.scenario, name, current)

    def _product_edited(self, event) -> None:
        s = self.scenario
        products = s.products.copy()
        edited = self.products_table.value
        for column in EDITABLE_PRODUCT_COLUMNS:
            products[column] = edited[column].astype(float).to_numpy()
        s.products = products
        s.clamp_prices()

    def _assumption_edited(self, event) -> None:
        assumptions = self.scenario.assumptions.copy()
        assumptions["value"] = self.assumptions_table.value["value"].astype(float).to_numpy()
        self.scenario.assumptions = assumptions

    def _load_scenario(self, event) -> None:
        if not event.new:
            return
        try:
            self.scenario.apply_json(event.new.decode("utf-8"))
        except (InputError, UnicodeDecodeError) as exc:
            self._show_error(getattr(exc, "message", str(exc)))
            return
        self._sync_widgets()

    def _scenario_json(self):
        return io.StringIO(self.scenario.to_json())

    def _table_csv(self):
        return io.StringIO(self.scenario.family_table().to_csv(index=False))

    def _sync_widgets(self) -> None:
        """After a scenario is loaded: the sliders and tables show its values."""
        s = self.scenario
        for f, w in self.volume_sliders.items():
            value = int(round(s.monthly_units.get(f, 0)))
            w.end = max(w.end, value)
            w.value = value
        for f, w in self.price_sliders.items():
            low, high = s.price_range(f)
            w.param.update(start=low, end=high, value=float(s.prices[f]))
        self.focus.value = s.focus_family
        self.products_table.value = s.products[["family", *EDITABLE_PRODUCT_COLUMNS]]
        self.assumptions_table.value = s.assumptions[["name", "family", "value", "unit", "source"]]

    def _show_error(self, text: str) -> None:
        self.message.object = text
        self.message.visible = bool(text)

    # ---------------------------------------------------------------- scenario -> views
    def _scenario_changed(self, *events) -> None:
        names = {e.name for e in events}
        if "products" in names:
            for f, w in self.price_sliders.items():
                low, high = self.scenario.price_range(f)
                w.param.update(start=low, end=high, value=float(self.scenario.prices[f]))
        self._refresh(names)

    def _refresh(self, changed: set[str]) -> None:
        try:
            for pane, depends in self._DEPENDS.items():
                if depends & changed:
                    getattr(self, f"_draw_{pane}")()
        except InputError as exc:
            self._show_error(exc.message)
        else:
            self._show_error("")

    def _draw_figures(self) -> None:
        summary = self.scenario.summary()
        income = summary["operating_income_per_month_usd"]
        dol = summary["degree_of_operating_leverage"]
        items = [
            ("breakeven-units", "Break-even volume", breakeven_text(summary["breakeven_units_per_month"]), False),
            ("operating-income", "Operating income", f"{_money(income)}/month", income < 0),
            ("fixed-costs", "Fixed costs", f"{_money(summary['fixed_costs_per_month_usd'])}/month", False),
            ("dol", "Operating leverage (DOL)", "undefined" if dol is None else f"{dol:.2f}", dol is not None and dol < 0),
            ("volume", "Planned volume", f"{summary['monthly_units']:,.0f} units/month", False),
        ]
        self.figures.object = '<div class="kpis">' + "".join(
            f'<div class="kpi"><div class="label">{label}</div>'
            f'<div class="value{" negative" if negative else ""}" id="{key}">{value}</div></div>'
            for key, label, value, negative in items) + "</div>"
        self.breakeven_units = summary["breakeven_units_per_month"]

    def _draw_table(self) -> None:
        table = self.scenario.family_table()
        self.family_table.value = table.drop(columns=["display_name"]).round(
            {"price_usd": 2, "variable_cost_usd": 2, "absorbed_unit_cost_usd": 2, "contribution_margin": 3,
             "operating_margin_at_plan": 3, "contribution_per_unit_usd": 2, "contribution_per_month_usd": 0,
             "revenue_per_month_usd": 0})

    def _draw_margin(self) -> None:
        table = self.scenario.family_table()
        margin = hv.Bars(table.assign(contribution_margin_pct=table["contribution_margin"] * 100), "family",
                         "contribution_margin_pct").opts(
            title="Contribution margin per family", ylabel="contribution margin, %", color="#0f6e6e", **PLOT_OPTS)
        contribution = hv.Bars(table, "family", "contribution_per_month_usd").opts(
            title="Contribution per month", ylabel="USD/month", color="#c7772f", yformatter="$%.0f", **PLOT_OPTS)
        self.plots["margin"].object = margin
        self.plots["contribution"].object = contribution

    def _draw_operating(self) -> None:
        s = self.scenario
        curve = s.operating_curve()
        summary = s.summary()
        income = hv.Curve(curve, "monthly_units", "operating_income_usd", label="operating income").opts(
            color="#0f6e6e", line_width=2)
        layers = income * hv.HLine(0).opts(color="#8a9ba3", line_dash="dotted")
        be = summary["breakeven_units_per_month"]
        if be is not None:
            layers = layers * hv.VLine(be).opts(color="#a3271b", line_dash="dashed") * hv.Text(
                be, float(curve["operating_income_usd"].max()) * 0.9, f" break-even {breakeven_text(be)}",
                halign="left").opts(text_color="#a3271b", text_font_size="9pt")
        layers = layers * hv.Scatter([(summary["monthly_units"], summary["operating_income_per_month_usd"])],
                                     label="plan").opts(size=9, color="#c7772f")
        left = layers.opts(title="Operating income vs volume", xlabel="units/month", ylabel="USD/month",
                           yformatter="$%.0f", legend_position="bottom_right", **PLOT_OPTS)
        dol = curve.dropna()
        right = hv.Curve(dol, "monthly_units", "dol").opts(
            title="Degree of operating leverage", xlabel="units/month", ylabel="DOL", color="#c7772f",
            ylim=(0, 10), xlim=(0, float(curve["monthly_units"].max())), **PLOT_OPTS)
        if be is not None:
            right = right * hv.VLine(be).opts(color="#a3271b", line_dash="dashed")
        self.plots["operating"].object = left
        self.plots["dol"].object = right

    def _draw_learning(self) -> None:
        s = self.scenario
        points = s.learning_points()
        unit = hv.Curve(points, "cumulative_units", "unit_cost_usd", label="unit cost").opts(color="#0f6e6e", line_width=2)
        average = hv.Curve(points, "cumulative_units", "average_cost_usd", label="average cost").opts(
            color="#c7772f", line_dash="dashed")
        self.plots["learning"].object = (unit * average).opts(
            title=f"Wright's law, {s.focus_family} ({s.learning_rate:.0%} per doubling)",
            xlabel="cumulative units", ylabel="USD/unit", logx=True, yformatter="$%.0f",
            legend_position="top_right", **PLOT_OPTS)

    def _draw_eoq(self) -> None:
        data = self.scenario.eoq_curves()
        layers = []
        for key, label in (("today", "today"), ("scenario", "scenario")):
            d = data[key]
            layers.append(hv.Curve((d["batch_units"], d["total_cost_usd"]), "batch size, units", "USD/year",
                                   label=f"{label}: {d['changeover_minutes']:.0f} min changeover").opts(
                color=COLORS[key], line_width=2))
            layers.append(hv.Scatter([(d["eoq_units"], d["eoq_total_cost_usd"])], label=f"EOQ {d['eoq_units']:.0f}").opts(
                color=COLORS[key], size=8))
        self.plots["eoq"].object = hv.Overlay(layers).opts(
            title=f"EOQ: setup + holding cost, {data['family']}", yformatter="$%.0f",
            legend_position="top_right", **PLOT_OPTS)

    def _draw_crossover(self) -> None:
        data = self.scenario.crossover_curves()
        palette = ["#0f6e6e", "#c7772f", "#6a5acd", "#8a9ba3"]
        layers = [hv.Curve((data["quantity"], cost), "quantity, units", "total cost, USD", label=name).opts(
            color=palette[i % len(palette)], line_width=2) for i, (name, cost) in enumerate(data["total_cost_usd"].items())]
        for r in data["ranges"][1:]:
            layers.append(hv.VLine(r.from_units).opts(color="#5d6b73", line_dash="dotted"))
        self.crossover_ranges = [(r.process, r.from_units, r.to_units) for r in data["ranges"]]
        self.plots["crossover"].object = hv.Overlay(layers).opts(
            title=f"Crossover of processes, {data['part']}", logx=True, logy=True,
            legend_position="top_left", **PLOT_OPTS)

    def _draw_push_mto(self) -> None:
        data = self.scenario.push_vs_mto()
        push, mto = data["push_profit_usd"], data["mto_profit_usd"]
        edges = np.histogram_bin_edges(np.concatenate([push, mto]), bins=60)
        self.pull_advantage = float(data["result"].pull_advantage)
        hists = [hv.Histogram(np.histogram(values, edges), kdims="profit per month, USD", vdims="draws",
                              label=f"{label}: mean {_money(float(values.mean()))}").opts(
            color=COLORS[key], alpha=0.55, line_alpha=0)
            for key, label, values in (("push", "push (make ahead)", push), ("mto", "make to order", mto))]
        self.plots["push_mto"].object = hv.Overlay(hists).opts(
            title=f"Monthly profit: push vs make-to-order, {data['family']}",
            xformatter="$%.0f", legend_position="top_left", **PLOT_OPTS)

    # ---------------------------------------------------------------- layout
    def controls(self) -> pn.Column:
        s = self.scenario
        return pn.Column(
            "### Volumes (units/month)", *self.volume_sliders.values(),
            "### Prices (within each band)", *self.price_sliders.values(),
            "### Factory", self.automation, self.changeover, self.learning, self.focus,
            "### Scenario", self.save_button, self.scenario_file, self.csv_button,
            pn.pane.Markdown(f"Today's changeover: {s.today_changeover_minutes:g} min", styles={"color": "#5d6b73"}),
            width=330, margin=(5, 10))

    def __panel__(self):
        # Tabs render lazily: a first view draws two plots, not eight (first render well under 2 s here).
        def pair(a, b):
            return pn.Row(self.plots[a], self.plots[b], sizing_mode="stretch_width")

        tables = pn.Column(
            "#### Scenario by family", self.family_table,
            pn.Row(pn.Column("#### Product families (edit the bands)", self.products_table, sizing_mode="stretch_width"),
                   pn.Column("#### Factory assumptions (edit a value)", self.assumptions_table,
                             sizing_mode="stretch_width"), sizing_mode="stretch_width"),
            sizing_mode="stretch_width")
        tabs = pn.Tabs(
            ("Break-even and leverage", pair("operating", "dol")),
            ("Margins", pair("margin", "contribution")),
            ("Learning and batch size", pair("learning", "eoq")),
            ("Crossover and push vs MTO", pair("crossover", "push_mto")),
            ("Tables", tables),
            dynamic=True, sizing_mode="stretch_width")
        main = pn.Column(self.message, self.figures, tabs, sizing_mode="stretch_width")
        return pn.Row(self.controls(), main, sizing_mode="stretch_width")
