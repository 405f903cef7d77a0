"""/configure: the order configurator. Pick a family, set the customer's parameters, see the real part
in 3D and its itemised quote update on every change, download STL/STEP, place the order.

Only view code: the spec (somana_core.geometry) validates, the worker pool (somana_core.workers)
builds, quotes, tessellates and exports in other processes, the order store keeps the order.
A change is validated here at once (no CadQuery in this process); then the session's quote job
and, on the same worker, its preview job run while the page shows a busy indicator. Only a
session's newest change counts (somana_core.workers.LatestWins cancels the older job).
"""

from __future__ import annotations

import asyncio
import io

import panel as pn
import param

from dashboards.theme import page
from dashboards.viewer import MeshViewer
from somana_core import fulfilment, preview, workers
from somana_core.errors import InputError

PREVIEW_DEFLECTION_MM = preview.PREVIEW_DEFLECTION_MM
BUILD_TIMEOUT_S = workers.DEFAULT_TIMEOUT_S
STALE_NOTE = "Last part that could be built: this change is not shown"
RESEND_AFTER_S = 1.0   # see Configurator._until_drawn
RESEND_ATTEMPTS = 5

CSS = """
:host(.somana-error) { color: #b3261e; font-size: 12px; margin: 0 10px 6px 10px; }
.somana-quote table { border-collapse: collapse; width: 100%; font-size: 13px; }
.somana-quote td, .somana-quote th { padding: 3px 6px; border-bottom: 1px solid #e2e6e8; text-align: left; }
.somana-quote td.num, .somana-quote th.num { text-align: right; font-variant-numeric: tabular-nums; }
.somana-quote .total td { font-weight: 700; border-top: 2px solid #1f2a30; }
.somana-quote .flags { color: #8a5a00; }
:host(.stale) { opacity: .55; }
"""


def _geometry():
    from somana_core import geometry
    return geometry


# ---------------------------------------------------------------------------- controls from the spec

def _label(name: str, p: param.Parameter) -> str:
    """The spec's label (it carries the unit) and, for numbers, the allowed range."""
    text = p.label or name.replace("_", " ")
    bounds = getattr(p, "bounds", None)
    if isinstance(p, param.Number) and not isinstance(p, param.Boolean) and bounds and None not in bounds:
        text += f" · {bounds[0]:g}–{bounds[1]:g}"
    return text


def widget_for(name: str, p: param.Parameter, value) -> pn.widgets.Widget:
    """One input for one spec parameter. Number inputs carry the spec's step but no hard limits, so a
    value outside the bounds reaches the spec and its message is shown next to the control."""
    common = dict(label=_label(name, p), description=p.doc or None, sizing_mode="stretch_width",
                  css_classes=[f"param-{name}"])  # a stable handle for browser tests
    if isinstance(p, param.Boolean):
        common.pop("description")  # a checkbox has no tooltip in Panel 1.9: its label says it
        return pn.widgets.Checkbox(value=bool(value), **common)
    if isinstance(p, param.Color):
        return pn.widgets.ColorPicker(value=value, **common)
    if isinstance(p, param.Selector):
        return pn.widgets.Select(options=list(p.objects), value=value, **common)
    if isinstance(p, param.Integer):
        return pn.widgets.IntInput(value=value, step=int(getattr(p, "step", None) or 1), **common)
    if isinstance(p, param.Number):
        return pn.widgets.FloatInput(value=value, step=getattr(p, "step", None) or 0.1, **common)
    return pn.widgets.TextInput(value="" if value is None else str(value), **common)


