"""/configure: the order configurator. Pick a family, set the customer's parameters, see the real part
in 3D and its itemised quote update on every change, download STL/STEP, place the order.

Only view code: the spec (somana_core.geometry) validates and builds, the quote module prices,
the order store keeps the order, somana_core.preview encodes meshes and orders rebuilds.
Slow work (CadQuery build, tessellation) runs in the core's geometry worker thread from async
callbacks, so the server's event loop never waits on it; the view shows a busy indicator and
keeps the last good part on screen meanwhile.
"""

from __future__ import annotations

import asyncio
import io
import tempfile
from pathlib import Path

import panel as pn
import param

from dashboards.theme import page
from dashboards.viewer import MeshViewer
from somana_core import preview
from somana_core.errors import InputError

# A change waits this long before its rebuild starts. Not for debouncing (a burst of spinner clicks
# costs at most the one build already running: a build that has become stale is skipped in the
# worker) but because of a race in Panel 1.9.4: with 0 s, the refresh's updates, written from this
# task, raced Bokeh's own send of the change callback's updates (busy, status) and the browser
# sometimes never got the new mesh (the benchmark lost one view in ~1 of 2 runs of 22 changes;
# with 20 ms, none in 7 runs).
DEBOUNCE_S = 0.02
RESEND_AFTER_S = 1.0
# Panel holds every property change coming from the browser for 50 ms (Syncable._debounce) before
# processing it; that was most of a revisited value's 90 ms. Our inputs send on Enter, blur or a
# spinner click, never per keystroke, so they are processed at once.
WIDGET_DEBOUNCE_MS = 0


def immediate(widget):
    """The widget's changes reach Python without Panel's 50 ms hold (see WIDGET_DEBOUNCE_MS)."""
    widget._debounce = WIDGET_DEBOUNCE_MS
    return widget
PREVIEW_DEFLECTION_MM = preview.PREVIEW_DEFLECTION_MM

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


