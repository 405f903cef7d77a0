"""/configure: the order configurator. Pick a family, set the customer's parameters, see the real part
in 3D and its itemised quote update on every change, download STL/STEP, place the order.

Only view code: the spec (somana_core.geometry) validates, the worker pool (somana_core.workers)
builds, quotes, tessellates and exports in other processes, the order store keeps the order.
A change is validated here at once (no CadQuery in this process); then the session's quote job
and, on the same worker, its preview job run while the page shows a busy indicator. Only a
session's newest change counts (somana_core.workers.LatestWins cancels the older job).

Placing an order is idempotent: the browser makes a new key for every press of "Place order"
(disabling the button at once) and writes it into the page's address (`?order=KEY`) before the
server hears of it; the store keeps one order per key. A page opened or reloaded with that address
asks the store for the key's order and shows it instead of placing again: the address is also the
link the customer keeps to see the order's state.
"""

from __future__ import annotations

import asyncio
import html
import io
import re
from datetime import date

import panel as pn
import param

from dashboards import panel_fixes
from dashboards.components.checked_inputs import IntInputAsSent, SelectAsSent
from dashboards.theme import PHONE_READY_TEMPLATE, page
from dashboards.viewer import MeshViewer
from somana_core import fulfilment, labels, preview, workers
from somana_core.errors import InputError

panel_fixes.apply()  # Panel 1.9.4 lost meshes sent while a page opened or a large write was going
PREVIEW_DEFLECTION_MM = preview.PREVIEW_DEFLECTION_MM
BUILD_TIMEOUT_S = workers.DEFAULT_TIMEOUT_S
STALE_NOTE = "Last part that could be built: this change is not shown"
ORDER_QUERY = "order"  # /configure?order=KEY: the order placed with idempotency key KEY
ORDER_STATUS_ROUTE, ORDER_STATUS_QUERY = "/order", "key"  # the status page the confirmation links to
PHONE_MAX_PX = 600     # up to this page width one column: the 3D view, the fields, then the quote
TABLET_MAX_PX = 1099   # up to this width (a portrait tablet): the 3D view and the quote side by side, fields below

CSS = """
:host(.somana-error) { color: #b3261e; font-size: 12px; margin: 0 10px 6px 10px; }
.somana-quote table { border-collapse: collapse; width: 100%; font-size: 13px; }
.somana-quote td, .somana-quote th { padding: 3px 6px; border-bottom: 1px solid #e2e6e8; text-align: left; }
.somana-quote td.num, .somana-quote th.num { text-align: right; font-variant-numeric: tabular-nums; }
.somana-quote .total td { font-weight: 700; border-top: 2px solid #1f2a30; }
.somana-quote .flags { color: #8a5a00; }
:host(.stale) { opacity: .55; }
:host(.somana-range) { color: #5d6b73; font-size: 12px; margin: -4px 10px 4px 10px; }
.somana-summary { border: 1px solid #b9d7c9; background: #f1f8f4; border-radius: 6px; padding: 8px 12px;
                  font-size: 13px; }
.somana-summary h4 { margin: 0 0 6px 0; font-size: 15px; }
.somana-summary dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 0 0 6px 0; }
.somana-summary dt { color: #5d6b73; }
.somana-summary dd { margin: 0; overflow-wrap: anywhere; }
.somana-summary a { overflow-wrap: anywhere; }
.somana-fit { margin: 0 0 4px 0; font-size: 12px; line-height: 1.35; color: #2e6b4f; }
.somana-fit.warn { color: #6b4500; background: #fff8e6; border: 1px solid #d9b25c; border-radius: 4px;
                   padding: 5px 8px; font-size: 13px; }
"""

# The three columns side by side on a desktop (the 3D view and the quote stay in sight while the
# controls scroll with the page). On a tablet (820 px portrait) three columns leave the quote 2,500 px
# down: there the 3D view and the quote share the first row and the fields follow at full width, so the
# price and "Place order" are on the first screen. On a phone one column: the 3D view, the fields, the
# quote. Widths come from each column's flex basis (inline styles, hence !important below).
LAYOUT_CSS = """
@media (min-width: %(wide)dpx) { .cfg-view, .cfg-order { position: sticky; top: 0; } }
@media (max-width: %(tablet)dpx) {
  .cfg-view { order: -2; }
  .cfg-order { order: -1; }
  .cfg-controls { order: 0; flex: 1 1 100%% !important; max-width: none !important; }
}
@media (max-width: %(phone)dpx) { .cfg-order { order: 1; } }
""" % {"phone": PHONE_MAX_PX, "tablet": TABLET_MAX_PX, "wide": TABLET_MAX_PX + 1}

# The one-line price under the 3D view: only on a phone (elsewhere the quote itself is in sight)
PRICE_LINE_CSS = """
:host(.cfg-price-line) { display: none !important; }
@media (max-width: %(phone)dpx) { :host(.cfg-price-line) { display: block !important; } }
:host(.stale) { opacity: .55; }
.somana-price-line { margin: 0; font-size: 14px; line-height: 1.35; }
.somana-price-line span { color: #5d6b73; font-size: 12px; }
""" % {"phone": PHONE_MAX_PX}

