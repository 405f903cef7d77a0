"""`/plan`: the floor's plan per printer (staff login, like /machines).

A Gantt chart of every printer: changeovers in amber, planned prints in teal (red when late), what is
printing now drawn darker over its plan. The operator pins an order's plates to a printer or holds the
order, and the plan re-solves around that (in a worker thread, with a busy indicator: a re-solve takes
a few seconds). All numbers come from somana_core.scheduling; this module only draws them.
"""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401 - the bokeh backend renders the plots, also without hv.extension
import pandas as pd
import panel as pn
import param

from dashboards import panel_fixes, theme, web_auth

panel_fixes.apply()  # Panel 1.9.4 lost changes made while a page opened (dashboards/panel_fixes.py)

SOLVE_S = 3.0  # the solver's time per re-plan on this page
COLOURS = {"changeover": "#e0a526", "print": "#0f6e6e", "late": "#c0392b", "actual": "#123c3c"}


def current_staff_user() -> str | None:
    return web_auth.session_staff_user()


def locked_page() -> pn.viewable.Viewable:
    return theme.locked_page("The floor plan", "/plan")


def gantt(plan: dict) -> hv.Overlay:
    from somana_core.scheduling.floor import gantt_rows

    rows = pd.DataFrame(gantt_rows(plan))
    labels = [(i, f"{p['printer']} {p['material']} {p['colour']}{'' if p['online'] else ' (offline)'}")
              for i, p in enumerate(plan["printers"])]
    height = max(260, 46 * len(labels) + 80)
    opts = dict(height=height, responsive=True, yticks=labels, ylim=(-0.6, len(labels) - 0.4), xlabel="",
                ylabel="", tools=["hover"], line_color="white", line_width=0.5, invert_yaxis=True)
    vdims = ["job", "orders", "material", "what", "due", "late_min"]
    layers = []
    if rows.empty:
        return hv.Rectangles([], vdims=vdims).opts(**opts)
    for kind, half in (("changeover", 0.18), ("print", 0.32), ("actual", 0.16)):
        part = rows[rows["kind"] == kind]
        for late in (False, True):
            sel = part[part["late"] == late]
            if sel.empty and not (kind == "print" and not late):
                continue
            colour = COLOURS["late"] if late and kind == "print" else COLOURS[kind]
            data = pd.DataFrame({"x0": sel["x0"], "y0": sel["row"] - half, "x1": sel["x1"], "y1": sel["row"] + half,
                                 **{v: sel[v] for v in vdims}})
            layers.append(hv.Rectangles(data, kdims=["x0", "y0", "x1", "y1"], vdims=vdims,
                                        label=f"{kind}{' (late)' if late else ''}").opts(color=colour, **opts))
    return hv.Overlay(layers).opts(legend_position="right", show_legend=True)


