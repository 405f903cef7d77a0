"""The configurator's model reacts to its controls with the core's own values (no browser). It builds
in a real Dask LocalCluster of worker processes, started here for the module."""

import html

import numpy as np
import pytest

from dashboards.configure import STALE_NOTE, Configurator
from somana_core import geometry, labels, quote, workers
from somana_core.orders import OrderStore
from somana_core.preview import decode_payload

FAMILY = "sensor_enclosure"


@pytest.fixture(scope="module")
def pool():
    started = workers.start_local(worker_count=1)
    started.warm()
    yield started
    started.close()


@pytest.fixture
def app(somana_home, pool):
    return Configurator(family=FAMILY, pool=pool)


def _core_quote(values, qty=1, material="PLA"):
    spec = geometry.make_spec(FAMILY, values)
    return quote.quote_product(geometry.build(spec), FAMILY, qty=qty, material=material,
                               machine=spec.machine)


def test_opening_shows_the_default_part_and_its_quote(app):
    assert app.valid and not app.viewer.busy
    vertices, triangles, _ = decode_payload(app.viewer.payload)
    assert len(triangles) > 1000 and app.viewer.payload["fit"] is True
    assert app.quote.unit_price == _core_quote({}).unit_price
    assert f"{app.quote.unit_price:,.2f}" in app.quote_html
    assert list(app._controls.widgets) == geometry.get_family(FAMILY).parameter_names()


def test_a_longer_board_makes_a_longer_part_and_a_new_quote(app):
    spec_cls = geometry.get_family(FAMILY)
    widget = app._controls.widgets["pcb_length"]
    before_bbox, before_rev = app.viewer.payload["bbox_mm"], app.viewer.payload["revision"]
    step = spec_cls.param["pcb_length"].step
    widget.value = widget.value + 10 * step
    after = app.viewer.payload
    assert after["revision"] > before_rev and after["fit"] is False
    grown = (after["bbox_mm"][3] - after["bbox_mm"][0]) - (before_bbox[3] - before_bbox[0])
    assert grown == pytest.approx(10 * step, abs=0.05)
    assert app.quote.unit_price == _core_quote({"pcb_length": widget.value}).unit_price


def test_a_value_below_the_minimum_shows_its_message_and_keeps_the_last_view(app):
    low = geometry.get_family(FAMILY).param["wall"].bounds[0]
    payload, price = app.viewer.payload, app.quote.unit_price
    app._controls.widgets["wall"].value = low / 2
    with pytest.raises(geometry.InputError) as expected:
        geometry.make_spec(FAMILY, {"wall": low / 2})
    error = app._controls.errors["wall"]
    shown = html.escape(labels.human_message(geometry.get_family(FAMILY), expected.value.message))
    assert error.visible and error.object == shown
    assert not app.valid and not app.status  # told beside the field, not under the view
    assert app.viewer.payload is payload and app.quote.unit_price == price and not app.viewer.busy
    app._controls.widgets["wall"].value = geometry.get_family(FAMILY).param["wall"].default  # fixed again
    assert app.valid and not error.visible and not app.status
    assert app.viewer.payload is payload  # the part on screen is this one already: not sent again


def test_quantity_and_material_change_the_price(app):
    app.qty = 10
    assert app.quote.total_price == _core_quote({}, qty=10).total_price
    assert app.quote.unit_price < _core_quote({}).unit_price  # setup spread over ten
    other = [m for m in app.param.material.objects if m != app.material][-1]
    app.material = other
    assert app.quote.unit_price == _core_quote({}, qty=10, material=other).unit_price


def test_the_promised_date_counts_every_unit_and_every_build_plate(app):
    """The date comes from the plan with a job per build plate and unit: more units are promised later, and
    a part whose base and lid cannot share the bed is planned as two plates, as its order will print."""
    one = app.quote.lead_time
    assert one["plates"] == 1 and one["source"] == "order store"
    app.qty = 60
    many = app.quote.lead_time
    assert many["plates"] > 1 and app.quote.qty == 60
    assert many["plan_end"] > one["plan_end"] and app.quote.promised_date > one["promised_date"]
    app.qty = 1
    spec_cls = geometry.get_family(FAMILY)
    for name in ("pcb_length", "pcb_width"):  # the largest board: base and lid each fill most of the bed
        app._controls.widgets[name].value = spec_cls.param[name].bounds[1]
    expected = len(geometry.build(app.spec).plates())  # the core's own layout (built here, after the page)
    assert expected == 2 and app.quote.lead_time["plates"] == expected
    assert app.quote.lead_time["plan_end"] > one["plan_end"]