# The 3D view: 460 px tall beside the columns of a desktop; stacked on a phone it takes a height tied to
# the screen's width (a 390 px phone: 312 px, the part framed whole by the viewer on every resize), so
# the fields start within the first screen instead of under a 460 px view. The !important beats the
# height and flex basis Bokeh writes for the element (its column is a flexbox: the basis sets the height)
# and the height Panel writes on the component's own box inside it (`.mesh-viewer`).
VIEW_HEIGHT_PX = 460
VIEW_PHONE_HEIGHT = "clamp(240px, 80vw, %dpx)" % VIEW_HEIGHT_PX
VIEW_CSS = ("@media (max-width: %(phone)dpx) { :host { height: %(h)s !important; flex: 0 0 %(h)s !important; "
            "min-height: 240px !important; } .mesh-viewer { height: 100%% !important; min-height: 240px !important; } }"
            % {"phone": PHONE_MAX_PX, "h": VIEW_PHONE_HEIGHT})



def _geometry():
    from somana_core import geometry
    return geometry


# ---------------------------------------------------------------------------- controls from the spec

def _label(name: str, p: param.Parameter) -> str:
    """The spec's label; it carries the unit (the range each field can take is shown beside it)."""
    return p.label or labels.tidy(name).capitalize()


def _option_label(name: str, value) -> str:
    """A choice as a customer reads it: a catalogue id by its name from `data/`, else tidy words."""
    if isinstance(value, str):
        return labels.id_name(name, value) if name in ("board", "battery", "machine", "material") \
            else labels.tidy(value).capitalize()
    return str(value)


def range_text(name: str, p: param.Parameter, allowed: dict | None) -> str:
    """What a field can be given the others (somana_core.geometry.field_ranges), in the form's words."""
    from somana_core.geometry.spec import unit_of

    unit = unit_of(p)
    unit = "" if unit in ("count", "-") else unit
    if allowed is None:
        return "no value works with the other settings as they are"
    if "min" in allowed:
        return f"can be {allowed['min']:g} to {allowed['max']:g}{' ' + unit if unit else ''}"
    if isinstance(p, param.Boolean):
        return ""  # a yes/no switch: its message says when one side does not fit
    if len(allowed["choices"]) == len(getattr(p, "objects", []) or []):
        return ""
    return "fits: " + ", ".join(_option_label(name, c) for c in allowed["choices"])


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
        return SelectAsSent(options={_option_label(name, v): v for v in p.objects}, value=value, **common)
    if isinstance(p, param.Integer):  # (the AsSent inputs pass a bad value from the browser on to the spec's check)
        return IntInputAsSent(value=value, step=int(getattr(p, "step", None) or 1), bounds=p.bounds, **common)
    if isinstance(p, param.Number):
        return pn.widgets.FloatInput(value=value, step=getattr(p, "step", None) or 0.1, **common)
    return pn.widgets.TextInput(value="" if value is None else str(value), **common)


def error_line(name: str) -> pn.pane.HTML:
    """The message line under one input (hidden while the input is fine)."""
    return pn.pane.HTML("", css_classes=["somana-error", f"error-{name}"], visible=False, margin=0,
                        stylesheets=[CSS], sizing_mode="stretch_width")


class SpecControls(pn.viewable.Viewer):
    """The inputs for one family, grouped as the spec groups them, each with its range and error line."""

    values = param.Dict(default={}, doc="parameter name -> value as the person set it")
    changed = param.String(default=None, allow_None=True, doc="the field the person changed last")

    def __init__(self, family: str, **params):
        super().__init__(**params)
        geometry = _geometry()
        self.family = family
        self.family_cls = geometry.get_family(family)
        default_spec = geometry.make_spec(family, {})
        groups = default_spec.param_groups()
        self.widgets: dict[str, pn.widgets.Widget] = {}
        self.errors: dict[str, pn.pane.HTML] = {}
        self.ranges: dict[str, pn.pane.HTML] = {}
        cards = []
        for group, names in groups.items():
            items = []
            for name in names:
                p = default_spec.param[name]
                widget = widget_for(name, p, getattr(default_spec, name))
                error = error_line(name)
                shown_range = pn.pane.HTML("", css_classes=["somana-range", f"range-{name}"], margin=0,
                                           stylesheets=[CSS], sizing_mode="stretch_width", visible=False)
                widget.param.watch(lambda event, name=name: self._changed(name), "value")
                self.widgets[name], self.errors[name], self.ranges[name] = widget, error, shown_range
                items.extend([widget, shown_range, error])
            cards.append(pn.Card(*items, title=group, collapsible=True, sizing_mode="stretch_width",
                                 margin=(4, 0)))
        self.values = {name: w.value for name, w in self.widgets.items()}
        self._layout = pn.Column(*cards, sizing_mode="stretch_width")

    def _changed(self, name: str):
        self.changed = name
        self.values = {name: w.value for name, w in self.widgets.items()}

    def show_error(self, field: str | None, message: str | None, worded: bool = False) -> None:
        """`message` beside `field` (the spec's message in the form's labels; `worded`: already in them)."""
        for name, pane in self.errors.items():
            on = bool(message) and name == field
            text = (message if worded else labels.human_message(self.family_cls, message)) if on else ""
            pane.object = html.escape(text)
            pane.visible = on

    def refusal(self) -> tuple[str, str] | None:
        """(field, message) of the first value the browser sent that its own input refuses (a choice not
        in its list, a number that is not whole: only a modified page sends those)."""
        for name, widget in self.widgets.items():
            message = widget.refusal(widget.value) if hasattr(widget, "refusal") else None
            if message:
                return name, message
        return None

    def show_ranges(self, ranges: dict) -> None:
        """Beside each field, the values it can take with the others as they are now."""
        for name, pane in self.ranges.items():
            if name not in ranges:
                continue
            text = range_text(name, self.family_cls.param[name], ranges[name])
            pane.object = html.escape(text)
            pane.visible = bool(text)

    def __panel__(self):
        return self._layout


