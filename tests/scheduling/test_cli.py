"""`somana plan` and `somana simulate`: real runs on a private store, and one-line errors with exit 2."""

from __future__ import annotations

import json

import pytest

from somana.cli import main
from somana_core.orders import OrderStore

BAD = [
    (["plan", "--seconds", "x"], "--seconds 'x' is not a number"),
    (["plan", "--seconds", "-1"], "--seconds -1 is outside 0-600 s"),
    (["plan", "--policy", "magic"], "--policy 'magic' is not one of cp-sat, greedy, fifo"),
    (["simulate", "--days", "0", "--json"], "--days 0 is outside 0.5-60"),
    (["simulate", "--printers", "2.5", "--json"], "--printers '2.5' is not a whole number"),
    (["simulate", "--printers", "0", "--json"], "--printers 0 is outside 1-200"),
    (["simulate", "--rate", "-3", "--json"], "--rate -3 is outside 0-2000"),
    (["simulate", "--policy", "greedy", "--json"], "--policy 'greedy' is not one of cp-sat, fifo"),
    (["simulate", "--seed", "abc", "--json"], "--seed 'abc' is not a whole number"),
    (["simulate", "--orders", "/nonexistent.csv", "--json"], "--orders '/nonexistent.csv': no such file"),
    (["simulate", "--outages", "25", "--json"], "--outages 25 is outside 0-20"),
    (["simulate", "--outages", "many", "--json"], "--outages 'many' is not a number"),
]


@pytest.mark.parametrize("argv,message", BAD)
def test_bad_arguments_give_one_line_and_exit_2(argv, message, capsys, somana_home):
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.strip().count("\n") == 0 and message in err


def test_plan_json_lists_every_printer_and_every_open_order(capsys, somana_home):
    with OrderStore() as store:
        for k in range(4):
            store.place(f"c{k}", "sensor_enclosure", {"machine": "prusa_mk3s", "colour": ("black", "white")[k % 2]},
                        {"print_time_s": 3600 * (k + 1), "lead_time_days": 3, "print_time_source": "estimate"})
        store.place("gone", "sensor_enclosure", {}, {"print_time_s": 600}, confirm=False)  # only quoted
    assert main(["plan", "--json", "--seconds", "0.5"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [p["printer"] for p in data["printers"]] == ["p1", "p2", "p3", "p4", "p5", "p6"]
    orders = sorted(o for p in data["printers"] for j in p["jobs"] for o in j["orders"])
    assert orders == ["SO-000001", "SO-000002", "SO-000003", "SO-000004"]
    assert data["figures"]["jobs"] == 4 and data["figures"]["lower_bound"] <= data["figures"]["objective"]


def test_simulate_replays_an_orders_file_under_both_policies(tmp_path, capsys, somana_home):
    rows = ["family,arrival_h,print_h,colour"]
    rows += [f"sensor_enclosure,{k * 1.5},{2 + k % 3},{('black', 'white', 'red')[k % 3]}" for k in range(12)]
    orders = tmp_path / "orders.csv"
    orders.write_text("\n".join(rows) + "\n")
    results = {}
    for policy in ("fifo", "cp-sat"):
        assert main(["simulate", "--days", "2", "--printers", "2", "--orders", str(orders), "--policy", policy,
                     "--seed", "3", "--solve-seconds", "0.2", "--json"]) == 0
        results[policy] = json.loads(capsys.readouterr().out)
    for r in results.values():
        assert r["orders"] == 12 and r["orders_done"] == 12
        assert 0 < r["utilisation"] <= 1 and r["prints"] >= 12
    assert results["cp-sat"]["changeover_h"] <= results["fifo"]["changeover_h"]


def test_shared_plates_in_the_simulation_save_plates_and_keep_promises(tmp_path, capsys, somana_home):
    # eight small eyewear-sized plates of one spool, arriving an hour apart, due days later
    rows = ["family,arrival_h,print_h,colour"] + [f"eyewear_frame,{k},1.2,black" for k in range(8)]
    orders = tmp_path / "orders.csv"
    orders.write_text("\n".join(rows) + "\n")
    from somana_core.scheduling.simulate import SimOrder, read_orders, simulate

    small = [SimOrder(o.number, o.family, o.arrival_min, o.print_min, size_mm=(143.0, 89.0, 9.0))
             for o in read_orders(orders)]
    alone = simulate(days=2, printers=1, orders=small, policy="cp-sat", seed=1, solve_s=0.2)
    shared = simulate(days=2, printers=1, orders=small, policy="cp-sat", seed=1, solve_s=0.2, share_plates=True)
    assert alone["shared_plates_saved"] == 0 and shared["shared_plates_saved"] >= 1
    assert shared["orders_done"] == alone["orders_done"] == 8
    assert shared["on_promise_share"] >= alone["on_promise_share"] - 1e-9 or shared["on_promise_share"] == 1.0


def test_printers_go_offline_in_the_week_and_the_plan_moves_their_work(tmp_path, capsys, somana_home):
    rows = ["family,arrival_h,print_h,colour"] + [f"sensor_enclosure,{k * 2},{3 + k % 4},black" for k in range(14)]
    orders = tmp_path / "orders.csv"
    orders.write_text("\n".join(rows) + "\n")
    argv = ["simulate", "--days", "2", "--printers", "2", "--orders", str(orders), "--seed", "4",
            "--solve-seconds", "0.2", "--json"]
    assert main(argv + ["--outages", "14"]) == 0  # two a day per printer: several land on a print
    stressed = json.loads(capsys.readouterr().out)
    assert main(argv + ["--calm"]) == 0
    calm = json.loads(capsys.readouterr().out)
    assert stressed["outages"] >= 2 and stressed["outage_h"] > 0 and calm["outages"] == 0
    assert stressed["orders_done"] == calm["orders_done"] == 14  # a print lost to an outage is printed again
    lost = stressed["prints_lost_to_outages"]
    assert lost >= 1 and stressed["failed_prints"] >= lost and stressed["prints"] >= 14 + lost
    # calm: every order asks the standard lead time; lateness no policy could avoid is not counted as avoidable
    assert calm["tardiness_vs_asked_h"] == calm["tardiness_vs_standard_lead_h"]
    for week in (stressed, calm):
        assert week["tardiness_vs_asked_avoidable_h"] <= week["tardiness_vs_asked_h"]