def test_placing_an_order_stores_it_with_its_files(app, somana_home):
    app.customer = "Ada Lovelace"
    app.qty = 3
    order = app.place_order()
    assert app.order_number == order.number
    with OrderStore() as store:
        stored = store.get(order.number)
    assert stored.customer == "Ada Lovelace" and stored.qty == 3 and stored.family == FAMILY
    assert stored.quote["unit_price"] == app.quote.unit_price
    assert stored.parameters == app.spec.values()
    assert sorted(f.kind for f in stored.files) == ["step", "stl"]
    assert all(f.size > 1000 for f in stored.files)



def test_a_press_repeating_the_placed_order_places_nothing_unless_that_repeat_was_confirmed(app, somana_home):
    """What the page's button sends: a fresh key per press, and with a repeat the order number the person
    confirmed. A key without that confirmation (a modified page) places nothing and says why."""
    app.customer = "Grace Hopper"
    first = app.place_order()
    button = app.place_button
    assert button.repeat_of == first.number and button.label == "Place another identical order"
    button.key = "po-" + "1" * 32  # no confirmation sent
    assert f"same as order {first.number}" in app.order_errors["place"].object
    with OrderStore() as store:
        assert [o.number for o in store.list()] == [first.number]
    button.param.update(repeat_confirmed=first.number, key="po-" + "2" * 32)
    with OrderStore() as store:
        numbers = [o.number for o in store.list()]
    assert len(numbers) == 2 and app.order_number != first.number and app.order_number in numbers
    assert button.repeat_confirmed == ""  # a confirmation counts for one press
    app.qty = 2  # changed settings: no question
    assert button.repeat_of == "" and button.label == "Place order"
    button.key = "po-" + "3" * 32
    with OrderStore() as store:
        assert len(store.list()) == 3

def test_an_order_without_a_customer_is_refused_with_a_message(app, somana_home):
    assert app.place_order() is None
    assert "customer is empty" in app.order_errors["customer"].object and app.order_number == ""
    assert app.order_errors["customer"].visible
    with OrderStore() as store:
        assert store.list() == []


def test_download_is_the_part_as_stl(app):
    data = app.export_bytes("stl").getvalue()
    import trimesh
    mesh = trimesh.load(trimesh.util.wrap_as_stream(data), file_type="stl")
    assert mesh.volume > 0 and np.isfinite(mesh.bounds).all()


def test_another_family_brings_its_own_controls_and_frames_its_part(app):
    other = [f for f in geometry.FAMILIES if f != FAMILY][0]
    app.family = other
    assert list(app._controls.widgets) == geometry.get_family(other).parameter_names()
    assert app.viewer.payload["fit"] is True and app.valid
    assert app.quote.family == other


def test_a_quantity_change_during_a_rebuild_still_shows_the_new_part(app):
    """A newer request (quantity) overtakes a dimension change: the part shown is the new dimension's."""
    import asyncio

    widget = app._controls.widgets["pcb_length"]
    step = geometry.get_family(FAMILY).param["pcb_length"].step
    from param.parameterized import discard_events

    with discard_events(widget), discard_events(app._controls):  # the dimension change, not yet refreshed
        widget.value = widget.value + 4 * step
        app._controls.values = {n: w.value for n, w in app._controls.widgets.items()}
    first = app.tickets.take()  # as if its rebuild were running
    app.qty = 2                 # takes a newer ticket and refreshes
    asyncio.run(app.refresh(first))  # the late rebuild is dropped
    assert app.spec.pcb_length == widget.value and app.quote.qty == 2
    length = app.viewer.payload["bbox_mm"][3] - app.viewer.payload["bbox_mm"][0]
    assert length == pytest.approx(geometry.build(app.spec).metrics()["parts"]["base"]["bbox_mm"][0], abs=0.1)


def test_no_order_while_the_part_is_still_updating(app, somana_home):
    app.customer = "Ada"
    app.tickets.take()  # a rebuild in flight
    assert app.place_order() is None and "updating" in app.order_errors["place"].object.lower()