# ---------------------------------------------------------------------------- the place-order button

PLACE_BUTTON_ESM = """
// A new idempotency key per press, made in the browser so that it outlives the server's reply.
function newKey() {
  const bytes = new Uint8Array(16)
  crypto.getRandomValues(bytes)  // available over plain http too (randomUUID needs a secure context)
  return "po-" + Array.from(bytes, b => b.toString(16).padStart(2, "0")).join("")
}
function setAddressKey(key) {
  const url = new URL(window.location.href)
  if (key) url.searchParams.set("%(query)s", key); else url.searchParams.delete("%(query)s")
  window.history.replaceState(window.history.state, "", url)
}
function repeatQuestion(number) {
  return "This is the same as order " + number + ", placed from this page a moment ago: place it again?"
}
export function render({ model, el }) {
  const button = document.createElement("button")
  button.type = "button"
  button.className = "somana-place"
  // a repeat of the order just placed asks first (a second press after the reply is not a second order)
  const ask = document.createElement("div")
  ask.className = "somana-repeat"
  ask.setAttribute("role", "alertdialog")
  const question = document.createElement("p")
  const yes = document.createElement("button")
  yes.type = "button"
  yes.className = "somana-repeat-yes"
  yes.textContent = "Yes, place it again"
  const no = document.createElement("button")
  no.type = "button"
  no.className = "somana-repeat-no"
  no.textContent = "No"
  ask.append(question, yes, no)
  let asking = false
  const show = () => {
    asking = asking && !!model.repeat_of && !model.placing
    button.disabled = model.placing
    button.hidden = asking
    button.textContent = model.placing ? "Placing order…" : model.label
    button.setAttribute("aria-busy", model.placing ? "true" : "false")
    button.classList.toggle("is-placing", model.placing)
    ask.hidden = !asking
    question.textContent = repeatQuestion(model.repeat_of)
  }
  const place = (confirmedRepeatOf) => {
    button.disabled = true  // at once: the second click of a double click meets a disabled button
    const key = newKey()
    setAddressKey(key)      // a reload now finds this placement's order, whatever the reply did
    model.repeat_confirmed = confirmedRepeatOf
    model.placing = true
    model.link_key = key
    model.key = key
    show()
  }
  button.addEventListener("click", () => {
    if (button.disabled) return
    if (model.repeat_of) { asking = true; show(); yes.focus(); return }
    place("")
  })
  yes.addEventListener("click", () => {
    if (!asking) return
    const number = model.repeat_of
    asking = false
    place(number)
  })
  no.addEventListener("click", () => { asking = false; show(); button.focus() })
  model.on("placing", show)
  model.on("label", show)
  model.on("repeat_of", show)
  model.on("link_key", () => setAddressKey(model.link_key))
  show()
  el.append(button, ask)
}
""" % {"query": ORDER_QUERY}

PLACE_BUTTON_CSS = """
:host { display: block; }
.somana-place { width: 100%; min-height: 40px; border: 0; border-radius: 4px; cursor: pointer;
  background: #0072b5; color: #fff; font: 600 14px system-ui, sans-serif; padding: 8px 12px; }
.somana-place:hover { background: #005f96; }
.somana-place:disabled { background: #7a9fb8; cursor: progress; }
.somana-place[hidden], .somana-repeat[hidden] { display: none; }
.somana-repeat { border: 1px solid #d9b25c; background: #fff8e6; border-radius: 4px; padding: 8px 10px;
  font: 14px system-ui, sans-serif; }
.somana-repeat p { margin: 0 0 8px 0; }
.somana-repeat button { min-height: 36px; border-radius: 4px; padding: 6px 12px; margin-right: 8px; cursor: pointer;
  font: 600 14px system-ui, sans-serif; }
.somana-repeat-yes { border: 0; background: #0072b5; color: #fff; }
.somana-repeat-no { border: 1px solid #7a8a93; background: #fff; color: #1f2a30; }
"""


class PlaceOrderButton(pn.custom.JSComponent):
    """"Place order": the browser sends a fresh idempotency key (`key`) per press and keeps the
    order's key in the page address (`link_key`, the server's answer: the placed order's key, or
    empty when nothing was placed). A press that would repeat the order just placed (`repeat_of`)
    asks first and sends the confirmed number (`repeat_confirmed`) with its key."""

    label = param.String(default="Place order")
    placing = param.Boolean(default=False, doc="a placement is running: the button is disabled")
    key = param.String(default="", doc="set by the browser: the idempotency key of the newest press")
    link_key = param.String(default="", doc="the key in the page address (?order=KEY)")
    repeat_of = param.String(default="", doc="the number of the order this page placed that a press would repeat "
                                             "exactly (the button asks first); empty when the settings differ")
    repeat_confirmed = param.String(default="", doc="set by the browser with a press: the order number whose "
                                                    "repeat the person confirmed")

    _esm = PLACE_BUTTON_ESM
    _stylesheets = [PLACE_BUTTON_CSS]


# ---------------------------------------------------------------------------- the app