class SpecControls(pn.viewable.Viewer):
    """The inputs for one family, grouped as the spec groups them, each with its error line."""

    values = param.Dict(default={}, doc="parameter name -> value as the person set it")

    def __init__(self, family: str, **params):
        super().__init__(**params)
        geometry = _geometry()
        self.family = family
        self.family_cls = geometry.get_family(family)
        default_spec = geometry.make_spec(family, {})
        groups = default_spec.param_groups()
        self.widgets: dict[str, pn.widgets.Widget] = {}
        self.errors: dict[str, pn.pane.HTML] = {}
        cards = []
        for group, names in groups.items():
            items = []
            for name in names:
                p = default_spec.param[name]
                widget = widget_for(name, p, getattr(default_spec, name))
                error = pn.pane.HTML("", css_classes=["somana-error", f"error-{name}"], visible=False, margin=0,
                                     stylesheets=[CSS], sizing_mode="stretch_width")
                widget.param.watch(self._changed, "value")
                self.widgets[name], self.errors[name] = widget, error
                items.extend([widget, error])
            cards.append(pn.Card(*items, title=group, collapsible=True, sizing_mode="stretch_width",
                                 margin=(4, 0)))
        self.values = {name: w.value for name, w in self.widgets.items()}
        self._layout = pn.Column(*cards, sizing_mode="stretch_width")

    def _changed(self, event):
        self.values = {name: w.value for name, w in self.widgets.items()}

    def show_error(self, field: str | None, message: str | None) -> None:
        for name, pane in self.errors.items():
            on = bool(message) and name == field
            pane.object = message if on else ""
            pane.visible = on

    def __panel__(self):
        return self._layout


# ---------------------------------------------------------------------------- the app