def test_a_build_that_times_out_says_so_and_marks_the_part_on_screen_as_the_last_good_one(somana_home, pool):
    app = Configurator(family=FAMILY, pool=pool)
    payload, price = app.viewer.payload, app.quote.unit_price
    app.builds.timeout_s = 0.001  # no worker answers that fast
    widget = app._controls.widgets["pcb_length"]
    widget.value = widget.value + geometry.get_family(FAMILY).param["pcb_length"].step
    assert "took longer than" in app.status and not app.valid and not app.viewer.busy
    assert app.viewer.note == STALE_NOTE
    assert app.viewer.payload is payload and app.quote.unit_price == price
    assert app.builds.stats.timed_out == 1
    app.builds.timeout_s = 60
    widget.value = widget.value + geometry.get_family(FAMILY).param["pcb_length"].step  # the next change recovers
    assert app.valid and app.viewer.note == "" and app.viewer.payload is not payload


def test_the_web_process_does_no_cad(app):
    """Building, quoting and tessellating happened in the worker, not in this process's part cache."""
    from somana_core.geometry import product

    widget = app._controls.widgets["pcb_width"]
    widget.value = widget.value + 3 * geometry.get_family(FAMILY).param["pcb_width"].step
    keys = [k for k in product._parts if ("pcb_width", widget.value) in k]
    assert app.spec.pcb_width == widget.value and keys == []


@pytest.mark.parametrize("widget, sent, field, says", [
    ("qty", 1.5, "qty", "Quantity: 1.5 is not a whole number from 1 to "),
    ("qty", 0, "qty", "Quantity: 0 is below the minimum 1 (a whole number from 1 to "),
    ("material", "unobtainium", "material", "Material: 'unobtainium' is not one of the choices (Polylactic acid"),
    ("lid_fit", "unobtainium", "lid_fit", "Lid fit: 'unobtainium' is not one of the choices (Snap, Screw)"),
    ("vent_count", 2.5, "vent_count", "Vent slots: 2.5 is not a whole number from 0 to 12"),
])
def test_what_a_client_sends_over_the_websocket_is_checked_beside_its_field(app, widget, sent, field, says):
    """A value no widget in the browser offers (a modified page, a hand-written websocket client) goes
    through the widget as the browser's message does (Panel's `_process_events`) and is refused beside
    its field; Panel's own IntInput and Select refused it in a server traceback and kept the last value."""
    inputs = {"qty": app.qty_input, "material": app.material_input, **app._controls.widgets}
    inputs[widget]._process_events({"value": sent})
    error = app.order_errors.get(field) or app._controls.errors[field]
    assert error.visible and says in html.unescape(error.object), error.object
    assert f"{field}=" not in error.object and "_" not in error.object  # the form's words, no parameter names
    assert not app.valid or not all(app.order_fields_ok.values())


def test_eyewear_says_how_the_temples_grip_and_warns_in_a_material_that_grips_loosely(app):
    """The worker's fitness checks (Product.metrics "checks") reach the customer under the Material
    field: a plain line in PLA, a warning naming a material that fits in PETG (the default frame's
    temples grip below the comfortable range there); families without checks show nothing."""
    assert app.fit_html == ""  # the sensor enclosure has no fitness checks
    eyewear = "eyewear_frame"
    app.family = eyewear
    spec = geometry.make_spec(eyewear, {})
    grip = {m: geometry.get_family(eyewear).builder.checks(spec, m)["temple_grip"] for m in ("PLA", "PETG")}
    assert grip["PLA"]["warning"] is None and grip["PETG"]["warning"]  # the core's verdicts this test relies on
    assert app.valid and app.material == "PLA"
    shown = html.unescape(app.fit_html)
    assert "data-fit-warning" not in shown and "grip the head comfortably" in shown
    assert f"{grip['PLA']['temple_clamp_force_n']:.2f} N in PLA" in shown

    app.material_input.value = "PETG"  # as the person picks it
    shown = html.unescape(app.fit_html)
    assert app.quote.material == "PETG" and "data-fit-warning" in shown
    assert "In PETG these temples grip loosely" in shown and "We suggest PLA" in shown
    assert f"{grip['PETG']['temple_clamp_force_n']:.2f} N" in shown

    app.material_input.value = "PLA"
    assert "data-fit-warning" not in app.fit_html and "grip the head comfortably" in app.fit_html
    app.family = FAMILY
    assert app.valid and app.fit_html == ""