class Configurator(pn.viewable.Viewer):
    """State of one person's configuration: family, parameters, quantity, material -> part, quote, order."""

    family = param.Selector(doc="product family")
    qty = param.Integer(default=1, bounds=(1, None), doc="how many to make")
    material = param.Selector(doc="print material")
    customer = param.String(default="", doc="who the order is for")
    status = param.String(default="", doc="what the configurator is doing, or a problem no field owns")
    quote_html = param.String(default="")
    price_line_html = param.String(default="", doc="the price in one line, under the 3D view on a phone")
    order_number = param.String(default="", doc="the last order placed (or found again) in this session")
    summary_html = param.String(default="", doc="the placed order's summary")
    fit_html = param.String(default="", doc="the family's fitness checks in the chosen material, in the customer's "
                                            "words, under the Material field (eyewear: how the temples grip)")
    valid = param.Boolean(default=True, doc="the current parameters make a part")

    def __init__(self, pool: workers.Workers | None = None, build_timeout_s: float = BUILD_TIMEOUT_S,
                 order_key: str | None = None, **params):
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
        self.viewer = MeshViewer(height=VIEW_HEIGHT_PX, sizing_mode="stretch_width", stylesheets=[VIEW_CSS])
        self.spec = None          # the last valid spec (validated here; built in a worker)
        self.quote = None         # its quote (with the current qty and material)
        self._controls_area = pn.Column(sizing_mode="stretch_width")
        self._controls: SpecControls | None = None
        self._fit_next = True
        self._shown_key = None    # (family, values) of the part in the 3D view
        # the order fields' inputs and message lines (the spec's fields have theirs in SpecControls)
        # what the browser sends reaches _order_field as sent (checked_inputs: Panel refused it in a traceback)
        self.qty_input = IntInputAsSent(label="Quantity", value=self.qty, step=1, sizing_mode="stretch_width",
                                        bounds=(1, fulfilment.order_limits().max_units_per_order),
                                        css_classes=["order-qty"])
        self.material_input = SelectAsSent(label="Material", value=self.material, sizing_mode="stretch_width",
                                           options={labels.id_name("material", m): m for m in materials},
                                           css_classes=["order-material"])
        self.customer_input = pn.widgets.TextInput(label="Customer", value=self.customer, sizing_mode="stretch_width",
                                                   placeholder="name or company", css_classes=["order-customer"])
        self.order_errors = {name: error_line(name) for name in ("qty", "material", "customer", "place")}
        self.qty_input.param.watch(lambda e: self._order_field("qty", e.new), "value")
        self.material_input.param.watch(lambda e: self._order_field("material", e.new), "value")
        self.customer_input.param.watch(lambda e: self._order_field("customer", e.new), "value")
        self.order_fields_ok = {"qty": True, "material": True}
        for name, widget in (("qty", self.qty_input), ("material", self.material_input),
                             ("customer", self.customer_input)):  # set from code (a notebook): shown too
            self.param.watch(lambda event, widget=widget: setattr(widget, "value", event.new), name)
        self.place_button = PlaceOrderButton(sizing_mode="stretch_width", css_classes=["order-place"], margin=(5, 10),
                                             link_key=order_key or "")
        self.place_button.param.watch(self._place_pressed, "key")
        self._placing_key: str | None = None  # the key of the placement running now
        self._placed: tuple | None = None     # (key, what was ordered) of the order shown in the summary
        if _served():
            pn.state.on_session_destroyed(lambda context: self.builds.supersede())  # a closed tab builds nothing
        self._build_controls()
        if order_key:
            async def recalling():
                await self.recall(order_key)

            self._start(recalling)

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
        self.fit_html = ""  # the last family's checks say nothing of this one
        self._build_controls()

    @param.depends("qty", "material", watch=True)
    def _pricing_changed(self):
        self._schedule()  # the part is cached: only the quote changes (the view is kept, see refresh)

    def _order_field(self, name: str, value) -> None:
        """Quantity, material or customer as typed: checked by the core's order rules, the message
        beside the field; a valid quantity or material re-quotes."""
        check = {"qty": fulfilment.check_qty, "material": fulfilment.check_material,
                 "customer": fulfilment.check_customer}[name]
        widget = {"qty": self.qty_input, "material": self.material_input, "customer": self.customer_input}[name]
        refused = widget.refusal(value) if hasattr(widget, "refusal") else None  # in the form's words already
        try:
            if refused:
                raise InputError(name, refused)
            if name == "customer" and not str(value or "").strip():
                checked = ""  # empty is fine until the order is placed
            else:
                checked = check(value)
        except InputError as exc:
            self._show_order_error(name, exc.message if refused else _in_form_words(widget, name, exc.message))
            if name in self.order_fields_ok:
                self.order_fields_ok[name] = False
                self.valid = False
            return
        self._show_order_error(name, None)
        if name in self.order_fields_ok:
            was_ok, self.order_fields_ok[name] = self.order_fields_ok[name], True
            if getattr(self, name) == checked and not was_ok:
                self._schedule()  # back to a good value equal to the last good one: quote it again
        setattr(self, name, checked)
        self._update_place_label()

    def _show_order_error(self, name: str, message: str | None) -> None:
        pane = self.order_errors[name]
        pane.object = html.escape(message) if message else ""
        pane.visible = bool(message)

    def _start(self, coroutine_function) -> None:
        """Run an async step of this session: on the server's loop once the session is loaded (the
        Panel 1.9.4 bugs that lost a page's first or last 3D view are fixed in dashboards/panel_fixes.py;
        tests/ui/test_configure_view.py guards the outcome); in a notebook on its loop; else to completion."""
        if _served():
            if pn.state.loaded:
                pn.state.execute(coroutine_function)
            else:
                panel_fixes.onload(coroutine_function)  # started once loaded: panel_fixes.py, fix 3
            return
        try:
            asyncio.get_running_loop().create_task(coroutine_function())  # a notebook's loop
        except RuntimeError:
            asyncio.run(coroutine_function())  # a plain script or a test: run to completion

    def _schedule(self):
        ticket = self.tickets.take()
        self.viewer.busy = True
        self.status = "updating…"
        self._update_place_label()

        async def job():
            await self.refresh(ticket)

        self._start(job)

    async def refresh(self, ticket: int):
        """Validate here, quote in a worker, then the preview on the same worker: the quote shows as
        soon as it is known. Only the newest request may change what is shown; a part already on
        screen is not sent again."""
        if not self.tickets.is_current(ticket):
            return
        values = dict(self._controls.values)
        family, qty, material, changed = self.family, self.qty, self.material, self._controls.changed
        if not all(self.order_fields_ok.values()):
            await self._fail(ticket, "fix the quantity or material first")
            return
        refused = self._controls.refusal()  # a value no input on the page can produce (a modified page)
        if refused:
            await self._fail(ticket, refused[1], field=refused[0], worded=True)
            return
        try:
            spec = _geometry().make_spec(family, values, changed=changed)
        except InputError as exc:
            await self._fail(ticket, exc.message, field=exc.field)
            await self._show_ranges(ticket, family, values)
            return
        values = spec.values()
        # the ranges beside the fields run beside the build, not before it (0.1-0.3 s of Python per change)
        self._ranges_task = asyncio.create_task(self._show_ranges(ticket, family, values))
        shown_key = (family, tuple(sorted((k, repr(v)) for k, v in values.items())))
        try:
            quoted = await self.builds.run("quote", family=family, values=values, qty=qty, material=material,
                                           queue_s=self.queue_s)
            quote, checks = quoted["quote"], quoted.get("checks") or {}
            if not self.tickets.is_current(ticket):
                return
            quote = await _promised(quote, quoted.get("plate_seconds"))
            await self._apply(ticket, lambda: self._show_quote(ticket, spec, quote, qty, material, checks))
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

    async def _show_ranges(self, ticket: int, family: str, values: dict) -> None:
        """Beside each field, the values it can take given the others (validation only, no CAD: about
        0.1-0.2 s, in a thread so the event loop stays free)."""
        try:
            ranges = await asyncio.to_thread(_geometry().field_ranges, family, values)
        except InputError:
            return  # a value outside its own bounds: its message says the bounds
        if family == self.family:
            await self._apply(ticket, lambda: self._controls.show_ranges(ranges))

    async def _apply(self, ticket: int, update) -> None:
        """Run `update` (it sets parameters of this view) only if `ticket` is still the newest request."""
        if self.tickets.is_current(ticket):
            update()

    def _show_quote(self, ticket: int, spec, quote, qty: int, material: str, checks: dict | None = None):
        self._controls.show_error(None, None)
        self.spec, self.quote = spec, quote
        self.valid = True
        self.quote_html = _quote_table(quote, qty, material, revision=ticket)
        self.price_line_html = _price_line(quote, qty)
        self.fit_html = _fit_note(spec, checks or {}, material)

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

    async def _fail(self, ticket: int, message: str, field: str | None = None, worded: bool = False):
        def update():
            self.tickets.reject(ticket)
            on_a_field = field in self._controls.widgets
            self._controls.show_error(field if on_a_field else None, message if on_a_field else None, worded=worded)
            self.valid = False
            self.viewer.param.update(busy=False, note=STALE_NOTE if self._shown_key else "")
            # a field's problem is told beside that field; only the others here, under the view
            self.status = "" if on_a_field or not all(self.order_fields_ok.values()) else f"Not updated: {message}"

        await self._apply(ticket, update)

    # -- placing the order

    def _ordered_now(self) -> tuple:
        """What a press of "Place order" would order now (to tell a repeat from a new order)."""
        return (self.family, tuple(sorted(self._controls.values.items())), self.qty, self.material,
                self.customer.strip())

    def _repeated_number(self) -> str:
        """The number of the order this page placed if a press now would order exactly the same, else ""."""
        again = self._placed is not None and self._placed[1] == self._ordered_now()
        return self.order_number if again and self.order_number else ""

    def _update_place_label(self) -> None:
        repeat_of = self._repeated_number()
        self.place_button.param.update(label="Place another identical order" if repeat_of else "Place order",
                                       repeat_of=repeat_of)

    def _place_pressed(self, event) -> None:
        key = event.new
        button = self.place_button
        if not key or self._placing_key is not None:  # one placement at a time (the browser disables too)
            return
        repeat_of, confirmed = self._repeated_number(), button.repeat_confirmed
        button.repeat_confirmed = ""
        if repeat_of and confirmed != repeat_of:
            # the page asks before a repeat; a press that skipped the question (a modified page, or the
            # settings went back to the placed ones while it was sent) places nothing and asks here
            button.param.update(placing=False, link_key=self._placed[0])  # the address names the placed order
            self._show_order_error("place", f"This is the same as order {repeat_of}: press "
                                            "\"Place another identical order\" and confirm to place it again.")
            return
        self._placing_key = key

        async def placing():
            await self.place(key)

        self._start(placing)

    async def place(self, key: str):
        """Place the shown configuration as one order under idempotency key `key` (the browser's);
        the same key again (a retry) finds the order already stored instead of placing another."""
        button = self.place_button
        self._placing_key = key
        button.placing = True
        self._show_order_error("place", None)
        order = None
        try:
            order = await self._place(key)
        except InputError as exc:
            field = exc.field if exc.field in self.order_errors else "place"
            if exc.field in (self._controls.widgets if self._controls else {}):
                self._controls.show_error(exc.field, exc.message)
                field, message = "place", "Fix the highlighted value before placing the order."
            else:
                message = exc.message
            self._show_order_error(field, message)
        except Exception as exc:  # noqa: BLE001 - a worker or the store failed: nothing was stored, say so
            self._show_order_error("place", f"The order could not be placed ({exc}); nothing was stored. "
                                            "Try again in a moment.")
        finally:
            self._placing_key = None
            button.param.update(placing=False, link_key=key if order is not None else
                                (self._placed[0] if self._placed else ""))
        if order is not None:
            self._show_order(order, key, ordered=self._ordered_now())
        return order

    async def _place(self, key: str):
        store = _order_store()
        existing = await asyncio.to_thread(fulfilment.find_order, key, store)
        if existing is not None:
            return existing  # this press already placed it (the reply was lost): show it, place nothing
        customer = fulfilment.check_customer(self.customer_input.value)
        if not all(self.order_fields_ok.values()) or not self.valid or self.spec is None or self.quote is None:
            raise InputError("place", "Fix the highlighted value before placing the order.")
        if self.tickets.busy:  # the shown quote is about to change: order what the person will see
            raise InputError("place", "Still updating the part: place the order once the quote has refreshed.")
        spec, quote, qty, material = self.spec, self.quote, self.qty, self.material
        # every build plate (a large part may need several): each is stored and printed as its own job
        stl, step = await asyncio.gather(self._export_async(spec, "stl"), self._export_async(spec, "step"))
        files, file_plates = fulfilment.plate_files(spec.family, {"stl": stl, "step": step})
        order = await asyncio.to_thread(fulfilment.store_order, store, spec.family, spec.values(), customer,
                                        quote.to_dict(), files, qty=qty, material=material, idempotency_key=key,
                                        plates=len(stl), file_plates=file_plates)
        self.queue_s = await asyncio.to_thread(_queued_print_time_s)
        return order

    async def _export_async(self, spec, suffix: str) -> list[bytes]:
        future = self.pool.submit("export_plates", priority=workers.PRIORITY_INTERACTIVE, family=spec.family,
                                  values=spec.values(), suffix=suffix)
        return await workers.result(future, self.builds.timeout_s)

    async def recall(self, key: str):
        """A page opened with ?order=KEY (a reload after pressing "Place order", or the link kept from
        the confirmation): the order stored under KEY, shown, never placed again."""
        try:
            key = fulfilment.check_idempotency_key(key)
            order = await asyncio.to_thread(fulfilment.find_order, key, _order_store())
        except InputError:
            order = None
        if order is None:
            self.place_button.link_key = ""
            self._show_order_error("place", "No order was stored for this page's link: the order was not "
                                            "placed. Check the settings and place it again.")
            return None
        self._show_order(order, key, ordered=None)
        self.place_button.link_key = key
        return order

    def _show_order(self, order, key: str, ordered: tuple | None) -> None:
        self._placed = (key, ordered)
        self.order_number = order.number
        self.summary_html = _order_summary(order, key)
        self._show_order_error("place", None)
        self._update_place_label()

    def place_order(self, event=None, idempotency_key: str | None = None):
        """Place the order now, outside a page (the page goes through the button's key): in a script or a
        test, the order (None if refused, the reason shown as on the page); in a notebook, whose loop is
        already running, a task to await: `order = await app.place_order()`."""
        import uuid

        placing = self.place(idempotency_key or f"nb-{uuid.uuid4().hex}")
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(placing)
        return loop.create_task(placing)

    # -- files

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

    def _dimmed_while_invalid(self, pane, css_class: str):
        """`pane` with `css_class`, greyed ("stale") while the current settings make no part."""
        pane.css_classes = _with_stale(css_class, self.valid)
        self.param.watch(lambda e: setattr(pane, "css_classes", _with_stale(css_class, e.new)), "valid")
        return pane

    def __panel__(self):
        family = pn.widgets.Select.from_param(self.param.family, label="Product family", options=self.family_titles,
                                              css_classes=["cfg-family"],
                                              sizing_mode="stretch_width")
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
        summary = pn.pane.HTML(self.param.summary_html, css_classes=["somana-order-number"],
                               sizing_mode="stretch_width", stylesheets=[CSS])
        errors = self.order_errors
        fit = self._dimmed_while_invalid(pn.pane.HTML(self.param.fit_html, sizing_mode="stretch_width",
                                                      stylesheets=[CSS], margin=(0, 10), visible=bool(self.fit_html)),
                                         "cfg-fit")
        self.param.watch(lambda e: setattr(fit, "visible", bool(e.new)), "fit_html")  # only families with checks
        left = pn.Column("### The part", family, self._controls_area, margin=(10, 10), css_classes=["cfg-controls"],
                         styles={"flex": "1 1 300px", "max-width": "380px", "min-width": "0"})
        price_line = self._dimmed_while_invalid(pn.pane.HTML(self.param.price_line_html, sizing_mode="stretch_width",
                                                             margin=(4, 0, 0, 0), stylesheets=[PRICE_LINE_CSS]),
                                                "cfg-price-line")
        middle = pn.Column(self.viewer, price_line, status, margin=(10, 10), css_classes=["cfg-view"],
                           styles={"flex": "3 1 340px", "min-width": "0"})
        right = pn.Column("### Quote", self.qty_input, errors["qty"], self.material_input, errors["material"],
                          fit, quote, self.customer_input, errors["customer"], self.place_button, errors["place"],
                          summary, stl, step, margin=(10, 10), css_classes=["cfg-order"],
                          styles={"flex": "1 1 300px", "max-width": "400px", "min-width": "0"})
        return pn.FlexBox(left, middle, right, flex_wrap="wrap", align_items="flex-start",
                          sizing_mode="stretch_width", stylesheets=[LAYOUT_CSS], css_classes=["cfg-layout"])


