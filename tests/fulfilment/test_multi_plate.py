"""An order whose parts need several build plates (issue 13's large sensor enclosure on a Prusa MINI):
every plate is sliced by the real PrusaSlicer, stored with the order, printed as its own job, and the
order is done only when every plate is; its quote prices the plates together."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from device_io.host import PrinterHost
from device_io.simulator import VirtualPrinter
from somana_core.errors import InputError
from somana_core.fulfilment import gcode_for, place_order, print_order, printable_orders
from somana_core.orders import IllegalTransition, OrderStore
from somana_core.slicing import read_estimates

# 120 x 90 mm board: base and lid do not share the MINI's 180 x 180 mm bed
LARGE_ON_MINI = {"pcb_length": 120, "pcb_width": 90, "machine": "prusa_mini"}


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = tmp_path_factory.mktemp("multi-plate-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOMANA_HOME", str(home))
        yield home


@pytest.fixture(scope="module")
def store(home):
    with OrderStore() as store:
        yield store


@pytest.fixture(scope="module")
def placed(store, tmp_path_factory):
    """One real placement: build, export every plate, slice every plate, quote, store."""
    return place_order(store, "sensor_enclosure", LARGE_ON_MINI, "Grace", qty=1, material="PLA",
                       work_dir=tmp_path_factory.mktemp("work"))


@pytest.fixture
def host():
    printer = VirtualPrinter(time_scale=0.0)
    host = PrinterHost(name="plate-sim", port=printer.start())
    host.connect()
    yield host
    host.disconnect()
    printer.stop()


def _somana(home, *args):
    env = dict(os.environ, SOMANA_HOME=str(home))
    return subprocess.run([sys.executable, "-m", "somana", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def test_every_plate_is_sliced_by_prusaslicer_and_stored_with_the_order(placed, store, tmp_path):
    order = store.get(placed.number)
    assert len(order.plates) >= 2 and order.state == "sliced"
    assert [p.number for p in order.plates] == [f"{order.number}/{k}" for k in range(1, len(order.plates) + 1)]
    for plate in order.plates:
        files = [f for f in order.files if f.meta.get("plate") == plate.plate]
        assert sorted(f.kind for f in files) == ["gcode", "stl"]
        assert plate.state == "sliced" and plate.print_time_s > 0 and plate.filament_g > 0
        gcode = store.export_file(plate.number, "gcode", tmp_path / f"plate{plate.plate}.gcode")
        assert "PrusaSlicer" in gcode.read_text(errors="replace")[:400]
        assert read_estimates(gcode)["print_time_s"] == plate.print_time_s  # the slicer's own figure
    shas = {f.sha256 for f in order.files if f.kind == "gcode"}
    assert len(shas) == len(order.plates)  # a different program per plate


def test_the_quote_prints_and_weighs_the_sum_of_the_plates(placed, store):
    order = store.get(placed.number)
    assert order.quote["print_time_source"] == "slicer"
    assert order.quote["print_time_s"] == pytest.approx(sum(p.print_time_s for p in order.plates), abs=0.11)
    assert order.quote["filament_g"] == pytest.approx(sum(p.filament_g for p in order.plates), abs=0.011)
    assert order.print_time_s == pytest.approx(order.quote["print_time_s"])  # per unit x qty 1


def test_each_plate_is_its_own_job_and_the_order_number_alone_is_not_printable(placed, store, tmp_path):
    order = store.get(placed.number)
    jobs = [j.number for j in printable_orders(store) if j.order_number == order.number]
    assert jobs == list(order.jobs) and len(jobs) == len(order.plates)
    job = store.get(jobs[1])
    assert job.plate == 2 and job.state == "sliced" and job.quote["print_time_s"] == order.plates[1].print_time_s
    with pytest.raises(InputError, match=f"{order.number}/1, {order.number}/2"):
        gcode_for(store, order.number, tmp_path)
    path = gcode_for(store, jobs[1], tmp_path)
    assert path.name == f"{order.number}-plate2.gcode"
    assert path.read_bytes() == store.file_bytes(next(f.sha256 for f in job.files if f.kind == "gcode"))
    with pytest.raises(InputError, match="export one of"):
        store.export_file(order.number, "gcode", tmp_path / "which.gcode")


def test_the_order_is_printed_only_when_every_plate_is(placed, store, host):
    number = placed.number
    plates = store.get(number).jobs
    store.transition(plates[-1], "queued")
    assert [j.number for j in store.queue() if j.order_number == number] == [plates[-1]]
    assert store.queued_print_time_s() == pytest.approx(store.get(plates[-1]).print_time_s)
    for k, job in enumerate(plates, start=1):
        assert print_order(store, host, job).state == "done"
        order = store.get(number)
        assert [p.state for p in order.plates] == ["done"] * k + [p.state for p in order.plates[k:]]
        assert order.state == ("done" if k == len(plates) else "queued")  # the last plate waits in the queue
    order = store.get(number)
    assert order.state == "done" and order.history[-1].state == "done"
    assert f"{len(plates)} of {len(plates)} done" in order.history[-1].note
    assert not [j for j in printable_orders(store) if j.order_number == number]


def test_the_command_line_shows_and_exports_each_plate(placed, home, tmp_path):
    shown = _somana(home, "order", "show", placed.number)
    assert shown.returncode == 0, shown.stderr
    assert f"{placed.number}/1" in shown.stdout and f"{placed.number}/2" in shown.stdout
    out = tmp_path / "p2.gcode"
    exported = _somana(home, "order", "export", f"{placed.number}/2", "--kind", "gcode", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    assert out.stat().st_size > 0
    whole = _somana(home, "order", "export", placed.number, "--kind", "gcode", "--out", str(tmp_path / "w.gcode"))
    assert whole.returncode == 2 and whole.stderr.count("\n") == 1 and f"{placed.number}/2" in whole.stderr
    assert not (tmp_path / "w.gcode").exists()


# ---------------------------------------------------------------- the store's plate rules (no slicing)

def _two_plates(store):
    return store.place("Ada", "sensor_enclosure", {"length": 80}, {"print_time_s": 100.0},
                       files={"a.gcode": b"G28\n", "a.plate2.gcode": b"G28\nG1 X1\n"}, plates=2,
                       file_plates={"a.gcode": 1, "a.plate2.gcode": 2})


def test_a_cancelled_plate_cancels_the_order_and_its_other_plates(store):
    order = _two_plates(store)
    assert order.state == "confirmed" and [p.state for p in order.plates] == ["confirmed", "confirmed"]
    store.transition(f"{order.number}/1", "sliced")
    assert store.get(order.number).state == "confirmed"  # plate 2 not sliced yet
    store.transition(f"{order.number}/2", "sliced")
    assert store.get(order.number).state == "sliced"
    store.transition(f"{order.number}/1", "queued")
    store.transition(f"{order.number}/1", "printing", note="on local/sim")
    moved = store.get(order.number)
    assert moved.state == "printing" and moved.history[-1].note.startswith("on local/sim")
    store.transition(f"{order.number}/1", "cancelled", note="operator cancelled")
    cancelled = store.get(order.number)
    assert cancelled.state == "cancelled" and [p.state for p in cancelled.plates] == ["cancelled"] * 2
    with pytest.raises(IllegalTransition):
        store.transition(f"{order.number}/2", "queued")


def test_a_whole_order_move_applies_to_every_plate_that_can_make_it(store):
    order = _two_plates(store)
    store.transition(order.number, "sliced")
    assert [p.state for p in store.get(order.number).plates] == ["sliced", "sliced"]
    store.transition(f"{order.number}/1", "queued")
    store.transition(f"{order.number}/1", "printing")
    interrupted = store.transition(order.number, "interrupted", note="station restarted")
    assert [p.state for p in interrupted.plates] == ["interrupted", "sliced"]  # only the printing plate
    with pytest.raises(IllegalTransition):
        store.transition(order.number, "done")  # no plate can go straight to done
    with pytest.raises(InputError, match="no plate 3"):
        store.get(f"{order.number}/3")


def test_an_order_that_fits_one_plate_has_no_plate_jobs(store):
    order = store.place("Ada", "sensor_enclosure", {"length": 80}, {}, files={"a.gcode": b"G28\n"})
    assert order.plates == () and order.jobs == (order.number,)
    with pytest.raises(InputError, match="has one plate"):
        store.transition(f"{order.number}/1", "sliced")


def test_an_order_stored_with_every_plate_unsliced_is_sliced_plate_by_plate_at_print_time(store, tmp_path):
    """The configurator's path: the worker exports every plate (no G-code), `store_order` keeps them as
    plates, and each plate is sliced (real PrusaSlicer, on the order's machine) when it is printed."""
    from somana_core.fulfilment import plate_files, store_order
    from somana_core.geometry import build, make_spec
    from somana_core.quote import quote_product
    from somana_core.workers import job_export_plates

    stls = job_export_plates("sensor_enclosure", LARGE_ON_MINI, "stl")
    assert len(stls) == 2
    files, file_plates = plate_files("sensor_enclosure", {"stl": stls})
    product = build(make_spec("sensor_enclosure", LARGE_ON_MINI))
    quote = quote_product(product, "sensor_enclosure").to_dict()
    order = store_order(store, "sensor_enclosure", LARGE_ON_MINI, "Linus", quote, files, plates=len(stls),
                        file_plates=file_plates)
    assert order.state == "confirmed" and [p.state for p in order.plates] == ["confirmed", "confirmed"]
    assert order.quote["print_time_source"] == "estimate"
    for k in (2, 1):
        path = gcode_for(store, f"{order.number}/{k}", tmp_path / f"p{k}")
        assert read_estimates(path)["print_time_s"] == store.get(f"{order.number}/{k}").print_time_s
        gcode = [f for f in store.get(f"{order.number}/{k}").files if f.kind == "gcode"]
        assert len(gcode) == 1 and gcode[0].meta["machine"] == "prusa_mini" and gcode[0].meta["plate"] == k
    sliced = store.get(order.number)
    assert sliced.state == "sliced" and sliced.quote["print_time_source"] == "slicer"
    assert sliced.quote["print_time_s"] == pytest.approx(sum(p.print_time_s for p in sliced.plates))