class Configurator(pn.viewable.Viewer):
    """State of one person's configuration: family, parameters, quantity, material -> part, quote, order."""

    family = param.Selector(doc="product family")
    qty = param.Integer(default=1, bounds=(1, None), doc="how many to make")
    material = param.Selector(doc="print material")
    customer = param.String(default="", doc="who the order is for")
    status = param.String(default="", doc="what the configurator is doing, or the last problem")
    quote_html = param.String(default="")
    order_number = param.String(default="", doc="the last order placed in this session")
    valid = param.Boolean(default=True, doc="the current parameters make a part")

    def __init__(self, pool: workers.Workers | None = None, build_timeout_s: float = BUILD_TIMEOUT_S, **params):
        geometry = _geometry()
        offered = {**geometry.FAMILIES, **geometry.FITTED}  # FITTED: made from the customer's own board
        families = list(offered)
        self.param.family.objects = families
        self.family_titles = {(cls.title or name): name for name, cls in offered.items()}
        materials = _materials()
        self.param.material.objects = materials
        params.setdefault("family", families[0])
        params.setdefault("material", materials[0])
        super().__init__(**params)
        self.pool = pool or workers.connect()  # `somana serve` connected it (local cluster or --workers URL)
        self.builds = workers.LatestWins(self.pool, timeout_s=build_timeout_s)
        self.tickets = preview.PreviewTickets()
        self.queue_s = _queued_print_time_s()  # the lead time counts the print queue ahead of this order
        self.viewer = MeshViewer(height=460, sizing_mode="stretch_width")
        self.spec = None          # the last valid spec (validated here; built in a worker)
        self.quote = None         # its quote (with the current qty and material)
        self._controls_area = pn.Column(sizing_mode="stretch_width")
        self._controls: SpecControls | None = None
        self._fit_next = True
        self._shown_key = None    # (family, values) of the part in the 3D view
        if _served():
            pn.state.on_session_destroyed(lambda context: self.builds.supersede())  # a closed tab builds nothing
        self._build_controls()

    # -- reacting to the person

    def _build_controls(self):
        self._controls = SpecControls(self.family)
        self._controls.param.watch(lambda e: self._schedule(), "values")
        self._controls_area.objects = [self._controls]
        if self.family in _geometry().FITTED:  # the board upload fills the form's board and openings
            from dashboards.components.board_intake import BoardIntake

            self.board_intake = BoardIntake(self._controls.widgets)
            self._controls_area.objects = [self.board_intake, self._controls]
        self._fit_next = True
        self._schedule()

    @param.depends("family", watch=True)
    def _family_changed(self):
        self._build_controls()

    @param.depends("qty", "material", watch=True)
    def _pricing_changed(self):
        self._schedule()  # the part is cached: only the quote changes (the view is kept, see refresh)

    def _schedule(self):
        ticket = self.tickets.take()
        self.viewer.busy = True
        self.status = "updating…"

        async def job():
            await self.refresh(ticket)

        if _served():
            # On the server's event loop; the work itself runs in a worker process. Not before the
            # session is loaded: Panel 1.9.4 drops a JSComponent's changes made after the browser has
            # pulled the document but before the session counts as connected (panel.io.document
            # `_drain_unconnected_events`), which lost the first 3D view of 1 page in 10 under load.
            if pn.state.loaded:
                pn.state.execute(job)
            else:
                pn.state.onload(job)
            return
        try:
            asyncio.get_running_loop().create_task(job())  # a notebook's loop
        except RuntimeError:
            asyncio.run(job())  # a plain script or a test: run to completion

    async def refresh(self, ticket: int):
        """Validate here, quote in a worker, then the preview on the same worker: the quote shows as
        soon as it is known. Only the newest request may change what is shown; a part already on
        screen is not sent again."""
        if not self.tickets.is_current(ticket):
            return
        values = dict(self._controls.values)
        family, qty, material = self.family, self.qty, self.material
        try:
            spec = _geometry().make_spec(family, values)
        except InputError as exc:
            await self._fail(ticket, exc.message, field=exc.field)
            return
        values = spec.values()
        shown_key = (family, tuple(sorted((k, repr(v)) for k, v in values.items())))
        try:
            quoted = await self.builds.run("quote", family=family, values=values, qty=qty, material=material,
                                           queue_s=self.queue_s)
            quote = quoted["quote"]
            if not self.tickets.is_current(ticket):
                return
            await self._apply(ticket, lambda: self._show_quote(ticket, spec, quote, qty, material))
            if shown_key == self._shown_key:  # quantity or material only: the part on screen is this one
                await self._apply(ticket, lambda: self._show_part(ticket, None, shown_key))
                return
            payload = await self.builds.run("preview", follow_up=True, worker=quoted["worker"], family=family,
                                            values=values, deflection_mm=PREVIEW_DEFLECTION_MM, revision=ticket,
                                            fit=self._fit_next)
        except workers.Superseded:
            return  # a newer change took over (its own refresh shows the result)
        except InputError as exc:
            await self._fail(ticket, exc.message, field=exc.field)
            return
        except workers.JobTimedOut:
            await self._fail(ticket, f"building this part took longer than {self.builds.timeout_s:g} s")
            return
        except Exception as exc:  # noqa: BLE001 - the kernel or a worker failed: keep the last part, say why
            await self._fail(ticket, f"this part could not be built: {exc}")
            return
        await self._apply(ticket, lambda: self._show_part(ticket, payload, shown_key))
        if _served():
            await self._until_drawn(ticket, payload)

    async def _apply(self, ticket: int, update) -> None:
        """Run `update` (it sets parameters of this view) only if `ticket` is still the newest request."""
        if self.tickets.is_current(ticket):
            update()

    async def _until_drawn(self, ticket: int, payload: dict) -> None:
        """The one workaround, for a lost update in Panel 1.9.4 (its own writes to the websocket,
        panel.io.document.unlocked): now and then a patch is left in Panel's retry queue and reaches
        the browser only with the next update, so a page kept "updating…" and the previous part (the
        first view of a page opening under load: 1 in 10 here). The browser reports each mesh it draws
        (`drawn_revision`); until it reports this one, the mesh is sent again every RESEND_AFTER_S,
        which also flushes the stuck patch. tests/ui/test_configure.py opens pages and changes values
        under load and needs every last view to arrive."""
        for _ in range(RESEND_ATTEMPTS):
            await asyncio.sleep(RESEND_AFTER_S)
            if self.tickets.shown != ticket or self.viewer.drawn_revision == ticket:
                return
            self.viewer.param.update(payload=dict(payload, resent=True), busy=False)  # a new dict, or nothing is sent

    def _show_quote(self, ticket: int, spec, quote, qty: int, material: str):
        self._controls.show_error(None, None)
        self.spec, self.quote = spec, quote
        self.valid = True
        self.quote_html = _quote_table(quote, qty, material, revision=ticket)

    def _show_part(self, ticket: int, payload: dict | None, shown_key):
        if not self.tickets.accept(ticket):
            return
        if payload is not None:
            self._fit_next = False
            self._shown_key = shown_key
            self.viewer.param.update(payload=payload, busy=False, note="")
        else:
            self.viewer.param.update(busy=False, note="")
        self.param.update(valid=True, status="")

    async def _fail(self, ticket: int, message: str, field: str | None = None):
        def update():
            self.tickets.reject(ticket)
            self._controls.show_error(field, message if field else None)
            self.valid = False
            self.viewer.param.update(busy=False, note=STALE_NOTE if self._shown_key else "")
            self.status = f"Not updated: {message}"

        await self._apply(ticket, update)

    # -- order and files

    def place_order(self, event=None):
        if not self.valid or self.spec is None or self.quote is None:
            self.status = "Fix the highlighted value before placing the order."
            return None
        if self.tickets.busy:  # the shown quote is about to change: order what the person will see
            self.status = "Still updating the part: place the order once the quote has refreshed."
            return None
        try:
            files = {f"{self.family}.{suffix}": self._export(suffix) for suffix in ("stl", "step")}
            order = fulfilment.store_order(_order_store(), self.family, self.spec_values(), self.customer,
                                           self.quote.to_dict(), files, qty=self.qty, material=self.material)
        except InputError as exc:
            self.status = exc.message
            return None
        self.order_number = order.number
        self.queue_s = _queued_print_time_s()
        self.status = ""
        return order

    def spec_values(self) -> dict:
        return self.spec.values()

    def _export(self, suffix: str) -> bytes:
        """The shown part's file, made by a worker (this runs in a server thread, never on the event loop)."""
        future = self.pool.submit("export", priority=workers.PRIORITY_INTERACTIVE, family=self.spec.family,
                                  values=self.spec_values(), suffix=suffix)
        return future.result(timeout=self.builds.timeout_s)

    def export_bytes(self, suffix: str) -> io.BytesIO:
        return io.BytesIO(self._export(suffix))

    # -- the page

    def __panel__(self):
        family = pn.widgets.Select.from_param(self.param.family, name="Product family", options=self.family_titles,
                                              sizing_mode="stretch_width")
        qty = pn.widgets.IntInput.from_param(self.param.qty, name="Quantity", sizing_mode="stretch_width",
                                             css_classes=["order-qty"])
        material = pn.widgets.Select.from_param(self.param.material, name="Material", sizing_mode="stretch_width",
                                                css_classes=["order-material"])
        customer = pn.widgets.TextInput.from_param(self.param.customer, name="Customer",
                                                   placeholder="name or company", sizing_mode="stretch_width",
                                                   css_classes=["order-customer"])
        place = pn.widgets.Button(name="Place order", button_type="primary", sizing_mode="stretch_width",
                                  css_classes=["order-place"])
        place.on_click(self.place_order)
        stl = pn.widgets.FileDownload(callback=lambda: self.export_bytes("stl"), filename="part.stl",
                                      label="Download STL", sizing_mode="stretch_width")
        step = pn.widgets.FileDownload(callback=lambda: self.export_bytes("step"), filename="part.step",
                                       label="Download STEP", sizing_mode="stretch_width")

        @param.depends(self.param.family, watch=True)
        def _names(_=None):
            stl.filename, step.filename = f"{self.family}.stl", f"{self.family}.step"
        _names()

        quote = pn.pane.HTML(self.param.quote_html, sizing_mode="stretch_width", stylesheets=[CSS])  # .somana-quote

        def _quote_css(valid):
            return ["somana-quote"] if valid else ["somana-quote", "stale"]
        quote.css_classes = _quote_css(self.valid)
        self.param.watch(lambda e: setattr(quote, "css_classes", _quote_css(e.new)), "valid")
        status = pn.pane.Markdown(self.param.status, css_classes=["somana-status"], sizing_mode="stretch_width")
        number = pn.pane.Markdown(pn.bind(lambda n: f"**Order placed: {n}**" if n else "", self.param.order_number),
                                  css_classes=["somana-order-number"], sizing_mode="stretch_width")
        # the controls scroll on their own so the 3D view and the quote stay in sight
        left = pn.Column("### The part", family, self._controls_area, width=340, height=860, scroll=True,
                         margin=(10, 10))
        middle = pn.Column(self.viewer, status, sizing_mode="stretch_width", margin=(10, 10))
        right = pn.Column("### Quote", qty, material, quote, customer, place, number, stl, step,
                          width=360, margin=(10, 10))
        return pn.Row(left, middle, right, sizing_mode="stretch_width")