class PlanPage(param.Parameterized):
    order = param.Selector(default=None, objects=[], doc="Order to pin or hold")
    printer = param.Selector(default=None, objects=[], doc="Printer to pin it to")
    busy = param.Boolean(False)

    def __init__(self, store, **params):
        super().__init__(**params)
        self.store = store
        self.chart = pn.pane.HoloViews(None, sizing_mode="stretch_width", min_height=300, name="gantt")
        self.summary = pn.pane.HTML("", sizing_mode="stretch_width", name="summary")
        self.message = pn.pane.Alert("", alert_type="light", visible=False, sizing_mode="stretch_width")
        self.indicator = pn.indicators.LoadingSpinner(value=False, width=28, height=28)
        buttons = {"Pin to printer": self._pin, "Unpin": self._unpin, "Hold": self._hold,
                   "Release": self._release, "Re-plan": self._replan}
        self.buttons = []
        for label, action in buttons.items():
            button = pn.widgets.Button(name=label, button_type="primary" if label == "Re-plan" else "default",
                                       width=120)
            button.on_click(self._handler(action))
            self.buttons.append(button)
        self.controls = pn.Row(
            pn.widgets.Select.from_param(self.param.order, name="Order", width=180),
            pn.widgets.Select.from_param(self.param.printer, name="Printer", width=160),
            *self.buttons, self.indicator, sizing_mode="stretch_width")
        self.plan: dict | None = None

    # -- actions: the floor-state change and the re-solve run in a worker thread (seconds of CP-SAT),
    #    the page is updated back on the event loop; the spinner shows meanwhile

    def _handler(self, action):
        async def on_click(_event):  # a coroutine function, so Panel awaits it on the event loop
            await self._run(action)
        return on_click

    async def _run(self, action) -> None:
        import asyncio

        if self.busy:
            return
        self.busy = True
        self.indicator.value = True
        for b in self.buttons:
            b.disabled = True
        try:
            note = await asyncio.get_running_loop().run_in_executor(None, self._work, action)
            self._show()
            self._say(note, "success")
        except Exception as exc:  # noqa: BLE001 - an InputError or a solver failure: shown, the page stays up
            self._say(getattr(exc, "message", str(exc)), "danger")
        finally:
            self.busy = False
            self.indicator.value = False
            for b in self.buttons:
                b.disabled = False

    def _work(self, action) -> str:
        note = action()
        self.plan = self.compute(changed=action in (self._pin, self._unpin, self._hold, self._release, self._replan))
        return note

    def _say(self, text: str | None, kind: str) -> None:
        self.message.object = text or ""
        self.message.alert_type = kind
        self.message.visible = bool(text)

    def _need_order(self) -> str:
        from somana_core.errors import InputError

        if not self.order:
            raise InputError("order", "choose an order first")
        return self.order

    def _pin(self) -> str:
        from somana_core.scheduling.floor import set_pin

        order = self._need_order()
        set_pin(order, self.printer)
        return f"{order} pinned to {self.printer}; plan re-solved"

    def _unpin(self) -> str:
        from somana_core.scheduling.floor import set_pin

        set_pin(self._need_order(), None)
        return f"{self.order} unpinned; plan re-solved"

    def _hold(self) -> str:
        from somana_core.scheduling.floor import set_hold

        set_hold(self._need_order(), True)
        return f"{self.order} held (left out of the plan)"

    def _release(self) -> str:
        from somana_core.scheduling.floor import set_hold

        set_hold(self._need_order(), False)
        return f"{self.order} released into the plan"

    def _replan(self) -> str:
        return "plan re-solved"

    # -- the plan

    def compute(self, changed: bool = True) -> dict:
        """The plan: the server's live one (fed by the floor's bus; rebuilt when a pin or hold changed
        it), else one solved here from the order store."""
        from somana_core.scheduling import live
        from somana_core.scheduling.floor import floor_planner, plan_to_dict

        current = live.current()
        if current is not None:
            if changed:
                current.rebuild()
            return current.snapshot()
        planner, packing = floor_planner(self.store, time_limit_s=SOLVE_S)
        schedule = planner.replan(with_bound=True)
        return plan_to_dict(planner, schedule, packing)

    def solve(self) -> None:
        self.plan = self.compute()
        self._show()

    def _show(self) -> None:
        plan = self.plan
        orders = sorted({o for p in plan["printers"] for j in p["jobs"] if not j["fixed"] for o in j["orders"]}
                        | {h.split("/")[0] for h in plan["held"]})
        self.param.order.objects = orders
        if self.order not in orders:
            self.order = orders[0] if orders else None
        printers = [p["printer"] for p in plan["printers"]]
        self.param.printer.objects = printers
        if self.printer not in printers:
            self.printer = printers[0] if printers else None
        f = plan["figures"]
        gap = f"{f['gap']:.0%}" if "gap" in f else "-"
        held = ", ".join(plan["held"]) or "none"
        self.summary.object = (
            f"<p id='plan-summary'><b>{f['jobs']}</b> plates planned by <b>{plan['method']}</b> in "
            f"{plan['solve_s']:.1f} s &middot; <b style='color:{COLOURS['late']}'>{f['late_jobs']} late</b> "
            f"&middot; changeovers {f['changeover_min']} min &middot; waiting for a shift "
            f"{f['plate_clear_wait_min']} min &middot; objective {f['objective']:,} vs lower bound "
            f"{f.get('lower_bound', 0):,.0f} (gap {gap}) &middot; held: {held}</p>")
        live = plan.get("live")
        if live:
            last = live["replans"][-1] if live["replans"] else None
            self.summary.object += (
                f"<p id='plan-live'>Live from the floor: {len(live['events'])} recent events"
                + (f", last re-plan {last['solve_s']:.1f} s after {', '.join(last['events'])}" if last else "")
                + f" &middot; promises carry a {live['buffer_min']} min slip buffer</p>")
        self.chart.object = gantt(plan)

    def view(self, user: str) -> pn.viewable.Viewable:
        body = pn.Column(pn.pane.HTML("<h2 style='margin:.6rem 0 0'>Floor plan</h2>"), self.summary, self.controls,
                         self.message, self.chart, sizing_mode="stretch_width", margin=(0, 20))
        return theme.page(body, current="/plan", user=user)


def create_app() -> pn.viewable.Viewable:
    user = current_staff_user()
    if user is None:
        return locked_page()
    from somana_core.orders import shared_store

    page = PlanPage(shared_store())
    page.summary.object = "<p>Planning every open order&hellip;</p>"
    if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
        async def first_plan():  # the page draws at once; the first solve follows in a worker
            await page._run(lambda: None)  # no message: nothing was asked yet

        panel_fixes.onload(first_plan)  # not pn.state.onload: see dashboards/panel_fixes.py, fix 3
    else:
        page.solve()
    return page.view(user)


if pn.state.served:
    create_app().servable(title="Somana · plan")