def _quote_module():
    from somana_core import quote
    return quote


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
        return immediate(pn.widgets.Checkbox(value=bool(value), **common))
    if isinstance(p, param.Color):
        return immediate(pn.widgets.ColorPicker(value=value, **common))
    if isinstance(p, param.Selector):
        return immediate(pn.widgets.Select(options=list(p.objects), value=value, **common))
    if isinstance(p, param.Integer):
        return immediate(pn.widgets.IntInput(value=value, step=int(getattr(p, "step", None) or 1), **common))
    if isinstance(p, param.Number):
        return immediate(pn.widgets.FloatInput(value=value, step=getattr(p, "step", None) or 0.1, **common))
    return immediate(pn.widgets.TextInput(value="" if value is None else str(value), **common))


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

    def __init__(self, **params):
        geometry = _geometry()
        families = list(geometry.FAMILIES)
        self.param.family.objects = families
        self.family_titles = {(cls.title or name): name for name, cls in geometry.FAMILIES.items()}
        materials = _materials()
        self.param.material.objects = materials
        params.setdefault("family", families[0])
        params.setdefault("material", materials[0])
        super().__init__(**params)
        self.tickets = preview.PreviewTickets()
        self.queue_s = _queued_print_time_s()  # the lead time counts the print queue ahead of this order
        self._metrics = preview.MetricsMemo()  # a person going back to a value gets its quote at once
        self.viewer = MeshViewer(height=460, sizing_mode="stretch_width")
        self.spec = None          # the last valid spec
        self.product = None       # its built product
        self.quote = None         # its quote (with the current qty and material)
        self._controls_area = pn.Column(sizing_mode="stretch_width")
        self._controls: SpecControls | None = None
        self._fit_next = True
        self._shown_key = None    # (family, values) of the part in the 3D view
        self._build_controls()

    # -- reacting to the person

    def _build_controls(self):
        self._controls = SpecControls(self.family)
        self._controls.param.watch(lambda e: self._schedule(), "values")
        self._controls_area.objects = [self._controls]
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

        if pn.state.curdoc is not None and pn.state.curdoc.session_context:
            pn.state.execute(job)  # on the server's event loop; the build itself runs in the worker
            return
        try:
            asyncio.get_running_loop().create_task(job())  # a notebook's loop
        except RuntimeError:
            asyncio.run(job())  # a plain script or a test: run to completion

    async def refresh(self, ticket: int):
        """Validate, build, quote, then tessellate: the quote shows as soon as it is known. Only the
        newest request may change what is shown; a part already on screen is not sent again."""
        await asyncio.sleep(DEBOUNCE_S)
        if not self.tickets.is_current(ticket):
            return
        values = dict(self._controls.values)
        family, qty, material = self.family, self.qty, self.material
        try:
            spec = _geometry().make_spec(family, values)
        except InputError as exc:
            self._controls.show_error(exc.field, exc.message)
            self._fail(ticket, exc.message)
            return
        self._controls.show_error(None, None)
        try:
            built = await preview.run_in_geometry_worker(_build_and_quote, spec, qty, material, self.queue_s,
                                                         self._metrics, lambda: self.tickets.is_current(ticket))
        except InputError as exc:
            self._controls.show_error(exc.field, exc.message)
            self._fail(ticket, exc.message)
            return
        except Exception as exc:  # noqa: BLE001 - the kernel refused: keep the last good part, say why
            self._fail(ticket, f"this part could not be built: {exc}")
            return
        if built is None or not self.tickets.is_current(ticket):
            return  # a newer change took over (its own refresh shows the result)
        product, quote = built
        self.spec, self.product, self.quote = spec, product, quote
        self.valid = True
        self.quote_html = _quote_table(quote, qty, material)
        shown_key = (family, tuple(sorted((k, repr(v)) for k, v in spec.values().items())))
        if shown_key == self._shown_key:  # quantity or material only: the part on screen is this one
            self.tickets.accept(ticket)
            self._done()
            return
        fit = self._fit_next
        meshes = await preview.run_in_geometry_worker(_preview_if_wanted, product,
                                                      lambda: self.tickets.is_current(ticket))
        if meshes is None:
            return
        payload = preview.mesh_payload(meshes, revision=ticket, fit=fit)
        if not self.tickets.accept(ticket):
            return
        self._fit_next = False
        self._shown_key = shown_key
        self.viewer.payload = payload
        self._done()
        if pn.state.curdoc is not None and pn.state.curdoc.session_context:
            asyncio.get_running_loop().create_task(self._resend_if_not_drawn(ticket, payload))

    async def _resend_if_not_drawn(self, ticket: int, payload: dict):
        """Safety net for the race described at DEBOUNCE_S: if the browser has not reported drawing
        this mesh after RESEND_AFTER_S (its `drawn_revision`), send it again, once."""
        await asyncio.sleep(RESEND_AFTER_S)
        if self.tickets.shown == ticket and self.viewer.drawn_revision != ticket:
            self.viewer.payload = dict(payload, resent=True)  # a different dict, or param sends nothing

    def _fail(self, ticket: int, message: str):
        if not self.tickets.is_current(ticket):
            return
        self.tickets.reject(ticket)
        self.valid = False
        self.viewer.busy = False
        self.status = f"Not updated: {message}"

    def _done(self):
        self.viewer.busy = False
        self.valid = True
        self.status = ""

    # -- order and files

    def place_order(self, event=None):
        if not self.valid or self.product is None or self.quote is None:
            self.status = "Fix the highlighted value before placing the order."
            return None
        if self.tickets.busy:  # the shown quote is about to change: order what the person will see
            self.status = "Still updating the part: place the order once the quote has refreshed."
            return None
        try:
            with tempfile.TemporaryDirectory() as tmp:
                files = {}
                for suffix in ("stl", "step"):
                    path = Path(tmp) / f"{self.family}.{suffix}"
                    self.product.export(path)
                    files[path.name] = path.read_bytes()
                order = _order_store().place(customer=self.customer, family=self.family,
                                             parameters=self.spec_values(), quote=self.quote.to_dict(),
                                             files=files, material=self.material, qty=self.qty)
        except InputError as exc:
            self.status = exc.message
            return None
        self.order_number = order.number
        self.queue_s = _queued_print_time_s()
        self.status = ""
        return order

    def spec_values(self) -> dict:
        return self.spec.values()

    def export_bytes(self, suffix: str) -> io.BytesIO:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"part.{suffix}"
            self.product.export(path)
            return io.BytesIO(path.read_bytes())

    # -- the page

    def __panel__(self):
        family = pn.widgets.Select.from_param(self.param.family, name="Product family", options=self.family_titles,
                                              sizing_mode="stretch_width")
        qty = immediate(pn.widgets.IntInput.from_param(self.param.qty, name="Quantity", sizing_mode="stretch_width",
                                                       css_classes=["order-qty"]))
        material = immediate(pn.widgets.Select.from_param(self.param.material, name="Material",
                                                          sizing_mode="stretch_width", css_classes=["order-material"]))
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

def _order_store():
    from somana_core.orders import shared_store
    return shared_store()  # one per process; `somana serve --db` chose its database


def _queued_print_time_s() -> float:
    return _order_store().queued_print_time_s()


def _materials() -> list[str]:
    from somana_core.catalogue import material_ids
    return material_ids()


def _build_and_quote(spec, qty: int, material: str, queue_s: float, memo: preview.MetricsMemo, wanted=lambda: True):
    """Build (cached per part), measure and quote; None when a newer change made this one stale
    while it waited for the geometry worker."""
    if not wanted():
        return None
    product = _geometry().build(spec)
    metrics = memo.get(spec, material, product.metrics)
    quote = _quote_module().quote_product(metrics, spec.family, qty=qty, material=material, queue=queue_s,
                                          machine=getattr(spec, "machine", None))
    return product, quote


def _preview_if_wanted(product, wanted):
    return product.preview(PREVIEW_DEFLECTION_MM) if wanted() else None


def _money(value: float) -> str:
    return f"{value:,.2f}"


def _quote_table(quote, qty: int, material: str) -> str:
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
    return (f"<div class='somana-quote-body'><table>"
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