def _with_stale(css_class: str, valid: bool) -> list[str]:
    return [css_class] if valid else [css_class, "stale"]


def _in_form_words(widget, name: str, message: str) -> str:
    """The core's message about an order field as the form says it: `qty=0 is below the minimum 1` ->
    "Quantity: 0 is below the minimum 1 (a whole number from 1 to 100)"."""
    label = str(widget.name or name).split(" (")[0]
    text = re.sub(rf"^{re.escape(name)}=", f"{label}: ", message)
    if isinstance(widget, IntInputAsSent) and widget.bounds and "below the minimum" in text:
        text += f" ({widget.allowed()})"
    return text


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


async def _promised(quote, plate_seconds=None):
    """The quote with the date the farm's plan can keep (somana_core.scheduling.promise: the server's
    live plan, else one built from the order store): a job per build plate (`plate_seconds`, one unit's
    seconds per plate) and unit; the quote as it is if no printer can take it."""
    from somana_core.scheduling.promise import promise_for

    promise = await asyncio.to_thread(promise_for, quote, store=_order_store(), plates=plate_seconds)
    return quote if promise is None else promise.apply(quote)


def _money(value: float) -> str:
    return f"{value:,.2f}"


def _price_line(quote, qty: int) -> str:
    """The quote in one line for a phone, where the full quote sits under the settings."""
    data = quote.customer_view()
    promised = getattr(quote, "promised_date", None)
    when = f"delivered by {_day(promised)}" if promised else f"{data['lead_time_days']} working days"
    if data["unit_price"] is None:
        price = html.escape(data["message"])
    else:
        price = (f"<b>{_money(data['unit_price'])} USD</b> each"
                 + (f", {_money(data['total_price'])} USD for {qty}" if qty != 1 else ""))
    return (f"<p class='somana-price-line' data-phone-price>{price} · {when} "
            "<span>(quote and order under the settings)</span></p>")