# ---------------------------------------------------------------------------- core calls

def _served() -> bool:
    """True inside a served session (a browser on the other end), False in a notebook or a test."""
    return bool(pn.state.curdoc is not None and pn.state.curdoc.session_context)


def _order_store():
    from somana_core.orders import shared_store
    return shared_store()  # one per process; `somana serve --db` chose its database


def _queued_print_time_s() -> float:
    return _order_store().queued_print_time_s()


def _materials() -> list[str]:
    from somana_core.catalogue import material_ids
    return material_ids()


def _money(value: float) -> str:
    return f"{value:,.2f}"


def _quote_table(quote, qty: int, material: str, revision: int = 0) -> str:
    """The itemised quote; `data-revision` names the change it answers, as the 3D view's does."""
    data = quote.customer_view()  # customers see prices, never the cost lines or internal notes
    if data["unit_price"] is None:  # outside the family's band: a founder approves the price first
        return (f"<div class='somana-quote-body'><p class='flags' data-unit-price data-awaiting-approval>"
                f"{data['message']}</p><p>Lead time: <b data-lead-time>{data['lead_time_days']}</b> working days</p>"
                "</div>")
    rows = "".join(
        f"<tr><td title='{line['formula']}'>{line['name'].replace('_', ' ').capitalize()}</td><td class='num'>{_money(line['amount_usd'])}</td></tr>"
        for line in data.get("lines", []))
    flags = "".join(f"<li>{flag}</li>" for flag in data.get("flags", []))
    currency = "USD"
    breaks = ", ".join(f"{b['qty']}: {_money(b['unit_price'])}" for b in data.get("breaks", []))
    return (f"<div class='somana-quote-body' data-revision='{revision}'><table>"
            f"<tr><th>per unit, {material}</th><th class='num'>{currency}</th></tr>{rows}"
            f"<tr class='total'><td>unit price</td><td class='num' data-unit-price>{_money(data['unit_price'])}</td></tr>"
            f"<tr class='total'><td>total for {qty}</td><td class='num' data-total>{_money(data['total_price'])}</td></tr>"
            f"</table><p>Lead time: <b data-lead-time>{data['lead_time_days']}</b> working days</p>"
            + (f"<p class='breaks'>Unit price by quantity: {breaks}</p>" if breaks else "")
            + (f"<ul class='flags'>{flags}</ul>" if flags else "") + "</div>")


def create_app():
    pn.extension(notifications=False)
    return page(Configurator(), current="/configure")


if pn.state.served:
    create_app().servable()
