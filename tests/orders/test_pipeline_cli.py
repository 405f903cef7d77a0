"""Parameters -> a stored, sliced order, through the core and through `somana order` / `somana quote`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from somana_core.errors import InputError
from somana_core.fulfilment import STAGES, needs_approval, place_order
from somana_core.orders import OrderStore
from somana_core.slicing import read_estimates


def _somana(*args, home):
    return subprocess.run([sys.executable, "-m", "somana", *args], capture_output=True, text=True,
                          env={**os.environ, "SOMANA_HOME": str(home)})


def test_place_order_stores_stl_gcode_and_the_slicers_quote(somana_home, tmp_path):
    timings: dict = {}
    with OrderStore() as store:
        order = place_order(store, "kit_enclosure", {}, "Grace", qty=2, timings=timings, work_dir=tmp_path)
        assert order.state == "sliced"
        assert [e.state for e in order.history] == ["quoted", "confirmed", "sliced"]
        assert [f.kind for f in order.files] == ["stl", "gcode"]
        assert set(timings) == {*STAGES, "total"} and timings["total"] == pytest.approx(sum(timings[s] for s in STAGES))
        gcode = store.export_file(order.number, "gcode", tmp_path / "x.gcode")
        estimates = read_estimates(gcode)
        assert order.quote["print_time_source"] == "slicer"
        assert order.quote["print_time_s"] == estimates["print_time_s"]
        assert order.quote["qty"] == 2 and order.print_time_s == 2 * estimates["print_time_s"]
        assert order.files[1].meta["print_time_s"] == estimates["print_time_s"]
    assert not list(tmp_path.glob("somana-order-*"))


def test_bad_parameters_are_refused_before_anything_is_stored(somana_home):
    with OrderStore() as store:
        with pytest.raises(InputError) as err:
            place_order(store, "kit_enclosure", {"wall": "0.1"}, "Grace")
        assert err.value.field == "wall"
        assert store.list() == []


def test_cli_quote_json_has_price_cost_and_lines(somana_home):
    done = _somana("quote", "kit_enclosure", "--qty", "4", "--material", "PETG", "--json", home=somana_home)
    assert done.returncode == 0, done.stderr
    q = json.loads(done.stdout)
    cost = q["internal"]["unit_cost"]
    assert q["qty"] == 4 and q["material"] == "PETG" and q["unit_price"] > cost > 0
    assert cost == pytest.approx(sum(line["amount_usd"] for line in q["internal"]["lines"]), abs=1e-3)
    assert not (somana_home / "orders.sqlite").exists()  # a quote writes nothing


@pytest.mark.parametrize("args, field", [
    (["--set", "wall=0.1"], "wall"),
    (["--qty", "0"], "qty"),
    (["--material", "WOOD"], "material"),
    (["--set", "nonsense"], "--set"),
])
def test_cli_quote_bad_input_exits_2_with_one_line(somana_home, args, field):
    done = _somana("quote", "kit_enclosure", *args, home=somana_home)
    assert done.returncode == 2 and done.stdout == ""
    (line,) = done.stderr.strip().splitlines()
    assert field.lstrip("-") in line


def test_cli_order_place_list_show_set(somana_home):
    placed = _somana("order", "place", "kit_enclosure", "--customer", "Ada", "--set", "wall=2.4", "--json",
                     home=somana_home)
    assert placed.returncode == 0, placed.stderr
    order = json.loads(placed.stdout)
    number = order["number"]
    assert order["state"] == "sliced" and order["parameters"]["wall"] == 2.4
    listed = json.loads(_somana("order", "list", "--json", home=somana_home).stdout)
    assert [o["number"] for o in listed] == [number]
    shown = _somana("order", "show", number, home=somana_home)
    assert shown.returncode == 0 and number in shown.stdout and "gcode" in shown.stdout
    moved = _somana("order", "set", number, "queued", "--json", home=somana_home)
    assert json.loads(moved.stdout)["state"] == "queued"
    refused = _somana("order", "set", number, "done", home=somana_home)
    assert refused.returncode == 2 and "cannot become done" in refused.stderr
    out = somana_home / "exported.gcode"
    exported = _somana("order", "export", number, "--kind", "gcode", "--out", str(out), home=somana_home)
    assert exported.returncode == 0 and read_estimates(out)["print_time_s"] == order["quote"]["print_time_s"]


def test_cli_order_place_bad_input_writes_nothing(somana_home):
    done = _somana("order", "place", "kit_enclosure", "--customer", "Ada", "--set", "wall=99", home=somana_home)
    assert done.returncode == 2 and "wall" in done.stderr
    assert not (somana_home / "orders.sqlite").exists()


def test_cli_make_gcode_slices_the_plate(somana_home, tmp_path):
    out, gcode = tmp_path / "kit.stl", tmp_path / "kit.gcode"
    done = _somana("make", "kit_enclosure", "--out", str(out), "--gcode", str(gcode), "--json", home=somana_home)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["gcode"]["print_time_s"] == read_estimates(gcode)["print_time_s"]
    bad = _somana("make", "kit_enclosure", "--out", str(tmp_path / "b.stl"), "--gcode", str(tmp_path / "b.txt"),
                  home=somana_home)
    assert bad.returncode == 2 and not (tmp_path / "b.stl").exists()


@pytest.mark.postgres
def test_cli_order_with_a_postgresql_db_url(somana_home, fresh_postgres_db):
    url = fresh_postgres_db.replace("postgresql+psycopg://", "postgresql://")  # the plain form works too
    placed = _somana("order", "place", "eyewear_frame", "--customer", "Lin", "--no-slice", "--db", url, "--json",
                     home=somana_home)
    assert placed.returncode == 0, placed.stderr
    number = json.loads(placed.stdout)["number"]
    expected = "needs_approval" if needs_approval(json.loads(placed.stdout)["quote"]) else "confirmed"
    assert json.loads(placed.stdout)["state"] == expected
    with OrderStore(fresh_postgres_db) as store:
        assert store.get(number).customer == "Lin"
    assert not (somana_home / "orders.sqlite").exists()


def test_cli_quote_slice_uses_the_slicers_time(somana_home):
    done = _somana("quote", "eyewear_frame", "--slice", "--json", home=somana_home)
    assert done.returncode == 0, done.stderr
    q = json.loads(done.stdout)
    assert q["print_time_source"] == "slicer" and q["print_time_s"] > 0


def test_cli_order_place_with_one_key_twice_gives_one_order(somana_home):
    """A retry after a lost reply (the first process may have died after its commit) finds the order."""
    args = ("order", "place", "kit_enclosure", "--customer", "Ada", "--no-slice", "--idempotency-key",
            "retry-after-restart-1", "--json")
    first = _somana(*args, home=somana_home)
    assert first.returncode == 0, first.stderr
    again = _somana(*args, home=somana_home)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["number"] == json.loads(first.stdout)["number"]
    assert "build" not in json.loads(again.stdout)["timings_s"]  # found by its key, nothing built again
    listed = json.loads(_somana("order", "list", "--json", home=somana_home).stdout)
    assert len(listed) == 1