def _fit_note(spec, checks: dict, material: str) -> str:
    """The family's fitness checks (Product.metrics "checks", made by the worker with the quote) as a
    customer reads them: one line when the part fits in this material, a warning naming a material
    that fits when it does not. "" for a family without checks."""
    lines = []  # (check name, "ok" or "warn", text)
    for name, check in checks.items():
        force, warned = check.get("temple_clamp_force_n"), bool(check.get("warning"))
        if force is None:  # a check this page has no words for: say only that it does not fit
            if warned:
                lines.append((name, "warn", f"In {material} this part may not fit as intended."
                                            + _suggestion(spec, name, material, "write to us")))
            continue
        lo, hi = check["comfortable_n"]
        aim = f"we aim for {lo:g} to {hi:g} N, an estimate"  # data/eyewear_fit.csv: an assumption, said so
        if not warned:
            lines.append((name, "ok", f"Fit: the temples grip the head comfortably ({force:.2f} N in {material}; {aim})."))
        else:
            how = "loosely: the frame may slip" if force < lo else "tightly: they may press behind the ears"
            lines.append((name, "warn", f"In {material} these temples grip {how} ({force:.2f} N; {aim})."
                          + _suggestion(spec, name, material, "change the temples' flex section, or write to us")))
    return "".join(f"<p class='somana-fit {kind}' data-fit='{html.escape(name)}'"
                   + (" role='status' data-fit-warning" if kind == "warn" else "") + f">{html.escape(text)}</p>"
                   for name, kind, text in lines)


def _suggestion(spec, check_name: str, material: str, otherwise: str) -> str:
    """" We suggest PLA.": the offered materials in which the check passes for this very part (the
    family's own check: arithmetic on the spec, no CAD); `otherwise` when none does."""
    check = getattr(type(spec).builder, "checks", None)
    fitting = [m for m in _materials() if m != material
               and not check(spec, m).get(check_name, {}).get("warning")] if check else []
    if fitting:
        return f" We suggest {' or '.join(fitting)}."
    return f" None of our materials fits it as set: {otherwise}."


def _day(iso: str | None) -> str:
    """An ISO date as a customer reads it: "Tue 8 Dec 2026"."""
    if not iso:
        return ""
    day = date.fromisoformat(str(iso)[:10])
    return f"{day:%a} {day.day} {day:%b %Y}"


def _quote_table(quote, qty: int, material: str, revision: int = 0) -> str:
    """The itemised quote; `data-revision` names the change it answers, as the 3D view's does."""
    data = quote.customer_view()  # customers see prices, never the cost lines or internal notes
    material_name = html.escape(labels.id_name("material", material))
    promised = getattr(quote, "promised_date", None)
    when = (f"<p>Delivered by <b data-promised-date='{html.escape(promised)}'>{_day(promised)}</b> "
            f"(<span data-lead-time>{data['lead_time_days']}</span> days: the date our printers' plan can keep)</p>"
            if promised else
            f"<p>Lead time: <b data-lead-time>{data['lead_time_days']}</b> working days</p>")
    if data["unit_price"] is None:  # outside the family's band: a founder approves the price first
        return (f"<div class='somana-quote-body' data-revision='{revision}'><p class='flags' data-unit-price "
                f"data-awaiting-approval>{html.escape(data['message'])}</p>{when}</div>")
    rows = "".join(
        f"<tr><td>{html.escape(line['name'].replace('_', ' ').capitalize())}</td><td class='num'>{_money(line['amount_usd'])}</td></tr>"
        for line in data.get("lines", []))
    flags = "".join(f"<li>{html.escape(flag)}</li>" for flag in data.get("flags", []))
    currency = "USD"
    breaks = ", ".join(f"{b['qty']}: {_money(b['unit_price'])}" for b in data.get("breaks", []))
    return (f"<div class='somana-quote-body' data-revision='{revision}'><table>"
            f"<tr><th>per unit, {material_name}</th><th class='num'>{currency}</th></tr>{rows}"
            f"<tr class='total'><td>unit price</td><td class='num' data-unit-price>{_money(data['unit_price'])}</td></tr>"
            f"<tr class='total'><td>total for {qty}</td><td class='num' data-total>{_money(data['total_price'])}</td></tr>"
            f"</table>{when}"
            + (f"<p class='breaks'>Unit price by quantity: {breaks}</p>" if breaks else "")
            + (f"<ul class='flags'>{flags}</ul>" if flags else "") + "</div>")


STATE_WORDS = {
    "needs_approval": "received: we confirm the price within one working day",
    "confirmed": "confirmed", "sliced": "confirmed, being prepared for printing", "queued": "waiting for a printer",
    "printing": "printing", "done": "made", "failed": "being made again", "interrupted": "being made again",
    "cancelled": "cancelled",
}


def _order_summary(order, key: str) -> str:
    """The confirmation a customer reads and keeps: number, part, quantity, price, promised date, state
    and the link back to this summary."""
    from somana_core.quote import customer_view

    quote = order.quote or {}
    view = customer_view(quote)
    title = _geometry().get_family(order.family).title or labels.tidy(order.family)
    try:
        spec = _geometry().make_spec(order.family, {})
        defaults = spec.values()
        changed = {k: v for k, v in order.parameters.items() if defaults.get(k) != v and k not in ("board_file",)}
        settings = labels.settings_caption(spec, changed)
    except InputError:
        settings = ""
    if view.get("unit_price") is None:
        price = html.escape(view.get("message") or "to be confirmed")
    else:
        price = (f"<span data-summary-total>{_money(view['total_price'])}</span> USD "
                 f"({_money(view['unit_price'])} USD each)")
    promised = quote.get("promised_date")
    when = (f"<span data-summary-date='{html.escape(str(promised))}'>{_day(promised)}</span>" if promised else
            f"<span data-summary-date=''>within {view.get('lead_time_days')} working days of "
            f"{_day(order.created_at.date().isoformat())}</span>")
    number = html.escape(order.number)
    link = f"{ORDER_STATUS_ROUTE}?{ORDER_STATUS_QUERY}={html.escape(key)}"  # dashboards/order.py
    return (f"<div class='somana-summary' data-order='{number}'>"
            f"<h4>Order placed: <span data-summary-number>{number}</span></h4><dl>"
            f"<dt>Part</dt><dd data-summary-part>{html.escape(title)}"
            + (f" ({html.escape(settings)})" if settings else "") + "</dd>"
            f"<dt>Material</dt><dd>{html.escape(labels.id_name('material', order.material))}</dd>"
            f"<dt>Quantity</dt><dd data-summary-qty>{order.qty}</dd>"
            f"<dt>Price</dt><dd>{price}</dd>"
            f"<dt>Promised</dt><dd>{when}</dd>"
            f"<dt>Status</dt><dd data-summary-state>{html.escape(STATE_WORDS.get(order.state, order.state))}</dd>"
            f"<dt>Customer</dt><dd>{html.escape(order.customer)}</dd></dl>"
            f"<p>Keep <a href='{link}' data-summary-link>this link</a> to see "
            "your order's status at any time, "
            f"and quote the number {number} when you write to us about it.</p></div>")


def create_app():
    pn.extension(notifications=False)
    key = None
    if _served():
        from panel.io.resources import parse_template

        pn.state.curdoc.template = parse_template(PHONE_READY_TEMPLATE)
        raw = (pn.state.session_args or {}).get(ORDER_QUERY)
        key = raw[0].decode("utf-8", "replace") if raw else None
    from dashboards.web_auth import session_staff_user

    # the staff pages' links only for signed-in staff: a customer's page never points at the floor
    return page(Configurator(order_key=key), current="/configure", user=session_staff_user())


if pn.state.served:
    create_app().servable()
